/*
 * Key-evolving signatures: the MMM sum composition over Ed25519 with BLAKE2b-256, depth 6,
 * laid out exactly as Cardano's Sum6KES / SumCompact6KES so its reference vectors are
 * reproduced byte for byte (see include/leben/kes.h and tests/vectors/kes-sum6/README.md).
 * The recursion works on byte slices: the key of depth d is the key of depth d-1 followed by
 * r1 | vk0 | vk1, the signature of depth d is the signature of depth d-1 followed by vk0 | vk1
 * (compact: by the other subtree's vk only).
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/kes.h"

#define SK_BYTES(d) (32u + 96u * (unsigned)(d))
#define SIG_BYTES(d) (64u + 64u * (unsigned)(d))
#define CSIG_BYTES(d) (96u + 32u * (unsigned)(d))

static void hash_pair(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, a, 32);
	crypto_generichash_update(&st, b, 32);
	crypto_generichash_final(&st, out, 32);
}

/* r0 = H(1 | r), r1 = H(2 | r) */
static void seed_split(uint8_t r0[32], uint8_t r1[32], const uint8_t r[32])
{
	uint8_t buf[33];
	buf[0] = 1;
	memcpy(buf + 1, r, 32);
	crypto_generichash(r0, 32, buf, sizeof buf, NULL, 0);
	buf[0] = 2;
	crypto_generichash(r1, 32, buf, sizeof buf, NULL, 0);
	sodium_memzero(buf, sizeof buf);
}

static void leaf_vk(uint8_t vk[32], const uint8_t seed[32])
{
	uint8_t sk[64];
	crypto_sign_seed_keypair(vk, sk, seed);
	sodium_memzero(sk, sizeof sk);
}

/* Key of depth d from seed r into sk (SK_BYTES(d)) and its vk. r is not modified. */
static void keygen(unsigned d, uint8_t *sk, uint8_t vk[32], const uint8_t r[32])
{
	uint8_t r0[32], r1[32], vk1[32];
	if (d == 0) {
		memcpy(sk, r, 32);
		leaf_vk(vk, r);
		return;
	}
	uint8_t *tail = sk + SK_BYTES(d - 1);
	seed_split(r0, r1, r);
	keygen(d - 1, sk, tail + 32, r0);
	/* vk1: generate the right subtree in a scratch key only to learn its vk */
	uint8_t scratch[SK_BYTES(LB_KES_DEPTH)];
	keygen(d - 1, scratch, vk1, r1);
	sodium_memzero(scratch, SK_BYTES(d - 1));
	memcpy(tail, r1, 32);
	memcpy(tail + 64, vk1, 32);
	hash_pair(vk, tail + 32, tail + 64);
	sodium_memzero(r0, sizeof r0);
	sodium_memzero(r1, sizeof r1);
}

static void sign_rec(unsigned d, const uint8_t *sk, uint32_t t, const uint8_t *msg, size_t len,
		     uint8_t *sig, int compact)
{
	if (d == 0) {
		uint8_t pk[32], esk[64];
		crypto_sign_seed_keypair(pk, esk, sk);
		crypto_sign_detached(sig, NULL, msg, len, esk);
		sodium_memzero(esk, sizeof esk);
		if (compact)
			memcpy(sig + 64, pk, 32);
		return;
	}
	uint32_t half = 1u << (d - 1);
	const uint8_t *tail = sk + SK_BYTES(d - 1);
	sign_rec(d - 1, sk, t < half ? t : t - half, msg, len, sig, compact);
	if (compact) /* the vk of the subtree not used */
		memcpy(sig + CSIG_BYTES(d - 1), t < half ? tail + 64 : tail + 32, 32);
	else
		memcpy(sig + SIG_BYTES(d - 1), tail + 32, 64);
}

static int verify_rec(unsigned d, const uint8_t vk[32], uint32_t t, const uint8_t *msg,
		      size_t len, const uint8_t *sig)
{
	if (d == 0)
		return crypto_sign_verify_detached(sig, msg, len, vk) == 0;
	uint32_t half = 1u << (d - 1);
	const uint8_t *vks = sig + SIG_BYTES(d - 1);
	uint8_t h[32];
	hash_pair(h, vks, vks + 32);
	if (sodium_memcmp(h, vk, 32) != 0)
		return 0;
	return t < half ? verify_rec(d - 1, vks, t, msg, len, sig)
			: verify_rec(d - 1, vks + 32, t - half, msg, len, sig);
}

/* Compact verification rebuilds the vk bottom-up; returns 1 and vk if the leaf verifies. */
static int verify_compact_rec(unsigned d, uint32_t t, const uint8_t *msg, size_t len,
			      const uint8_t *sig, uint8_t vk[32])
{
	if (d == 0) {
		if (crypto_sign_verify_detached(sig, msg, len, sig + 64) != 0)
			return 0;
		memcpy(vk, sig + 64, 32);
		return 1;
	}
	uint32_t half = 1u << (d - 1);
	uint8_t inner[32];
	const uint8_t *other = sig + CSIG_BYTES(d - 1);
	if (!verify_compact_rec(d - 1, t < half ? t : t - half, msg, len, sig, inner))
		return 0;
	if (t < half)
		hash_pair(vk, inner, other);
	else
		hash_pair(vk, other, inner);
	return 1;
}

