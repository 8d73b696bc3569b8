/*
 * Directory-chain handlers of the data layer (ids 0x0210-0x021f, docs/hexahedron.md):
 * data.register / data.update / data.retire / data.link carry a struct lb_asset_tx whose
 * public part is the canonical hexahedron encoding; data.provenance records an event of an
 * asset version. The stateless check is lb_asset_tx_check; apply adds the rules that need
 * state: the asset id is bound to the registrant, versions follow one another, only the
 * owner or a co-owner updates, only the owner retires, a second live asset with the same raw
 * bytes is refused (data.register) or recorded as a link to the first (data.link), and the
 * audit score of every version is kept in the asset record.
 *
 * State (namespace: key -> value, all through the canonical codec):
 *   data.asset:   asset_id -> record (see rec_encode)
 *   data.content: raw.blake2b -> asset_id of the live asset holding those bytes
 *   data.prov:    asset_id -> number of provenance events
 *   data.readers: asset_id -> number of data.readers re-seals
 */
#include <string.h>

#include "leben/codec.h"
#include "leben/data_hexa.h"
#include "leben/data_tx.h"
#include "leben/ledger.h"
#include "data/data_int.h"

enum { ST_LIVE = 1, ST_RETIRED = 2, ST_PURGED = 3 };

#define MAX_COOWNERS 16

/* What the chain keeps about an asset. */
struct rec {
	uint8_t owner[LB_ADDR_LEN];    /* registrant: the only one who may retire */
	uint64_t version;              /* current version */
	uint8_t status;                /* ST_LIVE or ST_RETIRED */
	uint8_t head[32];              /* BLAKE2b-256 of the current version's payload */
	uint8_t blake2b[32];           /* raw.blake2b of the current version */
	uint64_t score;                /* audit.score of the current version (basis points) */
	uint8_t linked;                /* 1: registered by data.link */
	uint8_t link_to[32];           /* the asset it duplicates (when linked) */
	size_t ncoowners;              /* co-owner accounts from exchange.owners */
	uint8_t coowner[MAX_COOWNERS][LB_ADDR_LEN];
};

/* owner | uvar version | u8 status | head | blake2b | uvar score | u8 linked [| link_to] |
 * uvar n | n co-owner addresses */
static int rec_encode(const struct rec *r, struct lb_buf *b)
{
	int rc;
	if ((rc = lb_enc_fixed(b, r->owner, LB_ADDR_LEN)) || (rc = lb_enc_uvar(b, r->version)) ||
	    (rc = lb_enc_u8(b, r->status)) || (rc = lb_enc_fixed(b, r->head, 32)) ||
	    (rc = lb_enc_fixed(b, r->blake2b, 32)) || (rc = lb_enc_uvar(b, r->score)) ||
	    (rc = lb_enc_u8(b, r->linked)))
		return rc;
	if (r->linked && (rc = lb_enc_fixed(b, r->link_to, 32)))
		return rc;
	if ((rc = lb_enc_uvar(b, r->ncoowners)))
		return rc;
	for (size_t i = 0; i < r->ncoowners; i++)
		if ((rc = lb_enc_fixed(b, r->coowner[i], LB_ADDR_LEN)))
			return rc;
	return LB_OK;
}

static int rec_load(struct lb_state *s, const uint8_t id[32], struct rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, "data.asset", id, 32, &v, &n);
	if (rc)
		return rc;
	memset(r, 0, sizeof *r);
	struct lb_dec d;
	uint64_t nco;
	lb_dec_init(&d, v, n, "data asset record", NULL);
	if (lb_dec_fixed(&d, "owner", r->owner, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "version", UINT64_MAX, &r->version) ||
	    lb_dec_u8(&d, "status", &r->status) || lb_dec_fixed(&d, "head", r->head, 32) ||
	    lb_dec_fixed(&d, "blake2b", r->blake2b, 32) ||
	    lb_dec_uvar(&d, "score", 10000, &r->score) || lb_dec_u8(&d, "linked", &r->linked) ||
	    (r->linked && lb_dec_fixed(&d, "link_to", r->link_to, 32)) ||
	    lb_dec_uvar(&d, "coowners", MAX_COOWNERS, &nco))
		return LB_ECORRUPT;
	r->ncoowners = (size_t)nco;
	for (size_t i = 0; i < r->ncoowners; i++)
		if (lb_dec_fixed(&d, "coowner", r->coowner[i], LB_ADDR_LEN))
			return LB_ECORRUPT;
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

