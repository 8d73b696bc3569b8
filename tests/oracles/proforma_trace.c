/*
 * LEBEN's side of the PROformajs differential test: reads cases, one JSON object per line
 * ({"protocol": PROformajs JSON, "ops": [...]}), runs each with LEBEN's PROformajs enactment
 * (src/knowledge/kn_enact.c) and prints, per case, one line {"trace": [...]} in the canonical
 * form of tests/oracles/proforma_lib.mjs, or {"load_error": "..."} when LEBEN refuses the
 * protocol. Operations: set, unset, complete, cancel, confirm, unconfirm, trigger.
 * Usage: proforma_trace < cases.jsonl > traces.jsonl
 *        proforma_trace --now MS < cases.jsonl    (now() and Date defaults read the
 *        fixed clock MS, milliseconds since 1970, as the oracle's stubbed Date.now)
 *        proforma_trace --explore-bench FILE...  (exploration speed, copying against
 *        replaying, and version 2: make bench-knowledge)
 *        proforma_trace --bench R < cases.jsonl   (each case enacted R times, no output
 *        but the speed: the LEBEN side of make bench-knowledge)
 *        proforma_trace --explore N < cases.jsonl (per case {"explore": {...}}: exploration
 *        under the PROformajs rules, at most N states, kn_enact_explore by value classes as
 *        exploration version 2 does, so PROformajs replays what the reduction finds)
 *        proforma_trace --accept < protocols.jsonl (one PROformajs JSON protocol per line,
 *        read as `contract` reads a file: per line {"ok":true,"json":PRINTED,"pf":R} with
 *        LEBEN's JSON print of it and R "same" when JSON -> .pf -> JSON gives the same print,
 *        "unprintable" when the .pf form cannot hold it, else what differs; or
 *        {"ok":false,"error":MESSAGE}; tests/oracles/pf_accept.mjs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

static int do_op(struct kn_enact *e, json_t *op, struct lb_errmsg *em)
{
	const char *k = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	/* the clock of the operation (the harness moves it on for protocols reading times) */
	if (json_is_integer(json_object_get(op, "at")))
		kn_enact_set_clock(e, json_integer_value(json_object_get(op, "at")));
	if (k == NULL)
		return lb_errf(em, LB_EINVALID, "op without a name");
	if (strcmp(k, "trigger") == 0) {
		const char *n = json_string_value(json_object_get(op, "name"));
		return n ? kn_enact_trigger(e, n, em) : LB_EINVALID;
	}
	if (path == NULL)
		return lb_errf(em, LB_EINVALID, "op without a path");
	if (strcmp(k, "set") == 0)
		return kn_enact_set_all(e, path, json_object_get(op, "data"), em);
	if (strcmp(k, "unset") == 0) {
		const char *n = json_string_value(json_object_get(op, "name"));
		return n ? kn_enact_unset(e, path, n, em) : LB_EINVALID;
	}
	if (strcmp(k, "complete") == 0)
		return kn_enact_complete(e, path, em);
	if (strcmp(k, "cancel") == 0)
		return kn_enact_cancel(e, path, em);
	if (strcmp(k, "confirm") == 0)
		return kn_enact_confirm(e, path, true, em);
	if (strcmp(k, "unconfirm") == 0)
		return kn_enact_confirm(e, path, false, em);
	return lb_errf(em, LB_EINVALID, "unknown op '%s'", k);
}

static int step_line(struct lb_buf *out, struct kn_enact *e, size_t i, json_t *op, bool err)
{
	char *ops = json_dumps(op, JSON_COMPACT);
	int rc = lb_buf_addf(out, "%s{\"step\":%zu,\"op\":%s,\"error\":%s,", i ? "," : "", i,
			     ops ? ops : "null", err ? "true" : "false");
	free(ops);
	rc = rc ? rc : kn_enact_snapshot(e, out);
	return rc ? rc : lb_buf_addc(out, '}');
}

