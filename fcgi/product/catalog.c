/*
 * catalog.c - the customer's line and plan, and the plan catalogue, read
 * cache-aside from KOS; ProductInfo; the pre-check.
 *
 * "v1:prod-customer:{line}" holds our CustomerInfo JSON for 4 hours
 * (served as is by GET /products/customer/{line}); "v1:prod-catalog" the
 * whole catalogue (every plan of both operators, with onSale) for 24
 * hours.  KOS's "no such line" (3001), "terminated" (3002) and "no plan"
 * (3003) are cached for a minute as {"resultCode","resultMessage"}.
 * ProductInfo.isAvailable says whether the plan can be chosen (on sale, the
 * customer's operator; why not in unavailableReason); whether the line
 * may change at all is the pre-check's LINE_STATUS.  For the current plan
 * it says whether it is still on sale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "json.h"
#include "kos.h"
#include "log.h"
#include "product.h"
#include "metrics.h"

#define NEG_PREFIX "{\"resultCode\":"

int
prod_code_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= PROD_CODE_MAX - 1 ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return n > 0;
}

int
prod_own_line(struct pb_req *req, const struct pb_principal *p,
              const char *line, char digits[12])
{
	char f[16];
	size_t i, j = 0;

	if (pb_authz_line_format(line, f, sizeof(f)) != PB_OK) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "lineNumber: 010-1234-5678 or 01012345678", NULL);
		return 0;
	}
	if (!pb_authz_line_is_own(p, f)) {
		pb_req_error(
		    req, 403, "FORBIDDEN", "본인 회선만 조회할 수 있습니다",
		    "lineNumber is not the signed-in user's line", NULL);
		return 0;
	}
	for (i = 0; f[i] != '\0' && j < 11; i++)
		if (f[i] >= '0' && f[i] <= '9')
			digits[j++] = f[i];
	digits[j] = '\0';
	return 1;
}

void
prod_kos_failed(struct pb_req *req, const struct prod_kos_err *ke)
{
	char ra[24];

	if (ke->rc == PB_ERR_PARSE || ke->rc == PB_ERR_TOOBIG) {
		pb_req_error(req, 502, "UPSTREAM_INVALID", NULL,
		             "KOS answered garbage", NULL);
		return;
	}
	if (ke->rc != PB_ERR_UNAVAILABLE && ke->rc != PB_ERR_TIMEOUT) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return;
	}
	snprintf(ra, sizeof(ra), "%lld",
	         ke->retry_after_ms > 0
	             ? (long long)((ke->retry_after_ms + 999) / 1000)
	             : 5LL);
	(void)pb_req_add_header(req, "Retry-After", ra);
	pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL,
	             ke->rc == PB_ERR_TIMEOUT ? "KOS did not answer in time"
	                                      : "KOS is unavailable",
	             NULL);
}

void
prod_not_found(struct pb_req *req, const char *code, const char *message)
{
	const char *text = strcmp(code, "3002") == 0 ? "해지된 회선입니다"
	                   : strcmp(code, "3003") == 0
	                       ? "등록된 요금제가 없는 회선입니다"
	                       : "회선 정보를 찾을 수 없습니다";

	pb_req_error(req, 404, "NOT_FOUND", text, message, NULL);
}

/* --- ProductInfo ---------------------------------------------------------- */

static const char *
display(const cJSON *plan, const char *name)
{
	return pb_json_get_string(cJSON_GetObjectItemCaseSensitive(plan, name),
	                          "display");
}

