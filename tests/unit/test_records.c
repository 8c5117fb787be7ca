/*
 * test_records.c - the services' typed history records at the storage
 * boundary (fcgi/{auth,bill,product}/record.c): each record survives
 * encode -> decode unchanged, a record in the format the previous
 * version wrote to the stream still decodes (the stream may hold them
 * when a worker is upgraded), and a malformed record is refused with a
 * reason that names the field.  Writing to MariaDB is covered by the
 * integration tests (test_pipeline).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../fcgi/auth/auth.h"
#include "../../fcgi/bill/bill.h"
#include "../../fcgi/product/product.h"
#include "buf.h"
#include "handoff.h"
#include "tap.h"

/* Decode a string literal into d (the caller's), why. */
#define DEC(fn, lit) fn(lit, sizeof(lit) - 1, &d, why)

/* --- auth.login ---------------------------------------------------------- */

static void
test_login(void)
{
	struct auth_login_rec r, *d = NULL;
	struct pb_history_rec *base = NULL;
	char why[PB_HISTORY_WHY_MAX], *text = NULL;
	size_t len = 0;
	/* as the previous version's handlers.c wrote it (cJSON, key order) */
	static const char old[] =
	    "{\"eventId\":\"0123456789abcdef0123456789abcdef\","
	    "\"requestId\":\"REQ_20261204_abc\",\"userId\":\"demo01\","
	    "\"result\":\"FAILURE\",\"reason\":\"BAD_CREDENTIALS\","
	    "\"client\":\"127.0.0.x\",\"agent\":\"curl/7.88\","
	    "\"at\":1764800000123}";

	auth_login_rec_init(&r);
	(void)pb_strlcpy(r.base.request_id, "REQ_1", sizeof(r.base.request_id));
	(void)pb_strlcpy(r.event_id, "00ff", sizeof(r.event_id));
	(void)pb_strlcpy(r.user_id, "demo01", sizeof(r.user_id));
	(void)pb_strlcpy(r.result, "SUCCESS", sizeof(r.result));
	(void)pb_strlcpy(r.client, "::1:x", sizeof(r.client));
	(void)pb_strlcpy(r.agent, "Mozilla \"5.0\"\n", sizeof(r.agent));
	r.at_ms = 1764800000123LL;
	is_int(auth_login_rec_encode(&r, &text, &len), PB_OK, "login encode");
	ok(text != NULL && len == strlen(text), "login text and length");
	ok(text != NULL && strstr(text, "\"reason\"") == NULL,
	   "no reason: the member is absent");
	is_int(auth_login_rec_decode(text, len, &d, why), PB_OK,
	       "login decode");
	ok(d != NULL && memcmp(d, &r, sizeof(r)) == 0,
	   "login round trip: every field as it was");
	auth_login_spec.rec_free(d ? &d->base : NULL);
	free(text);

	d = NULL;
	is_int(auth_login_rec_decode(old, strlen(old), &d, why), PB_OK,
	       "previous version's login record decodes");
	is_str(d ? d->base.request_id : NULL, "REQ_20261204_abc", "requestId");
	is_str(d ? d->reason : NULL, "BAD_CREDENTIALS", "reason");
	is_str(d ? d->agent : NULL, "curl/7.88", "agent");
	ok(d != NULL && d->at_ms == 1764800000123LL, "at");
	ok(d != NULL && d->base.spec == &auth_login_spec, "kind");
	auth_login_spec.rec_free(d ? &d->base : NULL);

	/* through the spec, as the worker does */
	is_int(auth_login_spec.decode(old, strlen(old), &base, why), PB_OK,
	       "spec decode");
	is_int(bill_history_spec.encode(base, &text, &len), PB_ERR_INVAL,
	       "another kind's encode refuses the record");
	ok(text == NULL, "nothing encoded");
	is_int(auth_login_spec.encode(base, &text, &len), PB_OK, "spec encode");
	free(text);
	bill_history_spec.rec_free(base); /* not its kind: left alone */
	auth_login_spec.rec_free(base);
	auth_login_spec.rec_free(NULL);

	d = NULL;
	is_int(DEC(auth_login_rec_decode, "{\"requestId\":"), PB_ERR_PARSE,
	       "truncated JSON refused");
	is_str(why, "not a JSON object", "why: not JSON");
	is_int(DEC(auth_login_rec_decode, "[1]"), PB_ERR_PARSE,
	       "an array refused");
	is_int(DEC(auth_login_rec_decode,
	           "{\"requestId\":\"R\",\"eventId\":\"e\","
	           "\"result\":\"SUCCESS\",\"at\":1}"),
	       PB_ERR_INVAL, "no userId refused");
	is_str(why, "userId: missing", "why names the field");
	is_int(DEC(auth_login_rec_decode,
	           "{\"requestId\":\"R\",\"eventId\":\"e\",\"userId\":\"u\","
	           "\"result\":\"SUCCESS\",\"at\":\"soon\"}"),
	       PB_ERR_INVAL, "a string for at refused");
	is_str(why, "at: not an integer", "why: at");
	is_int(DEC(auth_login_rec_decode,
	           "{\"requestId\":\"R\",\"eventId\":\"e\",\"userId\":"
	           "\"a-user-id-longer-than-twenty\",\"result\":\"SUCCESS\","
	           "\"at\":1}"),
	       PB_ERR_INVAL, "an overlong userId refused (not cut)");
	is_str(why, "userId: too long", "why: too long");
	ok(d == NULL, "nothing returned on a refusal");
}

