/*
 * Audits by audit nodes (docs/data.md, "Audits by audit nodes"): the business-chain tx types
 * audit.request (the owner of an offered asset asks a named audit node) and audit.record (that
 * audit node signs the score of the data it audited), the re-audit interval from genesis, the
 * views of an asset's audit and of the audits due, and the owner node's side of an audit run:
 * the built-in table audit runs in the owner's sandbox over the owner's table and only its
 * report leaves, sealed to the audit node's key. The audit node then records the score.
 *
 * These live on the business chain, next to the super-node registry: whether the signer is an
 * audit node is decided there, deterministically, by every node.
 *
 * State (business chain):
 *   xaudq:   asset || auditor -> u64 business height of the open request
 *   xaudit:  asset -> the counted audit (see aud_encode)
 *   xaudcfg: "interval" -> u64 re-audit interval in business blocks (genesis "audit", then
 *            governance votes: LB_GOV_AUDIT)
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "exchange/xchg_int.h"
#include "leben/codec.h"
#include "leben/consortium.h"
#include "leben/data_audit.h"
#include "leben/data_extract.h"
#include "leben/envelope.h"
#include "leben/sandbox.h"

#define XNS_AUDQ "xaudq"
#define XNS_AUDIT "xaudit"
#define XNS_AUDCFG LB_AUDIT_CFG_NS

#define AHEX(p) xhex((char[2 * LB_HASH_LEN + 1]){0}, (p), LB_HASH_LEN)

static const char *atext(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t a[LB_ADDR_LEN])
{
	lb_addr_encode(out, a);
	return out;
}
#define AADDR(a) atext((char[LB_ADDR_TEXT_LEN + 1]){0}, (a))

/* ---- payloads --------------------------------------------------------------------------------- */

int lb_xchg_audit_req_encode(struct lb_buf *b, const struct lb_xchg_audit_req *p)
{
	int rc = lb_enc_fixed(b, p->asset, LB_HASH_LEN);
	return rc ? rc : lb_enc_fixed(b, p->auditor, LB_ADDR_LEN);
}

int lb_xchg_audit_req_decode(struct lb_xchg_audit_req *o, const uint8_t *p, size_t n,
			    struct lb_errmsg *em)
{
	struct lb_dec d;
	lb_dec_init(&d, p, n, "audit.request payload", em);
	if (lb_dec_fixed(&d, "asset", o->asset, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "auditor", o->auditor, LB_ADDR_LEN) || lb_dec_end(&d))
		return LB_EMALFORMED;
	return LB_OK;
}

int lb_xchg_audit_score_encode(struct lb_buf *b, const struct lb_xchg_audit_score *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->asset, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->content, LB_HASH_LEN)) || (rc = lb_enc_uvar(b, p->score)))
		return rc;
	return lb_enc_fixed(b, p->report_hash, LB_HASH_LEN);
}

int lb_xchg_audit_score_decode(struct lb_xchg_audit_score *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em)
{
	struct lb_dec d;
	lb_dec_init(&d, p, n, "audit.record payload", em);
	if (lb_dec_fixed(&d, "asset", o->asset, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "content", o->content, LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "score", 10000, &o->score) ||
	    lb_dec_fixed(&d, "report_hash", o->report_hash, LB_HASH_LEN) || lb_dec_end(&d))
		return LB_EMALFORMED;
	return LB_OK;
}

/* ---- state records ------------------------------------------------------------------------------ */

/* The audit that counts for an asset. */
struct aud_rec {
	uint8_t auditor[LB_ADDR_LEN];     /* the audit node that signed it */
	uint64_t score;                   /* basis points */
	uint8_t report_hash[LB_HASH_LEN]; /* BLAKE2b-256 of the report the auditor received */
	uint64_t height;                  /* business height of the audit.record */
	uint64_t time_ms;                 /* its block time */
	uint8_t content[LB_HASH_LEN];     /* content hash of the data audited */
	uint8_t tx[LB_HASH_LEN];          /* the audit.record tx */
};

