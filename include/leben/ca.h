/*
 * The consortium certificate authority (security level 2): one CA per consortium, and a
 * certificate per node or etcd member signed by it, for mutual TLS on every link (node to
 * etcd, etcd peer to peer, node to node). OpenSSL 3, EC P-256 keys, SHA-256 signatures.
 * Files are PEM; private keys are written unencrypted with mode 0600 (etcd and the node read
 * them unattended), so the directories holding them must be protected like the keystore.
 */
#ifndef LEBEN_CA_H
#define LEBEN_CA_H

#include <stddef.h>

#include "leben/error.h"

#define LB_CA_NAME_MAX 64 /* longest CA, node or host name */
#define LB_CA_MAX_SANS 16 /* extra subject alternative names per certificate */

/* Create dir/ca.pem (the certificate everyone trusts) and dir/ca.key (the signing key; keep
 * it offline) for a consortium called name, valid for days. LB_EEXISTS if dir/ca.key exists
 * (a CA is never overwritten: every issued certificate depends on it). */
int lb_ca_init(const char *dir, const char *name, unsigned days, struct lb_errmsg *em);

/* What a node certificate says. */
struct lb_ca_subject {
	const char *name;                 /* node id: common name and first DNS name */
	const char *org;                  /* institution (organisation), or NULL */
	const char *dns[LB_CA_MAX_SANS];  /* extra DNS names (localhost is always added) */
	size_t ndns;
	const char *ips[LB_CA_MAX_SANS];  /* IP addresses (127.0.0.1 is always added) */
	size_t nips;
	unsigned days;                    /* validity from now */
};

/* Issue a certificate for s signed by the CA in ca_dir, usable as TLS server and client,
 * into out_dir: node.pem (certificate), node.key (its key, 0600) and ca.pem (a copy of the
 * CA certificate). LB_EINVALID for a bad name or address, LB_ENOTFOUND without a CA,
 * LB_EEXISTS if out_dir/node.key exists (pass replace to overwrite). */
int lb_ca_issue(const char *ca_dir, const char *out_dir, const struct lb_ca_subject *s,
		int replace, struct lb_errmsg *em);

/* Write dir/crl.pem: the CA's certificate revocation list of every certificate in
 * dir/revoked.txt, signed by the CA, in force for days (the API, the peer links and etcd refuse
 * everyone once it is out of date: renew it with lb_ca_crl before). */
int lb_ca_crl(const char *dir, unsigned days, struct lb_errmsg *em);
/* Revoke the certificate in cert_file (a PEM issued by the CA in dir): add it to
 * dir/revoked.txt and write dir/crl.pem again. Its common name into cn_out (may be NULL).
 * LB_EINVALID for a certificate of another CA; revoking twice is not an error. */
int lb_ca_revoke(const char *dir, const char *cert_file, unsigned days, char *cn_out,
		 size_t cn_n, struct lb_errmsg *em);
/* Start a CA rotation: the current CA moves to dir/retired/, a new CA called name is made in
 * dir (ca.pem, ca.key, an empty crl.pem), and dir/trust.pem holds both certificates (new
 * first). While trust.pem exists, lb_ca_issue writes it as the node's ca.pem, so nodes
 * trust both CAs. LB_EEXISTS while a rotation is under way. */
int lb_ca_rotate(const char *dir, const char *name, unsigned days, struct lb_errmsg *em);
/* End a rotation: remove dir/trust.pem (certificates of the old CA are no longer trusted once
 * every member installs dir/ca.pem alone). LB_ENOTFOUND without a rotation. */
int lb_ca_retire(const char *dir, struct lb_errmsg *em);

#endif
