"""The auth service through the web server: login, lockout, tokens,
sessions, permissions (issue 4).

Every scenario uses its own user ids (a random suffix per run) and its own
client address (X-Forwarded-For; the test stack trusts 127.0.0.1 as a proxy),
because lighttpd and Apache share one Redis and one MariaDB in script/test.
Success responses are checked against the design's schemas
(shared/reference/openapi/auth-service-api.yaml) with a small JSON-schema
subset validator.  Needs PHONEBILL_TEST_STACK_CTL for the secrets, the CLI
and the logs (tests that need them skip without it).
"""
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import random
import re
import shlex
import statistics
import string
import subprocess
import time

import helpers
import schema
from helpers import eq, status, json_headers, request_id, error_envelope
from run import Skip

ORDER = 40
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN = "".join(random.choice(string.ascii_lowercase) for _ in range(5))
SEEN_TOKENS = []     # every token handed out: none may appear in a log
PASSWORD = "Correct-Horse-9"
DEMO = {"demo01": ("Phonebill!1", ["BILL_INQUIRY", "PRODUCT_CHANGE"], "010-1234-5678"),
        "demo02": ("Phonebill!2", ["BILL_INQUIRY"], "010-2345-6789"),
        "demo03": ("Phonebill!3", ["BILL_INQUIRY", "PRODUCT_CHANGE"], "010-3456-7890")}


# --- the design's schemas ------------------------------------------------------
DOC = schema.Doc("auth-service-api.yaml")
validate = DOC.validate
error_envelope = DOC.error_envelope
check_data = DOC.check_data


def _doc():
    return DOC.doc()


# --- helpers -------------------------------------------------------------------
def _addr():
    return "10.%d.%d.%d" % (random.randint(0, 255), random.randint(0, 255),
                            random.randint(1, 254))


def uid(tag):
    return ("t%s-%s" % (RUN, tag))[:20]


def login(ctx, user, pw, addr=None, auto=None, rid=None, extra=None):
    body = {"userId": user, "password": pw}
    if auto is not None:
        body["autoLogin"] = auto
    if extra:
        body.update(extra)
    h = {"Content-Type": "application/json", "X-Forwarded-For": addr or _addr()}
    if rid:
        h["X-Request-ID"] = rid
    r = ctx.request("POST", "/api/v1/auth/login", body=json.dumps(body), headers=h)
    if r.status == 200:
        d = r.json()["data"]
        SEEN_TOKENS.extend([d["accessToken"], d["refreshToken"]])
    return r


def tokens(ctx, user="demo01"):
    r = login(ctx, user, DEMO[user][0])
    d = check_data(r, "LoginResponse")
    return d["accessToken"], d["refreshToken"]


def bearer(ctx, method, path, tok, body=None):
    h = {"Authorization": "Bearer " + tok}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    return ctx.request(method, "/api/v1/auth" + path, body=body, headers=h)


def refresh(ctx, rt):
    r = ctx.request("POST", "/api/v1/auth/refresh", body=json.dumps({"refreshToken": rt}),
                    headers={"Content-Type": "application/json"})
    if r.status == 200:
        d = r.json()["data"]
        SEEN_TOKENS.extend([d["accessToken"], d.get("refreshToken", "")])
    return r


def _state(ctx):
    if not ctx.stack_ctl:
        raise Skip("PHONEBILL_TEST_STACK_CTL is not set")
    return os.path.abspath(shlex.split(ctx.stack_ctl)[-1])


def _as_run_user(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "www-data", "--"] + cmd
    return cmd


