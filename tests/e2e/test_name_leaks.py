# SPDX-License-Identifier: MIT
"""Names that must never reach a DNS server: localhost and names under
.localhost (RFC 6761: loopback, from /etc/hosts or 127.0.0.1 and ::1), names
under .invalid (an error without a query), and every name during
`scan --dry-run` (which sends nothing). A DNS server the test starts on
127.0.0.1 records every datagram and TCP connection it receives; vigia is
pointed at it with --dns-servers, so even a leak would go nowhere else."""
import re
import socket
import struct
import threading

import pytest

from check_servers import run_check
from conftest import parse_ndjson, run, udp_tcp_pair


class RecordingDns:
    """UDP and TCP on one loopback port. Every UDP datagram is recorded
    (raw, and its question name when it parses); so is every TCP
    connection. Names in `records` get their A/AAAA answers, the rest
    NXDOMAIN."""

    def __init__(self, records):
        self.records = {k.lower(): v for k, v in records.items()}
        self.udp, self.tcp, self.port = udp_tcp_pair()
        self.tcp.listen(16)
        self.datagrams = []
        self.names = []
        self.tcp_connections = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    @property
    def server(self):
        return f"127.0.0.1:{self.port}"

    def total(self):
        return len(self.datagrams) + self.tcp_connections

    def _serve_udp(self):
        self.udp.settimeout(0.1)
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.datagrams.append(data)
            try:
                reply = self._answer(data)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue
            self.udp.sendto(reply, peer)

    def _serve_tcp(self):
        self.tcp.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.tcp_connections += 1
            c.close()

    def _answer(self, q):
        qid, _flags, _qd = struct.unpack("!HHH", q[:6])
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode())
            i += 1 + q[i]
        qtype, _qclass = struct.unpack("!HH", q[i + 1:i + 5])
        question = q[12:i + 5]
        name = ".".join(labels).lower()
        self.names.append(name)
        rec = self.records.get(name)
        answers = []
        for addr in rec or []:
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            t = 28 if fam == socket.AF_INET6 else 1
            if t == qtype:
                rdata = socket.inet_pton(fam, addr)
                answers.append(b"\xc0\x0c" + struct.pack("!HHIH", t, 1, 60, len(rdata)) + rdata)
        rcode = 0 if rec is not None else 3
        hdr = struct.pack("!HHHHHH", qid, 0x8400 | rcode, 1, len(answers), 0, 0)
        return hdr + question + b"".join(answers)

    def close(self):
        self.stop.set()
        self.udp.close()
        self.tcp.close()
        for t in self.threads:
            t.join(timeout=2)


@pytest.fixture
def dns():
    d = RecordingDns({"svc.vigia.test": ["127.0.0.1"]})
    yield d
    d.close()


LOCAL_NAMES = ["localhost", "LOCALHOST.", "foo.localhost", "a.b.LocalHost."]


def scan_records(vigia, *args):
    r = run([vigia, "scan", "-sT", "-q", "-o", "ndjson", *args], timeout=60)
    recs = [x for x in parse_ndjson(r.stdout) if x.get("type") == "port"]
    return r, recs


def test_scan_localhost_names_never_queried(vigia, listeners, dns):
    port = listeners.listen("127.0.0.1")
    for name in LOCAL_NAMES:
        r, recs = scan_records(vigia, "-4", "--dns-servers", dns.server, "-p", str(port), name)
        assert r.returncode == 0, r.stderr
        assert [(x["ip"], x["port"], x["state"]) for x in recs] == [("127.0.0.1", port, "open")], name
    # -6: ::1 (this /etc/hosts lists no IPv6 address for these names, and
    # foo.localhost is not listed at all).
    port6 = listeners.listen("::1")
    r, recs = scan_records(vigia, "-6", "--dns-servers", dns.server, "-p", str(port6), "foo.localhost")
    assert r.returncode == 0, r.stderr
    assert [(x["ip"], x["state"]) for x in recs] == [("::1", "open")]
    assert dns.total() == 0, dns.names

    # The control: an ordinary name is asked of the same server.
    r, recs = scan_records(vigia, "-4", "--dns-servers", dns.server, "-p", str(port), "svc.vigia.test")
    assert r.returncode == 0, r.stderr
    assert [(x["ip"], x["state"]) for x in recs] == [("127.0.0.1", "open")]
    assert "svc.vigia.test" in dns.names


