/*
 * Schnorr proof of knowledge over ristretto255 with Fiat–Shamir, context binding, the
 * Argon2id recovery commitment and the keys.reset payload (see include/leben/zkp.h).
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/zkp.h"

#define REC_VERSION 1
#define RESET_VERSION 1
#define DEFAULT_OPS 3u
#define DEFAULT_MEM_KIB (64u * 1024u)

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void hash_field(crypto_generichash_state *st, const void *p, size_t len)
{
	uint8_t l[8];
	put_u64(l, len);
	crypto_generichash_update(st, l, 8);
	if (len)
		crypto_generichash_update(st, p, len);
}

void lb_zk_context_digest(const struct lb_zk_context *ctx, uint8_t out[32])
{
	static const char label[] = "LEBEN zk context v1";
	crypto_generichash_state st;
	uint8_t n[8];

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	hash_field(&st, ctx->account, ctx->account_len);
	hash_field(&st, ctx->chain, ctx->chain ? strlen(ctx->chain) : 0);
	hash_field(&st, ctx->purpose, ctx->purpose ? strlen(ctx->purpose) : 0);
	put_u64(n, ctx->nonce);
	crypto_generichash_update(&st, n, 8);
	hash_field(&st, ctx->bound, ctx->bound_len);
	crypto_generichash_final(&st, out, 32);
}

/* 1 if s is a canonical scalar (< l) and not zero */
static int scalar_ok(const uint8_t s[32])
{
	uint8_t wide[64] = {0}, red[32];
	memcpy(wide, s, 32);
	crypto_core_ristretto255_scalar_reduce(red, wide);
	return memcmp(red, s, 32) == 0 && !sodium_is_zero(s, 32);
}

int lb_zk_public(uint8_t X[LB_ZK_POINTBYTES], const uint8_t x[LB_ZK_SCALARBYTES])
{
	if (sodium_init() < 0)
		return LB_ECRYPTO;
	if (!scalar_ok(x))
		return LB_EINVALID;
	return crypto_scalarmult_ristretto255_base(X, x) == 0 ? LB_OK : LB_EINVALID;
}

static void challenge(uint8_t c[32], const uint8_t ctxd[32], const uint8_t X[32],
		      const uint8_t R[32])
{
	static const char label[] = "LEBEN zk schnorr v1";
	crypto_generichash_state st;
	uint8_t h[64];

	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, ctxd, 32);
	crypto_generichash_update(&st, X, 32);
	crypto_generichash_update(&st, R, 32);
	crypto_generichash_final(&st, h, 64);
	crypto_core_ristretto255_scalar_reduce(c, h);
}

int lb_zk_prove(uint8_t proof[LB_ZK_PROOFBYTES], const uint8_t x[LB_ZK_SCALARBYTES],
		const struct lb_zk_context *ctx)
{
	uint8_t X[32], ctxd[32], k[32], c[32], cx[32], h[64], rnd[32];
	crypto_generichash_state st;
	int rc = lb_zk_public(X, x);

	if (rc != LB_OK)
		return rc;
	lb_zk_context_digest(ctx, ctxd);
	/* hedged nonce: secret, fresh randomness and the context, so neither a bad RNG nor a
	 * repeated context alone can repeat k */
	randombytes_buf(rnd, sizeof rnd);
	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const uint8_t *)"LEBEN zk nonce", 14);
	crypto_generichash_update(&st, x, 32);
	crypto_generichash_update(&st, rnd, 32);
	crypto_generichash_update(&st, ctxd, 32);
	crypto_generichash_final(&st, h, 64);
	crypto_core_ristretto255_scalar_reduce(k, h);
	if (crypto_scalarmult_ristretto255_base(proof, k) != 0) { /* k = 0: 2^-252 */
		rc = LB_ECRYPTO;
		goto out;
	}
	challenge(c, ctxd, X, proof);
	crypto_core_ristretto255_scalar_mul(cx, c, x);
	crypto_core_ristretto255_scalar_add(proof + 32, k, cx);
out:
	sodium_memzero(k, sizeof k);
	sodium_memzero(h, sizeof h);
	sodium_memzero(cx, sizeof cx);
	sodium_memzero(&st, sizeof st);
	return rc;
}

