"""History and MVNO deliveries that survive anything (issue 12).

Every drill puts a bounded load of bill inquiries through the web server
while something fails -- a bill process, the worker, Redis, MariaDB -- and
then checks, for every inquiry answered 200: its request row, its process
row, its MVNO delivery acknowledged (our books) and stored once by the
receiver (the KOS simulator's MVNO AP; re-deliveries it de-duplicated are
counted and printed, not failed).  An answer that is not 200 is allowed
while a dependency is away; a 200 without its history is not.

Needs PHONEBILL_TEST_STACK_CTL (stackctl) and runs before test_outage.
"""
import contextlib
import http.client
import json
import os
import secrets
import socket
import struct
import subprocess
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

import helpers
import test_auth as auth
import test_bill as bill
import test_kos_sim as sim
from helpers import eq
from run import Skip

ORDER = 85
MONTHS = (1, 2, 3)


def _tok(ctx):
    return bill.token(ctx)


class Load:
    """n inquiries from `threads` keep-alive connections (plain HTTP)."""

    def __init__(self, ctx, n, threads=4, pause=0.0):
        if not ctx.http_url:
            raise Skip("no plain HTTP URL")
        u = urllib.parse.urlsplit(ctx.http_url)
        self.host, self.port = u.hostname, u.port
        self.tok = _tok(ctx)
        self.months = [bill.months_back(ctx, m) for m in MONTHS]
        self.n, self.threads, self.pause = n, threads, pause
        self.results = []
        self.lock = threading.Lock()
        self.ts = []

    def _one(self, k):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
        h = {"Authorization": "Bearer " + self.tok, "Content-Type": "application/json"}
        for i in range(k, self.n, self.threads):
            body = json.dumps({"lineNumber": bill.DEMO01_LINE,
                               "inquiryMonth": self.months[i % len(self.months)]})
            st, rid = 0, None
            try:
                conn.request("POST", "/api/v1/bills/inquiry", body, h)
                r = conn.getresponse()
                data = r.read()
                st = r.status
                if st == 200:
                    rid = json.loads(data)["data"]["requestId"]
                if st != 200 and r.getheader("Connection", "") == "close":
                    conn.close()
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
            with self.lock:
                self.results.append((st, rid))
            if self.pause:
                time.sleep(self.pause)
        conn.close()

    def start(self):
        self.ts = [threading.Thread(target=self._one, args=(k,)) for k in range(self.threads)]
        for t in self.ts:
            t.start()
        return self

    def done(self):
        return all(not t.is_alive() for t in self.ts)

    def join(self):
        for t in self.ts:
            t.join(120)
        return self

    def ok(self):
        return [rid for st, rid in self.results if st == 200]

    def codes(self):
        c = {}
        for st, _ in self.results:
            c[st] = c.get(st, 0) + 1
        return c


def _sql(ctx, q):
    return bill.sql(ctx, q)


def _in(rids):
    return ",".join("'%s'" % r for r in rids)


def _count(ctx, q):
    return int(_sql(ctx, q)[0][0])


