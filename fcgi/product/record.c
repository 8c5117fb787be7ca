/*
 * record.c - the product service's history table and MVNO outbox.
 *
 * A record (struct prod_hist_rec) completes a change row (or writes a
 * whole one for a change refused by the pre-check).  It crosses the
 * stream (and the spool) as a JSON object: requestId, userId, customerId,
 * idempotencyKey, line (11 digits), currentCode/Name, targetCode/Name,
 * status, resultCode, resultMessage, errorCode, orderNo, effectiveDate,
 * response (the data answered, text), requestedAt/completedAt (ms),
 * breakerState, kosAttempts, kosLatencyMs, kosFailure, mvno (payload
 * text).  Those names are the stream's format (version "1"); only
 * prod_hist_rec_encode and prod_hist_rec_decode below know them.  Only a
 * REQUESTED row is completed, so a replayed record changes nothing; the
 * status column is assigned last because MariaDB evaluates the
 * assignments in order.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "handoff.h"
#include "json.h"
#include "product.h"

/* The change record behind base: the one cast of this kind. */
static const struct prod_hist_rec *
prod_of(const struct pb_history_rec *base)
{
	if (base == NULL || base->spec != &prod_history_spec)
		return NULL;
	return (const struct prod_hist_rec *)(const void *)base;
}

void
prod_hist_rec_init(struct prod_hist_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->base.spec = &prod_history_spec;
}

/* --- the storage form
 * -------------------------------------------------------------------- */

/* name: v unless v is NULL or "" (absent); 0 when out of memory. */
static int
put(cJSON *o, const char *name, const char *v)
{
	return v == NULL || v[0] == '\0' ||
	       cJSON_AddStringToObject(o, name, v) != NULL;
}

static int
put_num(cJSON *o, const char *name, long long v)
{
	return cJSON_AddNumberToObject(o, name, (double)v) != NULL;
}

/* The last KOS call, when one was made. */
static int
put_kos(cJSON *o, const struct prod_hist_rec *r)
{
	if (r->kos_failure[0] == '\0')
		return 1;
	return put(o, "breakerState", r->breaker_state) &&
	       put_num(o, "kosAttempts", r->kos_attempts) &&
	       put_num(o, "kosLatencyMs", r->kos_latency_ms) &&
	       put(o, "kosFailure", r->kos_failure);
}

enum pb_err
prod_hist_rec_encode(const struct prod_hist_rec *r, char **out, size_t *outlen)
{
	cJSON *o = cJSON_CreateObject();
	enum pb_err rc = PB_ERR_NOMEM;

	*out = NULL;
	*outlen = 0;
	if (o == NULL || !put(o, "requestId", r->base.request_id) ||
	    !put(o, "userId", r->user_id) ||
	    cJSON_AddStringToObject(o, "customerId", r->customer_id) == NULL ||
	    !put(o, "idempotencyKey", r->idem) ||
	    !put(o, "line", r->base.line) ||
	    !put(o, "currentCode", r->current_code) ||
	    !put(o, "currentName", r->current_name) ||
	    !put(o, "targetCode", r->target_code) ||
	    !put(o, "targetName", r->target_name) ||
	    !put(o, "status", r->status) ||
	    !put(o, "resultCode", r->result_code) ||
	    !put(o, "resultMessage", r->result_message) ||
	    !put(o, "errorCode", r->error_code) ||
	    !put(o, "orderNo", r->order_no) ||
	    !put(o, "effectiveDate", r->effective_date) ||
	    !put(o, "response", r->response) || !put(o, "mvno", r->base.mvno) ||
	    !put_num(o, "completedAt", r->completed_at) || !put_kos(o, r) ||
	    (r->requested_at > 0 &&
	     !put_num(o, "requestedAt", r->requested_at)))
		goto out;
	*out = cJSON_PrintUnformatted(o);
	if (*out != NULL) {
		*outlen = strlen(*out);
		rc = PB_OK;
	}
out:
	cJSON_Delete(o);
	return rc;
}

#define S(json, member, required)                                              \
	PB_HISTORY_STR(struct prod_hist_rec, json, member, required)
/* Who, which line, which plans, what came of it. */
static const struct pb_history_str change_strs[] = {
    S("requestId", base.request_id, 1),
    S("userId", user_id, 1),
    S("customerId", customer_id, 0),
    S("idempotencyKey", idem, 0),
    S("line", base.line, 1),
    S("currentCode", current_code, 1),
    S("currentName", current_name, 0),
    S("targetCode", target_code, 1),
    S("targetName", target_name, 0),
    S("status", status, 1)};
/* The outcome: KOS's answer, our error, the order, the KOS call. */
static const struct pb_history_str outcome_strs[] = {
    S("resultCode", result_code, 0),
    S("resultMessage", result_message, 0),
    S("errorCode", error_code, 0),
    S("orderNo", order_no, 0),
    S("effectiveDate", effective_date, 0),
    S("breakerState", breaker_state, 0),
    S("kosFailure", kos_failure, 0)};
#undef S

static enum pb_err
decode_change(const cJSON *o, struct prod_hist_rec *r, char *why)
{
	enum pb_err rc = pb_history_get_strs(
	    o, r, change_strs, sizeof(change_strs) / sizeof(change_strs[0]),
	    why);

	return rc == PB_OK ? pb_history_line_ok(r->base.line, why) : rc;
}

