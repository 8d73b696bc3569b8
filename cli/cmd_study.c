/*
 * `leben study run`: one study over several owners' tables without pooling them. The
 * algorithm is decomposed into local steps whose partial sums are combined by secure
 * aggregation (lb_fed_run); every owner is played on this machine. The combined result goes
 * through the release policy like a sandbox result. The chain-driven form is `leben exchange`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "leben/algo.h"
#include "leben/base.h"
#include "leben/sandbox.h"
#include "sandbox_cli.h"

#define SBX_MAX_OWNERS 64

static const char study_help[] =
	"usage: leben study run --owners T1.csv,T2.csv[,...] --algorithm stats|logreg|km\n"
	"                       [--params JSON] [--policy FILE.json] [--plain] [--sandboxed] [--json]\n"
	"\n"
	"Run one study over several institutions' tables without pooling them: the algorithm is\n"
	"split into steps that run at each owner, and only their partial sums travel, combined by\n"
	"secure aggregation so no single owner's partial result is seen. This command plays every\n"
	"owner on this machine (to try a study or check a decomposition); across nodes,\n"
	"'leben exchange' runs one algorithm on one owner's asset. The combined result goes\n"
	"through the release policy.\n"
	"\n"
	"  --owners LIST     comma-separated CSV files, one per owner (same column names)\n"
	"  --algorithm NAME  stats (add \"bins\" and \"range\" for histograms), logreg, or km (needs\n"
	"                    \"grid\": the times every owner reports counts at)\n"
	"  --params JSON     algorithm parameters\n"
	"  --policy FILE     release policy (as for 'leben sandbox run')\n"
	"  --plain           sum partial results in the clear (for comparison only)\n"
	"  --sandboxed       run each owner's local step of each round in its own sandbox\n"
	"  --json            machine-readable output\n";

/* ---- study ------------------------------------------------------------------------------------ */

static int study_run(int argc, char **argv)
{
	const char *owners = NULL, *algo = NULL, *params_s = NULL, *policy = NULL;
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
