/*
 * The spine's own tx types, registered as rows of the tx-type table like any other module's:
 * settlement (issue, transfer, burn, convert), directory (asset.register/update/retire) and
 * business (identity.register, record).
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

/* ---- balances ------------------------------------------------------------------------------ */

int acct_balances(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t *asc,
		  uint64_t *csc)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, "bal", addr, LB_ADDR_LEN, &v, &n);
	if (rc == LB_ENOTFOUND) {
		*asc = *csc = 0;
		return LB_OK;
	}
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "balance", NULL);
	if (lb_dec_uvar(&d, "asc", UINT64_MAX, asc) || lb_dec_uvar(&d, "csc", UINT64_MAX, csc) ||
	    lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

int acct_set_balances(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t asc,
		      uint64_t csc)
{
	uint8_t tmp[24];
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	lb_enc_uvar(&b, asc);
	lb_enc_uvar(&b, csc);
	if (asc == 0 && csc == 0)
		return lb_state_del(s, "bal", addr, LB_ADDR_LEN);
	return lb_state_put(s, "bal", addr, LB_ADDR_LEN, tmp, b.len);
}

static const char *fmt_amount(uint64_t v, char *buf, size_t n)
{
	snprintf(buf, n, "%llu.%06llu", (unsigned long long)(v / 1000000),
		 (unsigned long long)(v % 1000000));
	return buf;
}

static const char *asset_name(int a)
{
	return a == LB_ASC ? "ASC" : "CSC";
}

/* Move amount of asset from -> to (from NULL: mint; to NULL: burn), updating supply. */
static int move(struct lb_apply_ctx *c, const uint8_t *from, const uint8_t *to, int asset,
		uint64_t amount)
{
	uint64_t a, k;
	char have[32], need[32];
	int rc;
	if (from) {
		if ((rc = acct_balances(c->state, from, &a, &k)))
			return lb_errf(c->em, rc, "reading balance failed");
		uint64_t *bal = asset == LB_ASC ? &a : &k;
		if (*bal < amount)
			return lb_errf(c->em, LB_EFUNDS, "balance is %s %s but %s %s is needed",
				       fmt_amount(*bal, have, sizeof have), asset_name(asset),
				       fmt_amount(amount, need, sizeof need), asset_name(asset));
		*bal -= amount;
		if ((rc = acct_set_balances(c->state, from, a, k)))
			return lb_errf(c->em, rc, "writing balance failed");
	}
	if (to) {
		if ((rc = acct_balances(c->state, to, &a, &k)))
			return lb_errf(c->em, rc, "reading balance failed");
		uint64_t *bal = asset == LB_ASC ? &a : &k;
		if (*bal > UINT64_MAX - amount)
			return lb_errf(c->em, LB_ERANGE, "recipient balance would overflow");
		*bal += amount;
		if ((rc = acct_set_balances(c->state, to, a, k)))
			return lb_errf(c->em, rc, "writing balance failed");
	}
	if (!from || !to) {
		const char *key = asset == LB_ASC ? "asc" : "csc";
		uint64_t sup;
		if ((rc = lb_state_get_u64(c->state, "supply", key, 3, 0, &sup)))
			return lb_errf(c->em, rc, "reading supply failed");
		if (!from && sup > UINT64_MAX - amount)
			return lb_errf(c->em, LB_ERANGE, "%s supply would overflow", asset_name(asset));
		sup = from ? sup - (amount <= sup ? amount : sup) : sup + amount;
		if ((rc = lb_state_put_u64(c->state, "supply", key, 3, sup)))
			return lb_errf(c->em, rc, "writing supply failed");
	}
	return LB_OK;
}

int ledger_charge_fee(struct lb_apply_ctx *c, uint64_t fee)
{
	int rc = move(c, c->sender_addr, NULL, LB_CSC, fee);
	if (rc)
		lb_errwrap(c->em, "cannot pay the fee: ");
	return rc;
}

/* ---- payload decoding ------------------------------------------------------------------------ */

struct p_transfer {
	uint8_t to[LB_ADDR_LEN];
	uint8_t asset;
	uint64_t amount;
	char memo[LB_MEMO_MAX + 1];
};

static int dec_transfer(const struct lb_tx *tx, struct p_transfer *p, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "transfer payload", em);
	if ((rc = lb_dec_fixed(&d, "to", p->to, LB_ADDR_LEN)) ||
	    (rc = lb_dec_u8(&d, "asset", &p->asset)))
		return rc;
	if (p->asset != LB_ASC && p->asset != LB_CSC)
		return lb_dec_fail(&d, LB_EMALFORMED, "asset", "asset %u is neither ASC (1) nor CSC (2)",
				   p->asset);
	if ((rc = lb_dec_uvar(&d, "amount", UINT64_MAX, &p->amount)) ||
	    (rc = lb_dec_str(&d, "memo", LB_MEMO_MAX, p->memo, sizeof p->memo)))
		return rc;
	if (p->amount == 0)
		return lb_errf(em, LB_EINVALID, "transfer: the amount must be above zero");
	return lb_dec_end(&d);
}

