/*
 * The applications' hook on FHIR writes (include/leben/apps_fhir.h; what it does:
 * include/leben/apps.h): wearable readings to the node's monitor, and claims raised from a
 * Condition + Procedure of an insured patient.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leben/apps.h"
#include "leben/apps_fhir.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/data_dedup.h"
#include "leben/fhir.h"
#include "leben/fhir_node.h"
#include "leben/insurance.h"
#include "leben/ledger.h"
#include "leben/monitor.h"

#define SYS_KEY "urn:leben:key"
#define SYS_POLICY "urn:leben:policy"
#define EXT_BILLED "urn:leben:billed"
#define WAIT_MS 60000 /* a tx of the claim's chain reaches a block within this */

/* One committed FHIR write as the applications see it; everything borrowed for the call. */
struct fhir_write {
	struct lb_ledger *ledger;
	const char *home;
	struct lb_fhir_store *store; /* the node's FHIR store (open), or NULL */
	const char *writer_key;      /* hex key that signed the request, NULL for a certificate */
	const json_t *entries;       /* the written resources, as stored (with meta) */
};

static const json_t *res_of(const json_t *e)
{
	const json_t *r = json_object_get(e, "resource");
	return r ? r : e;
}

static const char *sval(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- monitoring ------------------------------------------------------------------------ */

static void feed_monitor(const struct fhir_write *w)
{
	struct lb_monitor *m;
	json_t *res = json_array(), *e, *out = NULL;
	size_t i;
	struct lb_errmsg em;
	lb_errclear(&em);
	if (!w->writer_key || !res || lb_mon_node(w->home, false, &m, NULL)) {
		json_decref(res);
		return;
	}
	json_array_foreach(w->entries, i, e)
		json_array_append(res, (json_t *)res_of(e));
	int rc = lb_mon_observations(m, w->writer_key, res, (int64_t)lb_now_ms(), &out, &em);
	if (!rc)
		lb_log(LB_LOG_INFO, "monitor: %lld reading(s) from FHIR accepted, %lld refused",
		       (long long)json_integer_value(json_object_get(out, "accepted")),
		       (long long)json_integer_value(json_object_get(out, "refused")));
	else if (rc != LB_ENOTFOUND)
		lb_log(LB_LOG_WARN, "monitor: readings from FHIR not taken: %s", em.text);
	json_decref(out);
	json_decref(res);
}

/* ---- insurance: claims raised from clinical events --------------------------------------- */

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;
static int jobs_running;
static volatile int jobs_stopping; /* the node stops: waits end now */

struct claim_job {
	struct lb_ledger *l;
	char home[4096];
	char proc_ref[160], cond_ref[160];
	struct lb_ins_tx ev[2]; /* condition, procedure */
	uint8_t fp[2][LB_TEXT_FP_SIZE];
	struct lb_ins_tx claim;
};

/* The identifier value of system in res, or NULL. */
static const char *ident(const json_t *res, const char *system)
{
	size_t i;
	json_t *id;
	json_array_foreach(json_object_get(res, "identifier"), i, id) {
		const char *s = sval(id, "system");
		if (s && !strcmp(s, system))
			return sval(id, "value");
	}
	return NULL;
}

/* "Type/id" -> the resource: from the write, else from the store (a new reference). */
static json_t *find(const struct fhir_write *w, const char *ref, const char *type)
{
	size_t tl = strlen(type), i;
	json_t *e, *out = NULL;
	if (!ref || strncmp(ref, type, tl) || ref[tl] != '/')
		return NULL;
	json_array_foreach(w->entries, i, e) {
		const json_t *r = res_of(e);
		if (!strcmp(sval(r, "resourceType") ? sval(r, "resourceType") : "", type) &&
		    !strcmp(sval(r, "id") ? sval(r, "id") : "", ref + tl + 1))
			return json_incref((json_t *)r);
	}
	if (w->store && lb_fhir_get(w->store, type, ref + tl + 1, &out, NULL))
		out = NULL;
	return out;
}

struct cov_find {
	const char *patient_ref;
	char policy[65];
};

static bool cov_match(const json_t *c, const char *patient_ref, char policy[65])
{
	const char *p = ident(c, SYS_POLICY);
	const char *b = json_string_value(json_object_get(json_object_get(c, "beneficiary"),
							  "reference"));
	const char *st = sval(c, "status");
	if (!p || !b || !st || strcmp(st, "active") || strcmp(b, patient_ref) || strlen(p) != 64)
		return false;
	snprintf(policy, 65, "%s", p);
	return true;
}

static int cov_each(void *ctx, const char *text, size_t len)
{
	struct cov_find *f = ctx;
	json_t *c = json_loadb(text, len, 0, NULL);
	bool yes = c && cov_match(c, f->patient_ref, f->policy);
	json_decref(c);
	return yes ? 1 : 0;
}

/* The policy (hex) of the patient's active Coverage, in the write or in the store. */
static bool coverage_of(const struct fhir_write *w, const char *patient_ref,
			char policy[65])
{
	size_t i;
	json_t *e;
	json_array_foreach(w->entries, i, e) {
		const json_t *r = res_of(e);
		const char *t = sval(r, "resourceType");
		if (t && !strcmp(t, "Coverage") && cov_match(r, patient_ref, policy))
			return true;
	}
	struct cov_find f = {patient_ref, ""};
	const char *pid = strchr(patient_ref, '/') + 1;
	if (w->store && lb_fhir_each(w->store, "Coverage", pid, cov_each, &f, NULL) == 1) {
		memcpy(policy, f.policy, 65);
		return true;
	}
	/* a store that does not index Coverage by patient: walk them all */
	if (w->store && lb_fhir_each(w->store, "Coverage", NULL, cov_each, &f, NULL) == 1) {
		memcpy(policy, f.policy, 65);
		return true;
	}
	return false;
}

static const char *first_code(const json_t *res)
{
	return sval(json_array_get(json_object_get(json_object_get(res, "code"), "coding"), 0),
		    "code");
}

/* An event payload for res (hash and fingerprint of its canonical text). */
static bool event_of(const json_t *res, uint8_t kind, const uint8_t patient[LB_ADDR_LEN],
		     struct lb_ins_tx *p, uint8_t fp[LB_TEXT_FP_SIZE])
{
	const char *code = first_code(res);
	char *text = json_dumps(res, JSON_SORT_KEYS | JSON_COMPACT);
	if (!code || strlen(code) > LB_INS_CODE_MAX || !text) {
		free(text);
		return false;
	}
	memset(p, 0, sizeof *p);
	p->type = LB_TX_INS_EVENT;
	p->kind = kind;
	memcpy(p->patient, patient, LB_ADDR_LEN);
	snprintf(p->code, sizeof p->code, "%s", code);
	lb_hash(p->hash, text, strlen(text));
	struct lb_text_fp t;
	if (!lb_text_fingerprint(text, strlen(text), &t)) {
		lb_text_fp_encode(&t, fp);
		p->fp = fp;
		p->fp_len = LB_TEXT_FP_SIZE;
	}
	free(text);
	return true;
}

/* Billed amount of a Procedure (extension urn:leben:billed, valueMoney ASC) in micro-ASC. */
static bool billed(const json_t *proc, uint64_t *micro)
{
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(proc, "extension"), i, x) {
		const char *u = sval(x, "url");
		json_t *mo = json_object_get(x, "valueMoney");
		json_t *v = json_object_get(mo, "value");
		const char *cur = sval(mo, "currency");
		if (!u || strcmp(u, EXT_BILLED) || !json_is_number(v) || (cur && strcmp(cur, "ASC")))
			continue;
		double a = json_number_value(v);
		if (!(a > 0 && a < 1e12))
			return false;
		*micro = (uint64_t)llround(a * 1e6);
		return true;
	}
	return false;
}

