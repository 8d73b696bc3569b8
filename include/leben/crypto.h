/*
 * Spine cryptography on libsodium: BLAKE2b-256 hashing with domain separation, Ed25519 keys
 * and signatures, account addresses with a checksum (bech32m, "lb1..."), constant-time
 * comparison, and the encrypted keystore (Argon2id + XChaCha20-Poly1305).
 */
#ifndef LEBEN_CRYPTO_H
#define LEBEN_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "leben/error.h"

#define LB_HASH_LEN 32
#define LB_PUBKEY_LEN 32
#define LB_SECKEY_LEN 64
#define LB_SEED_LEN 32
#define LB_SIG_LEN 64
#define LB_ADDR_LEN 20
#define LB_ADDR_TEXT_LEN 41 /* "lb1" + 32 data + 6 checksum characters */

/* Must be called once before any other function here (idempotent, thread-safe). */
int lb_crypto_init(void);

/* BLAKE2b-256 of p. */
void lb_hash(uint8_t out[LB_HASH_LEN], const void *p, size_t n);
/* BLAKE2b-256 of (domain string including its NUL) || p: hashes for different purposes
 * can never collide. Domains are listed in docs/wire-format.md. */
void lb_hash_domain(uint8_t out[LB_HASH_LEN], const char *domain, const void *p, size_t n);

/* Incremental BLAKE2b-256. */
struct lb_hasher {
	crypto_generichash_state st; /* libsodium state */
};
void lb_hasher_init(struct lb_hasher *h, const char *domain /* may be NULL */);
void lb_hasher_update(struct lb_hasher *h, const void *p, size_t n);
void lb_hasher_final(struct lb_hasher *h, uint8_t out[LB_HASH_LEN]);

/* Ed25519 key pair. sk is secret: wipe with lb_keypair_wipe when done. */
struct lb_keypair {
	uint8_t pk[LB_PUBKEY_LEN]; /* public key */
	uint8_t sk[LB_SECKEY_LEN]; /* libsodium secret key: seed || public key */
};
void lb_keypair_generate(struct lb_keypair *kp);
void lb_keypair_from_seed(struct lb_keypair *kp, const uint8_t seed[LB_SEED_LEN]);
void lb_keypair_wipe(struct lb_keypair *kp);
void lb_sign(uint8_t sig[LB_SIG_LEN], const void *msg, size_t n, const struct lb_keypair *kp);
bool lb_sig_is_valid(const uint8_t sig[LB_SIG_LEN], const void *msg, size_t n,
		     const uint8_t pk[LB_PUBKEY_LEN]);

/* Ed25519 batch verification (src/crypto/ed25519_batch.c). One signature: sig (64 bytes), the
 * signer's public key pk (32 bytes) and the signed message (msg, len); the caller owns them all.
 * lb_sigs_are_valid sets ok[i] to exactly lb_sig_is_valid's answer for items[i] (the rule and
 * why the sets agree: docs/security.md, "Batch verification") and returns true when all are
 * valid. Batches below LB_SIG_BATCH_MIN are checked one by one; a batch that fails is checked
 * one by one to name the bad signatures. Thread-safe. */
struct lb_sig_item {
	const uint8_t *sig;
	const uint8_t *pk;
	const void *msg;
	size_t len;
};
/* Below 256 signatures a batch costs more CPU than one-by-one checks (measured: 0.59x at 128,
 * 0.91x at 224, 1.00x at 256, 1.14x at 320, 1.9x at 1024; docs/performance.md). */
#define LB_SIG_BATCH_MIN 256
bool lb_sigs_are_valid(const struct lb_sig_item *items, size_t n, bool *ok);
/* How many signatures lb_sigs_are_valid answered one by one (pre-check or failed batch) in
 * batches of at least LB_SIG_BATCH_MIN, since the process started. */
uint64_t lb_sig_batch_singles(void);

/* Constant-time equality of two n-byte secrets or tags. */
bool lb_ct_equal(const void *a, const void *b, size_t n);

/* Account address: the first 20 bytes of BLAKE2b-256("LEBEN-addr-v1" || public key). */
void lb_addr_from_pubkey(uint8_t addr[LB_ADDR_LEN], const uint8_t pk[LB_PUBKEY_LEN]);
/* Text form: bech32m with human-readable part "lb"; out has LB_ADDR_TEXT_LEN + 1 bytes. */
void lb_addr_encode(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t addr[LB_ADDR_LEN]);
/* Parse the text form. A typo gives LB_ECHECKSUM, anything that is not an address
 * LB_EMALFORMED, each with a message in em saying what to check. */
