/*
 * Tx handlers of the knowledge store (business chain): listing, price change, licence
 * purchase, paid call, rating, outcome, template, derivation. Every refusal names what is
 * wrong and what to do, and changes nothing (the ledger drops a refused tx's writes; every
 * check runs before the first write anyway). Payments move micro-ASC between store wallets
 * of the business chain: author share, ancestors' share (nearest first, equal parts), platform
 * pool share and every remainder to the pool. docs/economy.md, "The knowledge store".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/knowledge_chain.h"
#include "leben/market.h"
#include "market/store_int.h"

static bool zero32(const uint8_t *p)
{
	uint8_t a = 0;
	for (int i = 0; i < LB_HASH_LEN; i++)
		a |= p[i];
	return a == 0;
}

const char *store_hex(char *out, const uint8_t *p)
{
	lb_hex_encode(out, p, LB_HASH_LEN);
	return out;
}
#define HEX(p) store_hex((char[2 * LB_HASH_LEN + 1]){0}, (p))

static const char *addr_text(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t a[LB_ADDR_LEN])
{
	lb_addr_encode(out, a);
	return out;
}
#define ADDR(a) addr_text((char[LB_ADDR_TEXT_LEN + 1]){0}, (a))

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* ---- records ------------------------------------------------------------------------------ */

int store_listing_put(struct lb_state *s, const struct store_listing *r)
{
	struct lb_buf b;
	lb_buf_init(&b, 16384);
	int rc = 0;
	if (!(rc = lb_enc_u8(&b, r->kind)) && !(rc = lb_enc_fixed(&b, r->author, LB_ADDR_LEN)) &&
	    !(rc = lb_enc_uvar(&b, r->version)) && !(rc = lb_enc_str(&b, r->name)) &&
	    !(rc = lb_enc_uvar(&b, r->price_call)) && !(rc = lb_enc_uvar(&b, r->price_licence)) &&
	    !(rc = lb_enc_str(&b, r->title)) && !(rc = lb_enc_str(&b, r->specialty)) &&
	    !(rc = lb_enc_str(&b, r->description)) && !(rc = lb_enc_uvar(&b, r->ncodes)))
		for (size_t i = 0; !rc && i < r->ncodes; i++)
			rc = lb_enc_str(&b, r->codes[i]);
	if (!rc && !(rc = lb_enc_fixed(&b, r->parent, LB_HASH_LEN)) &&
	    !(rc = lb_enc_u8(&b, r->relation)) && !(rc = lb_enc_fixed(&b, r->tmpl, LB_HASH_LEN)) &&
	    !(rc = lb_enc_str(&b, r->params)) && !(rc = lb_enc_uvar(&b, r->height)) &&
	    !(rc = lb_enc_uvar(&b, r->index)) && !(rc = lb_enc_uvar(&b, r->calls)) &&
	    !(rc = lb_enc_uvar(&b, r->licences)) && !(rc = lb_enc_uvar(&b, r->revenue)) &&
	    !(rc = lb_enc_uvar(&b, r->rating_sum)) && !(rc = lb_enc_uvar(&b, r->ratings)) &&
	    !(rc = lb_enc_uvar(&b, r->children)))
		for (int i = 0; !rc && i < LB_STORE_OUT_KINDS; i++)
			rc = lb_enc_uvar(&b, r->outcomes[i]);
	if (!rc)
		rc = lb_state_put(s, NS_LIST, r->id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

int store_record(struct lb_state *s, const char *ns, const uint8_t *key, size_t klen,
		 const char *what, struct lb_dec *d)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, ns, key, klen, &v, &n);
	if (!rc)
		lb_dec_init(d, v, n, what, NULL);
	return rc;
}

int store_with_payload(struct lb_apply_ctx *c, store_payload_op op)
{
	struct lb_store_tx *p = lb_malloc(sizeof *p);
	struct store_listing *r = lb_malloc(sizeof *r);
	int rc;
	if (!p || !r)
		rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
	else if (!(rc = lb_store_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, p,
					   c->em)))
		rc = op(c, p, r);
	lb_free(p);
	lb_free(r);
	return rc;
}

