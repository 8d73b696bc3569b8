/* The on-chain sandbox: its language checked against independent properties (floor division
 * and modulo against q*b + m == a with 0 <= |m| < |b| and m of b's sign, muldiv against the
 * bracketing q*c <= a*b < (q+1)*c, split adding up to the total and each share within one unit
 * of its exact proportion, short-circuit logic), step counts hand-counted for small programs,
 * the budget refused one step short and accepted at the exact count, the memory cap, malformed
 * programs refused with their line and column, payload decoding refusals; then on two real
 * ledgers fed the same txs: identical app hashes at every height, the stored outputs, a run
 * by hash of a published program, refusals (budget, memory, unknown program, a failed
 * `require`, a malformed program) that leave the mempool and state unchanged, and a replay
 * of the home by lb_ledger_verify_home; a third ledger committing the same txs at other
 * heights and times (the types are block-independent) stores the same runs and replays. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/onchain.h"
#include "leben/tx.h"

/* ---- the language --------------------------------------------------------------------- */

static int run_text(const char *prog, const struct lb_oc_value *in, size_t nin, uint64_t steps,
		    uint64_t mem, struct lb_oc_result *res, struct lb_errmsg *em)
{
	struct lb_oc_program *p = NULL;
	int rc = lb_oc_parse(prog, strlen(prog), &p, em);
	if (rc)
		return rc;
	rc = lb_oc_run(p, in, nin, steps, mem, res, em);
	lb_oc_program_free(p);
	return rc;
}