static int64_t fixed_now_ms; /* --now */

static void run_case(json_t *c, struct lb_buf *out)
{
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL;
	struct kn_enact *e = NULL;
	json_t *proto = json_object_get(c, "protocol");
	json_t *ops = json_object_get(c, "ops");
	char *text = json_dumps(proto, JSON_COMPACT);
	int rc = text ? kn_js_parse(text, strlen(text), "protocol.json", &m, &em) : LB_ENOMEM;
	free(text);
	if (rc == LB_OK && m->nproblems > 0)
		rc = lb_errf(&em, LB_EINVALID, "%s", m->problems[0].text);
	rc = rc ? rc : kn_enact_new(m, &e, &em);
	if (rc != LB_OK) {
		json_t *j = json_pack("{s:s}", "load_error", em.text);
		char *s = json_dumps(j, JSON_COMPACT);
		lb_buf_adds(out, s ? s : "{\"load_error\":\"?\"}");
		free(s);
		json_decref(j);
		goto out;
	}
	kn_enact_set_clock(e, fixed_now_ms);
	json_t *start = json_pack("{s:s}", "op", "start");
	lb_buf_adds(out, "{\"trace\":[");
	rc = kn_enact_start(e, &em);
	if (rc != LB_OK) {
		json_t *j = json_pack("{s:i,s:{s:s},s:b,s:s}", "step", 0, "op", "op", "start", "error",
				      1, "message", em.text);
		char *js = json_dumps(j, JSON_COMPACT);
		lb_buf_adds(out, js ? js : "{\"step\":0,\"error\":true}");
		free(js);
		json_decref(j);
	} else {
		step_line(out, e, 0, start, false);
		size_t i;
		json_t *op;
		json_array_foreach(ops, i, op) {
			em.text[0] = 0;
			bool err = do_op(e, op, &em) != LB_OK;
			step_line(out, e, i + 1, op, err);
		}
	}
	json_decref(start);
	lb_buf_adds(out, "]}");
out:
	kn_enact_free(e);
	lb_kn_model_free(m);
}

/* Enact every case reps times (model parsed once per case); print the speed. */
static int bench(long reps)
{
	char *line = NULL;
	size_t cap = 0, cases = 0, steps = 0;
	ssize_t n;
	double cpu = 0;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct lb_errmsg em = { 0 };
		struct lb_kn_model *m = NULL;
		json_error_t jerr;
		json_t *c = kn_json_loadb_js(line, (size_t)n, 0, &jerr);
		json_t *ops = json_object_get(c, "ops");
		char *text = json_dumps(json_object_get(c, "protocol"), JSON_COMPACT);
		if (text == NULL || kn_js_parse(text, strlen(text), "protocol.json", &m, &em) != LB_OK) {
			free(text);
			json_decref(c);
			continue;
		}
		free(text);
		clock_t t0 = clock();
		for (long r = 0; r < reps; r++) {
			struct kn_enact *e = NULL;
			if (kn_enact_new(m, &e, &em) == LB_OK && kn_enact_start(e, &em) == LB_OK) {
				size_t i;
				json_t *op;
				json_array_foreach(ops, i, op)
					(void)do_op(e, op, &em);
				steps += json_array_size(ops) + 1;
			}
			kn_enact_free(e);
		}
		cpu += (double)(clock() - t0) / CLOCKS_PER_SEC;
		cases++;
		lb_kn_model_free(m);
		json_decref(c);
	}
	free(line);
	printf("LEBEN PROformajs enactment: %zu enactments (%zu steps) in %.3f s of CPU = %.0f "
	       "enactments/s\n", cases * (size_t)reps, steps, cpu,
	       cpu > 0 ? (double)(cases * (size_t)reps) / cpu : 0.0);
	return 0;
}

