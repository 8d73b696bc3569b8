/* Unit tests for src/data coding: ICD-10 syntax and chapters, the order-file loader, SCTIDs,
 * and the RF2 loader with is-a walks (fixtures in tests/data/coding). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "data/data_int.h"
#include "leben/data_coding.h"
#include "leben/data_hexa.h"
#include "leben/data_vault.h"

static const char *path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("LEBEN_ROOT");
	snprintf(buf, sizeof buf, "%s/tests/data/coding/%s", root ? root : ".", rel);
	return buf;
}

static void test_icd10_syntax(void **state)
{
	static const char *const who_ok[] = {"I10", "E11.9", "e119", "A00.0", "Z99", "U07.1"};
	for (size_t i = 0; i < sizeof who_ok / sizeof who_ok[0]; i++)
		assert_lb_ok(lb_icd10_check(who_ok[i], false, NULL));
	static const char *const cm_ok[] = {"S03.4XXA", "E11.65", "J45.909", "U07.1", "O9A.1",
					    "T36.0X1A", "M1A.0110", "I25.10"};
	for (size_t i = 0; i < sizeof cm_ok / sizeof cm_ok[0]; i++)
		assert_lb_ok(lb_icd10_check(cm_ok[i], true, NULL));
	struct lb_errmsg em;
	static const char *const bad[] = {"I1", "1I0", "IA0", "E11.", "E1.19", "E11.9999A",
					  "E11-9", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(lb_icd10_check(bad[i], true, &em), LB_ESYNTAX);
	assert_int_equal(lb_icd10_check("S03.4XXA", false, &em), LB_ESYNTAX); /* not WHO */
	assert_int_equal(lb_icd10_check("E1A", false, &em), LB_ESYNTAX);
	assert_non_null(strstr(em.text, "character 3"));
	char out[10];
	assert_lb_ok(lb_icd10_normalise("s034xxa", true, out));
	assert_string_equal(out, "S03.4XXA");
	assert_lb_ok(lb_icd10_normalise("I10", true, out));
	assert_string_equal(out, "I10");
}

static void test_icd10_chapters(void **state)
{
	const char *range, *title;
	assert_string_equal(lb_icd10_chapter("I10", false, &range, &title), "IX");
	assert_string_equal(range, "I00-I99");
	assert_string_equal(lb_icd10_chapter("D48.9", false, &range, NULL), "II");
	assert_null(lb_icd10_chapter("D49.9", false, &range, NULL)); /* no D49 in WHO ICD-10 */
	assert_string_equal(lb_icd10_chapter("D49.9", true, &range, NULL), "2");   /* CM */
	assert_string_equal(lb_icd10_chapter("O9A.1", true, &range, NULL), "15");
	assert_string_equal(lb_icd10_chapter("T98.3", false, &range, &title), "XIX");
	assert_string_equal(lb_icd10_chapter("V01", false, NULL, NULL), "XX");
	assert_string_equal(lb_icd10_chapter("U07.1", true, NULL, NULL), "22");
	assert_null(lb_icd10_chapter("U99", true, NULL, NULL));
}

static void test_icd10_order_file(void **state)
{
	struct lb_icd10_table *t;
	struct lb_errmsg em;
	if (lb_icd10_table_load(path("icd10cm_order_fixture.txt"), &t, &em))
		fail_msg("%s", em.text);
	assert_int_equal(lb_icd10_table_size(t), 26);
	struct lb_icd10_entry e;
	assert_true(lb_icd10_table_find(t, "s034xxa", &e));
	assert_string_equal(e.code, "S03.4XXA");
	assert_true(e.billable);
	assert_string_equal(e.short_desc, "Sprain of jaw, initial encounter");
	assert_true(lb_icd10_table_find(t, "E11", &e));
	assert_false(e.billable);
	assert_false(lb_icd10_table_find(t, "E11.8", &e)); /* valid syntax, not in the table */
	/* Walk S03.4XXA -> S03.4XX -> S03.4X -> S03.4 -> S03. */
	static const char *const chain[] = {"S03.4XX", "S03.4X", "S03.4", "S03"};
	const char *cur = "S03.4XXA";
	for (size_t i = 0; i < 4; i++) {
		assert_true(lb_icd10_table_parent(t, cur, &e));
		assert_string_equal(e.code, chain[i]);
		cur = e.code;
	}
	assert_false(lb_icd10_table_parent(t, "S03", &e));
	/* J45.909 skips nothing; I25.10 -> I25.1 -> I25 */
	assert_true(lb_icd10_table_parent(t, "I25.10", &e));
	assert_string_equal(e.code, "I25.1");
	lb_icd10_table_free(t);
	assert_int_equal(lb_icd10_table_load(path("icd10cm_order_bad.txt"), &t, &em), LB_ESYNTAX);
	assert_non_null(strstr(em.text, "line 2"));
}

