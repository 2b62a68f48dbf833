# SPDX-License-Identifier: MIT
"""End-to-end tests of the certificate checks on https:// (libcurl) and
tls:// (our OpenSSL stream) against nginx with certificates the tests make
with openssl: valid, expiring in 5 days, expired, self-signed, wrong host
name, an intermediate that expires before its leaf, client certificates."""
import pytest

from check_servers import run_check

KINDS = ["https", "tls"]


def target(kind, nginx, scen, host="localhost"):
    port = nginx.tls_ports[scen]
    return f"https://{host}:{port}/" if kind == "https" else f"tls://{host}:{port}"


def one(vigia, *args):
    r, recs, _ = run_check(vigia, "-o", "ndjson", "-4", *args)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.fixture
def ca(check_certs):
    return check_certs[0].p("root.crt")


@pytest.mark.parametrize("kind", KINDS)
def test_valid_chain(vigia, nginx, ca, kind):
    r, rec = one(vigia, "--cacert", ca, target(kind, nginx, "valid"))
    assert r.returncode == 0, rec
    chain = rec["tls"]["chain"]
    assert len(chain) >= 2
    assert "localhost" in chain[0]["subject"]
    assert 360 <= chain[0]["days_left"] <= 365
    assert rec["tls"]["version"].startswith("TLS")
    assert rec["phases_us"]["tls"] is not None and rec["phases_us"]["connect"] is not None
    if kind == "https":
        assert rec["http"]["status"] == 200


@pytest.mark.parametrize("kind", KINDS)
def test_untrusted_without_cacert(vigia, nginx, kind):
    r, rec = one(vigia, target(kind, nginx, "valid"))
    assert r.returncode == 2
    assert rec["reason"] == "cert-untrusted", rec


@pytest.mark.parametrize("kind", KINDS)
def test_expiring_in_five_days(vigia, nginx, ca, kind):
    t = target(kind, nginx, "expiring")
    r, rec = one(vigia, "--cacert", ca, t)
    assert r.returncode == 0, rec  # no thresholds given: only expiry itself fails
    r, rec = one(vigia, "--cacert", ca, "--cert-warn-days", "30", t)
    assert r.returncode == 1 and rec["reason"] == "cert-expiring", rec
    r, rec = one(vigia, "--cacert", ca, "--cert-warn-days", "30", "--cert-crit-days", "7", t)
    assert r.returncode == 2 and rec["reason"] == "cert-expiring"
    assert rec["tls"]["chain"][0]["days_left"] in (4, 5)
    r, _, _ = run_check(vigia, "-4", "--cacert", ca, "--cert-warn-days", "30", t)
    assert " cert_days=" in r.stdout and ";30;" in r.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_expired(vigia, nginx, ca, kind):
    r, rec = one(vigia, "--cacert", ca, target(kind, nginx, "expired"))
    assert r.returncode == 2 and rec["reason"] == "cert-expired", rec
    assert rec["tls"]["chain"][0]["days_left"] < 0
    # --insecure skips trust, never dates
    r, rec = one(vigia, "-k", target(kind, nginx, "expired"))
    assert r.returncode == 2 and rec["reason"] == "cert-expired", rec


@pytest.mark.parametrize("kind", KINDS)
def test_self_signed(vigia, nginx, ca, kind):
    r, rec = one(vigia, "--cacert", ca, target(kind, nginx, "selfsigned"))
    assert r.returncode == 2 and rec["reason"] == "cert-untrusted", rec
    assert "self" in rec["message"].lower()
    r, rec = one(vigia, "-k", target(kind, nginx, "selfsigned"))
    assert r.returncode == 0, rec
    # trusting the certificate itself works too
    r, rec = one(vigia, "--cacert", nginx_cert(nginx, "selfsigned"), target(kind, nginx, "selfsigned"))
    assert r.returncode == 0, rec


def nginx_cert(nginx, scen):
    # the scenario's chain file is what nginx serves; for self-signed it is the cert
    import re
    conf = open(nginx.conf).read()
    port = nginx.tls_ports[scen]
    m = re.search(rf"listen 127\.0\.0\.1:{port} ssl;.*?ssl_certificate (\S+);", conf, re.S)
    return m.group(1)


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_host(vigia, nginx, ca, kind):
    r, rec = one(vigia, "--cacert", ca, target(kind, nginx, "wronghost"))
    assert r.returncode == 2 and rec["reason"] == "cert-hostname", rec
    assert "other.example" in rec["message"]
    r, rec = one(vigia, "--cacert", ca, "-k", target(kind, nginx, "wronghost"))
    assert r.returncode == 0, rec


