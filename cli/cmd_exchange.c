/*
 * `leben exchange ...`: trusted data exchange through a node. The data owner offers an
 * asset (price, output policy, algorithms trusted in advance) and grants execution rights;
 * an algorithm's author registers it; a user requests a run, the owner approves or rejects,
 * patients give or revoke consent; the user locks the fees in escrow on the settlement chain;
 * the executor runs it, records the execution and the result hash on the business chain,
 * seals the result to the user and releases the escrow citing the result's receipt. `log`
 * shows an asset's or a patient's complete history. Every step is a signed tx the node checks.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abe_cli.h"
#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/abe.h"
#include "leben/algo.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/envelope.h"
#include "leben/exchange.h"
#include "leben/ledger.h"
#include "leben/node.h"
#include "leben/sandbox.h"
#include "leben/tx.h"

#define CMD "exchange"

/* Every option of every subcommand; each reads the ones it needs. */
struct xopts {
	const char *home, *node, *from, *asset, *asset_tx, *price, *min_cohort, *max_output,
		*data_bytes, *data, *allow, *executor, *kind, *algorithm, *algorithm_file, *builtin,
		*fee, *name, *purpose, *scenario, *request, *reason, *patient, *escrow,
		*compute_fee, *timeout_blocks, *patient_column, *out, *result_tx, *timeout, *params, *to,
		*epsilon, *budget_user, *budget_patient, *user, *keys, *opening, *rebind, *legal_basis,
		*auditor, *owner_node, *share_policy, *abe_authority, *result_policy;
	bool json, help, local_only, at_author, heavy_deps, revoke, print_act, as_owner, opt_out;
};

/* What one command run shares: where the node is, the signing key, the network. */
struct xctx {
	const struct xopts *o;
	const char *url;
	struct lb_keypair kp;
	bool have_key;
	uint8_t addr[LB_ADDR_LEN];
	char addr_text[LB_ADDR_TEXT_LEN + 1];
	uint8_t network[LB_HASH_LEN];
	bool have_network;
	uint64_t default_fee;
	double timeout_s;
	bool printed;       /* --print-act printed the act instead of sending */
};

static int need(const char *v, const char *opt, const char *sub)
{
	if (!v) {
		cli_failf(CMD, "'leben exchange %s' needs %s (see 'leben exchange --help')", sub, opt);
		return 2;
	}
	return 0;
}

static int hash_arg(const char *v, const char *opt, uint8_t out[LB_HASH_LEN])
{
	if (!v || lb_hex_decode(out, LB_HASH_LEN, v)) {
		cli_failf(CMD, "%s '%s' is not an id of 64 hex digits", opt, v ? v : "");
		return 2;
	}
	return 0;
}

static int amount_arg(const char *v, const char *opt, uint64_t dflt, uint64_t *out)
{
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (cli_parse_amount(v, out)) {
		cli_failf(CMD, "%s '%s' is not an amount: use a number with at most 6 decimals", opt, v);
		return 2;
	}
	return 0;
}

static int count_arg(const char *v, const char *opt, uint64_t dflt, uint64_t *out)
{
	char *end;
	if (!v) {
		*out = dflt;
		return 0;
	}
	unsigned long long x = strtoull(v, &end, 10);
	if (!*v || *end || *v == '-') {
		cli_failf(CMD, "%s '%s' is not a whole number", opt, v);
		return 2;
	}
	*out = x;
	return 0;
}

/* Algorithm hash from builtin:NAME, 64 hex digits, or the hash of a script file. */
static int algo_arg(const char *v, const char *file, uint8_t out[LB_HASH_LEN])
{
	if (file) {
		uint8_t *d;
		size_t n;
		if (cli_read_file(CMD, file, 16u << 20, &d, &n))
			return 1;
		lb_hash(out, d, n);
		lb_free(d);
		return 0;
	}
	if (v && !strncmp(v, "builtin:", 8)) {
		lb_xchg_builtin_hash(out, v + 8);
		return 0;
	}
	if (v && !lb_hex_decode(out, LB_HASH_LEN, v))
		return 0;
	cli_failf(CMD, "--algorithm '%s': give builtin:NAME (e.g. builtin:stats), the algorithm's "
		       "hash (64 hex digits) or --algorithm-file SCRIPT",
		  v ? v : "");
	return 2;
}

static void hex32(char out[2 * LB_HASH_LEN + 1], const uint8_t *p)
{
	lb_hex_encode(out, p, LB_HASH_LEN);
}

/* ---- talking to the node --------------------------------------------------------------------- */

static int load_key(struct xctx *x)
{
	if (x->have_key)
		return 0;
	if (need(x->o->from, "--from KEY", "this step"))
		return 2;
	if (cli_load_key(x->o->home, x->o->from, &x->kp))
		return 1;
	x->have_key = true;
	lb_addr_from_pubkey(x->addr, x->kp.pk);
	lb_addr_encode(x->addr_text, x->addr);
	return 0;
}

static int load_network(struct xctx *x)
{
	json_t *st;
	if (x->have_network)
		return 0;
	if (cli_api_get(CMD, x->url, "/v1/status", &st))
		return 1;
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	json_t *f = json_object_get(json_object_get(st, "fees"), "default");
	x->default_fee = json_is_integer(f) ? (uint64_t)json_integer_value(f) : 0;
	int rc = !nid || lb_hex_decode(x->network, LB_HASH_LEN, nid);
	json_decref(st);
	if (rc)
		return cli_failf(CMD, "the node at %s gave no network id", x->url);
	x->have_network = true;
	return 0;
}

/* GET path formatted; prints the node's error. */
static int getf(struct xctx *x, json_t **out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int getf(struct xctx *x, json_t **out, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	return cli_api_get(CMD, x->url, path, out);
}

/* Sign a tx of type on chain with the payload, send it and wait until it is in a block.
 * Returns 0 when applied; prints the refusal otherwise. */
static int send_tx(struct xctx *x, int chain, uint32_t type, const struct lb_buf *payload,
		   uint8_t id[LB_HASH_LEN])
{
	json_t *acct = NULL, *reply = NULL, *body = NULL;
	struct lb_buf out;
	char idhex[2 * LB_HASH_LEN + 1];
	int rc;
	const struct lb_txtype *tt = lb_txtype_find(type);
	const char *tname = tt ? tt->name : "tx";
	if ((rc = load_key(x)) || (rc = load_network(x)))
		return rc;
	if ((rc = getf(x, &acct, "/v1/accounts/%s", x->addr_text)))
		return rc;
	json_t *nn = json_object_get(
		json_object_get(json_object_get(acct, "chains"), lb_chain_name(chain)), "next_nonce");
	struct lb_tx t = {0};
	t.version = LB_TX_VERSION;
	t.chain = (uint8_t)chain;
	t.type = type;
	t.nonce = json_is_integer(nn) ? (uint64_t)json_integer_value(nn) : 0;
	t.fee = chain == LB_CHAIN_SETTLEMENT ? x->default_fee : 0;
	t.payload = payload->data;
	t.payload_len = payload->len;
	json_decref(acct);
	lb_buf_init(&out, LB_TX_MAX_BYTES);
	if (lb_tx_build(&out, &t, x->network, &x->kp, id)) {
		lb_buf_release(&out);
		return cli_failf(CMD, "could not build the %s tx (payload too large?)", tname);
	}
	char *hex = lb_malloc(2 * out.len + 1);
	if (!hex) {
		lb_buf_release(&out);
		return cli_failf(CMD, "out of memory");
	}
	lb_hex_encode(hex, out.data, out.len);
	lb_buf_release(&out);
	body = json_pack("{s:s}", "tx", hex);
	lb_free(hex);
	rc = cli_api_post(CMD, x->url, "/v1/txs", body, &reply);
	json_decref(body);
	json_decref(reply);
	if (rc)
		return rc;
	hex32(idhex, id);
	uint64_t deadline = lb_mono_ns() + (uint64_t)(x->timeout_s * 1e9);
	unsigned delay = 20;
	for (;;) {
		json_t *j;
		if ((rc = getf(x, &j, "/v1/txs/%s", idhex)))
			return rc;
		const char *st = json_string_value(json_object_get(j, "status"));
		if (st && !strcmp(st, "committed")) {
			json_decref(j);
			return 0;
		}
		if (st && strcmp(st, "pending")) {
			const char *msg =
				json_string_value(json_object_get(json_object_get(j, "error"), "message"));
			cli_failf(CMD, "%s tx %s was not applied: %s", tname, idhex, msg ? msg : st);
			json_decref(j);
			return 1;
		}
		json_decref(j);
		if (lb_mono_ns() > deadline)
			return cli_failf(CMD, "%s tx %s is still pending; check with 'leben query tx %s'",
					 tname, idhex, idhex);
		struct timespec ts = {0, (long)delay * 1000000L};
		nanosleep(&ts, NULL);
		if (delay < 200)
			delay *= 2;
	}
}

/* A committed tx's bytes and its proof anchored in chain anchor. */
static int receipt(struct xctx *x, const uint8_t id[LB_HASH_LEN], const char *anchor,
		   uint8_t **tx, size_t *txlen, uint8_t **proof, size_t *plen)
{
	char idhex[2 * LB_HASH_LEN + 1];
	json_t *j;
	hex32(idhex, id);
	if (getf(x, &j, "/v1/exchange/receipts/%s%s%s", idhex, anchor ? "?anchor=" : "",
		 anchor ? anchor : ""))
		return 1;
	int rc = lb_hex_decode_alloc(json_string_value(json_object_get(j, "tx")), tx, txlen,
				     LB_TX_MAX_BYTES) ||
		 lb_hex_decode_alloc(json_string_value(json_object_get(j, "proof")), proof, plen,
				     LB_XCHG_PROOF_MAX);
	json_decref(j);
	return rc ? cli_failf(CMD, "the node gave an unreadable receipt for tx %s", idhex) : 0;
}

/* An owner's business tx: sent, or with --print-act only its co-owner act printed (what the
 * co-owners of a co-owned asset approve first with 'leben policy approve'). */
static int owner_send(struct xctx *x, uint32_t type, const struct lb_buf *payload,
		      uint8_t id[LB_HASH_LEN])
{
	if (!x->o->print_act)
		return send_tx(x, LB_CHAIN_BUSINESS, type, payload, id);
	char act[LB_XCHG_ACT_MAX];
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_xchg_owner_act(type, payload->data, payload->len, act, &em))
		return cli_fail(CMD, &em, NULL);
	printf("%s\n", act);
	x->printed = true;
	return 0;
}

/* Tell what a committed tx did: with --json {"tx": ID, key: val}, else the line
 * before, the tx id, after. */
static void say_tx(struct xctx *x, const uint8_t id[LB_HASH_LEN], const char *key, const char *val,
		   const char *before, const char *after)
{
	char h[2 * LB_HASH_LEN + 1];
	hex32(h, id);
	if (x->o->json) {
		json_t *j = json_pack("{s:s,s:s}", "tx", h, key, val);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("%s%s%s\n", before, h, after);
	}
}

static void say_sent(struct xctx *x, const char *what, const uint8_t id[LB_HASH_LEN])
{
	char text[256];
	snprintf(text, sizeof text, "%s (tx ", what);
	say_tx(x, id, "what", what, text, ")");
}

/* ---- owner, author, user and patient steps ----------------------------------------------------- */

