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

/* last_updated() and the *_time() functions under the PROformajs rules, with the clock moved
 * a minute on before each operation: every expected value is PROformajs's answer to the same
 * protocol and operations (tests/oracles/proforma_lib.mjs runOracle, `at` on each op): the time
 * of the first audited update of the task to that state, of the last version stored under the
 * first task path holding the name (an unset counts), undefined (-1 here) before and for a task
 * named by its name rather than its design path. A copy of the enactment keeps the times. */
static const char *const times_protocol =
	"{\"class\":\"Plan\",\"name\":\"p\",\"dataDefinitions\":["
	"{\"class\":\"Integer\",\"name\":\"d0\"},"
	"{\"class\":\"Integer\",\"name\":\"ip\",\"valueCondition\":\"in_progress_time('p:ask') ? "
	"in_progress_time('p:ask') - 1773582330250 : -1\"},"
	"{\"class\":\"Integer\",\"name\":\"ct\",\"valueCondition\":\"completed_time('p:ask') ? "
	"completed_time('p:ask') - 1773582330250 : -1\"},"
	"{\"class\":\"Integer\",\"name\":\"cn\",\"valueCondition\":\"completed_time('ask') ? "
	"completed_time('ask') - 1773582330250 : -1\"},"
	"{\"class\":\"Integer\",\"name\":\"ft\",\"valueCondition\":\"finished_time('p:act') ? "
	"finished_time('p:act') - 1773582330250 : -1\"},"
	"{\"class\":\"Integer\",\"name\":\"dt\",\"valueCondition\":\"discarded_time('p:skip') ? "
	"discarded_time('p:skip') - 1773582330250 : -1\"},"
	"{\"class\":\"Integer\",\"name\":\"lu\",\"valueCondition\":\"last_updated('d0') ? "
	"last_updated('d0') - 1773582330250 : -1\"},"
	"{\"class\":\"Integer\",\"name\":\"lv\",\"valueCondition\":\"last_updated('ct') ? "
	"last_updated('ct') - 1773582330250 : -1\"},"
	"{\"class\":\"Boolean\",\"name\":\"late\",\"valueCondition\":\"completed_time('p:ask') > "
	"in_progress_time('p:act')\"}],"
	"\"tasks\":[{\"class\":\"Enquiry\",\"name\":\"ask\",\"sources\":[{\"class\":\"Source\","
	"\"type\":\"d0\"}]},{\"class\":\"Action\",\"name\":\"act\",\"waitCondition\":"
	"\"is_known('d0')\"},{\"class\":\"Action\",\"name\":\"skip\",\"preCondition\":\"false\"}]}";

/* "ip ct cn ft dt lu lv late" of e's snapshot */
static void times_of(struct kn_enact *e, char *out, size_t n)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	assert_lb_ok(lb_buf_addc(&b, '{'));
	assert_lb_ok(kn_enact_snapshot(e, &b));
	assert_lb_ok(lb_buf_addc(&b, '}'));
	json_t *j = json_loadb((const char *)b.data, b.len, 0, NULL);
	lb_buf_release(&b);
	assert_non_null(j);
	json_t *d = json_object_get(j, "data");
	static const char *const k[] = { "ip", "ct", "cn", "ft", "dt", "lu", "lv", "late" };
	size_t used = 0;
	for (size_t i = 0; i < 8; i++) {
		char *v = json_dumps(json_object_get(d, k[i]), JSON_ENCODE_ANY);
		used += (size_t)snprintf(out + used, n - used, "%s%s", i ? " " : "", v ? v : "?");
		free(v);
	}
	json_decref(j);
}

static void test_pjs_times(void **state)
{
	static const int64_t now = 1773582330250; /* proforma_lib.mjs NOW_MS */
	static const char *const expect[] = {
		"0 -1 -1 -1 0 -1 0 false",        /* start */
		"0 -1 -1 -1 0 60000 0 false",     /* set d0 = 3, a minute later */
		"0 120000 -1 -1 0 60000 120000 true", /* complete ask */
		"0 120000 -1 -1 0 180000 120000 true", /* unset d0 */
		"0 120000 -1 240000 0 180000 120000 true", /* complete act */
	};
	struct lb_kn_model *m;
	struct lb_errmsg em = { 0 };
	if (kn_js_parse(times_protocol, strlen(times_protocol), "t.json", &m, &em) != LB_OK)
		fail_msg("%s", em.text);
	struct kn_enact *e, *c = NULL;
	assert_lb_ok(kn_enact_new(m, &e, &em));
	kn_enact_set_clock(e, now);
	assert_lb_ok(kn_enact_start(e, &em));
	char got[256];
	times_of(e, got, sizeof(got));
	assert_string_equal(got, expect[0]);
	json_t *three = json_pack("{s:i}", "d0", 3);
	for (int step = 1; step <= 4; step++) {
		kn_enact_set_clock(e, now + 60000 * step);
		if (step == 1)
			assert_lb_ok(kn_enact_set_all(e, "p:ask", three, &em));
		else if (step == 2)
			assert_lb_ok(kn_enact_complete(e, "p:ask", &em));
		else if (step == 3)
			assert_lb_ok(kn_enact_unset(e, "p:ask", "d0", &em));
		else
			assert_lb_ok(kn_enact_complete(e, "p:act", &em));
		times_of(e, got, sizeof(got));
		assert_string_equal(got, expect[step]);
		if (step == 3)
			assert_lb_ok(kn_enact_clone(e, &c));
	}
	/* the copy taken before the last operation gives the same answers after it */
	kn_enact_set_clock(c, now + 240000);
	assert_lb_ok(kn_enact_complete(c, "p:act", &em));
	times_of(c, got, sizeof(got));
	assert_string_equal(got, expect[4]);
	json_decref(three);
	kn_enact_free(c);
	kn_enact_free(e);
	lb_kn_model_free(m);
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
		cmocka_unit_test(test_pjs_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
