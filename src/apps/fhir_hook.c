/* The applications' hook on FHIR writes (include/leben/apps_fhir.h): the default does
 * nothing. */
#include "leben/apps_fhir.h"

void lb_apps_fhir_written(const struct lb_apps_fhir_write *w, const json_t *resources)
{
	(void)w;
	(void)resources;
}
