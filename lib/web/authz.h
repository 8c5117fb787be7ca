/*
 * authz.h - who is calling, and may they: for every service's handlers.
 *
 * pb_authz_require() takes the bearer token of the request, verifies it
 * as an access token (jwt.h: HS256 pinned, every claim checked), checks
 * that its jti is not denylisted and that its session is alive in Redis
 * (renewing an idle session), loads the principal from the session and
 * checks the permission.  On failure it has already answered with our
 * envelope: 401 UNAUTHORIZED (no bearer token), 401 TOKEN_EXPIRED,
 * 401 TOKEN_INVALID (forged, wrong type -- a refresh token is never an
 * access token -- or the session ended), 403 FORBIDDEN (permission
 * missing), 503 SERVICE_UNAVAILABLE (Redis down: fail closed).
 */
#ifndef PB_AUTHZ_H
#define PB_AUTHZ_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "err.h"
#include "jwt.h"
#include "request.h"
#include "session.h"

#define PB_PERM_BILL_INQUIRY 0x1u
#define PB_PERM_PRODUCT_CHANGE 0x2u
#define PB_PERM_ALL 0x3u

#define PB_AUTHZ_ACCESS_TTL_S 1800   /* s, access token */
#define PB_AUTHZ_REFRESH_TTL_S 86400 /* s, refresh token */
#define PB_AUTHZ_IDLE_MS 1800000LL   /* ms, sliding session TTL */
#define PB_AUTHZ_AUTO_MS 86400000LL  /* ms, auto-login session TTL */

struct pb_principal {
	struct pb_session s;      /* user, customer, line, perms */
	struct pb_jwt_claims tok; /* the access token's claims */
};

/*
 * Authenticate req and require perm (PB_PERM_* bits; 0: any signed-in
 * user).  PB_OK with *out filled; otherwise the response has been sent
 * and *out is zeroed.
 */
enum pb_err pb_authz_require(struct pb_req *req, unsigned perm,
                             struct pb_principal *out);

/*
 * pb_authz_require with the caller's read commands extra[0..nextra) sent
 * in the session check's round trip (session.h, pb_session_touch_pipe).
 * PB_OK: replies[0..nextra) hold their replies (caller frees each, NULL
 * for one that did not arrive); otherwise every replies[i] is NULL.
 */
enum pb_err pb_authz_require_pipe(struct pb_req *req, unsigned perm,
                                  struct pb_principal *out,
                                  const struct pb_redis_cmdv *extra,
                                  size_t nextra, redisReply **replies);

struct pb_app;

/*
 * The key of a user's records in Redis (session.h's user version): the
 * first 16 bytes, in hex, of the blind-index HMAC of "uid:" + uid, so no
 * key names the user.  out must hold PB_SESSION_UKEY_MAX + 1 bytes.
 * PB_ERR_CONFIG when app has no personal-data keys.
 */
enum pb_err pb_authz_user_key(const struct pb_app *app, const char *uid,
                              char *out, size_t outlen);

/* "BILL_INQUIRY" -> PB_PERM_BILL_INQUIRY; 0 when unknown. */
unsigned pb_authz_perm_parse(const char *name);
/* Static name of one permission bit, or NULL. */
const char *pb_authz_perm_name(unsigned bit);
/* Static Korean description of one permission bit, or NULL. */
const char *pb_authz_perm_text(unsigned bit);
/* ["BILL_INQUIRY", ...] for the bits set; caller owns (NULL: no memory). */
cJSON *pb_authz_perms_json(unsigned perms);

/*
 * Normalise a line number: "01012345678" or "010-1234-5678" (11 digits,
 * 01x prefix) -> "010-1234-5678" in out (outlen >= 14).
 * PB_ERR_INVAL when it is not a mobile line number.
 */
enum pb_err pb_authz_line_format(const char *in, char *out, size_t outlen);
/* 1 when line (either form) is the principal's own line; 0 is logged
 * (event=forbidden, the user id and the line masked). */
int pb_authz_line_is_own(const struct pb_principal *p, const char *line);

#endif
