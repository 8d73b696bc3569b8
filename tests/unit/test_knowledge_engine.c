/* Unit tests for the knowledge engine and verifier: the corpus scenarios in both forms
 * (answers -> expected recommendations, commitments and actions), refusal of values outside a
 * type or range, warnings, session save/resume exactness, the verifier on good and faulty
 * contracts, and the chain-binding payload codec. */
#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "kn_scenario.h"
#include "knowledge/kn_int.h"

static const char *root(void)
{
	return getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
}

static struct lb_kn_model *load(const char *rel)
{
	char path[1024];
	struct lb_kn_model *m;
	struct lb_errmsg em;
	snprintf(path, sizeof(path), "%s/%s", root(), rel);
	if (lb_kn_model_load(path, &m, &em) != LB_OK)
		fail_msg("%s", em.text);
	return m;
}

static void expect_json(json_t *want, json_t *got, const char *what, const char *sc)
{
	if (!json_equal(want, got)) {
		char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
		char *b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		fail_msg("scenario '%s': %s expected %s, got %s", sc, what, a, b);
	}
}

static void test_corpus_scenarios(void **state)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/examples/contracts/scenarios.json", root());
	json_error_t je;
	json_t *all = json_load_file(path, 0, &je);
	assert_non_null(all);
	static const char *const files[] = { "chd_screening", "breast_2ww", "chronic_cough",
					     "hypertension", "chest_pain", "sepsis",
					     "diabetic_foot", "weight_loss" };
	size_t ran = 0;
	for (size_t f = 0; f < 8; f++) {
		for (int form = 0; form < 2; form++) {
			char rel[256];
			snprintf(rel, sizeof(rel), "examples/contracts/%s.%s", files[f],
				 form ? "json" : "pf");
			struct lb_kn_model *m = load(rel);
			json_t *scs = json_object_get(all, lb_kn_model_name(m));
			assert_true(json_array_size(scs) >= 4);
			for (size_t i = 0; i < json_array_size(scs); i++) {
				json_t *sc = json_array_get(scs, i);
				const char *name = json_string_value(json_object_get(sc, "name"));
				struct lb_kn_session *s;
				struct lb_errmsg em;
				assert_lb_ok(lb_kn_session_new(m, 19800, &s, &em));
				struct kn_outcome o = { 0 };
				if (kn_scenario_run(s, json_object_get(sc, "answers"), &o) != 0)
					fail_msg("%s / %s: %s", rel, name, o.error);
				if (!o.finished)
					fail_msg("%s / %s: did not finish", rel, name);
				expect_json(json_object_get(sc, "actions"), o.actions, "actions", name);
				expect_json(json_object_get(sc, "committed"), o.committed, "committed",
					    name);
				json_t *rec = json_object_get(sc, "recommended");
				if (rec != NULL)
					expect_json(rec, o.recommended, "recommended", name);
				kn_outcome_release(&o);
				/* the same run without a listener records its trace lazily: the
				 * trace and the saved session are byte for byte the same */
				struct lb_kn_session *q;
				struct kn_outcome oq = { .quiet = true };
				assert_lb_ok(lb_kn_session_new(m, 19800, &q, &em));
				if (kn_scenario_run(q, json_object_get(sc, "answers"), &oq) != 0)
					fail_msg("%s / %s (quiet): %s", rel, name, oq.error);
				kn_outcome_release(&oq);
				size_t la, lq;
				const char *ta = lb_kn_session_trace(s, &la);
				const char *tq = lb_kn_session_trace(q, &lq);
				if (la == 0 || la != lq || memcmp(ta, tq, la) != 0)
					fail_msg("%s / %s: lazy trace differs:\n%s\n--- eager:\n%s", rel,
						 name, tq, ta);
				char *sa, *sq;
				size_t na, nq;
				assert_lb_ok(lb_kn_session_save(s, &sa, &na, &em));
				assert_lb_ok(lb_kn_session_save(q, &sq, &nq, &em));
				assert_int_equal(na, nq);
				assert_memory_equal(sa, sq, na);
				lb_free(sa);
				lb_free(sq);
				lb_kn_session_free(q);
				lb_kn_session_free(s);
				ran++;
			}
			lb_kn_model_free(m);
		}
	}
	assert_true(ran >= 2 * 36);
	json_decref(all);
}

static void test_value_checks(void **state)
{
	struct lb_kn_model *m = load("examples/contracts/hypertension.pf");
	struct lb_kn_session *s;
	struct lb_errmsg em;
	char warn[256];
	assert_lb_ok(lb_kn_session_new(m, 0, &s, &em));
	assert_int_equal(lb_kn_session_add_value(s, "clinic_sbp", "350", warn, sizeof(warn), &em),
			 LB_ERANGE);
	assert_string_equal(em.text, "'clinic_sbp' must be between 60 and 300 mmHg");
	assert_int_equal(lb_kn_session_add_value(s, "clinic_sbp", "150.5", NULL, 0, &em), LB_ETYPE);
	assert_int_equal(lb_kn_session_add_value(s, "clinic_sbp", "\"150\"", NULL, 0, &em),
			 LB_ETYPE);
	assert_int_equal(lb_kn_session_add_text(s, "clinic_sbp", "150 mmHg", NULL, 0, &em),
			 LB_ETYPE);
	assert_int_equal(lb_kn_session_add_value(s, "controlled", "1", NULL, 0, &em), LB_ETYPE);
	assert_int_equal(lb_kn_session_add_text(s, "controlled", "yes", NULL, 0, &em), LB_ETYPE);
	assert_int_equal(lb_kn_session_add_value(s, "nothing", "1", NULL, 0, &em), LB_ENOTFOUND);
	/* accepted with the model's warning */
	assert_lb_ok(lb_kn_session_add_text(s, "clinic_sbp", " 185 ", warn, sizeof(warn), &em));
	assert_string_equal(warn, "very high: check for symptoms and signs needing same-day "
				  "assessment");
	assert_lb_ok(lb_kn_session_add_value(s, "clinic_sbp", "150", warn, sizeof(warn), &em));
	assert_string_equal(warn, "");
	lb_kn_session_free(s);
	lb_kn_model_free(m);
	m = load("examples/contracts/chd_screening.pf");
	assert_lb_ok(lb_kn_session_new(m, 0, &s, &em));
	assert_int_equal(lb_kn_session_add_value(s, "four_chamber", "\"odd\"", NULL, 0, &em),
			 LB_ERANGE);
	assert_string_equal(em.text, "'four_chamber' must be one of: normal, abnormal, not_seen");
	assert_int_equal(lb_kn_session_add_value(s, "risk_factors", "\"none\"", NULL, 0, &em),
			 LB_ETYPE);
	assert_int_equal(lb_kn_session_add_text(s, "risk_factors", "none, none", NULL, 0, &em),
			 LB_EINVALID);
	assert_lb_ok(lb_kn_session_add_text(s, "risk_factors", "family_chd, teratogen", NULL, 0, &em));
	assert_int_equal(lb_kn_session_add_value(s, "has_risk", "true", NULL, 0, &em), LB_EINVALID);
	lb_kn_session_free(s);
	lb_kn_model_free(m);
}

/* Save at every step of a run, resume, save again: identical bytes; and the resumed session
 * continues exactly like the original. */
