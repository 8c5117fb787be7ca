"""Our own OpenAPI description, docs/openapi/phonebill.yaml, against the code
and against the live services.

Static (no stack needed):
  * the file is well formed: every $ref resolves, every path parameter is
    declared, every response documents the envelope and X-Request-ID, every
    example fits its schema, operations with a token have 401, with a
    permission 403, with a body 400/413/415 ...;
  * the services' route tables (fcgi/*/main.c) and the spec's paths and
    methods are the same set;
  * every error code the services' C code can answer is in the spec's
    ErrorCode, and ErrorCode is docs/API.md's table.

Live: every operation is called through the web server, for its success and
at least one error (401, 403, 400, 404, 409, 503 ... where cheap), and each
answer is checked against the spec's response for that status: the status
must be documented for the operation, the documented headers present and
well formed, the body valid against the schema (a JSON-schema subset
validator: type, nullable, enum, required, properties, additionalProperties,
items, minItems/maxItems, allOf, oneOf, anyOf, pattern, minLength/maxLength,
minimum/maximum, format date-time/date/uuid).  The request bodies sent are
checked against the spec's request schemas as well (valid ones valid,
refused ones invalid), where the schema can tell.

Plan changes use the KOS simulator's test line 010-9999-0000 through users
made for the run; the simulator's data, its fault switches and the product
caches are reset afterwards (test_product.sim_reset).  ORDER 70: after
test_product.
"""
import datetime
import json
import os
import re
import uuid

import helpers
import schema
import test_auth as auth
import test_bill as bill
import test_kos_sim as sim
import test_product as prod
from helpers import eq, status
from run import Skip

ORDER = 70
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPEC_FILE = os.path.join(ROOT, "docs", "openapi", "phonebill.yaml")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}$")
LINE = prod.LINE                 # the simulator's test line, seeded on SEED
DIGITS = prod.DIGITS
SEED = prod.SEED_PLAN
DEMO01_LINE = bill.DEMO01_LINE
NO_PLAN_LINE = "010-9999-0003"   # KOS: no registered plan (3003)
OTHER_LINE = "010-2345-6789"     # demo02's
SEEN = {}                        # (template, method) -> statuses checked


# --- the validator -----------------------------------------------------------------
class Spec(schema.Doc):
    """schema.Doc with the rest of the subset our spec uses."""

    def validate(self, value, sch, path="$"):
        sch = self.resolve(sch)
        assert isinstance(sch, dict), "%s: schema is %r" % (path, sch)
        if value is None:
            if sch.get("nullable"):
                return
            assert "type" not in sch, "%s: null where %s is expected" % (path, sch["type"])
        t = sch.get("type")
        if t is not None:
            ok = {"object": lambda v: isinstance(v, dict),
                  "array": lambda v: isinstance(v, list),
                  "string": lambda v: isinstance(v, str),
                  "boolean": lambda v: isinstance(v, bool),
                  "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "number": lambda v: (isinstance(v, (int, float)) and
                                       not isinstance(v, bool))}[t](value)
            assert ok, "%s: %r is not %s" % (path, value, t)
        if "enum" in sch:
            assert value in sch["enum"], "%s: %r not in %r" % (path, value, sch["enum"])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in sch:
                assert value >= sch["minimum"], "%s: %r < %r" % (path, value, sch["minimum"])
            if "maximum" in sch:
                assert value <= sch["maximum"], "%s: %r > %r" % (path, value, sch["maximum"])
        if isinstance(value, str):
            self._string(value, sch, path)
        if isinstance(value, dict):
            self._object(value, sch, path)
        if isinstance(value, list):
            if "minItems" in sch:
                assert len(value) >= sch["minItems"], "%s: fewer than %d items" % (
                    path, sch["minItems"])
            if "maxItems" in sch:
                assert len(value) <= sch["maxItems"], "%s: more than %d items" % (
                    path, sch["maxItems"])
            if "items" in sch:
                for i, v in enumerate(value):
                    self.validate(v, sch["items"], "%s[%d]" % (path, i))
        for sub in sch.get("allOf", []):
            self.validate(value, sub, path)
        if "oneOf" in sch:
            n, why = self._count(value, sch["oneOf"], path)
            assert n == 1, "%s: matches %d of oneOf (%s)" % (path, n, "; ".join(why))
        if "anyOf" in sch:
            n, why = self._count(value, sch["anyOf"], path)
            assert n >= 1, "%s: matches none of anyOf (%s)" % (path, "; ".join(why))

    def _count(self, value, subs, path):
        n, why = 0, []
        for sub in subs:
            try:
                self.validate(value, sub, path)
                n += 1
            except AssertionError as e:
                why.append(str(e))
        return n, why

    def _string(self, value, sch, path):
        if "pattern" in sch:
            assert re.search(sch["pattern"], value), "%s: %r !~ %s" % (
                path, value, sch["pattern"])
        if "minLength" in sch:
            assert len(value) >= sch["minLength"], "%s: %r too short" % (path, value)
        if "maxLength" in sch:
            assert len(value) <= sch["maxLength"], "%s: %r too long" % (path, value)
        fmt = sch.get("format")
        if fmt == "date-time":
            assert schema.DATE_TIME.match(value), "%s: %r is not date-time" % (path, value)
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif fmt == "date":
            assert DATE.match(value), "%s: %r is not a date" % (path, value)
            datetime.date.fromisoformat(value)
        elif fmt == "uuid":
            assert UUID.match(value), "%s: %r is not a UUID" % (path, value)

    def _object(self, value, sch, path):
        for k in sch.get("required", []):
            assert k in value, "%s: required %r missing" % (path, k)
        props = sch.get("properties", {})
        for k, sub in props.items():
            if k in value:
                self.validate(value[k], sub, "%s.%s" % (path, k))
        extra = sch.get("additionalProperties", True)
        for k in value:
            if k in props:
                continue
            assert extra is not False, "%s: unexpected member %r" % (path, k)
            if isinstance(extra, dict):
                self.validate(value[k], extra, "%s.%s" % (path, k))

    def valid(self, value, sch):
        try:
            self.validate(value, sch)
            return True
        except AssertionError:
            return False

    # --- the document's parts --------------------------------------------------
    def operations(self):
        for template, item in self.doc()["paths"].items():
            for m in METHODS:
                if m in item:
                    yield template, m, item[m]

    def operation(self, template, method):
        item = self.doc()["paths"].get(template)
        assert item is not None, "%s is not in the spec" % template
        op = item.get(method.lower())
        assert op is not None, "%s %s is not in the spec" % (method, template)
        return op

    def request_schema(self, template, method):
        op = self.operation(template, method)
        return self.resolve(op["requestBody"])["content"]["application/json"]["schema"]

    def check_response(self, r, resp, what):
        """r against one response object of the spec (headers and body)."""
        resp = self.resolve(resp)
        helpers.json_headers(r)
        for name, h in (resp.get("headers") or {}).items():
            h = self.resolve(h)
            v = r.header(name)
            if h.get("required"):
                assert v is not None, "%s: no %s header" % (what, name)
            if v is None:
                continue
            hs = self.resolve(h["schema"])
            if hs.get("type") == "integer":
                assert re.match(r"^[0-9]+$", v), "%s: %s %r is not an integer" % (
                    what, name, v)
                v = int(v)
            self.validate(v, hs, "%s: header %s" % (what, name))
        b = r.json()
        try:
            self.validate(b, resp["content"]["application/json"]["schema"])
        except AssertionError as e:
            raise AssertionError("%s: %s; body %s" % (
                what, e, json.dumps(b, ensure_ascii=False)[:600])) from None
        return b

    def check(self, r, template, method, expect, code=None):
        """The status is expect and documented for the operation; headers and
        body valid against that response; error.code is code (if given)."""
        status(r, expect)
        op = self.operation(template, method)
        resp = op["responses"].get(str(r.status))
        assert resp is not None, "%s %s: HTTP %d is not documented (only %s)" % (
            method, template, r.status, sorted(op["responses"]))
        b = self.check_response(r, resp, "%s %s %d" % (method, template, r.status))
        SEEN.setdefault((template, method.lower()), set()).add(r.status)
        if code is not None:
            eq(b["error"]["code"], code, "error.code")
        return b


