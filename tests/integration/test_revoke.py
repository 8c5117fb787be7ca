"""Account changes take effect on the next request (issue 18, items 1-5).

Each scenario signs a fresh user in, changes the account the way an
operator does (phonebill-admin, or SQL straight into MariaDB), and checks
that the old access token is refused by bills and auth at once and that the
old refresh token gets nothing: delete, suspend, lock (five failures),
password change, permission revoke.  Also the refresh's absolute lifetime:
a session older than auth.session_max_s cannot be refreshed, and rotation
within it never moves the refresh token's expiry past the end.
"""
import json
import os
import time

import helpers
from helpers import eq, status
import test_auth as ta
from test_auth import admin, new_user, login, bearer, refresh, claims_of, redis_cli

ORDER = 45


def _bills(ctx, tok):
    return ctx.request("GET", "/api/v1/bills/history",
                       headers={"Authorization": "Bearer " + tok})


def _signed_in(ctx, tag, perms=("BILL_INQUIRY",), auto=None):
    u = new_user(ctx, tag, perms=perms)
    r = login(ctx, u, ta.PASSWORD, auto=auto)
    status(r, 200)
    d = r.json()["data"]
    status(_bills(ctx, d["accessToken"]), 200)
    status(bearer(ctx, "GET", "/verify", d["accessToken"]), 200)
    return u, d["accessToken"], d["refreshToken"]


def _all_refused(ctx, at, rt, what):
    r = _bills(ctx, at)
    assert r.status == 401, "%s: bills answered %d to the old access token" % (what, r.status)
    ta.error_envelope(r, "TOKEN_INVALID", 401)
    ta.error_envelope(bearer(ctx, "GET", "/verify", at), "TOKEN_INVALID", 401)
    r = refresh(ctx, rt)
    assert r.status == 401, "%s: refresh answered %d: %r" % (what, r.status, r.body[:200])
    ta.error_envelope(r, "REFRESH_TOKEN_INVALID", 401)


def _cli(ctx, *args, stdin=""):
    rc, out = admin(ctx, list(args), stdin)
    assert rc == 0, "phonebill-admin %s: %s" % (" ".join(args), out)


def _sql(ctx, q):
    rows = helpers.admin_sql(ta._state(ctx), q)
    if rows is None:
        raise ta.Skip("cannot reach MariaDB as its administrator here")
    return rows


def test_delete_ends_access_at_once(ctx):
    u, at, rt = _signed_in(ctx, "del")
    _cli(ctx, "delete", u)
    _all_refused(ctx, at, rt, "deleted user")
    ta.error_envelope(login(ctx, u, ta.PASSWORD), "AUTH_001", 401)


def test_delete_in_sql_refresh_refused(ctx):
    # A row deleted behind the CLI's back: the refresh re-reads the user.
    u, at, rt = _signed_in(ctx, "sqldel")
    _sql(ctx, "DELETE FROM phonebill_auth.users WHERE user_id = '%s'" % u)
    ta.error_envelope(refresh(ctx, rt), "REFRESH_TOKEN_INVALID", 401)
    # and the refusal ended the session
    ta.error_envelope(bearer(ctx, "GET", "/verify", at), "TOKEN_INVALID", 401)


def test_suspend_ends_access_and_activate_allows_login(ctx):
    u, at, rt = _signed_in(ctx, "susp", auto=True)
    _cli(ctx, "suspend", u)
    _all_refused(ctx, at, rt, "suspended user")
    ta.error_envelope(login(ctx, u, ta.PASSWORD), "AUTH_001", 401)
    _cli(ctx, "activate", u)
    status(login(ctx, u, ta.PASSWORD), 200)


def test_suspend_in_sql_refresh_refused(ctx):
    u, _, rt = _signed_in(ctx, "sqlsusp")
    _sql(ctx, "UPDATE phonebill_auth.users SET status = 'SUSPENDED' WHERE user_id = '%s'" % u)
    ta.error_envelope(refresh(ctx, rt), "REFRESH_TOKEN_INVALID", 401)


def test_lock_ends_access(ctx):
    u, at, rt = _signed_in(ctx, "lockd")
    addr = ta._addr()
    for _ in range(4):
        ta.error_envelope(login(ctx, u, "Wrong-Password-1", addr=addr), "AUTH_001", 401)
    ta.error_envelope(login(ctx, u, "Wrong-Password-1", addr=addr), "AUTH_002", 401)
    _all_refused(ctx, at, rt, "locked user")


