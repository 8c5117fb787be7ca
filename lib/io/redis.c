/* redis.c - a self-healing hiredis connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "buf.h"
#include "clock.h"
#include "redis.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
/* With sentinels a retry costs one loopback round trip to a sentinel, and
 * during a failover the answer changes the moment the new master is
 * promoted: retry at least this often (ms) so that no process waits out
 * a long backoff after the switch */
#define SENTINEL_BACKOFF_MAX_MS 150
/* A connection found through the sentinels is confirmed with them again
 * when it is used after this long (ms): after a manual failover the old
 * master keeps answering (and taking writes that will be lost) until the
 * sentinels convert it, seconds later */
#define SENTINEL_CONFIRM_MS 1000
#define DEGRADED_MS 1000 /* ms a missing replica is assumed still missing */
#define MAX_SCRIPTS 16   /* scripts whose SHA1 a pb_redis keeps */
#define SHA_LEN 40       /* hex chars of a script's SHA1 */

struct pb_redis {
	char *socket;
	char *host;
	int port;
	char *password;
	int connect_timeout_ms;
	int timeout_ms;
	int wait_replicas;
	int wait_ms;
	int64_t degraded_until; /* mono ms: replica known missing until then */
	char *master_name;
	char *sent_host[PB_REDIS_MAX_SENTINELS];
	int sent_port[PB_REDIS_MAX_SENTINELS];
	size_t nsent;
	size_t sent_first; /* the sentinel that answered last */
	char server[80];   /* "host:port" of the current master */
	redisContext *ctx;
	int used;             /* ctx has answered at least one command */
	int64_t next_try_ms;  /* monotonic ms before which we do not connect */
	int64_t confirmed_ms; /* mono ms the sentinels last named server */
	int backoff_ms;
	int backoff_max_ms;
	char err[128];
	struct { /* SCRIPT LOAD's answers, by source address */
		const char *src;
		char sha[SHA_LEN + 1];
	} scripts[MAX_SCRIPTS];
	size_t nscripts;
};

static struct timeval
ms_to_tv(int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

static char *
dup_or_null(const char *s)
{
	return (s != NULL && *s != '\0') ? strdup(s) : NULL;
}

void
pb_redis_free(struct pb_redis *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		redisFree(r->ctx);
	free(r->socket);
	free(r->host);
	free(r->master_name);
	while (r->nsent > 0)
		free(r->sent_host[--r->nsent]);
	if (r->password != NULL) {
		memset(r->password, 0, strlen(r->password));
		free(r->password);
	}
	free(r);
}

static enum pb_err finish_new(struct pb_redis *r, const struct pb_redis_opts *o,
                              struct pb_redis **out);

/* "h:p,h:p" into r->sent_host / sent_port; PB_ERR_INVAL when malformed. */
static enum pb_err
parse_sentinels(struct pb_redis *r, const char *list)
{
	const char *p = list, *colon, *end;
	char *num_end = NULL;
	long port;
	size_t n;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL || colon == p ||
		    r->nsent >= PB_REDIS_MAX_SENTINELS)
			return PB_ERR_INVAL;
		port = strtol(colon + 1, &num_end, 10);
		while (num_end != NULL && num_end < end && *num_end == ' ')
			num_end++;
		if (num_end != end || port < 1 || port > 65535)
			return PB_ERR_INVAL;
		n = (size_t)(colon - p);
		r->sent_host[r->nsent] = strndup(p, n);
		if (r->sent_host[r->nsent] == NULL)
			return PB_ERR_NOMEM;
		r->sent_port[r->nsent++] = (int)port;
		p = end;
	}
	return r->nsent > 0 ? PB_OK : PB_ERR_INVAL;
}

