/* Ledger under concurrency, as in a node: two client threads submit transfers (each from its
 * own accounts, consecutive nonces, small batches) while a third thread commits the admitted
 * txs as blocks, so admission runs while blocks are applied and written. Every tx must be
 * admitted and committed, each balance must equal what the amounts sent add up to (computed
 * here from the txs, not read back), the mempool must end empty, a tx replayed after its
 * commit must be refused as a duplicate, and the offline verifier must accept the history.
 * Second: a block built from the admission write-sets (the cut is the mempool's head) is
 * byte-identical to the same cut applied afresh on a twin ledger that never saw the txs,
 * including a tx that expires between admission and block and the txs after it. Third: a tx
 * of a type whose writes depend on the block (not marked block-independent) is applied again
 * in its block, and the admission writes of the txs behind it are recomputed before reuse, so
 * the next block again equals a fresh application. Fourth: txs of other modules' types marked
 * block-independent (xchg.algo, keys.recovery), committed in two blocks at heights and times
 * other than those of their admission, give the state of a fresh application; a control type
 * that writes the height but is marked anyway makes the twins differ. Fifth: compute.run
 * txs citing no prepayment (block-independent by payload) likewise. */
#include "test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/exchange.h"
#include "leben/ledger.h"
#include "leben/onchain.h"
#include "leben/security.h"
#include "leben/tx.h"
#include "leben/zkp.h"
#include "ledger/ledger_int.h"
#include "ledger_fixture.h"

#define CLIENTS 2
#define PER_CLIENT 2       /* sending accounts per client */
#define ROUNDS 399         /* txs per sending account (a multiple of BATCH / PER_CLIENT) */
#define BATCH 6
#define FEE FX_SETTLEMENT_FEE
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


/* ---- admission writes reused in the block == the txs applied again ---------------------- */

struct twin {
	char home[64];
	struct lb_ledger *l;
};

