/*
 * sink.c - phonebill-worker's sinks: each record kind is written with the
 * owning service's history spec and configuration (worker.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "../auth/auth.h"
#include "../bill/bill.h"
#include "../product/product.h"
#include "clock.h"
#include "handoff.h"
#include "json.h"
#include "log.h"
#include "worker.h"

#define DELIVER_CHUNK 256 /* deliveries per pb_mvno_deliver_many call */

static void dq_drop(struct wk_sink *s, size_t k);
static void due_again(struct wk_sink *s);

static const struct pb_app_spec app_spec = {
    .service = "worker",
    .flags = PB_APP_PII | PB_APP_NO_JWT | PB_APP_OTHERS_CONFIG,
};

int
wk_sink_of(const struct wk *w, const char *kind)
{
	int i;

	for (i = 0; kind != NULL && i < WK_NSINKS; i++)
		if (strcmp(w->sinks[i].kind, kind) == 0)
			return i;
	return -1;
}

static enum pb_err
sink_open(struct wk_sink *s, const char *dir, char *err, size_t errlen)
{
	char path[1024], e[512];
	long hold = 30, inflight = 8, maxatt = 15;
	enum pb_err rc;

	(void)pthread_mutex_init(&s->mu, NULL);
	(void)pthread_cond_init(&s->cv, NULL);
	snprintf(path, sizeof(path), "%s/%s.conf", dir, s->service);
	rc = pb_app_init_config(&s->app, &app_spec, path, e, sizeof(e));
	if (rc != PB_OK) {
		snprintf(err, errlen, "%s: %s", path, e);
		return rc;
	}
	s->up = 1;
	s->hist.spec = s->spec;
	pb_app_history_keys(&s->app, &s->hist);
	if (!s->has_bo)
		return PB_OK;
	s->unbooked = calloc(WK_UNBOOKED_MAX, sizeof(*s->unbooked));
	s->dq = calloc(WK_DQ_MAX, sizeof(*s->dq));
	if (s->unbooked == NULL || s->dq == NULL) {
		snprintf(err, errlen, "out of memory");
		return PB_ERR_NOMEM;
	}
	rc = pb_backoffice_init(&s->bo, &s->app, s->spec, s->tick, 1, e,
	                        sizeof(e));
	if (rc == PB_OK)
		rc = pb_config_get_long(s->app.cfg, "worker.hold_s", 30, 0,
		                        86400, &hold, e, sizeof(e));
	if (rc == PB_OK)
		rc = pb_config_get_long(s->app.cfg, "mvno.inflight", 8, 1,
		                        PB_MVNO_MULTI_MAX, &inflight, e,
		                        sizeof(e));
	if (rc == PB_OK)
		rc = pb_config_get_long(s->app.cfg, "mvno.max_attempts", 15, 1,
		                        1000, &maxatt, e, sizeof(e));
	if (rc == PB_OK)
		rc = pb_mvno_multi_new((unsigned)inflight, &s->multi);
	if (rc == PB_OK) /* the delivery thread's own connection */
		rc = pb_app_db_open(&s->app, &s->ddb, e, sizeof(e));
	if (rc != PB_OK) {
		snprintf(err, errlen, "%s: %s", path, e);
		return rc;
	}
	s->app.svc = &s->bo; /* what the services' hooks expect */
	s->hist = s->bo.hist;
	s->hist.max_attempts = (unsigned)maxatt;
	s->bo.hist = s->hist;
	s->bo.whist = s->hist;
	s->hold_ms = hold * 1000;
	return PB_OK;
}

enum pb_err
wk_sinks_open(struct wk *w, const char *dir, char *err, size_t errlen)
{
	static const struct {
		const char *kind, *service;
		const struct pb_history_spec *spec;
		void (*tick)(struct pb_backoffice *);
		int has_bo;
	} defs[WK_NSINKS] = {
	    {PB_HANDOFF_LOGIN, "auth", &auth_login_spec, NULL, 0},
	    {PB_HANDOFF_BILL, "bill", &bill_history_spec, NULL, 1},
	    {PB_HANDOFF_PRODUCT, "product", &prod_history_spec,
	     prod_resolve_pending, 1},
	};
	enum pb_err rc = PB_OK;
	int i;

	for (i = 0; rc == PB_OK && i < WK_NSINKS; i++) {
		struct wk_sink *s = &w->sinks[i];

		s->kind = defs[i].kind;
		s->service = defs[i].service;
		s->spec = defs[i].spec;
		s->tick = defs[i].tick;
		s->has_bo = defs[i].has_bo;
		rc = sink_open(s, dir, err, errlen);
	}
	if (rc == PB_OK) {
		w->redis = w->sinks[0].app.redis;
		w->key = w->sinks[0].app.pii_key;
	}
	return rc;
}

