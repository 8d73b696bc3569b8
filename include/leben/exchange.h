/*
 * Trusted data exchange, chain side: the rights and exchange-contract tx types of the
 * business chain (offer, execution-right grant, algorithm registration, usage request,
 * approval, patient consent, execution, result, revocation) and the cross-chain escrow of
 * the settlement chain (open, claim, release, refund). Payloads are canonical (codec.h);
 * docs/exchange.md describes the protocol and docs/wire-format.md every field.
 *
 * The decoded payload structs borrow from the bytes they were decoded from.
 */
#ifndef LEBEN_EXCHANGE_H
#define LEBEN_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/ledger.h"

/* Tx type ids: business 0x0340-0x035f, settlement 0x0110-0x011f. */
enum {
	LB_TX_XCHG_OFFER = 0x0340,   /* owner offers an asset: price, release policy, allow-list */
	LB_TX_XCHG_GRANT = 0x0341,   /* owner grants the execution right to an executor */
	LB_TX_XCHG_ALGO = 0x0342,    /* author registers an algorithm (hash, fee) */
	LB_TX_XCHG_REQUEST = 0x0343, /* user asks to run an algorithm on an asset (usage right) */
	LB_TX_XCHG_APPROVE = 0x0344, /* owner approves or rejects a request */
	LB_TX_XCHG_CONSENT = 0x0345, /* patient gives or revokes consent for an asset */
	LB_TX_XCHG_EXEC = 0x0346,    /* executor records a run: scenario, escrow, patients used */
	LB_TX_XCHG_RESULT = 0x0347,  /* executor records the result hash (or why none) */
	LB_TX_XCHG_REVOKE = 0x0348,  /* owner revokes an execution right, usage right or offer */
	LB_TX_XCHG_PATIENTS = 0x0349, /* owner registers patients: commitment -> consent key */
	LB_TX_XCHG_VIEW = 0x034a,    /* a reader logs a view of a private part before opening it */
	LB_TX_AUDIT_REQUEST = 0x034b, /* data owner asks an audit node to audit an offered asset */
	LB_TX_AUDIT_RECORD = 0x034c,  /* the audit node signs the score of the data it audited */
	LB_TX_ESCROW_OPEN = 0x0110,  /* user locks ASC (data + algorithm) and CSC (computing) */
	LB_TX_ESCROW_RELEASE = 0x0111, /* pay out, citing the business-chain result receipt */
	LB_TX_ESCROW_REFUND = 0x0112,  /* give back after a failed run or the timeout height */
	LB_TX_ESCROW_CLAIM = 0x0113,   /* executor announces the delivered result on settlement */
};

/* Register the exchange tx types in the ledger's table. Idempotent. */
int lb_exchange_register_txtypes(void);

/* Limits of the payloads. */
#define LB_XCHG_ALLOW_MAX 64         /* algorithm hashes on an offer's allow-list */
#define LB_XCHG_PATIENTS_MAX 1500    /* patients listed in one execution */
#define LB_XCHG_REGTX_MAX 40000      /* asset.register tx carried by an offer */
#define LB_XCHG_PROOF_MAX 16384      /* an inclusion proof carried by a payload */
#define LB_XCHG_TEXT_MAX 256         /* purpose, reasons, notes */
#define LB_XCHG_NAME_MAX 128         /* algorithm names */
#define LB_XCHG_REGISTER_MAX 1000    /* patients registered by one xchg.patients */
#define LB_XCHG_VIEW_PATIENTS_MAX 64 /* patients a logged view concerns */

enum lb_xchg_scenario {
	LB_XCHG_AUTO = 0,       /* request: let the executor choose */
	LB_XCHG_LOCAL = 1,      /* at the data owner */
	LB_XCHG_OFFSITE = 2,    /* at the algorithm owner, data sent in a level-1 envelope */
	LB_XCHG_INTEGRATED = 3, /* at a computing provider, data and algorithm enveloped */
};
const char *lb_xchg_scenario_name(int s); /* "auto", "local", "off-site", "integrated" */
int lb_xchg_scenario_parse(const char *s); /* -1 if unknown */

#define LB_XCHG_OFFER_LOCAL_ONLY 0x01 /* offer flag: the data never leaves the owner */
#define LB_XCHG_OFFER_OPT_OUT 0x02    /* offer flag: the legal basis (recorded on the offer)
				       * lets a patient's records be used unless the patient
				       * revoked; without it, only patients who gave consent */