/* issue: to[20] amount */
static int dec_issue(const struct lb_tx *tx, uint8_t to[LB_ADDR_LEN], uint64_t *amount,
		     struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "issue payload", em);
	if ((rc = lb_dec_fixed(&d, "to", to, LB_ADDR_LEN)) ||
	    (rc = lb_dec_uvar(&d, "amount", UINT64_MAX, amount)) || (rc = lb_dec_end(&d)))
		return rc;
	if (*amount == 0)
		return lb_errf(em, LB_EINVALID, "issue: the amount must be above zero");
	return LB_OK;
}

static int dec_amount(const struct lb_tx *tx, const char *what, uint64_t *amount,
		      struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, what, em);
	if ((rc = lb_dec_uvar(&d, "amount", UINT64_MAX, amount)) || (rc = lb_dec_end(&d)))
		return rc;
	if (*amount == 0)
		return lb_errf(em, LB_EINVALID, "%s: the amount must be above zero", what);
	return LB_OK;
}

static json_t *addr_json(const uint8_t a[LB_ADDR_LEN])
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, a);
	return json_string(t);
}

json_t *ledger_hex_json(const uint8_t *p, size_t n)
{
	char *h = lb_malloc(2 * n + 1);
	if (!h)
		return json_null();
	lb_hex_encode(h, p, n);
	json_t *j = json_string(h);
	lb_free(h);
	return j;
}

/* ---- settlement ------------------------------------------------------------------------------ */

static int check_issue(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint8_t to[LB_ADDR_LEN];
	uint64_t amount;
	return dec_issue(tx, to, &amount, em);
}

static int apply_issue(struct lb_apply_ctx *c)
{
	uint8_t to[LB_ADDR_LEN];
	uint64_t amount, partner;
	char addr[LB_ADDR_TEXT_LEN + 1];
	int rc = dec_issue(c->tx, to, &amount, c->em);
	if (rc)
		return rc;
	if ((rc = lb_state_get_u64(c->state, "partner", c->sender_addr, LB_ADDR_LEN, 0, &partner)))
		return lb_errf(c->em, rc, "reading credit partners failed");
	if (!partner) {
		lb_addr_encode(addr, c->sender_addr);
		return lb_errf(c->em, LB_EUNAUTH,
			       "%s is not an authorised credit partner: only credit partners named "
			       "in genesis may issue ASC",
			       addr);
	}
	return move(c, NULL, to, LB_ASC, amount);
}

static json_t *json_issue(const struct lb_tx *tx)
{
	uint8_t to[LB_ADDR_LEN];
	uint64_t amount;
	if (dec_issue(tx, to, &amount, NULL))
		return NULL;
	return json_pack("{s:o,s:I}", "to", addr_json(to), "amount", (json_int_t)amount);
}

static int check_transfer(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct p_transfer p;
	return dec_transfer(tx, &p, em);
}

static int apply_transfer(struct lb_apply_ctx *c)
{
	struct p_transfer p;
	int rc = dec_transfer(c->tx, &p, c->em);
	return rc ? rc : move(c, c->sender_addr, p.to, p.asset, p.amount);
}

static json_t *json_transfer(const struct lb_tx *tx)
{
	struct p_transfer p;
	if (dec_transfer(tx, &p, NULL))
		return NULL;
	return json_pack("{s:o,s:s,s:I,s:s}", "to", addr_json(p.to), "asset",
			 p.asset == LB_ASC ? "ASC" : "CSC", "amount", (json_int_t)p.amount, "memo",
			 p.memo);
}

static int check_burn(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint64_t a;
	return dec_amount(tx, "burn", &a, em);
}

