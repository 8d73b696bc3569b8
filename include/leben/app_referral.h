/*
 * Application 1, smart diagnosis and referral (docs/apps.md, "1. Smart diagnosis and
 * referral"): a general practice runs a screening contract (an anchored session); a session
 * that committed a referral candidate ("refer...") lets it refer the patient to a specialist
 * institution, which accepts, holds a telemedicine consultation and reports back. Every step
 * is a business-chain tx carrying who, when and hashes of the FHIR resources kept at the
 * institutions' nodes (ServiceRequest, Task, Encounter, Observation) — never patient data.
 * The value of the diagnosis (the fee named at the referral) is paid from the practice's
 * store wallet (or by a cited settlement market.pay) through the market's diagnosis split
 * table (LB_MKT_USE_DIAGNOSIS, in genesis, changed by the credit partners' split vote) among
 * the four parties of the white paper: the knowledge provider hospital as owner, the
 * contract's author (knowledge developer team) as authors, the practice (knowledge user) as
 * executor, the platform pool as platform.
 * Only a member institution of the consortium declares a specialty (referral.specialist);
 * a network without members (one institution) lets any of its accounts declare one.
 *
 * Ownership: JSON views return new references; a decoded payload's pay_tx / pay_proof borrow
 * from the decoded bytes.
 */
#ifndef LEBEN_APP_REFERRAL_H
#define LEBEN_APP_REFERRAL_H

#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"

/* Wire ids (business chain, range 0x03a0-0x03a7). */
enum {
	LB_TX_REF_SPECIALIST = 0x03a0, /* an institution declares a specialty it takes referrals for */
	LB_TX_REF_CREATE = 0x03a1,     /* a practice refers a patient after a positive session */
	LB_TX_REF_ACCEPT = 0x03a2,     /* the specialist institution accepts (Task accepted) */
	LB_TX_REF_CONSULT = 0x03a3,    /* it held the telemedicine consultation (Encounter) */
	LB_TX_REF_REPORT = 0x03a4,     /* it reported back (Observation; Task completed) */
};

#define LB_REF_NAME_MAX 64 /* specialty, outcome: [a-z0-9_-], 1..64 */

/* Status of a referral, in order. */
enum { LB_REF_REQUESTED = 1, LB_REF_ACCEPTED = 2, LB_REF_CONSULTED = 3, LB_REF_COMPLETED = 4 };

/* One payload, all types (fields unused by a type are zero / empty).
 *  SPECIALIST: specialty.
 *  CREATE:     session (anchored, the sender's), candidate (committed, "refer..."), specialty,
 *              target (a specialist institution of it), provider (knowledge provider
 *              hospital), digest (ServiceRequest hash), patient (salted patient commitment),
 *              fee (micro-ASC, may be 0), and optionally the sender's own settlement
 *              market.pay paying it (pay_tx with pay_proof anchored in a business block;
 *              both empty: the store wallet pays).
 *  ACCEPT:     referral (the create tx id), digest (Task hash).
 *  CONSULT:    referral, digest (Encounter hash).
 *  REPORT:     referral, digest (report hash), outcome. */
struct lb_ref_tx {
	uint32_t type;
	uint8_t referral[LB_HASH_LEN];
	uint8_t session[LB_HASH_LEN];
	char candidate[128];
	char specialty[LB_REF_NAME_MAX + 1];
	uint8_t target[LB_ADDR_LEN];
	uint8_t provider[LB_ADDR_LEN];
	uint8_t digest[LB_HASH_LEN];
	uint8_t patient[LB_HASH_LEN];
	uint64_t fee;
	const uint8_t *pay_tx, *pay_proof; /* CREATE: the cited market.pay (borrowed) */
	size_t pay_tx_len, pay_proof_len;
	char outcome[LB_REF_NAME_MAX + 1];
};
#define LB_REF_PROOF_MAX 16384

/* Canonical encoding (version byte 1, then the type's fields; docs/wire-format.md). */
int lb_ref_tx_encode(struct lb_buf *b, const struct lb_ref_tx *p, struct lb_errmsg *em);
int lb_ref_tx_decode(uint32_t type, const uint8_t *buf, size_t n, struct lb_ref_tx *p,
		     struct lb_errmsg *em);

/* Register the tx types. Idempotent. */
int lb_app_referral_register_txtypes(void);

struct lb_mkt_parties;
/* The parties of a diagnosis's value (LB_MKT_USE_DIAGNOSIS) into *q: provider as owner, author
 * as the one author, gp as executor. q->authors points at author (kept by the caller). */
void lb_ref_diagnosis_parties(struct lb_mkt_parties *q, const uint8_t provider[LB_ADDR_LEN],
			      const uint8_t author[LB_ADDR_LEN], const uint8_t gp[LB_ADDR_LEN]);

struct lb_ledger;
/* {"id","status",...} of one referral (LB_ENOTFOUND); the list, newest first, of those an
 * institution sent or received (who NULL: all) from offset, at most limit (0: 100):
 * {"total","referrals":[...]}. */
int lb_ref_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		struct lb_errmsg *em);
int lb_ref_list_json(struct lb_ledger *l, const uint8_t *who, size_t offset, size_t limit,
		     json_t **out, struct lb_errmsg *em);

#endif
