/* Spine crypto: the bech32m checksum against the BIP-350 test vectors (valid ones accepted,
 * invalid ones - including a bech32 (not bech32m) string and mixed case - refused); address
 * text round trip, a one-character typo giving LB_ECHECKSUM and garbage LB_EMALFORMED; the
 * keystore round trip and its refusals (wrong passphrase, edited public key, existing name);
 * other secrets in the keystore (the ABE master key) and moving a clear copy in. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <jansson.h>

#include "leben/abe.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"

static void test_bech32m_vectors(void **state)
{
	(void)state;
	/* BIP-350 "valid bech32m" vectors */
	static const char *valid[] = {
		"A1LQFN3A",
		"a1lqfn3a",
		"an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
		"abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
		"11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
		"split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
		"?1v759aa",
	};
	/* BIP-350 "invalid bech32m" vectors, plus the bech32 vector A1G7SGD8 and mixed case */
	static const char *invalid[] = {
		"A1G7SGD8",       /* valid bech32, wrong constant for bech32m */
		"a1lqfn3A",       /* mixed case */
		"A1lqfn3a",       /* mixed case */
		"\x20" "1xj0phk", /* hrp character out of range */
		"\x7f" "1g6xzxy", /* hrp character out of range */
		"qyrz8wqd2c9m",   /* no separator */
		"1qyrz8wqd2c9m",  /* empty hrp */
		"y1b0jsk6g",      /* invalid data character */
		"lt1igcx5c0",     /* invalid data character */
		"in1muywd",       /* too short checksum */
		"mm1crxm3i",      /* invalid character in checksum */
		"au1s5cgom",      /* invalid character in checksum */
		"M1VUXWEZ",       /* checksum computed with uppercase hrp */
		"16plkw9",        /* empty hrp */
		"1p2gdwpf",       /* empty hrp */
		"abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryy", /* last character changed */
		"",
	};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		if (!lb_bech32m_is_valid(valid[i]))
			fail_msg("valid vector refused: %s", valid[i]);
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
		if (lb_bech32m_is_valid(invalid[i]))
			fail_msg("invalid vector accepted: '%s'", invalid[i]);
}

static void test_addr(void **state)
{
	(void)state;
	struct lb_keypair kp;
	uint8_t seed[LB_SEED_LEN], a[LB_ADDR_LEN], b[LB_ADDR_LEN], h[LB_HASH_LEN];
	char t[LB_ADDR_TEXT_LEN + 1], u[LB_ADDR_TEXT_LEN + 1];
	struct lb_errmsg em;
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

	assert_lb_ok(lb_crypto_init());
	for (int k = 0; k < 20; k++) {
		memset(seed, k, sizeof seed);
		lb_keypair_from_seed(&kp, seed);
		lb_addr_from_pubkey(a, kp.pk);
		/* the address is the first 20 bytes of the domain-separated key hash */
		lb_hash_domain(h, "LEBEN-addr-v1", kp.pk, LB_PUBKEY_LEN);
		assert_memory_equal(a, h, LB_ADDR_LEN);
		lb_addr_encode(t, a);
		assert_int_equal(strlen(t), LB_ADDR_TEXT_LEN);
		assert_memory_equal(t, "lb1", 3);
		assert_true(lb_bech32m_is_valid(t));
		assert_lb_ok(lb_addr_decode(b, t, &em));
		assert_memory_equal(a, b, LB_ADDR_LEN);
		/* upper case is the same address */
		for (int i = 0; i <= LB_ADDR_TEXT_LEN; i++)
			u[i] = (t[i] >= 'a' && t[i] <= 'z') ? (char)(t[i] - 32) : t[i];
		assert_lb_ok(lb_addr_decode(b, u, &em));
		assert_memory_equal(a, b, LB_ADDR_LEN);
		/* any one changed data/checksum character is caught */
		for (int pos = 3; pos < LB_ADDR_TEXT_LEN; pos += 5) {
			memcpy(u, t, sizeof u);
			const char *c = strchr(cs, t[pos]);
			u[pos] = cs[(c - cs + 1 + k) % 32];
			assert_int_equal(lb_addr_decode(b, u, &em), LB_ECHECKSUM);
			assert_true(em.text[0] != 0);
		}
		lb_keypair_wipe(&kp);
	}
	/* garbage */
	assert_int_equal(lb_addr_decode(b, "", &em), LB_EMALFORMED);
	assert_int_equal(lb_addr_decode(b, "hello", &em), LB_EMALFORMED);
	memcpy(u, t, sizeof u);
	u[10] = 'b'; /* not in the bech32 alphabet */
	assert_int_equal(lb_addr_decode(b, u, &em), LB_EMALFORMED);
	memcpy(u, t, sizeof u);
	u[0] = 'x';
	assert_int_equal(lb_addr_decode(b, u, &em), LB_EMALFORMED);
	memcpy(u, t, sizeof u);
	u[40] = 0; /* one short */
	assert_int_equal(lb_addr_decode(b, u, &em), LB_EMALFORMED);
	memcpy(u, t, sizeof u);
	u[5] = (char)(u[5] == 'q' ? 'Q' : 'Q'); /* mixed case */
	assert_true(lb_addr_decode(b, u, &em) != LB_OK);
}

