/*
 * Cross-chain citations for tx handlers: a tx of one chain cites a tx of another by its bytes
 * and an inclusion proof anchored in one of the citing chain's own earlier blocks, which every
 * node and every replay sees alike (lb_state_block_hash).
 */
#include <string.h>

#include "leben/ledger.h"
#include "leben/tx.h"

int lb_ledger_cite(struct lb_apply_ctx *c, const char *what, const uint8_t *raw, size_t rawlen,
		   const uint8_t *proof, size_t plen, int want_chain, uint32_t want_type,
		   struct lb_tx *tx)
{
	struct lb_proof_info info;
	uint8_t hash[LB_HASH_LEN];
	int here = c->tx->chain, rc;
	if (lb_proof_verify(proof, plen, NULL, &info, c->em)) {
		lb_errwrap(c->em, "the proof of the %s does not check out: ", what);
		return LB_EINVALID;
	}
	if (info.chain != want_chain)
		return lb_errf(c->em, LB_EINVALID, "the proof of the %s is for a %s-chain tx, not %s",
			       what, lb_chain_name(info.chain), lb_chain_name(want_chain));
	if (!info.anchored || info.anchor_chain != here)
		return lb_errf(c->em, LB_EINVALID,
			       "the proof of the %s must be anchored in a %s block (ask the node for "
			       "the proof with anchor=%s)",
			       what, lb_chain_name(here), lb_chain_name(here));
	if (info.anchor_height >= c->height ||
	    (rc = lb_state_block_hash(c->state, info.anchor_height, hash)))
		return lb_errf(c->em, LB_EINVALID,
			       "the proof of the %s is anchored in %s block %llu, which this chain "
			       "does not have yet",
			       what, lb_chain_name(here), (unsigned long long)info.anchor_height);
	if (!lb_ct_equal(hash, info.anchor_block_hash, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "the proof of the %s is anchored in a block that is not %s block %llu "
			       "of this chain",
			       what, lb_chain_name(here), (unsigned long long)info.anchor_height);
	if (!info.tx_valid)
		return lb_errf(c->em, LB_EINVALID,
			       "the %s is in %s block %llu but marked invalid there: it changed nothing",
			       what, lb_chain_name(info.chain), (unsigned long long)info.height);
	struct lb_errmsg e;
	lb_errclear(&e);
	if (lb_tx_decode(tx, raw, rawlen, &e))
		return lb_errf(c->em, LB_EMALFORMED, "the %s tx bytes do not decode: %s", what, e.text);
	if (memcmp(tx->id, info.tx_id, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID, "the %s tx bytes are not the tx the proof is for",
			       what);
	if (tx->chain != want_chain || (want_type && tx->type != want_type)) {
		const struct lb_txtype *t = lb_txtype_find(want_type);
		return lb_errf(c->em, LB_EINVALID, "the cited tx is not a %s tx",
			       t ? t->name : "expected");
	}
	return LB_OK;
}
