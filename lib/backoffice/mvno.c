/* mvno.c - signed result deliveries to the MVNO AP (see mvno.h). */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "mvno.h"

#define SIG_PREFIX "sha256="

enum pb_err
pb_mvno_sign(const unsigned char *secret, size_t slen, const char *ts,
             const char *body, size_t len, char *out, size_t outlen)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	enum pb_err rc = PB_ERR_INVAL;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (secret == NULL || slen == 0 || ts == NULL ||
	    (body == NULL && len > 0) || out == NULL ||
	    outlen < PB_MVNO_SIG_LEN)
		goto out;
	if (crypto_auth_hmacsha256_init(&st, secret, slen) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts,
	                                  strlen(ts)) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1) !=
	        0 ||
	    (len > 0 && crypto_auth_hmacsha256_update(
	                    &st, (const unsigned char *)body, len) != 0) ||
	    crypto_auth_hmacsha256_final(&st, mac) != 0) {
		rc = PB_ERR_INTERNAL;
		goto out;
	}
	memcpy(out, SIG_PREFIX, sizeof(SIG_PREFIX) - 1);
	sodium_bin2hex(out + sizeof(SIG_PREFIX) - 1,
	               outlen - (sizeof(SIG_PREFIX) - 1), mac, sizeof(mac));
	rc = PB_OK;
out:
	sodium_memzero(&st, sizeof(st));
	return rc;
}

/* 1..max characters in [lo, 0x7e]. */
int
pb_mvno_header_ok(const char *s, size_t max, unsigned char lo)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || (unsigned char)s[i] < lo ||
		    (unsigned char)s[i] > 0x7e)
			return 0;
	return i > 0;
}

int
pb_mvno_url_ok(const char *u)
{
	return u != NULL && (strncmp(u, "http://", 7) == 0 ||
	                     strncmp(u, "https://", 8) == 0);
}

/* A body that is a JSON object (after optional white space).  The full
   check is the receiver's; this keeps arrays and scalars from being
   signed and sent at all. */
