/* kos.c - the KOS envelope, input checks, JSON and query helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sim.h"

static const char *const op_names[KS_OP_COUNT] = {
    "bill.inquiry", "bill.months",    "product.inquiry",
    "product.list", "product.change", "mvno"};

const char *
ks_op_name(enum ks_op op)
{
	return (unsigned)op < KS_OP_COUNT ? op_names[op] : "?";
}

int
ks_op_parse(const char *s, enum ks_op *out)
{
	unsigned i;

	for (i = 0; s != NULL && i < KS_OP_COUNT; i++) {
		if (strcmp(s, op_names[i]) == 0) {
			*out = (enum ks_op)i;
			return 1;
		}
	}
	return 0;
}

/* --- JSON building ------------------------------------------------------ */
static void
attach(cJSON *o, const char *k, cJSON *item, int *fail)
{
	if (o == NULL || item == NULL || !cJSON_AddItemToObject(o, k, item)) {
		cJSON_Delete(item);
		*fail = 1;
	}
}

void
ks_add_item(cJSON *o, const char *k, cJSON *item, int *fail)
{
	attach(o, k, item, fail);
}

void
ks_add_str(cJSON *o, const char *k, const char *v, int *fail)
{
	attach(o, k, v != NULL ? cJSON_CreateString(v) : cJSON_CreateNull(),
	       fail);
}

void
ks_add_int(cJSON *o, const char *k, long long v, int *fail)
{
	attach(o, k, cJSON_CreateNumber((double)v), fail);
}

void
ks_add_num(cJSON *o, const char *k, double v, int *fail)
{
	attach(o, k, cJSON_CreateNumber(v), fail);
}

void
ks_add_bool(cJSON *o, const char *k, int v, int *fail)
{
	attach(o, k, cJSON_CreateBool(v), fail);
}

void
ks_add_null(cJSON *o, const char *k, int *fail)
{
	attach(o, k, cJSON_CreateNull(), fail);
}

cJSON *
ks_add_obj(cJSON *o, const char *k, int *fail)
{
	cJSON *c = cJSON_CreateObject();
	int f = 0;

	attach(o, k, c, &f);
	if (f) {
		*fail = 1;
		return NULL;
	}
	return c;
}

cJSON *
ks_add_arr(cJSON *o, const char *k, int *fail)
{
	cJSON *c = cJSON_CreateArray();
	int f = 0;

	attach(o, k, c, &f);
	if (f) {
		*fail = 1;
		return NULL;
	}
	return c;
}

cJSON *
ks_push_obj(cJSON *a, int *fail)
{
	cJSON *c = cJSON_CreateObject();

	if (a == NULL || c == NULL || !cJSON_AddItemToArray(a, c)) {
		cJSON_Delete(c);
		*fail = 1;
		return NULL;
	}
	return c;
}

long long
ks_col_ll(const char *s, long long def)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	return v;
}

/* --- envelope ----------------------------------------------------------- */
char *
ks_envelope_text(const struct pb_req *req, const char *code,
                 const char *message, cJSON *data)
{
	char ts[PB_CLOCK_RFC3339_LEN];
	int tz = req->app != NULL ? req->app->tz_offset_min
	                          : PB_CLOCK_KST_OFFSET_MIN;
	cJSON *root = cJSON_CreateObject();
	char *text = NULL;
	int fail = 0;

	(void)pb_clock_rfc3339(pb_clock_now_ms(), tz, ts, sizeof(ts));
	if (root == NULL) {
		cJSON_Delete(data);
		return NULL;
	}
	ks_add_bool(root, "success", strcmp(code, KS_RC_OK) == 0, &fail);
	ks_add_str(root, "resultCode", code, &fail);
	ks_add_str(root, "resultMessage", message, &fail);
	if (data != NULL)
		attach(root, "data", data, &fail);
	else
		ks_add_null(root, "data", &fail);
	ks_add_str(root, "timestamp", ts, &fail);
	ks_add_str(root, "traceId", req->request_id, &fail);
	if (!fail)
		text = pb_json_print(root);
	cJSON_Delete(root);
	return text;
}

