# SPDX-License-Identifier: MIT
"""End-to-end tests of the raw UDP engine (-sU) in a namespace pair the
tests create: a real DNS server (dnsmasq) and UDP responders are open, a
port nothing listens on is closed (ICMP port unreachable), a drop rule
makes open|filtered, a reject rule filtered with its reason."""
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
    return recs[0], recs[1:-1], recs[-1]


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
    scan, ports, _ = records(vigia_scan(lab, vigia, "-sS", "-sU", "-o", "ndjson",
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


def test_udp_dry_run(vigia):
    import subprocess
    r = subprocess.run([vigia, "scan", "-sU", "--dry-run", "-p", "53,123", "198.18.0.7"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["udp 198.18.0.7 123", "udp 198.18.0.7 53"]
