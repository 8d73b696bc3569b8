/*
 * Labelled evaluation set for near-duplicate images, generated deterministically (no files to
 * ship, the same pixels on every machine): medical-style 8-bit greyscale pictures of six kinds
 * — axial CT, chest radiograph, brain MRI, ultrasound sector, retinal fundus, histology —
 * each with the burned-in template a modality writes (patient text block in a corner, side
 * marker, scale bar; same places for every image of a kind), and the edits a copy meets:
 * crops of 10–20 % (one border or several, asymmetric), a watermark, a caption band, a
 * rescale, a JPEG re-encode, a brightness/contrast change, and combinations. Two pictures of
 * the same kind with different seeds are different patients: the hard negatives.
 *
 * Pictures 0..47 are the set the match threshold was chosen on, 48..95 (other patients) the
 * held-out set the unit test asserts the goal on; `make bench-data` prints both.
 *
 * Header-only (static functions) so the unit test and `make bench-data` share it:
 * imgset_base(i, &img) draws base picture i (kind i % IMGSET_KINDS), imgset_variant(&base,
 * v, &out) applies edit v (0 .. IMGSET_VARIANTS-1), imgset_variant_name(v) names it.
 * JPEG re-encoding goes through libjpeg and back through lb_image_read.
 */
#ifndef LEBEN_TESTS_IMGSET_H
#define LEBEN_TESTS_IMGSET_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "leben/base.h"
#include "leben/data_extract.h"

#define IMGSET_KINDS    6
#define IMGSET_VARIANTS 12

struct imgset_img {
	uint8_t *p; /* w*h luma, owned (lb_free) */
	uint32_t w, h;
};

static const char *const imgset_kind_names[IMGSET_KINDS] = {"ct",         "xray",   "mri",
                                                            "ultrasound", "fundus", "histology"};

static uint64_t imgset_rs;
static double imgset_u(void) /* uniform [0, 1) */
{
	imgset_rs ^= imgset_rs << 13;
	imgset_rs ^= imgset_rs >> 7;
	imgset_rs ^= imgset_rs << 17;
	return (double)(imgset_rs >> 11) / 9007199254740992.0;
}
static void imgset_seed(uint64_t s)
{
	imgset_rs = 0x9E3779B97F4A7C15ull ^ (s * 0xD1B54A32D192ED03ull);
	if (!imgset_rs)
		imgset_rs = 1;
	for (int i = 0; i < 8; i++)
		imgset_u();
}

/* Smooth value noise in [-1, 1]: octaves of bilinear random lattices. */
struct imgset_noise {
	float g[4][33][33];
};
static void imgset_noise_init(struct imgset_noise *n)
{
	for (int o = 0; o < 4; o++)
		for (int i = 0; i < 33; i++)
			for (int j = 0; j < 33; j++)
				n->g[o][i][j] = (float)(imgset_u() * 2 - 1);
}
static double imgset_noise_at(const struct imgset_noise *n, double x, double y) /* x,y in [0,1] */
{
	double s = 0, amp = 1, tot = 0;
	for (int o = 0; o < 4; o++) {
		int cells = 4 << o;
		double fx = x * cells, fy = y * cells;
		int ix = (int)fx, iy = (int)fy;
		if (ix >= cells)
			ix = cells - 1;
		if (iy >= cells)
			iy = cells - 1;
		if (ix < 0)
			ix = 0;
		if (iy < 0)
			iy = 0;
		double tx = fx - ix, ty = fy - iy;
		const float(*g)[33] = n->g[o];
		double v = (g[iy][ix] * (1 - tx) + g[iy][ix + 1] * tx) * (1 - ty) +
		           (g[iy + 1][ix] * (1 - tx) + g[iy + 1][ix + 1] * tx) * ty;
		s += amp * v;
		tot += amp;
		amp *= 0.55;
	}
	return s / tot;
}

static uint8_t imgset_clip(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)(v + 0.5);
}