int store_listing_get(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct store_listing *r)
{
	struct lb_dec d;
	uint64_t nc;
	int rc = store_record(s, NS_LIST, id, LB_HASH_LEN, "listing", &d);
	if (rc)
		return rc;
	memset(r, 0, sizeof *r);
	memcpy(r->id, id, LB_HASH_LEN);
	if (lb_dec_u8(&d, "k", &r->kind) || lb_dec_fixed(&d, "a", r->author, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "v", UINT64_MAX, &r->version) ||
	    lb_dec_str(&d, "n", LB_STORE_NAME_MAX, r->name, sizeof r->name) ||
	    lb_dec_uvar(&d, "pc", UINT64_MAX, &r->price_call) ||
	    lb_dec_uvar(&d, "pl", UINT64_MAX, &r->price_licence) ||
	    lb_dec_str(&d, "t", LB_STORE_NAME_MAX, r->title, sizeof r->title) ||
	    lb_dec_str(&d, "s", LB_STORE_NAME_MAX, r->specialty, sizeof r->specialty) ||
	    lb_dec_str(&d, "d", LB_STORE_TEXT_MAX, r->description, sizeof r->description) ||
	    lb_dec_uvar(&d, "nc", LB_STORE_CODES_MAX, &nc))
		return LB_ECORRUPT;
	r->ncodes = (size_t)nc;
	for (size_t i = 0; i < r->ncodes; i++)
		if (lb_dec_str(&d, "c", LB_STORE_CODE_MAX, r->codes[i], sizeof r->codes[i]))
			return LB_ECORRUPT;
	if (lb_dec_fixed(&d, "p", r->parent, LB_HASH_LEN) || lb_dec_u8(&d, "r", &r->relation) ||
	    lb_dec_fixed(&d, "tm", r->tmpl, LB_HASH_LEN) ||
	    lb_dec_str(&d, "pa", LB_STORE_PARAMS_MAX, r->params, sizeof r->params) ||
	    lb_dec_uvar(&d, "h", UINT64_MAX, &r->height) ||
	    lb_dec_uvar(&d, "i", UINT64_MAX, &r->index) ||
	    lb_dec_uvar(&d, "ca", UINT64_MAX, &r->calls) ||
	    lb_dec_uvar(&d, "li", UINT64_MAX, &r->licences) ||
	    lb_dec_uvar(&d, "re", UINT64_MAX, &r->revenue) ||
	    lb_dec_uvar(&d, "rs", UINT64_MAX, &r->rating_sum) ||
	    lb_dec_uvar(&d, "rn", UINT64_MAX, &r->ratings) ||
	    lb_dec_uvar(&d, "ch", UINT64_MAX, &r->children))
		return LB_ECORRUPT;
	for (int i = 0; i < LB_STORE_OUT_KINDS; i++)
		if (lb_dec_uvar(&d, "o", UINT64_MAX, &r->outcomes[i]))
			return LB_ECORRUPT;
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

/* The listing id names, or a refusal saying it is not listed. */
static int need_listing(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN],
			struct store_listing *r)
{
	int rc = store_listing_get(c->state, id, r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "listing %s is not in the store ('leben store list' shows the "
			       "listings; 'leben store search TEXT' finds them)",
			       HEX(id));
	if (rc)
		return lb_errf(c->em, rc, "listing %s cannot be read", HEX(id));
	return LB_OK;
}

int store_ancestors(struct lb_state *s, const struct store_listing *r,
		    uint8_t out[][LB_ADDR_LEN], uint8_t ids[][LB_HASH_LEN], size_t *n)
{
	uint8_t cur[LB_HASH_LEN];
	struct store_listing *p = lb_malloc(sizeof *p);
	if (!p)
		return LB_ENOMEM;
	memcpy(cur, r->parent, LB_HASH_LEN);
	*n = 0;
	int rc = LB_OK;
	while (!zero32(cur) && *n < LB_STORE_ANCESTORS_MAX) {
		if ((rc = store_listing_get(s, cur, p)))
			break;
		memcpy(out[*n], p->author, LB_ADDR_LEN);
		if (ids)
			memcpy(ids[*n], cur, LB_HASH_LEN);
		(*n)++;
		memcpy(cur, p->parent, LB_HASH_LEN);
	}
	lb_free(p);
	return rc;
}

/* Who registered an algorithm: the exchange's lookup, set by the node (the market is below
 * the exchange). Set once at start-up, before any ledger is opened. */
static lb_store_algo_fn algo_lookup;

void lb_store_set_algo_lookup(lb_store_algo_fn fn)
{
	algo_lookup = fn;
}

