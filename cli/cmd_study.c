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
#include "leben/tx.h"
#include "sandbox_cli.h"
#include "sectx.h"

#define SBX_MAX_OWNERS 64

static const char study_help[] =
	"usage: leben study run --owners T1.csv,T2.csv[,...] --algorithm stats|logreg|km\n"
	"                       [--params JSON] [--policy FILE.json] [--plain] [--sandboxed] [--json]\n"
	"       leben study run --owners URL1,URL2[,...] --requests ID1,ID2[,...] --key USER\n"
	"                       --algorithm stats|logreg|km [--params JSON] [--policy FILE.json]\n"
	"                       [--home DIR] [--node URL] [--trace FILE] [--json]\n"
	"\n"
	"Run one study over several institutions' tables without pooling them: the algorithm is\n"
	"split into steps that run at each owner, and only their partial sums travel, combined by\n"
	"secure aggregation so no single owner's partial result is seen. The combined result goes\n"
	"through the release policy.\n"
	"\n"
	"With CSV files, this command plays every owner on this machine (to try a study or check a\n"
	"decomposition). With node URLs, every owner's node runs its own step of each round in its\n"
	"sandbox over its registered asset (kept at exchange/assets/ASSET.csv in the node's home),\n"
	"after checking on the business chain that USER holds an approved request (--requests, one\n"
	"per owner, in the same order) for that asset and this built-in algorithm. Each node masks\n"
	"its partial with pairwise masks derived from the owners' node keys; this command adds the\n"
	"masked partials and learns only their sum. The start and the end of the study are recorded\n"
	"on the business chain (record txs 'study.start' and 'study.done' signed by USER).\n"
	"\n"
	"  --owners LIST     comma-separated CSV files, one per owner (same column names), or the\n"
	"                    owners' node URLs (http://... or https://...)\n"
	"  --requests LIST   across nodes: USER's approved request ids, one per owner\n"
	"  --key USER        across nodes: the key (in --home) that made the requests\n"
	"  --node URL        across nodes: where the record txs go [the first owner]\n"
	"  --home DIR        where USER's key is [$LEBEN_HOME or ~/.leben]\n"
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
	size_t n;                    /* owners */
	char **urls;                 /* their nodes */
	char (*keys)[2 * LB_PUBKEY_LEN + 1]; /* their node keys (hex) */
	char **reqs;                 /* the user's request at each */
	const char *algo;
	char study[2 * LB_HASH_LEN + 1];
	const struct lb_keypair *kp;
	unsigned round;
	FILE *trace;
};

#define STUDY_FB 24

