/* backoffice.c - KOS client, breaker, spool, MVNO and worker (backoffice.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "backoffice.h"
#include "clock.h"
#include "handoff.h"
#include "log.h"
#include "metrics.h"

static const char *const groups[] = {PB_BO_GROUP_BILL, PB_BO_GROUP_PRODUCT,
                                     PB_BO_GROUP_CHANGE};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))
_Static_assert(NGROUPS == sizeof(((struct pb_backoffice *)0)->waiters) /
                              sizeof(((struct pb_backoffice *)0)->waiters[0]),
               "a waiter per group");

static enum pb_err
get_long(struct pb_app *app, const char *key, long def, long min, long max,
         long *out, char *err, size_t errlen)
{
	return pb_config_get_long(app->cfg, key, def, min, max, out, err,
	                          errlen);
}

/*
 * The slow-call run, the probe budget and the bulkhead (issue 19).  The
 * bulkhead's default is half the service's FastCGI pool (at least 1), so
 * that a hanging KOS can park at most half the processes and the rest
 * keep answering what needs no KOS.
 *
 * How long a request waits on another's KOS call (a bulkhead slot, or a
 * single-flight load of the same key), counted from that call's start,
 * is short for the bill service, whose cached inquiries must not queue
 * behind a process parked at the start of a hang, and long for the
 * product service, whose KOS calls are plan changes that take hundreds of
 * milliseconds and whose concurrent callers should get the change, not a
 * 503.
 */
#define BILL_SLOT_WAIT_MS 50
#define BILL_CACHE_WAIT_MS 100
#define PRODUCT_WAIT_MS 500
static enum pb_err
bulkhead_opts(struct pb_backoffice *bo, struct pb_breaker_opts *o, char *err,
              size_t errlen)
{
	struct pb_app *app = bo->app;
	long run, probe, pool, max, ttl, wait, slot_wait;
	int bill = strcmp(app->spec->service, "bill") == 0;
	enum pb_err rc;

	rc = get_long(app, "breaker.consecutive_slow", 5, 0, 1000, &run, err,
	              errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.probe_timeout_ms", 1000, 0, 60000,
		              &probe, err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "bulkhead.pool_size", 4, 1, 4096, &pool, err,
		              errlen);
	if (rc == PB_OK)
		rc = get_long(app, "bulkhead.max_calls",
		              pool / 2 > 0 ? pool / 2 : 1, 0,
		              PB_BREAKER_MAX_SLOTS, &max, err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "bulkhead.slot_ttl_ms", 10000, 1000, 600000,
		              &ttl, err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "bulkhead.max_wait_ms",
		              bill ? BILL_SLOT_WAIT_MS : PRODUCT_WAIT_MS, 0,
		              3000, &slot_wait, err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "cache.wait_ms",
		              bill ? BILL_CACHE_WAIT_MS : PRODUCT_WAIT_MS, 10,
		              3000, &wait, err, errlen);
	if (rc != PB_OK)
		return rc;
	o->consecutive_slow = (unsigned)run;
	o->probe_timeout_ms = probe;
	o->bulkhead_max = (unsigned)max;
	o->bulkhead_ttl_ms = ttl;
	o->bulkhead_wait_ms = slot_wait;
	/* one compartment per service: each keeps its own pool's share */
	o->bulkhead_compartment = bill ? 1 : 2;
	bo->cache_wait_ms = wait;
	return PB_OK;
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
		rc = get_long(app, "breaker.min_calls", 10, 1, 10000, &v[1],
		              err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.failure_pct", 50, 1, 100, &v[2],
		              err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.slow_call_ms", 1500, 10, 60000,
		              &v[3], err, errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.slow_pct", 80, 1, 100, &v[4], err,
		              errlen);
	if (rc == PB_OK)
		rc = get_long(app, "breaker.open_ms", 30000, 100, 3600000,
		              &v[5], err, errlen);
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
	rc = bulkhead_opts(bo, &o, err, errlen);
	if (rc != PB_OK)
		return rc;
	rc = pb_breaker_open(path, groups, NGROUPS, &o, &bo->breaker);
	if (rc != PB_OK)
		snprintf(err, errlen, "breaker.file %s: %s", path,
		         pb_strerror(rc));
	else
		pb_metrics_set_groups(groups, NGROUPS);
	return rc;
}