/* Move the key of depth d from period t to t + 1. */
static void update_rec(unsigned d, uint8_t *sk, uint32_t t)
{
	uint32_t half = 1u << (d - 1);
	uint8_t *tail = sk + SK_BYTES(d - 1);
	if (t + 1 < half) {
		update_rec(d - 1, sk, t);
	} else if (t + 1 == half) {
		uint8_t vk[32];
		sodium_memzero(sk, SK_BYTES(d - 1)); /* the left subtree's secrets */
		keygen(d - 1, sk, vk, tail);
		sodium_memzero(tail, 32); /* r1 is spent */
	} else {
		update_rec(d - 1, sk, t - half);
	}
}

int lb_kes_keygen(struct lb_kes_sk *sk, uint8_t vk[LB_KES_VKBYTES],
		  const uint8_t seed[LB_KES_SEEDBYTES])
{
	if (sodium_init() < 0)
		return LB_ECRYPTO;
	keygen(LB_KES_DEPTH, sk->bytes, vk, seed);
	sk->period = 0;
	return LB_OK;
}

void lb_kes_sk_vk(const struct lb_kes_sk *sk, uint8_t vk[LB_KES_VKBYTES])
{
	const uint8_t *tail = sk->bytes + SK_BYTES(LB_KES_DEPTH - 1);
	hash_pair(vk, tail + 32, tail + 64);
}

int lb_kes_sign(const struct lb_kes_sk *sk, const uint8_t *msg, size_t len,
		uint8_t sig[LB_KES_SIGBYTES])
{
	if (sk->period >= LB_KES_PERIODS)
		return LB_ERANGE;
	sign_rec(LB_KES_DEPTH, sk->bytes, sk->period, msg, len, sig, 0);
	return LB_OK;
}

int lb_kes_sign_compact(const struct lb_kes_sk *sk, const uint8_t *msg, size_t len,
			uint8_t sig[LB_KES_CSIGBYTES])
{
	if (sk->period >= LB_KES_PERIODS)
		return LB_ERANGE;
	sign_rec(LB_KES_DEPTH, sk->bytes, sk->period, msg, len, sig, 1);
	return LB_OK;
}

int lb_kes_verify(const uint8_t vk[LB_KES_VKBYTES], uint32_t period, const uint8_t *msg,
		  size_t len, const uint8_t sig[LB_KES_SIGBYTES])
{
	if (period >= LB_KES_PERIODS)
		return LB_ERANGE;
	return verify_rec(LB_KES_DEPTH, vk, period, msg, len, sig) ? LB_OK : LB_EBADSIG;
}

int lb_kes_verify_compact(const uint8_t vk[LB_KES_VKBYTES], uint32_t period, const uint8_t *msg,
			  size_t len, const uint8_t sig[LB_KES_CSIGBYTES])
{
	uint8_t got[32];
	if (period >= LB_KES_PERIODS)
		return LB_ERANGE;
	if (!verify_compact_rec(LB_KES_DEPTH, period, msg, len, sig, got))
		return LB_EBADSIG;
	return sodium_memcmp(got, vk, 32) == 0 ? LB_OK : LB_EBADSIG;
}

int lb_kes_update(struct lb_kes_sk *sk)
{
	if (sk->period + 1 >= LB_KES_PERIODS)
		return LB_ELIMIT;
	update_rec(LB_KES_DEPTH, sk->bytes, sk->period);
	sk->period++;
	return LB_OK;
}

int lb_kes_update_to(struct lb_kes_sk *sk, uint32_t period)
{
	if (period < sk->period)
		return LB_EINVALID;
	if (period >= LB_KES_PERIODS)
		return LB_ELIMIT;
	while (sk->period < period) {
		int rc = lb_kes_update(sk);
		if (rc != LB_OK)
			return rc;
	}
	return LB_OK;
}

void lb_kes_sk_wipe(struct lb_kes_sk *sk)
{
	sodium_memzero(sk, sizeof *sk);
}

void lb_kes_sk_encode(const struct lb_kes_sk *sk, uint8_t out[LB_KES_SKFILEBYTES])
{
	out[0] = (uint8_t)(sk->period >> 24);
	out[1] = (uint8_t)(sk->period >> 16);
	out[2] = (uint8_t)(sk->period >> 8);
	out[3] = (uint8_t)sk->period;
	memcpy(out + 4, sk->bytes, LB_KES_SKBYTES);
}

int lb_kes_sk_decode(struct lb_kes_sk *sk, const uint8_t *in, size_t len, struct lb_errmsg *em)
{
	if (len != LB_KES_SKFILEBYTES)
		return lb_errf(em, LB_EMALFORMED, "kes: key is %zu bytes, expected %d", len,
			       LB_KES_SKFILEBYTES);
	uint32_t period = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	if (period >= LB_KES_PERIODS)
		return lb_errf(em, LB_EMALFORMED, "kes: key period %u is beyond 63", period);
	sk->period = period;
	memcpy(sk->bytes, in + 4, LB_KES_SKBYTES);
	return LB_OK;
}

int lb_kes_period_at(uint64_t height, uint64_t start_height, uint64_t epoch_blocks,
		     uint32_t *period)
{
	if (epoch_blocks == 0 || height < start_height)
		return LB_ERANGE;
	uint64_t p = (height - start_height) / epoch_blocks;
	if (p >= LB_KES_PERIODS)
		return LB_ERANGE;
	*period = (uint32_t)p;
	return LB_OK;
}