static void test_sctid(void **state)
{
	/* Valid identifiers (published concept ids) and a wrong check digit. */
	static const char *const ok[] = {"138875005", "404684003", "73211009", "22298006",
					 "38341003", "116680003", "900000000000003001"};
	enum lb_sctid_kind k;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_lb_ok(lb_sctid_check(ok[i], &k));
	assert_lb_ok(lb_sctid_check("138875005", &k));
	assert_int_equal(k, LB_SCTID_CONCEPT);
	assert_int_equal(lb_sctid_check("138875006", &k), LB_ECHECKSUM);
	assert_int_equal(lb_sctid_check("038875005", &k), LB_ESYNTAX);
	assert_int_equal(lb_sctid_check("12345", &k), LB_ESYNTAX);
	assert_int_equal(lb_sctid_check("1388750a5", &k), LB_ESYNTAX);
	/* Verhoeff catches every single-digit substitution and every adjacent transposition. */
	const char *id = "404684003";
	char buf[20];
	for (size_t i = 0; i < strlen(id); i++) {
		for (char c = '0'; c <= '9'; c++) {
			if (c == id[i])
				continue;
			strcpy(buf, id);
			buf[i] = c;
			if (buf[0] == '0')
				continue;
			assert_int_not_equal(lb_sctid_check(buf, NULL), LB_OK);
		}
		if (i + 1 < strlen(id) && id[i] != id[i + 1]) {
			strcpy(buf, id);
			buf[i] = id[i + 1];
			buf[i + 1] = id[i];
			if (buf[0] != '0')
				assert_int_not_equal(lb_sctid_check(buf, NULL), LB_OK);
		}
	}
	/* The worked example of the Verhoeff algorithm: 236 -> check digit 3. */
	assert_int_equal(lb_verhoeff_digit("236"), 3);
	assert_int_equal(lb_verhoeff_digit("12345"), 1);
}

static void test_rf2(void **state)
{
	struct lb_snomed *s;
	struct lb_errmsg em;
	char c[4096], d[4096], r[4096];
	snprintf(c, sizeof c, "%s", path("rf2/sct2_Concept_Snapshot_Fixture.txt"));
	snprintf(d, sizeof d, "%s", path("rf2/sct2_Description_Snapshot-en_Fixture.txt"));
	snprintf(r, sizeof r, "%s", path("rf2/sct2_Relationship_Snapshot_Fixture.txt"));
	if (lb_snomed_load(c, d, r, &s, &em))
		fail_msg("%s", em.text);
	assert_int_equal(lb_snomed_concepts(s), 9);
	bool active;
	assert_true(lb_snomed_concept(s, 22298006, &active));
	assert_true(active); /* newer active row wins over the 2018 one */
	assert_true(lb_snomed_concept(s, 1000001008ull, &active));
	assert_false(active); /* inactivated in 2021 */
	assert_false(lb_snomed_concept(s, 12345678, &active));
	assert_string_equal(lb_snomed_term(s, 44054006), "Diabetes mellitus type 2 (disorder)");
	uint64_t par[8];
	assert_int_equal(lb_snomed_parents(s, 44054006, par, 8), 1);
	assert_int_equal(par[0], 73211009);
	assert_true(lb_snomed_is_a(s, 44054006, 404684003));  /* T2DM is a clinical finding */
	assert_true(lb_snomed_is_a(s, 44054006, 138875005));
	assert_false(lb_snomed_is_a(s, 22298006, 73211009)); /* the retired edge is gone */
	assert_false(lb_snomed_is_a(s, 404684003, 64572001));
	/* Synonyms: five active for hypertensive disorder + FSN; the retired one is hidden. */
	const char *term;
	uint64_t type;
	size_t n = 0;
	while (lb_snomed_description(s, 38341003, n, &term, &type)) {
		assert_string_not_equal(term, "Retired synonym");
		n++;
	}
	assert_int_equal(n, 6);
	lb_snomed_free(s);
	/* A description file given as the concept file: refused with the line. */
	assert_int_equal(lb_snomed_load(d, NULL, NULL, &s, &em), LB_ESYNTAX);
	assert_non_null(strstr(em.text, "line 2"));
}

