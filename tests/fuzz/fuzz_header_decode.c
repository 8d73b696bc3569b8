/* libFuzzer harness for the block header decoder: arbitrary bytes must never crash it, and
 * any input it accepts must be canonical: re-encoding the decoded header (with signature)
 * reproduces the input byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lb_block_header h;
	struct lb_buf b;

	if (lb_crypto_init() != 0)
		return 0;
	memset(&h, 0, sizeof h);
	if (lb_header_decode(&h, data, size, NULL) != 0)
		return 0;
	lb_buf_init(&b, LB_HEADER_MAX_BYTES + 1024);
	if (lb_header_encode(&b, &h, true) != 0)
		abort();
	if (b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	lb_buf_release(&b);
	return 0;
}
