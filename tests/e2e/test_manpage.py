# SPDX-License-Identifier: MIT
"""The man page and the option tables agree: docs/vigia.1's CHECK OPTIONS
list is what `vigia --help-man` generates from the tables (rerun
scripts/gen-man.sh after changing a row), and every long option of
`vigia scan --help` (also generated from its table) is described in the
man page."""
import os
import re

from conftest import ROOT, run

MAN = os.path.join(ROOT, "docs", "vigia.1")


def generated_block(text):
    m = re.search(r'^\.\\" BEGIN GENERATED[^\n]*\n(.*?)^\.\\" END GENERATED', text, re.S | re.M)
    assert m, "docs/vigia.1 has no generated block"
    return m.group(1)


def test_check_options_list_is_the_generated_one(vigia):
    r = run([vigia, "--help-man"])
    assert r.returncode == 0 and r.stdout.count(".TP") > 50, r.stdout[:500]
    with open(MAN) as f:
        man = f.read()
    assert generated_block(man) == r.stdout, "docs/vigia.1 is stale: run scripts/gen-man.sh"


def test_every_scan_option_is_in_the_man_page(vigia):
    r = run([vigia, "scan", "--help"])
    assert r.returncode == 0
    names = set(re.findall(r"^  (?:-\w, )?--([a-z][a-z0-9-]*)", r.stdout, re.M))
    assert {"ports", "rate", "check-timeout", "dry-run"} <= names, names
    with open(MAN) as f:
        man = f.read()
    missing = sorted(n for n in names if "\\-\\-" + n.replace("-", "\\-") not in man)
    assert not missing, f"scan options missing from docs/vigia.1: {missing}"
