/*
 * test_kos.c - lib/backoffice/kos.c against the real KOS simulator
 * (PHONEBILL_TEST_KOS_URL; skipped when unset): every operation, business
 * codes, every fault mode, retries, and the shared breaker.  Each check
 * that switches a fault removes exactly its own switch again
 * (DELETE /_sim/faults/{operation}), so test_http may run alongside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <curl/curl.h>

#include "clock.h"
#include "json.h"
#include "kos.h"
#include "log.h"
#include "simadmin.h"
#include "tap.h"

#define LINE_DEMO01 "01012345678"
#define LINE_NONE "01000000000"
#define LINE_TERM "01067890123"
#define LINE_NOPLAN "01099990003"
#define LINE_CHANGE "01099990000"

static const char *base;
static struct pb_http *admin;
static char logpath[64];
static unsigned rid_seq;

/* A request id unique to this run. */
static const char *
rid(void)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "ut-kos-%ld-%ld-%u", (long)getpid(),
	         (long)pb_clock_now_ms(), ++rid_seq);
	return buf;
}

/* An admin call (simadmin.h); returns the status (0 on failure). */
static long
sim(const char *method, const char *path, const char *body, cJSON **out)
{
	return sim_admin(admin, base, method, path, body, out);
}

static int
fault(const char *json)
{
	return sim("POST", "/_sim/faults", json, NULL) == 200;
}

static void
fault_off(const char *op)
{
	char path[64];

	snprintf(path, sizeof(path), "/_sim/faults/%s", op);
	(void)sim("DELETE", path, NULL, NULL);
}

/* The simulator's call counter of op (-1 when unreadable). */
static long long
calls(const char *op)
{
	cJSON *root = NULL, *o;
	long long n = -1;

	if (sim("GET", "/_sim/stats", NULL, &root) == 200) {
		o = cJSON_GetObjectItemCaseSensitive(root, "data");
		o = cJSON_GetObjectItemCaseSensitive(o, "operations");
		o = cJSON_GetObjectItemCaseSensitive(o, op);
		if (!pb_json_get_int(o, "calls", &n))
			n = -1;
	}
	cJSON_Delete(root);
	return n;
}

static struct pb_kos *
client(long total_ms, size_t max, int retries, struct pb_breaker *b,
       const char *url)
{
	struct pb_kos_opts o;
	struct pb_kos *k = NULL;

	memset(&o, 0, sizeof(o));
	o.base_url = url != NULL ? url : base;
	o.total_timeout_ms = total_ms;
	o.max_response = max;
	o.read_retries = retries;
	o.breaker = b;
	if (pb_kos_new(&o, &k) != PB_OK)
		return NULL;
	return k;
}

static const char *
dstr(const cJSON *data, const char *obj, const char *name)
{
	const cJSON *o = data;

	if (obj != NULL)
		o = cJSON_GetObjectItemCaseSensitive(data, obj);
	return pb_json_get_string(o, name);
}

static void
test_months_conv(void)
{
	char b[8];

	is_int(pb_kos_month_to_kos("2026-11", b, sizeof(b)), PB_OK,
	       "to_kos ok");
	is_str(b, "202611", "2026-11 -> 202611");
	is_int(pb_kos_month_from_kos("202601", b, sizeof(b)), PB_OK,
	       "from_kos ok");
	is_str(b, "2026-01", "202601 -> 2026-01");
	is_int(pb_kos_month_to_kos("2026-13", b, sizeof(b)), PB_ERR_INVAL,
	       "month 13 refused");
	is_int(pb_kos_month_to_kos("2026-00", b, sizeof(b)), PB_ERR_INVAL,
	       "month 00 refused");
	is_int(pb_kos_month_to_kos("202611", b, sizeof(b)), PB_ERR_INVAL,
	       "YYYYMM is not YYYY-MM");
	is_int(pb_kos_month_to_kos("2026-1a", b, sizeof(b)), PB_ERR_INVAL,
	       "non-digit refused");
	is_int(pb_kos_month_from_kos("2026-11", b, sizeof(b)), PB_ERR_INVAL,
	       "from_kos wants YYYYMM");
	is_int(pb_kos_month_to_kos("2026-11", b, 6), PB_ERR_INVAL,
	       "small buffer refused");
}

