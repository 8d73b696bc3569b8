/* `leben keys`: create, list and show the encrypted keys of a node home. */
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdlib.h>

#include <sodium.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/envelope.h"
#include "leben/security.h"
#include "leben/shamir.h"
#include "leben/zkp.h"
#include "sectx.h"

static const char usage_text[] =
	"usage: leben keys new NAME | list | show NAME | passphrase NAME   [--home DIR] [--json]\n"
	"\n"
	"Keys live encrypted in DIR/keys/NAME.key (Argon2id + XChaCha20-Poly1305). The\n"
	"passphrase comes from LEBEN_PASSPHRASE or is asked for (twice for a new key).\n"
	"\n"
	"  new NAME   create a key; prints its address (give that address to others)\n"
	"  list       every key with its address\n"
	"  show NAME  one key's address and public key\n"
	"  passphrase NAME\n"
	"             change the passphrase of key NAME and of every keystore file kept\n"
	"             under it (its ABE master key keys/NAME.abemsk, its ABE keys\n"
	"             abe/keys/NAME/*.abekey): the current one is asked first (or\n"
	"             LEBEN_PASSPHRASE), the new one twice (or LEBEN_NEW_PASSPHRASE). After\n"
	"             'keys recover' under a new passphrase, give the old one first: the\n"
	"             files still under it are moved to the new one. A file that opens with\n"
	"             neither stops it before anything is written\n";

/* One keystore file kept under a key's passphrase: the key itself (kind NULL) or a secret. */
struct kfile {
	char dir[4200], name[LB_KEYNAME_MAX + 1], kind[16];
	bool redo; /* under the old passphrase (else: under the new one already) */
};

static int kfile_add(struct kfile **fs, size_t *n, const char *dir, const char *name,
		     const char *kind)
{
	struct kfile *p = realloc(*fs, (*n + 1) * sizeof *p);
	if (!p)
		return 1;
	*fs = p;
	memset(&p[*n], 0, sizeof p[*n]);
	snprintf(p[*n].dir, sizeof p[*n].dir, "%s", dir);
	snprintf(p[*n].name, sizeof p[*n].name, "%s", name);
	snprintf(p[*n].kind, sizeof p[*n].kind, "%s", kind ? kind : "");
	(*n)++;
	return 0;
}

/* Every keystore file of key name in home: the key, its ABE master key, its ABE keys. */
static int kfiles_of(const char *home, const char *name, struct kfile **fs, size_t *n)
{
	char dir[4200], path[4400];
	struct stat st;
	snprintf(dir, sizeof dir, "%s/keys", home);
	if (kfile_add(fs, n, dir, name, NULL))
		return 1;
	snprintf(path, sizeof path, "%s/%s.abemsk", dir, name);
	if (stat(path, &st) == 0 && kfile_add(fs, n, dir, name, "abemsk"))
		return 1;
	snprintf(dir, sizeof dir, "%s/abe/keys/%s", home, name);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char auth[LB_KEYNAME_MAX + 1];
		if (l <= 7 || l - 7 > LB_KEYNAME_MAX || strcmp(e->d_name + l - 7, ".abekey"))
			continue;
		snprintf(auth, sizeof auth, "%.*s", (int)(l - 7), e->d_name);
		if (lb_keyname_is_valid(auth))
			rc = kfile_add(fs, n, dir, auth, "abekey");
	}
	closedir(d);
	return rc;
}

static void kfile_path(const struct kfile *f, char *out, size_t n)
{
	snprintf(out, n, "%s/%s.%s", f->dir, f->name, f->kind[0] ? f->kind : "key");
}

/* leben keys passphrase NAME: every file checked first (old or new passphrase), then each one
 * under the old passphrase written again under the new one (atomically, one by one). */
static int keys_passphrase(const char *home, const char *name, bool json)
{
	const char *cmd = "keys passphrase";
	char oldp[256], newp[256], path[4400];
	struct kfile *fs = NULL;
	size_t n = 0, redo = 0;
	struct lb_errmsg em;
	int rc = 1;
	if (!lb_keyname_is_valid(name))
		return cli_failf(cmd, "'%s' is not a usable key name", name);
	const char *envnew = getenv("LEBEN_NEW_PASSPHRASE");
	if (!envnew && getenv("LEBEN_PASSPHRASE"))
		return cli_failf(cmd, "LEBEN_PASSPHRASE gives the current passphrase: give the new "
				      "one in LEBEN_NEW_PASSPHRASE (or unset both to be asked)");
	if (cli_passphrase(oldp, sizeof oldp, "Current passphrase: ", false))
		return 1;
	if (envnew) {
		if (strlen(envnew) >= sizeof newp) {
			sodium_memzero(oldp, sizeof oldp);
			return cli_failf(cmd, "LEBEN_NEW_PASSPHRASE is longer than %zu bytes",
					 sizeof newp - 1);
		}
		snprintf(newp, sizeof newp, "%s", envnew);
	} else if (cli_passphrase(newp, sizeof newp, "New passphrase: ", true)) {
		sodium_memzero(oldp, sizeof oldp);
		return 1;
	}
	if (!newp[0] || !strcmp(oldp, newp)) {
		rc = cli_failf(cmd, "the new passphrase is %s; nothing was changed",
			       newp[0] ? "the current one" : "empty");
		goto out;
	}
	if (kfiles_of(home, name, &fs, &n)) {
		rc = cli_failf(cmd, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) { /* check every file before writing any */
		int r = lb_keystore_rekey(fs[i].dir, fs[i].name, fs[i].kind[0] ? fs[i].kind : NULL,
					  oldp, newp, true, &em);
		kfile_path(&fs[i], path, sizeof path);
		if (r == LB_EPASSPHRASE) {
			fprintf(stderr, "leben %s: %s opens with neither the current passphrase "
					"given nor the new one; nothing was changed\n"
					"  hint: give the passphrase it was made under as the current one "
					"(after 'keys recover', the old passphrase)\n",
				cmd, path);
			goto out;
		}
		if (r && r != LB_EEXISTS) {
			rc = cli_fail(cmd, &em, r == LB_ENOTFOUND ? "no such key in this home" : NULL);
			goto out;
		}
		fs[i].redo = r == LB_OK;
		redo += fs[i].redo;
	}
	for (size_t i = 0; i < n; i++) {
		if (!fs[i].redo)
			continue;
		if (lb_keystore_rekey(fs[i].dir, fs[i].name, fs[i].kind[0] ? fs[i].kind : NULL,
				      oldp, newp, false, &em)) {
			kfile_path(&fs[i], path, sizeof path);
			rc = cli_fail(cmd, &em, "the files before it are under the new passphrase, "
						"this one and those after it under the old one: run the "
						"command again");
			goto out;
		}
	}
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			kfile_path(&fs[i], path, sizeof path);
			json_array_append_new(arr, json_pack("{s:s,s:b}", "file", path, "changed",
							     fs[i].redo));
		}
		json_t *j = json_pack("{s:s,s:o}", "key", name, "files", arr);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Key '%s': %zu keystore file(s) now under the new passphrase (%zu were "
		       "already).\n", name, n, n - redo);
	}
	rc = 0;
