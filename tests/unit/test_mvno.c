/*
 * test_mvno.c - lib/backoffice/mvno.c: the signature (known answer),
 * backoff bounds, argument checks and an unreachable receiver
 * (pb_mvno_deliver, and pb_mvno_deliver_many: a group after its failed
 * job is skipped) always; against the real receiver (the KOS simulator,
 * PHONEBILL_TEST_KOS_URL, with the stack's signing secret in
 * PHONEBILL_TEST_MVNO_SECRET_FILE) an acknowledged delivery visible in
 * the simulator, a duplicate, a wrong secret, the "mvno" fault switch
 * (503, 200 with 9999, redirect, hang).  Those skip without the two
 * variables.  The "mvno" switch is shared with test_http: Makefile.am
 * runs this test after that one.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "mvno.h"
#include "simadmin.h"
#include "tap.h"

/* Known answer, computed once with
   printf '%s.%s' 1700000000 '{"eventType":"BILL_INQUIRY","requestId":"r-1"}' |
     openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef -hex */
#define KAT_SECRET "0123456789abcdef0123456789abcdef"
#define KAT_TS "1700000000"
#define KAT_BODY "{\"eventType\":\"BILL_INQUIRY\",\"requestId\":\"r-1\"}"
#define KAT_SIG                                                                \
	"sha256="                                                              \
	"7546daa4737f649ea006e08d0832d1af2c96067ed1be88fa1e9ce7882bc32577"
/* the same key over "1700000000." (empty body) */
#define KAT_SIG_EMPTY                                                          \
	"sha256="                                                              \
	"6d033471ca61b72c721ec8c18ea70b31ea9ee2c7aab01ae0fa01bc68c1579648"

static const char *base;
static unsigned char secret[512];
static size_t secret_len;
static struct pb_http *h;
static char run_id[64];
static unsigned seq;

static void
skip(int n, const char *why)
{
	int i;

	for (i = 0; i < n; i++)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
}

/* The stack's secret file, without its trailing newline. */
static int
load_secret(void)
{
	const char *path = getenv("PHONEBILL_TEST_MVNO_SECRET_FILE");
	ssize_t n;
	int fd;

	if (path == NULL || path[0] == '\0')
		path = getenv("PHONEBILL_TEST_MVNO_HMAC_SECRET_FILE");
	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, secret, sizeof(secret));
	close(fd);
	if (n <= 0 || (size_t)n >= sizeof(secret))
		return 0;
	while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r'))
		n--;
	secret_len = (size_t)n;
	return secret_len >= PB_MVNO_SECRET_MIN;
}

static const char *
next_id(char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", run_id, ++seq);
	return buf;
}

/* An admin call (simadmin.h); returns the status (0 on failure). */
static long
sim(const char *method, const char *path, const char *body, cJSON **out)
{
	return sim_admin(h, base, method, path, body, out);
}

static void
fault_off(void)
{
	(void)sim("DELETE", "/_sim/faults/mvno", NULL, NULL);
}

static void
opts(struct pb_mvno_opts *o, char *url, size_t urllen)
{
	snprintf(url, urllen, "%s/mvno/api/v1/results", base);
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->secret = secret;
	o->secret_len = secret_len;
}

/* --- without a receiver --------------------------------------------------- */

static void
test_sign(void)
{
	char sig[PB_MVNO_SIG_LEN];
	const unsigned char *k = (const unsigned char *)KAT_SECRET;

	is_int(pb_mvno_sign(k, 32, KAT_TS, KAT_BODY, strlen(KAT_BODY), sig,
	                    sizeof(sig)),
	       PB_OK, "sign");
	is_str(sig, KAT_SIG, "signature matches openssl's (known answer)");
	is_int(pb_mvno_sign(k, 32, KAT_TS, NULL, 0, sig, sizeof(sig)), PB_OK,
	       "sign an empty body");
	is_str(sig, KAT_SIG_EMPTY, "empty body known answer");
	is_int(pb_mvno_sign(k, 32, KAT_TS, KAT_BODY, strlen(KAT_BODY), sig,
	                    PB_MVNO_SIG_LEN - 1),
	       PB_ERR_INVAL, "out under 72 bytes refused");
	is_str(sig, "", "out emptied");
	is_int(pb_mvno_sign(NULL, 32, KAT_TS, "{}", 2, sig, sizeof(sig)),
	       PB_ERR_INVAL, "NULL secret");
	is_int(pb_mvno_sign(k, 32, NULL, "{}", 2, sig, sizeof(sig)),
	       PB_ERR_INVAL, "NULL timestamp");
	is_int(pb_mvno_sign(k, 32, KAT_TS, NULL, 2, sig, sizeof(sig)),
	       PB_ERR_INVAL, "NULL body with a length");
}

