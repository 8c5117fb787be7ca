/*
 * record.c - the bill service's history tables and MVNO outbox.
 *
 * A record (struct bill_hist_rec, filled by handlers.c and summary.c
 * before the answer goes out) crosses the stream as a JSON object:
 * requestId, userId, customerId, line (11 digits), month, status,
 * resultCode, resultMessage, errorCode, summary, requestedAt and
 * completedAt (ms), response (the data we answered, as text), prepared
 * (summary.c: nothing left to prepare) and process {cacheHit, kosCalled,
 * kosTraceId, kosResultCode, kosResultMessage, breakerState, elapsedMs,
 * kosRequestedAt, kosRespondedAt, kosLatencyMs, kosAttempts, kosFailure,
 * stale}.  Those names are the stream's format (version "1"); only
 * bill_hist_rec_encode and bill_hist_rec_decode below know them.  The
 * worker's prepare adds the summary and the MVNO payload; both rows are
 * written in one transaction, and a replay of the same record changes
 * nothing (ON DUPLICATE KEY).
 */
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "bill.h"
#include "clock.h"
#include "crypto.h"
#include "handoff.h"
#include "json.h"
#include "log.h"

/* The inquiry record behind base: the one cast of this kind. */
static const struct bill_hist_rec *
bill_of(const struct pb_history_rec *base)
{
	if (base == NULL || base->spec != &bill_history_spec)
		return NULL;
	return (const struct bill_hist_rec *)(const void *)base;
}

void
bill_hist_rec_init(struct bill_hist_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->base.spec = &bill_history_spec;
}

/* --- the storage form: encode
 * -------------------------------------------------------------------- */

/*
 * s as a JSON string, quotes included, escaped as cJSON would (", \ and
 * the control characters; UTF-8 as it is).  The record is written as text
 * (no cJSON tree to build and print: a third of a cached inquiry's
 * instructions went there, mostly escaping the answer embedded in it).
 */
static enum pb_err
json_str(struct pb_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char out[512]; /* escaped bytes, appended when full */
	size_t n = 0;
	enum pb_err rc = PB_OK;
	unsigned char c;

	out[n++] = '"';
	for (; rc == PB_OK && *s != '\0'; s++) {
		if (n > sizeof(out) - 8) {
			rc = pb_buf_append(b, out, n);
			n = 0;
		}
		c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\') {
			out[n++] = (char)c;
			continue;
		}
		out[n++] = '\\';
		switch (c) {
		case '"':
		case '\\':
			out[n++] = (char)c;
			break;
		case '\n':
			out[n++] = 'n';
			break;
		case '\r':
			out[n++] = 'r';
			break;
		case '\t':
			out[n++] = 't';
			break;
		case '\b':
			out[n++] = 'b';
			break;
		case '\f':
			out[n++] = 'f';
			break;
		default:
			out[n++] = 'u';
			out[n++] = '0';
			out[n++] = '0';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n++] = '"';
	if (rc == PB_OK)
		rc = pb_buf_append(b, out, n);
	return rc;
}

/* ,"name":"value" (escaped) unless value is "" (absent). */
static enum pb_err
json_field(struct pb_buf *b, const char *name, const char *value)
{
	enum pb_err rc;

	if (value == NULL || value[0] == '\0')
		return PB_OK;
	rc = pb_buf_append_str(b, ",\"");
	if (rc == PB_OK)
		rc = pb_buf_append_str(b, name);
	if (rc == PB_OK)
		rc = pb_buf_append_str(b, "\":");
	return rc == PB_OK ? json_str(b, value) : rc;
}

static const char *
tf(int v)
{
	return v ? "true" : "false";
}