out:
	sodium_memzero(oldp, sizeof oldp);
	sodium_memzero(newp, sizeof newp);
	free(fs);
	return rc;
}

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

static int cmd_keys_security(int argc, char **argv);
static void sec_usage(FILE *f);

int cmd_keys(int argc, char **argv)
{
	int sec = cmd_keys_security(argc, argv);
	if (sec >= 0)
		return sec;
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
		case '?' + 256: fputs(usage_text, stdout); sec_usage(stdout); return 0;
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
	if (name && !strcmp(sub, "passphrase"))
		return keys_passphrase(cli_home(home_opt), name, json);
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

/* ==== key recovery and reset bound to the business chain ====================================
 * keys split / open-share / recover (guardians), keys recovery-commit / reset (zero-knowledge
 * proof). The txs and their checks: include/leben/security.h, docs/security.md. */

#define SHARE_FORMAT "leben-guardian-share/1"
#define SEC_TIMEOUT_S 120.0

static const char sec_usage_text[] =
	"\n"
	"Recovering a lost key (guardians) and replacing a key (recovery secret):\n"
	"  split NAME --threshold T --guardians G1,G2,...  [--out DIR]\n"
	"             split key NAME into one share per guardian (G: a guardian's public key\n"
	"             in hex, its address if its identity record publishes its key, or the\n"
	"             name of a key in this home), seal each share to its\n"
	"             guardian, write DIR/NAME.share-K.json (default DIR: current directory)\n"
	"             and record on the business chain who holds a share (never the share)\n"
	"  open-share FILE --key GUARDIAN [--out FILE2]\n"
	"             (run by a guardian) open a sealed share with the guardian's key; give\n"
	"             FILE2 to the key's owner in person or over a channel you trust\n"
	"  recover NAME FILE2 FILE2 ...\n"
	"             combine at least T opened shares, check them against the record on the\n"
	"             chain, and store the key again as NAME under a new passphrase\n"
	"  recovery-commit NAME --secret-file FILE [--ops N] [--mem-kib N]\n"
	"             record on the business chain a commitment to a recovery secret (a long\n"
	"             passphrase or printed code kept offline)\n"
	"  reset NEWNAME --account ADDRESS --secret-file FILE\n"
	"             prove knowledge of the recovery secret and make key NEWNAME (created if\n"
	"             absent) the account's signing key on the business chain; the old key is\n"
	"             refused there from then on. The commitment and the reset number are read\n"
	"             from the chain (--record-tx TXID and --reset-nonce N override them).\n"
	"             Then the reset is carried to the settlement and directory chains (see\n"
	"             follow), so the old key is refused on all three; --no-follow skips that\n"
	"  follow --tx TXID [--from KEY] [--chain settlement|directory]\n"
	"             carry a committed reset (its business-chain tx TXID) to the settlement\n"
	"             and directory chains: waits until a block of each anchors the reset, then\n"
	"             sends its proof there. Any key may send it (KEY, default: the reset's new\n"
	"             key if it is in this home); no fee. Needed when a reset was made with\n"
	"             --no-follow or its follow-up timed out; a chain that already holds the\n"
	"             reset is left as it is\n"
	"  --timeout SECONDS  how long reset and follow wait for blocks (default 120)\n"
	"These commands talk to a node: --node URL (default from the home's config).\n";

static void sec_usage(FILE *f)
{
	fputs(sec_usage_text, f);
}

struct sec_opts {
	const char *home, *node, *threshold, *guardians, *out, *key, *shares, *secret_file, *ops,
		*mem_kib, *account, *record_tx, *reset_nonce, *tx, *from, *chain, *timeout;
	bool json, help, no_follow;
};

/* Seconds reset and follow wait for blocks (--timeout). */
static double sec_timeout(const struct sec_opts *o)
{
	char *e;
	double t = o->timeout ? strtod(o->timeout, &e) : SEC_TIMEOUT_S;
	return (o->timeout && (*e || t <= 0)) ? -1 : t;
}

static int sec_keydir(const struct sec_opts *o, char *dir, size_t n)
{
	snprintf(dir, n, "%s/keys", cli_home(o->home));
	return 0;
}

/* The Ed25519 key an account publishes in its identity record on the business chain: the
 * identity's metadata is JSON with "public_key" (64 hex digits), and the key must derive to the
 * address (so the record cannot name someone else's key). */
static int published_pk(const char *cmd, const char *url, const char *addr_text, uint8_t pk[32])
{
	uint8_t addr[LB_ADDR_LEN], a2[LB_ADDR_LEN], *meta = NULL;
	size_t mlen;
	char path[128];
	json_t *acct = NULL, *mj = NULL;
	struct lb_errmsg em;
	int rc = 1;
	if (lb_addr_decode(addr, addr_text, &em))
		return cli_fail(cmd, &em, NULL);
	snprintf(path, sizeof path, "/v1/accounts/%s", addr_text);
	if (cli_api_get(cmd, url, path, &acct))
		return 1;
	const char *mh = json_string_value(
		json_object_get(json_object_get(acct, "identity"), "metadata"));
	if (mh && lb_hex_decode_alloc(mh, &meta, &mlen, 1 << 16) == LB_OK)
		mj = json_loadb((const char *)meta, mlen, 0, NULL);
	const char *ph = json_string_value(json_object_get(mj, "public_key"));
	if (!ph || strlen(ph) != 64 || lb_hex_decode(pk, 32, ph)) {
		cli_failf(cmd, "guardian %s publishes no key in its identity record: ask the guardian "
			       "to register one (metadata {\"public_key\": \"...\"}) or to give you "
			       "the public key printed by 'leben keys show'",
			  addr_text);
		goto out;
	}
	lb_addr_from_pubkey(a2, pk);
	if (memcmp(a2, addr, LB_ADDR_LEN) != 0) {
		cli_failf(cmd, "the key published by %s is not that account's key (its address "
			       "differs); refusing to seal a share to it",
			  addr_text);
		goto out;
	}
	rc = 0;
out:
	json_decref(mj);
	json_decref(acct);
	lb_free(meta);
	return rc;
}

/* A guardian's Ed25519 public key: 64 hex digits, an address whose identity record publishes
 * its key, or a key name in this home. */
static int guardian_pk(const char *cmd, const char *dir, const char *url, const char *g,
		       uint8_t pk[32])
{
	struct lb_errmsg em;
	if (strlen(g) == 64 && lb_hex_decode(pk, 32, g) == LB_OK)
		return 0;
	if (!strncmp(g, "lb1", 3))
		return published_pk(cmd, url, g, pk);
	if (lb_keyname_is_valid(g) && lb_keystore_public(dir, g, pk, &em) == LB_OK)
		return 0;
	return cli_failf(cmd, "guardian '%s' is neither a public key (64 hex digits), an address "
			      "(lb1...) nor a key in %s",
			 g, dir);
}

static int write_json_file(const char *cmd, const char *path, json_t *j, bool secret)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	struct lb_errmsg em;
	if (!s)
		return cli_failf(cmd, "out of memory");
	size_t n = strlen(s);
	int rc = lb_file_write(path, s, n, secret ? 0600 : 0644, &em);
	sodium_memzero(s, n);
	free(s);
	return rc ? cli_fail(cmd, &em, NULL) : 0;
}

