/* jwt.c - HS256 tokens: libjwt signs, we verify (jwt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h> /* libjwt's (we use -iquote for lib/) */
#include <sodium.h>

#include "buf.h"
#include "crypto.h"
#include "json.h"
#include "jwt.h"

#define PART_MAX 2048 /* bytes of a decoded header or payload */

static const char *
typ_name(enum pb_jwt_type t)
{
	return t == PB_JWT_REFRESH ? "refresh" : "access";
}

static int
id_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return n > 0 && n <= PB_JWT_ID_MAX;
}

enum pb_err
pb_jwt_issue(const char *key, size_t keylen, const struct pb_jwt_claims *c,
             char **out)
{
	jwt_t *jwt = NULL;
	char *tok = NULL, kid[PB_JWT_KID_LEN + 1];
	enum pb_err rc = PB_ERR_INVAL;

	*out = NULL;
	if (key == NULL || keylen < PB_JWT_KEY_MIN || keylen > 4096) {
		rc = PB_ERR_CONFIG;
		goto out;
	}
	if (!id_ok(c->sub) || !id_ok(c->jti) || !id_ok(c->sid))
		goto out;
	rc = PB_ERR_NOMEM;
	if (jwt_new(&jwt) != 0)
		goto out;
	pb_jwt_kid(key, keylen, kid, sizeof(kid));
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)key,
	                (int)keylen) != 0 ||
	    jwt_add_header(jwt, "kid", kid) != 0 ||
	    jwt_add_grant(jwt, "iss", PB_JWT_ISSUER) != 0 ||
	    jwt_add_grant(jwt, "aud", PB_JWT_AUDIENCE) != 0 ||
	    jwt_add_grant(jwt, "sub", c->sub) != 0 ||
	    jwt_add_grant(jwt, "jti", c->jti) != 0 ||
	    jwt_add_grant(jwt, "sid", c->sid) != 0 ||
	    jwt_add_grant(jwt, "typ", typ_name(c->typ)) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)c->iat) != 0 ||
	    jwt_add_grant_int(jwt, "nbf", (long)c->nbf) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0)
		goto out;
	tok = jwt_encode_str(jwt);
	if (tok == NULL)
		goto out;
	*out = tok;
	rc = PB_OK;
out:
	jwt_free(jwt);
	return rc;
}

/*
 * 1 when every number in the (already valid) JSON text s is written as
 * digits only: NumericDate claims such as exp must not be 1.5e10 or
 * 9999999999.0, which the number's value alone cannot tell apart.
 */
static int
numbers_are_digits(const unsigned char *s, size_t n)
{
	size_t i;
	int in_str = 0;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '-' || s[i] == '.' || s[i] == '+')
			return 0; /* only inside a number outside strings */
		else if ((s[i] == 'e' || s[i] == 'E') && i > 0 &&
		         s[i - 1] >= '0' && s[i - 1] <= '9')
			return 0; /* an exponent (true/false: after a letter) */
	}
	return 1;
}

/*
 * Base64url without padding, [p, p+n) into out[0..outlen): the decoded
 * length, or -1 for a character outside the alphabet, a length no
 * encoding has (n % 4 == 1), unused low bits that are not zero (only the
 * canonical text of some bytes is accepted), or too little room.  A
 * table instead of libsodium's constant-time decoder: the parts are
 * public (the signature is compared in constant time after decoding), and
 * this one costs a fraction.
 */
static long
b64url_decode(const char *p, size_t n, unsigned char *out, size_t outlen)
{
	unsigned long acc = 0;
	size_t i, o = 0, bits = 0;
	int v;
	char c;

	if (n % 4 == 1 || (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0) > outlen)
		return -1;
	for (i = 0; i < n; i++) {
		c = p[i];
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-' || c == '_')
			v = c == '-' ? 62 : 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	return acc != 0 ? -1 : (long)o;
}

/* Base64url (no padding) part [p, p+n) -> strict JSON object; with
 * ints_only every number must be written as digits only. */
static enum pb_err
part_json(const char *p, size_t n, int ints_only, cJSON **out)
{
	unsigned char bin[PART_MAX];
	size_t binlen;
	long got;

	*out = NULL;
	if (n == 0 || n > (PART_MAX / 3) * 4)
		return PB_ERR_INVAL;
	got = b64url_decode(p, n, bin, sizeof(bin));
	if (got < 0)
		return PB_ERR_INVAL;
	binlen = (size_t)got;
	if (ints_only && !numbers_are_digits(bin, binlen))
		return PB_ERR_INVAL;
	if (pb_json_parse((const char *)bin, binlen, 2, out, NULL) != PB_OK)
		return PB_ERR_INVAL;
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return PB_ERR_INVAL;
	}
	return PB_OK;
}

