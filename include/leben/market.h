/*
 * The market layer (src/market/, DESIGN.md §2): how a payment for one use of data, knowledge,
 * an algorithm or compute is divided among everyone who contributed to it.
 *
 * One split table per kind of use (data run, contract call, algorithm call, compute, study)
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

#define LB_MKT_PPM 1000000u /* the whole of an amount, in parts per million */

/* Kinds of use, one split table each. Wire values: never renumber. */
enum lb_mkt_use {
	LB_MKT_USE_DATA_RUN = 0,  /* an algorithm run over one owner's data (escrow release) */
	LB_MKT_USE_CONTRACT = 1,  /* a paid call of a published knowledge contract */
	LB_MKT_USE_ALGO = 2,      /* a paid call of a registered algorithm */
	LB_MKT_USE_COMPUTE = 3,   /* compute delivered by a computing node or the on-chain sandbox */
	LB_MKT_USE_STUDY = 4,     /* a federated study over several owners' data */
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

/* "data-run", "contract-call", "algorithm-call", "compute", "study"; "?" if out of range. */
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

#endif
