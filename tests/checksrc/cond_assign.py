#!/usr/bin/env python3
"""cond_assign.py - no assignment inside an if or while condition.

`if ((fd = open(...)) < 0)` hides a side effect in a test and `if (a = b)`
is the classic typo; the house style assigns first and tests after.
Comments, string and character literals are blanked first; then the
parenthesised condition of every `if (` and `while (` is searched for an
assignment operator (=, +=, -=, ... but not ==, !=, <=, >=).  `for`
headers are not conditions and are not checked.

Known hits in files other branches are editing this round are listed in
tests/checksrc/cond_assign.allow as "path: the line's text, trimmed"
(line numbers move, the text does not); they are reported but pass.  A
listed hit that is gone fails too, so the list can only shrink.

Usage: cond_assign.py [--allow FILE] FILE...
(prints "path:line: text" per hit; exit 1 on a hit not on the list)
"""
import os
import re
import sys

KEYWORD = re.compile(r"\b(if|while)\s*\(")
ASSIGN = re.compile(r"(?<![=!<>])(?:<<|>>|[-+*/%&|^])?=(?!=)")


def blank(text):
    """Comments and literals replaced by spaces; newlines kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check(path):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    text = blank(raw)
    lines = raw.split("\n")
    hits = []
    for m in KEYWORD.finditer(text):
        depth, j = 1, m.end()
        while j < len(text) and depth > 0:
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
            j += 1
        cond = text[m.end():j - 1]
        # a macro's '#define X if (...)' is still a condition; '=' in a
        # designated initialiser cannot appear inside parentheses
        if ASSIGN.search(cond):
            line = text.count("\n", 0, m.start()) + 1
            hits.append((path, line, lines[line - 1].strip()))
    return hits


def main():
    args, allow = sys.argv[1:], set()
    if args[:1] == ["--allow"]:
        with open(args[1], encoding="utf-8") as f:
            allow = {l.strip() for l in f
                     if l.strip() and not l.startswith("#")}
        args = args[2:]
    hits, bad, seen = [], 0, set()
    for p in args:
        if os.path.isfile(p):  # an unmatched glob is passed as is
            hits.extend(check(p))
    for path, line, text in hits:
        key = "%s: %s" % (path.lstrip("./"), text)
        for a in allow:
            if key.endswith(a) and (key == a or key[-len(a) - 1] == "/"):
                seen.add(a)
                print("%s:%d: %s (known, on the allow-list)" % (path, line, text))
                break
        else:
            bad += 1
            print("%s:%d: %s" % (path, line, text))
    for a in sorted(allow - seen):
        bad += 1
        print("gone from the source, remove from the allow-list: " + a)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
