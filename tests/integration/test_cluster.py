"""Several web nodes on shared Redis (Sentinel) and MariaDB (Galera): the
drills of issue 13, through haproxy, against the cluster script/cluster
starts (script/test's `cluster` part).

Each drill puts a bounded load of bill inquiries through haproxy (one
valid token), breaks something, waits until the cluster serves again by
itself, stops the load and checks with test_pipeline.verify that every
inquiry answered 200 has its history rows and its MVNO delivery.  It
counts 401s (must be 0: the token stays valid) and reports the 503s and
the seconds between the first and the last non-200 answer (reported, not
asserted: no timing assertions).  The broken part is then restored for
the next drill.  Then the cross-node checks: lockout, single-flight, one
order for one Idempotency-Key.

Needs PHONEBILL_TEST_CLUSTER_CTL (script/cluster) and
PHONEBILL_TEST_CLUSTER_NODES (the two nodes' plain HTTP base URLs).
"""
import concurrent.futures
import http.client
import json
import os
import shlex
import subprocess
import threading
import time
import urllib.parse

import test_auth as auth
import test_bill as bill
import test_pipeline as pipe
import test_product as prod
import test_kos_sim as sim
from helpers import eq
from run import Skip

ORDER = 10
CTL = os.environ.get("PHONEBILL_TEST_CLUSTER_CTL", "")
NODES = os.environ.get("PHONEBILL_TEST_CLUSTER_NODES", "").split()
REPORT = []


def _need():
    if not CTL or len(NODES) != 2:
        raise Skip("PHONEBILL_TEST_CLUSTER_CTL / _NODES not set (script/test cluster)")


