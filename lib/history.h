/*
 * history.h - history records that are never lost, and the MVNO AP outbox.
 *
 * A service describes its history table once (struct pb_history_spec):
 * how a record -- a JSON object keyed by its request id -- is written to
 * MariaDB (idempotently: a replayed record must change nothing), and the
 * SQL of the table's MVNO outbox columns.
 *
 * pb_history_save() writes a record (one transaction around the service's
 * apply); when MariaDB cannot take it, the record goes to the durable
 * local spool (spool.h, sealed with the personal-data key) and
 * pb_history_replay(), run by the background worker, writes it once
 * MariaDB is back.  A busy request thread hands records to the worker
 * instead (pb_history_queue_push): the worker writes them in batches, one
 * transaction each (pb_history_flush), so the request loop never waits on
 * MariaDB.  A record is in memory only until the next flush (the worker is
 * woken at once; the queue is flushed again when the process stops).
 *
 * The outbox: a record that carries an MVNO payload stores it sealed in
 * its row with mvno_next_at set.  pb_history_deliver() (background worker)
 * claims due rows with a lease (an UPDATE that only one process or node can
 * win), POSTs each payload to the MVNO AP (mvno.h), records the attempt
 * and either marks the row delivered (payload dropped) or schedules the
 * next attempt with a growing backoff.  Delivery never touches the
 * customer's response.
 */
#ifndef PB_HISTORY_H
#define PB_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"
#include "http.h"
#include "mvno.h"
#include "spool.h"

#define PB_HISTORY_LEASE_S     30    /* s a claimed delivery is reserved */
#define PB_HISTORY_BATCH       16    /* deliveries per pass */
#define PB_HISTORY_PAYLOAD_MAX (256 * 1024) /* bytes of an MVNO payload */
#define PB_HISTORY_SQLTIME_LEN 24    /* "2026-11-24 01:02:03.456" + NUL */
#define PB_HISTORY_QUEUE_MAX   8192  /* records waiting for the worker */
#define PB_HISTORY_FLUSH_BATCH 64    /* records per transaction */
#define PB_HISTORY_FLUSH_MAX   512   /* records per pb_history_flush call */
#define PB_HISTORY_DELIVER_MS  200   /* ms one delivery call may keep going */

struct pb_app;
struct pb_history;

struct pb_history_spec {
	const char *kind;           /* spool kind and log name: "bill.inquiry" */
	/* Complete a queued record before it is written (may be NULL): work
	 * the request thread handed on.  Must be idempotent. */
	void (*prepare)(struct pb_history *h, cJSON *rec);
	/* Write rec to MariaDB inside the caller's transaction; idempotent
	 * on its request id.  PB_OK, or
	 * PB_ERR_UNAVAILABLE (try again later), or another error (the record
	 * itself is bad: it is set aside, never retried). */
	enum pb_err (*apply)(struct pb_history *h, struct pb_db *db,
	    const cJSON *rec);
	/* The outbox (all may be NULL: no MVNO delivery).  Parameters:
	 *   due:       () -> rows of (request_id) with mvno_next_at <= now,
	 *              oldest first, at most PB_HISTORY_BATCH
	 *   claim:     (lease_s, request_id) -> 1 affected row when won
	 *   payload:   (request_id) -> one row (mvno_payload_enc, mvno_attempts)
	 *   delivered: (request_id) -> delivered now, payload dropped
	 *   retry:     (next_in_ms, error, request_id)
	 *   attempt:   (request_id, attempt, http_status, elapsed_ms, outcome,
	 *              error) -> a row of the attempts table */
	const char *sql_due;
	const char *sql_claim;
	const char *sql_payload;
	const char *sql_delivered;
	const char *sql_retry;
	const char *sql_attempt;
};

/* The outbox SQL of a table with the standard columns (request_id,
 * mvno_payload_enc, mvno_next_at, mvno_attempts, mvno_delivered_at,
 * mvno_last_error) and an mvno_delivery_attempts table beside it:
 * designated initialisers for a struct pb_history_spec. */
