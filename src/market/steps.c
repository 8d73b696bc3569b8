/*
 * Per-step charging of the on-chain sandbox (docs/economy.md, "Per-step charge of
 * compute.run"), settlement chain:
 *
 *   compute.prepay (0x012a)  uvar budget: locks budget x compute.step micro-CSC of the sender
 *                            at the prepayment address (lb_mkt_prepay_addr)
 *   compute.settle (0x012b)  bytes run | bytes proof | uvar steps | bytes program: cites a
 *                            committed compute.run (proof anchored in a settlement block)
 *                            that cited a prepayment, runs it again (pure: the program is the
 *                            run's text or, for a run by hash, the program bytes given here,
 *                            which must hash to the run's program hash; the inputs are in the
 *                            run), refuses a step count other than the run's, burns
 *                            steps x price and refunds the rest to the payer; once per
 *                            prepayment, whoever sends it (fee-exempt; the nodes send it)
 *
 *   compute.reclaim (0x012c) fixed[32] prepay tx id: the payer takes back the whole amount
 *                            of a prepayment with an expiry, from its block time + expiry on,
 *                            unless it was settled; a later settlement of it is refused
 *
 * State: "oc.prepay" / prepay tx id -> payer[20] | budget | amount | settled (u8: 0 open,
 *        1 settled, 2 reclaimed) [| time_ms | expiry_s: a prepayment with an expiry]
 *        "oc.settled" / compute.run tx id -> settlement height
 */
#include <string.h>

#include "leben/codec.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/onchain.h"
#include "leben/tx.h"
#include "market/market_int.h"

#define NS_PREPAY "oc.prepay"
#define NS_SETTLED "oc.settled"

void lb_mkt_prepay_addr(uint8_t out[LB_ADDR_LEN])
{
	static const char tag[] = "LEBEN-compute-prepay-v1";
	uint8_t h[LB_HASH_LEN];
	lb_hash_domain(h, tag, "", 0);
	memcpy(out, h, LB_ADDR_LEN);
}

int lb_mkt_settle_encode(struct lb_buf *b, const uint8_t *run, size_t run_len,
			 const uint8_t *proof, size_t proof_len, uint64_t steps,
			 const uint8_t *program, size_t program_len)
{
	int rc = lb_enc_bytes(b, run, run_len);
	if (!rc)
		rc = lb_enc_bytes(b, proof, proof_len);
	if (!rc)
		rc = lb_enc_uvar(b, steps);
	return rc ? rc : lb_enc_bytes(b, program, program_len);
}

int mkt_check_prepay(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_oc_prepay p;
	return lb_oc_prepay_decode(&p, tx->payload, tx->payload_len, em);
}

enum { REC_OPEN = 0, REC_SETTLED = 1, REC_RECLAIMED = 2 };

struct prepay_rec {
	uint8_t payer[LB_ADDR_LEN];
	uint64_t budget, amount;
	uint8_t settled;
	bool has_expiry; /* trailing time_ms | expiry_s */
	uint64_t time_ms, expiry_s;
};

static int rec_get(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct prepay_rec *r)
{
	const uint8_t *p;
	size_t n;
	struct lb_dec d;
	int rc = lb_state_get(s, NS_PREPAY, id, LB_HASH_LEN, &p, &n);
	if (rc)
		return rc;
	lb_dec_init(&d, p, n, "prepayment", NULL);
	if (lb_dec_fixed(&d, "payer", r->payer, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "budget", UINT64_MAX, &r->budget) ||
	    lb_dec_uvar(&d, "amount", UINT64_MAX, &r->amount) ||
	    lb_dec_u8(&d, "settled", &r->settled))
		return LB_ECORRUPT;
	r->has_expiry = d.pos < d.len;
	if (r->has_expiry && (lb_dec_uvar(&d, "time", UINT64_MAX, &r->time_ms) ||
			      lb_dec_uvar(&d, "expiry", UINT64_MAX, &r->expiry_s)))
		return LB_ECORRUPT;
	return LB_OK;
}

static int rec_put(struct lb_state *s, const uint8_t id[LB_HASH_LEN], const struct prepay_rec *r)
{
	uint8_t tmp[96];
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	int rc;
	if ((rc = lb_enc_fixed(&b, r->payer, LB_ADDR_LEN)) || (rc = lb_enc_uvar(&b, r->budget)) ||
	    (rc = lb_enc_uvar(&b, r->amount)) || (rc = lb_enc_u8(&b, r->settled)))
		return rc;
	if (r->has_expiry &&
	    ((rc = lb_enc_uvar(&b, r->time_ms)) || (rc = lb_enc_uvar(&b, r->expiry_s))))
		return rc;
	return lb_state_put(s, NS_PREPAY, id, LB_HASH_LEN, tmp, b.len);
}

