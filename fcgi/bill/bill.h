/*
 * bill.h - the bill service's private parts (phonebill-bill).
 *
 * handlers.c  menu and inquiry (cache-aside over KOS, single-flight,
 *             stale-if-error)
 * query.c     stored results and history
 * billinfo.c  a KOS bill -> our BillInfo JSON
 * record.c    the history tables and the MVNO outbox
 * summary.c   the dashboard's months in one operation (from the cache)
 * The service's state (app->svc) is its struct pb_backoffice.
 */
#ifndef PB_BILL_BILL_H
#define PB_BILL_BILL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "app.h"
#include "authz.h"
#include "backoffice.h"
#include "buf.h"
#include "history.h"
#include "kos.h"
#include "request.h"

#define BILL_TTL_S 3600              /* s, a bill */
#define BILL_NEG_TTL_S 60            /* s, "no bill that month" */
#define BILL_MONTHS_TTL_S (4 * 3600) /* s, available months */
#define BILL_RESULT_TTL_S                                                      \
	600                           /* s, stored result in Redis (MariaDB    \
	                                 has it for good) */
#define BILL_STALE_TTL_S (30 * 86400) /* s, copy kept for KOS outages */
#define BILL_SUMMARY_MAX 256

extern const struct pb_history_spec bill_history_spec;

/* The service's state of a request's app (aborts on another app's state:
 * a programming error). */
struct pb_backoffice *bill_svc(struct pb_req *req);

#define BILL_ID_MAX 65   /* bytes of a user or customer id + NUL */
#define BILL_CODE_MAX 48 /* bytes of a result or error code + NUL */
#define BILL_NAME_MAX 32 /* bytes of a state or failure name + NUL */

/* What KOS did for one inquiry (bill_process_history). */
struct bill_hist_proc {
	int cache_hit, kos_called, stale;
	char kos_trace_id[72];
	char kos_result_code[BILL_CODE_MAX];
	char kos_result_message[PB_KOS_MESSAGE_MAX];
	char breaker_state[BILL_NAME_MAX]; /* "" none */
	char kos_failure[BILL_NAME_MAX];   /* "" none */
	long long elapsed_ms, kos_latency_ms, kos_attempts;
	int64_t kos_requested_at, kos_responded_at; /* ms; 0 none */
};

/*
 * One inquiry as the history keeps it (record.c): bill_request_history
 * and bill_process_history.  A string "" is absent (NULL in its column).
 * base.line is the line's 11 digits; base.mvno is made by prepare.
 */
struct bill_hist_rec {
	struct pb_history_rec base;
	char user_id[BILL_ID_MAX];
	char customer_id[BILL_ID_MAX];
	char month[8];   /* YYYY-MM */
	char status[16]; /* COMPLETED, FAILED */
	char result_code[BILL_CODE_MAX];
	char result_message[PB_KOS_MESSAGE_MAX];
	char error_code[BILL_CODE_MAX];
	char summary[BILL_SUMMARY_MAX]; /* "" until prepared */
	const char *response; /* the data answered (JSON text) or NULL;
	                         borrowed, or in the decoded record's block */
	int64_t requested_at, completed_at; /* ms since the epoch */
	int prepared; /* summary (and MVNO payload) done */
	struct bill_hist_proc proc;
};

/* An empty record of this kind. */
void bill_hist_rec_init(struct bill_hist_rec *r);
/* The storage form: r as JSON text appended to b (at most b's maximum:
 * PB_ERR_TOOBIG), and back (*out: one malloc'd block, free with
 * bill_history_spec.rec_free; why: the reason for a refusal). */
enum pb_err bill_hist_rec_encode(const struct bill_hist_rec *r,
                                 struct pb_buf *b);
enum pb_err bill_hist_rec_decode(const char *json, size_t len,
                                 struct bill_hist_rec **out, char *why);

/* handlers */
void bill_menu(struct pb_req *req);
void bill_inquiry(struct pb_req *req);
void bill_status(struct pb_req *req);
void bill_history(struct pb_req *req);
/* summary.c: GET /bills/summary?months=N */
void bill_summary(struct pb_req *req);

/* A KOS failure as the answer: 502 UPSTREAM_INVALID for garbage, 503
 * SERVICE_UNAVAILABLE + Retry-After for an outage (handlers.c). */
void bill_kos_failed(struct pb_req *req, enum pb_err rc,
                     int64_t retry_after_ms);

/* "2026-11" of the service clock in the service's time zone. */
void bill_current_month(const struct pb_app *app, char out[8]);
/* 1 when s is "YYYY-MM" with month 01-12 and a plausible year. */
int bill_month_valid(const char *s);
/* "010-1234-5678" -> "01012345678" (out >= 12 bytes). */
void bill_line_digits(const char *line, char *out, size_t outlen);

/*
 * KOS billInfo (data.billInfo of a 0000 answer) -> our BillInfo object.
 * summary receives "5G 프리미엄, 150,236원".  NULL when a required field
 * is missing (garbage from KOS).
 */
cJSON *bill_info_from_kos(const cJSON *kos_bill, char *summary,
                          size_t summarylen);
/* The summary of a BillInfo we made (for cached values). */
void bill_info_summary(const cJSON *info, char *summary, size_t summarylen);

#endif
