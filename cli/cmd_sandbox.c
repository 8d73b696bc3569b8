/*
 * `leben sandbox`: run an algorithm over a table in the off-chain sandbox (a jailed child
 * process: no files, no network, no processes, CPU/memory/file limits, its directory removed
 * after the run), then pass the result through the owner's release policy. The policy, output
 * and input helpers here are shared with `leben study` (cli/sandbox_cli.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "common.h"
#include "sandbox_cli.h"
#include "leben/algo.h"
#include "leben/base.h"
#include "leben/sandbox.h"

#define SBX_MAX_INPUT ((size_t)4 << 30)

static const char sandbox_help[] =
	"usage: leben sandbox run --algorithm NAME|SCRIPT.lua --input TABLE.csv [options]\n"
	"       leben sandbox algorithms [--json]\n"
	"\n"
	"Run an algorithm over a table inside the sandbox and show only what the release policy\n"
	"lets out. The sandbox is a separate process that cannot open files, use the network or\n"
	"start processes; it has CPU-time, memory, file-size and output limits, and its private\n"
	"directory is deleted after the run. Built-in algorithms: stats, crosstab, linreg, logreg,\n"
	"kmeans, km ('leben sandbox algorithms' lists their parameters); or a Lua 5.4 script that\n"
	"computes through the agg library (docs/exchange.md). Every released number carries the\n"
	"records it was computed over; the policy checks them, not the names in the result.\n"
	"\n"
	"  --algorithm NAME|FILE.lua  built-in algorithm, or a Lua script file (ends in .lua)\n"
	"  --input FILE               the table (CSV with a header line); with --key, a sealed\n"
	"                             envelope that is opened only inside the sandbox\n"
	"  --key KEYFILE              secret key ('leben envelope keygen') opening a sealed input\n"
	"  --params JSON              algorithm parameters, e.g. '{\"y\":\"outcome\",\"x\":[\"age\"]}'\n"
	"  --policy FILE.json         release policy (default: min_cohort 10, no noise,\n"
	"                             65536-byte output, aggregates only, extremes removed)\n"
	"  --user NAME --asset NAME   whose privacy budget a noisy release is charged to\n"
	"  --budget-db FILE           privacy-budget database (default: in memory, this run only)\n"
	"  --seal-to PUBKEY --out FILE  seal the released result to the user's encryption key\n"
	"  --history FILE             release history (SQLite): refuse aggregates whose records\n"
	"                             differ from one released earlier to --user on --asset by\n"
	"                             fewer than the minimum cohort (default: none)\n"
	"  --review                   the owner's review: a script may also read rows (data.col);\n"
	"                             prints (or writes to --out) what would be released, for the\n"
	"                             owner only; never released, charged or recorded\n"
	"  --patient-column NAME --exclude ID[,ID...]  leave out these patients' rows (revoked\n"
	"                             consents); done inside the sandbox before the algorithm runs;\n"
	"                             the column also keys the records of the release history\n"
	"  --cpu-ms N --wall-ms N --memory-mb N --file-mb N --instructions N   sandbox limits\n"
	"  --json                     machine-readable output\n"
	"\n"
	"Exit status: 0 result released, 1 stopped or withheld (the reason is printed), 2 wrong\n"
	"usage.\n";

int sbx_read_text(const char *cmd, const char *path, size_t max, uint8_t **data, size_t *len)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_file_read(path, max, data, len, &em) != LB_OK)
		return cli_fail(cmd, &em, NULL);
	return 0;
}

int sbx_load_policy(const char *cmd, const char *path, struct lb_policy *pol)
{
	lb_policy_default(pol);
	if (!path)
		return 0;
	uint8_t *d;
	size_t n;
	if (sbx_read_text(cmd, path, 1 << 20, &d, &n))
		return 1;
	struct lb_errmsg em;
	int rc = lb_policy_parse((const char *)d, n, pol, &em);
	lb_free(d);
	if (rc) {
		lb_errwrap(&em, "%s", path);
		return cli_fail(cmd, &em, "a policy is a JSON object, e.g. {\"min_cohort\": 10, \"epsilon\": 0.5}");
	}
	return 0;
}

json_t *sbx_parse_params(const char *cmd, const char *text)
{
	if (!text)
		return json_object();
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j || !json_is_object(j)) {
		fprintf(stderr, "leben %s: --params is not a JSON object (%s)\n", cmd, j ? "not an object" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* How a result is released: by its provenance (sandbox runs) or by key names (studies). */