/* ---- store.list --------------------------------------------------------------------------- */

static int check_any(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_store_tx *p = lb_malloc(sizeof *p);
	if (!p)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_store_tx_decode(tx->type, tx->payload, tx->payload_len, p, em);
	lb_free(p);
	return rc;
}

/* Would making `parent` the parent of `id` close a cycle? Walks parent's ancestry. */
static int cycle_check(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN],
		       const uint8_t parent[LB_HASH_LEN])
{
	uint8_t cur[LB_HASH_LEN];
	struct store_listing *p = lb_malloc(sizeof *p);
	if (!p)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	memcpy(cur, parent, LB_HASH_LEN);
	int rc = LB_OK;
	for (size_t depth = 0; !zero32(cur); depth++) {
		if (memcmp(cur, id, LB_HASH_LEN) == 0) {
			rc = lb_errf(c->em, LB_EINVALID,
				     "derivation cycle: %s would derive from %s, which already "
				     "derives from it (%zu step%s up); a family is a tree",
				     HEX(id), HEX(parent), depth, depth == 1 ? "" : "s");
			break;
		}
		if ((rc = store_listing_get(c->state, cur, p))) {
			rc = lb_errf(c->em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc,
				     "parent listing %s is not in the store: list it first", HEX(cur));
			break;
		}
		memcpy(cur, p->parent, LB_HASH_LEN);
	}
	lb_free(p);
	return rc;
}

static int child_add(struct lb_apply_ctx *c, const uint8_t parent[LB_HASH_LEN],
		     const uint8_t child[LB_HASH_LEN])
{
	struct store_listing *p = lb_malloc(sizeof *p);
	if (!p)
		return LB_ENOMEM;
	int rc = store_listing_get(c->state, parent, p);
	if (!rc) {
		uint8_t key[LB_HASH_LEN + 8];
		memcpy(key, parent, LB_HASH_LEN);
		be64(key + LB_HASH_LEN, p->children++);
		if (!(rc = lb_state_put(c->state, NS_CHILD, key, sizeof key, child, LB_HASH_LEN)))
			rc = store_listing_put(c->state, p);
	}
	lb_free(p);
	return rc;
}

size_t store_versions_key(const struct store_listing *r, uint8_t *key)
{
	size_t nl = strlen(r->name);
	key[0] = r->kind;
	memcpy(key + 1, r->author, LB_ADDR_LEN);
	memcpy(key + 1 + LB_ADDR_LEN, r->name, nl);
	return 1 + LB_ADDR_LEN + nl;
}

/* Add listing r to the versions of its author's contract (or algorithm) name. */
static int versions_add(struct lb_state *s, const struct store_listing *r)
{
	uint8_t key[1 + LB_ADDR_LEN + LB_STORE_NAME_MAX + 8];
	size_t kl = store_versions_key(r, key);
	uint64_t n;
	int rc = lb_state_get_u64(s, NS_VERS, key, kl, 0, &n);
	if (rc || (rc = lb_state_put_u64(s, NS_VERS, key, kl, n + 1)))
		return rc;
	be64(key + kl, n);
	return lb_state_put(s, NS_VERS, key, kl + 8, r->id, LB_HASH_LEN);
}

