/*
 * `leben study run`: one study over several owners' tables without pooling them. The
 * algorithm is decomposed into local steps whose partial sums are combined by secure
 * aggregation (lb_fed_run). With CSV files every owner is played on this machine; with node
 * URLs each owner's node runs its step (POST /v1/study/step) after checking the user's approved
 * request on the chain and answers a pairwise-masked partial, which this command adds up. The
 * combined result goes through the release policy like a sandbox result.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/algo.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/ledger.h"
#include "leben/sandbox.h"
#include "leben/secagg.h"
#include "leben/study.h"
#include "leben/api.h"
#include "leben/exchange.h"
#include "leben/tx.h"
#include "sandbox_cli.h"
#include "sectx.h"

#define SBX_MAX_OWNERS 64

static const char study_help[] =
	"usage: leben study run --owners T1.csv,T2.csv[,...] --algorithm stats|logreg|km\n"
	"                       [--params JSON] [--policy FILE.json] [--plain] [--sandboxed] [--json]\n"
	"       leben study run --owners URL1,URL2[,...] --requests ID1,ID2[,...] --key USER\n"
	"                       --algorithm stats|logreg|km --params JSON [--escrows E1,E2,...]\n"
	"                       [--compute-fee CSC] [--timeout-blocks N] [--policy FILE.json]\n"
	"                       [--home DIR] [--node URL] [--trace FILE] [--json]\n"
	"                       [--cohort ID --cohort-round N]\n"
	"\n"
	"Run one study over several institutions' tables without pooling them: the algorithm is\n"
	"split into steps that run at each owner, and only their partial sums travel, combined by\n"
	"secure aggregation so no single owner's partial result is seen. The combined result goes\n"
	"through the release policy.\n"
	"\n"
	"With CSV files, this command plays every owner on this machine (to try a study or check a\n"
	"decomposition). With node URLs, every owner's node runs its own step of each round in its\n"
	"sandbox over its registered asset (kept at exchange/assets/ASSET.csv in the node's home) as\n"
	"a run of USER's approved request (--requests, one per owner, in the same order): --params\n"
	"must be exactly the parameters approved with each request, and each request is used once.\n"
	"This command first opens an escrow for each request with the owner's node as executor (as\n"
	"'leben exchange escrow' does; or give them with --escrows). When the study starts, each\n"
	"node records the run (xchg.exec, the patients used: those whose consent allows it), holds\n"
	"its partial to its own minimum cohort, and masks it pairwise with the other owners' node\n"
	"keys; this command adds the masked partials and learns only their sum. At the end each node\n"
	"records the result (xchg.result) and settles its escrow (release, or refund if the study\n"
	"failed). An owner that stops answering is left out and the algorithm runs again from its\n"
	"first round over the others, while at least floor(n/2)+1 of the n owners remain. The start\n"
	"and the end of the study are also record txs ('study.start', 'study.done') signed by USER.\n"
	"\n"
	"  --owners LIST     comma-separated CSV files, one per owner (same column names), or the\n"
	"                    owners' node URLs (http://... or https://...)\n"
	"  --requests LIST   across nodes: USER's approved request ids, one per owner\n"
	"  --escrows LIST    across nodes: escrows already open for those requests, one per owner,\n"
	"                    each naming the owner's node key as executor [opened here]\n"
	"  --compute-fee CSC the computing fee each escrow opened here pays the owner's node [0]\n"
	"  --timeout-blocks N settlement blocks after which an escrow opened here can be refunded\n"
	"                    without a result [100]\n"
	"  --key USER        across nodes: the key (in --home) that made the requests\n"
	"  --node URL        across nodes: where the record txs go [the first owner]\n"
	"  --home DIR        where USER's key is [$LEBEN_HOME or ~/.leben]\n"
	"  --cohort ID       across nodes: this run is round N (--cohort-round) of cohort study ID\n"
	"                    ('leben cohort round' passes both): every owner node checks that the\n"
	"                    protocol is approved and the round open, and uses only the patients\n"
	"                    opted in to the study and not withdrawn when the round was opened\n"
	"  --trace FILE      across nodes: write every round's step and each owner's masked\n"
	"                    partial (as received) to FILE, one JSON object a line\n"
	"  --algorithm NAME  stats (add \"bins\" and \"range\" for histograms), logreg, or km (needs\n"
	"                    \"grid\": the times every owner reports counts at)\n"
	"  --params JSON     algorithm parameters (across nodes, name the columns: \"columns\" for\n"
	"                    stats, \"x\" and \"y\" for logreg, \"time\" and \"event\" for km)\n"
	"  --policy FILE     release policy (as for 'leben sandbox run')\n"
	"  --plain           sum partial results in the clear (for comparison only)\n"
	"  --sandboxed       run each owner's local step of each round in its own sandbox\n"
	"  --json            machine-readable output\n";

/* ---- study across nodes ------------------------------------------------------------------- */

