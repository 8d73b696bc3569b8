/*
 * Level-2 mutual TLS between consortium nodes (and to etcd): OpenSSL 3, TLS 1.3 only, a
 * certificate required on both sides, trust pinned to the consortium CA file alone (no system
 * roots), and the peer's node id checked against its certificate (DNS subjectAltName, or the
 * common name if it has none). Expired, not-yet-valid and foreign-CA certificates are refused
 * during the handshake, and so are revoked ones when a CRL file is configured.
 */
#ifndef LEBEN_TLS_H
#define LEBEN_TLS_H

#include <stddef.h>

#include "leben/error.h"

/* Files of one node (borrowed for the call). */
struct lb_tls_config {
	const char *ca_file;   /* PEM: the consortium CA, the only trust anchor */
	const char *cert_file; /* PEM: this node's certificate (chain) */
	const char *key_file;  /* PEM: this node's private key */
	/* PEM: certificate revocation lists of the consortium CA (optional). When given, every
	 * peer certificate must be covered by a CRL of its issuer that is in force (not expired):
	 * a revoked certificate, a missing CRL for the issuer or an expired CRL fail the
	 * handshake (LB_EUNAUTH). The file must hold at least one CRL, each signed by the CA. */
	const char *crl_file;
	/* Optional further check of the peer's certificate during the handshake, once its chain
	 * verified: called with the BLAKE2b-256 of its SubjectPublicKeyInfo (DER, lb_x509_spki_hash);
	 * anything but LB_OK refuses the handshake (the reason, put in why, is logged). Used for
	 * certificates that must be co-signed by several CA holders (lb_consortium_cert_check). */
	int (*peer_check)(void *ctx, const uint8_t spki_hash[32], char *why, size_t n);
	void *peer_check_ctx;
};

/* BLAKE2b-256 of the SubjectPublicKeyInfo (DER) of the first certificate of a PEM file, and
 * its common name into cn (may be NULL). LB_EIO / LB_EMALFORMED with the file in em. */
int lb_x509_spki_hash_file(const char *pem_file, uint8_t out[32], char *cn, size_t cnn,
			   struct lb_errmsg *em);

typedef struct lb_tls_ctx lb_tls_ctx;
typedef struct lb_tls_conn lb_tls_conn;

/* Context for the client (server = 0) or server (1) role. LB_EIO / LB_EINVALID with the file
 * and OpenSSL's reason in em (missing file, key does not match certificate, ...). */
int lb_tls_ctx_new(lb_tls_ctx **out, int server, const struct lb_tls_config *cfg,
		   struct lb_errmsg *em);
void lb_tls_ctx_free(lb_tls_ctx *ctx);

/* Handshake on a connected socket (the connection owns fd afterwards). expected_id: the node
 * id the peer must hold (NULL: any certificate from the CA). LB_EUNAUTH if the peer was
 * refused, with the reason (expired, unknown CA, wrong node id, no certificate). */
int lb_tls_client(lb_tls_ctx *ctx, int fd, const char *expected_id, lb_tls_conn **out,
		  struct lb_errmsg *em);
int lb_tls_server(lb_tls_ctx *ctx, int fd, const char *expected_id, lb_tls_conn **out,
		  struct lb_errmsg *em);
/* TCP connect to host:port then lb_tls_client. */
int lb_tls_dial(lb_tls_ctx *ctx, const char *host, const char *port, const char *expected_id,
		lb_tls_conn **out, struct lb_errmsg *em);
/* Listening TCP socket on host (NULL: loopback) and port; returns fd or -1. */
int lb_tls_listen(const char *host, const char *port, struct lb_errmsg *em);

/* Peer's node id (DNS SAN or CN) into buf (NUL-terminated, truncated to n). */
int lb_tls_peer_id(lb_tls_conn *c, char *buf, size_t n);
/* Write all n bytes; read up to n bytes (*got = 0 at orderly close). */
int lb_tls_write(lb_tls_conn *c, const void *buf, size_t n, struct lb_errmsg *em);
int lb_tls_read(lb_tls_conn *c, void *buf, size_t n, size_t *got, struct lb_errmsg *em);
/* Send close_notify, close the socket, free. */
void lb_tls_close(lb_tls_conn *c);

#endif
