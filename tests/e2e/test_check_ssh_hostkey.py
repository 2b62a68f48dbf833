# SPDX-License-Identifier: MIT
"""`vigia check ssh:// --expect-hostkey` must not be fooled by a server that
shows a real server's public host key without holding its private key.

Fake servers (tests/e2e/fake_ssh.py, on 127.0.0.1) present a real host key
made by ssh-keygen and break the key exchange one way each; every one must
be CRITICAL with reason hostkey-unverified. The same fake in "honest" mode,
signing with the private key, must verify: that control shows each failure
comes from the one thing its mode breaks. Real sshd with every host key type
and key exchange method we offer must verify too."""
import pytest

from check_servers import run_check
from conftest import run

fake_ssh = pytest.importorskip("fake_ssh", reason="python3-cryptography is needed (scripts/deps.sh)")


def one(vigia, *args):
    r, recs, _ = run_check(vigia, "-o", "ndjson", "--timeout", "3s", *args)
    assert len(recs) == 1, r.stdout + r.stderr
    return r, recs[0]


@pytest.fixture(scope="module")
def hostkeys(tmp_path_factory):
    """Real host keys (ssh-keygen), by name: path of the private key."""
    d = tmp_path_factory.mktemp("hostkeys")
    keys = {}
    for name, args in {"ed25519": ["-t", "ed25519"], "ecdsa": ["-t", "ecdsa", "-b", "256"],
                       "ecdsa384": ["-t", "ecdsa", "-b", "384"], "rsa": ["-t", "rsa", "-b", "2048"]}.items():
        path = str(d / f"host_{name}")
        r = run(["ssh-keygen", "-q", *args, "-N", "", "-f", path], timeout=60)
        assert r.returncode == 0, r.stderr
        keys[name] = path
    return keys


def keygen_fingerprint(path):
    r = run(["ssh-keygen", "-l", "-E", "sha256", "-f", path + ".pub"], timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[1]


@pytest.fixture
def fake(hostkeys):
    made = []

    def make(key="ed25519", mode="honest", **kw):
        f = fake_ssh.FakeSsh(hostkeys[key], mode, **kw)
        f.fingerprint = keygen_fingerprint(hostkeys[key])
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


# --- the controls: the fake server is a correct SSH server ---------------------

@pytest.mark.parametrize("key,kw", [
    ("ed25519", {}),
    ("ed25519", {"kex": "ecdh-sha2-nistp256"}),
    ("ed25519", {"kex": "ecdh-sha2-nistp384"}),
    ("ed25519", {"kex": "ecdh-sha2-nistp521"}),
    ("ecdsa", {}),
    ("ecdsa384", {"kex": "ecdh-sha2-nistp256"}),
    ("rsa", {"hostkey": "rsa-sha2-256"}),
    ("rsa", {"hostkey": "rsa-sha2-512"}),
])
def test_honest_fake_verifies(vigia, fake, key, kw):
    f = fake(key, "honest", **kw)
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}", "--expect-hostkey", f.fingerprint)
    assert r.returncode == 0 and rec["reason"] == "ok", rec
    assert rec["ssh"]["hostkey_verified"] is True
    assert rec["ssh"]["hostkey_fingerprint"] == f.fingerprint
    assert rec["ssh"]["kex"] == kw.get("kex", "curve25519-sha256")
    assert f.finished() == [], f.errors


# --- a server that shows the key but cannot prove it holds it -------------------

FORGERIES = [
    ("ed25519", "garbage-sig", {}),
    ("ed25519", "other-key-sig", {}),
    ("ed25519", "wrong-sig-name", {}),
    ("ed25519", "truncated-reply", {}),
    ("ed25519", "truncated-packet", {}),
    ("ed25519", "qs-short", {}),
    ("ed25519", "qs-long", {}),
    ("ed25519", "zero-point", {}),
    ("ed25519", "low-order-point", {}),
    ("ed25519", "wrong-kex-reply", {"kex": "curve25519-sha256,ecdh-sha2-nistp256",
                                    "reply_kex": "ecdh-sha2-nistp256"}),
    ("ed25519", "bad-curve-point", {"kex": "ecdh-sha2-nistp256"}),
    ("ed25519", "disconnect-after-reply", {}),
    ("ed25519", "mismatched-key-type", {"hostkey": "ecdsa-sha2-nistp256"}),
    ("ed25519", "trailing-payload", {}),
    ("ed25519", "trailing-hostkey", {}),
    ("ed25519", "trailing-sig", {}),
    ("ed25519", "replayed-sig", {}),
    ("ed25519", "hash-of-other-kex", {}),
    ("ed25519", "empty-hostkey", {}),
    ("ed25519", "disconnect-msg", {}),
    ("ed25519", "close-after-kexinit", {}),
    ("ed25519", "unexpected-msg", {}),
    ("ed25519", "second-kexinit", {}),
    ("ed25519", "silent-after-kexinit", {"kex": "diffie-hellman-group14-sha256"}),  # nothing in common
    ("ecdsa", "garbage-sig", {}),
    ("ecdsa", "other-key-sig", {}),
    ("ecdsa", "trailing-ecdsa-sig", {}),
    ("ecdsa", "zero-point", {"kex": "ecdh-sha2-nistp256"}),
    ("ecdsa", "hash-of-other-kex", {"kex": "ecdh-sha2-nistp256"}),
    ("rsa", "garbage-sig", {"hostkey": "rsa-sha2-256"}),
    ("rsa", "other-key-sig", {"hostkey": "rsa-sha2-512"}),
    # a valid signature, but with an algorithm that was not negotiated
    ("rsa", "sig-not-negotiated", {"hostkey": "rsa-sha2-256", "other_sig_alg": "rsa-sha2-512"}),
    # a valid SHA-1 signature (ssh-rsa), which we do not accept
    ("rsa", "sig-not-negotiated", {"hostkey": "rsa-sha2-256", "other_sig_alg": "ssh-rsa"}),
]


