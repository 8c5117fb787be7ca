/* http.c - libcurl wrapper (see http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "http.h"

struct pb_http {
	CURL *curl;
	pid_t pid;           /* process that created curl */
	struct pb_buf *sink; /* the current call's body */
	int toobig;          /* the current call passed max_response */
	char errbuf[CURL_ERROR_SIZE];
};

enum pb_err
pb_http_new(struct pb_http **out)
{
	struct pb_http *h;
	enum pb_err rc = PB_ERR_NOMEM;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto out;
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		goto out;
	}
	h->pid = getpid();
	*out = h;
	rc = PB_OK;
out:
	return rc;
}

void
pb_http_free(struct pb_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
pb_http_resp_free(struct pb_http_resp *resp)
{
	if (resp == NULL)
		return;
	pb_buf_free(&resp->body);
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct pb_http *h = userdata;
	size_t n = size * nmemb; /* curl guarantees size == 1 */

	if (pb_buf_append(h->sink, ptr, n) != PB_OK) {
		/* TOOBIG or NOMEM: returning short aborts the transfer */
		h->toobig = 1;
		return 0;
	}
	return n;
}

/* A header value: 1..max printable ASCII, no CR/LF (no header injection). */
static int
printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max || (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] > 0x7e)
			return 0;
	}
	return i > 0;
}

static enum pb_err
map_curl(CURLcode cc, int toobig)
{
	switch (cc) {
	case CURLE_OK:
		return PB_OK;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return toobig || cc == CURLE_FILESIZE_EXCEEDED
		           ? PB_ERR_TOOBIG
		           : PB_ERR_UNAVAILABLE;
	case CURLE_OPERATION_TIMEDOUT:
		return PB_ERR_TIMEOUT;
	case CURLE_OUT_OF_MEMORY:
		return PB_ERR_NOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return PB_ERR_INVAL;
	default:
		/* connect, resolve, send/recv, empty reply, TLS, partial file
		 */
		return PB_ERR_UNAVAILABLE;
	}
}

/* The class of a transport failure, for the operator's log. */
static const char *
error_kind(CURLcode cc)
{
	switch (cc) {
	case CURLE_OK:
		return "";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return "tls";
	case CURLE_COULDNT_CONNECT:
		return "connect";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "dns";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return "reset";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return "toobig";
	default:
		return "other";
	}
}

static int
scheme_ok(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	       strncmp(url, "https://", 8) == 0;
}

/* The method of a valid req (GET or POST when not named), NULL when req
 * is not one pb_http_do may send. */
static const char *
valid_method(const struct pb_http_req *req)
{
	const char *method;
	size_t i;

	if (req->url == NULL || !scheme_ok(req->url) ||
	    req->total_timeout_ms <= 0 || req->max_response == 0 ||
	    req->nheaders > PB_HTTP_MAX_HEADERS ||
	    (req->nheaders > 0 && req->headers == NULL) ||
	    (req->body == NULL && req->body_len > 0))
		return NULL;
	if (req->request_id != NULL && !printable(req->request_id, 128))
		return NULL;
	if (req->content_type != NULL && !printable(req->content_type, 128))
		return NULL;
	for (i = 0; i < req->nheaders; i++) {
		if (req->headers[i] == NULL ||
		    !printable(req->headers[i], PB_HTTP_HEADER_MAX) ||
		    strchr(req->headers[i], ':') == NULL)
			return NULL;
	}
	method = req->method;
	if (method == NULL)
		method = req->body != NULL ? "POST" : "GET";
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
	    strcmp(method, "PUT") != 0 && strcmp(method, "DELETE") != 0)
		return NULL;
	return method;
}

/* Append "name: value" to *hdrs; 0 when it did not fit or no memory. */
static int
add_header(struct curl_slist **hdrs, const char *name, const char *value)
{
	char line[PB_HTTP_HEADER_MAX + 32];
	struct curl_slist *tmp;
	int n;

	if (name != NULL) {
		n = snprintf(line, sizeof(line), "%s: %s", name, value);
		if (n < 0 || (size_t)n >= sizeof(line))
			return 0;
		value = line;
	}
	tmp = curl_slist_append(*hdrs, value);
	if (tmp == NULL)
		return 0;
	*hdrs = tmp;
	return 1;
}

/* The request's header list into *hdrs (the caller frees it, also when
 * this fails with PB_ERR_NOMEM half-way). */
static enum pb_err
build_headers(const struct pb_http_req *req, struct curl_slist **hdrs)
{
	size_t i;

	if (req->body != NULL &&
	    !add_header(hdrs, "Content-Type",
	                req->content_type != NULL ? req->content_type
	                                          : "application/json"))
		return PB_ERR_NOMEM;
	if (req->request_id != NULL &&
	    !add_header(hdrs, "X-Request-ID", req->request_id))
		return PB_ERR_NOMEM;
	for (i = 0; i < req->nheaders; i++) {
		if (!add_header(hdrs, NULL, req->headers[i]))
			return PB_ERR_NOMEM;
	}
	/* No "Expect: 100-continue" round trip for larger POSTs. */
	if (!add_header(hdrs, NULL, "Expect:"))
		return PB_ERR_NOMEM;
	return PB_OK;
}

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(h->curl, opt, val);              \
	} while (0)

