/*
 * mvno.h - delivery of results to the MVNO application server (MVNO AP).
 *
 * One delivery is one signed POST of a JSON object
 * (docs/KOS-SIMULATOR.md "MVNO AP receiver"):
 *   Content-Type: application/json
 *   X-Timestamp: <unix seconds, from pb_clock_now_ms>
 *   X-Signature: sha256=<hex HMAC-SHA256(secret, "<ts>.<raw body>")>
 *   Idempotency-Key: <the caller's key, the same on every retry>
 *   X-Request-ID: <request id, optional>
 * The receiver acknowledges with HTTP 2xx and stores each Idempotency-Key
 * once, so a delivery is retried (pb_mvno_backoff_ms) until acknowledged
 * and retries are harmless.  Redirects are never followed.
 *
 * One line is logged per attempt (event=mvno_delivery: status, ms,
 * error, idempotency key, request id), never the body.  The caller runs
 * curl_global_init() and sodium_init() first; the pb_http handle is the
 * calling thread's own.
 */
#ifndef PB_MVNO_H
#define PB_MVNO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"

#define PB_MVNO_SECRET_MIN 32          /* bytes of the HMAC key */
#define PB_MVNO_SIG_LEN 72             /* "sha256=" + 64 hex + NUL */
#define PB_MVNO_IDEM_MAX 128           /* characters of an Idempotency-Key */
#define PB_MVNO_DEFAULT_TIMEOUT 2000   /* ms per attempt */
#define PB_MVNO_CONNECT_MS 1000        /* ms, capped by the timeout */
#define PB_MVNO_MAX_RESPONSE 65536     /* bytes of an answer read */
#define PB_MVNO_MAX_BODY (1024 * 1024) /* bytes of a body sent */
#define PB_MVNO_BACKOFF_BASE_MS 1000   /* ms after the first failure */
#define PB_MVNO_BACKOFF_MAX_MS 300000  /* ms, before jitter */

struct pb_mvno_opts {
	const char *url;             /* http(s)://.../mvno/api/v1/results */
	const unsigned char *secret; /* HMAC key */
	size_t secret_len;           /* >= PB_MVNO_SECRET_MIN */
	long timeout_ms;             /* total per attempt; 0 -> 2000 */
};

struct pb_mvno_attempt {
	long http_status; /* 0 when none */
	int64_t elapsed_ms;
	char error[64]; /* "" when acknowledged; else a short reason (no
	                   personal data): "invalid", "transport",
	                   "timeout", "response_too_big", "nomem",
	                   "http_503" (any non-2xx as http_<status>),
	                   "not_acknowledged" (2xx whose body says it was
	                   not stored) */
	int duplicate;  /* 1 when acknowledged with data.duplicate true:
	                   the receiver had it already */
};

/*
 * "sha256=" + lower-case hex HMAC-SHA256(secret, ts "." body[0..len))
 * into out (outlen >= PB_MVNO_SIG_LEN).  PB_ERR_INVAL for NULL arguments
 * or a short out (out is then "" when it has room for that).
 */
enum pb_err pb_mvno_sign(const unsigned char *secret, size_t slen,
                         const char *ts, const char *body, size_t len,
                         char *out, size_t outlen);

/*
 * One attempt: POST body[0..len) (a JSON object, at most
 * PB_MVNO_MAX_BODY bytes) to o->url with the headers above; idem_key is
 * required (1-128 of the visible ASCII characters 0x21-0x7e, as the
 * receiver wants), request_id may be NULL (else 1-128 printable ASCII).
 * *out is always filled.
 *   PB_OK              the receiver acknowledged (HTTP 2xx, and the body,
 *                      when it is a JSON object, does not say otherwise:
 *                      "success": false or a "resultCode" other than
 *                      "0000" means not stored)
 *   PB_ERR_UNAVAILABLE not acknowledged: transport error, timeout, 3xx,
 *                      4xx, 5xx, an answer over 64 KiB, or a 2xx saying
 *                      not stored; retry later with the same idem_key
 *   PB_ERR_INVAL       bad arguments or options; nothing was sent
 *   PB_ERR_NOMEM       allocation failed
 */
enum pb_err pb_mvno_deliver(struct pb_http *h, const struct pb_mvno_opts *o,
                            const char *body, size_t len, const char *idem_key,
                            const char *request_id,
                            struct pb_mvno_attempt *out);

/*
 * Wait before the next attempt after `attempts` failed ones, ms:
 * 1 s doubling (1, 2, 4 ... s), capped at 300 s, then +-20 % jitter
 * (randombytes_uniform); so attempts 1 -> 800..1200, 10 and more ->
 * 240000..360000.  0 attempts -> 0 (no wait).
 */
int64_t pb_mvno_backoff_ms(unsigned attempts);

/* --- several deliveries at once (libcurl multi) ------------------------------
 */

#define PB_MVNO_MULTI_MAX 32 /* deliveries in flight at once, at most */

struct pb_mvno_job {
	/* in */
	const char *body; /* JSON object, borrowed */
	size_t len;
	const char *idem_key;   /* as for pb_mvno_deliver */
	const char *request_id; /* may be NULL */
	const char *group;      /* jobs of one group (a line) are sent one
	                           after the other, in array order; NULL:
	                           no order */
	long long attempt;      /* for the caller's books (1 = first) */
	/* out */
	enum pb_err rc; /* PB_OK acknowledged; PB_ERR_UNAVAILABLE
	                   not (retry later); PB_ERR_INVAL never
	                   sent (bad job); PB_ERR_SKIPPED not sent
	                   because an earlier job of its group was
	                   not acknowledged (order is kept) */
	struct pb_mvno_attempt att;
};

struct pb_mvno_multi;

/* A multi handle with up to inflight (1..PB_MVNO_MULTI_MAX) transfers at
 * once; its connections are kept and reused between calls. */
enum pb_err pb_mvno_multi_new(unsigned inflight, struct pb_mvno_multi **out);
void pb_mvno_multi_free(struct pb_mvno_multi *m);

/*
 * Deliver jobs[0..n) with the headers and rules of pb_mvno_deliver, up to
 * the handle's inflight at once, keeping each group's order; returns when
 * every job has its rc.  Each attempt is logged as by pb_mvno_deliver.
 * Returns how many were acknowledged.
 */
size_t pb_mvno_deliver_many(struct pb_mvno_multi *m,
                            const struct pb_mvno_opts *o,
                            struct pb_mvno_job *jobs, size_t n);

/* Shared with mvno_multi.c (not for other callers). */
struct pb_buf;
int pb_mvno_header_ok(const char *s, size_t max, unsigned char lo);
int pb_mvno_url_ok(const char *u);
int pb_mvno_looks_like_object(const char *b, size_t len);
int pb_mvno_refused_in_body(const struct pb_buf *body, int *dup);
void pb_mvno_log_attempt(enum pb_err rc, const struct pb_mvno_attempt *a,
                         const char *idem_key, const char *request_id);

#endif
