/*
 * The study route (docs/api.md, "Studies across nodes"): one owner's local step of one round of
 * a federated algorithm (leben study run --owners URL,...), and the study's end. The node runs
 * a study like any other run of its asset: it checks on the business chain that the user who
 * signed the study holds an approved request for this node's asset, the algorithm and exactly
 * these parameters; records the run (xchg.exec, citing the escrow the user opened for the
 * request, which the chain accepts once per request) when the study starts here; leaves out
 * the rows of patients whose consent does not allow the use; computes the step in its own
 * sandbox over the registered table; holds its partial to its own minimum cohort; and answers
 * only the partial masked pairwise with the other owners' node keys: the coordinator learns
 * the sum over the owners and nothing of one owner's. At the end it records the result
 * (xchg.result) and settles the escrow (claim, then release or refund).
 *
 * Per study the node keeps <home>/exchange/studies/<study>.json (0600): its request, escrow
 * and execution record, the owners still in the study (the list may only shrink, down to
 * floor(n/2)+1 of those it started with: an owner that stops answering is left out and the
 * coordinator runs the algorithm again from its first round over the others), the last round
 * answered and the patients used.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api_int.h"
#include "leben/algo.h"
#include "leben/crypto.h"
#include "leben/cohort.h"
#include "leben/exchange.h"
#include "leben/study.h"
#include "leben/tx.h"

#define STUDY_MSG_MAX (1u << 20)     /* bytes of the signed study message */
#define STUDY_DATA_MAX ((size_t)1 << 30) /* bytes of an owner's table */
#define STUDY_FRAC_BITS 24
#define STUDY_PATIENT_COL "patient_id" /* the column consents are applied by */
#define STUDY_WAIT_S 60               /* how long the end waits for each of its txs' blocks */

/* One study at a time on this node: its state file is read, checked and written as a whole. */
static pthread_mutex_t study_mu = PTHREAD_MUTEX_INITIALIZER;

static bool hexf(const json_t *o, const char *key, uint8_t *out, size_t n)
{
	const char *h = json_string_value(json_object_get(o, key));
	return h && !lb_hex_decode(out, n, h);
}

/* Canonical text of a JSON value (sorted keys, compact); caller frees with free(). */
static char *canon(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* The owner's table: <home>/exchange/assets/<asset hex>.csv, which must be the registered data
 * (its content hash). Its bytes in *data (wipe and free), parsed in t. */
static int load_asset(const struct api_call *c, const struct lb_xchg_study_right *r, uint8_t **data,
		      size_t *dlen, struct lb_table *t, struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 1], path[4300];
	uint8_t *d = NULL, h[LB_HASH_LEN];
	size_t len = 0;
	if (!c->home)
		return lb_errf(em, LB_EUNAVAILABLE, "this node keeps no asset tables (no home)");
	lb_hex_encode(hex, r->asset, LB_HASH_LEN);
	snprintf(path, sizeof path, "%s/exchange/assets/%s.csv", c->home, hex);
	int rc = lb_file_read(path, STUDY_DATA_MAX, &d, &len, em);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, LB_EUNAVAILABLE, "this node holds no table for asset %s (the owner places it "
						    "at exchange/assets/%s.csv in the node's home)", hex, hex);
	if (rc)
		return rc;
	lb_hash(h, d, len);
	if (memcmp(h, r->content, LB_HASH_LEN))
		rc = lb_errf(em, LB_EUNAVAILABLE, "the table kept for asset %s is not the registered data (its hash "
						  "differs)", hex);
	else
		rc = lb_table_parse_csv((const char *)d, len, 0, t, em);
	if (rc) {
		sodium_memzero(d, len);
		lb_free(d);
		return rc;
	}
	*data = d;
	*dlen = len;
	return LB_OK;
}

/* ---- the study's state on this node -------------------------------------------------------- */

static int state_path(const struct api_call *c, const uint8_t study[LB_HASH_LEN], char *path, size_t n,
		      bool mkdir_it, struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 1];
	if (!c->home)
		return lb_errf(em, LB_EUNAVAILABLE, "this node keeps no studies (no home)");
	snprintf(path, n, "%s/exchange/studies", c->home);
	if (mkdir_it && lb_mkdirs(path, 0700, em))
		return LB_EIO;
	lb_hex_encode(hex, study, LB_HASH_LEN);
	snprintf(path + strlen(path), n - strlen(path), "/%s.json", hex);
	return LB_OK;
}

/* The state of study, or *out NULL if this node never started it. */
static int state_load(const struct api_call *c, const uint8_t study[LB_HASH_LEN], json_t **out,
		      struct lb_errmsg *em)
{
	char path[4300];
	uint8_t *d = NULL;
	size_t len = 0;
	json_error_t jerr;
	*out = NULL;
	int rc = state_path(c, study, path, sizeof path, false, em);
	if (rc)
		return rc;
	rc = lb_file_read(path, 64u << 20, &d, &len, em);
	if (rc == LB_ENOTFOUND) {
		lb_errclear(em);
		return LB_OK;
	}
	if (rc)
		return rc;
	*out = json_loadb((const char *)d, len, 0, &jerr);
	lb_free(d);
	return *out ? LB_OK : lb_errf(em, LB_ECORRUPT, "%s: %s (line %d)", path, jerr.text, jerr.line);
}

static int state_save(const struct api_call *c, const uint8_t study[LB_HASH_LEN], const json_t *st,
		      struct lb_errmsg *em)
{
	char path[4300];
	int rc = state_path(c, study, path, sizeof path, true, em);
	if (rc)
		return rc;
	char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	rc = lb_file_write(path, text, strlen(text), 0600, em);
	free(text);
	return rc;
}

/* ---- the signed message ----------------------------------------------------------------------- */