static json_t *read_json_file(const char *cmd, const char *path)
{
	uint8_t *buf;
	size_t n;
	json_error_t je;
	struct lb_errmsg em;
	if (lb_file_read(path, 1 << 20, &buf, &n, &em)) {
		cli_fail(cmd, &em, NULL);
		return NULL;
	}
	json_t *j = json_loadb((const char *)buf, n, 0, &je);
	sodium_memzero(buf, n);
	lb_free(buf);
	if (!json_is_object(j) ||
	    !json_is_string(json_object_get(j, "format")) ||
	    strcmp(json_string_value(json_object_get(j, "format")), SHARE_FORMAT)) {
		json_decref(j);
		cli_failf(cmd, "%s is not a share file made by 'leben keys split' or 'open-share'",
			  path);
		return NULL;
	}
	return j;
}

static int keys_split(const char *name, const struct sec_opts *o)
{
	const char *cmd = "keys split";
	char dir[4200], path[4400];
	uint8_t (*gpk)[32] = NULL, *env[LB_SHAMIR_MAX_SHARES] = {0};
	size_t envl[LB_SHAMIR_MAX_SHARES], n = 0;
	struct lb_guardian_record *rec = NULL;
	uint8_t *rb = NULL;
	size_t rlen;
	struct lb_keypair kp;
	bool have = false;
	struct sectx tx = {0};
	struct lb_errmsg em;
	char *list = NULL;
	int rc = 1;
	unsigned long t;
	char *endp;

	if (!o->threshold || !o->guardians)
		return cli_failf(cmd, "--threshold T and --guardians G1,G2,... are required"), 2;
	t = strtoul(o->threshold, &endp, 10);
	if (*endp || t < 2 || t > LB_SHAMIR_MAX_SHARES)
		return cli_failf(cmd, "--threshold must be a number from 2 to the number of "
				      "guardians"),
		       2;
	sec_keydir(o, dir, sizeof dir);
	gpk = lb_calloc(LB_SHAMIR_MAX_SHARES, 32);
	rec = lb_malloc(sizeof *rec);
	rb = lb_malloc(LB_GUARDIAN_RECORD_MAXBYTES);
	list = lb_strdup(o->guardians);
	if (!gpk || !rec || !rb || !list) {
		cli_failf(cmd, "out of memory");
		goto out;
	}
	for (char *save = NULL, *g = strtok_r(list, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		if (n == LB_SHAMIR_MAX_SHARES) {
			cli_failf(cmd, "at most %d guardians", LB_SHAMIR_MAX_SHARES);
			goto out;
		}
		if (guardian_pk(cmd, dir, cli_node_url(o->node, o->home), g, gpk[n]))
			goto out;
		n++;
	}
	if (t > n) {
		rc = 2;
		cli_failf(cmd, "threshold %lu is more than the %zu guardians given", t, n);
		goto out;
	}
	if (cli_load_key(o->home, name, &kp))
		goto out;
	have = true;
	for (size_t i = 0; i < n; i++)
		if (!memcmp(gpk[i], kp.pk, 32)) {
			cli_failf(cmd, "guardian %zu is the key '%s' itself: a key cannot guard "
				       "itself",
				  i + 1, name);
			goto out;
		}
	if (lb_guardian_split(kp.pk, kp.sk, 32, (unsigned)t, (const uint8_t(*)[32])gpk, n, env,
			      envl, rec, &em) ||
	    lb_guardian_record_encode(rec, rb, &rlen, &em)) {
		cli_fail(cmd, &em, NULL);
		goto out;
	}
	const char *url = cli_node_url(o->node, o->home);
	if (sectx_build(cmd, url, &kp, LB_TX_KEYS_GUARDIANS, rb, rlen, &tx))
		goto out;
	/* files first: if the tx is refused they are worthless but harmless */
	uint8_t acct[LB_ADDR_LEN];
	char atext[LB_ADDR_TEXT_LEN + 1], pkh[65];
	lb_addr_from_pubkey(acct, kp.pk);
	lb_addr_encode(atext, acct);
	lb_hex_encode(pkh, kp.pk, 32);
	json_t *files = json_array();
	for (size_t i = 0; i < n; i++) {
		char gh[65], ga[LB_ADDR_TEXT_LEN + 1], *eh = lb_malloc(2 * envl[i] + 1);
		uint8_t gad[LB_ADDR_LEN];
		if (!eh) {
			json_decref(files);
			cli_failf(cmd, "out of memory");
			goto out;
		}
		lb_hex_encode(gh, gpk[i], 32);
		lb_hex_encode(eh, env[i], envl[i]);
		lb_addr_from_pubkey(gad, gpk[i]);
		lb_addr_encode(ga, gad);
		snprintf(path, sizeof path, "%s/%s.share-%zu.json", o->out ? o->out : ".", name, i + 1);
		json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:s}", "format", SHARE_FORMAT,
				      "account", atext, "public_key", pkh, "guardian", gh,
				      "guardian_address", ga, "threshold", (int)t, "guardians",
				      (int)n, "record_tx", tx.id, "envelope", eh);
		lb_free(eh);
		int wr = write_json_file(cmd, path, f, false);
		json_decref(f);
		if (wr) {
			json_decref(files);
			goto out;
		}
		json_array_append_new(files, json_pack("{s:s,s:s}", "file", path, "guardian", ga));
	}
	if (sectx_send(cmd, url, &tx, SEC_TIMEOUT_S, NULL)) {
		fprintf(stderr, "  the %zu share files just written are not recorded on the chain: "
				"delete them and split again\n",
			n);
		json_decref(files);
		goto out;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:i,s:o}", "account", atext, "record_tx", tx.id,
				      "threshold", (int)t, "shares", files);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Split key '%s' (%s) into %zu shares; any %lu recover it.\n", name, atext, n, t);
		size_t i;
		json_t *f;
		json_array_foreach(files, i, f) printf(
			"  %s  -> guardian %s\n", json_string_value(json_object_get(f, "file")),
			json_string_value(json_object_get(f, "guardian")));
		printf("Recorded on the business chain in tx %s.\n"
		       "Hand each file to its guardian; each file opens only with that guardian's "
		       "key.\n",
		       tx.id);
		json_decref(files);
	}
	rc = 0;