enum pb_err
pb_redis_new(const struct pb_redis_opts *o, struct pb_redis **out)
{
	struct pb_redis *r;
	enum pb_err rc;

	*out = NULL;
	if (o->sentinels != NULL && *o->sentinels != '\0') {
		if (o->master_name == NULL || *o->master_name == '\0')
			return PB_ERR_INVAL;
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return PB_ERR_NOMEM;
		rc = parse_sentinels(r, o->sentinels);
		r->master_name = strdup(o->master_name);
		if (rc == PB_OK && r->master_name == NULL)
			rc = PB_ERR_NOMEM;
		if (rc != PB_OK) {
			pb_redis_free(r);
			return rc;
		}
		return finish_new(r, o, out);
	}
	if (o->socket == NULL && o->host == NULL)
		return PB_ERR_INVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return PB_ERR_NOMEM;
	r->socket = dup_or_null(o->socket);
	r->host = dup_or_null(o->host);
	if ((o->socket != NULL && *o->socket != '\0' && r->socket == NULL) ||
	    (o->host != NULL && *o->host != '\0' && r->host == NULL)) {
		pb_redis_free(r);
		return PB_ERR_NOMEM;
	}
	return finish_new(r, o, out);
}

/* The options common to both modes; frees r on failure. */
static enum pb_err
finish_new(struct pb_redis *r, const struct pb_redis_opts *o,
           struct pb_redis **out)
{
	r->password = dup_or_null(o->password);
	if (o->password != NULL && *o->password != '\0' &&
	    r->password == NULL) {
		pb_redis_free(r);
		return PB_ERR_NOMEM;
	}
	if (r->socket != NULL)
		(void)pb_strlcpy(r->server, r->socket, sizeof(r->server));
	else if (r->host != NULL)
		(void)snprintf(r->server, sizeof(r->server), "%s:%d", r->host,
		               o->port > 0 ? o->port : 6379);
	r->port = o->port > 0 ? o->port : 6379;
	r->connect_timeout_ms =
	    o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 500;
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1000;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->backoff_max_ms =
	    r->nsent > 0 ? SENTINEL_BACKOFF_MAX_MS : BACKOFF_MAX_MS;
	r->wait_replicas = o->wait_replicas > 0 ? o->wait_replicas : 0;
	/* WAIT must answer before the read timeout gives up on it (ms) */
	r->wait_ms = o->wait_ms > 0 && o->wait_ms < r->timeout_ms
	                 ? o->wait_ms
	                 : r->timeout_ms / 2;
	*out = r;
	return PB_OK;
}

/* why may point into r->ctx (its errstr): copy it before freeing. */
static void
drop(struct pb_redis *r, const char *why)
{
	(void)pb_strlcpy(r->err, why, sizeof(r->err));
	if (r->ctx != NULL) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
	r->used = 0;
}

static void
connect_failed(struct pb_redis *r, const char *why)
{
	drop(r, why);
	r->next_try_ms = pb_clock_mono_ms() + r->backoff_ms;
	r->backoff_ms = r->backoff_ms * 2 > r->backoff_max_ms
	                    ? r->backoff_max_ms
	                    : r->backoff_ms * 2;
}

/*
 * The master a sentinel named cannot be used (refuses connections, is not
 * a master): ask the next sentinel first next time -- during a failover
 * the leader knows the promoted replica before the others hear of it.
 */
static void
sentinel_miss(struct pb_redis *r, const char *why)
{
	if (r->nsent > 0)
		r->sent_first = (r->sent_first + 1) % r->nsent;
	connect_failed(r, why);
}

/* AUTH on r->ctx when a password is set; 0 on success. */
static int
authenticate(struct pb_redis *r)
{
	redisReply *rep;
	const char *argv[2];
	size_t argvlen[2];

	if (r->password == NULL)
		return 0;
	argv[0] = "AUTH";
	argvlen[0] = 4;
	argv[1] = r->password;
	argvlen[1] = strlen(r->password);
	rep = redisCommandArgv(r->ctx, 2, argv, argvlen);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		connect_failed(r,
		               rep == NULL ? r->ctx->errstr : "AUTH refused");
		freeReplyObject(rep);
		return -1;
	}
	freeReplyObject(rep);
	return 0;
}