/* Stop the delivery threads: each ends after the chunk it is sending;
 * what is left in memory is leased in the outbox and sent again later. */
static void
sinks_stop(struct wk *w)
{
	int i;

	for (i = 0; i < WK_NSINKS; i++) {
		struct wk_sink *s = &w->sinks[i];

		if (!s->th_up)
			continue;
		(void)pthread_mutex_lock(&s->mu);
		s->th_stop = 1;
		(void)pthread_cond_broadcast(&s->cv);
		(void)pthread_mutex_unlock(&s->mu);
		(void)pthread_join(s->th, NULL);
		s->th_up = 0;
	}
}

void
wk_sinks_close(struct wk *w)
{
	int i;

	sinks_stop(w);
	for (i = 0; i < WK_NSINKS; i++) {
		struct wk_sink *s = &w->sinks[i];

		pb_db_free(s->ddb);
		pb_mvno_multi_free(s->multi);
		free(s->unbooked);
		free(s->undue);
		free(s->undue_ptrs);
		if (s->dq != NULL)
			dq_drop(s, s->dq_n);
		free(s->dq);
		if (s->has_bo && s->bo.app != NULL)
			pb_backoffice_fini(&s->bo);
		s->app.svc = NULL;
		if (s->up)
			pb_app_fini(&s->app);
		if (s->kind != NULL) {
			(void)pthread_mutex_destroy(&s->mu);
			(void)pthread_cond_destroy(&s->cv);
		}
		memset(s, 0, sizeof(*s));
	}
}

/* --- applying
 * ------------------------------------------------------------------ */

static enum pb_err
apply_all(struct wk_sink *s, struct wk_entry **e, size_t n)
{
	struct pb_db *db = s->app.db;
	enum pb_err rc;
	size_t i;

	rc = pb_db_begin(db);
	if (s->spec->apply_many != NULL && n > 1) {
		const struct pb_history_rec *recs[WK_READ_COUNT];

		for (i = 0; i < n; i++)
			recs[i] = e[i]->rec;
		if (rc == PB_OK)
			rc = s->spec->apply_many(&s->hist, db, recs, n);
	} else {
		for (i = 0; rc == PB_OK && i < n; i++)
			rc = s->spec->apply(&s->hist, db, e[i]->rec);
	}
	if (rc == PB_OK)
		rc = pb_db_commit(db);
	if (rc != PB_OK)
		(void)pb_db_rollback(db);
	return rc;
}

/* MariaDB refused the batch as a whole: one by one, so that one bad
 * record does not hold the others. */
static enum pb_err
apply_each(struct wk_sink *s, struct wk_entry **e, size_t n)
{
	enum pb_err rc;
	size_t i;

	for (i = 0; i < n; i++) {
		rc = apply_all(s, &e[i], 1);
		if (rc == PB_ERR_UNAVAILABLE)
			return rc;
		if (rc == PB_OK || rc == PB_ERR_DUPLICATE) {
			s->written++;
		} else {
			e[i]->why = "refused_by_database";
			pb_log_msg(PB_LOG_ERROR, "history_record_refused",
			           e[i]->id);
		}
		e[i]->done = 1;
	}
	return PB_OK;
}

/* MariaDB has been away for hold_ms: put the records in the local spool
 * (sealed, fsync'd) so that Redis's memory stays bounded. */
static void
spool_all(struct wk_sink *s, struct wk_entry **e, size_t n)
{
	size_t i;

	/* as it came (the text the service encoded) */
	for (i = 0; s->bo.spool != NULL && i < n; i++) {
		if (pb_spool_put(s->bo.spool, s->kind, e[i]->rec->request_id,
		                 e[i]->json, e[i]->json_len) != PB_OK)
			break;  /* spool full: hold the rest in Redis */
		e[i]->done = 2; /* acknowledged, not delivered from here */
		s->spooled++;
	}
}

/* MariaDB did not take the bookkeeping of deliveries just made: keep the
 * outcomes (bounded) and book them again from wk_sink_periodic, so that
 * an acknowledged delivery is not sent again when its lease ends.  What
 * does not fit is re-delivered after the lease (the receiver
 * de-duplicates). */