/* A KOS plan -> ProductInfo (isAvailable = onSale until told otherwise). */
static cJSON *
product_info(const cJSON *k)
{
	const char *code = pb_json_get_string(k, "productCode");
	const char *name = pb_json_get_string(k, "productName");
	const char *op = pb_json_get_string(k, "operatorCode");
	const char *after = pb_json_get_string(
	    cJSON_GetObjectItemCaseSensitive(k, "dataAllowance"),
	    "afterAllowance");
	const char *data = display(k, "dataAllowance");
	const char *net = pb_json_get_string(k, "network");
	const char *desc = pb_json_get_string(k, "description");
	char dtext[PROD_MSG_MAX];
	long long fee;
	int on_sale = 0;
	cJSON *o;

	if (code == NULL || name == NULL || op == NULL || data == NULL ||
	    display(k, "voiceAllowance") == NULL ||
	    display(k, "smsAllowance") == NULL ||
	    !pb_json_get_int(k, "monthlyFee", &fee) ||
	    !pb_json_get_bool(k, "onSale", &on_sale))
		return NULL;
	if (after != NULL && after[0] != '\0')
		snprintf(dtext, sizeof(dtext), "%s (%s)", data, after);
	else
		snprintf(dtext, sizeof(dtext), "%s", data);
	o = cJSON_CreateObject();
	if (o == NULL ||
	    cJSON_AddStringToObject(o, "productCode", code) == NULL ||
	    cJSON_AddStringToObject(o, "productName", name) == NULL ||
	    cJSON_AddNumberToObject(o, "monthlyFee", (double)fee) == NULL ||
	    cJSON_AddStringToObject(o, "dataAllowance", dtext) == NULL ||
	    cJSON_AddStringToObject(o, "voiceAllowance",
	                            display(k, "voiceAllowance")) == NULL ||
	    cJSON_AddStringToObject(o, "smsAllowance",
	                            display(k, "smsAllowance")) == NULL ||
	    cJSON_AddBoolToObject(o, "isAvailable", on_sale) == NULL ||
	    cJSON_AddStringToObject(o, "operatorCode", op) == NULL ||
	    cJSON_AddBoolToObject(o, "onSale", on_sale) == NULL ||
	    (net != NULL &&
	     cJSON_AddStringToObject(o, "network", net) == NULL) ||
	    (desc != NULL &&
	     cJSON_AddStringToObject(o, "description", desc) == NULL)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* --- the customer ----------------------------------------------------------
 */

struct load_ctx {
	struct prod_ctx *c;
	const char *digits;
	struct prod_kos_err *ke;
};

/* KOS product inquiry data -> our CustomerInfo. */
static cJSON *
customer_from_kos(const cJSON *d, const char *digits)
{
	const cJSON *ci = cJSON_GetObjectItemCaseSensitive(d, "customerInfo");
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(d, "contractInfo");
	const cJSON *pi = cJSON_GetObjectItemCaseSensitive(d, "productInfo");
	const char *v;
	char line[16];
	long long fee = 0, rem = 0;
	cJSON *o = cJSON_CreateObject(), *p, *c;

	if (o == NULL ||
	    pb_authz_line_format(digits, line, sizeof(line)) != PB_OK ||
	    pb_json_get_string(ci, "customerId") == NULL ||
	    pb_json_get_string(ci, "customerName") == NULL ||
	    pb_json_get_string(ci, "lineStatus") == NULL ||
	    pb_json_get_string(ci, "operatorCode") == NULL)
		goto bad;
	p = product_info(pi);
	if (p == NULL)
		goto bad;
	if (!cJSON_AddItemToObject(o, "currentProduct", p)) {
		cJSON_Delete(p);
		goto bad;
	}
	if (cJSON_AddStringToObject(o, "customerId",
	                            pb_json_get_string(ci, "customerId")) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(o, "customerName",
	                            pb_json_get_string(ci, "customerName")) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "lineStatus",
	                            pb_json_get_string(ci, "lineStatus")) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "operatorCode",
	                            pb_json_get_string(ci, "operatorCode")) ==
	        NULL)
		goto bad;
	v = pb_json_get_string(ci, "statusReason");
	if (v != NULL && cJSON_AddStringToObject(o, "statusReason", v) == NULL)
		goto bad;
	v = pb_json_get_string(pi, "productStartDate");
	if (v != NULL &&
	    cJSON_AddStringToObject(o, "productStartDate", v) == NULL)
		goto bad;
	if (cJSON_IsObject(ct)) {
		(void)pb_json_get_int(ct, "earlyTerminationFee", &fee);
		(void)pb_json_get_int(ct, "remainingMonths", &rem);
		c = cJSON_AddObjectToObject(o, "contractInfo");
		if (c == NULL)
			goto bad;
		v = pb_json_get_string(ct, "startDate");
		if (v != NULL &&
		    cJSON_AddStringToObject(c, "contractDate", v) == NULL)
			goto bad;
		v = pb_json_get_string(ct, "endDate");
		if (v != NULL &&
		    cJSON_AddStringToObject(c, "termEndDate", v) == NULL)
			goto bad;
		v = pb_json_get_string(ct, "contractType");
		if ((v != NULL &&
		     cJSON_AddStringToObject(c, "contractType", v) == NULL) ||
		    cJSON_AddStringToObject(
		        c, "status",
		        pb_json_get_string(ct, "status") != NULL
		            ? pb_json_get_string(ct, "status")
		            : "NONE") == NULL ||
		    cJSON_AddNumberToObject(c, "remainingMonths",
		                            (double)rem) == NULL ||
		    cJSON_AddNumberToObject(c, "earlyTerminationFee",
		                            (double)fee) == NULL)
			goto bad;
	}
	return o;
bad:
	cJSON_Delete(o);
	return NULL;
}