int mkt_apply_prepay(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	bool on = false;
	struct lb_oc_prepay pp;
	uint8_t lock[LB_ADDR_LEN];
	int rc = lb_oc_prepay_decode(&pp, c->tx->payload, c->tx->payload_len, c->em);
	uint64_t budget = pp.budget;
	if (rc)
		return rc;
	if ((rc = lb_mkt_config_load(c->state, &cfg, &on)))
		return rc;
	if (!on)
		return lb_errf(c->em, LB_EINVALID,
			       "compute.prepay: this chain has no market section (genesis \"market\"), "
			       "so no compute.step price");
	uint64_t amount = lb_mkt_onchain_fee(&cfg, budget);
	lb_mkt_prepay_addr(lock);
	if ((rc = lb_mkt_debit(c->state, c->sender_addr, LB_CSC, amount, c->em)))
		return lb_errwrap(c->em, "compute.prepay: %llu steps at %llu micro-CSC: ",
				  (unsigned long long)budget,
				  (unsigned long long)cfg.compute_step_price);
	if ((rc = lb_mkt_credit(c->state, lock, LB_CSC, amount, c->em)))
		return rc;
	struct prepay_rec rec = {.budget = budget, .amount = amount, .settled = REC_OPEN,
				 .has_expiry = pp.has_expiry, .time_ms = c->time_ms,
				 .expiry_s = pp.expiry_s};
	memcpy(rec.payer, c->sender_addr, LB_ADDR_LEN);
	return rec_put(c->state, c->tx->id, &rec);
}

