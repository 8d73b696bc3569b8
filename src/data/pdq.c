/*
 * PDQ-style perceptual image hash. Following the published PDQ design: 8-bit luma ->
 * two passes of a box ("Jarosz") filter sized to the image -> decimation to 64x64 ->
 * 16x16 low-frequency DCT (without the DC row/column) -> one bit per coefficient, set when
 * the coefficient is above the median. Quality is the image's gradient energy on 0..100; flat
 * images hash badly and are flagged. The 8 rotations/flips of an image change the DCT only by
 * signs and transposition, so all 8 variant hashes come from one DCT.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_dedup.h"

#define N64 64
#define N16 16

static float dct[N16][N64];

static void dct_init(void)
{
	static int ready;
	if (ready)
		return;
	double scale = sqrt(2.0 / N64);
	for (int i = 0; i < N16; i++)
		for (int j = 0; j < N64; j++)
			dct[i][j] = (float)(scale * cos(M_PI / 2 / N64 * (i + 1) * (2 * j + 1)));
	ready = 1; /* benign race: same values from every thread */
}

/* Centred moving average of window size win over n values spaced by stride. */
static void box1d(const float *in, float *out, size_t n, size_t stride, size_t win)
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
static void box_cols(const float *in, float *out, uint32_t w, uint32_t h, size_t win,
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

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static void bits_of(const float c[N16][N16], uint8_t hash[32])
{
	float tmp[N16 * N16];
	memcpy(tmp, c, sizeof tmp);
	qsort(tmp, N16 * N16, sizeof tmp[0], cmp_float);
	float median = (tmp[127] + tmp[128]) / 2;
	memset(hash, 0, 32);
	for (int u = 0; u < N16; u++)
		for (int v = 0; v < N16; v++)
			if (c[u][v] > median) {
				int k = u * N16 + v;
				hash[k / 8] |= (uint8_t)(1u << (k % 8));
			}
}

int lb_pdq_hash(const uint8_t *luma, uint32_t w, uint32_t h, struct lb_pdq out[8])
{
	if (w < 5 || h < 5)
		return LB_EINVALID;
	dct_init();
	size_t n = (size_t)w * h;
	float *a = lb_malloc(n * sizeof *a), *b = lb_malloc(n * sizeof *b);
	if (!a || !b) {
		lb_free(a);
		lb_free(b);
		return LB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = luma[i];
	size_t wx = (w + 2 * N64 - 1) / (2 * N64), wy = (h + 2 * N64 - 1) / (2 * N64);
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
			box1d(a + (size_t)r * w, b + (size_t)r * w, w, 1, wx);
		box_cols(b, a, w, h, wy, colsum);
	}
	lb_free(colsum);
	float d64[N64][N64];
	for (int i = 0; i < N64; i++) {
		size_t r = (size_t)((i + 0.5) * h / N64);
		for (int j = 0; j < N64; j++) {
			size_t c = (size_t)((j + 0.5) * w / N64);
			d64[i][j] = a[r * w + c];
		}
	}
	lb_free(a);
	lb_free(b);
	/* Quality: mean absolute neighbour difference, as a percentage of the range, scaled. */
	long grad = 0;
	for (int i = 0; i < N64 - 1; i++)
		for (int j = 0; j < N64; j++) {
			grad += labs((long)((d64[i][j] - d64[i + 1][j]) * 100 / 255));
			grad += labs((long)((d64[j][i] - d64[j][i + 1]) * 100 / 255));
		}
	int quality = (int)(grad / 90);
	if (quality > 100)
		quality = 100;
	/* B = D * A * D^T */
	float t[N16][N64], c[N16][N16];
	for (int i = 0; i < N16; i++)
		for (int j = 0; j < N64; j++) {
			double s = 0;
			for (int k = 0; k < N64; k++)
				s += dct[i][k] * d64[k][j];
			t[i][j] = (float)s;
		}
	for (int i = 0; i < N16; i++)
		for (int j = 0; j < N16; j++) {
			double s = 0;
			for (int k = 0; k < N64; k++)
				s += t[i][k] * dct[j][k];
			c[i][j] = (float)s;
		}
	/* Variants: sign (-1)^(u+1) flips top-bottom, (-1)^(v+1) flips left-right, and the
	 * transpose swaps the axes. */
	for (int var = 0; var < 8; var++) {
		float x[N16][N16];
		for (int u = 0; u < N16; u++)
			for (int v = 0; v < N16; v++) {
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
		bits_of((const float(*)[N16])x, out[var].hash);
		out[var].quality = quality;
	}
	return LB_OK;
}

int lb_pdq_distance(const uint8_t a[32], const uint8_t b[32])
{
	int d = 0;
	for (int i = 0; i < 32; i++)
		d += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

int lb_pdq_min_distance(const struct lb_pdq a[8], const uint8_t b[32])
{
	int best = 256;
	for (int i = 0; i < 8; i++) {
		int d = lb_pdq_distance(a[i].hash, b);
		if (d < best)
			best = d;
	}
	return best;
}