static void test_save_resume(void **state)
{
	struct lb_kn_model *m = load("examples/contracts/hypertension.json");
	struct lb_kn_session *a, *b;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_session_new(m, 19700, &a, &em));
	const char *steps[][2] = { { "clinic_sbp", "150" }, { "clinic_dbp", "85" },
				   { "abpm_sbp", "142" }, { "review_sbp", "150" } };
	for (size_t i = 0; i < 4; i++) {
		assert_lb_ok(lb_kn_session_run(a, &em));
		char *s1, *s2;
		size_t n1, n2;
		assert_lb_ok(lb_kn_session_save(a, &s1, &n1, &em));
		assert_lb_ok(lb_kn_session_resume(m, s1, n1, &b, &em));
		assert_lb_ok(lb_kn_session_save(b, &s2, &n2, &em));
		assert_int_equal(n1, n2);
		assert_memory_equal(s1, s2, n1);
		/* both continue identically */
		assert_lb_ok(lb_kn_session_add_value(a, steps[i][0], steps[i][1], NULL, 0, &em));
		assert_lb_ok(lb_kn_session_add_value(b, steps[i][0], steps[i][1], NULL, 0, &em));
		assert_lb_ok(lb_kn_session_run(a, &em));
		assert_lb_ok(lb_kn_session_run(b, &em));
		lb_free(s1);
		lb_free(s2);
		assert_lb_ok(lb_kn_session_save(a, &s1, &n1, &em));
		assert_lb_ok(lb_kn_session_save(b, &s2, &n2, &em));
		assert_int_equal(n1, n2);
		assert_memory_equal(s1, s2, n1);
		lb_free(s1);
		lb_free(s2);
		lb_kn_session_free(b);
	}
	/* a review cycle waits 28 days: time moves it on, and the history keeps every answer */
	char *p;
	assert_lb_ok(lb_kn_session_pending(a, &p, &em));
	json_t *pj = json_loads(p, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(pj, "next_wake")), 19700 + 28);
	json_decref(pj);
	lb_free(p);
	assert_int_equal(lb_kn_session_set_time(a, 10, &em), LB_EINVALID);
	assert_lb_ok(lb_kn_session_set_time(a, 19728, &em));
	assert_lb_ok(lb_kn_session_run(a, &em));
	assert_lb_ok(lb_kn_session_add_value(a, "review_sbp", "132", NULL, 0, &em));
	assert_lb_ok(lb_kn_session_run(a, &em));
	assert_true(lb_kn_session_is_finished(a));
	int d = kn_model_find_data(m, "review_sbp");
	/* 150, unknown (second cycle asks again), 132 */
	assert_int_equal(a->d[d].n, 3);
	assert_int_equal(a->d[d].h[0].v.u.i, 150);
	assert_int_equal(a->d[d].h[1].v.t, KN_V_UNKNOWN);
	assert_int_equal(a->d[d].h[2].v.u.i, 132);
	assert_int_equal(a->d[d].h[2].time, 19728);
	/* resuming with another contract is refused */
	char *s1;
	size_t n1;
	assert_lb_ok(lb_kn_session_save(a, &s1, &n1, &em));
	struct lb_kn_model *other = load("examples/contracts/sepsis.pf");
	assert_int_equal(lb_kn_session_resume(other, s1, n1, &b, &em), LB_EINVALID);
	lb_free(s1);
	lb_kn_model_free(other);
	lb_kn_session_free(a);
	lb_kn_model_free(m);
}

static void check_file(const char *rel, size_t *failures, json_t **report)
{
	struct lb_kn_model *m = load(rel);
	char *r;
	struct lb_errmsg em;
	struct lb_kn_check_opts o = { .max_states = 100000 };
	assert_lb_ok(lb_kn_check(m, &o, &r, failures, NULL, &em));
	*report = json_loads(r, 0, NULL);
	assert_non_null(*report);
	lb_free(r);
	lb_kn_model_free(m);
}

static bool has_finding(json_t *report, const char *kind, const char *task, bool with_trace)
{
	json_t *fs = json_object_get(report, "findings");
	for (size_t i = 0; i < json_array_size(fs); i++) {
		json_t *f = json_array_get(fs, i);
		const char *t = json_string_value(json_object_get(f, "task"));
		if (strcmp(json_string_value(json_object_get(f, "kind")), kind) == 0 &&
		    (task == NULL || (t != NULL && strcmp(t, task) == 0)) &&
		    (!with_trace || json_is_array(json_object_get(f, "trace"))))
			return true;
	}
	return false;
}

static void test_verifier(void **state)
{
	static const char *const good[] = { "chd_screening", "breast_2ww", "chronic_cough",
					    "hypertension", "chest_pain", "sepsis",
					    "diabetic_foot", "weight_loss" };
	for (size_t i = 0; i < 8; i++) {
		char rel[256];
		size_t failures;
		json_t *r;
		snprintf(rel, sizeof(rel), "examples/contracts/%s.pf", good[i]);
		check_file(rel, &failures, &r);
		if (failures != 0) {
			char *t = json_dumps(r, 0);
			fail_msg("%s: %s", rel, t);
		}
		assert_true(json_is_true(json_object_get(r, "complete")));
		json_decref(r);
	}
	static const struct {
		const char *file, *kind, *task;
		bool trace;
	} bad[] = {
		{ "deadlock", "deadlock", NULL, true },
		{ "unreachable", "unreachable", "early_alert", false },
		{ "livelock", "livelock", NULL, true },
		{ "ambiguity", "ambiguity", "pick", true },
		{ "nondeterminism", "nondeterminism", NULL, true },
		{ "static", "undefined", "undefined_ref", false },
		{ "static", "type", "typed", false },
		{ "static", "unsatisfiable", "geriatric", false },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rel[256];
		size_t failures;
		json_t *r;
		snprintf(rel, sizeof(rel), "examples/contracts/faulty/%s.pf", bad[i].file);
		check_file(rel, &failures, &r);
		assert_true(failures > 0);
		if (!has_finding(r, bad[i].kind, bad[i].task, bad[i].trace)) {
			char *t = json_dumps(r, 0);
			fail_msg("%s: no %s finding in %s", rel, bad[i].kind, t);
		}
		json_decref(r);
	}
	/* the ambiguity counterexample is an input recommending two candidates */
	size_t failures;
	json_t *r;
	check_file("examples/contracts/faulty/ambiguity.pf", &failures, &r);
	json_t *f = json_array_get(json_object_get(r, "findings"), 0);
	assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "recommends 2"));
	const char *step = json_string_value(json_array_get(json_object_get(f, "trace"), 0));
	assert_non_null(step);
	assert_memory_equal(step, "answer age = ", 13);
	assert_true(atoi(step + 13) >= 50); /* both 'screen' and 'advise' from 50 */
	json_decref(r);
	/* a state limit stops exploration with a clear finding */
	struct lb_kn_model *m = load("examples/contracts/chd_screening.pf");
	char *rep;
	struct lb_errmsg em;
	struct lb_kn_check_opts o = { .max_states = 50 };
	assert_lb_ok(lb_kn_check(m, &o, &rep, &failures, NULL, &em));
	r = json_loads(rep, 0, NULL);
	assert_true(has_finding(r, "limit", NULL, false));
	assert_true(json_is_false(json_object_get(r, "complete")));
	json_decref(r);
	lb_free(rep);
	lb_kn_model_free(m);
}

static void hex(const char *h, uint8_t *out, size_t n)
{
	assert_lb_ok(lb_hex_decode(out, n, h));
}

