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

#endif