void
pb_jwt_kid(const char *key, size_t keylen, char *out, size_t outlen)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];

	crypto_hash_sha256(h, (const unsigned char *)key, keylen);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, outlen, "k%.8s", hex);
}

/* The header: alg HS256, optional typ JWT, optional kid (which must be
 * key's when present: PB_ERR_NOTFOUND when it names another key). */
static enum pb_err
check_header(const cJSON *h, const char *key, size_t keylen)
{
	static const struct pb_json_field spec[] = {
	    {"alg", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 16},
	    {"typ", PB_JSON_STRING, 0, 1, 16},
	    {"kid", PB_JSON_STRING, 0, 1, 16},
	};
	const char *typ, *kid;
	char mine[PB_JWT_KID_LEN + 1];

	if (pb_json_check(h, spec, 3, NULL, NULL) != PB_OK)
		return PB_ERR_INVAL;
	kid = pb_json_get_string(h, "kid");
	if (cJSON_GetObjectItemCaseSensitive(h, "kid") != NULL) {
		pb_jwt_kid(key, keylen, mine, sizeof(mine));
		if (kid == NULL || strcmp(kid, mine) != 0)
			return PB_ERR_NOTFOUND;
	}
	if (strcmp(pb_json_get_string(h, "alg"), "HS256") != 0)
		return PB_ERR_INVAL;
	typ = pb_json_get_string(h, "typ");
	if (cJSON_GetObjectItemCaseSensitive(h, "typ") != NULL &&
	    (typ == NULL || strcmp(typ, "JWT") != 0))
		return PB_ERR_INVAL;
	return PB_OK;
}

static enum pb_err
check_claims(const cJSON *p, enum pb_jwt_type want, int64_t now_s,
             struct pb_jwt_claims *c)
{
	static const struct pb_json_field spec[] = {
	    {"iss", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 64},
	    {"aud", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 64},
	    {"sub", PB_JSON_STRING, PB_JSON_REQUIRED, 1, PB_JWT_ID_MAX},
	    {"jti", PB_JSON_STRING, PB_JSON_REQUIRED, 16, PB_JWT_ID_MAX},
	    {"sid", PB_JSON_STRING, PB_JSON_REQUIRED, 16, PB_JWT_ID_MAX},
	    {"typ", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 16},
	    {"iat", PB_JSON_INT, PB_JSON_REQUIRED, 0, 1LL << 40},
	    {"nbf", PB_JSON_INT, PB_JSON_REQUIRED, 0, 1LL << 40},
	    {"exp", PB_JSON_INT, PB_JSON_REQUIRED, 0, 1LL << 40},
	};
	long long iat = 0, nbf = 0, exp = 0;

	if (pb_json_check(p, spec, sizeof(spec) / sizeof(spec[0]), NULL,
	                  NULL) != PB_OK)
		return PB_ERR_INVAL;
	if (strcmp(pb_json_get_string(p, "iss"), PB_JWT_ISSUER) != 0 ||
	    strcmp(pb_json_get_string(p, "aud"), PB_JWT_AUDIENCE) != 0 ||
	    strcmp(pb_json_get_string(p, "typ"), typ_name(want)) != 0)
		return PB_ERR_INVAL;
	if (pb_strlcpy(c->sub, pb_json_get_string(p, "sub"), sizeof(c->sub)) !=
	        PB_OK ||
	    pb_strlcpy(c->jti, pb_json_get_string(p, "jti"), sizeof(c->jti)) !=
	        PB_OK ||
	    pb_strlcpy(c->sid, pb_json_get_string(p, "sid"), sizeof(c->sid)) !=
	        PB_OK ||
	    !id_ok(c->sub) || !id_ok(c->jti) || !id_ok(c->sid))
		return PB_ERR_INVAL;
	if (!pb_json_get_int(p, "iat", &iat) ||
	    !pb_json_get_int(p, "nbf", &nbf) ||
	    !pb_json_get_int(p, "exp", &exp))
		return PB_ERR_INVAL;
	if (exp <= iat || nbf > exp || iat > now_s + PB_JWT_LEEWAY_S ||
	    nbf > now_s + PB_JWT_LEEWAY_S)
		return PB_ERR_INVAL;
	c->typ = want;
	c->iat = iat;
	c->nbf = nbf;
	c->exp = exp;
	if (exp <= now_s)
		return PB_ERR_TIMEOUT;
	return PB_OK;
}

