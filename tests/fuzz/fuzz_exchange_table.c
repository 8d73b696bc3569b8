/* libFuzzer harness for the exchange's CSV table reader and the release-policy parser:
 * arbitrary bytes must never crash them; an accepted table has consistent shape (every
 * categorical value indexes a level, the revoked-consent filter keeps rows + dropped = rows),
 * and the built-in stats, crosstab and km run on it with derived parameters return either a
 * result, which the default policy then judges, or an error code. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/algo.h"
#include "leben/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_policy pol;
	lb_policy_default(&pol);
	(void)lb_policy_parse((const char *)data, size, &pol, NULL);

	struct lb_table t;
	if (lb_table_parse_csv((const char *)data, size, 2000, &t, NULL) != 0)
		return 0;
	for (size_t c = 0; c < t.ncols; c++)
		for (size_t r = 0; r < t.nrows; r++) {
			double v = t.cols[c].v[r];
			if (t.cols[c].kind == LB_COL_CATEGORICAL && !isnan(v) && !(v >= 0 && v < (double)t.cols[c].nlevels))
				abort();
		}
	if (t.ncols > 0) { /* revoked-consent filter: shape stays consistent */
		static const char *const ids[] = {"1", "a", ""};
		size_t before = t.nrows, gone = 0;
		if (lb_table_drop_rows(&t, 0, ids, 3, &gone, NULL) != 0 || t.nrows + gone != before)
			abort();
	}
	if (t.ncols > 0 && t.nrows < 300) {
		json_t *p = json_object();
		json_object_set_new(p, "rows", json_string(t.cols[0].name));
		json_object_set_new(p, "cols", json_string(t.cols[t.ncols - 1].name));
		json_object_set_new(p, "time", json_string(t.cols[0].name));
		json_object_set_new(p, "event", json_string(t.cols[t.ncols - 1].name));
		const char *names[] = {"stats", "crosstab", "km"};
		for (size_t i = 0; i < 3; i++) {
			json_t *q = json_object();
			if (i == 1)
				json_object_update(q, p), json_object_del(q, "time"), json_object_del(q, "event");
			if (i == 2)
				json_object_update(q, p), json_object_del(q, "rows"), json_object_del(q, "cols");
			json_t *res = NULL;
			struct lb_algo_ctx ctx = {.min_cohort = (unsigned)(size % 4)}; /* suppression, coarsening */
			if (lb_algo_find(names[i])->run(&t, q, &ctx, &res, NULL) == 0) {
				struct lb_release rel;
				lb_policy_apply(&pol, res, NULL, NULL, NULL, &rel, NULL);
				lb_release_release(&rel);
				json_decref(res);
			}
			json_decref(q);
		}
		json_decref(p);
	}
	lb_table_release(&t);
	return 0;
}
