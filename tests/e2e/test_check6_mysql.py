# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check mysql://`: mariadbd with a temporary
datadir (the greeting, then "Host ... is not allowed to connect" once the
test removes the grants for 127.0.0.1), and fake servers for error
packets, truncated, oversized and hostile greetings."""
import pytest

from check6_servers import MARIADBD, Mariadb, mysql_error, mysql_greeting, mysql_packet
from check_servers import have, run_check
from conftest import free_port


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.fixture(scope="module")
def mariadb(tmp_path_factory):
    if not have(MARIADBD):
        pytest.skip("mariadb-server is not installed (scripts/deps.d/check6.txt)")
    m = Mariadb(str(tmp_path_factory.mktemp("mariadb")))
    yield m
    m.close()


def test_mariadb_greeting(vigia, mariadb):
    r, rec = one(vigia, f"mysql://127.0.0.1:{mariadb.port}")
    assert r.returncode == 0, rec["message"]
    assert rec["kind"] == "mysql" and rec["state"] == "ok"
    my = rec["mysql"]
    assert my["protocol"] == 10 and "MariaDB" in my["server_version"]
    assert my["connection_id"] > 0 and my["capabilities"] & (1 << 15)
    assert my["error_code"] is None
    assert rec["phases_us"]["connect"] is not None and rec["phases_us"]["firstbyte"] is not None
    r, rec = one(vigia, f"mysql://127.0.0.1:{mariadb.port}", "--expect-version", "MariaDB")
    assert r.returncode == 0
    r, rec = one(vigia, f"mysql://127.0.0.1:{mariadb.port}", "--expect-version", "^8\\.")
    assert r.returncode == 2 and rec["reason"] == "banner-mismatch"
    r, _, _ = run_check(vigia, f"mysql://127.0.0.1:{mariadb.port}")
    assert r.stdout.startswith("MYSQL OK - ")


def test_mariadb_host_not_allowed(vigia, mariadb):
    # Runs after the greeting test (file order): 127.0.0.1 loses its grants.
    mariadb.sql("DELETE FROM mysql.global_priv WHERE host <> 'localhost'; FLUSH PRIVILEGES;")
    r, rec = one(vigia, f"mysql://127.0.0.1:{mariadb.port}")
    assert r.returncode == 2 and rec["reason"] == "server-error", rec["message"]
    assert rec["mysql"]["error_code"] == 1130
    assert "is not allowed to connect" in rec["message"]
    assert "reachable" in rec["message"]


def test_default_port_and_refused(vigia):
    r, rec = one(vigia, f"mysql://127.0.0.1:{free_port()}")
    assert r.returncode == 2 and rec["reason"] == "conn-refused"
    r, rec = one(vigia, "--resolve", "db.invalid:3306:127.0.0.2", "mysql://db.invalid", "--timeout", "2s")
    assert rec["port"] == 3306


def test_fake_greeting_and_error(vigia, hostile):
    h = hostile("banner", mysql_greeting())
    r, rec = one(vigia, f"mysql://127.0.0.1:{h.port}")
    assert r.returncode == 0
    assert rec["mysql"]["server_version"] == "8.0.36-fake" and rec["mysql"]["connection_id"] == 42
    assert "caching_sha2_password" in rec["message"]
    h = hostile("close", mysql_error(1040, b"Too many connections", b"08004"))
    r, rec = one(vigia, f"mysql://127.0.0.1:{h.port}")
    assert r.returncode == 2 and rec["reason"] == "server-error"
    assert rec["mysql"]["error_code"] == 1040 and rec["mysql"]["sqlstate"] == "08004"


@pytest.mark.parametrize("mode,payload,reason", [
    ("close", mysql_greeting()[:30], "protocol-error"),                 # truncated, then closed
    ("banner", mysql_greeting()[:30], "read-timeout"),                  # truncated, then silent
    ("banner", b"\xff\xff\xff\x00" + b"\x0a" * 100, "protocol-error"),  # announces 16 MiB
    ("banner", mysql_packet(b"\x0a5.7\x00\x01"), "protocol-error"),     # cut inside the greeting
    ("banner", b"HTTP/1.1 400 Bad Request\r\n\r\n", "protocol-error"),
    ("banner", mysql_packet(b"\x0a" + b"v" * 200), "protocol-error"),   # no NUL after the version
    ("close", b"", "conn-closed"),
    ("rst", b"", "conn-reset"),
    ("silent", b"", "read-timeout"),
])
def test_hostile_greetings(vigia, hostile, mode, payload, reason):
    h = hostile(mode, payload)
    r, rec = one(vigia, f"mysql://127.0.0.1:{h.port}", "--timeout", "1s")
    assert r.returncode == 2 and rec["reason"] == reason, rec["message"]


def test_escape_sequences_in_version(vigia, hostile):
    h = hostile("banner", mysql_greeting(version=b"8.0\x1b]0;pwned\x07\xff"))
    r, rec = one(vigia, f"mysql://127.0.0.1:{h.port}")
    assert r.returncode == 0
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert rec["mysql"]["server_version"] == "8.0\\x1b]0;pwned\\x07\\xff"


def test_usage_errors(vigia):
    r, _, _ = run_check(vigia, "mysql://127.0.0.1", "--expect", "x")
    assert r.returncode == 3
    r, _, _ = run_check(vigia, "mysql://127.0.0.1", "--expect-version", "(")
    assert r.returncode == 3
