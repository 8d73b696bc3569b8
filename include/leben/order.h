/*
 * Ordering: the narrow interface between the ledger and whatever puts txs in one order.
 * An orderer takes admitted tx bytes (submit) and hands back ordered, deterministic block
 * cuts (deliver). It never judges a tx: every node validates what it receives. Backends:
 * solo (in-process, default); a consortium backend plugs in behind the same operations.
 */
#ifndef LEBEN_ORDER_H
#define LEBEN_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"
#include "leben/ledger.h"

struct lb_orderer;

/* Receives each cut, in order, from one orderer thread; returns an lb_err (a failure stops
 * the orderer: the node cannot go on past a block it could not commit). */
typedef int (*lb_deliver_fn)(void *ctx, const struct lb_cut *cut, struct lb_errmsg *em);

struct lb_orderer_ops {
	const char *name;
	/* Queue admitted tx bytes (copied) for ordering. Must be quick: it is called while the
	 * ledger holds the chain's lock. */
	int (*submit)(struct lb_orderer *o, int chain, const uint8_t *raw, size_t len);
	int (*start)(struct lb_orderer *o, lb_deliver_fn deliver, void *ctx, struct lb_errmsg *em);
	/* Deliver what is queued, then stop. */
	void (*stop)(struct lb_orderer *o);
	void (*free)(struct lb_orderer *o);
	/* Optional (NULL for solo, where admission is ordering). */
	/* LB_OK if submissions can be ordered now, else LB_EUNAVAILABLE with the reason. */
	int (*ready)(struct lb_orderer *o, struct lb_errmsg *em);
	/* Wait until every tx submitted before the call is stored by the ordering service (it
	 * will be ordered even if this node crashes); LB_EUNAVAILABLE after timeout_ms. */
	int (*sync)(struct lb_orderer *o, uint32_t timeout_ms, struct lb_errmsg *em);
	/* The orderer's state for /v1/status (new reference, NULL if out of memory). */
	json_t *(*status)(struct lb_orderer *o);
	/* Optional: make the next block of chain soon even if no tx waits for it (an empty
	 * block, which anchors the other chains' latest blocks). Called when someone waits for
	 * a block of chain to anchor a block of another chain (lb_ledger_options.
	 * on_anchor_wanted); must be quick. Every member of a consortium makes the same empty
	 * block (docs/consortium.md, "The cut rule"). */
	void (*anchor)(struct lb_orderer *o, int chain);
};

struct lb_orderer {
	const struct lb_orderer_ops *ops; /* the backend */
};

/* Solo: a block per chain every max_txs txs, or when the oldest waiting tx is interval_ms old. */
int lb_orderer_solo_new(struct lb_orderer **out, size_t max_txs, uint32_t interval_ms);

/* Consortium: an etcd 3.4 cluster through its v3 HTTP/JSON gateway (docs/consortium.md). */
struct lb_etcd_options {
	const char *endpoints;      /* "https://host:port,https://..." client URLs (copied) */
	const char *ca_file;        /* consortium CA (PEM), or NULL with http:// endpoints */
	const char *cert_file;      /* this node's certificate, shown to etcd */
	const char *key_file;       /* its key */
	struct lb_ledger *ledger;   /* network id, heights and stored cursors (borrowed; must
				     * outlive the orderer) */
	size_t block_max_txs;       /* cut a block when this many txs of a chain wait */
	uint32_t block_interval_ms; /* ask for a cut when the oldest waiting tx is this old */
	size_t batch_max_txs;       /* txs per etcd transaction (etcd's --max-txn-ops must be
				     * larger; halved automatically when etcd refuses) */
	/* History compaction (NULL: never). checkpointed(ctx, chain, &h): the height of chain
	 * every member has checkpointed (lb_consortium_checkpointed_height). Every few seconds
	 * the writer compacts etcd's history below the replay revision stored with the newest of
	 * those blocks that this node committed since it started: every member's own newest
	 * position is at least there, so none of them needs anything older. */
	int (*checkpointed)(void *ctx, int chain, uint64_t *height);
	void *checkpointed_ctx;
};
int lb_orderer_etcd_new(struct lb_orderer **out, const struct lb_etcd_options *opt,
			struct lb_errmsg *em);

/* The consortium's cut threshold, the same on every member by construction: genesis.json's
 * "ordering": {"block_max_txs": N} (1..LB_BLOCK_MAX_TXS), LB_ETCD_BLOCK_MAX_DEFAULT when the
 * section is absent. A malformed section (not an object, an unknown key, a value out of
 * range) is LB_EMALFORMED naming it, and *out is left alone. A node's own config.json
 * block_max_txs does not decide the etcd orderer's cuts (docs/consortium.md). */
#define LB_ETCD_BLOCK_MAX_DEFAULT 5000
int lb_etcd_genesis_block_max(json_t *genesis, size_t *out, struct lb_errmsg *em);

#endif
