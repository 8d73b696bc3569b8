/* Unit tests for the Schnorr/ristretto255 proof: group arithmetic of libsodium against values
 * computed by @noble/curves (tests/vectors/ristretto/noble-arith.txt), proofs made by a noble
 * implementation of the same Fiat–Shamir transform verify here, and ours verify for their
 * context only (wrong secret, other account/chain/purpose/nonce/bound key, replay with a new
 * nonce, tampered bytes); the Argon2id recovery commitment and the keys.reset payload. */
#include "test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/zkp.h"

static FILE *open_vec(const char *name)
{
	const char *root = getenv("LEBEN_ROOT");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/vectors/ristretto/%s", root ? root : ".", name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	return f;
}

static void reduce32(uint8_t out[32], const uint8_t in[32])
{
	uint8_t wide[64] = {0};
	memcpy(wide, in, 32);
	crypto_core_ristretto255_scalar_reduce(out, wide);
}

static void test_noble_arithmetic(void **state)
{
	char a[65], b[65], aB[65], bB[65], sum[65], abB[65], line[1024];
	uint8_t x[32], y[32], P[32], Q[32], e[32], got[32];
	int rows = 0;
	FILE *f = open_vec("noble-arith.txt");
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%64s %64s %64s %64s %64s %64s", a, b, aB, bB, sum, abB), 6);
		assert_lb_ok(lb_hex_decode(x, 32, a));
		assert_lb_ok(lb_hex_decode(y, 32, b));
		assert_lb_ok(lb_zk_public(P, x));
		assert_lb_ok(lb_hex_decode(e, 32, aB));
		assert_memory_equal(P, e, 32);
		assert_lb_ok(lb_zk_public(Q, y));
		assert_lb_ok(lb_hex_decode(e, 32, bB));
		assert_memory_equal(Q, e, 32);
		crypto_core_ristretto255_add(got, P, Q);
		assert_lb_ok(lb_hex_decode(e, 32, sum));
		assert_memory_equal(got, e, 32);
		assert_int_equal(crypto_scalarmult_ristretto255(got, x, Q), 0);
		assert_lb_ok(lb_hex_decode(e, 32, abB));
		assert_memory_equal(got, e, 32);
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, 16);
}

static const uint8_t acct[4] = {0x00, 0x11, 0x22, 0x33};
static const uint8_t bound[3] = {0xaa, 0xbb, 0xcc};

static void test_noble_proofs(void **state)
{
	char line[1024], xs[65], Xs[65], Rs[65], Ss[65];
	uint8_t ctxd[32], exp[32], x[32], X[32], e[32], proof[64];
	struct lb_zk_context ctx = {acct, 4, "business", "keys.reset", 7, bound, 3};
	int rows = 0, first = 1;
	FILE *f = open_vec("noble-proofs.txt");

	lb_zk_context_digest(&ctx, ctxd);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		if (first) { /* the context digest computed by noble */
			line[64] = 0;
			assert_lb_ok(lb_hex_decode(exp, 32, line));
			assert_memory_equal(exp, ctxd, 32);
			first = 0;
			continue;
		}
		assert_int_equal(sscanf(line, "%64s %64s %64s %64s", xs, Xs, Rs, Ss), 4);
		assert_lb_ok(lb_hex_decode(e, 32, xs));
		reduce32(x, e);
		assert_lb_ok(lb_zk_public(X, x));
		assert_lb_ok(lb_hex_decode(e, 32, Xs));
		assert_memory_equal(X, e, 32);
		assert_lb_ok(lb_hex_decode(proof, 32, Rs));
		assert_lb_ok(lb_hex_decode(proof + 32, 32, Ss));
		assert_lb_ok(lb_zk_verify(proof, X, &ctx));
		ctx.nonce = 8;
		assert_int_equal(lb_zk_verify(proof, X, &ctx), LB_EBADSIG);
		ctx.nonce = 7;
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, 3);
}

