# SPDX-License-Identifier: MIT
"""Proof of life from port answers, end to end: a raw scan of at most 4
ports over 256 or more off-link targets skips host discovery (it would
cost as many probes as the scan) and lets the ports' answers say which
hosts are up. In the WAN lab's wide scenario (tests/e2e/wanlab.py: a /16
routed behind the relay, where the truth files name the hosts with port 80
open and those that reset it; every other port and host is silent) the
hosts found up and the ports found must be exactly the lab's truth, each
live host's record must come just before its first answered port, and the
summary must count the silent hosts as down and their ports as skipped.
Needs root (namespaces, TAP devices, raw sockets)."""
import ipaddress
import os
import re

import pytest

from conftest import parse_ndjson
import wanlab

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (namespaces, TAP devices, raw sockets)")

NET = "198.19.4.0/22"          # 1024 targets inside the lab's wide /16
PORTS = "80,81"                # 80 answers (open or reset) on live hosts, 81 never


@pytest.fixture(scope="module")
def lab():
    with wanlab.WanLab("wide", ports="1-100", n_open=5, n_filtered=5, seed=4) as lab:
        yield lab


def _truth(lab):
    net = ipaddress.ip_network(NET)
    open_ = {a for a in lab.open_hosts if ipaddress.ip_address(a) in net}
    rst = {a for a in lab.rst_hosts if ipaddress.ip_address(a) in net}
    return open_, rst


def _scan(lab, vigia, *args):
    return lab.run(lab.scanner, [vigia, "scan", "-q", "-sS", "-p", PORTS, NET,
                                 "--max-rtt-timeout", "300ms", *args], timeout=120)


def test_port_answers_find_the_live_hosts(lab, vigia):
    open_, rst = _truth(lab)
    # The seeded lab has both kinds of live host in this /22, and silent ones.
    assert len(open_) >= 5 and len(rst) >= 20, (len(open_), len(rst))
    up = open_ | rst
    r = _scan(lab, vigia, "-o", "ndjson")
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    scan, summary = recs[0], recs[-1]
    assert scan["type"] == "scan" and scan["n_targets"] == 1024, scan
    hosts = [x for x in recs if x["type"] == "host"]
    ports = [x for x in recs if x["type"] == "port"]

    # One host record per live host, none for the silent ones; what
    # answered is port 80's answer.
    assert [h["ip"] for h in hosts if h["ip"] in up] == [h["ip"] for h in hosts]
    assert {h["ip"] for h in hosts} == up
    assert len(hosts) == len(up)
    for h in hosts:
        assert h["state"] == "up", h
        want = {"syn-ack"} if h["ip"] in open_ else {"reset", "conn-refused"}
        assert h["reason"] in want, h
        assert h["rtt_us"] >= 0, h

    # Ports of the live hosts only, each exactly once, as the truth says.
    got = {(p["ip"], p["port"]): p["state"] for p in ports}
    assert len(got) == len(ports)
    want = {}
    for a in up:
        want[(a, 80)] = "open" if a in open_ else "closed"
        want[(a, 81)] = "filtered"
    assert got == want

    # A host's record comes just before its first answered port.
    for i, rec in enumerate(recs):
        if rec["type"] == "host":
            nxt = recs[i + 1]
            assert nxt["type"] == "port" and nxt["ip"] == rec["ip"], (rec, nxt)
            assert nxt["port"] == 80 and nxt["state"] in ("open", "closed"), nxt
            earlier = [p for p in recs[:i] if p["type"] == "port" and p["ip"] == rec["ip"]]
            assert not earlier, earlier

    # The silent hosts are down and their ports skipped, not missing.
    down = 1024 - len(up)
    assert summary["type"] == "summary" and summary["complete"] is True, summary
    assert (summary["hosts_up"], summary["hosts_down"]) == (len(up), down), summary
    assert summary["skipped"] == 2 * down, summary
    assert summary["planned"] == summary["results"] == len(ports) == 2 * len(up), summary
    assert (summary["open"], summary["closed"], summary["filtered"]) == \
        (len(open_), len(rst), len(up)), summary


def test_text_report_says_how_many_hosts_were_up(lab, vigia):
    open_, rst = _truth(lab)
    up = open_ | rst
    r = _scan(lab, vigia)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # A section per live host and none for the silent ones; each says how
    # its two ports went.
    sections = re.findall(r"^(198\.19\.\d+\.\d+)\n(?:  PORT .*\n  80/tcp .*\n)?  (.*)$", out, re.M)
    assert {a for a, _ in sections} == up and len(sections) == len(up), out
    for a, counts in sections:
        want = "1 open, 0 closed" if a in open_ else "0 open, 1 closed"
        assert counts == f"{want}, 1 filtered (-v lists them)", (a, counts)
    down = 1024 - len(up)
    assert re.search(rf"^Host discovery: {len(up)} of 1024 hosts up; {down} down, not scanned "
                     rf"\({2 * down} ports skipped; -Pn scans every host\)$", out, re.M), out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith(f"Done: {2 * len(up)}/{2 * len(up)} ports scanned"), out
    assert last.endswith(f": {len(open_)} open, {len(rst)} closed, {len(up)} filtered"), out


def test_no_ping_scans_every_host(lab, vigia):
    """-Pn: no proof of life is asked for; every host's ports are reported,
    and no host records or skipped ports."""
    open_, rst = _truth(lab)
    r = _scan(lab, vigia, "-Pn", "-o", "ndjson")
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    assert not [x for x in recs if x["type"] == "host"]
    ports = [x for x in recs if x["type"] == "port"]
    assert len(ports) == 2048
    assert {p["ip"] for p in ports if p["state"] == "open"} == open_
    assert {p["ip"] for p in ports if p["state"] == "closed"} == rst
    summary = recs[-1]
    assert "skipped" not in summary and "hosts_up" not in summary, summary