static void test_chain_payloads(void **state)
{
	/* hashes against Python's hashlib.blake2b(domain + b"\0" + data, digest_size=32) */
	uint8_t h[32], want[32], salt[32];
	lb_kn_report_hash("{\"ok\":true}", 11, h);
	hex("2d7105b2c6329423081435d27722e9a804bb8fa9510e39cf8707da1c5a75253e", want, 32);
	assert_memory_equal(h, want, 32);
	for (int i = 0; i < 32; i++)
		salt[i] = (uint8_t)i;
	lb_kn_answer_hash(salt, "age", "54", h);
	hex("31f1594eae39f31d23313df1c68304c6f8218a2e4986917e9827ece756e1b4f1", want, 32);
	assert_memory_equal(h, want, 32);

	struct lb_kn_session_payload p = { .kind = LB_KN_EV_DECISION, .seq = 300 };
	memset(p.contract, 0xab, 32);
	memset(p.session, 0x01, 32);
	strcpy(p.decision, "referral");
	strcpy(p.cands[0], "a_first");
	strcpy(p.cands[1], "b_second");
	p.ncands = 2;
	uint8_t *enc;
	size_t n;
	assert_lb_ok(lb_kn_session_payload_encode(&p, &enc, &n));
	/* 1 + 1 + 32 + 32 + varint(300)=2 + 32 + (1+8) + 1 + (1+7) + (1+8) */
	assert_int_equal(n, 1 + 1 + 32 + 32 + 2 + 32 + 9 + 1 + 8 + 9);
	assert_int_equal(enc[66], 0xac);
	assert_int_equal(enc[67], 0x02);
	struct lb_kn_session_payload q;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_session_payload_decode(enc, n, &q, &em));
	assert_string_equal(q.cands[1], "b_second");
	assert_int_equal(q.seq, 300);
	/* non-canonical forms are refused */
	uint8_t bad[512];
	memcpy(bad, enc, n);
	bad[n] = 0;
	assert_int_equal(lb_kn_session_payload_decode(bad, n + 1, &q, &em), LB_EMALFORMED);
	assert_int_equal(lb_kn_session_payload_decode(enc, n - 1, &q, &em), LB_EMALFORMED);
	/* seq 300 with a redundant continuation byte */
	memcpy(bad, enc, 66);
	bad[66] = 0xac;
	bad[67] = 0x82;
	bad[68] = 0x00;
	memcpy(bad + 69, enc + 68, n - 68);
	assert_int_equal(lb_kn_session_payload_decode(bad, n + 1, &q, &em), LB_EMALFORMED);
	lb_free(enc);
	/* unsorted candidates, digest on a decision, start with seq != 0 */
	strcpy(p.cands[0], "zz");
	assert_int_equal(lb_kn_session_payload_check(&p, &em), LB_EINVALID);
	strcpy(p.cands[0], "a_first");
	p.digest[0] = 1;
	assert_int_equal(lb_kn_session_payload_check(&p, &em), LB_EINVALID);
	struct lb_kn_session_payload st = { .kind = LB_KN_EV_START, .seq = 1 };
	memset(st.contract, 1, 32);
	memset(st.session, 2, 32);
	assert_int_equal(lb_kn_session_payload_check(&st, &em), LB_EINVALID);
	st.seq = 0;
	assert_lb_ok(lb_kn_session_payload_check(&st, &em));

	/* publish: canonical source + matching hashes + passing verifier */
	struct lb_kn_model *m = load("examples/contracts/diabetic_foot.pf");
	uint8_t *src;
	size_t len;
	assert_lb_ok(lb_kn_model_canonical(m, &src, &len));
	uint8_t sh[32], rh[32];
	assert_lb_ok(lb_kn_model_hash(m, sh));
	char *rep;
	size_t failures;
	assert_lb_ok(lb_kn_check(m, NULL, &rep, &failures, NULL, &em));
	lb_kn_report_hash(rep, strlen(rep), rh);
	assert_lb_ok(lb_kn_publish_check(src, len, sh, rh, &em));
	struct lb_kn_publish_payload pp = { .source = src, .source_len = len }, pq;
	memcpy(pp.source_hash, sh, 32);
	memcpy(pp.report_hash, rh, 32);
	uint8_t *pe;
	size_t pn;
	assert_lb_ok(lb_kn_publish_payload_encode(&pp, &pe, &pn));
	assert_int_equal(pn, 1 + 64 + (len < 128 ? 1 : len < 16384 ? 2 : 3) + len);
	assert_lb_ok(lb_kn_publish_payload_decode(pe, pn, &pq, &em));
	assert_memory_equal(pq.source, src, len);
	assert_lb_ok(lb_kn_publish_check(pq.source, pq.source_len, pq.source_hash, pq.report_hash,
					 &em));
	assert_int_equal(lb_kn_publish_payload_decode(pe, pn - 1, &pq, &em), LB_EMALFORMED);
	lb_free(pe);
	rh[0] ^= 1;
	assert_int_equal(lb_kn_publish_check(src, len, sh, rh, &em), LB_EINVALID);
	lb_free(rep);
	lb_free(src);
	lb_kn_model_free(m);

	/* a PROformajs publication (payload version 2): canonical JSON source, its own hash
	 * domain, the PROformajs verifier; refused under the other rules */
	m = load("tests/data/knowledge_json/valid/small.json");
	char *js;
	assert_lb_ok(lb_kn_model_print(m, LB_KN_FORM_JSON, &js, &len));
	src = (uint8_t *)js;
	assert_lb_ok(lb_kn_model_hash_rules(m, LB_KN_RULES_PROFORMAJS, sh));
	uint8_t lh[32];
	assert_lb_ok(lb_kn_model_hash(m, lh));
	assert_memory_not_equal(sh, lh, 32);
	assert_lb_ok(lb_kn_check_proformajs(m, NULL, &rep, &failures, &em));
	assert_int_equal(failures, 0);
	lb_kn_report_hash(rep, strlen(rep), rh);
	assert_lb_ok(lb_kn_publish_check_rules(src, len, LB_KN_RULES_PROFORMAJS, sh, rh, &em));
	assert_int_not_equal(lb_kn_publish_check(src, len, sh, rh, &em), LB_OK);
	pp = (struct lb_kn_publish_payload){ .source = src, .source_len = len,
					     .rules = LB_KN_RULES_PROFORMAJS };
	memcpy(pp.source_hash, sh, 32);
	memcpy(pp.report_hash, rh, 32);
	assert_lb_ok(lb_kn_publish_payload_encode(&pp, &pe, &pn));
	assert_int_equal(pe[0], 2);
	assert_lb_ok(lb_kn_publish_payload_decode(pe, pn, &pq, &em));
	assert_int_equal(pq.rules, LB_KN_RULES_PROFORMAJS);
	assert_lb_ok(lb_kn_publish_check_rules(pq.source, pq.source_len, pq.rules, pq.source_hash,
					       pq.report_hash, &em));
	pe[0] = 3;
	assert_int_equal(lb_kn_publish_payload_decode(pe, pn, &pq, &em), LB_EMALFORMED);
	lb_free(pe);
	/* a v1 payload's decode says LEBEN's rules */
	pp.rules = LB_KN_RULES_LEBEN;
	assert_lb_ok(lb_kn_publish_payload_encode(&pp, &pe, &pn));
	assert_lb_ok(lb_kn_publish_payload_decode(pe, pn, &pq, &em));
	assert_int_equal(pq.rules, LB_KN_RULES_LEBEN);
	lb_free(pe);
	rh[0] ^= 1;
	assert_int_equal(lb_kn_publish_check_rules(src, len, LB_KN_RULES_PROFORMAJS, sh, rh, &em),
			 LB_EINVALID);
	lb_free(rep);
	lb_free(src);
	lb_kn_model_free(m);
	m = load("examples/contracts/faulty/ambiguity.pf");
	assert_lb_ok(lb_kn_model_canonical(m, &src, &len));
	assert_lb_ok(lb_kn_model_hash(m, sh));
	assert_int_equal(lb_kn_publish_check(src, len, sh, rh, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "verifier found"));
	lb_free(src);
	lb_kn_model_free(m);
}


