# SPDX-License-Identifier: MIT
"""End-to-end tests of the raw UDP engine (-sU) in a namespace pair the
tests create: a real DNS server (dnsmasq) and UDP responders are open, a
port nothing listens on is closed (ICMP port unreachable), a drop rule
makes open|filtered, a reject rule filtered with its reason."""
import re

import pytest

import rawlab
from conftest import is_root, parse_ndjson
from rawlab import TARGET_V4 as T4, TARGET_V6 as T6, vigia_scan

pytestmark = pytest.mark.skipif(not is_root(),
                                reason="needs root: creates network namespaces, raw sockets")

FAST = ["--max-rtt-timeout", "300ms", "--initial-rtt-timeout", "300ms", "--retries", "1"]

DNS = 53
ECHO = {7001, 7007}
DROP = {7002, 7003}
ADMIN = {7004}
CLOSED = {7000, 7005, 7006, 7008, 7009}
PORTS = sorted({DNS} | ECHO | DROP | ADMIN | CLOSED)
TCP_OPEN = {7001}

RULES = f"""
table inet vigia_raw_udp {{
  chain input {{
    type filter hook input priority 0; policy accept;
    udp dport {{ {", ".join(map(str, sorted(DROP)))} }} drop
    meta nfproto ipv4 udp dport {min(ADMIN)} reject with icmp type admin-prohibited
    meta nfproto ipv6 udp dport {min(ADMIN)} reject with icmpv6 type admin-prohibited
  }}
}}
"""


def expected(port):
    if port == DNS or port in ECHO:
        return ("open", "udp-response")
    if port in DROP:
        return ("open|filtered", "no-response")
    if port in ADMIN:
        return ("filtered", "admin-prohibited")
    return ("closed", "port-unreach")


@pytest.fixture(scope="module")
def lab():
    lab = rawlab.RawLab("u")
    try:
        lab.dnsmasq(port=DNS)
        lab.udp_echo([(a, p) for a in (T4, T6) for p in sorted(ECHO)])
        lab.listen([(a, p) for a in (T4, T6) for p in sorted(TCP_OPEN)])
        lab.nft(RULES)
        lab.warm()
        yield lab
    finally:
        lab.close()


def records(r):
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    assert recs[0]["type"] == "scan" and recs[-1]["type"] == "summary"
    # Host discovery's "host" records come first; the rest are ports.
    ports = [p for p in recs[1:-1] if p["type"] != "host"]
    assert all(p["type"] == "port" for p in ports)
    return recs[0], ports, recs[-1]


def spec():
    return ",".join(map(str, PORTS))


@pytest.mark.parametrize("target", [T4, T6])
def test_udp_states(lab, vigia, target):
    scan, ports, summary = records(vigia_scan(lab, vigia, "-sU", "-o", "ndjson", "-p", spec(),
                                              target, *FAST))
    assert scan["engine"] == "udp"
    got = {p["port"]: (p["state"], p["reason"]) for p in ports}
    assert got == {p: expected(p) for p in PORTS}
    for p in ports:
        assert p["proto"] == "udp" and p["ip"] == target
        if p["reason"] == "no-response":
            assert p["rtt_us"] is None and p["tries"] == 2, p
        else:
            assert isinstance(p["rtt_us"], int), p
    assert summary["open"] == 1 + len(ECHO)


def test_syn_and_udp_together(lab, vigia):
    """-sS -sU: every port over both protocols, one record each."""
    scan, ports, summary = records(vigia_scan(lab, vigia, "-sS", "-sU", "-o", "ndjson",
                                              "-p", spec(), T4, T6, *FAST))
    assert scan["engine"] == "syn+udp"
    got = {(p["ip"], p["port"], p["proto"]): (p["state"], p["reason"]) for p in ports}
    exp = {}
    for a in (T4, T6):
        for p in PORTS:
            exp[(a, p, "udp")] = expected(p)
            exp[(a, p, "tcp")] = ("open", "syn-ack") if p in TCP_OPEN else \
                ("closed", "conn-refused")
    # dnsmasq listens on TCP 53 too.
    for a in (T4, T6):
        exp[(a, DNS, "tcp")] = ("open", "syn-ack")
    assert got == exp
    # One record per (address, port, protocol): planned counts them all.
    assert summary["planned"] == summary["results"] == len(ports) == len(exp), summary
    assert summary["complete"] is True, summary
    assert (scan["n_tcp_ports"], scan["n_udp_ports"]) == (len(PORTS), len(PORTS)), scan


