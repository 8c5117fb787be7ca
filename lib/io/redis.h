/*
 * redis.h - one Redis connection per process, replaced after any error.
 *
 * hiredis 0.14 makes a context unusable after an I/O or protocol error, so
 * this module frees it at once and connects afresh on the next command.
 * Connection attempts after a failure are spaced by a backoff that doubles
 * from 50 ms to 2 s (ms), so a Redis outage costs each request one failed
 * check instead of a connect storm.  AUTH is sent on every new connection
 * when a password is set.  hiredis 0.14 has no TLS: use a unix socket or
 * loopback.
 *
 * Sentinel: with opts.sentinels ("host:port,host:port,...") and
 * opts.master_name set, every new connection first asks the sentinels in
 * turn (SENTINEL get-master-addr-by-name), connects to the address the
 * first answering sentinel names, authenticates and confirms with ROLE
 * that the server is a master; a server that is not is dropped and the
 * attempt counts as a failed connect (backoff).  A reply of READONLY,
 * LOADING, MASTERDOWN or NOREPLICAS (or -TRYAGAIN/-CLUSTERDOWN) is a
 * failure of the dependency, not an answer: the connection is dropped
 * (so the next one re-discovers), the command is retried once (such a
 * reply means the command did not run), and PB_ERR_UNAVAILABLE is
 * returned if it fails again.  This applies to a plain address too.
 */
#ifndef PB_REDIS_H
#define PB_REDIS_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "err.h"

struct pb_redis_opts {
	const char *socket; /* unix socket path, or NULL for TCP */
	const char *host;   /* TCP host when socket is NULL */
	int port;
	const char *password;    /* NULL or "" for no AUTH */
	int connect_timeout_ms;  /* ms; 0 -> 500 */
	int timeout_ms;          /* ms per command; 0 -> 1000 */
	const char *sentinels;   /* "h:p,h:p" or NULL; overrides host */
	const char *master_name; /* required with sentinels */
	int wait_replicas;       /* pb_redis_durable: replicas to wait for */
	int wait_ms; /* ms WAIT waits; below timeout_ms, 0 -> half */
};

#define PB_REDIS_MAX_SENTINELS 8

struct pb_redis;

/* Copy the options; does not connect.  Caller frees with pb_redis_free. */
enum pb_err pb_redis_new(const struct pb_redis_opts *opts,
                         struct pb_redis **out);
void pb_redis_free(struct pb_redis *r);

/*
 * Run one command (argv form, binary-safe).  On PB_OK *reply is the reply
 * (caller frees with freeReplyObject); a Redis error reply
 * (REDIS_REPLY_ERROR) is still PB_OK -- inspect reply->type.  On
 * PB_ERR_UNAVAILABLE (cannot connect, AUTH refused, I/O error, timeout)
 * *reply is NULL and the connection has been dropped.  A command that fails
 * because a reused connection turned out to be closed by the server
 * (EOF/reset before any reply) is retried once on a new connection; a
 * timeout is never retried (the command may have run).
 */
enum pb_err pb_redis_cmd(struct pb_redis *r, redisReply **reply, int argc,
                         const char **argv, const size_t *argvlen);

/*
 * pb_redis_cmd for arguments that are NUL-terminated strings (keys,
 * numbers, Lua scripts): the lengths are taken with strlen.  At most
 * PB_REDIS_MAX_ARGS arguments (PB_ERR_INVAL beyond).
 */
#define PB_REDIS_MAX_ARGS 16
enum pb_err pb_redis_cmd_str(struct pb_redis *r, redisReply **reply, int argc,
                             const char **argv);

/*
 * Several commands in one round trip (a pipeline): cmds[i] is sent in
 * order, replies[i] receives its reply (caller frees each with
 * freeReplyObject; error replies are PB_OK as for pb_redis_cmd).  On
 * PB_ERR_UNAVAILABLE every replies[i] is NULL and the connection has
 * been dropped; the commands may or may not have run (none is retried
 * unless the connection was found closed before anything was read).
 * At most PB_REDIS_MAX_PIPE commands.
 */
#define PB_REDIS_MAX_PIPE 8
struct pb_redis_cmdv {
	int argc;
	const char **argv;
	const size_t *argvlen;
};
enum pb_err pb_redis_pipe(struct pb_redis *r, const struct pb_redis_cmdv *cmds,
                          size_t n, redisReply **replies);

