/*
 * change.c - POST /products/change, GET /products/change/{requestId}, and
 * resolving changes whose outcome is unknown.
 *
 * A change: pre-check again (fresh customer data from KOS) -> 409
 * PRECHECK_FAILED; write the REQUESTED row (no row, no change: MariaDB
 * away -> 503); call KOS once through the breaker (never retried blindly:
 * the KOS requestId is ours, so asking again later is safe) and classify:
 *   0000                 COMPLETED: row completed, caches dropped, 200
 *   20xx                 FAILED, 409 CHANGE_REJECTED with KOS's reason
 *   9999, breaker open,
 *   nothing sent, 502-504 FAILED, 503 (KOS did not make the change)
 *   anything else        unknown (a timeout or garbage after the order was
 *                        sent): the row stays REQUESTED, 202 PROCESSING;
 *                        the status operation, a retry with the same
 *                        Idempotency-Key, or the background worker asks
 *                        KOS again with the same requestId.
 * Idempotency-Key (per user): the same key returns the first result; a
 * first attempt that KOS never saw (FAILED 503) is tried again on the
 * same row and requestId; a key reused for another change is refused.
 * The requestId of a keyed change is derived from (user, key), so even a
 * retry whose row a database failover lost reaches KOS under the first
 * requestId and cannot become a second order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "cache.h"
#include "clock.h"
#include "crypto.h"
#include "handoff.h"
#include "history.h"
#include "json.h"
#include "listing.h"
#include "log.h"
#include "mvno.h"
#include "product.h"
#include "uuid.h"

#define ROW_COLS                                                               \
	"request_id, user_id, customer_id, status, idempotency_key, "          \
	"line_number_enc, current_product_code, current_product_name, "        \
	"target_product_code, target_product_name, result_code, "              \
	"result_message, error_code, kos_order_no, effective_date, "           \
	"response_json, requested_at, completed_at, kos_attempts"

enum outcome { OUT_COMPLETED, OUT_REJECTED, OUT_FAILED, OUT_UNKNOWN };

struct row {
	int found;
	char rid[PB_REQ_ID_MAX + 1];
	char user[PB_SESSION_ID_MAX + 1];
	char customer[PB_SESSION_ID_MAX + 1];
	char status[16];
	char idem[PB_MVNO_IDEM_MAX + 1];
	char digits[12];
	char cur[PROD_CODE_MAX], cur_name[PROD_NAME_MAX];
	char tgt[PROD_CODE_MAX], tgt_name[PROD_NAME_MAX];
	char result_code[16];
	char result_message[PB_KOS_MESSAGE_MAX];
	char error_code[64];
	char order_no[64];
	char effective[16];
	char requested_at[32], completed_at[32];
	char *response; /* data object text, or NULL */
	unsigned char *lenc;
	size_t llen;
	long long attempts;
};

static void
row_free(struct row *r)
{
	free(r->response);
	free(r->lenc);
	memset(r, 0, sizeof(*r));
}

static void
col(const struct pb_db_row *row, unsigned i, char *out, size_t outlen)
{
	(void)pb_strlcpy(
	    out, i < row->ncols && row->vals[i] != NULL ? row->vals[i] : "",
	    outlen);
}

static enum pb_err
row_cb(void *ud, const struct pb_db_row *row)
{
	struct row *r = ud;

	if (row->ncols < 19 || r->found)
		return PB_OK;
	r->found = 1;
	col(row, 0, r->rid, sizeof(r->rid));
	col(row, 1, r->user, sizeof(r->user));
	col(row, 2, r->customer, sizeof(r->customer));
	col(row, 3, r->status, sizeof(r->status));
	col(row, 4, r->idem, sizeof(r->idem));
	col(row, 6, r->cur, sizeof(r->cur));
	col(row, 7, r->cur_name, sizeof(r->cur_name));
	col(row, 8, r->tgt, sizeof(r->tgt));
	col(row, 9, r->tgt_name, sizeof(r->tgt_name));
	col(row, 10, r->result_code, sizeof(r->result_code));
	col(row, 11, r->result_message, sizeof(r->result_message));
	col(row, 12, r->error_code, sizeof(r->error_code));
	col(row, 13, r->order_no, sizeof(r->order_no));
	col(row, 14, r->effective, sizeof(r->effective));
	col(row, 16, r->requested_at, sizeof(r->requested_at));
	col(row, 17, r->completed_at, sizeof(r->completed_at));
	r->attempts =
	    row->vals[18] != NULL ? strtoll(row->vals[18], NULL, 10) : 0;
	if (row->vals[5] != NULL && row->lens[5] > 0) {
		r->lenc = malloc(row->lens[5]);
		if (r->lenc == NULL)
			return PB_ERR_NOMEM;
		memcpy(r->lenc, row->vals[5], row->lens[5]);
		r->llen = row->lens[5];
	}
	if (row->vals[15] != NULL) {
		r->response = malloc(row->lens[15] + 1);
		if (r->response == NULL)
			return PB_ERR_NOMEM;
		memcpy(r->response, row->vals[15], row->lens[15]);
		r->response[row->lens[15]] = '\0';
	}
	return PB_OK;
}

