/* Unit tests for the FHIR store and validator (src/data/fhir_store.c, fhir_valid.c): each
 * refusal names its element; the store versions, indexes and searches (patient, code, date
 * prefixes, paging), walks for export, finds a patient by key; a refused write changes nothing;
 * and the Bundle summary counts 200,000 distinct patients in linear time. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "leben/data_extract.h"
#include "leben/fhir.h"

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	assert_non_null(j);
	return j;
}

/* The resource text is refused with code and its FHIRPath is expr. */
static void refused(const char *text, int code, const char *expr, const char *words)
{
	json_t *j = parse(text);
	char e[300];
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_fhir_validate(j, e, sizeof e, &em);
	if (rc != code || strcmp(e, expr) || !strstr(em.text, words))
		fail_msg("%s: got %d expr \"%s\" text \"%s\"; want %d \"%s\" (%s)", text, rc, e,
			 em.text, code, expr, words);
	json_decref(j);
}

static void test_validate(void **state)
{
	json_t *ok = parse("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\","
			   "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},"
			   "\"subject\":{\"reference\":\"Patient/p1\"},"
			   "\"effectiveDateTime\":\"2024-02-29T10:00:00+01:00\"}");
	char e[300];
	struct lb_errmsg em;
	assert_lb_ok(lb_fhir_validate(ok, e, sizeof e, &em));
	size_t n = 0;
	const char *p = lb_fhir_patient_of(ok, &n);
	assert_true(p && n == 2 && !strncmp(p, "p1", n));
	json_decref(ok);
	refused("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{},"
		"\"effectiveDateTime\":\"2023-02-30\"}",
		LB_EINVALID, "Observation.effectiveDateTime", "28 days");
	refused("{\"resourceType\":\"Patient\",\"birthDate\":\"1980-13-01\"}", LB_EINVALID,
		"Patient.birthDate", "month 13");
	refused("{\"resourceType\":\"Patient\",\"gender\":\"robot\"}", LB_EINVALID,
		"Patient.gender", "unknown code");
	refused("{\"resourceType\":\"Observation\",\"status\":\"final\"}", LB_EINVALID,
		"Observation.code", "required");
	refused("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{},"
		"\"subject\":{\"reference\":\"Patient\"}}",
		LB_EINVALID, "Observation.subject.reference", "Type/id");
	refused("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{},"
		"\"subject\":{\"reference\":\"Rocket/1\"}}",
		LB_EINVALID, "Observation.subject.reference", "does not serve");
	refused("{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/p\"},"
		"\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"38341004\"}]}}",
		LB_EINVALID, "Condition.code.coding[0].code", "SNOMED CT");
	refused("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":"
		"[{\"system\":\"http://loinc.org\",\"code\":\"8867-5\"}]}}",
		LB_EINVALID, "Observation.code.coding[0].code", "LOINC");
	refused("{\"resourceType\":\"Spaceship\"}", LB_EUNSUPPORTED, "resourceType", "not served");
	refused("{\"id\":\"x\"}", LB_EINVALID, "resourceType", "missing");
	refused("{\"resourceType\":\"Patient\",\"id\":\"a/b\"}", LB_EINVALID, "Patient.id", "id");
	refused("{\"resourceType\":\"Patient\",\"name\":[{\"family\":null}]}", LB_EINVALID,
		"Patient.name[0].family", "null");
	/* deep nesting is refused, not recursed into without end */
	char deep[2000] = "{\"resourceType\":\"Patient\",\"extension\":";
	for (int i = 0; i < 60; i++)
		strcat(deep, "{\"x\":");
	strcat(deep, "1");
	for (int i = 0; i < 60; i++)
		strcat(deep, "}");
	strcat(deep, "}");
	json_t *d = parse(deep);
	assert_int_equal(lb_fhir_validate(d, e, sizeof e, &em), LB_ELIMIT);
	json_decref(d);
}

static int count_lines(void *ctx, const char *json, size_t len)
{
	(*(size_t *)ctx)++;
	return strstr(json, "\"resourceType\"") && len ? LB_OK : LB_ECORRUPT;
}

