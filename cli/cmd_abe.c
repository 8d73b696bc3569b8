/* `leben abe`: an institution's attribute authority (CP-ABE, docs/security.md §11): publish its
 * parameters, issue keys for attributes to staff (sealed to their identity key, recorded on
 * the directory chain without the key), revoke attributes, encrypt and decrypt files under
 * policies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "abe_cli.h"
#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/abe_tx.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/envelope.h"
#include "leben/ledger.h"
#include "sectx.h"

#define MAX_FILE (64u << 20)

static const char abe_help[] =
	"usage: leben abe setup [--key NAME] [--json]\n"
	"       leben abe keygen --user WHO --attrs A,B,... --out FILE [--key NAME] [--json]\n"
	"       leben abe import FILE [--key NAME] [--json]\n"
	"       leben abe encrypt --policy FORMULA [--authority ID] [--in FILE] [--out FILE]\n"
	"       leben abe decrypt [--key NAME] [--in FILE] [--out FILE]\n"
	"       leben abe revoke --user WHO --attr A [--reissue-dir DIR] [--key NAME] [--json]\n"
	"       leben abe show [AUTHORITY_ID] [--key NAME] [--json]\n"
	"       (all take --home DIR and --node URL)\n"
	"\n"
	"Attribute-based encryption: your institution is the attribute authority of its own\n"
	"staff. It gives people attributes (cardiologist, ward:4, study:CHD-2027, ...) and anyone\n"
	"can then encrypt to a policy over these attributes, such as\n"
	"    (cardiologist AND ward:4) OR 2 of (ethics-approved, study:CHD-2027, pi)\n"
	"which only a person whose key carries a matching set of attributes can open. Keys of\n"
	"two people cannot be pooled to satisfy a policy neither satisfies alone.\n"
	"\n"
	"  setup    once per institution: create the authority's master key (kept in this home's\n"
	"           keystore, keys/NAME.abemsk, encrypted with the passphrase of key NAME: back\n"
	"           it up like the key) and publish the public parameters on the directory\n"
	"           chain (abe.setup). A master key an earlier version kept in clear\n"
	"           (abe/NAME.msk) is moved into the keystore the first time it is used\n"
	"  keygen   issue a key for the attributes to WHO (a key name in this home or an Ed25519\n"
	"           public key, 64 hex digits): the key is bound to WHO's identity, sealed to\n"
	"           WHO's key in FILE (give FILE to WHO, any channel will do), and the issuance\n"
	"           (attributes, WHO, the key's hash, not the key) is recorded on the chain\n"
	"           (abe.issue). Issuing again replaces WHO's earlier key.\n"
	"  import   WHO opens FILE with key NAME and keeps the ABE key in this home, encrypted\n"
	"           with the passphrase of key NAME (abe/keys/NAME/AUTHORITY.abekey); the key is\n"
	"           checked against the chain's record first. A key an earlier version kept in\n"
	"           clear (AUTHORITY.key) is moved in the first time it is used\n"
	"  encrypt  seal a file to a policy (plain attribute names of one authority, default\n"
	"           yours); the current attribute epochs are added (see revoke)\n"
	"  decrypt  open it with the ABE key NAME holds from that authority\n"
	"  revoke   take attribute A from WHO (abe.revoke): the attribute's epoch goes up, so\n"
	"           everything encrypted from now on names the new epoch and WHO's key no longer\n"
	"           opens it. Everyone else holding A is issued a new key at once, each sealed\n"
	"           to its owner in DIR (default: abe-reissued in the current directory) for\n"
	"           them to import. Old ciphertexts stay readable to WHO until their owner\n"
	"           seals them again ('leben data reseal'); what WHO already read stays read.\n"
	"  show     the authority's record: parameters, attribute epochs, issued keys, revocations\n"
	"\n"
	"NAME is the signing key of this home (default: node). Exit status: 0 done, 1 refused or\n"
	"failed (the reason is printed; nothing is changed on a refusal), 2 wrong usage.\n";

static int cli_print_json_obj(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!s) {
		fprintf(stderr, "leben abe: out of memory\n");
		return 1;
	}
	puts(s);
	free(s);
	return 0;
}

static int usage_err(const char *msg)
{
	fprintf(stderr, "leben abe: %s\n(see 'leben abe --help')\n", msg);
	return 2;
}

static int failem(const char *sub, const struct lb_errmsg *em)
{
	char cmd[64];
	snprintf(cmd, sizeof cmd, "abe %s", sub);
	return cli_fail(cmd, em, NULL);
}

static void authority_hex(const uint8_t pk[32], char hex[65])
{
	uint8_t addr[LB_ADDR_LEN], id[32];
	lb_addr_from_pubkey(addr, pk);
	lb_abe_authority_of(id, addr);
	lb_hex_encode(hex, id, 32);
}

static int key_pk(const char *home, const char *name, uint8_t pk[32], struct lb_errmsg *em)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/keys", home);
	if (strlen(name) == 64 && lb_hex_decode(pk, 32, name) == LB_OK)
		return LB_OK;
	if (lb_keyname_is_valid(name) && lb_keystore_public(dir, name, pk, em) == LB_OK)
		return LB_OK;
	return lb_errf(em, LB_EUSAGE,
		       "'%s' is neither an Ed25519 public key (64 hex digits) nor a key in %s", name,
		       dir);
}

/* The chain's record of an authority (64 hex digits). */
static int fetch_authority(const char *url, const char *hex, json_t **out, struct lb_errmsg *em)
{
	char path[160];
	snprintf(path, sizeof path, "/v1/abe/authorities/%s", hex);
	int rc = lb_client_get(url, path, out, em);
	if (rc == LB_ENOTFOUND)
		lb_errwrap(em, "(the institution runs 'leben abe setup' first) ");
	return rc;
}

