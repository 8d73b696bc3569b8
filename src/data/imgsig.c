/*
 * Crop-tolerant image signature: where a picture's detail is, at two scales, matched under the
 * crops and rescales a copy goes through. PDQ (pdq.c) compares whole pictures and fails once
 * 10-20 % of the borders are cut; this signature keeps where the detail is, so a copy is found
 * by searching which part of one picture the other one shows.
 *
 * Signature: luma averaged over a 128x128 grid of cells (the grid stretches with the picture,
 * so a rescale does not change it), kept as
 *   - a coarse map for alignment: at 64x64, 3x3 box minus two passes of an 11x11 box (a
 *     difference of blurs: brightness, contrast and fine noise such as JPEG blocking drop out),
 *     averaged to 32x32, normalised by its standard deviation, 4 bits a cell;
 *   - a fine map for verification: the 128x128 grid minus two passes of a 3x3 box, as -1/0/+1
 *     (0 where the detail is weaker than 0.4 x its local RMS or 0.6 grey levels);
 *   - the picture's width and height, whose ratio ties a crop's height to its width.
 *
 * Matching "B is a crop of A": B's maps are laid over the window [x0, x0+cw] x [y0, y0+ch] of
 * A (fractions of A's size; ch follows from cw and the two aspect ratios), A is sampled
 * bilinearly at B's cell centres, and the score is the Pearson correlation in B's frame per
 * tile (4x4 tiles on the coarse map, 8x8 on the fine one), averaged over the best 3/4 of the
 * tiles, so a caption band or a watermark over part of the copy costs little while two
 * patients' pictures of the same kind, alike in layout, still disagree on most tiles. Tiles
 * without detail on either side are left out. The window is searched coarse to fine: 16x16 of
 * B against 32x32 of A over cw in [0.6, 1] (steps of 0.025) and every position (steps of
 * 1/32); the best four refined on the 32x32 maps (steps of 1/128); pairs whose best coarse
 * score is under 0.3 stop there; the best two are verified on the fine maps (steps of 1/256).
 * The score of a pair is the larger of "B in A" and "A in B". Evaluation and threshold:
 * docs/data.md.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_dedup.h"

#define FG LB_IMGSIG_FINE   /* fine grid side */
#define CG LB_IMGSIG_COARSE /* coarse grid side */
#define NT 4                /* tiles per side for the robust score (coarse maps) */
#define NT_FINE 8           /* tiles per side at 64 cells and more */
#define MIN_CROP 0.6        /* smallest kept fraction of a side searched */
#define TOPK 4              /* coarse candidates refined */
#define COARSE_REJECT 0.3   /* coarse score below which a pair is not verified */
#define FINE_BYTES ((FG * FG + 4) / 5)

/* Box blur of radius r over an n x n float grid (n <= FG), borders replicated: a running sum
 * along rows, then along columns. tmp is scratch of n * n floats. */
static void box_blur(const float *in, float *out, int n, int r, float *tmp)
{
	float inv = 1.0f / (float)(2 * r + 1);
	for (int y = 0; y < n; y++) {
		const float *row = in + y * n;
		float s = 0;
		for (int k = -r; k <= r; k++)
			s += row[k < 0 ? 0 : k >= n ? n - 1 : k];
		for (int x = 0; x < n; x++) {
			tmp[y * n + x] = s * inv;
			int add = x + r + 1, sub = x - r;
			s += row[add >= n ? n - 1 : add] - row[sub < 0 ? 0 : sub];
		}
	}
	for (int x = 0; x < n; x++) {
		float s = 0;
		for (int k = -r; k <= r; k++)
			s += tmp[(k < 0 ? 0 : k >= n ? n - 1 : k) * n + x];
		for (int y = 0; y < n; y++) {
			out[y * n + x] = s * inv;
			int add = y + r + 1, sub = y - r;
			s += tmp[(add >= n ? n - 1 : add) * n + x] - tmp[(sub < 0 ? 0 : sub) * n + x];
		}
	}
}