/* Load a row by request id (user NULL) or by (user, idempotency key). */
static enum pb_err
load_row(struct prod_ctx *c, const char *rid, const char *user,
         const char *idem, struct row *r)
{
	struct pb_db_param p[2];
	char *digits = NULL;
	size_t dlen = 0;
	enum pb_err rc;

	memset(r, 0, sizeof(*r));
	if (rid != NULL) {
		p[0] = PB_DB_P_STR(rid);
		rc = pb_db_query(c->db,
		                 "SELECT " ROW_COLS " FROM "
		                 "product_change_history WHERE request_id = ?",
		                 p, 1, row_cb, r);
	} else {
		p[0] = PB_DB_P_STR(user);
		p[1] = PB_DB_P_STR(idem);
		rc = pb_db_query(c->db,
		                 "SELECT " ROW_COLS " FROM "
		                 "product_change_history WHERE user_id = ? AND "
		                 "idempotency_key = ?",
		                 p, 2, row_cb, r);
	}
	if (rc != PB_OK || !r->found)
		return rc != PB_OK ? rc : PB_ERR_NOTFOUND;
	if (r->lenc != NULL && pb_history_open(c->hist, r->lenc, r->llen,
	                                       &digits, &dlen) == PB_OK) {
		(void)pb_strlcpy(r->digits, digits, sizeof(r->digits));
		sodium_memzero(digits, dlen);
	}
	free(digits);
	return r->digits[0] != '\0' ? PB_OK : PB_ERR_INTERNAL;
}

static enum outcome
classify(enum pb_err rc, const struct pb_kos_result *res)
{
	if (rc == PB_OK) {
		if (strcmp(res->code, "0000") == 0)
			return OUT_COMPLETED;
		if (res->code[0] == '2')
			return OUT_REJECTED;
		return OUT_FAILED; /* 9999: KOS says it did nothing */
	}
	if (res->failure == PB_KOS_FAIL_OPEN || !res->sent ||
	    rc == PB_ERR_INVAL || rc == PB_ERR_NOMEM)
		return OUT_FAILED;
	if (res->failure == PB_KOS_FAIL_HTTP_ERROR &&
	    (res->http_status == 502 || res->http_status == 503 ||
	     res->http_status == 504))
		return OUT_FAILED; /* "not processed" */
	return OUT_UNKNOWN;
}

/* The changed plan: KOS's answer, with the catalogue's allowances. */
static cJSON *
changed_product(struct prod_ctx *c, const cJSON *kd)
{
	struct prod_kos_err ke;
	const char *code = pb_json_get_string(kd, "productCode");
	cJSON *cat = NULL, *o = NULL;
	const cJSON *plan = NULL;
	long long fee = 0;

	if (code != NULL && prod_catalog(c, &cat, &ke) == PB_OK)
		plan = prod_plan(cat, code);
	if (plan != NULL) {
		o = cJSON_Duplicate(plan, 1);
	} else {
		(void)pb_json_get_int(kd, "monthlyFee", &fee);
		o = cJSON_CreateObject();
		if (o != NULL &&
		    (cJSON_AddStringToObject(
		         o, "productCode", code != NULL ? code : "") == NULL ||
		     cJSON_AddStringToObject(
		         o, "productName",
		         pb_json_get_string(kd, "productName") != NULL
		             ? pb_json_get_string(kd, "productName")
		             : "") == NULL ||
		     cJSON_AddNumberToObject(o, "monthlyFee", (double)fee) ==
		         NULL ||
		     cJSON_AddBoolToObject(o, "isAvailable", 1) == NULL)) {
			cJSON_Delete(o);
			o = NULL;
		}
	}
	cJSON_Delete(cat);
	return o;
}

/* The data answered for a completed change. */
static cJSON *
completed_data(struct prod_ctx *c, const struct row *r, const cJSON *kd,
               const char *message, int64_t now)
{
	char ts[PB_CLOCK_RFC3339_LEN];
	cJSON *o = cJSON_CreateObject(), *prev, *cp;

	(void)pb_clock_rfc3339(now, c->app->tz_offset_min, ts, sizeof(ts));
	cp = changed_product(c, kd);
	if (o == NULL || cp == NULL ||
	    !cJSON_AddItemToObject(o, "changedProduct", cp)) {
		cJSON_Delete(cp);
		goto bad;
	}
	prev = cJSON_AddObjectToObject(o, "previousProduct");
	if (prev == NULL ||
	    cJSON_AddStringToObject(prev, "productCode", r->cur) == NULL ||
	    cJSON_AddStringToObject(prev, "productName", r->cur_name) == NULL ||
	    cJSON_AddStringToObject(o, "requestId", r->rid) == NULL ||
	    cJSON_AddStringToObject(o, "processStatus", "COMPLETED") == NULL ||
	    cJSON_AddStringToObject(o, "resultCode", "0000") == NULL ||
	    cJSON_AddStringToObject(o, "resultMessage", message) == NULL ||
	    cJSON_AddStringToObject(o, "orderNumber",
	                            pb_json_get_string(kd, "orderNo") != NULL
	                                ? pb_json_get_string(kd, "orderNo")
	                                : "") == NULL ||
	    cJSON_AddStringToObject(
	        o, "effectiveDate",
	        pb_json_get_string(kd, "effectiveDate") != NULL
	            ? pb_json_get_string(kd, "effectiveDate")
	            : "") == NULL ||
	    cJSON_AddStringToObject(o, "processedAt", ts) == NULL)
		goto bad;
	return o;
bad:
	cJSON_Delete(o);
	return NULL;
}

