/*
 * Private helpers shared by the market's files (src/market/).
 */
#ifndef LEBEN_MARKET_INT_H
#define LEBEN_MARKET_INT_H

#include "leben/codec.h"
#include "leben/market.h"

/* Decode the wire form of the set of split tables (lb_mkt_splits_encode) from d, without
 * checking the sums (LB_EMALFORMED through d for a wrong count or a share above 10^6). */
int mkt_splits_dec(struct lb_dec *d, struct lb_mkt_splits *s);

/* compute.prepay / compute.settle / compute.reclaim (steps.c), registered with the market's txs. */
struct lb_apply_ctx;
struct lb_tx;
int mkt_check_prepay(const struct lb_tx *tx, struct lb_errmsg *em);
int mkt_apply_prepay(struct lb_apply_ctx *c);
json_t *mkt_json_prepay(const struct lb_tx *tx); /* {"budget"} */
int mkt_check_settle(const struct lb_tx *tx, struct lb_errmsg *em);
int mkt_apply_settle(struct lb_apply_ctx *c);
int mkt_check_reclaim(const struct lb_tx *tx, struct lb_errmsg *em);
int mkt_apply_reclaim(struct lb_apply_ctx *c);
json_t *mkt_json_reclaim(const struct lb_tx *tx); /* {"prepayment"} */

#endif
