# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check` on http:// against nginx started by the
tests (every verb, status sets, body regex, redirects, body cap, --resolve,
proxies from the environment ignored, phase timings) and against hostile
HTTP servers (status-line garbage, HTTP/0.9, silence)."""
import os
import time

import pytest

from check_servers import run_check
from conftest import free_port


def one(vigia, *args, timeout=60, env=None):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout, env=env)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


def test_get_ok_with_phases(vigia, nginx):
    r, rec = one(vigia, nginx.url("/"))
    assert r.returncode == 0, rec
    assert rec["kind"] == "http" and rec["state"] == "ok"
    assert rec["http"]["status"] == 200 and rec["http"]["status_line"].startswith("HTTP/1.1 200")
    assert rec["http"]["body_bytes"] == len("hello from nginx\n")
    ph = rec["phases_us"]
    assert ph["connect"] is not None and ph["firstbyte"] is not None and ph["tls"] is None
    assert ph["total"] >= ph["connect"]


def test_ipv6_literal_url(vigia, nginx):
    r, rec = one(vigia, f"http://[::1]:{nginx.http}/")
    assert r.returncode == 0 and rec["ip"] == "::1", rec


def test_localhost_name(vigia, nginx):
    r, rec = one(vigia, "-4", nginx.url("/", host="localhost"))
    assert r.returncode == 0 and rec["ip"] == "127.0.0.1"
    assert rec["phases_us"]["dns"] is not None


def test_text_line(vigia, nginx):
    r, _, _ = run_check(vigia, nginx.url("/"))
    assert r.returncode == 0
    line = r.stdout.strip()
    assert line.startswith(f"HTTP OK - {nginx.url('/')} - HTTP/1.1 200 OK")
    assert " | time=" in line and " size=17B;;;0" in line


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_verb(vigia, nginx, method):
    r, rec = one(vigia, "-X", method, nginx.url("/method"), "--expect-body",
                 "." if method == "HEAD" else f"^method={method}$")
    if method == "HEAD":
        # no body on HEAD: the regex cannot match an empty body
        assert rec["reason"] == "body-mismatch" and rec["http"]["status"] == 200
        r, rec = one(vigia, "-X", "HEAD", nginx.url("/method"))
        assert r.returncode == 0 and rec["http"]["body_bytes"] == 0
    else:
        assert r.returncode == 0, rec


def test_data_implies_post_and_data_file(vigia, nginx, tmp_path):
    r, rec = one(vigia, "-d", "a=1", nginx.url("/method"), "--expect-body", "method=POST")
    assert r.returncode == 0, rec
    f = tmp_path / "body.bin"
    f.write_bytes(b"x" * 5000)
    r, rec = one(vigia, "-X", "PUT", "--data-file", str(f), nginx.url("/method"), "--expect-body", "PUT")
    assert r.returncode == 0, rec


@pytest.mark.parametrize("path,status,ok", [
    ("/", 200, True), ("/301", 301, True), ("/404", 404, False), ("/500", 500, False),
])
def test_default_status_set(vigia, nginx, path, status, ok):
    r, rec = one(vigia, nginx.url(path))
    assert rec["http"]["status"] == status
    assert (r.returncode == 0) == ok, rec
    if not ok:
        assert rec["reason"] == "status-mismatch" and r.returncode == 2
        assert "reachable" in rec["message"]


def test_status_sets_and_ranges(vigia, nginx):
    assert one(vigia, nginx.url("/404"), "--expect-status", "404")[0].returncode == 0
    assert one(vigia, nginx.url("/404"), "--expect-status", "200-299,401,404")[0].returncode == 0
    assert one(vigia, nginx.url("/500"), "--expect-status", "200-299,401,404")[0].returncode == 2
    assert one(vigia, nginx.url("/301"), "--expect-status", "200")[0].returncode == 2
    assert one(vigia, nginx.url("/500"), "--expect-status", "500-599")[0].returncode == 0


def test_body_regex(vigia, nginx):
    assert one(vigia, nginx.url("/"), "--expect-body", "hello (from)? ng[a-z]+")[0].returncode == 0
    r, rec = one(vigia, nginx.url("/"), "--expect-body", "^goodbye")
    assert r.returncode == 2 and rec["reason"] == "body-mismatch"


def test_status_and_body_both_reported(vigia, nginx):
    r, rec = one(vigia, nginx.url("/404"), "--expect-body", "hello")
    assert r.returncode == 2
    assert set(rec["reasons"]) == {"status-mismatch", "body-mismatch"}


def test_redirects_not_followed_by_default(vigia, nginx):
    r, rec = one(vigia, nginx.url("/302"))
    assert rec["http"]["status"] == 302 and rec["http"]["redirects"] == 0
    r, rec = one(vigia, "-L", nginx.url("/302"), "--expect-status", "200")
    assert r.returncode == 0 and rec["http"]["redirects"] == 2, rec
    r, rec = one(vigia, "-L", "--max-redirects", "1", nginx.url("/302"))
    assert r.returncode == 2 and rec["reason"] == "too-many-redirects"
    r, rec = one(vigia, "-L", nginx.url("/loop"))
    assert r.returncode == 2 and rec["reason"] == "too-many-redirects"


def test_body_cap(vigia, nginx):
    r, rec = one(vigia, nginx.url("/big"), "--max-body", "64K", "--expect-body", "^B+$")
    assert r.returncode == 0, rec
    assert rec["http"]["body_truncated"] is True
    assert rec["http"]["body_bytes"] >= 64 * 1024
    r, rec = one(vigia, nginx.url("/big"))
    assert rec["http"]["body_truncated"] is True  # default cap: 1 MiB of 3 MiB


def test_headers_sent(vigia, hostile):
    h = hostile("http-garbage", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    r, rec = one(vigia, "-H", "X-Test: 1", "-H", "Host: example.test", f"http://127.0.0.1:{h.port}/")
    assert r.returncode == 0, rec


def test_resolve_maps_name(vigia, nginx):
    r, rec = one(vigia, "--resolve", f"service.test:{nginx.http}:127.0.0.1",
                 f"http://service.test:{nginx.http}/")
    assert r.returncode == 0, rec
    assert rec["ip"] == "127.0.0.1" and rec["phases_us"]["dns"] is None


def test_env_proxy_ignored_unless_asked(vigia, nginx):
    dead = f"http://127.0.0.1:{free_port()}"
    env = dict(os.environ, http_proxy=dead, HTTP_PROXY=dead, no_proxy="", NO_PROXY="")
    r, rec = one(vigia, nginx.url("/"), env=env)
    assert r.returncode == 0, rec
    r, rec = one(vigia, "--proxy-from-env", nginx.url("/"), env=env)
    assert r.returncode == 2 and rec["reason"] == "proxy-error", rec
    r, rec = one(vigia, "--proxy", dead, nginx.url("/"))
    assert r.returncode == 2 and rec["reason"] == "proxy-error"


def test_refused(vigia):
    r, rec = one(vigia, f"http://127.0.0.1:{free_port()}/")
    assert r.returncode == 2 and rec["reason"] == "conn-refused"
    assert rec["http"]["status"] is None


@pytest.mark.parametrize("payload", [
    b"HTTP/1.1 abc garbage\r\n\r\n",
    b"\x1b[2Jnot http at all\r\n\r\n",
    b"HTTP/1.1 2000 Way Too Big\r\n\r\n",
])
def test_status_line_garbage(vigia, hostile, payload):
    h = hostile("http-garbage", payload)
    r, rec = one(vigia, f"http://127.0.0.1:{h.port}/", "--timeout", "3s")
    assert r.returncode == 2, rec
    assert rec["reason"] in ("protocol-error", "status-mismatch"), rec
    assert "\x1b" not in r.stdout


def test_silent_http_server_read_timeout(vigia, hostile):
    h = hostile("silent")
    t0 = time.monotonic()
    r, rec = one(vigia, f"http://127.0.0.1:{h.port}/", "--timeout", "800ms")
    assert time.monotonic() - t0 < 4
    assert r.returncode == 2 and rec["reason"] == "read-timeout", rec


def test_rst_http(vigia, hostile):
    h = hostile("rst")
    r, rec = one(vigia, f"http://127.0.0.1:{h.port}/", "--timeout", "3s")
    assert r.returncode == 2 and rec["reason"] in ("conn-reset", "conn-closed"), rec


def test_endless_body_capped(vigia, hostile):
    h = hostile("http-garbage", b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * (2 << 20))
    r, rec = one(vigia, f"http://127.0.0.1:{h.port}/", "--max-body", "100K", "--timeout", "5s")
    assert r.returncode == 0, rec
    assert rec["http"]["body_truncated"] is True


def test_mixed_kinds_concurrently(vigia, nginx, listeners):
    port = listeners.listen()
    r, recs, s = run_check(vigia, "-o", "ndjson", nginx.url("/"), f"127.0.0.1:{port}",
                           nginx.url("/404"), f"tcp://127.0.0.1:{free_port()}")
    assert [x["state"] for x in recs] == ["ok", "ok", "critical", "critical"]
    assert [x["kind"] for x in recs] == ["http", "tcp", "http", "tcp"]
    assert r.returncode == 2


def test_thousand_http_checks(vigia, nginx):
    urls = [nginx.url("/")] * 1000
    t0 = time.monotonic()
    r, recs, s = run_check(vigia, "-o", "ndjson", *urls, timeout=120)
    took = time.monotonic() - t0
    assert s["ok"] == 1000, s
    assert took < 20


def test_reuse_connections(vigia, nginx):
    # One at a time, so that each check finds the previous one's connection.
    urls = [nginx.url("/")] * 20
    r, recs, s = run_check(vigia, "-o", "ndjson", "--concurrency", "1", "--reuse-connections",
                           *urls, timeout=60)
    assert s["ok"] == 20, s
    reused = [rec["http"]["connection_reused"] for rec in recs]
    assert reused[0] is False  # nothing to reuse yet
    assert reused.count(True) >= 15, reused
    # By default every check has its own connection, and the record has no
    # such field.
    r, recs, s = run_check(vigia, "-o", "ndjson", "--concurrency", "1", *urls[:3], timeout=60)
    assert s["ok"] == 3 and all("connection_reused" not in rec["http"] for rec in recs)
    for rec in recs:
        assert rec["phases_us"]["connect"] is not None