/* auditor | uvar score | report hash | uvar height | uvar time | content | tx */
static int aud_store(struct lb_state *s, const uint8_t asset[LB_HASH_LEN], const struct aud_rec *r)
{
	uint8_t tmp[256];
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	int rc;
	if ((rc = lb_enc_fixed(&b, r->auditor, LB_ADDR_LEN)) || (rc = lb_enc_uvar(&b, r->score)) ||
	    (rc = lb_enc_fixed(&b, r->report_hash, LB_HASH_LEN)) ||
	    (rc = lb_enc_uvar(&b, r->height)) || (rc = lb_enc_uvar(&b, r->time_ms)) ||
	    (rc = lb_enc_fixed(&b, r->content, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(&b, r->tx, LB_HASH_LEN)))
		return rc;
	return lb_state_put(s, XNS_AUDIT, asset, LB_HASH_LEN, b.data, b.len);
}

static int aud_load(struct lb_state *s, const uint8_t asset[LB_HASH_LEN], struct aud_rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, XNS_AUDIT, asset, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "audit record", NULL);
	if (lb_dec_fixed(&d, "a", r->auditor, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "s", 10000, &r->score) ||
	    lb_dec_fixed(&d, "r", r->report_hash, LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "h", UINT64_MAX, &r->height) ||
	    lb_dec_uvar(&d, "t", UINT64_MAX, &r->time_ms) ||
	    lb_dec_fixed(&d, "c", r->content, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "x", r->tx, LB_HASH_LEN) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

static void audq_key(uint8_t k[LB_HASH_LEN + LB_ADDR_LEN], const uint8_t asset[LB_HASH_LEN],
		     const uint8_t auditor[LB_ADDR_LEN])
{
	memcpy(k, asset, LB_HASH_LEN);
	memcpy(k + LB_HASH_LEN, auditor, LB_ADDR_LEN);
}

static uint64_t audit_interval(struct lb_state *s)
{
	uint64_t v = LB_AUDIT_INTERVAL_DEFAULT;
	if (lb_state_get_u64(s, XNS_AUDCFG, "interval", 8, LB_AUDIT_INTERVAL_DEFAULT, &v))
		v = LB_AUDIT_INTERVAL_DEFAULT;
	return v;
}

/* ---- handlers ------------------------------------------------------------------------------------ */

static int check_request(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_xchg_audit_req p;
	return lb_xchg_audit_req_decode(&p, tx->payload, tx->payload_len, em);
}

/* The asset's offer (audits concern assets offered for exchange). */
static int need_offered(struct lb_apply_ctx *c, const uint8_t asset[LB_HASH_LEN],
			struct xoffer_rec *o)
{
	int rc = xoffer_load(c->state, asset, o);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "asset %s is not offered for exchange: audits by audit nodes concern "
			       "offered assets (its owner sends xchg.offer first)",
			       AHEX(asset));
	if (rc)
		return lb_errf(c->em, rc, "reading the offer of asset %s failed", AHEX(asset));
	return LB_OK;
}

static int apply_request(struct lb_apply_ctx *c)
{
	struct lb_xchg_audit_req p;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN];
	int rc = o ? LB_OK : lb_errf(c->em, LB_ENOMEM, "out of memory");
	if (rc || (rc = lb_xchg_audit_req_decode(&p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = need_offered(c, p.asset, o)))
		goto out;
	if (memcmp(o->owner, c->sender_addr, LB_ADDR_LEN)) {
		rc = lb_errf(c->em, LB_EUNAUTH,
			     "wrong owner: only %s, the owner of asset %s, may ask for its audit",
			     AADDR(o->owner), AHEX(p.asset));
		goto out;
	}
	if (!memcmp(p.auditor, o->owner, LB_ADDR_LEN)) {
		rc = lb_errf(c->em, LB_EDENIED,
			     "the owner of asset %s cannot audit its own data: name an audit node",
			     AHEX(p.asset));
		goto out;
	}
	if ((rc = xchg_need_role(c->state, p.auditor, LB_SUPER_AUDIT,
				 "audit data (the audit request names it)", c->em)))
		goto out;
	audq_key(k, p.asset, p.auditor);
	if ((rc = lb_state_put_u64(c->state, XNS_AUDQ, k, sizeof k, c->height ? c->height : 1)))
		goto out;
	rc = xchg_log_add(c, p.asset);
out:
	lb_free(o);
	return rc;
}

static int check_record(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_xchg_audit_score p;
	return lb_xchg_audit_score_decode(&p, tx->payload, tx->payload_len, em);
}

static int apply_record(struct lb_apply_ctx *c)
{
	struct lb_xchg_audit_score p;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN];
	uint64_t asked = 0;
	int rc = o ? LB_OK : lb_errf(c->em, LB_ENOMEM, "out of memory");
	if (rc || (rc = lb_xchg_audit_score_decode(&p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = need_offered(c, p.asset, o)))
		goto out;
	if (!memcmp(o->owner, c->sender_addr, LB_ADDR_LEN)) {
		rc = lb_errf(c->em, LB_EDENIED,
			     "a score reported by the owner of asset %s does not count: an audit node "
			     "audits it (leben exchange audit-request --auditor ADDRESS)",
			     AHEX(p.asset));
		goto out;
	}
	if ((rc = xchg_need_role(c->state, c->sender_addr, LB_SUPER_AUDIT,
				 "sign audit scores", c->em)))
		goto out;
	audq_key(k, p.asset, c->sender_addr);
	if ((rc = lb_state_get_u64(c->state, XNS_AUDQ, k, sizeof k, 0, &asked)))
		goto out;
	if (!asked) {
		rc = lb_errf(c->em, LB_ENOTFOUND,
			     "no audit of asset %s was asked of %s: its owner asks with audit.request "
			     "(leben exchange audit-request)",
			     AHEX(p.asset), AADDR(c->sender_addr));
		goto out;
	}
	if (memcmp(p.content, o->content, LB_HASH_LEN)) {
		rc = lb_errf(c->em, LB_EINVALID,
			     "the audit is of data %s, but asset %s is offered with data %s: audit the "
			     "registered data",
			     AHEX(p.content), AHEX(p.asset), AHEX(o->content));
		goto out;
	}
	struct aud_rec r;
	memcpy(r.auditor, c->sender_addr, LB_ADDR_LEN);
	r.score = p.score;
	memcpy(r.report_hash, p.report_hash, LB_HASH_LEN);
	r.height = c->height;
	r.time_ms = c->time_ms;
	memcpy(r.content, p.content, LB_HASH_LEN);
	memcpy(r.tx, c->tx->id, LB_HASH_LEN);
	if ((rc = lb_state_del(c->state, XNS_AUDQ, k, sizeof k)) ||
	    (rc = aud_store(c->state, p.asset, &r)))
		goto out;
	rc = xchg_log_add(c, p.asset);
out:
	lb_free(o);
	return rc;
}

static json_t *json_request(const struct lb_tx *tx)
{
	struct lb_xchg_audit_req p;
	if (lb_xchg_audit_req_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:o}", "asset", xhexj(p.asset, LB_HASH_LEN), "auditor",
			 xaddrj(p.auditor));
}