#define PB_HISTORY_OUTBOX(t) \
	.sql_due = "SELECT request_id FROM " t " WHERE mvno_next_at IS NOT " \
	    "NULL AND mvno_next_at <= UTC_TIMESTAMP(3) ORDER BY mvno_next_at " \
	    "LIMIT 16", \
	.sql_claim = "UPDATE " t " SET mvno_next_at = DATE_ADD(" \
	    "UTC_TIMESTAMP(3), INTERVAL ? SECOND) WHERE request_id = ? AND " \
	    "mvno_next_at IS NOT NULL AND mvno_next_at <= UTC_TIMESTAMP(3)", \
	.sql_payload = "SELECT mvno_payload_enc, mvno_attempts FROM " t \
	    " WHERE request_id = ?", \
	.sql_delivered = "UPDATE " t " SET mvno_delivered_at = " \
	    "UTC_TIMESTAMP(3), mvno_attempts = mvno_attempts + 1, " \
	    "mvno_next_at = NULL, mvno_payload_enc = NULL, " \
	    "mvno_last_error = NULL WHERE request_id = ?", \
	.sql_retry = "UPDATE " t " SET mvno_attempts = mvno_attempts + 1, " \
	    "mvno_next_at = DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ? " \
	    "MICROSECOND), mvno_last_error = ? WHERE request_id = ?", \
	.sql_attempt = "INSERT INTO mvno_delivery_attempts (request_id, " \
	    "attempt, http_status, elapsed_ms, outcome, error) VALUES " \
	    "(?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id"

struct pb_history {
	const struct pb_history_spec *spec;
	struct pb_app *app;         /* borrowed: PII keys, clock offset */
	struct pb_spool *spool;     /* borrowed; NULL: no spool */
};

/*
 * Write rec (its "requestId" names it) now; on failure put it in the
 * spool.  PB_OK when either holds it; otherwise the record is lost and an
 * error line says so.
 */
enum pb_err pb_history_save(struct pb_history *h, struct pb_db *db,
    const cJSON *rec);
/* Records handed from the request thread to the worker (thread-safe). */
struct pb_history_queue;
enum pb_err pb_history_queue_new(struct pb_history_queue **out);
/* Frees the records still queued too (flush first). */
void pb_history_queue_free(struct pb_history_queue *q);
/* Take rec: PB_OK when the queue was empty (wake the worker), PB_ERR_STATE
 * when records were already waiting (the worker, which always empties the
 * queue, was woken for the first of them) -- ownership passes in both;
 * PB_ERR_TOOBIG when PB_HISTORY_QUEUE_MAX records wait (rec stays the
 * caller's). */
enum pb_err pb_history_queue_push(struct pb_history_queue *q, cJSON *rec);
/* Records waiting. */
size_t pb_history_queue_len(struct pb_history_queue *q);
/*
 * Write every queued record, PB_HISTORY_FLUSH_BATCH per transaction; a
 * batch that fails is written record by record (pb_history_save: a record
 * MariaDB cannot take is spooled).  With http and mvno, the MVNO payloads
 * of a written batch are then delivered at once from memory (the apply
 * must have leased them: mvno_next_at a little in the future, so that no
 * other worker picks them up meanwhile); what the MVNO AP does not
 * acknowledge stays in the outbox.  Takes at most PB_HISTORY_FLUSH_MAX
 * records per call; returns how many.
 */
size_t pb_history_flush(struct pb_history *h, struct pb_db *db,
    struct pb_history_queue *q, struct pb_http *http,
    const struct pb_mvno_opts *mvno);

/* Write spooled records (at most max, 0 = all); PB_ERR_UNAVAILABLE when
 * MariaDB is still away. */
enum pb_err pb_history_replay(struct pb_history *h, struct pb_db *db,
    size_t max, size_t *done);
/* Deliver what is due: batches of PB_HISTORY_BATCH while full ones keep
 * coming, for at most PB_HISTORY_DELIVER_MS; stops at the first refusal
 * by the MVNO AP.  *delivered (may be NULL) counts the acknowledged ones. */
enum pb_err pb_history_deliver(struct pb_history *h, struct pb_db *db,
    struct pb_http *http, const struct pb_mvno_opts *mvno,
    size_t *delivered);

/* Helpers for apply functions. */
/* ms since the epoch (UTC) -> "YYYY-MM-DD HH:MM:SS.mmm" for DATETIME(3). */
void pb_history_sqltime(int64_t ms, char *out, size_t outlen);
/* Seal text with the PII key: *out malloc'd. */
enum pb_err pb_history_seal(struct pb_history *h, const char *text,
    size_t len, unsigned char **out, size_t *outlen);
/* Blind index of a line number's 11 digits (PB_CRYPTO_INDEX_LEN bytes). */
void pb_history_line_index(struct pb_history *h, const char *digits,
    unsigned char *out);
/* Open what pb_history_seal made; *out malloc'd, NUL-terminated. */
enum pb_err pb_history_open(struct pb_history *h, const void *ct,
    size_t ctlen, char **out, size_t *outlen);

#endif
