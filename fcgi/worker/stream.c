/*
 * stream.c - phonebill-worker's side of the hand-off stream (worker.h,
 * lib/backoffice/handoff.h): consumer group, reads, take-over, acknowledgement,
 * dead letters and the report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "clock.h"
#include "handoff.h"
#include "json.h"
#include "log.h"
#include "worker.h"

#define ACK_CHUNK 64 /* ids per XACK / XDEL */

enum pb_err
wk_stream_init(struct wk *w)
{
	const char *argv[] = {"XGROUP",         "CREATE", PB_HANDOFF_STREAM,
	                      PB_HANDOFF_GROUP, "0",      "MKSTREAM"};
	redisReply *rep = NULL;
	enum pb_err rc;

	rc = pb_redis_cmd_str(w->redis, &rep, 6, argv);
	if (rc != PB_OK)
		return rc;
	/* BUSYGROUP: it exists (another worker, or an earlier start) */
	if (rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "BUSYGROUP", 9) != 0)
		rc = PB_ERR_UNAVAILABLE;
	freeReplyObject(rep);
	w->own_pending = 1;
	return rc;
}

static const redisReply *
field(const redisReply *fields, const char *name)
{
	size_t i;

	if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, name) == 0 &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING)
			return fields->element[i + 1];
	return NULL;
}

/* The opened text as the sink's typed record (its spec's decode: the
 * only place the worker reads a record's JSON); why says what is wrong
 * with one it cannot take. */
static void
entry_decode(const struct wk_sink *s, struct wk_entry *e)
{
	char why[PB_HISTORY_WHY_MAX];
	enum pb_err rc;

	rc = s->spec->decode(e->json, e->json_len, &e->rec, why);
	if (rc == PB_OK)
		return;
	snprintf(e->why_buf, sizeof(e->why_buf), "%s: %s",
	         rc == PB_ERR_PARSE   ? "cannot_parse"
	         : rc == PB_ERR_NOMEM ? "out_of_memory"
	                              : "invalid_record",
	         rc == PB_ERR_NOMEM ? "decode" : why);
	e->why = e->why_buf;
}

/* Fill e from one [id, [field, value ...]] element. */
static void
entry_load(struct wk *w, const redisReply *el, struct wk_entry *e)
{
	const redisReply *k, *d, *fields;

	memset(e, 0, sizeof(*e));
	e->sink = -1;
	if (el->type != REDIS_REPLY_ARRAY || el->elements < 2 ||
	    el->element[0]->type != REDIS_REPLY_STRING) {
		e->why = "malformed_entry";
		return;
	}
	(void)pb_strlcpy(e->id, el->element[0]->str, sizeof(e->id));
	fields = el->element[1];
	if (fields->type == REDIS_REPLY_NIL) {
		e->done = 1; /* deleted meanwhile: nothing to do */
		return;
	}
	k = field(fields, "k");
	d = field(fields, "d");
	if (d != NULL) {
		e->sealed = d->str;
		e->sealed_len = d->len;
	}
	e->sink = k != NULL ? wk_sink_of(w, k->str) : -1;
	if (e->sink < 0) {
		e->why = "unknown_kind";
		return;
	}
	if (d == NULL || pb_handoff_open(w->key, d->str, d->len, &e->json,
	                                 &e->json_len) != PB_OK) {
		e->why = "cannot_open";
		return;
	}
	entry_decode(&w->sinks[e->sink], e);
}

static void
entry_free(struct wk_entry *e)
{
	if (e->rec != NULL)
		e->rec->spec->rec_free(e->rec);
	if (e->json != NULL)
		sodium_memzero(e->json, e->json_len);
	free(e->json);
	e->json = NULL;
	e->rec = NULL;
}

/* Set e aside in PB_HANDOFF_DEAD (sealed as it came), to be acknowledged. */
static void
dead_letter(struct wk *w, struct wk_entry *e)
{
	const char *argv[11];
	size_t len[11], i;
	redisReply *rep = NULL;
	struct pb_logline l;

	argv[0] = "XADD";
	argv[1] = PB_HANDOFF_DEAD;
	argv[2] = "*";
	argv[3] = "k";
	argv[4] = e->sink >= 0 ? w->sinks[e->sink].kind : "unknown";
	argv[5] = "reason";
	argv[6] = e->why;
	argv[7] = "id";
	argv[8] = e->id;
	argv[9] = "d";
	argv[10] = e->sealed != NULL ? e->sealed : "";
	for (i = 0; i < 10; i++)
		len[i] = strlen(argv[i]);
	len[10] = e->sealed != NULL ? e->sealed_len : 0;
	if (pb_redis_cmd(w->redis, &rep, 11, argv, len) != PB_OK ||
	    rep->type == REDIS_REPLY_ERROR) {
		e->done = 0; /* keep it pending; try again later */
	} else {
		e->done = 1;
		if (e->sink >= 0)
			w->sinks[e->sink].dead++;
	}
	if (rep != NULL)
		freeReplyObject(rep);
	pb_log_begin(&l, PB_LOG_ERROR, "history_dead_letter");
	pb_log_str(&l, "entry", e->id);
	pb_log_str(&l, "reason", e->why);
	pb_log_end(&l);
}

