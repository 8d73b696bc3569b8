/*
 * The encrypted keystore: one JSON file per key under <home>/keys/. The Ed25519 seed is
 * encrypted with XChaCha20-Poly1305 under a key derived from the passphrase by Argon2id; the
 * public key is the associated data, so a file whose public part was edited does not open.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"

#define KEYFILE_MAX 16384
/* a secret's file: its ciphertext in hex and the JSON around it */
#define SECRETFILE_MAX (2 * LB_KEYSTORE_SECRET_MAX + 4096)

bool lb_keyname_is_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > LB_KEYNAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int key_path(char *out, size_t n, const char *dir, const char *name,
		    struct lb_errmsg *em)
{
	if (!lb_keyname_is_valid(name))
		return lb_errf(em, LB_EINVALID,
			       "'%s' is not a usable key name: use 1-64 letters, digits, '.', '_' "
			       "or '-'",
			       name);
	if ((size_t)snprintf(out, n, "%s/%s.key", dir, name) >= n)
		return lb_errf(em, LB_EINVALID, "key directory path too long");
	return LB_OK;
}

static void hex_set(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char h[2 * 256 + 1];
	lb_hex_encode(h, p, n);
	json_object_set_new(o, k, json_string(h));
}

/* Encrypt pt[0..n) under passphrase (Argon2id, XChaCha20-Poly1305 with ad as associated data)
 * into o's "kdf" and "cipher" objects. */
static int seal_into(json_t *o, const char *passphrase, const uint8_t *pt, size_t n,
		     const uint8_t *ad, size_t adlen, struct lb_errmsg *em)
{
	uint8_t salt[crypto_pwhash_SALTBYTES], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t key[32];
	uint8_t *ct = lb_malloc(n + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	if (!ct)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), salt,
			  LB_KEYSTORE_OPSLIMIT, LB_KEYSTORE_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13)) {
		lb_free(ct);
		return lb_errf(em, LB_ENOMEM, "not enough memory to derive the key (Argon2id)");
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, pt, n, ad, adlen, NULL, nonce, key);
	sodium_memzero(key, sizeof key);
	json_t *kdf = json_object(), *cip = json_object();
	json_object_set_new(kdf, "algorithm", json_string("argon2id13"));
	json_object_set_new(kdf, "opslimit", json_integer(LB_KEYSTORE_OPSLIMIT));
	json_object_set_new(kdf, "memlimit", json_integer(LB_KEYSTORE_MEMLIMIT));
	hex_set(kdf, "salt", salt, sizeof salt);
	json_object_set_new(o, "kdf", kdf);
	json_object_set_new(cip, "algorithm", json_string("xchacha20poly1305-ietf"));
	hex_set(cip, "nonce", nonce, sizeof nonce);
	char *h = lb_malloc(2 * (n + crypto_aead_xchacha20poly1305_ietf_ABYTES) + 1);
	if (h) {
		lb_hex_encode(h, ct, n + crypto_aead_xchacha20poly1305_ietf_ABYTES);
		json_object_set_new(cip, "ciphertext", json_string(h));
		lb_free(h);
	}
	lb_free(ct);
	json_object_set_new(o, "cipher", cip);
	return h ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* The KDF limits of a key file's "kdf" object, within what LEBEN writes and accepts. */
static bool kdf_limits(json_t *kdf, unsigned long long *ops, size_t *mem)
{
	json_t *o = json_object_get(kdf, "opslimit"), *m = json_object_get(kdf, "memlimit");
	if (!json_is_integer(o) || !json_is_integer(m) || json_integer_value(o) < 1 ||
	    json_integer_value(o) > 16 || json_integer_value(m) < 8192 ||
	    json_integer_value(m) > (1LL << 32))
		return false;
	*ops = (unsigned long long)json_integer_value(o);
	*mem = (size_t)json_integer_value(m);
	return true;
}

/* Write o (released) to path, mode 0600. */
static int write_json(const char *path, json_t *o, struct lb_errmsg *em)
{
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_file_write(path, text, strlen(text), 0600, em);
	free(text);
	return rc;
}