/* The "process" object, braces included. */
static enum pb_err
encode_proc(const struct bill_hist_proc *p, struct pb_buf *b)
{
	enum pb_err rc;

	rc = pb_buf_printf(b, ",\"process\":{\"cacheHit\":%s,\"kosCalled\":%s",
	                   tf(p->cache_hit), tf(p->kos_called));
	if (rc == PB_OK)
		rc = json_field(b, "kosTraceId", p->kos_trace_id);
	if (rc == PB_OK)
		rc = json_field(b, "kosResultCode", p->kos_result_code);
	if (rc == PB_OK)
		rc = json_field(b, "kosResultMessage", p->kos_result_message);
	if (rc == PB_OK)
		rc = json_field(b, "breakerState", p->breaker_state);
	if (rc == PB_OK)
		rc =
		    pb_buf_printf(b, ",\"elapsedMs\":%lld,\"kosAttempts\":%lld",
		                  p->elapsed_ms, p->kos_attempts);
	if (rc == PB_OK && p->kos_called)
		rc = pb_buf_printf(b,
		                   ",\"kosRequestedAt\":%" PRId64
		                   ",\"kosRespondedAt\":%" PRId64
		                   ",\"kosLatencyMs\":%lld",
		                   p->kos_requested_at, p->kos_responded_at,
		                   p->kos_latency_ms);
	if (rc == PB_OK)
		rc = json_field(b, "kosFailure", p->kos_failure);
	if (rc == PB_OK)
		rc = pb_buf_printf(b, ",\"stale\":%s}", tf(p->stale));
	return rc;
}

enum pb_err
bill_hist_rec_encode(const struct bill_hist_rec *r, struct pb_buf *b)
{
	enum pb_err rc;

	rc = pb_buf_append_str(b, "{\"requestId\":");
	if (rc == PB_OK)
		rc = json_str(b, r->base.request_id);
	if (rc == PB_OK)
		rc = json_field(b, "userId", r->user_id);
	if (rc == PB_OK)
		rc = json_field(b, "customerId", r->customer_id);
	if (rc == PB_OK)
		rc = json_field(b, "line", r->base.line);
	if (rc == PB_OK)
		rc = json_field(b, "month", r->month);
	if (rc == PB_OK)
		rc = json_field(b, "status", r->status);
	if (rc == PB_OK)
		rc = json_field(b, "resultCode", r->result_code);
	if (rc == PB_OK)
		rc = json_field(b, "resultMessage", r->result_message);
	if (rc == PB_OK)
		rc = json_field(b, "errorCode", r->error_code);
	if (rc == PB_OK)
		rc = json_field(b, "summary", r->summary);
	if (rc == PB_OK)
		rc = json_field(b, "response", r->response);
	if (rc == PB_OK)
		rc = pb_buf_printf(b,
		                   ",\"requestedAt\":%" PRId64
		                   ",\"completedAt\":%" PRId64 "%s",
		                   r->requested_at, r->completed_at,
		                   r->prepared ? ",\"prepared\":true" : "");
	if (rc == PB_OK)
		rc = encode_proc(&r->proc, b);
	if (rc == PB_OK)
		rc = pb_buf_append_char(b, '}');
	return rc;
}

/* --- the storage form: decode
 * -------------------------------------------------------------------- */

/* A flag (absent: 0). */
static enum pb_err
get_flag(const cJSON *o, const char *name, int *out, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = cJSON_IsTrue(v);
	if (v == NULL || cJSON_IsBool(v) || cJSON_IsNull(v))
		return PB_OK;
	snprintf(why, PB_HISTORY_WHY_MAX, "%s: not a boolean", name);
	return PB_ERR_INVAL;
}

static enum pb_err
decode_proc(const cJSON *o, struct bill_hist_proc *p, char *why)
{
	long long t1 = 0, t2 = 0;
	enum pb_err rc;

	rc = get_flag(o, "cacheHit", &p->cache_hit, why);
	if (rc == PB_OK)
		rc = get_flag(o, "kosCalled", &p->kos_called, why);
	if (rc == PB_OK)
		rc = get_flag(o, "stale", &p->stale, why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "kosTraceId", 0, p->kos_trace_id,
		                        sizeof(p->kos_trace_id), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "kosResultCode", 0,
		                        p->kos_result_code,
		                        sizeof(p->kos_result_code), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "kosResultMessage", 0,
		                        p->kos_result_message,
		                        sizeof(p->kos_result_message), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "breakerState", 0, p->breaker_state,
		                        sizeof(p->breaker_state), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "kosFailure", 0, p->kos_failure,
		                        sizeof(p->kos_failure), why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "elapsedMs", &p->elapsed_ms, why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "kosLatencyMs", &p->kos_latency_ms,
		                        why);
	if (rc == PB_OK)
		rc =
		    pb_history_get_int(o, "kosAttempts", &p->kos_attempts, why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "kosRequestedAt", &t1, why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "kosRespondedAt", &t2, why);
	p->kos_requested_at = t1;
	p->kos_responded_at = t2;
	return rc;
}