static int record_pk(json_t *a, struct lb_abe_pk *pk, struct lb_errmsg *em)
{
	uint8_t *b = NULL;
	size_t n = 0;
	const char *h = json_string_value(json_object_get(a, "pk"));
	if (!h || lb_hex_decode_alloc(h, &b, &n, 4096))
		return lb_errf(em, LB_EMALFORMED, "the node gave no public parameters");
	int rc = lb_abe_pk_decode(pk, b, n, em);
	lb_free(b);
	return rc;
}

/* Build, sign (with signer, opened already, or else key, opened here), send a directory tx;
 * wait for its block. 1 (printed) on failure. */
static int send_tx(const char *sub, const char *home, const char *url, const char *key,
		   const struct lb_keypair *signer, uint32_t type, const struct lb_buf *payload,
		   char txid[65])
{
	char cmd[64];
	struct lb_keypair kp;
	struct sectx t;
	snprintf(cmd, sizeof cmd, "abe %s", sub);
	if (signer)
		kp = *signer;
	else if (cli_load_key(home, key, &kp))
		return 1;
	int rc = sectx_build_on(cmd, url, &kp, LB_CHAIN_DIRECTORY, type, payload->data,
				payload->len, &t);
	lb_keypair_wipe(&kp);
	if (rc)
		return 1;
	rc = sectx_send(cmd, url, &t, 60, NULL);
	if (!rc && txid)
		snprintf(txid, 65, "%s", t.id);
	sectx_release(&t);
	return rc;
}

/* The master key in clear of earlier versions (<home>/abe/<key>.msk), moved on first use. */
static int msk_path(const char *home, const char *key, char *out, size_t n)
{
	return snprintf(out, n, "%s/abe/%s.msk", home, key) >= (int)n;
}

#define MSK_KIND "abemsk" /* the master key in the keystore: <home>/keys/<key>.abemsk */

/* The passphrase of key in home, checked by opening the key (so that a secret is never
 * sealed under a mistyped one); the opened key in *kp if kp (caller wipes), so that the
 * passphrase is asked once. 1 (printed) on failure. */
static int key_passphrase(const char *home, const char *key, char pass[256],
			  struct lb_keypair *kp_out, const char *why)
{
	char dir[4200], prompt[128];
	struct lb_errmsg em;
	struct lb_keypair kp;
	snprintf(dir, sizeof dir, "%s/keys", home);
	snprintf(prompt, sizeof prompt, "Passphrase for key '%s': ", key);
	if (cli_passphrase(pass, 256, prompt, false))
		return 1;
	int rc = lb_keystore_load(dir, key, pass, &kp, &em);
	if (!rc && kp_out)
		*kp_out = kp;
	else
		lb_keypair_wipe(&kp);
	if (rc) {
		sodium_memzero(pass, 256);
		return cli_fail("key", &em, why);
	}
	return 0;
}

#define MSK_WHY "the authority's master key is kept under the passphrase of the signing key"

/* The authority master key of key from the keystore; a clear copy of an earlier version is
 * moved into it first (with a message). */
static int load_msk(const char *home, const char *key, struct lb_abe_msk *msk,
		    struct lb_keypair *kp, struct lb_errmsg *em)
{
	char pass[256], old[4300], dir[4300];
	uint8_t *b = NULL;
	size_t n = 0;
	struct stat st;
	if (key_passphrase(home, key, pass, kp, MSK_WHY))
		return lb_errf(em, LB_EPASSPHRASE, "the master key was not opened");
	msk_path(home, key, old, sizeof old);
	snprintf(dir, sizeof dir, "%s/keys", home);
	int rc = LB_OK;
	if (stat(old, &st) == 0) {
		if ((rc = lb_keystore_secret_migrate(old, dir, key, MSK_KIND, pass, em)))
			lb_errwrap(em, "moving the master key %s into the keystore: ", old);
		else
			fprintf(stderr,
				"leben abe: the authority's master key was kept in clear in %s; it is now "
				"in the keystore (%s/%s.%s, encrypted with the passphrase of key '%s') and "
				"the clear copy was overwritten and deleted\n",
				old, dir, key, MSK_KIND, key);
	}
	if (!rc && (rc = lb_keystore_secret_load(dir, key, MSK_KIND, pass, &b, &n, em)) ==
			   LB_ENOTFOUND)
		lb_errwrap(em, "this home holds no authority master key for '%s' ('leben abe setup'): ",
			   key);
	sodium_memzero(pass, sizeof pass);
	if (!rc)
		rc = lb_abe_msk_decode(msk, b, n, em);
	if (b)
		sodium_memzero(b, n);
	lb_free(b);
	if (rc)
		lb_keypair_wipe(kp);
	return rc;
}

