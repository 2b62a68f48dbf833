# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check dns://`: dnsmasq on a test port serving
test records (A, AAAA, MX, TXT, CNAME, NXDOMAIN), and a fake DNS server
for what dnsmasq will not do: slow answers, SERVFAIL/REFUSED, the AA bit,
truncation (TCP fallback), and hostile answers (compression loops, forward
pointers, cut records, short packets, control characters)."""
import json
import time

import pytest

from check6_servers import DNSMASQ, Dnsmasq, FakeDns
from check_servers import have, run_check
from conftest import free_port


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.fixture(scope="module")
def dnsmasq():
    if not have(DNSMASQ):
        pytest.skip("dnsmasq is not installed (scripts/deps.d/check6.txt: dnsmasq-base)")
    d = Dnsmasq([
        "--local=/vg.test/",
        "--host-record=www.vg.test,192.0.2.10,2001:db8::10",
        "--host-record=multi.vg.test,192.0.2.20",
        "--host-record=multi.vg.test,192.0.2.21",
        "--address=/nx.vg.test/",
        "--txt-record=txt.vg.test,hello world",
        "--mx-host=vg.test,mail.vg.test,10",
        "--cname=alias.vg.test,www.vg.test",
    ])
    yield d
    d.close()


@pytest.fixture(scope="module")
def fakedns():
    f = FakeDns(slow=3.0)
    yield f
    f.close()


def dns(server, name, qtype=None):
    return f"dns://127.0.0.1:{server.port}/{name}" + (f"?type={qtype}" if qtype else "")


@pytest.mark.parametrize("name,qtype,answer", [
    ("www.vg.test", None, "192.0.2.10"),
    ("www.vg.test", "AAAA", "2001:db8::10"),
    ("txt.vg.test", "TXT", "hello world"),
    ("vg.test", "MX", "10 mail.vg.test."),
    ("alias.vg.test", "CNAME", "www.vg.test."),
])
def test_dnsmasq_records(vigia, dnsmasq, name, qtype, answer):
    r, rec = one(vigia, dns(dnsmasq, name, qtype))
    assert r.returncode == 0, r.stdout
    assert rec["kind"] == "dns" and rec["state"] == "ok"
    assert rec["dns"]["rcode"] == "NOERROR"
    assert rec["dns"]["answers"] == [answer]
    assert rec["phases_us"]["firstbyte"] is not None
    # the value itself is a valid expectation, as is the MX target alone
    want = answer.split(" ")[-1].rstrip(".") if qtype == "MX" else answer
    r, rec = one(vigia, dns(dnsmasq, name, qtype), "--expect-answer", want)
    assert rec["state"] == "ok", rec["message"]


def test_expect_answer_cidr_any_and_all(vigia, dnsmasq):
    t = dns(dnsmasq, "multi.vg.test")
    r, rec = one(vigia, t, "--expect-answer", "192.0.2.20/31")
    assert rec["state"] == "ok" and sorted(rec["dns"]["answers"]) == ["192.0.2.20", "192.0.2.21"]
    r, rec = one(vigia, t, "--expect-answer", "192.0.2.21,198.51.100.1")
    assert rec["state"] == "ok"          # any one is enough by default
    r, rec = one(vigia, t, "--expect-answer", "192.0.2.21,198.51.100.1", "--expect-all")
    assert r.returncode == 2 and rec["reason"] == "answer-mismatch"
    r, rec = one(vigia, t, "--expect-answer", "192.0.2.20", "--expect-answer", "192.0.2.21", "--expect-all")
    assert rec["state"] == "ok"
    r, rec = one(vigia, t, "--expect-answer", "198.19.0.0/16")
    assert r.returncode == 2 and rec["reason"] == "answer-mismatch"
    assert "none of the 1 expected" in rec["message"]


def test_nxdomain_and_expect_rcode(vigia, dnsmasq):
    for name in ("nope.vg.test", "nx.vg.test"):
        r, rec = one(vigia, dns(dnsmasq, name))
        assert r.returncode == 2 and rec["reason"] == "dns-nxdomain"
        assert rec["dns"]["rcode"] == "NXDOMAIN"
        r, rec = one(vigia, dns(dnsmasq, name), "--expect-rcode", "NXDOMAIN")
        assert r.returncode == 0 and rec["state"] == "ok", rec["message"]
    r, rec = one(vigia, dns(dnsmasq, "www.vg.test"), "--expect-rcode", "nxdomain")
    assert r.returncode == 2 and rec["reason"] == "rcode-mismatch"


def test_nodata_is_answer_mismatch(vigia, dnsmasq):
    r, rec = one(vigia, dns(dnsmasq, "multi.vg.test", "AAAA"))
    assert r.returncode == 2 and rec["reason"] == "answer-mismatch"
    assert "NODATA" in rec["message"]


def test_servfail_refused_authoritative(vigia, fakedns):
    r, rec = one(vigia, dns(fakedns, "servfail.test"))
    assert r.returncode == 2 and rec["reason"] == "dns-servfail"
    r, rec = one(vigia, dns(fakedns, "refused.test"))
    assert r.returncode == 2 and rec["reason"] == "dns-error" and "REFUSED" in rec["message"]
    r, rec = one(vigia, dns(fakedns, "refused.test"), "--expect-rcode", "REFUSED,SERVFAIL")
    assert r.returncode == 0
    r, rec = one(vigia, dns(fakedns, "aa.test"), "--expect-authoritative")
    assert r.returncode == 0 and rec["dns"]["authoritative"] is True
    r, rec = one(vigia, dns(fakedns, "many.test"), "--expect-authoritative")
    assert r.returncode == 2 and rec["reason"] == "not-authoritative"


def test_slow_answer_times_out(vigia, fakedns):
    t0 = time.monotonic()
    r, rec = one(vigia, dns(fakedns, "slow.test"), "--timeout", "1s")
    assert time.monotonic() - t0 < 2.5
    assert r.returncode == 2 and rec["reason"] == "dns-timeout"
    # with time enough the same answer passes, and --warn judges it
    r, rec = one(vigia, dns(fakedns, "slow.test"), "--timeout", "8s", "--warn", "1s")
    assert r.returncode == 1 and rec["reason"] == "slow-total", rec["message"]
    assert rec["dns"]["answers"] == ["192.0.2.1"]


def test_truncated_udp_falls_back_to_tcp(vigia, fakedns):
    before = fakedns.tcp_queries
    r, rec = one(vigia, dns(fakedns, "tc.test", "TXT"))
    assert r.returncode == 0, rec["message"]
    assert sorted(rec["dns"]["answers"]) == ["one", "three", "two"]
    assert fakedns.tcp_queries > before


def test_many_answers_are_capped(vigia, fakedns):
    r, rec = one(vigia, dns(fakedns, "many.test"), "--expect-answer", "192.0.2.40")
    assert r.returncode == 0
    assert rec["dns"]["answer_count"] == 40 and len(rec["dns"]["answers"]) == 8


@pytest.mark.parametrize("name,reason", [
    ("loop.test", "protocol-error"),
    ("fwdptr.test", "protocol-error"),
    ("cut.test", "protocol-error"),
    ("short.test", "dns-timeout"),   # shorter than a header: not an answer at all
])
def test_hostile_answers(vigia, fakedns, name, reason):
    r, rec = one(vigia, dns(fakedns, name), "--timeout", "1500ms")
    assert r.returncode == 2 and rec["reason"] == reason, rec["message"]


def test_control_characters_escaped(vigia, fakedns):
    r, rec = one(vigia, dns(fakedns, "weird.test", "TXT"))
    assert r.returncode == 0
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert rec["dns"]["answers"] == ["evil\\027[31mred\\007\\000end"]
    r, _, _ = run_check(vigia, dns(fakedns, "weird.test", "TXT"))
    assert "\x1b" not in r.stdout and r.stdout.startswith("DNS OK - ")


def test_refused_port(vigia):
    r, rec = one(vigia, f"dns://127.0.0.1:{free_port()}/x.test", "--timeout", "2s")
    assert r.returncode == 2 and rec["reason"] in ("conn-refused", "dns-timeout"), rec["message"]


def test_spec_errors(vigia):
    for spec in ("dns://127.0.0.1", "dns://127.0.0.1/x.test?type=BOGUS", "dns://127.0.0.1/bad name",
                 "dns://127.0.0.1/a..b"):
        r, _, _ = run_check(vigia, spec)
        assert r.returncode == 3, spec
    r, _, _ = run_check(vigia, "dns://127.0.0.1/x.test", "--expect-rcode", "BOGUS")
    assert r.returncode == 3
    r, _, _ = run_check(vigia, "dns://127.0.0.1/x.test", "--expect", "x")
    assert r.returncode == 3
