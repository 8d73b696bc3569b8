/*
 * Internals of the knowledge store shared by its files: state namespaces, the listing record,
 * the split of a payment, the template handlers.
 */
#ifndef LEBEN_MARKET_STORE_INT_H
#define LEBEN_MARKET_STORE_INT_H

#include "leben/codec.h"
#include "leben/market.h"
#include "leben/market_store.h"

/* Business-chain state namespaces (docs/economy.md, "The knowledge store: on the chain"). */
#define NS_LIST "mk.list"     /* listing id -> struct store_listing */
#define NS_IDX "mk.idx"       /* index (8 bytes BE) -> listing id, listing order */
#define NS_COUNT "mk.count"   /* "listings" -> how many */
#define NS_CHILD "mk.child"   /* parent id || index (8 BE) -> child listing id */
#define NS_BUYER "mk.buyer"   /* listing id || address -> STORE_* flags */
#define NS_RATING "mk.rating" /* listing id || index (8 BE) -> address, stars, text, height */
#define NS_CALL "mk.call"     /* call tx id -> listing, caller, session, paid, outcome */
#define NS_TMPL "mk.tmpl"     /* template id -> author, title, description, source, instances */
#define NS_TINST "mk.tinst"   /* template id || index (8 BE) -> instance listing id */
#define NS_WALLET "mk.wallet" /* address -> micro-ASC in the store wallet */
#define NS_VERS "mk.vers"     /* kind || author || name -> how many listed versions;
				 kind || author || name || index (8 BE) -> listing id */

enum { STORE_LICENSED = 1, STORE_CALLED = 2, STORE_RATED = 4 };

struct store_listing {
	uint8_t id[LB_HASH_LEN];
	uint8_t kind;
	uint8_t author[LB_ADDR_LEN];
	uint64_t version;                   /* contract version (author's publications of the name) */
	char name[LB_STORE_NAME_MAX + 1];   /* contract root name / algorithm name */
	uint64_t price_call, price_licence;
	char title[LB_STORE_NAME_MAX + 1];
	char specialty[LB_STORE_NAME_MAX + 1];
	char description[LB_STORE_TEXT_MAX + 1];
	size_t ncodes;
	char codes[LB_STORE_CODES_MAX][LB_STORE_CODE_MAX + 1];
	uint8_t parent[LB_HASH_LEN];
	uint8_t relation;
	uint8_t tmpl[LB_HASH_LEN];
	char params[LB_STORE_PARAMS_MAX + 1];
	uint64_t height, index;
	uint64_t calls, licences, revenue;  /* revenue: micro-ASC paid for it */
	uint64_t rating_sum, ratings;
	uint64_t children;
	uint64_t outcomes[LB_STORE_OUT_KINDS];
};

/* A record under (ns, key) opened for decoding into d (borrowed until the next read or write
 * of s);
 * LB_ENOTFOUND if absent. */
int store_record(struct lb_state *s, const char *ns, const uint8_t *key, size_t klen,
		 const char *what, struct lb_dec *d);
/* Decode the tx's payload into a fresh p, give op a scratch listing r, free both. */
typedef int (*store_payload_op)(struct lb_apply_ctx *c, const struct lb_store_tx *p,
				struct store_listing *r);
int store_with_payload(struct lb_apply_ctx *c, store_payload_op op);
int store_listing_get(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct store_listing *r);
int store_listing_put(struct lb_state *s, const struct store_listing *r);
/* Key of r's version list (kind, author, name) into key (LB_ADDR_LEN + LB_STORE_NAME_MAX + 9
 * bytes); its length. */
size_t store_versions_key(const struct store_listing *r, uint8_t *key);
int store_ancestors(struct lb_state *s, const struct store_listing *r,
		    uint8_t out[][LB_ADDR_LEN], uint8_t ids[][LB_HASH_LEN], size_t *n);
const char *store_hex(char *out, const uint8_t *p);

/* The credits of a payment for listing r (its kind's split table; ancestors' authors nearest
 * first). Release out with lb_mkt_credits_release, also on error. */
int store_split(uint64_t amount, const struct store_listing *r,
		const uint8_t anc[][LB_ADDR_LEN], size_t nanc, struct lb_mkt_credits *out,
		struct lb_errmsg *em);

/* store_pay.c: pay amount for listing r (the buyer is the tx's sender) from the wallet, or by
 * the settlement payment p cites; LB_EFUNDS when short. */
int store_pay(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
	      uint64_t amount, const char *what);
int store_wallet_add(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t amount);
int store_apply_deposit(struct lb_apply_ctx *c);
int store_apply_withdraw(struct lb_apply_ctx *c);

/* store_tmpl.c */
int store_apply_template(struct lb_apply_ctx *c);
/* Refuse unless listing `item` is the instance of template tmpl with params. */
int store_instance_check(struct lb_apply_ctx *c, const uint8_t tmpl[LB_HASH_LEN],
			 const char *params, const uint8_t item[LB_HASH_LEN]);
void store_template_id(const uint8_t *src, size_t n, uint8_t id[LB_HASH_LEN]);
json_t *store_template_json(struct lb_state *s, const uint8_t id[LB_HASH_LEN], bool source);
int store_template_instance_add(struct lb_apply_ctx *c, const uint8_t tmpl[LB_HASH_LEN],
				const uint8_t item[LB_HASH_LEN]);

#endif