def test_scan_invalid_names_fail_without_a_query(vigia, dns):
    for name in ("x.invalid", "A.B.INVALID."):
        r = run([vigia, "scan", "-sT", "-q", "--dns-servers", dns.server, "-p", "80", name])
        assert r.returncode == 1, r.stdout + r.stderr
        assert "RFC 6761" in r.stderr and name in r.stderr
    assert dns.total() == 0, dns.names


def test_check_localhost_names_never_queried(vigia, listeners, dns):
    port = listeners.listen("127.0.0.1")
    specs = [f"tcp://{n}:{port}" for n in LOCAL_NAMES]
    r, recs, _ = run_check(vigia, "-o", "ndjson", "-4", "--dns-servers", dns.server, "--timeout", "3s", *specs)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [(x["ip"], x["state"]) for x in recs] == [("127.0.0.1", "ok")] * len(specs)
    # Both families: foo.localhost has 127.0.0.1 and ::1; only ::1 listens
    # here, so the check moves on from a refusal to the address that works.
    port6 = listeners.listen("::1")
    r, recs, _ = run_check(vigia, "-o", "ndjson", "--dns-servers", dns.server, "--timeout", "3s",
                           f"tcp://foo.localhost:{port6}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert recs[0]["ip"] == "::1" and recs[0]["state"] == "ok"
    assert dns.total() == 0, dns.names

    r, recs, _ = run_check(vigia, "-o", "ndjson", "-4", "--dns-servers", dns.server, "--timeout", "3s",
                           f"tcp://svc.vigia.test:{port}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "svc.vigia.test" in dns.names


def test_check_invalid_name_is_critical_without_a_query(vigia, dns):
    r, recs, _ = run_check(vigia, "-o", "ndjson", "--dns-servers", dns.server, "--timeout", "3s",
                           "--retries", "2", "--retry-delay", "100ms",
                           "tcp://x.invalid:80", "http://www.example.invalid/")
    assert r.returncode == 2, r.stdout + r.stderr
    for rec in recs:
        assert rec["state"] == "critical" and rec["reason"] == "dns-nxdomain", rec
        assert "RFC 6761" in rec["message"] and rec["ip"] is None
        assert rec["attempts"] == 1, rec  # a retry could not change the answer
    assert dns.total() == 0, dns.names


def hosts_file_name():
    """An ordinary name /etc/hosts lists with an IPv4 loopback address, or None."""
    try:
        lines = open("/etc/hosts").read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split("#")[0].split()
        if len(fields) < 2 or not fields[0].startswith("127."):
            continue
        for name in fields[1:]:
            low = name.lower().rstrip(".")
            if low != "localhost" and not low.endswith(".localhost"):
                return name, fields[0]
    return None


def test_dry_run_sends_no_dns_query(vigia, dns):
    args = [vigia, "scan", "--dry-run", "--dns-servers", dns.server, "-p", "80,443"]
    r = run(args + ["svc.vigia.test", "127.0.0.1", "foo.localhost"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # The name only DNS knows is named, not resolved; the others are listed.
    assert re.fullmatch(r"tcp-(syn|connect) svc\.vigia\.test \(not resolved: --dry-run sends no DNS queries\)",
                        lines[0]), lines
    assert sorted(lines[1:]) == sorted(f"{lines[1].split()[0]} 127.0.0.1 {p}" for p in (80, 443)), lines
    # Only an unresolved name: still a dry run, exit 0.
    r = run(args + ["svc.vigia.test"])
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 1 and "not resolved" in r.stdout
    # An unresolved exclude is said on stderr.
    r = run(args + ["127.0.0.1", "--exclude", "svc.vigia.test"])
    assert r.returncode == 0 and "--exclude svc.vigia.test is not resolved" in r.stderr
    assert dns.total() == 0, dns.names

    # The same name without --dry-run is asked (a connect scan of loopback).
    r = run([vigia, "scan", "-sT", "-q", "--dns-servers", dns.server, "-p", "1", "svc.vigia.test"])
    assert r.returncode == 0, r.stderr
    assert "svc.vigia.test" in dns.names


def test_dry_run_resolves_from_etc_hosts(vigia, dns):
    found = hosts_file_name()
    if not found:
        pytest.skip("/etc/hosts lists no ordinary name with a 127.x address")
    name, addr = found
    r = run([vigia, "scan", "--dry-run", "-4", "--dns-servers", dns.server, "-p", "80", name])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[1:] == [addr, "80"], r.stdout
    assert dns.total() == 0, dns.names
