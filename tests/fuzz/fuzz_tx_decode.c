/* libFuzzer harness for the tx decoder: arbitrary bytes must never crash it, and decoding is
 * deterministic (a second decode of the same bytes gives the same fields and id). A decoded tx
 * covers exactly the input: its unsigned part plus the signature. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/crypto.h"
#include "leben/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_tx a, b;
	int rc1, rc2;

	if (lb_crypto_init() != 0)
		return 0;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	rc1 = lb_tx_decode(&a, data, size, NULL);
	rc2 = lb_tx_decode(&b, data, size, NULL);
	if (rc1 != rc2)
		abort();
	if (rc1 != 0)
		return 0;
	if (a.version != b.version || a.chain != b.chain || a.type != b.type ||
	    a.nonce != b.nonce || a.fee != b.fee || a.expires_ms != b.expires_ms ||
	    a.payload_len != b.payload_len || a.unsigned_len != b.unsigned_len ||
	    memcmp(a.sender, b.sender, sizeof a.sender) != 0 ||
	    memcmp(a.sig, b.sig, sizeof a.sig) != 0 || memcmp(a.id, b.id, sizeof a.id) != 0)
		abort();
	if (a.unsigned_len > size || a.payload + a.payload_len > data + size ||
	    a.payload < data)
		abort();
	return 0;
}
