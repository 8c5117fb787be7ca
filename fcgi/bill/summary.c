/*
 * summary.c - GET /api/v1/bills/summary?months=N: the figures of the web
 * UI's dashboard and six-month trend in one operation.
 *
 * Each of the last N months (N 1..12, default 6, the current one last) is
 * read from the same bill cache POST /bills/inquiry uses
 * ("v1:bill:{line}:{YYYYMM}", cache-aside through the KOS client; a closed
 * month's stale copy is served when KOS is away), so a dashboard view
 * after an inquiry costs no KOS call.  The answer: the current month's
 * BillInfo, one {month, totalAmount, billStatus, paymentStatus, dueDate}
 * per month, and the overdue bills among them.
 *
 * Recorded once: one bill_request_history row per summary (request id
 * "SUM_YYYYMMDD_<hex>", the current month, summary "요약 N개월, ..."),
 * marked prepared so that the worker's prepare adds no MVNO payload: a
 * dashboard view is not an inquiry event for the MVNO AP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "cache.h"
#include "clock.h"
#include "handoff.h"
#include "crypto.h"
#include "json.h"
#include "log.h"

#define SUMMARY_MONTHS_DEFAULT 6
#define SUMMARY_MONTHS_MAX 12
#define NEG_PREFIX "{\"resultCode\":"

struct summary {
	struct pb_backoffice *svc;
	struct pb_principal p;
	char digits[16];
	char rid[40];
	char month[8]; /* the month being loaded */
	int past;
	int64_t start_ms;
	unsigned kos_calls; /* months that went to KOS */
	unsigned hits;      /* months served from the cache */
	int stale;          /* a month came from the stale copy */
	char code[8];       /* KOS's answer of the last call */
	int64_t retry_after_ms;
};

/* "" or "months=N" -> N; 0 for anything else (400). */
static int
parse_months(const char *query)
{
	const char *v;
	int n = 0;

	if (query == NULL || *query == '\0')
		return SUMMARY_MONTHS_DEFAULT;
	if (strncmp(query, "months=", 7) != 0)
		return 0;
	for (v = query + 7; *v >= '0' && *v <= '9' && n <= SUMMARY_MONTHS_MAX;
	     v++)
		n = n * 10 + (*v - '0');
	if (*v != '\0' || v == query + 7 || n < 1 || n > SUMMARY_MONTHS_MAX)
		return 0;
	return n;
}

/* "YYYY-MM" minus back months, wrapping years. */
static void
month_back(const char *cur, int back, char out[8])
{
	int y = (cur[0] - '0') * 1000 + (cur[1] - '0') * 100 +
	        (cur[2] - '0') * 10 + (cur[3] - '0');
	int m = (cur[5] - '0') * 10 + (cur[6] - '0');
	unsigned idx = (unsigned)(y * 12 + (m - 1) - back);

	/* cur is a valid month and back <= 12: idx stays positive */
	snprintf(out, 8, "%04u-%02u", (idx / 12u) % 10000u, idx % 12u + 1u);
}

