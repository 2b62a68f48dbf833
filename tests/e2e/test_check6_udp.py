# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check udp://`: a UDP echo server on loopback
(IPv4 and IPv6), --send/--expect, answers spread over several datagrams, a
server that never answers (read-timeout), a closed port (ICMP port
unreachable -> port-unreach), and escaping of what the server sends."""
import pytest

from check6_servers import UdpServer
from check_servers import run_check
from conftest import free_port


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.fixture
def udp():
    made = []

    def make(mode="echo", host="127.0.0.1"):
        s = UdpServer(mode, host)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def url(host, port):
    return f"udp://[{host}]:{port}" if ":" in host else f"udp://{host}:{port}"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_echo_send_expect(vigia, udp, host):
    s = udp("echo", host)
    r, rec = one(vigia, url(host, s.port), "--send", "ping\\x00\\r\\n", "--expect", "^echo:ping")
    assert r.returncode == 0, rec["message"]
    assert rec["kind"] == "udp" and rec["ip"] == host
    assert rec["bytes_read"] == 12 and rec["banner"] == "echo:ping\\x00"
    assert rec["phases_us"]["firstbyte"] is not None
    assert s.received == [b"ping\x00\r\n"]
    r, rec = one(vigia, url(host, s.port), "--send", "ping", "--expect", "^pong", "--timeout", "1s")
    assert r.returncode == 2 and rec["reason"] in ("expect-mismatch",), rec["message"]


def test_any_answer_without_expect(vigia, udp):
    s = udp("echo")
    r, rec = one(vigia, url("127.0.0.1", s.port))
    assert r.returncode == 0 and s.received == [b""]
    r, _, _ = run_check(vigia, url("127.0.0.1", s.port), "--send", "x")
    assert r.stdout.startswith("UDP OK - ")


def test_match_in_a_later_datagram(vigia, udp):
    s = udp("multi")
    r, rec = one(vigia, url("127.0.0.1", s.port), "--send", "go", "--expect", "^ok$")
    assert r.returncode == 0, rec["message"]
    assert rec["bytes_read"] == len(b"first\nsecond\nok\n")


def test_silent_is_read_timeout(vigia, udp):
    s = udp("silent")
    r, rec = one(vigia, url("127.0.0.1", s.port), "--send", "x", "--timeout", "700ms")
    assert r.returncode == 2 and rec["reason"] == "read-timeout"
    assert "filtered" in rec["message"]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_closed_port_is_port_unreach(vigia, host):
    port = free_port(socket_family(host), host)
    r, rec = one(vigia, url(host, port), "--send", "x", "--timeout", "3s")
    assert r.returncode == 2 and rec["reason"] == "port-unreach", rec["message"]
    assert "nothing listens" in rec["message"]
    assert rec["elapsed_us"] < 2_000_000


def socket_family(host):
    import socket
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def test_escaped_answer(vigia, udp):
    s = udp("escape")
    r, _, _ = run_check(vigia, url("127.0.0.1", s.port), "--send", "x")
    assert r.returncode == 0
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    # '|' would start perfdata in plugin output
    assert r.stdout.count("|") == 1


def test_usage_errors(vigia):
    r, _, _ = run_check(vigia, "udp://127.0.0.1")
    assert r.returncode == 3
    r, _, _ = run_check(vigia, "udp://127.0.0.1:53", "--expect", "(")
    assert r.returncode == 3
