/*
 * A LEBEN node: the ledger, its orderer and the API server, configured from <home>.
 */
#ifndef LEBEN_NODE_H
#define LEBEN_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"

struct lb_node_config {
	char home[4096];           /* node home directory */
	char api_bind[64];         /* API address, default "127.0.0.1" */
	uint16_t api_port;         /* default 7800 */
	char orderer[16];          /* "solo" or "etcd" */
	char etcd_endpoints[1024]; /* etcd: comma-separated client URLs of the members */
	bool api_tls;              /* API over HTTPS with mutual TLS (default false) */
	char tls_ca[1024];         /* etcd, API TLS: consortium CA (default <home>/tls/ca.pem) */
	char tls_cert[1024];       /* etcd, API TLS: this node's certificate (default <home>/tls/node.pem) */
	char tls_key[1024];        /* etcd, API TLS: its key (default <home>/tls/node.key) */
	char tls_crl[1024];        /* API TLS: the CA's revocation lists (PEM), or empty */
	bool tls_cosigned;         /* API TLS and peer link: accept only certificates co-signed
				    * by enough CA holders on the chain (ca.cosign; default false) */
	size_t etcd_batch_max_txs; /* etcd: txs per etcd transaction (default 2000) */
	size_t block_max_txs;      /* cut a block at this many txs (default 5000) */
	uint32_t block_interval_ms;/* ... or when the oldest waiting tx is this old (default 200) */
	bool sync_full;            /* fsync each block (default true) */
	bool sig_batch;            /* check signatures in batches (default true; false: one by
				    * one, the same answers: tests compare the two) */
	size_t mempool_max_txs;    /* per chain (default 100000) */
	size_t api_max_body;       /* bytes (default 8 MiB) */
	uint64_t checkpoint_interval; /* sign a checkpoint every that many blocks (default 100,
				       * 0 = never; only while this node is a member) */
	char peer_listen[128];     /* etcd: serve snapshots to new nodes on HOST:PORT over mutual
				    * TLS ("" = off) */
	char snapshot_from[256];   /* etcd: at start, if every chain is at genesis, catch up from
				    * this peer's snapshot (HOST:PORT) before ordering ("" = off) */
};

void lb_node_config_defaults(struct lb_node_config *c, const char *home);
/* Defaults overridden by <home>/config.json (absent file: defaults). Unknown keys are refused
 * so that a typo does not silently fall back to a default. */
int lb_node_config_load(struct lb_node_config *c, const char *home, struct lb_errmsg *em);
int lb_node_config_save(const struct lb_node_config *c, struct lb_errmsg *em);

/* Register every tx type the node knows (spine and upper modules) in the ledger's table.
 * Idempotent; call before lb_ledger_open or lb_ledger_verify_home. */
int lb_register_txtypes(void);

struct lb_node;

/* Open the ledger, start the orderer and the API. node_key is copied (block signer). */
int lb_node_start(struct lb_node **out, const struct lb_node_config *c,
		  const struct lb_keypair *node_key, struct lb_errmsg *em);
/* The ledger; NULL when the node came up refusing (damaged chain databases, see
 * lb_ledger_check_home: only the API runs, answering every request with the damage). */
struct lb_ledger *lb_node_ledger(struct lb_node *n);
uint16_t lb_node_api_port(const struct lb_node *n);
/* Stop accepting, cut what is admitted, stop everything and close the ledger. */
void lb_node_stop(struct lb_node *n);

/* The node's purge worker (src/node/purge_worker.c, docs/security.md "Purge"): a thread that
 * answers the directory chain's data.purge requests naming this node's account as a holder
 * (destroys what home holds of the asset, sends a data.purge.receipt signed with the node
 * key), from the first request on at each start. *out stays NULL on a ledger without a node
 * key. Stop (and free) with lb_purge_worker_stop before the ledger is closed. */
struct lb_purge_worker;
int lb_purge_worker_start(struct lb_purge_worker **out, struct lb_ledger *l, const char *home,
			  struct lb_errmsg *em);
void lb_purge_worker_stop(struct lb_purge_worker *w);

#endif
