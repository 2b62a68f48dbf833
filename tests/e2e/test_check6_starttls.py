# SPDX-License-Identifier: MIT
"""End-to-end tests of STARTTLS: smtp://, imap:// and postgres:// against
responders written in the tests (Python's ssl module, with the test CA of
the check_certs fixture): the certificate checks of tls:// apply after the
upgrade (valid, expired, wrong host name, untrusted), and servers that do
not offer STARTTLS, refuse the session, or inject plain text after the
go-ahead are reported with their own reasons."""
import pytest

from check6_servers import StartTls
from check_servers import run_check


def one(vigia, *args, timeout=60):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args, timeout=timeout)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.fixture
def starttls(check_certs):
    _, scen = check_certs
    made = []

    def make(proto, scenario="valid", variant="ok"):
        cert, key, _ = scen[scenario]
        s = StartTls(proto, cert, key, variant)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


@pytest.fixture
def ca(check_certs):
    return check_certs[0].p("root.crt")


PROTOS = ["smtp", "imap", "postgres"]


@pytest.mark.parametrize("proto", PROTOS)
def test_valid_certificate_after_upgrade(vigia, starttls, ca, proto):
    s = starttls(proto)
    r, rec = one(vigia, "--cacert", ca, f"{proto}://localhost:{s.port}", "-4")
    assert r.returncode == 0, rec["message"]
    assert rec["kind"] == proto and rec["tls"]["version"].startswith("TLS")
    assert rec["tls"]["chain"][0]["subject"].endswith("localhost")
    assert rec["phases_us"]["tls"] is not None and rec["phases_us"]["connect"] is not None
    assert "started TLS" in rec["message"]
    if proto == "smtp":
        assert s.log[0].startswith(b"EHLO ") and s.log[1] == b"STARTTLS\r\n"
        assert rec["banner"] == "220-mail.test ESMTP vigia-fake"
    elif proto == "imap":
        assert s.log[0] == b"v1 STARTTLS\r\n"
    else:
        assert s.log[0] == b"\x00\x00\x00\x08\x04\xd2\x16\x2f"
    r, _, _ = run_check(vigia, "--cacert", ca, f"{proto}://localhost:{s.port}", "-4")
    assert r.stdout.split(" ")[0] == {"smtp": "SMTP", "imap": "IMAP", "postgres": "POSTGRES"}[proto]


@pytest.mark.parametrize("proto", PROTOS)
@pytest.mark.parametrize("scenario,reason", [
    ("expired", "cert-expired"),
    ("wronghost", "cert-hostname"),
])
def test_certificate_findings(vigia, starttls, ca, proto, scenario, reason):
    s = starttls(proto, scenario)
    r, rec = one(vigia, "--cacert", ca, f"{proto}://localhost:{s.port}", "-4")
    assert r.returncode == 2 and reason in rec["reasons"], rec["message"]


def test_untrusted_and_expiring(vigia, starttls, ca):
    s = starttls("smtp")
    r, rec = one(vigia, f"smtp://127.0.0.1:{s.port}")
    assert r.returncode == 2 and rec["reason"] == "cert-untrusted"
    s = starttls("imap", "expiring")
    r, rec = one(vigia, "--cacert", ca, "--cert-warn-days", "30", f"imap://localhost:{s.port}", "-4")
    assert r.returncode == 1 and rec["reason"] == "cert-expiring"


@pytest.mark.parametrize("proto,variant,reason", [
    ("smtp", "nostarttls", "starttls-refused"),
    ("imap", "nostarttls", "starttls-refused"),
    ("postgres", "nostarttls", "starttls-refused"),
    ("smtp", "refuse", "server-error"),
    ("imap", "refuse", "server-error"),
    ("postgres", "refuse", "server-error"),
    ("smtp", "inject", "protocol-error"),
    ("imap", "inject", "protocol-error"),
    ("postgres", "inject", "protocol-error"),
])
def test_refusals_and_injection(vigia, starttls, ca, proto, variant, reason):
    s = starttls(proto, variant=variant)
    r, rec = one(vigia, "--cacert", ca, f"{proto}://localhost:{s.port}", "-4", "--timeout", "3s")
    assert r.returncode == 2 and rec["reason"] == reason, rec["message"]
    if variant == "refuse" and proto == "postgres":
        assert "too many clients" in rec["message"]


@pytest.mark.parametrize("proto", PROTOS)
def test_hostile_servers(vigia, hostile, proto):
    h = hostile("banner", b"\x1b[2JHTTP/1.0 200 OK\r\n\r\n")
    r, rec = one(vigia, f"{proto}://127.0.0.1:{h.port}", "--timeout", "1s")
    assert r.returncode == 2 and rec["reason"] in ("protocol-error",), rec["message"]
    assert "\x1b" not in r.stdout
    h = hostile("silent")
    r, rec = one(vigia, f"{proto}://127.0.0.1:{h.port}", "--timeout", "700ms")
    assert r.returncode == 2 and rec["reason"] == "read-timeout"


def test_usage(vigia):
    r, _, _ = run_check(vigia, "smtp://127.0.0.1", "--send", "x")
    assert r.returncode == 3
