/* backoffice.c - KOS client, breaker, spool, MVNO and worker (backoffice.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "backoffice.h"
#include "clock.h"
#include "log.h"

#define REPLAY_EVERY_MS 2000  /* ms between looks at the spool directory */

#define MVNO_SECRET_MIN 32

static const char *const groups[] = {
	PB_BO_GROUP_BILL, PB_BO_GROUP_PRODUCT, PB_BO_GROUP_CHANGE
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

/* The worker's pass: spooled history first, then due deliveries. */
static void
worker_pass(void *ud)
{
	struct pb_backoffice *bo = ud;
	int64_t now = pb_clock_mono_ms();

	/* new records first: they are only in memory */
	while (pb_history_flush(&bo->whist, bo->wdb, bo->queue, bo->whttp,
	    &bo->mvno) == PB_HISTORY_FLUSH_MAX)
		;
	if (now - bo->last_replay_ms >= REPLAY_EVERY_MS) {
		bo->last_replay_ms = now;
		if (pb_history_replay(&bo->whist, bo->wdb, 200, NULL) ==
		    PB_ERR_UNAVAILABLE)
			return;  /* MariaDB away: the outbox is there too */
	}
	if (bo->tick != NULL)
		bo->tick(bo);
	(void)pb_history_deliver(&bo->whist, bo->wdb, bo->whttp, &bo->mvno,
	    NULL);
}

static enum pb_err
get_long(struct pb_app *app, const char *key, long def, long min, long max,
    long *out, char *err, size_t errlen)
{
	return pb_config_get_long(app->cfg, key, def, min, max, out, err,
	    errlen);
}

static enum pb_err
open_breaker(struct pb_backoffice *bo, char *err, size_t errlen)
{
	struct pb_app *app = bo->app;
	struct pb_breaker_opts o;
	const char *path = pb_config_get(app->cfg, "breaker.file", NULL);
	long v[8];
	enum pb_err rc;

	memset(&o, 0, sizeof(o));
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "breaker.file is required");
		return PB_ERR_CONFIG;
	}
	rc = get_long(app, "breaker.window_ms", 60000, 1000, 3600000, &v[0],
	    err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.min_calls", 10, 1, 10000, &v[1], err,
		    errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.failure_pct", 50, 1, 100, &v[2], err,
		    errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.slow_call_ms", 3000, 10, 60000, &v[3],
		    err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.slow_pct", 80, 1, 100, &v[4], err,
		    errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.open_ms", 30000, 100, 3600000, &v[5],
		    err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.half_open_permits", 3, 1,
		    PB_BREAKER_MAX_PERMITS, &v[6], err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.permit_ttl_ms", 10000, 100, 600000,
		    &v[7], err, errlen);
	if (rc != PB_OK)
		return rc;
	o.window_ms = v[0];
	o.min_calls = (unsigned)v[1];
	o.failure_pct = (unsigned)v[2];
	o.slow_call_ms = v[3];
	o.slow_pct = (unsigned)v[4];
	o.open_ms = v[5];
	o.half_open_permits = (unsigned)v[6];
	o.permit_ttl_ms = v[7];
	rc = pb_breaker_open(path, groups, NGROUPS, &o, &bo->breaker);
	if (rc != PB_OK)
		snprintf(err, errlen, "breaker.file %s: %s", path,
		    pb_strerror(rc));
	return rc;
}

static enum pb_err
open_kos(struct pb_backoffice *bo, char *err, size_t errlen)
{
	struct pb_app *app = bo->app;
	struct pb_kos_opts o;
	long conn, total, retries, maxr;
	enum pb_err rc;

	memset(&o, 0, sizeof(o));
	o.base_url = pb_config_get(app->cfg, "kos.url", NULL);
	if (o.base_url == NULL || o.base_url[0] == '\0') {
		snprintf(err, errlen, "kos.url is required");
		return PB_ERR_CONFIG;
	}
	rc = get_long(app, "kos.connect_timeout_ms", 1000, 50, 3000, &conn, err,
	    errlen);
	if (rc == PB_OK)
		rc = get_long(app, "kos.timeout_ms", 3000, 100, 3000, &total, err,
		    errlen);
	if (rc == PB_OK)
		rc = get_long(app, "kos.read_retries", 1, 0, PB_KOS_MAX_RETRIES,
		    &retries, err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "kos.max_response", PB_KOS_DEFAULT_MAX_RESP,
		    4096, 16L * 1024 * 1024, &maxr, err, errlen);
	if (rc != PB_OK)
		return rc;
	o.connect_timeout_ms = conn;
	o.total_timeout_ms = total;
	o.read_retries = retries == 0 ? -1 : (int)retries;
	o.max_response = (size_t)maxr;
	o.breaker = bo->breaker;
	/* https to KOS over a private link: our CA, our client certificate */
	o.ca_file = pb_config_get(app->cfg, "kos.ca_file", NULL);
	o.client_cert_file = pb_config_get(app->cfg, "kos.client_cert_file",
	    NULL);
	o.client_key_file = pb_config_get(app->cfg, "kos.client_key_file",
	    NULL);
	if ((o.client_cert_file == NULL) != (o.client_key_file == NULL)) {
		snprintf(err, errlen, "kos.client_cert_file and "
		    "kos.client_key_file go together");
		return PB_ERR_CONFIG;
	}
	o.bill_group = PB_BO_GROUP_BILL;
	o.product_group = PB_BO_GROUP_PRODUCT;
	o.change_group = PB_BO_GROUP_CHANGE;
	bo->kos_timeout_ms = total;
	rc = pb_http_new(&bo->http);
	if (rc == PB_OK) {
		o.http = bo->http;
		rc = pb_kos_new(&o, &bo->kos);
	}
	if (rc == PB_OK) {
		o.http = NULL;      /* the worker's client makes its own */
		rc = pb_kos_new(&o, &bo->wkos);
	}
	if (rc != PB_OK)
		snprintf(err, errlen, "kos: %s", pb_strerror(rc));
	return rc;
}