#define LB_XCHG_ALGO_AT_AUTHOR 0x01   /* algorithm flag: runs only at its author (off-site) */
#define LB_XCHG_ALGO_HEAVY_DEPS 0x02  /* algorithm flag: needs a computing provider's stack */

/* Result status of xchg.result. */
enum { LB_XCHG_DELIVERED = 1, LB_XCHG_WITHHELD = 2, LB_XCHG_FAILED = 3 };

/* Public reason code of xchg.result: which rule kept a result back, never the values that
 * made it fire. The full sentence is sealed to the user and the owner (docs/exchange.md,
 * "Result"). Allowed per status: delivered 0; withheld 1, 2, 3, 5, 6; failed 4, 5. */
enum lb_xchg_reason {
	LB_XCHG_REASON_NONE = 0,         /* delivered */
	LB_XCHG_REASON_COHORT = 1,       /* withheld: a figure describes fewer than min_cohort */
	LB_XCHG_REASON_BUDGET = 2,       /* withheld: the privacy budget would be exceeded */
	LB_XCHG_REASON_DIFFERENCING = 3, /* withheld: too close to an earlier release */
	LB_XCHG_REASON_FAILED = 4,       /* failed: the algorithm or its input was refused */
	LB_XCHG_REASON_LIMIT = 5,        /* a resource or output-size limit was hit */
	LB_XCHG_REASON_POLICY = 6,       /* withheld by another rule of the release policy */
};
#define LB_XCHG_REASON_MAX 6
/* Stable name of a reason code ("none", "cohort", "budget", "differencing", "failed",
 * "limit", "policy"; "?" otherwise). */
const char *lb_xchg_reason_name(int code);

/* Differential-privacy amounts (epsilon, budgets) are carried in micro-units: 1 = 1e-6. */
#define LB_XCHG_EPS_UNIT 1000000
#define LB_XCHG_EPS_MAX ((uint64_t)1000 * LB_XCHG_EPS_UNIT) /* largest epsilon or budget */

/* Who is paid what for one run; the escrow holds exactly these amounts. */
struct lb_xchg_terms {
	uint8_t user[LB_ADDR_LEN];      /* who pays */
	uint8_t request[LB_HASH_LEN];   /* the xchg.request tx id */
	uint8_t owner[LB_ADDR_LEN];     /* data owner */
	uint64_t data_fee;              /* micro-ASC to the owner */
	uint8_t author[LB_ADDR_LEN];    /* algorithm author */
	uint64_t algo_fee;              /* micro-ASC to the author */
	uint8_t executor[LB_ADDR_LEN];  /* who runs it */
	uint64_t compute_fee;           /* micro-CSC to the executor */
};
/* H("LEBEN-escrow-terms-v1" || canonical terms). */
void lb_xchg_terms_hash(const struct lb_xchg_terms *t, uint8_t out[LB_HASH_LEN]);

/* ---- decoded payloads ----------------------------------------------------------------- */

