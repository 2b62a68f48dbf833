# SPDX-License-Identifier: MIT
"""`vigia check` under a low open-file limit (ulimit -n 64, 32, 20): 204
TCP checks of loopback listeners and closed ports all get their real
verdict; none ends as "Too many open files". The concurrency fits the
limit, and a check short of a descriptor waits instead of failing."""
import json
import socket

import pytest

from conftest import run

N_OPEN = 180
N_CLOSED = 24


@pytest.fixture(scope="module")
def targets():
    """N_OPEN listeners on 127.0.0.1 and N_CLOSED ports nothing listens on."""
    socks, open_ports = [], []
    for _ in range(N_OPEN):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(256)
        socks.append(s)
        open_ports.append(s.getsockname()[1])
    # Closed ports: bound once (so distinct from the listeners and from each
    # other), then released; all bound at once before any is released.
    probes = []
    for _ in range(N_CLOSED):
        p = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        p.bind(("127.0.0.1", 0))
        probes.append(p)
    closed_ports = [p.getsockname()[1] for p in probes]
    for p in probes:
        p.close()
    yield open_ports, closed_ports
    for s in socks:
        s.close()


@pytest.mark.parametrize("limit", [64, 32, 20])
def test_every_check_correct_under_fd_limit(vigia, targets, limit):
    open_ports, closed_ports = targets
    specs = [f"tcp://127.0.0.1:{p}" for p in open_ports + closed_ports]
    assert len(specs) == 204
    # prlimit sets soft and hard, so vigia cannot raise it back.
    r = run(["prlimit", f"--nofile={limit}:{limit}", vigia, "check", "-o", "ndjson",
             "--timeout", "10s", *specs], timeout=120)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    recs = [x for x in lines if x["type"] == "check"]
    assert len(recs) == 204, r.stdout[-2000:] + r.stderr
    assert "open files" not in r.stdout.lower(), r.stdout
    for rec in recs:
        port = rec["port"]
        if port in open_ports:
            assert rec["state"] == "ok", rec
        else:
            assert rec["state"] == "critical" and rec["reason"] == "conn-refused", rec
        assert rec["attempts"] == 1, rec
    assert r.returncode == 2  # the closed ports are CRITICAL


def test_limit_too_low_for_any_check_is_unknown_not_a_hang(vigia, targets):
    """With no descriptor to spare at all, each check ends UNKNOWN after its
    timeout, saying why; nothing hangs and nothing is called down."""
    open_ports, _ = targets
    specs = [f"tcp://127.0.0.1:{p}" for p in open_ports[:5]]
    # 0-2 are stdio, 3 the event loop: a limit of 4 leaves none.
    r = run(["prlimit", "--nofile=4:4", vigia, "check", "-o", "ndjson", "--timeout", "500ms", *specs],
            timeout=60)
    recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    recs = [x for x in recs if x["type"] == "check"]
    assert len(recs) == 5, r.stdout + r.stderr
    for rec in recs:
        assert rec["state"] == "unknown" and "too many open files" in rec["message"], rec
    assert r.returncode == 3
