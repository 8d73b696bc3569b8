/*
 * Internals of the exchange module shared by its files and unit tests: the records it keeps
 * in chain state (business: offers, grants, algorithms, requests, consents, the audit index;
 * settlement: escrows), their loaders, and the checks an execution must pass, which the tx
 * handler and the node's dry-run check (lb_xchg_check_json) both call.
 */
#ifndef LEBEN_XCHG_INT_H
#define LEBEN_XCHG_INT_H

#include "leben/exchange.h"

/* State namespaces. */
#define XNS_OFFER "xoffer"     /* business: asset -> struct xoffer_rec */
#define XNS_GRANT "xgrant"     /* business: asset || executor -> kind u8 */
#define XNS_ALGO "xalgo"       /* business: algorithm hash -> struct xalgo_rec */
#define XNS_REQ "xreq"         /* business: request id -> struct xreq_rec */
#define XNS_CONSENT "xconsent" /* business: asset || commitment -> struct xconsent_rec */
#define XNS_LOG "xlog"         /* business: subject || seq (8 BE) -> tx id */
#define XNS_LOGN "xlogn"       /* business: subject -> number of events */
#define XNS_ESCROW "escrow"    /* settlement: escrow id -> struct xescrow_rec */
#define XNS_OFFER_IDX "xoffi"  /* business: "n" -> number of offered assets; seq (8 BE) -> asset,
                                * in the order they were first offered */
#define XNS_BUDGET_USER "xbudu" /* business: user address || asset -> epsilon spent (uvar, micro) */
#define XNS_BUDGET_PATIENT "xbudp" /* business: patient key address (20) or patient id (32) ->
                                    * epsilon spent over all assets (uvar, micro) */

struct xoffer_rec {
	uint8_t owner[LB_ADDR_LEN];
	uint8_t status;              /* 1 offered, 2 withdrawn */
	uint64_t data_fee;
	uint8_t flags;
	uint64_t min_cohort, max_output, data_bytes;
	uint8_t content[LB_HASH_LEN]; /* content hash of the registered data */
	size_t n_allow;
	uint8_t allow[LB_XCHG_ALLOW_MAX][LB_HASH_LEN];
	uint64_t epsilon, budget_user, budget_patient; /* micro-units, as on the offer */
	uint8_t owner_key[LB_PUBKEY_LEN]; /* the registrant's public key: reasons are sealed to it */
};

struct xalgo_rec {
	uint8_t author[LB_ADDR_LEN];
	uint64_t fee;
	uint8_t flags;
	char name[LB_XCHG_NAME_MAX + 1];
};

enum xreq_status {
	XREQ_PENDING = 1,  /* waits for the owner */
	XREQ_APPROVED = 2, /* may run */
	XREQ_REJECTED = 3,
	XREQ_RUNNING = 4,  /* xchg.exec recorded */
	XREQ_DONE = 5,     /* result delivered */
	XREQ_WITHHELD = 6, /* result withheld by the release policy */
	XREQ_FAILED = 7,
	XREQ_REVOKED = 8,  /* usage right revoked by the owner */
};
const char *xreq_status_name(int s);

struct xreq_rec {
	uint8_t user[LB_ADDR_LEN];
	uint8_t asset[LB_HASH_LEN];
	uint8_t algo[LB_HASH_LEN];
	uint8_t scenario;            /* asked for (0 auto) */
	uint8_t status;              /* enum xreq_status */
	uint8_t approved_by;         /* 0 not yet, 1 allow-list, 2 owner */
	uint64_t height;             /* business height of the request */
	/* set by xchg.exec */
	uint8_t executor[LB_ADDR_LEN];
	uint8_t escrow[LB_HASH_LEN];
	uint8_t terms_hash[LB_HASH_LEN];
	uint8_t run_scenario;        /* 0 until run */
	uint8_t result_hash[LB_HASH_LEN];
	uint8_t reason;              /* enum lb_xchg_reason of the recorded result (0 until then) */
	uint8_t run_reason;          /* enum lb_xchg_scen_reason: why run_scenario (0 until run;
	                              * xchg_exec_check fills run_scenario and this with the plan) */
};

/* Consent of one patient (commitment) for one asset, made by xchg.patients. */
enum { XCONSENT_REGISTERED = 0, XCONSENT_GIVEN = 1, XCONSENT_REVOKED = 2 };
#define XCONSENT_NONE 3 /* xconsent_usable: no consent on record for an opt-in offer */
struct xconsent_rec {
	uint8_t patient_addr[LB_ADDR_LEN]; /* the patient's consent key (registered, or rebound) */
	uint8_t status;                    /* XCONSENT_REGISTERED, _GIVEN or _REVOKED */
	uint64_t height;                   /* when it last changed */
};

enum xescrow_status { XESC_OPEN = 1, XESC_RELEASED = 2, XESC_REFUNDED = 3 };
struct xescrow_rec {
	struct lb_xchg_terms terms;
	uint64_t timeout;
	uint64_t opened;               /* settlement height */
	uint8_t status;                /* enum xescrow_status */
	uint8_t claimed;               /* 1 after escrow.claim */
	uint8_t result_hash[LB_HASH_LEN];
	uint64_t closed;               /* height of release or refund */
};

int xoffer_load(struct lb_state *s, const uint8_t asset[LB_HASH_LEN], struct xoffer_rec *r);
/* An algorithm's record; a built-in algorithm (lb_xchg_builtin_name) is known without
 * registration: no author (zero address), fee 0, its name. */
int xalgo_load(struct lb_state *s, const uint8_t hash[LB_HASH_LEN], struct xalgo_rec *r);
int xreq_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct xreq_rec *r);
int xconsent_load(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
		  const uint8_t patient[LB_HASH_LEN], struct xconsent_rec *r);
/* May a run use this patient of asset (offer o)? LB_OK; XCONSENT_REVOKED (revoked);
 * XCONSENT_NONE (opt-in offer and no given consent); or a state error. cr is the record (zeroed
 * when there is none). */
int xconsent_usable(struct lb_state *s, const struct xoffer_rec *o, const uint8_t asset[LB_HASH_LEN],
		    const uint8_t patient[LB_HASH_LEN], struct xconsent_rec *cr);
int xescrow_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct xescrow_rec *r);
/* Execution right of executor on asset: its kind (1..3), or 0 if none. */
int xgrant_get(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
	       const uint8_t executor[LB_ADDR_LEN], uint8_t *kind);

/* Every check of an execution of request by executor on these patients (the handler of
 * xchg.exec and the dry run), the super-node roles included. Fills the request (with
 * run_scenario and run_reason set to the scenario this executor runs and why), the offer and
 * the algorithm. Refusals explain themselves in em. */
int xchg_exec_check(struct lb_state *s, const uint8_t request[LB_HASH_LEN],
		    const uint8_t executor[LB_ADDR_LEN], const uint8_t *patients,
		    size_t n_patients, struct xreq_rec *req, struct xoffer_rec *offer,
		    struct xalgo_rec *algo, struct lb_errmsg *em);

/* The privacy budget of one run of req on offer over these patients (docs/exchange.md,
 * "Privacy budget"). Nothing to do when the offer has no epsilon. Otherwise refuses
 * (LB_EDENIED) when the user's row on the asset would pass budget_user, or when a patient's
 * row (its bound consent key's address, else its id) would pass budget_patient — unless over
 * is given: then over[i] marks such patients and they are not refused. With charge, adds the
 * epsilon to the user's row and once to each distinct patient row (not to the over ones).
 * *user_left (may be NULL) receives budget_user minus what the user spent before. */
int xchg_budget(struct lb_state *s, const struct xreq_rec *req, const struct xoffer_rec *offer,
		const uint8_t *patients, size_t n_patients, bool charge, bool *over,
		uint64_t *user_left, struct lb_errmsg *em);
/* The epsilon spent on a budget row (0 if none). */
int xbudget_get(struct lb_state *s, const char *ns, const uint8_t *key, size_t klen,
		uint64_t *spent);
/* The key of a patient's budget row: its bound consent key's address on asset (20 bytes) if
 * there is one, else the patient id itself (32 bytes). Returns the key length. */
size_t xbudget_patient_key(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
			   const uint8_t patient[LB_HASH_LEN], uint8_t key[LB_HASH_LEN]);

/* Number of audit events of a subject and event i (tx id). */
int xlog_count(struct lb_state *s, const uint8_t subject[LB_HASH_LEN], uint64_t *n);
int xlog_get(struct lb_state *s, const uint8_t subject[LB_HASH_LEN], uint64_t i,
	     uint8_t txid[LB_HASH_LEN]);

/* Hex of n bytes into out (2n+1). */
const char *xhex(char *out, const uint8_t *p, size_t n);
/* Bytes as a JSON hex string, an address as a JSON lb1... string. */
json_t *xhexj(const uint8_t *p, size_t n);
json_t *xaddrj(const uint8_t a[LB_ADDR_LEN]);

/* Append the current tx to the history of subject (the audit index). */
int xchg_log_add(struct lb_apply_ctx *c, const uint8_t subject[LB_HASH_LEN]);
/* The offered-asset index: how many assets were ever offered, and the i-th. */
int xoffer_index_count(struct lb_state *s, uint64_t *n);
int xoffer_index_get(struct lb_state *s, uint64_t i, uint8_t asset[LB_HASH_LEN]);
/* Register audit.request / audit.record and the genesis "audit" part (xchg_audit.c). */
int xchg_audit_register(void);

/* A network with members enforces super-node roles: LB_OK when who holds role (an LB_SUPER_*
 * bit) or the network has no members; otherwise LB_EUNAUTH naming the role, what it is
 * needed for (doing: "execute off-site and integrated runs") and how to get it. */
int xchg_need_role(struct lb_state *s, const uint8_t who[LB_ADDR_LEN], uint8_t role,
		   const char *doing, struct lb_errmsg *em);

#endif
