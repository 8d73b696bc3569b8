/*
 * Precision and recall of near-duplicate text detection over the labelled set in
 * tests/data/text/eval (labels.tsv: file, group, kind; files of one group are near copies of
 * each other, every other pair is not). Every pair of files is scored with
 * lb_text_similarity; a pair at or above a threshold is predicted a near copy. Shared by the
 * unit test that asserts the goal (tests/unit/test_data_text_eval.c) and `make bench-data`.
 * Header-only (static inline) so both can include it.
 */
#ifndef LEBEN_TEXT_EVAL_H
#define LEBEN_TEXT_EVAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/data_dedup.h"

#define TEXT_EVAL_MAX 2048
#define TEXT_EVAL_NT 14 /* thresholds 0.30, 0.35, ... 0.95 */

struct text_eval {
	size_t files, groups, pos_pairs, neg_pairs;
	double fp_per_s;                    /* fingerprints per second */
	double thr[TEXT_EVAL_NT];
	size_t tp[TEXT_EVAL_NT], fp[TEXT_EVAL_NT];
	size_t tp_at, fp_at;                /* at LB_TEXT_MATCH */
	/* per kind at LB_TEXT_MATCH: variant kinds (pairs with the base) and negative kinds
	 * (pairs with any file of the group they were made from) */
	char kind[16][16];
	size_t kind_pairs[16], kind_hits[16];
	size_t nkinds;
	char worst_fn[160], worst_fp[160]; /* the lowest-scored near copy, highest-scored other */
	/* the earlier method for comparison: lb_minhash_text (3-word shingles over the whole
	 * normalised text, every number as 0) at its threshold 0.8 */
	size_t base_tp, base_fp;
};

static inline size_t text_eval_kind(struct text_eval *e, const char *k)
{
	for (size_t i = 0; i < e->nkinds; i++)
		if (!strcmp(e->kind[i], k))
			return i;
	if (e->nkinds == 16)
		return 15;
	snprintf(e->kind[e->nkinds], sizeof e->kind[0], "%.15s", k);
	return e->nkinds++;
}

/* Base group of a file: "n01" for "n01" and for "n01-value". */
static inline size_t text_eval_base_len(const char *g)
{
	const char *d = strchr(g, '-');
	return d ? (size_t)(d - g) : strlen(g);
}

