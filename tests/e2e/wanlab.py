# SPDX-License-Identifier: MIT
"""The WAN lab for pytest: namespaces `scanner` and `target` joined ONLY by
vglink (bench/lab/vglink.c), a user-space relay between two TAP devices
that adds delay, loss and a packets-per-second cap (the kernel here has no
netem), or by a plain veth pair for the `veth` scenario. Scanner
198.18.0.1/24 + 2001:db8::1/64, target 198.18.0.2/24 + 2001:db8::2/64, no
default route. The target holds a seeded set of open ports (one listener
process), of dropped ports (nftables) and closed ports (kernel RST), written
to open.truth and filtered.truth. The scenario names and the relay's
settings come from bench/lab/scenarios.tsv, which bench/lab/wanlab.sh reads
too. close() (also the context manager's exit, and atexit) kills every
process in both namespaces and deletes them."""
import atexit
import ipaddress
import itertools
import json
import os
import select
import signal
import subprocess
import sys
import time

import netns

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_DIR = os.path.join(ROOT, "bench", "lab")
sys.path.insert(0, LAB_DIR)
import wanlab_truth  # noqa: E402

SCANNER_V4, TARGET_V4 = netns.SCANNER_V4, netns.TARGET_V4
SCANNER_V6, TARGET_V6 = netns.SCANNER_V6, netns.TARGET_V6
WIDE_NET = str(wanlab_truth.WIDE_NET)

_counter = itertools.count()
_open_labs = set()


def scenarios():
    """{name: (link, impairment spec, set of extras)} from scenarios.tsv."""
    out = {}
    with open(os.path.join(LAB_DIR, "scenarios.tsv")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, link, spec, extras = line.split()
            out[name] = (link, spec, set() if extras == "-" else set(extras.split(",")))
    return out


def vglink_path():
    return os.environ.get("VGLINK", os.path.join(ROOT, "build", "vglink"))


@atexit.register
def _close_all():
    for lab in list(_open_labs):
        lab.close()


def _ns_pids(ns):
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=10)
    return [int(x) for x in r.stdout.split()]


