# SPDX-License-Identifier: MIT
"""End-to-end tests of the edges of send/expect and --step on tcp://,
tls:// and udp://: a --send that is not answered for, an answer that never
matches (by the deadline, at the --max-read cap, at the peer's close or
reset), a step script that only sends, a capture longer than a send step
takes, a TLS handshake that never finishes, and the usage errors of each.
Servers on 127.0.0.1, started by the tests."""
import socket
import threading

import pytest

from check_servers import Hostile, run_check
from check6_servers import UdpServer


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


class Recorder:
    """A TCP server on 127.0.0.1: sends greeting on accept, then records
    what the client sends (until it closes or 5 s pass) and answers each
    line with reply (if any)."""

    def __init__(self, greeting=b"", reply=b""):
        self.greeting, self.reply = greeting, reply
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.got = b""
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            self.sock.settimeout(10)
            c, _ = self.sock.accept()
        except OSError:
            self.done.set()
            return
        try:
            c.settimeout(5)
            if self.greeting:
                c.sendall(self.greeting)
            while True:
                d = c.recv(65536)
                if not d:
                    break
                self.got += d
                if self.reply and d.endswith(b"\n"):
                    c.sendall(self.reply)
        except OSError:
            pass
        finally:
            c.close()
            self.done.set()

    def wait(self):
        self.done.wait(10)
        return self.got

    def close(self):
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture
def servers():
    made = []

    def add(s):
        made.append(s)
        return s
    yield add
    for s in made:
        s.close()


# --- --send / --expect on tcp:// -------------------------------------------

def test_send_without_expect_is_ok_once_sent(vigia, servers):
    s = servers(Recorder())
    r, rec = one(vigia, f"tcp://127.0.0.1:{s.port}", "--send", "PING\\r\\n")
    assert r.returncode == 0 and rec["state"] == "ok", rec
    assert rec["message"] == f"connected to 127.0.0.1 port {s.port} and sent 6 bytes", rec
    assert s.wait() == b"PING\r\n"


def test_empty_send_only_connects(vigia, servers):
    s = servers(Recorder())
    r, rec = one(vigia, f"tcp://127.0.0.1:{s.port}", "--send", "")
    assert r.returncode == 0 and rec["state"] == "ok", rec
    assert rec["message"].startswith(f"connected to 127.0.0.1 port {s.port} in "), rec
    assert s.wait() == b""


def test_expect_timeout_shows_what_arrived(vigia, servers):
    h = servers(Hostile("banner", b"hello there\r\nsecond line\r\n"))
    r, rec = one(vigia, f"tcp://127.0.0.1:{h.port}", "--expect", "^NOPE", "--timeout", "700ms")
    assert r.returncode == 2 and rec["reason"] == "read-timeout", rec
    assert rec["message"] == (f"connected to 127.0.0.1 port {h.port}, but the expected pattern did not "
                              f"arrive within 700 ms; it sent 26 bytes beginning \"hello there\""), rec
    assert rec["banner"] == "hello there"


# --- --step on tcp:// and tls:// --------------------------------------------

def test_steps_that_only_send(vigia, servers):
    s = servers(Recorder())
    r, rec = one(vigia, f"tcp://127.0.0.1:{s.port}", "--step", "send:HELLO\\r\\n", "--step", "send:QUIT\\r\\n")
    assert r.returncode == 0, rec
    assert rec["message"] == f"127.0.0.1 port {s.port}: all 2 steps passed", rec
    assert s.wait() == b"HELLO\r\nQUIT\r\n"


def test_step_capture_is_cut_at_256_bytes(vigia, servers):
    nonce = b"abcdefghij" * 30                     # 300 bytes
    s = servers(Recorder(greeting=b"NONCE " + nonce + b"\r\n", reply=b"OK\r\n"))
    r, rec = one(vigia, f"tcp://127.0.0.1:{s.port}", "--step", "expect:^NONCE ([a-z]+)",
                 "--step", "send:AUTH ${1}\\r\\n", "--step", "expect:^OK")
    assert r.returncode == 0, rec
    assert "all 3 steps passed" in rec["message"] and rec["banner"] == "OK", rec
    assert s.wait() == b"AUTH " + nonce[:256] + b"\r\n"


def test_step_at_the_max_read_cap(vigia, servers):
    h = servers(Hostile("forever"))                # 1000 x's and a newline, again and again
    r, rec = one(vigia, f"tcp://127.0.0.1:{h.port}", "--step", "expect:^NOPE", "--max-read", "4K",
                 "--timeout", "5s")
    assert r.returncode == 2 and rec["reason"] == "expect-mismatch", rec
    assert rec["message"].startswith("step 1 (expect:^NOPE) read 4096 bytes (the --max-read cap) "
                                     "without a match; it began: \"xxxx"), rec


