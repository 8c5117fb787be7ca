/*
 * handlers.c - GET /products/menu, GET /products/customer/{lineNumber},
 * GET /products/available, POST /products/change/validation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "product.h"

struct pb_backoffice *
prod_svc(struct pb_req *req)
{
	struct pb_backoffice *bo = req->app->svc;

	/* the one cast of app->svc in this service */
	if (bo == NULL || bo->app != req->app) {
		pb_log_msg(PB_LOG_ERROR, "internal_error",
		           "app->svc is not the product service's");
		abort();
	}
	return bo;
}

void
prod_ctx_init(struct prod_ctx *c, struct pb_req *req)
{
	struct pb_backoffice *svc = prod_svc(req);

	memset(c, 0, sizeof(*c));
	c->app = req->app;
	c->svc = svc;
	c->redis = req->app->redis;
	c->db = req->app->db;
	c->kos = svc->kos;
	c->hist = &svc->hist;
	c->rid = req->request_id;
}

/* The customer of the caller's own line, or the response sent and NULL. */
static cJSON *
own_customer(struct pb_req *req, struct prod_ctx *c, const char *digits)
{
	struct prod_kos_err ke;
	char code[8], msg[PB_KOS_MESSAGE_MAX];
	cJSON *cust = NULL;
	enum pb_err rc;

	rc = prod_customer(c, digits, 0, &cust, code, sizeof(code), msg,
	                   sizeof(msg), &ke);
	if (rc == PB_ERR_NOTFOUND)
		prod_not_found(req, code, msg);
	else if (rc != PB_OK)
		prod_kos_failed(req, &ke);
	return rc == PB_OK ? cust : NULL;
}

static void
principal_digits(const struct pb_principal *p, char digits[12])
{
	size_t i, j = 0;

	for (i = 0; p->s.line[i] != '\0' && j < 11; i++)
		if (p->s.line[i] >= '0' && p->s.line[i] <= '9')
			digits[j++] = p->s.line[i];
	digits[j] = '\0';
}

static int
add_menu_item(cJSON *arr, const char *id, const char *name, int available)
{
	cJSON *it = cJSON_CreateObject();

	if (it == NULL || !cJSON_AddItemToArray(arr, it)) {
		cJSON_Delete(it);
		return 0;
	}
	return cJSON_AddStringToObject(it, "menuId", id) != NULL &&
	       cJSON_AddStringToObject(it, "menuName", name) != NULL &&
	       cJSON_AddBoolToObject(it, "available", available) != NULL;
}

void
prod_menu(struct pb_req *req)
{
	struct pb_principal p;
	struct prod_ctx c;
	char digits[12];
	const char *status;
	cJSON *cust = NULL, *data = NULL, *items, *cur;
	int active;

	if (pb_authz_require(req, PB_PERM_PRODUCT_CHANGE, &p) != PB_OK)
		return;
	prod_ctx_init(&c, req);
	principal_digits(&p, digits);
	cust = own_customer(req, &c, digits);
	if (cust == NULL)
		return;
	status = pb_json_get_string(cust, "lineStatus");
	active = status != NULL && strcmp(status, "ACTIVE") == 0;
	cur = cJSON_DetachItemFromObjectCaseSensitive(cust, "currentProduct");
	data = cJSON_CreateObject();
	if (data == NULL || cur == NULL ||
	    cJSON_AddStringToObject(data, "customerId",
	                            pb_json_get_string(cust, "customerId")) ==
	        NULL ||
	    cJSON_AddStringToObject(data, "lineNumber", p.s.line) == NULL ||
	    cJSON_AddStringToObject(data, "lineStatus",
	                            status != NULL ? status : "") == NULL ||
	    !cJSON_AddItemToObject(data, "currentProduct", cur)) {
		cJSON_Delete(cur);
		goto internal;
	}
	items = cJSON_AddArrayToObject(data, "menuItems");
	if (items == NULL ||
	    !add_menu_item(items, "CUSTOMER_INFO", "고객 정보 조회", 1) ||
	    !add_menu_item(items, "PRODUCT_CHANGE", "요금제 변경", active) ||
	    !add_menu_item(items, "CHANGE_HISTORY", "변경 이력 조회", 1))
		goto internal;
	pb_req_ok(req, 200, "상품변경 메뉴를 조회했습니다", data);
	data = NULL;
	goto out;
internal:
	pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
out:
	cJSON_Delete(data);
	cJSON_Delete(cust);
}

