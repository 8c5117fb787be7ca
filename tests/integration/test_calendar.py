"""Calendar edges: months, days and time zones as the services see them.

Every expectation is computed from the services' own clock (helpers.service_now),
never from the host's: script/test's part "calendar" restarts the stack with
the clock moved (PHONEBILL_CLOCK_OFFSET_MS) to the last seconds of a year, the
first of the next, 05:00 KST on the 1st (still the 31st in UTC), the end of a
February, a leap day and the day after it, and runs this module there.  At
other times (the normal lighttpd and Apache parts) the same tests check what
holds on any day; the checks that need an edge run when the clock is near one.

Covered: the bill menu's months across the year (issue 11), the current
month's cache across midnight (3) and its stale copy once closed, a closed
month FINAL after rollover, next/13th/00 month validation (2), history date
filters across years and the KST/UTC day boundary, the plan change's
effective date at 23:59:59 -> 00:00:01 (7) and the month whose bill cache it
drops (8), the stale month list right after a month starts (9), lastLoginAt
with MariaDB at +09:00 (5), lighttpd's error documents' time (6) and the
simulator's contract ends from a clamped start day (10).
"""
import datetime
import time

import helpers
import test_auth as auth
import test_bill as bill
import test_kos_sim as sim
import test_product as prod
from helpers import eq, status
from run import Skip

ORDER = 70
CAL_LINE = "010-9999-0004"      # db/kos-sim/003_calendar_line.sql
CAL_DIGITS = "01099990004"
CHANGE_LINE = "010-9999-0001"   # reserved for plan changes (002_seed.sql)
CHANGE_DIGITS = "01099990001"
CHANGE_PLANS = ("LTE-STANDARD-001", "LTE-BASIC-001")
EFFECTIVE_GRACE_S = 300         # fcgi/product/handlers.c PROD_EFFECTIVE_GRACE_S


# --- the service's calendar -------------------------------------------------------
def next_midnight(now):
    d = now.date() + datetime.timedelta(days=1)
    return datetime.datetime(d.year, d.month, d.day, tzinfo=helpers.KST)


def month_end(now):
    y, m = helpers.month_add(now.year, now.month, 1)
    return datetime.datetime(y, m, 1, tzinfo=helpers.KST)


def settled(ctx, need_s=15):
    """The service's now, at least need_s before its next midnight (waits
    out the last seconds of a day so a test does not straddle it)."""
    now = helpers.service_now(ctx)
    left = (next_midnight(now) - now).total_seconds()
    if left < need_s:
        time.sleep(left + 1.2)
        now = helpers.service_now(ctx)
    return now


def wait_until(ctx, when):
    """Sleep until the service's clock reads at least when."""
    while True:
        now = helpers.service_now(ctx)
        left = (when - now).total_seconds()
        if left <= 0:
            return now
        time.sleep(min(left, 5.0) + 0.05)


def ym(y, m):
    return "%04d-%02d" % (y, m)


def month_end_near(ctx, within_s=60):
    """The service's now when its month ends within within_s, else None."""
    now = helpers.service_now(ctx)
    if (month_end(now) - now).total_seconds() <= within_s:
        return now
    return None


