/* Unit tests for Ed25519 batch verification: its answer must equal libsodium's single
 * verification (lb_sig_is_valid) on every signature: the "Taming the many EdDSAs" edge cases
 * (tests/vectors/ed25519-speccheck/) alone and mixed into batches of valid signatures;
 * crafted torsion cases (mixed-order A and R that libsodium accepts or refuses, where a
 * cofactorless batch equation alone would accept with probability 1/2); and a differential
 * run over random valid and malformed signatures (bit flips in R, S, A and the message,
 * S + L, small-order and non-canonical points, torsion added to A or R).
 * ED25519_BATCH_SIGS sets the number of signatures of the differential run (default 150,000;
 * 20,000 in the sanitizer build). */
#include "test.h"

#include <sodium.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "ed25519_torsion.h"

#ifndef VECTORS_DIR
#define VECTORS_DIR "tests/vectors"
#endif

/* The identity, the seven points of order 2, 4 and 8 (canonical), then non-canonical
 * encodings of small-order points (y >= p, or x = 0 with the sign bit set). */
static const char *small_order_hex[] = {
	"0100000000000000000000000000000000000000000000000000000000000000",
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, /* ed25519_torsion_hex */
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};
#define N_TORSION 8
#define N_SMALL (sizeof small_order_hex / sizeof small_order_hex[0])
static uint8_t small_order[N_SMALL][32];

static const uint8_t order_L[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
	0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
	0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
};

struct sig {
	uint8_t sig[64], pk[32], msg[48];
	size_t len;
};

static void hex_in(uint8_t *out, const char *hex, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	assert_int_equal(sodium_hex2bin(out, n, hex, 2 * n, NULL, NULL, NULL), 0);
}

#define NKEYS 64
static uint8_t key_a[NKEYS][32], key_prefix[NKEYS][32], key_pk[NKEYS][32];

static void keys_init(void)
{
	for (size_t i = 0; i < N_SMALL; i++)
		hex_in(small_order[i], small_order_hex[i] ? small_order_hex[i]
							  : ed25519_torsion_hex[i - 1],
		       32);
	for (int k = 0; k < NKEYS; k++) {
		uint8_t seed[32], h[64];
		randombytes_buf(seed, sizeof seed);
		crypto_hash_sha512(h, seed, sizeof seed);
		h[0] &= 248;
		h[31] &= 127;
		h[31] |= 64;
		memcpy(key_a[k], h, 32);
		memcpy(key_prefix[k], h + 32, 32);
		assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(key_pk[k], key_a[k]), 0);
	}
}

/* RFC 8032 signing with a chosen public-key encoding pk (normally [a]B) and a torsion point
 * added to R (NULL for none): S = r + H(R || pk || M) a. */
static void sign_with(struct sig *s, int k, const uint8_t pk[32], const uint8_t *r_torsion)
{
	uint8_t nonce[64], r[32], h[64], hr[32], t[32];
	crypto_hash_sha512_state st;
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, key_prefix[k], 32);
	crypto_hash_sha512_update(&st, s->msg, s->len);
	crypto_hash_sha512_final(&st, nonce);
	crypto_core_ed25519_scalar_reduce(r, nonce);
	assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(s->sig, r), 0);
	if (r_torsion)
		assert_int_equal(crypto_core_ed25519_add(s->sig, s->sig, r_torsion), 0);
	memcpy(s->pk, pk, 32);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, s->sig, 32);
	crypto_hash_sha512_update(&st, s->pk, 32);
	crypto_hash_sha512_update(&st, s->msg, s->len);
	crypto_hash_sha512_final(&st, h);
	crypto_core_ed25519_scalar_reduce(hr, h);
	crypto_core_ed25519_scalar_mul(t, hr, key_a[k]);
	crypto_core_ed25519_scalar_add(s->sig + 32, t, r);
}

static void make_valid(struct sig *s)
{
	int k = (int)randombytes_uniform(NKEYS);
	s->len = 1 + randombytes_uniform(sizeof s->msg);
	randombytes_buf(s->msg, s->len);
	sign_with(s, k, key_pk[k], NULL);
}

/* S + L: the same signature with a non-canonical S (S < L < 2^253, so no overflow). */
static void add_L(uint8_t s[32])
{
	unsigned c = 0;
	for (int i = 0; i < 32; i++) {
		c += (unsigned)s[i] + order_L[i];
		s[i] = (uint8_t)c;
		c >>= 8;
	}
}

