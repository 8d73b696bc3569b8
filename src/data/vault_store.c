/*
 * Vault objects with per-object keys (crypto-shredding, docs/security.md "Purge").
 *
 * An object is <dir>/<2 hex>/<64 hex>.lbo: "LBVO" | u8 1 | nonce (24) | XChaCha20-Poly1305
 * of the plaintext under the object's own random key, the additional data being the magic
 * and the 32-byte reference. The object key lives only in the key table <dir>/keys.tbl, one
 * fixed 128-byte record per (object, recipient):
 *   magic (4: "LBK1" live, "LBKX" shredded) | ref (32) | crypto_box_seal of the key to the
 *   recipient's X25519 key (80) | zero (12).
 * Shredding overwrites the record's sealed key in place (random bytes, then zeros, fsync)
 * and marks it "LBKX", then overwrites the ciphertext with zeros and unlinks it: a copy of
 * the ciphertext taken before, opened with the vault key, yields nothing.
 * Objects of the earlier layout (<64 hex>.lbev, a level-1 envelope to the node key) are
 * still read, and rewritten in this layout when read or by lb_vault_migrate.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "leben/data_dedup.h"
#include "leben/data_vault.h"
#include "leben/envelope.h"

#define REC_SIZE 128
#define REC_SEALED (crypto_box_SEALBYTES + 32)
#define OBJ_HDR (4 + 1 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define OBJ_MAX ((size_t)1 << 34)

static void obj_path(char *out, size_t cap, const char *dir, const char *ref, const char *ext)
{
	snprintf(out, cap, "%s/%.2s/%s.%s", dir, ref, ref, ext);
}

static void table_path(char *out, size_t cap, const char *dir)
{
	snprintf(out, cap, "%s/keys.tbl", dir);
}

static int parse_ref(const char *ref, uint8_t raw[32], struct lb_errmsg *em)
{
	if (strlen(ref) != 64 || lb_hex_decode(raw, 32, ref))
		return lb_errf(em, LB_EINVALID, "vault reference \"%.70s\" is not 64 hex digits", ref);
	return LB_OK;
}

/* Visit every record of the key table whose ref matches (all of them when ref is NULL):
 * fn(rec, offset, arg) returns 0 to go on, 1 to stop, <0 an error. */
typedef int (*rec_fn)(int fd, const uint8_t rec[REC_SIZE], off_t off, void *arg);