static enum pb_err
open_spools(struct pb_backoffice *bo, char *err, size_t errlen)
{
	struct pb_app *app = bo->app;
	struct pb_spool_opts o;
	long maxrec;
	enum pb_err rc;

	memset(&o, 0, sizeof(o));
	o.dir = pb_config_get(app->cfg, "spool.dir", NULL);
	if (o.dir == NULL || o.dir[0] == '\0') {
		snprintf(err, errlen, "spool.dir is required");
		return PB_ERR_CONFIG;
	}
	rc = get_long(app, "spool.max_records", 100000, 10, 10000000, &maxrec,
	    err, errlen);
	if (rc != PB_OK)
		return rc;
	o.max_records = (size_t)maxrec;
	o.key = app->has_pii ? app->pii_key : NULL;
	rc = pb_spool_open(&o, &bo->spool);
	if (rc == PB_OK)
		rc = pb_spool_open(&o, &bo->wspool);
	if (rc != PB_OK)
		snprintf(err, errlen, "spool.dir %s: %s", o.dir, pb_strerror(rc));
	return rc;
}

static enum pb_err
open_mvno(struct pb_backoffice *bo, char *err, size_t errlen)
{
	struct pb_app *app = bo->app;
	long timeout;
	enum pb_err rc;

	bo->mvno.url = pb_config_get(app->cfg, "mvno.url", "");
	rc = get_long(app, "mvno.timeout_ms", 2000, 100, 30000, &timeout, err,
	    errlen);
	if (rc != PB_OK)
		return rc;
	bo->mvno.timeout_ms = timeout;
	if (bo->mvno.url[0] == '\0') {
		pb_log_msg(PB_LOG_WARN, "mvno_disabled",
		    "mvno.url is empty: results are not delivered");
		return PB_OK;
	}
	rc = pb_config_secret(app->cfg, "mvno.hmac_secret", MVNO_SECRET_MIN,
	    &bo->mvno_secret, err, errlen);
	if (rc != PB_OK)
		return rc;
	bo->mvno.secret = (const unsigned char *)bo->mvno_secret;
	bo->mvno.secret_len = strlen(bo->mvno_secret);
	return PB_OK;
}

enum pb_err
pb_backoffice_init(struct pb_backoffice *bo, struct pb_app *app,
    const struct pb_history_spec *spec, void (*tick)(struct pb_backoffice *),
    char *err, size_t errlen)
{
	long interval;
	enum pb_err rc;

	memset(bo, 0, sizeof(*bo));
	bo->app = app;
	bo->tick = tick;
	rc = open_breaker(bo, err, errlen);
	if (rc == PB_OK)
		rc = open_kos(bo, err, errlen);
	if (rc == PB_OK)
		rc = open_spools(bo, err, errlen);
	if (rc == PB_OK)
		rc = open_mvno(bo, err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "worker.interval_ms", 1000, 50, 60000,
		    &interval, err, errlen);
	if (rc == PB_OK)
		rc = pb_history_queue_new(&bo->queue);
	if (rc == PB_OK)
		rc = pb_app_db_open(app, &bo->wdb, err, errlen);
	if (rc == PB_OK && app->redis != NULL)
		rc = pb_app_redis_open(app, &bo->wredis, err, errlen);
	if (rc == PB_OK) {
		rc = pb_http_new(&bo->whttp);
		if (rc != PB_OK)
			snprintf(err, errlen, "http: %s", pb_strerror(rc));
	}
	if (rc != PB_OK)
		goto out;
	bo->hist.spec = spec;
	bo->hist.app = app;
	bo->hist.spool = bo->spool;
	bo->whist.spec = spec;
	bo->whist.app = app;
	bo->whist.spool = bo->wspool;
	rc = pb_worker_start(worker_pass, bo, interval, &bo->worker);
	if (rc != PB_OK)
		snprintf(err, errlen, "worker: %s", pb_strerror(rc));
out:
	if (rc != PB_OK)
		pb_backoffice_fini(bo);
	return rc;
}

