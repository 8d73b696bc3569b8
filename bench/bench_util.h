/* Helpers shared by the ledger and node benchmarks: CPU clocks, the Ed25519 verification
 * rate that serves as their reference, and funded genesis accounts. Header-only (each bench
 * is one program built from its own .c file). */
#ifndef LEBEN_BENCH_UTIL_H
#define LEBEN_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"

/* CPU time of clock id (CLOCK_THREAD_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID) in ns. */
static inline uint64_t bench_cpu_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Ed25519 verifications per second of wall time over one second, and (*per_cpu_s) per
 * second of this thread's CPU time (the latter does not drop when other programs share the
 * cores). */
static inline double bench_verify_rate(double *per_cpu_s)
{
	struct lb_keypair kp;
	uint8_t sig[LB_SIG_LEN], msg[32] = {1};
	uint64_t n = 0, t0 = lb_mono_ns(), c0 = bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID), t;
	lb_keypair_generate(&kp);
	lb_sign(sig, msg, sizeof msg, &kp);
	do {
		for (int i = 0; i < 200; i++)
			if (!lb_sig_is_valid(sig, msg, sizeof msg, kp.pk))
				abort();
		n += 200;
		t = lb_mono_ns() - t0;
	} while (t < 1000000000ULL);
	*per_cpu_s = (double)n * 1e9 / (double)(bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
	lb_keypair_wipe(&kp);
	return (double)n * 1e9 / (double)t;
}

/* Ed25519 signatures per second through lb_sigs_are_valid in batches of batch_n (distinct
 * keys and messages, as in a POST /v1/txs batch), over about one second of wall time, and
 * (*per_cpu_s) per second of this thread's CPU time; the same clocks as bench_verify_rate. */
static inline double bench_batch_verify_rate(size_t batch_n, double *per_cpu_s)
{
	struct lb_sig_item *it = calloc(batch_n, sizeof *it);
	uint8_t(*sig)[LB_SIG_LEN] = calloc(batch_n, LB_SIG_LEN);
	uint8_t(*pk)[LB_PUBKEY_LEN] = calloc(batch_n, LB_PUBKEY_LEN);
	uint8_t(*msg)[32] = calloc(batch_n, 32);
	bool *ok = calloc(batch_n, sizeof *ok);
	if (!it || !sig || !pk || !msg || !ok)
		abort();
	for (size_t i = 0; i < batch_n; i++) {
		struct lb_keypair kp;
		lb_keypair_generate(&kp);
		randombytes_buf(msg[i], 32);
		lb_sign(sig[i], msg[i], 32, &kp);
		memcpy(pk[i], kp.pk, LB_PUBKEY_LEN);
		lb_keypair_wipe(&kp);
		it[i] = (struct lb_sig_item){sig[i], pk[i], msg[i], 32};
	}
	uint64_t n = 0, t0 = lb_mono_ns(), c0 = bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID), t;
	do {
		if (!lb_sigs_are_valid(it, batch_n, ok))
			abort();
		n += batch_n;
		t = lb_mono_ns() - t0;
	} while (t < 1000000000ULL);
	*per_cpu_s = (double)n * 1e9 / (double)(bench_cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
	free(it);
	free(sig);
	free(pk);
	free(msg);
	free(ok);
	return (double)n * 1e9 / (double)t;
}

/* n accounts from seeds (index i in the first bytes, tag in the last byte) into kps and
 * addrs, each funded with 10^12 micro-ASC and micro-CSC: the "accounts" list of a genesis
 * (new reference). */
static inline json_t *bench_accounts(struct lb_keypair *kps, uint8_t (*addrs)[LB_ADDR_LEN],
				     int n, uint8_t tag)
{
	json_t *accts = json_array();
	char at[LB_ADDR_TEXT_LEN + 1];
	uint8_t seed[LB_SEED_LEN];
	for (int i = 0; i < n; i++) {
		memset(seed, 0, sizeof seed);
		memcpy(seed, &i, sizeof i);
		seed[LB_SEED_LEN - 1] = tag;
		lb_keypair_from_seed(&kps[i], seed);
		lb_addr_from_pubkey(addrs[i], kps[i].pk);
		lb_addr_encode(at, addrs[i]);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)1000000000000LL, "csc",
						       (json_int_t)1000000000000LL));
	}
	return accts;
}

/* The load averages of /proc/loadavg (1, 5, 15 minutes); zeros if unreadable. */
static inline void bench_loadavg(double la[3])
{
	la[0] = la[1] = la[2] = 0;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
			la[0] = la[1] = la[2] = 0;
		fclose(f);
	}
}

#endif