def verify(ctx, rids, what, timeout=60, order=True):
    """Every rid: request row, process row, delivered, stored by the receiver;
    with order, each line's results in order at the receiver (one worker:
    with workers on several nodes two may carry one line's results at once,
    and Galera's interleaved ids are no order of events; DESIGN.md)."""
    assert rids, "%s: no inquiry answered 200" % what
    rids = sorted(set(rids))
    n = len(rids)
    ids = _in(rids)

    def complete():
        a = _count(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history "
                   "WHERE request_id IN (%s) AND mvno_delivered_at IS NOT NULL" % ids)
        return a == n
    try:
        ctx.wait_for("%s: %d answers recorded and delivered" % (what, n), complete,
                     timeout=timeout)
    except AssertionError:
        req = _count(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history "
                     "WHERE request_id IN (%s)" % ids)
        dl = _count(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history "
                    "WHERE request_id IN (%s) AND mvno_delivered_at IS NOT NULL" % ids)
        raise AssertionError("%s: of %d answered 200, %d recorded, %d delivered; "
                             "health %r" % (what, n, req, dl, bill.health(ctx).get("history")))
    proc = _count(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_process_history "
                  "WHERE request_id IN (%s)" % ids)
    eq(proc, n, "%s: process rows" % what)
    dup_rows = _count(ctx, "SELECT COUNT(*) FROM (SELECT request_id FROM "
                      "phonebill_bill.bill_request_history WHERE request_id IN (%s) "
                      "GROUP BY request_id HAVING COUNT(*) > 1) d" % ids)
    eq(dup_rows, 0, "%s: request rows written twice" % what)
    acked = _count(ctx, "SELECT COUNT(DISTINCT request_id) FROM "
                   "phonebill_bill.mvno_delivery_attempts WHERE request_id IN (%s) "
                   "AND outcome = 'ACKNOWLEDGED'" % ids)
    eq(acked, n, "%s: acknowledged deliveries" % what)
    rows = _sql(ctx, "SELECT COUNT(*), COALESCE(SUM(delivery_count - 1), 0) FROM "
                "kos_sim.mvno_deliveries WHERE request_id IN (%s)" % ids)
    eq(int(rows[0][0]), n, "%s: results stored by the MVNO AP" % what)
    if order:
        in_order(ctx, ids, what)
    print("# %s: %d answered 200, %d recorded, %d delivered, %s re-deliveries "
          "de-duplicated by the receiver" % (what, n, n, n, rows[0][1]))
    return n


def in_order(ctx, ids, what):
    """Each line's results reached the MVNO AP in the order they happened:
    the receiver's first receipts (its row ids) in the order of our
    history rows (the worker writes them in the stream's order, which is
    the order of the answers)."""
    ours = [r[0] for r in _sql(
        ctx, "SELECT request_id FROM phonebill_bill.bill_request_history "
        "WHERE request_id IN (%s) ORDER BY line_number_bidx, id" % ids)]
    lines = {r[0]: r[1] for r in _sql(
        ctx, "SELECT request_id, HEX(line_number_bidx) FROM "
        "phonebill_bill.bill_request_history WHERE request_id IN (%s)" % ids)}
    theirs = [r[0] for r in _sql(
        ctx, "SELECT request_id FROM kos_sim.mvno_deliveries WHERE request_id IN (%s) "
        "ORDER BY id" % ids)]
    theirs.sort(key=lambda rid: lines[rid])  # stable: per line, as received
    if ours != theirs:
        bad = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
        raise AssertionError("%s: a line's results reached the MVNO AP out of order "
                             "(first difference at %d of %d: expected %s, got %s)"
                             % (what, bad, len(ours), ours[bad], theirs[bad]))


def _bill_pids(ctx):
    pids = []
    for p in ctx.stack("fcgi-pids").split():
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(b"PHONEBILL_CONFIG=") and e.endswith(b"/bill.conf") for e in env):
            pids.append(int(p))
    return pids


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def _kill_bill(ctx):
    """kill -9 of every bill process that serves requests.  Under lighttpd
    these are the children of the one process lighttpd spawned
    (lib/web/prefork.c), which starts new ones; that parent and the health
    pool are left alone."""
    # with a prefork pool only its children (health keeps its own pool,
    # and the parent that lighttpd spawned stays); otherwise (Apache)
    # every bill process.  Right after a kill the parent may not have
    # forked its new children yet: wait for them rather than kill the
    # parent and the health pool too.
    def children():
        pids = _bill_pids(ctx)
        return pids, [p for p in pids if _ppid(p) in pids]
    pids, kids = children()
    if ctx.name == "lighttpd" and not kids:
        ctx.wait_for("the prefork children", lambda: children()[1], timeout=20)
        pids, kids = children()
    n = 0
    for p in kids or pids:
        try:
            os.kill(p, 9)
            n += 1
        except OSError:
            pass
    return n


def _bill_up(ctx):
    """The bill service's request pool answers (a killed process is
    respawned by the web server, which answers 503 itself until then;
    health has a pool of its own, so it is no proof)."""
    tok = _tok(ctx)

    def up():
        r = bill.call(ctx, "GET", "/inquiry/REQ_20000101_000000000000", tok)
        return r.status == 404
    ctx.wait_for("the bill service answers", up, timeout=60)