/* Ask one sentinel for the master's address; 0 and host/port on success. */
static int
ask_sentinel(struct pb_redis *r, size_t i, char *host, size_t hostlen,
             int *port)
{
	redisContext *c;
	redisReply *rep = NULL;
	const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", NULL};
	size_t argvlen[3];
	char *end = NULL;
	long p;
	int ok = -1;

	/* a sentinel that does not answer quickly is skipped (ms) */
	c = redisConnectWithTimeout(r->sent_host[i], r->sent_port[i],
	                            ms_to_tv(r->connect_timeout_ms < 300
	                                         ? r->connect_timeout_ms
	                                         : 300));
	if (c == NULL || c->err != 0 ||
	    redisSetTimeout(c, ms_to_tv(r->timeout_ms)) != REDIS_OK)
		goto out;
	argv[2] = r->master_name;
	argvlen[0] = 8;
	argvlen[1] = strlen(argv[1]);
	argvlen[2] = strlen(argv[2]);
	rep = redisCommandArgv(c, 3, argv, argvlen);
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING)
		goto out;
	p = strtol(rep->element[1]->str, &end, 10);
	if (end == rep->element[1]->str || *end != '\0' || p < 1 || p > 65535 ||
	    pb_strlcpy(host, rep->element[0]->str, hostlen) != PB_OK)
		goto out;
	*port = (int)p;
	ok = 0;
out:
	freeReplyObject(rep);
	if (c != NULL)
		redisFree(c);
	return ok;
}

/* The master's address from the first sentinel that knows it. */
static int
discover(struct pb_redis *r, char *host, size_t hostlen, int *port)
{
	size_t k, i;

	for (k = 0; k < r->nsent; k++) {
		i = (r->sent_first + k) % r->nsent;
		if (ask_sentinel(r, i, host, hostlen, port) == 0) {
			r->sent_first = i;
			return 0;
		}
	}
	return -1;
}

/* ROLE's first element into out; 0 on success. */
static int
role_of(redisContext *c, char *out, size_t outlen)
{
	redisReply *rep;
	const char *argv[1] = {"ROLE"};
	size_t argvlen[1] = {4};
	int rc = -1;

	rep = redisCommandArgv(c, 1, argv, argvlen);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    rep->elements > 0 && rep->element[0]->type == REDIS_REPLY_STRING &&
	    pb_strlcpy(out, rep->element[0]->str, outlen) == PB_OK)
		rc = 0;
	freeReplyObject(rep);
	return rc;
}

/* Open r->ctx to the configured or discovered server; 0 on success. */
static int
open_ctx(struct pb_redis *r)
{
	char host[64];
	int port = 0;

	if (r->nsent > 0) {
		if (discover(r, host, sizeof(host), &port) != 0) {
			connect_failed(r, "no sentinel knows the master");
			return -1;
		}
		(void)snprintf(r->server, sizeof(r->server), "%s:%d", host,
		               port);
		r->ctx = redisConnectWithTimeout(
		    host, port, ms_to_tv(r->connect_timeout_ms));
	} else if (r->socket != NULL) {
		r->ctx = redisConnectUnixWithTimeout(
		    r->socket, ms_to_tv(r->connect_timeout_ms));
	} else {
		r->ctx = redisConnectWithTimeout(
		    r->host, r->port, ms_to_tv(r->connect_timeout_ms));
	}
	if (r->ctx == NULL || r->ctx->err != 0) {
		sentinel_miss(r, r->ctx != NULL ? r->ctx->errstr
		                                : "cannot allocate context");
		return -1;
	}
	if (redisSetTimeout(r->ctx, ms_to_tv(r->timeout_ms)) != REDIS_OK) {
		connect_failed(r, "cannot set timeout");
		return -1;
	}
	return 0;
}

/*
 * With sentinels: a connection not confirmed for SENTINEL_CONFIRM_MS is
 * dropped when the sentinel that answered last now names another master.
 * A sentinel that cannot be asked changes nothing (the connection itself
 * will tell); the next confirmation asks the next one.
 */