static int x_offer(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t regid[LB_HASH_LEN], id[LB_HASH_LEN], *tx = NULL, *proof = NULL;
	size_t txlen, plen;
	uint64_t v;
	int rc;
	struct lb_xchg_offer *p = lb_calloc(1, sizeof *p);
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (!p)
		return cli_failf(CMD, "out of memory");
	if ((rc = need(o->asset_tx, "--asset-tx TXID (the asset.register tx)", "offer")) ||
	    (rc = hash_arg(o->asset_tx, "--asset-tx", regid)) ||
	    (rc = amount_arg(o->price, "--price", 0, &p->data_fee)) ||
	    (rc = count_arg(o->min_cohort, "--min-cohort", 10, &p->min_cohort)) ||
	    (rc = count_arg(o->max_output, "--max-output", 65536, &p->max_output)) ||
	    (rc = count_arg(o->data_bytes, "--data-bytes", 0, &v)) ||
	    (rc = amount_arg(o->epsilon, "--epsilon", 0, &p->epsilon)))
		goto out;
	p->data_bytes = v;
	/* differential privacy: budgets default to ten releases per user and per patient */
	if ((rc = amount_arg(o->budget_user, "--budget-user", 10 * p->epsilon, &p->budget_user)) ||
	    (rc = amount_arg(o->budget_patient, "--budget-patient", 10 * p->epsilon,
			     &p->budget_patient)))
		goto out;
	if (!p->epsilon && (o->budget_user || o->budget_patient)) {
		rc = cli_failf(CMD, "--budget-user and --budget-patient need --epsilon (the privacy loss "
				    "of one release)");
		rc = 2;
		goto out;
	}
	if (o->data) {
		uint8_t *d;
		size_t n;
		if ((rc = cli_read_file(CMD, o->data, (size_t)1 << 34, &d, &n)))
			goto out;
		lb_free(d);
		p->data_bytes = n;
	}
	p->flags = o->local_only ? LB_XCHG_OFFER_LOCAL_ONLY : 0;
	if (o->opt_out) {
		if (!o->legal_basis || !*o->legal_basis || strlen(o->legal_basis) > LB_XCHG_TEXT_MAX) {
			rc = cli_failf(CMD, "--opt-out needs --legal-basis TEXT (1 to %d bytes): the law "
					    "or decision that lets records be used without consent",
				       LB_XCHG_TEXT_MAX);
			goto out;
		}
		p->flags |= LB_XCHG_OFFER_OPT_OUT;
		snprintf(p->legal_basis, sizeof p->legal_basis, "%s", o->legal_basis);
	} else if (o->legal_basis) {
		rc = cli_failf(CMD, "--legal-basis goes with --opt-out");
		goto out;
	}
	if (o->allow) {
		char *list = lb_strdup(o->allow), *save = NULL;
		for (char *t = strtok_r(list, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
			if (p->n_allow == LB_XCHG_ALLOW_MAX)
				rc = cli_failf(CMD, "--allow lists more than %d algorithms", LB_XCHG_ALLOW_MAX);
			else
				rc = algo_arg(t, NULL, p->allow[p->n_allow++]);
		}
		lb_free(list);
		if (rc)
			goto out;
	}
	if ((rc = receipt(x, regid, "business", &tx, &txlen, &proof, &plen))) {
		fprintf(stderr, "  hint: the offer cites the registration through a business block made "
				"after it, which the node makes itself within seconds unless its "
				"ordering is unavailable ('leben query status')\n");
		goto out;
	}
	p->reg_tx = tx;
	p->reg_tx_len = txlen;
	p->reg_proof = proof;
	p->reg_proof_len = plen;
	if (lb_xchg_offer_encode(&b, p)) {
		rc = cli_failf(CMD, "the offer is too large");
		goto out;
	}
	if ((rc = owner_send(x, LB_TX_XCHG_OFFER, &b, id)) || x->printed)
		goto out;
	{
		struct lb_tx reg;
		uint8_t owner[LB_ADDR_LEN], asset[LB_HASH_LEN], content[LB_HASH_LEN];
		uint64_t size;
		char ah[2 * LB_HASH_LEN + 1];
		if (lb_tx_decode(&reg, tx, txlen, NULL) ||
		    lb_xchg_registration(&reg, asset, owner, content, &size, NULL))
			memset(asset, 0, sizeof asset);
		hex32(ah, asset);
		char text[200];
		snprintf(text, sizeof text, "Offered asset %s for exchange (tx ", ah);
		say_tx(x, id, "asset", ah, text, ")");
	}
out:
	lb_free(tx);
	lb_free(proof);
	lb_free(p);
	lb_buf_release(&b);
	return rc;
}

static int x_grant(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_xchg_grant p = {.kind = 1};
	uint8_t id[LB_HASH_LEN];
	struct lb_buf b;
	int rc;
	if ((rc = need(o->asset, "--asset ID", "grant")) || (rc = hash_arg(o->asset, "--asset", p.asset)) ||
	    (rc = need(o->executor, "--executor ADDRESS|KEY", "grant")) ||
	    (rc = cli_resolve_address(CMD, o->home, o->executor, p.executor)))
		return rc;
	if (o->kind) {
		p.kind = !strcmp(o->kind, "own") ? 1 : !strcmp(o->kind, "node") ? 2
						 : !strcmp(o->kind, "provider") ? 3 : 0;
		if (!p.kind)
			return cli_failf(CMD, "--kind '%s': use own, node or provider", o->kind), 2;
	}
	lb_buf_init(&b, 256);
	rc = lb_xchg_grant_encode(&b, &p) ? 1 : owner_send(x, LB_TX_XCHG_GRANT, &b, id);
	lb_buf_release(&b);
	if (!rc && !x->printed)
		say_sent(x, "Execution right granted", id);
	return rc;
}

static int x_algo(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_xchg_algo p = {0};
	uint8_t id[LB_HASH_LEN];
	char name[LB_XCHG_NAME_MAX + 1];
	struct lb_buf b;
	int rc;
	if (!o->builtin && !o->algorithm_file)
		return cli_failf(CMD, "'leben exchange algo' needs --builtin NAME or --algorithm-file SCRIPT"), 2;
	if (o->builtin) {
		char spec[200];
		snprintf(spec, sizeof spec, "builtin:%s", o->builtin);
		rc = algo_arg(spec, NULL, p.hash);
	} else {
		rc = algo_arg(NULL, o->algorithm_file, p.hash);
	}
	if (rc || (rc = amount_arg(o->fee, "--fee", 0, &p.fee)))
		return rc;
	snprintf(name, sizeof name, "%s", o->name ? o->name : o->builtin ? o->builtin : o->algorithm_file);
	memcpy(p.name, name, sizeof p.name);
	p.flags = (o->at_author ? LB_XCHG_ALGO_AT_AUTHOR : 0) | (o->heavy_deps ? LB_XCHG_ALGO_HEAVY_DEPS : 0);
	lb_buf_init(&b, 512);
	rc = lb_xchg_algo_encode(&b, &p) ? 1 : send_tx(x, LB_CHAIN_BUSINESS, LB_TX_XCHG_ALGO, &b, id);
	lb_buf_release(&b);
	if (rc)
		return rc;
	char h[2 * LB_HASH_LEN + 1];
	hex32(h, p.hash);
	char text[LB_XCHG_NAME_MAX + 120];
	snprintf(text, sizeof text, "Registered algorithm %s as %s (tx ", p.name, h);
	say_tx(x, id, "algorithm", h, text, ")");
	return 0;
}

static int x_request(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_xchg_request p = {0};
	uint8_t id[LB_HASH_LEN];
	struct lb_buf b;
	int rc;
	if ((rc = need(o->asset, "--asset ID", "request")) ||
	    (rc = hash_arg(o->asset, "--asset", p.asset)) ||
	    (rc = algo_arg(o->algorithm, o->algorithm_file, p.algo)) ||
	    (rc = need(o->purpose, "--purpose TEXT (what the result is for)", "request")))
		return rc;
	if (strlen(o->purpose) > LB_XCHG_TEXT_MAX)
		return cli_failf(CMD, "--purpose is longer than %d bytes", LB_XCHG_TEXT_MAX), 2;
	snprintf(p.purpose, sizeof p.purpose, "%s", o->purpose);
	if (o->params) {
		if (strlen(o->params) > LB_XCHG_PARAMS_MAX)
			return cli_failf(CMD, "--params is longer than %d bytes", LB_XCHG_PARAMS_MAX), 2;
		snprintf(p.params, sizeof p.params, "%s", o->params);
	}
	if (o->scenario) {
		int s = lb_xchg_scenario_parse(o->scenario);
		if (s < 0)
			return cli_failf(CMD, "--scenario '%s': use auto, local, off-site or integrated",
					 o->scenario), 2;
		p.scenario = (uint8_t)s;
	}
	if (o->result_policy) {
		/* the result sealed to a CP-ABE policy: checked against the authority's record
		 * (it exists, the names are plain) before anything is sent */
		struct lb_errmsg em;
		struct lb_abe_pk apk;
		char *vpol = NULL;
		lb_errclear(&em);
		if (strlen(o->result_policy) > LB_XCHG_POLICY_MAX)
			return cli_failf(CMD, "--result-policy is longer than %d bytes",
					 LB_XCHG_POLICY_MAX), 2;
		rc = abe_cli_policy(o->home, x->url, o->from, o->abe_authority, o->result_policy,
				    p.result_authority, &apk, &vpol, &em);
		lb_free(vpol);
		if (rc)
			return cli_fail(CMD, &em,
					rc == LB_ESYNTAX ? "--result-policy: nothing was sent"
							 : "--result-policy / --authority: nothing "
							   "was sent"),
			       rc == LB_EUSAGE ? 2 : 1;
		snprintf(p.result_policy, sizeof p.result_policy, "%s", o->result_policy);
	} else if (o->abe_authority) {
		return cli_failf(CMD, "--authority goes with --result-policy"), 2;
	}
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX); /* up to 4096 bytes of parameters and a purpose */
	rc = lb_xchg_request_encode(&b, &p)
		     ? cli_failf(CMD, "the request (purpose and parameters) cannot be encoded")
		     : send_tx(x, LB_CHAIN_BUSINESS, LB_TX_XCHG_REQUEST, &b, id);
	lb_buf_release(&b);
	if (rc)
		return rc;
	char h[2 * LB_HASH_LEN + 1];
	json_t *r;
	hex32(h, id);
	if (getf(x, &r, "/v1/exchange/requests/%s", h))
		return 1;
	const char *st = json_string_value(json_object_get(r, "status"));
	if (o->json) {
		json_object_set_new(r, "tx", json_string(h));
		cli_print_json(r);
	} else {
		printf("Request %s is %s%s\n", h, st ? st : "?",
		       st && !strcmp(st, "approved") ? " (the algorithm is on the owner's allow-list)"
						     : " (the owner must approve it)");
	}
	json_decref(r);
	return 0;
}

static int x_decide(struct xctx *x, int decision)
{
	const struct xopts *o = x->o;
	struct lb_xchg_approve p = {.decision = (uint8_t)decision};
	uint8_t id[LB_HASH_LEN];
	struct lb_buf b;
	int rc;
	const char *sub = decision == 1 ? "approve" : "reject";
	if ((rc = need(o->request, "--request ID", sub)) ||
	    (rc = hash_arg(o->request, "--request", p.request)))
		return rc;
	if (o->reason && strlen(o->reason) > LB_XCHG_TEXT_MAX)
		return cli_failf(CMD, "--reason is longer than %d bytes", LB_XCHG_TEXT_MAX), 2;
	snprintf(p.reason, sizeof p.reason, "%s", o->reason ? o->reason : "");
	lb_buf_init(&b, 1024);
	rc = lb_xchg_approve_encode(&b, &p) ? 1 : owner_send(x, LB_TX_XCHG_APPROVE, &b, id);
	lb_buf_release(&b);
	if (!rc && !x->printed)
		say_sent(x, decision == 1 ? "Request approved" : "Request rejected", id);
	return rc;
}

static int x_revoke(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_xchg_revoke p = {0};
	uint8_t id[LB_HASH_LEN];
	struct lb_buf b;
	int rc;
	const char *what;
	if (o->request) {
		if (o->asset || o->executor)
			return cli_failf(CMD, "give --request ID alone, or --asset ID [--executor ...]"), 2;
		p.kind = 2;
		what = "Usage right revoked: the request can no longer run";
		if ((rc = hash_arg(o->request, "--request", p.id)))
			return rc;
	} else {
		if ((rc = need(o->asset, "--asset ID [--executor ADDRESS|KEY] or --request ID", "revoke")) ||
		    (rc = hash_arg(o->asset, "--asset", p.id)))
			return rc;
		p.kind = o->executor ? 1 : 3;
		what = o->executor ? "Execution right revoked"
				   : "Offer withdrawn: new requests on the asset are refused";
		if (o->executor && (rc = cli_resolve_address(CMD, o->home, o->executor, p.executor)))
			return rc;
	}
	lb_buf_init(&b, 256);
	rc = lb_xchg_revoke_encode(&b, &p) ? 1 : owner_send(x, LB_TX_XCHG_REVOKE, &b, id);
	lb_buf_release(&b);
	if (!rc && !x->printed)
		say_sent(x, what, id);
	return rc;
}

/* Patient commitment: 64 hex digits, or (at the asset's owner) the local patient id committed
 * with the asset's salt key from this home. */
static int patient_arg(const char *home, const char *v, const uint8_t asset[LB_HASH_LEN],
		       uint8_t out[LB_HASH_LEN])
{
	uint8_t key[LB_XCHG_SALT_KEY_LEN];
	struct lb_errmsg em;
	if (!lb_hex_decode(out, LB_HASH_LEN, v))
		return 0;
	if (!asset)
		return cli_failf(CMD, "--patient '%s': give the patient's commitment (64 hex digits), "
				      "or the local patient id together with --asset at the asset's "
				      "owner", v), 2;
	lb_errclear(&em);
	if (lb_xchg_salt_key(home, asset, false, key, &em))
		return cli_fail(CMD, &em, "a local patient id is known only where the asset's salt key "
					  "is (the owner's home); a patient uses --opening CARD");
	lb_xchg_patient_commit(out, asset, key, v);
	sodium_memzero(key, sizeof key);
	return 0;
}

/* An opening card (leben exchange patients / opening): {"asset", "patient" (commitment),
 * "salt", "local_id"}; the commitment must open with the salt and local id. */
static int read_card(const char *file, uint8_t asset[LB_HASH_LEN], uint8_t commit[LB_HASH_LEN])
{
	uint8_t *d, salt[LB_HASH_LEN], want[LB_HASH_LEN];
	size_t n;
	json_error_t jerr;
	if (cli_read_file(CMD, file, 1u << 16, &d, &n))
		return 1;
	json_t *j = json_loadb((const char *)d, n, 0, &jerr);
	lb_free(d);
	const char *local = json_string_value(json_object_get(j, "local_id"));
	int bad = !json_is_object(j) || !local ||
		  lb_hex_decode(asset, LB_HASH_LEN, json_string_value(json_object_get(j, "asset"))) ||
		  lb_hex_decode(commit, LB_HASH_LEN,
				json_string_value(json_object_get(j, "patient"))) ||
		  lb_hex_decode(salt, LB_HASH_LEN, json_string_value(json_object_get(j, "salt")));
	if (!bad) {
		lb_xchg_patient_open(want, asset, salt, local);
		bad = !lb_ct_equal(want, commit, LB_HASH_LEN) ? 2 : 0;
	}
	json_decref(j);
	sodium_memzero(salt, sizeof salt);
	if (bad == 2)
		return cli_failf(CMD, "%s: the commitment does not open with the card's salt and local "
				      "id (a damaged or forged card)", file);
	if (bad)
		return cli_failf(CMD, "%s is not an opening card {\"asset\", \"patient\", \"salt\", "
				      "\"local_id\"} (leben exchange opening)", file);
	return 0;
}

static int x_consent(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_xchg_consent p = {.action = o->rebind   ? LB_XCHG_REBIND
					      : o->revoke ? LB_XCHG_REVOKE_CONSENT
							  : LB_XCHG_GIVE};
	uint8_t id[LB_HASH_LEN];
	struct lb_buf b;
	int rc;
	if (o->rebind && o->revoke)
		return cli_failf(CMD, "give --revoke or --rebind KEY, not both"), 2;
	if (o->opening) {
		if ((rc = read_card(o->opening, p.asset, p.patient)))
			return rc;
		if (o->asset && (lb_hex_decode(id, LB_HASH_LEN, o->asset) ||
				 memcmp(id, p.asset, LB_HASH_LEN)))
			return cli_failf(CMD, "--asset differs from the opening card's asset"), 2;
	} else if ((rc = need(o->asset, "--opening CARD, or --asset ID --patient ID", "consent")) ||
		   (rc = hash_arg(o->asset, "--asset", p.asset)) ||
		   (rc = need(o->patient, "--opening CARD or --patient ID", "consent")) ||
		   (rc = patient_arg(o->home, o->patient, p.asset, p.patient))) {
		return rc;
	}
	if (o->rebind && (rc = cli_resolve_address(CMD, o->home, o->rebind, p.new_key)))
		return rc;
	lb_buf_init(&b, 256);
	rc = lb_xchg_consent_encode(&b, &p) ? 1
					    : send_tx(x, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, id);
	lb_buf_release(&b);
	if (!rc) {
		char ph[2 * LB_HASH_LEN + 1], msg[200];
		hex32(ph, p.patient);
		snprintf(msg, sizeof msg, "Consent %s for patient %.16s...",
			 o->rebind   ? "bound to a new key"
			 : o->revoke ? "revoked (later runs leave this patient's records out)"
				     : "given",
			 ph);
		say_sent(x, msg, id);
	}
	return rc;
}

/* The opening card of one patient: what the patient needs to open its commitment. */
static json_t *card_json(const uint8_t asset[LB_HASH_LEN], const uint8_t key[LB_XCHG_SALT_KEY_LEN],
			 const char *local)
{
	uint8_t salt[LB_HASH_LEN], c[LB_HASH_LEN];
	char ah[2 * LB_HASH_LEN + 1], sh[2 * LB_HASH_LEN + 1], ch[2 * LB_HASH_LEN + 1];
	lb_xchg_patient_salt(salt, key, asset, local);
	lb_xchg_patient_open(c, asset, salt, local);
	hex32(ah, asset);
	hex32(sh, salt);
	hex32(ch, c);
	sodium_memzero(salt, sizeof salt);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "card", "LEBEN patient opening card v1",
			      "asset", ah, "patient", ch, "salt", sh, "local_id", local);
	sodium_memzero(sh, sizeof sh);
	return j;
}

/* Write one card as <dir>/<commitment>.json (mode 0600). */
static int write_card(const char *dir, json_t *card, char *path, size_t pathlen)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	snprintf(path, pathlen, "%s/%s.json", dir,
		 json_string_value(json_object_get(card, "patient")));
	char *text = json_dumps(card, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = text ? lb_file_write(path, text, strlen(text), 0600, &em) : LB_ENOMEM;
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	return rc ? cli_fail(CMD, &em, NULL) : 0;
}

/* The (local id, key address) lines of --keys FILE: "local_id,address" (a header line
 * local_id,... is skipped; an address may also be a key name of this home). */
struct key_line {
	char *local;
	uint8_t addr[LB_ADDR_LEN];
	bool used;
};

static int read_keys(const struct xopts *o, struct key_line **out, size_t *n)
{
	uint8_t *d;
	size_t len, cap = 0;
	*out = NULL;
	*n = 0;
	if (cli_read_file(CMD, o->keys, 16u << 20, &d, &len))
		return 1;
	int rc = 0;
	char *save = NULL, *text = (char *)d;
	size_t lineno = 0;
	for (char *ln = strtok_r(text, "\n", &save); ln && !rc; ln = strtok_r(NULL, "\n", &save)) {
		lineno++;
		size_t l = strlen(ln);
		while (l && (ln[l - 1] == '\r' || ln[l - 1] == ' '))
			ln[--l] = 0;
		char *comma = strchr(ln, ',');
		if (!l || ln[0] == '#')
			continue;
		if (!comma) {
			rc = cli_failf(CMD, "%s line %zu: expected local_id,address", o->keys, lineno);
			break;
		}
		*comma = 0;
		if (lineno == 1 && !strcmp(ln, "local_id"))
			continue;
		if (!*ln || strlen(ln) > LB_XCHG_LOCAL_ID_MAX) {
			rc = cli_failf(CMD, "%s line %zu: the local id is empty or longer than %d bytes",
				       o->keys, lineno, LB_XCHG_LOCAL_ID_MAX);
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			struct key_line *g = lb_realloc(*out, cap * sizeof *g);
			if (!g) {
				rc = cli_failf(CMD, "out of memory");
				break;
			}
			*out = g;
		}
		struct key_line *k = &(*out)[*n];
		memset(k, 0, sizeof *k);
		if (cli_resolve_address(CMD, o->home, comma + 1, k->addr)) {
			rc = cli_failf(CMD, "%s line %zu: '%s' is not an address or key name", o->keys,
				       lineno, comma + 1);
			break;
		}
		if (!(k->local = lb_strdup(ln))) {
			rc = cli_failf(CMD, "out of memory");
			break;
		}
		(*n)++;
	}
	lb_free(d);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(a, b, LB_HASH_LEN);
}

