/*
 * Crop-tolerant image signature (src/data/imgsig.c) and the image part of directory dedup:
 * precision and recall on the labelled evaluation set of tests/data/images/imgset.h (48
 * medical-style pictures of 6 kinds x 12 edits, hard negatives of the same kind; the held-out
 * half), the
 * encoding and its refusals, and `lb_dedup_dir` finding a cropped copy PDQ misses.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <png.h>

#include "leben/data_dedup.h"
#include "leben/data_extract.h"
#include "leben/data_hexa.h"
#include "leben/data_vault.h"
#include "../data/images/imgset.h"

#define NB 48 /* base pictures: 8 patients x 6 kinds */
/* The threshold was chosen on pictures 0..47 (make bench-data prints both sets); the goal is
 * asserted on pictures 48..95, patients the choice never saw. */
#define HELD_OUT 48

static bool is_crop(int v)
{
	return v <= 3 || v == 9 || v == 10;
}

/* The decision `data add` and `data dedup` make: PDQ within its distance over the 8
 * rotations/flips, or the signature at or above its score. */
static bool same(const struct lb_pdq pa[8], const struct lb_pdq *pb, const struct lb_imgsig *sa,
		 const struct lb_imgsig *sb, bool *by_pdq)
{
	*by_pdq = lb_pdq_min_distance(pa, pb[0].hash) <= LB_PDQ_MATCH_DISTANCE;
	return *by_pdq || lb_imgsig_score(sa, sb) >= LB_IMGSIG_MATCH_SCORE;
}

static void test_imgsig_eval(void **state)
{
	struct lb_imgsig *bs = lb_malloc(NB * sizeof *bs);
	struct lb_imgsig *vs = lb_malloc(NB * IMGSET_VARIANTS * sizeof *vs);
	struct lb_pdq(*bp)[8] = lb_malloc(NB * sizeof *bp);
	struct lb_pdq(*vp)[8] = lb_malloc(NB * IMGSET_VARIANTS * sizeof *vp);
	assert_true(bs && vs && bp && vp);
	for (int i = 0; i < NB; i++) {
		struct imgset_img b, o;
		assert_lb_ok(imgset_base(HELD_OUT + i, &b));
		assert_lb_ok(lb_imgsig_make(b.p, b.w, b.h, &bs[i]));
		assert_false(bs[i].flat);
		assert_lb_ok(lb_pdq_hash(b.p, b.w, b.h, bp[i]));
		for (int v = 0; v < IMGSET_VARIANTS; v++) {
			assert_lb_ok(imgset_variant(&b, v, &o));
			assert_lb_ok(lb_imgsig_make(o.p, o.w, o.h, &vs[i * IMGSET_VARIANTS + v]));
			assert_lb_ok(lb_pdq_hash(o.p, o.w, o.h, vp[i * IMGSET_VARIANTS + v]));
			lb_free(o.p);
		}
		lb_free(b.p);
	}
	/* positives: every edit of a picture against the picture */
	int tp = 0, np = 0, crop_tp = 0, ncrop = 0, pdq_crop = 0, per_v[IMGSET_VARIANTS] = {0};
	for (int i = 0; i < NB; i++)
		for (int v = 0; v < IMGSET_VARIANTS; v++) {
			bool by_pdq;
			bool m = same(bp[i], vp[i * IMGSET_VARIANTS + v], &bs[i],
				      &vs[i * IMGSET_VARIANTS + v], &by_pdq);
			np++;
			tp += m;
			per_v[v] += m;
			if (is_crop(v)) {
				ncrop++;
				crop_tp += m;
				pdq_crop += by_pdq;
			}
		}
	/* hard negatives: other patients of the same kind, as pictures and as edited copies */
	int fp = 0, nn = 0;
	for (int i = 0; i < NB; i++)
		for (int j = i + IMGSET_KINDS; j < NB; j += IMGSET_KINDS) {
			bool by_pdq;
			fp += same(bp[i], bp[j], &bs[i], &bs[j], &by_pdq);
			nn++;
		}
	for (int i = 0; i < NB; i++) {
		int j = (i + IMGSET_KINDS) % NB; /* the next patient of the same kind */
		for (int v = 0; v < IMGSET_VARIANTS; v++) {
			bool by_pdq;
			fp += same(bp[j], vp[i * IMGSET_VARIANTS + v], &bs[j],
				   &vs[i * IMGSET_VARIANTS + v], &by_pdq);
			nn++;
		}
	}
	double precision = tp + fp ? (double)tp / (tp + fp) : 0, recall = (double)tp / np;
	double crop_recall = (double)crop_tp / ncrop;
	print_message("# images (held out): %d positives, %d hard negatives; precision %.3f recall %.3f "
		      "(crops %.3f; PDQ alone on crops %.3f), false matches %d\n",
		      np, nn, precision, recall, crop_recall, (double)pdq_crop / ncrop, fp);
	for (int v = 0; v < IMGSET_VARIANTS; v++)
		print_message("#   %-30s recall %.3f\n", imgset_variant_name(v),
			      (double)per_v[v] / NB);
	assert_true(precision >= 0.95);
	assert_true(recall >= 0.90);
	assert_true(crop_recall >= 0.90);
	/* the set is worth measuring on: PDQ alone finds few of the crops */
	assert_true(pdq_crop * 2 < ncrop);
	lb_free(bs);
	lb_free(vs);
	lb_free(bp);
	lb_free(vp);
}

