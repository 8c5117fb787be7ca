#!/usr/bin/env python3
"""A paced load of cached bill inquiries: RATE requests per second for
SECONDS, spread over THREADS keep-alive connections, each send at its
scheduled instant (no coordinated omission: a late answer does not delay
the next send of other threads).  Prints one line:
    paced: sent=N rate=R/s statuses={...} p50_ms=.. p99_ms=..

    paced.py --base http://127.0.0.1:24080 --token T --line L --month YYYY-MM
             [--also TOKEN,LINE]... [--rate 200] [--seconds 10] [--threads 8]

With --also, request i goes to the (token, line) pair i modulo the number
of pairs: several customers' lines, as real traffic has (MVNO deliveries
of one line go one at a time, in order; of different lines, in parallel).
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--line", required=True)
    ap.add_argument("--month", required=True)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--also", action="append", default=[])
    a = ap.parse_args()
    pairs = [(a.token, a.line)] + [tuple(x.split(",", 1)) for x in a.also]
    u = urllib.parse.urlsplit(a.base)
    n = int(a.rate * a.seconds)
    interval = a.threads / a.rate
    reqs = [(json.dumps({"lineNumber": ln, "inquiryMonth": a.month}),
             {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
            for tok, ln in pairs]
    lat, statuses, lock = [], {}, threading.Lock()
    t0 = time.monotonic() + 0.2

    def run(k):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        for i in range(k, n, a.threads):
            due = t0 + (i // a.threads) * interval + k * (interval / a.threads)
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
            s = time.monotonic()
            try:
                body, hdrs = reqs[i % len(reqs)]
                conn.request("POST", "/api/v1/bills/inquiry", body, hdrs)
                r = conn.getresponse()
                r.read()
                st = r.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                st = 0
            with lock:
                lat.append((time.monotonic() - s) * 1000)
                statuses[st] = statuses.get(st, 0) + 1
        conn.close()

    ts = [threading.Thread(target=run, args=(k,)) for k in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - t0
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] if lat else 0
    print("paced: sent=%d lines=%d rate=%.1f/s statuses=%s p50_ms=%.2f p99_ms=%.2f"
          % (n, len(pairs), n / took, json.dumps(statuses, sort_keys=True), pct(0.5),
             pct(0.99)))


if __name__ == "__main__":
    main()