static void
reconfirm(struct pb_redis *r)
{
	char host[64], now[80];
	int port = 0;
	int64_t t = pb_clock_mono_ms();

	if (r->nsent == 0 || t - r->confirmed_ms < SENTINEL_CONFIRM_MS)
		return;
	r->confirmed_ms = t;
	/* one sentinel, not the list: at most one short connect timeout a
	 * second when they are unreachable */
	if (ask_sentinel(r, r->sent_first, host, sizeof(host), &port) != 0) {
		r->sent_first = (r->sent_first + 1) % r->nsent;
		return;
	}
	(void)snprintf(now, sizeof(now), "%s:%d", host, port);
	if (strcmp(now, r->server) != 0)
		drop(r, "the sentinels name another master");
}

static enum pb_err
ensure_connected(struct pb_redis *r)
{
	char role[16];

	if (r->ctx != NULL)
		reconfirm(r);
	if (r->ctx != NULL)
		return PB_OK;
	if (pb_clock_mono_ms() < r->next_try_ms)
		return PB_ERR_UNAVAILABLE; /* still backing off */
	if (open_ctx(r) != 0 || authenticate(r) != 0)
		return PB_ERR_UNAVAILABLE;
	/* a sentinel's answer may be stale during a failover: confirm */
	if (r->nsent > 0 && (role_of(r->ctx, role, sizeof(role)) != 0 ||
	                     strcmp(role, "master") != 0)) {
		sentinel_miss(r, "the server the sentinels named is not "
		                 "a master (failover in progress)");
		return PB_ERR_UNAVAILABLE;
	}
	r->backoff_ms = BACKOFF_MIN_MS;
	r->next_try_ms = 0;
	r->confirmed_ms = pb_clock_mono_ms();
	r->used = 0;
	r->degraded_until = 0;
	return PB_OK;
}

/*
 * True for an error reply that means "this server cannot serve now"
 * (a replica, loading its data, cut off from its master, too few
 * replicas): the command did not run, so it may be sent elsewhere.
 */
static int
outage_reply(const redisReply *rep)
{
	static const char *const codes[] = {"READONLY",   "LOADING",
	                                    "MASTERDOWN", "NOREPLICAS",
	                                    "TRYAGAIN",   "CLUSTERDOWN"};
	const char *s;
	size_t i, n;

	if (rep == NULL || rep->type != REDIS_REPLY_ERROR || rep->str == NULL)
		return 0;
	s = rep->str;
	/* Lua: "ERR Error running script ...: -READONLY ..." style wrap */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		n = strlen(codes[i]);
		if (strncmp(s, codes[i], n) == 0 &&
		    (s[n] == ' ' || s[n] == '\0'))
			return 1;
		if (strstr(s, codes[i]) != NULL && strncmp(s, "ERR", 3) == 0 &&
		    strstr(s, "script") != NULL)
			return 1;
	}
	return 0;
}

/* True when the failure means "the server had closed this connection". */
static int
stale_connection_error(const redisContext *c)
{
	if (c->err == REDIS_ERR_EOF)
		return 1;
	if (c->err == REDIS_ERR_IO)
		return errno == ECONNRESET || errno == EPIPE;
	return 0;
}

/* After a failed exchange: a stale connection (retryable) is dropped and
 * the caller tries once more; otherwise the failure is recorded (back
 * off before the next connect).  Returns retryable. */
static int
retry_or_fail(struct pb_redis *r, int retryable)
{
	if (retryable)
		drop(r, r->ctx->errstr);
	else
		connect_failed(r, r->ctx->errstr);
	return retryable;
}

enum pb_err
pb_redis_cmd(struct pb_redis *r, redisReply **reply, int argc,
             const char **argv, const size_t *argvlen)
{
	redisReply *rep;
	int attempt;

	*reply = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(r) != PB_OK)
			return PB_ERR_UNAVAILABLE;
		rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
		if (rep != NULL && outage_reply(rep)) {
			/* re-discover now; a second such reply backs off */
			if (attempt == 0)
				drop(r, rep->str);
			else
				connect_failed(r, rep->str);
			freeReplyObject(rep);
			continue;
		}
		if (rep != NULL) {
			r->used = 1;
			*reply = rep;
			return PB_OK;
		}
		/* a fresh connection that fails is not "stale": back off */
		if (!retry_or_fail(r,
		                   r->used && stale_connection_error(r->ctx)))
			break;
	}
	return PB_ERR_UNAVAILABLE;
}

