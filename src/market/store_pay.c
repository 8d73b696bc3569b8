/*
 * Paying for a licence or a call of the knowledge store, in one of two ways, both split by the
 * market's table for the kind of use (contract call / algorithm call):
 *  - from the buyer's store wallet on the business chain (credited here to the author, the
 *    ancestors' authors and the platform pool);
 *  - by citing the buyer's own `market.pay` on the settlement chain (econ.c moved the ASC there
 *    already, split by the governed table): the store checks the cited tx with its inclusion
 *    proof anchored in a business block, that the buyer sent it, that its use, amount and
 *    parties (author, ancestors' authors) are this listing's, and that it was not cited before.
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "market/store_int.h"

#define NS_BACKED "mk.backed" /* "all" -> micro-ASC deposited and not withdrawn (backed) */
#define NS_PAID "mk.paid" /* market.pay or deposit transfer tx id -> 1 once cited */

#define HEX(p) store_hex((char[2 * LB_HASH_LEN + 1]){0}, (p))

static const char *addr_text(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t a[LB_ADDR_LEN])
{
	lb_addr_encode(out, a);
	return out;
}
#define ADDR(a) addr_text((char[LB_ADDR_TEXT_LEN + 1]){0}, (a))

int lb_store_wallet(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t *out)
{
	return lb_state_get_u64(s, NS_WALLET, addr, LB_ADDR_LEN, 0, out);
}

void lb_store_pool_addr(uint8_t out[LB_ADDR_LEN])
{
	uint8_t h[LB_HASH_LEN];
	static const char tag[] = "LEBEN-store-platform-pool-v1";
	lb_hash(h, tag, sizeof tag - 1);
	memcpy(out, h, LB_ADDR_LEN);
}

int store_wallet_add(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t amount)
{
	uint64_t v;
	int rc = lb_store_wallet(s, addr, &v);
	if (rc)
		return rc;
	if (v + amount < v)
		return LB_ERANGE;
	return lb_state_put_u64(s, NS_WALLET, addr, LB_ADDR_LEN, v + amount);
}

/* Pay amount from payer to the parties of listing r through the split table of its kind of
 * use (contract call or algorithm call; the default tables of lb_mkt_splits_default until the
 * business chain carries the governed ones): author(s), the ancestors' authors, and the
 * platform pool for every share nobody fills here (executor, audit) and every remainder.
 * LB_EFUNDS when the payer's wallet is short; nothing written then. */
static int wallet_pay(struct lb_apply_ctx *c, struct store_listing *r, uint64_t amount,
		      const char *what)
{
	uint64_t have;
	int rc = lb_store_wallet(c->state, c->sender_addr, &have);
	if (rc)
		return lb_errf(c->em, rc, "reading the store wallet failed");
	if (have < amount)
		return lb_errf(c->em, LB_EFUNDS,
			       "%s of '%s' costs %llu micro-ASC but the store wallet of %s holds "
			       "%llu: pay with --settle (ASC on the settlement chain) or fund the wallet",
			       what, r->title, (unsigned long long)amount, ADDR(c->sender_addr),
			       (unsigned long long)have);
	uint8_t anc[LB_STORE_ANCESTORS_MAX][LB_ADDR_LEN];
	size_t nanc;
	if ((rc = store_ancestors(c->state, r, anc, NULL, &nanc)))
		return lb_errf(c->em, rc, "reading the family of '%s' failed", r->title);
	struct lb_mkt_credits cr;
	if ((rc = store_split(amount, r, (const uint8_t(*)[LB_ADDR_LEN])anc, nanc, &cr, c->em)))
		goto out;
	if ((rc = lb_state_put_u64(c->state, NS_WALLET, c->sender_addr, LB_ADDR_LEN,
				   have - amount)))
		goto out;
	for (size_t i = 0; i < cr.n; i++)
		if ((rc = store_wallet_add(c->state, cr.v[i].to, cr.v[i].amount))) {
			rc = lb_errf(c->em, rc, "crediting %s failed", ADDR(cr.v[i].to));
			goto out;
		}
	r->revenue += amount;
out:
	lb_mkt_credits_release(&cr);
	return rc;
}