struct remote {
	size_t n;                    /* owners the study started with */
	char **urls;                 /* their nodes */
	char (*keys)[2 * LB_PUBKEY_LEN + 1]; /* their node keys (hex) */
	char **reqs;                 /* the user's request at each */
	char (*escs)[2 * LB_HASH_LEN + 1]; /* the escrow the user opened for each request */
	bool *gone;                  /* owners that stopped answering (left out from then on) */
	bool *started;               /* owners that answered a step (their run is on record) */
	bool dropped_now;            /* the last round lost an owner (the run starts again) */
	const char *algo;
	const json_t *params;
	char study[2 * LB_HASH_LEN + 1];
	const struct lb_keypair *kp;
	unsigned round;
	FILE *trace;
	const char *cohort;          /* a cohort study's round: its id and round number, or NULL */
	unsigned long cohort_round;
};

#define STUDY_FB 24

/* The signed message of one round (step) or of the end (end) for the owners still in. */
static json_t *signed_body(struct remote *r, const char *key, const json_t *v)
{
	json_t *ow = json_array();
	for (size_t i = 0; i < r->n; i++)
		if (!r->gone[i])
			json_array_append_new(ow, json_pack("{s:s,s:s,s:s}", "node_key", r->keys[i], "request",
							    r->reqs[i], "escrow", r->escs[i]));
	json_t *m = json_pack("{s:s,s:I,s:s,s:O,s:O,s:o}", "study", r->study, "round", (json_int_t)++r->round,
			      "algorithm", r->algo, "params", r->params, key, v, "owners", ow);
	if (m && r->cohort) {
		json_object_set_new(m, "cohort", json_string(r->cohort));
		json_object_set_new(m, "cohort_round", json_integer((json_int_t)r->cohort_round));
	}
	char *msg = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(m);
	if (!msg)
		return NULL;
	uint8_t digest[LB_HASH_LEN], sig[LB_SIG_LEN];
	char pkh[2 * LB_PUBKEY_LEN + 1], sigh[2 * LB_SIG_LEN + 1];
	lb_hash_domain(digest, "LEBEN-study-step-v1", msg, strlen(msg));
	lb_sign(sig, digest, sizeof digest, r->kp);
	lb_hex_encode(pkh, r->kp->pk, LB_PUBKEY_LEN);
	lb_hex_encode(sigh, sig, LB_SIG_LEN);
	json_t *body = json_pack("{s:s,s:s,s:s}", "msg", msg, "pk", pkh, "sig", sigh);
	free(msg);
	return body;
}

/* POST to owner i; 0 with *out, 1 refused (printed), 2 the node did not answer (printed). */
static int post_owner(struct remote *r, size_t i, json_t *body, json_t **out)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_client_post(r->urls[i], "/v1/study/step", body, out, &em);
	if (rc == LB_OK)
		return 0;
	*out = NULL;
	bool silent = rc == LB_ETIMEOUT || !strncmp(em.text, "no LEBEN node answers", 21) ||
		      !strncmp(em.text, "talking to the node at", 22);
	fprintf(stderr, "leben study run: %s [%s]\n  (owner %zu, %s)\n", em.text[0] ? em.text : lb_strerror(rc),
		lb_errname(rc), i + 1, r->urls[i]);
	return silent ? 2 : 1;
}

/* Test hook: LEBEN_STUDY_PAUSE_AFTER=N:FILE makes the command write FILE.ready after round N
 * and wait (up to 120 s) until FILE exists, so that a test can stop an owner in between. */
