"""A hanging or slow KOS must not slow what does not need KOS (issue 19).

Through the web server, with the simulator's fault switches, under the
bounded mixed load of kosload.py (cached inquiries, /health, misses with
and without a stale copy): KOS hangs after a healthy period, KOS hangs from
cold, KOS answers after a random 0-4 s.  Checked on counts and states, not
on speed (the speed is in tests/bench/kos-hang.sh):

  - nothing is lost: every request gets an answer, no connection error
  - cached inquiries: every one 200 and not stale; /health: every one 200
  - closed months without a cache entry: every one 200 (fresh or stale)
  - the current month: 200 or 503, never anything else
  - no request waits longer than the KOS budget (3 s) + a margin
  - during a hang the bill breaker leaves CLOSED within 10 s of the start,
    the bulkhead refuses calls and never has more slots in use than its cap

Needs PHONEBILL_TEST_KOS_URL and PHONEBILL_TEST_STACK_CTL (Redis access to
drop cache entries).
"""
import kosload
import test_auth as auth
import test_bill as bill
import test_kos_sim as sim
from helpers import eq, status

ORDER = 85
BUDGET_MS = 3000        # kos.timeout_ms of the test stack
MARGIN_MS = 2000        # a loaded 2-core machine; mod_fcgid sleeps 1 s when busy
OPEN_WITHIN_S = 10.0    # the bound for the breaker to open
HANG = {"operation": "bill.inquiry", "mode": "hang", "hangMs": 4000}
RANDOM = {"operation": "bill.inquiry", "mode": "none",
          "latencyRandomMinMs": 0, "latencyRandomMaxMs": 4000}


def _setup(ctx):
    """Breaker closed, faults off; the months from the service (not the
    host clock); caches warm and stale copies stored."""
    if not ctx.http_url:
        raise bill.Skip("needs the plain-HTTP URL (--http-url)")
    bill.ensure_closed(ctx)
    tok = bill.token(ctx)
    r = bill.call(ctx, "GET", "/menu", tok)
    status(r, 200)
    d = r.json()["data"]
    cur = d["currentMonth"]
    closed = [m for m in d["availableMonths"] if m < cur]
    assert len(closed) >= 4, "demo01 has too few closed months: %r" % closed
    cached, stale = closed[:3], closed[3]
    for m in cached + [stale, cur]:
        status(bill.inquiry(ctx, m, tok=tok), 200)
    return tok, cur, cached, stale


def _load(ctx, setup, duration):
    tok, cur, cached, stale = setup
    # mod_fcgid has no queue: a request that finds the class busy sleeps a
    # second and retries, so the load stays near what the test pool (2
    # processes, one of them free) can serve; lighttpd queues.
    threads = 4 if ctx.name == "apache" else 8
    return kosload.Load(ctx.http_url, tok, bill.DEMO01_LINE, cached, stale, cur,
                        lambda keys: auth.redis_cli(ctx, "DEL", *keys),
                        duration=duration, threads=threads)


def _bulkhead(h):
    return (h or {}).get("kos", {}).get("bulkhead")


def _check(load, hang):
    print("# " + load.summary().replace("\n", "\n# "), flush=True)
    eq(load.errors, [], "requests without an answer")
    n = {k: len(load.of(k)) for k in ("cached", "health", "stale", "miss")}
    assert min(n.values()) > 0, "every kind of request was sent: %r" % n
    eq(sum(1 for r in load.of("cached") if r.status == 200 and r.stale is False),
       n["cached"], "cached inquiries answered 200, fresh")
    eq(sum(1 for r in load.of("health") if r.status == 200), n["health"],
       "health answers 200")
    eq(sum(1 for r in load.of("stale") if r.status == 200), n["stale"],
       "closed months without a cache entry answered 200 (fresh or stale)")
    eq(sum(1 for r in load.of("miss") if r.status in (200, 503)), n["miss"],
       "the current month answered 200 or 503")
    slow = [(r.kind, r.status, round(r.ms)) for r in load.results
            if r.ms > BUDGET_MS + MARGIN_MS]
    eq(slow, [], "requests longer than the KOS budget + %d ms" % MARGIN_MS)
    bh = [_bulkhead(r.body) for r in load.of("health")]
    bh = [b for b in bh if b]
    assert bh, "health shows the bulkhead"
    over = [b for b in bh if b["inUse"] > b["maxCalls"]]
    eq(over, [], "bulkhead samples over the cap")
    if hang:
        at = load.first_open_at()
        assert at is not None, "the bill breaker never left CLOSED"
        assert at <= OPEN_WITHIN_S, "breaker left CLOSED only after %.1f s" % at
        assert bh[-1]["rejected"] > bh[0]["rejected"], \
            "the bulkhead refused calls: %r .. %r" % (bh[0], bh[-1])
        assert sum(1 for r in load.of("stale") if r.stale) > 0, \
            "closed months were answered from the stale copy"


def test_hang_after_healthy_period(ctx):
    setup = _setup(ctx)
    # a healthy period by traffic: KOS answers every miss in the window
    healthy = _load(ctx, setup, 5.0).run()
    _check(healthy, False)
    br = bill.breaker(ctx)
    eq(br["state"], "CLOSED", "breaker after the healthy period")
    # earlier tests' failures may still sit in the 60 s window
    assert br["calls"] >= 10 and br["failures"] * 4 < br["calls"], \
        "the window holds mostly healthy calls: %r" % br
    try:
        load = _load(ctx, setup, 12.0).run(lambda: sim.set_fault(**HANG))
    finally:
        sim.reset_faults()
    _check(load, True)


def test_hang_from_cold(ctx):
    setup = _setup(ctx)
    try:
        load = _load(ctx, setup, 12.0).run(lambda: sim.set_fault(**HANG))
    finally:
        sim.reset_faults()
    _check(load, True)


def test_random_latency(ctx):
    setup = _setup(ctx)
    try:
        load = _load(ctx, setup, 12.0).run(lambda: sim.set_fault(**RANDOM))
    finally:
        sim.reset_faults()
    _check(load, False)
    bill.ensure_closed(ctx)