struct lb_xchg_offer {
	const uint8_t *reg_tx;      /* signed asset.register tx of the directory chain */
	size_t reg_tx_len;
	const uint8_t *reg_proof;   /* its inclusion proof anchored in a business block */
	size_t reg_proof_len;
	uint64_t data_fee;          /* micro-ASC per run */
	uint8_t flags;              /* LB_XCHG_OFFER_* */
	uint64_t min_cohort;        /* smallest group of patients a released figure may describe */
	uint64_t max_output;        /* largest result in bytes that may be released */
	uint64_t data_bytes;        /* size of the data (scenario choice) */
	size_t n_allow;             /* algorithms trusted in advance */
	uint8_t allow[LB_XCHG_ALLOW_MAX][LB_HASH_LEN];
	/* differential privacy (micro-units; all 0 = no noise, no budget) */
	uint64_t epsilon;           /* privacy loss of one release (Laplace noise scale) */
	uint64_t budget_user;       /* total epsilon one user may spend on this asset */
	uint64_t budget_patient;    /* total epsilon a patient may have spent, over all assets and
	                             * studies, for a run on this asset to use the patient */
	/* The legal basis that allows opt-out (law, article, ethics decision): present (1 to
	 * LB_XCHG_TEXT_MAX bytes) exactly when flags has LB_XCHG_OFFER_OPT_OUT; the payload's
	 * last field. */
	char legal_basis[LB_XCHG_TEXT_MAX + 1];
};
struct lb_xchg_grant {
	uint8_t asset[LB_HASH_LEN];
	uint8_t executor[LB_ADDR_LEN];
	uint8_t kind;               /* 1 own node, 2 another node, 3 computing provider */
};
struct lb_xchg_algo {
	uint8_t hash[LB_HASH_LEN];  /* pins the algorithm (script bytes or built-in name) */
	uint64_t fee;               /* micro-ASC per run to the author */
	uint8_t flags;              /* LB_XCHG_ALGO_* */
	char name[LB_XCHG_NAME_MAX + 1];
};
#define LB_XCHG_PARAMS_MAX 4096  /* bytes of an algorithm's parameters (JSON object text) */
#define LB_XCHG_POLICY_MAX 4096  /* bytes of a result's CP-ABE policy (LB_ABE_MAX_POLICY) */
struct lb_xchg_request {
	uint8_t asset[LB_HASH_LEN];
	uint8_t algo[LB_HASH_LEN];
	uint8_t scenario;           /* enum lb_xchg_scenario (0 = auto) */
	char purpose[LB_XCHG_TEXT_MAX + 1];
	char params[LB_XCHG_PARAMS_MAX + 1]; /* the algorithm's parameters: a JSON object, or "" */
	/* optional: the result sealed to a CP-ABE policy instead of to the user (abe.h): the
	 * authority id and the policy in plain attribute names; on the wire after params, only
	 * when result_policy is not "" */
	uint8_t result_authority[32];
	char result_policy[LB_XCHG_POLICY_MAX + 1];
};
struct lb_xchg_approve {
	uint8_t request[LB_HASH_LEN];
	uint8_t decision;           /* 1 approve, 2 reject */
	char reason[LB_XCHG_TEXT_MAX + 1];
};
/* Consent actions. */
enum { LB_XCHG_GIVE = 1, LB_XCHG_REVOKE_CONSENT = 2, LB_XCHG_REBIND = 3 };
struct lb_xchg_consent {
	uint8_t asset[LB_HASH_LEN];
	uint8_t patient[LB_HASH_LEN]; /* the patient's commitment (lb_xchg_patient_commit) */
	uint8_t action;             /* LB_XCHG_GIVE, LB_XCHG_REVOKE_CONSENT or LB_XCHG_REBIND */
	uint8_t new_key[LB_ADDR_LEN]; /* REBIND only: the address of the patient's new consent
				       * key (on the wire only for REBIND) */
};
/* The owner registers, for an asset on offer, which key speaks for each patient's consent. */
struct lb_xchg_patients {
	uint8_t asset[LB_HASH_LEN];
	size_t n;                     /* 1 .. LB_XCHG_REGISTER_MAX */
	const uint8_t *entries;       /* n x (commitment 32 || key address 20), borrowed, sorted by
				       * commitment, strictly increasing */
};
#define LB_XCHG_PATIENT_ENTRY (LB_HASH_LEN + LB_ADDR_LEN)
/* What was viewed (xchg.view). */
enum { LB_XCHG_VIEW_PRIVATE = 1, LB_XCHG_VIEW_RAW = 2 };
struct lb_xchg_view {
	uint8_t asset[LB_HASH_LEN];
	uint8_t part;                 /* LB_XCHG_VIEW_PRIVATE (data show --private) or _RAW (data get) */
	uint64_t version;             /* the entry version viewed (0 if unknown) */
	size_t n_patients;            /* 0 .. LB_XCHG_VIEW_PATIENTS_MAX */
	const uint8_t *patients;      /* n_patients x 32 commitments, borrowed, strictly increasing */
};
struct lb_xchg_exec {
	uint8_t request[LB_HASH_LEN];
	uint8_t escrow[LB_HASH_LEN];  /* escrow.open tx id on the settlement chain */
	struct lb_xchg_terms terms;   /* must equal the escrow's */
	uint8_t scenario;             /* 1..3 */
	uint8_t chosen_by;            /* 1 the user, 2 automatic */
	size_t n_patients;            /* patients whose records were used */
	const uint8_t *patients;      /* n_patients x 32 bytes, borrowed, strictly increasing */
	uint8_t noise_commit[LB_HASH_LEN]; /* lb_xchg_noise_commit(r) of the executor's secret r;
	                                    * required (non-zero) when the offer has epsilon */
};
struct lb_xchg_result {
	uint8_t request[LB_HASH_LEN];
	uint8_t escrow[LB_HASH_LEN];
	uint8_t terms_hash[LB_HASH_LEN];
	uint8_t status;               /* LB_XCHG_DELIVERED / WITHHELD / FAILED */
	uint8_t result_hash[LB_HASH_LEN]; /* BLAKE2b-256 of the sealed result (the envelope bytes
	                                   * the user fetches), zero if none */
	uint8_t reason;               /* enum lb_xchg_reason (allowed codes depend on status) */
	/* Metered compute (optional tail: u8 1, uvar cpu_ms, uvar peak_mem): what the sandbox
	 * measured (lb_sandbox_report cpu_ms / peak_rss). A market release charges the compute
	 * CSC by the genesis unit prices (lb_mkt_compute_fee) up to the escrowed compute fee and
	 * refunds the rest to the user; unmetered results are charged the whole fee. */
	uint8_t metered;              /* 0 none, 1 the two figures below */
	uint64_t cpu_ms;              /* user + system CPU time, ms */
	uint64_t peak_mem;            /* peak resident memory, bytes */
};
struct lb_xchg_revoke {
	uint8_t kind;                 /* 1 execution right, 2 usage right (request), 3 offer */
	uint8_t id[LB_HASH_LEN];      /* asset (1, 3) or request (2) */
	uint8_t executor[LB_ADDR_LEN];/* kind 1 only (zero otherwise) */
};
struct lb_escrow_open {
	struct lb_xchg_terms terms;   /* terms.user must be the sender */
	uint64_t timeout;             /* settlement height after which a refund needs no proof */
};
struct lb_escrow_cite {           /* release, refund */
	uint8_t escrow[LB_HASH_LEN];
	const uint8_t *result_tx;     /* signed xchg.result tx (empty: refund by timeout) */
	size_t result_tx_len;
	const uint8_t *proof;         /* its proof anchored in a settlement block */
	size_t proof_len;
};
struct lb_escrow_claim {
	uint8_t escrow[LB_HASH_LEN];
	uint8_t result_hash[LB_HASH_LEN];
};

