/*
 * CP-ABE on the directory chain (wire ids 0x0230-0x023f): each consortium institution is the
 * attribute authority of its own staff (abe.h: its id is hashed into every attribute).
 *   abe.setup  0x0230  an institution publishes its public parameters; the authority id is
 *                      BLAKE2b-256("LEBEN abe authority" | the institution's account address)
 *   abe.issue  0x0231  it records a user key it issued: the user's Ed25519 key (the identity
 *                      the key is bound to), the attributes with their epochs and the key's
 *                      BLAKE2b-256 hash, never the key (it is delivered sealed to the user)
 *   abe.revoke 0x0232  it takes an attribute from a user: the attribute's epoch goes up, so
 *                      new ciphertexts name the new epoch and keys of the old one fail
 *   abe.seal   0x0233  an asset's owner seals the private part of a version to a policy
 *   abe.share  0x0234  the user of an exchange request shares its result sealed to a policy
 *                      (payload as abe.seal, the request id in place of the asset id,
 *                      version 1; readers check the sender is the request's user)
 * Attribute versioning: on chain and in keys and ciphertexts an attribute is "name@vN", N its
 * epoch at the authority (1 until the first revocation). Encryptors write policies with plain
 * names; lb_abe_tx_versioned_policy adds the current epochs, and abe.seal refuses a ciphertext
 * naming an attribute at any other epoch. docs/security.md §11, docs/wire-format.md.
 */
#ifndef LEBEN_ABE_TX_H
#define LEBEN_ABE_TX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/abe.h"
#include "leben/base.h"

enum {
	LB_TX_ABE_SETUP = 0x0230,
	LB_TX_ABE_ISSUE = 0x0231,
	LB_TX_ABE_REVOKE = 0x0232,
	LB_TX_ABE_SEAL = 0x0233,
	LB_TX_ABE_SHARE = 0x0234,
};

#define LB_ABE_BASE_MAX 112 /* bytes of an attribute name without its "@vN" */
#define LB_ABE_ISSUE_MAX 256 /* attributes in one issued key */

/* The authority id of an institution's account address. */
void lb_abe_authority_of(uint8_t id[LB_ABE_AUTHORITY_LEN], const uint8_t addr[20]);
/* Splits "name@vN" into the name (copied to base) and N; LB_EINVALID if attr has no epoch. */
int lb_abe_attr_split(const char *attr, char base[LB_ABE_BASE_MAX + 1], uint64_t *epoch);
/* Whether a plain attribute name is acceptable (charset of abe.h, no "@v<digits>" suffix,
 * 1..112 bytes); LB_EINVALID with the reason. */
int lb_abe_base_check(const char *name, struct lb_errmsg *em);

/* abe.issue payload: user Ed25519 key (32) | key hash (32) | uvar n (1..256) | n x str attr */
struct lb_abe_issue_tx {
	uint8_t user[32];
	uint8_t key_hash[32];
	size_t n;
	char attrs[LB_ABE_ISSUE_MAX][LB_ABE_MAX_ATTR + 1];
};
/* abe.revoke payload: user Ed25519 key (32) | str attribute name (plain, no epoch) */
struct lb_abe_revoke_tx {
	uint8_t user[32];
	char attr[LB_ABE_BASE_MAX + 1];
};
/* abe.seal payload: asset id (32) | uvar version | bytes ciphertext (lb_abe_encrypt's) */
struct lb_abe_seal_tx {
	uint8_t asset_id[32];
	uint64_t version;
	const uint8_t *ct; /* borrowed from the payload */
	size_t ct_len;
};

int lb_abe_issue_tx_encode(const struct lb_abe_issue_tx *t, struct lb_buf *out);
int lb_abe_issue_tx_decode(const uint8_t *buf, size_t len, struct lb_abe_issue_tx *t,
			   struct lb_errmsg *em);
int lb_abe_revoke_tx_encode(const struct lb_abe_revoke_tx *t, struct lb_buf *out);
int lb_abe_revoke_tx_decode(const uint8_t *buf, size_t len, struct lb_abe_revoke_tx *t,
			    struct lb_errmsg *em);
int lb_abe_seal_tx_encode(const struct lb_abe_seal_tx *t, struct lb_buf *out);
int lb_abe_seal_tx_decode(const uint8_t *buf, size_t len, struct lb_abe_seal_tx *t,
			  struct lb_errmsg *em);

/* The policy with each attribute given its current epoch from an authority's view (JSON of
 * lb_abe_authority_json: "epochs" {name: N}, absent = 1). *out: caller frees with lb_free.
 * LB_ESYNTAX (byte offset) for a bad policy, LB_EINVALID for a name that carries an epoch. */
int lb_abe_tx_versioned_policy(char **out, const char *policy, json_t *authority,
			       struct lb_errmsg *em);
/* The plain policy of a versioned one (epochs removed). */
int lb_abe_tx_plain_policy(char **out, const char *policy, struct lb_errmsg *em);

struct lb_ledger;
/* Views of the directory chain (new references): an authority (owner, public parameters,
 * epochs, the users' records), the latest seal of an asset (version, tx, authority, policy).
 * LB_ENOTFOUND if none. */
int lb_abe_authority_json(struct lb_ledger *l, const uint8_t id[LB_ABE_AUTHORITY_LEN],
			  json_t **out, struct lb_errmsg *em);
int lb_abe_seal_json(struct lb_ledger *l, const uint8_t asset[32], json_t **out,
		     struct lb_errmsg *em);
/* The latest policy-sealed share of an exchange request's result sent by sender (an account
 * address): tx, sender, policy. Shares are kept per sender: only the request's user's counts. */
int lb_abe_share_json(struct lb_ledger *l, const uint8_t request[32], const uint8_t sender[20],
		      json_t **out, struct lb_errmsg *em);

int lb_abe_register_txtypes(void);

#endif
