"""A bounded mixed load on the bill service while KOS misbehaves (issue 19).

Used by test_bulkhead.py (counts and states) and tests/bench/kos-hang.sh
(the same load, latency percentiles printed).  Standard library only.

The mix, per worker thread, in a fixed rotation:
  cached  POST /bills/inquiry for a closed month whose cache entry is warm
          (never dropped): needs no KOS at all
  health  GET /bills/health
  stale   POST /bills/inquiry for a closed month whose cache entry the
          dropper deletes every DROP_EVERY s (its stale copy stays): needs
          KOS, may answer from the stale copy
  miss    POST /bills/inquiry for the current month, also dropped: needs
          KOS, no stale copy (200 or 503)
Every thread keeps one keep-alive connection on the plain-HTTP port and
stops at its request cap or at the deadline, whichever comes first:
bounded in count and time, loopback only.
"""
import http.client
import json
import threading
import time
import urllib.parse

ROTATION = ("cached", "health", "cached", "stale", "cached", "miss",
            "health", "cached", "stale", "miss")
DROP_EVERY = 0.25       # s between deletions of the "stale" and "miss" keys


class Result:
    __slots__ = ("kind", "status", "ms", "at", "stale", "body")

    def __init__(self, kind, status, ms, at, stale, body):
        self.kind, self.status, self.ms, self.at = kind, status, ms, at
        self.stale, self.body = stale, body


class Load:
    """threads x max_each requests at most, for duration s at most, with
    rate req/s in total at most.  drop(keys) deletes Redis keys."""

    def __init__(self, http_url, token, line, cached_months, stale_month,
                 current_month, drop, threads=8, duration=12.0, max_each=400,
                 rate=150.0):
        u = urllib.parse.urlsplit(http_url)
        self.host, self.port = u.hostname, u.port or 80
        self.token, self.line = token, line
        self.cached = list(cached_months)
        self.stale_month, self.current = stale_month, current_month
        self.drop = drop
        self.threads, self.duration, self.max_each = threads, duration, max_each
        self.gap = threads / rate if rate > 0 else 0.0
        digits = line.replace("-", "")
        self.drop_keys = ["v1:bill:%s:%s" % (digits, m.replace("-", ""))
                          for m in (stale_month, current_month)]
        self.results = []
        self.errors = []
        self.lock = threading.Lock()
        self.t0 = 0.0
        self.stop = threading.Event()

    # --- one request ---------------------------------------------------------
    def _send(self, conn, kind, n):
        if kind == "health":
            conn.request("GET", "/api/v1/bills/health")
        else:
            month = {"cached": self.cached[n % len(self.cached)],
                     "stale": self.stale_month, "miss": self.current}[kind]
            body = json.dumps({"lineNumber": self.line, "inquiryMonth": month})
            conn.request("POST", "/api/v1/bills/inquiry", body=body, headers={
                "Authorization": "Bearer " + self.token,
                "Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()

    def _worker(self, idx):
        conn = None
        deadline = self.t0 + self.duration
        for n in range(self.max_each):
            start = time.monotonic()
            if start >= deadline or self.stop.is_set():
                break
            kind = ROTATION[(n + idx) % len(ROTATION)]
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port,
                                                      timeout=30)
                status, body = self._send(conn, kind, n)
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.errors.append((kind, repr(e)))
                if conn is not None:
                    conn.close()
                conn = None
                continue
            end = time.monotonic()
            stale = None
            keep = None
            try:
                d = json.loads(body)
                if kind != "health" and status == 200:
                    stale = d["data"]["stale"]
                elif kind == "health":
                    keep = d.get("data", d.get("error", {}).get("details"))
            except (ValueError, KeyError, TypeError):
                pass
            with self.lock:
                self.results.append(Result(kind, status, (end - start) * 1000.0,
                                           start - self.t0, stale, keep))
            if self.gap > 0:
                left = start + self.gap - time.monotonic()
                if left > 0:
                    time.sleep(left)
        if conn is not None:
            conn.close()

    def _dropper(self):
        while not self.stop.wait(DROP_EVERY):
            try:
                self.drop(self.drop_keys)
            except Exception as e:  # the load goes on; the test sees it
                with self.lock:
                    self.errors.append(("drop", repr(e)))

    def run(self, at_start=None):
        """Run the load; at_start() (e.g. switch a fault on) is called once
        the threads are going.  Returns self."""
        self.t0 = time.monotonic()
        ws = [threading.Thread(target=self._worker, args=(i,), daemon=True)
              for i in range(self.threads)]
        dr = threading.Thread(target=self._dropper, daemon=True)
        for w in ws:
            w.start()
        dr.start()
        if at_start is not None:
            at_start()
        for w in ws:
            w.join(self.duration + 60)
        self.stop.set()
        dr.join(10)
        return self

    # --- summaries -------------------------------------------------------------
    def of(self, kind):
        return [r for r in self.results if r.kind == kind]

    @staticmethod
    def pct(values, p):
        if not values:
            return float("nan")
        v = sorted(values)
        i = min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))
        return v[i]

    def first_open_at(self):
        """Seconds from the start to the first health answer showing the
        bill breaker not CLOSED, or None."""
        for r in sorted(self.of("health"), key=lambda r: r.at):
            try:
                st = r.body["kos"]["breakers"]["kos.bill"]["state"]
            except (KeyError, TypeError):
                continue
            if st != "CLOSED":
                return r.at
        return None

    def summary(self):
        lines = []
        for kind in ("cached", "health", "stale", "miss"):
            rs = self.of(kind)
            ms = [r.ms for r in rs]
            codes = {}
            for r in rs:
                codes[r.status] = codes.get(r.status, 0) + 1
            lines.append("%-6s n=%-5d p50=%8.1f ms p99=%8.1f ms max=%8.1f ms  %s"
                         % (kind, len(rs), self.pct(ms, 50), self.pct(ms, 99),
                            max(ms) if ms else float("nan"),
                            " ".join("%s:%d" % kv for kv in sorted(codes.items()))))
        lines.append("errors=%d breaker first not CLOSED at %s s" % (
            len(self.errors), "%.1f" % self.first_open_at()
            if self.first_open_at() is not None else "never"))
        return "\n".join(lines)
