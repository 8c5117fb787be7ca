/*
 * request.h - the FastCGI side: one request in, one response out.
 *
 * pb_request_serve() runs the FCGX_Accept_r loop for an application:
 * for each request it copies what it keeps from libfcgi's environment,
 * assigns the request id, enforces the body ceiling (413) and media type
 * (415), reads the body, routes (404, 405 + Allow), calls the handler, and
 * guarantees a response (500 envelope) if the handler sent none.  All
 * per-request memory is released before the next accept.
 *
 * Every response carries Content-Type: application/json; charset=utf-8,
 * Content-Length, X-Request-ID and Cache-Control: no-store.
 */
#ifndef PB_REQUEST_H
#define PB_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <fcgiapp.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"
#include "route.h"
#include "uuid.h"

#define PB_REQ_MAX_PATH 2048    /* bytes of REQUEST_URI we accept */
#define PB_REQ_MAX_PARAMS 4     /* {placeholders} per route */
#define PB_REQ_MAX_HEADERS 1024 /* bytes of extra response headers */
#define PB_REQ_MAX_FIELDS 100   /* request header fields (HTTP_*); 431 above */

struct pb_app;
struct pb_req;

/*
 * What the accept loop needs of a service (lib/web/app.c fills it from
 * its spec and configuration): the route table, the body limit, the time
 * zone of error envelopes, and the application handed to handlers.
 */
struct pb_serve {
	const struct pb_route *routes;
	size_t nroutes;
	size_t max_body;    /* bytes */
	int tz_offset_min;  /* minutes east of UTC for envelopes */
	struct pb_app *app; /* becomes req->app; request.c never reads it */
};

struct pb_req {
	struct pb_app *app;           /* borrowed, process lifetime */
	const struct pb_serve *serve; /* borrowed; NULL in unit tests */
	FCGX_Request *fcgx;           /* borrowed, this request only */
	char method[16];
	char *path;  /* owned; without the query */
	char *query; /* owned; "" when none */
	char request_id[PB_REQ_ID_MAX + 1];
	char remote_addr[64];
	char *body;                   /* owned; NUL-terminated; NULL if none */
	size_t body_len;              /* bytes */
	const struct pb_route *route; /* matched route */
	char *param_store;            /* owned; backing for params[] */
	const char *params[PB_REQ_MAX_PARAMS];
	const char *param_names[PB_REQ_MAX_PARAMS]; /* borrowed from route */
	size_t nparams;
	struct pb_buf headers; /* extra response headers */
	struct pb_buf sent;    /* without fcgx (unit tests): the body */
	int responded;
	int status;
	int64_t start_ms; /* monotonic ms */
};

/* Run the accept loop until SIGTERM/SIGINT; returns the exit status. */
int pb_request_serve(const struct pb_serve *s);

/*
 * One CGI parameter of this request ("HTTP_AUTHORIZATION", ...), borrowed
 * until the response is finished; NULL when absent.
 */
const char *pb_req_param(const struct pb_req *req, const char *name);
/* A {placeholder} of the matched route, or NULL. */
const char *pb_req_path_param(const struct pb_req *req, const char *name);

/* Queue one extra response header (name and value must be plain ASCII
 * without CR/LF; PB_ERR_INVAL otherwise). */
enum pb_err pb_req_add_header(struct pb_req *req, const char *name,
                              const char *value);

/* Send status with a JSON body (len bytes).  Only the first response
 * counts; later calls are ignored and logged. */
void pb_req_send(struct pb_req *req, int status, const char *body, size_t len);

/* Success envelope {"success":true,"message":msg,"data":data}; takes
 * ownership of data (may be NULL). */
void pb_req_ok(struct pb_req *req, int status, const char *msg, cJSON *data);

/*
 * Error envelope {"success":false,"error":{code,message,details,timestamp}}.
 * message NULL -> the standard Korean text for code; details may be NULL.
 * extra (may be NULL, ownership taken) is added as top-level "data".
 */
void pb_req_error(struct pb_req *req, int status, const char *code,
                  const char *message, const char *details, cJSON *extra);

/* 503 SERVICE_UNAVAILABLE with Retry-After: 5; what (a dependency's name)
 * goes to the log only. */
void pb_req_unavailable(struct pb_req *req, const char *what);
struct pb_json_field;
/*
 * The body parsed strictly (json.h) and checked against spec[0..n); on
 * failure the 400 VALIDATION_ERROR has been sent and NULL is returned.
 * Caller frees with cJSON_Delete.
 */
cJSON *pb_req_json_body(struct pb_req *req, const struct pb_json_field *spec,
                        size_t n);
/* The standard Korean message for an error code (never NULL). */
const char *pb_req_default_message(const char *code);

/*
 * Match path against the table: on a match returns PB_OK and sets *route
 * (and the params of req when req != NULL).  PB_ERR_NOTFOUND when no
 * pattern matches the path; PB_ERR_METHOD when a pattern matches but not
 * for this method -- then allow (if not NULL) receives "GET, POST".
 */
enum pb_err pb_route_match(const struct pb_route *routes, size_t n,
                           const char *method, const char *path,
                           struct pb_req *req, const struct pb_route **route,
                           char *allow, size_t allowlen);

/*
 * Check a Content-Type header value: application/json, optionally with
 * "; charset=utf-8" (case-insensitive).  1 when acceptable.
 */
int pb_req_json_content_type(const char *ct);

/*
 * Strict decimal CONTENT_LENGTH: the value, -1 when absent or empty, -2
 * when malformed (anything but 1-18 digits).
 */
long long pb_req_content_length(const char *s);

#endif
