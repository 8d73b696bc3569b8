/*
 * Transactions: canonical encoding, decoding (canonical form only), signing and ids, plus
 * the payload builders of the spine's own tx types and the chain and role name tables.
 */
#include <string.h>

#include "leben/codec.h"
#include "leben/tx.h"

static const char *const chain_names[LB_CHAIN_COUNT] = {"settlement", "directory", "business"};

const char *lb_chain_name(int chain)
{
	return chain >= 0 && chain < LB_CHAIN_COUNT ? chain_names[chain] : "?";
}

int lb_chain_parse(const char *name)
{
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		if (name && !strcmp(name, chain_names[i]))
			return i;
	return -1;
}

static const char *const role_names[LB_ROLE_MAX_ + 1] = {
	NULL,
	"patient",
	"provider",
	"knowledge-sharer",
	"data-contributor",
	"technology-provider",
	"industry-institution",
	"credit-partner",
	"auditor",
};

const char *lb_role_name(int role)
{
	return role >= 1 && role <= LB_ROLE_MAX_ ? role_names[role] : "?";
}

int lb_role_parse(const char *name)
{
	for (int i = 1; i <= LB_ROLE_MAX_; i++)
		if (name && !strcmp(name, role_names[i]))
			return i;
	return -1;
}

/* Layout: version u8, chain u8, type uvar, sender[32], nonce uvar, fee uvar, expires uvar,
 * payload bytes, then sig[64]. */
static int encode_unsigned(struct lb_buf *b, const struct lb_tx *t, const uint8_t *sender)
{
	int rc;
	if ((rc = lb_enc_u8(b, t->version)) || (rc = lb_enc_u8(b, t->chain)) ||
	    (rc = lb_enc_uvar(b, t->type)) || (rc = lb_enc_fixed(b, sender, LB_PUBKEY_LEN)) ||
	    (rc = lb_enc_uvar(b, t->nonce)) || (rc = lb_enc_uvar(b, t->fee)) ||
	    (rc = lb_enc_uvar(b, t->expires_ms)) ||
	    (rc = lb_enc_bytes(b, t->payload, t->payload_len)))
		return rc;
	return LB_OK;
}

int lb_tx_decode(struct lb_tx *tx, const uint8_t *raw, size_t len, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint64_t v;
	int rc;
	if (len > LB_TX_MAX_BYTES)
		return lb_errf(em, LB_ETOOBIG, "tx: %zu bytes is over the limit of %d bytes", len,
			       LB_TX_MAX_BYTES);
	lb_dec_init(&d, raw, len, "tx", em);
	if ((rc = lb_dec_u8(&d, "version", &tx->version)))
		return rc;
	if (tx->version != LB_TX_VERSION)
		return lb_dec_fail(&d, LB_EMALFORMED, "version", "version %u is not supported (%d is)",
				   tx->version, LB_TX_VERSION);
	if ((rc = lb_dec_u8(&d, "chain", &tx->chain)))
		return rc;
	if (tx->chain >= LB_CHAIN_COUNT)
		return lb_dec_fail(&d, LB_EMALFORMED, "chain", "unknown chain %u", tx->chain);
	if ((rc = lb_dec_uvar(&d, "type", UINT32_MAX, &v)))
		return rc;
	tx->type = (uint32_t)v;
	if ((rc = lb_dec_fixed(&d, "sender", tx->sender, LB_PUBKEY_LEN)) ||
	    (rc = lb_dec_uvar(&d, "nonce", UINT64_MAX, &tx->nonce)) ||
	    (rc = lb_dec_uvar(&d, "fee", UINT64_MAX, &tx->fee)) ||
	    (rc = lb_dec_uvar(&d, "expires", UINT64_MAX, &tx->expires_ms)) ||
	    (rc = lb_dec_bytes(&d, "payload", LB_TX_PAYLOAD_MAX, &tx->payload, &tx->payload_len)))
		return rc;
	tx->unsigned_len = d.pos;
	if ((rc = lb_dec_fixed(&d, "signature", tx->sig, LB_SIG_LEN)) || (rc = lb_dec_end(&d)))
		return rc;
	lb_hash(tx->id, raw, len);
	return LB_OK;
}