/* Encoders append the canonical payload to b. */
int lb_xchg_offer_encode(struct lb_buf *b, const struct lb_xchg_offer *p);
int lb_xchg_grant_encode(struct lb_buf *b, const struct lb_xchg_grant *p);
int lb_xchg_algo_encode(struct lb_buf *b, const struct lb_xchg_algo *p);
int lb_xchg_request_encode(struct lb_buf *b, const struct lb_xchg_request *p);
int lb_xchg_approve_encode(struct lb_buf *b, const struct lb_xchg_approve *p);
int lb_xchg_consent_encode(struct lb_buf *b, const struct lb_xchg_consent *p);
int lb_xchg_exec_encode(struct lb_buf *b, const struct lb_xchg_exec *p);
int lb_xchg_result_encode(struct lb_buf *b, const struct lb_xchg_result *p);
int lb_xchg_revoke_encode(struct lb_buf *b, const struct lb_xchg_revoke *p);
int lb_xchg_patients_encode(struct lb_buf *b, const struct lb_xchg_patients *p);
int lb_xchg_view_encode(struct lb_buf *b, const struct lb_xchg_view *p);
int lb_escrow_open_encode(struct lb_buf *b, const struct lb_escrow_open *p);
int lb_escrow_cite_encode(struct lb_buf *b, const struct lb_escrow_cite *p);
int lb_escrow_claim_encode(struct lb_buf *b, const struct lb_escrow_claim *p);

/* Decoders: canonical form only; LB_EMALFORMED / LB_EINVALID with a message naming the
 * field. Pointers in the result borrow p. */
int lb_xchg_offer_decode(struct lb_xchg_offer *o, const uint8_t *p, size_t n, struct lb_errmsg *em);
int lb_xchg_grant_decode(struct lb_xchg_grant *o, const uint8_t *p, size_t n, struct lb_errmsg *em);
int lb_xchg_algo_decode(struct lb_xchg_algo *o, const uint8_t *p, size_t n, struct lb_errmsg *em);
int lb_xchg_request_decode(struct lb_xchg_request *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em);
int lb_xchg_approve_decode(struct lb_xchg_approve *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em);
int lb_xchg_consent_decode(struct lb_xchg_consent *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em);
int lb_xchg_exec_decode(struct lb_xchg_exec *o, const uint8_t *p, size_t n, struct lb_errmsg *em);
int lb_xchg_result_decode(struct lb_xchg_result *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em);
int lb_xchg_revoke_decode(struct lb_xchg_revoke *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em);
int lb_xchg_patients_decode(struct lb_xchg_patients *o, const uint8_t *p, size_t n,
			    struct lb_errmsg *em);
