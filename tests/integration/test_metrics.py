"""Operators' views (issue 15): /metrics in the Prometheus text format,
shared by every process of a service and served to configured addresses
only, and the health's readiness view (?ready) that turns 503 while KOS is
unreachable or a breaker is open, where liveness stays 200 (DEGRADED)."""
import concurrent.futures
import http.client
import re
import time
import urllib.parse

import test_auth as auth
import test_bill as bill
import test_kos_sim as sim
from helpers import eq, status
from run import Skip

ORDER = 87
LINE_RE = re.compile(r'^([a-z_]+)(\{.*\})? (\S+)$')


def scrape(ctx, svc):
    """{(name, frozenset(labels)): value} of one service's /metrics."""
    r = ctx.get("/api/v1/%s/metrics" % svc)
    status(r, 200)
    ct = r.header("Content-Type") or ""
    assert ct.startswith("text/plain; version=0.0.4"), "Content-Type %r" % ct
    out = {}
    types = set()
    for line in r.body.decode("utf-8").splitlines():
        if line.startswith("# TYPE "):
            types.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        assert m, "not exposition format: %r" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    for name, _ in out:
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        assert name in types or base in types, "no # TYPE for %s" % name
    return out


def value(samples, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def test_metrics_count_every_process(ctx):
    """20 health requests, in parallel so that both processes answer: the
    counter of any one scrape grows by exactly 20."""
    before = scrape(ctx, "bills")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: ctx.get("/api/v1/bills/health").status,
                              range(20)))
    eq(codes, [200] * 20, "health answers")
    after = scrape(ctx, "bills")
    key = dict(name="phonebill_http_requests_total", route="/api/v1/bills/health",
               status="200")
    eq(value(after, **key) - value(before, **key), 20, "requests counted")
    # the histogram: cumulative buckets, +Inf = _count = requests_total
    lab = dict(route="/api/v1/bills/health", status="200")
    inf = value(after, "phonebill_http_request_duration_seconds_bucket", le="+Inf", **lab)
    eq(inf, value(after, "phonebill_http_requests_total", **lab), "+Inf bucket")
    eq(value(after, "phonebill_http_request_duration_seconds_count", **lab), inf, "_count")
    last = 0
    for le in ("0.001", "0.0025", "0.005", "0.01", "0.1", "1", "10", "+Inf"):
        v = value(after, "phonebill_http_request_duration_seconds_bucket", le=le, **lab)
        assert v >= last, "buckets not cumulative at le=%s" % le
        last = v


def test_metrics_cache_kos_and_unmatched(ctx):
    bill.ensure_closed(ctx)
    before = scrape(ctx, "bills")
    cur = bill.months_back(ctx, 0)
    bill.drop_cache(ctx, bill.DEMO01_DIGITS, cur)
    eq(bill.inquiry(ctx).status, 200, "inquiry (cache miss)")
    eq(bill.inquiry(ctx).status, 200, "inquiry (cache hit)")
    eq(ctx.get("/api/v1/bills/no-such-thing").status, 404, "unknown path")
    after = scrape(ctx, "bills")
    d = lambda name, **kw: value(after, name, **kw) - value(before, name, **kw)
    eq(d("phonebill_http_requests_total", route="/api/v1/bills/inquiry", status="200"),
       2, "inquiries counted")
    eq(d("phonebill_cache_lookups_total", cache="bill", result="loaded"), 1, "miss")
    assert d("phonebill_cache_lookups_total", cache="bill", result="hit") >= 1, "hit"
    assert d("phonebill_kos_calls_total", group="kos.bill", outcome="success") >= 1, \
        "KOS call counted"
    eq(d("phonebill_http_requests_total", route="unmatched", status="404"), 1,
       "unmatched 404")
    eq(value(after, "phonebill_kos_breaker_state", group="kos.bill"), 0, "closed")


def test_metrics_login_failures(ctx):
    before = scrape(ctx, "auth")
    u = auth.new_user(ctx, "metrics", perms=("BILL_INQUIRY",))
    eq(auth.login(ctx, u, "wrong-password-1").status, 401, "wrong password")
    eq(auth.login(ctx, u, auth.PASSWORD).status, 200, "right password")
    d = lambda after, **kw: (value(after, "phonebill_login_attempts_total", **kw)
                             - value(before, "phonebill_login_attempts_total", **kw))
    # the history (and the counter) is written after the answer is out
    after = ctx.wait_for("both logins counted", lambda: (
        lambda a: a if d(a, result="SUCCESS") >= 1 and d(a, result="FAILURE") >= 1
        else None)(scrape(ctx, "auth")), timeout=10)
    eq(d(after, result="FAILURE"), 1, "failures")
    eq(d(after, result="SUCCESS"), 1, "successes")
    assert ("phonebill_login_locks_total", frozenset({("service", "auth")})) in after


def test_metrics_only_for_allowed_addresses(ctx):
    """From 127.0.0.2 (still loopback, not in metrics.allow): 403 from the
    web server or the program, as the API's JSON envelope."""
    u = urllib.parse.urlsplit(ctx.http_url or "")
    if not ctx.http_url:
        raise Skip("no --http-url")
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=15,
                                   source_address=("127.0.0.2", 0))
    try:
        c.request("GET", "/api/v1/bills/metrics")
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    eq(r.status, 403, "metrics from 127.0.0.2")
    assert b'"FORBIDDEN"' in body, body[:200]
    assert b"phonebill_" not in body, "metrics leaked"


def test_health_ready_when_breaker_open(ctx):
    bill.ensure_closed(ctx)
    eq(ctx.get("/api/v1/bills/health?ready").status, 200, "ready while closed")
    cur = bill.months_back(ctx, 0)
    sim.set_fault(operation="bill.inquiry", mode="http503")
    try:
        for _ in range(12):
            bill.drop_cache(ctx, bill.DEMO01_DIGITS, cur)
            bill.inquiry(ctx)
            if bill.breaker(ctx)["state"] == "OPEN":
                break
        eq(bill.breaker(ctx)["state"], "OPEN", "breaker")
        r = ctx.get("/api/v1/bills/health")
        status(r, 200)
        eq(r.json()["data"]["status"], "DEGRADED", "liveness: alive, degraded")
        eq(r.json()["data"]["kos"]["status"], "DEGRADED", "kos.status")
        r = ctx.get("/api/v1/bills/health?ready")
        status(r, 503)
        eq(r.json()["error"]["code"], "SERVICE_UNAVAILABLE", "readiness")
        eq(r.json()["data"]["status"], "DEGRADED", "readiness data")
        eq(value(scrape(ctx, "bills"), "phonebill_kos_breaker_state", group="kos.bill"),
           1, "breaker state gauge")
    finally:
        sim.reset_faults()
        time.sleep(3.2)
        bill.ensure_closed(ctx)
    ctx.wait_for("ready again", lambda: ctx.get("/api/v1/bills/health?ready").status == 200,
                 timeout=70, interval=1.0)