int lb_zk_verify(const uint8_t proof[LB_ZK_PROOFBYTES], const uint8_t X[LB_ZK_POINTBYTES],
		 const struct lb_zk_context *ctx)
{
	uint8_t ctxd[32], c[32], sB[32], cX[32], rhs[32];
	const uint8_t *R = proof, *s = proof + 32;

	if (sodium_init() < 0)
		return LB_ECRYPTO;
	if (!crypto_core_ristretto255_is_valid_point(X) || !crypto_core_ristretto255_is_valid_point(R))
		return LB_EMALFORMED;
	if (!scalar_ok(s))
		return LB_EBADSIG;
	lb_zk_context_digest(ctx, ctxd);
	challenge(c, ctxd, X, R);
	if (crypto_scalarmult_ristretto255_base(sB, s) != 0 ||
	    crypto_scalarmult_ristretto255(cX, c, X) != 0)
		return LB_EBADSIG; /* identity results: X of small order or c = 0 */
	crypto_core_ristretto255_add(rhs, R, cX);
	return sodium_memcmp(sB, rhs, 32) == 0 ? LB_OK : LB_EBADSIG;
}

/* ---- recovery commitment --------------------------------------------------------------- */

int lb_zk_recovery_check(const struct lb_zk_recovery *rec, struct lb_errmsg *em)
{
	if (rec->opslimit < 1 || rec->opslimit > 16)
		return lb_errf(em, LB_EINVALID, "recovery: Argon2id passes %u (1..16)", rec->opslimit);
	if (rec->memlimit_kib < 8192 || rec->memlimit_kib > 4194304)
		return lb_errf(em, LB_EINVALID, "recovery: Argon2id memory %u KiB (8192..4194304)",
			       rec->memlimit_kib);
	if (!crypto_core_ristretto255_is_valid_point(rec->X))
		return lb_errf(em, LB_EINVALID, "recovery: the commitment is not a valid point");
	return LB_OK;
}

