/* libFuzzer harness for the audio/video container readers (WAV, FLAC, MP3, Ogg, MP4, WebM,
 * AVI), the type detector (libmagic and LEBEN's own rules) and the semantic readers of image
 * text chunks and table column names. The first byte picks the reader so each gets whole
 * inputs; the corpus holds small files of every container. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "leben/data_extract.h"
#include "leben/data_vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_errmsg em;
	struct lb_media m;
	if (lb_media_read(data, size, &m, &em) == LB_OK) {
		json_t *j = lb_media_json(&m);
		json_decref(j);
	}
	struct lb_detected det;
	lb_data_detect("fuzz.bin", data, size, &det, &em);
	struct lb_hexa h;
	lb_hexa_init(&h);
	lb_semantic_image(data, size, &h);
	/* column names: the input cut at NULs */
	const char *names[16];
	size_t n = 0;
	char buf[4096];
	size_t len = size < sizeof buf - 1 ? size : sizeof buf - 1;
	memcpy(buf, data, len);
	buf[len] = 0;
	for (size_t off = 0; off <= len && n < 16;) {
		names[n++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	lb_semantic_columns(names, n, &h);
	lb_hexa_release(&h);
	return 0;
}