static void
test_backoff(void)
{
	int64_t v, lo, hi, min[12], max[12];
	unsigned a, i;
	int good = 1;

	is_int(pb_mvno_backoff_ms(0), 0, "no failure, no wait");
	for (a = 1; a <= 11; a++) {
		min[a] = INT64_MAX;
		max[a] = 0;
		for (i = 0; i < 2000; i++) {
			v = pb_mvno_backoff_ms(a);
			if (v < min[a])
				min[a] = v;
			if (v > max[a])
				max[a] = v;
		}
		hi = (int64_t)1000 << (a - 1);
		if (hi > 300000)
			hi = 300000;
		lo = hi * 4 / 5;
		hi = hi * 6 / 5;
		if (min[a] < lo || max[a] > hi)
			good = 0;
	}
	ok(good, "attempts 1..11 within base +-20 %");
	ok(min[1] >= 800 && max[1] <= 1200, "after 1 failure: 0.8..1.2 s");
	ok(min[2] >= 1600 && max[2] <= 2400, "after 2: 1.6..2.4 s");
	ok(min[9] >= 204800 && max[9] <= 307200, "after 9: 256 s +-20 %");
	ok(min[10] >= 240000 && max[10] <= 360000,
	   "after 10: capped at 300 s, 240..360 s");
	ok(pb_mvno_backoff_ms(1000) >= 240000 &&
	       pb_mvno_backoff_ms(1000) <= 360000 &&
	       pb_mvno_backoff_ms(UINT32_MAX) <= 360000,
	   "huge counts stay capped (no overflow)");
	ok(max[1] - min[1] > 200, "jitter actually varies");
}

static void
test_invalid(void)
{
	struct pb_mvno_opts o;
	struct pb_mvno_attempt a;
	char long_key[200];
	static const unsigned char k[32] = {1};

	memset(&o, 0, sizeof(o));
	o.url = "http://127.0.0.1:9/mvno/api/v1/results";
	o.secret = k;
	o.secret_len = 32;
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	is_int(pb_mvno_deliver(h, &o, "{}", 2, NULL, NULL, &a), PB_ERR_INVAL,
	       "idempotency key required");
	is_str(a.error, "invalid", "error invalid");
	is_int(a.http_status, 0, "no status");
	is_int(pb_mvno_deliver(h, &o, "{}", 2, "", NULL, &a), PB_ERR_INVAL,
	       "empty key");
	is_int(pb_mvno_deliver(h, &o, "{}", 2, "a b", NULL, &a), PB_ERR_INVAL,
	       "space in the key");
	is_int(pb_mvno_deliver(h, &o, "{}", 2, "a\r\nX-Evil: 1", NULL, &a),
	       PB_ERR_INVAL, "CR LF in the key (header injection)");
	long_key[128] = '\0';
	is_int(pb_mvno_deliver(h, &o, "{}", 2, long_key, "rid\n", &a),
	       PB_ERR_INVAL, "LF in the request id");
	long_key[128] = 'k';
	long_key[129] = '\0';
	is_int(pb_mvno_deliver(h, &o, "{}", 2, long_key, NULL, &a),
	       PB_ERR_INVAL, "129-character key");
	is_int(pb_mvno_deliver(h, &o, "[1]", 3, "k", NULL, &a), PB_ERR_INVAL,
	       "body must be an object");
	is_int(pb_mvno_deliver(h, &o, NULL, 0, "k", NULL, &a), PB_ERR_INVAL,
	       "body required");
	o.secret_len = 31;
	is_int(pb_mvno_deliver(h, &o, "{}", 2, "k", NULL, &a), PB_ERR_INVAL,
	       "secret under 32 bytes");
	o.secret_len = 32;
	o.url = "ftp://127.0.0.1/x";
	is_int(pb_mvno_deliver(h, &o, "{}", 2, "k", NULL, &a), PB_ERR_INVAL,
	       "ftp URL");
	o.url = NULL;
	is_int(pb_mvno_deliver(h, &o, "{}", 2, "k", NULL, NULL), PB_ERR_INVAL,
	       "no URL (out may be NULL)");
}