static int key_put(const char *dir, const char *name, const struct lb_keypair *kp,
		   const char *passphrase, bool replace, struct lb_errmsg *em)
{
	char path[4200];
	int rc = key_path(path, sizeof path, dir, name, em);
	if (rc)
		return rc;
	struct stat st;
	if (!replace && stat(path, &st) == 0)
		return lb_errf(em, LB_EEXISTS, "a key named '%s' already exists in %s", name, dir);
	if ((rc = lb_mkdirs(dir, 0700, em)))
		return rc;

	char addr[LB_ADDR_TEXT_LEN + 1];
	uint8_t a[LB_ADDR_LEN];
	lb_addr_from_pubkey(a, kp->pk);
	lb_addr_encode(addr, a);
	json_t *o = json_object();
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "address", json_string(addr));
	hex_set(o, "public_key", kp->pk, LB_PUBKEY_LEN);
	if ((rc = seal_into(o, passphrase, kp->sk, LB_SEED_LEN, kp->pk, LB_PUBKEY_LEN, em))) {
		json_decref(o);
		return rc;
	}
	return write_json(path, o, em);
}

int lb_keystore_save(const char *dir, const char *name, const struct lb_keypair *kp,
		     const char *passphrase, struct lb_errmsg *em)
{
	return key_put(dir, name, kp, passphrase, false, em);
}

/* Parse the key file; fills pk and, when want_secret, the fields needed to decrypt. */
struct keyfile {
	uint8_t pk[LB_PUBKEY_LEN];
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t ct[LB_SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned long long opslimit;
	size_t memlimit;
};

static int hex_field(json_t *o, const char *k, uint8_t *out, size_t n)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? lb_hex_decode(out, n, s) : LB_EMALFORMED;
}

static int keyfile_read(const char *dir, const char *name, struct keyfile *kf,
			struct lb_errmsg *em)
{
	char path[4200];
	int rc = key_path(path, sizeof path, dir, name, em);
	if (rc)
		return rc;
	uint8_t *text;
	size_t len;
	if ((rc = lb_file_read(path, KEYFILE_MAX, &text, &len, em))) {
		if (rc == LB_ENOTFOUND)
			lb_errf(em, rc, "no key named '%s' in %s", name, dir);
		return rc;
	}
	json_error_t jerr;
	json_t *o = json_loadb((const char *)text, len, 0, &jerr);
	lb_free(text);
	json_t *kdf = json_object_get(o, "kdf"), *cip = json_object_get(o, "cipher");
	rc = LB_OK;
	if (!o || !kdf_limits(kdf, &kf->opslimit, &kf->memlimit) ||
	    hex_field(o, "public_key", kf->pk, sizeof kf->pk) ||
	    hex_field(kdf, "salt", kf->salt, sizeof kf->salt) ||
	    hex_field(cip, "nonce", kf->nonce, sizeof kf->nonce) ||
	    hex_field(cip, "ciphertext", kf->ct, sizeof kf->ct))
		rc = lb_errf(em, LB_ECORRUPT,
			     "key file %s is damaged or not a LEBEN key file; restore it from "
			     "your backup",
			     path);
	json_decref(o);
	return rc;
}

int lb_keystore_public(const char *dir, const char *name, uint8_t pk[LB_PUBKEY_LEN],
		       struct lb_errmsg *em)
{
	struct keyfile kf;
	int rc = keyfile_read(dir, name, &kf, em);
	if (!rc)
		memcpy(pk, kf.pk, LB_PUBKEY_LEN);
	return rc;
}

int lb_keystore_load(const char *dir, const char *name, const char *passphrase,
		     struct lb_keypair *kp, struct lb_errmsg *em)
{
	struct keyfile kf;
	int rc = keyfile_read(dir, name, &kf, em);
	if (rc)
		return rc;
	uint8_t key[32], seed[LB_SEED_LEN];
	if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), kf.salt, kf.opslimit,
			  kf.memlimit, crypto_pwhash_ALG_ARGON2ID13))
		return lb_errf(em, LB_ENOMEM, "not enough memory to derive the key (Argon2id)");
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL, kf.ct, sizeof kf.ct,
							kf.pk, LB_PUBKEY_LEN, kf.nonce, key);
	sodium_memzero(key, sizeof key);
	if (rc)
		return lb_errf(em, LB_EPASSPHRASE,
			       "wrong passphrase for key '%s' (or the key file was altered)", name);
	lb_keypair_from_seed(kp, seed);
	sodium_memzero(seed, sizeof seed);
	if (!lb_ct_equal(kp->pk, kf.pk, LB_PUBKEY_LEN)) {
		lb_keypair_wipe(kp);
		return lb_errf(em, LB_ECORRUPT, "key file for '%s' does not match its public key",
			       name);
	}
	return LB_OK;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lb_keystore_list(const char *dir,
		     int (*fn)(const char *name, const uint8_t pk[LB_PUBKEY_LEN], void *ctx),
		     void *ctx, struct lb_errmsg *em)
{
	DIR *d = opendir(dir);
	if (!d)
		return LB_OK;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = LB_OK;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".key"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = lb_realloc(names, cap * sizeof *names);
			if (!nn) {
				rc = lb_errf(em, LB_ENOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		if (!(names[n] = lb_strdup(e->d_name))) {
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
			break;
		}
		names[n++][len - 4] = 0;
	}
	closedir(d);
	if (!rc)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t pk[LB_PUBKEY_LEN];
		if (!lb_keyname_is_valid(names[i]))
			continue;
		if ((rc = lb_keystore_public(dir, names[i], pk, em)))
			break;
		rc = fn(names[i], pk, ctx);
	}
	for (size_t i = 0; i < n; i++)
		lb_free(names[i]);
	lb_free(names);
	return rc;
}

