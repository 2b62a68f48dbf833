# SPDX-License-Identifier: MIT
"""Network namespaces for the end-to-end tests: a scanner namespace and a
target namespace joined by a veth pair, with TEST-NET addresses only
(198.18.0.0/15, 2001:db8::/32) and no default route, so nothing a test sends
can leave the machine. Every namespace is removed on close(), which is
idempotent, and again at interpreter exit as a safety net."""
import atexit
import itertools
import os
import subprocess
import sys
import textwrap

SCANNER_V4 = "198.18.0.1"
TARGET_V4 = "198.18.0.2"
SCANNER_V6 = "2001:db8::1"
TARGET_V6 = "2001:db8::2"

_counter = itertools.count()
_live = set()          # namespace names created and not yet deleted


def _ip(*args, check=True, timeout=10):
    return subprocess.run(["ip", *args], capture_output=True, text=True,
                          timeout=timeout, check=check)


def list_netns():
    """Names of the network namespaces that exist now."""
    out = _ip("netns", "list").stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _delete_netns(name):
    _ip("netns", "del", name, check=False)
    _live.discard(name)


@atexit.register
def _cleanup_leftovers():
    for name in list(_live):
        _delete_netns(name)


# A TCP listener process for a namespace: binds every (addr, port) given,
# prints "ready", and exits when its stdin closes or after a bounded time.
_LISTENER = textwrap.dedent("""
    import socket, sys, select
    socks = []
    for spec in sys.argv[1:]:
        addr, port = spec.rsplit(",", 1)
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, int(port)))
        s.listen(128)
        socks.append(s)
    print("ready", flush=True)
    select.select([sys.stdin], [], [], 300)
""")


class NetnsPair:
    """Two namespaces, `scanner` and `target`, joined by a veth pair:
    scanner 198.18.0.1/24 + 2001:db8::1/64, target 198.18.0.2/24 +
    2001:db8::2/64 (nodad), loopback up in both, no default route."""

    def __init__(self, tag="p"):
        n = next(_counter)
        base = f"vg{tag}{os.getpid()}x{n}"
        self.scanner = f"{base}s"
        self.target = f"{base}t"
        self.procs = []
        self.closed = False
        # Interface names must stay under 16 characters.
        veth_s = f"vs{os.getpid() % 100000}x{n}"
        veth_t = f"vt{os.getpid() % 100000}x{n}"
        try:
            for ns in (self.scanner, self.target):
                _ip("netns", "add", ns)
                _live.add(ns)
            _ip("link", "add", veth_s, "netns", self.scanner,
                "type", "veth", "peer", "name", veth_t, "netns", self.target)
            for ns, dev, v4, v6 in ((self.scanner, veth_s, SCANNER_V4, SCANNER_V6),
                                    (self.target, veth_t, TARGET_V4, TARGET_V6)):
                _ip("-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
                _ip("-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "link", "set", dev, "up")
            # The kernel rate-limits the ICMP errors a reject rule sends; a
            # limited error would turn an exact reason into no-response.
            for key, value in (("net.ipv4.icmp_ratelimit", "0"),
                               ("net.ipv4.icmp_msgs_per_sec", "1000000"),
                               ("net.ipv4.icmp_msgs_burst", "1000000"),
                               ("net.ipv6.icmp.ratelimit", "0")):
                subprocess.run(["ip", "netns", "exec", self.target, "sysctl", "-q", "-w",
                                f"{key}={value}"], check=True, capture_output=True, timeout=10)
            for ns in (self.scanner, self.target):
                routes = _ip("-n", ns, "route", "show", "default").stdout.strip()
                routes6 = _ip("-n", ns, "-6", "route", "show", "default").stdout.strip()
                if routes or routes6:
                    raise RuntimeError(f"namespace {ns} unexpectedly has a default route")
        except BaseException:
            self.close()
            raise

    def run(self, ns, args, timeout=30, **kw):
        """Runs args inside namespace ns; returns CompletedProcess (text)."""
        return subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True,
                              text=True, timeout=timeout, **kw)

    def popen(self, ns, args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns, *args], **kw)
        self.procs.append(p)
        return p

    def listen(self, endpoints):
        """Starts TCP listeners in the target namespace on (addr, port)
        pairs and waits until they accept connections."""
        specs = [f"{a},{p}" for a, p in endpoints]
        p = self.popen(self.target, [sys.executable, "-c", _LISTENER, *specs],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"listeners in {self.target} did not start: {line!r}")
        return p

    def nft(self, ruleset):
        """Loads an nftables ruleset into the target namespace."""
        r = self.run(self.target, ["nft", "-f", "-"], input=ruleset, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"nft failed: {r.stderr}")

    def close(self):
        if self.closed:
            return
        self.closed = True
        for p in self.procs:
            if p.poll() is None:
                try:
                    if p.stdin:
                        p.stdin.close()
                    p.wait(timeout=3)
                except (subprocess.TimeoutExpired, OSError):
                    p.kill()
                    p.wait(timeout=3)
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()
        for ns in (self.scanner, self.target):
            _delete_netns(ns)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
