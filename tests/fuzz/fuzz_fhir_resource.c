/*
 * Fuzz the FHIR resource parsers: JSON text -> lb_fhir_validate (every element walked,
 * dates, references, codes) -> lb_fhir_patient_of, and lb_fhir_summarise over the same bytes
 * (the data layer's Bundle summary), and the date search-value parser on the text as a string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/data_extract.h"
#include "leben/fhir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_errmsg em;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (j) {
		char expr[300];
		size_t n = 0;
		lb_fhir_validate(j, expr, sizeof expr, &em);
		lb_fhir_patient_of(j, &n);
		json_decref(j);
	}
	struct lb_fhir_summary s;
	if (!lb_fhir_summarise((const char *)data, size, &s, &em))
		lb_fhir_summary_release(&s);
	if (size < 64) {
		char text[64];
		memcpy(text, data, size);
		text[size] = 0;
		struct lb_fhir_date_cond c;
		lb_fhir_date_cond_parse(text, &c, &em);
	}
	return 0;
}