struct sbx_rel {
	bool with_prov;                  /* lb_policy_release on prov */
	const struct lb_provenance *prov; /* borrowed, may be NULL (then withheld) */
	const char *history_db;          /* release history file, NULL = none */
	bool review;                     /* owner's review: show, never release */
};

static int release_common(const char *cmd, const struct lb_policy *pol, json_t *result, json_t *report,
			  const char *user, const char *asset, const char *budget_db, const char *seal_to,
			  const char *out, bool json, const struct sbx_rel *how)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	struct lb_dp_budget *b = NULL;
	struct lb_release_history *h = NULL;
	if (pol->epsilon > 0 && lb_dp_budget_open(budget_db, &b, &em))
		return cli_fail(cmd, &em, NULL);
	if (how->history_db && lb_release_history_open(how->history_db, &h, &em)) {
		lb_dp_budget_close(b);
		return cli_fail(cmd, &em, NULL);
	}
	struct lb_release rel;
	if (how->with_prov) {
		struct lb_release_opts ro = {.budget = b, .history = h, .user = user, .asset = asset,
					     .review = how->review};
		lb_policy_release(pol, result, how->prov, &ro, &rel, &em);
	} else {
		lb_policy_apply(pol, result, b, user ? user : "local", asset ? asset : "local", &rel, &em);
	}
	lb_dp_budget_close(b);
	lb_release_history_close(h);
	if (how->review) {
		/* the owner's review: the would-be released text, never sealed, never released */
		int st = rel.text ? 0 : 1;
		if (rel.text && out && lb_file_write(out, rel.text, rel.len, 0600, &em)) {
			lb_release_release(&rel);
			return cli_fail(cmd, &em, NULL);
		}
		if (json) {
			json_t *o = json_object(), *r = json_object();
			if (report)
				json_object_set(o, "sandbox", report);
			json_object_set_new(r, "released", json_false());
			json_object_set_new(r, "review", json_true());
			json_object_set_new(r, "reason", json_string(rel.reason));
			json_object_set_new(o, "release", r);
			if (rel.text && !out)
				json_object_set_new(o, "review_text", json_string(rel.text));
			cli_print_json(o);
			json_decref(o);
		} else {
			fprintf(stderr, "leben %s: %s\n", cmd, rel.reason);
			if (rel.text && !out)
				printf("%s\n", rel.text);
			else if (rel.text)
				printf("review text written to %s (not released)\n", out);
		}
		lb_release_release(&rel);
		return st;
	}
	char hash[65];
	lb_hex_encode(hash, rel.hash, 32);
	int status = rel.released ? 0 : 1;
	if (rel.released && seal_to) {
		uint8_t pk[32], *env;
		size_t envlen;
		if (lb_hex_decode(pk, 32, seal_to) != LB_OK) {
			lb_release_release(&rel);
			return cli_failf(cmd, "--seal-to: expected 64 hex characters (an encryption public key)");
		}
		if (lb_release_seal(&rel, pk, &env, &envlen, &em) || lb_file_write(out, env, envlen, 0600, &em)) {
			lb_release_release(&rel);
			return cli_fail(cmd, &em, NULL);
		}
		lb_free(env);
	}
	if (json) {
		json_t *o = json_object();
		if (report)
			json_object_set(o, "sandbox", report);
		json_t *r = json_object();
		json_object_set_new(r, "released", json_boolean(rel.released));
		json_object_set_new(r, "reason", json_string(rel.reason));
		if (rel.released) {
			json_object_set_new(r, "hash", json_string(hash));
			json_object_set_new(r, "epsilon_spent", json_real(rel.epsilon_spent));
			json_object_set_new(r, "fields_removed", json_integer(rel.removed));
			if (seal_to)
				json_object_set_new(r, "sealed_to", json_string(out));
		}
		json_object_set_new(r, "policy", lb_policy_json(pol));
		json_object_set_new(o, "release", r);
		if (rel.released && !seal_to)
			json_object_set_new(o, "result", json_loads(rel.text, 0, NULL));
		cli_print_json(o);
		json_decref(o);
	} else if (rel.released) {
		if (seal_to) {
			printf("result sealed to %s in %s\n", seal_to, out);
		} else {
			json_t *r = json_loads(rel.text, 0, NULL);
			cli_print_json(r);
			json_decref(r);
		}
		printf("released: BLAKE2b-256 %s%s\n", hash, rel.removed ? " (extremes removed by the policy)" : "");
	} else {
		fprintf(stderr, "leben %s: result withheld by the release policy: %s\n", cmd, rel.reason);
	}
	lb_release_release(&rel);
	return status;
}

