/*
 * Near-duplicate text: normalisation, MinHash signatures and the LSH banding index. The
 * permutations are universal hashes (a*x + b) mod (2^61 - 1) with a, b from a fixed seed, as
 * in datasketch; band/row selection integrates the LSH S-curve numerically and keeps the
 * split with the smallest weighted false-positive + false-negative area.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_dedup.h"

#define MERSENNE61 ((1ull << 61) - 1)

__extension__ typedef unsigned __int128 u128;

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t perm_a[LB_MINHASH_K], perm_b[LB_MINHASH_K];

static void perms_init(void)
{
	static int ready;
	if (ready)
		return;
	uint64_t s = 0x4C4542454E2D4D48ull; /* fixed seed: signatures are comparable anywhere */
	for (int i = 0; i < LB_MINHASH_K; i++) {
		perm_a[i] = splitmix64(&s) % (MERSENNE61 - 1) + 1;
		perm_b[i] = splitmix64(&s) % MERSENNE61;
	}
	ready = 1; /* benign race: every thread computes the same values */
}

static uint64_t mod61(u128 x)
{
	uint64_t lo = (uint64_t)(x & MERSENNE61), hi = (uint64_t)(x >> 61);
	uint64_t r = lo + hi;
	r = (r & MERSENNE61) + (r >> 61);
	return r >= MERSENNE61 ? r - MERSENNE61 : r;
}

static const struct {
	const char *from, *to;
} units[] = {{"milligram", "mg"},   {"milligrams", "mg"},  {"mgs", "mg"},
	     {"gram", "g"},         {"grams", "g"},        {"gr", "g"},
	     {"kilogram", "kg"},    {"kilograms", "kg"},   {"kgs", "kg"},
	     {"microgram", "mcg"},  {"micrograms", "mcg"}, {"ug", "mcg"},
	     {"millilitre", "ml"},  {"milliliter", "ml"},  {"millilitres", "ml"},
	     {"milliliters", "ml"}, {"litre", "l"},        {"liter", "l"},
	     {"litres", "l"},       {"liters", "l"},       {"centimetre", "cm"},
	     {"centimeter", "cm"},  {"centimetres", "cm"}, {"centimeters", "cm"},
	     {"millimetre", "mm"},  {"millimeter", "mm"},  {"millimetres", "mm"},
	     {"millimeters", "mm"}, {"mmhg", "mmhg"},      {"bpm", "bpm"},
	     {"hours", "h"},        {"hour", "h"},         {"hrs", "h"},
	     {"hr", "h"},           {"minutes", "min"},    {"mins", "min"},
	     {"minute", "min"},     {"days", "d"},         {"day", "d"},
	     {"units", "u"},        {"unit", "u"},         {"iu", "u"},
	     {"percent", "%"},      {"pct", "%"}};

int lb_text_normalise(const char *text, size_t len, struct lb_buf *out)
{
	char w[64];
	size_t pos = 0;
	bool first = true;
	int rc = LB_OK;
	while (!rc && pos < len) {
		size_t n = data_next_word(text, len, &pos, w, sizeof w);
		if (!n)
			continue;
		const char *word = w;
		bool digit = isdigit((unsigned char)w[0]);
		if (digit) {
			/* a number, maybe glued to its unit ("5mg"): number -> 0, keep the unit */
			size_t k = 0;
			while (w[k] && (isdigit((unsigned char)w[k])))
				k++;
			rc = lb_buf_adds(out, first ? "0" : " 0");
			first = false;
			if (!w[k] || rc)
				continue;
			word = w + k;
		}
		for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
			if (!strcmp(word, units[u].from)) {
				word = units[u].to;
				break;
			}
		if (!first)
			rc = lb_buf_addc(out, ' ');
		if (!rc)
			rc = lb_buf_adds(out, word);
		first = false;
	}
	return rc;
}