static int addr_of(json_t *o, const char *k, uint8_t out[LB_ADDR_LEN]);

/* The owner registers the consent keys of the patients of its table (xchg.patients, in
 * batches) and writes each registered patient's opening card. */
static int x_patients(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t asset[LB_HASH_LEN], key[LB_XCHG_SALT_KEY_LEN], id[LB_HASH_LEN];
	uint8_t *data = NULL, *ent = NULL;
	size_t dlen = 0, npats = 0, nkeys = 0, nent = 0, nskip = 0;
	struct lb_xchg_patient *pats = NULL;
	struct key_line *keys = NULL;
	json_t *cards = json_array(), *txs = json_array();
	struct lb_errmsg em;
	struct lb_buf b;
	bool have_key = false;
	int rc;
	lb_errclear(&em);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if ((rc = need(o->asset, "--asset ID", "patients")) ||
	    (rc = hash_arg(o->asset, "--asset", asset)) ||
	    (rc = need(o->data, "--data FILE", "patients")) ||
	    (rc = need(o->keys, "--keys FILE.csv (local_id,address)", "patients")) ||
	    (rc = need(o->out, "--out DIR (where the opening cards go)", "patients")) ||
	    (rc = load_key(x)))
		goto out;
	if (lb_xchg_salt_key(o->home, asset, true, key, &em)) {
		rc = cli_fail(CMD, &em, NULL);
		goto out;
	}
	have_key = true;
	const char *pcol = o->patient_column ? o->patient_column : "patient_id";
	if ((rc = cli_read_file(CMD, o->data, (size_t)1 << 31, &data, &dlen)))
		goto out;
	if (lb_xchg_csv_patients(data, dlen, pcol, asset, key, &pats, &npats, &em)) {
		rc = cli_fail(CMD, &em, "the table needs a header line and a patient id column "
					"(--patient-column)");
		goto out;
	}
	if ((rc = read_keys(o, &keys, &nkeys)))
		goto out;
	if (!(ent = lb_malloc((nkeys ? nkeys : 1) * LB_XCHG_PATIENT_ENTRY))) {
		rc = cli_failf(CMD, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nkeys; i++) {
		uint8_t c[LB_HASH_LEN];
		lb_xchg_patient_commit(c, asset, key, keys[i].local);
		bool in_table = false;
		for (size_t j = 0; j < npats && !in_table; j++)
			in_table = !memcmp(pats[j].id, c, LB_HASH_LEN);
		if (!in_table) {
			rc = cli_failf(CMD, "%s names patient '%s', who is not in %s (column %s)", o->keys,
				       keys[i].local, o->data, pcol);
			goto out;
		}
		for (size_t j = 0; j < nent; j++)
			if (!memcmp(ent + j * LB_XCHG_PATIENT_ENTRY, c, LB_HASH_LEN)) {
				rc = cli_failf(CMD, "%s names patient '%s' twice", o->keys, keys[i].local);
				goto out;
			}
		/* registered before (a second run after new patients were added): kept as is if
		 * with the same key; another key is the patient's to set (rebind) */
		char ch[2 * LB_HASH_LEN + 1], path[300];
		json_t *known = NULL;
		struct lb_errmsg qe;
		lb_errclear(&qe);
		hex32(ch, c);
		snprintf(path, sizeof path, "/v1/exchange/consents/%s/%s", o->asset, ch);
		if (lb_client_get(x->url, path, &known, &qe) == LB_OK) {
			uint8_t ka[LB_ADDR_LEN];
			bool same = !addr_of(known, "key", ka) && !memcmp(ka, keys[i].addr, LB_ADDR_LEN);
			json_decref(known);
			if (!same) {
				rc = cli_failf(CMD, "patient '%s' is already registered with another key; "
						    "only the patient moves its consent (consent --rebind)",
					       keys[i].local);
				goto out;
			}
			nskip++;
			continue;
		}
		memcpy(ent + nent * LB_XCHG_PATIENT_ENTRY, c, LB_HASH_LEN);
		memcpy(ent + nent * LB_XCHG_PATIENT_ENTRY + LB_HASH_LEN, keys[i].addr, LB_ADDR_LEN);
		nent++;
	}
	if (!nent && !nskip) {
		rc = cli_failf(CMD, "%s names no patient", o->keys);
		goto out;
	}
	qsort(ent, nent, LB_XCHG_PATIENT_ENTRY, cmp_entry);
	if (lb_mkdirs(o->out, 0700, &em)) {
		rc = cli_fail(CMD, &em, NULL);
		goto out;
	}
	for (size_t at = 0; at < nent; at += LB_XCHG_REGISTER_MAX) {
		struct lb_xchg_patients p = {.entries = ent + at * LB_XCHG_PATIENT_ENTRY};
		char h[2 * LB_HASH_LEN + 1];
		memcpy(p.asset, asset, LB_HASH_LEN);
		p.n = nent - at < LB_XCHG_REGISTER_MAX ? nent - at : LB_XCHG_REGISTER_MAX;
		lb_buf_reset(&b);
		if (lb_xchg_patients_encode(&b, &p)) {
			rc = cli_failf(CMD, "the registration is too large");
			goto out;
		}
		if ((rc = send_tx(x, LB_CHAIN_BUSINESS, LB_TX_XCHG_PATIENTS, &b, id)))
			goto out;
		hex32(h, id);
		json_array_append_new(txs, json_string(h));
	}
	for (size_t i = 0; i < nkeys; i++) {
		char path[4400], ah[LB_ADDR_TEXT_LEN + 1];
		json_t *card = card_json(asset, key, keys[i].local);
		lb_addr_encode(ah, keys[i].addr);
		json_object_set_new(card, "key", json_string(ah));
		rc = write_card(o->out, card, path, sizeof path);
		json_array_append_new(cards, json_pack("{s:s,s:O,s:s,s:s}", "local_id", keys[i].local,
						       "patient", json_object_get(card, "patient"),
						       "key", ah, "card", path));
		json_decref(card);
		if (rc)
			goto out;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:O,s:O}", "asset", o->asset, "registered",
				      (json_int_t)nent, "already_registered", (json_int_t)nskip,
				      "unregistered", (json_int_t)(npats - nent - nskip), "txs", txs,
				      "patients", cards);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Registered the consent keys of %zu patients of asset %s (%zu txs; %zu were "
		       "registered before); %zu patients of the table have no key and are not used "
		       "while the offer is opt-in.\n"
		       "Opening cards (hand each to its patient; keep them secret): %s\n",
		       nent, o->asset, json_array_size(txs), nskip, npats - nent - nskip, o->out);
	}
out:
	if (have_key)
		sodium_memzero(key, sizeof key);
	for (size_t i = 0; i < nkeys; i++)
		lb_free(keys[i].local);
	lb_free(keys);
	lb_free(ent);
	if (pats)
		sodium_memzero(pats, npats * sizeof *pats);
	lb_free(pats);
	if (data)
		sodium_memzero(data, dlen);
	lb_free(data);
	json_decref(cards);
	json_decref(txs);
	lb_buf_release(&b);
	return rc;
}

/* The opening card of one patient, at the asset's owner (its salt key is in this home). */
static int x_opening(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t asset[LB_HASH_LEN], key[LB_XCHG_SALT_KEY_LEN];
	struct lb_errmsg em;
	int rc;
	lb_errclear(&em);
	if ((rc = need(o->asset, "--asset ID", "opening")) ||
	    (rc = hash_arg(o->asset, "--asset", asset)) ||
	    (rc = need(o->patient, "--patient LOCAL_ID", "opening")))
		return rc;
	if (lb_xchg_salt_key(o->home, asset, false, key, &em))
		return cli_fail(CMD, &em, NULL);
	json_t *card = card_json(asset, key, o->patient);
	sodium_memzero(key, sizeof key);
	if (o->out) {
		char *text = json_dumps(card, JSON_INDENT(2) | JSON_SORT_KEYS);
		rc = text ? lb_file_write(o->out, text, strlen(text), 0600, &em) : LB_ENOMEM;
		free(text);
		if (rc)
			rc = cli_fail(CMD, &em, NULL);
		else
			printf("Opening card of patient %s written to %s\n", o->patient, o->out);
	} else {
		cli_print_json(card);
	}
	json_decref(card);
	return rc;
}

/* POST /v1/exchange/check for this request and executor (patients may be NULL). */
static int check(struct xctx *x, const char *reqhex, const char *exec_text, const uint8_t *pats,
		 size_t n, json_t **plan)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char h[2 * LB_HASH_LEN + 1];
		hex32(h, pats + i * LB_HASH_LEN);
		json_array_append_new(arr, json_string(h));
	}
	json_t *body = json_pack("{s:s,s:s,s:o,s:b}", "request", reqhex, "executor", exec_text,
				 "patients", arr, "exclude_revoked", 1);
	int rc = cli_api_post(CMD, x->url, "/v1/exchange/check", body, plan);
	json_decref(body);
	return rc;
}

static uint64_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static int addr_of(json_t *o, const char *k, uint8_t out[LB_ADDR_LEN])
{
	const char *s = json_string_value(json_object_get(o, k));
	return !s || lb_addr_decode(out, s, NULL);
}

static int x_escrow(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_escrow_open p = {0};
	uint8_t req[LB_HASH_LEN], id[LB_HASH_LEN], exec[LB_ADDR_LEN];
	char exec_text[LB_ADDR_TEXT_LEN + 1];
	uint64_t blocks;
	json_t *plan = NULL, *st = NULL;
	struct lb_buf b;
	int rc;
	if ((rc = need(o->request, "--request ID", "escrow")) ||
	    (rc = hash_arg(o->request, "--request", req)) ||
	    (rc = need(o->executor, "--executor ADDRESS|KEY", "escrow")) ||
	    (rc = cli_resolve_address(CMD, o->home, o->executor, exec)) ||
	    (rc = amount_arg(o->compute_fee, "--compute-fee", 0, &p.terms.compute_fee)) ||
	    (rc = count_arg(o->timeout_blocks, "--timeout-blocks", 100, &blocks)))
		return rc;
	lb_addr_encode(exec_text, exec);
	/* The node checks now what the run will be checked against: approval, rights, fees. */
	if ((rc = check(x, o->request, exec_text, NULL, 0, &plan)))
		return cli_failf(CMD, "nothing was locked: the run would be refused (above)"), 1;
	json_t *t = json_object_get(plan, "terms");
	memcpy(p.terms.request, req, LB_HASH_LEN);
	memcpy(p.terms.executor, exec, LB_ADDR_LEN);
	p.terms.data_fee = jint(t, "data_fee");
	p.terms.algo_fee = jint(t, "algo_fee");
	if (addr_of(t, "user", p.terms.user) || addr_of(t, "owner", p.terms.owner) ||
	    addr_of(t, "author", p.terms.author)) {
		rc = cli_failf(CMD, "the node's plan is incomplete");
		goto out;
	}
	if ((rc = load_key(x)))
		goto out;
	if (memcmp(p.terms.user, x->addr, LB_ADDR_LEN)) {
		rc = cli_failf(CMD, "request %s was made by %s; only that account pays for it",
			       o->request, json_string_value(json_object_get(t, "user")));
		goto out;
	}
	if ((rc = cli_api_get(CMD, x->url, "/v1/status", &st)))
		goto out;
	p.timeout = jint(json_object_get(json_object_get(st, "chains"), "settlement"), "height") +
		    blocks;
	lb_buf_init(&b, 512);
	rc = lb_escrow_open_encode(&b, &p) ? 1
					   : send_tx(x, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_OPEN, &b, id);
	lb_buf_release(&b);
	if (rc)
		goto out;
	char h[2 * LB_HASH_LEN + 1], a1[32], a2[32], a3[32];
	hex32(h, id);
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "escrow", h, "tx", h, "data_fee",
				      (json_int_t)p.terms.data_fee, "algo_fee",
				      (json_int_t)p.terms.algo_fee, "compute_fee",
				      (json_int_t)p.terms.compute_fee, "timeout", (json_int_t)p.timeout);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Escrow %s locks %s ASC for the data, %s ASC for the algorithm and %s CSC for "
		       "computing until the run (refundable after settlement height %" PRIu64 ")\n",
		       h, cli_format_amount(p.terms.data_fee, a1, sizeof a1),
		       cli_format_amount(p.terms.algo_fee, a2, sizeof a2),
		       cli_format_amount(p.terms.compute_fee, a3, sizeof a3), p.timeout);
		if (jint(plan, "epsilon"))
			printf("The run will spend epsilon %s of the %s left in your privacy budget on "
			       "this asset\n",
			       cli_format_amount(jint(plan, "epsilon"), a1, sizeof a1),
			       cli_format_amount(jint(plan, "budget_left_user"), a2, sizeof a2));
	}
out:
	json_decref(st);
	json_decref(plan);
	return rc;
}

/* ---- the executor's run ----------------------------------------------------------------------- */

/* Leave what the run leaves for its user and owner with the node, signed by the executor:
 * the released result (sealed to the user; NULL when none), the reason (sealed to the user and
 * the owner) and the owner's audit record (docs/api.md, POST /v1/exchange/results). */
static int upload_sealed(struct xctx *x, const char *reqhex, const uint8_t req[LB_HASH_LEN],
			 const uint8_t *sealed, size_t slen, const uint8_t *reason, size_t rlen,
			 const uint8_t *audit, size_t alen)
{
	char pkh[2 * LB_PUBKEY_LEN + 1], sgh[2 * LB_SIG_LEN + 1], path[200];
	uint8_t h[3][LB_HASH_LEN], msg[LB_HASH_LEN], sig[LB_SIG_LEN];
	struct lb_hasher hs;
	json_t *body, *ans = NULL;
	lb_hash(h[0], sealed ? sealed : (const uint8_t *)"", sealed ? slen : 0);
	lb_hash(h[1], reason ? reason : (const uint8_t *)"", reason ? rlen : 0);
	lb_hash(h[2], audit ? audit : (const uint8_t *)"", audit ? alen : 0);
	lb_hasher_init(&hs, "LEBEN-sealed-result-v2");
	lb_hasher_update(&hs, req, LB_HASH_LEN);
	lb_hasher_update(&hs, h, sizeof h);
	lb_hasher_final(&hs, msg);
	lb_sign(sig, msg, sizeof msg, &x->kp);
	lb_hex_encode(pkh, x->kp.pk, LB_PUBKEY_LEN);
	lb_hex_encode(sgh, sig, LB_SIG_LEN);
	body = json_pack("{s:s,s:s}", "pk", pkh, "sig", sgh);
	const struct {
		const char *key;
		const uint8_t *p;
		size_t n;
	} parts[] = {{"sealed", sealed, slen}, {"reason", reason, rlen}, {"owner_audit", audit, alen}};
	for (size_t i = 0; i < 3 && body; i++) {
		if (!parts[i].p)
			continue;
		char *hx = lb_malloc(2 * parts[i].n + 1);
		if (!hx) {
			json_decref(body);
			return cli_failf(CMD, "out of memory");
		}
		lb_hex_encode(hx, parts[i].p, parts[i].n);
		json_object_set_new(body, parts[i].key, json_string(hx));
		lb_free(hx);
	}
	snprintf(path, sizeof path, "/v1/exchange/results/%s", reqhex);
	int rc = cli_api_post(CMD, x->url, path, body, &ans);
	json_decref(body);
	json_decref(ans);
	return rc;
}