/* Policy, output and exit status shared by sandbox run and study run (key-name rules). */
int sbx_release(const char *cmd, const struct lb_policy *pol, json_t *result, json_t *report,
		const char *user, const char *asset, const char *budget_db, const char *seal_to,
		const char *out, bool json)
{
	static const struct sbx_rel legacy;
	return release_common(cmd, pol, result, report, user, asset, budget_db, seal_to, out, json, &legacy);
}

static int sandbox_algorithms(int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	size_t n;
	const struct lb_algo *a = lb_algo_table(&n);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (json)
			json_array_append_new(arr, json_pack("{ss ss ss}", "name", a[i].name, "summary", a[i].summary,
							     "params", a[i].params));
		else
			printf("%-9s %s\n          parameters: %s\n", a[i].name, a[i].summary, a[i].params);
	}
	if (json)
		cli_print_json(arr);
	else
		printf("or FILE.lua: a Lua 5.4 script returning a table (see docs/exchange.md)\n");
	json_decref(arr);
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x = strtoull(s, &end, 10);
	if (!*s || *end)
		return 1;
	*v = x;
	return 0;
}

static int sandbox_run(int argc, char **argv)
{
	const char *algo = NULL, *input = NULL, *key = NULL, *params_s = NULL, *policy = NULL,
		   *user = NULL, *asset = NULL, *budget_db = NULL, *seal_to = NULL, *out = NULL,
		   *exclude_s = NULL, *history = NULL;
	bool json = false, review = false;
	struct lb_sandbox_job job;
	memset(&job, 0, sizeof job);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x = 0;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(sandbox_help, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
			continue;
		} else if (!strcmp(a, "--review")) {
			review = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "leben sandbox run: %s needs a value (or is unknown)\n\n%s", a, sandbox_help);
			return 2;
		}
		i++;
		if (!strcmp(a, "--algorithm"))
			algo = v;
		else if (!strcmp(a, "--input"))
			input = v;
		else if (!strcmp(a, "--key"))
			key = v;
		else if (!strcmp(a, "--params"))
			params_s = v;
		else if (!strcmp(a, "--policy"))
			policy = v;
		else if (!strcmp(a, "--user"))
			user = v;
		else if (!strcmp(a, "--asset"))
			asset = v;
		else if (!strcmp(a, "--budget-db"))
			budget_db = v;
		else if (!strcmp(a, "--seal-to"))
			seal_to = v;
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--history"))
			history = v;
		else if (!strcmp(a, "--patient-column"))
			job.patient_col = v;
		else if (!strcmp(a, "--exclude"))
			exclude_s = v;
		else if (!strcmp(a, "--cpu-ms") && !parse_u64(v, &x))
			job.limits.cpu_ms = x;
		else if (!strcmp(a, "--wall-ms") && !parse_u64(v, &x))
			job.limits.wall_ms = x;
		else if (!strcmp(a, "--memory-mb") && !parse_u64(v, &x))
			job.limits.memory = x << 20;
		else if (!strcmp(a, "--file-mb") && !parse_u64(v, &x))
			job.limits.file_bytes = x << 20;
		else if (!strcmp(a, "--instructions") && !parse_u64(v, &x))
			job.limits.lua_instructions = x;
		else {
			fprintf(stderr, "leben sandbox run: bad option %s %s\n\n%s", a, v, sandbox_help);
			return 2;
		}
	}
	if (!algo || !input) {
		fprintf(stderr, "leben sandbox run: --algorithm and --input are required\n\n%s", sandbox_help);
		return 2;
	}
	if (exclude_s && !job.patient_col) {
		fprintf(stderr, "leben sandbox run: --exclude and --patient-column go together (--exclude names "
				"patients of that column)\n");
		return 2;
	}
	if (review && seal_to) {
		fprintf(stderr, "leben sandbox run: --review shows the result to the owner; it cannot be sealed\n");
		return 2;
	}
	if (seal_to && !out) {
		fprintf(stderr, "leben sandbox run: --seal-to needs --out FILE for the envelope\n");
		return 2;
	}
	struct lb_policy pol;
	if (sbx_load_policy("sandbox run", policy, &pol))
		return 1;
	json_t *params = sbx_parse_params("sandbox run", params_s);
	if (!params)
		return 2;
	uint8_t *data = NULL, *script = NULL;
	size_t len = 0, slen = 0;
	uint8_t sk[32], pk[32];
	int status = 1;
	if (ends_with(algo, ".lua")) {
		if (sbx_read_text("sandbox run", algo, 1 << 20, &script, &slen))
			goto out;
		job.lua_src = (const char *)script;
		job.lua_len = slen;
	} else if (!lb_algo_find(algo)) {
		fprintf(stderr, "leben sandbox run: no built-in algorithm '%s' (see 'leben sandbox algorithms'; a "
				"script must end in .lua)\n", algo);
		status = 2;
		goto out;
	} else {
		job.algorithm = algo;
	}
	if (sbx_read_text("sandbox run", input, SBX_MAX_INPUT, &data, &len))
		goto out;
	if (key) {
		uint8_t *kd;
		size_t kl;
		if (sbx_read_text("sandbox run", key, 4096, &kd, &kl))
			goto out;
		while (kl && (kd[kl - 1] == '\n' || kd[kl - 1] == '\r' || kd[kl - 1] == ' '))
			kd[--kl] = 0;
		int krc = lb_hex_decode(sk, 32, (const char *)kd);
		sodium_memzero(kd, kl);
		lb_free(kd);
		if (krc != LB_OK) {
			cli_failf("sandbox run", "%s: expected 64 hex characters (a key made by 'leben envelope keygen')", key);
			goto out;
		}
		crypto_scalarmult_base(pk, sk);
		job.input.sealed = true;
		job.open_sk = sk;
		job.open_pk = pk;
	}
	char *excl = NULL;
	const char **ids = NULL;
	if (exclude_s) {
		excl = lb_strdup(exclude_s);
		ids = lb_calloc(strlen(exclude_s) / 2 + 2, sizeof *ids);
		if (!excl || !ids)
			goto out_ids;
		for (char *save = NULL, *tok = strtok_r(excl, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			ids[job.nexclude++] = tok;
		job.exclude = ids;
	}
	job.input.data = data;
	job.input.len = len;
	job.params = params;
	job.min_cohort = pol.min_cohort;
	job.noise = pol.epsilon > 0;
	if (job.algorithm && !strcmp(job.algorithm, "stats") && json_object_get(params, "bins") &&
	    !json_object_get(params, "ranges") && pol.nbounds) {
		/* histogram ranges from the policy's bounds (never from the data) */
		json_t *rg = json_object();
		for (size_t i = 0; i < pol.nbounds; i++)
			json_object_set_new(rg, pol.bounds[i].name, json_pack("[f,f]", pol.bounds[i].lo, pol.bounds[i].hi));
		json_object_set_new(params, "ranges", rg);
	}
	job.review = review;
	struct lb_sandbox_report rep;
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_sandbox_run(&job, &rep, &em);
	sodium_memzero(sk, sizeof sk);
	if (rc && rep.status == LB_SANDBOX_OK) { /* never started */
		cli_fail("sandbox run", &em, NULL);
		goto out;
	}
	json_t *rj = lb_sandbox_report_json(&rep);
	json_object_del(rj, "result"); /* the raw result is shown only through the policy */
	if (rc) {
		if (json) {
			json_t *o = json_pack("{sO}", "sandbox", rj);
			cli_print_json(o);
			json_decref(o);
		} else {
			fprintf(stderr, "leben sandbox run: stopped (%s): %s\n", lb_sandbox_status_name(rep.status),
				rep.reason);
		}
	} else {
		struct sbx_rel how = {.with_prov = true, .prov = rep.prov, .history_db = history, .review = review};
		status = release_common("sandbox run", &pol, rep.result, rj, user, asset, budget_db, seal_to, out,
					json, &how);
	}
	json_decref(rj);
	lb_sandbox_report_release(&rep);
out_ids:
	lb_free(excl);
	lb_free(ids);
out:
	sodium_memzero(sk, sizeof sk);
	if (data)
		sodium_memzero(data, len);
	lb_free(data);
	lb_free(script);
	json_decref(params);
	return status;
}

int cmd_sandbox(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(sandbox_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return sandbox_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "algorithms"))
		return sandbox_algorithms(argc - 1, argv + 1);
	fprintf(stderr, "leben sandbox: '%s' is not a sandbox subcommand (run, algorithms)\n", argv[1]);
	return 2;
}