/* o (may be NULL) printed into v, kept ttl_s (s); PB_ERR_NOMEM when it
   cannot be. */
static enum pb_err
cache_json(struct pb_cache_value *v, const cJSON *o, int ttl_s)
{
	v->val = o != NULL ? pb_json_print(o) : NULL;
	if (v->val == NULL)
		return PB_ERR_NOMEM;
	v->len = strlen(v->val);
	v->ttl_s = ttl_s;
	return PB_OK;
}

static enum pb_err
negative(struct pb_cache_value *v, const struct pb_kos_result *res)
{
	cJSON *neg = cJSON_CreateObject();
	enum pb_err rc;

	if (neg != NULL &&
	    (cJSON_AddStringToObject(neg, "resultCode", res->code) == NULL ||
	     cJSON_AddStringToObject(neg, "resultMessage", res->message) ==
	         NULL)) {
		cJSON_Delete(neg);
		neg = NULL;
	}
	rc = cache_json(v, neg, PROD_NEG_TTL_S);
	cJSON_Delete(neg);
	return rc;
}

static enum pb_err
load_customer(void *ud, struct pb_cache_value *v)
{
	struct load_ctx *l = ud;
	struct pb_kos_result res;
	cJSON *o = NULL;
	enum pb_err rc;

	rc = pb_kos_product_inquiry(l->c->kos, l->digits, l->c->rid, &res);
	l->ke->rc = rc;
	l->ke->retry_after_ms = res.retry_after_ms;
	if (rc != PB_OK)
		goto out;
	if (strcmp(res.code, "3001") == 0 || strcmp(res.code, "3002") == 0 ||
	    strcmp(res.code, "3003") == 0) {
		rc = negative(v, &res);
		goto out;
	}
	if (strcmp(res.code, "0000") != 0) {
		rc = l->ke->rc = PB_ERR_UNAVAILABLE; /* 9999 */
		goto out;
	}
	o = customer_from_kos(res.data, l->digits);
	if (o == NULL) {
		rc = l->ke->rc = PB_ERR_PARSE;
		goto out;
	}
	rc = cache_json(v, o, PROD_CUSTOMER_TTL_S);
out:
	cJSON_Delete(o);
	pb_kos_result_free(&res);
	return rc;
}

/* Split a negative cached value into code/message: 1 when it was one. */
static int
is_negative(const char *val, size_t len, char *code, size_t codelen,
            char *message, size_t msglen)
{
	cJSON *neg = NULL;

	if (len < sizeof(NEG_PREFIX) - 1 ||
	    memcmp(val, NEG_PREFIX, sizeof(NEG_PREFIX) - 1) != 0)
		return 0;
	code[0] = message[0] = '\0';
	if (pb_json_parse(val, len, PB_JSON_MAX_DEPTH, &neg, NULL) == PB_OK) {
		(void)pb_strlcpy(code,
		                 pb_json_get_string(neg, "resultCode") != NULL
		                     ? pb_json_get_string(neg, "resultCode")
		                     : "3001",
		                 codelen);
		(void)pb_strlcpy(message,
		                 pb_json_get_string(neg, "resultMessage") !=
		                         NULL
		                     ? pb_json_get_string(neg, "resultMessage")
		                     : "",
		                 msglen);
	}
	cJSON_Delete(neg);
	return 1;
}