static void halve(const float *in, int n, float *out)
{
	int m = n / 2;
	for (int i = 0; i < m; i++)
		for (int j = 0; j < m; j++)
			out[i * m + j] = (in[(2 * i) * n + 2 * j] + in[(2 * i) * n + 2 * j + 1] +
					  in[(2 * i + 1) * n + 2 * j] + in[(2 * i + 1) * n + 2 * j + 1]) /
					 4;
}

static double std_dev(const float *v, int n)
{
	double m = 0, s = 0;
	for (int i = 0; i < n; i++)
		m += v[i];
	m /= n;
	for (int i = 0; i < n; i++)
		s += (v[i] - m) * (v[i] - m);
	return sqrt(s / n);
}

int lb_imgsig_make(const uint8_t *luma, uint32_t w, uint32_t h, struct lb_imgsig *out)
{
	memset(out, 0, sizeof *out);
	if (w < 16 || h < 16)
		return LB_EINVALID;
	float *g = lb_malloc(6 * FG * FG * sizeof *g);
	uint32_t *cx = lb_malloc(w * sizeof *cx);
	double *sums = lb_malloc(FG * FG * sizeof *sums);
	if (!g || !cx || !sums) {
		lb_free(g);
		lb_free(cx);
		lb_free(sums);
		return LB_ENOMEM;
	}
	float *f1 = g + FG * FG, *f2 = f1 + FG * FG, *c64 = f2 + FG * FG, *c64b = c64 + FG * FG,
	      *tmp = c64b + FG * FG;
	if (w >= FG && h >= FG) {
		/* area average: each pixel goes to the cell holding it (one pass, integer sums) */
		uint32_t cnt_x[FG] = {0}, cnt_y[FG] = {0};
		for (uint32_t x = 0; x < w; x++) {
			cx[x] = (uint32_t)((uint64_t)x * FG / w);
			cnt_x[cx[x]]++;
		}
		for (uint32_t y = 0; y < h; y++)
			cnt_y[(uint64_t)y * FG / h]++;
		memset(sums, 0, FG * FG * sizeof *sums);
		for (uint32_t y = 0; y < h; y++) {
			uint32_t row[FG] = {0};
			const uint8_t *p = luma + (size_t)y * w;
			for (uint32_t x = 0; x < w; x++)
				row[cx[x]] += p[x];
			double *s = sums + (size_t)((uint64_t)y * FG / h) * FG;
			for (int j = 0; j < FG; j++)
				s[j] += row[j];
		}
		for (int i = 0; i < FG; i++)
			for (int j = 0; j < FG; j++)
				g[i * FG + j] =
					(float)(sums[i * FG + j] / ((double)cnt_x[j] * cnt_y[i]));
	} else {
		for (int i = 0; i < FG; i++)
			for (int j = 0; j < FG; j++)
				g[i * FG + j] = luma[(size_t)(((uint64_t)2 * i + 1) * h / (2 * FG)) * w +
						    (size_t)(((uint64_t)2 * j + 1) * w / (2 * FG))];
	}
	lb_free(cx);
	lb_free(sums);
	uint32_t m = w > h ? w : h;
	out->w = (uint16_t)(m > 65535 ? (uint64_t)w * 65535 / m : w);
	out->h = (uint16_t)(m > 65535 ? (uint64_t)h * 65535 / m : h);
	if (!out->w)
		out->w = 1;
	if (!out->h)
		out->h = 1;
	/* fine detail: the grid minus two passes of a 3x3 box, ternary with a dead zone */
	box_blur(g, f1, FG, 1, tmp);
	box_blur(f1, f2, FG, 1, tmp);
	for (int i = 0; i < FG * FG; i++)
		f1[i] = g[i] - f2[i];
	double sdf = std_dev(f1, FG * FG);
	/* coarse detail (alignment): at 64x64, 3x3 box minus two passes of an 11x11 box,
	 * averaged to 32x32, 4 bits */
	halve(g, FG, c64);
	box_blur(c64, f2, FG / 2, 1, tmp);
	box_blur(c64, c64b, FG / 2, 5, tmp);
	box_blur(c64b, c64, FG / 2, 5, tmp);
	for (int i = 0; i < FG * FG / 4; i++)
		f2[i] -= c64[i];
	halve(f2, FG / 2, c64b);
	double sdc = std_dev(c64b, CG * CG), mc = 0;
	for (int i = 0; i < CG * CG; i++)
		mc += c64b[i];
	mc /= CG * CG;
	if (sdf < LB_IMGSIG_MIN_DETAIL || sdc < LB_IMGSIG_MIN_DETAIL / 4) {
		out->flat = true;
		lb_free(g);
		return LB_OK;
	}
	for (int i = 0; i < CG * CG; i++) {
		long q = lround((c64b[i] - mc) / sdc * 2.5);
		out->coarse[i] = (int8_t)(q < -8 ? -8 : q > 7 ? 7 : q);
	}
	/* the dead zone follows the local detail (RMS over 17x17 cells), so weak texture counts
	 * where nothing stronger is near, but not below an absolute floor (flat background) */
	for (int i = 0; i < FG * FG; i++)
		f2[i] = f1[i] * f1[i];
	box_blur(f2, c64b, FG, 8, tmp);
	for (int i = 0; i < FG * FG; i++) {
		double t = 0.4 * sqrt(c64b[i]);
		if (t < 0.6)
			t = 0.6;
		out->fine[i] = (int8_t)(f1[i] > t ? 1 : f1[i] < -t ? -1 : 0);
	}
	lb_free(g);
	return LB_OK;
}

