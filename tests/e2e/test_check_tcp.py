# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check` on tcp:// and bare host:port: reachable,
refused, hostile servers (silent, endless, 10 MB without newline, RST after
accept, escape sequences and invalid UTF-8), --send/--expect, retries,
thresholds, verdict remapping, the text form, and usage errors (exit 3)."""
import re
import socket
import time

import pytest

from check_servers import run_check
from conftest import free_port

PERF_RE = re.compile(r" \| time=(U|[0-9.]+s);[0-9.]*;[0-9.]*;0;[0-9.]+ dns=\S+ connect=\S+ tls=\S+ firstbyte=\S+")


def one(vigia, *args, timeout=60):
    r, recs, summary = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout
    return r, recs[0]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_tcp_ok_bare_and_url(vigia, listeners, host):
    port = listeners.listen(host)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    for spec in (target, "tcp://" + target):
        r, rec = one(vigia, spec)
        assert r.returncode == 0, r.stdout + r.stderr
        assert rec["state"] == "ok" and rec["reason"] == "ok"
        assert rec["kind"] == "tcp" and rec["port"] == port and rec["ip"] == host
        assert rec["phases_us"]["connect"] >= 0
        assert rec["phases_us"]["total"] >= rec["phases_us"]["connect"]
        assert rec["phases_us"]["dns"] is None and rec["phases_us"]["tls"] is None
        assert rec["attempts"] == 1


def test_localhost_name_resolves(vigia, listeners):
    port = listeners.listen("127.0.0.1")
    r, rec = one(vigia, "-4", f"localhost:{port}")
    assert r.returncode == 0, r.stdout
    assert rec["ip"] == "127.0.0.1" and rec["phases_us"]["dns"] is not None


def test_refused_is_critical_with_reason(vigia):
    port = free_port()
    r, rec = one(vigia, f"127.0.0.1:{port}")
    assert r.returncode == 2
    assert rec["state"] == "critical" and rec["reason"] == "conn-refused"
    assert "not reachable" in rec["message"]


def test_text_form_monitoring_plugin(vigia, listeners):
    port = listeners.listen()
    r, _, _ = run_check(vigia, f"tcp://127.0.0.1:{port}", f"127.0.0.1:{free_port()}")
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"TCP OK - tcp://127.0.0.1:{port} - ")
    assert lines[1].startswith("TCP CRITICAL - ")
    for line in lines:
        assert PERF_RE.search(line), line  # perfdata even on failure
    assert r.returncode == 2


def test_silent_server_plain_tcp_ok_but_expect_times_out(vigia, hostile):
    h = hostile("silent")
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--timeout", "1s")
    assert r.returncode == 0 and rec["reason"] == "ok"
    t0 = time.monotonic()
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "^220", "--timeout", "700ms")
    took = time.monotonic() - t0
    assert r.returncode == 2 and rec["reason"] == "read-timeout"
    assert took < 5
    assert rec["phases_us"]["firstbyte"] is None


def test_speaks_forever_hits_read_cap(vigia, hostile):
    h = hostile("forever")
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "^HELLO", "--timeout", "5s")
    assert r.returncode == 2
    assert rec["reason"] == "expect-mismatch"
    assert rec["bytes_read"] <= 64 * 1024
    assert rec["phases_us"]["firstbyte"] is not None


def test_ten_megabytes_without_newline(vigia, hostile):
    h = hostile("nonewline")
    t0 = time.monotonic()
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "OK", "--max-read", "1M", "--timeout", "5s")
    assert time.monotonic() - t0 < 5
    assert r.returncode == 2 and rec["reason"] == "expect-mismatch"
    assert rec["bytes_read"] == 1 << 20
    assert len(rec["banner"]) < 300


def test_rst_after_accept(vigia, hostile):
    h = hostile("rst")
    # Plain connect: the port accepted, which is what tcp:// checks.
    r, rec = one(vigia, f"127.0.0.1:{h.port}")
    assert r.returncode == 0
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "x", "--timeout", "3s")
    assert r.returncode == 2
    assert rec["reason"] in ("conn-reset", "conn-closed"), rec


def test_escape_sequences_and_invalid_utf8_are_escaped(vigia, hostile):
    evil = b"220 \x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b\xff\xfe caf\xc3\xa9 \xe2\x80\xae rtl | x=1\r\n"
    h = hostile("escape", evil)
    for fmt in ("text", "ndjson"):
        r, _, _ = run_check(vigia, "-o", fmt, f"127.0.0.1:{h.port}", "--expect", "^220", "--timeout", "3s")
        assert r.returncode == 0, r.stdout
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\x9b" not in r.stdout
        assert "\u202e" not in r.stdout
        assert "\\x1b]0;pwned" in r.stdout.replace("\\\\", "\\")
    # valid UTF-8 passes through
    assert "café" in r.stdout
    # no perfdata injection through the banner
    r, _, _ = run_check(vigia, f"127.0.0.1:{h.port}", "--expect", "^220", "--timeout", "3s")
    assert r.stdout.count("|") == 1, r.stdout


def test_expect_mismatch_after_close(vigia, hostile):
    h = hostile("close", b"500 go away\r\n")
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "^220")
    assert r.returncode == 2 and rec["reason"] == "expect-mismatch"
    assert rec["banner"] == "500 go away"


def test_closed_without_answer(vigia, hostile):
    h = hostile("close", b"")
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "^220")
    assert r.returncode == 2 and rec["reason"] == "conn-closed"


def test_send_expect_roundtrip(vigia):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    import threading

    got = []

    def serve():
        c, _ = srv.accept()
        c.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            d = c.recv(100)
            if not d:
                break
            data += d
        got.append(data)
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhi\x00there")
        c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    r, rec = one(vigia, f"tcp://127.0.0.1:{port}", "--send", r"GET / HTTP/1.0\r\nX: \x41\r\n\r\n",
                 "--expect", "^HTTP/1\\.[01] 200")
    t.join(5)
    srv.close()
    assert got == [b"GET / HTTP/1.0\r\nX: A\r\n\r\n"]
    assert r.returncode == 0, rec
    assert rec["banner"] == "HTTP/1.0 200 OK"


def test_drip_feed_matches(vigia, hostile):
    h = hostile("drip", b"SMTP ready 220\n")
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "ready 220", "--timeout", "5s")
    assert r.returncode == 0, rec


def test_retries_reported_and_retry_is_warning(vigia):
    port = free_port()
    # A listener that appears 0.6 s after the start.
    import threading
    holder = {}

    def later():
        time.sleep(0.6)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(4)
        holder["s"] = s
    t = threading.Thread(target=later, daemon=True)
    t.start()
    r, rec = one(vigia, f"127.0.0.1:{port}", "--retries", "5", "--retry-delay", "300ms", "--timeout", "5s")
    t.join()
    assert r.returncode == 0, rec
    assert rec["attempts"] >= 2 and "attempts" in rec["message"]
    r, rec = one(vigia, f"127.0.0.1:{port}", "--retries", "2", "--retry-delay", "100ms",
                 "--retry-is-warning")
    assert rec["attempts"] == 1 and r.returncode == 0  # first try passes: no warning
    holder["s"].close()
    port2 = free_port()
    r, rec = one(vigia, f"127.0.0.1:{port2}", "--retries", "2", "--retry-delay", "100ms")
    assert r.returncode == 2 and rec["attempts"] == 3 and rec["reason"] == "conn-refused"


def test_retry_is_warning(vigia):
    port = free_port()
    import threading

    def later():
        time.sleep(0.3)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(4)
        time.sleep(3)
        s.close()
    t = threading.Thread(target=later, daemon=True)
    t.start()
    r, rec = one(vigia, f"127.0.0.1:{port}", "--retries", "10", "--retry-delay", "200ms",
                 "--retry-is-warning", "--timeout", "5s")
    assert r.returncode == 1, rec
    assert rec["state"] == "warning" and rec["reason"] == "retried"
    t.join()


def test_retries_stay_inside_timeout(vigia):
    port = free_port()
    t0 = time.monotonic()
    r, rec = one(vigia, f"127.0.0.1:{port}", "--retries", "100", "--retry-delay", "200ms",
                 "--timeout", "1s")
    took = time.monotonic() - t0
    assert r.returncode == 2
    assert took < 2.5
    assert 2 <= rec["attempts"] <= 6


def test_on_refused_and_on_timeout_remap(vigia, hostile):
    port = free_port()
    r, rec = one(vigia, f"127.0.0.1:{port}", "--on-refused", "warning")
    assert r.returncode == 1 and rec["state"] == "warning" and rec["reason"] == "conn-refused"
    r, rec = one(vigia, f"127.0.0.1:{port}", "--on-refused", "ok")
    assert r.returncode == 0
    h = hostile("silent")
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "x", "--timeout", "300ms",
                 "--on-timeout", "unknown")
    assert r.returncode == 3 and rec["state"] == "unknown" and rec["reason"] == "read-timeout"


def test_thresholds_on_phases(vigia, hostile):
    h = hostile("drip", b"hello world\n")  # ~120 ms until the newline
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "world", "--warn", "20ms", "--crit", "10s")
    assert r.returncode == 1 and rec["reason"] == "slow-total", rec
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "world", "--crit", "firstbyte=1ms,total=20s")
    assert r.returncode == 0 or rec["reason"] == "slow-firstbyte"
    r, rec = one(vigia, f"127.0.0.1:{h.port}", "--expect", "world", "--crit-total", "30ms")
    assert r.returncode == 2 and rec["reason"] == "slow-total"
    r, _, _ = run_check(vigia, f"127.0.0.1:{h.port}", "--expect", "world", "--warn", "20ms", "--crit", "10s")
    assert ";0.020000;10.000000;0;" in r.stdout


def test_worst_state_exit_code_matrix(vigia, hostile):
    # Options apply to every target, so all speak the same little protocol.
    ok = f"127.0.0.1:{hostile('banner', b'h now').port}"
    refused = f"127.0.0.1:{free_port()}"
    slow = f"127.0.0.1:{hostile('drip', b'abcdefgh').port}"   # ~80 ms to the 'h'
    common = ["--expect", "h", "--timeout", "3s"]
    assert run_check(vigia, ok, *common)[0].returncode == 0
    assert run_check(vigia, ok, refused, *common)[0].returncode == 2
    assert run_check(vigia, ok, refused, *common, "--on-refused", "unknown")[0].returncode == 3
    assert run_check(vigia, ok, slow, *common, "--warn", "40ms")[0].returncode == 1
    # critical beats warning beats unknown beats ok
    r, recs, s = run_check(vigia, "-o", "ndjson", ok, refused, slow, *common, "--warn", "40ms")
    assert r.returncode == 2 and (s["ok"], s["warning"], s["critical"]) == (1, 1, 1), recs
    r, recs, s = run_check(vigia, "-o", "ndjson", ok, refused, slow, *common, "--warn", "40ms",
                           "--on-refused", "unknown")
    assert r.returncode == 1 and s["unknown"] == 1
    # records come in the order given
    assert [x["target"] for x in recs] == [ok, refused, slow]


@pytest.mark.parametrize("args,needle", [
    ([], "no targets"),
    (["tcp://127.0.0.1"], "missing port"),
    (["127.0.0.1:70000"], "bad port"),
    (["gopher://x:1"], "unknown scheme"),
    (["::1:80"], "brackets"),
    (["127.0.0.1:80", "--timeout", "soon"], "duration"),
    (["127.0.0.1:80", "--expect", "("], "regular expression"),
    (["127.0.0.1:80", "--expect-status", "600-200"], "status"),
    (["127.0.0.1:80", "--expect-body", "x"], "http"),
    (["http://127.0.0.1/", "--expect", "x"], "tcp://"),
    (["127.0.0.1:80", "--on-timeout", "maybe"], "expected ok"),
    (["127.0.0.1:80", "--send", "\\q"], "escape"),
    (["127.0.0.1:80", "--", "true"], "--wait"),
    (["127.0.0.1:80", "--nonsense"], "unknown option"),
    (["127.0.0.1:80", "-o", "xml"], "unknown output"),
    (["127.0.0.1:80", "--warn", "bogus=1s"], "unknown phase"),
    (["ssh://127.0.0.1", "--expect-hostkey", "MD5:xx"], "SHA256"),
    (["https://127.0.0.1/", "--cacert", "/nonexistent/ca.pem"], "cacert"),
])
def test_usage_errors_exit_unknown(vigia, args, needle):
    r, _, _ = run_check(vigia, *args)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert needle.lower() in r.stderr.lower(), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_help(vigia):
    r, _, _ = run_check(vigia, "--help")
    assert r.returncode == 0 and "--expect-hostkey" in r.stdout and "124" in r.stdout


def test_many_targets_one_loop(vigia, listeners):
    ports = [listeners.listen() for _ in range(50)]
    closed = [free_port() for _ in range(20)]
    specs = [f"127.0.0.1:{p}" for p in ports] + [f"tcp://127.0.0.1:{p}" for p in closed]
    specs = specs * 20  # 1400 checks
    t0 = time.monotonic()
    r, recs, s = run_check(vigia, "-o", "ndjson", *specs, "--concurrency", "300", timeout=120)
    assert time.monotonic() - t0 < 30
    assert s["checks"] == len(specs) and s["ok"] == 50 * 20 and s["critical"] == 20 * 20
    assert [x["index"] for x in recs] == list(range(len(specs)))


def test_unresolvable_name(vigia, tmp_path):
    # A DNS server that never answers is not needed: the name is invalid for
    # /etc/hosts and the resolver is pointed at a closed loopback port.
    port = free_port(socket.AF_INET)
    r, rec = one(vigia, "--dns-servers", f"127.0.0.1:{port}", "--timeout", "2s",
                 "no-such-host.invalid:80")
    assert r.returncode == 2
    assert rec["reason"] in ("dns-nxdomain", "dns-timeout", "dns-error")
    assert rec["ip"] is None and "not checked" in rec["message"]


def test_names_through_a_test_dns_server(vigia, listeners):
    import check_servers
    port = listeners.listen()
    dns = check_servers.TinyDns({"svc.vigia.test": ["127.0.0.1"]})
    try:
        r, recs, s = run_check(vigia, "-o", "ndjson", "-4", "--dns-servers", f"127.0.0.1:{dns.port}",
                               "--timeout", "3s", f"svc.vigia.test:{port}", f"tcp://nosuch.vigia.test:{port}")
    finally:
        dns.close()
    assert r.returncode == 2, r.stdout + r.stderr
    ok, bad = recs
    assert ok["state"] == "ok" and ok["ip"] == "127.0.0.1" and ok["phases_us"]["dns"] is not None
    assert bad["reason"] == "dns-nxdomain" and bad["ip"] is None
    assert "cannot resolve nosuch.vigia.test" in bad["message"]
    assert ("svc.vigia.test", 1) in dns.queries


def test_several_outputs_at_once(vigia, listeners, tmp_path):
    port = listeners.listen()
    nd = tmp_path / "out.ndjson"
    tx = tmp_path / "out.txt"
    r, _, _ = run_check(vigia, "-o", f"ndjson={nd}", "-o", f"text={tx}", "-o", "text",
                        f"127.0.0.1:{port}")
    assert r.returncode == 0
    assert r.stdout.startswith("TCP OK - ")
    assert tx.read_text() == r.stdout
    import json
    lines = [json.loads(x) for x in nd.read_text().splitlines()]
    assert [x["type"] for x in lines] == ["check-run", "check", "summary"]


def test_unwritable_output_and_missing_data_file(vigia, listeners):
    port = listeners.listen()
    r, _, _ = run_check(vigia, "-o", "ndjson=/nonexistent/dir/x", f"127.0.0.1:{port}")
    assert r.returncode == 3 and "cannot write" in r.stderr
    r, _, _ = run_check(vigia, "--data-file", "/nonexistent/body", f"http://127.0.0.1:{port}/")
    assert r.returncode == 3 and "--data-file" in r.stderr


def test_closed_stdout_ends_quietly(vigia, hostile):
    h = hostile("silent")
    specs = [f"127.0.0.1:{free_port()}"] + [f"127.0.0.1:{h.port}"] * 50
    import subprocess
    t0 = time.monotonic()
    p = subprocess.Popen(f"'{vigia}' check --expect x --timeout 20s {' '.join(specs)} | head -c 1",
                         shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 10
    assert out == b"T" and err == b""


def test_dns_timeout_and_retry_reresolves(vigia, listeners):
    import check_servers
    # A "DNS server" that reads queries and never answers.
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    try:
        t0 = time.monotonic()
        r, rec = one(vigia, "--dns-servers", f"127.0.0.1:{mute.getsockname()[1]}", "--timeout", "1s",
                     "slow.vigia.test:80")
        assert time.monotonic() - t0 < 3
        assert r.returncode == 2 and rec["reason"] == "dns-timeout", rec
        assert 900_000 <= rec["phases_us"]["dns"] <= 2_000_000
    finally:
        mute.close()
    # A name that appears in DNS after the first attempt: the retry finds it.
    port = listeners.listen()
    dns = check_servers.TinyDns({})
    try:
        import threading
        threading.Timer(0.4, lambda: dns.records.update({"late.vigia.test": ["127.0.0.1"]})).start()
        r, rec = one(vigia, "-4", "--dns-servers", f"127.0.0.1:{dns.port}", "--retries", "5",
                     "--retry-delay", "200ms", "--timeout", "5s", f"late.vigia.test:{port}")
    finally:
        dns.close()
    assert r.returncode == 0, rec
    assert rec["attempts"] >= 2 and rec["phases_us"]["dns"] is not None


def test_bad_dns_servers_is_usage_error(vigia):
    r, _, _ = run_check(vigia, "--dns-servers", "not-an-address", "svc.vigia.test:80")
    assert r.returncode == 3 and "dns-servers" in r.stderr


def test_next_address_after_refusal(vigia, listeners, hostile):
    """A name with ::1 and 127.0.0.1, a server on 127.0.0.1 only: the
    address that refuses is skipped, as curl and ssh do."""
    import check_servers
    port = listeners.listen("127.0.0.1")
    web = hostile("http-garbage", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    dns = check_servers.TinyDns({"dual.vigia.test": ["::1", "127.0.0.1"]})
    try:
        r, recs, _ = run_check(vigia, "-o", "ndjson", "--dns-servers", f"127.0.0.1:{dns.port}",
                               "--timeout", "3s", f"dual.vigia.test:{port}",
                               f"http://dual.vigia.test:{web.port}/")
    finally:
        dns.close()
    assert r.returncode == 0, r.stdout
    assert [x["ip"] for x in recs] == ["127.0.0.1", "127.0.0.1"]
    assert ("dual.vigia.test", 28) in dns.queries