static int abe_setup(const char *home, const char *url, const char *key, bool json)
{
	struct lb_errmsg em;
	struct lb_abe_pk pk;
	struct lb_abe_msk msk;
	uint8_t addr[LB_ADDR_LEN], id[32], pkb[LB_ABE_PK_BYTES], mskb[LB_ABE_MSK_BYTES], kpk[32];
	char path[4300], dir[4300], old[4300], hex[65], txid[65];
	lb_errclear(&em);
	if (key_pk(home, key, kpk, &em))
		return failem("setup", &em);
	lb_addr_from_pubkey(addr, kpk);
	lb_abe_authority_of(id, addr);
	lb_hex_encode(hex, id, 32);
	msk_path(home, key, old, sizeof old);
	snprintf(dir, sizeof dir, "%s/keys", home);
	snprintf(path, sizeof path, "%s/keys/%s.%s", home, key, MSK_KIND);
	struct stat st;
	if (stat(path, &st) == 0 || stat(old, &st) == 0)
		return cli_failf("abe setup",
				 "%s already exists: this home is already an authority ('leben abe "
				 "show')",
				 stat(path, &st) == 0 ? path : old);
	char pass[256];
	struct lb_keypair kp;
	if (key_passphrase(home, key, pass, &kp, MSK_WHY))
		return 1;
	lb_abe_setup(&pk, &msk, id);
	lb_abe_pk_encode(pkb, &pk);
	lb_abe_msk_encode(mskb, &msk);
	lb_abe_msk_wipe(&msk);
	int rc = lb_keystore_secret_save(dir, key, MSK_KIND, mskb, sizeof mskb, pass, &em);
	sodium_memzero(pass, sizeof pass);
	sodium_memzero(mskb, sizeof mskb);
	if (rc) {
		lb_keypair_wipe(&kp);
		return failem("setup", &em);
	}
	struct lb_buf b = {.data = pkb, .len = sizeof pkb};
	rc = send_tx("setup", home, url, key, &kp, LB_TX_ABE_SETUP, &b, txid);
	lb_keypair_wipe(&kp);
	if (rc) {
		lb_file_wipe(path, NULL);
		return 1;
	}
	if (json) {
		json_t *o = json_pack("{s:s,s:s,s:s}", "authority", hex, "tx", txid, "master_key",
				      path);
		return cli_print_json_obj(o);
	}
	printf("attribute authority %s published (tx %s)\nmaster key: %s (in the keystore, "
	       "encrypted with the passphrase of key '%s': back it up)\n",
	       hex, txid, path, key);
	return 0;
}

/* Issue a key for attrs (plain names, comma separated or an array of versioned names) to
 * user pk upk with master key msk; write it sealed to out; send abe.issue. */
static int issue(const char *sub, const char *home, const char *url, const char *key,
		 const struct lb_keypair *signer, const struct lb_abe_msk *msk, const uint8_t upk[32], char **attrs, size_t n,
		 const char *out, json_t *a, char txid[65], struct lb_errmsg *em)
{
	struct lb_abe_pk pk;
	struct lb_abe_key *k = NULL;
	uint8_t *enc = NULL, *env = NULL, xpk[32];
	size_t elen = 0, envlen = 0;
	int rc = record_pk(a, &pk, em);
	if (!rc)
		rc = lb_abe_keygen(&k, &pk, msk, upk, (const char *const *)attrs, n, em);
	if (!rc)
		rc = lb_abe_key_encode(&enc, &elen, k);
	struct lb_abe_issue_tx *t = lb_calloc(1, sizeof *t);
	if (!rc && !t)
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
	if (!rc && t) {
		memcpy(t->user, upk, 32);
		lb_hash(t->key_hash, enc, elen);
		t->n = n;
		for (size_t i = 0; i < n; i++)
			snprintf(t->attrs[i], sizeof t->attrs[i], "%s", attrs[i]);
		if (lb_envelope_pk_from_ed25519(xpk, upk))
			rc = lb_errf(em, LB_EINVALID, "the user's key is not a valid Ed25519 key");
	}
	if (!rc)
		rc = lb_envelope_seal((const uint8_t(*)[32])xpk, 1, enc, elen, &env, &envlen, em);
	if (enc) {
		sodium_memzero(enc, elen);
		lb_free(enc);
	}
	lb_abe_key_free(k);
	if (!rc)
		rc = lb_file_write(out, env, envlen, 0600, em);
	lb_free(env);
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (!rc && (rc = lb_abe_issue_tx_encode(t, &b)))
		lb_errf(em, rc, "too many attributes for one tx");
	lb_free(t);
	if (!rc && send_tx(sub, home, url, key, signer, LB_TX_ABE_ISSUE, &b, txid)) {
		remove(out);
		rc = lb_errf(em, LB_EINVALID, "the chain refused the issuance (above); no key given");
	}
	lb_buf_release(&b);
	return rc;
}

static int abe_keygen(const char *home, const char *url, const char *key, const char *user,
		      const char *attrs, const char *out, bool json)
{
	struct lb_errmsg em;
	uint8_t kp[32], upk[32];
	char hex[65], txid[65], buf[8192];
	char *names[LB_ABE_ISSUE_MAX];
	size_t n = 0;
	json_t *a = NULL;
	lb_errclear(&em);
	int rc = key_pk(home, key, kp, &em);
	if (!rc)
		rc = key_pk(home, user, upk, &em);
	if (rc)
		return rc == LB_EUSAGE ? usage_err(em.text) : failem("keygen", &em);
	authority_hex(kp, hex);
	if ((rc = fetch_authority(url, hex, &a, &em)))
		return failem("keygen", &em);
	snprintf(buf, sizeof buf, "%s", attrs);
	for (char *save = NULL, *s = strtok_r(buf, ",", &save); s && !rc;
	     s = strtok_r(NULL, ",", &save)) {
		while (*s == ' ')
			s++;
		if (n == LB_ABE_ISSUE_MAX)
			rc = lb_errf(&em, LB_ELIMIT, "--attrs: at most %d attributes", LB_ABE_ISSUE_MAX);
		else if (!(rc = lb_abe_base_check(s, &em))) {
			json_int_t ep = json_integer_value(
				json_object_get(json_object_get(a, "epochs"), s));
			names[n] = lb_malloc(LB_ABE_MAX_ATTR + 1);
			snprintf(names[n++], LB_ABE_MAX_ATTR + 1, "%s@v%lld", s,
				 (long long)(ep > 0 ? ep : 1));
		}
	}
	if (!rc && n == 0)
		rc = lb_errf(&em, LB_EINVALID, "--attrs: name at least one attribute");
	struct lb_abe_msk msk;
	struct lb_keypair skp;
	if (!rc && !(rc = load_msk(home, key, &msk, &skp, &em))) {
		rc = issue("keygen", home, url, key, &skp, &msk, upk, names, n, out, a, txid, &em);
		lb_abe_msk_wipe(&msk);
		lb_keypair_wipe(&skp);
	}
	json_decref(a);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			lb_free(names[i]);
		return failem("keygen", &em);
	}
	char uhex[65];
	lb_hex_encode(uhex, upk, 32);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, json_string(names[i]));
		lb_free(names[i]);
	}
	if (json)
		return cli_print_json_obj(json_pack("{s:s,s:s,s:o,s:s,s:s}", "authority", hex, "user",
						    uhex, "attributes", arr, "file", out, "tx",
						    txid));
	json_decref(arr);
	printf("key for %zu attribute(s) issued to %s, sealed to its key in %s (tx %s)\n"
	       "the user runs: leben abe import %s --key <their key name>\n",
	       n, user, out, txid, out);
	return 0;
}