void lb_imgsig_encode(const struct lb_imgsig *s, uint8_t out[LB_IMGSIG_BYTES])
{
	out[0] = (uint8_t)(s->w & 0xff);
	out[1] = (uint8_t)(s->w >> 8);
	out[2] = (uint8_t)(s->h & 0xff);
	out[3] = (uint8_t)((s->h >> 8) & 0x7f) | (s->flat ? 0x80 : 0);
	uint8_t *p = out + 4;
	for (int i = 0; i < CG * CG / 2; i++)
		*p++ = (uint8_t)((s->coarse[2 * i] & 0xf) | (s->coarse[2 * i + 1] & 0xf) << 4);
	for (int i = 0; i < FINE_BYTES; i++) {
		unsigned v = 0;
		for (int k = 4; k >= 0; k--) {
			int at = 5 * i + k;
			v = v * 3 + (unsigned)(at < FG * FG ? s->fine[at] + 1 : 0);
		}
		*p++ = (uint8_t)v;
	}
}

int lb_imgsig_decode(const uint8_t *p, size_t n, struct lb_imgsig *s)
{
	memset(s, 0, sizeof *s);
	if (n != LB_IMGSIG_BYTES)
		return LB_EMALFORMED;
	s->w = (uint16_t)(p[0] | p[1] << 8);
	s->h = (uint16_t)(p[2] | (p[3] & 0x7f) << 8);
	s->flat = p[3] & 0x80;
	if (!s->w || !s->h)
		return LB_EMALFORMED;
	p += 4;
	for (int i = 0; i < CG * CG / 2; i++, p++) {
		int lo = *p & 0xf, hi = *p >> 4;
		s->coarse[2 * i] = (int8_t)(lo >= 8 ? lo - 16 : lo);
		s->coarse[2 * i + 1] = (int8_t)(hi >= 8 ? hi - 16 : hi);
	}
	for (int i = 0; i < FINE_BYTES; i++, p++) {
		unsigned v = *p;
		if (v >= 243)
			return LB_EMALFORMED;
		for (int k = 0; k < 5; k++) {
			int at = 5 * i + k;
			if (at < FG * FG)
				s->fine[at] = (int8_t)(v % 3) - 1;
			else if (v % 3)
				return LB_EMALFORMED; /* padding trits are zero */
			v /= 3;
		}
	}
	return LB_OK;
}

/* ---- matching --------------------------------------------------------------------------- */

/* One side of a comparison: the coarse map at 32x32 and 16x16, the fine map, as floats. */
struct pyr {
	float l16[16 * 16], l32[CG * CG], fine[FG * FG];
	double aspect; /* width / height */
};

static void pyr_make(const struct lb_imgsig *s, struct pyr *p)
{
	for (int i = 0; i < CG * CG; i++)
		p->l32[i] = s->coarse[i];
	halve(p->l32, CG, p->l16);
	for (int i = 0; i < FG * FG; i++)
		p->fine[i] = s->fine[i];
	p->aspect = (double)s->w / s->h;
}

