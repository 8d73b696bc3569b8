/*
 * Data-driven insurance (docs/apps.md, "5. Data-driven insurance"): an insurer registers a
 * policy (covered diagnosis -> procedure code table, limit per claim and per period,
 * co-payment, waiting period) on the business chain and locks its premium pool in ASC on the
 * settlement chain; a patient enrols with their own key; a provider institution anchors the
 * clinical events (a diagnosis and a procedure: the hashes of its FHIR Condition and
 * Procedure, with a text fingerprint for near-duplicate detection) and claims; every node
 * adjudicates the claim by the policy's terms (approved = min(limit, cost) x (1 - co-pay)) and
 * the approved amount is paid from the pool to the provider by a settlement tx citing the
 * claim with its proof anchored in a settlement block.
 * Business tx types 0x03c0-0x03c7, settlement 0x0130-0x0137.
 */
#ifndef LEBEN_INSURANCE_H
#define LEBEN_INSURANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/ledger.h"

enum {
	LB_TX_INS_POLICY = 0x03c0, /* insurer registers a policy (its id: this tx id) */
	LB_TX_INS_ENROL = 0x03c1,  /* patient enrols in a policy with their own key */
	LB_TX_INS_EVENT = 0x03c2,  /* provider anchors a clinical event (condition / procedure) */
	LB_TX_INS_CLAIM = 0x03c3,  /* provider claims for a condition + procedure of a patient */
	LB_TX_INS_FUND = 0x0130,   /* settlement: ASC locked in a policy's premium pool */
	LB_TX_INS_SETTLE = 0x0131, /* settlement: a valid claim paid from the pool, once */
};

#define LB_INS_NAME_MAX 160
#define LB_INS_CODE_MAX 31   /* bytes of one code ("I21.4", "0210093", "snomed|...") */
#define LB_INS_PAIRS_MAX 64  /* rows of a policy's diagnosis -> procedure table */
#define LB_INS_PROOF_MAX 16384
#define LB_INS_COPAY_MAX 10000 /* basis points */
#define LB_INS_NEAR 0.60       /* text similarity at or above which claims are near copies */

enum lb_ins_event_kind { LB_INS_CONDITION = 1, LB_INS_PROCEDURE = 2 };

/* One insurance tx payload; which fields count depends on the type (docs/wire-format.md).
 * Encoded canonically: version byte 1, then the type's fields in the order below. */
struct lb_ins_tx {
	uint32_t type; /* LB_TX_INS_* (not encoded: the tx's type) */
	/* POLICY */
	char name[LB_INS_NAME_MAX + 1];
	size_t npairs;
	char diag[LB_INS_PAIRS_MAX][LB_INS_CODE_MAX + 1]; /* covered diagnosis ... */
	char proc[LB_INS_PAIRS_MAX][LB_INS_CODE_MAX + 1]; /* ... and a procedure consistent with it */
	uint64_t limit_claim, limit_period; /* micro-ASC */
	uint64_t period_blocks;             /* length of a limit period (from enrolment) */
	uint64_t waiting_blocks;            /* no claim before enrolment + this */
	uint32_t copay_bp;                  /* patient's share in basis points (0..10000) */
	uint64_t premium;                   /* micro-ASC per period (from `leben insurance price`) */
	bool has_model;                     /* priced from a model (payload version 2) ... */
	uint8_t model[LB_HASH_LEN];         /* ... the insurer's exchange request (builtin:logreg)
					     * whose released coefficients gave the premium */
	/* ENROL, CLAIM, FUND: the policy id */
	uint8_t policy[LB_HASH_LEN];
	/* EVENT */
	uint8_t kind;                       /* lb_ins_event_kind */
	uint8_t patient[LB_ADDR_LEN];       /* EVENT, CLAIM */
	char code[LB_INS_CODE_MAX + 1];
	uint8_t hash[LB_HASH_LEN];          /* digest of the FHIR resource at the provider's node */
	const uint8_t *fp;                  /* text fingerprint (LB_TEXT_FP_SIZE) or empty; borrowed */
	size_t fp_len;
	/* CLAIM */
	uint8_t condition[LB_HASH_LEN], procedure[LB_HASH_LEN]; /* event hashes */
	uint64_t cost;                      /* billed, micro-ASC */
	uint64_t approved;                  /* what adjudication gives (checked on every node) */
	/* FUND */
	uint64_t amount;
	/* SETTLE: the ins.claim tx and its proof anchored in a settlement block; ENROL: the
	 * patient's ins.fund of the premium and its proof anchored in a business block (both
	 * empty when the policy's premium is 0). Borrowed. */
	const uint8_t *cited, *proof;
	size_t cited_len, proof_len;
};

/* Encode for p->type into b; LB_EINVALID naming the field. */
int lb_ins_tx_encode(struct lb_buf *b, const struct lb_ins_tx *p, struct lb_errmsg *em);
/* Decode a payload of tx type `type` (borrowed pointers into buf). LB_EMALFORMED naming the
 * field. */
int lb_ins_tx_decode(uint32_t type, const uint8_t *buf, size_t n, struct lb_ins_tx *p,
		     struct lb_errmsg *em);

/* Register the insurance tx types. Idempotent. */
int lb_insurance_register_txtypes(void);

/* The settlement account of a policy's premium pool (no key controls it):
 * H("LEBEN-insurance-pool-v1" || policy)[0..20). */
void lb_ins_pool_addr(const uint8_t policy[LB_HASH_LEN], uint8_t out[LB_ADDR_LEN]);

/* The adjudication of a claim as it would be made now by `provider` (p: a CLAIM payload;
 * p->approved is ignored), as a FHIR ClaimResponse-shaped object with "outcome" "complete"
 * and the amounts, or "error" with "error" (the refusal's text) and "code". */
int lb_ins_adjudicate_json(struct lb_ledger *l, const uint8_t provider[LB_ADDR_LEN],
			   const struct lb_ins_tx *p, json_t **out, struct lb_errmsg *em);
/* Is an event with this hash anchored on the business chain (committed state)? */
bool lb_ins_event_known(struct lb_ledger *l, const uint8_t hash[LB_HASH_LEN]);

/* Views: a policy (+ pool address and balance), a coverage (FHIR Coverage + claims and the
 * period's use), a claim (FHIR Claim + ClaimResponse + settled). LB_ENOTFOUND if absent. */
int lb_ins_policy_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em);
int lb_ins_coverage_json(struct lb_ledger *l, const uint8_t policy[LB_HASH_LEN],
			 const uint8_t patient[LB_ADDR_LEN], json_t **out, struct lb_errmsg *em);
int lb_ins_claim_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		      struct lb_errmsg *em);

/* The chain-kept FHIR resource of a type ("Claim", "ClaimResponse" by the claim id,
 * "Coverage" by its id, H(policy || patient) in hex) for the FHIR endpoint's reads.
 * LB_ENOTFOUND when the chain has none. */
int lb_ins_fhir_read(struct lb_ledger *l, const char *type, const char *id, json_t **out,
		     struct lb_errmsg *em);

/* Premium from released model coefficients (docs/apps.md): p = 1/(1+exp(-(b0 + sum bi xi)))
 * is the chance of a claim in a period; premium = p x expected approved amount x
 * (1 + loading). coef and x are parallel (x[0] ignored, the intercept). */
double lb_ins_premium(const double *coef, const double *x, size_t n, double expected,
		      double loading, double *prob);

#endif
