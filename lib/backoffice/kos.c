/* kos.c - the KOS-Order client (see kos.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "json.h"
#include "kos.h"
#include "log.h"
#include "metrics.h"

#define KOS_URL_MAX 512     /* bytes of a full request URL */
#define KOS_MIN_ATTEMPT 100 /* ms an attempt needs to be worth making */
#define KOS_BACKOFF_BASE 50 /* ms before the first retry (+ jitter) */

struct pb_kos {
	char base[256];      /* base URL without a trailing '/' */
	long connect_ms;     /* ms */
	long total_ms;       /* ms */
	size_t max_response; /* bytes */
	unsigned retries;
	struct pb_breaker *breaker; /* borrowed */
	int group[PB_KOS_NOPS];     /* breaker group per op, -1 = none */
	struct pb_http *http;
	int own_http;
	char ca[512], cert[512], key[512]; /* TLS files, "" = none */
};

/* One call as the operation functions describe it to call_kos(). */
struct kos_call {
	enum pb_kos_op op;
	const char *path;       /* after the base URL */
	const char *body;       /* NULL for GET */
	const char *request_id; /* may be NULL */
	const char *line;       /* for the log (masked), may be NULL */
};

static const char *const op_names[PB_KOS_NOPS] = {
    "bill.inquiry", "bill.months", "product.inquiry", "product.list",
    "product.change"};

const char *
pb_kos_op_name(enum pb_kos_op op)
{
	if ((unsigned)op >= PB_KOS_NOPS)
		return "unknown";
	return op_names[op];
}

const char *
pb_kos_failure_name(enum pb_kos_failure f)
{
	switch (f) {
	case PB_KOS_FAIL_NONE:
		return "none";
	case PB_KOS_FAIL_OPEN:
		return "open";
	case PB_KOS_FAIL_TRANSPORT:
		return "transport";
	case PB_KOS_FAIL_TIMEOUT:
		return "timeout";
	case PB_KOS_FAIL_HTTP_ERROR:
		return "http_error";
	case PB_KOS_FAIL_GARBAGE:
		return "garbage";
	case PB_KOS_FAIL_TOOBIG:
		return "toobig";
	case PB_KOS_FAIL_BULKHEAD:
		return "bulkhead";
	}
	return "unknown";
}

/* --- input checks ---------------------------------------------------- */

static int
is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

static int
valid_line(const char *s)
{
	return s != NULL && strlen(s) == 11 && is_digits(s, 11) &&
	       s[0] == '0' && s[1] == '1';
}

/* 1..max bytes of [A-Za-z0-9._-] */
static int
valid_token(const char *s, size_t max)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= max)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return i > 0;
}

static int
valid_month_digits(const char *y4, const char *m2)
{
	int m;

	if (!is_digits(y4, 4) || !is_digits(m2, 2))
		return 0;
	m = (m2[0] - '0') * 10 + (m2[1] - '0');
	return m >= 1 && m <= 12 &&
	       !(y4[0] == '0' && y4[1] == '0' && y4[2] == '0' && y4[3] == '0');
}

enum pb_err
pb_kos_month_to_kos(const char *month, char *out, size_t outlen)
{
	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (month == NULL || out == NULL || outlen < 7 || strlen(month) != 7 ||
	    month[4] != '-' || !valid_month_digits(month, month + 5))
		return PB_ERR_INVAL;
	memcpy(out, month, 4);
	memcpy(out + 4, month + 5, 2);
	out[6] = '\0';
	return PB_OK;
}

enum pb_err
pb_kos_month_from_kos(const char *kos, char *out, size_t outlen)
{
	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (kos == NULL || out == NULL || outlen < 8 || strlen(kos) != 6 ||
	    !valid_month_digits(kos, kos + 4))
		return PB_ERR_INVAL;
	memcpy(out, kos, 4);
	out[4] = '-';
	memcpy(out + 5, kos + 4, 2);
	out[7] = '\0';
	return PB_OK;
}

/* --- result and envelope ------------------------------------------------ */

void
pb_kos_result_free(struct pb_kos_result *res)
{
	if (res == NULL)
		return;
	cJSON_Delete(res->data);
	memset(res, 0, sizeof(*res));
	res->breaker_state = "NONE";
}