static int op_list(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r)
{
	int rc = store_listing_get(c->state, p->item, r);
	if (rc == LB_OK) {
		rc = lb_errf(c->em, LB_EEXISTS,
			     "%s is already listed as '%s' (block %llu); its author changes the "
			     "price with 'leben store price'",
			     HEX(p->item), r->title, (unsigned long long)r->height);
		return rc;
	}
	if (rc != LB_ENOTFOUND)
		return rc;
	memset(r, 0, sizeof *r);
	memcpy(r->id, p->item, LB_HASH_LEN);
	uint8_t author[LB_ADDR_LEN];
	if (p->kind == LB_STORE_CONTRACT) {
		rc = lb_kn_state_contract(c->state, p->item, author, &r->version, r->name,
					  sizeof r->name);
		if (rc == LB_ENOTFOUND) {
			rc = lb_errf(c->em, LB_ENOTFOUND,
				     "contract %s is not published: publish it first ('leben "
				     "contract publish FILE'; publication runs the verifier)%s",
				     HEX(p->item),
				     zero32(p->tmpl) ? ""
						     : "; a template instance is published like any "
						       "contract once it passes the verifier");
			return rc;
		}
	} else {
		rc = algo_lookup ? algo_lookup(c->state, p->item, author, r->name, sizeof r->name)
				 : LB_ENOTFOUND;
		r->version = 1;
		if (rc == LB_ENOTFOUND) {
			rc = lb_errf(c->em, LB_ENOTFOUND,
				     "algorithm %s is not registered: register it first ('leben "
				     "exchange algo')",
				     HEX(p->item));
			return rc;
		}
	}
	if (rc)
		return rc;
	if (memcmp(author, c->sender_addr, LB_ADDR_LEN)) {
		rc = lb_errf(c->em, LB_EUNAUTH,
			     "%s %s was published by %s; only its author may list it",
			     p->kind == LB_STORE_CONTRACT ? "contract" : "algorithm", HEX(p->item),
			     ADDR(author));
		return rc;
	}
	if (!zero32(p->parent) && (rc = cycle_check(c, p->item, p->parent)))
		return rc;
	if (!zero32(p->tmpl) && (rc = store_instance_check(c, p->tmpl, p->params, p->item)))
		return rc;
	memcpy(r->author, author, LB_ADDR_LEN);
	r->kind = p->kind;
	r->price_call = p->price_call;
	r->price_licence = p->price_licence;
	memcpy(r->title, p->title, sizeof r->title);
	memcpy(r->specialty, p->specialty, sizeof r->specialty);
	memcpy(r->description, p->description, sizeof r->description);
	r->ncodes = p->ncodes;
	memcpy(r->codes, p->codes, sizeof r->codes);
	memcpy(r->parent, p->parent, LB_HASH_LEN);
	r->relation = p->relation;
	memcpy(r->tmpl, p->tmpl, LB_HASH_LEN);
	memcpy(r->params, p->params, sizeof r->params);
	r->height = c->height;
	uint64_t n;
	uint8_t key[8];
	if ((rc = lb_state_get_u64(c->state, NS_COUNT, "listings", 8, 0, &n)))
		return rc;
	r->index = n;
	be64(key, n);
	if ((rc = lb_state_put_u64(c->state, NS_COUNT, "listings", 8, n + 1)) ||
	    (rc = lb_state_put(c->state, NS_IDX, key, 8, r->id, LB_HASH_LEN)) ||
	    (rc = store_listing_put(c->state, r)))
		return rc;
	if (!zero32(p->parent) && (rc = child_add(c, p->parent, r->id)))
		return rc;
	if ((rc = versions_add(c->state, r)))
		return rc;
	if (!zero32(p->tmpl))
		return store_template_instance_add(c, p->tmpl, r->id);
	return LB_OK;
}

static int apply_list(struct lb_apply_ctx *c)
{
	return store_with_payload(c, op_list);
}

/* ---- the txs on one listing: price, derive, buy, call, rate ---------------------------------- */

static int buyer_flags(struct lb_state *s, const uint8_t id[LB_HASH_LEN],
		       const uint8_t who[LB_ADDR_LEN], uint64_t *flags)
{
	uint8_t key[LB_HASH_LEN + LB_ADDR_LEN];
	memcpy(key, id, LB_HASH_LEN);
	memcpy(key + LB_HASH_LEN, who, LB_ADDR_LEN);
	return lb_state_get_u64(s, NS_BUYER, key, sizeof key, 0, flags);
}

static int buyer_set(struct lb_state *s, const uint8_t id[LB_HASH_LEN],
		     const uint8_t who[LB_ADDR_LEN], uint64_t flags)
{
	uint8_t key[LB_HASH_LEN + LB_ADDR_LEN];
	memcpy(key, id, LB_HASH_LEN);
	memcpy(key + LB_HASH_LEN, who, LB_ADDR_LEN);
	return lb_state_put_u64(s, NS_BUYER, key, sizeof key, flags);
}

/* A call as stored under NS_CALL (key: the call's tx id). */
struct call_rec {
	uint8_t item[LB_HASH_LEN], caller[LB_ADDR_LEN], session[LB_HASH_LEN];
	uint64_t paid;
	uint8_t outcome; /* 0: none recorded yet */
};

