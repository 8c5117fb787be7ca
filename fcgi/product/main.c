/*
 * phonebill-product - the product service, a FastCGI responder under
 * /api/v1/products.  Thin on purpose: the route table, the start-up spec
 * and the back-office set-up; the operations live in handlers.c, change.c
 * and query.c.
 */
#include <stdlib.h>

#include "health.h"
#include "product.h"

static const struct pb_route routes[] = {
	{ "GET", "/api/v1/products/health", pb_health_handler },
	{ "GET", "/api/v1/products/menu", prod_menu },
	{ "GET", "/api/v1/products/customer/{lineNumber}", prod_customer_info },
	{ "GET", "/api/v1/products/available", prod_available },
	{ "POST", "/api/v1/products/change/validation", prod_validation },
	{ "POST", "/api/v1/products/change", prod_change },
	{ "GET", "/api/v1/products/change/{requestId}", prod_change_status },
	{ "GET", "/api/v1/products/history", prod_history },
};

static const char *const keys[] = { PB_BACKOFFICE_KEYS, NULL };

static enum pb_err
init(struct pb_app *app, char *err, size_t errlen)
{
	struct prod_svc *svc = calloc(1, sizeof(*svc));
	enum pb_err rc;

	if (svc == NULL)
		return PB_ERR_NOMEM;
	rc = pb_backoffice_init(&svc->bo, app, &prod_history_spec,
	    prod_resolve_pending, err, errlen);
	if (rc != PB_OK) {
		free(svc);
		return rc;
	}
	app->svc = svc;
	return PB_OK;
}

static void
fini(struct pb_app *app)
{
	struct prod_svc *svc = app->svc;

	pb_backoffice_fini(&svc->bo);
	free(svc);
	app->svc = NULL;
}

static int
health(struct pb_app *app, cJSON *data)
{
	struct prod_svc *svc = app->svc;

	return pb_backoffice_health(&svc->bo, data);
}

static const struct pb_app_spec spec = {
	.service = "product",
	.flags = PB_APP_PII,
	.prefix = "/api/v1/products",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.extra_keys = keys,
	.init = init,
	.fini = fini,
	.health = health,
};

int
main(void)
{
	return pb_app_main(&spec);
}
