/* libFuzzer harness for the crop-tolerant image signature: its decoder (the public raw.imgsig
 * of a directory entry comes from other nodes), the signature of arbitrary luma, and the
 * comparison of what both give (any sizes, flat or not). The PNG/JPEG readers feeding it are
 * fuzzed by fuzz_data_image. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "leben/base.h"
#include "leben/data_dedup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_imgsig *s = lb_malloc(2 * sizeof *s);
	if (!s)
		return 0;
	bool have0 = false, have1 = false;
	/* an encoded signature first, when the input is long enough */
	if (size >= LB_IMGSIG_BYTES) {
		have0 = lb_imgsig_decode(data, LB_IMGSIG_BYTES, &s[0]) == LB_OK;
		if (have0) { /* encoding what was decoded gives the same bytes */
			uint8_t re[LB_IMGSIG_BYTES];
			lb_imgsig_encode(&s[0], re);
			if (memcmp(re, data, LB_IMGSIG_BYTES))
				__builtin_trap();
		}
		data += LB_IMGSIG_BYTES;
		size -= LB_IMGSIG_BYTES;
	} else {
		lb_imgsig_decode(data, size, &s[0]); /* must refuse, not read past */
	}
	/* then a picture: width and height from the first two bytes (1..511, so both the
	 * sampled path below 128 and the area-average path are reached), the rest repeated as
	 * its luma */
	if (size >= 3) {
		uint32_t w = 1 + 2u * data[0], h = 1 + 2u * data[1];
		uint8_t *luma = lb_malloc((size_t)w * h);
		if (luma) {
			for (size_t i = 0; i < (size_t)w * h; i++)
				luma[i] = data[2 + i % (size - 2)];
			int rc = lb_imgsig_make(luma, w, h, &s[1]);
			if ((w < 16 || h < 16) != (rc == LB_EINVALID))
				__builtin_trap(); /* refused exactly when too small */
			have1 = rc == LB_OK;
			lb_free(luma);
		}
	}
	/* the comparison is a search (slow under the sanitizers): once per input, decoded
	 * signature against the picture's when both exist, else the picture against itself */
	if (have0 && have1)
		(void)lb_imgsig_score(&s[0], &s[1]);
	else if (have1 && lb_imgsig_score(&s[1], &s[1]) < 0)
		__builtin_trap();
	lb_free(s);
	return 0;
}
