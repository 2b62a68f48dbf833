# SPDX-License-Identifier: MIT
"""End-to-end tests against a hostile network, in a namespace pair the tests
create (198.18.0.0/24 over veth, no route out). A helper in the target
namespace forges packets with raw sockets while vigia scans:

- a blind flood of SYN-ACKs, RSTs and ICMP errors to random ports of the
  raw engine's source-port range, with random sequence numbers;
- spoofed answers that sniff each probe and answer it on the right ports
  with a wrong acknowledgment number (or an ICMP error quoting a wrong
  sequence number);
- an RST storm: many valid resets for every probe;

and the kernel itself misbehaves: a port answers SYN-ACK and then nothing
(our reset is dropped, so it retransmits), and the connect engine runs with
eight ephemeral ports. Every port must get exactly one record with its
true state, and the summary must count what was rejected."""
import collections
import subprocess
import sys
import textwrap

import pytest

import rawlab
from conftest import is_root, parse_ndjson, states
from rawlab import TARGET_V4 as T4, SCANNER_V4 as S4, vigia_scan

pytestmark = pytest.mark.skipif(not is_root(),
                                reason="needs root: creates network namespaces, raw sockets")

FAST = ["--max-rtt-timeout", "300ms", "--initial-rtt-timeout", "300ms", "--retries", "1"]

RANGE = range(2100, 2140)
OPEN = {2101, 2117, 2133}
DROP = {2105, 2122, 2138}
# A port whose SYN-ACK is answered by our RST, which the target drops: it
# retransmits the SYN-ACK (a listener that sees no final ACK keeps trying,
# for a minute: so it gets a lab of its own, away from the counters of the
# other tests).
HALF_OPEN = {2111}
# A port that drops everything: with a long timeout it holds the scan open
# long enough for the target's first SYN-ACK retransmission (1 s after the
# first) to arrive, wherever the half-open port falls in the walk.
HOLD = 3200
# Ports the storm helper answers with many valid resets (the kernel's own
# answer is dropped by nftables so that only the storm answers).
STORM = {2125, 2126, 2127}
SPORT_LO, SPORT_HI = 61000, 65095  # the raw engine's source ports (raw.c)

RULES = f"""
table inet vigia_hostile_test {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport {{ {", ".join(map(str, sorted(DROP | STORM)))} }} drop
  }}
}}
"""
HALF_OPEN_RULES = f"""
table inet vigia_hostile_half {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport {min(HALF_OPEN)} tcp flags & rst == rst drop
    tcp dport {HOLD} drop
  }}
}}
"""


def expected(port):
    if port in OPEN:
        return ("open", "syn-ack")
    if port in DROP:
        return ("filtered", "no-response")
    return ("closed", "conn-refused")


