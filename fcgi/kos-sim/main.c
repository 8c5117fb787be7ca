/*
 * phonebill-kos-sim - the KOS-Order simulator and MVNO AP receiver, a
 * FastCGI responder on its own port (docs/KOS-SIMULATOR.md).  Thin on
 * purpose: the route table, the start-up spec and the hooks that load the
 * simulator's own settings; the handlers live in the other files.
 */
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "cli.h"
#include "sim.h"

static const struct pb_route routes[] = {
    /* KOS-Order (API.md) */
    {"POST", "/api/v1/kos/bill/inquiry", ks_bill_inquiry},
    {"GET", "/api/v1/kos/bill/available-months/{lineNumber}", ks_bill_months},
    {"POST", "/api/v1/kos/product/inquiry", ks_product_inquiry},
    {"GET", "/api/v1/kos/product/list", ks_product_list},
    {"POST", "/api/v1/kos/product/change", ks_product_change},
    /* MVNO AP receiver */
    {"POST", "/mvno/api/v1/results", ks_mvno_receive},
    /* loopback-only administration */
    {"GET", "/_sim/faults", ks_faults_get},
    {"POST", "/_sim/faults", ks_faults_post},
    {"DELETE", "/_sim/faults", ks_faults_delete},
    {"POST", "/_sim/faults/reset", ks_faults_delete},
    {"DELETE", "/_sim/faults/{operation}", ks_faults_delete_one},
    {"GET", "/_sim/stats", ks_stats_get},
    {"DELETE", "/_sim/stats", ks_stats_delete},
    {"GET", "/_sim/mvno/deliveries", ks_mvno_list},
    {"DELETE", "/_sim/mvno/deliveries", ks_mvno_clear},
    {"GET", "/_sim/lines", ks_admin_lines},
    {"POST", "/_sim/data/reset", ks_admin_data_reset},
    {"GET", "/_sim/health", pb_health_handler},
};

static const char *const extra_keys[] = {
    "mvno.hmac_secret_file",       /* PHONEBILL_MVNO_HMAC_SECRET[_FILE] */
    "mvno.hmac_other_secret_file", /* also accepted while rotating */
    "sim.max_skew_s",              /* s, default 300 */
    NULL};

static enum pb_err
sim_init(struct pb_app *app, char *err, size_t errlen)
{
	struct ks_state *st;
	enum pb_err rc;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return PB_ERR_NOMEM;
	app->svc = st;
	rc = pb_config_get_long(app->cfg, "sim.max_skew_s", KS_MAX_SKEW_DEFAULT,
	                        1, 86400, &st->max_skew_s, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_secret(app->cfg, "mvno.hmac_secret",
		                      KS_HMAC_SECRET_MIN, &st->hmac_secret, err,
		                      errlen);
	if (rc == PB_OK)
		st->hmac_len = strlen(st->hmac_secret);
	/* the overlap window of a rotation: two valid secrets */
	if (rc == PB_OK &&
	    (pb_config_get(app->cfg, "mvno.hmac_other_secret_file", NULL) !=
	         NULL ||
	     getenv("PHONEBILL_MVNO_HMAC_OTHER_SECRET") != NULL ||
	     getenv("PHONEBILL_MVNO_HMAC_OTHER_SECRET_FILE") != NULL))
		rc = pb_config_secret(app->cfg, "mvno.hmac_other_secret",
		                      KS_HMAC_SECRET_MIN, &st->hmac_other, err,
		                      errlen);
	return rc;
}

static void
sim_fini(struct pb_app *app)
{
	struct ks_state *st = app->svc;

	if (st == NULL)
		return;
	pb_config_secret_free(st->hmac_secret);
	pb_config_secret_free(st->hmac_other);
	free(st);
	app->svc = NULL;
}

static const struct pb_app_spec spec = {
    .service = "kos-sim",
    .flags = PB_APP_NO_REDIS | PB_APP_NO_JWT,
    .prefix = "/",
    PB_APP_ROUTES(routes),
    .extra_keys = extra_keys,
    .init = sim_init,
    .fini = sim_fini,
    .what = "the KOS-Order simulator and MVNO AP receiver (test systems only)",
    .man = "phonebill-kos-sim(8)",
};

PB_APP_MAIN(spec)