static void
test_invalid(struct pb_kos *k)
{
	struct pb_kos_result r;
	long long before = calls("bill.inquiry");

	is_int(pb_kos_bill_inquiry(k, "0101234567", "2026-11", "r1", &r),
	       PB_ERR_INVAL, "10-digit line refused");
	pb_kos_result_free(&r);
	is_int(pb_kos_bill_inquiry(k, "0101234567a", "2026-11", "r1", &r),
	       PB_ERR_INVAL, "non-digit line refused");
	pb_kos_result_free(&r);
	is_int(pb_kos_bill_inquiry(k, "010-1234-5678", "2026-11", "r1", &r),
	       PB_ERR_INVAL, "dashed line refused");
	pb_kos_result_free(&r);
	is_int(pb_kos_bill_inquiry(k, LINE_DEMO01, "2026-13", "r1", &r),
	       PB_ERR_INVAL, "month 13 refused");
	pb_kos_result_free(&r);
	is_int(pb_kos_bill_inquiry(k, LINE_DEMO01, "202611", "r1", &r),
	       PB_ERR_INVAL, "KOS month format refused at our API");
	pb_kos_result_free(&r);
	is_int(pb_kos_bill_inquiry(k, LINE_DEMO01, "2026-11", "bad id", &r),
	       PB_ERR_INVAL, "request id with a space refused");
	is_int(r.attempts, 0, "no attempt made");
	pb_kos_result_free(&r);
	is_int(pb_kos_bill_inquiry(k, LINE_DEMO01, "2026-11", NULL, &r),
	       PB_ERR_INVAL, "request id required for POST operations");
	pb_kos_result_free(&r);
	is_int(pb_kos_product_change(k, LINE_CHANGE, "5G-STANDARD-001", "x\"}",
	                             "r1", &r),
	       PB_ERR_INVAL, "product code checked");
	pb_kos_result_free(&r);
	is_int(calls("bill.inquiry"), before,
	       "invalid input never reaches KOS");
}