static int64_t out_int(const struct lb_oc_result *r, const char *name)
{
	for (size_t i = 0; i < r->nout; i++)
		if (!strcmp(r->out[i].name, name)) {
			assert_false(r->out[i].is_list);
			return r->out[i].v[0];
		}
	fail_msg("no output %s", name);
	return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_arith(void **state)
{
	(void)state;
	struct lb_errmsg em;
	for (int k = 0; k < 400; k++) {
		int64_t a = (int64_t)(next_rand() % 2000001) - 1000000;
		int64_t b = (int64_t)(next_rand() % 2001) - 1000;
		int64_t c = (int64_t)(next_rand() % 1000001) - 500000;
		if (b == 0)
			b = 7;
		if (c == 0)
			c = -3;
		char prog[256];
		snprintf(prog, sizeof prog,
			 "let a = %lld; let b = %lld\nout q = a / b; out m = a %% b\n"
			 "out md = muldiv(a, %lld, b)\nout s = a + b * 3 - -b",
			 (long long)a, (long long)b, (long long)c);
		struct lb_oc_result r;
		if (run_text(prog, NULL, 0, 1000, LB_OC_MEM_MAX, &r, &em))
			fail_msg("%s: %s", prog, em.text);
		int64_t q = out_int(&r, "q"), m = out_int(&r, "m"), md = out_int(&r, "md");
		assert_true(q * b + m == a);
		assert_true(m == 0 || ((m < 0) == (b < 0)));
		assert_true((m < 0 ? -m : m) < (b < 0 ? -b : b));
		/* md = floor(a*c/b): md*b <= a*c < (md+1)*b for b > 0, reversed for b < 0 */
		__extension__ __int128 ac = (__int128)a * c, lo = (__int128)md * b,
				       hi = (__int128)(md + 1) * b;
		if (b > 0)
			assert_true(lo <= ac && ac < hi);
		else
			assert_true(lo >= ac && ac > hi);
		assert_true(out_int(&r, "s") == a + 4 * b);
		lb_oc_result_clear(&r);
	}
	/* overflow, division by zero, INT64_MIN / -1 */
	static const char *const bad[] = {
		"out x = 9223372036854775807 + 1",
		"out x = 5 / 0",
		"out x = 5 % (2 - 2)",
		"let m = -9223372036854775807 - 1\nout x = m / -1",
		"out x = abs(-9223372036854775807 - 1)",
		"out x = muldiv(9223372036854775807, 4, 2)",
		"out x = 3037000500 * 3037000500",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct lb_oc_result r;
		assert_int_equal(run_text(bad[i], NULL, 0, 1000, LB_OC_MEM_MAX, &r, &em), LB_ERANGE);
		assert_non_null(strstr(em.text, "line "));
		assert_null(r.out);
	}
}

static void test_rules(void **state)
{
	(void)state;
	struct lb_errmsg em;
	struct lb_oc_value in[3] = {{.name = "age"}, {.name = "hba1c"}, {.name = "fees"}};
	int64_t age = 70, hb = 81, fees[4] = {5, 0, 3, 2};
	in[0].v = &age;
	in[0].n = 1;
	in[1].v = &hb;
	in[1].n = 1;
	in[2].is_list = true;
	in[2].v = fees;
	in[2].n = 4;
	const char *prog = "# eligibility over recorded attributes\n"
			   "let adult = age >= 18 and age < 120\n"
			   "out eligible = if adult and (hba1c > 64 or 1 / 0) then 1 else 0\n"
			   "out never = 0 and 1 / 0\n"
			   "out shares = split(1001, fees)\n"
			   "out n = len(fees); out total = sum(fees); out big = countge(fees, 3)\n"
			   "out hi = max(fees); out lo = min(3, age, -2); out c = clamp(age, 0, 65)\n"
			   "out third = fees[2]\n";
	struct lb_oc_result r;
	if (run_text(prog, in, 3, 10000, LB_OC_MEM_MAX, &r, &em))
		fail_msg("%s", em.text);
	assert_int_equal(out_int(&r, "eligible"), 1); /* `or` did not evaluate 1 / 0 */
	assert_int_equal(out_int(&r, "never"), 0);    /* nor `and` */
	assert_int_equal(out_int(&r, "n"), 4);
	assert_int_equal(out_int(&r, "total"), 10);
	assert_int_equal(out_int(&r, "big"), 2);
	assert_int_equal(out_int(&r, "hi"), 5);
	assert_int_equal(out_int(&r, "lo"), -2);
	assert_int_equal(out_int(&r, "c"), 65);
	assert_int_equal(out_int(&r, "third"), 3);
	const struct lb_oc_value *sh = NULL;
	for (size_t i = 0; i < r.nout; i++)
		if (!strcmp(r.out[i].name, "shares"))
			sh = &r.out[i];
	assert_non_null(sh);
	assert_true(sh->is_list);
	assert_int_equal(sh->n, 4);
	int64_t tot = 0;
	for (size_t i = 0; i < 4; i++) {
		tot += sh->v[i];
		/* within one unit of 1001 * w / 10 */
		int64_t exact10 = 1001 * fees[i];
		assert_true(sh->v[i] * 10 <= exact10 + 10 && sh->v[i] * 10 >= exact10 - 10);
	}
	assert_int_equal(tot, 1001);
	assert_int_equal(sh->v[1], 0); /* zero weight gets nothing */
	lb_oc_result_clear(&r);

	/* require */
	age = 12;
	assert_int_equal(run_text("require age >= 18\nout ok = 1", in, 3, 100, LB_OC_MEM_MAX, &r,
				  &em),
			 LB_EDENIED);
	assert_non_null(strstr(em.text, "line 1, column 1"));
	/* names */
	assert_int_equal(run_text("out x = weight", in, 3, 100, LB_OC_MEM_MAX, &r, &em),
			 LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "line 1, column 9"));
	assert_int_equal(run_text("let age = 3", in, 3, 100, LB_OC_MEM_MAX, &r, &em), LB_EEXISTS);
	assert_int_equal(run_text("out x = 1\nlet x = 2", in, 3, 100, LB_OC_MEM_MAX, &r, &em),
			 LB_ESYNTAX); /* found when parsing */
	assert_non_null(strstr(em.text, "line 2, column 1: 'x' is already defined on line 1"));
	/* a name used before its let is not that let: here it is an unknown input */
	assert_int_equal(run_text("out y = x\nlet x = 1", in, 3, 100, LB_OC_MEM_MAX, &r, &em),
			 LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "line 1, column 9"));
	assert_int_equal(run_text("out x = fees + 1", in, 3, 100, LB_OC_MEM_MAX, &r, &em),
			 LB_ETYPE);
	assert_int_equal(run_text("out x = fees[4]", in, 3, 100, LB_OC_MEM_MAX, &r, &em),
			 LB_ERANGE);
	assert_int_equal(run_text("out x = sqrt(4)", in, 3, 100, LB_OC_MEM_MAX, &r, &em),
			 LB_ENOTFOUND);
	/* an input given twice */
	struct lb_oc_value twice[2] = {{.name = "a", .v = &age, .n = 1},
				       {.name = "a", .v = &age, .n = 1}};
	assert_int_equal(run_text("out x = a", twice, 2, 100, LB_OC_MEM_MAX, &r, &em),
			 LB_EINVALID);
}