static void
reply(struct pb_req *req, int status, const char *code, const char *message,
      cJSON *data, int mangle)
{
	static const char fallback[] =
	    "{\"success\":false,\"resultCode\":\"9999\",\"resultMessage\":"
	    "\"시스템 오류가 발생했습니다.\",\"data\":null}";
	char *text = ks_envelope_text(req, code, message, data);

	if (text == NULL) {
		pb_log_msg(PB_LOG_ERROR, "kos_encode_failed", "out of memory");
		pb_req_send(req, 500, fallback, sizeof(fallback) - 1);
		return;
	}
	if (mangle)
		ks_fault_emit(req, status, text, strlen(text));
	else
		pb_req_send(req, status, text, strlen(text));
	cJSON_free(text);
}

void
ks_reply(struct pb_req *req, int status, const char *code, const char *message,
         cJSON *data)
{
	reply(req, status, code, message, data, 1);
}

void
ks_admin_reply(struct pb_req *req, int status, const char *code,
               const char *message, cJSON *data)
{
	reply(req, status, code, message, data, 0);
}

void
ks_reply_invalid(struct pb_req *req, const char *field, const char *why)
{
	cJSON *d = cJSON_CreateObject();
	int fail = 0;

	ks_add_str(d, "field", field != NULL ? field : "", &fail);
	ks_add_str(d, "reason", why != NULL ? why : "invalid", &fail);
	if (fail) {
		cJSON_Delete(d);
		d = NULL;
	}
	ks_reply(req, 400, KS_RC_INVALID, "요청 값이 올바르지 않습니다.", d);
}

void
ks_reply_system(struct pb_req *req, const char *what)
{
	pb_log_msg(PB_LOG_ERROR, "kos_system_error", what);
	ks_reply(req, 200, KS_RC_SYSTEM,
	         "시스템 오류가 발생했습니다. 잠시 후 다시 시도해주세요.",
	         NULL);
}

cJSON *
ks_parse_body(struct pb_req *req, const struct pb_json_field *spec, size_t n)
{
	cJSON *root = NULL;
	const char *why = NULL, *field = NULL;

	if (req->body == NULL || req->body_len == 0) {
		ks_reply_invalid(req, "", "request body required");
		return NULL;
	}
	if (pb_json_parse(req->body, req->body_len, PB_JSON_MAX_DEPTH, &root,
	                  &why) != PB_OK) {
		ks_reply_invalid(req, "", why != NULL ? why : "malformed JSON");
		return NULL;
	}
	if (pb_json_check(root, spec, n, &field, &why) != PB_OK) {
		ks_reply_invalid(req, field, why);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int
ks_line_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 11 || s[0] != '0' || s[1] != '1')
		return 0;
	for (i = 0; i < 11; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
ks_month_parse(const char *s)
{
	int i, y = 0, m = 0;

	if (s == NULL || strlen(s) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	for (i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	if (y < 1900 || m < 1 || m > 12)
		return -1;
	return ks_month_index(y, m);
}

int
ks_admin_allowed(struct pb_req *req)
{
	const char *a = req->remote_addr;

	ks_fault_clear();
	if (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	    strncmp(a, "::ffff:127.", 11) == 0)
		return 1;
	ks_log_event("sim_admin_refused", NULL, KS_RC_FORBIDDEN, a);
	ks_admin_reply(req, 403, KS_RC_FORBIDDEN,
	               "관리 기능은 로컬에서만 사용할 수 있습니다.", NULL);
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ks_query_get(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), o;
	const char *p = query;
	int hi, lo;

	if (outlen == 0)
		return -1;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t seg = end != NULL ? (size_t)(end - p) : strlen(p);

		if (seg > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			const char *v = p + nlen + 1, *vend = p + seg;

			for (o = 0; v < vend; v++) {
				char c = *v;

				if (c == '%') {
					if (vend - v < 3)
						return -1;
					hi = hexval(v[1]);
					lo = hexval(v[2]);
					if (hi < 0 || lo < 0)
						return -1;
					c = (char)(hi * 16 + lo);
					v += 2;
				} else if (c == '+') {
					c = ' ';
				}
				if (c == '\0' || o + 1 >= outlen)
					return -1;
				out[o++] = c;
			}
			out[o] = '\0';
			return 1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

void
ks_log_event(const char *event, const char *line, const char *code,
             const char *detail)
{
	struct pb_logline l;
	char masked[32];

	pb_log_begin(&l, PB_LOG_INFO, event);
	if (line != NULL) {
		(void)pb_mask_phone(line, masked, sizeof(masked));
		pb_log_str(&l, "line", masked);
	}
	if (code != NULL)
		pb_log_str(&l, "result", code);
	if (detail != NULL)
		pb_log_str(&l, "detail", detail);
	pb_log_end(&l);
}