#define N_KINDS 13
static void make_kind(struct sig *s, int kind)
{
	make_valid(s);
	int k = (int)randombytes_uniform(NKEYS);
	const uint8_t *tor = small_order[1 + randombytes_uniform(N_TORSION - 1)];
	uint8_t pk[32];
	switch (kind) {
	case 0:
		break;
	case 1: /* a bit of R */
		s->sig[randombytes_uniform(32)] ^= (uint8_t)(1u << randombytes_uniform(8));
		break;
	case 2: /* a bit of S */
		s->sig[32 + randombytes_uniform(32)] ^= (uint8_t)(1u << randombytes_uniform(8));
		break;
	case 3: /* a bit of A */
		s->pk[randombytes_uniform(32)] ^= (uint8_t)(1u << randombytes_uniform(8));
		break;
	case 4: /* a bit of the message */
		s->msg[randombytes_uniform((uint32_t)s->len)] ^= (uint8_t)(1u << randombytes_uniform(8));
		break;
	case 5:
		add_L(s->sig + 32);
		break;
	case 6: /* small-order or non-canonical R */
		memcpy(s->sig, small_order[randombytes_uniform(N_SMALL)], 32);
		break;
	case 7: /* small-order or non-canonical A */
		memcpy(s->pk, small_order[randombytes_uniform(N_SMALL)], 32);
		break;
	case 8: /* mixed-order A, signed for it: libsodium accepts when h kills the torsion */
		assert_int_equal(crypto_core_ed25519_add(pk, key_pk[k], tor), 0);
		sign_with(s, k, pk, NULL);
		break;
	case 9: /* mixed-order R */
		sign_with(s, k, key_pk[k], tor);
		break;
	case 10: /* torsion on both A and R (order 2: accepted by libsodium when h is odd) */
		assert_int_equal(crypto_core_ed25519_add(pk, key_pk[k], small_order[1]), 0);
		sign_with(s, k, pk, small_order[1]);
		break;
	case 11: /* torsion on both, any order */
		assert_int_equal(crypto_core_ed25519_add(pk, key_pk[k], tor), 0);
		sign_with(s, k, pk, small_order[1 + randombytes_uniform(N_TORSION - 1)]);
		break;
	default: /* another signer's key */
		memcpy(s->pk, key_pk[k], 32);
		break;
	}
}

/* Batch answer == single answer for every item; returns how many were valid. */
static size_t check_batch(const struct sig *s, size_t n)
{
	struct lb_sig_item *it = lb_malloc(n * sizeof *it);
	bool *ok = lb_malloc(n * sizeof *ok);
	size_t valid = 0;
	bool all = true;
	assert_non_null(it);
	assert_non_null(ok);
	for (size_t i = 0; i < n; i++)
		it[i] = (struct lb_sig_item){s[i].sig, s[i].pk, s[i].msg, s[i].len};
	bool got_all = lb_sigs_are_valid(it, n, ok);
	for (size_t i = 0; i < n; i++) {
		bool want = lb_sig_is_valid(s[i].sig, s[i].msg, s[i].len, s[i].pk);
		if (ok[i] != want) {
			char sh[129], ph[65];
			sodium_bin2hex(sh, sizeof sh, s[i].sig, 64);
			sodium_bin2hex(ph, sizeof ph, s[i].pk, 32);
			fail_msg("item %zu of %zu: batch says %d, libsodium %d (sig %s pk %s)", i, n,
				 ok[i], want, sh, ph);
		}
		valid += want;
		all = all && want;
	}
	assert_int_equal(got_all, all);
	lb_free(it);
	lb_free(ok);
	return valid;
}

static void test_speccheck(void **state)
{
	(void)state;
	FILE *f = fopen(VECTORS_DIR "/ed25519-speccheck/cases.json", "r");
	assert_non_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	struct sig cases[16];
	size_t nc = 0;
	for (char *p = buf; (p = strstr(p, "\"message\":\"")) && nc < 16; nc++) {
		char hex[129];
		p += 11;
		memcpy(hex, p, 64);
		hex[64] = 0;
		hex_in(cases[nc].msg, hex, 32);
		cases[nc].len = 32;
		p = strstr(p, "\"pub_key\":\"") + 11;
		memcpy(hex, p, 64);
		hex_in(cases[nc].pk, hex, 32);
		p = strstr(p, "\"signature\":\"") + 13;
		memcpy(hex, p, 128);
		hex[128] = 0;
		hex_in(cases[nc].sig, hex, 64);
	}
	assert_int_equal(nc, 15);
	/* libsodium accepts only case 3 of the paper's table (its column: X X X V X ...) */
	size_t accepted = 0;
	for (size_t c = 0; c < nc; c++)
		accepted += lb_sig_is_valid(cases[c].sig, cases[c].msg, cases[c].len, cases[c].pk);
	printf("# speccheck: libsodium accepts %zu of %zu cases\n", accepted, nc);
	static struct sig batch[LB_SIG_BATCH_MIN];
	for (size_t c = 0; c < nc; c++) {
		assert_int_equal(check_batch(&cases[c], 1), (size_t)lb_sig_is_valid(cases[c].sig,
			cases[c].msg, cases[c].len, cases[c].pk));
		/* batches of the smallest size checked as a batch (LB_SIG_BATCH_MIN) */
		for (int i = 0; i < LB_SIG_BATCH_MIN; i++) /* copies of the case alone */
			batch[i] = cases[c];
		check_batch(batch, LB_SIG_BATCH_MIN);
		for (int rep = 0; rep < 8; rep++) { /* mixed into valid signatures */
			for (int i = 0; i < LB_SIG_BATCH_MIN; i++)
				make_valid(&batch[i]);
			batch[randombytes_uniform(LB_SIG_BATCH_MIN)] = cases[c];
			check_batch(batch, LB_SIG_BATCH_MIN);
		}
	}
	for (int rep = 0; rep < 8; rep++) { /* all the cases in one batch with valid ones */
		for (int i = 0; i < LB_SIG_BATCH_MIN; i++)
			make_valid(&batch[i]);
		for (size_t c = 0; c < nc; c++)
			batch[randombytes_uniform(LB_SIG_BATCH_MIN)] = cases[c];
		check_batch(batch, LB_SIG_BATCH_MIN);
	}
}