out:
	if (have)
		lb_keypair_wipe(&kp);
	for (size_t i = 0; i < n; i++)
		lb_free(env[i]);
	sectx_release(&tx);
	lb_free(gpk);
	lb_free(rec);
	lb_free(rb);
	lb_free(list);
	return rc;
}

static int keys_open_share(const char *file, const struct sec_opts *o)
{
	const char *cmd = "keys open-share";
	uint8_t *env = NULL, *share = NULL, gpk[32], xpk[32], xsk[32];
	size_t elen = 0, slen = 0;
	struct lb_keypair kp;
	struct lb_errmsg em;
	struct lb_shamir_info info;
	char path[4400];
	int rc = 1;
	if (!o->key)
		return cli_failf(cmd, "--key GUARDIAN (your key's name in this home) is required"), 2;
	json_t *j = read_json_file(cmd, file);
	if (!j)
		return 1;
	const char *eh = json_string_value(json_object_get(j, "envelope"));
	if (!eh || lb_hex_decode_alloc(eh, &env, &elen, 1 << 16)) {
		cli_failf(cmd, "%s holds no sealed share (was it opened already?)", file);
		goto out;
	}
	if (sectx_hex_field(cmd, j, "guardian", gpk, 32))
		goto out;
	if (cli_load_key(o->home, o->key, &kp))
		goto out;
	if (memcmp(kp.pk, gpk, 32) != 0) {
		lb_keypair_wipe(&kp);
		cli_failf(cmd, "%s is sealed to another guardian (%s), not to key '%s'", file,
			  json_string_value(json_object_get(j, "guardian_address")), o->key);
		goto out;
	}
	rc = lb_envelope_keypair_from_ed25519_seed(xpk, xsk, kp.sk);
	lb_keypair_wipe(&kp);
	if (rc == LB_OK)
		rc = lb_envelope_open(xsk, xpk, env, elen, LB_SHAMIR_SHARE_BYTES(LB_SHAMIR_MAX_SECRET),
				      &share, &slen, &em);
	sodium_memzero(xsk, sizeof xsk);
	if (rc == LB_OK)
		rc = lb_shamir_share_info(share, slen, &info, &em);
	if (rc != LB_OK) {
		rc = cli_fail(cmd, &em, "the share file may be damaged or altered; ask the key's "
					"owner for a new split");
		goto out;
	}
	char *sh = lb_malloc(2 * slen + 1);
	if (!sh) {
		rc = cli_failf(cmd, "out of memory");
		goto out;
	}
	lb_hex_encode(sh, share, slen);
	json_object_del(j, "envelope");
	json_object_set_new(j, "share", json_string(sh));
	sodium_memzero(sh, 2 * slen);
	lb_free(sh);
	if (o->out)
		snprintf(path, sizeof path, "%s", o->out);
	else
		snprintf(path, sizeof path, "%s.opened", file);
	rc = write_json_file(cmd, path, j, true);
	if (!rc) {
		if (o->json) {
			json_t *r = json_pack("{s:s,s:s,s:i,s:i}", "file", path, "account",
					      json_string_value(json_object_get(j, "account")), "x",
					      (int)info.x, "threshold", (int)info.t);
			cli_print_json(r);
			json_decref(r);
		} else {
			printf("Opened share %u (threshold %u) of the key of %s into %s.\n"
			       "Give that file only to the key's owner, in person or over a channel "
			       "you trust.\n",
			       info.x, info.t, json_string_value(json_object_get(j, "account")),
			       path);
		}
	}
out:
	if (share) {
		sodium_memzero(share, slen);
		lb_free(share);
	}
	lb_free(env);
	json_decref(j);
	return rc;
}

static int keys_recover(const char *name, const char *const *files, int nfiles,
			const struct sec_opts *o)
{
	const char *cmd = "keys recover";
	char dir[4200], pass[256];
	uint8_t *shares[LB_SHAMIR_MAX_SHARES] = {0}, seed[LB_SHAMIR_MAX_SECRET];
	size_t lens[LB_SHAMIR_MAX_SHARES], slen = 0, k = 0, seedlen = 0;
	struct lb_guardian_record *rec = lb_calloc(1, sizeof *rec);
	json_t *payload = NULL;
	char txid[2 * LB_HASH_LEN + 1] = "";
	struct lb_keypair kp;
	struct lb_errmsg em;
	int rc = 1;
	if (!rec)
		return cli_failf(cmd, "out of memory");
	sec_keydir(o, dir, sizeof dir);
	if (!lb_keyname_is_valid(name)) {
		rc = cli_failf(cmd, "'%s' is not a usable key name", name);
		goto out;
	}
	if (nfiles < 2 || nfiles > LB_SHAMIR_MAX_SHARES) {
		rc = 2;
		cli_failf(cmd, "give the opened share files (at least 2) after the key name");
		goto out;
	}
	for (int i = 0; i < nfiles; i++) {
		json_t *j = read_json_file(cmd, files[i]);
		if (!j)
			goto out;
		const char *sh = json_string_value(json_object_get(j, "share"));
		const char *rt = json_string_value(json_object_get(j, "record_tx"));
		int bad = !sh || lb_hex_decode_alloc(sh, &shares[k], &lens[k], 1 << 16);
		if (bad)
			cli_failf(cmd, "%s holds no opened share: the guardian must run 'leben keys "
				       "open-share' first",
				  files[i]);
		else if (!rt || (txid[0] && strcmp(rt, txid)))
			bad = cli_failf(cmd, "%s belongs to another split than %s (record tx differs)",
					files[i], files[0]);
		else if (k && lens[k] != lens[0])
			bad = cli_failf(cmd, "%s is a share of another length than %s", files[i],
					files[0]);
		if (!bad)
			snprintf(txid, sizeof txid, "%s", rt);
		json_decref(j);
		if (bad)
			goto out;
		k++;
	}
	slen = lens[0];
	const char *url = cli_node_url(o->node, o->home);
	if (sectx_fetch(cmd, url, txid, "keys.guardians", &payload) ||
	    sectx_hex_field(cmd, payload, "public_key", rec->account, 32) ||
	    sectx_hex_field(cmd, payload, "set_id", rec->set_id, 16) ||
	    sectx_hex_field(cmd, payload, "commitment", rec->commit, 32))
		goto out;
	rec->t = (unsigned)json_integer_value(json_object_get(payload, "threshold"));
	rec->n = (unsigned)json_integer_value(json_object_get(payload, "guardians_count"));
	rc = lb_guardian_recover(rec, (const uint8_t *const *)shares, k, slen, seed, &seedlen, &em);
	if (rc != LB_OK) {
		rc = cli_fail(cmd, &em, rc == LB_EINVALID || rc == LB_ETAMPERED || rc == LB_ECHECKSUM
					       ? "collect enough unaltered shares of the split "
						 "recorded on the chain"
					       : NULL);
		goto out;
	}
	rc = 1;
	if (seedlen != LB_SEED_LEN) {
		cli_failf(cmd, "the recovered secret is not a key seed");
		goto out;
	}
	lb_keypair_from_seed(&kp, seed);
	sodium_memzero(seed, sizeof seed);
	if (memcmp(kp.pk, rec->account, 32) != 0) {
		lb_keypair_wipe(&kp);
		cli_failf(cmd, "the shares combine to a key other than the one recorded in tx %s",
			  txid);
		goto out;
	}
	if (cli_passphrase(pass, sizeof pass, "New passphrase for the recovered key: ", true)) {
		lb_keypair_wipe(&kp);
		goto out;
	}
	rc = lb_keystore_save(dir, name, &kp, pass, &em);
	sodium_memzero(pass, sizeof pass);
	uint8_t a[LB_ADDR_LEN];
	char at[LB_ADDR_TEXT_LEN + 1];
	lb_addr_from_pubkey(a, kp.pk);
	lb_addr_encode(at, a);
	lb_keypair_wipe(&kp);
	if (rc) {
		rc = cli_fail(cmd, &em, rc == LB_EEXISTS ? "choose another name for the recovered key"
							 : NULL);
		goto out;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:i}", "name", name, "address", at, "record_tx",
				      txid, "shares_used", (int)k);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Recovered key '%s' (%s) from %zu shares; it matches the record in tx %s.\n"
		       "Its ABE master key and ABE keys, if any, are still under the old passphrase:\n"
		       "'leben keys passphrase %s' (the old one first) moves them to the new one.\n",
		       name, at, k, txid, name);
	}
	rc = 0;
