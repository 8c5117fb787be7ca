/*
 * test_json.c - unit tests for lib/core/json.c (strict parse, field check,
 * getters, print).
 *
 * Every input is copied into a malloc'd buffer of exactly its length, so
 * an over-read past text[len) shows up under ASan or valgrind.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static enum pb_err
parse_n(const char *s, size_t n, int depth, cJSON **out, const char **why)
{
	enum pb_err rc;
	char *copy;

	if (s == NULL)
		return pb_json_parse(NULL, n, depth, out, why);
	/* malloc(0) may return NULL; one spare byte is never read. */
	copy = malloc(n > 0 ? n : 1);
	if (copy == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(copy, s, n);
	rc = pb_json_parse(copy, n, depth, out, why);
	free(copy);
	return rc;
}

/* One check: text[0..n) parses with PB_OK, a tree and no reason. */
static void
accept_n(const char *name, const char *s, size_t n, int depth)
{
	cJSON *root = NULL;
	const char *why = "unset";
	enum pb_err rc;

	rc = parse_n(s, n, depth, &root, &why);
	if (!ok(rc == PB_OK && root != NULL && why == NULL, name))
		printf("# rc %d why %s\n", (int)rc, why ? why : "(null)");
	cJSON_Delete(root);
}

/*
 * One check: text[0..n) is refused with PB_ERR_PARSE, *out NULL and a
 * non-NULL reason; want_why (if not NULL) must be that reason.
 */
static void
reject_n(const char *name, const char *s, size_t n, int depth,
         const char *want_why)
{
	cJSON *root = (cJSON *)&root; /* must be overwritten with NULL */
	const char *why = NULL;
	enum pb_err rc;
	int good;

	rc = parse_n(s, n, depth, &root, &why);
	good = rc == PB_ERR_PARSE && root == NULL && why != NULL &&
	       (want_why == NULL || strcmp(why, want_why) == 0);
	if (!ok(good, name))
		printf("# rc %d why %s want %s\n", (int)rc,
		       why ? why : "(null)", want_why ? want_why : "(any)");
	if (rc == PB_OK && root != (cJSON *)&root)
		cJSON_Delete(root);
}

static void
accept_s(const char *name, const char *s)
{
	accept_n(name, s, strlen(s), 0);
}

static void
reject_s(const char *name, const char *s, const char *want_why)
{
	reject_n(name, s, strlen(s), 0, want_why);
}

/* Parses s (must succeed) for the tests that look inside the tree. */
static cJSON *
must_parse(const char *s)
{
	cJSON *root = NULL;

	if (parse_n(s, strlen(s), 0, &root, NULL) != PB_OK) {
		printf("# could not parse fixture %s\n", s);
		return NULL;
	}
	return root;
}

/* Text nested n deep: n openers, a 1 or "k":1, n closers (bytes). */
static char *
nested(int n, int objects)
{
	size_t cap = (size_t)n * 8 + 8, len = 0;
	char *s = malloc(cap);
	int i;

	if (s == NULL)
		exit(2);
	for (i = 0; i < n; i++) {
		if (objects) {
			memcpy(s + len, "{\"k\":", 5);
			len += 5;
		} else {
			s[len++] = '[';
		}
	}
	s[len++] = '1';
	for (i = 0; i < n; i++)
		s[len++] = objects ? '}' : ']';
	s[len] = '\0';
	return s;
}

/* An array of n numbers or an object of n distinct keys. */
static char *
wide(int n, int objects)
{
	size_t cap = (size_t)n * 16 + 8, len = 0;
	char *s = malloc(cap);
	int i, w;

	if (s == NULL)
		exit(2);
	s[len++] = objects ? '{' : '[';
	for (i = 0; i < n; i++) {
		if (objects)
			w = snprintf(s + len, cap - len, "%s\"k%d\":%d",
			             i ? "," : "", i, i);
		else
			w = snprintf(s + len, cap - len, "%s%d", i ? "," : "",
			             i);
		if (w < 0 || (size_t)w >= cap - len)
			exit(2);
		len += (size_t)w;
	}
	s[len++] = objects ? '}' : ']';
	s[len] = '\0';
	return s;
}