/* Robust correlation of B (bn x bn) with A (an x an) sampled bilinearly over the window
 * (x0, y0, cw, ch) of A: Pearson r per tile of B (NT x NT tiles), mean of the best 3/4 of the
 * tiles; a tile without detail on either side counts as 0. */
static double window_score(const float *a, int an, const float *b, int bn, double x0, double y0,
			   double cw, double ch)
{
	int ix[FG], iy[FG];
	float fx[FG], fy[FG];
	for (int j = 0; j < bn; j++) {
		double u = (x0 + cw * (j + 0.5) / bn) * an - 0.5;
		u = u < 0 ? 0 : u > an - 1.001 ? an - 1.001 : u;
		ix[j] = (int)u;
		fx[j] = (float)(u - ix[j]);
		double v = (y0 + ch * (j + 0.5) / bn) * an - 0.5;
		v = v < 0 ? 0 : v > an - 1.001 ? an - 1.001 : v;
		iy[j] = (int)v;
		fy[j] = (float)(v - iy[j]);
	}
	int nt = bn >= 64 ? NT_FINE : NT;
	double sa[NT_FINE * NT_FINE] = {0}, saa[NT_FINE * NT_FINE] = {0}, sb[NT_FINE * NT_FINE] = {0},
	       sbb[NT_FINE * NT_FINE] = {0}, sab[NT_FINE * NT_FINE] = {0};
	int ts = bn / nt;
	for (int i = 0; i < bn; i++) {
		const float *r0 = a + iy[i] * an, *r1 = r0 + an;
		float wy = fy[i];
		const float *brow = b + i * bn;
		int trow = (i / ts) * nt;
		for (int tj = 0; tj < nt; tj++) {
			float s_a = 0, s_aa = 0, s_b = 0, s_bb = 0, s_ab = 0;
			for (int j = tj * ts; j < (tj + 1) * ts; j++) {
				int k = ix[j];
				float wx = fx[j];
				float top = r0[k] + (r0[k + 1] - r0[k]) * wx;
				float bot = r1[k] + (r1[k + 1] - r1[k]) * wx;
				float av = top + (bot - top) * wy, bv = brow[j];
				s_a += av;
				s_aa += av * av;
				s_b += bv;
				s_bb += bv * bv;
				s_ab += av * bv;
			}
			int t = trow + tj;
			sa[t] += s_a;
			saa[t] += s_aa;
			sb[t] += s_b;
			sbb[t] += s_bb;
			sab[t] += s_ab;
		}
	}
	/* tiles flat on both sides say nothing and are left out; a tile with detail on one side
	 * only disagrees (0) */
	double r[NT_FINE * NT_FINE], nper = (double)ts * ts;
	int n = 0;
	for (int t = 0; t < nt * nt; t++) {
		double va = saa[t] - sa[t] * sa[t] / nper, vb = sbb[t] - sb[t] * sb[t] / nper;
		double cov = sab[t] - sa[t] * sb[t] / nper;
		bool da = va > 0.02 * nper, db = vb > 0.02 * nper;
		if (da && db)
			r[n++] = cov / sqrt(va * vb);
		else if (da || db)
			r[n++] = 0;
	}
	if (n < nt * nt / 4)
		return 0; /* too little detail in common to decide */
	for (int i = 1; i < n; i++) /* sort, largest first */
		for (int k = i; k > 0 && r[k - 1] < r[k]; k--) {
			double t = r[k];
			r[k] = r[k - 1];
			r[k - 1] = t;
		}
	int m = (n * 3 + 2) / 4; /* the best 3/4: overlays spoil a few tiles of a true copy */
	if (m < 1)
		m = 1;
	double s = 0;
	for (int t = 0; t < m; t++)
		s += r[t];
	return s / m;
}

struct cand {
	double score, x0, y0, cw, ch;
};

static void keep_top(struct cand *top, int k, struct cand c)
{
	if (c.score <= top[k - 1].score)
		return;
	int i = k - 1;
	while (i > 0 && top[i - 1].score < c.score) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = c;
}