/* Each line of stdin through fn, which writes that line's answer to out; one line out each. */
static int each_line(void (*fn)(const char *line, size_t n, struct lb_buf *out))
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct lb_buf out;
	lb_buf_init(&out, 1u << 30);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		lb_buf_reset(&out);
		fn(line, (size_t)n, &out);
		fwrite(out.data, 1, out.len, stdout);
		fputc('\n', stdout);
	}
	free(line);
	lb_buf_release(&out);
	return 0;
}

static size_t explore_states; /* --explore N */

static void explore_line(const char *line, size_t n, struct lb_buf *out)
{
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL;
	json_error_t jerr;
	json_t *c = kn_json_loadb_js(line, n, 0, &jerr);
	char *text = c ? json_dumps(json_object_get(c, "protocol"), JSON_COMPACT) : NULL;
	lb_buf_adds(out, "{\"explore\":");
	if (text == NULL || kn_js_parse(text, strlen(text), "protocol.json", &m, &em) != LB_OK ||
	    kn_enact_explore(m, explore_states, 12, true, out, &em) != LB_OK) {
		json_t *j = json_string(em.text);
		char *js = json_dumps(j, JSON_ENCODE_ANY);
		lb_buf_addf(out, "{\"error\":%s}", js ? js : "\"?\"");
		free(js);
		json_decref(j);
	}
	lb_buf_addc(out, '}');
	free(text);
	lb_kn_model_free(m);
	json_decref(c);
}

/* --explore-bench FILE...: the exploration's speed on each contract file (CPU time): copying
 * states against replaying each from the start (the former way) within 2000 states, whose
 * reports must be equal, then version 2 (by value classes, up to the chain's bound). */
static double explore_cpu(const struct lb_kn_model *m, size_t max, bool reduce, unsigned depth,
			  struct lb_buf *out, size_t *states)
{
	struct lb_errmsg em = { 0 };
	lb_buf_reset(out);
	clock_t t0 = clock();
	if (kn_enact_explore(m, max, depth, reduce, out, &em) != LB_OK)
		return -1;
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	const char *p = strstr((const char *)out->data, "\"states\":");
	*states = p ? (size_t)atol(p + 9) : 0;
	return cpu;
}

static int explore_bench(int argc, char **argv)
{
	struct lb_buf a, b;
	lb_buf_init(&a, 1u << 30);
	lb_buf_init(&b, 1u << 30);
	int rc = 0;
	for (int i = 2; i < argc; i++) {
		struct lb_kn_model *m = NULL;
		struct lb_errmsg em = { 0 };
		if (lb_kn_model_load(argv[i], &m, &em) != LB_OK) {
			fprintf(stderr, "%s: %s\n", argv[i], em.text);
			return 1;
		}
		const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		size_t sc = 0, sr = 0, s2 = 0;
		kn_explore_replay = true;
		double tr = explore_cpu(m, 2000, false, 12, &a, &sr);
		kn_explore_replay = false;
		double tc = explore_cpu(m, 2000, false, 12, &b, &sc);
		if (tr < 0 || tc < 0 || a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
			fprintf(stderr, "%s: the copying and the replaying exploration differ\n", name);
			rc = 1;
		}
		double t2 = explore_cpu(m, LB_KN_PJS_MAX_STATES, true, 200, &a, &s2);
		printf("exploration %-22s within 2000 states: replaying %6.0f states/s, copying %7.0f "
		       "states/s (%.1fx); version 2: %6zu states in %6.2f s = %7.0f states/s%s\n",
		       name, tr > 0 ? (double)sr / tr : 0.0, tc > 0 ? (double)sc / tc : 0.0,
		       tc > 0 && tr > 0 ? (tr / (double)sr) / (tc / (double)sc) : 0.0, s2, t2,
		       t2 > 0 ? (double)s2 / t2 : 0.0,
		       strstr((const char *)a.data, "\"complete\":true") ? "" : " (incomplete)");
		lb_kn_model_free(m);
	}
	lb_buf_release(&a);
	lb_buf_release(&b);
	return rc;
}

