#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The WAN lab's services: one process listening on every port named in a
file (0.0.0.0 and [::]), accepting and closing every connection at once so
that no backlog ever fills. Prints "ready" when all sockets listen; exits
when stdin closes or after --max-seconds."""
import argparse
import resource
import select
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ports_file")
    ap.add_argument("--max-seconds", type=float, default=900)
    a = ap.parse_args()
    ports = [int(x) for x in open(a.ports_file).read().split()]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * len(ports) + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    ep = select.epoll()
    socks = {}
    for port in ports:
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.listen(4096)
            s.setblocking(False)
            socks[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLIN)
    ep.register(sys.stdin.fileno(), select.EPOLLIN | select.EPOLLHUP)
    print("ready", flush=True)
    end = time.monotonic() + a.max_seconds
    while time.monotonic() < end:
        for fd, _ in ep.poll(1.0):
            if fd == sys.stdin.fileno():
                if not sys.stdin.buffer.read1(4096):
                    return
                continue
            s = socks[fd]
            for _ in range(256):
                try:
                    c, _ = s.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                c.close()


if __name__ == "__main__":
    main()