static void test_imgsig_encoding(void **state)
{
	struct imgset_img b;
	assert_lb_ok(imgset_base(3, &b));
	struct lb_imgsig s, d;
	assert_lb_ok(lb_imgsig_make(b.p, b.w, b.h, &s));
	assert_int_equal(s.w, b.w);
	assert_int_equal(s.h, b.h);
	uint8_t enc[LB_IMGSIG_BYTES];
	assert_int_equal(LB_IMGSIG_BYTES, 3793);
	lb_imgsig_encode(&s, enc);
	assert_lb_ok(lb_imgsig_decode(enc, sizeof enc, &d));
	assert_int_equal(d.w, s.w);
	assert_int_equal(d.h, s.h);
	assert_false(d.flat);
	assert_memory_equal(d.coarse, s.coarse, sizeof s.coarse);
	assert_memory_equal(d.fine, s.fine, sizeof s.fine);
	assert_true(lb_imgsig_score(&s, &d) > 0.99);
	assert_true(lb_imgsig_match(&s, &d));
	/* refusals: size, zero dimension, a byte that is not five base-3 digits, padding */
	assert_int_equal(lb_imgsig_decode(enc, sizeof enc - 1, &d), LB_EMALFORMED);
	uint8_t bad[LB_IMGSIG_BYTES];
	memcpy(bad, enc, sizeof bad);
	bad[0] = bad[1] = 0;
	assert_int_equal(lb_imgsig_decode(bad, sizeof bad, &d), LB_EMALFORMED);
	memcpy(bad, enc, sizeof bad);
	bad[4 + 512 + 10] = 243;
	assert_int_equal(lb_imgsig_decode(bad, sizeof bad, &d), LB_EMALFORMED);
	memcpy(bad, enc, sizeof bad);
	bad[LB_IMGSIG_BYTES - 1] = 81; /* 16384 = 5 x 3276 + 4: the fifth digit is padding */
	assert_int_equal(lb_imgsig_decode(bad, sizeof bad, &d), LB_EMALFORMED);
	/* flat and tiny pictures */
	memset(b.p, 90, (size_t)b.w * b.h);
	assert_lb_ok(lb_imgsig_make(b.p, b.w, b.h, &s));
	assert_true(s.flat);
	lb_imgsig_encode(&s, enc);
	assert_lb_ok(lb_imgsig_decode(enc, sizeof enc, &d));
	assert_true(d.flat);
	assert_false(lb_imgsig_match(&s, &s));
	assert_int_equal(lb_imgsig_make(b.p, 15, 200, &s), LB_EINVALID);
	/* a picture smaller than the grid is sampled, not refused */
	struct imgset_img small;
	assert_lb_ok(imgset_base(5, &small));
	struct imgset_img sm;
	assert_lb_ok(imgset_resize(&small, 100, 75, &sm));
	assert_lb_ok(lb_imgsig_make(sm.p, sm.w, sm.h, &s));
	assert_false(s.flat);
	lb_free(sm.p);
	lb_free(small.p);
	lb_free(b.p);
}