int lb_addr_decode(uint8_t addr[LB_ADDR_LEN], const char *text, struct lb_errmsg *em);
/* Generic bech32m checksum test of a whole string (exposed for the test vectors). */
bool lb_bech32m_is_valid(const char *s);

/* ---- keystore: <dir>/<name>.key, one JSON file per key ---------------------------------- */

/* Argon2id cost used for new keys (libsodium "interactive": 2 passes, 64 MiB). */
#define LB_KEYSTORE_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define LB_KEYSTORE_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE
#define LB_KEYNAME_MAX 64

/* Names: 1-64 characters of [A-Za-z0-9._-], not starting with '.'. */
bool lb_keyname_is_valid(const char *name);
/* Encrypt kp's seed under passphrase and write <dir>/<name>.key (mode 0600). Refuses to
 * overwrite an existing key (LB_EEXISTS). */
int lb_keystore_save(const char *dir, const char *name, const struct lb_keypair *kp,
		     const char *passphrase, struct lb_errmsg *em);
/* Decrypt <dir>/<name>.key into kp. LB_ENOTFOUND, LB_EPASSPHRASE, LB_ECORRUPT. */
int lb_keystore_load(const char *dir, const char *name, const char *passphrase,
		     struct lb_keypair *kp, struct lb_errmsg *em);
/* Read only the public part of <dir>/<name>.key (no passphrase needed). */
int lb_keystore_public(const char *dir, const char *name, uint8_t pk[LB_PUBKEY_LEN],
		       struct lb_errmsg *em);
/* Other secrets kept in the keystore directory beside the identity keys, in the same format
 * family (JSON: Argon2id, XChaCha20-Poly1305; the kind and name are the associated data):
 * <dir>/<name>.<kind>, e.g. keys/node.abemsk for the ABE master key of key 'node'. kind: a
 * key name other than "key". secret: 1 to LB_KEYSTORE_SECRET_MAX bytes. save refuses to
 * overwrite (LB_EEXISTS), replace writes over an existing one (atomically); load gives *out
 * (caller wipes and frees with lb_free), LB_ENOTFOUND, LB_EPASSPHRASE (wrong passphrase or
 * altered file) or LB_ECORRUPT. */
#define LB_KEYSTORE_SECRET_MAX (256 * 1024) /* a CP-ABE user key of 1024 attributes fits */
int lb_keystore_secret_save(const char *dir, const char *name, const char *kind,
			    const uint8_t *secret, size_t len, const char *passphrase,
			    struct lb_errmsg *em);
int lb_keystore_secret_replace(const char *dir, const char *name, const char *kind,
			       const uint8_t *secret, size_t len, const char *passphrase,
			       struct lb_errmsg *em);
int lb_keystore_secret_load(const char *dir, const char *name, const char *kind,
			    const char *passphrase, uint8_t **out, size_t *len,
			    struct lb_errmsg *em);
/* Move a secret kept in clear at plain_path into the keystore (as save), then overwrite and
 * delete plain_path (lb_file_wipe). If the keystore already holds it (an earlier move that
 * could not delete the file), only the wipe is done; a different secret there is refused
 * (LB_EEXISTS) and nothing changes. LB_ENOTFOUND if plain_path does not exist. */
int lb_keystore_secret_migrate(const char *plain_path, const char *dir, const char *name,
			       const char *kind, const char *passphrase, struct lb_errmsg *em);
/* Passphrase change of one keystore file: the identity key <dir>/<name>.key (kind NULL) or
 * the secret <dir>/<name>.<kind>. Opens it with oldpass and, unless check_only, writes it
 * again sealed under newpass (atomically: temp file, fsync, rename, so the file opens with
 * one of the two whatever happens); the key or secret bytes are unchanged. LB_EEXISTS (and
 * nothing written) if it opens with newpass already (a change that stopped half-way, or a
 * key `keys recover` stored under the new passphrase); LB_EPASSPHRASE if it opens with
 * neither (untouched); LB_ENOTFOUND, LB_ECORRUPT. */
int lb_keystore_rekey(const char *dir, const char *name, const char *kind, const char *oldpass,
		      const char *newpass, bool check_only, struct lb_errmsg *em);
/* Call fn(name, pk, ctx) for every key in dir, in name order; stops at fn's non-zero return.
 * A missing directory lists nothing. */
int lb_keystore_list(const char *dir,
		     int (*fn)(const char *name, const uint8_t pk[LB_PUBKEY_LEN], void *ctx),
		     void *ctx, struct lb_errmsg *em);

#endif
