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
	if (pb_crypto_pwhash(pw, strlen(pw), dummy_hash, sizeof(dummy_hash)) !=
	    PB_OK)
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
	return crypto_pwhash_str_needs_rehash(
	           hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	           crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

enum pb_err
pb_crypto_key_from_hex(const char *hex, unsigned char key[PB_CRYPTO_KEY_LEN])
{
	size_t n = 0;

	if (hex == NULL || strlen(hex) != 2 * PB_CRYPTO_KEY_LEN ||
	    sodium_hex2bin(key, PB_CRYPTO_KEY_LEN, hex, strlen(hex), NULL, &n,
	                   NULL) != 0 ||
	    n != PB_CRYPTO_KEY_LEN) {
		sodium_memzero(key, PB_CRYPTO_KEY_LEN);
		return PB_ERR_CONFIG;
	}
	return PB_OK;
}

/* The key ring (crypto.h): slot 0 seals, slot 1 (if used) only opens. */
static struct {
	unsigned version[2]; /* 0: slot unused */
	unsigned char key[2][PB_CRYPTO_KEY_LEN];
} ring;

enum pb_err
pb_crypto_ring_set(unsigned version, const unsigned char key[PB_CRYPTO_KEY_LEN],
                   unsigned prev_version, const unsigned char *prev_key)
{
	if (key == NULL || version < 1 || version > PB_CRYPTO_KEY_VERSION_MAX ||
	    (prev_key != NULL &&
	     (prev_version < 1 || prev_version > PB_CRYPTO_KEY_VERSION_MAX ||
	      prev_version == version)))
		return PB_ERR_CONFIG;
	pb_crypto_ring_clear();
	ring.version[0] = version;
	memcpy(ring.key[0], key, PB_CRYPTO_KEY_LEN);
	if (prev_key != NULL) {
		ring.version[1] = prev_version;
		memcpy(ring.key[1], prev_key, PB_CRYPTO_KEY_LEN);
	}
	return PB_OK;
}

void
pb_crypto_ring_clear(void)
{
	sodium_memzero(&ring, sizeof(ring));
}

unsigned
pb_crypto_ring_current(void)
{
	return ring.version[0] != 0 ? ring.version[0] : 1;
}

/* The ring's key of version v, or NULL. */
static const unsigned char *
ring_key(unsigned v)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (v != 0 && ring.version[i] == v)
			return ring.key[i];
	return NULL;
}

/* The version a value sealed with key names: its ring version, else 1. */
static unsigned
ring_version_of(const unsigned char *key)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (ring.version[i] != 0 &&
		    sodium_memcmp(ring.key[i], key, PB_CRYPTO_KEY_LEN) == 0)
			return ring.version[i];
	return 1;
}

/* 1 when ct starts with a version header (it may still be an unversioned
 * value whose nonce happens to start so: pb_crypto_open tries both). */
static int
has_header(const unsigned char *c, size_t ctlen)
{
	return ctlen >= PB_CRYPTO_SEAL_OVERHEAD && c[0] == 'P' && c[1] == 'B' &&
	       c[2] != 0;
}

unsigned
pb_crypto_sealed_version(const void *ct, size_t ctlen)
{
	const unsigned char *c = ct;

	if (c == NULL || ctlen < PB_CRYPTO_SEAL_MIN)
		return 0;
	return has_header(c, ctlen) ? c[2] : 1;
}

enum pb_err
pb_crypto_seal(const unsigned char key[PB_CRYPTO_KEY_LEN], const void *pt,
               size_t ptlen, unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL, *nonce;
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
	buf[0] = 'P';
	buf[1] = 'B';
	buf[2] = (unsigned char)ring_version_of(key);
	nonce = buf + PB_CRYPTO_SEAL_HDR;
	randombytes_buf(nonce, nlen);
	/* the header is authenticated too: a relabelled value does not open */
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(
	        nonce + nlen, &clen, pt, ptlen, buf, PB_CRYPTO_SEAL_HDR, NULL,
	        nonce, key) != 0) {
		rc = PB_ERR_INTERNAL;
		goto out;
	}
	*out = buf;
	*outlen = PB_CRYPTO_SEAL_HDR + nlen + (size_t)clen;
	buf = NULL;
	rc = PB_OK;
out:
	free(buf);
	return rc;
}

/* Open nonce || ciphertext || tag (body[0..blen)) with k into out; ad:
 * the header (NULL for an unversioned value). */
static enum pb_err
open_body(const unsigned char *k, const unsigned char *ad,
          const unsigned char *body, size_t blen, char *out, size_t outlen,
          size_t *ptlen)
{
	const size_t nlen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	unsigned long long mlen = 0;

	if (blen < PB_CRYPTO_SEAL_MIN)
		return PB_ERR_INVAL;
	if (blen - PB_CRYPTO_SEAL_MIN + 1 > outlen)
		return PB_ERR_TOOBIG;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	        (unsigned char *)out, &mlen, NULL, body + nlen, blen - nlen, ad,
	        ad != NULL ? PB_CRYPTO_SEAL_HDR : 0, body, k) != 0) {
		sodium_memzero(out, outlen);
		out[0] = '\0';
		return PB_ERR_INVAL;
	}
	out[mlen] = '\0';
	*ptlen = (size_t)mlen;
	return PB_OK;
}