static void
test_bill(struct pb_kos *k)
{
	struct pb_kos_result r;
	char month[8], cur[8];
	const char *s;
	size_t i;
	int sorted = 1;
	enum pb_err rc;

	rc = pb_kos_bill_months(k, LINE_DEMO01, rid(), &r);
	is_int(rc, PB_OK, "months: PB_OK");
	is_str(r.code, "0000", "months: 0000");
	ok(r.success, "months: success");
	is_int(r.nmonths, 15, "demo01 has 15 months of bills");
	is_int(r.http_status, 200, "months: HTTP 200");
	is_int(r.attempts, 1, "months: one attempt");
	is_int(r.failure, PB_KOS_FAIL_NONE, "months: no failure");
	s = dstr(r.data, NULL, "currentMonth");
	ok(s != NULL && pb_kos_month_from_kos(s, cur, sizeof(cur)) == PB_OK,
	   "months: currentMonth in data");
	is_str(r.months[0], cur, "months converted to YYYY-MM, newest first");
	for (i = 1; i < r.nmonths; i++)
		sorted &= strcmp(r.months[i - 1], r.months[i]) > 0;
	ok(sorted && r.nmonths > 1, "months strictly descending");
	is_str(r.breaker_state, "NONE", "no breaker configured");
	memcpy(month, r.months[1], sizeof(month));
	pb_kos_result_free(&r);

	rc = pb_kos_bill_inquiry(k, LINE_DEMO01, month, rid(), &r);
	is_int(rc, PB_OK, "bill inquiry: PB_OK");
	is_str(r.code, "0000", "bill inquiry: 0000");
	{
		char km[8];

		(void)pb_kos_month_to_kos(month, km, sizeof(km));
		is_str(dstr(r.data, "billInfo", "billingMonth"), km,
		       "bill inquiry: month sent as YYYYMM");
		is_str(dstr(r.data, "billInfo", "billStatus"), "CONFIRMED",
		       "bill of a closed month is CONFIRMED");
	}
	ok(cJSON_GetObjectItemCaseSensitive(
	       cJSON_GetObjectItemCaseSensitive(r.data, "billInfo"),
	       "charges") != NULL,
	   "bill has charges");
	ok(r.trace_id[0] != '\0', "traceId kept");
	pb_kos_result_free(&r);

	rc = pb_kos_bill_inquiry(k, LINE_DEMO01, "2030-01", rid(), &r);
	is_int(rc, PB_OK, "1003 is PB_OK");
	is_str(r.code, "1003", "future month -> 1003");
	ok(!r.success && r.failure == PB_KOS_FAIL_NONE && r.message[0] != '\0',
	   "1003: success false, no failure, message kept");
	pb_kos_result_free(&r);
	rc = pb_kos_bill_inquiry(k, LINE_NONE, month, rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "1001") == 0, "unknown line -> 1001");
	pb_kos_result_free(&r);
	rc = pb_kos_bill_inquiry(k, LINE_TERM, month, rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "1002") == 0, "terminated -> 1002");
	pb_kos_result_free(&r);
	rc = pb_kos_bill_months(k, LINE_NONE, NULL, &r);
	ok(rc == PB_OK && strcmp(r.code, "1001") == 0 && r.nmonths == 0,
	   "months of unknown line -> 1001");
	pb_kos_result_free(&r);
}

static void
test_product(struct pb_kos *k)
{
	struct pb_kos_result r;
	long long n;
	enum pb_err rc;

	rc = pb_kos_product_inquiry(k, LINE_DEMO01, rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "0000") == 0, "product inquiry 0000");
	is_str(dstr(r.data, "productInfo", "productCode"), "5G-PREMIUM-001",
	       "demo01 on 5G-PREMIUM-001");
	pb_kos_result_free(&r);
	rc = pb_kos_product_inquiry(k, LINE_NONE, rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "3001") == 0, "product 3001");
	pb_kos_result_free(&r);
	rc = pb_kos_product_inquiry(k, LINE_TERM, rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "3002") == 0, "product 3002");
	pb_kos_result_free(&r);
	rc = pb_kos_product_inquiry(k, LINE_NOPLAN, rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "3003") == 0, "product 3003");
	pb_kos_result_free(&r);

	rc = pb_kos_product_list(k, NULL, &r);
	ok(rc == PB_OK && strcmp(r.code, "0000") == 0, "product list 0000");
	ok(pb_json_get_int(r.data, "totalCount", &n) && n == 13,
	   "13 plans listed");
	pb_kos_result_free(&r);

	rc = pb_kos_product_change(k, LINE_CHANGE, "LTE-BASIC-001",
	                           "5G-SLIM-001", rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "2099") == 0, "change mismatch 2099");
	is_str(dstr(r.data, NULL, "reason"), "CURRENT_PRODUCT_MISMATCH",
	       "refusal data kept");
	pb_kos_result_free(&r);
	rc = pb_kos_product_change(k, LINE_CHANGE, "5G-STANDARD-001",
	                           "NO-SUCH-PLAN", rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "2003") == 0, "change 2003");
	pb_kos_result_free(&r);
	rc = pb_kos_product_change(k, LINE_CHANGE, "5G-STANDARD-001",
	                           "5G-SUPER-OLD", rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "2004") == 0, "change 2004");
	pb_kos_result_free(&r);
	rc = pb_kos_product_change(k, LINE_CHANGE, "5G-STANDARD-001",
	                           "MV2-5G-BASIC", rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "2005") == 0, "change 2005");
	pb_kos_result_free(&r);
	rc = pb_kos_product_change(k, LINE_NONE, "5G-STANDARD-001",
	                           "5G-SLIM-001", rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "2001") == 0, "change 2001");
	pb_kos_result_free(&r);
	rc = pb_kos_product_change(k, LINE_CHANGE, "5G-STANDARD-001",
	                           "5G-SLIM-001", rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "0000") == 0, "change 0000");
	ok(dstr(r.data, NULL, "orderNo") != NULL, "order number returned");
	pb_kos_result_free(&r);
	rc = pb_kos_product_change(k, LINE_CHANGE, "5G-SLIM-001",
	                           "5G-STANDARD-001", rid(), &r);
	ok(rc == PB_OK && strcmp(r.code, "0000") == 0, "change back 0000");
	pb_kos_result_free(&r);
}

