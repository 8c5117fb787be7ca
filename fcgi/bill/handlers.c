/*
 * handlers.c - GET /bills/menu and POST /bills/inquiry.
 *
 * A bill is read cache-aside (cache.h): "v1:bill:{line}:{YYYYMM}" holds the
 * BillInfo JSON we serve, for an hour (+ jitter); a closed month's bill is
 * also kept 30 days under "v1:bill-stale:..." and served, flagged stale,
 * when KOS is unavailable.  KOS "no bill that month" (1003), "no such
 * line" (1001) and "line terminated" (1002) are answers: cached for a
 * minute as {"resultCode","resultMessage"} and turned into 404s.  Before
 * a 200 goes out its history record is handed off to phonebill-worker
 * (handoff.h: XADD, in one round trip with the answer kept ten minutes
 * under "v1:bill-req:{requestId}" for GET /bills/inquiry/{id}); when that
 * fails the answer is 503.  The worker writes the rows and delivers to the
 * MVNO AP.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bill.h"
#include "buf.h"
#include "cache.h"
#include "clock.h"
#include "handoff.h"
#include "crypto.h"
#include "json.h"
#include "log.h"
#include "metrics.h"

#define RESPONSE_MAX (PB_CACHE_VALUE_MAX + 4096)
#define NEG_PREFIX "{\"resultCode\":"

struct pb_backoffice *
bill_svc(struct pb_req *req)
{
	struct pb_backoffice *bo = req->app->svc;

	/* the one cast of app->svc in this service */
	if (bo == NULL || bo->app != req->app) {
		pb_log_msg(PB_LOG_ERROR, "internal_error",
		           "app->svc is not the bill service's");
		abort();
	}
	return bo;
}

void
bill_current_month(const struct pb_app *app, char out[8])
{
	struct pb_date d;

	pb_clock_date(pb_clock_now_ms(), app->tz_offset_min, &d);
	snprintf(out, 8, "%04u-%02u", (unsigned)d.year % 10000u,
	         (unsigned)d.month % 100u);
}

