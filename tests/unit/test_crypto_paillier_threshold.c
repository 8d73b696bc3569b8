/* Threshold Paillier: safe primes are safe; with a 1024-bit key dealt 3-of-5, every 3-subset
 * of holders (and 4 or 5 holders) decrypts random plaintexts, 0 and n - 1 exactly as ordinary
 * CRT decryption with the primes does; a homomorphic sum decrypts to the sum; each
 * decryption share's proof verifies and fails for a changed share, another holder's index,
 * another ciphertext or a changed response; fewer than t shares, a repeated holder and bad
 * parameters are refused; ciphertexts made by the ordinary encryption under the dealt public
 * key are what is decrypted (any Paillier implementation can encrypt). */
#include "test.h"

#include <gmp.h>
#include <sodium.h>

#include "leben/base.h"
#include "leben/error.h"
#include "leben/paillier.h"

#define L 5
#define T 3

static mpz_t P, Q;
static struct lb_paillier_tpk TPK;
static struct lb_paillier_tshare SH[L];
static struct lb_paillier_sk SK; /* ordinary key from the same primes: the reference */

static int setup(void **state)
{
	(void)state;
	struct lb_errmsg em;
	assert_true(sodium_init() >= 0);
	mpz_inits(P, Q, NULL);
	assert_lb_ok(lb_paillier_safe_prime(P, 512, &em));
	do
		assert_lb_ok(lb_paillier_safe_prime(Q, 512, &em));
	while (mpz_cmp(P, Q) == 0);
	lb_paillier_tpk_init(&TPK);
	for (int i = 0; i < L; i++)
		lb_paillier_tshare_init(&SH[i]);
	assert_lb_ok(lb_paillier_tdeal(&TPK, SH, P, Q, T, L, &em));
	lb_paillier_sk_init(&SK);
	assert_lb_ok(lb_paillier_sk_set(&SK, P, Q, &em));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < L; i++)
		lb_paillier_tshare_release(&SH[i]);
	lb_paillier_tpk_release(&TPK);
	lb_paillier_sk_release(&SK);
	mpz_clears(P, Q, NULL);
	return 0;
}

static void test_safe_primes(void **state)
{
	(void)state;
	mpz_t h;
	mpz_init(h);
	for (int k = 0; k < 2; k++) {
		mpz_srcptr p = k ? Q : P;
		assert_int_equal(mpz_sizeinbase(p, 2), 512);
		assert_true(mpz_probab_prime_p(p, 50) > 0);
		mpz_sub_ui(h, p, 1);
		mpz_fdiv_q_2exp(h, h, 1);
		assert_true(mpz_probab_prime_p(h, 50) > 0);
	}
	assert_int_equal(mpz_sizeinbase(TPK.pk.n, 2), 1024);
	mpz_mul(h, P, Q);
	assert_int_equal(mpz_cmp(h, TPK.pk.n), 0);
	mpz_clear(h);
}

/* decrypt c with the holders in idx[0..k) and compare with the reference */
static void tdec(const mpz_t c, const unsigned *idx, size_t k, mpz_t m)
{
	static struct lb_paillier_dshare ds[L];
	struct lb_errmsg em;
	for (size_t j = 0; j < k; j++) {
		lb_paillier_dshare_init(&ds[j]);
		assert_lb_ok(lb_paillier_tdecrypt_share(&TPK, &SH[idx[j] - 1], c, &ds[j], &em));
		assert_lb_ok(lb_paillier_tverify_share(&TPK, c, &ds[j], &em));
	}
	int rc = lb_paillier_tcombine(&TPK, c, ds, k, m, &em);
	if (rc)
		fail_msg("combine: %s", em.text);
	for (size_t j = 0; j < k; j++)
		lb_paillier_dshare_release(&ds[j]);
}

static void test_every_subset(void **state)
{
	(void)state;
	mpz_t m, c, got, want;
	struct lb_errmsg em;
	mpz_inits(m, c, got, want, NULL);
	int subsets = 0;
	for (unsigned a = 1; a <= L; a++)
		for (unsigned b = a + 1; b <= L; b++)
			for (unsigned d = b + 1; d <= L; d++) {
				unsigned idx[3] = {d, a, b}; /* any order */
				uint8_t r[64];
				randombytes_buf(r, sizeof r);
				mpz_import(m, sizeof r, 1, 1, 0, 0, r);
				mpz_mod(m, m, TPK.pk.n);
				assert_lb_ok(lb_paillier_encrypt(&TPK.pk, c, m, &em));
				tdec(c, idx, 3, got);
				assert_lb_ok(lb_paillier_decrypt(&SK, want, c, &em));
				assert_int_equal(mpz_cmp(want, m), 0);
				assert_int_equal(mpz_cmp(got, m), 0);
				subsets++;
			}
	assert_int_equal(subsets, 10);
	/* edges: 0 and n - 1, with 4 and 5 holders */
	unsigned four[4] = {5, 2, 4, 1}, five[5] = {1, 2, 3, 4, 5};
	mpz_set_ui(m, 0);
	assert_lb_ok(lb_paillier_encrypt(&TPK.pk, c, m, &em));
	tdec(c, four, 4, got);
	assert_int_equal(mpz_sgn(got), 0);
	mpz_sub_ui(m, TPK.pk.n, 1);
	assert_lb_ok(lb_paillier_encrypt(&TPK.pk, c, m, &em));
	tdec(c, five, 5, got);
	assert_int_equal(mpz_cmp(got, m), 0);
	/* homomorphic sum */
	mpz_t c2, m2;
	mpz_inits(c2, m2, NULL);
	mpz_set_ui(m, 1234567);
	mpz_set_ui(m2, 7654321);
	assert_lb_ok(lb_paillier_encrypt(&TPK.pk, c, m, &em));
	assert_lb_ok(lb_paillier_encrypt(&TPK.pk, c2, m2, &em));
	assert_lb_ok(lb_paillier_add(&TPK.pk, c, c, c2, &em));
	unsigned idx[3] = {2, 3, 5};
	tdec(c, idx, 3, got);
	assert_int_equal(mpz_get_ui(got), 8888888);
	mpz_clears(m, c, got, want, c2, m2, NULL);
}

