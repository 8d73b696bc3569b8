/*
 * The consortium CA on OpenSSL 3 (see include/leben/ca.h): a self-signed CA certificate
 * limited to signing certificates, and node certificates for both TLS roles with the node's
 * name, localhost and loopback in their subject alternative names. Serial numbers are 128
 * random bits; validity starts five minutes in the past to tolerate small clock skew.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "leben/base.h"
#include "leben/ca.h"

#define SKEW_S 300

static int ossl_fail(struct lb_errmsg *em, int code, const char *what)
{
	char reason[256] = "";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, reason, sizeof reason);
	ERR_clear_error();
	return lb_errf(em, code, "ca: %s%s%s", what, reason[0] ? ": " : "", reason);
}

/* A name usable as CN and DNS name: letters, digits, '-', '.', '_' (1..LB_CA_NAME_MAX). */
static int name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > LB_CA_NAME_MAX || s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

static int ip_ok(const char *s)
{
	unsigned char b[16];
	return s && (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1);
}

/* PEM of cert (or of key when cert is NULL) written to path atomically with mode. */
static int write_pem(const char *path, unsigned mode, X509 *cert, EVP_PKEY *key,
		     struct lb_errmsg *em)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	int ok = b && (cert ? PEM_write_bio_X509(b, cert)
			    : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
	if (!ok) {
		BIO_free(b);
		return ossl_fail(em, LB_ENOMEM, "cannot encode PEM");
	}
	long n = BIO_get_mem_data(b, &data);
	int rc = lb_file_write(path, data, (size_t)n, mode, em);
	if (!cert)
		OPENSSL_cleanse(data, (size_t)n);
	BIO_free(b);
	return rc;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return 0;
	int ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok;
}

/* A new certificate for key with a random serial, the subject (CN, O) and validity set. */
static X509 *cert_new(EVP_PKEY *key, const char *cn, const char *org, unsigned days)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	int ok = x && bn && X509_set_version(x, 2) && BN_rand(bn, 127, BN_RAND_TOP_ONE,
								 BN_RAND_BOTTOM_ANY);
	ASN1_INTEGER *serial = ok ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = ok && serial && X509_set_serialNumber(x, serial);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -SKEW_S) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) &&
	     X509_set_pubkey(x, key);
	X509_NAME *nm = ok ? X509_get_subject_name(x) : NULL;
	ok = ok && nm &&
	     X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0);
	if (ok && org && *org)
		ok = X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)org,
						-1, -1, 0);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int lb_ca_init(const char *dir, const char *name, unsigned days, struct lb_errmsg *em)
{
	char path[4200];
	if (!name_ok(name))
		return lb_errf(em, LB_EINVALID,
			       "ca: '%.80s' is not a usable CA name (1-%d letters, digits, '-', '.', '_')",
			       name ? name : "", LB_CA_NAME_MAX);
	if (days == 0 || days > 36500)
		return lb_errf(em, LB_ERANGE, "ca: validity of %u days is out of range (1..36500)",
			       days);
	snprintf(path, sizeof path, "%s/ca.key", dir);
	if (access(path, F_OK) == 0)
		return lb_errf(em, LB_EEXISTS,
			       "ca: %s already exists; a CA is never replaced (every certificate "
			       "depends on it) - use another directory for a new consortium",
			       path);
	int rc = lb_mkdirs(dir, 0700, em);
	if (rc)
		return rc;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = key ? cert_new(key, name, name, days) : NULL;
	if (!x) {
		rc = ossl_fail(em, LB_ECRYPTO, "cannot make the CA key or certificate");
		goto out;
	}
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, EVP_sha256())) {
		rc = ossl_fail(em, LB_ECRYPTO, "cannot sign the CA certificate");
		goto out;
	}
	if ((rc = write_pem(path, 0600, NULL, key, em)))
		goto out;
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	rc = write_pem(path, 0644, x, NULL, em);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int load_ca(const char *dir, X509 **cert, EVP_PKEY **key, struct lb_errmsg *em)
{
	char path[4200];
	FILE *f;
	*cert = NULL;
	*key = NULL;
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	if (!(f = fopen(path, "r")))
		return lb_errf(em, LB_ENOTFOUND, "ca: no CA certificate at %s (run `leben ca init`)",
			       path);
	*cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!*cert)
		return ossl_fail(em, LB_EMALFORMED, "the CA certificate is not a PEM certificate");
	snprintf(path, sizeof path, "%s/ca.key", dir);
	if (!(f = fopen(path, "r"))) {
		X509_free(*cert);
		*cert = NULL;
		return lb_errf(em, LB_ENOTFOUND,
			       "ca: no CA key at %s (certificates are issued where the CA key is)",
			       path);
	}
	*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*key || X509_check_private_key(*cert, *key) != 1) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
		return ossl_fail(em, LB_EINVALID, "the CA key does not match the CA certificate");
	}
	return LB_OK;
}