def test_sni_on_tls(vigia, nginx, ca):
    # The certificate names other.example: asking for that name passes.
    r, rec = one(vigia, "--cacert", ca, "--sni", "other.example", target("tls", nginx, "wronghost"))
    assert r.returncode == 0, rec


def test_https_by_ip_literal_uses_ip_san(vigia, nginx, ca):
    r, rec = one(vigia, "--cacert", ca, f"https://127.0.0.1:{nginx.tls_ports['valid']}/")
    assert r.returncode == 0, rec


@pytest.mark.parametrize("kind", KINDS)
def test_intermediate_expiring_before_leaf(vigia, nginx, ca, kind):
    t = target(kind, nginx, "interexp")
    r, rec = one(vigia, "--cacert", ca, "--cert-warn-days", "14", t)
    assert r.returncode == 1, rec
    assert rec["reason"] == "cert-expiring"
    assert "depth 1" in rec["message"]
    chain = rec["tls"]["chain"]
    assert chain[0]["days_left"] > 300 and chain[1]["days_left"] <= 5


@pytest.mark.parametrize("kind", KINDS)
def test_tls_findings_add_to_other_checks(vigia, nginx, ca, kind):
    if kind == "https":
        r, rec = one(vigia, "--cacert", ca, "--cert-warn-days", "30", "--expect-status", "404",
                     target(kind, nginx, "expiring"))
        assert r.returncode == 2
        assert set(rec["reasons"]) == {"status-mismatch", "cert-expiring"}
    else:
        r, rec = one(vigia, "--cacert", ca, "--cert-warn-days", "30", "--send", "x",
                     "--expect", "never", "--timeout", "1s", target(kind, nginx, "expiring"))
        assert r.returncode == 2
        assert "cert-expiring" in rec["reasons"]


def test_client_certificate(vigia, nginx, check_certs, ca):
    cf = check_certs[0]
    t = target("https", nginx, "clientauth")
    r, rec = one(vigia, "--cacert", ca, t)
    assert r.returncode == 2 and rec["http"]["status"] == 400, rec
    r, rec = one(vigia, "--cacert", ca, "--cert", cf.p("client.crt"), "--key", cf.p("client.key"), t)
    assert r.returncode == 0, rec


def test_tls_handshake_failure_on_plain_port(vigia, nginx):
    r, rec = one(vigia, "-k", f"tls://127.0.0.1:{nginx.http}", "--timeout", "3s")
    assert r.returncode == 2 and rec["reason"] == "tls-handshake", rec
    r, rec = one(vigia, "-k", f"https://127.0.0.1:{nginx.http}/", "--timeout", "3s")
    assert r.returncode == 2 and rec["reason"] == "tls-handshake", rec


def test_tls_timeout_on_silent_server(vigia, hostile):
    h = hostile("silent")
    r, rec = one(vigia, f"tls://127.0.0.1:{h.port}", "--timeout", "500ms")
    assert r.returncode == 2 and rec["reason"] == "tls-timeout", rec
    r, rec = one(vigia, f"https://127.0.0.1:{h.port}/", "--timeout", "500ms")
    assert r.returncode == 2 and rec["reason"] == "tls-timeout", rec


def test_verbose_text_shows_chain(vigia, nginx, ca):
    r, _, _ = run_check(vigia, "-4", "-v", "--cacert", ca, target("https", nginx, "valid"))
    assert r.returncode == 0
    assert "cert 0:" in r.stdout and "cert 1:" in r.stdout


def test_send_expect_inside_tls(vigia, nginx, ca):
    r, rec = one(vigia, "--cacert", ca, "--send", r"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n",
                 "--expect", "tls valid ok", target("tls", nginx, "valid"))
    assert r.returncode == 0, rec
    assert rec["banner"].startswith("HTTP/1.1 200")
    assert rec["phases_us"]["firstbyte"] is not None


def test_https_retries_then_passes(vigia, nginx, ca):
    # 404 is CRITICAL, so every attempt is retried: all fail the same way.
    r, rec = one(vigia, "--cacert", ca, "--retries", "2", "--retry-delay", "50ms",
                 f"https://localhost:{nginx.tls_ports['valid']}/nope", "--expect-status", "500")
    assert r.returncode == 2 and rec["attempts"] == 3 and rec["reason"] == "status-mismatch", rec
    assert rec["tls"]["chain"], rec
