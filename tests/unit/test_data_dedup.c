/* Unit tests for dedup: LSH band/row choice against datasketch's published splits, text
 * normalisation, MinHash accuracy against exact Jaccard, LSH recall on synthetic notes, and
 * the PDQ-style hash on a Debian image under rotation, mirroring, resizing, JPEG re-encoding,
 * watermarking and captioning, against unrelated images. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

#include "data/data_int.h"
#include "leben/data_dedup.h"
#include "leben/data_extract.h"
#include "pdq_ref.h"

static void test_lsh_params(void **state)
{
	static const struct {
		double t;
		int b, r;
	} want[] = {{0.5, 25, 5}, {0.7, 14, 9}, {0.8, 9, 13}, {0.9, 5, 25}};
	for (size_t i = 0; i < 4; i++) {
		int b, r;
		lb_lsh_params(want[i].t, 128, 0.5, 0.5, &b, &r);
		assert_int_equal(b, want[i].b);
		assert_int_equal(r, want[i].r);
	}
}

static void test_normalise(void **state)
{
	struct lb_buf b;
	lb_buf_init(&b, 4096);
	const char *in = "BP 142/88 mmHg; took 5mg Amlodipine (10 milligrams daily)!";
	assert_lb_ok(lb_text_normalise(in, strlen(in), &b));
	assert_string_equal((char *)b.data, "bp 0 0 mmhg took 0 mg amlodipine 0 mg daily");
	lb_buf_release(&b);
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void make_note(char *out, size_t cap, int words, int vocab_base)
{
	size_t o = 0;
	for (int i = 0; i < words && o + 16 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%sw%u", i ? " " : "",
				      (unsigned)(vocab_base + rnd(500)));
}

/* Exact Jaccard of 3-word shingle sets of two normalised texts (computed here, naively). */
static double exact_jaccard(const char *a, const char *b)
{
	char *sa[512], *sb[512];
	size_t na = 0, nb = 0;
	const char *src[2] = {a, b};
	char **dst[2] = {sa, sb};
	size_t *cnt[2] = {&na, &nb};
	for (int t = 0; t < 2; t++) {
		char *words[512];
		size_t nw = 0;
		char *copy = strdup(src[t]), *save = NULL;
		for (char *w = strtok_r(copy, " ", &save); w && nw < 512; w = strtok_r(NULL, " ", &save))
			words[nw++] = w;
		for (size_t i = 0; i + 2 < nw; i++) {
			char buf[256];
			snprintf(buf, sizeof buf, "%s %s %s", words[i], words[i + 1], words[i + 2]);
			bool dup = false;
			for (size_t k = 0; k < *cnt[t] && !dup; k++)
				dup = !strcmp(dst[t][k], buf);
			if (!dup)
				dst[t][(*cnt[t])++] = strdup(buf);
		}
		free(copy);
	}
	size_t inter = 0;
	for (size_t i = 0; i < na; i++)
		for (size_t k = 0; k < nb; k++)
			if (!strcmp(sa[i], sb[k])) {
				inter++;
				break;
			}
	double j = (double)inter / (double)(na + nb - inter);
	for (size_t i = 0; i < na; i++)
		free(sa[i]);
	for (size_t i = 0; i < nb; i++)
		free(sb[i]);
	return j;
}

