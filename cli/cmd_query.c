/*
 * `leben query account|tx|block|chains|status`: read-only questions to a node's API, printed
 * for a person (amounts as decimals, addresses as lb1...) or as JSON with --json.
 */
#include <stdio.h>
#include <string.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/crypto.h"

#define CMD "query"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben query WHAT [ARGS] [--home DIR] [--node URL] [--json]\n"
		"\n"
		"Ask the node about its ledger. Nothing is changed.\n"
		"\n"
		"  account ADDRESS|KEY     balances (ASC, CSC), identity and next nonce of an account;\n"
		"                          KEY is the name of a key in <home>/keys\n"
		"  tx ID                   status of a tx (pending, committed or invalid), its block\n"
		"                          and its decoded fields\n"
		"  block CHAIN HEIGHT      a block of the settlement, directory or business chain;\n"
		"                          HEIGHT is a number or 'latest'\n"
		"  chains                  height and latest block hash of the three chains\n"
		"  status                  the node: network id, chains, waiting txs, fees\n"
		"\n"
		"options:\n"
		"  --home DIR   node home (default $LEBEN_HOME or ~/.leben), for key names and the port\n"
		"  --node URL   node API (default $LEBEN_NODE, or the port in <home>/config.json)\n"
		"  --json       print the node's JSON answer, for scripts\n"
		"\n"
		"examples:\n"
		"  leben query account alice\n"
		"  leben query block settlement latest\n");
}

static int show(json_t *j, bool as_json, const char *title)
{
	if (as_json) {
		cli_print_json(j);
	} else {
		if (title)
			printf("%s\n", title);
		cli_print_human(j, title ? 2 : 0);
	}
	return 0;
}

int cmd_query(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *pos[3];
	bool json = false, help = false;
	const struct copt opts[] = {
		{"--home", &home, NULL}, {"--node", &node, NULL}, {"--json", NULL, &json},
		{"--help", NULL, &help}, {"-h", NULL, &help}, {NULL, NULL, NULL},
	};
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, 3, &npos)))
		return rc;
	if (help) {
		usage(stdout);
		return 0;
	}
	if (npos == 0) {
		usage(stderr);
		return 2;
	}
	home = cli_home(home);
	const char *url = cli_node_url(node, home), *what = pos[0];
	char path[256], title[200];
	struct {
		const char *what;  /* subcommand */
		int nargs;         /* arguments it takes */
		const char *args;  /* for the error message */
	} const forms[] = {
		{"account", 1, "ADDRESS|KEY"}, {"tx", 1, "ID"}, {"block", 2, "CHAIN HEIGHT|latest"},
		{"chains", 0, ""}, {"status", 0, ""},
	};
	int f = -1;
	for (int i = 0; i < (int)(sizeof forms / sizeof forms[0]); i++)
		if (!strcmp(what, forms[i].what))
			f = i;
	if (f < 0) {
		cli_failf(CMD, "'%s' is not something to query; use account, tx, block, chains or status",
			  what);
		return 2;
	}
	if (npos - 1 != forms[f].nargs) {
		cli_failf(CMD, "usage: leben query %s %s", what, forms[f].args);
		return 2;
	}
	title[0] = 0;
	if (!strcmp(what, "account")) {
		uint8_t addr[LB_ADDR_LEN];
		char text[LB_ADDR_TEXT_LEN + 1];
		if (cli_resolve_address(CMD, home, pos[1], addr))
			return 1;
		lb_addr_encode(text, addr);
		snprintf(path, sizeof path, "/v1/accounts/%s", text);
		snprintf(title, sizeof title, "Account %s%s%s%s", text,
			 strcmp(text, pos[1]) ? " (key " : "", strcmp(text, pos[1]) ? pos[1] : "",
			 strcmp(text, pos[1]) ? ")" : "");
	} else if (!strcmp(what, "tx")) {
		uint8_t id[LB_HASH_LEN];
		if (lb_hex_decode(id, sizeof id, pos[1])) {
			cli_failf(CMD, "'%s' is not a tx id: it has 64 hex digits, as 'leben tx' printed it",
				  pos[1]);
			return 2;
		}
		snprintf(path, sizeof path, "/v1/txs/%s", pos[1]);
		snprintf(title, sizeof title, "Tx %s", pos[1]);
	} else if (!strcmp(what, "block")) {
		if (strlen(pos[1]) > 32 || strlen(pos[2]) > 24 || strchr(pos[1], '/') ||
		    strchr(pos[2], '/')) {
			cli_failf(CMD, "usage: leben query block CHAIN HEIGHT|latest");
			return 2;
		}
		snprintf(path, sizeof path, "/v1/chains/%s/blocks/%s", pos[1], pos[2]);
		snprintf(title, sizeof title, "Block %s of the %s chain", pos[2], pos[1]);
	} else {
		snprintf(path, sizeof path, "/v1/%s", what);
	}
	json_t *j;
	if (cli_api_get(CMD, url, path, &j))
		return 1;
	rc = show(j, json, title[0] ? title : NULL);
	json_decref(j);
	return rc;
}
