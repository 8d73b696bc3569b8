/*
 * Exchange benchmark (make bench-exchange): sandbox start-to-result overhead for an empty
 * algorithm (against a bare fork + wait and the same call in-process), rows per second of
 * descriptive statistics on 1,000,000 generated rows inside the sandbox (against the same parse
 * and statistics in-process) with the sandbox's peak memory under its own limit, federated
 * logistic regression across 3 owners (secure aggregation and plain sums) against the same fit
 * centralised, and secure aggregation against plain summing. Figures are printed, never
 * asserted.
 */
#define _GNU_SOURCE
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leben/algo.h"
#include "leben/base.h"
#include "leben/sandbox.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int empty_fn(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env, (void)em;
	*result = json_pack("{si}", "n", 0);
	return LB_OK;
}

static void die(const char *what, const struct lb_errmsg *em)
{
	fprintf(stderr, "bench_exchange: %s: %s\n", what, em->text);
	exit(1);
}

/* median of k runs of f in ms */
#define RUNS 15

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static uint64_t xs = 88172645463325252ull;
static double urand(void)
{
	xs ^= xs << 13;
	xs ^= xs >> 7;
	xs ^= xs << 17;
	return (double)(xs >> 11) * 0x1.0p-53;
}

int main(void)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	uint64_t t[RUNS];

	/* ---- 1. start-to-result overhead ---- */
	for (int i = 0; i < RUNS; i++) {
		uint64_t t0 = lb_mono_ns();
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		waitpid(p, NULL, 0);
		t[i] = lb_mono_ns() - t0;
	}
	qsort(t, RUNS, sizeof t[0], cmp_u64);
	double fork_ms = ms(t[RUNS / 2]);
	double netns_ms = -1;
	if (geteuid() == 0) {
		for (int i = 0; i < RUNS; i++) {
			uint64_t t0 = lb_mono_ns();
			pid_t p = fork();
			if (p == 0)
				_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
			waitpid(p, NULL, 0);
			t[i] = lb_mono_ns() - t0;
		}
		qsort(t, RUNS, sizeof t[0], cmp_u64);
		netns_ms = ms(t[RUNS / 2]);
	}
	struct lb_sandbox_job job;
	memset(&job, 0, sizeof job);
	job.fn = empty_fn;
	struct lb_sandbox_report rep;
	for (int i = 0; i < RUNS; i++) {
		if (lb_sandbox_run(&job, &rep, &em))
			die("empty run", &em);
		t[i] = rep.wall_ns;
		lb_sandbox_report_release(&rep);
	}
	qsort(t, RUNS, sizeof t[0], cmp_u64);
	double sbx_ms = ms(t[RUNS / 2]);
	uint64_t t0 = lb_mono_ns();
	json_t *r;
	for (int i = 0; i < 1000; i++) {
		empty_fn(NULL, NULL, &r, &em);
		json_decref(r);
	}
	double inproc_us = (double)(lb_mono_ns() - t0) / 1000.0 / 1000.0;
	printf("sandbox start-to-result, empty algorithm (median of %d): %.2f ms\n", RUNS, sbx_ms);
	printf("  reference: bare fork + wait %.2f ms; fork + unshare(CLONE_NEWNET) %s%.2f ms; same call in-process %.2f us\n",
	       fork_ms, netns_ms < 0 ? "(not root) " : "", netns_ms < 0 ? 0 : netns_ms, inproc_us);

	/* ---- 2. descriptive statistics on 1,000,000 rows ---- */
	const size_t ROWS = 1000000;
	struct lb_buf csv;
	lb_buf_init(&csv, (size_t)1 << 30);
	lb_buf_adds(&csv, "age,sbp,chol\n");
	for (size_t i = 0; i < ROWS; i++)
		lb_buf_addf(&csv, "%d,%.1f,%.2f\n", 18 + (int)(urand() * 70), 100 + urand() * 80, 3 + urand() * 5);
	memset(&job, 0, sizeof job);
	job.algorithm = "stats";
	job.input.data = csv.data;
	job.input.len = csv.len;
	job.limits.memory = 512ull << 20;
	job.limits.cpu_ms = 120000;
	job.limits.wall_ms = 300000;
	if (lb_sandbox_run(&job, &rep, &em))
		die("stats on 1M rows", &em);
	double sb_s = (double)rep.wall_ns / 1e9;
	uint64_t peak = rep.peak_rss;
	lb_sandbox_report_release(&rep);
	t0 = lb_mono_ns();
	struct lb_table tab;
	if (lb_table_parse_csv((const char *)csv.data, csv.len, 0, &tab, &em))
		die("parse", &em);
	uint64_t parse_ns = lb_mono_ns() - t0;
	struct lb_algo_ctx ctx = {0};
	if (lb_algo_find("stats")->run(&tab, NULL, &ctx, &r, &em))
		die("stats", &em);
	json_decref(r);
	double ip_s = (double)(lb_mono_ns() - t0) / 1e9;
	printf("descriptive statistics, %zu rows x 3 columns (%.1f MB of CSV), in the sandbox: %.0f rows/s (%.2f s)\n",
	       ROWS, (double)csv.len / 1e6, (double)ROWS / sb_s, sb_s);
	printf("  reference: same parse + statistics in-process %.0f rows/s (%.2f s, of which parsing %.2f s)\n",
	       (double)ROWS / ip_s, ip_s, (double)parse_ns / 1e9);
	printf("sandbox peak resident memory in the 1M-row run: %.1f MiB (its address-space limit: %llu MiB, held)\n",
	       (double)peak / 1048576.0, (unsigned long long)(job.limits.memory >> 20));
	lb_table_release(&tab);
	lb_buf_release(&csv);

	/* ---- 3. federated logistic regression, 3 owners, vs central ---- */
	const size_t LR = 150000, P = 10;
	struct lb_buf parts[3], all;
	lb_buf_init(&all, (size_t)1 << 30);
	for (int k = 0; k < 3; k++)
		lb_buf_init(&parts[k], (size_t)1 << 30);
	char hdr[256] = "";
	for (size_t j = 0; j < P; j++)
		snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "x%zu,", j);
	strcat(hdr, "y\n");
	lb_buf_adds(&all, hdr);
	for (int k = 0; k < 3; k++)
		lb_buf_adds(&parts[k], hdr);
	for (size_t i = 0; i < LR; i++) {
		char row[512] = "";
		double eta = -0.5;
		for (size_t j = 0; j < P; j++) {
			double x = urand() * 4 - 2;
			eta += x * ((double)j / P - 0.4);
			snprintf(row + strlen(row), sizeof row - strlen(row), "%.4f,", x);
		}
		snprintf(row + strlen(row), sizeof row - strlen(row), "%d\n", urand() < 1 / (1 + exp(-eta)));
		lb_buf_adds(&all, row);
		lb_buf_adds(&parts[i % 3], row);
	}
	struct lb_table ta, tp[3];
	struct lb_fed_owner ow[3];
	if (lb_table_parse_csv((const char *)all.data, all.len, 0, &ta, &em))
		die("parse", &em);
	for (int k = 0; k < 3; k++) {
		if (lb_table_parse_csv((const char *)parts[k].data, parts[k].len, 0, &tp[k], &em))
			die("parse", &em);
		ow[k].name = "owner";
		ow[k].table = &tp[k];
	}
	json_t *params = json_array();
	for (size_t j = 0; j < P; j++) {
		char nm[16];
		snprintf(nm, sizeof nm, "x%zu", j);
		json_array_append_new(params, json_string(nm));
	}
	json_t *pp = json_pack("{ss so sb sf}", "y", "y", "x", params, "standardize", 1, "tol", 1e-6);
	t0 = lb_mono_ns();
	if (lb_algo_find("logreg")->run(&ta, pp, &ctx, &r, &em))
		die("central logreg", &em);
	double central_ms = ms(lb_mono_ns() - t0);
	long cit = (long)json_integer_value(json_object_get(r, "iterations"));
	json_decref(r);
	struct lb_fed_options so = {.secure = true}, po = {.secure = false};
	struct lb_fed_stats sst = {0}, pst = {0};
	t0 = lb_mono_ns();
	if (lb_fed_run("logreg", ow, 3, pp, &ctx, &so, &r, &sst, &em))
		die("federated logreg", &em);
	double fed_ms = ms(lb_mono_ns() - t0);
	json_decref(r);
	t0 = lb_mono_ns();
	if (lb_fed_run("logreg", ow, 3, pp, &ctx, &po, &r, &pst, &em))
		die("federated logreg (plain)", &em);
	double fedp_ms = ms(lb_mono_ns() - t0);
	json_decref(r);
	json_decref(pp);
	printf("logistic regression, %zu rows x %zu features, standardised, Newton:\n", LR, P);
	printf("  centralised: %.1f ms (%ld iterations)\n", central_ms, cit);
	printf("  federated, 3 owners, secure aggregation: %.1f ms (%u rounds; owners' local work %.1f ms, aggregation %.1f ms) = %.2fx central\n",
	       fed_ms, sst.rounds, ms(sst.local_ns), ms(sst.aggregate_ns), fed_ms / central_ms);
	printf("  federated, 3 owners, plain sums: %.1f ms (%u rounds) = %.2fx central\n", fedp_ms, pst.rounds,
	       fedp_ms / central_ms);
	lb_table_release(&ta);
	for (int k = 0; k < 3; k++) {
		lb_table_release(&tp[k]);
		lb_buf_release(&parts[k]);
	}
	lb_buf_release(&all);

	/* ---- 4. secure aggregation vs plain summing ---- */
	size_t lens[] = {100, 10000, 1000000};
	for (size_t li = 0; li < 3; li++) {
		size_t len = lens[li];
		double *v[3], *sum = lb_malloc(len * sizeof *sum);
		for (int k = 0; k < 3; k++) {
			v[k] = lb_malloc(len * sizeof **v);
			for (size_t j = 0; j < len; j++)
				v[k][j] = urand() * 1000;
		}
		int reps = len >= 1000000 ? 3 : 20;
		t0 = lb_mono_ns();
		for (int i = 0; i < reps; i++)
			if (lb_fed_sum((const double *const *)v, 3, len, &so, sum, NULL, &em))
				die("secure sum", &em);
		double s_ms = ms(lb_mono_ns() - t0) / reps;
		t0 = lb_mono_ns();
		for (int i = 0; i < reps * 100; i++)
			if (lb_fed_sum((const double *const *)v, 3, len, &po, sum, NULL, &em))
				die("plain sum", &em);
		double p_ms = ms(lb_mono_ns() - t0) / (reps * 100);
		printf("secure aggregation, 3 owners, %zu values: %.3f ms vs plain summing %.4f ms (%.0fx)\n", len, s_ms,
		       p_ms, s_ms / p_ms);
		for (int k = 0; k < 3; k++)
			lb_free(v[k]);
		lb_free(sum);
	}
	return 0;
}
