# SPDX-License-Identifier: MIT
"""End-to-end tests of how `vigia scan` reads targets and ports, and how it
refuses bad input. Names are resolved only through /etc/hosts (localhost)
or through a tiny DNS server on loopback that the test starts."""
import socket
import struct
import threading

import pytest

from conftest import check_ndjson, parse_ndjson, run

ESSENTIAL = [21, 22, 23, 25, 53, 80, 110, 143, 443, 3306, 3389, 5432, 6379, 8080]


def scan_ndjson(vigia, *args, timeout=60):
    r = run([vigia, "scan", "-q", "-o", "ndjson", *args], timeout=timeout)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    assert r.stderr == "", r.stderr
    return check_ndjson(parse_ndjson(r.stdout))


def hosts_of(vigia, *args):
    scan, ports, _ = scan_ndjson(vigia, "-p", "1", *args)
    ips = sorted({p["ip"] for p in ports})
    assert scan["n_targets"] == len(ips), (scan, ips)
    return ips


def ports_of(vigia, *args):
    scan, ports, _ = scan_ndjson(vigia, "127.0.0.1", *args)
    got = sorted(p["port"] for p in ports)
    assert scan["n_ports"] == len(got), (scan["n_ports"], len(got))
    return scan, got


class DnsServer:
    """A tiny UDP DNS server on 127.0.0.1: answers A/AAAA queries for the
    names in `records`, NXDOMAIN for every other name."""

    def __init__(self, records=None, silent=False):
        self.records = {k.lower(): v for k, v in (records or {}).items()}
        self.silent = silent
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.server = f"127.0.0.1:{self.port}"
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                reply = self._answer(data)
            except (struct.error, IndexError, UnicodeDecodeError):
                continue
            if reply and not self.silent:
                self.sock.sendto(reply, peer)

    def _answer(self, data):
        qid = struct.unpack(">H", data[:2])[0]
        i, labels = 12, []
        while data[i]:
            n = data[i]
            labels.append(data[i + 1:i + 1 + n].decode("ascii"))
            i += 1 + n
        qtype = struct.unpack(">H", data[i + 1:i + 3])[0]
        question = data[12:i + 5]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        if name not in self.records:
            return struct.pack(">HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
        answers = []
        for addr in self.records[name]:
            fam, rtype = (socket.AF_INET6, 28) if ":" in addr else (socket.AF_INET, 1)
            if rtype == qtype:
                rdata = socket.inet_pton(fam, addr)
                answers.append(struct.pack(">HHHIH", 0xC00C, rtype, 1, 60, len(rdata)) + rdata)
        return (struct.pack(">HHHHHH", qid, 0x8180, 1, len(answers), 0, 0)
                + question + b"".join(answers))

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def dns():
    servers = []

    def make(records=None, silent=False):
        s = DnsServer(records, silent)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


# ---------------------------------------------------------------- targets


def test_localhost_resolves_from_etc_hosts(vigia, dns):
    # The DNS server answers NXDOMAIN for everything: localhost must come
    # from /etc/hosts, never from a server.
    server = dns()
    scan, ports, _ = scan_ndjson(vigia, "-p", "1", "--dns-servers", server.server, "localhost")
    assert [(p["ip"], p.get("host")) for p in ports] == [("127.0.0.1", "localhost")]
    assert server.queries == []


def test_name_resolved_with_dns_servers(vigia, dns):
    server = dns({"four.vigia.test": ["127.0.0.3"], "both.vigia.test": ["127.0.0.2", "::1"]})
    _, ports, _ = scan_ndjson(vigia, "-p", "1", "--dns-servers", server.server,
                              "four.vigia.test")
    assert [(p["ip"], p.get("host")) for p in ports] == [("127.0.0.3", "four.vigia.test")]
    assert ("four.vigia.test", 1) in server.queries

    _, ports, _ = scan_ndjson(vigia, "-p", "1", "-4", "--dns-servers", server.server,
                              "both.vigia.test")
    assert [p["ip"] for p in ports] == ["127.0.0.2"]
    _, ports, _ = scan_ndjson(vigia, "-p", "1", "-6", "--dns-servers", server.server,
                              "both.vigia.test")
    assert [p["ip"] for p in ports] == ["::1"]
    _, ports, _ = scan_ndjson(vigia, "-p", "1", "--all-addresses", "--dns-servers",
                              server.server, "both.vigia.test")
    assert sorted(p["ip"] for p in ports) == ["127.0.0.2", "::1"]


def test_input_file_with_comments(vigia, tmp_path):
    f = tmp_path / "targets.txt"
    f.write_text("# lab hosts\n127.0.0.1   # the first\n\n   \n127.0.0.2 127.0.0.3\n"
                 "# 127.0.0.9 is commented out\n::1\n")
    assert hosts_of(vigia, "-iL", str(f)) == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "::1"]


