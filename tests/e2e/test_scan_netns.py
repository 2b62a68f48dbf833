# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia scan` across a veth pair between two network
namespaces the tests create (198.18.0.0/24, 2001:db8::/64, no route out):
nftables rules in the target namespace make ports filtered in each way an
answer can be missing or negative; vigia runs in the scanner namespace."""
import re
import signal
import subprocess
import time

import pytest

import netns
from conftest import check_ndjson, is_root, parse_ndjson, states

pytestmark = pytest.mark.skipif(not is_root(),
                                reason="needs root: creates network namespaces and nft rules")

T4, T6 = netns.TARGET_V4, netns.TARGET_V6
FAST = ["--max-rtt-timeout", "300ms", "--initial-rtt-timeout", "300ms", "--retries", "1"]

# Ports 1000-1039 of the target: what each one does, for both families.
OPEN = {1001, 1010, 1022}
DROP = {1005, 1006}
ADMIN = {1012}
HOST_UNREACH = {1030}
NET_UNREACH = {1031}
PORT_UNREACH = {1032}
RESET = {1033}
RANGE = range(1000, 1040)

RULES = f"""
table inet vigia_test {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport {{ {", ".join(map(str, sorted(DROP)))} }} drop
    meta nfproto ipv4 tcp dport {min(ADMIN)} reject with icmp type admin-prohibited
    meta nfproto ipv6 tcp dport {min(ADMIN)} reject with icmpv6 type admin-prohibited
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
    if port in OPEN:
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
    return ("closed", "conn-refused")      # plain closed port, and tcp reset


@pytest.fixture(scope="module")
def pair():
    p = netns.NetnsPair("n")
    try:
        p.listen([(addr, port) for addr in (T4, T6) for port in sorted(OPEN)])
        p.nft(RULES)
        # Resolve the neighbours once so the first probe is not lost to ARP/ND.
        for addr in (T4, T6):
            p.run(p.scanner, ["ping", "-c", "1", "-W", "1", addr], timeout=5)
        yield p
    finally:
        p.close()
    assert not {p.scanner, p.target} & netns.list_netns()


def vigia_in(pair, vigia, *args, timeout=60):
    return pair.run(pair.scanner, [vigia, "scan", "-q", *args], timeout=timeout)


def test_no_route_out_of_the_namespaces(pair):
    for ns in (pair.scanner, pair.target):
        for fam in ("-4", "-6"):
            r = subprocess.run(["ip", "-n", ns, fam, "route", "show", "default"],
                               capture_output=True, text=True, timeout=10)
            assert r.stdout.strip() == "", f"{ns} has a default route: {r.stdout}"


@pytest.mark.parametrize("target", [T4, T6])
def test_exact_states_and_reasons(pair, vigia, target):
    r = vigia_in(pair, vigia, "-o", "ndjson", "-p", f"{RANGE[0]}-{RANGE[-1]}", target, *FAST)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    _, ports, summary = check_ndjson(parse_ndjson(r.stdout))
    got = states(ports)
    expected = {(target, port): expected_state(port) for port in RANGE}
    assert got == expected
    for p in ports:
        if p["port"] in DROP:
            assert p["tries"] == 2, f"a dropped port is tried 1 + --retries times: {p}"
    assert summary["open"] == len(OPEN)
    assert summary["filtered"] == len(DROP | ADMIN | HOST_UNREACH | NET_UNREACH | PORT_UNREACH)


def table_sections(text):
    """{host: {port: (state, reason)}} from the text table."""
    sections, host = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\S+)$", line)
        if m and not line.startswith(("Done:", "Interrupted:")):
            host = m.group(1)
            sections[host] = {}
            continue
        m = re.match(r"^  (\d+)/tcp\s+(\S+)\s+\S+\s+(\S+)\s", line)
        if m and host:
            sections[host][int(m.group(1))] = (m.group(2), m.group(3))
    return sections


