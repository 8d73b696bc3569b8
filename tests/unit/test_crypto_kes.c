/* Unit tests for KES Sum6: Cardano's reference vectors (tests/vectors/kes-sum6/) reproduced
 * byte for byte (key generation, updates 1 and 5, signatures at periods 0 and 5, both the
 * plain and the compact form), verification across all 64 periods, forward security (updated
 * keys hold no seed of the past), and negative cases. */
#include "test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/kes.h"

static const uint8_t *seed = (const uint8_t *)"test string of 32 byte of lenght";
static const uint8_t *msg = (const uint8_t *)"test message";
#define MSGLEN 12

static uint8_t *vec(const char *name, size_t want)
{
	const char *root = getenv("LEBEN_ROOT");
	char path[1024];
	uint8_t *p;
	size_t len;
	struct lb_errmsg em;
	snprintf(path, sizeof path, "%s/tests/vectors/kes-sum6/%s", root ? root : ".", name);
	if (lb_file_read(path, 1 << 16, &p, &len, &em) != LB_OK)
		fail_msg("%s", em.text);
	assert_int_equal(len, want);
	return p;
}

static void test_vectors(void **state)
{
	struct lb_kes_sk sk;
	uint8_t vk[32], expvk[32], sig[LB_KES_SIGBYTES], csig[LB_KES_CSIGBYTES];
	uint8_t *k6 = vec("key6.bin", 608), *k0 = vec("key0.bin", 32), *k1 = vec("key1.bin", 128);
	uint8_t *u1 = vec("key6update1.bin", 608), *u5 = vec("key6update5.bin", 608);
	uint8_t *s0 = vec("key6Sig.bin", 448), *s5 = vec("key6Sig5.bin", 448);
	uint8_t *c0 = vec("compactkey6Sig.bin", 288), *c5 = vec("compactkey6Sig5.bin", 288);
	uint8_t *ck = vec("compactkey6.bin", 608);

	assert_lb_ok(lb_hex_decode(expvk, 32,
				   "9b527f5907bd9ba20956d5b1db91d679b666b0c7e4c3a336eb6165ac58f99501"));
	assert_lb_ok(lb_kes_keygen(&sk, vk, seed));
	assert_memory_equal(sk.bytes, k6, 608);
	assert_memory_equal(sk.bytes, ck, 608);
	assert_memory_equal(vk, expvk, 32);
	/* Sum0 is the seed itself; Sum1 = seed-derived r0 | r1 | vk0 | vk1 (same inner bytes as
	 * the first 128 bytes of a Sum6 key after five seed splits: check directly). */
	assert_memory_equal(k0, seed, 32);
	{
		uint8_t r0[32], r1[32], b[33], vk0[32], vk1[32], esk[64];
		b[0] = 1;
		memcpy(b + 1, seed, 32);
		crypto_generichash(r0, 32, b, 33, NULL, 0);
		b[0] = 2;
		crypto_generichash(r1, 32, b, 33, NULL, 0);
		crypto_sign_seed_keypair(vk0, esk, r0);
		crypto_sign_seed_keypair(vk1, esk, r1);
		assert_memory_equal(k1, r0, 32);
		assert_memory_equal(k1 + 32, r1, 32);
		assert_memory_equal(k1 + 64, vk0, 32);
		assert_memory_equal(k1 + 96, vk1, 32);
	}
	assert_lb_ok(lb_kes_sign(&sk, msg, MSGLEN, sig));
	assert_memory_equal(sig, s0, 448);
	assert_lb_ok(lb_kes_sign_compact(&sk, msg, MSGLEN, csig));
	assert_memory_equal(csig, c0, 288);
	assert_lb_ok(lb_kes_update(&sk));
	assert_memory_equal(sk.bytes, u1, 608);
	assert_lb_ok(lb_kes_update_to(&sk, 5));
	assert_memory_equal(sk.bytes, u5, 608);
	assert_lb_ok(lb_kes_sign(&sk, msg, MSGLEN, sig));
	assert_memory_equal(sig, s5, 448);
	assert_lb_ok(lb_kes_sign_compact(&sk, msg, MSGLEN, csig));
	assert_memory_equal(csig, c5, 288);
	/* the reference signatures verify at their periods only */
	assert_lb_ok(lb_kes_verify(expvk, 0, msg, MSGLEN, s0));
	assert_lb_ok(lb_kes_verify(expvk, 5, msg, MSGLEN, s5));
	assert_lb_ok(lb_kes_verify_compact(expvk, 0, msg, MSGLEN, c0));
	assert_lb_ok(lb_kes_verify_compact(expvk, 5, msg, MSGLEN, c5));
	assert_int_equal(lb_kes_verify(expvk, 1, msg, MSGLEN, s0), LB_EBADSIG);
	assert_int_equal(lb_kes_verify(expvk, 4, msg, MSGLEN, s5), LB_EBADSIG);
	assert_int_equal(lb_kes_verify_compact(expvk, 4, msg, MSGLEN, c5), LB_EBADSIG);
	assert_int_equal(lb_kes_verify(expvk, 0, (const uint8_t *)"test messagf", MSGLEN, s0),
			 LB_EBADSIG);
	lb_kes_sk_wipe(&sk);
	lb_free(k6); lb_free(k0); lb_free(k1); lb_free(u1); lb_free(u5);
	lb_free(s0); lb_free(s5); lb_free(c0); lb_free(c5); lb_free(ck);
}