# The forger, run in the target namespace. argv: mode, then mode
# arguments. Prints "ready" once its sockets are open; stops when stdin
# closes, after MAX_S seconds or after MAX_PKTS packets, whichever first;
# then prints how many packets it sent.
#   flood LO HI SPORT_LO SPORT_HI: blind SYN-ACKs, RST-ACKs and ICMP
#     errors from target ports LO..HI to random scanner source ports, with
#     random sequence and acknowledgment numbers.
#   spoof: for each SYN seen, a SYN-ACK and a RST-ACK on its exact ports
#     with a wrong ack, and an ICMP port and host unreachable quoting it
#     with a wrong sequence number.
#   storm N PORT...: for each SYN to one of PORTs, N valid RST-ACKs.
_FORGER = textwrap.dedent("""
    import os, random, select, socket, struct, sys, time
    MAX_S, MAX_PKTS = 60, 400000
    SCANNER, TARGET = sys.argv[1], sys.argv[2]
    IFACE, MODE, ARGS = sys.argv[3], sys.argv[4], sys.argv[5:]
    S = socket.inet_aton(SCANNER)
    T = socket.inet_aton(TARGET)

    def csum(b):
        if len(b) % 2:
            b += b"\\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        return ~s & 0xffff

    def ip(proto, payload, src=T, dst=S):
        # The kernel fills in the IP checksum and total length.
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64,
                           proto, 0, src, dst) + payload

    def tcp(sport, dport, seq, ack, flags, src=T, dst=S):
        h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        c = csum(src + dst + struct.pack("!BBH", 0, 6, len(h)) + h)
        return h[:16] + struct.pack("!H", c) + h[18:]

    def icmp_unreach(code, sport, dport, seq):
        # The error quotes a TCP header from scanner:sport to target:dport.
        inner = ip(6, tcp(sport, dport, seq, 0, 0x02, S, T), S, T)
        inner = inner[:10] + struct.pack("!H", csum(inner[:20])) + inner[12:]
        body = struct.pack("!BBHI", 3, code, 0, 0) + inner[:28]
        body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
        return ip(1, body)

    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    cap = None
    if MODE != "flood":
        cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        cap.bind((IFACE, 0))
        cap.setblocking(False)
    print("ready", flush=True)
    sent = 0
    end = time.monotonic() + MAX_S

    def send(pkt):
        global sent
        try:
            out.sendto(pkt, (SCANNER, 0))
            sent += 1
        except OSError:
            pass  # a full queue: the next one goes

    def syns():
        # Probes from the scanner: pure SYNs arriving on the interface.
        while True:
            try:
                frame, addr = cap.recvfrom(2048)
            except BlockingIOError:
                return
            if addr[2] == socket.PACKET_OUTGOING or len(frame) < 14 + 40:
                continue
            p = frame[14:]
            ihl = (p[0] & 15) * 4
            if p[9] != 6 or p[12:16] != S:
                continue
            sport, dport, seq = struct.unpack("!HHI", p[ihl:ihl + 8])
            if p[ihl + 13] & 0x17 == 0x02:
                yield sport, dport, seq

    while time.monotonic() < end and sent < MAX_PKTS:
        r, _, _ = select.select([sys.stdin] + ([cap] if cap else []), [], [],
                                0 if MODE == "flood" else 0.5)
        if sys.stdin in r:
            break
        if MODE == "flood":
            lo, hi, slo, shi = map(int, ARGS)
            for _ in range(64):
                tp, sp = random.randint(lo, hi), random.randint(slo, shi)
                seq, ack = random.getrandbits(32), random.getrandbits(32)
                k = random.randrange(4)
                if k == 0:
                    send(ip(6, tcp(tp, sp, seq, ack, 0x12)))
                elif k == 1:
                    send(ip(6, tcp(tp, sp, 0, ack, 0x14)))
                else:
                    send(icmp_unreach(3 if k == 2 else 1, sp, tp, seq))
            time.sleep(0.002)
            continue
        if cap not in r:
            continue
        for sport, dport, seq in syns():
            if MODE == "spoof":
                wrong = (seq + 1 + random.randint(1, 1 << 30)) & 0xffffffff
                send(ip(6, tcp(dport, sport, random.getrandbits(32), wrong, 0x12)))
                send(ip(6, tcp(dport, sport, 0, wrong, 0x14)))
                send(icmp_unreach(3, sport, dport, seq ^ 0x5a5a))
                send(icmp_unreach(1, sport, dport, (seq + 1) & 0xffffffff))
            elif MODE == "storm" and str(dport) in ARGS[1:]:
                for _ in range(int(ARGS[0])):
                    send(ip(6, tcp(dport, sport, 0, (seq + 1) & 0xffffffff, 0x14)))
    print(sent, flush=True)
""")


@pytest.fixture(scope="module")
def lab():
    lab = rawlab.RawLab("h")
    try:
        lab.listen([(T4, p) for p in sorted(OPEN)])
        lab.nft(RULES)
        lab.warm((T4,))
        yield lab
    finally:
        lab.close()
    assert not {lab.scanner, lab.target} & rawlab.netns.list_netns()