static int remote_round(void *arg, const json_t *step, size_t len, double *sum, struct lb_errmsg *em)
{
	struct remote *r = arg;
	json_t *ow = json_array();
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(ow, json_pack("{s:s,s:s}", "node_key", r->keys[i], "request", r->reqs[i]));
	json_t *m = json_pack("{s:s,s:I,s:s,s:O,s:o}", "study", r->study, "round", (json_int_t)++r->round,
			      "algorithm", r->algo, "step", step, "owners", ow);
	char *msg = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(m);
	if (!msg)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	uint8_t digest[LB_HASH_LEN], sig[LB_SIG_LEN];
	char pkh[2 * LB_PUBKEY_LEN + 1], sigh[2 * LB_SIG_LEN + 1];
	lb_hash_domain(digest, "LEBEN-study-step-v1", msg, strlen(msg));
	lb_sign(sig, digest, sizeof digest, r->kp);
	lb_hex_encode(pkh, r->kp->pk, LB_PUBKEY_LEN);
	lb_hex_encode(sigh, sig, LB_SIG_LEN);
	json_t *body = json_pack("{s:s,s:s,s:s}", "msg", msg, "pk", pkh, "sig", sigh);
	uint64_t *acc = lb_calloc(len ? len : 1, sizeof *acc);
	json_t *tr = r->trace ? json_array() : NULL;
	size_t refused = 0;
	int rc = acc ? LB_OK : LB_ENOMEM;
	for (size_t i = 0; i < r->n && acc; i++) {
		json_t *out = NULL;
		if (cli_api_post("study run", r->urls[i], "/v1/study/step", body, &out)) {
			fprintf(stderr, "  (owner %zu, %s)\n", i + 1, r->urls[i]);
			refused++;
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
		if (tr)
			json_array_append_new(tr, json_pack("{s:s,s:s}", "node_key", r->keys[i], "masked", hex));
		json_decref(out);
		if (rc)
			break;
	}
	if (rc == LB_OK && refused)
		rc = lb_errf(em, LB_EDENIED, "%zu of %zu owners refused the step; nothing was combined", refused, r->n);
	if (rc == LB_OK) {
		for (size_t j = 0; j < len; j++)
			sum[j] = lb_secagg_fixed_decode(acc[j], STUDY_FB);
		if (r->trace) {
			json_t *line = json_pack("{s:I,s:O,s:O,s:i}", "round", (json_int_t)r->round, "step", step,
						 "owners", tr, "frac_bits", STUDY_FB);
			char *t = json_dumps(line, JSON_COMPACT);
			if (t)
				fprintf(r->trace, "%s\n", t);
			free(t);
			json_decref(line);
		}
	}
	json_decref(tr);
	json_decref(body);
	lb_free(acc);
	free(msg);
	return rc;
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

static int study_run_nodes(const char *owners, const char *requests, const char *key, const char *home_opt,
			   const char *node_opt, const char *trace, const char *algo, json_t *params,
			   const struct lb_policy *pol, bool json)
{
	char *urls[SBX_MAX_OWNERS], *reqs[SBX_MAX_OWNERS];
	char keys[SBX_MAX_OWNERS][2 * LB_PUBKEY_LEN + 1];
	size_t n = 0, nr = 0;
	int status = 1;
	struct lb_keypair kp;
	struct lb_table schema = {0};
	struct lb_errmsg em;
	FILE *tf = NULL;
	lb_errclear(&em);
	memset(&kp, 0, sizeof kp);
	if (split_list(owners, urls, SBX_MAX_OWNERS, &n) || split_list(requests, reqs, SBX_MAX_OWNERS, &nr)) {
		cli_failf("study run", "at most %d owners", SBX_MAX_OWNERS);
		goto out;
	}
	if (n < 2 || n != nr) {
		cli_failf("study run", "%zu owner nodes and %zu requests: give one approved request per owner, "
				       "at least two owners", n, nr);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t id[LB_HASH_LEN];
		if (lb_hex_decode(id, LB_HASH_LEN, reqs[i])) {
			cli_failf("study run", "request %zu ('%s') is not a request id (64 hex digits)", i + 1, reqs[i]);
			goto out;
		}
	}
	const char *home = cli_home(home_opt);
	if (cli_load_key(home, key, &kp))
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
	if (trace && !(tf = fopen(trace, "w"))) {
		cli_failf("study run", "cannot write the trace to %s", trace);
		goto out;
	}
	struct remote r = {.n = n, .urls = urls, .keys = keys, .reqs = reqs, .algo = algo, .kp = &kp, .trace = tf};
	uint8_t sid[LB_HASH_LEN];
	randombytes_buf(sid, sizeof sid);
	lb_hex_encode(r.study, sid, sizeof sid);
	const char *rec_url = node_opt ? node_opt : urls[0];
	json_t *reqs_j = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(reqs_j, json_string(reqs[i]));
	json_t *start = json_pack("{s:s,s:O,s:o}", "algorithm", algo, "params", params, "requests", reqs_j);
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
	int rc = lb_fed_run(algo, &ow, 1, params, &ctx, &fo, &result, &fst, &em);
	uint8_t rh[LB_HASH_LEN];
	char rhh[2 * LB_HASH_LEN + 1] = "";
	if (rc == LB_OK) {
		json_object_set_new(result, "owners", json_integer((json_int_t)n));
		char *txt = json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS);
		lb_hash(rh, txt, txt ? strlen(txt) : 0);
		lb_hex_encode(rhh, rh, sizeof rh);
		free(txt);
	}
	json_t *done = json_pack("{s:s,s:I,s:s}", "outcome", rc == LB_OK ? "done" : "failed", "rounds",
				 (json_int_t)r.round, "result_hash", rhh);
	st = study_record(rec_url, &kp, "study.done", r.study, done, done_tx);
	json_decref(done);
	if (rc) {
		cli_fail("study run", &em, NULL);
		json_decref(result);
		goto out;
	}
	if (st) {
		json_decref(result);
		goto out;
	}
	json_t *info = json_pack("{s:s,s:I,s:I,s:b,s:b,s:s}", "study", r.study, "owners", (json_int_t)n, "rounds",
				 (json_int_t)fst.rounds, "secure_aggregation", 1, "sandboxed", 1, "masking",
				 "pairwise (node keys)");
	json_object_set_new(info, "start_tx", json_string(start_tx));
	json_object_set_new(info, "done_tx", json_string(done_tx));
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
	return status;
}

/* ---- study ------------------------------------------------------------------------------------ */

static int study_run(int argc, char **argv)
{
	const char *owners = NULL, *algo = NULL, *params_s = NULL, *policy = NULL, *requests = NULL,
		   *key = NULL, *home = NULL, *node = NULL, *trace = NULL;
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
		int st = study_run_nodes(owners, requests, key, home, node, trace, algo, params, &pol, json);
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