# --- tests ------------------------------------------------------------------------------
def test_month_end_rollover(ctx):
    """At the last seconds of a month (the calendar part's 23:59:30
    instants; first, so nothing else spends them): a change sent before
    midnight and answered after it drops the bill caches of both months (8);
    after midnight the closed month is final with a stale copy (3), the
    menu's stale list starts with the new month during a KOS outage (9), and
    yesterday's effective date is still accepted (7).  Every item is checked
    and all that fail are reported."""
    now = month_end_near(ctx, within_s=50)
    if now is None:
        raise Skip("only in the last 50 s of a month (script/test calendar)")
    edge = month_end(now)
    old = ym(now.year, now.month)
    new = ym(edge.year, edge.month)
    tok = bill.token(ctx)
    ctok = prod.user_token(ctx, "calchg", line=CHANGE_LINE)
    wrong = []

    def check(ok, what):
        if not ok:
            wrong.append(what)

    prod.sim_reset(ctx)
    try:
        # before midnight: the month's bill (estimated) and menu, cached
        r = bill.inquiry(ctx, old, tok=tok)
        status(r, 200)
        eq(r.json()["data"]["billInfo"].get("billStatus"), "ESTIMATED", old)
        r = bill.call(ctx, "GET", "/menu", tok)
        status(r, 200)
        eq(r.json()["data"]["currentMonth"], old, "currentMonth before midnight")
        # a change sent at 23:59:58 that KOS answers after midnight (the
        # service's clock is read to the second: sent in [58, 59), KOS
        # waits 2.5 s)
        keys = ["v1:bill:%s:%s" % (CHANGE_DIGITS, m.replace("-", "")) for m in (old, new)]
        for k in keys:
            auth.redis_cli(ctx, "SET", k, '{"cached":"before the change"}', "EX", "600")
        sim.set_fault(operation="product.change", latencyMs=2500)
        wait_until(ctx, edge - datetime.timedelta(seconds=2))
        body = dict(prod.change_body(CHANGE_PLANS[0], CHANGE_PLANS[1], CHANGE_LINE),
                    changeEffectiveDate=(edge - datetime.timedelta(days=1)).date().isoformat())
        r = prod.call(ctx, "POST", "/change", ctok, body,
                      {"Idempotency-Key": "cal-edge-%s" % auth.RUN})
        sim.reset_faults()
        status(r, 200)
        check(helpers.service_now(ctx) >= edge, "the change was answered before midnight")
        for k in keys:
            check(auth.redis_cli(ctx, "EXISTS", k) == "0", "(8) %s kept after the change" % k)
        # after midnight: the closed month is final, with a stale copy
        wait_until(ctx, edge + datetime.timedelta(seconds=1))
        r = bill.inquiry(ctx, old, tok=tok)
        status(r, 200)
        check(r.json()["data"]["billInfo"].get("billStatus") != "ESTIMATED",
              "(3) %s served ESTIMATED after it closed" % old)
        stale = "v1:bill-stale:%s:%s" % (bill.DEMO01_DIGITS, old.replace("-", ""))
        check(auth.redis_cli(ctx, "EXISTS", stale) == "1",
              "(3) no stale copy of the closed month %s" % old)
        r = bill.inquiry(ctx, None, tok=tok)
        status(r, 200)
        check(r.json()["data"]["billInfo"]["billingMonth"] == new,
              "the current month is not %s" % new)
        # KOS down right after the month started: the stale month list
        sim.set_fault(operation="bill.months", mode="http503")
        try:
            r = bill.call(ctx, "GET", "/menu", tok)
        finally:
            sim.reset_faults()
        status(r, 200)
        d = r.json()["data"]
        check(d["stale"] is True, "(9) the month list is not the stale one")
        check(d["currentMonth"] == new, "currentMonth %r after midnight" % d["currentMonth"])
        check(d["availableMonths"][:2] == [new, old],
              "(9) stale availableMonths start %r, currentMonth %r" % (
                  d["availableMonths"][:2], d["currentMonth"]))
        # yesterday's date, sent before midnight, processed now (item 7)
        body = dict(prod.change_body(CHANGE_PLANS[1], CHANGE_PLANS[0], CHANGE_LINE),
                    changeEffectiveDate=(edge - datetime.timedelta(days=1)).date().isoformat())
        r = prod.call(ctx, "POST", "/change", ctok, body,
                      {"Idempotency-Key": "cal-back-%s" % auth.RUN})
        check(r.status == 200, "(7) yesterday's effective date after midnight: %d %r" % (
            r.status, r.body[:200]))
    finally:
        sim.reset_faults()
        prod.sim_reset(ctx)
    assert not wrong, "; ".join(wrong)


def test_effective_date_just_after_midnight(ctx):
    """Item 7: a change sent at 23:59:59 (yesterday's date) and processed
    just after midnight is accepted; earlier days, tomorrow are not."""
    tok = prod.user_token(ctx, "calchg", line=CHANGE_LINE)
    now = helpers.service_now(ctx)
    today = now.date()
    since_midnight = (now - datetime.datetime(today.year, today.month, today.day,
                                              tzinfo=helpers.KST)).total_seconds()
    bad = [today - datetime.timedelta(days=2), today + datetime.timedelta(days=1)]
    if since_midnight > EFFECTIVE_GRACE_S + 30:
        bad.append(today - datetime.timedelta(days=1))
    for d in bad:
        body = dict(prod.change_body(CHANGE_PLANS[0], CHANGE_PLANS[1], CHANGE_LINE),
                    changeEffectiveDate=d.isoformat())
        r = prod.call(ctx, "POST", "/change", tok, body)
        helpers.error_envelope(r, "VALIDATION_ERROR", 400)
    if since_midnight > EFFECTIVE_GRACE_S - 30:
        return
    prod.sim_reset(ctx)
    try:
        body = dict(prod.change_body(CHANGE_PLANS[0], CHANGE_PLANS[1], CHANGE_LINE),
                    changeEffectiveDate=(today - datetime.timedelta(days=1)).isoformat())
        r = prod.call(ctx, "POST", "/change", tok, body,
                      {"Idempotency-Key": "cal-grace-%s" % auth.RUN})
        status(r, 200)
        eq(r.json()["data"]["processStatus"], "COMPLETED", "processStatus")
    finally:
        prod.sim_reset(ctx)


