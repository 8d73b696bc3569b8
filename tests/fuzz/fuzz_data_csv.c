/* libFuzzer harness for the CSV profiler and its JSON view. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "leben/data_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_csv_profile p;
	struct lb_errmsg em;
	/* First byte picks options so delimiter/header/skip paths are all explored. */
	struct lb_csv_options o = {0, -1, 0, 0};
	if (size > 0) {
		static const char delims[] = {0, ',', ';', '\t', ' '};
		o.delimiter = delims[data[0] % 5];
		o.header = (int)(data[0] / 5 % 3) - 1;
		o.skip_rows = data[0] / 15 % 3;
		data++;
		size--;
	}
	if (lb_csv_profile((const char *)data, size, &o, &p, &em) == LB_OK) {
		json_t *j = lb_csv_profile_json(&p);
		char *s = json_dumps(j, 0);
		free(s);
		json_decref(j);
		lb_csv_profile_release(&p);
	}
	return 0;
}
