/* Knowledge contracts on a real ledger in a temp home: contract.publish stores a verified
 * contract (author, version, usage count) and refuses, each with its own code and changing
 * nothing, a malformed payload, a wrong source or report hash, a non-canonical source, a
 * contract the verifier rejects and a duplicate; a revision by the same author gets the next
 * version and lists page in publication order; contract.session anchors start, answer,
 * decision and completion in order and refuses an unpublished contract, a session never
 * started or started twice, events out of order, from another account, naming a decision or
 * candidate the contract does not have, or following the completion. The offline verifier
 * replays it all to the same state. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/knowledge.h"
#include "leben/knowledge_chain.h"
#include "leben/ledger.h"
#include "leben/tx.h"
#include "ledger_fixture.h"

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair prop, a, b;
	uint64_t nonce_a, nonce_b, time_ms, height;
};

static const char *root(void)
{
	return getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
}

/* Sign a business tx with kp. Caller releases out. */
static void build(struct fx *f, struct lb_buf *out, const struct lb_keypair *kp, uint32_t type,
		  uint64_t nonce, const uint8_t *pl, size_t plen)
{
	fx_build(out, f->l, kp, LB_CHAIN_BUSINESS, type, nonce, 0, pl, plen, NULL);
}

static int submit1(struct fx *f, const struct lb_buf *raw, char *msg, size_t mlen)
{
	struct lb_submit_result r;
	int rc = fx_submit1(f->l, raw->data, raw->len, &r);
	if (msg)
		snprintf(msg, mlen, "%s", r.message);
	return rc;
}

/* Everything the knowledge views show, as one string. */
static char *snapshot(struct fx *f)
{
	json_t *c = NULL, *s = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_contracts_json(f->l, 0, 0, &c, &em));
	assert_lb_ok(lb_kn_sessions_json(f->l, NULL, 0, 0, &s, &em));
	json_t *o = json_pack("{s:o,s:o,s:I}", "c", c, "s", s, "pending",
			      (json_int_t)lb_ledger_pending(f->l, LB_CHAIN_BUSINESS));
	char *t = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	assert_non_null(t);
	return t;
}

/* Submit a tx that must be refused with code want and a message containing needle, with
 * nothing changed. */
static void refused(struct fx *f, const struct lb_keypair *kp, uint64_t nonce, uint32_t type,
		    const uint8_t *pl, size_t plen, int want, const char *needle, const char *what)
{
	struct lb_buf raw;
	char msg[512];
	char *before = snapshot(f);
	build(f, &raw, kp, type, nonce, pl, plen);
	int rc = submit1(f, &raw, msg, sizeof msg);
	if (rc != want)
		fail_msg("%s: got %s (%s), want %s", what, lb_errname(rc), msg, lb_errname(want));
	if (!strstr(msg, needle))
		fail_msg("%s: message '%s' does not say '%s'", what, msg, needle);
	char *after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	lb_buf_release(&raw);
}

/* Submit (must be admitted) and commit in its own block. */
static void accepted(struct fx *f, const struct lb_keypair *kp, uint64_t *nonce, uint32_t type,
		     const uint8_t *pl, size_t plen)
{
	struct lb_buf raw;
	char msg[512];
	struct lb_errmsg em;
	build(f, &raw, kp, type, *nonce, pl, plen);
	int rc = submit1(f, &raw, msg, sizeof msg);
	if (rc)
		fail_msg("admission refused: %s: %s", lb_errname(rc), msg);
	const uint8_t *raws[1] = { raw.data };
	size_t lens[1] = { raw.len };
	struct lb_cut c = { LB_CHAIN_BUSINESS, f->time_ms += 1000, 1, raws, lens };
	uint64_t h;
	if ((rc = lb_ledger_commit(f->l, &c, &h, &em)))
		fail_msg("commit: %s", em.text);
	assert_true(h == ++f->height);
	json_t *tx;
	uint8_t id[LB_HASH_LEN];
	struct lb_tx t;
	assert_lb_ok(lb_tx_decode(&t, raw.data, raw.len, NULL));
	memcpy(id, t.id, LB_HASH_LEN);
	assert_lb_ok(lb_ledger_tx_json(f->l, id, &tx, &em));
	if (strcmp(json_string_value(json_object_get(tx, "status")), "committed"))
		fail_msg("tx not applied in its block: %s", json_dumps(tx, 0));
	json_decref(tx);
	(*nonce)++;
	lb_buf_release(&raw);
}

