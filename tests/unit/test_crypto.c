/* test_crypto.c - Argon2id, AEAD, blind index, random ids. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "tap.h"

/* A value as sealed before key versions: nonce || ciphertext || tag. */
static size_t
legacy_seal(const unsigned char *key, const char *pt, unsigned char *out)
{
	unsigned long long clen = 0;
	const size_t nlen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	randombytes_buf(out, nlen);
	/* a nonce that looks like a header must still open (crypto.c) */
	out[0] = 'P';
	out[1] = 'B';
	out[2] = 2;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + nlen, &clen, (const unsigned char *)pt, strlen(pt), NULL, 0,
	    NULL, out, key);
	return nlen + (size_t)clen;
}

/* hex of 32 bytes equals want */
static int
mac_is(const unsigned char mac[32], const char *want)
{
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), mac, 32);
	return strcmp(hex, want) == 0;
}

/* pb_crypto_hmac: RFC 4231's vectors, through the per-thread cache of key
   states (hit, miss, eviction by more keys than slots, a key too long to
   keep). */
static void
test_hmac(void)
{
	static const char jefe[] =
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	static const char big[] =
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
	static const char msg[] = "Test Using Larger Than Block-Size Key - "
	                          "Hash Key First";
	unsigned char k131[131], other[8][32], mac[32];
	int i, round, good = 1;

	memset(k131, 0xaa, sizeof(k131));
	for (i = 0; i < 8; i++)
		memset(other[i], 'a' + i, sizeof(other[i]));
	for (round = 0; round < 3; round++) {
		pb_crypto_hmac((const unsigned char *)"Jefe", 4,
		               "what do ya want for nothing?", 28, mac);
		good &= mac_is(mac, jefe);
		pb_crypto_hmac(k131, sizeof(k131), msg, strlen(msg), mac);
		good &= mac_is(mac, big);
		/* more keys than the cache holds: "Jefe" is evicted */
		for (i = 0; i < 8; i++)
			pb_crypto_hmac(other[i], sizeof(other[i]), "x", 1, mac);
	}
	ok(good, "HMAC-SHA-256: RFC 4231 cases 2 and 6, cached or not");
	pb_crypto_hmac((const unsigned char *)"Jefd", 4,
	               "what do ya want for nothing?", 28, mac);
	ok(!mac_is(mac, jefe), "HMAC: a key of the same length is not a hit");
}

/* Key versions: each value names its key; the ring opens old ones. */
static void
test_versions(void)
{
	unsigned char k1[PB_CRYPTO_KEY_LEN], k2[PB_CRYPTO_KEY_LEN];
	unsigned char old[128], *v1 = NULL, *v2 = NULL;
	size_t oldlen, v1len = 0, v2len = 0, n = 0;
	char out[64];

	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	oldlen = legacy_seal(k1, "01011112222", old);
	is_int(pb_crypto_sealed_version(old, oldlen), 2,
	       "an unversioned value whose nonce reads PB 2 looks like v2");
	is_int(pb_crypto_sealed_version(old, 10), 0, "too short: no version");
	is_int(pb_crypto_open(k1, old, oldlen, out, oldlen - 40 + 1, &n), PB_OK,
	       "unversioned value opens with the key (version 1)");
	is_str(out, "01011112222", "unversioned plaintext");
	is_int(pb_crypto_ring_current(), 1, "no ring: version 1");
	is_int(pb_crypto_seal(k1, "a", 1, &v1, &v1len), PB_OK, "seal v1");
	ok(v1 != NULL && v1[0] == 'P' && v1[1] == 'B' && v1[2] == 1,
	   "header PB 1");
	is_int(pb_crypto_ring_set(2, k2, 2, k1), PB_ERR_CONFIG,
	       "previous version equal to the current refused");
	is_int(pb_crypto_ring_set(0, k2, 0, NULL), PB_ERR_CONFIG,
	       "version 0 refused");
	is_int(pb_crypto_ring_set(2, k2, 1, k1), PB_OK, "ring v2 + v1");
	is_int(pb_crypto_ring_current(), 2, "ring current 2");
	is_int(pb_crypto_seal(k2, "01033334444", 11, &v2, &v2len), PB_OK,
	       "seal v2");
	is_int(pb_crypto_sealed_version(v2, v2len), 2, "names v2");
	is_int(pb_crypto_open(k2, v1, v1len, out, sizeof(out), &n), PB_OK,
	       "v1 value opens with the current key v2 given (ring)");
	is_int(pb_crypto_open(k2, old, oldlen, out, sizeof(out), &n), PB_OK,
	       "unversioned value opens through the ring's v1");
	is_str(out, "01011112222", "unversioned plaintext via the ring");
	is_int(pb_crypto_open(k2, v2, v2len, out, sizeof(out), &n), PB_OK,
	       "v2 opens");
	is_str(out, "01033334444", "v2 plaintext");
	v2[2] = 1;
	is_int(pb_crypto_open(k2, v2, v2len, out, sizeof(out), &n),
	       PB_ERR_INVAL, "a v2 value relabelled v1 is refused");
	v2[2] = 2;
	is_int(pb_crypto_ring_set(2, k2, 0, NULL), PB_OK, "v1 removed");
	is_int(pb_crypto_open(k2, v1, v1len, out, sizeof(out), &n),
	       PB_ERR_INVAL, "v1 value refused once v1 is gone");
	is_int(pb_crypto_open(k2, old, oldlen, out, sizeof(out), &n),
	       PB_ERR_INVAL, "unversioned value refused once v1 is gone");
	is_int(pb_crypto_open(k2, v2, v2len, out, sizeof(out), &n), PB_OK,
	       "v2 still opens");
	pb_crypto_ring_clear();
	is_int(pb_crypto_ring_current(), 1, "ring cleared");
	free(v1);
	free(v2);
}