int lb_xchg_view_decode(struct lb_xchg_view *o, const uint8_t *p, size_t n, struct lb_errmsg *em);
int lb_escrow_open_decode(struct lb_escrow_open *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em);
int lb_escrow_cite_decode(struct lb_escrow_cite *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em);
int lb_escrow_claim_decode(struct lb_escrow_claim *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em);

/* The act the co-owners of a co-owned asset (a co-owner policy recorded by the security
 * module, leben/security.h) must approve with policy.approve before its owner's tx of this
 * type and payload applies: "<type name> <64 hex digits>" = the tx type's name and the
 * BLAKE2b-256 of the payload (for xchg.offer, of the payload with the registration tx and its
 * proof left empty, so that the act does not change as the proof grows). out >= 96 bytes.
 * For xchg.offer, xchg.grant, xchg.approve, xchg.revoke; LB_EINVALID for other types. */
#define LB_XCHG_ACT_MAX 96
int lb_xchg_owner_act(uint32_t type, const uint8_t *payload, size_t len, char out[LB_XCHG_ACT_MAX],
		      struct lb_errmsg *em);

/* ---- patient commitments ------------------------------------------------------------------
 * Public records (consents, registrations, executions, logs) name a patient only by a salted
 * commitment: commit = H("LEBEN-patient-v2" || asset || salt_i || local id), with the
 * patient's salt salt_i = H("LEBEN-patient-salt-v1" || salt_key || asset || local id).
 * salt_key is the asset's secret (32 random bytes the owner keeps, lb_xchg_salt_key); without
 * it, hashing a guessed local id tests nothing. The patient receives salt_i (its "opening
 * card") and opens its own commitment with it. */
#define LB_XCHG_SALT_KEY_LEN 32
void lb_xchg_patient_salt(uint8_t out[LB_HASH_LEN], const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN],
			  const uint8_t asset[LB_HASH_LEN], const char *local_id);