/* Best window around c: kept fraction cw +- dc_steps * dc, position +- dp_steps * dp. */
static struct cand refine(const float *a, int an, const float *b, int bn, struct cand c,
			  double ratio, int dc_steps, double dc, int dp_steps, double dp)
{
	struct cand best = c;
	best.score = -2;
	for (int k = -dc_steps; k <= dc_steps; k++) {
		double cw = c.cw + k * dc, ch = cw * ratio;
		if (cw > 1.0001 || ch > 1.0001 || cw < MIN_CROP - 0.05 || ch < MIN_CROP - 0.05)
			continue;
		for (int dy = -dp_steps; dy <= dp_steps; dy++)
			for (int dx = -dp_steps; dx <= dp_steps; dx++) {
				double x0 = c.x0 + dx * dp, y0 = c.y0 + dy * dp;
				if (x0 < -0.001 || y0 < -0.001 || x0 + cw > 1.001 || y0 + ch > 1.001)
					continue;
				double s = window_score(a, an, b, bn, x0, y0, cw, ch);
				if (s > best.score)
					best = (struct cand){s, x0, y0, cw, ch};
			}
	}
	return best;
}

/* Best window of A that B shows: coarse search on the coarse maps, then the fine maps. */
static double contain_score(const struct pyr *A, const struct pyr *B)
{
	struct cand top[TOPK];
	for (int i = 0; i < TOPK; i++)
		top[i] = (struct cand){-2, 0, 0, 1, 1};
	double ratio = A->aspect / B->aspect; /* ch = cw * ratio */
	for (int ci = 0; ci <= 16; ci++) {
		double cw = 1.0 - ci * 0.025, ch = cw * ratio;
		if (ch < MIN_CROP - 0.02 || ch > 1.02)
			continue;
		if (ch > 1)
			ch = 1;
		const double step = 1.0 / 32;
		for (double y0 = 0; y0 <= 1 - ch + 1e-9; y0 += step)
			for (double x0 = 0; x0 <= 1 - cw + 1e-9; x0 += step) {
				struct cand c = {window_score(A->l32, CG, B->l16, 16, x0, y0, cw, ch),
						 x0, y0, cw, ch};
				keep_top(top, TOPK, c);
			}
	}
	/* refine the coarse candidates at 32x32, verify the best two on the fine maps */
	struct cand mid[2] = {{-2, 0, 0, 1, 1}, {-2, 0, 0, 1, 1}};
	for (int k = 0; k < TOPK; k++)
		if (top[k].score >= -1)
			keep_top(mid, 2, refine(A->l32, CG, B->l32, CG, top[k], ratio, 1, 0.0125, 2,
						1.0 / 128));
	/* pictures that do not line up even coarsely are not the same (most pairs of a
	 * directory): no fine verification */
	if (mid[0].score < COARSE_REJECT)
		return mid[0].score;
	double best = -2;
	for (int k = 0; k < 2; k++) {
		if (mid[k].score < COARSE_REJECT)
			continue;
		/* position first, then the kept fraction at the best position */
		struct cand c = refine(A->fine, FG, B->fine, FG, mid[k], ratio, 0, 0, 1, 1.0 / 256);
		if (c.score >= -1)
			c = refine(A->fine, FG, B->fine, FG, c, ratio, 1, 0.005, 0, 0);
		if (c.score > best)
			best = c.score;
	}
	return best;
}

double lb_imgsig_score(const struct lb_imgsig *a, const struct lb_imgsig *b)
{
	if (a->flat || b->flat || !a->w || !a->h || !b->w || !b->h)
		return 0;
	struct pyr *p = lb_malloc(2 * sizeof *p);
	if (!p)
		return 0;
	pyr_make(a, &p[0]);
	pyr_make(b, &p[1]);
	double s1 = contain_score(&p[0], &p[1]), s2 = contain_score(&p[1], &p[0]);
	lb_free(p);
	double s = s1 > s2 ? s1 : s2;
	return s < 0 ? 0 : s;
}

bool lb_imgsig_match(const struct lb_imgsig *a, const struct lb_imgsig *b)
{
	return lb_imgsig_score(a, b) >= LB_IMGSIG_MATCH_SCORE;
}