static void
test_faults(struct pb_kos *k)
{
	struct pb_kos *kt, *ks;
	struct pb_kos_result r;
	long long n;
	char json[512];
	enum pb_err rc;

	/* http500: a failure, not retried */
	ok(fault("{\"operation\":\"bill.months\",\"mode\":\"http500\"}"),
	   "http500 set");
	n = calls("bill.months");
	rc = pb_kos_bill_months(k, LINE_DEMO01, NULL, &r);
	is_int(rc, PB_ERR_UNAVAILABLE, "http500 -> UNAVAILABLE");
	is_int(r.failure, PB_KOS_FAIL_HTTP_ERROR, "http500 -> HTTP_ERROR");
	is_int(r.http_status, 500, "status 500 reported");
	is_int(r.attempts, 1, "500 not retried");
	is_int(calls("bill.months") - n, 1, "one call reached KOS");
	ok(r.data == NULL && r.code[0] == '\0', "no answer kept from a 500");
	pb_kos_result_free(&r);
	fault_off("bill.months");

	/* http503: a failure, retried once (both fail) */
	ok(fault("{\"operation\":\"bill.months\",\"mode\":\"http503\"}"),
	   "http503 set");
	n = calls("bill.months");
	rc = pb_kos_bill_months(k, LINE_DEMO01, NULL, &r);
	is_int(rc, PB_ERR_UNAVAILABLE, "http503 -> UNAVAILABLE");
	is_int(r.failure, PB_KOS_FAIL_HTTP_ERROR, "http503 -> HTTP_ERROR");
	is_int(r.http_status, 503, "status 503 reported");
	is_int(r.attempts, 2, "503 on a read retried once");
	is_int(calls("bill.months") - n, 2, "two calls reached KOS");
	pb_kos_result_free(&r);
	fault_off("bill.months");

	/* retry succeeds: the first call fails only */
	ok(fault("{\"operation\":\"bill.months\",\"mode\":\"http503\","
	         "\"times\":1}"),
	   "http503 times 1 set");
	n = calls("bill.months");
	rc = pb_kos_bill_months(k, LINE_DEMO01, NULL, &r);
	is_int(rc, PB_OK, "read succeeds on the retry");
	is_int(r.attempts, 2, "attempts == 2");
	ok(strcmp(r.code, "0000") == 0 && r.nmonths == 15, "retry's answer");
	is_int(calls("bill.months") - n, 2, "two calls reached KOS");
	pb_kos_result_free(&r);
	fault_off("bill.months");

	ok(fault("{\"operation\":\"product.inquiry\",\"mode\":\"http503\","
	         "\"times\":1,\"errorRate\":1}"),
	   "product.inquiry 503 once");
	rc = pb_kos_product_inquiry(k, LINE_DEMO01, rid(), &r);
	ok(rc == PB_OK && r.attempts == 2, "product inquiry retried to 0000");
	pb_kos_result_free(&r);
	fault_off("product.inquiry");

	/* a product change is never retried */
	ok(fault("{\"operation\":\"product.change\",\"mode\":\"http503\","
	         "\"times\":1}"),
	   "product.change 503 once");
	n = calls("product.change");
	rc = pb_kos_product_change(k, LINE_CHANGE, "5G-STANDARD-001",
	                           "5G-SLIM-001", rid(), &r);
	is_int(rc, PB_ERR_UNAVAILABLE, "change under 503 -> UNAVAILABLE");
	is_int(r.attempts, 1, "change not retried");
	is_int(calls("product.change") - n, 1, "one change call reached KOS");
	pb_kos_result_free(&r);
	fault_off("product.change");

	/* error9999: a business answer */
	ok(fault("{\"operation\":\"product.inquiry\",\"mode\":\"error9999\"}"),
	   "error9999 set");
	rc = pb_kos_product_inquiry(k, LINE_DEMO01, rid(), &r);
	is_int(rc, PB_OK, "9999 is an answer: PB_OK");
	is_str(r.code, "9999", "code 9999");
	ok(r.attempts == 1 && r.failure == PB_KOS_FAIL_NONE,
	   "9999 not retried, no failure");
	pb_kos_result_free(&r);
	fault_off("product.inquiry");

	/* hang: the budget ends the call */
	kt = client(300, 0, 0, NULL, NULL);
	ok(kt != NULL, "client with a 300 ms budget");
	ok(fault("{\"operation\":\"product.inquiry\",\"mode\":\"hang\","
	         "\"hangMs\":1500}"),
	   "hang set");
	rc = pb_kos_product_inquiry(kt, LINE_DEMO01, rid(), &r);
	is_int(rc, PB_ERR_TIMEOUT, "hang -> PB_ERR_TIMEOUT");
	is_int(r.failure, PB_KOS_FAIL_TIMEOUT, "hang -> TIMEOUT");
	ok(r.latency_ms >= 250 && r.latency_ms < 700, "returns within ~300 ms");
	is_int(r.attempts, 1, "timeout not retried");
	pb_kos_result_free(&r);
	fault_off("product.inquiry");

	/* garbage and truncated: PB_ERR_PARSE */
	ok(fault("{\"operation\":\"product.list\",\"mode\":\"garbage\"}"),
	   "garbage set");
	rc = pb_kos_product_list(k, NULL, &r);
	is_int(rc, PB_ERR_PARSE, "garbage -> PB_ERR_PARSE");
	ok(r.failure == PB_KOS_FAIL_GARBAGE && r.data == NULL &&
	       r.attempts == 1,
	   "garbage: kind GARBAGE, no data, not retried");
	pb_kos_result_free(&r);
	fault_off("product.list");
	ok(fault("{\"operation\":\"bill.months\",\"mode\":\"truncated\"}"),
	   "truncated set");
	rc = pb_kos_bill_months(k, LINE_DEMO01, NULL, &r);
	is_int(rc, PB_ERR_PARSE, "truncated -> PB_ERR_PARSE");
	is_int(r.failure, PB_KOS_FAIL_GARBAGE, "truncated -> GARBAGE");
	pb_kos_result_free(&r);
	fault_off("bill.months");

	/* oversized: over a 64 KiB cap TOOBIG; under the 1 MiB default fine */
	ks = client(0, 64 * 1024, 0, NULL, NULL);
	ok(ks != NULL, "client with a 64 KiB cap");
	ok(fault("{\"operation\":\"product.list\",\"mode\":\"oversized\","
	         "\"oversizedBytes\":200000}"),
	   "oversized set");
	rc = pb_kos_product_list(ks, NULL, &r);
	is_int(rc, PB_ERR_TOOBIG, "200 KB answer over 64 KiB -> TOOBIG");
	is_int(r.failure, PB_KOS_FAIL_TOOBIG, "kind TOOBIG");
	pb_kos_result_free(&r);
	rc = pb_kos_product_list(k, NULL, &r);
	ok(rc == PB_OK && strcmp(r.code, "0000") == 0,
	   "padded answer under 1 MiB is still an answer");
	pb_kos_result_free(&r);
	fault_off("product.list");

	/* redirect: not followed (the target would answer 0000) */
	snprintf(json, sizeof(json),
	         "{\"operation\":\"bill.months\","
	         "\"mode\":\"redirect\",\"location\":\"%s/api/v1/kos/product/"
	         "list\"}",
	         base);
	ok(fault(json), "redirect set");
	n = calls("product.list");
	rc = pb_kos_bill_months(k, LINE_DEMO01, NULL, &r);
	is_int(rc, PB_ERR_UNAVAILABLE, "redirect -> UNAVAILABLE");
	ok(r.failure == PB_KOS_FAIL_HTTP_ERROR && r.http_status == 302,
	   "redirect: HTTP_ERROR, status 302");
	is_int(r.attempts, 1, "redirect not retried");
	is_int(calls("product.list") - n, 0, "Location never fetched");
	pb_kos_result_free(&r);
	fault_off("bill.months");

	pb_kos_free(kt);
	pb_kos_free(ks);
}