static void write_png(const char *path, const struct imgset_img *im)
{
	png_image p;
	memset(&p, 0, sizeof p);
	p.version = PNG_IMAGE_VERSION;
	p.width = im->w;
	p.height = im->h;
	p.format = PNG_FORMAT_GRAY;
	assert_true(png_image_write_to_file(&p, path, 0, im->p, 0, NULL));
}

/* lb_dedup_dir: a copy cropped by 20 % is grouped with its original (PDQ alone does not),
 * another patient's picture of the same kind is not. */
static void test_dedup_dir_crop(void **state)
{
	char dir[] = "/tmp/leben-imgsig-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	struct imgset_img b, c, other;
	assert_lb_ok(imgset_base(0, &b));
	assert_lb_ok(imgset_variant(&b, 1, &c)); /* 20 % cut from the right */
	assert_lb_ok(imgset_base(6, &other));    /* same kind, next patient */
	snprintf(path, sizeof path, "%s/a.png", dir);
	write_png(path, &b);
	snprintf(path, sizeof path, "%s/b-cropped.png", dir);
	write_png(path, &c);
	snprintf(path, sizeof path, "%s/c-other.png", dir);
	write_png(path, &other);
	json_t *out = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_dedup_dir(dir, NULL, &out, &em));
	json_t *groups = json_object_get(out, "near_image");
	assert_int_equal(json_array_size(groups), 1);
	json_t *g = json_array_get(groups, 0);
	assert_int_equal(json_array_size(json_object_get(g, "files")), 2);
	json_t *pair = json_array_get(json_object_get(g, "pairs"), 0);
	assert_string_equal(json_string_value(json_object_get(pair, "method")), "crop-tolerant");
	assert_true(json_real_value(json_object_get(pair, "score")) >= LB_IMGSIG_MATCH_SCORE);
	assert_true(json_integer_value(json_object_get(pair, "distance")) > LB_PDQ_MATCH_DISTANCE);
	assert_null(strstr(json_string_value(json_array_get(json_object_get(g, "files"), 0)),
			   "other"));
	assert_null(strstr(json_string_value(json_array_get(json_object_get(g, "files"), 1)),
			   "other"));
	/* the description `data add` publishes carries the signature, public, and it decodes
	 * to a signature that matches the cropped copy */
	struct lb_hexa h;
	snprintf(path, sizeof path, "%s/a.png", dir);
	assert_lb_ok(lb_data_describe(path, &h, &em));
	int sid = lb_hexa_field_id("raw.imgsig");
	assert_true(sid > 0 && (h.present >> sid & 1) && (h.public_mask >> sid & 1));
	assert_int_equal(h.v[sid].n, LB_IMGSIG_BYTES);
	struct lb_imgsig *ds = lb_malloc(2 * sizeof *ds);
	assert_lb_ok(lb_imgsig_decode(h.v[sid].b, h.v[sid].n, &ds[0]));
	assert_lb_ok(lb_imgsig_make(c.p, c.w, c.h, &ds[1]));
	assert_true(lb_imgsig_match(&ds[0], &ds[1]));
	lb_free(ds);
	lb_hexa_release(&h);
	/* with the signature's score set out of reach only PDQ is left: no group */
	json_decref(out);
	struct lb_dedup_options o = {0.8, LB_PDQ_MATCH_DISTANCE, 0, 1.01};
	assert_lb_ok(lb_dedup_dir(dir, &o, &out, &em));
	assert_int_equal(json_array_size(json_object_get(out, "near_image")), 0);
	json_decref(out);
	static const char *const names[] = {"a.png", "b-cropped.png", "c-other.png"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	lb_free(b.p);
	lb_free(c.p);
	lb_free(other.p);
}