/* The identity of the inquiry: who, which line and month, what came of
 * it. */
static const struct pb_history_str head_strs[] = {
    PB_HISTORY_STR(struct bill_hist_rec, "requestId", base.request_id, 1),
    PB_HISTORY_STR(struct bill_hist_rec, "userId", user_id, 1),
    PB_HISTORY_STR(struct bill_hist_rec, "customerId", customer_id, 0),
    PB_HISTORY_STR(struct bill_hist_rec, "line", base.line, 1),
    PB_HISTORY_STR(struct bill_hist_rec, "month", month, 1),
    PB_HISTORY_STR(struct bill_hist_rec, "status", status, 1)};

static enum pb_err
decode_head(const cJSON *o, struct bill_hist_rec *r, char *why)
{
	enum pb_err rc = pb_history_get_strs(
	    o, r, head_strs, sizeof(head_strs) / sizeof(head_strs[0]), why);

	return rc == PB_OK ? pb_history_line_ok(r->base.line, why) : rc;
}

static enum pb_err
decode_fields(const cJSON *o, void *rec, char *why)
{
	struct bill_hist_rec *r = rec;
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(o, "process");
	long long t1 = 0, t2 = 0;
	enum pb_err rc;

	rc = decode_head(o, r, why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "resultCode", 0, r->result_code,
		                        sizeof(r->result_code), why);
	if (rc == PB_OK)
		rc =
		    pb_history_get_str(o, "resultMessage", 0, r->result_message,
		                       sizeof(r->result_message), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "errorCode", 0, r->error_code,
		                        sizeof(r->error_code), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "summary", 0, r->summary,
		                        sizeof(r->summary), why);
	if (rc == PB_OK)
		rc = get_flag(o, "prepared", &r->prepared, why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "requestedAt", &t1, why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "completedAt", &t2, why);
	if (rc == PB_OK && t1 <= 0) {
		(void)pb_strlcpy(why, "requestedAt: missing or not positive",
		                 PB_HISTORY_WHY_MAX);
		rc = PB_ERR_INVAL;
	}
	r->requested_at = t1;
	r->completed_at = t2;
	if (rc == PB_OK && !cJSON_IsObject(proc)) {
		(void)pb_strlcpy(why, "process: missing or not an object",
		                 PB_HISTORY_WHY_MAX);
		rc = PB_ERR_INVAL;
	}
	return rc == PB_OK ? decode_proc(proc, &r->proc, why) : rc;
}

enum pb_err
bill_hist_rec_decode(const char *json, size_t len, struct bill_hist_rec **out,
                     char *why)
{
	void *rec = NULL;
	enum pb_err rc = pb_history_decode_block(
	    json, len, &bill_history_spec, sizeof(**out),
	    offsetof(struct bill_hist_rec, response), decode_fields, &rec, why);

	*out = rec;
	return rc;
}

static enum pb_err
encode(const struct pb_history_rec *base, char **out, size_t *outlen)
{
	const struct bill_hist_rec *r = bill_of(base);
	struct pb_buf b;
	enum pb_err rc;

	*out = NULL;
	*outlen = 0;
	if (r == NULL)
		return PB_ERR_INVAL;
	pb_buf_init(&b, PB_HANDOFF_REC_MAX);
	rc = bill_hist_rec_encode(r, &b);
	if (rc == PB_OK) {
		*outlen = b.len;
		*out = pb_buf_steal(&b);
		if (*out == NULL)
			rc = PB_ERR_NOMEM;
	}
	pb_buf_free(&b);
	return rc;
}