static void
keep_unbooked(struct wk_sink *s, const struct pb_mvno_job *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n && s->nunbooked < WK_UNBOOKED_MAX; i++) {
		struct wk_unbooked *u = &s->unbooked[s->nunbooked];

		if (jobs[i].rc != PB_OK && jobs[i].rc != PB_ERR_UNAVAILABLE)
			continue;
		(void)pb_strlcpy(u->rid, jobs[i].request_id, sizeof(u->rid));
		u->rc = jobs[i].rc;
		u->attempt = jobs[i].attempt;
		u->att = jobs[i].att;
		s->nunbooked++;
	}
}

static void
book_again(struct wk_sink *s)
{
	struct pb_mvno_job jobs[WK_UNBOOKED_MAX];
	size_t i;

	if (s->nunbooked == 0)
		return;
	memset(jobs, 0, sizeof(jobs[0]) * s->nunbooked);
	for (i = 0; i < s->nunbooked; i++) {
		jobs[i].request_id = s->unbooked[i].rid;
		jobs[i].rc = s->unbooked[i].rc;
		jobs[i].attempt = s->unbooked[i].attempt;
		jobs[i].att = s->unbooked[i].att;
	}
	if (pb_history_book(&s->hist, s->ddb, jobs, s->nunbooked) == PB_OK)
		s->nunbooked = 0;
}

/* What MariaDB did not take before: the bookkeeping, then the deliveries
 * a refusal left to be made due. */
static void
catch_up_books(struct wk_sink *s)
{
	book_again(s);
	due_again(s);
}

enum pb_err
wk_sink_apply(struct wk *w, struct wk_sink *s, struct wk_entry **e, size_t n)
{
	enum pb_err rc;
	size_t i;

	(void)w;
	if (n == 0)
		return PB_OK;
	for (i = 0; s->spec->prepare != NULL && i < n; i++)
		s->spec->prepare(&s->hist, e[i]->rec);
	rc = apply_all(s, e, n);
	if (rc == PB_OK) {
		for (i = 0; i < n; i++)
			e[i]->done = 1;
		s->written += n;
	} else if (rc != PB_ERR_UNAVAILABLE) {
		rc = apply_each(s, e, n);
	}
	if (rc == PB_ERR_UNAVAILABLE) {
		int64_t now = pb_clock_mono_ms();

		if (s->db_down_since == 0) {
			s->db_down_since = now;
			pb_log_msg(PB_LOG_WARN, "history_held",
			           pb_db_last_error(s->app.db));
		}
		if (now - s->db_down_since >= s->hold_ms)
			spool_all(s, e, n);
		return rc;
	}
	if (s->db_down_since != 0)
		pb_log_msg(PB_LOG_INFO, "history_database_back", s->kind);
	s->db_down_since = 0;
	return PB_OK;
}

/* The queue of deliveries from memory: owned copies, oldest first. */
static void
dq_drop(struct wk_sink *s, size_t k)
{
	while (k-- > 0 && s->dq_n > 0) {
		free(s->dq[s->dq_head].body);
		s->dq[s->dq_head].body = NULL;
		s->dq_head = (s->dq_head + 1) % WK_DQ_MAX;
		s->dq_n--;
	}
}

/* Queue one delivery (copies everything); 0 when the queue is full. */
static int
dq_push(struct wk_sink *s, const char *rid, const char *body, size_t len,
        long long attempt, const char *group)
{
	struct wk_delivery *d;

	if (s->dq_n >= WK_DQ_MAX)
		return 0;
	d = &s->dq[(s->dq_head + s->dq_n) % WK_DQ_MAX];
	d->body = malloc(len + 1);
	if (d->body == NULL)
		return 0;
	memcpy(d->body, body, len);
	d->body[len] = '\0';
	d->len = len;
	d->attempt = attempt;
	(void)pb_strlcpy(d->rid, rid, sizeof(d->rid));
	(void)pb_strlcpy(d->group, group, sizeof(d->group));
	snprintf(d->idem, sizeof(d->idem), "%s:%s", s->kind, rid);
	s->dq_n++;
	return 1;
}

/* Under mu: new deliveries go by the outbox from now on (why: logged when
 * this switches). */
static void
outbox_on(struct wk_sink *s, const char *why)
{
	if (!s->via_outbox)
		pb_log_msg(PB_LOG_WARN, "mvno_via_outbox", why);
	s->via_outbox = 1;
}

