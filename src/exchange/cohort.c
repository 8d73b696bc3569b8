/*
 * Cohort study with ethical review: the business-chain txs 0x03b0-0x03b5 and the owner
 * node's check of a cohort round (leben/cohort.h; docs/apps.md section 3).
 */
#include <stdio.h>
#include <string.h>

#include "exchange/xchg_int.h"
#include "leben/codec.h"
#include "leben/cohort.h"

/* ---- payloads ------------------------------------------------------------------------------ */

int lb_cohort_encode(const struct lb_cohort_tx *t, struct lb_buf *out)
{
	int rc = LB_OK;
	switch (t->type) {
	case LB_TX_COHORT_COMMITTEE:
		if ((rc = lb_enc_str(out, t->name)) || (rc = lb_enc_uvar(out, t->k)) || (rc = lb_enc_uvar(out, t->n)))
			return rc;
		for (uint64_t i = 0; i < t->n && !rc; i++)
			rc = lb_enc_fixed(out, t->members[i], LB_ADDR_LEN);
		return rc;
	case LB_TX_COHORT_PROTOCOL:
		if ((rc = lb_enc_fixed(out, t->id, LB_HASH_LEN)) || (rc = lb_enc_str(out, t->name)))
			return rc;
		return lb_enc_bytes(out, t->protocol, t->protocol ? strlen(t->protocol) : 0);
	case LB_TX_COHORT_APPROVE:
		if ((rc = lb_enc_fixed(out, t->id, LB_HASH_LEN)))
			return rc;
		return lb_enc_fixed(out, t->hash, LB_HASH_LEN);
	case LB_TX_COHORT_OPTIN:
	case LB_TX_COHORT_WITHDRAW:
		if ((rc = lb_enc_fixed(out, t->id, LB_HASH_LEN)) || (rc = lb_enc_fixed(out, t->asset, LB_HASH_LEN)))
			return rc;
		return lb_enc_fixed(out, t->patient, LB_HASH_LEN);
	case LB_TX_COHORT_ROUND:
		if ((rc = lb_enc_fixed(out, t->id, LB_HASH_LEN)))
			return rc;
		return lb_enc_uvar(out, t->round);
	default:
		return LB_EINVALID;
	}
}

int lb_cohort_decode(uint32_t type, const uint8_t *p, size_t len, struct lb_cohort_tx *t, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(t, 0, sizeof *t);
	t->type = type;
	lb_dec_init(&d, p, len, "cohort payload", em);
	switch (type) {
	case LB_TX_COHORT_COMMITTEE:
		if ((rc = lb_dec_str(&d, "name", LB_COHORT_NAME_MAX, t->name, sizeof t->name)) ||
		    (rc = lb_dec_uvar(&d, "k", LB_COHORT_MEMBERS_MAX, &t->k)) ||
		    (rc = lb_dec_uvar(&d, "n", LB_COHORT_MEMBERS_MAX, &t->n)))
			return rc;
		for (uint64_t i = 0; i < t->n; i++)
			if ((rc = lb_dec_fixed(&d, "member", t->members[i], LB_ADDR_LEN)))
				return rc;
		if (!t->name[0] || t->n == 0 || t->k == 0 || t->k > t->n)
			return lb_errf(em, LB_EINVALID, "an ethics committee needs a name, at least one member and "
							"1 <= k <= n (k = %llu, n = %llu)",
				       (unsigned long long)t->k, (unsigned long long)t->n);
		for (uint64_t i = 0; i < t->n; i++)
			for (uint64_t j = 0; j < i; j++)
				if (!memcmp(t->members[i], t->members[j], LB_ADDR_LEN))
					return lb_errf(em, LB_EINVALID, "committee members %llu and %llu are the same key",
						       (unsigned long long)j + 1, (unsigned long long)i + 1);
		break;
	case LB_TX_COHORT_PROTOCOL: {
		const uint8_t *b;
		size_t n;
		if ((rc = lb_dec_fixed(&d, "committee", t->id, LB_HASH_LEN)) ||
		    (rc = lb_dec_str(&d, "name", LB_COHORT_NAME_MAX, t->name, sizeof t->name)) ||
		    (rc = lb_dec_bytes(&d, "protocol", LB_COHORT_PROTOCOL_MAX, &b, &n)))
			return rc;
		if (!t->name[0])
			return lb_errf(em, LB_EINVALID, "a study protocol needs a name");
		if (!(t->protocol = lb_malloc(n + 1)))
			return lb_errf(em, LB_ENOMEM, "out of memory");
		memcpy(t->protocol, b, n);
		t->protocol[n] = 0;
		break;
	}
	case LB_TX_COHORT_APPROVE:
		if ((rc = lb_dec_fixed(&d, "cohort", t->id, LB_HASH_LEN)) ||
		    (rc = lb_dec_fixed(&d, "protocol_hash", t->hash, LB_HASH_LEN)))
			return rc;
		break;
	case LB_TX_COHORT_OPTIN:
	case LB_TX_COHORT_WITHDRAW:
		if ((rc = lb_dec_fixed(&d, "cohort", t->id, LB_HASH_LEN)) ||
		    (rc = lb_dec_fixed(&d, "asset", t->asset, LB_HASH_LEN)) ||
		    (rc = lb_dec_fixed(&d, "patient", t->patient, LB_HASH_LEN)))
			return rc;
		break;
	case LB_TX_COHORT_ROUND:
		if ((rc = lb_dec_fixed(&d, "cohort", t->id, LB_HASH_LEN)) ||
		    (rc = lb_dec_uvar(&d, "round", 1000000, &t->round)))
			return rc;
		if (t->round == 0)
			return lb_errf(em, LB_EINVALID, "rounds are numbered from 1");
		break;
	default:
		return lb_errf(em, LB_EUNKNOWNTYPE, "not a cohort tx type: 0x%04x", type);
	}
	if ((rc = lb_dec_end(&d))) {
		lb_free(t->protocol);
		t->protocol = NULL;
	}
	return rc;
}

