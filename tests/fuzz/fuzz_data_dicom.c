/* libFuzzer harness for the DICOM Part 10 parser and its JSON/text views. */
#include <stddef.h>
#include <stdint.h>

#include "leben/data_dicom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_dicom_file f;
	struct lb_errmsg em;
	if (lb_dicom_parse(data, size, &f, &em) == LB_OK) {
		struct lb_buf b;
		lb_buf_init(&b, 64u << 20);
		lb_dicom_to_json(&f, &b);
		lb_buf_reset(&b);
		lb_dicom_to_text(&f, &b);
		lb_buf_release(&b);
		lb_dicom_file_release(&f);
	}
	return 0;
}