void
wk_sink_deliver(struct wk_sink *s, struct wk_entry **e, size_t n)
{
	unsigned char bidx[PB_CRYPTO_INDEX_LEN];
	char group[2 * PB_CRYPTO_INDEX_LEN + 1];
	const char *due[WK_READ_COUNT];
	size_t i, queued = 0, ndue = 0;

	if (!s->has_bo || !s->hist.mvno_on)
		return;
	(void)pthread_mutex_lock(&s->mu);
	/* only what was written now (a record set aside or spooled has
	 * no row to book against yet) */
	for (i = 0; i < n; i++) {
		const struct pb_history_rec *rec = e[i]->rec;
		const char *pl = rec->mvno, *rid = rec->request_id;

		if (e[i]->done != 1 || e[i]->why != NULL || pl == NULL ||
		    rec->line[0] == '\0')
			continue;
		/* the group is the line's blind index, as the outbox has it */
		pb_history_line_index(&s->hist, rec->line, bidx);
		sodium_bin2hex(group, sizeof(group), bidx, sizeof(bidx));
		if (!s->via_outbox &&
		    dq_push(s, rid, pl, strlen(pl), 1, group)) {
			queued++;
			continue;
		}
		/* full: this one and every later one go by the outbox until
		 * it has caught up (wk_sink_catch_up), so that no later
		 * result of a line overtakes it */
		outbox_on(s, "queue_full");
		if (ndue < WK_READ_COUNT)
			due[ndue++] = rid;
	}
	if (queued > 0)
		(void)pthread_cond_signal(&s->cv);
	(void)pthread_mutex_unlock(&s->mu);
	/* due at once rather than after the lease (which stays the fallback
	 * if MariaDB does not take this) */
	if (ndue > 0 &&
	    pb_history_due_now(&s->hist, s->app.db, due, ndue) != PB_OK)
		pb_log_msg(PB_LOG_WARN, "mvno_overflow_leased",
		           pb_db_last_error(s->app.db));
}

/* Make the deliveries in undue due at once; kept for the next turn of
 * the delivery thread while MariaDB does not take it. */
static void
due_again(struct wk_sink *s)
{
	if (s->nundue == 0)
		return;
	if (pb_history_due_now(&s->hist, s->ddb, s->undue_ptrs, s->nundue) ==
	    PB_OK) {
		s->nundue = 0;
		return;
	}
	pb_log_msg(PB_LOG_WARN, "mvno_due_now_failed",
	           pb_db_last_error(s->ddb));
}

/*
 * The MVNO AP refused a delivery of the chunk (jobs[0..k) at the head of
 * dq).  The refused one is booked to be retried after a backoff; the later
 * results of its line were not sent (PB_ERR_SKIPPED).  Those and whatever
 * else waits in dq are made due at once and go by the outbox, where a
 * line's deliveries are claimed only behind its older ones (history.h):
 * the rest go out at once, the refused line's after its retry.  New
 * results take the same way (via_outbox) until nothing is due or backing
 * off, so no later result of a line overtakes the refused one.  Until
 * they are made due (MariaDB may be away) they keep their lease, and
 * hold their lines that long.
 */
static void
refused(struct wk_sink *s, const struct pb_mvno_job *jobs, size_t k)
{
	size_t i, n;

	if (s->undue == NULL) {
		s->undue = calloc(WK_DQ_MAX, sizeof(*s->undue));
		s->undue_ptrs = calloc(WK_DQ_MAX, sizeof(*s->undue_ptrs));
	}
	(void)pthread_mutex_lock(&s->mu);
	n = s->dq_n;
	for (i = 0; s->undue != NULL && s->undue_ptrs != NULL && i < n &&
	            s->nundue < WK_DQ_MAX;
	     i++) {
		const struct wk_delivery *d =
		    &s->dq[(s->dq_head + i) % WK_DQ_MAX];

		if (i < k && jobs[i].rc != PB_ERR_SKIPPED)
			continue; /* sent: booked */
		(void)pb_strlcpy(s->undue[s->nundue], d->rid, WK_RID_MAX);
		s->undue_ptrs[s->nundue] = s->undue[s->nundue];
		s->nundue++;
	}
	dq_drop(s, s->dq_n);
	outbox_on(s, "refused");
	s->fails++;
	(void)pthread_mutex_unlock(&s->mu);
	due_again(s);
}

/* One chunk from the head of dq: delivered (a line's results one after
 * the other), booked on the thread's own connection, dropped from dq.
 * The entries stay in dq while they are sent: the main thread appends
 * behind them and never touches them. */
