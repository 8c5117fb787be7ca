#!/usr/bin/env python3
"""Latency of what needs no KOS while KOS hangs or is slow (issue 19).

Driven by tests/bench/kos-hang.sh against a running stack; prints, per
scenario, p50/p99/max per kind of request of tests/integration/kosload.py
and when the bill breaker first left CLOSED.  Measures, never judges.

  kos_hang.py --base URL --kos URL --state DIR --token TOKEN SCENARIO...
  SCENARIO: healthy | hang (after a healthy period) | cold | random
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import kosload  # noqa: E402

LINE = "010-1234-5678"
FAULTS = {
    "hang": {"operation": "bill.inquiry", "mode": "hang", "hangMs": 4000},
    "cold": {"operation": "bill.inquiry", "mode": "hang", "hangMs": 4000},
    "random": {"operation": "bill.inquiry", "mode": "none",
               "latencyRandomMinMs": 0, "latencyRandomMaxMs": 4000},
}


def req(base, method, path, body=None, token=None):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        c.close()


CACHE_TYPES = ("bill", "bill-stale", "bill-months", "bill-months-stale")


def stored_key(state, key):
    """A readable cache key as the stack stores it (cache.h: no line number
    in a Redis key name; the blind index of the rest, 16 bytes in hex)."""
    parts = key.split(":", 2)
    if len(parts) != 3 or parts[1] not in CACHE_TYPES:
        return key
    with open(os.path.join(state, "secrets", "pii_index_key")) as f:
        k = bytes.fromhex(f.read().strip())
    d = hmac.new(k, parts[2].encode(), hashlib.sha256).digest()[:16]
    return "v1:%s:%s" % (parts[1], d.hex())


def redis_del(state, keys):
    with open(os.path.join(state, "secrets", "redis_password")) as f:
        pw = f.read().strip()
    subprocess.run(["redis-cli", "-s", os.path.join(state, "redis", "redis.sock"),
                    "DEL"] + [stored_key(state, k) for k in keys],
                   env=dict(os.environ, REDISCLI_AUTH=pw),
                   stdout=subprocess.DEVNULL, timeout=10, check=False)


def breaker_state(base):
    st, d = req(base, "GET", "/api/v1/bills/health")
    try:
        return d["data"]["kos"]["breakers"]["kos.bill"]["state"]
    except (KeyError, TypeError):
        return "?"


def wait_closed(a, cur):
    """Faults off; probe (an uncached current month) until the bill breaker
    is CLOSED; exit after 90 s."""
    req(a.kos, "DELETE", "/_sim/faults")
    deadline = time.monotonic() + 90
    key = "v1:bill:%s:%s" % (LINE.replace("-", ""), cur.replace("-", ""))
    while breaker_state(a.base) != "CLOSED":
        if time.monotonic() > deadline:
            sys.exit("the bill breaker does not close")
        time.sleep(1)
        redis_del(a.state, [key])
        req(a.base, "POST", "/api/v1/bills/inquiry", {"lineNumber": LINE},
            a.token)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--kos", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=175.0)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("scenarios", nargs="+")
    a = ap.parse_args()
    st, d = req(a.base, "GET", "/api/v1/bills/menu", token=a.token)
    if st != 200:
        sys.exit("menu answered %d: %r" % (st, d))
    cur = d["data"]["currentMonth"]
    closed = [m for m in d["data"]["availableMonths"] if m < cur]
    cached, stale = closed[:3], closed[3]

    def load(duration):
        for m in cached + [stale, cur]:
            req(a.base, "POST", "/api/v1/bills/inquiry",
                {"lineNumber": LINE, "inquiryMonth": m}, a.token)
        return kosload.Load(a.base, a.token, LINE, cached, stale, cur,
                            lambda keys: redis_del(a.state, keys),
                            threads=a.threads, duration=duration,
                            max_each=100000, rate=a.rate)

    for sc in a.scenarios:
        wait_closed(a, cur)
        if sc == "hang":
            print("--- healthy period before the hang (%.0f s)" % (a.duration / 2))
            print(load(a.duration / 2).run().summary(), flush=True)
        if sc == "healthy":
            print("--- healthy: KOS answers (%.0f s)" % a.duration)
            print(load(a.duration).run().summary(), flush=True)
            continue
        fault = FAULTS[sc]
        print("--- %s: %s (%.0f s, %d threads, <= %.0f req/s)"
              % (sc, json.dumps(fault), a.duration, a.threads, a.rate))
        def set_fault():
            st, body = req(a.kos, "POST", "/_sim/faults", fault)
            if st != 200:  # the scenario would measure a healthy KOS
                sys.exit("the simulator refused the fault: %d %r" % (st, body))
        try:
            ld = load(a.duration).run(set_fault)
        finally:
            req(a.kos, "DELETE", "/_sim/faults")
        print(ld.summary(), flush=True)
    wait_closed(a, cur)


if __name__ == "__main__":
    main()
