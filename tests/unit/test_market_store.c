/* The knowledge store on a real ledger in a temp home: contracts published and listed; every
 * refusal (listing by a non-author, a duplicate, an unpublished contract, a bad code, a price
 * change by a non-author, a call or licence without enough in the wallet, a rating by a
 * non-buyer and a second rating, an outcome by another account or twice, a derivation cycle,
 * a template instance that is not the one it claims, a template instance that fails the
 * verifier, an algorithm the node cannot look up, a bogus payment citation) gives its own code
 * and message and changes nothing; paid calls land in the author's, the ancestors' and the
 * pool's wallets to the micro-unit (contract-call and algorithm-call tables); outcome
 * statistics stay hidden below the minimum and show from it on. The offline verifier replays
 * it all. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/exchange.h"
#include "leben/knowledge.h"
#include "leben/knowledge_chain.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/market_store.h"
#include "leben/tx.h"
#include "ledger_fixture.h"

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair prop, a, b, c, d;
	uint8_t addr_a[LB_ADDR_LEN], addr_b[LB_ADDR_LEN], addr_c[LB_ADDR_LEN], addr_d[LB_ADDR_LEN];
	uint64_t na, nb, nc, nd, time_ms, height;
};

static const char *root(void)
{
	return getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
}

static uint64_t wallet(struct fx *f, const uint8_t a[LB_ADDR_LEN])
{
	json_t *j;
	struct lb_errmsg em;
	assert_lb_ok(lb_store_wallet_json(f->l, a, &j, &em));
	uint64_t v = (uint64_t)json_integer_value(json_object_get(j, "wallet"));
	json_decref(j);
	return v;
}

/* Everything the store shows, as one string. */
static char *snapshot(struct fx *f)
{
	json_t *ls = NULL, *w = json_array();
	struct lb_errmsg em;
	struct lb_store_query q = {.limit = 1000};
	assert_lb_ok(lb_store_listings_json(f->l, &q, &ls, &em));
	const uint8_t *as[] = {f->addr_a, f->addr_b, f->addr_c, f->addr_d};
	for (int i = 0; i < 4; i++)
		json_array_append_new(w, json_integer((json_int_t)wallet(f, as[i])));
	size_t i;
	json_t *it;
	json_t *full = json_array();
	json_array_foreach(json_object_get(ls, "listings"), i, it)
	{
		uint8_t id[LB_HASH_LEN];
		json_t *one;
		assert_lb_ok(lb_hex_decode(id, LB_HASH_LEN, json_string_value(json_object_get(it, "id"))));
		assert_lb_ok(lb_store_listing_json(f->l, id, &one, &em));
		json_array_append_new(full, one);
	}
	json_t *o = json_pack("{s:o,s:o,s:o}", "l", ls, "w", w, "full", full);
	char *t = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	return t;
}

static void encode(const struct lb_store_tx *p, struct lb_buf *b)
{
	struct lb_errmsg em;
	lb_buf_init(b, LB_TX_PAYLOAD_MAX);
	if (lb_store_tx_encode(b, p, &em))
		fail_msg("encode: %s", em.text);
}

static void refused(struct fx *f, const struct lb_keypair *kp, uint64_t nonce, uint32_t type,
		    const uint8_t *pl, size_t plen, int want, const char *needle, const char *what)
{
	struct lb_buf raw;
	struct lb_submit_result r;
	char *before = snapshot(f);
	fx_build(&raw, f->l, kp, LB_CHAIN_BUSINESS, type, nonce, 0, pl, plen, NULL);
	int rc = fx_submit1(f->l, raw.data, raw.len, &r);
	if (rc != want)
		fail_msg("%s: got %s (%s), want %s", what, lb_errname(rc), r.message,
			 lb_errname(want));
	if (!strstr(r.message, needle))
		fail_msg("%s: message '%s' does not say '%s'", what, r.message, needle);
	char *after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	lb_buf_release(&raw);
}

static void refused_tx(struct fx *f, const struct lb_keypair *kp, uint64_t nonce,
		       const struct lb_store_tx *p, int want, const char *needle, const char *what)
{
	struct lb_buf b;
	encode(p, &b);
	refused(f, kp, nonce, p->type, b.data, b.len, want, needle, what);
	lb_buf_release(&b);
}

/* Submit and commit in its own block; the tx id into id (may be NULL). */
static void accepted(struct fx *f, const struct lb_keypair *kp, uint64_t *nonce, uint32_t type,
		     const uint8_t *pl, size_t plen, uint8_t id[LB_HASH_LEN])
{
	struct lb_buf raw;
	struct lb_submit_result r;
	struct lb_errmsg em;
	uint8_t tid[LB_HASH_LEN];
	fx_build(&raw, f->l, kp, LB_CHAIN_BUSINESS, type, *nonce, 0, pl, plen, tid);
	int rc = fx_submit1(f->l, raw.data, raw.len, &r);
	if (rc)
		fail_msg("admission refused: %s: %s", lb_errname(rc), r.message);
	const uint8_t *raws[1] = {raw.data};
	size_t lens[1] = {raw.len};
	struct lb_cut c = {LB_CHAIN_BUSINESS, f->time_ms += 1000, 1, raws, lens};
	uint64_t h;
	if ((rc = lb_ledger_commit(f->l, &c, &h, &em)))
		fail_msg("commit: %s", em.text);
	json_t *tx;
	assert_lb_ok(lb_ledger_tx_json(f->l, tid, &tx, &em));
	if (strcmp(json_string_value(json_object_get(tx, "status")), "committed"))
		fail_msg("tx not applied in its block: %s", json_dumps(tx, 0));
	json_decref(tx);
	(*nonce)++;
	if (id)
		memcpy(id, tid, LB_HASH_LEN);
	lb_buf_release(&raw);
}

