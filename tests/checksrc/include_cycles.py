#!/usr/bin/env python3
"""include_cycles.py - fail on an include cycle between the modules of lib/,
and on a module that includes a layer above its own.

A module is a .c/.h pair (lib/web/request.c + lib/web/request.h =
"request"); its folder is its layer.  The layers, lowest first, are
LAYERS below (lib/core, lib/io, lib/backoffice, lib/web, then the services'
shared wiring in fcgi/common): a module may include headers of its own
layer and of the layers below, never of one above.
Module A depends on module B when A.c or A.h has
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


LAYERS = ["lib/core", "lib/io", "lib/backoffice", "lib/web", "fcgi/common"]


def layer_of(src):
    """module -> index of its layer in LAYERS"""
    out = {}
    for i, d in enumerate(LAYERS):
        path = os.path.join(src, d)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            base, ext = os.path.splitext(name)
            if ext in (".c", ".h"):
                out[base] = i
    return out


def graph(src, layers):
    deps = {}
    for i, d in enumerate(LAYERS):
        path = os.path.join(src, d)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            base, ext = os.path.splitext(name)
            if ext not in (".c", ".h"):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                text = f.read()
            mods = deps.setdefault(base, {})
            for m in INCLUDE.finditer(text):
                dep = m.group(1)
                if dep != base and dep in layers:
                    mods.setdefault(dep, os.path.join(d, name))
    return deps


def upward(deps, layers):
    """includes of a higher layer: (module, dep, file)"""
    return [(a, b, deps[a][b]) for a in sorted(deps) for b in sorted(deps[a])
            if layers[b] > layers[a]]


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
    layers = layer_of(src)
    deps = graph(src, layers)
    found = cycles(deps)
    n, bad = 0, 0
    for a, b, where in upward(deps, layers):
        n += 1
        bad += 1
        print("not ok %d - %s includes %s.h of a higher layer (%s above %s)"
              % (n, where, b, LAYERS[layers[b]], LAYERS[layers[a]]))
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
    print("%s %d - no include cycle and no upward include in lib/ beyond "
          "the allow-list (%d modules in %d layers)"
          % ("ok" if bad == 0 else "not ok", n, len(deps), len(LAYERS)))
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
