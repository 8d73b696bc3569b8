/* Ledger throughput benchmark (in-process, no network): Ed25519 verifications per second on
 * one core, the core count, then transfers from many accounts submitted in batches of 1000
 * through lb_ledger_submit + lb_ledger_commit on the settlement chain. Prints committed tx/s,
 * p50/p99 commit latency, database bytes per tx, peak RSS and the ratio of committed tx/s to
 * the verification ceiling (verify/s per core x cores).
 * Usage: bench_ledger [batches]   (default 20 batches of 1000 txs) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/tx.h"

#define BATCH 1000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double verify_rate(void)
{
	struct lb_keypair kp;
	uint8_t sig[LB_SIG_LEN], msg[32] = {1};
	uint64_t n = 0, t0 = lb_mono_ns(), t;
	lb_keypair_generate(&kp);
	lb_sign(sig, msg, sizeof msg, &kp);
	do {
		for (int i = 0; i < 200; i++)
			if (!lb_sig_is_valid(sig, msg, sizeof msg, kp.pk))
				abort();
		n += 200;
		t = lb_mono_ns() - t0;
	} while (t < 1000000000ULL);
	lb_keypair_wipe(&kp);
	return (double)n * 1e9 / (double)t;
}

static long file_size(const char *home, const char *suffix)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/chains/settlement.db%s", home, suffix);
	return stat(p, &st) == 0 ? (long)st.st_size : 0;
}

int main(int argc, char **argv)
{
	int batches = argc > 1 ? atoi(argv[1]) : 20;
	struct lb_errmsg em;
	char home[] = "/tmp/lb-bench-ledger-XXXXXX", at[LB_ADDR_TEXT_LEN + 1];
	struct lb_keypair prop, *kps;
	uint8_t seed[LB_SEED_LEN], (*addrs)[LB_ADDR_LEN];
	int rc;

	if (batches < 1 || batches > 1000 || lb_crypto_init() || lb_ledger_register_core_types())
		return 2;
	double vps = verify_rate();
	int cores = lb_ncpus();
	printf("ed25519 verify/s per core: %.0f\ncores: %d\n", vps, cores);

	if (!mkdtemp(home))
		return 1;
	kps = lb_calloc(BATCH, sizeof *kps);
	addrs = lb_calloc(BATCH, sizeof *addrs);
	if (!kps || !addrs)
		return 1;
	memset(seed, 9, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	json_t *accts = json_array();
	for (int i = 0; i < BATCH; i++) {
		memset(seed, 0, sizeof seed);
		memcpy(seed, &i, sizeof i);
		seed[31] = 0x5a;
		lb_keypair_from_seed(&kps[i], seed);
		lb_addr_from_pubkey(addrs[i], kps[i].pk);
		lb_addr_encode(at, addrs[i]);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)1000000000000LL, "csc",
						       (json_int_t)1000000000000LL));
	}
	json_t *g = json_pack("{s:s,s:i,s:[],s:{s:i},s:o}", "network", "bench", "time_ms", 1,
			      "credit_partners", "fees", "default", 1000, "accounts", accts);
	if ((rc = lb_genesis_write(home, g, &em))) {
		fprintf(stderr, "genesis: %s\n", em.text);
		return 1;
	}
	json_decref(g);
	struct lb_ledger_options o;
	struct lb_ledger *l;
	lb_ledger_options_init(&o);
	o.home = home;
	if ((rc = lb_ledger_open(&l, &o, &prop, &em))) {
		fprintf(stderr, "open: %s\n", em.text);
		return 1;
	}
	long db0 = file_size(home, "") + file_size(home, "-wal");

	struct lb_buf *raw = lb_calloc(BATCH, sizeof *raw), pl;
	const uint8_t **raws = lb_calloc(BATCH, sizeof *raws);
	size_t *lens = lb_calloc(BATCH, sizeof *lens);
	struct lb_submit_result *res = lb_calloc(BATCH, sizeof *res);
	uint64_t *lat = lb_calloc((size_t)batches, sizeof *lat), total_ns = 0, committed = 0;
	if (!raw || !raws || !lens || !res || !lat)
		return 1;
	lb_buf_init(&pl, 1024);
	for (int b = 0; b < batches; b++) {
		for (int i = 0; i < BATCH; i++) {
			struct lb_tx t;
			lb_buf_reset(&pl);
			lb_payload_transfer(&pl, addrs[(i + 1) % BATCH], LB_ASC, 1, NULL);
			memset(&t, 0, sizeof t);
			t.version = LB_TX_VERSION;
			t.chain = LB_CHAIN_SETTLEMENT;
			t.type = LB_TX_TRANSFER;
			t.nonce = (uint64_t)b;
			t.fee = 1000;
			t.payload = pl.data;
			t.payload_len = pl.len;
			lb_buf_init(&raw[i], LB_TX_MAX_BYTES);
			if (lb_tx_build(&raw[i], &t, lb_ledger_network_id(l), &kps[i], NULL))
				return 1;
			raws[i] = raw[i].data;
			lens[i] = raw[i].len;
		}
		uint64_t t0 = lb_mono_ns();
		lb_ledger_submit(l, BATCH, raws, lens, res);
		uint64_t t1 = lb_mono_ns();
		size_t ok = 0;
		for (int i = 0; i < BATCH; i++)
			if (res[i].code == LB_OK)
				raws[ok] = raws[i], lens[ok++] = lens[i];
			else if (b == 0 && i == 0)
				fprintf(stderr, "refused: %s\n", res[i].message);
		struct lb_cut cut = {LB_CHAIN_SETTLEMENT, 1000 + (uint64_t)b, ok, raws, lens};
		uint64_t h;
		if ((rc = lb_ledger_commit(l, &cut, &h, &em))) {
			fprintf(stderr, "commit: %s\n", em.text);
			return 1;
		}
		uint64_t t2 = lb_mono_ns();
		lat[b] = t2 - t1;
		total_ns += t2 - t0;
		committed += ok;
		for (int i = 0; i < BATCH; i++)
			lb_buf_release(&raw[i]);
	}
	lb_ledger_close(l);
	long db1 = file_size(home, "") + file_size(home, "-wal");
	qsort(lat, (size_t)batches, sizeof *lat, cmp_u64);
	double tps = (double)committed * 1e9 / (double)total_ns;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("committed txs: %llu in %d blocks of %d\n", (unsigned long long)committed, batches,
	       BATCH);
	printf("committed transfer tx/s (submit+commit): %.0f\n", tps);
	printf("commit latency p50: %.2f ms, p99: %.2f ms\n", (double)lat[batches / 2] / 1e6,
	       (double)lat[(batches * 99) / 100] / 1e6);
	printf("db bytes per tx: %.0f\n", committed ? (double)(db1 - db0) / (double)committed : 0);
	printf("peak RSS: %ld KiB\n", ru.ru_maxrss);
	printf("ratio committed / (verify per core x cores): %.3f\n", tps / (vps * cores));
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	if (system(cmd) != 0)
		return 1;
	for (int i = 0; i < BATCH; i++)
		lb_keypair_wipe(&kps[i]);
	lb_keypair_wipe(&prop);
	lb_free(kps);
	lb_free(addrs);
	lb_free(raw);
	lb_free(raws);
	lb_free(lens);
	lb_free(res);
	lb_free(lat);
	lb_buf_release(&pl);
	return 0;
}