/* The commitment from the asset's salt key. */
void lb_xchg_patient_commit(uint8_t out[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			    const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN], const char *local_id);
/* The commitment from the patient's own salt (what an opening card holds). */
void lb_xchg_patient_open(uint8_t out[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			  const uint8_t salt[LB_HASH_LEN], const char *local_id);
/* The asset's salt key from <home>/exchange/salts/<asset hex>.key (32 bytes, mode 0600);
 * with create, a missing one is made from the system's randomness (directories 0700).
 * LB_ENOTFOUND when missing and not created, LB_ECORRUPT for a file of another size, LB_EIO.
 * key is the caller's buffer; wipe it with sodium_memzero after use. */
int lb_xchg_salt_key(const char *home, const uint8_t asset[LB_HASH_LEN], bool create,
		     uint8_t key[LB_XCHG_SALT_KEY_LEN], struct lb_errmsg *em);
/* Hash pinning a built-in algorithm: H("LEBEN-algo-builtin-v1" || name). */
void lb_xchg_builtin_hash(uint8_t out[LB_HASH_LEN], const char *name);
/* For another module's tx rule on the business chain: the request id whose result was
 * delivered (xchg.result recorded, status done) — its user and algorithm hash into user and
 * algo. LB_ENOTFOUND for no such request, LB_EINVALID (naming its state) when it has no
 * delivered result. */
struct lb_state;
int lb_xchg_delivered(struct lb_state *s, const uint8_t id[LB_HASH_LEN],
		      uint8_t user[LB_ADDR_LEN], uint8_t algo[LB_HASH_LEN], struct lb_errmsg *em);
/* The built-in algorithm (lb_algo_table) whose pinned hash is hash: its name (static), or NULL.
 * Built-ins belong to the platform: usable without registration (no author, fee 0), and
 * xchg.algo refuses their hashes. */
const char *lb_xchg_builtin_name(const uint8_t hash[LB_HASH_LEN]);

/* The noise of a run's release (docs/exchange.md, "Noise seed"): the executor draws a secret r
 * (32 random bytes), records commit = H("LEBEN-noise-commit-v1" || r) in xchg.exec, and keys
 * the Laplace noise with H("LEBEN-noise-v1" || r || hash of the business block holding that
 * xchg.exec): neither the executor (bound by the commitment before the block exists) nor the
 * block's maker (who does not know r) chooses it alone. */
void lb_xchg_noise_commit(uint8_t out[LB_HASH_LEN], const uint8_t r[LB_HASH_LEN]);
void lb_xchg_noise_key(uint8_t out[LB_HASH_LEN], const uint8_t r[LB_HASH_LEN],
		       const uint8_t exec_block_hash[LB_HASH_LEN]);
/* Asset id of a directory registration: H("LEBEN-asset-v1" || owner address || nonce BE). */
void lb_xchg_asset_id(uint8_t out[LB_HASH_LEN], const uint8_t owner[LB_ADDR_LEN], uint64_t nonce);
/* What a directory-chain registration tx says about its asset: the spine's asset.register
 * (asset id from owner and nonce, content hash first in the payload) or the data layer's
 * data.register (asset id in the payload, content = the public description's raw.blake2b,
 * size = basic.size or 0). owner is the tx's sender. LB_EINVALID for any other tx. */
int lb_xchg_registration(const struct lb_tx *reg, uint8_t asset[LB_HASH_LEN],
			 uint8_t owner[LB_ADDR_LEN], uint8_t content[LB_HASH_LEN], uint64_t *size,
			 struct lb_errmsg *em);


/* Why a run has the scenario it has: computed by the chain when it records xchg.exec, kept
 * with the request and shown with the run. */
enum lb_xchg_scen_reason {
	LB_XCHG_SCEN_USER = 1,         /* the user asked for it */
	LB_XCHG_SCEN_LOCAL_ONLY = 2,   /* the offer keeps the data at its owner */
	LB_XCHG_SCEN_SIZE = 3,         /* the data is over 256 MiB: computed where it lies */
	LB_XCHG_SCEN_AT_AUTHOR = 4,    /* the algorithm runs only at its author: off-site */
	LB_XCHG_SCEN_DEPS = 5,         /* the algorithm needs a computing provider's stack */
	LB_XCHG_SCEN_NO_COMPUTING = 6, /* it would, but the consortium has no computing node */
	LB_XCHG_SCEN_EXECUTOR = 7,     /* nothing forces one: the escrow's executor decides (the
	                                * owner or its own node: local; another institution's
	                                * node: off-site; a computing provider: integrated) */
};
#define LB_XCHG_SCEN_REASON_MAX 7
/* "user", "local-only", "data-size", "at-author", "dependencies", "no-computing-node",
 * "executor"; "?" otherwise. */
const char *lb_xchg_scen_reason_name(int r);
/* A sentence for a reason ("the offer keeps the data at its owner"). */
const char *lb_xchg_scen_reason_text(int r);
/* The automatic choice, from what the request asked (0 auto), the offer's policy and size,
 * the algorithm's dependencies and whether a computing node exists (true on a network without
 * members): the scenario the run must have, or 0 when any scenario fits (then the executor
 * named by the escrow decides: reason LB_XCHG_SCEN_EXECUTOR). *reason gets the reason. */
int lb_xchg_scenario_rule(uint8_t asked, uint8_t offer_flags, uint64_t data_bytes,
			  uint8_t algo_flags, bool computing_present, int *reason);

/* ---- preparing a run ------------------------------------------------------------------ */

#define LB_XCHG_LOCAL_ID_MAX 128 /* bytes of a local patient id */

/* A patient of a table: commitment and the local id it was derived from. */
struct lb_xchg_patient {
	uint8_t id[LB_HASH_LEN];              /* lb_xchg_patient_commit(asset, salt_key, local) */
	char local[LB_XCHG_LOCAL_ID_MAX + 1]; /* the cell text of the patient column */
};
/* The distinct patients of a CSV table (header line; comma, semicolon or tab separated as
 * detected from the header; RFC 4180 quotes), by column patient_col, sorted by commitment
 * (salt_key borrowed). *out is allocated (lb_free). An empty patient cell, a local id longer
 * than LB_XCHG_LOCAL_ID_MAX, a missing column or a ragged row: LB_EMALFORMED / LB_ENOTFOUND. */
int lb_xchg_csv_patients(const uint8_t *csv, size_t len, const char *patient_col,
			 const uint8_t asset[LB_HASH_LEN],
			 const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN], struct lb_xchg_patient **out,
			 size_t *n, struct lb_errmsg *em);
/* What the asset's owner signs when it delivers its data, sealed to the executor, for an
 * off-site or integrated run (POST /v1/exchange/inputs/{request}, docs/api.md):
 * H("LEBEN-sealed-input-v2" || request || escrow || executor address || u64be n ||
 *   patients (n x 32) || patient column || u64be len(sealed salt key) || sealed salt key ||
 *   sealed bytes). The asset's salt key travels sealed to the executor's key too, so that the
 *   sandbox can find the rows of excluded patients by commitment. */
