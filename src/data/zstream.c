/*
 * DEFLATE streams inside data files, decoded with zlib: the deflated DICOM transfer syntax
 * (1.2.840.10008.1.2.1.99) stores the data set as raw DEFLATE (RFC 1951, no zlib header).
 * PNG pixel data goes through libpng, which uses the same zlib.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <zlib.h>

#include "data/data_int.h"
#include "leben/base.h"

int data_inflate_raw(const uint8_t *in, size_t inlen, size_t max, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, -15) != Z_OK) /* -15: raw DEFLATE, 32 KiB window */
		return LB_ENOMEM;
	size_t cap = inlen < 1024 ? 4096 : inlen * 4, len = 0;
	if (cap > max + 1)
		cap = max + 1; /* one byte more than allowed tells "too big" from "exactly max" */
	uint8_t *buf = lb_malloc(cap ? cap : 1);
	int rc = buf ? LB_OK : LB_ENOMEM, zr = Z_OK;
	zs.next_in = (Bytef *)(uintptr_t)in;
	while (!rc && zr != Z_STREAM_END) {
		if (!zs.avail_in && inlen) {
			uInt chunk = inlen > UINT_MAX ? UINT_MAX : (uInt)inlen;
			zs.avail_in = chunk;
			inlen -= chunk;
		}
		if (len == cap) {
			if (cap > max) {
				rc = LB_ETOOBIG;
				break;
			}
			size_t nc = cap * 2 > max + 1 ? max + 1 : cap * 2;
			uint8_t *nb = lb_realloc(buf, nc);
			if (!nb) {
				rc = LB_ENOMEM;
				break;
			}
			buf = nb;
			cap = nc;
		}
		size_t room = cap - len;
		zs.next_out = buf + len;
		zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		uInt before = zs.avail_out;
		zr = inflate(&zs, Z_NO_FLUSH);
		len += before - zs.avail_out;
		bool input_left = zs.avail_in || inlen;
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_MEM_ERROR)
			rc = LB_ENOMEM;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			rc = LB_EMALFORMED; /* Z_DATA_ERROR, Z_NEED_DICT (no dictionary in DICOM) */
		else if (!input_left && zs.avail_out)
			rc = LB_ETRUNCATED; /* all input read, room left, no final block yet */
	}
	inflateEnd(&zs);
	if (!rc && len > max)
		rc = LB_ETOOBIG;
	if (rc) {
		lb_free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return LB_OK;
}
