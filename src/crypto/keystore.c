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

int lb_keystore_save(const char *dir, const char *name, const struct lb_keypair *kp,
		     const char *passphrase, struct lb_errmsg *em)
{
	char path[4200];
	int rc = key_path(path, sizeof path, dir, name, em);
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st) == 0)
		return lb_errf(em, LB_EEXISTS, "a key named '%s' already exists in %s", name, dir);
	if ((rc = lb_mkdirs(dir, 0700, em)))
		return rc;

	uint8_t salt[crypto_pwhash_SALTBYTES], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t key[32], ct[LB_SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), salt,
			  LB_KEYSTORE_OPSLIMIT, LB_KEYSTORE_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13))
		return lb_errf(em, LB_ENOMEM, "not enough memory to derive the key (Argon2id)");
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, kp->sk, LB_SEED_LEN, kp->pk,
						   LB_PUBKEY_LEN, NULL, nonce, key);
	sodium_memzero(key, sizeof key);

	char addr[LB_ADDR_TEXT_LEN + 1];
	uint8_t a[LB_ADDR_LEN];
	lb_addr_from_pubkey(a, kp->pk);
	lb_addr_encode(addr, a);
	json_t *o = json_object(), *kdf = json_object(), *cip = json_object();
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "address", json_string(addr));
	hex_set(o, "public_key", kp->pk, LB_PUBKEY_LEN);
	json_object_set_new(kdf, "algorithm", json_string("argon2id13"));
	json_object_set_new(kdf, "opslimit", json_integer(LB_KEYSTORE_OPSLIMIT));
	json_object_set_new(kdf, "memlimit", json_integer(LB_KEYSTORE_MEMLIMIT));
	hex_set(kdf, "salt", salt, sizeof salt);
	json_object_set_new(o, "kdf", kdf);
	json_object_set_new(cip, "algorithm", json_string("xchacha20poly1305-ietf"));
	hex_set(cip, "nonce", nonce, sizeof nonce);
	hex_set(cip, "ciphertext", ct, sizeof ct);
	json_object_set_new(o, "cipher", cip);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	rc = lb_file_write(path, text, strlen(text), 0600, em);
	free(text);
	return rc;
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
	json_t *ops = json_object_get(kdf, "opslimit"), *mem = json_object_get(kdf, "memlimit");
	rc = LB_OK;
	if (!o || !json_is_integer(ops) || !json_is_integer(mem) ||
	    hex_field(o, "public_key", kf->pk, sizeof kf->pk) ||
	    hex_field(kdf, "salt", kf->salt, sizeof kf->salt) ||
	    hex_field(cip, "nonce", kf->nonce, sizeof kf->nonce) ||
	    hex_field(cip, "ciphertext", kf->ct, sizeof kf->ct) || json_integer_value(ops) < 1 ||
	    json_integer_value(ops) > 16 || json_integer_value(mem) < 8192 ||
	    json_integer_value(mem) > (1LL << 32))
		rc = lb_errf(em, LB_ECORRUPT,
			     "key file %s is damaged or not a LEBEN key file; restore it from "
			     "your backup",
			     path);
	else {
		kf->opslimit = (unsigned long long)json_integer_value(ops);
		kf->memlimit = (size_t)json_integer_value(mem);
	}
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