int
bill_month_valid(const char *s)
{
	int i;

	if (s == NULL || strlen(s) != 7 || s[4] != '-')
		return 0;
	for (i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return 0;
	if (s[0] == '0' || (s[5] == '0' && s[6] == '0') ||
	    (s[5] == '1' && s[6] > '2') || s[5] > '1')
		return 0;
	return 1;
}

void
bill_line_digits(const char *line, char *out, size_t outlen)
{
	size_t j = 0;

	for (; *line != '\0' && j + 1 < outlen; line++)
		if (*line >= '0' && *line <= '9')
			out[j++] = *line;
	out[j] = '\0';
}

/* Whole seconds until the next month starts in the service's time zone,
 * rounded down so that nothing outlives the month (0 in its last second:
 * the cache then keeps nothing). */
static int
secs_to_month_end(const struct pb_app *app)
{
	struct pb_date d;
	int64_t now = pb_clock_now_ms(), next;

	pb_clock_date(now, app->tz_offset_min, &d);
	d.day = 1;
	d.hour = d.min = d.sec = 0;
	if (++d.month > 12) {
		d.month = 1;
		d.year++;
	}
	next = pb_clock_from_date(&d, app->tz_offset_min);
	return next > now ? (int)((next - now) / 1000) : 0;
}

/*
 * The cache adds up to 10 % jitter to a TTL (cache.h), which would carry
 * an entry capped at the month's end past it: none when the month ends
 * within ttl_s + 10 % (0 = the cache's default otherwise).
 */
static int
month_end_jitter(const struct pb_app *app, int ttl_s)
{
	return secs_to_month_end(app) <= ttl_s + ttl_s / 10 ? -1 : 0;
}

/*
 * Months are listed newest first.  A stale list (KOS down) fetched before
 * the current month started ends at the month before it, while KOS lists
 * a line's current month from its first day: put it first, so
 * availableMonths and currentMonth agree.  A list ending earlier (a line
 * without recent bills) is left as it is.  0 on success.
 */
static int
months_with_current(cJSON *months, const char *current)
{
	const cJSON *first = cJSON_GetArrayItem(months, 0);
	int y = 0, m = 0;
	char prev[16];
	cJSON *s;

	/* current is "YYYY-MM" (the service's own month) */
	if (strlen(current) != 7 || current[4] != '-' ||
	    strspn(current, "0123456789") != 4 ||
	    strspn(current + 5, "0123456789") != 2)
		return -1;
	y = (int)strtol(current, NULL, 10);
	m = (int)strtol(current + 5, NULL, 10);
	if (--m < 1) {
		m = 12;
		y--;
	}
	snprintf(prev, sizeof(prev), "%04d-%02d", y, m);
	if (!cJSON_IsString(first) || strcmp(first->valuestring, prev) != 0)
		return 0;
	s = cJSON_CreateString(current);
	if (s == NULL || !cJSON_InsertItemInArray(months, 0, s)) {
		cJSON_Delete(s);
		return -1;
	}
	return 0;
}

/* --- GET /bills/menu --------------------------------------------------------
 */

struct months_ctx {
	struct pb_backoffice *svc;
	const char *digits;
	const char *rid;
	int64_t retry_after_ms;
};

static enum pb_err
load_months(void *ud, struct pb_cache_value *v)
{
	struct months_ctx *c = ud;
	struct pb_kos_result res;
	cJSON *arr = NULL;
	enum pb_err rc;
	size_t i;

	rc = pb_kos_bill_months(c->svc->kos, c->digits, c->rid, &res);
	c->retry_after_ms = res.retry_after_ms;
	if (rc != PB_OK)
		goto out;
	if (strcmp(res.code, "0000") != 0 && strcmp(res.code, "1001") != 0 &&
	    strcmp(res.code, "1002") != 0) {
		rc = PB_ERR_UNAVAILABLE; /* 9999: KOS cannot answer now */
		goto out;
	}
	arr = cJSON_CreateArray();
	for (i = 0; arr != NULL && i < res.nmonths; i++)
		if (!cJSON_AddItemToArray(arr,
		                          cJSON_CreateString(res.months[i]))) {
			rc = PB_ERR_NOMEM;
			goto out;
		}
	v->val = arr != NULL ? pb_json_print(arr) : NULL;
	if (v->val == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	v->len = strlen(v->val);
	/* the list changes when a month starts: never cache across that */
	v->ttl_s =
	    strcmp(res.code, "0000") == 0 ? BILL_MONTHS_TTL_S : BILL_NEG_TTL_S;
	if (v->ttl_s > secs_to_month_end(c->svc->app))
		v->ttl_s = secs_to_month_end(c->svc->app);
	v->stale_ok = strcmp(res.code, "0000") == 0;
out:
	cJSON_Delete(arr);
	pb_kos_result_free(&res);
	return rc;
}

void
bill_kos_failed(struct pb_req *req, enum pb_err rc, int64_t retry_after_ms)
{
	char ra[24];

	if (rc == PB_ERR_PARSE || rc == PB_ERR_TOOBIG) {
		pb_req_error(req, 502, "UPSTREAM_INVALID", NULL,
		             "KOS answered garbage", NULL);
		return;
	}
	if (rc != PB_ERR_UNAVAILABLE && rc != PB_ERR_TIMEOUT) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return;
	}
	snprintf(ra, sizeof(ra), "%lld",
	         retry_after_ms > 0 ? (long long)((retry_after_ms + 999) / 1000)
	                            : 5LL);
	(void)pb_req_add_header(req, "Retry-After", ra);
	pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL,
	             rc == PB_ERR_TIMEOUT ? "KOS did not answer in time"
	                                  : "KOS is unavailable",
	             NULL);
}