/* Valid batches pass as a batch (no single verification), and the answers are right. */
static void test_valid_batches(void **state)
{
	(void)state;
	static struct sig s[1000];
	/* one below the batch threshold (one by one, not counted), the threshold and above */
	size_t sizes[] = {LB_SIG_BATCH_MIN - 1, LB_SIG_BATCH_MIN, LB_SIG_BATCH_MIN + 1,
			  2 * LB_SIG_BATCH_MIN + 7, 1000};
	for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
		for (size_t i = 0; i < sizes[j]; i++)
			make_valid(&s[i]);
		uint64_t before = lb_sig_batch_singles();
		assert_int_equal(check_batch(s, sizes[j]), sizes[j]);
		assert_int_equal(lb_sig_batch_singles(), before);
	}
	/* one bad signature in 1000: found, the others accepted */
	s[517].sig[40] ^= 1;
	assert_int_equal(check_batch(s, 1000), 999);
	/* empty and tiny batches */
	bool ok[1];
	assert_true(lb_sigs_are_valid(NULL, 0, ok));
	make_valid(&s[0]);
	assert_int_equal(check_batch(s, 1), 1);
}

/* The torsion cases where a cofactorless batch equation alone is fooled half the time: a
 * signature whose R carries a point of order 2 that libsodium refuses (h even), and one with
 * order-2 torsion on both A and R that libsodium accepts (h odd). 64 trials each. */
static void test_torsion(void **state)
{
	(void)state;
	static struct sig s[LB_SIG_BATCH_MIN];
	int refused = 0, accepted = 0;
	for (int trial = 0; trial < 400 && (refused < 64 || accepted < 64); trial++) {
		for (int i = 0; i < LB_SIG_BATCH_MIN; i++)
			make_valid(&s[i]);
		int k = (int)randombytes_uniform(NKEYS),
		    at = (int)randombytes_uniform(LB_SIG_BATCH_MIN);
		if (trial & 1) {
			sign_with(&s[at], k, key_pk[k], small_order[1]);
		} else {
			uint8_t pk[32];
			assert_int_equal(crypto_core_ed25519_add(pk, key_pk[k], small_order[1]), 0);
			sign_with(&s[at], k, pk, small_order[1]);
		}
		bool want = lb_sig_is_valid(s[at].sig, s[at].msg, s[at].len, s[at].pk);
		refused += !want;
		accepted += want;
		check_batch(s, LB_SIG_BATCH_MIN);
	}
	assert_true(refused >= 64);
	assert_true(accepted >= 64);
}

/* Differential: random batches of valid and malformed signatures. */
static void test_differential(void **state)
{
	(void)state;
	const char *env = getenv("ED25519_BATCH_SIGS");
#ifdef __SANITIZE_ADDRESS__
	size_t dflt = 20000; /* the sanitizer build runs about 20 times slower */
#else
	size_t dflt = 150000;
#endif
	size_t total = env ? strtoull(env, NULL, 10) : dflt, done = 0, valid = 0;
	size_t per_kind[N_KINDS] = {0};
	struct sig *s = lb_malloc(1024 * sizeof *s);
	assert_non_null(s);
	while (done < total) {
		size_t n = 1 + randombytes_uniform(1000);
		unsigned bad_rate = randombytes_uniform(4) == 0 ? 0 : 1 + randombytes_uniform(50);
		if (n > total - done)
			n = total - done;
		for (size_t i = 0; i < n; i++) {
			int kind = randombytes_uniform(100) < bad_rate
					   ? 1 + (int)randombytes_uniform(N_KINDS - 1)
					   : 0;
			make_kind(&s[i], kind);
			per_kind[kind]++;
		}
		valid += check_batch(s, n);
		done += n;
	}
	printf("# differential: %zu signatures, %zu valid, %" PRIu64
	       " answered one by one; per kind:", done, valid, lb_sig_batch_singles());
	for (int k = 0; k < N_KINDS; k++)
		printf(" %zu", per_kind[k]);
	printf("\n");
	lb_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_speccheck),
		cmocka_unit_test(test_valid_batches),
		cmocka_unit_test(test_torsion),
		cmocka_unit_test(test_differential),
	};
	if (sodium_init() < 0)
		return 1;
	keys_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