/* Steps counted by hand: each node one step; list builtins one more per element; naming a
 * list copies it (one per element). */
static void test_steps(void **state)
{
	(void)state;
	struct lb_errmsg em;
	static const struct {
		const char *prog;
		uint64_t steps, mem;
	} cases[] = {
		{"out x = 1", 1, 0},
		{"out x = 1 + 2 * 3", 5, 0},
		{"let a = 4\nout x = if a > 3 then a else 1 / 0", 1 + 1 + 3 + 1, 0},
		{"out x = [1, 2, 3]", 1 + 3 + 3, 16 + 24},
		{"out x = sum([1, 2, 3])", 1 + (1 + 3 + 3) + 3, 16 + 24},
		{"let r = range(10)\nout x = len(r)", (1 + 1 + 10) + (1 + 1 + 10), 2 * (16 + 80)},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct lb_oc_result r;
		if (run_text(cases[i].prog, NULL, 0, 1000, LB_OC_MEM_MAX, &r, &em))
			fail_msg("%s: %s", cases[i].prog, em.text);
		if (r.steps != cases[i].steps || r.mem != cases[i].mem)
			fail_msg("%s: %llu steps %llu bytes, expected %llu, %llu", cases[i].prog,
				 (unsigned long long)r.steps, (unsigned long long)r.mem,
				 (unsigned long long)cases[i].steps,
				 (unsigned long long)cases[i].mem);
		lb_oc_result_clear(&r);
		/* one step short: refused as a budget exhaustion, without outputs */
		assert_int_equal(run_text(cases[i].prog, NULL, 0, cases[i].steps - 1, LB_OC_MEM_MAX,
					  &r, &em),
				 LB_ELIMIT);
		assert_non_null(strstr(em.text, "step budget"));
		assert_null(r.out);
		assert_int_equal(r.steps, cases[i].steps - 1);
		/* exactly enough */
		assert_lb_ok(run_text(cases[i].prog, NULL, 0, cases[i].steps, LB_OC_MEM_MAX, &r, &em));
		lb_oc_result_clear(&r);
	}
}