int
pb_mvno_looks_like_object(const char *b, size_t len)
{
	size_t i = 0;

	while (i < len &&
	       (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	return i < len && b[i] == '{';
}

/* A 2xx answer whose JSON object says the delivery was not stored;
 *dup is set from data.duplicate. */
int
pb_mvno_refused_in_body(const struct pb_buf *body, int *dup)
{
	cJSON *root = NULL;
	const char *code;
	int refused = 0, success, d;

	if (body->data == NULL || body->len == 0 ||
	    pb_json_parse(body->data, body->len, PB_JSON_MAX_DEPTH, &root,
	                  NULL) != PB_OK)
		return 0; /* not JSON: the status is the answer */
	if (cJSON_IsObject(root)) {
		code = pb_json_get_string(root, "resultCode");
		if (code != NULL && strcmp(code, "0000") != 0)
			refused = 1;
		if (pb_json_get_bool(root, "success", &success) && !success)
			refused = 1;
		if (pb_json_get_bool(
		        cJSON_GetObjectItemCaseSensitive(root, "data"),
		        "duplicate", &d))
			*dup = d != 0;
	}
	cJSON_Delete(root);
	return refused;
}

void
pb_mvno_log_attempt(enum pb_err rc, const struct pb_mvno_attempt *a,
                    const char *idem_key, const char *request_id)
{
	struct pb_logline l;

	pb_log_begin(&l, rc == PB_OK ? PB_LOG_INFO : PB_LOG_WARN,
	             "mvno_delivery");
	pb_log_int(&l, "status", a->http_status);
	pb_log_int(&l, "ms", a->elapsed_ms);
	pb_log_str(&l, "error", a->error);
	if (a->duplicate)
		pb_log_int(&l, "duplicate", 1);
	pb_log_str(&l, "idempotency_key", idem_key);
	if (request_id != NULL)
		pb_log_str(&l, "request", request_id);
	pb_log_end(&l);
}

/* Whether a delivery with these arguments may be sent at all. */
static int
deliver_args_ok(const struct pb_http *h, const struct pb_mvno_opts *o,
                const char *body, size_t len, const char *idem_key,
                const char *request_id)
{
	return h != NULL && o != NULL && pb_mvno_url_ok(o->url) &&
	       o->secret != NULL && o->secret_len >= PB_MVNO_SECRET_MIN &&
	       o->timeout_ms >= 0 && body != NULL && len != 0 &&
	       len <= PB_MVNO_MAX_BODY &&
	       pb_mvno_looks_like_object(body, len) &&
	       pb_mvno_header_ok(idem_key, PB_MVNO_IDEM_MAX, 0x21) &&
	       (request_id == NULL || pb_mvno_header_ok(request_id, 128, 0x20));
}

/* The attempt's result from pb_http_do's: PB_OK only for a 2xx the
 * receiver did not refuse in its body; out->error names the failure. */
static enum pb_err
deliver_outcome(enum pb_err hrc, const struct pb_http_resp *resp,
                struct pb_mvno_attempt *out)
{
	enum pb_err rc = PB_ERR_UNAVAILABLE;

	switch (hrc) {
	case PB_OK:
		if (resp->status < 200 || resp->status > 299) {
			snprintf(out->error, sizeof(out->error), "http_%ld",
			         resp->status);
		} else if (pb_mvno_refused_in_body(&resp->body,
		                                   &out->duplicate)) {
			snprintf(out->error, sizeof(out->error),
			         "not_acknowledged");
		} else {
			out->error[0] = '\0';
			rc = PB_OK;
		}
		break;
	case PB_ERR_TIMEOUT:
		snprintf(out->error, sizeof(out->error), "timeout");
		break;
	case PB_ERR_TOOBIG:
		snprintf(out->error, sizeof(out->error), "response_too_big");
		break;
	case PB_ERR_NOMEM:
		snprintf(out->error, sizeof(out->error), "nomem");
		rc = PB_ERR_NOMEM;
		break;
	case PB_ERR_INVAL:
		/* pb_http refused what we checked: a URL it cannot use */
		snprintf(out->error, sizeof(out->error), "invalid");
		rc = PB_ERR_INVAL;
		break;
	default:
		snprintf(out->error, sizeof(out->error), "transport");
		break;
	}
	return rc;
}

enum pb_err
pb_mvno_deliver(struct pb_http *h, const struct pb_mvno_opts *o,
                const char *body, size_t len, const char *idem_key,
                const char *request_id, struct pb_mvno_attempt *out)
{
	struct pb_mvno_attempt dummy;
	struct pb_http_req req;
	struct pb_http_resp resp;
	char ts[24], sig[PB_MVNO_SIG_LEN];
	char h_ts[48], h_sig[96], h_idem[PB_MVNO_IDEM_MAX + 32];
	const char *hdrs[3];
	long timeout;
	enum pb_err rc = PB_ERR_INVAL, hrc;

	if (out == NULL)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	memset(&resp, 0, sizeof(resp));
	snprintf(out->error, sizeof(out->error), "invalid");
	if (!deliver_args_ok(h, o, body, len, idem_key, request_id))
		goto out;
	timeout = o->timeout_ms > 0 ? o->timeout_ms : PB_MVNO_DEFAULT_TIMEOUT;

	snprintf(ts, sizeof(ts), "%" PRId64, pb_clock_now_ms() / 1000);
	rc = pb_mvno_sign(o->secret, o->secret_len, ts, body, len, sig,
	                  sizeof(sig));
	if (rc != PB_OK)
		goto out;
	/* every value was checked above: these cannot be cut */
	snprintf(h_ts, sizeof(h_ts), "X-Timestamp: %s", ts);
	snprintf(h_sig, sizeof(h_sig), "X-Signature: %s", sig);
	snprintf(h_idem, sizeof(h_idem), "Idempotency-Key: %s", idem_key);
	hdrs[0] = h_ts;
	hdrs[1] = h_sig;
	hdrs[2] = h_idem;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = o->url;
	req.body = body;
	req.body_len = len;
	req.content_type = "application/json";
	req.request_id = request_id;
	req.headers = hdrs;
	req.nheaders = 3;
	req.connect_timeout_ms =
	    timeout < PB_MVNO_CONNECT_MS ? timeout : PB_MVNO_CONNECT_MS;
	req.total_timeout_ms = timeout;
	req.max_response = PB_MVNO_MAX_RESPONSE;
	hrc = pb_http_do(h, &req, &resp);
	out->http_status = resp.status;
	out->elapsed_ms = resp.elapsed_ms;
	rc = deliver_outcome(hrc, &resp, out);
	pb_mvno_log_attempt(rc, out, idem_key, request_id);
out:
	pb_http_resp_free(&resp);
	sodium_memzero(sig, sizeof(sig));
	return rc;
}

int64_t
pb_mvno_backoff_ms(unsigned attempts)
{
	int64_t base = PB_MVNO_BACKOFF_BASE_MS, spread;
	unsigned i;

	if (attempts == 0)
		return 0;
	for (i = 1; i < attempts && base < PB_MVNO_BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > PB_MVNO_BACKOFF_MAX_MS)
		base = PB_MVNO_BACKOFF_MAX_MS;
	/* base - 20 % + uniform [0, 40 %] */
	spread = base * 2 / 5;
	return base - base / 5 +
	       (int64_t)randombytes_uniform((uint32_t)spread + 1);
}