static int apply_burn(struct lb_apply_ctx *c)
{
	uint64_t a;
	int rc = dec_amount(c->tx, "burn", &a, c->em);
	return rc ? rc : move(c, c->sender_addr, NULL, LB_CSC, a);
}

static int check_convert(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint64_t a;
	return dec_amount(tx, "convert", &a, em);
}

static int apply_convert(struct lb_apply_ctx *c)
{
	uint64_t csc, per_csc, per_asc;
	int rc = dec_amount(c->tx, "convert", &csc, c->em);
	if (rc)
		return rc;
	if ((rc = lb_state_get_u64(c->state, "param", "convert.csc", 11, 100, &per_csc)) ||
	    (rc = lb_state_get_u64(c->state, "param", "convert.asc", 11, 1, &per_asc)))
		return lb_errf(c->em, rc, "reading the conversion rate failed");
	__extension__ typedef unsigned __int128 u128;
	u128 asc = (u128)csc * per_asc / per_csc;
	if (asc == 0)
		return lb_errf(c->em, LB_EINVALID,
			       "converting %llu micro-CSC gives less than one micro-ASC at the rate "
			       "of %llu CSC for %llu ASC",
			       (unsigned long long)csc, (unsigned long long)per_csc,
			       (unsigned long long)per_asc);
	if (asc > UINT64_MAX)
		return lb_errf(c->em, LB_ERANGE, "conversion result is too large");
	if ((rc = move(c, c->sender_addr, NULL, LB_CSC, csc)))
		return rc;
	return move(c, NULL, c->sender_addr, LB_ASC, (uint64_t)asc);
}

static json_t *json_amount(const struct lb_tx *tx)
{
	uint64_t a;
	if (dec_amount(tx, "amount", &a, NULL))
		return NULL;
	return json_pack("{s:I}", "amount", (json_int_t)a);
}

/* ---- directory --------------------------------------------------------------------------------- */

struct p_asset {
	uint8_t asset_id[LB_HASH_LEN];    /* update/retire */
	uint8_t content[LB_HASH_LEN];     /* register/update */
	const uint8_t *meta;
	size_t meta_len;
	char reason[LB_MEMO_MAX + 1];     /* retire */
};

static int dec_asset(const struct lb_tx *tx, struct p_asset *p, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "asset payload", em);
	if (tx->type != LB_TX_ASSET_REGISTER &&
	    (rc = lb_dec_fixed(&d, "asset_id", p->asset_id, LB_HASH_LEN)))
		return rc;
	if (tx->type == LB_TX_ASSET_RETIRE) {
		if ((rc = lb_dec_str(&d, "reason", LB_MEMO_MAX, p->reason, sizeof p->reason)))
			return rc;
	} else if ((rc = lb_dec_fixed(&d, "content_hash", p->content, LB_HASH_LEN)) ||
		   (rc = lb_dec_bytes(&d, "metadata", LB_META_MAX, &p->meta, &p->meta_len))) {
		return rc;
	}
	return lb_dec_end(&d);
}

/* Stored asset: owner[20] version uvar status u8 content[32] meta bytes */
struct asset_rec {
	uint8_t owner[LB_ADDR_LEN];
	uint64_t version;
	uint8_t status; /* 1 active, 2 retired */
	uint8_t content[LB_HASH_LEN];
};

static int asset_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct asset_rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, "asset", id, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "asset", NULL);
	if (lb_dec_fixed(&d, "owner", r->owner, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "version", UINT64_MAX, &r->version) ||
	    lb_dec_u8(&d, "status", &r->status) || lb_dec_fixed(&d, "content", r->content, 32))
		return LB_ECORRUPT;
	return LB_OK;
}

