/* Consortium governance and checkpoints: the two-thirds arithmetic against a brute-force
 * reference, the payload codecs (round trip and every refusal), super-node kinds, then a real
 * ledger whose genesis names members: admit and remove by vote, every refusal with its own
 * code and no change to the member list, immediate passing with one member, rejection once a
 * proposal can no longer pass, expiry, checkpoint refusals, and the offline check naming the
 * member whose checkpoint differs from the chain; the node monitor (waiting checkpoints, alarms,
 * publication by member keys only) and two nodes fed the same cuts agreeing on every hash
 * whatever alarms one of them raised. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/consortium.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/exchange.h"
#include "leben/ledger.h"
#include "leben/node.h"
#include "leben/tx.h"
#include "ledger_fixture.h"

/* ---- arithmetic -------------------------------------------------------------------------- */

/* Reference: the least t with 3t >= 2n, by counting up. */
static uint64_t ref_threshold(uint64_t n)
{
	uint64_t t = 0;
	while (3 * t < 2 * n)
		t++;
	return t;
}

static void test_threshold(void **state)
{
	(void)state;
	static const uint64_t known[][2] = {{0, 0}, {1, 1}, {2, 2}, {3, 2}, {4, 3},
					    {5, 4}, {6, 4}, {7, 5}, {9, 6}, {10, 7}};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		assert_int_equal(lb_gov_threshold(known[i][0]), known[i][1]);
	for (uint64_t n = 0; n <= 3000; n++)
		if (lb_gov_threshold(n) != ref_threshold(n))
			fail_msg("n=%llu: %llu, want %llu", (unsigned long long)n,
				 (unsigned long long)lb_gov_threshold(n),
				 (unsigned long long)ref_threshold(n));
	/* no overflow near the top: compare with 128-bit arithmetic */
	__extension__ typedef unsigned __int128 u128;
	for (uint64_t n = UINT64_MAX - 10; n != 0; n++) {
		u128 want = ((u128)n * 2 + 2) / 3;
		assert_true((u128)lb_gov_threshold(n) == want);
	}
}

static void test_outcome(void **state)
{
	(void)state;
	for (uint64_t n = 1; n <= 30; n++)
		for (uint64_t yes = 0; yes <= n; yes++)
			for (uint64_t no = 0; yes + no <= n; no++) {
				enum lb_gov_outcome want;
				if (3 * yes >= 2 * n)
					want = LB_GOV_PASSED;
				else if (3 * (n - no) < 2 * n) /* even every other vote yes fails */
					want = LB_GOV_REJECTED;
				else
					want = LB_GOV_OPEN;
				if (lb_gov_outcome(n, yes, no) != want)
					fail_msg("n=%llu yes=%llu no=%llu: %d, want %d",
						 (unsigned long long)n, (unsigned long long)yes,
						 (unsigned long long)no, lb_gov_outcome(n, yes, no),
						 want);
			}
	assert_int_equal(lb_gov_outcome(0, 0, 0), LB_GOV_REJECTED);
}

/* ---- codecs -------------------------------------------------------------------------------- */

static void test_kinds(void **state)
{
	(void)state;
	uint8_t k;
	char buf[64];
	struct lb_errmsg em;
	assert_lb_ok(lb_super_kinds_parse("data,audit", &k, &em));
	assert_int_equal(k, LB_SUPER_DATA | LB_SUPER_AUDIT);
	assert_string_equal(lb_super_kinds_format(k, buf, sizeof buf), "data,audit");
	assert_lb_ok(lb_super_kinds_parse("algorithm,computing,data,audit", &k, &em));
	assert_int_equal(k, LB_SUPER_ALL);
	assert_string_equal(lb_super_kinds_format(k, buf, sizeof buf),
			    "data,computing,algorithm,audit");
	assert_int_equal(lb_super_kinds_parse("data,storage", &k, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "storage"));
	assert_int_equal(lb_super_kinds_parse("", &k, &em), LB_EMALFORMED);
	assert_int_equal(lb_super_kinds_parse("Data", &k, &em), LB_EMALFORMED);
}

static void test_payloads(void **state)
{
	(void)state;
	struct lb_buf b;
	struct lb_errmsg em;
	struct lb_gov_proposal p = {.action = LB_GOV_ADMIT, .kinds = LB_SUPER_DATA,
				    .expires_height = 300}, q;
	memset(p.member, 0x42, LB_ADDR_LEN);
	snprintf(p.name, sizeof p.name, "St. Anna");
	lb_buf_init(&b, 4096);
	assert_lb_ok(lb_gov_proposal_encode(&b, &p));
	/* independent layout: action, 20-byte member, len-prefixed name, kinds, varint 300 */
	uint8_t want[64];
	size_t wl = 0;
	want[wl++] = 1;
	memset(want + wl, 0x42, 20);
	wl += 20;
	want[wl++] = 8;
	memcpy(want + wl, "St. Anna", 8);
	wl += 8;
	want[wl++] = 1;
	want[wl++] = 0xac; /* 300 = 0b10_0101100 */
	want[wl++] = 0x02;
	assert_int_equal(b.len, wl);
	assert_memory_equal(b.data, want, wl);
	assert_lb_ok(lb_gov_proposal_decode(&q, b.data, b.len, &em));
	assert_int_equal(q.action, p.action);
	assert_string_equal(q.name, p.name);
	assert_true(q.expires_height == 300);
	/* refusals */
	assert_int_equal(lb_gov_proposal_decode(&q, b.data, b.len - 1, &em), LB_EMALFORMED);
	want[wl] = 0;
	assert_int_equal(lb_gov_proposal_decode(&q, want, wl + 1, &em), LB_EMALFORMED);
	want[0] = 3;
	assert_int_equal(lb_gov_proposal_decode(&q, want, wl, &em), LB_EMALFORMED);
	want[0] = 2; /* remove with a name */
	assert_int_equal(lb_gov_proposal_decode(&q, want, wl, &em), LB_EINVALID);
	want[0] = 1;
	want[30] = 0x10; /* kinds beyond the four */
	assert_int_equal(lb_gov_proposal_decode(&q, want, wl, &em), LB_EMALFORMED);
	want[30] = 0; /* admit without kinds */
	assert_int_equal(lb_gov_proposal_decode(&q, want, wl, &em), LB_EINVALID);
	want[30] = 1;
	want[31] = 0;
	assert_int_equal(lb_gov_proposal_decode(&q, want, wl - 1, &em), LB_EINVALID); /* expiry 0 */
	uint8_t nonmin[] = {0x80, 0x00};
	memcpy(want + 31, nonmin, 2);
	assert_int_equal(lb_gov_proposal_decode(&q, want, wl, &em), LB_EMALFORMED);

	struct lb_gov_vote v = {.yes = true}, w;
	memset(v.proposal, 7, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_gov_vote_encode(&b, &v));
	assert_int_equal(b.len, 33);
	assert_int_equal(b.data[32], 1);
	assert_lb_ok(lb_gov_vote_decode(&w, b.data, b.len, &em));
	assert_true(w.yes);
	b.data[32] = 2;
	assert_int_equal(lb_gov_vote_decode(&w, b.data, b.len, &em), LB_EMALFORMED);
	assert_int_equal(lb_gov_vote_decode(&w, b.data, 32, &em), LB_EMALFORMED);

	struct lb_checkpoint c = {.chain = LB_CHAIN_DIRECTORY, .height = 128}, d;
	memset(c.block_hash, 0xb1, LB_HASH_LEN);
	memset(c.app_hash, 0xa1, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_checkpoint_encode(&b, &c));
	assert_int_equal(b.len, 1 + 2 + 64);
	assert_int_equal(b.data[0], LB_CHAIN_DIRECTORY);
	assert_int_equal(b.data[1], 0x80);
	assert_int_equal(b.data[2], 0x01);
	assert_lb_ok(lb_checkpoint_decode(&d, b.data, b.len, &em));
	assert_true(d.height == 128 && d.chain == LB_CHAIN_DIRECTORY);
	assert_memory_equal(d.app_hash, c.app_hash, LB_HASH_LEN);
	b.data[0] = 3;
	assert_int_equal(lb_checkpoint_decode(&d, b.data, b.len, &em), LB_EMALFORMED);
	b.data[0] = 0;
	assert_int_equal(lb_checkpoint_decode(&d, b.data, b.len - 1, &em), LB_EMALFORMED);
	b.data[2] = 0x00; /* height as the non-minimal varint 0x80 0x00 */
	assert_int_equal(lb_checkpoint_decode(&d, b.data, b.len, &em), LB_EMALFORMED);
	uint8_t zero[67] = {0};
	assert_int_equal(lb_checkpoint_decode(&d, zero, sizeof zero - 1, &em), LB_EINVALID);
	lb_buf_release(&b);
}

