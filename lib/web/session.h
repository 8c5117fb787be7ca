/*
 * session.h - login sessions in Redis.
 *
 * One hash per session, v1:sess:<sid>, holding the principal (user id,
 * customer id, permission bits; line number and name sealed, see
 * pb_session_protect), whether it is an
 * auto-login session, and the id (jti) of the one refresh token that may
 * still be used.  The session id is the token family: every access and
 * refresh token carries it, so deleting the hash ends them all at once.
 * Idle sessions expire after the idle TTL (sliding: every authenticated
 * request renews it); auto-login sessions live for their fixed TTL.
 * A logged-out access token's jti is kept in v1:deny:<jti> until it expires.
 *
 * Account changes end sessions at once: v1:uver:<ukey> is a per-user
 * version (ukey: a keyed hash of the user id, authz.h), bumped by whatever
 * changes the account (pb_session_user_bump).  A session records the
 * version read *before* the login loaded the user; touch and rotate
 * compare it with the current one in the same script, and a session of an
 * older version is deleted and answered as gone.  The version key has no
 * TTL (one small key per user ever changed), so it can never fall back to
 * an older value.  A session also records its login time (born, ms): a
 * refresh past born + the absolute lifetime is refused.
 * Every operation is one Redis round trip (a Lua script where it must be
 * atomic).  PB_ERR_UNAVAILABLE when Redis is down: callers fail closed.
 */
#ifndef PB_SESSION_H
#define PB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "redis.h"

#define PB_SESSION_ID_MAX 64
#define PB_SESSION_NAME_MAX 128 /* bytes of a UTF-8 name */

struct pb_session {
	char sid[PB_SESSION_ID_MAX + 1];
	char user_id[PB_SESSION_ID_MAX + 1];
	char customer_id[PB_SESSION_ID_MAX + 1];
	char line[16]; /* "010-1234-5678" */
	char name[PB_SESSION_NAME_MAX];
	unsigned perms;                   /* PB_PERM_* bits (authz.h) */
	int auto_login;                   /* 1: fixed TTL, not sliding */
	char rjti[PB_SESSION_ID_MAX + 1]; /* the live refresh token's jti */
	char ver[24];                     /* the user's version at login */
	int64_t born_ms;                  /* login time, ms since the epoch */
};

#define PB_SESSION_UKEY_MAX 64 /* bytes of a user key (hex) */

/* What a refresh needs (pb_session_rotate). */
struct pb_session_rotation {
	const char *sid, *uid, *ukey;
	const char *rjti; /* the presented refresh token's jti */
	const char *new_rjti;
	int64_t idle_ttl_ms; /* ms, sliding TTL (not auto-login) */
	int64_t now_ms;      /* ms since the epoch */
	int64_t max_life_ms; /* ms, absolute lifetime from born */
	unsigned perms;      /* the user's permissions, re-read */
};

/*
 * From now on, in this process: the line number and name are stored
 * sealed (XChaCha20-Poly1305 with seal_key, PB_CRYPTO_KEY_LEN bytes,
 * copied) in one field, never in clear.  pb_app_init calls it when the
 * personal-data keys are loaded; without it (unit tests) they stay clear.
 */
void pb_session_protect(const unsigned char *seal_key);

/* Store s (s->ver from pb_session_user_version) for ttl_ms (ms). */
enum pb_err pb_session_create(struct pb_redis *r, const struct pb_session *s,
                              int64_t ttl_ms);

/*
 * For an access token: PB_OK and *out filled when jti is not denylisted,
 * session sid exists for user uid and its version is the user's current
 * one (ukey); the idle TTL (ms) is renewed unless the session is an
 * auto-login one.  PB_ERR_NOTFOUND otherwise (an outdated session is
 * deleted).
 */
enum pb_err pb_session_touch(struct pb_redis *r, const char *sid,
                             const char *uid, const char *ukey, const char *jti,
                             int64_t idle_ttl_ms, struct pb_session *out);

/*
 * pb_session_touch with the caller's commands extra[0..nextra) (at most
 * PB_REDIS_MAX_PIPE - 1) in the same round trip, after the session script
 * (one pipeline: a cached read needs no second exchange).  Their replies
 * go to replies[0..nextra) (caller frees each; all NULL when Redis could
 * not be reached).  They ran whatever the session turned out to be: the
 * caller must not act on them unless PB_OK, so extra should only read.
 */
enum pb_err pb_session_touch_pipe(struct pb_redis *r, const char *sid,
                                  const char *uid, const char *ukey,
                                  const char *jti, int64_t idle_ttl_ms,
                                  struct pb_session *out,
                                  const struct pb_redis_cmdv *extra,
                                  size_t nextra, redisReply **replies);

/*
 * Rotate the refresh token of session x->sid: when x->rjti is the live one
 * it is replaced by x->new_rjti atomically, the permissions by x->perms,
 * the TTL renewed (the idle TTL, never past born + max_life; an auto-login
 * session keeps born + max_life) and PB_OK returned with *out.  When rjti
 * is not the live one (already used) the whole session is deleted and
 * PB_ERR_REUSED returned: reuse revokes the family.  PB_ERR_TIMEOUT (and
 * the session deleted) when born + max_life has passed; PB_ERR_NOTFOUND
 * when the session does not exist (any more) or is of an older version.
 */
enum pb_err pb_session_rotate(struct pb_redis *r,
                              const struct pb_session_rotation *x,
                              struct pb_session *out);

/* The user's current version into out ("0" when never bumped). */
enum pb_err pb_session_user_version(struct pb_redis *r, const char *ukey,
                                    char *out, size_t outlen);
/* End every session of the user, on every node: bump the version. */
enum pb_err pb_session_user_bump(struct pb_redis *r, const char *ukey);

/* Delete session sid (PB_OK also when it did not exist). */
enum pb_err pb_session_delete(struct pb_redis *r, const char *sid);

/* Denylist an access token's jti for ttl_ms (ms; at least 1). */
enum pb_err pb_session_deny(struct pb_redis *r, const char *jti,
                            int64_t ttl_ms);

#endif