/* A user's ABE keys: <home>/abe/keys/<key>/<authority>.abekey, keystore secrets (Argon2id,
 * XChaCha20-Poly1305) under the passphrase of identity key <key>. Earlier versions kept them
 * in clear as <authority>.key beside them: moved in on first use. */
#define UKEY_KIND "abekey"

static void ukey_dir(const char *home, const char *key, char *out, size_t n)
{
	snprintf(out, n, "%s/abe/keys/%s", home, key);
}

/* path of the clear key of earlier versions (clear) and of the keystore file (kept) */
static void ukey_paths(const char *home, const char *key, const char *auth, char *clear,
		       char *kept, size_t n)
{
	snprintf(clear, n, "%s/abe/keys/%s/%s.key", home, key, auth);
	snprintf(kept, n, "%s/abe/keys/%s/%s.%s", home, key, auth, UKEY_KIND);
}

/* Move the clear ABE key of key from authority auth into the keystore (pass: checked against
 * key already), with a message; done if there is none. */
static int ukey_migrate(const char *home, const char *key, const char *auth, const char *pass,
			struct lb_errmsg *em)
{
	char clear[4400], kept[4400], dir[4300];
	struct stat st;
	ukey_paths(home, key, auth, clear, kept, sizeof clear);
	if (stat(clear, &st) != 0)
		return LB_OK;
	ukey_dir(home, key, dir, sizeof dir);
	int rc = lb_keystore_secret_migrate(clear, dir, auth, UKEY_KIND, pass, em);
	if (rc)
		return lb_errwrap(em, "moving the ABE key %s into the keystore: ", clear);
	fprintf(stderr,
		"leben abe: the ABE key of key '%s' from authority %.16s... was kept in clear in %s; "
		"it is now in %s, encrypted with the passphrase of key '%s', and the clear copy was "
		"overwritten and deleted\n",
		key, auth, clear, kept, key);
	return LB_OK;
}

/* The ABE key key holds from authority auth, opened with key's passphrase (*kb: caller wipes
 * and frees). LB_ENOTFOUND before any passphrase is asked if there is none. */
static int ukey_load(const char *home, const char *key, const char *auth, uint8_t **kb,
		     size_t *kl, struct lb_errmsg *em)
{
	char clear[4400], kept[4400], dir[4300], pass[256], prompt[128];
	struct stat st;
	ukey_paths(home, key, auth, clear, kept, sizeof clear);
	ukey_dir(home, key, dir, sizeof dir);
	bool old = stat(clear, &st) == 0;
	if (!old && stat(kept, &st) != 0)
		return lb_errf(em, LB_ENOTFOUND,
			       "key '%s' holds no ABE key of authority %.16s... (%s): ask that "
			       "institution for one ('leben abe keygen'), then 'leben abe import'",
			       key, auth, kept);
	if (old) { /* a clear key: seal it only under key's checked passphrase */
		if (key_passphrase(home, key, pass, NULL, "the ABE keys of a key are kept under its "
							  "passphrase"))
			return lb_errf(em, LB_EPASSPHRASE, "the ABE key was not opened");
	} else {
		snprintf(prompt, sizeof prompt, "Passphrase for key '%s': ", key);
		if (cli_passphrase(pass, sizeof pass, prompt, false))
			return lb_errf(em, LB_EPASSPHRASE, "the ABE key was not opened");
	}
	int rc = old ? ukey_migrate(home, key, auth, pass, em) : LB_OK;
	if (!rc && (rc = lb_keystore_secret_load(dir, auth, UKEY_KIND, pass, kb, kl, em)) ==
			   LB_EPASSPHRASE)
		lb_errwrap(em, "the ABE keys of key '%s' are kept under its passphrase: ", key);
	sodium_memzero(pass, sizeof pass);
	return rc;
}