static void
test_valid(void)
{
	cJSON *root;

	accept_s("object", "{\"a\":1,\"b\":[true,false,null],\"c\":{}}");
	accept_s("array", "[1, \"x\", [], {}]");
	accept_s("top-level string", "\"hello\"");
	accept_s("top-level number", "42");
	accept_s("top-level true", "true");
	accept_s("top-level false", "false");
	accept_s("top-level null", "null");
	accept_s("surrounding whitespace", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n\t ");
	accept_s("empty string value", "{\"\":\"\"}");
	accept_s("all simple escapes", "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"");
	accept_s("raw UTF-8 2, 3 and 4 bytes",
	         "\"\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
	accept_s("U+FFFF and U+10FFFF raw", "\"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"");
	accept_s("case-different keys are distinct", "{\"a\":1,\"A\":2}");
	accept_s("same key in sibling objects", "[{\"a\":1},{\"a\":2}]");

	root = must_parse("{\"s\":\"x\",\"n\":-3,\"t\":true,\"z\":null}");
	ok(cJSON_IsObject(root) &&
	       cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "s")) &&
	       cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "n")) &&
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "t")) &&
	       cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "z")),
	   "tree has the right types");
	cJSON_Delete(root);
}

static void
test_trailing(void)
{
	static const char nul_inside[] = "{\"a\":\"x\0y\"}";
	static const char nul_after[] = "{}\0";
	static const char nul_outside[] = "[1,\0 2]";

	reject_s("trailing word", "{} x",
	         "trailing characters after JSON value");
	reject_s("two objects", "{}{}", "trailing characters after JSON value");
	reject_s("two numbers", "1 2", "trailing characters after JSON value");
	reject_s("trailing comma in array", "[1,]", NULL);
	reject_s("trailing comma in object", "{\"a\":1,}", NULL);
	reject_s("leading BOM", "\xEF\xBB\xBF{}",
	         "byte order mark not allowed");
	reject_n("NUL inside string", nul_inside, sizeof(nul_inside) - 1, 0,
	         "NUL byte in input");
	reject_n("NUL after value", nul_after, sizeof(nul_after) - 1, 0,
	         "NUL byte in input");
	reject_n("NUL between tokens", nul_outside, sizeof(nul_outside) - 1, 0,
	         "NUL byte in input");
	reject_n("empty input", "", 0, 0, "empty input");
	reject_s("whitespace only", " \t\r\n ", "empty input");
	reject_n("NULL text with len 0", NULL, 0, 0, "empty input");
	reject_s("form feed is not whitespace", "\f1", NULL);
	reject_s("unterminated object", "{\"a\":1", NULL);
	reject_s("unterminated array", "[1,2", NULL);
	reject_s("missing colon", "{\"a\" 1}", "expected ':' after key");
	reject_s("non-string key", "{1:2}", "expected string key");
	reject_s("single quotes", "{'a':1}", NULL);
	reject_s("mismatched brackets", "[1}", "expected ',' or ']'");
}

static void
test_utf8(void)
{
	reject_s("lone continuation byte", "\"\x80\"", "invalid UTF-8");
	reject_s("overlong C0 AF", "\"\xC0\xAF\"", "invalid UTF-8");
	reject_s("overlong C1 BF", "\"\xC1\xBF\"", "invalid UTF-8");
	reject_s("overlong E0 80 AF", "\"\xE0\x80\xAF\"", "invalid UTF-8");
	reject_s("overlong F0 80 80 AF", "\"\xF0\x80\x80\xAF\"",
	         "invalid UTF-8");
	reject_s("encoded surrogate ED A0 80", "\"\xED\xA0\x80\"",
	         "invalid UTF-8");
	reject_s("over U+10FFFF F4 90 80 80", "\"\xF4\x90\x80\x80\"",
	         "invalid UTF-8");
	reject_s("F5 lead byte", "\"\xF5\x80\x80\x80\"", "invalid UTF-8");
	reject_s("FF byte", "\"\xFF\"", "invalid UTF-8");
	reject_s("truncated 3-byte at end of string", "\"\xE2\x82\"",
	         "invalid UTF-8");
	reject_s("truncated 4-byte at end of string", "[\"\xF0\x9F\x98\"]",
	         "invalid UTF-8");
	reject_s("truncated 3-byte at end of input", "\"\xE2\x82",
	         "invalid UTF-8");
	reject_s("truncated 2-byte at end of input", "\"\xC3", "invalid UTF-8");
	reject_s("UTF-8 in a key checked too", "{\"\xC0\xAF\":1}",
	         "invalid UTF-8");
	reject_s("non-ASCII outside strings", "[1,\xC3\xA9]", NULL);
}

