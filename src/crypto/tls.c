/*
 * Mutual TLS helpers on OpenSSL 3 (see include/leben/tls.h): contexts pinned to the
 * consortium CA, TLS 1.3 only, client certificates required, node-id checks.
 */
#include <netdb.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/tls.h"

struct lb_tls_ctx {
	SSL_CTX *ssl; /* owned */
	int server;   /* role */
	int (*peer_check)(void *ctx, const uint8_t spki_hash[32], char *why, size_t n);
	void *peer_check_ctx;
};

/* Index of the lb_tls_ctx in its SSL_CTX's ex data (for the verify callback). */
static int ctx_index = -1;
static pthread_once_t ctx_index_once = PTHREAD_ONCE_INIT;
static void make_ctx_index(void)
{
	ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int spki_hash(X509 *x, uint8_t out[32])
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	if (len <= 0)
		return LB_EMALFORMED;
	lb_hash(out, der, (size_t)len);
	OPENSSL_free(der);
	return LB_OK;
}

/* The chain verified (preverify_ok): at the peer's own certificate, ask the peer_check hook. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *x)
{
	if (!preverify_ok || X509_STORE_CTX_get_error_depth(x) != 0)
		return preverify_ok;
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	lb_tls_ctx *c = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index) : NULL;
	uint8_t h[32];
	char why[512] = "";
	if (!c || !c->peer_check)
		return 1;
	if (spki_hash(X509_STORE_CTX_get_current_cert(x), h) ||
	    c->peer_check(c->peer_check_ctx, h, why, sizeof why) != LB_OK) {
		lb_log(LB_LOG_WARN, "tls: peer certificate refused: %s", why[0] ? why : "no key");
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

int lb_x509_spki_hash_file(const char *pem_file, uint8_t out[32], char *cn, size_t cnn,
			   struct lb_errmsg *em)
{
	BIO *b = BIO_new_file(pem_file, "r");
	if (!b)
		return lb_errf(em, LB_EIO, "cannot read the certificate %s", pem_file);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!x) {
		ERR_clear_error();
		return lb_errf(em, LB_EMALFORMED, "%s holds no PEM certificate", pem_file);
	}
	int rc = spki_hash(x, out);
	if (cn && cnn) {
		cn[0] = 0;
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)cnn);
	}
	X509_free(x);
	return rc ? lb_errf(em, rc, "the public key of %s cannot be read", pem_file) : LB_OK;
}

struct lb_tls_conn {
	SSL *ssl; /* owned */
	int fd;   /* owned */
};

/* Append OpenSSL's queued reasons to a message. */
static int ossl_err(struct lb_errmsg *em, int code, const char *what)
{
	char reason[256] = "";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, reason, sizeof reason);
	ERR_clear_error();
	return lb_errf(em, code, "tls: %s%s%s", what, reason[0] ? ": " : "", reason);
}

/* Add every CRL of crl_file to the context's store and turn on revocation checks of peer
 * certificates. Each CRL must verify under one of the consortium CA certificates in ca_file
 * (two during a CA rotation: the new and the old one). Non-zero with what set. */
static int load_crls(SSL_CTX *s, const char *crl_file, const char *ca_file, char *what,
		     size_t wn)
{
	X509_STORE *st = SSL_CTX_get_cert_store(s);
	BIO *b = BIO_new_file(crl_file, "r"), *cb = BIO_new_file(ca_file, "r");
	X509 *cas[8];
	size_t ncas = 0;
	while (cb && ncas < 8 && (cas[ncas] = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL)
		ncas++;
	ERR_clear_error();
	X509_CRL *crl;
	int n = 0, rc = 1;
	if (!b) {
		snprintf(what, wn, "cannot read the CRL file %s", crl_file);
		goto out;
	}
	if (!ncas) {
		snprintf(what, wn, "cannot read the consortium CA %s", ca_file);
		goto out;
	}
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		n++;
		bool signed_ok = false;
		for (size_t i = 0; i < ncas && !signed_ok; i++)
			signed_ok = X509_CRL_verify(crl, X509_get0_pubkey(cas[i])) == 1;
		ERR_clear_error();
		if (!signed_ok) {
			X509_CRL_free(crl);
			snprintf(what, wn, "CRL %d in %s is not signed by the consortium CA", n,
				 crl_file);
			goto out;
		}
		int ok = X509_STORE_add_crl(st, crl);
		X509_CRL_free(crl);
		if (ok != 1) {
			snprintf(what, wn, "cannot use CRL %d of %s", n, crl_file);
			goto out;
		}
	}
	ERR_clear_error(); /* the end of the PEM stream */
	if (n == 0) {
		snprintf(what, wn, "%s holds no certificate revocation list", crl_file);
		goto out;
	}
	X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(s), X509_V_FLAG_CRL_CHECK);
	rc = 0;