static void test_store(void **state)
{
	char path[] = "/tmp/leben-fhir-unit-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct lb_fhir_store *s;
	struct lb_errmsg em;
	assert_lb_ok(lb_fhir_store_open(&s, path, &em));
	assert_lb_ok(lb_fhir_begin(s, &em));
	bool created;
	json_t *pat = parse("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":"
			    "[{\"system\":\"urn:leben:key\",\"value\":\"abcd\"}]}");
	assert_lb_ok(lb_fhir_put(s, pat, &created, &em));
	assert_true(created);
	for (int i = 0; i < 30; i++) {
		char t[400];
		snprintf(t, sizeof t,
			 "{\"resourceType\":\"Observation\",\"id\":\"o%d\",\"status\":\"final\","
			 "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\"}]},"
			 "\"subject\":{\"reference\":\"Patient/p%d\"},"
			 "\"effectiveDateTime\":\"2023-%02d-10T08:00:00Z\"}",
			 i, i % 2 ? "8867-4" : "2339-0", i % 3 ? 1 : 2, i % 12 + 1);
		json_t *o = parse(t);
		assert_lb_ok(lb_fhir_put(s, o, &created, &em));
		json_decref(o);
	}
	assert_lb_ok(lb_fhir_commit(s, &em));
	/* replace: version 2 */
	assert_lb_ok(lb_fhir_begin(s, &em));
	assert_lb_ok(lb_fhir_put(s, pat, &created, &em));
	assert_false(created);
	assert_lb_ok(lb_fhir_commit(s, &em));
	json_decref(pat);
	json_t *got;
	assert_lb_ok(lb_fhir_get(s, "Patient", "p1", &got, &em));
	assert_string_equal(json_string_value(json_object_get(json_object_get(got, "meta"),
							      "versionId")), "2");
	json_decref(got);
	assert_int_equal(lb_fhir_get(s, "Patient", "p9", &got, &em), LB_ENOTFOUND);
	/* a rolled-back write leaves nothing */
	assert_lb_ok(lb_fhir_begin(s, &em));
	json_t *x = parse("{\"resourceType\":\"Patient\",\"id\":\"gone\"}");
	assert_lb_ok(lb_fhir_put(s, x, &created, &em));
	json_decref(x);
	lb_fhir_rollback(s);
	assert_false(lb_fhir_exists(s, "Patient", "gone"));

	/* search: patient p1 has the 20 observations with i % 3 != 0 */
	struct lb_fhir_query q = {.type = "Observation", .patient = "p1", .count = 7};
	json_t *page;
	size_t total, seen = 0, pages = 0;
	int64_t next;
	assert_lb_ok(lb_fhir_search(s, &q, &page, &next, &total, &em));
	assert_int_equal(total, 20);
	json_decref(page);
	do { /* the cursor walks 7 + 7 + 6, then says there is no more */
		assert_lb_ok(lb_fhir_search(s, &q, &page, &next, NULL, &em));
		seen += json_array_size(page);
		pages++;
		json_decref(page);
		q.after = next;
	} while (next && pages < 10);
	assert_int_equal(seen, 20);
	assert_int_equal(pages, 3);
	/* code with and without system; dates by prefix and range */
	struct lb_fhir_query qc = {.type = "Observation", .code = "http://loinc.org|8867-4",
				   .count = 100};
	assert_lb_ok(lb_fhir_search(s, &qc, &page, &next, &total, &em));
	assert_int_equal(total, 15);
	json_decref(page);
	qc.code = "2339-0";
	assert_lb_ok(lb_fhir_search(s, &qc, &page, &next, &total, &em));
	assert_int_equal(total, 15);
	json_decref(page);
	struct lb_fhir_query qd = {.type = "Observation", .count = 100, .ndates = 2};
	assert_lb_ok(lb_fhir_date_cond_parse("ge2023-03-01", &qd.dates[0], &em));
	assert_lb_ok(lb_fhir_date_cond_parse("lt2023-05", &qd.dates[1], &em));
	assert_lb_ok(lb_fhir_search(s, &qd, &page, &next, &total, &em));
	assert_int_equal(total, 6); /* months 3 and 4: i = 2, 3, 14, 15, 26, 27 */
	json_decref(page);
	qd.ndates = 1;
	assert_lb_ok(lb_fhir_date_cond_parse("2023-01", &qd.dates[0], &em)); /* eq: a prefix */
	assert_lb_ok(lb_fhir_search(s, &qd, &page, &next, &total, &em));
	assert_int_equal(total, 3);
	json_decref(page);
	assert_lb_ok(lb_fhir_date_cond_parse("le2023-01-10", &qd.dates[0], &em));
	assert_lb_ok(lb_fhir_search(s, &qd, &page, &next, &total, &em));
	assert_int_equal(total, 3); /* le includes the whole day named */
	json_decref(page);
	struct lb_fhir_date_cond c;
	assert_int_equal(lb_fhir_date_cond_parse("ge2023-02-30", &c, &em), LB_EINVALID);
	assert_int_equal(lb_fhir_date_cond_parse("sa2023", &c, &em), LB_EINVALID);

	size_t lines = 0;
	assert_lb_ok(lb_fhir_each(s, "Observation", NULL, count_lines, &lines, &em));
	assert_int_equal(lines, 30);
	lines = 0;
	assert_lb_ok(lb_fhir_each(s, NULL, "p2", count_lines, &lines, &em));
	assert_int_equal(lines, 10);
	char id[65];
	assert_lb_ok(lb_fhir_patient_of_key(s, "abcd", id, &em));
	assert_string_equal(id, "p1");
	assert_int_equal(lb_fhir_patient_of_key(s, "ffff", id, &em), LB_ENOTFOUND);
	json_t *counts = lb_fhir_store_counts(s);
	assert_int_equal(json_integer_value(json_object_get(counts, "Observation")), 30);
	json_decref(counts);
	lb_fhir_store_close(s);
	unlink(path);
	char wal[64];
	snprintf(wal, sizeof wal, "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", path);
	unlink(wal);
}