out:
	for (size_t i = 0; i < k; i++) {
		sodium_memzero(shares[i], lens[i]);
		lb_free(shares[i]);
	}
	sodium_memzero(seed, sizeof seed);
	json_decref(payload);
	lb_free(rec);
	return rc;
}

static int read_secret(const char *cmd, const char *path, char **secret, size_t *len)
{
	uint8_t *b;
	struct lb_errmsg em;
	if (!path)
		return cli_failf(cmd, "--secret-file FILE (your recovery secret) is required"), 2;
	if (lb_file_read(path, 4096, &b, len, &em))
		return cli_fail(cmd, &em, NULL);
	while (*len && (b[*len - 1] == '\n' || b[*len - 1] == '\r'))
		b[--*len] = 0;
	if (*len < 16) {
		sodium_memzero(b, *len);
		lb_free(b);
		return cli_failf(cmd, "the recovery secret in %s is shorter than 16 characters; "
				      "use a long passphrase or printed code",
				 path);
	}
	*secret = (char *)b;
	return 0;
}

static int keys_recovery_commit(const char *name, const struct sec_opts *o)
{
	const char *cmd = "keys recovery-commit";
	char *secret = NULL;
	size_t slen;
	struct lb_zk_recovery rec;
	struct lb_errmsg em;
	struct lb_keypair kp;
	struct sectx tx = {0};
	uint8_t rb[LB_ZK_RECOVERY_BYTES];
	unsigned long ops = 0, mem = 0;
	int rc;
	if ((o->ops && (ops = strtoul(o->ops, NULL, 10)) == 0) ||
	    (o->mem_kib && (mem = strtoul(o->mem_kib, NULL, 10)) == 0))
		return cli_failf(cmd, "--ops and --mem-kib take positive numbers"), 2;
	if ((rc = read_secret(cmd, o->secret_file, &secret, &slen)))
		return rc;
	rc = lb_zk_recovery_new(&rec, secret, slen, (uint32_t)ops, (uint32_t)mem, &em);
	sodium_memzero(secret, slen);
	lb_free(secret);
	if (rc)
		return cli_fail(cmd, &em, NULL);
	lb_zk_recovery_encode(&rec, rb);
	if (cli_load_key(o->home, name, &kp))
		return 1;
	const char *url = cli_node_url(o->node, o->home);
	rc = sectx_build(cmd, url, &kp, LB_TX_KEYS_RECOVERY, rb, sizeof rb, &tx);
	lb_keypair_wipe(&kp);
	if (rc || sectx_send(cmd, url, &tx, SEC_TIMEOUT_S, NULL)) {
		sectx_release(&tx);
		return 1;
	}
	char xh[65];
	lb_hex_encode(xh, rec.X, 32);
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s}", "record_tx", tx.id, "commitment", xh);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Recorded the recovery commitment of key '%s' in tx %s.\n"
		       "Keep the recovery secret offline: 'leben keys reset' needs it if the key is "
		       "lost.\n",
		       name, tx.id);
	}
	sectx_release(&tx);
	return 0;
}

/* Name of the key in dir whose public key is pk (first in name order). */
struct find_pk {
	const uint8_t *pk;
	char *name;
	size_t n;
	bool found;
};

static int find_pk_one(const char *name, const uint8_t pk[LB_PUBKEY_LEN], void *ctx)
{
	struct find_pk *f = ctx;
	if (memcmp(pk, f->pk, LB_PUBKEY_LEN) != 0)
		return 0;
	snprintf(f->name, f->n, "%s", name);
	f->found = true;
	return 1;
}

static int find_key_by_pk(const char *dir, const uint8_t pk[32], char *name, size_t n)
{
	struct find_pk f = {pk, name, n, false};
	struct lb_errmsg em;
	lb_keystore_list(dir, find_pk_one, &f, &em);
	return f.found ? 0 : 1;
}

/* ---- carrying a reset to the settlement and directory chains (keys.follow) ----------------- */

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Carry reset idhex (of account, reset number reset_nonce) to chain, signed by kp: skip if the
 * chain already holds it or a later reset; else wait (until deadline, Unix seconds) for a block
 * of chain that anchors the reset's block, send keys.follow with the proof and wait for its
 * block. Adds {"status": "followed", "tx"} or {"status": "already"} to report[chain name]. */