def test_step_peer_closes_after_unmatched_answer(vigia, servers):
    h = servers(Hostile("close", b"hello\r\n"))
    r, rec = one(vigia, f"tcp://127.0.0.1:{h.port}", "--step", "expect:^NOPE", "--timeout", "5s")
    assert r.returncode == 2 and rec["reason"] == "expect-mismatch", rec
    assert rec["message"] == (f"127.0.0.1 port {h.port} closed the connection; step 1 (expect:^NOPE) "
                              f"did not match what it sent: \"hello\""), rec


def test_step_peer_closes_at_once(vigia, servers):
    h = servers(Hostile("close", b""))
    r, rec = one(vigia, f"tcp://127.0.0.1:{h.port}", "--step", "expect:^220", "--timeout", "5s")
    assert r.returncode == 2 and rec["reason"] == "conn-closed", rec
    assert rec["message"] == f"127.0.0.1 port {h.port} closed the connection at step 1 (expect:^220)", rec


def test_step_peer_resets(vigia, servers):
    h = servers(Hostile("rst"))
    r, rec = one(vigia, f"tcp://127.0.0.1:{h.port}", "--step", "expect:^220", "--timeout", "5s")
    assert r.returncode == 2 and rec["reason"] == "conn-reset", rec
    assert rec["message"] == f"127.0.0.1 port {h.port} reset the connection at step 1 (expect:^220)", rec


def test_step_tls_handshake_never_finishes(vigia, servers):
    h = servers(Hostile("silent"))
    r, rec = one(vigia, f"tls://127.0.0.1:{h.port}", "--step", "expect:^220", "--timeout", "700ms")
    assert r.returncode == 2 and rec["reason"] == "tls-timeout", rec
    assert rec["message"] == (f"connected to 127.0.0.1 port {h.port}, but the TLS handshake did not "
                              f"finish within 700 ms"), rec


def test_too_many_steps(vigia):
    steps = [a for _ in range(33) for a in ("--step", "send:x")]
    r, _, _ = run_check(vigia, "tcp://127.0.0.1:1", *steps)
    assert r.returncode == 3, r.stderr
    assert "--step: at most 32 steps" in r.stderr, r.stderr
    steps = [a for _ in range(32) for a in ("--step", "send:x")]
    r, _, _ = run_check(vigia, "tcp://127.0.0.1:1", *steps, "--timeout", "2s")
    assert r.returncode == 2 and "at most 32 steps" not in r.stderr, r.stderr  # refused: ran


# --- udp:// -------------------------------------------------------------------

def test_udp_max_read_cap(vigia, servers):
    u = servers(UdpServer("multi"))                # "first\n", "second\n", "ok\n"
    r, rec = one(vigia, f"udp://127.0.0.1:{u.port}", "--expect", "^NOPE", "--max-read", "10",
                 "--timeout", "5s")
    assert r.returncode == 2 and rec["reason"] == "expect-mismatch", rec
    assert rec["message"] == (f"127.0.0.1 port {u.port} sent 2 datagrams (13 bytes, the --max-read cap) "
                              f"without a match; the last began: \"second\""), rec


def test_udp_steps_that_only_send(vigia, servers):
    u = servers(UdpServer("silent"))
    r, rec = one(vigia, f"udp://127.0.0.1:{u.port}", "--step", "send:ONE", "--step", "send:TWO")
    assert r.returncode == 0, rec
    assert rec["message"].startswith(f"127.0.0.1 port {u.port}: all steps passed (0 datagrams received)"), rec
    for _ in range(100):
        if len(u.received) == 2:
            break
        threading.Event().wait(0.02)
    assert u.received == [b"ONE", b"TWO"]


def test_udp_step_silence_names_the_step(vigia, servers):
    u = servers(UdpServer("silent"))
    r, rec = one(vigia, f"udp://127.0.0.1:{u.port}", "--step", "send:ONE", "--step", "expect:^TWO",
                 "--timeout", "700ms")
    assert r.returncode == 2 and rec["reason"] == "read-timeout", rec
    assert rec["message"] == (f"step 2 (expect:^TWO) did not complete within 700 ms "
                              f"(0 datagrams from 127.0.0.1 port {u.port})"), rec


@pytest.mark.parametrize("args,msg", [
    (["--expect-body", "x"], "HTTP options need an http:// or https:// target"),
    (["--expect-hostkey", "SHA256:x"], "SSH options need an ssh:// target"),
    (["--send", "x" * 65500], "--send: too long for one UDP datagram"),
])
def test_udp_usage_errors(vigia, args, msg):
    r, _, _ = run_check(vigia, "udp://127.0.0.1:9", *args)
    assert r.returncode == 3, r.stderr
    assert msg in r.stderr, r.stderr