/* Hash of the business block holding committed tx id (the second half of the noise seed). */
static int tx_block_hash(struct xctx *x, const uint8_t id[LB_HASH_LEN], uint8_t out[LB_HASH_LEN])
{
	char h[2 * LB_HASH_LEN + 1];
	json_t *t = NULL, *blk = NULL;
	hex32(h, id);
	int rc = getf(x, &t, "/v1/txs/%s", h);
	json_t *ht = json_object_get(t, "height");
	if (!rc && !json_is_integer(ht))
		rc = cli_failf(CMD, "the node does not say which block holds tx %s", h);
	if (!rc && (rc = getf(x, &blk, "/v1/chains/business/blocks/%" PRIu64,
			      (uint64_t)json_integer_value(ht))) == 0 &&
	    lb_hex_decode(out, LB_HASH_LEN, json_string_value(json_object_get(blk, "hash"))))
		rc = cli_failf(CMD, "the node gave no hash for the block of tx %s", h);
	json_decref(t);
	json_decref(blk);
	return rc;
}

/* Public reason code of a failed run: a resource limit, or a failure. */
static uint8_t failed_code(bool have_rep, enum lb_sandbox_status st)
{
	if (!have_rep)
		return LB_XCHG_REASON_FAILED;
	switch (st) {
	case LB_SANDBOX_CPU:
	case LB_SANDBOX_WALL:
	case LB_SANDBOX_MEMORY:
	case LB_SANDBOX_FILESIZE:
	case LB_SANDBOX_OUTPUT:
	case LB_SANDBOX_INSTRUCTIONS:
		return LB_XCHG_REASON_LIMIT;
	default:
		return LB_XCHG_REASON_FAILED;
	}
}

/* Public reason code of a withheld release: which rule of the release policy fired (read from
 * its decision; the sentence itself stays sealed). */
static uint8_t withheld_code(const struct lb_release *rel)
{
	switch (rel->rule) {
	case LB_RELEASE_COHORT:
		return LB_XCHG_REASON_COHORT;
	case LB_RELEASE_DIFFERENCING:
		return LB_XCHG_REASON_DIFFERENCING;
	case LB_RELEASE_BUDGET:
		return LB_XCHG_REASON_BUDGET;
	case LB_RELEASE_LIMIT:
		return LB_XCHG_REASON_LIMIT;
	default:
		return LB_XCHG_REASON_POLICY;
	}
}

/* The offer's differential privacy for this release: the noise of the offer's epsilon, keyed
 * by the run's noise key (lb_xchg_noise_key). The chain charged the budget when it recorded
 * the execution, so the policy's own budget is a one-release row in memory. */
static int offer_noise(struct lb_policy *pol, json_t *plan, const uint8_t key[LB_HASH_LEN],
		       struct lb_dp_budget **dpb, struct lb_errmsg *em)
{
	uint64_t eps = jint(plan, "epsilon");
	*dpb = NULL;
	if (!eps)
		return 0;
	pol->epsilon = (double)eps / LB_XCHG_EPS_UNIT;
	pol->budget = pol->epsilon;
	lb_policy_noise_seed(key);
	return lb_dp_budget_open(NULL, dpb, em);
}

/* Pad JSON text with spaces to exactly n bytes (a fixed size: the envelope's length says
 * nothing of the text); LB_ETOOBIG if it is longer. */
static int pad_json(json_t *j, size_t n, char **out)
{
	char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	size_t len = t ? strlen(t) : 0;
	*out = NULL;
	if (!t || len > n) {
		free(t);
		return t ? LB_ETOOBIG : LB_ENOMEM;
	}
	char *p = lb_malloc(n);
	if (!p) {
		free(t);
		return LB_ENOMEM;
	}
	memcpy(p, t, len);
	memset(p + len, ' ', n - len);
	free(t);
	*out = p;
	return LB_OK;
}

#define REASON_SEALED_SIZE 4096 /* plaintext bytes of every sealed reason */
#define AUDIT_SEALED_SIZE 512   /* plaintext bytes of every owner's audit record */

/* The full reason of a run, sealed to the user and the owner, padded to one size. */
static int seal_reason(const char *reqhex, const struct lb_xchg_result *res, const char *why,
		       const char *sandbox, const uint8_t upk[LB_ENVELOPE_PKBYTES],
		       const uint8_t opk[LB_ENVELOPE_PKBYTES], uint8_t **env, size_t *envlen,
		       struct lb_errmsg *em)
{
	static const char *st[] = {"?", "delivered", "withheld", "failed"};
	uint8_t pks[2][LB_ENVELOPE_PKBYTES];
	char *text = NULL;
	json_t *j = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "request", reqhex, "status",
			      st[res->status <= 3 ? res->status : 0], "reason_code", (int)res->reason,
			      "reason_name", lb_xchg_reason_name(res->reason), "reason", why, "sandbox",
			      sandbox);
	int rc = j ? pad_json(j, REASON_SEALED_SIZE, &text) : LB_ENOMEM;
	json_decref(j);
	if (rc)
		return lb_errf(em, rc, "the reason of the run does not fit its sealed record");
	memcpy(pks[0], upk, LB_ENVELOPE_PKBYTES);
	memcpy(pks[1], opk, LB_ENVELOPE_PKBYTES);
	rc = lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])pks, 2, (const uint8_t *)text,
			      REASON_SEALED_SIZE, env, envlen, em);
	sodium_memzero(text, REASON_SEALED_SIZE);
	lb_free(text);
	return rc;
}

/* The owner's audit record of the noise (the secret r behind the commitment in xchg.exec and
 * the block completing it), sealed to the owner only: the user must not learn the noise. */
static int seal_audit(const char *reqhex, const uint8_t r[LB_HASH_LEN],
		      const uint8_t commit[LB_HASH_LEN], const uint8_t block[LB_HASH_LEN],
		      const uint8_t opk[LB_ENVELOPE_PKBYTES], uint8_t **env, size_t *envlen,
		      struct lb_errmsg *em)
{
	char rh[2 * LB_HASH_LEN + 1], ch[2 * LB_HASH_LEN + 1], bh[2 * LB_HASH_LEN + 1], *text = NULL;
	hex32(rh, r);
	hex32(ch, commit);
	hex32(bh, block);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "request", reqhex, "noise_r", rh, "noise_commit",
			      ch, "exec_block_hash", bh);
	int rc = j ? pad_json(j, AUDIT_SEALED_SIZE, &text) : LB_ENOMEM;
	json_decref(j);
	sodium_memzero(rh, sizeof rh);
	if (rc)
		return lb_errf(em, rc, "the audit record does not fit its sealed size");
	rc = lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])opk, 1, (const uint8_t *)text,
			      AUDIT_SEALED_SIZE, env, envlen, em);
	sodium_memzero(text, AUDIT_SEALED_SIZE);
	lb_free(text);
	return rc;
}

/* What the executor will run: a built-in algorithm whose pinned hash is the request's, or the
 * script given with --algorithm-file if it hashes to it. */
static int pick_algorithm(struct xctx *x, const uint8_t algo[LB_HASH_LEN], const char *algohex,
			  struct lb_sandbox_job *job, uint8_t **script)
{
	size_t n;
	uint8_t h[LB_HASH_LEN];
	const struct lb_algo *t = lb_algo_table(&n);
	for (size_t i = 0; i < n; i++) {
		lb_xchg_builtin_hash(h, t[i].name);
		if (!memcmp(h, algo, LB_HASH_LEN)) {
			job->algorithm = t[i].name;
			return 0;
		}
	}
	if (x->o->algorithm_file) {
		size_t len;
		if (cli_read_file(CMD, x->o->algorithm_file, 16u << 20, script, &len))
			return 1;
		lb_hash(h, *script, len);
		if (!memcmp(h, algo, LB_HASH_LEN)) {
			job->lua_src = (const char *)*script;
			job->lua_len = len;
			return 0;
		}
		return cli_failf(CMD, "%s is not the algorithm the request pins (%s): its hash differs",
				 x->o->algorithm_file, algohex);
	}
	return cli_failf(CMD, "algorithm %s is not a built-in one; give its script with "
			      "--algorithm-file SCRIPT",
			 algohex);
}

static int find_patient(const struct lb_xchg_patient *p, size_t n, const uint8_t id[LB_HASH_LEN])
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(p[mid].id, id, LB_HASH_LEN);
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The owner's table for the request r: it must be the registered data (content hash); its
 * patients with their commitments (salt_key: the asset's). */
static int load_table(const struct xctx *x, json_t *r, const uint8_t content[LB_HASH_LEN],
		      const uint8_t asset[LB_HASH_LEN], const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN],
		      const char *pcol, uint8_t **data, size_t *dlen, struct lb_xchg_patient **pats,
		      size_t *npats)
{
	uint8_t h[LB_HASH_LEN];
	struct lb_errmsg em;
	lb_errclear(&em);
	if (cli_read_file(CMD, x->o->data, (size_t)1 << 31, data, dlen))
		return 1;
	lb_hash(h, *data, *dlen);
	if (memcmp(h, content, LB_HASH_LEN))
		return cli_failf(CMD, "%s is not the data registered as asset %s (its hash differs)",
				 x->o->data, json_string_value(json_object_get(r, "asset")));
	if (lb_xchg_csv_patients(*data, *dlen, pcol, asset, salt_key, pats, npats, &em))
		return cli_fail(CMD, &em, "the table needs a header line and a patient id column (--patient-column)");
	return 0;
}

/* Wipe and free what load_table gave. */
static void wipe_table(uint8_t *data, size_t dlen, struct lb_xchg_patient *pats, size_t npats)
{
	if (pats)
		sodium_memzero(pats, npats * sizeof *pats);
	lb_free(pats);
	if (data)
		sodium_memzero(data, dlen);
	lb_free(data);
}

/* Off-site and integrated runs, at the asset's owner: seal the asset to the executor named in
 * the escrow (the node key of the node at --to, bound to that address) and deliver it there
 * with the patients by pseudonym; that node accepts it only if the chain allows the run. */
static int x_send(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t req[LB_HASH_LEN], esc[LB_HASH_LEN], asset[LB_HASH_LEN], content[LB_HASH_LEN],
		exec[LB_ADDR_LEN], npk[LB_PUBKEY_LEN], naddr[LB_ADDR_LEN],
		xpk[LB_ENVELOPE_PKBYTES], msg[LB_HASH_LEN], sig[LB_SIG_LEN];
	uint8_t *data = NULL, *sealed = NULL, *ids = NULL, *ssalt = NULL;
	uint8_t skey[LB_XCHG_SALT_KEY_LEN] = {0};
	size_t dlen = 0, slen = 0, npats = 0, sslen = 0;
	struct lb_xchg_patient *pats = NULL;
	json_t *r = NULL, *e = NULL, *st = NULL, *plan = NULL, *body = NULL, *ans = NULL;
	char *sh = NULL, *ssh = NULL;
	struct lb_errmsg em;
	int rc;
	lb_errclear(&em);
	if ((rc = need(o->request, "--request ID", "send")) ||
	    (rc = hash_arg(o->request, "--request", req)) ||
	    (rc = need(o->escrow, "--escrow ID", "send")) ||
	    (rc = hash_arg(o->escrow, "--escrow", esc)) ||
	    (rc = need(o->data, "--data FILE", "send")) || (rc = need(o->to, "--to URL", "send")) ||
	    (rc = load_key(x)))
		goto out;
	if ((rc = getf(x, &r, "/v1/exchange/requests/%s", o->request)) ||
	    (rc = getf(x, &e, "/v1/exchange/escrows/%s", o->escrow)))
		goto out;
	const char *ex = json_string_value(json_object_get(e, "executor"));
	if (lb_hex_decode(asset, LB_HASH_LEN, json_string_value(json_object_get(r, "asset"))) ||
	    lb_hex_decode(content, LB_HASH_LEN, json_string_value(json_object_get(
							json_object_get(r, "offer"), "content_hash"))) ||
	    addr_of(e, "executor", exec)) {
		rc = cli_failf(CMD, "the node's view of request %s or escrow %s is incomplete",
			       o->request, o->escrow);
		goto out;
	}
	/* the executor's node: its node key must be the escrow's executor */
	if ((rc = cli_api_get(CMD, o->to, "/v1/status", &st)))
		goto out;
	const char *pkh = json_string_value(json_object_get(st, "node_key"));
	if (!pkh || lb_hex_decode(npk, sizeof npk, pkh)) {
		rc = cli_failf(CMD, "the node at %s does not show its node key (GET /v1/status)", o->to);
		goto out;
	}
	lb_addr_from_pubkey(naddr, npk);
	if (memcmp(naddr, exec, LB_ADDR_LEN)) {
		char na[LB_ADDR_TEXT_LEN + 1];
		lb_addr_encode(na, naddr);
		rc = cli_failf(CMD, "the node at %s runs with key %s, but escrow %s names executor %s; "
				    "deliver to the executor's own node",
			       o->to, na, o->escrow, ex);
		goto out;
	}
	const char *pcol = o->patient_column ? o->patient_column : "patient_id";
	if (lb_xchg_salt_key(o->home, asset, true, skey, &em)) {
		rc = cli_fail(CMD, &em, NULL);
		goto out;
	}
	if ((rc = load_table(x, r, content, asset, skey, pcol, &data, &dlen, &pats, &npats)))
		goto out;
	if (!(ids = lb_malloc(npats ? npats * LB_HASH_LEN : 1))) {
		rc = cli_failf(CMD, "out of memory");
		goto out;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < npats; i++) {
		char ph[2 * LB_HASH_LEN + 1];
		memcpy(ids + i * LB_HASH_LEN, pats[i].id, LB_HASH_LEN);
		hex32(ph, pats[i].id);
		json_array_append_new(arr, json_string(ph));
	}
	/* the same check the executor's node makes before it accepts, here first */
	if ((rc = check(x, o->request, ex, ids, npats, &plan))) {
		json_decref(arr);
		rc = cli_failf(CMD, "the chain does not allow this run yet; nothing was sent");
		goto out;
	}
	/* the table and the asset's salt key, each sealed to the executor's key */
	if (lb_envelope_pk_from_ed25519(xpk, npk) ||
	    lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])xpk, 1, data, dlen, &sealed,
			     &slen, &em) ||
	    lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])xpk, 1, skey, sizeof skey,
			     &ssalt, &sslen, &em)) {
		json_decref(arr);
		rc = cli_fail(CMD, &em, NULL);
		goto out;
	}
	lb_xchg_input_digest(msg, req, esc, exec, sealed, slen, ids, npats, pcol, ssalt, sslen);
	lb_sign(sig, msg, sizeof msg, &x->kp);
	char kh[2 * LB_PUBKEY_LEN + 1], sgh[2 * LB_SIG_LEN + 1], path[200];
	lb_hex_encode(kh, x->kp.pk, LB_PUBKEY_LEN);
	lb_hex_encode(sgh, sig, LB_SIG_LEN);
	if (!(sh = lb_malloc(2 * slen + 1))) {
		json_decref(arr);
		rc = cli_failf(CMD, "out of memory");
		goto out;
	}
	lb_hex_encode(sh, sealed, slen);
	if (!(ssh = lb_malloc(2 * sslen + 1))) {
		json_decref(arr);
		rc = cli_failf(CMD, "out of memory");
		goto out;
	}
	lb_hex_encode(ssh, ssalt, sslen);
	body = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s}", "escrow", o->escrow, "executor", ex,
			 "sealed", sh, "salt", ssh, "patients", arr, "patient_column", pcol, "pk", kh,
			 "sig", sgh);
	snprintf(path, sizeof path, "/v1/exchange/inputs/%s", o->request);
	if ((rc = cli_api_post(CMD, o->to, path, body, &ans)))
		goto out;
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "request", o->request, "executor",
				      ex, "to", o->to, "sealed_bytes", (json_int_t)slen, "patients",
				      (json_int_t)npats, "scenario",
				      json_string_value(json_object_get(plan, "scenario")));
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Delivered asset %s, sealed to executor %s (%zu bytes, %zu patients), to %s "
		       "for request %s\n",
		       json_string_value(json_object_get(r, "asset")), ex, slen, npats, o->to,
		       o->request);
	}
