/*
 * history.h - writing history records to MariaDB, and the MVNO AP outbox.
 *
 * A service describes its history table once (struct pb_history_spec):
 * how a record -- a typed struct keyed by its request id, JSON text only
 * in the stream and the spool -- is written to MariaDB (idempotently: a
 * replayed record must change nothing), and the SQL of the table's MVNO outbox
 * columns.
 *
 * The services do not write history themselves: they hand each record to
 * phonebill-worker through a Redis Stream (handoff.h) before they answer.
 * The worker applies records in batches, one transaction each, through
 * the spec's apply; while MariaDB is away it holds them in the stream and
 * after worker.hold_s puts them in the durable local spool (spool.h,
 * sealed), which pb_history_replay() writes once MariaDB is back.
 * pb_history_save() writes one record now (or spools it).
 *
 * The outbox: a record that carries an MVNO payload stores it sealed in
 * its row with mvno_next_at set a little in the future (a lease: the
 * worker delivers it from memory right after the commit,
 * pb_history_record_deliveries books the outcome).  Rows the worker did
 * not get to are due when the lease ends: pb_history_claim_due() claims
 * due rows in bulk with a new lease (one UPDATE ... LIMIT that only one
 * worker can win per row, marked with the claimer's token), oldest
 * first, and never a row of a line that has an older delivery waiting and
 * not due (in flight, or backing off after a refusal: a line's results go
 * out in the order they happened), and hands
 * each payload to the caller, who delivers it the same way and books it
 * with pb_history_book: delivered, due again after a growing backoff, or
 * -- after max_attempts -- a dead letter (mvno_dead_at).  Delivery never
 * touches the customer's response.
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

#define PB_HISTORY_PAYLOAD_MAX (256 * 1024) /* bytes of an MVNO payload */
#define PB_HISTORY_SQLTIME_LEN 24 /* "2026-11-24 01:02:03.456" + NUL */
#define PB_HISTORY_BOOK_CHUNK 16  /* rows per bookkeeping statement */

struct pb_history;
struct pb_history_spec;

#define PB_HISTORY_RID_MAX 65 /* bytes of a request id with the NUL */
#define PB_HISTORY_WHY_MAX 96 /* bytes of a decode error with the NUL */

/*
 * A history record as C sees it: each service's record struct (struct
 * bill_hist_rec, prod_hist_rec, auth_login_rec) begins with this one, and
 * only that service's record.c converts between the two (checking spec).
 * JSON exists only at the storage boundary: the service's encode when
 * the record is handed off (or spooled), its decode in the worker.
 */
struct pb_history_rec {
	const struct pb_history_spec *spec; /* the kind it is */
	char request_id[PB_HISTORY_RID_MAX];
	char line[12]; /* 11 digits, "" none: the MVNO delivery's group */
	char *mvno;    /* MVNO payload text (owned), NULL: none */
};

struct pb_history_spec {
	const char *kind; /* spool kind and log name: "bill.inquiry" */
	/* The storage form (the stream's and the spool's): rec -> JSON
	 * text (*out malloc'd, NUL-terminated), and back (*out: a new
	 * record, free with rec_free; PB_ERR_PARSE or PB_ERR_INVAL with a
	 * reason in why[PB_HISTORY_WHY_MAX] naming the field). */
	enum pb_err (*encode)(const struct pb_history_rec *rec, char **out,
	                      size_t *outlen);
	enum pb_err (*decode)(const char *json, size_t len,
	                      struct pb_history_rec **out, char *why);
	void (*rec_free)(struct pb_history_rec *rec); /* NULL-safe */
	/* Complete a decoded record before it is written (may be NULL):
	 * work the request thread handed on.  Must be idempotent. */
	void (*prepare)(struct pb_history *h, struct pb_history_rec *rec);
	/* Write rec to MariaDB inside the caller's transaction; idempotent
	 * on its request id.  PB_OK, or
	 * PB_ERR_UNAVAILABLE (try again later), or another error (the record
	 * itself is bad: it is set aside, never retried). */
	enum pb_err (*apply)(struct pb_history *h, struct pb_db *db,
	                     const struct pb_history_rec *rec);
	/* Optional: the same for recs[0..n) in as few statements as it can
	 * (multi-row INSERTs), inside the caller's transaction. */
	enum pb_err (*apply_many)(struct pb_history *h, struct pb_db *db,
	                          const struct pb_history_rec *const *recs,
	                          size_t n);
	/* The outbox (all may be NULL: no MVNO delivery).  Parameters:
	 *   retry:     (next_in_us, error, request_id) -> due again later
	 *   claim_many: (token, limit) -> due rows leased and marked
	 *   claimed:    (token) -> (request_id, mvno_payload_enc,
	 *               mvno_attempts, line_number_bidx), oldest first
	 *   dead:      (error, request_id) -> given up: a dead letter
	 *   (retry and dead touch a row only while it waits, mvno_next_at
	 *   set: an outcome booked late never reopens a delivered row) */
	const char *sql_retry;
	const char *sql_claim_many;
	const char *sql_claimed;
	const char *sql_dead;
	/*   delivered_many: PB_HISTORY_BOOK_CHUNK request ids -> delivered
	 *   attempt_many:   PB_HISTORY_BOOK_CHUNK attempt rows at once */
	const char *sql_delivered_many;
	const char *sql_attempt_many;
	/*   due_many:       PB_HISTORY_BOOK_CHUNK request ids -> due now
	 *                   (their lease is given up) */
	const char *sql_due_many;
	/*   unsettled: () -> 1 when a delivery is due or backing off after
	 *              a refusal, else 0 */
	const char *sql_unsettled;
};