SPEC = Spec(SPEC_FILE)


# --- helpers -------------------------------------------------------------------------
def send(ctx, method, path, tok=None, body=None, headers=None, raw=None,
         ctype="application/json"):
    h = {}
    if tok:
        h["Authorization"] = "Bearer " + tok
    if body is not None or raw is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    data = raw if raw is not None else (
        json.dumps(body, ensure_ascii=False) if body is not None else None)
    return ctx.request(method, path, body=data, headers=h)


def expect(ctx, method, template, code_status, code=None, path=None, **kw):
    """Call path (default: template), check against the spec; the body."""
    r = send(ctx, method, path or template, **kw)
    return SPEC.check(r, template, method, code_status, code)


def body_ok(template, method, body, valid=True):
    """The spec's request schema agrees: body is valid (or not)."""
    got = SPEC.valid(body, SPEC.request_schema(template, method))
    assert got == valid, "%s %s: the spec calls %r %s" % (
        method, template, body, "invalid" if valid else "valid")


_USERS = {}


def user(ctx, tag, perms, line):
    """(user id, access token, refresh token) of a user made for this run."""
    if tag not in _USERS:
        u = auth.new_user(ctx, "oas" + tag, perms=perms, line=line)
        r = auth.login(ctx, u, auth.PASSWORD)
        status(r, 200)
        d = r.json()["data"]
        _USERS[tag] = (u, d["accessToken"], d["refreshToken"])
    return _USERS[tag]


def changer(ctx):
    """Both permissions, on the simulator's test line: plan changes."""
    return user(ctx, "chg", ("BILL_INQUIRY", "PRODUCT_CHANGE"), LINE)[1]


def biller(ctx):
    """BILL_INQUIRY only, on demo01's line: bills; no PRODUCT_CHANGE."""
    return user(ctx, "bill", ("BILL_INQUIRY",), DEMO01_LINE)[1]


def no_bill(ctx):
    """PRODUCT_CHANGE only: no BILL_INQUIRY."""
    return user(ctx, "nobill", ("PRODUCT_CHANGE",), LINE)[1]


def no_plan(ctx):
    """PRODUCT_CHANGE on a line KOS has no plan for (3003)."""
    return user(ctx, "noplan", ("PRODUCT_CHANGE",), NO_PLAN_LINE)[1]


def fresh_login(ctx, tag):
    """A session of its own (for logout and refresh)."""
    u = user(ctx, tag, ("BILL_INQUIRY",), DEMO01_LINE)[0]
    r = auth.login(ctx, u, auth.PASSWORD)
    return SPEC.check(r, "/api/v1/auth/login", "POST", 200)["data"]


def walk(node, where="#", in_allof=False):
    """(node, where, direct member of an allOf) for every dict and list item."""
    if isinstance(node, dict):
        yield node, where, in_allof
        for k, v in node.items():
            for x in walk(v, "%s/%s" % (where, k), False):
                yield x
    elif isinstance(node, list):
        for i, v in enumerate(node):
            for x in walk(v, "%s/%d" % (where, i), where.endswith("/allOf")):
                yield x


# The schema keywords the spec may use: those Spec.validate enforces, and
# documentation.  Anything else (a typo such as "requried", or a keyword the
# validator would silently ignore) is refused.
SCHEMA_KEYS = {"$ref", "type", "nullable", "enum", "required", "properties",
               "additionalProperties", "items", "minItems", "maxItems", "allOf", "oneOf",
               "anyOf", "pattern", "minLength", "maxLength", "minimum", "maximum", "format",
               "title", "description", "example", "default"}
FORMATS = {"date-time", "date", "uuid", "password"}


def schemas(doc):
    """(schema, where) for every schema object of the document."""
    def under(sch, where):
        if not isinstance(sch, dict):
            return
        yield sch, where
        for k, v in (sch.get("properties") or {}).items():
            for x in under(v, "%s/properties/%s" % (where, k)):
                yield x
        for k in ("items", "additionalProperties"):
            for x in under(sch.get(k), "%s/%s" % (where, k)):
                yield x
        for k in ("allOf", "oneOf", "anyOf"):
            for i, v in enumerate(sch.get(k) or []):
                for x in under(v, "%s/%s/%d" % (where, k, i)):
                    yield x

    for name, sch in doc["components"]["schemas"].items():
        for x in under(sch, "#/components/schemas/" + name):
            yield x
    for node, where, _ in walk(doc):
        if isinstance(node.get("schema"), dict):
            for x in under(node["schema"], where + "/schema"):
                yield x


def derives(sch, target):
    """sch is target, or all of target's constraints through allOf (or
    through every branch of a oneOf)."""
    sch = SPEC.resolve(sch)
    if sch is target:
        return True
    if any(derives(s, target) for s in sch.get("allOf", [])):
        return True
    return bool(sch.get("oneOf")) and all(derives(s, target) for s in sch["oneOf"])


def route_tables():
    """{service directory: {(METHOD, pattern)}} of fcgi/*/main.c."""
    out = {}
    fcgi = os.path.join(ROOT, "fcgi")
    for d in sorted(os.listdir(fcgi)):
        f = os.path.join(fcgi, d, "main.c")
        if not os.path.isfile(f):
            continue
        with open(f, encoding="utf-8") as fh:
            src = fh.read()
        routes = re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*\w+\s*\}', src)
        if routes:
            out[d] = set(routes)
    return out


def api_md():
    for p in (os.path.join(ROOT, "..", "shared", "docs", "API.md"),
              "/work/shared/docs/API.md"):
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                return f.read()
    return None