static void pause_hook(unsigned round)
{
	const char *h = getenv("LEBEN_STUDY_PAUSE_AFTER");
	char *colon;
	if (!h || strtoul(h, &colon, 10) != round || *colon != ':')
		return;
	char ready[4200];
	snprintf(ready, sizeof ready, "%s.ready", colon + 1);
	FILE *f = fopen(ready, "w");
	if (f)
		fclose(f);
	for (int i = 0; i < 1200 && access(colon + 1, F_OK); i++) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int remote_round(void *arg, const json_t *step, size_t len, double *sum, struct lb_errmsg *em)
{
	struct remote *r = arg;
	json_t *body = signed_body(r, "step", step);
	uint64_t *acc = lb_calloc(len ? len : 1, sizeof *acc);
	json_t *tr = r->trace ? json_array() : NULL;
	size_t refused = 0, lost = 0, asked = 0;
	int rc = acc && body ? LB_OK : LB_ENOMEM;
	for (size_t i = 0; i < r->n && rc == LB_OK; i++) {
		json_t *out = NULL;
		if (r->gone[i])
			continue;
		asked++;
		int st = post_owner(r, i, body, &out);
		if (st) {
			if (st == 2) {
				r->gone[i] = true;
				r->dropped_now = true;
				lost++;
			} else {
				refused++;
			}
			continue;
		}
		const char *hex = json_string_value(json_object_get(out, "masked"));
		if (json_integer_value(json_object_get(out, "values")) != (json_int_t)len || !hex ||
		    strlen(hex) != len * 16) {
			rc = lb_errf(em, LB_EMALFORMED, "owner %zu (%s) answered %lld values, %zu expected", i + 1,
				     r->urls[i], (long long)json_integer_value(json_object_get(out, "values")), len);
			json_decref(out);
			break;
		}
		for (size_t j = 0; j < len; j++) {
			uint8_t w[8];
			uint64_t v = 0;
			char part[17];
			memcpy(part, hex + 16 * j, 16);
			part[16] = 0;
			if (lb_hex_decode(w, 8, part)) {
				rc = lb_errf(em, LB_EMALFORMED, "owner %zu (%s) answered bad hex", i + 1, r->urls[i]);
				break;
			}
			for (int k = 7; k >= 0; k--)
				v = (v << 8) | w[k];
			acc[j] += v;
		}
		r->started[i] = true;
		if (tr)
			json_array_append_new(tr, json_pack("{s:s,s:s}", "node_key", r->keys[i], "masked", hex));
		json_decref(out);
	}
	if (rc == LB_OK && refused)
		rc = lb_errf(em, LB_EDENIED, "%zu of %zu owners refused the step; nothing was combined", refused, asked);
	else if (rc == LB_OK && lost)
		rc = lb_errf(em, LB_EUNAVAILABLE, "%zu of %zu owners stopped answering in round %u; nothing of the "
						  "round was combined", lost, asked, r->round);
	if (rc == LB_OK) {
		for (size_t j = 0; j < len; j++)
			sum[j] = lb_secagg_fixed_decode(acc[j], STUDY_FB);
		if (r->trace) {
			json_t *line = json_pack("{s:I,s:O,s:O,s:i}", "round", (json_int_t)r->round, "step", step,
						 "owners", tr, "frac_bits", STUDY_FB);
			char *t = json_dumps(line, JSON_COMPACT);
			if (t) {
				fprintf(r->trace, "%s\n", t);
				fflush(r->trace);
			}
			free(t);
			json_decref(line);
		}
		pause_hook(r->round);
	}
	json_decref(tr);
	json_decref(body);
	lb_free(acc);
	return rc;
}

/* Sign tx (type on chain, payload) with kp for the node at url, send it and wait for its block. */
static int send_user_tx(const char *url, const struct lb_keypair *kp, int chain, uint32_t type,
			const struct lb_buf *payload, char idhex[2 * LB_HASH_LEN + 1])
{
	json_t *st = NULL, *acct = NULL, *reply = NULL;
	uint8_t net[LB_HASH_LEN], addr[LB_ADDR_LEN], id[LB_HASH_LEN];
	char at[LB_ADDR_TEXT_LEN + 1], path[200];
	struct lb_buf out;
	int rc = 1;
	lb_addr_from_pubkey(addr, kp->pk);
	lb_addr_encode(at, addr);
	snprintf(path, sizeof path, "/v1/accounts/%s", at);
	if (cli_api_get("study run", url, "/v1/status", &st) || cli_api_get("study run", url, path, &acct))
		goto out;
	if (lb_hex_decode(net, LB_HASH_LEN, json_string_value(json_object_get(st, "network_id")))) {
		cli_failf("study run", "the node at %s gave no network id", url);
		goto out;
	}
	json_t *nn = json_object_get(json_object_get(json_object_get(acct, "chains"), lb_chain_name(chain)),
				     "next_nonce");
	struct lb_tx t = {.version = LB_TX_VERSION, .chain = (uint8_t)chain, .type = type,
			  .nonce = json_is_integer(nn) ? (uint64_t)json_integer_value(nn) : 0,
			  .payload = payload->data, .payload_len = payload->len};
	if (chain == LB_CHAIN_SETTLEMENT)
		t.fee = (uint64_t)json_integer_value(json_object_get(json_object_get(st, "fees"), "default"));
	lb_buf_init(&out, LB_TX_MAX_BYTES);
	char *hex = NULL;
	if (lb_tx_build(&out, &t, net, kp, id) || !(hex = lb_malloc(2 * out.len + 1))) {
		lb_buf_release(&out);
		cli_failf("study run", "could not build the tx");
		goto out;
	}
	lb_hex_encode(hex, out.data, out.len);
	lb_buf_release(&out);
	json_t *body = json_pack("{s:s}", "tx", hex);
	lb_free(hex);
	rc = cli_api_post("study run", url, "/v1/txs", body, &reply);
	json_decref(body);
	lb_hex_encode(idhex, id, LB_HASH_LEN);
	if (!rc) {
		json_t *fin = NULL;
		rc = cli_tx_wait("study run", url, idhex, 60, &fin);
		json_decref(fin);
	}
out:
	json_decref(st);
	json_decref(acct);
	json_decref(reply);
	return rc;
}

/* The escrow for owner i's run of its request, as `leben exchange escrow` opens it: the node's
 * dry run gives the terms (and refuses before anything is locked), the executor is the owner's
 * node key, the compute fee compute_fee, the timeout blocks settlement blocks from now. */
static int open_escrow(struct remote *r, size_t i, uint64_t compute_fee, uint64_t blocks)
{
	uint8_t pk[LB_PUBKEY_LEN], exec[LB_ADDR_LEN];
	char et[LB_ADDR_TEXT_LEN + 1];
	json_t *plan = NULL, *st = NULL;
	struct lb_escrow_open p = {0};
	struct lb_buf b;
	int rc = 1;
	lb_hex_decode(pk, LB_PUBKEY_LEN, r->keys[i]);
	lb_addr_from_pubkey(exec, pk);
	lb_addr_encode(et, exec);
	json_t *body = json_pack("{s:s,s:s,s:[],s:b}", "request", r->reqs[i], "executor", et, "patients",
				 "exclude_revoked", 1);
	int bad = cli_api_post("study run", r->urls[i], "/v1/exchange/check", body, &plan);
	json_decref(body);
	if (bad) {
		fprintf(stderr, "  (owner %zu, %s: nothing was locked)\n", i + 1, r->urls[i]);
		return 1;
	}
	json_t *t = json_object_get(plan, "terms");
	const char *u = json_string_value(json_object_get(t, "user")),
		   *o = json_string_value(json_object_get(t, "owner")),
		   *a = json_string_value(json_object_get(t, "author"));
	if (!u || !o || !a || lb_addr_decode(p.terms.user, u, NULL) || lb_addr_decode(p.terms.owner, o, NULL) ||
	    lb_addr_decode(p.terms.author, a, NULL) || lb_hex_decode(p.terms.request, LB_HASH_LEN, r->reqs[i])) {
		cli_failf("study run", "the node at %s gave an incomplete plan for request %s", r->urls[i], r->reqs[i]);
		goto out;
	}
	memcpy(p.terms.executor, exec, LB_ADDR_LEN);
	p.terms.data_fee = (uint64_t)json_integer_value(json_object_get(t, "data_fee"));
	p.terms.algo_fee = (uint64_t)json_integer_value(json_object_get(t, "algo_fee"));
	p.terms.compute_fee = compute_fee;
	if (cli_api_get("study run", r->urls[i], "/v1/status", &st))
		goto out;
	p.timeout = (uint64_t)json_integer_value(
			    json_object_get(json_object_get(json_object_get(st, "chains"), "settlement"), "height")) +
		    blocks;
	lb_buf_init(&b, 1024);
	rc = lb_escrow_open_encode(&b, &p) ? cli_failf("study run", "could not encode the escrow")
					   : send_user_tx(r->urls[i], r->kp, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_OPEN, &b,
							  r->escs[i]);
	lb_buf_release(&b);
out:
	json_decref(plan);
	json_decref(st);
	return rc;
}

/* The end of the study at every owner still in it: each records the result (or the failure)
 * and settles its escrow. The owners' records go to *ends (an array). */
static int end_study(struct remote *r, bool done, const char *result_hash, json_t **ends)
{
	json_t *e = done ? json_pack("{s:s,s:s}", "outcome", "done", "result_hash", result_hash)
			 : json_pack("{s:s}", "outcome", "failed");
	json_t *body = signed_body(r, "end", e);
	int bad = 0;
	json_decref(e);
	*ends = json_array();
	for (size_t i = 0; i < r->n && body; i++) {
		json_t *out = NULL;
		if (r->gone[i] || !r->started[i])
			continue;
		if (post_owner(r, i, body, &out)) {
			bad++;
			continue;
		}
		json_object_set_new(out, "owner", json_integer((json_int_t)i + 1));
		json_array_append_new(*ends, out);
	}
	json_decref(body);
	return bad;
}

/* A table that only names the columns of params (coordinator side: no rows are read). */
static int schema_table(const char *algo, const json_t *params, struct lb_table *t, struct lb_errmsg *em)
{
	static const char *const keys[] = {"columns", "x", "y", "time", "event", NULL};
	struct lb_buf head, row;
	lb_buf_init(&head, 1 << 20);
	lb_buf_init(&row, 1 << 20);
	size_t k = 0;
	for (size_t i = 0; keys[i]; i++) {
		json_t *v = json_object_get(params, keys[i]);
		for (size_t j = 0; j < (json_is_array(v) ? json_array_size(v) : json_is_string(v) ? 1 : 0); j++) {
			const char *name = json_is_array(v) ? json_string_value(json_array_get(v, j)) : json_string_value(v);
			if (!name || strchr(name, ',') || strchr(name, '"') || strchr(name, '\n'))
				continue;
			lb_buf_add(&head, k ? "," : "", k ? 1 : 0);
			lb_buf_add(&head, name, strlen(name));
			lb_buf_add(&row, k ? ",0" : "0", k ? 2 : 1);
			k++;
		}
	}
	int rc;
	if (k == 0)
		rc = lb_errf(em, LB_EINVALID, "across nodes, --params must name the columns (%s)",
			     !strcmp(algo, "logreg") ? "\"x\" and \"y\"" : !strcmp(algo, "km") ? "\"time\" and \"event\"" : "\"columns\"");
	else {
		lb_buf_add(&head, "\n", 1);
		lb_buf_add(&head, row.data, row.len);
		lb_buf_add(&head, "\n", 1);
		rc = lb_table_parse_csv((const char *)head.data, head.len, 0, t, em);
	}
	lb_buf_release(&head);
	lb_buf_release(&row);
	return rc;
}

/* A record tx on the business chain about the study. */
static int study_record(const char *url, const struct lb_keypair *kp, const char *kind, const char *study,
			json_t *data, char txid[2 * LB_HASH_LEN + 1])
{
	uint8_t subject[LB_HASH_LEN];
	char *d = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	struct lb_buf b;
	struct sectx t;
	lb_buf_init(&b, LB_META_MAX + 4096);
	lb_hex_decode(subject, LB_HASH_LEN, study);
	int st = !d || lb_payload_record(&b, kind, subject, d, strlen(d)) ? 1 : 0;
	if (!st && !(st = sectx_build("study run", url, kp, LB_TX_RECORD, b.data, b.len, &t))) {
		st = sectx_send("study run", url, &t, 60, NULL);
		memcpy(txid, t.id, sizeof t.id);
		sectx_release(&t);
	}
	free(d);
	lb_buf_release(&b);
	return st;
}

static int split_list(const char *s, char **items, size_t max, size_t *n)
{
	char *list = lb_strdup(s);
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == max) {
			lb_free(list);
			return 1;
		}
		items[(*n)++] = lb_strdup(tok);
	}
	lb_free(list);
	return 0;
}

