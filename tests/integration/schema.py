"""The design's OpenAPI schemas (shared/reference/openapi/*.yaml) and a
small JSON-schema subset validator for live responses: type / required /
properties / enum / pattern / items / $ref / minLength / maxLength /
minimum / maximum / format date-time."""
import os
import re

import helpers
from helpers import eq, status, json_headers, request_id

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _load(filename):
    import yaml
    if os.path.isabs(filename):
        with open(filename, encoding="utf-8") as f:
            return yaml.safe_load(f)
    for d in (os.environ.get("PHONEBILL_OPENAPI_DIR"),
              os.path.join(ROOT, "..", "shared", "reference", "openapi"),
              "/work/shared/reference/openapi"):
        if d and os.path.isfile(os.path.join(d, filename)):
            with open(os.path.join(d, filename), encoding="utf-8") as f:
                return yaml.safe_load(f)
    raise AssertionError("%s not found (set PHONEBILL_OPENAPI_DIR)" % filename)


class Doc:
    """One OpenAPI document, loaded on first use: a design document's file
    name (looked up as _load says) or an absolute path."""

    def __init__(self, filename):
        self.filename = filename
        self._doc = None

    def doc(self):
        if self._doc is None:
            self._doc = _load(self.filename)
        return self._doc

    def schema(self, name):
        return self.resolve(self.doc()["components"]["schemas"][name])

    def resolve(self, schema):
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            assert ref.startswith("#/"), "external $ref %s" % ref
            node = self.doc()
            for part in ref[2:].split("/"):
                node = node[part]
            schema = node
        return schema

    def validate(self, value, schema, path="$"):
        schema = self.resolve(schema)
        t = schema.get("type")
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        if t == "integer":
            assert isinstance(value, int) and not isinstance(value, bool), \
                "%s: %r is not an integer" % (path, value)
        elif t == "number":
            assert isinstance(value, (int, float)) and not isinstance(value, bool), \
                "%s: %r is not a number" % (path, value)
        elif t in types:
            assert isinstance(value, types[t]), "%s: %r is not %s" % (path, value, t)
        if "enum" in schema:
            assert value in schema["enum"], "%s: %r not in %r" % (path, value, schema["enum"])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema:
                assert value >= schema["minimum"], "%s: %r < minimum" % (path, value)
            if "maximum" in schema:
                assert value <= schema["maximum"], "%s: %r > maximum" % (path, value)
        if isinstance(value, str):
            if "pattern" in schema:
                assert re.search(schema["pattern"], value), "%s: %r !~ %s" % (
                    path, value, schema["pattern"])
            if "minLength" in schema:
                assert len(value) >= schema["minLength"], "%s: too short" % path
            if "maxLength" in schema:
                assert len(value) <= schema["maxLength"], "%s: too long" % path
            if schema.get("format") == "date-time":
                assert DATE_TIME.match(value), "%s: %r is not date-time" % (path, value)
        if isinstance(value, dict):
            for k in schema.get("required", []):
                assert k in value, "%s: required %r missing" % (path, k)
            for k, sub in schema.get("properties", {}).items():
                if k in value:
                    self.validate(value[k], sub, "%s.%s" % (path, k))
        if isinstance(value, list) and "items" in schema:
            for i, v in enumerate(value):
                self.validate(v, schema["items"], "%s[%d]" % (path, i))

    def error_envelope(self, r, code, expected_status):
        """helpers.error_envelope, and the body valid against ErrorResponse."""
        b = helpers.error_envelope(r, code, expected_status)
        self.validate(b, self.schema("ErrorResponse"))
        return b

    def check_data(self, r, schema_name, expected_status=200):
        """The status, the envelope, and the body valid against schema_name;
        returns data."""
        status(r, expected_status)
        json_headers(r)
        request_id(r)
        b = r.json()
        eq(b.get("success"), True, "success")
        assert isinstance(b.get("message"), str) and b["message"], "message"
        self.validate(b, self.schema(schema_name))
        return b.get("data")