int lb_zk_derive(uint8_t x[LB_ZK_SCALARBYTES], const char *secret, size_t secret_len,
		 const struct lb_zk_recovery *rec, struct lb_errmsg *em)
{
	uint8_t h[64];
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "recovery: libsodium failed to initialise");
	if (secret_len < 8)
		return lb_errf(em, LB_EINVALID, "recovery: the secret must have at least 8 characters");
	if (crypto_pwhash(h, sizeof h, secret, secret_len, rec->salt, rec->opslimit,
			  (size_t)rec->memlimit_kib * 1024u, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return lb_errf(em, LB_ENOMEM, "recovery: Argon2id needs %u KiB of memory",
			       rec->memlimit_kib);
	crypto_core_ristretto255_scalar_reduce(x, h);
	sodium_memzero(h, sizeof h);
	if (sodium_is_zero(x, 32))
		return lb_errf(em, LB_ECRYPTO, "recovery: derived a zero scalar");
	return LB_OK;
}

int lb_zk_recovery_new(struct lb_zk_recovery *rec, const char *secret, size_t secret_len,
		       uint32_t opslimit, uint32_t memlimit_kib, struct lb_errmsg *em)
{
	uint8_t x[32];
	int rc;
	rec->opslimit = opslimit ? opslimit : DEFAULT_OPS;
	rec->memlimit_kib = memlimit_kib ? memlimit_kib : DEFAULT_MEM_KIB;
	randombytes_buf(rec->salt, sizeof rec->salt);
	if (rec->opslimit > 16 || rec->memlimit_kib < 8192 || rec->memlimit_kib > 4194304)
		return lb_errf(em, LB_EINVALID, "recovery: Argon2id costs out of range");
	rc = lb_zk_derive(x, secret, secret_len, rec, em);
	if (rc == LB_OK)
		rc = lb_zk_public(rec->X, x);
	sodium_memzero(x, sizeof x);
	return rc;
}

void lb_zk_recovery_encode(const struct lb_zk_recovery *rec, uint8_t out[LB_ZK_RECOVERY_BYTES])
{
	out[0] = REC_VERSION;
	put_u32(out + 1, rec->opslimit);
	put_u32(out + 5, rec->memlimit_kib);
	memcpy(out + 9, rec->salt, 16);
	memcpy(out + 25, rec->X, 32);
}

int lb_zk_recovery_decode(struct lb_zk_recovery *rec, const uint8_t *in, size_t len,
			  struct lb_errmsg *em)
{
	if (len != LB_ZK_RECOVERY_BYTES)
		return lb_errf(em, LB_EMALFORMED, "recovery: %zu bytes, expected %d", len,
			       LB_ZK_RECOVERY_BYTES);
	if (in[0] != REC_VERSION)
		return lb_errf(em, LB_EUNSUPPORTED, "recovery: version %u is not supported", in[0]);
	rec->opslimit = get_u32(in + 1);
	rec->memlimit_kib = get_u32(in + 5);
	memcpy(rec->salt, in + 9, 16);
	memcpy(rec->X, in + 25, 32);
	return lb_zk_recovery_check(rec, em) == LB_OK ? LB_OK : LB_EMALFORMED;
}

/* ---- keys.reset payload ---------------------------------------------------------------- */

int lb_keyreset_encode(const struct lb_keyreset *r, uint8_t *out, size_t *outlen,
		       struct lb_errmsg *em)
{
	if (r->account_len < 1 || r->account_len > 64)
		return lb_errf(em, LB_EINVALID, "keys.reset: account id of %zu bytes (1..64)",
			       r->account_len);
	size_t o = 0;
	out[o++] = RESET_VERSION;
	out[o++] = (uint8_t)r->account_len;
	memcpy(out + o, r->account, r->account_len);
	o += r->account_len;
	memcpy(out + o, r->new_pk, 32);
	o += 32;
	put_u64(out + o, r->nonce);
	o += 8;
	memcpy(out + o, r->proof, LB_ZK_PROOFBYTES);
	*outlen = o + LB_ZK_PROOFBYTES;
	return LB_OK;
}

int lb_keyreset_decode(struct lb_keyreset *r, const uint8_t *in, size_t len, struct lb_errmsg *em)
{
	if (len < 2)
		return lb_errf(em, LB_EMALFORMED, "keys.reset: payload too short");
	if (in[0] != RESET_VERSION)
		return lb_errf(em, LB_EUNSUPPORTED, "keys.reset: version %u is not supported", in[0]);
	size_t al = in[1];
	if (al < 1 || al > 64 || len != 2 + al + 32 + 8 + LB_ZK_PROOFBYTES)
		return lb_errf(em, LB_EMALFORMED, "keys.reset: %zu bytes do not fit an account id of %zu",
			       len, al);
	memset(r, 0, sizeof *r);
	r->account_len = al;
	memcpy(r->account, in + 2, al);
	memcpy(r->new_pk, in + 2 + al, 32);
	r->nonce = get_u64(in + 2 + al + 32);
	memcpy(r->proof, in + 2 + al + 40, LB_ZK_PROOFBYTES);
	return LB_OK;
}

void lb_keyreset_context(const struct lb_keyreset *r, struct lb_zk_context *ctx)
{
	ctx->account = r->account;
	ctx->account_len = r->account_len;
	ctx->chain = "business";
	ctx->purpose = "keys.reset";
	ctx->nonce = r->nonce;
	ctx->bound = r->new_pk;
	ctx->bound_len = 32;
}

int lb_keyreset_prove(struct lb_keyreset *r, const uint8_t x[LB_ZK_SCALARBYTES])
{
	struct lb_zk_context ctx;
	lb_keyreset_context(r, &ctx);
	return lb_zk_prove(r->proof, x, &ctx);
}

int lb_keyreset_check(const struct lb_keyreset *r, const struct lb_zk_recovery *rec,
		      struct lb_errmsg *em)
{
	struct lb_zk_context ctx;
	int rc = lb_zk_recovery_check(rec, em);
	if (rc != LB_OK)
		return rc;
	if (r->account_len < 1 || r->account_len > 64)
		return lb_errf(em, LB_EINVALID, "keys.reset: bad account id length");
	lb_keyreset_context(r, &ctx);
	rc = lb_zk_verify(r->proof, rec->X, &ctx);
	if (rc != LB_OK)
		return lb_errf(em, LB_EBADSIG,
			       "keys.reset: the proof of ownership does not hold for this account, "
			       "nonce and new key");
	return LB_OK;
}
