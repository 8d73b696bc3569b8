/*
 * Paillier additively homomorphic encryption over GMP, in the simple variant (g = n + 1,
 * lambda = (p-1)(q-1), mu = lambda^-1 mod n) that the npm package paillier-bigint produces
 * with generateRandomKeys(bits, true): numbers are interchangeable with it.
 *   Enc(m; r) = (1 + m·n) · r^n mod n^2        Dec(c) by CRT over p^2 and q^2
 *   Enc(a)·Enc(b) = Enc(a + b)                  Enc(a)^k = Enc(k·a)         (mod n)
 * Plaintexts are integers 0 <= m < n; the caller encodes signed or fixed-point values.
 * Keys are at least 2048 bits (LB_EINVALID below; 1024 allowed only for tests through
 * lb_paillier_sk_set with explicit primes).
 */
#ifndef LEBEN_PAILLIER_H
#define LEBEN_PAILLIER_H

#include <gmp.h>

#include "leben/error.h"

#define LB_PAILLIER_MIN_BITS 2048

struct lb_paillier_pk {
	mpz_t n;  /* modulus p·q */
	mpz_t n2; /* n^2 */
	mpz_t g;  /* n + 1 */
};

struct lb_paillier_sk {
	struct lb_paillier_pk pk; /* the public half */
	mpz_t p, q;               /* primes */
	mpz_t lambda, mu;         /* (p-1)(q-1) and its inverse mod n */
	mpz_t p2, q2;             /* p^2, q^2 */
	mpz_t hp, hq;             /* L_p(g^(p-1) mod p^2)^-1 mod p, and for q */
	mpz_t qinv;               /* q^-1 mod p (CRT recombination) */
};

void lb_paillier_pk_init(struct lb_paillier_pk *pk);
void lb_paillier_pk_release(struct lb_paillier_pk *pk);
void lb_paillier_sk_init(struct lb_paillier_sk *sk);
/* Overwrites the secret numbers before freeing them. */
void lb_paillier_sk_release(struct lb_paillier_sk *sk);

/* New key with an n of exactly bits bits (>= 2048). */
int lb_paillier_keygen(struct lb_paillier_sk *sk, unsigned bits, struct lb_errmsg *em);
/* Public key from n (odd, >= 1024 bits). */
int lb_paillier_pk_set(struct lb_paillier_pk *pk, const mpz_t n, struct lb_errmsg *em);
/* Secret key from its primes (checked probable primes, distinct). */
int lb_paillier_sk_set(struct lb_paillier_sk *sk, const mpz_t p, const mpz_t q,
		       struct lb_errmsg *em);

/* c = Enc(m) with fresh randomness; m must be in [0, n). */
int lb_paillier_encrypt(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t m,
			struct lb_errmsg *em);
/* c = Enc(m; r) with a given r in Z_n^* (known-answer tests). */
int lb_paillier_encrypt_r(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t m, const mpz_t r,
			  struct lb_errmsg *em);
/* m = Dec(c) by CRT. LB_EINVALID if c is not a ciphertext under this key (not in Z*_{n^2}). */
int lb_paillier_decrypt(const struct lb_paillier_sk *sk, mpz_t m, const mpz_t c,
			struct lb_errmsg *em);
/* The textbook form L(c^lambda mod n^2)·mu mod n (reference for tests). */
int lb_paillier_decrypt_nocrt(const struct lb_paillier_sk *sk, mpz_t m, const mpz_t c,
			      struct lb_errmsg *em);
/* Homomorphic operations on ciphertexts (results may alias inputs). */
int lb_paillier_add(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t a, const mpz_t b,
		    struct lb_errmsg *em);
int lb_paillier_add_plain(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t a, const mpz_t k,
			  struct lb_errmsg *em);
int lb_paillier_mul_plain(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t a, const mpz_t k,
			  struct lb_errmsg *em);