void
prod_customer_info(struct pb_req *req)
{
	struct pb_principal p;
	struct prod_ctx c;
	struct prod_kos_err ke;
	struct pb_buf out;
	char digits[12], code[8], msg[PB_KOS_MESSAGE_MAX], *text = NULL;
	size_t len = 0;
	enum pb_err rc;

	if (pb_authz_require(req, PB_PERM_PRODUCT_CHANGE, &p) != PB_OK)
		return;
	if (!prod_own_line(req, &p, pb_req_path_param(req, "lineNumber"),
	                   digits))
		return;
	prod_ctx_init(&c, req);
	rc = prod_customer_text(&c, digits, &text, &len, code, sizeof(code),
	                        msg, sizeof(msg), &ke);
	if (rc == PB_ERR_NOTFOUND) {
		prod_not_found(req, code, msg);
		return;
	}
	if (rc != PB_OK) {
		prod_kos_failed(req, &ke);
		return;
	}
	/* the cached CustomerInfo goes out as stored */
	pb_buf_init(&out, len + 256);
	if (pb_buf_append_str(&out, "{\"success\":true,\"message\":"
	                            "\"고객 정보를 조회했습니다\",\"data\":") ==
	        PB_OK &&
	    pb_buf_append(&out, text, len) == PB_OK &&
	    pb_buf_append_char(&out, '}') == PB_OK)
		pb_req_send(req, 200, out.data, out.len);
	else
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
	pb_buf_free(&out);
	free(text);
}

/* Query parameters of GET /products/available (both optional). */
static int
available_query(const char *q, char *cur, char *op, char *details, size_t dlen)
{
	const char *p = q, *amp, *eq;
	char name[24], val[PROD_CODE_MAX];

	cur[0] = op[0] = '\0';
	while (p != NULL && *p != '\0') {
		size_t n, vn;

		amp = strchr(p, '&');
		n = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', n);
		if (n == 0)
			goto next;
		vn = eq != NULL ? n - (size_t)(eq - p) - 1 : 0;
		if (eq == NULL || (size_t)(eq - p) >= sizeof(name) ||
		    vn >= sizeof(val)) {
			snprintf(details, dlen, "malformed query parameter");
			return 0;
		}
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		memcpy(val, eq + 1, vn);
		val[vn] = '\0';
		if (!prod_code_valid(val)) {
			snprintf(details, dlen, "%s: 1-32 of [A-Za-z0-9._-]",
			         name);
			return 0;
		}
		if (strcmp(name, "currentProductCode") == 0 && cur[0] == '\0') {
			(void)pb_strlcpy(cur, val, PROD_CODE_MAX);
		} else if (strcmp(name, "operatorCode") == 0 && op[0] == '\0') {
			(void)pb_strlcpy(op, val, PROD_CODE_MAX);
		} else {
			snprintf(details, dlen,
			         "unknown or repeated parameter");
			return 0;
		}
	next:
		p = amp != NULL ? amp + 1 : NULL;
	}
	return 1;
}