/* ---- a real ledger ---------------------------------------------------------------------------- */

#define NK 6 /* 0 node, 1..3 genesis members A B C, 4 D (outsider), 5 E */

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair k[NK];
	uint8_t a[NK][LB_ADDR_LEN];
	uint64_t nonce[NK];
	uint64_t height;            /* business height */
	struct lb_consortium *mon;  /* told of every commit when set */
};

static void build(struct fx *f, struct lb_buf *out, int who, uint32_t type,
		  const struct lb_buf *pl, uint8_t id[LB_HASH_LEN])
{
	struct lb_tx t;
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_BUSINESS;
	t.type = type;
	t.nonce = f->nonce[who];
	t.payload = pl->data;
	t.payload_len = pl->len;
	lb_buf_init(out, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_tx_build(out, &t, lb_ledger_network_id(f->l), &f->k[who], id));
}

static char *members_text(struct fx *f)
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_consortium_members_json(f->l, &o, &em));
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	assert_non_null(s);
	return s;
}

/* Submit and, if admitted, commit it as the next business block. Returns the admission code;
 * a refusal must leave the member list and the mempool unchanged. */
static int gov_send(struct fx *f, int who, uint32_t type, const struct lb_buf *pl,
		uint8_t id[LB_HASH_LEN])
{
	struct lb_buf raw;
	uint8_t tid[LB_HASH_LEN];
	char *before = members_text(f);
	build(f, &raw, who, type, pl, id ? id : tid);
	struct lb_submit_result r;
	const uint8_t *raws[1] = {raw.data};
	size_t lens[1] = {raw.len};
	assert_lb_ok(lb_ledger_submit(f->l, 1, raws, lens, &r));
	if (r.code == LB_OK) {
		struct lb_cut c = {LB_CHAIN_BUSINESS, 1000 + f->height, 1, raws, lens};
		struct lb_errmsg em;
		uint64_t h;
		if (lb_ledger_commit(f->l, &c, &h, &em))
			fail_msg("commit: %s", em.text);
		f->height = h;
		f->nonce[who]++;
		lb_consortium_after_commit(f->mon, &c, h);
		/* committing applies it again: it must still be valid */
		json_t *tx = NULL;
		assert_lb_ok(lb_ledger_tx_json(f->l, r.id, &tx, &em));
		assert_string_equal(json_string_value(json_object_get(tx, "status")), "committed");
		json_decref(tx);
	} else {
		assert_true(r.message[0] != 0);
		print_message("refused as expected? %s: %s\n", lb_errname(r.code), r.message);
		char *after = members_text(f);
		assert_string_equal(before, after);
		free(after);
		assert_int_equal(lb_ledger_pending(f->l, LB_CHAIN_BUSINESS), 0);
	}
	free(before);
	lb_buf_release(&raw);
	return r.code;
}

static void empty_block(struct fx *f)
{
	struct lb_cut c = {LB_CHAIN_BUSINESS, 1000 + f->height, 0, NULL, NULL};
	struct lb_errmsg em;
	if (lb_ledger_commit(f->l, &c, &f->height, &em))
		fail_msg("commit: %s", em.text);
}

static int propose(struct fx *f, int who, uint8_t action, int target, const char *name,
		   uint8_t kinds, uint64_t expires, uint8_t id[LB_HASH_LEN])
{
	struct lb_gov_proposal p = {.action = action, .kinds = kinds, .expires_height = expires};
	memcpy(p.member, f->a[target], LB_ADDR_LEN);
	snprintf(p.name, sizeof p.name, "%s", name ? name : "");
	struct lb_buf b;
	lb_buf_init(&b, 1024);
	assert_lb_ok(lb_gov_proposal_encode(&b, &p));
	int rc = gov_send(f, who, LB_TX_GOV_PROPOSE, &b, id);
	lb_buf_release(&b);
	return rc;
}

static int vote(struct fx *f, int who, const uint8_t id[LB_HASH_LEN], bool yes)
{
	struct lb_gov_vote v = {.yes = yes};
	memcpy(v.proposal, id, LB_HASH_LEN);
	struct lb_buf b;
	lb_buf_init(&b, 1024);
	assert_lb_ok(lb_gov_vote_encode(&b, &v));
	int rc = gov_send(f, who, LB_TX_GOV_VOTE, &b, NULL);
	lb_buf_release(&b);
	return rc;
}

static int checkpoint(struct fx *f, int who, uint8_t chain, uint64_t height, bool honest)
{
	struct lb_checkpoint c = {.chain = chain, .height = height};
	struct lb_errmsg em;
	if (lb_ledger_block_hashes(f->l, chain, height, c.block_hash, c.app_hash, &em))
		memset(c.block_hash, 0x5a, LB_HASH_LEN);
	if (!honest)
		c.block_hash[0] ^= 1;
	struct lb_buf b;
	lb_buf_init(&b, 1024);
	assert_lb_ok(lb_checkpoint_encode(&b, &c));
	int rc = gov_send(f, who, LB_TX_CHECKPOINT, &b, NULL);
	lb_buf_release(&b);
	return rc;
}

/* Members, open proposals: count, and the yes/no of the first open proposal. */
static void expect(struct fx *f, size_t count, size_t open, int yes, int no)
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_consortium_members_json(f->l, &o, &em));
	assert_int_equal(json_integer_value(json_object_get(o, "count")), count);
	assert_int_equal(json_array_size(json_object_get(o, "members")), count);
	assert_int_equal(json_integer_value(json_object_get(o, "threshold")),
			 ref_threshold(count));
	json_t *props = json_object_get(o, "proposals");
	assert_int_equal(json_array_size(props), open);
	if (open) {
		json_t *p = json_array_get(props, 0);
		assert_int_equal(json_integer_value(json_object_get(p, "yes")), yes);
		assert_int_equal(json_integer_value(json_object_get(p, "no")), no);
	}
	json_decref(o);
}

/* setup_fx with genesis.json's "governance" section (stolen; NULL: none). */
static void setup_fx_gov(struct fx *f, int nmembers, json_t *governance);

static void setup_fx(struct fx *f, int nmembers)
{
	setup_fx_gov(f, nmembers, NULL);
}

static void setup_fx_gov(struct fx *f, int nmembers, json_t *governance)
{
	uint8_t seed[LB_SEED_LEN];
	char hx[2 * LB_PUBKEY_LEN + 1], at[LB_ADDR_TEXT_LEN + 1];
	memset(f, 0, sizeof *f);
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_register_txtypes());
	fx_mkhome(f->home, sizeof f->home, "gov");
	for (int i = 0; i < NK; i++) {
		memset(seed, 0x30 + i, sizeof seed);
		lb_keypair_from_seed(&f->k[i], seed);
		lb_addr_from_pubkey(f->a[i], f->k[i].pk);
	}
	json_t *members = json_array();
	static const char *names[] = {"", "Hospital A", "Institute B", "Clinic C"};
	for (int i = 1; i <= nmembers; i++) {
		lb_addr_encode(at, f->a[i]);
		lb_hex_encode(hx, f->k[i].pk, LB_PUBKEY_LEN);
		/* one by address, the others by public key; kinds as a list and as text */
		json_array_append_new(members,
				      i == 1 ? json_pack("{s:s,s:s,s:[s,s]}", "name", names[i],
							 "address", at, "kinds", "data", "audit")
					     : json_pack("{s:s,s:s,s:s}", "name", names[i],
							 "public_key", hx, "kinds", "computing"));
	}
	lb_hex_encode(hx, f->k[0].pk, LB_PUBKEY_LEN);
	json_t *g = json_pack("{s:s,s:i,s:s,s:o}", "network", "gov-test", "time_ms", 1, "proposer",
			      hx, "members", members);
	if (governance)
		json_object_set_new(g, "governance", governance);
	fx_genesis(f->home, g);
	fx_open(&f->l, f->home, &f->k[0]);
}

