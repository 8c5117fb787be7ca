/* request.c - FastCGI accept loop, limits, routing, envelopes. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <sodium.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "prefork.h"
#include "request.h"
#include "uuid.h"

#define PB_DRAIN_MAX 256       /* queued requests served after a stop */
#define PB_DRAIN_MAX_MS 2000   /* ms the drain may take in all */
#define PB_DRAIN_ACCEPT_MS 100 /* ms one accept() may block in it */

static volatile sig_atomic_t shutdown_requested;

static void
on_term(int sig)
{
	(void)sig;
	shutdown_requested = 1;
	FCGX_ShutdownPending();
}

struct code_text {
	const char *code;
	const char *message;
};

static const struct code_text code_texts[] = {
    {"VALIDATION_ERROR", "요청 값이 올바르지 않습니다."},
    {"UNAUTHORIZED", "인증이 필요합니다."},
    {"FORBIDDEN", "서비스 이용 권한이 없습니다."},
    {"NOT_FOUND", "요청한 리소스를 찾을 수 없습니다."},
    {"METHOD_NOT_ALLOWED", "허용되지 않은 요청 방식입니다."},
    {"PAYLOAD_TOO_LARGE", "요청 본문이 너무 큽니다."},
    {"UNSUPPORTED_MEDIA_TYPE", "지원하지 않는 Content-Type입니다. "
                               "application/json을 사용해주세요."},
    {"RATE_LIMITED", "요청이 너무 많습니다. 잠시 후 다시 시도해주세요."},
    {"UPSTREAM_INVALID", "외부 시스템 응답이 올바르지 않습니다."},
    {"SERVICE_UNAVAILABLE", "일시적으로 서비스 이용이 어렵습니다."},
    {"INTERNAL_SERVER_ERROR", "서버 내부 오류가 발생했습니다."},
};

const char *
pb_req_default_message(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(code_texts) / sizeof(code_texts[0]); i++)
		if (strcmp(code_texts[i].code, code) == 0)
			return code_texts[i].message;
	return "요청을 처리하지 못했습니다.";
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

const char *
pb_req_param(const struct pb_req *req, const char *name)
{
	if (req->fcgx == NULL)
		return NULL;
	return FCGX_GetParam(name, req->fcgx->envp);
}

const char *
pb_req_path_param(const struct pb_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nparams; i++)
		if (strcmp(req->param_names[i], name) == 0)
			return req->params[i];
	return NULL;
}

static int
header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

enum pb_err
pb_req_add_header(struct pb_req *req, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value) ||
	    strchr(name, ':') != NULL)
		return PB_ERR_INVAL;
	return pb_buf_printf(&req->headers, "%s: %s\r\n", name, value);
}

void
pb_req_send(struct pb_req *req, int status, const char *body, size_t len)
{
	char head[PB_REQ_MAX_HEADERS + 512];
	int n;

	if (req->responded) {
		pb_log_msg(PB_LOG_ERROR, "double_response",
		           "handler tried to respond twice");
		return;
	}
	req->responded = 1;
	req->status = status;
	if (req->fcgx == NULL) {
		/* unit tests run handlers without a connection */
		if (req->sent.max > 0)
			(void)pb_buf_append(&req->sent, body, len);
		return;
	}
	n = snprintf(head, sizeof(head),
	             "Status: %d %s\r\n"
	             "Content-Type: application/json; charset=utf-8\r\n"
	             "Content-Length: %zu\r\n"
	             "X-Request-ID: %s\r\n"
	             "Cache-Control: no-store\r\n"
	             "X-Content-Type-Options: nosniff\r\n"
	             "%s\r\n",
	             status, status_text(status), len, req->request_id,
	             req->headers.data != NULL ? req->headers.data : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		pb_log_msg(PB_LOG_ERROR, "response_headers_too_long",
		           "dropped");
		return;
	}
	FCGX_PutStr(head, n, req->fcgx->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, req->fcgx->out);
}

