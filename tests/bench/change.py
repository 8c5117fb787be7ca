#!/usr/bin/env python3
"""Plan change latency for tests/bench/run.sh: N full changes, one at a time.

    tests/bench/change.py --base http://127.0.0.1:24080 --token TOKEN
        --line 010-1234-5678 [--changes 20]

Reads the line's plan (GET /products/customer/{line}) and a plan it may
change to (GET /products/available), then sends POST /products/change back
and forth between the two, one after the other, each with its own
Idempotency-Key: the whole change (pre-check, KOS order, history hand-off)
as a customer waits for it.  Prints one line:

    change: N changes, statuses {200: N}, p50 X ms, p99 Y ms, max Z ms

Numbers belong to the machine and the moment; nothing passes or fails.
"""
import argparse
import http.client
import json
import time
import urllib.parse
import uuid


def call(base, method, path, token, body=None, headers=None):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    h = {"Authorization": "Bearer " + token}
    h.update(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    t0 = time.monotonic()
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        return r.status, data, time.monotonic() - t0
    finally:
        c.close()


def pct(sorted_s, p):
    if not sorted_s:
        return 0.0
    i = min(len(sorted_s) - 1, int(round(p / 100.0 * (len(sorted_s) - 1))))
    return sorted_s[i] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--line", required=True)
    ap.add_argument("--changes", type=int, default=20)
    a = ap.parse_args()
    st, data, _ = call(a.base, "GET", "/api/v1/products/customer/" + a.line, a.token)
    if st != 200:
        raise SystemExit("customer: %s %s" % (st, data[:200]))
    cur = json.loads(data)["data"]["currentProduct"]["productCode"]
    st, data, _ = call(a.base, "GET", "/api/v1/products/available", a.token)
    if st != 200:
        raise SystemExit("available: %s %s" % (st, data[:200]))
    other = [p["productCode"] for p in json.loads(data)["data"]["products"]
             if p.get("isAvailable") and p["productCode"] != cur]
    if not other:
        raise SystemExit("no plan to change to from %s" % cur)
    plans = [cur, other[0]]
    codes, lat = {}, []
    for i in range(a.changes):
        body = {"lineNumber": a.line, "currentProductCode": plans[i % 2],
                "targetProductCode": plans[(i + 1) % 2]}
        st, data, dt = call(a.base, "POST", "/api/v1/products/change", a.token, body,
                            {"Idempotency-Key": "bench-" + uuid.uuid4().hex})
        codes[st] = codes.get(st, 0) + 1
        if st == 200:
            lat.append(dt)
    lat.sort()
    print("change: %d changes (%s <-> %s), statuses %s, p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (a.changes, plans[0], plans[1], dict(sorted(codes.items())),
             pct(lat, 50), pct(lat, 99), lat[-1] * 1000 if lat else 0.0))


if __name__ == "__main__":
    main()
