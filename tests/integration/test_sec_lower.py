"""The lower items of issue 18 through the web server: float exp (9), a
corrupted encrypted column (10), weak hashes upgraded (11), passwords up to
128 bytes (12), large and length-less POSTs (16, lighttpd's HTTP/2 and
HTTP/1.1 parsing), respawn after a crash (17).
"""
import ctypes
import ctypes.util
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse

import helpers
from helpers import eq, status
import test_auth as ta

ORDER = 48


def _sql(ctx, q):
    rows = helpers.admin_sql(ta._state(ctx), q)
    if rows is None:
        raise ta.Skip("cannot reach MariaDB as its administrator here")
    return rows


# --- 9 ------------------------------------------------------------------------------
def test_float_exp_refused(ctx):
    at, _ = ta.tokens(ctx, "demo02")
    c = ta.claims_of(at)
    status(ta.bearer(ctx, "GET", "/verify", ta.forge(ctx, c)), 200)      # control
    for exp in (float(c["exp"]), 9999999999.0, 1.5e10):
        c2 = dict(c, exp=exp)
        tok = ta.forge(ctx, c2)
        ta.error_envelope(ta.bearer(ctx, "GET", "/verify", tok), "TOKEN_INVALID", 401)
        r = ctx.request("GET", "/api/v1/bills/menu", headers={"Authorization": "Bearer " + tok})
        ta.error_envelope(r, "TOKEN_INVALID", 401)


# --- 10 -----------------------------------------------------------------------------
def test_corrupt_column_is_500_and_logged_as_corruption(ctx):
    u = ta.new_user(ctx, "corrupt")
    _sql(ctx, "UPDATE phonebill_auth.users SET name_enc = 0x00112233445566778899 "
              "WHERE user_id = '%s'" % u)
    rid = "corrupt-%s-%s" % (ta.RUN, ctx.name)
    try:
        r = ta.login(ctx, u, ta.PASSWORD, rid=rid)
    finally:
        ta.admin(ctx, ["delete", u])    # phonebill-admin list must not meet it
    ta.error_envelope(r, "INTERNAL_SERVER_ERROR", 500)
    lines = []

    def found():
        lines.clear()
        for fn in ta._log_files(ctx):
            with open(fn, "rb") as f:
                for ln in f:
                    s = ln.decode("utf-8", "replace")
                    if 'rid="%s"' % rid in s:
                        lines.append(s)
        return any("event=data_corruption" in s for s in lines)
    ctx.wait_for("the data_corruption line", found, timeout=10)
    assert not any("dependency_down" in s for s in lines), "logged as a database outage"


# --- 11 -----------------------------------------------------------------------------
def _weak_hash(pw):
    lib = ctypes.util.find_library("sodium")
    if not lib:
        raise ta.Skip("libsodium not found for ctypes")
    so = ctypes.CDLL(lib)
    if so.sodium_init() < 0:
        raise ta.Skip("sodium_init")
    out = ctypes.create_string_buffer(128)
    b = pw.encode()
    # crypto_pwhash_str_alg(out, pw, len, opslimit, memlimit, alg=ARGON2ID13)
    so.crypto_pwhash_str_alg.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong,
                                         ctypes.c_ulonglong, ctypes.c_size_t, ctypes.c_int]
    if so.crypto_pwhash_str_alg(out, b, len(b), 1, 8192, 2) != 0:
        raise ta.Skip("crypto_pwhash_str_alg failed")
    return out.value.decode()


def test_weak_hash_upgraded_at_login(ctx):
    u = ta.new_user(ctx, "weak")
    weak = _weak_hash(ta.PASSWORD)
    assert "m=8,t=1" in weak, weak
    _sql(ctx, "UPDATE phonebill_auth.users SET password_hash = '%s' WHERE user_id = '%s'"
         % (weak, u))
    status(ta.login(ctx, u, ta.PASSWORD), 200)
    h = _sql(ctx, "SELECT password_hash FROM phonebill_auth.users WHERE user_id = '%s'" % u)[0][0]
    assert h != weak and "m=65536,t=2" in h, "hash not upgraded: %s" % h[:40]
    status(ta.login(ctx, u, ta.PASSWORD), 200)