static void teardown_fx(struct fx *f)
{
	lb_ledger_close(f->l);
	fx_rmhome(f->home);
	for (int i = 0; i < NK; i++)
		lb_keypair_wipe(&f->k[i]);
}

enum { NODE = 0, A = 1, B = 2, C = 3, D = 4, E = 5 };

static void test_governance(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t pid[LB_HASH_LEN], pid2[LB_HASH_LEN], bogus[LB_HASH_LEN];
	char name[LB_MEMBER_NAME_MAX + 1];
	struct lb_errmsg em;
	setup_fx(&f, 3);
	expect(&f, 3, 0, 0, 0);
	assert_true(lb_consortium_member_name(f.l, f.a[A], name));
	assert_string_equal(name, "Hospital A");
	assert_true(lb_consortium_is_member(f.l, f.a[C]));
	assert_false(lb_consortium_is_member(f.l, f.a[D]));
	assert_false(lb_consortium_is_member(f.l, f.a[NODE]));

	/* an outsider can neither propose nor vote */
	assert_int_equal(propose(&f, D, LB_GOV_ADMIT, D, "Lab D", LB_SUPER_DATA, 100, NULL),
			 LB_EUNAUTH);
	/* proposals that cannot apply */
	assert_int_equal(propose(&f, A, LB_GOV_ADMIT, B, "B again", LB_SUPER_DATA, 100, NULL),
			 LB_EEXISTS);
	assert_int_equal(propose(&f, A, LB_GOV_REMOVE, D, NULL, 0, 100, NULL), LB_ENOTFOUND);
	empty_block(&f);
	empty_block(&f);
	assert_int_equal(propose(&f, A, LB_GOV_ADMIT, D, "Lab D", LB_SUPER_DATA, f.height, NULL),
			 LB_EINVALID); /* expiry already past */

	/* A proposes D: 1 yes of the 2 needed */
	assert_lb_ok(propose(&f, A, LB_GOV_ADMIT, D, "Lab D", LB_SUPER_DATA | LB_SUPER_COMPUTING,
			     f.height + 50, pid));
	expect(&f, 3, 1, 1, 0);
	assert_int_equal(propose(&f, B, LB_GOV_ADMIT, D, "Lab D", LB_SUPER_DATA, f.height + 50,
				 NULL),
			 LB_EEXISTS); /* one open proposal per member */
	assert_int_equal(vote(&f, D, pid, true), LB_EUNAUTH);
	assert_int_equal(vote(&f, A, pid, true), LB_EDUPLICATE);
	memset(bogus, 0xee, sizeof bogus);
	assert_int_equal(vote(&f, B, bogus, true), LB_ENOTFOUND);
	/* B's yes makes 2 of 3: D is admitted */
	assert_lb_ok(vote(&f, B, pid, true));
	expect(&f, 4, 0, 0, 0);
	assert_true(lb_consortium_member_name(f.l, f.a[D], name));
	assert_string_equal(name, "Lab D");
	assert_int_equal(vote(&f, C, pid, true), LB_EINVALID); /* already passed */

	/* remove C: A yes, C no, D no -> 2 no of 4 with 3 needed: rejected */
	assert_lb_ok(propose(&f, A, LB_GOV_REMOVE, C, NULL, 0, f.height + 50, pid2));
	expect(&f, 4, 1, 1, 0);
	assert_lb_ok(vote(&f, C, pid2, false));
	expect(&f, 4, 1, 1, 1);
	assert_lb_ok(vote(&f, D, pid2, false));
	expect(&f, 4, 0, 0, 0);
	assert_int_equal(vote(&f, B, pid2, true), LB_EINVALID); /* already rejected */

	/* remove D: A, B, C yes -> 3 of 4 */
	assert_lb_ok(propose(&f, A, LB_GOV_REMOVE, D, NULL, 0, f.height + 50, pid));
	assert_lb_ok(vote(&f, D, pid, false));
	assert_lb_ok(vote(&f, B, pid, true));
	expect(&f, 4, 1, 2, 1);
	assert_lb_ok(vote(&f, C, pid, true));
	expect(&f, 3, 0, 0, 0);
	assert_false(lb_consortium_is_member(f.l, f.a[D]));
	assert_int_equal(vote(&f, D, pid, true), LB_EUNAUTH); /* no longer a member */

	/* expiry: votes count up to and including the expiry height */
	assert_lb_ok(propose(&f, A, LB_GOV_ADMIT, E, "E", LB_SUPER_AUDIT, f.height + 2, pid));
	empty_block(&f);
	empty_block(&f);
	assert_int_equal(vote(&f, B, pid, true), LB_EEXPIRED);
	expect(&f, 3, 1, 1, 0);
	/* an expired proposal does not block a new one on the same member */
	assert_lb_ok(propose(&f, B, LB_GOV_ADMIT, E, "E", LB_SUPER_AUDIT, f.height + 9, pid2));
	expect(&f, 3, 1, 1, 0);

	/* checkpoints: members only, once per (member, chain, height), business before now */
	assert_int_equal(checkpoint(&f, D, LB_CHAIN_BUSINESS, 1, true), LB_EUNAUTH);
	assert_int_equal(checkpoint(&f, NODE, LB_CHAIN_BUSINESS, 1, true), LB_EUNAUTH);
	assert_lb_ok(checkpoint(&f, A, LB_CHAIN_BUSINESS, 2, true));
	assert_int_equal(checkpoint(&f, A, LB_CHAIN_BUSINESS, 2, true), LB_EDUPLICATE);
	assert_int_equal(checkpoint(&f, B, LB_CHAIN_BUSINESS, f.height + 1, true), LB_EINVALID);
	assert_lb_ok(checkpoint(&f, B, LB_CHAIN_BUSINESS, 3, true));
	/* what catch-up and compaction read back */
	uint8_t bh[LB_HASH_LEN], ah[LB_HASH_LEN], want_bh[LB_HASH_LEN], want_ah[LB_HASH_LEN];
	uint64_t low = 99;
	assert_lb_ok(lb_consortium_checkpoint_get(f.l, LB_CHAIN_BUSINESS, 3, f.a[B], bh, ah));
	assert_lb_ok(lb_ledger_block_hashes(f.l, LB_CHAIN_BUSINESS, 3, want_bh, want_ah, &em));
	assert_memory_equal(bh, want_bh, LB_HASH_LEN);
	assert_memory_equal(ah, want_ah, LB_HASH_LEN);
	assert_int_equal(lb_consortium_checkpoint_get(f.l, LB_CHAIN_BUSINESS, 3, f.a[A], bh, ah),
			 LB_ENOTFOUND);
	assert_lb_ok(lb_consortium_checkpointed_height(f.l, LB_CHAIN_BUSINESS, &low, &em));
	assert_int_equal(low, 0); /* C has checkpointed nothing */
	assert_lb_ok(checkpoint(&f, C, LB_CHAIN_BUSINESS, 1, true));
	assert_lb_ok(checkpoint(&f, C, LB_CHAIN_BUSINESS, 5, true));
	assert_lb_ok(lb_consortium_checkpointed_height(f.l, LB_CHAIN_BUSINESS, &low, &em));
	assert_int_equal(low, 2); /* A: 2, B: 3, C: 5 */
	assert_lb_ok(lb_consortium_checkpointed_height(f.l, LB_CHAIN_SETTLEMENT, &low, &em));
	assert_int_equal(low, 0);
	/* a member may record a checkpoint of a chain height not reached here: consensus does
	 * not judge it (only the local monitor and verify do) */

	uint64_t n = 0;
	lb_ledger_close(f.l);
	f.l = NULL;
	assert_lb_ok(lb_ledger_verify_home(f.home, NULL, NULL, &em));
	assert_lb_ok(lb_consortium_verify_home(f.home, &n, &em));
	assert_int_equal(n, 4);

	/* a conflicting checkpoint from C is recorded (consensus agrees it was signed) but the
	 * offline check names C */
	fx_open(&f.l, f.home, &f.k[0]);
	assert_lb_ok(checkpoint(&f, C, LB_CHAIN_BUSINESS, 4, false));
	lb_ledger_close(f.l);
	f.l = NULL;
	assert_lb_ok(lb_ledger_verify_home(f.home, NULL, NULL, &em));
	assert_int_equal(lb_consortium_verify_home(f.home, &n, &em), LB_ECORRUPT);
	print_message("verify: %s\n", em.text);
	assert_non_null(strstr(em.text, "Clinic C"));
	char at[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(at, f.a[C]);
	assert_non_null(strstr(em.text, at));
	assert_non_null(strstr(em.text, "business block 4"));
	f.l = NULL;
	fx_rmhome(f.home);
}

static void test_last_member(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t pid[LB_HASH_LEN];
	setup_fx(&f, 1);
	expect(&f, 1, 0, 0, 0);
	/* a lone member cannot remove itself */
	assert_int_equal(propose(&f, A, LB_GOV_REMOVE, A, NULL, 0, 100, NULL), LB_EDENIED);
	/* with one member, the proposer's own vote is two thirds: B is admitted at once */
	assert_lb_ok(propose(&f, A, LB_GOV_ADMIT, B, "Institute B", LB_SUPER_ALGORITHM, 100, NULL));
	expect(&f, 2, 0, 0, 0);
	/* two members need both: A proposes removing itself, B agrees */
	assert_lb_ok(propose(&f, A, LB_GOV_REMOVE, A, NULL, 0, 100, pid));
	expect(&f, 2, 1, 1, 0);
	assert_lb_ok(vote(&f, B, pid, true));
	expect(&f, 1, 0, 0, 0);
	assert_false(lb_consortium_is_member(f.l, f.a[A]));
	assert_int_equal(propose(&f, B, LB_GOV_REMOVE, B, NULL, 0, 100, NULL), LB_EDENIED);
	teardown_fx(&f);
}

/* Commit raw txs as one business block, without admission (as a consortium's orderer may
 * cut txs admitted by different nodes). */
static void commit_raw(struct fx *f, size_t n, struct lb_buf *raws)
{
	const uint8_t *r[4];
	size_t lens[4];
	for (size_t i = 0; i < n; i++) {
		r[i] = raws[i].data;
		lens[i] = raws[i].len;
	}
	struct lb_cut c = {LB_CHAIN_BUSINESS, 1000 + f->height, n, r, lens};
	struct lb_errmsg em;
	if (lb_ledger_commit(f->l, &c, &f->height, &em))
		fail_msg("commit: %s", em.text);
}

static const char *tx_status(struct fx *f, const uint8_t id[LB_HASH_LEN], char *buf, size_t n)
{
	json_t *tx = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_tx_json(f->l, id, &tx, &em));
	snprintf(buf, n, "%s", json_string_value(json_object_get(tx, "status")));
	json_decref(tx);
	return buf;
}