def test_month_validation_edges(ctx):
    """Item 2: next month, month 13 and month 00 are 400 whatever the date;
    the current month is answered."""
    now = settled(ctx)
    tok = bill.token(ctx)
    cur = ym(now.year, now.month)
    for m in (ym(*helpers.month_add(now.year, now.month, 1)),
              ym(*helpers.month_add(now.year, now.month, 13)),
              "%04d-13" % now.year, "%04d-00" % now.year,
              "%04d-13" % (now.year - 1), "%04d-00" % (now.year + 1)):
        helpers.error_envelope(bill.inquiry(ctx, m, tok=tok), "VALIDATION_ERROR", 400)
    r = bill.inquiry(ctx, cur, tok=tok)
    status(r, 200)
    eq(r.json()["data"]["billInfo"]["billingMonth"], cur, "current month answered")
    r = bill.inquiry(ctx, None, tok=tok)
    status(r, 200)
    eq(r.json()["data"]["billInfo"]["billingMonth"], cur, "no month: the current one")


def test_menu_months_across_the_year(ctx):
    """The menu: currentMonth is the service's month (KST), listed first,
    then one month before the other, across a year's end."""
    now = settled(ctx)
    r = bill.call(ctx, "GET", "/menu", bill.token(ctx))
    status(r, 200)
    d = r.json()["data"]
    cur = ym(now.year, now.month)
    eq(d["currentMonth"], cur, "currentMonth")
    ms = d["availableMonths"]
    eq(ms[0], cur, "newest first")
    assert len(ms) >= 13, "demo01 has more than a year of bills: %r" % ms
    for i, m in enumerate(ms):
        eq(m, ym(*helpers.month_add(now.year, now.month, -i)), "month %d" % i)
    eq(d["stale"], False, "stale")
    # the simulator, asked directly, agrees (its "today" is KST as well)
    kms = sim.months(bill.DEMO01_DIGITS)["data"]["availableMonths"]
    eq([m[:4] + "-" + m[4:] for m in kms][:len(ms)], ms, "KOS's months")


def test_current_month_cache_ends_with_the_month(ctx):
    """Item 3: the current month's cached bill expires when the month does
    (+ no jitter past it); a closed month's bill is final and has a stale copy."""
    now = settled(ctx)
    tok = bill.token(ctx)
    cur = ym(now.year, now.month)
    prev = ym(*helpers.month_add(now.year, now.month, -1))
    bill.drop_cache(ctx, bill.DEMO01_DIGITS, cur, prev)
    r = bill.inquiry(ctx, cur, tok=tok)
    status(r, 200)
    eq(r.json()["data"]["billInfo"].get("billStatus"), "ESTIMATED", "current month estimated")
    ttl = int(auth.redis_cli(ctx, "TTL", "v1:bill:%s:%s" % (bill.DEMO01_DIGITS,
                                                            cur.replace("-", ""))))
    left = (month_end(now) - helpers.service_now(ctx)).total_seconds()
    assert 0 < ttl <= left + 1, "current month cached %d s, the month ends in %d s" % (
        ttl, left)
    r = bill.inquiry(ctx, prev, tok=tok)
    status(r, 200)
    assert r.json()["data"]["billInfo"].get("billStatus") != "ESTIMATED", \
        "closed month %s still ESTIMATED" % prev
    stale = "v1:bill-stale:%s:%s" % (bill.DEMO01_DIGITS, prev.replace("-", ""))
    assert int(auth.redis_cli(ctx, "EXISTS", stale)) == 1, "no stale copy of " + prev