/* Several jobs to a closed port: the first of a group fails, the later
 * ones of that group are not sent at all (PB_ERR_SKIPPED, down the whole
 * group, past another group's job in between), another group's job and
 * a job of no group are tried on their own. */
static void
many_unreachable(const struct pb_mvno_opts *o)
{
	static const char *const groups[5] = {"line-a", "line-a", "line-b",
	                                      "line-a", NULL};
	static const char *const keys[5] = {"unreachable-a1", "unreachable-a2",
	                                    "unreachable-b1", "unreachable-a3",
	                                    "unreachable-none"};
	struct pb_mvno_multi *m = NULL;
	struct pb_mvno_job jobs[5];
	size_t i;

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 5; i++) {
		jobs[i].body = "{}";
		jobs[i].len = 2;
		jobs[i].attempt = 1;
		jobs[i].group = groups[i];
		jobs[i].idem_key = keys[i];
	}
	if (pb_mvno_multi_new(2, &m) != PB_OK) {
		ok(0, "multi handle");
		return;
	}
	is_int((int)pb_mvno_deliver_many(m, o, jobs, 5), 0,
	       "none acknowledged");
	is_int(jobs[0].rc, PB_ERR_UNAVAILABLE,
	       "first of the group: UNAVAILABLE");
	is_int(jobs[1].rc, PB_ERR_SKIPPED, "second of the group: SKIPPED");
	is_str(jobs[1].att.error, "after_failure", "skipped: after_failure");
	is_int(jobs[3].rc, PB_ERR_SKIPPED,
	       "third of the group, after another line's: SKIPPED");
	is_int(jobs[2].rc, PB_ERR_UNAVAILABLE,
	       "other group: tried, UNAVAILABLE");
	is_int(jobs[4].rc, PB_ERR_UNAVAILABLE, "no group: tried, UNAVAILABLE");
	pb_mvno_multi_free(m);
}

static void
test_unreachable(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct pb_mvno_opts o;
	struct pb_mvno_attempt a;
	static const unsigned char k[32] = {1};
	char url[96];
	int fd, port = 9;

	/* a port that was free a moment ago: nothing listens there */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mvno/api/v1/results",
	         port);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.secret = k;
	o.secret_len = 32;
	o.timeout_ms = 1000;
	is_int(pb_mvno_deliver(h, &o, "{}", 2, "unreachable-1", NULL, &a),
	       PB_ERR_UNAVAILABLE, "closed port: PB_ERR_UNAVAILABLE");
	is_str(a.error, "transport", "error transport");
	is_int(a.http_status, 0, "no status");
	ok(a.elapsed_ms >= 0 && a.elapsed_ms < 1000, "elapsed measured");
	many_unreachable(&o);
}

/* --- against the receiver ------------------------------------------------- */

/* The simulator's record of request id rid: deliveryCount, or -1. */
static long long
delivered(const char *rid, char *idem, size_t idemlen, char *body_rid,
          size_t body_ridlen)
{
	cJSON *root = NULL, *d, *arr, *first;
	char path[256];
	long long cnt = -1, n = -1;
	const char *s;

	snprintf(path, sizeof(path), "/_sim/mvno/deliveries?requestId=%s", rid);
	if (sim("GET", path, NULL, &root) == 200) {
		d = cJSON_GetObjectItemCaseSensitive(root, "data");
		arr = cJSON_GetObjectItemCaseSensitive(d, "deliveries");
		if (pb_json_get_int(d, "count", &n) && n == 1 &&
		    cJSON_IsArray(arr)) {
			first = cJSON_GetArrayItem(arr, 0);
			if (!pb_json_get_int(first, "deliveryCount", &cnt))
				cnt = -1;
			s = pb_json_get_string(first, "idempotencyKey");
			snprintf(idem, idemlen, "%s", s != NULL ? s : "");
			s = pb_json_get_string(
			    cJSON_GetObjectItemCaseSensitive(first, "body"),
			    "requestId");
			snprintf(body_rid, body_ridlen, "%s",
			         s != NULL ? s : "");
		}
	}
	cJSON_Delete(root);
	return cnt;
}