static void test_minhash_accuracy(void **state)
{
	double sum_err = 0;
	for (int t = 0; t < 40; t++) {
		char a[4096], b[4096];
		make_note(a, sizeof a, 120, 0);
		/* b: a with every k-th word replaced */
		strcpy(b, a);
		int k = 2 + t % 12;
		char out[4096];
		size_t o = 0;
		int idx = 0;
		char *save = NULL;
		for (char *w = strtok_r(b, " ", &save); w; w = strtok_r(NULL, " ", &save), idx++)
			o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", idx ? " " : "",
					      idx % k == 0 ? "zz" : w);
		struct lb_minhash ma, mb;
		assert_lb_ok(lb_minhash_text(a, strlen(a), 3, &ma));
		assert_lb_ok(lb_minhash_text(out, strlen(out), 3, &mb));
		double est = lb_minhash_similarity(&ma, &mb), ex = exact_jaccard(a, out);
		double err = est > ex ? est - ex : ex - est;
		if (err > 0.15)
			fail_msg("pair %d: estimate %.3f exact %.3f", t, est, ex);
		sum_err += err;
	}
	assert_true(sum_err / 40 < 0.05);
	/* Identical after normalisation: similarity 1. */
	struct lb_minhash x, y;
	const char *p = "Patient took 5 mg amlodipine, BP 142/88.";
	const char *q = "patient TOOK 10 milligrams Amlodipine -- bp 150/90";
	assert_lb_ok(lb_minhash_text(p, strlen(p), 3, &x));
	assert_lb_ok(lb_minhash_text(q, strlen(q), 3, &y));
	assert_true(lb_minhash_similarity(&x, &y) == 1.0);
}

static void test_lsh_recall(void **state)
{
	enum { NOTES = 300, DUPS = 30 };
	static char notes[NOTES][2048];
	static struct lb_minhash sig[NOTES];
	struct lb_lsh *l;
	assert_lb_ok(lb_lsh_new(0.8, &l));
	int b, r;
	lb_lsh_shape(l, &b, &r);
	assert_int_equal(b * r, 117);
	for (int i = 0; i < NOTES; i++) {
		make_note(notes[i], sizeof notes[i], 60, i * 7);
		assert_lb_ok(lb_minhash_text(notes[i], strlen(notes[i]), 3, &sig[i]));
		assert_lb_ok(lb_lsh_insert(l, (uint32_t)i, &sig[i]));
	}
	int found = 0;
	size_t false_cands = 0;
	for (int d = 0; d < DUPS; d++) {
		/* one word changed, case and punctuation changed */
		char dup[2048];
		memcpy(dup, notes[d * 9], sizeof dup);
		for (char *c = dup; *c; c++)
			if (*c == 'w' && rnd(3) == 0)
				*c = 'W';
		char *mid = strchr(dup + strlen(dup) / 2, ' ');
		if (mid)
			mid[1] = 'q';
		strcat(dup, "!!");
		struct lb_minhash s;
		assert_lb_ok(lb_minhash_text(dup, strlen(dup), 3, &s));
		uint32_t *ids;
		size_t n;
		assert_lb_ok(lb_lsh_query(l, &s, &ids, &n));
		for (size_t k = 0; k < n; k++) {
			if (ids[k] == (uint32_t)(d * 9))
				found++;
			else
				false_cands++;
		}
		lb_free(ids);
	}
	assert_true(found >= DUPS - 1);
	assert_true(false_cands <= 3);
	lb_lsh_free(l);
}

/* ---- images ---- */

static uint8_t *load_luma(const char *path, uint32_t *w, uint32_t *h)
{
	uint8_t *d;
	size_t n;
	struct lb_errmsg em;
	struct lb_image im;
	assert_lb_ok(lb_file_read(path, 1 << 26, &d, &n, &em));
	assert_lb_ok(lb_image_read(d, n, true, &im, &em));
	lb_free(d);
	*w = im.width;
	*h = im.height;
	return im.luma;
}

static uint8_t *jpeg_roundtrip(const uint8_t *luma, uint32_t w, uint32_t h, int quality)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	unsigned char *buf = NULL;
	unsigned long len = 0;
	jpeg_mem_dest(&c, &buf, &len);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < h) {
		JSAMPROW row = (JSAMPROW)(luma + (size_t)c.next_scanline * w);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	struct lb_image im;
	struct lb_errmsg em;
	assert_lb_ok(lb_image_read(buf, len, true, &im, &em));
	free(buf);
	return im.luma;
}

static int dist_to(const struct lb_pdq base[8], const uint8_t *luma, uint32_t w, uint32_t h)
{
	struct lb_pdq q[8];
	assert_lb_ok(lb_pdq_hash(luma, w, h, q));
	return lb_pdq_min_distance(base, q[0].hash);
}

