/*
 * `leben contract`: clinical contracts (PROforma) offline — run one interactively or from an
 * answers file, verify it before publication, convert between the .pf text form and the
 * PROformajs JSON form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "leben/base.h"
#include "leben/knowledge.h"

static const char usage[] =
	"usage: leben contract run FILE [--answers FILE.json] [--json] [--today YYYY-MM-DD]\n"
	"                      [--save SESSION.json] [--resume SESSION.json]\n"
	"       leben contract check FILE [--max-states N] [--max-memory MB] [--cycles N] [--json]\n"
	"       leben contract convert FILE --to pf|json [-o OUT]\n"
	"       leben contract print FILE\n"
	"\n"
	"Clinical contracts are care pathways written in PROforma: plans, enquiries (questions),\n"
	"decisions (candidates with arguments) and actions. FILE is either the .pf text form or\n"
	"the PROformajs JSON form; both are described in docs/knowledge-language.md.\n"
	"\n"
	"  run      asks the contract's questions in the terminal (showing allowed values, units\n"
	"           and warnings), shows recommended candidates with their arguments and lets\n"
	"           you commit one or override it, and prints actions as they fire.\n"
	"           --answers FILE.json  answer from a file instead: {\"data item\": value, ...,\n"
	"                                \"decision name\": \"candidate\" or [\"c1\",\"c2\"]};\n"
	"                                actions are confirmed automatically. Decisions not in\n"
	"                                the file take the recommended candidate.\n"
	"           --json               print one JSON event per line (for scripts)\n"
	"           --today DATE         engine date (default: today)\n"
	"           --save FILE          write the session state when the run stops\n"
	"           --resume FILE        continue a saved session\n"
	"  check    verifies the contract before publication: static checks (undefined names,\n"
	"           type errors, conditions that can never hold) and an exploration of every\n"
	"           run over abstract inputs, reporting deadlocks, unreachable tasks, endless\n"
	"           cycles, ambiguous decisions and order-dependent outcomes, each with the steps\n"
	"           that lead to it. Exit status 1 if anything is found or a limit was hit.\n"
	"  convert  prints the contract in the other form (lossless).\n"
	"  print    prints the contract in its own form, normalised.\n"
	"\n"
	"Exit status: 0 ok, 1 failure (refused contract, problem found), 2 usage error.\n";

static int load(const char *path, struct lb_kn_model **m)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_kn_model_load(path, m, &em);
	if (rc != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		return 1;
	}
	return 0;
}

static int cmd_print(int argc, char **argv, bool convert)
{
	const char *file = NULL, *to = NULL, *outp = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			outp = argv[++i];
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (file == NULL || (convert && to == NULL)) {
		fputs(usage, stderr);
		return 2;
	}
	enum lb_kn_form form;
	if (to != NULL) {
		if (strcmp(to, "pf") == 0)
			form = LB_KN_FORM_PF;
		else if (strcmp(to, "json") == 0)
			form = LB_KN_FORM_JSON;
		else {
			fprintf(stderr, "leben contract: --to takes pf or json, not '%s'\n", to);
			return 2;
		}
	} else {
		uint8_t *data;
		size_t len;
		struct lb_errmsg em;
		if (lb_file_read(file, LB_KN_MAX_SOURCE, &data, &len, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			return 1;
		}
		size_t i = 0;
		while (i < len && strchr(" \t\r\n", data[i]) != NULL)
			i++;
		form = i < len && data[i] == '{' ? LB_KN_FORM_JSON : LB_KN_FORM_PF;
		lb_free(data);
	}
	struct lb_kn_model *m;
	if (load(file, &m) != 0)
		return 1;
	char *text;
	size_t len;
	int rc = lb_kn_model_print(m, form, &text, &len);
	lb_kn_model_free(m);
	if (rc != LB_OK) {
		fprintf(stderr, "leben contract: printing failed: %s\n", lb_strerror(rc));
		return 1;
	}
	if (outp != NULL) {
		struct lb_errmsg em;
		rc = lb_file_write(outp, text, len, 0644, &em);
		if (rc != LB_OK)
			fprintf(stderr, "leben contract: %s\n", em.text);
	} else {
		fwrite(text, 1, len, stdout);
	}
	lb_free(text);
	return rc == LB_OK ? 0 : 1;
}

/* ---- run ----------------------------------------------------------------------------------- */