static void log_claim(const struct claim_job *j, const char *status, const char *claim,
		      const char *settle, const char *error)
{
	char path[4200], pol[65];
	char pa[LB_ADDR_TEXT_LEN + 1];
	snprintf(path, sizeof path, "%s/insurance", j->home);
	lb_mkdirs(path, 0700, NULL);
	snprintf(path, sizeof path, "%s/insurance/auto.ndjson", j->home);
	lb_hex_encode(pol, j->claim.policy, LB_HASH_LEN);
	lb_addr_encode(pa, j->claim.patient);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "procedure", j->proc_ref,
			      "condition", j->cond_ref, "patient", pa, "policy", pol, "status",
			      status, "cost", (json_int_t)j->claim.cost, "time",
			      (json_int_t)lb_now_ms());
	if (claim)
		json_object_set_new(o, "claim", json_string(claim));
	if (settle)
		json_object_set_new(o, "settle", json_string(settle));
	if (claim)
		json_object_set_new(o, "approved", json_integer((json_int_t)j->claim.approved));
	if (error)
		json_object_set_new(o, "error", json_string(error));
	char *line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	pthread_mutex_lock(&jobs_mu);
	FILE *f = line ? fopen(path, "a") : NULL;
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
	pthread_mutex_unlock(&jobs_mu);
	free(line);
	lb_log(!strcmp(status, "refused") ? LB_LOG_WARN : LB_LOG_INFO,
	       "insurance: claim for %s %s%s%s", j->proc_ref, status, error ? ": " : "",
	       error ? error : "");
}

