# SPDX-License-Identifier: MIT
"""End-to-end tests of the raw SYN engine (-sS) in a namespace pair the
tests create (198.18.0.0/24 and 2001:db8::/64 over veth, no route out):
listeners open, nothing listening closed, nftables drop filtered
no-response, reject rules filtered with the ICMP message as the reason;
the results must equal the connect engine's on the same lab."""
import json
import os
import time

import pytest

import rawlab
from conftest import is_root, parse_ndjson, states
from rawlab import TARGET_V4 as T4, TARGET_V6 as T6, vigia_scan

pytestmark = pytest.mark.skipif(not is_root(),
                                reason="needs root: creates network namespaces, raw sockets")

FAST = ["--max-rtt-timeout", "300ms", "--initial-rtt-timeout", "300ms", "--retries", "1"]

OPEN = {2001, 2010, 2022, 2039}
DROP = {2005, 2006, 2031}
ADMIN = {2012, 2013}
HOST_UNREACH = {2030}
NET_UNREACH = {2032}
PORT_UNREACH = {2033}
RESET = {2034}
RANGE = range(2000, 2040)
# Far ports, open, to check the whole 1-65535 walk.
FAR_OPEN = {1, 22, 443, 31337, 65535}

RULES = f"""
table inet vigia_raw_test {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport {{ {", ".join(map(str, sorted(DROP)))} }} drop
    meta nfproto ipv4 tcp dport {{ {", ".join(map(str, sorted(ADMIN)))} }} reject with icmp type admin-prohibited
    meta nfproto ipv6 tcp dport {{ {", ".join(map(str, sorted(ADMIN)))} }} reject with icmpv6 type admin-prohibited
    meta nfproto ipv4 tcp dport {min(HOST_UNREACH)} reject with icmp type host-unreachable
    meta nfproto ipv6 tcp dport {min(HOST_UNREACH)} reject with icmpv6 type addr-unreachable
    meta nfproto ipv4 tcp dport {min(NET_UNREACH)} reject with icmp type net-unreachable
    meta nfproto ipv6 tcp dport {min(NET_UNREACH)} reject with icmpv6 type no-route
    meta nfproto ipv4 tcp dport {min(PORT_UNREACH)} reject with icmp type port-unreachable
    meta nfproto ipv6 tcp dport {min(PORT_UNREACH)} reject with icmpv6 type port-unreachable
    tcp dport {min(RESET)} reject with tcp reset
  }}
}}
"""


def expected_state(port):
    if port in OPEN or port in FAR_OPEN:
        return ("open", "syn-ack")
    if port in DROP:
        return ("filtered", "no-response")
    if port in ADMIN:
        return ("filtered", "admin-prohibited")
    if port in HOST_UNREACH:
        return ("filtered", "host-unreach")
    if port in NET_UNREACH:
        return ("filtered", "net-unreach")
    if port in PORT_UNREACH:
        return ("filtered", "port-unreach")
    return ("closed", "conn-refused")


@pytest.fixture(scope="module")
def lab():
    lab = rawlab.RawLab("s")
    try:
        lab.listen([(a, p) for a in (T4, T6) for p in sorted(OPEN | FAR_OPEN)])
        lab.listen_in(lab.scanner, [("127.0.0.1", p) for p in sorted(OPEN)] +
                      [("::1", p) for p in sorted(OPEN)])
        lab.nft(RULES)
        lab.warm()
        yield lab
    finally:
        lab.close()
    assert not {lab.scanner, lab.target} & rawlab.netns.list_netns()


def ndjson(r):
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    assert recs[0]["type"] == "scan" and recs[-1]["type"] == "summary", recs[:1] + recs[-1:]
    # Host discovery's "host" records come first; the rest are ports.
    ports = [p for p in recs[1:-1] if p["type"] != "host"]
    assert all(p["type"] == "port" for p in ports)
    return recs[0], ports, recs[-1]


@pytest.mark.parametrize("target", [T4, T6])
def test_syn_states_and_reasons_equal_connect(lab, vigia, target):
    spec = f"{RANGE[0]}-{RANGE[-1]}"
    scan, ports, summary = ndjson(vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "-p", spec,
                                             target, *FAST))
    assert scan["engine"] == "syn"
    got = states(ports)
    assert got == {(target, p): expected_state(p) for p in RANGE}
    for p in ports:
        assert p["proto"] == "tcp"
        if p["port"] in DROP:
            assert p["tries"] == 2 and p["rtt_us"] is None, p
        else:
            assert isinstance(p["rtt_us"], int) and p["rtt_us"] >= 0, p
    assert summary["open"] == len(OPEN)
    # The connect engine sees the same lab the same way.
    _, cports, _ = ndjson(vigia_scan(lab, vigia, "-sT", "-o", "ndjson", "-p", spec, target,
                                     *FAST))
    assert states(cports) == got