static void
clear_answer(struct pb_kos_result *res)
{
	cJSON_Delete(res->data);
	res->data = NULL;
	res->success = 0;
	res->code[0] = '\0';
	res->message[0] = '\0';
	res->trace_id[0] = '\0';
	res->nmonths = 0;
}

/* Copy s into out[0..outlen) without splitting a UTF-8 sequence. */
static void
copy_utf8(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= outlen) {
		n = outlen - 1;
		/* back off continuation bytes so a character is not split */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static int
cmp_month_desc(const void *a, const void *b)
{
	return -strcmp((const char *)a, (const char *)b);
}

/* data of a 0000 available-months answer -> res->months, newest first. */
static enum pb_err
parse_months(const cJSON *data, struct pb_kos_result *res)
{
	const cJSON *arr, *it;
	size_t n = 0, i;

	arr = cJSON_GetObjectItemCaseSensitive(data, "availableMonths");
	if (!cJSON_IsArray(arr))
		return PB_ERR_PARSE;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it) || n >= PB_KOS_MAX_MONTHS ||
		    pb_kos_month_from_kos(it->valuestring, res->months[n],
		                          sizeof(res->months[n])) != PB_OK)
			return PB_ERR_PARSE;
		n++;
	}
	qsort(res->months, n, sizeof(res->months[0]), cmp_month_desc);
	for (i = 1; i < n; i++) {
		if (strcmp(res->months[i - 1], res->months[i]) == 0)
			return PB_ERR_PARSE; /* duplicates: not KOS */
	}
	res->nmonths = n;
	return PB_OK;
}

enum pb_err
pb_kos_parse_envelope(const char *text, size_t len, enum pb_kos_op op,
                      struct pb_kos_result *res)
{
	cJSON *root = NULL, *data;
	const char *code, *msg, *trace, *ts;
	int success;
	enum pb_err rc = PB_ERR_PARSE;

	clear_answer(res);
	if (text == NULL || (unsigned)op >= PB_KOS_NOPS)
		goto out;
	rc = pb_json_parse(text, len, 0, &root, NULL);
	if (rc != PB_OK)
		goto out;
	rc = PB_ERR_PARSE;
	if (!cJSON_IsObject(root) ||
	    !pb_json_get_bool(root, "success", &success))
		goto out;
	code = pb_json_get_string(root, "resultCode");
	msg = pb_json_get_string(root, "resultMessage");
	if (code == NULL || strlen(code) != 4 || !is_digits(code, 4) ||
	    msg == NULL)
		goto out;
	/* success is true exactly for 0000 */
	if (success != (strcmp(code, "0000") == 0))
		goto out;
	/* optional members: when present, of the right type */
	trace = pb_json_get_string(root, "traceId");
	if (trace == NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "traceId") != NULL &&
	    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "traceId")))
		goto out;
	ts = pb_json_get_string(root, "timestamp");
	if (ts == NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "timestamp") != NULL &&
	    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "timestamp")))
		goto out;
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (data != NULL && !cJSON_IsNull(data) && !cJSON_IsObject(data) &&
	    !cJSON_IsArray(data))
		goto out;
	if (success) {
		/* a successful answer carries its data object */
		if (!cJSON_IsObject(data))
			goto out;
		if (op == PB_KOS_BILL_MONTHS &&
		    parse_months(data, res) != PB_OK)
			goto out;
	}
	res->success = success;
	memcpy(res->code, code, 5);
	copy_utf8(res->message, sizeof(res->message), msg);
	if (trace != NULL && strlen(trace) < sizeof(res->trace_id))
		copy_utf8(res->trace_id, sizeof(res->trace_id), trace);
	if (data != NULL && !cJSON_IsNull(data))
		res->data = cJSON_DetachItemViaPointer(root, data);
	rc = PB_OK;
out:
	if (rc != PB_OK)
		clear_answer(res);
	cJSON_Delete(root);
	return rc;
}

/* --- client ----------------------------------------------------------------
 */

/* Whether opts can make a client (a URL of http or https, sane limits). */
static int
opts_ok(const struct pb_kos_opts *opts)
{
	return opts != NULL && opts->base_url != NULL &&
	       (strncmp(opts->base_url, "http://", 7) == 0 ||
	        strncmp(opts->base_url, "https://", 8) == 0) &&
	       opts->connect_timeout_ms >= 0 && opts->total_timeout_ms >= 0 &&
	       opts->read_retries >= -1 &&
	       opts->read_retries <= PB_KOS_MAX_RETRIES;
}