/* Options of a study across nodes. */
struct nodes_opts {
	const char *owners, *requests, *escrows, *key, *home, *node, *trace, *cohort;
	uint64_t compute_fee, timeout_blocks;
	unsigned long cohort_round;
};

static int study_run_nodes(const struct nodes_opts *no, const char *algo, json_t *params,
			   const struct lb_policy *pol, bool json)
{
	char *urls[SBX_MAX_OWNERS], *reqs[SBX_MAX_OWNERS], *escl[SBX_MAX_OWNERS];
	char keys[SBX_MAX_OWNERS][2 * LB_PUBKEY_LEN + 1], escs[SBX_MAX_OWNERS][2 * LB_HASH_LEN + 1];
	bool gone[SBX_MAX_OWNERS] = {false}, started[SBX_MAX_OWNERS] = {false};
	size_t n = 0, nr = 0, ne = 0;
	int status = 1;
	struct lb_keypair kp;
	struct lb_table schema = {0};
	struct lb_errmsg em;
	FILE *tf = NULL;
	lb_errclear(&em);
	memset(&kp, 0, sizeof kp);
	if (split_list(no->owners, urls, SBX_MAX_OWNERS, &n) || split_list(no->requests, reqs, SBX_MAX_OWNERS, &nr) ||
	    (no->escrows && split_list(no->escrows, escl, SBX_MAX_OWNERS, &ne))) {
		cli_failf("study run", "at most %d owners", SBX_MAX_OWNERS);
		goto out;
	}
	if (n < 2 || n != nr || (no->escrows && ne != n)) {
		cli_failf("study run", "%zu owner nodes, %zu requests%s: give one approved request (and escrow) per "
				       "owner, at least two owners", n, nr, no->escrows ? " and other escrows" : "");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t id[LB_HASH_LEN];
		if (lb_hex_decode(id, LB_HASH_LEN, reqs[i]) || (no->escrows && lb_hex_decode(id, LB_HASH_LEN, escl[i]))) {
			cli_failf("study run", "request or escrow %zu is not an id (64 hex digits)", i + 1);
			goto out;
		}
		if (no->escrows)
			memcpy(escs[i], escl[i], sizeof escs[i]);
	}
	const char *home = cli_home(no->home);
	if (cli_load_key(home, no->key, &kp))
		goto out;
	for (size_t i = 0; i < n; i++)
		cli_tls_defaults(urls[i], home);
	for (size_t i = 0; i < n; i++) {
		json_t *stj = NULL;
		if (cli_api_get("study run", urls[i], "/v1/status", &stj))
			goto out;
		const char *nk = json_string_value(json_object_get(stj, "node_key"));
		if (!nk || strlen(nk) != 2 * LB_PUBKEY_LEN) {
			json_decref(stj);
			cli_failf("study run", "the node at %s shows no node key in /v1/status", urls[i]);
			goto out;
		}
		memcpy(keys[i], nk, sizeof keys[i]);
		json_decref(stj);
	}
	if (schema_table(algo, params, &schema, &em)) {
		cli_fail("study run", &em, NULL);
		goto out;
	}
	if (no->trace && !(tf = fopen(no->trace, "w"))) {
		cli_failf("study run", "cannot write the trace to %s", no->trace);
		goto out;
	}
	struct remote r = {.n = n, .urls = urls, .keys = keys, .reqs = reqs, .escs = escs, .gone = gone,
			   .started = started,
			   .algo = algo, .params = params, .kp = &kp, .trace = tf, .cohort = no->cohort,
			   .cohort_round = no->cohort_round};
	/* each owner's run is paid like any other: one escrow per request, executor its node */
	for (size_t i = 0; i < n && !no->escrows; i++)
		if (open_escrow(&r, i, no->compute_fee, no->timeout_blocks)) {
			if (i)
				fprintf(stderr, "  the escrows opened so far can be refunded after their timeout "
						"(leben exchange refund --escrow ID)\n");
			goto out;
		}
	uint8_t sid[LB_HASH_LEN];
	randombytes_buf(sid, sizeof sid);
	lb_hex_encode(r.study, sid, sizeof sid);
	const char *rec_url = no->node ? no->node : urls[0];
	json_t *reqs_j = json_array(), *escs_j = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(reqs_j, json_string(reqs[i]));
		json_array_append_new(escs_j, json_string(escs[i]));
	}
	json_t *start = json_pack("{s:s,s:O,s:o,s:o}", "algorithm", algo, "params", params, "requests", reqs_j,
				  "escrows", escs_j);
	char start_tx[2 * LB_HASH_LEN + 1] = "", done_tx[2 * LB_HASH_LEN + 1] = "";
	int st = study_record(rec_url, &kp, "study.start", r.study, start, start_tx);
	json_decref(start);
	if (st)
		goto out;
	struct lb_fed_owner ow = {.name = "coordinator", .table = &schema};
	struct lb_fed_options fo = {.secure = true, .sandboxed = true, .remote = remote_round, .remote_arg = &r};
	struct lb_algo_ctx ctx = {.min_cohort = pol->min_cohort};
	struct lb_fed_stats fst = {0};
	json_t *result = NULL;
	size_t runs = 0, need = lb_study_threshold(n);
	int rc;
	/* an owner that stops answering is left out and the algorithm runs again from its first
	 * round over the others, while at least floor(n/2)+1 remain */
	for (;;) {
		r.dropped_now = false;
		runs++;
		lb_errclear(&em);
		rc = lb_fed_run(algo, &ow, 1, params, &ctx, &fo, &result, &fst, &em);
		if (rc != LB_EUNAVAILABLE || !r.dropped_now)
			break;
		size_t left = 0;
		for (size_t i = 0; i < n; i++)
			left += !gone[i];
		if (left < need) {
			rc = lb_errf(&em, LB_EUNAVAILABLE, "%zu of the %zu owners stopped answering; at least %zu "
							   "(floor(n/2)+1) must remain: the study failed", n - left, n, need);
			break;
		}
		fprintf(stderr, "leben study run: %zu owners remain; running %s again from its first round over "
				"them\n", left, algo);
	}
	uint8_t rh[LB_HASH_LEN];
	char rhh[2 * LB_HASH_LEN + 1] = "";
	size_t left = 0;
	for (size_t i = 0; i < n; i++)
		left += !gone[i];
	if (rc == LB_OK) {
		json_object_set_new(result, "owners", json_integer((json_int_t)left));
		char *txt = json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS);
		lb_hash(rh, txt, txt ? strlen(txt) : 0);
		lb_hex_encode(rhh, rh, sizeof rh);
		free(txt);
	}
	unsigned rounds = r.round;
	/* every owner still in records the result and settles its escrow */
	json_t *ends = NULL;
	int bad_ends = end_study(&r, rc == LB_OK, rhh, &ends);
	json_t *done = json_pack("{s:s,s:I,s:s}", "outcome", rc == LB_OK ? "done" : "failed", "rounds",
				 (json_int_t)rounds, "result_hash", rhh);
	st = study_record(rec_url, &kp, "study.done", r.study, done, done_tx);
	json_decref(done);
	if (rc) {
		cli_fail("study run", &em, NULL);
		json_decref(result);
		json_decref(ends);
		goto out;
	}
	if (st || bad_ends) {
		if (bad_ends)
			cli_failf("study run", "%d owners did not record the study's end", bad_ends);
		json_decref(result);
		json_decref(ends);
		goto out;
	}
	json_t *info = json_pack("{s:s,s:I,s:I,s:I,s:b,s:b,s:s}", "study", r.study, "owners", (json_int_t)left,
				 "rounds", (json_int_t)rounds, "runs", (json_int_t)runs, "secure_aggregation", 1,
				 "sandboxed", 1, "masking", "pairwise (node keys)");
	json_t *dropped = json_array();
	for (size_t i = 0; i < n; i++)
		if (gone[i])
			json_array_append_new(dropped, json_pack("{s:I,s:s,s:s}", "owner", (json_int_t)i + 1, "url", urls[i],
								 "escrow", escs[i]));
	json_object_set_new(info, "owners_dropped", dropped);
	json_object_set_new(info, "start_tx", json_string(start_tx));
	json_object_set_new(info, "done_tx", json_string(done_tx));
	json_object_set_new(info, "runs_at_owners", ends);
	status = sbx_release("study run", pol, result, info, NULL, NULL, NULL, NULL, NULL, json);
	json_decref(info);
	json_decref(result);