struct runner {
	bool json;         /* one JSON event per line */
	json_t *answers;   /* --answers object, or NULL for the terminal */
	FILE *in;          /* terminal input */
};

static void on_event(void *ctx, const char *ev)
{
	struct runner *r = ctx;
	if (r->json) {
		printf("%s\n", ev);
		fflush(stdout);
		return;
	}
	json_t *j = json_loads(ev, 0, NULL);
	const char *kind = json_string_value(json_object_get(j, "event"));
	if (kind != NULL && strcmp(kind, "action") == 0) {
		const char *cap = json_string_value(json_object_get(j, "caption"));
		const char *proc = json_string_value(json_object_get(j, "procedure"));
		printf("\n>>> ACTION %s: %s\n", cap ? cap : json_string_value(json_object_get(j, "task")),
		       proc ? proc : "");
	} else if (kind != NULL && strcmp(kind, "data") == 0 && json_object_get(j, "warning")) {
		printf("    warning: %s\n", json_string_value(json_object_get(j, "warning")));
	} else if (kind != NULL && strcmp(kind, "commit") == 0 &&
		   json_is_true(json_object_get(j, "override"))) {
		printf("    (recommendation overridden; recorded in the trace)\n");
	} else if (kind != NULL && strcmp(kind, "finished") == 0) {
		printf("\nThe care pathway is finished.\n");
	}
	fflush(stdout);
	json_decref(j);
}