def admin(ctx, args, stdin=""):
    st = _state(ctx)
    exe = os.path.join(ROOT, "fcgi", "admin", "phonebill-admin")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "PHONEBILL_CONFIG": os.path.join(st, "conf", "auth.conf")}
    p = subprocess.run(_as_run_user(["env"] + ["%s=%s" % kv for kv in env.items()] +
                                    [exe] + args),
                       input=stdin.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def new_user(ctx, tag, perms=("BILL_INQUIRY",), line="010-9999-0000"):
    u = uid(tag)
    args = ["add", u, "--customer", "C9999", "--line", line, "--name", "테스트"]
    for p in perms:
        args += ["--perm", p]
    rc, out = admin(ctx, args, PASSWORD + "\n")
    assert rc == 0, "phonebill-admin add failed: %s" % out
    return u


CACHE_TYPES = ("bill", "bill-stale", "bill-months", "bill-months-stale", "bill-req",
               "prod-customer")


def _index_key(ctx):
    with open(os.path.join(_state(ctx), "secrets", "pii_index_key")) as f:
        return bytes.fromhex(f.read().strip())


def user_key(ctx, u):
    """The services' key for a user's Redis records (authz.h pb_authz_user_key)."""
    return hmac.new(_index_key(ctx), b"uid:" + u.encode(), hashlib.sha256).digest()[:16].hex()


def stored_key(ctx, key):
    """A readable key as the stack stores it: no user id or line number in a
    Redis key name (cache.h, lockout.h); other keys unchanged."""
    if key.startswith("v1:auth:fail:"):
        return "v1:auth:fail:" + user_key(ctx, key[len("v1:auth:fail:"):])
    parts = key.split(":", 2)
    if len(parts) == 3 and parts[0] == "v1" and parts[1] in CACHE_TYPES:
        d = hmac.new(_index_key(ctx), parts[2].encode(), hashlib.sha256).digest()[:16]
        return "v1:%s:%s" % (parts[1], d.hex())
    return key


def redis_cli(ctx, *args):
    """redis-cli on the stack's Redis; readable key names in args are mapped
    to the stored ones (stored_key)."""
    args = [stored_key(ctx, a) if isinstance(a, str) and a.startswith("v1:") else a
            for a in args]
    st = _state(ctx)
    with open(os.path.join(st, "secrets", "redis_password")) as f:
        pw = f.read().strip()
    env = dict(os.environ, REDISCLI_AUTH=pw)
    p = subprocess.run(["redis-cli", "-s", os.path.join(st, "redis", "redis.sock")] +
                       list(args), env=env, stdout=subprocess.PIPE, timeout=10)
    return p.stdout.decode().strip()


def _b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def forge(ctx, claims, alg="HS256", header=None, key=None):
    st = _state(ctx)
    if key is None:
        with open(os.path.join(st, "secrets", "jwt_secret"), "rb") as f:
            key = f.read().strip()
    h = header if header is not None else {"alg": alg, "typ": "JWT"}
    signing = _b64(json.dumps(h).encode()) + "." + _b64(json.dumps(claims).encode())
    if alg == "none":
        return signing + "."
    dig = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    return signing + "." + _b64(hmac.new(key, signing.encode(), dig).digest())


def claims_of(tok):
    p = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


# --- login ---------------------------------------------------------------------
def test_login_demo_users(ctx):
    for user, (pw, perms, line) in DEMO.items():
        r = login(ctx, user, pw)
        d = check_data(r, "LoginResponse")
        eq(d["expiresIn"], 1800, "expiresIn")
        eq(d["user"]["userId"], user, "userId")
        eq(d["user"]["phoneNumber"], line, "phoneNumber")
        eq(sorted(d["user"]["permissions"]), sorted(perms), "permissions")
        c = claims_of(d["accessToken"])
        eq(c["typ"], "access", "typ")
        eq(c["exp"] - c["iat"], 1800, "access lifetime")
        eq(claims_of(d["refreshToken"])["exp"] - c["iat"], 86400, "refresh lifetime")


def test_login_case_and_spaces_canonical(ctx):
    r = login(ctx, "  DeMo02 ", "Phonebill!2")
    d = check_data(r, "LoginResponse")
    eq(d["user"]["userId"], "demo02", "canonical userId")


def test_login_wrong_password(ctx):
    u = new_user(ctx, "wrong")
    b = error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_001", 401)
    eq(b["error"]["message"], "ID 또는 비밀번호를 확인해주세요", "message")
    assert "4" in b["error"]["details"], "details: %r" % b["error"]["details"]


def test_login_validation(ctx):
    for body in ('{"userId":"demo01"}', '{"password":"Phonebill!1"}',
                 '{"userId":"demo01","password":"Phonebill!1","x":1}',
                 '{"userId":"demo01","password":"Phonebill!1","userId":"a"}',
                 '{"userId":1,"password":"Phonebill!1"}',
                 '{"userId":"demo01","password":"Phonebill!1"} x',
                 '{"userId":"a b c","password":"Phonebill!1"}'):
        r = ctx.request("POST", "/api/v1/auth/login", body=body,
                        headers={"Content-Type": "application/json"})
        error_envelope(r, "VALIDATION_ERROR", 400)


def test_unknown_user_indistinguishable(ctx):
    known = new_user(ctx, "known")
    unknown = uid("ghost")
    tk, tu = [], []
    for i in range(4):
        for u, times in ((known, tk), (unknown, tu)):
            t0 = time.monotonic()
            r = login(ctx, u, "Wrong-Password-1")
            times.append(time.monotonic() - t0)
            b = error_envelope(r, "AUTH_001", 401)
            eq(b["error"]["details"], "남은 시도 횟수: %d회" % (4 - i), "details")
            eq(sorted(b["error"].keys()), ["code", "details", "message", "timestamp"], "keys")
    mk, mu = statistics.median(tk), statistics.median(tu)
    assert 0.5 < mk / mu < 2.0, "timing differs: known %.3fs, unknown %.3fs" % (mk, mu)
    # the fifth locks both alike
    for u in (known, unknown):
        error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_002", 401)
        b = error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_003", 401)
        eq(b["error"]["message"], "계정이 잠금되었습니다. 30분 후 다시 시도해주세요.", "message")


def test_lock_on_fifth_failure_and_correct_password_refused(ctx):
    u = new_user(ctx, "lock")
    for i in range(4):
        error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_001", 401)
    error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_002", 401)
    b = error_envelope(login(ctx, u, PASSWORD), "AUTH_003", 401)
    # the number of failures that locked it, from auth.max_failures
    eq(b["error"]["details"], "이전 5회 연속 실패로 인한 임시 잠금 상태입니다.", "details")
    # failures while locked do not extend the lock
    before = redis_cli(ctx, "HGET", "v1:auth:fail:" + u, "until")
    error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_003", 401)
    eq(redis_cli(ctx, "HGET", "v1:auth:fail:" + u, "until"), before, "lock expiry unchanged")
    # the services' clock, not the host's (script/test calendar moves it)
    lock_ms = int(before) - int(helpers.service_now(ctx).timestamp() * 1000)
    assert 29 * 60000 < lock_ms <= 30 * 60000 + 5000, "lock lasts %d ms" % lock_ms


def test_lock_expiry(ctx):
    # The lock's expiry is a value in Redis computed from the services' clock;
    # moving it into the past is what 30 minutes passing looks like to them.
    # (tests/unit/test_lockout.c checks the same with an injected clock.)
    u = new_user(ctx, "expiry")
    for i in range(5):
        login(ctx, u, "Wrong-Password-1")
    error_envelope(login(ctx, u, PASSWORD), "AUTH_003", 401)
    redis_cli(ctx, "HSET", "v1:auth:fail:" + u, "until",
              str(int(helpers.service_now(ctx).timestamp() * 1000) - 1000))
    check_data(login(ctx, u, PASSWORD), "LoginResponse")
    # the counter starts again from zero
    b = error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_001", 401)
    assert "4" in b["error"]["details"], b["error"]["details"]


def test_success_resets_counter(ctx):
    u = new_user(ctx, "reset")
    for i in range(4):
        error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_001", 401)
    check_data(login(ctx, u, PASSWORD), "LoginResponse")
    b = error_envelope(login(ctx, u, "Wrong-Password-1"), "AUTH_001", 401)
    assert "4" in b["error"]["details"], b["error"]["details"]


def test_case_space_variants_share_counter(ctx):
    u = new_user(ctx, "variant")
    for v in (u.upper(), " " + u, u + "  ", u.capitalize()):
        error_envelope(login(ctx, v, "Wrong-Password-1"), "AUTH_001", 401)
    error_envelope(login(ctx, "\t" + u.upper() + " ", "Wrong-Password-1"), "AUTH_002", 401)
    error_envelope(login(ctx, u, PASSWORD), "AUTH_003", 401)


def _log_files(ctx):
    st = _state(ctx)
    names = [os.path.join(st, "lighttpd", "log", n) for n in ("services.log", "error.log",
                                                              "access.log")]
    names.append(os.path.join(st, "apache", "log", "error.log"))
    return [n for n in names if os.path.isfile(n)]


def _count_in_logs(ctx, needle_re):
    rx = re.compile(needle_re)
    n = 0
    for fn in _log_files(ctx):
        with open(fn, "rb") as f:
            for line in f:
                if rx.search(line.decode("utf-8", "replace")):
                    n += 1
    return n


def test_parallel_wrong_attempts_at_most_five_hashes(ctx):
    u = new_user(ctx, "par")
    tag = "par%s%d" % (RUN, random.randint(0, 99999))

    def one(i):
        return login(ctx, u, "Wrong-Password-1", rid="%s-%d" % (tag, i))
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        rs = list(ex.map(one, range(50)))
    codes = [r.json()["error"]["code"] for r in rs]
    assert all(r.status == 401 for r in rs), [r.status for r in rs]
    eq(codes.count("AUTH_001"), 4, "AUTH_001 count (%r)" % codes)
    eq(codes.count("AUTH_002"), 1, "AUTH_002 count")
    eq(codes.count("AUTH_003"), 45, "AUTH_003 count")
    time.sleep(0.5)
    n = _count_in_logs(ctx, r'rid="%s-\d+" event=pwhash_verify' % tag)
    if n == 0 and not _log_files(ctx):
        raise Skip("no log files found")
    assert 1 <= n <= 5, "%d hash verifications for 50 parallel attempts" % n
    error_envelope(login(ctx, u, PASSWORD), "AUTH_003", 401)


def test_login_rate_limit_per_address(ctx):
    addr = _addr()
    seen = []
    for i in range(25):
        r = login(ctx, uid("rl%d" % i), "Wrong-Password-1", addr=addr)
        seen.append(r.status)
        if r.status == 429:
            break
    assert seen[-1] == 429, "no 429 after %d attempts: %r" % (len(seen), seen)
    assert len(seen) == 21, "429 after %d attempts (limit 20)" % len(seen)
    error_envelope(r, "RATE_LIMITED", 429)
    ra = r.header("Retry-After")
    assert ra is not None and ra.isdigit() and 1 <= int(ra) <= 60, "Retry-After %r" % ra
    # another address is not affected
    check_data(login(ctx, "demo01", "Phonebill!1", addr=_addr()), "LoginResponse")


def test_forwarded_for_ignored_from_untrusted(ctx):
    # the trusted proxy's own entry is the last one; spoofed earlier entries
    # do not give a fresh bucket
    addr = _addr()
    for i in range(20):
        login(ctx, uid("xf%d" % i), "Wrong-Password-1", addr="1.2.3.%d, %s" % (i, addr))
    r = login(ctx, uid("xfz"), "Wrong-Password-1", addr="9.9.9.9, " + addr)
    error_envelope(r, "RATE_LIMITED", 429)


# --- tokens --------------------------------------------------------------------
def test_verify_permissions_userinfo_schemas(ctx):
    at, _ = tokens(ctx, "demo02")
    d = check_data(bearer(ctx, "GET", "/verify", at), "TokenVerifyResponse")
    eq(d["valid"], True, "valid")
    assert 1790 <= d["expiresIn"] <= 1800, d["expiresIn"]
    d = check_data(bearer(ctx, "GET", "/permissions", at), "PermissionsResponse")
    eq({p["permission"]: p["granted"] for p in d["permissions"]},
       {"BILL_INQUIRY": True, "PRODUCT_CHANGE": False}, "permissions")
    d = check_data(bearer(ctx, "POST", "/permissions/check", at,
                          {"serviceType": "PRODUCT_CHANGE"}), "PermissionCheckResponse")
    eq(d["hasPermission"], False, "hasPermission")
    d = check_data(bearer(ctx, "POST", "/permissions/check", at,
                          {"serviceType": "BILL_INQUIRY"}), "PermissionCheckResponse")
    eq(d["hasPermission"], True, "hasPermission")
    error_envelope(bearer(ctx, "POST", "/permissions/check", at, {"serviceType": "X"}),
                   "VALIDATION_ERROR", 400)
    d = check_data(bearer(ctx, "GET", "/user-info", at), "UserInfoResponse")
    eq(d["userId"], "demo02", "userId")
    eq(d["phoneNumber"], "010-2345-6789", "phoneNumber")
    eq(d["status"], "ACTIVE", "status")
    assert "lastLoginAt" in d, "lastLoginAt"


def test_no_token_401(ctx):
    for m, p in (("GET", "/verify"), ("GET", "/permissions"), ("GET", "/user-info"),
                 ("POST", "/logout")):
        error_envelope(ctx.request(m, "/api/v1/auth" + p), "UNAUTHORIZED", 401)
    error_envelope(ctx.request("GET", "/api/v1/auth/verify",
                               headers={"Authorization": "Basic abc"}), "UNAUTHORIZED", 401)


def test_tampered_tokens(ctx):
    at, rt = tokens(ctx)
    c = claims_of(at)
    now = c["iat"]          # the auth service's clock
    bad = {
        "alg none": forge(ctx, c, alg="none", header={"alg": "none", "typ": "JWT"}),
        "HS512": forge(ctx, c, alg="HS512", header={"alg": "HS512", "typ": "JWT"}),
        "flipped signature": at[:-2] + ("A" if at[-2] != "A" else "B") + at[-1],
        "other key": forge(ctx, c, key=b"x" * 32),
        "future nbf": forge(ctx, dict(c, nbf=now + 3600)),
        "string exp": forge(ctx, dict(c, exp=str(c["exp"]))),
        "float exp": forge(ctx, dict(c, exp=c["exp"] + 0.5)),
        "bool exp": forge(ctx, dict(c, exp=True)),
        "missing jti": forge(ctx, {k: v for k, v in c.items() if k != "jti"}),
        "missing sid": forge(ctx, {k: v for k, v in c.items() if k != "sid"}),
        "wrong iss": forge(ctx, dict(c, iss="evil")),
        "wrong aud": forge(ctx, dict(c, aud="evil")),
        "extra claim": forge(ctx, dict(c, admin=True)),
        "refresh as access": rt,
        "garbage": "not.a.token",
        "empty sig": at.rsplit(".", 1)[0] + ".",
        "header alg HS256 lower": forge(ctx, c, header={"alg": "hs256"}),
    }
    for what, tok in bad.items():
        r = bearer(ctx, "GET", "/verify", tok)
        b = error_envelope(r, "TOKEN_INVALID", 401)
        assert b["error"]["code"] == "TOKEN_INVALID", what
    # a genuine, correctly signed but expired token
    exp = forge(ctx, dict(c, iat=now - 4000, nbf=now - 4000, exp=now - 10))
    error_envelope(bearer(ctx, "GET", "/verify", exp), "TOKEN_EXPIRED", 401)
    # a forged token signed with the real key is good only while its session is
    check_data(bearer(ctx, "GET", "/verify", forge(ctx, c)), "TokenVerifyResponse")


def test_access_token_not_accepted_as_refresh(ctx):
    at, rt = tokens(ctx)
    error_envelope(refresh(ctx, at), "REFRESH_TOKEN_INVALID", 401)
    error_envelope(refresh(ctx, "x"), "REFRESH_TOKEN_INVALID", 401)


def test_refresh_rotation_and_reuse(ctx):
    at, rt = tokens(ctx)
    r = refresh(ctx, rt)
    d = check_data(r, "RefreshTokenResponse")
    eq(d["expiresIn"], 1800, "expiresIn")
    at2, rt2 = d["accessToken"], d["refreshToken"]
    assert rt2 != rt and at2 != at, "tokens not rotated"
    check_data(bearer(ctx, "GET", "/verify", at2), "TokenVerifyResponse")
    # the old refresh token again: the whole family is revoked
    error_envelope(refresh(ctx, rt), "REFRESH_TOKEN_INVALID", 401)
    error_envelope(bearer(ctx, "GET", "/verify", at2), "TOKEN_INVALID", 401)
    error_envelope(bearer(ctx, "GET", "/verify", at), "TOKEN_INVALID", 401)
    error_envelope(refresh(ctx, rt2), "REFRESH_TOKEN_INVALID", 401)


def test_concurrent_refresh_exactly_one_wins(ctx):
    _, rt = tokens(ctx)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        rs = list(ex.map(lambda _: refresh(ctx, rt), range(8)))
    codes = sorted(r.status for r in rs)
    eq(codes.count(200), 1, "successful refreshes (%r)" % codes)
    eq(codes.count(401), 7, "refused refreshes")


def test_logout_then_reuse(ctx):
    at, rt = tokens(ctx)
    at_b, _ = tokens(ctx)      # another session of the same user
    r = bearer(ctx, "POST", "/logout", at)
    status(r, 200)
    b = r.json()
    eq(b.get("success"), True, "success")
    validate(b, _doc()["components"]["schemas"]["SuccessResponse"])
    error_envelope(bearer(ctx, "GET", "/verify", at), "TOKEN_INVALID", 401)
    error_envelope(bearer(ctx, "POST", "/logout", at), "TOKEN_INVALID", 401)
    error_envelope(refresh(ctx, rt), "REFRESH_TOKEN_INVALID", 401)
    # the other session is not affected
    check_data(bearer(ctx, "GET", "/verify", at_b), "TokenVerifyResponse")


def test_auto_login_session(ctx):
    r = login(ctx, "demo03", "Phonebill!3", auto=True)
    d = check_data(r, "LoginResponse")
    sid = claims_of(d["accessToken"])["sid"]
    ttl = int(redis_cli(ctx, "PTTL", "v1:sess:" + sid))
    assert 86000 * 1000 < ttl <= 86400 * 1000, "auto-login session TTL %d ms" % ttl
    r = login(ctx, "demo03", "Phonebill!3", auto=False)
    sid = claims_of(r.json()["data"]["accessToken"])["sid"]
    ttl = int(redis_cli(ctx, "PTTL", "v1:sess:" + sid))
    assert 1700 * 1000 < ttl <= 1800 * 1000, "session TTL %d ms" % ttl


# --- operators -----------------------------------------------------------------
def test_admin_cli_provisions_user(ctx):
    u = uid("cli")
    rc, out = admin(ctx, ["add", u, "--customer", "C0009", "--line", "01098765432",
                          "--name", "홍길동", "--perm", "PRODUCT_CHANGE"], "First-Pass-1\n")
    assert rc == 0, out
    rc, out = admin(ctx, ["add", u, "--customer", "C0009", "--line", "01098765432",
                          "--name", "홍길동"], "First-Pass-1\n")
    assert rc != 0, "adding twice succeeded"
    d = check_data(login(ctx, u, "First-Pass-1"), "LoginResponse")
    eq(d["user"]["phoneNumber"], "010-9876-5432", "line")
    eq(d["user"]["permissions"], ["PRODUCT_CHANGE"], "permissions")
    rc, out = admin(ctx, ["passwd", u], "Second-Pass-2\n")
    assert rc == 0, out
    error_envelope(login(ctx, u, "First-Pass-1"), "AUTH_001", 401)
    rc, out = admin(ctx, ["grant", u, "BILL_INQUIRY"])
    assert rc == 0, out
    d = check_data(login(ctx, u, "Second-Pass-2"), "LoginResponse")
    eq(sorted(d["user"]["permissions"]), ["BILL_INQUIRY", "PRODUCT_CHANGE"], "granted")
    for i in range(5):
        login(ctx, u, "Wrong-Password-1")
    error_envelope(login(ctx, u, "Second-Pass-2"), "AUTH_003", 401)
    rc, out = admin(ctx, ["unlock", u])
    assert rc == 0, out
    check_data(login(ctx, u, "Second-Pass-2"), "LoginResponse")
    rc, out = admin(ctx, ["list"])
    assert rc == 0, out
    assert u in out and "010-****-5432" in out and "홍*동" in out, out
    assert "01098765432" not in out and "010-9876-5432" not in out, "list shows a line"
    # the password is never an argument
    rc, out = admin(ctx, ["add", uid("cli2"), "--customer", "C", "--line", "01011112222",
                          "--name", "x", "--password", "Secret-123"])
    assert rc != 0, "a --password argument was accepted"


def test_login_history_written(ctx):
    u = new_user(ctx, "hist")
    rid = "hist-%s" % RUN
    login(ctx, u, "Wrong-Password-1", rid=rid + "-f")
    login(ctx, u, PASSWORD, rid=rid + "-s")
    st = _state(ctx)
    time.sleep(0.3)
    q = ("SELECT result, reason, client_masked FROM phonebill_auth.login_history "
         "WHERE user_id = '%s' ORDER BY id" % u)
    rows = helpers.admin_sql(st, q)
    if rows is None:
        raise Skip("cannot query MariaDB as admin")
    eq([r[0] for r in rows], ["FAILURE", "SUCCESS"], "history results")
    assert rows[0][2].endswith(".x"), "client not masked: %r" % rows[0][2]


def test_zz_no_secrets_in_logs(ctx):
    files = _log_files(ctx)
    if not files:
        raise Skip("no log files")
    needles = [pw for pw, _, _ in DEMO.values()] + [PASSWORD, "Wrong-Password-1",
                                                   "Second-Pass-2", "First-Pass-1"]
    needles += [t.split(".")[2] for t in SEEN_TOKENS if t.count(".") == 2 and t.split(".")[2]]
    needles += [t.split(".")[1][:40] for t in SEEN_TOKENS if t.count(".") == 2]
    # personal data: the services' own log lines (the web servers' access
    # logs carry the KOS simulator's URLs, which name lines by design)
    pii = ["010-1234-5678", "01012345678", "김민준", "이서연", "박지훈"]
    for fn in files:
        with open(fn, "rb") as f:
            data = f.read().decode("utf-8", "replace")
        for n in needles:
            assert n not in data, "%s contains a password or token (%s...)" % (fn, n[:4])
        if fn.endswith("access.log"):
            continue
        for line in data.splitlines():
            if "svc=auth" not in line:
                continue
            for n in pii:
                assert n not in line, "%s: an auth log line holds personal data" % fn