/*
 * Lua scripts by their SHA1 (EVALSHA): the first run of a script on a
 * pb_redis sends SCRIPT LOAD once (one extra round trip per process and
 * script) and keeps the SHA1 in r; every later run sends EVALSHA with the
 * SHA1 (40 bytes) instead of the source.  A NOSCRIPT reply (Redis
 * restarted, SCRIPT FLUSH, a failover to a server that never saw it) runs
 * the script once more by its source (EVAL), which loads it there too.
 * script must stay valid and unchanged while r lives (a static string):
 * it is recognised by its address.  A Lua error is an error reply, PB_OK.
 *
 * The command for a pipeline: pb_redis_evalcmd_make fills e (caller
 * storage; e->cmd points into it), pb_redis_evalcmd_settle takes the
 * pipeline's reply for it and, on NOSCRIPT, replaces it with the EVAL's
 * (the script then runs after the commands that followed it in the
 * pipeline).  args: nkeys keys then the other arguments, NUL-terminated,
 * at most PB_REDIS_MAX_ARGS - 3 in all (PB_ERR_INVAL beyond).
 */
struct pb_redis_evalcmd {
	struct pb_redis_cmdv cmd;
	const char *argv[PB_REDIS_MAX_ARGS];
	size_t lens[PB_REDIS_MAX_ARGS];
	char nkeys[12];
	const char *script;
};
enum pb_err pb_redis_evalcmd_make(struct pb_redis *r,
                                  struct pb_redis_evalcmd *e,
                                  const char *script, int nkeys, int nargs,
                                  const char *const *args);
enum pb_err pb_redis_evalcmd_settle(struct pb_redis *r,
                                    struct pb_redis_evalcmd *e,
                                    redisReply **reply);

/* Run script alone (make, one round trip, settle); as pb_redis_cmd. */
enum pb_err pb_redis_eval(struct pb_redis *r, const char *script, int nkeys,
                          int nargs, const char *const *args,
                          redisReply **reply);

/*
 * pb_redis_eval for a script that answers an array of n integers, into
 * out[0..n).  PB_ERR_INTERNAL for any other reply (a Lua error too),
 * PB_ERR_UNAVAILABLE as pb_redis_cmd.
 */
enum pb_err pb_redis_eval_ints(struct pb_redis *r, const char *script,
                               int nkeys, int nargs, const char *const *args,
                               long long *out, size_t n);

/*
 * "CMD KEY" (DEL, INCR, ...): PB_OK, or PB_ERR_INTERNAL for an error reply
 * or, when want_type is a REDIS_REPLY_* value (not -1), a reply of another
 * type; transport failures as pb_redis_cmd.
 */
enum pb_err pb_redis_key_cmd(struct pb_redis *r, const char *cmd,
                             const char *key, int want_type);

/* PING; PB_OK when the server answered PONG. */
enum pb_err pb_redis_ping(struct pb_redis *r);

/*
 * Make the writes sent so far on this connection durable: WAIT until
 * opts.wait_replicas replicas have them (at most opts.wait_ms).  PB_OK at
 * once when wait_replicas is 0 (one node).  PB_ERR_UNAVAILABLE when fewer
 * replicas acknowledged in time: a failover now could lose the writes, so
 * the caller answers 503 (a retry may repeat them; none is lost).  With
 * sentinels, fewer acknowledgements are accepted when no replica is
 * attached and the sentinels still name this server as master (the
 * replica itself is down: the cluster
 * keeps serving on one copy until it is back; for 1 s after that the
 * WAIT is 1 ms, not wait_ms, so each write is not slowed); a server they
 * no longer name is a demoted master and its writes fail.  Residual window:
 * between a promotion and the sentinels' reconfiguration (under a second) a
 * write on the old master can be accepted and then lost.
 */
enum pb_err pb_redis_durable(struct pb_redis *r);

/*
 * The server's replication role from ROLE ("master", "slave", "sentinel")
 * into out.  PB_ERR_UNAVAILABLE when it cannot be asked.
 */
enum pb_err pb_redis_role(struct pb_redis *r, char *out, size_t outlen);

/* 1 when a connection is currently open (it may still be dead). */
int pb_redis_connected(const struct pb_redis *r);

/* "host:port" (or the socket path) of the current or last server. */
const char *pb_redis_server(const struct pb_redis *r);

/* Reason for the last failure (static or owned by r; never NULL). */
const char *pb_redis_last_error(const struct pb_redis *r);

#endif
