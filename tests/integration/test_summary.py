"""GET /api/v1/bills/summary (issue 16): the dashboard's and the trend's
figures in one operation, served from the bill cache, recorded once in the
history and never sent to the MVNO AP.

The months are the service's own (its bill menu's currentMonth), never the
host clock's; the expected amounts come from the KOS simulator.
"""
import helpers
import test_bill as bill
import test_kos_sim as sim
from helpers import eq, status

ORDER = 62
DEMO03_DIGITS = "01034567890"


def months_of(ctx, tok, n):
    """The last n months (oldest first) by the service's clock."""
    r = bill.call(ctx, "GET", "/menu", tok)
    status(r, 200)
    cur = r.json()["data"]["currentMonth"]
    y, m = int(cur[:4]), int(cur[5:7])
    out = []
    for back in range(n - 1, -1, -1):
        idx = y * 12 + (m - 1) - back
        out.append("%04d-%02d" % (idx // 12, idx % 12 + 1))
    return out


def summary(ctx, tok, query="?months=6"):
    return bill.call(ctx, "GET", "/summary" + query, tok)


def test_six_months_from_the_cache(ctx):
    bill.ensure_closed(ctx)
    tok = bill.token(ctx)
    months = months_of(ctx, tok, 6)
    bill.drop_cache(ctx, bill.DEMO01_DIGITS, *months)
    before = bill.kos_calls()
    r = summary(ctx, tok)
    status(r, 200)
    eq(bill.kos_calls() - before, 6, "one KOS call per month on a cold cache")
    d = r.json()["data"]
    eq([x["month"] for x in d["months"]], months, "months, oldest first")
    eq(d["currentMonth"], months[-1], "currentMonth")
    eq(d["lineNumber"], bill.DEMO01_LINE, "lineNumber")
    eq(d["current"]["billingMonth"], months[-1], "current bill")
    for x in d["months"]:
        kb = sim.bill(bill.DEMO01_DIGITS, x["month"].replace("-", ""))
        if kb["resultCode"] == "0000":
            eq(x["totalAmount"], kb["data"]["billInfo"]["totalAmount"], x["month"])
        else:
            eq(x["totalAmount"], None, "%s without a bill" % x["month"])
    u = d["current"]["usageDetail"]
    for k, unit in (("voice", "분"), ("sms", "건"), ("data", "MB")):
        eq(u[k]["unit"], unit, "usageDetail.%s.unit" % k)
        assert isinstance(u[k]["used"], int), u
    # Warm: the same months cost nothing at KOS, and an inquiry reuses them.
    mid = bill.kos_calls()
    status(summary(ctx, tok), 200)
    status(bill.inquiry(ctx, months[-2]), 200)
    eq(bill.kos_calls() - mid, 0, "KOS calls with a warm cache")


def test_recorded_once_not_delivered(ctx):
    bill.ensure_closed(ctx)
    tok = bill.token(ctx)
    r = summary(ctx, tok)
    status(r, 200)
    rid = r.json()["data"]["requestId"]
    assert rid.startswith("SUM_"), rid
    q = ("SELECT COUNT(*), MAX(mvno_payload_enc IS NULL), MAX(mvno_next_at IS NULL), "
         "MAX(status), MAX(result_summary) FROM phonebill_bill.bill_request_history "
         "WHERE request_id = '%s'" % rid)
    rows = ctx.wait_for("the summary's history row",
                        lambda: (lambda x: x if x[0][0] == "1" else None)(bill.sql(ctx, q)),
                        timeout=20)
    eq(list(rows[0][:4]), ["1", "1", "1", "COMPLETED"], "one row, no MVNO payload")
    assert rows[0][4].startswith("요약 6개월"), rows
    h = bill.call(ctx, "GET", "/history?size=100", tok).json()["data"]["items"]
    eq(len([x for x in h if x["requestId"] == rid]), 1, "listed once in the history")
    # Give the worker a delivery pass: still nothing at the MVNO AP.
    status(bill.inquiry(ctx), 200)
    eq(sim.deliveries(rid), [], "MVNO deliveries of a summary")


def test_overdue_of_a_suspended_line(ctx):
    bill.ensure_closed(ctx)
    tok = bill.token(ctx, "demo03")
    months = months_of(ctx, tok, 6)
    r = summary(ctx, tok)
    status(r, 200)
    d = r.json()["data"]
    want, n = 0, 0
    for m in months:
        kb = sim.bill(DEMO03_DIGITS, m.replace("-", ""))
        if kb["resultCode"] == "0000" and \
                kb["data"]["billInfo"]["paymentInfo"]["paymentStatus"] == "OVERDUE":
            want += kb["data"]["billInfo"]["totalAmount"]
            n += 1
    assert n >= 1, "demo03 is seeded with overdue bills"
    eq((d["overdue"]["count"], d["overdue"]["amount"]), (n, want), "overdue")


def test_bad_queries_and_kos_down(ctx):
    bill.ensure_closed(ctx)
    tok = bill.token(ctx)
    for q in ("?months=0", "?months=13", "?months=x", "?months=", "?foo=1",
              "?months=6&months=6", "?months=-1", "?months=0006x"):
        r = summary(ctx, tok, q)
        status(r, 400)
        eq(r.json()["error"]["code"], "VALIDATION_ERROR", q)
    r = summary(ctx, tok, "?months=3")
    status(r, 200)
    eq(len(r.json()["data"]["months"]), 3, "months=3")
    r = summary(ctx, tok, "")
    status(r, 200)
    eq(len(r.json()["data"]["months"]), 6, "default")
    status(bill.call(ctx, "GET", "/summary", ""), 401)
    cur = months_of(ctx, tok, 1)
    bill.drop_cache(ctx, bill.DEMO01_DIGITS, *cur)
    sim.set_fault(operation="bill.inquiry", mode="error9999", times=1)
    try:
        r = summary(ctx, tok, "?months=1")
        status(r, 503)
        eq(r.json()["error"]["code"], "SERVICE_UNAVAILABLE", "KOS cannot answer")
        assert r.header("Retry-After"), "Retry-After"
    finally:
        sim.reset_faults()
    helpers.eq(summary(ctx, tok, "?months=1").status, 200, "after the fault")