out:
	json_decref(ans);
	json_decref(body);
	json_decref(plan);
	json_decref(st);
	json_decref(e);
	json_decref(r);
	lb_free(sh);
	lb_free(ssh);
	lb_free(sealed);
	lb_free(ssalt);
	lb_free(ids);
	sodium_memzero(skey, sizeof skey);
	wipe_table(data, dlen, pats, npats);
	return rc;
}

static int cmp_patient_id(const void *a, const void *b)
{
	return memcmp(((const struct lb_xchg_patient *)a)->id,
		      ((const struct lb_xchg_patient *)b)->id, LB_HASH_LEN);
}

/* The input the asset's owner delivered to this node for --request (leben exchange send):
 * sealed to this key, for --escrow; its patients by commitment, sorted; the asset's salt key
 * opened with this key (into skey). */
static int delivered_input(struct xctx *x, json_t **inp, uint8_t **sealed, size_t *slen,
			   struct lb_xchg_patient **pats, size_t *npats,
			   uint8_t skey[LB_XCHG_SALT_KEY_LEN])
{
	const struct xopts *o = x->o;
	if (getf(x, inp, "/v1/exchange/inputs/%s", o->request)) {
		fprintf(stderr, "  hint: give --data FILE to run on the asset at its owner (local), or "
				"ask the owner to deliver it here with 'leben exchange send'\n");
		return 1;
	}
	const char *ex = json_string_value(json_object_get(*inp, "executor"));
	const char *es = json_string_value(json_object_get(*inp, "escrow"));
	json_t *pa = json_object_get(*inp, "patients");
	if (!ex || strcmp(ex, x->addr_text))
		return cli_failf(CMD, "the input delivered for request %s is sealed to %s, not to this "
				      "key (%s)", o->request, ex ? ex : "?", x->addr_text);
	if (!es || strcmp(es, o->escrow))
		return cli_failf(CMD, "the input delivered for request %s is for escrow %s, not %s",
				 o->request, es ? es : "?", o->escrow);
	if (!json_string_value(json_object_get(*inp, "patient_column")) ||
	    lb_hex_decode_alloc(json_string_value(json_object_get(*inp, "sealed")), sealed, slen,
				(size_t)1 << 31))
		return cli_failf(CMD, "the input delivered for request %s is unreadable", o->request);
	*npats = json_array_size(pa);
	if (!(*pats = lb_calloc(*npats ? *npats : 1, sizeof **pats)))
		return cli_failf(CMD, "out of memory");
	for (size_t i = 0; i < *npats; i++)
		if (lb_hex_decode((*pats)[i].id, LB_HASH_LEN, json_string_value(json_array_get(pa, i))))
			return cli_failf(CMD, "the input delivered for request %s names a bad patient "
					      "id", o->request);
	qsort(*pats, *npats, sizeof **pats, cmp_patient_id);
	uint8_t *ss = NULL, *plain = NULL, xpk[LB_ENVELOPE_PKBYTES], xsk[LB_ENVELOPE_SKBYTES];
	size_t sslen = 0, plen = 0;
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_hex_decode_alloc(json_string_value(json_object_get(*inp, "salt")), &ss, &sslen,
				     4096)
			 ? cli_failf(CMD, "the input delivered for request %s has no sealed salt key",
				     o->request)
			 : 0;
	if (!rc && (lb_envelope_keypair_from_ed25519_seed(xpk, xsk, x->kp.sk) ||
		    lb_envelope_open(xsk, xpk, ss, sslen, 64, &plain, &plen, &em) ||
		    plen != LB_XCHG_SALT_KEY_LEN))
		rc = cli_fail(CMD, &em, "the delivered salt key does not open with this key");
	if (!rc)
		memcpy(skey, plain, LB_XCHG_SALT_KEY_LEN);
	sodium_memzero(xsk, sizeof xsk);
	if (plain)
		sodium_memzero(plain, plen);
	lb_free(plain);
	lb_free(ss);
	return rc;
}

static int x_run(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t req[LB_HASH_LEN], esc[LB_HASH_LEN], asset[LB_HASH_LEN], algo[LB_HASH_LEN],
		content[LB_HASH_LEN], exec_id[LB_HASH_LEN], res_id[LB_HASH_LEN],
		done_id[LB_HASH_LEN], xpk[LB_ENVELOPE_PKBYTES], xsk[LB_ENVELOPE_SKBYTES];
	uint8_t *data = NULL, *ids = NULL, *keep = NULL, *rtx = NULL, *rproof = NULL, *sealed = NULL;
	uint8_t *reqtx = NULL, *reqproof = NULL, *script = NULL, *sealed_in = NULL;
	uint8_t *sreason = NULL, *saudit = NULL; /* the sealed reason and owner's audit record */
	size_t srlen = 0, salen = 0;
	char why[600] = ""; /* the full reason: sealed to the user and the owner, never public */
	size_t dlen, npats = 0, nkeep = 0, nexcl = 0, rtxlen, rplen, slen, qlen, qplen, inlen;
	struct lb_xchg_patient *pats = NULL;
	const char **excl = NULL;
	bool *left_out = NULL;
	json_t *r = NULL, *plan = NULL, *e = NULL, *params = NULL, *inp = NULL;
	uint8_t *xids = NULL; /* excluded patients of a delivered input, by commitment */
	size_t nxids = 0;
	uint8_t skey[LB_XCHG_SALT_KEY_LEN] = {0}; /* the asset's salt key */
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	struct lb_release rel;
	struct lb_release_history *hist = NULL; /* this executor's releases, for the release check */
	bool have_rep = false, have_rel = false;
	struct lb_buf b;
	struct lb_errmsg em, hem;
	struct lb_abe_pk res_pk;  /* the request's result policy (if any): its authority ... */
	char *res_vpol = NULL;    /* ... and the policy at the current attribute epochs */
	int rc;
	lb_errclear(&hem);
	memset(&job, 0, sizeof job);
	memset(&rep, 0, sizeof rep);
	memset(&rel, 0, sizeof rel);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	lb_errclear(&em);
	if ((rc = need(o->request, "--request ID", "run")) ||
	    (rc = hash_arg(o->request, "--request", req)) ||
	    (rc = need(o->escrow, "--escrow ID", "run")) || (rc = hash_arg(o->escrow, "--escrow", esc)) ||
	    (rc = load_key(x)))
		goto out;
	/* 1. the request, its asset and algorithm; the data must be the registered data */
	if ((rc = getf(x, &r, "/v1/exchange/requests/%s", o->request)))
		goto out;
	json_t *offer = json_object_get(r, "offer");
	const char *algohex = json_string_value(json_object_get(r, "algorithm"));
	if (lb_hex_decode(asset, LB_HASH_LEN, json_string_value(json_object_get(r, "asset"))) ||
	    !algohex || lb_hex_decode(algo, LB_HASH_LEN, algohex) ||
	    lb_hex_decode(content, LB_HASH_LEN,
			  json_string_value(json_object_get(offer, "content_hash")))) {
		rc = cli_failf(CMD, "the node's view of request %s is incomplete (is the asset still offered?)",
			       o->request);
		goto out;
	}
	if ((rc = pick_algorithm(x, algo, algohex, &job, &script)))
		goto out;
	/* the request tx itself: the user's key (to seal the result to) and the parameters the
	 * owner approved with the request */
	struct lb_tx rq;
	struct lb_xchg_request *rp = lb_malloc(sizeof *rp);
	if (!rp || (rc = receipt(x, req, NULL, &reqtx, &qlen, &reqproof, &qplen)) ||
	    lb_tx_decode(&rq, reqtx, qlen, &em) ||
	    lb_xchg_request_decode(rp, rq.payload, rq.payload_len, &em)) {
		lb_free(rp);
		rc = rc ? rc : cli_fail(CMD, &em, NULL);
		goto out;
	}
	if (rp->params[0])
		params = json_loads(rp->params, 0, NULL);
	if (rp->result_policy[0]) {
		/* the result is to be sealed to a CP-ABE policy, at the attributes' current epochs:
		 * the authority's parameters are fetched before anything runs */
		char ahex[65];
		lb_hex_encode(ahex, rp->result_authority, 32);
		lb_errclear(&em);
		if ((rc = abe_cli_policy(o->home, x->url, o->from, ahex, rp->result_policy, NULL,
					 &res_pk, &res_vpol, &em))) {
			lb_free(rp);
			rc = cli_fail(CMD, &em,
				      "the request names a result policy this node cannot seal to; "
				      "nothing ran and nothing was charged");
			goto out;
		}
	}
	lb_free(rp);
	const char *pcol = o->patient_column ? o->patient_column : "patient_id";
	if (!o->data) {
		/* off-site / integrated: the owner delivered its data to this node, sealed to this
		 * executor's key, with the patients it holds by pseudonym */
		if ((rc = delivered_input(x, &inp, &sealed_in, &inlen, &pats, &npats, skey)))
			goto out;
		pcol = json_string_value(json_object_get(inp, "patient_column"));
	} else {
		/* local: at the owner, whose home keeps the asset's salt key (made now if the
		 * asset's patients were never registered: then none has consented) */
		if (lb_xchg_salt_key(o->home, asset, true, skey, &em)) {
			rc = cli_fail(CMD, &em, NULL);
			goto out;
		}
		if ((rc = load_table(x, r, content, asset, skey, pcol, &data, &dlen, &pats, &npats)))
			goto out;
	}
	ids = lb_malloc(npats ? npats * LB_HASH_LEN : 1);
	keep = lb_malloc(npats ? npats * LB_HASH_LEN : 1);
	xids = lb_malloc(npats ? npats * LB_HASH_LEN : 1);
	excl = lb_calloc(npats ? npats : 1, sizeof *excl);
	left_out = lb_calloc(npats ? npats : 1, sizeof *left_out);
	if (!ids || !keep || !xids || !excl || !left_out) {
		rc = cli_failf(CMD, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < npats; i++)
		memcpy(ids + i * LB_HASH_LEN, pats[i].id, LB_HASH_LEN);
	/* 2. what the chain will check: approval, execution right, consents (patients without
	 * consent, or who revoked it, left out) */
	if ((rc = check(x, o->request, x->addr_text, ids, npats, &plan))) {
		rc = cli_failf(CMD, "the run was refused before anything ran; nothing was released or "
				    "charged (the user can refund escrow %s after its timeout)",
			       o->escrow);
		goto out;
	}
	/* left out: patients the run may not use (no consent, revoked), and those whose privacy
	 * budget is spent */
	json_t *revoked = json_copy(json_object_get(plan, "excluded"));
	json_array_extend(revoked, json_object_get(plan, "patients_over_budget"));
	for (size_t i = 0; i < json_array_size(revoked); i++) {
		uint8_t rid[LB_HASH_LEN];
		int k;
		if (!lb_hex_decode(rid, LB_HASH_LEN, json_string_value(json_array_get(revoked, i))) &&
		    (k = find_patient(pats, npats, rid)) >= 0 && !left_out[k]) {
			if (inp) /* known here by commitment only: the jail finds the rows */
				memcpy(xids + nxids++ * LB_HASH_LEN, rid, LB_HASH_LEN);
			else
				excl[nexcl++] = pats[k].local;
			left_out[k] = true;
		}
	}
	json_decref(revoked);
	for (size_t i = 0; i < npats; i++)
		if (!left_out[i])
			memcpy(keep + nkeep++ * LB_HASH_LEN, pats[i].id, LB_HASH_LEN);
	/* 3. the escrow must hold what the exchange asks, for this executor */
	if ((rc = getf(x, &e, "/v1/exchange/escrows/%s", o->escrow)))
		goto out;
	struct lb_xchg_exec ex = {0};
	memcpy(ex.request, req, LB_HASH_LEN);
	memcpy(ex.escrow, esc, LB_HASH_LEN);
	if (addr_of(e, "user", ex.terms.user) || addr_of(e, "owner", ex.terms.owner) ||
	    addr_of(e, "author", ex.terms.author) || addr_of(e, "executor", ex.terms.executor) ||
	    lb_hex_decode(ex.terms.request, LB_HASH_LEN,
			  json_string_value(json_object_get(e, "request")))) {
		rc = cli_failf(CMD, "escrow %s is unreadable", o->escrow);
		goto out;
	}
	const char *est = json_string_value(json_object_get(e, "status"));
	if (!est || strcmp(est, "open")) {
		rc = cli_failf(CMD, "escrow %s is %s, not open: nothing to run for", o->escrow,
			       est ? est : "?");
		goto out;
	}
	ex.terms.data_fee = jint(e, "data_fee");
	ex.terms.algo_fee = jint(e, "algo_fee");
	ex.terms.compute_fee = jint(e, "compute_fee");
	ex.scenario = (uint8_t)lb_xchg_scenario_parse(json_string_value(json_object_get(plan, "scenario")));
	ex.chosen_by = strcmp(json_string_value(json_object_get(plan, "chosen_by")), "user") ? 2 : 1;
	ex.n_patients = nkeep;
	ex.patients = keep;
	/* 3b. record the execution before anything runs: the chain checks everything again and
	 * charges the privacy budget (a run past it is refused here, before any release); the
	 * record commits to this executor's noise secret, which the block holding it completes */
	uint8_t noise_r[LB_HASH_LEN], noise_key[LB_HASH_LEN], exec_block[LB_HASH_LEN];
	randombytes_buf(noise_r, sizeof noise_r);
	lb_xchg_noise_commit(ex.noise_commit, noise_r);
	if (lb_xchg_exec_encode(&b, &ex) ||
	    (rc = send_tx(x, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, exec_id))) {
		rc = rc ? rc : cli_failf(CMD, "the execution record is too large (at most %d patients)",
					 LB_XCHG_PATIENTS_MAX);
		fprintf(stderr, "  nothing ran and nothing was released; the user can refund escrow %s "
				"after its timeout\n",
			o->escrow);
		goto out;
	}
	if ((rc = tx_block_hash(x, exec_id, exec_block)))
		goto out;
	lb_xchg_noise_key(noise_key, noise_r, exec_block);
	/* 4. run in the sandbox: the data goes in sealed to this executor's key and is opened only
	 * inside the jail, which also leaves out the revoked patients' rows */
	if (lb_envelope_keypair_from_ed25519_seed(xpk, xsk, x->kp.sk) ||
	    (!inp && lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])xpk, 1, data, dlen,
				      &sealed_in, &inlen, &em))) {
		sodium_memzero(xsk, sizeof xsk);
		rc = cli_fail(CMD, &em, NULL);
		goto out;
	}
	job.params = params;
	job.input.data = sealed_in;
	job.input.len = inlen;
	job.input.sealed = true;
	job.open_sk = xsk;
	job.open_pk = xpk;
	job.min_cohort = (unsigned)jint(plan, "min_cohort");
	job.patient_col = pcol;
	job.exclude = excl;
	job.nexclude = nexcl;
	job.exclude_ids = xids;
	job.nexclude_ids = nxids;
	job.asset = asset;
	job.salt_key = skey;
	job.noise = jint(plan, "epsilon") > 0; /* scripts may not read exact values under noise */
	struct lb_xchg_result res = {0};
	memcpy(res.request, req, LB_HASH_LEN);
	memcpy(res.escrow, esc, LB_HASH_LEN);
	lb_xchg_terms_hash(&ex.terms, res.terms_hash);
	lb_errclear(&em);
	/* the executor's release history of this user on the asset: earlier released record sets
	 * make filters sticky inside the jail, and the release check compares against them */
	char user_text[LB_ADDR_TEXT_LEN + 1], hist_path[4096];
	struct lb_prov_set *prior = NULL;
	size_t nprior = 0;
	lb_addr_encode(user_text, ex.terms.user);
	snprintf(hist_path, sizeof hist_path, "%s/exchange", o->home);
	if (lb_mkdirs(hist_path, 0700, &hem) == LB_OK) {
		snprintf(hist_path, sizeof hist_path, "%s/exchange/releases.db", o->home);
		if (lb_release_history_open(hist_path, &hist, &hem) == LB_OK &&
		    lb_release_history_sets(hist, user_text, json_string_value(json_object_get(r, "asset")),
					    &prior, &nprior, &hem)) {
			lb_release_history_close(hist); /* unreadable: the run is withheld below */
			hist = NULL;
		}
	}
	job.prior = prior;
	job.nprior = nprior;
	int src = lb_sandbox_run(&job, &rep, &em);
	lb_prov_sets_free(prior, nprior);
	sodium_memzero(xsk, sizeof xsk);
	sodium_memzero(skey, sizeof skey);
	have_rep = src == LB_OK || rep.status != LB_SANDBOX_OK || rep.result;
	if (src != LB_OK) {
		res.status = LB_XCHG_FAILED;
		res.reason = failed_code(have_rep, rep.status);
		snprintf(why, sizeof why, "the run failed (%s): %.500s",
			 have_rep ? lb_sandbox_status_name(rep.status) : "setup",
			 rep.reason[0] ? rep.reason : em.text);
	} else {
		/* 5. the owner's output policy decides what the user may see: the release check runs
		 * on the provenance the jail sent (what every number was computed over), against this
		 * user's earlier releases on the asset (<home>/exchange/releases.db) */
		struct lb_policy pol;
		lb_policy_default(&pol);
		pol.min_cohort = (unsigned)jint(plan, "min_cohort");
		pol.max_output = (size_t)jint(plan, "max_output");
		lb_errclear(&em);
		have_rel = true;
		struct lb_dp_budget *dpb = NULL;
		if ((rc = offer_noise(&pol, plan, noise_key, &dpb, &em))) {
			rc = cli_fail(CMD, &em, NULL);
			goto out;
		}
		struct lb_release_opts ro = {.budget = dpb, .history = hist, .user = user_text,
					     .asset = json_string_value(json_object_get(r, "asset"))};
		if (!hist) {
			memset(&rel, 0, sizeof rel);
			rel.code = LB_EIO;
			snprintf(rel.reason, sizeof rel.reason,
				 "the release history cannot be opened: %.400s", hem.text);
			res.status = LB_XCHG_WITHHELD;
			res.reason = LB_XCHG_REASON_POLICY;
			snprintf(why, sizeof why, "%.500s", rel.reason);
		} else if (lb_policy_release(&pol, rep.result, rep.prov, &ro, &rel, &em) == LB_OK) {
			res.status = LB_XCHG_DELIVERED;
		} else {
			res.status = LB_XCHG_WITHHELD;
			res.reason = withheld_code(&rel);
			snprintf(why, sizeof why, "%.500s", rel.reason[0] ? rel.reason : em.text);
		}
		lb_policy_noise_seed(NULL);
		lb_dp_budget_close(dpb);
	}
	/* 6. seal the released result to the user, the full reason to the user and the owner, the
	 * noise secret to the owner; leave them with the node; record the result on the chain with
	 * its status and reason code only (no text, no values) */
	{
		uint8_t upk[LB_ENVELOPE_PKBYTES], opk[LB_ENVELOPE_PKBYTES], okey[LB_PUBKEY_LEN];
		if (lb_envelope_pk_from_ed25519(upk, rq.sender) ||
		    lb_hex_decode(okey, sizeof okey, json_string_value(json_object_get(offer, "owner_key"))) ||
		    lb_envelope_pk_from_ed25519(opk, okey)) {
			rc = cli_failf(CMD, "the keys of the user or the asset's owner are unreadable");
			goto out;
		}
		if (res.status == LB_XCHG_DELIVERED) {
			if (res_vpol ? lb_release_seal_policy(&rel, &res_pk, res_vpol, &sealed, &slen,
							      &em)
				     : lb_release_seal(&rel, upk, &sealed, &slen, &em)) {
				rc = cli_fail(CMD, &em, NULL);
				goto out;
			}
			/* the chain binds the envelope the user fetches, not the plaintext: a hash of a
			 * short result could be guessed */
			lb_hash(res.result_hash, sealed, slen);
		}
		if ((rc = seal_reason(o->request, &res, why, have_rep ? lb_sandbox_status_name(rep.status)
								     : "setup",
				      upk, opk, &sreason, &srlen, &em)) ||
		    (rc = seal_audit(o->request, noise_r, ex.noise_commit, exec_block, opk, &saudit,
				     &salen, &em))) {
			rc = cli_fail(CMD, &em, NULL);
			goto out;
		}
		if ((rc = upload_sealed(x, o->request, req, sealed, slen, sreason, srlen, saudit, salen)))
			goto out;
	}
	sodium_memzero(noise_r, sizeof noise_r);
	sodium_memzero(noise_key, sizeof noise_key);
	if (have_rep) { /* metered compute: what the sandbox measured */
		res.metered = 1;
		res.cpu_ms = rep.cpu_ms;
		res.peak_mem = rep.peak_rss;
	}
	lb_buf_reset(&b);
	if (lb_xchg_result_encode(&b, &res) ||
	    (rc = send_tx(x, LB_CHAIN_BUSINESS, LB_TX_XCHG_RESULT, &b, res_id))) {
		rc = rc ? rc : 1;
		goto out;
	}
	/* 7. settle: announce on the settlement chain, then release (or refund) citing the result */
	struct lb_escrow_claim cl;
	memcpy(cl.escrow, esc, LB_HASH_LEN);
	memcpy(cl.result_hash, res.result_hash, LB_HASH_LEN);
	lb_buf_reset(&b);
	if (lb_escrow_claim_encode(&b, &cl) ||
	    (rc = send_tx(x, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_CLAIM, &b, done_id))) {
		rc = rc ? rc : 1;
		goto out;
	}
	if ((rc = receipt(x, res_id, "settlement", &rtx, &rtxlen, &rproof, &rplen)))
		goto out;
	struct lb_escrow_cite ci = {.result_tx = rtx, .result_tx_len = rtxlen, .proof = rproof,
				    .proof_len = rplen};
	memcpy(ci.escrow, esc, LB_HASH_LEN);
	lb_buf_reset(&b);
	uint32_t settle = res.status == LB_XCHG_DELIVERED ? LB_TX_ESCROW_RELEASE : LB_TX_ESCROW_REFUND;
	if (lb_escrow_cite_encode(&b, &ci) ||
	    (rc = send_tx(x, LB_CHAIN_SETTLEMENT, settle, &b, done_id))) {
		rc = rc ? rc : 1;
		goto out;
	}
	char eh[2 * LB_HASH_LEN + 1], rh[2 * LB_HASH_LEN + 1], hh[2 * LB_HASH_LEN + 1],
		dh[2 * LB_HASH_LEN + 1];
	static const char *const st_names[] = {"?", "delivered", "withheld", "failed"};
	hex32(eh, exec_id);
	hex32(rh, res_id);
	hex32(hh, res.result_hash);
	hex32(dh, done_id);
	if (o->json) {
		json_t *j = json_pack(
			"{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:{s:s,s:I,s:I,s:I}}", "request",
			o->request, "status", st_names[res.status], "reason", why, "algorithm",
			job.algorithm ? job.algorithm : "lua", "scenario",
			lb_xchg_scenario_name(ex.scenario), "exec_tx", eh, "result_tx", rh,
			"result_hash", hh, "patients_used", (json_int_t)nkeep, "patients_left_out",
			(json_int_t)(npats - nkeep),
			res.status == LB_XCHG_DELIVERED ? "release_tx" : "refund_tx", dh, "sandbox",
			"status", have_rep ? lb_sandbox_status_name(rep.status) : "setup", "wall_ms",
			(json_int_t)(rep.wall_ns / 1000000), "peak_rss", (json_int_t)rep.peak_rss,
			"rows_left_out", (json_int_t)rep.excluded);
		json_object_set(j, "chosen_by", json_object_get(plan, "chosen_by"));
		if (res_vpol && res.status == LB_XCHG_DELIVERED)
			json_object_set_new(j, "sealed_to_policy", json_string(res_vpol));
		json_object_set(j, "scenario_reason", json_object_get(plan, "scenario_reason"));
		cli_print_json(j);
		json_decref(j);
	} else if (res.status == LB_XCHG_DELIVERED) {
		const char *swhy = json_string_value(json_object_get(plan, "scenario_why"));
		printf("Ran %s in the sandbox on asset %s (%s scenario, chosen %s: %s) over %zu patients",
		       job.algorithm ? job.algorithm : "the script",
		       json_string_value(json_object_get(r, "asset")),
		       lb_xchg_scenario_name(ex.scenario),
		       ex.chosen_by == 1 ? "by the user" : "automatically", swhy ? swhy : "?", nkeep);
		if (npats > nkeep)
			printf(" (%zu left out: no consent given, or revoked)", npats - nkeep);
		if (res_vpol)
			printf(".\nResult %s sealed to the policy %s; escrow released (tx %s).\n", hh,
			       res_vpol, dh);
		else
			printf(".\nResult %s sealed to the user; escrow released (tx %s).\n", hh, dh);
	} else {
		printf("The result was %s: %s\nEscrow refunded to the user (tx %s).\n",
		       st_names[res.status], why, dh);
	}
	rc = 0;