static void test_keystore(void **state)
{
	(void)state;
	char dir[] = "/tmp/lb-test-ks-XXXXXX", path[256], cmd[300];
	struct lb_keypair kp, back;
	uint8_t pk[LB_PUBKEY_LEN];
	struct lb_errmsg em;

	assert_lb_ok(lb_crypto_init());
	assert_non_null(mkdtemp(dir));
	lb_keypair_generate(&kp);
	assert_lb_ok(lb_keystore_save(dir, "clinic-1", &kp, "correct horse", &em));
	assert_lb_ok(lb_keystore_load(dir, "clinic-1", "correct horse", &back, &em));
	assert_memory_equal(back.pk, kp.pk, LB_PUBKEY_LEN);
	assert_memory_equal(back.sk, kp.sk, LB_SECKEY_LEN);
	assert_lb_ok(lb_keystore_public(dir, "clinic-1", pk, &em));
	assert_memory_equal(pk, kp.pk, LB_PUBKEY_LEN);
	assert_int_equal(lb_keystore_load(dir, "clinic-1", "wrong", &back, &em), LB_EPASSPHRASE);
	assert_int_equal(lb_keystore_load(dir, "nobody", "x", &back, &em), LB_ENOTFOUND);
	assert_int_equal(lb_keystore_save(dir, "clinic-1", &kp, "other", &em), LB_EEXISTS);
	/* the original is untouched by the refused overwrite */
	assert_lb_ok(lb_keystore_load(dir, "clinic-1", "correct horse", &back, &em));
	assert_memory_equal(back.pk, kp.pk, LB_PUBKEY_LEN);

	/* replace public_key with another valid key: the right passphrase must not load it */
	struct lb_keypair other;
	char hex[2 * LB_PUBKEY_LEN + 1];
	json_error_t jerr;
	lb_keypair_generate(&other);
	lb_hex_encode(hex, other.pk, LB_PUBKEY_LEN);
	snprintf(path, sizeof path, "%s/clinic-1.key", dir);
	json_t *o = json_load_file(path, 0, &jerr);
	assert_non_null(o);
	assert_non_null(json_object_get(o, "public_key"));
	assert_int_equal(json_object_set_new(o, "public_key", json_string(hex)), 0);
	assert_int_equal(json_dump_file(o, path, 0), 0);
	json_decref(o);
	int rc = lb_keystore_load(dir, "clinic-1", "correct horse", &back, &em);
	assert_true(rc == LB_EPASSPHRASE || rc == LB_ECORRUPT);

	lb_keypair_wipe(&kp);
	lb_keypair_wipe(&back);
	lb_keypair_wipe(&other);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Other secrets in the keystore (an ABE master key): round trip, not readable without the
 * passphrase or by another kind/name, tampering refused, a clear copy moved in and wiped. */
static void test_keystore_secret(void **state)
{
	(void)state;
	char dir[] = "/tmp/lb-test-kss-XXXXXX", path[256], plain[256], cmd[300];
	struct lb_errmsg em;
	uint8_t secret[71], *back = NULL, *text = NULL;
	size_t n = 0, tn = 0;
	assert_lb_ok(lb_crypto_init());
	assert_non_null(mkdtemp(dir));
	randombytes_buf(secret, sizeof secret);
	assert_lb_ok(lb_keystore_secret_save(dir, "node", "abemsk", secret, sizeof secret,
					     "correct horse", &em));
	assert_lb_ok(lb_keystore_secret_load(dir, "node", "abemsk", "correct horse", &back, &n,
					     &em));
	assert_int_equal(n, sizeof secret);
	assert_memory_equal(back, secret, n);
	lb_free(back);
	/* the file holds neither the secret nor its hex; the wrong passphrase opens nothing */
	snprintf(path, sizeof path, "%s/node.abemsk", dir);
	assert_lb_ok(lb_file_read(path, 1 << 16, &text, &tn, &em));
	char hex[2 * sizeof secret + 1];
	lb_hex_encode(hex, secret, sizeof secret);
	for (size_t i = 0; i + 32 <= tn; i++) {
		assert_false(i + 16 <= tn && !memcmp(text + i, secret, 16));
		assert_false(!memcmp(text + i, hex, 32));
	}
	lb_free(text);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	back = (uint8_t *)"x";
	assert_int_equal(lb_keystore_secret_load(dir, "node", "abemsk", "wrong", &back, &n, &em),
			 LB_EPASSPHRASE);
	assert_null(back);
	assert_non_null(strstr(em.text, "wrong passphrase"));
	/* another name or kind for the same bytes does not open (bound as associated data) */
	snprintf(cmd, sizeof cmd, "cp %s/node.abemsk %s/other.abemsk", dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(lb_keystore_secret_load(dir, "other", "abemsk", "correct horse", &back,
						 &n, &em),
			 LB_EPASSPHRASE);
	assert_int_equal(lb_keystore_secret_load(dir, "nobody", "abemsk", "x", &back, &n, &em),
			 LB_ENOTFOUND);
	assert_int_equal(lb_keystore_secret_load(dir, "node", "key", "x", &back, &n, &em),
			 LB_EINVALID);
	assert_int_equal(lb_keystore_secret_save(dir, "node", "abemsk", secret, sizeof secret,
						 "other", &em),
			 LB_EEXISTS);
	/* a flipped ciphertext digit: refused */
	json_error_t jerr;
	json_t *o = json_load_file(path, 0, &jerr);
	assert_non_null(o);
	char *ct = lb_strdup(json_string_value(json_object_get(json_object_get(o, "cipher"),
								"ciphertext")));
	ct[10] = ct[10] == '0' ? '1' : '0';
	json_object_set_new(json_object_get(o, "cipher"), "ciphertext", json_string(ct));
	lb_free(ct);
	snprintf(path, sizeof path, "%s/bad.abemsk", dir);
	json_object_set_new(o, "name", json_string("bad"));
	assert_int_equal(json_dump_file(o, path, 0), 0);
	json_decref(o);
	assert_int_equal(lb_keystore_secret_load(dir, "bad", "abemsk", "correct horse", &back, &n,
						 &em),
			 LB_EPASSPHRASE);
	/* migration: a clear copy moves in and is wiped; a different secret already there is
	 * refused and the clear copy stays */
	snprintf(plain, sizeof plain, "%s/clear.msk", dir);
	assert_lb_ok(lb_file_write(plain, secret, sizeof secret, 0600, &em));
	assert_lb_ok(lb_keystore_secret_migrate(plain, dir, "inst", "abemsk", "pw", &em));
	assert_int_equal(stat(plain, &st), -1);
	assert_lb_ok(lb_keystore_secret_load(dir, "inst", "abemsk", "pw", &back, &n, &em));
	assert_memory_equal(back, secret, sizeof secret);
	lb_free(back);
	assert_int_equal(lb_keystore_secret_migrate(plain, dir, "inst", "abemsk", "pw", &em),
			 LB_ENOTFOUND);
	assert_lb_ok(lb_file_write(plain, secret, sizeof secret, 0600, &em));
	assert_lb_ok(lb_keystore_secret_migrate(plain, dir, "inst", "abemsk", "pw", &em));
	assert_int_equal(stat(plain, &st), -1); /* same secret: only the wipe */
	secret[0] ^= 1;
	assert_lb_ok(lb_file_write(plain, secret, sizeof secret, 0600, &em));
	assert_int_equal(lb_keystore_secret_migrate(plain, dir, "inst", "abemsk", "pw", &em),
			 LB_EEXISTS);
	assert_int_equal(stat(plain, &st), 0);
	/* replace writes over (a user's ABE key issued again); a secret of an ABE key of 1024
	 * attributes fits, one byte over the limit is refused */
	size_t big = LB_KEYSTORE_SECRET_MAX;
	uint8_t *large = lb_malloc(big + 1);
	randombytes_buf(large, big + 1);
	assert_lb_ok(lb_keystore_secret_replace(dir, "inst", "abemsk", large, big, "pw", &em));
	assert_lb_ok(lb_keystore_secret_load(dir, "inst", "abemsk", "pw", &back, &n, &em));
	assert_int_equal(n, big);
	assert_memory_equal(back, large, big);
	lb_free(back);
	assert_int_equal(lb_keystore_secret_replace(dir, "inst", "abemsk", large, big + 1, "pw",
						    &em),
			 LB_EINVALID);
	assert_int_equal(lb_keystore_secret_replace(dir, "inst", "key", large, 8, "pw", &em),
			 LB_EINVALID);
	assert_true(LB_KEYSTORE_SECRET_MAX >= 1024 * (1 + LB_ABE_MAX_ATTR + 48) + 219);
	lb_free(large);
	sodium_memzero(secret, sizeof secret);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Passphrase change (lb_keystore_rekey) of a key and a secret: a wrong old passphrase changes
 * no byte; check_only writes nothing; after the change the new passphrase opens the same key
 * and secret bytes and the old one does not; a second change says LB_EEXISTS (already). */
static void test_keystore_rekey(void **state)
{
	(void)state;
	char dir[] = "/tmp/lb-test-ksr-XXXXXX", kpath[256], spath[256], cmd[300];
	struct lb_errmsg em;
	struct lb_keypair kp, back;
	uint8_t secret[40], *sb = NULL, *k0 = NULL, *s0 = NULL, *k1 = NULL, *s1 = NULL;
	size_t n = 0, k0n, s0n, k1n, s1n;
	assert_lb_ok(lb_crypto_init());
	assert_non_null(mkdtemp(dir));
	lb_keypair_generate(&kp);
	randombytes_buf(secret, sizeof secret);
	assert_lb_ok(lb_keystore_save(dir, "inst", &kp, "old pw", &em));
	assert_lb_ok(lb_keystore_secret_save(dir, "inst", "abemsk", secret, sizeof secret,
					     "old pw", &em));
	snprintf(kpath, sizeof kpath, "%s/inst.key", dir);
	snprintf(spath, sizeof spath, "%s/inst.abemsk", dir);
	assert_lb_ok(lb_file_read(kpath, 1 << 16, &k0, &k0n, &em));
	assert_lb_ok(lb_file_read(spath, 1 << 16, &s0, &s0n, &em));
	/* a wrong old passphrase, and a check: nothing written */
	assert_int_equal(lb_keystore_rekey(dir, "inst", NULL, "bad", "new pw", false, &em),
			 LB_EPASSPHRASE);
	assert_int_equal(lb_keystore_rekey(dir, "inst", "abemsk", "bad", "new pw", false, &em),
			 LB_EPASSPHRASE);
	assert_lb_ok(lb_keystore_rekey(dir, "inst", NULL, "old pw", "new pw", true, &em));
	assert_lb_ok(lb_keystore_rekey(dir, "inst", "abemsk", "old pw", "new pw", true, &em));
	assert_int_equal(lb_keystore_rekey(dir, "nobody", NULL, "old pw", "new pw", true, &em),
			 LB_ENOTFOUND);
	assert_lb_ok(lb_file_read(kpath, 1 << 16, &k1, &k1n, &em));
	assert_lb_ok(lb_file_read(spath, 1 << 16, &s1, &s1n, &em));
	assert_true(k0n == k1n && !memcmp(k0, k1, k0n) && s0n == s1n && !memcmp(s0, s1, s0n));
	lb_free(k1);
	lb_free(s1);
	/* the change */
	assert_lb_ok(lb_keystore_rekey(dir, "inst", NULL, "old pw", "new pw", false, &em));
	assert_lb_ok(lb_keystore_rekey(dir, "inst", "abemsk", "old pw", "new pw", false, &em));
	assert_lb_ok(lb_keystore_load(dir, "inst", "new pw", &back, &em));
	assert_memory_equal(back.sk, kp.sk, LB_SECKEY_LEN);
	assert_int_equal(lb_keystore_load(dir, "inst", "old pw", &back, &em), LB_EPASSPHRASE);
	assert_lb_ok(lb_keystore_secret_load(dir, "inst", "abemsk", "new pw", &sb, &n, &em));
	assert_true(n == sizeof secret && !memcmp(sb, secret, n));
	lb_free(sb);
	assert_int_equal(lb_keystore_secret_load(dir, "inst", "abemsk", "old pw", &sb, &n, &em),
			 LB_EPASSPHRASE);
	assert_lb_ok(lb_file_read(spath, 1 << 16, &s1, &s1n, &em));
	assert_false(s0n == s1n && !memcmp(s0, s1, s0n)); /* sealed again (new salt, nonce) */
	lb_free(s1);
	struct stat st;
	assert_int_equal(stat(spath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* already under the new passphrase */
	assert_int_equal(lb_keystore_rekey(dir, "inst", NULL, "old pw", "new pw", false, &em),
			 LB_EEXISTS);
	assert_int_equal(lb_keystore_rekey(dir, "inst", "abemsk", "old pw", "new pw", false, &em),
			 LB_EEXISTS);
	lb_free(k0);
	lb_free(s0);
	lb_keypair_wipe(&kp);
	lb_keypair_wipe(&back);
	sodium_memzero(secret, sizeof secret);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keystore_rekey),
		cmocka_unit_test(test_bech32m_vectors),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_keystore),
		cmocka_unit_test(test_keystore_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