void lb_tx_sighash(uint8_t out[LB_HASH_LEN], const uint8_t *raw, size_t unsigned_len,
		   const uint8_t network[LB_HASH_LEN])
{
	struct lb_hasher h;
	lb_hasher_init(&h, "LEBEN-tx-v1");
	lb_hasher_update(&h, network, LB_HASH_LEN);
	lb_hasher_update(&h, raw, unsigned_len);
	lb_hasher_final(&h, out);
}

bool lb_tx_sig_is_valid(const struct lb_tx *tx, const uint8_t *raw,
			const uint8_t network[LB_HASH_LEN])
{
	uint8_t h[LB_HASH_LEN];
	lb_tx_sighash(h, raw, tx->unsigned_len, network);
	return lb_sig_is_valid(tx->sig, h, sizeof h, tx->sender);
}

int lb_tx_build(struct lb_buf *out, const struct lb_tx *t, const uint8_t network[LB_HASH_LEN],
		const struct lb_keypair *kp, uint8_t id[LB_HASH_LEN])
{
	size_t start = out->len;
	int rc = encode_unsigned(out, t, kp->pk);
	if (rc)
		return rc;
	uint8_t h[LB_HASH_LEN], sig[LB_SIG_LEN];
	lb_tx_sighash(h, out->data + start, out->len - start, network);
	lb_sign(sig, h, sizeof h, kp);
	if ((rc = lb_enc_fixed(out, sig, sizeof sig)))
		return rc;
	if (id)
		lb_hash(id, out->data + start, out->len - start);
	return LB_OK;
}

int lb_payload_issue(struct lb_buf *b, const uint8_t to[LB_ADDR_LEN], uint64_t amount)
{
	int rc = lb_enc_fixed(b, to, LB_ADDR_LEN);
	return rc ? rc : lb_enc_uvar(b, amount);
}

int lb_payload_transfer(struct lb_buf *b, const uint8_t to[LB_ADDR_LEN], int asset,
			uint64_t amount, const char *memo)
{
	int rc;
	if ((rc = lb_enc_fixed(b, to, LB_ADDR_LEN)) || (rc = lb_enc_u8(b, (uint8_t)asset)) ||
	    (rc = lb_enc_uvar(b, amount)) || (rc = lb_enc_str(b, memo ? memo : "")))
		return rc;
	return LB_OK;
}

int lb_payload_burn(struct lb_buf *b, uint64_t amount)
{
	return lb_enc_uvar(b, amount);
}

int lb_payload_convert(struct lb_buf *b, uint64_t csc_amount)
{
	return lb_enc_uvar(b, csc_amount);
}

int lb_payload_asset_register(struct lb_buf *b, const uint8_t content_hash[LB_HASH_LEN],
			      const void *meta, size_t meta_len)
{
	int rc = lb_enc_fixed(b, content_hash, LB_HASH_LEN);
	return rc ? rc : lb_enc_bytes(b, meta, meta_len);
}

int lb_payload_asset_update(struct lb_buf *b, const uint8_t asset_id[LB_HASH_LEN],
			    const uint8_t content_hash[LB_HASH_LEN], const void *meta,
			    size_t meta_len)
{
	int rc = lb_enc_fixed(b, asset_id, LB_HASH_LEN);
	return rc ? rc : lb_payload_asset_register(b, content_hash, meta, meta_len);
}

int lb_payload_asset_retire(struct lb_buf *b, const uint8_t asset_id[LB_HASH_LEN],
			    const char *reason)
{
	int rc = lb_enc_fixed(b, asset_id, LB_HASH_LEN);
	return rc ? rc : lb_enc_str(b, reason ? reason : "");
}

int lb_payload_identity(struct lb_buf *b, int role, const char *name, const void *meta,
			size_t meta_len)
{
	int rc;
	if ((rc = lb_enc_u8(b, (uint8_t)role)) || (rc = lb_enc_str(b, name)) ||
	    (rc = lb_enc_bytes(b, meta, meta_len)))
		return rc;
	return LB_OK;
}

int lb_payload_record(struct lb_buf *b, const char *kind, const uint8_t subject[LB_HASH_LEN],
		      const void *data, size_t data_len)
{
	int rc;
	if ((rc = lb_enc_str(b, kind)) || (rc = lb_enc_fixed(b, subject, LB_HASH_LEN)) ||
	    (rc = lb_enc_bytes(b, data, data_len)))
		return rc;
	return LB_OK;
}
