/* libFuzzer harness for the provenance frame the sandbox's jailed child sends to the executor
 * (lb_provenance_decode): arbitrary bytes must never crash the decoder; an accepted frame has
 * strictly increasing keys in every set and every cell names an existing set; the release check
 * (lb_policy_release, with an in-memory release history, recording and checking again) then
 * runs on it over a small result without crashing, and never releases a value of a set with
 * 0 < n < min_cohort records that is not suppressed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_provenance *pv;
	if (lb_provenance_decode(data, size, &pv, NULL) != 0)
		return 0;
	for (size_t i = 0; i < pv->nsets; i++)
		for (size_t j = 1; j < pv->sets[i].n; j++)
			if (pv->sets[i].keys[j] <= pv->sets[i].keys[j - 1])
				abort();
	for (size_t i = 0; i < pv->ncells; i++)
		if (pv->cells[i].set >= pv->nsets || !pv->cells[i].ptr || !pv->cells[i].colkey)
			abort();
	struct lb_policy p;
	lb_policy_default(&p);
	p.min_cohort = pv->min_cohort < 50 ? pv->min_cohort : 50;
	json_t *r = json_loads("{\"a\":1,\"b\":[1,2,null],\"c\":{\"d\":null}}", 0, NULL);
	struct lb_release_history *h = NULL;
	if (lb_release_history_open(NULL, &h, NULL) == 0) {
		struct lb_release_opts o = {.history = h, .user = "u", .asset = "a"};
		for (int round = 0; round < 2; round++) {
			struct lb_release rel;
			lb_policy_release(&p, r, pv, &o, &rel, NULL);
			if (rel.released)
				for (size_t i = 0; i < pv->ncells; i++) {
					const struct lb_prov_cell *c = &pv->cells[i];
					size_t n = pv->sets[c->set].n;
					if ((c->flags & (LB_PROV_PLACED | LB_PROV_READ)) && !(c->flags & LB_PROV_SUPPRESSED) &&
					    c->kind != LB_PROV_LABEL && n > 0 && n < p.min_cohort)
						abort();
				}
			lb_release_release(&rel);
		}
		lb_release_history_close(h);
	}
	json_decref(r);
	lb_provenance_free(pv);
	return 0;
}