static char *
mvno_payload(const struct row *r, const char *status, const char *code,
             const char *message, const char *order, const char *eff,
             int64_t now)
{
	char ts[PB_CLOCK_RFC3339_LEN], line[16];
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	(void)pb_clock_rfc3339(now, 0, ts, sizeof(ts));
	if (o == NULL ||
	    pb_authz_line_format(r->digits, line, sizeof(line)) != PB_OK ||
	    cJSON_AddStringToObject(o, "eventType", "PRODUCT_CHANGE") == NULL ||
	    cJSON_AddStringToObject(o, "requestId", r->rid) == NULL ||
	    cJSON_AddStringToObject(o, "customerId", r->customer) == NULL ||
	    cJSON_AddStringToObject(o, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(o, "status", status) == NULL ||
	    cJSON_AddStringToObject(o, "resultCode", code) == NULL ||
	    cJSON_AddStringToObject(o, "resultMessage", message) == NULL ||
	    cJSON_AddStringToObject(o, "previousProductCode", r->cur) == NULL ||
	    cJSON_AddStringToObject(o, "previousProductName", r->cur_name) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "productCode", r->tgt) == NULL ||
	    cJSON_AddStringToObject(o, "productName", r->tgt_name) == NULL ||
	    (order != NULL &&
	     cJSON_AddStringToObject(o, "orderNumber", order) == NULL) ||
	    (eff != NULL &&
	     cJSON_AddStringToObject(o, "effectiveDate", eff) == NULL) ||
	    cJSON_AddStringToObject(o, "processedAt", ts) == NULL)
		goto out;
	text = pb_json_print(o);
out:
	cJSON_Delete(o);
	return text;
}

static int
add_opt(cJSON *o, const char *name, const char *v)
{
	return v == NULL || v[0] == '\0' ||
	       cJSON_AddStringToObject(o, name, v) != NULL;
}

/* The record completing row r; text, mv: the data answered and the MVNO
 * payload (borrowed, may be NULL). */
static void
record_fill(struct prod_hist_rec *h, const struct row *r, const char *status,
            const char *code, const char *message, const char *err_code,
            const char *order, const char *eff, const char *text, char *mv,
            const struct pb_kos_result *res, int64_t now)
{
	prod_hist_rec_init(h);
	(void)pb_strlcpy(h->base.request_id, r->rid,
	                 sizeof(h->base.request_id));
	(void)pb_strlcpy(h->base.line, r->digits, sizeof(h->base.line));
	h->base.mvno = mv;
	(void)pb_strlcpy(h->user_id, r->user, sizeof(h->user_id));
	(void)pb_strlcpy(h->customer_id, r->customer, sizeof(h->customer_id));
	(void)pb_strlcpy(h->idem, r->idem, sizeof(h->idem));
	(void)pb_strlcpy(h->current_code, r->cur, sizeof(h->current_code));
	(void)pb_strlcpy(h->current_name, r->cur_name, sizeof(h->current_name));
	(void)pb_strlcpy(h->target_code, r->tgt, sizeof(h->target_code));
	(void)pb_strlcpy(h->target_name, r->tgt_name, sizeof(h->target_name));
	(void)pb_strlcpy(h->status, status, sizeof(h->status));
	(void)pb_strlcpy(h->result_code, code != NULL ? code : "",
	                 sizeof(h->result_code));
	(void)pb_strlcpy(h->result_message, message != NULL ? message : "",
	                 sizeof(h->result_message));
	(void)pb_strlcpy(h->error_code, err_code != NULL ? err_code : "",
	                 sizeof(h->error_code));
	(void)pb_strlcpy(h->order_no, order != NULL ? order : "",
	                 sizeof(h->order_no));
	(void)pb_strlcpy(h->effective_date, eff != NULL ? eff : "",
	                 sizeof(h->effective_date));
	h->response = text;
	h->completed_at = now;
	/* a row not yet written is requested now */
	h->requested_at = r->requested_at[0] == '\0' ? now : 0;
	if (res == NULL)
		return;
	(void)pb_strlcpy(h->breaker_state,
	                 res->breaker_state != NULL ? res->breaker_state
	                                            : "NONE",
	                 sizeof(h->breaker_state));
	(void)pb_strlcpy(h->kos_failure, pb_kos_failure_name(res->failure),
	                 sizeof(h->kos_failure));
	h->kos_attempts = res->attempts;
	h->kos_latency_ms = res->latency_ms;
}

/* Row r now says what was answered. */
static void
row_settle(struct row *r, const struct prod_hist_rec *h, char *text)
{
	(void)pb_strlcpy(r->status, h->status, sizeof(r->status));
	(void)pb_strlcpy(r->result_code, h->result_code,
	                 sizeof(r->result_code));
	(void)pb_strlcpy(r->result_message, h->result_message,
	                 sizeof(r->result_message));
	(void)pb_strlcpy(r->error_code, h->error_code, sizeof(r->error_code));
	(void)pb_strlcpy(r->order_no, h->order_no, sizeof(r->order_no));
	(void)pb_strlcpy(r->effective, h->effective_date, sizeof(r->effective));
	free(r->response);
	r->response = text;
}

/*
 * Complete the row r (status "COMPLETED"/"FAILED") through the history
 * (spooled if MariaDB is away) and update r to match.  data: the data
 * answered (may be NULL); deliver: queue the MVNO notification.
 */
static void
finalize(struct prod_ctx *c, struct row *r, const char *status,
         const char *code, const char *message, const char *err_code,
         const char *order, const char *eff, const cJSON *data,
         const struct pb_kos_result *res, int deliver)
{
	int64_t now = pb_clock_now_ms();
	char *text = NULL, *mv = NULL, *rec = NULL;
	struct prod_hist_rec h;
	size_t len = 0;

	if (data != NULL)
		text = pb_json_print(data);
	if (deliver && c->svc->mvno.url[0] != '\0')
		mv = mvno_payload(r, status, code != NULL ? code : err_code,
		                  message != NULL ? message : "", order, eff,
		                  now);
	record_fill(&h, r, status, code, message, err_code, order, eff, text,
	            mv, res, now);
	if (prod_hist_rec_encode(&h, &rec, &len) != PB_OK) {
		pb_log_msg(PB_LOG_ERROR, "history_lost", r->rid);
		goto out;
	}
	/* durable before anyone is told: the hand-off to phonebill-worker,
	 * else the row itself now; with neither the row stays REQUESTED
	 * (answered 202) and the worker settles it by asking KOS again */
	if (pb_handoff_put(c->redis, c->app->pii_key, PB_HANDOFF_PRODUCT, rec,
	                   len, NULL, 0) == PB_OK)
		/* and the row now, so that the status operation reads what
		 * was answered; the worker's copy then changes nothing */
		(void)pb_history_write(c->hist, c->db, &h.base);
	else if (pb_history_save(c->hist, c->db, &h.base) != PB_OK)
		goto out;
	row_settle(r, &h, text);
	text = NULL;
out:
	if (rec != NULL)
		sodium_memzero(rec, len);
	free(rec);
	free(text);
	free(mv);
}

