/* Ledger throughput benchmark.
 * In-process: Ed25519 verifications per second on one core and the core count (the
 * reference), then transfers from 2000 accounts submitted in batches of 1000 through
 * lb_ledger_submit by two client threads (each with its own 1000 accounts) while the solo orderer cuts blocks of up to 1000 txs and commits them
 * with lb_ledger_commit on its own thread, as in a node. Prints committed tx/s, p50/p99 of
 * the time from a batch's submission to its last tx being committed, database bytes per tx,
 * the process's peak RSS and the ratio of committed tx/s to the verification ceiling
 * (verify/s per core x cores). The HTTP figures come from bench/bench_node.c.
 * Usage: bench_ledger [batches]   (default 40 batches of 1000 txs) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/order.h"
#include "leben/tx.h"

#include "bench_util.h"

#define BATCH 1000
#define CLIENTS 2
#define ACCTS (BATCH * CLIENTS)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static long file_size(const char *home, const char *suffix)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/chains/settlement.db%s", home, suffix);
	return stat(p, &st) == 0 ? (long)st.st_size : 0;
}

/* What the orderer thread reports back: txs committed so far, and when each batch's last
 * tx was committed. The solo orderer commits in the order txs were handed to it, so a batch
 * is committed once the committed count reaches the number handed over when its submit
 * returned (`need`, an upper bound on its last tx's position). */
struct progress {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lb_ledger *l;
	struct lb_orderer *ord;
	uint64_t committed, handed;
	uint64_t *need;     /* per batch: txs handed to the orderer when its submit returned */
	uint64_t *done_ns;  /* per batch: commit time of its last tx, 0 = not yet */
	int batches;
	int failed;
};

/* marks every submitted batch whose txs are all committed; called with p->mu held */
static void mark_done(struct progress *p, uint64_t now)
{
	for (int b = 0; b < p->batches; b++)
		if (p->need[b] && !p->done_ns[b] && p->committed >= p->need[b])
			p->done_ns[b] = now;
}

static void to_orderer(void *ctx, int chain, const uint8_t *raw, size_t len)
{
	struct progress *p = ctx;
	if (p->ord->ops->submit(p->ord, chain, raw, len))
		abort();
	pthread_mutex_lock(&p->mu);
	p->handed++;
	pthread_mutex_unlock(&p->mu);
}

