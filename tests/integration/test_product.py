"""The product service through the web server (issue 6): menu, customer,
available plans, pre-check, change, status, history; KOS refusals, KOS
down or timing out during a change (no double order), Idempotency-Key,
cache invalidation, MVNO AP delivery.

Plan changes use the simulator's test line 010-9999-0000 (seeded on
5G-STANDARD-001) through a user made for the run; the simulator's lines
are put back on their seeded plans before and after (/_sim/data/reset).
Responses are checked against product-change-service-api.yaml; errors
against its ErrorResponse (API.md's codes, e.g. PRECHECK_FAILED, replace
the design's enum).
"""
import concurrent.futures
import json
import time

import helpers
import schema
import test_auth as auth
import test_bill as bill
import test_kos_sim as sim
from helpers import eq, status
from run import Skip

ORDER = 65
DOC = schema.Doc("product-change-service-api.yaml")
LINE = "010-9999-0000"
DIGITS = "01099990000"
SEED_PLAN = "5G-STANDARD-001"
_USERS = {}


# --- helpers -------------------------------------------------------------------
def user_token(ctx, tag="prod", perms=("BILL_INQUIRY", "PRODUCT_CHANGE"), line=LINE):
    key = (tag, line)
    if key not in _USERS:
        u = auth.new_user(ctx, tag, perms=perms, line=line)
        r = auth.login(ctx, u, auth.PASSWORD)
        status(r, 200)
        _USERS[key] = r.json()["data"]["accessToken"]
    return _USERS[key]