static void test_memory(void **state)
{
	(void)state;
	struct lb_errmsg em;
	struct lb_oc_result r;
	/* 16 + 8 * 40000 bytes is over the 256 KiB cap */
	assert_int_equal(run_text("out x = len(range(40000))", NULL, 0, LB_OC_STEPS_MAX,
				  LB_OC_MEM_MAX, &r, &em),
			 LB_ETOOBIG);
	assert_non_null(strstr(em.text, "memory cap"));
	assert_non_null(strstr(em.text, "line 1, column 13"));
	/* memory is never given back within a run: copies add up */
	assert_int_equal(run_text("let a = range(10000)\nlet b = a\nlet c = a\nlet d = a\nout x = 1",
				  NULL, 0, LB_OC_STEPS_MAX, LB_OC_MEM_MAX, &r, &em),
			 LB_ETOOBIG);
	assert_int_equal(run_text("out x = len(fill(9223372036854775807, 1))", NULL, 0,
				  LB_OC_STEPS_MAX, LB_OC_MEM_MAX, &r, &em),
			 LB_ETOOBIG);
	assert_lb_ok(run_text("out x = len(range(30000))", NULL, 0, LB_OC_STEPS_MAX,
			      LB_OC_MEM_MAX, &r, &em));
	assert_int_equal(out_int(&r, "x"), 30000);
	assert_int_equal(r.mem, 16 + 8 * 30000);
	lb_oc_result_clear(&r);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *prog, *where;
		int code;
	} cases[] = {
		{"out x = 1.5", "line 1, column 10", LB_ESYNTAX},
		{"out x = 1 +", "line 1, column 12", LB_ESYNTAX},
		{"let a = 1\nout b = (a", "line 2, column 11", LB_ESYNTAX},
		{"let a = 1\n  x = 2", "line 2, column 3", LB_ESYNTAX},
		{"out x = 1 < 2 < 3", "line 1, column 15", LB_ESYNTAX},
		{"out x = 99999999999999999999", "line 1, column 9", LB_ESYNTAX},
		{"out x = 1 $ 2", "line 1, column 11", LB_ESYNTAX},
		{"out if = 1", "line 1, column 5", LB_ESYNTAX},
		{"out x = if 1 then 2", "line 1, column 20", LB_ESYNTAX},
		{"out x = 1 2", "line 1, column 11", LB_ESYNTAX},
		{"# only a comment\n", "line 1, column 1", LB_ESYNTAX},
		{"out x = [1,\n 2,\n 3 4]", "line 3, column 4", LB_ESYNTAX},
		{"out x = 12abc", "line 1, column 11", LB_ESYNTAX},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct lb_oc_program *p = (struct lb_oc_program *)1;
		struct lb_errmsg em = {0};
		int rc = lb_oc_parse(cases[i].prog, strlen(cases[i].prog), &p, &em);
		if (rc != cases[i].code || !strstr(em.text, cases[i].where))
			fail_msg("'%s': %s (%d), expected %s", cases[i].prog, em.text, rc,
				 cases[i].where);
		assert_null(p);
	}
	/* nesting deeper than 64 */
	char deep[300];
	memset(deep, 0, sizeof deep);
	strcpy(deep, "out x = ");
	for (int i = 0; i < 100; i++)
		strcat(deep, "(");
	struct lb_oc_program *p;
	struct lb_errmsg em;
	assert_int_equal(lb_oc_parse(deep, strlen(deep), &p, &em), LB_ESYNTAX);
	assert_non_null(strstr(em.text, "nested"));
	/* a long chain of operators is bounded by the tree height, not only by brackets */
	char *chain = lb_calloc(1, 4000);
	strcpy(chain, "out x = 1");
	for (int i = 0; i < 300; i++)
		strcat(chain, " + 1");
	assert_int_equal(lb_oc_parse(chain, strlen(chain), &p, &em), LB_ESYNTAX);
	assert_non_null(strstr(em.text, "too deep"));
	chain[9 + 4 * 200] = 0; /* 201 terms: accepted and summed */
	struct lb_oc_result r;
	assert_lb_ok(lb_oc_parse(chain, strlen(chain), &p, &em));
	assert_lb_ok(lb_oc_run(p, NULL, 0, 1000, LB_OC_MEM_MAX, &r, &em));
	assert_int_equal(out_int(&r, "x"), 201);
	lb_oc_result_clear(&r);
	lb_oc_program_free(p);
	lb_free(chain);
	/* NUL byte, over-long program */
	assert_int_equal(lb_oc_parse("out x\0 = 1", 10, &p, &em), LB_ESYNTAX);
	char *big = lb_calloc(1, LB_OC_PROGRAM_MAX + 2);
	memset(big, ' ', LB_OC_PROGRAM_MAX + 1);
	assert_int_equal(lb_oc_parse(big, LB_OC_PROGRAM_MAX + 1, &p, &em), LB_ETOOBIG);
	lb_free(big);
}

