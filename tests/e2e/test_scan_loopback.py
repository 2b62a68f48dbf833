# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia scan` against listeners on loopback: exact
open/closed sets in NDJSON and in the text table, output destinations,
--open/-v, Ctrl-C and a closed stdout, sharding and --seed."""
import re
import signal
import subprocess
import time

import pytest

from conftest import check_ndjson, parse_ndjson, run, states


def scan(vigia, *args, timeout=60):
    return run([vigia, "scan", "-q", *args], timeout=timeout)


def scan_ndjson(vigia, *args, timeout=60):
    r = scan(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    assert r.stderr == "", r.stderr
    return check_ndjson(parse_ndjson(r.stdout), open_only="--open" in args)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_exact_open_closed_sets(vigia, port_block, host):
    block = port_block(host, 20)
    opened = {block.ports[1], block.ports[7], block.ports[8], block.ports[19]}
    for p in opened:
        block.open(p)
    scan_rec, ports, summary = scan_ndjson(vigia, "-p", block.spec, host)

    assert scan_rec["n_targets"] == 1 and scan_rec["n_ports"] == 20, scan_rec
    assert {(p["ip"], p["port"]) for p in ports} == {(host, p) for p in block.ports}, \
        "every port of the range must be reported exactly once"
    got = states(ports)
    expected = {(host, p): ("open", "syn-ack") if p in opened else ("closed", "conn-refused")
                for p in block.ports}
    assert got == expected
    for p in ports:
        assert isinstance(p["rtt_us"], int), f"answered port without rtt_us: {p}"
    assert (summary["open"], summary["closed"], summary["filtered"]) == (4, 16, 0)
    assert summary["results"] == summary["planned"] == 20, summary


def test_both_families_in_one_scan(vigia, port_block):
    b4, b6 = port_block("127.0.0.1", 8), port_block("::1", 8)
    b4.open(b4.ports[2])
    b6.open(b6.ports[5])
    spec = f"{b4.spec},{b6.spec}"
    _, ports, summary = scan_ndjson(vigia, "-p", spec, "127.0.0.1", "::1")
    got = states(ports)
    assert len(got) == 2 * len(set(b4.ports) | set(b6.ports))
    open_set = {k for k, v in got.items() if v[0] == "open"}
    assert open_set == {("127.0.0.1", b4.ports[2]), ("::1", b6.ports[5])}
    assert summary["open"] == 2


def test_service_names_in_ndjson(vigia, port_block):
    block = port_block("127.0.0.1", 3)
    _, ports, _ = scan_ndjson(vigia, "-p", f"{block.spec},22,80", "127.0.0.1")
    svc = {p["port"]: p["service"] for p in ports}
    assert svc[22] == "ssh" and svc[80] == "http", svc


# ---------------------------------------------------------------- text


def table_rows(text):
    """{port: (state, service, reason, tries)} from the table rows."""
    rows = {}
    for m in re.finditer(r"^  (\d+)/tcp\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+(?: ms)?)\s+(\d+)\s*$",
                         text, re.M):
        rows[int(m.group(1))] = (m.group(2), m.group(3), m.group(4), int(m.group(6)))
    return rows


def listen_on_known_port(port):
    """Holds a well-known port on 127.0.0.1 for a service-name check, or
    skips if something else already uses it."""
    import socket
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        pytest.skip(f"127.0.0.1:{port} is in use by someone else")
    s.listen(8)
    return s


def test_text_table_lists_open_ports_with_services(vigia, port_block):
    block = port_block("127.0.0.1", 10)
    block.open(block.ports[3])
    s = listen_on_known_port(8080)
    try:
        r = scan(vigia, "-p", f"{block.spec},8080", "127.0.0.1")
    finally:
        s.close()
    assert r.returncode == 0, r.stderr
    out = r.stdout
    rows = table_rows(out)
    assert set(rows) == {block.ports[3], 8080}, out
    assert rows[8080][:3] == ("open", "http-alt", "syn-ack"), out
    assert rows[block.ports[3]][0] == "open" and rows[block.ports[3]][2] == "syn-ack"
    assert rows[8080][3] >= 1
    assert re.search(r"^127\.0\.0\.1$", out, re.M), out
    assert re.search(r"^  2 open, 9 closed, 0 filtered\b", out, re.M), out
    last = out.rstrip("\n").splitlines()[-1]
    assert last.startswith("Done:"), out
    assert re.search(r"\b11\b", last) and last.endswith("2 open, 9 closed, 0 filtered"), last


def test_text_verbose_lists_closed_ports(vigia, port_block):
    block = port_block("127.0.0.1", 6)
    block.open(block.ports[0])
    r = scan(vigia, "-v", "-p", block.spec, "127.0.0.1")
    assert r.returncode == 0, r.stderr
    rows = table_rows(r.stdout)
    assert set(rows) == set(block.ports), r.stdout
    assert rows[block.ports[0]][0] == "open"
    for p in block.ports[1:]:
        assert rows[p][0] == "closed" and rows[p][2] == "conn-refused", rows[p]
    assert "1 open, 5 closed, 0 filtered" in r.stdout


def test_open_only_in_text_and_ndjson(vigia, port_block):
    block = port_block("127.0.0.1", 10)
    block.open(block.ports[4])
    r = scan(vigia, "--open", "-v", "-p", block.spec, "127.0.0.1")
    assert r.returncode == 0, r.stderr
    assert set(table_rows(r.stdout)) == {block.ports[4]}, r.stdout
    assert "1 open, 9 closed, 0 filtered" in r.stdout, "counts must stay complete"

    _, ports, summary = scan_ndjson(vigia, "--open", "-p", block.spec, "127.0.0.1")
    assert [(p["port"], p["state"]) for p in ports] == [(block.ports[4], "open")]
    # The summary keeps the complete counts even though only open ports are listed.
    assert (summary["open"], summary["closed"], summary["results"]) == (1, 9, 10), summary


def test_ndjson_file_and_table_on_stdout(vigia, port_block, tmp_path):
    """-o ndjson=FILE writes the records to FILE; the table stays on stdout
    ("without =FILE to stdout instead of the table")."""
    block = port_block("127.0.0.1", 5)
    block.open(block.ports[2])
    path = tmp_path / "out.ndjson"
    r = scan(vigia, "-p", block.spec, "127.0.0.1", "-o", f"ndjson={path}")
    assert r.returncode == 0, r.stderr
    _, ports, summary = check_ndjson(parse_ndjson(path.read_text()))
    assert states(ports)[("127.0.0.1", block.ports[2])] == ("open", "syn-ack")
    assert summary["open"] == 1 and summary["closed"] == 4
    assert block.ports[2] in table_rows(r.stdout), \
        f"the table is missing from stdout with -o ndjson=FILE: stdout={r.stdout!r}"
    assert "Done:" in r.stdout


def test_text_file_output(vigia, port_block, tmp_path):
    block = port_block("127.0.0.1", 5)
    block.open(block.ports[1])
    path = tmp_path / "out.txt"
    r = scan(vigia, "-p", block.spec, "127.0.0.1", "-o", f"text={path}", "-o", "ndjson")
    assert r.returncode == 0, r.stderr
    text = path.read_text()
    assert set(table_rows(text)) == {block.ports[1]}, text
    assert "1 open, 4 closed, 0 filtered" in text
    assert text.rstrip("\n").splitlines()[-1].startswith("Done:")
    # stdout carries the NDJSON stream, and only it.
    _, ports, _ = check_ndjson(parse_ndjson(r.stdout))
    assert len(ports) == 5


# ------------------------------------------------------ interruption


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_scan_writes_partial_results(vigia, tmp_path, sig):
    path = tmp_path / "partial.ndjson"
    p = subprocess.Popen([vigia, "scan", "-q", "-p-", "--rate", "2000", "127.0.0.1",
                          "-o", f"ndjson={path}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Signal once some port records are in the file (a worker hands
        # results over in batches), or after 10 s on a very busy machine.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.2)
            if path.exists() and path.read_text().count('"type":"port"') >= 300:
                break
        assert p.poll() is None, "the scan ended before the signal"
        p.send_signal(sig)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    # README: 130 = interrupted; 128+SIGTERM is the other usual answer.
    allowed = (130,) if sig == signal.SIGINT else (130, 128 + signal.SIGTERM)
    assert p.returncode in allowed, f"exit {p.returncode}, stderr {err!r}"
    # The NDJSON goes to the file; the table (stdout) says it was cut short.
    assert err == ""
    assert out.rstrip("\n").splitlines()[-1].startswith("Interrupted:"), out
    scan_rec, ports, summary = check_ndjson(parse_ndjson(path.read_text()), complete=False)
    assert summary["interrupted"] is True and summary["complete"] is False
    assert scan_rec["n_ports"] == 65535
    # At least the records seen before the signal, and not all of them.
    assert 200 <= len(ports) < 65535, len(ports)
    assert summary["results"] == len(ports), summary
    assert summary["planned"] == 65535, summary


def test_sigint_text_says_interrupted(vigia):
    p = subprocess.Popen([vigia, "scan", "-q", "-v", "-p-", "--rate", "2000", "127.0.0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.7)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    assert p.returncode == 130, err
    last = out.rstrip("\n").splitlines()[-1]
    assert last.startswith("Interrupted:"), out[-500:]
    n_rows = len(table_rows(out))
    assert n_rows > 100, "the ports found so far must be listed"
    assert re.search(rf"\b{n_rows}\b", last) and "65535" in last, last


def test_closed_stdout_ends_promptly_and_quietly(vigia, tmp_path):
    errpath = tmp_path / "stderr"
    t0 = time.monotonic()
    with open(errpath, "w") as errf:
        scanner = subprocess.Popen([vigia, "scan", "-p-", "127.0.0.1", "-o", "ndjson"],
                                   stdout=subprocess.PIPE, stderr=errf)
        head = subprocess.Popen(["head", "-1"], stdin=scanner.stdout,
                                stdout=subprocess.PIPE, text=True)
        scanner.stdout.close()
        try:
            first, _ = head.communicate(timeout=20)
            scanner.wait(timeout=20)
        finally:
            for proc in (scanner, head):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(5)
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"took {elapsed:.1f} s after the reader went away"
    rec = parse_ndjson(first)
    assert len(rec) == 1 and rec[0]["type"] == "scan"
    assert errpath.read_text() == "", "a closed stdout must end the scan quietly"
    assert scanner.returncode in (0, -signal.SIGPIPE), scanner.returncode


# ------------------------------------------------- sharding and seed


def test_shards_are_disjoint_and_cover_everything(vigia):
    args = ["-p", "1-60", "127.0.0.1-3", "::1"]
    full = {(p["ip"], p["port"]) for p in scan_ndjson(vigia, *args)[1]}
    assert len(full) == 4 * 60
    seen = set()
    for i in range(3):
        scan_rec, ports, summary = scan_ndjson(vigia, *args, "--shard", f"{i}/3")
        assert scan_rec["shard"] == f"{i}/3"
        keys = {(p["ip"], p["port"]) for p in ports}
        assert len(keys) == len(ports)
        assert 60 <= len(keys) <= 100, f"shard {i} is unbalanced: {len(keys)}"
        assert not keys & seen, f"shard {i} overlaps earlier shards"
        assert summary["planned"] == len(keys)
        seen |= keys
    assert seen == full


def test_shard_with_more_shards_than_probes(vigia):
    seen = []
    for i in range(4):
        _, ports, _ = scan_ndjson(vigia, "-p", "1-2", "127.0.0.1", "--shard", f"{i}/4")
        seen += [(p["ip"], p["port"]) for p in ports]
    assert sorted(seen) == [("127.0.0.1", 1), ("127.0.0.1", 2)]


def test_same_seed_same_order(vigia):
    base = ["-p", "1-40", "127.0.0.1-2", "--threads", "1", "--concurrency", "1"]

    def order(seed):
        scan_rec, ports, _ = scan_ndjson(vigia, *base, "--seed", str(seed))
        assert scan_rec["seed"] == seed
        return [(p["ip"], p["port"]) for p in ports]
    a, b, c = order(12345), order(12345), order(54321)
    assert a == b
    assert sorted(a) == sorted(c)
    assert a != c, "a different seed should give a different order"
    assert a != sorted(a), "the walk should not be in plain order"
