/* Market benchmark (docs/economy.md, "Speed"): on a real ledger in a temporary home,
 * (1) one settlement block of 10,000 paid contract calls (market.pay: two authors, an
 *     ancestor, an executor, an audit node, each split by the table) next to one block of
 *     10,000 plain transfers, in the same run: admission and commit, ms per block;
 * (2) 1,000,000 recorded uses spread over 10,000 developer nodes (20,000 market.pay txs of
 *     50 authors each), then the period close that ranks the 10,000 nodes and pays the top k:
 *     the commit time of that block (it must not stall block production).
 * The Ed25519 verification rate of this machine is printed as the reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "leben/codec.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/tx.h"

#define NPAYERS 16
#define NCALLS 10000
#define NNODES 10000
#define NUSES 1000000
#define AUTHORS_PER_TX 50

static struct lb_ledger *L;
static uint64_t T = 1000;
static struct lb_keypair kps[NPAYERS];
static uint8_t addrs[NPAYERS][LB_ADDR_LEN];
static uint64_t nonces[NPAYERS];
static uint8_t nodes[NNODES][LB_ADDR_LEN];

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_market: %s: %s\n", what, msg);
	exit(1);
}

/* Sign n txs (payload by make(i, buf)), admit them, commit them as one block; ms of each. */
static void block(size_t n, uint32_t type, void (*make)(size_t i, struct lb_buf *b),
		  double *submit_ms, double *commit_ms)
{
	uint8_t **raws = calloc(n, sizeof *raws);
	size_t *lens = calloc(n, sizeof *lens);
	struct lb_submit_result *res = calloc(n, sizeof *res);
	struct lb_buf pl;
	lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
	for (size_t i = 0; i < n; i++) {
		struct lb_tx t = {0};
		struct lb_buf raw;
		size_t who = i % NPAYERS;
		lb_buf_reset(&pl);
		make(i, &pl);
		t.version = LB_TX_VERSION;
		t.chain = LB_CHAIN_SETTLEMENT;
		t.type = type;
		t.nonce = nonces[who]++;
		t.fee = 1000;
		t.payload = pl.data;
		t.payload_len = pl.len;
		lb_buf_init(&raw, LB_TX_MAX_BYTES);
		if (lb_tx_build(&raw, &t, lb_ledger_network_id(L), &kps[who], NULL))
			die("build", "tx");
		raws[i] = lb_buf_detach(&raw, &lens[i]);
	}
	lb_buf_release(&pl);
	uint64_t t0 = lb_mono_ns();
	if (lb_ledger_submit(L, n, (const uint8_t *const *)raws, lens, res))
		die("submit", "failed");
	for (size_t i = 0; i < n; i++)
		if (res[i].code)
			die("admission", res[i].message);
	uint64_t t1 = lb_mono_ns();
	struct lb_cut c = {LB_CHAIN_SETTLEMENT, T += 1000, n, (const uint8_t *const *)raws, lens};
	struct lb_errmsg em;
	if (lb_ledger_commit(L, &c, NULL, &em))
		die("commit", em.text);
	uint64_t t2 = lb_mono_ns();
	*submit_ms = (double)(t1 - t0) / 1e6;
	*commit_ms = (double)(t2 - t1) / 1e6;
	for (size_t i = 0; i < n; i++)
		lb_free(raws[i]);
	free(raws);
	free(lens);
	free(res);
}

static void make_transfer(size_t i, struct lb_buf *b)
{
	if (lb_payload_transfer(b, nodes[i % NNODES], LB_ASC, 1000000, ""))
		die("payload", "transfer");
}

static void make_call(size_t i, struct lb_buf *b)
{
	struct lb_mkt_parties p = {0};
	uint8_t authors[2][LB_ADDR_LEN], anc[1][LB_ADDR_LEN], aud[1][LB_ADDR_LEN];
	memcpy(authors[0], nodes[i % NNODES], LB_ADDR_LEN);
	memcpy(authors[1], nodes[(i * 7 + 1) % NNODES], LB_ADDR_LEN);
	memcpy(anc[0], nodes[(i * 13 + 2) % NNODES], LB_ADDR_LEN);
	memcpy(aud[0], nodes[(i * 17 + 3) % NNODES], LB_ADDR_LEN);
	p.authors = (const uint8_t(*)[LB_ADDR_LEN])authors;
	p.n_authors = 2;
	p.ancestors = (const uint8_t(*)[LB_ADDR_LEN])anc;
	p.n_ancestors = 1;
	p.audit = (const uint8_t(*)[LB_ADDR_LEN])aud;
	p.n_audit = 1;
	p.has_executor = true;
	memcpy(p.executor, nodes[(i * 19 + 4) % NNODES], LB_ADDR_LEN);
	if (lb_mkt_pay_encode(b, LB_MKT_USE_CONTRACT, 1000000 + i, &p))
		die("payload", "pay");
}

