/*
 * Block headers (canonical encoding, hash, validity bitmap), the Merkle tree over a block's
 * tx ids (RFC 6962 shape with BLAKE2b-256) and offline verification of inclusion proofs,
 * optionally carried on to the anchor another chain holds.
 */
#include <string.h>

#include "leben/codec.h"
#include "leben/tx.h"

int lb_anchor_index(int chain, int other)
{
	if (chain == other || other < 0 || other >= LB_CHAIN_COUNT)
		return -1;
	return other < chain ? other : other - 1;
}

int lb_header_encode(struct lb_buf *b, const struct lb_block_header *h, bool with_sig)
{
	int rc;
	if ((rc = lb_enc_u8(b, h->version)) || (rc = lb_enc_u8(b, h->chain)) ||
	    (rc = lb_enc_uvar(b, h->height)) || (rc = lb_enc_uvar(b, h->time_ms)) ||
	    (rc = lb_enc_fixed(b, h->prev_hash, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, h->tx_root, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, h->app_hash, LB_HASH_LEN)))
		return rc;
	for (int i = 0; i < 2; i++)
		if ((rc = lb_enc_uvar(b, h->anchors[i].height)) ||
		    (rc = lb_enc_fixed(b, h->anchors[i].hash, LB_HASH_LEN)))
			return rc;
	if ((rc = lb_enc_uvar(b, h->tx_count)) ||
	    (rc = lb_enc_bytes(b, h->validity, h->bitmap_len)) ||
	    (rc = lb_enc_fixed(b, h->proposer, LB_PUBKEY_LEN)))
		return rc;
	return with_sig ? lb_enc_fixed(b, h->sig, LB_SIG_LEN) : LB_OK;
}

int lb_header_decode(struct lb_block_header *h, const uint8_t *p, size_t len,
		     struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, len, "block header", em);
	memset(h, 0, sizeof *h);
	if ((rc = lb_dec_u8(&d, "version", &h->version)))
		return rc;
	if (h->version != 1)
		return lb_dec_fail(&d, LB_EMALFORMED, "version", "version %u is not supported",
				   h->version);
	if ((rc = lb_dec_u8(&d, "chain", &h->chain)))
		return rc;
	if (h->chain >= LB_CHAIN_COUNT)
		return lb_dec_fail(&d, LB_EMALFORMED, "chain", "unknown chain %u", h->chain);
	if ((rc = lb_dec_uvar(&d, "height", UINT64_MAX, &h->height)) ||
	    (rc = lb_dec_uvar(&d, "time", UINT64_MAX, &h->time_ms)) ||
	    (rc = lb_dec_fixed(&d, "prev_hash", h->prev_hash, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "tx_root", h->tx_root, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "app_hash", h->app_hash, LB_HASH_LEN)))
		return rc;
	for (int i = 0; i < 2; i++)
		if ((rc = lb_dec_uvar(&d, "anchor height", UINT64_MAX, &h->anchors[i].height)) ||
		    (rc = lb_dec_fixed(&d, "anchor hash", h->anchors[i].hash, LB_HASH_LEN)))
			return rc;
	if ((rc = lb_dec_uvar(&d, "tx_count", LB_BLOCK_MAX_TXS, &h->tx_count)))
		return rc;
	const uint8_t *bm;
	if ((rc = lb_dec_bytes(&d, "validity", LB_BLOCK_MAX_TXS / 8, &bm, &h->bitmap_len)))
		return rc;
	size_t want = (size_t)(h->tx_count + 7) / 8;
	if (h->bitmap_len != 0 && h->bitmap_len != want)
		return lb_dec_fail(&d, LB_EMALFORMED, "validity",
				   "bitmap of %zu bytes for %llu txs (must be 0 or %zu)",
				   h->bitmap_len, (unsigned long long)h->tx_count, want);
	memcpy(h->validity, bm, h->bitmap_len);
	if (h->bitmap_len) {
		bool any = false;
		for (size_t i = 0; i < h->bitmap_len; i++)
			any |= h->validity[i] != 0;
		if (!any)
			return lb_dec_fail(&d, LB_EMALFORMED, "validity",
					   "an all-valid block must have an empty bitmap");
		if (h->tx_count % 8 && h->validity[want - 1] >> (h->tx_count % 8))
			return lb_dec_fail(&d, LB_EMALFORMED, "validity",
					   "bits set past the last tx");
	}
	if ((rc = lb_dec_fixed(&d, "proposer", h->proposer, LB_PUBKEY_LEN)) ||
	    (rc = lb_dec_fixed(&d, "signature", h->sig, LB_SIG_LEN)))
		return rc;
	return lb_dec_end(&d);
}

