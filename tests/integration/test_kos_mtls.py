"""KOS over a private link: https with our CA and a client certificate
(issue 18, "KOS over a private link").

The test stack serves the KOS simulator over TLS on its own lighttpd port
(PB_KOS_TLS_PORT), with a server certificate from a test CA and client
certificates required (ssl.verifyclient).  The bill service is pointed at
it with kos.ca_file, kos.client_cert_file and kos.client_key_file: bills
are answered through it; without the client certificate KOS cannot be
reached, and the log says it was TLS.  lighttpd only (the Apache config
serves the simulator over plain HTTP).
"""
import os
import re
import signal
import subprocess

from helpers import eq, status
import test_auth as ta

ORDER = 97


def _env(ctx):
    vals = {}
    with open(os.path.join(ta._state(ctx), "stack.env")) as f:
        for ln in f:
            m = re.match(r"^(PB_[A-Z_]+)=(.*)$", ln.strip())
            if m:
                vals[m.group(1)] = m.group(2).strip("'\"")
    return vals


def _tls(ctx):
    if ctx.name != "lighttpd":
        raise ta.Skip("the simulator is served over TLS by lighttpd only")
    st = ta._state(ctx)
    d = os.path.join(st, "kos-tls")
    port = _env(ctx).get("PB_KOS_TLS_PORT")
    if not port or not os.path.isfile(os.path.join(d, "ca.pem")):
        raise ta.Skip("no KOS TLS listener on this stack")
    return d, int(port)


def _curl(url, *extra):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + list(extra) +
                       [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    return p.returncode, p.stdout.decode()


def test_simulator_requires_a_client_certificate(ctx):
    d, port = _tls(ctx)
    url = "https://127.0.0.1:%d/_sim/health" % port
    rc, code = _curl(url, "--cacert", os.path.join(d, "ca.pem"),
                     "--cert", os.path.join(d, "client.pem"),
                     "--key", os.path.join(d, "client.key"))
    eq((rc, code), (0, "200"), "with the client certificate")
    rc, code = _curl(url, "--cacert", os.path.join(d, "ca.pem"))
    assert rc != 0 or code != "200", "answered without a client certificate"
    rc, code = _curl(url, "--cert", os.path.join(d, "client.pem"),
                     "--key", os.path.join(d, "client.key"))
    assert rc != 0, "the server's certificate was accepted without our CA"


def _bill_conf(ctx, kv):
    fn = os.path.join(ta._state(ctx), "conf", "bill.conf")
    with open(fn) as f:
        lines = f.readlines()
    keys = {k for k, _ in kv}
    lines = [ln for ln in lines if ln.split("=")[0].strip() not in keys]
    lines += ["%s = %s\n" % (k, v) for k, v in kv if v is not None]
    with open(fn + ".tmp", "w") as f:
        f.writelines(lines)
    os.chmod(fn + ".tmp", 0o644)
    os.rename(fn + ".tmp", fn)


def _restart_bill(ctx):
    for p in ctx.stack("fcgi-pids").split():
        try:
            if os.path.basename(os.readlink("/proc/%s/exe" % p)).replace(" (deleted)", "") != "phonebill-bill":
                continue
            os.kill(int(p), signal.SIGTERM)
        except (OSError, ProcessLookupError):
            continue
        ctx.wait_for("bill pid %s gone" % p, lambda: not os.path.exists("/proc/%s" % p),
                     timeout=20)
    ctx.wait_for("bills health", lambda: ctx.get("/api/v1/bills/health").status == 200,
                 timeout=30)


def _menu(ctx, at):
    ta.redis_cli(ctx, "DEL", "v1:bill-months:01012345678", "v1:bill-months-stale:01012345678")
    return ctx.request("GET", "/api/v1/bills/menu", headers={"Authorization": "Bearer " + at})


def test_bills_through_kos_over_mutual_tls(ctx):
    d, port = _tls(ctx)
    with open(os.path.join(ta._state(ctx), "conf", "bill.conf")) as f:
        orig = f.read()
    at, _ = ta.tokens(ctx, "demo01")
    url = "https://127.0.0.1:%d" % port
    try:
        _bill_conf(ctx, [("kos.url", url), ("kos.ca_file", os.path.join(d, "ca.pem")),
                         ("kos.client_cert_file", os.path.join(d, "client.pem")),
                         ("kos.client_key_file", os.path.join(d, "client.key"))])
        _restart_bill(ctx)
        status(_menu(ctx, at), 200)
        # the CA but no client certificate: KOS refuses the handshake
        _bill_conf(ctx, [("kos.client_cert_file", None), ("kos.client_key_file", None)])
        _restart_bill(ctx)
        # The first answer after a restart may come from lighttpd itself (a
        # pool socket not listening yet: 503 without KOS ever being asked),
        # so ask again, with a fresh request id, until one reached KOS.
        found = []
        for attempt in range(5):
            rid = "mtls-%s-%d" % (ta.RUN, attempt)
            ta.redis_cli(ctx, "DEL", "v1:bill-months:01012345678",
                         "v1:bill-months-stale:01012345678")
            r = ctx.request("GET", "/api/v1/bills/menu",
                            headers={"Authorization": "Bearer " + at, "X-Request-ID": rid})
            assert r.status in (502, 503), "without a client certificate: %r" % r

            def logged():
                found.clear()
                with open(os.path.join(ta._state(ctx), "lighttpd", "log", "services.log"),
                          "rb") as f:
                    found.extend(ln.decode("utf-8", "replace") for ln in f
                                 if ('rid="%s"' % rid).encode() in ln and b"event=kos_call" in ln)
                return found
            try:
                ctx.wait_for("the kos_call line", logged, timeout=3)
                break
            except AssertionError:
                continue
        assert found, "no request reached KOS in 5 attempts"
        assert any('transport="tls"' in ln for ln in found), found[:2]
    finally:
        with open(os.path.join(ta._state(ctx), "conf", "bill.conf"), "w") as f:
            f.write(orig)
        _restart_bill(ctx)
    status(_menu(ctx, at), 200)