/* lb_code_check / lb_code_facet_entry: the codes of the issue and their messages. */
static void test_code_check(void **state)
{
	struct lb_errmsg em;
	assert_int_equal(lb_code_system_of("http://snomed.info/sct"), LB_CODE_SNOMED);
	assert_int_equal(lb_code_system_of("http://hl7.org/fhir/sid/icd-10-cm"), LB_CODE_ICD10CM);
	assert_int_equal(lb_code_system_of("http://hl7.org/fhir/sid/icd-10"), LB_CODE_ICD10);
	assert_int_equal(lb_code_system_of("http://loinc.org"), LB_CODE_OTHER);
	assert_lb_ok(lb_code_check(LB_CODE_SNOMED, "38341003", NULL, &em));
	assert_int_equal(lb_code_check(LB_CODE_SNOMED, "38341004", NULL, &em), LB_ECHECKSUM);
	assert_non_null(strstr(em.text, "check digit 4 is wrong"));
	assert_non_null(strstr(em.text, "is 3"));
	assert_int_equal(lb_code_check(LB_CODE_SNOMED, "138875006", NULL, &em), LB_ECHECKSUM);
	/* a description id (partition 01) is not a concept */
	char d[16] = "12345010";
	d[7] = (char)('0' + lb_verhoeff_digit("1234501"));
	assert_int_equal(lb_code_check(LB_CODE_SNOMED, d, NULL, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "description"));
	/* partition 31 does not exist */
	char p[16] = "12345311";
	p[7] = (char)('0' + lb_verhoeff_digit("1234531"));
	assert_int_equal(lb_code_check(LB_CODE_SNOMED, p, NULL, &em), LB_EINVALID);
	assert_int_equal(lb_code_check(LB_CODE_SNOMED, "3834100x", NULL, &em), LB_ESYNTAX);
	assert_int_equal(lb_code_check(LB_CODE_ICD10, "ZZZ.99", NULL, &em), LB_ESYNTAX);
	assert_int_equal(lb_code_check(LB_CODE_ICD10CM, "ZZZ.99", NULL, &em), LB_ESYNTAX);
	assert_lb_ok(lb_code_check(LB_CODE_ICD10, "I10", NULL, &em));
	assert_lb_ok(lb_code_check(LB_CODE_OTHER, "2823-3", NULL, &em));
	/* existence against loaded tables */
	struct lb_icd10_table *t;
	struct lb_snomed *sct;
	assert_lb_ok(lb_icd10_table_load(path("icd10cm_order_fixture.txt"), &t, &em));
	assert_lb_ok(lb_snomed_load(path("rf2/sct2_Concept_Snapshot_Fixture.txt"), NULL, NULL, &sct,
				    &em));
	struct lb_code_tables ct = {t, sct};
	assert_lb_ok(lb_code_check(LB_CODE_ICD10CM, "S03.4XXA", &ct, &em));
	assert_int_equal(lb_code_check(LB_CODE_ICD10CM, "S03.9XXA", &ct, &em), LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "not in the loaded code table"));
	assert_lb_ok(lb_code_check(LB_CODE_SNOMED, "138875005", &ct, &em));
	assert_int_equal(lb_code_check(LB_CODE_SNOMED, "73211009", &ct, &em) == LB_OK ||
				 strstr(em.text, "loaded release") != NULL,
			 1);
	/* semantic facet entries: valid codes normalised, invalid ones kept and marked */
	char out[128];
	assert_lb_ok(lb_code_facet_entry(LB_CODE_SNOMED, "38341004", NULL, out, sizeof out));
	assert_string_equal(out, "invalid|snomed|38341004");
	assert_lb_ok(lb_code_facet_entry(LB_CODE_SNOMED, "38341003", NULL, out, sizeof out));
	assert_string_equal(out, "snomed|38341003");
	assert_lb_ok(lb_code_facet_entry(LB_CODE_ICD10CM, "e119", NULL, out, sizeof out));
	assert_string_equal(out, "icd10cm|E11.9");
	assert_lb_ok(lb_code_facet_entry(LB_CODE_ICD10, "ZZZ.99", NULL, out, sizeof out));
	assert_string_equal(out, "invalid|icd10|ZZZ.99");
	assert_int_equal(lb_code_facet_entry(LB_CODE_OTHER, "x", NULL, out, sizeof out),
			 LB_ENOTFOUND);
	lb_icd10_table_free(t);
	lb_snomed_free(sct);
}