static const char sem_pf[] =
	"data :: x ; type integer; end data.\n"
	"data :: level ; type integer; end data.\n"
	"plan :: sem ;\n"
	"  enquiry :: ask ; source x; end enquiry.\n"
	"  plan :: sub ;\n"
	"    after ask;\n"
	"    terminate_condition x > 10;\n"
	"    abort_condition x = 99;\n"
	"    action :: a1 ; procedure \"first\"; end action.\n"
	"    action :: a2 ; after a1; autonomous; post level := x * 2; end action.\n"
	"  end plan.\n"
	"  action :: late ; after ask; trigger \"lab_back\"; autonomous; end action.\n"
	"  decision :: multi ;\n"
	"    after ask; autonomous; choice_mode multiple;\n"
	"    candidate :: c1 ; argument for if x > 0; end candidate.\n"
	"    candidate :: c2 ; argument 0.5 if x > 0; argument 0.5 if x > 1; end candidate.\n"
	"    candidate :: c3 ; argument for; argument excluding if x > 5; end candidate.\n"
	"  end decision.\n"
	"  action :: waiter ; after ask; optional; wait_condition level > 100; end action.\n"
	"end plan.\n";

static int st(struct lb_kn_session *s, const char *task)
{
	return s->ts[kn_model_find_task(s->m, task)].state;
}

static struct lb_kn_session *sem_run(struct lb_kn_model *m, const char *x)
{
	struct lb_kn_session *s;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_session_new(m, 100, &s, &em));
	assert_lb_ok(lb_kn_session_run(s, &em));
	assert_int_equal(st(s, "ask"), KN_IN_PROGRESS);
	assert_int_equal(st(s, "sub"), KN_DORMANT);
	assert_lb_ok(lb_kn_session_add_value(s, "x", x, NULL, 0, &em));
	assert_lb_ok(lb_kn_session_run(s, &em));
	return s;
}

static void test_semantics(void **state)
{
	struct lb_kn_model *m;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_model_parse(sem_pf, strlen(sem_pf), "sem.pf", LB_KN_FORM_PF, &m, &em));
	/* x = 3: sub runs, a1 waits for confirmation, late waits for its trigger, the
	 * multiple-choice decision commits every recommended candidate */
	struct lb_kn_session *s = sem_run(m, "3");
	assert_int_equal(st(s, "sub"), KN_IN_PROGRESS);
	assert_int_equal(st(s, "a1"), KN_IN_PROGRESS);
	assert_int_equal(st(s, "a2"), KN_DORMANT);
	assert_int_equal(st(s, "late"), KN_DORMANT);
	assert_int_equal(st(s, "multi"), KN_COMPLETED);
	assert_int_equal(st(s, "waiter"), KN_DORMANT); /* waiting: level unknown */
	int base = m->cand_base[kn_model_find_task(m, "multi")];
	assert_int_equal(s->chosen[base + 0], 1);
	assert_int_equal(s->chosen[base + 1], 1); /* 0.5 + 0.5 = 1 */
	assert_int_equal(s->chosen[base + 2], 1);
	assert_int_equal(lb_kn_session_confirm(s, "a2", &em), LB_EINVALID); /* not started */
	assert_int_equal(lb_kn_session_confirm(s, "ask", &em), LB_EINVALID); /* not an action */
	assert_lb_ok(lb_kn_session_confirm(s, "a1", &em));
	assert_lb_ok(lb_kn_session_run(s, &em));
	assert_int_equal(st(s, "a2"), KN_COMPLETED);
	assert_int_equal(st(s, "sub"), KN_COMPLETED);
	assert_int_equal(kn_current(s, kn_model_find_data(m, "level"))->u.i, 6);
	assert_false(lb_kn_session_is_finished(s));
	assert_int_equal(lb_kn_session_trigger(s, "nope", &em), LB_ENOTFOUND);
	assert_lb_ok(lb_kn_session_trigger(s, "lab_back", &em));
	assert_lb_ok(lb_kn_session_run(s, &em));
	assert_int_equal(st(s, "late"), KN_COMPLETED);
	/* the optional waiter is discarded when the plan completes */
	assert_true(lb_kn_session_is_finished(s));
	assert_int_equal(st(s, "waiter"), KN_DISCARDED);
	lb_kn_session_free(s);
	/* x = 20: terminate completes sub and discards its unfinished children; c3 excluded */
	s = sem_run(m, "20");
	assert_int_equal(st(s, "sub"), KN_COMPLETED);
	assert_int_equal(st(s, "a1"), KN_DISCARDED);
	assert_int_equal(st(s, "a2"), KN_DISCARDED);
	assert_int_equal(s->chosen[base + 2], 0);
	const char *c[] = { "c1" };
	assert_int_equal(lb_kn_session_commit(s, "multi", c, 1, &em), LB_EINVALID); /* done */
	lb_kn_session_free(s);
	/* x = 99: abort wins over terminate */
	s = sem_run(m, "99");
	assert_int_equal(st(s, "sub"), KN_DISCARDED);
	assert_int_equal(st(s, "a1"), KN_DISCARDED);
	lb_kn_session_free(s);
	lb_kn_model_free(m);
}

/* A model in PROformajs style: scheduling by waitCondition, C-like operators, single quotes,
 * numeric argument support, request conditions. */
static void test_proformajs_import(void **state)
{
	static const char js[] =
		"{\"class\":\"Plan\",\"name\":\"grant_plan\",\"tasks\":["
		"{\"class\":\"Enquiry\",\"name\":\"enquire\",\"sources\":["
		"{\"class\":\"Source\",\"type\":\"income\"},"
		"{\"class\":\"Source\",\"type\":\"dependants\",\"requestCondition\":\"income < 20000\"}]},"
		"{\"class\":\"Decision\",\"name\":\"decide\",\"autonomous\":true,"
		"\"waitCondition\":\"is_completed('enquire')\",\"candidates\":["
		"{\"class\":\"Candidate\",\"name\":\"grant\",\"arguments\":["
		"{\"class\":\"Argument\",\"caption\":\"low income\",\"support\":1,"
		"\"activeCondition\":\"income < 20000\"},"
		"{\"class\":\"Argument\",\"caption\":\"\",\"support\":0.5,"
		"\"activeCondition\":\"dependants > 0 && income < 20000\"}],"
		"\"recommendCondition\":\"net_support('grant_plan:decide:grant') >= 1.5\"},"
		"{\"class\":\"Candidate\",\"name\":\"refuse\",\"recommendCondition\":"
		"\"!(net_support(\\\"grant\\\") >= 1.5)\"}]},"
		"{\"class\":\"Action\",\"name\":\"pay\",\"autonomous\":true,"
		"\"waitCondition\":\"is_finished('decide')\","
		"\"preCondition\":\"is_completed('enquire') && result_of('decide')==\\\"grant\\\"\"}],"
		"\"dataDefinitions\":[{\"class\":\"Integer\",\"name\":\"income\"},"
		"{\"class\":\"Integer\",\"name\":\"dependants\",\"range\":[0,1,2,3,4,5]}],"
		"\"meta\":{\"editor\":\"ignored\"}}";
	struct lb_kn_model *m;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_model_parse(js, strlen(js), "grant.json", LB_KN_FORM_AUTO, &m, &em));
	assert_int_equal(lb_kn_model_problems(m, 0, NULL), 0);
	static const struct {
		const char *income, *dependants, *result;
		bool paid;
	} cases[] = { { "15000", "2", "grant", true },
		      { "15000", "0", "refuse", false },
		      { "30000", NULL, "refuse", false } };
	for (size_t i = 0; i < 3; i++) {
		struct lb_kn_session *s;
		assert_lb_ok(lb_kn_session_new(m, 0, &s, &em));
		assert_lb_ok(lb_kn_session_add_value(s, "income", cases[i].income, NULL, 0, &em));
		assert_lb_ok(lb_kn_session_run(s, &em));
		if (cases[i].dependants != NULL) {
			assert_false(lb_kn_session_is_finished(s)); /* dependants now requested */
			assert_lb_ok(lb_kn_session_add_value(s, "dependants", cases[i].dependants,
							     NULL, 0, &em));
			assert_lb_ok(lb_kn_session_run(s, &em));
		}
		assert_true(lb_kn_session_is_finished(s));
		int d = kn_model_find_task(m, "decide");
		int g = s->chosen[m->cand_base[d] + 0], r = s->chosen[m->cand_base[d] + 1];
		assert_int_equal(g, strcmp(cases[i].result, "grant") == 0);
		assert_int_equal(r, strcmp(cases[i].result, "refuse") == 0);
		assert_int_equal(st(s, "pay"), cases[i].paid ? KN_COMPLETED : KN_DISCARDED);
		lb_kn_session_free(s);
	}
	lb_kn_model_free(m);
}

