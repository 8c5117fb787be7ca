"""Secrets rotate without downtime (issue 18, "secrets rotate"): the JWT
signing key, under a small steady load, with rolling restarts of every
service process (auth, bill, product) between the steps of README's
procedure:

  1. the new key is added as jwt.accept_secret (accepted, never signs);
  2. the new key signs, the old one is the accepted one;
  3. (after the refresh lifetime) the old one is dropped -- here: put back.

No request of the load may be refused as unauthenticated at any moment, old
tokens keep working while their key is accepted, new tokens name the new
key (kid), and an old token is refused once its key is gone.
"""
import base64
import json
import os
import secrets
import signal
import threading
import time

from helpers import eq, status
import test_auth as ta

ORDER = 98
SERVICES = ("phonebill-auth", "phonebill-bill", "phonebill-product")


def _kid(tok):
    h = tok.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4))).get("kid")


def _exe(pid):
    """The program pid runs ("" once it is gone)."""
    try:
        return os.path.basename(os.readlink("/proc/%s/exe" % pid)).replace(" (deleted)", "")
    except OSError:
        return ""


def _pids(ctx, services=SERVICES):
    return [int(p) for p in ctx.stack("fcgi-pids").split() if _exe(p) in services]


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def _rolling_restart(ctx):
    """SIGTERM each service process in turn; the web server (or, for
    lighttpd's bill and product pools, the process it spawned, which reads
    no config itself: lib/web/prefork.c) starts a new one with the config as it
    is now before the next goes.  Then phonebill-worker, which holds
    connections with the services' accounts too."""
    pids = _pids(ctx)
    parents = {_ppid(p) for p in pids}
    for p in [p for p in pids if p not in parents]:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            continue
        ctx.wait_for("pid %d gone" % p, lambda: not os.path.exists("/proc/%d" % p), timeout=20)
        ctx.wait_for("health", lambda: all(
            ctx.get("/api/v1/%s/health" % s).status == 200
            for s in ("auth", "bills", "products")), timeout=30)
    ctx.stack("worker-restart")


def _write_secret(path, value):
    """0600, owned like the stack's other secrets (the services' user)."""
    ref = os.stat(os.path.join(os.path.dirname(path), "jwt_secret"))
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    if os.geteuid() == 0:
        os.chown(path + ".tmp", ref.st_uid, ref.st_gid)
    os.rename(path + ".tmp", path)


def _set_accept(ctx, path):
    """jwt.accept_secret_file in every service config (None: removed)."""
    st = ta._state(ctx)
    for svc in ("auth", "bill", "product"):
        fn = os.path.join(st, "conf", svc + ".conf")
        with open(fn) as f:
            lines = [ln for ln in f if not ln.startswith("jwt.accept_secret_file")]
        if path:
            lines.append("jwt.accept_secret_file = %s\n" % path)
        with open(fn + ".tmp", "w") as f:
            f.writelines(lines)
        os.chmod(fn + ".tmp", 0o644)
        os.rename(fn + ".tmp", fn)


class Load(threading.Thread):
    """One client, one request at a time: verify and the bill menu (and
    whatever paths it is given) with the tokens it is given; records every
    status."""

    def __init__(self, ctx, tok, paths=("/api/v1/auth/verify", "/api/v1/bills/menu")):
        super().__init__(daemon=True)
        self.ctx, self.tokens, self.seen, self.stop = ctx, [tok], [], False
        self.paths = paths

    def run(self):
        while not self.stop:
            for t in list(self.tokens):
                for path in self.paths:
                    try:
                        r = self.ctx.request("GET", path,
                                             headers={"Authorization": "Bearer " + t})
                        self.seen.append((path, r.status))
                    except OSError as e:
                        self.seen.append((path, str(e)))
            time.sleep(0.05)