# --- 12 -----------------------------------------------------------------------------
def test_long_passwords(ctx):
    for n in (64, 128):
        u = ta.uid("pw%d" % n)
        pw = ("Aa1!" * 40)[:n]
        rc, out = ta.admin(ctx, ["add", u, "--customer", "C9", "--line", "010-9999-0001",
                                 "--name", "테스트"], pw + "\n")
        assert rc == 0, "admin add with a %d-byte password: %s" % (n, out)
        status(ta.login(ctx, u, pw), 200)
    r = ta.login(ctx, "demo01", "x" * 129)
    ta.error_envelope(r, "VALIDATION_ERROR", 400)


# --- 16 -----------------------------------------------------------------------------
def test_http2_big_post_gets_413_envelope(ctx):
    if ctx.name != "lighttpd":
        raise ta.Skip("HTTP/2 is lighttpd's (the Apache config serves HTTP/1.1)")
    body = "/tmp/pb-h2-big-%d.json" % os.getpid()
    with open(body, "wb") as f:
        f.write(b"a" * (2 * 1024 * 1024))
    try:
        p = subprocess.run(["curl", "-sk", "--http2", "-o", "-", "-w", "\n%{http_code} %{http_version}",
                            "-X", "POST", "-H", "Content-Type: application/json",
                            "--data-binary", "@" + body, ctx.base_url + "/api/v1/auth/login"],
                           stdout=subprocess.PIPE, timeout=60)
    finally:
        os.unlink(body)
    out = p.stdout.decode("utf-8", "replace")
    text, _, tail = out.rpartition("\n")
    eq(tail, "413 2", "status and HTTP version")
    b = json.loads(text)
    eq(b["error"]["code"], "PAYLOAD_TOO_LARGE", "error code")


def test_post_without_content_length_gets_envelope(ctx):
    u = urllib.parse.urlsplit(ctx.base_url)
    sock = socket.create_connection((u.hostname, u.port), timeout=15)
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    sock = tls.wrap_socket(sock, server_hostname=u.hostname)
    try:
        sock.sendall(("POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\n"
                      "Content-Type: application/json\r\nConnection: close\r\n\r\n"
                      % u.hostname).encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    st = int(head.split(b" ")[1])
    assert st in (400, 411), "status %d" % st
    assert b"application/json" in head.lower(), "not JSON: %r" % head
    b = json.loads(body.decode("utf-8"))
    eq(b["success"], False, "success")
    eq(b["error"]["code"], "VALIDATION_ERROR", "error code")


# --- 17 -----------------------------------------------------------------------------
def _auth_pids(ctx):
    out = ctx.stack("fcgi-pids").split()
    pids = []
    for p in out:
        try:
            if os.path.basename(os.readlink("/proc/%s/exe" % p)).replace(" (deleted)", "") == "phonebill-auth":
                pids.append(int(p))
        except OSError:
            pass
    return pids


def test_crashed_auth_processes_are_respawned(ctx):
    before = _auth_pids(ctx)
    if not before:
        raise ta.Skip("no auth processes found")
    for p in before:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def back():
        r = ctx.get("/api/v1/auth/health")
        return r.status == 200 and ta.login(ctx, "demo02", ta.DEMO["demo02"][0]).status == 200
    ctx.wait_for("auth answering again after kill -9", back, timeout=30)
    after = _auth_pids(ctx)
    assert after and not set(after) & set(before), "no new auth processes: %r %r" % (before, after)


# --- 14 -----------------------------------------------------------------------------
def test_foreign_line_403_logs_the_user(ctx):
    at, _ = ta.tokens(ctx, "demo02")
    rid = "foreign-%s" % ta.RUN
    r = ctx.request("POST", "/api/v1/bills/inquiry",
                    body=json.dumps({"lineNumber": "010-1234-5678"}),
                    headers={"Authorization": "Bearer " + at, "Content-Type": "application/json",
                             "X-Request-ID": rid})
    ta.error_envelope(r, "FORBIDDEN", 403)
    lines = []

    def found():
        lines.clear()
        for fn in ta._log_files(ctx):
            with open(fn, "rb") as f:
                lines.extend(ln.decode("utf-8", "replace") for ln in f
                             if ('rid="%s"' % rid).encode() in ln)
        return any("event=forbidden" in s for s in lines)
    ctx.wait_for("the forbidden line", found, timeout=10)
    ln = [s for s in lines if "event=forbidden" in s][0]
    assert 'user="demo02"' in ln, ln
    assert "1234-5678" not in ln and "12345678" not in ln, "raw line logged: %s" % ln
