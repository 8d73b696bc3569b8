/* Unit tests for Paillier: a key and ciphertexts made by npm paillier-bigint
 * (tests/vectors/paillier/npm-2048.json) are reproduced exactly (Enc(m; r) equal, CRT and
 * textbook decryption equal, homomorphic sum and product equal); a fresh 2048-bit key
 * round-trips; homomorphic identities; bad parameters and foreign ciphertexts. */
#include "test.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/paillier.h"

static void getz(mpz_t z, json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	assert_non_null(v);
	assert_int_equal(mpz_set_str(z, json_string_value(v), 10), 0);
}

static void test_npm_vector(void **state)
{
	const char *root = getenv("LEBEN_ROOT");
	char path[1024];
	json_error_t jerr;
	struct lb_paillier_sk sk;
	struct lb_errmsg em;
	mpz_t p, q, x, m, r, c, got, c2;

	snprintf(path, sizeof path, "%s/tests/vectors/paillier/npm-2048.json", root ? root : ".");
	json_t *j = json_load_file(path, 0, &jerr);
	assert_non_null(j);
	mpz_inits(p, q, x, m, r, c, got, c2, NULL);
	lb_paillier_sk_init(&sk);
	getz(p, j, "p");
	getz(q, j, "q");
	assert_lb_ok(lb_paillier_sk_set(&sk, p, q, &em));
	getz(x, j, "n");
	assert_int_equal(mpz_cmp(x, sk.pk.n), 0);
	assert_int_equal(mpz_sizeinbase(sk.pk.n, 2), 2048);
	getz(x, j, "lambda");
	assert_int_equal(mpz_cmp(x, sk.lambda), 0);
	getz(x, j, "mu");
	assert_int_equal(mpz_cmp(x, sk.mu), 0);
	json_t *cases = json_object_get(j, "cases");
	assert_int_equal(json_array_size(cases), 5);
	for (size_t i = 0; i < json_array_size(cases); i++) {
		json_t *e = json_array_get(cases, i);
		getz(m, e, "m");
		getz(r, e, "r");
		getz(c, e, "c");
		assert_lb_ok(lb_paillier_encrypt_r(&sk.pk, got, m, r, &em));
		assert_int_equal(mpz_cmp(got, c), 0);
		assert_lb_ok(lb_paillier_decrypt(&sk, got, c, &em));
		assert_int_equal(mpz_cmp(got, m), 0);
		assert_lb_ok(lb_paillier_decrypt_nocrt(&sk, got, c, &em));
		assert_int_equal(mpz_cmp(got, m), 0);
	}
	getz(c, json_array_get(cases, 2), "c");
	getz(c2, json_array_get(cases, 4), "c");
	assert_lb_ok(lb_paillier_add(&sk.pk, got, c, c2, &em));
	getz(x, j, "sum");
	assert_int_equal(mpz_cmp(got, x), 0);
	mpz_set_ui(r, 1000);
	assert_lb_ok(lb_paillier_mul_plain(&sk.pk, got, c, r, &em));
	getz(x, j, "prod");
	assert_int_equal(mpz_cmp(got, x), 0);
	assert_lb_ok(lb_paillier_decrypt(&sk, got, x, &em));
	assert_int_equal(mpz_cmp_ui(got, 42000), 0);
	lb_paillier_sk_release(&sk);
	mpz_clears(p, q, x, m, r, c, got, c2, NULL);
	json_decref(j);
}

static void test_fresh_key(void **state)
{
	struct lb_paillier_sk sk;
	struct lb_errmsg em;
	mpz_t a, b, ca, cb, c, m, k;

	mpz_inits(a, b, ca, cb, c, m, k, NULL);
	lb_paillier_sk_init(&sk);
	assert_int_equal(lb_paillier_keygen(&sk, 1024, &em), LB_EINVALID);
	assert_lb_ok(lb_paillier_keygen(&sk, 2048, &em));
	assert_int_equal(mpz_sizeinbase(sk.pk.n, 2), 2048);
	mpz_set_ui(a, 123456789);
	mpz_set_ui(b, 987654321);
	assert_lb_ok(lb_paillier_encrypt(&sk.pk, ca, a, &em));
	assert_lb_ok(lb_paillier_encrypt(&sk.pk, cb, a, &em));
	assert_int_not_equal(mpz_cmp(ca, cb), 0); /* probabilistic */
	assert_lb_ok(lb_paillier_encrypt(&sk.pk, cb, b, &em));
	assert_lb_ok(lb_paillier_add(&sk.pk, c, ca, cb, &em));
	assert_lb_ok(lb_paillier_decrypt(&sk, m, c, &em));
	assert_int_equal(mpz_cmp_ui(m, 123456789 + 987654321ul), 0);
	mpz_set_ui(k, 5);
	assert_lb_ok(lb_paillier_add_plain(&sk.pk, c, c, k, &em));
	assert_lb_ok(lb_paillier_mul_plain(&sk.pk, c, c, k, &em));
	assert_lb_ok(lb_paillier_decrypt(&sk, m, c, &em));
	assert_int_equal(mpz_cmp_ui(m, (123456789 + 987654321ul + 5) * 5), 0);
	/* wrap-around mod n: (n - 1) + 2 = 1 */
	mpz_sub_ui(a, sk.pk.n, 1);
	assert_lb_ok(lb_paillier_encrypt(&sk.pk, ca, a, &em));
	mpz_set_ui(k, 2);
	assert_lb_ok(lb_paillier_add_plain(&sk.pk, c, ca, k, &em));
	assert_lb_ok(lb_paillier_decrypt(&sk, m, c, &em));
	assert_int_equal(mpz_cmp_ui(m, 1), 0);
	/* bad inputs */
	assert_int_equal(lb_paillier_encrypt(&sk.pk, c, sk.pk.n, &em), LB_ERANGE);
	mpz_set_si(a, -1);
	assert_int_equal(lb_paillier_encrypt(&sk.pk, c, a, &em), LB_ERANGE);
	assert_int_equal(lb_paillier_decrypt(&sk, m, sk.pk.n2, &em), LB_EINVALID);
	assert_int_equal(lb_paillier_decrypt(&sk, m, sk.p, &em), LB_EINVALID);
	mpz_set_ui(a, 0);
	assert_int_equal(lb_paillier_decrypt(&sk, m, a, &em), LB_EINVALID);
	assert_int_equal(lb_paillier_sk_set(&sk, sk.p, sk.p, &em), LB_EINVALID);
	mpz_add_ui(a, sk.p, 2);
	if (mpz_probab_prime_p(a, 30) == 0)
		assert_int_equal(lb_paillier_sk_set(&sk, a, sk.q, &em), LB_EINVALID);
	lb_paillier_sk_release(&sk);
	mpz_clears(a, b, ca, cb, c, m, k, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_npm_vector),
		cmocka_unit_test(test_fresh_key),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
