/* lockout.c - login failure counter and lock (see lockout.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockout.h"

#define KEY_MAX 96
#define CLEANUP_MS (24LL * 3600 * 1000) /* ms added to the key's TTL */

/* ARGV: now, max, lock ms, key ttl ms.  {1, until} locked; {0, slot}. */
static const char reserve_lua[] =
    "local now = tonumber(ARGV[1]) local max = tonumber(ARGV[2]) "
    "local v = redis.call('HMGET', KEYS[1], 'n', 'until') "
    "local n = tonumber(v[1]) or 0 local u = tonumber(v[2]) or 0 "
    "if u > 0 and u <= now then redis.call('DEL', KEYS[1]) n = 0 u = 0 end "
    "if u > now then return {1, u} end "
    "if n >= max then u = now + tonumber(ARGV[3]) "
    "redis.call('HSET', KEYS[1], 'until', u) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[4]) return {1, u} end "
    "n = redis.call('HINCRBY', KEYS[1], 'n', 1) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[4]) "
    "return {0, n}";

/* ARGV: now, max, lock ms, key ttl ms, slot.  {1, until} locked by this
 * failure; {0, remaining}. */
static const char fail_lua[] =
    "local now = tonumber(ARGV[1]) local max = tonumber(ARGV[2]) "
    "local slot = tonumber(ARGV[5]) "
    "if slot < max then return {0, max - slot} end "
    "local u = tonumber(redis.call('HGET', KEYS[1], 'until')) or 0 "
    "if u <= now then u = now + tonumber(ARGV[3]) "
    "redis.call('HSET', KEYS[1], 'until', u, 'n', max) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[4]) end "
    "return {1, u}";

/* ARGV: now.  Undo one reservation unless locked. */
static const char cancel_lua[] =
    "local u = tonumber(redis.call('HGET', KEYS[1], 'until')) or 0 "
    "if u > tonumber(ARGV[1]) then return 0 end "
    "local n = redis.call('HINCRBY', KEYS[1], 'n', -1) "
    "if n <= 0 then redis.call('DEL', KEYS[1]) end "
    "return 1";

static enum pb_err
key_of(const char *uid, char *out, size_t outlen)
{
	int n;

	if (uid == NULL || uid[0] == '\0' || strlen(uid) > PB_LOCKOUT_UID_MAX)
		return PB_ERR_INVAL;
	n = snprintf(out, outlen, "v1:auth:fail:%s", uid);
	return n > 0 && (size_t)n < outlen ? PB_OK : PB_ERR_TOOBIG;
}

/* Run script with the common arguments (+ slot when >= 0); two integers. */
static enum pb_err
eval2(struct pb_redis *r, const char *script, const char *key,
      const struct pb_lockout_opts *o, int64_t now_ms, int slot, long long *a,
      long long *b)
{
	char now[24], max[16], lock[24], ttl[24], sl[16];
	const char *args[6];
	long long v[2];
	enum pb_err rc;

	snprintf(now, sizeof(now), "%" PRId64, now_ms);
	snprintf(max, sizeof(max), "%d", o->max_failures);
	snprintf(lock, sizeof(lock), "%" PRId64, o->lock_ms);
	snprintf(ttl, sizeof(ttl), "%" PRId64,
	         (int64_t)(o->lock_ms + CLEANUP_MS));
	snprintf(sl, sizeof(sl), "%d", slot);
	args[0] = key;
	args[1] = now;
	args[2] = max;
	args[3] = lock;
	args[4] = ttl;
	args[5] = sl;
	rc = pb_redis_eval_ints(r, script, 1, slot >= 0 ? 6 : 5, args, v, 2);
	if (rc == PB_OK) {
		*a = v[0];
		*b = v[1];
	}
	return rc;
}