/* Send cmds and read their replies once; 0 on success, else -1 with
 * every reply freed and *got_any telling whether a reply had arrived. */
static int
pipe_once(struct pb_redis *r, const struct pb_redis_cmdv *cmds, size_t n,
          redisReply **replies, int *got_any)
{
	size_t i;
	void *rep;

	*got_any = 0;
	for (i = 0; i < n; i++)
		if (redisAppendCommandArgv(r->ctx, cmds[i].argc, cmds[i].argv,
		                           cmds[i].argvlen) != REDIS_OK)
			goto fail;
	for (i = 0; i < n; i++) {
		rep = NULL;
		if (redisGetReply(r->ctx, &rep) != REDIS_OK || rep == NULL)
			goto fail;
		replies[i] = rep;
		*got_any = 1;
	}
	return 0;
fail:
	for (i = 0; i < n; i++) {
		if (replies[i] != NULL)
			freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
	return -1;
}

/* An outage reply among replies: drop them all and the connection. */
static int
pipe_outage(struct pb_redis *r, redisReply **replies, size_t n, int attempt)
{
	size_t i;
	int hit = 0;

	for (i = 0; i < n && !hit; i++)
		if (outage_reply(replies[i])) {
			if (attempt == 0)
				drop(r, replies[i]->str);
			else
				connect_failed(r, replies[i]->str);
			hit = 1;
		}
	for (i = 0; hit && i < n; i++) {
		freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
	return hit;
}

enum pb_err
pb_redis_pipe(struct pb_redis *r, const struct pb_redis_cmdv *cmds, size_t n,
              redisReply **replies)
{
	int attempt, got_any;
	size_t i;

	for (i = 0; i < n; i++)
		replies[i] = NULL;
	if (r == NULL || n == 0 || n > PB_REDIS_MAX_PIPE)
		return PB_ERR_INVAL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(r) != PB_OK)
			return PB_ERR_UNAVAILABLE;
		if (pipe_once(r, cmds, n, replies, &got_any) == 0) {
			if (pipe_outage(r, replies, n, attempt))
				continue;
			r->used = 1;
			return PB_OK;
		}
		if (!retry_or_fail(r, r->used && !got_any &&
		                          stale_connection_error(r->ctx)))
			break;
	}
	return PB_ERR_UNAVAILABLE;
}

enum pb_err
pb_redis_cmd_str(struct pb_redis *r, redisReply **reply, int argc,
                 const char **argv)
{
	size_t lens[PB_REDIS_MAX_ARGS];
	int i;

	*reply = NULL;
	if (r == NULL || argc < 1 || argc > PB_REDIS_MAX_ARGS)
		return PB_ERR_INVAL;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return pb_redis_cmd(r, reply, argc, argv, lens);
}