enum pb_err
prod_customer_text(struct prod_ctx *c, const char *digits, char **text,
                   size_t *len, char *code, size_t codelen, char *message,
                   size_t msglen, struct prod_kos_err *ke)
{
	struct load_ctx l = {c, digits, ke};
	struct pb_cache_opts co;
	struct pb_cache_result cr;
	char key[64];
	enum pb_err rc;

	*text = NULL;
	*len = 0;
	ke->rc = PB_OK;
	ke->retry_after_ms = 0;
	snprintf(key, sizeof(key), "v1:prod-customer:%s", digits);
	memset(&co, 0, sizeof(co));
	co.key = key;
	pb_backoffice_waiter_opts(c->svc, PB_BO_GROUP_PRODUCT, &co);
	rc = pb_cache_fetch(c->redis, &co, load_customer, &l, &cr);
	pb_metrics_cache("customer", rc == PB_OK ? (int)cr.source : -1);
	if (rc != PB_OK) {
		ke->rc = rc;
		pb_cache_result_free(&cr);
		return rc;
	}
	if (is_negative(cr.val, cr.len, code, codelen, message, msglen)) {
		pb_cache_result_free(&cr);
		return PB_ERR_NOTFOUND;
	}
	*text = cr.val;
	*len = cr.len;
	cr.val = NULL;
	pb_cache_result_free(&cr);
	return PB_OK;
}

enum pb_err
prod_customer(struct prod_ctx *c, const char *digits, int fresh, cJSON **out,
              char *code, size_t codelen, char *message, size_t msglen,
              struct prod_kos_err *ke)
{
	struct load_ctx l = {c, digits, ke};
	struct pb_cache_value v;
	char key[64], *text = NULL;
	size_t len = 0;
	enum pb_err rc;

	*out = NULL;
	if (fresh) {
		memset(&v, 0, sizeof(v));
		ke->rc = PB_OK;
		ke->retry_after_ms = 0;
		rc = load_customer(&l, &v);
		if (rc != PB_OK) {
			free(v.val);
			return rc;
		}
		snprintf(key, sizeof(key), "v1:prod-customer:%s", digits);
		(void)pb_cache_set(c->redis, key, v.val, v.len, v.ttl_s, 0);
		text = v.val;
		len = v.len;
		if (is_negative(text, len, code, codelen, message, msglen)) {
			free(text);
			return PB_ERR_NOTFOUND;
		}
	} else {
		rc = prod_customer_text(c, digits, &text, &len, code, codelen,
		                        message, msglen, ke);
		if (rc != PB_OK)
			return rc;
	}
	rc = pb_json_parse(text, len, PB_JSON_MAX_DEPTH, out, NULL);
	free(text);
	return rc == PB_OK ? PB_OK : PB_ERR_INTERNAL;
}

/* --- the catalogue -----------------------------------------------------------
 */