static void
test_escapes(void)
{
	cJSON *root;

	reject_s("\\u0000 rejected", "\"a\\u0000b\"", "\\u0000 not allowed");
	reject_s("lone high surrogate", "\"\\uD800\"",
	         "unpaired surrogate escape");
	reject_s("lone high surrogate at end of input", "\"\\uD800",
	         "unpaired surrogate escape");
	reject_s("lone low surrogate", "\"\\uDC00\"",
	         "unpaired surrogate escape");
	reject_s("high followed by non-low", "\"\\uD800\\u0041\"",
	         "unpaired surrogate escape");
	reject_s("high followed by high", "\"\\uD800\\uD800\"",
	         "unpaired surrogate escape");
	reject_s("reversed pair", "\"\\uDE00\\uD83D\"",
	         "unpaired surrogate escape");
	reject_s("invalid escape \\x", "\"\\x41\"", "invalid escape");
	reject_s("short \\u escape", "\"\\u12\"", "invalid \\u escape");
	reject_s("non-hex \\u escape", "\"\\u12G4\"", "invalid \\u escape");
	reject_s("backslash at end of input", "\"\\", "unterminated string");
	reject_s("raw tab in string", "\"a\tb\"",
	         "control character in string");
	reject_s("raw newline in string", "\"a\nb\"",
	         "control character in string");
	reject_s("unterminated string", "\"abc", "unterminated string");

	root = must_parse("\"\\uD83D\\uDE00\"");
	is_str(cJSON_GetStringValue(root), "\xF0\x9F\x98\x80",
	       "pair D83D DE00 decodes to F0 9F 98 80");
	cJSON_Delete(root);
	root = must_parse("\"\\ud83d\\ude00\\u00e9\\u20AC\"");
	is_str(cJSON_GetStringValue(root),
	       "\xF0\x9F\x98\x80\xC3\xA9\xE2\x82\xAC",
	       "lower-case pair, 2- and 3-byte escapes decode");
	cJSON_Delete(root);
}

