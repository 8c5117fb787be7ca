#!/usr/bin/env python3
"""tests/bench/zipf.py - the Zipf workload of tests/bench/run.sh (stdlib only).

  zipf.py lines --kos URL
      The simulator's lines that have bills: "digits customerId status
      months" per line; lines left out as "# skipped ..." comments
      (TERMINATED, or no bill month at all).
  zipf.py token --base URL --user ID --xff ADDR    (password on stdin)
      Log in; print the access token.
  zipf.py run --base URL --kos URL --users FILE --password-file FILE
              [--requests 3000] [--threads 16] [--s 1.1] [--seed 1] [--months 6]
      Log every user in (users file: "userId line ..." per line), then
      N bill inquiries over keep-alive connections from T threads: the line
      drawn by Zipf(s) over the lines in an order shuffled with the seed,
      the month by Zipf(s) over the last M months (newest most often).
      Reads the simulator's bill.inquiry call counter before and after and
      prints the counts, KOS calls per 100 inquiries, the cache hit ratio,
      req/s and latency percentiles.

Logins are rate-limited per client address; the bench stack trusts
X-Forwarded-For from 127.0.0.1, so every user logs in from its own address
(10.251.x.y).  Nothing here is pass/fail.
"""
import argparse
import http.client
import itertools
import json
import random
import sys
import threading
import time
import urllib.parse



def conn_for(url, timeout=30):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http":
        sys.exit(f"zipf.py: plain http only: {url}")
    return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)


def call(url, method, path, body=None, headers=None, timeout=30):
    c = conn_for(url, timeout)
    try:
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return r.status, dict(r.getheaders()), doc
    finally:
        c.close()


def sim_calls(kos, op="bill.inquiry"):
    st, _, doc = call(kos, "GET", "/_sim/stats")
    if st != 200:
        sys.exit(f"zipf.py: GET /_sim/stats answered {st}")
    return int(doc["data"]["operations"][op]["calls"])


def login(base, user, password, xff):
    for _ in range(5):
        st, hdr, doc = call(base, "POST", "/api/v1/auth/login",
                            {"userId": user, "password": password},
                            {"X-Forwarded-For": xff})
        if st == 200:
            return doc["data"]["accessToken"]
        if st == 429:
            time.sleep(min(int(hdr.get("Retry-After", "1") or 1), 60))
            continue
        break
    err = (doc or {}).get("error", {}) if isinstance(doc, dict) else {}
    sys.exit(f"zipf.py: login {user} answered {st} {err.get('code', '')}")


def cmd_lines(a):
    st, _, doc = call(a.kos, "GET", "/_sim/lines")
    if st != 200:
        sys.exit(f"zipf.py: GET /_sim/lines answered {st}")
    for ln in doc["data"]["lines"]:
        digits, status = ln["lineNumber"], ln["lineStatus"]
        if status == "TERMINATED":
            print(f"# skipped {digits}: TERMINATED")
            continue
        st, _, m = call(a.kos, "GET", f"/api/v1/kos/bill/available-months/{digits}")
        code = (m or {}).get("resultCode")
        n = len(((m or {}).get("data") or {}).get("availableMonths") or [])
        if st != 200 or code != "0000" or n == 0:
            print(f"# skipped {digits}: no bill month (KOS {st} {code})")
            continue
        print(f"{digits} {ln['customerId']} {status} {n}")


def cmd_token(a):
    password = sys.stdin.readline().strip()
    print(login(a.base, a.user, password, a.xff))


def sim_current_month(kos, digits):
    """(year, month) the simulator calls current: the stack's clock, which a
    test may have moved, not the host's."""
    st, _, m = call(kos, "GET", f"/api/v1/kos/bill/available-months/{digits}")
    cur = m["data"]["currentMonth"]
    return int(cur[:4]), int(cur[4:6])


def last_months(n, current):
    """current (year, month) and the n-1 months before it, newest first, YYYY-MM."""
    y, m = current
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out


def zipf_cum(n, s):
    w = [1.0 / (k ** s) for k in range(1, n + 1)]
    return list(itertools.accumulate(w))