/*
 * HS256: HMAC-SHA-256 with key over token[0..sig) ("header.payload") equals
 * the signature after sig's dot (base64url, no padding: exactly 32 bytes,
 * compared in constant time).  The header has already pinned the
 * algorithm, so this is the whole of what libjwt's decode would check,
 * without its second parse of header and payload.
 */
static int
signature_ok(const char *key, size_t keylen, const char *token, const char *sig)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	unsigned char got[crypto_auth_hmacsha256_BYTES];
	size_t slen = strlen(sig + 1);

	if (slen != 43 ||
	    b64url_decode(sig + 1, slen, got, sizeof(got)) != (long)sizeof(got))
		return 0;
	pb_crypto_hmac((const unsigned char *)key, keylen, token,
	               (size_t)(sig - token), mac);
	return sodium_memcmp(mac, got, sizeof(mac)) == 0;
}

enum pb_err
pb_jwt_verify(const char *key, size_t keylen, const char *token,
              enum pb_jwt_type want, int64_t now_s, struct pb_jwt_claims *out)
{
	const char *d1, *d2;
	cJSON *hdr = NULL, *pay = NULL;
	size_t len, i;
	enum pb_err rc = PB_ERR_INVAL;

	memset(out, 0, sizeof(*out));
	if (key == NULL || keylen < PB_JWT_KEY_MIN) {
		rc = PB_ERR_CONFIG;
		goto out;
	}
	if (token == NULL)
		goto out;
	len = strnlen(token, PB_JWT_MAX_TOKEN + 1);
	if (len == 0 || len > PB_JWT_MAX_TOKEN)
		goto out;
	for (i = 0; i < len; i++) {
		char ch = token[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '.'))
			goto out;
	}
	d1 = strchr(token, '.');
	d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL ||
	    d2[1] == '\0')
		goto out;
	/* our own look at the header before libjwt sees the token */
	if (part_json(token, (size_t)(d1 - token), 0, &hdr) != PB_OK)
		goto out;
	rc = check_header(hdr, key, keylen);
	if (rc != PB_OK)
		goto out;
	rc = PB_ERR_INVAL;
	if (!signature_ok(key, keylen, token, d2))
		goto out;
	/* the signature is good: now the claims, from the bytes signed */
	if (part_json(d1 + 1, (size_t)(d2 - d1 - 1), 1, &pay) != PB_OK)
		goto out;
	rc = check_claims(pay, want, now_s, out);
out:
	if (rc != PB_OK && rc != PB_ERR_TIMEOUT)
		memset(out, 0, sizeof(*out));
	cJSON_Delete(hdr);
	cJSON_Delete(pay);
	return rc;
}

enum pb_err
pb_jwt_verify_any(const char *key, const char *accept, const char *token,
                  enum pb_jwt_type want, int64_t now_s,
                  struct pb_jwt_claims *out)
{
	enum pb_err rc;

	if (key == NULL) {
		memset(out, 0, sizeof(*out));
		return PB_ERR_CONFIG;
	}
	rc = pb_jwt_verify(key, strlen(key), token, want, now_s, out);
	/* another key's kid, or no kid and not this key's signature */
	if (accept != NULL && (rc == PB_ERR_NOTFOUND || rc == PB_ERR_INVAL))
		rc = pb_jwt_verify(accept, strlen(accept), token, want, now_s,
		                   out);
	return rc == PB_ERR_NOTFOUND ? PB_ERR_INVAL : rc;
}
