/*
 * Ciphertext-policy attribute-based encryption: Waters 2011 ("Ciphertext-Policy Attribute-Based
 * Encryption: An Expressive, Efficient, and Provably Secure Realization", PKC 2011) on LEBEN's
 * BLS12-381 pairing (bls12_381.h), large-universe form (attributes hashed to G1), with policies
 * as boolean formulas over attributes with AND, OR and k-of-n thresholds:
 *     (cardiologist AND hospital:peking-union) OR (ethics-approved AND study:CHD-2027)
 *     2 of (cardiologist, nephrologist, hospital:peking-union)
 * Hybrid: the ABE part wraps a key for XChaCha20-Poly1305 over the payload, the whole header
 * (authority, policy, ABE elements) being its associated data. One authority per master key:
 * an attribute is hashed with the authority's 32-byte id, so keys of one authority are useless
 * against another's ciphertexts. Design, assumption and limits: docs/security.md, §11.
 *
 * Ownership: structs marked "secret" hold key material: wipe them with the _wipe functions.
 * Heap results are the caller's, to release with lb_free (bytes) or lb_abe_key_free (keys).
 */
#ifndef LEBEN_ABE_H
#define LEBEN_ABE_H

#include <stddef.h>
#include <stdint.h>

#include "leben/bls12_381.h"
#include "leben/error.h"

#define LB_ABE_AUTHORITY_LEN 32  /* an authority id (e.g. the institution's key hash) */
#define LB_ABE_IDENTITY_LEN 32   /* the identity a user key is issued to */
#define LB_ABE_MAX_POLICY 4096   /* bytes of policy text */
#define LB_ABE_MAX_LEAVES 256    /* attribute occurrences in one policy */
#define LB_ABE_MAX_ATTR 128      /* bytes of one attribute name */
#define LB_ABE_MAX_KEY_ATTRS 1024 /* attributes in one user key */
#define LB_ABE_PK_BYTES (6 + LB_ABE_AUTHORITY_LEN + LB_BLS_G1_BYTES + LB_BLS_GT_BYTES)
#define LB_ABE_MSK_BYTES (7 + LB_ABE_AUTHORITY_LEN + LB_BLS_SCALAR_BYTES)

/* Public parameters of one authority. */
struct lb_abe_pk {
	uint8_t authority[LB_ABE_AUTHORITY_LEN]; /* the authority's id */
	struct lb_bls_g1 g1a;                    /* g1^a */
	struct lb_bls_gt egg_alpha;              /* e(g1, g2)^alpha */
};

/* Master secret of one authority (secret). */
struct lb_abe_msk {
	uint8_t authority[LB_ABE_AUTHORITY_LEN]; /* the authority's id */
	struct lb_bls_scalar alpha;              /* alpha */
};

/* A user's secret key (secret): opaque, from lb_abe_keygen or lb_abe_key_decode. */
struct lb_abe_key;

/* A new authority: random alpha and a. Never fails. */
void lb_abe_setup(struct lb_abe_pk *pk, struct lb_abe_msk *msk,
		  const uint8_t authority[LB_ABE_AUTHORITY_LEN]);
void lb_abe_msk_wipe(struct lb_abe_msk *msk);

/* A key for the attributes attrs[0..n) issued to identity. LB_EINVALID (message in em) for an
 * empty, too long or repeated attribute name or too many; LB_EWRONGKEY if msk is not pk's. */
int lb_abe_keygen(struct lb_abe_key **out, const struct lb_abe_pk *pk, const struct lb_abe_msk *msk,
		  const uint8_t identity[LB_ABE_IDENTITY_LEN], const char *const *attrs, size_t n,
		  struct lb_errmsg *em);
/* Wipes and frees (NULL is fine). */
void lb_abe_key_free(struct lb_abe_key *key);
/* Attribute i of the key (borrowed, valid while the key lives), NULL past the end. */
const char *lb_abe_key_attr(const struct lb_abe_key *key, size_t i);

/* Checks a policy's syntax; LB_ESYNTAX with the position and what was expected in em. */
int lb_abe_policy_check(const char *policy, struct lb_errmsg *em);

/* Encrypts msg[0..len) under policy: *out (caller frees with lb_free) of *out_len bytes. */
int lb_abe_encrypt(uint8_t **out, size_t *out_len, const struct lb_abe_pk *pk, const char *policy,
		   const uint8_t *msg, size_t len, struct lb_errmsg *em);
/* Decrypts: *out (caller frees with lb_free). LB_EMALFORMED for a ciphertext that does not
 * parse, LB_EWRONGKEY for another authority's, LB_EDENIED when the key's attributes do not
 * satisfy the policy (em names the policy), LB_ETAMPERED when authentication fails. */
int lb_abe_decrypt(uint8_t **out, size_t *out_len, const struct lb_abe_pk *pk,
		   const struct lb_abe_key *key, const uint8_t *ct, size_t ct_len,
		   struct lb_errmsg *em);
/* The policy text of a ciphertext (caller frees with lb_free); LB_EMALFORMED if none. */
int lb_abe_ciphertext_policy(char **policy, const uint8_t *ct, size_t ct_len, struct lb_errmsg *em);

/* Encodings: "LBABEP" pk, "LBABEMK" msk, "LBABEK1" user key (secret: *out wiped by the caller
 * with sodium_memzero before lb_free). Decoding refuses any non-canonical form (LB_EMALFORMED). */
void lb_abe_pk_encode(uint8_t out[LB_ABE_PK_BYTES], const struct lb_abe_pk *pk);
int lb_abe_pk_decode(struct lb_abe_pk *pk, const uint8_t *in, size_t len, struct lb_errmsg *em);
void lb_abe_msk_encode(uint8_t out[LB_ABE_MSK_BYTES], const struct lb_abe_msk *msk);
int lb_abe_msk_decode(struct lb_abe_msk *msk, const uint8_t *in, size_t len, struct lb_errmsg *em);
int lb_abe_key_encode(uint8_t **out, size_t *out_len, const struct lb_abe_key *key);
int lb_abe_key_decode(struct lb_abe_key **out, const uint8_t *in, size_t len, struct lb_errmsg *em);

#endif
