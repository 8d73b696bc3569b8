/* `leben keys`: create, list and show the encrypted keys of a node home. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "leben/base.h"

static const char usage_text[] =
	"usage: leben keys new NAME | list | show NAME   [--home DIR] [--json]\n"
	"\n"
	"Keys live encrypted in DIR/keys/NAME.key (Argon2id + XChaCha20-Poly1305). The\n"
	"passphrase comes from LEBEN_PASSPHRASE or is asked for (twice for a new key).\n"
	"\n"
	"  new NAME   create a key; prints its address (give that address to others)\n"
	"  list       every key with its address\n"
	"  show NAME  one key's address and public key\n";

struct list_ctx {
	json_t *arr;
};

static json_t *key_json(const char *name, const uint8_t pk[LB_PUBKEY_LEN])
{
	uint8_t a[LB_ADDR_LEN];
	char addr[LB_ADDR_TEXT_LEN + 1], hex[2 * LB_PUBKEY_LEN + 1];
	lb_addr_from_pubkey(a, pk);
	lb_addr_encode(addr, a);
	lb_hex_encode(hex, pk, LB_PUBKEY_LEN);
	return json_pack("{s:s,s:s,s:s}", "name", name, "address", addr, "public_key", hex);
}

static int list_one(const char *name, const uint8_t pk[LB_PUBKEY_LEN], void *ctx)
{
	json_array_append_new(((struct list_ctx *)ctx)->arr, key_json(name, pk));
	return 0;
}

static void print_key(json_t *k, bool json)
{
	if (json)
		cli_print_json(k);
	else
		printf("%-16s %s\n", json_string_value(json_object_get(k, "name")),
		       json_string_value(json_object_get(k, "address")));
}

int cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {{"home", required_argument, NULL, 'h'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, '?' + 256},
					     {NULL, 0, NULL, 0}};
	const char *home_opt = NULL;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h': home_opt = optarg; break;
		case 'j': json = true; break;
		case '?' + 256: fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	const char *sub = argv[optind], *name = optind + 1 < argc ? argv[optind + 1] : NULL;
	char dir[4200];
	struct lb_errmsg em;
	snprintf(dir, sizeof dir, "%s/keys", cli_home(home_opt));
	if (lb_crypto_init())
		return cli_failf("keys", "libsodium failed to initialise");
	if (!strcmp(sub, "list")) {
		struct list_ctx lc = {json_array()};
		if (lb_keystore_list(dir, list_one, &lc, &em)) {
			json_decref(lc.arr);
			return cli_fail("keys", &em, NULL);
		}
		if (json) {
			cli_print_json(lc.arr);
		} else if (json_array_size(lc.arr) == 0) {
			printf("No keys in %s. Create one with 'leben keys new NAME'.\n", dir);
		} else {
			size_t i;
			json_t *k;
			json_array_foreach(lc.arr, i, k) print_key(k, false);
		}
		json_decref(lc.arr);
		return 0;
	}
	if (!name || (strcmp(sub, "new") && strcmp(sub, "show"))) {
		fputs(usage_text, stderr);
		return 2;
	}
	uint8_t pk[LB_PUBKEY_LEN];
	if (!strcmp(sub, "new")) {
		if (!lb_keyname_is_valid(name))
			return cli_failf("keys", "'%s' is not a usable key name: use 1-64 letters, "
						 "digits, '.', '_' or '-'",
					 name);
		char pass[256];
		struct lb_keypair kp;
		if (cli_passphrase(pass, sizeof pass, "Passphrase for the new key: ", true))
			return 1;
		lb_keypair_generate(&kp);
		int rc = lb_keystore_save(dir, name, &kp, pass, &em);
		sodium_memzero(pass, sizeof pass);
		memcpy(pk, kp.pk, LB_PUBKEY_LEN);
		lb_keypair_wipe(&kp);
		if (rc)
			return cli_fail("keys", &em, NULL);
	} else if (lb_keystore_public(dir, name, pk, &em)) {
		return cli_fail("keys", &em, "'leben keys list' shows the keys in this home");
	}
	json_t *k = key_json(name, pk);
	if (json)
		cli_print_json(k);
	else if (!strcmp(sub, "show"))
		printf("name:       %s\naddress:    %s\npublic key: %s\n", name,
		       json_string_value(json_object_get(k, "address")),
		       json_string_value(json_object_get(k, "public_key")));
	else
		printf("Created key '%s'\naddress: %s\n", name,
		       json_string_value(json_object_get(k, "address")));
	json_decref(k);
	return 0;
}
