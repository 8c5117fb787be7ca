/* test_crypto.c - Argon2id, AEAD, blind index, random ids. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "tap.h"

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
	    "00112233445566778899aabbccddeeff", key), PB_OK, "hex key");
	is_int(pb_crypto_key_from_hex("0011", key2), PB_ERR_CONFIG, "short key");
	is_int(pb_crypto_key_from_hex("zz112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff", key2), PB_ERR_CONFIG,
	    "non-hex key");
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
	is_int(pb_crypto_open(key, ct2, 10, out, sizeof(out), &n),
	    PB_ERR_INVAL, "truncated refused");
	{
		unsigned char *big = calloc(1, PB_CRYPTO_SEAL_MAX + 1), *bct;
		size_t bctlen;

		ok(big != NULL && pb_crypto_seal(key, big, PB_CRYPTO_SEAL_MAX,
		    &bct, &bctlen) == PB_OK &&
		    bctlen == PB_CRYPTO_SEAL_MAX + PB_CRYPTO_SEAL_OVERHEAD,
		    "seal up to PB_CRYPTO_SEAL_MAX");
		if (big != NULL && bct != NULL)
			free(bct);
		is_int(big != NULL ? pb_crypto_seal(key, big,
		    PB_CRYPTO_SEAL_MAX + 1, &bct, &bctlen) : PB_ERR_NOMEM,
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
	return tap_done();
}
