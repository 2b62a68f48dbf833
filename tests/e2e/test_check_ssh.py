# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check ssh://` against sshd started by the tests
with temporary host keys (ed25519, ecdsa, rsa): banner, --expect-version,
host key fingerprints (match, mismatch, signature verified), and against
hostile servers (no banner, garbage, escape sequences, endless lines)."""
import pytest

from check_servers import run_check


def one(vigia, *args):
    r, recs, _ = run_check(vigia, "-o", "ndjson", *args)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.mark.parametrize("keytype,algo", [
    ("ed25519", "ssh-ed25519"), ("ecdsa", "ecdsa-sha2-nistp256"), ("rsa", "ssh-rsa"),
])
def test_hostkey_fingerprint_and_signature(vigia, sshd, keytype, algo):
    s = sshd(keytype)
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}")
    assert r.returncode == 0, rec
    ssh = rec["ssh"]
    assert ssh["banner"].startswith("SSH-2.0-OpenSSH")
    assert ssh["hostkey_type"] == algo
    assert ssh["hostkey_fingerprint"] == s.fingerprint
    assert ssh["hostkey_verified"] is True
    assert rec["phases_us"]["firstbyte"] is not None
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}", "--expect-hostkey", s.fingerprint)
    assert r.returncode == 0, rec


def test_hostkey_mismatch(vigia, sshd):
    s = sshd("ed25519")
    other = "SHA256:" + "A" * 43
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}", "--expect-hostkey", other)
    assert r.returncode == 2 and rec["reason"] == "hostkey-mismatch", rec
    # any of several may match
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}", "--expect-hostkey", f"{other},{s.fingerprint}")
    assert r.returncode == 0, rec


def test_expect_version(vigia, sshd):
    s = sshd("ed25519")
    r, rec = one(vigia, f"ssh://[::1]:{s.port}", "--expect-version", "^SSH-2\\.0-OpenSSH_[0-9]")
    assert r.returncode == 0, rec
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}", "--expect-version", "dropbear")
    assert r.returncode == 2 and rec["reason"] == "banner-mismatch", rec


def test_text_line(vigia, sshd):
    s = sshd("ed25519")
    r, _, _ = run_check(vigia, f"ssh://root@127.0.0.1:{s.port}")
    assert r.returncode == 0
    assert r.stdout.startswith(f"SSH OK - ssh://root@127.0.0.1:{s.port} - SSH-2.0-OpenSSH")
    assert s.fingerprint in r.stdout


def test_banner_only_server(vigia, hostile):
    # Speaks SSH-2.0 but never answers the key exchange.
    h = hostile("banner", b"SSH-2.0-Fake_1.0\r\n")
    r, rec = one(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "800ms")
    assert r.returncode == 0, rec  # the banner is fine; the key was not asked for
    assert rec["ssh"]["banner"] == "SSH-2.0-Fake_1.0" and rec["ssh"]["hostkey_fingerprint"] is None
    # With a pinned key, a key exchange that never finishes is an unverified
    # key; the timeout is listed too, and --on-timeout cannot make it pass.
    for extra in ([], ["--on-timeout", "ok"]):
        r, rec = one(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "800ms",
                     "--expect-hostkey", "SHA256:" + "B" * 43, *extra)
        assert r.returncode == 2 and rec["reason"] == "hostkey-unverified", rec
        assert "read-timeout" in rec["reasons"], rec


def test_lines_before_banner_allowed(vigia, hostile):
    h = hostile("banner", b"welcome\r\nplease wait\r\nSSH-2.0-Fake_2.0 comment\r\n")
    r, rec = one(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "500ms")
    assert r.returncode == 0 and rec["ssh"]["banner"] == "SSH-2.0-Fake_2.0 comment", rec


@pytest.mark.parametrize("mode,payload,reason", [
    ("banner", b"220 smtp.example ESMTP\r\n" * 40, "protocol-error"),
    ("banner", b"X" * 300, "protocol-error"),
    ("forever", b"", "protocol-error"),
    ("silent", b"", "read-timeout"),
    ("rst", b"", "conn-reset"),
    ("close", b"", "conn-closed"),
])
def test_not_ssh(vigia, hostile, mode, payload, reason):
    h = hostile(mode, payload)
    r, rec = one(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "800ms")
    assert r.returncode == 2, rec
    if mode == "rst":
        assert rec["reason"] in ("conn-reset", "conn-closed"), rec
    else:
        assert rec["reason"] == reason, rec
    # With a pinned key the key is what failed first; why is listed too.
    r, rec = one(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "800ms", "--expect-hostkey", "SHA256:" + "D" * 43)
    assert r.returncode == 2 and rec["reason"] == "hostkey-unverified", rec
    if mode == "rst":
        assert {"conn-reset", "conn-closed"} & set(rec["reasons"]), rec
    elif reason != "protocol-error":
        assert reason in rec["reasons"], rec


def test_escapes_in_banner(vigia, hostile):
    h = hostile("banner", b"SSH-2.0-\x1b[31mEvil\x07\xff\r\n")
    r, _, _ = run_check(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "500ms")
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "SSH-2.0-\\x1b[31mEvil\\x07\\xff" in r.stdout


def test_garbage_kex_packet(vigia, hostile):
    h = hostile("banner", b"SSH-2.0-Bad\r\n" + b"\xff\xff\xff\xff" + b"\x00" * 64)
    r, rec = one(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "800ms",
                 "--expect-hostkey", "SHA256:" + "C" * 43)
    assert r.returncode == 2 and rec["reason"] == "hostkey-unverified", rec
    r, rec = one(vigia, f"ssh://127.0.0.1:{h.port}", "--timeout", "800ms")
    assert r.returncode == 2 and rec["reason"] == "protocol-error", rec