PB_HISTORY_ADAPTERS(struct bill_hist_rec, bill_of, bill_hist_rec_decode)

/* --- the worker's side: prepare and apply
 * -------------------------------------------------------------------- */

static const char insert_request[] =
    "INSERT INTO bill_request_history (request_id, user_id, customer_id, "
    "line_number_enc, line_number_bidx, billing_month, status, "
    "result_code, result_message, error_code, result_summary, "
    "response_json, requested_at, completed_at, mvno_payload_enc, "
    "mvno_next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "IF(? = 1, DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 30 SECOND), NULL)) "
    "ON DUPLICATE KEY UPDATE id = id";

static const char insert_process[] =
    "INSERT INTO bill_process_history (request_id, cache_hit, kos_called, "
    "kos_trace_id, kos_result_code, kos_result_message, breaker_state, "
    "status, elapsed_ms, error_code, kos_requested_at, kos_responded_at, "
    "kos_latency_ms, kos_attempts, kos_failure, stale_served) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE id = id";

static struct pb_db_param
opt_str(const char *v)
{
	return v != NULL && v[0] != '\0' ? PB_DB_P_STR(v) : PB_DB_P_NULL;
}

/* A DATETIME(3) parameter from ms (0: NULL); buf keeps the text. */
static struct pb_db_param
opt_time(long long ms, char *buf, size_t buflen)
{
	if (ms <= 0)
		return PB_DB_P_NULL;
	pb_history_sqltime(ms, buf, buflen);
	return PB_DB_P_STR(buf);
}

/* The MVNO AP payload (text) of an inquiry record; info (may be NULL) is
 * the BillInfo answered. */
static char *
mvno_payload(const struct bill_hist_rec *r, const cJSON *info)
{
	const char *code =
	    r->result_code[0] != '\0' ? r->result_code : r->error_code;
	char ts[PB_CLOCK_RFC3339_LEN], line[16];
	cJSON *o = cJSON_CreateObject(), *bi = NULL;
	char *text = NULL;

	(void)pb_clock_rfc3339(r->completed_at, 0, ts, sizeof(ts));
	if (pb_authz_line_format(r->base.line, line, sizeof(line)) != PB_OK)
		goto out;
	if (o == NULL ||
	    cJSON_AddStringToObject(o, "eventType", "BILL_INQUIRY") == NULL ||
	    cJSON_AddStringToObject(o, "requestId", r->base.request_id) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "customerId", r->customer_id) == NULL ||
	    cJSON_AddStringToObject(o, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(o, "billingMonth", r->month) == NULL ||
	    cJSON_AddStringToObject(o, "status", r->status) == NULL ||
	    cJSON_AddStringToObject(o, "resultCode", code) == NULL ||
	    cJSON_AddStringToObject(o, "processedAt", ts) == NULL)
		goto out;
	bi = info != NULL ? cJSON_Duplicate(info, 1) : cJSON_CreateNull();
	if (bi == NULL || !cJSON_AddItemToObject(o, "billInfo", bi))
		goto out;
	bi = NULL;
	text = pb_json_print(o);
out:
	cJSON_Delete(bi);
	cJSON_Delete(o);
	return text;
}

/* In phonebill-worker, before the rows are written: the result summary
 * and the MVNO payload (work the request thread need not do). */
static void
prepare(struct pb_history *h, struct pb_history_rec *base)
{
	struct bill_hist_rec *r =
	    bill_of(base) != NULL ? (struct bill_hist_rec *)(void *)base : NULL;
	const cJSON *info = NULL;
	cJSON *data = NULL;

	if (r == NULL || r->prepared)
		return;
	if (r->response != NULL &&
	    pb_json_parse(r->response, strlen(r->response), PB_JSON_MAX_DEPTH,
	                  &data, NULL) == PB_OK) {
		info = cJSON_GetObjectItemCaseSensitive(data, "billInfo");
		if (cJSON_IsObject(info))
			bill_info_summary(info, r->summary, sizeof(r->summary));
		else
			info = NULL;
	}
	if (h->mvno_on && base->mvno == NULL) {
		base->mvno = mvno_payload(r, info);
		if (base->mvno == NULL)
			pb_log_msg(PB_LOG_ERROR, "mvno_payload_failed",
			           base->request_id);
	}
	r->prepared = 1;
	cJSON_Delete(data);
}