void
prod_available(struct pb_req *req)
{
	struct pb_principal p;
	struct prod_ctx c;
	struct prod_kos_err ke;
	char digits[12], qcur[PROD_CODE_MAX], qop[PROD_CODE_MAX], details[96];
	const char *real, *op, *code, *pop, *why;
	cJSON *cust = NULL, *cat = NULL, *data = NULL, *arr, *e, *copy;
	int on_sale, n = 0;

	if (pb_authz_require(req, PB_PERM_PRODUCT_CHANGE, &p) != PB_OK)
		return;
	if (!available_query(req->query, qcur, qop, details, sizeof(details))) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL, details, NULL);
		return;
	}
	prod_ctx_init(&c, req);
	principal_digits(&p, digits);
	cust = own_customer(req, &c, digits);
	if (cust == NULL)
		return;
	if (prod_catalog(&c, &cat, &ke) != PB_OK) {
		prod_kos_failed(req, &ke);
		goto out;
	}
	real = pb_json_get_string(
	    cJSON_GetObjectItemCaseSensitive(cust, "currentProduct"),
	    "productCode");
	op = qop[0] != '\0' ? qop : pb_json_get_string(cust, "operatorCode");
	data = cJSON_CreateObject();
	arr = data != NULL ? cJSON_AddArrayToObject(data, "products") : NULL;
	if (arr == NULL || real == NULL || op == NULL)
		goto internal;
	cJSON_ArrayForEach(e, cat)
	{
		code = pb_json_get_string(e, "productCode");
		pop = pb_json_get_string(e, "operatorCode");
		if (code == NULL || pop == NULL || strcmp(pop, op) != 0 ||
		    strcmp(code, real) == 0 ||
		    (qcur[0] != '\0' && strcmp(code, qcur) == 0))
			continue;
		on_sale = 0;
		(void)pb_json_get_bool(e, "onSale", &on_sale);
		/* the plan itself; the line's status is the pre-check's */
		why =
		    !on_sale ? "판매가 종료된 요금제입니다"
		    : strcmp(pop, pb_json_get_string(cust, "operatorCode")) != 0
		        ? "다른 사업자의 요금제입니다"
		        : NULL;
		copy = cJSON_Duplicate(e, 1);
		if (copy == NULL || !cJSON_AddItemToArray(arr, copy)) {
			cJSON_Delete(copy);
			goto internal;
		}
		cJSON_ReplaceItemInObjectCaseSensitive(
		    copy, "isAvailable", cJSON_CreateBool(why == NULL));
		if (why != NULL && cJSON_AddStringToObject(
		                       copy, "unavailableReason", why) == NULL)
			goto internal;
		n++;
	}
	if (cJSON_AddNumberToObject(data, "totalCount", n) == NULL)
		goto internal;
	pb_req_ok(req, 200, "변경 가능한 요금제 목록을 조회했습니다", data);
	data = NULL;
	goto out;
internal:
	pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
out:
	cJSON_Delete(data);
	cJSON_Delete(cat);
	cJSON_Delete(cust);
}

