/*
 * cache.h - cache-aside over Redis, with single-flight and stale-if-error.
 *
 * Values are the JSON we serve, stored as is (no re-encoding on a hit).
 * Keys are versioned and typed by the caller ("v1:bill:01012345678:202611").
 *
 * pb_cache_fetch() is the whole read path:
 *   1. GET key: a hit is returned at once.
 *   2. Miss: take the single-flight lock "<key>:lock" (SET NX PX with a
 *      random token).  The holder calls load(), stores the value with its
 *      TTL (+ jitter), releases the lock (compare-and-delete: never someone
 *      else's lock) and returns it.
 *   3. Someone else holds the lock: poll the key (10 ms, doubling to 80 ms)
 *      until the value appears (a "waited" hit), the lock disappears
 *      without a value (the holder failed: try to take the lock once more),
 *      or wait_ms passes (then load() without the lock: the answer matters
 *      more than the saving).  With give_up set, the waiter instead stops
 *      when wait_ms passes or stop_waiting() says so (the origin is slow:
 *      waiting longer would only park this process too) and answers the
 *      stale copy, or PB_ERR_UNAVAILABLE without calling load().
 *   4. load() failed with PB_ERR_UNAVAILABLE or PB_ERR_TIMEOUT and the
 *      caller named a stale key: the long-lived copy kept there is
 *      returned with source PB_CACHE_STALE.
 *   Redis down (any Redis error): load() is called directly, nothing is
 *   stored, and the answer stays correct (source PB_CACHE_BYPASS).
 *
 * Personal data never sits in Redis in clear (pb_cache_protect): a key
 * with an identifying part, "v1:<type>:<rest>", is stored as
 * "v1:<type>:<32 hex>" (the first 16 bytes of the blind-index HMAC of
 * <rest>) and its value sealed with the personal-data key (XChaCha20-
 * Poly1305); the lock is "<that key>:lock".  A type-only key
 * ("v1:prod-catalog": shared, non-personal data) stays as it is, in clear.
 * Callers keep using the readable keys.  A value that does not open (one
 * written in clear before, or under another key) is a miss.
 *
 * load() decides the TTL of each value (0: do not cache it -- errors are
 * never cached; a business "not found" may be cached briefly) and whether
 * it may be kept as a stale copy.
 */
#ifndef PB_CACHE_H
#define PB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "redis.h"

#define PB_CACHE_KEY_MAX 160            /* bytes, with the NUL */
#define PB_CACHE_VALUE_MAX (512 * 1024) /* bytes of one value */
#define PB_CACHE_TOKEN_LEN 32           /* hex chars of a lock token */

enum pb_cache_source {
	PB_CACHE_HIT = 0, /* found in the cache */
	PB_CACHE_WAITED,  /* another process loaded it while we waited */
	PB_CACHE_LOADED,  /* we loaded it (and stored it if ttl > 0) */
	PB_CACHE_BYPASS,  /* Redis unavailable: loaded, not stored */
	PB_CACHE_STALE,   /* load failed; the stale copy is returned */
	PB_CACHE_GAVE_UP  /* a waiter gave up (give_up): stale copy
	                     returned, or PB_ERR_UNAVAILABLE */
};

/* What load() hands back: value (malloc'd; pb_cache takes it), ttl_s
 * (0: do not cache), stale_ok (1: also keep the stale copy). */
struct pb_cache_value {
	char *val;
	size_t len;
	int ttl_s;
	int stale_ok;
};

/* Load from the origin.  PB_OK with v filled, or the origin's error. */
typedef enum pb_err (*pb_cache_load_fn)(void *ud, struct pb_cache_value *v);

struct pb_cache_opts {
	const char *key;       /* required */
	const char *stale_key; /* NULL: no stale copy */
	int stale_ttl_s;       /* s the stale copy lives; 0 -> 7 days */
	int jitter_pct;        /* + up to this % of ttl; 0 -> 10, -1 none */
	int64_t lock_ms;       /* single-flight lock lifetime; 0 -> 5000 */
	int64_t wait_ms;       /* ms to wait for another loader; 0 -> 4000 */
	int give_up;           /* 1: a waiter never loads itself (above) */
	int (*stop_waiting)(
	    void *ud); /* with give_up, may be NULL: asked
	               before every poll; nonzero ends the wait */
	void *stop_ud;
};

struct pb_cache_result {
	char *val; /* owned: free() */
	size_t len;
	enum pb_cache_source source;
	enum pb_err load_err; /* what load() returned, PB_OK if not called */
	int64_t stale_age_s;  /* with PB_CACHE_STALE: seconds since stored
	                         (-1 unknown) */
};