static void
test_transport(void)
{
	struct pb_kos *k, *k0;
	struct pb_kos_result r;
	enum pb_err rc;

	k = client(2000, 0, 0, NULL, "http://127.0.0.1:9");
	k0 = client(2000, 0, -1, NULL, "http://127.0.0.1:9");
	ok(k != NULL && k0 != NULL, "clients for a closed port");
	rc = pb_kos_product_list(k, NULL, &r);
	is_int(rc, PB_ERR_UNAVAILABLE, "refused -> UNAVAILABLE");
	is_int(r.failure, PB_KOS_FAIL_TRANSPORT, "kind TRANSPORT");
	is_int(r.attempts, 2, "transport error on a read retried once");
	ok(r.latency_ms < 1000, "backoff stays small");
	pb_kos_result_free(&r);
	rc = pb_kos_product_change(k, LINE_CHANGE, "5G-STANDARD-001",
	                           "5G-SLIM-001", rid(), &r);
	ok(rc == PB_ERR_UNAVAILABLE && r.attempts == 1,
	   "change never retried, even on a transport error");
	pb_kos_result_free(&r);
	rc = pb_kos_product_list(k0, NULL, &r);
	is_int(r.attempts, 1, "read_retries -1: no retry");
	pb_kos_result_free(&r);
	pb_kos_free(k);
	pb_kos_free(k0);
}

