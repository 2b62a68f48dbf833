# SPDX-License-Identifier: MIT
"""The hostile-network tests of test_hostile.py over IPv6, in a namespace
pair the tests create (2001:db8::/64 over veth, no route out). A helper in
the target namespace forges IPv6 packets with raw sockets while vigia
scans:

- a blind flood of SYN-ACKs, RSTs and ICMPv6 errors quoting packets never
  sent, to random ports of the raw engine's source-port range;
- spoofed answers that sniff each probe and answer it on the right ports
  with a wrong acknowledgment number, ICMPv6 errors quoting it with a wrong
  sequence number, and ICMPv6 errors quoting packets the scanner never
  sent (from another source address, to another port);
- an RST storm: many valid resets for every probe;

and the kernel itself misbehaves: a port answers SYN-ACK and then nothing,
and the connect engine runs with eight ephemeral ports. Every port must get
exactly one record with its true state, and the summary must count what
was rejected."""
import subprocess
import sys
import textwrap

import pytest

import rawlab
from conftest import is_root, states
from rawlab import TARGET_V6 as T6, SCANNER_V6 as S6, vigia_scan
from test_hostile import (DROP, FAST, HALF_OPEN, HALF_OPEN_RULES, HOLD, OPEN, RANGE, RULES,
                          SPORT_HI, SPORT_LO, STORM, expected, scan, spec)

pytestmark = pytest.mark.skipif(not is_root(),
                                reason="needs root: creates network namespaces, raw sockets")

# The source a forged quote names: an address of the lab's prefix that is
# no one's, so the quoted packet was never sent by the scanner.
OTHER6 = "2001:db8::99"

# The forger, run in the target namespace; the same modes and contract as
# test_hostile.py's, over IPv6 (ICMPv6 destination unreachable: code 4
# port, 1 administratively prohibited, 3 address unreachable). spoof also
# sends, per probe, an error quoting the probe as if OTHER6 had sent it and
# one quoting it to the neighbouring port; unsent sends only those two.
_FORGER6 = textwrap.dedent("""
    import os, random, select, socket, struct, sys, time
    MAX_S, MAX_PKTS = 60, 400000
    SCANNER, TARGET, OTHER = sys.argv[1], sys.argv[2], sys.argv[3]
    IFACE, MODE, ARGS = sys.argv[4], sys.argv[5], sys.argv[6:]
    S = socket.inet_pton(socket.AF_INET6, SCANNER)
    T = socket.inet_pton(socket.AF_INET6, TARGET)
    O = socket.inet_pton(socket.AF_INET6, OTHER)

    def csum(b):
        if len(b) % 2:
            b += b"\\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        return ~s & 0xffff

    def pseudo(src, dst, nh, length):
        return src + dst + struct.pack("!I3xB", length, nh)

    def ip6(nh, payload, src=T, dst=S):
        return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, src, dst) + payload

    def tcp(sport, dport, seq, ack, flags, src=T, dst=S):
        h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        c = csum(pseudo(src, dst, 6, len(h)) + h)
        return h[:16] + struct.pack("!H", c) + h[18:]

    def icmp6_unreach(code, sport, dport, seq, qsrc=S):
        # The error quotes a whole SYN from qsrc:sport to target:dport.
        inner = ip6(6, tcp(sport, dport, seq, 0, 0x02, qsrc, T), qsrc, T)
        body = struct.pack("!BBHI", 1, code, 0, 0) + inner
        c = csum(pseudo(T, S, 58, len(body)) + body)
        return ip6(58, body[:2] + struct.pack("!H", c) + body[4:])

    # IPPROTO_RAW on an IPv6 socket: we write the IPv6 header ourselves.
    out = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    cap = None
    if MODE != "flood":
        cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
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
        # Probes from the scanner: pure SYNs (no extension headers).
        while True:
            try:
                frame, addr = cap.recvfrom(2048)
            except BlockingIOError:
                return
            if addr[2] == socket.PACKET_OUTGOING or len(frame) < 14 + 60:
                continue
            p = frame[14:]
            if p[0] >> 4 != 6 or p[6] != 6 or p[8:24] != S:
                continue
            sport, dport, seq = struct.unpack("!HHI", p[40:48])
            if p[40 + 13] & 0x17 == 0x02:
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
                    send(ip6(6, tcp(tp, sp, seq, ack, 0x12)))
                elif k == 1:
                    send(ip6(6, tcp(tp, sp, 0, ack, 0x14)))
                else:
                    send(icmp6_unreach(4 if k == 2 else 1, sp, tp, seq))
            time.sleep(0.002)
            continue
        if cap not in r:
            continue
        for sport, dport, seq in syns():
            if MODE == "spoof":
                wrong = (seq + 1 + random.randint(1, 1 << 30)) & 0xffffffff
                send(ip6(6, tcp(dport, sport, random.getrandbits(32), wrong, 0x12)))
                send(ip6(6, tcp(dport, sport, 0, wrong, 0x14)))
                send(icmp6_unreach(4, sport, dport, seq ^ 0x5a5a))
                send(icmp6_unreach(1, sport, dport, (seq + 1) & 0xffffffff))
            if MODE in ("spoof", "unsent"):
                # Never sent: the right ports and sequence number, but
                # from another source, or to another port.
                send(icmp6_unreach(3, sport, dport, seq, O))
                send(icmp6_unreach(1, sport, dport ^ 1, seq))
            elif MODE == "storm" and str(dport) in ARGS[1:]:
                for _ in range(int(ARGS[0])):
                    send(ip6(6, tcp(dport, sport, 0, (seq + 1) & 0xffffffff, 0x14)))
    print(sent, flush=True)
""")