void lb_xchg_input_digest(uint8_t out[LB_HASH_LEN], const uint8_t req[LB_HASH_LEN],
			  const uint8_t esc[LB_HASH_LEN], const uint8_t exec[LB_ADDR_LEN],
			  const uint8_t *sealed, size_t slen, const uint8_t *patients, size_t npats,
			  const char *column, const uint8_t *sealed_salt, size_t sslen);

/* ---- audits by audit nodes (docs/data.md, "Audits by audit nodes") ------------------------- */

/* Re-audit interval in business blocks when genesis.json has no "audit": {"interval_blocks"}. */
#define LB_AUDIT_INTERVAL_DEFAULT 100000
/* Where the business state keeps it: (LB_AUDIT_CFG_NS, "interval") -> varint, written by the
 * genesis and by a governance vote (LB_GOV_AUDIT). */
#define LB_AUDIT_CFG_NS "xaudcfg"
struct lb_xchg_audit_req {        /* audit.request, sent by the asset's owner */
	uint8_t asset[LB_HASH_LEN];       /* an offered asset */
	uint8_t auditor[LB_ADDR_LEN];     /* the audit node asked (never the owner) */
};
struct lb_xchg_audit_score {      /* audit.record, sent by the audit node asked */
	uint8_t asset[LB_HASH_LEN];
	uint8_t content[LB_HASH_LEN];     /* content hash of the data audited (the offer's) */
	uint64_t score;                   /* basis points, 0..10000 */
	uint8_t report_hash[LB_HASH_LEN]; /* BLAKE2b-256 of the report the audit node received */
};
int lb_xchg_audit_req_encode(struct lb_buf *b, const struct lb_xchg_audit_req *p);
int lb_xchg_audit_req_decode(struct lb_xchg_audit_req *o, const uint8_t *p, size_t n,
			     struct lb_errmsg *em);
int lb_xchg_audit_score_encode(struct lb_buf *b, const struct lb_xchg_audit_score *p);
int lb_xchg_audit_score_decode(struct lb_xchg_audit_score *o, const uint8_t *p, size_t n,
			       struct lb_errmsg *em);
/* What an audit node signs to ask an owner's node to run the audit:
 * H("LEBEN-audit-run-v1" || asset || u64be time_ms). */
