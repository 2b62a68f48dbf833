# SPDX-License-Identifier: MIT
"""End-to-end tests of multi-step send/expect (--step) on tcp://, tls://
and udp://: a challenge-response dialogue whose regex capture is sent back
in a later step, expects that consume input in order, failures that name
the step, and usage errors."""
import socket
import ssl
import threading

import pytest

from check_servers import run_check


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


class Dialogue:
    """A TCP (optionally TLS) or UDP server on 127.0.0.1 speaking a small
    challenge-response protocol: greets with a nonce, answers "AUTH <nonce>"
    with "OK <nonce>" and anything else with "ERR", then "QUIT" with "BYE"."""

    NONCE = b"n0nce42"

    def __init__(self, udp=False, tls_ctx=None):
        self.udp = udp
        self.tls_ctx = tls_ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        if not udp:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        if not udp:
            self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.got = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _answer(self, line):
        self.got.append(line)
        if line == b"HELLO":
            return b"NONCE " + self.NONCE + b"\r\n"
        if line == b"AUTH " + self.NONCE:
            return b"OK " + self.NONCE + b"\r\n"
        if line == b"QUIT":
            return b"BYE\r\n"
        return b"ERR\r\n"

    def _loop(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                if self.udp:
                    data, peer = self.sock.recvfrom(4096)
                    self.sock.sendto(self._answer(data.strip()), peer)
                    continue
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(5)
            if self.tls_ctx:
                c = self.tls_ctx.wrap_socket(c, server_side=True)
            c.sendall(b"220 dialogue ready\r\nNONCE " + self.NONCE + b"\r\n")
            f = c.makefile("rb")
            while True:
                line = f.readline(4096)
                if not line:
                    break
                c.sendall(self._answer(line.strip()))
                if line.strip() == b"QUIT":
                    break
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture
def dialogue():
    made = []

    def make(**kw):
        d = Dialogue(**kw)
        made.append(d)
        return d
    yield make
    for d in made:
        d.close()


STEPS = ["--step", "expect:^220 ", "--step", "expect:^NONCE ([a-z0-9]+)",
         "--step", "send:AUTH ${1}\\r\\n", "--step", "expect:^OK ([a-z0-9]+)",
         "--step", "send:QUIT\\r\\n", "--step", "expect:^BYE"]


def test_tcp_challenge_response(vigia, dialogue):
    d = dialogue()
    r, rec = one(vigia, f"tcp://127.0.0.1:{d.port}", *STEPS)
    assert r.returncode == 0, rec["message"]
    assert "all 6 steps passed" in rec["message"] and rec["banner"] == "BYE"
    assert d.got == [b"AUTH n0nce42", b"QUIT"]


def test_tls_challenge_response(vigia, dialogue, check_certs):
    cf, scen = check_certs
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(scen["valid"][0], scen["valid"][1])
    d = dialogue(tls_ctx=ctx)
    r, rec = one(vigia, "--cacert", cf.p("root.crt"), "-4", f"tls://localhost:{d.port}", *STEPS)
    assert r.returncode == 0, rec["message"]
    assert rec["tls"]["version"].startswith("TLS")
    assert d.got == [b"AUTH n0nce42", b"QUIT"]


def test_udp_steps(vigia, dialogue):
    d = dialogue(udp=True)
    r, rec = one(vigia, f"udp://127.0.0.1:{d.port}", "--step", "send:HELLO", "--step", "expect:^NONCE ([a-z0-9]+)",
                 "--step", "send:AUTH ${1}", "--step", "expect:^OK n0nce42")
    assert r.returncode == 0, rec["message"]
    assert d.got == [b"HELLO", b"AUTH n0nce42"]


def test_wrong_capture_fails_at_its_step(vigia, dialogue):
    d = dialogue()
    steps = ["--step", "expect:^NONCE ([a-z]+)",        # captures only "n"
             "--step", "send:AUTH ${1}\\r\\n", "--step", "expect:^OK"]
    r, rec = one(vigia, f"tcp://127.0.0.1:{d.port}", *steps, "--timeout", "1s")
    assert r.returncode == 2 and rec["reason"] == "read-timeout", rec["message"]
    # the unmatched input starts right after the first match
    assert "step 3 (expect:^OK)" in rec["message"] and 'began "0nce42"' in rec["message"]
    assert d.got == [b"AUTH n"]


def test_expects_consume_in_order(vigia, dialogue):
    d = dialogue()
    # "220" comes before "NONCE": expecting them the other way round fails.
    r, rec = one(vigia, f"tcp://127.0.0.1:{d.port}", "--step", "expect:^NONCE", "--step", "expect:^220",
                 "--timeout", "1s")
    assert r.returncode == 2 and "step 2" in rec["message"]


def test_udp_step_timeout_names_the_step(vigia, dialogue):
    d = dialogue(udp=True)
    r, rec = one(vigia, f"udp://127.0.0.1:{d.port}", "--step", "send:HELLO", "--step", "expect:^NOPE",
                 "--timeout", "700ms")
    assert r.returncode == 2 and rec["reason"] == "expect-mismatch"
    assert "step 2 (expect:^NOPE)" in rec["message"]


@pytest.mark.parametrize("args", [
    ["tcp://127.0.0.1:1", "--step", "bogus"],
    ["tcp://127.0.0.1:1", "--step", "expect:("],
    ["tcp://127.0.0.1:1", "--step", "send:\\xZZ"],
    ["tcp://127.0.0.1:1", "--step", "send:x", "--send", "y"],
    ["http://127.0.0.1:1/", "--step", "send:x"],
    ["dns://127.0.0.1/x.test", "--step", "send:x"],
])
def test_usage_errors(vigia, args):
    r, _, _ = run_check(vigia, *args)
    assert r.returncode == 3, args
