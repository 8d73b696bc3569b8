/*
 * PNG and JPEG images: dimensions, channels and bit depth for the data features, and 8-bit luma
 * (ITU-R BT.601, what PDQ hashes) for near-duplicate detection. PNG chunks are walked and their
 * CRCs checked here first (zlib's crc32) so a damaged file is reported with the offset of the bad chunk; pixels
 * are decoded by libpng's simplified API and libjpeg (errors caught with setjmp, warnings such
 * as a premature end of data are treated as errors).
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "data/data_int.h"
#include "leben/data_extract.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int png_read_mem(const uint8_t *data, size_t len, bool want_luma, struct lb_image *out,
			struct lb_errmsg *em)
{
	size_t pos = 8;
	bool ihdr = false, iend = false;
	while (pos < len && !iend) {
		if (len - pos < 12)
			return lb_errf(em, LB_ETRUNCATED, "offset %zu: PNG ends inside a chunk header",
				       pos);
		uint32_t clen = be32(data + pos);
		if (clen > 0x7fffffffu || len - pos - 12 < clen)
			return lb_errf(em, LB_ETRUNCATED,
				       "offset %zu: PNG chunk %.4s declares %u bytes but only %zu remain",
				       pos, (const char *)data + pos + 4, clen, len - pos - 12);
		if (crc32(crc32(0, Z_NULL, 0), data + pos + 4, clen + 4) != be32(data + pos + 8 + clen))
			return lb_errf(em, LB_EMALFORMED, "offset %zu: PNG chunk %.4s has a bad CRC",
				       pos, (const char *)data + pos + 4);
		if (!memcmp(data + pos + 4, "IHDR", 4)) {
			if (clen != 13 || pos != 8)
				return lb_errf(em, LB_EMALFORMED, "offset %zu: bad PNG IHDR", pos);
			out->width = be32(data + pos + 8);
			out->height = be32(data + pos + 12);
			out->bit_depth = data[pos + 16];
			static const int ch[7] = {1, 0, 3, 1, 2, 0, 4};
			int ct = data[pos + 17];
			out->channels = ct <= 6 ? ch[ct] : 0;
			if (!out->channels || !out->width || !out->height)
				return lb_errf(em, LB_EMALFORMED, "offset %zu: bad PNG IHDR", pos);
			ihdr = true;
		}
		iend = !memcmp(data + pos + 4, "IEND", 4);
		pos += 12 + clen;
	}
	if (!ihdr || !iend)
		return lb_errf(em, LB_ETRUNCATED, "offset %zu: PNG has no %s chunk", pos,
			       ihdr ? "IEND" : "IHDR");
	snprintf(out->format, sizeof out->format, "png");
	if ((uint64_t)out->width * out->height > LB_IMAGE_MAX_PIXELS)
		return lb_errf(em, LB_ELIMIT, "image of %ux%u pixels is larger than allowed",
			       out->width, out->height);
	if (!want_luma)
		return LB_OK;
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&im, data, len))
		return lb_errf(em, LB_EMALFORMED, "PNG: %s", im.message);
	im.format = PNG_FORMAT_RGB;
	size_t n = (size_t)im.width * im.height;
	uint8_t *rgb = lb_malloc(n * 3);
	out->luma = lb_malloc(n);
	if (!rgb || !out->luma) {
		png_image_free(&im);
		lb_free(rgb);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	png_color bg = {255, 255, 255};
	if (!png_image_finish_read(&im, &bg, rgb, 0, NULL)) {
		lb_free(rgb);
		return lb_errf(em, LB_EMALFORMED, "PNG: %s", im.message);
	}
	for (size_t i = 0; i < n; i++)
		out->luma[i] = (uint8_t)(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] +
					 0.114 * rgb[3 * i + 2] + 0.5);
	lb_free(rgb);
	return LB_OK;
}

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
	int warnings;
};

static void jpeg_fail(j_common_ptr cinfo)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, e->msg);
	longjmp(e->jb, 1);
}

static void jpeg_note(j_common_ptr cinfo, int level)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	if (level < 0 && !e->warnings++)
		(*cinfo->err->format_message)(cinfo, e->msg);
}

static int jpeg_read_mem(const uint8_t *data, size_t len, bool want_luma, struct lb_image *out,
			 struct lb_errmsg *em)
{
	struct jpeg_decompress_struct ci;
	struct jerr je;
	memset(&je, 0, sizeof je);
	ci.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = jpeg_fail;
	je.pub.emit_message = jpeg_note;
	uint8_t *volatile luma = NULL;
	int rc = LB_OK;
	if (setjmp(je.jb)) {
		size_t at = ci.src ? len - ci.src->bytes_in_buffer : 0;
		rc = lb_errf(em, LB_EMALFORMED, "offset %zu: JPEG: %s", at, je.msg);
		goto err_destroy;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, (unsigned char *)data, (unsigned long)len);
	jpeg_read_header(&ci, TRUE);
	snprintf(out->format, sizeof out->format, "jpeg");
	out->width = ci.image_width;
	out->height = ci.image_height;
	out->channels = ci.num_components;
	out->bit_depth = ci.data_precision;
	if ((uint64_t)out->width * out->height > LB_IMAGE_MAX_PIXELS) {
		rc = lb_errf(em, LB_ELIMIT, "image of %ux%u pixels is larger than allowed",
			     out->width, out->height);
		goto err_destroy;
	}
	if (want_luma) {
		if (ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK) {
			rc = lb_errf(em, LB_EUNSUPPORTED, "JPEG in CMYK: no luma for it");
			goto err_destroy;
		}
		ci.out_color_space = JCS_GRAYSCALE;
		jpeg_start_decompress(&ci);
		luma = lb_malloc((size_t)ci.output_width * ci.output_height);
		if (!luma) {
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
			goto err_destroy;
		}
		while (ci.output_scanline < ci.output_height) {
			JSAMPROW row = luma + (size_t)ci.output_scanline * ci.output_width;
			jpeg_read_scanlines(&ci, &row, 1);
		}
		jpeg_finish_decompress(&ci);
		if (je.warnings) {
			rc = lb_errf(em, LB_ETRUNCATED, "offset %zu: JPEG: %s",
				     len - ci.src->bytes_in_buffer, je.msg);
			goto err_destroy;
		}
		out->luma = luma;
		luma = NULL;
	}
err_destroy:
	jpeg_destroy_decompress(&ci);
	lb_free(luma);
	return rc;
}

int lb_image_read(const uint8_t *data, size_t len, bool want_luma, struct lb_image *out,
		  struct lb_errmsg *em)
{
	memset(out, 0, sizeof *out);
	int rc;
	if (len >= 8 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8))
		rc = png_read_mem(data, len, want_luma, out, em);
	else if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
		rc = jpeg_read_mem(data, len, want_luma, out, em);
	else
		return lb_errf(em, LB_EUNSUPPORTED, "not a PNG or JPEG image");
	if (rc)
		lb_image_release(out);
	return rc;
}

void lb_image_release(struct lb_image *img)
{
	lb_free(img->luma);
	img->luma = NULL;
}

json_t *lb_image_json(const struct lb_image *img)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:i,s:i}", "kind", "image", "format", img->format,
			 "width", (json_int_t)img->width, "height", (json_int_t)img->height,
			 "channels", img->channels, "bit_depth", img->bit_depth);
}