out:
	if (have_rel)
		lb_release_release(&rel);
	lb_free(res_vpol);
	lb_release_history_close(hist);
	lb_sandbox_report_release(&rep);
	json_decref(params);
	json_decref(e);
	json_decref(plan);
	json_decref(r);
	json_decref(inp);
	lb_free(xids);
	lb_free(sealed);
	lb_free(sreason);
	lb_free(saudit);
	lb_free(sealed_in);
	lb_free(script);
	lb_free(reqtx);
	lb_free(reqproof);
	lb_free(rtx);
	lb_free(rproof);
	lb_free(keep);
	lb_free(ids);
	lb_free(excl);
	lb_free(left_out);
	sodium_memzero(skey, sizeof skey);
	wipe_table(data, dlen, pats, npats);
	lb_buf_release(&b);
	return rc;
}

static int x_refund(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_escrow_cite p = {0};
	uint8_t id[LB_HASH_LEN], rid[LB_HASH_LEN], *tx = NULL, *proof = NULL;
	size_t txlen = 0, plen = 0;
	struct lb_buf b;
	int rc;
	if ((rc = need(o->escrow, "--escrow ID", "refund")) ||
	    (rc = hash_arg(o->escrow, "--escrow", p.escrow)))
		return rc;
	if (o->result_tx) {
		if ((rc = hash_arg(o->result_tx, "--result-tx", rid)) ||
		    (rc = receipt(x, rid, "settlement", &tx, &txlen, &proof, &plen)))
			return rc;
		p.result_tx = tx;
		p.result_tx_len = txlen;
		p.proof = proof;
		p.proof_len = plen;
	}
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	rc = lb_escrow_cite_encode(&b, &p) ? 1
					   : send_tx(x, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_REFUND, &b, id);
	lb_buf_release(&b);
	lb_free(tx);
	lb_free(proof);
	if (!rc)
		say_sent(x, "Escrow refunded to the user", id);
	return rc;
}

/* ---- views --------------------------------------------------------------------------------- */

static int x_status(struct xctx *x)
{
	const struct xopts *o = x->o;
	json_t *j;
	int rc;
	if (o->request)
		rc = getf(x, &j, "/v1/exchange/requests/%s", o->request);
	else if (o->escrow)
		rc = getf(x, &j, "/v1/exchange/escrows/%s", o->escrow);
	else if (o->asset)
		rc = getf(x, &j, "/v1/exchange/offers/%s", o->asset);
	else
		return cli_failf(CMD, "'leben exchange status' needs --request ID, --escrow ID or --asset ID"), 2;
	if (rc)
		return rc;
	if (o->json)
		cli_print_json(j);
	else
		cli_print_human(j, 0);
	json_decref(j);
	return 0;
}

/* Open a sealed record of the node's result store (hex at key of s) with this key. */
static int open_sealed(struct xctx *x, json_t *s, const char *key, size_t max, uint8_t **plain,
		       size_t *plen, struct lb_errmsg *em)
{
	uint8_t xpk[LB_ENVELOPE_PKBYTES], xsk[LB_ENVELOPE_SKBYTES], *sealed = NULL;
	size_t slen;
	const char *h = json_string_value(json_object_get(s, key));
	if (!h)
		return lb_errf(em, LB_ENOTFOUND, "the node keeps no %s for this request", key);
	if (lb_hex_decode_alloc(h, &sealed, &slen, 4u << 20))
		return lb_errf(em, LB_ECORRUPT, "the node gave an unreadable %s", key);
	int rc = lb_envelope_keypair_from_ed25519_seed(xpk, xsk, x->kp.sk);
	if (!rc)
		rc = lb_envelope_open(xsk, xpk, sealed, slen, max, plain, plen, em);
	sodium_memzero(xsk, sizeof xsk);
	lb_free(sealed);
	return rc;
}

/* A result the request's user shared to an attribute policy (abe.share), opened with the ABE
 * key of --from: accepted only if the request's user sent it. */
static int result_by_policy(struct xctx *x, json_t *r)
{
	const struct xopts *o = x->o;
	struct lb_errmsg em;
	uint8_t *plain = NULL;
	size_t plen = 0;
	char policy[4096] = "";
	lb_errclear(&em);
	int rc = abe_cli_open_share(cli_home(o->home), x->url, o->from, o->request,
				    json_string_value(json_object_get(r, "user")), &plain, &plen,
				    policy, &em);
	if (rc)
		return cli_fail(CMD, &em,
				"the result is sealed to the user who made the request; a colleague "
				"opens it only if the user shared it to a policy their attribute key "
				"satisfies");
	if (o->out)
		rc = lb_file_write(o->out, plain, plen, 0600, &em) ? cli_fail(CMD, &em, NULL) : 0;
	else
		fwrite(plain, 1, plen, stdout);
	if (!rc && o->out)
		printf("Result (%zu bytes, shared by the request's user to '%s') written to %s\n",
		       plen, policy, o->out);
	sodium_memzero(plain, plen);
	lb_free(plain);
	return rc;
}

/* The sealed result of request r (the node's copy s), checked against the hash the business
 * chain records, as bytes (*sealed, caller frees). */
static int chain_checked(struct xctx *x, json_t *r, json_t *s, uint8_t **sealed, size_t *slen)
{
	uint8_t want[LB_HASH_LEN], got[LB_HASH_LEN];
	const char *rh = json_string_value(json_object_get(r, "result_hash"));
	const char *sh = json_string_value(json_object_get(s, "sealed"));
	if (!rh || lb_hex_decode(want, LB_HASH_LEN, rh) || !sh ||
	    lb_hex_decode_alloc(sh, sealed, slen, 4u << 20))
		return cli_failf(CMD, "the node gave no readable sealed result for request %s",
				 x->o->request);
	lb_hash(got, *sealed, *slen);
	if (!lb_ct_equal(got, want, LB_HASH_LEN))
		return cli_failf(CMD, "the sealed result of request %s does not match the hash "
				      "recorded on the business chain (%s): it was changed or replaced "
				      "at the node; refused, nothing opened",
				 x->o->request, rh);
	return 0;
}

/* A result the executor sealed to the request's CP-ABE policy: opened with the ABE key of
 * --from from the policy's authority, whoever made the request. */