int lb_ca_issue(const char *ca_dir, const char *out_dir, const struct lb_ca_subject *s,
		int replace, struct lb_errmsg *em)
{
	char path[4200], san[4096];
	size_t n;
	if (!name_ok(s->name))
		return lb_errf(em, LB_EINVALID,
			       "ca: '%.80s' is not a usable node name (1-%d letters, digits, '-', "
			       "'.', '_')",
			       s->name ? s->name : "", LB_CA_NAME_MAX);
	if (s->days == 0 || s->days > 36500)
		return lb_errf(em, LB_ERANGE, "ca: validity of %u days is out of range (1..36500)",
			       s->days);
	if (s->ndns > LB_CA_MAX_SANS || s->nips > LB_CA_MAX_SANS)
		return lb_errf(em, LB_ELIMIT, "ca: at most %d extra names and %d addresses",
			       LB_CA_MAX_SANS, LB_CA_MAX_SANS);
	n = (size_t)snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1", s->name);
	for (size_t i = 0; i < s->ndns; i++) {
		if (!name_ok(s->dns[i]))
			return lb_errf(em, LB_EINVALID, "ca: '%.80s' is not a usable DNS name",
				       s->dns[i] ? s->dns[i] : "");
		n += (size_t)snprintf(san + n, sizeof san - n, ",DNS:%s", s->dns[i]);
	}
	for (size_t i = 0; i < s->nips; i++) {
		if (!ip_ok(s->ips[i]))
			return lb_errf(em, LB_EINVALID, "ca: '%.80s' is not an IP address",
				       s->ips[i] ? s->ips[i] : "");
		n += (size_t)snprintf(san + n, sizeof san - n, ",IP:%s", s->ips[i]);
	}
	snprintf(path, sizeof path, "%s/node.key", out_dir);
	if (!replace && access(path, F_OK) == 0)
		return lb_errf(em, LB_EEXISTS,
			       "ca: %s already exists (give --replace to issue a new key and "
			       "certificate)",
			       path);
	X509 *cacert, *x = NULL;
	EVP_PKEY *cakey, *key = NULL;
	int rc = load_ca(ca_dir, &cacert, &cakey, em);
	if (rc)
		return rc;
	if ((rc = lb_mkdirs(out_dir, 0700, em)))
		goto out;
	key = EVP_EC_gen("P-256");
	x = key ? cert_new(key, s->name, s->org, s->days) : NULL;
	if (!x) {
		rc = ossl_fail(em, LB_ECRYPTO, "cannot make the node key or certificate");
		goto out;
	}
	X509_set_issuer_name(x, X509_get_subject_name(cacert));
	if (!add_ext(x, cacert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, cacert, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
	    !add_ext(x, cacert, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !add_ext(x, cacert, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, cacert, NID_authority_key_identifier, "keyid:always") ||
	    !add_ext(x, cacert, NID_subject_alt_name, san) ||
	    !X509_sign(x, cakey, EVP_sha256())) {
		rc = ossl_fail(em, LB_ECRYPTO, "cannot sign the node certificate");
		goto out;
	}
	if ((rc = write_pem(path, 0600, NULL, key, em)))
		goto out;
	snprintf(path, sizeof path, "%s/node.pem", out_dir);
	if ((rc = write_pem(path, 0644, x, NULL, em)))
		goto out;
	snprintf(path, sizeof path, "%s/ca.pem", out_dir);
	{
		/* during a rotation the node trusts both CAs (trust.pem) */
		char tp[4200];
		uint8_t *tb = NULL;
		size_t tl = 0;
		snprintf(tp, sizeof tp, "%s/trust.pem", ca_dir);
		if (access(tp, F_OK) == 0 && lb_file_read(tp, 1u << 20, &tb, &tl, NULL) == LB_OK) {
			rc = lb_file_write(path, tb, tl, 0644, em);
			lb_free(tb);
		} else {
			rc = write_pem(path, 0644, cacert, NULL, em);
		}
	}
out:
	X509_free(x);
	EVP_PKEY_free(key);
	X509_free(cacert);
	EVP_PKEY_free(cakey);
	return rc;
}

/* ---- revocation and rotation ---------------------------------------------------------------- */

/* dir/revoked.txt: one line per revoked certificate, "<serial hex> <unix time> <CN>". */
int lb_ca_crl(const char *dir, unsigned days, struct lb_errmsg *em)
{
	char path[4200], line[512];
	if (days == 0 || days > 3650)
		return lb_errf(em, LB_ERANGE, "ca: a CRL's validity of %u days is out of range "
					      "(1..3650)",
			       days);
	X509 *cacert;
	EVP_PKEY *cakey;
	int rc = load_ca(dir, &cacert, &cakey, em);
	if (rc)
		return rc;
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	int ok = crl && t && X509_CRL_set_version(crl, 1) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(cacert)) &&
		 X509_gmtime_adj(t, -SKEW_S) && X509_CRL_set1_lastUpdate(crl, t) &&
		 X509_time_adj_ex(t, (int)days, 0, NULL) && X509_CRL_set1_nextUpdate(crl, t);
	snprintf(path, sizeof path, "%s/revoked.txt", dir);
	FILE *f = fopen(path, "r");
	size_t n = 0;
	while (ok && f && fgets(line, sizeof line, f)) {
		char hex[80];
		long long when;
		if (sscanf(line, "%79s %lld", hex, &when) != 2)
			continue;
		BIGNUM *bn = NULL;
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_TIME *rt = ASN1_TIME_set(NULL, (time_t)when);
		ok = r && rt && BN_hex2bn(&bn, hex) > 0;
		ASN1_INTEGER *serial = ok ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
		ok = ok && serial && X509_REVOKED_set_serialNumber(r, serial) &&
		     X509_REVOKED_set_revocationDate(r, rt) && X509_CRL_add0_revoked(crl, r);
		if (ok)
			r = NULL, n++;
		X509_REVOKED_free(r);
		ASN1_INTEGER_free(serial);
		ASN1_TIME_free(rt);
		BN_free(bn);
	}
	if (f)
		fclose(f);
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, cakey, EVP_sha256());
	BIO *b = ok ? BIO_new(BIO_s_mem()) : NULL;
	if (!b || !PEM_write_bio_X509_CRL(b, crl)) {
		rc = ossl_fail(em, LB_ECRYPTO, "cannot make the revocation list");
	} else {
		char *data;
		long len = BIO_get_mem_data(b, &data);
		/* during a rotation the old CA's last list follows (links that check CRLs need
		 * one for each CA they trust) */
		char rot[4200], *old = NULL;
		uint8_t *ob = NULL;
		size_t ol = 0;
		snprintf(rot, sizeof rot, "%s/retired/rotation-crl.pem", dir);
		snprintf(path, sizeof path, "%s/trust.pem", dir);
		if (access(path, F_OK) == 0 && lb_file_read(rot, 1u << 24, &ob, &ol, NULL) == LB_OK &&
		    (old = lb_malloc((size_t)len + ol)) != NULL) {
			memcpy(old, data, (size_t)len);
			memcpy(old + len, ob, ol);
		}
		snprintf(path, sizeof path, "%s/crl.pem", dir);
		rc = old ? lb_file_write(path, old, (size_t)len + ol, 0644, em)
			 : lb_file_write(path, data, (size_t)len, 0644, em);
		lb_free(old);
		lb_free(ob);
	}
	BIO_free(b);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	X509_free(cacert);
	EVP_PKEY_free(cakey);
	return rc;
}