/* Publish payload of a contract file, with its true hashes. */
static void publish_payload(const char *rel, uint8_t **pl, size_t *plen, uint8_t hash[32],
			    char **canon_out)
{
	char path[1024];
	struct lb_kn_model *m;
	struct lb_errmsg em;
	snprintf(path, sizeof path, "%s/%s", root(), rel);
	if (lb_kn_model_load(path, &m, &em))
		fail_msg("%s", em.text);
	uint8_t *canon;
	size_t clen, failures;
	char *report;
	assert_lb_ok(lb_kn_model_canonical(m, &canon, &clen));
	assert_lb_ok(lb_kn_model_hash(m, hash));
	assert_lb_ok(lb_kn_check(m, NULL, &report, &failures, NULL, &em));
	struct lb_kn_publish_payload p = { .source = canon, .source_len = clen };
	memcpy(p.source_hash, hash, 32);
	lb_kn_report_hash(report, strlen(report), p.report_hash);
	assert_lb_ok(lb_kn_publish_payload_encode(&p, pl, plen));
	lb_free(report);
	if (canon_out)
		*canon_out = (char *)canon;
	else
		lb_free(canon);
	lb_kn_model_free(m);
}

static void session_payload(uint8_t kind, const uint8_t contract[32], const uint8_t sid[32],
			    uint64_t seq, uint8_t digest_fill, const char *decision,
			    const char *const *cands, uint32_t ncands, uint8_t **pl, size_t *plen)
{
	static struct lb_kn_session_payload p;
	memset(&p, 0, sizeof p);
	p.kind = kind;
	memcpy(p.contract, contract, 32);
	memcpy(p.session, sid, 32);
	p.seq = seq;
	memset(p.digest, digest_fill, 32);
	if (decision) {
		snprintf(p.decision, sizeof p.decision, "%s", decision);
		for (uint32_t i = 0; i < ncands; i++)
			snprintf(p.cands[i], sizeof p.cands[i], "%s", cands[i]);
		p.ncands = ncands;
	}
	assert_lb_ok(lb_kn_session_payload_encode(&p, pl, plen));
}

static void setup_ledger(struct fx *f)
{
	uint8_t seed[LB_SEED_LEN];
	char hx[2 * LB_PUBKEY_LEN + 1];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_knowledge_register_txtypes());
	fx_mkhome(f->home, sizeof f->home, "knchain");
	memset(seed, 1, sizeof seed);
	lb_keypair_from_seed(&f->prop, seed);
	memset(seed, 2, sizeof seed);
	lb_keypair_from_seed(&f->a, seed);
	memset(seed, 3, sizeof seed);
	lb_keypair_from_seed(&f->b, seed);
	lb_hex_encode(hx, f->prop.pk, LB_PUBKEY_LEN);
	fx_genesis(f->home, json_pack("{s:s,s:i,s:s}", "network", "kn", "time_ms", 1, "proposer", hx));
	fx_open(&f->l, f->home, &f->prop);
	f->time_ms = 1000;
}

