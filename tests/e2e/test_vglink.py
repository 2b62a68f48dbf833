# SPDX-License-Identifier: MIT
"""vglink, the WAN lab's link emulator, between two namespaces: it really
delays (ping RTT at least the two one-way delays), really drops (the share
of UDP datagrams lost is near the loss setting, and the relay's counter
agrees with what the receiver missed), the pps cap holds (the receiver never
sees more than the rate allows, the rest is tail-dropped), and it exits when
its stdin closes or its lifetime ends. Needs root (namespaces, TAP)."""
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import textwrap

import pytest

import wanlab

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, TAP devices)")

# A UDP sink on the target: counts datagrams on TARGET_V4:9999 and notes the
# kernel's receive timestamp (SO_TIMESTAMPNS) of the first and last, so the
# span is when the relay delivered them, not when this process got to run.
# Exits 1.5 s after the last datagram (or after 30 s) and prints JSON.
_SINK = textwrap.dedent("""
    import json, select, socket, struct, sys, time
    TS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value; older Pythons lack the name
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, TS, 1)
    s.bind((sys.argv[1], 9999))
    print("ready", flush=True)
    n, first, last, seen, top, late = 0, None, None, set(), -1, 0
    end = time.monotonic() + 30
    idle = None
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            if idle is not None and time.monotonic() > idle:
                break
            continue
        data, anc, _, _ = s.recvmsg(2048, 64)
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == TS:
                sec, ns = struct.unpack("qq", val[:16])
                t = sec + ns / 1e9
                first = t if first is None else first
                last = t
        n += 1
        seq = int(data[:8])
        seen.add(seq)
        late += seq < top  # overtaken by a later datagram
        top = max(top, seq)
        idle = time.monotonic() + 1.5
    print(json.dumps({"count": n, "distinct": len(seen), "first": first, "last": last,
                      "late": late}))
""")

# Sends N numbered datagrams to TARGET_V4:9999, PER_MS of them a millisecond.
_SEND = textwrap.dedent("""
    import socket, sys, time
    n, per_ms = int(sys.argv[2]), int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    for i in range(n):
        s.sendto(b"%08d" % i + b"x" * 24, (sys.argv[1], 9999))
        if i % per_ms == per_ms - 1:
            while time.monotonic() < t0 + (i + 1) / per_ms / 1000:
                pass
""")