int lb_store_wallet_split(struct lb_state *s, const uint8_t payer[LB_ADDR_LEN], uint64_t amount,
			  unsigned use, const struct lb_mkt_parties *p, struct lb_mkt_credits *out,
			  struct lb_errmsg *em)
{
	uint64_t have;
	struct lb_mkt_splits t;
	struct lb_mkt_parties q = *p;
	struct lb_mkt_credits cr = {0};
	int rc = lb_store_wallet(s, payer, &have);
	if (rc)
		return lb_errf(em, rc, "reading the store wallet of %s failed", ADDR(payer));
	if (have < amount)
		return lb_errf(em, LB_EFUNDS,
			       "%llu micro-ASC are due but the store wallet of %s holds %llu: fill "
			       "it first (leben store deposit ASC)",
			       (unsigned long long)amount, ADDR(payer), (unsigned long long)have);
	if (use >= LB_MKT_USE_COUNT)
		return lb_errf(em, LB_EINVALID, "unknown kind of use %u", use);
	lb_mkt_splits_default(&t);
	lb_store_pool_addr(q.platform);
	if ((rc = lb_mkt_split_apply(&t.use[use], use, amount, &q, &cr, em)) ||
	    (rc = lb_state_put_u64(s, NS_WALLET, payer, LB_ADDR_LEN, have - amount)))
		goto out;
	for (size_t i = 0; i < cr.n; i++)
		if ((rc = store_wallet_add(s, cr.v[i].to, cr.v[i].amount))) {
			rc = lb_errf(em, rc, "crediting %s failed", ADDR(cr.v[i].to));
			goto out;
		}
	if (out) {
		*out = cr;
		return LB_OK;
	}
out:
	lb_mkt_credits_release(&cr);
	return rc;
}

int store_split(uint64_t amount, const struct store_listing *r,
		const uint8_t anc[][LB_ADDR_LEN], size_t nanc, struct lb_mkt_credits *out,
		struct lb_errmsg *em)
{
	struct lb_mkt_splits t;
	struct lb_mkt_parties p;
	memset(&p, 0, sizeof p);
	lb_mkt_splits_default(&t);
	unsigned use = r->kind == LB_STORE_ALGORITHM ? LB_MKT_USE_ALGO : LB_MKT_USE_CONTRACT;
	if (use == LB_MKT_USE_ALGO) {
		p.has_algo_author = true;
		memcpy(p.algo_author, r->author, LB_ADDR_LEN);
	} else {
		p.authors = (const uint8_t(*)[LB_ADDR_LEN])r->author;
		p.n_authors = 1;
		p.ancestors = anc;
		p.n_ancestors = nanc;
	}
	lb_store_pool_addr(p.platform);
	return lb_mkt_split_apply(&t.use[use], use, amount, &p, out, em);
}