/* The outbox SQL of a table with the standard columns (request_id,
 * mvno_payload_enc, mvno_next_at, mvno_attempts, mvno_delivered_at,
 * mvno_last_error) and an mvno_delivery_attempts table beside it:
 * designated initialisers for a struct pb_history_spec. */
#define PB_HISTORY_Q16 "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
#define PB_HISTORY_ATT "(?, ?, ?, ?, ?, ?)"
#define PB_HISTORY_ATT4                                                        \
	PB_HISTORY_ATT ", " PB_HISTORY_ATT ", " PB_HISTORY_ATT                 \
	               ", " PB_HISTORY_ATT
#define PB_HISTORY_OUTBOX(t)                                                   \
	.sql_retry = "UPDATE " t " SET mvno_attempts = mvno_attempts + 1, "    \
	             "mvno_next_at = DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ? "   \
	             "MICROSECOND), mvno_last_error = ? WHERE request_id = ? " \
	             "AND mvno_next_at IS NOT NULL",                           \
	.sql_claim_many =                                                      \
	    "UPDATE " t " o FORCE INDEX (ix_" t "_mvno) LEFT JOIN (SELECT "    \
	    "line_number_bidx, MIN(id) AS b FROM " t " FORCE INDEX (ix_" t     \
	    "_mvno) WHERE mvno_next_at > UTC_TIMESTAMP(3) GROUP BY "           \
	    "line_number_bidx) k ON k.line_number_bidx = o.line_number_bidx "  \
	    "SET o.mvno_next_at = DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 30 "     \
	    "SECOND), o.mvno_claim = ? WHERE o.mvno_next_at IS NOT NULL AND "  \
	    "o.mvno_next_at <= UTC_TIMESTAMP(3) AND (k.b IS NULL OR o.id < "   \
	    "k.b) ORDER BY o.id LIMIT ?",                                      \
	.sql_claimed = "SELECT request_id, mvno_payload_enc, mvno_attempts, "  \
	               "line_number_bidx FROM " t " WHERE mvno_claim = ? AND " \
	               "mvno_next_at IS NOT NULL ORDER BY id",                 \
	.sql_dead = "UPDATE " t " SET mvno_attempts = mvno_attempts + 1, "     \
	            "mvno_next_at = NULL, mvno_dead_at = UTC_TIMESTAMP(3), "   \
	            "mvno_last_error = ? WHERE request_id = ? AND "            \
	            "mvno_next_at IS NOT NULL",                                \
	.sql_delivered_many =                                                  \
	    "UPDATE " t " SET mvno_delivered_at = "                            \
	    "UTC_TIMESTAMP(3), mvno_attempts = mvno_attempts + 1, "            \
	    "mvno_next_at = NULL, mvno_payload_enc = NULL, "                   \
	    "mvno_last_error = NULL WHERE mvno_delivered_at IS NULL AND "      \
	    "request_id IN (" PB_HISTORY_Q16 ")",                              \
	.sql_unsettled = "SELECT COUNT(*) FROM (SELECT 1 FROM " t " FORCE "    \
	                 "INDEX (ix_" t "_mvno) WHERE mvno_next_at IS NOT "    \
	                 "NULL AND (mvno_next_at <= UTC_TIMESTAMP(3) OR "      \
	                 "mvno_attempts > 0) LIMIT 1) x",                      \
	.sql_due_many = "UPDATE " t " SET mvno_next_at = UTC_TIMESTAMP(3) "    \
	                "WHERE mvno_next_at IS NOT NULL AND request_id IN "    \
	                "(" PB_HISTORY_Q16 ")",                                \
	.sql_attempt_many =                                                    \
	    "INSERT INTO mvno_delivery_attempts (request_id, "                 \
	    "attempt, http_status, elapsed_ms, outcome, error) "               \
	    "VALUES " PB_HISTORY_ATT4 ", " PB_HISTORY_ATT4                     \
	    ", " PB_HISTORY_ATT4 ", " PB_HISTORY_ATT4                          \
	    " ON DUPLICATE KEY UPDATE id = id"