/* Two ledgers in their own homes from the same genesis g (reference taken). */
static void twins_open(struct twin *a, struct twin *b, json_t *g, const struct lb_keypair *prop)
{
	struct lb_errmsg em;
	char path[128];
	char *text = json_dumps(g, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	json_decref(g);
	for (struct twin *w = a; w; w = w == a ? b : NULL) {
		fx_mkhome(w->home, sizeof w->home, "twin");
		snprintf(path, sizeof path, "%s/genesis.json", w->home);
		assert_lb_ok(lb_file_write(path, text, strlen(text), 0644, &em));
		fx_open(&w->l, w->home, prop);
	}
	free(text);
	assert_memory_equal(lb_ledger_network_id(a->l), lb_ledger_network_id(b->l), LB_HASH_LEN);
}

/* Close both; with verify, the offline verifier must accept a's history. Remove the homes. */
static void twins_close(struct twin *a, struct twin *b, bool verify)
{
	struct lb_errmsg em;
	lb_ledger_close(a->l);
	lb_ledger_close(b->l);
	if (verify && lb_ledger_verify_home(a->home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	fx_rmhome(a->home);
	fx_rmhome(b->home);
}

static char *latest_json_of(struct lb_ledger *l, int chain)
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_block_json(l, chain, UINT64_MAX, &o, &em));
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	assert_non_null(s);
	return s;
}

static char *latest_json(struct lb_ledger *l)
{
	return latest_json_of(l, LB_CHAIN_SETTLEMENT);
}

static void tx_on(struct lb_buf *out, struct lb_ledger *l, int chain, const struct lb_keypair *kp,
		  uint32_t type, uint64_t nonce, uint64_t expires, const struct lb_buf *pl)
{
	fx_build(out, l, kp, chain, type, nonce, expires, pl->data, pl->len, NULL);
}

static void tx_of(struct lb_buf *out, struct lb_ledger *l, const struct lb_keypair *kp,
		  uint32_t type, uint64_t nonce, uint64_t expires, const struct lb_buf *pl)
{
	tx_on(out, l, LB_CHAIN_SETTLEMENT, kp, type, nonce, expires, pl);
}

static void test_reused_writes_match_fresh_apply(void **state)
{
	(void)state;
	enum { U = 3, PER_ROUND = 24 };
	struct lb_keypair prop, u[U];
	uint8_t ua[U][LB_ADDR_LEN], seed[LB_SEED_LEN];
	char at[LB_ADDR_TEXT_LEN + 1];
	struct lb_errmsg em;
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	memset(seed, 0x51, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	json_t *accts = json_array(), *partners = json_array();
	for (int i = 0; i < U; i++) {
		memset(seed, 0x60 + i, sizeof seed);
		lb_keypair_from_seed(&u[i], seed);
		lb_addr_from_pubkey(ua[i], u[i].pk);
		lb_addr_encode(at, ua[i]);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)5000000, "csc", (json_int_t)900000));
		if (i == 0)
			json_array_append_new(partners, json_string(at));
	}
	json_t *g = json_pack("{s:s,s:i,s:o,s:{s:i,s:i},s:{s:i},s:o}", "network", "twin", "time_ms",
			      1, "credit_partners", partners, "convert", "csc", 100, "asc", 1,
			      "fees", "default", FEE, "accounts", accts);
	struct twin a, b;
	twins_open(&a, &b, g, &prop);

	uint64_t now = lb_now_ms(), nonce[U] = {0}, exp_nonce = 0;
	int exp_from = 0;
	struct chain *ca = &a.l->chains[LB_CHAIN_SETTLEMENT];
	for (int round = 1; round <= 3; round++) {
		struct lb_buf raw[PER_ROUND], pl;
		const uint8_t *raws[PER_ROUND];
		size_t lens[PER_ROUND];
		struct lb_submit_result res[PER_ROUND];
		int expiring = round == 2 ? PER_ROUND / 2 : -1;
		lb_buf_init(&pl, 4096);
		for (int i = 0; i < PER_ROUND; i++) {
			int from = i % U;
			uint32_t type = LB_TX_TRANSFER;
			lb_buf_reset(&pl);
			/* a mix whose later txs read what earlier ones wrote */
			switch (i % 6) {
			case 3: assert_lb_ok(lb_payload_burn(&pl, 7 + (uint64_t)(i + round))); type = LB_TX_BURN;
				break;
			case 4: assert_lb_ok(lb_payload_convert(&pl, 300 + (uint64_t)round)); type = LB_TX_CONVERT; break;
			case 5:
				if (from == 2) {
					from = 0; /* the credit partner */
					assert_lb_ok(lb_payload_issue(&pl, ua[2], 11 + (uint64_t)round));
					type = LB_TX_ISSUE;
					break;
				}
				/* fall through */
			default:
				assert_lb_ok(lb_payload_transfer(&pl, ua[(from + 1) % U], LB_ASC,
								 1000 + (uint64_t)(i * 13 + round), NULL));
			}
			uint64_t exp = i == expiring ? now + 90 * 60000 : 0;
			if (i == expiring) {
				exp_from = from;
				exp_nonce = nonce[from];
			}
			tx_of(&raw[i], a.l, &u[from], type, nonce[from]++, exp, &pl);
			raws[i] = raw[i].data;
			lens[i] = raw[i].len;
		}
		assert_lb_ok(lb_ledger_submit(a.l, PER_ROUND, raws, lens, res));
		for (int i = 0; i < PER_ROUND; i++)
			if (res[i].code)
				fail_msg("round %d tx %d refused: %s", round, i, res[i].message);
		uint64_t reused0 = ca->reused_writes, h;
		struct lb_cut cut = {LB_CHAIN_SETTLEMENT, now + (uint64_t)round * 3600000, PER_ROUND,
				     raws, lens};
		assert_lb_ok(lb_ledger_commit(a.l, &cut, &h, &em));
		assert_lb_ok(lb_ledger_commit(b.l, &cut, &h, &em));
		/* admission writes were used up to the tx that expired before its block */
		assert_int_equal(ca->reused_writes - reused0,
				 expiring < 0 ? PER_ROUND : expiring);
		assert_int_equal(b.l->chains[LB_CHAIN_SETTLEMENT].reused_writes, 0);
		char *ja = latest_json(a.l), *jb = latest_json(b.l);
		assert_string_equal(ja, jb);
		if (expiring >= 0) {
			/* the expired tx and its sender's later tx (nonce gap) are marked invalid,
			 * the other senders' txs after it are valid */
			json_t *blk = json_loads(ja, 0, NULL), *txs = json_object_get(blk, "txs");
			assert_true(json_is_false(
				json_object_get(json_array_get(txs, (size_t)expiring), "valid")));
			assert_true(json_is_false(
				json_object_get(json_array_get(txs, (size_t)expiring + U), "valid")));
			assert_true(json_is_true(
				json_object_get(json_array_get(txs, (size_t)expiring + 1), "valid")));
			json_decref(blk);
			nonce[exp_from] = exp_nonce; /* that sender's next nonce */
		}
		free(ja);
		free(jb);
		assert_int_equal(lb_ledger_pending(a.l, LB_CHAIN_SETTLEMENT), 0);
		for (int i = 0; i < PER_ROUND; i++)
			lb_buf_release(&raw[i]);
		lb_buf_release(&pl);
	}
	for (int i = 0; i < U; i++) {
		json_t *x = NULL, *y = NULL;
		assert_lb_ok(lb_ledger_account_json(a.l, ua[i], &x, &em));
		assert_lb_ok(lb_ledger_account_json(b.l, ua[i], &y, &em));
		assert_true(json_equal(x, y));
		json_decref(x);
		json_decref(y);
	}
	twins_close(&a, &b, true);
	for (int i = 0; i < U; i++)
		lb_keypair_wipe(&u[i]);
	lb_keypair_wipe(&prop);
}