def test_jwt_key_rotation_under_load(ctx):
    st = ta._state(ctx)
    sec = os.path.join(st, "secrets", "jwt_secret")
    acc = os.path.join(st, "secrets", "jwt_secret_accept")
    with open(sec) as f:
        old = f.read().strip()
    new = secrets.token_hex(32)
    at0, _ = ta.tokens(ctx, "demo01")
    kid0 = _kid(at0)
    assert kid0, "tokens carry no kid"
    load = Load(ctx, at0)
    load.start()
    try:
        # 1: the new key accepted everywhere before anyone signs with it
        _write_secret(acc, new)
        _set_accept(ctx, acc)
        _rolling_restart(ctx)
        eq(_kid(ta.tokens(ctx, "demo01")[0]), kid0, "still signed with the old key")
        # 2: the new key signs, the old one is accepted
        # (the accepted key first: a process started between the two
        # writes -- mod_fcgid starts them on demand -- must still accept
        # the old tokens)
        _write_secret(acc, old)
        _write_secret(sec, new)
        _rolling_restart(ctx)
        at1, rt1 = ta.tokens(ctx, "demo01")
        assert _kid(at1) != kid0, "new tokens still name the old key"
        load.tokens.append(at1)
        status(ta.bearer(ctx, "GET", "/verify", at0), 200)
        status(ta.refresh(ctx, rt1), 200)
        time.sleep(0.5)
    finally:
        load.stop = True
        load.join(30)
        # 3: back to the old key alone (the suite's other tests sign with it)
        _write_secret(sec, old)
        _set_accept(ctx, None)
        if os.path.exists(acc):
            os.unlink(acc)
        _rolling_restart(ctx)
    refused = [s for s in load.seen if s[1] == 401]
    other = [s for s in load.seen if s[1] not in (200, 401)]
    assert len(load.seen) > 20, "the load made only %d requests" % len(load.seen)
    eq(refused, [], "requests refused as unauthenticated during the rotation")
    # (Apache: at most one mod_fcgid reset per restart round, see _check_load)
    limit = 3 if ctx.name == "apache" else 0
    assert len(other) <= limit, "%d of %d requests failed otherwise: %r" % (
        len(other), len(load.seen), other[:5])
    # the new key is gone again: its tokens are refused
    ta.error_envelope(ta.bearer(ctx, "GET", "/verify", at1), "TOKEN_INVALID", 401)


# --- the MVNO HMAC secret: an overlap window on the receiver -------------------------
def _sim_pids(ctx):
    out = []
    for p in ctx.stack("fcgi-pids").split():
        try:
            if os.path.basename(os.readlink("/proc/%s/exe" % p)).replace(" (deleted)", "") == "phonebill-kos-sim":
                out.append(int(p))
        except OSError:
            pass
    return out


def _restart_sim(ctx):
    import test_kos_sim as ks
    for p in _sim_pids(ctx):
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            continue
        ctx.wait_for("pid %d gone" % p, lambda: not os.path.exists("/proc/%d" % p), timeout=20)
        ctx.wait_for("the simulator", lambda: ks.call("GET", "/_sim/health").status == 200,
                     timeout=30)


def _sim_other(ctx, path):
    fn = os.path.join(ta._state(ctx), "conf", "kos-sim.conf")
    with open(fn) as f:
        lines = [ln for ln in f if not ln.startswith("mvno.hmac_other_secret_file")]
    if path:
        lines.append("mvno.hmac_other_secret_file = %s\n" % path)
    with open(fn + ".tmp", "w") as f:
        f.writelines(lines)
    os.chmod(fn + ".tmp", 0o644)
    os.rename(fn + ".tmp", fn)


def test_mvno_secret_overlap_window(ctx):
    import test_kos_sim as ks
    old = ks.mvno_secret()
    new = secrets.token_hex(32).encode()
    other = os.path.join(ta._state(ctx), "secrets", "mvno_hmac_other")
    seen = []

    def post(secret):
        body = json.dumps({"eventType": "BILL_INQUIRY", "requestId": "rot-" + secrets.token_hex(8),
                           "result": "COMPLETED"}).encode()
        return ks.mvno_post(body, secret=secret).status

    _write_secret(other, new.decode())
    _sim_other(ctx, other)
    try:
        _restart_sim(ctx)
        # the overlap window: senders still on the old secret and senders
        # already on the new one are both accepted
        for i in range(20):
            seen.append(post(old if i % 2 else new))
    finally:
        _sim_other(ctx, None)
        if os.path.exists(other):
            os.unlink(other)
        _restart_sim(ctx)
    eq(sorted(set(seen)), [200], "statuses during the overlap")
    eq(post(old), 200, "the current secret after the window")
    eq(post(new), 401, "the other secret after the window")


