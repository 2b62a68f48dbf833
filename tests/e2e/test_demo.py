# SPDX-License-Identifier: MIT
"""`vigia demo` (what the README's first command ends with): it must find its
own listeners open on 127.0.0.1 and ::1, and show one OK and one CRITICAL
check."""
import re

from conftest import run


def test_demo_scans_and_checks_its_listeners(vigia):
    r = run([vigia, "demo"], timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    m = re.search(r"listening on 127\.0\.0\.1 and ::1, ports ([0-9,]+)", out)
    assert m, out
    ports = {int(p) for p in m.group(1).split(",")}
    assert len(ports) == 3
    for host in ("127.0.0.1", "::1"):
        block = out.split("\n" + host + "\n", 1)[1].split("\n\n", 1)[0]
        found = {int(p) for p in re.findall(r"^\s+(\d+)/tcp\s+open\b", block, re.M)}
        assert ports <= found, (host, block)
    assert out.count("TCP OK - ") == 2, out
    assert out.count("TCP CRITICAL - ") == 1 and "connection refused" in out
    assert "vigia check exited 2" in out