/* Wait until tx id is in a block: LB_OK committed, LB_EINVALID refused there. */
static int wait_tx(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], struct lb_errmsg *em)
{
	for (int waited = 0; waited < WAIT_MS && !jobs_stopping; waited += 50) {
		json_t *j = NULL;
		if (!lb_ledger_tx_json(l, id, &j, NULL)) {
			const char *s = sval(j, "status");
			int done = s && !strcmp(s, "committed") ? 1 : s && !strcmp(s, "invalid") ? 2 : 0;
			json_decref(j);
			if (done == 1)
				return LB_OK;
			if (done == 2)
				return lb_errf(em, LB_EINVALID, "the tx was refused in its block");
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (jobs_stopping)
		return lb_errf(em, LB_EUNAVAILABLE, "the node stopped before the tx reached a block: "
			       "write the Procedure again to claim it");
	return lb_errf(em, LB_EUNAVAILABLE, "the tx reached no block within %d s", WAIT_MS / 1000);
}

static int submit(struct lb_ledger *l, int chain, const struct lb_ins_tx *p,
		  uint8_t id[LB_HASH_LEN], struct lb_errmsg *em)
{
	struct lb_buf b;
	lb_buf_init(&b, 1u << 20);
	int rc = lb_ins_tx_encode(&b, p, em);
	if (!rc)
		rc = lb_ledger_node_submit(l, chain, p->type, b.data, b.len, id, em);
	lb_buf_release(&b);
	return rc;
}

static int run_claim(struct claim_job *j, char claim_hex[65], char settle_hex[65],
		     struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN], pk[LB_PUBKEY_LEN], me[LB_ADDR_LEN];
	int rc;
	if ((rc = lb_ledger_node_pk(j->l, pk, em)))
		return rc;
	lb_addr_from_pubkey(me, pk);
	for (int i = 0; i < 2; i++) {
		if (lb_ins_event_known(j->l, j->ev[i].hash))
			continue; /* anchored by an earlier write: the adjudication tells if it is ours */
		if ((rc = submit(j->l, LB_CHAIN_BUSINESS, &j->ev[i], id, em)) ||
		    (rc = wait_tx(j->l, id, em)))
			return rc;
	}
	json_t *r = NULL;
	if ((rc = lb_ins_adjudicate_json(j->l, me, &j->claim, &r, em)))
		return rc;
	json_t *ap = json_object_get(r, "approved");
	if (!json_is_integer(ap)) {
		rc = lb_errf(em, LB_EINVALID, "%s", sval(r, "error") ? sval(r, "error") : "refused");
		json_decref(r);
		return rc;
	}
	j->claim.approved = (uint64_t)json_integer_value(ap);
	json_decref(r);
	if ((rc = submit(j->l, LB_CHAIN_BUSINESS, &j->claim, id, em)) ||
	    (rc = wait_tx(j->l, id, em)))
		return rc;
	lb_hex_encode(claim_hex, id, LB_HASH_LEN);
	struct lb_ins_tx s;
	struct lb_buf proof;
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int chain;
	memset(&s, 0, sizeof s);
	s.type = LB_TX_INS_SETTLE;
	lb_buf_init(&proof, LB_INS_PROOF_MAX);
	if (!(rc = lb_ledger_tx_raw(j->l, id, &chain, &raw, &rawlen)) &&
	    !(rc = lb_ledger_proof(j->l, id, LB_CHAIN_SETTLEMENT, &proof, em))) {
		s.cited = raw;
		s.cited_len = rawlen;
		s.proof = proof.data;
		s.proof_len = proof.len;
		if (!(rc = submit(j->l, LB_CHAIN_SETTLEMENT, &s, id, em)) &&
		    !(rc = wait_tx(j->l, id, em)))
			lb_hex_encode(settle_hex, id, LB_HASH_LEN);
	} else if (rc && !em->text[0])
		lb_errf(em, rc, "the claim's tx or its proof is not at hand on this node");
	lb_free(raw);
	lb_buf_release(&proof);
	return rc;
}

static void *claim_thread(void *arg)
{
	struct claim_job *j = arg;
	char claim[65] = "", settle[65] = "";
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = run_claim(j, claim, settle, &em);
	log_claim(j, rc ? "refused" : "settled", claim[0] ? claim : NULL,
		  settle[0] ? settle : NULL, rc ? em.text : NULL);
	lb_free(j);
	pthread_mutex_lock(&jobs_mu);
	jobs_running--;
	pthread_cond_broadcast(&jobs_cv);
	pthread_mutex_unlock(&jobs_mu);
	return NULL;
}

/* A completed Procedure of w: a claim job when everything a claim needs is there. */
static void claim_for(const struct fhir_write *w, const json_t *proc)
{
	const char *pref = json_string_value(json_object_get(json_object_get(proc, "subject"),
							     "reference"));
	const char *cref = json_string_value(json_object_get(
		json_array_get(json_object_get(proc, "reasonReference"), 0), "reference"));
	const char *st = sval(proc, "status");
	char policy[65];
	uint64_t cost;
	if (!st || strcmp(st, "completed") || !pref || strncmp(pref, "Patient/", 8) || !cref ||
	    !billed(proc, &cost) || !coverage_of(w, pref, policy))
		return;
	json_t *pat = find(w, pref, "Patient"), *cond = find(w, cref, "Condition");
	const char *key = ident(pat, SYS_KEY);
	const char *csub = json_string_value(json_object_get(json_object_get(cond, "subject"),
							     "reference"));
	struct claim_job *j = lb_calloc(1, sizeof *j);
	uint8_t pk[LB_PUBKEY_LEN], patient[LB_ADDR_LEN];
	if (!j || !key || !csub || strcmp(csub, pref) || strlen(key) != 2 * LB_PUBKEY_LEN ||
	    lb_hex_decode(pk, sizeof pk, key)) {
		if (pat && cond && (!key || !csub || strcmp(csub, pref)))
			lb_log(LB_LOG_WARN, "insurance: no claim for %s/%s: the Condition must be of "
			       "the same Patient, who carries their key (identifier %s)",
			       "Procedure", sval(proc, "id"), SYS_KEY);
		goto out;
	}
	lb_addr_from_pubkey(patient, pk);
	j->l = w->ledger;
	snprintf(j->home, sizeof j->home, "%s", w->home ? w->home : ".");
	snprintf(j->proc_ref, sizeof j->proc_ref, "Procedure/%s", sval(proc, "id"));
	snprintf(j->cond_ref, sizeof j->cond_ref, "%s", cref);
	if (!event_of(cond, LB_INS_CONDITION, patient, &j->ev[0], j->fp[0]) ||
	    !event_of(proc, LB_INS_PROCEDURE, patient, &j->ev[1], j->fp[1]))
		goto out;
	j->claim.type = LB_TX_INS_CLAIM;
	lb_hex_decode(j->claim.policy, LB_HASH_LEN, policy);
	memcpy(j->claim.patient, patient, LB_ADDR_LEN);
	memcpy(j->claim.condition, j->ev[0].hash, LB_HASH_LEN);
	memcpy(j->claim.procedure, j->ev[1].hash, LB_HASH_LEN);
	j->claim.cost = cost;
	pthread_t t;
	pthread_mutex_lock(&jobs_mu);
	jobs_running++;
	pthread_mutex_unlock(&jobs_mu);
	if (pthread_create(&t, NULL, claim_thread, j)) {
		pthread_mutex_lock(&jobs_mu);
		jobs_running--;
		pthread_mutex_unlock(&jobs_mu);
		goto out;
	}
	pthread_detach(t);
	j = NULL;
out:
	lb_free(j);
	json_decref(pat);
	json_decref(cond);
}

bool lb_apps_is_member_key(struct lb_ledger *l, const char *home, const char *hex)
{
	uint8_t pk[LB_PUBKEY_LEN];
	char path[4300], line[200], node[2 * LB_PUBKEY_LEN + 1];
	if (!hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
		return false;
	if (l && !lb_ledger_node_pk(l, pk, NULL)) {
		lb_hex_encode(node, pk, sizeof pk);
		if (!strcmp(node, hex))
			return true;
	}
	if (!home)
		return false;
	snprintf(path, sizeof path, "%s/fhir/members", home);
	FILE *f = fopen(path, "r");
	bool yes = false;
	while (f && !yes && fgets(line, sizeof line, f)) {
		line[strcspn(line, " \t\r\n#")] = 0;
		yes = !strcmp(line, hex);
	}
	if (f)
		fclose(f);
	return yes;
}

void lb_apps_fhir_written(const struct lb_apps_fhir_write *w, const json_t *resources)
{
	size_t i;
	json_t *e;
	if (!w || !json_is_array(resources) || (w->operation && !strcmp(w->operation, "import")))
		return;
	struct fhir_write fw = {w->ledger, w->home, NULL, w->writer_key, resources};
	feed_monitor(&fw);
	if (!w->ledger)
		return;
	json_array_foreach(resources, i, e) {
		const json_t *r = res_of(e);
		const char *t = sval(r, "resourceType");
		if (!t || strcmp(t, "Procedure"))
			continue;
		/* the store, for the Patient, Condition and Coverage written before */
		if (!fw.store && lb_fhir_node_store_open(w->ledger, w->home, &fw.store, NULL))
			fw.store = NULL;
		claim_for(&fw, r);
	}
	lb_fhir_store_close(fw.store);
}

void lb_apps_quiesce(void)
{
	pthread_mutex_lock(&jobs_mu);
	jobs_stopping = 1;
	while (jobs_running > 0)
		pthread_cond_wait(&jobs_cv, &jobs_mu);
	jobs_stopping = 0;
	pthread_mutex_unlock(&jobs_mu);
}

int lb_apps_auto_claims(const char *home, json_t **out, struct lb_errmsg *em)
{
	char path[4200], line[4096];
	snprintf(path, sizeof path, "%s/insurance/auto.ndjson", home ? home : ".");
	json_t *a = json_array();
	if (!a)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	pthread_mutex_lock(&jobs_mu);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f)) {
		json_t *o = json_loads(line, 0, NULL);
		if (o)
			json_array_append_new(a, o);
	}
	if (f)
		fclose(f);
	pthread_mutex_unlock(&jobs_mu);
	*out = a;
	return LB_OK;
}