/* /metrics: the history hand-off and the MVNO outbox (handoff.h), read
 * from Redis now; nothing when Redis cannot be asked. */
static void
backoffice_history_metrics(struct pb_backoffice *bo, struct pb_buf *o,
                           const char *svc)
{
	struct pb_handoff_stats h;

	if (bo->app->redis == NULL ||
	    pb_handoff_stats(bo->app->redis, pb_clock_now_ms(), &h) != PB_OK)
		return;
	(void)pb_buf_printf(
	    o,
	    "# HELP phonebill_history_backlog History records handed off and "
	    "not yet written to MariaDB.\n"
	    "# TYPE phonebill_history_backlog gauge\n"
	    "phonebill_history_backlog{service=\"%s\"} %lld\n"
	    "# HELP phonebill_history_pending Of those, read by a worker and "
	    "not yet acknowledged.\n"
	    "# TYPE phonebill_history_pending gauge\n"
	    "phonebill_history_pending{service=\"%s\"} %lld\n"
	    "# HELP phonebill_history_oldest_seconds Age of the oldest record "
	    "waiting.\n"
	    "# TYPE phonebill_history_oldest_seconds gauge\n"
	    "phonebill_history_oldest_seconds{service=\"%s\"} %.3f\n"
	    "# HELP phonebill_history_dead Records set aside (dead letters).\n"
	    "# TYPE phonebill_history_dead gauge\n"
	    "phonebill_history_dead{service=\"%s\"} %lld\n"
	    "# HELP phonebill_history_workers Workers that reported in the "
	    "last 15 s.\n"
	    "# TYPE phonebill_history_workers gauge\n"
	    "phonebill_history_workers{service=\"%s\"} %lld\n"
	    "# HELP phonebill_spool_pending Records the workers hold in their "
	    "local spools (MariaDB away).\n"
	    "# TYPE phonebill_spool_pending gauge\n"
	    "phonebill_spool_pending{service=\"%s\"} %lld\n"
	    "# HELP phonebill_mvno_outbox MVNO deliveries not yet "
	    "acknowledged.\n"
	    "# TYPE phonebill_mvno_outbox gauge\n"
	    "phonebill_mvno_outbox{service=\"%s\"} %lld\n"
	    "# HELP phonebill_mvno_dead MVNO deliveries given up.\n"
	    "# TYPE phonebill_mvno_dead gauge\n"
	    "phonebill_mvno_dead{service=\"%s\"} %lld\n"
	    "# HELP phonebill_mvno_delivery_lag_seconds Age of the oldest "
	    "result not yet delivered.\n"
	    "# TYPE phonebill_mvno_delivery_lag_seconds gauge\n"
	    "phonebill_mvno_delivery_lag_seconds{service=\"%s\"} %.3f\n",
	    svc, h.length, svc, h.pending, svc, h.oldest_ms / 1000.0, svc,
	    h.dead, svc, h.workers, svc, h.spooled, svc, h.outbox, svc,
	    h.outbox_dead, svc, h.delivery_lag_ms / 1000.0);
}

