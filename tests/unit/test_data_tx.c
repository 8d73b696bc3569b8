/* Directory-chain handlers of the data layer on a real ledger in a temp home: a registration
 * is admitted, a second registration of the same bytes is refused as a duplicate while a link
 * to it is accepted, a link with nothing to link to, a forged asset id, a missing audit score
 * and garbage are refused; updates need the owner or a co-owner, the next version and the
 * current head; only the owner retires, and a retired asset no longer changes; provenance
 * needs an owner and an existing version; the block's JSON view carries the public part with
 * its audit score (what catalogues are built from). Each refusal leaves the state as it was (the next valid tx still applies), and the
 * admitted txs commit as valid in one block. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/data_hexa.h"
#include "leben/data_purge.h"
#include "leben/data_tx.h"
#include "leben/envelope.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/tx.h"

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair prop, a, b, c;
	char at[LB_ADDR_TEXT_LEN + 1], bt[LB_ADDR_TEXT_LEN + 1], ct[LB_ADDR_TEXT_LEN + 1];
	uint64_t nonce[3];          /* next directory nonce of a, b, c */
	uint8_t *raws[64];          /* admitted txs, committed at the end */
	size_t lens[64];
	size_t nraw;
};

static int who(struct fx *f, const struct lb_keypair *kp)
{
	return kp == &f->a ? 0 : kp == &f->b ? 1 : 2;
}

/* Sign and submit; keep admitted txs for the final block. */
static int send(struct fx *f, const struct lb_keypair *kp, uint32_t type, const struct lb_buf *pl)
{
	struct lb_tx t;
	struct lb_buf out;
	uint8_t id[LB_HASH_LEN];
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_DIRECTORY;
	t.type = type;
	t.nonce = f->nonce[who(f, kp)];
	t.payload = pl->data;
	t.payload_len = pl->len;
	lb_buf_init(&out, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_tx_build(&out, &t, lb_ledger_network_id(f->l), kp, id));
	struct lb_submit_result r;
	const uint8_t *raws[1] = {out.data};
	size_t lens[1] = {out.len};
	size_t pending = lb_ledger_pending(f->l, LB_CHAIN_DIRECTORY);
	assert_lb_ok(lb_ledger_submit(f->l, 1, raws, lens, &r));
	if (r.code == LB_OK) {
		f->nonce[who(f, kp)]++;
		assert_true(f->nraw < 64);
		f->raws[f->nraw] = out.data;
		f->lens[f->nraw++] = out.len;
		assert_int_equal(lb_ledger_pending(f->l, LB_CHAIN_DIRECTORY), pending + 1);
	} else {
		assert_true(r.message[0] != 0);
		print_message("refused as expected? %s: %s\n", lb_errname(r.code), r.message);
		assert_int_equal(lb_ledger_pending(f->l, LB_CHAIN_DIRECTORY), pending);
		lb_buf_release(&out);
	}
	return r.code;
}

/* A public description: name, bytes digest (fill byte), version, audit score, created, and
 * the given co-owner accounts in exchange.owners. */
static void describe(struct lb_hexa *h, uint8_t fill, uint64_t version, bool with_score,
		     const char *owner, const char *coowner)
{
	uint8_t d[32];
	memset(d, fill, sizeof d);
	lb_hexa_init(h);
	assert_lb_ok(lb_hexa_set_str(h, "basic.name", "ward notes"));
	assert_lb_ok(lb_hexa_set_u64(h, "basic.created", 1700000000000ull));
	assert_lb_ok(lb_hexa_set_bytes(h, "raw.blake2b", d, 32));
	assert_lb_ok(lb_hexa_set_u64(h, "dynamic.version", version));
	if (with_score)
		assert_lb_ok(lb_hexa_set_u64(h, "audit.score", 8000 + version));
	if (coowner) {
		assert_lb_ok(lb_hexa_share_set(h, "exchange.owners", owner, 5000));
		assert_lb_ok(lb_hexa_share_set(h, "exchange.owners", coowner, 5000));
	}
}

