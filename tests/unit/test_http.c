/*
 * test_http.c - lib/io/http.c against the real KOS simulator
 * (PHONEBILL_TEST_KOS_URL; skipped when unset).  Only the simulator's
 * admin paths and the "mvno" fault switch are used, so that test_kos
 * (which switches the KOS operations) can run at the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "tap.h"

static const char *base;
static struct pb_http *h;

static enum pb_err
call(const char *method, const char *path, const char *body, const char *rid,
     long total_ms, size_t max, struct pb_http_resp *resp)
{
	struct pb_http_req req;
	char url[512];

	snprintf(url, sizeof(url), "%s%s", base, path);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.request_id = rid;
	req.connect_timeout_ms = 1000;
	req.total_timeout_ms = total_ms;
	req.max_response = max;
	return pb_http_do(h, &req, resp);
}

static void
fault_off(void)
{
	struct pb_http_resp r;

	(void)call("DELETE", "/_sim/faults/mvno", NULL, NULL, 3000, 65536, &r);
	pb_http_resp_free(&r);
}

static void
test_basic(void)
{
	struct pb_http_resp r;
	enum pb_err rc;

	rc = call(NULL, "/_sim/health", NULL, NULL, 3000, 65536, &r);
	is_int(rc, PB_OK, "GET health: PB_OK");
	is_int(r.status, 200, "GET health: status 200");
	ok(r.body.data != NULL && r.body.len > 0 &&
	       r.body.data[r.body.len] == '\0',
	   "body NUL-terminated");
	ok(r.elapsed_ms >= 0 && r.elapsed_ms < 3000, "elapsed measured");
	pb_http_resp_free(&r);

	rc = call(NULL, "/no/such/path", NULL, NULL, 3000, 65536, &r);
	is_int(rc, PB_OK, "404 is an answer, not an error");
	is_int(r.status, 404, "status 404 reported");
	pb_http_resp_free(&r);

	rc = call(NULL, "/_sim/faults", NULL, "http-test-rid.1", 3000, 65536,
	          &r);
	is_int(r.status, 200, "admin GET 200");
	ok(r.body.data != NULL &&
	       strstr(r.body.data, "\"traceId\":\"http-test-rid.1\"") != NULL,
	   "X-Request-ID sent (echoed as traceId)");
	pb_http_resp_free(&r);
}

static void
test_post_delete(void)
{
	struct pb_http_resp r;
	enum pb_err rc;

	rc = call("POST", "/_sim/faults",
	          "{\"operation\":\"mvno\",\"mode\":\"none\",\"latencyMs\":1}",
	          NULL, 3000, 65536, &r);
	is_int(rc, PB_OK, "POST JSON body");
	is_int(r.status, 200, "POST accepted (Content-Type application/json)");
	pb_http_resp_free(&r);
	rc = call("DELETE", "/_sim/faults/mvno", NULL, NULL, 3000, 65536, &r);
	is_int(r.status, 200, "DELETE 200");
	ok(r.body.data != NULL && strstr(r.body.data, "\"deleted\":1") != NULL,
	   "DELETE removed the switch the POST set");
	pb_http_resp_free(&r);
}

static void
test_cap(void)
{
	struct pb_http_resp r;
	enum pb_err rc;

	rc = call(NULL, "/_sim/lines", NULL, NULL, 3000, 1024 * 1024, &r);
	is_int(rc, PB_OK, "lines listing fits 1 MiB");
	ok(r.body.len > 1024, "lines listing is over 1 KiB");
	pb_http_resp_free(&r);
	rc = call(NULL, "/_sim/lines", NULL, NULL, 3000, 1024, &r);
	is_int(rc, PB_ERR_TOOBIG, "over the cap -> PB_ERR_TOOBIG");
	ok(r.body.len <= 1024, "body never grew past the cap");
	pb_http_resp_free(&r);
}

static void
test_redirect(void)
{
	struct pb_http_resp r;
	enum pb_err rc;

	rc = call("POST", "/_sim/faults",
	          "{\"operation\":\"mvno\",\"mode\":\"redirect\",\"times\":1}",
	          NULL, 3000, 65536, &r);
	is_int(r.status, 200, "redirect switch set");
	pb_http_resp_free(&r);
	rc = call("POST", "/mvno/api/v1/results", "{}", NULL, 3000, 65536, &r);
	is_int(rc, PB_OK, "302 is returned, not followed");
	is_int(r.status, 302, "status 302 seen by the caller");
	ok(r.body.data != NULL && strstr(r.body.data, "9999") != NULL,
	   "body is the 302's own");
	pb_http_resp_free(&r);
	fault_off();
}

static void
test_timeout(void)
{
	struct pb_http_resp r;
	enum pb_err rc;

	rc = call("POST", "/_sim/faults",
	          "{\"operation\":\"mvno\",\"mode\":\"hang\",\"hangMs\":1500,"
	          "\"times\":1}",
	          NULL, 3000, 65536, &r);
	is_int(r.status, 200, "hang switch set");
	pb_http_resp_free(&r);
	rc = call("POST", "/mvno/api/v1/results", "{}", NULL, 300, 65536, &r);
	is_int(rc, PB_ERR_TIMEOUT, "hang -> PB_ERR_TIMEOUT");
	ok(r.elapsed_ms >= 250 && r.elapsed_ms < 800,
	   "returns within the 300 ms budget");
	pb_http_resp_free(&r);
	fault_off();

	/* the same handle works after a timeout */
	rc = call(NULL, "/_sim/health", NULL, NULL, 3000, 65536, &r);
	is_int(r.status, 200, "handle usable after a timeout");
	pb_http_resp_free(&r);
}