static void
test_breaker(void)
{
	static const char *const names[] = {"kos.bill", "kos.product",
	                                    "kos.change"};
	struct pb_breaker_opts bo;
	struct pb_breaker *b = NULL;
	struct pb_breaker_stats st;
	struct pb_kos_opts o;
	struct pb_kos *k = NULL, *kbad = NULL;
	struct pb_kos_result r;
	char path[64];
	long long n;
	int i;
	enum pb_err rc;

	snprintf(path, sizeof(path), "/tmp/pb-test-kos-%ld.brk",
	         (long)getpid());
	(void)unlink(path);
	memset(&bo, 0, sizeof(bo));
	bo.min_calls = 2;
	bo.failure_pct = 50;
	bo.window_ms = 60000;
	bo.open_ms = 60000;
	if (pb_breaker_open(path, names, 3, &bo, &b) != PB_OK) {
		ok(0, "breaker opened");
		return;
	}
	k = client(0, 0, -1, b, NULL);
	ok(k != NULL, "client with a breaker");
	memset(&o, 0, sizeof(o));
	o.base_url = base;
	o.breaker = b;
	o.bill_group = "kos.nosuch";
	is_int(pb_kos_new(&o, &kbad), PB_ERR_CONFIG, "unknown group refused");
	if (k == NULL)
		goto out;

	/* business codes never count */
	for (i = 0; i < 4; i++) {
		rc = pb_kos_bill_inquiry(k, LINE_DEMO01, "2030-01", rid(), &r);
		pb_kos_result_free(&r);
	}
	ok(pb_breaker_stats(b, pb_breaker_group(b, "kos.bill"), &st) == PB_OK &&
	       st.state == PB_BREAKER_CLOSED && st.failures == 0 &&
	       st.calls >= 4,
	   "four 1003 answers: closed, no failures");

	/* failures open it */
	ok(fault("{\"operation\":\"product.list\",\"mode\":\"http500\"}"),
	   "http500 set");
	for (i = 0; i < 2; i++) {
		rc = pb_kos_product_list(k, NULL, &r);
		pb_kos_result_free(&r);
	}
	(void)rc;
	ok(pb_breaker_stats(b, pb_breaker_group(b, "kos.product"), &st) ==
	           PB_OK &&
	       st.state == PB_BREAKER_OPEN,
	   "two 500s open kos.product");
	fault_off("product.list");
	n = calls("product.list");
	rc = pb_kos_product_list(k, NULL, &r);
	is_int(rc, PB_ERR_UNAVAILABLE, "open -> UNAVAILABLE");
	is_int(r.failure, PB_KOS_FAIL_OPEN, "kind OPEN");
	is_int(r.attempts, 0, "no attempt");
	ok(r.retry_after_ms >= 1000, "retry-after given");
	ok(r.latency_ms < 5, "fails fast (< 5 ms)");
	is_str(r.breaker_state, "OPEN", "breaker state OPEN reported");
	pb_kos_result_free(&r);
	rc = pb_kos_product_inquiry(k, LINE_DEMO01, rid(), &r);
	ok(rc == PB_ERR_UNAVAILABLE && r.failure == PB_KOS_FAIL_OPEN,
	   "same group, other operation refused too");
	pb_kos_result_free(&r);
	is_int(calls("product.list"), n, "KOS not called while open");
	rc = pb_kos_bill_months(k, LINE_DEMO01, NULL, &r);
	ok(rc == PB_OK && strcmp(r.breaker_state, "CLOSED") == 0,
	   "kos.bill unaffected");
	pb_kos_result_free(&r);
out:
	pb_kos_free(k);
	pb_breaker_close(b);
	(void)unlink(path);
}

