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

/* The history spec's prepare hook (record.c, run by phonebill-worker). */
void bill_prepare(struct pb_history *h, cJSON *rec);

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
