/*
 * The on-chain sandbox's business-chain txs (include/leben/onchain.h; payloads in
 * docs/wire-format.md): compute.publish records a program under its hash; compute.run runs a
 * program, inline or published, over its inputs with a step budget and stores the outputs,
 * the steps and the memory used under the tx id. A run that exhausts its budget or the memory
 * cap, overflows, or fails a `require` is refused and changes nothing.
 *
 * State (business chain):
 *   "oc.prog" / hash -> program text
 *   "oc.run"  / tx id -> 1 | hash[32] | runner[20] | budget | steps | mem |
 *                        nout | { name | kind | (zz) or (n, zz...) }
 * compute.publish is block-independent, and so is compute.run unless it cites a prepayment
 * (then it reads the height).
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/ledger.h"
#include "leben/onchain.h"
#include "leben/tx.h"

#define NS_PROG "oc.prog"
#define NS_RUN "oc.run"
#define NS_CFG "oc.cfg" /* "prepay" -> 1: runs must cite a compute.prepay */

static uint64_t zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzz(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

void lb_oc_program_hash(uint8_t out[LB_HASH_LEN], const void *text, size_t len)
{
	lb_hash_domain(out, "LEBEN-compute-program", text, len);
}

static bool name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static int enc_values(struct lb_buf *b, const struct lb_oc_value *v, size_t n)
{
	int rc = lb_enc_uvar(b, n);
	for (size_t i = 0; i < n && !rc; i++) {
		if ((rc = lb_enc_str(b, v[i].name)) || (rc = lb_enc_u8(b, v[i].is_list)))
			break;
		if (v[i].is_list)
			rc = lb_enc_uvar(b, v[i].n);
		for (size_t k = 0; k < v[i].n && !rc; k++)
			rc = lb_enc_uvar(b, zz(v[i].v[k]));
	}
	return rc;
}

static int dec_values(struct lb_dec *d, size_t max, struct lb_oc_value **out, size_t *nout)
{
	uint64_t n;
	*out = NULL;
	*nout = 0;
	int rc = lb_dec_uvar(d, "value count", max, &n);
	if (rc)
		return rc;
	struct lb_oc_value *v = n ? lb_calloc(n, sizeof *v) : NULL;
	if (n && !v)
		return lb_errf(d->em, LB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		uint8_t kind;
		uint64_t len = 1, u;
		if ((rc = lb_dec_str(d, "value name", LB_OC_NAME_MAX, v[i].name, sizeof v[i].name)) ||
		    (rc = lb_dec_u8(d, "value kind", &kind)))
			goto fail;
		if (!name_ok(v[i].name)) {
			rc = lb_dec_fail(d, LB_EMALFORMED, "value name",
					 "'%s' is not a name (a letter or '_', then letters, digits, "
					 "'_')",
					 v[i].name);
			goto fail;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(v[k].name, v[i].name)) {
				rc = lb_dec_fail(d, LB_EMALFORMED, "value name", "'%s' appears twice",
						 v[i].name);
				goto fail;
			}
		if (kind > 1) {
			rc = lb_dec_fail(d, LB_EMALFORMED, "value kind", "%u is not 0 or 1", kind);
			goto fail;
		}
		v[i].is_list = kind;
		if (kind && (rc = lb_dec_uvar(d, "list length", LB_OC_LIST_MAX, &len)))
			goto fail;
		v[i].n = len;
		if (len && !(v[i].v = lb_calloc(len, sizeof *v[i].v))) {
			rc = lb_errf(d->em, LB_ENOMEM, "out of memory");
			goto fail;
		}
		for (size_t k = 0; k < len; k++) {
			if ((rc = lb_dec_uvar(d, "integer", UINT64_MAX, &u)))
				goto fail;
			v[i].v[k] = unzz(u);
		}
	}
	*out = v;
	*nout = n;
	return LB_OK;
fail:
	lb_oc_values_free(v, n);
	return rc;
}

int lb_oc_run_encode(struct lb_buf *b, const struct lb_oc_run_tx *r)
{
	int rc = lb_enc_u8(b, r->by_hash);
	if (!rc)
		rc = r->by_hash ? lb_enc_fixed(b, r->hash, LB_HASH_LEN)
				: lb_enc_bytes(b, r->text, r->text_len);
	if (!rc)
		rc = lb_enc_uvar(b, r->budget);
	if (!rc)
		rc = enc_values(b, r->in, r->nin);
	if (!rc && r->has_prepay && !(rc = lb_enc_bytes(b, r->prepay_tx, r->prepay_tx_len)))
		rc = lb_enc_bytes(b, r->prepay_proof, r->prepay_proof_len);
	return rc;
}

int lb_oc_prepay_encode(struct lb_buf *b, const struct lb_oc_prepay *p)
{
	int rc = lb_enc_uvar(b, p->budget);
	return rc || !p->has_expiry ? rc : lb_enc_uvar(b, p->expiry_s);
}

int lb_oc_prepay_decode(struct lb_oc_prepay *p, const uint8_t *raw, size_t len,
			struct lb_errmsg *em)
{
	struct lb_dec d;
	memset(p, 0, sizeof *p);
	lb_dec_init(&d, raw, len, "compute.prepay", em);
	int rc = lb_dec_uvar(&d, "step budget", LB_OC_STEPS_MAX, &p->budget);
	if (!rc && !p->budget)
		rc = lb_dec_fail(&d, LB_EMALFORMED, "step budget", "must be at least 1");
	if (!rc && d.pos < d.len) {
		p->has_expiry = true;
		rc = lb_dec_uvar(&d, "expiry", LB_OC_EXPIRY_MAX_S, &p->expiry_s);
		if (!rc && p->expiry_s < LB_OC_EXPIRY_MIN_S)
			rc = lb_dec_fail(&d, LB_EMALFORMED, "expiry",
					 "%llu s is too short: give at least %u seconds",
					 (unsigned long long)p->expiry_s, LB_OC_EXPIRY_MIN_S);
	}
	return rc ? rc : lb_dec_end(&d);
}

uint64_t lb_oc_prepay_use_end(uint64_t t_ms, uint64_t expiry_s)
{
	return t_ms + expiry_s * 500; /* half the expiry, in ms */
}

uint64_t lb_oc_prepay_reclaim_from(uint64_t t_ms, uint64_t expiry_s)
{
	return t_ms + expiry_s * 1000;
}

void lb_oc_run_tx_clear(struct lb_oc_run_tx *r)
{
	lb_oc_values_free(r->in, r->nin);
	memset(r, 0, sizeof *r);
}

int lb_oc_run_decode(struct lb_oc_run_tx *r, const uint8_t *p, size_t len, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t form;
	memset(r, 0, sizeof *r);
	lb_dec_init(&d, p, len, "compute.run", em);
	int rc = lb_dec_u8(&d, "form", &form);
	if (!rc && form > 1)
		rc = lb_dec_fail(&d, LB_EMALFORMED, "form", "%u is not 0 (inline) or 1 (by hash)",
				 form);
	if (rc)
		return rc;
	r->by_hash = form;
	rc = form ? lb_dec_fixed(&d, "program hash", r->hash, LB_HASH_LEN)
		  : lb_dec_bytes(&d, "program", LB_OC_PROGRAM_MAX, &r->text, &r->text_len);
	if (!rc)
		rc = lb_dec_uvar(&d, "step budget", LB_OC_STEPS_MAX, &r->budget);
	if (!rc && r->budget == 0)
		rc = lb_dec_fail(&d, LB_EMALFORMED, "step budget", "must be at least 1");
	if (!rc)
		rc = dec_values(&d, LB_OC_INPUTS_MAX, &r->in, &r->nin);
	if (!rc && d.pos < d.len) { /* the optional prepayment */
		r->has_prepay = true;
		rc = lb_dec_bytes(&d, "prepayment", LB_TX_MAX_BYTES, &r->prepay_tx,
				  &r->prepay_tx_len);
		if (!rc)
			rc = lb_dec_bytes(&d, "prepayment proof", 1u << 20, &r->prepay_proof,
					  &r->prepay_proof_len);
	}
	if (!rc)
		rc = lb_dec_end(&d);
	if (rc)
		lb_oc_run_tx_clear(r);
	return rc;
}

int lb_oc_value_parse(struct lb_oc_value *v, const char *text, struct lb_errmsg *em)
{
	memset(v, 0, sizeof *v);
	const char *eq = strchr(text, '=');
	if (!eq || eq == text || (size_t)(eq - text) > LB_OC_NAME_MAX)
		return lb_errf(em, LB_EMALFORMED,
			       "'%.60s' is not NAME=INTEGER or NAME=INT,INT,... or NAME=[]", text);
	memcpy(v->name, text, (size_t)(eq - text));
	if (!name_ok(v->name))
		return lb_errf(em, LB_EMALFORMED, "'%s' is not a name", v->name);
	const char *s = eq + 1;
	v->is_list = strchr(s, ',') != NULL || !strcmp(s, "[]");
	if (!strcmp(s, "[]"))
		return LB_OK;
	size_t cap = 1;
	for (const char *c = s; *c; c++)
		cap += *c == ',';
	if (cap > LB_OC_LIST_MAX)
		return lb_errf(em, LB_ETOOBIG, "list '%s' has more than %d elements", v->name,
			       LB_OC_LIST_MAX);
	if (!(v->v = lb_calloc(cap, sizeof *v->v)))
		return lb_errf(em, LB_ENOMEM, "out of memory");
	for (;;) {
		bool neg = *s == '-';
		uint64_t u = 0;
		const char *start = s += neg;
		while (*s >= '0' && *s <= '9') {
			unsigned dgt = (unsigned)(*s++ - '0');
			if (u > ((uint64_t)INT64_MAX + neg - dgt) / 10)
				goto bad;
			u = u * 10 + dgt;
		}
		if (s == start || (*s && *s != ','))
			goto bad;
		v->v[v->n++] = neg ? (int64_t)(0 - u) : (int64_t)u;
		if (!*s)
			return LB_OK;
		s++;
	}
bad:
	lb_free(v->v);
	v->v = NULL;
	return lb_errf(em, LB_EMALFORMED,
		       "value of '%s' is not a 64-bit integer or a comma-separated list of them "
		       "(no fractions)",
		       v->name);
}

/* ---- handlers ------------------------------------------------------------------------------ */

static int check_publish(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_oc_program *p;
	if (tx->payload_len > LB_OC_PROGRAM_MAX)
		return lb_errf(em, LB_ETOOBIG, "program of %zu bytes is larger than %u bytes",
			       tx->payload_len, (unsigned)LB_OC_PROGRAM_MAX);
	int rc = lb_oc_parse((const char *)tx->payload, tx->payload_len, &p, em);
	lb_oc_program_free(p);
	return rc;
}

static int apply_publish(struct lb_apply_ctx *c)
{
	uint8_t h[LB_HASH_LEN];
	const uint8_t *v;
	size_t vl;
	lb_oc_program_hash(h, c->tx->payload, c->tx->payload_len);
	int rc = lb_state_get(c->state, NS_PROG, h, LB_HASH_LEN, &v, &vl);
	if (rc == LB_OK) {
		char hex[2 * LB_HASH_LEN + 1];
		lb_hex_encode(hex, h, LB_HASH_LEN);
		return lb_errf(c->em, LB_EEXISTS, "program %s is already published; run it by hash",
			       hex);
	}
	if (rc != LB_ENOTFOUND)
		return lb_errf(c->em, rc, "reading published programs failed");
	return lb_state_put(c->state, NS_PROG, h, LB_HASH_LEN, c->tx->payload, c->tx->payload_len);
}

static int check_run(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_oc_run_tx r;
	int rc = lb_oc_run_decode(&r, tx->payload, tx->payload_len, em);
	if (rc)
		return rc;
	if (!r.by_hash) {
		struct lb_oc_program *p;
		rc = lb_oc_parse((const char *)r.text, r.text_len, &p, em);
		lb_oc_program_free(p);
	}
	lb_oc_run_tx_clear(&r);
	return rc;
}

/* The prepayment a run cites: the sender's own compute.prepay, anchored, for at least the
 * run's budget, used once; required when genesis set "compute": {"prepay": true}. */
static int use_prepay(struct lb_apply_ctx *c, const struct lb_oc_run_tx *r)
{
	uint64_t need = 0;
	const uint8_t *used;
	size_t ul;
	struct lb_tx tx;
	struct lb_oc_prepay pp;
	struct lb_proof_info info;
	int rc = lb_state_get_u64(c->state, NS_CFG, "prepay", 6, 0, &need);
	if (rc)
		return rc;
	if (!r->has_prepay)
		return need ? lb_errf(c->em, LB_EFUNDS,
				      "compute.run: this chain charges runs per step: send "
				      "compute.prepay on the settlement chain and cite it in the run")
			    : LB_OK;
	if ((rc = lb_apply_cite_info(c, "prepayment", r->prepay_tx, r->prepay_tx_len,
				     r->prepay_proof, r->prepay_proof_len, LB_CHAIN_SETTLEMENT,
				     LB_TX_COMPUTE_PREPAY, &tx, &info)))
		return rc;
	if (memcmp(tx.sender, c->tx->sender, LB_PUBKEY_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "compute.run: the cited prepayment was sent by another account: cite "
			       "your own");
	if ((rc = lb_oc_prepay_decode(&pp, tx.payload, tx.payload_len, c->em)))
		return rc;
	if (r->budget > pp.budget)
		return lb_errf(c->em, LB_EFUNDS,
			       "compute.run: a budget of %llu steps is more than the %llu prepaid",
			       (unsigned long long)r->budget, (unsigned long long)pp.budget);
	/* a prepayment with an expiry serves runs for the first half of it (its block's time,
	 * as the proof lb_apply_cite_info checked gives it), so that a run it paid for is settled
	 * before its payer may reclaim it */
	if (pp.has_expiry && c->time_ms >= lb_oc_prepay_use_end(info.time_ms, pp.expiry_s))
		return lb_errf(c->em, LB_EEXPIRED,
			       "compute.run: the cited prepayment (expiry %llu s) served runs until "
			       "%llu ms, half its expiry; this block's time is %llu ms: prepay again "
			       "(its payer may reclaim it once it expires)",
			       (unsigned long long)pp.expiry_s,
			       (unsigned long long)lb_oc_prepay_use_end(info.time_ms, pp.expiry_s),
			       (unsigned long long)c->time_ms);
	rc = lb_state_get(c->state, LB_OC_NS_PAID, tx.id, LB_HASH_LEN, &used, &ul);
	if (rc == LB_OK)
		return lb_errf(c->em, LB_EEXISTS,
			       "compute.run: the cited prepayment was used by another run already");
	if (rc != LB_ENOTFOUND)
		return rc;
	return lb_state_put(c->state, LB_OC_NS_PAID, tx.id, LB_HASH_LEN, c->tx->id, LB_HASH_LEN);
}

static int apply_run(struct lb_apply_ctx *c)
{
	struct lb_oc_run_tx r;
	struct lb_oc_program *p = NULL;
	struct lb_oc_result res = {0};
	struct lb_buf b = {0};
	uint8_t h[LB_HASH_LEN];
	lb_buf_init(&b, LB_STATE_VALUE_MAX);
	int rc = lb_oc_run_decode(&r, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	/* before reading the program: state reads may move what an earlier get borrowed */
	if ((rc = use_prepay(c, &r)))
		goto out;
	const uint8_t *text = r.text;
	size_t tlen = r.text_len;
	if (r.by_hash) {
		memcpy(h, r.hash, LB_HASH_LEN);
		rc = lb_state_get(c->state, NS_PROG, h, LB_HASH_LEN, &text, &tlen);
		if (rc == LB_ENOTFOUND) {
			char hex[2 * LB_HASH_LEN + 1];
			lb_hex_encode(hex, h, LB_HASH_LEN);
			rc = lb_errf(c->em, LB_ENOTFOUND,
				     "no published program %s; publish it with compute.publish", hex);
		}
		if (rc)
			goto out;
	} else {
		lb_oc_program_hash(h, text, tlen);
	}
	if ((rc = lb_oc_parse((const char *)text, tlen, &p, c->em)))
		goto out;
	if ((rc = lb_oc_run(p, r.in, r.nin, r.budget, LB_OC_MEM_MAX, &res, c->em)))
		goto out;
	if ((rc = lb_enc_u8(&b, 1)) || (rc = lb_enc_fixed(&b, h, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(&b, c->sender_addr, LB_ADDR_LEN)) || (rc = lb_enc_uvar(&b, r.budget)) ||
	    (rc = lb_enc_uvar(&b, res.steps)) || (rc = lb_enc_uvar(&b, res.mem)) ||
	    (rc = enc_values(&b, res.out, res.nout))) {
		if (rc == LB_ETOOBIG)
			rc = lb_errf(c->em, rc, "the run's outputs take more than %u bytes",
				     (unsigned)LB_STATE_VALUE_MAX);
		goto out;
	}
	rc = lb_state_put(c->state, NS_RUN, c->tx->id, LB_HASH_LEN, b.data, b.len);
out:
	lb_buf_release(&b);
	lb_oc_result_clear(&res);
	lb_oc_program_free(p);
	lb_oc_run_tx_clear(&r);
	return rc;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
	char s[2 * LB_HASH_LEN + 1];
	lb_hex_encode(s, p, n);
	return json_stringn(s, 2 * n);
}

static json_t *values_json(const struct lb_oc_value *v, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < n; i++) {
		json_t *x;
		if (v[i].is_list) {
			x = json_array();
			for (size_t k = 0; x && k < v[i].n; k++)
				json_array_append_new(x, json_integer(v[i].v[k]));
		} else {
			x = json_integer(v[i].v[0]);
		}
		json_object_set_new(o, v[i].name, x);
	}
	return o;
}

static json_t *json_publish(const struct lb_tx *tx)
{
	uint8_t h[LB_HASH_LEN];
	lb_oc_program_hash(h, tx->payload, tx->payload_len);
	return json_pack("{s:o,s:s%}", "program_hash", hexj(h, LB_HASH_LEN), "program",
			 (const char *)tx->payload, tx->payload_len);
}

static json_t *json_run(const struct lb_tx *tx)
{
	struct lb_oc_run_tx r;
	if (lb_oc_run_decode(&r, tx->payload, tx->payload_len, NULL))
		return NULL;
	uint8_t h[LB_HASH_LEN];
	if (r.by_hash)
		memcpy(h, r.hash, LB_HASH_LEN);
	else
		lb_oc_program_hash(h, r.text, r.text_len);
	json_t *j = json_pack("{s:o,s:b,s:I,s:o}", "program_hash", hexj(h, LB_HASH_LEN),
			      "by_hash", r.by_hash, "budget", (json_int_t)r.budget, "inputs",
			      values_json(r.in, r.nin));
	if (j && !r.by_hash)
		json_object_set_new(j, "program", json_stringn((const char *)r.text, r.text_len));
	lb_oc_run_tx_clear(&r);
	return j;
}

/* ---- views --------------------------------------------------------------------------------- */

struct view {
	const uint8_t *id;
	json_t *out;
};

static int v_run(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	const uint8_t *p;
	size_t n;
	int rc = lb_state_get(s, NS_RUN, v->id, LB_HASH_LEN, &p, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	uint8_t ver, h[LB_HASH_LEN], who[LB_ADDR_LEN];
	uint64_t budget, steps, mem;
	struct lb_oc_value *out = NULL;
	size_t nout = 0;
	lb_dec_init(&d, p, n, "stored run", NULL);
	if (lb_dec_u8(&d, "version", &ver) || ver != 1 || lb_dec_fixed(&d, "hash", h, sizeof h) ||
	    lb_dec_fixed(&d, "runner", who, sizeof who) ||
	    lb_dec_uvar(&d, "budget", UINT64_MAX, &budget) ||
	    lb_dec_uvar(&d, "steps", UINT64_MAX, &steps) ||
	    lb_dec_uvar(&d, "mem", UINT64_MAX, &mem) ||
	    dec_values(&d, LB_OC_OUTPUTS_MAX, &out, &nout))
		return LB_ECORRUPT;
	char addr[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(addr, who);
	v->out = json_pack("{s:o,s:o,s:s,s:I,s:I,s:I,s:o}", "run", hexj(v->id, LB_HASH_LEN),
			   "program_hash", hexj(h, LB_HASH_LEN), "runner", addr, "budget",
			   (json_int_t)budget, "steps",
			   (json_int_t)steps, "memory_bytes", (json_int_t)mem, "outputs",
			   values_json(out, nout));
	lb_oc_values_free(out, nout);
	return v->out ? LB_OK : LB_ENOMEM;
}

static int v_prog(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	const uint8_t *p;
	size_t n;
	int rc = lb_state_get(s, NS_PROG, v->id, LB_HASH_LEN, &p, &n);
	if (rc)
		return rc;
	v->out = json_pack("{s:o,s:s%}", "program_hash", hexj(v->id, LB_HASH_LEN), "program",
			   (const char *)p, n);
	return v->out ? LB_OK : LB_ENOMEM;
}

static int view(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], int (*fn)(struct lb_state *,
	       void *), const char *what, json_t **out, struct lb_errmsg *em)
{
	struct view v = {id, NULL};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, fn, &v);
	char hex[2 * LB_HASH_LEN + 1];
	lb_hex_encode(hex, id, LB_HASH_LEN);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, rc, "no %s %s on the business chain (is it committed yet?)", what,
			       hex);
	if (rc)
		return lb_errf(em, rc, "reading %s %s failed", what, hex);
	*out = v.out;
	return LB_OK;
}

int lb_oc_run_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		   struct lb_errmsg *em)
{
	return view(l, id, v_run, "compute run", out, em);
}

int lb_oc_program_json(struct lb_ledger *l, const uint8_t hash[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em)
{
	return view(l, hash, v_prog, "published program", out, em);
}

static const struct lb_txtype oc_types[] = {
	{LB_TX_COMPUTE_RUN, LB_CHAIN_BUSINESS, "compute.run", check_run, apply_run, json_run,
	 true},
	{LB_TX_COMPUTE_PUBLISH, LB_CHAIN_BUSINESS, "compute.publish", check_publish,
	 apply_publish, json_publish, true},
};

/* genesis.json "compute": {"prepay": true} (business chain): runs must be prepaid. */
static int genesis_oc(json_t *g, int chain, struct lb_state *s, struct lb_errmsg *em)
{
	json_t *cp = json_object_get(g, "compute"), *v = json_object_get(cp, "prepay");
	if (chain != LB_CHAIN_BUSINESS || !cp)
		return LB_OK;
	if (!json_is_object(cp) || (v && !json_is_boolean(v)))
		return lb_errf(em, LB_EINVALID,
			       "genesis: 'compute' must be {\"prepay\": true|false} (docs/economy.md)");
	return json_is_true(v) ? lb_state_put_u64(s, NS_CFG, "prepay", 6, 1) : LB_OK;
}

/* A run that cites no prepayment reads only the state and the tx (the program, the inputs
 * and the prepay flag); one citing a prepayment reads the block height (the proof's anchor
 * must be below it). */
static bool run_without_prepay(const struct lb_tx *tx)
{
	struct lb_oc_run_tx r;
	if (lb_oc_run_decode(&r, tx->payload, tx->payload_len, NULL))
		return false;
	bool free_run = !r.has_prepay;
	lb_oc_run_tx_clear(&r);
	return free_run;
}

int lb_onchain_register_txtypes(void)
{
	/* compute.publish reads only the state and the tx; compute.run too unless it cites a
	 * prepayment (then it is applied again in its block) */
	int rc = lb_txtype_register_rows(oc_types, sizeof oc_types / sizeof oc_types[0], false);
	if (!rc)
		rc = lb_txtype_mark_block_independent(LB_TX_COMPUTE_PUBLISH);
	if (!rc)
		rc = lb_txtype_mark_block_independent_when(LB_TX_COMPUTE_RUN, run_without_prepay);
	return rc ? rc : lb_genesis_hook_register(genesis_oc);
}