out:
	BIO_free(b);
	BIO_free(cb);
	for (size_t i = 0; i < ncas; i++)
		X509_free(cas[i]);
	return rc;
}

int lb_tls_ctx_new(lb_tls_ctx **out, int server, const struct lb_tls_config *cfg,
		   struct lb_errmsg *em)
{
	lb_tls_ctx *c;
	SSL_CTX *s;
	char what[1200];

	if (!cfg->ca_file || !cfg->cert_file || !cfg->key_file)
		return lb_errf(em, LB_EINVALID, "tls: CA, certificate and key files are all required");
	s = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!s)
		return ossl_err(em, LB_ENOMEM, "cannot create a context");
	SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION);
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(s, 4);
	X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(s), X509_V_FLAG_X509_STRICT);
	if (SSL_CTX_load_verify_locations(s, cfg->ca_file, NULL) != 1) {
		snprintf(what, sizeof what, "cannot load the consortium CA %s", cfg->ca_file);
		goto err;
	}
	if (cfg->crl_file && load_crls(s, cfg->crl_file, cfg->ca_file, what, sizeof what))
		goto err;
	if (server) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
		if (names)
			SSL_CTX_set_client_CA_list(s, names);
	}
	if (SSL_CTX_use_certificate_chain_file(s, cfg->cert_file) != 1) {
		snprintf(what, sizeof what, "cannot load the certificate %s", cfg->cert_file);
		goto err;
	}
	if (SSL_CTX_use_PrivateKey_file(s, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
		snprintf(what, sizeof what, "cannot load the key %s", cfg->key_file);
		goto err;
	}
	if (SSL_CTX_check_private_key(s) != 1) {
		snprintf(what, sizeof what, "the key %s does not match the certificate %s",
			 cfg->key_file, cfg->cert_file);
		goto err;
	}
	c = lb_calloc(1, sizeof *c);
	if (!c) {
		SSL_CTX_free(s);
		return lb_errf(em, LB_ENOMEM, "tls: out of memory");
	}
	c->ssl = s;
	c->server = server;
	if (cfg->peer_check) {
		pthread_once(&ctx_index_once, make_ctx_index);
		c->peer_check = cfg->peer_check;
		c->peer_check_ctx = cfg->peer_check_ctx;
		SSL_CTX_set_ex_data(s, ctx_index, c);
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	}
	*out = c;
	return LB_OK;
err:
	SSL_CTX_free(s);
	return ossl_err(em, LB_EINVALID, what);
}

void lb_tls_ctx_free(lb_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl);
	lb_free(ctx);
}

static int handshake_failed(SSL *ssl, struct lb_errmsg *em, const char *expected_id)
{
	long v = SSL_get_verify_result(ssl);
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (v == X509_V_ERR_HOSTNAME_MISMATCH)
		return lb_errf(em, LB_EUNAUTH, "tls: the peer's certificate is not for node '%s'",
			       expected_id ? expected_id : "?");
	if (v != X509_V_OK)
		return lb_errf(em, LB_EUNAUTH, "tls: peer certificate refused: %s",
			       X509_verify_cert_error_string(v));
	(void)peer;
	return ossl_err(em, LB_EUNAUTH, "handshake failed (no certificate, or not TLS 1.3?)");
}

static int start(lb_tls_ctx *ctx, int fd, const char *expected_id, lb_tls_conn **out,
		 struct lb_errmsg *em)
{
	SSL *ssl = SSL_new(ctx->ssl);
	lb_tls_conn *c;
	int r;

