/* cache.c - cache-aside over Redis (see cache.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "buf.h"
#include "cache.h"
#include "clock.h"
#include "crypto.h"
#include "log.h"

/* pb_metrics_cache (lib/core/metrics.c) counts sources by these numbers */
_Static_assert(PB_CACHE_HIT == 0 && PB_CACHE_WAITED == 1 &&
                   PB_CACHE_LOADED == 2 && PB_CACHE_BYPASS == 3 &&
                   PB_CACHE_STALE == 4,
               "metrics.c's cache_results order");

#define DEFAULT_STALE_TTL_S (7 * 24 * 3600)
#define DEFAULT_JITTER_PCT 10
#define DEFAULT_LOCK_MS 5000
#define DEFAULT_WAIT_MS 4000
#define POLL_FIRST_MS 10
#define POLL_MAX_MS 80
#define STALE_STAMP_LEN 14 /* "<13 digits ms>:" */

/* pb_cache_protect's keys (set once at start-up). */
static struct {
	int on;
	unsigned char seal[PB_CRYPTO_KEY_LEN];
	unsigned char index[PB_CRYPTO_KEY_LEN];
} prot;

void
pb_cache_protect(const unsigned char *seal_key, const unsigned char *index_key)
{
	if (seal_key == NULL || index_key == NULL)
		return;
	memcpy(prot.seal, seal_key, sizeof(prot.seal));
	memcpy(prot.index, index_key, sizeof(prot.index));
	prot.on = 1;
}

/* 1 when key names something ("v1:<type>:<rest>"): hashed and sealed. */
static int
identifying(const char *key)
{
	const char *c = strchr(key, ':');

	return prot.on && c != NULL && strchr(c + 1, ':') != NULL;
}

/* The key as stored: "v1:<type>:<hex of HMAC(rest)>" or key itself. */
static int
real_key(const char *key, char *out, size_t outlen)
{
	unsigned char idx[PB_CRYPTO_INDEX_LEN];
	const char *rest;
	char hex[33];
	int n;

	if (!identifying(key)) {
		n = snprintf(out, outlen, "%s", key);
		return n > 0 && (size_t)n < outlen;
	}
	rest = strchr(strchr(key, ':') + 1, ':') + 1;
	pb_crypto_blind_index(prot.index, rest, strlen(rest), idx);
	sodium_bin2hex(hex, sizeof(hex), idx, 16);
	n = snprintf(out, outlen, "%.*s%s", (int)(rest - key), key, hex);
	return n > 0 && (size_t)n < outlen;
}

/* Delete KEYS[1] only when it still holds our token. */
static const char unlock_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) end return 0";

static void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

const char *
pb_cache_source_name(enum pb_cache_source s)
{
	switch (s) {
	case PB_CACHE_HIT:
		return "HIT";
	case PB_CACHE_WAITED:
		return "WAITED";
	case PB_CACHE_LOADED:
		return "LOADED";
	case PB_CACHE_BYPASS:
		return "BYPASS";
	case PB_CACHE_STALE:
		return "STALE";
	case PB_CACHE_GAVE_UP:
		return "GAVE_UP";
	}
	return "?";
}

static int
key_ok(const char *key)
{
	size_t n;

	if (key == NULL)
		return 0;
	n = strlen(key);
	return n > 0 && n < PB_CACHE_KEY_MAX - 5; /* room for ":lock" */
}

/* A GET reply for key into *val (see pb_cache_get). */
static enum pb_err
value_of(const char *key, const redisReply *rep, char **val, size_t *len)
{
	enum pb_err rc = PB_OK;

	*val = NULL;
	*len = 0;
	if (rep == NULL)
		return PB_ERR_UNAVAILABLE;
	if (rep->type == REDIS_REPLY_NIL)
		return PB_ERR_NOTFOUND;
	if (rep->type != REDIS_REPLY_STRING)
		return PB_ERR_UNAVAILABLE;
	if (rep->len > PB_CACHE_VALUE_MAX)
		return PB_ERR_TOOBIG;
	*val = malloc(rep->len + 1);
	if (*val == NULL)
		return PB_ERR_NOMEM;
	if (identifying(key)) {
		/* sealed: a value that does not open is a miss */
		if (pb_crypto_open(prot.seal, rep->str, rep->len, *val,
		                   rep->len + 1, len) != PB_OK) {
			free(*val);
			*val = NULL;
			*len = 0;
			rc = PB_ERR_NOTFOUND;
		}
		return rc;
	}
	memcpy(*val, rep->str, rep->len);
	(*val)[rep->len] = '\0';
	*len = rep->len;
	return PB_OK;
}

