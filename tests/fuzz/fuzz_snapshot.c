/* libFuzzer harness for the snapshot stream reader (catch-up from a peer): arbitrary bytes
 * must never crash it or leak; a stream it accepts holds exactly the blocks it announced, each
 * within the limits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/consortium.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t n;
};

static int mem_read(void *ctx, void *buf, size_t n, struct lb_errmsg *em)
{
	struct mem *m = ctx;
	if (n > m->n)
		return lb_errf(em, LB_EIO, "short");
	memcpy(buf, m->p, n);
	m->p += n;
	m->n -= n;
	return LB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = {data, size};
	struct lb_snapshot s;
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_snapshot_read(mem_read, &m, &s, &em) != LB_OK)
		return 0;
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		if (s.cursor_len[c] > LB_CURSOR_MAX)
			abort();
		for (uint64_t i = 0; i < s.height[c]; i++)
			if (s.headers[c][i].len > LB_HEADER_MAX_BYTES)
				abort();
	}
	lb_snapshot_free(&s);
	return 0;
}