void
bill_menu(struct pb_req *req)
{
	struct pb_backoffice *svc = bill_svc(req);
	struct pb_principal p;
	struct pb_cache_opts co;
	struct pb_cache_result cr;
	struct months_ctx mc;
	char digits[16], key[64], stale[64], month[8];
	cJSON *data = NULL, *ci, *months = NULL;
	enum pb_err rc;

	memset(&cr, 0, sizeof(cr));
	if (pb_authz_require(req, PB_PERM_BILL_INQUIRY, &p) != PB_OK)
		return;
	bill_line_digits(p.s.line, digits, sizeof(digits));
	snprintf(key, sizeof(key), "v1:bill-months:%s", digits);
	snprintf(stale, sizeof(stale), "v1:bill-months-stale:%s", digits);
	memset(&co, 0, sizeof(co));
	co.key = key;
	co.stale_key = stale;
	co.stale_ttl_s = BILL_STALE_TTL_S;
	co.jitter_pct = month_end_jitter(req->app, BILL_MONTHS_TTL_S);
	pb_backoffice_waiter_opts(svc, PB_BO_GROUP_BILL, &co);
	mc.svc = svc;
	mc.digits = digits;
	mc.rid = req->request_id;
	mc.retry_after_ms = 0;
	rc = pb_cache_fetch(req->app->redis, &co, load_months, &mc, &cr);
	pb_metrics_cache("months", rc == PB_OK ? (int)cr.source : -1);
	if (rc != PB_OK) {
		bill_kos_failed(req, rc, mc.retry_after_ms);
		goto out;
	}
	if (pb_json_parse(cr.val, cr.len, PB_JSON_MAX_DEPTH, &months, NULL) !=
	        PB_OK ||
	    !cJSON_IsArray(months)) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	bill_current_month(req->app, month);
	if (cr.source == PB_CACHE_STALE && months_with_current(months, month)) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	data = cJSON_CreateObject();
	ci =
	    data != NULL ? cJSON_AddObjectToObject(data, "customerInfo") : NULL;
	if (ci != NULL &&
	    cJSON_AddItemToObject(data, "availableMonths", months))
		months = NULL; /* data owns it now */
	if (ci == NULL || months != NULL ||
	    cJSON_AddStringToObject(ci, "customerId", p.s.customer_id) ==
	        NULL ||
	    cJSON_AddStringToObject(ci, "lineNumber", p.s.line) == NULL ||
	    cJSON_AddStringToObject(data, "currentMonth", month) == NULL ||
	    cJSON_AddBoolToObject(data, "stale", cr.source == PB_CACHE_STALE) ==
	        NULL) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	pb_req_ok(req, 200, "요금조회 메뉴를 성공적으로 조회했습니다", data);
	data = NULL;
out:
	cJSON_Delete(months);
	cJSON_Delete(data);
	pb_cache_result_free(&cr);
}

/* --- POST /bills/inquiry ----------------------------------------------------
 */

struct inquiry {
	struct pb_backoffice *svc;
	struct pb_principal p;
	char digits[16];
	char month[8];
	char rid[40];
	int past; /* a closed month */
	int64_t start_ms;
	/* what KOS said (when called) */
	int kos_called;
	enum pb_err kos_rc;
	char code[8];
	char message[PB_KOS_MESSAGE_MAX];
	char trace[72];
	const char *breaker_state;
	const char *failure;
	unsigned attempts;
	int64_t kos_start_ms, kos_end_ms, kos_latency_ms, retry_after_ms;
};

