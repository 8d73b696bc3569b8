/* `leben node`: run a node until interrupted (Ctrl-C or SIGTERM). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/node.h"

static const char usage_text[] =
	"usage: leben node [--home DIR] [--api-port N] [--api-bind ADDR] [--quiet]\n"
	"\n"
	"Run this institution's node: the three chains (settlement, directory, business), the\n"
	"orderer and the HTTP API. Settings come from DIR/config.json (see docs/operations.md);\n"
	"the options below override them for this run. The node key's passphrase comes from\n"
	"LEBEN_PASSPHRASE or is asked for. Stop the node with Ctrl-C or SIGTERM: it commits\n"
	"what it has accepted, then exits.\n"
	"\n"
	"  --home DIR       node home created by 'leben init' (default $LEBEN_HOME or ~/.leben)\n"
	"  --api-port N     API port (0 picks a free one; the chosen URL is printed)\n"
	"  --api-bind ADDR  API address (default 127.0.0.1: this machine only)\n"
	"  --quiet          log warnings and errors only\n";

int cmd_node(int argc, char **argv)
{
	static const struct option opts[] = {{"home", required_argument, NULL, 'h'},
					     {"api-port", required_argument, NULL, 'p'},
					     {"api-bind", required_argument, NULL, 'b'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, '?' + 256},
					     {NULL, 0, NULL, 0}};
	const char *home_opt = NULL, *bind = NULL;
	long port = -1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h': home_opt = optarg; break;
		case 'p':
			port = strtol(optarg, NULL, 10);
			if (port < 0 || port > 65535)
				return cli_failf("node", "--api-port must be 0-65535");
			break;
		case 'b': bind = optarg; break;
		case 'q': lb_log_set_level(LB_LOG_WARN); break;
		case '?' + 256: fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	const char *home = cli_home(home_opt);
	struct lb_node_config cfg;
	struct lb_errmsg em;
	char gpath[4200];
	snprintf(gpath, sizeof gpath, "%s/genesis.json", home);
	if (access(gpath, F_OK) != 0)
		return cli_failf("node",
				 "%s is not a node home (it has no genesis.json); create one with "
				 "'leben init --home %s' (add --demo for demo accounts)",
				 home, home);
	if (lb_node_config_load(&cfg, home, &em))
		return cli_fail("node", &em, NULL);
	if (port >= 0)
		cfg.api_port = (uint16_t)port;
	if (bind)
		snprintf(cfg.api_bind, sizeof cfg.api_bind, "%s", bind);
	if (lb_crypto_init())
		return cli_failf("node", "libsodium failed to initialise");
	struct lb_keypair kp;
	if (cli_load_key(home, "node", &kp))
		return 1;
	/* block the stop signals in every thread; this one waits for them */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct lb_node *n;
	int rc = lb_node_start(&n, &cfg, &kp, &em);
	lb_keypair_wipe(&kp);
	if (rc)
		return cli_fail("node", &em, NULL);
	lb_log(LB_LOG_INFO, "node started (home %s, orderer %s, blocks every %zu txs or %u ms)",
	       home, cfg.orderer, cfg.block_max_txs, cfg.block_interval_ms);
	fprintf(stderr, "API listening on http://%s:%u\n", cfg.api_bind, lb_node_api_port(n));
	fflush(stderr);
	int sig;
	sigwait(&set, &sig);
	lb_log(LB_LOG_INFO, "stopping (signal %d): committing accepted txs", sig);
	lb_node_stop(n);
	lb_log(LB_LOG_INFO, "stopped");
	return 0;
}