/* --- bill.inquiry ---------------------------------------------------------
 */

static void
bill_sample(struct bill_hist_rec *r)
{
	bill_hist_rec_init(r);
	(void)pb_strlcpy(r->base.request_id, "REQ_B",
	                 sizeof(r->base.request_id));
	(void)pb_strlcpy(r->base.line, "01012345678", sizeof(r->base.line));
	(void)pb_strlcpy(r->user_id, "demo01", sizeof(r->user_id));
	(void)pb_strlcpy(r->customer_id, "C-1", sizeof(r->customer_id));
	(void)pb_strlcpy(r->month, "2026-11", sizeof(r->month));
	(void)pb_strlcpy(r->status, "COMPLETED", sizeof(r->status));
	(void)pb_strlcpy(r->result_code, "0000", sizeof(r->result_code));
	(void)pb_strlcpy(r->result_message, "정상 \"처리\"\t",
	                 sizeof(r->result_message));
	r->response = "{\"billInfo\":{\"a\":\"\\u0001\\n\"}}";
	r->requested_at = 1764800000000LL;
	r->completed_at = 1764800000250LL;
	r->proc.cache_hit = 0;
	r->proc.kos_called = 1;
	(void)pb_strlcpy(r->proc.kos_trace_id, "T-1",
	                 sizeof(r->proc.kos_trace_id));
	(void)pb_strlcpy(r->proc.kos_result_code, "0000",
	                 sizeof(r->proc.kos_result_code));
	(void)pb_strlcpy(r->proc.breaker_state, "CLOSED",
	                 sizeof(r->proc.breaker_state));
	(void)pb_strlcpy(r->proc.kos_failure, "none",
	                 sizeof(r->proc.kos_failure));
	r->proc.elapsed_ms = 250;
	r->proc.kos_requested_at = 1764800000010LL;
	r->proc.kos_responded_at = 1764800000200LL;
	r->proc.kos_latency_ms = 190;
	r->proc.kos_attempts = 2;
}

/* Every field but the response pointer (which points into the block). */
static int
bill_same(const struct bill_hist_rec *a, const struct bill_hist_rec *b)
{
	struct bill_hist_rec x = *a, y = *b;
	int same = (x.response == NULL) == (y.response == NULL) &&
	           (x.response == NULL || strcmp(x.response, y.response) == 0);

	x.response = y.response = NULL;
	return same && memcmp(&x, &y, sizeof(x)) == 0;
}

