/*
 * The straightforward PDQ-style hash (full-resolution float box filters, qsort median), kept
 * as an independent reference: the unit test checks that src/data/pdq.c gives the same hashes,
 * and make bench-data measures both in one run. Header-only (static functions).
 */
#ifndef LEBEN_TEST_PDQ_REF_H
#define LEBEN_TEST_PDQ_REF_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/data_dedup.h"

#define REF_N64 64
#define REF_N16 16

static float ref_dct[REF_N16][REF_N64];

static void ref_dct_init(void)
{
	static int ready;
	if (ready)
		return;
	double scale = sqrt(2.0 / REF_N64);
	for (int i = 0; i < REF_N16; i++)
		for (int j = 0; j < REF_N64; j++)
			ref_dct[i][j] = (float)(scale * cos(M_PI / 2 / REF_N64 * (i + 1) * (2 * j + 1)));
	ready = 1; /* benign race: same values from every thread */
}

/* Centred moving average of window size win over n values spaced by stride. */
static void ref_box1d(const float *in, float *out, size_t n, size_t stride, size_t win)
{
	size_t half = (win + 2) / 2;
	float sum = 0, inv = 1;
	size_t lo = 0, hi = 0, cnt = 0; /* current window [lo, hi) */
	for (size_t i = 0; i < n; i++) {
		size_t want_lo = i + 1 >= half ? i + 1 - half : 0;
		size_t want_hi = i + win - half + 1;
		if (want_hi > n)
			want_hi = n;
		while (hi < want_hi)
			sum += in[(hi++) * stride];
		while (lo < want_lo)
			sum -= in[(lo++) * stride];
		if (hi - lo != cnt) {
			cnt = hi - lo;
			inv = 1.0f / (float)cnt;
		}
		out[i * stride] = sum * inv;
	}
}

/* The same moving average down every column at once, row by row (cache friendly). */
static void ref_box_cols(const float *in, float *out, uint32_t w, uint32_t h, size_t win,
		     float *sum)
{
	size_t half = (win + 2) / 2, lo = 0, hi = 0;
	memset(sum, 0, w * sizeof *sum);
	for (size_t i = 0; i < h; i++) {
		size_t want_lo = i + 1 >= half ? i + 1 - half : 0;
		size_t want_hi = i + win - half + 1;
		if (want_hi > h)
			want_hi = h;
		for (; hi < want_hi; hi++)
			for (uint32_t c = 0; c < w; c++)
				sum[c] += in[hi * w + c];
		for (; lo < want_lo; lo++)
			for (uint32_t c = 0; c < w; c++)
				sum[c] -= in[lo * w + c];
		float inv = 1.0f / (float)(hi - lo);
		for (uint32_t c = 0; c < w; c++)
			out[i * w + c] = sum[c] * inv;
	}
}

static int ref_cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static void ref_bits_of(const float c[REF_N16][REF_N16], uint8_t hash[32])
{
	float tmp[REF_N16 * REF_N16];
	memcpy(tmp, c, sizeof tmp);
	qsort(tmp, REF_N16 * REF_N16, sizeof tmp[0], ref_cmp_float);
	float median = (tmp[127] + tmp[128]) / 2;
	memset(hash, 0, 32);
	for (int u = 0; u < REF_N16; u++)
		for (int v = 0; v < REF_N16; v++)
			if (c[u][v] > median) {
				int k = u * REF_N16 + v;
				hash[k / 8] |= (uint8_t)(1u << (k % 8));
			}
}

static int ref_pdq_hash(const uint8_t *luma, uint32_t w, uint32_t h, struct lb_pdq out[8])
{
	if (w < 5 || h < 5)
		return LB_EINVALID;
	ref_dct_init();
	size_t n = (size_t)w * h;
	float *a = lb_malloc(n * sizeof *a), *b = lb_malloc(n * sizeof *b);
	if (!a || !b) {
		lb_free(a);
		lb_free(b);
		return LB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = luma[i];
	size_t wx = (w + 2 * REF_N64 - 1) / (2 * REF_N64), wy = (h + 2 * REF_N64 - 1) / (2 * REF_N64);
	if (wx < 1)
		wx = 1;
	if (wy < 1)
		wy = 1;
	float *colsum = lb_malloc(w * sizeof *colsum);
	if (!colsum) {
		lb_free(a);
		lb_free(b);
		return LB_ENOMEM;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t r = 0; r < h; r++)
			ref_box1d(a + (size_t)r * w, b + (size_t)r * w, w, 1, wx);
		ref_box_cols(b, a, w, h, wy, colsum);
	}
	lb_free(colsum);
	float d64[REF_N64][REF_N64];
	for (int i = 0; i < REF_N64; i++) {
		size_t r = (size_t)((i + 0.5) * h / REF_N64);
		for (int j = 0; j < REF_N64; j++) {
			size_t c = (size_t)((j + 0.5) * w / REF_N64);
			d64[i][j] = a[r * w + c];
		}
	}
	lb_free(a);
	lb_free(b);
	/* Quality: mean absolute neighbour difference, as a percentage of the range, scaled. */
	long grad = 0;
	for (int i = 0; i < REF_N64 - 1; i++)
		for (int j = 0; j < REF_N64; j++) {
			grad += labs((long)((d64[i][j] - d64[i + 1][j]) * 100 / 255));
			grad += labs((long)((d64[j][i] - d64[j][i + 1]) * 100 / 255));
		}
	int quality = (int)(grad / 90);
	if (quality > 100)
		quality = 100;
	/* B = D * A * D^T */
	float t[REF_N16][REF_N64], c[REF_N16][REF_N16];
	for (int i = 0; i < REF_N16; i++)
		for (int j = 0; j < REF_N64; j++) {
			double s = 0;
			for (int k = 0; k < REF_N64; k++)
				s += ref_dct[i][k] * d64[k][j];
			t[i][j] = (float)s;
		}
	for (int i = 0; i < REF_N16; i++)
		for (int j = 0; j < REF_N16; j++) {
			double s = 0;
			for (int k = 0; k < REF_N64; k++)
				s += t[i][k] * ref_dct[j][k];
			c[i][j] = (float)s;
		}
	/* Variants: sign (-1)^(u+1) flips top-bottom, (-1)^(v+1) flips left-right, and the
	 * transpose swaps the axes. */
	for (int var = 0; var < 8; var++) {
		float x[REF_N16][REF_N16];
		for (int u = 0; u < REF_N16; u++)
			for (int v = 0; v < REF_N16; v++) {
				float su = (u % 2 == 0) ? -1.0f : 1.0f; /* (-1)^(u+1) */
				float sv = (v % 2 == 0) ? -1.0f : 1.0f;
				switch (var) {
				case 0: x[u][v] = c[u][v]; break;
				case 1: x[u][v] = sv * c[v][u]; break;      /* rotate 90 clockwise */
				case 2: x[u][v] = su * sv * c[u][v]; break; /* rotate 180 */
				case 3: x[u][v] = su * c[v][u]; break;      /* rotate 270 */
				case 4: x[u][v] = sv * c[u][v]; break;      /* flip left-right */
				case 5: x[u][v] = su * c[u][v]; break;      /* flip top-bottom */
				case 6: x[u][v] = c[v][u]; break;           /* transpose */
				default: x[u][v] = su * sv * c[v][u]; break; /* anti-transpose */
				}
			}
		ref_bits_of((const float(*)[REF_N16])x, out[var].hash);
		out[var].quality = quality;
	}
	return LB_OK;
}

#endif
