/*
 * Secure aggregation with double masking and Shamir-shared mask seeds (see
 * include/leben/secagg.h): pairwise X25519 seeds expanded by ChaCha20 into uint64 masks.
 */
#include <math.h>
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/secagg.h"

#define CHUNK 1024 /* mask words generated per ChaCha20 call */

int lb_secagg_party_init(struct lb_secagg_party *p, unsigned id, const uint8_t round[32])
{
	if (sodium_init() < 0)
		return LB_ECRYPTO;
	if (id < 1 || id > LB_SECAGG_MAX_PARTIES)
		return LB_EINVALID;
	p->id = id;
	randombytes_buf(p->sk, 32);
	crypto_scalarmult_base(p->pk, p->sk);
	randombytes_buf(p->b, 32);
	memcpy(p->round, round, 32);
	return LB_OK;
}

void lb_secagg_party_wipe(struct lb_secagg_party *p)
{
	sodium_memzero(p, sizeof *p);
}

/* s_ij = BLAKE2b-256 keyed by X25519(sk_i, pk_j) over label | round | min id | max id */
static int pair_seed(uint8_t seed[32], const uint8_t sk[32], const uint8_t pk[32],
		     const uint8_t round[32], unsigned a, unsigned b)
{
	static const char label[] = "LEBEN secagg v1 pair";
	uint8_t shared[32], ids[4];
	unsigned lo = a < b ? a : b, hi = a < b ? b : a;
	crypto_generichash_state st;

	if (crypto_scalarmult(shared, sk, pk) != 0)
		return LB_EINVALID;
	ids[0] = (uint8_t)(lo >> 8);
	ids[1] = (uint8_t)lo;
	ids[2] = (uint8_t)(hi >> 8);
	ids[3] = (uint8_t)hi;
	crypto_generichash_init(&st, shared, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, round, 32);
	crypto_generichash_update(&st, ids, 4);
	crypto_generichash_final(&st, seed, 32);
	sodium_memzero(shared, sizeof shared);
	return LB_OK;
}

/* acc += sign * PRG(seed) over len words (sign = +1 or -1) */
static void add_prg(uint64_t *acc, size_t len, const uint8_t seed[32], int sign)
{
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
	uint8_t buf[CHUNK * 8];
	for (size_t off = 0; off < len; off += CHUNK) {
		size_t m = len - off < CHUNK ? len - off : CHUNK;
		/* block counter continues across chunks: CHUNK*8 bytes = 128 blocks */
		memset(buf, 0, m * 8);
		crypto_stream_chacha20_ietf_xor_ic(buf, buf, m * 8, nonce, (uint32_t)(off / 8), seed);
		for (size_t i = 0; i < m; i++) {
			uint64_t w = 0;
			for (int k = 7; k >= 0; k--)
				w = w << 8 | buf[i * 8 + (size_t)k];
			acc[off + i] += sign > 0 ? w : (uint64_t)0 - w;
		}
	}
	sodium_memzero(buf, sizeof buf);
}

static void put_secret(uint8_t out[LB_SECAGG_SECRET_BYTES], char kind, unsigned id,
		       const uint8_t v[32])
{
	out[0] = (uint8_t)kind;
	out[1] = (uint8_t)(id >> 8);
	out[2] = (uint8_t)id;
	memcpy(out + 3, v, 32);
}

static int check_nt(size_t n, unsigned t, struct lb_errmsg *em)
{
	if (n < 2 || n > LB_SECAGG_MAX_PARTIES)
		return lb_errf(em, LB_EINVALID, "secagg: %zu owners (2..255)", n);
	if (t <= n / 2 || t > n || t < 2)
		return lb_errf(em, LB_EINVALID,
			       "secagg: threshold %u for %zu owners (must be a majority, at least 2)",
			       t, n);
	return LB_OK;
}

int lb_secagg_share(const struct lb_secagg_party *p, size_t n, unsigned t, uint8_t *out,
		    struct lb_errmsg *em)
{
	uint8_t sec[LB_SECAGG_SECRET_BYTES];
	uint8_t *tmp;
	int rc = check_nt(n, t, em);
	if (rc != LB_OK)
		return rc;
	if (p->id > n)
		return lb_errf(em, LB_EINVALID, "secagg: owner id %u beyond %zu owners", p->id, n);
	tmp = lb_malloc(n * LB_SECAGG_SHARE_BYTES);
	if (!tmp)
		return lb_errf(em, LB_ENOMEM, "secagg: out of memory");
	for (int kind = 0; kind < 2 && rc == LB_OK; kind++) {
		put_secret(sec, kind ? 'S' : 'B', p->id, kind ? p->sk : p->b);
		rc = lb_shamir_split(sec, sizeof sec, (unsigned)n, t, tmp, em);
		for (size_t j = 0; rc == LB_OK && j < n; j++)
			memcpy(out + j * LB_SECAGG_PAIR_BYTES + (size_t)kind * LB_SECAGG_SHARE_BYTES,
			       tmp + j * LB_SECAGG_SHARE_BYTES, LB_SECAGG_SHARE_BYTES);
	}
	sodium_memzero(sec, sizeof sec);
	sodium_memzero(tmp, n * LB_SECAGG_SHARE_BYTES);
	lb_free(tmp);
	return rc;
}

