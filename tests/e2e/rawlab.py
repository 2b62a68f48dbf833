# SPDX-License-Identifier: MIT
"""A lab for the raw-engine tests: the namespace pair of netns.py (scanner
198.18.0.1 / 2001:db8::1, target 198.18.0.2 / 2001:db8::2, veth, no route
out) plus what raw scans need on the target side: ICMP errors not rate
limited (so every reject rule answers every probe), UDP services, a DNS
server (dnsmasq), extra live addresses, and nftables rules. Everything
lives in the namespaces, which close() removes."""
import os
import shutil
import subprocess
import sys
import textwrap
import time

import netns

SCANNER_V4, TARGET_V4 = netns.SCANNER_V4, netns.TARGET_V4
SCANNER_V6, TARGET_V6 = netns.SCANNER_V6, netns.TARGET_V6

# A UDP responder: echoes every datagram on each (addr, port) given; prints
# "ready"; exits when stdin closes or after a bounded time.
_UDP_ECHO = textwrap.dedent("""
    import socket, sys, select, time
    socks = []
    for spec in sys.argv[1:]:
        addr, port = spec.rsplit(",", 1)
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, int(port)))
        socks.append(s)
    print("ready", flush=True)
    end = time.monotonic() + 600
    while time.monotonic() < end:
        r, _, _ = select.select(socks + [sys.stdin], [], [], 1)
        for s in r:
            if s is sys.stdin:
                sys.exit(0)
            data, peer = s.recvfrom(2048)
            s.sendto(b"echo:" + data[:64], peer)
""")


# A user-space relay between two tun devices in two namespaces: it creates
# tun device argv[2] in its own namespace, then enters namespace argv[1] and
# creates tun argv[3] there, prints "ready" and copies packets both ways
# until stdin closes (or a bounded time passes). masscan and zmap cannot
# scan over tun; this is the lab for that.
_TUN_RELAY = textwrap.dedent("""
    import ctypes, fcntl, os, select, struct, sys, time
    TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
    def tun(name):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
        return fd
    a = tun(sys.argv[2])
    libc = ctypes.CDLL(None, use_errno=True)
    nsfd = os.open("/var/run/netns/" + sys.argv[1], os.O_RDONLY)
    if libc.setns(nsfd, 0x40000000) != 0:
        raise OSError(ctypes.get_errno(), "setns")
    b = tun(sys.argv[3])
    print("ready", flush=True)
    peer = {a: b, b: a}
    end = time.monotonic() + 600
    while time.monotonic() < end:
        r, _, _ = select.select([a, b, sys.stdin], [], [], 1)
        for fd in r:
            if fd is sys.stdin:
                sys.exit(0)
            try:
                os.write(peer[fd], os.read(fd, 65535))
            except OSError:
                pass
""")


def _sysctl(lab, ns, key, value):
    lab.run(ns, ["sysctl", "-q", "-w", f"{key}={value}"], timeout=10)