static void
test_limits(void)
{
	static const char d2[] = "{\"a\":{\"b\":1}}";
	char *s;
	cJSON *root = NULL;
	const char *why = NULL;
	enum pb_err rc;
	size_t n;

	s = nested(3, 0);
	accept_n("arrays at depth == max (3)", s, strlen(s), 3);
	free(s);
	s = nested(4, 0);
	reject_n("arrays at depth max+1 (4)", s, strlen(s), 3,
	         "nesting too deep");
	free(s);
	s = nested(3, 1);
	accept_n("objects at depth == max (3)", s, strlen(s), 3);
	free(s);
	s = nested(4, 1);
	reject_n("objects at depth max+1 (4)", s, strlen(s), 3,
	         "nesting too deep");
	free(s);
	accept_n("{\"a\":{\"b\":1}} is depth 2", d2, strlen(d2), 2);
	reject_n("{\"a\":{\"b\":1}} is not depth 1", d2, strlen(d2), 1,
	         "nesting too deep");
	accept_n("scalar at max_depth 1", "7", 1, 1);
	s = nested(PB_JSON_MAX_DEPTH, 0);
	accept_n("max_depth 0 means PB_JSON_MAX_DEPTH", s, strlen(s), 0);
	free(s);
	s = nested(PB_JSON_MAX_DEPTH + 1, 1);
	reject_n("max_depth 0: PB_JSON_MAX_DEPTH+1 refused", s, strlen(s), 0,
	         "nesting too deep");
	reject_n("max_depth over the ceiling is clamped", s, strlen(s), 1000,
	         "nesting too deep");
	free(s);

	s = wide(PB_JSON_MAX_MEMBERS, 0);
	accept_s("array with PB_JSON_MAX_MEMBERS elements", s);
	free(s);
	s = wide(PB_JSON_MAX_MEMBERS + 1, 0);
	reject_s("array with one element too many", s, "too many members");
	free(s);
	s = wide(PB_JSON_MAX_MEMBERS, 1);
	accept_s("object with PB_JSON_MAX_MEMBERS members", s);
	free(s);
	s = wide(PB_JSON_MAX_MEMBERS + 1, 1);
	reject_s("object with one member too many", s, "too many members");
	free(s);

	/* Size ceiling: "1" padded with spaces to the exact byte count. */
	n = PB_JSON_MAX_INPUT + 1;
	s = malloc(n);
	if (s == NULL)
		exit(2);
	memset(s, ' ', n);
	s[0] = '1';
	rc = pb_json_parse(s, n - 1, 0, &root, &why);
	ok(rc == PB_OK && root != NULL,
	   "input of exactly PB_JSON_MAX_INPUT ok");
	cJSON_Delete(root);
	root = (cJSON *)&root;
	why = NULL;
	rc = pb_json_parse(s, n, 0, &root, &why);
	ok(rc == PB_ERR_TOOBIG && root == NULL && why != NULL,
	   "input over PB_JSON_MAX_INPUT is PB_ERR_TOOBIG");
	free(s);

	why = NULL;
	ok(pb_json_parse("{}", 2, 0, NULL, &why) != PB_OK && why != NULL,
	   "NULL out refused with a reason");
}

static void
test_duplicates(void)
{
	reject_s("duplicate key", "{\"a\":1,\"a\":2}", "duplicate key");
	reject_s("escaped duplicate key", "{\"a\":1,\"\\u0061\":2}",
	         "duplicate key");
	reject_s("duplicate key in nested object",
	         "[0,{\"x\":{\"k\":1,\"j\":2,\"k\":3}}]", "duplicate key");
	reject_s("duplicate via surrogate pair",
	         "{\"\xF0\x9F\x98\x80\":1,\"\\uD83D\\uDE00\":2}",
	         "duplicate key");
	accept_s("key prefix is not a duplicate", "{\"ab\":1,\"a\":2}");
}

static void
test_numbers(void)
{
	char num[80];
	cJSON *root;

	reject_s("01", "01", NULL);
	reject_s("[01]", "[01]", "invalid number");
	reject_s("1.", "1.", "invalid number");
	reject_s(".5", ".5", NULL);
	reject_s("-", "-", "invalid number");
	reject_s("-a", "[-a]", "invalid number");
	reject_s("1e", "1e", "invalid number");
	reject_s("1e+", "1e+", "invalid number");
	reject_s("+1", "+1", NULL);
	reject_s("NaN", "NaN", NULL);
	reject_s("Infinity", "Infinity", NULL);
	reject_s("-Infinity", "-Infinity", "invalid number");
	reject_s("hex 0x10", "0x10", NULL);
	reject_s("1e999 overflows to infinity", "[1e999]",
	         "number out of range");
	accept_s("-0", "-0");
	accept_s("1e5", "1e5");
	accept_s("1.5E-3", "1.5E-3");
	accept_s("0.0e+0", "[0.0e+0, -12.5e10]");

	root = must_parse("[1.5E-3]");
	ok(root != NULL && cJSON_GetArrayItem(root, 0) != NULL &&
	       cJSON_GetArrayItem(root, 0)->valuedouble == 1.5e-3,
	   "1.5E-3 has the right value");
	cJSON_Delete(root);

	/* The limit is 64 characters. */
	memset(num, '1', sizeof(num));
	num[64] = '\0';
	accept_s("64-char number", num);
	num[0] = '-';
	accept_s("64-char negative number", num);
	num[0] = '1';
	num[64] = '1';
	num[65] = '\0';
	reject_s("65-char number", num, "number too long");
	memcpy(num + 56, ".5e+1234", 8);
	reject_s("65-char number with fraction and exponent", num,
	         "number too long");
	/* "[" + 65 digits + "]" */
	memset(num, '1', sizeof(num));
	num[0] = '[';
	num[66] = ']';
	num[67] = '\0';
	reject_s("65-char number in array", num, "number too long");
}