/* Soft-edged ellipse mask at (x, y): 1 inside, 0 outside, linear over `edge` units. */
static double imgset_ell(double x, double y, double cx, double cy, double rx, double ry,
                         double edge)
{
	double dx = (x - cx) / rx, dy = (y - cy) / ry;
	double r = sqrt(dx * dx + dy * dy);
	double e = edge / (rx < ry ? rx : ry);
	if (r <= 1 - e)
		return 1;
	if (r >= 1)
		return 0;
	return (1 - r) / e;
}

/* Text-like glyph blocks: a 5x7 pattern per character from the character's code, drawn at
 * (x, y) with cell size s. Deterministic from the string, so a template draws the same
 * letters in every image and a patient's name differs between patients. */
static void imgset_text(struct imgset_img *im, uint32_t x, uint32_t y, uint32_t s, const char *str,
                        uint8_t ink)
{
	for (size_t k = 0; str[k]; k++) {
		uint32_t code = (uint32_t)(unsigned char)str[k] * 2654435761u;
		if (str[k] == ' ')
			continue;
		for (uint32_t gy = 0; gy < 7; gy++)
			for (uint32_t gx = 0; gx < 5; gx++) {
				uint32_t bit = (code >> ((gy * 5 + gx) % 31)) & 1;
				if (!bit && gx != 0 && gy != 6)
					continue;
				for (uint32_t py = 0; py < s; py++)
					for (uint32_t px = 0; px < s; px++) {
						uint32_t X = x + (uint32_t)k * 6 * s + gx * s + px,
						         Y = y + gy * s + py;
						if (X < im->w && Y < im->h)
							im->p[(size_t)Y * im->w + X] = ink;
					}
			}
	}
}

/* Burned-in template: patient block top-left (differs per patient), side marker top-right
 * and a scale bar on the right (the same for every image of the kind). */
static void imgset_template(struct imgset_img *im, int kind, uint32_t patient)
{
	char line[48];
	uint32_t s = im->w / 256 + 1;
	snprintf(line, sizeof line, "ID %07u", patient * 7919u % 10000000u);
	imgset_text(im, 8, 8, s, line, 235);
	snprintf(line, sizeof line, "%s %02u/%02u/20%02u", imgset_kind_names[kind],
	         1 + patient % 28, 1 + patient % 12, 10 + patient % 15);
	imgset_text(im, 8, 8 + 9 * s, s, line, 235);
	imgset_text(im, im->w - 8 - 6 * 2 * s, 8, 2 * s, "R", 250);
	for (uint32_t k = 0; k <= 10; k++) {
		uint32_t y = im->h / 4 + k * (im->h / 2) / 10, len = k % 5 ? 6 : 12;
		for (uint32_t x = im->w - 20; x < im->w - 20 + len && x < im->w; x++)
			im->p[(size_t)y * im->w + x] = 220;
	}
}

