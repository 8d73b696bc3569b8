/* On-chain sandbox benchmark: evaluation speed of the integer language (steps per second of
 * this thread's CPU time) on a scalar program (arithmetic, muldiv, comparisons) and a list
 * program (range, countge, sum, split), the parse time of a 16 KiB program, and as the
 * reference measured in the same run the Ed25519 verification rate, so the cost of a run at
 * the largest budget (10^6 steps) is also given in signature verifications. */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "leben/onchain.h"

static double steps_per_s(const char *prog, uint64_t *steps_out)
{
	struct lb_oc_program *p;
	struct lb_errmsg em;
	if (lb_oc_parse(prog, strlen(prog), &p, &em)) {
		fprintf(stderr, "bench_onchain: %s\n", em.text);
		exit(1);
	}
	uint64_t steps = 0, runs = 0, c0 = bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID), c;
	do {
		struct lb_oc_result r;
		if (lb_oc_run(p, NULL, 0, LB_OC_STEPS_MAX, LB_OC_MEM_MAX, &r, &em)) {
			fprintf(stderr, "bench_onchain: %s\n", em.text);
			exit(1);
		}
		steps += r.steps;
		*steps_out = r.steps;
		lb_oc_result_clear(&r);
		runs++;
		c = bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	} while (c < 1000000000ull);
	lb_oc_program_free(p);
	return (double)steps / ((double)c / 1e9);
}

int main(void)
{
	if (lb_crypto_init())
		return 1;
	static char scalar[LB_OC_PROGRAM_MAX];
	size_t n = (size_t)snprintf(scalar, sizeof scalar, "let v0 = 12345\n");
	for (int i = 1; n + 80 < sizeof scalar; i++)
		n += (size_t)snprintf(scalar + n, sizeof scalar - n,
				      "let v%d = if v%d > 500 then muldiv(v%d, 7, 3) %% 100003 else v%d * 2 + 1\n",
				      i, i - 1, i - 1, i - 1);
	n += (size_t)snprintf(scalar + n, sizeof scalar - n, "out x = 1\n");
	const char *lists = "let r = range(10000)\nout big = countge(r, 5000)\n"
			    "out s = sum(r)\nout sh = split(1000003, [5, 3, 2, 7, 1])\n";
	uint64_t s1, s2;
	double r1 = steps_per_s(scalar, &s1), r2 = steps_per_s(lists, &s2);
	/* parse time of the 16 KiB scalar program */
	uint64_t c0 = bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID), parses = 0, c;
	do {
		struct lb_oc_program *p;
		struct lb_errmsg em;
		if (lb_oc_parse(scalar, strlen(scalar), &p, &em))
			return 1;
		lb_oc_program_free(p);
		parses++;
		c = bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	} while (c < 500000000ull);
	double cpu_verify;
	bench_verify_rate(&cpu_verify);
	double worst = (double)LB_OC_STEPS_MAX / (r1 < r2 ? r1 : r2);
	printf("onchain scalar program: %.1f M steps/s (%llu steps a run, %zu bytes)\n", r1 / 1e6,
	       (unsigned long long)s1, strlen(scalar));
	printf("onchain list program: %.1f M steps/s (%llu steps a run)\n", r2 / 1e6,
	       (unsigned long long)s2);
	printf("onchain parse of a %zu-byte program: %.1f us\n", strlen(scalar),
	       (double)c / 1e3 / (double)parses);
	printf("reference ed25519 verify: %.0f /s (CPU)\n", cpu_verify);
	printf("onchain run at the largest budget (%u steps): %.1f ms = %.0f signature "
	       "verifications\n",
	       (unsigned)LB_OC_STEPS_MAX, worst * 1e3, worst * cpu_verify);
	return 0;
}