def test_loopback_v4_and_v6(lab, vigia):
    spec = f"{RANGE[0]}-{RANGE[-1]}"
    _, ports, _ = ndjson(vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "-p", spec,
                                    "127.0.0.1", "::1", *FAST))
    got = states(ports)
    exp = {(a, p): ("open", "syn-ack") if p in OPEN else ("closed", "conn-refused")
           for a in ("127.0.0.1", "::1") for p in RANGE}
    assert got == exp


def test_syn_is_the_default_for_root_and_connect_forces_connect(lab, vigia):
    scan, ports, _ = ndjson(vigia_scan(lab, vigia, "-o", "ndjson", "-p", "2001", T4))
    assert scan["engine"] == "syn"
    assert states(ports) == {(T4, 2001): ("open", "syn-ack")}
    for flag in ("-sT", "--connect"):
        scan, ports, _ = ndjson(vigia_scan(lab, vigia, flag, "-o", "ndjson", "-p", "2001", T4))
        assert scan["engine"] == "connect"
        assert states(ports) == {(T4, 2001): ("open", "syn-ack")}


def test_text_table_names_the_engine(lab, vigia):
    r = vigia_scan(lab, vigia, "-p", "2001,2010", T4)
    assert r.returncode == 0, r.stderr
    assert "syn" in r.stdout.splitlines()[0], r.stdout


def test_all_ports_both_families(lab, vigia):
    """The whole 1-65535 range of both addresses: every open port found,
    every drop-rule port filtered, the rest closed, in a few seconds."""
    t0 = time.monotonic()
    _, ports, summary = ndjson(vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "-p", "-",
                                          T4, T6, *FAST, timeout=120))
    elapsed = time.monotonic() - t0
    assert len(ports) == 2 * 65535
    opened = {(p["ip"], p["port"]) for p in ports if p["state"] == "open"}
    assert opened == {(a, p) for a in (T4, T6) for p in OPEN | FAR_OPEN}
    got = states(ports)
    for a in (T4, T6):
        for p in DROP:
            assert got[(a, p)] == ("filtered", "no-response")
        for p in ADMIN:
            assert got[(a, p)] == ("filtered", "admin-prohibited")
    assert summary["closed"] == 2 * 65535 - len(opened) - 2 * len(
        DROP | ADMIN | HOST_UNREACH | NET_UNREACH | PORT_UNREACH)
    assert elapsed < 60, f"131070 probes took {elapsed:.1f} s"


def test_rate_2000_over_10000_probes(lab, vigia):
    """--rate 2000 with 10,000 probes takes about 5 s (generous margin)."""
    t0 = time.monotonic()
    _, ports, summary = ndjson(vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "--open",
                                          "-p", "3001-8000", T4, T6, "--rate", "2000",
                                          "--retries", "0", timeout=60))
    elapsed = time.monotonic() - t0
    assert summary["results"] == 10000, summary
    assert summary["probes_sent"] == 10000, summary
    assert 4.0 <= elapsed <= 8.0, f"10000 probes at --rate 2000 took {elapsed:.2f} s"


def test_privileges_dropped_before_replies(lab, vigia):
    """Once the sockets are open the scanner runs as nobody with no
    capabilities (checked on the live process)."""
    p = lab.popen(lab.scanner, [vigia, "scan", "-q", "-sS", "-p", "1-3000", T4, "--rate", "500",
                                "-o", "ndjson"],
                  stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    try:
        deadline = time.monotonic() + 5
        st = {}
        while time.monotonic() < deadline:
            time.sleep(0.3)
            st = lab.proc_status(p.pid)
            if st.get("Uid", "").split()[:1] == ["65534"]:
                break
        assert p.poll() is None, "the scan ended too early"
        assert st["Uid"].split() == ["65534"] * 4, st
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, st
        assert st["Groups"] == "", st
    finally:
        p.kill()
        p.wait(5)


def test_user_option(lab, vigia):
    r = vigia_scan(lab, vigia, "-sS", "--user", "no-such-user-vigia", "-p", "2001", T4)
    assert r.returncode == 1 and "no-such-user-vigia" in r.stderr, r


def test_dry_run_lists_probes_in_walk_order(lab, vigia):
    args = ["scan", "-sS", "--dry-run", "-p", "2000-2009", T4, T6]
    r1 = lab.run(lab.scanner, [vigia, *args, "--seed", "7"])
    r2 = lab.run(lab.scanner, [vigia, *args, "--seed", "7"])
    r3 = lab.run(lab.scanner, [vigia, *args, "--seed", "8"])
    assert r1.returncode == 0, r1.stderr
    lines = r1.stdout.splitlines()
    assert len(lines) == 20
    probes = [tuple(line.split()) for line in lines]
    assert {p[0] for p in probes} == {"tcp-syn"}
    assert {(a, int(port)) for _, a, port in probes} == \
        {(a, p) for a in (T4, T6) for p in range(2000, 2010)}
    assert r2.stdout == r1.stdout, "same seed, same order"
    assert r3.stdout != r1.stdout, "another seed, another order"
    # A shard prints its part only; the shards together are the whole.
    parts = []
    for i in range(3):
        r = lab.run(lab.scanner, [vigia, *args, "--seed", "7", "--shard", f"{i}/3"])
        parts += r.stdout.splitlines()
    assert sorted(parts) == sorted(lines)


def test_dry_run_needs_no_privileges(vigia, tmp_path):
    """--dry-run sends nothing, so an unprivileged user may run it."""
    import subprocess
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", vigia, "scan", "--dry-run",
                        "-p", "80,443", "198.18.0.5"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["tcp-syn 198.18.0.5 443", "tcp-syn 198.18.0.5 80"]


def test_syn_without_privileges_is_a_clear_error(vigia):
    import subprocess
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", vigia, "scan", "-sS",
                        "-p", "80", "127.0.0.1"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1, r
    assert "CAP_NET_RAW" in r.stderr
    # Without privileges and without -sS the connect engine is the default.
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", vigia, "scan", "-q",
                        "-o", "ndjson", "-p", "9", "127.0.0.1"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[0])["engine"] == "connect"