def _warm(ctx):
    _bill_up(ctx)
    bill.ensure_closed(ctx)
    for m in MONTHS:
        eq(bill.inquiry(ctx, bill.months_back(ctx, m)).status, 200, "warm-up inquiry")


def _worker_up(ctx):
    ctx.stack("worker-start")


# --- the drills --------------------------------------------------------------

def test_health_shows_the_backlog(ctx):
    _worker_up(ctx)
    h = ctx.wait_for("history state on health",
                     lambda: bill.health(ctx).get("history", {}).get("workers", 0) >= 1 and
                     bill.health(ctx)["history"], timeout=15)
    for k in ("backlog", "pending", "oldestMs", "dead", "workers", "spooled",
              "outbox", "outboxDead", "deliveryLagMs"):
        assert k in h, "history.%s missing: %r" % (k, h)
    eq(h["state"], "UP", "history state")


def test_kill9_bill_processes_under_load(ctx):
    _warm(ctx)
    load = Load(ctx, 400, threads=4, pause=0.01).start()
    kills = 0
    for _ in range(4):
        time.sleep(0.4)
        kills += _kill_bill(ctx)
    load.join()
    _bill_up(ctx)
    assert kills > 0, "no bill process was killed"
    print("# kill -9 of %d bill processes; answers %r" % (kills, load.codes()))
    verify(ctx, load.ok(), "kill -9 of bill processes")


def test_one_inquiry_then_kill9(ctx):
    _warm(ctx)
    rids = []
    for i in range(8):
        r = bill.inquiry(ctx, bill.months_back(ctx, 1 + i % 3))
        eq(r.status, 200, "inquiry %d" % i)
        rids.append(r.json()["data"]["requestId"])
        _kill_bill(ctx)
        # the web server starts a new process for the next request
        _bill_up(ctx)
    verify(ctx, rids, "one inquiry then kill -9, 8 times")


def test_worker_kill9_during_batch(ctx):
    _warm(ctx)
    ctx.stack("worker-stop")
    try:
        load = Load(ctx, 300, threads=4).start().join()
        eq(load.codes().get(200, 0), 300, "answers while the worker is stopped")
        ctx.stack("worker-start")
        time.sleep(0.15)
        ctx.stack("worker-kill")
    finally:
        _worker_up(ctx)
    verify(ctx, load.ok(), "kill -9 of the worker during a batch")


def test_mvno_outage_keeps_a_lines_order(ctx):
    """The MVNO AP refuses for about 4 s while one line's inquiries are
    answered: the first results fail again and again (their retries back
    off further each time), later ones fail fewer times.  When the AP is
    back every result arrives once, and in the order the answers were
    given, whatever each one's retry time."""
    _warm(ctx)
    before = _count(ctx, "SELECT COALESCE(MAX(id), 0) FROM "
                    "phonebill_bill.mvno_delivery_attempts")
    sim.set_fault(operation="mvno", mode="http503")
    try:
        load = Load(ctx, 40, threads=1, pause=0.1).start().join()
    finally:
        sim.reset_faults()
    eq(load.codes().get(200, 0), 40, "answers while the MVNO AP refuses")
    # the line's first refused result may be a warm-up's: every later one
    # then waits behind it without being tried
    failed = _count(ctx, "SELECT COUNT(*) FROM phonebill_bill.mvno_delivery_attempts "
                    "WHERE id > %d AND outcome = 'FAILED'" % before)
    assert failed >= 2, "the MVNO AP refused %d deliveries, not a retry" % failed
    verify(ctx, load.ok(), "MVNO AP refusing for 4 s", timeout=90)