static int abe_import(const char *home, const char *url, const char *key, const char *file,
		      bool json)
{
	struct lb_errmsg em;
	struct lb_keypair kp;
	uint8_t *env = NULL, *plain = NULL, xpk[32], xsk[32], seed[32], h[32];
	size_t envlen = 0, plen = 0;
	struct lb_abe_key *k = NULL;
	json_t *a = NULL;
	char auth[65], uhex[65], hh[65], path[4400], dir[4400];
	char pass[256];
	lb_errclear(&em);
	if (key_passphrase(home, key, pass, &kp, NULL))
		return 1;
	uint8_t upk[32];
	memcpy(upk, kp.pk, 32);
	memcpy(seed, kp.sk, 32);
	lb_keypair_wipe(&kp);
	int rc = lb_envelope_keypair_from_ed25519_seed(xpk, xsk, seed);
	sodium_memzero(seed, sizeof seed);
	if (!rc)
		rc = lb_file_read(file, 1 << 20, &env, &envlen, &em);
	if (!rc && (rc = lb_envelope_open(xsk, xpk, env, envlen, 1 << 20, &plain, &plen, &em)) ==
			   LB_EWRONGKEY)
		lb_errwrap(&em, "%s was not sealed to key '%s': ", file, key);
	sodium_memzero(xsk, sizeof xsk);
	lb_free(env);
	if (!rc)
		rc = lb_abe_key_decode(&k, plain, plen, &em);
	/* the authority id is the key's first field after its magic; find the chain's record */
	if (!rc) {
		lb_hex_encode(auth, plain + 7, 32);
		lb_hex_encode(uhex, upk, 32);
		lb_hash(h, plain, plen);
		lb_hex_encode(hh, h, 32);
		if (memcmp(plain + 7 + 32, upk, 32))
			rc = lb_errf(&em, LB_EWRONGKEY,
				     "the ABE key in %s was issued to another identity than key '%s'",
				     file, key);
	}
	if (!rc)
		rc = fetch_authority(url, auth, &a, &em);
	if (!rc) {
		const char *rec = json_string_value(json_object_get(
			json_object_get(json_object_get(a, "users"), uhex), "key_hash"));
		if (!rec || strcmp(rec, hh))
			rc = lb_errf(&em, LB_EDENIED,
				     "the chain does not record this key as the one authority %.16s... "
				     "issued to key '%s' (a replaced or forged key); ask the authority "
				     "for a new one",
				     auth, key);
	}
	if (!rc) { /* this key replaces an earlier one, also one kept in clear before */
		char clear[4400];
		ukey_paths(home, key, auth, clear, path, sizeof path);
		ukey_dir(home, key, dir, sizeof dir);
		rc = lb_keystore_secret_replace(dir, auth, UKEY_KIND, plain, plen, pass, &em);
		struct stat st;
		if (!rc && stat(clear, &st) == 0 && !(rc = lb_file_wipe(clear, &em)))
			fprintf(stderr,
				"leben abe: the earlier ABE key kept in clear in %s was overwritten and "
				"deleted\n",
				clear);
	}
	sodium_memzero(pass, sizeof pass);
	if (plain) {
		sodium_memzero(plain, plen);
		lb_free(plain);
	}
	json_t *arr = json_array();
	for (size_t i = 0; k && lb_abe_key_attr(k, i); i++)
		json_array_append_new(arr, json_string(lb_abe_key_attr(k, i)));
	lb_abe_key_free(k);
	json_decref(a);
	if (rc) {
		json_decref(arr);
		return failem("import", &em);
	}
	if (json)
		return cli_print_json_obj(json_pack("{s:s,s:s,s:o,s:s}", "authority", auth, "key",
						    key, "attributes", arr, "file", path));
	printf("ABE key of authority %.16s... for key '%s' kept in %s:", auth, key, path);
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		printf(" %s", json_string_value(x));
	printf("\n");
	json_decref(arr);
	return 0;
}

/* the authority's parameters and the versioned policy */
static int prepare(const char *home, const char *url, const char *signer, const char *authority,
		   const char *policy, struct lb_abe_pk *pk, char **vpol, struct lb_errmsg *em)
{
	return abe_cli_policy(home, url, signer, authority, policy, NULL, pk, vpol, em);
}

int abe_cli_policy(const char *home, const char *url, const char *signer, const char *authority,
		   const char *policy, uint8_t auth_id[32], struct lb_abe_pk *pk, char **vpol,
		   struct lb_errmsg *em)
{
	char hex[65];
	uint8_t kp[32];
	json_t *a = NULL;
	int rc = LB_OK;
	if (authority) {
		if (strlen(authority) != 64 || lb_hex_decode(kp, 32, authority))
			return lb_errf(em, LB_EUSAGE, "--authority: expected 64 hex digits");
		snprintf(hex, sizeof hex, "%s", authority);
	} else if (!(rc = key_pk(home, signer, kp, em))) {
		authority_hex(kp, hex);
	}
	if (!rc && !(rc = lb_abe_policy_check(policy, em)))
		rc = fetch_authority(url, hex, &a, em);
	if (!rc)
		rc = record_pk(a, pk, em);
	if (!rc)
		rc = lb_abe_tx_versioned_policy(vpol, policy, a, em);
	json_decref(a);
	if (!rc && auth_id)
		lb_hex_decode(auth_id, 32, hex);
	return rc;
}

static int seal_to(uint32_t type, const char *home, const char *url, const char *signer,
		   const char *authority, const char *policy, const uint8_t asset[32],
		   uint64_t version, const uint8_t *msg, size_t len, char txid[65],
		   struct lb_errmsg *em)
{
	struct lb_abe_pk pk;
	char *vpol = NULL;
	uint8_t *ct = NULL;
	size_t ctlen = 0;
	int rc = prepare(home, url, signer, authority, policy, &pk, &vpol, em);
	if (!rc)
		rc = lb_abe_encrypt(&ct, &ctlen, &pk, vpol, msg, len, em);
	lb_free(vpol);
	struct lb_abe_seal_tx t = {.version = version, .ct = ct, .ct_len = ctlen};
	memcpy(t.asset_id, asset, 32);
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (!rc && (rc = lb_abe_seal_tx_encode(&t, &b)))
		lb_errf(em, rc, "the sealed private part is too large for a tx");
	lb_free(ct);
	if (!rc && send_tx("seal", home, url, signer, NULL, type, &b, txid))
		rc = lb_errf(em, LB_EINVALID, "the chain refused the policy-sealed data (above)");
	lb_buf_release(&b);
	return rc;
}