static json_t *json_record(const struct lb_tx *tx)
{
	struct lb_xchg_audit_score p;
	if (lb_xchg_audit_score_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:o,s:I,s:o}", "asset", xhexj(p.asset, LB_HASH_LEN), "content_hash",
			 xhexj(p.content, LB_HASH_LEN), "score", (json_int_t)p.score, "report_hash",
			 xhexj(p.report_hash, LB_HASH_LEN));
}

/* genesis.json "audit": {"interval_blocks": N} (1 .. 10^9 business blocks) */
static int genesis_audit(json_t *g, int chain, struct lb_state *s, struct lb_errmsg *em)
{
	json_t *a = json_object_get(g, "audit"), *v;
	const char *key;
	if (chain != LB_CHAIN_BUSINESS || !a)
		return LB_OK;
	if (!json_is_object(a))
		return lb_errf(em, LB_EINVALID,
			       "genesis: 'audit' must be an object {\"interval_blocks\": N}");
	json_object_foreach(a, key, v) {
		if (strcmp(key, "interval_blocks"))
			return lb_errf(em, LB_EINVALID,
				       "genesis: audit.%s is not a setting (the only one is "
				       "interval_blocks)",
				       key);
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 1000000000)
			return lb_errf(em, LB_EINVALID,
				       "genesis: audit.interval_blocks must be a whole number of "
				       "business blocks from 1 to 1000000000");
		int rc = lb_state_put_u64(s, XNS_AUDCFG, "interval", 8,
					  (uint64_t)json_integer_value(v));
		if (rc)
			return rc;
	}
	return LB_OK;
}