static char *read_line(struct runner *r, const char *prompt)
{
	static char line[4096];
	printf("%s", prompt);
	fflush(stdout);
	if (fgets(line, sizeof(line), r->in) == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = 0;
	return line;
}

static void json_event(const char *kind, const char *k1, const char *v1, const char *k2,
		       const char *v2)
{
	json_t *o = json_pack("{ss}", "event", kind);
	if (k1 != NULL)
		json_object_set_new(o, k1, json_string(v1));
	if (k2 != NULL)
		json_object_set_new(o, k2, json_string(v2));
	char *s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(o);
	fflush(stdout);
}

static int ask(struct runner *r, struct lb_kn_session *s, json_t *q)
{
	const char *data = json_string_value(json_object_get(q, "data"));
	char warn[256];
	struct lb_errmsg em;
	if (r->answers != NULL) {
		json_t *a = json_object_get(r->answers, data);
		if (a == NULL) {
			if (!json_is_true(json_object_get(q, "mandatory")))
				return 1; /* optional: skip */
			fprintf(stderr, "leben contract: the answers file has no value for '%s' (%s)\n",
				data, json_string_value(json_object_get(q, "caption")));
			return -1;
		}
		char *txt = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
		int rc = lb_kn_session_add_value(s, data, txt, warn, sizeof(warn), &em);
		free(txt);
		if (rc != LB_OK) {
			fprintf(stderr, "leben contract: answer for '%s' refused: %s\n", data, em.text);
			return -1;
		}
		return 0;
	}
	for (;;) {
		if (!r->json) {
			printf("\n? %s", json_string_value(json_object_get(q, "caption")));
			json_t *rg = json_object_get(q, "range"), *al = json_object_get(q, "allowed");
			const char *unit = json_string_value(json_object_get(q, "unit"));
			const char *type = json_string_value(json_object_get(q, "type"));
			if (al != NULL) {
				printf(" [");
				for (size_t i = 0; i < json_array_size(al); i++) {
					char *t = json_dumps(json_array_get(al, i), JSON_ENCODE_ANY);
					/* show text without quotes */
					const char *sv = json_string_value(json_array_get(al, i));
					printf("%s%s", i ? " | " : "", sv ? sv : t);
					free(t);
				}
				printf("]");
			} else if (rg != NULL) {
				printf(" [%g..%g]", json_number_value(json_array_get(rg, 0)),
				       json_number_value(json_array_get(rg, 1)));
			} else if (type != NULL) {
				printf(" (%s)", type);
			}
			if (json_is_true(json_object_get(q, "multiple")))
				printf(" (several, comma separated)");
			if (unit != NULL)
				printf(" %s", unit);
			if (!json_is_true(json_object_get(q, "mandatory")))
				printf(" (optional, empty to skip)");
		} else {
			char *qs = json_dumps(q, JSON_COMPACT);
			printf("{\"event\":\"question\",\"question\":%s}\n", qs);
			free(qs);
		}
		char *line = read_line(r, r->json ? "" : "\n  > ");
		if (line == NULL)
			return -2;
		if (line[0] == 0 && !json_is_true(json_object_get(q, "mandatory")))
			return 1;
		int rc = lb_kn_session_add_text(s, data, line, warn, sizeof(warn), &em);
		if (rc == LB_OK)
			return 0;
		if (r->json)
			json_event("refused", "data", data, "message", em.text);
		else
			printf("  not accepted: %s\n", em.text);
	}
}

static void show_decision(json_t *d)
{
	printf("\n== Decision: %s\n", json_string_value(json_object_get(d, "caption"))
					    ? json_string_value(json_object_get(d, "caption"))
					    : json_string_value(json_object_get(d, "name")));
	json_t *cs = json_object_get(d, "candidates");
	for (size_t i = 0; i < json_array_size(cs); i++) {
		json_t *c = json_array_get(cs, i);
		const char *cap = json_string_value(json_object_get(c, "caption"));
		printf("  %s %-20s support %+g  %s\n",
		       json_is_true(json_object_get(c, "recommended")) ? "*" : " ",
		       json_string_value(json_object_get(c, "name")),
		       json_number_value(json_object_get(c, "support")), cap ? cap : "");
		json_t *as = json_object_get(c, "arguments");
		for (size_t k = 0; k < json_array_size(as); k++) {
			json_t *a = json_array_get(as, k);
			if (!json_is_true(json_object_get(a, "active")))
				continue;
			const char *ac = json_string_value(json_object_get(a, "caption"));
			printf("        %-10s %s\n", json_string_value(json_object_get(a, "kind")),
			       ac ? ac : "");
		}
	}
	printf("  (* = recommended)\n");
}

static int decide(struct runner *r, struct lb_kn_session *s, json_t *d)
{
	const char *name = json_string_value(json_object_get(d, "name"));
	json_t *cs = json_object_get(d, "candidates");
	const char *pick[64];
	size_t n = 0;
	struct lb_errmsg em;
	for (size_t i = 0; i < json_array_size(cs) && n < 64; i++)
		if (json_is_true(json_object_get(json_array_get(cs, i), "recommended")))
			pick[n++] = json_string_value(json_object_get(json_array_get(cs, i), "name"));
	bool multiple = json_is_true(json_object_get(d, "multiple"));
	if (r->answers != NULL) {
		json_t *a = json_object_get(r->answers, name);
		if (json_is_string(a)) {
			pick[0] = json_string_value(a);
			n = 1;
		} else if (json_is_array(a)) {
			n = 0;
			for (size_t i = 0; i < json_array_size(a) && n < 64; i++)
				pick[n++] = json_string_value(json_array_get(a, i));
		} else if (!multiple && n != 1) {
			fprintf(stderr,
				"leben contract: decision '%s' has %zu recommended candidates; the "
				"answers file must choose one\n",
				name, n);
			return -1;
		}
		if (lb_kn_session_commit(s, name, pick, n, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			return -1;
		}
		return 0;
	}
	for (;;) {
		char prompt[256];
		if (r->json) {
			char *ds = json_dumps(d, JSON_COMPACT);
			printf("{\"event\":\"decision\",\"decision\":%s}\n", ds);
			free(ds);
			prompt[0] = 0;
		} else {
			show_decision(d);
			snprintf(prompt, sizeof(prompt), "  commit which%s? [Enter = %s] > ",
				 multiple ? " (comma separated)" : "",
				 n > 0 ? "the recommended" : "none recommended: type a name");
		}
		char *line = read_line(r, prompt);
		if (line == NULL)
			return -2;
		size_t k = n;
		const char *chosen[64];
		memcpy(chosen, pick, n * sizeof(*pick));
		if (line[0] != 0) {
			k = 0;
			char *save = NULL;
			for (char *t = strtok_r(line, ", ", &save); t && k < 64; t = strtok_r(NULL, ", ", &save))
				chosen[k++] = t;
		}
		if (lb_kn_session_commit(s, name, chosen, k, &em) == LB_OK)
			return 0;
		if (r->json)
			json_event("refused", "decision", name, "message", em.text);
		else
			printf("  not accepted: %s\n", em.text);
	}
}

static int confirm(struct runner *r, struct lb_kn_session *s, json_t *a)
{
	const char *name = json_string_value(json_object_get(a, "name"));
	struct lb_errmsg em;
	if (r->answers == NULL) {
		const char *cap = json_string_value(json_object_get(a, "caption"));
		char prompt[512];
		snprintf(prompt, sizeof(prompt), "\n  Confirm when done: %s [Enter] > ",
			 cap ? cap : name);
		if (r->json)
			json_event("confirm", "task", name, NULL, NULL);
		if (read_line(r, r->json ? "" : prompt) == NULL)
			return -2;
	}
	if (lb_kn_session_confirm(s, name, &em) != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		return -1;
	}
	return 0;
}

static int64_t today_days(void)
{
	return (int64_t)(time(NULL) / 86400);
}

static int parse_date(const char *s, int64_t *day)
{
	int y, m, d;
	char c;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &c) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12 };
	time_t t = timegm(&tm);
	*day = (int64_t)(t / 86400);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	const char *file = NULL, *answers = NULL, *save = NULL, *resume = NULL;
	struct runner r = { .in = stdin };
	int64_t today = today_days();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--answers") == 0 && i + 1 < argc)
			answers = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			r.json = true;
		else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
			save = argv[++i];
		else if (strcmp(argv[i], "--resume") == 0 && i + 1 < argc)
			resume = argv[++i];
		else if (strcmp(argv[i], "--today") == 0 && i + 1 < argc) {
			if (parse_date(argv[++i], &today) != 0) {
				fprintf(stderr, "leben contract: --today takes YYYY-MM-DD\n");
				return 2;
			}
		} else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (file == NULL) {
		fputs(usage, stderr);
		return 2;
	}
	struct lb_kn_model *m;
	if (load(file, &m) != 0)
		return 1;
	int status = 1;
	struct lb_errmsg em;
	struct lb_kn_session *s = NULL;
	if (answers != NULL) {
		json_error_t je;
		r.answers = json_load_file(answers, 0, &je);
		if (!json_is_object(r.answers)) {
			fprintf(stderr, "leben contract: %s:%d:%d: %s\n", answers, je.line, je.column,
				r.answers ? "expected a JSON object" : je.text);
			goto out;
		}
	}
	int rc;
	if (resume != NULL) {
		uint8_t *data;
		size_t len;
		rc = lb_file_read(resume, (256u << 20), &data, &len, &em);
		if (rc == LB_OK) {
			rc = lb_kn_session_resume(m, (const char *)data, len, &s, &em);
			lb_free(data);
		}
	} else {
		rc = lb_kn_session_new(m, today, &s, &em);
	}
	if (rc != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		goto out;
	}
	lb_kn_session_set_listener(s, on_event, &r);
	if (!r.json)
		printf("Contract: %s\n", lb_kn_model_name(m));
	for (;;) {
		if (lb_kn_session_run(s, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			goto out;
		}
		if (lb_kn_session_is_finished(s)) {
			status = 0;
			break;
		}
		char *pj;
		if (lb_kn_session_pending(s, &pj, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			goto out;
		}
		json_t *p = json_loads(pj, 0, NULL);
		lb_free(pj);
		json_t *qs = json_object_get(p, "questions"), *ds = json_object_get(p, "decisions"),
		       *as = json_object_get(p, "actions");
		int res = 1; /* 1 = nothing done */
		/* all questions listed now, in order, before the engine runs again (so optional
		 * questions are asked before the enquiry completes) */
		for (size_t i = 0; i < json_array_size(qs) && res >= 0; i++) {
			int a = ask(&r, s, json_array_get(qs, i));
			if (a <= 0)
				res = a;
		}
		if (res == 1 && json_array_size(ds) > 0)
			res = decide(&r, s, json_array_get(ds, 0));
		if (res == 1 && json_array_size(as) > 0)
			res = confirm(&r, s, json_array_get(as, 0));
		if (res == 1 && json_integer_value(json_object_get(p, "next_wake")) > 0) {
			/* nothing to do until a follow-up date: move time forward */
			res = lb_kn_session_set_time(s, json_integer_value(json_object_get(p, "next_wake")),
						     &em) == LB_OK ? 0 : -1;
		}
		json_decref(p);
		if (res == -2) {
			fprintf(stderr, "leben contract: input ended before the pathway finished%s\n",
				save ? " (session saved)" : "");
			goto out;
		}
		if (res < 0)
			goto out;
		if (res == 1) {
			fprintf(stderr,
				"leben contract: the pathway is waiting for nothing it can ask "
				"(a deadlock; run 'leben contract check %s')\n",
				file);
			goto out;
		}
	}
out:
	if (s != NULL && save != NULL) {
		char *txt;
		size_t len;
		if (lb_kn_session_save(s, &txt, &len, &em) != LB_OK ||
		    lb_file_write(save, txt, len, 0600, &em) != LB_OK) {
			fprintf(stderr, "leben contract: saving: %s\n", em.text);
			status = 1;
		} else {
			lb_free(txt);
		}
	}
	lb_kn_session_free(s);
	json_decref(r.answers);
	lb_kn_model_free(m);
	return status;
}

static int cmd_check(int argc, char **argv)
{
	const char *file = NULL;
	bool json = false;
	struct lb_kn_check_opts o = { 0 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--max-states") == 0 && i + 1 < argc)
			o.max_states = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--max-memory") == 0 && i + 1 < argc)
			o.max_memory = strtoul(argv[++i], NULL, 10) << 20;
		else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc)
			o.cycle_cap = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (file == NULL) {
		fputs(usage, stderr);
		return 2;
	}
	struct lb_kn_model *m;
	if (load(file, &m) != 0)
		return 1;
	char *report;
	size_t failures;
	struct lb_kn_check_stats st;
	struct lb_errmsg em;
	if (lb_kn_check(m, &o, &report, &failures, &st, &em) != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		lb_kn_model_free(m);
		return 1;
	}
	if (json) {
		fputs(report, stdout);
	} else {
		json_t *r = json_loads(report, 0, NULL);
		json_t *fs = json_object_get(r, "findings");
		printf("%s: %zu states, %zu transitions explored\n", file, st.states, st.transitions);
		for (size_t i = 0; i < json_array_size(fs); i++) {
			json_t *f = json_array_get(fs, i);
			const char *task = json_string_value(json_object_get(f, "task"));
			printf("\n%s%s%s: %s\n", json_string_value(json_object_get(f, "kind")),
			       task ? " in " : "", task ? task : "",
			       json_string_value(json_object_get(f, "message")));
			json_t *tr = json_object_get(f, "trace");
			if (tr != NULL) {
				printf("  counterexample (from the start):\n");
				if (json_array_size(tr) == 0)
					printf("    (the initial state)\n");
				for (size_t k = 0; k < json_array_size(tr); k++)
					printf("    %zu. %s\n", k + 1,
					       json_string_value(json_array_get(tr, k)));
			}
		}
		printf("\n%s\n", failures == 0 ? "OK: no problem found"
					       : "FAILED: fix the findings above before publishing");
		json_decref(r);
	}
	lb_free(report);
	lb_kn_model_free(m);
	return failures == 0 ? 0 : 1;
}

int cmd_contract(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "convert") == 0)
		return cmd_print(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "print") == 0)
		return cmd_print(argc - 1, argv + 1, false);
	fprintf(stderr, "leben contract: unknown subcommand '%s'\n%s", argv[1], usage);
	return 2;
}
