# SPDX-License-Identifier: MIT
"""Signals at random moments: SIGINT, SIGTERM and SIGHUP sent to `vigia scan`
and `vigia check` (once, --wait, --watch) at seeded random delays from the
moment the process starts, and stdout's reader going away (SIGPIPE). Each
run must end with the signal's documented status (128 + its number; a
closed stdout: death by SIGPIPE), every output must hold whole records
only, and every output that got its first record also gets the summary
that says the run was interrupted and by what. An inherited ignored SIGHUP
(nohup) and a SIGPIPE sent with kill leave the run alone.

Only loopback: connect scans of 127.0.0.1 ports this test holds (PortBlock)
and checks of them. No timing is asserted; every run is bounded.

VIGIA_SIGNAL_SEED and VIGIA_SIGNAL_RUNS change the delays and their count."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

SEED = int(os.environ.get("VIGIA_SIGNAL_SEED", "20261201"))
RUNS = int(os.environ.get("VIGIA_SIGNAL_RUNS", "3"))
MAX_DELAY = 1.0         # seconds after the start; every run lasts longer
RUN_TIMEOUT = 30        # seconds a run may take to end after its signal

CAUGHT = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
BLOCKED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE}


def delays(*key):
    """RUNS delays in [0, MAX_DELAY], the first 0 (a signal at once), the
    same for the same seed and key."""
    rng = random.Random(f"{SEED}:" + ":".join(str(k) for k in key))
    return [0.0] + [round(rng.uniform(0.001, MAX_DELAY), 3) for _ in range(RUNS - 1)]


def child_setup(hup_ignored=False):
    """The child starts with the signals blocked, so one sent before vigia
    installed its handlers waits for them (vigia unblocks them) instead of
    killing it before main(); default actions whatever the test runner
    inherited (a background job ignores SIGINT)."""
    def setup():
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_DFL)
        if hup_ignored:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, BLOCKED)
    return setup


def spawn(vigia, args, hup_ignored=False):
    return subprocess.Popen([vigia, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=child_setup(hup_ignored))


def finish(p):
    try:
        out, err = p.communicate(timeout=RUN_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=5)
    return out.decode(), err.decode()


def whole_lines(text, what):
    """Every line is a JSON object and the text ends with a newline: no
    record cut short."""
    assert text == "" or text.endswith("\n"), f"{what}: partial last line {text[-200:]!r}"
    recs = []
    for i, line in enumerate(text.splitlines()):
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"{what}: line {i + 1} is not JSON ({e}): {line!r}")
        assert isinstance(rec, dict), f"{what}: line {i + 1}: {line!r}"
        recs.append(rec)
    return recs


def without_change_times(text):
    """The records, less the "time" of --watch change records (each output
    reads the clock itself when it writes one)."""
    return [{k: v for k, v in r.items() if not (r["type"] == "change" and k == "time")}
            for r in whole_lines(text, "")]


def read_if_there(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def check_stream(recs, first_type, signame, what):
    """A stream that got its first record ends with the summary of an
    interrupted run naming the signal. Returns the summary (None: nothing
    was written, the signal came before the outputs were opened)."""
    if not recs:
        return None
    assert recs[0]["type"] == first_type, (what, recs[0])
    summary = recs[-1]
    assert summary["type"] == "summary", (what, summary)
    assert summary["interrupted"] is True and summary["signal"] == signame, (what, summary)
    assert sum(r["type"] == "summary" for r in recs) == 1, what
    return summary


@pytest.fixture
def scan_ports(port_block):
    """300 loopback ports held by the test, 5 of them listening: at
    --rate 100 a scan of them lasts 3 s, longer than any delay."""
    b = port_block(n=300)
    for port in b.ports[7::60]:
        b.open(port)
    return b


def scan_args(b, path):
    return ["scan", "-q", "--connect", "--rate", "100", "-p", b.spec, "127.0.0.1",
            "-o", "ndjson", "-o", f"ndjson={path}", "-o", f"text={path}.txt"]


@pytest.mark.parametrize("sig", CAUGHT, ids=lambda s: s.name)
def test_scan_signal(vigia, scan_ports, tmp_path, sig):
    for i, delay in enumerate(delays("scan", sig.name)):
        path = tmp_path / f"scan{i}.ndjson"
        what = f"scan, {sig.name} after {delay} s (seed {SEED})"
        p = spawn(vigia, scan_args(scan_ports, path))
        time.sleep(delay)
        assert p.poll() is None, f"{what}: ended before the signal"
        p.send_signal(sig)
        out, err = finish(p)
        assert p.returncode == 128 + sig, f"{what}: exit {p.returncode}, stderr {err!r}"
        assert err == "", what
        recs = whole_lines(out, what + ", stdout")
        summary = check_stream(recs, "scan", sig.name, what + ", stdout")
        text = read_if_there(path)
        if summary is None:
            assert not text, what  # nothing opened, or nothing written anywhere
            continue
        # Every output got every record: the file is what stdout got.
        assert text == out, what
        ports = [r for r in recs if r["type"] == "port"]
        assert summary["results"] == len(ports) and summary["complete"] is False, (what, summary)
        table = read_if_there(f"{path}.txt")
        assert table.endswith("\n") and table.splitlines()[-1].startswith("Interrupted:"), \
            (what, table[-300:])


def test_scan_dry_run_signal(vigia):
    """--dry-run prints whole lines up to the signal."""
    for sig in CAUGHT:
        for delay in delays("dry-run", sig.name)[:2]:
            what = f"dry run, {sig.name} after {delay} s"
            # 16 M lines: far longer than the delay
            p = spawn(vigia, ["scan", "--dry-run", "--connect", "-p-", "127.0.0.0/24"])
            time.sleep(delay)
            assert p.poll() is None, what
            p.send_signal(sig)
            out, err = finish(p)
            assert p.returncode == 128 + sig, f"{what}: exit {p.returncode}, {err!r}"
            assert out == "" or out.endswith("\n"), what
            lines = out.splitlines()
            assert all(x.startswith("tcp-connect 127.0.0.") for x in lines), what


def om_complete(path, what):
    text = read_if_there(path)
    if text is not None:
        assert text.endswith("# EOF\n") and text.count("# EOF") == 1, (what, text[-200:])
    assert not os.path.exists(f"{path}.tmp"), f"{what}: {path}.tmp left behind"


@pytest.mark.parametrize("sig", CAUGHT, ids=lambda s: s.name)
def test_check_watch_signal(vigia, port_block, tmp_path, sig):
    b = port_block(n=2)
    b.open(b.ports[0])  # up; the other port refuses
    for i, delay in enumerate(delays("watch", sig.name)):
        path, prom = tmp_path / f"watch{i}.ndjson", tmp_path / f"watch{i}.prom"
        what = f"check --watch, {sig.name} after {delay} s (seed {SEED})"
        p = spawn(vigia, ["check", "--watch", "100ms", "-o", "ndjson", "-o", f"ndjson={path}",
                          "-o", f"openmetrics={prom}", f"127.0.0.1:{b.ports[0]}",
                          f"127.0.0.1:{b.ports[1]}"])
        time.sleep(delay)
        assert p.poll() is None, what
        p.send_signal(sig)
        out, err = finish(p)
        assert p.returncode == 128 + sig, f"{what}: exit {p.returncode}, stderr {err!r}"
        assert err == "", what
        recs = whole_lines(out, what + ", stdout")
        summary = check_stream(recs, "check-run", sig.name, what)
        om_complete(prom, what)
        text = read_if_there(path)
        if summary is None:
            assert not text, what
            continue
        assert without_change_times(text) == without_change_times(out), what
        assert summary["exit_code"] == p.returncode, (what, summary)
        assert len([r for r in recs if r["type"] == "watch-summary"]) == 2, what


@pytest.mark.parametrize("sig", CAUGHT, ids=lambda s: s.name)
def test_check_once_and_wait_signal(vigia, port_block, tmp_path, sig):
    b = port_block(n=2)
    b.open(b.ports[0])  # accepts and never answers: --expect waits
    modes = {
        "once": ["--timeout", "30s", "--expect", "x", f"127.0.0.1:{b.ports[0]}"],
        "wait": ["--wait", "--timeout", "30s", f"127.0.0.1:{b.ports[1]}"],
    }
    for mode, args in modes.items():
        for i, delay in enumerate(delays(mode, sig.name)[:2]):
            path, prom = tmp_path / f"{mode}{i}.ndjson", tmp_path / f"{mode}{i}.prom"
            what = f"check ({mode}), {sig.name} after {delay} s (seed {SEED})"
            p = spawn(vigia, ["check", "-o", "ndjson", "-o", f"ndjson={path}",
                              "-o", f"openmetrics={prom}", *args])
            time.sleep(delay)
            assert p.poll() is None, what
            p.send_signal(sig)
            out, err = finish(p)
            assert p.returncode == 128 + sig, f"{what}: exit {p.returncode}, stderr {err!r}"
            if mode == "once":
                assert err == "", what  # --wait says on stderr that it gave up
            recs = whole_lines(out, what + ", stdout")
            summary = check_stream(recs, "check-run", sig.name, what)
            om_complete(prom, what)
            text = read_if_there(path)
            if summary is None:
                assert not text, what
                continue
            assert text == out, what
            assert summary["exit_code"] == p.returncode, (what, summary)


def close_stdout_after_first_line(p, delay, what):
    first = p.stdout.readline()
    assert first.endswith(b"\n"), f"{what}: {first!r}"
    time.sleep(delay)
    assert p.poll() is None, f"{what}: ended before its reader went away"
    p.stdout.close()
    try:
        _, err = p.communicate(timeout=RUN_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    return json.loads(first), err.decode()


def test_scan_stdout_closed(vigia, scan_ports, tmp_path):
    for i, delay in enumerate(delays("scan", "SIGPIPE")):
        path = tmp_path / f"pipe{i}.ndjson"
        what = f"scan, stdout closed {delay} s after its first line (seed {SEED})"
        p = spawn(vigia, scan_args(scan_ports, path))
        first, err = close_stdout_after_first_line(p, delay / 2, what)
        assert p.returncode == -signal.SIGPIPE, f"{what}: exit {p.returncode}, {err!r}"
        assert err == "" and first["type"] == "scan", what
        recs = whole_lines(read_if_there(path), what + ", file")
        summary = check_stream(recs, "scan", "SIGPIPE", what)
        ports = [r for r in recs if r["type"] == "port"]
        assert summary["results"] == len(ports), (what, summary)


def test_check_watch_stdout_closed(vigia, port_block, tmp_path):
    b = port_block(n=1)
    b.open(b.ports[0])
    for i, delay in enumerate(delays("watch", "SIGPIPE")):
        path = tmp_path / f"wpipe{i}.ndjson"
        what = f"check --watch, stdout closed {delay} s after its first line (seed {SEED})"
        p = spawn(vigia, ["check", "--watch", "100ms", "-o", "ndjson", "-o", f"ndjson={path}",
                          f"127.0.0.1:{b.ports[0]}"])
        first, err = close_stdout_after_first_line(p, delay / 2, what)
        assert p.returncode == -signal.SIGPIPE, f"{what}: exit {p.returncode}, {err!r}"
        assert err == "" and first["type"] == "check-run", what
        recs = whole_lines(read_if_there(path), what + ", file")
        summary = check_stream(recs, "check-run", "SIGPIPE", what)
        assert summary["exit_code"] == 128 + signal.SIGPIPE, (what, summary)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGPIPE], ids=["nohup-SIGHUP", "kill-SIGPIPE"])
def test_signals_left_alone(vigia, port_block, tmp_path, sig):
    """Under nohup (SIGHUP ignored when vigia starts) a SIGHUP, and at any
    time a SIGPIPE sent with kill, change nothing: the scan completes."""
    b = port_block(n=60)
    b.open(b.ports[3])
    for i, delay in enumerate(delays("left-alone", sig.name)[:2]):
        path = tmp_path / f"alone{i}.ndjson"
        what = f"{sig.name} after {delay} s"
        # 60 ports at 50/s: about 1.2 s, longer than the delay
        p = spawn(vigia, ["scan", "-q", "--connect", "--rate", "50", "-p", b.spec, "127.0.0.1",
                          "-o", f"ndjson={path}"], hup_ignored=sig == signal.SIGHUP)
        time.sleep(delay / 2)
        assert p.poll() is None, what
        p.send_signal(sig)
        out, err = finish(p)
        assert p.returncode == 0, f"{what}: exit {p.returncode}, {err!r}"
        recs = whole_lines(read_if_there(path), what)
        assert recs[-1]["type"] == "summary" and recs[-1]["complete"] is True, (what, recs[-1])
        assert recs[-1]["interrupted"] is False and "signal" not in recs[-1], what