static void imgset_draw(struct imgset_img *im, int kind)
{
	struct imgset_noise nz, nz2;
	imgset_noise_init(&nz);
	imgset_noise_init(&nz2);
	uint32_t W = im->w, H = im->h;
	/* anatomy parameters per patient */
	double a1 = 0.30 + 0.08 * imgset_u(), a2 = 0.24 + 0.08 * imgset_u();
	double cx = 0.5 + 0.04 * (imgset_u() - 0.5), cy = 0.5 + 0.04 * (imgset_u() - 0.5);
	double blobs[24][4];
	for (int k = 0; k < 24; k++) {
		blobs[k][0] = imgset_u();
		blobs[k][1] = imgset_u();
		blobs[k][2] = 0.02 + 0.06 * imgset_u();
		blobs[k][3] = imgset_u();
	}
	double vessels[6][3];
	for (int k = 0; k < 6; k++) {
		vessels[k][0] = imgset_u() * 6.283;
		vessels[k][1] = 0.5 + imgset_u();
		vessels[k][2] = imgset_u() * 6.283;
	}
	for (uint32_t Y = 0; Y < H; Y++)
		for (uint32_t X = 0; X < W; X++) {
			double x = (X + 0.5) / W, y = (Y + 0.5) / H, v = 0;
			double n1 = imgset_noise_at(&nz, x, y), n2 = imgset_noise_at(&nz2, x, y);
			double grain = (imgset_u() - 0.5) * 10;
			switch (kind) {
			case 0: { /* axial CT: body, fat rim, lungs, spine, organs */
				double body =
				    imgset_ell(x, y, cx, cy, a1 + 0.1, a2 + 0.05 + 0.02 * n1, 0.01);
				double inner = imgset_ell(x, y, cx, cy, a1 + 0.08, a2 + 0.03, 0.01);
				double lungl = imgset_ell(x, y, cx - a1 * 0.45, cy - 0.03,
				                          a1 * 0.38, a2 * 0.7 + 0.02 * n2, 0.01);
				double lungr = imgset_ell(x, y, cx + a1 * 0.45, cy - 0.03,
				                          a1 * 0.36, a2 * 0.68, 0.01);
				double spine =
				    imgset_ell(x, y, cx, cy + a2 * 0.75, 0.04, 0.035, 0.005);
				double cord =
				    imgset_ell(x, y, cx, cy + a2 * 0.75, 0.015, 0.012, 0.004);
				v = 10 + body * (70 + inner * 40 + 12 * n1);
				v -= (lungl + lungr) * (95 + 10 * n2) * inner;
				v += (lungl + lungr) * 25 * (n2 > 0.25 ? 1 : 0) * (0.5 + n1);
				v += spine * 120 - cord * 80;
				for (int k = 0; k < 8; k++)
					v += 30 * (blobs[k][3] - 0.3) *
					     imgset_ell(x, y, cx + (blobs[k][0] - 0.5) * a1,
					                cy + (blobs[k][1] - 0.3) * a2 * 0.8,
					                blobs[k][2], blobs[k][2] * 0.8, 0.01) *
					     inner * (1 - lungl - lungr > 0 ? 1 : 0);
				v += grain * body;
				break;
			}
			case 1: { /* chest radiograph: bright body, dark lungs, ribs, spine */
				double body = imgset_ell(x, y, 0.5, 0.55, 0.42 + 0.08 * blobs[2][0],
				                         0.6, 0.08);
				double lungl =
				    imgset_ell(x, y, 0.5 - 0.15 - 0.05 * blobs[3][0] - 0.02 * n2,
				               0.46 + 0.05 * blobs[4][0], 0.11 + 0.05 * blobs[5][0],
				               0.24 + 0.07 * blobs[6][0], 0.05);
				double lungr =
				    imgset_ell(x, y, 0.5 + 0.15 + 0.05 * blobs[7][0],
				               0.46 + 0.05 * blobs[8][0], 0.11 + 0.05 * blobs[9][0],
				               0.24 + 0.07 * blobs[10][0], 0.05);
				double spine = exp(-pow((x - 0.5 - 0.01 * n1) / 0.035, 2));
				double heart = imgset_ell(
				    x, y, 0.53 + 0.06 * blobs[11][0], 0.58 + 0.06 * blobs[12][0],
				    0.09 + 0.06 * blobs[13][0], 0.1 + 0.05 * blobs[14][0], 0.04);
				double rib = 0;
				for (int k = 0; k < 9; k++) {
					double ry = 0.24 + 0.04 * blobs[15][0] +
					            k * (0.05 + 0.012 * blobs[16][0]) +
					            0.12 * pow(fabs(x - 0.5) * 2, 2);
					rib += exp(-pow((y - ry) / 0.008, 2)) * (lungl + lungr);
				}
				v = 30 + body * 150 - (lungl + lungr) * (85 + 25 * n2) + rib * 45 +
				    spine * 50 * body + heart * 45 + 18 * n1;
				v += grain * 0.6;
				break;
			}
			case 2: { /* brain MRI: skull ring, cortex folds, ventricles */
				double head = imgset_ell(x, y, cx, cy, a1 + 0.1, a2 + 0.17, 0.01);
				double brain = imgset_ell(x, y, cx, cy, a1 + 0.06, a2 + 0.13, 0.02);
				double vent = imgset_ell(x, y, cx - 0.04, cy - 0.02,
				                         0.025 + 0.02 * blobs[0][0], 0.09, 0.01) +
				              imgset_ell(x, y, cx + 0.04, cy - 0.02,
				                         0.025 + 0.02 * blobs[1][0], 0.09, 0.01);
				double folds = sin(n1 * 22 + n2 * 9) > 0.2 ? 1 : 0;
				v = head * 150 - brain * 60 + brain * folds * 35 - vent * 90 +
				    8 * n2 * brain;
				v += grain * head;
				break;
			}
			case 3: { /* ultrasound: fan sector with speckle and dark cysts */
				double dx = x - 0.5, dy = y - 0.05;
				double r = sqrt(dx * dx + dy * dy), th = atan2(dx, dy);
				double fan = (r < 0.9 && fabs(th) < 0.7) ? 1 : 0;
				double sp = 0.6 + 0.8 * imgset_u();
				double tissue = 90 + 50 * n1 + 40 * (n2 > 0.1 ? 1 : -0.2);
				double cyst = 0;
				for (int k = 0; k < 3; k++)
					cyst +=
					    imgset_ell(x, y, 0.35 + 0.3 * blobs[k][0],
					               0.35 + 0.4 * blobs[k][1], 0.04 + blobs[k][2],
					               0.03 + blobs[k][2] * 0.7, 0.01);
				v = fan * (tissue * sp * (1 - 0.85 * (cyst > 1 ? 1 : cyst)) *
				           (1.1 - r * 0.6));
				break;
			}
			case 4: { /* fundus: bright disc, optic disc, vessels, macula */
				double eye = imgset_ell(x, y, 0.5, 0.5, 0.45, 0.45, 0.02);
				double disc = imgset_ell(x, y, 0.3 + 0.4 * (blobs[0][0] > 0.5),
				                         0.5 + 0.05 * n1, 0.07, 0.08, 0.02);
				double mac =
				    imgset_ell(x, y, 0.5 + 0.02 * n2, 0.5, 0.07, 0.07, 0.05);
				double ox = 0.3 + 0.4 * (blobs[0][0] > 0.5), vs = 0;
				for (int k = 0; k < 6; k++) {
					double ang = atan2(y - 0.5, x - ox),
					       rr = hypot(x - ox, y - 0.5);
					double path =
					    vessels[k][0] +
					    0.6 * sin(rr * 6 * vessels[k][1] + vessels[k][2]);
					double dd = fabs(remainder(ang - path, 6.283)) * rr;
					vs += exp(-pow(dd / (0.006 + 0.004 * (1 - rr)), 2));
				}
				v = eye * (120 + 30 * n1 - 40 * mac - 60 * (vs > 1 ? 1 : vs)) +
				    disc * eye * 90;
				v += grain * eye * 0.5;
				break;
			}
			default: { /* histology: pale stroma, dark nuclei */
				double cells = 0;
				double fx = x * 14 + 0.6 * n1, fy = y * 14 + 0.6 * n2;
				int ix = (int)floor(fx), iy = (int)floor(fy);
				uint32_t hsh = (uint32_t)(ix * 73856093) ^
				               (uint32_t)(iy * 19349663) ^
				               (uint32_t)(blobs[0][0] * 1e6);
				hsh *= 2654435761u;
				double px = (hsh & 0xff) / 255.0 * 0.6 + 0.2,
				       py = ((hsh >> 8) & 0xff) / 255.0 * 0.6 + 0.2;
				double d = hypot(fx - ix - px, fy - iy - py);
				if ((hsh >> 16) % 5 != 0)
					cells = d < 0.22 ? 1 : d < 0.28 ? (0.28 - d) / 0.06 : 0;
				v = 215 + 20 * n1 - 50 * (n2 > 0.3 ? 1 : 0) -
				    cells * (120 + 30 * n2);
				v += grain;
				break;
			}
			}
			im->p[(size_t)Y * W + X] = imgset_clip(v);
		}
}