/* Serialise root and send it; 500 fallback if that fails. */
static void
send_json(struct pb_req *req, int status, cJSON *root)
{
	char *text = root != NULL ? pb_json_print(root) : NULL;
	char fallback[256], ts[PB_CLOCK_RFC3339_LEN];
	int n;

	if (text == NULL) {
		/* no allocation from here on: a fixed body on the stack */
		pb_log_msg(PB_LOG_ERROR, "response_encode_failed",
		           "out of memory");
		(void)pb_clock_rfc3339(pb_clock_now_ms(), 0, ts, sizeof(ts));
		n = snprintf(
		    fallback, sizeof(fallback),
		    "{\"success\":false,\"error\":{\"code\":"
		    "\"INTERNAL_SERVER_ERROR\",\"message\":"
		    "\"서버 내부 오류가 발생했습니다.\",\"timestamp\":\"%s\"}}",
		    ts);
		pb_req_send(req, 500, fallback,
		            n > 0 && (size_t)n < sizeof(fallback) ? (size_t)n
		                                                  : 0);
	} else {
		pb_req_send(req, status, text, strlen(text));
	}
	cJSON_free(text);
}

void
pb_req_ok(struct pb_req *req, int status, const char *msg, cJSON *data)
{
	cJSON *root = cJSON_CreateObject();

	if (root == NULL || cJSON_AddBoolToObject(root, "success", 1) == NULL ||
	    cJSON_AddStringToObject(root, "message", msg) == NULL) {
		cJSON_Delete(data);
		data = NULL;
	}
	if (root != NULL && data != NULL)
		cJSON_AddItemToObject(root, "data", data);
	else
		cJSON_Delete(data);
	send_json(req, status, root);
	cJSON_Delete(root);
}

void
pb_req_error(struct pb_req *req, int status, const char *code,
             const char *message, const char *details, cJSON *extra)
{
	char ts[PB_CLOCK_RFC3339_LEN];
	int tz = req->serve != NULL ? req->serve->tz_offset_min
	                            : PB_CLOCK_KST_OFFSET_MIN;
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_CreateObject();

	(void)pb_clock_rfc3339(pb_clock_now_ms(), tz, ts, sizeof(ts));
	if (message == NULL)
		message = pb_req_default_message(code);
	if (root == NULL || err == NULL ||
	    cJSON_AddBoolToObject(root, "success", 0) == NULL ||
	    cJSON_AddStringToObject(err, "code", code) == NULL ||
	    cJSON_AddStringToObject(err, "message", message) == NULL ||
	    (details != NULL &&
	     cJSON_AddStringToObject(err, "details", details) == NULL) ||
	    cJSON_AddStringToObject(err, "timestamp", ts) == NULL) {
		cJSON_Delete(root);
		cJSON_Delete(err);
		cJSON_Delete(extra);
		send_json(req, 500, NULL);
		return;
	}
	cJSON_AddItemToObject(root, "error", err);
	if (extra != NULL)
		cJSON_AddItemToObject(root, "data", extra);
	send_json(req, status, root);
	cJSON_Delete(root);
}

/* Compare one pattern segment with one path segment (lengths given). */
static int
segment_matches(const char *pat, size_t plen, const char *seg, size_t slen,
                int *is_param)
{
	*is_param = plen >= 3 && pat[0] == '{' && pat[plen - 1] == '}';
	if (*is_param)
		return slen > 0;
	return plen == slen && memcmp(pat, seg, plen) == 0;
}

