/*
 * backoffice.h - what the bill and product services share to talk to the
 * carrier's back office and the MVNO: the KOS client behind the host-wide
 * circuit breaker, the history spool, the MVNO AP settings, and the
 * background worker that replays the spool and delivers to the MVNO AP.
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
 *   breaker.slow_call_ms 3000, breaker.slow_pct 80, breaker.open_ms 30000,
 *   breaker.half_open_permits 3, breaker.permit_ttl_ms 10000
 *   spool.dir               this service's spool directory (required)
 *   spool.max_records       100000
 *   mvno.url                the MVNO AP's results URL ("" = no delivery)
 *   mvno.hmac_secret(_file) the signing secret (>= 32 bytes) when mvno.url
 *   mvno.timeout_ms         2000 per attempt
 *   worker.interval_ms      1000 between background passes
 */
#ifndef PB_BACKOFFICE_H
#define PB_BACKOFFICE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "breaker.h"
#include "err.h"
#include "history.h"
#include "http.h"
#include "kos.h"
#include "mvno.h"
#include "spool.h"
#include "worker.h"

struct pb_app;

#define PB_BACKOFFICE_KEYS \
	"kos.url", "kos.connect_timeout_ms", "kos.timeout_ms", \
	"kos.read_retries", "kos.max_response", "breaker.file", \
	"breaker.window_ms", "breaker.min_calls", "breaker.failure_pct", \
	"breaker.slow_call_ms", "breaker.slow_pct", "breaker.open_ms", \
	"breaker.half_open_permits", "breaker.permit_ttl_ms", "spool.dir", \
	"spool.max_records", "mvno.url", "mvno.hmac_secret", \
	"mvno.hmac_secret_file", "mvno.timeout_ms", "worker.interval_ms", \
	"kos.ca_file", "kos.client_cert_file", "kos.client_key_file"

/* Breaker groups, the same in every service sharing the file. */
#define PB_BO_GROUP_BILL    "kos.bill"
#define PB_BO_GROUP_PRODUCT "kos.product"
#define PB_BO_GROUP_CHANGE  "kos.change"

struct pb_backoffice {
	struct pb_app *app;             /* borrowed */
	struct pb_breaker *breaker;
	struct pb_http *http;           /* request thread's */
	struct pb_kos *kos;             /* request thread's */
	struct pb_spool *spool;         /* request thread's */
	struct pb_history hist;         /* request thread's view */
	struct pb_mvno_opts mvno;
	char *mvno_secret;
	/* the background worker's own handles */
	struct pb_worker *worker;
	struct pb_db *wdb;
	struct pb_http *whttp;
	struct pb_spool *wspool;
	struct pb_history whist;
	struct pb_history_queue *queue; /* records for the worker to write */
	int64_t last_replay_ms;         /* worker: last look at the spool */
	struct pb_kos *wkos;            /* the worker's KOS client */
	struct pb_redis *wredis;        /* the worker's Redis */
	void (*tick)(struct pb_backoffice *bo); /* the service's own pass */
	int64_t kos_timeout_ms;
};

/*
 * Read the keys above and set everything up; spec is the service's
 * history table; tick (may be NULL) runs in the worker after each pass,
 * with the worker's handles (bo->wdb, bo->wkos).  The worker starts at
 * once.  On failure err says why and everything is released.
 */
enum pb_err pb_backoffice_init(struct pb_backoffice *bo, struct pb_app *app,
    const struct pb_history_spec *spec, void (*tick)(struct pb_backoffice *),
    char *err, size_t errlen);
/* Stop the worker and release everything (bo may be half set up). */
void pb_backoffice_fini(struct pb_backoffice *bo);

/*
 * The app hooks of a back-office service (struct pb_app_spec init, fini,
 * health): spec->ctx points to a struct pb_backoffice_spec, and app->svc
 * becomes the struct pb_backoffice.
 */
struct pb_backoffice_spec {
	const struct pb_history_spec *history;
	void (*tick)(struct pb_backoffice *bo);  /* may be NULL */
};
enum pb_err pb_backoffice_app_init(struct pb_app *app, char *err,
    size_t errlen);
void pb_backoffice_app_fini(struct pb_app *app);
int pb_backoffice_app_health(struct pb_app *app, cJSON *data);

/* Hand a history record (ownership taken) to the worker, which writes it
 * (and starts its MVNO delivery) at once; when the queue is full it is
 * written here and now. */
enum pb_err pb_backoffice_record(struct pb_backoffice *bo, cJSON *rec);

/* Add {"kos":{"url":..., "breakers":{group:{state,calls,...}}},
 * "spool":{"pending":n}, "historyQueue":n} to a health answer.  Always 1: an open breaker
 * means KOS is away, not that this service is down (stale bills are still
 * served and the load balancer must keep the node). */
int pb_backoffice_health(struct pb_backoffice *bo, cJSON *data);

#endif
