/*
 * handoff.h - the durable hand-off of history records from the FastCGI
 * services to phonebill-worker.
 *
 * A service that is about to answer 2xx makes the record of what it did
 * durable first: pb_handoff_put() seals the record (JSON text, made by
 * the service's typed encode function, history.h) with the
 * personal-data key and appends it to one Redis Stream (XADD), in the same
 * round trip as the request's other Redis writes (a pipeline).  Only when
 * Redis has answered with an entry id does the service answer; otherwise it
 * answers 503 with Retry-After (nothing is ever lost silently).  Redis runs
 * with its append-only file on, so an entry survives a restart of Redis and
 * the death of the process that wrote it.
 *
 * phonebill-worker (fcgi/worker/) reads the stream through one consumer
 * group (PB_HANDOFF_GROUP), writes each batch to MariaDB in one
 * transaction, and only then acknowledges and deletes the entries (XACK +
 * XDEL), so the stream's length is the backlog.  Entries a worker read but
 * never acknowledged (it died) are taken over by any worker (XAUTOCLAIM).
 * What cannot be parsed or opened goes to PB_HANDOFF_DEAD with a reason;
 * `phonebill-admin dead` lists and requeues it.
 *
 * Entry fields: "k" the record kind ("bill.inquiry", "product.change",
 * "auth.login"), "d" the sealed JSON (XChaCha20-Poly1305, pii.key), "v"
 * the format version ("1").
 *
 * Not thread-safe (one pb_redis per thread).  Limits: a record's JSON is at
 * most PB_HANDOFF_REC_MAX bytes.
 */
#ifndef PB_HANDOFF_H
#define PB_HANDOFF_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "crypto.h"
#include "err.h"
#include "redis.h"

#define PB_HANDOFF_STREAM "v1:history"
#define PB_HANDOFF_DEAD "v1:history:dead"
#define PB_HANDOFF_GROUP "workers"
/* A hash per worker (node): its last report, refreshed every second. */
#define PB_HANDOFF_STATUS_PREFIX "v1:worker:"
#define PB_HANDOFF_STATUS_TTL_S 15      /* s a report outlives its worker */
#define PB_HANDOFF_REC_MAX (512 * 1024) /* bytes of one record's JSON */
#define PB_HANDOFF_KIND_MAX 32          /* bytes of a kind, with the NUL */

/* Record kinds. */
#define PB_HANDOFF_BILL "bill.inquiry"
#define PB_HANDOFF_PRODUCT "product.change"
#define PB_HANDOFF_LOGIN "auth.login"

/*
 * Seal json[0..len) with key and XADD it as kind, after the commands in
 * extra[0..nextra) (at most PB_REDIS_MAX_PIPE - 1; their replies are
 * freed here, and are not judged).  PB_OK only when Redis returned an
 * entry id; PB_ERR_UNAVAILABLE when Redis cannot be reached or refused
 * the entry (out of memory, read-only replica, loading); PB_ERR_TOOBIG,
 * PB_ERR_INVAL, PB_ERR_NOMEM for the record.  A failure is logged
 * (history_handoff_failed, with the reason, never the data).
 */
enum pb_err pb_handoff_put(struct pb_redis *r,
                           const unsigned char key[PB_CRYPTO_KEY_LEN],
                           const char *kind, const char *json, size_t len,
                           const struct pb_redis_cmdv *extra, size_t nextra);

/* Open an entry's "d" field: *out malloc'd, NUL-terminated JSON text. */
enum pb_err pb_handoff_open(const unsigned char key[PB_CRYPTO_KEY_LEN],
                            const void *sealed, size_t len, char **out,
                            size_t *outlen);

struct pb_handoff_stats {
	long long length;      /* entries not yet written (the backlog) */
	long long pending;     /* read by a worker, not yet acknowledged */
	long long dead;        /* set aside (PB_HANDOFF_DEAD) */
	long long oldest_ms;   /* age of the oldest waiting entry; 0: none */
	long long workers;     /* workers that reported in the last 15 s */
	long long spooled;     /* records the workers hold on local disk */
	long long outbox;      /* MVNO deliveries not yet acknowledged */
	long long outbox_dead; /* deliveries given up (dead letters) */
	long long delivery_lag_ms; /* age of the oldest undelivered result */
};

/* Read the stream's state and the workers' reports; now_ms is the wall
 * clock (entry ids are Redis's wall-clock ms).  PB_ERR_UNAVAILABLE when
 * Redis cannot be asked. */
enum pb_err pb_handoff_stats(struct pb_redis *r, int64_t now_ms,
                             struct pb_handoff_stats *st);

/* Add "history": {backlog, pending, oldestMs, dead, workers, spooled,
 * outbox, outboxDead, deliveryLagMs} to a health answer (or
 * {"state":"UNKNOWN"} when Redis cannot be asked). */
void pb_handoff_health(struct pb_redis *r, int64_t now_ms, cJSON *data);

#endif