static void test_contexts(void **state)
{
	uint8_t x[32], x2[32], X[32], X2[32], proof[64], bad[64], wide[64];
	struct lb_zk_context ctx = {acct, 4, "business", "keys.reset", 41, bound, 3}, o;

	randombytes_buf(wide, sizeof wide);
	crypto_core_ristretto255_scalar_reduce(x, wide);
	randombytes_buf(wide, sizeof wide);
	crypto_core_ristretto255_scalar_reduce(x2, wide);
	assert_lb_ok(lb_zk_public(X, x));
	assert_lb_ok(lb_zk_public(X2, x2));
	assert_lb_ok(lb_zk_prove(proof, x, &ctx));
	assert_lb_ok(lb_zk_verify(proof, X, &ctx));
	/* wrong secret: a proof with x2 does not hold for X */
	assert_lb_ok(lb_zk_prove(bad, x2, &ctx));
	assert_int_equal(lb_zk_verify(bad, X, &ctx), LB_EBADSIG);
	assert_int_equal(lb_zk_verify(proof, X2, &ctx), LB_EBADSIG);
	/* every context field matters; a replay under the next nonce fails */
	uint8_t acct2[4] = {0x00, 0x11, 0x22, 0x34};
	o = ctx; o.account = acct2;            assert_int_equal(lb_zk_verify(proof, X, &o), LB_EBADSIG);
	o = ctx; o.account_len = 3;            assert_int_equal(lb_zk_verify(proof, X, &o), LB_EBADSIG);
	o = ctx; o.chain = "settlement";       assert_int_equal(lb_zk_verify(proof, X, &o), LB_EBADSIG);
	o = ctx; o.purpose = "login";          assert_int_equal(lb_zk_verify(proof, X, &o), LB_EBADSIG);
	o = ctx; o.nonce = 42;                 assert_int_equal(lb_zk_verify(proof, X, &o), LB_EBADSIG);
	o = ctx; o.bound = NULL; o.bound_len = 0; assert_int_equal(lb_zk_verify(proof, X, &o), LB_EBADSIG);
	/* tampering, non-canonical s, invalid points */
	for (int i = 0; i < 64; i += 9) {
		memcpy(bad, proof, 64);
		bad[i] ^= 1;
		int rc = lb_zk_verify(bad, X, &ctx);
		assert_true(rc == LB_EBADSIG || rc == LB_EMALFORMED);
	}
	memcpy(bad, proof, 64);
	memset(bad + 32, 0xff, 32);
	assert_int_equal(lb_zk_verify(bad, X, &ctx), LB_EBADSIG);
	memset(bad + 32, 0, 32);
	assert_int_equal(lb_zk_verify(bad, X, &ctx), LB_EBADSIG);
	uint8_t notpt[32];
	memset(notpt, 0xff, 32);
	assert_int_equal(lb_zk_verify(proof, notpt, &ctx), LB_EMALFORMED);
	uint8_t zero[32] = {0};
	assert_int_equal(lb_zk_public(X2, zero), LB_EINVALID);
}

static void test_recovery_and_reset(void **state)
{
	struct lb_zk_recovery rec, back;
	struct lb_keyreset r, r2;
	struct lb_errmsg em;
	uint8_t x[32], xw[32], buf[LB_KEYRESET_MAXBYTES], rb[LB_ZK_RECOVERY_BYTES];
	size_t len;
	const char *secret = "correct horse battery staple";

	/* small Argon2id costs keep the test fast; the defaults are 3 passes, 64 MiB */
	assert_lb_ok(lb_zk_recovery_new(&rec, secret, strlen(secret), 1, 8192, &em));
	lb_zk_recovery_encode(&rec, rb);
	assert_lb_ok(lb_zk_recovery_decode(&back, rb, sizeof rb, &em));
	assert_memory_equal(back.X, rec.X, 32);
	assert_int_equal(lb_zk_recovery_decode(&back, rb, sizeof rb - 1, &em), LB_EMALFORMED);
	/* derivation is deterministic given salt and costs */
	assert_lb_ok(lb_zk_derive(x, secret, strlen(secret), &rec, &em));
	uint8_t X[32];
	assert_lb_ok(lb_zk_public(X, x));
	assert_memory_equal(X, rec.X, 32);

	memset(&r, 0, sizeof r);
	r.account_len = 32;
	randombytes_buf(r.account, 32);
	randombytes_buf(r.new_pk, 32);
	r.nonce = 1;
	assert_lb_ok(lb_keyreset_prove(&r, x));
	assert_lb_ok(lb_keyreset_encode(&r, buf, &len, &em));
	assert_int_equal(len, 2 + 32 + 32 + 8 + 64);
	assert_lb_ok(lb_keyreset_decode(&r2, buf, len, &em));
	assert_lb_ok(lb_keyreset_check(&r2, &rec, &em));
	assert_int_equal(lb_keyreset_decode(&r2, buf, len - 1, &em), LB_EMALFORMED);
	buf[0] = 9;
	assert_int_equal(lb_keyreset_decode(&r2, buf, len, &em), LB_EUNSUPPORTED);
	/* replay: the same proof under the account's next nonce */
	r2 = r;
	r2.nonce = 2;
	assert_int_equal(lb_keyreset_check(&r2, &rec, &em), LB_EBADSIG);
	/* an attacker swapping in their own new key */
	r2 = r;
	r2.new_pk[0] ^= 1;
	assert_int_equal(lb_keyreset_check(&r2, &rec, &em), LB_EBADSIG);
	/* wrong recovery secret */
	assert_lb_ok(lb_zk_derive(xw, "correct horse battery stapler", 29, &rec, &em));
	r2 = r;
	assert_lb_ok(lb_keyreset_prove(&r2, xw));
	assert_int_equal(lb_keyreset_check(&r2, &rec, &em), LB_EBADSIG);
	assert_int_equal(lb_zk_derive(xw, "short", 5, &rec, &em), LB_EINVALID);
	sodium_memzero(x, sizeof x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noble_arithmetic),
		cmocka_unit_test(test_noble_proofs),
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_recovery_and_reset),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