static int
digits(const char *s, size_t from, size_t n)
{
	size_t i;

	for (i = from; i < from + n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * requestDate (RFC 3339, informational) and changeEffectiveDate: a change
 * takes effect the day KOS makes it, so only today (service time zone) is
 * accepted; 400 answered otherwise.  A request a client sent just before
 * midnight arrives after it: yesterday is still accepted for the first
 * PROD_EFFECTIVE_GRACE_S of a day (KOS applies the change today).
 */
#define PROD_EFFECTIVE_GRACE_S 300

/* "YYYY-MM-DD" of the day of ms in the service's zone (out >= 11 bytes). */
static void
day_string(int64_t ms, int tz, char *out, size_t outlen)
{
	struct pb_date d;

	pb_clock_date(ms, tz, &d);
	snprintf(out, outlen, "%04u-%02u-%02u", (unsigned)d.year % 10000u,
	         (unsigned)d.month % 100u, (unsigned)d.day % 100u);
}

static int
dates_ok(struct pb_req *req, const cJSON *root)
{
	const char *rd = pb_json_get_string(root, "requestDate");
	const char *ed = pb_json_get_string(root, "changeEffectiveDate");
	int64_t now = pb_clock_now_ms();
	char today[16], before[16];
	size_t n, i = 19;

	if (rd != NULL) {
		n = strlen(rd);
		if (n >= 20 && rd[19] == '.')
			for (i = 20; i < n && rd[i] >= '0' && rd[i] <= '9'; i++)
				;
		if (n < 20 || !digits(rd, 0, 4) || rd[4] != '-' ||
		    !digits(rd, 5, 2) || rd[7] != '-' || !digits(rd, 8, 2) ||
		    (rd[10] != 'T' && rd[10] != 't') || !digits(rd, 11, 2) ||
		    rd[13] != ':' || !digits(rd, 14, 2) || rd[16] != ':' ||
		    !digits(rd, 17, 2) ||
		    !((i + 1 == n && (rd[i] == 'Z' || rd[i] == 'z')) ||
		      (i + 6 == n && (rd[i] == '+' || rd[i] == '-') &&
		       digits(rd, i + 1, 2) && rd[i + 3] == ':' &&
		       digits(rd, i + 4, 2)))) {
			pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
			             "requestDate: RFC 3339 date-time", NULL);
			return 0;
		}
	}
	if (ed != NULL) {
		day_string(now, req->app->tz_offset_min, today, sizeof(today));
		day_string(now - PROD_EFFECTIVE_GRACE_S * 1000LL,
		           req->app->tz_offset_min, before, sizeof(before));
		if (strcmp(ed, today) != 0 && strcmp(ed, before) != 0) {
			pb_req_error(req, 400, "VALIDATION_ERROR",
			             "요금제 변경은 신청일에 바로 적용됩니다",
			             "changeEffectiveDate: only today; a later "
			             "date is not "
			             "supported",
			             NULL);
			return 0;
		}
	}
	return 1;
}

/*
 * The body of change/validation (with_dates 0) or change (1): parsed
 * strictly, product codes checked, the line the caller's own.  NULL when
 * the 400/403 has been sent; otherwise the caller frees the tree.
 */
cJSON *
prod_change_body(struct pb_req *req, const struct pb_principal *p,
                 int with_dates, const char **cur, const char **tgt,
                 char digits[12])
{
	static const struct pb_json_field spec[] = {
	    {"lineNumber", PB_JSON_STRING, PB_JSON_REQUIRED, 10, 13},
	    {"currentProductCode", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 32},
	    {"targetProductCode", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 32},
	    {"requestDate", PB_JSON_STRING, PB_JSON_NULLABLE, 0, 40},
	    {"changeEffectiveDate", PB_JSON_STRING, PB_JSON_NULLABLE, 0, 10},
	};
	cJSON *root;

	root = pb_req_json_body(req, spec, with_dates ? 5 : 3);
	if (root == NULL)
		return NULL;
	if (with_dates && !dates_ok(req, root)) {
		cJSON_Delete(root);
		return NULL;
	}
	*cur = pb_json_get_string(root, "currentProductCode");
	*tgt = pb_json_get_string(root, "targetProductCode");
	if (!prod_code_valid(*cur) || !prod_code_valid(*tgt)) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "product codes: 1-32 of [A-Za-z0-9._-]", NULL);
		cJSON_Delete(root);
		return NULL;
	}
	if (!prod_own_line(req, p, pb_json_get_string(root, "lineNumber"),
	                   digits)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

void
prod_validation(struct pb_req *req)
{
	struct pb_principal p;
	struct prod_ctx c;
	struct prod_kos_err ke;
	struct prod_precheck pc;
	char digits[12];
	const char *cur, *tgt;
	cJSON *root = NULL, *cust = NULL, *cat = NULL, *data;

	if (pb_authz_require(req, PB_PERM_PRODUCT_CHANGE, &p) != PB_OK)
		return;
	root = prod_change_body(req, &p, 0, &cur, &tgt, digits);
	if (root == NULL)
		return;
	prod_ctx_init(&c, req);
	cust = own_customer(req, &c, digits);
	if (cust == NULL)
		goto out;
	if (prod_catalog(&c, &cat, &ke) != PB_OK) {
		prod_kos_failed(req, &ke);
		goto out;
	}
	prod_run_precheck(cust, cat, cur, tgt, &pc);
	data = prod_precheck_json(&pc);
	if (data == NULL) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	pb_req_ok(req, 200,
	          pc.ok ? "상품변경 사전체크를 통과했습니다"
	                : "상품변경 사전체크에 실패했습니다",
	          data);
out:
	cJSON_Delete(cat);
	cJSON_Delete(cust);
	cJSON_Delete(root);
}
