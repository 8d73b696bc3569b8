/* libFuzzer harness for the on-chain sandbox: the bytes are a program (parsed, then run over
 * fixed inputs with a 20,000-step budget and the consensus memory cap) and, separately, a
 * compute.run payload (decoded) and a compute.prepay payload (decoded, encoded back). Nothing may crash, leak or overflow; a run that succeeds
 * must report steps within its budget and memory within the cap, give the same outputs when
 * run again with exactly the steps it used, and be refused with LB_ELIMIT one step short. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/onchain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct lb_oc_result *a, const struct lb_oc_result *b)
{
	if (a->nout != b->nout || a->steps != b->steps || a->mem != b->mem)
		return false;
	for (size_t i = 0; i < a->nout; i++)
		if (strcmp(a->out[i].name, b->out[i].name) || a->out[i].is_list != b->out[i].is_list ||
		    a->out[i].n != b->out[i].n ||
		    (a->out[i].n &&
		     memcmp(a->out[i].v, b->out[i].v, a->out[i].n * sizeof *a->out[i].v)))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_errmsg em;
	struct lb_oc_run_tx tx;
	if (lb_oc_run_decode(&tx, data, size, &em) == LB_OK)
		lb_oc_run_tx_clear(&tx);
	/* a compute.prepay payload: what decodes encodes back to the same bytes */
	struct lb_oc_prepay pp;
	if (lb_oc_prepay_decode(&pp, data, size, &em) == LB_OK) {
		uint8_t back[32];
		struct lb_buf b = {.data = back, .len = 0, .cap = sizeof back - 1,
				   .max = sizeof back};
		if (pp.budget == 0 || pp.budget > LB_OC_STEPS_MAX ||
		    (pp.has_expiry && (pp.expiry_s < LB_OC_EXPIRY_MIN_S ||
				       pp.expiry_s > LB_OC_EXPIRY_MAX_S)) ||
		    lb_oc_prepay_encode(&b, &pp) || b.len != size || memcmp(back, data, size))
			abort();
	}

	struct lb_oc_program *p = NULL;
	if (lb_oc_parse((const char *)data, size, &p, &em))
		return 0;
	int64_t x = 7, y = -3, xs[5] = {1, 2, 3, 40, -5};
	struct lb_oc_value in[3] = {{.name = "x", .v = &x, .n = 1},
				    {.name = "y", .v = &y, .n = 1},
				    {.name = "xs", .is_list = true, .v = xs, .n = 5}};
	struct lb_oc_result r1, r2;
	int rc = lb_oc_run(p, in, 3, 20000, LB_OC_MEM_MAX, &r1, &em);
	if (rc == LB_OK) {
		if (r1.steps > 20000 || r1.mem > LB_OC_MEM_MAX)
			abort();
		if (lb_oc_run(p, in, 3, r1.steps, LB_OC_MEM_MAX, &r2, &em) || !same(&r1, &r2))
			abort();
		lb_oc_result_clear(&r2);
		if (r1.steps > 0 &&
		    lb_oc_run(p, in, 3, r1.steps - 1, LB_OC_MEM_MAX, &r2, &em) != LB_ELIMIT)
			abort();
		lb_oc_result_clear(&r1);
	} else if (r1.out || r1.nout) {
		abort();
	}
	lb_oc_program_free(p);
	return 0;
}