static const struct lb_txtype audit_types[] = {
	{LB_TX_AUDIT_REQUEST, LB_CHAIN_BUSINESS, "audit.request", check_request, apply_request,
	 json_request, false},
	{LB_TX_AUDIT_RECORD, LB_CHAIN_BUSINESS, "audit.record", check_record, apply_record,
	 json_record, false},
};

int xchg_audit_register(void)
{
	/* both record the block's height (and audit.record its time): not block-independent */
	int rc = lb_txtype_register_rows(audit_types, sizeof audit_types / sizeof audit_types[0],
					 false);
	return rc ? rc : lb_genesis_hook_register(genesis_audit);
}

/* ---- views ---------------------------------------------------------------------------------------- */

/* The audit state of one asset at business height h. */
static json_t *audit_view(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
			  const struct xoffer_rec *o, uint64_t h, uint64_t interval)
{
	struct aud_rec r;
	json_t *j = json_pack("{s:o,s:o,s:I}", "asset", xhexj(asset, LB_HASH_LEN), "owner",
			      xaddrj(o->owner), "interval_blocks", (json_int_t)interval);
	int rc = aud_load(s, asset, &r);
	if (rc) {
		json_object_set_new(j, "status", json_string(rc == LB_ENOTFOUND ? "none" : "unreadable"));
		json_object_set_new(j, "due", json_true());
		return j;
	}
	uint64_t expires = r.height + interval;
	const char *st = memcmp(r.content, o->content, LB_HASH_LEN) ? "outdated"
			 : h > expires				   ? "expired"
								   : "valid";
	json_object_set_new(j, "status", json_string(st));
	json_object_set_new(j, "due", json_boolean(strcmp(st, "valid") != 0));
	json_object_set_new(j, "auditor", xaddrj(r.auditor));
	json_object_set_new(j, "score", json_integer((json_int_t)r.score));
	json_object_set_new(j, "report_hash", xhexj(r.report_hash, LB_HASH_LEN));
	json_object_set_new(j, "height", json_integer((json_int_t)r.height));
	json_object_set_new(j, "time_ms", json_integer((json_int_t)r.time_ms));
	json_object_set_new(j, "content_hash", xhexj(r.content, LB_HASH_LEN));
	json_object_set_new(j, "expires_height", json_integer((json_int_t)expires));
	json_object_set_new(j, "tx", xhexj(r.tx, LB_HASH_LEN));
	return j;
}

/* Open requests of an asset are not enumerable by prefix; the view names whether the given
 * auditor (if any) has one. */
struct view_ctx {
	const uint8_t *asset;
	struct lb_ledger *l;
	uint64_t height;          /* business height, read before the view (the view holds the
	                           * ledger's lock) */
	json_t *out;
	struct lb_errmsg *em;
};

static int v_audit(struct lb_state *s, void *arg)
{
	struct view_ctx *k = arg;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	if (!o)
		return lb_errf(k->em, LB_ENOMEM, "out of memory");
	int rc = xoffer_load(s, k->asset, o);
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(k->em, LB_ENOTFOUND, "asset %s is not offered for exchange",
			     AHEX(k->asset));
	else if (rc)
		rc = lb_errf(k->em, rc, "reading the offer of asset %s failed", AHEX(k->asset));
	else
		k->out = audit_view(s, k->asset, o, k->height, audit_interval(s));
	lb_free(o);
	return rc;
}

