# SPDX-License-Identifier: MIT
"""Servers for the `vigia check` end-to-end tests, all on loopback and on
ports chosen free at run time: hostile TCP servers written here, nginx with a
temporary prefix and configuration, sshd with a temporary host key, and a
small certificate authority driven by the openssl command line."""
import datetime
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

from conftest import free_port, run

NGINX = "/usr/sbin/nginx"
SSHD = "/usr/sbin/sshd"


def wait_port(port, host="127.0.0.1", timeout=10.0):
    """Polls until something accepts on host:port (bounded)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(0.2)
        try:
            s.connect((host, port))
            return True
        except OSError:
            time.sleep(0.02)
        finally:
            s.close()
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def run_check(vigia, *args, timeout=60, env=None):
    """Runs `vigia check`, returns (CompletedProcess, ndjson check records,
    summary) when -o ndjson is among the args, else (CompletedProcess, None, None)."""
    r = run([vigia, "check", *args], timeout=timeout, env=env)
    recs = summary = None
    if "ndjson" in args:
        lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        assert lines and lines[0]["type"] == "check-run", r.stdout
        assert lines[0]["schema"] == "vigia.check/1"
        assert lines[-1]["type"] == "summary", r.stdout
        recs = [x for x in lines if x["type"] == "check"]
        summary = lines[-1]
        assert summary["exit_code"] == r.returncode
    return r, recs, summary


# --- hostile servers -------------------------------------------------------

class Hostile:
    """A TCP server on 127.0.0.1 that misbehaves in one way per instance.
    modes: silent, forever, nonewline, rst, escape, banner, http-garbage,
    http-09, drip, close."""

    def __init__(self, mode, payload=b"", host="127.0.0.1", port=0):
        self.mode = mode
        self.payload = payload
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.conns = []
        self.lock = threading.Lock()
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
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _hold(self, c):
        # Bounded: the test ends long before; stop() ends it anyway.
        self.stop.wait(60)

    def _serve(self, c):
        try:
            m = self.mode
            if m == "silent":
                self._hold(c)
            elif m == "forever":
                line = b"x" * 1000 + b"\n"
                deadline = time.monotonic() + 30
                while not self.stop.is_set() and time.monotonic() < deadline:
                    c.sendall(line)
            elif m == "nonewline":
                chunk = b"A" * 65536
                for _ in range(160):  # 10 MiB, no newline
                    if self.stop.is_set():
                        break
                    c.sendall(chunk)
                self._hold(c)
            elif m == "rst":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
            elif m in ("escape", "banner"):
                c.sendall(self.payload)
                self._hold(c)
            elif m == "close":
                c.sendall(self.payload)
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            elif m == "drip":
                for b in self.payload:
                    if self.stop.is_set():
                        break
                    c.sendall(bytes([b]))
                    time.sleep(0.01)
                self._hold(c)
            elif m in ("http-garbage", "http-09"):
                c.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    d = c.recv(4096)
                    if not d:
                        break
                    data += d
                c.sendall(self.payload)
                c.close()
        except OSError:
            pass

    def close(self):
        self.stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass
        self.thread.join(timeout=2)


# --- certificates ----------------------------------------------------------

CA_CONF = """
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
[ policy_any ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _ts(dt):
    return dt.strftime("%Y%m%d%H%M%SZ")


class CertFactory:
    """A root CA plus helpers to issue intermediates and leaves with chosen
    validity windows, all with `openssl`."""

    def __init__(self, d):
        self.d = d
        os.makedirs(os.path.join(d, "newcerts"), exist_ok=True)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        self.conf = os.path.join(d, "ca.cnf")
        with open(self.conf, "w") as f:
            f.write(CA_CONF.format(dir=d))
        self.root = self.self_signed("root", "vigia test root", ca=True)

    def p(self, name):
        return os.path.join(self.d, name)

    def _openssl(self, *args):
        r = run(["openssl", *args], timeout=60)
        assert r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr}"

    def _key_csr(self, name, cn, sans):
        args = ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.p(name + ".key"), "-out", self.p(name + ".csr"), "-subj", "/CN=" + cn]
        if sans:
            args += ["-addext", "subjectAltName=" + sans]
        self._openssl(*args)

    def self_signed(self, name, cn, ca=False, sans=None, days=3650):
        args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.p(name + ".key"), "-out", self.p(name + ".crt"), "-subj", "/CN=" + cn,
                "-days", str(days)]
        if ca:
            args += ["-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
        if sans:
            args += ["-addext", "subjectAltName=" + sans]
        self._openssl(*args)
        return name

    def issue(self, name, cn, signer, start_days=-1, end_days=365, ca=False,
              sans="DNS:localhost,IP:127.0.0.1,IP:::1"):
        now = datetime.datetime.now(datetime.timezone.utc)
        self._key_csr(name, cn, None if ca else sans)
        self._openssl("ca", "-batch", "-config", self.conf, "-cert", self.p(signer + ".crt"),
                      "-keyfile", self.p(signer + ".key"), "-in", self.p(name + ".csr"),
                      "-out", self.p(name + ".crt"), "-notext",
                      "-extensions", "v3_ca" if ca else "v3_leaf",
                      "-startdate", _ts(now + datetime.timedelta(days=start_days)),
                      "-enddate", _ts(now + datetime.timedelta(days=end_days)))
        return name

    def chain(self, name, *parts):
        """Concatenates PEM certificates (leaf first) into name.pem."""
        with open(self.p(name + ".pem"), "w") as out:
            for part in parts:
                with open(self.p(part + ".crt")) as f:
                    out.write(f.read())
        return self.p(name + ".pem")


# --- nginx -----------------------------------------------------------------

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{user}
worker_rlimit_nofile 20000;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    default_type text/plain;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{http};
        listen [::1]:{http};
        location = / {{ return 200 "hello from nginx\\n"; }}
        location = /301 {{ return 301 /; }}
        location = /302 {{ return 302 /301; }}
        location = /loop {{ return 302 /loop; }}
        location = /404 {{ return 404; }}
        location = /500 {{ return 500; }}
        location = /method {{ return 200 "method=$request_method\\n"; }}
        location = /big {{ alias {prefix}/big.txt; }}
        location = /slow {{ return 200 "slow\\n"; }}
    }}
{tls_servers}
}}
"""

TLS_SERVER = """
    server {{
        listen 127.0.0.1:{port} ssl;
        listen [::1]:{port} ssl;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        {extra}
        location / {{ return 200 "tls {name} ok\\n"; }}
    }}
