/*
 * phonebill-bill - the bill service, a FastCGI responder under /api/v1/bills.
 * Thin on purpose: the route table, the start-up spec and the back-office
 * set-up; the operations live in handlers.c and query.c.
 */
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "cli.h"
#include "health.h"
#include "metrics.h"
#include "metrics_http.h"

static const struct pb_route routes[] = {
    {"GET", "/api/v1/bills/health", pb_health_handler},
    {"GET", "/api/v1/bills/metrics", pb_metrics_handler},
    {"GET", "/api/v1/bills/menu", bill_menu},
    {"POST", "/api/v1/bills/inquiry", bill_inquiry},
    {"GET", "/api/v1/bills/inquiry/{requestId}", bill_status},
    {"GET", "/api/v1/bills/history", bill_history},
    {"GET", "/api/v1/bills/summary", bill_summary},
};

static const char *const keys[] = {PB_BACKOFFICE_KEYS, NULL};

static const struct pb_backoffice_spec backoffice = {&bill_history_spec, NULL};

static const struct pb_app_spec spec = {
    .service = "bill",
    .flags = PB_APP_PII,
    .prefix = "/api/v1/bills",
    PB_APP_ROUTES(routes),
    .extra_keys = keys,
    PB_BACKOFFICE_HOOKS(backoffice),
    .what = "the bill inquiry service (/api/v1/bills)",
};

PB_APP_MAIN(spec)
