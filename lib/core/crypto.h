/*
 * crypto.h - libsodium for passwords, personal data and random ids.
 *
 * Passwords: Argon2id (crypto_pwhash_str, at least libsodium's INTERACTIVE
 * limits).  A user id that does not exist is verified against a dummy hash
 * made with the same parameters, so the time of a login does not tell
 * whether the account exists.
 * Personal data: XChaCha20-Poly1305 with a 32-byte key, and an HMAC-SHA256
 * blind index with a second key so that equal values can be found without
 * decrypting.
 * A sealed value names its key: "PB" (0x50 0x42), the key's version
 * (1-255), then nonce || ciphertext || tag, the header authenticated as
 * associated data.  Values sealed before keys had
 * versions (nonce || ciphertext || tag, no header) are version 1.  The
 * process's key ring (pb_crypto_ring_set: the current key and at most one
 * previous one) opens what names either; a value names the version of the
 * key it was sealed with when that key is in the ring, else 1.
 * sodium_init() must have run (pb_app_init does it).
 */
#ifndef PB_CRYPTO_H
#define PB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PB_CRYPTO_KEY_LEN 32   /* bytes of an AEAD or index key */
#define PB_CRYPTO_HASH_MAX 128 /* bytes of a pwhash string, with NUL */
#define PB_CRYPTO_INDEX_LEN 32 /* bytes of a blind index */
#define PB_CRYPTO_SEAL_HDR 3   /* "PB" + key version, bytes */
#define PB_CRYPTO_SEAL_OVERHEAD                                                \
	(PB_CRYPTO_SEAL_HDR + 24 + 16) /* header +                             \
	      nonce + tag, bytes, as sealed now */
#define PB_CRYPTO_SEAL_MIN                                                     \
	(24 + 16) /* bytes of the shortest value that                          \
	        may open (unversioned, empty) */
#define PB_CRYPTO_KEY_VERSION_MAX 255
#define PB_CRYPTO_PASSWORD_MAX 128       /* bytes we ever hash */
#define PB_CRYPTO_SEAL_MAX (1024 * 1024) /* bytes of plaintext sealed */

/* Hash pw[0..len) into out (NUL-terminated, outlen >= PB_CRYPTO_HASH_MAX). */
enum pb_err pb_crypto_pwhash(const char *pw, size_t len, char *out,
                             size_t outlen);
/*
 * PB_OK when pw matches hash, PB_ERR_INVAL when it does not (or hash is
 * malformed).  With hash NULL the dummy hash is used and the answer is
 * always PB_ERR_INVAL, at the same cost.
 */
enum pb_err pb_crypto_pwverify(const char *hash, const char *pw, size_t len);
/* 1 when hash was made with weaker settings than pb_crypto_pwhash uses
 * now (or another algorithm): rehash the password at the next login. */
int pb_crypto_pwhash_outdated(const char *hash);
/* Make the dummy hash now (start-up), so the first unknown id is not faster
 * or slower than the others. */
enum pb_err pb_crypto_dummy_init(void);

/* Exactly 64 hex characters -> 32-byte key.  PB_ERR_CONFIG otherwise. */
enum pb_err pb_crypto_key_from_hex(const char *hex,
                                   unsigned char key[PB_CRYPTO_KEY_LEN]);

/*
 * The key ring: version (1-255) and key seal from now on; prev_key (NULL:
 * none) of prev_version (1-255, not version) still opens.  Keys are copied.
 * PB_ERR_CONFIG for a bad or repeated version.  Process-wide, like the
 * keys it holds: set at start-up (pb_app_init), before any thread runs.
 */
enum pb_err pb_crypto_ring_set(unsigned version,
                               const unsigned char key[PB_CRYPTO_KEY_LEN],
                               unsigned prev_version,
                               const unsigned char *prev_key);
/* Forget the ring (keys wiped). */
void pb_crypto_ring_clear(void);
/* The version the ring seals with; 1 when no ring is set. */
unsigned pb_crypto_ring_current(void);
/* The key version ct names (1 for an unversioned value); 0 when ct is too
 * short to be sealed at all.  Does not check that it opens. */
unsigned pb_crypto_sealed_version(const void *ct, size_t ctlen);

/*
 * Encrypt pt[0..ptlen) under key; *out (caller frees with free()) holds
 * ptlen + PB_CRYPTO_SEAL_OVERHEAD bytes, *outlen says how many.
 * PB_ERR_INVAL when pt is NULL or ptlen > PB_CRYPTO_SEAL_MAX.
 */
enum pb_err pb_crypto_seal(const unsigned char key[PB_CRYPTO_KEY_LEN],
                           const void *pt, size_t ptlen, unsigned char **out,
                           size_t *outlen);
/*
 * Decrypt what pb_crypto_seal made into out[0..outlen) NUL-terminated
 * (the plaintext must fit with its NUL: PB_ERR_TOOBIG otherwise; an
 * unversioned value needs ctlen - PB_CRYPTO_SEAL_MIN + 1 bytes).  The
 * ring's key of the version ct names opens it, else key.
 * PB_ERR_INVAL when the data was forged or no key fits.
 */
enum pb_err pb_crypto_open(const unsigned char key[PB_CRYPTO_KEY_LEN],
                           const void *ct, size_t ctlen, char *out,
                           size_t outlen, size_t *ptlen);

/*
 * pb_crypto_open into a buffer of its own: *out malloc'd (caller frees),
 * NUL-terminated; PB_ERR_INVAL also for ctlen outside
 * [PB_CRYPTO_SEAL_MIN, max_pt + PB_CRYPTO_SEAL_OVERHEAD].
 */
enum pb_err pb_crypto_open_alloc(const unsigned char key[PB_CRYPTO_KEY_LEN],
                                 const void *ct, size_t ctlen, size_t max_pt,
                                 char **out, size_t *ptlen);

/*
 * HMAC-SHA-256(key, data) -> out (32 bytes), for any key length.  The
 * state after the key (its two padded blocks: two SHA-256 compressions)
 * comes from a small per-thread cache of the last keys used, compared in
 * constant time; a request computes several HMACs with the same few keys
 * (the token's, the blind index's).
 */
void pb_crypto_hmac(const unsigned char *key, size_t keylen, const void *data,
                    size_t len, unsigned char out[32]);

/* HMAC-SHA256(key, data) -> out (PB_CRYPTO_INDEX_LEN bytes). */
void pb_crypto_blind_index(const unsigned char key[PB_CRYPTO_KEY_LEN],
                           const void *data, size_t len,
                           unsigned char out[PB_CRYPTO_INDEX_LEN]);

/* nbytes random bytes as lower-case hex into out (outlen >= 2*nbytes+1). */
enum pb_err pb_crypto_random_hex(size_t nbytes, char *out, size_t outlen);

/* Constant-time comparison of two NUL-terminated strings: 1 when equal. */
int pb_crypto_str_eq(const char *a, const char *b);

#endif
