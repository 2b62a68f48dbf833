# SPDX-License-Identifier: MIT
"""What the scan says about the path (the summary's `paths`, and the text
line), over emulated links (tests/e2e/wanlab.py): random loss is named
random and never lowers the rate; a packets-per-second cap is named
congestion and the rate ends near it; a target that rate-limits its RSTs is
detected, named with its rate, and either waited out (exact closed ports)
or, with --defeat-rst-ratelimit, its silent ports are closed|filtered.
States are asserted exactly; timings never. Needs root."""
import json
import os

import pytest

from conftest import parse_ndjson
import wanlab

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (namespaces, TAP devices, raw sockets)")

PORTS = "1-4000"


def scan(lab, vigia, *args, timeout=150, ports=PORTS):
    r = lab.run(lab.scanner, [vigia, "scan", "-q", "-Pn", "-p", ports, wanlab.TARGET_V4,
                              "-o", "ndjson=-", *args], timeout=timeout)
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    ports = {p["port"]: p["state"] for p in recs if p["type"] == "port"}
    lab.last_records = {p["port"]: p for p in recs if p["type"] == "port"}
    lab.last_summary = recs[-1]
    return recs[0], ports, recs[-1]


def mismatches(lab, ports, allow=None):
    """Ports whose state differs from the truth (counted by kind); allow
    maps a true state to another state that is also accepted."""
    bad = {}
    evidence = []
    for port, want in lab.expected().items():
        have = ports.get(port)
        if have != want and (allow or {}).get(want) != have:
            key = f"{want}->{have}"
            bad[key] = bad.get(key, 0) + 1
            evidence.append(getattr(lab, "last_records", {}).get(port, port))
    if bad:
        # The wrong ports' own records and the path, for the failure message.
        bad["evidence"] = {"ports": evidence[:5],
                           "summary": {k: getattr(lab, "last_summary", {}).get(k)
                                       for k in ("max_tries", "tries_policy", "paths")}}
    return bad


@pytest.fixture(scope="module")
def loss5():
    with wanlab.WanLab("loss5", ports=PORTS, n_open=40, n_filtered=150, seed=5) as lab:
        yield lab


@pytest.mark.parametrize("engine", ["--syn", "--connect"])
def test_random_loss_is_named_random_and_keeps_the_rate(loss5, vigia, engine):
    # Well below the relay's own ceiling (and our own receive path's, on a
    # busy machine), so that only the random loss is left.
    head, ports, summary = scan(loss5, vigia, engine, "--max-rate", "10000")
    assert not mismatches(loss5, ports)
    assert head["tries_policy"] == "adaptive" and head["retries"] is None
    assert summary["tries_policy"] == "adaptive"
    [path] = summary["paths"]
    assert path["loss_kind"] == "random", json.dumps(path)
    assert path["rate_cuts"] == 0, json.dumps(path)
    # 5 % each way is 9.75 % per try; the estimate is near it.
    assert 0.04 <= path["loss"] <= 0.2, json.dumps(path)
    assert summary["max_tries"] >= 3, summary


def test_fixed_retries_say_so(loss5, vigia):
    head, _, summary = scan(loss5, vigia, "--syn", "--retries", "1", "--max-rate", "20000")
    assert head["tries_policy"] == "fixed" and head["retries"] == 1
    assert summary["max_tries"] <= 2


# Enough ports that the scan outgrows the cap: startup doubles from 4,000
# probes/s and would finish a few thousand ports before it met the cap.
CAP_PORTS = "1-30000"


@pytest.fixture(scope="module")
def cap():
    with wanlab.WanLab("cap50k", ports=CAP_PORTS, n_open=60, n_filtered=200, seed=6) as lab:
        yield lab


@pytest.mark.parametrize("engine", ["--syn", "--connect"])
def test_cap_is_named_congestion(cap, vigia, engine):
    _, ports, summary = scan(cap, vigia, engine, ports=CAP_PORTS)
    assert not mismatches(cap, ports)
    [path] = summary["paths"]
    assert path["loss_kind"] == "congestive" and path["rate_cuts"] >= 1, path
    assert path["min_rtt_us"] >= 10000, path   # 10 ms each way


def test_text_summary_names_the_path(cap, vigia):
    r = cap.run(cap.scanner, [vigia, "scan", "-q", "--syn", "-Pn", "-p", CAP_PORTS,
                              wanlab.TARGET_V4], timeout=150)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("Path from 198.18.0.1:")]
    assert len(lines) == 1, r.stdout
    assert "congestion" in lines[0] and "RTT" in lines[0], lines[0]


# The limit is found over windows of 100 ms in which our rate varies: the
# scan must last a few of them (4,000 ports at full speed would not).
RST_PORTS = "1-12000"


@pytest.fixture(scope="module")
def rstlimit():
    with wanlab.WanLab("rstlimit", ports=RST_PORTS, n_open=40, n_filtered=150, seed=7) as lab:
        yield lab


def test_rst_limit_is_waited_out(rstlimit, vigia):
    _, ports, summary = scan(rstlimit, vigia, "--syn", timeout=300, ports=RST_PORTS)
    assert not mismatches(rstlimit, ports)
    [path] = summary["paths"]
    assert 700 <= (path["rst_rate_limit_pps"] or 0) <= 1300, path


def test_defeat_rst_ratelimit(rstlimit, vigia):
    _, ports, summary = scan(rstlimit, vigia, "--syn", "--defeat-rst-ratelimit", ports=RST_PORTS)
    # Open ports exact; what stayed silent (closed ports the limit held
    # back, and the dropped ones: no way to tell them apart without
    # waiting) is closed|filtered, never open.
    assert not mismatches(rstlimit, ports, allow={"closed": "closed|filtered",
                                                  "filtered": "closed|filtered"})
    assert any(s == "closed|filtered" for s in ports.values())
    [path] = summary["paths"]
    assert 700 <= (path["rst_rate_limit_pps"] or 0) <= 1300, path


def test_rst_limit_found_at_a_flat_rate(rstlimit, vigia):
    # --min-rate far above what the limit allows: the scan sends as fast as
    # it can from the first window on, so its own rate never varies and
    # only the detector's rate test tells the limit from a share of ports
    # that answer. The sweeps keep the floor asked for, so they cannot wait
    # the limit out: the ports it kept silent are closed|filtered, never
    # filtered, and the open ones exact.
    _, ports, summary = scan(rstlimit, vigia, "--syn", "--min-rate", "150000", ports=RST_PORTS)
    assert not mismatches(rstlimit, ports, allow={"closed": "closed|filtered",
                                                  "filtered": "closed|filtered"})
    assert any(s == "closed|filtered" for s in ports.values())
    [path] = summary["paths"]
    assert 700 <= (path["rst_rate_limit_pps"] or 0) <= 1300, path