def _udp_run(lab, n, per_ms):
    sink = lab.popen(lab.target, [sys.executable, "-c", _SINK, wanlab.TARGET_V4],
                     stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    before = lab.relay_stats()
    r = lab.run(lab.scanner, [sys.executable, "-c", _SEND, wanlab.TARGET_V4, str(n), str(per_ms)],
                timeout=60)
    assert r.returncode == 0, r.stderr
    out, _ = sink.communicate(timeout=40)
    after = lab.relay_stats()
    delta = {k: after["a2b"][k] - before["a2b"][k]
             for k in ("received", "forwarded", "dropped_loss", "dropped_queue", "dropped_ring")}
    return json.loads(out), delta


def _ping_rtts(lab, count=20):
    r = lab.run(lab.scanner, ["ping", "-n", "-c", str(count), "-i", "0.05", wanlab.TARGET_V4],
                timeout=60)
    rtts = [float(line.split("time=")[1].split()[0]) for line in r.stdout.splitlines()
            if "time=" in line]
    assert len(rtts) >= count - 2, r.stdout
    return rtts


def test_relay_delays_each_direction():
    with wanlab.WanLab("clean", ports="1-100", n_open=5, n_filtered=5,
                       a2b="delay=30", b2a="delay=7.5") as lab:
        rtts = _ping_rtts(lab)
        # Never faster than the two one-way delays; the upper bound is loose
        # because a loaded machine adds scheduling delay.
        assert min(rtts) >= 37.5, rtts
        assert statistics.median(rtts) < 37.5 + 25, rtts
    with wanlab.WanLab("clean", ports="1-100", n_open=5, n_filtered=5) as lab:
        assert statistics.median(_ping_rtts(lab)) < 5  # no impairment: no added delay


def test_relay_drops_at_the_loss_rate():
    n, p = 4000, 0.10
    with wanlab.WanLab("clean", ports="1-100", n_open=5, n_filtered=5,
                       a2b="loss=10", b2a="", seed=7) as lab:
        got, delta = _udp_run(lab, n, per_ms=20)
        sigma = math.sqrt(n * p * (1 - p))
        lost = n - got["count"]
        assert abs(lost - n * p) < 5 * sigma, (got, delta)
        assert got["distinct"] == got["count"]  # nothing duplicated
        # The relay counted exactly the drops the receiver missed (an ARP
        # frame or two may ride the same direction).
        assert lost <= delta["dropped_loss"] <= lost + 4, (got, delta)
        assert delta["dropped_queue"] == 0 and delta["dropped_ring"] == 0
        assert lab.relay_stats()["b2a"]["dropped_loss"] == 0


def test_relay_rate_cap_holds():
    rate, queue = 2000, 16
    with wanlab.WanLab("clean", ports="1-100", n_open=5, n_filtered=5,
                       a2b=f"rate={rate},queue={queue}", b2a="") as lab:
        # 20,000 datagrams over about 1 s: ten times the cap.
        got, delta = _udp_run(lab, 20000, per_ms=20)
        span = got["last"] - got["first"]
        # Never more than the rate allows over the delivery span (plus the
        # bucket's burst of 2 and a few ms of timestamp slack) ...
        assert got["count"] <= rate * (span + 0.005) + 2 + 1, (got, span)
        # ... the rest was tail-dropped by the queue (all but a few: the
        # sender's tap or the receiver's socket may drop a handful on a
        # busy machine), and the counters add up.
        assert delta["dropped_queue"] >= 20000 - got["count"] - 200, delta
        assert delta["forwarded"] + delta["dropped_queue"] + delta["dropped_loss"] \
            + delta["dropped_ring"] <= delta["received"], delta
        # (the receiving socket may drop a few of a burst on a busy machine)
        assert got["count"] >= delta["forwarded"] - 50
        # ... and the link was kept busy: it did not deliver far less than
        # the cap while backlogged.
        assert got["count"] >= 0.5 * rate * span, (got, span)


@pytest.mark.parametrize("reorder", [False, True])
def test_relay_jitter_keeps_order_unless_told(reorder):
    spec = "delay=1,jitter=10" + (",reorder" if reorder else "")
    with wanlab.WanLab("clean", ports="1-100", n_open=5, n_filtered=5, a2b=spec, b2a="") as lab:
        got, delta = _udp_run(lab, 1000, per_ms=5)  # 0.2 ms apart, jitter 10 ms
        assert got["count"] == got["distinct"] == 1000, (got, delta)
        if reorder:
            assert got["late"] > 100, got
        else:
            assert got["late"] == 0, got


def test_relay_exits_when_stdin_closes_and_reports():
    with wanlab.WanLab("clean", ports="1-100", n_open=5, n_filtered=5) as lab:
        relay = lab.relay
        relay.stdin.close()
        relay.wait(timeout=5)
        stats = json.loads(relay.stderr.read().strip().splitlines()[-1])
        for d in ("a2b", "b2a"):
            assert {"received", "forwarded", "dropped_loss", "dropped_queue",
                    "dropped_ring"} <= set(stats[d])
            assert stats[d]["received"] > 0  # the set-up pings crossed it
        # the taps went with it
        r = lab.run(lab.scanner, ["ip", "link", "show", lab.dev_s])
        assert r.returncode != 0


def test_relay_max_seconds_and_sigterm():
    with wanlab.WanLab("veth", ports="1-100", n_open=5, n_filtered=5) as lab:
        exe = wanlab.vglink_path()
        p = lab.popen(lab.scanner, [exe, "--ns", lab.target, "--tap-a", "vgx1a", "--tap-b", "vgx1b",
                                    "--max-seconds", "1", "--ignore-stdin"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      text=True)
        assert p.stdout.readline().strip() == "ready"
        assert p.wait(timeout=10) == 0
        assert "max-seconds" in p.stderr.read()
        p = lab.popen(lab.scanner, [exe, "--ns", lab.target, "--tap-a", "vgx2a", "--tap-b", "vgx2b"],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      text=True)
        assert p.stdout.readline().strip() == "ready"
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        assert "Terminated" in p.stderr.read()


def test_relay_rejects_bad_specs():
    exe = wanlab.vglink_path()
    for spec in ("speed=3", "loss=120", "queue=5", "delay=abc"):
        r = subprocess.run([exe, "--ns", "nowhere", "--tap-a", "x", "--tap-b", "y", "--a2b", spec],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (spec, r.stderr)
        assert "--a2b" in r.stderr, r.stderr