/* Attack: a second member of one name (or of a name that is another's NAME:SITE) would hold
 * the other's surgery hospital id. Where genesis says "governance": {"unique_names": true}
 * the proposal is refused at admission, and a passing vote at apply time when another member
 * took the name meanwhile; the member list is unchanged. Chains without the flag keep the
 * older rule (such an admission passes, so they replay as before). */
static void test_unique_names(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t pd[LB_HASH_LEN], pe[LB_HASH_LEN], vd[LB_HASH_LEN], ve[LB_HASH_LEN];
	char name[LB_MEMBER_NAME_MAX + 1], st[32];
	setup_fx_gov(&f, 3, json_pack("{s:b}", "unique_names", 1));
	/* A, B and C: 2 of 3 pass a proposal */
	assert_int_equal(propose(&f, A, LB_GOV_ADMIT, D, "Hospital A", LB_SUPER_DATA, 100, NULL),
			 LB_EEXISTS);
	assert_int_equal(propose(&f, A, LB_GOV_ADMIT, D, "Hospital A:North", LB_SUPER_DATA, 100,
				 NULL),
			 LB_EEXISTS); /* a site of A's */
	assert_int_equal(propose(&f, B, LB_GOV_ADMIT, D, "Clinic C", LB_SUPER_DATA, 100, NULL),
			 LB_EEXISTS);
	expect(&f, 3, 0, 0, 0);
	assert_false(lb_consortium_is_member(f.l, f.a[D]));
	/* "Hospital" and "Hospital AB" are other names */
	assert_lb_ok(propose(&f, A, LB_GOV_ADMIT, D, "Hospital", LB_SUPER_DATA, f.height + 50, pd));
	/* E under the same name while D's proposal is open: nobody holds it yet */
	assert_lb_ok(propose(&f, B, LB_GOV_ADMIT, E, "Hospital", LB_SUPER_DATA, f.height + 50, pe));
	expect(&f, 3, 2, 1, 0);
	/* one block (txs admitted by different nodes): C's yes admits D (4 members, 3 yes
	 * needed), A's and D's yes would admit a second "Hospital": that last vote fails there,
	 * E is not admitted */
	struct lb_buf raws[3], pl;
	uint8_t va[LB_HASH_LEN];
	const struct {
		int who;
		const uint8_t *prop;
		uint8_t *id;
	} bv[3] = {{C, pd, vd}, {A, pe, va}, {D, pe, ve}};
	for (int i = 0; i < 3; i++) {
		struct lb_gov_vote v = {.yes = true};
		memcpy(v.proposal, bv[i].prop, LB_HASH_LEN);
		lb_buf_init(&pl, 1024);
		assert_lb_ok(lb_gov_vote_encode(&pl, &v));
		build(&f, &raws[i], bv[i].who, LB_TX_GOV_VOTE, &pl, bv[i].id);
		f.nonce[bv[i].who]++;
		lb_buf_release(&pl);
	}
	commit_raw(&f, 3, raws);
	for (int i = 0; i < 3; i++)
		lb_buf_release(&raws[i]);
	assert_string_equal(tx_status(&f, vd, st, sizeof st), "committed");
	assert_string_equal(tx_status(&f, va, st, sizeof st), "committed");
	assert_string_equal(tx_status(&f, ve, st, sizeof st), "invalid");
	assert_true(lb_consortium_member_name(f.l, f.a[D], name));
	assert_string_equal(name, "Hospital");
	assert_false(lb_consortium_is_member(f.l, f.a[E]));
	/* through admission the same vote is refused with the name named */
	assert_int_equal(vote(&f, C, pe, true), LB_EEXISTS);
	assert_false(lb_consortium_is_member(f.l, f.a[E]));
	teardown_fx(&f);

	/* without the flag (chains made before it): the older rule, the admission passes */
	setup_fx(&f, 3);
	assert_lb_ok(propose(&f, A, LB_GOV_ADMIT, D, "Hospital A", LB_SUPER_DATA, 100, pd));
	assert_lb_ok(vote(&f, B, pd, true));
	assert_true(lb_consortium_member_name(f.l, f.a[D], name));
	assert_string_equal(name, "Hospital A");
	teardown_fx(&f);
}