class RawLab(netns.NetnsPair):
    """NetnsPair with unthrottled ICMP errors on the target."""

    def __init__(self, tag="r"):
        super().__init__(tag)
        try:
            for ns in (self.scanner, self.target):
                # Linux limits ICMP errors (1000/s, bursts of 50, per peer
                # 1/s after a burst): a reject rule hit by a fast scan would
                # then look like a drop. The lab lifts the limits so that the
                # expected reason is exact.
                _sysctl(self, ns, "net.ipv4.icmp_ratelimit", 0)
                _sysctl(self, ns, "net.ipv4.icmp_msgs_per_sec", 1000000)
                _sysctl(self, ns, "net.ipv4.icmp_msgs_burst", 1000000)
                _sysctl(self, ns, "net.ipv6.icmp.ratelimit", 0)
        except BaseException:
            self.close()
            raise

    def warm(self, addrs=(TARGET_V4, TARGET_V6), timeout=10):
        """Pings each address from the scanner until it answers (a fresh
        veth loses the first neighbour solicitations), so that tests with
        short timeouts do not measure neighbour discovery."""
        deadline = time.monotonic() + timeout
        for a in addrs:
            while True:
                r = self.run(self.scanner, ["ping", "-c", "1", "-W", "1", a], timeout=5)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{a} does not answer ping from {self.scanner}")
                time.sleep(0.1)

    def listen_in(self, ns, endpoints):
        """TCP listeners in namespace ns (NetnsPair.listen is the target's)."""
        specs = [f"{a},{p}" for a, p in endpoints]
        p = self.popen(ns, [sys.executable, "-c", netns._LISTENER, *specs],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"listeners in {ns} did not start: {line!r}")
        return p

    def tun_link(self, v4=("198.19.0.1", "198.19.0.2"), v6=("2001:db8:1::1", "2001:db8:1::2")):
        """A second link between the namespaces: tun devices joined by a
        user-space relay, scanner v4[0]/v6[0], target v4[1]/v6[1]."""
        n = len(self.procs)
        ts, tt = f"tvs{os.getpid() % 10000}x{n}", f"tvt{os.getpid() % 10000}x{n}"
        p = self.popen(self.scanner, [sys.executable, "-c", _TUN_RELAY, self.target, ts, tt],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"tun relay did not start: {line!r}")
        for ns, dev, a4, a6 in ((self.scanner, ts, v4[0], v6[0]), (self.target, tt, v4[1], v6[1])):
            self.run(ns, ["ip", "addr", "add", f"{a4}/24", "dev", dev], check=True)
            self.run(ns, ["ip", "addr", "add", f"{a6}/64", "dev", dev, "nodad"], check=True)
            self.run(ns, ["ip", "link", "set", dev, "up"], check=True)
        return ts, tt

    def veth(self, ns):
        """Name of the veth end in namespace ns."""
        out = self.run(ns, ["ip", "-o", "link", "show", "type", "veth"]).stdout
        return out.split(":")[1].strip().split("@")[0]

    def udp_echo(self, endpoints):
        specs = [f"{a},{p}" for a, p in endpoints]
        p = self.popen(self.target, [sys.executable, "-c", _UDP_ECHO, *specs],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"UDP responders in {self.target} did not start: {line!r}")
        return p

    def dnsmasq(self, port=53, addrs=(TARGET_V4, TARGET_V6)):
        """A real DNS server on the target (answers from /etc/hosts-like
        records we give it; no upstream, so nothing leaves the lab)."""
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not os.access(exe, os.X_OK):
            raise RuntimeError("dnsmasq is not installed (apt-get install dnsmasq-base)")
        args = [exe, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon",
                "--conf-file=/dev/null", f"--port={port}", "--bind-interfaces",
                "--user=root", "--pid-file=",
                "--host-record=lab.vigia.test,198.18.0.99"]
        for a in addrs:
            args.append(f"--listen-address={a}")
        p = self.popen(self.target, args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Wait until it answers a query.
        deadline = time.monotonic() + 5
        probe = textwrap.dedent(f"""
            import socket, struct
            name = b"".join(bytes([len(l)]) + l for l in b"lab.vigia.test".split(b".")) + b"\\0"
            q = struct.pack("!HHHHHH", 0xabcd, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.3)
            s.sendto(q, ("{addrs[0]}", {port}))
            print(len(s.recvfrom(512)[0]))
        """)
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"dnsmasq exited: {p.stderr.read()!r}")
            r = self.run(self.scanner, [sys.executable, "-c", probe], timeout=5)
            if r.returncode == 0:
                return p
            time.sleep(0.1)
        raise RuntimeError("dnsmasq did not answer within 5 s")

    def add_target_addrs(self, v4=(), v6=()):
        """More addresses on the target's veth (live hosts for discovery)."""
        dev = self.veth(self.target)
        for a in v4:
            self.run(self.target, ["ip", "addr", "add", f"{a}/24", "dev", dev])
        for a in v6:
            self.run(self.target, ["ip", "addr", "add", f"{a}/64", "dev", dev, "nodad"])

    def proc_status(self, pid):
        """Uid and CapEff lines of /proc/PID/status (a process in the lab)."""
        out = {}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Uid", "Gid", "CapEff", "CapPrm", "Groups"):
                    out[k] = v.strip()
        return out


def vigia_scan(lab, vigia, *args, timeout=60):
    """Runs `vigia scan -q ARGS` in the scanner namespace."""
    return lab.run(lab.scanner, [vigia, "scan", "-q", *args], timeout=timeout)