/* The PROformajs enactment (kn_enact.c) on a small protocol, known answers taken from
 * PROformajs 0.11 (tests/oracles/proforma_lib.mjs prints the same snapshots): a source is
 * requested only through its requestCondition, a non-autonomous task waits for complete,
 * autoConfirmRecommended confirms a cycle after the recommendation, a cyclic action gets a new
 * instance when completed, a refused value changes nothing. */
static const char pf_js[] =
	"{\"class\":\"Plan\",\"name\":\"p\",\"autonomous\":true,\"tasks\":["
	"{\"class\":\"Enquiry\",\"name\":\"ask\",\"autonomous\":true,\"sources\":["
	"{\"class\":\"Source\",\"type\":\"age\",\"requestCondition\":\"!is_known('age')\"},"
	"{\"class\":\"Source\",\"type\":\"smoker\"}]},"
	"{\"class\":\"Decision\",\"name\":\"dec\",\"waitCondition\":\"is_finished('ask')\","
	"\"candidates\":[{\"class\":\"Candidate\",\"name\":\"yes\",\"autoConfirmRecommended\":true,"
	"\"arguments\":[{\"class\":\"Argument\",\"caption\":\"old\",\"support\":\"+\","
	"\"activeCondition\":\"age > 60\"}],\"recommendCondition\":\"net_support('yes') >= 1\"},"
	"{\"class\":\"Candidate\",\"name\":\"no\",\"recommendCondition\":\"age <= 60\"}]},"
	"{\"class\":\"Action\",\"name\":\"act\",\"cyclic\":true,\"cycleUntil\":\"smoker\","
	"\"waitCondition\":\"is_finished('dec')\"}],"
	"\"dataDefinitions\":[{\"class\":\"Integer\",\"name\":\"age\",\"caption\":\"Age\"},"
	"{\"class\":\"Boolean\",\"name\":\"smoker\",\"caption\":\"Smoker\"}]}";

static void snap_has(struct kn_enact *e, const char *want)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	assert_lb_ok(kn_enact_snapshot(e, &b));
	if (strstr((const char *)b.data, want) == NULL)
		fail_msg("snapshot %s lacks %s", (const char *)b.data, want);
	lb_buf_release(&b);
}

static void test_proformajs_enactment(void **state)
{
	(void)state;
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL;
	struct kn_enact *e = NULL;
	assert_lb_ok(lb_kn_model_parse(pf_js, strlen(pf_js), "pf.json", LB_KN_FORM_AUTO, &m, &em));
	assert_lb_ok(kn_enact_new(m, &e, &em));
	assert_lb_ok(kn_enact_start(e, &em));
	snap_has(e, "\"tasks\":{\"p\":\"in_progress\",\"p:ask\":\"in_progress\",\"p:dec\":\"dormant\","
		    "\"p:act[0]\":\"dormant\"}");
	snap_has(e, "\"requested\":[\"p:ask:age\"]"); /* smoker: no requestCondition */
	json_t *bad = json_string("old"), *age = json_integer(70), *yes = json_true();
	assert_int_equal(kn_enact_set(e, "p", "age", bad, &em), LB_EINVALID);
	snap_has(e, "\"data\":{}");
	assert_lb_ok(kn_enact_set(e, "p", "age", age, &em));
	/* the enquiry completes by itself; the recommended candidate is confirmed */
	snap_has(e, "\"p:ask\":\"completed\",\"p:dec\":\"in_progress\"");
	snap_has(e, "\"p:dec:yes\":[1,true,true],\"p:dec:no\":[0,false,false]");
	snap_has(e, "\"completeable\":[\"p:dec\"]");
	assert_lb_ok(kn_enact_complete(e, "p:dec", &em));
	snap_has(e, "\"p:act[0]\":\"in_progress\"");
	assert_int_equal(kn_enact_complete(e, "p:ask", &em), LB_EINVALID); /* not completeable */
	assert_lb_ok(kn_enact_complete(e, "p:act[0]", &em));
	snap_has(e, "\"p:act[0]\":\"completed\",\"p:act[1]\":\"in_progress\"");
	assert_lb_ok(kn_enact_set(e, "p", "smoker", yes, &em));
	assert_lb_ok(kn_enact_complete(e, "p:act[1]", &em));
	snap_has(e, "\"finished\":true");
	snap_has(e, "\"p:act[1]\":\"completed\"}"); /* cycleUntil true: no act[2] */
	json_decref(bad);
	json_decref(age);
	json_decref(yes);
	kn_enact_free(e);
	lb_kn_model_free(m);
}

/* A data name defined in several tasks, under the PROformajs rules (known answers from
 * PROformajs 0.11): a task resolves a name to the outermost definition it sees (the root's x
 * from inside plan s, which derives its own x; each sibling enquiry its own w; none from the
 * root); values are kept per task path and a bare name reads the last path first stored under
 * that holds a value (an unset root x leaves s's derived 10 for `big`, while the snapshot, by
 * name, shows the last path's null); kn_enact_copy_data copies that state. */
static const char pf_dup[] =
	"{\"class\":\"Plan\",\"name\":\"p\",\"tasks\":["
	"{\"class\":\"Plan\",\"name\":\"s\",\"dataDefinitions\":[{\"class\":\"Integer\","
	"\"name\":\"x\",\"valueCondition\":\"is_known('y') ? y * 10 : 0\"}],"
	"\"tasks\":[{\"class\":\"Enquiry\",\"name\":\"q\",\"sources\":[{\"class\":\"Source\","
	"\"type\":\"x\"}]}]},"
	"{\"class\":\"Enquiry\",\"name\":\"a\",\"dataDefinitions\":[{\"class\":\"Integer\","
	"\"name\":\"w\"}],\"sources\":[{\"class\":\"Source\",\"type\":\"w\"}]},"
	"{\"class\":\"Enquiry\",\"name\":\"b\",\"dataDefinitions\":[{\"class\":\"Text\","
	"\"name\":\"w\"}],\"sources\":[{\"class\":\"Source\",\"type\":\"w\"}]}],"
	"\"dataDefinitions\":[{\"class\":\"Integer\",\"name\":\"x\"},{\"class\":\"Integer\","
	"\"name\":\"y\"},{\"class\":\"Boolean\",\"name\":\"big\","
	"\"valueCondition\":\"is_known('x') && x > 5\"}]}";

static void data_is(struct kn_enact *e, const char *data, const char *versions)
{
	char want[512];
	snprintf(want, sizeof(want), "\"data\":%s,\"versions\":%s,", data, versions);
	snap_has(e, want);
}