static void
test_bill(void)
{
	struct bill_hist_rec r, *d = NULL;
	struct pb_buf b;
	char why[PB_HISTORY_WHY_MAX];
	/* as the previous version's handlers.c wrote it (record_text) */
	static const char old[] =
	    "{\"requestId\":\"REQ_OLD\",\"userId\":\"demo01\","
	    "\"customerId\":\"C-1\",\"line\":\"01012345678\","
	    "\"month\":\"2026-10\",\"status\":\"FAILED\","
	    "\"errorCode\":\"SERVICE_UNAVAILABLE\",\"requestedAt\":"
	    "1764800000000,\"completedAt\":1764800000900,\"process\":{"
	    "\"cacheHit\":false,\"kosCalled\":false,\"breakerState\":\"OPEN\","
	    "\"elapsedMs\":900,\"stale\":false}}";
	/* and its summary.c (prepared, a summary, kosAttempts always) */
	static const char old_sum[] =
	    "{\"process\":{\"cacheHit\":true,\"kosCalled\":false,"
	    "\"kosAttempts\":0,\"elapsedMs\":3,\"stale\":false},"
	    "\"requestId\":\"SUM_20261204_ab\",\"userId\":\"demo01\","
	    "\"customerId\":\"C-1\",\"line\":\"01012345678\","
	    "\"month\":\"2026-12\",\"status\":\"COMPLETED\","
	    "\"summary\":\"요약 6개월\",\"requestedAt\":1764800000000,"
	    "\"completedAt\":1764800000003,\"prepared\":true}";

	bill_sample(&r);
	pb_buf_init(&b, PB_HANDOFF_REC_MAX);
	is_int(bill_hist_rec_encode(&r, &b), PB_OK, "bill encode");
	is_int(bill_hist_rec_decode(b.data, b.len, &d, why), PB_OK,
	       "bill decode");
	ok(d != NULL && bill_same(d, &r), "bill round trip");
	bill_history_spec.rec_free(d ? &d->base : NULL);
	pb_buf_free(&b);

	/* a record over the hand-off's ceiling is refused, not cut */
	pb_buf_init(&b, 64);
	is_int(bill_hist_rec_encode(&r, &b), PB_ERR_TOOBIG, "bill too big");
	pb_buf_free(&b);

	d = NULL;
	is_int(bill_hist_rec_decode(old, strlen(old), &d, why), PB_OK,
	       "previous version's inquiry record decodes");
	is_str(d ? d->error_code : NULL, "SERVICE_UNAVAILABLE", "errorCode");
	is_str(d ? d->proc.breaker_state : NULL, "OPEN", "breakerState");
	ok(d != NULL && d->response == NULL && d->result_code[0] == '\0' &&
	       !d->prepared && d->proc.kos_attempts == 0 &&
	       d->proc.elapsed_ms == 900,
	   "absent members are empty");
	bill_history_spec.rec_free(d ? &d->base : NULL);
	d = NULL;
	is_int(bill_hist_rec_decode(old_sum, strlen(old_sum), &d, why), PB_OK,
	       "previous version's summary record decodes");
	ok(d != NULL && d->prepared && d->proc.cache_hit,
	   "prepared and cacheHit");
	is_str(d ? d->summary : NULL, "요약 6개월", "summary");
	bill_history_spec.rec_free(d ? &d->base : NULL);

	d = NULL;
	is_int(DEC(bill_hist_rec_decode,
	           "{\"requestId\":\"R\",\"userId\":\"u\","
	           "\"line\":\"0101234567\",\"month\":"
	           "\"2026-10\",\"status\":\"FAILED\","
	           "\"requestedAt\":1,\"process\":{}}"),
	       PB_ERR_INVAL, "a 10-digit line refused");
	is_str(why, "line: not 11 digits", "why: line");
	is_int(DEC(bill_hist_rec_decode,
	           "{\"requestId\":\"R\",\"userId\":\"u\","
	           "\"line\":\"01012345678\",\"month\":"
	           "\"2026-10\",\"status\":\"FAILED\","
	           "\"requestedAt\":1}"),
	       PB_ERR_INVAL, "no process refused");
	is_str(why, "process: missing or not an object", "why: process");
	is_int(
	    DEC(bill_hist_rec_decode, "{\"requestId\":\"R\",\"response\":{}}"),
	    PB_ERR_INVAL, "an object for response refused");
	is_str(why, "response: not a string", "why: response");
	is_int(DEC(bill_hist_rec_decode,
	           "{\"requestId\":\"R\",\"userId\":\"u\","
	           "\"line\":\"01012345678\",\"month\":"
	           "\"2026-10\",\"status\":\"FAILED\","
	           "\"requestedAt\":1,\"process\":{"
	           "\"stale\":1}}"),
	       PB_ERR_INVAL, "a number for a flag refused");
	is_str(why, "stale: not a boolean", "why: flag");
	ok(d == NULL, "nothing returned on a refusal");
}