int abe_cli_seal(const char *home, const char *url, const char *signer, const char *authority,
		 const char *policy, const uint8_t asset[32], uint64_t version, const uint8_t *msg,
		 size_t len, char txid[65], struct lb_errmsg *em)
{
	return seal_to(LB_TX_ABE_SEAL, home, url, signer, authority, policy, asset, version, msg,
		       len, txid, em);
}

int abe_cli_share(const char *home, const char *url, const char *signer, const char *authority,
		  const char *policy, const uint8_t request[32], const uint8_t *msg, size_t len,
		  char txid[65], struct lb_errmsg *em)
{
	if (len > LB_TX_PAYLOAD_MAX - 1024)
		return lb_errf(em, LB_ETOOBIG,
			       "the result (%zu bytes) is too large to share on the chain (at most "
			       "%d bytes)",
			       len, LB_TX_PAYLOAD_MAX - 1024);
	return seal_to(LB_TX_ABE_SHARE, home, url, signer, authority, policy, request, 1, msg,
		       len, txid, em);
}

/* Decrypt ct with the key key of home holds from ct's authority. */
int abe_cli_decrypt(const char *home, const char *url, const char *key, const uint8_t *ct,
		    size_t ctlen, uint8_t **out, size_t *outlen, struct lb_errmsg *em)
{
	char auth[65];
	struct lb_abe_pk pk;
	struct lb_abe_key *k = NULL;
	uint8_t *kb = NULL;
	size_t kl = 0;
	json_t *a = NULL;
	if (ctlen < 38 || memcmp(ct, "LBABE1", 6))
		return lb_errf(em, LB_EMALFORMED, "not a CP-ABE ciphertext (LBABE1)");
	lb_hex_encode(auth, ct + 6, 32);
	int rc = ukey_load(home, key, auth, &kb, &kl, em);
	if (rc)
		return rc;
	rc = lb_abe_key_decode(&k, kb, kl, em);
	sodium_memzero(kb, kl);
	lb_free(kb);
	if (!rc)
		rc = fetch_authority(url, auth, &a, em);
	if (!rc)
		rc = record_pk(a, &pk, em);
	json_decref(a);
	if (!rc)
		rc = lb_abe_decrypt(out, outlen, &pk, k, ct, ctlen, em);
	lb_abe_key_free(k);
	return rc;
}

/* the latest seal (kind "seals") or share ("shares") of id; sender: the address it must come
 * from (NULL: any; the chain checked the owner) */
static int open_latest(const char *kind, const char *home, const char *url, const char *key,
		       const char *id, const char *sender, uint8_t **plain, size_t *plen,
		       uint64_t *version, char policy[4096], struct lb_errmsg *em)
{
	char path[200];
	json_t *s = NULL, *tx = NULL;
	uint8_t *ct = NULL;
	size_t ctlen = 0;
	if (sender)
		snprintf(path, sizeof path, "/v1/abe/%s/%s/%s", kind, id, sender);
	else
		snprintf(path, sizeof path, "/v1/abe/%s/%s", kind, id);
	int rc = lb_client_get(url, path, &s, em);
	if (rc)
		return rc;
	const char *from = json_string_value(json_object_get(s, "sender"));
	if (sender && (!from || strcmp(from, sender))) {
		json_decref(s);
		return lb_errf(em, LB_EDENIED,
			       "the result shared for request %s was not sent by the request's user "
			       "(%s): refused",
			       id, sender);
	}
	*version = (uint64_t)json_integer_value(json_object_get(s, "version"));
	snprintf(path, sizeof path, "/v1/txs/%s", json_string_value(json_object_get(s, "tx")));
	json_decref(s);
	if ((rc = lb_client_get(url, path, &tx, em)))
		return rc;
	json_t *p = json_object_get(tx, "payload");
	const char *hex = json_string_value(json_object_get(p, "ciphertext"));
	if (!hex || lb_hex_decode_alloc(hex, &ct, &ctlen, LB_TX_PAYLOAD_MAX))
		rc = lb_errf(em, LB_EMALFORMED, "the abe.seal tx carries no ciphertext");
	else if (policy)
		snprintf(policy, 4096, "%s", json_string_value(json_object_get(p, "policy")));
	json_decref(tx);
	if (!rc)
		rc = abe_cli_decrypt(home, url, key, ct, ctlen, plain, plen, em);
	lb_free(ct);
	if (!rc && policy) {
		char *pl = NULL;
		if (lb_abe_tx_plain_policy(&pl, policy, NULL) == LB_OK)
			snprintf(policy, 4096, "%s", pl);
		lb_free(pl);
	}
	return rc;
}

int abe_cli_open(const char *home, const char *url, const char *key, const char *asset,
		 uint8_t **plain, size_t *plen, uint64_t *version, char policy[4096],
		 struct lb_errmsg *em)
{
	return open_latest("seals", home, url, key, asset, NULL, plain, plen, version, policy, em);
}

int abe_cli_open_share(const char *home, const char *url, const char *key, const char *request,
		       const char *user, uint8_t **plain, size_t *plen, char policy[4096],
		       struct lb_errmsg *em)
{
	uint64_t v;
	return open_latest("shares", home, url, key, request, user, plain, plen, &v, policy, em);
}