static void
test_literals(void)
{
	reject_s("tru", "tru", "invalid literal");
	reject_s("nulls", "nulls", "trailing characters after JSON value");
	reject_s("True", "True", "expected a JSON value");
	reject_s("[nul]", "[nul]", "invalid literal");
	reject_s("fals at end", "[fals", "invalid literal");
}

static const struct pb_json_field spec[] = {
    {"userId", PB_JSON_INT, PB_JSON_REQUIRED, 1, 1000000},
    {"name", PB_JSON_STRING, 0, 2, 8},
    {"active", PB_JSON_BOOL, 0, 0, 0},
    {"tags", PB_JSON_ARRAY, 0, 0, 3},
    {"meta", PB_JSON_OBJECT, PB_JSON_NULLABLE, 0, 0},
    {"note", PB_JSON_STRING, PB_JSON_REQUIRED | PB_JSON_NULLABLE, 0, 0},
    {"big", PB_JSON_INT, 0, LLONG_MIN, LLONG_MAX},
    {"any", PB_JSON_STRING, 0, 0, 0},
    {"list", PB_JSON_ARRAY, 0, 0, 0},
};

/*
 * One check of pb_json_check on json: want_why NULL means PB_OK, else
 * PB_ERR_INVAL with exactly want_field and want_why.
 */
static void
chk(const char *name, const char *json, const char *want_field,
    const char *want_why)
{
	const char *field = NULL, *why = NULL;
	cJSON *root = must_parse(json);
	enum pb_err rc;
	int good;

	rc = pb_json_check(root, spec, NELEM(spec), &field, &why);
	if (want_why == NULL)
		good = root != NULL && rc == PB_OK;
	else
		good = root != NULL && rc == PB_ERR_INVAL && why != NULL &&
		       field != NULL && strcmp(why, want_why) == 0 &&
		       strcmp(field, want_field) == 0;
	if (!ok(good, name))
		printf("# rc %d field %s why %s\n", (int)rc,
		       field ? field : "(null)", why ? why : "(null)");
	cJSON_Delete(root);
}