static enum pb_err
load_bill(void *ud, struct pb_cache_value *v)
{
	struct inquiry *q = ud;
	struct pb_kos_result res;
	char summary[BILL_SUMMARY_MAX];
	cJSON *info = NULL, *neg = NULL;
	enum pb_err rc;

	q->kos_called = 1;
	q->kos_start_ms = pb_clock_now_ms();
	rc =
	    pb_kos_bill_inquiry(q->svc->kos, q->digits, q->month, q->rid, &res);
	q->kos_end_ms = pb_clock_now_ms();
	q->kos_rc = rc;
	(void)pb_strlcpy(q->code, res.code, sizeof(q->code));
	(void)pb_strlcpy(q->message, res.message, sizeof(q->message));
	(void)pb_strlcpy(q->trace, res.trace_id, sizeof(q->trace));
	q->breaker_state = res.breaker_state;
	q->failure = pb_kos_failure_name(res.failure);
	q->attempts = res.attempts;
	q->kos_latency_ms = res.latency_ms;
	q->retry_after_ms = res.retry_after_ms;
	if (rc != PB_OK)
		goto out;
	if (strcmp(res.code, "0000") == 0) {
		info = bill_info_from_kos(
		    cJSON_GetObjectItemCaseSensitive(res.data, "billInfo"),
		    summary, sizeof(summary));
		if (info == NULL) {
			rc = PB_ERR_PARSE;
			goto out;
		}
		v->val = pb_json_print(info);
		v->ttl_s = BILL_TTL_S;
		v->stale_ok = q->past;
	} else if (strcmp(res.code, "1001") == 0 ||
	           strcmp(res.code, "1002") == 0 ||
	           strcmp(res.code, "1003") == 0) {
		neg = cJSON_CreateObject();
		if (neg != NULL &&
		    cJSON_AddStringToObject(neg, "resultCode", res.code) !=
		        NULL &&
		    cJSON_AddStringToObject(neg, "resultMessage",
		                            res.message) != NULL)
			v->val = pb_json_print(neg);
		v->ttl_s = BILL_NEG_TTL_S;
	} else {
		rc = PB_ERR_UNAVAILABLE; /* 9999 or unknown: no answer */
		goto out;
	}
	/* The current month's bill (ESTIMATED) becomes another bill (FINAL)
	 * when the month closes: never cache it across that instant. */
	if (!q->past && v->ttl_s > secs_to_month_end(q->svc->app))
		v->ttl_s = secs_to_month_end(q->svc->app);
	if (v->val == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	v->len = strlen(v->val);
out:
	cJSON_Delete(info);
	cJSON_Delete(neg);
	pb_kos_result_free(&res);
	return rc;
}

/* The history record of inquiry q (record.c has its storage form). */
static void
record_fill(struct bill_hist_rec *r, const struct inquiry *q,
            const char *status, const char *data, const char *err_code, int hit,
            int stale, int64_t now)
{
	struct bill_hist_proc *p = &r->proc;

	bill_hist_rec_init(r);
	(void)pb_strlcpy(r->base.request_id, q->rid,
	                 sizeof(r->base.request_id));
	(void)pb_strlcpy(r->base.line, q->digits, sizeof(r->base.line));
	(void)pb_strlcpy(r->user_id, q->p.s.user_id, sizeof(r->user_id));
	(void)pb_strlcpy(r->customer_id, q->p.s.customer_id,
	                 sizeof(r->customer_id));
	(void)pb_strlcpy(r->month, q->month, sizeof(r->month));
	(void)pb_strlcpy(r->status, status, sizeof(r->status));
	(void)pb_strlcpy(r->result_code, q->code, sizeof(r->result_code));
	(void)pb_strlcpy(r->result_message, q->message,
	                 sizeof(r->result_message));
	(void)pb_strlcpy(r->error_code, err_code != NULL ? err_code : "",
	                 sizeof(r->error_code));
	r->response = data;
	r->requested_at = q->start_ms;
	r->completed_at = now;
	p->cache_hit = hit;
	p->kos_called = q->kos_called;
	p->stale = stale;
	(void)pb_strlcpy(p->kos_trace_id, q->trace, sizeof(p->kos_trace_id));
	(void)pb_strlcpy(p->kos_result_code, q->code,
	                 sizeof(p->kos_result_code));
	(void)pb_strlcpy(p->kos_result_message, q->message,
	                 sizeof(p->kos_result_message));
	(void)pb_strlcpy(p->breaker_state,
	                 q->breaker_state != NULL ? q->breaker_state : "NONE",
	                 sizeof(p->breaker_state));
	p->elapsed_ms = now - q->start_ms;
	if (!q->kos_called)
		return;
	p->kos_requested_at = q->kos_start_ms;
	p->kos_responded_at = q->kos_end_ms;
	p->kos_latency_ms = q->kos_latency_ms;
	p->kos_attempts = q->attempts;
	(void)pb_strlcpy(p->kos_failure,
	                 q->failure != NULL ? q->failure : "none",
	                 sizeof(p->kos_failure));
}

/*
 * Make the history record durable (handoff.h) and keep the answer for the
 * status operation, in one Redis round trip.  status "COMPLETED"/"FAILED";
 * data: the data object answered (text) or NULL; err_code: our error code
 * (NULL when answered).  PB_OK when the record is durable: only then may
 * a 200 go out.
 */
static enum pb_err
finish(struct pb_req *req, struct inquiry *q, const char *status,
       const char *data, const char *err_code, enum pb_cache_source src,
       int stale)
{
	struct pb_breaker_stats st;
	struct pb_cache_setcmd set;
	struct bill_hist_rec r;
	struct pb_buf rec;
	int64_t now = pb_clock_now_ms();
	char key[80], *kv = NULL;
	int hit = src == PB_CACHE_HIT || src == PB_CACHE_WAITED, have_set = 0;
	enum pb_err rc;

	memset(&set, 0, sizeof(set));
	pb_buf_init(&rec, PB_HANDOFF_REC_MAX);
	if (data != NULL) {
		/* "<user>\n<data>" for GET /bills/inquiry/{id}, SET (sealed,
		 * as the cache keeps it) in the same round trip as the
		 * hand-off */
		size_t ul = strlen(q->p.s.user_id), dl = strlen(data);

		snprintf(key, sizeof(key), "v1:bill-req:%s", q->rid);
		kv = malloc(ul + dl + 2);
		if (kv != NULL) {
			memcpy(kv, q->p.s.user_id, ul);
			kv[ul] = '\n';
			memcpy(kv + ul + 1, data, dl + 1);
			have_set =
			    pb_cache_setcmd_make(&set, key, kv, ul + dl + 1,
			                         BILL_RESULT_TTL_S) == PB_OK;
		}
	}
	if (!q->kos_called) {
		int g = pb_breaker_group(q->svc->breaker, PB_BO_GROUP_BILL);

		q->breaker_state =
		    g >= 0 && pb_breaker_stats(q->svc->breaker, g, &st) == PB_OK
		        ? pb_breaker_state_name(st.state)
		        : "NONE";
	}
	record_fill(&r, q, status, data, err_code, hit, stale, now);
	rc = bill_hist_rec_encode(&r, &rec);
	if (rc != PB_OK) {
		pb_log_msg(PB_LOG_ERROR, "history_handoff_failed",
		           rc == PB_ERR_TOOBIG ? "record too big"
		                               : "out of memory");
		goto out;
	}
	rc = pb_handoff_put(req->app->redis, req->app->pii_key, PB_HANDOFF_BILL,
	                    rec.data, rec.len, have_set ? &set.cmd : NULL,
	                    have_set ? 1 : 0);
out:
	pb_cache_setcmd_free(&set);
	if (rec.data != NULL)
		sodium_memzero(rec.data, rec.len);
	pb_buf_free(&rec);
	free(kv);
	return rc;
}

static int
line_is_future(const char *month, const char *current)
{
	return strcmp(month, current) > 0;
}

/* The body of POST /bills/inquiry, read before the session is known. */
struct input {
	cJSON *root; /* NULL: not JSON or not to the spec */
	int line_ok; /* lineNumber is a mobile number */
	int month;   /* 0 fine, 1 malformed, 2 in the future */
	char line[16];
	char kmonth[8];          /* KOS's YYYYMM */
	char key[80], stale[80]; /* the cache's keys, when all is fine */
};

static const struct pb_json_field inquiry_spec[] = {
    {"lineNumber", PB_JSON_STRING, PB_JSON_REQUIRED, 10, 13},
    {"inquiryMonth", PB_JSON_STRING, PB_JSON_NULLABLE, 7, 7},
};
#define INQUIRY_SPEC_N (sizeof(inquiry_spec) / sizeof(inquiry_spec[0]))

/*
 * Read and check the body without answering, so that the cache's GET can
 * go out with the session check in one round trip (the value is only
 * used once the session and the line are known to be the caller's).
 * Fills q->month, q->past, q->digits; in->key[0] is '\0' unless every
 * check passed.
 */
static void
read_input(struct pb_req *req, struct inquiry *q, struct input *in)
{
	char current[8];
	const char *month;

	memset(in, 0, sizeof(*in));
	if (req->body == NULL || req->body_len == 0 ||
	    pb_json_parse(req->body, req->body_len, PB_JSON_MAX_DEPTH,
	                  &in->root, NULL) != PB_OK)
		return;
	if (pb_json_check(in->root, inquiry_spec, INQUIRY_SPEC_N, NULL, NULL) !=
	    PB_OK) {
		cJSON_Delete(in->root);
		in->root = NULL;
		return;
	}
	in->line_ok =
	    pb_authz_line_format(pb_json_get_string(in->root, "lineNumber"),
	                         in->line, sizeof(in->line)) == PB_OK;
	bill_current_month(req->app, current);
	month = pb_json_get_string(in->root, "inquiryMonth");
	if (month == NULL)
		month = current;
	else if (!bill_month_valid(month))
		in->month = 1;
	else if (line_is_future(month, current))
		in->month = 2;
	if (!in->line_ok || in->month != 0 ||
	    pb_kos_month_to_kos(month, in->kmonth, sizeof(in->kmonth)) != PB_OK)
		return;
	(void)pb_strlcpy(q->month, month, sizeof(q->month));
	q->past = strcmp(q->month, current) < 0;
	bill_line_digits(in->line, q->digits, sizeof(q->digits));
	snprintf(in->key, sizeof(in->key), "v1:bill:%s:%s", q->digits,
	         in->kmonth);
	snprintf(in->stale, sizeof(in->stale), "v1:bill-stale:%s:%s", q->digits,
	         in->kmonth);
}

/* Answer what read_input found wrong, in the order the API documents
 * (after the session): 400 body, 400 line, 403 not the caller's line,
 * 400 month.  1 when an answer went out. */
static int
answer_input(struct pb_req *req, const struct inquiry *q,
             const struct input *in)
{
	cJSON *again;

	if (in->root == NULL) {
		/* answers the 400 with the parser's reason */
		again = pb_req_json_body(req, inquiry_spec, INQUIRY_SPEC_N);
		if (again == NULL)
			return 1;
		cJSON_Delete(again);
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return 1;
	}
	if (!in->line_ok) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "lineNumber: 010-1234-5678 or 01012345678", NULL);
		return 1;
	}
	if (!pb_authz_line_is_own(&q->p, in->line)) {
		pb_req_error(
		    req, 403, "FORBIDDEN", "본인 회선만 조회할 수 있습니다",
		    "lineNumber is not the signed-in user's line", NULL);
		return 1;
	}
	if (in->month == 1) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "inquiryMonth: YYYY-MM", NULL);
		return 1;
	}
	if (in->month == 2) {
		pb_req_error(req, 400, "VALIDATION_ERROR",
		             "아직 청구되지 않은 월입니다",
		             "inquiryMonth is in the future", NULL);
		return 1;
	}
	if (in->key[0] == '\0') {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return 1;
	}
	return 0;
}

