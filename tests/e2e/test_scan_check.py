# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia scan --check`: servers written here on
loopback (an HTTP server from http.server, a fake SSH banner, a fake SMTP
server without STARTTLS, an FTP-like greeting, a silent port) on free,
non-well-known ports, so every kind is chosen by what the service says. The
port records must carry the nested check (kind, verdict, reason) in NDJSON
and the check line in the text table; Ctrl-C and a closed stdout still end
promptly with nothing lost."""
import http.server
import signal
import socket
import socketserver
import subprocess
import threading
import time

import pytest

from conftest import check_ndjson, free_port, parse_ndjson, run

# Every check must finish well within this (the silent port: 1 s banner wait
# plus the HTTP try).
CHECK_TIMEOUT = "2s"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.server.behave(self.request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behave):
        self.behave = behave
        super().__init__(("127.0.0.1", 0), _Handler)


def _ssh(sock):
    sock.sendall(b"SSH-2.0-FakeSSH_1.0 vigia-test\r\n")
    sock.settimeout(3)
    try:
        sock.recv(4096)  # the client's version line / KEXINIT; then hang up
    except OSError:
        pass


def _smtp(sock):
    """An SMTP server that does not offer STARTTLS."""
    sock.settimeout(3)
    f = sock.makefile("rwb")
    try:
        f.write(b"220 mail.test ESMTP FakeMTA\r\n")
        f.flush()
        for _ in range(10):
            line = f.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                f.write(b"250-mail.test\r\n250 SIZE 1000000\r\n")
            elif verb == b"QUIT":
                f.write(b"221 bye\r\n")
                f.flush()
                return
            else:
                f.write(b"502 not implemented\r\n")
            f.flush()
    except OSError:
        pass


def _ftp(sock):
    sock.sendall(b"220 FakeFTP ready \x1b[31mred\r\n")  # hostile bytes must be escaped
    sock.settimeout(3)
    try:
        sock.recv(100)
    except OSError:
        pass


def _silent(sock):
    sock.settimeout(4)
    try:
        while sock.recv(100):
            pass  # reads whatever comes (an HTTP request) and never answers
    except OSError:
        pass


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    made, ports = [], {}
    for name, behave in (("ssh", _ssh), ("smtp", _smtp), ("ftp", _ftp), ("silent", _silent)):
        s = _Server(behave)
        threading.Thread(target=s.serve_forever, daemon=True).start()
        made.append(s)
        ports[name] = s.server_address[1]
    root = tmp_path_factory.mktemp("www")
    (root / "index.html").write_text("hello\n")

    class H(_Quiet):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    web.daemon_threads = True
    threading.Thread(target=web.serve_forever, daemon=True).start()
    made.append(web)
    ports["http"] = web.server_address[1]
    ports["closed"] = free_port()
    yield ports
    for s in made:
        s.shutdown()
        s.server_close()


def _spec(ports):
    return ",".join(str(p) for p in ports.values())


@pytest.fixture(scope="module")
def ndjson_run(vigia, servers):
    t0 = time.monotonic()
    r = run([vigia, "scan", "-q", "-sT", "--check", "--check-timeout", CHECK_TIMEOUT,
             "-o", "ndjson", "-p", _spec(servers), "127.0.0.1"], timeout=30)
    return r, time.monotonic() - t0


def test_nested_check_objects(ndjson_run, servers):
    r, elapsed = ndjson_run
    assert r.returncode == 0, r.stderr
    assert elapsed < 10, elapsed
    scan, ports, summary = check_ndjson(parse_ndjson(r.stdout))
    assert scan["check"] is True and scan["check_timeout_ms"] == 2000, scan
    by_port = {p["port"]: p for p in ports}
    assert set(by_port) == set(servers.values())
    name = {v: k for k, v in servers.items()}
    expected = {
        "ssh": ("ssh", "ok", "ok"),
        "smtp": ("smtp", "critical", "starttls-refused"),
        "ftp": ("tcp", "ok", "ok"),
        "silent": ("tcp", "ok", "ok"),
        "http": ("http", "ok", "ok"),
    }
    for port, rec in by_port.items():
        if name[port] == "closed":
            assert rec["state"] == "closed" and "check" not in rec, rec
            continue
        chk = rec["check"]
        assert (chk["kind"], chk["verdict"], chk["reason"]) == expected[name[port]], (name[port], chk)
        # the same fields as a `vigia check` record, plus "verdict"
        assert chk["type"] == "check" and chk["state"] == chk["verdict"], chk
        for key in ("target", "host", "port", "ip", "reasons", "message", "start", "attempts",
                    "elapsed_us", "phases_us"):
            assert key in chk, (key, chk)
        assert chk["port"] == port and chk["ip"] == "127.0.0.1", chk
    assert by_port[servers["ssh"]]["check"]["ssh"]["banner"].startswith("SSH-2.0-FakeSSH_1.0")
    assert by_port[servers["http"]]["check"]["http"]["status"] == 200
    assert "sent nothing" in by_port[servers["silent"]]["check"]["message"]
    ftp = by_port[servers["ftp"]]["check"]
    assert ftp["banner"].startswith("220 FakeFTP ready \\x1b[31mred"), ftp
    assert "\x1b" not in r.stdout
    assert summary["checks"] == {"ok": 4, "warning": 0, "critical": 1, "unknown": 0}, summary


def test_check_record_matches_vigia_check(vigia, ndjson_run, servers):
    """The nested object is what `vigia check -o ndjson` writes for the same
    target (index and timings aside), plus "verdict"."""
    r, _ = ndjson_run
    _, ports, _ = check_ndjson(parse_ndjson(r.stdout))
    nested = next(p["check"] for p in ports if p["port"] == servers["ssh"])
    c = run([vigia, "check", "-o", "ndjson", nested["target"]], timeout=20)
    rec = next(x for x in parse_ndjson(c.stdout) if x["type"] == "check")
    assert set(nested) - set(rec) == {"verdict"}, set(nested) ^ set(rec)
    assert set(rec) - set(nested) == set()
    for k in ("kind", "state", "reason", "target"):
        assert rec[k] == nested[k], k


def test_text_lines(vigia, servers):
    r = run([vigia, "scan", "-q", "-sT", "--check", "--check-timeout", CHECK_TIMEOUT,
             "-p", _spec(servers), "127.0.0.1"], timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()

    def check_line(port):
        i = next(i for i, l in enumerate(lines) if l.strip().startswith(f"{port}/tcp"))
        return lines[i + 1].strip()
    assert check_line(servers["ssh"]).startswith("check ssh: OK (ok) SSH-2.0-FakeSSH_1.0")
    assert check_line(servers["smtp"]).startswith("check smtp: CRITICAL (starttls-refused)")
    assert check_line(servers["http"]).startswith("check http: OK (ok) HTTP/1.0 200 OK")
    assert check_line(servers["silent"]).startswith("check tcp: OK (ok)")
    assert "Checks: 4 ok, 0 warning, 1 critical, 0 unknown" in r.stdout
    assert "\x1b" not in r.stdout


def test_ctrl_c_reports_pending_checks(vigia, servers):
    """The silent port's check is still running at Ctrl-C: its record is
    written with an interrupted check, and the exit status is 130."""
    p = subprocess.Popen([vigia, "scan", "-q", "-sT", "--check", "-o", "ndjson",
                          "-p", f"{servers['silent']},{servers['ssh']}", "127.0.0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 130, err
    recs = parse_ndjson(out)
    ports = {r["port"]: r for r in recs if r["type"] == "port"}
    assert set(ports) == {servers["silent"], servers["ssh"]}, out
    chk = ports[servers["silent"]]["check"]
    assert (chk["verdict"], chk["reason"]) == ("unknown", "interrupted"), chk
    assert ports[servers["ssh"]]["check"]["verdict"] == "ok"
    assert recs[-1]["type"] == "summary" and recs[-1]["interrupted"] is True


def test_head_ends_promptly(vigia, servers):
    t0 = time.monotonic()
    r = subprocess.run(f"'{vigia}' scan -q -sT --check -o ndjson -p {servers['silent']},1-2000"
                       " 127.0.0.1 | head -1", shell=True, capture_output=True, text=True,
                       timeout=20)
    assert r.stdout.startswith('{"type":"scan"'), r.stdout
    assert time.monotonic() - t0 < 8


def test_usage(vigia):
    r = run([vigia, "scan", "--check-timeout", "2s", "-p", "1", "127.0.0.1"])
    assert r.returncode == 1 and "--check-timeout needs --check" in r.stderr
    r = run([vigia, "scan", "--check", "--check-timeout", "0", "-p", "1", "127.0.0.1"])
    assert r.returncode == 1, r.stderr
    r = run([vigia, "scan", "--help"])
    assert "--check" in r.stdout