def pct(sorted_ms, p):
    """Nearest-rank percentile of a sorted list."""
    if not sorted_ms:
        return float("nan")
    k = max(0, min(len(sorted_ms) - 1, int(-(-p * len(sorted_ms) // 100)) - 1))
    return sorted_ms[k]


def cmd_run(a):
    users = []
    with open(a.users) as f:
        for raw in f:
            parts = raw.split()
            if parts and not parts[0].startswith("#"):
                users.append((parts[0], parts[1]))
    if not users:
        sys.exit("zipf.py: no users")
    with open(a.password_file) as f:
        password = f.readline().strip()

    t0 = time.monotonic()
    tokens = {}
    for i, (uid, line) in enumerate(users):
        tokens[line] = login(a.base, uid, password, f"10.251.{i // 250}.{i % 250 + 1}")
    print(f"logged in {len(tokens)} users in {time.monotonic() - t0:.1f} s")

    rng = random.Random(a.seed)
    lines = [line for _, line in users]
    rng.shuffle(lines)                       # rank order: fixed by the seed
    months = last_months(a.months, sim_current_month(a.kos, lines[0].replace("-", "")))
    lcum, mcum = zipf_cum(len(lines), a.s), zipf_cum(len(months), a.s)
    li = rng.choices(range(len(lines)), cum_weights=lcum, k=a.requests)
    mi = rng.choices(range(len(months)), cum_weights=mcum, k=a.requests)
    plan = [(lines[x], months[y]) for x, y in zip(li, mi)]
    keys = set(plan)
    top = sum(1 for x in li if x == 0)

    u = urllib.parse.urlsplit(a.base)
    results = [None] * len(plan)
    nxt = itertools.count()  # next() on itertools.count is atomic in CPython

    def worker():
        c = None
        while True:
            i = next(nxt)
            if i >= len(plan):
                break
            line, month = plan[i]
            body = json.dumps({"lineNumber": line, "inquiryMonth": month}).encode()
            hdr = {"Authorization": "Bearer " + tokens[line],
                   "Content-Type": "application/json"}
            start = time.perf_counter()
            try:
                if c is None:
                    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                c.request("POST", "/api/v1/bills/inquiry", body=body, headers=hdr)
                r = c.getresponse()
                r.read()
                st = r.status
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = None
            except (OSError, http.client.HTTPException):
                st = 0
                if c is not None:
                    c.close()
                c = None
            results[i] = (st, (time.perf_counter() - start) * 1000.0)
        if c is not None:
            c.close()

    calls0 = sim_calls(a.kos)
    start = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - start
    calls1 = sim_calls(a.kos)

    n = len(results)
    ok = sum(1 for st, _ in results if st == 200)
    nf = sum(1 for st, _ in results if st == 404)
    other = n - ok - nf
    others = {}
    for st, _ in results:
        if st not in (200, 404):
            others[st] = others.get(st, 0) + 1
    kos = calls1 - calls0
    lat = sorted(ms for _, ms in results)
    print(f"workload: {n} inquiries, {a.threads} threads (keep-alive), "
          f"{len(lines)} lines x {len(months)} months ({months[-1]}..{months[0]}), "
          f"Zipf s={a.s}, seed {a.seed}")
    print(f"  distinct (line, month) keys drawn: {len(keys)} of "
          f"{len(lines) * len(months)}; most popular line "
          f"{lines[0]}: {100.0 * top / n:.1f} % of inquiries")
    print()
    w = 44
    print(f"{'inquiries':<{w}} {n}")
    print(f"{'200 / 404 / other':<{w}} {ok} / {nf} / {other}"
          + (f"   (other: {', '.join(f'{k}:{v}' for k, v in sorted(others.items()))})" if others else ""))
    print(f"{'KOS bill.inquiry calls (simulator counter)':<{w}} {kos}"
          f"   (one per distinct key would be {len(keys)})")
    print(f"{'KOS calls per 100 inquiries':<{w}} {100.0 * kos / n:.2f}")
    print(f"{'cache hit ratio (1 - KOS calls/inquiries)':<{w}} {100.0 * (1 - kos / n):.1f} %")
    print(f"{'req/s':<{w}} {n / wall:.1f}   ({wall:.2f} s)")
    print(f"{'latency p50 / p90 / p99 / max (ms)':<{w}} "
          f"{pct(lat, 50):.2f} / {pct(lat, 90):.2f} / {pct(lat, 99):.2f} / {lat[-1]:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("lines")
    s.add_argument("--kos", required=True)
    s = sub.add_parser("token")
    s.add_argument("--base", required=True)
    s.add_argument("--user", required=True)
    s.add_argument("--xff", required=True)
    s = sub.add_parser("run")
    s.add_argument("--base", required=True)
    s.add_argument("--kos", required=True)
    s.add_argument("--users", required=True)
    s.add_argument("--password-file", required=True)
    s.add_argument("--requests", type=int, default=3000)
    s.add_argument("--threads", type=int, default=16)
    s.add_argument("--s", type=float, default=1.1)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--months", type=int, default=6)
    a = p.parse_args()
    if a.cmd == "run" and (a.requests < 1 or a.threads < 1 or a.months < 1):
        p.error("--requests, --threads and --months must be positive")
    {"lines": cmd_lines, "token": cmd_token, "run": cmd_run}[a.cmd](a)


if __name__ == "__main__":
    main()