# --- the Redis and MariaDB passwords: change, then roll -------------------------------
DB_PATHS = ("/api/v1/auth/verify", "/api/v1/auth/user-info", "/api/v1/bills/menu",
            "/api/v1/bills/history", "/api/v1/products/history")


def _check_load(load, ctx):
    """No request refused; on Apache at most one 5xx per restart round:
    mod_fcgid may have queued a request on a process's socket just as that
    process took its SIGTERM ("error reading data from FastCGI server"),
    a property of restarting by signal there, not of the secret."""
    assert len(load.seen) > 20, "the load made only %d requests" % len(load.seen)
    bad = [s for s in load.seen if s[1] != 200]
    if ctx.name == "apache":
        refused = [s for s in bad if s[1] not in (500, 502, 503)]
        assert not refused and len(bad) <= 2, "%d of %d requests failed: %r" % (
            len(bad), len(load.seen), bad[:5])
        return
    assert not bad, "%d of %d requests failed: %r" % (len(bad), len(load.seen), bad[:5])


def test_redis_password_rolling_change_under_load(ctx):
    """Redis (ACL) holds the old and the new password at once; the services
    are rolled onto the new one; then the old one is removed."""
    st = ta._state(ctx)
    pwf = os.path.join(st, "secrets", "redis_password")
    with open(pwf) as f:
        old = f.read().strip()
    new = secrets.token_hex(32)
    at, _ = ta.tokens(ctx, "demo01")
    load = Load(ctx, at, DB_PATHS)
    load.start()
    try:
        ta.redis_cli(ctx, "ACL", "SETUSER", "default", ">" + new)    # both valid
        _write_secret(pwf, new)        # redis_cli (the tests) now uses it too
        _rolling_restart(ctx)
        ta.redis_cli(ctx, "ACL", "SETUSER", "default", "<" + old)    # old gone
        time.sleep(1.0)
        eq(ta.redis_cli(ctx, "PING"), "PONG", "the new password")
    finally:
        load.stop = True
        load.join(30)
        # back to the old password the same way (the suite restarts Redis
        # later from its config, which holds the old one)
        ta.redis_cli(ctx, "ACL", "SETUSER", "default", ">" + old)
        _write_secret(pwf, old)
        _rolling_restart(ctx)
        ta.redis_cli(ctx, "ACL", "SETUSER", "default", "<" + new)
    _check_load(load, ctx)


def _conf_set(ctx, svc, kv):
    fn = os.path.join(ta._state(ctx), "conf", svc + ".conf")
    with open(fn) as f:
        lines = [ln for ln in f if ln.split("=")[0].strip() not in kv]
    lines += ["%s = %s\n" % (k, v) for k, v in kv.items()]
    with open(fn + ".tmp", "w") as f:
        f.writelines(lines)
    os.chmod(fn + ".tmp", 0o644)
    os.rename(fn + ".tmp", fn)