static int follow_chain(const char *cmd, const char *url, const struct lb_keypair *kp,
			const char *idhex, const char *account, uint64_t reset_nonce, int chain,
			double deadline, bool quiet, json_t *report)
{
	const char *name = lb_chain_name(chain);
	char path[256];
	json_t *k = NULL, *pj = NULL;
	struct lb_errmsg em;
	struct sectx tx = {0};
	uint8_t *raw = NULL, *proof = NULL;
	size_t rlen, plen;
	struct lb_buf pl;
	int rc = 1;
	snprintf(path, sizeof path, "/v1/accounts/%s/keys", account);
	if (cli_api_get(cmd, url, path, &k))
		return 1;
	json_t *nn = json_object_get(json_object_get(json_object_get(k, "chains"), name),
				     "next_reset_nonce");
	bool done = json_is_integer(nn) && (uint64_t)json_integer_value(nn) > reset_nonce;
	json_decref(k);
	if (done) {
		json_object_set_new(report, name, json_pack("{s:s}", "status", "already"));
		return 0;
	}
	snprintf(path, sizeof path, "/v1/txs/%s/proof?anchor=%s", idhex, name);
	for (bool told = false;;) {
		lb_errclear(&em);
		int grc = lb_client_get(url, path, &pj, &em);
		if (grc == LB_OK)
			break;
		if (grc != LB_ENOTFOUND)
			return cli_failf(cmd, "cannot get the proof of reset %s for the %s chain: %s", idhex,
					 name, em.text);
		if ((double)lb_now_ms() / 1000.0 > deadline)
			return cli_failf(cmd, "gave up waiting: %s (the node makes the %s block itself "
					      "unless its ordering is unavailable: see 'leben query "
					      "status')",
					 em.text, name);
		if (!told && !quiet)
			fprintf(stderr, "waiting for the node to make a %s block that anchors the "
					"reset...\n",
				name);
		told = true;
		pause_ms(100);
	}
	const char *th = json_string_value(json_object_get(pj, "tx"));
	const char *ph = json_string_value(json_object_get(pj, "proof"));
	if (!th || !ph || lb_hex_decode_alloc(th, &raw, &rlen, LB_TX_MAX_BYTES) ||
	    lb_hex_decode_alloc(ph, &proof, &plen, LB_KEYFOLLOW_PROOF_MAX)) {
		cli_failf(cmd, "the node's proof of reset %s for the %s chain is unusable (no \"tx\" "
			       "and \"proof\" in hex, or too large)",
			  idhex, name);
		goto out;
	}
	lb_buf_init(&pl, LB_TX_MAX_BYTES);
	if (lb_keyfollow_encode(&pl, raw, rlen, proof, plen)) {
		lb_buf_release(&pl);
		cli_failf(cmd, "the reset and its proof do not fit in one tx");
		goto out;
	}
	double left = deadline - (double)lb_now_ms() / 1000.0;
	rc = sectx_build_on(cmd, url, kp, chain,
			    chain == LB_CHAIN_SETTLEMENT ? LB_TX_KEYS_FOLLOW : LB_TX_KEYS_FOLLOW_DIR,
			    pl.data, pl.len, &tx) ||
	     sectx_send(cmd, url, &tx, left > 5 ? left : 5, NULL);
	lb_buf_release(&pl);
	if (!rc)
		json_object_set_new(report, name,
				    json_pack("{s:s,s:s}", "status", "followed", "tx", tx.id));
out:
	sectx_release(&tx);
	lb_free(raw);
	lb_free(proof);
	json_decref(pj);
	return rc;
}

/* Both chains (or only `only` when >= 0). report receives one entry per chain. */
static int follow_reset(const char *cmd, const char *url, const struct lb_keypair *kp,
			const char *idhex, const char *account, uint64_t reset_nonce, int only,
			double timeout_s, bool quiet, json_t *report)
{
	static const int chains[] = {LB_CHAIN_SETTLEMENT, LB_CHAIN_DIRECTORY};
	double deadline = (double)lb_now_ms() / 1000.0 + timeout_s;
	for (size_t i = 0; i < 2; i++)
		if ((only < 0 || only == chains[i]) &&
		    follow_chain(cmd, url, kp, idhex, account, reset_nonce, chains[i], deadline, quiet,
				 report))
			return 1;
	return 0;
}

static void print_follow(json_t *report)
{
	const char *k;
	json_t *v;
	json_object_foreach(report, k, v) {
		const char *st = json_string_value(json_object_get(v, "status"));
		if (st && !strcmp(st, "followed"))
			printf("Carried to the %s chain (tx %s).\n", k,
			       json_string_value(json_object_get(v, "tx")));
		else
			printf("The %s chain already holds this reset (or a later one).\n", k);
	}
}

static int keys_follow(const struct sec_opts *o)
{
	const char *cmd = "keys follow";
	json_t *payload = NULL, *report = NULL;
	struct lb_keypair kp;
	char dir[4200];
	int only = -1, rc = 1;
	double timeout_s = sec_timeout(o);
	if (!o->tx)
		return cli_failf(cmd, "--tx TXID (the business-chain keys.reset tx) is required"), 2;
	if (timeout_s < 0)
		return cli_failf(cmd, "--timeout takes a number of seconds above 0"), 2;
	if (o->chain) {
		only = lb_chain_parse(o->chain);
		if (only != LB_CHAIN_SETTLEMENT && only != LB_CHAIN_DIRECTORY)
			return cli_failf(cmd, "--chain %s: a reset is carried to 'settlement' or "
					      "'directory' (it is made on the business chain)",
					 o->chain),
			       2;
	}
	const char *url = cli_node_url(o->node, o->home);
	if (sectx_fetch(cmd, url, o->tx, "keys.reset", &payload))
		return 1;
	const char *account = json_string_value(json_object_get(payload, "account"));
	json_t *rn = json_object_get(payload, "reset_nonce");
	const char *signer = o->from;
	char found[256] = "";
	if (!account || !json_is_integer(rn)) {
		cli_failf(cmd, "the node's view of reset %s has no account or reset number", o->tx);
		goto out;
	}
	if (!signer) {
		/* the reset's new key, if this home holds it */
		uint8_t want[32];
		if (sectx_hex_field(cmd, payload, "new_key", want, 32))
			goto out;
		sec_keydir(o, dir, sizeof dir);
		if (find_key_by_pk(dir, want, found, sizeof found)) {
			cli_failf(cmd, "the reset's new key is not in this home's keystore; name the key "
				       "that sends the follow-up with --from KEY (any key will do)");
			goto out;
		}
		signer = found;
	}
	if (cli_load_key(o->home, signer, &kp))
		goto out;
	report = json_object();
	rc = follow_reset(cmd, url, &kp, o->tx, account, (uint64_t)json_integer_value(rn), only,
			  timeout_s, o->json, report);
	lb_keypair_wipe(&kp);
	if (rc)
		goto out;
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:I,s:O}", "reset_tx", o->tx, "account", account,
				      "reset_nonce", json_integer_value(rn), "follow", report);
		cli_print_json(j);
		json_decref(j);
	} else {
		printf("Reset %s of account %s:\n", o->tx, account);
		print_follow(report);
	}
out:
	json_decref(report);
	json_decref(payload);
	return rc;
}

/* Outcome of sending a reset: 0 done, RESET_REFUSED when the node refused it (at admission
 * or in its block: nothing changed), RESET_UNKNOWN when it may still be committed (no answer
 * in time, a broken link). */
