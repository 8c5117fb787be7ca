"""The personal-data key rotates without downtime (issue 18): README's
procedure, under a small steady load, with rolling restarts of every
service process between its steps:

  1. the new key (version 2) is added as pii.previous_key: it opens, never
     seals;
  2. the new key seals (pii.key_version = 2), the old one (1) only opens;
  3. phonebill-admin rekey seals again under 2 what 1 sealed (MariaDB rows
     in batches, and the sessions in Redis);
  4. the old key is removed.

Logins (users' sealed line and name), bill history and an MVNO delivery
held back since before the rotation (its sealed payload) keep working at
every step, and afterwards nothing in MariaDB names version 1.  Then the
same way back to the stack's own key (the suite's later tests use it).
Also the MVNO HMAC secret on the sender: with the receiver in its overlap
window, the senders roll onto the new secret and no delivery fails.
"""
import json
import os
import re
import secrets
import time

import helpers
from helpers import eq, status
from run import Skip
import test_auth as ta
import test_bill as tb
import test_kos_sim as ks
import test_rotate as rot

ORDER = 97
SVCS = ("auth", "bill", "product")
PII_KEYS = ("pii.key_file", "pii.key_version", "pii.previous_key_file",
            "pii.previous_key_version")
# every sealed column (db/migrations)
SEALED = (("phonebill_auth.users", "line_number_enc"),
          ("phonebill_auth.users", "name_enc"),
          ("phonebill_bill.bill_request_history", "line_number_enc"),
          ("phonebill_bill.bill_request_history", "mvno_payload_enc"),
          ("phonebill_product.product_change_history", "line_number_enc"),
          ("phonebill_product.product_change_history", "mvno_payload_enc"))


def _sql(st, q):
    rows = helpers.admin_sql(st, q)
    if rows is None:
        raise Skip("cannot query MariaDB as its administrator here")
    return rows


def _versions(st):
    """{version: values} over every sealed column; 'none' for values
    without a version header."""
    out = {}
    for table, col in SEALED:
        for hdr, n in _sql(st, "SELECT HEX(LEFT(%s, 3)), COUNT(*) FROM %s WHERE %s IS NOT "
                               "NULL GROUP BY 1" % (col, table, col)):
            v = int(hdr[4:], 16) if hdr.startswith("5042") else "none"
            out[v] = out.get(v, 0) + int(n)
    return out


def _pii_conf(ctx, kv):
    """The pii.* key settings of every service config: exactly kv."""
    st = ta._state(ctx)
    for svc in SVCS:
        fn = os.path.join(st, "conf", svc + ".conf")
        with open(fn) as f:
            lines = [ln for ln in f if ln.split("=")[0].strip() not in PII_KEYS]
        with open(fn + ".tmp", "w") as f:
            f.writelines(lines)
        os.chmod(fn + ".tmp", 0o644)
        os.rename(fn + ".tmp", fn)
        rot._conf_set(ctx, svc, kv)


def _rekey(ctx, *extra):
    st = ta._state(ctx)
    args = ["rekey", "--batch", "2"]
    for svc in SVCS:
        args += ["--config", os.path.join(st, "conf", svc + ".conf")]
    return ta.admin(ctx, args + list(extra))


def _roll_under_load(ctx, tok, kv):
    """Config kv, then a rolling restart while the load runs; no request
    of the load may fail (rot._check_load)."""
    load = rot.Load(ctx, tok, rot.DB_PATHS)
    load.start()
    try:
        _pii_conf(ctx, kv)
        rot._rolling_restart(ctx)
        time.sleep(0.5)
    finally:
        load.stop = True
        load.join(30)
    rot._check_load(load, ctx)


def _works(ctx, tok):
    """Logins (sealed line and name), the user's info and the bill history
    (sealed lines) answer."""
    status(ta.login(ctx, "demo02", ta.DEMO["demo02"][0]), 200)
    d = ta.check_data(ta.bearer(ctx, "GET", "/user-info", tok), "UserInfoResponse")
    eq(d["phoneNumber"], ta.DEMO["demo01"][2], "line number opened (session or users row)")
    status(tb.call(ctx, "GET", "/history", tok), 200)