def test_db_password_rolling_change_under_load(ctx):
    """MariaDB keeps one password per account, and a process that (re)connects
    between an ALTER USER and its restart would fail.  So the new password
    comes with a second account holding the same grants (blue/green): create
    it, point each service at it (db.user, db.password_file), roll, drop the
    old account.  Here: there and back again."""
    import helpers
    st = ta._state(ctx)
    if helpers.admin_sql(st, "SELECT 1") is None:
        raise ta.Skip("cannot reach MariaDB as its administrator here")
    svcs = ("auth", "bill", "product")

    def conf_of(svc):
        vals = {}
        with open(os.path.join(st, "conf", svc + ".conf")) as f:
            for ln in f:
                if "=" in ln and not ln.lstrip().startswith("#"):
                    k, _, v = ln.partition("=")
                    vals[k.strip()] = v.strip()
        return vals
    orig = {s: conf_of(s) for s in svcs}

    def clone(user, new_user, pw):
        helpers.admin_sql(st, "DROP USER IF EXISTS '%s'@'localhost'" % new_user)
        assert helpers.admin_sql(st, "CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'"
                                 % (new_user, pw)) is not None
        for (g,) in helpers.admin_sql(st, "SHOW GRANTS FOR '%s'@'localhost'" % user):
            if g.startswith("GRANT USAGE"):
                continue
            q = g.replace("`%s`@`localhost`" % user, "`%s`@`localhost`" % new_user)
            assert helpers.admin_sql(st, q) is not None, q
    at, _ = ta.tokens(ctx, "demo01")
    load = Load(ctx, at, DB_PATHS)
    load.start()
    try:
        for svc in svcs:
            user = orig[svc]["db.user"]
            pwf = os.path.join(st, "secrets", "db_%s_password_green" % svc)
            pw = secrets.token_hex(24)
            clone(user, user + "_g", pw)
            _write_secret(pwf, pw)
            _conf_set(ctx, svc, {"db.user": user + "_g", "db.password_file": pwf})
        _rolling_restart(ctx)
        time.sleep(1.0)
        status(ta.login(ctx, "demo02", ta.DEMO["demo02"][0]), 200)
        # the old accounts could go now; every service is on the new ones
        for svc in svcs:
            user = orig[svc]["db.user"]
            rows = helpers.admin_sql(st, "SELECT COUNT(*) FROM information_schema.processlist "
                                         "WHERE user = '%s'" % user)
            eq(rows, [["0"]], "connections still on the old account %s" % user)
    finally:
        load.stop = True
        load.join(30)
        for svc in svcs:
            _conf_set(ctx, svc, {"db.user": orig[svc]["db.user"],
                                 "db.password_file": orig[svc]["db.password_file"]})
        _rolling_restart(ctx)
        for svc in svcs:
            helpers.admin_sql(st, "DROP USER IF EXISTS '%s_g'@'localhost'"
                              % orig[svc]["db.user"])
            pwf = os.path.join(st, "secrets", "db_%s_password_green" % svc)
            if os.path.exists(pwf):
                os.unlink(pwf)
    _check_load(load, ctx)


def test_stopped_process_answers_what_was_queued(ctx):
    """A process asked to stop serves the requests already queued on its
    socket before it exits (lib/web/request.c, drain).  lighttpd gives each
    auth process its own socket and queues at a busy one; a process that
    exited with a request in its backlog made lighttpd answer 500.  Here:
    logins from more clients than the login pool has processes (so requests
    queue behind slow password hashes), while each auth process in turn is
    stopped.  Every answer is a real one: 200, or 503/429 refusals."""
    seen, stop = [], threading.Event()
    users = sorted(ta.DEMO)

    def client(i):
        user = users[i % len(users)]
        while not stop.is_set():
            try:
                r = ta.login(ctx, user, ta.DEMO[user][0])
                seen.append((r.status, r.header("Retry-After")))
            except OSError as e:
                seen.append((str(e), None))
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(12)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        auth = _pids(ctx, ("phonebill-auth",))
        assert auth, "no auth process found"
        for p in auth:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                continue
            ctx.wait_for("pid %d gone" % p, lambda: not os.path.exists("/proc/%d" % p),
                         timeout=20)
            time.sleep(0.3)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    ctx.wait_for("auth health", lambda: ctx.get("/api/v1/auth/health").status == 200,
                 timeout=30)
    bad = [s for s in seen if s[0] not in (200, 429, 503) or
           (s[0] == 503 and s[1] is None)]
    assert any(s[0] == 200 for s in seen), seen[:20]
    eq(bad, [], "answers other than 200 or a refusal, of %d" % len(seen))