static void test_publish(void **state)
{
	(void)state;
	static struct fx F;
	struct fx *f = &F;
	struct lb_errmsg em;
	setup_ledger(f);

	uint8_t *pl, hash[32];
	size_t plen;
	char *canon;
	publish_payload("examples/contracts/sepsis.pf", &pl, &plen, hash, &canon);

	/* malformed payload: truncated by one byte */
	refused(f, &f->a, 0, LB_TX_CONTRACT_PUBLISH, pl, plen - 1, LB_EMALFORMED,
		"bad source length", "truncated publish");
	/* wrong report hash (byte 1 + 32 + 5) */
	pl[1 + 32 + 5] ^= 1;
	refused(f, &f->a, 0, LB_TX_CONTRACT_PUBLISH, pl, plen, LB_EINVALID,
		"report hash does not match", "wrong report hash");
	pl[1 + 32 + 5] ^= 1;
	/* wrong source hash */
	pl[1 + 3] ^= 1;
	refused(f, &f->a, 0, LB_TX_CONTRACT_PUBLISH, pl, plen, LB_EINVALID,
		"source hash does not match", "wrong source hash");
	pl[1 + 3] ^= 1;
	/* a source that parses but is not in canonical form (a space added at the end, same
	 * length kept by replacing the final newline) */
	assert_true(pl[plen - 1] == '\n');
	pl[plen - 1] = ' ';
	refused(f, &f->a, 0, LB_TX_CONTRACT_PUBLISH, pl, plen, LB_EINVALID,
		"not in canonical form", "non-canonical source");
	pl[plen - 1] = '\n';

	/* a contract the verifier rejects, even with the hash of its true (failing) report */
	uint8_t *bad, bhash[32];
	size_t blen;
	publish_payload("examples/contracts/faulty/deadlock.pf", &bad, &blen, bhash, NULL);
	refused(f, &f->a, 0, LB_TX_CONTRACT_PUBLISH, bad, blen, LB_EINVALID, "the verifier found",
		"faulty contract");
	lb_free(bad);

	/* the good one is published: author, version 1, no sessions yet, source kept */
	accepted(f, &f->a, &f->nonce_a, LB_TX_CONTRACT_PUBLISH, pl, plen);
	json_t *c;
	assert_lb_ok(lb_kn_contract_json(f->l, hash, &c, &em));
	char hx[65], author[LB_ADDR_TEXT_LEN + 1];
	uint8_t aa[LB_ADDR_LEN];
	lb_hex_encode(hx, hash, 32);
	lb_addr_from_pubkey(aa, f->a.pk);
	lb_addr_encode(author, aa);
	assert_string_equal(json_string_value(json_object_get(c, "hash")), hx);
	assert_string_equal(json_string_value(json_object_get(c, "author")), author);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "sepsis_screen");
	assert_int_equal(json_integer_value(json_object_get(c, "version")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "sessions")), 0);
	assert_string_equal(json_string_value(json_object_get(c, "source")), canon);
	json_decref(c);

	/* a duplicate is refused, from the author or anyone else */
	refused(f, &f->a, f->nonce_a, LB_TX_CONTRACT_PUBLISH, pl, plen, LB_EEXISTS,
		"already published", "duplicate by the author");
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_PUBLISH, pl, plen, LB_EEXISTS,
		"already published", "duplicate by another account");
	/* a revision of the same pathway by the same author is version 2; another pathway by
	 * another author is version 1; lists page in publication order */
	{
		char *rev = lb_strdup(canon);
		char *at = strstr(rev, "High risk:");
		assert_non_null(at);
		at[0] = 'h'; /* a changed caption: another contract, same root plan name */
		struct lb_kn_model *m;
		uint8_t *src, rhash[32], *rpl;
		size_t slen, rlen, failures;
		char *report;
		assert_lb_ok(lb_kn_model_parse(rev, strlen(rev), "rev", LB_KN_FORM_PF, &m, &em));
		assert_lb_ok(lb_kn_model_canonical(m, &src, &slen));
		assert_lb_ok(lb_kn_model_hash(m, rhash));
		assert_lb_ok(lb_kn_check(m, NULL, &report, &failures, NULL, &em));
		assert_int_equal(failures, 0);
		struct lb_kn_publish_payload rp = { .source = src, .source_len = slen };
		memcpy(rp.source_hash, rhash, 32);
		lb_kn_report_hash(report, strlen(report), rp.report_hash);
		assert_lb_ok(lb_kn_publish_payload_encode(&rp, &rpl, &rlen));
		accepted(f, &f->a, &f->nonce_a, LB_TX_CONTRACT_PUBLISH, rpl, rlen);
		assert_lb_ok(lb_kn_contract_json(f->l, rhash, &c, &em));
		assert_int_equal(json_integer_value(json_object_get(c, "version")), 2);
		json_decref(c);
		uint8_t *cp, chash[32];
		size_t cplen;
		publish_payload("examples/contracts/chest_pain.pf", &cp, &cplen, chash, NULL);
		accepted(f, &f->b, &f->nonce_b, LB_TX_CONTRACT_PUBLISH, cp, cplen);
		assert_lb_ok(lb_kn_contract_json(f->l, chash, &c, &em));
		assert_int_equal(json_integer_value(json_object_get(c, "version")), 1);
		json_decref(c);
		json_t *page;
		char h1[65], h2[65];
		lb_hex_encode(h1, rhash, 32);
		lb_hex_encode(h2, chash, 32);
		assert_lb_ok(lb_kn_contracts_json(f->l, 1, 1, &page, &em));
		assert_int_equal(json_integer_value(json_object_get(page, "total")), 3);
		json_t *items = json_object_get(page, "contracts");
		assert_int_equal(json_array_size(items), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "hash")), h1);
		json_decref(page);
		assert_lb_ok(lb_kn_contracts_json(f->l, 2, 0, &page, &em));
		items = json_object_get(page, "contracts");
		assert_int_equal(json_array_size(items), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "hash")), h2);
		json_decref(page);
		assert_lb_ok(lb_kn_contracts_json(f->l, 5, 0, &page, &em));
		assert_int_equal(json_array_size(json_object_get(page, "contracts")), 0);
		json_decref(page);
		lb_free(cp);
		lb_free(rpl);
		lb_free(report);
		lb_free(src);
		lb_kn_model_free(m);
		lb_free(rev);
	}
	/* an unknown contract is not found */
	uint8_t zero[32] = { 0 };
	c = NULL;
	assert_int_equal(lb_kn_contract_json(f->l, zero, &c, &em), LB_ENOTFOUND);
	assert_null(c);

	/* ---- sessions ---- */
	uint8_t sid[32], *sp;
	size_t slen;
	memset(sid, 0x5a, sizeof sid);
	const char *high[] = { "high" }, *two[] = { "high", "low" }, *nope[] = { "severe" };

	/* start for an unpublished contract */
	uint8_t other[32];
	memset(other, 0x77, sizeof other);
	session_payload(LB_KN_EV_START, other, sid, 0, 0, NULL, NULL, 0, &sp, &slen);
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_ENOTFOUND, "not published",
		"start of an unpublished contract");
	lb_free(sp);
	/* an answer for a session never started */
	session_payload(LB_KN_EV_ANSWER, hash, sid, 1, 0xaa, NULL, NULL, 0, &sp, &slen);
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_ENOTFOUND, "never started",
		"answer before start");
	lb_free(sp);
	/* a malformed event (start with a digest) */
	session_payload(LB_KN_EV_START, hash, sid, 0, 0, NULL, NULL, 0, &sp, &slen);
	sp[slen - 1] = 1;
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_EINVALID, "carries no digest",
		"start with a digest");
	sp[slen - 1] = 0;
	accepted(f, &f->b, &f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen);
	/* started twice */
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_EEXISTS,
		"already started", "second start");
	lb_free(sp);

	/* out of order, another account, unknown decision or candidate, two for single choice */
	session_payload(LB_KN_EV_ANSWER, hash, sid, 2, 0xaa, NULL, NULL, 0, &sp, &slen);
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_EINVALID,
		"out of order", "answer 2 before 1");
	lb_free(sp);
	session_payload(LB_KN_EV_ANSWER, hash, sid, 1, 0xaa, NULL, NULL, 0, &sp, &slen);
	refused(f, &f->a, f->nonce_a, LB_TX_CONTRACT_SESSION, sp, slen, LB_EUNAUTH,
		"only the account that started it", "answer from another account");
	accepted(f, &f->b, &f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen);
	lb_free(sp);
	session_payload(LB_KN_EV_DECISION, hash, sid, 2, 0, "triage", high, 1, &sp, &slen);
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_ENOTFOUND,
		"no decision 'triage'", "unknown decision");
	lb_free(sp);
	session_payload(LB_KN_EV_DECISION, hash, sid, 2, 0, "risk", nope, 1, &sp, &slen);
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_EINVALID,
		"'severe' is not a candidate", "unknown candidate");
	lb_free(sp);
	session_payload(LB_KN_EV_DECISION, hash, sid, 2, 0, "risk", two, 2, &sp, &slen);
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_EINVALID,
		"single-choice", "two candidates of a single-choice decision");
	lb_free(sp);
	session_payload(LB_KN_EV_DECISION, hash, sid, 2, 0, "risk", high, 1, &sp, &slen);
	accepted(f, &f->b, &f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen);
	lb_free(sp);
	session_payload(LB_KN_EV_COMPLETE, hash, sid, 3, 0xcc, NULL, NULL, 0, &sp, &slen);
	accepted(f, &f->b, &f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen);
	lb_free(sp);
	session_payload(LB_KN_EV_ANSWER, hash, sid, 4, 0xaa, NULL, NULL, 0, &sp, &slen);
	refused(f, &f->b, f->nonce_b, LB_TX_CONTRACT_SESSION, sp, slen, LB_EINVALID,
		"is complete", "answer after completion");
	lb_free(sp);

	/* what the chain shows: one complete session with its four events in order */
	json_t *s;
	assert_lb_ok(lb_kn_session_json(f->l, sid, &s, &em));
	assert_string_equal(json_string_value(json_object_get(s, "status")), "complete");
	assert_int_equal(json_integer_value(json_object_get(s, "answers")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "decisions")), 1);
	json_t *evs = json_object_get(s, "events");
	assert_int_equal(json_array_size(evs), 4);
	static const char *const kinds[] = { "start", "answer", "decision", "complete" };
	for (size_t i = 0; i < 4; i++) {
		json_t *e = json_array_get(evs, i);
		assert_string_equal(json_string_value(json_object_get(e, "event")), kinds[i]);
		assert_int_equal(json_integer_value(json_object_get(e, "seq")), (json_int_t)i);
	}
	char aah[65], cch[65];
	uint8_t fill[32];
	memset(fill, 0xaa, 32);
	lb_hex_encode(aah, fill, 32);
	memset(fill, 0xcc, 32);
	lb_hex_encode(cch, fill, 32);
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 1), "answer_hash")),
			    aah);
	assert_string_equal(json_string_value(json_object_get(s, "trace_hash")), cch);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_array_get(evs, 2), "candidates"), 0)),
			    "high");
	json_decref(s);
	/* the usage count, and the per-contract list */
	assert_lb_ok(lb_kn_contract_json(f->l, hash, &c, &em));
	assert_int_equal(json_integer_value(json_object_get(c, "sessions")), 1);
	json_decref(c);
	assert_lb_ok(lb_kn_sessions_json(f->l, hash, 0, 0, &s, &em));
	assert_int_equal(json_integer_value(json_object_get(s, "total")), 1);
	json_decref(s);
	s = NULL;
	assert_int_equal(lb_kn_sessions_json(f->l, other, 0, 0, &s, &em), LB_ENOTFOUND);
	assert_null(s);

	lb_free(pl);
	lb_free(canon);
	lb_ledger_close(f->l);
	/* replay from genesis re-derives the same state (the verifier runs again) */
	if (lb_ledger_verify_home(f->home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	lb_keypair_wipe(&f->prop);
	lb_keypair_wipe(&f->a);
	lb_keypair_wipe(&f->b);
	fx_rmhome(f->home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
