/*
 * phonebill-product - the product service, a FastCGI responder under /api/v1/products.
 * Thin on purpose: the route table and the start-up spec; everything else
 * lives in libphonebill.
 */
#include "app.h"
#include "backoffice.h"
#include "health.h"

static const struct pb_route routes[] = {
	{ "GET", "/api/v1/products/health", pb_health_handler },
};

/* The back-office keys are shared with the bill service's configuration;
 * the product operations (issue 6) will use them. */
static const char *const keys[] = { PB_BACKOFFICE_KEYS, NULL };

static const struct pb_app_spec spec = {
	.service = "product",
	.prefix = "/api/v1/products",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.extra_keys = keys,
};

int
main(void)
{
	return pb_app_main(&spec);
}
