# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check --wait`: a server that comes up after
2 s (then the command after -- runs), one that never does (exit 124 within
the timeout), mixed kinds in one wait, progress on stderr, Ctrl-C."""
import json
import signal
import socket
import subprocess
import threading
import time

from check_servers import run_check
from conftest import free_port


def listen_later(port, delay, hold=10.0):
    """Listens on 127.0.0.1:port after delay seconds, for hold seconds."""
    def body():
        time.sleep(delay)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        time.sleep(hold)
        s.close()
    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t


def test_wait_for_late_server_then_exec(vigia, tmp_path):
    port = free_port()
    listen_later(port, 2.0)
    marker = tmp_path / "ran"
    t0 = time.monotonic()
    r, _, _ = run_check(vigia, "--wait", "--timeout", "15s", "--interval", "200ms", f"127.0.0.1:{port}",
                        "--", "sh", "-c", f"echo started > {marker}; exit 7")
    took = time.monotonic() - t0
    assert r.returncode == 7, r.stderr  # the command's own status (exec)
    assert marker.read_text() == "started\n"
    assert 1.8 < took < 6
    assert "ready" in r.stderr
    assert r.stdout == ""  # records only with -o


def test_wait_gives_up_with_124(vigia):
    port = free_port()
    t0 = time.monotonic()
    r, recs, s = run_check(vigia, "--wait", "--timeout", "1500ms", "--interval", "200ms",
                           "-o", "ndjson", f"tcp://127.0.0.1:{port}", "--", "false")
    took = time.monotonic() - t0
    assert r.returncode == 124, r.stderr
    assert 1.4 < took < 4
    assert s["timed_out"] is True and s["exit_code"] == 124
    assert recs[0]["reason"] == "conn-refused"
    assert "gave up" in r.stderr and "conn-refused" in r.stderr


def test_wait_mixed_kinds(vigia, nginx):
    port = free_port()
    listen_later(port, 1.0)
    r, recs, s = run_check(vigia, "--wait", "--timeout", "10s", "--interval", "200ms", "-o", "ndjson",
                           nginx.url("/"), f"127.0.0.1:{port}")
    assert r.returncode == 0, r.stderr
    assert [x["state"] for x in recs] == ["ok", "ok"]
    assert s["ok"] == 2


def test_wait_slow_attempt_bounded_by_timeout(vigia, hostile):
    h = hostile("silent")
    t0 = time.monotonic()
    r, _, _ = run_check(vigia, "--wait", "--timeout", "1s", "--check-timeout", "10s",
                        f"127.0.0.1:{h.port}", "--expect", "never")
    assert r.returncode == 124
    assert time.monotonic() - t0 < 3


def test_wait_exec_failure_127(vigia, listeners):
    port = listeners.listen()
    r, _, _ = run_check(vigia, "--wait", f"127.0.0.1:{port}", "--", "/nonexistent/cmd")
    assert r.returncode == 127 and "cannot run" in r.stderr


def test_wait_all_ok_at_once(vigia, listeners):
    port = listeners.listen()
    r, _, _ = run_check(vigia, "--wait", "-q", f"127.0.0.1:{port}")
    assert r.returncode == 0 and r.stderr == ""


def test_ctrl_c_once_mode_keeps_records(vigia, hostile):
    h = hostile("silent")
    p = subprocess.Popen([vigia, "check", "-o", "ndjson", "--timeout", "30s", "--expect", "x",
                          f"127.0.0.1:{h.port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 130, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[1]["reason"] == "interrupted" and lines[-1]["interrupted"] is True


def test_ctrl_c_wait_mode_130(vigia):
    port = free_port()
    p = subprocess.Popen([vigia, "check", "--wait", "--timeout", "30s", f"127.0.0.1:{port}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=10)
    assert p.returncode == 130