static void
test_deliver(void)
{
	struct pb_mvno_opts o;
	struct pb_mvno_attempt a;
	char url[512], rid[96], idem[128], body[512], got_idem[160],
	    got_rid[96];
	unsigned char wrong[48];
	size_t len;

	opts(&o, url, sizeof(url));
	next_id(rid, sizeof(rid));
	snprintf(idem, sizeof(idem), "idem-%s", rid);
	len = (size_t)snprintf(body, sizeof(body),
	                       "{\"eventType\":\"UNIT_TEST\",\"requestId\":"
	                       "\"%s\",\"result\":\"SUCCESS\"}",
	                       rid);
	is_int(pb_mvno_deliver(h, &o, body, len, idem, rid, &a), PB_OK,
	       "delivery acknowledged");
	is_int(a.http_status, 200, "HTTP 200");
	is_str(a.error, "", "no error");
	is_int(a.duplicate, 0, "first delivery: not a duplicate");
	ok(a.elapsed_ms >= 0 && a.elapsed_ms < 2000, "elapsed measured");
	is_int(delivered(rid, got_idem, sizeof(got_idem), got_rid,
	                 sizeof(got_rid)),
	       1, "visible at /_sim/mvno/deliveries, delivered once");
	is_str(got_idem, idem, "stored under our Idempotency-Key");
	is_str(got_rid, rid, "the body as sent");

	is_int(pb_mvno_deliver(h, &o, body, len, idem, rid, &a), PB_OK,
	       "the same delivery again: acknowledged");
	is_int(a.duplicate, 1, "duplicate: true");
	is_int(delivered(rid, got_idem, sizeof(got_idem), got_rid,
	                 sizeof(got_rid)),
	       2, "stored once, delivery count 2");

	/* a wrong secret is refused by the receiver's signature check */
	memset(wrong, 'x', sizeof(wrong));
	o.secret = wrong;
	o.secret_len = sizeof(wrong);
	next_id(rid, sizeof(rid));
	len = (size_t)snprintf(body, sizeof(body),
	                       "{\"eventType\":\"UNIT_TEST\",\"requestId\":"
	                       "\"%s\"}",
	                       rid);
	is_int(pb_mvno_deliver(h, &o, body, len, rid, rid, &a),
	       PB_ERR_UNAVAILABLE, "wrong secret: not acknowledged");
	is_int(a.http_status, 401, "HTTP 401");
	is_str(a.error, "http_401", "error http_401");
	is_int(delivered(rid, got_idem, sizeof(got_idem), got_rid,
	                 sizeof(got_rid)),
	       -1, "nothing stored");
}