enum pb_err
pb_lockout_reserve(struct pb_redis *r, const char *uid,
                   const struct pb_lockout_opts *o, int64_t now_ms, int *slot,
                   int64_t *until)
{
	char key[KEY_MAX];
	long long a = 0, b = 0;
	enum pb_err rc;

	*slot = 0;
	*until = 0;
	rc = key_of(uid, key, sizeof(key));
	if (rc != PB_OK || o->max_failures < 1 || o->lock_ms < 1) {
		rc = PB_ERR_INVAL;
		goto out;
	}
	rc = eval2(r, reserve_lua, key, o, now_ms, -1, &a, &b);
	if (rc != PB_OK)
		goto out;
	if (a == 1) {
		*until = b;
		rc = PB_ERR_LOCKED;
		goto out;
	}
	*slot = (int)b;
out:
	return rc;
}

enum pb_err
pb_lockout_fail(struct pb_redis *r, const char *uid,
                const struct pb_lockout_opts *o, int64_t now_ms, int slot,
                int *locked_now, int *remaining, int64_t *until)
{
	char key[KEY_MAX];
	long long a = 0, b = 0;
	enum pb_err rc;

	*locked_now = 0;
	*remaining = 0;
	*until = 0;
	rc = key_of(uid, key, sizeof(key));
	if (rc != PB_OK || slot < 1)
		return PB_ERR_INVAL;
	rc = eval2(r, fail_lua, key, o, now_ms, slot, &a, &b);
	if (rc != PB_OK)
		return rc;
	if (a == 1) {
		*locked_now = 1;
		*until = b;
	} else {
		*remaining = (int)b;
	}
	return PB_OK;
}

enum pb_err
pb_lockout_cancel(struct pb_redis *r, const char *uid, int64_t now_ms)
{
	char key[KEY_MAX], now[24];
	const char *argv[2];
	redisReply *rep = NULL;
	enum pb_err rc;

	rc = key_of(uid, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	snprintf(now, sizeof(now), "%" PRId64, now_ms);
	argv[0] = key;
	argv[1] = now;
	rc = pb_redis_eval(r, cancel_lua, 1, 2, argv, &rep);
	if (rc == PB_OK && rep->type == REDIS_REPLY_ERROR)
		rc = PB_ERR_INTERNAL;
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_lockout_check(struct pb_redis *r, const char *uid, int64_t now_ms,
                 int64_t *until)
{
	char key[KEY_MAX];
	const char *argv[3];
	redisReply *rep = NULL;
	long long u = 0;
	enum pb_err rc;

	*until = 0;
	rc = key_of(uid, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	argv[0] = "HGET";
	argv[1] = key;
	argv[2] = "until";
	rc = pb_redis_cmd_str(r, &rep, 3, argv);
	if (rc != PB_OK)
		goto out;
	if (rep->type == REDIS_REPLY_STRING)
		u = strtoll(rep->str, NULL, 10);
	else if (rep->type != REDIS_REPLY_NIL)
		rc = PB_ERR_INTERNAL;
	if (rc == PB_OK && u > now_ms) {
		*until = (int64_t)u;
		rc = PB_ERR_LOCKED;
	}
out:
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_lockout_reset(struct pb_redis *r, const char *uid)
{
	char key[KEY_MAX];
	enum pb_err rc;

	rc = key_of(uid, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	return pb_redis_key_cmd(r, "DEL", key, -1);
}

enum pb_err
pb_lockout_peek(struct pb_redis *r, const char *uid, int *failures,
                int64_t *until)
{
	char key[KEY_MAX];
	const char *argv[4];
	redisReply *rep = NULL;
	enum pb_err rc;

	*failures = 0;
	*until = 0;
	rc = key_of(uid, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	argv[0] = "HMGET";
	argv[1] = key;
	argv[2] = "n";
	argv[3] = "until";
	rc = pb_redis_cmd_str(r, &rep, 4, argv);
	if (rc == PB_OK && (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	                    rep->elements != 2))
		rc = PB_ERR_PARSE;
	if (rc == PB_OK) {
		if (rep->element[0]->type == REDIS_REPLY_STRING)
			*failures = (int)strtol(rep->element[0]->str, NULL, 10);
		if (rep->element[1]->type == REDIS_REPLY_STRING)
			*until = strtoll(rep->element[1]->str, NULL, 10);
	}
	freeReplyObject(rep);
	return rc;
}
