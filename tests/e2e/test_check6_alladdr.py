# SPDX-License-Identifier: MIT
"""End-to-end tests of --all-addresses / --policy: names served by a
dnsmasq this test starts (used through --dns-servers, never the system
resolver) with several loopback addresses, a listener on only some of
them, and the per-address report in the record."""
import socket

import pytest

from check6_servers import DNSMASQ, Dnsmasq
from check_servers import have, run_check


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.fixture(scope="module")
def dns():
    if not have(DNSMASQ):
        pytest.skip("dnsmasq is not installed (scripts/deps.d/check6.txt: dnsmasq-base)")
    d = Dnsmasq(["--local=/vg.test/",
                 "--host-record=both.vg.test,127.0.0.1,::1",
                 "--host-record=three.vg.test,127.0.0.1",
                 "--host-record=three.vg.test,127.0.0.2",
                 "--host-record=three.vg.test,127.0.0.3"])
    yield d
    d.close()


@pytest.fixture
def v4_listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


def test_all_policy_reports_each_address(vigia, dns, v4_listener):
    srv = f"127.0.0.1:{dns.port}"
    r, rec = one(vigia, "--dns-servers", srv, f"tcp://both.vg.test:{v4_listener}", "--all-addresses")
    assert r.returncode == 2 and rec["reason"] == "conn-refused", rec["message"]
    by_ip = {a["ip"]: a for a in rec["addresses"]}
    assert set(by_ip) == {"127.0.0.1", "::1"}
    assert by_ip["127.0.0.1"]["state"] == "ok" and by_ip["::1"]["reason"] == "conn-refused"
    assert "1 of 2 addresses passed (policy all)" in rec["message"]
    # without --all-addresses the refused ::1 falls back to 127.0.0.1
    r, rec = one(vigia, "--dns-servers", srv, f"tcp://both.vg.test:{v4_listener}")
    assert r.returncode == 0 and "addresses" not in rec


def test_any_policy(vigia, dns, v4_listener):
    srv = f"127.0.0.1:{dns.port}"
    r, rec = one(vigia, "--dns-servers", srv, f"tcp://three.vg.test:{v4_listener}", "--all-addresses",
                 "--policy", "any")
    assert r.returncode == 0, rec["message"]
    assert len(rec["addresses"]) == 3
    assert sorted(a["state"] for a in rec["addresses"]) == ["critical", "critical", "ok"]
    r, rec = one(vigia, "--dns-servers", srv, f"tcp://three.vg.test:{v4_listener}", "--all-addresses")
    assert r.returncode == 2 and rec["reasons"] == ["conn-refused", "conn-refused"]


def test_icmp_every_address(vigia, dns):
    r, rec = one(vigia, "--dns-servers", f"127.0.0.1:{dns.port}", "icmp://three.vg.test", "--all-addresses",
                 "--count", "1")
    assert r.returncode == 0, rec["message"]
    assert [a["ip"] for a in sorted(rec["addresses"], key=lambda a: a["ip"])] == \
        ["127.0.0.1", "127.0.0.2", "127.0.0.3"]


def test_usage(vigia):
    r, _, _ = run_check(vigia, "--all-addresses", "http://127.0.0.1:1/")
    assert r.returncode == 3
    r, _, _ = run_check(vigia, "--policy", "some", "tcp://127.0.0.1:1")
    assert r.returncode == 3