FORGERIES_PER_PROBE = 6


@pytest.fixture(scope="module")
def lab():
    lab = rawlab.RawLab("h6")
    try:
        lab.listen([(T6, p) for p in sorted(OPEN)])
        lab.nft(RULES)
        lab.warm((T6,))
        yield lab
    finally:
        lab.close()
    assert not {lab.scanner, lab.target} & rawlab.netns.list_netns()


class Forger6:
    """The IPv6 forger in the target namespace; stop() returns how many
    packets it sent."""

    def __init__(self, lab, mode, *args):
        self.p = lab.popen(lab.target, [sys.executable, "-c", _FORGER6, S6, T6, OTHER6,
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


def want():
    """The true states: STORM ports are dropped unless the storm answers."""
    return {(T6, p): expected(p) for p in RANGE if p not in STORM} | \
        {(T6, p): ("filtered", "no-response") for p in STORM}


def test_baseline_counts_nothing_rejected(lab, vigia):
    """Without a forger the states are exact and nothing is rejected: the
    counters in the other tests measure the forgeries, not noise."""
    _, ports, summary = scan(lab, vigia, "-sS", "-p", spec(), T6, *FAST)
    assert states(ports) == want()
    assert summary["replies_rejected"] == 0, summary
    assert "deferred" not in summary


def test_blind_flood_changes_nothing(lab, vigia):
    """SYN-ACKs, RSTs and ICMPv6 errors quoting packets never sent, with
    random sequence numbers, sprayed at the whole source-port range during
    the scan: no false open, no state changed, and the summary counts the
    rejected packets."""
    f = Forger6(lab, "flood", RANGE[0], RANGE[-1], SPORT_LO, SPORT_HI)
    try:
        results = [scan(lab, vigia, "-sS", "-p", spec(), T6, *FAST) for _ in range(3)]
    finally:
        sent = f.stop()
    assert sent > 1000, f"the flood sent only {sent} packets"
    for _, ports, summary in results:
        got = states(ports)
        assert {k for k, v in got.items() if v[0] == "open"} == {(T6, p) for p in OPEN}
        assert got == want()
        assert summary["open"] == len(OPEN), summary
    assert sum(s["replies_rejected"] for _, _, s in results) > 0, [s for _, _, s in results]


def test_spoofed_answers_with_wrong_cookie_are_rejected(lab, vigia):
    """A forger that sees every probe answers it on the right ports with a
    wrong ack (SYN-ACK and RST), with ICMPv6 errors quoting a wrong sequence
    number, and with ICMPv6 errors quoting packets the scanner never sent
    (another source, another port): dropped ports stay filtered
    no-response, closed ports closed; each forgery is counted as
    rejected."""
    f = Forger6(lab, "spoof")
    try:
        _, ports, summary = scan(lab, vigia, "-sS", "-p", spec(), T6, *FAST)
    finally:
        sent = f.stop()
    assert sent >= FORGERIES_PER_PROBE * len(RANGE), sent
    assert states(ports) == want()
    # A dropped port's first try waits 300 ms, time for its forgeries.
    assert summary["replies_rejected"] >= FORGERIES_PER_PROBE * len(DROP | STORM), summary


def test_icmp6_errors_quoting_packets_never_sent_are_rejected(lab, vigia):
    """ICMPv6 errors that quote each probe's ports and sequence number but
    as sent from another address, or to the neighbouring port: packets the
    scanner never sent. No state changes (a dropped port is not made
    filtered by them), and every one is counted as rejected."""
    f = Forger6(lab, "unsent")
    try:
        _, ports, summary = scan(lab, vigia, "-sS", "-p", spec(), T6, *FAST)
    finally:
        sent = f.stop()
    assert sent >= 2 * len(RANGE), sent
    assert states(ports) == want()
    # Only forgeries are rejected, never more than were sent; the dropped
    # ports' quotes (sent while their first try waits) are all among them.
    assert 2 * len(DROP | STORM) <= summary["replies_rejected"] <= sent, (summary, sent)


def test_rst_storm_is_one_closed_record_per_port(lab, vigia):
    f = Forger6(lab, "storm", 20, *sorted(STORM))
    try:
        _, ports, summary = scan(lab, vigia, "-sS", "-p", spec(), T6, *FAST)
    finally:
        sent = f.stop()
    assert sent >= 20 * len(STORM), sent
    got = states(ports)
    for p in STORM:
        assert got[(T6, p)] == ("closed", "conn-refused"), (p, got[(T6, p)])
        assert [r["tries"] for r in ports if r["port"] == p] == [1], p
    assert got == {(T6, p): expected(p) for p in RANGE}
    # The extra resets are valid answers to finished probes.
    assert summary["replies_late"] > 0, summary
    assert summary["replies_rejected"] == 0, summary


def test_syn_ack_then_nothing_is_open_once(vigia):
    """Our RST is dropped, so the target retransmits its SYN-ACK: the port
    is open, reported once, and the retransmission counts as late (the
    dropped port HOLD keeps the scan open for it, as in test_hostile)."""
    port = min(HALF_OPEN)
    lab = rawlab.RawLab("o6")
    try:
        lab.listen([(T6, port)])
        lab.nft(HALF_OPEN_RULES)
        lab.warm((T6,))
        _, ports, summary = scan(lab, vigia, "-sS", "-p", f"{port},3000-{HOLD}", T6,
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
    f = Forger6(lab, "spoof")
    try:
        r = vigia_scan(lab, vigia, "-sS", "-p", spec(), T6, *FAST)
    finally:
        f.stop()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.rstrip().splitlines()
    assert lines[-1].startswith("Done: 40/40 ports scanned"), r.stdout
    assert any("rejected (wrong cookie: not answers to our probes)" in line
               for line in lines[:-1]), r.stdout


# Holds every port of the scanner's ephemeral range on "::" (dual stack:
# no IPv4 or IPv6 connect() may take it) for argv[3] seconds, then frees
# them; prints "ready" once they are held, "freed" after.
_HOLDER6 = textwrap.dedent("""
    import socket, sys, time
    lo, hi, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    socks = []
    for port in range(lo, hi + 1):
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        socks.append(s)
    print("ready", flush=True)
    time.sleep(min(hold, 30))
    for s in socks:
        s.close()
    print("freed", flush=True)
    sys.stdin.read()
""")


def test_connect_with_ephemeral_ports_exhausted(lab, vigia):
    """Eight ephemeral ports in the scanner namespace, all held for a
    second: an IPv6 connect() has no source port (EADDRNOTAVAIL); the
    engine waits until they are free, and every port gets its true state."""
    # The range sysctl lives under net.ipv4 but serves IPv6 too.
    old = lab.run(lab.scanner, ["sysctl", "-n", "net.ipv4.ip_local_port_range"]).stdout.split()
    lab.run(lab.scanner, ["sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=40000 40007"],
            check=True)
    holder = None
    try:
        holder = lab.popen(lab.scanner, [sys.executable, "-c", _HOLDER6, "40000", "40007", "1"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "ready"
        _, ports, summary = scan(lab, vigia, "-sT", "-p", f"{spec()},3000-3299", T6, *FAST,
                                 timeout=120)
        assert holder.stdout.readline().strip() == "freed"
    finally:
        if holder:
            holder.stdin.close()
            holder.wait(timeout=35)
        lab.run(lab.scanner, ["sysctl", "-q", "-w",
                              f"net.ipv4.ip_local_port_range={old[0]} {old[1]}"], check=True)
    exp = want() | {(T6, p): ("closed", "conn-refused") for p in range(3000, 3300)}
    assert states(ports) == exp
    assert summary["complete"] is True and summary["results"] == len(exp), summary
    assert max(p["tries"] for p in ports) <= 2
    assert summary["deferred"] > 0, summary
    assert summary["elapsed_s"] >= 0.8, summary
    assert "replies_rejected" not in summary