static void id_of(uint8_t out[LB_HASH_LEN], const char *domain, const uint8_t who[LB_ADDR_LEN], const char *name)
{
	uint8_t buf[LB_ADDR_LEN + LB_COHORT_NAME_MAX + 1];
	size_t n = strlen(name);
	if (n > LB_COHORT_NAME_MAX)
		n = LB_COHORT_NAME_MAX;
	memcpy(buf, who, LB_ADDR_LEN);
	memcpy(buf + LB_ADDR_LEN, name, n);
	lb_hash_domain(out, domain, buf, LB_ADDR_LEN + n);
}

void lb_cohort_committee_id(uint8_t out[LB_HASH_LEN], const uint8_t creator[LB_ADDR_LEN], const char *name)
{
	id_of(out, "LEBEN-cohort-committee-v1", creator, name);
}

void lb_cohort_id(uint8_t out[LB_HASH_LEN], const uint8_t sponsor[LB_ADDR_LEN], const char *name)
{
	id_of(out, "LEBEN-cohort-v1", sponsor, name);
}

/* ---- the protocol ---------------------------------------------------------------------------- */

static int want_uint(const json_t *o, const char *key, const char *where, bool positive, struct lb_errmsg *em)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < (positive ? 1 : 0) ||
	    json_integer_value(v) > 100000000)
		return lb_errf(em, LB_EINVALID, "protocol: %s.%s must be an integer %s", where, key,
			       positive ? ">= 1" : ">= 0");
	return LB_OK;
}

int lb_cohort_protocol_check(const char *text, json_t **canon, uint8_t hash[LB_HASH_LEN], struct lb_errmsg *em)
{
	json_error_t jerr;
	json_t *p = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	int rc = LB_OK;
	if (!json_is_object(p)) {
		rc = lb_errf(em, LB_EINVALID, "protocol: not a JSON object (%s, line %d)", jerr.text, jerr.line);
		goto out;
	}
	const json_t *algos = json_object_get(p, "algorithms"), *sch = json_object_get(p, "schedule");
	if (!json_is_string(json_object_get(p, "title"))) {
		rc = lb_errf(em, LB_EINVALID, "protocol: \"title\" (a string) is missing");
		goto out;
	}
	if (!json_is_object(json_object_get(p, "criteria"))) {
		rc = lb_errf(em, LB_EINVALID, "protocol: \"criteria\" (the inclusion criteria, an object) is missing");
		goto out;
	}
	if (!json_is_array(algos) || json_array_size(algos) == 0 || json_array_size(algos) > 16) {
		rc = lb_errf(em, LB_EINVALID, "protocol: \"algorithms\" must list 1 to 16 {\"algorithm\", \"params\"}");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(algos); i++) {
		json_t *a = json_array_get(algos, i);
		const char *name = json_string_value(json_object_get(a, "algorithm"));
		if (!name || !json_is_object(json_object_get(a, "params"))) {
			rc = lb_errf(em, LB_EINVALID, "protocol: algorithms[%zu] needs \"algorithm\" (a name) and "
						      "\"params\" (an object)", i);
			goto out;
		}
		uint8_t h[LB_HASH_LEN];
		char hx[2 * LB_HASH_LEN + 1];
		lb_xchg_builtin_hash(h, name);
		if (!lb_xchg_builtin_name(h)) {
			rc = lb_errf(em, LB_EINVALID, "protocol: algorithms[%zu]: '%s' is not a built-in algorithm "
						      "a study runs", i, name);
			goto out;
		}
		/* the algorithm by hash: what the committee approves is pinned */
		lb_hex_encode(hx, h, LB_HASH_LEN);
		const char *given = json_string_value(json_object_get(a, "hash"));
		if (given && strcmp(given, hx)) {
			rc = lb_errf(em, LB_EINVALID, "protocol: algorithms[%zu].hash is not the hash of '%s' (%s)", i,
				     name, hx);
			goto out;
		}
		json_object_set_new(a, "hash", json_string(hx));
	}
	if (!json_is_object(sch)) {
		rc = lb_errf(em, LB_EINVALID, "protocol: \"schedule\" {\"start_height\", \"interval_blocks\", "
					      "\"rounds\"} is missing");
		goto out;
	}
	if ((rc = want_uint(sch, "start_height", "schedule", false, em)) ||
	    (rc = want_uint(sch, "interval_blocks", "schedule", true, em)) ||
	    (rc = want_uint(sch, "rounds", "schedule", true, em)))
		goto out;
	char *c = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	if (!c) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	lb_hash_domain(hash, "LEBEN-cohort-protocol-v1", c, strlen(c));
	free(c);
	*canon = json_incref(p);
out:
	json_decref(p);
	return rc;
}