static enum pb_err
load_catalog(void *ud, struct pb_cache_value *v)
{
	struct load_ctx *l = ud;
	struct pb_kos_result res;
	const cJSON *e;
	cJSON *arr = NULL, *p;
	enum pb_err rc;

	rc = pb_kos_product_list(l->c->kos, l->c->rid, &res);
	l->ke->rc = rc;
	l->ke->retry_after_ms = res.retry_after_ms;
	if (rc != PB_OK)
		goto out;
	if (strcmp(res.code, "0000") != 0) {
		rc = l->ke->rc = PB_ERR_UNAVAILABLE;
		goto out;
	}
	arr = cJSON_CreateArray();
	if (arr == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	cJSON_ArrayForEach(
	    e, cJSON_GetObjectItemCaseSensitive(res.data, "products"))
	{
		p = product_info(e);
		if (p == NULL || !cJSON_AddItemToArray(arr, p)) {
			cJSON_Delete(p);
			rc = l->ke->rc = PB_ERR_PARSE;
			goto out;
		}
	}
	rc = cache_json(v, arr, PROD_CATALOG_TTL_S);
out:
	cJSON_Delete(arr);
	pb_kos_result_free(&res);
	return rc;
}

enum pb_err
prod_catalog(struct prod_ctx *c, cJSON **out, struct prod_kos_err *ke)
{
	struct load_ctx l = {c, NULL, ke};
	struct pb_cache_opts co;
	struct pb_cache_result cr;
	enum pb_err rc;

	*out = NULL;
	ke->rc = PB_OK;
	ke->retry_after_ms = 0;
	memset(&co, 0, sizeof(co));
	co.key = "v1:prod-catalog";
	pb_backoffice_waiter_opts(c->svc, PB_BO_GROUP_PRODUCT, &co);
	rc = pb_cache_fetch(c->redis, &co, load_catalog, &l, &cr);
	pb_metrics_cache("catalog", rc == PB_OK ? (int)cr.source : -1);
	if (rc == PB_OK && (pb_json_parse(cr.val, cr.len, PB_JSON_MAX_DEPTH,
	                                  out, NULL) != PB_OK ||
	                    !cJSON_IsArray(*out))) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = PB_ERR_INTERNAL;
	}
	if (rc != PB_OK && ke->rc == PB_OK)
		ke->rc = rc;
	pb_cache_result_free(&cr);
	return rc;
}

const cJSON *
prod_plan(const cJSON *catalog, const char *code)
{
	const cJSON *e;
	const char *c;

	cJSON_ArrayForEach(e, catalog)
	{
		c = pb_json_get_string(e, "productCode");
		if (c != NULL && strcmp(c, code) == 0)
			return e;
	}
	return NULL;
}

/* "v1:bill:{digits}:{YYYYMM}" of the month of ms in the zone tz. */
static void
bill_key(const char *digits, int64_t ms, int tz, char *out, size_t outlen)
{
	struct pb_date d;

	pb_clock_date(ms, tz, &d);
	snprintf(out, outlen, "v1:bill:%s:%04u%02u", digits,
	         (unsigned)d.year % 10000u, (unsigned)d.month % 100u);
}

void
prod_invalidate(struct prod_ctx *c, const char *digits, int64_t since_ms)
{
	char k1[64], k2[64], k3[64];
	const char *keys[3];
	size_t n = 2;

	/* A change sent before midnight on a month's last day and answered
	 * after it touches the month it was sent in: drop that month's bill
	 * and the current month's (both when they differ). */
	snprintf(k1, sizeof(k1), "v1:prod-customer:%s", digits);
	bill_key(digits, since_ms, c->app->tz_offset_min, k2, sizeof(k2));
	bill_key(digits, pb_clock_now_ms(), c->app->tz_offset_min, k3,
	         sizeof(k3));
	keys[0] = k1;
	keys[1] = k2;
	if (strcmp(k2, k3) != 0)
		keys[n++] = k3;
	if (pb_cache_del(c->redis, keys, n) != PB_OK)
		pb_log_msg(PB_LOG_WARN, "cache_invalidate_failed",
		           "customer and bill caches expire on their own");
}

/* --- the pre-check
 * ------------------------------------------------------------ */

static void
check(struct prod_check *c, const char *type, int pass, const char *msg)
{
	c->type = type;
	c->pass = pass;
	(void)pb_strlcpy(c->message, msg, sizeof(c->message));
}

