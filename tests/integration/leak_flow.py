"""Every operation of the bill or product service once or more, for the
leak check of script/test (the service runs under valgrind behind
LEAK_BASE).  Prints the status codes; exits 1 on an unexpected one.

Environment: LEAK_BASE (the leak port), LEAK_AUTH (the test stack's HTTPS
base, for login), LEAK_KOS (the simulator), LEAK_SVC (bill or product).
"""
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ["LEAK_BASE"]
AUTH = os.environ["LEAK_AUTH"]
KOS = os.environ["LEAK_KOS"]
SVC = os.environ["LEAK_SVC"]
CTX = ssl._create_unverified_context()
codes = []
bad = []


def call(url, method="GET", body=None, token=None, headers=None, raw=None):
    h = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None:
        h.setdefault("Content-Type", "application/json")
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120, context=CTX) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(want, method, path, body=None, token=None, headers=None, raw=None):
    st, b = call(BASE + path, method, body, token, headers, raw)
    codes.append(st)
    if st not in (want if isinstance(want, tuple) else (want,)):
        bad.append("%s %s -> %d (want %r)" % (method, path, st, want))
    return b


def sim(method, path, body=None):
    return call(KOS + path, method, body if body is not None else {})


st, b = call(AUTH + "/api/v1/auth/login", "POST", {"userId": "demo01", "password": "Phonebill!1"})
assert st == 200, st
tok = b["data"]["accessToken"]
sim("DELETE", "/_sim/faults")

if SVC == "bill":
    P = "/api/v1/bills"
    for _ in range(3):
        expect(200, "GET", P + "/menu", token=tok)
    rid = None
    for month in ("2026-10", "2026-09", "2026-10", None):
        body = {"lineNumber": "010-1234-5678"}
        if month:
            body["inquiryMonth"] = month
        d = expect(200, "POST", P + "/inquiry", body, tok)
        rid = rid or (d or {}).get("data", {}).get("requestId")
    expect(404, "POST", P + "/inquiry", {"lineNumber": "01012345678", "inquiryMonth": "2019-01"}, tok)
    expect(403, "POST", P + "/inquiry", {"lineNumber": "010-2345-6789"}, tok)
    expect(400, "POST", P + "/inquiry", {"lineNumber": "010-1234-5678", "x": 1}, tok)
    expect(400, "POST", P + "/inquiry", raw=b'{"lineNumber": bad', token=tok)
    sim("POST", "/_sim/faults", {"operation": "bill.inquiry", "mode": "garbage", "times": 2})
    expect((200, 502), "POST", P + "/inquiry", {"lineNumber": "010-1234-5678", "inquiryMonth": "2025-12"}, tok)
    sim("DELETE", "/_sim/faults")
    expect(200, "GET", P + "/inquiry/" + str(rid), token=tok)
    expect(404, "GET", P + "/inquiry/REQ_none", token=tok)
    expect(200, "GET", P + "/history?size=5&page=1&status=COMPLETED", token=tok)
    expect(200, "GET", P + "/history?startDate=2026-01-01&endDate=2026-12-31", token=tok)
    expect(400, "GET", P + "/history?size=500", token=tok)
    expect(405, "DELETE", P + "/menu", token=tok)
    expect(401, "GET", P + "/menu")
    # the summary: cold and warm cache, bad query, KOS failing (issue 16)
    expect(200, "GET", P + "/summary?months=6", token=tok)
    expect(200, "GET", P + "/summary", token=tok)
    expect(400, "GET", P + "/summary?months=13", token=tok)
    sim("POST", "/_sim/faults", {"operation": "bill.inquiry", "mode": "garbage", "times": 2})
    expect((200, 502), "GET", P + "/summary?months=12", token=tok)
    sim("DELETE", "/_sim/faults")
else:
    P = "/api/v1/products"
    line = "010-1234-5678"
    sim("POST", "/_sim/data/reset")
    expect(200, "GET", P + "/menu", token=tok)
    expect(200, "GET", P + "/customer/01012345678", token=tok)
    expect(200, "GET", P + "/customer/01012345678", token=tok)
    expect(200, "GET", P + "/available", token=tok)
    expect(200, "POST", P + "/change/validation", {"lineNumber": line,
           "currentProductCode": "5G-PREMIUM-001", "targetProductCode": "5G-SUPER-OLD"}, tok)
    expect(409, "POST", P + "/change", {"lineNumber": line,
           "currentProductCode": "5G-PREMIUM-001", "targetProductCode": "MV2-5G-BASIC"}, tok)
    d = expect(200, "POST", P + "/change", {"lineNumber": line,
               "currentProductCode": "5G-PREMIUM-001", "targetProductCode": "5G-SLIM-001"}, tok,
               headers={"Idempotency-Key": "leak-%d" % time.time()})
    rid = (d or {}).get("data", {}).get("requestId", "x")
    expect(200, "GET", P + "/change/" + rid, token=tok)
    sim("POST", "/_sim/faults", {"operation": "product.change", "mode": "truncated", "times": 1})
    key = "leak-lost-%d" % time.time()
    body = {"lineNumber": line, "currentProductCode": "5G-SLIM-001",
            "targetProductCode": "5G-STANDARD-001"}
    expect(202, "POST", P + "/change", body, tok, headers={"Idempotency-Key": key})
    sim("DELETE", "/_sim/faults")
    expect(200, "POST", P + "/change", body, tok, headers={"Idempotency-Key": key})
    expect(200, "GET", P + "/history?size=3", token=tok)
    expect(400, "GET", P + "/history?page=0", token=tok)
    expect(403, "GET", P + "/customer/01023456789", token=tok)
    expect(405, "DELETE", P + "/menu", token=tok)
    sim("POST", "/_sim/data/reset")

time.sleep(2.5)   # the worker delivers to the MVNO AP meanwhile
print(" ".join(str(c) for c in codes))
if bad:
    print("unexpected: " + "; ".join(bad))
    sys.exit(1)