# --- the document itself ----------------------------------------------------------------
def test_spec_is_well_formed():
    doc = SPEC.doc()
    eq(doc.get("openapi"), "3.0.3", "openapi")
    assert doc["info"].get("title") and doc["info"].get("version"), doc["info"]
    problems = []
    for node, where, in_allof in walk(doc):
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                assert ref.startswith("#/"), "external"
                target = doc
                for part in ref[2:].split("/"):
                    target = target[part.replace("~1", "/").replace("~0", "~")]
            except (AssertionError, KeyError, TypeError) as e:
                problems.append("%s: $ref %s does not resolve (%s)" % (where, ref, e))
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(node.get("required"), list) and not in_allof:
            for k in node["required"]:
                if k not in props:
                    problems.append("%s: required %r is not a property" % (where, k))
        if "type" in node and "example" in node and not where.endswith("/properties"):
            sch = dict(node)
            ex = sch.pop("example")
            if not SPEC.valid(ex, sch):
                problems.append("%s: example %r does not fit" % (where, ex))
        if isinstance(node.get("enum"), list) and node.get("type"):
            for v in node["enum"]:
                if not SPEC.valid(v, {"type": node["type"]}):
                    problems.append("%s: enum value %r is not %s" % (where, v, node["type"]))
        if "default" in node and node.get("type"):
            if not SPEC.valid(node["default"], {k: v for k, v in node.items() if k != "default"}):
                problems.append("%s: default %r does not fit" % (where, node["default"]))
    for sch, where in schemas(doc):
        bad = sorted(k for k in sch if k not in SCHEMA_KEYS and not k.startswith("x-"))
        if bad:
            problems.append("%s: keywords %s (not enforced by the validator)" % (where, bad))
        if "format" in sch and sch["format"] not in FORMATS:
            problems.append("%s: format %r" % (where, sch["format"]))
        if "$ref" in sch and len(sch) > 1:
            problems.append("%s: siblings of $ref are ignored in 3.0" % where)
        if "pattern" in sch:
            try:
                re.compile(sch["pattern"])
            except re.error as e:
                problems.append("%s: pattern %r: %s" % (where, sch["pattern"], e))
    assert not problems, "\n".join(problems)


def test_every_operation_is_described_fully():
    doc = SPEC.doc()
    perms = SPEC.schema("Permission")["enum"]
    ids, problems = set(), []
    for template, method, op in SPEC.operations():
        what = "%s %s" % (method.upper(), template)
        if not template.startswith("/api/v1/"):
            problems.append("%s: not under /api/v1" % what)
        oid = op.get("operationId")
        if not oid or oid in ids:
            problems.append("%s: operationId %r missing or repeated" % (what, oid))
        ids.add(oid)
        if not op.get("tags") or not op.get("summary"):
            problems.append("%s: tags and summary" % what)
        params = [SPEC.resolve(p) for p in op.get("parameters", [])]
        in_path = {p["name"] for p in params if p["in"] == "path"}
        if in_path != set(re.findall(r"\{(\w+)\}", template)):
            problems.append("%s: path parameters %s" % (what, sorted(in_path)))
        for p in params:
            if p["in"] == "path" and not p.get("required"):
                problems.append("%s: path parameter %s not required" % (what, p["name"]))
        responses = op.get("responses", {})
        for code, resp in responses.items():
            resp = SPEC.resolve(resp)
            if not re.match(r"^[1-5][0-9][0-9]$", str(code)) or not resp.get("description"):
                problems.append("%s %s: status or description" % (what, code))
            hdrs = {k: SPEC.resolve(v) for k, v in (resp.get("headers") or {}).items()}
            if not hdrs.get("X-Request-ID", {}).get("required"):
                problems.append("%s %s: X-Request-ID not documented" % (what, code))
            if code in ("429", "503") and not hdrs.get("Retry-After", {}).get("required"):
                problems.append("%s %s: Retry-After not documented" % (what, code))
            if template.endswith("/metrics") and code == "200":
                # the Prometheus text format, not the JSON envelope
                if "text/plain" not in (resp.get("content") or {}):
                    problems.append("%s 200: metrics are text/plain" % what)
                continue
            sch = (resp.get("content") or {}).get("application/json", {}).get("schema")
            if sch is None:
                problems.append("%s %s: no application/json schema" % (what, code))
                continue
            # the envelope: success below 400, error from 400
            env = SPEC.schema("SuccessEnvelope" if int(code) < 400 else "ErrorResponse")
            if not derives(sch, env):
                problems.append("%s %s: not the %s" % (what, code, "SuccessEnvelope"
                                                       if int(code) < 400 else "ErrorResponse"))
        if "500" not in responses:
            problems.append("%s: no 500" % what)
        secured = op.get("security", doc.get("security")) != []
        if secured and "401" not in responses:
            problems.append("%s: needs a token but has no 401" % what)
        if not secured and not template.endswith(("/health", "/metrics")) and oid not in (
                "login", "refreshToken"):
            problems.append("%s: no token needed?" % what)
        perm = op.get("x-permission")
        want = ("BILL_INQUIRY" if template.startswith("/api/v1/bills/") else
                "PRODUCT_CHANGE" if template.startswith("/api/v1/products/") else None)
        if template.endswith(("/health", "/metrics")):
            want = None
        if perm != want:
            problems.append("%s: x-permission %r, API.md says %r" % (what, perm, want))
        if perm is not None and (perm not in perms or "403" not in responses):
            problems.append("%s: x-permission %r without 403" % (what, perm))
        if "requestBody" in op:
            for code in ("400", "413", "415"):
                if code not in responses:
                    problems.append("%s: a body but no %s" % (what, code))
            rs = SPEC.resolve(SPEC.request_schema(template, method))
            if rs.get("additionalProperties") is not False:
                problems.append("%s: unknown request keys are refused: "
                                "additionalProperties must be false" % what)
    assert not problems, "\n".join(problems)


def test_route_tables_and_spec_paths_agree():
    tables = route_tables()
    # the KOS simulator is a separate program (KOS's interface, not ours)
    sim_routes = tables.pop("kos-sim", None)
    assert sim_routes, "the simulator's route table was not found: is the parser broken?"
    eq(sorted(tables), ["auth", "bill", "product"],
       "services with a route table (a new one must be described in the spec)")
    code = set()
    for svc, routes in tables.items():
        for method, pattern in routes:
            code.add((method, pattern))
    spec = {(m.upper(), t) for t, m, _ in SPEC.operations()}
    eq(sorted(code - spec), [], "routes missing from the spec")
    eq(sorted(spec - code), [], "spec operations no route serves")
    eq(len(spec), 25, "18 operations, the bill summary, 3 health checks and 3 metrics")


