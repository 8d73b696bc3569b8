/*
 * Checking medical codes where they are found (FHIR codings, the semantic facet): which
 * system a FHIR system URI names, whether a SNOMED CT concept id or an ICD-10 code is well
 * formed (and exists, when the user loaded a code table), and the semantic.codes entry that
 * keeps an invalid code visible as "invalid|system|code" instead of dropping it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "leben/data_coding.h"

enum lb_code_system lb_code_system_of(const char *s)
{
	if (!s)
		return LB_CODE_OTHER;
	if (!strcmp(s, "snomed") || !strncmp(s, "http://snomed.info/sct", 22) ||
	    !strcmp(s, "urn:oid:2.16.840.1.113883.6.96"))
		return LB_CODE_SNOMED;
	if (!strcmp(s, "icd10cm") || !strcmp(s, "http://hl7.org/fhir/sid/icd-10-cm") ||
	    !strcmp(s, "urn:oid:2.16.840.1.113883.6.90"))
		return LB_CODE_ICD10CM;
	if (!strcmp(s, "icd10") || !strcmp(s, "http://hl7.org/fhir/sid/icd-10") ||
	    !strcmp(s, "urn:oid:2.16.840.1.113883.6.3"))
		return LB_CODE_ICD10;
	return LB_CODE_OTHER;
}

const char *lb_code_system_name(enum lb_code_system sys)
{
	switch (sys) {
	case LB_CODE_ICD10:
		return "icd10";
	case LB_CODE_ICD10CM:
		return "icd10cm";
	case LB_CODE_SNOMED:
		return "snomed";
	default:
		return NULL;
	}
}

static int check_snomed(const char *code, const struct lb_code_tables *t, struct lb_errmsg *em)
{
	size_t n = strlen(code);
	if (n < 6 || n > 18)
		return lb_errf(em, LB_ESYNTAX,
			       "SNOMED CT \"%.24s\": an identifier has 6 to 18 digits, not %zu", code, n);
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)code[i]))
			return lb_errf(em, LB_ESYNTAX,
				       "SNOMED CT \"%.24s\": character %zu is not a digit", code, i + 1);
	if (code[0] == '0')
		return lb_errf(em, LB_ESYNTAX, "SNOMED CT \"%s\": an identifier has no leading zero",
			       code);
	char body[19];
	memcpy(body, code, n - 1);
	body[n - 1] = 0;
	int want = lb_verhoeff_digit(body);
	if (want != code[n - 1] - '0')
		return lb_errf(em, LB_ECHECKSUM,
			       "SNOMED CT %s: check digit %c is wrong (the Verhoeff check digit of %s "
			       "is %d): a typing error?",
			       code, code[n - 1], body, want);
	int fmt = code[n - 3] - '0', part = code[n - 2] - '0';
	if (fmt > 1 || part > 2 || (fmt == 1 && n < 11))
		return lb_errf(em, LB_EINVALID,
			       "SNOMED CT %s: partition identifier %c%c is not one of 00, 01, 02, 10, "
			       "11, 12",
			       code, code[n - 3], code[n - 2]);
	if (part != 0)
		return lb_errf(em, LB_EINVALID,
			       "SNOMED CT %s: partition %c%c is a %s identifier, not a concept", code,
			       code[n - 3], code[n - 2], part == 1 ? "description" : "relationship");
	if (t && t->snomed) {
		unsigned long long id = strtoull(code, NULL, 10);
		bool active = false;
		if (!lb_snomed_concept(t->snomed, (uint64_t)id, &active))
			return lb_errf(em, LB_ENOTFOUND,
				       "SNOMED CT %s is not a concept of the loaded release", code);
		if (!active)
			return lb_errf(em, LB_EINVALID,
				       "SNOMED CT %s is inactive in the loaded release", code);
	}
	return LB_OK;
}

int lb_code_check(enum lb_code_system sys, const char *code, const struct lb_code_tables *t,
		  struct lb_errmsg *em)
{
	if (!code || !*code)
		return lb_errf(em, LB_ESYNTAX, "the code is empty");
	switch (sys) {
	case LB_CODE_SNOMED:
		return check_snomed(code, t, em);
	case LB_CODE_ICD10:
	case LB_CODE_ICD10CM: {
		int rc = lb_icd10_check(code, sys == LB_CODE_ICD10CM, em);
		if (rc)
			return rc;
		if (t && t->icd10cm && !lb_icd10_table_find(t->icd10cm, code, NULL))
			return lb_errf(em, LB_ENOTFOUND,
				       "ICD-10 code %.12s is not in the loaded code table", code);
		return LB_OK;
	}
	default:
		return LB_OK;
	}
}

int lb_code_facet_entry(enum lb_code_system sys, const char *code, const struct lb_code_tables *t,
			char *out, size_t cap)
{
	const char *name = lb_code_system_name(sys);
	if (!name)
		return LB_ENOTFOUND;
	char norm[10];
	bool ok = lb_code_check(sys, code, t, NULL) == LB_OK;
	if (ok && sys != LB_CODE_SNOMED && !lb_icd10_normalise(code, sys == LB_CODE_ICD10CM, norm))
		code = norm;
	snprintf(out, cap, "%s%s|%s", ok ? "" : "invalid|", name, code);
	return LB_OK;
}