def test_mixed_port_spec_infers_both_scans(lab, vigia):
    """-p T:...,U:... with no scan kind: TCP for T: (and for ports before
    any prefix), UDP for U:, in one syn+udp scan."""
    closed = min(CLOSED)
    scan, ports, summary = records(vigia_scan(
        lab, vigia, "-o", "ndjson", "-p", f"{closed},T:{min(TCP_OPEN)},U:{DNS},{closed}",
        T4, T6, *FAST))
    assert scan["engine"] == "syn+udp"
    assert (scan["n_tcp_ports"], scan["n_udp_ports"]) == (2, 2), scan
    got = {(p["ip"], p["port"], p["proto"]): (p["state"], p["reason"]) for p in ports}
    exp = {}
    for a in (T4, T6):
        exp[(a, closed, "tcp")] = ("closed", "conn-refused")
        exp[(a, min(TCP_OPEN), "tcp")] = ("open", "syn-ack")
        exp[(a, DNS, "udp")] = ("open", "udp-response")
        exp[(a, closed, "udp")] = ("closed", "port-unreach")
    assert got == exp
    assert summary["complete"] is True and summary["planned"] == 8, summary
    # Only U: ports: a UDP scan.
    scan, ports, _ = records(vigia_scan(lab, vigia, "-o", "ndjson", "-p", f"U:{DNS}", T4, *FAST))
    assert scan["engine"] == "udp" and [(p["port"], p["proto"]) for p in ports] == [(DNS, "udp")]


def test_mixed_port_spec_with_both_kinds(lab, vigia):
    """-sS -sU: ports without a prefix go over both protocols, prefixed
    ones over theirs only."""
    echo = min(ECHO)
    _, ports, _ = records(vigia_scan(lab, vigia, "-sS", "-sU", "-o", "ndjson",
                                     "-p", f"{echo},U:{DNS}", T4, *FAST))
    got = {(p["port"], p["proto"]): (p["state"], p["reason"]) for p in ports}
    assert got == {(echo, "tcp"): ("open", "syn-ack"), (echo, "udp"): ("open", "udp-response"),
                   (DNS, "udp"): ("open", "udp-response")}


def test_mixed_port_spec_text_table(lab, vigia):
    r = vigia_scan(lab, vigia, "-v", "-p", f"T:{min(TCP_OPEN)},U:{DNS},{min(CLOSED)}", T4, *FAST)
    assert r.returncode == 0, r.stderr
    assert "syn+udp scan, 1 host x 1 tcp + 2 udp ports" in r.stdout.splitlines()[0], r.stdout
    assert re.search(rf"^  {min(TCP_OPEN)}/tcp\s+open\s", r.stdout, re.M), r.stdout
    assert re.search(rf"^  {DNS}/udp\s+open\s+domain\s+udp-response", r.stdout, re.M), r.stdout
    assert re.search(rf"^  {min(CLOSED)}/udp\s+closed\s", r.stdout, re.M), r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("Done: 3/3 ports scanned"), r.stdout


@pytest.mark.parametrize("args,want", [
    (["-sT", "-p", "U:53"], "U: ports need a raw UDP scan (-sU)"),
    (["-sS", "-p", "80,U:53"], "U: ports need a UDP scan: add -sU"),
    (["-sU", "-p", "T:80,53"], "T: ports need a TCP scan: add -sS"),
    (["-p", "X:53"], "unknown protocol prefix 'X:'"),
    (["-p", "U:"], "no port after the prefix"),
])
def test_mixed_port_spec_usage_errors(vigia, args, want):
    import subprocess
    r = subprocess.run([vigia, "scan", *args, "127.0.0.1"], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 1 and want in r.stderr, r
    assert len(r.stderr.splitlines()) == 1, r.stderr


def test_mixed_port_spec_unprivileged_is_a_clear_error(vigia):
    """Without root the default is the connect scan, which has no UDP."""
    import subprocess
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", vigia, "scan",
                        "-p", "T:80,U:53", "127.0.0.1"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1, r
    assert "needs root or CAP_NET_RAW" in r.stderr and "U:" in r.stderr, r.stderr


def test_udp_dry_run(vigia):
    import subprocess
    r = subprocess.run([vigia, "scan", "-sU", "--dry-run", "-p", "53,123", "198.18.0.7"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["udp 198.18.0.7 123", "udp 198.18.0.7 53"]
    # Mixed: one line per (address, port, protocol).
    r = subprocess.run([vigia, "scan", "--dry-run", "-p", "T:80,U:53,161", "198.18.0.7"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["tcp-syn 198.18.0.7 80", "udp 198.18.0.7 161",
                                             "udp 198.18.0.7 53"]


# A UDP server on 5353 (mDNS's port, which gets vigia's DNS payload) that
# answers every datagram with "pong": not DNS, but an answer from the
# probed port all the same.
_PONG = """
import socket, sys, select, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
end = time.monotonic() + 120
while time.monotonic() < end:
    r, _, _ = select.select([s, sys.stdin], [], [], 1)
    if sys.stdin in r:
        break
    if s in r:
        data, peer = s.recvfrom(2048)
        s.sendto(b"pong", peer)
"""


@pytest.mark.parametrize("target", [T4, T6])
def test_any_udp_reply_means_open(lab, vigia, target):
    """Any datagram from the probed address and port is open (nmap's rule),
    even when it is not an answer to the protocol payload we sent."""
    import subprocess
    import sys
    p = lab.popen(lab.target, [sys.executable, "-c", _PONG, target, "5353"],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        _, ports, _ = records(vigia_scan(lab, vigia, "-sU", "-o", "ndjson", "-p", "5353",
                                         target, *FAST))
        assert [(q["port"], q["state"], q["reason"], q["tries"]) for q in ports] == \
            [(5353, "open", "udp-response", 1)], ports
    finally:
        p.stdin.close()
        p.wait(10)