@contextlib.contextmanager
def _holding(ctx, q):
    """An admin session that ran q in an open transaction: its locks are
    held inside the with block and rolled back when it ends."""
    p = subprocess.Popen(helpers.admin_client(auth._state(ctx)) + ["-n"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(("START TRANSACTION; %s; SELECT 'held';\n" % q).encode())
        p.stdin.flush()
        line = p.stdout.readline()
        if line.strip() != b"held":
            raise AssertionError("the blocking statement did not run: %r %r"
                                 % (line, p.stderr.read()))
        yield
        p.stdin.write(b"ROLLBACK;\n")
        p.stdin.close()
        p.wait(20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def _booking_waits(ctx, what):
    """The worker's attempt-row INSERT waiting on a lock: its connection id."""
    return ctx.wait_for(what, lambda: _sql(
        ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE "
        "'INSERT INTO mvno_delivery_attempts%'"), timeout=20, interval=0.05)[0][0]


def _first_refused(ctx):
    """One inquiry answered while the MVNO AP refuses (the caller sets the
    fault), once its first attempt is booked as refused: its request id."""
    _warm(ctx)
    # the warm-up's results written (the stream empty), then delivered:
    # one refused before ours would hold the line, and ours behind it
    ctx.wait_for("the warm-up delivered", lambda: bill.health(ctx)["history"]
                 ["backlog"] == 0 and _count(
                     ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history "
                     "WHERE mvno_next_at IS NOT NULL") == 0, timeout=60)
    sim.set_fault(operation="mvno", mode="http503")
    load = Load(ctx, 1, threads=1).start().join()
    rid = load.ok()[0]
    ctx.wait_for("the first attempt refused", lambda: _count(
        ctx, "SELECT COUNT(*) FROM phonebill_bill.mvno_delivery_attempts "
        "WHERE request_id = '%s' AND attempt = 1 AND outcome = 'FAILED'" % rid) == 1,
        timeout=20, interval=0.05)
    return rid


def _attempt_lock(ctx, rid, attempt):
    """Hold the attempt row (rid, attempt): the worker's booking of it waits."""
    return _holding(ctx, "INSERT INTO phonebill_bill.mvno_delivery_attempts "
                    "(request_id, attempt, http_status, elapsed_ms, outcome, "
                    "error) VALUES ('%s', %d, 0, 0, 'FAILED', 'test lock')"
                    % (rid, attempt))


def test_retry_booked_again_under_its_own_number(ctx):
    """A retry (attempt 2) acknowledged by the MVNO AP whose bookkeeping
    MariaDB refused (here: its statement interrupted while it waits on a
    lock; in the Galera drill: the writer killed under it) is booked again
    later under its own number.  Booked again as attempt 1 it met the
    refused first attempt's row, was ignored, and the delivery was marked
    delivered with no acknowledged attempt in the books."""
    try:
        rid = _first_refused(ctx)
        # the retry comes 0.8-1.2 s later: its attempt row will wait on ours
        with _attempt_lock(ctx, rid, 2):
            sim.reset_faults()
            waiting = _booking_waits(ctx, "the retry's bookkeeping waits on the lock")
            eq(len(sim.deliveries(rid)), 1, "the retry reached the MVNO AP")
            _sql(ctx, "KILL QUERY %s" % waiting)
    finally:
        sim.reset_faults()
    verify(ctx, [rid], "a retry whose bookkeeping was refused once")
    rows = _sql(ctx, "SELECT attempt, outcome FROM phonebill_bill.mvno_delivery_attempts "
                "WHERE request_id = '%s' ORDER BY attempt" % rid)
    eq([tuple(r) for r in rows], [("1", "FAILED"), ("2", "ACKNOWLEDGED")],
       "the attempts in the books")


def test_late_refusal_does_not_reopen_a_delivered_row(ctx):
    """A refused retry whose bookkeeping MariaDB did not take at first is
    booked later; by then the row may have been delivered (its lease
    ended and the outbox sent it; here it is marked so by hand while the
    booking waits).  The late booking adds its attempt row but does not
    put the delivered row back in the outbox, where it would wait for
    ever with no payload."""
    try:
        rid = _first_refused(ctx)
        with _attempt_lock(ctx, rid, 2):
            waiting = _booking_waits(ctx, "the refused retry's bookkeeping waits on the lock")
            _sql(ctx, "KILL QUERY %s" % waiting)
            # booked again at once, it waits on the lock again until released
            _sql(ctx, "UPDATE phonebill_bill.bill_request_history SET mvno_delivered_at = "
                 "UTC_TIMESTAMP(3), mvno_next_at = NULL WHERE request_id = '%s'" % rid)
        ctx.wait_for("the late booking committed", lambda: _count(
            ctx, "SELECT COUNT(*) FROM phonebill_bill.mvno_delivery_attempts "
            "WHERE request_id = '%s' AND attempt = 2 AND outcome = 'FAILED' "
            "AND error <> 'test lock'" % rid) == 1, timeout=20, interval=0.05)
    finally:
        sim.reset_faults()
    eq(_count(ctx, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history WHERE "
              "request_id = '%s' AND mvno_next_at IS NULL AND mvno_dead_at IS NULL"
              % rid), 1, "the delivered row stays out of the outbox")


def test_worker_stopped_30s_then_drained(ctx):
    _warm(ctx)
    ctx.stack("worker-stop")
    try:
        load = Load(ctx, 600, threads=2, pause=0.09).start()
        t0 = time.monotonic()
        # the worker's last report lapses after 15 s: health says so
        ctx.wait_for("health reports no worker", lambda: bill.health(ctx)
                     .get("history", {}).get("state") == "NO_WORKER", timeout=25)
        h = bill.health(ctx)["history"]
        assert h["backlog"] > 0 and h["oldestMs"] > 0, h
        load.join()
        time.sleep(max(0.0, 30 - (time.monotonic() - t0)))
    finally:
        _worker_up(ctx)
    t1 = time.monotonic()
    verify(ctx, load.ok(), "worker stopped 30 s")
    print("# backlog of %d drained in %.1f s" % (len(load.ok()), time.monotonic() - t1))
    ctx.wait_for("backlog empty", lambda: bill.health(ctx)["history"]["backlog"] == 0,
                 timeout=20)


def test_redis_restart_under_load(ctx):
    _warm(ctx)
    load = Load(ctx, 400, threads=4, pause=0.01).start()
    time.sleep(0.5)
    ctx.stack("redis-stop")
    time.sleep(1.0)
    ctx.stack("redis-start")
    load.join()
    codes = load.codes()
    print("# Redis restart under load: answers %r" % codes)
    assert codes.get(200, 0) > 0, codes
    assert all(c in (200, 503) for c in codes), "only 200 or 503: %r" % codes
    verify(ctx, load.ok(), "Redis restart")


def test_mariadb_read_only_3s(ctx):
    _warm(ctx)
    st = auth._state(ctx)
    dead_before = bill.health(ctx)["history"]["dead"]
    load = Load(ctx, 300, threads=4, pause=0.01).start()
    time.sleep(0.3)
    helpers.admin_sql(st, "SET GLOBAL read_only = ON")
    try:
        time.sleep(3)
    finally:
        helpers.admin_sql(st, "SET GLOBAL read_only = OFF")
    load.join()
    eq(load.codes().get(200, 0), 300, "every inquiry answered while MariaDB is read-only")
    verify(ctx, load.ok(), "MariaDB read-only for 3 s")
    h = bill.health(ctx)["history"]
    eq(h["dead"], dead_before, "nothing set aside as a bad record")


def test_redis_full_is_503_not_silent_200(ctx):
    _warm(ctx)
    used = auth.redis_cli(ctx, "INFO", "memory")
    mem = [ln for ln in used.splitlines() if ln.startswith("used_memory:")][0]
    cur = int(mem.split(":")[1])
    old = auth.redis_cli(ctx, "CONFIG", "GET", "maxmemory").split()[-1]
    auth.redis_cli(ctx, "CONFIG", "SET", "maxmemory", str(cur // 2))
    try:
        r = bill.inquiry(ctx, bill.months_back(ctx, 1))
        eq(r.status, 503, "an answer whose history cannot be kept")
        assert r.header("Retry-After"), "Retry-After on the 503"
    finally:
        auth.redis_cli(ctx, "CONFIG", "SET", "maxmemory", old)
    r = bill.inquiry(ctx, bill.months_back(ctx, 1))
    eq(r.status, 200, "answers again once Redis takes writes")
    verify(ctx, [r.json()["data"]["requestId"]], "after Redis was full")


def test_login_history_through_the_worker(ctx):
    u = auth.new_user(ctx, "pipe", perms=("BILL_INQUIRY",))
    r = auth.login(ctx, u, auth.PASSWORD)
    eq(r.status, 200, "login")
    r = auth.login(ctx, u, "wrong-" + auth.PASSWORD)
    eq(r.status, 401, "wrong password")
    ctx.wait_for("both attempts in login_history", lambda: _count(
        ctx, "SELECT COUNT(*) FROM phonebill_auth.login_history WHERE user_id = '%s'"
        % u) == 2, timeout=15)
    rows = _sql(ctx, "SELECT result, event_id IS NOT NULL FROM phonebill_auth.login_history "
                "WHERE user_id = '%s' ORDER BY id" % u)
    eq([(a, b) for a, b in rows], [("SUCCESS", "1"), ("FAILURE", "1")], "rows")


def test_dead_letter_listed_and_requeued(ctx):
    """An entry the worker cannot open is set aside, listed by the admin CLI."""
    auth.redis_cli(ctx, "XADD", "v1:history", "*", "k", "bill.inquiry", "v", "1",
                   "d", "not-sealed")
    ctx.wait_for("set aside", lambda: bill.health(ctx)["history"]["dead"] >= 1,
                 timeout=15)
    rc, out = auth.admin(ctx, ["dead-letters", "list"], "")
    eq(rc, 0, "phonebill-admin dead-letters list: %s" % out)
    assert "cannot_open" in out, out
    rc, out = auth.admin(ctx, ["dead-letters", "purge"], "")
    eq(rc, 0, "phonebill-admin dead-letters purge: %s" % out)
    eq(bill.health(ctx)["history"]["dead"], 0, "dead letters after purge")


# --- records in the previous version's stream format ------------------------

def _hchacha20(key, n16):
    """HChaCha20 (the XChaCha20 subkey), as libsodium computes it."""
    m = 0xFFFFFFFF

    def rotl(v, c):
        return ((v << c) & m) | (v >> (32 - c))

    def qr(x, a, b, c, d):
        x[a] = (x[a] + x[b]) & m
        x[d] = rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & m
        x[b] = rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & m
        x[d] = rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & m
        x[b] = rotl(x[b] ^ x[c], 7)

    x = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    x += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", n16))
    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14),
                           (3, 7, 11, 15), (0, 5, 10, 15), (1, 6, 11, 12),
                           (2, 7, 8, 13), (3, 4, 9, 14)):
            qr(x, a, b, c, d)
    return struct.pack("<8I", *(x[0:4] + x[12:16]))


def _seal(ctx, text):
    """text sealed as lib/crypto.c's unversioned values are (nonce ||
    XChaCha20-Poly1305 ciphertext and tag), with the stack's pii key."""
    with open(os.path.join(auth._state(ctx), "secrets", "pii_key")) as f:
        key = bytes.fromhex(f.read().strip())
    nonce = secrets.token_bytes(24)
    sub = _hchacha20(key, nonce[:16])
    return nonce + ChaCha20Poly1305(sub).encrypt(b"\0" * 4 + nonce[16:],
                                                 text.encode(), None)


def _xadd(ctx, kind, sealed):
    """XADD one entry to the hand-off stream (binary-safe, over the
    stack's Redis socket)."""
    st = auth._state(ctx)
    with open(os.path.join(st, "secrets", "redis_password")) as f:
        pw = f.read().strip()

    def cmd(*args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out

    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(os.path.join(st, "redis", "redis.sock"))
    try:
        s.sendall(cmd("AUTH", pw) + cmd("XADD", "v1:history", "*", "k", kind,
                                        "v", "1", "d", sealed))
        got = b""
        while got.count(b"\r\n") < 2:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    assert got.startswith(b"+OK") and b"\r\n$" in got, got


def test_previous_format_records_still_applied(ctx):
    """Records as the previous version's services wrote them (string-keyed
    JSON, sealed) are applied by this worker: a worker upgraded with
    entries in the stream loses none."""
    tag = secrets.token_hex(6)
    at = 1764800000123  # a fixed instant: no host clock in expectations
    login = {"eventId": secrets.token_hex(16), "requestId": "REQ_OLDL_" + tag,
             "userId": "oldfmt", "result": "FAILURE",
             "reason": "BAD_CREDENTIALS", "client": "127.0.0.x",
             "agent": "old-agent", "at": at}
    inquiry = {"requestId": "REQ_OLDB_" + tag, "userId": "oldfmt",
               "customerId": "C9999", "line": "01099990000",
               "month": "2025-11", "status": "FAILED",
               "errorCode": "SERVICE_UNAVAILABLE", "requestedAt": at,
               "completedAt": at + 900,
               "process": {"cacheHit": False, "kosCalled": False,
                           "breakerState": "OPEN", "elapsedMs": 900,
                           "stale": False}}
    change = {"requestId": "REQ_OLDP_" + tag, "userId": "oldfmt",
              "customerId": "C9999", "line": "01099990000",
              "currentCode": "OLD1", "targetCode": "OLD2",
              "status": "FAILED", "errorCode": "PRECHECK_FAILED",
              "resultMessage": "old format", "completedAt": at + 1,
              "requestedAt": at}
    for kind, rec in (("auth.login", login), ("bill.inquiry", inquiry),
                      ("product.change", change)):
        _xadd(ctx, kind, _seal(ctx, json.dumps(rec, ensure_ascii=False)))
    q = ("SELECT (SELECT COUNT(*) FROM phonebill_auth.login_history WHERE "
         "request_id = '%s' AND result = 'FAILURE' AND reason = "
         "'BAD_CREDENTIALS' AND user_agent = 'old-agent'), "
         "(SELECT COUNT(*) FROM phonebill_bill.bill_request_history r JOIN "
         "phonebill_bill.bill_process_history p USING (request_id) WHERE "
         "r.request_id = '%s' AND r.status = 'FAILED' AND r.error_code = "
         "'SERVICE_UNAVAILABLE' AND p.breaker_state = 'OPEN' AND "
         "p.elapsed_ms = 900), "
         "(SELECT COUNT(*) FROM phonebill_product.product_change_history "
         "WHERE request_id = '%s' AND status = 'FAILED' AND error_code = "
         "'PRECHECK_FAILED' AND target_product_code = 'OLD2')"
         % (login["requestId"], inquiry["requestId"], change["requestId"]))
    ctx.wait_for("the three records' rows",
                 lambda: [int(v) for v in _sql(ctx, q)[0]] == [1, 1, 1],
                 timeout=20)


def test_malformed_record_set_aside_with_its_reason(ctx):
    """A record that opens and parses but is not a record (a 10-digit
    line) is set aside, and the dead letter names the field."""
    auth.admin(ctx, ["dead-letters", "purge"], "")
    bad = {"requestId": "REQ_BAD_" + secrets.token_hex(6), "userId": "x",
           "line": "0101234567", "month": "2025-11", "status": "FAILED",
           "requestedAt": 1764800000000, "process": {}}
    _xadd(ctx, "bill.inquiry", _seal(ctx, json.dumps(bad)))
    ctx.wait_for("set aside", lambda: bill.health(ctx)["history"]["dead"] >= 1,
                 timeout=15)
    rc, out = auth.admin(ctx, ["dead-letters", "list"], "")
    eq(rc, 0, "phonebill-admin dead-letters list: %s" % out)
    assert "invalid_record: line: not 11 digits" in out, out
    rc, out = auth.admin(ctx, ["dead-letters", "purge"], "")
    eq(rc, 0, "phonebill-admin dead-letters purge: %s" % out)


def test_one_thread_per_fastcgi_process(ctx):
    """No background thread in the services: everything after the answer
    is phonebill-worker's."""
    pids = [p for p in ctx.stack("fcgi-pids").split() if p.isdigit()]
    assert pids, "no FastCGI processes found"
    for p in pids:
        try:
            n = len(os.listdir("/proc/%s/task" % p))
            with open("/proc/%s/comm" % p) as f:
                name = f.read().strip()
        except OSError:
            continue        # it ended meanwhile
        eq(n, 1, "threads of %s (pid %s)" % (name, p))