/* An attempt whose outcome is unknown: count it, ask again later. */
static void
still_unknown(struct prod_ctx *c, struct row *r,
              const struct pb_kos_result *res)
{
	struct pb_db_param p[4];
	long long wait_s = 5LL << (r->attempts < 6 ? r->attempts : 6);

	if (wait_s > 300)
		wait_s = 300;
	p[0] = PB_DB_P_STR(pb_kos_failure_name(res->failure));
	p[1] = PB_DB_P_STR(res->breaker_state != NULL ? res->breaker_state
	                                              : "NONE");
	p[2] = PB_DB_P_INT(wait_s);
	p[3] = PB_DB_P_STR(r->rid);
	(void)pb_db_exec(
	    c->db,
	    "UPDATE product_change_history SET "
	    "kos_attempts = kos_attempts + 1, kos_failure = ?, breaker_state = "
	    "?, "
	    "next_check_at = DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ? SECOND), "
	    "resolving_until = NULL WHERE request_id = ? AND status = "
	    "'REQUESTED'",
	    p, 4, NULL, NULL);
	r->attempts++;
	pb_log_msg(PB_LOG_WARN, "change_outcome_unknown", r->rid);
}

/*
 * Ask KOS to make (or tell us about) the change of row r, and record what
 * it said.  Returns the outcome; *res is KOS's answer (caller frees).
 */
static enum outcome
attempt(struct prod_ctx *c, struct row *r, struct pb_kos_result *res)
{
	const cJSON *kd;
	const char *reason;
	cJSON *data = NULL;
	enum outcome out;
	enum pb_err rc;
	int64_t sent_ms = pb_clock_now_ms();

	rc = pb_kos_product_change(c->kos, r->digits, r->cur, r->tgt, r->rid,
	                           res);
	out = classify(rc, res);
	kd = res->data;
	switch (out) {
	case OUT_COMPLETED:
		data =
		    completed_data(c, r, kd, res->message, pb_clock_now_ms());
		prod_invalidate(c, r->digits, sent_ms);
		finalize(c, r, "COMPLETED", res->code, res->message, NULL,
		         pb_json_get_string(kd, "orderNo"),
		         pb_json_get_string(kd, "effectiveDate"), data, res, 1);
		break;
	case OUT_REJECTED:
		reason = pb_json_get_string(kd, "reason");
		data = cJSON_CreateObject();
		if (data != NULL) {
			(void)cJSON_AddStringToObject(data, "requestId",
			                              r->rid);
			(void)cJSON_AddStringToObject(data, "processStatus",
			                              "FAILED");
			(void)cJSON_AddStringToObject(data, "resultCode",
			                              res->code);
			if (reason != NULL)
				(void)cJSON_AddStringToObject(data, "reason",
				                              reason);
		}
		finalize(c, r, "FAILED", res->code, res->message,
		         "CHANGE_REJECTED", NULL, NULL, data, res, 1);
		break;
	case OUT_FAILED:
		finalize(c, r, "FAILED",
		         res->code[0] != '\0' ? res->code : NULL, res->message,
		         "SERVICE_UNAVAILABLE", NULL, NULL, NULL, res, 0);
		break;
	case OUT_UNKNOWN:
		still_unknown(c, r, res);
		break;
	}
	cJSON_Delete(data);
	return out;
}

/* --- answers ----------------------------------------------------------------
 */

static void
answer_processing(struct pb_req *req, const struct row *r)
{
	char ts[PB_CLOCK_RFC3339_LEN];
	cJSON *d = cJSON_CreateObject();

	(void)pb_clock_rfc3339(pb_clock_now_ms() + PROD_CHECK_AFTER_MS,
	                       req->app->tz_offset_min, ts, sizeof(ts));
	if (d == NULL ||
	    cJSON_AddStringToObject(d, "requestId", r->rid) == NULL ||
	    cJSON_AddStringToObject(d, "processStatus", "PROCESSING") == NULL ||
	    cJSON_AddStringToObject(d, "estimatedCompletionTime", ts) == NULL ||
	    cJSON_AddStringToObject(d, "message",
	                            "KOS의 처리 결과를 확인하고 있습니다. 잠시 "
	                            "후 결과를 조회해 주세요") == NULL) {
		cJSON_Delete(d);
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return;
	}
	pb_req_ok(req, 202, "상품변경 요청이 접수되어 처리 중입니다", d);
}

/* A completed change's answer from its row alone (its stored answer was
 * lost, e.g. a spooled record replayed without it). */
static cJSON *
completed_from_row(const struct row *r)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL ||
	    cJSON_AddStringToObject(o, "targetProductCode", r->tgt) == NULL ||
	    !add_opt(o, "targetProductName", r->tgt_name) ||
	    cJSON_AddStringToObject(o, "requestId", r->rid) == NULL ||
	    cJSON_AddStringToObject(o, "processStatus", "COMPLETED") == NULL ||
	    cJSON_AddStringToObject(o, "resultCode", r->result_code) == NULL ||
	    !add_opt(o, "resultMessage", r->result_message) ||
	    !add_opt(o, "orderNumber", r->order_no) ||
	    !add_opt(o, "effectiveDate", r->effective)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The answer a row stands for (first answer and Idempotency-Key replays). */