void
prod_run_precheck(const cJSON *customer, const cJSON *catalog,
                  const char *current_code, const char *target_code,
                  struct prod_precheck *out)
{
	const cJSON *cur =
	    cJSON_GetObjectItemCaseSensitive(customer, "currentProduct");
	const char *real = pb_json_get_string(cur, "productCode");
	const char *status = pb_json_get_string(customer, "lineStatus");
	const char *op = pb_json_get_string(customer, "operatorCode");
	const cJSON *tgt = prod_plan(catalog, target_code);
	const char *top = pb_json_get_string(tgt, "operatorCode");
	int on_sale = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	(void)pb_strlcpy(out->current_name,
	                 pb_json_get_string(cur, "productName") != NULL
	                     ? pb_json_get_string(cur, "productName")
	                     : "",
	                 PROD_NAME_MAX);
	(void)pb_strlcpy(out->target_name,
	                 pb_json_get_string(tgt, "productName") != NULL
	                     ? pb_json_get_string(tgt, "productName")
	                     : "",
	                 PROD_NAME_MAX);
	(void)pb_json_get_bool(tgt, "onSale", &on_sale);
	if (real == NULL || strcmp(real, current_code) != 0)
		check(&out->items[0], "PRODUCT_AVAILABLE", 0,
		      "현재 이용 중인 요금제 정보가 일치하지 않습니다");
	else if (strcmp(real, target_code) == 0)
		check(&out->items[0], "PRODUCT_AVAILABLE", 0,
		      "현재 이용 중인 요금제와 같은 요금제로는 변경할 수 "
		      "없습니다");
	else if (tgt == NULL)
		check(&out->items[0], "PRODUCT_AVAILABLE", 0,
		      "존재하지 않는 요금제입니다");
	else if (!on_sale)
		check(&out->items[0], "PRODUCT_AVAILABLE", 0,
		      "판매가 종료된 요금제입니다");
	else
		check(&out->items[0], "PRODUCT_AVAILABLE", 1,
		      "판매 중인 요금제입니다");
	if (tgt == NULL || top == NULL || op == NULL)
		check(&out->items[1], "OPERATOR_MATCH", 0,
		      "요금제의 사업자를 확인할 수 없습니다");
	else if (strcmp(top, op) != 0)
		check(&out->items[1], "OPERATOR_MATCH", 0,
		      "다른 사업자의 요금제로는 변경할 수 없습니다");
	else
		check(&out->items[1], "OPERATOR_MATCH", 1,
		      "같은 사업자의 요금제입니다");
	if (status != NULL && strcmp(status, "ACTIVE") == 0)
		check(&out->items[2], "LINE_STATUS", 1,
		      "정상 사용 중인 회선입니다");
	else if (status != NULL && strcmp(status, "SUSPENDED") == 0)
		check(&out->items[2], "LINE_STATUS", 0,
		      "일시정지된 회선은 요금제를 변경할 수 없습니다");
	else
		check(&out->items[2], "LINE_STATUS", 0,
		      "사용 중이 아닌 회선은 요금제를 변경할 수 없습니다");
	out->ok = 1;
	for (i = 0; i < 3; i++) {
		if (!out->items[i].pass && out->ok) {
			out->ok = 0;
			(void)pb_strlcpy(out->reason, out->items[i].message,
			                 sizeof(out->reason));
		}
	}
}

cJSON *
prod_precheck_json(const struct prod_precheck *p)
{
	cJSON *o = cJSON_CreateObject(), *arr, *it;
	size_t i;

	if (o == NULL ||
	    cJSON_AddStringToObject(o, "validationResult",
	                            p->ok ? "SUCCESS" : "FAILURE") == NULL)
		goto bad;
	arr = cJSON_AddArrayToObject(o, "validationDetails");
	for (i = 0; arr != NULL && i < 3; i++) {
		it = cJSON_CreateObject();
		if (it == NULL || !cJSON_AddItemToArray(arr, it) ||
		    cJSON_AddStringToObject(it, "checkType",
		                            p->items[i].type) == NULL ||
		    cJSON_AddStringToObject(
		        it, "result", p->items[i].pass ? "PASS" : "FAIL") ==
		        NULL ||
		    cJSON_AddStringToObject(it, "message",
		                            p->items[i].message) == NULL)
			goto bad;
	}
	if (arr == NULL ||
	    (!p->ok &&
	     cJSON_AddStringToObject(o, "failureReason", p->reason) == NULL))
		goto bad;
	return o;
bad:
	cJSON_Delete(o);
	return NULL;
}