#define IMG "/usr/share/doc/etcd-server/op-guide/etcd-sample-grafana.png"

static void test_pdq_transforms(void **state)
{
	uint32_t w, h;
	uint8_t *l = load_luma(IMG, &w, &h);
	struct lb_pdq base[8];
	assert_lb_ok(lb_pdq_hash(l, w, h, base));
	assert_true(base[0].quality >= LB_PDQ_MIN_QUALITY);
	size_t n = (size_t)w * h;
	uint8_t *t = lb_malloc(n);
	/* rotations and mirrors: the matching variant is exact */
	for (uint32_t r = 0; r < w; r++)
		for (uint32_t c = 0; c < h; c++)
			t[r * h + c] = l[(h - 1 - c) * w + r]; /* rotate 90 clockwise: h x w -> w rows */
	struct lb_pdq q[8];
	assert_lb_ok(lb_pdq_hash(t, h, w, q));
	assert_int_equal(lb_pdq_distance(base[1].hash, q[0].hash), 0);
	for (uint32_t r = 0; r < h; r++)
		for (uint32_t c = 0; c < w; c++)
			t[r * w + c] = l[r * w + (w - 1 - c)];
	assert_lb_ok(lb_pdq_hash(t, w, h, q));
	assert_int_equal(lb_pdq_distance(base[4].hash, q[0].hash), 0);
	for (uint32_t r = 0; r < h; r++)
		for (uint32_t c = 0; c < w; c++)
			t[r * w + c] = l[(h - 1 - r) * w + c];
	assert_int_equal(dist_to(base, t, w, h), 0);
	/* resized to 40% (box average) */
	uint32_t w2 = w * 2 / 5, h2 = h * 2 / 5;
	for (uint32_t r = 0; r < h2; r++)
		for (uint32_t c = 0; c < w2; c++)
			t[r * w2 + c] = l[(size_t)(r * 5 / 2) * w + c * 5 / 2];
	int d_resize = dist_to(base, t, w2, h2);
	assert_true(d_resize <= LB_PDQ_MATCH_DISTANCE);
	/* re-encoded as JPEG quality 25 */
	uint8_t *j = jpeg_roundtrip(l, w, h, 25);
	assert_true(dist_to(base, j, w, h) <= LB_PDQ_MATCH_DISTANCE);
	lb_free(j);
	/* watermark: a 30%-opaque white logo of text-like strokes in a corner (w/6 x h/10,
	 * 1.7% of the image) */
	memcpy(t, l, n);
	for (uint32_t r = h / 20; r < h / 20 + h / 10; r++)
		for (uint32_t c = w - w / 5; c < w - w / 30; c++)
			if ((c / 3) % 3 == 0 || (r / 3) % 5 == 0)
				t[r * w + c] = (uint8_t)(t[r * w + c] * 0.7 + 255 * 0.3);
	int d_wm = dist_to(base, t, w, h);
	print_message("# distances: resize %d, watermark %d\n", d_resize, d_wm);
	if (d_wm > LB_PDQ_MATCH_DISTANCE)
		fail_msg("watermark: distance %d", d_wm);
	/* caption: a white band with dark text-like marks over the bottom 10% */
	memcpy(t, l, n);
	for (uint32_t r = h - h / 10; r < h; r++)
		for (uint32_t c = 0; c < w; c++)
			t[r * w + c] = ((c / 3) % 4 == 0 && r % 7 < 4) ? 0 : 255;
	assert_true(dist_to(base, t, w, h) <= LB_PDQ_MATCH_DISTANCE);
	/* a flat image has low quality */
	memset(t, 128, n);
	assert_lb_ok(lb_pdq_hash(t, w, h, q));
	assert_true(q[0].quality < LB_PDQ_MIN_QUALITY);
	assert_int_equal(lb_pdq_hash(t, 4, 4, q), LB_EINVALID);
	lb_free(t);
	lb_free(l);
}