static void test_proformajs_dupnames(void **state)
{
	(void)state;
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL;
	struct kn_enact *e = NULL, *c = NULL;
	assert_lb_ok(lb_kn_model_parse(pf_dup, strlen(pf_dup), "dup.json", LB_KN_FORM_AUTO, &m, &em));
	int s = kn_model_find_task(m, "s"), q = kn_model_find_task(m, "q");
	int a = kn_model_find_task(m, "a"), b = kn_model_find_task(m, "b");
	int rx = -1, sx = -1, aw = -1, bw = -1;
	for (size_t i = 0; i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		if (strcmp(d->name, "x") == 0)
			*(d->owner_idx == 0 ? &rx : &sx) = (int)i;
		if (strcmp(d->name, "w") == 0)
			*(d->owner_idx == a ? &aw : &bw) = (int)i;
	}
	assert_true(rx >= 0 && sx >= 0 && aw >= 0 && bw >= 0 && m->data[sx].owner_idx == s);
	/* the outermost definition the task sees; none from where no task defines it */
	assert_int_equal(kn_model_find_data_from(m, "x", q), rx);
	assert_int_equal(kn_model_find_data_from(m, "x", s), rx);
	assert_int_equal(kn_model_find_data_from(m, "x", 0), rx);
	assert_int_equal(kn_model_find_data_from(m, "w", a), aw);
	assert_int_equal(kn_model_find_data_from(m, "w", b), bw);
	assert_int_equal(kn_model_find_data_from(m, "w", 0), -1);
	assert_int_equal(kn_model_find_data_from(m, "nothing", q), -1);
	assert_int_equal(m->tasks[q]->sources[0].ref, rx);
	assert_int_equal(m->tasks[b]->sources[0].ref, bw);

	assert_lb_ok(kn_enact_new(m, &e, &em));
	assert_lb_ok(kn_enact_start(e, &em));
	data_is(e, "{\"x\":0,\"big\":false}", "{\"x\":1,\"big\":1}"); /* s's x under "p:s" */
	json_t *seven = json_integer(7), *one = json_integer(1), *three = json_integer(3);
	json_t *t = json_string("t"), *two = json_integer(2);
	assert_lb_ok(kn_enact_set(e, "p:s:q", "x", seven, &em)); /* the root's x, under "p" */
	data_is(e, "{\"x\":7,\"big\":true}", "{\"x\":2,\"big\":2}");
	assert_lb_ok(kn_enact_set(e, "p", "y", one, &em)); /* s's x: 10, but "p" came later */
	data_is(e, "{\"x\":7,\"y\":1,\"big\":true}", "{\"x\":3,\"y\":1,\"big\":2}");
	assert_lb_ok(kn_enact_unset(e, "p:s", "x", &em)); /* the root's x; x reads s's 10 */
	data_is(e, "{\"x\":null,\"y\":1,\"big\":true}", "{\"x\":4,\"y\":1,\"big\":2}");
	assert_lb_ok(kn_enact_set(e, "p:a", "w", three, &em));
	assert_lb_ok(kn_enact_set(e, "p:b", "w", t, &em));
	assert_int_equal(kn_enact_set(e, "p:b", "w", three, &em), LB_EINVALID); /* b's w: a text */
	assert_int_equal(kn_enact_set(e, "p", "w", one, &em), LB_EINVALID); /* the root sees none */
	data_is(e, "{\"x\":null,\"y\":1,\"big\":true,\"w\":\"t\"}",
		"{\"x\":4,\"y\":1,\"big\":2,\"w\":2}");
	/* a copy of the data is the same data, the paths in the same order */
	assert_lb_ok(kn_enact_new(m, &c, &em));
	assert_lb_ok(kn_enact_copy_data(c, e));
	data_is(c, "{\"x\":null,\"y\":1,\"big\":true,\"w\":\"t\"}",
		"{\"x\":4,\"y\":1,\"big\":2,\"w\":2}");
	assert_lb_ok(kn_enact_set(e, "p:s", "x", two, &em)); /* the root's x again: "p" is last */
	data_is(e, "{\"x\":2,\"y\":1,\"big\":false,\"w\":\"t\"}",
		"{\"x\":5,\"y\":1,\"big\":3,\"w\":2}");
	json_decref(seven);
	json_decref(one);
	json_decref(three);
	json_decref(t);
	json_decref(two);
	kn_enact_free(c);
	kn_enact_free(e);
	lb_kn_model_free(m);
}

/* Where PROformajs's evaluation throws in JavaScript, its operation fails (known answers from
 * PROformajs 0.11): sum/min/max of an unset item, of a value that is not a list or of an empty
 * list, nth of an unset item; a data item named by its path in is_known & co.; a whole
 * expression that is a bare name but no data item (`now`, `constructor`, `undefined`). The
 * near misses evaluate without throwing: a list written out, a data item, a non-text
 * expression (undefined without a throw). Here the expression is an action's waitCondition,
 * evaluated at the start. */
static void pf_throw_protocol(const char *js, const char *why)
{
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL;
	struct kn_enact *e = NULL;
	if (lb_kn_model_parse(js, strlen(js), "throw.json", LB_KN_FORM_AUTO, &m, &em) != LB_OK)
		fail_msg("%s: %s", js, em.text);
	assert_lb_ok(kn_enact_new(m, &e, &em));
	int rc = kn_enact_start(e, &em);
	if (why == NULL && rc != LB_OK)
		fail_msg("%s threw: %s", js, em.text);
	if (why != NULL && (rc == LB_OK || strstr(em.text, why) == NULL))
		fail_msg("%s: rc %d, '%s', expected a throw '%s'", js, rc, em.text, why);
	kn_enact_free(e);
	lb_kn_model_free(m);
}

static void pf_throw_case(const char *cond, const char *why)
{
	char js[1024];
	snprintf(js, sizeof(js),
		 "{\"class\":\"Plan\",\"name\":\"p\",\"dataDefinitions\":["
		 "{\"class\":\"Integer\",\"name\":\"x\"},{\"class\":\"Integer\",\"name\":\"n\","
		 "\"valueCondition\":\"2\"},{\"class\":\"Text\",\"name\":\"t\","
		 "\"range\":[\"ab\",\"b\"],\"valueCondition\":\"'ab'\"},{\"class\":\"Integer\",\"name\":\"m\","
		 "\"multiValued\":true}],\"tasks\":[{\"class\":\"Action\",\"name\":\"a\","
		 "\"waitCondition\":%s}]}",
		 cond);
	pf_throw_protocol(js, why);
}

