# SPDX-License-Identifier: MIT
"""Host discovery under random loss, end to end: in the WAN lab's
widelossy scenario (tests/e2e/wanlab.py: a /16 behind the relay with
25 ms each way and 2 % random loss each way; the truth files name the
hosts with port 80 open and those that reset it and answer ping; every
other host drops everything) discovery must find every live host, so that
a scan with discovery first finds exactly what a -Pn scan finds. Asserts
exact sets, never timings. Needs root (namespaces, TAP devices, raw
sockets)."""
import ipaddress
import os

import pytest

from conftest import parse_ndjson
import wanlab

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (namespaces, TAP devices, raw sockets)")

NET = "198.19.8.0/22"          # 1024 targets inside the lab's wide /16


@pytest.fixture(scope="module")
def lab():
    with wanlab.WanLab("widelossy", ports="1-100", n_open=5, n_filtered=5, seed=5) as lab:
        yield lab


def _truth(lab):
    net = ipaddress.ip_network(NET)
    open_ = {a for a in lab.open_hosts if ipaddress.ip_address(a) in net}
    rst = {a for a in lab.rst_hosts if ipaddress.ip_address(a) in net}
    assert len(open_) >= 5 and len(rst) >= 20, (len(open_), len(rst))
    return open_, rst


def _run(lab, vigia, *args):
    r = lab.run(lab.scanner, [vigia, "scan", "-q", *args, NET, "-o", "ndjson"], timeout=180)
    assert r.returncode == 0, r.stderr
    return parse_ndjson(r.stdout)


def _port80(recs):
    ports = [x for x in recs if x["type"] == "port" and x["port"] == 80]
    return ({p["ip"] for p in ports if p["state"] == "open"},
            {p["ip"] for p in ports if p["state"] == "closed"},
            {p["ip"] for p in ports if p["state"] == "filtered"})


def test_ping_scan_finds_every_live_host(lab, vigia):
    open_, rst = _truth(lab)
    recs = _run(lab, vigia, "-sn")
    up = {h["ip"] for h in recs if h["type"] == "host" and h["state"] == "up"}
    missing, extra = (open_ | rst) - up, up - (open_ | rst)
    assert not missing and not extra, (sorted(missing), sorted(extra))
    summary = recs[-1]
    assert summary["type"] == "summary" and summary["complete"] is True, summary


def test_discovery_first_finds_what_no_ping_finds(lab, vigia):
    open_, rst = _truth(lab)
    # Five ports per host: more than discovery costs, so discovery runs first.
    first = _port80(_run(lab, vigia, "--syn", "-p", "80-84"))
    nopn = _port80(_run(lab, vigia, "--syn", "-Pn", "-p", "80"))
    assert first[0] == open_, (sorted(open_ - first[0]), sorted(first[0] - open_))
    assert first[1] == rst, (sorted(rst - first[1]), sorted(first[1] - rst))
    assert not first[2], sorted(first[2])   # down hosts are not port-scanned
    assert nopn[0] == open_, (sorted(open_ - nopn[0]), sorted(nopn[0] - open_))
    assert nopn[1] == rst, (sorted(rst - nopn[1]), sorted(nopn[1] - rst))
    assert len(nopn[2]) == 1024 - len(open_) - len(rst)
