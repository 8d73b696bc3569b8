/*
 * Level-1 digital envelope: a message sealed to one or several recipients. A fresh random
 * content key encrypts the payload as a libsodium secretstream (XChaCha20-Poly1305, in
 * records of 64 KiB, so files of any size stream through constant memory); the content key
 * is wrapped to each recipient's X25519 public key through one ephemeral X25519 key. Ed25519
 * identities are converted to X25519 with the helpers below.
 *
 * Wire format (all integers big-endian):
 *   "LBEV" | version 1 | chunk_log2 (16) | u16 nrecipients (1..1024) | ephemeral pk (32)
 *   | nrecipients x ( key id (8) | wrapped content key (48) ) | secretstream header (24)
 *   | records: u32 length (17..chunk+17) | secretstream ciphertext ... last one tagged FINAL
 * The first record carries BLAKE2b-256(header) as associated data, so the recipient slots
 * cannot be swapped, added or removed without detection.
 *
 * Errors when opening: LB_EWRONGKEY (the key is not one of the recipients), LB_ETAMPERED
 * (authentication failed: a byte was changed, a record reordered, data appended after the end),
 * LB_ETRUNCATED (the envelope stops before its final record), LB_EMALFORMED / LB_EUNSUPPORTED
 * (not an envelope / an unknown version).
 * Streaming open writes plaintext before the end is authenticated: on any error the caller must
 * discard everything written (the CLI writes to a temporary file and renames on success).
 */
#ifndef LEBEN_ENVELOPE_H
#define LEBEN_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"

#define LB_ENVELOPE_PKBYTES 32
#define LB_ENVELOPE_SKBYTES 32
#define LB_ENVELOPE_MAX_RECIPIENTS 1024
#define LB_ENVELOPE_CHUNK (64u * 1024u) /* plaintext bytes per record */

/* Source of bytes: fill buf with up to want bytes, set *got; *got < want only at end of input.
 * Returns LB_OK or an error code (LB_EIO). */
typedef int (*lb_envelope_read_fn)(void *ctx, uint8_t *buf, size_t want, size_t *got);
/* Sink of bytes: consume all n bytes or return an error code. */
typedef int (*lb_envelope_write_fn)(void *ctx, const uint8_t *buf, size_t n);

/* New X25519 encryption key pair (pk and sk are caller buffers of 32 bytes). */
void lb_envelope_keypair(uint8_t pk[LB_ENVELOPE_PKBYTES], uint8_t sk[LB_ENVELOPE_SKBYTES]);
/* X25519 public key of an Ed25519 identity public key; LB_EINVALID if it is not a valid point. */
int lb_envelope_pk_from_ed25519(uint8_t x_pk[LB_ENVELOPE_PKBYTES], const uint8_t ed_pk[32]);
/* X25519 key pair of an Ed25519 identity given by its 32-byte seed (the keystore's secret). */
int lb_envelope_keypair_from_ed25519_seed(uint8_t x_pk[LB_ENVELOPE_PKBYTES],
					  uint8_t x_sk[LB_ENVELOPE_SKBYTES], const uint8_t seed[32]);
/* 8-byte key id under which a recipient's slot is filed (public; lets a recipient find its slot). */
void lb_envelope_key_id(uint8_t id[8], const uint8_t pk[LB_ENVELOPE_PKBYTES]);

/* Seal everything rd yields to the n recipients (borrowed array of public keys), writing the
 * envelope to wr. Duplicate recipients are refused (LB_EINVALID). */
int lb_envelope_seal_stream(const uint8_t (*recipients)[LB_ENVELOPE_PKBYTES], size_t n,
			    lb_envelope_read_fn rd, void *rctx, lb_envelope_write_fn wr, void *wctx,
			    struct lb_errmsg *em);
/* Open an envelope read from rd with the recipient key pair (sk, pk), writing plaintext to wr. */
int lb_envelope_open_stream(const uint8_t sk[LB_ENVELOPE_SKBYTES],
			    const uint8_t pk[LB_ENVELOPE_PKBYTES], lb_envelope_read_fn rd,
			    void *rctx, lb_envelope_write_fn wr, void *wctx, struct lb_errmsg *em);

/* In-memory forms. *out is allocated (caller frees with lb_free); open refuses plaintexts
 * larger than maxout (LB_ETOOBIG). */
int lb_envelope_seal(const uint8_t (*recipients)[LB_ENVELOPE_PKBYTES], size_t n,
		     const uint8_t *msg, size_t len, uint8_t **out, size_t *outlen,
		     struct lb_errmsg *em);
int lb_envelope_open(const uint8_t sk[LB_ENVELOPE_SKBYTES], const uint8_t pk[LB_ENVELOPE_PKBYTES],
		     const uint8_t *env, size_t len, size_t maxout, uint8_t **out, size_t *outlen,
		     struct lb_errmsg *em);

/* File-descriptor forms (the vault and sandbox inputs use these for large files). */
int lb_envelope_seal_fd(const uint8_t (*recipients)[LB_ENVELOPE_PKBYTES], size_t n, int in_fd,
			int out_fd, struct lb_errmsg *em);
int lb_envelope_open_fd(const uint8_t sk[LB_ENVELOPE_SKBYTES], const uint8_t pk[LB_ENVELOPE_PKBYTES],
			int in_fd, int out_fd, struct lb_errmsg *em);

#endif
