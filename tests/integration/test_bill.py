"""The bill service through the web server (issue 5): menu, inquiry, stored
results, history; the cache, single-flight, stale-if-error, the shared
circuit breaker, history without loss and MVNO AP delivery.

KOS faults come from the simulator's switches (PHONEBILL_TEST_KOS_URL), the
outages from script/stackctl (PHONEBILL_TEST_STACK_CTL).  lighttpd and
Apache share one Redis, one MariaDB and one breaker file in script/test, so
every test starts from the state it needs (cache keys deleted, switches
reset, breaker closed) instead of assuming a fresh stack.  Responses are
checked against bill-inquiry-service-api.yaml.
"""
import concurrent.futures
import datetime
import json
import time

import helpers
import schema
import test_auth as auth
import test_kos_sim as sim
from helpers import eq, status
from run import Skip

ORDER = 60
DOC = schema.Doc("bill-inquiry-service-api.yaml")
DEMO01_LINE = "010-1234-5678"
DEMO01_DIGITS = "01012345678"
_TOKENS = {}


# --- helpers -------------------------------------------------------------------
def token(ctx, user="demo01"):
    if user not in _TOKENS:
        _TOKENS[user] = auth.tokens(ctx, user)[0]
    return _TOKENS[user]


def call(ctx, method, path, tok, body=None, headers=None):
    h = {"Authorization": "Bearer " + tok}
    h.update(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    return ctx.request(method, "/api/v1/bills" + path, body=body, headers=h)


def inquiry(ctx, month=None, tok=None, line=DEMO01_LINE):
    body = {"lineNumber": line}
    if month is not None:
        body["inquiryMonth"] = month
    return call(ctx, "POST", "/inquiry", tok or token(ctx), body)


def months_back(ctx, n):
    """'YYYY-MM' n months before the service's current month (KST)."""
    return helpers.service_month(ctx, -n)


def drop_cache(ctx, line=DEMO01_DIGITS, *months):
    keys = []
    for mo in months:
        k = mo.replace("-", "")
        keys += ["v1:bill:%s:%s" % (line, k), "v1:bill-stale:%s:%s" % (line, k)]
    keys += ["v1:bill-months:%s" % line, "v1:bill-months-stale:%s" % line]
    auth.redis_cli(ctx, "DEL", *keys)


def kos_calls(op="bill.inquiry"):
    r = sim.call("GET", "/_sim/stats")
    assert r.status == 200, r.status
    return r.json()["data"]["operations"].get(op, {}).get("calls", 0)


def health(ctx):
    r = ctx.request("GET", "/api/v1/bills/health")
    assert r.status in (200, 503), r.status
    return r.json().get("data") or {}


def breaker(ctx, group="kos.bill"):
    return health(ctx)["kos"]["breakers"][group]


def ensure_closed(ctx):
    """Faults off and the bill breaker CLOSED (probing it if it is open)."""
    sim.reset_faults()
    deadline = time.monotonic() + 40
    while breaker(ctx)["state"] != "CLOSED":
        assert time.monotonic() < deadline, "bill breaker stays %r" % breaker(ctx)
        time.sleep(0.5)
        drop_cache(ctx, DEMO01_DIGITS, months_back(ctx, 0))
        inquiry(ctx)


def sql(ctx, q):
    rows = helpers.admin_sql(auth._state(ctx), q)
    if rows is None:
        raise Skip("cannot query MariaDB as admin")
    return rows


def kos_bill(month):
    d = sim.bill(DEMO01_DIGITS, month.replace("-", ""))
    return d["data"]["billInfo"]


BILL_FIELDS = ("productName", "contractInfo", "billingMonth", "totalAmount",
               "discountInfo", "usage", "terminationFee", "deviceInstallment",
               "paymentInfo")


def check_bill(info, kb, month):
    """Every UFR-BILL-030 field, equal to what KOS said."""
    for k in BILL_FIELDS:
        assert k in info, "billInfo.%s missing" % k
    eq(info["billingMonth"], month, "billingMonth")
    eq(info["productName"], kb["productName"], "productName")
    eq(info["totalAmount"], kb["totalAmount"], "totalAmount")
    eq(info["terminationFee"], kb["terminationFee"], "terminationFee")
    eq(info["deviceInstallment"], kb["deviceInstallmentRemaining"], "deviceInstallment")
    eq(info["contractInfo"].split(" (")[0], kb["contractInfo"]["contractType"], "contractInfo")
    eq([(d["name"], d["amount"]) for d in info["discountInfo"]],
       [(d["name"], d["amount"]) for d in kb["discounts"]], "discountInfo")
    eq(info["usage"], {k: kb["usage"][k]["display"] for k in ("voice", "sms", "data")},
       "usage")
    for k in ("billingDate", "paymentStatus", "paymentMethod"):
        eq(info["paymentInfo"][k], kb["paymentInfo"][k], "paymentInfo." + k)
    eq(info["totalAmount"], info["totalCharge"] - info["totalDiscount"], "sums")


# --- menu ------------------------------------------------------------------------
def test_menu(ctx):
    ensure_closed(ctx)
    drop_cache(ctx)
    d = DOC.check_data(call(ctx, "GET", "/menu", token(ctx)), "BillMenuResponse")
    eq(d["customerInfo"], {"customerId": "C0001", "lineNumber": DEMO01_LINE}, "customerInfo")
    eq(d["currentMonth"], months_back(ctx, 0), "currentMonth")
    ms = d["availableMonths"]
    assert ms and all(len(m) == 7 and m[4] == "-" for m in ms), ms
    eq(ms, sorted(ms, reverse=True), "newest first")
    eq(ms[0], months_back(ctx, 0), "current month offered")
    expect = sim.months(DEMO01_DIGITS)["data"]["availableMonths"]
    eq([m.replace("-", "") for m in ms], expect, "the months KOS offers")
    before = kos_calls("bill.months")
    DOC.check_data(call(ctx, "GET", "/menu", token(ctx)), "BillMenuResponse")
    eq(kos_calls("bill.months"), before, "second menu served from the cache")


def test_health_shows_breakers(ctx):
    h = health(ctx)
    eq(h["status"], "UP", "status")
    for g in ("kos.bill", "kos.product", "kos.change"):
        assert h["kos"]["breakers"][g]["state"] in ("CLOSED", "OPEN", "HALF_OPEN"), h
    assert isinstance(h["history"]["backlog"], int), h
    assert h["history"]["state"] in ("UP", "NO_WORKER"), h


# --- inquiry ----------------------------------------------------------------------
def test_inquiry_current_month(ctx):
    ensure_closed(ctx)
    cur = months_back(ctx, 0)
    drop_cache(ctx, DEMO01_DIGITS, cur)
    d = DOC.check_data(inquiry(ctx), "BillInquiryResponse")
    eq(d["status"], "COMPLETED", "status")
    eq(d["stale"], False, "stale")
    assert d["requestId"].startswith("REQ_"), d["requestId"]
    check_bill(d["billInfo"], kos_bill(cur), cur)


def test_inquiry_specific_month_and_cache_hit(ctx):
    ensure_closed(ctx)
    m = months_back(ctx, 2)
    drop_cache(ctx, DEMO01_DIGITS, m)
    before = kos_calls()
    d1 = DOC.check_data(inquiry(ctx, m), "BillInquiryResponse")
    eq(kos_calls(), before + 1, "the miss called KOS once")
    check_bill(d1["billInfo"], kos_bill(m), m)
    before = kos_calls()
    d2 = DOC.check_data(inquiry(ctx, m), "BillInquiryResponse")
    eq(kos_calls(), before, "the second inquiry was a cache hit")
    eq(d2["billInfo"], d1["billInfo"], "same bill from the cache")
    assert d2["requestId"] != d1["requestId"], "each inquiry has its own requestId"
    ttl = int(auth.redis_cli(ctx, "TTL", "v1:bill:%s:%s" % (DEMO01_DIGITS, m.replace("-", ""))))
    assert 3000 < ttl <= 3960, "bill cached for 1 h + jitter, TTL %d" % ttl


def test_inquiry_digits_line_accepted(ctx):
    ensure_closed(ctx)
    DOC.check_data(inquiry(ctx, months_back(ctx, 1), line=DEMO01_DIGITS), "BillInquiryResponse")


def test_inquiry_other_line_forbidden(ctx):
    b = DOC.error_envelope(inquiry(ctx, line="010-2345-6789"), "FORBIDDEN", 403)
    assert "010-2345-6789" not in json.dumps(b, ensure_ascii=False)


def test_no_permission_forbidden(ctx):
    u = auth.new_user(ctx, "billnp", perms=("PRODUCT_CHANGE",), line=DEMO01_LINE)
    r = auth.login(ctx, u, auth.PASSWORD)
    status(r, 200)
    tok = r.json()["data"]["accessToken"]
    for method, path, body in (("GET", "/menu", None), ("POST", "/inquiry",
                                {"lineNumber": DEMO01_LINE}),
                               ("GET", "/history", None), ("GET", "/inquiry/REQ_x", None)):
        b = DOC.error_envelope(call(ctx, method, path, tok, body), "FORBIDDEN", 403)
        eq(b["error"]["message"], "서비스 이용 권한이 없습니다", "message")


def test_no_token_401(ctx):
    r = ctx.request("POST", "/api/v1/bills/inquiry", body="{}",
                    headers={"Content-Type": "application/json"})
    DOC.error_envelope(r, "UNAUTHORIZED", 401)


def test_inquiry_validation(ctx):
    tok = token(ctx)
    for body in ({}, {"lineNumber": "02-123-4567"}, {"lineNumber": 1012345678},
                 {"lineNumber": DEMO01_LINE, "inquiryMonth": "2026-13"},
                 {"lineNumber": DEMO01_LINE, "inquiryMonth": "202611"},
                 {"lineNumber": DEMO01_LINE, "inquiryMonth": "2026-00"},
                 {"lineNumber": DEMO01_LINE, "extra": 1}):
        DOC.error_envelope(call(ctx, "POST", "/inquiry", tok, body), "VALIDATION_ERROR", 400)
    DOC.error_envelope(inquiry(ctx, helpers.service_month(ctx, 1)), "VALIDATION_ERROR", 400)
    r = ctx.request("POST", "/api/v1/bills/inquiry", body='{"lineNumber":"010-1234-5678",}',
                    headers={"Content-Type": "application/json",
                             "Authorization": "Bearer " + tok})
    DOC.error_envelope(r, "VALIDATION_ERROR", 400)


def test_no_bill_month_is_404_and_not_a_breaker_failure(ctx):
    ensure_closed(ctx)
    m = "2020-01"   # outside the 24 months KOS keeps: 1003
    drop_cache(ctx, DEMO01_DIGITS, m)
    before = breaker(ctx)
    b = DOC.error_envelope(inquiry(ctx, m), "BILL_NOT_FOUND", 404)
    after = breaker(ctx)
    eq(after["failures"], before["failures"], "1003 counted as a breaker failure")
    eq(after["state"], "CLOSED", "breaker state")
    assert b["error"]["message"], b


# --- stored results and history -----------------------------------------------------
def test_status_of_own_inquiry(ctx):
    ensure_closed(ctx)
    d = DOC.check_data(inquiry(ctx, months_back(ctx, 1)), "BillInquiryResponse")
    s = DOC.check_data(call(ctx, "GET", "/inquiry/" + d["requestId"], token(ctx)),
                       "BillInquiryStatusResponse")
    eq(s["requestId"], d["requestId"], "requestId")
    eq(s["status"], "COMPLETED", "status")
    eq(s["billInfo"], d["billInfo"], "stored billInfo")
    # another user, an unknown id, a malformed id: 404 alike
    for tok, rid in ((token(ctx, "demo02"), d["requestId"]), (token(ctx), "REQ_nope"),
                     (token(ctx), "a%20b")):
        DOC.error_envelope(call(ctx, "GET", "/inquiry/" + rid, tok), "NOT_FOUND", 404)
    # after the hour in Redis, MariaDB answers the same
    auth.redis_cli(ctx, "DEL", "v1:bill-req:" + d["requestId"])
    ctx.wait_for("history row", lambda: call(ctx, "GET", "/inquiry/" + d["requestId"],
                                              token(ctx)).status == 200, timeout=10)
    s2 = DOC.check_data(call(ctx, "GET", "/inquiry/" + d["requestId"], token(ctx)),
                        "BillInquiryStatusResponse")
    eq(s2["billInfo"], d["billInfo"], "billInfo from MariaDB")


def test_status_of_failed_inquiry(ctx):
    ensure_closed(ctx)
    r = inquiry(ctx, "2020-02")
    DOC.error_envelope(r, "BILL_NOT_FOUND", 404)
    # the failed inquiry is in the history with status FAILED
    h = ctx.wait_for("FAILED row", lambda: [
        it for it in DOC.check_data(call(ctx, "GET", "/history?status=FAILED&size=100",
                                         token(ctx)), "BillHistoryResponse")["items"]
        if it.get("inquiryMonth") == "2020-02"], timeout=10)
    s = DOC.check_data(call(ctx, "GET", "/inquiry/" + h[0]["requestId"], token(ctx)),
                       "BillInquiryStatusResponse")
    eq(s["status"], "FAILED", "status")
    assert s["errorMessage"], s


def test_history_filters_and_pages(ctx):
    ensure_closed(ctx)
    u = auth.new_user(ctx, "billhist", perms=("BILL_INQUIRY",), line=DEMO01_LINE)
    r = auth.login(ctx, u, auth.PASSWORD)
    tok = r.json()["data"]["accessToken"]
    rids = []
    for n in range(5):
        d = DOC.check_data(inquiry(ctx, months_back(ctx, n), tok=tok), "BillInquiryResponse")
        rids.append(d["requestId"])
    DOC.error_envelope(inquiry(ctx, "2020-03", tok=tok), "BILL_NOT_FOUND", 404)

    def page(q):
        return DOC.check_data(call(ctx, "GET", "/history" + q, tok), "BillHistoryResponse")

    ctx.wait_for("6 history rows", lambda: page("")["pagination"]["totalItems"] == 6,
                 timeout=10)
    p1 = page("?size=4&page=1")
    eq(p1["pagination"], {"currentPage": 1, "totalPages": 2, "totalItems": 6, "pageSize": 4,
                          "hasNext": True, "hasPrevious": False}, "page 1")
    p2 = page("?size=4&page=2")
    eq(p2["pagination"]["hasNext"], False, "page 2 hasNext")
    eq(p2["pagination"]["hasPrevious"], True, "page 2 hasPrevious")
    got = [it["requestId"] for it in p1["items"] + p2["items"]]
    eq(len(set(got)), 6, "every row once")
    assert set(rids) <= set(got), "all completed inquiries listed"
    newest = p1["items"][0]
    eq(newest["status"], "FAILED", "newest first")
    for it in p1["items"] + p2["items"]:
        eq(it["lineNumber"], DEMO01_LINE, "lineNumber decrypted and formatted")
        if it["status"] == "COMPLETED":
            assert it["resultSummary"].endswith("원"), it
    eq(page("?status=FAILED")["pagination"]["totalItems"], 1, "status filter")
    eq(page("?status=COMPLETED&size=100")["pagination"]["totalItems"], 5, "COMPLETED")
    today = helpers.service_today(ctx)
    eq(page("?startDate=%s&endDate=%s" % (today, today))["pagination"]["totalItems"], 6,
       "today's range")
    eq(page("?startDate=%s" % (today + datetime.timedelta(days=1)))["pagination"]["totalItems"],
       0, "future range")
    eq(page("?lineNumber=01012345678")["pagination"]["totalItems"], 6, "own line (digits)")
    eq(page("?page=9")["items"], [], "a page past the end is empty")
    for q in ("?size=0", "?size=101", "?page=0", "?page=x", "?status=DONE",
              "?startDate=2026-02-30", "?startDate=2026-11-10&endDate=2026-11-01",
              "?foo=1", "?size=5&size=6", "?lineNumber=12"):
        DOC.error_envelope(call(ctx, "GET", "/history" + q, tok), "VALIDATION_ERROR", 400)
    DOC.error_envelope(call(ctx, "GET", "/history?lineNumber=010-2345-6789", tok),
                       "FORBIDDEN", 403)
    rows = sql(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_process_history p JOIN "
               "phonebill_bill.bill_request_history r USING (request_id) WHERE r.user_id = '%s'"
               % u)
    eq(rows[0][0], "6", "a processing row per request")
    rows = sql(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history WHERE "
               "user_id = '%s' AND line_number_enc LIKE '%%01012345678%%'" % u)
    eq(rows[0][0], "0", "line numbers encrypted at rest")


# --- single-flight, stale, breaker ---------------------------------------------------------
def test_concurrent_misses_one_kos_call(ctx):
    ensure_closed(ctx)
    m = months_back(ctx, 3)
    drop_cache(ctx, DEMO01_DIGITS, m)
    sim.set_fault(operation="bill.inquiry", mode="none", latencyMs=40)
    tok = token(ctx)
    before = kos_calls()
    try:
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            rs = list(ex.map(lambda _: inquiry(ctx, m, tok=tok), range(20)))
    finally:
        sim.reset_faults()
    for r in rs:
        status(r, 200)
    eq(len({json.dumps(r.json()["data"]["billInfo"], sort_keys=True) for r in rs}), 1,
       "one bill for all 20")
    eq(kos_calls() - before, 1, "KOS calls for 20 concurrent misses on one key")


def test_stale_if_error(ctx):
    ensure_closed(ctx)
    m = months_back(ctx, 4)
    drop_cache(ctx, DEMO01_DIGITS, m)
    fresh = DOC.check_data(inquiry(ctx, m), "BillInquiryResponse")
    auth.redis_cli(ctx, "DEL", "v1:bill:%s:%s" % (DEMO01_DIGITS, m.replace("-", "")))
    sim.set_fault(operation="bill.inquiry", mode="http503")
    try:
        d = DOC.check_data(inquiry(ctx, m), "BillInquiryResponse")
        # the current month has no stale copy: a clean 503
        drop_cache(ctx, DEMO01_DIGITS, months_back(ctx, 0))
        r = inquiry(ctx)
        b = DOC.error_envelope(r, "SERVICE_UNAVAILABLE", 503)
        assert r.header("Retry-After"), "Retry-After"
        assert b["error"]["message"].startswith("일시적으로 서비스 이용이 어렵습니다"), b
    finally:
        sim.reset_faults()
    eq(d["stale"], True, "flagged stale")
    assert schema.DATE_TIME.match(d.get("cachedAt", "")), "cachedAt %r" % d.get("cachedAt")
    eq(d["billInfo"], fresh["billInfo"], "the last good bill")
    ensure_closed(ctx)


def test_breaker_opens_fails_fast_and_recovers(ctx):
    ensure_closed(ctx)
    cur = months_back(ctx, 0)
    sim.set_fault(operation="bill.inquiry", mode="http503")
    try:
        opened = False
        for _ in range(12):
            drop_cache(ctx, DEMO01_DIGITS, cur)
            r = inquiry(ctx)
            DOC.error_envelope(r, "SERVICE_UNAVAILABLE", 503)
            if breaker(ctx)["state"] == "OPEN":
                opened = True
                break
        assert opened, "breaker did not open: %r" % breaker(ctx)
        before = kos_calls()
        st = breaker(ctx)
        for _ in range(5):
            r = inquiry(ctx)
            DOC.error_envelope(r, "SERVICE_UNAVAILABLE", 503)
            assert int(r.header("Retry-After")) >= 1, "Retry-After"
        eq(kos_calls(), before, "open breaker: KOS not called")
        assert breaker(ctx)["rejected"] >= st["rejected"] + 5, "rejections counted"
    finally:
        sim.reset_faults()
    # after the wait (3 s in the test stack) probes go through and close it
    time.sleep(3.2)
    ctx.wait_for("breaker closed", lambda: (
        drop_cache(ctx, DEMO01_DIGITS, cur),
        inquiry(ctx).status == 200 and breaker(ctx)["state"] == "CLOSED")[1], timeout=20,
        interval=0.3)
    DOC.check_data(inquiry(ctx), "BillInquiryResponse")


# --- history without loss, MVNO AP ------------------------------------------------------
def test_mariadb_down_answers_and_history_complete(ctx):
    ensure_closed(ctx)
    u = auth.new_user(ctx, "billdb", perms=("BILL_INQUIRY",), line=DEMO01_LINE)
    tok = auth.login(ctx, u, auth.PASSWORD).json()["data"]["accessToken"]
    ms = [months_back(ctx, n) for n in range(1, 4)]
    want = {m: DOC.check_data(inquiry(ctx, m, tok=tok), "BillInquiryResponse")["billInfo"]
            for m in ms}
    ctx.stack("mariadb-stop")
    rids = []
    try:
        for m in ms * 2:
            d = DOC.check_data(inquiry(ctx, m, tok=tok), "BillInquiryResponse")
            eq(d["billInfo"], want[m], "answer while MariaDB is down")
            rids.append(d["requestId"])
        # the stored result is there at once (Redis)
        DOC.check_data(call(ctx, "GET", "/inquiry/" + rids[0], tok), "BillInquiryStatusResponse")
        assert health(ctx)["history"]["backlog"] >= 1, "records held for MariaDB"
    finally:
        ctx.stack("mariadb-start")

    def listed():
        r = call(ctx, "GET", "/history?size=100", tok)
        if r.status != 200:
            return False
        got = {it["requestId"] for it in r.json()["data"]["items"]}
        return set(rids) <= got

    ctx.wait_for("held history written", listed, timeout=30)
    rows = sql(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history WHERE "
               "user_id = '%s'" % u)
    eq(rows[0][0], "9", "every inquiry recorded exactly once")


def test_mvno_delivery_and_retry(ctx):
    ensure_closed(ctx)
    d = DOC.check_data(inquiry(ctx, months_back(ctx, 1)), "BillInquiryResponse")
    got = ctx.wait_for("delivery", lambda: sim.deliveries(d["requestId"]), timeout=15)
    body = got[0].get("body") or got[0]
    if isinstance(body, str):
        body = json.loads(body)
    eq(body["eventType"], "BILL_INQUIRY", "eventType")
    eq(body["lineNumber"], DEMO01_LINE, "lineNumber")
    eq(body["billInfo"]["totalAmount"], d["billInfo"]["totalAmount"], "billInfo")
    # the MVNO AP is down: the customer's answer is unaffected, delivery waits
    sim.set_fault(operation="mvno", mode="http503")
    try:
        d2 = DOC.check_data(inquiry(ctx, months_back(ctx, 1)), "BillInquiryResponse")
        ctx.wait_for("failed attempts recorded", lambda: sql(
            ctx, "SELECT COUNT(*) FROM phonebill_bill.mvno_delivery_attempts WHERE "
            "request_id = '%s' AND outcome = 'FAILED'" % d2["requestId"])[0][0] != "0",
            timeout=15)
        eq(sim.deliveries(d2["requestId"]), [], "not delivered while down")
    finally:
        sim.reset_faults()
    ctx.wait_for("delivered after the MVNO AP returns",
                 lambda: sim.deliveries(d2["requestId"]), timeout=30)
    ctx.wait_for("delivery recorded", lambda: sql(
        ctx, "SELECT mvno_delivered_at IS NOT NULL FROM phonebill_bill.bill_request_history "
        "WHERE request_id = '%s'" % d2["requestId"])[0][0] == "1", timeout=10)
    rows = sql(ctx, "SELECT mvno_attempts, mvno_payload_enc IS NULL FROM "
               "phonebill_bill.bill_request_history WHERE request_id = '%s'" % d2["requestId"])
    assert int(rows[0][0]) >= 2, "attempts %r" % rows
    eq(rows[0][1], "1", "payload dropped once delivered")