static void test_genesis_refusals(void **state)
{
	(void)state;
	static const char *bad[] = {
		"[]",
		"{}",
		"[{\"name\":\"x\",\"kinds\":\"data\"}]",
		"[{\"name\":\"\",\"address\":\"ADDR\",\"kinds\":\"data\"}]",
		"[{\"name\":\"x\",\"address\":\"ADDR\",\"kinds\":\"storage\"}]",
		"[{\"name\":\"x\",\"address\":\"ADDR\",\"kinds\":[]}]",
		"[{\"name\":\"x\",\"address\":\"ADDR\",\"kinds\":\"data\"},"
		" {\"name\":\"y\",\"address\":\"ADDR\",\"kinds\":\"audit\"}]",
		"[{\"name\":\"x\",\"public_key\":\"abcd\",\"kinds\":\"data\"}]",
		"[{\"name\":\"x\",\"address\":\"lb1notanaddress\",\"kinds\":\"data\"}]",
		/* with governance.unique_names (the cases naming "unique"): two of one name, or a
		 * name that is another's NAME:SITE */
		"[{\"name\":\"unique\",\"address\":\"ADDR\",\"kinds\":\"data\"},"
		" {\"name\":\"unique\",\"public_key\":\"PK\",\"kinds\":\"audit\"}]",
		"[{\"name\":\"unique\",\"address\":\"ADDR\",\"kinds\":\"data\"},"
		" {\"name\":\"unique:2\",\"public_key\":\"PK\",\"kinds\":\"audit\"}]",
	};
	struct lb_keypair kp;
	uint8_t addr[LB_ADDR_LEN], seed[LB_SEED_LEN];
	char at[LB_ADDR_TEXT_LEN + 1], hx[2 * LB_PUBKEY_LEN + 1];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_register_txtypes());
	memset(seed, 9, sizeof seed);
	lb_keypair_from_seed(&kp, seed);
	lb_addr_from_pubkey(addr, kp.pk);
	lb_addr_encode(at, addr);
	lb_hex_encode(hx, kp.pk, LB_PUBKEY_LEN);
	struct lb_keypair kp2; /* another member's key, where a case says PK */
	char hx2[2 * LB_PUBKEY_LEN + 1];
	memset(seed, 10, sizeof seed);
	lb_keypair_from_seed(&kp2, seed);
	lb_hex_encode(hx2, kp2.pk, LB_PUBKEY_LEN);
	lb_keypair_wipe(&kp2);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char home[64], text[512];
		fx_mkhome(home, sizeof home, "gov");
		/* the member address goes where the case says ADDR */
		size_t tl = 0;
		for (const char *q = bad[i]; *q && tl + 2 * LB_PUBKEY_LEN < sizeof text;) {
			if (!strncmp(q, "PK", 2)) {
				memcpy(text + tl, hx2, 2 * LB_PUBKEY_LEN);
				tl += 2 * LB_PUBKEY_LEN;
				q += 2;
			} else if (!strncmp(q, "ADDR", 4)) {
				memcpy(text + tl, at, LB_ADDR_TEXT_LEN);
				tl += LB_ADDR_TEXT_LEN;
				q += 4;
			} else {
				text[tl++] = *q++;
			}
		}
		text[tl] = 0;
		json_error_t je;
		json_t *members = json_loads(text, 0, &je);
		assert_non_null(members);
		json_t *g = json_pack("{s:s,s:i,s:s,s:o}", "network", "g", "time_ms", 1,
				      "proposer", hx, "members", members);
		if (strstr(text, "\"unique\"")) /* a case for governance.unique_names */
			json_object_set_new(g, "governance", json_pack("{s:b}", "unique_names", 1));
		fx_genesis(home, g);
		struct lb_errmsg em;
		struct lb_ledger_options o;
		struct lb_ledger *l = NULL;
		lb_ledger_options_init(&o);
		o.home = home;
		int rc = lb_ledger_open(&l, &o, &kp, &em);
		if (rc == LB_OK)
			fail_msg("members %s: accepted", text);
		print_message("members %s: %s\n", text, em.text);
		assert_non_null(strstr(em.text, "genesis"));
		if (strstr(text, "\"unique\""))
			assert_non_null(strstr(em.text, "clashes"));
		fx_rmhome(home);
	}
	lb_keypair_wipe(&kp);
}

/* The node's monitor: a member's checkpoint of a block this node does not have yet waits,
 * then raises an alarm naming the member once the block differs; an honest one is counted as
 * checked; own checkpoints are published only by a member key. */
static void test_monitor(void **state)
{
	(void)state;
	static struct fx f;
	struct lb_errmsg em;
	setup_fx(&f, 3);
	assert_lb_ok(lb_consortium_new(&f.mon, f.l, &f.k[A], 0, &em));
	/* B signs settlement block 1 before it exists here: recorded, waiting */
	assert_lb_ok(checkpoint(&f, B, LB_CHAIN_SETTLEMENT, 1, true));
	json_t *st = lb_consortium_status_json(f.mon);
	assert_int_equal(json_integer_value(json_object_get(st, "waiting")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "alarm_count")), 0);
	assert_true(json_is_true(json_object_get(st, "member")));
	assert_string_equal(json_string_value(json_object_get(st, "member_name")), "Hospital A");
	json_decref(st);
	/* C signs business block 1 honestly: checked at once */
	assert_lb_ok(checkpoint(&f, C, LB_CHAIN_BUSINESS, 1, true));
	st = lb_consortium_status_json(f.mon);
	assert_int_equal(json_integer_value(json_object_get(st, "checked")), 1);
	json_decref(st);
	/* settlement block 1 is committed here and differs from what B signed */
	struct lb_cut c = {LB_CHAIN_SETTLEMENT, 5, 0, NULL, NULL};
	uint64_t h;
	assert_lb_ok(lb_ledger_commit(f.l, &c, &h, &em));
	assert_int_equal(lb_consortium_alarm_count(f.mon), 0);
	lb_consortium_after_commit(f.mon, &c, h);
	assert_int_equal(lb_consortium_alarm_count(f.mon), 1);
	st = lb_consortium_status_json(f.mon);
	json_t *a = json_array_get(json_object_get(st, "alarms"), 0);
	char at[LB_ADDR_TEXT_LEN + 1], own[2 * LB_HASH_LEN + 1];
	uint8_t hash[LB_HASH_LEN];
	lb_addr_encode(at, f.a[B]);
	assert_lb_ok(lb_ledger_block_hashes(f.l, LB_CHAIN_SETTLEMENT, 1, hash, NULL, &em));
	lb_hex_encode(own, hash, LB_HASH_LEN);
	assert_string_equal(json_string_value(json_object_get(a, "member_name")), "Institute B");
	assert_string_equal(json_string_value(json_object_get(a, "member")), at);
	assert_string_equal(json_string_value(json_object_get(a, "chain")), "settlement");
	assert_int_equal(json_integer_value(json_object_get(a, "height")), 1);
	assert_string_equal(json_string_value(json_object_get(a, "own_block_hash")), own);
	assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "Institute B"));
	assert_int_equal(json_integer_value(json_object_get(st, "waiting")), 0);
	json_decref(st);
	/* the alarm is not consensus state: a fresh replay agrees on every app hash */
	lb_consortium_free(f.mon);
	f.mon = NULL;

	/* publishing: a non-member node key publishes nothing, a member's key does */
	struct lb_consortium *outsider, *member;
	assert_lb_ok(lb_consortium_new(&outsider, f.l, &f.k[D], 1, &em));
	assert_lb_ok(lb_consortium_new(&member, f.l, &f.k[A], 1, &em));
	lb_consortium_after_commit(outsider, &c, h);
	lb_consortium_free(outsider); /* joins its publisher: whatever it did is done */
	assert_int_equal(lb_ledger_pending(f.l, LB_CHAIN_BUSINESS), 0);
	lb_consortium_after_commit(member, &c, h);
	/* wait for the publisher thread (a bound, not a timing assertion) */
	json_int_t published = 0;
	for (int i = 0; i < 10000 && !published; i++) {
		st = lb_consortium_status_json(member);
		published = json_integer_value(json_object_get(st, "published"));
		json_decref(st);
		if (!published)
			usleep(1000);
	}
	assert_int_equal(published, 1);
	assert_int_equal(lb_ledger_pending(f.l, LB_CHAIN_BUSINESS), 1);
	st = lb_consortium_status_json(member);
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(st, "last_published"), "settlement")),
			 1);
	json_decref(st);
	lb_consortium_free(member);
	lb_ledger_close(f.l);
	f.l = NULL;
	uint64_t n;
	assert_lb_ok(lb_ledger_verify_home(f.home, NULL, NULL, &em));
	assert_int_equal(lb_consortium_verify_home(f.home, &n, &em), LB_ECORRUPT);
	assert_non_null(strstr(em.text, "Institute B"));
	fx_rmhome(f.home);
	for (int i = 0; i < NK; i++)
		lb_keypair_wipe(&f.k[i]);
}

/* Two nodes fed the same ordered cuts (as with a shared orderer), one running the monitor:
 * whatever the monitor raises, both hold the same blocks, hashes and app hashes at every
 * height (alarms are never consensus state), and both agree on the member list. */