void lb_header_hash(const struct lb_block_header *h, uint8_t out[LB_HASH_LEN])
{
	uint8_t tmp[LB_HEADER_MAX_BYTES];
	struct lb_buf b = {.data = NULL, .len = 0, .cap = 0, .max = sizeof tmp};
	/* encode into a stack buffer: the header never exceeds LB_HEADER_MAX_BYTES */
	b.data = tmp;
	b.cap = sizeof tmp - 1;
	lb_header_encode(&b, h, false);
	lb_hash_domain(out, "LEBEN-block-v1", tmp, b.len);
}

bool lb_header_tx_is_valid(const struct lb_block_header *h, uint64_t index)
{
	if (!h->bitmap_len)
		return true;
	return !(h->validity[index / 8] >> (index % 8) & 1);
}

bool lb_header_is_unsigned(const struct lb_block_header *h)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < LB_PUBKEY_LEN; i++)
		acc |= h->proposer[i];
	for (size_t i = 0; i < LB_SIG_LEN; i++)
		acc |= h->sig[i];
	return acc == 0;
}

/* ---- Merkle tree ------------------------------------------------------------------------- */

static void leaf_hash(uint8_t out[LB_HASH_LEN], const uint8_t id[LB_HASH_LEN])
{
	uint8_t in[1 + LB_HASH_LEN];
	in[0] = 0;
	memcpy(in + 1, id, LB_HASH_LEN);
	lb_hash(out, in, sizeof in);
}

static void node_hash(uint8_t out[LB_HASH_LEN], const uint8_t l[LB_HASH_LEN],
		      const uint8_t r[LB_HASH_LEN])
{
	uint8_t in[1 + 2 * LB_HASH_LEN];
	in[0] = 1;
	memcpy(in + 1, l, LB_HASH_LEN);
	memcpy(in + 1 + LB_HASH_LEN, r, LB_HASH_LEN);
	lb_hash(out, in, sizeof in);
}