static int rec_store(struct lb_state *s, const uint8_t id[32], const struct rec *r)
{
	uint8_t tmp[LB_ADDR_LEN * (MAX_COOWNERS + 1) + 128];
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	int rc = rec_encode(r, &b);
	return rc ? rc : lb_state_put(s, "data.asset", id, 32, b.data, b.len);
}

static int op_of_type(uint32_t type)
{
	switch (type) {
	case LB_TX_DATA_UPDATE:
		return LB_ASSET_UPDATE;
	case LB_TX_DATA_RETIRE:
		return LB_ASSET_RETIRE;
	default:
		return LB_ASSET_REGISTER;
	}
}

static const char *type_word(uint32_t type)
{
	switch (type) {
	case LB_TX_DATA_REGISTER:
		return "data.register";
	case LB_TX_DATA_UPDATE:
		return "data.update";
	case LB_TX_DATA_RETIRE:
		return "data.retire";
	default:
		return "data.link";
	}
}

/* Decode and check the payload; the operation must match the tx type. */
static int decode_asset(const struct lb_tx *tx, struct lb_asset_tx *a, struct lb_errmsg *em)
{
	int rc = lb_asset_tx_decode(tx->payload, tx->payload_len, a, em);
	if (rc)
		return lb_errwrap(em, "%s payload: ", type_word(tx->type));
	if ((int)a->op != op_of_type(tx->type))
		return lb_errf(em, LB_EINVALID, "%s carries operation %d, expected %d",
			       type_word(tx->type), (int)a->op, op_of_type(tx->type));
	if ((rc = lb_asset_tx_check(a, em)))
		return lb_errwrap(em, "%s: ", type_word(tx->type));
	return LB_OK;
}

static int check_asset(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_asset_tx a;
	int rc = decode_asset(tx, &a, em);
	if (rc || a.op == LB_ASSET_RETIRE)
		return rc;
	/* the audit score is part of every version on the chain */
	struct lb_hexa h;
	if ((rc = lb_hexa_decode(a.pub, a.pub_len, &h, em)))
		return rc;
	uint64_t score;
	if (!lb_hexa_get_u64(&h, "audit.score", &score))
		rc = lb_errf(em, LB_EINVALID,
			     "%s: the public part must carry audit.score (run the audit first)",
			     type_word(tx->type));
	lb_hexa_release(&h);
	return rc;
}

/* Fields of the public part the handler needs. */
struct pub_info {
	uint8_t blake2b[32];
	uint64_t created;
	uint64_t score;
	size_t ncoowners;
	uint8_t coowner[MAX_COOWNERS][LB_ADDR_LEN];
};

static int pub_info(const struct lb_asset_tx *a, const uint8_t sender[LB_ADDR_LEN],
		    struct pub_info *pi, struct lb_errmsg *em)
{
	struct lb_hexa h;
	int rc = lb_hexa_decode(a->pub, a->pub_len, &h, em);
	if (rc)
		return rc;
	memset(pi, 0, sizeof *pi);
	int bid = lb_hexa_field_id("raw.blake2b"), oid = lb_hexa_field_id("exchange.owners");
	memcpy(pi->blake2b, h.v[bid].b, 32);
	lb_hexa_get_u64(&h, "basic.created", &pi->created);
	lb_hexa_get_u64(&h, "audit.score", &pi->score);
	if (h.present >> oid & 1) {
		for (size_t i = 0; i < h.v[oid].n; i++) {
			uint8_t addr[LB_ADDR_LEN];
			if (strncmp(h.v[oid].keys[i], "lb1", 3) ||
			    lb_addr_decode(addr, h.v[oid].keys[i], NULL) ||
			    !memcmp(addr, sender, LB_ADDR_LEN))
				continue;
			if (pi->ncoowners == MAX_COOWNERS) {
				rc = lb_errf(em, LB_ELIMIT, "exchange.owners names more than %d accounts",
					     MAX_COOWNERS);
				break;
			}
			memcpy(pi->coowner[pi->ncoowners++], addr, LB_ADDR_LEN);
		}
	}
	lb_hexa_release(&h);
	return rc;
}

/* The asset id a registration must carry: lb_asset_id over the registrant's address text,
 * raw.blake2b and basic.created (0 when not public). */