/* Base picture i: kind i % IMGSET_KINDS, patient i / IMGSET_KINDS. */
static int imgset_base(int i, struct imgset_img *out)
{
	int kind = i % IMGSET_KINDS;
	imgset_seed(1000 + (uint64_t)i);
	static const uint32_t sz[IMGSET_KINDS][2] = {{384, 384}, {352, 416}, {320, 384},
	                                             {416, 320}, {384, 384}, {400, 300}};
	out->w = sz[kind][0] + (uint32_t)(imgset_u() * 4) * 16;
	out->h = sz[kind][1] + (uint32_t)(imgset_u() * 4) * 16;
	out->p = lb_malloc((size_t)out->w * out->h);
	if (!out->p)
		return LB_ENOMEM;
	imgset_draw(out, kind);
	imgset_template(out, kind, (uint32_t)i / IMGSET_KINDS + 1);
	return LB_OK;
}

static int imgset_crop(const struct imgset_img *b, double l, double t, double r, double bo,
                       struct imgset_img *o)
{
	uint32_t x0 = (uint32_t)(b->w * l), y0 = (uint32_t)(b->h * t);
	uint32_t x1 = b->w - (uint32_t)(b->w * r), y1 = b->h - (uint32_t)(b->h * bo);
	o->w = x1 - x0;
	o->h = y1 - y0;
	o->p = lb_malloc((size_t)o->w * o->h);
	if (!o->p)
		return LB_ENOMEM;
	for (uint32_t y = 0; y < o->h; y++)
		memcpy(o->p + (size_t)y * o->w, b->p + (size_t)(y + y0) * b->w + x0, o->w);
	return LB_OK;
}

