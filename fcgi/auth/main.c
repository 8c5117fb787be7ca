/*
 * phonebill-auth - the auth service, a FastCGI responder under /api/v1/auth.
 * Thin on purpose: the route table and the start-up spec; everything else
 * lives in libphonebill.
 */
#include "app.h"
#include "health.h"

static const struct pb_route routes[] = {
	{ "GET", "/api/v1/auth/health", pb_health_handler },
};

static const struct pb_app_spec spec = {
	.service = "auth",
	.prefix = "/api/v1/auth",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int
main(void)
{
	return pb_app_main(&spec);
}
