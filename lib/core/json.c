/*
 * json.c - strict JSON on top of cJSON 1.7.15.
 *
 * pb_json_parse() runs one pass of our own RFC 8259 validator over the
 * raw bytes first, so cJSON only ever sees text that is already known to
 * be well formed; cJSON then builds the tree and a bounded walk rejects
 * duplicate keys and numbers that overflowed to infinity.
 *
 * cJSON keeps a process-wide "last error" pointer that every parse
 * writes; we never read it, but callers parsing from several threads at
 * once share that write (harmless for us, noted for TSan users).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "json.h"

/*
 * Longest number accepted, in characters (bytes).  Upstream cJSON 1.7.15
 * copies at most 63 into a fixed buffer before strtod() (Debian's
 * CVE-2023-26819 patch removed that buffer); a number it cuts short is
 * still refused, because pb_json_parse() checks where cJSON stopped.
 */
#define NUM_MAX_CHARS 64

/* Largest magnitude a double holds with every integer below it exact. */
#define SAFE_INT_MAX 9007199254740991.0 /* 2^53 - 1 */

enum scan_state {
	ST_VALUE, /* a value must start here */
	ST_KEY,   /* an object key must start here */
	ST_AFTER  /* a value just ended */
};

static int
is_ws(unsigned char c)
{
	/* RFC 8259 section 2: exactly these four bytes are whitespace. */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_ws(const unsigned char *p, size_t len, size_t pos)
{
	while (pos < len && is_ws(p[pos]))
		pos++;
	return pos;
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Reads four hex digits at q; returns 0 and sets *cp, or -1. */
static int
hex4(const unsigned char *q, unsigned *cp)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		unsigned char c = q[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*cp = v;
	return 0;
}

/*
 * Length in bytes of the well-formed UTF-8 sequence at q (avail bytes
 * readable), or 0.  Follows Unicode table 3-7, which by its second-byte
 * ranges excludes overlong forms (C0, C1, E0 80-9F, F0 80-8F), encoded
 * surrogates (ED A0-BF) and code points over U+10FFFF (F4 90+, F5-FF).
 */
static size_t
utf8_seq(const unsigned char *q, size_t avail)
{
	unsigned char c = q[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	if (q[1] < lo || q[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (q[i] < 0x80 || q[i] > 0xBF)
			return 0;
	return n;
}

/*
 * Scans the string starting at the opening quote p[*pos]; on success
 * *pos is just past the closing quote.  Returns NULL or the reason.
 */
static const char *
scan_string(const unsigned char *p, size_t len, size_t *pos)
{
	size_t i = *pos + 1;
	unsigned cp, lo;
	size_t n;

	for (;;) {
		unsigned char c;

		if (i >= len)
			return "unterminated string";
		c = p[i];
		if (c == '"')
			break;
		if (c == '\0')
			return "NUL byte in input";
		if (c < 0x20)
			return "control character in string";
		if (c >= 0x80) {
			n = utf8_seq(p + i, len - i);
			if (n == 0)
				return "invalid UTF-8";
			i += n;
			continue;
		}
		if (c != '\\') {
			i++;
			continue;
		}
		if (len - i < 2)
			return "unterminated string";
		switch (p[i + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			i += 2;
			continue;
		case 'u':
			break;
		default:
			return "invalid escape";
		}
		/* \uXXXX: 6 bytes; a high surrogate needs a second 6. */
		if (len - i < 6 || hex4(p + i + 2, &cp) != 0)
			return "invalid \\u escape";
		if (cp == 0)
			return "\\u0000 not allowed";
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return "unpaired surrogate escape";
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (len - i < 12 || p[i + 6] != '\\' ||
			    p[i + 7] != 'u' || hex4(p + i + 8, &lo) != 0 ||
			    lo < 0xDC00 || lo > 0xDFFF)
				return "unpaired surrogate escape";
			i += 12;
		} else {
			i += 6;
		}
	}
	*pos = i + 1;
	return NULL;
}

/* Scans an RFC 8259 number at p[*pos]; returns NULL or the reason. */
static const char *
scan_number(const unsigned char *p, size_t len, size_t *pos)
{
	size_t start = *pos, i = *pos;

	if (i < len && p[i] == '-')
		i++;
	if (i >= len)
		return "invalid number";
	if (p[i] == '0') {
		i++;
		if (i < len && is_digit(p[i]))
			return "invalid number";
	} else if (p[i] >= '1' && p[i] <= '9') {
		while (i < len && is_digit(p[i]))
			i++;
	} else {
		return "invalid number";
	}
	if (i < len && p[i] == '.') {
		i++;
		if (i >= len || !is_digit(p[i]))
			return "invalid number";
		while (i < len && is_digit(p[i]))
			i++;
	}
	if (i < len && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < len && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= len || !is_digit(p[i]))
			return "invalid number";
		while (i < len && is_digit(p[i]))
			i++;
	}
	if (i - start > NUM_MAX_CHARS)
		return "number too long";
	*pos = i;
	return NULL;
}

static const char *
scan_literal(const unsigned char *p, size_t len, size_t *pos)
{
	static const char *const lits[] = {"true", "false", "null"};
	size_t k, n;

	for (k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
		n = strlen(lits[k]);
		if (len - *pos >= n && memcmp(p + *pos, lits[k], n) == 0) {
			*pos += n;
			return NULL;
		}
	}
	return "invalid literal";
}

/* The validator's position: the containers open at the moment are kept
 * in fixed arrays indexed by depth (no recursion). */
struct vscan {
	const unsigned char *p;
	size_t len;
	size_t max_depth;
	unsigned char kind[PB_JSON_MAX_DEPTH + 1]; /* '{' or '[' */
	unsigned members[PB_JSON_MAX_DEPTH + 1];   /* count so far */
	enum scan_state st;
	size_t depth, pos;
};

/* A value starts with c at v->pos: open a container or scan a scalar. */
static const char *
on_value(struct vscan *v, unsigned char c)
{
	const char *why;

	if (c == '{' || c == '[') {
		if (v->depth >= v->max_depth)
			return "nesting too deep";
		v->kind[v->depth] = c;
		v->members[v->depth] = 0;
		v->depth++;
		v->pos = skip_ws(v->p, v->len, v->pos + 1);
		if (v->pos < v->len && v->p[v->pos] == (c == '{' ? '}' : ']')) {
			v->depth--;
			v->pos++;
			v->st = ST_AFTER;
		} else if (c == '{') {
			v->st = ST_KEY;
		} else {
			v->members[v->depth - 1] = 1;
		}
		return NULL;
	}
	if (c == '"')
		why = scan_string(v->p, v->len, &v->pos);
	else if (c == '-' || is_digit(c))
		why = scan_number(v->p, v->len, &v->pos);
	else if (c == 't' || c == 'f' || c == 'n')
		why = scan_literal(v->p, v->len, &v->pos);
	else
		why = "expected a JSON value";
	if (why == NULL)
		v->st = ST_AFTER;
	return why;
}

/* A member's key starts with c at v->pos: the key and its ':'. */
static const char *
on_key(struct vscan *v, unsigned char c)
{
	const char *why;

	if (c != '"')
		return "expected string key";
	if (++v->members[v->depth - 1] > PB_JSON_MAX_MEMBERS)
		return "too many members";
	why = scan_string(v->p, v->len, &v->pos);
	if (why != NULL)
		return why;
	v->pos = skip_ws(v->p, v->len, v->pos);
	if (v->pos >= v->len || v->p[v->pos] != ':')
		return "expected ':' after key";
	v->pos++;
	v->st = ST_VALUE;
	return NULL;
}

/* After a value inside a container: c is ',' or the closing bracket. */
static const char *
on_after(struct vscan *v, unsigned char c)
{
	int obj = v->kind[v->depth - 1] == '{';

	if (c == ',') {
		v->pos++;
		if (obj) {
			v->st = ST_KEY;
		} else {
			if (++v->members[v->depth - 1] > PB_JSON_MAX_MEMBERS)
				return "too many members";
			v->st = ST_VALUE;
		}
	} else if (c == (obj ? '}' : ']')) {
		v->pos++;
		v->depth--;
	} else {
		return obj ? "expected ',' or '}'" : "expected ',' or ']'";
	}
	return NULL;
}

/*
 * One pass over p[0..len): grammar, UTF-8, escapes, depth and member
 * counts, trailing bytes.  On success *vend is the offset just past the
 * top-level value (before trailing whitespace).
 */
static const char *
validate(const unsigned char *p, size_t len, int max_depth, size_t *vend)
{
	struct vscan v;
	const char *why;
	unsigned char c;

	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return "byte order mark not allowed";
	if (skip_ws(p, len, 0) == len)
		return "empty input";
	v.p = p;
	v.len = len;
	v.max_depth = max_depth > 0 ? (size_t)max_depth : 0;
	v.st = ST_VALUE;
	v.depth = 0;
	v.pos = 0;
	for (;;) {
		if (v.st == ST_AFTER && v.depth == 0) {
			*vend = v.pos;
			v.pos = skip_ws(p, len, v.pos);
			if (v.pos == len)
				return NULL;
			if (p[v.pos] == '\0')
				return "NUL byte in input";
			return "trailing characters after JSON value";
		}
		v.pos = skip_ws(p, len, v.pos);
		if (v.pos >= len)
			return "unexpected end of input";
		c = p[v.pos];
		if (c == '\0')
			return "NUL byte in input";
		if (v.st == ST_VALUE)
			why = on_value(&v, c);
		else if (v.st == ST_KEY)
			why = on_key(&v, c);
		else
			why = on_after(&v, c);
		if (why != NULL)
			return why;
	}
}

/* Returns the first member of obj whose name repeats an earlier one. */
static const cJSON *
find_duplicate(const cJSON *obj)
{
	const cJSON *a, *b;

	for (a = obj->child; a != NULL; a = a->next) {
		if (a->string == NULL)
			continue;
		for (b = obj->child; b != a; b = b->next)
			if (b->string != NULL &&
			    strcmp(a->string, b->string) == 0)
				return a;
	}
	return NULL;
}

/*
 * Pre-order walk of the tree with an explicit stack of open containers;
 * the validator already bounded the depth, the check here only keeps the
 * array index in range if that ever stops being true.
 */
static const char *
walk_tree(const cJSON *root)
{
	const cJSON *stack[PB_JSON_MAX_DEPTH + 1];
	const cJSON *it = root;
	size_t depth = 0;

	for (;;) {
		if (cJSON_IsNumber(it) && !isfinite(it->valuedouble))
			return "number out of range";
		if (cJSON_IsObject(it) && find_duplicate(it) != NULL)
			return "duplicate key";
		if ((cJSON_IsObject(it) || cJSON_IsArray(it)) &&
		    it->child != NULL) {
			if (depth >= PB_JSON_MAX_DEPTH)
				return "nesting too deep";
			stack[depth++] = it;
			it = it->child;
			continue;
		}
		for (;;) {
			if (depth == 0)
				return NULL;
			if (it->next != NULL) {
				it = it->next;
				break;
			}
			it = stack[--depth];
		}
	}
}

enum pb_err
pb_json_parse(const char *text, size_t len, int max_depth, cJSON **out,
              const char **why)
{
	enum pb_err rc = PB_ERR_PARSE;
	const char *reason = NULL;
	const char *end = NULL;
	cJSON *root = NULL;
	size_t vend = 0;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (text == NULL && len > 0)) {
		rc = PB_ERR_INVAL;
		reason = "invalid arguments";
		goto out;
	}
	if (len > PB_JSON_MAX_INPUT) {
		rc = PB_ERR_TOOBIG;
		reason = "input too large";
		goto out;
	}
	if (max_depth <= 0 || max_depth > PB_JSON_MAX_DEPTH)
		max_depth = PB_JSON_MAX_DEPTH;

	reason = validate((const unsigned char *)text, len, max_depth, &vend);
	if (reason != NULL)
		goto out;

	/*
	 * require_null_terminated must be 0: with 1 cJSON insists on a NUL
	 * inside [0, len) after the value, which our input need not have.
	 * The validator already refused trailing bytes; we check instead
	 * that cJSON stopped exactly where the validator's value ended.
	 */
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		reason = "could not parse JSON";
		goto out;
	}
	if (end != text + vend) {
		reason = "could not parse JSON";
		goto out;
	}
	reason = walk_tree(root);
	if (reason != NULL)
		goto out;

	*out = root;
	root = NULL;
	rc = PB_OK;
out:
	cJSON_Delete(root);
	if (why != NULL)
		*why = rc == PB_OK ? NULL : reason;
	return rc;
}

/*
 * Converts a JSON number to an integer when it is integral and within
 * +/-(2^53 - 1): 2^53 itself is refused because 2^53 + 1 in the text
 * rounds to it.  Integrality is judged on the double, so 1.0 is 1.
 */
static const char *
to_int(double d, long long *out)
{
	long long v;

	if (!isfinite(d) || d > SAFE_INT_MAX || d < -SAFE_INT_MAX)
		return "out of range";
	v = (long long)d;
	if ((double)v != d)
		return "not an integer";
	*out = v;
	return NULL;
}

static const struct pb_json_field *
find_field(const struct pb_json_field *spec, size_t n, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (spec[i].name != NULL && strcmp(spec[i].name, name) == 0)
			return &spec[i];
	return NULL;
}

/* Checks one present member m against its field f; NULL or the reason. */
static const char *
check_member(const struct pb_json_field *f, const cJSON *m)
{
	const cJSON *e;
	long long v = 0;
	size_t blen, count;
	const char *why;

	if (cJSON_IsNull(m))
		return (f->flags & PB_JSON_NULLABLE) ? NULL : "wrong type";

	switch (f->type) {
	case PB_JSON_STRING:
		if (!cJSON_IsString(m) || m->valuestring == NULL)
			return "wrong type";
		blen = strlen(m->valuestring);
		if (f->min > 0 &&
		    (unsigned long long)blen < (unsigned long long)f->min)
			return "too short";
		if (f->max > 0 &&
		    (unsigned long long)blen > (unsigned long long)f->max)
			return "too long";
		return NULL;
	case PB_JSON_INT:
		if (!cJSON_IsNumber(m))
			return "wrong type";
		why = to_int(m->valuedouble, &v);
		if (why != NULL)
			return why;
		/* Bounds always apply for INT: [0, 0] means exactly 0. */
		if (v < f->min || v > f->max)
			return "out of range";
		return NULL;
	case PB_JSON_BOOL:
		return cJSON_IsBool(m) ? NULL : "wrong type";
	case PB_JSON_OBJECT:
		return cJSON_IsObject(m) ? NULL : "wrong type";
	case PB_JSON_ARRAY:
		if (!cJSON_IsArray(m))
			return "wrong type";
		if (f->max <= 0)
			return NULL;
		count = 0;
		for (e = m->child; e != NULL; e = e->next)
			if ((unsigned long long)++count >
			    (unsigned long long)f->max)
				return "too many elements";
		return NULL;
	}
	return "invalid field type in spec";
}

enum pb_err
pb_json_check(const cJSON *obj, const struct pb_json_field *spec, size_t n,
              const char **field, const char **why)
{
	const struct pb_json_field *f;
	const char *name = "";
	const char *reason = NULL;
	const cJSON *m, *prev;
	size_t i;

	if (!cJSON_IsObject(obj)) {
		reason = "not an object";
		goto out;
	}
	if (spec == NULL && n > 0) {
		reason = "invalid spec";
		goto out;
	}
	for (m = obj->child; m != NULL; m = m->next) {
		name = m->string != NULL ? m->string : "";
		for (prev = obj->child; prev != m; prev = prev->next) {
			if (prev->string != NULL && m->string != NULL &&
			    strcmp(prev->string, m->string) == 0) {
				reason = "duplicate field";
				goto out;
			}
		}
		f = find_field(spec, n, m->string);
		if (f == NULL) {
			reason = "unknown field";
			goto out;
		}
		reason = check_member(f, m);
		if (reason != NULL)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (!(spec[i].flags & PB_JSON_REQUIRED) || spec[i].name == NULL)
			continue;
		if (cJSON_GetObjectItemCaseSensitive(obj, spec[i].name) ==
		    NULL) {
			name = spec[i].name;
			reason = "required";
			goto out;
		}
	}
	name = NULL;
out:
	if (field != NULL)
		*field = name;
	if (why != NULL)
		*why = reason;
	return reason == NULL ? PB_OK : PB_ERR_INVAL;
}

/* The member called name (case-sensitive) of obj, or NULL. */
static const cJSON *
member(const cJSON *obj, const char *name)
{
	if (!cJSON_IsObject(obj) || name == NULL)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

const char *
pb_json_get_string(const cJSON *obj, const char *name)
{
	const cJSON *m = member(obj, name);

	if (!cJSON_IsString(m))
		return NULL;
	return m->valuestring;
}

int
pb_json_get_int(const cJSON *obj, const char *name, long long *out)
{
	const cJSON *m = member(obj, name);
	long long v = 0;

	if (!cJSON_IsNumber(m) || to_int(m->valuedouble, &v) != NULL)
		return 0;
	if (out != NULL)
		*out = v;
	return 1;
}

int
pb_json_get_bool(const cJSON *obj, const char *name, int *out)
{
	const cJSON *m = member(obj, name);

	if (!cJSON_IsBool(m))
		return 0;
	if (out != NULL)
		*out = cJSON_IsTrue(m) ? 1 : 0;
	return 1;
}

char *
pb_json_print(const cJSON *item)
{
	if (item == NULL)
		return NULL;
	return cJSON_PrintUnformatted(item);
}
