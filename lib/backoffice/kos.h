/*
 * kos.h - the client of the carrier's back office KOS-Order (HTTP/JSON).
 *
 * Operations (docs/KOS-SIMULATOR.md, API.md "KOS-Order"): bill inquiry,
 * available months, product inquiry, product list, product change.  Every
 * call goes through the shared circuit breaker (breaker.h) of its group
 * when one is configured, and is logged in one line (line numbers masked).
 *
 * Return values of the operations:
 *   PB_OK              KOS answered with a well-formed envelope.  Business
 *                      refusals are PB_OK too: look at result.code ("0000"
 *                      ok, "1003" no bill, ...); the caller maps them.
 *   PB_ERR_UNAVAILABLE the breaker refused (result.failure OPEN, or
 *                      BULKHEAD when enough processes already wait on KOS;
 *                      result.retry_after_ms set, no network I/O), or a
 *                      transport error, HTTP 3xx or 5xx.  A half-open
 *                      probe gets only the breaker's probe_timeout_ms.
 *   PB_ERR_TIMEOUT     the total budget (total_timeout_ms) ran out.
 *   PB_ERR_PARSE       KOS answered garbage (not JSON, truncated, not the
 *                      envelope, wrong types, 2xx/4xx without envelope).
 *   PB_ERR_TOOBIG      the answer passed max_response bytes.
 *   PB_ERR_INVAL       an argument was invalid; KOS was not called.
 *   PB_ERR_NOMEM       allocation failed.
 * Breaker outcome per attempt: FAILURE for transport, timeout, 3xx, 5xx,
 * garbage and too big; SUCCESS for any well-formed answer (business codes
 * never count).
 *
 * Retries: only the idempotent reads (bill inquiry, available months,
 * product inquiry, product list), at most read_retries extra attempts,
 * and only when the attempt failed before KOS could have processed the
 * request: a transport error (connection refused/reset, empty reply) or
 * HTTP 502/503/504 (the server says it did not process it).  Never on a
 * timeout (the budget is spent and KOS is slow: more load would not help),
 * HTTP 500, 3xx, garbage, too big or any business code.  The wait before
 * retry n is jittered: 50*2^(n-1) ms plus randombytes_uniform of as much
 * again; a retry happens only when the time left of total_timeout_ms
 * (counted from the first attempt) after the wait is still >= 100 ms, and
 * that attempt gets only the time left.  Each attempt acquires the
 * breaker anew (an OPEN refusal ends the call).  A product change is
 * never retried (a lost answer is retried by the caller with the same
 * requestId; KOS de-duplicates on it).
 *
 * A struct pb_kos is per process and not thread-safe.  The caller runs
 * curl_global_init() before pb_kos_new() and sodium_init() is called by
 * pb_kos_new().
 */
#ifndef PB_KOS_H
#define PB_KOS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "breaker.h"
#include "err.h"
#include "http.h"

#define PB_KOS_DEFAULT_TOTAL_MS 3000   /* ms, the breaker's slow-call limit */
#define PB_KOS_DEFAULT_CONNECT_MS 1000 /* ms */
#define PB_KOS_DEFAULT_MAX_RESP (1024 * 1024) /* bytes */
#define PB_KOS_DEFAULT_RETRIES 1
#define PB_KOS_MAX_RETRIES 3
#define PB_KOS_MAX_MONTHS 36   /* available months kept */
#define PB_KOS_MESSAGE_MAX 512 /* bytes of resultMessage kept */

enum pb_kos_op {
	PB_KOS_BILL_INQUIRY = 0,
	PB_KOS_BILL_MONTHS,
	PB_KOS_PRODUCT_INQUIRY,
	PB_KOS_PRODUCT_LIST,
	PB_KOS_PRODUCT_CHANGE
};
#define PB_KOS_NOPS 5

/* Why a call did not get a well-formed answer (for history records). */
enum pb_kos_failure {
	PB_KOS_FAIL_NONE = 0,
	PB_KOS_FAIL_OPEN,       /* breaker refused; KOS not called */
	PB_KOS_FAIL_TRANSPORT,  /* connect/send/receive failed */
	PB_KOS_FAIL_TIMEOUT,    /* budget ran out */
	PB_KOS_FAIL_HTTP_ERROR, /* HTTP 3xx or 5xx */
	PB_KOS_FAIL_GARBAGE,    /* not a well-formed envelope */
	PB_KOS_FAIL_TOOBIG,     /* over max_response */
	PB_KOS_FAIL_BULKHEAD    /* the bulkhead was full; KOS not called */
};