def ctl(*args):
    p = subprocess.run(shlex.split(CTL) + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, "script/cluster %s: %s" % (" ".join(args), out[-800:])
    return out.strip()


def ctl_ok(*args):
    return subprocess.run(shlex.split(CTL) + list(args), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=60).returncode == 0


class Load:
    """Bill inquiries from `threads` keep-alive connections to `url` until
    stopped; every answer's (monotonic time, status, requestId)."""

    def __init__(self, ctx, url, threads=3, pause=0.05):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.tok = bill.token(ctx)
        self.months = [bill.months_back(ctx, m) for m in pipe.MONTHS]
        self.threads, self.pause = threads, pause
        self.results = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ts = []
        self.slowest = 0.0

    def _one(self, k):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        h = {"Authorization": "Bearer " + self.tok, "Content-Type": "application/json"}
        i = k
        while not self.stop.is_set():
            body = json.dumps({"lineNumber": bill.DEMO01_LINE,
                               "inquiryMonth": self.months[i % len(self.months)]})
            i += 1
            st, rid = 0, None
            t0 = time.monotonic()
            try:
                conn.request("POST", "/api/v1/bills/inquiry", body, h)
                r = conn.getresponse()
                data = r.read()
                st = r.status
                if st == 200:
                    rid = json.loads(data)["data"]["requestId"]
                if st != 200:
                    conn.close()
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
            with self.lock:
                self.results.append((time.monotonic(), st, rid))
                self.slowest = max(self.slowest, time.monotonic() - t0)
            time.sleep(self.pause)
        conn.close()

    def start(self):
        self.ts = [threading.Thread(target=self._one, args=(k,)) for k in range(self.threads)]
        for t in self.ts:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.ts:
            t.join(60)
        return self

    def since(self, t0):
        with self.lock:
            return [x for x in self.results if x[0] >= t0]


def _serving(load, t_break, need=10):
    """need consecutive 200s answered after the break."""
    run = 0
    for _, st, _ in load.since(t_break):
        run = run + 1 if st == 200 else 0
    return run >= need


def drill(ctx, name, brk, restore, settle=2.0, timeout=90):
    _need()
    # the starting point: a Redis replica in sync (what a failover needs)
    ctx.wait_for("%s: Redis replica in sync" % name, lambda: ctl_ok("redis-in-sync"),
                 timeout=60)
    load = Load(ctx, ctx.http_url or ctx.base_url).start()
    broken = False
    try:
        time.sleep(settle)
        t_break = time.monotonic()
        broken = True
        what = brk()
        ctx.wait_for("%s: served again without a manual step" % name,
                     lambda: _serving(load, t_break), timeout=timeout)
        time.sleep(1.0)
    finally:
        load.finish()
        if broken and restore:
            restore()
    res = load.results
    codes = {}
    for _, st, _ in res:
        codes[st] = codes.get(st, 0) + 1
    bad = [t for t, st, _ in res if st != 200]
    window = (max(bad) - min(bad)) if bad else 0.0
    rids = [rid for _, st, rid in res if st == 200]
    # per-line order is one worker's promise (two nodes, two workers here)
    n = pipe.verify(ctx, rids, name, timeout=120, order=False)
    line = ("%s (%s): %d requests, %d answered 200, all %d recorded and delivered "
            "(lost 0); 401: %d; 503: %d; other non-200: %d; non-200 window %.1f s; "
            "slowest answer %.1f s"
            % (name, what, len(res), len(rids), n, codes.get(401, 0), codes.get(503, 0),
               len(bad) - codes.get(401, 0) - codes.get(503, 0), window, load.slowest))
    print("# " + line)
    REPORT.append(line)
    eq(codes.get(401, 0), 0, "%s: 401 on a valid token" % name)
    if restore:
        ctx.wait_for("%s: restored" % name,
                     lambda: ctx.get("/api/v1/auth/health").status == 200, timeout=120)


# --- the drills ------------------------------------------------------------------
def test_redis_sentinel_failover(ctx):
    drill(ctx, "redis SENTINEL FAILOVER",
          lambda: (ctl("redis-failover"), "manual failover")[1], None)


def test_redis_kill_primary(ctx):
    drill(ctx, "redis kill -9 primary", lambda: ctl("redis-kill-master"),
          lambda: ctl("redis-start"))


def test_galera_kill_writer(ctx):
    drill(ctx, "galera kill -9 writer", lambda: ctl("galera-kill-writer"),
          lambda: ctl("galera-rejoin"))


def _writer_up(name):
    """haproxy's writer listener has server name UP ("UP 1/2" is going down)."""
    return ctl("haproxy-server", "galera", name) == "UP"


def _writer_down(name):
    return ctl("haproxy-server", "galera", name).startswith("DOWN")


def test_galera_desync_writer(ctx):
    """The writer desynced (wsrep_desync=ON: it still takes logins and
    queries, but is not Synced): galera-check answers 503, haproxy takes
    it out of the writer listener and the services go on on the next
    node.  With haproxy's plain mysql-check it would stay in."""
    _need()
    ctx.wait_for("g1 is haproxy's writer", lambda: _writer_up("g1"), timeout=60)

    def brk():
        ctl("galera-desync", "1")
        ctx.wait_for("haproxy takes the desynced g1 out",
                     lambda: _writer_down("g1"), timeout=30)
        check = ctl("galera-check", "1")
        assert "wsrep_local_state=2" in check and "(503)" in check, check
        assert _writer_up("g2"), "g2 takes the writes"
        return "g1 wsrep_desync=ON: %s; haproxy: g1 %s, g2 UP" % (
            check.split("\n")[0], ctl("haproxy-server", "galera", "g1"))

    def restore():
        ctl("galera-resync", "1")
        ctx.wait_for("g1 back as the writer", lambda: _writer_up("g1"), timeout=60)

    drill(ctx, "galera desync writer", brk, restore)


def test_web_node_kill(ctx):
    drill(ctx, "web node kill -9", lambda: ctl("node-kill", "1"),
          lambda: ctl("node-start", "1"))


def test_worker_kill(ctx):
    drill(ctx, "worker kill -9", lambda: (ctl("worker-kill", "1"), "node1-worker")[1],
          lambda: ctl("worker-start", "1"))


# --- across nodes ----------------------------------------------------------------------
def _node_request(i, method, path, body=None, headers=None):
    u = urllib.parse.urlsplit(NODES[i % 2])
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _stmt_execs(nodes):
    """Prepared statements executed on these Galera nodes (the services'
    queries; replication and galera-check's text queries do not count)."""
    n = 0
    for g in nodes:
        out = ctl("galera-sql", str(g), "--batch", "--skip-column-names", "-e",
                  "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'")
        n += int(out.split()[-1])
    return n


def _histories(tok):
    """Both history listings on both nodes: their totals."""
    h = {"Authorization": "Bearer " + tok}
    out = []
    for i in range(4):
        for path, key in (("/api/v1/bills/history?size=5", "totalItems"),
                          ("/api/v1/products/history?size=5", "totalElements")):
            st, b = _node_request(i, "GET", path, None, h)
            eq(st, 200, "GET %s on node%d: %s" % (path, i % 2 + 1, b[:200]))
            out.append(json.loads(b)["data"]["pagination"][key])
    return out


def _read_servers(state, servers=("g1", "g2", "g3")):
    for s in servers:
        ctl("haproxy-cmd", "set server galera_read/%s state %s" % (s, state))
        if state == "maint":
            ctl("haproxy-cmd", "shutdown sessions server galera_read/%s" % s)


def test_history_read_address(ctx):
    """db.read_host: the history listings read through haproxy's
    galera_read listener (any synced node).  With g1 (the writer) out of
    that listener, listings execute statements on g2/g3, which get no
    other statements; with every server of it in maintenance they answer
    the same pages from the primary address."""
    _need()
    tok = bill.token(ctx)
    ctx.wait_for("g1 is haproxy's writer", lambda: _writer_up("g1"), timeout=60)
    totals = _histories(tok)
    assert totals[0] > 0, "demo01 has bill history from the drills"
    try:
        _read_servers("maint", ("g1",))
        base = _stmt_execs((2, 3))
        # a process whose read connection was on g1 reads from the primary
        # for a few seconds, then connects to the listener again
        ctx.wait_for("listings executed on g2/g3 (the read listener)",
                     lambda: _histories(tok) and _stmt_execs((2, 3)) > base,
                     timeout=40, interval=1.0)
        n = _stmt_execs((2, 3)) - base
        _read_servers("maint")
        eq(_histories(tok), totals, "the same pages from the primary address")
    finally:
        _read_servers("ready")
    REPORT.append("history read address: %d statements on g2/g3 through galera_read; "
                  "with it in maintenance %d listings answered 200 from the primary"
                  % (n, len(totals)))


def test_single_flight_across_nodes(ctx):
    """20 concurrent misses on one bill, split over both nodes: 1 KOS call."""
    _need()
    tok = bill.token(ctx)
    m = bill.months_back(ctx, 5)
    key = "v1:bill:%s:%s" % (bill.DEMO01_DIGITS, m.replace("-", ""))
    ctl("redis-cli", "DEL", key)
    sim.set_fault(operation="bill.inquiry", mode="none", latencyMs=40)
    before = bill.kos_calls()
    body = json.dumps({"lineNumber": bill.DEMO01_LINE, "inquiryMonth": m})
    h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
    try:
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            rs = list(ex.map(lambda i: _node_request(i, "POST", "/api/v1/bills/inquiry",
                                                     body, h), range(20)))
    finally:
        sim.reset_faults()
    eq([st for st, _ in rs], [200] * 20, "all answered")
    calls = bill.kos_calls() - before
    REPORT.append("single-flight across nodes: %d KOS call(s) for 20 misses" % calls)
    eq(calls, 1, "KOS calls for 20 concurrent misses over two nodes")


def test_same_key_both_nodes_one_order(ctx):
    _need()
    sim.reset_faults()
    sim.call("POST", "/_sim/data/reset")
    tok = prod.user_token(ctx)
    key = "cluster-" + auth.RUN
    body = json.dumps(prod.change_body(prod.SEED_PLAN, "LTE-UNLIMITED-001"))
    h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json",
         "Idempotency-Key": key}
    sim.set_fault(operation="product.change", mode="none", latencyMs=300)
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda i: _node_request(i, "POST", "/api/v1/products/change",
                                                     body, h), range(8)))
    finally:
        sim.reset_faults()
    rids = set()
    for st, b in rs:
        assert st in (200, 202), (st, b[:200])
        rids.add(json.loads(b)["data"]["requestId"])
    eq(len(rids), 1, "one request for one key on both nodes")
    n = prod.orders_for(ctx, rids.pop())
    REPORT.append("same Idempotency-Key on both nodes: %d KOS order(s)" % n)
    eq(n, 1, "one order")
    sim.call("POST", "/_sim/data/reset")