/* Base URL (without trailing '/') and TLS files of opts into k;
 * PB_ERR_CONFIG when one does not fit or the URL is not printable. */
static enum pb_err
set_endpoint(struct pb_kos *k, const struct pb_kos_opts *opts)
{
	size_t n;
	int i;

	if (pb_strlcpy(k->base, opts->base_url, sizeof(k->base)) != PB_OK)
		return PB_ERR_CONFIG;
	n = strlen(k->base);
	while (n > 0 && k->base[n - 1] == '/')
		k->base[--n] = '\0';
	for (i = 0; k->base[i] != '\0'; i++) {
		/* printable, no spaces: the URL goes to libcurl as is */
		if ((unsigned char)k->base[i] <= 0x20 ||
		    (unsigned char)k->base[i] >= 0x7f)
			return PB_ERR_CONFIG;
	}
	if ((opts->ca_file != NULL &&
	     pb_strlcpy(k->ca, opts->ca_file, sizeof(k->ca)) != PB_OK) ||
	    (opts->client_cert_file != NULL &&
	     pb_strlcpy(k->cert, opts->client_cert_file, sizeof(k->cert)) !=
	         PB_OK) ||
	    (opts->client_key_file != NULL &&
	     pb_strlcpy(k->key, opts->client_key_file, sizeof(k->key)) !=
	         PB_OK))
		return PB_ERR_CONFIG;
	return PB_OK;
}

/* The breaker group of each operation (-1 without a breaker);
 * PB_ERR_CONFIG when the breaker does not know a group's name. */
static enum pb_err
set_groups(struct pb_kos *k, const struct pb_kos_opts *opts)
{
	const char *names[3];
	int groups[3], i;

	names[0] = opts->bill_group != NULL ? opts->bill_group : "kos.bill";
	names[1] =
	    opts->product_group != NULL ? opts->product_group : "kos.product";
	names[2] =
	    opts->change_group != NULL ? opts->change_group : "kos.change";
	for (i = 0; i < 3; i++) {
		groups[i] = -1;
		if (k->breaker != NULL) {
			groups[i] = pb_breaker_group(k->breaker, names[i]);
			if (groups[i] < 0)
				return PB_ERR_CONFIG;
		}
	}
	k->group[PB_KOS_BILL_INQUIRY] = groups[0];
	k->group[PB_KOS_BILL_MONTHS] = groups[0];
	k->group[PB_KOS_PRODUCT_INQUIRY] = groups[1];
	k->group[PB_KOS_PRODUCT_LIST] = groups[1];
	k->group[PB_KOS_PRODUCT_CHANGE] = groups[2];
	return PB_OK;
}

enum pb_err
pb_kos_new(const struct pb_kos_opts *opts, struct pb_kos **out)
{
	struct pb_kos *k = NULL;
	enum pb_err rc = PB_ERR_CONFIG;

	*out = NULL;
	if (!opts_ok(opts))
		goto out;
	rc = PB_ERR_NOMEM;
	if (sodium_init() < 0)
		goto out;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		goto out;
	rc = set_endpoint(k, opts);
	if (rc != PB_OK)
		goto out;
	k->connect_ms = opts->connect_timeout_ms > 0
	                    ? opts->connect_timeout_ms
	                    : PB_KOS_DEFAULT_CONNECT_MS;
	k->total_ms = opts->total_timeout_ms > 0 ? opts->total_timeout_ms
	                                         : PB_KOS_DEFAULT_TOTAL_MS;
	k->max_response = opts->max_response > 0 ? opts->max_response
	                                         : PB_KOS_DEFAULT_MAX_RESP;
	k->retries = opts->read_retries == 0  ? PB_KOS_DEFAULT_RETRIES
	             : opts->read_retries < 0 ? 0
	                                      : (unsigned)opts->read_retries;
	k->breaker = opts->breaker;
	rc = set_groups(k, opts);
	if (rc != PB_OK)
		goto out;
	if (opts->http != NULL) {
		k->http = opts->http;
	} else {
		rc = pb_http_new(&k->http);
		if (rc != PB_OK)
			goto out;
		k->own_http = 1;
	}
	*out = k;
	k = NULL;
	rc = PB_OK;
out:
	pb_kos_free(k);
	return rc;
}

void
pb_kos_free(struct pb_kos *k)
{
	if (k == NULL)
		return;
	if (k->own_http)
		pb_http_free(k->http);
	free(k);
}

