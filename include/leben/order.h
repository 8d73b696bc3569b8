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
};

struct lb_orderer {
	const struct lb_orderer_ops *ops; /* the backend */
};

/* Solo: a block per chain every max_txs txs, or when the oldest waiting tx is interval_ms old. */
int lb_orderer_solo_new(struct lb_orderer **out, size_t max_txs, uint32_t interval_ms);

#endif
