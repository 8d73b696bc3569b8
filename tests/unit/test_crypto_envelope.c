/* Unit tests for the level-1 envelope: round trips (one and many recipients, empty, exact
 * multiples of the record size, multi-record streams), Ed25519 identity conversion, the
 * committed known-answer envelope, and the distinct errors for tampering, truncation and a
 * wrong recipient. */
#include "test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/envelope.h"

static uint8_t *pattern(size_t n)
{
	uint8_t *p = lb_malloc(n ? n : 1);
	assert_non_null(p);
	randombytes_buf(p, n);
	return p;
}

static void roundtrip(size_t len, size_t nrecip)
{
	uint8_t pk[8][32], sk[8][32];
	uint8_t *msg = pattern(len), *env, *out;
	size_t envlen, outlen;
	struct lb_errmsg em;

	assert_true(nrecip <= 8);
	for (size_t i = 0; i < nrecip; i++)
		lb_envelope_keypair(pk[i], sk[i]);
	assert_lb_ok(lb_envelope_seal((const uint8_t(*)[32])pk, nrecip, msg, len, &env, &envlen, &em));
	/* header + one slot per recipient + records of 4 + 17 + payload */
	size_t records = len / LB_ENVELOPE_CHUNK + 1;
	assert_int_equal(envlen, 40 + nrecip * 56 + 24 + records * 21 + len);
	for (size_t i = 0; i < nrecip; i++) {
		assert_lb_ok(lb_envelope_open(sk[i], pk[i], env, envlen, len, &out, &outlen, &em));
		assert_int_equal(outlen, len);
		assert_memory_equal(out, msg, len);
		lb_free(out);
	}
	lb_free(env);
	lb_free(msg);
}

static void test_roundtrips(void **state)
{
	roundtrip(0, 1);
	roundtrip(1, 1);
	roundtrip(1000, 3);
	roundtrip(LB_ENVELOPE_CHUNK, 2);       /* ends with an empty final record */
	roundtrip(3 * LB_ENVELOPE_CHUNK + 7, 8); /* several records */
}

static void test_errors(void **state)
{
	uint8_t pk[2][32], sk[2][32], opk[32], osk[32];
	size_t len = 2 * LB_ENVELOPE_CHUNK + 100, envlen, outlen;
	uint8_t *msg = pattern(len), *env, *out = NULL;
	struct lb_errmsg em;

	for (int i = 0; i < 2; i++)
		lb_envelope_keypair(pk[i], sk[i]);
	lb_envelope_keypair(opk, osk);
	assert_lb_ok(lb_envelope_seal((const uint8_t(*)[32])pk, 2, msg, len, &env, &envlen, &em));

	/* wrong recipient */
	assert_int_equal(lb_envelope_open(osk, opk, env, envlen, len, &out, &outlen, &em),
			 LB_EWRONGKEY);
	/* mismatched key pair */
	assert_int_equal(lb_envelope_open(osk, pk[0], env, envlen, len, &out, &outlen, &em),
			 LB_EINVALID);
	/* every byte flipped somewhere in the header, the slots and the records */
	size_t spots[] = {8, 40, 40 + 20, 40 + 56 + 30, 40 + 112 + 3, 40 + 112 + 24 + 2,
			  40 + 112 + 24 + 10, envlen / 2, envlen - 1};
	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		env[spots[i]] ^= 0x20;
		int rc = lb_envelope_open(sk[0], pk[0], env, envlen, len, &out, &outlen, &em);
		assert_int_equal(rc, LB_ETAMPERED);
		env[spots[i]] ^= 0x20;
	}
	/* the other recipient's slot altered: recipient 0 notices through the header hash */
	env[40 + 56 + 30] ^= 1;
	assert_int_equal(lb_envelope_open(sk[0], pk[0], env, envlen, len, &out, &outlen, &em),
			 LB_ETAMPERED);
	env[40 + 56 + 30] ^= 1;
	/* truncation at record boundaries and inside records and the header */
	size_t rec = 4 + LB_ENVELOPE_CHUNK + 17, hdr = 40 + 112 + 24;
	size_t cuts[] = {hdr, hdr + 2, hdr + rec, hdr + 2 * rec, hdr + 2 * rec + 50, hdr - 5, 12};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
		assert_int_equal(lb_envelope_open(sk[0], pk[0], env, cuts[i], len, &out, &outlen, &em),
				 LB_ETRUNCATED);
	/* appended bytes */
	uint8_t *longer = lb_malloc(envlen + 1);
	memcpy(longer, env, envlen);
	longer[envlen] = 0;
	assert_int_equal(lb_envelope_open(sk[0], pk[0], longer, envlen + 1, len, &out, &outlen, &em),
			 LB_ETAMPERED);
	/* records swapped */
	memcpy(longer, env, envlen);
	memcpy(longer + hdr, env + hdr + rec, rec);
	memcpy(longer + hdr + rec, env + hdr, rec);
	assert_int_equal(lb_envelope_open(sk[0], pk[0], longer, envlen, len, &out, &outlen, &em),
			 LB_ETAMPERED);
	lb_free(longer);
	/* not an envelope, unknown version */
	assert_int_equal(lb_envelope_open(sk[0], pk[0], (const uint8_t *)"hello world, no", 15, len,
					  &out, &outlen, &em),
			 LB_EMALFORMED);
	env[4] = 2;
	assert_int_equal(lb_envelope_open(sk[0], pk[0], env, envlen, len, &out, &outlen, &em),
			 LB_EUNSUPPORTED);
	env[4] = 1;
	/* output cap */
	assert_int_equal(lb_envelope_open(sk[0], pk[0], env, envlen, 10, &out, &outlen, &em),
			 LB_ETOOBIG);
	/* bad parameters */
	assert_int_equal(lb_envelope_seal((const uint8_t(*)[32])pk, 0, msg, 1, &env, &envlen, &em),
			 LB_EINVALID);
	uint8_t dup[2][32];
	memcpy(dup[0], pk[0], 32);
	memcpy(dup[1], pk[0], 32);
	uint8_t *e2;
	size_t e2len;
	assert_int_equal(lb_envelope_seal((const uint8_t(*)[32])dup, 2, msg, 1, &e2, &e2len, &em),
			 LB_EINVALID);
	uint8_t zero[1][32] = {{0}};
	assert_int_equal(lb_envelope_seal((const uint8_t(*)[32])zero, 1, msg, 1, &e2, &e2len, &em),
			 LB_EINVALID);
	lb_free(env);
	lb_free(msg);
}