/* Retry-worthy: the request cannot have been processed. */
static int
retryable(enum pb_kos_failure f, long status)
{
	if (f == PB_KOS_FAIL_TRANSPORT)
		return 1;
	return f == PB_KOS_FAIL_HTTP_ERROR &&
	       (status == 502 || status == 503 || status == 504);
}

/* One HTTP attempt with timeout budget_ms; fills res, returns the rc. */
static enum pb_err
attempt(struct pb_kos *k, const struct kos_call *c, const char *url,
        long budget_ms, struct pb_kos_result *res)
{
	struct pb_http_req req;
	struct pb_http_resp resp;
	enum pb_err rc;

	memset(&req, 0, sizeof(req));
	req.method = c->body != NULL ? "POST" : "GET";
	req.url = url;
	req.body = c->body;
	req.body_len = c->body != NULL ? strlen(c->body) : 0;
	req.request_id = c->request_id;
	req.connect_timeout_ms = k->connect_ms;
	req.total_timeout_ms = budget_ms;
	req.max_response = k->max_response;
	req.ca_file = k->ca[0] != '\0' ? k->ca : NULL;
	req.cert_file = k->cert[0] != '\0' ? k->cert : NULL;
	req.key_file = k->key[0] != '\0' ? k->key : NULL;
	clear_answer(res);
	rc = pb_http_do(k->http, &req, &resp);
	res->http_status = resp.status;
	res->sent = res->sent || resp.sent;
	/* what went wrong below HTTP (a TLS failure must say so) */
	res->transport_kind = resp.error_kind;
	(void)pb_strlcpy(res->transport_error, resp.error,
	                 sizeof(res->transport_error));
	switch (rc) {
	case PB_OK:
		break;
	case PB_ERR_TIMEOUT:
		res->failure = PB_KOS_FAIL_TIMEOUT;
		goto out;
	case PB_ERR_TOOBIG:
		res->failure = PB_KOS_FAIL_TOOBIG;
		goto out;
	case PB_ERR_NOMEM:
	case PB_ERR_INVAL:
		/* our side, not KOS: no failure kind */
		goto out;
	default:
		res->failure = PB_KOS_FAIL_TRANSPORT;
		rc = PB_ERR_UNAVAILABLE;
		goto out;
	}
	if (resp.status >= 300 && resp.status < 400) {
		/* redirects are not followed: KOS moved or a proxy meddles */
		res->failure = PB_KOS_FAIL_HTTP_ERROR;
		rc = PB_ERR_UNAVAILABLE;
		goto out;
	}
	if (resp.status >= 500) {
		res->failure = PB_KOS_FAIL_HTTP_ERROR;
		rc = PB_ERR_UNAVAILABLE;
		goto out;
	}
	/* 2xx, and 4xx (KOS validation, "4000"): must be the envelope */
	rc = pb_kos_parse_envelope(resp.body.data != NULL ? resp.body.data : "",
	                           resp.body.len, c->op, res);
	if (rc == PB_OK && resp.status >= 200 && resp.status < 500) {
		res->failure = PB_KOS_FAIL_NONE;
	} else {
		clear_answer(res);
		res->failure = rc == PB_ERR_TOOBIG ? PB_KOS_FAIL_TOOBIG
		                                   : PB_KOS_FAIL_GARBAGE;
		rc = rc == PB_ERR_TOOBIG ? PB_ERR_TOOBIG : PB_ERR_PARSE;
	}
out:
	pb_http_resp_free(&resp);
	return rc;
}

static void
log_call(const struct kos_call *c, enum pb_err rc,
         const struct pb_kos_result *res, const struct pb_breaker_stats *st)
{
	struct pb_logline l;
	char masked[32];

	pb_log_begin(&l, rc == PB_OK ? PB_LOG_INFO : PB_LOG_WARN, "kos_call");
	pb_log_str(&l, "op", pb_kos_op_name(c->op));
	if (c->line != NULL &&
	    pb_mask_phone(c->line, masked, sizeof(masked)) == PB_OK)
		pb_log_str(&l, "line", masked);
	pb_log_str(&l, "code", res->code);
	pb_log_int(&l, "status", res->http_status);
	pb_log_int(&l, "ms", res->latency_ms);
	pb_log_int(&l, "attempts", res->attempts);
	pb_log_str(&l, "breaker", res->breaker_state);
	pb_log_str(&l, "failure", pb_kos_failure_name(res->failure));
	if (st != NULL && st->bulkhead_max > 0) {
		pb_log_int(&l, "bulkhead_in_use", st->bulkhead_in_use);
		pb_log_int(&l, "bulkhead_rejected",
		           (long long)st->bulkhead_rejected);
	}
	if (res->transport_kind != NULL && res->transport_kind[0] != '\0') {
		pb_log_str(&l, "transport", res->transport_kind);
		pb_log_str(&l, "error", res->transport_error);
	}
	pb_log_str(&l, "result", pb_strerror(rc));
	pb_log_end(&l);
}