static void
test_check(void)
{
	const char *field = NULL, *why = NULL;
	cJSON *obj;
	enum pb_err rc;

	chk("minimal valid", "{\"userId\":5,\"note\":\"x\"}", NULL, NULL);
	chk("everything valid",
	    "{\"userId\":5,\"name\":\"bob\",\"active\":false,"
	    "\"tags\":[1,2,3],\"meta\":{\"x\":1},\"note\":null,"
	    "\"big\":-77,\"any\":\"\",\"list\":[1,2,3,4,5]}",
	    NULL, NULL);
	chk("unknown field", "{\"userId\":5,\"note\":\"\",\"x\":1}", "x",
	    "unknown field");
	chk("names are case-sensitive", "{\"UserId\":5,\"note\":\"\"}",
	    "UserId", "unknown field");
	chk("required missing", "{\"note\":\"\"}", "userId", "required");
	chk("REQUIRED|NULLABLE missing", "{\"userId\":5}", "note", "required");
	chk("REQUIRED|NULLABLE present as null", "{\"userId\":5,\"note\":null}",
	    NULL, NULL);
	chk("NULLABLE object null",
	    "{\"userId\":5,\"note\":\"\",\"meta\":null}", NULL, NULL);
	chk("null for non-NULLABLE", "{\"userId\":null,\"note\":\"\"}",
	    "userId", "wrong type");
	chk("null for optional non-NULLABLE",
	    "{\"userId\":1,\"note\":\"\",\"name\":null}", "name", "wrong type");
	chk("INT given a string", "{\"userId\":\"5\",\"note\":\"\"}", "userId",
	    "wrong type");
	chk("INT at min", "{\"userId\":1,\"note\":\"\"}", NULL, NULL);
	chk("INT at max", "{\"userId\":1000000,\"note\":\"\"}", NULL, NULL);
	chk("INT below min", "{\"userId\":0,\"note\":\"\"}", "userId",
	    "out of range");
	chk("INT above max", "{\"userId\":1000001,\"note\":\"\"}", "userId",
	    "out of range");
	chk("INT 1.5", "{\"userId\":1.5,\"note\":\"\"}", "userId",
	    "not an integer");
	chk("INT 1.0 is integral in value, accepted",
	    "{\"userId\":1.0,\"note\":\"\"}", NULL, NULL);
	chk("INT 2e3 accepted", "{\"userId\":2e3,\"note\":\"\"}", NULL, NULL);
	chk("INT 2^53-1",
	    "{\"userId\":1,\"note\":\"\",\"big\":9007199254740991}", NULL,
	    NULL);
	chk("INT -(2^53-1)",
	    "{\"userId\":1,\"note\":\"\",\"big\":-9007199254740991}", NULL,
	    NULL);
	chk("INT 2^53+1",
	    "{\"userId\":1,\"note\":\"\",\"big\":9007199254740993}", "big",
	    "out of range");
	chk("INT 1e300", "{\"userId\":1,\"note\":\"\",\"big\":1e300}", "big",
	    "out of range");
	chk("STRING at min bytes",
	    "{\"userId\":1,\"note\":\"\",\"name\":\"ab\"}", NULL, NULL);
	chk("STRING too short", "{\"userId\":1,\"note\":\"\",\"name\":\"a\"}",
	    "name", "too short");
	chk("STRING at max bytes",
	    "{\"userId\":1,\"note\":\"\",\"name\":\"abcdefgh\"}", NULL, NULL);
	chk("STRING too long",
	    "{\"userId\":1,\"note\":\"\",\"name\":\"abcdefghi\"}", "name",
	    "too long");
	chk("STRING length is bytes",
	    "{\"userId\":1,\"note\":\"\",\"name\":"
	    "\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"}",
	    "name", "too long");
	chk("STRING given a number", "{\"userId\":1,\"note\":3}", "note",
	    "wrong type");
	chk("BOOL given 1", "{\"userId\":1,\"note\":\"\",\"active\":1}",
	    "active", "wrong type");
	chk("OBJECT given an array", "{\"userId\":1,\"note\":\"\",\"meta\":[]}",
	    "meta", "wrong type");
	chk("ARRAY given an object", "{\"userId\":1,\"note\":\"\",\"tags\":{}}",
	    "tags", "wrong type");
	chk("ARRAY too many elements",
	    "{\"userId\":1,\"note\":\"\",\"tags\":[1,2,3,4]}", "tags",
	    "too many elements");
	chk("not an object (array)", "[1]", "", "not an object");
	chk("not an object (string)", "\"x\"", "", "not an object");

	rc = pb_json_check(NULL, spec, NELEM(spec), &field, &why);
	ok(rc == PB_ERR_INVAL && field != NULL && strcmp(field, "") == 0 &&
	       why != NULL && strcmp(why, "not an object") == 0,
	   "NULL obj is not an object");

	obj = cJSON_CreateObject();
	cJSON_AddNumberToObject(obj, "userId", 1);
	cJSON_AddNumberToObject(obj, "userId", 2);
	field = why = NULL;
	rc = pb_json_check(obj, spec, NELEM(spec), &field, &why);
	ok(rc == PB_ERR_INVAL && field != NULL &&
	       strcmp(field, "userId") == 0 && why != NULL &&
	       strcmp(why, "duplicate field") == 0,
	   "hand-built duplicate is \"duplicate field\"");
	cJSON_Delete(obj);

	obj = must_parse("{\"x\":1}");
	ok(pb_json_check(obj, spec, NELEM(spec), NULL, NULL) == PB_ERR_INVAL,
	   "field and why may be NULL");
	ok(pb_json_check(obj, NULL, 0, NULL, NULL) == PB_ERR_INVAL,
	   "empty spec: any member is unknown");
	cJSON_Delete(obj);
	obj = must_parse("{}");
	ok(pb_json_check(obj, NULL, 0, NULL, NULL) == PB_OK,
	   "empty spec accepts {}");
	cJSON_Delete(obj);
}

