"""The client address and request header fields (issue 18, items 6, 13, 14).

The client's address is what the web server's own module says
(lighttpd mod_extforward, Apache mod_remoteip; the test stack trusts
X-Forwarded-For from 127.0.0.1 only): the services never read
X-Forwarded-For, so a header spelled X_Forwarded_For -- which lighttpd
passes as HTTP_X_FORWARDED_FOR too -- neither gives a fresh rate-limit
bucket nor lands in the logs or login_history.  Header fields that
collide that way are refused, and more than 100 header fields are refused
with the API's envelope.
"""
import json
import os
import random
import time

import helpers
from helpers import eq, status
import test_auth as ta

ORDER = 46
SPOOF = "198.51.100.%d"     # TEST-NET-2: nobody else in the suite uses it


def _login(ctx, user, headers):
    h = {"Content-Type": "application/json"}
    h.update(headers)
    return ctx.request("POST", "/api/v1/auth/login",
                       body=json.dumps({"userId": user, "password": "Wrong-Password-1"}),
                       headers=h)


def test_underscore_forwarded_for_does_not_bypass_rate_limit(ctx):
    fixed = ta._addr()
    counted = []
    for i in range(25):
        # the spoofed spelling first: a program reading the first
        # HTTP_X_FORWARDED_FOR would see a new address every time
        r = _login(ctx, ta.uid("us%d" % i), {"X_Forwarded_For": SPOOF % random.randint(1, 254),
                                            "X-Forwarded-For": fixed})
        assert r.status in (400, 401, 429), "unexpected %r" % r
        if r.status == 400:
            ta.error_envelope(r, "VALIDATION_ERROR", 400)
        counted.append(r.status)
    # lighttpd: the colliding fields are refused (400); Apache drops the
    # underscore field, so the fixed address is limited after 20 attempts
    assert counted.count(401) <= 20, "more than 20 attempts from one address: %r" % counted
    assert 401 not in counted or 429 in counted, "no 429: %r" % counted


def test_underscore_forwarded_for_alone_is_ignored(ctx):
    # Only the underscore spelling: the client is the TCP peer's (127.0.0.1)
    # or nothing the client chose; the spoofed address is used nowhere.
    u = ta.new_user(ctx, "usalone")
    spoof = SPOOF % 77
    r = _login(ctx, u, {"X_Forwarded_For": spoof})
    assert r.status in (400, 401, 429), r
    time.sleep(0.3)
    rows = helpers.admin_sql(ta._state(ctx), "SELECT client_masked FROM "
                             "phonebill_auth.login_history WHERE client_masked LIKE '198.51.100.%'")
    if rows is None:
        raise ta.Skip("cannot query MariaDB as admin")
    eq(rows, [], "login_history rows with a spoofed address")


def test_spoofed_address_in_no_log(ctx):
    seen = []
    for fn in ta._log_files(ctx) + [os.path.join(ta._state(ctx), "apache", "log", "access.log")]:
        if not os.path.isfile(fn):
            continue
        with open(fn, "rb") as f:
            for line in f:
                if b"198.51.100." in line:
                    seen.append((os.path.basename(fn), line[:160]))
    eq(seen, [], "log lines with a spoofed address")


def test_forwarded_address_reaches_bill_and_product_logs(ctx):
    # item 14: the services log the client's address, not the proxy's
    at, _ = ta.tokens(ctx, "demo01")
    addr = "10.%d.%d.%d" % (random.randint(0, 255), random.randint(0, 255), random.randint(1, 254))
    for path in ("/api/v1/bills/menu", "/api/v1/products/menu"):
        r = ctx.request("GET", path, headers={"Authorization": "Bearer " + at,
                                               "X-Forwarded-For": addr})
        status(r, 200)
    # the programs' own lines: lighttpd's services.log, Apache's error.log
    logs = [fn for fn in ta._log_files(ctx)
            if fn.endswith("services.log") or "/apache/" in fn]
    data = ""
    for fn in logs:
        with open(fn, "rb") as f:
            data += f.read().decode("utf-8", "replace")
    for svc in ("bill", "product"):
        assert any("svc=%s" % svc in ln and 'remote="%s"' % addr in ln
                   for ln in data.splitlines()), "%s logged no line with the client address" % svc


def test_too_many_header_fields(ctx):
    h = {"X-Filler-%03d" % i: "1" for i in range(150)}
    r = ctx.request("GET", "/api/v1/auth/health", headers=h)
    assert r.status in (400, 431), "150 header fields: %r" % r
    ta.error_envelope(r, "VALIDATION_ERROR", r.status)
    # 60 are fine
    h = {"X-Filler-%03d" % i: "1" for i in range(60)}
    status(ctx.request("GET", "/api/v1/auth/health", headers=h), 200)