/* Sealed rows open only with their key; the search columns still work. */
static void test_sealed(void **state)
{
	char path[] = "/tmp/leben-fhir-seal-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	uint8_t k1[32], k2[32];
	memset(k1, 1, sizeof k1);
	memset(k2, 2, sizeof k2);
	struct lb_fhir_store *s;
	struct lb_errmsg em;
	bool created;
	assert_lb_ok(lb_fhir_store_open(&s, path, &em));
	lb_fhir_store_seal(s, k1);
	json_t *p = parse("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"family\":"
			  "\"Zebulon\"}]}");
	assert_lb_ok(lb_fhir_put(s, p, &created, &em));
	json_decref(p);
	json_t *got;
	assert_lb_ok(lb_fhir_get(s, "Patient", "p1", &got, &em));
	json_decref(got);
	lb_fhir_store_close(s);
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (size_t i = 0; i + 7 <= n; i++)
		assert_true(memcmp(buf + i, "Zebulon", 7) != 0);
	assert_lb_ok(lb_fhir_store_open(&s, path, &em));
	assert_int_equal(lb_fhir_get(s, "Patient", "p1", &got, &em), LB_ETAMPERED);
	lb_fhir_store_seal(s, k2);
	assert_int_equal(lb_fhir_get(s, "Patient", "p1", &got, &em), LB_ETAMPERED);
	assert_true(lb_fhir_exists(s, "Patient", "p1"));
	lb_fhir_store_close(s);
	unlink(path);
}

static void count_obj(void *ctx, const char *type, const char *id, const uint8_t obj[32])
{
	(void)type;
	(void)id;
	uint8_t zero[32] = {0};
	assert_true(memcmp(obj, zero, 32) != 0);
	(*(size_t *)ctx)++;
}

/* Purge: a patient's records (and only theirs) are destroyed, their ids answer as purged and
 * are refused on write; the facets follow the writes and the purge; a whole purge empties. */
