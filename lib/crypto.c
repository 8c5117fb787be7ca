/* crypto.c - libsodium wrappers: Argon2id, XChaCha20-Poly1305, HMAC. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"

/* Process-lifetime dummy hash for unknown user ids. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static int dummy_ready;

enum pb_err
pb_crypto_pwhash(const char *pw, size_t len, char *out, size_t outlen)
{
	enum pb_err rc = PB_ERR_INVAL;

	if (pw == NULL || out == NULL || outlen < crypto_pwhash_STRBYTES ||
	    len > PB_CRYPTO_PASSWORD_MAX)
		goto out;
	if (crypto_pwhash_str_alg(out, pw, len,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	rc = PB_OK;
out:
	if (rc != PB_OK && out != NULL && outlen > 0)
		out[0] = '\0';
	return rc;
}

enum pb_err
pb_crypto_dummy_init(void)
{
	unsigned char rnd[16];
	char pw[33];

	if (dummy_ready)
		return PB_OK;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
	if (pb_crypto_pwhash(pw, strlen(pw), dummy_hash,
	    sizeof(dummy_hash)) != PB_OK)
		return PB_ERR_NOMEM;
	sodium_memzero(pw, sizeof(pw));
	dummy_ready = 1;
	return PB_OK;
}

enum pb_err
pb_crypto_pwverify(const char *hash, const char *pw, size_t len)
{
	int dummy = hash == NULL;

	if (pw == NULL || len > PB_CRYPTO_PASSWORD_MAX)
		return PB_ERR_INVAL;
	if (dummy) {
		if (pb_crypto_dummy_init() != PB_OK)
			return PB_ERR_NOMEM;
		hash = dummy_hash;
	}
	if (crypto_pwhash_str_verify(hash, pw, len) != 0 || dummy)
		return PB_ERR_INVAL;
	return PB_OK;
}

int
pb_crypto_pwhash_outdated(const char *hash)
{
	if (hash == NULL)
		return 0;
	/* 1: outdated parameters; -1: not an Argon2id string at all */
	return crypto_pwhash_str_needs_rehash(hash,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

enum pb_err
pb_crypto_key_from_hex(const char *hex, unsigned char key[PB_CRYPTO_KEY_LEN])
{
	size_t n = 0;

	if (hex == NULL || strlen(hex) != 2 * PB_CRYPTO_KEY_LEN ||
	    sodium_hex2bin(key, PB_CRYPTO_KEY_LEN, hex, strlen(hex), NULL, &n,
	    NULL) != 0 || n != PB_CRYPTO_KEY_LEN) {
		sodium_memzero(key, PB_CRYPTO_KEY_LEN);
		return PB_ERR_CONFIG;
	}
	return PB_OK;
}

enum pb_err
pb_crypto_seal(const unsigned char key[PB_CRYPTO_KEY_LEN], const void *pt,
    size_t ptlen, unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL;
	unsigned long long clen = 0;
	enum pb_err rc = PB_ERR_INVAL;
	const size_t nlen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	*out = NULL;
	*outlen = 0;
	if (pt == NULL || ptlen > PB_CRYPTO_SEAL_MAX)
		goto out;
	buf = malloc(ptlen + PB_CRYPTO_SEAL_OVERHEAD);
	if (buf == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	randombytes_buf(buf, nlen);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(buf + nlen, &clen, pt,
	    ptlen, NULL, 0, NULL, buf, key) != 0) {
		rc = PB_ERR_INTERNAL;
		goto out;
	}
	*out = buf;
	*outlen = nlen + (size_t)clen;
	buf = NULL;
	rc = PB_OK;
out:
	free(buf);
	return rc;
}

enum pb_err
pb_crypto_open(const unsigned char key[PB_CRYPTO_KEY_LEN], const void *ct,
    size_t ctlen, char *out, size_t outlen, size_t *ptlen)
{
	const unsigned char *c = ct;
	const size_t nlen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	unsigned long long mlen = 0;
	enum pb_err rc = PB_ERR_INVAL;

	if (ptlen != NULL)
		*ptlen = 0;
	if (out == NULL || outlen == 0)
		return PB_ERR_INVAL;
	out[0] = '\0';
	if (c == NULL || ctlen < PB_CRYPTO_SEAL_OVERHEAD)
		goto out;
	if (ctlen - PB_CRYPTO_SEAL_OVERHEAD + 1 > outlen) {
		rc = PB_ERR_TOOBIG;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out,
	    &mlen, NULL, c + nlen, ctlen - nlen, NULL, 0, c, key) != 0) {
		sodium_memzero(out, outlen);
		out[0] = '\0';
		goto out;
	}
	out[mlen] = '\0';
	if (ptlen != NULL)
		*ptlen = (size_t)mlen;
	rc = PB_OK;
out:
	return rc;
}

void
pb_crypto_blind_index(const unsigned char key[PB_CRYPTO_KEY_LEN],
    const void *data, size_t len, unsigned char out[PB_CRYPTO_INDEX_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, PB_CRYPTO_KEY_LEN);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

enum pb_err
pb_crypto_random_hex(size_t nbytes, char *out, size_t outlen)
{
	unsigned char rnd[64];

	if (out == NULL || nbytes == 0 || nbytes > sizeof(rnd) ||
	    outlen < 2 * nbytes + 1)
		return PB_ERR_INVAL;
	randombytes_buf(rnd, nbytes);
	sodium_bin2hex(out, outlen, rnd, nbytes);
	return PB_OK;
}

int
pb_crypto_str_eq(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}

enum pb_err
pb_crypto_open_alloc(const unsigned char key[PB_CRYPTO_KEY_LEN],
    const void *ct, size_t ctlen, size_t max_pt, char **out, size_t *ptlen)
{
	size_t cap;
	enum pb_err rc;

	*out = NULL;
	*ptlen = 0;
	if (ctlen < PB_CRYPTO_SEAL_OVERHEAD ||
	    ctlen > max_pt + PB_CRYPTO_SEAL_OVERHEAD)
		return PB_ERR_INVAL;
	cap = ctlen - PB_CRYPTO_SEAL_OVERHEAD + 1;
	*out = malloc(cap);
	if (*out == NULL)
		return PB_ERR_NOMEM;
	rc = pb_crypto_open(key, ct, ctlen, *out, cap, ptlen);
	if (rc != PB_OK) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
