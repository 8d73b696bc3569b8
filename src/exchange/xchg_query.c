/*
 * Read-only views of the exchange for the node's API: offers, algorithms, requests and
 * escrows as JSON, the dry-run check of an execution (the very checks of the xchg.exec
 * handler, on committed state) and the audit log of an asset, a patient or a request,
 * assembled from business-chain events with the settlement chain's escrow outcome.
 */
#include <stdio.h>
#include <string.h>

#include "exchange/xchg_int.h"
#include "leben/tx.h"

static int not_found(struct lb_errmsg *em, const char *what, const uint8_t id[LB_HASH_LEN])
{
	char hex[2 * LB_HASH_LEN + 1];
	return lb_errf(em, LB_ENOTFOUND, "there is no %s %s on this node", what,
		       xhex(hex, id, LB_HASH_LEN));
}

/* ---- offers, algorithms, requests, escrows ------------------------------------------------- */

struct view {
	const uint8_t *id;
	json_t *out;
};

/* One record read from a chain's committed state through fn, as JSON. */
static int view_json(struct lb_ledger *l, int chain, int (*fn)(struct lb_state *, void *),
		     const uint8_t id[LB_HASH_LEN], const char *what, const char *noun, json_t **out,
		     struct lb_errmsg *em)
{
	struct view v = {id, NULL};
	int rc = lb_ledger_state_view(l, chain, fn, &v);
	if (rc == LB_ENOTFOUND)
		return not_found(em, what, id);
	if (rc)
		return lb_errf(em, rc, "reading the %s failed", noun);
	*out = v.out;
	return LB_OK;
}

static json_t *offer_to_json(const uint8_t asset[LB_HASH_LEN], const struct xoffer_rec *r)
{
	json_t *allow = json_array();
	for (size_t i = 0; i < r->n_allow; i++)
		json_array_append_new(allow, xhexj(r->allow[i], LB_HASH_LEN));
	json_t *o = json_pack("{s:o,s:o,s:s,s:I,s:b,s:I,s:I,s:I,s:o,s:o}", "asset",
			 xhexj(asset, LB_HASH_LEN), "owner", xaddrj(r->owner), "status",
			 r->status == 1 ? "offered" : "withdrawn", "data_fee", (json_int_t)r->data_fee,
			 "local_only", (r->flags & LB_XCHG_OFFER_LOCAL_ONLY) != 0, "min_cohort",
			 (json_int_t)r->min_cohort, "max_output", (json_int_t)r->max_output,
			 "data_bytes", (json_int_t)r->data_bytes, "content_hash",
			 xhexj(r->content, LB_HASH_LEN), "allow", allow);
	json_object_set_new(o, "epsilon", json_integer((json_int_t)r->epsilon));
	json_object_set_new(o, "budget_user", json_integer((json_int_t)r->budget_user));
	json_object_set_new(o, "budget_patient", json_integer((json_int_t)r->budget_patient));
	json_object_set_new(o, "owner_key", xhexj(r->owner_key, LB_PUBKEY_LEN));
	/* consent: opt-in unless the offer's legal basis allows opt-out (LB_XCHG_OFFER_OPT_OUT) */
	json_object_set_new(o, "consent", json_string((r->flags & LB_XCHG_OFFER_OPT_OUT) ? "opt-out"
										     : "opt-in"));
	return o;
}

static int v_offer(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct xoffer_rec *r = lb_malloc(sizeof *r);
	int rc = r ? xoffer_load(s, v->id, r) : LB_ENOMEM;
	if (!rc)
		v->out = offer_to_json(v->id, r);
	lb_free(r);
	return rc;
}