json_t *mkt_json_prepay(const struct lb_tx *tx)
{
	struct lb_oc_prepay p;
	if (lb_oc_prepay_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *o = json_pack("{s:I}", "budget", (json_int_t)p.budget);
	if (o && p.has_expiry)
		json_object_set_new(o, "expiry_s", json_integer((json_int_t)p.expiry_s));
	return o;
}

int mkt_check_settle(const struct lb_tx *tx, struct lb_errmsg *em)
{
	(void)tx;
	(void)em;
	return LB_OK;
}

/* Run the cited run again: its step count in *steps. */
static int rerun(struct lb_apply_ctx *c, const struct lb_oc_run_tx *r, const uint8_t *prog,
		 size_t plen, uint64_t *steps)
{
	struct lb_oc_program *p = NULL;
	struct lb_oc_result res = {0};
	uint8_t h[LB_HASH_LEN];
	if (r->by_hash) {
		lb_oc_program_hash(h, prog, plen);
		if (!lb_ct_equal(h, r->hash, LB_HASH_LEN))
			return lb_errf(c->em, LB_EINVALID,
				       "compute.settle: the program given is not the one the run "
				       "names by hash (give the text of its compute.publish)");
	} else {
		prog = r->text;
		plen = r->text_len;
	}
	int rc = lb_oc_parse((const char *)prog, plen, &p, c->em);
	if (!rc)
		rc = lb_oc_run(p, r->in, r->nin, r->budget, LB_OC_MEM_MAX, &res, c->em);
	if (!rc)
		*steps = res.steps;
	lb_oc_result_clear(&res);
	lb_oc_program_free(p);
	return rc;
}

int mkt_apply_settle(struct lb_apply_ctx *c)
{
	struct lb_dec d;
	const uint8_t *raw, *proof, *prog;
	size_t rl, pl, gl;
	uint64_t claimed, steps = 0;
	struct lb_tx tx, ptx;
	struct lb_oc_run_tx r;
	struct prepay_rec rec;
	uint8_t lock[LB_ADDR_LEN];
	lb_dec_init(&d, c->tx->payload, c->tx->payload_len, "compute.settle", c->em);
	int rc = lb_dec_bytes(&d, "run", LB_TX_MAX_BYTES, &raw, &rl);
	if (!rc)
		rc = lb_dec_bytes(&d, "proof", LB_MKT_CITE_PROOF_MAX, &proof, &pl);
	if (!rc)
		rc = lb_dec_uvar(&d, "steps", LB_OC_STEPS_MAX, &claimed);
	if (!rc)
		rc = lb_dec_bytes(&d, "program", LB_OC_PROGRAM_MAX, &prog, &gl);
	if (!rc)
		rc = lb_dec_end(&d);
	if (rc)
		return rc;
	if ((rc = lb_apply_cite(c, "compute run", raw, rl, proof, pl, LB_CHAIN_BUSINESS,
				LB_TX_COMPUTE_RUN, &tx)))
		return rc;
	if ((rc = lb_oc_run_decode(&r, tx.payload, tx.payload_len, c->em)))
		return rc;
	if (!r.has_prepay) {
		rc = lb_errf(c->em, LB_EINVALID,
			     "compute.settle: the cited run cites no prepayment: it was free");
		goto out;
	}
	if ((rc = lb_tx_decode(&ptx, r.prepay_tx, r.prepay_tx_len, c->em)))
		goto out;
	if ((rc = rec_get(c->state, ptx.id, &rec))) {
		if (rc == LB_ENOTFOUND)
			rc = lb_errf(c->em, rc, "compute.settle: no prepayment of the cited run here");
		goto out;
	}
	if ((rc = rerun(c, &r, prog, gl, &steps)))
		goto out;
	if (claimed != steps) {
		rc = lb_errf(c->em, LB_EINVALID,
			     "compute.settle: claims %llu steps but the run used %llu",
			     (unsigned long long)claimed, (unsigned long long)steps);
		goto out;
	}
	if (rec.settled == REC_RECLAIMED) {
		rc = lb_errf(c->em, LB_EEXPIRED,
			     "compute.settle: the run's prepayment expired and its payer reclaimed "
			     "it: nothing is left to settle");
		goto out;
	}
	if (rec.settled) {
		rc = lb_errf(c->em, LB_EEXISTS,
			     "compute.settle: the run's prepayment was settled already");
		goto out;
	}
	uint64_t burn = rec.amount / rec.budget * steps; /* amount = budget x price exactly */
	lb_mkt_prepay_addr(lock);
	rec.settled = REC_SETTLED;
	if ((rc = lb_mkt_debit(c->state, lock, LB_CSC, rec.amount, c->em)) ||
	    (rc = lb_mkt_credit(c->state, rec.payer, LB_CSC, rec.amount - burn, c->em)) ||
	    (rc = lb_mkt_burn_compute(c->state, burn, c->em)) ||
	    (rc = rec_put(c->state, ptx.id, &rec)))
		goto out;
	rc = lb_state_put_u64(c->state, NS_SETTLED, tx.id, LB_HASH_LEN, c->height);
out:
	lb_oc_run_tx_clear(&r);
	return rc;
}

static int dec_reclaim(const struct lb_tx *tx, uint8_t id[LB_HASH_LEN], struct lb_errmsg *em)
{
	struct lb_dec d;
	lb_dec_init(&d, tx->payload, tx->payload_len, "compute.reclaim", em);
	int rc = lb_dec_fixed(&d, "prepayment tx id", id, LB_HASH_LEN);
	return rc ? rc : lb_dec_end(&d);
}

int mkt_check_reclaim(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	return dec_reclaim(tx, id, em);
}

int mkt_apply_reclaim(struct lb_apply_ctx *c)
{
	uint8_t id[LB_HASH_LEN], lock[LB_ADDR_LEN];
	struct prepay_rec rec;
	int rc = dec_reclaim(c->tx, id, c->em);
	if (rc)
		return rc;
	if ((rc = rec_get(c->state, id, &rec)) == LB_ENOTFOUND)
		return lb_errf(c->em, rc,
			       "compute.reclaim: no prepayment with this tx id on this chain (give "
			       "the compute.prepay tx id)");
	if (rc)
		return rc;
	if (memcmp(rec.payer, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "compute.reclaim: the prepayment was made by another account: only "
			       "its payer may reclaim it");
	if (rec.settled == REC_SETTLED)
		return lb_errf(c->em, LB_EEXISTS,
			       "compute.reclaim: a run used the prepayment and it was settled: its "
			       "unused steps were refunded then");
	if (rec.settled == REC_RECLAIMED)
		return lb_errf(c->em, LB_EEXISTS, "compute.reclaim: the prepayment was reclaimed "
						  "already");
	if (!rec.has_expiry)
		return lb_errf(c->em, LB_EINVALID,
			       "compute.reclaim: the prepayment carries no expiry (made before "
			       "reclaims existed): it never expires; cite it in a run, whose "
			       "settlement refunds the unused steps");
	uint64_t from = lb_oc_prepay_reclaim_from(rec.time_ms, rec.expiry_s);
	if (c->time_ms < from)
		return lb_errf(c->em, LB_EINVALID,
			       "compute.reclaim: the prepayment expires at block time %llu ms (its "
			       "block's time + %llu s); this block's time is %llu ms: a run may "
			       "still be settled from it until then",
			       (unsigned long long)from, (unsigned long long)rec.expiry_s,
			       (unsigned long long)c->time_ms);
	lb_mkt_prepay_addr(lock);
	rec.settled = REC_RECLAIMED;
	if ((rc = lb_mkt_debit(c->state, lock, LB_CSC, rec.amount, c->em)) ||
	    (rc = lb_mkt_credit(c->state, rec.payer, LB_CSC, rec.amount, c->em)))
		return rc;
	return rec_put(c->state, id, &rec);
}

json_t *mkt_json_reclaim(const struct lb_tx *tx)
{
	uint8_t id[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 1];
	if (dec_reclaim(tx, id, NULL))
		return NULL;
	lb_hex_encode(hex, id, LB_HASH_LEN);
	return json_pack("{s:s}", "prepayment", hex);
}
