/* libFuzzer harness for the FHIR R4 JSON summariser and the text profiler. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "leben/data_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_fhir_summary s;
	struct lb_errmsg em;
	if (lb_fhir_summarise((const char *)data, size, &s, &em) == LB_OK) {
		json_t *j = lb_fhir_summary_json(&s);
		json_decref(j);
		lb_fhir_summary_release(&s);
	}
	struct lb_text_profile t;
	if (lb_text_profile((const char *)data, size, &t, &em) == LB_OK)
		lb_text_profile_release(&t);
	return 0;
}