int lb_xchg_offer_json(struct lb_ledger *l, const uint8_t asset[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em)
{
	return view_json(l, LB_CHAIN_BUSINESS, v_offer, asset, "offer of asset", "offer", out, em);
}

static json_t *algo_to_json(const uint8_t h[LB_HASH_LEN], const struct xalgo_rec *a)
{
	bool builtin = lb_xchg_builtin_name(h) != NULL; /* the platform's: no author */
	return json_pack("{s:o,s:s,s:o,s:I,s:b,s:b,s:b}", "algorithm", xhexj(h, LB_HASH_LEN),
			 "name", a->name, "author", builtin ? json_null() : xaddrj(a->author), "fee",
			 (json_int_t)a->fee, "at_author", (a->flags & LB_XCHG_ALGO_AT_AUTHOR) != 0,
			 "heavy_deps", (a->flags & LB_XCHG_ALGO_HEAVY_DEPS) != 0, "builtin", builtin);
}

static int v_algo(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct xalgo_rec a;
	int rc = xalgo_load(s, v->id, &a);
	if (!rc)
		v->out = algo_to_json(v->id, &a);
	return rc;
}

int lb_xchg_algo_json(struct lb_ledger *l, const uint8_t hash[LB_HASH_LEN], json_t **out,
		      struct lb_errmsg *em)
{
	return view_json(l, LB_CHAIN_BUSINESS, v_algo, hash, "algorithm", "algorithm", out, em);
}

static int v_request(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct xreq_rec r;
	struct xalgo_rec a;
	static const uint8_t zero[LB_HASH_LEN];
	int rc = xreq_load(s, v->id, &r);
	if (rc)
		return rc;
	json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:I}", "request",
			      xhexj(v->id, LB_HASH_LEN), "user", xaddrj(r.user), "asset",
			      xhexj(r.asset, LB_HASH_LEN), "algorithm", xhexj(r.algo, LB_HASH_LEN),
			      "scenario_asked", lb_xchg_scenario_name(r.scenario), "status",
			      xreq_status_name(r.status), "approved_by",
			      r.approved_by == 1   ? "allow-list"
			      : r.approved_by == 2 ? "owner"
						   : "nobody",
			      "height", (json_int_t)r.height);
	if (xalgo_load(s, r.algo, &a) == LB_OK)
		json_object_set_new(o, "algorithm_info", algo_to_json(r.algo, &a));
	struct xoffer_rec *of = lb_malloc(sizeof *of);
	if (of && xoffer_load(s, r.asset, of) == LB_OK)
		json_object_set_new(o, "offer", offer_to_json(r.asset, of));
	lb_free(of);
	if (r.run_scenario) {
		json_object_set_new(o, "executor", xaddrj(r.executor));
		json_object_set_new(o, "escrow", xhexj(r.escrow, LB_HASH_LEN));
		json_object_set_new(o, "terms_hash", xhexj(r.terms_hash, LB_HASH_LEN));
		json_object_set_new(o, "scenario", json_string(lb_xchg_scenario_name(r.run_scenario)));
		json_object_set_new(o, "chosen_by", json_string(r.scenario ? "user" : "automatic"));
		if (r.run_reason) {
			json_object_set_new(o, "scenario_reason",
					    json_string(lb_xchg_scen_reason_name(r.run_reason)));
			json_object_set_new(o, "scenario_why",
					    json_string(lb_xchg_scen_reason_text(r.run_reason)));
		}
	}
	if (memcmp(r.result_hash, zero, LB_HASH_LEN))
		json_object_set_new(o, "result_hash", xhexj(r.result_hash, LB_HASH_LEN));
	if (r.status == XREQ_DONE || r.status == XREQ_WITHHELD || r.status == XREQ_FAILED) {
		json_object_set_new(o, "reason", json_string(lb_xchg_reason_name(r.reason)));
		json_object_set_new(o, "reason_code", json_integer(r.reason));
	}
	v->out = o;
	return LB_OK;
}

/* The request tx id as committed on this node, decoded (*out: lb_free). */
static int request_tx(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN],
		      struct lb_xchg_request **out, struct lb_errmsg *em)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	int chain, rc;
	struct lb_tx tx;
	if (!(*out = lb_malloc(sizeof **out)))
		return lb_errf(em, LB_ENOMEM, "out of memory");
	if ((rc = lb_ledger_tx_raw(l, id, &chain, &raw, &len)) == LB_OK &&
	    (rc = lb_tx_decode(&tx, raw, len, em)) == LB_OK)
		rc = lb_xchg_request_decode(*out, tx.payload, tx.payload_len, em);
	lb_free(raw);
	if (rc) {
		lb_free(*out);
		*out = NULL;
	}
	return rc;
}

