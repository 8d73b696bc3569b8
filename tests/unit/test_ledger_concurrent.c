/* Ledger under concurrency, as in a node: two client threads submit transfers (each from its
 * own accounts, consecutive nonces, small batches) while a third thread commits the admitted
 * txs as blocks, so admission runs while blocks are applied and written. Every tx must be
 * admitted and committed, each balance must equal what the amounts sent add up to (computed
 * here from the txs, not read back), the mempool must end empty, a tx replayed after its
 * commit must be refused as a duplicate, and the offline verifier must accept the history. */
#include "test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/tx.h"

#define CLIENTS 2
#define PER_CLIENT 2       /* sending accounts per client */
#define ROUNDS 399         /* txs per sending account (a multiple of BATCH / PER_CLIENT) */
#define BATCH 6
#define FEE 1000
#define START 1000000000000LL

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t **raws;
	size_t *lens;
	size_t n, cap, taken;
	bool done;
};

static struct queue Q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
static struct lb_ledger *L;
static struct lb_keypair kps[CLIENTS * PER_CLIENT], sink;
static uint8_t addrs[CLIENTS * PER_CLIENT][LB_ADDR_LEN], sink_addr[LB_ADDR_LEN];
static uint64_t sent_asc[CLIENTS * PER_CLIENT];
static int refusals;

static void on_admitted(void *ctx, int chain, const uint8_t *raw, size_t len)
{
	(void)ctx;
	if (chain != LB_CHAIN_SETTLEMENT)
		abort();
	pthread_mutex_lock(&Q.mu);
	if (Q.n == Q.cap) {
		Q.cap = Q.cap ? Q.cap * 2 : 1024;
		Q.raws = realloc(Q.raws, Q.cap * sizeof *Q.raws);
		Q.lens = realloc(Q.lens, Q.cap * sizeof *Q.lens);
		if (!Q.raws || !Q.lens)
			abort();
	}
	Q.raws[Q.n] = malloc(len);
	if (!Q.raws[Q.n])
		abort();
	memcpy(Q.raws[Q.n], raw, len);
	Q.lens[Q.n++] = len;
	pthread_cond_signal(&Q.cv);
	pthread_mutex_unlock(&Q.mu);
}

/* Commit whatever is queued, in cuts of up to 40, until the clients are done. */
static void *committer(void *arg)
{
	(void)arg;
	uint64_t t = 1000;
	for (;;) {
		pthread_mutex_lock(&Q.mu);
		while (Q.taken == Q.n && !Q.done)
			pthread_cond_wait(&Q.cv, &Q.mu);
		if (Q.taken == Q.n && Q.done) {
			pthread_mutex_unlock(&Q.mu);
			return NULL;
		}
		size_t n = Q.n - Q.taken < 40 ? Q.n - Q.taken : 40;
		const uint8_t *raws[40];
		size_t lens[40];
		for (size_t i = 0; i < n; i++) {
			raws[i] = Q.raws[Q.taken + i];
			lens[i] = Q.lens[Q.taken + i];
		}
		Q.taken += n;
		pthread_mutex_unlock(&Q.mu);
		struct lb_cut cut = {LB_CHAIN_SETTLEMENT, t++, n, raws, lens};
		struct lb_errmsg em;
		if (lb_ledger_commit(L, &cut, NULL, &em)) {
			fprintf(stderr, "commit: %s\n", em.text);
			abort();
		}
	}
}

static void build(struct lb_buf *out, int a, uint64_t nonce, uint64_t amount)
{
	struct lb_buf pl;
	struct lb_tx t;
	lb_buf_init(&pl, 1024);
	if (lb_payload_transfer(&pl, sink_addr, LB_ASC, amount, NULL))
		abort();
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_SETTLEMENT;
	t.type = LB_TX_TRANSFER;
	t.nonce = nonce;
	t.fee = FEE;
	t.payload = pl.data;
	t.payload_len = pl.len;
	lb_buf_init(out, LB_TX_MAX_BYTES);
	if (lb_tx_build(out, &t, lb_ledger_network_id(L), &kps[a], NULL))
		abort();
	lb_buf_release(&pl);
}

static void *client(void *arg)
{
	int c = (int)(intptr_t)arg;
	for (int round = 0; round < ROUNDS; round += BATCH / PER_CLIENT) {
		struct lb_buf raw[BATCH];
		const uint8_t *raws[BATCH];
		size_t lens[BATCH];
		struct lb_submit_result res[BATCH];
		for (int i = 0; i < BATCH; i++) {
			int a = c * PER_CLIENT + i % PER_CLIENT;
			uint64_t nonce = (uint64_t)(round + i / PER_CLIENT);
			uint64_t amount = 1 + (nonce * 7 + (uint64_t)a) % 1000;
			build(&raw[i], a, nonce, amount);
			raws[i] = raw[i].data;
			lens[i] = raw[i].len;
		}
		if (lb_ledger_submit(L, BATCH, raws, lens, res))
			abort();
		for (int i = 0; i < BATCH; i++) {
			int a = c * PER_CLIENT + i % PER_CLIENT;
			uint64_t nonce = (uint64_t)(round + i / PER_CLIENT);
			if (res[i].code == LB_OK)
				__atomic_add_fetch(&sent_asc[a], 1 + (nonce * 7 + (uint64_t)a) % 1000,
						   __ATOMIC_RELAXED);
			else
				__atomic_add_fetch(&refusals, 1, __ATOMIC_RELAXED);
			lb_buf_release(&raw[i]);
		}
	}
	return NULL;
}

