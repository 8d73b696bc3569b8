/*
 * The knowledge store (docs/economy.md, "The knowledge store"): published contracts and
 * registered algorithms listed with a price per call or a licence price, bought and called
 * (paid from the buyer's store wallet through the market's split table for a contract or
 * algorithm call: author, authors of the contracts it derives from, platform pool), rated once per verified buyer, outcomes of sessions
 * recorded and shown per contract version above a minimum count, a family map of derivations
 * (cycles refused) and contract templates whose verified instances point back to them.
 * Business-chain tx types 0x0370-0x037f; search over the listings with SQLite FTS5, typo
 * tolerance and medical synonyms (store_search.c).
 */
#ifndef LEBEN_MARKET_STORE_H
#define LEBEN_MARKET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/ledger.h"

enum {
	LB_TX_STORE_LIST = 0x0370,     /* author lists a contract or algorithm */
	LB_TX_STORE_PRICE = 0x0371,    /* author changes a listing's prices */
	LB_TX_STORE_BUY = 0x0372,      /* buyer pays the licence price */
	LB_TX_STORE_CALL = 0x0373,     /* buyer pays one call (free under a licence) */
	LB_TX_STORE_RATE = 0x0374,     /* verified buyer rates 1-5 with a text, once */
	LB_TX_STORE_OUTCOME = 0x0375,  /* caller records the outcome of a call's session */
	LB_TX_STORE_TEMPLATE = 0x0376, /* author registers a contract template */
	LB_TX_STORE_DERIVE = 0x0377,   /* author declares what a listing derives from */
	LB_TX_STORE_DEPOSIT = 0x0378,  /* ASC moved to the store deposit address fills a wallet */
	LB_TX_STORE_WITHDRAW = 0x0379, /* a wallet's owner takes micro-ASC out (paid on the
					* settlement chain by market.store.payout) */
};
#define LB_STORE_DEPOSIT_MEMO "store deposit" /* memo of the settlement transfer */

#define LB_STORE_TEXT_MAX 2048   /* bytes of a description or rating text */
#define LB_STORE_NAME_MAX 160    /* bytes of a title or specialty */
#define LB_STORE_CODES_MAX 16    /* codes on a listing */
#define LB_STORE_CODE_MAX 40     /* bytes of one code ("icd10|I20.9", "snomed|29857009") */
#define LB_STORE_TEMPLATE_MAX 60000 /* bytes of a template's source */
#define LB_STORE_PARAMS_MAX 4096 /* bytes of an instance's parameters (JSON object text) */
#define LB_STORE_PROOF_MAX 16384  /* bytes of a cited payment's proof */
#define LB_STORE_OUTCOME_MIN 10  /* outcomes a version needs before its statistics show */
#define LB_STORE_ANCESTORS_MAX 8 /* ancestors paid by a call (nearest first) */

enum lb_store_kind { LB_STORE_CONTRACT = 1, LB_STORE_ALGORITHM = 2 };
enum lb_store_relation { LB_STORE_FORK = 1, LB_STORE_EXTEND = 2, LB_STORE_SPECIALISE = 3 };
enum lb_store_outcome {
	LB_STORE_OUT_REFERRAL_CONFIRMED = 1,
	LB_STORE_OUT_REFERRAL_DECLINED = 2,
	LB_STORE_OUT_ADVERSE_EVENT = 3,
	LB_STORE_OUT_RESOLVED = 4,
	LB_STORE_OUT_READMITTED = 5,
	LB_STORE_OUT_OTHER = 6,
};
#define LB_STORE_OUT_KINDS 6

/* One store tx payload; which fields count depends on the type (docs/economy.md lists them).
 * Encoded canonically: version byte 1, then the type's fields in the order below. */
