/* Store search quality on a written set: 118 listings (tests/data/store/listings.json) and 36
 * natural-language queries with their relevant listings (queries.json, gen.py says how they
 * were made), some with typos, synonyms or codes. Micro-averaged precision and recall of the
 * hits (after the score cut) must stay above the thresholds stated in docs/economy.md; each
 * query must find at least one relevant listing. Prints the figures. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "leben/data_coding.h"
#include "leben/market_store.h"

#define MIN_PRECISION 0.80
#define MIN_RECALL 0.80

static const char *root(void)
{
	return getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
}

static json_t *load(const char *name)
{
	char path[1024];
	json_error_t je;
	snprintf(path, sizeof path, "%s/tests/data/store/%s", root(), name);
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	return j;
}

static void test_search_quality(void **state)
{
	(void)state;
	struct lb_store_index *x;
	struct lb_errmsg em;
	json_t *ls = load("listings.json"), *qs = load("queries.json");
	assert_lb_ok(lb_store_index_open(&x, &em));
	size_t i;
	json_t *d;
	json_t *key_of = json_object();
	json_array_foreach(ls, i, d)
	{
		assert_lb_ok(lb_store_index_put(x, d, &em));
		json_object_set(key_of, json_string_value(json_object_get(d, "id")),
				json_object_get(d, "key"));
	}
	assert_true(lb_store_index_count(x) >= 100);
	/* putting a listing again replaces it */
	size_t before = lb_store_index_count(x);
	assert_lb_ok(lb_store_index_put(x, json_array_get(ls, 0), &em));
	assert_int_equal(lb_store_index_count(x), before);
	assert_true(json_array_size(qs) >= 30);
	size_t tp = 0, hits_total = 0, rel_total = 0;
	json_t *q;
	json_array_foreach(qs, i, q)
	{
		const char *text = json_string_value(json_object_get(q, "query"));
		json_t *rel = json_object_get(q, "relevant");
		struct lb_store_hit *h;
		size_t n, good = 0;
		assert_lb_ok(lb_store_index_search(x, text, 50, &h, &n, NULL, &em));
		for (size_t k = 0; k < n; k++) {
			const char *key = json_string_value(json_object_get(key_of, h[k].id));
			size_t r;
			json_t *rv;
			json_array_foreach(rel, r, rv) if (key && !strcmp(key, json_string_value(rv)))
			{
				good++;
				break;
			}
		}
		if (getenv("STORE_SEARCH_VERBOSE") || good == 0)
			printf("  %-45s hits %2zu relevant %2zu found %2zu\n", text, n,
			       json_array_size(rel), good);
		if (good == 0)
			fail_msg("query '%s' found no relevant listing", text);
		tp += good;
		hits_total += n;
		rel_total += json_array_size(rel);
		lb_free(h);
	}
	double p = (double)tp / (double)hits_total, r = (double)tp / (double)rel_total;
	printf("store search: %zu queries over %zu listings: precision %.3f recall %.3f\n",
	       json_array_size(qs), lb_store_index_count(x), p, r);
	assert_true(p >= MIN_PRECISION);
	assert_true(r >= MIN_RECALL);
	/* nothing to look for: no hits, no error */
	struct lb_store_hit *h;
	size_t n;
	assert_lb_ok(lb_store_index_search(x, "the for of", 10, &h, &n, NULL, &em));
	assert_int_equal(n, 0);
	lb_free(h);
	json_decref(key_of);
	json_decref(ls);
	json_decref(qs);
	lb_store_index_close(x);
}

/* With the data layer's code tables, a listing is found by the words of its codes'
 * descriptions (SNOMED CT fixture: 38341003 "Hypertensive disorder", "HBP"; ICD-10-CM
 * fixture: I10 "Essential (primary) hypertension") that its own text does not have. */
static void test_code_tables(void **state)
{
	(void)state;
	char c[1024], d[1024], o[1024];
	struct lb_errmsg em;
	struct lb_snomed *sct;
	struct lb_icd10_table *icd;
	snprintf(c, sizeof c, "%s/tests/data/coding/rf2/sct2_Concept_Snapshot_Fixture.txt", root());
	snprintf(d, sizeof d, "%s/tests/data/coding/rf2/sct2_Description_Snapshot-en_Fixture.txt",
		 root());
	snprintf(o, sizeof o, "%s/tests/data/coding/icd10cm_order_fixture.txt", root());
	assert_lb_ok(lb_snomed_load(c, d, NULL, &sct, &em));
	assert_lb_ok(lb_icd10_table_load(o, &icd, &em));
	json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:[s]}", "id", "a", "title", "BP review tool",
			      "specialty", "primary care", "description", "monthly reviews",
			      "codes", "snomed|38341003");
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:[s]}", "id", "b", "title", "Clinic protocol",
			      "specialty", "primary care", "description", "adult reviews",
			      "codes", "icd10cm|I10");
	struct lb_store_index *plain, *coded;
	struct lb_code_tables t = {.icd10cm = icd, .snomed = sct};
	assert_lb_ok(lb_store_index_open(&plain, &em));
	assert_lb_ok(lb_store_index_open(&coded, &em));
	lb_store_index_tables(coded, &t);
	assert_lb_ok(lb_store_index_put(plain, a, &em));
	assert_lb_ok(lb_store_index_put(plain, b, &em));
	assert_lb_ok(lb_store_index_put(coded, a, &em));
	assert_lb_ok(lb_store_index_put(coded, b, &em));
	struct lb_store_hit *h;
	size_t n;
	assert_lb_ok(lb_store_index_search(plain, "hypertensive disorder", 10, &h, &n, NULL, &em));
	assert_int_equal(n, 0);
	lb_free(h);
	assert_lb_ok(lb_store_index_search(coded, "hypertensive disorder", 10, &h, &n, NULL, &em));
	assert_int_equal(n, 1);
	assert_string_equal(h[0].id, "a");
	lb_free(h);
	assert_lb_ok(lb_store_index_search(coded, "essential primary", 10, &h, &n, NULL, &em));
	assert_int_equal(n, 1);
	assert_string_equal(h[0].id, "b");
	lb_free(h);
	lb_store_index_close(plain);
	lb_store_index_close(coded);
	json_decref(a);
	json_decref(b);
	lb_snomed_free(sct);
	lb_icd10_table_free(icd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_quality),
		cmocka_unit_test(test_code_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