static void
test_faults(void)
{
	struct pb_mvno_opts o;
	struct pb_mvno_attempt a;
	char url[512], rid[96], body[256];
	size_t len;

	opts(&o, url, sizeof(url));
	next_id(rid, sizeof(rid));
	len = (size_t)snprintf(body, sizeof(body),
	                       "{\"eventType\":\"UNIT_TEST\",\"requestId\":"
	                       "\"%s\"}",
	                       rid);

	is_int(sim("POST", "/_sim/faults",
	           "{\"operation\":\"mvno\",\"mode\":\"http503\"}", NULL),
	       200, "fault switch mvno http503 set");
	is_int(pb_mvno_deliver(h, &o, body, len, rid, rid, &a),
	       PB_ERR_UNAVAILABLE, "503: not acknowledged");
	is_int(a.http_status, 503, "HTTP 503");
	is_str(a.error, "http_503", "error http_503");

	is_int(sim("POST", "/_sim/faults",
	           "{\"operation\":\"mvno\",\"mode\":\"error9999\"}", NULL),
	       200, "fault switch mvno error9999 set");
	is_int(pb_mvno_deliver(h, &o, body, len, rid, rid, &a),
	       PB_ERR_UNAVAILABLE, "200 with success false: not acknowledged");
	is_int(a.http_status, 200, "HTTP 200");
	is_str(a.error, "not_acknowledged", "error not_acknowledged");

	is_int(sim("POST", "/_sim/faults",
	           "{\"operation\":\"mvno\",\"mode\":\"redirect\"}", NULL),
	       200, "fault switch mvno redirect set");
	is_int(pb_mvno_deliver(h, &o, body, len, rid, rid, &a),
	       PB_ERR_UNAVAILABLE, "302: not followed, not acknowledged");
	is_str(a.error, "http_302", "error http_302");

	is_int(sim("POST", "/_sim/faults",
	           "{\"operation\":\"mvno\",\"mode\":\"hang\",\"hangMs\":1500,"
	           "\"times\":1}",
	           NULL),
	       200, "fault switch mvno hang set");
	o.timeout_ms = 300;
	is_int(pb_mvno_deliver(h, &o, body, len, rid, rid, &a),
	       PB_ERR_UNAVAILABLE, "hang: not acknowledged");
	is_str(a.error, "timeout", "error timeout");
	ok(a.elapsed_ms >= 250 && a.elapsed_ms < 1000,
	   "within the 300 ms budget");
	o.timeout_ms = 0;
	fault_off();

	is_int(pb_mvno_deliver(h, &o, body, len, rid, rid, &a), PB_OK,
	       "switch reset: acknowledged");
	is_int(a.duplicate, 0, "refused attempts stored nothing before");
}

/* One line per attempt; never the body (it may hold personal data). */
static void
test_log(const char *path, int live)
{
	char buf[32768];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	ok(strstr(buf, "event=mvno_delivery") != NULL &&
	       strstr(buf, "error=\"transport\"") != NULL &&
	       strstr(buf, "idempotency_key=\"unreachable-1\"") != NULL,
	   "each attempt logged with its error and key");
	ok(strstr(buf, "UNIT_TEST") == NULL && strstr(buf, "SUCCESS") == NULL,
	   "the body is never logged");
	if (live)
		ok(strstr(buf, "status=401 ") != NULL &&
		       strstr(buf, "error=\"http_401\"") != NULL,
		   "a refused delivery logged with its status");
}

int
main(void)
{
	char logpath[64];
	int fd, live;

	if (sodium_init() < 0)
		return tap_skip_all("sodium_init failed");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tap_skip_all("curl_global_init failed");
	snprintf(logpath, sizeof(logpath), "/tmp/pb-test-mvno-%ld.log",
	         (long)getpid());
	fd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
	pb_log_open("test_mvno", fd, PB_LOG_INFO);
	snprintf(run_id, sizeof(run_id), "ut-mvno-%ld-%lld", (long)getpid(),
	         (long long)pb_clock_now_ms());
	if (pb_http_new(&h) != PB_OK) {
		ok(0, "http client");
		goto out;
	}
	test_sign();
	test_backoff();
	test_invalid();
	test_unreachable();

	base = getenv("PHONEBILL_TEST_KOS_URL");
	live = base != NULL && base[0] != '\0';
	if (!live) {
		skip(1, "PHONEBILL_TEST_KOS_URL not set (no MVNO receiver)");
	} else if (!load_secret()) {
		skip(1,
		     "PHONEBILL_TEST_MVNO_SECRET_FILE not set or unreadable");
	} else {
		fault_off();
		test_deliver();
		test_faults();
		fault_off();
	}
	test_log(logpath, live);
out:
	pb_http_free(h);
	sodium_memzero(secret, sizeof(secret));
	pb_log_open("test_mvno", -1, PB_LOG_INFO);
	if (fd >= 0)
		close(fd);
	(void)unlink(logpath);
	curl_global_cleanup();
	return tap_done();
}