/* ---- state ---------------------------------------------------------------------------------- */

struct cmt_rec {
	uint8_t creator[LB_ADDR_LEN];
	uint64_t k, n;
	uint8_t members[LB_COHORT_MEMBERS_MAX][LB_ADDR_LEN];
	char name[LB_COHORT_NAME_MAX + 1];
};

static int cmt_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct cmt_rec *r)
{
	const uint8_t *v;
	size_t n;
	struct lb_dec d;
	int rc = lb_state_get(s, "cohort.cmt", id, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	lb_dec_init(&d, v, n, "committee record", NULL);
	if ((rc = lb_dec_fixed(&d, "creator", r->creator, LB_ADDR_LEN)) ||
	    (rc = lb_dec_uvar(&d, "k", LB_COHORT_MEMBERS_MAX, &r->k)) ||
	    (rc = lb_dec_uvar(&d, "n", LB_COHORT_MEMBERS_MAX, &r->n)))
		return LB_ECORRUPT;
	for (uint64_t i = 0; i < r->n; i++)
		if (lb_dec_fixed(&d, "member", r->members[i], LB_ADDR_LEN))
			return LB_ECORRUPT;
	if (lb_dec_str(&d, "name", LB_COHORT_NAME_MAX, r->name, sizeof r->name))
		return LB_ECORRUPT;
	return LB_OK;
}

struct proto_rec {
	uint8_t sponsor[LB_ADDR_LEN], committee[LB_HASH_LEN], hash[LB_HASH_LEN];
	uint64_t height;
	char name[LB_COHORT_NAME_MAX + 1];
	json_t *protocol; /* owned */
};

static int proto_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct proto_rec *r)
{
	const uint8_t *v, *b;
	size_t n, bn;
	struct lb_dec d;
	memset(r, 0, sizeof *r);
	int rc = lb_state_get(s, "cohort.p", id, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	lb_dec_init(&d, v, n, "protocol record", NULL);
	if (lb_dec_fixed(&d, "sponsor", r->sponsor, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "committee", r->committee, LB_HASH_LEN) || lb_dec_fixed(&d, "hash", r->hash, LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "height", UINT64_MAX, &r->height) ||
	    lb_dec_str(&d, "name", LB_COHORT_NAME_MAX, r->name, sizeof r->name) ||
	    lb_dec_bytes(&d, "protocol", LB_COHORT_PROTOCOL_MAX * 2, &b, &bn))
		return LB_ECORRUPT;
	if (!(r->protocol = json_loadb((const char *)b, bn, 0, NULL)))
		return LB_ECORRUPT;
	return LB_OK;
}

static uint64_t get_u64(struct lb_state *s, const char *ns, const void *key, size_t klen)
{
	uint64_t v = 0;
	if (lb_state_get_u64(s, ns, key, klen, 0, &v))
		return 0;
	return v;
}

static void rkey(uint8_t k[LB_HASH_LEN + 4], const uint8_t id[LB_HASH_LEN], uint64_t round)
{
	memcpy(k, id, LB_HASH_LEN);
	for (int i = 0; i < 4; i++)
		k[LB_HASH_LEN + i] = (uint8_t)(round >> (24 - 8 * i));
}

static void pkey(uint8_t k[3 * LB_HASH_LEN], const uint8_t id[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
		 const uint8_t pat[LB_HASH_LEN])
{
	memcpy(k, id, LB_HASH_LEN);
	memcpy(k + LB_HASH_LEN, asset, LB_HASH_LEN);
	memcpy(k + 2 * LB_HASH_LEN, pat, LB_HASH_LEN);
}

/* opted-in height, withdrawn height; LB_ENOTFOUND if the patient never opted in */
static int pt_load(struct lb_state *s, const uint8_t key[3 * LB_HASH_LEN], uint64_t *in, uint64_t *out)
{
	const uint8_t *v;
	size_t n;
	struct lb_dec d;
	int rc = lb_state_get(s, "cohort.pt", key, 3 * LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	lb_dec_init(&d, v, n, "cohort patient", NULL);
	if (lb_dec_uvar(&d, "in", UINT64_MAX, in) || lb_dec_uvar(&d, "out", UINT64_MAX, out))
		return LB_ECORRUPT;
	return LB_OK;
}

static int pt_store(struct lb_state *s, const uint8_t key[3 * LB_HASH_LEN], uint64_t in, uint64_t out)
{
	uint8_t buf[24];
	struct lb_buf b;
	lb_buf_init(&b, sizeof buf);
	int rc = lb_enc_uvar(&b, in);
	if (!rc)
		rc = lb_enc_uvar(&b, out);
	if (!rc)
		rc = lb_state_put(s, "cohort.pt", key, 3 * LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

/* ---- handlers ------------------------------------------------------------------------------- */

static int check_any(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_cohort_tx t;
	int rc = lb_cohort_decode(tx->type, tx->payload, tx->payload_len, &t, em);
	if (!rc && t.protocol) {
		json_t *canon = NULL;
		uint8_t h[LB_HASH_LEN];
		rc = lb_cohort_protocol_check(t.protocol, &canon, h, em);
		json_decref(canon);
	}
	lb_free(t.protocol);
	return rc;
}

static int apply_committee(struct lb_apply_ctx *c, struct lb_cohort_tx *t)
{
	uint8_t id[LB_HASH_LEN];
	struct lb_buf b;
	const uint8_t *v;
	size_t n;
	lb_cohort_committee_id(id, c->sender_addr, t->name);
	if (lb_state_get(c->state, "cohort.cmt", id, LB_HASH_LEN, &v, &n) == LB_OK)
		return lb_errf(c->em, LB_EEXISTS, "you already registered an ethics committee named '%s'", t->name);
	lb_buf_init(&b, 1024);
	int rc = lb_enc_fixed(&b, c->sender_addr, LB_ADDR_LEN);
	if (!rc)
		rc = lb_enc_uvar(&b, t->k);
	if (!rc)
		rc = lb_enc_uvar(&b, t->n);
	for (uint64_t i = 0; i < t->n && !rc; i++)
		rc = lb_enc_fixed(&b, t->members[i], LB_ADDR_LEN);
	if (!rc)
		rc = lb_enc_str(&b, t->name);
	if (!rc)
		rc = lb_state_put(c->state, "cohort.cmt", id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

static int apply_protocol(struct lb_apply_ctx *c, struct lb_cohort_tx *t)
{
	uint8_t id[LB_HASH_LEN], h[LB_HASH_LEN];
	struct cmt_rec cm;
	const uint8_t *v;
	size_t n;
	json_t *canon = NULL;
	char hx[2 * LB_HASH_LEN + 1];
	lb_hex_encode(hx, t->id, LB_HASH_LEN);
	if (cmt_load(c->state, t->id, &cm))
		return lb_errf(c->em, LB_ENOTFOUND, "no ethics committee %s is registered (leben cohort committee)", hx);
	lb_cohort_id(id, c->sender_addr, t->name);
	if (lb_state_get(c->state, "cohort.p", id, LB_HASH_LEN, &v, &n) == LB_OK)
		return lb_errf(c->em, LB_EEXISTS, "you already filed a study protocol named '%s'; a protocol is not "
						  "changed after filing: file an amended one under a new name", t->name);
	int rc = lb_cohort_protocol_check(t->protocol, &canon, h, c->em);
	if (rc)
		return rc;
	char *text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(canon);
	if (!text)
		return LB_ENOMEM;
	struct lb_buf b;
	lb_buf_init(&b, strlen(text) + 256);
	if (!(rc = lb_enc_fixed(&b, c->sender_addr, LB_ADDR_LEN)) && !(rc = lb_enc_fixed(&b, t->id, LB_HASH_LEN)) &&
	    !(rc = lb_enc_fixed(&b, h, LB_HASH_LEN)) && !(rc = lb_enc_uvar(&b, c->height)) &&
	    !(rc = lb_enc_str(&b, t->name)) && !(rc = lb_enc_bytes(&b, text, strlen(text))))
		rc = lb_state_put(c->state, "cohort.p", id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	free(text);
	return rc;
}

static int load_cohort(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN], struct proto_rec *p)
{
	char hx[2 * LB_HASH_LEN + 1];
	int rc = proto_load(c->state, id, p);
	lb_hex_encode(hx, id, LB_HASH_LEN);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND, "no cohort study %s is on the chain (leben cohort create)", hx);
	return rc;
}

static bool approved(struct lb_state *s, const struct proto_rec *p, const uint8_t id[LB_HASH_LEN], uint64_t *have,
		     uint64_t *need)
{
	struct cmt_rec cm;
	*have = get_u64(s, "cohort.napp", id, LB_HASH_LEN);
	*need = cmt_load(s, p->committee, &cm) ? UINT64_MAX : cm.k;
	return *have >= *need;
}

static int apply_approve(struct lb_apply_ctx *c, struct lb_cohort_tx *t)
{
	struct proto_rec p;
	struct cmt_rec cm;
	int rc = load_cohort(c, t->id, &p);
	if (rc)
		return rc;
	if ((rc = cmt_load(c->state, p.committee, &cm)))
		goto out;
	bool member = false;
	for (uint64_t i = 0; i < cm.n && !member; i++)
		member = !memcmp(cm.members[i], c->sender_addr, LB_ADDR_LEN);
	if (!member) {
		rc = lb_errf(c->em, LB_EUNAUTH, "this key is not a member of the ethics committee '%s' that reviews "
						"the study '%s'; only its %llu members approve", cm.name, p.name,
			     (unsigned long long)cm.n);
		goto out;
	}
	if (memcmp(t->hash, p.hash, LB_HASH_LEN)) {
		char hx[2 * LB_HASH_LEN + 1];
		lb_hex_encode(hx, p.hash, LB_HASH_LEN);
		rc = lb_errf(c->em, LB_EINVALID, "the approval names another protocol text than the one filed "
						 "(protocol hash %s): read the protocol again and approve that", hx);
		goto out;
	}
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN];
	const uint8_t *v;
	size_t n;
	memcpy(k, t->id, LB_HASH_LEN);
	memcpy(k + LB_HASH_LEN, c->sender_addr, LB_ADDR_LEN);
	if (lb_state_get(c->state, "cohort.appr", k, sizeof k, &v, &n) == LB_OK) {
		rc = lb_errf(c->em, LB_EEXISTS, "this member already approved the study '%s'; each member counts once",
			     p.name);
		goto out;
	}
	if ((rc = lb_state_put_u64(c->state, "cohort.appr", k, sizeof k, c->height)))
		goto out;
	rc = lb_state_put_u64(c->state, "cohort.napp", t->id, LB_HASH_LEN,
			      get_u64(c->state, "cohort.napp", t->id, LB_HASH_LEN) + 1);
out:
	json_decref(p.protocol);
	return rc;
}

static int apply_patient(struct lb_apply_ctx *c, struct lb_cohort_tx *t, bool optin)
{
	struct proto_rec p;
	struct xconsent_rec r;
	uint64_t have, need, in = 0, outh = 0;
	char ah[2 * LB_HASH_LEN + 1], ph[2 * LB_HASH_LEN + 1];
	uint8_t key[3 * LB_HASH_LEN];
	int rc = load_cohort(c, t->id, &p);
	if (rc)
		return rc;
	lb_hex_encode(ah, t->asset, LB_HASH_LEN);
	lb_hex_encode(ph, t->patient, LB_HASH_LEN);
	if (optin && !approved(c->state, &p, t->id, &have, &need)) {
		rc = lb_errf(c->em, LB_EDENIED, "the study '%s' is not approved by its ethics committee yet (%llu of "
						"%llu approvals): nobody is recruited before approval",
			     p.name, (unsigned long long)have, (unsigned long long)need);
		goto out;
	}
	if ((rc = xconsent_load(c->state, t->asset, t->patient, &r))) {
		rc = lb_errf(c->em, rc == LB_ENOTFOUND ? LB_EUNAUTH : rc,
			     "asset %s, patient %s: no consent key is registered for this patient (its institution "
			     "registers it with 'leben exchange patients'); a patient opts in or withdraws only "
			     "with its own consent key", ah, ph);
		goto out;
	}
	if (memcmp(r.patient_addr, c->sender_addr, LB_ADDR_LEN)) {
		rc = lb_errf(c->em, LB_EUNAUTH, "asset %s, patient %s: only the patient's registered consent key %s",
			     ah, ph, optin ? "opts in" : "withdraws");
		goto out;
	}
	pkey(key, t->id, t->asset, t->patient);
	int got = pt_load(c->state, key, &in, &outh);
	if (got && got != LB_ENOTFOUND) {
		rc = got;
		goto out;
	}
	if (optin) {
		if (!got && outh)
			rc = lb_errf(c->em, LB_EDENIED, "patient %s withdrew from the study '%s' at height %llu; a "
							"withdrawal is final for this study", ph, p.name,
				     (unsigned long long)outh);
		else if (!got)
			rc = lb_errf(c->em, LB_EEXISTS, "patient %s is already in the study '%s' (since height %llu)", ph,
				     p.name, (unsigned long long)in);
		else if (!(rc = pt_store(c->state, key, c->height, 0)))
			rc = lb_state_put_u64(c->state, "cohort.nin", t->id, LB_HASH_LEN,
					      get_u64(c->state, "cohort.nin", t->id, LB_HASH_LEN) + 1);
	} else {
		if (got)
			rc = lb_errf(c->em, LB_ENOTFOUND, "patient %s never opted in to the study '%s': nothing to "
							  "withdraw", ph, p.name);
		else if (outh)
			rc = lb_errf(c->em, LB_EEXISTS, "patient %s already withdrew from the study '%s' (height %llu)",
				     ph, p.name, (unsigned long long)outh);
		else if (!(rc = pt_store(c->state, key, in, c->height)))
			rc = lb_state_put_u64(c->state, "cohort.nout", t->id, LB_HASH_LEN,
					      get_u64(c->state, "cohort.nout", t->id, LB_HASH_LEN) + 1);
	}
out:
	json_decref(p.protocol);
	return rc;
}

static int apply_round(struct lb_apply_ctx *c, struct lb_cohort_tx *t)
{
	struct proto_rec p;
	uint64_t have, need;
	int rc = load_cohort(c, t->id, &p);
	if (rc)
		return rc;
	const json_t *sch = json_object_get(p.protocol, "schedule");
	uint64_t start = (uint64_t)json_integer_value(json_object_get(sch, "start_height"));
	uint64_t every = (uint64_t)json_integer_value(json_object_get(sch, "interval_blocks"));
	uint64_t rounds = (uint64_t)json_integer_value(json_object_get(sch, "rounds"));
	uint64_t done = get_u64(c->state, "cohort.rnd", t->id, LB_HASH_LEN);
	uint64_t due = start + (t->round - 1) * every;
	if (memcmp(p.sponsor, c->sender_addr, LB_ADDR_LEN))
		rc = lb_errf(c->em, LB_EUNAUTH, "only the sponsor who filed the study '%s' opens its rounds", p.name);
	else if (!approved(c->state, &p, t->id, &have, &need))
		rc = lb_errf(c->em, LB_EDENIED, "the study '%s' is not approved by its ethics committee (%llu of %llu "
						"approvals): no round runs before approval", p.name,
			     (unsigned long long)have, (unsigned long long)need);
	else if (t->round != done + 1)
		rc = lb_errf(c->em, LB_EINVALID, "round %llu cannot be opened: the next round of '%s' is %llu",
			     (unsigned long long)t->round, p.name, (unsigned long long)done + 1);
	else if (t->round > rounds)
		rc = lb_errf(c->em, LB_EDENIED, "the protocol of '%s' has %llu rounds; round %llu is not in it",
			     p.name, (unsigned long long)rounds, (unsigned long long)t->round);
	else if (c->height < due)
		rc = lb_errf(c->em, LB_EDENIED, "round %llu of '%s' is scheduled from height %llu; this block is %llu "
						"(%llu blocks early)", (unsigned long long)t->round, p.name,
			     (unsigned long long)due, (unsigned long long)c->height,
			     (unsigned long long)(due - c->height));
	if (!rc) {
		uint8_t k[LB_HASH_LEN + 4];
		rkey(k, t->id, t->round);
		if (!(rc = lb_state_put_u64(c->state, "cohort.rh", k, sizeof k, c->height)))
			rc = lb_state_put_u64(c->state, "cohort.rnd", t->id, LB_HASH_LEN, t->round);
	}
	json_decref(p.protocol);
	return rc;
}

static int apply_any(struct lb_apply_ctx *c)
{
	struct lb_cohort_tx t;
	int rc = lb_cohort_decode(c->tx->type, c->tx->payload, c->tx->payload_len, &t, c->em);
	if (rc)
		return rc;
	switch (t.type) {
	case LB_TX_COHORT_COMMITTEE:
		rc = apply_committee(c, &t);
		break;
	case LB_TX_COHORT_PROTOCOL:
		rc = apply_protocol(c, &t);
		break;
	case LB_TX_COHORT_APPROVE:
		rc = apply_approve(c, &t);
		break;
	case LB_TX_COHORT_OPTIN:
	case LB_TX_COHORT_WITHDRAW:
		rc = apply_patient(c, &t, t.type == LB_TX_COHORT_OPTIN);
		break;
	default:
		rc = apply_round(c, &t);
	}
	lb_free(t.protocol);
	return rc;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];
	lb_hex_encode(h, p, n);
	return json_string(h);
}

static json_t *addrj(const uint8_t a[LB_ADDR_LEN])
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, a);
	return json_string(t);
}

static json_t *json_any(const struct lb_tx *tx)
{
	struct lb_cohort_tx t;
	if (lb_cohort_decode(tx->type, tx->payload, tx->payload_len, &t, NULL))
		return NULL;
	json_t *o = json_object();
	switch (t.type) {
	case LB_TX_COHORT_COMMITTEE: {
		json_t *m = json_array();
		for (uint64_t i = 0; i < t.n; i++)
			json_array_append_new(m, addrj(t.members[i]));
		json_object_set_new(o, "name", json_string(t.name));
		json_object_set_new(o, "k", json_integer((json_int_t)t.k));
		json_object_set_new(o, "members", m);
		break;
	}
	case LB_TX_COHORT_PROTOCOL:
		json_object_set_new(o, "committee", hexj(t.id, LB_HASH_LEN));
		json_object_set_new(o, "name", json_string(t.name));
		json_object_set_new(o, "protocol", json_loads(t.protocol, 0, NULL));
		break;
	case LB_TX_COHORT_APPROVE:
		json_object_set_new(o, "cohort", hexj(t.id, LB_HASH_LEN));
		json_object_set_new(o, "protocol_hash", hexj(t.hash, LB_HASH_LEN));
		break;
	case LB_TX_COHORT_OPTIN:
	case LB_TX_COHORT_WITHDRAW:
		json_object_set_new(o, "cohort", hexj(t.id, LB_HASH_LEN));
		json_object_set_new(o, "asset", hexj(t.asset, LB_HASH_LEN));
		json_object_set_new(o, "patient", hexj(t.patient, LB_HASH_LEN));
		break;
	default:
		json_object_set_new(o, "cohort", hexj(t.id, LB_HASH_LEN));
		json_object_set_new(o, "round", json_integer((json_int_t)t.round));
	}
	lb_free(t.protocol);
	return o;
}

static const struct lb_txtype cohort_types[] = {
	{LB_TX_COHORT_COMMITTEE, LB_CHAIN_BUSINESS, "cohort.committee", check_any, apply_any, json_any, true},
	{LB_TX_COHORT_PROTOCOL, LB_CHAIN_BUSINESS, "cohort.protocol", check_any, apply_any, json_any, true},
	{LB_TX_COHORT_APPROVE, LB_CHAIN_BUSINESS, "cohort.approve", check_any, apply_any, json_any, true},
	{LB_TX_COHORT_OPTIN, LB_CHAIN_BUSINESS, "cohort.optin", check_any, apply_any, json_any, true},
	{LB_TX_COHORT_WITHDRAW, LB_CHAIN_BUSINESS, "cohort.withdraw", check_any, apply_any, json_any, true},
	{LB_TX_COHORT_ROUND, LB_CHAIN_BUSINESS, "cohort.round", check_any, apply_any, json_any, true},
};

int lb_cohort_register_txtypes(void)
{
	/* heights are recorded: applied again in their block */
	return lb_txtype_register_rows(cohort_types, sizeof cohort_types / sizeof *cohort_types, false);
}

/* ---- views ---------------------------------------------------------------------------------- */

struct view {
	const uint8_t *id, *asset, *patient, *signer;
	uint64_t round;
	const char *algo;
	const json_t *params;
	json_t *kept, *out;
	size_t left;
	struct lb_errmsg *em;
};

static json_t *cmt_json(const struct cmt_rec *cm, const uint8_t id[LB_HASH_LEN])
{
	json_t *m = json_array();
	for (uint64_t i = 0; i < cm->n; i++)
		json_array_append_new(m, addrj(cm->members[i]));
	return json_pack("{s:o,s:s,s:o,s:I,s:I,s:o}", "committee", hexj(id, LB_HASH_LEN), "name", cm->name,
			 "creator", addrj(cm->creator), "k", (json_int_t)cm->k, "n", (json_int_t)cm->n, "members", m);
}

static int v_committee(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct cmt_rec cm;
	int rc = cmt_load(s, v->id, &cm);
	if (rc)
		return rc;
	v->out = cmt_json(&cm, v->id);
	return LB_OK;
}

static int v_cohort(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct proto_rec p;
	struct cmt_rec cm;
	uint64_t have, need;
	int rc = proto_load(s, v->id, &p);
	if (rc)
		return rc;
	if ((rc = cmt_load(s, p.committee, &cm))) {
		json_decref(p.protocol);
		return LB_ECORRUPT;
	}
	bool ok = approved(s, &p, v->id, &have, &need);
	json_t *by = json_array(), *rounds = json_array();
	for (uint64_t i = 0; i < cm.n; i++) {
		uint8_t k[LB_HASH_LEN + LB_ADDR_LEN];
		uint64_t h;
		memcpy(k, v->id, LB_HASH_LEN);
		memcpy(k + LB_HASH_LEN, cm.members[i], LB_ADDR_LEN);
		if (!lb_state_get_u64(s, "cohort.appr", k, sizeof k, 0, &h) && h)
			json_array_append_new(by, json_pack("{s:o,s:I}", "member", addrj(cm.members[i]), "height",
							    (json_int_t)h));
	}
	uint64_t nr = get_u64(s, "cohort.rnd", v->id, LB_HASH_LEN);
	const json_t *sch = json_object_get(p.protocol, "schedule");
	uint64_t start = (uint64_t)json_integer_value(json_object_get(sch, "start_height"));
	uint64_t every = (uint64_t)json_integer_value(json_object_get(sch, "interval_blocks"));
	uint64_t total = (uint64_t)json_integer_value(json_object_get(sch, "rounds"));
	for (uint64_t r = 1; r <= nr; r++) {
		uint8_t k[LB_HASH_LEN + 4];
		rkey(k, v->id, r);
		json_array_append_new(rounds, json_pack("{s:I,s:I}", "round", (json_int_t)r, "opened_height",
							(json_int_t)get_u64(s, "cohort.rh", k, sizeof k)));
	}
	json_t *o = json_pack("{s:o,s:s,s:o,s:o,s:I,s:O,s:o,s:s,s:I,s:I,s:o,s:o,s:I,s:I}", "cohort",
			      hexj(v->id, LB_HASH_LEN), "name", p.name, "sponsor", addrj(p.sponsor), "protocol_hash",
			      hexj(p.hash, LB_HASH_LEN), "filed_height", (json_int_t)p.height, "protocol", p.protocol,
			      "committee", cmt_json(&cm, p.committee), "status",
			      !ok ? "awaiting approval" : nr >= total ? "completed" : "approved", "approvals",
			      (json_int_t)have, "approvals_needed", (json_int_t)need, "approved_by", by, "rounds",
			      rounds, "opted_in", (json_int_t)get_u64(s, "cohort.nin", v->id, LB_HASH_LEN), "withdrawn",
			      (json_int_t)get_u64(s, "cohort.nout", v->id, LB_HASH_LEN));
	if (o && nr < total)
		json_object_set_new(o, "next_round", json_pack("{s:I,s:I}", "round", (json_int_t)nr + 1, "due_height",
							       (json_int_t)(start + nr * every)));
	json_decref(p.protocol);
	v->out = o;
	return o ? LB_OK : LB_ENOMEM;
}

static int view_run(struct lb_ledger *l, int (*fn)(struct lb_state *, void *), struct view *v, const char *what,
		    json_t **out, struct lb_errmsg *em)
{
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, fn, v);
	if (rc) {
		char hx[2 * LB_HASH_LEN + 1];
		lb_hex_encode(hx, v->id, LB_HASH_LEN);
		return rc == LB_ENOTFOUND ? lb_errf(em, rc, "no %s %s is on the chain", what, hx)
					  : lb_errf(em, rc, "reading the %s failed", what);
	}
	*out = v->out;
	return LB_OK;
}

int lb_cohort_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out, struct lb_errmsg *em)
{
	struct view v = {.id = id};
	return view_run(l, v_cohort, &v, "cohort study", out, em);
}