int lb_xchg_request_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			 struct lb_errmsg *em)
{
	int rc = view_json(l, LB_CHAIN_BUSINESS, v_request, id, "exchange request", "request", out,
			   em);
	if (rc)
		return rc;
	/* the policy the result is to be sealed to, from the request tx (not kept in the state) */
	struct lb_xchg_request *p = NULL;
	if (request_tx(l, id, &p, NULL) == LB_OK && p->result_policy[0])
		json_object_set_new(*out, "result_policy",
				    json_pack("{s:o,s:s}", "authority", xhexj(p->result_authority, 32),
					      "policy", p->result_policy));
	lb_free(p);
	return LB_OK;
}

static int v_escrow(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct xescrow_rec r;
	static const char *st[] = {"?", "open", "released", "refunded"};
	int rc = xescrow_load(s, v->id, &r);
	if (rc)
		return rc;
	const struct lb_xchg_terms *t = &r.terms;
	uint8_t th[LB_HASH_LEN];
	lb_xchg_terms_hash(t, th);
	v->out = json_pack(
		"{s:o,s:s,s:o,s:o,s:o,s:I,s:o,s:I,s:o,s:I,s:I,s:I,s:I,s:b,s:o}", "escrow",
		xhexj(v->id, LB_HASH_LEN), "status", r.status <= 3 ? st[r.status] : "?", "user",
		xaddrj(t->user), "request", xhexj(t->request, LB_HASH_LEN), "owner", xaddrj(t->owner),
		"data_fee", (json_int_t)t->data_fee, "author", xaddrj(t->author), "algo_fee",
		(json_int_t)t->algo_fee, "executor", xaddrj(t->executor), "compute_fee",
		(json_int_t)t->compute_fee, "timeout", (json_int_t)r.timeout, "opened",
		(json_int_t)r.opened, "closed", (json_int_t)r.closed, "claimed", r.claimed != 0,
		"terms_hash", xhexj(th, LB_HASH_LEN));
	if (r.claimed || r.status == XESC_RELEASED)
		json_object_set_new(v->out, "result_hash", xhexj(r.result_hash, LB_HASH_LEN));
	return LB_OK;
}

int lb_xchg_escrow_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			struct lb_errmsg *em)
{
	return view_json(l, LB_CHAIN_SETTLEMENT, v_escrow, id, "escrow", "escrow", out, em);
}

/* ---- dry-run check --------------------------------------------------------------------------- */

struct check_ctx {
	const uint8_t *request, *executor, *patients;
	size_t n_patients;
	bool exclude;
	struct lb_errmsg *em;
	json_t *out;
};

