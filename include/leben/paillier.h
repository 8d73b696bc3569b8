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

#endif