def test_error_codes_of_the_code_are_in_the_spec():
    enum = set(SPEC.schema("ErrorCode")["enum"])
    found = {}
    dirs = [os.path.join(ROOT, "lib")] + [os.path.join(ROOT, "fcgi", d)
                                         for d in ("auth", "bill", "product")]
    for d in dirs:
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".c"):
                continue
            with open(os.path.join(d, fn), encoding="utf-8") as f:
                src = f.read()
            for st, code in re.findall(
                    r'pb_req_error\(\s*req\s*,\s*([0-9]{3})\s*,\s*"([A-Z0-9_]+)"', src):
                found.setdefault(code, set()).add((fn, int(st)))
    assert len(found) >= 15, "the parser found only %r" % sorted(found)
    eq(sorted(set(found) - enum), [], "error codes the code answers but the spec lacks")
    md = api_md()
    if md is None:
        raise Skip("docs/API.md (shared) not found: ErrorCode checked against the code only")
    table = set()
    for line in md.splitlines():
        m = re.match(r"^\|\s*[0-9]{3}\s*\|(.*?)\|", line)
        if m:
            table.update(re.findall(r"`([A-Z0-9_]+)`", m.group(1)))
    assert table, "no error table in API.md"
    eq(sorted(enum ^ table), [], "ErrorCode vs API.md's table (symmetric difference)")


# --- live: health, 404, 405 --------------------------------------------------------------
def test_health_of_each_service(ctx):
    for svc, name in (("auth", "auth"), ("bills", "bill"), ("products", "product")):
        t = "/api/v1/%s/health" % svc
        d = expect(ctx, "GET", t, 200)["data"]
        eq((d["service"], d["status"]), (name, "UP"), svc)


def test_metrics_of_each_service(ctx):
    """200 text from loopback; 403 (the envelope) from 127.0.0.2, an
    address outside metrics.allow and the web servers' loopback rule."""
    import http.client
    import urllib.parse
    from run import Response
    u = urllib.parse.urlsplit(ctx.http_url or ctx.base_url)
    for svc in ("auth", "bills", "products"):
        t = "/api/v1/%s/metrics" % svc
        r = ctx.get(t)
        status(r, 200)
        assert (r.header("Content-Type") or "").startswith("text/plain"), r.header("Content-Type")
        assert b"# TYPE phonebill_http_requests_total counter" in r.body, r.body[:200]
        SEEN.setdefault((t, "get"), set()).add(200)
        if not ctx.http_url:
            continue
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=15,
                                       source_address=("127.0.0.2", 0))
        try:
            c.request("GET", t)
            x = c.getresponse()
            r = Response(x.status, x.reason, x.getheaders(), x.read())
        finally:
            c.close()
        if ctx.name == "lighttpd":
            # lighttpd's own 403 (url.access-deny) is the static JSON
            # document: no per-request X-Request-ID there
            status(r, 403)
            eq(r.json()["error"]["code"], "FORBIDDEN", "error.code")
            SEEN.setdefault((t, "get"), set()).add(403)
        else:
            SPEC.check(r, t, "get", 403, "FORBIDDEN")


def test_unknown_path_404_and_wrong_method_405(ctx):
    resp_404 = {"$ref": "#/components/responses/NotFound"}
    for path in ("/api/v1/auth/nope", "/api/v1/bills/inquiry/a/b", "/api/v1/products/x"):
        r = send(ctx, "GET", path)
        status(r, 404)
        eq(SPEC.check_response(r, resp_404, "GET " + path)["error"]["code"], "NOT_FOUND", path)
    resp_405 = {"$ref": "#/components/responses/MethodNotAllowed"}
    paths = SPEC.doc()["paths"]
    for method, path, template in (
            ("POST", "/api/v1/auth/health", "/api/v1/auth/health"),
            ("GET", "/api/v1/auth/login", "/api/v1/auth/login"),
            ("DELETE", "/api/v1/products/menu", "/api/v1/products/menu"),
            ("PUT", "/api/v1/bills/inquiry/REQ_x", "/api/v1/bills/inquiry/{requestId}"),
            ("GET", "/api/v1/products/change", "/api/v1/products/change"),
            ("POST", "/api/v1/products/change/x", "/api/v1/products/change/{requestId}")):
        body = {} if method in ("POST", "PUT") else None
        r = send(ctx, method, path, body=body)
        status(r, 405)
        b = SPEC.check_response(r, resp_405, "%s %s" % (method, path))
        eq(b["error"]["code"], "METHOD_NOT_ALLOWED", path)
        want = sorted(m.upper() for m in paths[template] if m in METHODS)
        eq(sorted(r.header("Allow").split(", ")), want, "Allow of %s = the spec's methods" % path)


# --- live: auth ------------------------------------------------------------------------------
def test_login(ctx):
    t = "/api/v1/auth/login"
    u = user(ctx, "chg", ("BILL_INQUIRY", "PRODUCT_CHANGE"), LINE)[0]
    good = {"userId": u.upper(), "password": auth.PASSWORD, "autoLogin": None}
    body_ok(t, "POST", good)
    rid = "oas-%s.login_1" % auth.RUN
    r = send(ctx, "POST", t, body=good, headers={"X-Request-ID": rid,
                                                 "X-Forwarded-For": auth._addr()})
    d = SPEC.check(r, t, "POST", 200)["data"]
    eq(r.header("X-Request-ID"), rid, "the client's X-Request-ID echoed")
    auth.SEEN_TOKENS.extend([d["accessToken"], d["refreshToken"]])
    eq((d["user"]["userId"], d["user"]["phoneNumber"]), (u, LINE), "user")
    eq(sorted(d["user"]["permissions"]), ["BILL_INQUIRY", "PRODUCT_CHANGE"], "permissions")
    for bad in ({"userId": u}, {"userId": u, "password": auth.PASSWORD, "x": 1},
                {"userId": "a b c", "password": auth.PASSWORD},
                {"userId": u, "password": "short"}, {"userId": 7, "password": auth.PASSWORD},
                {"userId": u, "password": auth.PASSWORD, "autoLogin": "yes"}):
        body_ok(t, "POST", bad, valid=False)
        expect(ctx, "POST", t, 400, "VALIDATION_ERROR", body=bad,
               headers={"X-Forwarded-For": auth._addr()})
    expect(ctx, "POST", t, 400, "VALIDATION_ERROR", raw='{"userId":"a","password":"b"} x')
    expect(ctx, "POST", t, 415, "UNSUPPORTED_MEDIA_TYPE", raw="userId=a", ctype="text/plain")
    big = '{"userId":"' + "x" * (100 * 1024) + '"}'
    expect(ctx, "POST", t, 413, "PAYLOAD_TOO_LARGE", raw=big)


def test_login_failures_and_lock(ctx):
    t = "/api/v1/auth/login"
    u = user(ctx, "lock", ("BILL_INQUIRY",), DEMO01_LINE)[0]
    for left in (4, 3, 2, 1):
        b = SPEC.check(auth.login(ctx, u, "Wrong-Password-1"), t, "POST", 401, "AUTH_001")
        eq(b["error"]["details"], "남은 시도 횟수: %d회" % left, "details")
    SPEC.check(auth.login(ctx, u, "Wrong-Password-1"), t, "POST", 401, "AUTH_002")
    SPEC.check(auth.login(ctx, u, auth.PASSWORD), t, "POST", 401, "AUTH_003")
    auth.redis_cli(ctx, "DEL", "v1:auth:fail:" + u)