int lb_minhash_text(const char *text, size_t len, int shingle, struct lb_minhash *out)
{
	perms_init();
	if (shingle < 1)
		shingle = 1;
	struct lb_buf nb;
	lb_buf_init(&nb, len * 2 + 64);
	int rc = lb_text_normalise(text, len, &nb);
	if (rc) {
		lb_buf_release(&nb);
		return rc;
	}
	for (int i = 0; i < LB_MINHASH_K; i++)
		out->v[i] = UINT32_MAX;
	const char *s = nb.data ? (const char *)nb.data : "";
	size_t n = nb.len;
	/* word starts */
	size_t cap = 64, nw = 0;
	size_t *starts = lb_malloc(cap * sizeof *starts);
	if (!starts) {
		lb_buf_release(&nb);
		return LB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (i == 0 || s[i - 1] == ' ') {
			if (nw == cap) {
				size_t *ns = lb_realloc(starts, cap * 2 * sizeof *ns);
				if (!ns) {
					lb_free(starts);
					lb_buf_release(&nb);
					return LB_ENOMEM;
				}
				starts = ns;
				cap *= 2;
			}
			starts[nw++] = i;
		}
	size_t nsh = nw >= (size_t)shingle ? nw - (size_t)shingle + 1 : (nw ? 1 : 0);
	for (size_t k = 0; k < nsh; k++) {
		size_t a = starts[k];
		size_t last = k + (size_t)shingle < nw ? k + (size_t)shingle : nw;
		size_t b = last < nw ? starts[last] - 1 : n;
		uint64_t x = data_hash64(s + a, b - a) & MERSENNE61;
		for (int i = 0; i < LB_MINHASH_K; i++) {
			uint32_t hv = (uint32_t)mod61((u128)perm_a[i] * x + perm_b[i]);
			if (hv < out->v[i])
				out->v[i] = hv;
		}
	}
	lb_free(starts);
	lb_buf_release(&nb);
	return LB_OK;
}

double lb_minhash_similarity(const struct lb_minhash *a, const struct lb_minhash *b)
{
	int eq = 0;
	for (int i = 0; i < LB_MINHASH_K; i++)
		eq += a->v[i] == b->v[i];
	return (double)eq / LB_MINHASH_K;
}

/* Integral of f over [lo, hi] by composite Simpson's rule. */
static double simpson(double lo, double hi, int b, int r, bool fp)
{
	const int n = 2000;
	double h = (hi - lo) / n, sum = 0;
	for (int i = 0; i <= n; i++) {
		double s = lo + i * h;
		double p = 1 - pow(1 - pow(s, r), b);
		double f = fp ? p : 1 - p;
		sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
	}
	return sum * h / 3;
}

void lb_lsh_params(double threshold, int k, double w_fp, double w_fn, int *bands, int *rows)
{
	double best = INFINITY;
	*bands = 1;
	*rows = k;
	for (int b = 1; b <= k; b++)
		for (int r = 1; r <= k / b; r++) {
			double err = w_fp * simpson(0, threshold, b, r, true) +
				     w_fn * simpson(threshold, 1, b, r, false);
			if (err < best) {
				best = err;
				*bands = b;
				*rows = r;
			}
		}
}

struct bucket {
	uint64_t key;   /* band hash; 0 = empty slot */
	uint32_t *ids;  /* owned */
	uint32_t n, cap;
};

struct lb_lsh {
	int bands, rows;
	struct bucket *tab; /* open addressing over (band, key) */
	size_t cap, used;
};

int lb_lsh_new(double threshold, struct lb_lsh **out)
{
	struct lb_lsh *l = lb_calloc(1, sizeof *l);
	if (!l)
		return LB_ENOMEM;
	lb_lsh_params(threshold, LB_MINHASH_K, 0.5, 0.5, &l->bands, &l->rows);
	l->cap = 1024;
	l->tab = lb_calloc(l->cap, sizeof *l->tab);
	if (!l->tab) {
		lb_free(l);
		return LB_ENOMEM;
	}
	*out = l;
	return LB_OK;
}

void lb_lsh_free(struct lb_lsh *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->cap; i++)
		lb_free(l->tab[i].ids);
	lb_free(l->tab);
	lb_free(l);
}

void lb_lsh_shape(const struct lb_lsh *l, int *bands, int *rows)
{
	*bands = l->bands;
	*rows = l->rows;
}

static uint64_t band_key(const struct lb_lsh *l, const struct lb_minhash *sig, int band)
{
	uint64_t h = data_hash64(sig->v + band * l->rows, (size_t)l->rows * sizeof sig->v[0]);
	h ^= (uint64_t)(band + 1) * 0x9E3779B97F4A7C15ull;
	return h ? h : 1;
}

static int grow(struct lb_lsh *l)
{
	size_t ncap = l->cap * 2;
	struct bucket *nt = lb_calloc(ncap, sizeof *nt);
	if (!nt)
		return LB_ENOMEM;
	for (size_t i = 0; i < l->cap; i++) {
		if (!l->tab[i].key)
			continue;
		size_t s = l->tab[i].key & (ncap - 1);
		while (nt[s].key)
			s = (s + 1) & (ncap - 1);
		nt[s] = l->tab[i];
	}
	lb_free(l->tab);
	l->tab = nt;
	l->cap = ncap;
	return LB_OK;
}

int lb_lsh_insert(struct lb_lsh *l, uint32_t id, const struct lb_minhash *sig)
{
	for (int b = 0; b < l->bands; b++) {
		if (l->used * 2 >= l->cap && grow(l))
			return LB_ENOMEM;
		uint64_t key = band_key(l, sig, b);
		size_t s = key & (l->cap - 1);
		while (l->tab[s].key && l->tab[s].key != key)
			s = (s + 1) & (l->cap - 1);
		struct bucket *bk = &l->tab[s];
		if (!bk->key) {
			bk->key = key;
			l->used++;
		}
		if (bk->n == bk->cap) {
			uint32_t nc = bk->cap ? bk->cap * 2 : 2;
			uint32_t *ni = lb_realloc(bk->ids, nc * sizeof *ni);
			if (!ni)
				return LB_ENOMEM;
			bk->ids = ni;
			bk->cap = nc;
		}
		bk->ids[bk->n++] = id;
	}
	return LB_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int lb_lsh_query(const struct lb_lsh *l, const struct lb_minhash *sig, uint32_t **ids, size_t *n)
{
	struct lb_buf b;
	lb_buf_init(&b, (size_t)1 << 30);
	for (int band = 0; band < l->bands; band++) {
		uint64_t key = band_key(l, sig, band);
		size_t s = key & (l->cap - 1);
		while (l->tab[s].key && l->tab[s].key != key)
			s = (s + 1) & (l->cap - 1);
		if (l->tab[s].key && lb_buf_add(&b, l->tab[s].ids, l->tab[s].n * sizeof(uint32_t)))
			return LB_ENOMEM;
	}
	size_t cnt = b.len / sizeof(uint32_t);
	uint32_t *v = (uint32_t *)lb_buf_detach(&b, &b.len);
	if (!v) {
		*ids = NULL;
		*n = 0;
		return LB_OK;
	}
	qsort(v, cnt, sizeof *v, cmp_u32);
	size_t o = 0;
	for (size_t i = 0; i < cnt; i++)
		if (o == 0 || v[o - 1] != v[i])
			v[o++] = v[i];
	*ids = v;
	*n = o;
	return LB_OK;
}