int lb_ca_revoke(const char *dir, const char *cert_file, unsigned days, char *cn_out,
		 size_t cn_n, struct lb_errmsg *em)
{
	char path[4200], cn[LB_CA_NAME_MAX * 4 + 1] = "";
	FILE *f = fopen(cert_file, "r");
	if (!f)
		return lb_errf(em, LB_ENOTFOUND, "ca: cannot read the certificate %s", cert_file);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return ossl_fail(em, LB_EMALFORMED, "the file to revoke is not a PEM certificate");
	X509 *cacert;
	EVP_PKEY *cakey;
	int rc = load_ca(dir, &cacert, &cakey, em);
	if (rc) {
		X509_free(x);
		return rc;
	}
	if (X509_verify(x, cakey) != 1) {
		rc = lb_errf(em, LB_EINVALID,
			     "ca: %s was not issued by the CA in %s; only its own certificates can be "
			     "revoked",
			     cert_file, dir);
		goto out;
	}
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	BN_free(bn);
	if (!hex) {
		rc = ossl_fail(em, LB_ENOMEM, "cannot read the serial number");
		goto out;
	}
	/* already listed? */
	snprintf(path, sizeof path, "%s/revoked.txt", dir);
	bool listed = false;
	char line[512];
	if ((f = fopen(path, "r"))) {
		size_t hl = strlen(hex);
		while (!listed && fgets(line, sizeof line, f))
			listed = !strncmp(line, hex, hl) && line[hl] == ' ';
		fclose(f);
	}
	if (!listed) {
		if (!(f = fopen(path, "a"))) {
			rc = lb_errf(em, LB_EIO, "ca: cannot write %s", path);
		} else {
			fprintf(f, "%s %lld %s\n", hex, (long long)time(NULL), cn[0] ? cn : "-");
			if (fflush(f) || fsync(fileno(f)))
				rc = lb_errf(em, LB_EIO, "ca: cannot write %s", path);
			fclose(f);
		}
	}
	OPENSSL_free(hex);
	if (!rc)
		rc = lb_ca_crl(dir, days, em);
	if (!rc && cn_out)
		snprintf(cn_out, cn_n, "%s", cn);
out:
	X509_free(x);
	X509_free(cacert);
	EVP_PKEY_free(cakey);
	return rc;
}