void lb_xchg_audit_run_digest(uint8_t out[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			      uint64_t time_ms);
/* The owner node's side of an audit (POST /v1/exchange/audits/{asset}/run): checks the audit
 * node's signature (time_ms within 10 minutes of now_ms) and that the owner asked that audit
 * node (an open audit.request), reads the owner's table <home>/exchange/assets/<asset>.csv
 * (which must hash to the offer's content hash), runs the built-in table audit in the sandbox
 * and seals the report — aggregates only: score, sub-scores, counts, per-column checks — to the
 * audit node's key. *sealed is allocated (lb_free). No row leaves. */
int lb_xchg_audit_run(struct lb_ledger *l, const char *home, const uint8_t asset[LB_HASH_LEN],
		      const uint8_t auditor_pk[LB_PUBKEY_LEN], uint64_t time_ms, uint64_t now_ms,
		      const uint8_t sig[LB_SIG_LEN], uint8_t **sealed, size_t *sealed_len,
		      struct lb_errmsg *em);
/* The audit that counts for an offered asset: {"asset", "owner", "status": none | valid |
 * expired | outdated (the offered data changed since), "due", "interval_blocks", and when
 * audited "auditor", "auditor_name", "score", "report_hash", "height", "time_ms",
 * "content_hash", "expires_height", "tx"}. LB_ENOTFOUND for an asset not offered. */
int lb_xchg_audit_json(struct lb_ledger *l, const uint8_t asset[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em);
/* Every offered asset's audit and the ones due (none, expired or outdated):
 * {"height", "interval_blocks", "assets": [...], "due": [...]}. */
int lb_xchg_audits_json(struct lb_ledger *l, json_t **out, struct lb_errmsg *em);

/* ---- views for the API (JSON, caller owns the reference) ------------------------------- */

/* Offer of an asset, request, escrow, consent of a patient: LB_ENOTFOUND if absent. */
int lb_xchg_offer_json(struct lb_ledger *l, const uint8_t asset[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em);
int lb_xchg_request_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			 struct lb_errmsg *em);
int lb_xchg_escrow_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			struct lb_errmsg *em);
int lb_xchg_algo_json(struct lb_ledger *l, const uint8_t hash[LB_HASH_LEN], json_t **out,
		      struct lb_errmsg *em);
/* Would executor (address) be allowed to run request now, on these patients (commitments)?
 * LB_OK with the plan (scenario, terms, "epsilon", "budget_user", "budget_left_user",
 * "budget_patient") in *out, or the refusal the chain would give. With exclude_revoked, the
 * patients the run may not use are left out instead and the rest checked: listed under
 * "excluded" (and, for older callers, "revoked" — the same list), with "patients_used" the
 * number kept; patients whose privacy budget this run would exceed are listed under
 * "patients_over_budget". A patient is usable when its consent is given, or, on an opt-out
 * offer, when it did not revoke (registered or not). */
int lb_xchg_check_json(struct lb_ledger *l, const uint8_t request[LB_HASH_LEN],
		       const uint8_t executor[LB_ADDR_LEN], const uint8_t *patients,
		       size_t n_patients, bool exclude_revoked, json_t **out,
		       struct lb_errmsg *em);
/* Privacy budget spent on the business chain (micro-units): of subject = a user address (20
 * bytes) on asset (32 bytes, NULL: only the subject's per-patient row), or of a patient (its
 * bound consent key's address, 20 bytes, or its id/commitment, 32 bytes; asset NULL).
 * {"subject", "spent_patient", and with asset: "asset", "spent_user", "epsilon",
 * "budget_user", "budget_left_user", "budget_patient"}. */
int lb_xchg_budget_json(struct lb_ledger *l, const uint8_t *subject, size_t subject_len,
			const uint8_t *asset, json_t **out, struct lb_errmsg *em);
/* For an executor that holds a table of the asset in clear (the owner's node, a study step):
 * which of the table's patients the run may not use. Reads the asset's salt key from home
 * (made if missing: then no patient of the table is registered), commits each patient of
 * column patient_col, asks lb_xchg_check_json (exclude) for request and executor, and gives the
 * local ids of the excluded patients in *exclude (n_exclude entries; free with
 * lb_xchg_exclusions_free), the number of usable patients in *n_used (may be NULL). The
 * table's patients appear nowhere else. Returns the chain's refusal of the run, if any. */
int lb_xchg_table_exclusions(struct lb_ledger *l, const char *home,
			     const uint8_t request[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			     const uint8_t executor[LB_ADDR_LEN], const uint8_t *csv, size_t len,
			     const char *patient_col, char ***exclude, size_t *n_exclude,
			     size_t *n_used, struct lb_errmsg *em);
void lb_xchg_exclusions_free(char **exclude, size_t n);
/* Consent record of a patient (commitment) for an asset: registered key, status. */
int lb_xchg_consent_json(struct lb_ledger *l, const uint8_t asset[LB_HASH_LEN],
			 const uint8_t patient[LB_HASH_LEN], json_t **out, struct lb_errmsg *em);
/* Complete history of a subject (asset id, patient commitment or request id) from business-chain
 * events, oldest first, each with its tx, block and (for runs) the escrow's payments. */
int lb_xchg_log_json(struct lb_ledger *l, const uint8_t subject[LB_HASH_LEN], json_t **out,
		     struct lb_errmsg *em);

/* The usage right behind one owner's step of a study across nodes: request is on the business
 * chain, was made by user, is approved (or was, and ran since: out->ran), names the built-in
 * algorithm, its asset is on offer, and
 * node (this node's key address) owns the asset or holds an execution right on it. Fills out
 * (with the parameters the request tx carries, which the owner approved);
 * LB_EDENIED with the reason otherwise. */
struct lb_xchg_study_right {
	uint8_t asset[LB_HASH_LEN];
	uint8_t content[LB_HASH_LEN]; /* content hash of the registered data */
	uint64_t min_cohort;
	char params[LB_XCHG_PARAMS_MAX + 1]; /* the approved parameters (the request's JSON text) */
	bool ran;                     /* the request was approved and has run since (running, done,
				       * withheld or failed): a new study may not use it */
	char status[16];              /* the request's status name */
};
int lb_xchg_study_check(struct lb_ledger *l, const uint8_t request[LB_HASH_LEN],
			const uint8_t user[LB_ADDR_LEN], const uint8_t node[LB_ADDR_LEN],
			const char *algorithm, struct lb_xchg_study_right *out, struct lb_errmsg *em);

/* For handlers of upper layers (the store): author and name (namesz >= 129) of registered
 * algorithm hash in business-chain state s. LB_ENOTFOUND if not registered (built-in
 * algorithms have no author: LB_ENOTFOUND too). */
int lb_xchg_state_algo(struct lb_state *s, const uint8_t hash[LB_HASH_LEN],
		       uint8_t author[LB_ADDR_LEN], char *name, size_t namesz);

#endif