def test_exclude(vigia, tmp_path):
    assert hosts_of(vigia, "127.0.0.0/29", "--exclude", "127.0.0.3,127.0.0.4-5") == \
        ["127.0.0.0", "127.0.0.1", "127.0.0.2", "127.0.0.6", "127.0.0.7"]
    f = tmp_path / "exclude.txt"
    f.write_text("# not these\n127.0.0.5\n")
    assert hosts_of(vigia, "127.0.0.4-6", "--exclude-file", str(f)) == \
        ["127.0.0.4", "127.0.0.6"]


def test_cidr_and_ranges(vigia):
    assert hosts_of(vigia, "127.0.0.0/30") == \
        ["127.0.0.0", "127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert hosts_of(vigia, "127.0.0.1-3") == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert hosts_of(vigia, "127.0.0.254-127.0.1.1") == \
        ["127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"]
    assert hosts_of(vigia, "::1/128") == ["::1"]


def test_duplicates_scanned_once(vigia):
    assert hosts_of(vigia, "127.0.0.1", "127.0.0.1", "127.0.0.0/31") == \
        ["127.0.0.0", "127.0.0.1"]
    assert hosts_of(vigia, "::1", "0:0::1", "localhost", "127.0.0.1") == ["127.0.0.1", "::1"]


# ------------------------------------------------------------------ ports


def test_ports_by_service_name(vigia):
    assert ports_of(vigia, "-p", "ssh,http")[1] == [22, 80]
    assert ports_of(vigia, "-p", "22,ssh,20-23")[1] == [20, 21, 22, 23]


def test_ports_essential(vigia):
    assert ports_of(vigia, "-p", "essential")[1] == ESSENTIAL


def test_default_ports(vigia):
    scan, got = ports_of(vigia)
    assert scan["n_ports"] == 1023 + 5
    assert got == sorted(set(range(1, 1024)) | set(ESSENTIAL))


def test_all_ports_each_reported_once(vigia, port_block):
    """-p- over a host with listeners: 65535 records, each port once, and
    exactly our listeners open among the ports we hold."""
    block = port_block("127.0.0.1", 10)
    block.open(block.ports[0])
    block.open(block.ports[9])
    r = run([vigia, "scan", "-q", "-p-", "127.0.0.1", "-o", "ndjson"], timeout=60)
    assert r.returncode == 0, r.stderr
    scan, ports, summary = check_ndjson(parse_ndjson(r.stdout))
    assert scan["n_ports"] == 65535
    assert sorted(p["port"] for p in ports) == list(range(1, 65536))
    opened = {p["port"] for p in ports if p["state"] == "open"}
    assert opened & set(block.ports) == {block.ports[0], block.ports[9]}
    assert summary["results"] == summary["planned"] == 65535


# -------------------------------------------------------------- bad input

BAD = [
    (["300.1.1.1"], "300.1.1.1"),
    (["1.2.3.4/33"], "1.2.3.4/33"),
    (["-p", "70000", "127.0.0.1"], "70000"),
    (["-p", "10-5", "127.0.0.1"], "10-5"),
    (["-p", "nosuchsvc", "127.0.0.1"], "nosuchsvc"),
    (["-p", "0", "127.0.0.1"], "'0'"),
    (["-p", "22,,80", "127.0.0.1"], "22,,80"),
    (["--bogus-option", "127.0.0.1"], "--bogus-option"),
    (["--rate", "fast", "127.0.0.1"], "fast"),
    (["--rate", "0", "127.0.0.1"], "--rate"),
    (["--shard", "4/4", "127.0.0.1"], "4/4"),
    (["--shard", "1/0", "127.0.0.1"], "1/0"),
    (["--retries", "many", "127.0.0.1"], "many"),
    (["--max-rtt-timeout", "5parsecs", "127.0.0.1"], "5parsecs"),
    (["-o", "xml", "127.0.0.1"], "xml"),
    (["127.0.0.1", "--exclude", "127.0.0.300"], "127.0.0.300"),
    (["::1/129"], "::1/129"),
    ([], "target"),
]


@pytest.mark.parametrize("args,needle", BAD, ids=[" ".join(a) or "no-targets" for a, _ in BAD])
def test_bad_input_is_a_usage_error(vigia, args, needle):
    r = run([vigia, "scan", "-q", "-p", "1", *args] if "-p" not in args
            else [vigia, "scan", "-q", *args], timeout=20)
    assert r.returncode == 1, f"exit {r.returncode}, stderr {r.stderr!r}"
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr: {r.stderr!r}"
    assert needle in lines[0], lines[0]


def test_unresolvable_name(vigia, dns):
    server = dns({"known.vigia.test": ["127.0.0.1"]})
    r = run([vigia, "scan", "-q", "-p", "1", "--dns-servers", server.server,
             "127.0.0.1", "nosuch.vigia.test"], timeout=30)
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "nosuch.vigia.test" in lines[0], r.stderr
    assert ("nosuch.vigia.test", 1) in server.queries or \
        ("nosuch.vigia.test", 28) in server.queries


def test_silent_dns_server_times_out(vigia, dns):
    server = dns(silent=True)
    r = run([vigia, "scan", "-q", "-p", "1", "--dns-servers", server.server,
             "quiet.vigia.test"], timeout=30)
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and "quiet.vigia.test" in r.stderr, r.stderr


def test_empty_input_file(vigia, tmp_path):
    for content in ("", "# only a comment\n\n   \n"):
        f = tmp_path / "empty.txt"
        f.write_text(content)
        r = run([vigia, "scan", "-q", "-p", "1", "-iL", str(f)], timeout=20)
        assert r.returncode == 1, r.stderr
        assert r.stdout == ""
        assert len(r.stderr.splitlines()) == 1 and str(f) in r.stderr, r.stderr


def test_missing_input_file(vigia, tmp_path):
    f = tmp_path / "does-not-exist.txt"
    r = run([vigia, "scan", "-q", "-p", "1", "-iL", str(f)], timeout=20)
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and str(f) in r.stderr, r.stderr


def test_bad_target_in_input_file_names_file_and_line(vigia, tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("127.0.0.1\n# fine\n300.1.1.1\n")
    r = run([vigia, "scan", "-q", "-p", "1", "-iL", str(f)], timeout=20)
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert f"{f}:3" in r.stderr and "300.1.1.1" in r.stderr, r.stderr


def test_everything_excluded(vigia):
    r = run([vigia, "scan", "-q", "-p", "1", "127.0.0.1", "--exclude", "127.0.0.0/8"],
            timeout=20)
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr


@pytest.mark.parametrize("servers", ["300.1.1.1", "127.0.0.1:99999"])
def test_bad_dns_servers_is_a_usage_error(vigia, servers):
    """A malformed --dns-servers is a bad option even when no name needs
    resolving (exit status 1 is "bad target, port, option or file")."""
    r = run([vigia, "scan", "-q", "-p", "1", "--dns-servers", servers, "127.0.0.1"],
            timeout=20)
    assert r.returncode == 1, f"exit {r.returncode}: bad --dns-servers {servers!r} accepted"
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and servers in r.stderr, r.stderr


def test_min_rtt_timeout_above_max_is_a_usage_error(vigia):
    r = run([vigia, "scan", "-q", "-p", "1", "--min-rtt-timeout", "2s",
             "--max-rtt-timeout", "300ms", "127.0.0.1"], timeout=20)
    assert r.returncode == 1, f"exit {r.returncode}: contradictory timeouts accepted"
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr
