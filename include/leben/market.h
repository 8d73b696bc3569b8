/*
 * The market layer (src/market/, DESIGN.md §2): how a payment for one use of data, knowledge,
 * an algorithm or compute is divided among everyone who contributed to it.
 *
 * One split table per kind of use (data run, contract call, algorithm call, compute, study,
 * diagnosis)
 * gives each role a share in parts per million (LB_MKT_PPM); the shares of a table add up to
 * exactly LB_MKT_PPM or the table is refused. Amounts are integer micro-units (uint64). Applying a
 * table to an amount never loses a unit: every role's share is rounded down, and everything not
 * paid out (the rounding remainders, and the share of a role nobody fills in this use: no
 * patients, no ancestors, no algorithm author) goes to the platform pool account named in the
 * parties. So the credits always add up to the amount.
 *
 * Multi-party roles are divided equally: patients per record used (a patient whose two records
 * were used appears twice in the list and receives two parts, merged into one credit), knowledge
 * authors, ancestor authors and audit nodes per entry. The remainder of that equal division goes
 * to the platform pool too.
 *
 * Ownership: lb_mkt_split_apply fills a caller-owned struct lb_mkt_credits whose array it
 * allocates; release it with lb_mkt_credits_release. Parties' arrays stay the caller's.
 */
#ifndef LEBEN_MARKET_H
#define LEBEN_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"

#include <jansson.h>

#define LB_MKT_PPM 1000000u /* the whole of an amount, in parts per million */

/* Kinds of use, one split table each. Wire values: never renumber. */
enum lb_mkt_use {
	LB_MKT_USE_DATA_RUN = 0,  /* an algorithm run over one owner's data (escrow release) */
	LB_MKT_USE_CONTRACT = 1,  /* a paid call of a published knowledge contract */
	LB_MKT_USE_ALGO = 2,      /* a paid call of a registered algorithm */
	LB_MKT_USE_COMPUTE = 3,   /* compute delivered by a computing node or the on-chain sandbox */
	LB_MKT_USE_STUDY = 4,     /* a federated study over several owners' data */
	LB_MKT_USE_DIAGNOSIS = 5, /* the value of a diagnosis (application 1, referral.create): the
				   * knowledge provider hospital as owner, the knowledge developer
				   * team as authors, the knowledge user (the GP) as executor, the
				   * platform */
	LB_MKT_USE_COUNT
};

/* Roles a table gives shares to. Wire values: never renumber. */
enum lb_mkt_role {
	LB_MKT_ROLE_OWNER = 0,     /* the data owner institution */
	LB_MKT_ROLE_PATIENTS = 1,  /* patients whose records were used, per record, with consent */
	LB_MKT_ROLE_AUTHORS = 2,   /* the knowledge author(s) of the contract called */
	LB_MKT_ROLE_ANCESTORS = 3, /* the authors of the contracts it derives from */
	LB_MKT_ROLE_ALGO = 4,      /* the algorithm author */
	LB_MKT_ROLE_EXECUTOR = 5,  /* the node that ran it */
	LB_MKT_ROLE_AUDIT = 6,     /* the audit nodes that audited the data or code */
	LB_MKT_ROLE_PLATFORM = 7,  /* the platform pool (also receives every remainder) */
	LB_MKT_ROLE_COUNT
};

/* One table: a share per role, in parts per million, adding up to exactly LB_MKT_PPM. */
struct lb_mkt_split {
	uint32_t ppm[LB_MKT_ROLE_COUNT];
};

/* The set of tables, one per kind of use (genesis, changed by governance vote). */
struct lb_mkt_splits {
	struct lb_mkt_split use[LB_MKT_USE_COUNT];
};

/* Who takes part in one use; filled by the caller. An absent single party has its has_ flag
 * false; an absent list has count 0. Accounts are addresses. */
struct lb_mkt_parties {
	bool has_owner;
	uint8_t owner[LB_ADDR_LEN];
	const uint8_t (*patients)[LB_ADDR_LEN]; /* consent accounts, one entry per record used */
	size_t n_patients;
	const uint8_t (*authors)[LB_ADDR_LEN];
	size_t n_authors;
	const uint8_t (*ancestors)[LB_ADDR_LEN]; /* one entry per ancestor contract's author */
	size_t n_ancestors;
	bool has_algo_author;
	uint8_t algo_author[LB_ADDR_LEN];
	bool has_executor;
	uint8_t executor[LB_ADDR_LEN];
	const uint8_t (*audit)[LB_ADDR_LEN];
	size_t n_audit;
	uint8_t platform[LB_ADDR_LEN]; /* the platform pool account: always present */
	/* The payer when it names the parties itself (market.pay; not encoded, set from the
	 * sender): its bonuses follow LB_MKT_BONUS_MIN and are never paid to the payer. */
	bool has_payer;
	uint8_t payer[LB_ADDR_LEN];
};

/* One credit produced by a split: amount micro-units to account `to`, in role `role`. */
struct lb_mkt_credit {
	uint8_t to[LB_ADDR_LEN];
	uint8_t role; /* enum lb_mkt_role */
	uint64_t amount;
};

/* The credits of one split, sorted by (role, account), one entry per (role, account), no zero
 * amounts. The sum of amounts equals the amount split. */
struct lb_mkt_credits {
	struct lb_mkt_credit *v;
	size_t n, cap;
};

/* "data-run", "contract-call", "algorithm-call", "compute", "study", "diagnosis"; "?" if out of
 * range. */
const char *lb_mkt_use_name(unsigned use);
/* "owner", "patients", "authors", "ancestors", "algorithm-author", "executor", "audit",
 * "platform"; "?" if out of range. */
const char *lb_mkt_role_name(unsigned role);
/* The use / role of a name as above; LB_EINVALID (naming the choices) if unknown. */
int lb_mkt_use_parse(const char *name, unsigned *use, struct lb_errmsg *em);
int lb_mkt_role_parse(const char *name, unsigned *role, struct lb_errmsg *em);

/* LB_OK if the table's shares add up to exactly LB_MKT_PPM; else LB_EINVALID naming the use,
 * the total and the difference. */
int lb_mkt_split_check(const struct lb_mkt_split *t, unsigned use, struct lb_errmsg *em);
/* Every table of the set checked as above. */
int lb_mkt_splits_check(const struct lb_mkt_splits *s, struct lb_errmsg *em);
/* The default tables written into a new genesis (docs/economy.md lists them). */
void lb_mkt_splits_default(struct lb_mkt_splits *s);

/* Split `amount` by table t (checked first) among the parties into *out (initialised here;
 * release with lb_mkt_credits_release, also on error). LB_EINVALID for a table that does not
 * add up, LB_ENOMEM. */
int lb_mkt_split_apply(const struct lb_mkt_split *t, unsigned use, uint64_t amount,
		       const struct lb_mkt_parties *p, struct lb_mkt_credits *out,
		       struct lb_errmsg *em);
void lb_mkt_credits_release(struct lb_mkt_credits *c);
/* Sum of a role's credits (LB_MKT_ROLE_COUNT: all credits). */
uint64_t lb_mkt_credits_sum(const struct lb_mkt_credits *c, unsigned role);

/* Wire form of the set of tables (genesis, governance): uvar count of uses, then per use a
 * uvar count of roles and a uvar ppm per role. Decode checks every table adds up. */
int lb_mkt_splits_encode(const struct lb_mkt_splits *s, struct lb_buf *b);
int lb_mkt_splits_decode(struct lb_mkt_splits *s, const uint8_t *p, size_t len,
			 struct lb_errmsg *em);

/* ==== the settlement-chain economy (src/market/econ.c, docs/economy.md) ==================== */

struct lb_state;
struct lb_apply_ctx;
struct lb_ledger;

/* Tx type ids (settlement chain, range 0x0120-0x012f). */
enum {
	LB_TX_MKT_FUND = 0x0120,           /* a credit partner locks ASC into a quota pool */
	LB_TX_MKT_REDEEM = 0x0121,         /* a credit partner burns ASC it takes back */
	LB_TX_MKT_PERIOD = 0x0122,         /* close a period: allot quotas, rank, pay the top k */
	LB_TX_MKT_SPLITS_PROPOSE = 0x0123, /* a credit partner proposes new split tables */
	LB_TX_MKT_SPLITS_VOTE = 0x0124,    /* a credit partner votes on a proposal */
	LB_TX_MKT_PAY = 0x0125,            /* a payer pays one use through its split table */
	LB_TX_MKT_POOL_PAY = 0x0126,       /* a data owner pays its patients from their pool */
	LB_TX_MKT_CITE = 0x0127,           /* count a business-chain record in the rankings */
	LB_TX_MKT_PATIENT_CLAIM = 0x0128,  /* a patient claims its share of a released escrow */
	LB_TX_MKT_STORE_PAYOUT = 0x0129,   /* pays a cited store.withdraw from the deposit address */
};

/* Quota pools, one per kind of super node, and the bonus pool bonuses per use come from. */
enum lb_mkt_pool {
	LB_MKT_POOL_DEV = 0,   /* super developers: calls, volume, ratings */
	LB_MKT_POOL_DATA = 1,  /* super data nodes: data scale, calls, volume, ratings, audits */
	LB_MKT_POOL_AUDIT = 2, /* super audit nodes: quantity, quality, efficiency */
	LB_MKT_POOL_BONUS = 3, /* bonus CSC per use and per service delivered */
	LB_MKT_POOL_COUNT
};
/* "developers", "data", "audit", "bonus"; "?" if out of range. */
const char *lb_mkt_pool_name(unsigned pool);
int lb_mkt_pool_parse(const char *name, unsigned *pool, struct lb_errmsg *em);

/* Weights of a ranking score (integer; docs/economy.md): score = volume + calls x w_call +
 * rating points x w_rating + scale x w_scale + quality x w_quality. */
struct lb_mkt_weights {
	uint64_t call, rating, scale, quality;
};

/* genesis.json "market" (settlement chain). Absent: the chain keeps the exchange's earlier
 * rules (data fee to the owner, algorithm fee to the author, compute fee in CSC to the
 * executor), so chains started before the market layer replay to the same balances. */
struct lb_mkt_config {
	struct lb_mkt_splits splits;
	uint8_t platform[LB_ADDR_LEN];   /* the platform pool account */
	uint64_t period_blocks;          /* settlement blocks per ranking period (>= 1) */
	uint64_t quota_csc_per_asc;      /* micro-CSC allotted per micro-ASC locked */
	uint64_t quota_periods;          /* ... spread evenly over this many periods (>= 1) */
	uint32_t top_k;                  /* nodes paid per pool and period (>= 1) */
	uint64_t bonus[LB_MKT_USE_COUNT][LB_MKT_ROLE_COUNT]; /* micro-CSC per party per use */
	struct lb_mkt_weights weights[3]; /* per ranked pool (dev, data, audit) */
	uint64_t compute_step_price;     /* micro-CSC per on-chain sandbox step */
	uint64_t compute_cpu_ms_price;   /* micro-CSC per started 100 ms of sandbox CPU */
	uint64_t compute_mem_mib_price;  /* micro-CSC per started MiB of sandbox peak memory */
	uint64_t partners;               /* credit partners (genesis): the voters on splits */
};

/* Read the market configuration of a settlement state. *on = false (and *cfg zeroed) when
 * genesis had no "market" section. */
int lb_mkt_config_load(struct lb_state *s, struct lb_mkt_config *cfg, bool *on);

/* The account a data owner's patients' shares are paid into: an address no key controls,
 * H("LEBEN-patient-pool-v1" || owner)[0..20). docs/economy.md, "Patients". */
void lb_mkt_patient_pool(const uint8_t owner[LB_ADDR_LEN], uint8_t out[LB_ADDR_LEN]);

/* An account's ASC and CSC on a settlement state (0 and 0 for an unknown account);
 * LB_ECORRUPT for an unreadable entry. */
int lb_mkt_balances(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t *asc,
		    uint64_t *csc);
/* Credit (held funds: supply unchanged), mint (supply up) or burn (supply down) on a
 * settlement state; LB_EFUNDS / LB_ERANGE with a message. asset: LB_ASC or LB_CSC. */
int lb_mkt_credit(struct lb_state *s, const uint8_t to[LB_ADDR_LEN], int asset, uint64_t amount,
		  struct lb_errmsg *em);
int lb_mkt_debit(struct lb_state *s, const uint8_t from[LB_ADDR_LEN], int asset,
		 uint64_t amount, struct lb_errmsg *em);
int lb_mkt_supply_add(struct lb_state *s, int asset, uint64_t amount, bool burn,
		      struct lb_errmsg *em);

/* A paid use settled on the settlement chain: split amount (micro-ASC, already held: no
 * supply change) by the table of `use`, credit every party, pay the bonus CSC of the use from
 * the bonus pool (as far as it reaches), and count the use for the period's rankings (the
 * parties in authors/algo_author → developers, owner → data nodes, audit → audit nodes).
 * Credits into *out when out is not NULL (caller releases). */
int lb_mkt_settle(struct lb_state *s, unsigned use, uint64_t amount,
		  const struct lb_mkt_parties *p, struct lb_mkt_credits *out,
		  struct lb_errmsg *em);
/* CSC paid for computing: burned (supply down, counted in the burned total). */
int lb_mkt_burn_compute(struct lb_state *s, uint64_t csc, struct lb_errmsg *em);

/* Count for the rankings of the open period (the first not closed yet: a use settled after a
 * period's last block but before its close counts in it): one node's activity in a pool. */
struct lb_mkt_activity {
	uint64_t calls, volume, rating_sum, rating_n, scale, quality;
};
int lb_mkt_activity_add(struct lb_state *s, unsigned pool,
			const uint8_t node[LB_ADDR_LEN], const struct lb_mkt_activity *a);

/* Metered compute fee (micro-CSC): CPU time rounded up to 100 ms units and peak memory
 * rounded up to MiB, at the genesis unit prices; on-chain: steps x step price. */
uint64_t lb_mkt_compute_fee(const struct lb_mkt_config *cfg, uint64_t cpu_ms,
			    uint64_t peak_mem_bytes);
uint64_t lb_mkt_onchain_fee(const struct lb_mkt_config *cfg, uint64_t steps);

/* The node's period closer (src/market/closer.c): a thread that, after each settlement block
 * (notify), submits market.period with the node's key once the next period has ended. Start
 * after the ledger is open; notify from the block delivery; stop before closing the ledger
 * (joins the thread, frees it; NULL is a no-op). */
struct lb_mkt_closer;
/* home: the node's home; where the citing has read to is kept in <home>/data/market.cursor
 * (NULL: kept nowhere, reads from block 1 at every start). */
int lb_mkt_closer_start(struct lb_mkt_closer **out, struct lb_ledger *l, const char *home,
			struct lb_errmsg *em);
void lb_mkt_closer_notify(struct lb_mkt_closer *c, int chain);
void lb_mkt_closer_stop(struct lb_mkt_closer *c);

/* Register the market's settlement tx types and its genesis part. Idempotent. */
int lb_market_register_txtypes(void);

/* JSON views of a settlement state (new references): the config, pools and totals; the
 * ranking of a closed period (LB_ENOTFOUND if not closed). */
int lb_mkt_state_json(struct lb_state *s, json_t **out, struct lb_errmsg *em);
int lb_mkt_ranking_json(struct lb_state *s, uint64_t period, json_t **out,
			struct lb_errmsg *em);

/* The same read from a node's committed settlement state (for the API): what=0 the whole
 * view, 1 only {"splits"}. */
int lb_mkt_ledger_json(struct lb_ledger *l, int what, json_t **out, struct lb_errmsg *em);
int lb_mkt_ledger_ranking_json(struct lb_ledger *l, uint64_t period, json_t **out,
			       struct lb_errmsg *em);

/* `leben verify`: recompute the ranking of every closed period of every ranked pool from the
 * period's counters and compare it with the stored one (the same nodes, order and scores).
 * *periods = the periods checked (0 without a market section). LB_ECORRUPT naming the period,
 * pool and rank that differ. */
int lb_mkt_verify_ledger(struct lb_ledger *l, uint64_t *periods, struct lb_errmsg *em);

/* Payload builders for the CLI (appended to b). */
int lb_mkt_fund_encode(struct lb_buf *b, unsigned pool, uint64_t amount);
int lb_mkt_redeem_encode(struct lb_buf *b, uint64_t amount);
int lb_mkt_period_encode(struct lb_buf *b, uint64_t period);
int lb_mkt_propose_encode(struct lb_buf *b, const struct lb_mkt_splits *s,
			  uint64_t expires_height);
int lb_mkt_vote_encode(struct lb_buf *b, const uint8_t proposal[LB_HASH_LEN], bool yes);
/* market.pay: the sender pays `amount` micro-ASC for one use of kind `use`, divided among the
 * named parties by the use's split table (platform from genesis; p->platform is ignored).
 * Lists hold at most LB_MKT_PAY_LIST_MAX entries (patients: LB_MKT_PAY_PATIENTS_MAX). A
 * business-chain record of the use (a contract call, a study) cites this tx's id. */
#define LB_MKT_PAY_LIST_MAX 64
#define LB_MKT_PAY_PATIENTS_MAX 4096
int lb_mkt_pay_encode(struct lb_buf *b, unsigned use, uint64_t amount,
		      const struct lb_mkt_parties *p);
/* market.pool.pay: the data owner (the sender) pays its patients' consent accounts from its
 * patient pool (lb_mkt_patient_pool(sender)), n entries of (account, amount) in one asset,
 * at most LB_MKT_PAY_PATIENTS_MAX. */
int lb_mkt_pool_pay_encode(struct lb_buf *b, int asset, const uint8_t (*to)[LB_ADDR_LEN],
			   const uint64_t *amounts, size_t n);
/* market.cite: count a business-chain record (its committed bytes, with a proof anchored in
 * the settlement chain, lb_ledger_proof) in the rankings of the period of the citing block.
 * Kind LB_MKT_CITE_AUDIT: an audit.record; its audit node gets one audit and the score
 * (basis points) as quality points in the audit pool. Any account may send it; each record
 * counts once. Kind LB_MKT_CITE_RATING: a store.rate, followed by the store.list tx of the
 * rated listing and its proof (list_tx, list_proof; NULL/0 for an audit); the listing's author
 * gets the stars as rating points in the developers pool. docs/economy.md, §5. */
#define LB_MKT_CITE_AUDIT 1
#define LB_MKT_CITE_RATING 2
/* Kind LB_MKT_CITE_CREATION: the store.list of a contract (published, hence verified): its
 * author gets the creation bonus (genesis bonus."contract-call".authors micro-CSC, from the
 * bonus pool as far as it reaches), once per listing, for at most LB_MKT_CREATION_CAP
 * listings per author and period (LB_ELIMIT beyond). */
#define LB_MKT_CITE_CREATION 3
/* Kind LB_MKT_CITE_DATA: a directory-chain data.register (0x0210): its sender (the data owner)
 * gets min(basic.volume, LB_MKT_SCALE_CAP) records of data scale in the data pool, once per
 * registration, for at most LB_MKT_CREATION_CAP registrations per owner and period (the
 * volume is the owner's declaration: the caps bound what it can buy in the rankings). */