struct pb_history {
	const struct pb_history_spec *spec;
	/* borrowed, PB_CRYPTO_KEY_LEN bytes each, NULL without PII keys:
	   the seal key and the blind-index key (pb_app_history_keys) */
	const unsigned char *pii_key;
	const unsigned char *pii_index_key;
	struct pb_spool *spool; /* borrowed; NULL: no spool */
	int mvno_on;            /* 1: results go to the MVNO AP */
	unsigned max_attempts;  /* deliveries before a dead letter; 0: 15 */
};

/*
 * Write rec (its request_id names it) now; on failure put it in the
 * spool (encoded).  PB_OK when either holds it; otherwise the record is lost
 * and an error line says so.
 */
enum pb_err pb_history_save(struct pb_history *h, struct pb_db *db,
                            const struct pb_history_rec *rec);
/*
 * Book the outcome of deliveries made from memory right after their rows
 * were committed (their mvno_attempts was 0): the attempt rows and the
 * acknowledged rows in multi-row statements, the others rescheduled, all
 * in one transaction (on any failure nothing is booked: the caller books
 * the same outcomes again later; every statement is idempotent but the
 * rescheduling's attempt count).
 */
enum pb_err pb_history_book(struct pb_history *h, struct pb_db *db,
                            const struct pb_mvno_job *jobs, size_t n);

/*
 * Make the deliveries of rids[0..n) due now: their rows were written
 * with a lease for a delivery from memory that will not happen (the
 * worker's queue was full); the outbox sends them, oldest first.
 */
enum pb_err pb_history_due_now(struct pb_history *h, struct pb_db *db,
                               const char *const *rids, size_t n);

/* Write rec now, in one transaction, without spooling or logging a loss:
 * for a caller that has made the record durable another way already. */
enum pb_err pb_history_write(struct pb_history *h, struct pb_db *db,
                             const struct pb_history_rec *rec);

/* Write spooled records (at most max, 0 = all); PB_ERR_UNAVAILABLE when
 * MariaDB is still away. */
enum pb_err pb_history_replay(struct pb_history *h, struct pb_db *db,
                              size_t max, size_t *done);
/* *unsettled: 1 when a delivery of h's outbox is due, or backing off
 * after the MVNO AP refused it (while one is, a line's newer results must
 * go by the outbox behind it); 0 when neither. */
enum pb_err pb_history_unsettled(struct pb_history *h, struct pb_db *db,
                                 int *unsettled);

/* Claim up to max due deliveries (token: the claimer's, unique per
 * call) and call fn for each, oldest first: its request id, the opened
 * payload (borrowed for the call), the attempt it will be and the line's
 * blind index in hex (the order group).  *claimed counts them. */
typedef enum pb_err (*pb_history_due_fn)(void *ud, const char *rid,
                                         const char *body, size_t len,
                                         long long attempt, const char *group);
enum pb_err pb_history_claim_due(struct pb_history *h, struct pb_db *db,
                                 const char *token, size_t max,
                                 pb_history_due_fn fn, void *ud,
                                 size_t *claimed);

/* Helpers for decode functions: member name of o.  A string copied into
 * out[0..cap) (absent: "", PB_ERR_INVAL when required), a string
 * malloc'd into *out (absent: NULL; at most max bytes), an integer
 * (absent: 0).  PB_ERR_INVAL with why "<name>: <what is wrong>" for a
 * wrong type, an overlong string or a missing required member. */