def call(ctx, method, path, tok, body=None, headers=None):
    h = {"Authorization": "Bearer " + tok}
    h.update(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    return ctx.request(method, "/api/v1/products" + path, body=body, headers=h)


def change_body(cur, tgt, line=LINE):
    return {"lineNumber": line, "currentProductCode": cur, "targetProductCode": tgt}


def change(ctx, tok, cur, tgt, key=None, line=LINE):
    h = {"Idempotency-Key": key} if key else {}
    return call(ctx, "POST", "/change", tok, change_body(cur, tgt, line), h)


def sim_reset(ctx):
    sim.reset_faults()
    r = sim.call("POST", "/_sim/data/reset")
    assert r.status == 200, r.status
    auth.redis_cli(ctx, "DEL", "v1:prod-customer:" + DIGITS, "v1:prod-catalog",
                   "v1:prod-customer:01012345678", "v1:prod-customer:01034567890")


def kos_plan(digits=DIGITS):
    return sim.product(digits)["data"]["productInfo"]["productCode"]


def orders_for(ctx, rid):
    rows = helpers.admin_sql(auth._state(ctx), "SELECT COUNT(*) FROM kos_sim.change_orders "
                             "WHERE request_id = '%s'" % rid)
    if rows is None:
        raise Skip("cannot query MariaDB as admin")
    return int(rows[0][0])


def ensure_closed(ctx):
    sim.reset_faults()
    deadline = time.monotonic() + 40
    while bill.breaker(ctx, "kos.change")["state"] != "CLOSED":
        assert time.monotonic() < deadline, "change breaker stays open"
        time.sleep(0.5)
        # a probe through the change breaker (a real change, undone below)
        tok = user_token(ctx)
        change(ctx, tok, SEED_PLAN, "LTE-DATA-001")
        sim_reset(ctx)


# --- read operations ------------------------------------------------------------
def test_menu_customer_available(ctx):
    sim_reset(ctx)
    tok = user_token(ctx)
    d = DOC.check_data(call(ctx, "GET", "/menu", tok), "ProductMenuResponse")
    eq(d["lineNumber"], LINE, "lineNumber")
    eq(d["currentProduct"]["productCode"], SEED_PLAN, "current plan")
    eq({m["menuId"]: m["available"] for m in d["menuItems"]}["PRODUCT_CHANGE"], True, "menu")
    c = DOC.check_data(call(ctx, "GET", "/customer/" + DIGITS, tok), "CustomerInfoResponse")
    eq(c["lineNumber"], LINE, "lineNumber formatted")
    eq(c["lineStatus"], "ACTIVE", "lineStatus")
    eq(c["customerId"], "C0018", "customerId from KOS")
    eq(c["currentProduct"]["voiceAllowance"], "무제한", "unlimited shown as 무제한")
    assert "earlyTerminationFee" in c.get("contractInfo", {}), c
    before = sim.call("GET", "/_sim/stats").json()["data"]["operations"]["product.inquiry"]["calls"]
    DOC.check_data(call(ctx, "GET", "/customer/" + LINE, tok), "CustomerInfoResponse")
    after = sim.call("GET", "/_sim/stats").json()["data"]["operations"]["product.inquiry"]["calls"]
    eq(after, before, "customer served from the cache")
    ttl = int(auth.redis_cli(ctx, "TTL", "v1:prod-customer:" + DIGITS))
    assert 4 * 3600 <= ttl <= 4 * 3600 * 1.1 + 1, "customer cached 4 h, TTL %d" % ttl
    a = DOC.check_data(call(ctx, "GET", "/available", tok), "AvailableProductsResponse")
    codes = {p["productCode"]: p for p in a["products"]}
    assert SEED_PLAN not in codes, "the current plan is not offered"
    assert all(p["operatorCode"] == "MVNO001" for p in a["products"]), "own operator only"
    eq(codes["5G-PREMIUM-001"]["isAvailable"], True, "on sale")
    eq(codes["5G-SUPER-OLD"]["isAvailable"], False, "discontinued")
    assert codes["5G-SUPER-OLD"]["unavailableReason"], codes["5G-SUPER-OLD"]
    eq(a["totalCount"], len(a["products"]), "totalCount")
    ttl = int(auth.redis_cli(ctx, "TTL", "v1:prod-catalog"))
    assert 24 * 3600 <= ttl <= 24 * 3600 * 1.1 + 1, "catalogue cached 24 h, TTL %d" % ttl
    DOC.error_envelope(call(ctx, "GET", "/available?foo=1", tok), "VALIDATION_ERROR", 400)


def test_other_line_and_no_permission_forbidden(ctx):
    tok = user_token(ctx)
    DOC.error_envelope(call(ctx, "GET", "/customer/01012345678", tok), "FORBIDDEN", 403)
    DOC.error_envelope(call(ctx, "POST", "/change/validation", tok,
                            change_body("5G-PREMIUM-001", SEED_PLAN, "010-1234-5678")),
                       "FORBIDDEN", 403)
    DOC.error_envelope(change(ctx, tok, "5G-PREMIUM-001", SEED_PLAN, line="010-1234-5678"),
                       "FORBIDDEN", 403)
    DOC.error_envelope(call(ctx, "GET", "/history?lineNumber=01012345678", tok),
                       "FORBIDDEN", 403)
    t2 = bill.token(ctx, "demo02")   # BILL_INQUIRY only
    for method, path, body in (("GET", "/menu", None), ("GET", "/available", None),
                               ("GET", "/customer/01023456789", None),
                               ("POST", "/change", change_body("a", "b", "010-2345-6789")),
                               ("GET", "/history", None)):
        b = DOC.error_envelope(call(ctx, method, path, t2, body), "FORBIDDEN", 403)
        eq(b["error"]["message"], "서비스 이용 권한이 없습니다", "message")


def test_validation_errors(ctx):
    tok = user_token(ctx)
    for body in ({}, {"lineNumber": LINE}, change_body("", "X"),
                 change_body("A B", "X"), change_body(SEED_PLAN, "X" * 40),
                 dict(change_body(SEED_PLAN, "X"), extra=1)):
        DOC.error_envelope(call(ctx, "POST", "/change/validation", tok, body),
                           "VALIDATION_ERROR", 400)
        DOC.error_envelope(call(ctx, "POST", "/change", tok, body), "VALIDATION_ERROR", 400)
    DOC.error_envelope(change(ctx, tok, SEED_PLAN, "LTE-DATA-001", key="bad key"),
                       "VALIDATION_ERROR", 400)


# --- pre-check -------------------------------------------------------------------
def _precheck(ctx, tok, cur, tgt, line=LINE):
    return DOC.check_data(call(ctx, "POST", "/change/validation", tok,
                               change_body(cur, tgt, line)),
                          "ProductChangeValidationResponse")


def test_precheck_failures(ctx):
    sim_reset(ctx)
    tok = user_token(ctx)
    ok = _precheck(ctx, tok, SEED_PLAN, "5G-PREMIUM-001")
    eq(ok["validationResult"], "SUCCESS", "a valid change")
    eq([(i["checkType"], i["result"]) for i in ok["validationDetails"]],
       [("PRODUCT_AVAILABLE", "PASS"), ("OPERATOR_MATCH", "PASS"), ("LINE_STATUS", "PASS")],
       "three items")
    cases = (("5G-SUPER-OLD", SEED_PLAN, "PRODUCT_AVAILABLE", "discontinued"),
             ("MV2-5G-BASIC", SEED_PLAN, "OPERATOR_MATCH", "other operator"),
             ("5G-PREMIUM-001", "LTE-DATA-001", "PRODUCT_AVAILABLE", "wrong current plan"),
             (SEED_PLAN, SEED_PLAN, "PRODUCT_AVAILABLE", "same plan"),
             ("NO-SUCH-PLAN", SEED_PLAN, "PRODUCT_AVAILABLE", "unknown plan"))
    for tgt, cur, failing, what in cases:
        d = _precheck(ctx, tok, cur, tgt)
        eq(d["validationResult"], "FAILURE", what)
        failed = [i["checkType"] for i in d["validationDetails"] if i["result"] == "FAIL"]
        assert failing in failed, "%s: %r" % (what, d)
        assert d["failureReason"], what
        before = sim.call("GET", "/_sim/stats").json()["data"]["operations"].get(
            "product.change", {}).get("calls", 0)
        b = DOC.error_envelope(change(ctx, tok, cur, tgt), "PRECHECK_FAILED", 409)
        eq(b["error"]["details"], d["failureReason"], what + ": details")
        assert b["data"]["validationDetails"], b
        after = sim.call("GET", "/_sim/stats").json()["data"]["operations"].get(
            "product.change", {}).get("calls", 0)
        eq(after, before, what + ": KOS change not called")
    eq(kos_plan(), SEED_PLAN, "plan unchanged")
    # the suspended line (demo03)
    t3 = bill.token(ctx, "demo03")
    d = _precheck(ctx, t3, sim.product("01034567890")["data"]["productInfo"]["productCode"],
                  "5G-PREMIUM-001", "010-3456-7890")
    eq(d["validationResult"], "FAILURE", "suspended line")
    eq([i["result"] for i in d["validationDetails"] if i["checkType"] == "LINE_STATUS"],
       ["FAIL"], "LINE_STATUS fails")


# --- the change ------------------------------------------------------------------
def test_change_happy_path_and_bill_reflects_it(ctx):
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    # the bill of this month is cached with the old plan first
    b0 = bill.DOC.check_data(bill.inquiry(ctx, tok=tok, line=LINE), "BillInquiryResponse")
    eq(b0["billInfo"]["productName"], "5G 스탠다드", "bill before")
    DOC.check_data(call(ctx, "GET", "/menu", tok), "ProductMenuResponse")
    a = DOC.check_data(call(ctx, "GET", "/available", tok), "AvailableProductsResponse")
    target = "5G-PREMIUM-001"
    assert any(p["productCode"] == target and p["isAvailable"] for p in a["products"])
    eq(_precheck(ctx, tok, SEED_PLAN, target)["validationResult"], "SUCCESS", "pre-check")
    t0 = time.monotonic()
    r = change(ctx, tok, SEED_PLAN, target, key="happy-" + auth.RUN)
    elapsed = time.monotonic() - t0
    d = DOC.check_data(r, "ProductChangeResponse")
    eq(d["processStatus"], "COMPLETED", "processStatus")
    eq(d["resultCode"], "0000", "resultCode")
    eq(d["changedProduct"]["productCode"], target, "changedProduct")
    eq(d["changedProduct"]["productName"], "5G 프리미엄", "plan name")
    assert d["orderNumber"].startswith("KOS"), d
    assert d["effectiveDate"], d
    eq(kos_plan(), target, "KOS has the new plan")
    eq(orders_for(ctx, d["requestId"]), 1, "one order at KOS")
    s = DOC.check_data(call(ctx, "GET", "/change/" + d["requestId"], tok),
                       "ProductChangeResultResponse")
    eq((s["processStatus"], s["targetProductCode"], s["orderNumber"]),
       ("COMPLETED", target, d["orderNumber"]), "status")
    h = DOC.check_data(call(ctx, "GET", "/history", tok), "ProductChangeHistoryResponse")
    it = [x for x in h["history"] if x["requestId"] == d["requestId"]]
    assert it, h
    eq((it[0]["currentProductName"], it[0]["targetProductName"]), ("5G 스탠다드", "5G 프리미엄"),
       "plan names in the history")
    # caches were dropped: the customer and this month's bill show the new plan
    c = DOC.check_data(call(ctx, "GET", "/customer/" + DIGITS, tok), "CustomerInfoResponse")
    eq(c["currentProduct"]["productCode"], target, "customer after")
    b1 = bill.DOC.check_data(bill.inquiry(ctx, tok=tok, line=LINE), "BillInquiryResponse")
    eq(b1["billInfo"]["productName"], "5G 프리미엄", "bill after the change")
    # the same Idempotency-Key: the first answer, no second order
    d2 = DOC.check_data(change(ctx, tok, SEED_PLAN, target, key="happy-" + auth.RUN),
                        "ProductChangeResponse")
    eq((d2["requestId"], d2["orderNumber"]), (d["requestId"], d["orderNumber"]), "replay")
    b = DOC.error_envelope(change(ctx, tok, SEED_PLAN, "LTE-DATA-001", key="happy-" + auth.RUN),
                           "VALIDATION_ERROR", 400)
    assert "Idempotency-Key" in b["error"]["details"], b
    # MVNO AP got the result
    got = ctx.wait_for("delivery", lambda: sim.deliveries(d["requestId"]), timeout=15)
    body = got[0]["body"]
    eq((body["eventType"], body["status"], body["orderNumber"]),
       ("PRODUCT_CHANGE", "COMPLETED", d["orderNumber"]), "MVNO payload")
    print("  change latency %.0f ms" % (elapsed * 1000))
    sim_reset(ctx)


def test_kos_refusal_reason_surfaces(ctx):
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    # a catalogue cached before the plan was withdrawn: our pre-check passes,
    # KOS refuses with its own reason
    cat = json.loads(auth.redis_cli(ctx, "GET", "v1:prod-catalog") or "null") or []
    if not cat:
        call(ctx, "GET", "/available", tok)
        cat = json.loads(auth.redis_cli(ctx, "GET", "v1:prod-catalog"))
    for p in cat:
        if p["productCode"] == "5G-SUPER-OLD":
            p["onSale"] = True
            p["isAvailable"] = True
    auth.redis_cli(ctx, "SET", "v1:prod-catalog", json.dumps(cat, ensure_ascii=False), "EX", "60")
    try:
        r = change(ctx, tok, SEED_PLAN, "5G-SUPER-OLD")
        b = DOC.error_envelope(r, "CHANGE_REJECTED", 409)
        assert "판매" in b["error"]["message"], b     # KOS's own message
        eq(b["error"]["details"], "PRODUCT_NOT_ON_SALE", "KOS's reason")
        eq(b["data"]["resultCode"], "2004", "resultCode")
        s = DOC.check_data(call(ctx, "GET", "/change/" + b["data"]["requestId"], tok),
                           "ProductChangeResultResponse")
        eq(s["processStatus"], "FAILED", "stored as FAILED")
        assert s["failureReason"], s
    finally:
        auth.redis_cli(ctx, "DEL", "v1:prod-catalog")
    eq(kos_plan(), SEED_PLAN, "plan unchanged")


def test_answer_lost_then_retry_same_key_no_double_order(ctx):
    """KOS makes the change but the answer is garbled (truncated): the
    outcome is unknown -> 202 PROCESSING; a retry with the same key asks KOS
    again with the same requestId: the same order, not a second one."""
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    key = "lost-" + auth.RUN
    sim.set_fault(operation="product.change", mode="truncated")
    try:
        r = change(ctx, tok, SEED_PLAN, "5G-SLIM-001", key=key)
        d = DOC.check_data(r, "ProductChangeAsyncResponse", expected_status=202)
        eq(d["processStatus"], "PROCESSING", "unknown outcome")
        s = DOC.check_data(call(ctx, "GET", "/change/" + d["requestId"], tok),
                           "ProductChangeResultResponse")
        eq(s["processStatus"], "PROCESSING", "still unknown while KOS answers garbage")
    finally:
        sim.reset_faults()
    eq(kos_plan(), "5G-SLIM-001", "KOS did make the change")
    d2 = DOC.check_data(change(ctx, tok, SEED_PLAN, "5G-SLIM-001", key=key),
                        "ProductChangeResponse")
    eq((d2["requestId"], d2["processStatus"]), (d["requestId"], "COMPLETED"), "resolved")
    eq(orders_for(ctx, d["requestId"]), 1, "one order at KOS")
    sim_reset(ctx)


def test_row_lost_in_failover_retry_keeps_request_id(ctx):
    """The change's row is lost (a database failover before it was
    replicated): a retry with the same Idempotency-Key reaches KOS under
    the same requestId (derived from user and key), never a second order."""
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    key = "failover-" + auth.RUN
    sim.set_fault(operation="product.change", mode="truncated")
    try:
        d = DOC.check_data(change(ctx, tok, SEED_PLAN, "5G-SLIM-001", key=key),
                           "ProductChangeAsyncResponse", expected_status=202)
    finally:
        sim.reset_faults()
    rid = d["requestId"]
    eq(orders_for(ctx, rid), 1, "KOS took the order")
    bill.sql(ctx, "DELETE FROM phonebill_product.product_change_history "
             "WHERE request_id = '%s'" % rid)
    change(ctx, tok, SEED_PLAN, "5G-SLIM-001", key=key)
    rows = bill.sql(ctx, "SELECT request_id FROM phonebill_product.product_change_history "
                    "WHERE idempotency_key = '%s'" % key)
    eq([r[0] for r in rows], [rid], "the retry's row has the first requestId")
    eq(orders_for(ctx, rid), 1, "still one order at KOS")
    # another key: another requestId
    d3 = change(ctx, tok, "5G-SLIM-001", SEED_PLAN, key=key + "-b")
    rid3 = json.loads(d3.body)["data"]["requestId"] if d3.status in (200, 202) else None
    assert rid3 != rid, (d3.status, rid3)
    sim_reset(ctx)


def test_timeout_resolved_by_status_and_worker(ctx):
    """KOS hangs past our 3 s budget: 202 PROCESSING; once KOS is back the
    status operation (or the worker) settles it with the same requestId."""
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    sim.set_fault(operation="product.change", mode="hang", hangMs=5000, times=1)
    try:
        d = DOC.check_data(change(ctx, tok, SEED_PLAN, "LTE-DATA-001"),
                           "ProductChangeAsyncResponse", expected_status=202)
    finally:
        sim.reset_faults()

    def settled():
        s = DOC.check_data(call(ctx, "GET", "/change/" + d["requestId"], tok),
                           "ProductChangeResultResponse")
        return s if s["processStatus"] != "PROCESSING" else None

    s = ctx.wait_for("the change settled", settled, timeout=30, interval=1)
    eq(s["processStatus"], "COMPLETED", "completed once KOS answered")
    eq(kos_plan(), "LTE-DATA-001", "KOS has the plan")
    eq(orders_for(ctx, d["requestId"]), 1, "one order at KOS")
    sim_reset(ctx)


def test_kos_down_503_then_same_key_completes(ctx):
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    key = "down-" + auth.RUN
    sim.set_fault(operation="product.change", mode="http503")
    try:
        r = change(ctx, tok, SEED_PLAN, "5G-YOUTH-001", key=key)
        b = DOC.error_envelope(r, "SERVICE_UNAVAILABLE", 503)
        assert r.header("Retry-After"), "Retry-After"
        rid = b["data"]["requestId"]
        s = DOC.check_data(call(ctx, "GET", "/change/" + rid, tok), "ProductChangeResultResponse")
        eq(s["processStatus"], "FAILED", "row ends FAILED")
    finally:
        sim.reset_faults()
    eq(kos_plan(), SEED_PLAN, "nothing changed at KOS")
    d = DOC.check_data(change(ctx, tok, SEED_PLAN, "5G-YOUTH-001", key=key),
                       "ProductChangeResponse")
    eq((d["requestId"], d["processStatus"]), (rid, "COMPLETED"), "the same request, done")
    eq(orders_for(ctx, rid), 1, "one order")
    sim_reset(ctx)


def test_concurrent_same_key_one_order(ctx):
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    key = "race-" + auth.RUN
    sim.set_fault(operation="product.change", mode="none", latencyMs=300)
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda _: change(ctx, tok, SEED_PLAN, "LTE-UNLIMITED-001",
                                              key=key), range(8)))
    finally:
        sim.reset_faults()
    rids = set()
    for r in rs:
        assert r.status in (200, 202), (r.status, r.body[:200])
        rids.add(r.json()["data"]["requestId"])
    eq(len(rids), 1, "one request for one key")
    eq(orders_for(ctx, rids.pop()), 1, "one order")
    sim_reset(ctx)