int lb_ca_rotate(const char *dir, const char *name, unsigned days, struct lb_errmsg *em)
{
	char path[4200], old_pem[4200], old_key[4200], stamp[32];
	snprintf(path, sizeof path, "%s/trust.pem", dir);
	if (access(path, F_OK) == 0)
		return lb_errf(em, LB_EEXISTS,
			       "ca: a rotation is already under way (%s exists); finish it with "
			       "`leben ca retire` first",
			       path);
	X509 *cacert;
	EVP_PKEY *cakey;
	int rc = load_ca(dir, &cacert, &cakey, em);
	if (rc)
		return rc;
	EVP_PKEY_free(cakey);
	snprintf(path, sizeof path, "%s/crl.pem", dir);
	if (access(path, F_OK) == 0 && (rc = lb_ca_crl(dir, 30, em)))
		goto out;
	snprintf(stamp, sizeof stamp, "%lld", (long long)time(NULL));
	snprintf(path, sizeof path, "%s/retired", dir);
	if ((rc = lb_mkdirs(path, 0700, em)))
		goto out;
	snprintf(old_pem, sizeof old_pem, "%s/retired/ca-%s.pem", dir, stamp);
	snprintf(old_key, sizeof old_key, "%s/retired/ca-%s.key", dir, stamp);
	snprintf(path, sizeof path, "%s/ca.key", dir);
	if (rename(path, old_key)) {
		rc = lb_errf(em, LB_EIO, "ca: cannot move %s aside", path);
		goto out;
	}
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	if (rename(path, old_pem)) {
		rc = lb_errf(em, LB_EIO, "ca: cannot move %s aside", path);
		goto out;
	}
	snprintf(path, sizeof path, "%s/revoked.txt", dir);
	char moved[4200];
	snprintf(moved, sizeof moved, "%s/retired/revoked-%s.txt", dir, stamp);
	if (access(path, F_OK) == 0)
		rename(path, moved);
	/* the old CA's revocation list stays in force (appended to crl.pem) during the rotation:
	 * renew it first so that it lasts */
	snprintf(path, sizeof path, "%s/crl.pem", dir);
	snprintf(moved, sizeof moved, "%s/retired/rotation-crl.pem", dir);
	if (access(path, F_OK) == 0)
		rename(path, moved);
	if ((rc = lb_ca_init(dir, name, days, em)))
		goto out;
	/* trust.pem: the new CA first (CRLs are checked against the first), then the old one */
	X509 *newcert;
	EVP_PKEY *newkey;
	if ((rc = load_ca(dir, &newcert, &newkey, em)))
		goto out;
	EVP_PKEY_free(newkey);
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || !PEM_write_bio_X509(b, newcert) || !PEM_write_bio_X509(b, cacert)) {
		rc = ossl_fail(em, LB_ENOMEM, "cannot encode the trust bundle");
	} else {
		char *data;
		long len = BIO_get_mem_data(b, &data);
		snprintf(path, sizeof path, "%s/trust.pem", dir);
		rc = lb_file_write(path, data, (size_t)len, 0644, em);
	}
	BIO_free(b);
	X509_free(newcert);
	if (!rc)
		rc = lb_ca_crl(dir, 30, em);
out:
	X509_free(cacert);
	return rc;
}

int lb_ca_retire(const char *dir, struct lb_errmsg *em)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/trust.pem", dir);
	if (access(path, F_OK) != 0)
		return lb_errf(em, LB_ENOTFOUND, "ca: no rotation under way (%s does not exist)", path);
	if (unlink(path))
		return lb_errf(em, LB_EIO, "ca: cannot remove %s", path);
	snprintf(path, sizeof path, "%s/retired/rotation-crl.pem", dir);
	unlink(path);
	return lb_ca_crl(dir, 30, em);
}
