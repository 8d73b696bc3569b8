/*
 * Internals of the etcd orderer shared by its files and unit tests: the deterministic
 * cutter that turns etcd's ordered stream of events into block cuts. Every node feeds it the
 * same events in the same order (etcd's revision order), so every node cuts the same blocks.
 */
#ifndef LEBEN_ORDER_ETCD_INT_H
#define LEBEN_ORDER_ETCD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/order.h"

/* Keys under the network's prefix "/leben/<first 8 bytes of the network id, 16 hex>/":
 *   b/<chain digit>/<batch id, 64 hex> a batch of txs of one chain (value: per tx its length
 *                                     as u32 big endian, then its bytes; batch id: BLAKE2b of
 *                                     the chain digit and the value), created if absent
 *   t/<chain digit>/<tx id, 64 hex>   one tx (value: its signed bytes): written by earlier
 *                                     versions, still read so a stream holding both is cut the
 *                                     same way
 *   clock                             a member's wall clock (8 bytes, ms, big endian)
 *   cut/<chain digit>/<height, 16 hex> cut marker for that height (value: 8-byte ms; an
 *                                     anchor marker adds a ninth byte 1: cut even if empty) */
#define ETCD_PREFIX_MAX 80
#define ETCD_NET_BYTES 8   /* bytes of the network id in the prefix */
#define ETCD_CURSOR_LEN 32 /* rev, idx, clock, resume revision: 4 x u64 big endian; the idx
			    * word holds the tx's place in a batch (sub) in its upper 32 bits */

/* A position in the ordered stream: etcd revision, index of the event within it, and the
 * place of a tx within a batch event (0 for other events). */
struct etcd_pos {
	int64_t rev;
	int64_t idx;
	int64_t sub;
};

struct etcd_chain_cut {
	uint8_t **raws;           /* txs waiting for the next cut (owned copies) */
	size_t *lens;
	size_t n, cap;
	uint64_t height;          /* height of the next block */
	struct etcd_pos done;     /* last event consumed into a block of this chain */
	struct etcd_pos first;    /* position of raws[0] */
	uint64_t first_seen_ns;   /* local monotonic time raws[0] arrived (for cut markers) */
};

/* Receives each cut with the cursor to store with its block (lb_ledger_commit_at). */
typedef int (*etcd_cut_fn)(void *ctx, const struct lb_cut *cut, const uint8_t *cursor,
			   size_t cursor_len, struct lb_errmsg *em);

struct etcd_cutter {
	char prefix[ETCD_PREFIX_MAX];  /* "/leben/<16 hex of the network id>/" */
	size_t prefix_len;
	size_t block_max;              /* count threshold */
	uint64_t clock_ms;             /* max of the clock readings seen in the stream */
	struct etcd_chain_cut ch[LB_CHAIN_COUNT];
	etcd_cut_fn deliver;           /* receives each cut */
	void *ctx;
	uint64_t cuts, txs;            /* statistics */
	struct etcd_pos latest;        /* restore: position of the newest stored cursor */
	int64_t latest_resume;         /* ... and the revision a replay must start from */
};

/* Prefix of a network's keys into out (ETCD_PREFIX_MAX bytes). */
void etcd_prefix(char *out, const uint8_t network[LB_HASH_LEN]);
void cutter_init(struct etcd_cutter *c, const uint8_t network[LB_HASH_LEN], size_t block_max,
		 etcd_cut_fn deliver, void *ctx);
void cutter_release(struct etcd_cutter *c);
/* Start chain from what is committed: next height and the cursor stored with its latest
 * block (NULL if none). */
void cutter_restore_chain(struct etcd_cutter *c, int chain, uint64_t next_height,
			  const uint8_t *cursor);
/* After every chain is restored: the revision the stream must be replayed from. */
int64_t cutter_resume_rev(const struct etcd_cutter *c);
/* Feed one PUT event. Cuts and delivers a block when the rule says so; an error from the
 * delivery is returned (the node cannot go on). Unknown keys and bad values are ignored,
 * the same way on every node. */
int cutter_event(struct etcd_cutter *c, struct etcd_pos pos, const uint8_t *key, size_t klen,
		 const uint8_t *val, size_t vlen, struct lb_errmsg *em);

/* Check a batch value (b/ key): true when it is one or more txs, each a u32 big-endian length
 * from 1 to LB_TX_MAX_BYTES and that many bytes, ending exactly at vlen; count gets the number
 * of txs (may be NULL), bad_at the index of the first bad tx when false (may be NULL). */
bool etcd_batch_parse(const uint8_t *val, size_t vlen, size_t *count, size_t *bad_at);

#endif