static int v_check(struct lb_state *s, void *ctx)
{
	struct check_ctx *k = ctx;
	struct xreq_rec r;
	struct xalgo_rec a;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	if (!o)
		return lb_errf(k->em, LB_ENOMEM, "out of memory");
	uint8_t *keep = lb_malloc(k->n_patients ? k->n_patients * LB_HASH_LEN : 1);
	uint8_t *keep2 = lb_malloc(k->n_patients ? k->n_patients * LB_HASH_LEN : 1);
	bool *over = lb_calloc(k->n_patients ? k->n_patients : 1, sizeof *over);
	json_t *excluded = json_array(), *over_budget = json_array();
	size_t nkeep = 0, nkeep2 = 0, nrevoked = 0, nnone = 0;
	uint64_t user_left = 0;
	int rc = keep && keep2 && over && excluded && over_budget
			 ? LB_OK
			 : lb_errf(k->em, LB_ENOMEM, "out of memory");
	/* which patients the run may use: consent given (opt-in), or not revoked (opt-out) */
	bool classify = !rc && k->exclude && xreq_load(s, k->request, &r) == LB_OK &&
			xoffer_load(s, r.asset, o) == LB_OK;
	for (size_t i = 0; i < k->n_patients && !rc; i++) {
		const uint8_t *pid = k->patients + i * LB_HASH_LEN;
		struct xconsent_rec cr;
		int u = classify ? xconsent_usable(s, o, r.asset, pid, &cr) : LB_OK;
		if (u == XCONSENT_REVOKED || u == XCONSENT_NONE) {
			json_array_append_new(excluded, xhexj(pid, LB_HASH_LEN));
			nrevoked += u == XCONSENT_REVOKED;
			nnone += u == XCONSENT_NONE;
		} else if (u) {
			rc = lb_errf(k->em, u, "reading consents failed");
		} else {
			memcpy(keep + nkeep++ * LB_HASH_LEN, pid, LB_HASH_LEN);
		}
	}
	if (!rc)
		rc = xchg_exec_check(s, k->request, k->executor, keep, nkeep, &r, o, &a, k->em);
	/* the privacy budget: the user's on the asset (a refusal), each patient's (left out) */
	if (!rc)
		rc = xchg_budget(s, &r, o, keep, nkeep, false, k->exclude ? over : NULL, &user_left,
				 k->em);
	for (size_t i = 0; i < nkeep && !rc; i++) {
		if (over[i])
			json_array_append_new(over_budget, xhexj(keep + i * LB_HASH_LEN, LB_HASH_LEN));
		else
			memcpy(keep2 + nkeep2++ * LB_HASH_LEN, keep + i * LB_HASH_LEN, LB_HASH_LEN);
	}
	nkeep = nkeep2;
	if (!rc) {
		int scen = r.run_scenario;
		k->out = json_pack(
			"{s:o,s:s,s:s,s:{s:o,s:o,s:o,s:I,s:o,s:I,s:o},s:I,s:I,s:o,s:o,s:s}",
			"request", xhexj(k->request, LB_HASH_LEN), "scenario",
			lb_xchg_scenario_name(scen), "chosen_by", r.scenario ? "user" : "automatic",
			"terms", "user", xaddrj(r.user), "request", xhexj(k->request, LB_HASH_LEN),
			"owner", xaddrj(o->owner), "data_fee", (json_int_t)o->data_fee, "author",
			xaddrj(a.author), "algo_fee", (json_int_t)a.fee, "executor",
			xaddrj(k->executor), "min_cohort", (json_int_t)o->min_cohort, "max_output",
			(json_int_t)o->max_output, "content_hash", xhexj(o->content, LB_HASH_LEN),
			"asset", xhexj(r.asset, LB_HASH_LEN), "algorithm_name", a.name);
		json_object_set_new(k->out, "algorithm", xhexj(r.algo, LB_HASH_LEN));
		json_object_set_new(k->out, "scenario_reason",
				    json_string(lb_xchg_scen_reason_name(r.run_reason)));
		json_object_set_new(k->out, "scenario_why",
				    json_string(lb_xchg_scen_reason_text(r.run_reason)));
		json_object_set_new(k->out, "consent", json_string((o->flags & LB_XCHG_OFFER_OPT_OUT)
									? "opt-out"
									: "opt-in"));
		json_object_set_new(k->out, "excluded", json_incref(excluded));
		json_object_set_new(k->out, "revoked", json_incref(excluded));
		json_object_set_new(k->out, "excluded_revoked", json_integer((json_int_t)nrevoked));
		json_object_set_new(k->out, "excluded_no_consent", json_integer((json_int_t)nnone));
		json_object_set_new(k->out, "patients_used", json_integer((json_int_t)nkeep));
		json_object_set_new(k->out, "patients_over_budget", json_incref(over_budget));
		json_object_set_new(k->out, "epsilon", json_integer((json_int_t)o->epsilon));
		json_object_set_new(k->out, "budget_user", json_integer((json_int_t)o->budget_user));
		json_object_set_new(k->out, "budget_left_user", json_integer((json_int_t)user_left));
		json_object_set_new(k->out, "budget_patient",
				    json_integer((json_int_t)o->budget_patient));
	}
	json_decref(excluded);
	json_decref(over_budget);
	lb_free(over);
	lb_free(keep2);
	lb_free(keep);
	lb_free(o);
	return rc;
}

int lb_xchg_check_json(struct lb_ledger *l, const uint8_t request[LB_HASH_LEN],
		       const uint8_t executor[LB_ADDR_LEN], const uint8_t *patients,
		       size_t n_patients, bool exclude_revoked, json_t **out,
		       struct lb_errmsg *em)
{
	struct check_ctx k = {request, executor, patients, n_patients, exclude_revoked, em, NULL};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_check, &k);
	if (!rc)
		*out = k.out;
	return rc;
}

/* ---- privacy budget ---------------------------------------------------------------------------- */

