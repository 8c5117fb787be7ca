"""Redis and MariaDB go away and come back: health says so, nothing crashes.

Needs PHONEBILL_TEST_STACK_CTL (e.g. "script/stackctl var/test"); runs last.
"""
from helpers import SERVICES, eq, find_key, json_headers, request_id

ORDER = 90


def _pids(ctx):
    out = ctx.stack("fcgi-pids")
    return set(int(x) for x in out.split() if x.isdigit())


def _all_health(ctx):
    return {svc: ctx.get("/api/v1/%s/health" % svc) for svc in SERVICES}


def _outage(ctx, stop, start, key, timeout_down=20, timeout_up=60):
    # every service answers once so that their processes exist
    for svc, r in _all_health(ctx).items():
        eq(r.status, 200, svc + " health before the outage")
    before = _pids(ctx)
    assert before, "no FastCGI processes found"
    ctx.stack(stop)
    try:
        for svc in SERVICES:
            def down(svc=svc):
                r = ctx.get("/api/v1/%s/health" % svc)
                return r if r.status == 503 else None
            r = ctx.wait_for("%s health 503 with %s down" % (svc, key), down,
                             timeout=timeout_down)
            json_headers(r)
            request_id(r)
            eq(find_key(r.json(), key), "DOWN", "%s %s" % (svc, key))
    finally:
        ctx.stack(start)
    for svc in SERVICES:
        ctx.wait_for("%s health 200 after %s is back" % (svc, key),
                     lambda svc=svc: ctx.get("/api/v1/%s/health" % svc).status == 200,
                     timeout=timeout_up)
    after = _pids(ctx)
    died = before - after
    assert not died, "FastCGI processes died during the outage: %s" % sorted(died)


def test_redis_down_then_up(ctx):
    _outage(ctx, "redis-stop", "redis-start", "redis")


def test_mariadb_down_then_up(ctx):
    _outage(ctx, "mariadb-stop", "mariadb-start", "database")