enum pb_err
pb_cache_getcmd_make(struct pb_cache_getcmd *c, const char *key)
{
	memset(c, 0, sizeof(*c));
	if (!key_ok(key) || !real_key(key, c->key, sizeof(c->key)) ||
	    pb_strlcpy(c->name, key, sizeof(c->name)) != PB_OK)
		return PB_ERR_INVAL;
	c->argv[0] = "GET";
	c->argv[1] = c->key;
	c->lens[0] = 3;
	c->lens[1] = strlen(c->key);
	c->cmd.argc = 2;
	c->cmd.argv = c->argv;
	c->cmd.argvlen = c->lens;
	return PB_OK;
}

enum pb_err
pb_cache_getcmd_value(const struct pb_cache_getcmd *c, const redisReply *rep,
                      char **val, size_t *len)
{
	return value_of(c->name, rep, val, len);
}

enum pb_err
pb_cache_get(struct pb_redis *r, const char *key, char **val, size_t *len)
{
	char rk[PB_CACHE_KEY_MAX];
	const char *argv[2] = {"GET", rk};
	redisReply *rep = NULL;
	enum pb_err rc;

	*val = NULL;
	*len = 0;
	if (!key_ok(key) || !real_key(key, rk, sizeof(rk)))
		return PB_ERR_INVAL;
	rc = pb_redis_cmd_str(r, &rep, 2, argv);
	if (rc == PB_OK)
		rc = value_of(key, rep, val, len);
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_cache_set(struct pb_redis *r, const char *key, const char *val, size_t len,
             int ttl_s, int jitter_pct)
{
	char ttl[24], rk[PB_CACHE_KEY_MAX];
	const char *argv[5];
	size_t lens[5];
	redisReply *rep = NULL;
	unsigned char *sealed = NULL;
	size_t slen = 0;
	enum pb_err rc;
	long long t = ttl_s;

	if (!key_ok(key) || val == NULL || ttl_s <= 0 ||
	    !real_key(key, rk, sizeof(rk)))
		return PB_ERR_INVAL;
	if (len > PB_CACHE_VALUE_MAX)
		return PB_ERR_TOOBIG;
	if (identifying(key)) {
		rc = pb_crypto_seal(prot.seal, val, len, &sealed, &slen);
		if (rc != PB_OK)
			return rc;
		val = (const char *)sealed;
		len = slen;
	}
	if (jitter_pct == 0)
		jitter_pct = DEFAULT_JITTER_PCT;
	if (jitter_pct > 0 && jitter_pct <= 100 && ttl_s >= 10)
		t += randombytes_uniform((uint32_t)(ttl_s * jitter_pct / 100) +
		                         1);
	snprintf(ttl, sizeof(ttl), "%lld", t);
	argv[0] = "SET";
	argv[1] = rk;
	argv[2] = val;
	argv[3] = "EX";
	argv[4] = ttl;
	lens[0] = 3;
	lens[1] = strlen(rk);
	lens[2] = len;
	lens[3] = 2;
	lens[4] = strlen(ttl);
	rc = pb_redis_cmd(r, &rep, 5, argv, lens);
	if (rc == PB_OK && rep->type == REDIS_REPLY_ERROR)
		rc = PB_ERR_UNAVAILABLE;
	if (rep != NULL)
		freeReplyObject(rep);
	free(sealed);
	return rc;
}

enum pb_err
pb_cache_setcmd_make(struct pb_cache_setcmd *c, const char *key,
                     const char *val, size_t len, int ttl_s)
{
	size_t slen = 0;
	enum pb_err rc;

	memset(c, 0, sizeof(*c));
	if (!key_ok(key) || val == NULL || ttl_s <= 0 ||
	    !real_key(key, c->key, sizeof(c->key)))
		return PB_ERR_INVAL;
	if (len > PB_CACHE_VALUE_MAX)
		return PB_ERR_TOOBIG;
	if (identifying(key)) {
		rc = pb_crypto_seal(prot.seal, val, len, &c->sealed, &slen);
		if (rc != PB_OK)
			return rc;
		val = (const char *)c->sealed;
		len = slen;
	}
	snprintf(c->ttl, sizeof(c->ttl), "%d", ttl_s);
	c->argv[0] = "SET";
	c->argv[1] = c->key;
	c->argv[2] = val;
	c->argv[3] = "EX";
	c->argv[4] = c->ttl;
	c->lens[0] = 3;
	c->lens[1] = strlen(c->key);
	c->lens[2] = len;
	c->lens[3] = 2;
	c->lens[4] = strlen(c->ttl);
	c->cmd.argc = 5;
	c->cmd.argv = c->argv;
	c->cmd.argvlen = c->lens;
	return PB_OK;
}

void
pb_cache_setcmd_free(struct pb_cache_setcmd *c)
{
	if (c == NULL)
		return;
	free(c->sealed);
	c->sealed = NULL;
}

enum pb_err
pb_cache_del(struct pb_redis *r, const char *const *keys, size_t n)
{
	const char *argv[9];
	char rk[8][PB_CACHE_KEY_MAX];
	redisReply *rep = NULL;
	enum pb_err rc;
	size_t i;

	if (n == 0)
		return PB_OK;
	if (n > 8)
		return PB_ERR_INVAL;
	argv[0] = "DEL";
	for (i = 0; i < n; i++) {
		if (!key_ok(keys[i]) ||
		    !real_key(keys[i], rk[i], sizeof(rk[i])))
			return PB_ERR_INVAL;
		argv[i + 1] = rk[i];
	}
	rc = pb_redis_cmd_str(r, &rep, (int)n + 1, argv);
	if (rc == PB_OK && rep->type == REDIS_REPLY_ERROR)
		rc = PB_ERR_UNAVAILABLE;
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

static int
lock_key(const char *key, char *out, size_t outlen)
{
	char rk[PB_CACHE_KEY_MAX];
	int n;

	if (!real_key(key, rk, sizeof(rk)))
		return 0;
	n = snprintf(out, outlen, "%s:lock", rk);
	return n > 0 && (size_t)n < outlen;
}

enum pb_err
pb_cache_lock(struct pb_redis *r, const char *key, int64_t ms, char *token,
              size_t tokenlen)
{
	char lk[PB_CACHE_KEY_MAX], px[24];
	const char *argv[6];
	redisReply *rep = NULL;
	enum pb_err rc;

	if (!key_ok(key) || ms <= 0 || tokenlen < PB_CACHE_TOKEN_LEN + 1 ||
	    !lock_key(key, lk, sizeof(lk)))
		return PB_ERR_INVAL;
	rc = pb_crypto_random_hex(PB_CACHE_TOKEN_LEN / 2, token, tokenlen);
	if (rc != PB_OK)
		return rc;
	snprintf(px, sizeof(px), "%" PRId64, ms);
	argv[0] = "SET";
	argv[1] = lk;
	argv[2] = token;
	argv[3] = "NX";
	argv[4] = "PX";
	argv[5] = px;
	rc = pb_redis_cmd_str(r, &rep, 6, argv);
	if (rc != PB_OK)
		goto out;
	if (rep->type == REDIS_REPLY_NIL)
		rc = PB_ERR_BUSY;
	else if (rep->type != REDIS_REPLY_STATUS)
		rc = PB_ERR_UNAVAILABLE;
out:
	if (rep != NULL)
		freeReplyObject(rep);
	if (rc != PB_OK)
		token[0] = '\0';
	return rc;
}

void
pb_cache_unlock(struct pb_redis *r, const char *key, const char *token)
{
	char lk[PB_CACHE_KEY_MAX];
	const char *argv[2];
	redisReply *rep = NULL;

	if (!key_ok(key) || token == NULL || token[0] == '\0' ||
	    !lock_key(key, lk, sizeof(lk)))
		return;
	argv[0] = lk;
	argv[1] = token;
	if (pb_redis_eval(r, unlock_lua, 1, 2, argv, &rep) == PB_OK)
		freeReplyObject(rep);
}

/*
 * The lock of key: *left_ms is what remains of its lifetime when it is held
 * (by anyone).  1 held, 0 free, -1 Redis error.
 */
static int
lock_held(struct pb_redis *r, const char *key, int64_t *left_ms)
{
	char lk[PB_CACHE_KEY_MAX];
	const char *argv[2];
	redisReply *rep = NULL;
	int held = -1;

	*left_ms = 0;
	if (!lock_key(key, lk, sizeof(lk)))
		return -1;
	argv[0] = "PTTL";
	argv[1] = lk;
	if (pb_redis_cmd_str(r, &rep, 2, argv) != PB_OK)
		return -1;
	if (rep->type == REDIS_REPLY_INTEGER) {
		/* -2: no such key; -1: no lifetime (not ours: held) */
		held = rep->integer != -2;
		*left_ms = rep->integer > 0 ? (int64_t)rep->integer : 0;
	}
	freeReplyObject(rep);
	return held;
}

void
pb_cache_result_free(struct pb_cache_result *res)
{
	if (res == NULL)
		return;
	free(res->val);
	memset(res, 0, sizeof(*res));
}

/* The stale copy is "<13-digit ms>:<value>". */
static void
store_stale(struct pb_redis *r, const struct pb_cache_opts *o,
            const struct pb_cache_value *v)
{
	char *buf;
	int ttl = o->stale_ttl_s > 0 ? o->stale_ttl_s : DEFAULT_STALE_TTL_S;

	if (o->stale_key == NULL || !v->stale_ok ||
	    v->len + STALE_STAMP_LEN > PB_CACHE_VALUE_MAX)
		return;
	buf = malloc(v->len + STALE_STAMP_LEN + 1);
	if (buf == NULL)
		return;
	snprintf(buf, STALE_STAMP_LEN + 1, "%013" PRId64 ":",
	         pb_clock_now_ms());
	memcpy(buf + STALE_STAMP_LEN, v->val, v->len);
	(void)pb_cache_set(r, o->stale_key, buf, v->len + STALE_STAMP_LEN, ttl,
	                   -1);
	free(buf);
}

static enum pb_err
read_stale(struct pb_redis *r, const struct pb_cache_opts *o,
           struct pb_cache_result *res)
{
	char *raw = NULL, *end = NULL;
	size_t len = 0;
	long long ms;
	enum pb_err rc;

	if (o->stale_key == NULL)
		return PB_ERR_NOTFOUND;
	rc = pb_cache_get(r, o->stale_key, &raw, &len);
	if (rc != PB_OK)
		return rc;
	if (len < STALE_STAMP_LEN || raw[STALE_STAMP_LEN - 1] != ':') {
		free(raw);
		return PB_ERR_PARSE;
	}
	ms = strtoll(raw, &end, 10);
	res->stale_age_s = end == raw + STALE_STAMP_LEN - 1 && ms > 0
	                       ? (pb_clock_now_ms() - ms) / 1000
	                       : -1;
	memmove(raw, raw + STALE_STAMP_LEN, len - STALE_STAMP_LEN + 1);
	res->val = raw;
	res->len = len - STALE_STAMP_LEN;
	res->source = PB_CACHE_STALE;
	return PB_OK;
}

/* Call load; hand the value to res; store it when store is set. */
static enum pb_err
do_load(struct pb_redis *r, const struct pb_cache_opts *o, int store,
        pb_cache_load_fn load, void *ud, struct pb_cache_result *res)
{
	struct pb_cache_value v;
	enum pb_err rc;

	memset(&v, 0, sizeof(v));
	rc = load(ud, &v);
	res->load_err = rc;
	if (rc != PB_OK) {
		free(v.val);
		if ((rc == PB_ERR_UNAVAILABLE || rc == PB_ERR_TIMEOUT) &&
		    read_stale(r, o, res) == PB_OK) {
			pb_log_msg(PB_LOG_WARN, "cache_stale",
			           "origin failed, serving the stale copy");
			return PB_OK;
		}
		return rc;
	}
	if (v.val == NULL)
		return PB_ERR_INTERNAL;
	if (store && v.ttl_s > 0) {
		(void)pb_cache_set(r, o->key, v.val, v.len, v.ttl_s,
		                   o->jitter_pct);
		store_stale(r, o, &v);
	}
	res->val = v.val;
	res->len = v.len;
	res->source = store ? PB_CACHE_LOADED : PB_CACHE_BYPASS;
	return PB_OK;
}

/* A waiter stops (give_up): the stale copy, or PB_ERR_UNAVAILABLE. */
static enum pb_err
gave_up(struct pb_redis *r, const struct pb_cache_opts *o,
        struct pb_cache_result *res)
{
	res->load_err = PB_ERR_UNAVAILABLE;
	if (read_stale(r, o, res) == PB_OK) {
		pb_log_msg(PB_LOG_WARN, "cache_stale",
		           "origin slow, a waiter serves the stale copy");
		return PB_OK;
	}
	res->source = PB_CACHE_GAVE_UP;
	pb_log_msg(PB_LOG_WARN, "cache_gave_up",
	           "origin slow, a waiter stops without a stale copy");
	return PB_ERR_UNAVAILABLE;
}

/* Whether a waiter should stop now (give_up only).  stop_waiting is asked
 * first, also past the deadline: its answer may count (a waiter that
 * stops because the origin is slow tells the breaker, breaker.h). */
static int
stop_now(const struct pb_cache_opts *o, int64_t deadline)
{
	if (!o->give_up)
		return 0;
	if (o->stop_waiting != NULL && o->stop_waiting(o->stop_ud))
		return 1;
	return pb_clock_mono_ms() >= deadline;
}

enum pb_err
pb_cache_fetch(struct pb_redis *r, const struct pb_cache_opts *o,
               pb_cache_load_fn load, void *ud, struct pb_cache_result *res)
{
	return pb_cache_fetch_pre(r, o, load, ud, res, NULL);
}

enum pb_err
pb_cache_fetch_pre(struct pb_redis *r, const struct pb_cache_opts *o,
                   pb_cache_load_fn load, void *ud, struct pb_cache_result *res,
                   const redisReply *pre)
{
	char token[PB_CACHE_TOKEN_LEN + 1];
	int64_t lock_ms, wait_ms, deadline, poll, left;
	enum pb_err rc;
	int round;

	memset(res, 0, sizeof(*res));
	res->stale_age_s = -1;
	if (o == NULL || !key_ok(o->key) || load == NULL)
		return PB_ERR_INVAL;
	lock_ms = o->lock_ms > 0 ? o->lock_ms : DEFAULT_LOCK_MS;
	wait_ms = o->wait_ms > 0 ? o->wait_ms : DEFAULT_WAIT_MS;

	/* the first GET may have gone out with the caller's other reads */
	rc = pre != NULL ? value_of(o->key, pre, &res->val, &res->len)
	                 : pb_cache_get(r, o->key, &res->val, &res->len);
	if (rc == PB_OK) {
		res->source = PB_CACHE_HIT;
		return PB_OK;
	}
	if (rc != PB_ERR_NOTFOUND && rc != PB_ERR_TOOBIG)
		return do_load(r, o, 0, load, ud, res); /* Redis down */

	for (round = 0; round < 2; round++) {
		rc = pb_cache_lock(r, o->key, lock_ms, token, sizeof(token));
		if (rc == PB_OK) {
			rc = do_load(r, o, 1, load, ud, res);
			pb_cache_unlock(r, o->key, token);
			return rc;
		}
		if (rc != PB_ERR_BUSY)
			return do_load(r, o, 0, load, ud, res);
		/* Someone else is loading: wait for the value.  A waiter
		 * that may give up counts its patience from the loader's
		 * start (the lock's age), so a hanging load parks waiters
		 * for wait_ms at most in all, not wait_ms each. */
		deadline = pb_clock_mono_ms() + wait_ms;
		if (o->give_up && lock_held(r, o->key, &left) == 1 &&
		    left < lock_ms)
			deadline -= lock_ms - left;
		poll = POLL_FIRST_MS;
		for (;;) {
			if (stop_now(o, deadline))
				return gave_up(r, o, res);
			left = deadline - pb_clock_mono_ms();
			/* give_up: never sleep past the deadline */
			sleep_ms(o->give_up && left < poll
			             ? (left > 0 ? left : 1)
			             : poll);
			rc = pb_cache_get(r, o->key, &res->val, &res->len);
			if (rc == PB_OK) {
				res->source = PB_CACHE_WAITED;
				return PB_OK;
			}
			if (rc != PB_ERR_NOTFOUND)
				return do_load(r, o, 0, load, ud, res);
			if (lock_held(r, o->key, &left) == 0)
				break; /* the loader gave up: try to load */
			if (pb_clock_mono_ms() >= deadline)
				return o->give_up
				           ? gave_up(r, o, res)
				           : do_load(r, o, 0, load, ud, res);
			if (poll < POLL_MAX_MS)
				poll *= 2;
		}
	}
	return do_load(r, o, 0, load, ud, res);
}