/* ---- a block-dependent tx type refreshes the admission writes behind it ------------------- */

enum { TX_STAMP = 0x01f1, TX_COPY = 0x01f2 };

static int check_empty(const struct lb_tx *tx, struct lb_errmsg *em)
{
	return tx->payload_len ? lb_errf(em, LB_EMALFORMED, "no payload expected") : LB_OK;
}

/* writes the block time: its writes differ between admission and block */
static int apply_stamp(struct lb_apply_ctx *c)
{
	return lb_state_put_u64(c->state, "tstamp", "x", 1, c->time_ms);
}

/* copies what the stamp wrote: depends on the state only */
static int apply_copy(struct lb_apply_ctx *c)
{
	uint64_t v;
	int rc = lb_state_get_u64(c->state, "tstamp", "x", 1, 0, &v);
	return rc ? rc : lb_state_put_u64(c->state, "tcopy", "y", 1, v + 1);
}

static void test_block_dependent_type_refreshes_writes(void **state)
{
	(void)state;
	struct lb_keypair prop, u[2];
	uint8_t seed[LB_SEED_LEN];
	char at[LB_ADDR_TEXT_LEN + 1];
	struct lb_errmsg em;
	const struct lb_txtype stamp = {TX_STAMP, LB_CHAIN_SETTLEMENT, "test.stamp", check_empty,
					apply_stamp, NULL, false};
	const struct lb_txtype copy = {TX_COPY, LB_CHAIN_SETTLEMENT, "test.copy", check_empty,
				       apply_copy, NULL, false};
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	int rc = lb_txtype_register(&stamp);
	assert_true(rc == LB_OK || rc == LB_EEXISTS);
	rc = lb_txtype_register(&copy);
	assert_true(rc == LB_OK || rc == LB_EEXISTS);
	assert_lb_ok(lb_txtype_mark_block_independent(TX_COPY));
	assert_int_equal(lb_txtype_mark_block_independent(0x01f3), LB_ENOTFOUND);
	memset(seed, 0x71, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	json_t *accts = json_array();
	for (int i = 0; i < 2; i++) {
		uint8_t a[LB_ADDR_LEN];
		memset(seed, 0x72 + i, sizeof seed);
		lb_keypair_from_seed(&u[i], seed);
		lb_addr_from_pubkey(a, u[i].pk);
		lb_addr_encode(at, a);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)1000, "csc", (json_int_t)1000000));
	}
	json_t *g = json_pack("{s:s,s:i,s:[],s:{s:i},s:o}", "network", "stamp", "time_ms", 1,
			      "credit_partners", "fees", "default", FEE, "accounts", accts);
	struct twin a, b;
	twins_open(&a, &b, g, &prop);

	/* the stamp and, behind it, a copy admitted on top of the stamp's admission writes */
	struct lb_buf raw[2], pl;
	const uint8_t *raws[2];
	size_t lens[2];
	struct lb_submit_result res[2];
	lb_buf_init(&pl, 16);
	tx_of(&raw[0], a.l, &u[0], TX_STAMP, 0, 0, &pl);
	tx_of(&raw[1], a.l, &u[1], TX_COPY, 0, 0, &pl);
	for (int i = 0; i < 2; i++) {
		raws[i] = raw[i].data;
		lens[i] = raw[i].len;
	}
	assert_lb_ok(lb_ledger_submit(a.l, 2, raws, lens, res));
	assert_int_equal(res[0].code, LB_OK);
	assert_int_equal(res[1].code, LB_OK);
	uint64_t t = lb_now_ms() + 3600000, h;
	struct chain *ca = &a.l->chains[LB_CHAIN_SETTLEMENT];
	for (int i = 0; i < 2; i++) {
		uint64_t reused0 = ca->reused_writes;
		struct lb_cut cut = {LB_CHAIN_SETTLEMENT, t + (uint64_t)i, 1, raws + i, lens + i};
		assert_lb_ok(lb_ledger_commit(a.l, &cut, &h, &em));
		assert_lb_ok(lb_ledger_commit(b.l, &cut, &h, &em));
		/* the stamp is applied again; the copy takes its (recomputed) admission writes */
		assert_int_equal(ca->reused_writes - reused0, i == 0 ? 0 : 1);
		char *ja = latest_json(a.l), *jb = latest_json(b.l);
		assert_string_equal(ja, jb);
		assert_null(strstr(ja, "\"valid\":false"));
		free(ja);
		free(jb);
	}
	twins_close(&a, &b, true);
	for (int i = 0; i < 2; i++) {
		lb_buf_release(&raw[i]);
		lb_keypair_wipe(&u[i]);
	}
	lb_buf_release(&pl);
	lb_keypair_wipe(&prop);
}