	if (!ssl) {
		close(fd);
		return ossl_err(em, LB_ENOMEM, "cannot create a connection");
	}
	SSL_set_fd(ssl, fd);
	if (expected_id) {
		/* checked during verification: a mismatch fails the handshake */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NO_WILDCARDS);
		if (SSL_set1_host(ssl, expected_id) != 1) {
			SSL_free(ssl);
			close(fd);
			return lb_errf(em, LB_EINVALID, "tls: bad node id '%s'", expected_id);
		}
		if (!ctx->server)
			SSL_set_tlsext_host_name(ssl, expected_id);
	}
	ERR_clear_error();
	r = ctx->server ? SSL_accept(ssl) : SSL_connect(ssl);
	if (r != 1) {
		int rc = handshake_failed(ssl, em, expected_id);
		SSL_free(ssl);
		close(fd);
		return rc;
	}
	c = lb_calloc(1, sizeof *c);
	if (!c) {
		SSL_free(ssl);
		close(fd);
		return lb_errf(em, LB_ENOMEM, "tls: out of memory");
	}
	c->ssl = ssl;
	c->fd = fd;
	*out = c;
	return LB_OK;
}

int lb_tls_client(lb_tls_ctx *ctx, int fd, const char *expected_id, lb_tls_conn **out,
		  struct lb_errmsg *em)
{
	if (ctx->server) {
		close(fd);
		return lb_errf(em, LB_EINVALID, "tls: a server context cannot connect");
	}
	return start(ctx, fd, expected_id, out, em);
}

int lb_tls_server(lb_tls_ctx *ctx, int fd, const char *expected_id, lb_tls_conn **out,
		  struct lb_errmsg *em)
{
	if (!ctx->server) {
		close(fd);
		return lb_errf(em, LB_EINVALID, "tls: a client context cannot accept");
	}
	return start(ctx, fd, expected_id, out, em);
}

int lb_tls_dial(lb_tls_ctx *ctx, const char *host, const char *port, const char *expected_id,
		lb_tls_conn **out, struct lb_errmsg *em)
{
	struct addrinfo hints = {0}, *res, *ai;
	int fd = -1, g;

	hints.ai_socktype = SOCK_STREAM;
	g = getaddrinfo(host, port, &hints, &res);
	if (g != 0)
		return lb_errf(em, LB_EUNAVAILABLE, "tls: cannot resolve %s: %s", host, gai_strerror(g));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return lb_errf(em, LB_EUNAVAILABLE, "tls: cannot connect to %s:%s", host, port);
	return lb_tls_client(ctx, fd, expected_id, out, em);
}

int lb_tls_listen(const char *host, const char *port, struct lb_errmsg *em)
{
	struct addrinfo hints = {0}, *res;
	int fd, one = 1, g;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	g = getaddrinfo(host ? host : "127.0.0.1", port, &hints, &res);
	if (g != 0) {
		lb_errf(em, LB_EINVALID, "tls: cannot resolve %s: %s", host ? host : "127.0.0.1",
			gai_strerror(g));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		lb_errf(em, LB_EIO, "tls: cannot listen on port %s", port);
	return fd;
}

int lb_tls_peer_id(lb_tls_conn *c, char *buf, size_t n)
{
	X509 *peer = SSL_get0_peer_certificate(c->ssl);
	GENERAL_NAMES *sans;
	int found = 0;

	if (!peer || n == 0)
		return LB_ENOTFOUND;
	buf[0] = 0;
	sans = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !found; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type == GEN_DNS) {
			const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
			snprintf(buf, n, "%.*s", ASN1_STRING_length(g->d.dNSName), (const char *)s);
			found = 1;
		}
	}
	GENERAL_NAMES_free(sans);
	if (!found &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, (int)n) > 0)
		found = 1;
	return found ? LB_OK : LB_ENOTFOUND;
}

int lb_tls_write(lb_tls_conn *c, const void *buf, size_t n, struct lb_errmsg *em)
{
	size_t done = 0;
	while (done < n) {
		size_t w;
		if (SSL_write_ex(c->ssl, (const char *)buf + done, n - done, &w) != 1)
			return ossl_err(em, LB_EIO, "write failed");
		done += w;
	}
	return LB_OK;
}

int lb_tls_read(lb_tls_conn *c, void *buf, size_t n, size_t *got, struct lb_errmsg *em)
{
	if (SSL_read_ex(c->ssl, buf, n, got) == 1)
		return LB_OK;
	int e = SSL_get_error(c->ssl, 0);
	*got = 0;
	if (e == SSL_ERROR_ZERO_RETURN)
		return LB_OK;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return LB_OK; /* peer closed without close_notify */
	return ossl_err(em, LB_EIO, "read failed");
}

void lb_tls_close(lb_tls_conn *c)
{
	if (!c)
		return;
	SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	close(c->fd);
	lb_free(c);
}
