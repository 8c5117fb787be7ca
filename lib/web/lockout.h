/*
 * lockout.h - consecutive login failures per user id, in Redis.
 *
 * One hash per canonical user id, v1:auth:fail:<uid>, fields n (attempts
 * reserved since the last success) and until (lock expiry, ms since the
 * epoch from pb_clock_now_ms).  The lock expiry is stored as a value, not
 * as a Redis TTL, so that it follows the services' (injectable) clock; the
 * key's TTL is only a generous clean-up bound (lock + 1 day).
 *
 * A login first reserves an attempt (pb_lockout_reserve) -- atomically,
 * before any password hash is computed.  When max_failures attempts are
 * already reserved, or the account is locked, no slot is given: so N
 * parallel wrong attempts cost at most max_failures hash verifications.
 * After the verification the caller reports the outcome: pb_lockout_fail
 * (the attempt with slot >= max_failures sets the lock, unless a lock is
 * already set: failures while locked never extend it) or
 * pb_lockout_reset (success).  Unknown ids go through the same calls.
 * The auth service passes the user key (authz.h pb_authz_user_key), not
 * the typed id, as uid: a phone number typed as a user id must not become
 * a Redis key name.
 */
#ifndef PB_LOCKOUT_H
#define PB_LOCKOUT_H

#include <stdint.h>

#include "err.h"
#include "redis.h"

#define PB_LOCKOUT_UID_MAX 64

struct pb_lockout_opts {
	int max_failures; /* 5 */
	int64_t lock_ms;  /* ms; 30 min */
};

/*
 * Reserve an attempt for uid at now_ms.  PB_OK and *slot (1..max) when
 * the password may be checked; PB_ERR_LOCKED when locked (*until = lock
 * expiry, ms); PB_ERR_UNAVAILABLE when Redis is down (fail closed).
 */
enum pb_err pb_lockout_reserve(struct pb_redis *r, const char *uid,
                               const struct pb_lockout_opts *o, int64_t now_ms,
                               int *slot, int64_t *until);

/*
 * The attempt with this slot failed.  *locked_now is 1 when this failure
 * locked the account (then *until is the expiry), else *remaining is the
 * number of attempts left before the lock.
 */
enum pb_err pb_lockout_fail(struct pb_redis *r, const char *uid,
                            const struct pb_lockout_opts *o, int64_t now_ms,
                            int slot, int *locked_now, int *remaining,
                            int64_t *until);

/*
 * Give back a reserved attempt that was never made (the login was shed
 * before the password was checked): the count goes down by one unless a
 * lock is set meanwhile.
 */
enum pb_err pb_lockout_cancel(struct pb_redis *r, const char *uid,
                              int64_t now_ms);

/*
 * Whether uid is locked at now_ms, without reserving anything (for a
 * refresh): PB_ERR_LOCKED and *until when locked, PB_OK when not.
 */
enum pb_err pb_lockout_check(struct pb_redis *r, const char *uid,
                             int64_t now_ms, int64_t *until);

/* Success (or an operator's unlock): forget the failures and any lock. */
enum pb_err pb_lockout_reset(struct pb_redis *r, const char *uid);

/*
 * Read only (the admin CLI's list): *failures reserved since the last
 * success and *until, the lock expiry (ms; 0 when never locked; a lock is
 * in force while *until > now).
 */
enum pb_err pb_lockout_peek(struct pb_redis *r, const char *uid, int *failures,
                            int64_t *until);

#endif