static void test_two_nodes(void **state)
{
	(void)state;
	static struct fx f1, f2;
	struct lb_errmsg em;
	setup_fx(&f1, 3);
	setup_fx(&f2, 3); /* same seeds, same genesis: the same network */
	assert_memory_equal(lb_ledger_network_id(f1.l), lb_ledger_network_id(f2.l), LB_HASH_LEN);
	assert_lb_ok(lb_consortium_new(&f1.mon, f1.l, &f1.k[A], 0, &em));
	struct {
		int who;
		uint32_t type;
		int kind; /* 0 propose admit D, 1 vote yes on it, 2 honest ckpt, 3 bad ckpt */
	} steps[] = {{A, LB_TX_GOV_PROPOSE, 0}, {B, LB_TX_GOV_VOTE, 1}, {C, LB_TX_CHECKPOINT, 3},
		     {A, LB_TX_CHECKPOINT, 2}, {D, LB_TX_CHECKPOINT, 2}};
	uint8_t pid[LB_HASH_LEN];
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		struct lb_buf pl, raw;
		lb_buf_init(&pl, 1024);
		if (steps[i].kind == 0) {
			struct lb_gov_proposal p = {.action = LB_GOV_ADMIT, .kinds = LB_SUPER_DATA,
						    .expires_height = 100};
			memcpy(p.member, f1.a[D], LB_ADDR_LEN);
			snprintf(p.name, sizeof p.name, "Lab D");
			assert_lb_ok(lb_gov_proposal_encode(&pl, &p));
		} else if (steps[i].kind == 1) {
			struct lb_gov_vote v = {.yes = true};
			memcpy(v.proposal, pid, LB_HASH_LEN);
			assert_lb_ok(lb_gov_vote_encode(&pl, &v));
		} else {
			struct lb_checkpoint c = {.chain = LB_CHAIN_BUSINESS, .height = 1};
			assert_lb_ok(lb_ledger_block_hashes(f1.l, LB_CHAIN_BUSINESS, 1, c.block_hash,
							    c.app_hash, &em));
			if (steps[i].kind == 3)
				c.app_hash[31] ^= 0x80;
			assert_lb_ok(lb_checkpoint_encode(&pl, &c));
		}
		uint8_t id[LB_HASH_LEN];
		build(&f1, &raw, steps[i].who, steps[i].type, &pl, id);
		if (i == 0)
			memcpy(pid, id, LB_HASH_LEN);
		const uint8_t *raws[1] = {raw.data};
		size_t lens[1] = {raw.len};
		struct lb_cut c = {LB_CHAIN_BUSINESS, 100 + i, 1, raws, lens};
		uint64_t h1, h2;
		assert_lb_ok(lb_ledger_commit(f1.l, &c, &h1, &em));
		assert_lb_ok(lb_ledger_commit(f2.l, &c, &h2, &em));
		assert_int_equal(h1, h2);
		lb_consortium_after_commit(f1.mon, &c, h1);
		f1.nonce[steps[i].who]++;
		lb_buf_release(&pl);
		lb_buf_release(&raw);
	}
	/* the bad checkpoint raised one alarm on node 1, naming C */
	assert_int_equal(lb_consortium_alarm_count(f1.mon), 1);
	json_t *st = lb_consortium_status_json(f1.mon);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(st, "alarms"), 0), "member_name")),
			    "Clinic C");
	assert_int_equal(json_integer_value(json_object_get(st, "checked")), 2); /* A's and D's */
	json_decref(st);
	/* both nodes: same blocks, same app hashes, same members */
	uint64_t top = lb_ledger_height(f1.l, LB_CHAIN_BUSINESS);
	assert_int_equal(top, 5);
	assert_int_equal(lb_ledger_height(f2.l, LB_CHAIN_BUSINESS), top);
	for (uint64_t h = 0; h <= top; h++) {
		uint8_t b1[LB_HASH_LEN], a1[LB_HASH_LEN], b2[LB_HASH_LEN], a2[LB_HASH_LEN];
		assert_lb_ok(lb_ledger_block_hashes(f1.l, LB_CHAIN_BUSINESS, h, b1, a1, &em));
		assert_lb_ok(lb_ledger_block_hashes(f2.l, LB_CHAIN_BUSINESS, h, b2, a2, &em));
		assert_memory_equal(b1, b2, LB_HASH_LEN);
		assert_memory_equal(a1, a2, LB_HASH_LEN);
	}
	char *m1 = members_text(&f1), *m2 = members_text(&f2);
	assert_string_equal(m1, m2);
	assert_non_null(strstr(m1, "Lab D"));
	free(m1);
	free(m2);
	lb_consortium_free(f1.mon);
	f1.mon = NULL;
	teardown_fx(&f1);
	teardown_fx(&f2);
}


/* ---- rules, removal effects, vouching, rekey ------------------------------------------------- */

static void test_threshold_q(void **state)
{
	(void)state;
	struct lb_errmsg em;
	for (unsigned den = 1; den <= 100; den++)
		for (unsigned num = 1; num <= den; num++) {
			struct lb_gov_params p = {(uint8_t)num, (uint8_t)den, 10, 100};
			bool valid = 2 * num > den;
			assert_int_equal(lb_gov_params_check(&p, &em) == LB_OK, valid);
			for (uint64_t n = 0; n <= 300; n++) {
				uint64_t t = 0;
				while (t * den < num * n)
					t++;
				if (lb_gov_threshold_q(n, &p) != t)
					fail_msg("%u/%u of %llu: %llu, want %llu", num, den,
						 (unsigned long long)n,
						 (unsigned long long)lb_gov_threshold_q(n, &p),
						 (unsigned long long)t);
			}
		}
	struct lb_gov_params dflt = LB_GOV_PARAMS_DEFAULT;
	for (uint64_t n = 0; n < 100; n++)
		assert_int_equal(lb_gov_threshold_q(n, &dflt), lb_gov_threshold(n));
	struct lb_gov_params bad[] = {{0, 3, 1, 1}, {2, 0, 1, 1}, {4, 3, 1, 1}, {1, 2, 1, 1},
				      {2, 101, 1, 1}, {2, 3, 0, 1}, {2, 3, 1, 0}, {2, 3, 5, 4}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(lb_gov_params_check(&bad[i], &em), LB_EINVALID);
}

static void roundtrip_proposal(const struct lb_gov_proposal *p, int want)
{
	struct lb_buf b;
	struct lb_gov_proposal q;
	struct lb_errmsg em;
	lb_buf_init(&b, 1024);
	assert_lb_ok(lb_gov_proposal_encode(&b, p));
	assert_int_equal(lb_gov_proposal_decode(&q, b.data, b.len, &em), want);
	if (want == LB_OK) {
		assert_memory_equal(q.successor, p->successor, LB_ADDR_LEN);
		assert_int_equal(q.params.num, p->params.num);
		assert_int_equal(q.params.vote_blocks_max, p->params.vote_blocks_max);
		/* a trailing byte, or one byte less, is refused */
		assert_lb_ok(lb_buf_add(&b, "", 1));
		assert_int_not_equal(lb_gov_proposal_decode(&q, b.data, b.len, &em), LB_OK);
		assert_int_not_equal(lb_gov_proposal_decode(&q, b.data, b.len - 2, &em), LB_OK);
	}
	lb_buf_release(&b);
}

static void test_new_payloads(void **state)
{
	(void)state;
	struct lb_gov_proposal p = {.action = LB_GOV_REMOVE_TO, .expires_height = 9};
	memset(p.member, 1, LB_ADDR_LEN);
	memset(p.successor, 2, LB_ADDR_LEN);
	roundtrip_proposal(&p, LB_OK);
	memset(p.successor, 1, LB_ADDR_LEN); /* its own successor */
	roundtrip_proposal(&p, LB_EINVALID);
	struct lb_gov_proposal r = {.action = LB_GOV_PARAMS, .expires_height = 9,
				    .params = {3, 4, 20, 200}};
	roundtrip_proposal(&r, LB_OK);
	r.params.num = 1; /* 1/4 is not a majority */
	roundtrip_proposal(&r, LB_EINVALID);
	r.params.num = 3;
	r.member[0] = 1; /* rules name no member */
	roundtrip_proposal(&r, LB_EINVALID);
	struct lb_gov_proposal u = {.action = 7, .expires_height = 9};
	roundtrip_proposal(&u, LB_EMALFORMED);
	struct lb_gov_proposal kd = {.action = LB_GOV_KINDS, .expires_height = 9,
				     .kinds = LB_SUPER_AUDIT};
	memset(kd.member, 4, LB_ADDR_LEN);
	roundtrip_proposal(&kd, LB_OK);
	kd.kinds = 0; /* a change of kinds to none */
	roundtrip_proposal(&kd, LB_EINVALID);
	kd.kinds = LB_SUPER_DATA;
	snprintf(kd.name, sizeof kd.name, "x"); /* only an admission carries a name */
	roundtrip_proposal(&kd, LB_EINVALID);
	struct lb_gov_proposal au = {.action = LB_GOV_AUDIT, .expires_height = 9,
				     .audit_interval = 250};
	roundtrip_proposal(&au, LB_OK);
	au.audit_interval = 0;
	roundtrip_proposal(&au, LB_EINVALID);
	au.audit_interval = LB_GOV_AUDIT_INTERVAL_MAX + 1ull;
	roundtrip_proposal(&au, LB_EMALFORMED);
	au.audit_interval = 5;
	au.member[3] = 1; /* names no member */
	roundtrip_proposal(&au, LB_EINVALID);

	struct lb_buf b;
	struct lb_errmsg em;
	lb_buf_init(&b, 256);
	struct lb_gov_vouch v = {.vouch = true}, v2;
	memset(v.account, 7, LB_ADDR_LEN);
	assert_lb_ok(lb_gov_vouch_encode(&b, &v));
	assert_lb_ok(lb_gov_vouch_decode(&v2, b.data, b.len, &em));
	assert_true(v2.vouch);
	assert_memory_equal(v2.account, v.account, LB_ADDR_LEN);
	b.data[LB_ADDR_LEN] = 2;
	assert_int_equal(lb_gov_vouch_decode(&v2, b.data, b.len, &em), LB_EMALFORMED);
	assert_int_equal(lb_gov_vouch_decode(&v2, b.data, b.len - 1, &em), LB_EMALFORMED);
	lb_buf_reset(&b);
	struct lb_gov_rekey k, k2;
	memset(&k, 3, sizeof k);
	assert_lb_ok(lb_gov_rekey_encode(&b, &k));
	assert_int_equal(b.len, LB_PUBKEY_LEN + LB_SIG_LEN);
	assert_lb_ok(lb_gov_rekey_decode(&k2, b.data, b.len, &em));
	assert_memory_equal(&k, &k2, sizeof k);
	assert_int_equal(lb_gov_rekey_decode(&k2, b.data, b.len - 1, &em), LB_EMALFORMED);
	lb_buf_release(&b);
}

static int record(struct fx *f, int who)
{
	struct lb_buf b;
	uint8_t subject[LB_HASH_LEN] = {0};
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_enc_str(&b, "note"));
	assert_lb_ok(lb_enc_fixed(&b, subject, LB_HASH_LEN));
	assert_lb_ok(lb_enc_bytes(&b, "x", 1));
	int rc = gov_send(f, who, LB_TX_RECORD, &b, NULL);
	lb_buf_release(&b);
	return rc;
}