static void accepted_tx(struct fx *f, const struct lb_keypair *kp, uint64_t *nonce,
			const struct lb_store_tx *p, uint8_t id[LB_HASH_LEN])
{
	struct lb_buf b;
	encode(p, &b);
	accepted(f, kp, nonce, p->type, b.data, b.len, id);
	lb_buf_release(&b);
}

/* Publish contract source text (verified here as the CLI does); its hash into hash. */
static void publish_text(struct fx *f, const struct lb_keypair *kp, uint64_t *nonce,
			 const char *text, size_t len, uint8_t hash[32])
{
	struct lb_kn_model *m;
	struct lb_errmsg em;
	if (lb_kn_model_parse(text, len, "t", LB_KN_FORM_PF, &m, &em))
		fail_msg("%s", em.text);
	uint8_t *canon, *pl;
	size_t clen, failures, plen;
	char *report;
	assert_lb_ok(lb_kn_model_canonical(m, &canon, &clen));
	assert_lb_ok(lb_kn_model_hash(m, hash));
	assert_lb_ok(lb_kn_check(m, NULL, &report, &failures, NULL, &em));
	assert_int_equal(failures, 0);
	struct lb_kn_publish_payload p = {.source = canon, .source_len = clen};
	memcpy(p.source_hash, hash, 32);
	lb_kn_report_hash(report, strlen(report), p.report_hash);
	assert_lb_ok(lb_kn_publish_payload_encode(&p, &pl, &plen));
	accepted(f, kp, nonce, LB_TX_CONTRACT_PUBLISH, pl, plen, NULL);
	lb_free(pl);
	lb_free(report);
	lb_free(canon);
	lb_kn_model_free(m);
}

static char *slurp(const char *rel, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", root(), rel);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot read %s", path);
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, fp);
	buf[*len] = 0;
	fclose(fp);
	return buf;
}

static void publish_file(struct fx *f, const struct lb_keypair *kp, uint64_t *nonce,
			 const char *rel, uint8_t hash[32])
{
	size_t n;
	char *t = slurp(rel, &n);
	publish_text(f, kp, nonce, t, n, hash);
	free(t);
}

static void listing(struct lb_store_tx *p, const uint8_t item[32], const char *title,
		    uint64_t call, uint64_t licence)
{
	memset(p, 0, sizeof *p);
	p->type = LB_TX_STORE_LIST;
	memcpy(p->item, item, 32);
	p->kind = LB_STORE_CONTRACT;
	p->price_call = call;
	p->price_licence = licence;
	snprintf(p->title, sizeof p->title, "%s", title);
	snprintf(p->specialty, sizeof p->specialty, "cardiology");
	snprintf(p->description, sizeof p->description, "%s for adults in primary care", title);
	p->ncodes = 2;
	snprintf(p->codes[0], sizeof p->codes[0], "icd10|I10");
	snprintf(p->codes[1], sizeof p->codes[1], "snomed|38341003");
}

/* Tx types registered, a temp home, the keys (proposer, a, b, c, d) and their addresses. */
static void keys(struct fx *f, const char *tag)
{
	uint8_t seed[LB_SEED_LEN];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_knowledge_register_txtypes());
	assert_lb_ok(lb_market_store_register_txtypes());
	assert_lb_ok(lb_exchange_register_txtypes());
	assert_lb_ok(lb_market_register_txtypes());
	fx_mkhome(f->home, sizeof f->home, tag);
	struct lb_keypair *ks[] = {&f->prop, &f->a, &f->b, &f->c, &f->d};
	uint8_t *as[] = {NULL, f->addr_a, f->addr_b, f->addr_c, f->addr_d};
	for (int i = 0; i < 5; i++) {
		memset(seed, i + 1, sizeof seed);
		lb_keypair_from_seed(ks[i], seed);
		if (as[i])
			lb_addr_from_pubkey(as[i], ks[i]->pk);
	}
}

static void setup(struct fx *f)
{
	char hx[2 * LB_PUBKEY_LEN + 1], ab[LB_ADDR_TEXT_LEN + 1], ac[LB_ADDR_TEXT_LEN + 1];
	keys(f, "store");
	lb_hex_encode(hx, f->prop.pk, LB_PUBKEY_LEN);
	lb_addr_encode(ab, f->addr_b);
	lb_addr_encode(ac, f->addr_c);
	fx_genesis(f->home,
		   json_pack("{s:s,s:i,s:s,s:[{s:s,s:I},{s:s,s:I}]}", "network", "store", "time_ms",
			     1, "proposer", hx, "store_wallets", "address", ab, "asc",
			     (json_int_t)100000000, "address", ac, "asc", (json_int_t)500000));
	fx_open(&f->l, f->home, &f->prop);
	f->time_ms = 1000;
}