/* ---- threshold decryption (trusted dealer) ----------------------------------------------
 * Damgård–Jurik (s = 1) / Shoup-style threshold Paillier for l share holders, any t of whom
 * decrypt together; t - 1 learn nothing about the key. n = p·q with safe primes p = 2p'+1,
 * q = 2q'+1; m = p'q'; d ≡ 0 (mod m), d ≡ 1 (mod n); the dealer Shamir-shares d over Z_{nm}
 * with a random polynomial of degree t - 1: s_i = f(i). The public key is a plain Paillier key
 * (g = n + 1): anyone encrypts as usual (npm paillier-bigint too).
 *   decryption share   c_i = c^(2·Δ·s_i) mod n^2,                Δ = l!
 *   combination        c' = Π c_i^(2·μ_i),  μ_i = Δ·Π_{j≠i} j/(j−i),   M = L(c')·(4Δ^2)^-1 mod n
 * Each share carries a non-interactive proof (Chaum–Pedersen over Z*_{n^2}, Fiat–Shamir with
 * BLAKE2b-256) that log_{c^4}(c_i^2) = log_v(v_i) where v_i = v^(Δ·s_i) is the holder's public
 * verification key: a wrong share is detected and named before combining (LB_EBADSIG). */
#define LB_PAILLIER_TMAX 64
struct lb_paillier_tpk {
	struct lb_paillier_pk pk;          /* the ordinary public key */
	unsigned t, l;                     /* threshold, number of holders (2 <= t <= l <= 64) */
	mpz_t delta;                       /* l! */
	mpz_t v;                           /* verification base, a random square mod n^2 */
	mpz_t vk[LB_PAILLIER_TMAX];        /* vk[i-1] = v^(Δ·s_i) mod n^2 */
};
struct lb_paillier_tshare {            /* holder i's secret share: wipe with _tshare_release */
	unsigned i;                        /* 1..l */
	mpz_t s;
};
struct lb_paillier_dshare {            /* one holder's decryption share with its proof */
	unsigned i;
	mpz_t ci, e, z;
};
void lb_paillier_tpk_init(struct lb_paillier_tpk *tpk);
void lb_paillier_tpk_release(struct lb_paillier_tpk *tpk);
void lb_paillier_tshare_init(struct lb_paillier_tshare *sh);
void lb_paillier_tshare_release(struct lb_paillier_tshare *sh);
void lb_paillier_dshare_init(struct lb_paillier_dshare *ds);
void lb_paillier_dshare_release(struct lb_paillier_dshare *ds);
/* A random safe prime p = 2p'+1 of exactly bits bits (>= 128; slow for 1024: seconds). */
int lb_paillier_safe_prime(mpz_t p, unsigned bits, struct lb_errmsg *em);
/* Deal: from safe primes p, q (checked) make the public key and l shares (shares[0..l-1],
 * initialised by the caller). LB_EINVALID for bad primes or t, l out of range. */
int lb_paillier_tdeal(struct lb_paillier_tpk *tpk, struct lb_paillier_tshare *shares,
		      const mpz_t p, const mpz_t q, unsigned t, unsigned l, struct lb_errmsg *em);
/* Holder sh's decryption share of c, with its proof (out initialised by the caller). */
int lb_paillier_tdecrypt_share(const struct lb_paillier_tpk *tpk,
			       const struct lb_paillier_tshare *sh, const mpz_t c,
			       struct lb_paillier_dshare *out, struct lb_errmsg *em);
/* LB_OK if ds is holder ds->i's correct share of c; LB_EBADSIG otherwise. */
int lb_paillier_tverify_share(const struct lb_paillier_tpk *tpk, const mpz_t c,
			      const struct lb_paillier_dshare *ds, struct lb_errmsg *em);
/* Verify every share, then combine k >= t shares of distinct holders into m. LB_EINVALID for
 * fewer than t shares, LB_EDUPLICATE for a repeated holder, LB_EBADSIG for a wrong share. */
int lb_paillier_tcombine(const struct lb_paillier_tpk *tpk, const mpz_t c,
			 const struct lb_paillier_dshare *ds, size_t k, mpz_t m,
			 struct lb_errmsg *em);

#endif