static void
test_errors(void)
{
	struct pb_http_req req;
	struct pb_http_resp r;
	const char *bad_hdr[] = {"X-A: 1\r\nX-B: 2"};
	const char *good_hdr[] = {"X-Extra: yes"};
	enum pb_err rc;

	memset(&req, 0, sizeof(req));
	req.url = "http://127.0.0.1:9/closed";
	req.total_timeout_ms = 1000;
	req.max_response = 1024;
	rc = pb_http_do(h, &req, &r);
	is_int(rc, PB_ERR_UNAVAILABLE, "connection refused -> UNAVAILABLE");
	is_int(r.status, 0, "no status without an answer");
	pb_http_resp_free(&r);

	req.url = "ftp://127.0.0.1/x";
	is_int(pb_http_do(h, &req, &r), PB_ERR_INVAL, "ftp:// refused");
	pb_http_resp_free(&r);
	req.url = "file:///etc/passwd";
	is_int(pb_http_do(h, &req, &r), PB_ERR_INVAL, "file:// refused");
	pb_http_resp_free(&r);

	req.url = "http://127.0.0.1:9/closed";
	req.headers = bad_hdr;
	req.nheaders = 1;
	is_int(pb_http_do(h, &req, &r), PB_ERR_INVAL,
	       "CRLF in a header refused");
	pb_http_resp_free(&r);
	req.headers = good_hdr;
	req.request_id = "a\nb";
	is_int(pb_http_do(h, &req, &r), PB_ERR_INVAL,
	       "LF in request id refused");
	pb_http_resp_free(&r);
	req.request_id = NULL;
	req.total_timeout_ms = 0;
	is_int(pb_http_do(h, &req, &r), PB_ERR_INVAL, "no timeout refused");
	pb_http_resp_free(&r);
	req.total_timeout_ms = 1000;
	req.max_response = 0;
	is_int(pb_http_do(h, &req, &r), PB_ERR_INVAL, "no size cap refused");
	pb_http_resp_free(&r);
	req.max_response = 1024;
	req.method = "TRACE";
	is_int(pb_http_do(h, &req, &r), PB_ERR_INVAL, "unknown method refused");
	pb_http_resp_free(&r);
	is_int(pb_http_do(NULL, &req, &r), PB_ERR_INVAL, "NULL handle");
	pb_http_resp_free(&r);
	pb_http_resp_free(NULL);
	pb_http_free(NULL);
	ok(1, "NULL frees are no-ops");
}

static void
test_https_verifies(void)
{
	struct pb_http_req req;
	struct pb_http_resp r;
	const char *u = getenv("PHONEBILL_TEST_HTTPS_URL");

	if (u == NULL || u[0] == '\0')
		return;
	/* the stack's certificate is self-signed: verification must fail */
	memset(&req, 0, sizeof(req));
	req.url = u;
	req.total_timeout_ms = 3000;
	req.max_response = 65536;
	is_int(pb_http_do(h, &req, &r), PB_ERR_UNAVAILABLE,
	       "https with an untrusted certificate refused");
	is_str(r.error_kind, "tls", "and named a TLS failure");
	ok(r.error[0] != '\0', "with libcurl's message");
	pb_http_resp_free(&r);
}

int
main(void)
{
	base = getenv("PHONEBILL_TEST_KOS_URL");
	if (base == NULL || base[0] == '\0')
		return tap_skip_all("PHONEBILL_TEST_KOS_URL not set");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tap_skip_all("curl_global_init failed");
	if (pb_http_new(&h) != PB_OK) {
		ok(0, "pb_http_new");
		goto out;
	}
	test_basic();
	test_post_delete();
	test_cap();
	test_redirect();
	test_timeout();
	test_errors();
	test_https_verifies();
out:
	fault_off();
	pb_http_free(h);
	curl_global_cleanup();
	return tap_done();
}