/* Area-average resize (bilinear when enlarging). */
static int imgset_resize(const struct imgset_img *b, uint32_t w, uint32_t h, struct imgset_img *o)
{
	o->w = w;
	o->h = h;
	o->p = lb_malloc((size_t)w * h);
	if (!o->p)
		return LB_ENOMEM;
	double sx = (double)b->w / w, sy = (double)b->h / h;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			double fx0 = x * sx, fy0 = y * sy, acc = 0;
			int n = 0;
			for (double fy = fy0; fy < fy0 + sy || n == 0; fy += 1) {
				for (double fx = fx0; fx < fx0 + sx; fx += 1) {
					uint32_t X = (uint32_t)fx, Y = (uint32_t)fy;
					if (X >= b->w)
						X = b->w - 1;
					if (Y >= b->h)
						Y = b->h - 1;
					acc += b->p[(size_t)Y * b->w + X];
					n++;
				}
				if (sx < 1 || sy < 1)
					break;
			}
			o->p[(size_t)y * w + x] = imgset_clip(acc / (n ? n : 1));
		}
	return LB_OK;
}

static int imgset_copy(const struct imgset_img *b, struct imgset_img *o)
{
	*o = *b;
	o->p = lb_malloc((size_t)b->w * b->h);
	if (!o->p)
		return LB_ENOMEM;
	memcpy(o->p, b->p, (size_t)b->w * b->h);
	return LB_OK;
}

static int imgset_jpeg(struct imgset_img *im, int quality)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *buf = NULL;
	unsigned long len = 0;
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &buf, &len);
	c.image_width = im->w;
	c.image_height = im->h;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	for (uint32_t y = 0; y < im->h; y++) {
		JSAMPROW row = im->p + (size_t)y * im->w;
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	struct lb_image d;
	int rc = lb_image_read(buf, len, true, &d, NULL);
	free(buf);
	if (rc)
		return rc;
	lb_free(im->p);
	im->p = d.luma;
	return LB_OK;
}