/* open_body with the ring's key of version v, then (if another) key. */
static enum pb_err
open_version(unsigned v, const unsigned char *key, const unsigned char *ad,
             const unsigned char *body, size_t blen, char *out, size_t outlen,
             size_t *ptlen)
{
	const unsigned char *k = ring_key(v);
	enum pb_err rc = PB_ERR_INVAL;

	if (k != NULL)
		rc = open_body(k, ad, body, blen, out, outlen, ptlen);
	if (rc == PB_ERR_INVAL &&
	    (k == NULL || sodium_memcmp(k, key, PB_CRYPTO_KEY_LEN) != 0))
		rc = open_body(key, ad, body, blen, out, outlen, ptlen);
	return rc;
}

enum pb_err
pb_crypto_open(const unsigned char key[PB_CRYPTO_KEY_LEN], const void *ct,
               size_t ctlen, char *out, size_t outlen, size_t *ptlen)
{
	const unsigned char *c = ct;
	size_t n = 0;
	enum pb_err rc = PB_ERR_INVAL, rc2;
	int hdr;

	if (ptlen != NULL)
		*ptlen = 0;
	if (out == NULL || outlen == 0)
		return PB_ERR_INVAL;
	out[0] = '\0';
	if (c == NULL)
		goto out;
	hdr = has_header(c, ctlen);
	if (hdr) {
		rc = open_version(c[2], key, c, c + PB_CRYPTO_SEAL_HDR,
		                  ctlen - PB_CRYPTO_SEAL_HDR, out, outlen, &n);
		if (rc == PB_OK)
			goto out;
	}
	/* unversioned (from before versions): version 1 */
	rc2 = open_version(1, key, NULL, c, ctlen, out, outlen, &n);
	/* a header's answer stands unless the unversioned reading opens */
	if (rc2 == PB_OK || !hdr)
		rc = rc2;
out:
	if (rc == PB_OK && ptlen != NULL)
		*ptlen = n;
	return rc;
}

#define HMAC_SLOTS 4     /* keys whose state a thread keeps */
#define HMAC_KEY_MAX 128 /* bytes of a key kept; longer: not cached */

struct hmac_slot {
	size_t len; /* 0: empty */
	unsigned char key[HMAC_KEY_MAX];
	crypto_auth_hmacsha256_state st; /* after the key */
};

/* per thread: the worker's threads compute HMACs at the same time */
static __thread struct hmac_slot hmac_slots[HMAC_SLOTS];
static __thread unsigned hmac_next;

/* *st = the HMAC state after key, from the cache or made (and kept). */
static void
hmac_start(crypto_auth_hmacsha256_state *st, const unsigned char *key,
           size_t keylen)
{
	struct hmac_slot *slot;
	unsigned i;

	for (i = 0; i < HMAC_SLOTS; i++) {
		slot = &hmac_slots[i];
		if (slot->len == keylen && keylen > 0 &&
		    sodium_memcmp(slot->key, key, keylen) == 0) {
			*st = slot->st;
			return;
		}
	}
	crypto_auth_hmacsha256_init(st, key, keylen);
	if (keylen == 0 || keylen > HMAC_KEY_MAX)
		return;
	slot = &hmac_slots[hmac_next++ % HMAC_SLOTS];
	memcpy(slot->key, key, keylen);
	slot->len = keylen;
	slot->st = *st;
}

void
pb_crypto_hmac(const unsigned char *key, size_t keylen, const void *data,
               size_t len, unsigned char out[32])
{
	crypto_auth_hmacsha256_state st;

	hmac_start(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void
pb_crypto_blind_index(const unsigned char key[PB_CRYPTO_KEY_LEN],
                      const void *data, size_t len,
                      unsigned char out[PB_CRYPTO_INDEX_LEN])
{
	pb_crypto_hmac(key, PB_CRYPTO_KEY_LEN, data, len, out);
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
pb_crypto_open_alloc(const unsigned char key[PB_CRYPTO_KEY_LEN], const void *ct,
                     size_t ctlen, size_t max_pt, char **out, size_t *ptlen)
{
	size_t cap;
	enum pb_err rc;

	*out = NULL;
	*ptlen = 0;
	if (ctlen < PB_CRYPTO_SEAL_MIN ||
	    ctlen > max_pt + PB_CRYPTO_SEAL_OVERHEAD)
		return PB_ERR_INVAL;
	/* room for an unversioned value's plaintext, the longer reading */
	cap = ctlen - PB_CRYPTO_SEAL_MIN + 1;
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