enum { RESET_REFUSED = 1, RESET_UNKNOWN = 2 };

/* POST the reset tx; prints what went wrong, with the node's own reason. */
static int reset_post(const char *cmd, const char *url, const struct sectx *t)
{
	struct lb_errmsg em;
	json_t *body = json_pack("{s:s}", "tx", t->hex), *reply = NULL;
	lb_errclear(&em);
	int rc = body ? lb_client_post(url, "/v1/txs", body, &reply, &em) : LB_ENOMEM;
	json_decref(body);
	json_decref(reply);
	if (!rc)
		return 0;
	fprintf(stderr, "leben %s: %s [%s]\n", cmd,
		em.text[0] ? em.text : lb_strerror(rc), lb_errname(rc));
	if (rc == LB_EBADSIG && strstr(em.text, "proof of ownership"))
		fprintf(stderr, "  hint: the recovery secret in --secret-file is not the one whose "
				"commitment the account recorded ('keys recovery-commit'); check the file "
				"(a trailing line break is ignored)\n");
	else if (cli_hint_for(rc) && rc != LB_EBADSIG)
		fprintf(stderr, "  hint: %s\n", cli_hint_for(rc));
	/* a slow answer, a broken link, or a consortium that did not confirm storing it: the
	 * tx may have been admitted */
	bool maybe = rc == LB_ETIMEOUT || rc == LB_EIO ||
		     (rc == LB_EUNAVAILABLE && (strstr(em.text, "may still be committed") ||
						strstr(em.text, "talking to the node")));
	return maybe ? RESET_UNKNOWN : RESET_REFUSED;
}

/* Wait for the admitted reset's block. */
static int reset_wait(const char *cmd, const char *url, const struct sectx *t, double timeout_s)
{
	json_t *j = NULL;
	if (!cli_tx_wait(cmd, url, t->id, timeout_s, &j)) {
		json_decref(j);
		return 0;
	}
	if (j == NULL)
		return RESET_UNKNOWN; /* printed */
	json_t *e = json_object_get(j, "error");
	cli_failf(cmd, "tx %s went into a block but was refused there: %s [%s]", t->id,
		  json_string_value(json_object_get(e, "message")),
		  json_string_value(json_object_get(e, "code")));
	json_decref(j);
	return RESET_REFUSED;
}

static int keys_reset(const char *newname, const struct sec_opts *o)
{
	const char *cmd = "keys reset";
	char dir[4200], *secret = NULL, pass[256];
	size_t slen;
	struct lb_zk_recovery rec;
	struct lb_keyreset r;
	struct lb_errmsg em;
	struct lb_keypair kp;
	struct sectx tx = {0};
	json_t *payload = NULL;
	uint8_t x[LB_ZK_SCALARBYTES], pb[LB_KEYRESET_MAXBYTES];
	size_t plen;
	int rc;
	bool have = false, created = false;
	if (!o->account)
		return cli_failf(cmd, "--account ADDRESS (the account whose key is replaced) is "
				      "required"),
		       2;
	double timeout_s = sec_timeout(o);
	if (timeout_s < 0)
		return cli_failf(cmd, "--timeout takes a number of seconds above 0"), 2;
	memset(&r, 0, sizeof r);
	if (lb_addr_decode(r.account, o->account, &em))
		return cli_fail(cmd, &em, NULL), 2;
	r.account_len = LB_ADDR_LEN;
	if (o->reset_nonce) {
		char *e;
		r.nonce = strtoull(o->reset_nonce, &e, 10);
		if (*e)
			return cli_failf(cmd, "--reset-nonce takes a number"), 2;
	}
	if (!lb_keyname_is_valid(newname))
		return cli_failf(cmd, "'%s' is not a usable key name", newname);
	const char *url = cli_node_url(o->node, o->home);
	if (o->record_tx) {
		if (sectx_fetch(cmd, url, o->record_tx, "keys.recovery", &payload))
			return 1;
	} else {
		/* the account's current commitment and next reset nonce from the chain's state */
		json_t *keys = NULL;
		char path[128];
		snprintf(path, sizeof path, "/v1/accounts/%s/keys", o->account);
		if (cli_api_get(cmd, url, path, &keys))
			return 1;
		payload = json_incref(json_object_get(keys, "recovery"));
		if (!o->reset_nonce)
			r.nonce = (uint64_t)json_integer_value(json_object_get(keys, "next_reset_nonce"));
		json_decref(keys);
		if (!json_is_object(payload)) {
			json_decref(payload);
			return cli_failf(cmd, "account %s has recorded no recovery commitment on the "
					      "business chain, so its key cannot be reset",
					 o->account);
		}
	}
	rec.opslimit = (uint32_t)json_integer_value(json_object_get(payload, "opslimit"));
	rec.memlimit_kib = (uint32_t)json_integer_value(json_object_get(payload, "memlimit_kib"));
	rc = sectx_hex_field(cmd, payload, "salt", rec.salt, 16) ||
	     sectx_hex_field(cmd, payload, "commitment", rec.X, 32);
	json_decref(payload);
	if (rc)
		return 1;
	if ((rc = read_secret(cmd, o->secret_file, &secret, &slen)))
		return rc;
	rc = lb_zk_derive(x, secret, slen, &rec, &em);
	sodium_memzero(secret, slen);
	lb_free(secret);
	if (rc)
		return cli_fail(cmd, &em, NULL);
	/* the new key: load it if it exists, else create it */
	sec_keydir(o, dir, sizeof dir);
	uint8_t pk[32];
	if (lb_keystore_public(dir, newname, pk, &em) == LB_OK) {
		if (cli_load_key(o->home, newname, &kp))
			goto fail;
	} else {
		/* made now, stored only once the node has taken the reset (nothing is written for
		 * a refused one) */
		created = true;
		if (cli_passphrase(pass, sizeof pass, "Passphrase for the new key: ", true))
			goto fail;
		lb_keypair_generate(&kp);
	}
	have = true;
	memcpy(r.new_pk, kp.pk, 32);
	if (lb_keyreset_prove(&r, x) || lb_keyreset_encode(&r, pb, &plen, &em)) {
		cli_failf(cmd, "could not make the proof");
		goto fail;
	}
	sodium_memzero(x, sizeof x);
	if (sectx_build(cmd, url, &kp, LB_TX_KEYS_RESET, pb, plen, &tx))
		goto fail;
	int send = reset_post(cmd, url, &tx);
	if (send == RESET_REFUSED) {
		fprintf(stderr, "Nothing was changed: the account keeps its key%s.\n",
			created ? ", and no new key was stored" : "");
		goto fail;
	}
	if (created) {
		/* taken by the node (or perhaps taken): the key must exist before its block */
		rc = lb_keystore_save(dir, newname, &kp, pass, &em);
		sodium_memzero(pass, sizeof pass);
		if (rc) {
			cli_fail(cmd, &em, NULL);
			fprintf(stderr, "The reset tx %s was sent but its new key could not be stored; "
					"once it is committed, reset again with the same secret and another "
					"NEWNAME.\n",
				tx.id);
			goto fail;
		}
	}
	if (send == RESET_UNKNOWN) {
		if (created)
			fprintf(stderr, "The new key '%s' is stored in %s: the reset may still be "
					"committed (look up tx %s).\n",
				newname, dir, tx.id);
		goto fail;
	}
	if ((send = reset_wait(cmd, url, &tx, timeout_s))) {
		char path[4300];
		snprintf(path, sizeof path, "%s/%s.key", dir, newname);
		if (send == RESET_REFUSED && created && unlink(path) == 0)
			fprintf(stderr, "Nothing was changed: the account keeps its key, and the new "
					"key '%s' was removed again.\n",
				newname);
		goto fail;
	}
	uint8_t na[LB_ADDR_LEN];
	char nt[LB_ADDR_TEXT_LEN + 1];
	lb_addr_from_pubkey(na, r.new_pk);
	lb_addr_encode(nt, na);
	if (!o->json)
		printf("Key '%s' (%s) now signs for account %s on the business chain (tx %s);\n"
		       "the account's previous key is refused there.\n",
		       newname, nt, o->account, tx.id);
	/* the follow-up: the same rotation on the settlement and directory chains */
	json_t *report = json_object();
	int frc = o->no_follow ? 0
			       : follow_reset(cmd, url, &kp, tx.id, o->account, r.nonce, -1,
					      timeout_s, o->json, report);
	lb_keypair_wipe(&kp);
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I,s:O}", "account", o->account, "new_key",
				      newname, "new_key_address", nt, "tx", tx.id, "reset_nonce",
				      (json_int_t)r.nonce, "follow", report);
		cli_print_json(j);
		json_decref(j);
	} else if (o->no_follow) {
		printf("The settlement and directory chains still honour the previous key until the "
		       "reset is carried there:\n  leben keys follow --tx %s\n",
		       tx.id);
	} else if (!frc) {
		print_follow(report);
		printf("The account's previous key is now refused on all three chains.\n");
	}
	if (frc)
		fprintf(stderr, "The reset holds on the business chain; the settlement and directory "
				"chains still honour the previous key until 'leben keys follow --tx %s' "
				"succeeds.\n",
			tx.id);
	json_decref(report);
	sectx_release(&tx);
	return frc ? 1 : 0;