struct pb_kos_opts {
	/* "http://127.0.0.1:9080" (copied); http or https; no trailing
	   path needed */
	const char *base_url;
	long connect_timeout_ms;      /* ms; 0 -> 1000 */
	long total_timeout_ms;        /* ms for a whole call with retries;
	                                 0 -> 3000 */
	size_t max_response;          /* bytes; 0 -> 1 MiB */
	int read_retries;             /* extra attempts for reads; -1 -> 0,
	                                 0 -> 1 (default), at most 3 */
	struct pb_breaker *breaker;   /* borrowed, may be NULL (no breaker) */
	const char *bill_group;       /* breaker group of bill inquiry and
	                                 months; NULL -> "kos.bill" */
	const char *product_group;    /* product inquiry and list;
	                                 NULL -> "kos.product" */
	const char *change_group;     /* product change; NULL -> "kos.change" */
	struct pb_http *http;         /* borrowed, may be NULL: the client then
	                                 makes (and frees) its own */
	const char *ca_file;          /* https: PEM CA of KOS's certificate
	                                 (copied); NULL: the system's CAs */
	const char *client_cert_file; /* mutual TLS: our PEM certificate and */
	const char *client_key_file;  /* key (copied); NULL: none */
};

struct pb_kos_result {
	int success;  /* envelope "success" */
	char code[8]; /* resultCode ("0000"), "" without answer */
	char message[PB_KOS_MESSAGE_MAX]; /* resultMessage, cut at a UTF-8
	                                boundary; "" without answer */
	char trace_id[72];         /* traceId ("" when absent or too long) */
	cJSON *data;               /* owned ("data" detached from the
	                              envelope; NULL when null) */
	long http_status;          /* last attempt's status, 0 = none */
	unsigned attempts;         /* HTTP calls made (0 when refused) */
	int64_t latency_ms;        /* ms, whole call with retries */
	int64_t retry_after_ms;    /* ms, when the breaker refused */
	const char *breaker_state; /* static: "CLOSED", "OPEN", "HALF_OPEN",
	                              or "NONE" without a breaker */
	enum pb_kos_failure failure;
	int sent;                   /* 1 when any attempt reached KOS (a
	                               change may then have been made) */
	const char *transport_kind; /* static; the last attempt's failure
	                               below HTTP ("tls", "connect", ...;
	                               http.h), "" or NULL when none */
	char transport_error[128];  /* libcurl's message for it */
	/* available months (PB_KOS_BILL_MONTHS with code "0000"): "YYYY-MM",
	   newest first */
	char months[PB_KOS_MAX_MONTHS][8];
	size_t nmonths;
};

struct pb_kos;

/* Make a client; caller frees with pb_kos_free.  PB_ERR_CONFIG for a bad
   URL or a group name the breaker does not know. */
enum pb_err pb_kos_new(const struct pb_kos_opts *opts, struct pb_kos **out);
void pb_kos_free(struct pb_kos *k);

/*
 * The operations.  line: 11 digits starting "01"; month: "YYYY-MM" (01-12);
 * request_id: 1-64 of [A-Za-z0-9._-] (required for the POST operations,
 * optional (NULL) for the GETs; sent as X-Request-ID too); product codes:
 * 1-32 of [A-Za-z0-9._-].  *res is always initialised: release it with
 * pb_kos_result_free whatever the return value.
 */
enum pb_err pb_kos_bill_inquiry(struct pb_kos *k, const char *line,
                                const char *month, const char *request_id,
                                struct pb_kos_result *res);
enum pb_err pb_kos_bill_months(struct pb_kos *k, const char *line,
                               const char *request_id,
                               struct pb_kos_result *res);
enum pb_err pb_kos_product_inquiry(struct pb_kos *k, const char *line,
                                   const char *request_id,
                                   struct pb_kos_result *res);
enum pb_err pb_kos_product_list(struct pb_kos *k, const char *request_id,
                                struct pb_kos_result *res);
enum pb_err pb_kos_product_change(struct pb_kos *k, const char *line,
                                  const char *current_code,
                                  const char *target_code,
                                  const char *request_id,
                                  struct pb_kos_result *res);

/* Free res->data and clear res; NULL is a no-op. */
void pb_kos_result_free(struct pb_kos_result *res);

/*
 * Parse a KOS answer body text[0..len) for op into res (which the caller
 * initialised with memset 0 or a previous pb_kos_result_free; fields other
 * than the envelope's are left alone).  PB_OK: a well-formed envelope
 * (success bool, resultCode 4 digits, resultMessage string, optional data,
 * timestamp and traceId; success true exactly for "0000"; for 0000 the
 * op's data checked, months converted).  PB_ERR_PARSE or PB_ERR_TOOBIG
 * otherwise, res then holds no data.  Exposed for the fuzz target.
 */
enum pb_err pb_kos_parse_envelope(const char *text, size_t len,
                                  enum pb_kos_op op, struct pb_kos_result *res);

/* "2026-11" -> "202611" (out >= 7 bytes); PB_ERR_INVAL if not YYYY-MM. */
enum pb_err pb_kos_month_to_kos(const char *month, char *out, size_t outlen);
/* "202611" -> "2026-11" (out >= 8 bytes); PB_ERR_INVAL if not YYYYMM. */
enum pb_err pb_kos_month_from_kos(const char *kos, char *out, size_t outlen);

/* "none", "open", "transport", "timeout", "http_error", "garbage", "toobig",
   "bulkhead" */
const char *pb_kos_failure_name(enum pb_kos_failure f);
/* "bill.inquiry", "bill.months", "product.inquiry", ... */
const char *pb_kos_op_name(enum pb_kos_op op);

#endif