/* Does pattern match path?  Fills offsets of parameters when it does. */
static int
pattern_matches(const char *pattern, const char *path, size_t *poff,
                size_t *plen, size_t *np)
{
	const char *p = pattern, *s = path;
	size_t pl, sl;
	int is_param;

	*np = 0;
	for (;;) {
		if (*p != '/' || *s != '/')
			return *p == '\0' && *s == '\0';
		p++;
		s++;
		pl = strcspn(p, "/");
		sl = strcspn(s, "/");
		if (!segment_matches(p, pl, s, sl, &is_param))
			return 0;
		if (is_param) {
			if (*np >= PB_REQ_MAX_PARAMS)
				return 0;
			poff[*np] = (size_t)(s - path);
			plen[*np] = sl;
			(*np)++;
		}
		p += pl;
		s += sl;
	}
}

/* Names of the {placeholders} of pattern, in order. */
static void
param_names(const char *pattern, const char **names, size_t n, char *store,
            size_t storelen)
{
	size_t i = 0, o = 0, len;
	const char *p = pattern;

	for (p = strchr(p, '{'); i < n && p != NULL; p = strchr(p, '{')) {
		len = strcspn(p + 1, "}");
		if (o + len + 1 > storelen)
			break;
		memcpy(store + o, p + 1, len);
		store[o + len] = '\0';
		names[i++] = store + o;
		o += len + 1;
		p += len + 1;
	}
}

enum pb_err
pb_route_match(const struct pb_route *routes, size_t n, const char *method,
               const char *path, struct pb_req *req,
               const struct pb_route **route, char *allow, size_t allowlen)
{
	size_t i, j, np, poff[PB_REQ_MAX_PARAMS], plen[PB_REQ_MAX_PARAMS];
	size_t pathlen, o = 0;
	int path_known = 0;
	char *store;

	*route = NULL;
	if (allow != NULL && allowlen > 0)
		allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!pattern_matches(routes[i].pattern, path, poff, plen, &np))
			continue;
		if (strcmp(routes[i].method, method) != 0) {
			if (allow != NULL && allowlen > 0 &&
			    strstr(allow, routes[i].method) == NULL) {
				int w =
				    snprintf(allow + o, allowlen - o, "%s%s",
				             o ? ", " : "", routes[i].method);
				if (w > 0 && (size_t)w < allowlen - o)
					o += (size_t)w;
			}
			path_known = 1;
			continue;
		}
		*route = &routes[i];
		if (req == NULL)
			return PB_OK;
		/* one allocation: path copy for values, then the names */
		pathlen = strlen(path);
		store = malloc(pathlen * 2 + 2 + strlen(routes[i].pattern));
		if (store == NULL)
			return PB_ERR_NOMEM;
		free(req->param_store);
		req->param_store = store;
		req->nparams = np;
		for (j = 0; j < np; j++) {
			memcpy(store, path + poff[j], plen[j]);
			store[plen[j]] = '\0';
			req->params[j] = store;
			store += plen[j] + 1;
		}
		param_names(routes[i].pattern, req->param_names, np, store,
		            strlen(routes[i].pattern) + 1);
		return PB_OK;
	}
	return path_known ? PB_ERR_METHOD : PB_ERR_NOTFOUND;
}

int
pb_req_json_content_type(const char *ct)
{
	static const char mt[] = "application/json";
	const char *p;

	if (ct == NULL || strncasecmp(ct, mt, sizeof(mt) - 1) != 0)
		return 0;
	p = ct + sizeof(mt) - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p != ';')
		return 0;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	if (*p == '"')
		p++;
	if (strncasecmp(p, "utf-8", 5) != 0)
		return 0;
	p += 5;
	if (*p == '"')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

