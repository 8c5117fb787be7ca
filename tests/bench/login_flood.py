#!/usr/bin/env python3
"""Login flood against one web server: do the cheap auth operations wait?

    tests/bench/login_flood.py --base https://127.0.0.1:8443 [--logins 200]
        [--token ACCESS_TOKEN] [--workers N]

Sends --logins concurrent logins (unknown user ids, wrong password, each
from its own X-Forwarded-For address: the stack must trust loopback, as
script/test's does) and meanwhile, one at a time, GET /auth/health and
(with --token) GET /auth/verify, timing each.  Prints the login statuses
and the latency of the cheap calls (median, max).  Numbers belong to the
machine and the moment; nothing passes or fails (issue 18, item 7).
--workers N sends at most N logins at a time (default: all at once);
tests/bench/run.sh uses --workers 1 for a login's own latency and the
flood's rate (logins per second: each is one password hash) for the
hashes per second per core.
"""
import argparse
import concurrent.futures
import http.client
import json
import random
import ssl
import statistics
import threading
import time
import urllib.parse


def conn(base):
    u = urllib.parse.urlsplit(base)
    if u.scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=120, context=ctx)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def call(base, method, path, body=None, headers=None):
    c = conn(base)
    t0 = time.monotonic()
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status, time.monotonic() - t0
    except OSError as e:
        return str(e), time.monotonic() - t0
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--logins", type=int, default=200)
    ap.add_argument("--token")
    ap.add_argument("--workers", type=int, default=0)
    a = ap.parse_args()
    done = threading.Event()
    cheap = {"health": [], "verify": []}

    def prober():
        while not done.is_set():
            cheap["health"].append(call(a.base, "GET", "/api/v1/auth/health"))
            if a.token:
                cheap["verify"].append(call(a.base, "GET", "/api/v1/auth/verify",
                                            headers={"Authorization": "Bearer " + a.token}))

    def login(i):
        body = json.dumps({"userId": "flood%05d" % i, "password": "Wrong-Password-1"})
        return call(a.base, "POST", "/api/v1/auth/login", body,
                    {"Content-Type": "application/json",
                     "X-Forwarded-For": "10.%d.%d.%d" % (random.randint(0, 255),
                                                         random.randint(0, 255), i % 250 + 1)})

    p = threading.Thread(target=prober, daemon=True)
    p.start()
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers or a.logins) as ex:
        res = list(ex.map(login, range(a.logins)))
    wall = time.monotonic() - t0
    done.set()
    p.join(130)
    codes = {}
    for st, _ in res:
        codes[st] = codes.get(st, 0) + 1
    lat = sorted(d for _, d in res)
    # a 401 or 200 cost a password hash; 503 (pool busy) and 429 did not
    hashed = sum(n for st, n in codes.items() if st in (200, 401))
    print("logins: %d in %.1f s, hashed %.1f/s; statuses %s; latency median %.0f ms, max %.0f ms"
          % (a.logins, wall, hashed / wall, dict(sorted(codes.items(), key=str)),
             statistics.median(lat) * 1000, lat[-1] * 1000))
    for k, v in cheap.items():
        if not v:
            continue
        d = sorted(x for _, x in v)
        sts = sorted({s for s, _ in v}, key=str)
        print("%s during the flood: %d calls, statuses %s, median %.0f ms, max %.0f ms"
              % (k, len(v), sts, statistics.median(d) * 1000, d[-1] * 1000))


if __name__ == "__main__":
    main()