/* One record's parameters for both rows, with the buffers they point to. */
struct bill_row {
	unsigned char bidx[PB_CRYPTO_INDEX_LEN];
	unsigned char *lenc, *penc;
	size_t llen, plen;
	char t1[PB_HISTORY_SQLTIME_LEN], t2[PB_HISTORY_SQLTIME_LEN];
	char t3[PB_HISTORY_SQLTIME_LEN], t4[PB_HISTORY_SQLTIME_LEN];
	struct pb_db_param req[16], proc[16];
};

static void
row_free(struct bill_row *r)
{
	free(r->lenc);
	free(r->penc);
	r->lenc = r->penc = NULL;
}

static void
fill_process(struct bill_row *w, const struct bill_hist_rec *r)
{
	const struct bill_hist_proc *pr = &r->proc;
	struct pb_db_param *p = w->proc;

	p[0] = PB_DB_P_STR(r->base.request_id);
	p[1] = PB_DB_P_INT(pr->cache_hit);
	p[2] = PB_DB_P_INT(pr->kos_called);
	p[3] = opt_str(pr->kos_trace_id);
	p[4] = opt_str(pr->kos_result_code);
	p[5] = opt_str(pr->kos_result_message);
	p[6] = opt_str(pr->breaker_state);
	p[7] = PB_DB_P_STR(r->status);
	p[8] = PB_DB_P_INT(pr->elapsed_ms);
	p[9] = opt_str(r->error_code);
	p[10] = opt_time(pr->kos_requested_at, w->t3, sizeof(w->t3));
	p[11] = opt_time(pr->kos_responded_at, w->t4, sizeof(w->t4));
	p[12] = pr->kos_called ? PB_DB_P_INT(pr->kos_latency_ms) : PB_DB_P_NULL;
	p[13] = PB_DB_P_INT(pr->kos_attempts);
	p[14] = opt_str(pr->kos_failure);
	p[15] = PB_DB_P_INT(pr->stale);
}

/* Fill w from record r (caller frees with row_free). */
static enum pb_err
fill(struct pb_history *h, const struct pb_history_rec *base,
     struct bill_row *w)
{
	const struct bill_hist_rec *r = bill_of(base);
	struct pb_db_param *p = w->req;
	enum pb_err rc;

	memset(w, 0, sizeof(*w));
	if (r == NULL)
		return PB_ERR_INVAL;
	rc = pb_history_seal(h, r->base.line, 11, &w->lenc, &w->llen);
	if (rc == PB_OK && r->base.mvno != NULL)
		rc = pb_history_seal(h, r->base.mvno, strlen(r->base.mvno),
		                     &w->penc, &w->plen);
	if (rc != PB_OK)
		return rc;
	pb_history_line_index(h, r->base.line, w->bidx);
	p[0] = PB_DB_P_STR(r->base.request_id);
	p[1] = PB_DB_P_STR(r->user_id);
	p[2] = PB_DB_P_STR(r->customer_id);
	p[3] = PB_DB_P_BIN(w->lenc, w->llen);
	p[4] = PB_DB_P_BIN(w->bidx, sizeof(w->bidx));
	p[5] = PB_DB_P_STR(r->month);
	p[6] = PB_DB_P_STR(r->status);
	p[7] = opt_str(r->result_code);
	p[8] = opt_str(r->result_message);
	p[9] = opt_str(r->error_code);
	p[10] = opt_str(r->summary);
	p[11] = opt_str(r->response);
	p[12] = opt_time(r->requested_at, w->t1, sizeof(w->t1));
	p[13] = opt_time(r->completed_at, w->t2, sizeof(w->t2));
	p[14] = w->penc != NULL ? PB_DB_P_BIN(w->penc, w->plen) : PB_DB_P_NULL;
	p[15] = PB_DB_P_INT(w->penc != NULL ? 1 : 0);
	fill_process(w, r);
	return PB_OK;
}