/* The inquiry's request id, "REQ_YYYYMMDD_<12 hex>" (service time zone);
 * 0 when answered (500). */
static int
inquiry_rid(struct pb_req *req, struct inquiry *q)
{
	struct pb_date d;
	char hex[13];

	if (pb_crypto_random_hex(6, hex, sizeof(hex)) != PB_OK) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return 0;
	}
	pb_clock_date(q->start_ms, req->app->tz_offset_min, &d);
	snprintf(q->rid, sizeof(q->rid), "REQ_%04d%02d%02d_%s", d.year % 10000,
	         d.month, d.day, hex);
	return 1;
}

/* The bill through the cache (pre: the GET answered with the session). */
static enum pb_err
inquiry_fetch(struct pb_req *req, struct inquiry *q, const struct input *in,
              redisReply *pre, struct pb_cache_result *cr)
{
	struct pb_cache_opts co;
	enum pb_err rc;

	memset(&co, 0, sizeof(co));
	co.key = in->key;
	co.stale_key = q->past ? in->stale : NULL;
	co.stale_ttl_s = BILL_STALE_TTL_S;
	co.jitter_pct = q->past ? 0 : month_end_jitter(req->app, BILL_TTL_S);
	pb_backoffice_waiter_opts(q->svc, PB_BO_GROUP_BILL, &co);
	rc = pb_cache_fetch_pre(req->app->redis, &co, load_bill, q, cr, pre);
	pb_metrics_cache("bill", rc == PB_OK ? (int)cr->source : -1);
	return rc;
}