/* The cache loader: the same value handlers.c's load_bill stores. */
static enum pb_err
load(void *ud, struct pb_cache_value *v)
{
	struct summary *s = ud;
	struct pb_kos_result res;
	char sum[BILL_SUMMARY_MAX], rid[48];
	cJSON *o = NULL;
	enum pb_err rc;

	s->kos_calls++;
	snprintf(rid, sizeof(rid), "%s-%u", s->rid, s->kos_calls);
	rc = pb_kos_bill_inquiry(s->svc->kos, s->digits, s->month, rid, &res);
	s->retry_after_ms = res.retry_after_ms;
	(void)pb_strlcpy(s->code, res.code, sizeof(s->code));
	if (rc != PB_OK)
		goto out;
	if (strcmp(res.code, "0000") == 0) {
		o = bill_info_from_kos(
		    cJSON_GetObjectItemCaseSensitive(res.data, "billInfo"), sum,
		    sizeof(sum));
		if (o == NULL) {
			rc = PB_ERR_PARSE;
			goto out;
		}
		v->ttl_s = BILL_TTL_S;
		v->stale_ok = s->past;
	} else if (strcmp(res.code, "1001") == 0 ||
	           strcmp(res.code, "1002") == 0 ||
	           strcmp(res.code, "1003") == 0) {
		o = cJSON_CreateObject();
		if (o != NULL &&
		    (cJSON_AddStringToObject(o, "resultCode", res.code) ==
		         NULL ||
		     cJSON_AddStringToObject(o, "resultMessage", res.message) ==
		         NULL)) {
			rc = PB_ERR_NOMEM;
			goto out;
		}
		v->ttl_s = BILL_NEG_TTL_S;
	} else {
		rc = PB_ERR_UNAVAILABLE;
		goto out;
	}
	v->val = o != NULL ? pb_json_print(o) : NULL;
	if (v->val == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	v->len = strlen(v->val);
out:
	cJSON_Delete(o);
	pb_kos_result_free(&res);
	return rc;
}

/* One month through the cache: *info is the BillInfo, or NULL when KOS
 * has no bill for it (an answer, not a failure). */
static enum pb_err
fetch_month(struct pb_req *req, struct summary *s, cJSON **info)
{
	struct pb_cache_opts co;
	struct pb_cache_result cr;
	char kmonth[8], key[80], stale[80];
	enum pb_err rc;

	*info = NULL;
	memset(&cr, 0, sizeof(cr));
	rc = pb_kos_month_to_kos(s->month, kmonth, sizeof(kmonth));
	if (rc != PB_OK)
		goto out;
	snprintf(key, sizeof(key), "v1:bill:%s:%s", s->digits, kmonth);
	snprintf(stale, sizeof(stale), "v1:bill-stale:%s:%s", s->digits,
	         kmonth);
	memset(&co, 0, sizeof(co));
	co.key = key;
	co.stale_key = s->past ? stale : NULL;
	co.stale_ttl_s = BILL_STALE_TTL_S;
	co.wait_ms = s->svc->kos_timeout_ms + 500;
	co.lock_ms = s->svc->kos_timeout_ms + 1000;
	rc = pb_cache_fetch(req->app->redis, &co, load, s, &cr);
	if (rc != PB_OK)
		goto out;
	if (cr.source == PB_CACHE_HIT || cr.source == PB_CACHE_WAITED)
		s->hits++;
	if (cr.source == PB_CACHE_STALE)
		s->stale = 1;
	if (cr.len >= sizeof(NEG_PREFIX) - 1 &&
	    memcmp(cr.val, NEG_PREFIX, sizeof(NEG_PREFIX) - 1) == 0)
		goto out;
	rc = pb_json_parse(cr.val, cr.len, PB_JSON_MAX_DEPTH, info, NULL);
out:
	pb_cache_result_free(&cr);
	return rc;
}

/* {month, totalAmount, billStatus, paymentStatus, dueDate} of a month;
 * info NULL: {month, totalAmount: null}. */
static cJSON *
month_item(const char *month, const cJSON *info, long long *overdue)
{
	const cJSON *pay =
	    cJSON_GetObjectItemCaseSensitive(info, "paymentInfo");
	const char *st = pb_json_get_string(pay, "paymentStatus");
	const char *bs = pb_json_get_string(info, "billStatus");
	const char *due = pb_json_get_string(pay, "dueDate");
	cJSON *it = cJSON_CreateObject();
	long long total = 0;

	if (it == NULL || cJSON_AddStringToObject(it, "month", month) == NULL)
		goto bad;
	if (info == NULL)
		return cJSON_AddNullToObject(it, "totalAmount") != NULL
		           ? it
		           : (cJSON_Delete(it), NULL);
	(void)pb_json_get_int(info, "totalAmount", &total);
	if (cJSON_AddNumberToObject(it, "totalAmount", (double)total) == NULL ||
	    (bs != NULL &&
	     cJSON_AddStringToObject(it, "billStatus", bs) == NULL) ||
	    (st != NULL &&
	     cJSON_AddStringToObject(it, "paymentStatus", st) == NULL) ||
	    (due != NULL &&
	     cJSON_AddStringToObject(it, "dueDate", due) == NULL))
		goto bad;
	if (st != NULL && strcmp(st, "OVERDUE") == 0)
		*overdue += total;
	return it;
bad:
	cJSON_Delete(it);
	return NULL;
}

/* One history record, no MVNO payload, handed off (handoff.h): PB_OK
 * when it is durable, before a 200 goes out. */
static enum pb_err
record(struct pb_req *req, struct summary *s, const char *cur, int n,
       const char *err_code, const char *text)
{
	struct bill_hist_rec r;
	struct pb_buf b;
	enum pb_err rc;

	bill_hist_rec_init(&r);
	(void)pb_strlcpy(r.base.request_id, s->rid, sizeof(r.base.request_id));
	(void)pb_strlcpy(r.base.line, s->digits, sizeof(r.base.line));
	(void)pb_strlcpy(r.user_id, s->p.s.user_id, sizeof(r.user_id));
	(void)pb_strlcpy(r.customer_id, s->p.s.customer_id,
	                 sizeof(r.customer_id));
	(void)pb_strlcpy(r.month, cur, sizeof(r.month));
	(void)pb_strlcpy(r.status, err_code == NULL ? "COMPLETED" : "FAILED",
	                 sizeof(r.status));
	(void)pb_strlcpy(r.error_code, err_code != NULL ? err_code : "",
	                 sizeof(r.error_code));
	(void)pb_strlcpy(r.result_code, s->code, sizeof(r.result_code));
	(void)pb_strlcpy(r.summary, text != NULL ? text : "",
	                 sizeof(r.summary));
	r.requested_at = s->start_ms;
	r.completed_at = pb_clock_now_ms();
	r.prepared = 1; /* no MVNO payload: not an inquiry event */
	r.proc.cache_hit = s->hits == (unsigned)n;
	r.proc.kos_called = s->kos_calls > 0;
	r.proc.kos_attempts = s->kos_calls;
	r.proc.elapsed_ms = r.completed_at - s->start_ms;
	r.proc.stale = s->stale;
	pb_buf_init(&b, PB_HANDOFF_REC_MAX);
	rc = bill_hist_rec_encode(&r, &b);
	if (rc == PB_OK)
		rc = pb_handoff_put(req->app->redis, req->app->pii_key,
		                    PB_HANDOFF_BILL, b.data, b.len, NULL, 0);
	else
		pb_log_msg(PB_LOG_ERROR, "history_handoff_failed",
		           pb_strerror(rc));
	pb_buf_free(&b);
	return rc;
}

/* The months, oldest first, into data; the current BillInfo moved in. */
static enum pb_err
collect(struct pb_req *req, struct summary *s, const char *cur, int n,
        cJSON *data, long long *overdue, int *noverdue)
{
	cJSON *arr = cJSON_AddArrayToObject(data, "months"), *info, *it;
	enum pb_err rc = arr != NULL ? PB_OK : PB_ERR_NOMEM;
	int i;

	for (i = n - 1; rc == PB_OK && i >= 0; i--) {
		month_back(cur, i, s->month);
		s->past = i > 0;
		rc = fetch_month(req, s, &info);
		if (rc != PB_OK)
			break;
		it = month_item(s->month, info, overdue);
		if (it == NULL || !cJSON_AddItemToArray(arr, it)) {
			cJSON_Delete(it);
			rc = PB_ERR_NOMEM;
		} else if (pb_json_get_string(it, "paymentStatus") != NULL &&
		           strcmp(pb_json_get_string(it, "paymentStatus"),
		                  "OVERDUE") == 0) {
			(*noverdue)++;
		}
		if (rc == PB_OK && i == 0) {
			if (info == NULL)
				info = cJSON_CreateNull();
			if (info == NULL ||
			    !cJSON_AddItemToObject(data, "current", info))
				rc = PB_ERR_NOMEM;
			info = NULL;
		}
		cJSON_Delete(info);
	}
	return rc;
}

void
bill_summary(struct pb_req *req)
{
	struct summary s;
	char cur[8], hex[13], text[BILL_SUMMARY_MAX], line[16];
	long long overdue = 0;
	int n, noverdue = 0;
	cJSON *data = NULL, *od;
	enum pb_err rc;

	memset(&s, 0, sizeof(s));
	s.svc = bill_svc(req);
	s.start_ms = pb_clock_now_ms();
	if (pb_authz_require(req, PB_PERM_BILL_INQUIRY, &s.p) != PB_OK)
		return;
	n = parse_months(req->query);
	if (n == 0) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "months: an integer 1-12 (the only parameter)",
		             NULL);
		return;
	}
	bill_line_digits(s.p.s.line, s.digits, sizeof(s.digits));
	bill_current_month(req->app, cur);
	if (pb_crypto_random_hex(6, hex, sizeof(hex)) != PB_OK ||
	    pb_authz_line_format(s.digits, line, sizeof(line)) != PB_OK) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return;
	}
	{
		struct pb_date d;

		pb_clock_date(s.start_ms, req->app->tz_offset_min, &d);
		snprintf(s.rid, sizeof(s.rid), "SUM_%04d%02d%02d_%s",
		         d.year % 10000, d.month, d.day, hex);
	}
	data = cJSON_CreateObject();
	rc = data == NULL ? PB_ERR_NOMEM
	                  : collect(req, &s, cur, n, data, &overdue, &noverdue);
	if (rc != PB_OK) {
		bill_kos_failed(req, rc, s.retry_after_ms);
		(void)record(req, &s, cur, n,
		             rc == PB_ERR_PARSE ? "UPSTREAM_INVALID"
		                                : "SERVICE_UNAVAILABLE",
		             NULL);
		goto out;
	}
	od = cJSON_AddObjectToObject(data, "overdue");
	if (od == NULL ||
	    cJSON_AddStringToObject(data, "requestId", s.rid) == NULL ||
	    cJSON_AddStringToObject(data, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(data, "currentMonth", cur) == NULL ||
	    cJSON_AddBoolToObject(data, "stale", s.stale) == NULL ||
	    cJSON_AddNumberToObject(od, "count", noverdue) == NULL ||
	    cJSON_AddNumberToObject(od, "amount", (double)overdue) == NULL) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	snprintf(text, sizeof(text), "요약 %d개월, 연체 %d건", n, noverdue);
	/* the answer goes out only once its history is durable */
	if (record(req, &s, cur, n, NULL, text) != PB_OK) {
		pb_req_unavailable(req, "history");
		goto out;
	}
	pb_req_ok(req, 200, "요금 요약을 조회했습니다", data);
	data = NULL;
out:
	cJSON_Delete(data);
}