def test_login_rate_limited(ctx):
    t = "/api/v1/auth/login"
    addr = auth._addr()
    seen = []
    for _ in range(40):
        r = auth.login(ctx, auth.uid("oasghost"), "Wrong-Password-1", addr=addr)
        seen.append(r.status)
        if r.status == 429:
            break
    eq(seen[-1], 429, "rate limited at last (%r)" % seen)
    SPEC.check(r, t, "POST", 429, "RATE_LIMITED")
    auth.redis_cli(ctx, "DEL", "v1:auth:fail:" + auth.uid("oasghost"))


def test_verify_refresh_logout(ctx):
    v, f, lo = "/api/v1/auth/verify", "/api/v1/auth/refresh", "/api/v1/auth/logout"
    s = fresh_login(ctx, "sess")
    d = expect(ctx, "GET", v, 200, tok=s["accessToken"])["data"]
    assert 0 < d["expiresIn"] <= 1800, d
    expect(ctx, "GET", v, 401, "UNAUTHORIZED")
    expect(ctx, "GET", v, 401, "TOKEN_INVALID", tok=s["refreshToken"])
    expect(ctx, "GET", v, 401, "TOKEN_INVALID", tok="not.a.token")
    good = {"refreshToken": s["refreshToken"]}
    body_ok(f, "POST", good)
    n = expect(ctx, "POST", f, 200, body=good)["data"]
    auth.SEEN_TOKENS.extend([n["accessToken"], n["refreshToken"]])
    assert n["refreshToken"] != s["refreshToken"], "rotated"
    for bad in ({}, {"refreshToken": ""}, {"refreshToken": 1}, dict(good, x=1)):
        body_ok(f, "POST", bad, valid=False)
        expect(ctx, "POST", f, 400, "VALIDATION_ERROR", body=bad)
    expect(ctx, "POST", f, 401, "REFRESH_TOKEN_INVALID", body={"refreshToken": "x.y.z"})
    # the used one again: a replay, which ends the session
    expect(ctx, "POST", f, 401, "REFRESH_TOKEN_INVALID", body=good)
    expect(ctx, "GET", v, 401, "TOKEN_INVALID", tok=n["accessToken"])
    s = fresh_login(ctx, "sess")
    b = expect(ctx, "POST", lo, 200, tok=s["accessToken"])
    assert "data" not in b, b
    expect(ctx, "GET", v, 401, "TOKEN_INVALID", tok=s["accessToken"])
    expect(ctx, "POST", lo, 401, "TOKEN_INVALID", tok=s["accessToken"])
    expect(ctx, "POST", lo, 401, "UNAUTHORIZED")


def test_permissions_and_user_info(ctx):
    p, c, ui = ("/api/v1/auth/permissions", "/api/v1/auth/permissions/check",
                "/api/v1/auth/user-info")
    tok = biller(ctx)
    d = expect(ctx, "GET", p, 200, tok=tok)["data"]
    eq({x["permission"]: x["granted"] for x in d["permissions"]},
       {"BILL_INQUIRY": True, "PRODUCT_CHANGE": False}, "granted")
    expect(ctx, "GET", p, 401, "UNAUTHORIZED")
    for svc, has in (("BILL_INQUIRY", True), ("PRODUCT_CHANGE", False)):
        body_ok(c, "POST", {"serviceType": svc})
        d = expect(ctx, "POST", c, 200, tok=tok, body={"serviceType": svc})["data"]
        eq((d["serviceType"], d["hasPermission"], d["permissionDetails"]["granted"]),
           (svc, has, has), svc)
    for bad in ({"serviceType": "ADMIN"}, {}, {"serviceType": "BILL_INQUIRY", "x": 1}):
        body_ok(c, "POST", bad, valid=False)
        expect(ctx, "POST", c, 400, "VALIDATION_ERROR", tok=tok, body=bad)
    expect(ctx, "POST", c, 401, "UNAUTHORIZED", body={"serviceType": "BILL_INQUIRY"})
    expect(ctx, "POST", c, 415, "UNSUPPORTED_MEDIA_TYPE", tok=tok, raw="x", ctype="text/plain")
    d = expect(ctx, "GET", ui, 200, tok=tok)["data"]
    eq((d["status"], d["phoneNumber"], d["permissions"]), ("ACTIVE", DEMO01_LINE,
                                                           ["BILL_INQUIRY"]), "user-info")
    expect(ctx, "GET", ui, 401, "UNAUTHORIZED")
    expect(ctx, "GET", ui, 401, "TOKEN_INVALID", tok=tok + "x")


# --- live: bills -----------------------------------------------------------------------------
def test_bill_menu_and_inquiry(ctx):
    bill.ensure_closed(ctx)
    m, i = "/api/v1/bills/menu", "/api/v1/bills/inquiry"
    tok = biller(ctx)
    d = expect(ctx, "GET", m, 200, tok=tok)["data"]
    eq(d["customerInfo"]["lineNumber"], DEMO01_LINE, "menu line")
    eq(d["currentMonth"], bill.months_back(ctx, 0), "currentMonth")
    expect(ctx, "GET", m, 401, "UNAUTHORIZED")
    expect(ctx, "GET", m, 403, "FORBIDDEN", tok=no_bill(ctx))
    month = bill.months_back(ctx, 1)
    good = {"lineNumber": bill.DEMO01_DIGITS, "inquiryMonth": month}
    body_ok(i, "POST", good)
    d = expect(ctx, "POST", i, 200, tok=tok, body=good)["data"]
    eq((d["status"], d["billInfo"]["billingMonth"]), ("COMPLETED", month), "inquiry")
    d0 = expect(ctx, "POST", i, 200, tok=tok, body={"lineNumber": DEMO01_LINE,
                                                    "inquiryMonth": None})["data"]
    eq(d0["billInfo"]["billingMonth"], bill.months_back(ctx, 0), "null month: the current one")
    for bad in ({}, {"lineNumber": "02-123-4567"}, {"lineNumber": 1012345678},
                {"lineNumber": DEMO01_LINE, "inquiryMonth": "2026-13"},
                {"lineNumber": DEMO01_LINE, "inquiryMonth": "202611"},
                {"lineNumber": DEMO01_LINE, "extra": 1}):
        body_ok(i, "POST", bad, valid=False)
        expect(ctx, "POST", i, 400, "VALIDATION_ERROR", tok=tok, body=bad)
    expect(ctx, "POST", i, 400, "VALIDATION_ERROR", tok=tok,
           body={"lineNumber": DEMO01_LINE, "inquiryMonth": helpers.service_month(ctx, 1)})
    expect(ctx, "POST", i, 403, "FORBIDDEN", tok=tok, body={"lineNumber": OTHER_LINE})
    expect(ctx, "POST", i, 403, "FORBIDDEN", tok=no_bill(ctx), body={"lineNumber": LINE})
    expect(ctx, "POST", i, 401, "UNAUTHORIZED", body=good)
    expect(ctx, "POST", i, 415, "UNSUPPORTED_MEDIA_TYPE", tok=tok, raw="x", ctype="text/plain")
    b = expect(ctx, "POST", i, 404, "BILL_NOT_FOUND", tok=tok,
               body={"lineNumber": DEMO01_LINE, "inquiryMonth": "2020-01"})
    assert b["error"]["message"], b