def test_interface_and_source_options(lab, vigia):
    dev = lab.veth(lab.scanner)
    _, ports, _ = ndjson(vigia_scan(lab, vigia, "-sS", "-e", dev, "-S", rawlab.SCANNER_V4,
                                    "-o", "ndjson", "-p", "2000-2002", T4, *FAST))
    assert states(ports) == {(T4, p): expected_state(p) for p in range(2000, 2003)}
    r = vigia_scan(lab, vigia, "-sS", "-e", "nosuchif0", "-p", "2001", T4)
    assert r.returncode == 1 and "nosuchif0" in r.stderr, r
    r = vigia_scan(lab, vigia, "-sT", "-e", dev, "-p", "2001", T4)
    assert r.returncode == 1, r


def test_fixed_source_port(lab, vigia):
    _, ports, _ = ndjson(vigia_scan(lab, vigia, "-sS", "--source-port", "53", "-o", "ndjson",
                                    "-p", f"{RANGE[0]}-{RANGE[-1]}", T4, T6, *FAST))
    assert states(ports) == {(a, p): expected_state(p) for a in (T4, T6) for p in RANGE}


def test_over_tun_device(vigia):
    """Over a tun link (no link-layer header, no ARP) the raw engine works
    as over veth, for both families, and equals the connect engine."""
    lab = rawlab.RawLab("t")
    try:
        lab.tun_link()
        t4, t6 = "198.19.0.2", "2001:db8:1::2"
        lab.listen([(a, p) for a in (t4, t6) for p in sorted(OPEN)])
        lab.nft(RULES)
        lab.warm((t4, t6))
        spec = f"{RANGE[0]}-{RANGE[-1]}"
        _, ports, _ = ndjson(vigia_scan(lab, vigia, "-sS", "-o", "ndjson", "-p", spec, t4, t6,
                                        *FAST))
        got = states(ports)
        assert got == {(a, p): expected_state(p) for a in (t4, t6) for p in RANGE}
        _, cports, _ = ndjson(vigia_scan(lab, vigia, "-sT", "-o", "ndjson", "-p", spec, t4, t6,
                                         *FAST))
        assert states(cports) == got
    finally:
        lab.close()


ICMP_RACE_PORTS = "1000-4999"
ICMP_RACE_RULES = """
table inet vigia_icmp_race {
  chain input {
    type filter hook input priority 0; policy accept;
    meta nfproto ipv4 tcp dport 1000-4999 reject with icmp type admin-prohibited
    meta nfproto ipv6 tcp dport 1000-4999 reject with icmpv6 type admin-prohibited
  }
}
"""


def test_connect_reads_icmp_errors_racing_the_handshake(vigia):
    """Over the tun link the relay delivers replies on another CPU, so the
    kernel queues an ICMP error for a connect() while the scanner reads the
    socket: the error queue then holds the message and the socket's error is
    not set yet, or was cleared by reading the queue. Every port must still
    be filtered with the exact message: neither open (the failed socket polls
    writable) nor host-unreach (the message lost)."""
    lab = rawlab.RawLab("i")
    try:
        lab.tun_link()
        t4, t6 = "198.19.0.2", "2001:db8:1::2"
        lab.nft(ICMP_RACE_RULES)
        lab.warm((t4, t6))
        lo, hi = map(int, ICMP_RACE_PORTS.split("-"))
        want = {(a, p): ("filtered", "admin-prohibited") for a in (t4, t6)
                for p in range(lo, hi + 1)}
        for _ in range(3):
            _, ports, _ = ndjson(vigia_scan(lab, vigia, "-sT", "-o", "ndjson", "-p",
                                            ICMP_RACE_PORTS, t4, t6, timeout=120))
            got = states(ports)
            wrong = {k: v for k, v in got.items() if v != want.get(k)}
            assert not wrong and len(got) == len(want), sorted(wrong.items())[:10]
    finally:
        lab.close()