static int vouch(struct fx *f, int who, int account, bool yes)
{
	struct lb_gov_vouch v = {.vouch = yes};
	memcpy(v.account, f->a[account], LB_ADDR_LEN);
	struct lb_buf b;
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_gov_vouch_encode(&b, &v));
	int rc = gov_send(f, who, LB_TX_GOV_VOUCH, &b, NULL);
	lb_buf_release(&b);
	return rc;
}

static int remove_to(struct fx *f, int who, int target, int successor, uint8_t id[LB_HASH_LEN])
{
	struct lb_gov_proposal p = {.action = successor ? LB_GOV_REMOVE_TO : LB_GOV_REMOVE,
				    .expires_height = f->height + 50};
	memcpy(p.member, f->a[target], LB_ADDR_LEN);
	if (successor)
		memcpy(p.successor, f->a[successor], LB_ADDR_LEN);
	struct lb_buf b;
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_gov_proposal_encode(&b, &p));
	int rc = gov_send(f, who, LB_TX_GOV_PROPOSE, &b, id);
	lb_buf_release(&b);
	return rc;
}

static void test_removal_freeze(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t pid[LB_HASH_LEN];
	setup_fx(&f, 3);
	assert_lb_ok(vouch(&f, C, D, true));
	assert_int_equal(vouch(&f, C, D, true), LB_EEXISTS);
	assert_int_equal(vouch(&f, A, D, true), LB_EEXISTS);     /* another member's */
	assert_int_equal(vouch(&f, A, E, false), LB_ENOTFOUND);  /* not vouched */
	assert_int_equal(vouch(&f, D, E, true), LB_EUNAUTH);     /* not a member */
	assert_int_equal(vouch(&f, C, A, true), LB_EINVALID);    /* a member: never frozen by C */
	assert_lb_ok(record(&f, D));
	assert_lb_ok(record(&f, C));
	assert_lb_ok(remove_to(&f, A, C, 0, pid));
	assert_lb_ok(record(&f, C)); /* not passed yet: C still acts */
	assert_lb_ok(vote(&f, B, pid, true));
	expect(&f, 2, 0, 0, 0);
	/* the member's key and the account it vouched for are refused from now on */
	assert_int_equal(record(&f, C), LB_EUNAUTH);
	assert_int_equal(record(&f, D), LB_EUNAUTH);
	assert_lb_ok(record(&f, E));
	assert_lb_ok(record(&f, A));
	/* the frozen account is a removed key now: nobody vouches it back in */
	assert_int_equal(vouch(&f, A, D, true), LB_EINVALID);

	/* a node (re)started after the removal carries it to the other chains by itself (the
	 * removal is in gov/removed, the other chains do not refuse its keys yet): a member's
	 * monitor sends the governance.removal statement; a removed or outside node's does not */
	struct lb_consortium *mon;
	struct lb_errmsg em;
	assert_lb_ok(lb_consortium_new(&mon, f.l, &f.k[C], 0, &em));
	struct timespec pause = {1, 500000000L};
	nanosleep(&pause, NULL);
	lb_consortium_free(mon);
	assert_int_equal(lb_ledger_pending(f.l, LB_CHAIN_BUSINESS), 0);
	assert_lb_ok(lb_consortium_new(&mon, f.l, &f.k[A], 0, &em));
	for (int i = 0; i < 100 && !lb_ledger_pending(f.l, LB_CHAIN_BUSINESS); i++) {
		struct timespec ms50 = {0, 50000000L};
		nanosleep(&ms50, NULL);
	}
	lb_consortium_free(mon);
	assert_int_equal(lb_ledger_pending(f.l, LB_CHAIN_BUSINESS), 1);
	teardown_fx(&f);
}

static void test_removal_successor(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t pid[LB_HASH_LEN];
	setup_fx(&f, 3);
	assert_lb_ok(vouch(&f, C, D, true));
	assert_lb_ok(vouch(&f, A, E, true));
	assert_int_equal(remove_to(&f, A, C, D, NULL), LB_ENOTFOUND); /* successor not a member */
	assert_lb_ok(remove_to(&f, A, C, B, pid));
	assert_lb_ok(vote(&f, B, pid, true));
	expect(&f, 2, 0, 0, 0);
	assert_int_equal(record(&f, C), LB_EUNAUTH); /* the member's own key */
	assert_lb_ok(record(&f, D));                 /* its user passed to B */
	assert_lb_ok(vouch(&f, B, D, false));        /* B now answers for D */
	assert_lb_ok(record(&f, E));
	teardown_fx(&f);
}

static void test_rules_vote(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t pid[LB_HASH_LEN];
	setup_fx(&f, 3);
	struct lb_gov_proposal p = {.action = LB_GOV_PARAMS, .expires_height = f.height + 10,
				    .params = {3, 4, 5, 20}};
	struct lb_buf b;
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_gov_proposal_encode(&b, &p));
	assert_lb_ok(gov_send(&f, A, LB_TX_GOV_PROPOSE, &b, pid));
	assert_lb_ok(vote(&f, B, pid, true));
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_consortium_members_json(f.l, &o, &em));
	json_t *rules = json_object_get(o, "rules");
	assert_string_equal(json_string_value(json_object_get(rules, "threshold")), "3/4");
	assert_int_equal(json_integer_value(json_object_get(rules, "vote_blocks_max")), 20);
	assert_int_equal(json_integer_value(json_object_get(o, "threshold")), 3); /* of 3 */
	json_decref(o);
	/* a proposal open longer than 20 blocks is refused; 3 of 3 yes are needed now */
	assert_int_equal(propose(&f, A, LB_GOV_ADMIT, D, "Lab D", LB_SUPER_DATA, f.height + 30,
				 NULL),
			 LB_EINVALID);
	assert_lb_ok(propose(&f, A, LB_GOV_ADMIT, D, "Lab D", LB_SUPER_DATA, f.height + 5, pid));
	assert_lb_ok(vote(&f, B, pid, true));
	assert_false(lb_consortium_is_member(f.l, f.a[D]));
	assert_lb_ok(vote(&f, C, pid, true));
	assert_true(lb_consortium_is_member(f.l, f.a[D]));
	lb_buf_release(&b);
	teardown_fx(&f);
}

/* A vote changes a member's kinds (role checks read the member list) and the re-audit
 * interval (the audit module's setting). */