static void test_store(void **state)
{
	(void)state;
	struct fx fx = {0}, *f = &fx;
	struct lb_store_tx p;
	uint8_t hyp[32], chest[32], sepsis[32], call1[32], call2[32];
	setup(f);
	assert_int_equal(wallet(f, f->addr_b), 100000000);
	publish_file(f, &f->a, &f->na, "examples/contracts/hypertension.pf", hyp);
	publish_file(f, &f->d, &f->nd, "examples/contracts/chest_pain.pf", chest);
	publish_file(f, &f->a, &f->na, "examples/contracts/sepsis.pf", sepsis);

	/* listing: by the author only, once, of a published contract, with good codes */
	listing(&p, hyp, "Hypertension diagnosis", 1000000, 20000000);
	refused_tx(f, &f->b, f->nb, &p, LB_EUNAUTH, "only its author may list it", "non-author");
	uint8_t unknown[32];
	memset(unknown, 7, 32);
	struct lb_store_tx q = p;
	memcpy(q.item, unknown, 32);
	refused_tx(f, &f->a, f->na, &q, LB_ENOTFOUND, "is not published", "unpublished");
	q = p;
	snprintf(q.codes[1], sizeof q.codes[1], "snomed|38341004");
	refused_tx(f, &f->a, f->na, &q, LB_EINVALID, "check digit", "bad SNOMED code");
	q = p;
	snprintf(q.codes[0], sizeof q.codes[0], "icd10|X1");
	refused_tx(f, &f->a, f->na, &q, LB_EINVALID, "icd10|X1", "bad ICD-10 code");
	q = p;
	q.price_call = q.price_licence = 0;
	refused_tx(f, &f->a, f->na, &q, LB_EINVALID, "needs a price", "no price");
	accepted_tx(f, &f->a, &f->na, &p, NULL);
	refused_tx(f, &f->a, f->na, &p, LB_EEXISTS, "already listed", "duplicate");

	/* price change by the author only */
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_PRICE;
	memcpy(q.item, hyp, 32);
	q.price_call = 1;
	q.price_licence = 1;
	refused_tx(f, &f->b, f->nb, &q, LB_EUNAUTH, "only the author", "price by non-author");
	q.price_call = 2000000;
	q.price_licence = 30000000;
	accepted_tx(f, &f->a, &f->na, &q, NULL);

	/* family: chest pain (by d) extends hypertension (by a) */
	listing(&p, chest, "Chest pain assessment", 3000000, 0);
	memcpy(p.parent, hyp, 32);
	p.relation = LB_STORE_EXTEND;
	accepted_tx(f, &f->d, &f->nd, &p, NULL);
	/* cycle: hypertension may not derive from its own descendant */
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_DERIVE;
	memcpy(q.item, hyp, 32);
	memcpy(q.parent, chest, 32);
	q.relation = LB_STORE_FORK;
	refused_tx(f, &f->a, f->na, &q, LB_EINVALID, "derivation cycle", "cycle");
	memcpy(q.parent, hyp, 32);
	refused_tx(f, &f->a, f->na, &q, LB_EINVALID, "derivation cycle", "self-derivation");

	/* paying: not enough in the wallet -> refused, nothing changed */
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_CALL;
	memcpy(q.item, chest, 32);
	q.max_price = 10000000;
	refused_tx(f, &f->c, f->nc, &q, LB_EFUNDS, "holds 500000", "call without balance");
	q.max_price = 1;
	refused_tx(f, &f->b, f->nb, &q, LB_ERANGE, "above the 1 you allowed", "price above max");
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_BUY;
	memcpy(q.item, hyp, 32);
	q.max_price = 100000000;
	refused_tx(f, &f->c, f->nc, &q, LB_EFUNDS, "store wallet", "licence without balance");
	memcpy(q.item, chest, 32);
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "no licence price", "licence of per-call");

	/* a paid call through the contract-call split table: author d 60 %, ancestor a 15 %,
	 * the pool the rest (its 10 %, and executor's and audit's shares nobody fills here) */
	uint8_t pool[LB_ADDR_LEN];
	lb_store_pool_addr(pool);
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_CALL;
	memcpy(q.item, chest, 32);
	q.max_price = 3000000;
	accepted_tx(f, &f->b, &f->nb, &q, call1);
	assert_int_equal(wallet(f, f->addr_b), 97000000);
	assert_int_equal(wallet(f, f->addr_d), 1800000);
	assert_int_equal(wallet(f, f->addr_a), 450000);
	assert_int_equal(wallet(f, pool), 750000);
	/* a licence: no ancestors, a 60 %, the pool 40 %; then calls are free */
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_BUY;
	memcpy(q.item, hyp, 32);
	q.max_price = 30000000;
	accepted_tx(f, &f->b, &f->nb, &q, NULL);
	assert_int_equal(wallet(f, f->addr_b), 67000000);
	assert_int_equal(wallet(f, f->addr_a), 450000 + 18000000);
	assert_int_equal(wallet(f, pool), 750000 + 12000000);
	refused_tx(f, &f->b, f->nb, &q, LB_EEXISTS, "already holds a licence", "second licence");
	q.type = LB_TX_STORE_CALL;
	q.max_price = 0;
	accepted_tx(f, &f->b, &f->nb, &q, call2);
	assert_int_equal(wallet(f, f->addr_b), 67000000);

	/* ratings: verified buyers only, once */
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_RATE;
	memcpy(q.item, chest, 32);
	q.stars = 5;
	snprintf(q.description, sizeof q.description, "clear and quick");
	refused_tx(f, &f->c, f->nc, &q, LB_EUNAUTH, "only verified buyers rate", "non-buyer");
	q.stars = 6;
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "1 to 5 stars", "six stars");
	q.stars = 4;
	accepted_tx(f, &f->b, &f->nb, &q, NULL);
	refused_tx(f, &f->b, f->nb, &q, LB_EEXISTS, "already rated", "second rating");

	/* outcomes: by the caller, once, hidden below the minimum */
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_OUTCOME;
	memcpy(q.item, chest, 32);
	memcpy(q.ref, call1, 32);
	q.outcome = LB_STORE_OUT_REFERRAL_CONFIRMED;
	refused_tx(f, &f->c, f->nc, &q, LB_EUNAUTH, "only the caller", "outcome by other");
	memcpy(q.ref, unknown, 32);
	refused_tx(f, &f->b, f->nb, &q, LB_ENOTFOUND, "is not a store call", "outcome of no call");
	memcpy(q.ref, call1, 32);
	accepted_tx(f, &f->b, &f->nb, &q, NULL);
	refused_tx(f, &f->b, f->nb, &q, LB_EEXISTS, "already has its outcome", "second outcome");
	json_t *j;
	struct lb_errmsg em;
	assert_lb_ok(lb_store_listing_json(f->l, chest, &j, &em));
	assert_true(json_is_null(json_object_get(json_object_get(j, "outcomes"), "recorded")));
	assert_int_equal(json_integer_value(json_object_get(j, "ratings")), 1);
	char hh[65];
	lb_hex_encode(hh, hyp, 32);
	assert_string_equal(json_string_value(json_object_get(j, "parent")), hh);
	json_decref(j);

	/* templates: an instance points back; a wrong or failing instance is refused */
	size_t tl;
	char *tsrc = slurp("tests/data/store/hypertension.tmpl", &tl);
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_TEMPLATE;
	lb_hash_domain(q.item, "LEBEN-store-template-v1", tsrc, tl);
	snprintf(q.title, sizeof q.title, "Hypertension follow-up, target systolic");
	q.source = (const uint8_t *)tsrc;
	q.source_len = tl;
	uint8_t tid[32];
	memcpy(tid, q.item, 32);
	accepted_tx(f, &f->a, &f->na, &q, NULL);
	uint8_t inst[32];
	assert_lb_ok(lb_store_template_instance(tsrc, tl, "{\"target\": 150}", inst, &em));
	char *filled;
	size_t fl;
	assert_lb_ok(lb_store_template_fill(tsrc, tl, "{\"target\": 150}", &filled, &fl, &em));
	uint8_t h2[32];
	publish_text(f, &f->a, &f->na, filled, fl, h2);
	assert_memory_equal(h2, inst, 32);
	lb_free(filled);
	listing(&p, inst, "Hypertension follow-up to 150", 500000, 0);
	memcpy(p.tmpl, tid, 32);
	snprintf(p.params, sizeof p.params, "{\"target\": 140}");
	refused_tx(f, &f->a, f->na, &p, LB_EINVALID, "is not the instance of template", "wrong params");
	snprintf(p.params, sizeof p.params, "{\"target\": 150}");
	accepted_tx(f, &f->a, &f->na, &p, NULL);
	assert_lb_ok(lb_store_template_json(f->l, tid, &j, &em));
	assert_int_equal(json_array_size(json_object_get(j, "instances")), 1);
	json_decref(j);
	/* the instance is version 2 of a's "hypertension": both versions side by side, each
	 * with its own outcome statistics */
	assert_lb_ok(lb_store_listing_json(f->l, hyp, &j, &em));
	json_t *vs = json_object_get(j, "versions");
	assert_int_equal(json_array_size(vs), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(vs, 1), "version")), 2);
	lb_hex_encode(hh, h2, 32);
	assert_string_equal(json_string_value(json_object_get(json_array_get(vs, 1), "id")), hh);
	json_decref(j);
	/* a failing instance: the verifier's finding is the refusal */
	int rc = lb_store_template_instance(tsrc, tl, "{\"target\": 400}", inst, &em);
	assert_int_equal(rc, LB_EINVALID);
	if (!strstr(em.text, "fails verification"))
		fail_msg("failing instance: %s", em.text);
	rc = lb_store_template_instance(tsrc, tl, "{\"target\": \"1; evil\"}", inst, &em);
	assert_int_equal(rc, LB_EINVALID);
	rc = lb_store_template_instance(tsrc, tl, "{}", inst, &em);
	assert_int_equal(rc, LB_EINVALID);
	assert_non_null(strstr(em.text, "'target' is missing"));
	free(tsrc);

	/* sessions: a call and an outcome name the anchored session the call ran */
	uint8_t sid[32], sid_a[32], *sp;
	size_t slen;
	struct lb_kn_session_payload sp0;
	memset(sid, 0x51, 32);
	memset(sid_a, 0x52, 32);
	memset(&sp0, 0, sizeof sp0);
	sp0.kind = LB_KN_EV_START;
	memcpy(sp0.contract, chest, 32);
	memcpy(sp0.session, sid, 32);
	assert_lb_ok(lb_kn_session_payload_encode(&sp0, &sp, &slen));
	accepted(f, &f->b, &f->nb, LB_TX_CONTRACT_SESSION, sp, slen, NULL);
	lb_free(sp);
	memcpy(sp0.session, sid_a, 32);
	memcpy(sp0.contract, hyp, 32);
	assert_lb_ok(lb_kn_session_payload_encode(&sp0, &sp, &slen));
	accepted(f, &f->a, &f->na, LB_TX_CONTRACT_SESSION, sp, slen, NULL);
	lb_free(sp);
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_CALL;
	memcpy(q.item, chest, 32);
	q.max_price = 3000000;
	memset(q.session, 0x77, 32);
	refused_tx(f, &f->b, f->nb, &q, LB_ENOTFOUND, "is not anchored", "call of no session");
	memcpy(q.session, sid_a, 32);
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "runs contract", "session of another contract");
	uint8_t call3[32];
	memset(q.session, 0, 32);
	accepted_tx(f, &f->b, &f->nb, &q, call3);
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_OUTCOME;
	memcpy(q.item, chest, 32);
	memcpy(q.ref, call3, 32);
	q.outcome = LB_STORE_OUT_RESOLVED;
	memcpy(q.session, sid_a, 32);
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "runs contract", "outcome, foreign session");
	memcpy(q.session, sid, 32);
	accepted_tx(f, &f->b, &f->nb, &q, NULL);

	/* outcome statistics show from the minimum on: eight more calls with outcomes */
	for (int i = 1; i < 9; i++) {
		uint8_t cid[32];
		memset(&q, 0, sizeof q);
		q.type = LB_TX_STORE_CALL;
		memcpy(q.item, chest, 32);
		q.max_price = 3000000;
		accepted_tx(f, &f->b, &f->nb, &q, cid);
		memset(&q, 0, sizeof q);
		q.type = LB_TX_STORE_OUTCOME;
		memcpy(q.item, chest, 32);
		memcpy(q.ref, cid, 32);
		q.outcome = i < 4 ? LB_STORE_OUT_ADVERSE_EVENT : LB_STORE_OUT_RESOLVED;
		if (i < 8)
			accepted_tx(f, &f->b, &f->nb, &q, NULL);
		else {
			assert_lb_ok(lb_store_listing_json(f->l, chest, &j, &em));
			assert_true(json_is_null(
				json_object_get(json_object_get(j, "outcomes"), "recorded")));
			json_decref(j);
			accepted_tx(f, &f->b, &f->nb, &q, NULL);
		}
	}
	assert_lb_ok(lb_store_listing_json(f->l, chest, &j, &em));
	json_t *oc = json_object_get(j, "outcomes");
	assert_int_equal(json_integer_value(json_object_get(oc, "recorded")), 10);
	json_t *counts = json_object_get(oc, "counts");
	assert_int_equal(json_integer_value(json_object_get(counts, "referral-confirmed")), 1);
	assert_int_equal(json_integer_value(json_object_get(counts, "adverse-event")), 3);
	assert_int_equal(json_integer_value(json_object_get(counts, "resolved")), 6);
	json_decref(j);

	/* algorithms: listed by their registrant through the node's lookup (the market is below
	 * the exchange); a call pays the algorithm-call table: author 70 %, the pool the rest */
	struct lb_xchg_algo al;
	memset(&al, 0, sizeof al);
	memset(al.hash, 0x42, sizeof al.hash);
	snprintf(al.name, sizeof al.name, "cardiac risk score");
	struct lb_buf ab;
	lb_buf_init(&ab, 4096);
	assert_lb_ok(lb_xchg_algo_encode(&ab, &al));
	accepted(f, &f->c, &f->nc, LB_TX_XCHG_ALGO, ab.data, ab.len, NULL);
	lb_buf_release(&ab);
	listing(&p, al.hash, "Cardiac risk score", 1000000, 0);
	p.kind = LB_STORE_ALGORITHM;
	lb_store_set_algo_lookup(NULL);
	refused_tx(f, &f->c, f->nc, &p, LB_ENOTFOUND, "is not registered", "no algorithm lookup");
	lb_store_set_algo_lookup(lb_xchg_state_algo);
	refused_tx(f, &f->a, f->na, &p, LB_EUNAUTH, "only its author may list it", "algo non-author");
	accepted_tx(f, &f->c, &f->nc, &p, NULL);
	uint64_t c0 = wallet(f, f->addr_c), pool0 = wallet(f, pool);
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_CALL;
	memcpy(q.item, al.hash, 32);
	q.max_price = 1000000;
	accepted_tx(f, &f->b, &f->nb, &q, NULL);
	assert_int_equal(wallet(f, f->addr_c) - c0, 700000);
	assert_int_equal(wallet(f, pool) - pool0, 300000);

	/* a cited settlement payment that is not one: refused, nothing changed */
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_CALL;
	memcpy(q.item, chest, 32);
	q.max_price = 3000000;
	uint8_t junk[64];
	memset(junk, 1, sizeof junk);
	q.pay_tx = junk;
	q.pay_tx_len = sizeof junk;
	q.pay_proof = junk;
	q.pay_proof_len = sizeof junk;
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "proof of the payment", "bogus citation");
	q.pay_proof_len = 0;
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "needs both", "citation without proof");
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_DEPOSIT;
	q.amount = 1000000;
	q.pay_tx = q.pay_proof = junk;
	q.pay_tx_len = q.pay_proof_len = sizeof junk;
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "proof of the deposit transfer",
		   "deposit of nothing");
	q.amount = 0;
	refused_tx(f, &f->b, f->nb, &q, LB_EINVALID, "names its amount", "deposit of 0");

	/* family tree and sorting */
	assert_lb_ok(lb_store_family_json(f->l, chest, &j, &em));
	json_t *tree = json_object_get(j, "tree");
	assert_int_equal(json_array_size(json_object_get(tree, "children")), 1);
	json_decref(j);
	struct lb_store_query sq = {.sort = "calls"};
	assert_lb_ok(lb_store_listings_json(f->l, &sq, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 4);
	lb_hex_encode(hh, chest, 32); /* the most called */
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(j, "listings"), 0),
						  "id")),
		hh);
	json_decref(j);
	sq.sort = "rating";
	sq.kind = LB_STORE_ALGORITHM;
	assert_lb_ok(lb_store_listings_json(f->l, &sq, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	json_decref(j);
	sq.sort = "bogus";
	assert_int_equal(lb_store_listings_json(f->l, &sq, &j, &em), LB_EINVALID);

	/* replay from genesis gives the same state */
	char *before = snapshot(f);
	lb_ledger_close(f->l);
	assert_lb_ok(lb_ledger_verify_home(f->home, NULL, NULL, &em));
	fx_open(&f->l, f->home, &f->prop);
	char *after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	lb_ledger_close(f->l);
	char home[64];
	snprintf(home, sizeof home, "%.63s", f->home);
	fx_rmhome(home);
	(void)sepsis;
}

/* ---- ratings in the settlement-chain rankings (market.cite, docs/economy.md §5) ------------- */

/* Submit one settlement tx of kp; commit it in its own block when admitted. Its code. */
static int settle_tx(struct fx *f, const struct lb_keypair *kp, uint64_t *nonce, uint32_t type,
		     const struct lb_buf *pl, char *msg, size_t msgsz)
{
	struct lb_buf raw;
	struct lb_submit_result r;
	struct lb_errmsg em;
	fx_build(&raw, f->l, kp, LB_CHAIN_SETTLEMENT, type, *nonce, 0, pl->data, pl->len, NULL);
	int rc = fx_submit1(f->l, raw.data, raw.len, &r);
	if (msg)
		snprintf(msg, msgsz, "%s", r.message);
	if (rc == LB_OK) {
		const uint8_t *raws[1] = {raw.data};
		size_t lens[1] = {raw.len};
		struct lb_cut c = {LB_CHAIN_SETTLEMENT, f->time_ms += 1000, 1, raws, lens};
		if (lb_ledger_commit(f->l, &c, NULL, &em))
			fail_msg("commit: %s", em.text);
		(*nonce)++;
	}
	lb_buf_release(&raw);
	return rc;
}

/* The committed bytes of business tx id and its proof anchored in the settlement chain. */
static void cited(struct fx *f, const uint8_t id[LB_HASH_LEN], uint8_t **raw, size_t *len,
		  struct lb_buf *proof)
{
	int chain;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_tx_raw(f->l, id, &chain, raw, len));
	lb_buf_init(proof, 1 << 20);
	if (lb_ledger_proof(f->l, id, LB_CHAIN_SETTLEMENT, proof, &em))
		fail_msg("proof: %s", em.text);
}