enum pb_err pb_history_get_str(const cJSON *o, const char *name, int required,
                               char *out, size_t cap, char *why);
enum pb_err pb_history_get_dup(const cJSON *o, const char *name, size_t max,
                               char **out, char *why);
enum pb_err pb_history_get_int(const cJSON *o, const char *name, long long *out,
                               char *why);
/* A string member of a record type for pb_history_get_strs: its JSON
 * name, where it is in the record (a char array), and whether a record
 * must have it. */
struct pb_history_str {
	const char *name;
	size_t off;
	size_t cap;
	int required;
};
#define PB_HISTORY_STR(type, json, member, required)                           \
	{                                                                      \
		(json), offsetof(type, member), sizeof(((type *)0)->member),   \
		    (required)                                                 \
	}
/* pb_history_get_str for each of f[0..n) into rec; stops at the first
 * error. */
enum pb_err pb_history_get_strs(const cJSON *o, void *rec,
                                const struct pb_history_str *f, size_t n,
                                char *why);
/* PB_ERR_INVAL with why unless line is 11 characters (the digits). */
enum pb_err pb_history_line_ok(const char *line, char *why);
/* Parse a record's JSON text into an object (PB_ERR_PARSE with why). */
enum pb_err pb_history_parse(const char *json, size_t len, cJSON **out,
                             char *why);
/* The members of a record type read from o by its decode (why on
 * PB_ERR_INVAL); rec is the record, already zeroed, spec set. */
typedef enum pb_err (*pb_history_fields_fn)(const cJSON *o, void *rec,
                                            char *why);
/*
 * The decode of a record type that carries the service's answer as
 * "response" (a string, or absent/null): one malloc'd block of size bytes
 * and a copy of the answer's text after it, zeroed, base.spec = spec, the
 * const char * at response_off pointing at the copy (NULL without one),
 * then fields.  *out is the block (free it with the spec's rec_free);
 * PB_ERR_INVAL with why for a response that is not a string; on any error
 * nothing is left allocated.
 */
enum pb_err pb_history_decode_block(const char *json, size_t len,
                                    const struct pb_history_spec *spec,
                                    size_t size, size_t response_off,
                                    pb_history_fields_fn fields, void **out,
                                    char *why);
/* A spec's rec_free for a record that is one block whose only other
 * allocation is base->mvno. */
void pb_history_rec_free_block(struct pb_history_rec *base);
/*
 * A spec's decode and rec_free, the static functions decode and rec_free,
 * for a record type whose first member is its struct pb_history_rec
 * base: decode over typed(json, len, type **, why); rec_free frees a
 * record of this kind only (of(base) is NULL for another kind's).
 */
#define PB_HISTORY_ADAPTERS(type, of, typed)                                   \
	static enum pb_err decode(const char *json, size_t len,                \
	                          struct pb_history_rec **out, char *why)      \
	{                                                                      \
		type *r_ = NULL;                                               \
		enum pb_err rc_ = typed(json, len, &r_, why);                  \
                                                                               \
		*out = r_ != NULL ? &r_->base : NULL;                          \
		return rc_;                                                    \
	}                                                                      \
	static void rec_free(struct pb_history_rec *base)                      \
	{                                                                      \
		if (of(base) != NULL)                                          \
			pb_history_rec_free_block(base);                       \
	}

/* Helpers for apply functions. */
/* ms since the epoch (UTC) -> "YYYY-MM-DD HH:MM:SS.mmm" for DATETIME(3). */
void pb_history_sqltime(int64_t ms, char *out, size_t outlen);
/* Seal text with the PII key: *out malloc'd. */
enum pb_err pb_history_seal(struct pb_history *h, const char *text, size_t len,
                            unsigned char **out, size_t *outlen);
/* Blind index of a line number's 11 digits (PB_CRYPTO_INDEX_LEN bytes). */
void pb_history_line_index(struct pb_history *h, const char *digits,
                           unsigned char *out);
/* Open what pb_history_seal made; *out malloc'd, NUL-terminated. */
enum pb_err pb_history_open(struct pb_history *h, const void *ct, size_t ctlen,
                            char **out, size_t *outlen);

#endif
