#!/usr/bin/env python3
"""Integration test runner: the real web server, the real services.

    run.py --base-url https://127.0.0.1:18443 [--http-url http://127.0.0.1:18080]
           [--name lighttpd] [-k SUBSTRING] [--only-module M]... [--skip-module M]...

Discovers tests/integration/test_*.py, runs their test_* functions in file
order (a module may set ORDER = n; default 50) then definition order, prints
one line per test (PASS/FAIL/SKIP name) and a closing
"<name>: N passed, N failed[, N skipped]".  Exit status 1 when any failed.
A test function taking one argument gets a Ctx (URLs, HTTP client, stack
control); one taking none configures itself (e.g. from the environment).
Raise run.Skip or unittest.SkipTest to skip.

Stdlib only.  TLS verification is disabled for 127.0.0.1/localhost only (the
stacks use a self-signed certificate).  Tests that stop Redis or MariaDB use
the command in env PHONEBILL_TEST_STACK_CTL (e.g. "script/stackctl var/test"),
and skip without it.
"""

import argparse
import http.client
import importlib.util
import inspect
import json
import os
import shlex
import socket
import ssl
import subprocess
import sys
import time
import traceback
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


class Skip(unittest.SkipTest):
    """Raise to skip a test with a reason."""


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.header_list = headers  # [(name, value)] as received
        self.body = body

    def header(self, name):
        """The value of a header (None when absent; joined when repeated)."""
        vals = self.headers_all(name)
        return ", ".join(vals) if vals else None

    def headers_all(self, name):
        n = name.lower()
        return [v for k, v in self.header_list if k.lower() == n]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError(
                "body is not JSON (%s): %r" % (e, self.body[:200])) from None

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.reason, self.body[:160])


def _is_local(host):
    return host in ("127.0.0.1", "localhost", "::1")


class Ctx:
    """What a test gets: the URLs, an HTTP client, and the stack control."""

    def __init__(self, base_url, http_url, name, stack_ctl, timeout=15):
        self.base_url = base_url.rstrip("/")
        self.http_url = http_url.rstrip("/") if http_url else None
        self.name = name
        self.stack_ctl = stack_ctl
        self.timeout = timeout

    # --- HTTP ---------------------------------------------------------------
    def _conn(self, base):
        u = urllib.parse.urlsplit(base)
        if u.scheme == "https":
            ctx = ssl.create_default_context()
            if _is_local(u.hostname):
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(
                u.hostname, u.port or 443, timeout=self.timeout, context=ctx)
        return http.client.HTTPConnection(
            u.hostname, u.port or 80, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None, base=None):
        """One request on a fresh connection; returns a Response."""
        base = base or self.base_url
        conn = self._conn(base)
        try:
            hdrs = dict(headers or {})
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.reason, r.getheaders(), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def raw_request(self, method, path, headers, body, base=None):
        """Send the headers with Expect: 100-continue and the body only if
        the server asks for it: how a careful client sends a big body, and
        the only way to read a server's early 413 reliably (the server stops
        reading and may reset the connection under a blind sender)."""
        base = base or self.base_url
        u = urllib.parse.urlsplit(base)
        sock = socket.create_connection((u.hostname, u.port), timeout=self.timeout)
        if u.scheme == "https":
            ctx = ssl.create_default_context()
            if _is_local(u.hostname):
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname=u.hostname)
        try:
            lines = ["%s %s HTTP/1.1" % (method, path),
                     "Host: %s:%d" % (u.hostname, u.port),
                     "Content-Length: %d" % len(body),
                     "Expect: 100-continue",
                     "Connection: close"]
            lines += ["%s: %s" % kv for kv in headers.items()]
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            f = sock.makefile("rb")
            status, reason, hdrs = _read_head(f)
            if status == 100:
                sock.sendall(body)
                status, reason, hdrs = _read_head(f)
            length = None
            for k, v in hdrs:
                if k.lower() == "content-length":
                    length = int(v)
            if length is not None:
                data = f.read(length)
            else:
                data = f.read()
            return Response(status, reason, hdrs, data)
        finally:
            sock.close()

    # --- the stack ------------------------------------------------------------
    def stack(self, *args):
        if not self.stack_ctl:
            raise Skip("PHONEBILL_TEST_STACK_CTL is not set")
        cmd = shlex.split(self.stack_ctl) + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                        out.strip()[-500:]))
        return out

    def wait_for(self, what, fn, timeout=20.0, interval=0.2):
        """Poll fn() until it returns a true value; AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                v = fn()
                if v:
                    return v
                last = v
            except (OSError, http.client.HTTPException, AssertionError) as e:
                last = e
            time.sleep(interval)
        raise AssertionError("timed out after %.0fs waiting for %s (last: %r)"
                             % (timeout, what, last))


def _read_head(f):
    line = f.readline(65537)
    if not line:
        raise AssertionError("connection closed before a response")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    hdrs = []
    while True:
        h = f.readline(65537).decode("latin-1").rstrip("\r\n")
        if not h:
            break
        k, _, v = h.partition(":")
        hdrs.append((k.strip(), v.strip()))
    return status, reason, hdrs


def discover(pattern, only=(), skip=()):
    mods = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        if (only and fn[:-3] not in only) or fn[:-3] in skip:
            continue
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(HERE, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mods.append((getattr(mod, "ORDER", 50), fn, mod))
    tests = []
    for _, fn, mod in sorted(mods, key=lambda m: (m[0], m[1])):
        funcs = [(inspect.getsourcelines(f)[1], n, f)
                 for n, f in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(f)
                 and f.__module__ == mod.__name__]
        for _, n, f in sorted(funcs, key=lambda x: x[0]):
            full = "%s.%s" % (fn[:-3], n)
            if pattern and pattern not in full:
                continue
            tests.append((full, f))
    return tests


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url", required=True, help="HTTPS (or HTTP) base URL")
    ap.add_argument("--http-url", help="plain HTTP base URL of the same server")
    ap.add_argument("--name", default="integration", help="label for the output")
    ap.add_argument("-k", dest="pattern", help="run tests whose name contains this")
    ap.add_argument("--only-module", action="append", default=[],
                    help="run only this module (test_x), repeatable")
    ap.add_argument("--skip-module", action="append", default=[],
                    help="do not run this module (test_x), repeatable")
    args = ap.parse_args()

    sys.path.insert(0, HERE)
    ctx = Ctx(args.base_url, args.http_url, args.name,
              os.environ.get("PHONEBILL_TEST_STACK_CTL"))
    passed = failed = skipped = 0
    for name, fn in discover(args.pattern, args.only_module, args.skip_module):
        label = "%s %s" % (args.name, name)
        t0 = time.monotonic()
        try:
            if inspect.signature(fn).parameters:
                fn(ctx)
            else:
                fn()
        except unittest.SkipTest as e:
            skipped += 1
            print("SKIP %s: %s" % (label, e), flush=True)
            continue
        except AssertionError as e:
            failed += 1
            print("FAIL %s: %s" % (label, str(e) or "assertion failed"), flush=True)
            continue
        except Exception as e:  # an error in the test or the connection
            failed += 1
            tb = traceback.extract_tb(e.__traceback__)[-1]
            print("FAIL %s: %s: %s (%s:%d)" % (label, type(e).__name__, e,
                                               os.path.basename(tb.filename), tb.lineno),
                  flush=True)
            continue
        passed += 1
        print("PASS %s (%.2fs)" % (label, time.monotonic() - t0), flush=True)
    summary = "%d passed, %d failed" % (passed, failed)
    if skipped:
        summary += ", %d skipped" % skipped
    print("%s: %s" % (args.name, summary), flush=True)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