def test_zy_lockout_and_rate_limit_across_nodes(ctx):
    """50 parallel wrong passwords, split over both nodes: exactly 5
    counted failures (AUTH_001 x4, AUTH_002 x1); the rest refused, as
    locked (AUTH_003) or by the per-address login rate limit, which both
    nodes share (RATE_LIMITED; all come from 127.0.0.1); the account is
    locked in the shared Redis.  Runs last: it uses up 127.0.0.1's logins."""
    _need()
    u = auth.new_user(ctx, "clock")
    body = json.dumps({"userId": u, "password": "Wrong-Password-1"})
    h = {"Content-Type": "application/json"}
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        rs = list(ex.map(lambda i: _node_request(i, "POST", "/api/v1/auth/login", body, h),
                         range(50)))
    codes = {}
    for st, b in rs:
        try:
            c = json.loads(b)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            c = "HTTP %d" % st
        codes[c] = codes.get(c, 0) + 1
    print("# lockout across nodes: %r" % codes)
    REPORT.append("lockout across nodes: %r" % codes)
    eq((codes.get("AUTH_001", 0), codes.get("AUTH_002", 0)), (4, 1),
       "counted failures (4 + the one that locks)")
    eq(codes.get("AUTH_003", 0) + codes.get("RATE_LIMITED", 0), 45,
       "the rest refused (locked or rate-limited)")
    assert codes.get("RATE_LIMITED", 0) > 0, "the shared login rate limit (20/min) held"
    # the record's key names the user by its keyed hash (lockout.h)
    assert ctl("redis-cli", "HGET", "v1:auth:fail:" + auth.user_key(ctx, u),
               "until").isdigit(), "locked"


def test_zz_report(ctx):
    _need()
    for line in REPORT:
        print("# REPORT " + line)