static void test_proformajs_throws(void **state)
{
	(void)state;
	const char *reduce = "arr.reduce is not a function", *empty = "Reduce of empty array";
	pf_throw_case("\"sum(x) > 1\"", "reading 'reduce'"); /* unset */
	pf_throw_case("\"min(n) > 1\"", reduce);      /* a number */
	pf_throw_case("\"max(t) > 1\"", reduce);      /* a text */
	pf_throw_case("\"sum(m) > 1\"", "reading 'reduce'"); /* an unset list item */
	pf_throw_case("\"sum([]) > 1\"", empty);
	pf_throw_case("\"nth(x, 0) > 1\"", "Cannot read properties of undefined");
	pf_throw_case("\"is_known('p:x')\"", "unknown data definition");
	pf_throw_case("\"caption('p:x')\"", "unknown data definition");
	pf_throw_case("\"now\"", "illegal Identifier");
	pf_throw_case("\"constructor\"", "illegal Identifier");
	pf_throw_case("\"undefined\"", "illegal Identifier");
	/* near misses */
	pf_throw_case("\"sum([1, 2]) > 1\"", NULL);
	pf_throw_case("\"sum([x, 2]) > 1\"", NULL);    /* NaN in JavaScript */
	pf_throw_case("\"max([n]) > 1\"", NULL);
	pf_throw_case("\"nth([x, 1], 1) > 1\"", NULL);
	pf_throw_case("\"nth(n, 0) > 1\"", NULL);      /* (2)[0]: undefined */
	pf_throw_case("\"nth(t, 1) == 'b' ? undefined : sum(x)\"", NULL); /* 'ab'[1] */
	pf_throw_case("\"nth(t, 0) == 'b' ? undefined : sum(x)\"", "reading 'reduce'");
	pf_throw_case("\"is_known('x')\"", NULL);
	pf_throw_case("\"x\"", NULL);
	pf_throw_case("\"!undefined\"", NULL);
	pf_throw_case("5", NULL);                      /* a non-text expression: undefined */
	pf_throw_case("\"x && sum(x) > 1\"", NULL);    /* not evaluated */
	/* num_finished / num_completed look each task up from the evaluating component (as
	 * is_finished): an argument finds no task by its name, a candidate its siblings and
	 * children only; a design path from the root is found anywhere */
	const char *pre = "{\"class\":\"Plan\",\"name\":\"p\",\"tasks\":[{\"class\":\"Action\","
			  "\"name\":\"a\"},{\"class\":\"Decision\",\"name\":\"d\",";
	char js[1024];
#define PF_THROW_ARG                                                                       \
	"%s\"candidates\":[{\"class\":\"Candidate\",\"name\":\"c\",\"arguments\":"                 \
	"[{\"class\":\"Argument\",\"caption\":\"x\",\"support\":\"+\","                           \
	"\"activeCondition\":\"num_finished(['%s']) > 0\"}]}]}]}"
	snprintf(js, sizeof(js), PF_THROW_ARG, pre, "a");
	pf_throw_protocol(js, "");
	snprintf(js, sizeof(js), PF_THROW_ARG, pre, "p:a");
	pf_throw_protocol(js, NULL);
	snprintf(js, sizeof(js), "%s\"candidates\":[{\"class\":\"Candidate\",\"name\":\"c\","
		 "\"recommendCondition\":\"num_completed(['a']) > 0\"}]}]}", pre);
	pf_throw_protocol(js, "");
	snprintf(js, sizeof(js), "%s\"waitCondition\":\"num_finished(['a']) > 0\",\"candidates\":"
		 "[{\"class\":\"Candidate\",\"name\":\"c\"}]}]}", pre);
	pf_throw_protocol(js, NULL);
	/* a task argument written as a bare name is its JavaScript value: the root's state
	 * object, undefined for another task (not for index() and path()) */
	static const struct { const char *pre, *why; } bare[] = {
		{ "is_finished(p)", "unknown task" },
		{ "is_dormant(a)", "unknown task" },
		{ "is_finished('a')", NULL },
		{ "path(a) == 'p:b'", NULL },
		/* index() reads a design path from the root */
		{ "index('a') > -5", "Unable to getComponent" },
		{ "index('p:a') > -5", NULL },
		{ "index() > -5", NULL },
	};
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		snprintf(js, sizeof(js),
			 "{\"class\":\"Plan\",\"name\":\"p\",\"tasks\":[{\"class\":\"Action\","
			 "\"name\":\"a\"},{\"class\":\"Action\",\"name\":\"b\",\"preCondition\":"
			 "\"%s\"}]}",
			 bare[i].pre);
		pf_throw_protocol(js, bare[i].why);
	}
	/* a derived item: Math functions give NaN or an infinity (Math.log(undefined) is NaN,
	 * which a Boolean item never settles on: NaN !== NaN); a list is a new array at each
	 * evaluation, which only a numeric item with a list that is not a number (isNaN) settles
	 * on; PROformajs's stack overflows, LEBEN's stackLimit stops it */
#define PF_THROW_DERIVED                                                                   \
	"{\"class\":\"Plan\",\"name\":\"p\",\"dataDefinitions\":[{\"class\":\"Integer\","            \
	"\"name\":\"x\"},{\"class\":\"%s\",\"name\":\"v\",\"valueCondition\":\"%s\"}],"            \
	"\"tasks\":[{\"class\":\"Action\",\"name\":\"a\"}]}"
	static const struct { const char *cls, *vc, *why; } der[] = {
		{ "Boolean", "log(x)", "stack size exception" },
		{ "Boolean", "[1, 2]", "stack size exception" },
		{ "Integer", "[2]", "stack size exception" },
		{ "Float", "log(x)", NULL },
		{ "Float", "abs(x)", NULL },
		{ "Float", "log(0)", NULL },
		{ "Integer", "[1, 2]", NULL },
		{ "Text", "round(2.5)", NULL },
	};
	for (size_t i = 0; i < sizeof(der) / sizeof(der[0]); i++) {
		snprintf(js, sizeof(js), PF_THROW_DERIVED, der[i].cls, der[i].vc);
		pf_throw_protocol(js, der[i].why);
	}
}

/* The public PROformajs-rules API (what `leben contract run`/`check` use on JSON): the rules
 * follow the form; malformed operations are refused with nothing changed; the saved
 * operations replay to the same state; check finds a deadlock whose operations lead there. */
/* JavaScript the .pf form lacks, in a JSON protocol: accepted, run as PROformajs runs it (the
 * answers are PROformajs's for the same protocol), printed back to JSON unchanged, refused by
 * name by the .pf form. */
static void test_proformajs_js_only_ops(void **state)
{
	(void)state;
	static const char js[] =
		"{\"class\": \"Plan\", \"name\": \"p\", \"autonomous\": true,"
		" \"dataDefinitions\": ["
		"  {\"class\": \"Integer\", \"name\": \"n\"},"
		"  {\"class\": \"Integer\", \"name\": \"bits\", \"valueCondition\": \"n & 6 | 1 << 4\"},"
		"  {\"class\": \"Integer\", \"name\": \"neg\", \"valueCondition\": \"~n >>> 28\"},"
		"  {\"class\": \"Boolean\", \"name\": \"chain\", \"valueCondition\": \"n > 5 > 0\"},"
		"  {\"class\": \"Integer\", \"name\": \"last\", \"valueCondition\": \"n, n ^ 3\"}],"
		" \"tasks\": ["
		"  {\"class\": \"Enquiry\", \"name\": \"ask\", \"sources\": [{\"class\": \"Source\", \"type\": \"n\"}]},"
		"  {\"class\": \"Action\", \"name\": \"act\", \"waitCondition\": \"is_finished('ask')\","
		"   \"preCondition\": \"(n & 1) == 1\"}]}";
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL, *m2 = NULL;
	assert_lb_ok(lb_kn_model_parse(js, strlen(js), "ops.json", LB_KN_FORM_AUTO, &m, &em));
	/* JSON -> LEBEN -> JSON: the same print again */
	char *t1, *t2, *pf;
	size_t n1, n2, npf;
	assert_lb_ok(lb_kn_model_print(m, LB_KN_FORM_JSON, &t1, &n1));
	assert_non_null(strstr(t1, "n & 6 | 1 << 4"));
	assert_non_null(strstr(t1, "n, n ^ 3"));
	assert_lb_ok(lb_kn_model_parse(t1, n1, "ops2.json", LB_KN_FORM_AUTO, &m2, &em));
	assert_lb_ok(lb_kn_model_print(m2, LB_KN_FORM_JSON, &t2, &n2));
	assert_string_equal(t1, t2);
	lb_free(t1);
	lb_free(t2);
	lb_kn_model_free(m2);
	/* the .pf form refuses it by name */
	assert_int_equal(lb_kn_model_printable(m, LB_KN_FORM_PF, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "data item 'bits' cannot be written in the .pf form"));
	assert_non_null(strstr(em.text, "JavaScript's '|'"));
	assert_int_not_equal(lb_kn_model_print(m, LB_KN_FORM_PF, &pf, &npf), LB_OK);
	/* run: PROformajs gives bits 22, neg 15, chain true, last 4 for n = 7 (checked with it) */
	struct lb_kn_enactment *e = NULL;
	char *st;
	assert_lb_ok(lb_kn_enactment_new(m, &e, &em));
	assert_lb_ok(lb_kn_enactment_apply(e, "{\"op\":\"set\",\"path\":\"p:ask\",\"data\":{\"n\":7}}", &em));
	assert_lb_ok(lb_kn_enactment_apply(e, "{\"op\":\"complete\",\"path\":\"p:ask\"}", &em));
	assert_lb_ok(lb_kn_enactment_state(e, &st, &em));
	assert_non_null(strstr(st, "\"bits\":22"));
	assert_non_null(strstr(st, "\"neg\":15"));
	assert_non_null(strstr(st, "\"chain\":true"));
	assert_non_null(strstr(st, "\"last\":4"));
	/* (with n unset: bits 16, neg 15 — ~undefined is -1 —, chain false, last 3: one more
	 * version each but neg, as PROformajs stores them) */
	assert_non_null(strstr(st, "\"versions\":{\"n\":1,\"bits\":2,\"neg\":1,\"chain\":2,\"last\":2}"));
	assert_non_null(strstr(st, "\"p:act\":\"in_progress\""));
	lb_free(st);
	lb_kn_enactment_free(e);
	lb_kn_model_free(m);
}