def test_mvno_down_delivered_later(ctx):
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    sim.set_fault(operation="mvno", mode="http503")
    try:
        d = DOC.check_data(change(ctx, tok, SEED_PLAN, "5G-PREMIUM-001"),
                           "ProductChangeResponse")
        time.sleep(1.5)
        eq(sim.deliveries(d["requestId"]), [], "not delivered while the MVNO AP is down")
    finally:
        sim.reset_faults()
    got = ctx.wait_for("delivered later", lambda: sim.deliveries(d["requestId"]), timeout=30)
    eq(got[0]["body"]["status"], "COMPLETED", "payload")
    sim_reset(ctx)


def test_history_pages_and_filters(ctx):
    tok = user_token(ctx)
    h = DOC.check_data(call(ctx, "GET", "/history?size=2", tok), "ProductChangeHistoryResponse")
    p = h["pagination"]
    assert p["totalElements"] >= 5, p
    eq((p["page"], p["size"], p["hasPrevious"]), (1, 2, False), "page 1")
    eq(p["totalPages"], (p["totalElements"] + 1) // 2, "totalPages")
    eq(len(h["history"]), 2, "page size")
    f = DOC.check_data(call(ctx, "GET", "/history?status=FAILED&size=100", tok),
                       "ProductChangeHistoryResponse")
    assert f["history"] and all(x["processStatus"] == "FAILED" for x in f["history"]), f
    for x in h["history"]:
        assert x["targetProductName"] and x["currentProductName"], x
    for q in ("?size=0", "?size=101", "?page=0", "?status=DONE", "?foo=1"):
        DOC.error_envelope(call(ctx, "GET", "/history" + q, tok), "VALIDATION_ERROR", 400)


def test_breaker_open_fails_fast(ctx):
    sim_reset(ctx)
    ensure_closed(ctx)
    tok = user_token(ctx)
    sim.set_fault(operation="product.change", mode="http503")
    try:
        for _ in range(30):
            change(ctx, tok, SEED_PLAN, "5G-PREMIUM-001")
            if bill.breaker(ctx, "kos.change")["state"] == "OPEN":
                break
        eq(bill.breaker(ctx, "kos.change")["state"], "OPEN", "change breaker")
        before = sim.call("GET", "/_sim/stats").json()["data"]["operations"]["product.change"]["calls"]
        r = change(ctx, tok, SEED_PLAN, "5G-PREMIUM-001")
        DOC.error_envelope(r, "SERVICE_UNAVAILABLE", 503)
        after = sim.call("GET", "/_sim/stats").json()["data"]["operations"]["product.change"]["calls"]
        eq(after, before, "KOS not called while open")
    finally:
        sim.reset_faults()
    time.sleep(3.2)
    ensure_closed(ctx)
    sim_reset(ctx)
