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
	    cJSON_AddStringToObject(o, "requestId",
	    pb_json_get_string(rec, "requestId")) == NULL ||
	    cJSON_AddStringToObject(o, "customerId",
	    pb_json_get_string(rec, "customerId")) == NULL ||
	    cJSON_AddStringToObject(o, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(o, "billingMonth",
	    pb_json_get_string(rec, "month")) == NULL ||
	    cJSON_AddStringToObject(o, "status",
	    pb_json_get_string(rec, "status")) == NULL ||
	    cJSON_AddStringToObject(o, "resultCode", code != NULL ? code : "") ==
	    NULL ||
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

	if (resp != NULL &&
	    pb_json_parse(resp, strlen(resp), PB_JSON_MAX_DEPTH, &data, NULL) ==
	    PB_OK) {
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
		if (mv == NULL || cJSON_AddStringToObject(rec, "mvno", mv) == NULL)
			pb_log_msg(PB_LOG_ERROR, "mvno_payload_failed",
			    pb_json_get_string(rec, "requestId"));
	}
	(void)cJSON_AddTrueToObject(rec, "prepared");
	free(mv);
	cJSON_Delete(data);
}

static enum pb_err
apply(struct pb_history *h, struct pb_db *db, const cJSON *rec)
{
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(rec, "process");
	const char *line = str(rec, "line"), *mvno = str(rec, "mvno");
	unsigned char bidx[PB_CRYPTO_INDEX_LEN];
	unsigned char *lenc = NULL, *penc = NULL;
	size_t llen = 0, plen = 0;
	char t1[PB_HISTORY_SQLTIME_LEN], t2[PB_HISTORY_SQLTIME_LEN];
	char t3[PB_HISTORY_SQLTIME_LEN], t4[PB_HISTORY_SQLTIME_LEN];
	struct pb_db_param p[16];
	enum pb_err rc;

	if (str(rec, "requestId") == NULL || str(rec, "userId") == NULL ||
	    line == NULL || strlen(line) != 11 || str(rec, "month") == NULL ||
	    str(rec, "status") == NULL || !cJSON_IsObject(proc))
		return PB_ERR_INVAL;
	rc = pb_history_seal(h, line, 11, &lenc, &llen);
	if (rc == PB_OK && mvno != NULL)
		rc = pb_history_seal(h, mvno, strlen(mvno), &penc, &plen);
	if (rc != PB_OK)
		goto out;
	pb_history_line_index(h, line, bidx);

	p[0] = PB_DB_P_STR(str(rec, "requestId"));
	p[1] = PB_DB_P_STR(str(rec, "userId"));
	p[2] = str(rec, "customerId") != NULL ?
	    PB_DB_P_STR(str(rec, "customerId")) : PB_DB_P_STR("");
	p[3] = PB_DB_P_BIN(lenc, llen);
	p[4] = PB_DB_P_BIN(bidx, sizeof(bidx));
	p[5] = PB_DB_P_STR(str(rec, "month"));
	p[6] = PB_DB_P_STR(str(rec, "status"));
	p[7] = opt_str(rec, "resultCode");
	p[8] = opt_str(rec, "resultMessage");
	p[9] = opt_str(rec, "errorCode");
	p[10] = opt_str(rec, "summary");
	p[11] = opt_str(rec, "response");
	p[12] = opt_time(num(rec, "requestedAt"), t1, sizeof(t1));
	p[13] = opt_time(num(rec, "completedAt"), t2, sizeof(t2));
	p[14] = penc != NULL ? PB_DB_P_BIN(penc, plen) : PB_DB_P_NULL;
	p[15] = PB_DB_P_INT(penc != NULL ? 1 : 0);
	if (p[12].type == PB_DB_NULL) {
		rc = PB_ERR_INVAL;
		goto out;
	}
	/* the caller's transaction holds both rows */
	rc = pb_db_exec(db, insert_request, p, 16, NULL, NULL);
	if (rc == PB_OK) {
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
		p[10] = opt_time(num(proc, "kosRequestedAt"), t3, sizeof(t3));
		p[11] = opt_time(num(proc, "kosRespondedAt"), t4, sizeof(t4));
		p[12] = flag(proc, "kosCalled") ?
		    PB_DB_P_INT(num(proc, "kosLatencyMs")) : PB_DB_P_NULL;
		p[13] = PB_DB_P_INT(num(proc, "kosAttempts"));
		p[14] = opt_str(proc, "kosFailure");
		p[15] = PB_DB_P_INT(flag(proc, "stale"));
		rc = pb_db_exec(db, insert_process, p, 16, NULL, NULL);
	}
out:
	free(lenc);
	free(penc);
	return rc;
}

const struct pb_history_spec bill_history_spec = {
	.kind = "bill.inquiry",
	.prepare = bill_prepare,
	.apply = apply,
	PB_HISTORY_OUTBOX("bill_request_history"),
};