/* --- product.change -------------------------------------------------------
 */

/* The answer embedded in a record is escaped byte for byte as cJSON
   prints it (every control character, quotes, backslashes, UTF-8 as it
   is), and decodes back to itself. */
static void
test_bill_escapes(void)
{
	struct bill_hist_rec r;
	struct bill_hist_rec *d = NULL;
	struct pb_buf b;
	char resp[200], why[128];
	cJSON *str;
	char *want = NULL;
	size_t n = 0;
	int c;

	for (c = 1; c < 128; c++)
		resp[n++] = (char)c;
	snprintf(resp + n, sizeof(resp) - n, "%s", "요금\\\"");
	bill_sample(&r);
	r.response = resp;
	str = cJSON_CreateString(resp);
	want = str != NULL ? cJSON_PrintUnformatted(str) : NULL;
	pb_buf_init(&b, PB_HANDOFF_REC_MAX);
	is_int(bill_hist_rec_encode(&r, &b), PB_OK, "escapes: encode");
	ok(want != NULL && b.data != NULL &&
	       memmem(b.data, b.len, want, strlen(want)) != NULL,
	   "escapes: the answer as cJSON prints it");
	is_int(bill_hist_rec_decode(b.data, b.len, &d, why), PB_OK,
	       "escapes: decode");
	ok(d != NULL && d->response != NULL && strcmp(d->response, resp) == 0,
	   "escapes: the answer back");
	bill_history_spec.rec_free(d ? &d->base : NULL);
	pb_buf_free(&b);
	cJSON_free(want);
	cJSON_Delete(str);
}