static enum pb_err
call_kos(struct pb_kos *k, const struct kos_call *c, struct pb_kos_result *res)
{
	struct pb_breaker_ticket ticket;
	struct pb_breaker_stats st;
	char url[KOS_URL_MAX];
	int64_t t0, deadline, left, wait_ms;
	unsigned max_attempts;
	int group = k->group[c->op], n, have_st;
	enum pb_err rc = PB_ERR_INVAL;

	t0 = pb_clock_mono_ms();
	deadline = t0 + k->total_ms;
	n = snprintf(url, sizeof(url), "%s%s", k->base, c->path);
	if (n < 0 || (size_t)n >= sizeof(url))
		goto out;
	max_attempts = 1 + (c->op == PB_KOS_PRODUCT_CHANGE ? 0 : k->retries);
	for (;;) {
		int64_t retry_after = 0;

		if (group >= 0) {
			rc = pb_breaker_acquire(k->breaker, group, &ticket,
			                        &retry_after);
			if (rc != PB_OK) {
				/* refused: no network I/O at all */
				clear_answer(res);
				res->failure =
				    ticket.refused == PB_BREAKER_REFUSED_FULL
				        ? PB_KOS_FAIL_BULKHEAD
				        : PB_KOS_FAIL_OPEN;
				res->retry_after_ms = retry_after;
				rc = PB_ERR_UNAVAILABLE;
				break;
			}
		}
		left = deadline - pb_clock_mono_ms();
		/* a half-open probe must not park the process for the budget */
		if (group >= 0 && ticket.timeout_ms > 0 &&
		    left > ticket.timeout_ms)
			left = ticket.timeout_ms;
		res->attempts++;
		if (left < 1) {
			clear_answer(res);
			res->failure = PB_KOS_FAIL_TIMEOUT;
			rc = PB_ERR_TIMEOUT;
		} else {
			rc = attempt(k, c, url, (long)left, res);
		}
		if (group >= 0)
			pb_breaker_release(k->breaker, &ticket,
			                   res->failure == PB_KOS_FAIL_NONE
			                       ? PB_BREAKER_SUCCESS
			                       : PB_BREAKER_FAILURE);
		pb_metrics_kos(group, res->failure == PB_KOS_FAIL_NONE);
		if (rc == PB_OK || res->attempts >= max_attempts ||
		    !retryable(res->failure, res->http_status))
			break;
		/* jittered exponential backoff: base*2^(n-1) + [0, same] */
		wait_ms = (int64_t)KOS_BACKOFF_BASE << (res->attempts - 1);
		wait_ms += randombytes_uniform((uint32_t)wait_ms + 1);
		left = deadline - pb_clock_mono_ms();
		if (left - wait_ms < KOS_MIN_ATTEMPT)
			break;
		{
			struct timespec ts;

			ts.tv_sec = (time_t)(wait_ms / 1000);
			ts.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
			while (nanosleep(&ts, &ts) != 0)
				;
		}
	}
out:
	res->latency_ms = pb_clock_mono_ms() - t0;
	res->breaker_state = "NONE";
	have_st =
	    group >= 0 && pb_breaker_stats(k->breaker, group, &st) == PB_OK;
	if (have_st)
		res->breaker_state = pb_breaker_state_name(st.state);
	log_call(c, rc, res, have_st ? &st : NULL);
	return rc;
}

/* Serialise a flat object of string members (NULL-terminated pairs). */
static char *
body_of(const char *const *kv)
{
	cJSON *o;
	char *s = NULL;

	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	for (; kv[0] != NULL; kv += 2) {
		if (cJSON_AddStringToObject(o, kv[0], kv[1]) == NULL)
			goto out;
	}
	s = pb_json_print(o);
out:
	cJSON_Delete(o);
	return s;
}