def test_bill_inquiry_kos_fails_and_garbage(ctx):
    # KOS's 9999 ("cannot answer now") is a 503 that does not count against
    # the breaker; garbage is one breaker failure (never retried): the
    # breaker stays closed for the tests after this one.
    bill.ensure_closed(ctx)
    i = "/api/v1/bills/inquiry"
    tok = biller(ctx)
    body = {"lineNumber": DEMO01_LINE}      # the current month: no stale copy
    try:
        for mode, st, code in (("error9999", 503, "SERVICE_UNAVAILABLE"),
                               ("garbage", 502, "UPSTREAM_INVALID")):
            bill.drop_cache(ctx, bill.DEMO01_DIGITS, bill.months_back(ctx, 0))
            sim.set_fault(operation="bill.inquiry", mode=mode, times=1)
            expect(ctx, "POST", i, st, code, tok=tok, body=body)
            sim.reset_faults()
    finally:
        sim.reset_faults()
    bill.ensure_closed(ctx)


def test_bill_summary(ctx):
    bill.ensure_closed(ctx)
    t = "/api/v1/bills/summary"
    tok = biller(ctx)
    d = expect(ctx, "GET", t, 200, tok=tok)["data"]
    eq(len(d["months"]), 6, "default months")
    eq(d["months"][-1]["month"], d["currentMonth"], "the current month last")
    d = expect(ctx, "GET", t, 200, tok=tok, path=t + "?months=2")["data"]
    eq(len(d["months"]), 2, "months=2")
    expect(ctx, "GET", t, 400, "VALIDATION_ERROR", tok=tok, path=t + "?months=13")
    expect(ctx, "GET", t, 400, "VALIDATION_ERROR", tok=tok, path=t + "?page=1")
    expect(ctx, "GET", t, 401, "UNAUTHORIZED")
    expect(ctx, "GET", t, 403, "FORBIDDEN", tok=no_bill(ctx))


def test_bill_stored_results_and_history(ctx):
    s, h = "/api/v1/bills/inquiry/{requestId}", "/api/v1/bills/history"
    tok = biller(ctx)
    d = expect(ctx, "POST", "/api/v1/bills/inquiry", 200, tok=tok,
               body={"lineNumber": DEMO01_LINE, "inquiryMonth": bill.months_back(ctx, 2)})["data"]
    got = expect(ctx, "GET", s, 200, path="/api/v1/bills/inquiry/" + d["requestId"],
                 tok=tok)["data"]
    eq((got["status"], got["billInfo"]), ("COMPLETED", d["billInfo"]), "stored result")
    for rid in ("REQ_20200101_000000000000", "a%20b"):
        expect(ctx, "GET", s, 404, "NOT_FOUND", path="/api/v1/bills/inquiry/" + rid, tok=tok)
    expect(ctx, "GET", s, 403, "FORBIDDEN", path="/api/v1/bills/inquiry/" + d["requestId"],
           tok=no_bill(ctx))
    expect(ctx, "GET", s, 401, "UNAUTHORIZED", path="/api/v1/bills/inquiry/" + d["requestId"])
    # the failed inquiry (2020-01, test_bill_menu_and_inquiry; again here if
    # run alone) is stored FAILED: the other shape of the stored result
    expect(ctx, "POST", "/api/v1/bills/inquiry", 404, "BILL_NOT_FOUND", tok=tok,
           body={"lineNumber": DEMO01_LINE, "inquiryMonth": "2020-01"})

    def failed():
        b = expect(ctx, "GET", h, 200, path=h + "?status=FAILED&size=100", tok=tok)
        return [it for it in b["data"]["items"] if it["inquiryMonth"] == "2020-01"]

    f = ctx.wait_for("the failed inquiry listed", failed, timeout=15)
    got = expect(ctx, "GET", s, 200, path="/api/v1/bills/inquiry/" + f[0]["requestId"],
                 tok=tok)["data"]
    eq(got["status"], "FAILED", "stored failure")
    assert got["errorMessage"], got
    today = helpers.service_today(ctx)
    q = "?lineNumber=%s&startDate=%s&endDate=%s&page=1&size=5&status=COMPLETED" % (
        bill.DEMO01_DIGITS, today, today)
    b = expect(ctx, "GET", h, 200, path=h + q, tok=tok)["data"]
    assert b["items"] and all(it["status"] == "COMPLETED" for it in b["items"]), b
    eq(b["pagination"]["pageSize"], 5, "pageSize")
    for q in ("?size=0", "?page=x", "?status=DONE", "?foo=1", "?startDate=2026-02-30"):
        expect(ctx, "GET", h, 400, "VALIDATION_ERROR", path=h + q, tok=tok)
    expect(ctx, "GET", h, 403, "FORBIDDEN", path=h + "?lineNumber=" + OTHER_LINE, tok=tok)
    expect(ctx, "GET", h, 403, "FORBIDDEN", tok=no_bill(ctx))
    expect(ctx, "GET", h, 401, "UNAUTHORIZED")


# --- live: products ------------------------------------------------------------------------------
def test_product_menu_customer_available(ctx):
    prod.sim_reset(ctx)
    m, c, a = ("/api/v1/products/menu", "/api/v1/products/customer/{lineNumber}",
               "/api/v1/products/available")
    tok = changer(ctx)
    d = expect(ctx, "GET", m, 200, tok=tok)["data"]
    eq((d["lineNumber"], d["currentProduct"]["productCode"]), (LINE, SEED), "menu")
    expect(ctx, "GET", m, 401, "UNAUTHORIZED")
    expect(ctx, "GET", m, 403, "FORBIDDEN", tok=biller(ctx))
    expect(ctx, "GET", m, 404, "NOT_FOUND", tok=no_plan(ctx))
    for line in (DIGITS, LINE):
        d = expect(ctx, "GET", c, 200, path="/api/v1/products/customer/" + line, tok=tok)["data"]
        eq(d["lineNumber"], LINE, "customer line")
    expect(ctx, "GET", c, 400, "VALIDATION_ERROR", path="/api/v1/products/customer/12", tok=tok)
    expect(ctx, "GET", c, 403, "FORBIDDEN", path="/api/v1/products/customer/01012345678",
           tok=tok)
    expect(ctx, "GET", c, 404, "NOT_FOUND",
           path="/api/v1/products/customer/" + NO_PLAN_LINE, tok=no_plan(ctx))
    expect(ctx, "GET", c, 401, "UNAUTHORIZED", path="/api/v1/products/customer/" + DIGITS)
    d = expect(ctx, "GET", a, 200, tok=tok)["data"]
    codes = {p["productCode"]: p for p in d["products"]}
    assert SEED not in codes and "5G-PREMIUM-001" in codes, sorted(codes)
    eq(d["totalCount"], len(d["products"]), "totalCount")
    assert codes["5G-SUPER-OLD"]["unavailableReason"], codes["5G-SUPER-OLD"]
    d = expect(ctx, "GET", a, 200, path=a + "?operatorCode=MVNO002&currentProductCode="
               "5G-PREMIUM-001", tok=tok)["data"]
    assert d["products"], d
    for p in d["products"]:
        eq((p["operatorCode"], p["isAvailable"]), ("MVNO002", False), p["productCode"])
        assert p["unavailableReason"], p
    expect(ctx, "GET", a, 400, "VALIDATION_ERROR", path=a + "?foo=1", tok=tok)
    expect(ctx, "GET", a, 400, "VALIDATION_ERROR", path=a + "?operatorCode=a%20b", tok=tok)
    expect(ctx, "GET", a, 403, "FORBIDDEN", tok=biller(ctx))
    expect(ctx, "GET", a, 404, "NOT_FOUND", tok=no_plan(ctx))
    expect(ctx, "GET", a, 401, "UNAUTHORIZED")