static uint64_t csc_of(struct fx *f, const uint8_t a[LB_ADDR_LEN])
{
	return fx_csc(f->l, a);
}

static void rating_refused(struct fx *f, uint64_t *nonce, const struct lb_buf *pl, int want,
			   const char *needle)
{
	char msg[512];
	uint64_t h = lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT);
	int rc = settle_tx(f, &f->b, nonce, LB_TX_MKT_CITE, pl, msg, sizeof msg);
	if (rc != want || !strstr(msg, needle))
		fail_msg("market.cite: got %s '%s', want %s '%s'", lb_errname(rc), msg,
			 lb_errname(want), needle);
	assert_int_equal(lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT), h);
}

/* Two authors with one paid call each in a period; one contract is rated 5 stars by a buyer,
 * and the rating is cited on the settlement chain: its author ranks above the other by exactly
 * 5 rating points x the rating weight. A rating cited with another listing's store.list, without
 * it, or a store.call cited as a rating is refused; a rating counts once. */
static void test_rating_ranked(void **state)
{
	(void)state;
	struct fx fx = {0}, *f = &fx;
	uint8_t hyp[32], chest[32], list_hyp[32], list_chest[32], call[32],
		rate[32];
	char hx[2 * LB_PUBKEY_LEN + 1], ad[4][LB_ADDR_TEXT_LEN + 1], pt[LB_ADDR_TEXT_LEN + 1];
	struct lb_store_tx p, q;
	keys(f, "store-rank");
	const uint8_t *as[] = {f->addr_a, f->addr_b, f->addr_c, f->addr_d};
	for (int i = 0; i < 4; i++)
		lb_addr_encode(ad[i], as[i]);
	lb_hex_encode(hx, f->prop.pk, LB_PUBKEY_LEN);
	uint8_t platform[LB_ADDR_LEN];
	memset(platform, 0x5b, sizeof platform);
	lb_addr_encode(pt, platform);
	json_t *accts = json_array();
	for (int i = 0; i < 4; i++)
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", ad[i], "asc",
						       (json_int_t)1000000000, "csc",
						       (json_int_t)1000000000));
	fx_genesis(f->home,
		   json_pack("{s:s,s:i,s:s,s:[{s:s,s:I}],s:o,s:{s:i},s:{s:s,s:i,s:i}}", "network",
			     "store-rank", "time_ms", 1, "proposer", hx, "store_wallets", "address",
			     ad[1], "asc", (json_int_t)100000000, "accounts", accts, "fees",
			     "default", 1000, "market", "platform", pt, "period_blocks", 10,
			     "top_k", 3));
	/* c is a credit partner (it funds the bonus pool below); the quota is allotted at once */
	{
		char path[128];
		snprintf(path, sizeof path, "%.63s/genesis.json", f->home);
		json_error_t jerr;
		json_t *g = json_load_file(path, 0, &jerr);
		assert_non_null(g);
		json_object_set_new(g, "credit_partners", json_pack("[s]", ad[2]));
		json_object_set_new(json_object_get(g, "market"), "quota",
				    json_pack("{s:i,s:i}", "csc_per_asc", 1, "periods", 1));
		fx_genesis(f->home, g);
	}
	fx_open(&f->l, f->home, &f->prop);
	f->time_ms = 1000;

	/* a lists hypertension, d chest pain; b calls both (a verified buyer) and rates a's */
	publish_file(f, &f->a, &f->na, "examples/contracts/hypertension.pf", hyp);
	publish_file(f, &f->d, &f->nd, "examples/contracts/chest_pain.pf", chest);
	listing(&p, hyp, "Hypertension diagnosis", 1000000, 0);
	accepted_tx(f, &f->a, &f->na, &p, list_hyp);
	listing(&p, chest, "Chest pain assessment", 1000000, 0);
	accepted_tx(f, &f->d, &f->nd, &p, list_chest);
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_CALL;
	q.max_price = 1000000;
	memcpy(q.item, hyp, 32);
	accepted_tx(f, &f->b, &f->nb, &q, call);
	memcpy(q.item, chest, 32);
	accepted_tx(f, &f->b, &f->nb, &q, NULL);
	memset(&q, 0, sizeof q);
	q.type = LB_TX_STORE_RATE;
	memcpy(q.item, hyp, 32);
	q.stars = 5;
	snprintf(q.description, sizeof q.description, "clear");
	accepted_tx(f, &f->b, &f->nb, &q, rate);

	/* three more contracts by a, listed (for the creation bonus and its cap) */
	static const char *const more[] = {"sepsis", "chronic_cough", "diabetic_foot"};
	uint8_t more_list[3][32];
	for (int i = 0; i < 3; i++) {
		char rel[128];
		uint8_t h[32];
		snprintf(rel, sizeof rel, "examples/contracts/%s.pf", more[i]);
		publish_file(f, &f->a, &f->na, rel, h);
		listing(&p, h, more[i], 1000000, 0);
		accepted_tx(f, &f->a, &f->na, &p, more_list[i]);
	}

	/* settlement: c funds the bonus pool; one paid call for each author, the same amount */
	uint64_t sn = 0, cn = 0;
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_MAX_BYTES * 2);
	assert_lb_ok(lb_mkt_fund_encode(&b, LB_MKT_POOL_BONUS, 10000000));
	assert_lb_ok(settle_tx(f, &f->c, &cn, LB_TX_MKT_FUND, &b, NULL, 0));
	const uint8_t *who[2] = {f->addr_a, f->addr_d};
	for (int i = 0; i < 2; i++) {
		struct lb_mkt_parties pp = {0};
		pp.authors = (const uint8_t(*)[LB_ADDR_LEN])who[i];
		pp.n_authors = 1;
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, 1000000, &pp));
		assert_lb_ok(settle_tx(f, &f->b, &sn, LB_TX_MKT_PAY, &b, NULL, 0));
	}

	uint8_t *rraw, *lraw, *oraw, *craw;
	size_t rlen, llen, olen, clen;
	struct lb_buf rpr, lpr, opr, cpr;
	cited(f, rate, &rraw, &rlen, &rpr);
	cited(f, list_hyp, &lraw, &llen, &lpr);
	cited(f, list_chest, &oraw, &olen, &opr);
	cited(f, call, &craw, &clen, &cpr);
	/* another listing's store.list: refused */
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_cite_encode(&b, LB_MKT_CITE_RATING, rraw, rlen, rpr.data, rpr.len, oraw,
					olen, opr.data, opr.len));
	rating_refused(f, &sn, &b, LB_EINVALID, "cite the rated listing's store.list");
	/* no store.list at all */
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_cite_encode(&b, LB_MKT_CITE_AUDIT, rraw, rlen, rpr.data, rpr.len, NULL,
					0, NULL, 0));
	b.data[0] = LB_MKT_CITE_RATING;
	rating_refused(f, &sn, &b, LB_EMALFORMED, "listing tx");
	/* a store.call cited as a rating */
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_cite_encode(&b, LB_MKT_CITE_RATING, craw, clen, cpr.data, cpr.len, lraw,
					llen, lpr.data, lpr.len));
	rating_refused(f, &sn, &b, LB_EINVALID, "is not of type store.rate");
	/* the genuine citation; the same again is refused */
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_cite_encode(&b, LB_MKT_CITE_RATING, rraw, rlen, rpr.data, rpr.len, lraw,
					llen, lpr.data, lpr.len));
	assert_lb_ok(settle_tx(f, &f->b, &sn, LB_TX_MKT_CITE, &b, NULL, 0));
	rating_refused(f, &sn, &b, LB_EEXISTS, "already counted");

	/* close period 0 (blocks 1-10) */
	while (lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) < 10) {
		struct lb_cut c = {LB_CHAIN_SETTLEMENT, f->time_ms += 1000, 0, NULL, NULL};
		struct lb_errmsg em;
		if (lb_ledger_commit(f->l, &c, NULL, &em))
			fail_msg("commit: %s", em.text);
	}
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_period_encode(&b, 0));
	assert_lb_ok(settle_tx(f, &f->c, &cn, LB_TX_MKT_PERIOD, &b, NULL, 0));
	json_t *j;
	struct lb_errmsg em;
	assert_lb_ok(lb_mkt_ledger_ranking_json(f->l, 0, &j, &em));
	json_t *top = json_object_get(json_object_get(j, "developers"), "top");
	assert_int_equal(json_array_size(top), 2);
	json_t *e0 = json_array_get(top, 0), *e1 = json_array_get(top, 1);
	assert_string_equal(json_string_value(json_object_get(e0, "node")), ad[0]); /* a */
	assert_string_equal(json_string_value(json_object_get(e1, "node")), ad[3]); /* d */
	assert_int_equal(json_integer_value(json_object_get(e0, "score")) -
				 json_integer_value(json_object_get(e1, "score")),
			 5 * 200000);
	json_decref(j);

	/* creation bonus (period 1, the bonus pool now holds 10 CSC): 1 CSC per listed contract,
	 * once per listing, at most 3 per author and period */
	uint64_t csc0 = csc_of(f, f->addr_a);
	const uint8_t *lists[4] = {list_hyp, more_list[0], more_list[1], more_list[2]};
	for (int i = 0; i < 4; i++) {
		uint8_t *lr;
		size_t ll;
		struct lb_buf lp;
		cited(f, lists[i], &lr, &ll, &lp);
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_cite_encode(&b, LB_MKT_CITE_CREATION, lr, ll, lp.data, lp.len,
						NULL, 0, NULL, 0));
		if (i < 3) {
			assert_lb_ok(settle_tx(f, &f->c, &cn, LB_TX_MKT_CITE, &b, NULL, 0));
			assert_int_equal(csc_of(f, f->addr_a), csc0 + (uint64_t)(i + 1) * 1000000);
		} else {
			rating_refused(f, &sn, &b, LB_ELIMIT, "(the cap)");
		}
		if (i == 0)
			rating_refused(f, &sn, &b, LB_EEXISTS, "already counted");
		lb_buf_release(&lp);
		lb_free(lr);
	}
	assert_int_equal(csc_of(f, f->addr_a), csc0 + 3000000);
	/* a rating cited as a creation: refused */
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_cite_encode(&b, LB_MKT_CITE_CREATION, rraw, rlen, rpr.data, rpr.len,
					NULL, 0, NULL, 0));
	rating_refused(f, &sn, &b, LB_EINVALID, "is not of type store.list");

	/* replay from genesis and the rankings recomputed from their counters */
	lb_ledger_close(f->l);
	assert_lb_ok(lb_ledger_verify_home(f->home, NULL, NULL, &em));
	fx_open(&f->l, f->home, &f->prop);
	uint64_t periods;
	if (lb_mkt_verify_ledger(f->l, &periods, &em))
		fail_msg("market verify: %s", em.text);
	assert_int_equal(periods, 1);
	lb_ledger_close(f->l);
	lb_buf_release(&b);
	struct lb_buf *prs[] = {&rpr, &lpr, &opr, &cpr};
	uint8_t *raws[] = {rraw, lraw, oraw, craw};
	for (int i = 0; i < 4; i++) {
		lb_buf_release(prs[i]);
		lb_free(raws[i]);
	}
	char home[64];
	snprintf(home, sizeof home, "%.63s", f->home);
	fx_rmhome(home);
}

