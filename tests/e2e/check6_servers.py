# SPDX-License-Identifier: MIT
"""Servers for the dns://, mysql:// and udp:// check tests, all on
loopback and ports chosen free at run time: dnsmasq with test records, a
scriptable fake DNS server (slow, hostile and truncated answers, UDP and
TCP), mariadbd with a temporary datadir, and fake MySQL/UDP servers."""
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

from conftest import free_port, udp_tcp_pair

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


def _stop_proc(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class Dnsmasq:
    """dnsmasq on 127.0.0.1:PORT (UDP and TCP) serving only what the test
    gives it: no resolv.conf, no /etc/hosts, no upstream."""

    def __init__(self, args):
        self.port = free_port()
        cmd = [DNSMASQ, "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1",
               "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
               "--user=root", "--group=root", "--pid-file=", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq exited: " + self.proc.stderr.read().decode(errors="replace"))
            s = socket.socket()
            s.settimeout(0.2)
            try:
                s.connect(("127.0.0.1", self.port))
                return
            except OSError:
                time.sleep(0.05)
            finally:
                s.close()
        self.close()
        raise TimeoutError("dnsmasq did not start")

    def close(self):
        _stop_proc(self.proc)
        if self.proc.stderr:
            self.proc.stderr.close()


def _qname(q):
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    qtype, _ = struct.unpack("!HH", q[i + 1:i + 5])
    return ".".join(labels).lower(), qtype, q[12:i + 5]


class FakeDns:
    """A DNS server on 127.0.0.1:PORT (UDP and TCP) whose answer depends on
    the name asked:
      slow.test      A 192.0.2.1 after `slow` seconds
      aa.test        A 192.0.2.7, authoritative
      servfail.test  SERVFAIL;  refused.test REFUSED
      loop.test      an answer record whose name is a compression loop
      fwdptr.test    an answer record whose name points forward
      cut.test       ANCOUNT 1 but the record is cut short
      short.test     a 6-byte reply (shorter than a header)
      tc.test        UDP: TC bit, no answers; TCP: 3 TXT records
      many.test      40 A records
      weird.test     TXT with control characters and an escape sequence
    anything else: NXDOMAIN."""

    def __init__(self, slow=3.0):
        self.slow = slow
        self.udp, self.tcp, self.port = udp_tcp_pair(reuse=True)
        self.tcp.listen(16)
        self.stop = threading.Event()
        self.tcp_queries = 0
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def _reply(self, q, tcp):
        qid, _flags, qd = struct.unpack("!HHH", q[:6])
        if qd != 1:
            return None
        name, qtype, question = _qname(q)
        flags, answers, an = 0x8180, b"", 0

        def a_rr(addr, nameptr=b"\xc0\x0c"):
            return nameptr + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
        if name == "slow.test":
            time.sleep(self.slow)
            answers, an = a_rr("192.0.2.1"), 1
        elif name == "aa.test":
            flags |= 0x0400
            answers, an = a_rr("192.0.2.7"), 1
        elif name == "servfail.test":
            flags |= 2
        elif name == "refused.test":
            flags |= 5
        elif name == "loop.test":
            off = 12 + len(question)
            answers, an = a_rr("192.0.2.9", struct.pack("!H", 0xC000 | off)), 1
        elif name == "fwdptr.test":
            off = 12 + len(question)
            answers, an = a_rr("192.0.2.9", struct.pack("!H", 0xC000 | (off + 40))), 1
        elif name == "cut.test":
            answers, an = a_rr("192.0.2.1")[:8], 1
        elif name == "short.test":
            return q[:6]
        elif name == "tc.test":
            if not tcp:
                flags |= 0x0200
            else:
                for txt in (b"one", b"two", b"three"):
                    rd = bytes([len(txt)]) + txt
                    answers += b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(rd)) + rd
                an = 3
        elif name == "many.test":
            for i in range(40):
                answers += a_rr(f"192.0.2.{i + 1}")
            an = 40
        elif name == "weird.test":
            txt = b"evil\x1b[31mred\x07\x00end"
            rd = bytes([len(txt)]) + txt
            answers, an = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(rd)) + rd, 1
        else:
            flags |= 3
        return struct.pack("!HHHHHH", qid, flags, 1, an, 0, 0) + question + answers

    def _serve_udp(self):
        self.udp.settimeout(0.1)
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._udp_one, args=(data, peer), daemon=True).start()

    def _udp_one(self, data, peer):
        try:
            r = self._reply(data, False)
        except (IndexError, struct.error, UnicodeDecodeError):
            return
        if r and not self.stop.is_set():
            try:
                self.udp.sendto(r, peer)
            except OSError:
                pass

    def _serve_tcp(self):
        self.tcp.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.tcp_queries += 1
            c.settimeout(2)
            try:
                n = struct.unpack("!H", c.recv(2))[0]
                q = b""
                while len(q) < n:
                    chunk = c.recv(n - len(q))
                    if not chunk:
                        break
                    q += chunk
                r = self._reply(q, True)
                if r:
                    c.sendall(struct.pack("!H", len(r)) + r)
            except (OSError, struct.error, IndexError, UnicodeDecodeError):
                pass
            finally:
                c.close()

    def close(self):
        self.stop.set()
        self.udp.close()
        self.tcp.close()
        for t in self.threads:
            t.join(timeout=2)


MARIADBD = "/usr/sbin/mariadbd"
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
MARIADB = shutil.which("mariadb") or "/usr/bin/mariadb"


