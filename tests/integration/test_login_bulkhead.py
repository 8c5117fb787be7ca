"""Login work is bounded (issue 18, item 7).

Password hashes in flight on the host are bounded by auth.hash_permits
(one flock'ed file per permit, lib/web/permit.h); a login that finds none free
is answered 503 + Retry-After at once and costs no lockout attempt.  Logins
run in their own pool of the auth program (both web servers), so verify,
refresh, logout and health are served by other processes.  The test holds
every permit itself (flock on the same files), which makes "all permits
busy" a state rather than a race.
"""
import concurrent.futures
import contextlib
import fcntl
import glob
import json
import os
import re
import uuid

from helpers import eq, status
import test_auth as ta

ORDER = 47


def _conf(ctx):
    vals = {}
    with open(os.path.join(ta._state(ctx), "conf", "auth.conf")) as f:
        for line in f:
            m = re.match(r"^\s*([a-z_.]+)\s*=\s*(.*?)\s*$", line)
            if m:
                vals[m.group(1)] = m.group(2)
    return vals


@contextlib.contextmanager
def _all_permits_held(ctx):
    c = _conf(ctx)
    n = int(c.get("auth.hash_permits", "2"))
    files = ["%s.%d" % (c["auth.hash_permit_file"], i) for i in range(n)]
    fds = []
    try:
        for fn in files:
            fd = os.open(fn, os.O_RDWR)
            fds.append(fd)
            # a login in progress elsewhere may hold one for a moment
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in fds:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def test_login_refused_at_once_when_every_permit_is_held(ctx):
    u = ta.new_user(ctx, "shed")
    at, rt = ta.tokens(ctx, "demo02")
    with _all_permits_held(ctx):
        for _ in range(7):      # more than auth.max_failures
            r = ta.login(ctx, u, "Wrong-Password-1")
            b = ta.error_envelope(r, "SERVICE_UNAVAILABLE", 503)
            eq(r.header("Retry-After"), "1", "Retry-After")
        # the cheap operations go on
        status(ta.bearer(ctx, "GET", "/verify", at), 200)
        status(ctx.get("/api/v1/auth/health"), 200)
        r = ta.refresh(ctx, rt)
        status(r, 200)
        status(ta.bearer(ctx, "POST", "/logout", r.json()["data"]["accessToken"]), 200)
    # shed logins used up no attempt: the right password works at once
    status(ta.login(ctx, u, ta.PASSWORD), 200)


def _rid_pids(ctx, rids):
    """pid of the process that logged each request id."""
    st = ta._state(ctx)
    files = [os.path.join(st, "lighttpd", "log", "services.log"),
             os.path.join(st, "apache", "log", "error.log")]
    out = {}
    for fn in files:
        if not os.path.isfile(fn):
            continue
        with open(fn, "rb") as f:
            for line in f:
                s = line.decode("utf-8", "replace")
                m = re.search(r' pid=(\d+) rid="([^"]+)" event=request ', s)
                if m and m.group(2) in rids:
                    out[m.group(2)] = m.group(1)
    return out


def test_logins_have_their_own_processes(ctx):
    at, _ = ta.tokens(ctx, "demo02")
    logins, others = [], []
    for i in range(6):
        rid = "bulk-l-%s" % uuid.uuid4().hex[:12]
        ta.login(ctx, ta.uid("pool%d" % i), "Wrong-Password-1", rid=rid)
        logins.append(rid)
        rid = "bulk-v-%s" % uuid.uuid4().hex[:12]
        r = ctx.request("GET", "/api/v1/auth/verify",
                        headers={"Authorization": "Bearer " + at, "X-Request-ID": rid})
        status(r, 200)
        others.append(rid)
    pids = ctx.wait_for("the request lines in the log",
                        lambda: (lambda p: p if len(p) == 12 else None)(
                            _rid_pids(ctx, set(logins + others))), timeout=10)
    lp = {pids[r] for r in logins}
    op = {pids[r] for r in others}
    eq(lp & op, set(), "processes that served both logins and verify")


def test_login_flood_bounded(ctx):
    at, _ = ta.tokens(ctx, "demo02")

    def one_login(i):
        return ta.login(ctx, ta.uid("fl%02d" % i), "Wrong-Password-1")

    def one_verify(_):
        return ta.bearer(ctx, "GET", "/verify", at)

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as ex:
        lf = [ex.submit(one_login, i) for i in range(24)]
        vf = [ex.submit(one_verify, i) for i in range(8)]
        logins = [f.result() for f in lf]
        verifies = [f.result() for f in vf]
    for r in verifies:
        status(r, 200)
    codes = sorted(r.status for r in logins)
    assert set(codes) <= {401, 503}, "login answers %r" % codes
    for r in logins:
        if r.status == 503:
            ta.error_envelope(r, "SERVICE_UNAVAILABLE", 503)
            assert r.header("Retry-After"), "503 without Retry-After"
