# SPDX-License-Identifier: MIT
"""End-to-end tests of how `vigia check icmp://` fails: no route to the
target (the kernel refuses the connect), no way to send echo requests at
all (an unprivileged user where ping sockets are not allowed), and the
options of other kinds. The first two run in a namespace pair this test
creates (TEST-NET addresses, no route out)."""
import json

import pytest

from check_servers import run_check
from conftest import is_root

import netns

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture(scope="module")
def pair():
    if not is_root():
        pytest.skip("needs root: creates network namespaces")
    p = netns.NetnsPair("ie")
    yield p
    p.close()


def in_ns(pair, vigia, *args, prefix=()):
    r = pair.run(pair.scanner, [*prefix, vigia, "check", "-o", "ndjson", *args], timeout=60)
    recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    recs = [x for x in recs if x["type"] == "check"]
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


def test_no_route_to_the_target(vigia, pair):
    # The scanner's namespace knows 198.18.0.0/24 only.
    r, rec = in_ns(pair, vigia, "icmp://198.18.9.9", "--count", "1")
    assert r.returncode == 2 and rec["state"] == "critical", rec
    assert rec["reason"] == "net-unreach", rec
    assert rec["message"].startswith("cannot reach 198.18.9.9"), rec
    assert rec["message"].endswith(": Network is unreachable"), rec
    assert rec["icmp"]["received"] == 0, rec


def test_no_socket_for_echo_requests(vigia, pair):
    # A new namespace's ping_group_range ("1 0") lets no group use ping
    # sockets, and nobody may not open raw ones.
    r = pair.run(pair.scanner, ["sysctl", "-n", "net.ipv4.ping_group_range"])
    assert r.stdout.split() == ["1", "0"], r.stdout
    r, rec = in_ns(pair, vigia, f"icmp://{netns.TARGET_V4}", "--count", "1", prefix=NOBODY)
    assert r.returncode == 3 and rec["state"] == "unknown", rec
    assert rec["reason"] == "config-error", rec
    assert rec["message"].startswith("cannot send ICMP echo requests: neither a ping socket ("), rec
    assert "see net.ipv4.ping_group_range) nor a raw socket (Operation not permitted; " \
           "needs CAP_NET_RAW) can be opened" in rec["message"], rec


@pytest.mark.parametrize("args,msg", [
    (["--expect-body", "x"], "HTTP options need an http:// or https:// target"),
    (["--expect-hostkey", "SHA256:x"], "SSH options need an ssh:// target"),
])
def test_options_of_other_kinds(vigia, args, msg):
    r, _, _ = run_check(vigia, "icmp://127.0.0.1", *args)
    assert r.returncode == 3, r.stderr
    assert msg in r.stderr, r.stderr
