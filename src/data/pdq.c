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

/* Window of the centred moving average of size win at each of n positions: [lo, hi) and
 * 1/(hi-lo). The window of position i is [i+1-half, i+win-half+1) clipped to [0, n), with
 * half = (win+2)/2 (the Jarosz filter of the PDQ reference). */
static void box_plan(size_t n, size_t win, uint32_t *lo, uint32_t *hi, double *inv)
{
	size_t half = (win + 2) / 2;
	for (size_t i = 0; i < n; i++) {
		size_t a = i + 1 >= half ? i + 1 - half : 0, b = i + win - half + 1;
		if (b > n)
			b = n;
		lo[i] = (uint32_t)a;
		hi[i] = (uint32_t)b;
		inv[i] = 1.0 / (double)(b - a);
	}
}

/* The same for one image row of 8-bit luma, in integers where the windows are full: with s
 * the prefix sums of the row and t the prefix sums of s, the sum of the first-pass window
 * sums over a second-pass window is four look-ups in t. Windows that touch the row's ends
 * (smaller counts) are summed one by one. s and t are scratch of n + 2 entries. */
__attribute__((noinline)) static void box2_row(const uint8_t *v, size_t n, size_t win, const uint32_t *lo,
		     const uint32_t *hi, const double *inv, const uint32_t at[N64], uint32_t *s,
		     uint64_t *t, double out[N64])
{
	uint32_t acc = 0;
	uint64_t tacc = 0;
	s[0] = 0;
	t[0] = 0;
	for (size_t i = 0; i < n; i++) {
		tacc += acc; /* t[i + 1] = t[i] + s[i] */
		t[i + 1] = tacc;
		acc += v[i];
		s[i + 1] = acc;
	}
	t[n + 1] = tacc + acc;
	size_t half = (win + 2) / 2, d1 = win - half + 1, d2 = half - 1;
	double inv_win = 1.0 / (double)win;
	for (int k = 0; k < N64; k++) {
		uint32_t c = at[k], a = lo[c], b = hi[c];
		if (hi[a] - lo[a] == win && hi[b - 1] - lo[b - 1] == win) {
			/* sum over i in [a, b) of s[i + d1] - s[i - d2] */
			uint64_t sum = (t[b + d1] - t[a + d1]) - (t[b - d2] - t[a - d2]);
			out[k] = (double)sum * inv_win * inv[c];
			continue;
		}
		double sum = 0;
		for (uint32_t i = a; i < b; i++)
			sum += (double)(s[hi[i]] - s[lo[i]]) * inv[i];
		out[k] = sum * inv[c];
	}
}

/* Two passes of the moving average over n values v (spaced by stride), evaluated only at the
 * 64 sample positions at[]: prefix sums turn each window into one subtraction, and the second
 * pass needs the first one's values only through their prefix sums. s and b are scratch of
 * n + 1 doubles. */
static void box2_at(const double *v, size_t stride, size_t n, const uint32_t *lo,
		    const uint32_t *hi, const double *inv, const uint32_t at[N64], double *s,
		    double *b, double out[N64], size_t out_stride)
{
	s[0] = 0;
	for (size_t i = 0; i < n; i++)
		s[i + 1] = s[i] + v[i * stride];
	b[0] = 0;
	for (size_t i = 0; i < n; i++)
		b[i + 1] = b[i] + (s[hi[i]] - s[lo[i]]) * inv[i];
	for (int k = 0; k < N64; k++) {
		uint32_t i = at[k];
		out[k * out_stride] = (b[hi[i]] - b[lo[i]]) * inv[i];
	}
}

/* The k-th smallest of v[0..n) (v is reordered): Hoare's selection. */
static float select_kth(float *v, int n, int k)
{
	int lo = 0, hi = n - 1;
	while (lo < hi) {
		float pivot = v[(lo + hi) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				float t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

static void bits_of(const float c[N16][N16], uint8_t hash[32])
{
	float tmp[N16 * N16];
	memcpy(tmp, c, sizeof tmp);
	/* median of the 256 coefficients: mean of the 128th and 129th smallest */
	float m127 = select_kth(tmp, N16 * N16, 127), m128 = tmp[128];
	for (int i = 129; i < N16 * N16; i++)
		if (tmp[i] < m128)
			m128 = tmp[i];
	float median = (m127 + m128) / 2;
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
	/* Two passes of a box filter along x then y (they commute), sampled at the centres of a
	 * 64x64 grid. Only the sampled columns of the x pass are kept (h x 64 values), so the
	 * work is three sequential sweeps per image row and nothing of image size is stored. */
	size_t wx = (w + 2 * N64 - 1) / (2 * N64), wy = (h + 2 * N64 - 1) / (2 * N64);
	size_t m = w > h ? w : h;
	uint32_t *lox = lb_malloc(4 * m * sizeof *lox), *hix = lox + m, *loy = hix + m,
		 *hiy = loy + m;
	double *invx = lb_malloc((2 * m + 2 * (m + 1) + (size_t)h * N64) * sizeof *invx);
	if (!lox || !invx) {
		lb_free(lox);
		lb_free(invx);
		return LB_ENOMEM;
	}
	double *invy = invx + m, *sc = invy + m, *b = sc + m + 1,
	       *xs = b + m + 1; /* h rows x 64 sampled columns */
	uint32_t *s32 = lb_malloc((m + 2) * sizeof *s32);
	uint64_t *t64 = lb_malloc((m + 2) * sizeof *t64);
	if (!s32 || !t64) {
		lb_free(s32);
		lb_free(t64);
		lb_free(lox);
		lb_free(invx);
		return LB_ENOMEM;
	}
	uint32_t atx[N64], aty[N64];
	for (int k = 0; k < N64; k++) {
		atx[k] = (uint32_t)((k + 0.5) * w / N64);
		aty[k] = (uint32_t)((k + 0.5) * h / N64);
	}
	box_plan(w, wx < 1 ? 1 : wx, lox, hix, invx);
	box_plan(h, wy < 1 ? 1 : wy, loy, hiy, invy);
	for (uint32_t r = 0; r < h; r++)
		box2_row(luma + (size_t)r * w, w, wx < 1 ? 1 : wx, lox, hix, invx, atx, s32, t64,
			 xs + (size_t)r * N64);
	double d64d[N64][N64];
	for (int j = 0; j < N64; j++)
		box2_at(xs + j, N64, h, loy, hiy, invy, aty, sc, b, &d64d[0][j], N64);
	lb_free(s32);
	lb_free(t64);
	lb_free(lox);
	lb_free(invx);
	float d64[N64][N64];
	for (int i = 0; i < N64; i++)
		for (int j = 0; j < N64; j++)
			d64[i][j] = (float)d64d[i][j];
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