static void
test_getters(void)
{
	cJSON *root;
	long long v;
	int b;

	root = must_parse(
	    "{\"s\":\"str\",\"i\":-42,\"f\":1.5,\"one\":1.0,"
	    "\"max\":9007199254740991,\"big\":9007199254740993,"
	    "\"huge\":1e300,\"t\":true,\"no\":false,\"z\":null,\"A\":1}");

	is_str(pb_json_get_string(root, "s"), "str", "get_string");
	ok(pb_json_get_string(root, "i") == NULL, "get_string on a number");
	ok(pb_json_get_string(root, "z") == NULL, "get_string on null");
	ok(pb_json_get_string(root, "missing") == NULL, "get_string absent");
	ok(pb_json_get_string(root, "S") == NULL, "get_string case-sensitive");

	v = 0;
	ok(pb_json_get_int(root, "i", &v) == 1 && v == -42, "get_int -42");
	v = 0;
	ok(pb_json_get_int(root, "one", &v) == 1 && v == 1, "get_int 1.0");
	v = 0;
	ok(pb_json_get_int(root, "max", &v) == 1 && v == 9007199254740991LL,
	   "get_int 2^53-1");
	v = 7;
	ok(pb_json_get_int(root, "f", &v) == 0 && v == 7,
	   "get_int 1.5 refused, out untouched");
	ok(pb_json_get_int(root, "big", &v) == 0, "get_int 2^53+1 refused");
	ok(pb_json_get_int(root, "huge", &v) == 0, "get_int 1e300 refused");
	ok(pb_json_get_int(root, "s", &v) == 0, "get_int on a string");
	ok(pb_json_get_int(root, "a", &v) == 0, "get_int case-sensitive");
	ok(pb_json_get_int(root, "z", &v) == 0, "get_int on null");

	b = -1;
	ok(pb_json_get_bool(root, "t", &b) == 1 && b == 1, "get_bool true");
	b = -1;
	ok(pb_json_get_bool(root, "no", &b) == 1 && b == 0, "get_bool false");
	ok(pb_json_get_bool(root, "i", &b) == 0, "get_bool on a number");
	ok(pb_json_get_bool(root, "missing", &b) == 0, "get_bool absent");
	ok(pb_json_get_string(NULL, "s") == NULL &&
	       pb_json_get_int(NULL, "i", &v) == 0 &&
	       pb_json_get_bool(NULL, "t", &b) == 0,
	   "getters on NULL obj");
	cJSON_Delete(root);
}

static void
test_print(void)
{
	static const char src[] =
	    "{ \"a\" : [1, -2.5, true, null], \"s\" : \"\\u00e9\\n\\\"\\/\","
	    " \"o\" : { } }";
	cJSON *root, *again = NULL;
	char *text, *text2;

	root = must_parse(src);
	text = pb_json_print(root);
	is_str(text,
	       "{\"a\":[1,-2.5,true,null],\"s\":\"\xC3\xA9\\n\\\"/\","
	       "\"o\":{}}",
	       "print is compact and re-escaped");
	ok(text != NULL &&
	       pb_json_parse(text, strlen(text), 0, &again, NULL) == PB_OK,
	   "printed text parses again");
	text2 = pb_json_print(again);
	is_str(text2, text, "second print is identical");
	ok(pb_json_print(NULL) == NULL, "print NULL is NULL");
	cJSON_free(text);
	cJSON_free(text2);
	cJSON_Delete(root);
	cJSON_Delete(again);
}

int
main(void)
{
	test_valid();
	test_trailing();
	test_utf8();
	test_escapes();
	test_limits();
	test_duplicates();
	test_numbers();
	test_literals();
	test_check();
	test_getters();
	test_print();
	return tap_done();
}