long long
pb_req_content_length(const char *s)
{
	long long v = 0;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return -2;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static void
req_reset(struct pb_req *req)
{
	free(req->path);
	free(req->query);
	free(req->body);
	free(req->param_store);
	pb_buf_free(&req->headers);
	pb_buf_free(&req->sent);
	memset(req, 0, sizeof(*req));
}

/* Read exactly want bytes of body (want <= max_body). */
static enum pb_err
read_body(struct pb_req *req, size_t want)
{
	size_t got = 0;
	int n;

	req->body = malloc(want + 1);
	if (req->body == NULL)
		return PB_ERR_NOMEM;
	while (got < want) {
		n = FCGX_GetStr(req->body + got, (int)(want - got),
		                req->fcgx->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	req->body[got] = '\0';
	req->body_len = got;
	return got == want ? PB_OK : PB_ERR_IO;
}

static void
access_log(const struct pb_req *req)
{
	char path[PB_REQ_MAX_PATH + 1];
	struct pb_logline l;

	pb_log_begin(&l, req->status >= 500 ? PB_LOG_WARN : PB_LOG_INFO,
	             "request");
	pb_log_str(&l, "method", req->method);
	/* the route pattern names the operation without the values */
	if (req->route != NULL) {
		pb_log_str(&l, "route", req->route->pattern);
	} else {
		/* an unmatched path may still carry a line number */
		(void)pb_mask_digits(req->path != NULL ? req->path : "", 6,
		                     path, sizeof(path));
		pb_log_str(&l, "path", path);
	}
	pb_log_int(&l, "status", req->status);
	pb_log_int(&l, "bytes_in", (long long)req->body_len);
	pb_log_int(&l, "dur_ms", pb_clock_mono_ms() - req->start_ms);
	pb_log_str(&l, "remote", req->remote_addr);
	pb_log_end(&l);
}

/*
 * The request's header fields as the web server passed them: PB_OK, or
 * PB_ERR_TOOBIG over PB_REQ_MAX_FIELDS (lighttpd caps only their total
 * size), or PB_ERR_INVAL when two fields map to one variable -- "X-Foo"
 * and "X_Foo" both become HTTP_X_FOO on lighttpd, and which one a program
 * sees would be the client's choice.
 */
static enum pb_err
check_fields(const struct pb_req *req)
{
	char **env = req->fcgx != NULL ? req->fcgx->envp : NULL;
	const char *seen[PB_REQ_MAX_FIELDS];
	size_t n = 0, i, len;

	for (; env != NULL && *env != NULL; env++) {
		if (strncmp(*env, "HTTP_", 5) != 0)
			continue;
		if (n == PB_REQ_MAX_FIELDS)
			return PB_ERR_TOOBIG;
		len = strcspn(*env, "=");
		for (i = 0; i < n; i++)
			if (strncmp(seen[i], *env, len) == 0 &&
			    seen[i][len] == '=')
				return PB_ERR_INVAL;
		seen[n++] = *env;
	}
	return PB_OK;
}

/* Request id, method, peer and the header fields; 0 when answered. */
static int
take_envelope(struct pb_req *req)
{
	const char *rid, *m;
	enum pb_err rc;

	rid = pb_req_param(req, "HTTP_X_REQUEST_ID");
	if (pb_req_id_valid(rid))
		(void)pb_strlcpy(req->request_id, rid, sizeof(req->request_id));
	else
		(void)pb_uuid_v4(req->request_id, sizeof(req->request_id));
	pb_log_set_request_id(req->request_id);
	m = pb_req_param(req, "REQUEST_METHOD");
	(void)pb_strlcpy(req->method, m != NULL ? m : "", sizeof(req->method));
	m = pb_req_param(req, "REMOTE_ADDR");
	(void)pb_strlcpy(req->remote_addr, m != NULL ? m : "",
	                 sizeof(req->remote_addr));
	rc = check_fields(req);
	if (rc == PB_ERR_TOOBIG) {
		pb_req_error(req, 431, "VALIDATION_ERROR",
		             "요청 헤더가 너무 "
		             "많습니다.",
		             "at most 100 request header fields", NULL);
		return 0;
	}
	if (rc != PB_OK) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "two header "
		             "fields differ only by '-' and '_' in their names",
		             NULL);
		return 0;
	}
	return 1;
}

/* req->path and req->query from REQUEST_URI; 0 when answered. */
static int
take_uri(struct pb_req *req)
{
	const char *uri, *q;
	size_t plen;

	uri = pb_req_param(req, "REQUEST_URI");
	if (uri == NULL || uri[0] != '/' || strlen(uri) > PB_REQ_MAX_PATH) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "request URI missing or too long", NULL);
		return 0;
	}
	q = strchr(uri, '?');
	plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	req->path = strndup(uri, plen);
	req->query = strdup(q != NULL ? q + 1 : "");
	if (req->path == NULL || req->query == NULL) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return 0;
	}
	return 1;
}

