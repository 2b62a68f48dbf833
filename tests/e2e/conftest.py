# SPDX-License-Identifier: MIT
"""Shared fixtures for the end-to-end tests: the binary under test, free
loopback ports, listeners, and network namespaces the tests create."""
import os
import socket
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def vigia():
    path = os.environ.get("VIGIA", os.path.join(ROOT, "build", "vigia"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"vigia binary not found at {path}; build it first (make)")
    return path


def run(args, timeout=60, **kw):
    """Runs a command, returns CompletedProcess with text stdout/stderr."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp_tcp_pair(host="127.0.0.1", reuse=False):
    """A UDP socket and a TCP socket bound to one free port of host, for a
    DNS server. The UDP port the kernel picks may be taken for TCP (by any
    other test's connection or listener): then another is tried, at most
    100 times. Returns (udp, tcp, port); tcp is not listening yet."""
    for _ in range(100):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if reuse:
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, port))
        except OSError:
            tcp.close()
            udp.close()
            continue
        return udp, tcp, port
    raise OSError("no port free for both UDP and TCP on " + host)


class Listeners:
    """TCP listeners on loopback, closed at teardown."""

    def __init__(self):
        self.socks = []

    def listen(self, host="127.0.0.1", port=0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.listen(128)
        self.socks.append(s)
        return s.getsockname()[1]

    def close(self):
        for s in self.socks:
            s.close()


@pytest.fixture
def listeners():
    ls = Listeners()
    yield ls
    ls.close()


def is_root():
    return os.geteuid() == 0


# ---- helpers for the scan tests (test_scan_*.py) ----

import json  # noqa: E402


def parse_ndjson(text):
    """Parses an NDJSON stream; every line must be one JSON object."""
    recs = []
    for i, line in enumerate(text.splitlines()):
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"line {i + 1} is not JSON ({e}): {line!r}")
        assert isinstance(rec, dict), f"line {i + 1} is not an object: {line!r}"
        recs.append(rec)
    return recs


PORT_KEYS = {"type", "ip", "port", "proto", "state", "reason", "rtt_us", "tries", "service"}
REASONS = {"open": {"syn-ack"},
           "closed": {"conn-refused", "reset"},
           "filtered": {"no-response", "host-unreach", "net-unreach", "admin-prohibited",
                        "proto-unreach", "port-unreach", "ttl-exceeded"}}


def check_ndjson(recs, complete=True, open_only=False):
    """Checks the structure of a vigia.scan/1 stream: a scan line first, a
    summary line last, port lines between, counts consistent (with
    open_only, as for --open, only open records and the open count). Returns
    (scan, ports, summary)."""
    assert len(recs) >= 2, f"too few records: {recs!r}"
    scan, summary, ports = recs[0], recs[-1], recs[1:-1]
    assert scan["type"] == "scan", scan
    assert scan["schema"] == "vigia.scan/1", scan
    assert summary["type"] == "summary", summary
    # Raw scans run host discovery first: a "host" record per live host,
    # before any port record.
    hosts = [r for r in ports if r["type"] == "host"]
    ports = ports[len(hosts):]
    for h in hosts:
        assert h["state"] == "up" and isinstance(h["ip"], str), h
    if hosts:
        assert summary["hosts_up"] == len(hosts), summary
    for p in ports:
        assert p["type"] == "port", p
        assert PORT_KEYS <= set(p), f"missing keys in {p}"
        assert isinstance(p["port"], int) and 1 <= p["port"] <= 65535, p
        assert p["proto"] == "tcp", p
        assert p["state"] in REASONS, p
        assert p["reason"] in REASONS[p["state"]], p
        assert isinstance(p["tries"], int) and p["tries"] >= 1, p
        assert p["rtt_us"] is None or (isinstance(p["rtt_us"], int) and p["rtt_us"] >= 0), p
        if p["reason"] == "no-response":
            assert p["rtt_us"] is None, f"no answer but an RTT: {p}"
        else:
            assert isinstance(p["rtt_us"], int), f"answered port without rtt_us: {p}"
        assert p["service"] is None or isinstance(p["service"], str), p
    keys = [(p["ip"], p["port"]) for p in ports]
    assert len(keys) == len(set(keys)), "a port is reported more than once"
    for state in ("open",) if open_only else ("open", "closed", "filtered"):
        assert summary[state] == sum(1 for p in ports if p["state"] == state), \
            f"summary {state}={summary[state]} does not match the records"
    if open_only:
        assert all(p["state"] == "open" for p in ports), "--open listed a non-open port"
    else:
        assert summary["results"] == len(ports), summary
    assert summary["complete"] is complete, summary
    assert summary["interrupted"] is (not complete), summary
    return scan, ports, summary


def states(ports):
    """{(ip, port): (state, reason)} of the port records."""
    return {(p["ip"], p["port"]): (p["state"], p["reason"]) for p in ports}


class PortBlock:
    """A block of consecutive loopback ports held by this process: every
    port is bound (without SO_REUSEADDR, so nobody else can take it) and
    refuses connections until open() makes it listen. That makes the
    expected open/closed sets exact even with other tests running."""

    def __init__(self, host="127.0.0.1", n=20):
        import random
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        rnd = random.Random(os.getpid() * 7919 + n)
        for _ in range(200):
            base = rnd.randrange(20000, 32000 - n)
            socks = []
            try:
                for port in range(base, base + n):
                    s = socket.socket(family, socket.SOCK_STREAM)
                    socks.append(s)
                    if family == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((host, port))
            except OSError:
                for s in socks:
                    s.close()
                continue
            self.host, self.base, self.socks = host, base, socks
            self.ports = list(range(base, base + n))
            self.spec = f"{base}-{base + n - 1}"
            return
        raise RuntimeError(f"no block of {n} free ports on {host}")

    def open(self, port):
        self.socks[port - self.base].listen(16)

    def close(self):
        for s in self.socks:
            s.close()


@pytest.fixture
def port_block():
    """port_block(host="127.0.0.1", n=20) -> PortBlock, closed at teardown."""
    blocks = []

    def make(host="127.0.0.1", n=20):
        b = PortBlock(host, n)
        blocks.append(b)
        return b
    yield make
    for b in blocks:
        b.close()


@pytest.fixture(scope="session", autouse=True)
def no_leftover_namespaces():
    """After the whole session, no namespace created by netns.py (names carry
    this pid) may remain, whatever failed."""
    yield
    if not is_root():
        return
    import netns
    mine = sorted(n for n in netns.list_netns() if n.startswith("vg") and f"{os.getpid()}x" in n)
    netns._cleanup_leftovers()      # remove them anyway, then report
    assert mine == [], f"leftover network namespaces after the tests: {mine}"


# --- vigia check: servers the check tests start (tests/e2e/check_servers.py) ---

@pytest.fixture
def hostile():
    """Factory: hostile(mode, payload=b"") -> a check_servers.Hostile server,
    closed at teardown."""
    import check_servers
    made = []

    def make(mode, payload=b"", host="127.0.0.1"):
        h = check_servers.Hostile(mode, payload, host=host)
        made.append(h)
        return h
    yield make
    for h in made:
        h.close()


@pytest.fixture(scope="session")
def check_certs(tmp_path_factory):
    """A test CA and the TLS scenarios of the check tests, made with openssl:
    valid, expiring (5 days), expired, self-signed, wrong host name, an
    intermediate that expires (5 days) before its leaf, and a client cert."""
    import check_servers
    d = str(tmp_path_factory.mktemp("certs"))
    cf = check_servers.CertFactory(d)
    cf.issue("inter", "vigia test intermediate", "root", end_days=1800, ca=True)
    cf.issue("inter_short", "vigia short intermediate", "root", end_days=5, ca=True)
    cf.issue("valid", "localhost", "inter", end_days=365)
    cf.issue("expiring", "localhost", "inter", end_days=5)
    cf.issue("expired", "localhost", "inter", start_days=-60, end_days=-1)
    cf.issue("wronghost", "other.example", "inter", sans="DNS:other.example")
    cf.issue("leaf_short_inter", "localhost", "inter_short", end_days=365)
    cf.self_signed("selfsigned", "localhost", sans="DNS:localhost,IP:127.0.0.1")
    cf.issue("client", "vigia client", "root", end_days=30)
    scen = {
        "valid": (cf.chain("valid_chain", "valid", "inter"), cf.p("valid.key"), ""),
        "expiring": (cf.chain("expiring_chain", "expiring", "inter"), cf.p("expiring.key"), ""),
        "expired": (cf.chain("expired_chain", "expired", "inter"), cf.p("expired.key"), ""),
        "selfsigned": (cf.p("selfsigned.crt"), cf.p("selfsigned.key"), ""),
        "wronghost": (cf.chain("wronghost_chain", "wronghost", "inter"), cf.p("wronghost.key"), ""),
        "interexp": (cf.chain("interexp_chain", "leaf_short_inter", "inter_short"),
                     cf.p("leaf_short_inter.key"), ""),
        "clientauth": (cf.chain("client_srv_chain", "valid", "inter"), cf.p("valid.key"),
                       f"ssl_verify_client on; ssl_client_certificate {cf.p('root.crt')};"),
    }
    return cf, scen


@pytest.fixture(scope="session")
def nginx(tmp_path_factory, check_certs):
    """nginx on loopback (plain HTTP routes + one HTTPS server per TLS
    scenario), started once for the session; skips when nginx is missing."""
    import check_servers
    if not check_servers.have(check_servers.NGINX):
        pytest.skip("nginx is not installed (scripts/deps.sh installs it)")
    _, scen = check_certs
    n = check_servers.Nginx(str(tmp_path_factory.mktemp("nginx")), tls=scen)
    yield n
    n.close()


@pytest.fixture
def sshd(tmp_path):
    """Factory: sshd(keytype) -> a check_servers.Sshd on loopback."""
    import check_servers
    if not check_servers.have(check_servers.SSHD):
        pytest.skip("openssh-server is not installed (scripts/deps.sh installs it)")
    if not is_root():
        pytest.skip("sshd needs root")
    made = []

    def make(keytype="ed25519", kex=None, bits=None):
        s = check_servers.Sshd(str(tmp_path / f"sshd_{keytype}_{len(made)}"), keytype, kex=kex, bits=bits)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()
