/*
 * backoffice.h - what the bill and product services share to talk to the
 * carrier's back office and the MVNO: the KOS client behind the host-wide
 * circuit breaker and the MVNO AP settings; in phonebill-worker also the
 * history spool.  No background thread: the services hand their records
 * to phonebill-worker through handoff.h.
 *
 * Configuration keys (PB_BACKOFFICE_KEYS, add them to the spec's
 * extra_keys):
 *   kos.url                 base URL of KOS-Order (required)
 *   kos.connect_timeout_ms  1000      kos.timeout_ms  3000 (total, <= 3000)
 *   kos.read_retries        1         kos.max_response 1048576 (bytes)
 *   kos.ca_file             PEM CA of KOS's certificate (https; default:
 *                           the system's); kos.client_cert_file and
 *                           kos.client_key_file: our certificate (mutual TLS)
 *   breaker.file            the shared state file, on tmpfs (required)
 *   breaker.window_ms 60000, breaker.min_calls 10, breaker.failure_pct 50,
 *   breaker.slow_call_ms 1500, breaker.slow_pct 80, breaker.open_ms 30000,
 *   breaker.half_open_permits 3, breaker.permit_ttl_ms 10000,
 *   breaker.consecutive_slow 5 (0 off), breaker.probe_timeout_ms 1000
 *   bulkhead.pool_size 4    FastCGI processes of the service's pool
 *   bulkhead.max_calls      pool_size / 2 (>= 1): calls waiting on KOS at
 *                           once, per service on the host (0 = no bulkhead)
 *   bulkhead.max_wait_ms    500: wait for a slot while KOS answers (never
 *                           once a call is past breaker.slow_call_ms)
 *   bulkhead.slot_ttl_ms    10000
 *   cache.wait_ms           500: single-flight waiters give up after this
 *   spool.dir               phonebill-worker's spool for this service's
 *                           records while MariaDB is away (required there)
 *   spool.max_records       100000
 *   mvno.url                the MVNO AP's results URL ("" = no delivery)
 *   mvno.hmac_secret(_file) the signing secret (>= 32 bytes) when mvno.url
 *   mvno.timeout_ms         2000 per attempt
 *   worker.interval_ms      1000 ms between phonebill-worker's periodic
 *                           passes (spool replay, outbox, settlement)
 *   worker.hold_s           30: s phonebill-worker keeps records in Redis
 *                           while MariaDB is away before it spools them
 *   mvno.max_attempts       15: deliveries tried before a dead letter
 *   mvno.inflight           8: deliveries in flight at once
 */
#ifndef PB_BACKOFFICE_H
#define PB_BACKOFFICE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "breaker.h"
#include "cache.h"
#include "err.h"
#include "history.h"
#include "http.h"
#include "kos.h"
#include "mvno.h"
#include "spool.h"

struct pb_app;

/* The hooks of a back-office service's pb_app_spec, with its
 * struct pb_backoffice_spec bo. */
#define PB_BACKOFFICE_HOOKS(bo)                                                \
	.init = pb_backoffice_app_init, .fini = pb_backoffice_app_fini,        \
	.health = pb_backoffice_app_health, .ctx = &(bo)

#define PB_BACKOFFICE_KEYS                                                     \
	"kos.url", "kos.connect_timeout_ms", "kos.timeout_ms",                 \
	    "kos.read_retries", "kos.max_response", "breaker.file",            \
	    "breaker.window_ms", "breaker.min_calls", "breaker.failure_pct",   \
	    "breaker.slow_call_ms", "breaker.slow_pct", "breaker.open_ms",     \
	    "breaker.half_open_permits", "breaker.permit_ttl_ms",              \
	    "breaker.consecutive_slow", "breaker.probe_timeout_ms",            \
	    "bulkhead.pool_size", "bulkhead.max_calls",                        \
	    "bulkhead.slot_ttl_ms", "bulkhead.max_wait_ms", "cache.wait_ms",   \
	    "spool.dir", "spool.max_records", "mvno.url", "mvno.hmac_secret",  \
	    "mvno.hmac_secret_file", "mvno.timeout_ms", "worker.interval_ms",  \
	    "worker.hold_s", "mvno.max_attempts", "mvno.inflight",             \
	    "kos.ca_file", "kos.client_cert_file", "kos.client_key_file"

/* Breaker groups, the same in every service sharing the file. */
#define PB_BO_GROUP_BILL "kos.bill"
#define PB_BO_GROUP_PRODUCT "kos.product"
#define PB_BO_GROUP_CHANGE "kos.change"

struct pb_backoffice {
	struct pb_app *app; /* borrowed */
	struct pb_breaker *breaker;
	struct pb_http *http;
	struct pb_kos *kos;
	struct pb_spool *spool; /* phonebill-worker only */
	struct pb_history hist;
	struct pb_mvno_opts mvno;
	char *mvno_secret;
	/* aliases of the handles above and the app's, under the names the
	 * periodic passes use (one thread per process: they are the same) */
	struct pb_db *wdb;
	struct pb_kos *wkos;
	struct pb_redis *wredis;
	struct pb_history whist;
	void (*tick)(struct pb_backoffice *bo); /* the service's own pass */
	int64_t kos_timeout_ms;
	int64_t cache_wait_ms; /* ms a single-flight waiter waits */
	/* stop_ud of the single-flight waiters, one per breaker group */
	struct pb_backoffice_waiter {
		struct pb_backoffice *bo;
		const char *group;
	} waiters[3];
};

/*
 * Read the keys above and set everything up; spec is the service's
 * history table; tick (may be NULL) is the service's periodic pass, run
 * by phonebill-worker.  for_worker: also open the spool.  On failure err
 * says why and everything is released.
 */
enum pb_err pb_backoffice_init(struct pb_backoffice *bo, struct pb_app *app,
                               const struct pb_history_spec *spec,
                               void (*tick)(struct pb_backoffice *),
                               int for_worker, char *err, size_t errlen);
/*
 * Single-flight options for a read of group (PB_BO_GROUP_*): a waiter
 * waits cache.wait_ms at most and stops as soon as KOS is known slow
 * (issue 19), then answers the stale copy or 503 -- it must not park its
 * process for the KOS budget.  Sets co->wait_ms, lock_ms, give_up,
 * stop_waiting and stop_ud.
 */
void pb_backoffice_waiter_opts(struct pb_backoffice *bo, const char *group,
                               struct pb_cache_opts *co);
/* Release everything (bo may be half set up). */
void pb_backoffice_fini(struct pb_backoffice *bo);

/*
 * The app hooks of a back-office service (struct pb_app_spec init, fini,
 * health): spec->ctx points to a struct pb_backoffice_spec, and app->svc
 * becomes the struct pb_backoffice.
 */
struct pb_backoffice_spec {
	const struct pb_history_spec *history;
	void (*tick)(struct pb_backoffice *bo); /* may be NULL */
};
enum pb_err pb_backoffice_app_init(struct pb_app *app, char *err,
                                   size_t errlen);
void pb_backoffice_app_fini(struct pb_app *app);
int pb_backoffice_app_health(struct pb_app *app, cJSON *data);

/* Add {"kos":{"url":..., "breakers":{group:{state,calls,...}}},
 * "history":{...} (handoff.h)} to a health answer.  Always 1: an open breaker
 * means KOS is away, not that this service is down (stale bills are still
 * served and the load balancer must keep the node). */
int pb_backoffice_health(struct pb_backoffice *bo, cJSON *data);

#endif
