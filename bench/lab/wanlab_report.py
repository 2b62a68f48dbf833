#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns one tool run in the WAN lab into a row of bench/scan_wan.sh's
Markdown table: what the tool said (vigia NDJSON, nmap XML, masscan -oL,
zmap's address list) against the lab's truth files, plus probes/s and the
relay's counters for that run.

  wanlab_report.py header
  wanlab_report.py row --tool NAME --kind vigia|nmap|masscan|zmap --out FILE
      --truth DIR [--wide] --wall S --link-packets N [--before JSON --after JSON]
      [--limit S --rc RC]

Ports mode (default): open/filtered of 198.18.0.2's ports against
open.truth/filtered.truth; everything else in the scanned range is closed.
Wide mode: port 80 of the hosts of 198.19.0.0/16 against open_hosts.truth
(open) and rst_hosts.truth (closed); every other host is filtered."""
import argparse
import json
import sys
import xml.etree.ElementTree as ET

HEADER = ("| tool | wall | open found / truth | false open | filtered found / truth | "
          "wrongly filtered | probes/s | relay → (rx / fwd / loss / queue / ring) | "
          "relay ← (rx / fwd / loss / queue / ring) | tap drops → / ← |")
SEP = "|" + "---|" * 10


def read_lines(path):
    try:
        with open(path) as f:
            return [x.strip() for x in f if x.strip()]
    except FileNotFoundError:
        return []


def parse_vigia(path, wide):
    """(open, filtered, sent-probes-per-second or None) from NDJSON. Hosts
    that host discovery found down have no port record; their number is
    kept in parse_vigia.hosts_down for the table."""
    open_, filt, pps = set(), set(), None
    parse_vigia.hosts_down = None
    for line in read_lines(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("type") == "port" and r.get("proto") == "tcp":
            if wide and r["port"] != 80:
                continue  # a wide scan's other ports only make discovery run first
            key = r["ip"] if wide else r["port"]
            if r["state"] == "open":
                open_.add(key)
            elif r["state"] == "filtered":
                filt.add(key)
        elif r.get("type") == "summary":
            pps = r.get("pps")
            parse_vigia.hosts_down = r.get("hosts_down")
    return open_, filt, pps


def _expand(ports):
    out = set()
    for part in (ports or "").split(","):
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        elif part:
            out.add(int(part))
    return out


def parse_nmap(path, wide):
    """(open, filtered, None) from nmap -oX. nmap folds a state with many
    ports into <extraports>, whose <extrareasons> name the ports."""
    open_, filt = set(), set()
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, FileNotFoundError):
        return open_, filt, None
    for host in root.iter("host"):
        addr = host.find("address").get("addr")
        for p in host.iter("port"):
            st = p.find("state").get("state")
            key = addr if wide else int(p.get("portid"))
            if st == "open":
                open_.add(key)
            elif st.startswith("filtered") or st == "open|filtered":
                filt.add(key)
        for e in host.iter("extraports"):
            if not e.get("state", "").startswith("filtered"):
                continue
            if wide:
                filt.add(addr)
                continue
            for r in e.iter("extrareasons"):
                filt |= _expand(r.get("ports"))
    return open_, filt, None


def parse_masscan(path, wide):
    open_ = set()
    for line in read_lines(path):
        f = line.split()
        if len(f) >= 4 and f[0] == "open" and f[1] == "tcp":
            open_.add(f[3] if wide else int(f[2]))
    return open_, None, None


def parse_zmap(path, wide):
    open_ = set()
    for line in read_lines(path):
        if line[0].isdigit():
            open_.add(line.split(",")[0] if wide else int(line.split(",")[0]))
    return open_, None, None


PARSERS = {"vigia": parse_vigia, "nmap": parse_nmap, "masscan": parse_masscan,
           "zmap": parse_zmap}


def relay_delta(before, after, d):
    if not before or not after:
        return "n/a (veth)"
    b, a = json.loads(before)[d], json.loads(after)[d]
    v = [a[k] - b[k] for k in ("received", "forwarded", "dropped_loss", "dropped_queue",
                                "dropped_ring")]
    return " / ".join(str(x) for x in v)


def tap_drops(spec):
    v = [int(x) for x in spec.split()]
    if len(v) != 4:
        return "?"
    return f"{v[2] - v[0]} / {v[3] - v[1]}"


def row(a):
    wall = float(a.wall)
    truth_open = set(read_lines(f"{a.truth}/{'open_hosts' if a.wide else 'open'}.truth"))
    if a.wide:
        rst = set(read_lines(f"{a.truth}/rst_hosts.truth"))
        n_filtered_truth = 65536 - len(truth_open) - len(rst)
        answered = truth_open | rst
    else:
        truth_open = {int(x) for x in truth_open}
        truth_filt = {int(x) for x in read_lines(f"{a.truth}/filtered.truth")}
        n_filtered_truth = len(truth_filt)
    found_open, found_filt, pps = PARSERS[a.kind](a.out, a.wide)
    if a.limit and a.rc == 124:
        wall_txt = f"did not finish in {a.limit} s"
    else:
        wall_txt = f"{wall:.1f} s" + (f" (exit {a.rc})" if a.rc not in (0, None) else "")
    ok_open = len(found_open & truth_open)
    false_open = len(found_open - truth_open)
    if found_filt is None:
        filt_txt, wrong_filt = "n/a (reports open only)", "n/a"
    else:
        if a.wide:
            ok_filt = len(found_filt - answered)
            wrong = len(found_filt & answered)
        else:
            ok_filt = len(found_filt & truth_filt)
            wrong = len(found_filt - truth_filt)
        filt_txt = f"{ok_filt}/{n_filtered_truth}"
        down = getattr(PARSERS[a.kind], "hosts_down", None)
        if a.kind == "vigia" and down:
            filt_txt += f" (+{down} hosts down, not port-scanned)"
        wrong_filt = str(wrong)
    if pps is None:
        pps_txt = f"{(int(a.link_packets) / wall if wall > 0 else 0):.0f} (link)"
    else:
        pps_txt = f"{pps} (own)"
    print(f"| {a.tool} | {wall_txt} | {ok_open}/{len(truth_open)} | {false_open} | {filt_txt} | "
          f"{wrong_filt} | {pps_txt} | {relay_delta(a.before, a.after, 'a2b')} | "
          f"{relay_delta(a.before, a.after, 'b2a')} | {tap_drops(a.tap_drops)} |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("header")
    r = sub.add_parser("row")
    r.add_argument("--tool", required=True)
    r.add_argument("--kind", choices=sorted(PARSERS), required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--truth", required=True)
    r.add_argument("--wide", action="store_true")
    r.add_argument("--wall", required=True)
    r.add_argument("--link-packets", default="0")
    r.add_argument("--before", default="")
    r.add_argument("--after", default="")
    r.add_argument("--tap-drops", default="", help="'A0 B0 A1 B1': tap drops before and after")
    r.add_argument("--limit", type=int, default=0)
    r.add_argument("--rc", type=int, default=None)
    a = ap.parse_args()
    if a.cmd == "header":
        print(HEADER)
        print(SEP)
    else:
        row(a)


if __name__ == "__main__":
    sys.exit(main())
