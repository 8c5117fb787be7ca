/*
 * record.c - the bill service's history tables and MVNO outbox.
 *
 * A record (built by handlers.c after the answer went out) is a JSON
 * object: requestId, userId, customerId, line (11 digits), month, status,
 * resultCode, resultMessage, errorCode, summary, requestedAt and
 * completedAt (ms), response (the data we answered, as text), mvno (the
 * payload for the MVNO AP, as text, or absent) and process {cacheHit,
 * kosCalled, kosTraceId, kosResultCode, kosResultMessage, breakerState,
 * elapsedMs, kosRequestedAt, kosRespondedAt, kosLatencyMs, kosAttempts,
 * kosFailure, stale}.  Both rows are written in one transaction, and a
 * replay of the same record changes nothing (ON DUPLICATE KEY).
 */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "authz.h"
#include "bill.h"
#include "clock.h"
#include "log.h"
#include "crypto.h"
#include "json.h"

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

static const char *
str(const cJSON *o, const char *name)
{
	return pb_json_get_string(o, name);
}

static long long
num(const cJSON *o, const char *name)
{
	long long v = 0;

	(void)pb_json_get_int(o, name, &v);
	return v;
}

static int
flag(const cJSON *o, const char *name)
{
	int v = 0;

	(void)pb_json_get_bool(o, name, &v);
	return v;
}

