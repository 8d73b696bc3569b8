/* The cohort application as FHIR R4 resources (include/leben/apps_fhir.h): what `leben cohort
 * status --fhir` prints and what /fhir serves as ResearchStudy and ResearchSubject. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/apps_fhir.h"

json_t *lb_cohort_fhir_study(const json_t *st)
{
	const char *s = json_string_value(json_object_get(st, "status"));
	const json_t *p = json_object_get(st, "protocol");
	const char *fs = !s ? "in-review"
		       : !strcmp(s, "completed") ? "completed"
		       : !strcmp(s, "approved")  ? "active"
						 : "in-review";
	json_t *r = json_pack("{s:s,s:O,s:[{s:s,s:O}],s:O,s:s,s:s,s:{s:O},s:[{s:s}],s:{s:s}}",
			      "resourceType", "ResearchStudy", "id", json_object_get(st, "cohort"),
			      "identifier", "system", "urn:leben:cohort", "value",
			      json_object_get(st, "cohort"), "title", json_object_get(p, "title"),
			      "status", fs, "description",
			      "Cohort study under ethical review on the LEBEN business chain",
			      "sponsor", "display", json_object_get(st, "sponsor"), "keyword", "text",
			      "cohort", "phase", "text", "n-a");
	char *crit = json_dumps(json_object_get(p, "criteria"), JSON_COMPACT | JSON_SORT_KEYS);
	if (r && crit)
		json_object_set_new(r, "note", json_pack("[{s:s}]", "text", crit));
	free(crit);
	return r;
}

json_t *lb_cohort_fhir_subject(const char *id, const char *cohort, const char *asset,
			       const char *commitment, const json_t *record)
{
	const char *s = json_string_value(json_object_get(record, "status"));
	char ref[100];
	snprintf(ref, sizeof ref, "ResearchStudy/%.64s", cohort);
	json_t *r = json_pack("{s:s,s:s,s:s,s:{s:s},s:{s:{s:s,s:s}}}", "resourceType",
			      "ResearchSubject", "id", id, "status",
			      s && !strcmp(s, "in") ? "on-study" : "withdrawn", "study", "reference",
			      ref, "individual", "identifier", "system",
			      "urn:leben:patient-commitment", "value", commitment);
	if (r && asset)
		json_object_set_new(r, "identifier",
				    json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "system",
					      "urn:leben:cohort", "value", cohort, "system",
					      "urn:leben:asset", "value", asset, "system",
					      "urn:leben:patient-commitment", "value", commitment));
	return r;
}
