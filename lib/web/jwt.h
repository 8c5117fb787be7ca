/*
 * jwt.h - HS256 JSON Web Tokens: libjwt 1.10.2 signs, we verify, every
 * claim checked here.
 *
 * libjwt 1.10.2 skips the signature check when the key is empty, checks no
 * claims, takes the algorithm from the token and reads a string, boolean
 * or float as integer 0; and its decode parses header and payload (jansson)
 * a second time beside ours.  So verification does not use it: the key
 * must be at least PB_JWT_KEY_MIN bytes (PB_ERR_CONFIG otherwise); the
 * header is parsed once, by us, and must say exactly
 * {"alg":"HS256"[,"typ":"JWT"][,"kid":...]}; the signature must be 43
 * base64url characters (canonical, 32 bytes) equal, in constant time, to
 * HMAC-SHA-256 (libsodium) of "header.payload"; the payload is parsed once
 * with the strict pb_json (no duplicates, exact integer types, no unknown
 * claims) and iss, aud, sub, iat, nbf, exp, jti, typ and sid are checked
 * here.
 *
 * Keys rotate without downtime: every token names its key in the header
 * ("kid": "k" + the first 8 hex digits of SHA-256 of the key, which says
 * nothing about the key), and a verifier may hold a second key it accepts
 * but never signs with (pb_jwt_verify_any).  A token without kid (issued
 * before kid existed) is tried against both.
 */
#ifndef PB_JWT_H
#define PB_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PB_JWT_KEY_MIN 32     /* bytes */
#define PB_JWT_MAX_TOKEN 4096 /* bytes of a token we look at */
#define PB_JWT_ID_MAX 64      /* chars of sub, jti, sid */
#define PB_JWT_LEEWAY_S 5     /* s of clock skew accepted on iat/nbf */
#define PB_JWT_ISSUER "phonebill-auth"
#define PB_JWT_AUDIENCE "phonebill"
#define PB_JWT_KID_LEN 9 /* chars of a kid: "k" + 8 hex */

enum pb_jwt_type { PB_JWT_ACCESS = 1, PB_JWT_REFRESH = 2 };

struct pb_jwt_claims {
	enum pb_jwt_type typ;
	char sub[PB_JWT_ID_MAX + 1]; /* user id (canonical) */
	char jti[PB_JWT_ID_MAX + 1]; /* token id */
	char sid[PB_JWT_ID_MAX + 1]; /* session (family) id */
	int64_t iat, nbf, exp;       /* s since the epoch */
};

/*
 * Sign c (iss and aud are added) with key[0..keylen).  *out is a
 * NUL-terminated token the caller frees with free().
 */
enum pb_err pb_jwt_issue(const char *key, size_t keylen,
                         const struct pb_jwt_claims *c, char **out);

/*
 * Verify token as a token of type want at now_s (s since the epoch).
 * PB_OK with *out filled; PB_ERR_TIMEOUT when it is genuine but expired;
 * PB_ERR_INVAL for anything else (forged, malformed, wrong algorithm, wrong
 * type, missing or mistyped claim, not yet valid); PB_ERR_NOTFOUND when
 * the header's kid names another key; PB_ERR_CONFIG for a short key.  *out is
 * zeroed on any other failure (on PB_ERR_TIMEOUT it holds the expired token's
 * claims).
 */
enum pb_err pb_jwt_verify(const char *key, size_t keylen, const char *token,
                          enum pb_jwt_type want, int64_t now_s,
                          struct pb_jwt_claims *out);

/* The kid of key into out (PB_JWT_KID_LEN + 1 bytes). */
void pb_jwt_kid(const char *key, size_t keylen, char *out, size_t outlen);

/*
 * pb_jwt_verify with the signing key and, when not NULL, a key accepted
 * during a rotation (NUL-terminated secrets): the token's kid picks the
 * key; without kid the signing key is tried, then the other.
 */
enum pb_err pb_jwt_verify_any(const char *key, const char *accept,
                              const char *token, enum pb_jwt_type want,
                              int64_t now_s, struct pb_jwt_claims *out);

#endif
