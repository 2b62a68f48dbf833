# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check --watch`: a server flipped off and on
gives timestamped state-change lines (text) and "change" records (NDJSON);
Ctrl-C ends the run with a summary per check (min/avg/p95 per phase, time
in each state) and the worst current state as the exit status. Every run
here is stopped by the test itself within a few seconds."""
import json
import re
import signal
import socket
import subprocess
import time

from conftest import free_port

CHANGE_RE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.+): (NONE|OK|WARNING|CRITICAL|UNKNOWN) -> "
    r"(OK|WARNING|CRITICAL|UNKNOWN) (\S+) - (.*)$")


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def watch(vigia, *args, script, stop_after):
    """Starts `vigia check --watch`, runs script(elapsed) steps, sends SIGINT
    after stop_after seconds and returns (returncode, stdout, stderr)."""
    p = subprocess.Popen([vigia, "check", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        for at, step in script:
            time.sleep(max(0.0, at - (time.monotonic() - t0)))
            step()
        time.sleep(max(0.0, stop_after - (time.monotonic() - t0)))
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=5)
    return p.returncode, out, err


def test_watch_text_flip(vigia):
    port = free_port()
    srv = {"s": listen(port)}

    def down():
        srv["s"].close()

    def up():
        srv["s"] = listen(port)
    try:
        rc, out, err = watch(vigia, "--watch", "100ms", f"127.0.0.1:{port}", "127.0.0.1:1",
                             script=[(0.6, down), (1.4, up)], stop_after=2.2)
    finally:
        srv["s"].close()
    lines = out.splitlines()
    changes = [CHANGE_RE.match(x) for x in lines if CHANGE_RE.match(x)]
    mine = [(m.group(3), m.group(4), m.group(5)) for m in changes if m.group(2) == f"127.0.0.1:{port}"]
    assert mine == [("NONE", "OK", "ok"), ("OK", "CRITICAL", "conn-refused"), ("CRITICAL", "OK", "ok")], out
    other = [(m.group(3), m.group(4)) for m in changes if m.group(2) == "127.0.0.1:1"]
    assert other == [("NONE", "CRITICAL")], out  # no repeats while the state holds
    # the summary: one per check, phases with min/avg/p95, time in each state
    summ = [x for x in lines if x.startswith("summary ")]
    assert len(summ) == 2, out
    m = re.match(rf"summary 127\.0\.0\.1:{port}: (\d+) runs, now OK; time in state: ok ([\d.]+)s warning 0\.0s "
                 r"critical ([\d.]+)s unknown 0\.0s", summ[0])
    assert m and int(m.group(1)) >= 10, summ[0]
    assert 0.4 <= float(m.group(3)) <= 1.5 and float(m.group(2)) >= 0.8, summ[0]
    assert re.search(r"^  connect +min [\d.]+ ms  avg [\d.]+ ms  p95 [\d.]+ ms  \(\d+ runs\)$", out, re.M), out
    assert rc == 130  # SIGINT; the worst current state is in the summary lines above
    assert err == ""


def test_watch_ndjson_and_exit_code(vigia):
    port = free_port()
    s = listen(port)
    try:
        rc, out, _ = watch(vigia, "--watch", "100ms", "-o", "ndjson", f"127.0.0.1:{port}",
                           script=[(0.5, s.close)], stop_after=1.0)
    finally:
        s.close()
    recs = [json.loads(x) for x in out.splitlines()]
    assert recs[0]["type"] == "check-run" and recs[0]["mode"] == "watch"
    ch = [r for r in recs if r["type"] == "change"]
    assert [(c["previous"], c["state"]) for c in ch] == [(None, "ok"), ("ok", "critical")]
    assert ch[1]["reason"] == "conn-refused" and ch[1]["target"] == f"127.0.0.1:{port}"
    assert all(re.match(r"\d{4}-.*Z$", c["time"]) for c in ch)
    ws = [r for r in recs if r["type"] == "watch-summary"]
    assert len(ws) == 1 and ws[0]["state"] == "critical" and ws[0]["runs"] >= 5
    assert ws[0]["phases_us"]["total"]["n"] == ws[0]["runs"]
    t = ws[0]["phases_us"]["total"]
    assert t["min"] <= t["avg"] and t["min"] <= t["p95"]
    assert recs[-1]["type"] == "summary" and recs[-1]["exit_code"] == 130 and recs[-1]["interrupted"]
    assert recs[-1]["signal"] == "SIGINT" and recs[-1]["critical"] == 1  # the current state
    assert rc == 130


def test_watch_all_ok_ctrl_c_exits_130(vigia, listeners):
    port = listeners.listen()
    rc, out, _ = watch(vigia, "--watch", "200ms", f"127.0.0.1:{port}", script=[], stop_after=0.8)
    assert rc == 130, out
    assert out.count(" -> ") == 1 and "now OK" in out, out


def test_watch_usage_errors(vigia):
    for args in (["--watch", "soon", "127.0.0.1:1"], ["--watch", "1s", "--wait", "127.0.0.1:1"]):
        r = subprocess.run([vigia, "check", *args], capture_output=True, text=True, timeout=10)
        assert r.returncode == 3, r.stderr
