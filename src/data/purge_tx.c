/*
 * Verifiable purge on the directory chain (ids 0x0220-0x022f, include/leben/data_purge.h):
 * data.purge records a request and the holders who must answer (the asset's owner and the
 * holders named), data.purge.receipt records one holder's answer; the views say who answered,
 * who is waiting and who is late (no receipt deadline blocks after the request).
 */
#include <string.h>

#include "data/data_int.h"
#include "leben/codec.h"
#include "leben/data_purge.h"
#include "leben/ledger.h"

/* ---- payloads ------------------------------------------------------------------------------ */

int lb_purge_tx_encode(const struct lb_purge_tx *p, struct lb_buf *out)
{
	int rc;
	if ((rc = lb_enc_fixed(out, p->asset_id, 32)) || (rc = lb_enc_u8(out, p->scope)) ||
	    (rc = lb_enc_u8(out, p->by)) || (rc = lb_enc_uvar(out, p->deadline)) ||
	    (rc = lb_enc_uvar(out, p->npatients)) ||
	    (p->npatients && (rc = lb_enc_fixed(out, p->patients, p->npatients * 32))) ||
	    (rc = lb_enc_uvar(out, p->nholders)) ||
	    (p->nholders && (rc = lb_enc_fixed(out, p->holders, p->nholders * LB_ADDR_LEN))))
		return rc;
	return lb_enc_str(out, p->reason);
}

/* A borrowed array of n items of size sz. */
static int dec_array(struct lb_dec *d, const char *field, uint64_t max, size_t sz,
		     const uint8_t **out, size_t *n)
{
	uint64_t k;
	int rc = lb_dec_uvar(d, field, max, &k);
	if (rc)
		return rc;
	*n = (size_t)k;
	*out = NULL;
	if (!k)
		return LB_OK;
	if (d->len - d->pos < k * sz)
		return lb_dec_fail(d, LB_ETRUNCATED, field, "%llu entries of %zu bytes do not fit",
				   (unsigned long long)k, sz);
	*out = d->p + d->pos;
	d->pos += (size_t)k * sz;
	return LB_OK;
}

