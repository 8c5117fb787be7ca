/*
 * http.h - a small libcurl wrapper for calls to back offices (KOS, MVNO AP).
 *
 * One struct pb_http per process holds one CURL easy handle, reused for
 * every call so that connections to the same host are kept alive.  Each
 * call sets its own connect and total timeouts (ms) and a ceiling on the
 * response body (bytes).  Redirects are never followed (a 3xx comes back
 * as a status the caller must treat as a failure), only http and https are
 * allowed, TLS peer and host verification keep libcurl's defaults (on)
 * and are never turned off, signals are not used (CURLOPT_NOSIGNAL), and
 * proxies from the environment are ignored (back-office calls go direct).
 *
 * The caller runs curl_global_init() once per program before
 * pb_http_new() and curl_global_cleanup() at exit.  A pb_http is not
 * thread-safe; a child process after fork() gets a fresh handle on its
 * first call (connections are never shared with the parent).
 */
#ifndef PB_HTTP_H
#define PB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define PB_HTTP_MAX_HEADERS 16  /* extra request headers per call */
#define PB_HTTP_HEADER_MAX 1024 /* bytes of one extra header line */

struct pb_http;

struct pb_http_req {
	const char *method;       /* "GET", "POST", "PUT", "DELETE"; NULL ->
	                             POST with a body, GET without */
	const char *url;          /* http:// or https:// */
	const char *body;         /* borrowed; NULL = no body */
	size_t body_len;          /* bytes */
	const char *content_type; /* NULL -> "application/json" (with a body) */
	const char *request_id;   /* X-Request-ID value, NULL = none;
	                             1-128 printable ASCII */
	const char *ca_file;      /* PEM CA bundle that signs the server's
	                             certificate; NULL: the system's */
	const char *cert_file;    /* PEM client certificate (mutual TLS);
	                             NULL: none */
	const char *key_file;     /* its PEM private key */
	const char *const *headers; /* extra "Name: value" lines, borrowed */
	size_t nheaders;            /* <= PB_HTTP_MAX_HEADERS */
	long connect_timeout_ms;    /* ms; <= 0 -> 1000; capped by the total */
	long total_timeout_ms;      /* ms for the whole call; must be > 0 */
	size_t max_response;        /* bytes of body accepted; must be > 0 */
};

struct pb_http_resp {
	long status;            /* HTTP status, 0 when none was received */
	struct pb_buf body;     /* owned; NUL-terminated (data may be NULL
	                           when the body was empty) */
	int64_t elapsed_ms;     /* ms spent in the call */
	int sent;               /* 1 when the request reached the server
	                           (0: no connection, nothing sent) */
	const char *error_kind; /* static; "" on success, else "tls",
	                           "connect", "dns", "reset", "timeout",
	                           "toobig" or "other" */
	char error[128];        /* libcurl's message, "" on success */
};

/* Create the per-process client; caller frees with pb_http_free. */
enum pb_err pb_http_new(struct pb_http **out);
/* Close the handle and its connections; NULL is a no-op. */
void pb_http_free(struct pb_http *h);

/*
 * Perform req.  *resp is always initialised (release it with
 * pb_http_resp_free whatever the result).  PB_OK means an HTTP response
 * was received, whatever its status (3xx/4xx/5xx included).  Otherwise:
 * PB_ERR_TIMEOUT (connect or total timeout), PB_ERR_UNAVAILABLE (could not
 * connect, connection reset, empty reply, TLS failure and other transport
 * errors), PB_ERR_TOOBIG (body over max_response; transfer aborted),
 * PB_ERR_INVAL (bad request fields, URL or scheme), PB_ERR_NOMEM.
 * resp->status and resp->elapsed_ms are set as far as known.
 */
enum pb_err pb_http_do(struct pb_http *h, const struct pb_http_req *req,
                       struct pb_http_resp *resp);
/* Release resp's body; NULL is a no-op. */
void pb_http_resp_free(struct pb_http_resp *resp);

#endif