/* ---- other secrets in the keystore: <dir>/<name>.<kind> ---------------------------------- */

static int secret_path(char *out, size_t n, const char *dir, const char *name, const char *kind,
		       struct lb_errmsg *em)
{
	if (!lb_keyname_is_valid(name) || !lb_keyname_is_valid(kind) || !strcmp(kind, "key"))
		return lb_errf(em, LB_EINVALID, "'%s.%s' is not a usable keystore secret name", name,
			       kind);
	if ((size_t)snprintf(out, n, "%s/%s.%s", dir, name, kind) >= n)
		return lb_errf(em, LB_EINVALID, "key directory path too long");
	return LB_OK;
}

/* What a secret's encryption is bound to: its kind and name. */
static size_t secret_ad(uint8_t *ad, size_t cap, const char *name, const char *kind)
{
	int n = snprintf((char *)ad, cap, "LEBEN keystore secret v1|%s|%s", kind, name);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static int secret_put(const char *dir, const char *name, const char *kind,
		      const uint8_t *secret, size_t len, const char *passphrase, bool replace,
		      struct lb_errmsg *em)
{
	char path[4200];
	uint8_t ad[256];
	int rc = secret_path(path, sizeof path, dir, name, kind, em);
	if (rc)
		return rc;
	if (len == 0 || len > LB_KEYSTORE_SECRET_MAX)
		return lb_errf(em, LB_EINVALID, "a keystore secret holds 1 to %d bytes",
			       LB_KEYSTORE_SECRET_MAX);
	struct stat st;
	if (!replace && stat(path, &st) == 0)
		return lb_errf(em, LB_EEXISTS, "%s already exists", path);
	if ((rc = lb_mkdirs(dir, 0700, em)))
		return rc;
	json_t *o = json_object();
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "kind", json_string(kind));
	if ((rc = seal_into(o, passphrase, secret, len, ad, secret_ad(ad, sizeof ad, name, kind),
			    em))) {
		json_decref(o);
		return rc;
	}
	return write_json(path, o, em);
}

int lb_keystore_secret_save(const char *dir, const char *name, const char *kind,
			    const uint8_t *secret, size_t len, const char *passphrase,
			    struct lb_errmsg *em)
{
	return secret_put(dir, name, kind, secret, len, passphrase, false, em);
}

int lb_keystore_secret_replace(const char *dir, const char *name, const char *kind,
			       const uint8_t *secret, size_t len, const char *passphrase,
			       struct lb_errmsg *em)
{
	return secret_put(dir, name, kind, secret, len, passphrase, true, em);
}