fail:
	sodium_memzero(x, sizeof x);
	sodium_memzero(pass, sizeof pass);
	if (have)
		lb_keypair_wipe(&kp);
	sectx_release(&tx);
	return 1;
}

/* keys split | open-share | recover | recovery-commit | reset | follow; -1 if sub is none of
 * them. */
static int cmd_keys_security(int argc, char **argv)
{
	static const char *const subs[] = {"split", "open-share", "recover", "recovery-commit",
					   "reset", "follow", NULL};
	struct sec_opts o = {0};
	const char *pos[LB_SHAMIR_MAX_SHARES + 2];
	int npos = 0, i;
	const struct copt opts[] = {
		{"--home", &o.home, NULL},       {"--node", &o.node, NULL},
		{"--threshold", &o.threshold, NULL}, {"--guardians", &o.guardians, NULL},
		{"--out", &o.out, NULL},         {"--key", &o.key, NULL},
		{"--shares", &o.shares, NULL},   {"--secret-file", &o.secret_file, NULL},
		{"--ops", &o.ops, NULL},         {"--mem-kib", &o.mem_kib, NULL},
		{"--account", &o.account, NULL}, {"--record-tx", &o.record_tx, NULL},
		{"--reset-nonce", &o.reset_nonce, NULL}, {"--json", NULL, &o.json},
		{"--tx", &o.tx, NULL},           {"--from", &o.from, NULL},
		{"--chain", &o.chain, NULL},     {"--timeout", &o.timeout, NULL},
		{"--no-follow", NULL, &o.no_follow},
		{"--help", NULL, &o.help},       {NULL, NULL, NULL}};
	/* the subcommand: first argument that is neither an option nor an option's value */
	const char *sub = NULL;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--home") || !strcmp(argv[i], "--node")) {
			i++;
			continue;
		}
		if (argv[i][0] != '-')
			break;
	}
	if (i >= argc)
		return -1;
	for (int k = 0; subs[k]; k++)
		if (!strcmp(argv[i], subs[k]))
			sub = subs[k];
	if (!sub)
		return -1;
	int rc = copt_parse("keys", argc, argv, 1, opts, pos, LB_SHAMIR_MAX_SHARES + 2, &npos);
	if (rc)
		return rc;
	o.home = cli_home(o.home);
	if (o.help) {
		fputs(usage_text, stdout);
		fputs(sec_usage_text, stdout);
		return 0;
	}
	if (!strcmp(sub, "follow")) {
		if (npos != 1)
			return cli_failf("keys", "'keys follow' takes no NAME; give the reset with --tx "
						 "TXID"),
			       2;
		if (lb_crypto_init())
			return cli_failf("keys", "libsodium failed to initialise");
		return keys_follow(&o);
	}
	/* pos[0] is the subcommand */
	if (npos < 2) {
		cli_failf("keys", "'keys %s' needs %s (see 'leben keys --help')", sub,
			  !strcmp(sub, "open-share") ? "the share FILE" : "a key NAME");
		return 2;
	}
	if (lb_crypto_init())
		return cli_failf("keys", "libsodium failed to initialise");
	if (!strcmp(sub, "split"))
		return npos == 2 ? keys_split(pos[1], &o) : (cli_failf("keys", "split takes one NAME"), 2);
	if (!strcmp(sub, "open-share"))
		return npos == 2 ? keys_open_share(pos[1], &o)
				 : (cli_failf("keys", "open-share takes one FILE"), 2);
	if (!strcmp(sub, "recover")) {
		const char *files[LB_SHAMIR_MAX_SHARES];
		int nf = 0;
		for (int k = 2; k < npos; k++)
			files[nf++] = pos[k];
		char *list = o.shares ? lb_strdup(o.shares) : NULL;
		for (char *save = NULL, *f = list ? strtok_r(list, ",", &save) : NULL;
		     f && nf < LB_SHAMIR_MAX_SHARES; f = strtok_r(NULL, ",", &save))
			files[nf++] = f;
		rc = keys_recover(pos[1], files, nf, &o);
		lb_free(list);
		return rc;
	}
	if (npos != 2) {
		cli_failf("keys", "'keys %s' takes one key NAME", sub);
		return 2;
	}
	if (!strcmp(sub, "recovery-commit"))
		return keys_recovery_commit(pos[1], &o);
	return keys_reset(pos[1], &o);
}
