#!/usr/bin/env python3
"""long_functions.py - no C function over 80 lines in lib/ and fcgi/.

A function that needs a scroll bar is two functions (the house rules).  The
tree is clang-formatted, so a function definition is a line that starts
with its name and "(" at column 0, followed (after the parameter lines)
by a "{" alone at column 0; the body ends at the next "}" alone at column
0.  Its length is counted from that "{" to that "}", both included.
Comments inside count: a function that needs them to be read is long.

Directories are walked recursively (lib/ is being split into layer
folders), every *.c file is checked.  Functions allowed to stay long for
a while are listed in tests/checksrc/long_functions.allow as "path:
function" (the path may be a suffix after a "/": "auth/handlers.c:
auth_login"); they are reported but pass.  A listed function that is now short enough, or gone, fails
too, so the list can only shrink.

Usage: long_functions.py [--max N] [--allow FILE] PATH...
(prints "path:line: function N lines" per hit; exit 1 on a hit not on the
list or a stale line of the list)
"""
import os
import re
import sys

NAME = re.compile(r"^([A-Za-z_]\w*)\(")


def functions(path):
    """(name, first line of the body, length in lines) per definition."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    for i, line in enumerate(lines):
        if line != "{":
            continue
        j = i - 1
        while j >= 0 and not NAME.match(lines[j]):
            # a blank line, a closing brace or a ";" ends the search: "{"
            # then opens a struct or an initialiser, not a function
            if lines[j] == "" or lines[j].startswith("}") or \
                    lines[j].rstrip().endswith(";"):
                j = -1
                break
            j -= 1
        if j < 0:
            continue
        k = i + 1
        while k < len(lines) and lines[k] != "}":
            k += 1
        out.append((NAME.match(lines[j]).group(1), i + 1, k - i + 1))
    return out


def sources(args):
    for p in args:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d != "node_modules")
                for f in sorted(files):
                    if f.endswith(".c"):
                        yield os.path.join(root, f)
        elif os.path.isfile(p) and p.endswith(".c"):
            yield p


def listed(key, allow):
    for a in allow:
        if key == a or (key.endswith(a) and key[-len(a) - 1] == "/"):
            return a
    return None


def main():
    args, allow, limit = sys.argv[1:], set(), 80
    while args[:1] in (["--allow"], ["--max"]):
        if args[0] == "--max":
            limit = int(args[1])
        else:
            with open(args[1], encoding="utf-8") as f:
                allow = {l.strip() for l in f
                         if l.strip() and not l.startswith("#")}
        args = args[2:]
    bad, seen = 0, set()
    for path in sources(args):
        rel = os.path.normpath(path)
        for name, line, n in functions(path):
            if n <= limit:
                continue
            a = listed("%s: %s" % (rel, name), allow)
            if a is not None:
                seen.add(a)
                print("%s:%d: %s %d lines (known, on the allow-list)" %
                      (rel, line, name, n))
            else:
                bad += 1
                print("%s:%d: %s %d lines (over %d)" % (rel, line, name, n,
                                                      limit))
    for a in sorted(allow - seen):
        bad += 1
        print("not over %d lines any more (or gone), remove from the "
              "allow-list: %s" % (limit, a))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
