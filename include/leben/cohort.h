/*
 * Cohort study with ethical review (business chain, wire ids 0x03b0-0x03b5; docs/apps.md
 * section 3, docs/wire-format.md): an ethics committee (a set of member addresses and a
 * threshold k, registered on chain) approves a study protocol (title, inclusion criteria,
 * algorithms with their parameters, follow-up schedule); only then may patients opt in (each
 * with the consent key its institution registered for its commitment, xchg.patients), and
 * the sponsor open follow-up rounds on the schedule. A round's federated analysis is a
 * `leben study run` whose signed message names the cohort and the round: every owner node
 * checks on its committed state that the protocol is approved, the round is open and the
 * algorithm and parameters are the protocol's, and uses only the patients opted in and not
 * withdrawn when the round was opened.
 *
 * State (business chain):
 *   cohort.cmt:   committee id -> creator | k | n | n member addresses | name
 *   cohort.p:     cohort id -> sponsor | committee id | protocol hash | height | protocol JSON
 *   cohort.appr:  cohort id | member address -> height
 *   cohort.napp:  cohort id -> number of approvals (u64)
 *   cohort.rnd:   cohort id -> number of rounds opened (u64)
 *   cohort.rh:    cohort id | u32 round (big endian) -> height it was opened at (u64)
 *   cohort.pt:    cohort id | asset | commitment -> opted-in height | withdrawn height (0: not)
 *   cohort.nin / cohort.nout: cohort id -> patients opted in / withdrawn (u64)
 */
#ifndef LEBEN_COHORT_H
#define LEBEN_COHORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/ledger.h"

enum {
	LB_TX_COHORT_COMMITTEE = 0x03b0, /* an ethics committee: name, k, members */
	LB_TX_COHORT_PROTOCOL = 0x03b1,  /* a study protocol under a committee */
	LB_TX_COHORT_APPROVE = 0x03b2,   /* a committee member approves a protocol (by its hash) */
	LB_TX_COHORT_OPTIN = 0x03b3,     /* a patient opts in, with its consent key */
	LB_TX_COHORT_WITHDRAW = 0x03b4,  /* a patient withdraws, from the next round on */
	LB_TX_COHORT_ROUND = 0x03b5,     /* the sponsor opens the next follow-up round */
};

#define LB_COHORT_NAME_MAX 128
#define LB_COHORT_MEMBERS_MAX 32
#define LB_COHORT_PROTOCOL_MAX 16384

/* The payloads. committee: name, k, members; protocol: committee id, name, protocol JSON text
 * (its canonical form is what is stored and hashed); approve: cohort id, protocol hash;
 * optin/withdraw: cohort id, asset, commitment; round: cohort id, round number. */
struct lb_cohort_tx {
	uint32_t type;
	char name[LB_COHORT_NAME_MAX + 1];
	uint64_t k, n, round;
	uint8_t members[LB_COHORT_MEMBERS_MAX][LB_ADDR_LEN];
	uint8_t id[LB_HASH_LEN];       /* committee (protocol) or cohort (the others) */
	uint8_t hash[LB_HASH_LEN];     /* approve: the protocol hash approved */
	uint8_t asset[LB_HASH_LEN], patient[LB_HASH_LEN];
	char *protocol;                /* protocol: borrowed JSON text */
};

/* Encode tx's payload for its type into out. */
int lb_cohort_encode(const struct lb_cohort_tx *tx, struct lb_buf *out);
/* Decode a payload of type; protocol text is copied into a new string the caller frees with
 * lb_free (tx->protocol), NULL for other types. */
int lb_cohort_decode(uint32_t type, const uint8_t *p, size_t len, struct lb_cohort_tx *tx,
		     struct lb_errmsg *em);
/* Committee id H("LEBEN-cohort-committee-v1" || creator || name); cohort id
 * H("LEBEN-cohort-v1" || sponsor || name). */
void lb_cohort_committee_id(uint8_t out[LB_HASH_LEN], const uint8_t creator[LB_ADDR_LEN], const char *name);
void lb_cohort_id(uint8_t out[LB_HASH_LEN], const uint8_t sponsor[LB_ADDR_LEN], const char *name);
/* Check a protocol JSON text and give its canonical form (new reference) and hash
 * H("LEBEN-cohort-protocol-v1" || canonical text). LB_EINVALID naming the field. */
int lb_cohort_protocol_check(const char *text, json_t **canon, uint8_t hash[LB_HASH_LEN], struct lb_errmsg *em);

int lb_cohort_register_txtypes(void);

/* GET views (new references): a cohort with its protocol, committee, approvals, rounds and
 * counts; a committee. LB_ENOTFOUND if unknown. */
int lb_cohort_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out, struct lb_errmsg *em);
int lb_cohort_committee_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			     struct lb_errmsg *em);
/* A patient's record in a cohort: {"status": "in" | "withdrawn", "optin_height", "withdrawn_height"}. */
int lb_cohort_patient_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			   const uint8_t patient[LB_HASH_LEN], json_t **out, struct lb_errmsg *em);

/* The owner node's check of one study run that names cohort id and its round: the protocol is
 * approved (k approvals), the round is open on the chain, signer is the sponsor, algorithm and
 * params (compared as canonical JSON) are among the protocol's. Then keeps in kept (an array
 * of commitment hex strings of asset's patients; changed in place) only the patients opted in
 * before the round was opened and not withdrawn by then; *left_out counts the others.
 * LB_EDENIED / LB_ENOTFOUND with the reason; kept is untouched then. */
int lb_cohort_study_check(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], uint64_t round,
			  const uint8_t signer[LB_ADDR_LEN], const char *algorithm, const json_t *params,
			  const uint8_t asset[LB_HASH_LEN], json_t *kept, size_t *left_out, struct lb_errmsg *em);

#endif
