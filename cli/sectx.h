/*
 * Helpers of the commands that send the security toolkit's txs (`keys split`,
 * `keys recovery-commit`, `keys reset`, `keys follow`, `policy set`, `policy approve`): build and sign one tx
 * for the node's network with the sender's next nonce, send it, wait for its block, and read
 * a committed tx's decoded payload back.
 */
#ifndef LEBEN_CLI_SECTX_H
#define LEBEN_CLI_SECTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/crypto.h"

/* A signed tx ready to send. */
struct sectx {
	char *hex;                   /* signed tx bytes in hex (lb_free) */
	char id[2 * LB_HASH_LEN + 1]; /* tx id in hex */
	uint64_t nonce;              /* nonce used */
};

/* Build and sign a business-chain tx of type with payload, signed by kp, for the node at url
 * (network id and next nonce of kp's own key asked from it). Prints why not, returns 1. */
int sectx_build(const char *cmd, const char *url, const struct lb_keypair *kp, uint32_t type,
		const uint8_t *payload, size_t len, struct sectx *out);
/* The same on another chain (the fee is 0: for fee-exempt types). */
int sectx_build_on(const char *cmd, const char *url, const struct lb_keypair *kp, int chain,
		   uint32_t type, const uint8_t *payload, size_t len, struct sectx *out);
/* The same with a fee (micro-CSC; settlement txs that are not fee-exempt). */
int sectx_build_fee(const char *cmd, const char *url, const struct lb_keypair *kp, int chain,
		    uint32_t type, const uint8_t *payload, size_t len, uint64_t fee,
		    struct sectx *out);
/* Send it and wait (up to timeout_s) until it is in a block; LB_OK only if committed as
 * valid. On refusal or an invalid tx prints the node's reason and returns 1. The final tx
 * JSON goes to *final when not NULL (caller decrefs). */
int sectx_send(const char *cmd, const char *url, struct sectx *t, double timeout_s,
	       json_t **final);
void sectx_release(struct sectx *t);
/* Load key `from` of home, build a business-chain tx of type with payload, send it and wait
 * for its block (60 s); the tx id into idhex, its final JSON into *final when not NULL
 * (caller decrefs). Prints why not and returns 1 (from NULL: asks for --from KEY). */
int sectx_sign_send(const char *cmd, const char *url, const char *home, const char *from,
		    uint32_t type, const uint8_t *payload, size_t len,
		    char idhex[2 * LB_HASH_LEN + 1], json_t **final);
/* The decoded payload of committed tx idhex if it has type name type_name; prints why not,
 * returns 1. *payload is a new reference. */
int sectx_fetch(const char *cmd, const char *url, const char *idhex, const char *type_name,
		json_t **payload);
/* Node's latest height of the business chain (via /v1/status). */
int sectx_height(const char *cmd, const char *url, uint64_t *height);
/* Decode a hex string field of j of exactly n bytes; 1 with a message if absent or wrong. */
int sectx_hex_field(const char *cmd, json_t *j, const char *field, uint8_t *out, size_t n);

/* Pay on the settlement chain and cite it: sign settlement tx `type` (name type_name, for its
 * minimum fee in the node's /v1/status; fee_opt, an amount of CSC, overrides it) with key
 * `from`, send it and wait, then fetch its bytes and its inclusion proof anchored in the
 * business chain into *tx / *proof (lb_malloc'd: the caller frees them). Its id into idhex.
 * Prints why not and returns 1. */
int sectx_settle_cited(const char *cmd, const char *url, const char *home, const char *from,
		       const char *fee_opt, uint32_t type, const char *type_name,
		       const uint8_t *payload, size_t len, char idhex[2 * LB_HASH_LEN + 1],
		       uint8_t **tx, size_t *txlen, uint8_t **proof, size_t *prooflen);

/* The minimum fee (micro-CSC) of settlement tx type type_name from the node's status
 * (fees.types, else fees.default). Prints why not, returns 1. */
int sectx_min_fee(const char *cmd, const char *url, const char *type_name, uint64_t *fee);
/* A committed tx's bytes and its inclusion proof anchored in chain `anchor` ("business",
 * "settlement"), lb_malloc'd into *tx / *proof (the caller frees both). Prints why not,
 * returns 1. */
int sectx_proof(const char *cmd, const char *url, const char *idhex, const char *anchor,
		uint8_t **tx, size_t *txlen, uint8_t **proof, size_t *plen);

#endif