static void add_names(struct lb_ledger *l, json_t *j)
{
	const char *a = json_string_value(json_object_get(j, "auditor"));
	uint8_t addr[LB_ADDR_LEN];
	char name[LB_MEMBER_NAME_MAX + 1];
	if (a && !lb_addr_decode(addr, a, NULL) && lb_consortium_member_name(l, addr, name))
		json_object_set_new(j, "auditor_name", json_string(name));
}

int lb_xchg_audit_json(struct lb_ledger *l, const uint8_t asset[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em)
{
	struct view_ctx k = {asset, l, lb_ledger_height(l, LB_CHAIN_BUSINESS), NULL, em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_audit, &k);
	if (!rc) {
		add_names(l, k.out);
		*out = k.out;
	}
	return rc;
}

static int v_audits(struct lb_state *s, void *arg)
{
	struct view_ctx *k = arg;
	uint64_t n = 0, h = k->height, interval = audit_interval(s);
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	json_t *all = json_array(), *due = json_array();
	int rc = o ? xoffer_index_count(s, &n) : LB_ENOMEM;
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint8_t asset[LB_HASH_LEN];
		if ((rc = xoffer_index_get(s, i, asset)) || (rc = xoffer_load(s, asset, o)))
			break;
		if (o->status != 1)
			continue; /* withdrawn: nothing to audit */
		json_t *v = audit_view(s, asset, o, h, interval);
		if (json_is_true(json_object_get(v, "due")))
			json_array_append(due, v);
		json_array_append_new(all, v);
	}
	lb_free(o);
	if (rc) {
		json_decref(all);
		json_decref(due);
		return lb_errf(k->em, rc, "reading the offered assets failed");
	}
	k->out = json_pack("{s:I,s:I,s:o,s:o}", "height", (json_int_t)h, "interval_blocks",
			   (json_int_t)interval, "assets", all, "due", due);
	return LB_OK;
}

int lb_xchg_audits_json(struct lb_ledger *l, json_t **out, struct lb_errmsg *em)
{
	struct view_ctx k = {NULL, l, lb_ledger_height(l, LB_CHAIN_BUSINESS), NULL, em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_audits, &k);
	if (!rc) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(k.out, "assets"), i, v)
			add_names(l, v);
		json_array_foreach(json_object_get(k.out, "due"), i, v)
			add_names(l, v);
		*out = k.out;
	}
	return rc;
}

/* ---- the owner node's side of an audit run ------------------------------------------------------------ */