static void test_purge(void **state)
{
	char path[] = "/tmp/leben-fhir-purge-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	uint8_t k[32];
	memset(k, 7, sizeof k);
	struct lb_fhir_store *s;
	struct lb_errmsg em;
	bool created;
	assert_lb_ok(lb_fhir_store_open(&s, path, &em));
	lb_fhir_store_seal(s, k);
	const char *res[] = {
		"{\"resourceType\":\"Patient\",\"id\":\"p1\"}",
		"{\"resourceType\":\"Patient\",\"id\":\"p2\"}",
		"{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":"
		"{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},\"subject\":"
		"{\"reference\":\"Patient/p1\"},\"effectiveDateTime\":\"2023-01-02\"}",
		"{\"resourceType\":\"Observation\",\"id\":\"o2\",\"status\":\"final\",\"code\":"
		"{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]},\"subject\":"
		"{\"reference\":\"Patient/p2\"},\"effectiveDateTime\":\"2024-05-06\"}"};
	assert_lb_ok(lb_fhir_begin(s, &em));
	for (size_t i = 0; i < 4; i++) {
		json_t *j = parse(res[i]);
		assert_lb_ok(lb_fhir_put(s, j, &created, &em));
		json_decref(j);
	}
	assert_lb_ok(lb_fhir_commit(s, &em));
	json_t *f = lb_fhir_store_facets(s);
	assert_int_equal(json_integer_value(json_object_get(f, "volume")), 4);
	assert_int_equal(json_integer_value(json_object_get(f, "patients")), 2);
	assert_string_equal(json_string_value(json_object_get(f, "date_min")), "2023-01-02");
	assert_string_equal(json_string_value(json_object_get(f, "date_max")), "2024-05-06");
	assert_int_equal(json_array_size(json_object_get(f, "codes")), 2);
	json_decref(f);
	size_t n = 0, seen = 0;
	assert_lb_ok(lb_fhir_purge(s, "p1", count_obj, &seen, &n, &em));
	assert_int_equal(n, 2);
	assert_int_equal(seen, 2);
	json_t *got = NULL;
	assert_int_equal(lb_fhir_get(s, "Observation", "o1", &got, &em), LB_ENOTFOUND);
	assert_int_equal(lb_fhir_get(s, "Patient", "p1", &got, &em), LB_ENOTFOUND);
	int64_t at = 0;
	assert_true(lb_fhir_purged(s, "Observation", "o1", &at) && at > 0);
	assert_false(lb_fhir_purged(s, "Observation", "o2", NULL));
	assert_lb_ok(lb_fhir_get(s, "Observation", "o2", &got, &em));
	json_decref(got);
	json_t *again = parse(res[2]); /* o1 again, and a new resource of p1: refused */
	assert_int_equal(lb_fhir_put(s, again, &created, &em), LB_EDENIED);
	json_object_set_new(again, "id", json_string("o9"));
	assert_int_equal(lb_fhir_put(s, again, &created, &em), LB_EDENIED);
	json_decref(again);
	f = lb_fhir_store_facets(s);
	assert_int_equal(json_integer_value(json_object_get(f, "volume")), 2);
	assert_int_equal(json_integer_value(json_object_get(f, "patients")), 1);
	assert_string_equal(json_string_value(json_object_get(f, "date_min")), "2024-05-06");
	assert_int_equal(json_array_size(json_object_get(f, "codes")), 1);
	json_decref(f);
	assert_lb_ok(lb_fhir_purge(s, NULL, NULL, NULL, &n, &em));
	assert_int_equal(n, 2);
	assert_int_equal(lb_fhir_get(s, "Observation", "o2", &got, &em), LB_ENOTFOUND);
	f = lb_fhir_store_facets(s);
	assert_int_equal(json_integer_value(json_object_get(f, "volume")), 0);
	json_decref(f);
	lb_fhir_store_close(s);
	unlink(path);
}

static double secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The Bundle summary is linear: 200,000 distinct patients (54 s when it was quadratic). */
static void test_summary_linear(void **state)
{
	const size_t n = 200000;
	size_t cap = n * 80 + 100, len = 0;
	char *b = malloc(cap);
	assert_non_null(b);
	len += (size_t)snprintf(b + len, cap - len,
				"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len,
					"%s{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p%zu\"}}",
					i ? "," : "", i);
	len += (size_t)snprintf(b + len, cap - len, "]}");
	struct lb_fhir_summary sum;
	struct lb_errmsg em;
	double t0 = secs();
	assert_lb_ok(lb_fhir_summarise(b, len, &sum, &em));
	double dt = secs() - t0;
	assert_int_equal(sum.patients, n);
	assert_int_equal(sum.resources, n);
	assert_int_equal(sum.ntypes, 1);
	lb_fhir_summary_release(&sum);
	free(b);
	/* quadratic took 54 s; linear takes about 1 s here (sanitizers: a few) */
	if (dt > 20)
		fail_msg("200,000 patients summarised in %.1f s: not linear", dt);
}

/* NDJSON (Bulk Data files): one resource a line, errors by line. */
static void test_summary_ndjson(void **state)
{
	const char *nd = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n\n"
			 "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient/b\"},"
			 "\"effectiveDateTime\":\"2023-01-02\"}\n"
			 "{\"resourceType\":\"Patient\",\"id\":\"b\"}\n";
	struct lb_fhir_summary sum;
	struct lb_errmsg em;
	assert_lb_ok(lb_fhir_summarise(nd, strlen(nd), &sum, &em));
	assert_string_equal(sum.bundle_type, "ndjson");
	assert_int_equal(sum.resources, 3);
	assert_int_equal(sum.patients, 2);
	assert_int_equal(sum.ntypes, 2);
	assert_string_equal(sum.first_date, "2023-01-02");
	lb_fhir_summary_release(&sum);
	const char *bad = "{\"resourceType\":\"Patient\"}\n{\"resourceType\":\"Patient\","
			  "\"birthDate\":\"2023-02-30\"}\n";
	assert_int_equal(lb_fhir_summarise(bad, strlen(bad), &sum, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "line 2"));
	const char *broken = "{\"resourceType\":\"Patient\"}\n{\"resourceType\":\n";
	assert_int_equal(lb_fhir_summarise(broken, strlen(broken), &sum, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "line 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_summary_linear),
		cmocka_unit_test(test_summary_ndjson),
		cmocka_unit_test(test_sealed),
		cmocka_unit_test(test_purge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