static void
deliver_chunk(struct wk_sink *s, struct pb_mvno_job *jobs, size_t k,
              size_t head)
{
	size_t i, failed = 0;

	memset(jobs, 0, sizeof(jobs[0]) * k);
	for (i = 0; i < k; i++) {
		struct wk_delivery *d = &s->dq[(head + i) % WK_DQ_MAX];

		jobs[i].body = d->body;
		jobs[i].len = d->len;
		jobs[i].idem_key = d->idem;
		jobs[i].request_id = d->rid;
		jobs[i].group = d->group;
		jobs[i].attempt = d->attempt;
	}
	(void)pb_mvno_deliver_many(s->multi, &s->bo.mvno, jobs, k);
	if (pb_history_book(&s->hist, s->ddb, jobs, k) != PB_OK)
		keep_unbooked(s, jobs, k);
	for (i = 0; i < k; i++)
		failed += jobs[i].rc != PB_OK;
	if (failed > 0) {
		refused(s, jobs, k);
		return;
	}
	(void)pthread_mutex_lock(&s->mu);
	dq_drop(s, k);
	(void)pthread_mutex_unlock(&s->mu);
}

static void *
deliverer(void *arg)
{
	struct wk_sink *s = arg;
	struct pb_mvno_job jobs[DELIVER_CHUNK];
	struct timespec until;
	size_t k, head;

	for (;;) {
		(void)pthread_mutex_lock(&s->mu);
		if (s->dq_n == 0 && !s->th_stop) {
			(void)clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += WK_DELIVER_WAKE_MS / 1000;
			(void)pthread_cond_timedwait(&s->cv, &s->mu, &until);
		}
		if (s->th_stop) {
			(void)pthread_mutex_unlock(&s->mu);
			break; /* what is left is leased in the outbox */
		}
		k = s->dq_n < DELIVER_CHUNK ? s->dq_n : DELIVER_CHUNK;
		head = s->dq_head;
		(void)pthread_mutex_unlock(&s->mu);
		catch_up_books(s);
		if (k > 0)
			deliver_chunk(s, jobs, k, head);
	}
	return NULL;
}

enum pb_err
wk_sinks_start(struct wk *w, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < WK_NSINKS; i++) {
		struct wk_sink *s = &w->sinks[i];

		if (!s->has_bo)
			continue;
		if (pthread_create(&s->th, NULL, deliverer, s) != 0) {
			snprintf(err, errlen,
			         "%s: cannot start the delivery "
			         "thread",
			         s->service);
			return PB_ERR_NOMEM;
		}
		s->th_up = 1;
	}
	return PB_OK;
}

static enum pb_err
due_cb(void *ud, const char *rid, const char *body, size_t len,
       long long attempt, const char *group)
{
	struct wk_sink *s = ud;

	(void)pthread_mutex_lock(&s->mu);
	if (dq_push(s, rid, body, len, attempt, group)) /* full: lease */
		(void)pthread_cond_signal(&s->cv);
	(void)pthread_mutex_unlock(&s->mu);
	return PB_OK;
}

/* Claim up to max due deliveries into the queue; how many came. */
static size_t
claim_into_queue(struct wk_sink *s, size_t max)
{
	char token[64];
	size_t n = 0;

	snprintf(token, sizeof(token), "%d.%llu.%lld", (int)getpid(),
	         ++s->claims, (long long)pb_clock_mono_ms());
	if (pb_history_claim_due(&s->hist, s->app.db, token, max, due_cb, s,
	                         &n) != PB_OK)
		return max; /* not known to have caught up */
	return n;
}

static size_t
queue_room(struct wk_sink *s)
{
	size_t room;

	(void)pthread_mutex_lock(&s->mu);
	room = WK_DQ_MAX - s->dq_n;
	(void)pthread_mutex_unlock(&s->mu);
	return room;
}

/* Whether new deliveries go by the outbox, and the refusals so far. */
static int
outbox_mode(struct wk_sink *s, unsigned long *fails)
{
	int on;

	(void)pthread_mutex_lock(&s->mu);
	on = s->via_outbox;
	if (fails != NULL)
		*fails = s->fails;
	(void)pthread_mutex_unlock(&s->mu);
	return on;
}

/* Due deliveries (their lease ended: the worker that had them died, or a
 * refused one's backoff is over) or ones backing off: new results go by
 * the outbox behind them (wk_sink_catch_up claims them all in order). */