/* Above 500 pictures dedup does not run the signature's search over every pair, and says so. */
static void test_dedup_dir_many(void **state)
{
	char dir[] = "/tmp/leben-imgsig-many-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	struct imgset_img im = {lb_malloc(24 * 24), 24, 24};
	imgset_seed(77);
	for (int i = 0; i < 501; i++) {
		for (int k = 0; k < 24 * 24; k++)
			im.p[k] = (uint8_t)(imgset_u() * 256);
		snprintf(path, sizeof path, "%s/n%03d.png", dir, i);
		write_png(path, &im);
	}
	json_t *out = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_dedup_dir(dir, NULL, &out, &em));
	size_t i;
	json_t *sk;
	bool said = false;
	json_array_foreach(json_object_get(out, "skipped"), i, sk)
		said |= strstr(json_string_value(json_object_get(sk, "reason")),
			       "501 pictures: more than 500") != NULL;
	assert_true(said);
	json_decref(out);
	for (int k = 0; k < 501; k++) {
		snprintf(path, sizeof path, "%s/n%03d.png", dir, k);
		unlink(path);
	}
	rmdir(dir);
	lb_free(im.p);
}

/* PNG chunk CRCs are checked with zlib's crc32: a good file reads, one flipped byte in the
 * pixel data is refused naming the chunk and its offset, a cut file is refused. */
static void test_png_crc(void **state)
{
	struct imgset_img b;
	assert_lb_ok(imgset_base(4, &b));
	png_image p;
	memset(&p, 0, sizeof p);
	p.version = PNG_IMAGE_VERSION;
	p.width = b.w;
	p.height = b.h;
	p.format = PNG_FORMAT_GRAY;
	png_alloc_size_t len = 0;
	assert_true(png_image_write_to_memory(&p, NULL, &len, 0, b.p, 0, NULL));
	uint8_t *png = lb_malloc(len);
	assert_true(png_image_write_to_memory(&p, png, &len, 0, b.p, 0, NULL));
	struct lb_image im;
	struct lb_errmsg em;
	assert_lb_ok(lb_image_read(png, len, true, &im, &em));
	assert_memory_equal(im.luma, b.p, (size_t)b.w * b.h);
	lb_image_release(&im);
	/* the first IDAT chunk: flip a byte of its data */
	size_t at = 8;
	while (at + 8 <= len && memcmp(png + at + 4, "IDAT", 4))
		at += 12 + ((size_t)png[at] << 24 | (size_t)png[at + 1] << 16 |
			    (size_t)png[at + 2] << 8 | png[at + 3]);
	assert_true(at + 20 < len);
	png[at + 8 + 5] ^= 0x40;
	assert_int_equal(lb_image_read(png, len, true, &im, &em), LB_EMALFORMED);
	char want[64];
	snprintf(want, sizeof want, "offset %zu: PNG chunk IDAT has a bad CRC", at);
	assert_non_null(strstr(em.text, want));
	png[at + 8 + 5] ^= 0x40;
	assert_int_equal(lb_image_read(png, len - 5, true, &im, &em), LB_ETRUNCATED);
	lb_free(png);
	lb_free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png_crc),
		cmocka_unit_test(test_imgsig_encoding),
		cmocka_unit_test(test_dedup_dir_crop),
		cmocka_unit_test(test_dedup_dir_many),
		cmocka_unit_test(test_imgsig_eval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