void lb_xchg_audit_run_digest(uint8_t out[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			      uint64_t time_ms)
{
	uint8_t m[LB_HASH_LEN + 8];
	memcpy(m, asset, LB_HASH_LEN);
	for (int i = 0; i < 8; i++)
		m[LB_HASH_LEN + i] = (uint8_t)(time_ms >> (56 - 8 * i));
	lb_hash_domain(out, "LEBEN-audit-run-v1", m, sizeof m);
}

/* The audit job of a non-table asset inside the jail (arg: the detected type, "fhir",
 * "dicom", "text" or "image"): the format's checks, counts only (no value, no place). */
static int asset_audit_job(void *arg, const struct lb_sandbox_env *env, json_t **result,
			   struct lb_errmsg *em)
{
	struct lb_asset_audit *a = lb_calloc(1, sizeof *a);
	if (!a)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_audit_asset_bytes(arg, env->input, env->input_len, NULL, a, em);
	if (!rc) {
		json_t *checks = json_array();
		for (size_t i = 0; i < a->nchecks; i++)
			json_array_append_new(checks,
					      json_pack("{s:s,s:I,s:I}", "name", a->check[i].name,
							"passed", (json_int_t)a->check[i].passed,
							"total", (json_int_t)a->check[i].total));
		*result = json_pack("{s:s,s:s,s:I,s:o,s:I}", "method", "leben-asset-audit-v1",
				    "format", a->format, "score", (json_int_t)a->score, "checks",
				    checks, "problems",
				    (json_int_t)(a->nproblems + a->more_problems));
		if (!*result)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_free(a);
	return rc;
}

/* The audit job inside the jail: profile and audit the table, keep aggregates only. */
static int audit_job(void *arg, const struct lb_sandbox_env *env, json_t **result,
		     struct lb_errmsg *em)
{
	struct lb_csv_profile p;
	struct lb_audit a;
	(void)arg;
	int rc = lb_csv_profile((const char *)env->input, env->input_len, NULL, &p, em);
	if (rc)
		return rc;
	if ((rc = lb_audit_table(&p, NULL, &a, em))) {
		lb_csv_profile_release(&p);
		return rc;
	}
	json_t *cols = json_array();
	for (size_t i = 0; i < a.cols; i++)
		json_array_append_new(
			cols, json_pack("{s:s,s:I,s:I,s:b}", "name", p.cols[i].name, "completeness_bp",
					(json_int_t)(a.col[i].completeness * 10000 + 0.5), "outliers",
					(json_int_t)a.col[i].outliers, "key_like", a.col[i].key_like));
	*result = json_pack(
		"{s:s,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I},s:o}", "method", "leben-table-audit-v1",
		"score", (json_int_t)a.score, "rows", (json_int_t)a.rows, "columns",
		(json_int_t)a.cols, "duplicate_rows", (json_int_t)a.duplicate_rows, "subscores_bp",
		"completeness", (json_int_t)(a.s_completeness * 10000 + 0.5), "uniqueness",
		(json_int_t)(a.s_uniqueness * 10000 + 0.5), "validity",
		(json_int_t)(a.s_validity * 10000 + 0.5), "outliers",
		(json_int_t)(a.s_outliers * 10000 + 0.5), "stability",
		(json_int_t)(a.s_drift * 10000 + 0.5), "column_checks", cols);
	lb_audit_release(&a);
	lb_csv_profile_release(&p);
	return *result ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* Is there an open audit request of asset for auditor? Also gives the offer's content hash. */
struct run_ctx {
	const uint8_t *asset, *auditor;
	uint8_t content[LB_HASH_LEN];
	uint8_t owner[LB_ADDR_LEN];
	struct lb_errmsg *em;
};

static int v_run(struct lb_state *s, void *arg)
{
	struct run_ctx *k = arg;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	uint8_t key[LB_HASH_LEN + LB_ADDR_LEN];
	uint64_t asked = 0;
	if (!o)
		return lb_errf(k->em, LB_ENOMEM, "out of memory");
	int rc = xoffer_load(s, k->asset, o);
	if (rc) {
		lb_free(o);
		return lb_errf(k->em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc,
			       "asset %s is not offered for exchange", AHEX(k->asset));
	}
	memcpy(k->content, o->content, LB_HASH_LEN);
	memcpy(k->owner, o->owner, LB_ADDR_LEN);
	lb_free(o);
	audq_key(key, k->asset, k->auditor);
	if ((rc = lb_state_get_u64(s, XNS_AUDQ, key, sizeof key, 0, &asked)))
		return lb_errf(k->em, rc, "reading the audit requests failed");
	if (!asked)
		return lb_errf(k->em, LB_EDENIED,
			       "the owner of asset %s has not asked %s for an audit (audit.request): "
			       "nothing is audited",
			       AHEX(k->asset), AADDR(k->auditor));
	return LB_OK;
}

int lb_xchg_audit_run(struct lb_ledger *l, const char *home, const uint8_t asset[LB_HASH_LEN],
		      const uint8_t auditor_pk[LB_PUBKEY_LEN], uint64_t time_ms, uint64_t now_ms,
		      const uint8_t sig[LB_SIG_LEN], uint8_t **sealed, size_t *sealed_len,
		      struct lb_errmsg *em)
{
	uint8_t digest[LB_HASH_LEN], auditor[LB_ADDR_LEN], h[LB_HASH_LEN];
	uint8_t xpk[1][LB_ENVELOPE_PKBYTES];
	char path[4300];
	uint8_t *data = NULL;
	size_t len = 0;
	lb_xchg_audit_run_digest(digest, asset, time_ms);
	if (!lb_sig_is_valid(sig, digest, sizeof digest, auditor_pk))
		return lb_errf(em, LB_EUNAUTH,
			       "the audit run request is not signed by the key it names: nothing is "
			       "audited");
	if (time_ms + 600000 < now_ms || time_ms > now_ms + 600000)
		return lb_errf(em, LB_EEXPIRED,
			       "the audit run request was signed at %llu ms, more than 10 minutes from "
			       "this node's clock (%llu ms): sign a fresh one",
			       (unsigned long long)time_ms, (unsigned long long)now_ms);
	lb_addr_from_pubkey(auditor, auditor_pk);
	struct run_ctx k = {asset, auditor, {0}, {0}, em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_run, &k);
	if (rc)
		return rc;
	if (!home)
		return lb_errf(em, LB_EUNAVAILABLE, "this node keeps no asset tables (no home)");
	/* the owner's copy: exchange/assets/<asset>.<one of these> */
	static const char *const exts[] = {"csv", "json", "dcm", "txt", "png", "jpg"};
	rc = LB_ENOTFOUND;
	for (size_t i = 0; rc == LB_ENOTFOUND && i < sizeof exts / sizeof exts[0]; i++) {
		snprintf(path, sizeof path, "%s/exchange/assets/%s.%s", home, AHEX(asset), exts[i]);
		lb_errclear(em);
		rc = lb_file_read(path, (size_t)1 << 31, &data, &len, em);
	}
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, LB_EUNAVAILABLE,
			       "this node holds no data for asset %s (the owner places it at "
			       "exchange/assets/%s.csv, .json (FHIR), .dcm (DICOM), .txt, .png or .jpg "
			       "in the node's home)",
			       AHEX(asset), AHEX(asset));
	if (rc)
		return rc;
	struct lb_detected det;
	if ((rc = lb_data_detect(path, data, len, &det, em)))
		goto out;
	const char *type = lb_data_type_name(det.type);
	if (!type || (strcmp(type, "csv") && strcmp(type, "fhir") && strcmp(type, "dicom") &&
		      strcmp(type, "text") && strcmp(type, "image"))) {
		rc = lb_errf(em, LB_EUNSUPPORTED,
			     "asset %s is %s data: audit nodes audit tables (CSV), FHIR, DICOM, text "
			     "and images",
			     AHEX(asset), det.type);
		goto out;
	}
	lb_hash(h, data, len);
	if (memcmp(h, k.content, LB_HASH_LEN)) {
		rc = lb_errf(em, LB_EUNAVAILABLE,
			     "the table kept for asset %s is not the registered data (its hash "
			     "differs): nothing is audited",
			     AHEX(asset));
		goto out;
	}
	if ((rc = lb_envelope_pk_from_ed25519(xpk[0], auditor_pk))) {
		rc = lb_errf(em, LB_EINVALID, "the auditor's key has no encryption form");
		goto out;
	}
	struct lb_sandbox_job job = {0};
	struct lb_sandbox_report rep;
	memset(&rep, 0, sizeof rep);
	job.fn = strcmp(type, "csv") ? asset_audit_job : audit_job;
	job.fn_arg = (void *)type;
	job.input.data = data;
	job.input.len = len;
	rc = lb_sandbox_run(&job, &rep, em);
	if (!rc) {
		json_t *rj = json_pack("{s:o,s:o,s:o,s:O}", "asset", xhexj(asset, LB_HASH_LEN),
				       "content_hash", xhexj(k.content, LB_HASH_LEN), "auditor",
				       xaddrj(auditor), "audit", rep.result);
		char *text = rj ? json_dumps(rj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(rj);
		if (!text)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
		else
			rc = lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])xpk, 1,
					      (const uint8_t *)text, strlen(text), sealed,
					      sealed_len, em);
		free(text);
	} else {
		lb_errwrap(em, "the audit of asset %s failed in the sandbox: ", AHEX(asset));
	}
	lb_sandbox_report_release(&rep);
out:
	sodium_memzero(data, len);
	lb_free(data);
	return rc;
}