static enum pb_err
decode_outcome(const cJSON *o, struct prod_hist_rec *r, char *why)
{
	long long t1 = 0, t2 = 0;
	enum pb_err rc;

	rc = pb_history_get_strs(o, r, outcome_strs,
	                         sizeof(outcome_strs) / sizeof(outcome_strs[0]),
	                         why);
	if (rc == PB_OK)
		rc =
		    pb_history_get_int(o, "kosAttempts", &r->kos_attempts, why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "kosLatencyMs", &r->kos_latency_ms,
		                        why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "requestedAt", &t1, why);
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "completedAt", &t2, why);
	if (rc == PB_OK && t2 <= 0) {
		(void)pb_strlcpy(why, "completedAt: missing or not positive",
		                 PB_HISTORY_WHY_MAX);
		rc = PB_ERR_INVAL;
	}
	r->requested_at = t1;
	r->completed_at = t2;
	return rc == PB_OK
	           ? pb_history_get_dup(o, "mvno", PB_HISTORY_PAYLOAD_MAX,
	                                &r->base.mvno, why)
	           : rc;
}

/* decode_change, then decode_outcome */
static enum pb_err
decode_fields(const cJSON *o, void *rec, char *why)
{
	enum pb_err rc = decode_change(o, rec, why);

	return rc == PB_OK ? decode_outcome(o, rec, why) : rc;
}

enum pb_err
prod_hist_rec_decode(const char *json, size_t len, struct prod_hist_rec **out,
                     char *why)
{
	void *rec = NULL;
	enum pb_err rc = pb_history_decode_block(
	    json, len, &prod_history_spec, sizeof(**out),
	    offsetof(struct prod_hist_rec, response), decode_fields, &rec, why);

	*out = rec;
	return rc;
}

static enum pb_err
encode(const struct pb_history_rec *base, char **out, size_t *outlen)
{
	const struct prod_hist_rec *r = prod_of(base);

	*out = NULL;
	*outlen = 0;
	return r != NULL ? prod_hist_rec_encode(r, out, outlen) : PB_ERR_INVAL;
}

PB_HISTORY_ADAPTERS(struct prod_hist_rec, prod_of, prod_hist_rec_decode)

/* --- the row
 * -------------------------------------------------------------------- */

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
opt(const char *v)
{
	return v != NULL && v[0] != '\0' ? PB_DB_P_STR(v) : PB_DB_P_NULL;
}

/* The 25 parameters of the upsert; t1, t2 keep the times' text. */
static void
fill(const struct prod_hist_rec *r, struct pb_db_param *p, char *t1, char *t2)
{
	p[0] = PB_DB_P_STR(r->base.request_id);
	p[1] = PB_DB_P_STR(r->user_id);
	p[2] = PB_DB_P_STR(r->customer_id);
	p[3] = opt(r->idem);
	/* p[4], p[5]: the sealed line and its blind index */
	p[6] = PB_DB_P_STR(r->current_code);
	p[7] = opt(r->current_name);
	p[8] = PB_DB_P_STR(r->target_code);
	p[9] = opt(r->target_name);
	p[10] = PB_DB_P_STR(r->status);
	p[11] = opt(r->result_code);
	p[12] = opt(r->result_message);
	p[13] = opt(r->error_code);
	p[14] = opt(r->order_no);
	p[15] = opt(r->effective_date);
	p[16] = opt(r->response);
	pb_history_sqltime(r->requested_at > 0 ? r->requested_at
	                                       : r->completed_at,
	                   t1, PB_HISTORY_SQLTIME_LEN);
	pb_history_sqltime(r->completed_at, t2, PB_HISTORY_SQLTIME_LEN);
	p[17] = PB_DB_P_STR(t1);
	p[18] = PB_DB_P_STR(t2);
	p[19] = opt(r->breaker_state);
	p[20] = PB_DB_P_INT(r->kos_attempts);
	p[21] = r->kos_failure[0] != '\0' ? PB_DB_P_INT(r->kos_latency_ms)
	                                  : PB_DB_P_NULL;
	p[22] = opt(r->kos_failure);
}

static enum pb_err
apply(struct pb_history *h, struct pb_db *db, const struct pb_history_rec *base)
{
	const struct prod_hist_rec *r = prod_of(base);
	unsigned char bidx[PB_CRYPTO_INDEX_LEN], *lenc = NULL, *penc = NULL;
	size_t llen = 0, plen = 0;
	char t1[PB_HISTORY_SQLTIME_LEN], t2[PB_HISTORY_SQLTIME_LEN];
	struct pb_db_param p[25];
	enum pb_err rc;

	if (r == NULL)
		return PB_ERR_INVAL;
	rc = pb_history_seal(h, r->base.line, 11, &lenc, &llen);
	if (rc == PB_OK && r->base.mvno != NULL)
		rc = pb_history_seal(h, r->base.mvno, strlen(r->base.mvno),
		                     &penc, &plen);
	if (rc != PB_OK)
		goto out;
	pb_history_line_index(h, r->base.line, bidx);
	fill(r, p, t1, t2);
	p[4] = PB_DB_P_BIN(lenc, llen);
	p[5] = PB_DB_P_BIN(bidx, sizeof(bidx));
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
    .encode = encode,
    .decode = decode,
    .rec_free = rec_free,
    .apply = apply,
    PB_HISTORY_OUTBOX("product_change_history"),
};