/* The body, within max_body and of a JSON type; 0 when answered.
 * Limits first: nothing is read that we would refuse anyway. */
static int
take_body(const struct pb_serve *s, struct pb_req *req)
{
	long long clen;

	clen = pb_req_content_length(pb_req_param(req, "CONTENT_LENGTH"));
	if (clen == -2) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "malformed Content-Length", NULL);
		return 0;
	}
	if (clen > (long long)s->max_body) {
		pb_req_error(req, 413, "PAYLOAD_TOO_LARGE", NULL,
		             "request body is over the limit", NULL);
		return 0;
	}
	if (clen <= 0)
		return 1;
	if (!pb_req_json_content_type(pb_req_param(req, "CONTENT_TYPE"))) {
		pb_req_error(req, 415, "UNSUPPORTED_MEDIA_TYPE", NULL, NULL,
		             NULL);
		return 0;
	}
	if (read_body(req, (size_t)clen) != PB_OK) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "request body shorter than Content-Length", NULL);
		return 0;
	}
	return 1;
}

/* Route the request to its handler (404, 405 when none). */
static void
dispatch(const struct pb_serve *s, struct pb_req *req)
{
	const struct pb_route *route;
	char allow[128];
	enum pb_err rc;

	rc = pb_route_match(s->routes, s->nroutes, req->method, req->path, req,
	                    &route, allow, sizeof(allow));
	if (rc == PB_ERR_NOTFOUND) {
		pb_req_error(req, 404, "NOT_FOUND", NULL, NULL, NULL);
		return;
	}
	if (rc == PB_ERR_METHOD) {
		(void)pb_req_add_header(req, "Allow", allow);
		pb_req_error(req, 405, "METHOD_NOT_ALLOWED", NULL, NULL, NULL);
		return;
	}
	if (rc != PB_OK) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return;
	}
	req->route = route;
	route->fn(req);
	if (!req->responded) {
		pb_log_msg(PB_LOG_ERROR, "no_response",
		           "handler returned without responding");
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
	}
}

/* Everything between accept and the handler; returns after responding. */
static void
handle_one(const struct pb_serve *s, struct pb_req *req)
{
	if (take_envelope(req) && take_uri(req) && take_body(s, req))
		dispatch(s, req);
}

/* One accepted request, from envelope to access log. */
static void
serve_accepted(const struct pb_serve *s, FCGX_Request *fcgx, struct pb_req *req)
{
	int64_t t0;

	req->app = s->app;
	req->serve = s;
	req->fcgx = fcgx;
	req->start_ms = pb_clock_mono_ms();
	t0 = pb_metrics_now_us();
	pb_buf_init(&req->headers, PB_REQ_MAX_HEADERS);
	handle_one(s, req);
	pb_metrics_request(req->route, req->method, req->status,
	                   pb_metrics_now_us() - t0);
	access_log(req);
	FCGX_Finish_r(fcgx);
	pb_log_set_request_id(NULL);
	req_reset(req);
}

static void
on_alarm(int sig)
{
	(void)sig; /* only there to cut a blocked accept() short */
}