/* Every store payload: truncated at any byte, with a trailing byte or another version, refused
 * with LB_EMALFORMED naming the field; the whole one decodes and re-encodes to itself. */
static void test_codec(void **state)
{
	(void)state;
	static const uint32_t types[] = {LB_TX_STORE_LIST,    LB_TX_STORE_PRICE,
					 LB_TX_STORE_BUY,     LB_TX_STORE_CALL,
					 LB_TX_STORE_RATE,    LB_TX_STORE_OUTCOME,
					 LB_TX_STORE_TEMPLATE, LB_TX_STORE_DERIVE,
					 LB_TX_STORE_DEPOSIT};
	static const uint8_t one[1] = {7};
	static const uint8_t src[] = "plan :: x ; end plan.";
	struct lb_store_tx *p = calloc(1, sizeof *p), *q = calloc(1, sizeof *q);
	struct lb_errmsg em;
	assert_non_null(p);
	assert_non_null(q);
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		memset(p, 0, sizeof *p);
		p->type = types[t];
		memset(p->item, 3, 32);
		p->kind = LB_STORE_CONTRACT;
		p->price_call = 5;
		snprintf(p->title, sizeof p->title, "T");
		p->ncodes = 1;
		snprintf(p->codes[0], sizeof p->codes[0], "icd10|I10");
		memset(p->parent, 4, 32);
		p->relation = LB_STORE_FORK;
		p->stars = 3;
		p->outcome = LB_STORE_OUT_OTHER;
		p->source = src;
		p->source_len = sizeof src - 1;
		if (types[t] == LB_TX_STORE_DEPOSIT) {
			p->amount = 1;
			p->pay_tx = p->pay_proof = one;
			p->pay_tx_len = p->pay_proof_len = 1;
		}
		struct lb_buf b, b2;
		lb_buf_init(&b, 1 << 16);
		lb_buf_init(&b2, 1 << 16);
		assert_lb_ok(lb_store_tx_encode(&b, p, &em));
		assert_lb_ok(lb_store_tx_decode(types[t], b.data, b.len, q, &em));
		assert_lb_ok(lb_store_tx_encode(&b2, q, &em));
		assert_int_equal(b.len, b2.len);
		assert_memory_equal(b.data, b2.data, b.len);
		for (size_t n = 0; n < b.len; n++)
			if (lb_store_tx_decode(types[t], b.data, n, q, &em) == LB_OK)
				fail_msg("type 0x%04x: %zu of %zu bytes decoded", types[t], n, b.len);
		uint8_t *longer = malloc(b.len + 1);
		memcpy(longer, b.data, b.len);
		longer[b.len] = 0;
		assert_int_equal(lb_store_tx_decode(types[t], longer, b.len + 1, q, &em),
				 LB_EMALFORMED);
		longer[0] = 2;
		assert_int_equal(lb_store_tx_decode(types[t], longer, b.len, q, &em), LB_EMALFORMED);
		assert_non_null(strstr(em.text, "version"));
		free(longer);
		lb_buf_release(&b);
		lb_buf_release(&b2);
	}
	assert_int_equal(lb_store_tx_decode(0x037f, (const uint8_t *)"\x01", 1, q, &em),
			 LB_EUNKNOWNTYPE);
	assert_int_equal(lb_store_code_check("icd10|I10", &em), LB_OK);
	assert_int_equal(lb_store_code_check("loinc|1234-5", &em), LB_EINVALID);
	assert_int_equal(lb_store_code_check("I10", &em), LB_EINVALID);
	assert_int_equal(lb_store_relation_parse("specialize"), LB_STORE_SPECIALISE);
	assert_int_equal(lb_store_outcome_parse("adverse-event"), LB_STORE_OUT_ADVERSE_EVENT);
	assert_int_equal(lb_store_outcome_parse("cured"), 0);
	free(p);
	free(q);
}