/*
 * The read path above.  PB_OK: res->val holds the value.  Otherwise the
 * error of load() (the origin failed and no stale copy was there), or
 * PB_ERR_TOOBIG / PB_ERR_NOMEM.  res is always initialised; release it
 * with pb_cache_result_free.  load may be called at most twice.
 */
enum pb_err pb_cache_fetch(struct pb_redis *r, const struct pb_cache_opts *o,
                           pb_cache_load_fn load, void *ud,
                           struct pb_cache_result *res);
void pb_cache_result_free(struct pb_cache_result *res);

/*
 * pb_cache_fetch whose first GET was already sent by the caller, in a
 * pipeline with its other reads (pb_cache_getcmd_make for o->key): pre is
 * that GET's reply (the caller keeps and frees it; NULL: GET as usual).
 */
enum pb_err pb_cache_fetch_pre(struct pb_redis *r,
                               const struct pb_cache_opts *o,
                               pb_cache_load_fn load, void *ud,
                               struct pb_cache_result *res,
                               const redisReply *pre);

/*
 * The GET of pb_cache_get as a command to send in a pipeline (the key as
 * stored); pb_cache_getcmd_value reads its reply as pb_cache_get would
 * (the value opened where it is sealed).  c holds everything cmd points
 * to.  PB_ERR_INVAL for a key pb_cache_get refuses.
 */
struct pb_cache_getcmd {
	struct pb_redis_cmdv cmd;
	const char *argv[2];
	size_t lens[2];
	char key[PB_CACHE_KEY_MAX];  /* as stored */
	char name[PB_CACHE_KEY_MAX]; /* as the caller named it */
};
enum pb_err pb_cache_getcmd_make(struct pb_cache_getcmd *c, const char *key);
enum pb_err pb_cache_getcmd_value(const struct pb_cache_getcmd *c,
                                  const redisReply *rep, char **val,
                                  size_t *len);

/* Plain GET: PB_OK (*val malloc'd, NUL-terminated), PB_ERR_NOTFOUND,
 * PB_ERR_UNAVAILABLE, PB_ERR_TOOBIG. */
enum pb_err pb_cache_get(struct pb_redis *r, const char *key, char **val,
                         size_t *len);
/* SET key val EX ttl_s (+ jitter_pct % at most; -1 none). */
enum pb_err pb_cache_set(struct pb_redis *r, const char *key, const char *val,
                         size_t len, int ttl_s, int jitter_pct);
/*
 * The SET of pb_cache_set (the key as stored, the value sealed where
 * pb_cache_protect says so, no jitter) as a command to send in a
 * pipeline (redis.h pb_redis_pipe).  c owns what the command points to
 * until pb_cache_setcmd_free; PB_ERR_INVAL / PB_ERR_TOOBIG as for
 * pb_cache_set.
 */
struct pb_cache_setcmd {
	struct pb_redis_cmdv cmd;
	const char *argv[5];
	size_t lens[5];
	char key[PB_CACHE_KEY_MAX];
	char ttl[24];
	unsigned char *sealed; /* owned */
};
enum pb_err pb_cache_setcmd_make(struct pb_cache_setcmd *c, const char *key,
                                 const char *val, size_t len, int ttl_s);
void pb_cache_setcmd_free(struct pb_cache_setcmd *c);

/* DEL the keys (at most 8); PB_OK also when they did not exist. */
enum pb_err pb_cache_del(struct pb_redis *r, const char *const *keys, size_t n);

/* Single-flight lock: PB_OK (token filled, PB_CACHE_TOKEN_LEN + 1 bytes),
 * PB_ERR_BUSY (held by someone else), PB_ERR_UNAVAILABLE. */
enum pb_err pb_cache_lock(struct pb_redis *r, const char *key, int64_t ms,
                          char *token, size_t tokenlen);
/* Release our lock only (compare-and-delete). */
void pb_cache_unlock(struct pb_redis *r, const char *key, const char *token);

/*
 * From now on, in this process: identifying keys hashed with index_key and
 * their values sealed with seal_key (both PB_CRYPTO_KEY_LEN bytes, copied).
 * Called once at start-up by pb_app_init when the personal-data keys are
 * loaded; not thread-safe against concurrent cache calls.
 */
void pb_cache_protect(const unsigned char *seal_key,
                      const unsigned char *index_key);

/* "HIT", "WAITED", "LOADED", "BYPASS", "STALE", "GAVE_UP" */
const char *pb_cache_source_name(enum pb_cache_source s);

#endif
