# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check icmp://`: echo to 127.0.0.1 and ::1,
and, in a namespace pair this test creates (TEST-NET addresses, no route
out), a target that ignores echo requests, one that drops every other
request (loss thresholds), one behind a 30 ms delay (RTT thresholds), and
the unprivileged ping-socket path (ping_group_range set in the namespace)."""
import pytest

from check_servers import run_check
from conftest import is_root

import netns

T4, T6 = netns.TARGET_V4, netns.TARGET_V6


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


def in_ns(pair, vigia, *args):
    import json
    r = pair.run(pair.scanner, [vigia, "check", "-o", "ndjson", *args], timeout=60)
    recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    recs = [x for x in recs if x["type"] == "check"]
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


def sysctl(pair, ns, key, value):
    r = pair.run(ns, ["sysctl", "-q", "-w", f"{key}={value}"])
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_loopback_echo(vigia, host):
    target = f"icmp://[{host}]" if ":" in host else f"icmp://{host}"
    r, rec = one(vigia, target, "--count", "3", "--ping-interval", "20ms")
    assert r.returncode == 0, rec["message"]
    ic = rec["icmp"]
    assert ic["sent"] == 3 and ic["received"] == 3 and ic["loss_pct"] == 0
    assert 0 < ic["rtt_min_us"] <= ic["rtt_avg_us"] <= ic["rtt_max_us"]
    assert rec["phases_us"]["total"] == ic["rtt_avg_us"]
    assert rec["ip"] == host and rec["port"] == 0
    r, _, _ = run_check(vigia, target, "--count", "2", "--ping-interval", "10ms")
    assert r.stdout.startswith("ICMP OK - ")
    assert " rta=" in r.stdout and " pl=0%;" in r.stdout


def test_localhost_name(vigia):
    r, rec = one(vigia, "-4", "icmp://localhost", "--count", "1")
    assert r.returncode == 0 and rec["ip"] == "127.0.0.1"


def test_usage_errors(vigia):
    for args in (["icmp://127.0.0.1:7"], ["icmp://127.0.0.1", "--count", "0"],
                 ["icmp://127.0.0.1", "--count", "101"], ["icmp://127.0.0.1", "--warn-loss", "101"],
                 ["icmp://127.0.0.1", "--send", "x"], ["icmp://127.0.0.1", "--ping-interval", "1ms"]):
        r, _, _ = run_check(vigia, *args)
        assert r.returncode == 3, args


@pytest.fixture
def pair():
    if not is_root():
        pytest.skip("network namespaces need root")
    p = netns.NetnsPair("i")
    yield p
    p.close()


def test_namespace_echo_and_ignored(vigia, pair):
    r, rec = in_ns(pair, vigia, f"icmp://{T4}", "--count", "3", "--ping-interval", "20ms")
    assert r.returncode == 0, rec["message"]
    assert rec["icmp"]["socket"] == "raw"      # ping_group_range is "1 0" by default
    sysctl(pair, pair.target, "net.ipv4.icmp_echo_ignore_all", "1")
    r, rec = in_ns(pair, vigia, f"icmp://{T4}", "--count", "3", "--ping-interval", "20ms")
    assert r.returncode == 2 and rec["reason"] == "packet-loss"
    assert rec["icmp"]["received"] == 0 and rec["icmp"]["loss_pct"] == 100
    assert "not reachable" in rec["message"]
    # the tail wait after the last request is bounded: no 10 s timeout
    assert rec["elapsed_us"] < 3_000_000


def test_namespace_ping_socket(vigia, pair):
    sysctl(pair, pair.scanner, "net.ipv4.ping_group_range", "0 2147483647")
    for target in (f"icmp://{T4}", f"icmp://[{T6}]"):
        r, rec = in_ns(pair, vigia, target, "--count", "2", "--ping-interval", "20ms")
        assert r.returncode == 0, rec["message"]
        assert rec["icmp"]["socket"] == "ping" and rec["icmp"]["received"] == 2


def test_namespace_partial_loss_thresholds(vigia, pair):
    # Every other echo request is dropped: 50% loss over 4 requests.
    pair.nft("""
table inet vgloss {
  chain input {
    type filter hook input priority 0; policy accept;
    icmp type echo-request numgen inc mod 2 == 1 drop
  }
}
""")
    base = [f"icmp://{T4}", "--count", "4", "--ping-interval", "20ms"]
    r, rec = in_ns(pair, vigia, *base)
    assert r.returncode == 0 and rec["icmp"]["loss_pct"] == 50, rec["message"]
    r, rec = in_ns(pair, vigia, *base, "--warn-loss", "20%")
    assert r.returncode == 1 and rec["reason"] == "packet-loss"
    r, rec = in_ns(pair, vigia, *base, "--warn-loss", "20", "--crit-loss", "40")
    assert r.returncode == 2 and rec["reason"] == "packet-loss"
    assert "50% packet loss" in rec["message"]


def test_namespace_rtt_thresholds(vigia, pair):
    dev = [x for x in pair.run(pair.target, ["ip", "-o", "link"]).stdout.split("\n") if "vt" in x]
    name = dev[0].split(":")[1].strip().split("@")[0]
    r = pair.run(pair.target, ["tc", "qdisc", "add", "dev", name, "root", "netem", "delay", "30ms"])
    if r.returncode != 0:
        pytest.skip("netem is not available: " + r.stderr)
    base = [f"icmp://{T4}", "--count", "2", "--ping-interval", "20ms"]
    r, rec = in_ns(pair, vigia, *base)
    assert r.returncode == 0 and rec["icmp"]["rtt_avg_us"] >= 25000
    r, rec = in_ns(pair, vigia, *base, "--warn", "10ms")
    assert r.returncode == 1 and rec["reason"] == "slow-total"
    r, rec = in_ns(pair, vigia, *base, "--warn", "10ms", "--crit", "20ms")
    assert r.returncode == 2 and rec["reason"] == "slow-total"
