#!/usr/bin/env python3
"""include_cycles.py - fail on an include cycle between the modules of lib/.

A module is a .c/.h pair (lib/request.c + lib/request.h = "request").
Module A depends on module B when lib/A.c or lib/A.h has
#include "B.h" (B other than A).  A cycle is a set of modules that reach
each other through such dependencies (a strongly connected component of
more than one module): a layer below includes a layer above.

Known cycles that are too large to cut this round are listed in
tests/checksrc/include_cycles.allow, one cycle per line as the sorted
module names separated by spaces ("app request").  A cycle on the list
passes with a note; any other cycle fails, and so does a listed cycle that
no longer exists (so that the list can only shrink).

Usage: include_cycles.py [SRCDIR]   (TAP on stdout; exit 1 on failure)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)\.h"', re.M)


def graph(lib):
    deps = {}
    for name in sorted(os.listdir(lib)):
        base, ext = os.path.splitext(name)
        if ext not in (".c", ".h"):
            continue
        with open(os.path.join(lib, name), encoding="utf-8") as f:
            text = f.read()
        mods = deps.setdefault(base, {})
        for m in INCLUDE.finditer(text):
            dep = m.group(1)
            if dep != base and os.path.exists(os.path.join(lib, dep + ".h")):
                mods.setdefault(dep, name)
    return deps


def cycles(deps):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(tuple(sorted(comp)))

    sys.setrecursionlimit(10000)
    for v in sorted(deps):
        if v not in index:
            visit(v)
    return sorted(out)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "."
    here = os.path.dirname(os.path.abspath(__file__))
    allow = set()
    try:
        with open(os.path.join(here, "include_cycles.allow"), encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if line:
                    allow.add(tuple(sorted(line)))
    except FileNotFoundError:
        pass
    deps = graph(os.path.join(src, "lib"))
    found = cycles(deps)
    n, bad = 0, 0
    for comp in found:
        n += 1
        members = set(comp)
        edges = ["%s -> %s (%s)" % (a, b, deps[a][b])
                 for a in comp for b in sorted(deps[a]) if b in members]
        if comp in allow:
            print("ok %d - known include cycle %s (on the allow-list)"
                  % (n, " ".join(comp)))
        else:
            bad += 1
            print("not ok %d - include cycle %s" % (n, " ".join(comp)))
        for e in edges:
            print("#   " + e)
    for comp in sorted(allow - set(found)):
        n += 1
        bad += 1
        print("not ok %d - allow-listed cycle %s is gone: remove it from "
              "tests/checksrc/include_cycles.allow" % (n, " ".join(comp)))
    n += 1
    print("%s %d - no include cycle in lib/ beyond the allow-list (%d modules)"
          % ("ok" if bad == 0 else "not ok", n, len(deps)))
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