static int call_put(struct lb_state *s, const uint8_t id[LB_HASH_LEN], const struct call_rec *r)
{
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 256);
	if (!(rc = lb_enc_fixed(&b, r->item, LB_HASH_LEN)) &&
	    !(rc = lb_enc_fixed(&b, r->caller, LB_ADDR_LEN)) &&
	    !(rc = lb_enc_fixed(&b, r->session, LB_HASH_LEN)) && !(rc = lb_enc_uvar(&b, r->paid)) &&
	    !(rc = lb_enc_u8(&b, r->outcome)))
		rc = lb_state_put(s, NS_CALL, id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

static int call_get(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct call_rec *r)
{
	struct lb_dec d;
	int rc = store_record(s, NS_CALL, id, LB_HASH_LEN, "call", &d);
	if (rc)
		return rc;
	if (lb_dec_fixed(&d, "i", r->item, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "c", r->caller, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "s", r->session, LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "p", UINT64_MAX, &r->paid) || lb_dec_u8(&d, "o", &r->outcome) ||
	    lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

/* What one tx does to its listing r (read already), the sender's buyer flags in *fl; the
 * wrapper writes r and *fl back when it returns LB_OK. */
typedef int (*listing_op)(struct lb_apply_ctx *c, const struct lb_store_tx *p,
			  struct store_listing *r, uint64_t *fl);

static int need_author(struct lb_apply_ctx *c, const struct store_listing *r, const char *doing)
{
	if (memcmp(r->author, c->sender_addr, LB_ADDR_LEN) == 0)
		return LB_OK;
	return lb_errf(c->em, LB_EUNAUTH, "only the author of '%s' (%s) may %s; %s is not", r->title,
		       ADDR(r->author), doing, ADDR(c->sender_addr));
}

static int op_price(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
		    uint64_t *fl)
{
	int rc = need_author(c, r, "change its price");
	if (!rc) {
		r->price_call = p->price_call;
		r->price_licence = p->price_licence;
	}
	return rc;
}

static int op_derive(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
		     uint64_t *fl)
{
	int rc = need_author(c, r, "declare what it derives from");
	if (rc)
		return rc;
	if (!zero32(r->parent))
		return lb_errf(c->em, LB_EEXISTS,
			       "'%s' already derives from %s (%s); a derivation is declared once",
			       r->title, HEX(r->parent), lb_store_relation_name(r->relation));
	if ((rc = cycle_check(c, p->item, p->parent)))
		return rc;
	memcpy(r->parent, p->parent, LB_HASH_LEN);
	r->relation = p->relation;
	/* the parent's child list (the parent is another record: written now, r by the wrapper) */
	return child_add(c, p->parent, p->item);
}

static int above_max(struct lb_apply_ctx *c, const struct store_listing *r, const char *what,
		     uint64_t price, uint64_t max)
{
	if (price <= max)
		return LB_OK;
	return lb_errf(c->em, LB_ERANGE,
		       "%s of '%s' now costs %llu micro-ASC, above the %llu you allowed "
		       "(--max-price)",
		       what, r->title, (unsigned long long)price, (unsigned long long)max);
}

static int op_buy(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
		  uint64_t *fl)
{
	int rc;
	if (r->price_licence == 0)
		return lb_errf(c->em, LB_EINVALID,
			       "'%s' has no licence price: it is sold per call ('leben store call')",
			       r->title);
	if (*fl & STORE_LICENSED)
		return lb_errf(c->em, LB_EEXISTS, "%s already holds a licence of '%s'",
			       ADDR(c->sender_addr), r->title);
	if ((rc = above_max(c, r, "the licence", r->price_licence, p->max_price)) ||
	    (rc = store_pay(c, p, r, r->price_licence, "the licence")))
		return rc;
	r->licences++;
	*fl |= STORE_LICENSED;
	return LB_OK;
}

/* Session id must be an anchored session of contract listing r started by the sender. */
static int session_check(struct lb_apply_ctx *c, const struct store_listing *r,
			 const uint8_t id[LB_HASH_LEN])
{
	uint8_t contract[LB_HASH_LEN], owner[LB_ADDR_LEN];
	bool done;
	if (r->kind != LB_STORE_CONTRACT)
		return lb_errf(c->em, LB_EINVALID, "'%s' is an algorithm: it has no contract sessions",
			       r->title);
	int rc = lb_kn_state_session(c->state, id, contract, owner, &done);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "session %s is not anchored on this chain (run the contract with "
			       "--anchor)",
			       HEX(id));
	if (rc)
		return lb_errf(c->em, rc, "session %s cannot be read", HEX(id));
	if (memcmp(contract, r->id, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID, "session %s runs contract %s, not '%s'", HEX(id),
			       HEX(contract), r->title);
	if (memcmp(owner, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH, "session %s was started by %s, not by %s", HEX(id),
			       ADDR(owner), ADDR(c->sender_addr));
	return LB_OK;
}

static int op_call(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
		   uint64_t *fl)
{
	bool licensed = *fl & STORE_LICENSED;
	uint64_t price = licensed ? 0 : r->price_call;
	int rc;
	if (!licensed && r->price_call == 0)
		return lb_errf(c->em, LB_EINVALID,
			       "'%s' is sold by licence only: buy it first ('leben store buy')",
			       r->title);
	if ((!zero32(p->session) && (rc = session_check(c, r, p->session))) ||
	    (rc = above_max(c, r, "a call", price, p->max_price)) ||
	    (price && (rc = store_pay(c, p, r, price, "a call"))))
		return rc;
	r->calls++;
	*fl |= STORE_CALLED;
	struct call_rec cr = {.paid = price};
	memcpy(cr.item, p->item, LB_HASH_LEN);
	memcpy(cr.caller, c->sender_addr, LB_ADDR_LEN);
	memcpy(cr.session, p->session, LB_HASH_LEN);
	return call_put(c->state, c->tx->id, &cr);
}

static int op_rate(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
		   uint64_t *fl)
{
	if (!(*fl & (STORE_LICENSED | STORE_CALLED)))
		return lb_errf(c->em, LB_EUNAUTH,
			       "%s has neither bought nor called '%s': only verified buyers rate",
			       ADDR(c->sender_addr), r->title);
	if (*fl & STORE_RATED)
		return lb_errf(c->em, LB_EEXISTS, "%s has already rated '%s': one rating per buyer",
			       ADDR(c->sender_addr), r->title);
	uint8_t key[LB_HASH_LEN + 8];
	memcpy(key, p->item, LB_HASH_LEN);
	be64(key + LB_HASH_LEN, r->ratings);
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 4096);
	if (!(rc = lb_enc_fixed(&b, c->sender_addr, LB_ADDR_LEN)) &&
	    !(rc = lb_enc_u8(&b, p->stars)) && !(rc = lb_enc_str(&b, p->description)) &&
	    !(rc = lb_enc_uvar(&b, c->height)))
		rc = lb_state_put(c->state, NS_RATING, key, sizeof key, b.data, b.len);
	lb_buf_release(&b);
	r->ratings++;
	r->rating_sum += p->stars;
	*fl |= STORE_RATED;
	return rc;
}

static int op_on_listing(struct lb_apply_ctx *c, const struct lb_store_tx *p,
			 struct store_listing *r)
{
	listing_op op = c->tx->type == LB_TX_STORE_PRICE    ? op_price
			: c->tx->type == LB_TX_STORE_DERIVE ? op_derive
			: c->tx->type == LB_TX_STORE_BUY    ? op_buy
			: c->tx->type == LB_TX_STORE_CALL   ? op_call
							    : op_rate;
	uint64_t fl = 0, was;
	int rc;
	if ((rc = need_listing(c, p->item, r)) ||
	    (rc = buyer_flags(c->state, p->item, c->sender_addr, &fl)))
		return rc;
	was = fl;
	if (!(rc = op(c, p, r, &fl)) && fl != was)
		rc = buyer_set(c->state, p->item, c->sender_addr, fl);
	return rc ? rc : store_listing_put(c->state, r);
}

/* store.price, store.derive, store.buy, store.call, store.rate */
static int apply_on_listing(struct lb_apply_ctx *c)
{
	return store_with_payload(c, op_on_listing);
}

/* ---- store.outcome ------------------------------------------------------------------------- */

static int op_outcome(struct lb_apply_ctx *c, const struct lb_store_tx *p,
		      struct store_listing *r)
{
	struct call_rec cr;
	int rc;
	rc = call_get(c->state, p->ref, &cr);
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(c->em, LB_ENOTFOUND,
			     "%s is not a store call: an outcome names the tx id of the "
			     "'store call' whose session it follows",
			     HEX(p->ref));
	else if (rc)
		rc = lb_errf(c->em, rc, "call record %s cannot be read", HEX(p->ref));
	else if (memcmp(cr.item, p->item, LB_HASH_LEN))
		rc = lb_errf(c->em, LB_EINVALID, "call %s was a call of %s, not of %s", HEX(p->ref),
			     HEX(cr.item), HEX(p->item));
	else if (memcmp(cr.caller, c->sender_addr, LB_ADDR_LEN))
		rc = lb_errf(c->em, LB_EUNAUTH, "only the caller (%s) records the outcome of call %s",
			     ADDR(cr.caller), HEX(p->ref));
	else if (cr.outcome)
		rc = lb_errf(c->em, LB_EEXISTS, "call %s already has its outcome (%s)", HEX(p->ref),
			     lb_store_outcome_name(cr.outcome));
	else if (!zero32(p->session) && !zero32(cr.session) &&
		 memcmp(p->session, cr.session, LB_HASH_LEN))
		rc = lb_errf(c->em, LB_EINVALID, "call %s ran session %s, not %s", HEX(p->ref),
			     HEX(cr.session), HEX(p->session));
	else if (!(rc = need_listing(c, cr.item, r)) &&
		 !(!zero32(p->session) && (rc = session_check(c, r, p->session)))) {
		r->outcomes[p->outcome - 1]++;
		cr.outcome = p->outcome;
		if (!zero32(p->session))
			memcpy(cr.session, p->session, LB_HASH_LEN);
		if (!(rc = call_put(c->state, p->ref, &cr)))
			rc = store_listing_put(c->state, r);
	}
	return rc;
}

static int apply_outcome(struct lb_apply_ctx *c)
{
	return store_with_payload(c, op_outcome);
}

/* ---- json of payloads ---------------------------------------------------------------------- */

static json_t *json_store(const struct lb_tx *tx)
{
	struct lb_store_tx *p = lb_malloc(sizeof *p);
	if (!p || lb_store_tx_decode(tx->type, tx->payload, tx->payload_len, p, NULL)) {
		lb_free(p);
		return NULL;
	}
	json_t *o = json_pack("{s:s}", "item", HEX(p->item));
	switch (tx->type) {
	case LB_TX_STORE_LIST: {
		json_t *codes = json_array();
		for (size_t i = 0; i < p->ncodes; i++)
			json_array_append_new(codes, json_string(p->codes[i]));
		json_object_set_new(o, "kind", json_string(p->kind == 1 ? "contract" : "algorithm"));
		json_object_set_new(o, "title", json_string(p->title));
		json_object_set_new(o, "specialty", json_string(p->specialty));
		json_object_set_new(o, "description", json_string(p->description));
		json_object_set_new(o, "codes", codes);
		json_object_set_new(o, "price_call", json_integer((json_int_t)p->price_call));
		json_object_set_new(o, "price_licence", json_integer((json_int_t)p->price_licence));
		if (!zero32(p->parent)) {
			json_object_set_new(o, "parent", json_string(HEX(p->parent)));
			json_object_set_new(o, "relation",
					    json_string(lb_store_relation_name(p->relation)));
		}
		if (!zero32(p->tmpl)) {
			json_object_set_new(o, "template", json_string(HEX(p->tmpl)));
			json_object_set_new(o, "params", json_string(p->params));
		}
		break;
	}
	case LB_TX_STORE_PRICE:
		json_object_set_new(o, "price_call", json_integer((json_int_t)p->price_call));
		json_object_set_new(o, "price_licence", json_integer((json_int_t)p->price_licence));
		break;
	case LB_TX_STORE_BUY:
	case LB_TX_STORE_CALL:
		json_object_set_new(o, "max_price", json_integer((json_int_t)p->max_price));
		if (tx->type == LB_TX_STORE_CALL && !zero32(p->session))
			json_object_set_new(o, "session", json_string(HEX(p->session)));
		break;
	case LB_TX_STORE_RATE:
		json_object_set_new(o, "stars", json_integer(p->stars));
		json_object_set_new(o, "text", json_string(p->description));
		break;
	case LB_TX_STORE_OUTCOME:
		json_object_set_new(o, "call", json_string(HEX(p->ref)));
		if (!zero32(p->session))
			json_object_set_new(o, "session", json_string(HEX(p->session)));
		json_object_set_new(o, "outcome", json_string(lb_store_outcome_name(p->outcome)));
		break;
	case LB_TX_STORE_TEMPLATE:
		json_object_set_new(o, "title", json_string(p->title));
		json_object_set_new(o, "source_bytes", json_integer((json_int_t)p->source_len));
		break;
	case LB_TX_STORE_DEPOSIT:
		json_object_set_new(o, "amount", json_integer((json_int_t)p->amount));
		break;
	case LB_TX_STORE_DERIVE:
		json_object_set_new(o, "parent", json_string(HEX(p->parent)));
		json_object_set_new(o, "relation", json_string(lb_store_relation_name(p->relation)));
		break;
	default:
		break;
	}
	lb_free(p);
	return o;
}

/* ---- genesis: store wallets ---------------------------------------------------------------- */

/* genesis.json "store_wallets": [{"address":"lb1...","asc":MICRO}] fills business-chain store
 * wallets (whole micro-ASC, as the genesis accounts' balances). */
static int store_genesis(json_t *g, int chain, struct lb_state *s, struct lb_errmsg *em)
{
	if (chain != LB_CHAIN_BUSINESS)
		return LB_OK;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(g, "store_wallets"), i, v)
	{
		uint8_t a[LB_ADDR_LEN];
		json_t *addr = json_object_get(v, "address"), *amt = json_object_get(v, "asc");
		if (!json_is_string(addr) || lb_addr_decode(a, json_string_value(addr), em))
			return lb_errwrap(em, "genesis: store_wallets[%zu]: ", i);
		if (!json_is_integer(amt) || json_integer_value(amt) < 0)
			return lb_errf(em, LB_EINVALID,
				       "genesis: store_wallets[%zu]: 'asc' must be a whole number of "
				       "micro-units >= 0",
				       i);
		int rc = store_wallet_add(s, a, (uint64_t)json_integer_value(amt));
		if (rc)
			return lb_errf(em, rc, "genesis: store_wallets[%zu]: %s", i, lb_strerror(rc));
	}
	return LB_OK;
}

/* store.withdraw: its payload is one amount (uvar), checked when applied */
static int check_withdraw(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint64_t amount;
	lb_dec_init(&d, tx->payload, tx->payload_len, "store.withdraw", em);
	int rc = lb_dec_uvar(&d, "amount", UINT64_MAX, &amount);
	return rc ? rc : lb_dec_end(&d);
}

static json_t *json_withdraw(const struct lb_tx *tx)
{
	struct lb_dec d;
	uint64_t amount;
	lb_dec_init(&d, tx->payload, tx->payload_len, "store.withdraw", NULL);
	if (lb_dec_uvar(&d, "amount", UINT64_MAX, &amount))
		return NULL;
	return json_pack("{s:I}", "amount", (json_int_t)amount);
}

static const struct lb_txtype store_types[] = {
	{LB_TX_STORE_LIST, LB_CHAIN_BUSINESS, "store.list", check_any, apply_list, json_store, true},
	{LB_TX_STORE_PRICE, LB_CHAIN_BUSINESS, "store.price", check_any, apply_on_listing, json_store,
	 true},
	{LB_TX_STORE_BUY, LB_CHAIN_BUSINESS, "store.buy", check_any, apply_on_listing, json_store, true},
	{LB_TX_STORE_CALL, LB_CHAIN_BUSINESS, "store.call", check_any, apply_on_listing, json_store, true},
	{LB_TX_STORE_RATE, LB_CHAIN_BUSINESS, "store.rate", check_any, apply_on_listing, json_store, true},
	{LB_TX_STORE_OUTCOME, LB_CHAIN_BUSINESS, "store.outcome", check_any, apply_outcome,
	 json_store, true},
	{LB_TX_STORE_TEMPLATE, LB_CHAIN_BUSINESS, "store.template", check_any,
	 store_apply_template, json_store, true},
	{LB_TX_STORE_DEPOSIT, LB_CHAIN_BUSINESS, "store.deposit", check_any, store_apply_deposit,
	 json_store, true},
	{LB_TX_STORE_DERIVE, LB_CHAIN_BUSINESS, "store.derive", check_any, apply_on_listing, json_store,
	 true},
	{LB_TX_STORE_WITHDRAW, LB_CHAIN_BUSINESS, "store.withdraw", check_withdraw,
	 store_apply_withdraw, json_withdraw, true},
};

/* Not block-independent: listings and ratings record their height. */
int lb_market_store_register_txtypes(void)
{
	int rc = lb_genesis_hook_register(store_genesis);
	if (rc)
		return rc;
	return lb_txtype_register_rows(store_types, sizeof store_types / sizeof store_types[0],
				       false);
}