/* XACK + XDEL of the entries that are done, in chunks, pipelined. */
static void
acknowledge(struct wk *w, struct wk_entry *e, size_t n)
{
	const char *ack[3 + ACK_CHUNK], *del[2 + ACK_CHUNK];
	size_t ackl[3 + ACK_CHUNK], dell[2 + ACK_CHUNK];
	struct pb_redis_cmdv cmds[2];
	redisReply *rep[2];
	size_t i = 0, k;

	ack[0] = "XACK";
	ack[1] = PB_HANDOFF_STREAM;
	ack[2] = PB_HANDOFF_GROUP;
	del[0] = "XDEL";
	del[1] = PB_HANDOFF_STREAM;
	for (k = 0; k < 3; k++)
		ackl[k] = strlen(ack[k]);
	dell[0] = 4;
	dell[1] = strlen(del[1]);
	while (i < n) {
		for (k = 0; i < n && k < ACK_CHUNK; i++) {
			if (!e[i].done)
				continue;
			ack[3 + k] = del[2 + k] = e[i].id;
			ackl[3 + k] = dell[2 + k] = strlen(e[i].id);
			k++;
		}
		if (k == 0)
			break;
		cmds[0].argc = (int)(3 + k);
		cmds[0].argv = ack;
		cmds[0].argvlen = ackl;
		cmds[1].argc = (int)(2 + k);
		cmds[1].argv = del;
		cmds[1].argvlen = dell;
		/* a lost acknowledgement only means the entry is written
		 * again later, which changes nothing (idempotent apply) */
		if (pb_redis_pipe(w->redis, cmds, 2, rep) == PB_OK) {
			freeReplyObject(rep[0]);
			freeReplyObject(rep[1]);
		}
	}
}

/* Apply entries e[0..n): bad ones to the dead letters, the rest per sink. */
static int
handle(struct wk *w, struct wk_entry *e, size_t n)
{
	struct wk_entry *mine[WK_READ_COUNT];
	int s, held = 0;
	size_t i, k;

	for (i = 0; i < n; i++)
		if (!e[i].done && e[i].why != NULL)
			dead_letter(w, &e[i]);
	for (s = 0; s < WK_NSINKS; s++) {
		for (i = 0, k = 0; i < n; i++)
			if (!e[i].done && e[i].why == NULL && e[i].sink == s)
				mine[k++] = &e[i];
		if (wk_sink_apply(w, &w->sinks[s], mine, k) ==
		    PB_ERR_UNAVAILABLE)
			held = 1;
		/* a record MariaDB refused as such: set aside too */
		for (i = 0; i < k; i++)
			if (mine[i]->done && mine[i]->why != NULL)
				dead_letter(w, mine[i]);
	}
	/* acknowledged as soon as MariaDB holds them: a crash while
	 * delivering costs a re-delivery after the lease, not a rewrite */
	acknowledge(w, e, n);
	for (s = 0; s < WK_NSINKS; s++) {
		for (i = 0, k = 0; i < n; i++)
			if (e[i].done && e[i].why == NULL && e[i].sink == s &&
			    e[i].rec != NULL)
				mine[k++] = &e[i];
		wk_sink_deliver(&w->sinks[s], mine, k);
	}
	return held;
}

/* The entries array of a read or claim reply. */
static const redisReply *
entries_of(const redisReply *rep, int claim)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY)
		return NULL;
	if (claim) /* [cursor, entries, deleted] */
		return rep->elements >= 2 ? rep->element[1] : NULL;
	/* [[stream, entries]] */
	if (rep->elements < 1 || rep->element[0]->type != REDIS_REPLY_ARRAY ||
	    rep->element[0]->elements < 2)
		return NULL;
	return rep->element[0]->element[1];
}

static enum pb_err
read_batch(struct wk *w, int claim, redisReply **out)
{
	char count[16], block[16], idle[16];
	const char *argv[12];
	int argc;

	snprintf(count, sizeof(count), "%d", WK_READ_COUNT);
	snprintf(block, sizeof(block), "%d", WK_BLOCK_MS);
	snprintf(idle, sizeof(idle), "%d", WK_CLAIM_IDLE_MS);
	if (claim) {
		argv[0] = "XAUTOCLAIM";
		argv[1] = PB_HANDOFF_STREAM;
		argv[2] = PB_HANDOFF_GROUP;
		argv[3] = w->consumer;
		argv[4] = idle;
		argv[5] = "0-0";
		argv[6] = "COUNT";
		argv[7] = count;
		argc = 8;
	} else {
		argv[0] = "XREADGROUP";
		argv[1] = "GROUP";
		argv[2] = PB_HANDOFF_GROUP;
		argv[3] = w->consumer;
		argv[4] = "COUNT";
		argv[5] = count;
		argc = 6;
		if (!w->own_pending) {
			argv[argc++] = "BLOCK";
			argv[argc++] = block;
		}
		argv[argc++] = "STREAMS";
		argv[argc++] = PB_HANDOFF_STREAM;
		argv[argc++] = w->own_pending ? "0" : ">";
	}
	return pb_redis_cmd_str(w->redis, out, argc, argv);
}