static void test_kinds_audit_vote(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t pid[LB_HASH_LEN];
	setup_fx(&f, 3);
	assert_int_equal(lb_consortium_member_kinds(f.l, f.a[C]), LB_SUPER_COMPUTING);
	assert_int_equal(propose(&f, A, LB_GOV_KINDS, D, NULL, LB_SUPER_DATA, f.height + 5, NULL),
			 LB_ENOTFOUND); /* D is not a member: admit it instead */
	assert_int_equal(propose(&f, A, LB_GOV_KINDS, C, NULL, LB_SUPER_COMPUTING, f.height + 5,
				 NULL),
			 LB_EINVALID); /* the kinds it holds */
	assert_lb_ok(propose(&f, A, LB_GOV_KINDS, C, NULL, LB_SUPER_DATA | LB_SUPER_AUDIT,
			     f.height + 5, pid));
	assert_int_equal(lb_consortium_member_kinds(f.l, f.a[C]), LB_SUPER_COMPUTING);
	char *m = members_text(&f);
	assert_non_null(strstr(m, "\"action\":\"kinds\""));
	assert_non_null(strstr(m, "\"kinds\":\"data,audit\""));
	free(m);
	assert_lb_ok(vote(&f, B, pid, true));
	assert_int_equal(lb_consortium_member_kinds(f.l, f.a[C]), LB_SUPER_DATA | LB_SUPER_AUDIT);
	expect(&f, 3, 0, 0, 0);

	struct lb_gov_proposal p = {.action = LB_GOV_AUDIT, .expires_height = f.height + 5,
				    .audit_interval = 77};
	struct lb_buf b;
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_gov_proposal_encode(&b, &p));
	assert_lb_ok(gov_send(&f, A, LB_TX_GOV_PROPOSE, &b, pid));
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_consortium_members_json(f.l, &o, &em));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "rules"),
							    "audit_interval_blocks")),
			 LB_AUDIT_INTERVAL_DEFAULT);
	json_decref(o);
	assert_lb_ok(vote(&f, C, pid, true)); /* C votes with its new kinds */
	assert_lb_ok(lb_consortium_members_json(f.l, &o, &em));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "rules"),
							    "audit_interval_blocks")),
			 77);
	json_decref(o);
	lb_buf_reset(&b);
	assert_lb_ok(lb_ledger_state_read(f.l, LB_CHAIN_BUSINESS, LB_AUDIT_CFG_NS, "interval", 8,
					  &b, &em));
	assert_int_equal(b.len, 1);
	assert_int_equal(b.data[0], 77);
	lb_buf_release(&b);
	teardown_fx(&f);
}

static int cosign(struct fx *f, int who, const uint8_t h[LB_HASH_LEN], const char *name)
{
	struct lb_ca_cosign k;
	memset(&k, 0, sizeof k);
	memcpy(k.spki_hash, h, LB_HASH_LEN);
	snprintf(k.name, sizeof k.name, "%s", name);
	struct lb_buf b;
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_ca_cosign_encode(&b, &k));
	int rc = gov_send(f, who, LB_TX_CA_COSIGN, &b, NULL);
	lb_buf_release(&b);
	return rc;
}

/* ca.cosign: members co-sign a certificate's key; it counts at the governance threshold. */
static void test_cosign(void **state)
{
	(void)state;
	static struct fx f;
	uint8_t h[LB_HASH_LEN], pid[LB_HASH_LEN];
	char why[512];
	json_t *o = NULL;
	struct lb_errmsg em;
	memset(h, 0x42, sizeof h);
	setup_fx(&f, 3);
	/* payload: a name is required; a truncated one is refused */
	struct lb_ca_cosign k, k2;
	struct lb_buf b;
	memset(&k, 0, sizeof k);
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_ca_cosign_encode(&b, &k));
	assert_int_equal(lb_ca_cosign_decode(&k2, b.data, b.len, &em), LB_EINVALID);
	assert_int_equal(lb_ca_cosign_decode(&k2, b.data, 10, &em), LB_EMALFORMED);
	lb_buf_release(&b);

	assert_int_equal(lb_consortium_cert_check(f.l, h, why, sizeof why), LB_EUNAUTH);
	assert_non_null(strstr(why, "co-signed by 0 of the 2"));
	assert_int_equal(lb_consortium_cert_json(f.l, h, &o, &em), LB_ENOTFOUND);
	assert_int_equal(cosign(&f, D, h, "node-4"), LB_EUNAUTH); /* not a member */
	assert_lb_ok(cosign(&f, A, h, "node-4"));
	assert_int_equal(cosign(&f, A, h, "node-4"), LB_EEXISTS);
	assert_int_equal(lb_consortium_cert_check(f.l, h, why, sizeof why), LB_EUNAUTH);
	assert_non_null(strstr(why, "co-signed by 1 of the 2"));
	assert_lb_ok(cosign(&f, B, h, "other name"));
	assert_lb_ok(lb_consortium_cert_check(f.l, h, why, sizeof why));
	assert_lb_ok(lb_consortium_cert_json(f.l, h, &o, &em));
	assert_string_equal(json_string_value(json_object_get(o, "name")), "node-4");
	assert_int_equal(json_integer_value(json_object_get(o, "current")), 2);
	assert_true(json_is_true(json_object_get(o, "accepted")));
	json_decref(o);
	/* B is removed: its co-signature no longer counts */
	assert_lb_ok(remove_to(&f, A, B, 0, pid));
	assert_lb_ok(vote(&f, C, pid, true));
	assert_int_equal(lb_consortium_cert_check(f.l, h, why, sizeof why), LB_EUNAUTH);
	assert_non_null(strstr(why, "co-signed by 1 of the 2"));
	assert_lb_ok(cosign(&f, C, h, "node-4"));
	assert_lb_ok(lb_consortium_cert_check(f.l, h, why, sizeof why));
	teardown_fx(&f);
}

static void test_rekey(void **state)
{
	(void)state;
	static struct fx f;
	setup_fx(&f, 3);
	/* B moves to key E; the proof must be E's signature */
	struct lb_gov_rekey r;
	uint8_t msg[LB_GOV_REKEY_MSG_LEN];
	memcpy(r.new_key, f.k[E].pk, LB_PUBKEY_LEN);
	lb_gov_rekey_message(msg, f.a[B], r.new_key);
	lb_sign(r.proof, msg, sizeof msg, &f.k[D]); /* wrong signer */
	struct lb_buf b;
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_gov_rekey_encode(&b, &r));
	assert_int_equal(gov_send(&f, B, LB_TX_GOV_REKEY, &b, NULL), LB_EBADSIG);
	lb_sign(r.proof, msg, sizeof msg, &f.k[E]);
	lb_buf_reset(&b);
	assert_lb_ok(lb_gov_rekey_encode(&b, &r));
	assert_int_equal(gov_send(&f, D, LB_TX_GOV_REKEY, &b, NULL) != LB_OK, true); /* not B */
	assert_lb_ok(gov_send(&f, B, LB_TX_GOV_REKEY, &b, NULL));
	assert_int_equal(record(&f, B), LB_EUNAUTH); /* the old key */
	/* the new key acts for member B: it can vote; a removal of B refuses it too */
	uint8_t pid[LB_HASH_LEN];
	assert_lb_ok(propose(&f, E, LB_GOV_ADMIT, D, "Lab D", LB_SUPER_DATA, f.height + 5, pid));
	expect(&f, 3, 1, 1, 0);
	assert_lb_ok(remove_to(&f, A, B, 0, pid));
	assert_lb_ok(vote(&f, C, pid, true));
	assert_int_equal(record(&f, E), LB_EUNAUTH);
	lb_buf_release(&b);
	teardown_fx(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold),   cmocka_unit_test(test_outcome),
		cmocka_unit_test(test_kinds),	    cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_governance),  cmocka_unit_test(test_last_member),
		cmocka_unit_test(test_genesis_refusals), cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_two_nodes),   cmocka_unit_test(test_threshold_q),
		cmocka_unit_test(test_new_payloads), cmocka_unit_test(test_removal_freeze),
		cmocka_unit_test(test_removal_successor), cmocka_unit_test(test_rules_vote),
		cmocka_unit_test(test_rekey),	    cmocka_unit_test(test_kinds_audit_vote),
		cmocka_unit_test(test_cosign),	    cmocka_unit_test(test_unique_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