static void expected_id(const uint8_t sender[LB_ADDR_LEN], const struct pub_info *pi,
			uint8_t id[32])
{
	char addr[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(addr, sender);
	lb_asset_id(id, addr, pi->blake2b, pi->created);
}

static bool may_update(const struct rec *r, const uint8_t who[LB_ADDR_LEN])
{
	if (!memcmp(r->owner, who, LB_ADDR_LEN))
		return true;
	for (size_t i = 0; i < r->ncoowners; i++)
		if (!memcmp(r->coowner[i], who, LB_ADDR_LEN))
			return true;
	return false;
}

int data_asset_holder(struct lb_state *s, const uint8_t id[32], uint8_t owner[LB_ADDR_LEN],
		      const uint8_t who[LB_ADDR_LEN], bool *may, int *status)
{
	struct rec r;
	int rc = rec_load(s, id, &r);
	if (rc)
		return rc;
	memcpy(owner, r.owner, LB_ADDR_LEN);
	*may = may_update(&r, who);
	*status = r.status == ST_LIVE ? 0 : r.status == ST_RETIRED ? 1 : 2;
	return LB_OK;
}

int data_asset_mark_purged(struct lb_state *s, const uint8_t id[32])
{
	struct rec r;
	int rc = rec_load(s, id, &r);
	if (rc)
		return rc;
	const uint8_t *v;
	size_t n;
	if (r.status == ST_LIVE && !r.linked &&
	    lb_state_get(s, "data.content", r.blake2b, 32, &v, &n) == LB_OK && n == 32 &&
	    !memcmp(v, id, 32) && (rc = lb_state_del(s, "data.content", r.blake2b, 32)))
		return rc;
	r.status = ST_PURGED;
	return rec_store(s, id, &r);
}

static int apply_register(struct lb_apply_ctx *c, const struct lb_asset_tx *a, bool link)
{
	struct pub_info pi;
	struct rec r;
	uint8_t want[32];
	char hex[65], other[65];
	const uint8_t *v;
	size_t n;
	int rc = pub_info(a, c->sender_addr, &pi, c->em);
	if (rc)
		return rc;
	expected_id(c->sender_addr, &pi, want);
	lb_hex_encode(hex, a->asset_id, 32);
	if (memcmp(want, a->asset_id, 32)) {
		lb_hex_encode(other, want, 32);
		return lb_errf(c->em, LB_EINVALID,
			       "asset id %s is not the one of this registrant and content (%s)", hex,
			       other);
	}
	if (lb_state_get(c->state, "data.asset", a->asset_id, 32, &v, &n) == LB_OK)
		return lb_errf(c->em, LB_EEXISTS, "asset %s is already registered", hex);
	memset(&r, 0, sizeof r);
	rc = lb_state_get(c->state, "data.content", pi.blake2b, 32, &v, &n);
	if (rc && rc != LB_ENOTFOUND)
		return lb_errf(c->em, rc, "reading the content index failed");
	bool dup = rc == LB_OK && n == 32;
	if (dup && !link) {
		lb_hex_encode(other, v, 32);
		return lb_errf(c->em, LB_EDUPLICATE,
			       "the same raw data is already registered as asset %s (send data.link "
			       "to list this copy as a link to it)",
			       other);
	}
	if (!dup && link)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "no live asset holds these raw bytes: nothing to link to (send "
			       "data.register)");
	if (link) {
		r.linked = 1;
		memcpy(r.link_to, v, 32);
	}
	memcpy(r.owner, c->sender_addr, LB_ADDR_LEN);
	r.version = 1;
	r.status = ST_LIVE;
	lb_hash(r.head, c->tx->payload, c->tx->payload_len);
	memcpy(r.blake2b, pi.blake2b, 32);
	r.score = pi.score;
	r.ncoowners = pi.ncoowners;
	memcpy(r.coowner, pi.coowner, sizeof r.coowner);
	if (!link && (rc = lb_state_put(c->state, "data.content", pi.blake2b, 32, a->asset_id, 32)))
		return rc;
	return rec_store(c->state, a->asset_id, &r);
}

