/* test_jwt.c - issue and verify, and every way a token can be wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clock.h"
#include "jwt.h"
#include "tap.h"

static const char key[] = "0123456789abcdef0123456789abcdef";

/* header.payload signed with key (HS256) or with no signature. */
static char *
forge(const char *header, const char *payload, int sign)
{
	char h[512], p[1024], sig[64];
	unsigned char mac[32];
	static char out[2048];

	sodium_bin2base64(h, sizeof(h), (const unsigned char *)header,
	                  strlen(header),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(p, sizeof(p), (const unsigned char *)payload,
	                  strlen(payload),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, sizeof(out), "%s.%s", h, p);
	if (sign) {
		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, (const unsigned char *)key,
		                            strlen(key));
		crypto_auth_hmacsha256_update(&st, (unsigned char *)out,
		                              strlen(out));
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2base64(sig, sizeof(sig), mac, 32,
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	} else {
		sig[0] = '\0';
	}
	strncat(out, ".", sizeof(out) - strlen(out) - 1);
	strncat(out, sig, sizeof(out) - strlen(out) - 1);
	return out;
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define CLAIMS(extra, exp)                                                     \
	"{\"iss\":\"phonebill-auth\",\"aud\":\"phonebill\","                   \
	"\"sub\":\"demo01\",\"jti\":\"0123456789abcdef\",\"sid\":"             \
	"\"fedcba9876543210\",\"typ\":\"access\",\"iat\":1000,\"nbf\":1000,"   \
	"\"exp\":" exp extra "}"

static int
v(const char *tok, enum pb_jwt_type t, int64_t now)
{
	struct pb_jwt_claims c;

	return pb_jwt_verify(key, strlen(key), tok, t, now, &c);
}

int
main(void)
{
	struct pb_jwt_claims c, got;
	char *tok = NULL, *bad;
	int64_t t0, i, n = 20000, now = 2000;

	if (sodium_init() < 0)
		return tap_skip_all("sodium");
	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "demo01");
	snprintf(c.jti, sizeof(c.jti), "0123456789abcdef0123456789abcdef");
	snprintf(c.sid, sizeof(c.sid), "00112233445566778899aabbccddeeff");
	c.typ = PB_JWT_ACCESS;
	c.iat = c.nbf = 1000;
	c.exp = 2800;
	is_int(pb_jwt_issue(key, 8, &c, &tok), PB_ERR_CONFIG, "short key");
	is_int(pb_jwt_issue(key, strlen(key), &c, &tok), PB_OK, "issue");
	is_int(pb_jwt_verify(key, strlen(key), tok, PB_JWT_ACCESS, now, &got),
	       PB_OK, "verify");
	is_str(got.sub, "demo01", "sub");
	is_str(got.sid, c.sid, "sid");
	is_int(got.exp, 2800, "exp");
	is_int(v(tok, PB_JWT_REFRESH, now), PB_ERR_INVAL,
	       "access token is not a refresh token");
	is_int(v(tok, PB_JWT_ACCESS, 2800), PB_ERR_TIMEOUT, "expired");
	is_int(v(tok, PB_JWT_ACCESS, 900), PB_ERR_INVAL, "not yet valid");
	is_int(pb_jwt_verify(key, 0, tok, PB_JWT_ACCESS, now, &got),
	       PB_ERR_CONFIG, "empty key never skips the check");
	is_int(pb_jwt_verify("0123456789abcdef0123456789abcdeX", 32, tok,
	                     PB_JWT_ACCESS, now, &got),
	       PB_ERR_NOTFOUND, "other key (the token's kid names another)");

	is_int(v(forge(HDR, CLAIMS("", "2800"), 1), PB_JWT_ACCESS, now), PB_OK,
	       "forged with the real key is fine (control)");
	is_int(v(forge("{\"alg\":\"none\"}", CLAIMS("", "2800"), 0),
	         PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "alg none");
	is_int(v(forge("{\"alg\":\"HS512\"}", CLAIMS("", "2800"), 1),
	         PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "alg HS512");
	is_int(v(forge("{\"alg\":\"HS256\",\"alg\":\"none\"}",
	               CLAIMS("", "2800"), 1),
	         PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "duplicate alg");
	is_int(
	    v(forge("{\"alg\":\"HS256\",\"zz\":\"x\"}", CLAIMS("", "2800"), 1),
	      PB_JWT_ACCESS, now),
	    PB_ERR_INVAL, "unknown header field");
	is_int(
	    v(forge("{\"alg\":\"HS256\",\"kid\":\"x\"}", CLAIMS("", "2800"), 1),
	      PB_JWT_ACCESS, now),
	    PB_ERR_NOTFOUND, "another key's kid");
	is_int(v(forge(HDR, CLAIMS("", "\"2800\""), 1), PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "string exp");
	is_int(v(forge(HDR, CLAIMS("", "2800.5"), 1), PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "float exp");
	is_int(v(forge(HDR, CLAIMS("", "true"), 1), PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "bool exp");
	is_int(v(forge(HDR, CLAIMS("", "2800.0"), 1), PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "integral float exp (2800.0)");
	is_int(v(forge(HDR, CLAIMS("", "2.8e3"), 1), PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "exponent exp (2.8e3)");
	is_int(v(forge(HDR, CLAIMS("", "28E2"), 1), PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "exponent exp (28E2)");
	is_int(v(forge(HDR, CLAIMS(",\"x\":1", "2800"), 1), PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "unknown claim");
	is_int(v(forge(HDR, CLAIMS(",\"exp\":9999", "2800"), 1), PB_JWT_ACCESS,
	         now),
	       PB_ERR_INVAL, "duplicate exp");
	is_int(v(forge(HDR,
	               "{\"iss\":\"phonebill-auth\",\"aud\":\"phonebill\","
	               "\"sub\":\"demo01\",\"sid\":\"fedcba9876543210\","
	               "\"typ\":\"access\","
	               "\"iat\":1000,\"nbf\":1000,\"exp\":2800}",
	               1),
	         PB_JWT_ACCESS, now),
	       PB_ERR_INVAL, "missing jti");
	bad = strdup(tok);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
	is_int(v(bad, PB_JWT_ACCESS, now), PB_ERR_INVAL, "flipped signature");
	free(bad);
	/* the signature is exactly 43 base64url chars (32 bytes) */
	bad = strdup(tok);
	bad[strlen(bad) - 1] = '\0';
	is_int(v(bad, PB_JWT_ACCESS, now), PB_ERR_INVAL, "signature 1 short");
	free(bad);
	bad = malloc(strlen(tok) + 2);
	snprintf(bad, strlen(tok) + 2, "%sA", tok);
	is_int(v(bad, PB_JWT_ACCESS, now), PB_ERR_INVAL, "signature 1 long");
	free(bad);
	{
		/* the last char carries 4 bits and 2 unused ones: set one of
		 * those and the bytes decode the same, the text does not */
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
		                          "ghijklmnopqrstuvwxyz0123456789-_";
		const char *pos;
		size_t last;

		bad = strdup(tok);
		last = strlen(bad) - 1;
		pos = strchr(b64, bad[last]);
		bad[last] = b64[(size_t)(pos - b64) ^ 1u];
		is_int(v(bad, PB_JWT_ACCESS, now), PB_ERR_INVAL,
		       "signature not in canonical base64url");
		free(bad);
	}
	is_int(v("a.b", PB_JWT_ACCESS, now), PB_ERR_INVAL, "two parts");
	is_int(v("a.b.c.d", PB_JWT_ACCESS, now), PB_ERR_INVAL, "four parts");
	is_int(v("", PB_JWT_ACCESS, now), PB_ERR_INVAL, "empty");
	is_int(v(NULL, PB_JWT_ACCESS, now), PB_ERR_INVAL, "NULL");

	/* rotation: a kid in every token; the accepted key verifies its own */
	{
		static const char key2[] = "fedcba9876543210fedcba9876543210";
		char kid[PB_JWT_KID_LEN + 1], *tok2 = NULL;
		struct pb_jwt_claims g2;

		pb_jwt_kid(key, strlen(key), kid, sizeof(kid));
		is_int((int)strlen(kid), PB_JWT_KID_LEN, "kid length");
		ok(strstr(tok, ".") != NULL, "token");
		is_int(pb_jwt_issue(key2, strlen(key2), &c, &tok2), PB_OK,
		       "issue with the new key");
		is_int(pb_jwt_verify(key, strlen(key), tok2, PB_JWT_ACCESS, now,
		                     &g2),
		       PB_ERR_NOTFOUND, "the old key alone: another kid");
		is_int(
		    pb_jwt_verify_any(key, key2, tok2, PB_JWT_ACCESS, now, &g2),
		    PB_OK, "signing key old, new accepted: ok");
		is_int(
		    pb_jwt_verify_any(key2, key, tok, PB_JWT_ACCESS, now, &g2),
		    PB_OK, "signing key new, old accepted: old token ok");
		is_int(
		    pb_jwt_verify_any(key2, NULL, tok, PB_JWT_ACCESS, now, &g2),
		    PB_ERR_INVAL, "old key no longer accepted: refused");
		is_int(pb_jwt_verify_any(key2, key,
		                         forge(HDR, CLAIMS("", "2800"), 1),
		                         PB_JWT_ACCESS, now, &g2),
		       PB_OK, "a token without kid: tried against both");
		free(tok2);
	}

	/* cost of one verification (the per-request price of pb_authz) */
	t0 = pb_clock_mono_ms();
	for (i = 0; i < n; i++)
		(void)pb_jwt_verify(key, strlen(key), tok, PB_JWT_ACCESS, now,
		                    &got);
	{
		char msg[96];
		int64_t ms = pb_clock_mono_ms() - t0;
		snprintf(msg, sizeof(msg),
		         "verify: %lld us per token (%lld in "
		         "%lld ms)",
		         (long long)(ms * 1000 / n), (long long)n,
		         (long long)ms);
		tap_diag(msg);
	}
	free(tok);
	return tap_done();
}