static void make_public(struct lb_hexa *h)
{
	static const char *const facets[] = {"basic", "raw", "dynamic", "audit", "exchange"};
	for (size_t i = 0; i < 5; i++)
		assert_lb_ok(lb_hexa_set_public(h, facets[i], true));
}

/* Payload of an asset tx; *head receives its hash (the next version's previous). */
static void payload(struct lb_buf *out, enum lb_asset_op op, const uint8_t id[32],
		    uint64_t version, const uint8_t prev[32], struct lb_hexa *h, uint8_t head[32])
{
	struct lb_buf pub;
	struct lb_asset_tx a;
	memset(&a, 0, sizeof a);
	lb_buf_init(&pub, LB_HEXA_MAX_ENCODED);
	if (h) {
		make_public(h);
		assert_lb_ok(lb_hexa_encode(h, &pub));
	}
	a.op = op;
	memcpy(a.asset_id, id, 32);
	a.version = version;
	if (prev)
		memcpy(a.previous, prev, 32);
	a.pub = pub.data;
	a.pub_len = pub.len;
	snprintf(a.reason, sizeof a.reason, "withdrawn");
	lb_buf_init(out, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_asset_tx_encode(&a, out));
	lb_buf_release(&pub);
	if (head)
		lb_hash(head, out->data, out->len);
}

static void id_of(const char *addr, uint8_t fill, uint8_t id[32])
{
	uint8_t d[32];
	memset(d, fill, sizeof d);
	lb_asset_id(id, addr, d, 1700000000000ull);
}

/* A ledger in a temp home with the data (and purge) tx types; keys prop, a, b, c. */
static void open_fx(struct fx *f)
{
	struct lb_errmsg em;
	uint8_t seed[LB_SEED_LEN], pa[LB_ADDR_LEN], aa[LB_ADDR_LEN], ba[LB_ADDR_LEN],
		ca[LB_ADDR_LEN];
	char pt[LB_ADDR_TEXT_LEN + 1], hx[2 * LB_PUBKEY_LEN + 1];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_data_register_txtypes());
	assert_lb_ok(lb_data_register_txtypes()); /* idempotent */
	assert_lb_ok(lb_purge_register_txtypes());
	snprintf(f->home, sizeof f->home, "/tmp/lb-test-datatx-XXXXXX");
	assert_non_null(mkdtemp(f->home));
	struct lb_keypair *kps[4] = {&f->prop, &f->a, &f->b, &f->c};
	for (int i = 0; i < 4; i++) {
		memset(seed, i + 1, sizeof seed);
		lb_keypair_from_seed(kps[i], seed);
	}
	lb_addr_from_pubkey(pa, f->prop.pk);
	lb_addr_from_pubkey(aa, f->a.pk);
	lb_addr_from_pubkey(ba, f->b.pk);
	lb_addr_from_pubkey(ca, f->c.pk);
	lb_addr_encode(pt, pa);
	lb_addr_encode(f->at, aa);
	lb_addr_encode(f->bt, ba);
	lb_addr_encode(f->ct, ca);
	lb_hex_encode(hx, f->prop.pk, LB_PUBKEY_LEN);
	json_t *g = json_pack("{s:s,s:i,s:s,s:[s],s:{s:i,s:i},s:{s:i}}", "network", "t", "time_ms",
			      1, "proposer", hx, "credit_partners", pt, "convert", "csc", 100, "asc",
			      1, "fees", "default", 0);
	assert_non_null(g);
	if (lb_genesis_write(f->home, g, &em))
		fail_msg("genesis: %s", em.text);
	json_decref(g);
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = f->home;
	o.sync_full = false;
	if (lb_ledger_open(&f->l, &o, &f->prop, &em))
		fail_msg("open: %s", em.text);
}