static int apply_asset(struct lb_apply_ctx *c)
{
	struct lb_asset_tx a;
	struct rec r;
	char hex[65], other[65];
	int rc = decode_asset(c->tx, &a, c->em);
	if (rc)
		return rc;
	if (c->tx->type == LB_TX_DATA_REGISTER || c->tx->type == LB_TX_DATA_LINK)
		return apply_register(c, &a, c->tx->type == LB_TX_DATA_LINK);
	lb_hex_encode(hex, a.asset_id, 32);
	if ((rc = rec_load(c->state, a.asset_id, &r)))
		return lb_errf(c->em, rc, "asset %s %s", hex,
			       rc == LB_ENOTFOUND ? "is not registered" : "cannot be read");
	if (r.status != ST_LIVE)
		return lb_errf(c->em, LB_EINVALID, "asset %s is %s and cannot change", hex,
			       r.status == ST_PURGED ? "purged" : "retired");
	if (a.op == LB_ASSET_RETIRE ? memcmp(r.owner, c->sender_addr, LB_ADDR_LEN)
				    : !may_update(&r, c->sender_addr))
		return lb_errf(c->em, LB_EUNAUTH, "asset %s: only %s may %s it", hex,
			       a.op == LB_ASSET_RETIRE ? "the owner who registered it"
						       : "its owner or a co-owner",
			       a.op == LB_ASSET_RETIRE ? "retire" : "update");
	if (memcmp(a.previous, r.head, 32)) {
		lb_hex_encode(other, r.head, 32);
		return lb_errf(c->em, LB_EINVALID,
			       "asset %s: previous does not name the current version %llu (%s)", hex,
			       (unsigned long long)r.version, other);
	}
	if (a.op == LB_ASSET_RETIRE) {
		if (a.version != r.version)
			return lb_errf(c->em, LB_EINVALID,
				       "asset %s: retire names version %llu but the current one is %llu",
				       hex, (unsigned long long)a.version,
				       (unsigned long long)r.version);
		const uint8_t *v;
		size_t n;
		if (!r.linked &&
		    lb_state_get(c->state, "data.content", r.blake2b, 32, &v, &n) == LB_OK &&
		    n == 32 && !memcmp(v, a.asset_id, 32) &&
		    (rc = lb_state_del(c->state, "data.content", r.blake2b, 32)))
			return rc;
		r.status = ST_RETIRED;
		lb_hash(r.head, c->tx->payload, c->tx->payload_len);
		return rec_store(c->state, a.asset_id, &r);
	}
	if (a.version != r.version + 1)
		return lb_errf(c->em, LB_EINVALID,
			       "asset %s: version %llu does not follow the current version %llu", hex,
			       (unsigned long long)a.version, (unsigned long long)r.version);
	struct pub_info pi;
	if ((rc = pub_info(&a, r.owner, &pi, c->em)))
		return rc;
	if (memcmp(pi.blake2b, r.blake2b, 32) && !r.linked) {
		const uint8_t *v;
		size_t n;
		if (lb_state_get(c->state, "data.content", pi.blake2b, 32, &v, &n) == LB_OK &&
		    n == 32 && memcmp(v, a.asset_id, 32)) {
			lb_hex_encode(other, v, 32);
			return lb_errf(c->em, LB_EDUPLICATE,
				       "asset %s: the new raw data is already registered as asset %s",
				       hex, other);
		}
		if ((rc = lb_state_del(c->state, "data.content", r.blake2b, 32)) ||
		    (rc = lb_state_put(c->state, "data.content", pi.blake2b, 32, a.asset_id, 32)))
			return rc;
	}
	r.version = a.version;
	lb_hash(r.head, c->tx->payload, c->tx->payload_len);
	memcpy(r.blake2b, pi.blake2b, 32);
	r.score = pi.score;
	r.ncoowners = pi.ncoowners;
	memcpy(r.coowner, pi.coowner, sizeof r.coowner);
	return rec_store(c->state, a.asset_id, &r);
}

static json_t *hexj(const uint8_t *p, size_t n)
{
	char h[65];
	if (n > 32)
		return json_null();
	lb_hex_encode(h, p, n);
	return json_string(h);
}

/* Hex text of any length (the sealed private part: ciphertext, readable by nobody else). */
static json_t *hex_alloc_json(const uint8_t *p, size_t n)
{
	char *h = lb_malloc(2 * n + 1);
	if (!h)
		return json_null();
	lb_hex_encode(h, p, n);
	json_t *j = json_string(h);
	lb_free(h);
	return j;
}

