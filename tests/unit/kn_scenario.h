/*
 * Scenario runner shared by the knowledge unit tests: drives a session the way
 * `leben contract run --answers` does (answer requested sources from a JSON object, commit
 * the decision named in the answers or the recommendation, confirm actions, move time to the
 * next wake-up) and records the recommendations seen and the actions fired.
 */
#ifndef KN_SCENARIO_H
#define KN_SCENARIO_H

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/knowledge.h"

struct kn_outcome {
	json_t *recommended; /* {"decision": ["c1", ...]} as shown when the decision was taken */
	json_t *committed;   /* {"decision": ["c1", ...]} */
	json_t *actions;     /* ["task", ...] in firing order */
	bool finished;
	bool quiet;          /* set by the caller: no listener (the trace is recorded lazily) */
	char error[1200];
};

static void kn_sc_listener(void *ctx, const char *ev)
{
	struct kn_outcome *o = ctx;
	json_t *j = json_loads(ev, 0, NULL);
	const char *k = json_string_value(json_object_get(j, "event"));
	if (k != NULL && strcmp(k, "action") == 0)
		json_array_append(o->actions, json_object_get(j, "task"));
	if (k != NULL && strcmp(k, "commit") == 0)
		json_object_set(o->committed, json_string_value(json_object_get(j, "task")),
				json_object_get(j, "candidates"));
	json_decref(j);
}

static void kn_outcome_release(struct kn_outcome *o)
{
	json_decref(o->recommended);
	json_decref(o->committed);
	json_decref(o->actions);
}

/* Returns 0 when the scenario ran to completion or stopped waiting for input. */
static int kn_scenario_run(struct lb_kn_session *s, json_t *answers, struct kn_outcome *o)
{
	struct lb_errmsg em;
	o->recommended = json_object();
	o->committed = json_object();
	o->actions = json_array();
	if (!o->quiet)
		lb_kn_session_set_listener(s, kn_sc_listener, o);
	for (int guard = 0; guard < 1000; guard++) {
		if (lb_kn_session_run(s, &em) != LB_OK) {
			snprintf(o->error, sizeof(o->error), "run: %s", em.text);
			return -1;
		}
		if (lb_kn_session_is_finished(s)) {
			o->finished = true;
			return 0;
		}
		char *pj;
		if (lb_kn_session_pending(s, &pj, &em) != LB_OK)
			return -1;
		json_t *p = json_loads(pj, 0, NULL);
		lb_free(pj);
		json_t *qs = json_object_get(p, "questions"), *ds = json_object_get(p, "decisions"),
		       *as = json_object_get(p, "actions");
		bool did = false;
		/* answer every listed question before running again, as `contract run` does */
		for (size_t i = 0; i < json_array_size(qs); i++) {
			const char *d = json_string_value(json_object_get(json_array_get(qs, i), "data"));
			json_t *a = json_object_get(answers, d);
			if (a == NULL)
				continue;
			char *txt = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
			int rc = lb_kn_session_add_value(s, d, txt, NULL, 0, &em);
			free(txt);
			if (rc != LB_OK) {
				snprintf(o->error, sizeof(o->error), "answer %s: %s", d, em.text);
				json_decref(p);
				return -1;
			}
			did = true;
		}
		if (!did && json_array_size(ds) > 0) {
			json_t *d = json_array_get(ds, 0), *rec = json_array();
			const char *name = json_string_value(json_object_get(d, "name"));
			json_t *cs = json_object_get(d, "candidates");
			for (size_t i = 0; i < json_array_size(cs); i++)
				if (json_is_true(json_object_get(json_array_get(cs, i), "recommended")))
					json_array_append(rec, json_object_get(json_array_get(cs, i), "name"));
			json_object_set(o->recommended, name, rec);
			json_t *a = json_object_get(answers, name);
			const char *pick[32];
			size_t n = 0;
			json_t *src = json_is_string(a) ? NULL : (a ? a : rec);
			if (json_is_string(a))
				pick[n++] = json_string_value(a);
			for (size_t i = 0; src && i < json_array_size(src) && n < 32; i++)
				pick[n++] = json_string_value(json_array_get(src, i));
			int rc = lb_kn_session_commit(s, name, pick, n, &em);
			json_decref(rec);
			if (rc != LB_OK) {
				snprintf(o->error, sizeof(o->error), "commit %s: %s", name, em.text);
				json_decref(p);
				return -1;
			}
			did = true;
		}
		if (!did && json_array_size(as) > 0) {
			const char *name =
				json_string_value(json_object_get(json_array_get(as, 0), "name"));
			if (lb_kn_session_confirm(s, name, &em) != LB_OK) {
				json_decref(p);
				return -1;
			}
			did = true;
		}
		if (!did && json_integer_value(json_object_get(p, "next_wake")) > 0) {
			lb_kn_session_set_time(s, json_integer_value(json_object_get(p, "next_wake")),
					       &em);
			did = true;
		}
		json_decref(p);
		if (!did)
			return 0; /* waiting for input the answers do not give */
	}
	snprintf(o->error, sizeof(o->error), "scenario did not end");
	return -1;
}

#endif