static int result_to_policy(struct xctx *x, json_t *r, json_t *s)
{
	const struct xopts *o = x->o;
	struct lb_errmsg em;
	uint8_t *sealed = NULL, *plain = NULL;
	size_t slen = 0, plen = 0;
	const char *pol = json_string_value(
		json_object_get(json_object_get(r, "result_policy"), "policy"));
	lb_errclear(&em);
	int rc = chain_checked(x, r, s, &sealed, &slen);
	if (!rc && (rc = abe_cli_decrypt(o->home, x->url, o->from, sealed, slen, &plain, &plen,
					 &em))) {
		if (rc == LB_EDENIED)
			lb_errwrap(&em, "the result of request %s is sealed to the policy '%s' and the "
					"attributes of key '%s' do not satisfy it: ",
				   o->request, pol ? pol : "?", o->from);
		else if (rc == LB_ETAMPERED)
			lb_errwrap(&em, "the sealed result of request %s does not open with the ABE "
					"key of '%s' (a damaged result or a key pieced together from "
					"several keys): ",
				   o->request, o->from);
		rc = cli_fail(CMD, &em, NULL);
	}
	lb_free(sealed);
	if (rc)
		return rc;
	lb_release_unpad(plain, &plen); /* sealed results are padded to a size bucket */
	if (o->out) {
		if (lb_file_write(o->out, plain, plen, 0600, &em))
			rc = cli_fail(CMD, &em, NULL);
		else
			printf("Result (%zu bytes, sealed to the policy '%s', checked against the chain) "
			       "written to %s\n",
			       plen, pol ? pol : "?", o->out);
	} else {
		fwrite(plain, 1, plen, stdout);
		printf("\n");
	}
	sodium_memzero(plain, plen);
	lb_free(plain);
	return rc;
}

/* The user's result (or, with --as-owner, the owner's view of a run): the sealed reason opens
 * for the user and the owner; the released result for the user only, checked against the hash
 * the business chain records; the noise audit record for the owner only. */
static int x_result(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t *plain = NULL, *rtext = NULL, *atext = NULL, *sealed = NULL;
	size_t plen = 0, rlen = 0, alen = 0, slen = 0;
	json_t *r = NULL, *s = NULL, *why = NULL, *audit = NULL;
	struct lb_errmsg em;
	int rc;
	lb_errclear(&em);
	if ((rc = need(o->request, "--request ID", "result")) || (rc = load_key(x)) ||
	    (rc = getf(x, &r, "/v1/exchange/requests/%s", o->request)))
		goto out;
	const char *st = json_string_value(json_object_get(r, "status"));
	bool done = st && !strcmp(st, "done");
	if (!st || (!done && strcmp(st, "withheld") && strcmp(st, "failed"))) {
		rc = cli_failf(CMD, "request %s has no result yet (it is %s)", o->request, st ? st : "?");
		goto out;
	}
	if ((rc = getf(x, &s, "/v1/exchange/results/%s", o->request)))
		goto out;
	if (done && !o->as_owner && json_object_get(r, "result_policy")) {
		rc = result_to_policy(x, r, s);
		goto out;
	}
	json_error_t jerr;
	if ((rc = open_sealed(x, s, "reason", 65536, &rtext, &rlen, &em))) {
		if (rc == LB_EWRONGKEY && done && !o->as_owner) {
			rc = result_by_policy(x, r);
			goto out;
		}
		rc = cli_fail(CMD, &em, "only the user who made the request and the asset's owner can "
					"read why a run ended as it did");
		goto out;
	}
	why = json_loadb((const char *)rtext, rlen, 0, &jerr);
	const char *wtext = json_string_value(json_object_get(why, "reason"));
	const char *wname = json_string_value(json_object_get(why, "reason_name"));
	if (o->as_owner) {
		if (open_sealed(x, s, "owner_audit", 65536, &atext, &alen, &em) == LB_OK)
			audit = json_loadb((const char *)atext, alen, 0, &jerr);
		if (o->json) {
			json_t *j = json_pack("{s:s,s:s,s:O,s:O}", "request", o->request, "status", st,
					      "reason", why ? why : json_null(), "audit",
					      audit ? audit : json_null());
			cli_print_json(j);
			json_decref(j);
		} else {
			printf("Run of request %s: %s (%s)%s%s\n", o->request, st, wname ? wname : "?",
			       wtext && *wtext ? ": " : "", wtext ? wtext : "");
			if (audit)
				printf("Noise secret %s (committed in xchg.exec as %s; block %s)\n",
				       json_string_value(json_object_get(audit, "noise_r")),
				       json_string_value(json_object_get(audit, "noise_commit")),
				       json_string_value(json_object_get(audit, "exec_block_hash")));
		}
		rc = 0;
		goto out;
	}
	if (!done) {
		if (o->json) {
			cli_print_json(why);
		} else {
			printf("The run was %s (%s): %s\n", st, wname ? wname : "?", wtext ? wtext : "");
		}
		rc = cli_failf(CMD, "request %s has no delivered result (it is %s)", o->request, st);
		goto out;
	}
	const char *rh = json_string_value(json_object_get(r, "result_hash"));
	if ((rc = chain_checked(x, r, s, &sealed, &slen)))
		goto out;
	if (open_sealed(x, s, "sealed", 4u << 20, &plain, &plen, &em)) {
		rc = cli_fail(CMD, &em, "only the user who made the request can open its result");
		goto out;
	}
	lb_release_unpad(plain, &plen); /* sealed results are padded to a size bucket */
	if (o->share_policy) {
		uint8_t reqid[LB_HASH_LEN];
		char stx[65];
		if (lb_hex_decode(reqid, LB_HASH_LEN, o->request) ||
		    abe_cli_share(cli_home(o->home), x->url, o->from, o->abe_authority,
				  o->share_policy, reqid, plain, plen, stx, &em)) {
			rc = cli_fail(CMD, &em, "nothing was shared");
			goto out;
		}
		fprintf(stderr, "Result shared to '%s' (abe.share tx %s)\n", o->share_policy, stx);
	}
	if (o->out) {
		if (lb_file_write(o->out, plain, plen, 0600, &em)) {
			rc = cli_fail(CMD, &em, NULL);
			goto out;
		}
		printf("Result (%zu bytes, sealed result %s checked against the chain) written to %s\n",
		       plen, rh, o->out);
	} else {
		fwrite(plain, 1, plen, stdout);
		printf("\n");
	}
	rc = 0;
out:
	if (plain)
		sodium_memzero(plain, plen);
	lb_free(plain);
	lb_free(rtext);
	if (atext)
		sodium_memzero(atext, alen);
	lb_free(atext);
	lb_free(sealed);
	json_decref(audit);
	json_decref(why);
	json_decref(s);
	json_decref(r);
	return rc;
}

/* The privacy budget the chain has charged: a user's on an asset, or a patient's. */
static int x_budget(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t a[LB_ADDR_LEN], asset[LB_HASH_LEN];
	char subject[LB_ADDR_TEXT_LEN + 72];
	json_t *j;
	int rc;
	if (o->asset && (rc = hash_arg(o->asset, "--asset", asset)))
		return rc;
	if (o->user) {
		if ((rc = cli_resolve_address(CMD, o->home, o->user, a)))
			return rc;
		lb_addr_encode(subject, a);
	} else if (o->patient) {
		uint8_t pid[LB_HASH_LEN];
		if (!lb_addr_decode(a, o->patient, NULL)) {
			lb_addr_encode(subject, a);
		} else {
			if ((rc = patient_arg(o->home, o->patient, o->asset ? asset : NULL, pid)))
				return rc;
			hex32(subject, pid);
		}
	} else {
		return cli_failf(CMD, "'leben exchange budget' needs --user ADDRESS|KEY [--asset ID] or "
				      "--patient ID|ADDRESS [--asset ID]"), 2;
	}
	if ((rc = getf(x, &j, "/v1/exchange/budget/%s%s%s", subject, o->asset ? "/" : "",
		       o->asset ? o->asset : "")))
		return rc;
	if (o->json) {
		cli_print_json(j);
	} else {
		char e1[32], e2[32], e3[32];
		printf("Privacy budget of %s (epsilon, from the business chain)\n", subject);
		if (json_object_get(j, "spent_user"))
			printf("  as a user on asset %s: spent %s of %s (%s left)\n", o->asset,
			       cli_format_amount(jint(j, "spent_user"), e1, sizeof e1),
			       cli_format_amount(jint(j, "budget_user"), e2, sizeof e2),
			       cli_format_amount(jint(j, "budget_left_user"), e3, sizeof e3));
		printf("  as a patient, over all assets: spent %s", 
		       cli_format_amount(jint(j, "spent_patient"), e1, sizeof e1));
		if (json_object_get(j, "budget_patient"))
			printf(" (asset %s allows %s per patient)", o->asset,
			       cli_format_amount(jint(j, "budget_patient"), e2, sizeof e2));
		printf("\n");
		if (json_object_get(j, "epsilon"))
			printf("  one release on the asset costs %s\n",
			       cli_format_amount(jint(j, "epsilon"), e1, sizeof e1));
	}
	json_decref(j);
	return 0;
}

static int x_log(struct xctx *x)
{
	const struct xopts *o = x->o;
	uint8_t subject[LB_HASH_LEN], asset[LB_HASH_LEN];
	bool have_asset = o->asset && !lb_hex_decode(asset, LB_HASH_LEN, o->asset);
	json_t *j;
	int rc;
	if (o->asset && !have_asset)
		return hash_arg(o->asset, "--asset", asset);
	if (o->patient) {
		if ((rc = patient_arg(o->home, o->patient, have_asset ? asset : NULL, subject)))
			return rc;
	} else if (o->request) {
		if ((rc = hash_arg(o->request, "--request", subject)))
			return rc;
	} else if (have_asset) {
		memcpy(subject, asset, LB_HASH_LEN);
	} else {
		return cli_failf(CMD, "'leben exchange log' needs --asset ID, --patient ID [--asset ID] or --request ID"), 2;
	}
	char sh[2 * LB_HASH_LEN + 1];
	hex32(sh, subject);
	if ((rc = getf(x, &j, "/v1/exchange/log/%s", sh)))
		return rc;
	if (o->json) {
		cli_print_json(j);
		json_decref(j);
		return 0;
	}
	size_t i;
	json_t *ev;
	printf("History of %s (%lld events, from the business chain)\n", sh,
	       (long long)json_integer_value(json_object_get(j, "count")));
	json_array_foreach(json_object_get(j, "events"), i, ev)
	{
		json_t *d = json_object_get(ev, "details");
		printf("  block %-6lld %-32s by %s\n",
		       (long long)json_integer_value(json_object_get(ev, "height")),
		       json_string_value(json_object_get(ev, "what")),
		       json_string_value(json_object_get(ev, "by")));
		const char *purpose = json_string_value(json_object_get(d, "purpose"));
		const char *action = json_string_value(json_object_get(d, "action"));
		const char *decision = json_string_value(json_object_get(d, "decision"));
		const char *status = json_string_value(json_object_get(d, "status"));
		if (purpose)
			printf("         for: %s\n", purpose);
		if (action)
			printf("         consent: %s\n", action);
		if (decision)
			printf("         decision: %s\n", decision);
		if (status)
			printf("         result: %s\n", status);
		json_t *pay = json_object_get(ev, "payment");
		if (pay) {
			char a[32], b2[32], c[32];
			printf("         paid: %s ASC data + %s ASC algorithm + %s CSC computing (escrow %s)\n",
			       cli_format_amount(jint(pay, "data_fee"), a, sizeof a),
			       cli_format_amount(jint(pay, "algo_fee"), b2, sizeof b2),
			       cli_format_amount(jint(pay, "compute_fee"), c, sizeof c),
			       json_string_value(json_object_get(pay, "escrow")));
		}
	}
	json_decref(j);
	return 0;
}

/* ---- the command ---------------------------------------------------------------------------- */


/* ---- audits by audit nodes ------------------------------------------------------------------------ */

static int x_audit_request(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_xchg_audit_req p = {0};
	uint8_t id[LB_HASH_LEN];
	struct lb_buf b;
	int rc;
	if ((rc = need(o->asset, "--asset ID", "audit-request")) ||
	    (rc = hash_arg(o->asset, "--asset", p.asset)) ||
	    (rc = need(o->auditor, "--auditor ADDRESS|KEY", "audit-request")) ||
	    (rc = cli_resolve_address(CMD, o->home, o->auditor, p.auditor)))
		return rc;
	lb_buf_init(&b, 128);
	rc = lb_xchg_audit_req_encode(&b, &p) ? 1
					       : send_tx(x, LB_CHAIN_BUSINESS, LB_TX_AUDIT_REQUEST, &b, id);
	lb_buf_release(&b);
	if (!rc)
		say_sent(x, "Audit asked of the audit node", id);
	return rc;
}

static int x_audit(struct xctx *x)
{
	const struct xopts *o = x->o;
	struct lb_xchg_audit_score p = {0};
	uint8_t id[LB_HASH_LEN], digest[LB_HASH_LEN], sig[LB_SIG_LEN], xpk[LB_ENVELOPE_PKBYTES],
		xsk[LB_ENVELOPE_SKBYTES], *sealed = NULL, *plain = NULL;
	size_t slen = 0, plen = 0;
	char pkh[2 * LB_PUBKEY_LEN + 1], sigh[2 * LB_SIG_LEN + 1], path[256];
	json_t *body = NULL, *ans = NULL, *rep = NULL, *offer = NULL;
	struct lb_errmsg em = {0};
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 256);
	if ((rc = need(o->asset, "--asset ID", "audit")) ||
	    (rc = hash_arg(o->asset, "--asset", p.asset)) ||
	    (rc = need(o->owner_node, "--owner-node URL", "audit")) || (rc = load_key(x)))
		goto out;
	/* the offered data (the audit must be of it) from this node's copy of the chain */
	if ((rc = getf(x, &offer, "/v1/exchange/offers/%s", o->asset)))
		goto out;
	const char *ch = json_string_value(json_object_get(offer, "content_hash"));
	if (!ch || lb_hex_decode(p.content, LB_HASH_LEN, ch)) {
		rc = cli_failf(CMD, "the offer of asset %s names no content hash", o->asset);
		goto out;
	}
	/* 1. the owner's node runs the audit in its sandbox and seals the report to this key */
	uint64_t now = lb_now_ms();
	lb_xchg_audit_run_digest(digest, p.asset, now);
	lb_sign(sig, digest, sizeof digest, &x->kp);
	lb_hex_encode(pkh, x->kp.pk, LB_PUBKEY_LEN);
	lb_hex_encode(sigh, sig, LB_SIG_LEN);
	body = json_pack("{s:s,s:I,s:s}", "pk", pkh, "time_ms", (json_int_t)now, "sig", sigh);
	snprintf(path, sizeof path, "/v1/exchange/audits/%s/run", o->asset);
	if ((rc = cli_api_post(CMD, o->owner_node, path, body, &ans)))
		goto out;
	if (lb_hex_decode_alloc(json_string_value(json_object_get(ans, "sealed")), &sealed, &slen,
				(size_t)1 << 24)) {
		rc = cli_failf(CMD, "the owner's node at %s sent no sealed report", o->owner_node);
		goto out;
	}
	if (lb_envelope_keypair_from_ed25519_seed(xpk, xsk, x->kp.sk) ||
	    lb_envelope_open(xsk, xpk, sealed, slen, (size_t)1 << 24, &plain, &plen, &em)) {
		rc = cli_failf(CMD, "the report from %s does not open with key %s: %s", o->owner_node,
			       o->from ? o->from : "node", em.text);
		goto out;
	}
	json_error_t jerr;
	rep = json_loadb((const char *)plain, plen, 0, &jerr);
	json_t *au = json_object_get(rep, "audit");
	json_t *sc = json_object_get(au, "score");
	const char *rc_hash = json_string_value(json_object_get(rep, "content_hash"));
	uint8_t rch[LB_HASH_LEN];
	if (!json_is_integer(sc) || json_integer_value(sc) < 0 || json_integer_value(sc) > 10000 ||
	    !rc_hash || lb_hex_decode(rch, LB_HASH_LEN, rc_hash)) {
		rc = cli_failf(CMD, "the report from %s is not an audit report", o->owner_node);
		goto out;
	}
	if (memcmp(rch, p.content, LB_HASH_LEN)) {
		rc = cli_failf(CMD, "the report from %s is of data %s, not of the offered data %s: "
				    "nothing recorded", o->owner_node, rc_hash, ch);
		goto out;
	}
	p.score = (uint64_t)json_integer_value(sc);
	lb_hash(p.report_hash, plain, plen);
	if (o->out && lb_file_write(o->out, plain, plen, 0600, &em)) {
		rc = cli_failf(CMD, "%s", em.text);
		goto out;
	}
	/* 2. sign the score and the report's hash on the chain */
	if (lb_xchg_audit_score_encode(&b, &p)) {
		rc = cli_failf(CMD, "could not encode audit.record");
		goto out;
	}
	if ((rc = send_tx(x, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, id)))
		goto out;
	char idh[2 * LB_HASH_LEN + 1], rh[2 * LB_HASH_LEN + 1];
	hex32(idh, id);
	hex32(rh, p.report_hash);
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:O}", "tx", idh, "asset", o->asset, "score",
				      (json_int_t)p.score, "report_hash", rh, "report", rep);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Audited asset %s at %s: score %.2f / 100 (report %s); recorded in tx %s\n",
		       o->asset, o->owner_node, (double)p.score / 100, rh, idh);
	}
