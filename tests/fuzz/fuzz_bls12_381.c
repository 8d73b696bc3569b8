/* libFuzzer harness for the BLS12-381 point decoders: any 48 or 96 bytes must never crash them;
 * an accepted G1 or G2 encoding is a valid point of order r and compresses back to the same
 * bytes (one encoding per point); hash-to-curve of any message/DST lands in the group.
 * First byte: 0 -> G1 decoding, 1 -> G2 decoding, 2 -> hash to G1, 3 -> hash to G2
 * (the next byte is the DST length), others -> both decoders on the rest. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/bls12_381.h"
#include "leben/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void g1_round(const uint8_t *in)
{
	struct lb_bls_g1 p;
	uint8_t back[48];
	if (lb_bls_g1_decompress(&p, in) != LB_OK)
		return;
	if (!lb_bls_g1_is_valid(&p))
		abort();
	lb_bls_g1_compress(back, &p);
	if (memcmp(back, in, 48) != 0)
		abort();
}

static void g2_round(const uint8_t *in)
{
	struct lb_bls_g2 p;
	uint8_t back[96];
	if (lb_bls_g2_decompress(&p, in) != LB_OK)
		return;
	if (!lb_bls_g2_is_valid(&p))
		abort();
	lb_bls_g2_compress(back, &p);
	if (memcmp(back, in, 96) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[96] = {0};
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode == 2 || mode == 3) {
		if (size < 1)
			return 0;
		size_t dl = data[0];
		if (dl > size - 1)
			dl = size - 1;
		const uint8_t *dst = data + 1, *msg = data + 1 + dl;
		size_t ml = size - 1 - dl;
		if (mode == 2) {
			struct lb_bls_g1 p;
			int rc = lb_bls_g1_hash(&p, msg, ml, dst, dl);
			if ((rc == LB_OK) != (dl > 0) || (rc == LB_OK && !lb_bls_g1_is_valid(&p)))
				abort();
		} else {
			struct lb_bls_g2 p;
			int rc = lb_bls_g2_hash(&p, msg, ml, dst, dl);
			if ((rc == LB_OK) != (dl > 0) || (rc == LB_OK && !lb_bls_g2_is_valid(&p)))
				abort();
		}
		return 0;
	}
	memcpy(buf, data, size < 96 ? size : 96);
	if (mode != 1)
		g1_round(buf);
	if (mode != 0)
		g2_round(buf);
	return 0;
}
