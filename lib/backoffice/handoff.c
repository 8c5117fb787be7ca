/* handoff.c - durable hand-off of history records (handoff.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "handoff.h"
#include "json.h"
#include "log.h"

#define WORKERS_SET "v1:workers" /* sorted set: worker name -> last ms */
#define MAX_WORKERS 16           /* reports read for a health answer */

static void
log_failure(const char *kind, const char *why)
{
	struct pb_logline l;

	pb_log_begin(&l, PB_LOG_ERROR, "history_handoff_failed");
	pb_log_str(&l, "kind", kind);
	pb_log_str(&l, "error", why);
	pb_log_end(&l);
}

/* 1 when an XADD reply is an entry id. */
static int
is_entry_id(const redisReply *rep)
{
	return rep != NULL &&
	       (rep->type == REDIS_REPLY_STRING ||
	        rep->type == REDIS_REPLY_STATUS) &&
	       rep->str != NULL && strchr(rep->str, '-') != NULL;
}

enum pb_err
pb_handoff_put(struct pb_redis *r, const unsigned char key[PB_CRYPTO_KEY_LEN],
               const char *kind, const char *json, size_t len,
               const struct pb_redis_cmdv *extra, size_t nextra)
{
	struct pb_redis_cmdv cmds[PB_REDIS_MAX_PIPE];
	redisReply *replies[PB_REDIS_MAX_PIPE];
	const char *argv[9];
	size_t argvlen[9], i, n = 0;
	unsigned char *sealed = NULL;
	size_t slen = 0;
	enum pb_err rc;

	memset(replies, 0, sizeof(replies));
	if (r == NULL || kind == NULL || json == NULL ||
	    nextra >= PB_REDIS_MAX_PIPE) {
		rc = PB_ERR_INVAL;
		goto out;
	}
	if (len > PB_HANDOFF_REC_MAX) {
		rc = PB_ERR_TOOBIG;
		goto out;
	}
	rc = pb_crypto_seal(key, json, len, &sealed, &slen);
	if (rc != PB_OK)
		goto out;
	for (i = 0; i < nextra; i++)
		cmds[n++] = extra[i];
	argv[0] = "XADD";
	argv[1] = PB_HANDOFF_STREAM;
	argv[2] = "*";
	argv[3] = "k";
	argv[4] = kind;
	argv[5] = "v";
	argv[6] = "1";
	argv[7] = "d";
	argv[8] = (const char *)sealed;
	for (i = 0; i < 8; i++)
		argvlen[i] = strlen(argv[i]);
	argvlen[8] = slen;
	cmds[n].argc = 9;
	cmds[n].argv = argv;
	cmds[n].argvlen = argvlen;
	n++;
	rc = pb_redis_pipe(r, cmds, n, replies);
	if (rc == PB_OK && !is_entry_id(replies[n - 1]))
		rc = PB_ERR_UNAVAILABLE;
	/* several Redis nodes: on a replica too before we answer 2xx */
	if (rc == PB_OK)
		rc = pb_redis_durable(r);
	if (rc != PB_OK)
		log_failure(kind,
		            replies[n - 1] != NULL &&
		                    replies[n - 1]->type == REDIS_REPLY_ERROR
		                ? replies[n - 1]->str
		                : pb_redis_last_error(r));
out:
	for (i = 0; i < n; i++)
		if (replies[i] != NULL)
			freeReplyObject(replies[i]);
	free(sealed);
	return rc;
}

enum pb_err
pb_handoff_open(const unsigned char key[PB_CRYPTO_KEY_LEN], const void *sealed,
                size_t len, char **out, size_t *outlen)
{
	return pb_crypto_open_alloc(key, sealed, len, PB_HANDOFF_REC_MAX, out,
	                            outlen);
}

/* --- state, for health and the worker's status command ----------------------
 */

static long long
reply_int(const redisReply *rep)
{
	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_INTEGER)
		return rep->integer;
	if (rep->type == REDIS_REPLY_STRING && rep->str != NULL)
		return strtoll(rep->str, NULL, 10);
	return -1;
}

/* The ms part of an entry id "1733...-0". */
static long long
id_ms(const char *id)
{
	return id != NULL ? strtoll(id, NULL, 10) : 0;
}

