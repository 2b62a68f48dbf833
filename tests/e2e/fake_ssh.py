# SPDX-License-Identifier: MIT
"""A fake SSH server for the host-key tests, on 127.0.0.1 and a free port.

It speaks the server side of an SSH key exchange far enough for
`vigia check ssh://` (version line, KEXINIT, KEX_ECDH_INIT/REPLY with
curve25519-sha256 or ecdh-sha2-nistp256/384/521), with the python3-cryptography
package. It presents a real host key made by ssh-keygen; a `mode` says how
the reply is broken. "honest" signs correctly with the private key: it is the
control that shows the server itself is right, so that a failure in any other
mode comes from the one thing that mode breaks."""
import base64
import hashlib
import os
import socket
import struct
import threading

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

KEXINIT, NEWKEYS, ECDH_INIT, ECDH_REPLY, DISCONNECT = 20, 21, 30, 31, 1

CURVES = {
    "ecdh-sha2-nistp256": (ec.SECP256R1(), hashlib.sha256),
    "ecdh-sha2-nistp384": (ec.SECP384R1(), hashlib.sha384),
    "ecdh-sha2-nistp521": (ec.SECP521R1(), hashlib.sha512),
}
ECDSA = {"nistp256": (ec.SECP256R1(), hashes.SHA256()), "nistp384": (ec.SECP384R1(), hashes.SHA384()),
         "nistp521": (ec.SECP521R1(), hashes.SHA512())}


def sstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def mpint(n):
    if n == 0:
        return sstr(b"")
    b = n.to_bytes((n.bit_length() + 8) // 8, "big")   # room for a sign bit
    return sstr(b)


def packet(payload):
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + b"\0" * pad


def kexinit(kex, hostkey):
    lists = [kex, hostkey, "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""]
    return bytes([KEXINIT]) + os.urandom(16) + b"".join(sstr(x) for x in lists) + b"\0" + b"\0\0\0\0"


def load_key(path):
    """(private key, public blob, key type name) of an ssh-keygen key."""
    with open(path, "rb") as f:
        priv = serialization.load_ssh_private_key(f.read(), None)
    with open(path + ".pub") as f:
        typ, b64 = f.read().split()[:2]
    return priv, base64.b64decode(b64), typ


def sign(priv, alg, h):
    """A signature blob (string alg, string sig) over h by priv."""
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        return sstr(alg) + sstr(priv.sign(h))
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(priv.sign(h, ec.ECDSA(ECDSA[alg[11:]][1])))
        return sstr(alg) + sstr(mpint(r) + mpint(s))
    md = {"rsa-sha2-256": hashes.SHA256(), "rsa-sha2-512": hashes.SHA512(), "ssh-rsa": hashes.SHA1()}[alg]
    return sstr(alg) + sstr(priv.sign(h, padding.PKCS1v15(), md))


def public_blob(priv):
    return priv.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                          serialization.PublicFormat.OpenSSH).split()[1]


def other_key_like(priv):
    """A fresh key of the same kind: it signs, but it is not the host key."""
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        return ed25519.Ed25519PrivateKey.generate()
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        return ec.generate_private_key(priv.curve)
    return rsa.generate_private_key(65537, 2048)


class Ephemeral:
    """The server's half of one ECDH exchange."""

    def __init__(self, kex):
        self.kex = kex
        if kex.startswith("curve25519"):
            self.priv = x25519.X25519PrivateKey.generate()
            self.q = self.priv.public_key().public_bytes(serialization.Encoding.Raw,
                                                         serialization.PublicFormat.Raw)
            self.hash = hashlib.sha256
        else:
            curve, self.hash = CURVES[kex]
            self.priv = ec.generate_private_key(curve)
            self.q = self.priv.public_key().public_bytes(serialization.Encoding.X962,
                                                         serialization.PublicFormat.UncompressedPoint)

    def shared(self, qc):
        if self.kex.startswith("curve25519"):
            k = self.priv.exchange(x25519.X25519PublicKey.from_public_bytes(qc))
        else:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(self.priv.curve, qc)
            k = self.priv.exchange(ec.ECDH(), peer)
        return int.from_bytes(k, "big")


def exchange_hash(hashf, vc, vs, ic, is_, ks, qc, qs, k):
    return hashf(sstr(vc) + sstr(vs) + sstr(ic) + sstr(is_) + sstr(ks) + sstr(qc) + sstr(qs) + mpint(k)).digest()


class FakeSsh:
    """One fake server. kex/hostkey: the name-lists its KEXINIT offers
    (default: the key's own algorithm and curve25519-sha256); reply_kex:
    the method the reply is made for (default: the first of kex);
    sig_alg: the signature algorithm (default: the first of hostkey);
    other_sig_alg: what sig-not-negotiated signs with instead."""

    MODES = (
        "honest", "garbage-sig", "other-key-sig", "wrong-sig-name", "truncated-reply", "truncated-packet",
        "qs-short", "qs-long", "zero-point", "low-order-point", "wrong-kex-reply", "bad-curve-point",
        "disconnect-after-reply", "mismatched-key-type", "trailing-payload", "trailing-hostkey",
        "trailing-sig", "replayed-sig", "empty-hostkey", "disconnect-msg", "close-after-kexinit",
        "unexpected-msg", "silent-after-kexinit", "trailing-ecdsa-sig", "sig-not-negotiated",
        "second-kexinit", "hash-of-other-kex",
    )

    def __init__(self, keyfile, mode="honest", kex=None, hostkey=None, reply_kex=None, sig_alg=None,
                 other_sig_alg="rsa-sha2-512"):
        assert mode in self.MODES, mode
        self.priv, self.ks, self.keytype = load_key(keyfile)
        default_alg = {"ssh-rsa": "rsa-sha2-256"}.get(self.keytype, self.keytype)
        self.mode = mode
        self.kex = kex or "curve25519-sha256"
        self.hostkey = hostkey or default_alg
        self.reply_kex = reply_kex or self.kex.split(",")[0]
        self.sig_alg = sig_alg or self.hostkey.split(",")[0]
        self.other_sig_alg = other_sig_alg
        self.errors = []
        self.conns = []
        self.served = 0
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)

    def _accept(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            self.conns.append(t)
            t.start()

    def finished(self, timeout=10):
        """Waits (bounded) for the connections so far to end; returns the
        errors the server hit (none when it did what its mode says)."""
        for t in list(self.conns):
            t.join(timeout=timeout)
        return self.errors

    # --- reading what the client sends (bounded) ---
    @staticmethod
    def _read_exact(c, n):
        b = b""
        while len(b) < n:
            chunk = c.recv(n - len(b))
            if not chunk:
                raise EOFError("client closed")
            b += chunk
        return b

    def _read_packet(self, c):
        length = struct.unpack(">I", self._read_exact(c, 4))[0]
        assert 5 <= length <= 35000, length
        body = self._read_exact(c, length)
        return body[1:length - body[0]]

    def _read_line(self, c):
        line = b""
        while not line.endswith(b"\n"):
            ch = c.recv(1)
            if not ch or len(line) > 255:
                raise EOFError("no version line")
            line += ch
        return line.rstrip(b"\r\n")

    def _serve(self, c):
        c.settimeout(10)
        try:
            self._exchange(c)
            self.served += 1
        except Exception as e:  # recorded for the test to show, never silent
            self.errors.append(repr(e))
        finally:
            c.close()

    def _hold(self, c):
        """Waits (bounded) for the client to close."""
        try:
            c.settimeout(5)
            while c.recv(4096):
                pass
        except OSError:
            pass

    def _exchange(self, c):
        m = self.mode
        vs = b"SSH-2.0-FakeSSH_1.0"
        c.sendall(vs + b"\r\n")
        vc = self._read_line(c)
        is_ = kexinit(self.kex, self.hostkey)
        c.sendall(packet(is_))
        ic = self._read_packet(c)
        assert ic[0] == KEXINIT, ic[0]
        if m == "close-after-kexinit":
            return
        if m == "silent-after-kexinit":
            self._hold(c)
            return
        if m == "disconnect-msg":
            c.sendall(packet(bytes([DISCONNECT]) + struct.pack(">I", 3) + sstr("key exchange failed") + sstr("")))
            self._hold(c)
            return
        init = self._read_packet(c)
        assert init[0] == ECDH_INIT, init[0]
        qc = init[5:]
        assert struct.unpack(">I", init[1:5])[0] == len(qc)

        eph = Ephemeral(self.reply_kex)
        ks, qs, k = self.ks, eph.q, None
        try:
            k = eph.shared(qc)
        except ValueError:
            k = 0   # the client's key is not for this curve (wrong-kex-reply)
        if m == "wrong-kex-reply" and self.reply_kex == self.kex.split(",")[0]:
            raise AssertionError("wrong-kex-reply needs a reply_kex other than the negotiated one")
        hashf, hic, sig_alg, signer = eph.hash, ic, self.sig_alg, self.priv
        if m == "qs-short":
            qs = qs[:-1]
        elif m == "qs-long":
            qs = qs + b"\x01"
        elif m == "zero-point":
            qs, k = b"\0" * len(qs), 0
        elif m == "low-order-point":
            qs, k = b"\x01" + b"\0" * (len(qs) - 1), 0   # u = 1: order 4
        elif m == "bad-curve-point":
            qs = b"\x04" + b"\x01" * (len(qs) - 1)       # not on the curve
        elif m == "trailing-hostkey":
            ks = ks + b"\0\0\0\0"
        elif m == "empty-hostkey":
            ks = b""
        elif m == "replayed-sig":
            hic = ic[:1] + os.urandom(16) + ic[17:]       # another session's I_C
        elif m == "hash-of-other-kex":
            hashf = hashlib.sha512 if hashf is hashlib.sha256 else hashlib.sha256
        h = exchange_hash(hashf, vc, vs, hic, is_, ks, qc, qs, k)

        if m in ("garbage-sig", "disconnect-after-reply"):
            sig = sstr(sig_alg) + sstr(os.urandom(len(sign(signer, sig_alg, h)) - 8 - len(sig_alg)))
        elif m == "other-key-sig":
            sig = sign(other_key_like(signer), sig_alg, h)
        elif m == "wrong-sig-name":
            good = sign(signer, sig_alg, h)
            inner = good[4 + len(sig_alg):]
            sig = sstr("rsa-sha2-512" if sig_alg != "rsa-sha2-512" else "ssh-ed25519") + inner
        elif m == "mismatched-key-type":
            other = ec.generate_private_key(ec.SECP256R1())
            sig = sign(other, "ecdsa-sha2-nistp256", h)
        elif m == "sig-not-negotiated":
            sig = sign(signer, self.other_sig_alg, h)
        else:
            sig = sign(signer, sig_alg, h)
        if m == "trailing-sig":
            sig = sig + b"\0"
        elif m == "trailing-ecdsa-sig":
            n = struct.unpack(">I", sig[:4])[0]
            inner = sig[4 + n + 4:] + b"\0\0\0\0"
            sig = sig[:4 + n] + sstr(inner)

        reply = bytes([ECDH_REPLY]) + sstr(ks) + sstr(qs) + sstr(sig)
        if m == "trailing-payload":
            reply += b"\0\0\0\x01x"
        elif m == "truncated-reply":
            reply = reply[:len(reply) * 2 // 3]
        pkt = packet(reply)
        if m == "truncated-packet":
            c.sendall(pkt[:len(pkt) // 2])
            return                     # and close in the middle of the packet
        if m == "unexpected-msg":
            c.sendall(packet(bytes([NEWKEYS])))
            self._hold(c)
            return
        if m == "second-kexinit":
            c.sendall(packet(kexinit(self.kex, self.hostkey)) + pkt)
            self._hold(c)
            return
        c.sendall(pkt)
        if m == "disconnect-after-reply":
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass        # the client was quicker to close: fine
            return
        self._hold(c)


def fingerprint(blob):
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