def test_product_precheck(ctx):
    prod.sim_reset(ctx)
    v = "/api/v1/products/change/validation"
    tok = changer(ctx)
    good = prod.change_body(SEED, "5G-PREMIUM-001", DIGITS)
    body_ok(v, "POST", good)
    d = expect(ctx, "POST", v, 200, tok=tok, body=good)["data"]
    eq(d["validationResult"], "SUCCESS", "a valid change")
    assert "failureReason" not in d, d
    d = expect(ctx, "POST", v, 200, tok=tok, body=prod.change_body(SEED, SEED))["data"]
    eq(d["validationResult"], "FAILURE", "the same plan")
    assert d["failureReason"], d
    for bad in ({}, {"lineNumber": LINE}, prod.change_body("A B", "X"),
                prod.change_body(SEED, "X" * 40), dict(good, extra=1),
                dict(good, requestDate="2026-11-24")):
        body_ok(v, "POST", bad, valid=False)
        expect(ctx, "POST", v, 400, "VALIDATION_ERROR", tok=tok, body=bad)
    expect(ctx, "POST", v, 403, "FORBIDDEN", tok=tok,
           body=prod.change_body(SEED, "5G-PREMIUM-001", DEMO01_LINE))
    expect(ctx, "POST", v, 403, "FORBIDDEN", tok=biller(ctx), body=good)
    expect(ctx, "POST", v, 404, "NOT_FOUND", tok=no_plan(ctx),
           body=prod.change_body(SEED, "5G-PREMIUM-001", NO_PLAN_LINE))
    expect(ctx, "POST", v, 401, "UNAUTHORIZED", body=good)
    expect(ctx, "POST", v, 415, "UNSUPPORTED_MEDIA_TYPE", tok=tok, raw="x", ctype="text/plain")


def _status(ctx, tok, rid, expect_status=200, code=None):
    return expect(ctx, "GET", "/api/v1/products/change/{requestId}", expect_status, code,
                  path="/api/v1/products/change/" + rid, tok=tok)


def _today_kst(ctx):
    return helpers.service_today(ctx).isoformat()


def test_product_change_outcomes(ctx):
    ch = "/api/v1/products/change"
    tok = changer(ctx)
    prod.sim_reset(ctx)
    prod.ensure_closed(ctx)
    try:
        # 200: changed; the same key again: the same answer; another change
        # under that key: 400
        key = "oas-%s-ok" % auth.RUN
        good = dict(prod.change_body(SEED, "5G-PREMIUM-001"),
                    requestDate="2026-11-24T10:30:00+09:00",
                    changeEffectiveDate=_today_kst(ctx))
        body_ok(ch, "POST", good)
        d = expect(ctx, "POST", ch, 200, tok=tok, body=good,
                   headers={"Idempotency-Key": key})["data"]
        eq((d["processStatus"], d["changedProduct"]["productCode"],
            d["previousProduct"]["productCode"]), ("COMPLETED", "5G-PREMIUM-001", SEED),
           "changed")
        d2 = expect(ctx, "POST", ch, 200, tok=tok, body=good,
                    headers={"Idempotency-Key": key})["data"]
        eq((d2["requestId"], d2["orderNumber"]), (d["requestId"], d["orderNumber"]), "replay")
        expect(ctx, "POST", ch, 400, "VALIDATION_ERROR", tok=tok,
               body=prod.change_body(SEED, "LTE-DATA-001"), headers={"Idempotency-Key": key})
        s = _status(ctx, tok, d["requestId"])["data"]
        eq((s["processStatus"], s["orderNumber"]), ("COMPLETED", d["orderNumber"]), "status")
        _status(ctx, bill.token(ctx, "demo01"), d["requestId"], 404, "NOT_FOUND")
        prod.sim_reset(ctx)

        # 409 PRECHECK_FAILED: the same plan
        b = expect(ctx, "POST", ch, 409, "PRECHECK_FAILED", tok=tok,
                   body=prod.change_body(SEED, SEED))
        eq(b["data"]["validationResult"], "FAILURE", "pre-check in data")
        s = _status(ctx, tok, b["data"]["requestId"])["data"]
        eq(s["processStatus"], "FAILED", "a refused pre-check is recorded")
        assert s["failureReason"], s

        # 409 CHANGE_REJECTED: a catalogue cached before the plan was
        # withdrawn passes our pre-check; KOS refuses (2004)
        expect(ctx, "GET", "/api/v1/products/available", 200, tok=tok)
        cat = json.loads(auth.redis_cli(ctx, "GET", "v1:prod-catalog"))
        for p in cat:
            if p["productCode"] == "5G-SUPER-OLD":
                p["onSale"] = p["isAvailable"] = True
        auth.redis_cli(ctx, "SET", "v1:prod-catalog", json.dumps(cat, ensure_ascii=False),
                       "EX", "60")
        try:
            b = expect(ctx, "POST", ch, 409, "CHANGE_REJECTED", tok=tok,
                       body=prod.change_body(SEED, "5G-SUPER-OLD"))
        finally:
            auth.redis_cli(ctx, "DEL", "v1:prod-catalog")
        eq(b["data"]["resultCode"], "2004", "KOS's code")
        eq(_status(ctx, tok, b["data"]["requestId"])["data"]["processStatus"], "FAILED",
           "rejected")

        # 503: KOS answers 9999, so the change was not made (a business
        # answer: no breaker failure)
        sim.set_fault(operation="product.change", mode="error9999", times=1)
        b = expect(ctx, "POST", ch, 503, "SERVICE_UNAVAILABLE", tok=tok,
                   body=prod.change_body(SEED, "5G-YOUTH-001"))
        sim.reset_faults()
        eq(b["data"]["processStatus"], "FAILED", "503 data")
        s = _status(ctx, tok, b["data"]["requestId"])["data"]
        eq(s["processStatus"], "FAILED", "not made")
        eq(prod.kos_plan(), SEED, "KOS unchanged")

        # 202: KOS made it but its answer was cut: unknown outcome; the same
        # key later settles it with the same request id
        key = "oas-%s-lost" % auth.RUN
        sim.set_fault(operation="product.change", mode="truncated")
        try:
            d = expect(ctx, "POST", ch, 202, tok=tok, body=prod.change_body(SEED, "5G-SLIM-001"),
                       headers={"Idempotency-Key": key})["data"]
            s = _status(ctx, tok, d["requestId"])["data"]
            assert s["processStatus"] in ("PROCESSING", "COMPLETED"), s
        finally:
            sim.reset_faults()
        d2 = expect(ctx, "POST", ch, 200, tok=tok, body=prod.change_body(SEED, "5G-SLIM-001"),
                    headers={"Idempotency-Key": key})["data"]
        eq((d2["requestId"], d2["processStatus"]), (d["requestId"], "COMPLETED"), "settled")
        prod.sim_reset(ctx)
    finally:
        sim.reset_faults()
        prod.sim_reset(ctx)