/* All 64 periods: each signature verifies at its period and no other; the key cannot be
 * updated past 63; every update leaves no copy of a spent seed. */
static void test_all_periods(void **state)
{
	struct lb_kes_sk sk, start;
	uint8_t vk[32], vk2[32], sig[LB_KES_SIGBYTES], s[32];
	randombytes_buf(s, sizeof s);
	assert_lb_ok(lb_kes_keygen(&sk, vk, s));
	start = sk;
	for (uint32_t t = 0; t < LB_KES_PERIODS; t++) {
		assert_int_equal(sk.period, t);
		lb_kes_sk_vk(&sk, vk2);
		assert_memory_equal(vk, vk2, 32);
		assert_lb_ok(lb_kes_sign(&sk, msg, MSGLEN, sig));
		assert_lb_ok(lb_kes_verify(vk, t, msg, MSGLEN, sig));
		assert_int_equal(lb_kes_verify(vk, (t + 1) % 64, msg, MSGLEN, sig), LB_EBADSIG);
		sig[100] ^= 1;
		assert_int_equal(lb_kes_verify(vk, t, msg, MSGLEN, sig), LB_EBADSIG);
		if (t + 1 < LB_KES_PERIODS)
			assert_lb_ok(lb_kes_update(&sk));
	}
	assert_int_equal(lb_kes_update(&sk), LB_ELIMIT);
	assert_int_equal(lb_kes_update_to(&sk, 3), LB_EINVALID);
	assert_int_equal(lb_kes_verify(vk, 64, msg, MSGLEN, sig), LB_ERANGE);
	/* forward security: the last key holds no seed of the starting key (leaf seed and every
	 * level's r1 of the period-0 key are absent from the period-63 key) */
	for (unsigned off = 0; off < 608; off += 32) {
		if (off != 0 && (off - 32) % 96 != 0)
			continue; /* vk0/vk1 slots are public */
		for (unsigned j = 0; j + 32 <= 608; j++)
			assert_memory_not_equal(sk.bytes + j, start.bytes + off, 32);
	}
	/* after the last update every r1 slot is zero */
	for (unsigned d = 0; d < 6; d++) {
		uint8_t zero[32] = {0};
		assert_memory_equal(sk.bytes + 32 + 96 * d, zero, 32);
	}
	/* key file round trip, bad lengths and periods */
	uint8_t buf[LB_KES_SKFILEBYTES];
	struct lb_kes_sk back;
	struct lb_errmsg em;
	lb_kes_sk_encode(&sk, buf);
	assert_lb_ok(lb_kes_sk_decode(&back, buf, sizeof buf, &em));
	assert_int_equal(back.period, 63);
	assert_memory_equal(back.bytes, sk.bytes, 608);
	assert_int_equal(lb_kes_sk_decode(&back, buf, sizeof buf - 1, &em), LB_EMALFORMED);
	buf[3] = 64;
	assert_int_equal(lb_kes_sk_decode(&back, buf, sizeof buf, &em), LB_EMALFORMED);
	uint32_t p;
	assert_lb_ok(lb_kes_period_at(1000, 100, 50, &p));
	assert_int_equal(p, 18);
	assert_int_equal(lb_kes_period_at(99, 100, 50, &p), LB_ERANGE);
	assert_int_equal(lb_kes_period_at(100 + 64 * 50, 100, 50, &p), LB_ERANGE);
	lb_kes_sk_wipe(&sk);
	lb_kes_sk_wipe(&start);
}