static size_t split_point(size_t n)
{
	size_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static void mth(const uint8_t (*ids)[LB_HASH_LEN], size_t n, uint8_t out[LB_HASH_LEN])
{
	if (n == 1) {
		leaf_hash(out, ids[0]);
		return;
	}
	size_t k = split_point(n);
	uint8_t l[LB_HASH_LEN], r[LB_HASH_LEN];
	mth(ids, k, l);
	mth(ids + k, n - k, r);
	node_hash(out, l, r);
}

void lb_merkle_root(const uint8_t (*ids)[LB_HASH_LEN], size_t n, uint8_t root[LB_HASH_LEN])
{
	if (n == 0)
		lb_hash(root, NULL, 0);
	else
		mth(ids, n, root);
}

static void path_rec(const uint8_t (*ids)[LB_HASH_LEN], size_t n, size_t m,
		     uint8_t (*path)[LB_HASH_LEN], size_t *len)
{
	if (n <= 1)
		return;
	size_t k = split_point(n);
	if (m < k) {
		path_rec(ids, k, m, path, len);
		mth(ids + k, n - k, path[(*len)++]);
	} else {
		path_rec(ids + k, n - k, m - k, path, len);
		mth(ids, k, path[(*len)++]);
	}
}

int lb_merkle_path(const uint8_t (*ids)[LB_HASH_LEN], size_t n, size_t idx,
		   uint8_t (*path)[LB_HASH_LEN], size_t *path_len)
{
	if (idx >= n)
		return LB_EINVALID;
	*path_len = 0;
	path_rec(ids, n, idx, path, path_len);
	return LB_OK;
}

bool lb_merkle_path_is_valid(const uint8_t leaf_id[LB_HASH_LEN], size_t idx, size_t n,
			     const uint8_t (*path)[LB_HASH_LEN], size_t path_len,
			     const uint8_t root[LB_HASH_LEN])
{
	if (idx >= n)
		return false;
	size_t fn = idx, sn = n - 1;
	uint8_t r[LB_HASH_LEN];
	leaf_hash(r, leaf_id);
	for (size_t i = 0; i < path_len; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			node_hash(r, path[i], r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			node_hash(r, r, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, LB_HASH_LEN) == 0;
}

/* ---- proofs ---------------------------------------------------------------------------- */

/* Decode one signed header field and check its signature. */
static int proof_header(struct lb_dec *d, const char *field, struct lb_block_header *h,
			uint8_t hash[LB_HASH_LEN], const uint8_t *want_proposer)
{
	const uint8_t *p;
	size_t n;
	int rc = lb_dec_bytes(d, field, LB_HEADER_MAX_BYTES, &p, &n);
	if (rc)
		return rc;
	if ((rc = lb_header_decode(h, p, n, d->em)))
		return lb_errwrap(d->em, "proof: %s: ", field);
	lb_header_hash(h, hash);
	if (want_proposer && memcmp(want_proposer, h->proposer, LB_PUBKEY_LEN))
		return lb_errf(d->em, LB_EUNAUTH,
			       "proof: %s of %s block %llu was made by another node than the one "
			       "you trust",
			       field, lb_chain_name(h->chain), (unsigned long long)h->height);
	if (!lb_header_is_unsigned(h) && !lb_sig_is_valid(h->sig, hash, LB_HASH_LEN, h->proposer))
		return lb_errf(d->em, LB_EBADSIG,
			       "proof: %s of %s block %llu has a bad proposer signature", field,
			       lb_chain_name(h->chain), (unsigned long long)h->height);
	return LB_OK;
}

int lb_proof_verify(const uint8_t *proof, size_t len, const uint8_t *want_proposer,
		    struct lb_proof_info *info, struct lb_errmsg *em)
{
	struct lb_dec d;
	struct lb_block_header h;
	uint8_t hash[LB_HASH_LEN], path[64][LB_HASH_LEN];
	uint8_t ver;
	uint64_t idx, plen, nlinks;
	int rc;
	memset(info, 0, sizeof *info);
	lb_dec_init(&d, proof, len, "proof", em);
	if ((rc = lb_dec_u8(&d, "version", &ver)))
		return rc;
	if (ver != 1)
		return lb_dec_fail(&d, LB_EMALFORMED, "version", "proof version %u unknown", ver);
	if ((rc = proof_header(&d, "header", &h, hash, want_proposer)) ||
	    (rc = lb_dec_uvar(&d, "index", LB_BLOCK_MAX_TXS - 1, &idx)) ||
	    (rc = lb_dec_fixed(&d, "tx_id", info->tx_id, LB_HASH_LEN)) ||
	    (rc = lb_dec_uvar(&d, "path length", 64, &plen)))
		return rc;
	for (uint64_t i = 0; i < plen; i++)
		if ((rc = lb_dec_fixed(&d, "path", path[i], LB_HASH_LEN)))
			return rc;
	if (idx >= h.tx_count ||
	    !lb_merkle_path_is_valid(info->tx_id, (size_t)idx, (size_t)h.tx_count,
				     (const uint8_t(*)[LB_HASH_LEN])path, (size_t)plen, h.tx_root))
		return lb_errf(em, LB_EINVALID,
			       "proof: the Merkle path does not lead from tx to the root of %s "
			       "block %llu: the tx is not proven to be in that block",
			       lb_chain_name(h.chain), (unsigned long long)h.height);
	info->chain = h.chain;
	info->height = h.height;
	info->time_ms = h.time_ms;
	info->index = idx;
	info->tx_valid = lb_header_tx_is_valid(&h, idx);
	memcpy(info->block_hash, hash, LB_HASH_LEN);
	memcpy(info->proposer, h.proposer, LB_PUBKEY_LEN);
	if ((rc = lb_dec_uvar(&d, "links", UINT32_MAX, &nlinks)))
		return rc;
	if (nlinks == 0)
		return lb_dec_end(&d);
	/* nlinks - 1 headers of the same chain, then the anchoring header of another chain */
	uint8_t tip[LB_HASH_LEN];
	uint64_t height = h.height;
	memcpy(tip, hash, LB_HASH_LEN);
	for (uint64_t i = 0; i + 1 < nlinks; i++) {
		if ((rc = proof_header(&d, "link", &h, hash, want_proposer)))
			return rc;
		if (h.chain != info->chain || h.height != height + 1 ||
		    memcmp(h.prev_hash, tip, LB_HASH_LEN))
			return lb_errf(em, LB_EINVALID,
				       "proof: link %llu is not the block after %s block %llu",
				       (unsigned long long)i + 1, lb_chain_name(info->chain),
				       (unsigned long long)height);
		height = h.height;
		memcpy(tip, hash, LB_HASH_LEN);
	}
	if ((rc = proof_header(&d, "anchor", &h, hash, want_proposer)))
		return rc;
	int ai = lb_anchor_index(h.chain, info->chain);
	if (ai < 0 || h.anchors[ai].height != height ||
	    memcmp(h.anchors[ai].hash, tip, LB_HASH_LEN))
		return lb_errf(em, LB_EINVALID,
			       "proof: %s block %llu does not anchor %s block %llu",
			       lb_chain_name(h.chain), (unsigned long long)h.height,
			       lb_chain_name(info->chain), (unsigned long long)height);
	info->anchored = true;
	info->anchor_chain = h.chain;
	info->anchor_height = h.height;
	memcpy(info->anchor_block_hash, hash, LB_HASH_LEN);
	return lb_dec_end(&d);
}
