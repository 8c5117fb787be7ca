/*
 * phonebill-bill - the bill service, a FastCGI responder under /api/v1/bills.
 * Thin on purpose: the route table, the start-up spec and the back-office
 * set-up; the operations live in handlers.c and query.c.
 */
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "health.h"

static const struct pb_route routes[] = {
	{ "GET", "/api/v1/bills/health", pb_health_handler },
	{ "GET", "/api/v1/bills/menu", bill_menu },
	{ "POST", "/api/v1/bills/inquiry", bill_inquiry },
	{ "GET", "/api/v1/bills/inquiry/{requestId}", bill_status },
	{ "GET", "/api/v1/bills/history", bill_history },
};

static const char *const keys[] = { PB_BACKOFFICE_KEYS, NULL };

static enum pb_err
init(struct pb_app *app, char *err, size_t errlen)
{
	struct bill_svc *svc = calloc(1, sizeof(*svc));
	enum pb_err rc;

	if (svc == NULL)
		return PB_ERR_NOMEM;
	rc = pb_backoffice_init(&svc->bo, app, &bill_history_spec, NULL, err,
	    errlen);
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
	struct bill_svc *svc = app->svc;

	pb_backoffice_fini(&svc->bo);
	free(svc);
	app->svc = NULL;
}

static int
health(struct pb_app *app, cJSON *data)
{
	struct bill_svc *svc = app->svc;

	return pb_backoffice_health(&svc->bo, data);
}

static const struct pb_app_spec spec = {
	.service = "bill",
	.flags = PB_APP_PII,
	.prefix = "/api/v1/bills",
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
