# SPDX-License-Identifier: MIT
"""End-to-end tests of host discovery (-sn, and before raw port scans) in a
namespace pair the tests create: a /24 (and a /120) where some addresses
answer everything, some only TCP, some only ARP / neighbour discovery, and
the rest nothing; the live ones must be found exactly, with the MAC and the
vendor from the IEEE registry on the local segment."""
import os
import re

import pytest

import rawlab
from conftest import is_root, parse_ndjson
from rawlab import vigia_scan

pytestmark = pytest.mark.skipif(not is_root(),
                                reason="needs root: creates network namespaces, raw sockets")

MAC = "00:00:0c:12:34:56"      # an OUI of Cisco Systems in the IEEE registry
EXTRA4 = ["198.18.0.10", "198.18.0.11", "198.18.0.12", "198.18.0.13", "198.18.0.14"]
EXTRA6 = ["2001:db8::10", "2001:db8::12"]
# .12 drops ICMP echo (found by TCP), .13 drops all IP (found by ARP), .14
# drops IP and ARP (down); ::12 drops echo and TCP (found by ND).
RULES = """
table inet disc {
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr 198.18.0.12 icmp type echo-request drop
    ip daddr 198.18.0.13 drop
    ip daddr 198.18.0.14 drop
    ip6 daddr 2001:db8::12 icmpv6 type echo-request drop
    ip6 daddr 2001:db8::12 tcp dport { 80, 443 } drop
  }
}
table arp disc {
  chain input {
    type filter hook input priority 0; policy accept;
    arp daddr ip 198.18.0.14 drop
  }
}
"""
UP4 = {"198.18.0.1": None, "198.18.0.2": "echo-reply", "198.18.0.10": "echo-reply",
       "198.18.0.11": "echo-reply", "198.18.0.12": {"conn-refused", "reset", "syn-ack",
                                                    "arp-response"},
       "198.18.0.13": "arp-response"}
UP6 = {"2001:db8::1": None, "2001:db8::2": "echo-reply", "2001:db8::10": None,
       "2001:db8::12": "nd-response"}


@pytest.fixture(scope="module")
def lab():
    lab = rawlab.RawLab("h")
    try:
        dev = lab.veth(lab.target)
        lab.run(lab.target, ["ip", "link", "set", "dev", dev, "address", MAC], check=True)
        lab.add_target_addrs(v4=EXTRA4, v6=EXTRA6)
        lab.listen([("198.18.0.10", 22), ("198.18.0.11", 80), ("2001:db8::10", 22)])
        lab.nft(RULES)
        lab.warm()
        yield lab
    finally:
        lab.close()


def hosts(out):
    """{ip: (state, reason, mac or None, vendor or None)} from -sn output."""
    res = {}
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+(up|down)\s+(\S+)\s+(?:[\d.]+ ms|-)"
                     r"(?:\s+([0-9a-f:]{17}) \((.*)\))?$", line)
        if m:
            res[m.group(1)] = (m.group(2), m.group(3), m.group(4), m.group(5))
    return res


def check(found, expected, mine):
    assert set(found) == set(expected), found
    for ip, want in expected.items():
        state, reason, mac, vendor = found[ip]
        assert state == "up"
        if isinstance(want, set):
            assert reason in want, (ip, reason)
        elif want:
            assert reason == want, (ip, reason)
        if ip == mine:
            assert mac is None, "our own address has no MAC to report"
        else:
            assert mac == MAC, (ip, found[ip])
            assert vendor.startswith("Cisco"), (ip, vendor)


def test_ping_only_ipv4_slash24(lab, vigia):
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "198.18.0.0/24"], timeout=60)
    assert r.returncode == 0, r.stderr
    check(hosts(r.stdout), UP4, "198.18.0.1")
    assert re.search(r"^Done: 6 of 256 hosts up in [\d.]+ s$", r.stdout, re.M), r.stdout


def test_ping_only_ipv6_slash120(lab, vigia):
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "2001:db8::/120"], timeout=60)
    assert r.returncode == 0, r.stderr
    check(hosts(r.stdout), UP6, "2001:db8::1")


def test_ping_only_is_fast_for_dead_hosts(lab, vigia):
    """250 silent addresses cost a few timeouts at the floor, not seconds
    each: the timeout follows the RTT the live hosts showed."""
    import time
    t0 = time.monotonic()
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "198.18.0.0/24"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 2.5


def test_port_scan_skips_dead_hosts(lab, vigia):
    r = vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "-p", "22,80", "198.18.0.0/28",
                   "--max-rtt-timeout", "300ms")
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    ports = [p for p in recs if p["type"] == "port"]
    assert {p["ip"] for p in ports} == {"198.18.0.1", "198.18.0.2", "198.18.0.10",
                                        "198.18.0.11", "198.18.0.12", "198.18.0.13"}
    opened = {(p["ip"], p["port"]) for p in ports if p["state"] == "open"}
    assert opened == {("198.18.0.10", 22), ("198.18.0.11", 80)}
    # -Pn: every address is scanned; the silent ones are filtered.
    r = vigia_scan(lab, vigia, "-sS", "-Pn", "-o", "ndjson", "-p", "22,80", "198.18.0.0/28",
                   "--max-rtt-timeout", "300ms")
    assert r.returncode == 0, r.stderr
    ports = [p for p in parse_ndjson(r.stdout) if p["type"] == "port"]
    assert len(ports) == 32
    assert {p["state"] for p in ports if p["ip"] == "198.18.0.14"} == {"filtered"}


def test_ping_only_usage(lab, vigia):
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "-sS", "198.18.0.2"], timeout=20)
    assert r.returncode == 1 and "ping-only" in r.stderr, r


def test_oui_registry_is_read_at_run_time():
    """The vendor table is Debian's ieee-data, not a copy in the tree."""
    assert os.path.exists("/usr/share/ieee-data/oui.txt")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for dirpath, _, files in os.walk(os.path.join(root, "lib")):
        for f in files:
            with open(os.path.join(dirpath, f), errors="replace") as fh:
                assert "Cisco Systems" not in fh.read(), f"a vendor table in {f}?"