static void test_values_and_payload(void **state)
{
	(void)state;
	struct lb_errmsg em;
	struct lb_oc_value v;
	assert_lb_ok(lb_oc_value_parse(&v, "xs=1,-2,9223372036854775807", &em));
	assert_true(v.is_list);
	assert_int_equal(v.n, 3);
	assert_true(v.v[1] == -2 && v.v[2] == INT64_MAX);
	struct lb_oc_value w;
	assert_lb_ok(lb_oc_value_parse(&w, "m=-9223372036854775808", &em));
	assert_true(!w.is_list && w.v[0] == INT64_MIN);
	static const char *const bad[] = {"=1", "x", "x=1.5", "x=9223372036854775808", "1x=2",
					  "x=1,,2", "x=", "x=-"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct lb_oc_value b;
		assert_int_equal(lb_oc_value_parse(&b, bad[i], &em), LB_EMALFORMED);
		assert_null(b.v);
	}
	/* payload round trip and refusals */
	struct lb_oc_value in[2] = {v, w};
	struct lb_oc_run_tx r = {.by_hash = false, .text = (const uint8_t *)"out x = xs[0]",
				 .text_len = 13, .budget = 50, .in = in, .nin = 2};
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	assert_lb_ok(lb_oc_run_encode(&b, &r));
	struct lb_oc_run_tx d;
	assert_lb_ok(lb_oc_run_decode(&d, b.data, b.len, &em));
	assert_int_equal(d.nin, 2);
	assert_true(d.in[0].v[1] == -2 && d.in[1].v[0] == INT64_MIN && d.budget == 50);
	assert_false(d.has_prepay); /* an old payload: no prepayment */
	lb_oc_run_tx_clear(&d);
	for (size_t cut = 0; cut < b.len; cut++)
		assert_int_not_equal(lb_oc_run_decode(&d, b.data, cut, &em), LB_OK);
	/* the optional prepayment field round-trips; a cut one is refused */
	size_t old_len = b.len;
	r.has_prepay = true;
	r.prepay_tx = (const uint8_t *)"TX";
	r.prepay_tx_len = 2;
	r.prepay_proof = (const uint8_t *)"PROOF";
	r.prepay_proof_len = 5;
	lb_buf_reset(&b);
	assert_lb_ok(lb_oc_run_encode(&b, &r));
	assert_int_equal(b.len, old_len + 1 + 2 + 1 + 5);
	assert_lb_ok(lb_oc_run_decode(&d, b.data, b.len, &em));
	assert_true(d.has_prepay && d.prepay_tx_len == 2 && d.prepay_proof_len == 5 &&
		    !memcmp(d.prepay_proof, "PROOF", 5));
	lb_oc_run_tx_clear(&d);
	for (size_t cut = old_len + 1; cut < b.len; cut++)
		assert_int_not_equal(lb_oc_run_decode(&d, b.data, cut, &em), LB_OK);
	r.has_prepay = false;
	r.budget = LB_OC_STEPS_MAX + 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_oc_run_encode(&b, &r));
	assert_int_equal(lb_oc_run_decode(&d, b.data, b.len, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "step budget"));
	strcpy(in[1].name, "xs"); /* a name twice */
	r.budget = 5;
	lb_buf_reset(&b);
	assert_lb_ok(lb_oc_run_encode(&b, &r));
	assert_int_equal(lb_oc_run_decode(&d, b.data, b.len, &em), LB_EMALFORMED);
	lb_buf_release(&b);
	lb_free(v.v);
	lb_free(w.v);
}

/* ---- on two ledgers --------------------------------------------------------------------- */

struct led {
	char home[64];
	struct lb_ledger *l;
	uint64_t time_ms;
	bool gaps; /* an empty block before each tx's block, and other block times */
};