static int deliver(void *ctx, const struct lb_cut *cut, struct lb_errmsg *em)
{
	struct progress *p = ctx;
	int rc = lb_ledger_commit(p->l, cut, NULL, em);
	uint64_t now = lb_mono_ns();
	pthread_mutex_lock(&p->mu);
	if (rc)
		p->failed = 1;
	p->committed += cut->n;
	mark_done(p, now);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* One client thread: submits every CLIENTS-th batch, in order. */
struct client {
	pthread_t thread;
	struct lb_ledger *l;
	int id, batches;
	const uint8_t **raws;
	size_t *lens;
	uint64_t *start_ns;
	struct progress *pr;
	uint64_t refused;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct lb_submit_result *res = lb_calloc(BATCH, sizeof *res);
	if (!res)
		abort();
	for (int b = c->id; b < c->batches; b += CLIENTS) {
		c->start_ns[b] = lb_mono_ns();
		lb_ledger_submit(c->l, BATCH, c->raws + (size_t)b * BATCH,
				 c->lens + (size_t)b * BATCH, res);
		pthread_mutex_lock(&c->pr->mu);
		c->pr->need[b] = c->pr->handed;
		mark_done(c->pr, lb_mono_ns());
		pthread_mutex_unlock(&c->pr->mu);
		for (int i = 0; i < BATCH; i++)
			if (res[i].code != LB_OK && c->refused++ == 0)
				fprintf(stderr, "refused: %s\n", res[i].message);
	}
	lb_free(res);
	return NULL;
}

int main(int argc, char **argv)
{
	int batches = argc > 1 ? atoi(argv[1]) : 40;
	struct lb_errmsg em;
	char home[] = "/tmp/lb-bench-ledger-XXXXXX";
	struct lb_keypair prop, *kps;
	uint8_t seed[LB_SEED_LEN], (*addrs)[LB_ADDR_LEN];
	int rc;

	if (batches < 1 || batches > 1000 || lb_crypto_init() || lb_ledger_register_core_types())
		return 2;
	double vps_cpu, vps = bench_verify_rate(&vps_cpu);
	int cores = lb_ncpus();
	printf("ed25519 verify/s per core: %.0f\ncores: %d\n", vps, cores);
	double bps_max = 0; /* batch rate at the largest size (1024) */
	for (size_t bn = 64; bn <= 1024; bn *= 4) {
		double bps_cpu, bps = bench_batch_verify_rate(bn, &bps_cpu);
		bps_max = bps;
		printf("ed25519 batch verify/s per core (batches of %zu): %.0f (%.2fx single; CPU: "
		       "%.0f, %.2fx)\n", bn, bps, bps / vps, bps_cpu, bps_cpu / vps_cpu);
	}

	if (!mkdtemp(home))
		return 1;
	kps = lb_calloc(ACCTS, sizeof *kps);
	addrs = lb_calloc(ACCTS, sizeof *addrs);
	if (!kps || !addrs)
		return 1;
	memset(seed, 9, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	json_t *accts = bench_accounts(kps, addrs, ACCTS, 0x5a);
	json_t *g = json_pack("{s:s,s:i,s:[],s:{s:i},s:o}", "network", "bench", "time_ms", 1,
			      "credit_partners", "fees", "default", 1000, "accounts", accts);
	if ((rc = lb_genesis_write(home, g, &em))) {
		fprintf(stderr, "genesis: %s\n", em.text);
		return 1;
	}
	json_decref(g);
	struct lb_orderer *ord;
	struct progress pr = {.batches = batches};
	pthread_mutex_init(&pr.mu, NULL);
	pthread_cond_init(&pr.cv, NULL);
	if (lb_orderer_solo_new(&ord, BATCH, 50))
		return 1;
	pr.ord = ord;
	struct lb_ledger_options o;
	struct lb_ledger *l;
	lb_ledger_options_init(&o);
	o.home = home;
	o.on_admitted = to_orderer;
	o.on_admitted_ctx = &pr;
	if ((rc = lb_ledger_open(&l, &o, &prop, &em))) {
		fprintf(stderr, "open: %s\n", em.text);
		return 1;
	}
	pr.l = l;
	long db0 = file_size(home, "") + file_size(home, "-wal");

	/* every tx signed before the clock starts */
	size_t total = (size_t)batches * BATCH;
	struct lb_buf *raw = lb_calloc(total, sizeof *raw), pl;
	const uint8_t **raws = lb_calloc(total, sizeof *raws);
	size_t *lens = lb_calloc(total, sizeof *lens);
	uint64_t *lat = lb_calloc((size_t)batches, sizeof *lat);
	uint64_t *start_ns = lb_calloc((size_t)batches, sizeof *start_ns);
	pr.done_ns = lb_calloc((size_t)batches, sizeof *pr.done_ns);
	pr.need = lb_calloc((size_t)batches, sizeof *pr.need);
	if (!raw || !raws || !lens || !lat || !start_ns || !pr.done_ns || !pr.need)
		return 1;
	lb_buf_init(&pl, 1024);
	for (size_t k = 0; k < total; k++) {
		size_t b = k / BATCH, i = k % BATCH + (b % CLIENTS) * BATCH;
		struct lb_tx t;
		lb_buf_reset(&pl);
		lb_payload_transfer(&pl, addrs[(i + 1) % ACCTS], LB_ASC, 1, NULL);
		memset(&t, 0, sizeof t);
		t.version = LB_TX_VERSION;
		t.chain = LB_CHAIN_SETTLEMENT;
		t.type = LB_TX_TRANSFER;
		t.nonce = (uint64_t)(b / CLIENTS);
		t.fee = 1000;
		t.payload = pl.data;
		t.payload_len = pl.len;
		lb_buf_init(&raw[k], LB_TX_MAX_BYTES);
		if (lb_tx_build(&raw[k], &t, lb_ledger_network_id(l), &kps[i], NULL))
			return 1;
		raws[k] = raw[k].data;
		lens[k] = raw[k].len;
	}
	if ((rc = ord->ops->start(ord, deliver, &pr, &em))) {
		fprintf(stderr, "orderer: %s\n", em.text);
		return 1;
	}
	struct client cl[CLIENTS];
	uint64_t t0 = lb_mono_ns(), refused = 0, c0 = bench_cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (int c = 0; c < CLIENTS; c++) {
		cl[c] = (struct client){.l = l, .id = c, .batches = batches, .raws = raws,
					.lens = lens, .start_ns = start_ns, .pr = &pr};
		if (pthread_create(&cl[c].thread, NULL, client_main, &cl[c]))
			return 1;
	}
	for (int c = 0; c < CLIENTS; c++) {
		pthread_join(cl[c].thread, NULL);
		refused += cl[c].refused;
	}
	pthread_mutex_lock(&pr.mu);
	while (pr.committed + refused < total && !pr.failed)
		pthread_cond_wait(&pr.cv, &pr.mu);
	pthread_mutex_unlock(&pr.mu);
	uint64_t total_ns = lb_mono_ns() - t0, committed = pr.committed;
	uint64_t cpu_used = bench_cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (pr.failed || refused) {
		fprintf(stderr, "bench_ledger: %s\n", pr.failed ? "a commit failed" : "txs refused");
		return 1;
	}
	ord->ops->stop(ord);
	uint64_t height = lb_ledger_height(l, LB_CHAIN_SETTLEMENT);
	lb_ledger_close(l);
	ord->ops->free(ord);
	long db1 = file_size(home, "") + file_size(home, "-wal");
	for (int b = 0; b < batches; b++)
		lat[b] = pr.done_ns[b] - start_ns[b];
	qsort(lat, (size_t)batches, sizeof *lat, cmp_u64);
	double tps = (double)committed * 1e9 / (double)total_ns;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("committed txs: %llu in %llu blocks (solo orderer, blocks of up to %d)\n",
	       (unsigned long long)committed, (unsigned long long)height, BATCH);
	printf("committed transfer tx/s (in-process submit, orderer thread commits): %.0f\n", tps);
	printf("commit latency (batch of %d submitted -> its last tx committed) p50: %.2f ms, "
	       "p99: %.2f ms\n",
	       BATCH, (double)lat[batches / 2] / 1e6, (double)lat[(batches * 99) / 100] / 1e6);
	printf("db bytes per tx: %.0f\n", committed ? (double)(db1 - db0) / (double)committed : 0);
	printf("peak RSS (bench process, all txs pre-signed in memory): %ld KiB\n", ru.ru_maxrss);
	printf("ratio committed / (verify per core x cores): %.3f\n", tps / (vps * cores));
	printf("ratio committed / (batch verify per core x cores, batches of 1024): %.3f\n",
	       tps / (bps_max * cores));
	{
		double la[3];
		bench_loadavg(la);
		printf("load average at the end: %.2f %.2f %.2f\n", la[0], la[1], la[2]);
	}
	/* the same in CPU time: verifying the committed txs alone / all the CPU the ledger used
	 * for them; 1.0 = nothing but verification. Robust when others share the machine; equals
	 * the ratio above when the cores are fully used and nobody else runs. */
	printf("cpu ratio (verification cpu / ledger cpu): %.3f (ledger used %.2f cpu-s, %.1f us "
	       "per tx; one verification %.1f us)\n",
	       (double)committed / vps_cpu / ((double)cpu_used / 1e9), (double)cpu_used / 1e9,
	       (double)cpu_used / 1e3 / (double)committed, 1e6 / vps_cpu);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	if (system(cmd) != 0)
		return 1;
	for (int i = 0; i < ACCTS; i++)
		lb_keypair_wipe(&kps[i]);
	for (size_t k = 0; k < total; k++)
		lb_buf_release(&raw[k]);
	lb_keypair_wipe(&prop);
	lb_free(kps);
	lb_free(addrs);
	lb_free(raw);
	lb_free(raws);
	lb_free(lens);
	lb_free(lat);
	lb_free(start_ns);
	lb_free(pr.done_ns);
	lb_free(pr.need);
	lb_buf_release(&pl);
	return 0;
}