static json_t *json_asset(const struct lb_tx *tx)
{
	struct lb_asset_tx a;
	static const char *const ops[] = {"", "register", "update", "retire"};
	if (lb_asset_tx_decode(tx->payload, tx->payload_len, &a, NULL))
		return NULL;
	json_t *o = json_pack("{s:s,s:o,s:I}", "op", ops[a.op], "asset_id", hexj(a.asset_id, 32),
			      "version", (json_int_t)a.version);
	if (!o)
		return NULL;
	if (a.op != LB_ASSET_REGISTER)
		json_object_set_new(o, "previous", hexj(a.previous, 32));
	if (a.op == LB_ASSET_RETIRE) {
		json_object_set_new(o, "reason", json_string(a.reason));
		return o;
	}
	struct lb_hexa h;
	if (lb_hexa_decode(a.pub, a.pub_len, &h, NULL) == LB_OK) {
		json_object_set_new(o, "public", lb_hexa_to_json(&h));
		lb_hexa_release(&h);
	}
	json_object_set_new(o, "private_envelope_bytes", json_integer((json_int_t)a.priv_env_len));
	if (a.priv_env_len)
		json_object_set_new(o, "private_envelope", hex_alloc_json(a.priv_env, a.priv_env_len));
	return o;
}

/* ---- provenance ------------------------------------------------------------------------- */

int lb_prov_tx_encode(const struct lb_prov_tx *p, struct lb_buf *out)
{
	int rc;
	if ((rc = lb_enc_fixed(out, p->asset_id, 32)) || (rc = lb_enc_uvar(out, p->version)) ||
	    (rc = lb_enc_str(out, p->kind)) || (rc = lb_enc_fixed(out, p->digest, 32)))
		return rc;
	return lb_enc_str(out, p->note);
}