def test_history_filters_span_days_and_years(ctx):
    """History's startDate/endDate are KST days: an inquiry made now is in
    today's range (KST) even when UTC is still on yesterday, not in
    yesterday's, and in a range that starts in the previous year."""
    now = settled(ctx, need_s=30)
    tok = bill.token(ctx)
    r = bill.inquiry(ctx, ym(now.year, now.month), tok=tok)
    status(r, 200)
    rid = r.json()["data"]["requestId"]
    today = now.date()

    def ids(q):
        r = bill.call(ctx, "GET", "/history?size=100&" + q, tok)
        status(r, 200)
        return [it["requestId"] for it in r.json()["data"]["items"]]

    ctx.wait_for("the inquiry in history", lambda: rid in ids(
        "startDate=%s&endDate=%s" % (today, today)), timeout=15)
    y = today - datetime.timedelta(days=1)
    assert rid not in ids("startDate=%s&endDate=%s" % (y, y)), "listed under yesterday"
    assert rid not in ids("startDate=%s" % (today + datetime.timedelta(days=1))), \
        "listed under tomorrow"
    last_year = datetime.date(today.year - 1, 12, 31)
    assert rid in ids("startDate=%s&endDate=%s" % (last_year, today)), \
        "missing from a range that starts last year"
    assert rid in ids("startDate=%s" % last_year), "missing from an open range"
    # the listed time is on the KST day asked for
    r = bill.call(ctx, "GET", "/history?size=100&startDate=%s" % today, tok)
    item = [it for it in r.json()["data"]["items"] if it["requestId"] == rid][0]
    when = item.get("requestedAt") or item.get("inquiredAt")
    if when is not None:
        eq(datetime.datetime.fromisoformat(when).astimezone(helpers.KST).date(), today,
           "requestedAt's KST day")
    # 29 February only in leap years
    leap = today.year + (4 - today.year % 4) % 4
    status(bill.call(ctx, "GET", "/history?startDate=%d-02-29" % leap, tok), 200)
    helpers.error_envelope(bill.call(ctx, "GET", "/history?startDate=%d-02-29" % (leap + 1),
                                     tok), "VALIDATION_ERROR", 400)


def test_last_login_at_is_the_login_time(ctx):
    """Item 5: lastLoginAt is when the login happened (the test stack's
    MariaDB runs at +09:00; the services keep their sessions in UTC and write
    the time from their own clock)."""
    r = auth.login(ctx, "demo02", auth.DEMO["demo02"][0])
    status(r, 200)
    at = r.json()["data"]["accessToken"]
    before = helpers.service_now(ctx) - datetime.timedelta(seconds=5)

    def last():
        d = auth.bearer(ctx, "GET", "/user-info", at).json()["data"]
        v = d.get("lastLoginAt")
        return v and datetime.datetime.fromisoformat(v).astimezone(helpers.KST)

    got = ctx.wait_for("lastLoginAt of this login", lambda: (
        last() if last() and last() >= before else None), timeout=15)
    after = helpers.service_now(ctx)
    assert before <= got <= after + datetime.timedelta(seconds=1), \
        "lastLoginAt %s is not between %s and %s" % (got, before, after)
    assert got.utcoffset() == datetime.timedelta(hours=9), "lastLoginAt in KST"


def test_web_server_error_document_has_the_time_of_the_error(ctx):
    """Item 6: an error the web server answers itself (unknown service
    prefix) carries the time of the error, not of the configuration."""
    r1 = ctx.request("GET", "/api/v1/no-such-service/x")
    b1 = helpers.error_envelope(r1, "NOT_FOUND", 404)
    t1 = datetime.datetime.fromisoformat(
        b1["error"]["timestamp"].replace("Z", "+00:00"))
    now = helpers.service_now(ctx)
    assert abs((t1 - now).total_seconds()) <= 5, \
        "error document's time %s, the service's %s" % (t1, now)
    time.sleep(1.1)
    b2 = helpers.error_envelope(ctx.request("GET", "/api/v1/no-such-service/y"),
                                "NOT_FOUND", 404)
    assert b2["error"]["timestamp"] != b1["error"]["timestamp"], \
        "two errors a second apart carry the same time"


def test_contract_end_from_the_real_start_day(ctx):
    """Item 10: a contract seeded on the 31st starts on the last day of a
    short month; it ends the day before that day's anniversary."""
    d = sim.product(CAL_DIGITS)["data"]
    c = helpers.find_key(d, "contractInfo")
    assert c and c.get("startDate"), "no contract: %r" % (d,)
    start = datetime.date.fromisoformat(c["startDate"])
    term = c["termMonths"]
    y, m = helpers.month_add(start.year, start.month, term)
    last = (datetime.date(*helpers.month_add(y, m, 1), 1) - datetime.timedelta(days=1)).day
    end = datetime.date(y, m, min(start.day, last)) - datetime.timedelta(days=1)
    eq(c["endDate"], end.isoformat(), "endDate of a %d-month contract from %s" % (
        term, start))