static void test_refusals(void **state)
{
	(void)state;
	struct lb_paillier_dshare ds[3], bad;
	struct lb_errmsg em;
	mpz_t m, c, c2, got;
	mpz_inits(m, c, c2, got, NULL);
	mpz_set_ui(m, 42);
	assert_lb_ok(lb_paillier_encrypt(&TPK.pk, c, m, &em));
	assert_lb_ok(lb_paillier_encrypt(&TPK.pk, c2, m, &em));
	for (int j = 0; j < 3; j++) {
		lb_paillier_dshare_init(&ds[j]);
		assert_lb_ok(lb_paillier_tdecrypt_share(&TPK, &SH[j], c, &ds[j], &em));
	}
	lb_paillier_dshare_init(&bad);
	/* fewer than t */
	assert_int_equal(lb_paillier_tcombine(&TPK, c, ds, 2, got, &em), LB_EINVALID);
	/* a repeated holder */
	mpz_set(bad.ci, ds[0].ci);
	mpz_set(bad.e, ds[0].e);
	mpz_set(bad.z, ds[0].z);
	bad.i = ds[0].i;
	struct lb_paillier_dshare rep[3] = {ds[0], ds[1], bad};
	assert_int_equal(lb_paillier_tcombine(&TPK, c, rep, 3, got, &em), LB_EDUPLICATE);
	/* a changed share value */
	mpz_add_ui(bad.ci, bad.ci, 1);
	assert_int_equal(lb_paillier_tverify_share(&TPK, c, &bad, &em), LB_EBADSIG);
	struct lb_paillier_dshare wrong[3] = {ds[1], bad, ds[2]};
	assert_int_equal(lb_paillier_tcombine(&TPK, c, wrong, 3, got, &em), LB_EBADSIG);
	/* a share squared (c_i^2 has the right square but is not c_i... still refused) */
	mpz_powm_ui(bad.ci, ds[0].ci, 2, TPK.pk.n2);
	assert_int_equal(lb_paillier_tverify_share(&TPK, c, &bad, &em), LB_EBADSIG);
	/* the right share claimed by another holder */
	mpz_set(bad.ci, ds[0].ci);
	bad.i = 4;
	assert_int_equal(lb_paillier_tverify_share(&TPK, c, &bad, &em), LB_EBADSIG);
	/* for another ciphertext */
	bad.i = ds[0].i;
	assert_lb_ok(lb_paillier_tverify_share(&TPK, c, &bad, &em));
	assert_int_equal(lb_paillier_tverify_share(&TPK, c2, &bad, &em), LB_EBADSIG);
	/* a changed response */
	mpz_add_ui(bad.z, bad.z, 1);
	assert_int_equal(lb_paillier_tverify_share(&TPK, c, &bad, &em), LB_EBADSIG);
	/* share of holder 0 or l + 1 */
	bad.i = 0;
	assert_int_equal(lb_paillier_tverify_share(&TPK, c, &bad, &em), LB_EINVALID);
	/* bad ciphertext */
	assert_int_equal(lb_paillier_tdecrypt_share(&TPK, &SH[0], TPK.pk.n, &bad, &em),
			 LB_EINVALID);
	/* the good shares still combine */
	assert_lb_ok(lb_paillier_tcombine(&TPK, c, ds, 3, got, &em));
	assert_int_equal(mpz_get_ui(got), 42);
	/* dealing parameters */
	struct lb_paillier_tpk t2;
	struct lb_paillier_tshare s2[2];
	lb_paillier_tpk_init(&t2);
	lb_paillier_tshare_init(&s2[0]);
	lb_paillier_tshare_init(&s2[1]);
	assert_int_equal(lb_paillier_tdeal(&t2, s2, P, Q, 1, 2, &em), LB_EINVALID);
	assert_int_equal(lb_paillier_tdeal(&t2, s2, P, Q, 3, 2, &em), LB_EINVALID);
	assert_int_equal(lb_paillier_tdeal(&t2, s2, P, P, 2, 2, &em), LB_EINVALID);
	mpz_nextprime(got, P); /* a prime that is (almost surely) not safe */
	for (;;) {
		mpz_t h;
		mpz_init(h);
		mpz_sub_ui(h, got, 1);
		mpz_fdiv_q_2exp(h, h, 1);
		int safe = mpz_probab_prime_p(h, 30) > 0;
		mpz_clear(h);
		if (!safe)
			break;
		mpz_nextprime(got, got);
	}
	assert_int_equal(lb_paillier_tdeal(&t2, s2, got, Q, 2, 2, &em), LB_EINVALID);
	lb_paillier_tshare_release(&s2[0]);
	lb_paillier_tshare_release(&s2[1]);
	lb_paillier_tpk_release(&t2);
	for (int j = 0; j < 3; j++)
		lb_paillier_dshare_release(&ds[j]);
	lb_paillier_dshare_release(&bad);
	mpz_clears(m, c, c2, got, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_primes),
		cmocka_unit_test(test_every_subset),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