/* Semi-transparent diagonal watermark text over the middle (opacity a). */
static void imgset_watermark(struct imgset_img *im, double a, const char *text)
{
	struct imgset_img m = {lb_malloc((size_t)im->w * im->h), im->w, im->h};
	if (!m.p)
		return;
	memset(m.p, 0, (size_t)im->w * im->h);
	uint32_t s = im->w / 80 + 2;
	imgset_text(&m, im->w / 8, im->h / 2 - 4 * s, s, text, 255);
	for (uint32_t y = 0; y < im->h; y++)
		for (uint32_t x = 0; x < im->w; x++) {
			/* shear the text diagonally */
			uint32_t sy = (uint32_t)((y + (x - im->w / 2.0) * 0.35) + 0.5);
			if (sy < im->h && m.p[(size_t)sy * im->w + x])
				im->p[(size_t)y * im->w + x] =
				    imgset_clip(im->p[(size_t)y * im->w + x] * (1 - a) + 255 * a);
		}
	lb_free(m.p);
}

/* Opaque caption band (frac of the height) at the bottom (or top) with white text. */
static void imgset_caption(struct imgset_img *im, double frac, bool top, const char *text)
{
	uint32_t bh = (uint32_t)(im->h * frac), y0 = top ? 0 : im->h - bh;
	for (uint32_t y = y0; y < y0 + bh; y++)
		memset(im->p + (size_t)y * im->w, 20, im->w);
	struct imgset_img band = {im->p + (size_t)y0 * im->w, im->w, bh};
	uint32_t s = bh / 10 ? bh / 10 : 1;
	imgset_text(&band, 6, (bh - 7 * s) / 2, s, text, 240);
}

static const char *const imgset_variant_names[IMGSET_VARIANTS] = {
    "crop 10% left+top",
    "crop 20% right",
    "crop 15% all borders",
    "crop 12% top + 8% bottom",
    "watermark 35%",
    "caption band 10%",
    "rescale 60%",
    "jpeg q30",
    "brightness +25 contrast 0.85",
    "crop 15% + caption",
    "crop 10% + rescale + jpeg",
    "watermark + caption + jpeg",
};

static const char *imgset_variant_name(int v)
{
	return v >= 0 && v < IMGSET_VARIANTS ? imgset_variant_names[v] : "?";
}

/* Edit v of base b into o (new pixels). */
static int imgset_variant(const struct imgset_img *b, int v, struct imgset_img *o)
{
	int rc;
	struct imgset_img t;
	switch (v) {
	case 0:
		return imgset_crop(b, 0.10, 0.10, 0, 0, o);
	case 1:
		return imgset_crop(b, 0, 0, 0.20, 0, o);
	case 2:
		return imgset_crop(b, 0.075, 0.075, 0.075, 0.075, o);
	case 3:
		return imgset_crop(b, 0.03, 0.12, 0, 0.08, o);
	case 4:
		if ((rc = imgset_copy(b, o)))
			return rc;
		imgset_watermark(o, 0.35, "COPY CONFIDENTIAL");
		return LB_OK;
	case 5:
		if ((rc = imgset_copy(b, o)))
			return rc;
		imgset_caption(o, 0.10, false, "Fig 3 teaching file case 12");
		return LB_OK;
	case 6:
		return imgset_resize(b, b->w * 3 / 5, b->h * 3 / 5, o);
	case 7:
		if ((rc = imgset_copy(b, o)))
			return rc;
		return imgset_jpeg(o, 30);
	case 8:
		if ((rc = imgset_copy(b, o)))
			return rc;
		for (size_t i = 0; i < (size_t)o->w * o->h; i++)
			o->p[i] = imgset_clip(o->p[i] * 0.85 + 25);
		return LB_OK;
	case 9:
		if ((rc = imgset_crop(b, 0.05, 0.08, 0.10, 0.07, o)))
			return rc;
		imgset_caption(o, 0.10, true, "Dept of Radiology");
		return LB_OK;
	case 10:
		if ((rc = imgset_crop(b, 0.0, 0.10, 0.10, 0.0, &t)))
			return rc;
		rc = imgset_resize(&t, t.w * 3 / 4, t.h * 3 / 4, o);
		lb_free(t.p);
		return rc ? rc : imgset_jpeg(o, 50);
	default:
		if ((rc = imgset_copy(b, o)))
			return rc;
		imgset_watermark(o, 0.25, "SAMPLE");
		imgset_caption(o, 0.08, false, "anonymised for teaching");
		return imgset_jpeg(o, 60);
	}
}

#endif