def test_password_change_ends_sessions(ctx):
    u, at, rt = _signed_in(ctx, "pwchg")
    d = login(ctx, u, ta.PASSWORD).json()["data"]      # a second session
    at2, rt2 = d["accessToken"], d["refreshToken"]
    _cli(ctx, "passwd", u, stdin="Another-Pass-77\n")
    _all_refused(ctx, at, rt, "password changed")
    _all_refused(ctx, at2, rt2, "password changed (second session)")
    status(login(ctx, u, "Another-Pass-77"), 200)


def test_permission_revoke_takes_effect(ctx):
    u, at, rt = _signed_in(ctx, "perm", perms=("BILL_INQUIRY", "PRODUCT_CHANGE"))
    _cli(ctx, "revoke", u, "BILL_INQUIRY")
    _all_refused(ctx, at, rt, "permission revoked")
    r = login(ctx, u, ta.PASSWORD)
    status(r, 200)
    at = r.json()["data"]["accessToken"]
    ta.error_envelope(_bills(ctx, at), "FORBIDDEN", 403)


def test_permission_revoked_in_sql_gone_after_refresh(ctx):
    u, at, rt = _signed_in(ctx, "sqlperm", perms=("BILL_INQUIRY", "PRODUCT_CHANGE"))
    _sql(ctx, "DELETE FROM phonebill_auth.user_permissions WHERE permission = 'BILL_INQUIRY' "
              "AND user_ref = (SELECT id FROM phonebill_auth.users WHERE user_id = '%s')" % u)
    r = refresh(ctx, rt)
    status(r, 200)
    at2 = r.json()["data"]["accessToken"]
    v = bearer(ctx, "GET", "/verify", at2).json()["data"]["user"]["permissions"]
    eq(v, ["PRODUCT_CHANGE"], "permissions after refresh")
    ta.error_envelope(_bills(ctx, at2), "FORBIDDEN", 403)


def test_admin_logout_ends_every_session(ctx):
    u, at, rt = _signed_in(ctx, "out")
    _cli(ctx, "logout", u)
    _all_refused(ctx, at, rt, "admin logout")
    status(login(ctx, u, ta.PASSWORD), 200)


def test_other_users_unaffected(ctx):
    u, at, rt = _signed_in(ctx, "keep")
    v, _, _ = _signed_in(ctx, "gone")
    _cli(ctx, "delete", v)
    status(_bills(ctx, at), 200)
    status(refresh(ctx, rt), 200)


# --- item 5: the absolute lifetime -------------------------------------------------
def test_refresh_expiry_never_past_session_end(ctx):
    r = login(ctx, "demo02", ta.DEMO["demo02"][0], auto=True)
    d = r.json()["data"]
    end = claims_of(d["refreshToken"])["exp"]
    born = claims_of(d["accessToken"])["iat"]
    eq(end - born, 86400, "first refresh token: 24 h")
    rt = d["refreshToken"]
    for _ in range(3):
        r = refresh(ctx, rt)
        status(r, 200)
        rt = r.json()["data"]["refreshToken"]
        assert claims_of(rt)["exp"] <= end, "rotation moved the end past the login + 24 h"


def test_refresh_refused_after_absolute_lifetime(ctx):
    # The session's login time is a value in Redis from the services' clock;
    # moving it a day back is what 24 hours of refreshing looks like to them.
    r = login(ctx, "demo02", ta.DEMO["demo02"][0], auto=True)
    d = r.json()["data"]
    sid = claims_of(d["accessToken"])["sid"]
    born = int(redis_cli(ctx, "HGET", "v1:sess:" + sid, "born"))
    r = refresh(ctx, d["refreshToken"])
    status(r, 200)
    rt = r.json()["data"]["refreshToken"]
    redis_cli(ctx, "HSET", "v1:sess:" + sid, "born", str(born - 86400 * 1000))
    ta.error_envelope(refresh(ctx, rt), "REFRESH_TOKEN_INVALID", 401)
    eq(redis_cli(ctx, "EXISTS", "v1:sess:" + sid), "0", "session deleted at its end")