long
wk_stream_step(struct wk *w, int claim)
{
	static struct wk_entry e[WK_READ_COUNT];
	const redisReply *list;
	redisReply *rep = NULL;
	size_t i, n = 0;
	int held;

	if (read_batch(w, claim, &rep) != PB_OK)
		return -1;
	if (rep->type == REDIS_REPLY_ERROR) {
		/* NOGROUP: the stream was lost (a Redis without its data) */
		if (strncmp(rep->str, "NOGROUP", 7) == 0)
			(void)wk_stream_init(w);
		pb_log_msg(PB_LOG_WARN, "history_stream_error", rep->str);
		freeReplyObject(rep);
		return -1;
	}
	list = entries_of(rep, claim);
	for (i = 0; list != NULL && list->type == REDIS_REPLY_ARRAY &&
	            i < list->elements && n < WK_READ_COUNT;
	     i++)
		entry_load(w, list->element[i], &e[n++]);
	if (!claim && w->own_pending && n == 0)
		w->own_pending = 0; /* our own backlog is done */
	held = handle(w, e, n);
	if (held)
		w->own_pending = 1; /* read them again after a pause */
	for (i = 0; i < n; i++)
		entry_free(&e[i]);
	freeReplyObject(rep);
	return held ? -2 : (long)n;
}

/* --- the report
 * ---------------------------------------------------------------------- */

void
wk_stream_report(struct wk *w)
{
	char key[192], now[24], v[5][24];
	const char *hset[14], *zadd[4], *exp[3];
	struct pb_redis_cmdv cmds[3];
	size_t hl[14], zl[4], el[3], i;
	redisReply *rep[3];
	long long spooled = 0, waiting = 0, dead = 0, lag = 0;
	int s;

	for (s = 0; s < WK_NSINKS; s++) {
		if (w->sinks[s].has_bo)
			spooled +=
			    (long long)pb_spool_pending(w->sinks[s].bo.spool);
		wk_sink_outbox(&w->sinks[s], &waiting, &dead, &lag);
	}
	snprintf(key, sizeof(key), "%s%s", PB_HANDOFF_STATUS_PREFIX,
	         w->consumer);
	snprintf(now, sizeof(now), "%lld", (long long)pb_clock_now_ms());
	snprintf(v[0], sizeof(v[0]), "%lld", spooled);
	snprintf(v[1], sizeof(v[1]), "%lld", waiting);
	snprintf(v[2], sizeof(v[2]), "%lld", dead);
	snprintf(v[3], sizeof(v[3]), "%lld", lag);
	snprintf(v[4], sizeof(v[4]), "%d", PB_HANDOFF_STATUS_TTL_S);
	hset[0] = "HSET";
	hset[1] = key;
	hset[2] = "spooled";
	hset[3] = v[0];
	hset[4] = "outbox";
	hset[5] = v[1];
	hset[6] = "outbox_dead";
	hset[7] = v[2];
	hset[8] = "delivery_lag_ms";
	hset[9] = v[3];
	hset[10] = "updated_ms";
	hset[11] = now;
	zadd[0] = "ZADD";
	zadd[1] = "v1:workers";
	zadd[2] = now;
	zadd[3] = w->consumer;
	exp[0] = "EXPIRE";
	exp[1] = key;
	exp[2] = v[4];
	for (i = 0; i < 12; i++)
		hl[i] = strlen(hset[i]);
	for (i = 0; i < 4; i++)
		zl[i] = strlen(zadd[i]);
	for (i = 0; i < 3; i++)
		el[i] = strlen(exp[i]);
	cmds[0] = (struct pb_redis_cmdv){12, hset, hl};
	cmds[1] = (struct pb_redis_cmdv){4, zadd, zl};
	cmds[2] = (struct pb_redis_cmdv){3, exp, el};
	if (pb_redis_pipe(w->redis, cmds, 3, rep) == PB_OK)
		for (i = 0; i < 3; i++)
			freeReplyObject(rep[i]);
}

int
wk_status(struct wk *w)
{
	struct pb_handoff_stats st;
	cJSON *o;
	char *text;

	if (pb_handoff_stats(w->redis, pb_clock_now_ms(), &st) != PB_OK) {
		fprintf(stderr, "phonebill-worker: Redis cannot be asked: %s\n",
		        pb_redis_last_error(w->redis));
		return 1;
	}
	o = cJSON_CreateObject();
	if (o == NULL)
		return 1;
	pb_handoff_health(w->redis, pb_clock_now_ms(), o);
	text = cJSON_Print(cJSON_GetObjectItemCaseSensitive(o, "history"));
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
	return 0;
}