static int
is_negative(const struct pb_cache_result *cr)
{
	return cr->len >= sizeof(NEG_PREFIX) - 1 &&
	       memcmp(cr->val, NEG_PREFIX, sizeof(NEG_PREFIX) - 1) == 0;
}

/* KOS said there is no such bill (cached as a negative entry): 404. */
static void
answer_negative(struct pb_req *req, struct inquiry *q,
                const struct pb_cache_result *cr)
{
	const char *c = NULL, *m = NULL;
	cJSON *neg = NULL;

	if (pb_json_parse(cr->val, cr->len, PB_JSON_MAX_DEPTH, &neg, NULL) ==
	    PB_OK) {
		c = pb_json_get_string(neg, "resultCode");
		m = pb_json_get_string(neg, "resultMessage");
	}
	if (c != NULL && q->code[0] == '\0')
		(void)pb_strlcpy(q->code, c, sizeof(q->code));
	if (m != NULL && q->message[0] == '\0')
		(void)pb_strlcpy(q->message, m, sizeof(q->message));
	if (c != NULL && strcmp(c, "1001") == 0)
		pb_req_error(req, 404, "NOT_FOUND",
		             "회선 정보를 찾을 수 없습니다", m, NULL);
	else if (c != NULL && strcmp(c, "1002") == 0)
		pb_req_error(req, 404, "BILL_NOT_FOUND",
		             "해지된 회선은 요금을 조회할 수 없습니다", m,
		             NULL);
	else
		pb_req_error(req, 404, "BILL_NOT_FOUND",
		             "해당 월의 청구 내역이 없습니다", m, NULL);
	(void)finish(req, q, "FAILED", NULL,
	             c != NULL && strcmp(c, "1001") == 0 ? "NOT_FOUND"
	                                                 : "BILL_NOT_FOUND",
	             cr->source, 0);
	cJSON_Delete(neg);
}