static void
claim_due(struct wk_sink *s)
{
	int unsettled = 0;

	if (!s->has_bo || !s->hist.mvno_on || outbox_mode(s, NULL))
		return;
	if (pb_history_unsettled(&s->hist, s->app.db, &unsettled) != PB_OK ||
	    !unsettled)
		return;
	(void)pthread_mutex_lock(&s->mu);
	outbox_on(s, "due_in_outbox");
	(void)pthread_mutex_unlock(&s->mu);
}

void
wk_sink_catch_up(struct wk_sink *s)
{
	int64_t now = pb_clock_mono_ms();
	unsigned long fails;
	size_t room, want;
	int unsettled = 1;

	if (!s->has_bo || !outbox_mode(s, &fails))
		return;
	room = queue_room(s);
	if (room < WK_DQ_MAX / 4 || now - s->last_catch_up < WK_CATCH_UP_MS)
		return; /* the delivery thread is busy enough, or we just
		           looked */
	want = room < 1024 ? room : 1024;
	if (claim_into_queue(s, want) >= want) {
		s->last_catch_up = 0; /* more is due: again at once */
		return;
	}
	s->last_catch_up = now;
	if (pb_history_unsettled(&s->hist, s->app.db, &unsettled) != PB_OK ||
	    unsettled)
		return;
	/* nothing due or backing off is left behind (and no refusal came
	 * meanwhile): new results may go by memory */
	(void)pthread_mutex_lock(&s->mu);
	if (s->fails == fails) {
		s->via_outbox = 0;
		pb_log_msg(PB_LOG_WARN, "mvno_outbox_caught_up", s->kind);
	}
	(void)pthread_mutex_unlock(&s->mu);
}

/* --- periodic work
 * --------------------------------------------------------------- */

void
wk_sink_periodic(struct wk_sink *s)
{
	size_t n = 0;

	if (!s->has_bo)
		return;
	if (pb_spool_pending(s->bo.spool) > 0 &&
	    pb_history_replay(&s->hist, s->app.db, 500, &n) ==
	        PB_ERR_UNAVAILABLE)
		return; /* MariaDB still away */
	if (s->tick != NULL)
		s->tick(&s->bo);
	claim_due(s);
}

struct outbox_row {
	long long waiting, dead, lag_ms;
};

static enum pb_err
outbox_cb(void *ud, const struct pb_db_row *row)
{
	struct outbox_row *o = ud;

	if (row->ncols == 3) {
		o->waiting =
		    row->vals[0] != NULL ? strtoll(row->vals[0], NULL, 10) : 0;
		o->dead =
		    row->vals[1] != NULL ? strtoll(row->vals[1], NULL, 10) : 0;
		o->lag_ms =
		    row->vals[2] != NULL ? strtoll(row->vals[2], NULL, 10) : 0;
	}
	return PB_OK;
}

void
wk_sink_outbox(struct wk_sink *s, long long *waiting, long long *dead,
               long long *lag_ms)
{
	static const char bill_sql[] =
	    "SELECT (SELECT COUNT(*) FROM bill_request_history WHERE "
	    "mvno_next_at IS NOT NULL), (SELECT COUNT(*) FROM "
	    "bill_request_history WHERE mvno_dead_at IS NOT NULL), "
	    "(SELECT TIMESTAMPDIFF(MICROSECOND, MIN(completed_at), "
	    "UTC_TIMESTAMP(3)) DIV 1000 FROM bill_request_history WHERE "
	    "mvno_next_at IS NOT NULL)";
	static const char prod_sql[] =
	    "SELECT (SELECT COUNT(*) FROM product_change_history WHERE "
	    "mvno_next_at IS NOT NULL), (SELECT COUNT(*) FROM "
	    "product_change_history WHERE mvno_dead_at IS NOT NULL), "
	    "(SELECT TIMESTAMPDIFF(MICROSECOND, MIN(completed_at), "
	    "UTC_TIMESTAMP(3)) DIV 1000 FROM product_change_history WHERE "
	    "mvno_next_at IS NOT NULL)";
	struct outbox_row o = {0, 0, 0};

	if (s->has_bo)
		(void)pb_db_query(s->app.db,
		                  s->spec == &bill_history_spec ? bill_sql
		                                                : prod_sql,
		                  NULL, 0, outbox_cb, &o);
	*waiting += o.waiting;
	*dead += o.dead;
	if (o.lag_ms > *lag_ms)
		*lag_ms = o.lag_ms;
}