/* --dates: one text per line (a Date default's String()), "1 DAY MS" when PROformajs reads it
 * as a date (kn_date_parse_moment; MS: kn_date_parse_moment_ms, the JavaScript time), "0 0 0"
 * otherwise. */
static int dates(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		line[strcspn(line, "\n")] = 0;
		int64_t d = 0, ms = 0;
		bool ok = kn_date_parse_moment(line, &d) &&
			  kn_date_parse_moment_ms(line, kn_clock_ms(0), &ms);
		printf("%d %lld %lld\n", ok, ok ? (long long)d : 0LL, ok ? (long long)ms : 0LL);
	}
	free(line);
	return 0;
}

/* --accept: LEBEN's acceptance and print of each protocol line (see the top) */
static void accept_line(const char *line, size_t n, struct lb_buf *out)
{
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL, *m2 = NULL;
	char *js = NULL, *pf = NULL, *js2 = NULL;
	size_t jn = 0, pn = 0, jn2 = 0;
	const char *pfres = "same";
	json_t *j;
	if (lb_kn_model_parse(line, n, "protocol.json", LB_KN_FORM_JSON, &m, &em) != LB_OK) {
		j = json_pack("{s:b,s:s}", "ok", 0, "error", em.text);
		goto out;
	}
	if (lb_kn_model_print(m, LB_KN_FORM_JSON, &js, &jn) != LB_OK) {
		j = json_pack("{s:b,s:s}", "ok", 0, "error", "accepted but not printed as JSON");
		goto out;
	}
	if (lb_kn_model_printable(m, LB_KN_FORM_PF, &em) != LB_OK)
		pfres = "unprintable";
	else if (lb_kn_model_print(m, LB_KN_FORM_PF, &pf, &pn) != LB_OK)
		pfres = "the .pf print failed";
	else if (lb_kn_model_parse(pf, pn, "protocol.pf", LB_KN_FORM_PF, &m2, &em) != LB_OK)
		pfres = em.text;
	else if (lb_kn_model_print(m2, LB_KN_FORM_JSON, &js2, &jn2) != LB_OK)
		pfres = "the .pf form's JSON print failed";
	else if (jn2 != jn || memcmp(js, js2, jn) != 0)
		pfres = "JSON -> .pf -> JSON gives another JSON";
	j = json_pack("{s:b,s:s%,s:s}", "ok", 1, "json", js, jn, "pf", pfres);
out:;
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	lb_buf_adds(out, s ? s : "{\"ok\":false,\"error\":\"?\"}");
	free(s);
	json_decref(j);
	lb_free(js);
	lb_free(pf);
	lb_free(js2);
	lb_kn_model_free(m);
	lb_kn_model_free(m2);
}

/* a case line of the differential test: {"protocol", "ops"} */
static void run_line(const char *line, size_t n, struct lb_buf *out)
{
	json_error_t jerr;
	json_t *c = kn_json_loadb_js(line, n, 0, &jerr);
	if (c == NULL)
		lb_buf_addf(out, "{\"load_error\":\"bad case line: %s\"}", jerr.text);
	else
		run_case(c, out);
	json_decref(c);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--accept") == 0)
		return each_line(accept_line);
	if (argc == 2 && strcmp(argv[1], "--dates") == 0)
		return dates();
	if (argc == 3 && strcmp(argv[1], "--explore") == 0) {
		explore_states = (size_t)atol(argv[2]);
		return each_line(explore_line);
	}
	if (argc >= 3 && strcmp(argv[1], "--explore-bench") == 0)
		return explore_bench(argc, argv);
	if (argc == 3 && strcmp(argv[1], "--bench") == 0)
		return bench(atol(argv[2]));
	if (argc == 3 && strcmp(argv[1], "--now") == 0)
		fixed_now_ms = strtoll(argv[2], NULL, 10);
	return each_line(run_line);
}
