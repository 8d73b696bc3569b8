/* libFuzzer harness for the CP-ABE parsers: the policy language, ciphertexts (decrypted with a
 * fixed key of fuzz_abe_key.inc, for which the seed corpus's ciphertexts were made), user-key
 * and public-parameter encodings. Nothing may crash; a decoded key or public parameters
 * re-encode to the same bytes; a ciphertext that does not parse is never decrypted.
 * First byte: 0 policy, 1 ciphertext, 2 key, 3 public parameters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/abe.h"
#include "leben/base.h"

#include "fuzz_abe_key.inc"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lb_abe_pk pk;
	static struct lb_abe_key *key;
	if (!key) {
		if (lb_abe_pk_decode(&pk, fuzz_abe_pk, sizeof fuzz_abe_pk, NULL) != LB_OK ||
		    lb_abe_key_decode(&key, fuzz_abe_key, sizeof fuzz_abe_key, NULL) != LB_OK)
			abort();
	}
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode == 0) {
		char text[LB_ABE_MAX_POLICY + 2];
		if (size > LB_ABE_MAX_POLICY + 1)
			return 0;
		memcpy(text, data, size);
		text[size] = 0;
		(void)lb_abe_policy_check(text, NULL);
	} else if (mode == 1) {
		uint8_t *pt = NULL;
		size_t n;
		if (lb_abe_decrypt(&pt, &n, &pk, key, data, size, NULL) == LB_OK)
			lb_free(pt);
	} else if (mode == 2) {
		struct lb_abe_key *k = NULL;
		uint8_t *back;
		size_t bl;
		if (lb_abe_key_decode(&k, data, size, NULL) != LB_OK)
			return 0;
		if (lb_abe_key_encode(&back, &bl, k) != LB_OK || bl != size || memcmp(back, data, size) != 0)
			abort();
		lb_free(back);
		lb_abe_key_free(k);
	} else if (mode == 3) {
		struct lb_abe_pk p;
		uint8_t back[LB_ABE_PK_BYTES];
		if (lb_abe_pk_decode(&p, data, size, NULL) != LB_OK)
			return 0;
		lb_abe_pk_encode(back, &p);
		if (memcmp(back, data, sizeof back) != 0)
			abort();
	}
	return 0;
}