/* Three co-owners, threshold 2: broadcast and sequential forms, period binding, policy
 * binding, order, duplicates, below threshold, outsiders, and the canonical policy bytes. */
static void test_multisig(void **state)
{
	struct lb_kes_sk sk[4];
	uint8_t vk[4][32], s[32], out[LB_MSIG_BYTES(4)], e[3][LB_MSIG_ENTRYBYTES];
	struct lb_msig_policy pol, back;
	struct lb_errmsg em;
	size_t len, len2;
	const uint8_t *m = (const uint8_t *)"grant execution right on asset 42";
	size_t ml = strlen((const char *)m);

	for (int i = 0; i < 4; i++) {
		randombytes_buf(s, sizeof s);
		assert_lb_ok(lb_kes_keygen(&sk[i], vk[i], s));
	}
	/* order the three owners by key, as the policy requires */
	int ord[3] = {0, 1, 2};
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (memcmp(vk[ord[i]], vk[ord[j]], 32) > 0) {
				int t = ord[i];
				ord[i] = ord[j];
				ord[j] = t;
			}
	memset(&pol, 0, sizeof pol);
	pol.n = 3;
	pol.threshold = 2;
	pol.start_height = 10;
	pol.epoch_blocks = 100;
	for (int i = 0; i < 3; i++)
		memcpy(pol.owners[i], vk[ord[i]], 32);
	uint8_t pb[LB_MSIG_POLICY_MAXBYTES];
	assert_lb_ok(lb_msig_policy_encode(&pol, pb, &len, &em));
	assert_int_equal(len, 3 + 96 + 16);
	assert_lb_ok(lb_msig_policy_decode(&back, pb, len, &em));
	assert_int_equal(back.threshold, 2);
	assert_memory_equal(back.owners, pol.owners, 96);
	assert_int_equal(lb_msig_policy_decode(&back, pb, len - 1, &em), LB_EMALFORMED);
	uint8_t swapped[sizeof pb];
	memcpy(swapped, pb, len);
	memcpy(swapped + 3, pb + 35, 32);
	memcpy(swapped + 35, pb + 3, 32);
	assert_int_equal(lb_msig_policy_decode(&back, swapped, len, &em), LB_EMALFORMED);
	pb[1] = 4;
	assert_int_equal(lb_msig_policy_decode(&back, pb, len, &em), LB_EMALFORMED);

	/* at period 3 for everyone */
	for (int i = 0; i < 4; i++)
		assert_lb_ok(lb_kes_update_to(&sk[i], 3));
	/* broadcast: owners 2 and 0 (by policy order), assembled in any order */
	assert_lb_ok(lb_msig_broadcast_sign(&sk[ord[2]], &pol, m, ml, e[0], &em));
	assert_lb_ok(lb_msig_broadcast_sign(&sk[ord[0]], &pol, m, ml, e[1], &em));
	const uint8_t *ents[2] = {e[0], e[1]};
	assert_lb_ok(lb_msig_assemble(ents, 2, 3, out, &len, &em));
	assert_lb_ok(lb_msig_verify(&pol, 3, m, ml, out, len, &em));
	assert_int_equal(lb_msig_verify(&pol, 4, m, ml, out, len, &em), LB_EINVALID);
	assert_int_equal(lb_msig_verify(&pol, 3, m, ml - 1, out, len, &em), LB_EBADSIG);
	/* the period field rewritten: signatures were made for period 3 */
	out[4] = 4;
	assert_int_equal(lb_msig_verify(&pol, 4, m, ml, out, len, &em), LB_EBADSIG);
	out[4] = 3;
	/* another policy (threshold 1) does not accept signatures made under this one */
	struct lb_msig_policy pol1 = pol;
	pol1.threshold = 1;
	assert_int_equal(lb_msig_verify(&pol1, 3, m, ml, out, len, &em), LB_EBADSIG);
	/* one signature is below the threshold */
	assert_lb_ok(lb_msig_assemble(ents, 1, 3, out, &len, &em));
	assert_int_equal(lb_msig_verify(&pol, 3, m, ml, out, len, &em), LB_EDENIED);
	/* duplicates */
	const uint8_t *dup[2] = {e[0], e[0]};
	assert_int_equal(lb_msig_assemble(dup, 2, 3, out, &len, &em), LB_EDUPLICATE);
	/* outsider */
	assert_int_equal(lb_msig_broadcast_sign(&sk[3], &pol, m, ml, e[2], &em), LB_EUNAUTH);

	/* sequential: owner order 0 -> 1 -> 2 */
	assert_lb_ok(lb_msig_sequential_sign(&sk[ord[0]], &pol, m, ml, NULL, 0, out, &len, &em));
	assert_int_equal(lb_msig_verify(&pol, 3, m, ml, out, len, &em), LB_EDENIED);
	assert_lb_ok(lb_msig_sequential_sign(&sk[ord[1]], &pol, m, ml, out, len, out, &len2, &em));
	assert_lb_ok(lb_msig_verify(&pol, 3, m, ml, out, len2, &em));
	/* the earlier signer cannot come again after a later one */
	uint8_t out2[LB_MSIG_BYTES(4)];
	assert_int_equal(lb_msig_sequential_sign(&sk[ord[0]], &pol, m, ml, out, len2, out2, &len, &em),
			 LB_EINVALID);
	assert_lb_ok(lb_msig_sequential_sign(&sk[ord[2]], &pol, m, ml, out, len2, out2, &len, &em));
	assert_lb_ok(lb_msig_verify(&pol, 3, m, ml, out2, len, &em));
	/* altering the first signature breaks the later ones too (they cover it) */
	out2[6 + 1 + 10] ^= 1;
	assert_int_equal(lb_msig_verify(&pol, 3, m, ml, out2, len, &em), LB_EBADSIG);
	/* a broadcast entry cannot be passed off as sequential */
	out[0] = LB_MSIG_BROADCAST;
	assert_int_equal(lb_msig_verify(&pol, 3, m, ml, out, len2, &em), LB_EBADSIG);
	/* after update to period 4, an owner cannot sign for period 3 any more */
	assert_lb_ok(lb_kes_update(&sk[ord[0]]));
	assert_lb_ok(lb_msig_broadcast_sign(&sk[ord[0]], &pol, m, ml, e[2], &em));
	const uint8_t *late[2] = {e[0], e[2]};
	assert_lb_ok(lb_msig_assemble(late, 2, 3, out, &len, &em));
	assert_int_equal(lb_msig_verify(&pol, 3, m, ml, out, len, &em), LB_EBADSIG);
	for (int i = 0; i < 4; i++)
		lb_kes_sk_wipe(&sk[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_all_periods),
		cmocka_unit_test(test_multisig),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