struct lb_store_tx {
	uint32_t type;                       /* LB_TX_STORE_* (not encoded: the tx's type) */
	uint8_t item[LB_HASH_LEN];           /* listing id: contract hash or algorithm hash;
						template id for TEMPLATE */
	/* LIST */
	uint8_t kind;                        /* lb_store_kind */
	uint64_t price_call, price_licence;  /* micro-ASC; PRICE too */
	char title[LB_STORE_NAME_MAX + 1];   /* LIST, TEMPLATE */
	char specialty[LB_STORE_NAME_MAX + 1];
	char description[LB_STORE_TEXT_MAX + 1];    /* LIST, TEMPLATE; RATE: the text */
	size_t ncodes;
	char codes[LB_STORE_CODES_MAX][LB_STORE_CODE_MAX + 1];
	uint8_t parent[LB_HASH_LEN];         /* LIST, DERIVE: derived from (zero: none) */
	uint8_t relation;                    /* lb_store_relation when parent set */
	uint8_t tmpl[LB_HASH_LEN];           /* LIST: template it instantiates (zero: none) */
	char params[LB_STORE_PARAMS_MAX + 1];/* LIST: the instance's parameters (JSON object) */
	/* BUY, CALL */
	uint64_t max_price;                  /* refuse if the price is now above this */
	/* DEPOSIT: amount (micro-ASC) of the cited settlement transfer to the deposit address */
	uint64_t amount;
	/* BUY, CALL: pay by citing the sender's settlement `market.pay` (its tx bytes and inclusion
	 * proof anchored in a business block); both empty: pay from the store wallet. DEPOSIT: the
	 * sender's settlement transfer to lb_store_deposit_addr and its proof. Borrowed. */
	const uint8_t *pay_tx, *pay_proof;
	size_t pay_tx_len, pay_proof_len;
	uint8_t ref[LB_HASH_LEN];            /* OUTCOME: the call's tx id */
	/* CALL, OUTCOME: the anchored contract session the call ran (zero: none named) */
	uint8_t session[LB_HASH_LEN];
	uint8_t stars;                       /* RATE: 1..5 */
	uint8_t outcome;                     /* OUTCOME: lb_store_outcome */
	/* TEMPLATE: source with {{name}} placeholders */
	const uint8_t *source;               /* borrowed */
	size_t source_len;
};

/* Encode for tx type p->type into b; LB_EINVALID naming the field when out of range. */
int lb_store_tx_encode(struct lb_buf *b, const struct lb_store_tx *p, struct lb_errmsg *em);
/* Decode a payload of tx type `type` (p->source borrows from buf). LB_EMALFORMED naming the
 * field; codes are checked (lb_store_code_check). */
int lb_store_tx_decode(uint32_t type, const uint8_t *buf, size_t n, struct lb_store_tx *p,
		       struct lb_errmsg *em);
/* "icd10|I20.9" / "icd10cm|R07.9" / "snomed|29857009": structure and check digit (the chain
 * has no code tables; the CLI checks existence too when given tables). */
int lb_store_code_check(const char *code, struct lb_errmsg *em);
const char *lb_store_outcome_name(int outcome);
int lb_store_outcome_parse(const char *name);
const char *lb_store_relation_name(int rel);
int lb_store_relation_parse(const char *name);

/* Register the store's tx types and its genesis part (store wallets, see docs/economy.md). */
int lb_market_store_register_txtypes(void);

/* How store.list finds the author and name of a registered algorithm (the exchange's
 * lb_xchg_state_algo; the node sets it: the market layer is below the exchange). Without it
 * algorithm listings are refused as unregistered. Call at start-up, before lb_ledger_open. */
typedef int (*lb_store_algo_fn)(struct lb_state *s, const uint8_t hash[LB_HASH_LEN],
				uint8_t author[LB_ADDR_LEN], char *name, size_t namesz);
void lb_store_set_algo_lookup(lb_store_algo_fn fn);

/* ---- state, for handlers and tests -------------------------------------------------------- */

/* Store wallet balance (micro-ASC) of an account on the business chain. */
int lb_store_wallet(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t *out);
/* Pay amount from payer's store wallet through the default split table of `use` among the
 * parties (p->platform is replaced by the pool address), crediting their wallets; the
 * credits into *out when not NULL (caller releases). LB_EFUNDS (naming the wallet and what it
 * holds) when the wallet is short: nothing written then. For other business-chain modules
 * that pay a use (the applications). */
struct lb_mkt_parties;
struct lb_mkt_credits;
int lb_store_wallet_split(struct lb_state *s, const uint8_t payer[LB_ADDR_LEN], uint64_t amount,
			  unsigned use, const struct lb_mkt_parties *p, struct lb_mkt_credits *out,
			  struct lb_errmsg *em);
/* A settlement market.pay cited in a business-chain tx of ctx (raw bytes and its proof
 * anchored in a business block): checked to be valid there, sent by ctx's sender (LB_EUNAUTH)
 * and not cited before by any store or application tx (LB_EEXISTS); decoded into *use,
 * *paid and *pp (lists borrow from raw) and its id into txid. Mark it cited with
 * lb_store_pay_mark once the citing tx is accepted. Messages name the payment. */
struct lb_apply_ctx;
int lb_store_pay_open(struct lb_apply_ctx *c, const uint8_t *raw, size_t rawlen,
		      const uint8_t *proof, size_t prooflen, unsigned *use, uint64_t *paid,
		      struct lb_mkt_parties *pp, uint8_t txid[LB_HASH_LEN]);
