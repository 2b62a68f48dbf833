# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check -o openmetrics[=FILE]`: every sample
line is valid OpenMetrics (checked line by line here and, when installed,
by prometheus_client's OpenMetrics parser), the exposition ends with
`# EOF`, label values are escaped, certificate expiry timestamps are
given, and a FILE is replaced atomically (also after each --watch round)."""
import json
import math
import os
import re
import signal
import subprocess
import time

import pytest

from check_servers import run_check

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError:  # python3-prometheus-client (scripts/deps.d/check6b.txt)
    text_string_to_metric_families = None

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LVAL = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE_RE = re.compile(rf"^({NAME})\{{((?:[a-zA-Z_][a-zA-Z0-9_]*={LVAL})(?:,[a-zA-Z_][a-zA-Z0-9_]*={LVAL})*)\}} (\S+)$")
LABEL_RE = re.compile(rf"([a-zA-Z_][a-zA-Z0-9_]*)=({LVAL})")


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v[1:-1])


def parse(text):
    """Strict line-by-line check; returns [(name, {labels}, value)]."""
    assert text.endswith("# EOF\n"), text[-200:]
    lines = text.splitlines()
    assert lines.count("# EOF") == 1
    samples, seen_families, current = [], [], None
    for line in lines[:-1]:
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split(" ")
            assert typ == "gauge"
            assert fam not in seen_families, f"family {fam} split"
            seen_families.append(fam)
            current = fam
            continue
        if line.startswith("# HELP "):
            assert line.split(" ")[2] == current
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"bad sample line: {line!r}"
        assert m.group(1) == current, line
        float(m.group(3))
        labels = {k: unescape(v) for k, v in LABEL_RE.findall(m.group(2))}
        samples.append((m.group(1), labels, float(m.group(3))))
    if text_string_to_metric_families:
        fams = list(text_string_to_metric_families(text))
        assert sum(len(f.samples) for f in fams) == len(samples)
    return samples


def get(samples, name, **labels):
    out = [v for n, lab, v in samples if n == name and all(lab.get(k) == x for k, x in labels.items())]
    assert len(out) == 1, (name, labels, samples)
    return out[0]


def test_openmetrics_stdout_http_and_tcp(vigia, nginx):
    r, _, _ = run_check(vigia, "-o", "openmetrics", nginx.url("/"), nginx.url("/404"), "127.0.0.1:1")
    assert r.returncode == 2, r.stderr
    s = parse(r.stdout)
    ok, bad = nginx.url("/"), nginx.url("/404")
    assert get(s, "probe_success", target=ok, kind="http") == 1
    assert get(s, "probe_success", target=bad) == 0
    assert get(s, "probe_success", target="127.0.0.1:1", kind="tcp") == 0
    assert get(s, "probe_http_status_code", target=ok) == 200
    assert get(s, "probe_http_status_code", target=bad) == 404
    assert 0 < get(s, "probe_duration_seconds", target=ok, phase="total") < 10
    assert get(s, "probe_duration_seconds", target=ok, phase="connect") >= 0
    assert get(s, "vigia_check_state", target=bad, state="critical") == 1
    assert get(s, "vigia_check_state", target=bad, state="ok") == 0
    assert get(s, "vigia_check_reason", target=bad, reason="status-mismatch") == 1
    assert get(s, "vigia_check_attempts", target=ok) == 1


def test_openmetrics_cert_expiry(vigia, nginx, check_certs):
    cf, _ = check_certs
    port = nginx.tls_ports["valid"]
    t = f"https://localhost:{port}/"
    r, _, _ = run_check(vigia, "-4", "--cacert", cf.p("root.crt"), "-o", "openmetrics", "-o", "ndjson=/dev/null", t)
    assert r.returncode == 0, r.stdout + r.stderr
    s = parse(r.stdout)
    certs = [(lab["depth"], v) for n, lab, v in s if n == "vigia_cert_not_after_timestamp_seconds"]
    assert len(certs) >= 2 and certs[0][0] == "0"
    earliest = get(s, "probe_ssl_earliest_cert_expiry", target=t)
    assert earliest == min(v for _, v in certs)
    assert time.time() < earliest < time.time() + 4000 * 86400
    assert get(s, "probe_dns_lookup_time_seconds", target=t) >= 0


def test_openmetrics_label_escaping(vigia, tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text('checks:\n  - name: "we\\"ird\\\\name \\u00e9"\n    target: "127.0.0.1:1"\n')
    r, _, _ = run_check(vigia, "-f", str(f), "-o", "openmetrics")
    assert r.returncode == 2, r.stderr
    s = parse(r.stdout)
    names = {lab["name"] for _, lab, _ in s}
    assert names == {'we"ird\\name \u00e9'}


def test_openmetrics_file_is_atomic(vigia, tmp_path):
    out = tmp_path / "vigia.prom"
    out.write_text("old\n")
    r, _, _ = run_check(vigia, "-o", "openmetrics=" + str(out), "-o", "ndjson", "127.0.0.1:1")
    assert r.returncode == 2
    assert r.stdout.startswith("{")  # ndjson on stdout, metrics in the file
    parse(out.read_text())
    assert sorted(os.listdir(tmp_path)) == ["vigia.prom"]  # no .tmp left


def test_openmetrics_to_a_fifo_stays_a_fifo(vigia, tmp_path):
    """openmetrics=FILE on something that is not a regular file (here a
    FIFO; /dev/null is the same case) is written in place: renaming a
    FILE.tmp over it would replace the device or pipe with a file."""
    import stat
    import threading
    fifo = tmp_path / "metrics.fifo"
    os.mkfifo(fifo)
    got = []

    def reader():
        with open(fifo, "r") as f:
            got.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    r, _, _ = run_check(vigia, "-o", "openmetrics=" + str(fifo), "-o", "ndjson", "127.0.0.1:1")
    t.join(10)
    assert r.returncode == 2, r.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["metrics.fifo"]  # no .tmp beside it
    parse(got[0])


def test_openmetrics_unwritable_dir(vigia, tmp_path):
    r, _, _ = run_check(vigia, "-o", "openmetrics=" + str(tmp_path / "nodir" / "x.prom"), "127.0.0.1:1")
    assert r.returncode == 3 and "x.prom" in r.stderr


def test_openmetrics_watch_rewrites_each_round(vigia, tmp_path, listeners):
    port = listeners.listen()
    out = tmp_path / "w.prom"
    p = subprocess.Popen([vigia, "check", "--watch", "50ms", "-o", "openmetrics=" + str(out), "-o", "ndjson",
                          f"127.0.0.1:{port}", "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    reads, texts = 0, set()
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                text = out.read_text()
            except FileNotFoundError:
                continue
            s = parse(text)  # never half-written
            assert get(s, "probe_success", target=f"127.0.0.1:{port}") == 1
            reads += 1
            texts.add(text)
    finally:
        p.send_signal(signal.SIGINT)
        stdout, _ = p.communicate(timeout=10)
    assert reads > 10 and len(texts) > 3  # rewritten after each round
    assert not os.path.exists(str(out) + ".tmp")
    recs = [json.loads(x) for x in stdout.splitlines()]
    assert recs[-1]["type"] == "summary"
    assert p.returncode == 130  # SIGINT
    parse(out.read_text())