static void
answer_row(struct pb_req *req, const struct row *r)
{
	cJSON *data = NULL, *extra;
	const char *reason;

	if (strcmp(r->status, "REQUESTED") == 0) {
		answer_processing(req, r);
		return;
	}
	if (r->response != NULL &&
	    pb_json_parse(r->response, strlen(r->response), PB_JSON_MAX_DEPTH,
	                  &data, NULL) != PB_OK)
		data = NULL;
	if (strcmp(r->status, "COMPLETED") == 0) {
		if (data == NULL)
			data = completed_from_row(r);
		if (data != NULL) {
			pb_req_ok(req, 200, "요금제가 변경되었습니다", data);
			return;
		}
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return;
	}
	if (strcmp(r->error_code, "PRECHECK_FAILED") == 0) {
		reason = pb_json_get_string(data, "failureReason");
		if (data != NULL)
			(void)cJSON_AddStringToObject(data, "requestId",
			                              r->rid);
		pb_req_error(req, 409, "PRECHECK_FAILED",
		             "상품변경 사전체크에 실패했습니다",
		             reason != NULL ? reason : r->result_message, data);
		return;
	}
	if (strcmp(r->error_code, "CHANGE_REJECTED") == 0) {
		reason = pb_json_get_string(data, "reason");
		pb_req_error(req, 409, "CHANGE_REJECTED",
		             r->result_message[0] != '\0'
		                 ? r->result_message
		                 : "KOS가 상품변경을 거절했습니다",
		             reason, data);
		return;
	}
	cJSON_Delete(data);
	extra = cJSON_CreateObject();
	if (extra != NULL) {
		(void)cJSON_AddStringToObject(extra, "requestId", r->rid);
		(void)cJSON_AddStringToObject(extra, "processStatus", "FAILED");
	}
	(void)pb_req_add_header(req, "Retry-After", "5");
	pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL,
	             "KOS did not make the change; try again", extra);
}

/* --- POST /products/change
 * ------------------------------------------------------ */

static int
idem_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= PB_MVNO_IDEM_MAX || (unsigned char)s[n] < 0x21 ||
		    (unsigned char)s[n] > 0x7e)
			return 0;
	return n > 0;
}

/*
 * The KOS requestId of a change sent with an Idempotency-Key: a keyed hash
 * (pii.index_key) of the user and the key, shaped as the API's UUID v4
 * (version and variant bits set; the rest is the hash, as unguessable),
 * so that a retry whose row a failover lost asks KOS with the same
 * requestId and KOS dedups it: no second order.  Without a key: random.
 */
static enum pb_err
change_request_id(const struct pb_app *app, const char *user, const char *idem,
                  char *out, size_t outlen)
{
	static const char domain[] = "phonebill.kos-request-id.v1";
	unsigned char b[PB_CRYPTO_INDEX_LEN];
	char msg[sizeof(domain) + PB_SESSION_ID_MAX + PB_MVNO_IDEM_MAX + 4];
	enum pb_err rc;
	int len;

	if (idem == NULL || idem[0] == '\0' || app == NULL || !app->has_pii)
		return pb_uuid_v4(out, outlen);
	/* NUL separators: ("ab","c") and ("a","bc") differ */
	len = snprintf(msg, sizeof(msg), "%s%c%s%c%s", domain, '\0', user, '\0',
	               idem);
	if (len < 0 || (size_t)len >= sizeof(msg))
		return PB_ERR_TOOBIG;
	pb_crypto_blind_index(app->pii_index_key, msg, (size_t)len, b);
	/* the hash's first 16 bytes, shaped as a UUID v4 */
	rc = pb_uuid_v4_format(b, out, outlen);
	sodium_memzero(msg, sizeof(msg));
	return rc;
}

static enum pb_err
insert_requested(struct prod_ctx *c, const struct row *r)
{
	unsigned char bidx[PB_CRYPTO_INDEX_LEN], *lenc = NULL;
	size_t llen = 0;
	char t[PB_HISTORY_SQLTIME_LEN];
	struct pb_db_param p[12];
	enum pb_err rc;

	rc = pb_history_seal(c->hist, r->digits, strlen(r->digits), &lenc,
	                     &llen);
	if (rc != PB_OK)
		return rc;
	pb_history_line_index(c->hist, r->digits, bidx);
	pb_history_sqltime(pb_clock_now_ms(), t, sizeof(t));
	p[0] = PB_DB_P_STR(r->rid);
	p[1] = PB_DB_P_STR(r->user);
	p[2] = PB_DB_P_STR(r->customer);
	p[3] = r->idem[0] != '\0' ? PB_DB_P_STR(r->idem) : PB_DB_P_NULL;
	p[4] = PB_DB_P_BIN(lenc, llen);
	p[5] = PB_DB_P_BIN(bidx, sizeof(bidx));
	p[6] = PB_DB_P_STR(r->cur);
	p[7] = PB_DB_P_STR(r->cur_name);
	p[8] = PB_DB_P_STR(r->tgt);
	p[9] = PB_DB_P_STR(r->tgt_name);
	p[10] = PB_DB_P_STR(t);
	p[11] = PB_DB_P_INT(PROD_CHECK_AFTER_MS);
	rc = pb_db_exec(
	    c->db,
	    "INSERT INTO product_change_history (request_id, "
	    "user_id, customer_id, idempotency_key, line_number_enc, "
	    "line_number_bidx, current_product_code, current_product_name, "
	    "target_product_code, target_product_name, status, requested_at, "
	    "next_check_at, resolving_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, "
	    "?, 'REQUESTED', ?, DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ? * 1000 "
	    "MICROSECOND), DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 5 SECOND))",
	    p, 12, NULL, NULL);
	free(lenc);
	return rc;
}

