/*
 * worker.h - phonebill-worker: one daemon per node that writes the
 * history the services handed off (lib/backoffice/handoff.h) and does their
 * background work.
 *
 *   main.c    arguments, signals, the loop
 *   sink.c    one sink per record kind: the owning service's history
 *             spec, its configuration (its own MariaDB account, keys,
 *             MVNO AP), spool and delivery handle; a batch is applied in
 *             one transaction, acknowledged after the commit, then its
 *             MVNO payloads are delivered from memory
 *   stream.c  the Redis Stream: consumer group, reading, taking over a
 *             dead worker's entries, acknowledging, dead letters, and the
 *             periodic report other programs read (handoff.h stats)
 *
 * The main thread reads the stream, writes history and does the periodic
 * work; each sink with an MVNO AP (bill, product) has a delivery thread
 * with its own curl multi handle and MariaDB connection, fed through a
 * locked in-memory queue.  No other state is shared.  Nothing is
 * acknowledged before MariaDB (or the spool) holds it.
 */
#ifndef PB_WORKER_MAIN_H
#define PB_WORKER_MAIN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include <cjson/cJSON.h>

#include "app.h"
#include "backoffice.h"
#include "history.h"
#include "crypto.h"
#include "mvno.h"

#define WK_READ_COUNT 256       /* entries per XREADGROUP */
#define WK_BLOCK_MS 1000        /* ms a read waits for new entries */
#define WK_CLAIM_IDLE_MS 30000  /* ms before another worker's entry is ours */
#define WK_CLAIM_EVERY_MS 5000  /* ms between XAUTOCLAIM passes */
#define WK_REPORT_EVERY_MS 1000 /* ms between reports */
#define WK_ID_MAX 48            /* bytes of an entry id with the NUL */
#define WK_NSINKS 3
#define WK_UNBOOKED_MAX 512 /* delivery outcomes waiting for MariaDB */
#define WK_DQ_MAX 32768     /* deliveries waiting in memory (~1.4 KB each) */
#define WK_DELIVER_WAKE_MS 1000 /* ms the delivery thread sleeps when idle */
#define WK_CATCH_UP_MS 200      /* ms between outbox claims that found little */

#define WK_RID_MAX 65 /* bytes of a request id with the NUL */

struct wk_delivery {
	char *body; /* the payload (owned) */
	size_t len;
	char rid[WK_RID_MAX];
	char group[2 * PB_CRYPTO_INDEX_LEN + 1]; /* the line's blind index */
	char idem[PB_MVNO_IDEM_MAX + 1];
	long long attempt; /* 1 = first */
};

struct wk_unbooked {
	char rid[65];
	enum pb_err rc;
	long long attempt; /* its number: the attempt row's key */
	struct pb_mvno_attempt att;
};

struct wk_sink {
	const char *kind;    /* PB_HANDOFF_* */
	const char *service; /* its configuration: <dir>/<service>.conf */
	const struct pb_history_spec *spec;
	void (*tick)(struct pb_backoffice *bo); /* may be NULL */
	int has_bo; /* bill, product: KOS, MVNO, spool */
	int up;
	struct pb_app app;
	struct pb_backoffice bo;
	struct pb_history hist;
	struct pb_mvno_multi *multi;
	int64_t db_down_since; /* mono ms; 0 while MariaDB takes writes */
	long hold_ms;          /* ms to hold before spooling */
	long long written, spooled, dead;
	unsigned long long claims; /* outbox passes, for claim tokens */
	/* The delivery thread (bill, product) sends what dq holds and books
	 * the outcomes on its own connection (ddb), so that a slow MVNO AP
	 * or one busy line never holds up the stream: the main thread only
	 * appends to dq (under mu), the delivery thread only drops from its
	 * head.  unbooked and multi are the delivery thread's alone. */
	pthread_t th;
	int th_up, th_stop; /* th_stop under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* dq gained entries, or stop */
	struct pb_db *ddb;
	struct wk_delivery *dq;       /* WK_DQ_MAX, a ring; under mu */
	size_t dq_head, dq_n;         /* under mu */
	int via_outbox;               /* under mu: dq overflowed or the MVNO
	                                 AP refused, so new deliveries go by
	                                 the outbox (due at once) until
	                                 nothing there is due or backing off,
	                                 keeping each line's order */
	unsigned long fails;          /* under mu: chunks with a refusal */
	int64_t last_catch_up;        /* main thread, mono ms */
	struct wk_unbooked *unbooked; /* WK_UNBOOKED_MAX of them */
	size_t nunbooked;
	/* deliveries a refusal took out of dq, to be made due at once
	 * (WK_DQ_MAX at most, allocated on first use; again until MariaDB
	 * takes it); the delivery thread's alone */
	char (*undue)[WK_RID_MAX];
	const char **undue_ptrs;
	size_t nundue;
};

/* One entry read from the stream. */
struct wk_entry {
	char id[WK_ID_MAX];
	int sink;           /* index, or -1: unknown kind */
	const char *sealed; /* "d", borrowed from the reply */
	size_t sealed_len;
	char *json; /* opened text (owned) */
	size_t json_len;
	struct pb_history_rec *rec; /* decoded (owned: its spec's rec_free) */
	const char *why;            /* why it cannot be applied, or NULL */
	char why_buf[32 + PB_HISTORY_WHY_MAX]; /* what why may point to */
	int done; /* to be acknowledged: 1 written (or set
	             aside), 2 spooled */
};

struct wk {
	struct wk_sink sinks[WK_NSINKS];
	struct pb_redis *redis;   /* borrowed: the first sink's */
	const unsigned char *key; /* borrowed: the first sink's PII key */
	char consumer[128];
	int own_pending; /* read our own pending entries first */
	int64_t last_claim, last_report, last_periodic;
	long interval_ms;
};

/* sink.c */
enum pb_err wk_sinks_open(struct wk *w, const char *dir, char *err,
                          size_t errlen);
void wk_sinks_close(struct wk *w);
int wk_sink_of(const struct wk *w, const char *kind);
/* Apply entries e[0..n) of one sink (all s's); set e[i].done for what
 * may be acknowledged.  PB_ERR_UNAVAILABLE when MariaDB is away (what is
 * not done stays pending). */
enum pb_err wk_sink_apply(struct wk *w, struct wk_sink *s, struct wk_entry **e,
                          size_t n);
/* After the entries were acknowledged: queue the MVNO payloads of those
 * written now for the delivery thread, which sends them keeping each
 * line's order and books the outcomes. */
void wk_sink_deliver(struct wk_sink *s, struct wk_entry **e, size_t n);
/* After an overflow: feed the queue from the outbox, oldest first, until
 * it has caught up (called on every turn of the loop). */
void wk_sink_catch_up(struct wk_sink *s);
/* Start the sinks' delivery threads (after wk_sinks_open);
 * wk_sinks_close stops and joins them. */
enum pb_err wk_sinks_start(struct wk *w, char *err, size_t errlen);
/* Spool replay, due deliveries, the service's tick. */
void wk_sink_periodic(struct wk_sink *s);
/* Outbox figures for the report. */
void wk_sink_outbox(struct wk_sink *s, long long *waiting, long long *dead,
                    long long *lag_ms);

/* stream.c */
enum pb_err wk_stream_init(struct wk *w);
/* Read (own pending first, then new; or take over stale ones) and apply
 * one batch; returns how many entries were handled, -1 on a Redis
 * failure. */
long wk_stream_step(struct wk *w, int claim);
void wk_stream_report(struct wk *w);
int wk_status(struct wk *w);

#endif