static void
test_log(void)
{
	char buf[8192];
	ssize_t n;
	int fd;

	fd = open(logpath, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	ok(strstr(buf, "event=kos_call") != NULL &&
	       strstr(buf, "op=\"bill.months\"") != NULL,
	   "one line per call");
	ok(strstr(buf, "010-****-5678") != NULL, "line number masked");
	ok(strstr(buf, LINE_DEMO01) == NULL, "raw line number never logged");
}

int
main(void)
{
	struct pb_kos *k = NULL;
	int fd;

	base = getenv("PHONEBILL_TEST_KOS_URL");
	if (base == NULL || base[0] == '\0')
		return tap_skip_all("PHONEBILL_TEST_KOS_URL not set");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tap_skip_all("curl_global_init failed");
	snprintf(logpath, sizeof(logpath), "/tmp/pb-test-kos-%ld.log",
	         (long)getpid());
	fd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
	pb_log_open("test_kos", fd, PB_LOG_INFO);
	if (pb_http_new(&admin) != PB_OK ||
	    (k = client(0, 0, 0, NULL, NULL)) == NULL) {
		ok(0, "clients created");
		goto out;
	}
	test_months_conv();
	test_invalid(k);
	test_bill(k);
	test_log();
	test_product(k);
	test_faults(k);
	test_transport();
	test_breaker();
out:
	(void)sim("POST", "/_sim/data/reset", "", NULL);
	pb_kos_free(k);
	pb_http_free(admin);
	pb_log_open("test_kos", -1, PB_LOG_INFO);
	if (fd >= 0)
		close(fd);
	(void)unlink(logpath);
	curl_global_cleanup();
	return tap_done();
}