class WanLab:
    """One scenario's lab. ports/n_open/n_filtered/seed choose the target's
    services; workdir receives the truth files (a fresh temp dir if None);
    a2b / b2a replace the scenario's relay settings for one direction."""

    def __init__(self, scenario, ports="1-4000", n_open=40, n_filtered=150, seed=1,
                 workdir=None, max_seconds=900, wide_open=2000, wide_rst=10000,
                 a2b=None, b2a=None):
        table = scenarios()
        if scenario not in table:
            raise ValueError(f"unknown scenario {scenario!r} (known: {', '.join(table)})")
        self.scenario = scenario
        self.link, self.spec, self.extras = table[scenario]
        # a2b / b2a override the scenario's impairment of one direction
        # (a = scanner side, b = target side).
        self.a2b = self.spec if a2b is None else a2b
        self.b2a = self.spec if b2a is None else b2a
        n = next(_counter)
        base = f"vgw{os.getpid()}x{n}"
        self.scanner, self.target = f"{base}s", f"{base}t"
        short = f"{os.getpid() % 100000}x{n}"
        self.dev_s, self.dev_t = f"ws{short}", f"wt{short}"
        self.procs = []
        self.relay = None
        self.closed = False
        if workdir is None:
            import tempfile
            workdir = tempfile.mkdtemp(prefix=f"wanlab-{scenario}-")
        self.workdir = workdir
        self.port_range = ports
        lo, hi = wanlab_truth.parse_range(ports)
        self.all_ports = set(range(lo, hi + 1))
        _open_labs.add(self)
        try:
            self._build(n_open, n_filtered, seed, max_seconds, wide_open, wide_rst)
        except BaseException:
            self.close()
            raise

    # ---- construction ----

    def _ip(self, *args, check=True):
        return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10,
                              check=check)

    def _build(self, n_open, n_filtered, seed, max_seconds, wide_open, wide_rst):
        open_, filtered = wanlab_truth.port_sets(self.port_range, n_open, n_filtered, seed)
        self.open_ports, self.filtered_ports = set(open_), set(filtered)
        self.closed_ports = self.all_ports - self.open_ports - self.filtered_ports
        wanlab_truth.write(self.workdir, "open.truth", open_)
        wanlab_truth.write(self.workdir, "filtered.truth", filtered)
        self.open_hosts, self.rst_hosts = [], []
        if "wide" in self.extras:
            self.open_hosts, self.rst_hosts = wanlab_truth.host_sets(wide_open, wide_rst, seed)
            wanlab_truth.write(self.workdir, "open_hosts.truth", self.open_hosts)
            wanlab_truth.write(self.workdir, "rst_hosts.truth", self.rst_hosts)

        for ns in (self.scanner, self.target):
            self._ip("netns", "add", ns)
            netns._live.add(ns)
            self._ip("-n", ns, "link", "set", "lo", "up")
        if self.link == "veth":
            self._ip("link", "add", self.dev_s, "netns", self.scanner, "type", "veth",
                     "peer", "name", self.dev_t, "netns", self.target)
        else:
            self._start_relay(seed, max_seconds)
        for ns, dev, v4, v6 in ((self.scanner, self.dev_s, SCANNER_V4, SCANNER_V6),
                                (self.target, self.dev_t, TARGET_V4, TARGET_V6)):
            self._ip("-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
            self._ip("-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            self._ip("-n", ns, "link", "set", dev, "up")
        for ns in (self.scanner, self.target):
            for key, value in (("net.ipv4.icmp_ratelimit", "0"),
                               ("net.ipv4.icmp_msgs_per_sec", "1000000"),
                               ("net.ipv4.icmp_msgs_burst", "1000000"),
                               ("net.ipv6.icmp.ratelimit", "0")):
                self.run(ns, ["sysctl", "-q", "-w", f"{key}={value}"], check=True)
        if "wide" in self.extras:
            self._ip("-n", self.scanner, "route", "add", WIDE_NET, "via", TARGET_V4)
            self._ip("-n", self.target, "route", "add", "local", WIDE_NET, "dev", "lo")
        for ns in (self.scanner, self.target):
            if (self._ip("-n", ns, "route", "show", "default").stdout.strip()
                    or self._ip("-n", ns, "-6", "route", "show", "default").stdout.strip()):
                raise RuntimeError(f"namespace {ns} has a default route; refusing to scan")
        rules = wanlab_truth.nft_ruleset(filtered, "rstlimit" in self.extras,
                                         self.open_hosts, self.rst_hosts)
        with open(os.path.join(self.workdir, "target.nft"), "w") as f:
            f.write(rules)
        r = self.run(self.target, ["nft", "-f", "-"], input=rules)
        if r.returncode != 0:
            raise RuntimeError(f"nft failed: {r.stderr}")
        lp = self.popen(self.target, [sys.executable, os.path.join(LAB_DIR, "wanlab_listen.py"),
                                      os.path.join(self.workdir, "open.truth"),
                                      "--max-seconds", str(max_seconds)],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if not self._readline(lp.stdout, 20).startswith("ready"):
            raise RuntimeError("the target's listener did not start")
        self.verify()
        self.target_mac = self._mac(self.target, self.dev_t)
        self.scanner_mac = self._mac(self.scanner, self.dev_s)

    def _start_relay(self, seed, max_seconds):
        exe = vglink_path()
        if not os.access(exe, os.X_OK):
            raise RuntimeError(f"vglink not found at {exe}; build it first (make)")
        args = [exe, "--ns", self.target, "--tap-a", self.dev_s, "--tap-b", self.dev_t,
                "--a2b", self.a2b, "--b2a", self.b2a, "--seed", str(seed),
                "--max-seconds", str(max_seconds),
                "--stats-json"]
        self.relay = self.popen(self.scanner, args, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._readline(self.relay.stdout, 10)
        if line.strip() != "ready":
            raise RuntimeError(f"vglink did not start: {line!r} {self.relay.stderr.read()!r}"
                               if self.relay.poll() is not None else f"vglink: {line!r}")

    @staticmethod
    def _readline(f, timeout):
        r, _, _ = select.select([f], [], [], timeout)
        return f.readline() if r else ""

    def _mac(self, ns, dev):
        out = self._ip("-n", ns, "link", "show", dev).stdout
        return out.split("link/ether")[1].split()[0]

    def verify(self, timeout=60):
        """Pings the target over the link until it answers (both families,
        and one wide host when the scenario has them), bounded by timeout."""
        addrs = [TARGET_V4, TARGET_V6]
        if self.rst_hosts:
            addrs.append(self.rst_hosts[0])
        deadline = time.monotonic() + timeout
        for a in addrs:
            while True:
                r = self.run(self.scanner, ["ping", "-c", "1", "-W", "1", a], timeout=5)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{a} does not answer ping over the {self.scenario} link")

    # ---- use ----

    def run(self, ns, args, timeout=30, **kw):
        return subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True,
                              text=True, timeout=timeout, **kw)

    def popen(self, ns, args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns, *args], **kw)
        self.procs.append(p)
        return p

    def relay_stats(self, timeout=5):
        """The relay's counters so far: {"a2b": {...}, "b2a": {...}}."""
        if self.relay is None:
            return None
        self.relay.send_signal(signal.SIGUSR1)
        line = self._readline(self.relay.stdout, timeout)
        return json.loads(line) if line else None

    def tap_drops(self):
        """Frames each link device dropped so far: for the relay, those the
        kernel could not queue because the relay had not read them yet
        (a2b: the scanner's tap, b2a: the target's)."""
        out = {}
        for key, ns, dev in (("a2b", self.scanner, self.dev_s), ("b2a", self.target, self.dev_t)):
            r = self.run(ns, ["ip", "-s", "-j", "link", "show", dev])
            out[key] = json.loads(r.stdout)[0]["stats64"]["tx"]["dropped"]
        return out

    def expected(self, ip=TARGET_V4):
        """{port: state} the scan of ip over the lab's port range must find."""
        out = {p: "closed" for p in self.closed_ports}
        out.update({p: "open" for p in self.open_ports})
        out.update({p: "filtered" for p in self.filtered_ports})
        return out

    def close(self):
        if self.closed:
            return
        self.closed = True
        _open_labs.discard(self)
        for p in self.procs:
            if p.poll() is None and p.stdin:
                try:
                    p.stdin.close()
                except OSError:
                    pass
        deadline = time.monotonic() + 3
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=3)
        for ns in (self.scanner, self.target):
            if ns not in netns.list_netns():
                continue
            for pid in _ns_pids(ns):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            netns._delete_netns(ns)
        for p in self.procs:
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def is_wide_addr(a):
    return ipaddress.ip_address(a) in ipaddress.ip_network(WIDE_NET)