out:
	if (tf)
		fclose(tf);
	lb_keypair_wipe(&kp);
	lb_table_release(&schema);
	for (size_t i = 0; i < n; i++)
		lb_free(urls[i]);
	for (size_t i = 0; i < nr; i++)
		lb_free(reqs[i]);
	for (size_t i = 0; i < ne; i++)
		lb_free(escl[i]);
	return status;
}

/* ---- study ------------------------------------------------------------------------------------ */

static int study_run(int argc, char **argv)
{
	const char *owners = NULL, *algo = NULL, *params_s = NULL, *policy = NULL, *requests = NULL,
		   *key = NULL, *home = NULL, *node = NULL, *trace = NULL, *escrows = NULL, *cfee = NULL,
		   *tblocks = NULL, *cohort = NULL, *cround = NULL;
	bool json = false, plain = false, sandboxed = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(study_help, stdout);
			return 0;
		} else if (!strcmp(a, "--json"))
			json = true;
		else if (!strcmp(a, "--plain"))
			plain = true;
		else if (!strcmp(a, "--sandboxed"))
			sandboxed = true;
		else if (v && !strcmp(a, "--owners"))
			owners = v, i++;
		else if (v && !strcmp(a, "--algorithm"))
			algo = v, i++;
		else if (v && !strcmp(a, "--params"))
			params_s = v, i++;
		else if (v && !strcmp(a, "--policy"))
			policy = v, i++;
		else if (v && !strcmp(a, "--requests"))
			requests = v, i++;
		else if (v && !strcmp(a, "--key"))
			key = v, i++;
		else if (v && !strcmp(a, "--home"))
			home = v, i++;
		else if (v && !strcmp(a, "--node"))
			node = v, i++;
		else if (v && !strcmp(a, "--trace"))
			trace = v, i++;
		else if (v && !strcmp(a, "--escrows"))
			escrows = v, i++;
		else if (v && !strcmp(a, "--compute-fee"))
			cfee = v, i++;
		else if (v && !strcmp(a, "--timeout-blocks"))
			tblocks = v, i++;
		else if (v && !strcmp(a, "--cohort"))
			cohort = v, i++;
		else if (v && !strcmp(a, "--cohort-round"))
			cround = v, i++;
		else {
			fprintf(stderr, "leben study run: bad option %s\n\n%s", a, study_help);
			return 2;
		}
	}
	if (!owners || !algo) {
		fprintf(stderr, "leben study run: --owners and --algorithm are required\n\n%s", study_help);
		return 2;
	}
	struct lb_policy pol;
	if (sbx_load_policy("study run", policy, &pol))
		return 1;
	json_t *params = sbx_parse_params("study run", params_s);
	if (!params)
		return 2;
	if (!strncmp(owners, "http://", 7) || !strncmp(owners, "https://", 8)) {
		if (!requests || !key) {
			json_decref(params);
			fprintf(stderr, "leben study run: across nodes, --requests and --key are required\n\n%s", study_help);
			return 2;
		}
		struct nodes_opts no = {.owners = owners, .requests = requests, .escrows = escrows, .key = key,
					.home = home, .node = node, .trace = trace, .timeout_blocks = 100,
					.cohort = cohort};
		char *end = NULL, *rend = NULL;
		uint8_t cid[LB_HASH_LEN];
		if (cohort || cround) {
			no.cohort_round = cround ? strtoul(cround, &rend, 10) : 0;
			if (!cohort || !cround || lb_hex_decode(cid, sizeof cid, cohort) || !*cround || *rend ||
			    no.cohort_round == 0) {
				json_decref(params);
				fprintf(stderr, "leben study run: --cohort takes a cohort id (64 hex digits) and needs "
						"--cohort-round N (N >= 1), both or neither\n");
				return 2;
			}
		}
		if (tblocks)
			no.timeout_blocks = strtoull(tblocks, &end, 10);
		if ((cfee && cli_parse_amount(cfee, &no.compute_fee)) ||
		    (tblocks && (!*tblocks || *end || *tblocks == '-' || no.timeout_blocks == 0))) {
			json_decref(params);
			fprintf(stderr, "leben study run: --compute-fee takes an amount (CSC), --timeout-blocks a "
					"number of blocks above 0\n");
			return 2;
		}
		int st = study_run_nodes(&no, algo, params, &pol, json);
		json_decref(params);
		return st;
	}
	char *list = lb_strdup(owners);
	struct lb_table tabs[SBX_MAX_OWNERS];
	struct lb_fed_owner ow[SBX_MAX_OWNERS];
	size_t n = 0;
	int status = 1;
	struct lb_errmsg em;
	lb_errclear(&em);
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == SBX_MAX_OWNERS) {
			cli_failf("study run", "at most %d owners", SBX_MAX_OWNERS);
			goto out;
		}
		uint8_t *d;
		size_t len;
		if (sbx_read_text("study run", tok, SBX_MAX_INPUT, &d, &len))
			goto out;
		int rc = lb_table_parse_csv((const char *)d, len, 0, &tabs[n], &em);
		lb_free(d);
		if (rc) {
			lb_errwrap(&em, "%s", tok);
			cli_fail("study run", &em, NULL);
			goto out;
		}
		ow[n].name = tok;
		ow[n].table = &tabs[n];
		n++;
	}
	struct lb_fed_options fo = {.secure = !plain, .sandboxed = sandboxed};
	struct lb_algo_ctx ctx = {.min_cohort = pol.min_cohort};
	struct lb_fed_stats st = {0};
	json_t *result = NULL;
	if (lb_fed_run(algo, ow, n, params, &ctx, &fo, &result, &st, &em)) {
		cli_fail("study run", &em, NULL);
		goto out;
	}
	json_t *info = json_pack("{sI sI sf sf sb sb}", "owners", (json_int_t)n, "rounds", (json_int_t)st.rounds,
				 "local_ms", (double)st.local_ns / 1e6, "aggregate_ms", (double)st.aggregate_ns / 1e6,
				 "secure_aggregation", !plain, "sandboxed", sandboxed);
	status = sbx_release("study run", &pol, result, info, NULL, NULL, NULL, NULL, NULL, json);
	json_decref(info);
	json_decref(result);
out:
	for (size_t i = 0; i < n; i++)
		lb_table_release(&tabs[i]);
	lb_free(list);
	json_decref(params);
	return status;
}

int cmd_study(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(study_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return study_run(argc - 1, argv + 1);
	fprintf(stderr, "leben study: '%s' is not a study subcommand (run)\n", argv[1]);
	return 2;
}