/* The answer's data and envelope around the cached BillInfo, as stored:
 * no re-encoding. */
static enum pb_err
bill_texts(const struct inquiry *q, const struct pb_cache_result *cr,
           const char *cached_at, struct pb_buf *data, struct pb_buf *out)
{
	int stale = cached_at != NULL;
	enum pb_err rc;

	rc = pb_buf_printf(data,
	                   "{\"requestId\":\"%s\",\"status\":\"COMPLETED\","
	                   "\"billInfo\":",
	                   q->rid);
	if (rc == PB_OK)
		rc = pb_buf_append(data, cr->val, cr->len);
	if (rc == PB_OK)
		rc = stale
		         ? pb_buf_printf(data,
		                         ",\"stale\":true,\"cachedAt\":\"%s\"}",
		                         cached_at)
		         : pb_buf_append_str(data, ",\"stale\":false}");
	if (rc == PB_OK)
		rc = pb_buf_append_str(out, "{\"success\":true,\"message\":\"");
	if (rc == PB_OK)
		rc = pb_buf_append_str(
		    out, stale ? "KOS 장애로 마지막으로 확인된 요금 정보를 "
		                 "보여드립니다"
		               : "요금조회가 완료되었습니다");
	if (rc == PB_OK)
		rc = pb_buf_append_str(out, "\",\"data\":");
	if (rc == PB_OK)
		rc = pb_buf_append(out, data->data, data->len);
	if (rc == PB_OK)
		rc = pb_buf_append_char(out, '}');
	return rc;
}