/* A FAILED row KOS never saw may be tried again under its key: claim it. */
static int
reclaim_failed(struct prod_ctx *c, struct row *r)
{
	struct pb_db_param p[2];
	uint64_t n = 0;

	if (strcmp(r->status, "FAILED") != 0 ||
	    strcmp(r->error_code, "SERVICE_UNAVAILABLE") != 0)
		return 0;
	p[0] = PB_DB_P_INT(PROD_CHECK_AFTER_MS);
	p[1] = PB_DB_P_STR(r->rid);
	if (pb_db_exec(
	        c->db,
	        "UPDATE product_change_history SET status = "
	        "'REQUESTED', error_code = NULL, result_code = NULL, "
	        "result_message = NULL, completed_at = NULL, next_check_at = "
	        "DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ? * 1000 MICROSECOND), "
	        "resolving_until = DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 5 "
	        "SECOND) "
	        "WHERE request_id = ? AND status = 'FAILED' AND "
	        "error_code = 'SERVICE_UNAVAILABLE'",
	        p, 2, &n, NULL) != PB_OK ||
	    n != 1)
		return 0;
	(void)pb_strlcpy(r->status, "REQUESTED", sizeof(r->status));
	return 1;
}

/*
 * Claim a REQUESTED row for asking KOS now: nobody else is asking
 * (resolving_until has passed; it covers the first attempt in flight),
 * and -- unless now is set (a retry by the client) -- the worker's backoff
 * (next_check_at) has passed too.
 */
static int
claim_pending(struct prod_ctx *c, const char *rid, int now)
{
	struct pb_db_param p[2];
	uint64_t n = 0;

	p[0] = PB_DB_P_STR(rid);
	p[1] = PB_DB_P_INT(now);
	return pb_db_exec(c->db,
	                  "UPDATE product_change_history SET "
	                  "resolving_until = DATE_ADD(UTC_TIMESTAMP(3), "
	                  "INTERVAL 10 SECOND) "
	                  "WHERE request_id = ? AND status = 'REQUESTED' AND "
	                  "(resolving_until IS NULL OR resolving_until <= "
	                  "UTC_TIMESTAMP(3)) "
	                  "AND (? = 1 OR next_check_at <= UTC_TIMESTAMP(3))",
	                  p, 2, &n, NULL) == PB_OK &&
	       n == 1;
}

/* Answer the KOS outcome of an attempt on r. */
static void
answer_outcome(struct pb_req *req, struct row *r, enum outcome out,
               const struct pb_kos_result *res)
{
	char ra[24];
	cJSON *extra;

	if (out == OUT_FAILED && (res->failure == PB_KOS_FAIL_OPEN ||
	                          res->failure == PB_KOS_FAIL_BULKHEAD)) {
		snprintf(ra, sizeof(ra), "%lld",
		         (long long)((res->retry_after_ms + 999) / 1000));
		extra = cJSON_CreateObject();
		if (extra != NULL) {
			(void)cJSON_AddStringToObject(extra, "requestId",
			                              r->rid);
			(void)cJSON_AddStringToObject(extra, "processStatus",
			                              "FAILED");
		}
		(void)pb_req_add_header(req, "Retry-After", ra);
		pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL,
		             res->failure == PB_KOS_FAIL_OPEN
		                 ? "KOS is unavailable (circuit open)"
		                 : "KOS is busy (too many calls waiting)",
		             extra);
		return;
	}
	answer_row(req, r);
}

/* An Idempotency-Key seen before: the first result, resolving if needed. */
static void
replay(struct pb_req *req, struct prod_ctx *c, struct row *r, const char *cur,
       const char *tgt, const char *digits)
{
	struct pb_kos_result res;
	enum outcome out;

	if (strcmp(r->cur, cur) != 0 || strcmp(r->tgt, tgt) != 0 ||
	    strcmp(r->digits, digits) != 0) {
		pb_req_error(
		    req, 400, "VALIDATION_ERROR",
		    "같은 Idempotency-Key로 다른 변경을 요청할 수 없습니다",
		    "Idempotency-Key was used for another change", NULL);
		return;
	}
	if (!reclaim_failed(c, r) && !(strcmp(r->status, "REQUESTED") == 0 &&
	                               claim_pending(c, r->rid, 1))) {
		answer_row(req, r);
		return;
	}
	memset(&res, 0, sizeof(res));
	out = attempt(c, r, &res);
	answer_outcome(req, r, out, &res);
	pb_kos_result_free(&res);
}

/*
 * The pre-check failed, but the same key may have raced us and changed
 * the plan meanwhile (its row is written before its KOS call; ours read
 * the plan after it): answer what that request became.  1 when answered.
 */
static int
raced(struct pb_req *req, struct prod_ctx *c, const char *user,
      const char *idem, const char *cur, const char *tgt, const char *digits)
{
	struct row o;
	int found;

	memset(&o, 0, sizeof(o));
	found = load_row(c, NULL, user, idem, &o) == PB_OK;
	if (found)
		replay(req, c, &o, cur, tgt, digits);
	row_free(&o);
	return found;
}

/* An Idempotency-Key seen before: its change answered again (1), or
 * none yet (0, r->idem set) -- or a store failure answered (1). */