int lb_store_pay_mark(struct lb_state *s, const uint8_t txid[LB_HASH_LEN]);
/* Address of the platform pool that takes the pool share and every remainder. */
void lb_store_pool_addr(uint8_t out[LB_ADDR_LEN]);
/* The settlement address ASC is transferred to when it fills a store wallet (store.deposit):
 * no key derives to it, so the ASC stays there, counted in the supply. */
void lb_store_deposit_addr(uint8_t out[LB_ADDR_LEN]);

/* ---- templates ----------------------------------------------------------------------------- */

/* Fill template text: every {{name}} is replaced by params[name] (a JSON object of strings and
 * numbers). *out (lb_free) is the instance source. LB_EINVALID naming a missing, unused or
 * badly formed parameter (values may not hold characters outside [A-Za-z0-9 ._-]). */
int lb_store_template_fill(const char *text, size_t len, const char *params_json, char **out,
			   size_t *outlen, struct lb_errmsg *em);
/* Fill, parse and verify an instance (lb_kn_check with default bounds); its canonical hash
 * into hash. A failing instance: LB_EINVALID with the verifier's first finding. */
int lb_store_template_instance(const char *text, size_t len, const char *params_json,
			       uint8_t hash[LB_HASH_LEN], struct lb_errmsg *em);

/* ---- views (JSON for the CLI and the API) -------------------------------------------------- */

struct lb_store_query {
	size_t offset, limit;  /* page (limit 0: 20, at most 1000) */
	const char *sort;      /* "rating" | "price" | "calls" | "new" (default) */
	const char *specialty; /* filter, or NULL */
	int kind;              /* 0 any, else lb_store_kind */
	const uint8_t *author; /* only this author's listings (LB_ADDR_LEN bytes), or NULL */
};
/* {"total","offset","listings":[...]} */
int lb_store_listings_json(struct lb_ledger *l, const struct lb_store_query *q, json_t **out,
			   struct lb_errmsg *em);
/* One listing with its latest 20 ratings, outcome statistics (when at least LB_STORE_OUTCOME_MIN),
 * ancestors and children. */
int lb_store_listing_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			  struct lb_errmsg *em);
/* Ratings of a listing, oldest first, paged by q->offset / q->limit:
 * {"total","offset","ratings":[{by,stars,text,height}]}. */
int lb_store_ratings_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN],
			  const struct lb_store_query *q, json_t **out, struct lb_errmsg *em);
/* Family tree around a listing: {"root":..., "tree":{id,title,relation,children:[...]}}. */
int lb_store_family_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			 struct lb_errmsg *em);
int lb_store_template_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			   struct lb_errmsg *em);
/* {"address","wallet"} */
int lb_store_wallet_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN], json_t **out,
			 struct lb_errmsg *em);
/* How many listings the store has (a search index is stale when it changes: listings are
 * never removed and their searchable text never changes). */
int lb_store_count(struct lb_ledger *l, uint64_t *n, struct lb_errmsg *em);
/* Every listing as a search document {"id","title","description","specialty","codes",...}
 * (for the search index). */
int lb_store_documents_json(struct lb_ledger *l, json_t **out, uint64_t *count,
			    struct lb_errmsg *em);

/* ---- search (store_search.c) -------------------------------------------------------------- */

struct lb_store_index;
/* A new in-memory FTS5 index with the built-in medical synonyms. */
int lb_store_index_open(struct lb_store_index **out, struct lb_errmsg *em);
void lb_store_index_close(struct lb_store_index *x);
/* Add listing documents (the shape lb_store_documents_json gives); replaces by id. */
int lb_store_index_put(struct lb_store_index *x, const json_t *doc, struct lb_errmsg *em);
size_t lb_store_index_count(struct lb_store_index *x);
/* Code tables (borrowed; either may be NULL) whose terms are indexed with the codes of the
 * listings put from now on: a SNOMED CT code with its concept's active descriptions, an
 * ICD-10-CM code with its short and long descriptions ("HBP", "Hypertensive disorder"). */
struct lb_code_tables;
void lb_store_index_tables(struct lb_store_index *x, const struct lb_code_tables *t);
/* Add a synonym group (each term stands for the others). */
int lb_store_index_synonyms(struct lb_store_index *x, const char *const *terms, size_t n,
			    struct lb_errmsg *em);
struct lb_store_hit {
	char id[2 * LB_HASH_LEN + 1];
	double score; /* higher is better */
};
/* Search in natural language; up to limit (0: 20) hits whose score is at least
 * LB_STORE_SEARCH_CUT times the best one. *hits is lb_malloc'd. expanded (may be NULL) gets
 * the FTS5 query run. */
#define LB_STORE_SEARCH_CUT 0.5
int lb_store_index_search(struct lb_store_index *x, const char *query, size_t limit,
			  struct lb_store_hit **hits, size_t *n, struct lb_buf *expanded,
			  struct lb_errmsg *em);

#endif