static int asset_store(struct lb_state *s, const uint8_t id[LB_HASH_LEN],
		       const struct asset_rec *r, const uint8_t *meta, size_t meta_len)
{
	struct lb_buf b;
	lb_buf_init(&b, LB_META_MAX + 128);
	int rc;
	if ((rc = lb_enc_fixed(&b, r->owner, LB_ADDR_LEN)) || (rc = lb_enc_uvar(&b, r->version)) ||
	    (rc = lb_enc_u8(&b, r->status)) || (rc = lb_enc_fixed(&b, r->content, LB_HASH_LEN)) ||
	    (rc = lb_enc_bytes(&b, meta, meta_len)))
		return rc;
	rc = lb_state_put(s, "asset", id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

static int check_asset(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct p_asset p;
	return dec_asset(tx, &p, em);
}

/* Asset id of a registration: H("LEBEN-asset-v1" || owner address || nonce). */
static void asset_id_of(const struct lb_apply_ctx *c, uint8_t id[LB_HASH_LEN])
{
	uint8_t in[LB_ADDR_LEN + 8];
	memcpy(in, c->sender_addr, LB_ADDR_LEN);
	for (int i = 0; i < 8; i++)
		in[LB_ADDR_LEN + i] = (uint8_t)(c->tx->nonce >> (56 - 8 * i));
	lb_hash_domain(id, "LEBEN-asset-v1", in, sizeof in);
}

static int apply_asset(struct lb_apply_ctx *c)
{
	struct p_asset p;
	struct asset_rec r;
	char hex[2 * LB_HASH_LEN + 1];
	int rc = dec_asset(c->tx, &p, c->em);
	if (rc)
		return rc;
	if (c->tx->type == LB_TX_ASSET_REGISTER) {
		const uint8_t *v;
		size_t n;
		if (lb_state_get(c->state, "content", p.content, LB_HASH_LEN, &v, &n) == LB_OK &&
		    n == LB_HASH_LEN) {
			lb_hex_encode(hex, v, LB_HASH_LEN);
			return lb_errf(c->em, LB_EEXISTS,
				       "this content is already registered as asset %s", hex);
		}
		asset_id_of(c, p.asset_id);
		memcpy(r.owner, c->sender_addr, LB_ADDR_LEN);
		r.version = 1;
		r.status = 1;
		memcpy(r.content, p.content, LB_HASH_LEN);
		if ((rc = lb_state_put(c->state, "content", p.content, LB_HASH_LEN, p.asset_id,
				       LB_HASH_LEN)))
			return rc;
		return asset_store(c->state, p.asset_id, &r, p.meta, p.meta_len);
	}
	lb_hex_encode(hex, p.asset_id, LB_HASH_LEN);
	if ((rc = asset_load(c->state, p.asset_id, &r)))
		return lb_errf(c->em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc, "asset %s %s", hex,
			       rc == LB_ENOTFOUND ? "does not exist" : "cannot be read");
	if (memcmp(r.owner, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH, "asset %s belongs to another account", hex);
	if (r.status != 1)
		return lb_errf(c->em, LB_EINVALID, "asset %s is retired and cannot change", hex);
	r.version++;
	if (c->tx->type == LB_TX_ASSET_RETIRE) {
		r.status = 2;
		return asset_store(c->state, p.asset_id, &r, NULL, 0);
	}
	if (memcmp(r.content, p.content, LB_HASH_LEN)) {
		if ((rc = lb_state_del(c->state, "content", r.content, LB_HASH_LEN)) ||
		    (rc = lb_state_put(c->state, "content", p.content, LB_HASH_LEN, p.asset_id,
				       LB_HASH_LEN)))
			return rc;
		memcpy(r.content, p.content, LB_HASH_LEN);
	}
	return asset_store(c->state, p.asset_id, &r, p.meta, p.meta_len);
}

static json_t *json_asset(const struct lb_tx *tx)
{
	struct p_asset p;
	if (dec_asset(tx, &p, NULL))
		return NULL;
	json_t *o = json_object();
	if (tx->type != LB_TX_ASSET_REGISTER)
		json_object_set_new(o, "asset_id", ledger_hex_json(p.asset_id, LB_HASH_LEN));
	if (tx->type == LB_TX_ASSET_RETIRE) {
		json_object_set_new(o, "reason", json_string(p.reason));
	} else {
		json_object_set_new(o, "content_hash", ledger_hex_json(p.content, LB_HASH_LEN));
		json_object_set_new(o, "metadata", ledger_hex_json(p.meta, p.meta_len));
	}
	return o;
}

/* ---- business ---------------------------------------------------------------------------------- */

struct p_identity {
	uint8_t role;
	char name[LB_NAME_MAX + 1];
	const uint8_t *meta;
	size_t meta_len;
};

static int dec_identity(const struct lb_tx *tx, struct p_identity *p, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "identity payload", em);
	if ((rc = lb_dec_u8(&d, "role", &p->role)))
		return rc;
	if (p->role < 1 || p->role > LB_ROLE_MAX_)
		return lb_dec_fail(&d, LB_EMALFORMED, "role", "%u is not a known role", p->role);
	if ((rc = lb_dec_str(&d, "name", LB_NAME_MAX, p->name, sizeof p->name)) ||
	    (rc = lb_dec_bytes(&d, "metadata", LB_META_MAX, &p->meta, &p->meta_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!p->name[0])
		return lb_errf(em, LB_EINVALID, "identity: the name must not be empty");
	return LB_OK;
}

static int check_identity(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct p_identity p;
	return dec_identity(tx, &p, em);
}

static int apply_identity(struct lb_apply_ctx *c)
{
	struct p_identity p;
	const uint8_t *v;
	size_t n;
	int rc = dec_identity(c->tx, &p, c->em);
	if (rc)
		return rc;
	if (lb_state_get(c->state, "identity", c->sender_addr, LB_ADDR_LEN, &v, &n) == LB_OK)
		return lb_errf(c->em, LB_EEXISTS, "this account already has an identity");
	return lb_state_put(c->state, "identity", c->sender_addr, LB_ADDR_LEN, c->tx->payload,
			    c->tx->payload_len);
}

static json_t *json_identity(const struct lb_tx *tx)
{
	struct p_identity p;
	if (dec_identity(tx, &p, NULL))
		return NULL;
	return json_pack("{s:s,s:s,s:o}", "role", lb_role_name(p.role), "name", p.name, "metadata",
			 ledger_hex_json(p.meta, p.meta_len));
}

struct p_record {
	char kind[65];
	uint8_t subject[LB_HASH_LEN];
	const uint8_t *data;
	size_t data_len;
};

static int dec_record(const struct lb_tx *tx, struct p_record *p, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "record payload", em);
	if ((rc = lb_dec_str(&d, "kind", 64, p->kind, sizeof p->kind)) ||
	    (rc = lb_dec_fixed(&d, "subject", p->subject, LB_HASH_LEN)) ||
	    (rc = lb_dec_bytes(&d, "data", LB_META_MAX, &p->data, &p->data_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!p->kind[0])
		return lb_errf(em, LB_EINVALID, "record: the kind must not be empty");
	return LB_OK;
}

static int check_record(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct p_record p;
	return dec_record(tx, &p, em);
}

static int apply_record(struct lb_apply_ctx *c)
{
	struct p_record p;
	uint64_t count;
	int rc = dec_record(c->tx, &p, c->em);
	if (rc || (rc = lb_state_get_u64(c->state, "records", p.subject, LB_HASH_LEN, 0, &count)))
		return rc;
	return lb_state_put_u64(c->state, "records", p.subject, LB_HASH_LEN, count + 1);
}

static json_t *json_record(const struct lb_tx *tx)
{
	struct p_record p;
	if (dec_record(tx, &p, NULL))
		return NULL;
	return json_pack("{s:s,s:o,s:o}", "kind", p.kind, "subject",
			 ledger_hex_json(p.subject, LB_HASH_LEN), "data", ledger_hex_json(p.data, p.data_len));
}

static const struct lb_txtype core_types[] = {
	{LB_TX_ISSUE, LB_CHAIN_SETTLEMENT, "issue", check_issue, apply_issue, json_issue, true},
	{LB_TX_TRANSFER, LB_CHAIN_SETTLEMENT, "transfer", check_transfer, apply_transfer,
	 json_transfer, false},
	{LB_TX_BURN, LB_CHAIN_SETTLEMENT, "burn", check_burn, apply_burn, json_amount, false},
	{LB_TX_CONVERT, LB_CHAIN_SETTLEMENT, "convert", check_convert, apply_convert, json_amount,
	 false},
	{LB_TX_ASSET_REGISTER, LB_CHAIN_DIRECTORY, "asset.register", check_asset, apply_asset,
	 json_asset, true},
	{LB_TX_ASSET_UPDATE, LB_CHAIN_DIRECTORY, "asset.update", check_asset, apply_asset,
	 json_asset, true},
	{LB_TX_ASSET_RETIRE, LB_CHAIN_DIRECTORY, "asset.retire", check_asset, apply_asset,
	 json_asset, true},
	{LB_TX_IDENTITY_REGISTER, LB_CHAIN_BUSINESS, "identity.register", check_identity,
	 apply_identity, json_identity, true},
	{LB_TX_RECORD, LB_CHAIN_BUSINESS, "record", check_record, apply_record, json_record, true},
};

int lb_ledger_register_core_types(void)
{
	/* no core handler reads the block height or time */
	return lb_txtype_register_rows(core_types, sizeof core_types / sizeof core_types[0], true);
}