static void
init_result(struct pb_kos_result *res)
{
	memset(res, 0, sizeof(*res));
	res->breaker_state = "NONE";
}

/* A POST operation: the JSON body from kv (name, value, ..., NULL). */
static enum pb_err
post_kos(struct pb_kos *k, struct kos_call *c, const char *const *kv,
         struct pb_kos_result *res)
{
	char *body = body_of(kv);
	enum pb_err rc;

	if (body == NULL)
		return PB_ERR_NOMEM;
	c->body = body;
	rc = call_kos(k, c, res);
	c->body = NULL;
	cJSON_free(body);
	return rc;
}

enum pb_err
pb_kos_bill_inquiry(struct pb_kos *k, const char *line, const char *month,
                    const char *request_id, struct pb_kos_result *res)
{
	struct kos_call c = {PB_KOS_BILL_INQUIRY, "/api/v1/kos/bill/inquiry",
	                     NULL, request_id, line};
	char kmonth[8];
	enum pb_err rc = PB_ERR_INVAL;

	init_result(res);
	if (k == NULL || !valid_line(line) || !valid_token(request_id, 64) ||
	    pb_kos_month_to_kos(month, kmonth, sizeof(kmonth)) != PB_OK)
		goto out;
	{
		const char *kv[] = {"lineNumber", line,        "billingMonth",
		                    kmonth,       "requestId", request_id,
		                    NULL};

		rc = post_kos(k, &c, kv, res);
	}
out:
	return rc;
}

enum pb_err
pb_kos_bill_months(struct pb_kos *k, const char *line, const char *request_id,
                   struct pb_kos_result *res)
{
	struct kos_call c = {PB_KOS_BILL_MONTHS, NULL, NULL, request_id, line};
	char path[96];
	enum pb_err rc = PB_ERR_INVAL;

	init_result(res);
	if (k == NULL || !valid_line(line) ||
	    (request_id != NULL && !valid_token(request_id, 64)))
		goto out;
	/* line is 11 digits: fits, nothing to escape */
	snprintf(path, sizeof(path), "/api/v1/kos/bill/available-months/%s",
	         line);
	c.path = path;
	rc = call_kos(k, &c, res);
out:
	return rc;
}

enum pb_err
pb_kos_product_inquiry(struct pb_kos *k, const char *line,
                       const char *request_id, struct pb_kos_result *res)
{
	struct kos_call c = {PB_KOS_PRODUCT_INQUIRY,
	                     "/api/v1/kos/product/inquiry", NULL, request_id,
	                     line};
	enum pb_err rc = PB_ERR_INVAL;

	init_result(res);
	if (k == NULL || !valid_line(line) || !valid_token(request_id, 64))
		goto out;
	{
		const char *kv[] = {"lineNumber", line, "requestId", request_id,
		                    NULL};

		rc = post_kos(k, &c, kv, res);
	}
out:
	return rc;
}

enum pb_err
pb_kos_product_list(struct pb_kos *k, const char *request_id,
                    struct pb_kos_result *res)
{
	struct kos_call c = {PB_KOS_PRODUCT_LIST, "/api/v1/kos/product/list",
	                     NULL, request_id, NULL};
	enum pb_err rc = PB_ERR_INVAL;

	init_result(res);
	if (k == NULL || (request_id != NULL && !valid_token(request_id, 64)))
		goto out;
	rc = call_kos(k, &c, res);
out:
	return rc;
}

enum pb_err
pb_kos_product_change(struct pb_kos *k, const char *line,
                      const char *current_code, const char *target_code,
                      const char *request_id, struct pb_kos_result *res)
{
	struct kos_call c = {PB_KOS_PRODUCT_CHANGE,
	                     "/api/v1/kos/product/change", NULL, request_id,
	                     line};
	enum pb_err rc = PB_ERR_INVAL;

	init_result(res);
	if (k == NULL || !valid_line(line) || !valid_token(request_id, 64) ||
	    !valid_token(current_code, 32) || !valid_token(target_code, 32))
		goto out;
	{
		const char *kv[] = {"lineNumber",
		                    line,
		                    "currentProductCode",
		                    current_code,
		                    "targetProductCode",
		                    target_code,
		                    "requestId",
		                    request_id,
		                    NULL};

		rc = post_kos(k, &c, kv, res);
	}
out:
	return rc;
}