/* SIGALRM after ms (0: disarmed), interrupting what blocks. */
static void
arm_alarm(long ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

/* The next connection queued on the listening socket, or -1 when none
   is (now).  A sibling sharing the socket (prefork) may take it between
   poll() and accept(), so accept() runs under an alarm. */
static int
queued_connection(int listen_fd)
{
	struct pollfd p = {.fd = listen_fd, .events = POLLIN};
	int fd;

	if (poll(&p, 1, 0) != 1 || (p.revents & POLLIN) == 0)
		return -1;
	arm_alarm(PB_DRAIN_ACCEPT_MS);
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	arm_alarm(0);
	return fd;
}

/* Asked to stop: serve the connections the web server already queued
   on our socket.  lighttpd connects and writes a request to a process's
   socket while that process is busy; exiting with it in the backlog
   resets it and lighttpd answers the client 500 ("response not
   received").  libfcgi refuses to accept once its shutdown flag is set,
   so the connection is accepted here and handed over as a kept one
   (ipcFd set, keepConnection: FCGX_Accept_r reads the request from it;
   fcgiapp.h's public fields).  Bounded, so a steady stream of requests
   cannot keep the process alive. */
static void
drain(const struct pb_serve *s, FCGX_Request *fcgx, struct pb_req *req)
{
	struct sigaction sa;
	int64_t until = pb_clock_mono_ms() + PB_DRAIN_MAX_MS;
	int n = 0, fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);        /* no SA_RESTART */
	pb_prefork_let_go(fcgx->listen_sock); /* no new ones queue here */
	while (n < PB_DRAIN_MAX && pb_clock_mono_ms() < until) {
		fd = queued_connection(fcgx->listen_sock);
		if (fd < 0)
			break;
		FCGX_Free(fcgx, 1); /* closes one the server kept open */
		fcgx->ipcFd = fd;
		fcgx->keepConnection = 1;
		if (FCGX_Accept_r(fcgx) < 0)
			break; /* libfcgi closed fd */
		serve_accepted(s, fcgx, req);
		n++;
	}
	if (n > 0) {
		struct pb_logline l;

		pb_log_begin(&l, PB_LOG_INFO, "drained");
		pb_log_int(&l, "requests", n);
		pb_log_end(&l);
	}
}

int
pb_request_serve(const struct pb_serve *s)
{
	FCGX_Request fcgx;
	struct pb_req req;
	struct sigaction sa;
	int status = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: accept() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL); /* mod_fcgid's graceful stop */
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fcgx, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		pb_log_msg(PB_LOG_ERROR, "startup_failed",
		           "cannot initialise FastCGI");
		return 1;
	}
	memset(&req, 0, sizeof(req));
	while (!shutdown_requested) {
		if (FCGX_Accept_r(&fcgx) < 0)
			break;
		serve_accepted(s, &fcgx, &req);
	}
	drain(s, &fcgx, &req);
	FCGX_Free(&fcgx, 1);
	pb_log_msg(PB_LOG_INFO, "shutdown", "stopping");
	return status;
}

void
pb_req_unavailable(struct pb_req *req, const char *what)
{
	pb_log_msg(PB_LOG_WARN, "dependency_down", what);
	(void)pb_req_add_header(req, "Retry-After", "5");
	pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL, NULL, NULL);
}

cJSON *
pb_req_json_body(struct pb_req *req, const struct pb_json_field *spec, size_t n)
{
	cJSON *root = NULL;
	const char *why = NULL, *field = NULL;
	char details[160];

	if (req->body == NULL || req->body_len == 0) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "request body is required", NULL);
		return NULL;
	}
	if (pb_json_parse(req->body, req->body_len, PB_JSON_MAX_DEPTH, &root,
	                  &why) != PB_OK) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL, why, NULL);
		return NULL;
	}
	if (pb_json_check(root, spec, n, &field, &why) != PB_OK) {
		snprintf(details, sizeof(details), "%s: %s",
		         field != NULL && field[0] != '\0' ? field : "body",
		         why != NULL ? why : "invalid");
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL, details, NULL);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