class Forger:
    """The forger process in the target namespace; stop() returns how many
    packets it sent."""

    def __init__(self, lab, mode, *args):
        self.p = lab.popen(lab.target, [sys.executable, "-c", _FORGER, S4, T4,
                                        lab.veth(lab.target), mode, *map(str, args)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if line.strip() != "ready":
            self.p.kill()
            raise RuntimeError(f"forger did not start: {line!r}")

    def stop(self):
        self.p.stdin.close()
        try:
            out = self.p.stdout.read()
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)
            raise
        return int(out.strip() or 0)


def scan(lab, vigia, *args, timeout=60):
    r = vigia_scan(lab, vigia, "-o", "ndjson", *args, timeout=timeout)
    assert r.returncode == 0, r.stderr
    recs = parse_ndjson(r.stdout)
    assert recs[0]["type"] == "scan" and recs[-1]["type"] == "summary", recs[:1] + recs[-1:]
    ports = [p for p in recs[1:-1] if p["type"] == "port"]
    # Exactly one record per (address, port): a duplicate is a bug even
    # when it agrees with the first.
    dup = [k for k, n in collections.Counter((p["ip"], p["port"]) for p in ports).items()
           if n > 1]
    assert not dup, dup
    return recs[0], ports, recs[-1]


def spec():
    return f"{RANGE[0]}-{RANGE[-1]}"


def test_baseline_counts_nothing_rejected(lab, vigia):
    """Without a forger the states are exact and nothing is rejected: the
    counters in the other tests measure the forgeries, not noise."""
    _, ports, summary = scan(lab, vigia, "-sS", "-p", spec(), T4, *FAST)
    assert states(ports) == {(T4, p): expected(p) for p in RANGE if p not in STORM} | \
        {(T4, p): ("filtered", "no-response") for p in STORM}
    assert summary["replies_rejected"] == 0, summary
    assert "deferred" not in summary


def test_blind_flood_changes_nothing(lab, vigia):
    """SYN-ACKs, RSTs and ICMP errors with random sequence numbers sprayed
    at the whole source-port range during the scan: no false open, no
    state changed, and the summary counts the rejected packets."""
    f = Forger(lab, "flood", RANGE[0], RANGE[-1], SPORT_LO, SPORT_HI)
    try:
        # Several scans while the flood runs, so that it overlaps them.
        results = [scan(lab, vigia, "-sS", "-p", spec(), T4, *FAST) for _ in range(3)]
    finally:
        sent = f.stop()
    assert sent > 1000, f"the flood sent only {sent} packets"
    for _, ports, summary in results:
        got = states(ports)
        assert {k for k, v in got.items() if v[0] == "open"} == \
            {(T4, p) for p in OPEN}
        assert got == {(T4, p): expected(p) for p in RANGE if p not in STORM} | \
            {(T4, p): ("filtered", "no-response") for p in STORM}
        assert summary["open"] == len(OPEN), summary
    assert sum(s["replies_rejected"] for _, _, s in results) > 0, [s for _, _, s in results]


def test_spoofed_answers_with_wrong_cookie_are_rejected(lab, vigia):
    """A forger that sees every probe answers it on the right ports with a
    wrong ack (SYN-ACK and RST) and with ICMP errors quoting a wrong
    sequence number: dropped ports stay filtered no-response, closed ports
    closed; each forgery is counted as rejected."""
    f = Forger(lab, "spoof")
    try:
        _, ports, summary = scan(lab, vigia, "-sS", "-p", spec(), T4, *FAST)
    finally:
        sent = f.stop()
    assert sent >= 4 * len(RANGE), sent
    assert states(ports) == {(T4, p): expected(p) for p in RANGE if p not in STORM} | \
        {(T4, p): ("filtered", "no-response") for p in STORM}
    # Each forgery is aimed at a probe's own source port and is rejected;
    # those answering a closed port may come after the scan ended, but a
    # dropped port's first try waits 300 ms, time for its four forgeries.
    assert summary["replies_rejected"] >= 4 * len(DROP | STORM), summary


def test_rst_storm_is_one_closed_record_per_port(lab, vigia):
    f = Forger(lab, "storm", 20, *sorted(STORM))
    try:
        _, ports, summary = scan(lab, vigia, "-sS", "-p", spec(), T4, *FAST)
    finally:
        sent = f.stop()
    assert sent >= 20 * len(STORM), sent
    got = states(ports)
    for p in STORM:
        assert got[(T4, p)] == ("closed", "conn-refused"), (p, got[(T4, p)])
        assert [r["tries"] for r in ports if r["port"] == p] == [1], p
    assert got == {(T4, p): expected(p) for p in RANGE}
    # The extra resets are valid answers to finished probes.
    assert summary["replies_late"] > 0, summary


def test_syn_ack_then_nothing_is_open_once(vigia):
    """Our RST is dropped, so the target retransmits its SYN-ACK: the port
    is open, reported once; the scan lasts long enough to see a
    retransmission, which counts as late: the 202 probes take 1.7 s at 120
    per second, and the dropped port HOLD waits 4 s for an answer wherever
    it falls, so the scan lasts at least 4 s, more than 1.7 + 1."""
    port = min(HALF_OPEN)
    lab = rawlab.RawLab("o")
    try:
        lab.listen([(T4, port)])
        lab.nft(HALF_OPEN_RULES)
        lab.warm((T4,))
        _, ports, summary = scan(lab, vigia, "-sS", "-p", f"{port},3000-{HOLD}", T4,
                                 "--rate", "120", "--retries", "0",
                                 "--min-rtt-timeout", "4s", "--max-rtt-timeout", "5s")
    finally:
        lab.close()
    assert not {lab.scanner, lab.target} & rawlab.netns.list_netns()
    mine = [r for r in ports if r["port"] == port]
    assert [(r["state"], r["reason"]) for r in mine] == [("open", "syn-ack")], mine
    assert {r["state"] for r in ports if r["port"] not in (port, HOLD)} == {"closed"}
    assert [r["state"] for r in ports if r["port"] == HOLD] == ["filtered"]
    assert summary["replies_late"] >= 1, summary


def test_text_summary_line_for_rejected_replies(lab, vigia):
    f = Forger(lab, "spoof")
    try:
        r = vigia_scan(lab, vigia, "-sS", "-p", spec(), T4, *FAST)
    finally:
        f.stop()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.rstrip().splitlines()
    assert lines[-1].startswith("Done: 40/40 ports scanned"), r.stdout
    assert any("rejected (wrong cookie: not answers to our probes)" in line
               for line in lines[:-1]), r.stdout
    # Without forgeries the line is absent.
    r = vigia_scan(lab, vigia, "-sS", "-p", spec(), T4, *FAST)
    assert "rejected" not in r.stdout, r.stdout


# Holds every port of the scanner's ephemeral range (bound, not
# listening: connect() cannot share such a port) for argv[3] seconds, then
# frees them; prints "ready" once they are held, "freed" after.
_HOLDER = textwrap.dedent("""
    import socket, sys, time
    lo, hi, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    socks = []
    for port in range(lo, hi + 1):
        s = socket.socket()
        s.bind(("0.0.0.0", port))
        socks.append(s)
    print("ready", flush=True)
    time.sleep(min(hold, 30))
    for s in socks:
        s.close()
    print("freed", flush=True)
    sys.stdin.read()
""")


def test_connect_with_ephemeral_ports_exhausted(lab, vigia):
    """Eight ephemeral ports in the scanner namespace, all held by another
    process for a second: connect() has no source port (EADDRNOTAVAIL);
    the engine waits and retries until they are free, and every port gets
    its true state; the summary says how often it had to wait."""
    old = lab.run(lab.scanner, ["sysctl", "-n", "net.ipv4.ip_local_port_range"]).stdout.split()
    lab.run(lab.scanner, ["sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=40000 40007"],
            check=True)
    holder = None
    try:
        holder = lab.popen(lab.scanner, [sys.executable, "-c", _HOLDER, "40000", "40007", "1"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "ready"
        ports_spec = f"{spec()},3000-3299"
        _, ports, summary = scan(lab, vigia, "-sT", "-p", ports_spec, T4, *FAST, timeout=120)
        assert holder.stdout.readline().strip() == "freed"
    finally:
        if holder:
            holder.stdin.close()
            holder.wait(timeout=35)
        lab.run(lab.scanner, ["sysctl", "-q", "-w",
                              f"net.ipv4.ip_local_port_range={old[0]} {old[1]}"], check=True)
    exp = {(T4, p): expected(p) for p in RANGE} | \
        {(T4, p): ("filtered", "no-response") for p in STORM} | \
        {(T4, p): ("closed", "conn-refused") for p in range(3000, 3300)}
    assert states(ports) == exp
    assert summary["complete"] is True and summary["results"] == len(exp), summary
    # A deferred attempt is not a try: no port used more than FAST allows.
    assert max(p["tries"] for p in ports) <= 2
    assert summary["deferred"] > 0, summary
    # Nothing could connect before the ports were freed: it waited.
    assert summary["elapsed_s"] >= 0.8, summary
    assert "replies_rejected" not in summary
