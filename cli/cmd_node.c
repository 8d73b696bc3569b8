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
	"                  [--orderer solo|etcd] [--etcd-endpoints URL[,URL...]]\n"
	"                  [--api-tls] [--tls-cert FILE] [--tls-key FILE] [--tls-ca FILE]\n"
	"                  [--tls-crl FILE]\n"
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
	"  --quiet          log warnings and errors only\n"
	"\n"
	"Consortium (one node per institution, ordered by an etcd cluster; docs/consortium.md):\n"
	"  --orderer etcd            order txs through etcd instead of inside this node\n"
	"  --etcd-endpoints URLS     the etcd members' client URLs, e.g.\n"
	"                            https://10.0.0.1:2379,https://10.0.0.2:2379\n"
	"  --api-tls                 serve the API over HTTPS with mutual TLS: only clients with\n"
	"                            a certificate from the consortium CA are answered\n"
	"                            (config.json \"api_tls\": true)\n"
	"  --tls-cert FILE           this node's certificate (default DIR/tls/node.pem)\n"
	"  --tls-key FILE            its key (default DIR/tls/node.key)\n"
	"  --tls-ca FILE             the consortium CA (default DIR/tls/ca.pem); make these\n"
	"                            with 'leben ca issue --home DIR'\n"
	"  --tls-crl FILE            the consortium CA's revocation lists (PEM): the API refuses\n"
	"                            clients whose certificate is listed (config \"tls_crl\")\n"
	"While etcd is unreachable or has lost its quorum the node keeps answering reads and\n"
	"refuses new txs with LB_EUNAVAILABLE (\"ordering unavailable\"); it resumes by itself.\n";

int cmd_node(int argc, char **argv)
{
	static const struct option opts[] = {{"home", required_argument, NULL, 'h'},
					     {"api-port", required_argument, NULL, 'p'},
					     {"api-bind", required_argument, NULL, 'b'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"orderer", required_argument, NULL, 'o'},
					     {"etcd-endpoints", required_argument, NULL, 'e'},
					     {"api-tls", no_argument, NULL, 't'},
					     {"tls-cert", required_argument, NULL, 'c'},
					     {"tls-key", required_argument, NULL, 'k'},
					     {"tls-ca", required_argument, NULL, 'a'},
					     {"tls-crl", required_argument, NULL, 'r'},
					     {"help", no_argument, NULL, '?' + 256},
					     {NULL, 0, NULL, 0}};
	const char *home_opt = NULL, *bind = NULL, *orderer = NULL, *endpoints = NULL;
	const char *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL, *tls_crl = NULL;
	long port = -1;
	bool api_tls = false;
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
		case 'o':
			if (strcmp(optarg, "solo") && strcmp(optarg, "etcd"))
				return cli_failf("node", "--orderer must be solo or etcd");
			orderer = optarg;
			break;
		case 'e': endpoints = optarg; break;
		case 't': api_tls = true; break;
		case 'c': tls_cert = optarg; break;
		case 'k': tls_key = optarg; break;
		case 'a': tls_ca = optarg; break;
		case 'r': tls_crl = optarg; break;
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
	if (api_tls)
		cfg.api_tls = true;
	if (bind)
		snprintf(cfg.api_bind, sizeof cfg.api_bind, "%s", bind);
	struct {
		const char *val;
		char *dst;
		size_t n;
		const char *opt;
	} strs[] = {{orderer, cfg.orderer, sizeof cfg.orderer, "--orderer"},
		    {endpoints, cfg.etcd_endpoints, sizeof cfg.etcd_endpoints, "--etcd-endpoints"},
		    {tls_cert, cfg.tls_cert, sizeof cfg.tls_cert, "--tls-cert"},
		    {tls_key, cfg.tls_key, sizeof cfg.tls_key, "--tls-key"},
		    {tls_ca, cfg.tls_ca, sizeof cfg.tls_ca, "--tls-ca"},
		    {tls_crl, cfg.tls_crl, sizeof cfg.tls_crl, "--tls-crl"}};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		if (!strs[i].val)
			continue;
		if (strlen(strs[i].val) >= strs[i].n)
			return cli_failf("node", "%s is too long (at most %zu characters)",
					 strs[i].opt, strs[i].n - 1);
		snprintf(strs[i].dst, strs[i].n, "%s", strs[i].val);
	}
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
	if (!rc) {
		/* the runs of POST /v1/exchange/runs reach this node here (a wildcard bind on
		 * loopback; an IPv6 address in brackets) */
		char url[300];
		bool any = !strcmp(cfg.api_bind, "0.0.0.0") || !strcmp(cfg.api_bind, "::");
		bool v6 = !any && strchr(cfg.api_bind, ':');
		snprintf(url, sizeof url, "%s://%s%s%s:%u", cfg.api_tls ? "https" : "http",
			 v6 ? "[" : "", any ? "127.0.0.1" : cfg.api_bind, v6 ? "]" : "",
			 lb_node_api_port(n));
		if (cli_exchange_runner(home, url, &kp)) {
			lb_keypair_wipe(&kp);
			lb_node_stop(n);
			return 1;
		}
	}
	lb_keypair_wipe(&kp);
	if (rc)
		return cli_fail("node", &em, NULL);
	lb_log(LB_LOG_INFO, "node started (home %s, orderer %s, blocks every %zu txs or %u ms)",
	       home, cfg.orderer, cfg.block_max_txs, cfg.block_interval_ms);
	fprintf(stderr, "API listening on %s://%s:%u%s\n", cfg.api_tls ? "https" : "http",
		cfg.api_bind, lb_node_api_port(n), cfg.api_tls ? " (mutual TLS)" : "");
	fflush(stderr);
	int sig;
	sigwait(&set, &sig);
	lb_log(LB_LOG_INFO, "stopping (signal %d): committing accepted txs", sig);
	lb_node_stop(n);
	lb_log(LB_LOG_INFO, "stopped");
	return 0;
}