def test_pii_key_rotation_and_rekey_under_load(ctx):
    st = ta._state(ctx)
    old = os.path.join(st, "secrets", "pii_key")
    new = os.path.join(st, "secrets", "pii_key_v2")
    if not os.path.exists(old):
        raise Skip("the stack keeps no pii_key file")
    tb.ensure_closed(ctx)
    tok, _ = ta.tokens(ctx, "demo01")
    # a delivery held back (MVNO AP down): its payload stays sealed in MariaDB
    ks.set_fault(operation="mvno", mode="http503")
    held = None
    try:
        held = tb.DOC.check_data(tb.inquiry(ctx, tb.months_back(ctx, 1), tok=tok),
                                 "BillInquiryResponse")["requestId"]
        ctx.wait_for("the held payload in MariaDB", lambda: _sql(
            st, "SELECT COUNT(*) FROM phonebill_bill.bill_request_history WHERE "
            "request_id = '%s' AND mvno_payload_enc IS NOT NULL" % held) == [["1"]],
            timeout=15)
        v = _versions(st)
        assert v.get(1, 0) > 0 and set(v) == {1}, "before: %r" % v
        rot._write_secret(new, secrets.token_hex(32))
        # 1: the new key opens everywhere before anyone seals with it
        _roll_under_load(ctx, tok, {"pii.key_file": old, "pii.previous_key_file": new,
                                    "pii.previous_key_version": "2"})
        _works(ctx, tok)
        # 2: the new key seals, the old one opens
        _roll_under_load(ctx, tok, {"pii.key_file": new, "pii.key_version": "2",
                                    "pii.previous_key_file": old})
        _works(ctx, tok)
        tok2, _ = ta.tokens(ctx, "demo01")
        status(tb.inquiry(ctx, tb.months_back(ctx, 2), tok=tok2), 200)
        v = _versions(st)
        assert v.get(1, 0) > 0 and v.get(2, 0) > 0, "both versions in use: %r" % v
        # 3: rekey -- counted first, then done in batches, then nothing left
        rc, out = _rekey(ctx, "--dry-run")
        eq(rc, 0, "rekey --dry-run: %s" % out)
        n = sum(int(x) for x in re.findall(r": (\d+) rows hold", out))
        eq(n > 0, True, "rows counted by the dry run: %s" % out)
        eq(_versions(st).get(1, 0) > 0, True, "a dry run changes nothing")
        rc, out = _rekey(ctx)
        eq(rc, 0, "rekey: %s" % out)
        assert re.search(r"rows done \(id <= \d+\)", out), "no progress line: %s" % out
        assert re.search(r"rekey sessions: [1-9]\d* held", out), "sessions: %s" % out
        v = _versions(st)
        eq(set(v), {2}, "sealed versions after rekey")
        rc, out = _rekey(ctx)      # resumable: a second run finds nothing
        eq((rc, len(re.findall(r": 0 rows hold", out))), (0, 3), out)
        ks.reset_faults()          # the held payload, re-sealed, may go now
        # 4: the old key goes; the sessions from before (re-sealed) still work
        _roll_under_load(ctx, tok, {"pii.key_file": new, "pii.key_version": "2"})
        _works(ctx, tok)
        eq(set(_versions(st)), {2}, "nothing names version 1")
    finally:
        ks.reset_faults()
        _restore(ctx, old, new)
    # the payload sealed under 1 before the rotation went out (re-sealed
    # under 2, then back under 1)
    # (after up to ~6 failed attempts, the backoff is at most ~77 s)
    ctx.wait_for("the held delivery", lambda: ks.deliveries(held), timeout=180)
    eq(set(_versions(st)), {1}, "back on version 1")
    _works(ctx, ta.tokens(ctx, "demo01")[0])