static void account(const uint8_t addr[LB_ADDR_LEN], json_int_t *asc, json_int_t *csc,
		    json_int_t *nonce)
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_account_json(L, addr, &o, &em));
	json_t *b = json_object_get(o, "balances");
	*asc = json_integer_value(json_object_get(b, "asc"));
	*csc = json_integer_value(json_object_get(b, "csc"));
	*nonce = json_integer_value(json_object_get(
		json_object_get(json_object_get(o, "chains"), "settlement"), "nonce"));
	json_decref(o);
}

static void test_admission_during_commit(void **state)
{
	(void)state;
	char home[] = "/tmp/lb-test-ledger-conc-XXXXXX", at[LB_ADDR_TEXT_LEN + 1];
	uint8_t seed[LB_SEED_LEN];
	struct lb_keypair prop;
	struct lb_errmsg em;
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_non_null(mkdtemp(home));
	memset(seed, 0x31, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	memset(seed, 0x32, sizeof seed);
	lb_keypair_from_seed(&sink, seed);
	lb_addr_from_pubkey(sink_addr, sink.pk);
	json_t *accts = json_array();
	for (int a = 0; a < CLIENTS * PER_CLIENT; a++) {
		memset(seed, 0x40 + a, sizeof seed);
		lb_keypair_from_seed(&kps[a], seed);
		lb_addr_from_pubkey(addrs[a], kps[a].pk);
		lb_addr_encode(at, addrs[a]);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)START, "csc", (json_int_t)START));
	}
	json_t *g = json_pack("{s:s,s:i,s:[],s:{s:i},s:o}", "network", "conc", "time_ms", 1,
			      "credit_partners", "fees", "default", FEE, "accounts", accts);
	assert_lb_ok(lb_genesis_write(home, g, &em));
	json_decref(g);
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	o.on_admitted = on_admitted;
	assert_lb_ok(lb_ledger_open(&L, &o, &prop, &em));

	pthread_t ct, cl[CLIENTS];
	assert_int_equal(pthread_create(&ct, NULL, committer, NULL), 0);
	for (int c = 0; c < CLIENTS; c++)
		assert_int_equal(pthread_create(&cl[c], NULL, client, (void *)(intptr_t)c), 0);
	for (int c = 0; c < CLIENTS; c++)
		pthread_join(cl[c], NULL);
	pthread_mutex_lock(&Q.mu);
	Q.done = true;
	pthread_cond_signal(&Q.cv);
	pthread_mutex_unlock(&Q.mu);
	pthread_join(ct, NULL);

	assert_int_equal(refusals, 0);
	assert_int_equal(Q.n, (size_t)(CLIENTS * PER_CLIENT * ROUNDS));
	assert_int_equal(lb_ledger_pending(L, LB_CHAIN_SETTLEMENT), 0);
	assert_true(lb_ledger_height(L, LB_CHAIN_SETTLEMENT) >= Q.n / 40);
	json_int_t asc, csc, nonce, sink_asc = 0;
	for (int a = 0; a < CLIENTS * PER_CLIENT; a++) {
		account(addrs[a], &asc, &csc, &nonce);
		assert_int_equal(nonce, ROUNDS);
		assert_int_equal(asc, START - (json_int_t)sent_asc[a]);
		assert_int_equal(csc, START - (json_int_t)FEE * ROUNDS);
		sink_asc += (json_int_t)sent_asc[a];
	}
	account(sink_addr, &asc, &csc, &nonce);
	assert_int_equal(asc, sink_asc);
	assert_int_equal(csc, 0);

	/* a committed tx sent again is a duplicate and changes nothing */
	struct lb_submit_result r;
	const uint8_t *one[1] = {Q.raws[0]};
	size_t onelen[1] = {Q.lens[0]};
	assert_lb_ok(lb_ledger_submit(L, 1, one, onelen, &r));
	assert_int_equal(r.code, LB_EDUPLICATE);
	assert_int_equal(lb_ledger_pending(L, LB_CHAIN_SETTLEMENT), 0);

	lb_ledger_close(L);
	int rc = lb_ledger_verify_home(home, NULL, NULL, &em);
	if (rc)
		fail_msg("verify: %s", em.text);

	for (size_t i = 0; i < Q.n; i++)
		free(Q.raws[i]);
	free(Q.raws);
	free(Q.lens);
	for (int a = 0; a < CLIENTS * PER_CLIENT; a++)
		lb_keypair_wipe(&kps[a]);
	lb_keypair_wipe(&sink);
	lb_keypair_wipe(&prop);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission_during_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