class Mariadb:
    """mariadbd with a temporary datadir on 127.0.0.1:PORT (and a unix
    socket for the test's own SQL); no name resolution, small buffers."""

    def __init__(self, tmpdir):
        self.dir = tmpdir
        self.datadir = os.path.join(tmpdir, "data")
        self.sock = os.path.join(tmpdir, "sock")
        r = subprocess.run([MARIADB_INSTALL_DB, "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                            "--auth-root-authentication-method=normal", "--skip-test-db"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("mariadb-install-db failed: " + r.stderr[-2000:])
        self.port = free_port()
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.sock}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root",
             f"--pid-file={tmpdir}/pid", "--skip-name-resolve", f"--log-error={tmpdir}/err.log",
             "--innodb-buffer-pool-size=8M"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited: " + open(f"{tmpdir}/err.log").read()[-2000:])
            s = socket.socket()
            s.settimeout(0.2)
            try:
                s.connect(("127.0.0.1", self.port))
                return
            except OSError:
                time.sleep(0.1)
            finally:
                s.close()
        self.close()
        raise TimeoutError("mariadbd did not start")

    def sql(self, stmt):
        return subprocess.run([MARIADB, "--no-defaults", "-S", self.sock, "-uroot", "-e", stmt],
                              capture_output=True, text=True, timeout=30, check=True)

    def close(self):
        _stop_proc(self.proc)


def mysql_packet(payload, seq=0):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def mysql_greeting(version=b"8.0.36-fake", caps=0xF7FF | (0x81BF << 16), plugin=b"caching_sha2_password"):
    p = b"\x0a" + version + b"\x00" + struct.pack("<I", 42) + b"abcdefgh" + b"\x00"
    p += struct.pack("<H", caps & 0xFFFF) + b"\x21" + struct.pack("<H", 2) + struct.pack("<H", caps >> 16)
    p += bytes([21]) + b"\x00" * 10 + b"ijklmnopqrst\x00" + plugin + b"\x00"
    return mysql_packet(p)


def mysql_error(code, msg, sqlstate=None):
    p = b"\xff" + struct.pack("<H", code) + ((b"#" + sqlstate) if sqlstate else b"") + msg
    return mysql_packet(p)


class UdpServer:
    """A UDP server on loopback: mode "echo" answers each datagram with
    b"echo:" + it; "silent" reads and never answers; "multi" answers with
    three datagrams, the last one "ok"; "escape" answers with terminal
    escape sequences."""

    def __init__(self, mode="echo", host="127.0.0.1"):
        self.mode = mode
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.received = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append(data)
            try:
                if self.mode == "echo":
                    self.sock.sendto(b"echo:" + data, peer)
                elif self.mode == "multi":
                    for d in (b"first\n", b"second\n", b"ok\n"):
                        self.sock.sendto(d, peer)
                elif self.mode == "escape":
                    self.sock.sendto(b"\x1b]0;owned\x07\x1b[2J|x=1", peer)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


class StartTls:
    """A STARTTLS responder on 127.0.0.1 for the tests, one protocol per
    instance ("smtp", "imap", "postgres"), with the certificate chain and
    key given (the check_certs fixture). Variants:
      ok         the normal dialogue, then a TLS handshake
      nostarttls SMTP: EHLO reply without STARTTLS; IMAP: "v1 NO";
                 postgres: 'N'
      inject     plain-text bytes right after the go-ahead
      refuse     SMTP 554 greeting / IMAP * BYE / postgres ErrorResponse"""

    def __init__(self, proto, cert, key, variant="ok"):
        import ssl
        self.proto, self.variant = proto, variant
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.log = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _line(f):
        return f.readline(4096)

    def _serve(self, c):
        c.settimeout(5)
        try:
            f = c.makefile("rb")
            v = self.variant
            go = False
            if self.proto == "smtp":
                if v == "refuse":
                    c.sendall(b"554 5.7.1 no service for you\r\n")
                    return
                c.sendall(b"220-mail.test ESMTP vigia-fake\r\n220 ready\r\n")
                self.log.append(self._line(f))
                caps = [b"250-mail.test", b"250-PIPELINING", b"250-SIZE 1000"]
                caps.append(b"250 8BITMIME" if v == "nostarttls" else b"250-STARTTLS")
                if v != "nostarttls":
                    caps.append(b"250 HELP")
                c.sendall(b"\r\n".join(caps) + b"\r\n")
                if v == "nostarttls":
                    f.readline(4096)
                    return
                self.log.append(self._line(f))
                c.sendall(b"220 2.0.0 go ahead\r\n" + (b"250 injected\r\n" if v == "inject" else b""))
                go = True
            elif self.proto == "imap":
                if v == "refuse":
                    c.sendall(b"* BYE too busy\r\n")
                    return
                c.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] vigia-fake ready\r\n")
                self.log.append(self._line(f))
                if v == "nostarttls":
                    c.sendall(b"v1 NO STARTTLS not available\r\n")
                    return
                c.sendall(b"* CAPABILITY IMAP4rev1\r\nv1 OK Begin TLS negotiation now\r\n" +
                          (b"* injected\r\n" if v == "inject" else b""))
                go = True
            else:
                req = c.recv(8)
                self.log.append(req)
                if v == "nostarttls":
                    c.sendall(b"N")
                    return
                if v == "refuse":
                    fields = b"SFATAL\x00C53300\x00Msorry, too many clients already\x00\x00"
                    c.sendall(b"E" + struct.pack("!I", 4 + len(fields)) + fields)
                    return
                c.sendall(b"S" + (b"X" if v == "inject" else b""))
                go = True
            if go and v != "inject":
                t = self.ctx.wrap_socket(c, server_side=True)
                t.recv(1)
                t.close()
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)