/* FHIR date, dateTime and instant: grammar and calendar. */
static void test_fhir_dates(void **state)
{
	char why[128];
	static const char *const good_dt[] = {"2023", "2023-02", "2023-02-28", "2024-02-29",
					      "2000-02-29", "2023-02-28T23:59:60Z",
					      "2023-02-28T10:00:00.123+14:00",
					      "2023-12-31T00:00:00-05:30", NULL};
	static const char *const bad_dt[] = {"2023-02-30", "2023-02-29", "1900-02-29",
					     "2023-04-31", "2023-13-01", "2023-00-10",
					     "0000-01-01", "2023-01-00", "2023-01-01T24:00:00Z",
					     "2023-01-01T10:60:00Z", "2023-01-01T10:00:61Z",
					     "2023-01-01T10:00:00", "2023-01-01T10:00:00+15:00",
					     "2023-01-01T10:00:00.Z", "01/02/2023", "2023-1-5",
					     "2023-01-01T10:00Z", NULL};
	for (size_t i = 0; good_dt[i]; i++)
		if (!data_fhir_date_check(good_dt[i], DATA_FHIR_DATETIME, why, sizeof why))
			fail_msg("%s refused: %s", good_dt[i], why);
	for (size_t i = 0; bad_dt[i]; i++)
		if (data_fhir_date_check(bad_dt[i], DATA_FHIR_DATETIME, why, sizeof why))
			fail_msg("%s accepted", bad_dt[i]);
	assert_false(data_fhir_date_check("2023-02-30", DATA_FHIR_DATE, why, sizeof why));
	assert_string_equal(why, "February 2023 has 28 days, there is no day 30");
	assert_false(data_fhir_date_check("2023-02-28T10:00:00Z", DATA_FHIR_DATE, why, sizeof why));
	assert_false(data_fhir_date_check("2023-02-28", DATA_FHIR_INSTANT, why, sizeof why));
	assert_true(data_fhir_date_check("2023-02-28T10:00:00Z", DATA_FHIR_INSTANT, why, sizeof why));
	assert_int_equal(data_fhir_time_of("birthDate"), DATA_FHIR_DATE);
	assert_int_equal(data_fhir_time_of("issued"), DATA_FHIR_INSTANT);
	assert_int_equal(data_fhir_time_of("effectiveDateTime"), DATA_FHIR_DATETIME);
}

/* The semantic facet keeps invalid codes visible, marked, and the entry still checks. */
static void test_facet_invalid(void **state)
{
	struct lb_hexa h;
	struct lb_errmsg em;
	assert_lb_ok(lb_data_describe(path("bad_codes.json"), &h, &em));
	int c = lb_hexa_field_id("semantic.codes");
	bool bad_icd = false, bad_sct = false, good_sct = false;
	for (size_t i = 0; i < h.v[c].n; i++) {
		bad_icd |= !strcmp(h.v[c].keys[i], "invalid|icd10|ZZZ.99");
		bad_sct |= !strcmp(h.v[c].keys[i], "invalid|snomed|38341004");
		good_sct |= !strcmp(h.v[c].keys[i], "snomed|38341003");
	}
	assert_true(bad_icd && bad_sct && good_sct);
	assert_lb_ok(lb_hexa_check(&h, true, &em));
	lb_hexa_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icd10_syntax),     cmocka_unit_test(test_icd10_chapters),
		cmocka_unit_test(test_icd10_order_file), cmocka_unit_test(test_sctid),
		cmocka_unit_test(test_rf2),             cmocka_unit_test(test_code_check),
		cmocka_unit_test(test_fhir_dates),       cmocka_unit_test(test_facet_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
