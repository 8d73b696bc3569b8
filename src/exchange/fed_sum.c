/*
 * The combining step of every federated algorithm: n owners' partial vectors are summed so that
 * the coordinator learns only the sum. With secure aggregation each owner encodes its vector in
 * fixed point, adds its self mask and the pairwise masks (leben/secagg.h), and Shamir-shares its
 * seeds; the coordinator removes the masks from the survivors' shares, so a single owner's
 * partial is never seen and an owner that drops out after sharing is simply left out of the sum.
 * Here all parties run in one process (the local `leben study run`); the chain-driven exchange
 * carries the same messages between nodes in envelopes.
 */
#include <math.h>
#include <string.h>

#include <sodium.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"
#include "leben/secagg.h"

static int secure_sum(const double *const *partials, size_t n, size_t len, unsigned fb,
		      const uint8_t *dropped, double *sum, struct lb_errmsg *em)
{
	unsigned t = (unsigned)(n / 2 + 1);
	uint8_t round[32];
	randombytes_buf(round, sizeof round);
	struct lb_secagg_party *p = lb_calloc(n, sizeof *p);
	uint8_t(*pks)[32] = lb_calloc(n, 32);
	uint8_t **pairs = lb_calloc(n, sizeof *pairs);
	uint64_t **x = lb_calloc(n, sizeof *x), **y = lb_calloc(n, sizeof *y);
	uint8_t(*rev)[LB_SECAGG_SHARE_BYTES] = lb_calloc(n * n, LB_SECAGG_SHARE_BYTES);
	uint8_t *revd = lb_calloc(n * n, 1), *alive = lb_calloc(n, 1);
	const uint8_t **held = lb_calloc(n, sizeof *held), **sh = lb_calloc(n * n, sizeof *sh);
	const uint8_t *const **shp = lb_calloc(n, sizeof *shp);
	const uint64_t **ys = lb_calloc(n, sizeof *ys);
	size_t *k = lb_calloc(n, sizeof *k);
	uint64_t *s = lb_calloc(len ? len : 1, sizeof *s);
	int rc = LB_ENOMEM;
	if (!p || !pks || !pairs || !x || !y || !rev || !revd || !alive || !held || !sh || !shp || !ys || !k || !s)
		goto out;
	size_t nalive = 0;
	for (size_t i = 0; i < n; i++) {
		alive[i] = !(dropped && dropped[i]);
		nalive += alive[i];
	}
	if (nalive < t) {
		rc = lb_errf(em, LB_EUNAVAILABLE, "secure aggregation: %zu of %zu owners answered, %u needed", nalive, n, t);
		goto out;
	}
	/* round 0 and 1: keys, shares */
	for (size_t i = 0; i < n; i++) {
		if ((rc = lb_secagg_party_init(&p[i], (unsigned)i + 1, round)))
			goto out;
		memcpy(pks[i], p[i].pk, 32);
		pairs[i] = lb_malloc(n * LB_SECAGG_PAIR_BYTES);
		x[i] = lb_malloc((len ? len : 1) * sizeof **x);
		y[i] = lb_malloc((len ? len : 1) * sizeof **y);
		if (!pairs[i] || !x[i] || !y[i]) {
			rc = LB_ENOMEM;
			goto out;
		}
		if ((rc = lb_secagg_share(&p[i], n, t, pairs[i], em)))
			goto out;
	}
	/* round 2: masked vectors of the owners still there */
	for (size_t i = 0; i < n; i++) {
		if (!alive[i])
			continue;
		for (size_t j = 0; j < len; j++)
			if ((rc = lb_secagg_fixed_encode(partials[i][j], fb, &x[i][j]))) {
				rc = lb_errf(em, LB_ERANGE, "owner %zu: value %g does not fit the fixed-point encoding",
					     i + 1, partials[i][j]);
				goto out;
			}
		if ((rc = lb_secagg_mask(&p[i], (const uint8_t(*)[32])pks, n, x[i], len, y[i], em)))
			goto out;
		sodium_memzero(x[i], len * sizeof **x);
		ys[i] = y[i];
	}
	/* round 3: reveals */
	for (size_t j = 0; j < n; j++) {
		if (!alive[j])
			continue;
		for (size_t i = 0; i < n; i++)
			held[i] = pairs[i] + j * LB_SECAGG_PAIR_BYTES;
		if ((rc = lb_secagg_reveal(&p[j], held, n, alive, rev + j * n, revd + j * n, em)))
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++)
			if (alive[j] && revd[j * n + i])
				sh[i * n + k[i]++] = rev[j * n + i];
		shp[i] = sh + i * n;
	}
	if ((rc = lb_secagg_unmask(round, (const uint8_t(*)[32])pks, n, ys, len, shp, k, s, em)))
		goto out;
	for (size_t j = 0; j < len; j++)
		sum[j] = lb_secagg_fixed_decode(s[j], fb);
	rc = LB_OK;
