/* libFuzzer harness for the FHIR R4 JSON summariser, the FHIR and text audits and the text
 * profiler. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "leben/data_audit.h"
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
	struct lb_asset_audit a;
	if (lb_audit_fhir((const char *)data, size, &a, &em) == LB_OK) {
		if (a.score > 10000)
			abort();
		json_decref(lb_asset_audit_json(&a));
	}
	lb_audit_text((const char *)data, size, &a);
	if (a.score > 10000)
		abort();
	struct lb_text_profile t;
	if (lb_text_profile((const char *)data, size, &t, &em) == LB_OK)
		lb_text_profile_release(&t);
	return 0;
}