static int table_walk(const char *dir, const uint8_t ref[32], bool writable, rec_fn fn,
		      void *arg, struct lb_errmsg *em)
{
	char path[4200];
	table_path(path, sizeof path, dir);
	int fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? LB_OK
				       : lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
	uint8_t rec[REC_SIZE];
	int rc = LB_OK;
	for (off_t off = 0;; off += REC_SIZE) {
		ssize_t got = pread(fd, rec, REC_SIZE, off);
		if (got == 0)
			break;
		if (got != REC_SIZE) {
			rc = lb_errf(em, LB_ECORRUPT, "%s: a record at byte %lld is cut short", path,
				     (long long)off);
			break;
		}
		if (ref && memcmp(rec + 4, ref, 32))
			continue;
		int r = fn(fd, rec, off, arg);
		if (r < 0) {
			rc = lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (r > 0)
			break;
	}
	sodium_memzero(rec, sizeof rec);
	close(fd);
	return rc;
}

struct find_arg {
	const uint8_t *sk, *pk;
	uint8_t key[32];
	int live, shredded, opened;
};

static int find_rec(int fd, const uint8_t rec[REC_SIZE], off_t off, void *arg)
{
	struct find_arg *f = arg;
	if (!memcmp(rec, "LBKX", 4)) {
		f->shredded++;
		return 0;
	}
	if (memcmp(rec, "LBK1", 4))
		return 0;
	f->live++;
	if (f->sk && !crypto_box_seal_open(f->key, rec + 36, REC_SEALED, f->pk, f->sk)) {
		f->opened = 1;
		return 1;
	}
	return 0;
}

int lb_vault_state(const char *dir, const char *ref, struct lb_errmsg *em)
{
	uint8_t raw[32];
	int rc = parse_ref(ref, raw, em);
	if (rc)
		return rc;
	struct find_arg f = {0};
	if ((rc = table_walk(dir, raw, false, find_rec, &f, em)))
		return rc;
	char path[4200];
	obj_path(path, sizeof path, dir, ref, "lbo");
	bool obj = access(path, F_OK) == 0;
	obj_path(path, sizeof path, dir, ref, "lbev");
	bool old = access(path, F_OK) == 0;
	if ((f.live && obj) || old)
		return LB_VAULT_HELD;
	if (f.shredded && !f.live)
		return LB_VAULT_SHREDDED;
	return LB_VAULT_ABSENT;
}

static int table_append(const char *dir, const uint8_t *recs, size_t n, struct lb_errmsg *em)
{
	char path[4200];
	table_path(path, sizeof path, dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		return lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
	ssize_t w = write(fd, recs, n * REC_SIZE);
	int rc = (w == (ssize_t)(n * REC_SIZE) && !fsync(fd))
			 ? LB_OK
			 : lb_errf(em, LB_EIO, "%s: writing the key record failed: %s", path,
				   strerror(errno));
	close(fd);
	return rc;
}

/* Overwrite a file's bytes with zeros, sync, unlink. Missing: LB_OK. */
int lb_vault_wipe_file(const char *path, struct lb_errmsg *em)
{
	return lb_file_wipe(path, em);
}

int lb_vault_put(const char *dir, const uint8_t (*recipients)[32], size_t nrecipients,
		 const uint8_t *data, size_t len, char ref[65], struct lb_errmsg *em)
{
	uint8_t h[32];
	if (!nrecipients || nrecipients > 64)
		return lb_errf(em, LB_EINVALID, "a vault object needs 1 to 64 recipients");
	lb_digest_blake2b(data, len, h);
	lb_hex_encode(ref, h, 32);
	char path[4200], sub[4200];
	obj_path(path, sizeof path, dir, ref, "lbo");
	struct find_arg f = {0};
	int rc = table_walk(dir, h, false, find_rec, &f, em);
	if (rc)
		return rc;
	if (f.live && access(path, F_OK) == 0)
		return LB_OK;
	snprintf(sub, sizeof sub, "%s/%.2s", dir, ref);
	if ((rc = lb_mkdirs(sub, 0700, em)))
		return rc;
	uint8_t key[32], hdr[OBJ_HDR], ad[36];
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	memcpy(hdr, "LBVO", 4);
	hdr[4] = 1;
	randombytes_buf(hdr + 5, sizeof hdr - 5);
	memcpy(ad, "LBVO", 4);
	memcpy(ad + 4, h, 32);
	size_t clen = OBJ_HDR + len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t *obj = lb_malloc(clen);
	uint8_t *recs = lb_calloc(nrecipients, REC_SIZE);
	if (!obj || !recs) {
		lb_free(obj);
		lb_free(recs);
		sodium_memzero(key, sizeof key);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	memcpy(obj, hdr, OBJ_HDR);
	unsigned long long cl = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(obj + OBJ_HDR, &cl, data, len, ad, sizeof ad,
						   NULL, hdr + 5, key);
	for (size_t i = 0; i < nrecipients && !rc; i++) {
		uint8_t *r = recs + i * REC_SIZE;
		memcpy(r, "LBK1", 4);
		memcpy(r + 4, h, 32);
		if (crypto_box_seal(r + 36, key, 32, recipients[i]))
			rc = lb_errf(em, LB_ECRYPTO, "recipient %zu: not a usable X25519 key", i);
	}
	sodium_memzero(key, sizeof key);
	/* the ciphertext first: a key record never names a missing object for long */
	if (!rc)
		rc = lb_file_write(path, obj, clen, 0600, em);
	if (!rc)
		rc = table_append(dir, recs, nrecipients, em);
	lb_free(obj);
	lb_free(recs);
	if (!rc) { /* the earlier layout's copy, if any, is no longer needed */
		obj_path(path, sizeof path, dir, ref, "lbev");
		rc = lb_vault_wipe_file(path, em);
	}
	return rc;
}

static int check_hash(const uint8_t want[32], uint8_t **out, size_t *len, const char *ref,
		      struct lb_errmsg *em)
{
	uint8_t got[32];
	lb_digest_blake2b(*out, *len, got);
	if (!memcmp(got, want, 32))
		return LB_OK;
	sodium_memzero(*out, *len);
	lb_free(*out);
	*out = NULL;
	return lb_errf(em, LB_ETAMPERED, "vault object %s does not hash to its name", ref);
}

/* The earlier layout: a level-1 envelope; rewritten in the current one once opened. */
static int get_legacy(const char *dir, const char *ref, const uint8_t want[32],
		      const uint8_t sk[32], const uint8_t pk[32], uint8_t **out, size_t *len,
		      struct lb_errmsg *em)
{
	char path[4200];
	obj_path(path, sizeof path, dir, ref, "lbev");
	uint8_t *env;
	size_t envlen;
	int rc = lb_file_read(path, OBJ_MAX, &env, &envlen, em);
	if (rc)
		return rc;
	rc = lb_envelope_open(sk, pk, env, envlen, OBJ_MAX, out, len, em);
	lb_free(env);
	if (rc)
		return rc;
	if ((rc = check_hash(want, out, len, ref, em)))
		return rc;
	char again[65];
	struct lb_errmsg ignore;
	lb_vault_put(dir, (const uint8_t(*)[32])pk, 1, *out, *len, again, &ignore);
	return LB_OK;
}

int lb_vault_get(const char *dir, const char *ref, const uint8_t sk[32], const uint8_t pk[32],
		 uint8_t **out, size_t *len, struct lb_errmsg *em)
{
	uint8_t want[32];
	*out = NULL;
	*len = 0;
	int rc = parse_ref(ref, want, em);
	if (rc)
		return rc;
	char path[4200];
	obj_path(path, sizeof path, dir, ref, "lbo");
	struct find_arg f = {.sk = sk, .pk = pk};
	if ((rc = table_walk(dir, want, false, find_rec, &f, em)))
		return rc;
	if (!f.live) {
		sodium_memzero(f.key, sizeof f.key);
		char old[4200];
		obj_path(old, sizeof old, dir, ref, "lbev");
		if (access(old, F_OK) == 0)
			return get_legacy(dir, ref, want, sk, pk, out, len, em);
		if (f.shredded)
			return lb_errf(em, LB_ENOTFOUND,
				       "vault object %s was shredded: its key was erased when its "
				       "data was purged",
				       ref);
		return lb_errf(em, LB_ENOTFOUND, "vault object %s is not in %s", ref, dir);
	}
	if (!f.opened)
		return lb_errf(em, LB_EWRONGKEY, "vault object %s: this key is not a recipient of its object key", ref);
	uint8_t *obj;
	size_t olen;
	rc = lb_file_read(path, OBJ_MAX, &obj, &olen, em);
	if (rc) {
		sodium_memzero(f.key, sizeof f.key);
		return rc;
	}
	uint8_t ad[36];
	memcpy(ad, "LBVO", 4);
	memcpy(ad + 4, want, 32);
	unsigned long long pl = 0;
	if (olen < OBJ_HDR + crypto_aead_xchacha20poly1305_ietf_ABYTES || memcmp(obj, "LBVO", 4) ||
	    obj[4] != 1)
		rc = lb_errf(em, LB_ECORRUPT, "vault object %s is not a vault object", ref);
	else if (!(*out = lb_malloc(olen - OBJ_HDR)))
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
	else if (crypto_aead_xchacha20poly1305_ietf_decrypt(*out, &pl, NULL, obj + OBJ_HDR,
							    olen - OBJ_HDR, ad, sizeof ad, obj + 5,
							    f.key))
		rc = lb_errf(em, LB_ETAMPERED, "vault object %s does not decrypt: it was altered",
			     ref);
	sodium_memzero(f.key, sizeof f.key);
	lb_free(obj);
	if (rc) {
		lb_free(*out);
		*out = NULL;
		return rc;
	}
	*len = (size_t)pl;
	return check_hash(want, out, len, ref, em);
}

static int shred_rec(int fd, const uint8_t rec[REC_SIZE], off_t off, void *arg)
{
	int *n = arg;
	if (memcmp(rec, "LBK1", 4))
		return 0;
	uint8_t junk[REC_SIZE - 36];
	randombytes_buf(junk, sizeof junk);
	if (pwrite(fd, junk, sizeof junk, off + 36) != (ssize_t)sizeof junk || fdatasync(fd))
		return -1;
	memset(junk, 0, sizeof junk);
	if (pwrite(fd, junk, sizeof junk, off + 36) != (ssize_t)sizeof junk ||
	    pwrite(fd, "LBKX", 4, off) != 4 || fdatasync(fd))
		return -1;
	(*n)++;
	return 0;
}

int lb_vault_shred(const char *dir, const char *ref, bool *held, struct lb_errmsg *em)
{
	uint8_t raw[32];
	int rc = parse_ref(ref, raw, em);
	if (rc)
		return rc;
	int n = 0;
	if ((rc = table_walk(dir, raw, true, shred_rec, &n, em)))
		return rc;
	char path[4200];
	bool had = n > 0;
	obj_path(path, sizeof path, dir, ref, "lbo");
	had |= access(path, F_OK) == 0;
	if ((rc = lb_vault_wipe_file(path, em)))
		return rc;
	obj_path(path, sizeof path, dir, ref, "lbev");
	had |= access(path, F_OK) == 0;
	if ((rc = lb_vault_wipe_file(path, em)))
		return rc;
	if (held)
		*held = had;
	return LB_OK;
}

int lb_vault_migrate(const char *dir, const uint8_t sk[32], const uint8_t pk[32], size_t *moved,
		     struct lb_errmsg *em)
{
	*moved = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? LB_OK : lb_errf(em, LB_EIO, "%s: %s", dir, strerror(errno));
	struct dirent *de;
	int rc = LB_OK;
	while (!rc && (de = readdir(d))) {
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		char sub[4200];
		snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
		DIR *s = opendir(sub);
		if (!s)
			continue;
		struct dirent *fe;
		while (!rc && (fe = readdir(s))) {
			size_t l = strlen(fe->d_name);
			if (l != 69 || strcmp(fe->d_name + 64, ".lbev"))
				continue;
			char ref[65];
			memcpy(ref, fe->d_name, 64);
			ref[64] = 0;
			uint8_t *data;
			size_t len;
			if ((rc = lb_vault_get(dir, ref, sk, pk, &data, &len, em))) {
				lb_errwrap(em, "migrating %s: ", ref);
				break;
			}
			sodium_memzero(data, len);
			lb_free(data);
			if (lb_vault_state(dir, ref, NULL) == LB_VAULT_HELD) {
				char old[4200];
				obj_path(old, sizeof old, dir, ref, "lbev");
				if (access(old, F_OK) != 0)
					(*moved)++;
			}
		}
		closedir(s);
	}
	closedir(d);
	return rc;
}
