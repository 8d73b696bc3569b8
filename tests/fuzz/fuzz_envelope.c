/* libFuzzer harness for the envelope decoder: arbitrary bytes opened with the key pair of the
 * committed known-answer envelope (tests/vectors/envelope/kat1.*), so mutations of a real
 * envelope reach the slot, record and tag handling. Any result but a crash is fine; a success
 * must return exactly the authenticated plaintext size limit or less. */
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t kat_sk[32] = {
#include "fuzz_envelope_key.inc"
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static uint8_t pk[32];
	uint8_t *out = NULL;
	size_t outlen = 0;
	struct lb_errmsg em;

	if (!ready) {
		if (sodium_init() < 0)
			return 0;
		crypto_scalarmult_base(pk, kat_sk);
		ready = 1;
	}
	if (lb_envelope_open(kat_sk, pk, data, size, 1 << 20, &out, &outlen, &em) == LB_OK) {
		if (outlen > size)
			__builtin_trap(); /* plaintext can never exceed the envelope */
		lb_free(out);
	}
	return 0;
}
