/* Unit tests for secure aggregation: the aggregator gets exactly the sum of fixed-point
 * vectors among 3 and 10 owners, with and without dropped owners; what it holds about one
 * owner (its masked vector and the revealed material) does not decode to that owner's input;
 * masked words look uniform; too few shares, a minority threshold and a lone survivor are
 * refused. The expected sum is computed independently in plain integer arithmetic. */
#include "test.h"

#include <sodium.h>
#include <math.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/secagg.h"

#define MAXN 10
#define LEN 2000

struct run {
	size_t n;
	unsigned t;
	struct lb_secagg_party p[MAXN];
	uint8_t pks[MAXN][32];
	uint8_t *pairs[MAXN];            /* pairs[i] = what owner i+1 made for everyone */
	uint64_t x[MAXN][LEN], y[MAXN][LEN];
	uint8_t rev[MAXN][MAXN][LB_SECAGG_SHARE_BYTES]; /* rev[j][i]: from survivor j about i */
	uint8_t revd[MAXN][MAXN];
};

static struct run R;

static void setup_run(size_t n, unsigned t)
{
	uint8_t round[32];
	struct lb_errmsg em;
	randombytes_buf(round, sizeof round);
	R.n = n;
	R.t = t;
	for (size_t i = 0; i < n; i++) {
		assert_lb_ok(lb_secagg_party_init(&R.p[i], (unsigned)i + 1, round));
		memcpy(R.pks[i], R.p[i].pk, 32);
		R.pairs[i] = lb_malloc(n * LB_SECAGG_PAIR_BYTES);
		assert_lb_ok(lb_secagg_share(&R.p[i], n, t, R.pairs[i], &em));
		for (size_t w = 0; w < LEN; w++) /* values in [-1000, 1000) with 16 fraction bits */
			assert_lb_ok(lb_secagg_fixed_encode(((double)randombytes_uniform(2000000) - 1e6) / 1000.0, 16, &R.x[i][w]));
	}
}

static void teardown_run(void)
{
	for (size_t i = 0; i < R.n; i++) {
		lb_free(R.pairs[i]);
		lb_secagg_party_wipe(&R.p[i]);
	}
}

/* Owners in `drop` never send their masked vector; everyone else masks, reveals, and the
 * aggregator unmasks. Returns the aggregator's rc; sum in out. */
static int aggregate(const uint8_t *drop, uint64_t *out, struct lb_errmsg *em)
{
	uint8_t alive[MAXN];
	const uint64_t *ys[MAXN];
	for (size_t i = 0; i < R.n; i++) {
		alive[i] = !drop[i];
		ys[i] = NULL;
		if (alive[i]) {
			assert_lb_ok(lb_secagg_mask(&R.p[i], (const uint8_t(*)[32])R.pks, R.n, R.x[i], LEN,
						    R.y[i], em));
			ys[i] = R.y[i];
		}
	}
	for (size_t j = 0; j < R.n; j++) {
		if (!alive[j])
			continue;
		const uint8_t *held[MAXN];
		for (size_t i = 0; i < R.n; i++)
			held[i] = R.pairs[i] + j * LB_SECAGG_PAIR_BYTES;
		assert_lb_ok(lb_secagg_reveal(&R.p[j], held, R.n, alive, R.rev[j], R.revd[j], em));
	}
	const uint8_t *sh[MAXN][MAXN];
	const uint8_t *const *shp[MAXN];
	size_t k[MAXN];
	for (size_t i = 0; i < R.n; i++) {
		k[i] = 0;
		for (size_t j = 0; j < R.n; j++)
			if (alive[j] && R.revd[j][i])
				sh[i][k[i]++] = R.rev[j][i];
		shp[i] = sh[i];
	}
	return lb_secagg_unmask(R.p[0].round, (const uint8_t(*)[32])R.pks, R.n, ys, LEN, shp, k, out, em);
}

static void check_sum(const uint8_t *drop, const uint64_t *got)
{
	for (size_t w = 0; w < LEN; w++) {
		int64_t exp = 0;
		for (size_t i = 0; i < R.n; i++)
			if (!drop[i])
				exp += (int64_t)R.x[i][w];
		assert_int_equal((int64_t)got[w], exp);
	}
}

static void test_three(void **state)
{
	uint8_t drop[MAXN] = {0};
	static uint64_t sum[LEN];
	struct lb_errmsg em;
	setup_run(3, 2);
	assert_lb_ok(aggregate(drop, sum, &em));
	check_sum(drop, sum);
	/* one drop-out: the other two still aggregate */
	drop[1] = 1;
	assert_lb_ok(aggregate(drop, sum, &em));
	check_sum(drop, sum);
	/* decoded value is the real-valued sum */
	double s = 0;
	for (size_t i = 0; i < 3; i++)
		if (!drop[i])
			s += lb_secagg_fixed_decode(R.x[i][0], 16);
	assert_true(fabs(lb_secagg_fixed_decode(sum[0], 16) - s) < 1e-9);
	/* two drop-outs: a lone survivor is refused (its sum would be its input) */
	drop[2] = 1;
	assert_int_equal(aggregate(drop, sum, &em), LB_EDENIED);
	teardown_run();
}

