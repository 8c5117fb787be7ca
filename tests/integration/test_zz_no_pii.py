"""No personal data in any log, Redis key or Redis value (issue 18, item 8).

Runs last in each server's pass, after every other module has logged in,
looked up bills, changed plans and failed in every way: greps every log the
stack writes (web servers' access and error logs, the services' log, Redis's
log), the Redis append-only file as written during the run and a fresh RDB
dump (BGSAVE, uncompressed so that no string hides inside LZF) for the demo
users' line numbers and names in any format: digits, dashes, spaces, dots,
+82, JSON \\u escapes and percent-encoding.  Masked forms (010-****-5678,
김*준) are what the stack may write.  Also checks the access logs hold no
query string.
"""
import glob
import os
import re
import time

from helpers import eq
import test_auth as ta

ORDER = 99
LINES = ["010-1234-5678", "010-2345-6789", "010-3456-7890"]
NAMES = ["김민준", "이서연", "박지훈"]


def _needles():
    out = []
    for ln in LINES:
        a, b, c = ln.split("-")
        for form in (a + b + c, ln, "%s %s %s" % (a, b, c), "%s.%s.%s" % (a, b, c),
                     "+82" + a[1:] + b + c, "+82-%s-%s-%s" % (a[1:], b, c)):
            out.append(form.encode())
    for nm in NAMES:
        u8 = nm.encode("utf-8")
        out.append(u8)
        pct = "".join("%%%02X" % x for x in u8)
        out += [pct.encode(), pct.lower().encode()]
        esc = "".join("\\u%04x" % ord(ch) for ch in nm)
        out += [esc.encode(), esc.upper().replace("\\U", "\\u").encode()]
    return out


def _files(st):
    names = []
    for d in ("lighttpd/log", "apache/log"):
        names += glob.glob(os.path.join(st, d, "*"))
    names += glob.glob(os.path.join(st, "redis", "*.log"))
    names += glob.glob(os.path.join(st, "redis", "data", "appendonlydir", "*.aof"))
    return [n for n in names if os.path.isfile(n)]


def _grep(files):
    found = []
    needles = _needles()
    for fn in files:
        with open(fn, "rb") as f:
            data = f.read()
        for n in needles:
            i = data.find(n)
            if i >= 0:
                ctx = data[max(0, i - 60):i + len(n) + 20]
                found.append("%s: %r" % (os.path.relpath(fn), ctx))
                break
    return found


def _bgsave(ctx):
    ta.redis_cli(ctx, "CONFIG", "SET", "rdbcompression", "no")
    before = ta.redis_cli(ctx, "LASTSAVE")
    ta.redis_cli(ctx, "BGSAVE")
    ctx.wait_for("BGSAVE", lambda: ta.redis_cli(ctx, "LASTSAVE") != before, timeout=30)
    d = ta.redis_cli(ctx, "CONFIG", "GET", "dir").splitlines()[-1]
    f = ta.redis_cli(ctx, "CONFIG", "GET", "dbfilename").splitlines()[-1]
    return os.path.join(d, f)


def test_no_personal_data_in_logs_aof_or_dump(ctx):
    st = ta._state(ctx)
    files = _files(st)
    if not files:
        raise ta.Skip("no log files")
    time.sleep(1.0)     # the last requests' deferred log lines
    dump = _bgsave(ctx)
    found = _grep(files + [dump])
    assert not found, "personal data in clear:\n  " + "\n  ".join(found[:12])


def test_no_personal_data_in_redis_keys(ctx):
    keys = ta.redis_cli(ctx, "--scan").splitlines()
    assert keys, "no keys at all"
    # a line as a key part (a hash may hold such digits: not delimited)
    bad = [k for k in keys if re.search(r"(^|:)01[016789]-?\d{3,4}-?\d{4}(:|$)", k)]
    eq(bad[:5], [], "keys that name a line")


def test_access_logs_hold_no_query_string(ctx):
    st = ta._state(ctx)
    bad = []
    for fn in glob.glob(os.path.join(st, "*", "log", "access.log")):
        with open(fn, "rb") as f:
            for ln in f:
                m = re.search(rb'"[A-Z]+ ([^ "]*) HTTP', ln)
                if m and (b"?" in m.group(1) or m.group(1).startswith(b"/api/v1/")):
                    bad.append(ln[:160])
    eq(bad[:5], [], "access log lines with a query string or an API path")