static inline int text_eval_run(const char *dir, struct text_eval *e)
{
	memset(e, 0, sizeof *e);
	char path[4096];
	snprintf(path, sizeof path, "%.4000s/labels.tsv", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return LB_ENOTFOUND;
	static char name[TEXT_EVAL_MAX][64], group[TEXT_EVAL_MAX][32], kind[TEXT_EVAL_MAX][16];
	static struct lb_text_fp fp[TEXT_EVAL_MAX];
	static struct lb_minhash old[TEXT_EVAL_MAX];
	char line[256];
	size_t n = 0;
	while (fgets(line, sizeof line, f) && n < TEXT_EVAL_MAX) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%63s %31s %15s", name[n], group[n], kind[n]) == 3)
			n++;
	}
	fclose(f);
	static char *text[TEXT_EVAL_MAX];
	static size_t len[TEXT_EVAL_MAX];
	for (size_t i = 0; i < n; i++) {
		uint8_t *d;
		snprintf(path, sizeof path, "%.4000s/%.63s", dir, name[i]);
		if (lb_file_read(path, 1u << 20, &d, &len[i], NULL))
			return LB_ENOTFOUND;
		text[i] = (char *)d;
	}
	uint64_t t0 = lb_mono_ns();
	int rounds = 5;
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++)
			if (lb_text_fingerprint(text[i], len[i], &fp[i]))
				return LB_ENOMEM;
	double dt = (double)(lb_mono_ns() - t0) / 1e9;
	e->fp_per_s = dt > 0 ? (double)(n * (size_t)rounds) / dt : 0;
	for (size_t i = 0; i < n; i++) {
		if (lb_minhash_text(text[i], len[i], 3, &old[i]))
			return LB_ENOMEM;
		lb_free(text[i]);
	}
	e->files = n;
	for (int t = 0; t < TEXT_EVAL_NT; t++)
		e->thr[t] = 0.30 + 0.05 * t;
	double worst_pos = 2, worst_neg = -1;
	for (size_t i = 0; i < n; i++) {
		bool first = true;
		for (size_t k = 0; k < i && first; k++)
			first = strcmp(group[k], group[i]) != 0;
		e->groups += first;
		for (size_t k = 0; k < i; k++) {
			bool same = !strcmp(group[i], group[k]);
			double s = lb_text_similarity(&fp[i], &fp[k], NULL);
			if (same)
				e->pos_pairs++;
			else
				e->neg_pairs++;
			for (int t = 0; t < TEXT_EVAL_NT; t++)
				if (s >= e->thr[t] - 1e-9) {
					if (same)
						e->tp[t]++;
					else
						e->fp[t]++;
				}
			bool old_hit = lb_minhash_similarity(&old[i], &old[k]) >= 0.8;
			e->base_tp += same && old_hit;
			e->base_fp += !same && old_hit;
			bool hit = s >= LB_TEXT_MATCH - 1e-9;
			e->tp_at += same && hit;
			e->fp_at += !same && hit;
			if (same && s < worst_pos) {
				worst_pos = s;
				snprintf(e->worst_fn, sizeof e->worst_fn, "%.63s ~ %.63s %.3f", name[k],
					 name[i], s);
			}
			if (!same && s > worst_neg) {
				worst_neg = s;
				snprintf(e->worst_fp, sizeof e->worst_fp, "%.63s ~ %.63s %.3f", name[k],
					 name[i], s);
			}
			/* per kind: a variant against its base, a negative against its source group */
			size_t bl = text_eval_base_len(group[i]);
			bool related = bl == text_eval_base_len(group[k]) &&
				       !strncmp(group[i], group[k], bl);
			const char *ki = NULL;
			if (same && (!strcmp(kind[k], "base") || !strcmp(kind[i], "base")))
				ki = strcmp(kind[i], "base") ? kind[i] : kind[k];
			else if (!same && related && !strncmp(kind[i], "neg_", 4) &&
				 strncmp(kind[k], "neg_", 4))
				ki = kind[i];
			else if (!same && related && !strncmp(kind[k], "neg_", 4) &&
				 strncmp(kind[i], "neg_", 4))
				ki = kind[k];
			if (ki) {
				size_t q = text_eval_kind(e, ki);
				e->kind_pairs[q]++;
				e->kind_hits[q] += hit;
			}
		}
	}
	return LB_OK;
}

static inline double text_eval_precision(size_t tp, size_t fp)
{
	return tp + fp ? (double)tp / (double)(tp + fp) : 1;
}

static inline void text_eval_print(const struct text_eval *e, FILE *out)
{
	fprintf(out,
		"text near-duplicates: %zu notes in %zu groups, %zu near-copy pairs, %zu other pairs; "
		"%.0f fingerprints/s\n",
		e->files, e->groups, e->pos_pairs, e->neg_pairs, e->fp_per_s);
	fprintf(out, "  threshold  precision  recall   (true pos, false pos)\n");
	for (int t = 0; t < TEXT_EVAL_NT; t++)
		fprintf(out, "  %9.2f  %9.3f  %6.3f   (%zu, %zu)%s\n", e->thr[t],
			text_eval_precision(e->tp[t], e->fp[t]),
			e->pos_pairs ? (double)e->tp[t] / (double)e->pos_pairs : 1, e->tp[t], e->fp[t],
			e->thr[t] > LB_TEXT_MATCH - 0.001 && e->thr[t] < LB_TEXT_MATCH + 0.001
				? "  <- chosen"
				: "");
	fprintf(out, "  at %.2f: precision %.3f recall %.3f\n", LB_TEXT_MATCH,
		text_eval_precision(e->tp_at, e->fp_at),
		e->pos_pairs ? (double)e->tp_at / (double)e->pos_pairs : 1);
	fprintf(out, "  before (MinHash of 3-word shingles, numbers as 0, at 0.80): precision %.3f "
		     "recall %.3f\n",
		text_eval_precision(e->base_tp, e->base_fp),
		e->pos_pairs ? (double)e->base_tp / (double)e->pos_pairs : 1);
	fprintf(out, "  per kind at %.2f (variants: found / pairs with the base; negatives: "
		     "matched / pairs with their source group):\n",
		LB_TEXT_MATCH);
	for (size_t i = 0; i < e->nkinds; i++)
		fprintf(out, "    %-12s %4zu / %zu\n", e->kind[i], e->kind_hits[i], e->kind_pairs[i]);
	fprintf(out, "  lowest near copy: %s\n  highest other pair: %s\n", e->worst_fn, e->worst_fp);
}

#endif