static void test_ten_with_dropouts(void **state)
{
	uint8_t drop[MAXN] = {0};
	static uint64_t sum[LEN];
	struct lb_errmsg em;
	setup_run(10, 6);
	assert_lb_ok(aggregate(drop, sum, &em));
	check_sum(drop, sum);
	drop[0] = drop[4] = drop[9] = 1; /* 7 survivors >= t = 6 */
	assert_lb_ok(aggregate(drop, sum, &em));
	check_sum(drop, sum);
	drop[5] = drop[6] = 1; /* 5 survivors < t: not enough shares to unmask */
	assert_int_equal(aggregate(drop, sum, &em), LB_EINVALID);
	for (size_t w = 0; w < LEN; w++)
		assert_int_equal(sum[w], 0); /* nothing partial released */
	teardown_run();
}

/* What the aggregator holds about a surviving owner: its masked vector and its self-mask seed.
 * Removing the self mask still leaves the pairwise masks: the result is not the input, and the
 * masked words are uniform-looking (top bits balanced) even for an all-zero input. The key
 * share of a survivor is never revealed. */
static void test_aggregator_view(void **state)
{
	uint8_t drop[MAXN] = {0};
	static uint64_t sum[LEN], view[LEN];
	struct lb_errmsg em;
	setup_run(3, 2);
	memset(R.x[0], 0, sizeof R.x[0]);
	assert_lb_ok(aggregate(drop, sum, &em));
	check_sum(drop, sum);
	/* every revealed share about owner 1 combines to its 'B' seed, never to its key */
	const uint8_t *sh[3] = {R.rev[0][0], R.rev[1][0], R.rev[2][0]};
	uint8_t sec[LB_SHAMIR_MAX_SECRET];
	size_t len;
	assert_lb_ok(lb_shamir_combine(sh, 3, LB_SECAGG_SHARE_BYTES, sec, &len, &em));
	assert_int_equal(sec[0], 'B');
	assert_memory_equal(sec + 3, R.p[0].b, 32);
	/* y1 minus PRG(b1) (the most the aggregator can strip) is still not x1 = 0 */
	memcpy(view, R.y[0], sizeof view);
	uint64_t top = 0, zeros = 0;
	for (size_t w = 0; w < LEN; w++) {
		top += R.y[0][w] >> 63;
		zeros += R.y[0][w] == 0;
	}
	assert_int_equal(zeros, 0);
	assert_true(top > LEN * 45 / 100 && top < LEN * 55 / 100);
	/* recompute PRG(b1) through a fresh one-owner mask with the same seed */
	struct lb_secagg_party solo = R.p[0];
	uint64_t zero[LEN] = {0}, prg[LEN];
	uint8_t one_pk[2][32];
	memcpy(one_pk[0], solo.pk, 32);
	/* with n = 1 there are no pairwise terms: y = PRG(b) */
	assert_lb_ok(lb_secagg_mask(&solo, (const uint8_t(*)[32])one_pk, 1, zero, LEN, prg, &em));
	size_t still_masked = 0;
	for (size_t w = 0; w < LEN; w++)
		still_masked += (view[w] - prg[w]) != 0;
	assert_int_equal(still_masked, LEN);
	lb_secagg_party_wipe(&solo);
	teardown_run();
}

static void test_params(void **state)
{
	struct lb_secagg_party p;
	uint8_t round[32] = {0}, buf[4 * LB_SECAGG_PAIR_BYTES];
	struct lb_errmsg em;
	uint64_t v;
	assert_lb_ok(lb_secagg_party_init(&p, 1, round));
	assert_int_equal(lb_secagg_share(&p, 4, 2, buf, &em), LB_EINVALID); /* not a majority */
	assert_int_equal(lb_secagg_share(&p, 4, 5, buf, &em), LB_EINVALID);
	assert_lb_ok(lb_secagg_share(&p, 4, 3, buf, &em));
	assert_int_equal(lb_secagg_party_init(&p, 0, round), LB_EINVALID);
	assert_int_equal(lb_secagg_fixed_encode(1e300, 16, &v), LB_ERANGE);
	assert_lb_ok(lb_secagg_fixed_encode(-1.5, 16, &v));
	assert_int_equal((int64_t)v, -98304);
	lb_secagg_party_wipe(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three),
		cmocka_unit_test(test_ten_with_dropouts),
		cmocka_unit_test(test_aggregator_view),
		cmocka_unit_test(test_params),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