void
pb_backoffice_fini(struct pb_backoffice *bo)
{
	pb_worker_stop(bo->worker);
	bo->worker = NULL;
	/* what the worker had not written yet: now, or spooled */
	while (bo->queue != NULL && bo->wdb != NULL &&
	    pb_history_flush(&bo->whist, bo->wdb, bo->queue, NULL, NULL) > 0)
		;
	pb_history_queue_free(bo->queue);
	pb_kos_free(bo->kos);
	pb_kos_free(bo->wkos);
	pb_http_free(bo->http);
	pb_http_free(bo->whttp);
	pb_spool_close(bo->spool);
	pb_spool_close(bo->wspool);
	pb_db_free(bo->wdb);
	pb_redis_free(bo->wredis);
	pb_breaker_close(bo->breaker);
	pb_config_secret_free(bo->mvno_secret);
	memset(bo, 0, sizeof(*bo));
}

enum pb_err
pb_backoffice_record(struct pb_backoffice *bo, cJSON *rec)
{
	enum pb_err rc;

	rc = pb_history_queue_push(bo->queue, rec);
	if (rc == PB_OK)
		pb_worker_wake(bo->worker);  /* the first one waiting */
	if (rc != PB_ERR_TOOBIG)
		return PB_OK;
	/* the worker is far behind: write it here (backpressure) */
	if (bo->hist.spec->prepare != NULL)
		bo->hist.spec->prepare(&bo->hist, rec);
	rc = pb_history_save(&bo->hist, bo->app->db, rec);
	cJSON_Delete(rec);
	pb_worker_wake(bo->worker);
	return rc;
}

int
pb_backoffice_health(struct pb_backoffice *bo, cJSON *data)
{
	struct pb_breaker_stats st;
	cJSON *kos, *brs, *b, *sp;
	size_t i;

	kos = cJSON_AddObjectToObject(data, "kos");
	brs = kos != NULL ? cJSON_AddObjectToObject(kos, "breakers") : NULL;
	for (i = 0; brs != NULL && i < NGROUPS; i++) {
		if (pb_breaker_stats(bo->breaker, (int)i, &st) != PB_OK)
			continue;
		b = cJSON_AddObjectToObject(brs, groups[i]);
		if (b == NULL)
			break;
		cJSON_AddStringToObject(b, "state",
		    pb_breaker_state_name(st.state));
		cJSON_AddNumberToObject(b, "calls", st.calls);
		cJSON_AddNumberToObject(b, "failures", st.failures);
		cJSON_AddNumberToObject(b, "slow", st.slow);
		cJSON_AddNumberToObject(b, "permitsInUse", st.permits_in_use);
		cJSON_AddNumberToObject(b, "transitions", (double)st.transitions);
		cJSON_AddNumberToObject(b, "rejected", (double)st.rejected);
	}
	sp = cJSON_AddObjectToObject(data, "spool");
	if (sp != NULL)
		cJSON_AddNumberToObject(sp, "pending",
		    (double)pb_spool_pending(bo->spool));
	cJSON_AddNumberToObject(data, "historyQueue",
	    (double)pb_history_queue_len(bo->queue));
	cJSON_AddStringToObject(data, "mvno",
	    bo->mvno.url[0] != '\0' ? "ENABLED" : "DISABLED");
	return 1;
}

enum pb_err
pb_backoffice_app_init(struct pb_app *app, char *err, size_t errlen)
{
	const struct pb_backoffice_spec *bs = app->spec->ctx;
	struct pb_backoffice *bo = calloc(1, sizeof(*bo));
	enum pb_err rc;

	if (bo == NULL)
		return PB_ERR_NOMEM;
	rc = pb_backoffice_init(bo, app, bs->history, bs->tick, err, errlen);
	if (rc != PB_OK) {
		free(bo);
		return rc;
	}
	app->svc = bo;
	return PB_OK;
}

void
pb_backoffice_app_fini(struct pb_app *app)
{
	pb_backoffice_fini(app->svc);
	free(app->svc);
	app->svc = NULL;
}

int
pb_backoffice_app_health(struct pb_app *app, cJSON *data)
{
	return pb_backoffice_health(app->svc, data);
}