out:
	sodium_memzero(xsk, sizeof xsk);
	if (plain) {
		sodium_memzero(plain, plen);
		lb_free(plain);
	}
	lb_free(sealed);
	json_decref(body);
	json_decref(ans);
	json_decref(rep);
	json_decref(offer);
	lb_buf_release(&b);
	return rc;
}

static void print_audit(const json_t *a)
{
	const char *st = json_string_value(json_object_get(a, "status"));
	printf("asset %s: ", json_string_value(json_object_get(a, "asset")));
	if (!st || !strcmp(st, "none")) {
		printf("not audited by an audit node (due)\n");
		return;
	}
	const char *name = json_string_value(json_object_get(a, "auditor_name"));
	printf("score %.2f / 100 by %s%s%s%s at business height %lld (time %lld ms), report %s, "
	       "%s until height %lld%s\n",
	       (double)json_integer_value(json_object_get(a, "score")) / 100,
	       json_string_value(json_object_get(a, "auditor")), name ? " (" : "", name ? name : "",
	       name ? ")" : "", (long long)json_integer_value(json_object_get(a, "height")),
	       (long long)json_integer_value(json_object_get(a, "time_ms")),
	       json_string_value(json_object_get(a, "report_hash")),
	       !strcmp(st, "valid") ? "valid" : "EXPIRED or outdated: was valid",
	       (long long)json_integer_value(json_object_get(a, "expires_height")),
	       !strcmp(st, "outdated") ? " (the offered data changed since: re-audit due)"
	       : !strcmp(st, "expired") ? " (re-audit due)"
					: "");
}

static int x_audits(struct xctx *x)
{
	const struct xopts *o = x->o;
	json_t *j = NULL;
	uint8_t a[LB_HASH_LEN];
	int rc;
	if (o->asset) {
		if ((rc = hash_arg(o->asset, "--asset", a)) ||
		    (rc = getf(x, &j, "/v1/exchange/audits/%s", o->asset)))
			return rc;
		if (o->json)
			cli_print_json(j);
		else
			print_audit(j);
		json_decref(j);
		return 0;
	}
	if ((rc = getf(x, &j, "/v1/exchange/audits")))
		return rc;
	if (o->json) {
		cli_print_json(j);
	} else {
		size_t i;
		json_t *v;
		printf("business height %lld, re-audit every %lld blocks; %zu offered assets, %zu due\n",
		       (long long)json_integer_value(json_object_get(j, "height")),
		       (long long)json_integer_value(json_object_get(j, "interval_blocks")),
		       json_array_size(json_object_get(j, "assets")),
		       json_array_size(json_object_get(j, "due")));
		json_array_foreach(json_object_get(j, "assets"), i, v)
			print_audit(v);
	}
	json_decref(j);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben exchange STEP [options]\n"
		"\n"
		"Exchange data without giving it away: the user gets the result of an algorithm run\n"
		"on your data; the data stays with you; every step is consented, paid and recorded.\n"
		"\n"
		"data owner:\n"
		"  offer    --from KEY --asset-tx TXID --price ASC [--min-cohort N] [--max-output BYTES]\n"
		"           [--data FILE | --data-bytes N] [--allow builtin:NAME|HASH,...] [--local-only]\n"
		"           [--epsilon E [--budget-user E] [--budget-patient E]]\n"
		"           [--opt-out --legal-basis TEXT]\n"
		"           offer a registered asset (TXID = its asset.register tx): price per run,\n"
		"           output policy and the algorithms you trust in advance (default: none);\n"
		"           with --epsilon each release gets Laplace noise of that privacy loss, and\n"
		"           the chain charges it to the user's budget on the asset (default 10 E) and\n"
		"           to each patient's budget over all assets (default 10 E) before the run;\n"
		"           consent is opt-in unless --opt-out names the legal basis that allows it\n"
		"  patients --from KEY --asset ID --data FILE --keys FILE.csv --out DIR\n"
		"           [--patient-column NAME]   register each patient's consent key (FILE.csv:\n"
		"           local_id,address lines) under a salted commitment and write the patients'\n"
		"           opening cards to DIR (the salt key stays in <home>/exchange/salts)\n"
		"  opening  --asset ID --patient LOCAL_ID [--out FILE]   a patient's opening card\n"
		"  grant    --from KEY --asset ID --executor ADDRESS|KEY [--kind own|node|provider]\n"
		"           let a node or computing provider run approved work on the asset\n"
		"  approve  --from KEY --request ID [--reason TEXT]   approve a request\n"
		"  reject   --from KEY --request ID [--reason TEXT]   reject a request\n"
		"  revoke   --from KEY --asset ID --executor ADDRESS|KEY   take an execution right back\n"
		"  revoke   --from KEY --request ID   take back a usage right that has not been used\n"
		"  revoke   --from KEY --asset ID   withdraw the offer (new requests are refused)\n"
		"algorithm author:\n"
		"  algo     --from KEY (--builtin NAME | --algorithm-file SCRIPT) --fee ASC [--name NAME]\n"
		"           [--at-author] [--heavy-deps]   register an algorithm and its fee (built-in\n"
		"           algorithms belong to the platform: usable without registration, no fee)\n"
		"data user:\n"
		"  request  --from KEY --asset ID --algorithm builtin:NAME|HASH --purpose TEXT\n"
		"           [--params JSON] [--scenario auto|local|off-site|integrated]\n"
		"           [--result-policy F [--authority ID]]\n"
		"           ask to run an algorithm (with its parameters, e.g. '{\"columns\":[\"age\"]}');\n"
		"           with --result-policy the executor seals the result to attribute policy F\n"
		"           of authority ID (default: the authority of --from's institution) instead\n"
		"           of to you: whoever holds a 'leben abe' key satisfying F opens it with\n"
		"           'exchange result --from KEY --request ID' (you too only if yours does)\n"
		"  escrow   --from KEY --request ID --executor ADDRESS|KEY --compute-fee CSC\n"
		"           [--timeout-blocks N]   lock the fees on the settlement chain (checked first)\n"
		"  result   --from KEY --request ID [--out FILE]   open your sealed result, or read\n"
		"           why the run was withheld or failed (sealed to you and the owner);\n"
		"           --share-policy F [--authority ID] also seals it to attribute policy F on\n"
		"           the chain (abe.share): a colleague whose 'leben abe' key satisfies F\n"
		"           opens it with 'exchange result --from THEIR_KEY --request ID'\n"
		"  refund   --from KEY --escrow ID [--result-tx TXID]   get the fees back after a\n"
		"           failed or withheld run, or once the escrow timed out\n");
	fprintf(f,
		"owner, for a run elsewhere (off-site at the algorithm's author, integrated at a\n"
		"computing provider):\n"
		"  send     --from KEY --request ID --escrow ID --data FILE --to URL\n"
		"           [--patient-column NAME]   seal the asset to the escrow's executor (the node\n"
		"           key of the node at URL) and deliver it there; that node accepts it only if\n"
		"           the chain holds the approval, the execution right and the consents\n"
		"patient:\n"
		"  consent  --from KEY (--opening CARD | --asset ID --patient ID)\n"
		"           [--revoke | --rebind ADDRESS|KEY]   give, revoke or move to a new key your\n"
		"           consent (only your registered key may; the owner may only revoke for you)\n"
		"executor:\n"
		"  run      --from KEY --request ID --escrow ID [--data FILE] [--patient-column NAME]\n"
		"           [--algorithm-file SCRIPT]   without --data: the input the owner delivered\n"
		"           to this node with 'send' (sealed to KEY, the node's own key 'node')\n"
		"           check, run in the sandbox (the data sealed, opened only inside it), apply the\n"
		"           owner's output policy, seal the result to the user, record it and release\n"
		"           the escrow (patients without consent are left out inside the sandbox)\n"
		"anyone:\n"
		"  result   --from KEY --request ID --as-owner   the owner reads why a run ended as\n"
		"           it did and the run's noise secret (to audit the noise)\n"
		"  status   --request ID | --escrow ID | --asset ID\n"
		"  budget   --user ADDRESS|KEY --asset ID | --patient ID|ADDRESS [--asset ID]\n"
		"           the privacy budget (epsilon) the chain has charged\n"
		"  log      --asset ID | --patient ID [--asset ID] | --request ID\n"
		"           the complete history: who used the data, for what, when, paid what\n"
		"  audits   [--asset ID]   who audited an offered asset, when, its score and whether\n"
		"           the audit is still valid; without --asset every offered asset and the\n"
		"           audits due\n"
		"audits by audit nodes:\n"
		"  audit-request --from KEY --asset ID --auditor ADDRESS|KEY   the owner asks an\n"
		"           audit node (a consortium member of kind audit) to audit an offered asset\n"
		"  audit    --from KEY --asset ID --owner-node URL [--out REPORT.json]   the audit\n"
		"           node has the owner's node run the audit of the data's format (CSV table,\n"
		"           FHIR, DICOM, text, image) in its sandbox (the data stays there; only the\n"
		"           report comes back, sealed to KEY), then signs the score\n"
		"           and the report's hash on the chain (audit.record)\n"
		"\n"
		"Co-owned assets (a co-owner policy, 'leben policy'): the owner's offer, grant,\n"
		"approve, reject and revoke need the co-owners' approval of the act first; add\n"
		"--print-act to print the act instead of sending, then 'leben policy sign' and\n"
		"'leben policy approve --act ACT', then send the step again without --print-act.\n"
		"\n"
		"IDs are 64 hex digits. --patient takes the patient's commitment, or (at the asset's\n"
		"owner, whose home keeps the salt key) the local patient id together with --asset.\n"
		"Amounts are credits, epsilon and budgets numbers, with up to 6 decimals.\n"
		"options for every step:\n"
		"  --home DIR     node home with your keys (default $LEBEN_HOME or ~/.leben)\n"
		"  --node URL     node API (default $LEBEN_NODE or the port in <home>/config.json)\n"
		"  --timeout S    how long to wait for each tx to be in a block (default 60)\n"
		"  --json         print JSON, for scripts\n"
		"\n"
		"example: examples/exchange-demo.sh runs the whole flow on a local node.\n");
}

int cmd_exchange(int argc, char **argv)
{
	struct xopts o = {0};
	const struct copt opts[] = {
		{"--home", &o.home, NULL}, {"--node", &o.node, NULL}, {"--json", NULL, &o.json},
		{"--help", NULL, &o.help}, {"-h", NULL, &o.help}, {"--from", &o.from, NULL},
		{"--asset", &o.asset, NULL}, {"--asset-tx", &o.asset_tx, NULL},
		{"--price", &o.price, NULL}, {"--min-cohort", &o.min_cohort, NULL},
		{"--max-output", &o.max_output, NULL}, {"--data-bytes", &o.data_bytes, NULL},
		{"--data", &o.data, NULL}, {"--allow", &o.allow, NULL},
		{"--local-only", NULL, &o.local_only}, {"--executor", &o.executor, NULL},
		{"--kind", &o.kind, NULL}, {"--algorithm", &o.algorithm, NULL},
		{"--algorithm-file", &o.algorithm_file, NULL}, {"--builtin", &o.builtin, NULL},
		{"--fee", &o.fee, NULL}, {"--name", &o.name, NULL},
		{"--at-author", NULL, &o.at_author}, {"--heavy-deps", NULL, &o.heavy_deps},
		{"--purpose", &o.purpose, NULL}, {"--scenario", &o.scenario, NULL},
		{"--request", &o.request, NULL}, {"--reason", &o.reason, NULL},
		{"--patient", &o.patient, NULL}, {"--revoke", NULL, &o.revoke},
		{"--escrow", &o.escrow, NULL}, {"--compute-fee", &o.compute_fee, NULL},
		{"--timeout-blocks", &o.timeout_blocks, NULL},
		{"--patient-column", &o.patient_column, NULL}, {"--out", &o.out, NULL},
		{"--result-tx", &o.result_tx, NULL}, {"--timeout", &o.timeout, NULL},
		{"--params", &o.params, NULL}, {"--print-act", NULL, &o.print_act},
		{"--to", &o.to, NULL}, {"--epsilon", &o.epsilon, NULL},
		{"--budget-user", &o.budget_user, NULL}, {"--budget-patient", &o.budget_patient, NULL},
		{"--user", &o.user, NULL}, {"--as-owner", NULL, &o.as_owner},
		{"--to", &o.to, NULL}, {"--keys", &o.keys, NULL}, {"--opening", &o.opening, NULL},
		{"--rebind", &o.rebind, NULL}, {"--opt-out", NULL, &o.opt_out},
		{"--legal-basis", &o.legal_basis, NULL}, {"--auditor", &o.auditor, NULL},
		{"--owner-node", &o.owner_node, NULL},
		{"--share-policy", &o.share_policy, NULL}, {"--authority", &o.abe_authority, NULL},
		{"--result-policy", &o.result_policy, NULL},
		{NULL, NULL, NULL},
	};
	const char *pos[1];
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, 1, &npos)))
		return rc;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (npos == 0) {
		usage(stderr);
		return 2;
	}
	struct xctx x = {.o = &o, .timeout_s = 60};
	uint64_t t;
	if (o.timeout) {
		if (count_arg(o.timeout, "--timeout", 60, &t) || t == 0)
			return 2;
		x.timeout_s = (double)t;
	}
	o.home = cli_home(o.home);
	x.url = cli_node_url(o.node, o.home);
	if (lb_crypto_init() || lb_register_txtypes())
		return cli_failf(CMD, "initialisation failed");
	static const struct {
		const char *name;
		int (*fn)(struct xctx *);
	} steps[] = {
		{"offer", x_offer},   {"grant", x_grant},   {"algo", x_algo},     {"request", x_request},
		{"consent", x_consent}, {"patients", x_patients}, {"opening", x_opening},
		{"escrow", x_escrow}, {"send", x_send}, {"run", x_run},   {"refund", x_refund},
		{"revoke", x_revoke},
		{"status", x_status}, {"result", x_result}, {"log", x_log}, {"budget", x_budget},
		{"audit-request", x_audit_request}, {"audit", x_audit}, {"audits", x_audits},
	};
	rc = -1;
	if (!strcmp(pos[0], "approve"))
		rc = x_decide(&x, 1);
	else if (!strcmp(pos[0], "reject"))
		rc = x_decide(&x, 2);
	for (size_t i = 0; rc < 0 && i < sizeof steps / sizeof steps[0]; i++)
		if (!strcmp(pos[0], steps[i].name))
			rc = steps[i].fn(&x);
	if (rc < 0) {
		cli_failf(CMD, "'%s' is not a step; 'leben exchange --help' lists them", pos[0]);
		rc = 2;
	}
	if (x.have_key)
		lb_keypair_wipe(&x.kp);
	return rc;
}