static void test_pdq_unrelated(void **state)
{
	static const char *const figs[] = {
		IMG,
		"/usr/share/doc/etcd-server/learning/img/client-balancer-figure-01.png",
		"/usr/share/doc/etcd-server/learning/img/client-balancer-figure-04.png",
		"/usr/share/doc/etcd-server/learning/img/server-learner-figure-01.png",
		"/usr/share/doc/etcd-server/learning/img/server-learner-figure-07.png",
		"/usr/share/doc/etcd-server/learning/img/server-learner-figure-12.png",
		"/usr/share/doc/nodejs/full-white-stripe.jpg",
		"/usr/share/doc/nodejs/thin-white-stripe.jpg",
	};
	enum { N = sizeof figs / sizeof figs[0] };
	struct lb_pdq p[N][8];
	for (size_t i = 0; i < N; i++) {
		uint32_t w, h;
		uint8_t *l = load_luma(figs[i], &w, &h);
		assert_lb_ok(lb_pdq_hash(l, w, h, p[i]));
		lb_free(l);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t k = i + 1; k < N; k++)
			if (lb_pdq_min_distance(p[i], p[k][0].hash) <= LB_PDQ_MATCH_DISTANCE)
				fail_msg("%s and %s match", figs[i], figs[k]);
}

/* The fast hash (prefix sums, filtering only at the 64x64 sample points, selection median)
 * against the straightforward one (full-resolution float box filters, sorted median) on real
 * images of several sizes and on odd sizes: same quality, same 8 hashes (up to a bit or two
 * where float rounding moves a coefficient across the median). */
static void test_pdq_matches_reference(void **state)
{
	static const char *const figs[] = {
		IMG,
		"/usr/share/doc/etcd-server/learning/img/client-balancer-figure-01.png",
		"/usr/share/doc/etcd-server/learning/img/server-learner-figure-07.png",
		"/usr/share/doc/nodejs/full-white-stripe.jpg",
	};
	int worst = 0, exact = 0, total = 0;
	for (size_t i = 0; i < sizeof figs / sizeof figs[0] + 3; i++) {
		uint32_t w, h;
		uint8_t *l;
		if (i < sizeof figs / sizeof figs[0]) {
			l = load_luma(figs[i], &w, &h);
		} else {
			/* synthetic odd sizes: tiny, narrow and wide */
			static const uint32_t dims[3][2] = {{5, 7}, {31, 257}, {1031, 65}};
			w = dims[i - 4][0];
			h = dims[i - 4][1];
			l = lb_malloc((size_t)w * h);
			for (size_t k = 0; k < (size_t)w * h; k++)
				l[k] = (uint8_t)((k * 2654435761u) >> 13);
		}
		struct lb_pdq a[8], b[8];
		assert_lb_ok(lb_pdq_hash(l, w, h, a));
		assert_lb_ok(ref_pdq_hash(l, w, h, b));
		assert_true(abs(a[0].quality - b[0].quality) <= 1);
		for (int v = 0; v < 8; v++) {
			int d = lb_pdq_distance(a[v].hash, b[v].hash);
			worst = d > worst ? d : worst;
			exact += d == 0;
			total++;
		}
		lb_free(l);
	}
	print_message("pdq vs reference: %d of %d hashes identical, worst distance %d\n", exact,
		      total, worst);
	assert_true(worst <= 2);
	assert_true(exact * 10 >= total * 9);
}

static void test_digests(void **state)
{
	uint8_t md5[16], b2[32];
	char hex[65];
	lb_digest_md5("abc", 3, md5);
	lb_hex_encode(hex, md5, 16);
	assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72"); /* RFC 1321 */
	lb_digest_blake2b("abc", 3, b2);
	lb_hex_encode(hex, b2, 32);
	/* BLAKE2b-256("abc"), as python3 hashlib.blake2b(b"abc", digest_size=32) prints */
	assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lsh_params),     cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_minhash_accuracy), cmocka_unit_test(test_lsh_recall),
		cmocka_unit_test(test_pdq_transforms), cmocka_unit_test(test_pdq_unrelated),
		cmocka_unit_test(test_pdq_matches_reference),
		cmocka_unit_test(test_digests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