static size_t use_tx;
static void make_uses(size_t i, struct lb_buf *b)
{
	struct lb_mkt_parties p = {0};
	uint8_t authors[AUTHORS_PER_TX][LB_ADDR_LEN];
	size_t k = use_tx + i;
	for (size_t j = 0; j < AUTHORS_PER_TX; j++) /* spread evenly, different volumes */
		memcpy(authors[j], nodes[(k * AUTHORS_PER_TX + j) % NNODES], LB_ADDR_LEN);
	p.authors = (const uint8_t(*)[LB_ADDR_LEN])authors;
	p.n_authors = AUTHORS_PER_TX;
	if (lb_mkt_pay_encode(b, LB_MKT_USE_CONTRACT, 1000000 + (k % 977) * 1000, &p))
		die("payload", "uses");
}

static uint64_t close_period;
static void make_close(size_t i, struct lb_buf *b)
{
	(void)i;
	if (lb_mkt_period_encode(b, close_period))
		die("payload", "period");
}

int main(void)
{
	char home[64] = "/tmp/lb-bench-market-XXXXXX", at[LB_ADDR_TEXT_LEN + 1];
	struct lb_errmsg em;
	double per_cpu, rate, s_ms, c_ms;
	if (lb_crypto_init() || lb_ledger_register_core_types() || lb_market_register_txtypes())
		return 1;
	rate = bench_verify_rate(&per_cpu);
	if (!mkdtemp(home))
		return 1;
	for (size_t i = 0; i < NNODES; i++) {
		uint8_t h[LB_HASH_LEN];
		lb_hash(h, &i, sizeof i);
		memcpy(nodes[i], h, LB_ADDR_LEN);
	}
	json_t *accts = bench_accounts(kps, addrs, NPAYERS, 0x4d);
	lb_addr_encode(at, addrs[0]);
	/* a period long enough for the whole history below; close it at the end */
	json_t *g = json_pack("{s:s,s:i,s:[s],s:{s:i},s:o,s:{s:s,s:i,s:i}}", "network",
			      "bench-market", "time_ms", 1, "credit_partners", at, "fees", "default",
			      1000, "accounts", accts, "market", "platform", at, "period_blocks",
			      1000, "top_k", 10);
	if (lb_genesis_write(home, g, &em))
		die("genesis", em.text);
	json_decref(g);
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	if (lb_ledger_open(&L, &o, &kps[0], &em))
		die("open", em.text);
	printf("bench_market (Ed25519 verifications: %.0f/s wall, %.0f/s CPU)\n", rate, per_cpu);

	/* (1) the same block size, transfers then paid calls */
	block(NCALLS, LB_TX_TRANSFER, make_transfer, &s_ms, &c_ms);
	printf("  %d plain transfers in one block:      admission %7.1f ms, commit %7.1f ms\n",
	       NCALLS, s_ms, c_ms);
	double t_commit = c_ms;
	block(NCALLS, LB_TX_MKT_PAY, make_call, &s_ms, &c_ms);
	printf("  %d paid contract calls in one block:  admission %7.1f ms, commit %7.1f ms "
	       "(%.2fx the transfers' commit)\n",
	       NCALLS, s_ms, c_ms, c_ms / t_commit);

	/* (2) a million recorded uses over 10,000 nodes, then the period close */
	uint64_t u0 = lb_mono_ns();
	double worst = 0;
	for (use_tx = 0; use_tx < NUSES / AUTHORS_PER_TX; use_tx += 2000) {
		block(2000, LB_TX_MKT_PAY, make_uses, &s_ms, &c_ms);
		if (c_ms > worst)
			worst = c_ms;
	}
	printf("  %d recorded uses (%d txs of %d authors) over %d nodes: %.1f s, worst block "
	       "commit %.1f ms\n",
	       NUSES, NUSES / AUTHORS_PER_TX, AUTHORS_PER_TX, NNODES,
	       (double)(lb_mono_ns() - u0) / 1e9, worst);
	/* move past the period's end with empty blocks, then close it */
	while (lb_ledger_height(L, LB_CHAIN_SETTLEMENT) <= 1000) {
		struct lb_cut c = {LB_CHAIN_SETTLEMENT, T += 1000, 0, NULL, NULL};
		if (lb_ledger_commit(L, &c, NULL, &em))
			die("commit", em.text);
	}
	close_period = 0;
	block(1, LB_TX_MKT_PERIOD, make_close, &s_ms, &c_ms);
	printf("  period close ranking %d nodes (top 10 paid): admission %.1f ms, commit %.1f ms\n",
	       NNODES, s_ms, c_ms);
	lb_ledger_close(L);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	return system(cmd) ? 1 : 0;
}