static void
test_product(void)
{
	struct prod_hist_rec r, *d = NULL;
	struct pb_history_rec *base = NULL;
	char why[PB_HISTORY_WHY_MAX], *text = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	char mvno[] = "{\"eventType\":\"PRODUCT_CHANGE\"}";
	/* as the previous version's change.c wrote it (cJSON, key order) */
	static const char old[] =
	    "{\"requestId\":\"REQ_P\",\"userId\":\"demo01\","
	    "\"customerId\":\"C-1\",\"idempotencyKey\":\"k-1\","
	    "\"line\":\"01012345678\",\"currentCode\":\"P1\","
	    "\"currentName\":\"기본\",\"targetCode\":\"P2\","
	    "\"targetName\":\"5G\",\"status\":\"COMPLETED\","
	    "\"resultCode\":\"0000\",\"resultMessage\":\"ok\","
	    "\"orderNo\":\"O-9\",\"effectiveDate\":\"2026-12-05\","
	    "\"response\":\"{\\\"a\\\":1}\",\"mvno\":\"{\\\"m\\\":1}\","
	    "\"completedAt\":1764800000500,\"breakerState\":\"CLOSED\","
	    "\"kosAttempts\":1,\"kosLatencyMs\":120,\"kosFailure\":\"none\"}";

	prod_hist_rec_init(&r);
	(void)pb_strlcpy(r.base.request_id, "REQ_P2",
	                 sizeof(r.base.request_id));
	(void)pb_strlcpy(r.base.line, "01098765432", sizeof(r.base.line));
	r.base.mvno = mvno;
	(void)pb_strlcpy(r.user_id, "demo02", sizeof(r.user_id));
	(void)pb_strlcpy(r.current_code, "P1", sizeof(r.current_code));
	(void)pb_strlcpy(r.target_code, "P3", sizeof(r.target_code));
	(void)pb_strlcpy(r.status, "FAILED", sizeof(r.status));
	(void)pb_strlcpy(r.error_code, "PRECHECK_FAILED", sizeof(r.error_code));
	r.response = "{\"x\":[1,2]}";
	r.requested_at = 1764800000000LL;
	r.completed_at = 1764800000001LL;
	is_int(prod_hist_rec_encode(&r, &text, &len), PB_OK, "product encode");
	is_int(prod_hist_rec_decode(text, len, &d, why), PB_OK,
	       "product decode");
	is_str(d ? d->base.mvno : NULL, mvno, "mvno payload");
	is_str(d ? d->response : NULL, r.response, "response");
	ok(d != NULL && d->requested_at == r.requested_at &&
	       d->completed_at == r.completed_at &&
	       strcmp(d->error_code, "PRECHECK_FAILED") == 0 &&
	       d->kos_failure[0] == '\0' && d->customer_id[0] == '\0',
	   "product round trip");
	/* decoded and encoded again: the same text */
	ok(d != NULL && prod_hist_rec_encode(d, &again, &len2) == PB_OK &&
	       len2 == len && memcmp(again, text, len) == 0,
	   "encode(decode(x)) == x");
	prod_history_spec.rec_free(d ? &d->base : NULL);
	free(text);
	free(again);

	is_int(prod_history_spec.decode(old, strlen(old), &base, why), PB_OK,
	       "previous version's change record decodes");
	d = base != NULL ? (struct prod_hist_rec *)(void *)base : NULL;
	is_str(d ? d->idem : NULL, "k-1", "idempotencyKey");
	is_str(d ? d->base.mvno : NULL, "{\"m\":1}", "mvno");
	is_str(d ? d->response : NULL, "{\"a\":1}", "response");
	ok(d != NULL && d->kos_latency_ms == 120 && d->kos_attempts == 1 &&
	       d->requested_at == 0,
	   "KOS figures; no requestedAt: the row exists");
	prod_history_spec.rec_free(base);

	d = NULL;
	is_int(DEC(prod_hist_rec_decode,
	           "{\"requestId\":\"R\",\"userId\":\"u\","
	           "\"line\":\"01012345678\",\"currentCode\""
	           ":7,\"targetCode\":\"P\",\"status\":"
	           "\"FAILED\",\"completedAt\":1}"),
	       PB_ERR_INVAL, "a number for currentCode refused");
	is_str(why, "currentCode: not a string", "why: currentCode");
	is_int(DEC(prod_hist_rec_decode,
	           "{\"requestId\":\"R\",\"userId\":\"u\","
	           "\"line\":\"01012345678\",\"currentCode\""
	           ":\"P\",\"targetCode\":\"P\",\"status\":"
	           "\"FAILED\"}"),
	       PB_ERR_INVAL, "no completedAt refused");
	is_str(why, "completedAt: missing or not positive", "why: completedAt");
	ok(d == NULL, "nothing returned on a refusal");
}

int
main(void)
{
	test_login();
	test_bill();
	test_bill_escapes();
	test_product();
	return tap_done();
}
