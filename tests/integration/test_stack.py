"""The local stack's own faults (issue 15): lighttpd's SIGUSR1 is a reload,
not a shutdown; the FastCGI programs of a lighttpd killed with SIGKILL are
found and stopped, never adopted by the next lighttpd.  lighttpd only (the
Apache run skips); runs after the others but before the outages."""
import os
import shlex
import signal

from helpers import eq
from run import Skip

ORDER = 88


def _state(ctx):
    if not ctx.stack_ctl:
        raise Skip("PHONEBILL_TEST_STACK_CTL is not set")
    if ctx.name != "lighttpd":
        raise Skip("lighttpd only")
    return shlex.split(ctx.stack_ctl)[1]


def _lighttpd_pid(state):
    with open(os.path.join(state, "lighttpd", "lighttpd.pid")) as f:
        return int(f.read().strip())


def _alive(pid):
    """Running (a zombie waiting for its new parent to reap it is not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pids(ctx):
    return {int(p) for p in ctx.stack("fcgi-pids").split()}


def _healthy(ctx):
    return all(ctx.get("/api/v1/%s/health" % s).status == 200
               for s in ("auth", "bills", "products"))


def test_lighttpd_reload_keeps_it_running(ctx):
    state = _state(ctx)
    pid = _lighttpd_pid(state)
    ctx.stack("lighttpd-reload")
    eq(_lighttpd_pid(state), pid, "the same lighttpd (a reload is no restart)")
    assert _alive(pid), "lighttpd stopped on SIGUSR1"
    ctx.wait_for("health after the reload", lambda: _healthy(ctx), timeout=30)


def test_killed_lighttpd_leaves_no_orphans(ctx):
    state = _state(ctx)
    pid = _lighttpd_pid(state)
    before = _pids(ctx)
    assert before, "no FastCGI programs found"
    os.kill(pid, signal.SIGKILL)
    ctx.wait_for("lighttpd gone", lambda: not _alive(pid), timeout=10)
    orphans = {p for p in before if _alive(p)}
    assert orphans, "expected the programs to outlive a SIGKILLed lighttpd"
    # lighttpd-start stops them first, then spawns its own
    ctx.stack("lighttpd-start")
    left = {p for p in orphans if _alive(p)}
    eq(sorted(left), [], "orphans still running after lighttpd-start")
    ctx.wait_for("health after the restart", lambda: _healthy(ctx), timeout=30)
    # every program now belongs to a web server (directly, or through the
    # process that forked it: lib/web/prefork.c)
    pids = set(_pids(ctx))
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid in pids:
                with open("/proc/%d/stat" % ppid) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%d/comm" % ppid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        assert comm in ("lighttpd", "apache2"), "program %d has parent %s" % (p, comm)