static struct lb_keypair prop, user;

static void seeded(struct lb_keypair *kp, int v)
{
	uint8_t seed[LB_SEED_LEN];
	memset(seed, v, sizeof seed);
	lb_keypair_from_seed(kp, seed);
}

static void open_led(struct led *L)
{
	struct lb_errmsg em;
	char pt[LB_ADDR_TEXT_LEN + 1], hx[2 * LB_PUBKEY_LEN + 1];
	uint8_t pa[LB_ADDR_LEN];
	snprintf(L->home, sizeof L->home, "/tmp/lb-test-onchain-XXXXXX");
	assert_non_null(mkdtemp(L->home));
	lb_addr_from_pubkey(pa, prop.pk);
	lb_addr_encode(pt, pa);
	lb_hex_encode(hx, prop.pk, LB_PUBKEY_LEN);
	json_t *g = json_pack("{s:s,s:i,s:s,s:[s],s:{s:i,s:i},s:{s:i}}", "network", "t",
			      "time_ms", 1, "proposer", hx, "credit_partners", pt, "convert",
			      "csc", 100, "asc", 1, "fees", "default", 1000);
	assert_lb_ok(lb_genesis_write(L->home, g, &em));
	json_decref(g);
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = L->home;
	o.sync_full = false;
	if (lb_ledger_open(&L->l, &o, &prop, &em))
		fail_msg("open: %s", em.text);
	L->time_ms = 10000;
}

static void close_led(struct led *L)
{
	char cmd[128];
	lb_ledger_close(L->l);
	snprintf(cmd, sizeof cmd, "rm -rf %s", L->home);
	assert_int_equal(system(cmd), 0);
}