int lb_keystore_secret_load(const char *dir, const char *name, const char *kind,
			    const char *passphrase, uint8_t **out, size_t *len,
			    struct lb_errmsg *em)
{
	char path[4200];
	uint8_t ad[256], salt[crypto_pwhash_SALTBYTES],
		nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], key[32];
	uint8_t *text = NULL, *ct = NULL;
	size_t tlen = 0, ctlen = 0;
	unsigned long long ops = 0;
	size_t mem = 0;
	*out = NULL;
	*len = 0;
	int rc = secret_path(path, sizeof path, dir, name, kind, em);
	if (rc)
		return rc;
	if ((rc = lb_file_read(path, SECRETFILE_MAX, &text, &tlen, em))) {
		if (rc == LB_ENOTFOUND)
			lb_errf(em, rc, "no %s named '%s' in %s", kind, name, dir);
		return rc;
	}
	json_error_t jerr;
	json_t *o = json_loadb((const char *)text, tlen, 0, &jerr);
	lb_free(text);
	json_t *kdf = json_object_get(o, "kdf"), *cip = json_object_get(o, "cipher");
	const char *k = json_string_value(json_object_get(o, "kind"));
	const char *cth = json_string_value(json_object_get(cip, "ciphertext"));
	if (!o || !k || strcmp(k, kind) || !kdf_limits(kdf, &ops, &mem) ||
	    hex_field(kdf, "salt", salt, sizeof salt) || hex_field(cip, "nonce", nonce, sizeof nonce) ||
	    !cth || lb_hex_decode_alloc(cth, &ct, &ctlen, SECRETFILE_MAX) ||
	    ctlen <= crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		json_decref(o);
		lb_free(ct);
		return lb_errf(em, LB_ECORRUPT,
			       "%s is damaged or not a LEBEN keystore file; restore it from your "
			       "backup",
			       path);
	}
	json_decref(o);
	size_t n = ctlen - crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t *pt = lb_malloc(n);
	if (!pt) {
		lb_free(ct);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), salt, ops, mem,
			  crypto_pwhash_ALG_ARGON2ID13)) {
		lb_free(ct);
		lb_free(pt);
		return lb_errf(em, LB_ENOMEM, "not enough memory to derive the key (Argon2id)");
	}
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, ctlen, ad,
							secret_ad(ad, sizeof ad, name, kind), nonce,
							key);
	sodium_memzero(key, sizeof key);
	lb_free(ct);
	if (rc) {
		sodium_memzero(pt, n);
		lb_free(pt);
		return lb_errf(em, LB_EPASSPHRASE, "wrong passphrase for %s (or the file was altered)",
			       path);
	}
	*out = pt;
	*len = n;
	return LB_OK;
}

int lb_keystore_secret_migrate(const char *plain_path, const char *dir, const char *name,
			       const char *kind, const char *passphrase, struct lb_errmsg *em)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int rc = lb_file_read(plain_path, LB_KEYSTORE_SECRET_MAX, &b, &n, em);
	if (rc)
		return rc;
	rc = lb_keystore_secret_save(dir, name, kind, b, n, passphrase, em);
	if (rc == LB_EEXISTS) { /* moved before, the old copy left behind: same secret? */
		uint8_t *have = NULL;
		size_t hn = 0;
		rc = lb_keystore_secret_load(dir, name, kind, passphrase, &have, &hn, em);
		if (!rc && (hn != n || !lb_ct_equal(have, b, n)))
			rc = lb_errf(em, LB_EEXISTS,
				     "%s and the keystore's %s/%s.%s hold different secrets: keep the "
				     "right one and remove the other",
				     plain_path, dir, name, kind);
		if (have)
			sodium_memzero(have, hn);
		lb_free(have);
	}
	sodium_memzero(b, n);
	lb_free(b);
	if (!rc)
		rc = lb_file_wipe(plain_path, em);
	return rc;
}

/* ---- passphrase change ------------------------------------------------------------------ */

int lb_keystore_rekey(const char *dir, const char *name, const char *kind, const char *oldpass,
		      const char *newpass, bool check_only, struct lb_errmsg *em)
{
	struct lb_errmsg e2;
	int rc;
	if (!kind) {
		struct lb_keypair kp;
		memset(&kp, 0, sizeof kp);
		rc = lb_keystore_load(dir, name, oldpass, &kp, em);
		if (rc == LB_EPASSPHRASE && lb_keystore_load(dir, name, newpass, &kp, &e2) == LB_OK)
			rc = LB_EEXISTS; /* already under the new passphrase */
		else if (!rc && !check_only)
			rc = key_put(dir, name, &kp, newpass, true, em);
		lb_keypair_wipe(&kp);
		return rc;
	}
	uint8_t *sec = NULL;
	size_t n = 0;
	rc = lb_keystore_secret_load(dir, name, kind, oldpass, &sec, &n, em);
	if (rc == LB_EPASSPHRASE &&
	    lb_keystore_secret_load(dir, name, kind, newpass, &sec, &n, &e2) == LB_OK) {
		sodium_memzero(sec, n);
		lb_free(sec);
		return LB_EEXISTS;
	}
	if (!rc && !check_only)
		rc = secret_put(dir, name, kind, sec, n, newpass, true, em);
	if (sec) {
		sodium_memzero(sec, n);
		lb_free(sec);
	}
	return rc;
}
