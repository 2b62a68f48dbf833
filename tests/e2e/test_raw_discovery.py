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
    # What limited discovery is said, as for a port scan.
    assert re.search(r"^Path from 198\.18\.0\.1: held ", r.stdout, re.M), r.stdout


def test_ping_only_summary_reports_the_path(lab, vigia):
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "-o", "ndjson", "198.18.0.0/24"], timeout=60)
    assert r.returncode == 0, r.stderr
    summary = [x for x in parse_ndjson(r.stdout) if x["type"] == "summary"][0]
    assert summary["hosts_up"] == 6
    assert summary["tries_policy"] == "adaptive"
    assert summary["max_tries"] >= 1
    (path,) = summary["paths"]
    assert path["source"] == "198.18.0.1" and path["family"] == "ipv4"
    # one discovery round per host at least; six hosts answered
    assert path["sent"] >= 256 and path["answered"] >= 6
    assert path["min_rtt_us"] is not None


def test_ping_only_keeps_to_max_rate_in_packets(lab, vigia):
    """--max-rate caps packets: each discovery round to a host is an echo
    request, a SYN, an ACK and an ARP request on-link, and all of them
    count, not one per host."""
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "--max-rate", "2000", "-o", "ndjson",
                              "198.18.0.0/24"], timeout=60)
    assert r.returncode == 0, r.stderr
    summary = [x for x in parse_ndjson(r.stdout) if x["type"] == "summary"][0]
    assert summary["hosts_up"] == 6
    # at least one round of three packets or more to each of 256 hosts
    assert summary["probes_sent"] >= 3 * 256
    # the bucket's burst (a millisecond's worth, at least 8) and the
    # owed packets of the last round allow a little over the rate
    assert summary["probes_sent"] <= 2000 * summary["elapsed_s"] * 1.1 + 40, summary


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


def test_ping_only_ndjson_host_records(lab, vigia):
    """-sn in NDJSON: a "host" record per live host with what answered,
    the RTT, and on the segment the MAC and its vendor; the summary counts
    hosts."""
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "-q", "-o", "ndjson", "198.18.0.0/24"],
                timeout=60)
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    scan, summary, hosts = recs[0], recs[-1], recs[1:-1]
    assert scan["type"] == "scan" and scan["engine"] == "ping" and scan["n_targets"] == 256
    assert summary["type"] == "summary" and summary["complete"] is True
    assert all(h["type"] == "host" and h["state"] == "up" for h in hosts), hosts
    found = {h["ip"]: (h["state"], h["reason"], h.get("mac"), h.get("vendor")) for h in hosts}
    check(found, UP4, "198.18.0.1")
    for h in hosts:
        assert isinstance(h["rtt_us"], int) and h["rtt_us"] >= 0 and h["tries"] >= 1, h
    assert all("mac" not in h for h in hosts if h["ip"] == "198.18.0.1")
    assert (summary["hosts_up"], summary["hosts_down"]) == (6, 250), summary
    assert summary["planned"] == summary["results"] == 256, summary
    assert "skipped" not in summary


def test_ping_only_text_and_ndjson_file_together(lab, vigia, tmp_path):
    """-sn writes every format at once: the list on stdout, NDJSON to a
    file (opened before privileges are dropped)."""
    out = tmp_path / "hosts.ndjson"
    r = lab.run(lab.scanner, [vigia, "scan", "-sn", "-q", "-o", f"ndjson={out}",
                              "198.18.0.0/28"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert set(hosts(r.stdout)) == set(UP4), r.stdout
    recs = parse_ndjson(out.read_text())
    assert {h["ip"] for h in recs if h["type"] == "host"} == set(UP4)
    assert recs[-1]["hosts_down"] == 10


def test_port_scan_after_discovery_counts_hosts_not_missing_ports(lab, vigia):
    """Ports of hosts found down are skipped, not missing: planned counts
    the live hosts' ports, the summary says how many hosts were down and
    how many pairs that skipped, and the scan is complete."""
    r = vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "-p", "22,80", "198.18.0.0/28",
                   "--max-rtt-timeout", "300ms")
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    summary = recs[-1]
    host_recs = [x for x in recs if x["type"] == "host"]
    ports = [x for x in recs if x["type"] == "port"]
    # Host records first, then ports.
    assert [x["type"] for x in recs[1:1 + len(host_recs)]] == ["host"] * len(host_recs)
    assert {h["ip"] for h in host_recs} == set(UP4)
    assert summary["complete"] is True, summary
    assert summary["planned"] == summary["results"] == len(ports) == 12, summary
    assert summary["skipped"] == 20, summary
    assert (summary["hosts_up"], summary["hosts_down"]) == (6, 10), summary
    # On-link hosts carry their MAC and vendor in every port record, even
    # the ports that did not answer; our own address has none.
    for p in ports:
        if p["ip"] == "198.18.0.1":
            assert "mac" not in p and "vendor" not in p, p
        else:
            assert p["mac"] == MAC and p["vendor"].startswith("Cisco"), p

    r = vigia_scan(lab, vigia, "-sS", "-p", "22,80", "198.18.0.0/28",
                   "--max-rtt-timeout", "300ms")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert re.search(r"^Host discovery: 6 of 16 hosts up; 10 down, not scanned "
                     r"\(20 ports skipped; -Pn scans every host\)$", out, re.M), out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("Done: 12/12 ports scanned"), out
    # Each on-link host's section names its MAC and vendor under the address.
    assert re.search(r"^198\.18\.0\.10\n  MAC 00:00:0c:12:34:56 \(Cisco[^\n]*\)$", out, re.M), out
    assert not re.search(r"^198\.18\.0\.1\n  MAC", out, re.M), out


def test_discovery_with_shards(lab, vigia):
    """Sharded port scans after discovery: each shard is complete, and the
    shards' planned and skipped pairs add up to the whole."""
    planned = skipped = 0
    seen = set()
    for i in range(3):
        r = vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "-p", "22,80", "198.18.0.0/28",
                       "--max-rtt-timeout", "300ms", "--shard", f"{i}/3")
        assert r.returncode == 0, r.stderr
        recs = parse_ndjson(r.stdout)
        s = recs[-1]
        assert s["complete"] is True and s["results"] == s["planned"], s
        planned += s["planned"]
        skipped += s["skipped"]
        seen |= {(p["ip"], p["port"]) for p in recs if p["type"] == "port"}
    assert (planned, skipped) == (12, 20)
    assert {ip for ip, _ in seen} == set(UP4) and len(seen) == 12


def test_no_ping_port_records_carry_the_mac_from_replies(lab, vigia):
    """With -Pn there is no discovery: the MAC comes from the reply frames
    of on-link hosts; silent hosts have none."""
    r = vigia_scan(lab, vigia, "-sS", "-Pn", "-o", "ndjson", "-p", "22", "198.18.0.10",
                   "198.18.0.14", "--max-rtt-timeout", "300ms")
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    assert not [x for x in recs if x["type"] == "host"]
    ports = {p["ip"]: p for p in recs if p["type"] == "port"}
    assert ports["198.18.0.10"]["state"] == "open"
    assert ports["198.18.0.10"]["mac"] == MAC, ports
    assert ports["198.18.0.10"]["vendor"].startswith("Cisco"), ports
    assert "mac" not in ports["198.18.0.14"] and "hosts_up" not in recs[-1]