"""


class Nginx:
    """nginx on loopback with a temporary prefix. tls maps a scenario name
    to (chain_pem, key, extra_directives)."""

    def __init__(self, prefix, tls=None):
        self.prefix = prefix
        self.http = free_port()
        self.tls_ports = {}
        os.makedirs(prefix, exist_ok=True)
        with open(os.path.join(prefix, "big.txt"), "wb") as f:
            f.write(b"B" * (3 << 20))
        blocks = []
        for name, (chain, key, extra) in (tls or {}).items():
            port = free_port()
            self.tls_ports[name] = port
            blocks.append(TLS_SERVER.format(port=port, chain=chain, key=key, extra=extra, name=name))
        conf = NGINX_CONF.format(prefix=prefix, http=self.http, tls_servers="".join(blocks),
                                 user="user root;" if os.geteuid() == 0 else "")
        self.conf = os.path.join(prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NGINX, "-p", prefix, "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(self.http)
            for p in self.tls_ports.values():
                wait_port(p)
        except TimeoutError:
            self.close()
            with open(os.path.join(prefix, "error.log")) as f:
                raise RuntimeError("nginx did not start: " + f.read())

    def url(self, path="/", host="127.0.0.1"):
        return f"http://{host}:{self.http}{path}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stderr:
            self.proc.stderr.close()


# --- sshd ------------------------------------------------------------------

class Sshd:
    """sshd -D on a free loopback port with a temporary host key of the given
    type (ed25519, ecdsa, rsa; bits for ssh-keygen -b), and optionally only
    the key exchange methods kex (sshd's KexAlgorithms)."""

    def __init__(self, d, keytype="ed25519", kex=None, bits=None):
        os.makedirs(d, exist_ok=True)
        os.makedirs("/run/sshd", exist_ok=True)
        self.port = free_port()
        self.key = os.path.join(d, f"host_{keytype}")
        r = run(["ssh-keygen", "-q", "-t", keytype, *(["-b", str(bits)] if bits else []),
                 "-N", "", "-f", self.key], timeout=60)
        assert r.returncode == 0, r.stderr
        r = run(["ssh-keygen", "-l", "-E", "sha256", "-f", self.key + ".pub"], timeout=30)
        self.fingerprint = r.stdout.split()[1]
        cfg = os.path.join(d, "sshd_config")
        with open(cfg, "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nListenAddress ::1\n"
                    f"HostKey {self.key}\nPidFile {d}/sshd.pid\nUsePAM no\nStrictModes no\n"
                    f"PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    f"LoginGraceTime 10\nMaxStartups 100:30:200\n")
            if kex:
                f.write(f"KexAlgorithms {kex}\n")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", cfg],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(self.port)
        except TimeoutError:
            self.close()
            raise RuntimeError("sshd did not start: " + self.proc.stderr.read().decode(errors="replace"))

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stderr:
            self.proc.stderr.close()


def have(path):
    return os.access(path, os.X_OK) or shutil.which(path) is not None


# --- a tiny DNS server -------------------------------------------------------

class TinyDns:
    """An authoritative-looking DNS server on 127.0.0.1 (UDP) for the tests:
    names in `records` get their A/AAAA answers, other names NXDOMAIN."""

    def __init__(self, records):
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.queries = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                reply = self._answer(data)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue
            if reply:
                self.sock.sendto(reply, peer)

    def _answer(self, q):
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        if qd != 1:
            return None
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode())
            i += 1 + q[i]
        qtype, qclass = struct.unpack("!HH", q[i + 1:i + 5])
        question = q[12:i + 5]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        rec = self.records.get(name)
        answers = []
        if rec is not None:
            for addr in rec:
                fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
                t = 28 if fam == socket.AF_INET6 else 1
                if t == qtype:
                    rdata = socket.inet_pton(fam, addr)
                    answers.append(b"\xc0\x0c" + struct.pack("!HHIH", t, 1, 60, len(rdata)) + rdata)
        rcode = 0 if rec is not None else 3
        hdr = struct.pack("!HHHHHH", qid, 0x8400 | rcode, 1, len(answers), 0, 0)
        return hdr + question + b"".join(answers)

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)
