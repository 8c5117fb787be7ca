/*
 * phonebill-bill - the bill service, a FastCGI responder under /api/v1/bills.
 * Thin on purpose: the route table and the start-up spec; everything else
 * lives in libphonebill.
 */
#include "app.h"
#include "health.h"

static const struct pb_route routes[] = {
	{ "GET", "/api/v1/bills/health", pb_health_handler },
};

static const struct pb_app_spec spec = {
	.service = "bill",
	.prefix = "/api/v1/bills",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int
main(void)
{
	return pb_app_main(&spec);
}