static int read_in(const char *in, uint8_t **data, size_t *len, struct lb_errmsg *em)
{
	if (in && strcmp(in, "-"))
		return lb_file_read(in, MAX_FILE, data, len, em);
	struct lb_buf b;
	uint8_t chunk[65536];
	size_t n;
	lb_buf_init(&b, MAX_FILE);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (lb_buf_add(&b, chunk, n))
			return lb_errf(em, LB_ETOOBIG, "input larger than 64 MiB");
	*data = b.data;
	*len = b.len;
	if (!*data)
		*data = lb_malloc(1);
	return LB_OK;
}

static int write_out(const char *out, const uint8_t *data, size_t len, struct lb_errmsg *em)
{
	if (out && strcmp(out, "-"))
		return lb_file_write(out, data, len, 0600, em);
	return fwrite(data, 1, len, stdout) == len ? LB_OK
						   : lb_errf(em, LB_EIO, "cannot write the output");
}

static int abe_encrypt(const char *home, const char *url, const char *key, const char *authority,
		       const char *policy, const char *in, const char *out)
{
	struct lb_errmsg em;
	struct lb_abe_pk pk;
	char *vpol = NULL;
	uint8_t *msg = NULL, *ct = NULL;
	size_t len = 0, ctlen = 0;
	lb_errclear(&em);
	int rc = prepare(home, url, key, authority, policy, &pk, &vpol, &em);
	if (rc == LB_EUSAGE)
		return usage_err(em.text);
	if (!rc)
		rc = read_in(in, &msg, &len, &em);
	if (!rc)
		rc = lb_abe_encrypt(&ct, &ctlen, &pk, vpol, msg, len, &em);
	lb_free(vpol);
	lb_free(msg);
	if (!rc)
		rc = write_out(out, ct, ctlen, &em);
	lb_free(ct);
	return rc ? failem("encrypt", &em) : 0;
}

static int abe_decrypt(const char *home, const char *url, const char *key, const char *in,
		       const char *out)
{
	struct lb_errmsg em;
	uint8_t *ct = NULL, *msg = NULL;
	size_t ctlen = 0, len = 0;
	lb_errclear(&em);
	int rc = read_in(in, &ct, &ctlen, &em);
	if (!rc)
		rc = abe_cli_decrypt(home, url, key, ct, ctlen, &msg, &len, &em);
	lb_free(ct);
	if (!rc)
		rc = write_out(out, msg, len, &em);
	if (msg) {
		sodium_memzero(msg, len);
		lb_free(msg);
	}
	return rc ? failem("decrypt", &em) : 0;
}

static int abe_revoke(const char *home, const char *url, const char *key, const char *user,
		      const char *attr, const char *outdir, bool json)
{
	struct lb_errmsg em;
	uint8_t kp[32], upk[32];
	char hex[65], txid[65], uhex[65];
	json_t *a = NULL;
	lb_errclear(&em);
	int rc = key_pk(home, key, kp, &em);
	if (!rc)
		rc = key_pk(home, user, upk, &em);
	if (!rc)
		rc = lb_abe_base_check(attr, &em);
	if (rc)
		return rc == LB_EUSAGE || rc == LB_EINVALID ? usage_err(em.text)
							    : failem("revoke", &em);
	authority_hex(kp, hex);
	lb_hex_encode(uhex, upk, 32);
	/* the master key first: the others' new keys are issued right after the revocation */
	struct lb_abe_msk msk;
	struct lb_keypair skp;
	if ((rc = load_msk(home, key, &msk, &skp, &em)))
		return failem("revoke", &em);
	struct lb_abe_revoke_tx t;
	memcpy(t.user, upk, 32);
	snprintf(t.attr, sizeof t.attr, "%s", attr);
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (lb_abe_revoke_tx_encode(&t, &b) ||
	    send_tx("revoke", home, url, key, &skp, LB_TX_ABE_REVOKE, &b, txid)) {
		lb_buf_release(&b);
		lb_abe_msk_wipe(&msk);
		lb_keypair_wipe(&skp);
		return 1;
	}
	lb_buf_release(&b);
	/* every other holder of attr gets a key at the new epoch */
	if ((rc = fetch_authority(url, hex, &a, &em))) {
		lb_abe_msk_wipe(&msk);
		lb_keypair_wipe(&skp);
		return failem("revoke", &em);
	}
	if (!outdir)
		outdir = "abe-reissued";
	json_t *reissued = json_array(), *u;
	const char *who;
	json_int_t ep = json_integer_value(json_object_get(json_object_get(a, "epochs"), attr));
	json_object_foreach(json_object_get(a, "users"), who, u) {
		json_t *attrs = json_object_get(u, "attrs"), *x;
		size_t i, n = json_array_size(attrs);
		char *names[LB_ABE_ISSUE_MAX], file[4400], itx[65];
		bool holds = false;
		uint8_t opk[32];
		if (n == 0 || n > LB_ABE_ISSUE_MAX || lb_hex_decode(opk, 32, who))
			continue;
		json_array_foreach(attrs, i, x) {
			char base[LB_ABE_BASE_MAX + 1];
			uint64_t e;
			const char *s = json_string_value(x);
			names[i] = lb_malloc(LB_ABE_MAX_ATTR + 1);
			if (s && lb_abe_attr_split(s, base, &e) == LB_OK && !strcmp(base, attr)) {
				holds = true;
				snprintf(names[i], LB_ABE_MAX_ATTR + 1, "%s@v%lld", attr,
					 (long long)ep);
			} else {
				snprintf(names[i], LB_ABE_MAX_ATTR + 1, "%s", s ? s : "");
			}
		}
		if (holds && !rc) {
			snprintf(file, sizeof file, "%s/%s.abekey", outdir, who);
			if (!(rc = lb_mkdirs(outdir, 0700, &em)) &&
			    !(rc = issue("revoke", home, url, key, &skp, &msk, opk, names, n, file, a,
					   itx, &em)))
				json_array_append_new(reissued,
						      json_pack("{s:s,s:s,s:s}", "user", who, "file",
								file, "tx", itx));
		}
		for (size_t k = 0; k < n; k++)
			lb_free(names[k]);
		if (rc)
			break;
	}
	lb_abe_msk_wipe(&msk);
	lb_keypair_wipe(&skp);
	json_decref(a);
	if (rc) {
		json_decref(reissued);
		return failem("revoke", &em);
	}
	if (json)
		return cli_print_json_obj(json_pack("{s:s,s:s,s:s,s:I,s:o}", "user", uhex,
						    "attribute", attr, "tx", txid, "epoch",
						    (json_int_t)ep, "reissued", reissued));
	printf("attribute %s revoked from %s (tx %s); it is now at epoch %lld\n", attr, user, txid,
	       (long long)ep);
	size_t i;
	json_t *x;
	json_array_foreach(reissued, i, x)
		printf("  new key for %.16s... in %s (they run 'leben abe import')\n",
		       json_string_value(json_object_get(x, "user")),
		       json_string_value(json_object_get(x, "file")));
	json_decref(reissued);
	return 0;
}