enum pb_err
pb_redis_key_cmd(struct pb_redis *r, const char *cmd, const char *key,
                 int want_type)
{
	const char *argv[2] = {cmd, key};
	redisReply *rep = NULL;
	enum pb_err rc;

	rc = pb_redis_cmd_str(r, &rep, 2, argv);
	if (rc == PB_OK && (rep->type == REDIS_REPLY_ERROR ||
	                    (want_type != -1 && rep->type != want_type)))
		rc = PB_ERR_INTERNAL;
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_redis_ping(struct pb_redis *r)
{
	const char *argv[1] = {"PING"};
	size_t argvlen[1] = {4};
	redisReply *rep = NULL;
	enum pb_err rc;

	rc = pb_redis_cmd(r, &rep, 1, argv, argvlen);
	if (rc != PB_OK)
		return rc;
	rc = (rep->type == REDIS_REPLY_STATUS && rep->str != NULL &&
	      strcmp(rep->str, "PONG") == 0)
	         ? PB_OK
	         : PB_ERR_UNAVAILABLE;
	freeReplyObject(rep);
	return rc;
}

/*
 * Too few replicas acknowledged: either the replica is gone (none is
 * attached and the sentinels still name this server: carry on with fewer
 * copies, or nothing could be
 * written until an operator restores a replica) or this server was just
 * replaced by a failover (they name another: the write may be lost, so
 * it fails and the connection is dropped to re-discover).  Without
 * sentinels there is nobody to ask: it fails.
 */
/* INFO replication's connected_slaves (syncing ones too); -1 unknown. */
static long
replicas_attached(struct pb_redis *r)
{
	const char *argv[2] = {"INFO", "replication"};
	redisReply *rep = NULL;
	const char *p;
	long n = -1;

	if (pb_redis_cmd_str(r, &rep, 2, argv) == PB_OK &&
	    rep->type == REDIS_REPLY_STRING && rep->str != NULL) {
		p = strstr(rep->str, "connected_slaves:");
		if (p != NULL)
			n = strtol(p + 17, NULL, 10);
	}
	freeReplyObject(rep);
	return n;
}

static int
still_master(struct pb_redis *r)
{
	char host[64], now[80];
	int port = 0;

	/* a replica that is attached but has not confirmed (a full sync in
	 * progress, lagging) does not have the write: a failover to it now
	 * would lose it, so no carrying on then */
	if (r->nsent == 0 || replicas_attached(r) != 0 ||
	    discover(r, host, sizeof(host), &port) != 0)
		return 0;
	(void)snprintf(now, sizeof(now), "%s:%d", host, port);
	if (strcmp(now, r->server) == 0) {
		/* for 1 s, do not make every write wait wait_ms for it */
		r->degraded_until = pb_clock_mono_ms() + DEGRADED_MS;
		return 1;
	}
	drop(r, "the sentinels name another master");
	return 0;
}

enum pb_err
pb_redis_durable(struct pb_redis *r)
{
	const char *argv[3];
	char n[16], ms[16];
	redisReply *rep = NULL;
	enum pb_err rc;

	if (r == NULL || r->wait_replicas == 0)
		return PB_OK;
	snprintf(n, sizeof(n), "%d", r->wait_replicas);
	/* replica known missing: a short WAIT, then the sentinels decide */
	snprintf(ms, sizeof(ms), "%d",
	         pb_clock_mono_ms() < r->degraded_until ? 1 : r->wait_ms);
	argv[0] = "WAIT";
	argv[1] = n;
	argv[2] = ms;
	rc = pb_redis_cmd_str(r, &rep, 3, argv);
	if (rc == PB_OK &&
	    (rep->type != REDIS_REPLY_INTEGER ||
	     rep->integer < r->wait_replicas) &&
	    !still_master(r)) {
		(void)pb_strlcpy(r->err,
		                 "too few replicas acknowledged "
		                 "(WAIT)",
		                 sizeof(r->err));
		rc = PB_ERR_UNAVAILABLE;
	}
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_redis_role(struct pb_redis *r, char *out, size_t outlen)
{
	const char *argv[1] = {"ROLE"};
	redisReply *rep = NULL;
	enum pb_err rc;

	if (outlen > 0)
		out[0] = '\0';
	rc = pb_redis_cmd_str(r, &rep, 1, argv);
	if (rc != PB_OK)
		return rc;
	rc = (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
	      rep->element[0]->type == REDIS_REPLY_STRING)
	         ? pb_strlcpy(out, rep->element[0]->str, outlen)
	         : PB_ERR_UNAVAILABLE;
	freeReplyObject(rep);
	return rc;
}

const char *
pb_redis_server(const struct pb_redis *r)
{
	return r->server;
}

int
pb_redis_connected(const struct pb_redis *r)
{
	return r->ctx != NULL;
}

const char *
pb_redis_last_error(const struct pb_redis *r)
{
	return r->err[0] != '\0' ? r->err : "no error";
}

/* script's SHA1 from r, or from SCRIPT LOAD (kept); NULL when unknown. */
static const char *
script_sha(struct pb_redis *r, const char *script)
{
	const char *argv[3] = {"SCRIPT", "LOAD", script};
	redisReply *rep = NULL;
	const char *sha = NULL;
	size_t i;

	for (i = 0; i < r->nscripts; i++)
		if (r->scripts[i].src == script)
			return r->scripts[i].sha;
	if (r->nscripts >= MAX_SCRIPTS ||
	    pb_redis_cmd_str(r, &rep, 3, argv) != PB_OK)
		goto out;
	if (rep->type == REDIS_REPLY_STRING && rep->len == SHA_LEN) {
		i = r->nscripts++;
		r->scripts[i].src = script;
		memcpy(r->scripts[i].sha, rep->str, SHA_LEN);
		r->scripts[i].sha[SHA_LEN] = '\0';
		sha = r->scripts[i].sha;
	}
out:
	freeReplyObject(rep);
	return sha;
}

enum pb_err
pb_redis_evalcmd_make(struct pb_redis *r, struct pb_redis_evalcmd *e,
                      const char *script, int nkeys, int nargs,
                      const char *const *args)
{
	const char *sha;
	int i;

	memset(e, 0, sizeof(*e));
	if (r == NULL || script == NULL || nkeys < 0 || nargs < nkeys ||
	    nargs > PB_REDIS_MAX_ARGS - 3)
		return PB_ERR_INVAL;
	e->script = script;
	(void)snprintf(e->nkeys, sizeof(e->nkeys), "%d", nkeys);
	/* no SHA1 (SCRIPT LOAD failed or the table is full): the source */
	sha = script_sha(r, script);
	e->argv[0] = sha != NULL ? "EVALSHA" : "EVAL";
	e->argv[1] = sha != NULL ? sha : script;
	e->argv[2] = e->nkeys;
	for (i = 0; i < nargs; i++)
		e->argv[3 + i] = args[i];
	for (i = 0; i < nargs + 3; i++)
		e->lens[i] = strlen(e->argv[i]);
	e->cmd.argc = nargs + 3;
	e->cmd.argv = e->argv;
	e->cmd.argvlen = e->lens;
	return PB_OK;
}

enum pb_err
pb_redis_evalcmd_settle(struct pb_redis *r, struct pb_redis_evalcmd *e,
                        redisReply **reply)
{
	redisReply *rep = *reply;

	if (rep == NULL || rep->type != REDIS_REPLY_ERROR ||
	    strncmp(rep->str, "NOSCRIPT", 8) != 0 ||
	    strcmp(e->argv[0], "EVALSHA") != 0)
		return PB_OK;
	freeReplyObject(rep);
	*reply = NULL;
	e->argv[0] = "EVAL";
	e->lens[0] = 4;
	e->argv[1] = e->script;
	e->lens[1] = strlen(e->script);
	return pb_redis_cmd(r, reply, e->cmd.argc, e->argv, e->lens);
}

enum pb_err
pb_redis_eval(struct pb_redis *r, const char *script, int nkeys, int nargs,
              const char *const *args, redisReply **reply)
{
	struct pb_redis_evalcmd e;
	enum pb_err rc;

	*reply = NULL;
	rc = pb_redis_evalcmd_make(r, &e, script, nkeys, nargs, args);
	if (rc == PB_OK)
		rc = pb_redis_cmd(r, reply, e.cmd.argc, e.argv, e.lens);
	if (rc == PB_OK)
		rc = pb_redis_evalcmd_settle(r, &e, reply);
	return rc;
}

enum pb_err
pb_redis_eval_ints(struct pb_redis *r, const char *script, int nkeys, int nargs,
                   const char *const *args, long long *out, size_t n)
{
	redisReply *rep = NULL;
	enum pb_err rc;
	size_t i;

	rc = pb_redis_eval(r, script, nkeys, nargs, args, &rep);
	if (rc != PB_OK)
		goto out;
	rc = PB_ERR_INTERNAL;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n)
		goto out;
	for (i = 0; i < n; i++)
		if (rep->element[i]->type != REDIS_REPLY_INTEGER)
			goto out;
	for (i = 0; i < n; i++)
		out[i] = rep->element[i]->integer;
	rc = PB_OK;
out:
	freeReplyObject(rep);
	return rc;
}
