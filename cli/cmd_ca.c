/* `leben ca`: the consortium's certificate authority - create it, issue node certificates. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "leben/ca.h"

static const char ca_help[] =
	"usage: leben ca init --dir DIR --name NAME [--days N] [--json]\n"
	"       leben ca issue --dir DIR --name NODE (--home HOME | --out DIR2)\n"
	"                      [--org TEXT] [--dns NAME]... [--ip ADDR]... [--days N]\n"
	"                      [--replace] [--json]\n"
	"       leben ca revoke --dir DIR (--cert FILE | --home HOME) [--days N] [--json]\n"
	"       leben ca crl    --dir DIR [--days N]\n"
	"       leben ca rotate --dir DIR --name NEWNAME [--days N]\n"
	"       leben ca retire --dir DIR\n"
	"\n"
	"The consortium's own certificate authority for mutual TLS between member institutions\n"
	"(node to etcd, etcd member to etcd member). Only certificates signed by this CA are\n"
	"accepted on those links.\n"
	"\n"
	"  init   create DIR/ca.pem (give it to every member) and DIR/ca.key (the signing key:\n"
	"         keep it on a machine that is not a node, readable only by the CA operator)\n"
	"  issue  make a key and a certificate for node NODE, signed by the CA in DIR, usable as\n"
	"         TLS server and client; written as node.pem, node.key (mode 0600) and ca.pem\n"
	"         into HOME/tls (a node home) or DIR2 (e.g. for an etcd member)\n"
	"  revoke revoke a certificate of this CA (FILE, or HOME/tls/node.pem): it is added to\n"
	"         DIR/revoked.txt and DIR/crl.pem is written again. Copy crl.pem to every node's\n"
	"         tls_crl file and every etcd member's --client-crl-file/--peer-crl-file: nodes and\n"
	"         etcd read the changed file by themselves, no restart needed\n"
	"  crl    write DIR/crl.pem again (renew it before it runs out: default 30 days)\n"
	"  rotate start a CA rotation: the current CA moves to DIR/retired/, a new CA NEWNAME is\n"
	"         made, DIR/trust.pem holds both; issue every certificate again from the new CA\n"
	"         (it writes trust.pem as ca.pem) and restart members one at a time\n"
	"  retire end the rotation: only the new CA is trusted by certificates issued from now\n"
	"         on; install DIR/ca.pem alone everywhere, one member at a time\n"
	"\n"
	"  --dir DIR     directory of the CA (ca.pem, ca.key)\n"
	"  --name NAME   CA name (init) or node id (issue): letters, digits, '-', '.', '_'\n"
	"  --org TEXT    institution written into the certificate\n"
	"  --dns NAME    another DNS name the certificate is valid for (repeatable; the node id\n"
	"                and localhost are always included)\n"
	"  --ip ADDR     an IP address it is valid for (repeatable; 127.0.0.1 always included)\n"
	"  --days N      validity (default 3650 for a CA, 825 for a node, 30 for a CRL)\n"
	"  --cert FILE   revoke: the certificate (PEM) to revoke\n"
	"  --replace     overwrite an existing node key and certificate\n"
	"  --json        print the written files as JSON\n";

int cmd_ca(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, 0, 'd'},  {"name", required_argument, 0, 'n'},
		{"home", required_argument, 0, 'H'}, {"out", required_argument, 0, 'o'},
		{"org", required_argument, 0, 'g'},  {"dns", required_argument, 0, 'D'},
		{"ip", required_argument, 0, 'i'},   {"days", required_argument, 0, 'y'},
		{"replace", no_argument, 0, 'r'},    {"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},       {"cert", required_argument, 0, 'c'},
		{0, 0, 0, 0}};
	const char *dir = NULL, *name = NULL, *home = NULL, *out = NULL, *cert = NULL;
	struct lb_ca_subject s = {0};
	long days = -1;
	int json = 0, replace = 0, c;
	struct lb_errmsg em;
	char outdir[4200];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(ca_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'n': name = optarg; break;
		case 'H': home = optarg; break;
		case 'o': out = optarg; break;
		case 'g': s.org = optarg; break;
		case 'D':
			if (s.ndns == LB_CA_MAX_SANS)
				return cli_failf("ca", "at most %d --dns names", LB_CA_MAX_SANS);
			s.dns[s.ndns++] = optarg;
			break;
		case 'i':
			if (s.nips == LB_CA_MAX_SANS)
				return cli_failf("ca", "at most %d --ip addresses", LB_CA_MAX_SANS);
			s.ips[s.nips++] = optarg;
			break;
		case 'y': {
			char *end;
			days = strtol(optarg, &end, 10);
			if (*end || days < 1 || days > 36500)
				return cli_failf("ca", "--days must be a number from 1 to 36500");
			break;
		}
		case 'r': replace = 1; break;
		case 'c': cert = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(ca_help, stdout); return 0;
		default: fputs(ca_help, stderr); return 2;
		}
	}
	if (optind + 1 < argc || !dir) {
		fputs(ca_help, stderr);
		return 2;
	}
	if (!strcmp(sub, "revoke")) {
		char cn[300] = "", path[4200];
		if (!cert == !home)
			return cli_failf("ca", "revoke needs --cert FILE or --home HOME (its "
					       "tls/node.pem)");
		if (home)
			snprintf(path, sizeof path, "%s/tls/node.pem", home);
		else
			snprintf(path, sizeof path, "%s", cert);
		if (lb_ca_revoke(dir, path, days > 0 ? (unsigned)days : 30, cn, sizeof cn, &em))
			return cli_fail("ca", &em, NULL);
		if (json)
			printf("{\"revoked\":\"%s\",\"crl\":\"%s/crl.pem\"}\n", cn, dir);
		else
			printf("certificate '%s' revoked; revocation list written: %s/crl.pem\n"
			       "install it as every node's tls_crl file and every etcd member's "
			       "--client-crl-file and --peer-crl-file\n",
			       cn, dir);
		return 0;
	}
	if (!strcmp(sub, "crl")) {
		if (lb_ca_crl(dir, days > 0 ? (unsigned)days : 30, &em))
			return cli_fail("ca", &em, NULL);
		printf("revocation list written: %s/crl.pem (in force for %ld days)\n", dir,
		       days > 0 ? days : 30);
		return 0;
	}
	if (!strcmp(sub, "retire")) {
		if (lb_ca_retire(dir, &em))
			return cli_fail("ca", &em, NULL);
		printf("rotation finished: certificates issued from now on trust only %s/ca.pem; "
		       "install it as ca.pem on every member, one at a time\n",
		       dir);
		return 0;
	}
	if (!name) {
		fputs(ca_help, stderr);
		return 2;
	}
	if (!strcmp(sub, "rotate")) {
		if (lb_ca_rotate(dir, name, days > 0 ? (unsigned)days : 3650, &em))
			return cli_fail("ca", &em, NULL);
		printf("new CA '%s' made in %s; the old one is in %s/retired/.\n"
		       "1. install %s/trust.pem as ca.pem on every member (nodes and etcd), "
		       "restarting one at a time\n"
		       "2. issue every certificate again: leben ca issue --dir %s --name NODE "
		       "--home HOME --replace; restart one at a time\n"
		       "3. leben ca retire --dir %s, then install %s/ca.pem alone, one at a time\n",
		       name, dir, dir, dir, dir, dir, dir);
		return 0;
	}
	if (!strcmp(sub, "init")) {
		if (lb_ca_init(dir, name, days > 0 ? (unsigned)days : 3650, &em))
			return cli_fail("ca", &em, NULL);
		if (json)
			printf("{\"certificate\":\"%s/ca.pem\",\"key\":\"%s/ca.key\"}\n", dir, dir);
		else
			printf("consortium CA '%s' created: %s/ca.pem (share it), %s/ca.key (keep it "
			       "private)\n",
			       name, dir, dir);
		return 0;
	}
	if (strcmp(sub, "issue")) {
		fputs(ca_help, stderr);
		return 2;
	}
	if (!home == !out)
		return cli_failf("ca", "give exactly one of --home (a node home) or --out (a "
				       "directory) for the new certificate");
	if (home)
		snprintf(outdir, sizeof outdir, "%s/tls", home);
	else
		snprintf(outdir, sizeof outdir, "%s", out);
	s.name = name;
	s.days = days > 0 ? (unsigned)days : 825;
	if (lb_ca_issue(dir, outdir, &s, replace, &em))
		return cli_fail("ca", &em, NULL);
	if (json)
		printf("{\"node\":\"%s\",\"certificate\":\"%s/node.pem\",\"key\":\"%s/node.key\","
		       "\"ca\":\"%s/ca.pem\"}\n",
		       name, outdir, outdir, outdir);
	else
		printf("certificate for '%s' issued: %s/node.pem, %s/node.key, %s/ca.pem\n", name,
		       outdir, outdir, outdir);
	return 0;
}