/* Close the ledger (the txs kept are freed), verify the home, remove it. */
static void close_fx(struct fx *f)
{
	struct lb_errmsg em;
	for (size_t i = 0; i < f->nraw; i++)
		lb_free(f->raws[i]);
	f->nraw = 0;
	lb_ledger_close(f->l);
	if (lb_ledger_verify_home(f->home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %.64s", f->home);
	assert_int_equal(system(cmd), 0);
	lb_keypair_wipe(&f->prop);
	lb_keypair_wipe(&f->a);
	lb_keypair_wipe(&f->b);
	lb_keypair_wipe(&f->c);
}

static void test_data_tx(void **state)
{
	(void)state;
	static struct fx F;
	struct fx *f = &F;
	struct lb_errmsg em;
	open_fx(f);
	struct lb_hexa h;
	struct lb_buf pl;
	uint8_t ida[32], idb[32], idx[32], head1[32], head2[32], head3[32], zero[32] = {0};

	/* garbage and a forged id are refused */
	lb_buf_init(&pl, 64);
	assert_lb_ok(lb_buf_addc(&pl, 7));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_REGISTER, &pl), LB_EMALFORMED);
	lb_buf_release(&pl);
	id_of(f->bt, 0x11, idx); /* the id of another registrant */
	describe(&h, 0x11, 1, true, f->at, NULL);
	payload(&pl, LB_ASSET_REGISTER, idx, 1, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_REGISTER, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* no audit score: refused by the stateless check */
	id_of(f->at, 0x11, ida);
	describe(&h, 0x11, 1, false, f->at, NULL);
	payload(&pl, LB_ASSET_REGISTER, ida, 1, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_REGISTER, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* an operation that does not match the type */
	describe(&h, 0x11, 1, true, f->at, NULL);
	payload(&pl, LB_ASSET_REGISTER, ida, 1, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_UPDATE, &pl), LB_EINVALID);
	/* a link with nothing to link to */
	assert_int_equal(send(f, &f->a, LB_TX_DATA_LINK, &pl), LB_ENOTFOUND);
	/* the registration itself, once */
	lb_hash(head1, pl.data, pl.len);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_REGISTER, &pl), LB_OK);
	lb_buf_release(&pl);
	/* the same bytes from b: refused as a duplicate, accepted as a link */
	id_of(f->bt, 0x11, idb);
	describe(&h, 0x11, 1, true, f->bt, NULL);
	payload(&pl, LB_ASSET_REGISTER, idb, 1, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->b, LB_TX_DATA_REGISTER, &pl), LB_EDUPLICATE);
	assert_int_equal(send(f, &f->b, LB_TX_DATA_LINK, &pl), LB_OK);
	/* and not twice */
	assert_int_equal(send(f, &f->b, LB_TX_DATA_LINK, &pl), LB_EEXISTS);
	lb_buf_release(&pl);

	/* updates: b is no owner; a wrong version or head is refused; then version 2 naming c
	 * as co-owner, with new bytes */
	describe(&h, 0x12, 2, true, f->at, f->ct);
	payload(&pl, LB_ASSET_UPDATE, ida, 2, head1, &h, head2);
	assert_int_equal(send(f, &f->b, LB_TX_DATA_UPDATE, &pl), LB_EUNAUTH);
	lb_buf_release(&pl);
	payload(&pl, LB_ASSET_UPDATE, ida, 2, zero, &h, NULL);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_UPDATE, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	lb_hexa_set_u64(&h, "dynamic.version", 3);
	payload(&pl, LB_ASSET_UPDATE, ida, 3, head1, &h, NULL);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_UPDATE, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	lb_hexa_set_u64(&h, "dynamic.version", 2);
	payload(&pl, LB_ASSET_UPDATE, ida, 2, head1, &h, head2);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_UPDATE, &pl), LB_OK);
	lb_buf_release(&pl);
	/* the new bytes now belong to a's asset: c cannot register them */
	describe(&h, 0x12, 1, true, f->ct, NULL);
	id_of(f->ct, 0x12, idx);
	payload(&pl, LB_ASSET_REGISTER, idx, 1, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->c, LB_TX_DATA_REGISTER, &pl), LB_EDUPLICATE);
	lb_buf_release(&pl);

	/* the co-owner c makes version 3 */
	describe(&h, 0x13, 3, true, f->at, f->ct);
	payload(&pl, LB_ASSET_UPDATE, ida, 3, head2, &h, head3);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->c, LB_TX_DATA_UPDATE, &pl), LB_OK);
	lb_buf_release(&pl);

	/* provenance: owner yes, stranger no, a future version no */
	struct lb_prov_tx p;
	memset(&p, 0, sizeof p);
	memcpy(p.asset_id, ida, 32);
	p.version = 3;
	snprintf(p.kind, sizeof p.kind, "re-extracted");
	lb_buf_init(&pl, 4096);
	assert_lb_ok(lb_prov_tx_encode(&p, &pl));
	assert_int_equal(send(f, &f->b, LB_TX_DATA_PROVENANCE, &pl), LB_EUNAUTH);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_PROVENANCE, &pl), LB_OK);
	lb_buf_release(&pl);
	p.version = 4;
	assert_lb_ok(lb_prov_tx_encode(&p, &pl));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_PROVENANCE, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	p.kind[0] = 0;
	p.version = 1;
	assert_lb_ok(lb_prov_tx_encode(&p, &pl));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_PROVENANCE, &pl), LB_EINVALID);
	lb_buf_release(&pl);

	/* data.readers: the private part of the current version re-sealed by the owner or a
	 * co-owner; a stranger, another version, an unknown asset, a non-envelope are refused */
	uint8_t xpk[32], *env = NULL;
	size_t envlen = 0;
	assert_lb_ok(lb_envelope_pk_from_ed25519(xpk, f->b.pk));
	assert_lb_ok(lb_envelope_seal((const uint8_t(*)[32])xpk, 1, (const uint8_t *)"priv", 4,
				      &env, &envlen, &em));
	struct lb_readers_tx rt = {.version = 3, .envelope = env, .envelope_len = envlen};
	memcpy(rt.asset_id, ida, 32);
	lb_buf_init(&pl, 4096);
	assert_lb_ok(lb_readers_tx_encode(&rt, &pl));
	assert_int_equal(send(f, &f->b, LB_TX_DATA_READERS, &pl), LB_EUNAUTH);
	assert_int_equal(send(f, &f->c, LB_TX_DATA_READERS, &pl), LB_OK);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_READERS, &pl), LB_OK);
	lb_buf_release(&pl);
	rt.version = 2;
	assert_lb_ok(lb_readers_tx_encode(&rt, &pl));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_READERS, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	rt.version = 1;
	rt.asset_id[0] ^= 1;
	assert_lb_ok(lb_readers_tx_encode(&rt, &pl));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_READERS, &pl), LB_ENOTFOUND);
	lb_buf_release(&pl);
	rt.asset_id[0] ^= 1;
	rt.version = 3;
	rt.envelope = (const uint8_t *)"XBEVxxxx";
	rt.envelope_len = 8;
	assert_lb_ok(lb_readers_tx_encode(&rt, &pl));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_READERS, &pl), LB_EMALFORMED);
	struct lb_readers_tx back;
	assert_int_equal(lb_readers_tx_decode(pl.data, pl.len, &back, &em), LB_EMALFORMED);
	lb_buf_release(&pl);
	rt.envelope = env;
	rt.envelope_len = envlen;

	/* retire: the co-owner may not, the owner may; afterwards nothing changes it */
	payload(&pl, LB_ASSET_RETIRE, ida, 3, head3, NULL, NULL);
	assert_int_equal(send(f, &f->c, LB_TX_DATA_RETIRE, &pl), LB_EUNAUTH);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_RETIRE, &pl), LB_OK);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_RETIRE, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* a retired asset gets no new readers */
	lb_buf_init(&pl, 4096);
	assert_lb_ok(lb_readers_tx_encode(&rt, &pl));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_READERS, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	lb_free(env);
	/* its bytes are free again */
	describe(&h, 0x13, 1, true, f->ct, NULL);
	id_of(f->ct, 0x13, idx);
	payload(&pl, LB_ASSET_REGISTER, idx, 1, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->c, LB_TX_DATA_REGISTER, &pl), LB_OK);
	lb_buf_release(&pl);

	/* every admitted tx is valid in the block */
	struct lb_cut cut = {LB_CHAIN_DIRECTORY, 5000, f->nraw, (const uint8_t *const *)f->raws,
			     f->lens};
	uint64_t height = 0;
	if (lb_ledger_commit(f->l, &cut, &height, &em))
		fail_msg("commit: %s", em.text);
	assert_true(height == 1);
	json_t *blk = NULL;
	assert_lb_ok(lb_ledger_block_json(f->l, LB_CHAIN_DIRECTORY, 1, &blk, &em));
	json_t *txs = json_object_get(blk, "txs");
	assert_int_equal(json_array_size(txs), f->nraw);
	size_t i;
	json_t *tx;
	json_array_foreach(txs, i, tx) {
		assert_true(json_is_true(json_object_get(tx, "valid")));
		assert_true(json_is_object(json_object_get(tx, "payload")));
	}
	/* the JSON view carries the public part back (what the catalogue is built from) */
	json_t *p0 = json_object_get(json_array_get(txs, 0), "payload");
	assert_string_equal(json_string_value(json_object_get(p0, "op")), "register");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(p0, "public"), "audit"), "score")),
			 8001);
	json_decref(blk);
	close_fx(f);
}