#define LB_MKT_CITE_DATA 4
/* market.store.payout: the committed store.withdraw (business chain) and its proof anchored
 * in the settlement chain (each uvar length + bytes). Anyone may send it (the nodes do); the
 * withdrawal's amount goes from the store deposit address to the withdrawal's sender, once. */
int lb_mkt_store_payout_encode(struct lb_buf *b, const uint8_t *tx, size_t tx_len,
			       const uint8_t *proof, size_t proof_len);
#define LB_MKT_SCALE_CAP 100000
#define LB_MKT_CREATION_CAP 3
/* A contract call naming patients pays each the service bonus (bonus.contract-call.patients)
 * only when it pays at least this much (micro-ASC), once per patient and period. */
#define LB_MKT_SERVICE_MIN 1000000
/* A market.pay pays the bonus CSC of its parties (owner, authors, ancestors, algorithm author,
 * executor, audit nodes, data-run/study patients) only when it pays at least this much
 * (micro-ASC), never to the payer itself, and once per payer, party, use, role and period. */
#define LB_MKT_BONUS_MIN 1000000
#define LB_MKT_CITE_PROOF_MAX (1u << 20)

/* Per-step charge of compute.run (docs/economy.md): the address compute.prepay locks CSC at
 * (no key controls it), and the compute.settle payload: the committed compute.run and its
 * proof anchored in a settlement block, the steps it used, and for a run by hash the
 * published program's text (empty for an inline run). */
void lb_mkt_prepay_addr(uint8_t out[LB_ADDR_LEN]);
int lb_mkt_settle_encode(struct lb_buf *b, const uint8_t *run, size_t run_len,
			 const uint8_t *proof, size_t proof_len, uint64_t steps,
			 const uint8_t *program, size_t program_len);
int lb_mkt_cite_encode(struct lb_buf *b, unsigned kind, const uint8_t *tx, size_t tx_len,
		       const uint8_t *proof, size_t proof_len, const uint8_t *list_tx,
		       size_t list_tx_len, const uint8_t *list_proof, size_t list_proof_len);
/* Patients' own claims (docs/economy.md, "Patients' own claims"). At a market escrow release
 * the exchange records the patients' share (micro-ASC credited to the owner's patient pool)
 * under the escrow id; lb_mkt_patient_share_get reads it (LB_ENOTFOUND if none).
 * market.patient.claim (sender: the patient's consent key) carries the business-chain
 * xchg.exec of that escrow and its proof, the owner's xchg.patients registration and its
 * proof, and the patient's commitment: the pool pays the per-record amount (the share divided
 * by the exec's number of records, rounded down) to the sender, once per (escrow, commitment). */
int lb_mkt_patient_share_put(struct lb_state *s, const uint8_t escrow[LB_HASH_LEN],
			     uint64_t amount);
int lb_mkt_patient_share_get(struct lb_state *s, const uint8_t escrow[LB_HASH_LEN],
			     uint64_t *amount);
int lb_mkt_patient_claim_encode(struct lb_buf *b, const uint8_t *exec_tx, size_t exec_len,
				const uint8_t *exec_proof, size_t exec_proof_len,
				const uint8_t *reg_tx, size_t reg_len, const uint8_t *reg_proof,
				size_t reg_proof_len, const uint8_t commitment[LB_HASH_LEN]);
/* Decoded market.pay; lists point into the payload (borrowed). */
int lb_mkt_pay_decode(const uint8_t *in, size_t n, unsigned *use, uint64_t *amount,
		      struct lb_mkt_parties *p, struct lb_errmsg *em);
/* Split tables from JSON {"data-run": {"owner": ppm, ...}, ...} (uses and roles by name;
 * an absent use keeps base's table, an absent role within a given use is 0). */
int lb_mkt_splits_from_json(json_t *j, const struct lb_mkt_splits *base,
			    struct lb_mkt_splits *out, struct lb_errmsg *em);
json_t *lb_mkt_splits_to_json(const struct lb_mkt_splits *s);

#endif