int lb_cohort_committee_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			     struct lb_errmsg *em)
{
	struct view v = {.id = id};
	return view_run(l, v_committee, &v, "ethics committee", out, em);
}

static int v_patient(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint8_t key[3 * LB_HASH_LEN];
	uint64_t in, outh;
	pkey(key, v->id, v->asset, v->patient);
	int rc = pt_load(s, key, &in, &outh);
	if (rc)
		return rc;
	v->out = json_pack("{s:s,s:I,s:I}", "status", outh ? "withdrawn" : "in", "optin_height", (json_int_t)in,
			   "withdrawn_height", (json_int_t)outh);
	return LB_OK;
}

int lb_cohort_patient_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			   const uint8_t patient[LB_HASH_LEN], json_t **out, struct lb_errmsg *em)
{
	struct view v = {.id = id, .asset = asset, .patient = patient};
	return view_run(l, v_patient, &v, "opt-in of this patient in cohort study", out, em);
}

/* ---- the owner node's check of a round -------------------------------------------------------- */

static int v_check(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct proto_rec p;
	uint64_t have, need, opened = 0;
	int rc = proto_load(s, v->id, &p);
	char hx[2 * LB_HASH_LEN + 1];
	lb_hex_encode(hx, v->id, LB_HASH_LEN);
	if (rc)
		return rc == LB_ENOTFOUND ? lb_errf(v->em, rc, "no cohort study %s is on the chain", hx)
					  : lb_errf(v->em, rc, "reading cohort study %s failed", hx);
	uint8_t k[LB_HASH_LEN + 4];
	rkey(k, v->id, v->round);
	const json_t *algos = json_object_get(p.protocol, "algorithms");
	bool listed = false;
	char *want = json_dumps(v->params, JSON_COMPACT | JSON_SORT_KEYS);
	for (size_t i = 0; i < json_array_size(algos) && !listed && want; i++) {
		const json_t *a = json_array_get(algos, i);
		char *pp = json_dumps(json_object_get(a, "params"), JSON_COMPACT | JSON_SORT_KEYS);
		listed = pp && !strcmp(json_string_value(json_object_get(a, "algorithm")), v->algo) && !strcmp(pp, want);
		free(pp);
	}
	free(want);
	if (!approved(s, &p, v->id, &have, &need))
		rc = lb_errf(v->em, LB_EDENIED, "the cohort study '%s' is not approved by its ethics committee (%llu of "
						"%llu approvals): nothing runs before approval", p.name,
			     (unsigned long long)have, (unsigned long long)need);
	else if (memcmp(p.sponsor, v->signer, LB_ADDR_LEN))
		rc = lb_errf(v->em, LB_EUNAUTH, "only the sponsor of the cohort study '%s' runs its rounds", p.name);
	else if (lb_state_get_u64(s, "cohort.rh", k, sizeof k, 0, &opened) || !opened)
		rc = lb_errf(v->em, LB_EDENIED, "round %llu of the cohort study '%s' is not open on the chain "
						"(leben cohort round opens it when it is due)",
			     (unsigned long long)v->round, p.name);
	else if (!listed)
		rc = lb_errf(v->em, LB_EDENIED, "the approved protocol of '%s' has no algorithm '%s' with these "
						"parameters: only what the committee approved runs", p.name, v->algo);
	json_decref(p.protocol);
	if (rc)
		return rc;
	/* only the patients in the cohort when the round was opened */
	json_t *keep = json_array();
	for (size_t i = 0; i < json_array_size(v->kept); i++) {
		uint8_t pat[LB_HASH_LEN], key[3 * LB_HASH_LEN];
		uint64_t in, outh;
		const char *h = json_string_value(json_array_get(v->kept, i));
		bool use = h && !lb_hex_decode(pat, LB_HASH_LEN, h);
		if (use) {
			pkey(key, v->id, v->asset, pat);
			use = !pt_load(s, key, &in, &outh) && in <= opened && !(outh && outh <= opened);
		}
		if (use)
			json_array_append_new(keep, json_string(h));
		else
			v->left++;
	}
	v->out = keep;
	return LB_OK;
}

int lb_cohort_study_check(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], uint64_t round,
			  const uint8_t signer[LB_ADDR_LEN], const char *algorithm, const json_t *params,
			  const uint8_t asset[LB_HASH_LEN], json_t *kept, size_t *left_out, struct lb_errmsg *em)
{
	struct view v = {.id = id, .round = round, .signer = signer, .algo = algorithm, .params = params,
			 .asset = asset, .kept = kept, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_check, &v);
	if (rc) {
		if (!em || !em->text[0])
			lb_errf(em, rc, "reading the cohort study failed");
		return rc;
	}
	json_array_clear(kept);
	json_array_extend(kept, v.out);
	json_decref(v.out);
	*left_out = v.left;
	return LB_OK;
}