/* Purge requests and receipts (docs/security.md §9): only the owner asks; malformed requests
 * are refused with nothing changed; only a holder the request names answers, once; a purged
 * asset no longer changes and is not purged twice; the status view says who answered, who
 * waits, and who is late once the deadline has passed. */
static void purge_payload(struct lb_buf *out, const uint8_t id[32], uint8_t scope,
			  const uint8_t *pats, size_t np, const uint8_t *holders, size_t nh,
			  uint64_t deadline)
{
	struct lb_purge_tx p = {.scope = scope, .by = LB_PURGE_BY_OWNER, .deadline = deadline,
				.npatients = np, .patients = pats, .nholders = nh,
				.holders = holders};
	memcpy(p.asset_id, id, 32);
	snprintf(p.reason, sizeof p.reason, "test");
	lb_buf_init(out, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_purge_tx_encode(&p, out));
}

static void receipt_payload(struct lb_buf *out, const uint8_t req[32], const uint8_t id[32])
{
	uint8_t obj[32];
	memset(obj, 0x5a, sizeof obj);
	struct lb_purge_receipt_tx r = {.nobjects = 1, .objects = obj};
	memcpy(r.request, req, 32);
	memcpy(r.asset_id, id, 32);
	lb_buf_init(out, 4096);
	assert_lb_ok(lb_purge_receipt_encode(&r, out));
}