@pytest.mark.parametrize("key,mode,kw", FORGERIES, ids=[f"{k}-{m}-{i}" for i, (k, m, _) in enumerate(FORGERIES)])
def test_forgery_is_unverified(vigia, fake, key, mode, kw):
    f = fake(key, mode, **kw)
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}", "--expect-hostkey", f.fingerprint)
    assert r.returncode == 2, rec
    assert rec["state"] == "critical" and rec["reason"] == "hostkey-unverified", rec
    assert rec["ssh"]["hostkey_verified"] is False, rec
    assert f.finished() == [], f.errors     # the fake did what the mode says
    # --on-timeout / --on-refused never turn it into a pass
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}", "--expect-hostkey", f.fingerprint,
                 "--on-timeout", "ok", "--on-refused", "ok")
    assert r.returncode == 2 and rec["reason"] == "hostkey-unverified", rec


def test_timeout_after_kexinit_is_unverified(vigia, fake):
    f = fake("ed25519", "silent-after-kexinit")
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}", "--expect-hostkey", f.fingerprint, "--timeout", "700ms")
    assert r.returncode == 2 and rec["reason"] == "hostkey-unverified", rec
    assert "read-timeout" in rec["reasons"]


def test_forgery_of_another_key_lists_both(vigia, fake):
    # The key shown is not the pinned one and it is not proven either.
    f = fake("ed25519", "garbage-sig")
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}", "--expect-hostkey", "SHA256:" + "A" * 43)
    assert r.returncode == 2 and rec["reasons"] == ["hostkey-unverified", "hostkey-mismatch"], rec


def test_honest_fake_wrong_pin_is_mismatch(vigia, fake):
    f = fake("ed25519", "honest")
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}", "--expect-hostkey", "SHA256:" + "A" * 43)
    assert r.returncode == 2 and rec["reasons"] == ["hostkey-mismatch"], rec
    assert rec["ssh"]["hostkey_verified"] is True


def test_trailing_hostkey_bytes_change_the_fingerprint(vigia, fake, hostkeys):
    # What is fingerprinted is what was judged: the blob with its extra bytes.
    f = fake("ed25519", "trailing-hostkey")
    _, rec = one(vigia, f"ssh://127.0.0.1:{f.port}")
    _, blob, _ = fake_ssh.load_key(hostkeys["ed25519"])
    assert rec["ssh"]["hostkey_fingerprint"] == fake_ssh.fingerprint(blob + b"\0\0\0\0") != f.fingerprint


# --- without a pinned key: the check reports what it saw ------------------------

def test_unpinned_bad_signature_is_protocol_error(vigia, fake):
    f = fake("ed25519", "garbage-sig")
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}")
    assert r.returncode == 2 and rec["reason"] == "protocol-error", rec
    assert rec["ssh"]["hostkey_fingerprint"] == f.fingerprint
    assert rec["ssh"]["hostkey_verified"] is False


def test_unpinned_no_common_kex_is_ok(vigia, fake):
    f = fake("ed25519", "silent-after-kexinit", kex="diffie-hellman-group14-sha256")
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}")
    assert r.returncode == 0, rec
    assert rec["ssh"]["hostkey_fingerprint"] is None and rec["ssh"]["hostkey_verified"] is False
    assert "no key exchange" in rec["message"]


def test_unpinned_close_during_kex_is_ok(vigia, fake):
    f = fake("ed25519", "close-after-kexinit")
    r, rec = one(vigia, f"ssh://127.0.0.1:{f.port}")
    assert r.returncode == 0, rec
    assert rec["ssh"]["hostkey_verified"] is False


# --- real sshd: every host key type and key exchange method -----------------------

@pytest.mark.parametrize("keytype,bits,kex", [
    ("ed25519", None, None),
    ("ecdsa", 256, None),
    ("ecdsa", 384, None),
    ("ecdsa", 521, None),
    ("rsa", 3072, None),
    ("ed25519", None, "ecdh-sha2-nistp256"),
    ("rsa", 3072, "ecdh-sha2-nistp256"),
    ("ecdsa", 256, "ecdh-sha2-nistp384"),
    ("ed25519", None, "ecdh-sha2-nistp521"),
    ("ed25519", None, "curve25519-sha256@libssh.org"),
])
def test_real_sshd_verifies(vigia, sshd, keytype, bits, kex):
    s = sshd(keytype, kex=kex, bits=bits)
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}", "--expect-hostkey", s.fingerprint)
    assert r.returncode == 0 and rec["reason"] == "ok", rec
    assert rec["ssh"]["hostkey_verified"] is True
    assert rec["ssh"]["kex"] == (kex or "curve25519-sha256")
    if keytype == "rsa":
        assert rec["ssh"]["hostkey_algorithm"] == "rsa-sha2-512"


def test_real_sshd_without_common_kex(vigia, sshd):
    # sshd offering only a method we lack: the banner passes, a pin fails.
    s = sshd("ed25519", kex="diffie-hellman-group14-sha256")
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}")
    assert r.returncode == 0 and rec["ssh"]["hostkey_fingerprint"] is None, rec
    r, rec = one(vigia, f"ssh://127.0.0.1:{s.port}", "--expect-hostkey", s.fingerprint)
    assert r.returncode == 2 and rec["reason"] == "hostkey-unverified", rec