/* What the user signed, parsed: {"study", "round", "algorithm", "params", "owners": [{"node_key",
 * "request", "escrow"}, ...], and "step": {...} or "end": {"outcome", "result_hash"}}. */
struct study_msg {
	json_t *m;                  /* the parsed message (owned) */
	uint8_t digest[LB_HASH_LEN]; /* H("LEBEN-study-step-v1" || text): binds the masks */
	uint8_t user[LB_ADDR_LEN];  /* who signed */
	uint8_t study[LB_HASH_LEN];
	json_int_t round;
	const char *algo;
	json_t *params, *step, *end; /* borrowed from m */
	size_t n, me;               /* owners listed; this node's position */
	uint8_t (*peers)[32];       /* their node keys (owned) */
	uint8_t self[LB_PUBKEY_LEN];
	uint8_t req[LB_HASH_LEN], esc[LB_HASH_LEN]; /* this node's request and escrow */
};

static void msg_release(struct study_msg *s)
{
	json_decref(s->m);
	lb_free(s->peers);
}

static int msg_parse(const struct api_call *c, struct study_msg *s, struct lb_errmsg *em)
{
	uint8_t pk[LB_PUBKEY_LEN], sig[LB_SIG_LEN];
	json_error_t jerr;
	json_t *b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	const char *msg = json_string_value(json_object_get(b, "msg"));
	int rc = LB_OK;
	if (!json_is_object(b) || !msg || strlen(msg) > STUDY_MSG_MAX || !hexf(b, "pk", pk, sizeof pk) ||
	    !hexf(b, "sig", sig, sizeof sig)) {
		rc = lb_errf(em, LB_EMALFORMED, "the body must be {\"msg\": TEXT (at most %u bytes), \"pk\": HEX, "
						"\"sig\": HEX}", STUDY_MSG_MAX);
		goto out;
	}
	lb_hash_domain(s->digest, "LEBEN-study-step-v1", msg, strlen(msg));
	if (!lb_sig_is_valid(sig, s->digest, sizeof s->digest, pk)) {
		rc = lb_errf(em, LB_EBADSIG, "the user's signature of the study step does not verify");
		goto out;
	}
	lb_addr_from_pubkey(s->user, pk);
	s->m = json_loads(msg, 0, &jerr);
	json_t *ow = json_object_get(s->m, "owners"), *round = json_object_get(s->m, "round");
	s->algo = json_string_value(json_object_get(s->m, "algorithm"));
	s->params = json_object_get(s->m, "params");
	s->step = json_object_get(s->m, "step");
	s->end = json_object_get(s->m, "end");
	s->n = json_array_size(ow);
	if (!json_is_object(s->m) || !hexf(s->m, "study", s->study, sizeof s->study) || !json_is_integer(round) ||
	    json_integer_value(round) < 1 || !s->algo || !json_is_object(s->params) ||
	    !(json_is_object(s->step) ^ json_is_object(s->end)) || s->n < 2 || s->n > 64) {
		rc = lb_errf(em, LB_EMALFORMED, "msg must be {\"study\": HEX, \"round\": N >= 1, \"algorithm\": NAME, "
						"\"params\": {...}, \"step\": {...} or \"end\": {...}, \"owners\": [2 to "
						"64 {\"node_key\", \"request\", \"escrow\"}]}");
		goto out;
	}
	s->round = json_integer_value(round);
	if (strcmp(s->algo, "stats") && strcmp(s->algo, "logreg") && strcmp(s->algo, "km")) {
		rc = lb_errf(em, LB_EUNSUPPORTED, "algorithm '%s' has no federated form (stats, logreg, km)", s->algo);
		goto out;
	}
	if ((rc = lb_ledger_node_pk(c->ledger, s->self, em)))
		goto out;
	if (!(s->peers = lb_calloc(s->n, 32))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	bool found = false;
	for (size_t i = 0; i < s->n; i++) {
		json_t *e = json_array_get(ow, i);
		uint8_t r[LB_HASH_LEN], x[LB_HASH_LEN];
		if (!hexf(e, "node_key", s->peers[i], 32) || !hexf(e, "request", r, sizeof r) ||
		    !hexf(e, "escrow", x, sizeof x)) {
			rc = lb_errf(em, LB_EMALFORMED, "owners[%zu] must be {\"node_key\": HEX, \"request\": HEX, "
							"\"escrow\": HEX (the escrow the user opened for that request)}", i);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (!memcmp(s->peers[i], s->peers[j], 32)) {
				rc = lb_errf(em, LB_EINVALID, "owners[%zu] and owners[%zu] are the same node", j, i);
				goto out;
			}
		if (!memcmp(s->peers[i], s->self, 32)) {
			found = true;
			s->me = i;
			memcpy(s->req, r, sizeof r);
			memcpy(s->esc, x, sizeof x);
		}
	}
	if (!found)
		rc = lb_errf(em, LB_EINVALID, "this node's key is not among the study's owners");
out:
	json_decref(b);
	return rc;
}

/* Every owner listed must be a party with a usage right (otherwise a user could list a key of
 * its own as a peer and remove that peer's masks), each on its own asset; this node's request
 * must carry exactly the study's parameters. */
static int check_parties(const struct api_call *c, const struct study_msg *s, struct lb_xchg_study_right *right,
			 struct lb_errmsg *em)
{
	struct lb_xchg_study_right *other = lb_malloc(sizeof *other);
	uint8_t(*seen)[LB_HASH_LEN] = lb_calloc(s->n, LB_HASH_LEN);
	int rc = other && seen ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
	json_t *ow = json_object_get(s->m, "owners");
	for (size_t k = 0; k < s->n && rc == LB_OK; k++) {
		size_t i = (s->me + k) % s->n; /* this node's own request first */
		uint8_t paddr[LB_ADDR_LEN], req[LB_HASH_LEN];
		lb_addr_from_pubkey(paddr, s->peers[i]);
		hexf(json_array_get(ow, i), "request", req, sizeof req);
		if ((rc = lb_xchg_study_check(c->ledger, req, s->user, paddr, s->algo, i == s->me ? right : other,
					      em))) {
			if (i == s->me)
				lb_errwrap(em, "no usage right, nothing computed: ");
			else
				lb_errwrap(em, "owners[%zu] is not a party of this study, nothing computed: ", i);
			break;
		}
		memcpy(seen[i], i == s->me ? right->asset : other->asset, LB_HASH_LEN);
		for (size_t q = 0; q < k; q++)
			if (!memcmp(seen[i], seen[(s->me + q) % s->n], LB_HASH_LEN))
				rc = lb_errf(em, LB_EINVALID, "owners[%zu] and owners[%zu] name the same asset; nothing computed",
					     (s->me + q) % s->n, i);
	}
	lb_free(seen);
	lb_free(other);
	if (rc)
		return rc;
	/* the approval is for these parameters only (canonical JSON compare) */
	json_error_t jerr;
	json_t *approved = right->params[0] ? json_loads(right->params, 0, &jerr) : NULL;
	char *a = approved ? canon(approved) : NULL, *b = canon(s->params);
	if (!a || !b || strcmp(a, b))
		rc = lb_errf(em, LB_EDENIED, "the study's parameters are not those approved with request %s "
					     "(approved: %.1500s); nothing computed",
			     json_string_value(json_object_get(json_array_get(ow, s->me), "request")),
			     a ? a : "none");
	free(a);
	free(b);
	json_decref(approved);
	return rc;
}

/* ---- consents --------------------------------------------------------------------------------- */

/* The table's patients with the ids the chain knows them by: their commitments under the asset's
 * salt key, kept in the node home (made when missing: then no patient is registered, and an
 * opt-in offer uses nobody). Sorted by commitment; wipe and free. */
static int table_patients(const struct api_call *c, const uint8_t *csv, size_t len, const uint8_t asset[LB_HASH_LEN],
			  struct lb_xchg_patient **pats, size_t *np, struct lb_errmsg *em)
{
	uint8_t key[LB_XCHG_SALT_KEY_LEN];
	int rc = lb_xchg_salt_key(c->home, asset, true, key, em);
	if (!rc)
		rc = lb_xchg_csv_patients(csv, len, STUDY_PATIENT_COL, asset, key, pats, np, em);
	sodium_memzero(key, sizeof key);
	return rc;
}

/* The patients of the table whose records this study may use, by the one dry run every run of
 * the exchange uses (lb_xchg_check_json with exclude_revoked), which also checks that this node
 * may run the request now. *kept: a JSON array of their ids (hex); *plan the dry run. */
static int usable_patients(const struct api_call *c, const struct study_msg *s, const uint8_t *csv,
			   size_t len, const struct lb_xchg_study_right *right, json_t **kept, json_t **plan,
			   struct lb_errmsg *em)
{
	struct lb_xchg_patient *pats = NULL;
	size_t np = 0;
	uint8_t self_addr[LB_ADDR_LEN], *ids = NULL;
	char hex[2 * LB_HASH_LEN + 1];
	lb_hex_encode(hex, right->asset, LB_HASH_LEN);
	int rc = table_patients(c, csv, len, right->asset, &pats, &np, em);
	if (rc)
		return lb_errwrap(em, "the table of asset %s must have a patient column '%s' so that consents "
				      "apply; nothing computed", hex, STUDY_PATIENT_COL);
	if (!(ids = lb_malloc(np ? np * LB_HASH_LEN : 1))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < np; i++)
		memcpy(ids + i * LB_HASH_LEN, pats[i].id, LB_HASH_LEN);
	lb_addr_from_pubkey(self_addr, s->self);
	if ((rc = lb_xchg_check_json(c->ledger, s->req, self_addr, ids, np, true, plan, em))) {
		lb_errwrap(em, "the chain would refuse this study's run here, nothing computed: ");
		goto out;
	}
	json_t *rev = json_object_get(*plan, "revoked");
	*kept = json_array();
	for (size_t i = 0; i < np; i++) {
		lb_hex_encode(hex, pats[i].id, LB_HASH_LEN);
		bool out_ = false;
		for (size_t k = 0; k < json_array_size(rev) && !out_; k++)
			out_ = !strcmp(hex, json_string_value(json_array_get(rev, k)));
		if (!out_)
			json_array_append_new(*kept, json_string(hex));
	}
out:
	if (pats)
		sodium_memzero(pats, np * sizeof *pats);
	lb_free(pats);
	lb_free(ids);
	return rc;
}

/* The cohort a request was made for: its purpose starts with "cohort <64 hex>" (as
 * `leben cohort round` documents); "" if none. */
static void request_cohort(const struct api_call *c, const uint8_t req[LB_HASH_LEN], char out[2 * LB_HASH_LEN + 1])
{
	uint8_t *raw = NULL;
	size_t len = 0;
	int chain;
	struct lb_tx tx;
	struct lb_xchg_request *rq = lb_malloc(sizeof *rq);
	out[0] = 0;
	if (rq && !lb_ledger_tx_raw(c->ledger, req, &chain, &raw, &len) && !lb_tx_decode(&tx, raw, len, NULL) &&
	    !lb_xchg_request_decode(rq, tx.payload, tx.payload_len, NULL) && !strncmp(rq->purpose, "cohort ", 7) &&
	    strspn(rq->purpose + 7, "0123456789abcdef") >= 2 * LB_HASH_LEN) {
		memcpy(out, rq->purpose + 7, 2 * LB_HASH_LEN);
		out[2 * LB_HASH_LEN] = 0;
	}
	lb_free(raw);
	lb_free(rq);
}

/* A round of a cohort study ("cohort": id, "cohort_round": N in the message): the protocol
 * approved, the round open, the algorithm the protocol's; only the cohort's patients kept. A
 * request made for a cohort (its purpose) runs only as a round of that cohort. */
static int cohort_patients(const struct api_call *c, const struct study_msg *s,
			   const struct lb_xchg_study_right *right, json_t *kept, struct lb_errmsg *em)
{
	const json_t *co = json_object_get(s->m, "cohort"), *rn = json_object_get(s->m, "cohort_round");
	uint8_t id[LB_HASH_LEN];
	size_t left = 0;
	char bound[2 * LB_HASH_LEN + 1];
	request_cohort(c, s->req, bound);
	if (bound[0] && (!json_is_string(co) || strcmp(bound, json_string_value(co))))
		return lb_errf(em, LB_EDENIED, "this node's request was made for cohort study %.16s… (its purpose): it "
					       "runs only as a round of that study (leben cohort round); nothing computed",
			       bound);
	if (!co)
		return LB_OK;
	if (!json_is_string(co) || lb_hex_decode(id, LB_HASH_LEN, json_string_value(co)) || !json_is_integer(rn) ||
	    json_integer_value(rn) < 1)
		return lb_errf(em, LB_EMALFORMED, "\"cohort\" must be a cohort id (64 hex) with \"cohort_round\" >= 1");
	int rc = lb_cohort_study_check(c->ledger, id, (uint64_t)json_integer_value(rn), s->user, s->algo, s->params,
				       right->asset, kept, &left, em);
	if (rc)
		return lb_errwrap(em, "refused by this owner's node, nothing computed: ");
	return LB_OK;
}

/* Leave out of t the rows of the table's patients that are not in kept (hex ids). */
static int drop_unusable(const struct api_call *c, const uint8_t *csv, size_t len, const uint8_t asset[LB_HASH_LEN],
			 const json_t *kept, struct lb_table *t, struct lb_errmsg *em)
{
	struct lb_xchg_patient *pats = NULL;
	size_t np = 0, nx = 0;
	int rc = table_patients(c, csv, len, asset, &pats, &np, em);
	if (rc)
		return rc;
	const char **excl = lb_calloc(np ? np : 1, sizeof *excl);
	if (!excl) {
		lb_free(pats);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < np; i++) {
		char hex[2 * LB_HASH_LEN + 1];
		bool in = false;
		lb_hex_encode(hex, pats[i].id, LB_HASH_LEN);
		for (size_t k = 0; k < json_array_size(kept) && !in; k++)
			in = !strcmp(hex, json_string_value(json_array_get(kept, k)));
		if (!in)
			excl[nx++] = pats[i].local;
	}
	long pc = lb_table_find(t, STUDY_PATIENT_COL);
	if (nx && pc < 0)
		rc = lb_errf(em, LB_EINVALID, "the table has no patient column '%s'", STUDY_PATIENT_COL);
	else if (nx)
		rc = lb_table_drop_rows(t, (size_t)pc, excl, nx, NULL, em);
	lb_free(excl);
	sodium_memzero(pats, np * sizeof *pats);
	lb_free(pats);
	return rc;
}

/* ---- the owner's release policy on its partial ------------------------------------------------ */

/* The offer's epsilon (0 until offers carry one). */
static double offer_epsilon(const struct api_call *c, const uint8_t asset[LB_HASH_LEN])
{
	json_t *o = NULL;
	struct lb_errmsg e;
	lb_errclear(&e);
	if (lb_xchg_offer_json(c->ledger, asset, &o, &e))
		return 0;
	double eps = json_number_value(json_object_get(o, "epsilon"));
	json_decref(o);
	return eps;
}

/* The partial of step over t passes this owner's minimum cohort (moments2 carries no count:
 * its rows are those of moments1 over the same columns, checked here). */
static int partial_policy(const struct lb_table *t, const json_t *step, const double *part, size_t len,
			  uint64_t mc, struct lb_errmsg *em)
{
	const char *phase = json_string_value(json_object_get(step, "phase"));
	if (strcmp(phase, "moments2"))
		return lb_study_partial_check(step, part, len, mc, em);
	json_t *s1 = json_deep_copy(step);
	double *p1 = NULL;
	size_t l1 = 0;
	json_object_set_new(s1, "phase", json_string("moments1"));
	json_object_set_new(s1, "bins", json_integer(0));
	json_object_del(s1, "mean");
	int rc = lb_fed_step(t, s1, false, &p1, &l1, em);
	if (!rc)
		rc = lb_study_partial_check(s1, p1, l1, mc, em);
	lb_free(p1);
	json_decref(s1);
	return rc;
}

/* ---- txs of the run ----------------------------------------------------------------------------- */

/* Wait until tx id is in a block as valid. */
static int wait_committed(const struct api_call *c, const uint8_t id[LB_HASH_LEN], const char *what,
			  struct lb_errmsg *em)
{
	uint64_t deadline = lb_mono_ns() + (uint64_t)STUDY_WAIT_S * 1000000000u;
	for (;;) {
		json_t *j = NULL;
		struct lb_errmsg e;
		lb_errclear(&e);
		if (lb_ledger_tx_json(c->ledger, id, &j, &e) == LB_OK) {
			const char *st = json_string_value(json_object_get(j, "status"));
			if (st && !strcmp(st, "committed")) {
				json_decref(j);
				return LB_OK;
			}
			if (st && strcmp(st, "pending")) {
				int rc = lb_errf(em, LB_EINVALID, "the %s tx went into a block as invalid: %s", what,
						 json_string_value(json_object_get(json_object_get(j, "error"), "message")));
				json_decref(j);
				return rc;
			}
		}
		json_decref(j);
		if (lb_mono_ns() > deadline)
			return lb_errf(em, LB_ETIMEOUT, "the %s tx is not in a block after %d s", what, STUDY_WAIT_S);
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* The escrow the user opened for this node's run of the request: open, for the request, with
 * this node as executor. Fills terms. */
static int study_escrow(const struct api_call *c, const struct study_msg *s, struct lb_xchg_terms *terms,
			struct lb_errmsg *em)
{
	json_t *e = NULL;
	char eh[2 * LB_HASH_LEN + 1];
	uint8_t self_addr[LB_ADDR_LEN];
	lb_hex_encode(eh, s->esc, LB_HASH_LEN);
	lb_addr_from_pubkey(self_addr, s->self);
	int rc = lb_xchg_escrow_json(c->ledger, s->esc, &e, em);
	if (rc)
		return lb_errwrap(em, "the user opens an escrow for each owner's request before the study "
				      "(leben study run does): ");
	const char *st = json_string_value(json_object_get(e, "status"));
	const char *u = json_string_value(json_object_get(e, "user")),
		   *o = json_string_value(json_object_get(e, "owner")),
		   *a = json_string_value(json_object_get(e, "author")),
		   *x = json_string_value(json_object_get(e, "executor"));
	if (!st || strcmp(st, "open"))
		rc = lb_errf(em, LB_EDENIED, "escrow %s is %s, not open", eh, st ? st : "?");
	else if (!u || !o || !a || !x || lb_addr_decode(terms->user, u, NULL) ||
		 lb_addr_decode(terms->owner, o, NULL) || lb_addr_decode(terms->author, a, NULL) ||
		 lb_addr_decode(terms->executor, x, NULL) ||
		 lb_hex_decode(terms->request, LB_HASH_LEN, json_string_value(json_object_get(e, "request"))))
		rc = lb_errf(em, LB_ECORRUPT, "escrow %s is unreadable", eh);
	else if (memcmp(terms->request, s->req, LB_HASH_LEN))
		rc = lb_errf(em, LB_EDENIED, "escrow %s was opened for another request", eh);
	else if (memcmp(terms->executor, self_addr, LB_ADDR_LEN))
		rc = lb_errf(em, LB_EDENIED, "escrow %s names another executor than this node (%s)", eh, x);
	else if (memcmp(terms->user, s->user, LB_ADDR_LEN))
		rc = lb_errf(em, LB_EDENIED, "escrow %s was opened by another user", eh);
	terms->data_fee = (uint64_t)json_integer_value(json_object_get(e, "data_fee"));
	terms->algo_fee = (uint64_t)json_integer_value(json_object_get(e, "algo_fee"));
	terms->compute_fee = (uint64_t)json_integer_value(json_object_get(e, "compute_fee"));
	json_decref(e);
	return rc;
}

/* Record this node's run of the request: xchg.exec citing the escrow, over the kept patients. */
static int record_exec(const struct api_call *c, const struct study_msg *s, const json_t *plan,
		       const json_t *kept, uint8_t id[LB_HASH_LEN], struct lb_errmsg *em)
{
	struct lb_xchg_exec ex = {0};
	size_t n = json_array_size(kept);
	int rc;
	if ((rc = study_escrow(c, s, &ex.terms, em)))
		return rc;
	const char *scen = json_string_value(json_object_get(plan, "scenario"));
	if (!scen || lb_xchg_scenario_parse(scen) != LB_XCHG_LOCAL)
		return lb_errf(em, LB_EDENIED, "a study runs at the owner (local scenario), but the request asks "
					       "for the %s scenario", scen ? scen : "?");
	uint8_t *ids = lb_malloc(n ? n * LB_HASH_LEN : 1);
	if (!ids)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		lb_hex_decode(ids + i * LB_HASH_LEN, LB_HASH_LEN, json_string_value(json_array_get(kept, i)));
	memcpy(ex.request, s->req, LB_HASH_LEN);
	memcpy(ex.escrow, s->esc, LB_HASH_LEN);
	ex.scenario = LB_XCHG_LOCAL;
	ex.chosen_by = strcmp(json_string_value(json_object_get(plan, "chosen_by")), "user") ? 2 : 1;
	ex.n_patients = n;
	ex.patients = ids;
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (lb_xchg_exec_encode(&b, &ex))
		rc = lb_errf(em, LB_ETOOBIG, "the execution record is too large (at most %d patients)",
			     LB_XCHG_PATIENTS_MAX);
	else if ((rc = lb_ledger_node_submit(c->ledger, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, b.data, b.len, id, em)))
		lb_errwrap(em, "the chain refused this study's run of request %s at this node, nothing computed: ",
			   json_string_value(json_object_get(json_array_get(json_object_get(s->m, "owners"), s->me),
							     "request")));
	lb_buf_release(&b);
	lb_free(ids);
	return rc;
}

/* The end of the study at this node: xchg.result (delivered with the hash of the combined
 * result as the user computed it, or failed), escrow.claim, then escrow.release citing the
 * result's receipt (or escrow.refund for a failed study). */
static int finish(const struct api_call *c, const struct study_msg *s, json_t *st, json_t **out,
		  struct lb_errmsg *em)
{
	const char *outcome = json_string_value(json_object_get(s->end, "outcome"));
	struct lb_xchg_result res = {0};
	struct lb_xchg_terms terms = {0};
	uint8_t rid[LB_HASH_LEN], cid[LB_HASH_LEN], sid[LB_HASH_LEN], *raw = NULL;
	size_t rlen = 0;
	int chain, rc;
	char h1[2 * LB_HASH_LEN + 1], h2[2 * LB_HASH_LEN + 1], h3[2 * LB_HASH_LEN + 1];
	struct lb_buf b, proof;
	if (!outcome || (strcmp(outcome, "done") && strcmp(outcome, "failed")) ||
	    (!strcmp(outcome, "done") && !hexf(s->end, "result_hash", res.result_hash, LB_HASH_LEN)))
		return lb_errf(em, LB_EMALFORMED, "end must be {\"outcome\": \"done\", \"result_hash\": HEX} or "
						  "{\"outcome\": \"failed\"}");
	const char *was = json_string_value(json_object_get(st, "status"));
	if (was && strcmp(was, "running")) {
		*out = json_deep_copy(st);
		return LB_OK; /* already ended: the same answer */
	}
	char rq[2 * LB_HASH_LEN + 1], es[2 * LB_HASH_LEN + 1];
	lb_hex_encode(rq, s->req, LB_HASH_LEN);
	lb_hex_encode(es, s->esc, LB_HASH_LEN);
	if (strcmp(rq, json_string_value(json_object_get(st, "request"))) ||
	    strcmp(es, json_string_value(json_object_get(st, "escrow"))))
		return lb_errf(em, LB_EDENIED, "this study started here with request %s and escrow %s",
			       json_string_value(json_object_get(st, "request")),
			       json_string_value(json_object_get(st, "escrow")));
	if ((rc = study_escrow(c, s, &terms, em)))
		return rc;
	memcpy(res.request, s->req, LB_HASH_LEN);
	memcpy(res.escrow, s->esc, LB_HASH_LEN);
	lb_xchg_terms_hash(&terms, res.terms_hash);
	res.status = !strcmp(outcome, "done") ? LB_XCHG_DELIVERED : LB_XCHG_FAILED;
	res.reason = res.status == LB_XCHG_FAILED ? LB_XCHG_REASON_FAILED : LB_XCHG_REASON_NONE;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	lb_buf_init(&proof, 1u << 20);
	/* each tx once: an end repeated after a failure goes on from the last one on record */
	if (hexf(st, "result_tx", rid, LB_HASH_LEN)) {
		res.status = !strcmp(json_string_value(json_object_get(st, "result_status")), "delivered")
				     ? LB_XCHG_DELIVERED
				     : LB_XCHG_FAILED;
		hexf(st, "result_hash", res.result_hash, LB_HASH_LEN);
	} else if ((rc = lb_xchg_result_encode(&b, &res)) ||
		   (rc = lb_ledger_node_submit(c->ledger, LB_CHAIN_BUSINESS, LB_TX_XCHG_RESULT, b.data, b.len, rid,
					       em))) {
		goto out;
	} else {
		lb_hex_encode(h1, rid, LB_HASH_LEN);
		lb_hex_encode(h2, res.result_hash, LB_HASH_LEN);
		json_object_set_new(st, "result_tx", json_string(h1));
		json_object_set_new(st, "result_hash", json_string(h2));
		json_object_set_new(st, "result_status",
				    json_string(res.status == LB_XCHG_DELIVERED ? "delivered" : "failed"));
		if ((rc = state_save(c, s->study, st, em)))
			goto out;
	}
	if ((rc = wait_committed(c, rid, "xchg.result", em)))
		goto out;
	struct lb_escrow_claim cl;
	memcpy(cl.escrow, s->esc, LB_HASH_LEN);
	memcpy(cl.result_hash, res.result_hash, LB_HASH_LEN);
	lb_buf_reset(&b);
	if (hexf(st, "claim_tx", cid, LB_HASH_LEN)) {
		/* sent before */
	} else if ((rc = lb_escrow_claim_encode(&b, &cl)) ||
		   (rc = lb_ledger_node_submit(c->ledger, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_CLAIM, b.data, b.len,
					       cid, em))) {
		goto out;
	} else {
		lb_hex_encode(h2, cid, LB_HASH_LEN);
		json_object_set_new(st, "claim_tx", json_string(h2));
		if ((rc = state_save(c, s->study, st, em)))
			goto out;
	}
	if ((rc = wait_committed(c, cid, "escrow.claim", em)))
		goto out;
	/* the result's receipt anchored in a settlement block (the claim's block anchors it) */
	uint64_t deadline = lb_mono_ns() + (uint64_t)STUDY_WAIT_S * 1000000000u;
	for (;;) {
		lb_buf_reset(&proof);
		lb_errclear(em);
		if ((rc = lb_ledger_proof(c->ledger, rid, LB_CHAIN_SETTLEMENT, &proof, em)) == LB_OK)
			break;
		if (lb_mono_ns() > deadline)
			goto out;
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if ((rc = lb_ledger_tx_raw(c->ledger, rid, &chain, &raw, &rlen))) {
		lb_errf(em, rc, "the study's result tx is not readable on this node");
		goto out;
	}
	struct lb_escrow_cite ci = {.result_tx = raw, .result_tx_len = rlen, .proof = proof.data,
				    .proof_len = proof.len};
	memcpy(ci.escrow, s->esc, LB_HASH_LEN);
	uint32_t settle = res.status == LB_XCHG_DELIVERED ? LB_TX_ESCROW_RELEASE : LB_TX_ESCROW_REFUND;
	lb_buf_reset(&b);
	if ((rc = lb_escrow_cite_encode(&b, &ci)) ||
	    (rc = lb_ledger_node_submit(c->ledger, LB_CHAIN_SETTLEMENT, settle, b.data, b.len, sid, em)) ||
	    (rc = wait_committed(c, sid, settle == LB_TX_ESCROW_RELEASE ? "escrow.release" : "escrow.refund", em)))
		goto out;
	lb_hex_encode(h1, rid, LB_HASH_LEN);
	lb_hex_encode(h2, cid, LB_HASH_LEN);
	lb_hex_encode(h3, sid, LB_HASH_LEN);
	json_object_set_new(st, "status", json_string(res.status == LB_XCHG_DELIVERED ? "done" : "failed"));
	json_object_set_new(st, "result_tx", json_string(h1));
	json_object_set_new(st, "claim_tx", json_string(h2));
	json_object_set_new(st, settle == LB_TX_ESCROW_RELEASE ? "release_tx" : "refund_tx", json_string(h3));
	if ((rc = state_save(c, s->study, st, em)))
		goto out;
	*out = json_deep_copy(st);
out:
	if (rc)
		lb_errwrap(em, "ending the study at this node: ");
	lb_free(raw);
	lb_buf_release(&b);
	lb_buf_release(&proof);
	return rc;
}

/* ---- one step ---------------------------------------------------------------------------------- */

/* Does this message's owner list fit the study's state: a subset of the owners still in it
 * (the list only shrinks), with at least floor(n/2)+1 of those it started with? Rounds go
 * forward; the same message again is answered again (the same masks, the same answer). */
static int check_progress(const struct study_msg *s, const json_t *st, bool *restart, struct lb_errmsg *em)
{
	json_t *alive = json_object_get(st, "alive");
	size_t n0 = json_array_size(json_object_get(st, "owners"));
	char dh[2 * LB_HASH_LEN + 1], rq[2 * LB_HASH_LEN + 1], es[2 * LB_HASH_LEN + 1];
	const char *status = json_string_value(json_object_get(st, "status"));
	json_int_t last = json_integer_value(json_object_get(st, "round"));
	lb_hex_encode(dh, s->digest, LB_HASH_LEN);
	lb_hex_encode(rq, s->req, LB_HASH_LEN);
	lb_hex_encode(es, s->esc, LB_HASH_LEN);
	if (!status || strcmp(status, "running"))
		return lb_errf(em, LB_EDENIED, "this study has ended at this node (%s); a request is used once",
			       status ? status : "?");
	if (strcmp(rq, json_string_value(json_object_get(st, "request"))) ||
	    strcmp(es, json_string_value(json_object_get(st, "escrow"))))
		return lb_errf(em, LB_EDENIED, "this study started here with request %s and escrow %s",
			       json_string_value(json_object_get(st, "request")),
			       json_string_value(json_object_get(st, "escrow")));
	if (s->round == last && !strcmp(dh, json_string_value(json_object_get(st, "digest"))))
		return LB_OK;
	if (s->round <= last)
		return lb_errf(em, LB_EDENIED, "round %lld was already answered here (rounds only go forward)",
			       (long long)s->round);
	for (size_t i = 0; i < s->n; i++) {
		char kh[2 * LB_PUBKEY_LEN + 1];
		bool in = false;
		lb_hex_encode(kh, s->peers[i], 32);
		for (size_t k = 0; k < json_array_size(alive) && !in; k++)
			in = !strcmp(kh, json_string_value(json_array_get(alive, k)));
		if (!in)
			return lb_errf(em, LB_EDENIED, "owners[%zu] (%.16s…) left this study or was never in it; "
						       "the owners of a study only shrink", i, kh);
	}
	if (s->n < lb_study_threshold(n0))
		return lb_errf(em, LB_EDENIED, "%zu of the %zu owners the study started with remain; at least %zu "
					       "must", s->n, n0, lb_study_threshold(n0));
	*restart = s->n < json_array_size(alive);
	return LB_OK;
}

static json_t *keys_json(const struct study_msg *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, api_hex_json(s->peers[i], 32));
	return a;
}

static int do_step(const struct api_call *c, struct study_msg *s, const struct lb_xchg_study_right *right,
		   json_t *st, json_t **out, struct lb_errmsg *em)
{
	unsigned max_rounds = 0;
	bool restart = false, start = st == NULL;
	uint8_t *csv = NULL, exec_id[LB_HASH_LEN];
	size_t clen = 0, len = 0;
	struct lb_table t = {0};
	double *part = NULL;
	uint64_t *masked = NULL;
	uint8_t(*pairs)[32] = NULL;
	char *hex = NULL;
	json_t *kept = NULL, *plan = NULL;
	int rc;
	if ((rc = lb_study_step_allowed(s->algo, s->params, s->step, &max_rounds, em))) {
		lb_errwrap(em, "the step asks what the approval does not cover, nothing computed: ");
		goto out;
	}
	if (!start && (rc = check_progress(s, st, &restart, em)))
		goto out;
	if (start && s->round != 1) {
		rc = lb_errf(em, LB_EDENIED, "study %.16s… did not start at this node: its first round is round 1",
			     json_string_value(json_object_get(s->m, "study")));
		goto out;
	}
	json_int_t run_rounds = start || restart ? 0 : json_integer_value(json_object_get(st, "run_rounds"));
	bool resend = !start && s->round == json_integer_value(json_object_get(st, "round"));
	if (!resend && (unsigned)run_rounds + 1 > max_rounds) {
		rc = lb_errf(em, LB_EDENIED, "%s under the approved parameters takes at most %u rounds; this would "
					     "be round %lld of the run", s->algo, max_rounds, (long long)run_rounds + 1);
		goto out;
	}
	if ((rc = load_asset(c, right, &csv, &clen, &t, em)))
		goto out;
	if (start) {
		double eps = offer_epsilon(c, right->asset);
		if (eps > 0) {
			rc = lb_errf(em, LB_EUNSUPPORTED, "the offer asks for ε-differential privacy (ε = %g), which "
							  "studies do not apply yet; nothing computed", eps);
			goto out;
		}
		if ((rc = usable_patients(c, s, csv, clen, right, &kept, &plan, em)) ||
		    (rc = cohort_patients(c, s, right, kept, em)))
			goto out;
	} else {
		kept = json_incref(json_object_get(st, "patients"));
	}
	if ((rc = drop_unusable(c, csv, clen, right->asset, kept, &t, em)))
		goto out;
	if ((rc = lb_fed_step(&t, s->step, true, &part, &len, em)))
		goto out;
	/* the owner's release policy, before anything of the partial leaves */
	if ((rc = partial_policy(&t, s->step, part, len, right->min_cohort, em))) {
		lb_errwrap(em, "this owner's release policy keeps its partial back, nothing sent: ");
		goto out;
	}
	if (start && (rc = record_exec(c, s, plan, kept, exec_id, em)))
		goto out;
	pairs = lb_calloc(s->n, 32);
	masked = lb_calloc(len ? len : 1, sizeof *masked);
	hex = lb_malloc(len * 16 + 1);
	if (!pairs || !masked || !hex) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->n; i++)
		if (i != s->me && (rc = lb_ledger_node_agree(c->ledger, s->peers[i], pairs[i], em)))
			goto out;
	if ((rc = lb_fed_mask(part, len, STUDY_FRAC_BITS, s->digest, s->self, (const uint8_t(*)[32])s->peers,
			      (const uint8_t(*)[32])pairs, s->n, masked, em)))
		goto out;
	for (size_t j = 0; j < len; j++) {
		uint8_t w[8];
		for (int k = 0; k < 8; k++)
			w[k] = (uint8_t)(masked[j] >> (8 * k));
		lb_hex_encode(hex + 16 * j, w, 8);
	}
	hex[16 * len] = 0;
	/* the state first: an answer that left is always on record */
	char dh[2 * LB_HASH_LEN + 1], rq[2 * LB_HASH_LEN + 1], es[2 * LB_HASH_LEN + 1];
	lb_hex_encode(dh, s->digest, LB_HASH_LEN);
	if (start) {
		lb_hex_encode(rq, s->req, LB_HASH_LEN);
		lb_hex_encode(es, s->esc, LB_HASH_LEN);
		char eh[2 * LB_HASH_LEN + 1];
		lb_hex_encode(eh, exec_id, LB_HASH_LEN);
		st = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:o,s:o}", "status", "running", "request", rq, "escrow", es,
			       "exec_tx", eh, "algorithm", s->algo, "params", s->params, "owners", keys_json(s),
			       "patients", json_incref(kept));
		if (!st) {
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
			goto out;
		}
	} else {
		json_incref(st);
	}
	json_object_set_new(st, "alive", keys_json(s));
	json_object_set_new(st, "round", json_integer(s->round));
	json_object_set_new(st, "digest", json_string(dh));
	json_object_set_new(st, "run_rounds", json_integer(resend ? run_rounds : run_rounds + 1));
	rc = state_save(c, s->study, st, em);
	if (!rc)
		*out = json_pack("{s:O,s:I,s:o,s:I,s:s,s:I,s:O}", "study", json_object_get(s->m, "study"), "round",
				 s->round, "node_key", api_hex_json(s->self, sizeof s->self), "values", (json_int_t)len,
				 "masked", hex, "frac_bits", (json_int_t)STUDY_FRAC_BITS, "exec_tx",
				 json_object_get(st, "exec_tx"));
	json_decref(st);
out:
	if (part)
		sodium_memzero(part, len * sizeof *part);
	if (pairs)
		sodium_memzero(pairs, s->n * 32);
	if (csv) {
		sodium_memzero(csv, clen);
		lb_free(csv);
	}
	lb_free(part);
	lb_free(masked);
	lb_free(hex);
	lb_free(pairs);
	lb_table_release(&t);
	json_decref(kept);
	json_decref(plan);
	return rc;
}

/* POST /v1/study/step {"msg": TEXT, "pk": HEX, "sig": HEX}. msg is the JSON text the user signed
 * (sig = Ed25519 over H("LEBEN-study-step-v1" || msg)): {"study": HEX, "round": N,
 * "algorithm": "stats"|"logreg"|"km", "params": {...}, "step": {...} | "end": {...},
 * "owners": [{"node_key": HEX, "request": HEX, "escrow": HEX}, ...]}. The same message goes to
 * every owner. Answer to a step: {"study", "round", "node_key", "values": len, "masked": HEX (len
 * little-endian 64-bit words), "frac_bits", "exec_tx"}; to the end: the study's record at this
 * node (request, escrow, exec_tx, result_tx, claim_tx, release_tx or refund_tx, status). */
int api_study_step(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	struct study_msg s;
	struct lb_xchg_study_right *right = lb_malloc(sizeof *right);
	json_t *st = NULL;
	int rc;
	(void)status;
	memset(&s, 0, sizeof s);
	if (!right)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	if ((rc = msg_parse(c, &s, em)) || (rc = check_parties(c, &s, right, em)) ||
	    (rc = api_purge_refusal(c->ledger, right->asset, NULL, 0, em)))
		goto out;
	pthread_mutex_lock(&study_mu);
	char rq[2 * LB_HASH_LEN + 1];
	lb_hex_encode(rq, s.req, LB_HASH_LEN);
	if (!(rc = state_load(c, s.study, &st, em))) {
		/* a request is used once: by the study that recorded its run here, by no other */
		if (right->ran && (!st || strcmp(rq, json_string_value(json_object_get(st, "request")))))
			rc = lb_errf(em, LB_EDENIED, "request %s was already run (it is %s): an approval is used once; "
						     "nothing computed", rq, right->status);
		else if (s.end && !st)
			rc = lb_errf(em, LB_ENOTFOUND, "study %.16s… never started at this node: nothing to end",
				     json_string_value(json_object_get(s.m, "study")));
		else if (s.end)
			rc = finish(c, &s, st, out, em);
		else
			rc = do_step(c, &s, right, st, out, em);
	}
	pthread_mutex_unlock(&study_mu);
out:
	json_decref(st);
	msg_release(&s);
	lb_free(right);
	return rc;
}