static json_t *state_json(struct led *L)
{
	json_t *a = json_array();
	uint64_t h = lb_ledger_height(L->l, LB_CHAIN_BUSINESS);
	uint8_t app[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 1];
	struct lb_errmsg em;
	for (uint64_t i = 1; i <= h; i++) {
		assert_lb_ok(lb_ledger_block_hashes(L->l, LB_CHAIN_BUSINESS, i, NULL, app, &em));
		lb_hex_encode(hex, app, LB_HASH_LEN);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

/* Submit on L and, if admitted, commit alone; refusals must leave pending and app hashes
 * unchanged. Returns the admission code; id receives the tx id. */
static int send(struct led *L, uint64_t nonce, uint32_t type, const void *pl, size_t plen,
		uint8_t id[LB_HASH_LEN], char *msg)
{
	struct lb_tx t;
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_BUSINESS;
	t.type = type;
	t.nonce = nonce;
	t.payload = pl;
	t.payload_len = plen;
	struct lb_buf raw;
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_tx_build(&raw, &t, lb_ledger_network_id(L->l), &user, id));
	const uint8_t *raws[1] = {raw.data};
	size_t lens[1] = {raw.len};
	struct lb_submit_result r;
	memset(&r, 0, sizeof r);
	json_t *before = state_json(L);
	size_t pend = lb_ledger_pending(L->l, LB_CHAIN_BUSINESS);
	assert_lb_ok(lb_ledger_submit(L->l, 1, raws, lens, &r));
	if (r.code) {
		json_t *after = state_json(L);
		assert_true(json_equal(before, after));
		json_decref(after);
		assert_int_equal(pend, lb_ledger_pending(L->l, LB_CHAIN_BUSINESS));
		if (msg)
			snprintf(msg, 512, "%s", r.message);
	} else {
		struct lb_errmsg em;
		uint64_t h;
		if (L->gaps) {
			struct lb_cut e = {LB_CHAIN_BUSINESS, L->time_ms += 7777, 0, NULL, NULL};
			if (lb_ledger_commit(L->l, &e, &h, &em))
				fail_msg("commit: %s", em.text);
		}
		struct lb_cut c = {LB_CHAIN_BUSINESS, L->time_ms += 1000, 1, raws, lens};
		if (lb_ledger_commit(L->l, &c, &h, &em))
			fail_msg("commit: %s", em.text);
	}
	json_decref(before);
	lb_buf_release(&raw);
	return r.code;
}

static int run_tx(struct led *L, uint64_t nonce, const char *prog, const uint8_t *hash,
		  uint64_t budget, struct lb_oc_value *in, size_t nin, uint8_t id[LB_HASH_LEN],
		  char *msg)
{
	struct lb_oc_run_tx r = {.by_hash = hash != NULL, .budget = budget, .in = in, .nin = nin};
	if (hash)
		memcpy(r.hash, hash, LB_HASH_LEN);
	else {
		r.text = (const uint8_t *)prog;
		r.text_len = strlen(prog);
	}
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	assert_lb_ok(lb_oc_run_encode(&b, &r));
	int rc = send(L, nonce, LB_TX_COMPUTE_RUN, b.data, b.len, id, msg);
	lb_buf_release(&b);
	return rc;
}

/* The same sequence on a ledger; returns the JSON of the stored runs, in order. */
static json_t *scenario(struct led *L)
{
	uint8_t id[LB_HASH_LEN], h[LB_HASH_LEN], runs[3][LB_HASH_LEN];
	char msg[512];
	struct lb_errmsg em;
	uint64_t nonce = 0;
	const char *fee = "require total > 0\nout shares = split(total, weights)\n"
			  "out paid = sum(shares)";
	int64_t tot = 100003, wts[3] = {5, 3, 2};
	struct lb_oc_value in[2] = {{.name = "total", .v = &tot, .n = 1},
				    {.name = "weights", .is_list = true, .v = wts, .n = 3}};
	msg[0] = 0;
	if (run_tx(L, nonce++, fee, NULL, 1000, in, 2, runs[0], msg))
		fail_msg("first run: %s", msg);
	/* publish, then run by hash */
	const char *rule = "out eligible = age >= 18 and hba1c >= 48\nout n = countge(cells, 10)";
	assert_lb_ok(send(L, nonce++, LB_TX_COMPUTE_PUBLISH, rule, strlen(rule), id, msg));
	assert_int_equal(send(L, nonce, LB_TX_COMPUTE_PUBLISH, rule, strlen(rule), id, msg),
			 LB_EEXISTS);
	lb_oc_program_hash(h, rule, strlen(rule));
	int64_t age = 44, hb = 52, cells[5] = {12, 9, 30, 10, 4};
	struct lb_oc_value in2[3] = {{.name = "age", .v = &age, .n = 1},
				     {.name = "hba1c", .v = &hb, .n = 1},
				     {.name = "cells", .is_list = true, .v = cells, .n = 5}};
	assert_lb_ok(run_tx(L, nonce++, NULL, h, 100, in2, 3, runs[1], msg));
	/* refusals: each changes nothing (checked in send) */
	assert_int_equal(run_tx(L, nonce, NULL, h, 5, in2, 3, id, msg), LB_ELIMIT);
	assert_non_null(strstr(msg, "step budget of 5"));
	assert_int_equal(run_tx(L, nonce, "out x = len(range(100000))", NULL, LB_OC_STEPS_MAX,
				NULL, 0, id, msg),
			 LB_ETOOBIG);
	assert_int_equal(run_tx(L, nonce, "out x = 1 +\n", NULL, 10, NULL, 0, id, msg),
			 LB_ESYNTAX);
	assert_non_null(strstr(msg, "line 1, column 12"));
	assert_int_equal(send(L, nonce, LB_TX_COMPUTE_PUBLISH, "let = 2", 7, id, msg),
			 LB_ESYNTAX);
	uint8_t nohash[LB_HASH_LEN] = {1};
	assert_int_equal(run_tx(L, nonce, NULL, nohash, 10, NULL, 0, id, msg), LB_ENOTFOUND);
	tot = 0;
	assert_int_equal(run_tx(L, nonce, fee, NULL, 1000, in, 2, id, msg), LB_EDENIED);
	tot = 7;
	assert_lb_ok(run_tx(L, nonce++, fee, NULL, 1000, in, 2, runs[2], msg));

	json_t *a = json_array();
	for (int i = 0; i < 3; i++) {
		json_t *o = NULL;
		if (lb_oc_run_json(L->l, runs[i], &o, &em))
			fail_msg("run %d: %s", i, em.text);
		json_array_append_new(a, o);
	}
	json_t *p = NULL;
	assert_lb_ok(lb_oc_program_json(L->l, h, &p, &em));
	assert_string_equal(json_string_value(json_object_get(p, "program")), rule);
	json_decref(p);
	assert_int_equal(lb_oc_run_json(L->l, nohash, &p, &em), LB_ENOTFOUND);
	return a;
}

static void test_ledgers(void **state)
{
	(void)state;
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_onchain_register_txtypes());
	assert_lb_ok(lb_onchain_register_txtypes()); /* idempotent */
	seeded(&prop, 1);
	seeded(&user, 2);
	struct led A = {0}, B = {0}, C = {.gaps = true};
	open_led(&A);
	open_led(&B);
	open_led(&C);
	C.time_ms = 555555;
	json_t *ra = scenario(&A), *rb = scenario(&B), *rc = scenario(&C);
	/* block-independent: other heights and times store the same runs */
	assert_int_equal(lb_ledger_height(C.l, LB_CHAIN_BUSINESS), 8);
	assert_true(json_equal(ra, rc));
	json_decref(rc);
	json_t *ha = state_json(&A), *hb = state_json(&B);
	assert_int_equal(json_array_size(ha), 4);
	assert_true(json_equal(ha, hb));
	assert_true(json_equal(ra, rb));
	/* the stored outputs */
	json_t *o = json_object_get(json_array_get(ra, 0), "outputs");
	json_t *sh = json_object_get(o, "shares");
	assert_int_equal(json_integer_value(json_array_get(sh, 0)), 50002); /* 50001 + 1 rem */
	assert_int_equal(json_integer_value(json_array_get(sh, 1)), 30001);
	assert_int_equal(json_integer_value(json_object_get(o, "paid")), 100003);
	o = json_object_get(json_array_get(ra, 1), "outputs");
	assert_int_equal(json_integer_value(json_object_get(o, "eligible")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "n")), 3);
	json_t *r1 = json_array_get(ra, 1);
	assert_int_equal(json_integer_value(json_object_get(r1, "budget")), 100);
	assert_true(json_integer_value(json_object_get(r1, "steps")) > 0);
	o = json_object_get(json_array_get(ra, 2), "outputs");
	sh = json_object_get(o, "shares");
	assert_int_equal(json_integer_value(json_array_get(sh, 0)), 4); /* 3 + 1 */
	assert_int_equal(json_integer_value(json_array_get(sh, 1)), 2);
	assert_int_equal(json_integer_value(json_array_get(sh, 2)), 1);
	json_decref(ra);
	json_decref(rb);
	json_decref(ha);
	json_decref(hb);
	char home[64];
	snprintf(home, sizeof home, "%s", A.home);
	lb_ledger_close(A.l);
	struct lb_errmsg em;
	if (lb_ledger_verify_home(home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	assert_int_equal(system(cmd), 0);
	close_led(&B);
	/* the replay applies every run afresh and must find the write-sets admission made */
	snprintf(home, sizeof home, "%s", C.home);
	lb_ledger_close(C.l);
	if (lb_ledger_verify_home(home, NULL, NULL, &em))
		fail_msg("verify (gaps): %s", em.text);
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arith),       cmocka_unit_test(test_rules),
		cmocka_unit_test(test_steps),       cmocka_unit_test(test_memory),
		cmocka_unit_test(test_malformed),   cmocka_unit_test(test_values_and_payload),
		cmocka_unit_test(test_ledgers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
