/* libFuzzer harness for the PNG/JPEG readers (with luma decoding) and the perceptual hash. */
#include <stddef.h>
#include <stdint.h>

#include "leben/data_dedup.h"
#include "leben/data_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_image im;
	struct lb_errmsg em;
	if (lb_image_read(data, size, true, &im, &em) == LB_OK) {
		struct lb_pdq p[8];
		if ((uint64_t)im.width * im.height <= 4u << 20)
			lb_pdq_hash(im.luma, im.width, im.height, p);
		lb_image_release(&im);
	}
	return 0;
}