static int
change_replayed(struct pb_req *req, struct prod_ctx *c, const char *uid,
                const char *idem, const char *cur, const char *tgt,
                const char *digits, struct row *r)
{
	enum pb_err rc;

	rc = load_row(c, NULL, uid, idem, r);
	if (rc == PB_OK) {
		replay(req, c, r, cur, tgt, digits);
		return 1;
	}
	row_free(r);
	if (rc == PB_ERR_UNAVAILABLE) {
		pb_req_unavailable(req, "database");
		return 1;
	}
	if (rc != PB_ERR_NOTFOUND) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return 1;
	}
	(void)pb_strlcpy(r->idem, idem, sizeof(r->idem));
	return 0;
}

/* The pre-check again, on fresh data, into pc; 0 when answered (KOS). */
static int
change_precheck(struct pb_req *req, struct prod_ctx *c, const char *digits,
                const char *cur, const char *tgt, struct prod_precheck *pc)
{
	struct prod_kos_err ke;
	char code[8], msg[PB_KOS_MESSAGE_MAX];
	cJSON *cust = NULL, *cat = NULL;
	enum pb_err rc;
	int ok = 0;

	rc = prod_customer(c, digits, 1, &cust, code, sizeof(code), msg,
	                   sizeof(msg), &ke);
	if (rc == PB_ERR_NOTFOUND) {
		prod_not_found(req, code, msg);
	} else if (rc != PB_OK || prod_catalog(c, &cat, &ke) != PB_OK) {
		prod_kos_failed(req, &ke);
	} else {
		prod_run_precheck(cust, cat, cur, tgt, pc);
		ok = 1;
	}
	cJSON_Delete(cat);
	cJSON_Delete(cust);
	return ok;
}

/* The new row's fields from the request and the pre-check. */
static void
row_fill(struct row *r, const struct pb_principal *p, const char *digits,
         const char *cur, const char *tgt, const struct prod_precheck *pc)
{
	(void)pb_strlcpy(r->user, p->s.user_id, sizeof(r->user));
	(void)pb_strlcpy(r->customer, p->s.customer_id, sizeof(r->customer));
	(void)pb_strlcpy(r->digits, digits, sizeof(r->digits));
	(void)pb_strlcpy(r->cur, cur, sizeof(r->cur));
	(void)pb_strlcpy(r->tgt, tgt, sizeof(r->tgt));
	(void)pb_strlcpy(r->cur_name, pc->current_name, sizeof(r->cur_name));
	(void)pb_strlcpy(r->tgt_name, pc->target_name, sizeof(r->tgt_name));
}

/* The pre-check refused the change: a FAILED row, answered. */
static void
change_refused(struct pb_req *req, struct prod_ctx *c, struct row *r,
               const struct prod_precheck *pc)
{
	cJSON *pj = prod_precheck_json(pc);

	finalize(c, r, "FAILED", NULL, pc->reason, "PRECHECK_FAILED", NULL,
	         NULL, pj, NULL, 1);
	answer_row(req, r);
	cJSON_Delete(pj);
}

/* The REQUESTED row (no row, no change); 0 when answered (a racing
 * request with the same key, or the database away). */
static int
change_start(struct pb_req *req, struct prod_ctx *c, struct row *r,
             const char *uid, const char *idem)
{
	enum pb_err rc;

	rc = insert_requested(c, r);
	if (rc == PB_ERR_DUPLICATE && idem != NULL) {
		/* the same key raced us: answer what it became */
		row_free(r);
		if (load_row(c, NULL, uid, idem, r) == PB_OK)
			answer_row(req, r);
		else
			pb_req_unavailable(req, "database");
		return 0;
	}
	if (rc != PB_OK) {
		pb_req_unavailable(req, "database");
		return 0;
	}
	(void)pb_strlcpy(r->status, "REQUESTED", sizeof(r->status));
	r->requested_at[0] = 'x'; /* the row exists: keep its time */
	return 1;
}

void
prod_change(struct pb_req *req)
{
	struct pb_principal p;
	struct prod_ctx c;
	struct prod_precheck pc;
	struct pb_kos_result res;
	struct row r;
	char digits[12];
	const char *cur, *tgt, *idem;
	cJSON *root = NULL;
	enum outcome out;

	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	if (pb_authz_require(req, PB_PERM_PRODUCT_CHANGE, &p) != PB_OK)
		return;
	idem = pb_req_param(req, "HTTP_IDEMPOTENCY_KEY");
	if (idem != NULL && !idem_valid(idem)) {
		pb_req_error(
		    req, 400, "VALIDATION_ERROR", NULL,
		    "Idempotency-Key: 1-128 printable ASCII characters", NULL);
		return;
	}
	root = prod_change_body(req, &p, 1, &cur, &tgt, digits);
	if (root == NULL)
		return;
	prod_ctx_init(&c, req);
	if ((idem != NULL && change_replayed(req, &c, p.s.user_id, idem, cur,
	                                     tgt, digits, &r)) ||
	    !change_precheck(req, &c, digits, cur, tgt, &pc))
		goto out;
	if (change_request_id(c.app, p.s.user_id, idem, r.rid, sizeof(r.rid)) !=
	    PB_OK) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	row_fill(&r, &p, digits, cur, tgt, &pc);
	if (!pc.ok) {
		if (idem == NULL ||
		    !raced(req, &c, p.s.user_id, idem, cur, tgt, digits))
			change_refused(req, &c, &r, &pc);
		goto out;
	}
	if (!change_start(req, &c, &r, p.s.user_id, idem))
		goto out;
	out = attempt(&c, &r, &res);
	answer_outcome(req, &r, out, &res);
out:
	pb_kos_result_free(&res);
	row_free(&r);
	cJSON_Delete(root);
}