out:
	for (size_t i = 0; p && i < n; i++) {
		lb_secagg_party_wipe(&p[i]);
		if (pairs)
			lb_free(pairs[i]);
		if (x)
			lb_free(x[i]);
		if (y)
			lb_free(y[i]);
	}
	if (rev)
		sodium_memzero(rev, n * n * LB_SECAGG_SHARE_BYTES);
	lb_free(p);
	lb_free(pks);
	lb_free(pairs);
	lb_free(x);
	lb_free(y);
	lb_free(rev);
	lb_free(revd);
	lb_free(alive);
	lb_free(held);
	lb_free(sh);
	lb_free(shp);
	lb_free(ys);
	lb_free(k);
	lb_free(s);
	return rc;
}

int lb_fed_sum(const double *const *partials, size_t n, size_t len, const struct lb_fed_options *o,
	       double *sum, struct lb_fed_stats *st, struct lb_errmsg *em)
{
	uint64_t t0 = lb_mono_ns();
	int rc = LB_OK;
	if (n == 0)
		return lb_errf(em, LB_EINVALID, "no owners");
	if (o && o->secure) {
		if (n < 2 || n > LB_SECAGG_MAX_PARTIES)
			return lb_errf(em, LB_EINVALID, "secure aggregation needs 2 to %d owners (got %zu)",
				       LB_SECAGG_MAX_PARTIES, n);
		rc = secure_sum(partials, n, len, o->frac_bits ? o->frac_bits : 24, o->dropped, sum, em);
	} else {
		memset(sum, 0, len * sizeof *sum);
		for (size_t i = 0; i < n; i++)
			if (!(o && o->dropped && o->dropped[i]))
				for (size_t j = 0; j < len; j++)
					sum[j] += partials[i][j];
	}
	if (st && rc == LB_OK) {
		st->rounds++;
		st->values_summed += len;
		st->aggregate_ns += lb_mono_ns() - t0;
	}
	return rc;
}

/* ---- pairwise masks of a study across nodes ------------------------------------------------- */

int lb_fed_mask(const double *v, size_t len, unsigned frac_bits, const uint8_t digest[32],
		const uint8_t self_pk[32], const uint8_t (*peer_pk)[32], const uint8_t (*pair)[32],
		size_t npeers, uint64_t *out, struct lb_errmsg *em)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	for (size_t j = 0; j < len; j++)
		if (lb_secagg_fixed_encode(v[j], frac_bits, &out[j]))
			return lb_errf(em, LB_ERANGE, "value %zu (%g) does not fit the fixed-point encoding", j, v[j]);
	uint8_t *stream = lb_malloc(len ? len * 8 : 1), key[32];
	if (!stream)
		return LB_ENOMEM;
	for (size_t k = 0; k < npeers; k++) {
		int c = memcmp(self_pk, peer_pk[k], 32);
		if (c == 0)
			continue;
		crypto_generichash_state h;
		crypto_generichash_init(&h, NULL, 0, sizeof key);
		crypto_generichash_update(&h, pair[k], 32);
		crypto_generichash_update(&h, digest, 32);
		crypto_generichash_final(&h, key, sizeof key);
		crypto_stream_chacha20(stream, len * 8, nonce, key);
		for (size_t j = 0; j < len; j++) {
			uint64_t m = 0;
			for (int b = 7; b >= 0; b--)
				m = (m << 8) | stream[j * 8 + (size_t)b];
			out[j] = c < 0 ? out[j] + m : out[j] - m;
		}
		sodium_memzero(&h, sizeof h);
	}
	sodium_memzero(key, sizeof key);
	sodium_memzero(stream, len * 8);
	lb_free(stream);
	return LB_OK;
}
