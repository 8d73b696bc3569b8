/* libFuzzer harness for the POST /v1/txs body parser (src/api/txbody.c): arbitrary bodies,
 * parsed in place with a small batch limit. On success every item is either a decode error
 * or bytes lying inside the body (fast path) or the arena (slow path), of at most
 * LB_TX_MAX_BYTES; on failure nothing is left allocated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "leben/base.h"
#include "leben/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	struct api_txs t;
	struct lb_errmsg em;
	if (api_txs_parse(&t, body, size, 64, &em) == LB_OK) {
		if (t.n == 0 || t.n > 64)
			abort();
		for (size_t i = 0; i < t.n; i++) {
			if (t.codes[i])
				continue;
			if (t.lens[i] == 0 || t.lens[i] > LB_TX_MAX_BYTES)
				abort();
			bool in_body = t.raws[i] >= body && t.raws[i] + t.lens[i] <= body + size;
			if (!in_body && !t.arena)
				abort();
			volatile uint8_t sink = t.raws[i][t.lens[i] - 1];
			(void)sink;
		}
		api_txs_release(&t);
	}
	free(body);
	return 0;
}
