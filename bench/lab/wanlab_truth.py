#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The WAN lab's truth: which ports of the target are open (a listener),
filtered (an nftables drop rule) or closed (the kernel's RST), and for the
wide scenarios which hosts of 198.19.0.0/16 are open on port 80 and which
answer RST. Seeded, so the same arguments always give the same sets. Writes
open.truth, filtered.truth (one port a line, sorted) and with --wide
open_hosts.truth, rst_hosts.truth (one address a line, sorted) into OUT,
and the target's nftables rules for them as OUT/target.nft.
Used by bench/lab/wanlab.sh and tests/e2e/wanlab.py."""
import argparse
import ipaddress
import os
import random

ALWAYS_OPEN = (22, 53, 80, 443, 3306)
WIDE_NET = ipaddress.ip_network("198.19.0.0/16")


def parse_range(spec):
    lo, _, hi = spec.partition("-")
    lo, hi = int(lo), int(hi or lo)
    if not 1 <= lo <= hi <= 65535:
        raise ValueError(f"bad port range {spec!r}")
    return lo, hi


def port_sets(port_range, n_open, n_filtered, seed):
    """(open, filtered) as sorted lists of ports inside port_range."""
    lo, hi = parse_range(port_range)
    ports = list(range(lo, hi + 1))
    fixed = [p for p in ALWAYS_OPEN if lo <= p <= hi]
    rest = [p for p in ports if p not in fixed]
    if len(fixed) + len(rest) < n_open + n_filtered or n_open < len(fixed):
        raise ValueError("port range too small for the open and filtered counts")
    rnd = random.Random(f"wanlab-ports-{seed}")
    pick = rnd.sample(rest, n_open - len(fixed) + n_filtered)
    open_ = sorted(fixed + pick[:n_open - len(fixed)])
    filtered = sorted(pick[n_open - len(fixed):])
    return open_, filtered


def host_sets(n_open, n_rst, seed):
    """(open_hosts, rst_hosts) as sorted lists of addresses of WIDE_NET
    (neither its first nor its last address)."""
    rnd = random.Random(f"wanlab-hosts-{seed}")
    idx = rnd.sample(range(1, WIDE_NET.num_addresses - 1), n_open + n_rst)
    base = int(WIDE_NET.network_address)
    as_ip = lambda i: str(ipaddress.ip_address(base + i))  # noqa: E731
    return ([as_ip(i) for i in sorted(idx[:n_open])],
            [as_ip(i) for i in sorted(idx[n_open:])])


def nft_ruleset(filtered, rstlimit=False, open_hosts=(), rst_hosts=()):
    """The target's nftables rules: drop the filtered ports; with rstlimit,
    at most 1000 outgoing RSTs a second; with hosts, the wide /16 (port 80
    open or RST on its hosts, ping answered, everything else dropped)."""
    def elems(xs):
        return ", ".join(str(x) for x in xs)
    r = ["table inet wanlab {"]
    if filtered:
        r.append(f"  set dropped {{ type inet_service; elements = {{ {elems(filtered)} }} }}")
    if open_hosts:
        r.append(f"  set wopen {{ type ipv4_addr; elements = {{ {elems(open_hosts)} }} }}")
    if rst_hosts:
        r.append(f"  set wrst {{ type ipv4_addr; elements = {{ {elems(rst_hosts)} }} }}")
    r.append("  chain input {")
    r.append("    type filter hook input priority 0; policy accept;")
    if open_hosts or rst_hosts:
        r.append(f"    ip daddr {WIDE_NET} jump wide")
    if filtered:
        r.append("    tcp dport @dropped drop")
    r.append("  }")
    if open_hosts or rst_hosts:
        r.append("  chain wide {")
        if open_hosts:
            r.append("    ip daddr @wopen tcp dport 80 accept")
            r.append("    ip daddr @wopen icmp type echo-request accept")
        if rst_hosts:
            r.append("    ip daddr @wrst tcp dport 80 reject with tcp reset")
            r.append("    ip daddr @wrst icmp type echo-request accept")
        r.append("    drop")
        r.append("  }")
    if rstlimit:
        r.append("  chain output {")
        r.append("    type filter hook output priority 0; policy accept;")
        r.append("    tcp flags & rst == rst limit rate over 1000/second drop")
        r.append("  }")
    r.append("}")
    return "\n".join(r) + "\n"


def write(out, name, items):
    with open(os.path.join(out, name), "w") as f:
        f.write("".join(f"{x}\n" for x in items))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ports", default="1-65535")
    ap.add_argument("--open", type=int, default=300)
    ap.add_argument("--filtered", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--wide", action="store_true")
    ap.add_argument("--open-hosts", type=int, default=2000)
    ap.add_argument("--rst-hosts", type=int, default=10000)
    ap.add_argument("--rstlimit", action="store_true",
                    help="target.nft limits outgoing RSTs to 1000/s")
    ap.add_argument("out")
    a = ap.parse_args()
    open_, filtered = port_sets(a.ports, a.open, a.filtered, a.seed)
    write(a.out, "open.truth", open_)
    write(a.out, "filtered.truth", filtered)
    oh, rh = [], []
    if a.wide:
        oh, rh = host_sets(a.open_hosts, a.rst_hosts, a.seed)
        write(a.out, "open_hosts.truth", oh)
        write(a.out, "rst_hosts.truth", rh)
    with open(os.path.join(a.out, "target.nft"), "w") as f:
        f.write(nft_ruleset(filtered, a.rstlimit, oh, rh))


if __name__ == "__main__":
    main()