def _restore(ctx, old, new):
    """Back to the stack's own key (version 1) the same way, from whatever
    step the test stopped at: both keys open, the old one seals, rekey,
    the new one goes."""
    if not os.path.exists(new):
        return
    _pii_conf(ctx, {"pii.key_file": new, "pii.key_version": "2",
                    "pii.previous_key_file": old, "pii.previous_key_version": "1"})
    rot._rolling_restart(ctx)
    _pii_conf(ctx, {"pii.key_file": old, "pii.previous_key_file": new,
                    "pii.previous_key_version": "2"})
    rot._rolling_restart(ctx)
    rc, out = _rekey(ctx)
    _pii_conf(ctx, {"pii.key_file": old})
    rot._rolling_restart(ctx)
    os.unlink(new)
    eq(rc, 0, "rekey back: %s" % out)


# --- the MVNO HMAC secret on the sender -----------------------------------------------
def _attempts(st, since, request_id=None, http=None):
    q = ("SELECT COUNT(*) FROM phonebill_bill.mvno_delivery_attempts WHERE id > %d"
         % since)
    if request_id:
        q += " AND request_id = '%s'" % request_id
    if http:
        q += " AND http_status = %d" % http
    return int(_sql(st, q)[0][0])


def test_mvno_sender_secret_rolls_without_failed_delivery(ctx):
    """README's procedure: the receiver accepts the new secret besides the
    old one; the senders (bill, product, phonebill-worker) get the new one
    and roll; no delivery is refused meanwhile.  Then the receiver drops
    the old secret: the senders still on the new one are accepted; here
    the receiver goes back to the old one alone instead, which refuses
    the senders' new signatures (proof that they changed) until they roll
    back."""
    st = ta._state(ctx)
    old_file = os.path.join(st, "secrets", "mvno_hmac_secret")
    new_file = os.path.join(st, "secrets", "mvno_hmac_secret_v2")
    tb.ensure_closed(ctx)
    tok, _ = ta.tokens(ctx, "demo01")
    since = int(_sql(st, "SELECT COALESCE(MAX(id), 0) FROM "
                         "phonebill_bill.mvno_delivery_attempts")[0][0])
    rot._write_secret(new_file, secrets.token_hex(32))
    r2 = None
    try:
        rot._sim_other(ctx, new_file)           # 1: the receiver's overlap window
        rot._restart_sim(ctx)
        r0 = tb.DOC.check_data(tb.inquiry(ctx, tb.months_back(ctx, 1), tok=tok),
                               "BillInquiryResponse")["requestId"]
        for svc in ("bill", "product"):         # 2: the senders roll
            rot._conf_set(ctx, svc, {"mvno.hmac_secret_file": new_file})
        rot._rolling_restart(ctx)
        r1 = tb.DOC.check_data(tb.inquiry(ctx, tb.months_back(ctx, 2), tok=tok),
                               "BillInquiryResponse")["requestId"]
        for rid in (r0, r1):
            ctx.wait_for("delivery %s" % rid, lambda: ks.deliveries(rid), timeout=30)
        eq(_attempts(st, since, http=401), 0, "deliveries refused during the roll")
        # the receiver without the new secret refuses what the senders sign now
        rot._sim_other(ctx, None)
        rot._restart_sim(ctx)
        r2 = tb.DOC.check_data(tb.inquiry(ctx, tb.months_back(ctx, 3), tok=tok),
                               "BillInquiryResponse")["requestId"]
        ctx.wait_for("a refused attempt", lambda: _attempts(st, since, r2, 401) > 0,
                     timeout=30)
    finally:
        for svc in ("bill", "product"):
            rot._conf_set(ctx, svc, {"mvno.hmac_secret_file": old_file})
        rot._rolling_restart(ctx)
        rot._sim_other(ctx, None)
        rot._restart_sim(ctx)
        if os.path.exists(new_file):
            os.unlink(new_file)
    # back on the old secret: the refused delivery is retried and goes out
    ctx.wait_for("delivery %s after the roll back" % r2, lambda: ks.deliveries(r2),
                 timeout=60)