static void test_proformajs_public(void **state)
{
	(void)state;
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL, *pf = NULL;
	struct lb_kn_enactment *e = NULL, *r = NULL;
	enum lb_kn_rules rl;
	assert_lb_ok(lb_kn_model_parse(pf_js, strlen(pf_js), "pf.json", LB_KN_FORM_AUTO, &m, &em));
	assert_int_equal(lb_kn_model_rules(m), LB_KN_RULES_PROFORMAJS);
	char *text;
	size_t len;
	assert_lb_ok(lb_kn_model_print(m, LB_KN_FORM_PF, &text, &len));
	assert_lb_ok(lb_kn_model_parse(text, len, "pf.pf", LB_KN_FORM_AUTO, &pf, &em));
	lb_free(text);
	assert_int_equal(lb_kn_model_rules(pf), LB_KN_RULES_LEBEN);
	assert_lb_ok(lb_kn_rules_parse("leben", &rl));
	assert_int_equal(rl, LB_KN_RULES_LEBEN);
	assert_int_equal(lb_kn_rules_parse("PROformajs ", &rl), LB_EUSAGE);

	assert_lb_ok(lb_kn_enactment_new(m, &e, &em));
	char *before, *after, *ops;
	assert_lb_ok(lb_kn_enactment_state(e, &before, &em));
	assert_non_null(strstr(before, "\"p:ask\":\"in_progress\""));
	static const char *const bad[] = {
		"", "[]", "{\"op\":\"drop\",\"path\":\"p\"}", "{\"op\":\"set\",\"path\":\"p\"}",
		"{\"op\":\"complete\"}", "{\"op\":\"trigger\"}", "{\"op\":\"unset\",\"path\":\"p\"}",
		"{\"op\":7,\"path\":\"p\"}", "{\"op\":\"set\",\"path\":\"p\",\"data\":[1]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lb_kn_enactment_apply(e, bad[i], &em), LB_EMALFORMED);
	assert_lb_ok(lb_kn_enactment_state(e, &after, &em));
	assert_string_equal(before, after); /* nothing changed */
	lb_free(after);
	assert_lb_ok(lb_kn_enactment_ops(e, &ops, &em));
	assert_string_equal(ops, "[]");
	lb_free(ops);
	/* refused by the rules: kept in the operations, marked */
	assert_int_equal(lb_kn_enactment_apply(e, "{\"op\":\"set\",\"path\":\"p\",\"data\":{\"age\":\"old\"}}", &em),
			 LB_EINVALID);
	assert_lb_ok(lb_kn_enactment_apply(e, "{\"op\":\"set\",\"path\":\"p:ask\",\"data\":{\"age\":70}}", &em));
	char *pend;
	assert_lb_ok(lb_kn_enactment_pending(e, &pend, &em));
	assert_non_null(strstr(pend, "\"decisions\":[{\"path\":\"p:dec\""));
	lb_free(pend);
	assert_lb_ok(lb_kn_enactment_apply(e, "{\"op\":\"complete\",\"path\":\"p:dec\"}", &em));
	assert_false(lb_kn_enactment_finished(e));
	assert_lb_ok(lb_kn_enactment_ops(e, &ops, &em));
	assert_non_null(strstr(ops, "\"error\":true"));
	/* replaying the saved operations gives the same state */
	assert_lb_ok(lb_kn_enactment_new(m, &r, &em));
	json_t *list = json_loads(ops, 0, NULL), *op;
	size_t i;
	json_array_foreach(list, i, op) {
		char *t = json_dumps(op, JSON_COMPACT);
		(void)lb_kn_enactment_apply(r, t, &em);
		free(t);
	}
	json_decref(list);
	char *s1, *s2;
	assert_lb_ok(lb_kn_enactment_state(e, &s1, &em));
	assert_lb_ok(lb_kn_enactment_state(r, &s2, &em));
	assert_string_equal(s1, s2);
	lb_free(s1);
	lb_free(s2);
	lb_free(ops);
	lb_free(before);
	lb_kn_enactment_free(r);
	lb_kn_enactment_free(e);

	/* check: a wait condition no allowed answer meets */
	static const char dl[] =
		"{\"class\":\"Plan\",\"name\":\"stuck\",\"dataDefinitions\":[{\"class\":\"Integer\","
		"\"name\":\"score\",\"range\":[1,2,3]}],\"tasks\":[{\"class\":\"Enquiry\",\"name\":"
		"\"ask\",\"sources\":[{\"type\":\"score\"}]},{\"class\":\"Action\",\"name\":\"treat\","
		"\"waitCondition\":\"score > 5\"}]}";
	struct lb_kn_model *d = NULL;
	char *rep;
	size_t nf;
	assert_lb_ok(lb_kn_model_parse(dl, strlen(dl), "dl.json", LB_KN_FORM_AUTO, &d, &em));
	assert_lb_ok(lb_kn_check_proformajs(d, NULL, &rep, &nf, &em));
	assert_true(nf >= 2);
	assert_non_null(strstr(rep, "\"rules\":\"proformajs\""));
	assert_non_null(strstr(rep, "\"kind\":\"deadlock\",\"task\":null"));
	assert_non_null(strstr(rep, "\"trace\":[{\"op\":\"complete\",\"path\":\"stuck:ask\"}]"));
	assert_non_null(strstr(rep, "\"kind\":\"unreachable\",\"task\":\"treat\""));
	char *rep2;
	assert_lb_ok(lb_kn_check_proformajs(d, NULL, &rep2, &nf, &em));
	assert_string_equal(rep, rep2); /* deterministic */
	lb_free(rep2);
	/* the deadlock's operations, applied, leave it stuck */
	assert_lb_ok(lb_kn_enactment_new(d, &e, &em));
	assert_lb_ok(lb_kn_enactment_apply(e, "{\"op\":\"complete\",\"path\":\"stuck:ask\"}", &em));
	assert_lb_ok(lb_kn_enactment_pending(e, &pend, &em));
	assert_non_null(strstr(pend, "\"questions\":[],\"decisions\":[],\"tasks\":[],\"triggers\":[]"));
	lb_free(pend);
	lb_kn_enactment_free(e);
	lb_free(rep);
	lb_kn_model_free(d);
	lb_kn_model_free(pf);
	lb_kn_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_scenarios),
		cmocka_unit_test(test_value_checks),
		cmocka_unit_test(test_save_resume),
		cmocka_unit_test(test_verifier),
		cmocka_unit_test(test_chain_payloads),
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_proformajs_import),
		cmocka_unit_test(test_proformajs_enactment),
		cmocka_unit_test(test_proformajs_dupnames),
		cmocka_unit_test(test_proformajs_throws),
		cmocka_unit_test(test_proformajs_public),
		cmocka_unit_test(test_proformajs_js_only_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
