# SPDX-License-Identifier: MIT
"""Shared fixtures for the end-to-end tests: the binary under test, free
loopback ports, listeners, and network namespaces the tests create."""
import os
import socket
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def vigia():
    path = os.environ.get("VIGIA", os.path.join(ROOT, "build", "vigia"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"vigia binary not found at {path}; build it first (make)")
    return path


def run(args, timeout=60, **kw):
    """Runs a command, returns CompletedProcess with text stdout/stderr."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Listeners:
    """TCP listeners on loopback, closed at teardown."""

    def __init__(self):
        self.socks = []

    def listen(self, host="127.0.0.1", port=0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.listen(128)
        self.socks.append(s)
        return s.getsockname()[1]

    def close(self):
        for s in self.socks:
            s.close()


@pytest.fixture
def listeners():
    ls = Listeners()
    yield ls
    ls.close()


def is_root():
    return os.geteuid() == 0
