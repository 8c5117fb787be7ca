/*
 * fuzz_json.c - libFuzzer target for lib/core/json.c.
 *
 * Properties checked (abort() on violation, so libFuzzer keeps the input):
 *   - pb_json_parse never crashes or over-reads data[0..size);
 *   - a failure always comes with a reason and a NULL tree;
 *   - whatever parses with max_depth 3 also parses with the default;
 *   - pb_json_check and the getters run on any parsed tree;
 *   - the printed tree parses again and prints to the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pb_json_field spec[] = {
    {"id", PB_JSON_INT, PB_JSON_REQUIRED, 1, 1000000},
    {"name", PB_JSON_STRING, PB_JSON_NULLABLE, 1, 16},
    {"on", PB_JSON_BOOL, 0, 0, 0},
    {"tags", PB_JSON_ARRAY, 0, 0, 4},
    {"meta", PB_JSON_OBJECT, PB_JSON_REQUIRED | PB_JSON_NULLABLE, 0, 0},
};

/* Parses text[0..len); aborts if a failure breaks the contract. */
static enum pb_err
parse(const char *text, size_t len, int max_depth, cJSON **out)
{
	const char *why = NULL;
	enum pb_err rc;

	rc = pb_json_parse(text, len, max_depth, out, &why);
	if (rc == PB_OK) {
		if (*out == NULL || why != NULL)
			abort();
	} else {
		if (*out != NULL || why == NULL)
			abort();
		if (rc != PB_ERR_PARSE && rc != PB_ERR_TOOBIG)
			abort();
	}
	return rc;
}

static void
exercise(const cJSON *root)
{
	const char *field = NULL, *why = NULL;
	long long v;
	int b;

	if (pb_json_check(root, spec, sizeof(spec) / sizeof(spec[0]), &field,
	                  &why) != PB_OK &&
	    (field == NULL || why == NULL))
		abort();
	(void)pb_json_get_string(root, "name");
	(void)pb_json_get_int(root, "id", &v);
	(void)pb_json_get_bool(root, "on", &b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	cJSON *root = NULL, *shallow = NULL, *again = NULL;
	char *printed = NULL, *printed2 = NULL;
	size_t plen;

	if (parse(text, size, 3, &shallow) == PB_OK &&
	    parse(text, size, 0, &root) != PB_OK)
		abort();
	if (root == NULL && parse(text, size, 0, &root) != PB_OK)
		goto out;

	exercise(root);

	printed = pb_json_print(root);
	if (printed == NULL)
		goto out; /* allocation failure: nothing to compare */
	plen = strlen(printed);
	if (plen > PB_JSON_MAX_INPUT)
		goto out; /* numbers can print longer than they came */
	if (parse(printed, plen, 0, &again) != PB_OK)
		abort();
	printed2 = pb_json_print(again);
	if (printed2 != NULL && strcmp(printed, printed2) != 0)
		abort();
out:
	cJSON_free(printed2);
	cJSON_free(printed);
	cJSON_Delete(again);
	cJSON_Delete(shallow);
	cJSON_Delete(root);
	return 0;
}