/* /metrics: the breakers and the history hand-off, read now. */
static void
backoffice_metrics(void *ud, struct pb_buf *o, const char *svc)
{
	struct pb_backoffice *bo = ud;
	struct pb_breaker_stats st;
	size_t i;

	(void)pb_buf_append_str(
	    o,
	    "# HELP phonebill_kos_breaker_state "
	    "Circuit breaker per KOS group: 0 closed, 1 open, 2 half-open.\n"
	    "# TYPE phonebill_kos_breaker_state gauge\n"
	    "# HELP phonebill_kos_breaker_window_calls Calls in the breaker's "
	    "sliding window (failures, slow: of those).\n"
	    "# TYPE phonebill_kos_breaker_window_calls gauge\n"
	    "# TYPE phonebill_kos_breaker_window_failures gauge\n"
	    "# TYPE phonebill_kos_breaker_window_slow gauge\n"
	    "# HELP phonebill_kos_breaker_transitions_total State changes "
	    "since the breaker file was made.\n"
	    "# TYPE phonebill_kos_breaker_transitions_total counter\n"
	    "# HELP phonebill_kos_breaker_rejected_total Calls refused while "
	    "open.\n# TYPE phonebill_kos_breaker_rejected_total counter\n");
	for (i = 0; i < NGROUPS; i++) {
		if (pb_breaker_stats(bo->breaker, (int)i, &st) != PB_OK)
			continue;
		(void)pb_buf_printf(
		    o,
		    "phonebill_kos_breaker_state{service=\"%s\","
		    "group=\"%s\"} %d\n"
		    "phonebill_kos_breaker_window_calls{service=\"%s\",group="
		    "\"%s\"} %u\n"
		    "phonebill_kos_breaker_window_failures{service=\"%s\","
		    "group="
		    "\"%s\"} %u\n"
		    "phonebill_kos_breaker_window_slow{service=\"%s\",group="
		    "\"%s\"} %u\n"
		    "phonebill_kos_breaker_transitions_total{service=\"%s\","
		    "group=\"%s\"} %llu\n"
		    "phonebill_kos_breaker_rejected_total{service=\"%s\",group="
		    "\"%s\"} %llu\n",
		    svc, groups[i], (int)st.state, svc, groups[i], st.calls,
		    svc, groups[i], st.failures, svc, groups[i], st.slow, svc,
		    groups[i], (unsigned long long)st.transitions, svc,
		    groups[i], (unsigned long long)st.rejected);
	}
	backoffice_history_metrics(bo, o, svc);
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
		rc = get_long(app, "kos.timeout_ms", 3000, 100, 3000, &total,
		              err, errlen);
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
	o.client_cert_file =
	    pb_config_get(app->cfg, "kos.client_cert_file", NULL);
	o.client_key_file =
	    pb_config_get(app->cfg, "kos.client_key_file", NULL);
	if ((o.client_cert_file == NULL) != (o.client_key_file == NULL)) {
		snprintf(err, errlen,
		         "kos.client_cert_file and "
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
	if (rc != PB_OK)
		snprintf(err, errlen, "spool.dir %s: %s", o.dir,
		         pb_strerror(rc));
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
	rc = pb_config_secret(app->cfg, "mvno.hmac_secret", PB_MVNO_SECRET_MIN,
	                      &bo->mvno_secret, err, errlen);
	if (rc != PB_OK)
		return rc;
	bo->mvno.secret = (const unsigned char *)bo->mvno_secret;
	bo->mvno.secret_len = strlen(bo->mvno_secret);
	return PB_OK;
}

enum pb_err
pb_backoffice_init(struct pb_backoffice *bo, struct pb_app *app,
                   const struct pb_history_spec *spec,
                   void (*tick)(struct pb_backoffice *), int for_worker,
                   char *err, size_t errlen)
{
	enum pb_err rc;

	memset(bo, 0, sizeof(*bo));
	bo->app = app;
	bo->tick = tick;
	rc = open_breaker(bo, err, errlen);
	if (rc == PB_OK)
		rc = open_kos(bo, err, errlen);
	if (rc == PB_OK)
		rc = open_mvno(bo, err, errlen);
	if (rc == PB_OK && for_worker)
		rc = open_spools(bo, err, errlen);
	if (rc != PB_OK)
		goto out;
	/* one thread per process: the "worker's" handles are the app's */
	bo->wdb = app->db;
	bo->wredis = app->redis;
	bo->wkos = bo->kos;
	bo->hist.spec = spec;
	pb_app_history_keys(app, &bo->hist);
	bo->hist.spool = bo->spool;
	bo->hist.mvno_on = bo->mvno.url[0] != '\0';
	for (size_t i = 0; i < NGROUPS; i++) {
		bo->waiters[i].bo = bo;
		bo->waiters[i].group = groups[i];
	}
	bo->whist = bo->hist;
out:
	if (rc != PB_OK)
		pb_backoffice_fini(bo);
	else
		pb_metrics_set_extra(backoffice_metrics, bo);
	return rc;
}

static int
kos_slow(void *ud)
{
	const struct pb_backoffice_waiter *w = ud;

	return pb_breaker_give_up(w->bo->breaker,
	                          pb_breaker_group(w->bo->breaker, w->group));
}

void
pb_backoffice_waiter_opts(struct pb_backoffice *bo, const char *group,
                          struct pb_cache_opts *co)
{
	size_t i;

	co->wait_ms = bo->cache_wait_ms;
	co->lock_ms = bo->kos_timeout_ms + 1000;
	co->give_up = 1;
	co->stop_waiting = kos_slow;
	co->stop_ud = &bo->waiters[0];
	for (i = 0; i < NGROUPS; i++)
		if (strcmp(groups[i], group) == 0)
			co->stop_ud = &bo->waiters[i];
}

void
pb_backoffice_fini(struct pb_backoffice *bo)
{
	pb_metrics_set_extra(NULL, NULL);
	pb_kos_free(bo->kos);
	pb_http_free(bo->http);
	pb_spool_close(bo->spool);
	pb_breaker_close(bo->breaker);
	pb_config_secret_free(bo->mvno_secret);
	memset(bo, 0, sizeof(*bo));
}

int
pb_backoffice_health(struct pb_backoffice *bo, cJSON *data)
{
	struct pb_breaker_stats st;
	cJSON *kos, *brs, *b, *bh;
	size_t i;
	int degraded = 0;

	memset(&st, 0, sizeof(st));
	kos = cJSON_AddObjectToObject(data, "kos");
	brs = kos != NULL ? cJSON_AddObjectToObject(kos, "breakers") : NULL;
	for (i = 0; brs != NULL && i < NGROUPS; i++) {
		if (pb_breaker_stats(bo->breaker, (int)i, &st) != PB_OK)
			continue;
		/* health.h: not CLOSED, or every call of the window failed */
		if (st.state != PB_BREAKER_CLOSED ||
		    (st.calls >= 3 && st.failures >= st.calls))
			degraded = 1;
		b = cJSON_AddObjectToObject(brs, groups[i]);
		if (b == NULL)
			break;
		cJSON_AddStringToObject(b, "state",
		                        pb_breaker_state_name(st.state));
		cJSON_AddNumberToObject(b, "calls", st.calls);
		cJSON_AddNumberToObject(b, "failures", st.failures);
		cJSON_AddNumberToObject(b, "slow", st.slow);
		cJSON_AddNumberToObject(b, "permitsInUse", st.permits_in_use);
		cJSON_AddNumberToObject(b, "transitions",
		                        (double)st.transitions);
		cJSON_AddNumberToObject(b, "rejected", (double)st.rejected);
		cJSON_AddNumberToObject(b, "slowRun", st.slow_run);
	}
	/* the bulkhead is the service's: any group's stats carry it */
	bh = kos != NULL && brs != NULL
	         ? cJSON_AddObjectToObject(kos, "bulkhead")
	         : NULL;
	if (bh != NULL) {
		cJSON_AddNumberToObject(bh, "maxCalls", st.bulkhead_max);
		cJSON_AddNumberToObject(bh, "inUse", st.bulkhead_in_use);
		cJSON_AddNumberToObject(bh, "rejected",
		                        (double)st.bulkhead_rejected);
	}
	if (kos != NULL)
		cJSON_AddStringToObject(kos, "status",
		                        degraded ? "DEGRADED" : "UP");
	pb_handoff_health(bo->app->redis, pb_clock_now_ms(), data);
	cJSON_AddStringToObject(
	    data, "mvno", bo->mvno.url[0] != '\0' ? "ENABLED" : "DISABLED");
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
	rc = pb_backoffice_init(bo, app, bs->history, bs->tick, 0, err, errlen);
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