struct budget_ctx {
	const uint8_t *subject, *asset;
	size_t slen;
	json_t *out;
	struct lb_errmsg *em;
};

static int v_budget(struct lb_state *s, void *ctx)
{
	struct budget_ctx *k = ctx;
	uint64_t sp = 0, su = 0;
	int rc = xbudget_get(s, XNS_BUDGET_PATIENT, k->subject, k->slen, &sp);
	if (rc)
		return lb_errf(k->em, rc, "reading the privacy budget failed");
	k->out = json_pack("{s:o,s:I}", "subject", k->slen == LB_ADDR_LEN
							? xaddrj(k->subject)
							: xhexj(k->subject, k->slen),
			   "spent_patient", (json_int_t)sp);
	if (!k->asset)
		return LB_OK;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	if (!o)
		return lb_errf(k->em, LB_ENOMEM, "out of memory");
	json_object_set_new(k->out, "asset", xhexj(k->asset, LB_HASH_LEN));
	if (k->slen == LB_ADDR_LEN) {
		uint8_t ukey[LB_ADDR_LEN + LB_HASH_LEN];
		memcpy(ukey, k->subject, LB_ADDR_LEN);
		memcpy(ukey + LB_ADDR_LEN, k->asset, LB_HASH_LEN);
		if ((rc = xbudget_get(s, XNS_BUDGET_USER, ukey, sizeof ukey, &su))) {
			lb_free(o);
			return lb_errf(k->em, rc, "reading the privacy budget failed");
		}
		json_object_set_new(k->out, "spent_user", json_integer((json_int_t)su));
	}
	if (xoffer_load(s, k->asset, o) == LB_OK) {
		json_object_set_new(k->out, "epsilon", json_integer((json_int_t)o->epsilon));
		json_object_set_new(k->out, "budget_user", json_integer((json_int_t)o->budget_user));
		json_object_set_new(k->out, "budget_patient",
				    json_integer((json_int_t)o->budget_patient));
		if (k->slen == LB_ADDR_LEN)
			json_object_set_new(k->out, "budget_left_user",
					    json_integer((json_int_t)(su < o->budget_user
									  ? o->budget_user - su
									  : 0)));
		json_object_set_new(k->out, "budget_left_patient",
				    json_integer((json_int_t)(sp < o->budget_patient
								  ? o->budget_patient - sp
								  : 0)));
	}
	lb_free(o);
	return LB_OK;
}

int lb_xchg_budget_json(struct lb_ledger *l, const uint8_t *subject, size_t subject_len,
			const uint8_t *asset, json_t **out, struct lb_errmsg *em)
{
	struct budget_ctx k = {subject, asset, subject_len, NULL, em};
	if (subject_len != LB_ADDR_LEN && subject_len != LB_HASH_LEN)
		return lb_errf(em, LB_EINVALID,
			       "a budget subject is an address (20 bytes) or a patient id (32 bytes)");
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_budget, &k);
	if (!rc)
		*out = k.out;
	else
		json_decref(k.out);
	return rc;
}

/* ---- consent of a patient -------------------------------------------------------------------- */

struct consent_ctx {
	const uint8_t *asset, *patient;
	json_t *out;
};

static int v_consent(struct lb_state *s, void *ctx)
{
	struct consent_ctx *k = ctx;
	struct xconsent_rec r;
	static const char *st[] = {"registered", "given", "revoked"};
	int rc = xconsent_load(s, k->asset, k->patient, &r);
	if (rc)
		return rc;
	k->out = json_pack("{s:o,s:o,s:o,s:s,s:I}", "asset", xhexj(k->asset, LB_HASH_LEN),
			   "patient", xhexj(k->patient, LB_HASH_LEN), "key", xaddrj(r.patient_addr),
			   "status", r.status <= 2 ? st[r.status] : "?", "height",
			   (json_int_t)r.height);
	return k->out ? LB_OK : LB_ENOMEM;
}

int lb_xchg_consent_json(struct lb_ledger *l, const uint8_t asset[LB_HASH_LEN],
			 const uint8_t patient[LB_HASH_LEN], json_t **out, struct lb_errmsg *em)
{
	struct consent_ctx k = {asset, patient, NULL};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_consent, &k);
	if (rc == LB_ENOTFOUND)
		return not_found(em, "registered patient", patient);
	if (rc)
		return lb_errf(em, rc, "reading the consent failed");
	*out = k.out;
	return LB_OK;
}

