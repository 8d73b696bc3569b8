/*
 * Knowledge benchmark (make bench-knowledge): full executions per second of the sepsis
 * screening contract (new session, answer four questions, run to the end, free) with the
 * trace read as JSON lines, with the trace recorded, and without a trace; and the
 * verifier's states explored per second and peak memory on the CHD screening and
 * hypertension contracts, all in CPU time of the process. Figures are printed, never asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leben/base.h"
#include "leben/knowledge.h"

/* CPU time of this process in ns: on a shared machine it depends far less on other load
 * than wall-clock time, and the JavaScript reference is measured the same way. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct lb_kn_model *load(const char *root, const char *rel)
{
	char path[1024];
	struct lb_kn_model *m;
	struct lb_errmsg em;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (lb_kn_model_load(path, &m, &em) != LB_OK) {
		fprintf(stderr, "bench_knowledge: %s\n", em.text);
		exit(1);
	}
	return m;
}

int main(void)
{
	const char *root = getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
	struct lb_errmsg em;
	uint64_t t0, el;
	struct lb_kn_model *m = load(root, "examples/contracts/sepsis.pf");
	static const char *const ans[][2] = { { "suspected_infection", "true" },
					      { "resp_rate", "24" },
					      { "altered_mentation", "false" },
					      { "sbp", "98" } };
	/* mode 2: trace recorded and read as JSON lines at the end of each execution;
	 * 1: trace recorded (formatted only if read); 0: no trace */
	static const char *const mode_name[] = { "no trace", "with trace",
						 "with trace read as JSON" };
	for (int mode = 2; mode >= 0; mode--) {
	int tracing = mode > 0;
	size_t runs = 0, high = 0;
	t0 = cpu_ns();
	do {
		for (int k = 0; k < 1000; k++) {
			struct lb_kn_session *s;
			if (lb_kn_session_new(m, 19800, &s, &em) != LB_OK)
				return 1;
			lb_kn_session_set_tracing(s, tracing);
			lb_kn_session_run(s, &em);
			for (size_t i = 0; i < 4; i++) {
				lb_kn_session_add_text(s, ans[i][0], ans[i][1], NULL, 0, &em);
				lb_kn_session_run(s, &em);
			}
			high += lb_kn_session_is_finished(s);
			if (mode == 2) {
				size_t tl;
				lb_kn_session_trace(s, &tl);
				high -= tl == 0; /* an empty trace would not count as finished */
			}
			lb_kn_session_free(s);
			runs++;
		}
		el = cpu_ns() - t0;
	} while (el < 2000000000ull);
	printf("knowledge engine: %zu full executions of sepsis_screen (%s) in %.2f s of CPU = %.0f "
	       "executions/s (%zu finished)\n",
	       runs, mode_name[mode], el / 1e9, runs / (el / 1e9), high);
	}
	lb_kn_model_free(m);

	static const char *const files[] = { "examples/contracts/chd_screening.pf",
					     "examples/contracts/hypertension.pf" };
	for (size_t f = 0; f < 2; f++) {
		m = load(root, files[f]);
		struct lb_kn_check_stats st = { 0 };
		size_t states = 0, reps = 0, failures;
		t0 = cpu_ns();
		do {
			char *rep;
			if (lb_kn_check(m, NULL, &rep, &failures, &st, &em) != LB_OK) {
				fprintf(stderr, "bench_knowledge: %s\n", em.text);
				return 1;
			}
			lb_free(rep);
			states += st.states;
			reps++;
			el = cpu_ns() - t0;
		} while (el < 1000000000ull);
		printf("verifier: %s: %zu states, %zu transitions per check; %.0f states/s; peak "
		       "memory %.1f MiB\n",
		       lb_kn_model_name(m), st.states, st.transitions, states / (el / 1e9),
		       st.peak_memory / 1048576.0);
		lb_kn_model_free(m);
	}
	return 0;
}
