/* `leben init`: create a node home (keys, genesis, config), optionally with demo accounts. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/ledger.h"
#include "leben/node.h"

static const char usage_text[] =
	"usage: leben init [--home DIR] [--demo] [--market] [--network NAME] [--api-port N]\n"
	"\n"
	"Create a new node home: an encrypted key for the node (it signs blocks), the genesis\n"
	"file that fixes the network (initial balances, credit partners, conversion rate, fees)\n"
	"and config.json. The passphrase comes from LEBEN_PASSPHRASE or is asked for.\n"
	"\n"
	"  --home DIR      where to create it (default $LEBEN_HOME or ~/.leben)\n"
	"  --demo          also create the demo accounts alice, bob, clinic (funded) and bank\n"
	"                  (a credit partner that may issue ASC), all with the same passphrase\n"
	"  --market        turn the market layer on: genesis gets a \"market\" section with the\n"
	"                  default split tables and a key 'platform' for the platform pool\n"
	"                  (docs/economy.md)\n"
	"  --network NAME  network name written into genesis (default leben-local)\n"
	"  --api-port N    API port written into config.json (default 7800)\n"
	"\n"
	"Without --demo the node's own address is the credit partner and holds 1,000,000 CSC;\n"
	"edit genesis.json before the first 'leben node' to set real balances and partners.\n";

static int make_key(const char *keys, const char *name, const char *pass,
		    struct lb_keypair *kp, char addr[LB_ADDR_TEXT_LEN + 1])
{
	struct lb_errmsg em;
	uint8_t a[LB_ADDR_LEN];
	lb_keypair_generate(kp);
	if (lb_keystore_save(keys, name, kp, pass, &em))
		return cli_fail("init", &em, NULL);
	lb_addr_from_pubkey(a, kp->pk);
	lb_addr_encode(addr, a);
	return 0;
}

static json_t *account(const char *addr, json_int_t asc, json_int_t csc)
{
	return json_pack("{s:s,s:I,s:I}", "address", addr, "asc", asc * 1000000, "csc",
			 csc * 1000000);
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {{"home", required_argument, NULL, 'h'},
					     {"demo", no_argument, NULL, 'd'},
					     {"market", no_argument, NULL, 'm'},
					     {"network", required_argument, NULL, 'n'},
					     {"api-port", required_argument, NULL, 'p'},
					     {"help", no_argument, NULL, '?' + 256},
					     {NULL, 0, NULL, 0}};
	const char *home_opt = NULL, *network = "leben-local";
	bool demo = false, market = false;
	long port = 7800;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h': home_opt = optarg; break;
		case 'd': demo = true; break;
		case 'm': market = true; break;
		case 'n': network = optarg; break;
		case 'p':
			port = strtol(optarg, NULL, 10);
			if (port < 0 || port > 65535)
				return cli_failf("init", "--api-port must be 0-65535");
			break;
		case '?' + 256: fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	const char *home = cli_home(home_opt);
	char path[4200], keys[4200];
	struct stat st;
	struct lb_errmsg em;
	snprintf(path, sizeof path, "%s/genesis.json", home);
	if (stat(path, &st) == 0)
		return cli_failf("init", "%s already holds a node (genesis.json exists); choose "
					 "another --home or remove it first",
				 home);
	if (lb_crypto_init())
		return cli_failf("init", "libsodium failed to initialise");
	snprintf(keys, sizeof keys, "%s/keys", home);
	if (lb_mkdirs(keys, 0700, &em))
		return cli_fail("init", &em, NULL);
	char pass[256];
	if (cli_passphrase(pass, sizeof pass, "New passphrase for the node's keys: ", true))
		return 1;
	struct lb_keypair kp;
	char node_addr[LB_ADDR_TEXT_LEN + 1], addr[LB_ADDR_TEXT_LEN + 1];
	int rc = make_key(keys, "node", pass, &kp, node_addr);
	lb_keypair_wipe(&kp);
	json_t *accounts = json_array(), *partners = json_array();
	if (!rc && demo) {
		static const struct {
			const char *name;
			json_int_t asc, csc;
		} demo_accounts[] = {{"alice", 1000, 10000},
				     {"bob", 100, 1000},
				     {"clinic", 5000, 50000},
				     {"bank", 0, 1000}};
		for (size_t i = 0; i < 4 && !rc; i++) {
			rc = make_key(keys, demo_accounts[i].name, pass, &kp, addr);
			lb_keypair_wipe(&kp);
			if (rc)
				break;
			json_array_append_new(accounts, account(addr, demo_accounts[i].asc,
								demo_accounts[i].csc));
			if (!strcmp(demo_accounts[i].name, "bank"))
				json_array_append_new(partners, json_string(addr));
		}
	} else if (!rc) {
		json_array_append_new(accounts, account(node_addr, 0, 1000000));
		json_array_append_new(partners, json_string(node_addr));
	}
	char platform[LB_ADDR_TEXT_LEN + 1] = "";
	if (!rc && market) {
		rc = make_key(keys, "platform", pass, &kp, platform);
		lb_keypair_wipe(&kp);
	}
	sodium_memzero(pass, sizeof pass);
	if (rc) {
		json_decref(accounts);
		json_decref(partners);
		return rc;
	}
	json_t *g = json_pack("{s:s,s:I,s:o,s:{s:i,s:i},s:{s:i},s:o}", "network", network,
			      "time_ms", (json_int_t)lb_now_ms(), "credit_partners", partners,
			      "convert", "csc", 100, "asc", 1, "fees", "default", 1000, "accounts",
			      accounts);
	if (market)
		json_object_set_new(g, "market", json_pack("{s:s}", "platform", platform));
	/* surgery hospital ids are the members' names (docs/apps.md §4) */
	json_object_set_new(g, "surgery", json_pack("{s:b}", "bind_hospitals", 1));
	/* no two members of one name (NAME:SITE belongs to NAME): docs/consortium.md */
	json_object_set_new(g, "governance", json_pack("{s:b}", "unique_names", 1));
	struct lb_node_config cfg;
	lb_node_config_defaults(&cfg, home);
	cfg.api_port = (uint16_t)port;
	rc = lb_genesis_write(home, g, &em);
	json_decref(g);
	if (rc || (rc = lb_node_config_save(&cfg, &em)))
		return cli_fail("init", &em, NULL);
	printf("Created a LEBEN node home in %s\n", home);
	printf("  node key:  %s (address %s)\n", "node", node_addr);
	if (demo)
		printf("  demo keys: alice, bob, clinic (funded), bank (credit partner)\n");
	printf("Start it with: leben node --home %s\n", home);
	return 0;
}