static enum pb_err
apply(struct pb_history *h, struct pb_db *db, const struct pb_history_rec *rec)
{
	struct bill_row r;
	enum pb_err rc;

	rc = fill(h, rec, &r);
	/* the caller's transaction holds both rows */
	if (rc == PB_OK)
		rc = pb_db_exec(db, insert_request, r.req, 16, NULL, NULL);
	if (rc == PB_OK)
		rc = pb_db_exec(db, insert_process, r.proc, 16, NULL, NULL);
	row_free(&r);
	return rc;
}

/*
 * BILL_MANY records in two statements (one per table), padded with the
 * first record again (a repeated row is a duplicate key: a no-op).  The
 * worker's batches go through here: 2 round trips per 8 records, not 16.
 */
#define BILL_MANY 8
#define T16                                                                    \
	"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "                       \
	"IF(? = 1, DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 30 SECOND), NULL))"
#define P16 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define X4(t) t ", " t ", " t ", " t

static const char insert_request_many[] =
    "INSERT INTO bill_request_history (request_id, user_id, customer_id, "
    "line_number_enc, line_number_bidx, billing_month, status, "
    "result_code, result_message, error_code, result_summary, "
    "response_json, requested_at, completed_at, mvno_payload_enc, "
    "mvno_next_at) VALUES " X4(T16) ", " X4(
        T16) " ON DUPLICATE KEY UPDATE id = id";

static const char insert_process_many[] =
    "INSERT INTO bill_process_history (request_id, cache_hit, kos_called, "
    "kos_trace_id, kos_result_code, kos_result_message, breaker_state, "
    "status, elapsed_ms, error_code, kos_requested_at, kos_responded_at, "
    "kos_latency_ms, kos_attempts, kos_failure, stale_served) VALUES " X4(
        P16) ", " X4(P16) " ON DUPLICATE KEY UPDATE id = id";

static enum pb_err
apply_chunk(struct pb_history *h, struct pb_db *db,
            const struct pb_history_rec *const *recs, size_t n)
{
	struct bill_row r[BILL_MANY];
	struct pb_db_param p[BILL_MANY * 16];
	size_t i, filled = 0;
	enum pb_err rc = PB_OK;

	for (i = 0; rc == PB_OK && i < n; i++) {
		rc = fill(h, recs[i], &r[i]);
		if (rc == PB_OK)
			filled++;
	}
	if (rc != PB_OK)
		goto out;
	for (i = 0; i < BILL_MANY; i++)
		memcpy(&p[i * 16], r[i < n ? i : 0].req, sizeof(r[0].req));
	rc = pb_db_exec(db, insert_request_many, p, BILL_MANY * 16, NULL, NULL);
	for (i = 0; rc == PB_OK && i < BILL_MANY; i++)
		memcpy(&p[i * 16], r[i < n ? i : 0].proc, sizeof(r[0].proc));
	if (rc == PB_OK)
		rc = pb_db_exec(db, insert_process_many, p, BILL_MANY * 16,
		                NULL, NULL);
out:
	for (i = 0; i < filled; i++)
		row_free(&r[i]);
	return rc;
}

static enum pb_err
apply_many(struct pb_history *h, struct pb_db *db,
           const struct pb_history_rec *const *recs, size_t n)
{
	enum pb_err rc = PB_OK;
	size_t i, k;

	for (i = 0; rc == PB_OK && i < n; i += k) {
		k = n - i < BILL_MANY ? n - i : BILL_MANY;
		rc = apply_chunk(h, db, recs + i, k);
	}
	return rc;
}

const struct pb_history_spec bill_history_spec = {
    .kind = "bill.inquiry",
    .encode = encode,
    .decode = decode,
    .rec_free = rec_free,
    .prepare = prepare,
    .apply = apply,
    .apply_many = apply_many,
    PB_HISTORY_OUTBOX("bill_request_history"),
};