def test_both_families_text_table(pair, vigia):
    r = vigia_in(pair, vigia, "-v", "-p", "1000-1012", T4, T6, *FAST)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    expected = {port: expected_state(port) for port in range(1000, 1013)}
    assert table_sections(out) == {T4: expected, T6: expected}, out
    # per host: 1001 1010 open; 1005 1006 1012 filtered; 8 others closed
    assert out.count("  2 open, 8 closed, 3 filtered\n") == 2, out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("Done:") and "26" in last, out
    assert last.endswith("4 open, 16 closed, 6 filtered"), out


def test_max_rtt_timeout_caps_the_initial_timeout(pair, vigia):
    """--max-rtt-timeout is the ceiling of the adaptive timeout, so with
    300ms and one retry an unanswered port is given up after about 0.6 s,
    even before the host has answered anything (the initial 1 s default
    must not exceed the ceiling)."""
    t0 = time.monotonic()
    r = vigia_in(pair, vigia, "-o", "ndjson", "-p", "1005", T4,
                 "--max-rtt-timeout", "300ms", "--retries", "1")
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    _, ports, _ = check_ndjson(parse_ndjson(r.stdout))
    assert states(ports) == {(T4, 1005): ("filtered", "no-response")}
    assert elapsed < 1.2, f"took {elapsed:.2f} s; 2 tries x 300ms expected"


def test_fixed_timeout_and_retries(pair, vigia):
    t0 = time.monotonic()
    r = vigia_in(pair, vigia, "-o", "ndjson", "-p", "1005", T6, "--timeout", "200ms",
                 "--retries", "2")
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    _, ports, summary = check_ndjson(parse_ndjson(r.stdout))
    assert [(p["state"], p["reason"], p["tries"], p["rtt_us"]) for p in ports] == \
        [("filtered", "no-response", 3, None)]
    assert summary["probes_sent"] == 3
    assert 0.55 <= elapsed < 1.5, f"3 tries x 200ms took {elapsed:.2f} s"


def test_rate_limit(pair, vigia):
    t0 = time.monotonic()
    r = vigia_in(pair, vigia, "-o", "ndjson", "-p", "1-2000", T4, T6, "--rate", "2000",
                 *FAST, "--open")
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    summary = recs[-1]
    assert summary["results"] == summary["planned"] == 4000, summary
    assert 1.5 <= elapsed <= 6, f"4000 probes at --rate 2000 took {elapsed:.2f} s"


def test_sigint_while_waiting_for_dropped_ports(pair, vigia, tmp_path):
    path = tmp_path / "partial.ndjson"
    # In 1000-1009 only 1005 and 1006 are dropped, the others answer at once;
    # with a fixed 5 s timeout and 3 retries the dropped ones would keep the
    # scan going for 20 s.
    p = pair.popen(pair.scanner, [vigia, "scan", "-q", "-p", "1000-1009", T4, T6,
                                  "--timeout", "5s", "--retries", "3", "-o", f"ndjson={path}"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert p.poll() is None, "the scan ended before the interrupt"
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        stop_time = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    assert p.returncode == 130, f"exit {p.returncode}: {err!r}"
    assert stop_time < 3, f"took {stop_time:.1f} s to stop after SIGINT"
    _, ports, summary = check_ndjson(parse_ndjson(path.read_text()), complete=False)
    got = states(ports)
    # Every port that answers was found before the interrupt; none of the
    # dropped ones were finished.
    expected = {(a, port): expected_state(port) for a in (T4, T6) for port in range(1000, 1010)
                if port not in DROP}
    assert got == expected
    assert summary["planned"] == 20 and summary["results"] == len(expected), summary


def test_namespace_cleanup_is_idempotent():
    with netns.NetnsPair("c") as p:
        names = {p.scanner, p.target}
        assert names <= netns.list_netns()
    assert not names & netns.list_netns()
    p.close()                       # a second close is harmless
    # Cleanup also happens when the body fails.
    with pytest.raises(RuntimeError):
        with netns.NetnsPair("c") as q:
            names2 = {q.scanner, q.target}
            raise RuntimeError("boom")
    assert not names2 & netns.list_netns()