int lb_secagg_mask(const struct lb_secagg_party *p, const uint8_t (*pks)[32], size_t n,
		   const uint64_t *x, size_t len, uint64_t *y, struct lb_errmsg *em)
{
	uint8_t seed[32];
	if (p->id < 1 || p->id > n)
		return lb_errf(em, LB_EINVALID, "secagg: owner id %u beyond %zu owners", p->id, n);
	memmove(y, x, len * sizeof *y);
	add_prg(y, len, p->b, +1);
	for (size_t j = 1; j <= n; j++) {
		if (j == p->id)
			continue;
		if (pair_seed(seed, p->sk, pks[j - 1], p->round, p->id, (unsigned)j) != LB_OK)
			return lb_errf(em, LB_EINVALID, "secagg: owner %zu's public key is unusable", j);
		add_prg(y, len, seed, p->id < j ? +1 : -1);
	}
	sodium_memzero(seed, sizeof seed);
	return LB_OK;
}

int lb_secagg_reveal(const struct lb_secagg_party *p, const uint8_t *const *held, size_t n,
		     const uint8_t *alive, uint8_t (*out)[LB_SECAGG_SHARE_BYTES], uint8_t *reveal,
		     struct lb_errmsg *em)
{
	if (p->id < 1 || p->id > n || !alive[p->id - 1])
		return lb_errf(em, LB_EINVALID, "secagg: owner %u is not among the survivors", p->id);
	for (size_t i = 0; i < n; i++) {
		reveal[i] = 0;
		if (!held[i])
			continue;
		/* alive: the self-mask seed share; dropped: the mask key share. Never both. */
		memcpy(out[i], held[i] + (alive[i] ? 0 : LB_SECAGG_SHARE_BYTES), LB_SECAGG_SHARE_BYTES);
		reveal[i] = 1;
	}
	return LB_OK;
}

/* Combine the revealed shares about owner id and check kind and owner. */
static int recover(const uint8_t *const *shares, size_t k, char kind, unsigned id,
		   uint8_t v[32], struct lb_errmsg *em)
{
	uint8_t sec[LB_SHAMIR_MAX_SECRET];
	size_t len;
	int rc = lb_shamir_combine(shares, k, LB_SECAGG_SHARE_BYTES, sec, &len, em);
	if (rc != LB_OK)
		return lb_errwrap(em, "secagg: owner %u: ", id);
	if (len != LB_SECAGG_SECRET_BYTES || sec[0] != (uint8_t)kind ||
	    ((unsigned)sec[1] << 8 | sec[2]) != id)
		rc = lb_errf(em, LB_EINVALID, "secagg: shares about owner %u are of the wrong kind", id);
	else
		memcpy(v, sec + 3, 32);
	sodium_memzero(sec, sizeof sec);
	return rc;
}

int lb_secagg_unmask(const uint8_t round[32], const uint8_t (*pks)[32], size_t n,
		     const uint64_t *const *y, size_t len, const uint8_t *const *const *shares,
		     const size_t *k, uint64_t *sum, struct lb_errmsg *em)
{
	uint8_t v[32], seed[32];
	size_t alive = 0;
	int rc = LB_OK;

	if (n < 2 || n > LB_SECAGG_MAX_PARTIES)
		return lb_errf(em, LB_EINVALID, "secagg: %zu owners (2..255)", n);
	memset(sum, 0, len * sizeof *sum);
	for (size_t i = 0; i < n; i++) {
		if (!y[i])
			continue;
		alive++;
		for (size_t w = 0; w < len; w++)
			sum[w] += y[i][w];
	}
	if (alive < 2)
		return lb_errf(em, LB_EDENIED, "secagg: %zu survivor(s); a sum of one owner would "
					       "reveal its input",
			       alive);
	for (size_t i = 0; i < n && rc == LB_OK; i++) {
		unsigned id = (unsigned)i + 1;
		if (y[i]) { /* survivor: remove its self mask */
			rc = recover(shares[i], k[i], 'B', id, v, em);
			if (rc == LB_OK)
				add_prg(sum, len, v, -1);
			continue;
		}
		/* dropped: recover its key, remove the masks it shared with each survivor */
		rc = recover(shares[i], k[i], 'S', id, v, em);
		for (size_t j = 0; rc == LB_OK && j < n; j++) {
			if (!y[j])
				continue;
			unsigned jd = (unsigned)j + 1;
			if (pair_seed(seed, v, pks[j], round, id, jd) != LB_OK) {
				rc = lb_errf(em, LB_EINVALID, "secagg: owner %u's key is unusable", jd);
				break;
			}
			/* survivor j added +PRG if j < id, -PRG if j > id: undo it */
			add_prg(sum, len, seed, jd < id ? -1 : +1);
		}
	}
	sodium_memzero(v, sizeof v);
	sodium_memzero(seed, sizeof seed);
	if (rc != LB_OK)
		memset(sum, 0, len * sizeof *sum);
	return rc;
}

int lb_secagg_fixed_encode(double v, unsigned frac_bits, uint64_t *out)
{
	double s = ldexp(v, (int)frac_bits);
	if (!(s > -9.2e18 && s < 9.2e18))
		return LB_ERANGE;
	*out = (uint64_t)(int64_t)llround(s);
	return LB_OK;
}

double lb_secagg_fixed_decode(uint64_t v, unsigned frac_bits)
{
	return ldexp((double)(int64_t)v, -(int)frac_bits);
}
