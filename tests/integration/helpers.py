"""Shared checks for the integration tests."""
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone

SERVICES = ("auth", "bills", "products")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
JSON_CT = "application/json; charset=utf-8"


def eq(actual, expected, what):
    assert actual == expected, "%s: expected %r, got %r" % (what, expected, actual)


def status(r, expected):
    assert r.status == expected, "expected HTTP %d, got %d: %r" % (
        expected, r.status, r.body[:300])


def json_headers(r):
    ct = r.header("Content-Type")
    assert ct is not None, "no Content-Type"
    eq(ct.replace(" ", "").lower(), JSON_CT.replace(" ", ""), "Content-Type")
    cl = r.header("Content-Length")
    assert cl is not None, "no Content-Length (Transfer-Encoding: %s)" % (
        r.header("Transfer-Encoding"),)
    eq(int(cl), len(r.body), "Content-Length vs body length")


def request_id(r):
    rid = r.header("X-Request-ID")
    assert rid is not None, "no X-Request-ID header"
    assert REQUEST_ID.match(rid), "X-Request-ID %r is not 1-64 of [A-Za-z0-9._-]" % rid
    return rid


def timestamp(value):
    assert isinstance(value, str) and RFC3339.match(value), \
        "timestamp %r is not RFC 3339" % (value,)
    datetime.fromisoformat(value.replace("Z", "+00:00"))


def error_envelope(r, code, expected_status):
    """The API's error envelope with this code; returns the parsed body."""
    status(r, expected_status)
    json_headers(r)
    b = r.json()
    assert isinstance(b, dict), "body is not an object: %r" % (b,)
    eq(b.get("success"), False, "success")
    err = b.get("error")
    assert isinstance(err, dict), "no error object: %r" % (b,)
    eq(err.get("code"), code, "error.code")
    assert isinstance(err.get("message"), str) and err["message"], "error.message missing"
    timestamp(err.get("timestamp"))
    return b


def find_key(obj, key):
    """The first value of key anywhere in a JSON document (depth first)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            found = find_key(v, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = find_key(v, key)
            if found is not None:
                return found
    return None


def admin_client(state_dir):
    """The mariadb client's command line as the stack's MariaDB admin over
    its socket (batch output without column names)."""
    return ["mariadb", "--no-defaults", "--protocol=socket", "-S",
            os.path.join(state_dir, "mariadb", "mariadb.sock"), "-u",
            "root" if os.geteuid() == 0 else os.environ.get("USER", "root"),
            "--batch", "--skip-column-names"]


def admin_sql(state_dir, query):
    """Rows (lists of strings) of a query run as the stack's MariaDB admin
    over its socket; None when that is not possible here."""
    p = subprocess.run(admin_client(state_dir) + ["-e", query],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    if p.returncode != 0:
        return None
    return [line.split("\t") for line in p.stdout.decode().splitlines()]


# --- the service's clock ------------------------------------------------------
# Tests never read the host's clock to decide what a service should answer:
# the services' clock may be moved (PHONEBILL_CLOCK_OFFSET_MS, the calendar
# part of script/test), so "now" is what a service says it is.
KST = timezone(timedelta(hours=9))


def service_now(ctx, prefix="/api/v1/auth"):
    """The service's time (aware, KST): its health answer's time (an error
    envelope's timestamp when health has none)."""
    r = ctx.request("GET", prefix + "/health")
    ts = (r.json().get("data") or {}).get("time")
    if ts is None:
        r = ctx.request("GET", prefix + "/no-such-path")
        ts = (r.json().get("error") or {}).get("timestamp")
    timestamp(ts)
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(KST)


def month_add(year, month, n):
    """(year, month) n months after (negative: before) year-month."""
    i = year * 12 + (month - 1) + n
    return i // 12, i % 12 + 1


def service_month(ctx, n=0):
    """'YYYY-MM' n months after the service's current month (KST)."""
    now = service_now(ctx)
    return "%04d-%02d" % month_add(now.year, now.month, n)


def service_today(ctx):
    """The service's date today (KST), a datetime.date."""
    return service_now(ctx).date()