/* A store wallet in genesis that is not a whole number of micro-ASC: the ledger does not
 * open, and says where. */
static void test_bad_genesis(void **state)
{
	(void)state;
	char home[64], hx[2 * LB_PUBKEY_LEN + 1], a[LB_ADDR_TEXT_LEN + 1];
	struct lb_keypair prop;
	uint8_t seed[LB_SEED_LEN], addr[LB_ADDR_LEN];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_market_store_register_txtypes());
	memset(seed, 1, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	lb_addr_from_pubkey(addr, prop.pk);
	lb_addr_encode(a, addr);
	lb_hex_encode(hx, prop.pk, LB_PUBKEY_LEN);
	fx_mkhome(home, sizeof home, "storeg");
	fx_genesis(home, json_pack("{s:s,s:i,s:s,s:[{s:s,s:s}]}", "network", "store", "time_ms", 1,
				   "proposer", hx, "store_wallets", "address", a, "asc", "1.5"));
	struct lb_ledger_options o;
	struct lb_ledger *l = NULL;
	struct lb_errmsg em;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	assert_int_equal(lb_ledger_open(&l, &o, &prop, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "store_wallets[0]"));
	fx_rmhome(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_rating_ranked),
		cmocka_unit_test(test_bad_genesis),
		cmocka_unit_test(test_codec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