int lb_store_pay_open(struct lb_apply_ctx *c, const uint8_t *raw, size_t rawlen,
		      const uint8_t *proof, size_t prooflen, unsigned *use, uint64_t *paid,
		      struct lb_mkt_parties *pp, uint8_t txid[LB_HASH_LEN])
{
	struct lb_tx tx;
	int rc = lb_apply_cite(c, "payment", raw, rawlen, proof, prooflen, LB_CHAIN_SETTLEMENT,
			       LB_TX_MKT_PAY, &tx);
	if (rc)
		return rc;
	uint8_t payer[LB_ADDR_LEN];
	lb_addr_from_pubkey(payer, tx.sender);
	if (memcmp(payer, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "the cited payment %s was sent by %s, not by %s: cite your own "
			       "market.pay",
			       HEX(tx.id), ADDR(payer), ADDR(c->sender_addr));
	uint64_t used = 0;
	if ((rc = lb_state_get_u64(c->state, NS_PAID, tx.id, LB_HASH_LEN, 0, &used)))
		return rc;
	if (used)
		return lb_errf(c->em, LB_EEXISTS, "payment %s was already cited: pay again",
			       HEX(tx.id));
	struct lb_errmsg e;
	lb_errclear(&e);
	if (lb_mkt_pay_decode(tx.payload, tx.payload_len, use, paid, pp, &e))
		return lb_errf(c->em, LB_EINVALID, "the cited payment does not decode: %s", e.text);
	memcpy(txid, tx.id, LB_HASH_LEN);
	return LB_OK;
}

int lb_store_pay_mark(struct lb_state *s, const uint8_t txid[LB_HASH_LEN])
{
	return lb_state_put_u64(s, NS_PAID, txid, LB_HASH_LEN, 1);
}

/* The cited settlement payment p->pay_tx (with p->pay_proof) pays `amount` for listing r. */
static int cited_pay(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
		     uint64_t amount, const char *what)
{
	unsigned use;
	uint64_t paid;
	struct lb_mkt_parties pp;
	uint8_t txid[LB_HASH_LEN];
	int rc = lb_store_pay_open(c, p->pay_tx, p->pay_tx_len, p->pay_proof, p->pay_proof_len,
				   &use, &paid, &pp, txid);
	if (rc)
		return rc;
	unsigned want = r->kind == LB_STORE_ALGORITHM ? LB_MKT_USE_ALGO : LB_MKT_USE_CONTRACT;
	if (use != want)
		return lb_errf(c->em, LB_EINVALID, "the cited payment is a %s payment, not a %s",
			       lb_mkt_use_name(use), lb_mkt_use_name(want));
	if (paid < amount)
		return lb_errf(c->em, LB_EFUNDS,
			       "%s of '%s' costs %llu micro-ASC but the cited payment is of %llu", what,
			       r->title, (unsigned long long)amount, (unsigned long long)paid);
	uint8_t anc[LB_STORE_ANCESTORS_MAX][LB_ADDR_LEN];
	size_t nanc;
	if ((rc = store_ancestors(c->state, r, anc, NULL, &nanc)))
		return lb_errf(c->em, rc, "reading the family of '%s' failed", r->title);
	bool ok;
	if (want == LB_MKT_USE_ALGO)
		ok = pp.has_algo_author && !memcmp(pp.algo_author, r->author, LB_ADDR_LEN);
	else {
		ok = pp.n_authors == 1 && !memcmp(pp.authors[0], r->author, LB_ADDR_LEN) &&
		     pp.n_ancestors == nanc;
		for (size_t i = 0; ok && i < nanc; i++)
			ok = !memcmp(pp.ancestors[i], anc[i], LB_ADDR_LEN);
	}
	if (!ok)
		return lb_errf(c->em, LB_EINVALID,
			       "the cited payment does not pay the parties of '%s': author %s and "
			       "the %zu ancestors' authors, nearest first (GET /v1/store/listings/%s "
			       "names them)",
			       r->title, ADDR(r->author), nanc, HEX(r->id));
	r->revenue += paid;
	return lb_store_pay_mark(c->state, txid);
}

void lb_store_deposit_addr(uint8_t out[LB_ADDR_LEN])
{
	uint8_t h[LB_HASH_LEN];
	static const char tag[] = "LEBEN-store-deposit-v1";
	lb_hash(h, tag, sizeof tag - 1);
	memcpy(out, h, LB_ADDR_LEN);
}

/* store.deposit: the sender's own settlement transfer of p->amount ASC to the deposit address,
 * memo LB_STORE_DEPOSIT_MEMO, cited with its proof, credits the sender's wallet once. */
static int op_deposit(struct lb_apply_ctx *c, const struct lb_store_tx *p,
		      struct store_listing *unused)
{
	struct lb_tx tx;
	int rc = lb_apply_cite(c, "deposit transfer", p->pay_tx, p->pay_tx_len, p->pay_proof,
				p->pay_proof_len, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, &tx);
	if (rc)
		return rc;
	uint8_t payer[LB_ADDR_LEN], to[LB_ADDR_LEN];
	lb_addr_from_pubkey(payer, tx.sender);
	if (memcmp(payer, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "the cited transfer %s was sent by %s, not by %s: deposit your own",
			       HEX(tx.id), ADDR(payer), ADDR(c->sender_addr));
	lb_store_deposit_addr(to);
	struct lb_buf want;
	lb_buf_init(&want, 512);
	rc = lb_payload_transfer(&want, to, LB_ASC, p->amount, LB_STORE_DEPOSIT_MEMO);
	bool same = !rc && want.len == tx.payload_len && !memcmp(want.data, tx.payload, want.len);
	lb_buf_release(&want);
	if (!same)
		return lb_errf(c->em, LB_EINVALID,
			       "the cited transfer is not %llu micro-ASC to the store deposit address "
			       "%s with memo '%s'",
			       (unsigned long long)p->amount, ADDR(to), LB_STORE_DEPOSIT_MEMO);
	uint64_t used = 0;
	if ((rc = lb_state_get_u64(c->state, NS_PAID, tx.id, LB_HASH_LEN, 0, &used)))
		return rc;
	if (used)
		return lb_errf(c->em, LB_EEXISTS, "transfer %s was already deposited", HEX(tx.id));
	uint64_t backed;
	if ((rc = lb_state_get_u64(c->state, NS_BACKED, "all", 3, 0, &backed)) ||
	    (rc = lb_state_put_u64(c->state, NS_BACKED, "all", 3, backed + p->amount)) ||
	    (rc = lb_state_put_u64(c->state, NS_PAID, tx.id, LB_HASH_LEN, 1)) ||
	    (rc = store_wallet_add(c->state, c->sender_addr, p->amount)))
		return lb_errf(c->em, rc, "crediting the store wallet failed");
	return LB_OK;
}

int store_apply_deposit(struct lb_apply_ctx *c)
{
	return store_with_payload(c, op_deposit);
}

int store_pay(struct lb_apply_ctx *c, const struct lb_store_tx *p, struct store_listing *r,
	      uint64_t amount, const char *what)
{
	if (p->pay_tx_len)
		return cited_pay(c, p, r, amount, what);
	return wallet_pay(c, r, amount, what);
}

/* store.withdraw (payload: amount uvar, micro-ASC): the sender's own wallet only; the ASC is
 * paid out on the settlement chain by market.store.payout citing this tx. */
int store_apply_withdraw(struct lb_apply_ctx *c)
{
	struct lb_dec d;
	uint64_t amount, have;
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_dec_init(&d, c->tx->payload, c->tx->payload_len, "store.withdraw", c->em);
	int rc = lb_dec_uvar(&d, "amount", UINT64_MAX, &amount);
	if (!rc)
		rc = lb_dec_end(&d);
	if (rc)
		return rc;
	if (!amount)
		return lb_errf(c->em, LB_EINVALID, "store.withdraw: the amount must be above 0");
	uint64_t backed;
	if ((rc = lb_store_wallet(c->state, c->sender_addr, &have)) ||
	    (rc = lb_state_get_u64(c->state, NS_BACKED, "all", 3, 0, &backed)))
		return rc;
	if (have < amount)
		return lb_errf(c->em, LB_EFUNDS,
			       "store.withdraw: the store wallet of %s holds %llu micro-ASC, not "
			       "%llu; only your own wallet can be withdrawn",
			       addr_text(t, c->sender_addr), (unsigned long long)have,
			       (unsigned long long)amount);
	/* the deposit address holds what was deposited and not withdrawn: never pay out more
	 * (store credit from genesis has no ASC behind it) */
	if (backed < amount)
		return lb_errf(c->em, LB_EFUNDS,
			       "store.withdraw: only %llu micro-ASC of store credit is backed by "
			       "deposits at the store deposit address, not %llu (credit from genesis "
			       "has no ASC behind it)",
			       (unsigned long long)backed, (unsigned long long)amount);
	if ((rc = lb_state_put_u64(c->state, NS_BACKED, "all", 3, backed - amount)))
		return rc;
	return lb_state_put_u64(c->state, NS_WALLET, c->sender_addr, LB_ADDR_LEN, have - amount);
}