/* Add the workers' reports (sums of spooled; maxima of the rest). */
static void
read_reports(struct pb_redis *r, int64_t now_ms, struct pb_handoff_stats *st)
{
	char min[32], key[128];
	const char *argv[8];
	redisReply *names = NULL, *rep = NULL;
	size_t i;
	long long v;

	snprintf(min, sizeof(min), "%lld",
	         (long long)now_ms - PB_HANDOFF_STATUS_TTL_S * 1000LL);
	argv[0] = "ZRANGEBYSCORE";
	argv[1] = WORKERS_SET;
	argv[2] = min;
	argv[3] = "+inf";
	argv[4] = "LIMIT";
	argv[5] = "0";
	argv[6] = "16";
	if (pb_redis_cmd_str(r, &names, 7, argv) != PB_OK ||
	    names->type != REDIS_REPLY_ARRAY)
		goto out;
	for (i = 0; i < names->elements && i < MAX_WORKERS; i++) {
		if (names->element[i]->type != REDIS_REPLY_STRING)
			continue;
		snprintf(key, sizeof(key), "%s%s", PB_HANDOFF_STATUS_PREFIX,
		         names->element[i]->str);
		argv[0] = "HMGET";
		argv[1] = key;
		argv[2] = "spooled";
		argv[3] = "outbox";
		argv[4] = "outbox_dead";
		argv[5] = "delivery_lag_ms";
		if (pb_redis_cmd_str(r, &rep, 6, argv) != PB_OK)
			break;
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 4 &&
		    rep->element[0]->type == REDIS_REPLY_STRING) {
			st->workers++;
			st->spooled += reply_int(rep->element[0]);
			v = reply_int(rep->element[1]);
			st->outbox = v > st->outbox ? v : st->outbox;
			v = reply_int(rep->element[2]);
			st->outbox_dead =
			    v > st->outbox_dead ? v : st->outbox_dead;
			v = reply_int(rep->element[3]);
			st->delivery_lag_ms =
			    v > st->delivery_lag_ms ? v : st->delivery_lag_ms;
		}
		freeReplyObject(rep);
		rep = NULL;
	}
out:
	if (names != NULL)
		freeReplyObject(names);
}

enum pb_err
pb_handoff_stats(struct pb_redis *r, int64_t now_ms,
                 struct pb_handoff_stats *st)
{
	static const char *xlen[] = {"XLEN", PB_HANDOFF_STREAM};
	static const char *xdead[] = {"XLEN", PB_HANDOFF_DEAD};
	static const char *xpend[] = {"XPENDING", PB_HANDOFF_STREAM,
	                              PB_HANDOFF_GROUP};
	static const char *xfirst[] = {"XRANGE", PB_HANDOFF_STREAM, "-",
	                               "+",      "COUNT",           "1"};
	static const size_t l1[] = {4, sizeof(PB_HANDOFF_STREAM) - 1};
	static const size_t l2[] = {4, sizeof(PB_HANDOFF_DEAD) - 1};
	static const size_t l3[] = {8, sizeof(PB_HANDOFF_STREAM) - 1,
	                            sizeof(PB_HANDOFF_GROUP) - 1};
	static const size_t l4[] = {6, sizeof(PB_HANDOFF_STREAM) - 1, 1, 1, 5,
	                            1};
	const struct pb_redis_cmdv cmds[4] = {
	    {2, xlen, l1},
	    {2, xdead, l2},
	    {3, xpend, l3},
	    {6, xfirst, l4},
	};
	redisReply *rep[4];
	const redisReply *e;
	enum pb_err rc;
	size_t i;

	memset(st, 0, sizeof(*st));
	rc = pb_redis_pipe(r, cmds, 4, rep);
	if (rc != PB_OK)
		return rc;
	st->length = reply_int(rep[0]);
	st->dead = reply_int(rep[1]);
	/* no group yet (no worker ever started): everything is waiting */
	if (rep[2]->type == REDIS_REPLY_ARRAY && rep[2]->elements >= 1)
		st->pending = reply_int(rep[2]->element[0]);
	e = rep[3];
	if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
	    e->element[0]->type == REDIS_REPLY_ARRAY &&
	    e->element[0]->elements >= 1 &&
	    e->element[0]->element[0]->type == REDIS_REPLY_STRING) {
		long long ms = id_ms(e->element[0]->element[0]->str);

		st->oldest_ms = ms > 0 && now_ms > ms ? now_ms - ms : 0;
	}
	for (i = 0; i < 4; i++)
		freeReplyObject(rep[i]);
	if (st->length < 0 || st->dead < 0)
		return PB_ERR_UNAVAILABLE; /* e.g. a replica still loading */
	read_reports(r, now_ms, st);
	return PB_OK;
}

void
pb_handoff_health(struct pb_redis *r, int64_t now_ms, cJSON *data)
{
	struct pb_handoff_stats st;
	cJSON *h = cJSON_AddObjectToObject(data, "history");

	if (h == NULL)
		return;
	if (r == NULL || pb_handoff_stats(r, now_ms, &st) != PB_OK) {
		(void)cJSON_AddStringToObject(h, "state", "UNKNOWN");
		return;
	}
	(void)cJSON_AddStringToObject(h, "state",
	                              st.workers > 0 ? "UP" : "NO_WORKER");
	(void)cJSON_AddNumberToObject(h, "backlog", (double)st.length);
	(void)cJSON_AddNumberToObject(h, "pending", (double)st.pending);
	(void)cJSON_AddNumberToObject(h, "oldestMs", (double)st.oldest_ms);
	(void)cJSON_AddNumberToObject(h, "dead", (double)st.dead);
	(void)cJSON_AddNumberToObject(h, "workers", (double)st.workers);
	(void)cJSON_AddNumberToObject(h, "spooled", (double)st.spooled);
	(void)cJSON_AddNumberToObject(h, "outbox", (double)st.outbox);
	(void)cJSON_AddNumberToObject(h, "outboxDead", (double)st.outbox_dead);
	(void)cJSON_AddNumberToObject(h, "deliveryLagMs",
	                              (double)st.delivery_lag_ms);
}
