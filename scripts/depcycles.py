#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Dependency cycles between libvigia's object files.

An arrow goes from one object file to another when the first uses a symbol
that the second defines (nm: U in the first; T, D, B, R, ... in the
second). Prints every strongly connected component with more than one
file, largest first, and exits non-zero when the largest is above
--max (default: no limit).

    scripts/depcycles.py [--max N] [BUILD_DIR]     # default BUILD_DIR: build
"""
import argparse
import glob
import os
import subprocess
import sys


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True,
                         text=True, check=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if len(line.split()) >= 3}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True, check=True).stdout
    used = {line.split()[-1] for line in out.splitlines() if line.strip()}
    return defined, used


def name_of(obj):
    # meson names lib/check/ssh.c's object check_ssh.c.o
    return os.path.basename(obj)[:-len(".c.o")].replace("_", "/", 1)


def components(graph):
    """Tarjan's strongly connected components, iterative."""
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(sorted(comp))
    return comps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=0)
    ap.add_argument("build", nargs="?", default="build")
    a = ap.parse_args()
    objs = sorted(glob.glob(os.path.join(a.build, "lib", "libvigia.a.p", "*.o")))
    if not objs:
        sys.exit(f"depcycles: no object files under {a.build}/lib/libvigia.a.p (build first)")
    defs, uses = {}, {}
    for o in objs:
        defs[o], uses[o] = symbols(o)
    owner = {}
    for o, d in defs.items():
        for s in d:
            owner[s] = o
    graph = {name_of(o): set() for o in objs}
    for o, u in uses.items():
        for s in u:
            if s in owner and owner[s] != o:
                graph[name_of(o)].add(name_of(owner[s]))
    comps = sorted((c for c in components(graph) if len(c) > 1), key=len, reverse=True)
    largest = len(comps[0]) if comps else 1
    print(f"object files: {len(objs)}; largest cycle: {largest} file(s)")
    for c in comps:
        print(f"  {len(c)}: {' '.join(c)}")
    if a.max and largest > a.max:
        sys.exit(f"depcycles: largest cycle {largest} > {a.max}")


if __name__ == "__main__":
    main()
