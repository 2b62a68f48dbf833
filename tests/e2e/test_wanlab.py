# SPDX-License-Identifier: MIT
"""The WAN lab itself (tests/e2e/wanlab.py): the target answers as its truth
files say, over the relay, for ports and for the wide /16; the scenarios of
bench/lab/scenarios.tsv build; the lab leaves nothing behind. Needs root."""
import os
import sys
import textwrap

import pytest

import netns
import wanlab

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, TAP devices)")

# Connects to each "addr,port" given; prints one state per line: open
# (connected), closed (refused) or filtered (no answer within 1 s).
_PROBE = textwrap.dedent("""
    import socket, sys
    for spec in sys.argv[1:]:
        addr, port = spec.rsplit(",", 1)
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.settimeout(1.0)
        try:
            s.connect((addr, int(port)))
            print("open")
        except ConnectionRefusedError:
            print("closed")
        except (socket.timeout, OSError):
            print("filtered")
        finally:
            s.close()
""")


def _probe(lab, specs):
    r = lab.run(lab.scanner, [sys.executable, "-c", _PROBE, *specs], timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_ports_answer_as_the_truth_says():
    with wanlab.WanLab("clean", ports="1-2000", n_open=20, n_filtered=30, seed=5) as lab:
        assert {22, 53, 80, 443} <= lab.open_ports
        assert len(lab.open_ports) == 20 and len(lab.filtered_ports) == 30
        assert not lab.open_ports & lab.filtered_ports
        with open(os.path.join(lab.workdir, "open.truth")) as f:
            assert {int(x) for x in f.read().split()} == lab.open_ports
        o, c, f = sorted(lab.open_ports)[:4], sorted(lab.closed_ports)[:4], sorted(lab.filtered_ports)[:4]
        for addr in (wanlab.TARGET_V4, wanlab.TARGET_V6):
            got = _probe(lab, [f"{addr},{p}" for p in o + c + f])
            assert got == ["open"] * 4 + ["closed"] * 4 + ["filtered"] * 4, (addr, got)


def test_same_seed_same_truth():
    with wanlab.WanLab("veth", ports="1-3000", n_open=30, n_filtered=50, seed=9) as a, \
            wanlab.WanLab("veth", ports="1-3000", n_open=30, n_filtered=50, seed=9) as b:
        assert a.open_ports == b.open_ports and a.filtered_ports == b.filtered_ports
    with wanlab.WanLab("veth", ports="1-3000", n_open=30, n_filtered=50, seed=10) as c:
        assert c.open_ports != a.open_ports


def test_wide_hosts_answer_as_the_truth_says():
    with wanlab.WanLab("wide", ports="1-100", n_open=5, n_filtered=5) as lab:
        assert len(lab.open_hosts) == 2000 and len(lab.rst_hosts) == 10000
        assert not set(lab.open_hosts) & set(lab.rst_hosts)
        quiet = [a for a in (f"198.19.{i}.{j}" for i in (7, 99, 200) for j in (3, 77))
                 if a not in lab.open_hosts and a not in lab.rst_hosts][:3]
        specs = ([f"{a},80" for a in lab.open_hosts[:3]] + [f"{a},80" for a in lab.rst_hosts[:3]]
                 + [f"{a},80" for a in quiet] + [f"{lab.open_hosts[0]},81"])
        assert _probe(lab, specs) == ["open"] * 3 + ["closed"] * 3 + ["filtered"] * 4
        # RST hosts answer ping, the quiet ones do not.
        assert lab.run(lab.scanner, ["ping", "-c", "1", "-W", "1", lab.rst_hosts[1]]).returncode == 0
        assert lab.run(lab.scanner, ["ping", "-c", "1", "-W", "1", quiet[0]]).returncode != 0


@pytest.mark.parametrize("scenario", sorted(wanlab.scenarios()))
def test_every_scenario_builds_and_cleans_up(scenario):
    with wanlab.WanLab(scenario, ports="1-200", n_open=10, n_filtered=10,
                       wide_open=20, wide_rst=20) as lab:
        names = (lab.scanner, lab.target)
        assert set(names) <= netns.list_netns()
        for ns in names:
            r = lab.run(ns, ["ip", "route", "show", "default"])
            assert r.stdout.strip() == ""
        link, spec, _ = wanlab.scenarios()[scenario]
        if link == "relay":
            st = lab.relay_stats()
            assert st["a2b"]["received"] > 0 and st["b2a"]["received"] > 0
            assert st["a2b"]["spec"].startswith("delay=")
        else:
            assert lab.relay is None
    assert not set(names) & netns.list_netns()
