"""The deploy test's walk through the installed package (tests/deploy/run.sh):
Debian's Apache on DEPLOY_BASE, the packaged KOS simulator on DEPLOY_KOS.
Login -> bill -> plan change as DEPLOY_USER, the security headers, the JSON
error documents, the web UI.  One line per check: "PASS what" / "FAIL what";
exits 1 when any failed.  Standard library only.

Environment: DEPLOY_BASE, DEPLOY_KOS, DEPLOY_USER, DEPLOY_PASSWORD,
DEPLOY_LINE; DEPLOY_SHORT=1 runs only the login and one bill (after the
upgrade).
"""
import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ["DEPLOY_BASE"]
KOS = os.environ["DEPLOY_KOS"]
USER = os.environ["DEPLOY_USER"]
PASSWORD = os.environ["DEPLOY_PASSWORD"]
LINE = os.environ["DEPLOY_LINE"]
SHORT = os.environ.get("DEPLOY_SHORT") == "1"
failed = 0

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def check(ok, what):
    global failed
    print(("PASS " if ok else "FAIL ") + what)
    if not ok:
        failed += 1
    return ok


def call(path, method="GET", body=None, token=None, headers=None, base=BASE):
    """(status, headers, raw body) of one request; never raises on HTTP."""
    h = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=data, headers=h,
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def envelope(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def headers_ok(hdrs, what):
    bad = [k for k, v in SECURITY.items() if hdrs.get(k) != v]
    if "default-src 'self'" not in (hdrs.get("Content-Security-Policy") or ""):
        bad.append("Content-Security-Policy")
    check(not bad, "%s: security headers%s" % (what, (" missing " + ", ".join(bad)) if bad else ""))
    server = hdrs.get("Server") or ""
    check("/" not in server, "%s: no server version (Server: %r)" % (what, server))


def main():
    st, hd, raw = call("/api/v1/auth/health")
    check(st == 200, "auth health 200 (got %d)" % st)
    headers_ok(hd, "auth health")

    st, hd, raw = call("/api/v1/auth/login", "POST",
                       {"userId": USER, "password": PASSWORD, "autoLogin": False})
    env = envelope(raw) or {}
    if not check(st == 200 and env.get("success") is True,
                 "login as %s through Apache (got %d)" % (USER, st)):
        print(raw[:300].decode(errors="replace"))
        return
    token = env["data"]["accessToken"]

    st, hd, raw = call("/api/v1/bills/menu", token=token)
    check(st == 200, "bills/menu 200 (got %d)" % st)
    st, hd, raw = call("/api/v1/bills/inquiry", "POST", {"lineNumber": LINE},
                       token=token)
    env = envelope(raw) or {}
    check(st == 200 and env.get("success") is True,
          "bill inquiry for %s 200 (got %d: %s)" % (LINE, st, raw[:120].decode(errors="replace")))
    headers_ok(hd, "bill inquiry")
    if SHORT:
        return

    st, hd, raw = call("/api/v1/products/menu", token=token)
    env = envelope(raw) or {}
    current = ((env.get("data") or {}).get("currentProduct") or {}).get("productCode")
    check(st == 200 and bool(current),
          "products/menu 200 with the current plan (got %d, %s)" % (st, current))
    st, hd, raw = call("/api/v1/products/available", token=token)
    env = envelope(raw) or {}
    plans = []
    if st == 200:
        data = env.get("data") or {}
        plans = data.get("products") or data.get("availableProducts") or []
        if isinstance(data, list):
            plans = data
    check(st == 200 and len(plans) > 0,
          "products/available 200 with plans (got %d, %d plans)" % (st, len(plans)))
    if plans:
        plan = next((x for x in plans if x.get("onSale", True)), plans[0])
        code = plan.get("productCode")
        body = {"lineNumber": LINE, "currentProductCode": current,
                "targetProductCode": code}
        st, hd, raw = call("/api/v1/products/change/validation", "POST", body,
                           token=token)
        check(st == 200, "plan change pre-check 200 (got %d: %s)" % (st, raw[:160].decode(errors="replace")))
        st, hd, raw = call("/api/v1/products/change", "POST", body, token=token,
                           headers={"Idempotency-Key": "deploy-test-change-1"})
        env = envelope(raw) or {}
        status = (env.get("data") or {}).get("status") or (env.get("data") or {}).get("processStatus")
        check(st == 200 and env.get("success") is True,
              "plan change to %s 200 (got %d, status %s: %s)" % (code, st, status, raw[:160].decode(errors="replace")))

    # Errors Apache answers itself under /api/: the JSON envelope.
    st, hd, raw = call("/api/v1/nosuchservice/x")
    env = envelope(raw) or {}
    check(st == 404 and (env.get("error") or {}).get("code") == "NOT_FOUND"
          and (hd.get("Content-Type") or "").startswith("application/json"),
          "Apache's own 404 under /api/ is the JSON envelope (got %d, %s)"
          % (st, hd.get("Content-Type")))
    headers_ok(hd, "Apache's 404")
    st, hd, raw = call("/api/v1/auth/login", "POST", b"x" * 1100000,
                       headers={"Content-Type": "application/json"})
    env = envelope(raw) or {}
    check(st == 413 and (env.get("error") or {}).get("code") == "PAYLOAD_TOO_LARGE",
          "a body over 1 MiB: 413 JSON envelope (got %d)" % st)

    # The web UI under /phonebill/.
    st, hd, raw = call("/phonebill/")
    check(st == 200 and b"js/app.js" in raw, "web UI /phonebill/ 200 (got %d)" % st)
    headers_ok(hd, "web UI")
    st, hd, raw = call("/phonebill/js/api.js")
    check(st == 200 and "javascript" in (hd.get("Content-Type") or ""),
          "web UI module served as JavaScript (got %d, %s)" % (st, hd.get("Content-Type")))

    # Put the simulator's data back (the plan change altered it).
    st, hd, raw = call("/_sim/data/reset", "POST", b"", base=KOS)
    check(st == 200, "simulator data reset (got %d)" % st)


main()
sys.exit(1 if failed else 0)
