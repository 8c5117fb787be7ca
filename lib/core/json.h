/*
 * json.h - strict JSON on top of cJSON 1.7.15.
 *
 * cJSON alone accepts trailing garbage and invalid UTF-8, truncates strings
 * at \u0000, keeps the first of duplicate keys, matches keys without regard
 * to case and saturates valueint.  pb_json_parse() validates the raw text
 * against RFC 8259 itself before cJSON builds the tree, so nothing cJSON is
 * lenient about can reach a handler.  pb_json_check() then validates an
 * object against a declarative field list.
 */
#ifndef PB_JSON_H
#define PB_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "err.h"

#define PB_JSON_MAX_DEPTH 16            /* nesting levels (objects + arrays) */
#define PB_JSON_MAX_MEMBERS 256         /* members of one object / array */
#define PB_JSON_MAX_INPUT (1024 * 1024) /* bytes */

/*
 * Parse text[0..len) strictly.  Rejected: invalid UTF-8 (overlong forms,
 * surrogates encoded in UTF-8, code points over U+10FFFF, truncated
 * sequences), lone or mis-ordered \uD800-\uDFFF escapes, \u0000, raw
 * control characters in strings, NUL bytes anywhere, trailing non-space
 * after the value, nesting deeper than max_depth, more than
 * PB_JSON_MAX_MEMBERS members in one container, duplicate keys in one
 * object (compared after unescaping), numbers cJSON cannot hold exactly
 * enough (more than 64 characters), and inputs over PB_JSON_MAX_INPUT.
 * A leading UTF-8 BOM is rejected too.
 *
 * On PB_OK *out is the tree (caller frees with cJSON_Delete).  On failure
 * *out is NULL, the result is PB_ERR_PARSE or PB_ERR_TOOBIG, and *why (if
 * why != NULL) points to a static English reason such as "trailing
 * characters after JSON value" -- safe to show to a client.
 */
enum pb_err pb_json_parse(const char *text, size_t len, int max_depth,
                          cJSON **out, const char **why);

enum pb_json_type {
	PB_JSON_STRING,
	PB_JSON_INT, /* a JSON number that is integral and in [min, max] */
	PB_JSON_BOOL,
	PB_JSON_OBJECT,
	PB_JSON_ARRAY
};

/* Field flags. */
#define PB_JSON_REQUIRED 0x1u /* absent -> error */
#define PB_JSON_NULLABLE 0x2u /* JSON null accepted, treated as absent */

struct pb_json_field {
	const char *name; /* matched case-sensitively */
	enum pb_json_type type;
	unsigned flags; /* PB_JSON_REQUIRED | PB_JSON_NULLABLE */
	long long min;  /* INT: lowest value; STRING: min bytes */
	long long max;  /* INT: highest value; STRING: max bytes;
	                   ARRAY: max elements; 0 = no check */
};

/*
 * Check that obj is a JSON object whose members are all named in
 * spec[0..n) (unknown keys are an error), each of the declared type and
 * within its bounds, and that every REQUIRED field is present.  An INT
 * must be a number with no fractional part, within [min, max] and within
 * +/- 2^53 (so valuedouble is exact).  Strings are already valid UTF-8
 * after pb_json_parse.
 *
 * On failure returns PB_ERR_INVAL and sets *field (the offending member
 * name, borrowed from spec or obj; may be "" for "not an object") and *why
 * (static English reason, e.g. "unknown field", "wrong type", "required",
 * "out of range", "too long", "too short").  Either pointer may be NULL.
 */
enum pb_err pb_json_check(const cJSON *obj, const struct pb_json_field *spec,
                          size_t n, const char **field, const char **why);

/* Case-sensitive lookups; NULL when absent, JSON null, or another type. */
const char *pb_json_get_string(const cJSON *obj, const char *name);
/* Returns 1 and sets *out when name is an integral number within +/-2^53. */
int pb_json_get_int(const cJSON *obj, const char *name, long long *out);
/* Returns 1 and sets *out (0/1) when name is a boolean. */
int pb_json_get_bool(const cJSON *obj, const char *name, int *out);

/*
 * Serialise unformatted.  Returns a malloc'd NUL-terminated string (caller
 * frees with cJSON_free) or NULL on allocation failure.  cJSON escapes
 * control characters and never emits invalid UTF-8 for strings that came
 * from pb_json_parse or from our own code.
 */
char *pb_json_print(const cJSON *item);

#endif