static struct pb_db_param
opt_str(const cJSON *o, const char *name)
{
	const char *v = str(o, name);

	return v != NULL ? PB_DB_P_STR(v) : PB_DB_P_NULL;
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
mvno_payload(const cJSON *rec, const cJSON *info)
{
	const char *code = pb_json_get_string(rec, "resultCode");
	char ts[PB_CLOCK_RFC3339_LEN], line[16];
	cJSON *o = cJSON_CreateObject(), *bi = NULL;
	long long done = 0;
	char *text = NULL;

	(void)pb_json_get_int(rec, "completedAt", &done);
	(void)pb_clock_rfc3339(done, 0, ts, sizeof(ts));
	if (code == NULL)
		code = pb_json_get_string(rec, "errorCode");
	if (pb_authz_line_format(pb_json_get_string(rec, "line"), line,
	                         sizeof(line)) != PB_OK)
		goto out;
	if (o == NULL ||
	    cJSON_AddStringToObject(o, "eventType", "BILL_INQUIRY") == NULL ||
	    cJSON_AddStringToObject(
	        o, "requestId", pb_json_get_string(rec, "requestId")) == NULL ||
	    cJSON_AddStringToObject(o, "customerId",
	                            pb_json_get_string(rec, "customerId")) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(o, "billingMonth",
	                            pb_json_get_string(rec, "month")) == NULL ||
	    cJSON_AddStringToObject(
	        o, "status", pb_json_get_string(rec, "status")) == NULL ||
	    cJSON_AddStringToObject(o, "resultCode",
	                            code != NULL ? code : "") == NULL ||
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
void
bill_prepare(struct pb_history *h, cJSON *rec)
{
	const char *resp = pb_json_get_string(rec, "response");
	const cJSON *info = NULL;
	char summary[BILL_SUMMARY_MAX], *mv = NULL;
	cJSON *data = NULL;

	if (cJSON_GetObjectItemCaseSensitive(rec, "prepared") != NULL)
		return;

	if (resp != NULL && pb_json_parse(resp, strlen(resp), PB_JSON_MAX_DEPTH,
	                                  &data, NULL) == PB_OK) {
		info = cJSON_GetObjectItemCaseSensitive(data, "billInfo");
		if (cJSON_IsObject(info)) {
			bill_info_summary(info, summary, sizeof(summary));
			(void)cJSON_AddStringToObject(rec, "summary", summary);
		} else {
			info = NULL;
		}
	}
	if (h->mvno_on) {
		mv = mvno_payload(rec, info);
		if (mv == NULL ||
		    cJSON_AddStringToObject(rec, "mvno", mv) == NULL)
			pb_log_msg(PB_LOG_ERROR, "mvno_payload_failed",
			           pb_json_get_string(rec, "requestId"));
	}
	(void)cJSON_AddTrueToObject(rec, "prepared");
	free(mv);
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
fill_process(struct bill_row *r, const cJSON *rec, const cJSON *proc)
{
	struct pb_db_param *p = r->proc;

	p[0] = PB_DB_P_STR(str(rec, "requestId"));
	p[1] = PB_DB_P_INT(flag(proc, "cacheHit"));
	p[2] = PB_DB_P_INT(flag(proc, "kosCalled"));
	p[3] = opt_str(proc, "kosTraceId");
	p[4] = opt_str(proc, "kosResultCode");
	p[5] = opt_str(proc, "kosResultMessage");
	p[6] = opt_str(proc, "breakerState");
	p[7] = PB_DB_P_STR(str(rec, "status"));
	p[8] = PB_DB_P_INT(num(proc, "elapsedMs"));
	p[9] = opt_str(rec, "errorCode");
	p[10] = opt_time(num(proc, "kosRequestedAt"), r->t3, sizeof(r->t3));
	p[11] = opt_time(num(proc, "kosRespondedAt"), r->t4, sizeof(r->t4));
	p[12] = flag(proc, "kosCalled") ? PB_DB_P_INT(num(proc, "kosLatencyMs"))
	                                : PB_DB_P_NULL;
	p[13] = PB_DB_P_INT(num(proc, "kosAttempts"));
	p[14] = opt_str(proc, "kosFailure");
	p[15] = PB_DB_P_INT(flag(proc, "stale"));
}

/* Check rec and fill r (caller frees with row_free). */
static enum pb_err
fill(struct pb_history *h, const cJSON *rec, struct bill_row *r)
{
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(rec, "process");
	const char *line = str(rec, "line"), *mvno = str(rec, "mvno");
	struct pb_db_param *p = r->req;
	enum pb_err rc;

	memset(r, 0, sizeof(*r));
	if (str(rec, "requestId") == NULL || str(rec, "userId") == NULL ||
	    line == NULL || strlen(line) != 11 || str(rec, "month") == NULL ||
	    str(rec, "status") == NULL || !cJSON_IsObject(proc) ||
	    num(rec, "requestedAt") <= 0)
		return PB_ERR_INVAL;
	rc = pb_history_seal(h, line, 11, &r->lenc, &r->llen);
	if (rc == PB_OK && mvno != NULL)
		rc = pb_history_seal(h, mvno, strlen(mvno), &r->penc, &r->plen);
	if (rc != PB_OK)
		return rc;
	pb_history_line_index(h, line, r->bidx);
	p[0] = PB_DB_P_STR(str(rec, "requestId"));
	p[1] = PB_DB_P_STR(str(rec, "userId"));
	p[2] = str(rec, "customerId") != NULL
	           ? PB_DB_P_STR(str(rec, "customerId"))
	           : PB_DB_P_STR("");
	p[3] = PB_DB_P_BIN(r->lenc, r->llen);
	p[4] = PB_DB_P_BIN(r->bidx, sizeof(r->bidx));
	p[5] = PB_DB_P_STR(str(rec, "month"));
	p[6] = PB_DB_P_STR(str(rec, "status"));
	p[7] = opt_str(rec, "resultCode");
	p[8] = opt_str(rec, "resultMessage");
	p[9] = opt_str(rec, "errorCode");
	p[10] = opt_str(rec, "summary");
	p[11] = opt_str(rec, "response");
	p[12] = opt_time(num(rec, "requestedAt"), r->t1, sizeof(r->t1));
	p[13] = opt_time(num(rec, "completedAt"), r->t2, sizeof(r->t2));
	p[14] = r->penc != NULL ? PB_DB_P_BIN(r->penc, r->plen) : PB_DB_P_NULL;
	p[15] = PB_DB_P_INT(r->penc != NULL ? 1 : 0);
	fill_process(r, rec, proc);
	return PB_OK;
}

static enum pb_err
apply(struct pb_history *h, struct pb_db *db, const cJSON *rec)
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
apply_chunk(struct pb_history *h, struct pb_db *db, const cJSON *const *recs,
            size_t n)
{
	struct bill_row r[BILL_MANY];
	struct pb_db_param p[BILL_MANY * 16];
	size_t i, filled = 0;
	enum pb_err rc = PB_OK;

	for (i = 0; rc == PB_OK && i < n; i++)
		if ((rc = fill(h, recs[i], &r[i])) == PB_OK)
			filled++;
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
apply_many(struct pb_history *h, struct pb_db *db, const cJSON *const *recs,
           size_t n)
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
    .prepare = bill_prepare,
    .apply = apply,
    .apply_many = apply_many,
    PB_HISTORY_OUTBOX("bill_request_history"),
};