int lb_prov_tx_decode(const uint8_t *buf, size_t len, struct lb_prov_tx *p,
		      struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(p, 0, sizeof *p);
	lb_dec_init(&d, buf, len, "data.provenance payload", em);
	if ((rc = lb_dec_fixed(&d, "asset_id", p->asset_id, 32)) ||
	    (rc = lb_dec_uvar(&d, "version", UINT32_MAX, &p->version)) ||
	    (rc = lb_dec_str(&d, "kind", LB_PROV_KIND_MAX, p->kind, sizeof p->kind)) ||
	    (rc = lb_dec_fixed(&d, "digest", p->digest, 32)) ||
	    (rc = lb_dec_str(&d, "note", LB_PROV_NOTE_MAX, p->note, sizeof p->note)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!p->kind[0])
		return lb_errf(em, LB_EINVALID, "data.provenance: the kind must not be empty");
	if (p->version == 0)
		return lb_errf(em, LB_EINVALID, "data.provenance: versions start at 1");
	return LB_OK;
}

static int check_prov(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_prov_tx p;
	return lb_prov_tx_decode(tx->payload, tx->payload_len, &p, em);
}

static int apply_prov(struct lb_apply_ctx *c)
{
	struct lb_prov_tx p;
	struct rec r;
	char hex[65];
	uint64_t count;
	int rc = lb_prov_tx_decode(c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	lb_hex_encode(hex, p.asset_id, 32);
	if ((rc = rec_load(c->state, p.asset_id, &r)))
		return lb_errf(c->em, rc, "asset %s %s", hex,
			       rc == LB_ENOTFOUND ? "is not registered" : "cannot be read");
	if (!may_update(&r, c->sender_addr))
		return lb_errf(c->em, LB_EUNAUTH,
			       "asset %s: only its owner or a co-owner records provenance", hex);
	if (p.version > r.version)
		return lb_errf(c->em, LB_EINVALID, "asset %s has no version %llu yet (current %llu)",
			       hex, (unsigned long long)p.version, (unsigned long long)r.version);
	if ((rc = lb_state_get_u64(c->state, "data.prov", p.asset_id, 32, 0, &count)))
		return lb_errf(c->em, rc, "reading the provenance count failed");
	return lb_state_put_u64(c->state, "data.prov", p.asset_id, 32, count + 1);
}

static json_t *json_prov(const struct lb_tx *tx)
{
	struct lb_prov_tx p;
	if (lb_prov_tx_decode(tx->payload, tx->payload_len, &p, NULL))
		return NULL;
	return json_pack("{s:o,s:I,s:s,s:o,s:s}", "asset_id", hexj(p.asset_id, 32), "version",
			 (json_int_t)p.version, "kind", p.kind, "digest", hexj(p.digest, 32),
			 "note", p.note);
}

/* ---- readers of the private part ---------------------------------------------------------- */

int lb_readers_tx_encode(const struct lb_readers_tx *r, struct lb_buf *out)
{
	int rc;
	if ((rc = lb_enc_fixed(out, r->asset_id, 32)) || (rc = lb_enc_uvar(out, r->version)))
		return rc;
	return lb_enc_bytes(out, r->envelope, r->envelope_len);
}

int lb_readers_tx_decode(const uint8_t *buf, size_t len, struct lb_readers_tx *r,
			 struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(r, 0, sizeof *r);
	lb_dec_init(&d, buf, len, "data.readers payload", em);
	if ((rc = lb_dec_fixed(&d, "asset_id", r->asset_id, 32)) ||
	    (rc = lb_dec_uvar(&d, "version", UINT32_MAX, &r->version)) ||
	    (rc = lb_dec_bytes(&d, "envelope", LB_HEXA_MAX_ENCODED, &r->envelope,
			       &r->envelope_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (r->version == 0)
		return lb_errf(em, LB_EINVALID, "data.readers: versions start at 1");
	if (r->envelope_len < 4 || memcmp(r->envelope, "LBEV", 4) != 0)
		return lb_errf(em, LB_EMALFORMED, "data.readers: the private part is not a level-1 "
						  "envelope");
	return LB_OK;
}

static int check_readers(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_readers_tx r;
	return lb_readers_tx_decode(tx->payload, tx->payload_len, &r, em);
}

static int apply_readers(struct lb_apply_ctx *c)
{
	struct lb_readers_tx t;
	struct rec r;
	char hex[65];
	uint64_t count;
	int rc = lb_readers_tx_decode(c->tx->payload, c->tx->payload_len, &t, c->em);
	if (rc)
		return rc;
	lb_hex_encode(hex, t.asset_id, 32);
	if ((rc = rec_load(c->state, t.asset_id, &r)))
		return lb_errf(c->em, rc, "asset %s %s", hex,
			       rc == LB_ENOTFOUND ? "is not registered" : "cannot be read");
	if (r.status != ST_LIVE)
		return lb_errf(c->em, LB_EINVALID, "asset %s is %s", hex,
			       r.status == ST_PURGED ? "purged" : "retired");
	if (!may_update(&r, c->sender_addr))
		return lb_errf(c->em, LB_EUNAUTH,
			       "asset %s: only its owner or a co-owner chooses who reads its private "
			       "part",
			       hex);
	if (t.version != r.version)
		return lb_errf(c->em, LB_EINVALID,
			       "asset %s: the private part was sealed for version %llu but the "
			       "current version is %llu",
			       hex, (unsigned long long)t.version, (unsigned long long)r.version);
	if ((rc = lb_state_get_u64(c->state, "data.readers", t.asset_id, 32, 0, &count)))
		return lb_errf(c->em, rc, "reading the re-seal count failed");
	return lb_state_put_u64(c->state, "data.readers", t.asset_id, 32, count + 1);
}

static json_t *json_readers(const struct lb_tx *tx)
{
	struct lb_readers_tx r;
	if (lb_readers_tx_decode(tx->payload, tx->payload_len, &r, NULL))
		return NULL;
	return json_pack("{s:o,s:I,s:I,s:o}", "asset_id", hexj(r.asset_id, 32), "version",
			 (json_int_t)r.version, "private_envelope_bytes",
			 (json_int_t)r.envelope_len, "private_envelope",
			 hex_alloc_json(r.envelope, r.envelope_len));
}

static const struct lb_txtype data_types[] = {
	{LB_TX_DATA_REGISTER, LB_CHAIN_DIRECTORY, "data.register", check_asset, apply_asset,
	 json_asset, true},
	{LB_TX_DATA_UPDATE, LB_CHAIN_DIRECTORY, "data.update", check_asset, apply_asset,
	 json_asset, true},
	{LB_TX_DATA_RETIRE, LB_CHAIN_DIRECTORY, "data.retire", check_asset, apply_asset,
	 json_asset, true},
	{LB_TX_DATA_LINK, LB_CHAIN_DIRECTORY, "data.link", check_asset, apply_asset, json_asset,
	 true},
	{LB_TX_DATA_PROVENANCE, LB_CHAIN_DIRECTORY, "data.provenance", check_prov, apply_prov,
	 json_prov, true},
	{LB_TX_DATA_READERS, LB_CHAIN_DIRECTORY, "data.readers", check_readers, apply_readers,
	 json_readers, true},
};

int lb_data_register_txtypes(void)
{
	/* no data handler reads the block height or time */
	return lb_txtype_register_rows(data_types, sizeof data_types / sizeof data_types[0], true);
}