static int abe_show(const char *home, const char *url, const char *key, const char *id,
		    bool json)
{
	struct lb_errmsg em;
	char hex[65];
	uint8_t kp[32];
	json_t *a = NULL;
	lb_errclear(&em);
	if (id) {
		snprintf(hex, sizeof hex, "%s", id);
	} else {
		if (key_pk(home, key, kp, &em))
			return usage_err(em.text);
		authority_hex(kp, hex);
	}
	if (fetch_authority(url, hex, &a, &em))
		return failem("show", &em);
	if (json)
		return cli_print_json_obj(a);
	printf("authority %s (institution %s)\n", hex,
	       json_string_value(json_object_get(a, "owner")));
	const char *k;
	json_t *v;
	printf("attribute epochs (1 unless revoked):");
	json_object_foreach(json_object_get(a, "epochs"), k, v)
		printf(" %s=%lld", k, (long long)json_integer_value(v));
	printf("\nkeys issued:\n");
	json_object_foreach(json_object_get(a, "users"), k, v) {
		size_t i;
		json_t *x;
		printf("  %s:", json_string_value(json_object_get(v, "address")));
		json_array_foreach(json_object_get(v, "attrs"), i, x)
			printf(" %s", json_string_value(x));
		if (json_array_size(json_object_get(v, "revoked"))) {
			printf("  (revoked:");
			json_array_foreach(json_object_get(v, "revoked"), i, x)
				printf(" %s", json_string_value(x));
			printf(")");
		}
		printf("\n");
	}
	json_decref(a);
	return 0;
}

int cmd_abe(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *key = NULL, *user = NULL, *attrs = NULL,
		   *attr = NULL, *out = NULL, *in = NULL, *policy = NULL, *authority = NULL,
		   *dir = NULL, *pos[2] = {NULL, NULL};
	bool json = false, help = false;
	const struct copt opts[] = {
		{"--home", &home, NULL},      {"--node", &node, NULL},
		{"--key", &key, NULL},        {"--user", &user, NULL},
		{"--attrs", &attrs, NULL},    {"--attr", &attr, NULL},
		{"--out", &out, NULL},        {"--in", &in, NULL},
		{"--policy", &policy, NULL},  {"--authority", &authority, NULL},
		{"--reissue-dir", &dir, NULL}, {"--json", NULL, &json},
		{"--help", NULL, &help},      {"-h", NULL, &help},
		{NULL, NULL, NULL}};
	int npos = 0;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(abe_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (copt_parse("abe", argc, argv, 2, opts, pos, 2, &npos))
		return 2;
	if (help) {
		fputs(abe_help, stdout);
		return 0;
	}
	home = cli_home(home);
	const char *url = cli_node_url(node, home);
	if (!key)
		key = "node";
	if (!strcmp(sub, "setup"))
		return npos ? usage_err("setup takes no argument") : abe_setup(home, url, key, json);
	if (!strcmp(sub, "keygen")) {
		if (!user || !attrs || !out)
			return usage_err("keygen needs --user, --attrs and --out");
		return abe_keygen(home, url, key, user, attrs, out, json);
	}
	if (!strcmp(sub, "import"))
		return npos != 1 ? usage_err("import needs the FILE keygen wrote")
				 : abe_import(home, url, key, pos[0], json);
	if (!strcmp(sub, "encrypt")) {
		if (!policy)
			return usage_err("encrypt needs --policy");
		return abe_encrypt(home, url, key, authority, policy, in, out);
	}
	if (!strcmp(sub, "decrypt"))
		return abe_decrypt(home, url, key, in, out);
	if (!strcmp(sub, "revoke")) {
		if (!user || !attr)
			return usage_err("revoke needs --user and --attr");
		return abe_revoke(home, url, key, user, attr, dir, json);
	}
	if (!strcmp(sub, "show"))
		return abe_show(home, url, key, npos ? pos[0] : NULL, json);
	fprintf(stderr, "leben abe: unknown subcommand '%s'\n", sub);
	fputs(abe_help, stderr);
	return 2;
}
