/*
 * phonebill-product - the product service, a FastCGI responder under
 * /api/v1/products.  Thin on purpose: the route table, the start-up spec
 * and the back-office set-up; the operations live in handlers.c, change.c
 * and query.c.
 */
#include "cli.h"
#include "health.h"
#include "metrics.h"
#include "metrics_http.h"
#include "product.h"

static const struct pb_route routes[] = {
    {"GET", "/api/v1/products/health", pb_health_handler},
    {"GET", "/api/v1/products/metrics", pb_metrics_handler},
    {"GET", "/api/v1/products/menu", prod_menu},
    {"GET", "/api/v1/products/customer/{lineNumber}", prod_customer_info},
    {"GET", "/api/v1/products/available", prod_available},
    {"POST", "/api/v1/products/change/validation", prod_validation},
    {"POST", "/api/v1/products/change", prod_change},
    {"GET", "/api/v1/products/change/{requestId}", prod_change_status},
    {"GET", "/api/v1/products/history", prod_history},
};

static const char *const keys[] = {PB_BACKOFFICE_KEYS, NULL};

static const struct pb_backoffice_spec backoffice = {&prod_history_spec,
                                                     prod_resolve_pending};

static const struct pb_app_spec spec = {
    .service = "product",
    .flags = PB_APP_PII,
    .prefix = "/api/v1/products",
    PB_APP_ROUTES(routes),
    .extra_keys = keys,
    PB_BACKOFFICE_HOOKS(backoffice),
    .what = "the rate-plan change service (/api/v1/products)",
};

PB_APP_MAIN(spec)
