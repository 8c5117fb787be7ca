/*
 * record.c - the product service's history table and MVNO outbox.
 *
 * A record completes a change row (or writes a whole one for a change
 * refused by the pre-check): requestId, userId, customerId,
 * idempotencyKey, line (11 digits), currentCode/Name, targetCode/Name,
 * status, resultCode, resultMessage, errorCode, orderNo, effectiveDate,
 * response (the data answered, text), requestedAt/completedAt (ms),
 * breakerState, kosAttempts, kosLatencyMs, kosFailure, mvno (payload
 * text).  Only a REQUESTED row is completed, so a replayed record changes
 * nothing; the status column is assigned last because MariaDB evaluates
 * the assignments in order.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "json.h"
#include "product.h"

#define FINAL(c) c " = IF(status = 'REQUESTED', VALUES(" c "), " c ")"

/* One FINAL() per column reads better than the formatter's split. */
/* clang-format off */
static const char upsert[] =
	"INSERT INTO product_change_history (request_id, user_id, customer_id, "
	"idempotency_key, line_number_enc, line_number_bidx, "
	"current_product_code, current_product_name, target_product_code, "
	"target_product_name, status, result_code, result_message, error_code, "
	"kos_order_no, effective_date, response_json, requested_at, "
	"completed_at, breaker_state, kos_attempts, kos_latency_ms, "
	"kos_failure, "
	"mvno_payload_enc, mvno_next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	"IF(? = 1, DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 30 SECOND), NULL)) "
	"ON DUPLICATE KEY UPDATE "
	FINAL("result_code") ", " FINAL("result_message") ", "
	FINAL("error_code") ", " FINAL("kos_order_no") ", "
	FINAL("effective_date") ", " FINAL("response_json") ", "
	FINAL("completed_at") ", " FINAL("breaker_state") ", "
	"kos_attempts = IF(status = 'REQUESTED', kos_attempts + "
	"VALUES(kos_attempts), kos_attempts), "
	FINAL("kos_latency_ms") ", " FINAL("kos_failure") ", "
	FINAL("mvno_payload_enc") ", " FINAL("mvno_next_at") ", "
	"next_check_at = IF(status = 'REQUESTED', NULL, next_check_at), "
	FINAL("status");
/* clang-format on */

static struct pb_db_param
opt(const cJSON *o, const char *name)
{
	const char *v = pb_json_get_string(o, name);

	return v != NULL ? PB_DB_P_STR(v) : PB_DB_P_NULL;
}

static long long
num(const cJSON *o, const char *name)
{
	long long v = 0;

	(void)pb_json_get_int(o, name, &v);
	return v;
}

static enum pb_err
apply(struct pb_history *h, struct pb_db *db, const cJSON *rec)
{
	const char *line = pb_json_get_string(rec, "line");
	const char *mvno = pb_json_get_string(rec, "mvno");
	unsigned char bidx[PB_CRYPTO_INDEX_LEN], *lenc = NULL, *penc = NULL;
	size_t llen = 0, plen = 0;
	char t1[PB_HISTORY_SQLTIME_LEN], t2[PB_HISTORY_SQLTIME_LEN];
	long long done = num(rec, "completedAt"), req = num(rec, "requestedAt");
	struct pb_db_param p[25];
	enum pb_err rc;

	if (pb_json_get_string(rec, "requestId") == NULL ||
	    pb_json_get_string(rec, "userId") == NULL || line == NULL ||
	    strlen(line) != 11 || pb_json_get_string(rec, "status") == NULL ||
	    pb_json_get_string(rec, "currentCode") == NULL ||
	    pb_json_get_string(rec, "targetCode") == NULL || done <= 0)
		return PB_ERR_INVAL;
	rc = pb_history_seal(h, line, 11, &lenc, &llen);
	if (rc == PB_OK && mvno != NULL)
		rc = pb_history_seal(h, mvno, strlen(mvno), &penc, &plen);
	if (rc != PB_OK)
		goto out;
	pb_history_line_index(h, line, bidx);
	pb_history_sqltime(req > 0 ? req : done, t1, sizeof(t1));
	pb_history_sqltime(done, t2, sizeof(t2));
	p[0] = opt(rec, "requestId");
	p[1] = opt(rec, "userId");
	p[2] = pb_json_get_string(rec, "customerId") != NULL
	           ? opt(rec, "customerId")
	           : PB_DB_P_STR("");
	p[3] = opt(rec, "idempotencyKey");
	p[4] = PB_DB_P_BIN(lenc, llen);
	p[5] = PB_DB_P_BIN(bidx, sizeof(bidx));
	p[6] = opt(rec, "currentCode");
	p[7] = opt(rec, "currentName");
	p[8] = opt(rec, "targetCode");
	p[9] = opt(rec, "targetName");
	p[10] = opt(rec, "status");
	p[11] = opt(rec, "resultCode");
	p[12] = opt(rec, "resultMessage");
	p[13] = opt(rec, "errorCode");
	p[14] = opt(rec, "orderNo");
	p[15] = opt(rec, "effectiveDate");
	p[16] = opt(rec, "response");
	p[17] = PB_DB_P_STR(t1);
	p[18] = PB_DB_P_STR(t2);
	p[19] = opt(rec, "breakerState");
	p[20] = PB_DB_P_INT(num(rec, "kosAttempts"));
	p[21] = pb_json_get_string(rec, "kosFailure") != NULL
	            ? PB_DB_P_INT(num(rec, "kosLatencyMs"))
	            : PB_DB_P_NULL;
	p[22] = opt(rec, "kosFailure");
	p[23] = penc != NULL ? PB_DB_P_BIN(penc, plen) : PB_DB_P_NULL;
	p[24] = PB_DB_P_INT(penc != NULL);
	rc = pb_db_exec(db, upsert, p, 25, NULL, NULL);
out:
	free(lenc);
	free(penc);
	return rc;
}

const struct pb_history_spec prod_history_spec = {
    .kind = "product.change",
    .apply = apply,
    PB_HISTORY_OUTBOX("product_change_history"),
};