/* Send a data.purge / data.purge.receipt and expect want. */
static void try_purge(struct fx *f, const struct lb_keypair *kp, const uint8_t id[32],
		      uint8_t scope, const uint8_t *pats, size_t np, const uint8_t *holders,
		      size_t nh, uint64_t deadline, int want)
{
	struct lb_buf pl;
	purge_payload(&pl, id, scope, pats, np, holders, nh, deadline);
	assert_int_equal(send(f, kp, LB_TX_DATA_PURGE, &pl), want);
	lb_buf_release(&pl);
}

static void try_receipt(struct fx *f, const struct lb_keypair *kp, const uint8_t req[32],
			const uint8_t id[32], int want)
{
	struct lb_buf pl;
	receipt_payload(&pl, req, id);
	assert_int_equal(send(f, kp, LB_TX_DATA_PURGE_RECEIPT, &pl), want);
	lb_buf_release(&pl);
}

/* The id of the last tx sent (the data.purge tx id is the request id). */
static void last_id(struct fx *f, uint8_t id[32])
{
	struct lb_tx t;
	assert_lb_ok(lb_tx_decode(&t, f->raws[f->nraw - 1], f->lens[f->nraw - 1], NULL));
	memcpy(id, t.id, 32);
}

static void test_purge_tx(void **state)
{
	(void)state;
	static struct fx F;
	struct fx *f = &F;
	memset(f, 0, sizeof *f);
	open_fx(f);
	struct lb_hexa h;
	struct lb_buf pl;
	uint8_t ida[32], req[32], bogus[32], pat[32], holders[2 * LB_ADDR_LEN];
	memset(bogus, 0x77, sizeof bogus);
	memset(pat, 0x42, sizeof pat);
	lb_addr_from_pubkey(holders, f->c.pk);
	memcpy(holders + LB_ADDR_LEN, holders, LB_ADDR_LEN);
	id_of(f->at, 0x21, ida);
	describe(&h, 0x21, 1, true, f->at, NULL);
	payload(&pl, LB_ASSET_REGISTER, ida, 1, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_REGISTER, &pl), LB_OK);
	lb_buf_release(&pl);
	/* malformed: garbage, patients scope without patients, a holder named twice, deadline 0 */
	lb_buf_init(&pl, 64);
	assert_lb_ok(lb_buf_addc(&pl, 1));
	assert_int_equal(send(f, &f->a, LB_TX_DATA_PURGE, &pl), LB_EMALFORMED);
	lb_buf_release(&pl);
	try_purge(f, &f->a, ida, LB_PURGE_PATIENTS, NULL, 0, NULL, 0, 10, LB_EINVALID);
	try_purge(f, &f->a, ida, LB_PURGE_ASSET, NULL, 0, holders, 2, 10, LB_EINVALID);
	try_purge(f, &f->a, ida, LB_PURGE_ASSET, NULL, 0, holders, 1, 0, LB_EINVALID);
	/* not the owner; an unknown asset */
	try_purge(f, &f->b, ida, LB_PURGE_ASSET, NULL, 0, holders, 1, 10, LB_EUNAUTH);
	try_purge(f, &f->a, bogus, LB_PURGE_ASSET, NULL, 0, holders, 1, 10, LB_ENOTFOUND);
	/* a patients' purge, then the whole asset naming holder c */
	try_purge(f, &f->a, ida, LB_PURGE_PATIENTS, pat, 1, NULL, 0, 10, LB_OK);
	try_purge(f, &f->a, ida, LB_PURGE_ASSET, NULL, 0, holders, 1, 1, LB_OK);
	last_id(f, req);
	try_purge(f, &f->a, ida, LB_PURGE_ASSET, NULL, 0, NULL, 0, 10, LB_EINVALID); /* twice */
	/* a purged asset does not change */
	describe(&h, 0x22, 2, true, f->at, NULL);
	payload(&pl, LB_ASSET_UPDATE, ida, 2, NULL, &h, NULL);
	lb_hexa_release(&h);
	assert_int_equal(send(f, &f->a, LB_TX_DATA_UPDATE, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* receipts: not a holder, an unknown request, the wrong asset, then c once */
	try_receipt(f, &f->b, req, ida, LB_EUNAUTH);
	try_receipt(f, &f->c, bogus, ida, LB_ENOTFOUND);
	try_receipt(f, &f->c, req, bogus, LB_EINVALID);
	try_receipt(f, &f->c, req, ida, LB_OK);
	try_receipt(f, &f->c, req, ida, LB_EDUPLICATE);
	/* committed: the status view */
	struct lb_errmsg em;
	struct lb_cut cut = {LB_CHAIN_DIRECTORY, 5000, f->nraw, (const uint8_t *const *)f->raws,
			     f->lens};
	uint64_t height = 0;
	if (lb_ledger_commit(f->l, &cut, &height, &em))
		fail_msg("commit: %s", em.text);
	for (size_t i = 0; i < f->nraw; i++)
		lb_free(f->raws[i]);
	f->nraw = 0;
	json_t *st = NULL;
	assert_lb_ok(lb_purge_status_json(f->l, ida, &st, &em));
	assert_true(json_is_true(json_object_get(st, "purged")));
	json_t *rq = json_object_get(st, "requests");
	assert_int_equal(json_array_size(rq), 2);
	json_t *whole = json_array_get(rq, 1);
	json_t *hs = json_object_get(whole, "holders");
	assert_int_equal(json_array_size(hs), 2); /* the owner, added by the chain, and c */
	assert_string_equal(json_string_value(json_object_get(json_array_get(hs, 0), "holder")),
			    f->at);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hs, 1), "status")),
			    "answered");
	/* height 1, deadline 1 block: the owner is waiting, and late once the chain is past 2 */
	assert_string_equal(json_string_value(json_object_get(json_array_get(hs, 0), "status")),
			    "waiting");
	assert_false(json_is_true(json_object_get(whole, "complete")));
	json_decref(st);
	/* the patient's view lists the patients' purge */
	assert_lb_ok(lb_purge_patient_json(f->l, pat, &st, &em));
	assert_int_equal(json_array_size(json_object_get(st, "purges")), 1);
	json_decref(st);
	/* the owner's pending work, for its node's worker: the two requests */
	uint8_t aa[LB_ADDR_LEN], ca[LB_ADDR_LEN];
	lb_addr_from_pubkey(aa, f->a.pk);
	lb_addr_from_pubkey(ca, f->c.pk);
	struct lb_purge_todo *todo = NULL;
	size_t n = 0;
	uint64_t from = 0;
	assert_lb_ok(lb_purge_pending(f->l, aa, &from, &todo, &n, &em));
	assert_int_equal(n, 2);
	assert_true(todo[0].named && todo[1].named);
	assert_int_equal(from, 0);
	lb_free(todo);
	from = 0;
	assert_lb_ok(lb_purge_pending(f->l, ca, &from, &todo, &n, &em));
	/* c answered its one request; the other, which does not name it, is handed out once */
	assert_int_equal(n, 1);
	assert_false(todo[0].named);
	assert_int_equal(todo[0].scope, LB_PURGE_PATIENTS);
	assert_int_equal(from, 2);
	lb_free(todo);
	assert_lb_ok(lb_purge_pending(f->l, ca, &from, &todo, &n, &em));
	assert_int_equal(n, 0);
	lb_free(todo);
	/* two more blocks: the owner is late */
	for (int k = 0; k < 2; k++) {
		describe(&h, (uint8_t)(0x30 + k), 1, true, f->bt, NULL);
		uint8_t idk[32];
		id_of(f->bt, (uint8_t)(0x30 + k), idk);
		payload(&pl, LB_ASSET_REGISTER, idk, 1, NULL, &h, NULL);
		lb_hexa_release(&h);
		assert_int_equal(send(f, &f->b, LB_TX_DATA_REGISTER, &pl), LB_OK);
		lb_buf_release(&pl);
		struct lb_cut c1 = {LB_CHAIN_DIRECTORY, 5000, f->nraw,
				    (const uint8_t *const *)f->raws, f->lens};
		if (lb_ledger_commit(f->l, &c1, &height, &em))
			fail_msg("commit: %s", em.text);
		lb_free(f->raws[0]);
		f->nraw = 0;
	}
	assert_lb_ok(lb_purge_status_json(f->l, ida, &st, &em));
	hs = json_object_get(json_array_get(json_object_get(st, "requests"), 1), "holders");
	assert_string_equal(json_string_value(json_object_get(json_array_get(hs, 0), "status")),
			    "late");
	json_decref(st);
	assert_int_equal(lb_purge_status_json(f->l, bogus, &st, &em), LB_ENOTFOUND);
	close_fx(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_tx),
		cmocka_unit_test(test_purge_tx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