/* The bill (fresh, cached or stale): 200 once its history is durable. */
static void
answer_bill(struct pb_req *req, struct inquiry *q,
            const struct pb_cache_result *cr)
{
	int is_stale = cr->source == PB_CACHE_STALE;
	struct pb_buf data, out;
	char ts[40];

	pb_buf_init(&data, RESPONSE_MAX);
	pb_buf_init(&out, RESPONSE_MAX);
	if (is_stale) {
		(void)pb_clock_rfc3339(pb_clock_now_ms() -
		                           cr->stale_age_s * 1000,
		                       req->app->tz_offset_min, ts, sizeof(ts));
		pb_log_msg(PB_LOG_WARN, "bill_stale_served", q->rid);
	}
	if (bill_texts(q, cr, is_stale ? ts : NULL, &data, &out) != PB_OK) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	if (q->code[0] == '\0')
		(void)pb_strlcpy(q->code, "0000", sizeof(q->code));
	/* the answer goes out only once its history is durable */
	if (finish(req, q, "COMPLETED", data.data, NULL, cr->source,
	           is_stale) != PB_OK) {
		pb_req_unavailable(req, "history");
		goto out;
	}
	pb_req_send(req, 200, out.data, out.len);
out:
	pb_buf_free(&data);
	pb_buf_free(&out);
}

void
bill_inquiry(struct pb_req *req)
{
	struct inquiry q;
	struct input in;
	struct pb_cache_getcmd get;
	struct pb_cache_result cr;
	redisReply *pre = NULL;
	enum pb_err rc;
	int have_get;

	memset(&q, 0, sizeof(q));
	memset(&cr, 0, sizeof(cr));
	q.svc = bill_svc(req);
	q.start_ms = pb_clock_now_ms();
	read_input(req, &q, &in);
	/* session check and cache read: one round trip */
	have_get =
	    in.key[0] != '\0' && pb_cache_getcmd_make(&get, in.key) == PB_OK;
	if (pb_authz_require_pipe(req, PB_PERM_BILL_INQUIRY, &q.p,
	                          have_get ? &get.cmd : NULL, have_get ? 1 : 0,
	                          &pre) != PB_OK ||
	    answer_input(req, &q, &in) || !inquiry_rid(req, &q))
		goto done;
	rc = inquiry_fetch(req, &q, &in, pre, &cr);
	if (rc != PB_OK) {
		bill_kos_failed(req, rc, q.retry_after_ms);
		(void)finish(req, &q, "FAILED", NULL,
		             rc == PB_ERR_PARSE || rc == PB_ERR_TOOBIG
		                 ? "UPSTREAM_INVALID"
		                 : "SERVICE_UNAVAILABLE",
		             cr.source, 0);
	} else if (is_negative(&cr)) {
		answer_negative(req, &q, &cr);
	} else {
		answer_bill(req, &q, &cr);
	}
done:
	cJSON_Delete(in.root);
	freeReplyObject(pre);
	pb_cache_result_free(&cr);
}