/* ---- other modules' types marked block-independent ----------------------------------------- */

enum { TX_WRONGLY_MARKED = 0x03fe };

/* writes the block height but is marked block-independent below: the control that shows the
 * twin comparison catches such a mark */
static int apply_wrong_mark(struct lb_apply_ctx *c)
{
	return lb_state_put_u64(c->state, "twrong", "h", 1, c->height);
}

/* A genesis of nu accounts (u's keys) with 1000 ASC and CSC each (new reference). */
static json_t *business_genesis(const char *network, const struct lb_keypair *u, int nu)
{
	char at[LB_ADDR_TEXT_LEN + 1];
	json_t *accts = json_array();
	for (int i = 0; i < nu; i++) {
		uint8_t a[LB_ADDR_LEN];
		lb_addr_from_pubkey(a, u[i].pk);
		lb_addr_encode(at, a);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)1000, "csc", (json_int_t)1000));
	}
	return json_pack("{s:s,s:i,s:[],s:{s:i},s:o}", "network", network, "time_ms", 1,
			 "credit_partners", "fees", "default", FEE, "accounts", accts);
}

/* Commit the n business txs admitted on a in two blocks at times far from admission, on a and
 * on its fresh twin b: every tx must take its admission writes on a (the marks are in force)
 * and none be invalid. True when both blocks are the same on a and b. what: show each
 * commit's time under that name (NULL: quiet). */
static bool commit_in_two_blocks(struct twin *a, struct twin *b, const uint8_t **raws,
				 size_t *lens, int n, const char *what)
{
	struct lb_errmsg em;
	struct chain *ca = &a->l->chains[LB_CHAIN_BUSINESS];
	uint64_t t = lb_now_ms() + 3600000, h;
	int half = n / 2;
	bool same = true;
	for (int blk = 0; blk < 2; blk++) {
		int from = blk ? half : 0, cnt = blk ? n - half : half;
		uint64_t reused0 = ca->reused_writes;
		struct lb_cut cut = {LB_CHAIN_BUSINESS, t + (uint64_t)blk * 3600000, (size_t)cnt,
				     raws + from, lens + from};
		uint64_t t0 = lb_mono_ns();
		assert_lb_ok(lb_ledger_commit(a->l, &cut, &h, &em));
		uint64_t t1 = lb_mono_ns();
		assert_lb_ok(lb_ledger_commit(b->l, &cut, &h, &em));
		uint64_t t2 = lb_mono_ns();
		if (what)
			print_message("# block %d: %d %s committed in %.2f ms with their admission "
				      "writes, %.2f ms applied afresh\n",
				      blk + 1, cnt, what, (double)(t1 - t0) / 1e6,
				      (double)(t2 - t1) / 1e6);
		assert_int_equal(ca->reused_writes - reused0, cnt);
		assert_int_equal(b->l->chains[LB_CHAIN_BUSINESS].reused_writes, 0);
		char *ja = latest_json_of(a->l, LB_CHAIN_BUSINESS);
		char *jb = latest_json_of(b->l, LB_CHAIN_BUSINESS);
		assert_null(strstr(ja, "\"valid\":false"));
		if (strcmp(ja, jb))
			same = false;
		free(ja);
		free(jb);
	}
	return same;
}