/* --- GET /products/change/{requestId}
 * ------------------------------------------- */

void
prod_change_status(struct pb_req *req)
{
	const char *rid = pb_req_path_param(req, "requestId");
	struct pb_principal p;
	struct prod_ctx c;
	struct pb_kos_result res;
	struct row r;
	char ts[PB_CLOCK_RFC3339_LEN], line[16];
	cJSON *d = NULL;
	enum pb_err rc;

	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	if (pb_authz_require(req, PB_PERM_PRODUCT_CHANGE, &p) != PB_OK)
		return;
	if (rid == NULL || !pb_req_id_valid(rid)) {
		pb_req_error(req, 404, "NOT_FOUND", NULL, "no such requestId",
		             NULL);
		return;
	}
	prod_ctx_init(&c, req);
	rc = load_row(&c, rid, NULL, NULL, &r);
	if (rc == PB_ERR_UNAVAILABLE) {
		pb_req_unavailable(req, "database");
		goto out;
	}
	if (rc != PB_OK || !pb_crypto_str_eq(r.user, p.s.user_id)) {
		pb_req_error(req, 404, "NOT_FOUND", NULL, "no such requestId",
		             NULL);
		goto out;
	}
	/* an unknown outcome: ask KOS now (unless someone else is) */
	if (strcmp(r.status, "REQUESTED") == 0 && claim_pending(&c, r.rid, 0))
		(void)attempt(&c, &r, &res);
	d = cJSON_CreateObject();
	if (d == NULL ||
	    pb_authz_line_format(r.digits, line, sizeof(line)) != PB_OK ||
	    cJSON_AddStringToObject(d, "requestId", r.rid) == NULL ||
	    cJSON_AddStringToObject(d, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(d, "processStatus",
	                            strcmp(r.status, "REQUESTED") == 0
	                                ? "PROCESSING"
	                                : r.status) == NULL ||
	    cJSON_AddStringToObject(d, "currentProductCode", r.cur) == NULL ||
	    !add_opt(d, "currentProductName", r.cur_name) ||
	    cJSON_AddStringToObject(d, "targetProductCode", r.tgt) == NULL ||
	    !add_opt(d, "targetProductName", r.tgt_name) ||
	    !add_opt(d, "resultCode", r.result_code) ||
	    !add_opt(d, "resultMessage", r.result_message) ||
	    !add_opt(d, "orderNumber", r.order_no) ||
	    !add_opt(d, "effectiveDate", r.effective))
		goto internal;
	if (r.requested_at[0] != '\0' && r.requested_at[0] != 'x' &&
	    pb_listing_rfc3339(r.requested_at, req->app->tz_offset_min, ts,
	                       sizeof(ts)) &&
	    cJSON_AddStringToObject(d, "requestedAt", ts) == NULL)
		goto internal;
	if (r.completed_at[0] != '\0' &&
	    pb_listing_rfc3339(r.completed_at, req->app->tz_offset_min, ts,
	                       sizeof(ts)) &&
	    cJSON_AddStringToObject(d, "processedAt", ts) == NULL)
		goto internal;
	if (strcmp(r.status, "FAILED") == 0 &&
	    cJSON_AddStringToObject(
	        d, "failureReason",
	        r.result_message[0] != '\0' ? r.result_message
	        : strcmp(r.error_code, "SERVICE_UNAVAILABLE") == 0
	            ? "KOS 시스템 장애로 변경하지 못했습니다"
	            : "상품변경에 실패했습니다") == NULL)
		goto internal;
	pb_req_ok(req, 200, "상품변경 결과를 조회했습니다", d);
	d = NULL;
	goto out;
internal:
	pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
out:
	cJSON_Delete(d);
	pb_kos_result_free(&res);
	row_free(&r);
}

/* --- the worker
 * -------------------------------------------------------------------- */

struct pending {
	char ids[8][PB_REQ_ID_MAX + 1];
	size_t n;
};

static enum pb_err
pending_cb(void *ud, const struct pb_db_row *row)
{
	struct pending *p = ud;

	if (p->n < 8 && row->ncols >= 1 && row->vals[0] != NULL)
		(void)pb_strlcpy(p->ids[p->n++], row->vals[0],
		                 sizeof(p->ids[0]));
	return PB_OK;
}

void
prod_resolve_pending(struct pb_backoffice *bo)
{
	struct pb_backoffice *svc = bo;
	struct prod_ctx c;
	struct pending pend;
	struct pb_kos_result res;
	struct row r;
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(&pend, 0, sizeof(pend));
	c.app = bo->app;
	c.svc = svc;
	c.redis = bo->wredis;
	c.db = bo->wdb;
	c.kos = bo->wkos;
	c.hist = &bo->whist;
	if (pb_db_query(c.db,
	                "SELECT request_id FROM product_change_history "
	                "WHERE status = 'REQUESTED' AND next_check_at <= "
	                "UTC_TIMESTAMP(3) "
	                "AND (resolving_until IS NULL OR resolving_until <= "
	                "UTC_TIMESTAMP(3)) ORDER BY next_check_at LIMIT 8",
	                NULL, 0, pending_cb, &pend) != PB_OK)
		return;
	for (i = 0; i < pend.n; i++) {
		if (!claim_pending(&c, pend.ids[i], 0))
			continue;
		if (load_row(&c, pend.ids[i], NULL, NULL, &r) == PB_OK &&
		    strcmp(r.status, "REQUESTED") == 0) {
			memset(&res, 0, sizeof(res));
			(void)attempt(&c, &r, &res);
			pb_log_msg(PB_LOG_INFO, "change_resolved", r.rid);
			pb_kos_result_free(&res);
		}
		row_free(&r);
	}
}
