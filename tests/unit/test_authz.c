/* test_authz.c - permissions, line numbers, and the no-token answer. */
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "tap.h"

int
main(void)
{
	char out[16];
	struct pb_principal p;
	struct pb_req req;
	cJSON *a;
	char *s;

	is_int(pb_authz_perm_parse("BILL_INQUIRY"), PB_PERM_BILL_INQUIRY,
	       "parse");
	is_int(pb_authz_perm_parse("bill_inquiry"), 0, "case-sensitive");
	is_int(pb_authz_perm_parse(NULL), 0, "NULL");
	is_str(pb_authz_perm_name(PB_PERM_PRODUCT_CHANGE), "PRODUCT_CHANGE",
	       "name");
	ok(pb_authz_perm_name(4) == NULL, "unknown bit");
	a = pb_authz_perms_json(PB_PERM_ALL);
	s = cJSON_PrintUnformatted(a);
	is_str(s, "[\"BILL_INQUIRY\",\"PRODUCT_CHANGE\"]", "perms json");
	free(s);
	cJSON_Delete(a);
	is_int(pb_authz_line_format("01012345678", out, sizeof(out)), PB_OK,
	       "digits");
	is_str(out, "010-1234-5678", "formatted");
	is_int(pb_authz_line_format("010-1234-5678", out, sizeof(out)), PB_OK,
	       "dashed");
	is_int(pb_authz_line_format("0101234567", out, sizeof(out)),
	       PB_ERR_INVAL, "10 digits");
	is_int(pb_authz_line_format("010-12345-678", out, sizeof(out)),
	       PB_ERR_INVAL, "bad dashes");
	is_int(pb_authz_line_format("02012345678", out, sizeof(out)),
	       PB_ERR_INVAL, "not mobile");
	is_int(pb_authz_line_format("0101234567x", out, sizeof(out)),
	       PB_ERR_INVAL, "letter");
	memset(&p, 0, sizeof(p));
	memcpy(p.s.line, "010-1234-5678", 14);
	ok(pb_authz_line_is_own(&p, "01012345678"), "own line");
	ok(!pb_authz_line_is_own(&p, "01012345679"), "other line");

	/* no Authorization header: 401 UNAUTHORIZED, principal zeroed */
	memset(&req, 0, sizeof(req));
	pb_buf_init(&req.sent, 4096);
	pb_buf_init(&req.headers, 1024);
	ok(pb_authz_require(&req, PB_PERM_BILL_INQUIRY, &p) != PB_OK,
	   "refused");
	is_int(req.status, 401, "401");
	ok(req.sent.data != NULL &&
	       strstr(req.sent.data, "\"UNAUTHORIZED\"") != NULL,
	   "UNAUTHORIZED envelope");
	ok(p.s.line[0] == '\0', "principal zeroed");
	pb_buf_free(&req.sent);
	pb_buf_free(&req.headers);
	return tap_done();
}
