/* libFuzzer harness for offline inclusion-proof verification: arbitrary bytes must never
 * crash it (a forged proof is simply refused). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "leben/crypto.h"
#include "leben/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_proof_info info;
	struct lb_errmsg em;

	if (lb_crypto_init() != 0)
		return 0;
	memset(&info, 0, sizeof info);
	(void)lb_proof_verify(data, size, NULL, &info, &em);
	return 0;
}