static void test_ed25519_identity(void **state)
{
	uint8_t seed[32], ed_pk[32], ed_sk[64], xpk[32], xpk2[32], xsk[32], *env, *out;
	size_t envlen, outlen;
	struct lb_errmsg em;

	randombytes_buf(seed, sizeof seed);
	crypto_sign_seed_keypair(ed_pk, ed_sk, seed);
	assert_lb_ok(lb_envelope_pk_from_ed25519(xpk, ed_pk));
	assert_lb_ok(lb_envelope_keypair_from_ed25519_seed(xpk2, xsk, seed));
	assert_memory_equal(xpk, xpk2, 32);
	assert_lb_ok(lb_envelope_seal((const uint8_t(*)[32])xpk, 1, (const uint8_t *)"consent", 7,
				      &env, &envlen, &em));
	assert_lb_ok(lb_envelope_open(xsk, xpk, env, envlen, 100, &out, &outlen, &em));
	assert_int_equal(outlen, 7);
	assert_memory_equal(out, "consent", 7);
	lb_free(out);
	lb_free(env);
}

/* Known answer: an envelope sealed once and committed (tests/vectors/envelope/), so a format
 * change cannot pass unnoticed. */
static void test_kat(void **state)
{
	const char *root = getenv("LEBEN_ROOT");
	char path[1024];
	uint8_t *env, *sk, *pk, *exp, *out;
	size_t envlen, sklen, pklen, explen, outlen;
	struct lb_errmsg em;

	if (!root)
		root = ".";
	snprintf(path, sizeof path, "%s/tests/vectors/envelope/kat1.env", root);
	assert_lb_ok(lb_file_read(path, 1 << 20, &env, &envlen, &em));
	snprintf(path, sizeof path, "%s/tests/vectors/envelope/kat1.sk", root);
	assert_lb_ok(lb_file_read(path, 64, &sk, &sklen, &em));
	snprintf(path, sizeof path, "%s/tests/vectors/envelope/kat1.pk", root);
	assert_lb_ok(lb_file_read(path, 64, &pk, &pklen, &em));
	snprintf(path, sizeof path, "%s/tests/vectors/envelope/kat1.txt", root);
	assert_lb_ok(lb_file_read(path, 1 << 20, &exp, &explen, &em));
	assert_int_equal(sklen, 32);
	assert_int_equal(pklen, 32);
	assert_lb_ok(lb_envelope_open(sk, pk, env, envlen, 1 << 20, &out, &outlen, &em));
	assert_int_equal(outlen, explen);
	assert_memory_equal(out, exp, explen);
	lb_free(out);
	lb_free(env);
	lb_free(sk);
	lb_free(pk);
	lb_free(exp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrips),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_ed25519_identity),
		cmocka_unit_test(test_kat),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
