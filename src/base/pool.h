/*
 * A fixed pool of worker threads for data-parallel loops (signature checks on admission).
 * Several callers may run loops at once; each caller also works on its own loop.
 */
#ifndef LEBEN_POOL_H
#define LEBEN_POOL_H

#include <stddef.h>

struct lb_pool;

/* nthreads extra workers (0 allowed: loops then run in the caller only). */
int lb_pool_new(struct lb_pool **out, int nthreads);
void lb_pool_free(struct lb_pool *p);
/* Run fn(ctx, i) for every i in [0, n) and return when all are done. */
void lb_pool_for(struct lb_pool *p, size_t n, void (*fn)(void *ctx, size_t i), void *ctx);

#endif
