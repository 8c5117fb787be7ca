/* test_redis.c - against the real test Redis (skips without one). */
#include <stdlib.h>
#include <string.h>

#include "redis.h"
#include "tap.h"

int
main(void)
{
	const char *sock = getenv("PHONEBILL_TEST_REDIS_SOCKET");
	const char *pass = getenv("PHONEBILL_TEST_REDIS_PASSWORD");
	struct pb_redis_opts o = {0};
	struct pb_redis *r = NULL, *bad = NULL;
	redisReply *rep = NULL;
	const char *set[] = {"SET", "pb:test:key", "v\0x"};
	size_t setlen[] = {3, 11, 3};
	const char *get[] = {"GET", "pb:test:key"};
	size_t getlen[] = {3, 11};
	const char *del[] = {"DEL", "pb:test:key"};
	size_t dellen[] = {3, 11};
	const char *kill[] = {"CLIENT", "KILL", "TYPE", "normal"};
	size_t killlen[] = {6, 4, 4, 6};

	if (sock == NULL || pass == NULL)
		return tap_skip_all("PHONEBILL_TEST_REDIS_SOCKET not set");
	o.socket = sock;
	o.password = pass;
	is_int(pb_redis_new(&o, &r), PB_OK, "new");
	ok(!pb_redis_connected(r), "lazy: not connected before first command");
	is_int(pb_redis_ping(r), PB_OK, "ping with AUTH");
	is_int(pb_redis_cmd(r, &rep, 3, set, setlen), PB_OK,
	       "SET binary value");
	freeReplyObject(rep);
	is_int(pb_redis_cmd(r, &rep, 2, get, getlen), PB_OK, "GET");
	ok(rep != NULL && rep->type == REDIS_REPLY_STRING && rep->len == 3 &&
	       memcmp(rep->str, "v\0x", 3) == 0,
	   "binary-safe round trip");
	freeReplyObject(rep);

	/* the server closes our connection: the next command heals itself */
	is_int(pb_redis_cmd(r, &rep, 4, kill, killlen), PB_OK,
	       "CLIENT KILL (our own connection too)");
	freeReplyObject(rep);
	rep = NULL;
	is_int(
	    pb_redis_cmd(r, &rep, 2, get, getlen), PB_OK,
	    "command after server-side close is retried on a new connection");
	ok(rep != NULL && rep->type == REDIS_REPLY_STRING, "value still there");
	freeReplyObject(rep);
	is_int(pb_redis_cmd(r, &rep, 2, del, dellen), PB_OK, "DEL");
	freeReplyObject(rep);

	/* an error reply is an answer, not an outage */
	{
		const char *wrong[] = {"INCR"};
		size_t wronglen[] = {4};
		is_int(pb_redis_cmd(r, &rep, 1, wrong, wronglen), PB_OK,
		       "error reply is PB_OK");
		ok(rep != NULL && rep->type == REDIS_REPLY_ERROR,
		   "reply type is error");
		freeReplyObject(rep);
	}
	{
		const char *setv[] = {"SET", "pb:test:str", "42"};
		const char *getv[] = {"GET", "pb:test:str"};
		const char *delv[] = {"DEL", "pb:test:str"};
		const char *many[PB_REDIS_MAX_ARGS + 1];
		int i;

		is_int(pb_redis_cmd_str(r, &rep, 3, setv), PB_OK,
		       "cmd_str SET");
		freeReplyObject(rep);
		is_int(pb_redis_cmd_str(r, &rep, 2, getv), PB_OK,
		       "cmd_str GET");
		ok(rep != NULL && rep->type == REDIS_REPLY_STRING &&
		       strcmp(rep->str, "42") == 0,
		   "cmd_str lengths from strlen");
		freeReplyObject(rep);
		pb_redis_cmd_str(r, &rep, 2, delv);
		freeReplyObject(rep);
		for (i = 0; i <= PB_REDIS_MAX_ARGS; i++)
			many[i] = "x";
		is_int(pb_redis_cmd_str(r, &rep, PB_REDIS_MAX_ARGS + 1, many),
		       PB_ERR_INVAL, "cmd_str refuses too many arguments");
		ok(rep == NULL, "no reply on refusal");
	}
	/* scripts by SHA1: SCRIPT LOAD once, EVALSHA after, EVAL on NOSCRIPT */
	{
		static const char two[] = "return {tonumber(ARGV[1]) + 1, "
		                          "redis.call('EXISTS', KEYS[1])}";
		static const char luaerr[] = "return redis.call('NOSUCHCMD')";
		const char *args[2] = {"pb:test:none", "41"};
		const char *flush[2] = {"SCRIPT", "FLUSH"};
		struct pb_redis_evalcmd e;
		long long v[2] = {0, 0};

		is_int(pb_redis_eval_ints(r, two, 1, 2, args, v, 2), PB_OK,
		       "eval_ints: first run (SCRIPT LOAD, EVALSHA)");
		ok(v[0] == 42 && v[1] == 0, "eval_ints: both integers");
		is_int(pb_redis_evalcmd_make(r, &e, two, 1, 2, args), PB_OK,
		       "evalcmd for a known script");
		is_str(e.argv[0], "EVALSHA", "known script goes as EVALSHA");
		ok(strlen(e.argv[1]) == 40, "by its 40-hex SHA1");
		is_int(pb_redis_cmd_str(r, &rep, 2, flush), PB_OK,
		       "SCRIPT FLUSH (as a Redis restart would)");
		freeReplyObject(rep);
		rep = NULL;
		v[0] = 0;
		is_int(pb_redis_eval_ints(r, two, 1, 2, args, v, 2), PB_OK,
		       "NOSCRIPT: run again by its source");
		is_int((int)v[0], 42, "same answer after the flush");
		is_int(pb_redis_eval(r, two, 1, 2, args, &rep), PB_OK,
		       "EVALSHA works again (EVAL loaded it)");
		ok(rep != NULL && rep->type == REDIS_REPLY_ARRAY,
		   "array reply");
		freeReplyObject(rep);
		rep = NULL;
		is_int(pb_redis_eval_ints(r, luaerr, 0, 0, NULL, v, 2),
		       PB_ERR_INTERNAL, "a Lua error is not integers");
		is_int(pb_redis_eval(r, luaerr, 0, 0, NULL, &rep), PB_OK,
		       "a Lua error is an error reply, PB_OK");
		ok(rep != NULL && rep->type == REDIS_REPLY_ERROR,
		   "error reply");
		freeReplyObject(rep);
		rep = NULL;
		is_int(pb_redis_eval_ints(r, two, 3, 2, args, v, 2),
		       PB_ERR_INVAL, "more keys than arguments refused");
	}
	pb_redis_free(r);

	o.password = "wrong-password";
	pb_redis_new(&o, &bad);
	is_int(pb_redis_ping(bad), PB_ERR_UNAVAILABLE, "bad AUTH unavailable");
	ok(strstr(pb_redis_last_error(bad), "AUTH") != NULL ||
	       strlen(pb_redis_last_error(bad)) > 0,
	   "reason recorded");
	is_int(pb_redis_ping(bad), PB_ERR_UNAVAILABLE,
	       "backoff: fails fast without reconnecting");
	pb_redis_free(bad);

	o.socket = "/nonexistent/redis.sock";
	o.password = pass;
	pb_redis_new(&o, &bad);
	is_int(pb_redis_ping(bad), PB_ERR_UNAVAILABLE,
	       "no server: unavailable");
	ok(!pb_redis_connected(bad), "no context kept after failure");
	pb_redis_free(bad);
	pb_redis_free(NULL);

	o.socket = NULL;
	o.host = NULL;
	is_int(pb_redis_new(&o, &bad), PB_ERR_INVAL, "needs socket or host");
	return tap_done();
}
