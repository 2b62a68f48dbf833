# SPDX-License-Identifier: MIT
"""End-to-end tests of `vigia check -f checks.yaml`: many checks of mixed
kinds from one file, defaults, every option under its long name, names in
every record, command-line options on top, and bad files (exit 3, naming
the file, line and column)."""
import re

import pytest

from check_servers import run_check


def write(tmp_path, text, name="checks.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_file_mixed_kinds_defaults_and_names(vigia, nginx, listeners, tmp_path):
    port = listeners.listen()
    f = write(tmp_path, f"""
defaults:
  timeout: 3s
  retries: 1
checks:
  - name: web
    target: {nginx.url('/')}
    expect-status: 200-299
    expect-body: hello
    header:
      - 'X-A: 1'
      - 'X-B: 2'
  - name: web-404-ok
    target: {nginx.url('/404')}
    expect-status: "404"
  - name: verb
    target: {nginx.url('/method')}
    method: PUT
    expect-body: method=PUT
  - name: redirect
    target: {nginx.url('/302')}
    follow: true
    max-redirects: 5
  - name: tcp
    target: 127.0.0.1:{port}
  - target: 127.0.0.1:1
    name: tcp-refused
    on-refused: warning
""")
    r, recs, summary = run_check(vigia, "-f", f, "-o", "ndjson")
    assert r.returncode == 1, r.stdout + r.stderr  # tcp-refused is a WARNING
    by = {x["name"]: x for x in recs}
    assert list(by) == ["web", "web-404-ok", "verb", "redirect", "tcp", "tcp-refused"]
    assert by["web"]["state"] == "ok" and by["web"]["http"]["status"] == 200
    assert by["web-404-ok"]["state"] == "ok" and by["web-404-ok"]["http"]["status"] == 404
    assert by["verb"]["state"] == "ok"
    assert by["redirect"]["state"] == "ok" and by["redirect"]["http"]["redirects"] == 2
    assert by["tcp"]["state"] == "ok"
    assert by["tcp-refused"]["state"] == "warning" and by["tcp-refused"]["reason"] == "conn-refused"
    assert summary["checks"] == 6


def test_file_text_shows_names(vigia, listeners, tmp_path):
    port = listeners.listen()
    f = write(tmp_path, f"checks:\n  - {{name: db, target: '127.0.0.1:{port}'}}\n")
    r, _, _ = run_check(vigia, "-f", f)
    assert r.returncode == 0, r.stderr
    assert re.match(rf"TCP OK - 127\.0\.0\.1:{port} \[db\] - ", r.stdout), r.stdout


def test_file_name_escaped(vigia, listeners, tmp_path):
    port = listeners.listen()
    f = write(tmp_path, f"checks:\n  - {{name: \"a|b\\u202e\", target: '127.0.0.1:{port}'}}\n")
    r, recs, _ = run_check(vigia, "-f", f, "-o", "ndjson", "-o", "text=" + str(tmp_path / "t.txt"))
    assert r.returncode == 0, r.stderr
    assert recs[0]["name"] == "a|b\u202e"
    text = (tmp_path / "t.txt").read_text()
    assert "|b" not in text.split(" | ")[0] and "\u202e" not in text


def test_cli_options_apply_to_every_check(vigia, listeners, tmp_path):
    port = listeners.listen()
    f = write(tmp_path, f"""
checks:
  - {{name: a, target: '127.0.0.1:{port}', timeout: 5s}}
  - {{name: b, target: '127.0.0.1:1'}}
""")
    r, recs, _ = run_check(vigia, "-f", f, "-o", "ndjson", "--on-refused", "warning")
    assert r.returncode == 1, r.stdout + r.stderr
    assert [x["state"] for x in recs] == ["ok", "warning"]


def test_every_long_option_is_accepted(vigia, tmp_path, check_certs):
    """Each option of the command line works in a file (one value each)."""
    cf, _ = check_certs
    f = write(tmp_path, f"""
defaults:
  timeout: 1s
checks:
  - name: h
    target: https://127.0.0.1:1/
    method: GET
    data: x=1
    header: ['A: b']
    expect-status: 200-299,401
    expect-body: ok
    follow: true
    max-redirects: 3
    max-body: 64K
    resolve: ['h.test:1:127.0.0.1']
    user-agent: probe
    insecure: false
    cacert: {cf.p('root.crt')}
    cert-warn-days: 30
    cert-crit-days: 7
    warn: 500ms
    crit: connect=1s
    warn-tls: 200ms
    retries: 1
    retry-delay: 100ms
    retry-is-warning: yes
    on-timeout: warning
    on-refused: critical
    ipv4: true
  - name: s
    target: ssh://127.0.0.1:1
    expect-version: OpenSSH
    expect-hostkey: [SHA256:{'A' * 43}, SHA256:{'B' * 43}]
  - name: t
    target: tls://127.0.0.1:1
    sni: example.test
    send: 'HELO\\r\\n'
    expect: ^220
    max-read: 4K
""")
    r, recs, _ = run_check(vigia, "-f", f, "-o", "ndjson")
    assert r.returncode == 2, r.stdout + r.stderr
    assert [x["reason"] for x in recs] == ["conn-refused"] * 3


BAD = [
    ("", "1:1: the file is empty"),
    ("checks:\n  - target: 127.0.0.1:1\n    expet-status: 200\n", "3:5: unknown option 'expet-status'"),
    ("checks:\n  - target: 127.0.0.1:1\n    timeout: soon\n", "3:14: --timeout 'soon'"),
    ("checks:\n  - target: 127.0.0.1:1\n    expect-status: 99\n", "3:20: --expect-status"),
    ("checks:\n  - name: x\n", "2:5: check 'x' has no target"),
    ("checks:\n  - target: [a]\n", "2:13: 'target' expects a single value"),
    ("checks:\n  - {target: 'a:1', name: n}\n  - {target: 'b:1', name: n}\n", "3:5: duplicate check name 'n'"),
    ("checks: [\n", "2:1: YAML syntax error"),
    ("checks:\n  - target: nope://x\n", "2:5:"),
    ("checks:\n  - target: ssh://127.0.0.1\n    expect-body: x\n", "2:5: HTTP options need"),
    ("checks:\n  - target: 127.0.0.1:1\n    output: ndjson\n", "3:5: unknown option 'output'"),
    ("checks:\n  - target: 127.0.0.1:1\n    follow: 3\n", "3:13: 'follow' takes true or false"),
    ("checks:\n  - target: 127.0.0.1:1\n    cacert: /nonexistent/ca.pem\n", "3:13: --cacert"),
]


@pytest.mark.parametrize("text,msg", BAD)
def test_bad_files_are_usage_errors(vigia, tmp_path, text, msg):
    f = write(tmp_path, text)
    r, _, _ = run_check(vigia, "-f", f)
    assert r.returncode == 3
    assert r.stdout == ""
    assert f"{f}:{msg}" in r.stderr, r.stderr


def test_missing_file_and_mixing(vigia, tmp_path):
    r, _, _ = run_check(vigia, "-f", str(tmp_path / "none.yaml"))
    assert r.returncode == 3 and "none.yaml" in r.stderr
    f = write(tmp_path, "checks: [{target: '127.0.0.1:1'}]\n")
    r, _, _ = run_check(vigia, "-f", f, "127.0.0.1:2")
    assert r.returncode == 3 and "not both" in r.stderr


def test_file_with_wait(vigia, listeners, tmp_path):
    port = listeners.listen()
    f = write(tmp_path, f"checks: [{{name: up, target: '127.0.0.1:{port}'}}]\n")
    r, recs, _ = run_check(vigia, "-f", f, "--wait", "--timeout", "5s", "-o", "ndjson", "-q")
    assert r.returncode == 0, r.stderr
    assert recs[0]["name"] == "up" and recs[0]["state"] == "ok"