/* Protocols, timeouts, limits, sink, headers and TLS files of req. */
static CURLcode
set_transport(struct pb_http *h, const struct pb_http_req *req,
              struct curl_slist *hdrs)
{
	CURLcode cc = CURLE_OK;
	long connect_ms;

	connect_ms =
	    req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 1000;
	if (connect_ms > req->total_timeout_ms)
		connect_ms = req->total_timeout_ms;
	SET(CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SET(CURLOPT_TIMEOUT_MS, req->total_timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_response);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	/* a private link: our CA, and our certificate when asked for one */
	if (req->ca_file != NULL)
		SET(CURLOPT_CAINFO, req->ca_file);
	if (req->cert_file != NULL) {
		SET(CURLOPT_SSLCERT, req->cert_file);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (req->key_file != NULL) {
		SET(CURLOPT_SSLKEY, req->key_file);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	}
	return cc;
}

/* The method and its body (GET sends none). */
static CURLcode
set_method(struct pb_http *h, const struct pb_http_req *req, const char *method)
{
	CURLcode cc = CURLE_OK;

	if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body != NULL ? req->body_len : 0));
		if (strcmp(method, "PUT") == 0)
			SET(CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (strcmp(method, "DELETE") == 0) {
		SET(CURLOPT_CUSTOMREQUEST, "DELETE");
		if (req->body != NULL) {
			SET(CURLOPT_POSTFIELDS, req->body);
			SET(CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->body_len);
		}
	}
	return cc;
}
#undef SET

/* Run the configured transfer: status, whether anything was sent, and
 * the body kept only on success. */
static enum pb_err
perform(struct pb_http *h, struct pb_http_resp *resp, CURLcode *cc)
{
	long sent = 0;
	enum pb_err rc;

	*cc = curl_easy_perform(h->curl);
	(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	/* bytes of request headers sent: 0 when no connection was made */
	(void)curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &sent);
	resp->sent = sent > 0;
	rc = map_curl(*cc, h->toobig);
	if (rc != PB_OK)
		pb_buf_reset(&resp->body);
	return rc;
}

/* The failure's class and text into resp; drop the pointers into this
 * call's memory that h still holds. */
static void
finish(struct pb_http *h, CURLcode cc, struct pb_http_resp *resp)
{
	resp->error_kind = error_kind(cc);
	/* TLS 1.3: a refused client certificate arrives as an alert on the
	 * first read, which libcurl reports as a receive error */
	if (strcmp(resp->error_kind, "reset") == 0 &&
	    (strstr(h->errbuf, "SSL") != NULL ||
	     strstr(h->errbuf, "alert") != NULL))
		resp->error_kind = "tls";
	if (cc != CURLE_OK)
		(void)pb_strlcpy(resp->error,
		                 h->errbuf[0] != '\0' ? h->errbuf
		                                      : curl_easy_strerror(cc),
		                 sizeof(resp->error));
	(void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	h->sink = NULL;
}

enum pb_err
pb_http_do(struct pb_http *h, const struct pb_http_req *req,
           struct pb_http_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	const char *method = NULL;
	int64_t t0;
	CURLcode cc;
	enum pb_err rc = PB_ERR_INVAL;

	memset(resp, 0, sizeof(*resp));
	pb_buf_init(&resp->body, req != NULL ? req->max_response : 0);
	resp->error_kind = "";
	t0 = pb_clock_mono_ms();
	if (h != NULL && req != NULL)
		method = valid_method(req);
	if (method == NULL)
		goto out;

	/* After fork() the parent's connections must not be used. */
	if (h->pid != getpid()) {
		curl_easy_cleanup(h->curl);
		h->curl = curl_easy_init();
		h->pid = getpid();
	}
	rc = PB_ERR_NOMEM;
	if (h->curl == NULL)
		goto out;
	rc = build_headers(req, &hdrs);
	if (rc != PB_OK)
		goto out;

	/* reset keeps the connection cache: connections are reused. */
	curl_easy_reset(h->curl);
	h->sink = &resp->body;
	h->toobig = 0;
	h->errbuf[0] = '\0';
	cc = set_transport(h, req, hdrs);
	if (cc == CURLE_OK)
		cc = set_method(h, req, method);
	if (cc != CURLE_OK)
		rc = map_curl(cc, 0);
	else
		rc = perform(h, resp, &cc);
	finish(h, cc, resp);
out:
	curl_slist_free_all(hdrs);
	resp->elapsed_ms = pb_clock_mono_ms() - t0;
	return rc;
}