int
main(void)
{
	char hash[PB_CRYPTO_HASH_MAX], out[64], hex[65];
	unsigned char key[PB_CRYPTO_KEY_LEN], key2[PB_CRYPTO_KEY_LEN];
	unsigned char ia[PB_CRYPTO_INDEX_LEN], ib[PB_CRYPTO_INDEX_LEN];
	unsigned char *ct = NULL, *ct2 = NULL;
	size_t ctlen = 0, ct2len = 0, n = 0;

	if (sodium_init() < 0)
		return tap_skip_all("sodium_init failed");
	is_int(pb_crypto_pwhash("Phonebill!1", 11, hash, sizeof(hash)), PB_OK,
	       "hash");
	ok(strncmp(hash, "$argon2id$", 10) == 0, "Argon2id");
	is_int(pb_crypto_pwverify(hash, "Phonebill!1", 11), PB_OK, "verify");
	is_int(pb_crypto_pwverify(hash, "Phonebill!2", 11), PB_ERR_INVAL,
	       "wrong password");
	is_int(pb_crypto_pwverify(NULL, "Phonebill!1", 11), PB_ERR_INVAL,
	       "dummy hash never matches");
	is_int(pb_crypto_pwverify("garbage", "x", 1), PB_ERR_INVAL,
	       "malformed hash");
	is_int(pb_crypto_pwhash("x", 1, hash, 10), PB_ERR_INVAL, "short out");

	is_int(pb_crypto_key_from_hex("00112233445566778899aabbccddeeff"
	                              "00112233445566778899aabbccddeeff",
	                              key),
	       PB_OK, "hex key");
	is_int(pb_crypto_key_from_hex("0011", key2), PB_ERR_CONFIG,
	       "short key");
	is_int(pb_crypto_key_from_hex("zz112233445566778899aabbccddeeff"
	                              "00112233445566778899aabbccddeeff",
	                              key2),
	       PB_ERR_CONFIG, "non-hex key");
	is_int(pb_crypto_seal(key, "01012345678", 11, &ct, &ctlen), PB_OK,
	       "seal");
	is_int((long long)ctlen, 11 + PB_CRYPTO_SEAL_OVERHEAD, "sealed size");
	is_int(pb_crypto_seal(key, "01012345678", 11, &ct2, &ct2len), PB_OK,
	       "seal again");
	ok(memcmp(ct, ct2, ctlen) != 0, "random nonce: different ciphertexts");
	is_int(pb_crypto_open(key, ct, ctlen, out, sizeof(out), &n), PB_OK,
	       "open");
	is_str(out, "01012345678", "round trip");
	is_int(pb_crypto_open(key, ct, ctlen, out, 8, &n), PB_ERR_TOOBIG,
	       "small out");
	ct[ctlen - 1] ^= 1;
	is_int(pb_crypto_open(key, ct, ctlen, out, sizeof(out), &n),
	       PB_ERR_INVAL, "tampered ciphertext refused");
	memset(key2, 7, sizeof(key2));
	is_int(pb_crypto_open(key2, ct2, ct2len, out, sizeof(out), &n),
	       PB_ERR_INVAL, "wrong key refused");
	is_int(pb_crypto_open(key, ct2, 10, out, sizeof(out), &n), PB_ERR_INVAL,
	       "truncated refused");
	{
		unsigned char *big = calloc(1, PB_CRYPTO_SEAL_MAX + 1), *bct;
		size_t bctlen;

		ok(big != NULL &&
		       pb_crypto_seal(key, big, PB_CRYPTO_SEAL_MAX, &bct,
		                      &bctlen) == PB_OK &&
		       bctlen == PB_CRYPTO_SEAL_MAX + PB_CRYPTO_SEAL_OVERHEAD,
		   "seal up to PB_CRYPTO_SEAL_MAX");
		if (big != NULL && bct != NULL)
			free(bct);
		is_int(big != NULL
		           ? pb_crypto_seal(key, big, PB_CRYPTO_SEAL_MAX + 1,
		                            &bct, &bctlen)
		           : PB_ERR_NOMEM,
		       PB_ERR_INVAL, "over PB_CRYPTO_SEAL_MAX refused");
		free(big);
	}
	pb_crypto_blind_index(key, "01012345678", 11, ia);
	pb_crypto_blind_index(key, "01012345678", 11, ib);
	ok(memcmp(ia, ib, sizeof(ia)) == 0, "blind index deterministic");
	pb_crypto_blind_index(key2, "01012345678", 11, ib);
	ok(memcmp(ia, ib, sizeof(ia)) != 0, "blind index keyed");
	is_int(pb_crypto_random_hex(16, hex, sizeof(hex)), PB_OK, "random hex");
	is_int((long long)strlen(hex), 32, "32 hex chars");
	is_int(pb_crypto_random_hex(16, hex, 32), PB_ERR_INVAL, "no room");
	ok(pb_crypto_str_eq("abc", "abc") && !pb_crypto_str_eq("abc", "abd") &&
	       !pb_crypto_str_eq("abc", "ab") && !pb_crypto_str_eq(NULL, "a"),
	   "str_eq");
	free(ct);
	free(ct2);
	test_versions();
	test_hmac();
	return tap_done();
}
