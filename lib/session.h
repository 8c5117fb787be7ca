/*
 * session.h - login sessions in Redis.
 *
 * One hash per session, v1:sess:<sid>, holding the principal (user id,
 * customer id, line number, name, permission bits), whether it is an
 * auto-login session, and the id (jti) of the one refresh token that may
 * still be used.  The session id is the token family: every access and
 * refresh token carries it, so deleting the hash ends them all at once.
 * Idle sessions expire after the idle TTL (sliding: every authenticated
 * request renews it); auto-login sessions live for their fixed TTL.
 * A logged-out access token's jti is kept in v1:deny:<jti> until it expires.
 * Every operation is one Redis round trip (a Lua script where it must be
 * atomic).  PB_ERR_UNAVAILABLE when Redis is down: callers fail closed.
 */
#ifndef PB_SESSION_H
#define PB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "redis.h"

#define PB_SESSION_ID_MAX   64
#define PB_SESSION_NAME_MAX 128   /* bytes of a UTF-8 name */

struct pb_session {
	char sid[PB_SESSION_ID_MAX + 1];
	char user_id[PB_SESSION_ID_MAX + 1];
	char customer_id[PB_SESSION_ID_MAX + 1];
	char line[16];                  /* "010-1234-5678" */
	char name[PB_SESSION_NAME_MAX];
	unsigned perms;                 /* PB_PERM_* bits (authz.h) */
	int auto_login;                 /* 1: fixed TTL, not sliding */
	char rjti[PB_SESSION_ID_MAX + 1]; /* the live refresh token's jti */
};

/* Store s for ttl_ms (ms). */
enum pb_err pb_session_create(struct pb_redis *r, const struct pb_session *s,
    int64_t ttl_ms);

/*
 * For an access token: PB_OK and *out filled when jti is not denylisted
 * and session sid exists for user uid; the idle TTL (ms) is renewed unless
 * the session is an auto-login one.  PB_ERR_NOTFOUND otherwise.
 */
enum pb_err pb_session_touch(struct pb_redis *r, const char *sid,
    const char *uid, const char *jti, int64_t idle_ttl_ms,
    struct pb_session *out);

/*
 * Rotate the refresh token of session sid: when rjti is the live one it is
 * replaced by new_rjti atomically, the TTL renewed (idle_ttl_ms, or left
 * alone for auto-login) and PB_OK returned with *out.  When rjti is not
 * the live one (already used) the whole session is deleted and
 * PB_ERR_STATE returned: reuse revokes the family.  PB_ERR_NOTFOUND when
 * the session does not exist (any more).
 */
enum pb_err pb_session_rotate(struct pb_redis *r, const char *sid,
    const char *uid, const char *rjti, const char *new_rjti,
    int64_t idle_ttl_ms, struct pb_session *out);

/* Delete session sid (PB_OK also when it did not exist). */
enum pb_err pb_session_delete(struct pb_redis *r, const char *sid);

/* Denylist an access token's jti for ttl_ms (ms; at least 1). */
enum pb_err pb_session_deny(struct pb_redis *r, const char *jti,
    int64_t ttl_ms);

#endif
