/*
 * Helpers of the unit tests that run a real ledger in a temporary home: make the home,
 * write a genesis, open the ledger, build and sign a tx for it, submit one tx, remove the
 * home. Header-only; every helper asserts (cmocka) instead of returning an error.
 */
#ifndef LEBEN_TEST_LEDGER_FIXTURE_H
#define LEBEN_TEST_LEDGER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/tx.h"
#include "test.h"

#define FX_SETTLEMENT_FEE 1000 /* fee of the settlement txs built here (genesis default) */

/* home (at least 64 bytes) = a new directory /tmp/lb-test-<tag>-XXXXXX. */
static inline void fx_mkhome(char *home, size_t n, const char *tag)
{
	snprintf(home, n, "/tmp/lb-test-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(home));
}

/* Write genesis g (reference taken) into home. */
static inline void fx_genesis(const char *home, json_t *g)
{
	struct lb_errmsg em;
	assert_non_null(g);
	if (lb_genesis_write(home, g, &em))
		fail_msg("genesis: %s", em.text);
	json_decref(g);
}

/* Open the ledger in home with proposer key prop (no full fsync: tests). */
static inline void fx_open(struct lb_ledger **l, const char *home, const struct lb_keypair *prop)
{
	struct lb_ledger_options o;
	struct lb_errmsg em;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	if (lb_ledger_open(l, &o, prop, &em))
		fail_msg("open %s: %s", home, em.text);
}

/* Sign a tx of chain and type for ledger l's network into out (caller releases); a
 * settlement tx pays FX_SETTLEMENT_FEE, the others none. Its id into id when not NULL. */
static inline void fx_build(struct lb_buf *out, struct lb_ledger *l, const struct lb_keypair *kp,
			    int chain, uint32_t type, uint64_t nonce, uint64_t expires_ms,
			    const void *payload, size_t len, uint8_t id[LB_HASH_LEN])
{
	struct lb_tx t;
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = (uint8_t)chain;
	t.type = type;
	t.nonce = nonce;
	t.fee = chain == LB_CHAIN_SETTLEMENT ? FX_SETTLEMENT_FEE : 0;
	t.expires_ms = expires_ms;
	t.payload = payload;
	t.payload_len = len;
	lb_buf_init(out, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_tx_build(out, &t, lb_ledger_network_id(l), kp, id));
}

/* Submit one raw tx; its admission result into *r (code and message). Returns r->code. */
static inline int fx_submit1(struct lb_ledger *l, const void *raw, size_t len,
			     struct lb_submit_result *r)
{
	const uint8_t *raws[1] = {raw};
	size_t lens[1] = {len};
	memset(r, 0, sizeof *r);
	assert_lb_ok(lb_ledger_submit(l, 1, raws, lens, r));
	return r->code;
}

/* The committed CSC balance (micro-CSC) of account a. */
static inline uint64_t fx_csc(struct lb_ledger *l, const uint8_t a[LB_ADDR_LEN])
{
	json_t *o;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_account_json(l, a, &o, &em));
	uint64_t v = (uint64_t)json_integer_value(
		json_object_get(json_object_get(o, "balances"), "csc"));
	json_decref(o);
	return v;
}

/* Remove a home made by fx_mkhome. */
/* A new home (tag as for fx_mkhome) whose genesis funds one account (1000 micro-ASC, 10^6
 * micro-CSC): the proposer key (seed 4s) into prop, the account's key (seed 5s) into a and
 * its address into addr. Core tx types registered. */
static inline void fx_one_account(char *home, size_t n, const char *tag, struct lb_keypair *prop,
				  struct lb_keypair *a, uint8_t addr[LB_ADDR_LEN])
{
	uint8_t seed[LB_SEED_LEN];
	char at[LB_ADDR_TEXT_LEN + 1];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	fx_mkhome(home, n, tag);
	memset(seed, 4, sizeof seed);
	lb_keypair_from_seed(prop, seed);
	memset(seed, 5, sizeof seed);
	lb_keypair_from_seed(a, seed);
	lb_addr_from_pubkey(addr, a->pk);
	lb_addr_encode(at, addr);
	fx_genesis(home, json_pack("{s:s,s:i,s:[{s:s,s:I,s:I}]}", "network", tag, "time_ms", 1,
				   "accounts", "address", at, "asc", (json_int_t)1000, "csc",
				   (json_int_t)1000000));
}

static inline void fx_rmhome(const char *home)
{
	char cmd[600];
	assert_true(strncmp(home, "/tmp/lb-test-", 13) == 0 && !strchr(home, '\''));
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	assert_int_equal(system(cmd), 0);
}

#endif
