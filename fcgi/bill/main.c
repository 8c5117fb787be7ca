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
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
    .extra_keys = keys,
    .init = pb_backoffice_app_init,
    .fini = pb_backoffice_app_fini,
    .health = pb_backoffice_app_health,
    .ctx = &backoffice,
};

static const char help[] =
    "usage: phonebill-bill [--version | --help]\n"
    "the bill inquiry service (/api/v1/bills), a FastCGI responder: the web "
    "server\n"
    "starts it (socket on stdin) with PHONEBILL_CONFIG naming its config\n"
    "file.  See phonebill-auth(8).\n";

int
main(int argc, char **argv)
{
	int rc = pb_cli_std(argc, argv, "phonebill-bill", help);

	if (rc >= 0)
		return rc;
	return pb_app_main(&spec);
}
