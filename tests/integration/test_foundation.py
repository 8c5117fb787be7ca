"""The foundation every service shares: health, envelope, headers, limits."""
from helpers import (SERVICES, eq, status, json_headers, request_id, timestamp,
                     error_envelope)
from run import Skip

ORDER = 10


def _health(ctx, svc, base=None):
    r = ctx.get("/api/v1/%s/health" % svc, base=base)
    status(r, 200)
    json_headers(r)
    request_id(r)
    b = r.json()
    eq(b.get("success"), True, "success")
    assert isinstance(b.get("message"), str) and b["message"], "message missing"
    d = b.get("data")
    assert isinstance(d, dict), "no data object: %r" % (b,)
    eq(d.get("status"), "UP", "data.status")
    eq(d.get("redis"), "UP", "data.redis")
    eq(d.get("database"), "UP", "data.database")


def test_health_auth_https(ctx):
    _health(ctx, "auth")


def test_health_bills_https(ctx):
    _health(ctx, "bills")


def test_health_products_https(ctx):
    _health(ctx, "products")


def test_health_all_plain_http(ctx):
    if not ctx.http_url:
        raise Skip("no --http-url")
    for svc in SERVICES:
        _health(ctx, svc, base=ctx.http_url)


def test_https_is_tls(ctx):
    if not ctx.base_url.startswith("https://"):
        raise Skip("base URL is not HTTPS")
    import ssl
    import socket
    import urllib.parse
    u = urllib.parse.urlsplit(ctx.base_url)
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        with c.wrap_socket(s, server_hostname=u.hostname) as t:
            assert t.version() in ("TLSv1.2", "TLSv1.3"), t.version()


def test_request_id_generated(ctx):
    a = request_id(ctx.get("/api/v1/auth/health"))
    b = request_id(ctx.get("/api/v1/auth/health"))
    assert a != b, "two requests got the same generated id %r" % a


def test_request_id_echoed(ctx):
    for svc in SERVICES:
        rid = "itest-%s_1.2-AbC" % svc
        r = ctx.get("/api/v1/%s/health" % svc, headers={"X-Request-ID": rid})
        eq(r.header("X-Request-ID"), rid, "%s X-Request-ID" % svc)


def test_request_id_echoed_on_errors(ctx):
    rid = "itest-404-echo"
    r = ctx.get("/api/v1/auth/no-such-thing", headers={"X-Request-ID": rid})
    status(r, 404)
    eq(r.header("X-Request-ID"), rid, "X-Request-ID")


def test_request_id_replaced_when_too_long(ctx):
    rid = "a" * 65
    r = ctx.get("/api/v1/auth/health", headers={"X-Request-ID": rid})
    got = request_id(r)
    assert got != rid, "a 65-character id was echoed"
    ok64 = "b" * 64
    eq(ctx.get("/api/v1/auth/health", headers={"X-Request-ID": ok64}).header("X-Request-ID"),
       ok64, "a 64-character id")


def test_request_id_replaced_when_bad_chars(ctx):
    for bad in ("abc def", "ab/cd", "x;y", "id<script>", "\u00e9t\u00e9".encode("utf-8").decode("latin-1")):
        r = ctx.get("/api/v1/auth/health", headers={"X-Request-ID": bad})
        got = request_id(r)
        assert got != bad, "invalid id %r was echoed" % bad


def test_content_type_and_length(ctx):
    for path in ("/api/v1/auth/health", "/api/v1/bills/nope", "/api/v1/products/health"):
        r = ctx.get(path)
        json_headers(r)
        assert r.header("Transfer-Encoding") is None, "%s: chunked answer" % path


def test_unknown_path_404(ctx):
    for svc in SERVICES:
        r = ctx.get("/api/v1/%s/does-not-exist/really" % svc)
        error_envelope(r, "NOT_FOUND", 404)
        request_id(r)


def test_unknown_service_404_is_json(ctx):
    # Answered by the web server itself (no service owns the prefix).
    r = ctx.get("/api/v1/no-such-service/x")
    status(r, 404)
    json_headers(r)
    b = r.json()
    eq(b.get("success"), False, "success")
    eq(b.get("error", {}).get("code"), "NOT_FOUND", "error.code")
    timestamp(b["error"].get("timestamp"))


def test_wrong_method_405(ctx):
    for method in ("DELETE", "PUT", "PATCH"):
        r = ctx.request(method, "/api/v1/auth/health", body=b"{}",
                        headers={"Content-Type": "application/json"})
        error_envelope(r, "METHOD_NOT_ALLOWED", 405)
        allow = r.header("Allow")
        assert allow and "GET" in allow.upper(), "Allow header %r lacks GET" % allow


def test_post_2mib_413_envelope(ctx):
    body = b"{" + b" " * (2 * 1024 * 1024 - 2) + b"}"
    r = ctx.raw_request("POST", "/api/v1/auth/health",
                        {"Content-Type": "application/json"}, body)
    error_envelope(r, "PAYLOAD_TOO_LARGE", 413)


def test_post_2mib_413_plain_http(ctx):
    if not ctx.http_url:
        raise Skip("no --http-url")
    body = b"[" + b"0," * (1024 * 1024) + b"0]"
    r = ctx.raw_request("POST", "/api/v1/bills/health",
                        {"Content-Type": "application/json"}, body, base=ctx.http_url)
    error_envelope(r, "PAYLOAD_TOO_LARGE", 413)


def test_post_over_max_body_413_from_service(ctx):
    # Over http.max_body (64 KiB) but under the web server's 1 MiB cap: the
    # service itself answers, with its request id.
    body = b"{\"pad\":\"" + b"x" * (100 * 1024) + b"\"}"
    r = ctx.request("POST", "/api/v1/auth/health", body=body,
                    headers={"Content-Type": "application/json"})
    error_envelope(r, "PAYLOAD_TOO_LARGE", 413)
    request_id(r)


def test_post_text_plain_415(ctx):
    for svc in SERVICES:
        r = ctx.request("POST", "/api/v1/%s/health" % svc, body=b"hello",
                        headers={"Content-Type": "text/plain"})
        error_envelope(r, "UNSUPPORTED_MEDIA_TYPE", 415)


def test_authorization_header_reaches_service(ctx):
    # Apache + mod_fcgid drops Authorization unless told; the service must
    # still answer normally when one is sent.
    r = ctx.get("/api/v1/auth/health", headers={"Authorization": "Bearer x.y.z"})
    status(r, 200)


def test_static_index(ctx):
    r = ctx.get("/")
    status(r, 200)
    ct = (r.header("Content-Type") or "").lower()
    assert ct.startswith("text/html"), "Content-Type %r" % ct


def test_security_headers(ctx):
    for path in ("/", "/api/v1/auth/health"):
        r = ctx.get(path)
        eq(r.header("X-Content-Type-Options"), "nosniff", path + " X-Content-Type-Options")
        csp = r.header("Content-Security-Policy")
        assert csp, "%s: no Content-Security-Policy" % path
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
        assert "script-src 'self'" in csp or "default-src 'self'" in csp, csp
        assert "frame-ancestors 'none'" in csp, csp
