/*
 * fuzz_kos.c - libFuzzer target for the KOS answer parser
 * (lib/backoffice/kos.c).
 *
 * Properties checked (abort() on violation, so libFuzzer keeps the input):
 *   - pb_kos_parse_envelope never crashes or over-reads data[0..size),
 *     for every operation;
 *   - it returns PB_OK, PB_ERR_PARSE or PB_ERR_TOOBIG only;
 *   - PB_OK means a 4-digit code, success exactly for "0000", a
 *     NUL-terminated message, and for available months only YYYY-MM
 *     strictly newest first; a failure leaves no data and no code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct pb_kos_result *r, enum pb_kos_op op, enum pb_err rc)
{
	size_t i;

	if (rc != PB_OK) {
		if ((rc != PB_ERR_PARSE && rc != PB_ERR_TOOBIG) ||
		    r->data != NULL || r->code[0] != '\0' || r->nmonths != 0)
			abort();
		return;
	}
	if (strlen(r->code) != 4 ||
	    r->success != (strcmp(r->code, "0000") == 0) ||
	    memchr(r->message, '\0', sizeof(r->message)) == NULL)
		abort();
	if (r->success && r->data == NULL)
		abort();
	if (op != PB_KOS_BILL_MONTHS && r->nmonths != 0)
		abort();
	for (i = 0; i < r->nmonths; i++) {
		if (strlen(r->months[i]) != 7 || r->months[i][4] != '-')
			abort();
		if (i > 0 && strcmp(r->months[i - 1], r->months[i]) <= 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_kos_result r;
	char *text;
	int op;

	/* a NUL-terminated copy, as lib/http hands bodies over */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (op = 0; op < PB_KOS_NOPS; op++) {
		enum pb_err rc;

		memset(&r, 0, sizeof(r));
		rc = pb_kos_parse_envelope(text, size, (enum pb_kos_op)op, &r);
		check(&r, (enum pb_kos_op)op, rc);
		pb_kos_result_free(&r);
	}
	free(text);
	return 0;
}
