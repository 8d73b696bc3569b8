/* libFuzzer harness for the owner's side of a study step: arbitrary bytes as the step object
 * (JSON) over a small fixed table must give either a partial of the announced length or an
 * error, never a crash; the partial is then held to a minimum cohort and masked against two
 * fixed peers, and the step is judged against fixed approved parameters of each algorithm. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/algo.h"
#include "leben/base.h"
#include "leben/study.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char csv[] = "a,b,y,t,e\n1,2,0,3,1\n2,4,1,5,0\n4,,1,7,1\n0.5,1,0,2,0\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_table t;
	if (lb_table_parse_csv(csv, sizeof csv - 1, 0, &t, NULL))
		abort();
	json_t *step = json_loadb((const char *)data, size, 0, NULL);
	double *out = NULL;
	size_t len = 0;
	if (step && lb_fed_step(&t, step, false, &out, &len, NULL) == LB_OK) {
		static const uint8_t keys[3][32] = {{1}, {2}, {3}}, pairs[3][32] = {{7}, {8}, {9}};
		uint8_t digest[32] = {0};
		uint64_t *m = lb_calloc(len ? len : 1, sizeof *m);
		if (!m)
			abort();
		(void)lb_study_partial_check(step, out, len, 2, NULL);
		(void)lb_fed_mask(out, len, 24, digest, keys[0], keys, pairs, 3, m, NULL);
		lb_free(m);
		lb_free(out);
	} else if (out)
		abort();
	static const char *const approved[][2] = {
		{"stats", "{\"columns\":[\"a\",\"b\"],\"bins\":2,\"range\":[0,4]}"},
		{"logreg", "{\"x\":[\"a\",\"b\"],\"y\":\"y\",\"standardize\":true}"},
		{"km", "{\"time\":\"t\",\"event\":\"e\",\"grid\":[3,5,7]}"},
	};
	for (size_t i = 0; step && i < 3; i++) {
		json_t *p = json_loads(approved[i][1], 0, NULL);
		unsigned rounds;
		(void)lb_study_step_allowed(approved[i][0], p, step, &rounds, NULL);
		json_decref(p);
	}
	json_decref(step);
	lb_table_release(&t);
	return 0;
}