int lb_purge_tx_decode(const uint8_t *buf, size_t len, struct lb_purge_tx *p,
		       struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(p, 0, sizeof *p);
	lb_dec_init(&d, buf, len, "data.purge payload", em);
	if ((rc = lb_dec_fixed(&d, "asset_id", p->asset_id, 32)) ||
	    (rc = lb_dec_u8(&d, "scope", &p->scope)) || (rc = lb_dec_u8(&d, "by", &p->by)) ||
	    (rc = lb_dec_uvar(&d, "deadline", LB_PURGE_DEADLINE_MAX, &p->deadline)) ||
	    (rc = dec_array(&d, "patients", LB_PURGE_PATIENTS_MAX, 32, &p->patients,
			    &p->npatients)) ||
	    (rc = dec_array(&d, "holders", LB_PURGE_HOLDERS_MAX, LB_ADDR_LEN, &p->holders,
			    &p->nholders)) ||
	    (rc = lb_dec_str(&d, "reason", LB_PURGE_REASON_MAX, p->reason, sizeof p->reason)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (p->scope != LB_PURGE_ASSET && p->scope != LB_PURGE_PATIENTS)
		return lb_errf(em, LB_EINVALID, "data.purge: scope %u is neither 1 (the asset) nor 2 "
						"(patients' records)", p->scope);
	if (p->by != LB_PURGE_BY_OWNER && p->by != LB_PURGE_BY_PATIENT)
		return lb_errf(em, LB_EINVALID, "data.purge: 'by' %u is neither 1 (owner) nor 2 "
						"(patient)", p->by);
	if (!p->deadline)
		return lb_errf(em, LB_EINVALID, "data.purge: the deadline is 1 to %d blocks",
			       LB_PURGE_DEADLINE_MAX);
	if ((p->scope == LB_PURGE_PATIENTS) != (p->npatients > 0))
		return lb_errf(em, LB_EINVALID,
			       p->npatients ? "data.purge: a whole-asset purge names no patients"
					    : "data.purge: a patients' purge names at least one patient");
	for (size_t i = 0; i < p->nholders; i++)
		for (size_t j = 0; j < i; j++)
			if (!memcmp(p->holders + i * LB_ADDR_LEN, p->holders + j * LB_ADDR_LEN,
				    LB_ADDR_LEN))
				return lb_errf(em, LB_EINVALID, "data.purge: holder %zu is named twice",
					       i);
	return LB_OK;
}

int lb_purge_receipt_encode(const struct lb_purge_receipt_tx *r, struct lb_buf *out)
{
	int rc;
	if ((rc = lb_enc_fixed(out, r->request, 32)) || (rc = lb_enc_fixed(out, r->asset_id, 32)) ||
	    (rc = lb_enc_uvar(out, r->nobjects)) ||
	    (r->nobjects && (rc = lb_enc_fixed(out, r->objects, r->nobjects * 32))))
		return rc;
	return lb_enc_str(out, r->note);
}

int lb_purge_receipt_decode(const uint8_t *buf, size_t len, struct lb_purge_receipt_tx *r,
			    struct lb_errmsg *em)
{
	struct lb_dec d;
	memset(r, 0, sizeof *r);
	lb_dec_init(&d, buf, len, "data.purge.receipt payload", em);
	int rc;
	if ((rc = lb_dec_fixed(&d, "request", r->request, 32)) ||
	    (rc = lb_dec_fixed(&d, "asset_id", r->asset_id, 32)) ||
	    (rc = dec_array(&d, "objects", LB_PURGE_OBJECTS_MAX, 32, &r->objects, &r->nobjects)) ||
	    (rc = lb_dec_str(&d, "note", LB_PURGE_REASON_MAX, r->note, sizeof r->note)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	return LB_OK;
}

/* ---- the request record ---------------------------------------------------------------------- */

struct preq {
	uint8_t asset[32];
	uint8_t scope, by;
	uint8_t requester[LB_ADDR_LEN];
	uint64_t height, time_ms, deadline, answered;
	size_t npatients, nholders;
	uint8_t patients[LB_PURGE_PATIENTS_MAX][32];
	uint8_t holders[LB_PURGE_HOLDERS_MAX + 1][LB_ADDR_LEN];
	char reason[LB_PURGE_REASON_MAX + 1];
};

static int preq_store(struct lb_state *s, const uint8_t id[32], const struct preq *r)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	int rc;
	if (!(rc = lb_enc_fixed(&b, r->asset, 32)) && !(rc = lb_enc_u8(&b, r->scope)) &&
	    !(rc = lb_enc_u8(&b, r->by)) && !(rc = lb_enc_fixed(&b, r->requester, LB_ADDR_LEN)) &&
	    !(rc = lb_enc_uvar(&b, r->height)) && !(rc = lb_enc_uvar(&b, r->time_ms)) &&
	    !(rc = lb_enc_uvar(&b, r->deadline)) && !(rc = lb_enc_uvar(&b, r->answered)) &&
	    !(rc = lb_enc_uvar(&b, r->npatients)) &&
	    !(rc = lb_enc_fixed(&b, r->patients, r->npatients * 32)) &&
	    !(rc = lb_enc_uvar(&b, r->nholders)) &&
	    !(rc = lb_enc_fixed(&b, r->holders, r->nholders * LB_ADDR_LEN)) &&
	    !(rc = lb_enc_str(&b, r->reason)))
		rc = lb_state_put(s, "purge.req", id, 32, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

static int preq_load(struct lb_state *s, const uint8_t id[32], struct preq *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, "purge.req", id, 32, &v, &n);
	if (rc)
		return rc;
	memset(r, 0, sizeof *r);
	struct lb_dec d;
	const uint8_t *pp, *hh;
	lb_dec_init(&d, v, n, "purge request record", NULL);
	if (lb_dec_fixed(&d, "asset", r->asset, 32) || lb_dec_u8(&d, "scope", &r->scope) ||
	    lb_dec_u8(&d, "by", &r->by) || lb_dec_fixed(&d, "requester", r->requester, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "height", UINT64_MAX, &r->height) ||
	    lb_dec_uvar(&d, "time", UINT64_MAX, &r->time_ms) ||
	    lb_dec_uvar(&d, "deadline", UINT64_MAX, &r->deadline) ||
	    lb_dec_uvar(&d, "answered", UINT64_MAX, &r->answered) ||
	    dec_array(&d, "patients", LB_PURGE_PATIENTS_MAX, 32, &pp, &r->npatients) ||
	    dec_array(&d, "holders", LB_PURGE_HOLDERS_MAX + 1, LB_ADDR_LEN, &hh, &r->nholders) ||
	    lb_dec_str(&d, "reason", LB_PURGE_REASON_MAX, r->reason, sizeof r->reason) ||
	    lb_dec_end(&d))
		return LB_ECORRUPT;
	if (r->npatients)
		memcpy(r->patients, pp, r->npatients * 32);
	if (r->nholders)
		memcpy(r->holders, hh, r->nholders * LB_ADDR_LEN);
	return LB_OK;
}

static int holder_index(const struct preq *r, const uint8_t who[LB_ADDR_LEN])
{
	for (size_t i = 0; i < r->nholders; i++)
		if (!memcmp(r->holders[i], who, LB_ADDR_LEN))
			return (int)i;
	return -1;
}

/* ---- handlers ------------------------------------------------------------------------------- */

static int check_purge(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_purge_tx p;
	return lb_purge_tx_decode(tx->payload, tx->payload_len, &p, em);
}

static int apply_purge(struct lb_apply_ctx *c)
{
	struct lb_purge_tx p;
	char hex[65];
	int rc = lb_purge_tx_decode(c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	lb_hex_encode(hex, p.asset_id, 32);
	uint8_t owner[LB_ADDR_LEN];
	bool may = false;
	int status = 0;
	if ((rc = data_asset_holder(c->state, p.asset_id, owner, c->sender_addr, &may, &status)))
		return lb_errf(c->em, rc, "asset %s %s", hex,
			       rc == LB_ENOTFOUND ? "is not registered" : "cannot be read");
	if (!may)
		return lb_errf(c->em, LB_EUNAUTH,
			       "asset %s: only its owner or a co-owner asks for a purge (a patient asks "
			       "the owner, who sends it at the patient's request)",
			       hex);
	if (status == 2)
		return lb_errf(c->em, LB_EINVALID, "asset %s is already purged", hex);
	struct preq *r = lb_calloc(1, sizeof *r);
	if (!r)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	memcpy(r->asset, p.asset_id, 32);
	r->scope = p.scope;
	r->by = p.by;
	memcpy(r->requester, c->sender_addr, LB_ADDR_LEN);
	r->height = c->height;
	r->time_ms = c->time_ms;
	r->deadline = p.deadline;
	r->npatients = p.npatients;
	if (p.npatients)
		memcpy(r->patients, p.patients, p.npatients * 32);
	memcpy(r->holders[0], owner, LB_ADDR_LEN);
	r->nholders = 1;
	for (size_t i = 0; i < p.nholders; i++)
		if (holder_index(r, p.holders + i * LB_ADDR_LEN) < 0)
			memcpy(r->holders[r->nholders++], p.holders + i * LB_ADDR_LEN, LB_ADDR_LEN);
	snprintf(r->reason, sizeof r->reason, "%s", p.reason);
	const uint8_t *id = c->tx->id;
	uint64_t na = 0, nall = 0;
	uint8_t key[36], ik[8];
	if (!(rc = preq_store(c->state, id, r)) &&
	    !(rc = lb_state_get_u64(c->state, "purge.asset", p.asset_id, 32, 0, &na))) {
		memcpy(key, p.asset_id, 32);
		for (int i = 0; i < 4; i++)
			key[32 + i] = (uint8_t)(na >> (24 - 8 * i));
		rc = lb_state_put(c->state, "purge.asset.i", key, sizeof key, id, 32);
	}
	if (!rc)
		rc = lb_state_put_u64(c->state, "purge.asset", p.asset_id, 32, na + 1);
	if (!rc)
		rc = lb_state_get_u64(c->state, "purge.all", "n", 1, 0, &nall);
	if (!rc) {
		for (int i = 0; i < 8; i++)
			ik[i] = (uint8_t)(nall >> (56 - 8 * i));
		rc = lb_state_put(c->state, "purge.idx", ik, sizeof ik, id, 32);
	}
	if (!rc)
		rc = lb_state_put_u64(c->state, "purge.all", "n", 1, nall + 1);
	/* each patient's own index: the patient's view lists the purges of its records */
	for (size_t i = 0; !rc && i < p.npatients; i++) {
		uint64_t np = 0;
		const uint8_t *pat = p.patients + i * 32;
		if ((rc = lb_state_get_u64(c->state, "purge.patient", pat, 32, 0, &np)))
			break;
		memcpy(key, pat, 32);
		for (int k = 0; k < 4; k++)
			key[32 + k] = (uint8_t)(np >> (24 - 8 * k));
		if (!(rc = lb_state_put(c->state, "purge.patient.i", key, sizeof key, id, 32)))
			rc = lb_state_put_u64(c->state, "purge.patient", pat, 32, np + 1);
	}
	if (!rc && p.scope == LB_PURGE_ASSET)
		rc = data_asset_mark_purged(c->state, p.asset_id);
	lb_free(r);
	return rc;
}

static int check_receipt(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_purge_receipt_tx r;
	return lb_purge_receipt_decode(tx->payload, tx->payload_len, &r, em);
}

static int apply_receipt(struct lb_apply_ctx *c)
{
	struct lb_purge_receipt_tx t;
	char hex[65];
	int rc = lb_purge_receipt_decode(c->tx->payload, c->tx->payload_len, &t, c->em);
	if (rc)
		return rc;
	lb_hex_encode(hex, t.request, 32);
	struct preq *r = lb_calloc(1, sizeof *r);
	if (!r)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	uint8_t key[32 + LB_ADDR_LEN];
	const uint8_t *v;
	size_t n;
	if ((rc = preq_load(c->state, t.request, r))) {
		rc = lb_errf(c->em, rc, "purge request %s %s", hex,
			     rc == LB_ENOTFOUND ? "is not on the directory chain" : "cannot be read");
		goto out;
	}
	if (memcmp(r->asset, t.asset_id, 32)) {
		rc = lb_errf(c->em, LB_EINVALID, "purge request %s is about another asset", hex);
		goto out;
	}
	if (holder_index(r, c->sender_addr) < 0) {
		rc = lb_errf(c->em, LB_EUNAUTH,
			     "purge request %s does not name the sender as a holder of the asset", hex);
		goto out;
	}
	memcpy(key, t.request, 32);
	memcpy(key + 32, c->sender_addr, LB_ADDR_LEN);
	if (lb_state_get(c->state, "purge.rcpt", key, sizeof key, &v, &n) == LB_OK) {
		rc = lb_errf(c->em, LB_EDUPLICATE, "this holder already answered purge request %s",
			     hex);
		goto out;
	}
	struct lb_buf b;
	lb_buf_init(&b, 256);
	if (!(rc = lb_enc_uvar(&b, c->height)) && !(rc = lb_enc_uvar(&b, c->time_ms)) &&
	    !(rc = lb_enc_uvar(&b, t.nobjects)))
		rc = lb_state_put(c->state, "purge.rcpt", key, sizeof key, b.data, b.len);
	lb_buf_release(&b);
	r->answered++;
	if (!rc)
		rc = preq_store(c->state, t.request, r);
out:
	lb_free(r);
	return rc;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	lb_hex_encode(buf, p, n);
	return json_string(buf);
}

static json_t *addrj(const uint8_t *a)
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, a);
	return json_string(t);
}

static json_t *hash_list(const uint8_t *p, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, hexj(p + i * 32, 32));
	return a;
}

static const char *scope_word(int s)
{
	return s == LB_PURGE_ASSET ? "asset" : "patients";
}

static const char *by_word(int b)
{
	return b == LB_PURGE_BY_PATIENT ? "patient" : "owner";
}

static json_t *json_purge(const struct lb_tx *tx)
{
	struct lb_purge_tx p;
	if (lb_purge_tx_decode(tx->payload, tx->payload_len, &p, NULL))
		return NULL;
	json_t *h = json_array();
	for (size_t i = 0; i < p.nholders; i++)
		json_array_append_new(h, addrj(p.holders + i * LB_ADDR_LEN));
	return json_pack("{s:o,s:s,s:s,s:I,s:o,s:o,s:s}", "asset_id", hexj(p.asset_id, 32),
			 "scope", scope_word(p.scope), "by", by_word(p.by), "deadline",
			 (json_int_t)p.deadline, "patients", hash_list(p.patients, p.npatients),
			 "holders", h, "reason", p.reason);
}

static json_t *json_receipt(const struct lb_tx *tx)
{
	struct lb_purge_receipt_tx r;
	if (lb_purge_receipt_decode(tx->payload, tx->payload_len, &r, NULL))
		return NULL;
	return json_pack("{s:o,s:o,s:o,s:s}", "request", hexj(r.request, 32), "asset_id",
			 hexj(r.asset_id, 32), "objects", hash_list(r.objects, r.nobjects), "note",
			 r.note);
}

static const struct lb_txtype purge_types[] = {
	{LB_TX_DATA_PURGE, LB_CHAIN_DIRECTORY, "data.purge", check_purge, apply_purge, json_purge,
	 true},
	{LB_TX_DATA_PURGE_RECEIPT, LB_CHAIN_DIRECTORY, "data.purge.receipt", check_receipt,
	 apply_receipt, json_receipt, true},
};

int lb_purge_register_txtypes(void)
{
	/* both record the block's height and time */
	return lb_txtype_register_rows(purge_types, sizeof purge_types / sizeof purge_types[0],
				       false);
}

/* ---- views ---------------------------------------------------------------------------------- */

struct view {
	const uint8_t *asset, *holder;
	uint64_t tip, from, count;
	json_t *out;
	bool whole;
	uint64_t when;
	json_t *patients;
	struct lb_purge_todo *todo;
	size_t n, cap;
	struct lb_errmsg *em;
};

static int request_id_in(struct lb_state *s, const char *ns, const uint8_t subject[32],
			 uint64_t i, uint8_t id[32])
{
	uint8_t key[36];
	const uint8_t *v;
	size_t n;
	memcpy(key, subject, 32);
	for (int k = 0; k < 4; k++)
		key[32 + k] = (uint8_t)(i >> (24 - 8 * k));
	int rc = lb_state_get(s, ns, key, sizeof key, &v, &n);
	if (rc)
		return rc;
	if (n != 32)
		return LB_ECORRUPT;
	memcpy(id, v, 32);
	return LB_OK;
}

static json_t *request_json(struct lb_state *s, const uint8_t id[32], const struct preq *r,
			    uint64_t tip)
{
	json_t *hs = json_array();
	bool complete = true;
	for (size_t i = 0; i < r->nholders; i++) {
		uint8_t key[32 + LB_ADDR_LEN];
		const uint8_t *v;
		size_t n;
		memcpy(key, id, 32);
		memcpy(key + 32, r->holders[i], LB_ADDR_LEN);
		json_t *h = json_pack("{s:o,s:s}", "holder", addrj(r->holders[i]), "role",
				      i == 0 ? "owner" : "executor");
		if (lb_state_get(s, "purge.rcpt", key, sizeof key, &v, &n) == LB_OK) {
			struct lb_dec d;
			uint64_t hgt = 0, t = 0, objs = 0;
			lb_dec_init(&d, v, n, "purge receipt record", NULL);
			lb_dec_uvar(&d, "height", UINT64_MAX, &hgt);
			lb_dec_uvar(&d, "time", UINT64_MAX, &t);
			lb_dec_uvar(&d, "objects", UINT64_MAX, &objs);
			json_object_set_new(h, "status", json_string("answered"));
			json_object_set_new(h, "height", json_integer((json_int_t)hgt));
			json_object_set_new(h, "time_ms", json_integer((json_int_t)t));
			json_object_set_new(h, "objects", json_integer((json_int_t)objs));
		} else {
			complete = false;
			json_object_set_new(h, "status", json_string(tip > r->height + r->deadline
									     ? "late"
									     : "waiting"));
		}
		json_array_append_new(hs, h);
	}
	return json_pack("{s:o,s:s,s:s,s:o,s:I,s:I,s:I,s:o,s:s,s:b,s:I,s:o}", "request",
			 hexj(id, 32), "scope", scope_word(r->scope), "by", by_word(r->by),
			 "requested_by", addrj(r->requester), "height", (json_int_t)r->height,
			 "time_ms", (json_int_t)r->time_ms, "deadline_height",
			 (json_int_t)(r->height + r->deadline), "patients",
			 hash_list(&r->patients[0][0], r->npatients), "reason", r->reason,
			 "complete", complete, "answered", (json_int_t)r->answered, "holders", hs);
}

/* Every request of a subject's index (count_ns: subject -> n; index_ns: subject | u32 i ->
 * request id), loaded into r and passed to fn; *n = the count. */
static int each_request(struct lb_state *s, struct view *v, const char *count_ns,
			const char *index_ns, const char *whose,
			void (*fn)(struct lb_state *, struct view *, const uint8_t *,
				   const struct preq *, json_t *),
			json_t *reqs)
{
	uint64_t n = 0;
	int rc = lb_state_get_u64(s, count_ns, v->asset, 32, 0, &n);
	if (rc)
		return lb_errf(v->em, rc, "reading the purge index failed");
	struct preq *r = lb_calloc(1, sizeof *r);
	if (!r)
		return lb_errf(v->em, LB_ENOMEM, "out of memory");
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint8_t id[32];
		if ((rc = request_id_in(s, index_ns, v->asset, i, id)) || (rc = preq_load(s, id, r)))
			rc = lb_errf(v->em, LB_ECORRUPT, "purge request %llu of the %s is damaged",
				     (unsigned long long)i, whose);
		else
			fn(s, v, id, r, reqs);
	}
	lb_free(r);
	v->count = n;
	return rc;
}

static void asset_one(struct lb_state *s, struct view *v, const uint8_t *id,
		      const struct preq *r, json_t *reqs)
{
	if (r->scope == LB_PURGE_ASSET) {
		v->whole = true;
		v->when = r->time_ms;
	}
	for (size_t k = 0; v->patients && k < r->npatients; k++)
		json_array_append_new(v->patients, hexj(r->patients[k], 32));
	if (v->out)
		json_array_append_new(reqs, request_json(s, id, r, v->tip));
}

static void patient_one(struct lb_state *s, struct view *v, const uint8_t *id,
			const struct preq *r, json_t *reqs)
{
	json_t *one = request_json(s, id, r, v->tip);
	json_object_set_new(one, "asset_id", hexj(r->asset, 32));
	json_object_del(one, "patients"); /* the others named with this patient stay out */
	json_array_append_new(reqs, one);
}

/* The requests of the subject (an asset, or with patient a patient's commitment) into
 * v->out under key. */
static int view_requests(struct lb_state *s, struct view *v, bool patient)
{
	json_t *reqs = json_array();
	int rc = patient ? each_request(s, v, "purge.patient", "purge.patient.i", "patient",
					patient_one, reqs)
			 : each_request(s, v, "purge.asset", "purge.asset.i", "asset", asset_one,
					reqs);
	if (!rc && v->out)
		json_object_set_new(v->out, patient ? "purges" : "requests", json_incref(reqs));
	json_decref(reqs);
	return rc;
}

static int v_status(struct lb_state *s, void *ctx)
{
	return view_requests(s, ctx, false);
}

int lb_purge_status_json(struct lb_ledger *l, const uint8_t asset[32], json_t **out,
			 struct lb_errmsg *em)
{
	struct view v = {.asset = asset, .tip = lb_ledger_height(l, LB_CHAIN_DIRECTORY), .em = em};
	v.out = json_pack("{s:o}", "asset_id", hexj(asset, 32));
	int rc = lb_ledger_state_view(l, LB_CHAIN_DIRECTORY, v_status, &v);
	if (!rc && !v.count) {
		char hex[65];
		lb_hex_encode(hex, asset, 32);
		rc = lb_errf(em, LB_ENOTFOUND, "no purge was asked for asset %s", hex);
	}
	if (rc) {
		json_decref(v.out);
		return rc;
	}
	json_object_set_new(v.out, "purged", json_boolean(v.whole));
	if (v.whole)
		json_object_set_new(v.out, "purged_at", json_integer((json_int_t)v.when));
	json_object_set_new(v.out, "directory_height", json_integer((json_int_t)v.tip));
	*out = v.out;
	return LB_OK;
}

int lb_purge_of(struct lb_ledger *l, const uint8_t asset[32], bool *whole, uint64_t *when,
		json_t **patients)
{
	struct lb_errmsg em;
	struct view v = {.asset = asset, .em = &em, .patients = patients ? json_array() : NULL};
	int rc = lb_ledger_state_view(l, LB_CHAIN_DIRECTORY, v_status, &v);
	*whole = !rc && v.whole;
	*when = v.when;
	if (patients)
		*patients = v.patients;
	return LB_OK;
}

static int v_patient(struct lb_state *s, void *ctx)
{
	return view_requests(s, ctx, true);
}

int lb_purge_patient_json(struct lb_ledger *l, const uint8_t patient[32], json_t **out,
			  struct lb_errmsg *em)
{
	struct view v = {.asset = patient, .tip = lb_ledger_height(l, LB_CHAIN_DIRECTORY), .em = em};
	v.out = json_pack("{s:o,s:I}", "patient", hexj(patient, 32), "directory_height",
			  (json_int_t)v.tip);
	int rc = lb_ledger_state_view(l, LB_CHAIN_DIRECTORY, v_patient, &v);
	if (rc) {
		json_decref(v.out);
		return rc;
	}
	*out = v.out;
	return LB_OK;
}

static int v_pending(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint64_t nall = 0;
	int rc = lb_state_get_u64(s, "purge.all", "n", 1, 0, &nall);
	if (rc)
		return rc;
	struct preq *r = lb_calloc(1, sizeof *r);
	if (!r)
		return LB_ENOMEM;
	bool advance = true;
	if (v->from > nall) /* a cursor of another history (the chain was replaced) */
		v->from = 0;
	for (uint64_t i = v->from; i < nall && v->n < v->cap; i++) {
		uint8_t ik[8], id[32], key[32 + LB_ADDR_LEN];
		const uint8_t *val;
		size_t n;
		for (int k = 0; k < 8; k++)
			ik[k] = (uint8_t)(i >> (56 - 8 * k));
		if (lb_state_get(s, "purge.idx", ik, sizeof ik, &val, &n) || n != 32)
			continue;
		memcpy(id, val, 32);
		if (preq_load(s, id, r)) {
			if (advance)
				v->from = i + 1;
			continue;
		}
		bool named = holder_index(r, v->holder) >= 0;
		memcpy(key, id, 32);
		memcpy(key + 32, v->holder, LB_ADDR_LEN);
		if (named && lb_state_get(s, "purge.rcpt", key, sizeof key, &val, &n) == LB_OK) {
			if (advance)
				v->from = i + 1;
			continue;
		}
		/* a request that does not name the holder is handed out once (copies it may hold
		 * all the same are destroyed, without a receipt); a named one until it answers */
		if (named)
			advance = false;
		else if (advance)
			v->from = i + 1;
		struct lb_purge_todo *t = &v->todo[v->n++];
		memcpy(t->request, id, 32);
		memcpy(t->asset_id, r->asset, 32);
		t->scope = r->scope;
		t->index = i;
		t->named = named;
	}
	lb_free(r);
	return LB_OK;
}

int lb_purge_pending(struct lb_ledger *l, const uint8_t holder[LB_ADDR_LEN], uint64_t *from,
		     struct lb_purge_todo **todo, size_t *n, struct lb_errmsg *em)
{
	struct view v = {.holder = holder, .from = *from, .cap = 64, .em = em};
	*todo = NULL;
	*n = 0;
	if (!(v.todo = lb_calloc(v.cap, sizeof *v.todo)))
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_ledger_state_view(l, LB_CHAIN_DIRECTORY, v_pending, &v);
	if (rc) {
		lb_free(v.todo);
		return lb_errf(em, rc, "reading the purge requests failed");
	}
	*from = v.from;
	*todo = v.todo;
	*n = v.n;
	return LB_OK;
}