/* Admit the n signed business txs raw on a (none may be refused), then commit_in_two_blocks. */
static bool admit_commit_two_blocks(struct twin *a, struct twin *b, const struct lb_buf *raw,
				    int n, const char *what)
{
	const uint8_t **raws = lb_calloc((size_t)n, sizeof *raws);
	size_t *lens = lb_calloc((size_t)n, sizeof *lens);
	struct lb_submit_result *res = lb_calloc((size_t)n, sizeof *res);
	assert_true(raws && lens && res);
	for (int i = 0; i < n; i++) {
		raws[i] = raw[i].data;
		lens[i] = raw[i].len;
	}
	assert_lb_ok(lb_ledger_submit(a->l, (size_t)n, raws, lens, res));
	for (int i = 0; i < n; i++)
		if (res[i].code)
			fail_msg("tx %d refused: %s", i, res[i].message);
	bool same = commit_in_two_blocks(a, b, raws, lens, n, what);
	lb_free(raws);
	lb_free(lens);
	lb_free(res);
	return same;
}

/* Admit txs of marked module types (xchg.algo, keys.recovery) on ledger a, then commit them in
 * two blocks at times far from admission on a and on a fresh twin b. The second block's txs
 * were admitted for the first block's height, so a handler reading the height or the time
 * would leave a's state (app_hash) different from b's. */
static void run_marked(const struct lb_keypair *prop, const struct lb_keypair *u, int nu,
		       bool with_control, bool *same)
{
	enum { PER_USER = 4 };
	struct lb_errmsg em;
	struct twin a, b;
	twins_open(&a, &b, business_genesis("marks", u, nu), prop);

	struct lb_zk_recovery rec;
	uint8_t recb[LB_ZK_RECOVERY_BYTES];
	assert_lb_ok(lb_zk_recovery_new(&rec, "a recovery secret", 17, 1, 8192, &em));
	lb_zk_recovery_encode(&rec, recb);
	int n = nu * PER_USER + (with_control ? 1 : 0);
	struct lb_buf *raw = lb_calloc((size_t)n, sizeof *raw), pl;
	assert_non_null(raw);
	lb_buf_init(&pl, 4096);
	uint64_t nonce[8] = {0};
	assert_true(nu <= 8);
	int k = 0;
	for (int r = 0; r < PER_USER; r++)
		for (int i = 0; i < nu; i++) {
			lb_buf_reset(&pl);
			uint32_t type = LB_TX_XCHG_ALGO;
			if (r == 1) {
				type = LB_TX_KEYS_RECOVERY;
				assert_lb_ok(lb_buf_add(&pl, recb, sizeof recb));
			} else {
				/* the same algorithm again with another fee: the author's update */
				struct lb_xchg_algo p;
				memset(&p, 0, sizeof p);
				memset(p.hash, 0x30 + i, sizeof p.hash);
				p.hash[0] = (uint8_t)(r == 3);
				p.fee = 100 + (uint64_t)(r * 10 + i);
				snprintf(p.name, sizeof p.name, "algo %d", i);
				assert_lb_ok(lb_xchg_algo_encode(&pl, &p));
			}
			tx_on(&raw[k], a.l, LB_CHAIN_BUSINESS, &u[i], type, nonce[i]++, 0, &pl);
			k++;
		}
	if (with_control) {
		lb_buf_reset(&pl);
		tx_on(&raw[k], a.l, LB_CHAIN_BUSINESS, &u[0], TX_WRONGLY_MARKED, nonce[0]++, 0, &pl);
		k++;
	}
	*same = admit_commit_two_blocks(&a, &b, raw, n, NULL);
	/* the offline verifier replays a's history to the same state (not so with the control) */
	twins_close(&a, &b, !with_control);
	for (int i = 0; i < n; i++)
		lb_buf_release(&raw[i]);
	lb_buf_release(&pl);
	lb_free(raw);
}

