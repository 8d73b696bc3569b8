/*
 * DICOM pixel data to 8-bit luma for perceptual hashing: native little/big-endian frames of
 * 8 or 16 bits, one or three samples, and baseline JPEG fragments through libjpeg.
 */
#include <string.h>

#include "leben/data_dicom.h"
#include "leben/data_extract.h"

static bool num(const struct lb_dicom_file *f, uint32_t tag, double *v)
{
	return lb_dicom_get_number(f, tag, v);
}

int lb_dicom_luma(const struct lb_dicom_file *f, uint8_t **luma, uint32_t *w, uint32_t *h,
		  struct lb_errmsg *em)
{
	double rows, cols, bits = 16, spp = 1, rep = 0, planar = 0;
	const struct lb_dicom_elem *px = lb_dicom_find(f, 0x7FE00010);
	if (!px || !num(f, 0x00280010, &rows) || !num(f, 0x00280011, &cols))
		return lb_errf(em, LB_ENOTFOUND, "no pixel data (or no Rows/Columns)");
	num(f, 0x00280100, &bits);
	num(f, 0x00280002, &spp);
	num(f, 0x00280103, &rep);
	num(f, 0x00280006, &planar);
	if (rows < 1 || cols < 1 || rows * cols > LB_IMAGE_MAX_PIXELS)
		return lb_errf(em, LB_ELIMIT, "image of %gx%g pixels is out of range", cols, rows);
	*w = (uint32_t)cols;
	*h = (uint32_t)rows;
	size_t n = (size_t)*w * *h;
	if (px->undefined_length) {
		if (strcmp(f->transfer_syntax, "1.2.840.10008.1.2.4.50") != 0)
			return lb_errf(em, LB_EUNSUPPORTED,
				       "compressed pixel data (%s) is not decoded",
				       f->transfer_syntax);
		/* items: offset table, then the first fragment */
		const uint8_t *p = px->value;
		size_t left = px->length;
		for (int item = 0; item < 2; item++) {
			if (left < 8)
				return lb_errf(em, LB_EMALFORMED, "encapsulated pixel data is too short");
			uint32_t il = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
				      (uint32_t)p[7] << 24;
			if (il > left - 8)
				return lb_errf(em, LB_EMALFORMED, "fragment longer than pixel data");
			if (item == 1) {
				struct lb_image im;
				int rc = lb_image_read(p + 8, il, true, &im, em);
				if (rc)
					return rc;
				*w = im.width;
				*h = im.height;
				*luma = im.luma;
				return LB_OK;
			}
			p += 8 + il;
			left -= 8 + il;
		}
	}
	if (bits != 8 && bits != 16)
		return lb_errf(em, LB_EUNSUPPORTED, "BitsAllocated %g is not supported", bits);
	if (spp != 1 && spp != 3)
		return lb_errf(em, LB_EUNSUPPORTED, "SamplesPerPixel %g is not supported", spp);
	size_t bps = bits == 8 ? 1 : 2, need = n * (size_t)spp * bps;
	if (px->length < need)
		return lb_errf(em, LB_ETRUNCATED, "pixel data holds %zu bytes, the frame needs %zu",
			       px->length, need);
	double *v = lb_malloc(n * sizeof *v);
	*luma = lb_malloc(n);
	if (!v || !*luma) {
		lb_free(v);
		lb_free(*luma);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	const uint8_t *p = px->value;
	bool le = px->little_endian;
	for (size_t i = 0; i < n; i++) {
		double s[3];
		for (int k = 0; k < (int)spp; k++) {
			size_t idx = planar == 1 && spp == 3 ? (size_t)k * n + i : i * (size_t)spp + (size_t)k;
			if (bps == 1) {
				s[k] = p[idx];
			} else {
				unsigned u = le ? (unsigned)(p[2 * idx] | p[2 * idx + 1] << 8)
						: (unsigned)(p[2 * idx] << 8 | p[2 * idx + 1]);
				s[k] = rep == 1 ? (double)(int16_t)u : (double)u;
			}
		}
		v[i] = spp == 3 ? 0.299 * s[0] + 0.587 * s[1] + 0.114 * s[2] : s[0];
	}
	double mn = v[0], mx = v[0];
	for (size_t i = 1; i < n; i++) {
		if (v[i] < mn)
			mn = v[i];
		if (v[i] > mx)
			mx = v[i];
	}
	char photo[32] = "";
	lb_dicom_get_string(f, 0x00280004, photo, sizeof photo);
	bool invert = !strcmp(photo, "MONOCHROME1");
	for (size_t i = 0; i < n; i++) {
		double y = mx > mn ? (v[i] - mn) * 255.0 / (mx - mn) : 0;
		(*luma)[i] = (uint8_t)(invert ? 255.0 - y + 0.5 : y + 0.5);
	}
	lb_free(v);
	return LB_OK;
}