/* ---- audit log ------------------------------------------------------------------------------- */

#define LOG_MAX 10000

struct log_ctx {
	const uint8_t *subject;
	uint8_t (*ids)[LB_HASH_LEN];
	size_t n;
};

static int v_log(struct lb_state *s, void *ctx)
{
	struct log_ctx *k = ctx;
	uint64_t n;
	int rc = xlog_count(s, k->subject, &n);
	if (rc)
		return rc;
	if (n > LOG_MAX)
		n = LOG_MAX;
	k->ids = lb_malloc((n ? n : 1) * LB_HASH_LEN);
	if (!k->ids)
		return LB_ENOMEM;
	for (k->n = 0; k->n < n; k->n++)
		if ((rc = xlog_get(s, k->subject, k->n, k->ids[k->n])))
			return rc;
	return LB_OK;
}

/* What a log line says in words. */
static const char *event_words(const char *type)
{
	static const struct {
		const char *type, *words;
	} w[] = {
		{"xchg.offer", "asset offered for exchange"},
		{"xchg.grant", "execution right granted"},
		{"xchg.algo", "algorithm registered"},
		{"xchg.request", "use requested"},
		{"xchg.approve", "request decided by the owner"},
		{"xchg.consent", "patient consent changed"},
		{"xchg.exec", "data used in a run"},
		{"xchg.result", "result recorded"},
		{"xchg.revoke", "right revoked"},
		{"xchg.patients", "patients registered"},
		{"xchg.view", "private part viewed"},
		{"audit.request", "audit asked of an audit node"},
		{"audit.record", "audit score signed by the audit node"},
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (!strcmp(w[i].type, type))
			return w[i].words;
	return type;
}

int lb_xchg_log_json(struct lb_ledger *l, const uint8_t subject[LB_HASH_LEN], json_t **out,
		     struct lb_errmsg *em)
{
	struct log_ctx k = {subject, NULL, 0};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_log, &k);
	if (rc) {
		lb_free(k.ids);
		return lb_errf(em, rc, "reading the audit index failed");
	}
	json_t *events = json_array();
	uint64_t paid_asc = 0, paid_csc = 0;
	for (size_t i = 0; i < k.n; i++) {
		json_t *tx = NULL;
		struct lb_errmsg e;
		lb_errclear(&e);
		if (lb_ledger_tx_json(l, k.ids[i], &tx, &e))
			continue;
		const char *type = json_string_value(json_object_get(tx, "type"));
		json_t *p = json_object_get(tx, "payload");
		json_t *ev = json_pack("{s:O,s:s,s:O,s:O,s:O}", "tx", json_object_get(tx, "id"),
				       "what", event_words(type ? type : "?"), "type",
				       json_object_get(tx, "type"), "by", json_object_get(tx, "sender"),
				       "height", json_object_get(tx, "height"));
		json_object_set(ev, "details", p ? p : json_null());
		/* a run: what was paid for it, from the settlement chain's escrow */
		const char *esc = type && !strcmp(type, "xchg.exec")
					  ? json_string_value(json_object_get(p, "escrow"))
					  : NULL;
		uint8_t eid[LB_HASH_LEN];
		json_t *ej = NULL;
		if (esc && !lb_hex_decode(eid, LB_HASH_LEN, esc) &&
		    lb_xchg_escrow_json(l, eid, &ej, &e) == LB_OK) {
			const char *st = json_string_value(json_object_get(ej, "status"));
			json_object_set_new(
				ev, "payment",
				json_pack("{s:s,s:O,s:O,s:O}", "escrow", st ? st : "?", "data_fee",
					  json_object_get(ej, "data_fee"), "algo_fee",
					  json_object_get(ej, "algo_fee"), "compute_fee",
					  json_object_get(ej, "compute_fee")));
			if (st && !strcmp(st, "released")) {
				paid_asc += (uint64_t)json_integer_value(json_object_get(ej, "data_fee")) +
					    (uint64_t)json_integer_value(json_object_get(ej, "algo_fee"));
				paid_csc += (uint64_t)json_integer_value(json_object_get(ej, "compute_fee"));
			}
			json_decref(ej);
		}
		json_array_append_new(events, ev);
		json_decref(tx);
	}
	lb_free(k.ids);
	*out = json_pack("{s:o,s:I,s:o,s:{s:I,s:I}}", "subject", xhexj(subject, LB_HASH_LEN),
			 "count", (json_int_t)json_array_size(events), "events", events, "paid",
			 "asc", (json_int_t)paid_asc, "csc", (json_int_t)paid_csc);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* ---- usage right of a study step (POST /v1/study/step) --------------------------------------- */

struct study_ctx {
	const uint8_t *request, *user, *node;
	const char *algorithm;
	struct lb_xchg_study_right *out;
	struct lb_errmsg *em;
};

static int v_study(struct lb_state *s, void *ctx)
{
	struct study_ctx *k = ctx;
	struct xreq_rec r;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	uint8_t want[LB_HASH_LEN], kind = 0;
	char hex[2 * LB_HASH_LEN + 1];
	int rc;
	if (!o)
		return lb_errf(k->em, LB_ENOMEM, "out of memory");
	xhex(hex, k->request, LB_HASH_LEN);
	if ((rc = xreq_load(s, k->request, &r))) {
		rc = lb_errf(k->em, LB_EDENIED, "request %s is not on the business chain", hex);
		goto out;
	}
	if (memcmp(r.user, k->user, LB_ADDR_LEN)) {
		rc = lb_errf(k->em, LB_EDENIED, "request %s was made by another user, not by the key that signed this study", hex);
		goto out;
	}
	if (r.status == XREQ_PENDING || r.status == XREQ_REJECTED || r.status == XREQ_REVOKED) {
		rc = lb_errf(k->em, LB_EDENIED, "request %s is %s, not approved by the asset's owner", hex,
			     xreq_status_name(r.status));
		goto out;
	}
	lb_xchg_builtin_hash(want, k->algorithm);
	if (memcmp(want, r.algo, LB_HASH_LEN)) {
		rc = lb_errf(k->em, LB_EDENIED, "request %s is for another algorithm, not builtin:%s", hex, k->algorithm);
		goto out;
	}
	if ((rc = xoffer_load(s, r.asset, o)) || o->status != 1) {
		rc = lb_errf(k->em, LB_EDENIED, "the asset of request %s is not on offer", hex);
		goto out;
	}
	if (memcmp(o->owner, k->node, LB_ADDR_LEN) && (xgrant_get(s, r.asset, k->node, &kind) || kind == 0)) {
		rc = lb_errf(k->em, LB_EDENIED, "this node's key neither owns the asset of request %s nor holds an "
						"execution right on it", hex);
		goto out;
	}
	memcpy(k->out->asset, r.asset, LB_HASH_LEN);
	memcpy(k->out->content, o->content, LB_HASH_LEN);
	k->out->min_cohort = o->min_cohort;
	k->out->ran = r.status != XREQ_APPROVED;
	snprintf(k->out->status, sizeof k->out->status, "%s", xreq_status_name(r.status));
	rc = LB_OK;
out:
	lb_free(o);
	return rc;
}

int lb_xchg_study_check(struct lb_ledger *l, const uint8_t request[LB_HASH_LEN],
			const uint8_t user[LB_ADDR_LEN], const uint8_t node[LB_ADDR_LEN],
			const char *algorithm, struct lb_xchg_study_right *out, struct lb_errmsg *em)
{
	struct study_ctx k = {request, user, node, algorithm, out, em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_study, &k);
	if (rc)
		return rc;
	/* the parameters the owner approved: in the request tx itself */
	struct lb_xchg_request *rq = NULL;
	char hex[2 * LB_HASH_LEN + 1];
	xhex(hex, request, LB_HASH_LEN);
	if ((rc = request_tx(l, request, &rq, em)) == LB_ENOMEM)
		return rc;
	if (rc)
		rc = lb_errf(em, LB_ECORRUPT, "request %s: its tx cannot be read back on this node", hex);
	else
		memcpy(out->params, rq->params, sizeof out->params);
	lb_free(rq);
	return rc;
}