def test_product_change_refusals(ctx):
    ch = "/api/v1/products/change"
    tok = changer(ctx)
    good = prod.change_body(SEED, "5G-PREMIUM-001")
    for bad in ({}, prod.change_body("", "X"), dict(good, extra=1),
                dict(good, changeEffectiveDate="2026-12-01T00:00"),
                dict(good, requestDate="yesterday"),
                dict(good, requestDate="2026-11-24 10:30:00")):
        body_ok(ch, "POST", bad, valid=False)
        expect(ctx, "POST", ch, 400, "VALIDATION_ERROR", tok=tok, body=bad)
    # well-formed, but a change cannot be scheduled for later
    later = dict(good, changeEffectiveDate="2999-01-01")
    body_ok(ch, "POST", later)
    expect(ctx, "POST", ch, 400, "VALIDATION_ERROR", tok=tok, body=later)
    expect(ctx, "POST", ch, 400, "VALIDATION_ERROR", tok=tok, body=good,
           headers={"Idempotency-Key": "bad key"})
    expect(ctx, "POST", ch, 403, "FORBIDDEN", tok=tok,
           body=prod.change_body(SEED, "5G-PREMIUM-001", DEMO01_LINE))
    expect(ctx, "POST", ch, 403, "FORBIDDEN", tok=biller(ctx), body=good)
    expect(ctx, "POST", ch, 404, "NOT_FOUND", tok=no_plan(ctx),
           body=prod.change_body(SEED, "5G-PREMIUM-001", NO_PLAN_LINE))
    expect(ctx, "POST", ch, 401, "UNAUTHORIZED", body=good)
    expect(ctx, "POST", ch, 415, "UNSUPPORTED_MEDIA_TYPE", tok=tok, raw="x", ctype="text/plain")
    eq(prod.kos_plan(), SEED, "nothing changed")
    for rid in (str(uuid.uuid4()), "a%20b"):
        _status(ctx, tok, rid, 404, "NOT_FOUND")
    _status(ctx, biller(ctx), str(uuid.uuid4()), 403, "FORBIDDEN")
    expect(ctx, "GET", "/api/v1/products/change/{requestId}", 401, "UNAUTHORIZED",
           path="/api/v1/products/change/" + str(uuid.uuid4()))


def test_product_history(ctx):
    h = "/api/v1/products/history"
    tok = changer(ctx)
    d = expect(ctx, "GET", h, 200, tok=tok)["data"]
    assert d["history"], "the changes of test_product_change_outcomes are listed"
    eq((d["pagination"]["page"], d["pagination"]["size"]), (1, 10), "defaults")
    d = expect(ctx, "GET", h, 200, path=h + "?status=FAILED&size=100&lineNumber=" + DIGITS,
               tok=tok)["data"]
    assert d["history"] and all(x["processStatus"] == "FAILED" for x in d["history"]), d
    for q in ("?status=DONE", "?size=101", "?page=0", "?foo=1"):
        expect(ctx, "GET", h, 400, "VALIDATION_ERROR", path=h + q, tok=tok)
    expect(ctx, "GET", h, 403, "FORBIDDEN", path=h + "?lineNumber=01012345678", tok=tok)
    expect(ctx, "GET", h, 403, "FORBIDDEN", tok=biller(ctx))
    expect(ctx, "GET", h, 401, "UNAUTHORIZED")


# --- live: health while MariaDB is down --------------------------------------------------------
def test_health_503_while_mariadb_is_down(ctx):
    if not ctx.stack_ctl:
        raise Skip("PHONEBILL_TEST_STACK_CTL is not set")
    ctx.stack("mariadb-stop")
    try:
        for svc in ("auth", "bills", "products"):
            t = "/api/v1/%s/health" % svc
            r = ctx.wait_for("%s health 503" % svc,
                             lambda t=t: (lambda r: r if r.status == 503 else None)(
                                 ctx.get(t)), timeout=20)
            b = SPEC.check(r, t, "GET", 503, "SERVICE_UNAVAILABLE")
            eq((b["data"]["status"], b["data"]["database"]), ("DOWN", "DOWN"), svc)
    finally:
        ctx.stack("mariadb-start")
    for svc in ("auth", "bills", "products"):
        ctx.wait_for("%s health 200 again" % svc,
                     lambda svc=svc: ctx.get("/api/v1/%s/health" % svc).status == 200,
                     timeout=60)


def test_health_503_while_mariadb_is_read_only(ctx):
    """A database that does not take writes (a demoted primary, a Galera
    node out of the primary component) is DOWN for /health: a load
    balancer must not send writes there."""
    import helpers
    import test_auth
    state = test_auth._state(ctx)
    if helpers.admin_sql(state, "SELECT 1") is None:
        raise Skip("cannot query MariaDB as admin")
    helpers.admin_sql(state, "SET GLOBAL read_only = 1")
    try:
        t = "/api/v1/auth/health"
        r = ctx.wait_for("auth health 503", lambda: (lambda r: r if r.status == 503 else None)(
            ctx.get(t)), timeout=20)
        b = SPEC.check(r, t, "GET", 503, "SERVICE_UNAVAILABLE")
        eq((b["data"]["database"], b["data"]["databaseWritable"], b["data"]["redisRole"]),
           ("DOWN", "read_only", "master"), "read-only database")
    finally:
        helpers.admin_sql(state, "SET GLOBAL read_only = 0")
    ctx.wait_for("auth health 200 again", lambda: ctx.get("/api/v1/auth/health").status == 200,
                 timeout=30)


# --- coverage ---------------------------------------------------------------------------------
def test_every_operation_was_checked_live():
    """Each operation: a success and (health aside, where an error needs an
    outage) an error, checked against the spec above."""
    missing = []
    for template, method, _ in SPEC.operations():
        got = SEEN.get((template, method), set())
        if not any(200 <= s < 300 for s in got):
            missing.append("%s %s: no success checked" % (method.upper(), template))
        if not template.endswith("/health") and not any(s >= 400 for s in got):
            missing.append("%s %s: no error checked" % (method.upper(), template))
    assert not missing, "\n".join(missing)