static void test_marked_module_types_match_fresh_apply(void **state)
{
	(void)state;
	struct lb_keypair prop, u[3];
	uint8_t seed[LB_SEED_LEN];
	const struct lb_txtype wrong = {TX_WRONGLY_MARKED, LB_CHAIN_BUSINESS, "test.wrongmark",
					check_empty, apply_wrong_mark, NULL, true};
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_exchange_register_txtypes());
	assert_lb_ok(lb_security_register_txtypes());
	memset(seed, 0x81, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	for (int i = 0; i < 3; i++) {
		memset(seed, 0x82 + i, sizeof seed);
		lb_keypair_from_seed(&u[i], seed);
	}
	bool same;
	run_marked(&prop, u, 3, false, &same);
	assert_true(same);
	/* control: one wrongly marked type in the second block makes the twins differ */
	int rc = lb_txtype_register(&wrong);
	assert_true(rc == LB_OK || rc == LB_EEXISTS);
	assert_lb_ok(lb_txtype_mark_block_independent(TX_WRONGLY_MARKED));
	run_marked(&prop, u, 3, true, &same);
	assert_false(same);
	for (int i = 0; i < 3; i++)
		lb_keypair_wipe(&u[i]);
	lb_keypair_wipe(&prop);
}

/* ---- compute.run without a prepayment: block-independent ---------------------------------- */

/* Runs that cite no prepayment (inline, and by the hash of a program published in the same
 * block) take their admission writes in their block, and the two blocks equal a fresh
 * application on a twin (receipts and state root); the time of each commit is shown. */
static void test_compute_runs_match_fresh_apply(void **state)
{
	(void)state;
	enum { NU = 3, PER_USER = 100 };
	struct lb_keypair prop, u[NU];
	uint8_t seed[LB_SEED_LEN], ph[LB_HASH_LEN];
	static const char prog[] = "out y = 6 * 7\nout z = y + 1";
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_onchain_register_txtypes());
	memset(seed, 0x91, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	for (int i = 0; i < NU; i++) {
		memset(seed, 0x92 + i, sizeof seed);
		lb_keypair_from_seed(&u[i], seed);
	}
	struct twin a, b;
	twins_open(&a, &b, business_genesis("runs", u, NU), &prop);
	lb_oc_program_hash(ph, (const uint8_t *)prog, strlen(prog));
	int n = NU * PER_USER;
	struct lb_buf *raw = lb_calloc((size_t)n, sizeof *raw), pl;
	assert_non_null(raw);
	lb_buf_init(&pl, 4096);
	uint64_t nonce[NU] = {0};
	int k = 0;
	for (int r = 0; r < PER_USER; r++)
		for (int i = 0; i < NU; i++) {
			lb_buf_reset(&pl);
			uint32_t type = LB_TX_COMPUTE_RUN;
			if (r == 0 && i == 0) {
				type = LB_TX_COMPUTE_PUBLISH;
				assert_lb_ok(lb_buf_add(&pl, prog, strlen(prog)));
			} else {
				struct lb_oc_run_tx run = {.by_hash = r % 2 == 1,
							   .budget = 1000 + (uint64_t)r};
				if (run.by_hash)
					memcpy(run.hash, ph, LB_HASH_LEN);
				run.text = (const uint8_t *)prog;
				run.text_len = strlen(prog);
				assert_lb_ok(lb_oc_run_encode(&pl, &run));
			}
			tx_on(&raw[k], a.l, LB_CHAIN_BUSINESS, &u[i], type, nonce[i]++, 0, &pl);
			k++;
		}
	/* every run took its admission writes (none applied again), both blocks as applied
	 * afresh: the same receipts and state root */
	assert_true(admit_commit_two_blocks(&a, &b, raw, n, "compute txs"));
	twins_close(&a, &b, true);
	for (int i = 0; i < n; i++)
		lb_buf_release(&raw[i]);
	lb_buf_release(&pl);
	lb_free(raw);
	for (int i = 0; i < NU; i++)
		lb_keypair_wipe(&u[i]);
	lb_keypair_wipe(&prop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission_during_commit),
		cmocka_unit_test(test_reused_writes_match_fresh_apply),
		cmocka_unit_test(test_block_dependent_type_refreshes_writes),
		cmocka_unit_test(test_marked_module_types_match_fresh_apply),
		cmocka_unit_test(test_compute_runs_match_fresh_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
