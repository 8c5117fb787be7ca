/* redis.c - a self-healing hiredis connection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "buf.h"
#include "clock.h"
#include "redis.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

struct pb_redis {
	char *socket;
	char *host;
	int port;
	char *password;
	int connect_timeout_ms;
	int timeout_ms;
	redisContext *ctx;
	int used;               /* ctx has answered at least one command */
	int64_t next_try_ms;    /* monotonic ms before which we do not connect */
	int backoff_ms;
	char err[128];
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
	if (r->password != NULL) {
		memset(r->password, 0, strlen(r->password));
		free(r->password);
	}
	free(r);
}

enum pb_err
pb_redis_new(const struct pb_redis_opts *o, struct pb_redis **out)
{
	struct pb_redis *r;

	*out = NULL;
	if (o->socket == NULL && o->host == NULL)
		return PB_ERR_INVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return PB_ERR_NOMEM;
	r->socket = dup_or_null(o->socket);
	r->host = dup_or_null(o->host);
	r->password = dup_or_null(o->password);
	if ((o->socket != NULL && *o->socket != '\0' && r->socket == NULL) ||
	    (o->host != NULL && *o->host != '\0' && r->host == NULL) ||
	    (o->password != NULL && *o->password != '\0' &&
	    r->password == NULL)) {
		pb_redis_free(r);
		return PB_ERR_NOMEM;
	}
	r->port = o->port > 0 ? o->port : 6379;
	r->connect_timeout_ms = o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : 500;
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1000;
	r->backoff_ms = BACKOFF_MIN_MS;
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
	r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ?
	    BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static enum pb_err
ensure_connected(struct pb_redis *r)
{
	redisReply *rep;
	const char *argv[2];
	size_t argvlen[2];

	if (r->ctx != NULL)
		return PB_OK;
	if (pb_clock_mono_ms() < r->next_try_ms)
		return PB_ERR_UNAVAILABLE;    /* still backing off */
	if (r->socket != NULL)
		r->ctx = redisConnectUnixWithTimeout(r->socket,
		    ms_to_tv(r->connect_timeout_ms));
	else
		r->ctx = redisConnectWithTimeout(r->host, r->port,
		    ms_to_tv(r->connect_timeout_ms));
	if (r->ctx == NULL || r->ctx->err != 0) {
		connect_failed(r, r->ctx != NULL ? r->ctx->errstr :
		    "cannot allocate context");
		return PB_ERR_UNAVAILABLE;
	}
	if (redisSetTimeout(r->ctx, ms_to_tv(r->timeout_ms)) != REDIS_OK) {
		connect_failed(r, "cannot set timeout");
		return PB_ERR_UNAVAILABLE;
	}
	if (r->password != NULL) {
		argv[0] = "AUTH";
		argvlen[0] = 4;
		argv[1] = r->password;
		argvlen[1] = strlen(r->password);
		rep = redisCommandArgv(r->ctx, 2, argv, argvlen);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			connect_failed(r, rep == NULL ? r->ctx->errstr :
			    "AUTH refused");
			if (rep != NULL)
				freeReplyObject(rep);
			return PB_ERR_UNAVAILABLE;
		}
		freeReplyObject(rep);
	}
	r->backoff_ms = BACKOFF_MIN_MS;
	r->next_try_ms = 0;
	r->used = 0;
	return PB_OK;
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

enum pb_err
pb_redis_cmd(struct pb_redis *r, redisReply **reply, int argc,
    const char **argv, const size_t *argvlen)
{
	redisReply *rep;
	int attempt, retryable;

	*reply = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(r) != PB_OK)
			return PB_ERR_UNAVAILABLE;
		rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
		if (rep != NULL) {
			r->used = 1;
			*reply = rep;
			return PB_OK;
		}
		retryable = r->used && stale_connection_error(r->ctx);
		/* a fresh connection that fails is not "stale": back off */
		if (retryable)
			drop(r, r->ctx->errstr);
		else
			connect_failed(r, r->ctx->errstr);
		if (!retryable)
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

enum pb_err
pb_redis_pipe(struct pb_redis *r, const struct pb_redis_cmdv *cmds, size_t n,
    redisReply **replies)
{
	int attempt, retryable, got_any;
	size_t i;

	for (i = 0; i < n; i++)
		replies[i] = NULL;
	if (r == NULL || n == 0 || n > PB_REDIS_MAX_PIPE)
		return PB_ERR_INVAL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure_connected(r) != PB_OK)
			return PB_ERR_UNAVAILABLE;
		if (pipe_once(r, cmds, n, replies, &got_any) == 0) {
			r->used = 1;
			return PB_OK;
		}
		retryable = r->used && !got_any &&
		    stale_connection_error(r->ctx);
		if (retryable)
			drop(r, r->ctx->errstr);
		else
			connect_failed(r, r->ctx->errstr);
		if (!retryable)
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
pb_redis_ping(struct pb_redis *r)
{
	const char *argv[1] = { "PING" };
	size_t argvlen[1] = { 4 };
	redisReply *rep = NULL;
	enum pb_err rc;

	rc = pb_redis_cmd(r, &rep, 1, argv, argvlen);
	if (rc != PB_OK)
		return rc;
	rc = (rep->type == REDIS_REPLY_STATUS && rep->str != NULL &&
	    strcmp(rep->str, "PONG") == 0) ? PB_OK : PB_ERR_UNAVAILABLE;
	freeReplyObject(rep);
	return rc;
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
