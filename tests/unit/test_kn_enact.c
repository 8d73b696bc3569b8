/* Unit tests for the PROformajs enactment's copies (kn_enact_clone), which the exploration
 * branches states with: over every example JSON contract, seeded walks whose every step is
 * applied to a copy of the previous state must give, step by step, the snapshot and the
 * offered operations of the same operations replayed from the start. A field the copy
 * forgets (or shares) shows here as a difference (or under the sanitizer build as a double
 * free). */
#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

static const char *root(void)
{
	return getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
}

/* A model from a file: a contract, or (wrapped) a regression case's "protocol"; NULL when it
 * does not load (a case PROformajs refuses too: nothing to enact). */
static struct lb_kn_model *load(const char *path, bool wrapped)
{
	struct lb_kn_model *m = NULL;
	struct lb_errmsg em = { 0 };
	if (!wrapped) {
		if (lb_kn_model_load(path, &m, &em) != LB_OK)
			fail_msg("%s: %s", path, em.text);
		return m;
	}
	json_error_t jerr;
	json_t *c = json_load_file(path, 0, &jerr);
	if (c == NULL)
		fail_msg("%s: %s", path, jerr.text);
	char *text = json_dumps(json_object_get(c, "protocol"), JSON_COMPACT);
	json_decref(c);
	assert_non_null(text);
	if (kn_js_parse(text, strlen(text), "protocol.json", &m, &em) != LB_OK) {
		lb_kn_model_free(m);
		m = NULL;
	}
	free(text);
	return m;
}

/* Seeded walks over every .json file of LEBEN_ROOT/sub whose name holds `has` (all when
 * NULL); returns how many models were walked. */
static int walk_dir(const char *sub, const char *has, bool wrapped)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/%s", root(), sub);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 ||
		    strcmp(de->d_name, "scenarios.json") == 0 || (has && !strstr(de->d_name, has)))
			continue;
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct lb_kn_model *m = load(path, wrapped);
		if (m == NULL)
			continue;
		struct lb_errmsg em = { 0 };
		for (uint64_t seed = 1; seed <= 6; seed++)
			if (kn_enact_clone_walk(m, 40, seed, &em) != LB_OK)
				fail_msg("%s, seed %llu: %s", de->d_name, (unsigned long long)seed,
					 em.text);
		lb_kn_model_free(m);
		files++;
	}
	closedir(d);
	return files;
}

static void test_clone_equals_replay(void **state)
{
	(void)state;
	assert_true(walk_dir("examples/contracts", NULL, false) >= 10);
}

/* The same over the regression cases whose protocols define a data name in several tasks
 * (tests/data/proforma, the files named with "dup"): the copy carries the data store, the
 * order of its task paths and the cycle's snapshot of what each name evaluates to. */
static void test_clone_equals_replay_dup_names(void **state)
{
	(void)state;
	assert_true(walk_dir("tests/data/proforma", "dup", true) >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clone_equals_replay),
		cmocka_unit_test(test_clone_equals_replay_dup_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
