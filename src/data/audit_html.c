/*
 * The audit report as one self-contained HTML page: inline CSS and SVG only (no scripts, no
 * external links), so it can be archived, mailed and opened offline. Charts: sub-scores,
 * completeness per column, a histogram per numeric column, the correlation heatmap, and the
 * k-means clusters projected on the two first principal components.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leben/data_audit.h"

static int esc(struct lb_buf *o, const char *s)
{
	int rc = LB_OK;
	for (; !rc && *s; s++) {
		switch (*s) {
		case '<': rc = lb_buf_adds(o, "&lt;"); break;
		case '>': rc = lb_buf_adds(o, "&gt;"); break;
		case '&': rc = lb_buf_adds(o, "&amp;"); break;
		case '"': rc = lb_buf_adds(o, "&quot;"); break;
		default: rc = lb_buf_addc(o, (uint8_t)*s); break;
		}
	}
	return rc;
}

static const char *const palette[LB_AUDIT_MAX_K] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
						     "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

static void bar_row(struct lb_buf *o, int y, const char *label, double v, const char *colour)
{
	lb_buf_addf(o, "<text x='0' y='%d' class='l'>", y + 13);
	esc(o, label);
	lb_buf_addf(o, "</text><rect x='170' y='%d' width='300' height='16' fill='#eee'/>"
		       "<rect x='170' y='%d' width='%.1f' height='16' fill='%s'/>"
		       "<text x='478' y='%d' class='l'>%.1f%%</text>\n",
		    y, y, 300 * (v < 0 ? 0 : v > 1 ? 1 : v), colour, y + 13, v * 100);
}

static const char *score_colour(double v)
{
	return v >= 0.9 ? "#2ca02c" : v >= 0.7 ? "#e5a50a" : "#d62728";
}

/* Two leading eigenvectors of a symmetric m x m matrix by power iteration with deflation. */
static void top2(const double *c, size_t m, double *v1, double *v2)
{
	double *v[2] = {v1, v2};
	for (int e = 0; e < 2; e++) {
		for (size_t i = 0; i < m; i++)
			v[e][i] = 1.0 / (double)(i + 1 + e);
		for (int it = 0; it < 200; it++) {
			double nv[256], norm = 0;
			for (size_t i = 0; i < m; i++) {
				nv[i] = 0;
				for (size_t j = 0; j < m; j++)
					nv[i] += c[i * m + j] * v[e][j];
			}
			if (e == 1) { /* remove the first component */
				double d = 0;
				for (size_t i = 0; i < m; i++)
					d += nv[i] * v1[i];
				for (size_t i = 0; i < m; i++)
					nv[i] -= d * v1[i];
			}
			for (size_t i = 0; i < m; i++)
				norm += nv[i] * nv[i];
			norm = sqrt(norm);
			if (norm == 0)
				break;
			for (size_t i = 0; i < m; i++)
				v[e][i] = nv[i] / norm;
		}
	}
}

int lb_audit_html(const char *title, const struct lb_csv_profile *p, const struct lb_audit *a,
		  struct lb_buf *o)
{
	lb_buf_adds(o, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>"
		       "LEBEN data audit: ");
	esc(o, title);
	lb_buf_adds(o, "</title><style>body{font-family:sans-serif;margin:24px;color:#222;"
		       "max-width:1100px}h1{font-size:22px}h2{font-size:17px;margin-top:28px;"
		       "border-bottom:1px solid #ccc}table{border-collapse:collapse;font-size:13px}"
		       "td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}"
		       "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}"
		       ".l{font-size:12px}.score{font-size:44px;font-weight:bold}.bad{color:#d62728}"
		       ".small{font-size:12px;color:#555}.hist{display:inline-block;margin:4px}"
		       "</style></head><body>\n<h1>Data audit: ");
	esc(o, title);
	double sc = a->score / 10000.0;
	lb_buf_addf(o, "</h1>\n<p><span class='score' style='color:%s'>%.2f</span> / 100 &nbsp; "
		       "%zu rows, %zu columns, %zu duplicate rows</p>\n",
		    score_colour(sc), a->score / 100.0, a->rows, a->cols, a->duplicate_rows);
	if (a->note) {
		lb_buf_adds(o, "<p class='bad'>Score 0: ");
		esc(o, a->note);
		lb_buf_adds(o, "</p>\n");
	}
	lb_buf_adds(o, "<p class='small'>Score = 30% completeness + 20% uniqueness + 20% validity "
		       "+ 15% outliers + 15% stability (see docs/data.md).</p>\n");
	lb_buf_adds(o, "<svg width='540' height='110' role='img' aria-label='sub-scores'>\n");
	const char *names[5] = {"completeness", "uniqueness", "validity", "outliers", "stability"};
	double vals[5] = {a->s_completeness, a->s_uniqueness, a->s_validity, a->s_outliers,
			  a->s_drift};
	for (int i = 0; i < 5; i++)
		bar_row(o, i * 21, names[i], vals[i], score_colour(vals[i]));
	lb_buf_adds(o, "</svg>\n<h2>Completeness by column</h2>\n");
	size_t shown = a->cols < 60 ? a->cols : 60;
	lb_buf_addf(o, "<svg width='540' height='%zu' role='img' aria-label='completeness'>\n",
		    shown * 21 + 4);
	for (size_t j = 0; j < shown; j++)
		bar_row(o, (int)(j * 21), p->cols[j].name, a->col[j].completeness,
			score_colour(a->col[j].completeness));
	lb_buf_adds(o, "</svg>\n<h2>Checks by column</h2>\n<table><tr><th>column</th><th>type</th>"
		       "<th>missing</th><th>distinct</th><th>min</th><th>max</th><th>mean</th>"
		       "<th>sd</th><th>skew</th><th>outliers (robust z&gt;3.5)</th><th>rule "
		       "violations</th><th>drift (KS)</th></tr>\n");
	for (size_t j = 0; j < a->cols; j++) {
		const struct lb_csv_column *c = &p->cols[j];
		const struct lb_audit_column *ac = &a->col[j];
		lb_buf_adds(o, "<tr><td>");
		esc(o, c->name);
		lb_buf_addf(o, "%s</td><td>%s</td><td>%zu</td><td>%zu</td>",
			    ac->key_like ? " (key)" : "", lb_col_type_name(c->type), c->missing,
			    c->distinct);
		if (c->nvalues)
			lb_buf_addf(o, "<td>%.4g</td><td>%.4g</td><td>%.4g</td><td>%.4g</td><td>%.3g</td>",
				    c->min, c->max, c->mean, c->sd, c->skew);
		else
			lb_buf_adds(o, "<td></td><td></td><td></td><td></td><td></td>");
		lb_buf_addf(o, "<td%s>%zu</td><td%s>%zu</td>", ac->outliers ? " class='bad'" : "",
			    ac->outliers, ac->violations ? " class='bad'" : "", ac->violations);
		if (ac->drift_ks >= 0)
			lb_buf_addf(o, "<td%s>%.3f</td></tr>\n", ac->drift_ks > 0.2 ? " class='bad'" : "",
				    ac->drift_ks);
		else
			lb_buf_adds(o, "<td>-</td></tr>\n");
	}
	lb_buf_adds(o, "</table>\n<h2>Distributions</h2>\n");
	for (size_t x = 0; x < a->nnum && x < 40; x++) {
		const struct lb_csv_column *c = &p->cols[a->num_cols[x]];
		size_t mx = 1;
		for (int b = 0; b < LB_CSV_HIST_BINS; b++)
			if (c->hist[b] > mx)
				mx = c->hist[b];
		lb_buf_adds(o, "<div class='hist'><svg width='200' height='120' role='img'>"
			       "<text x='0' y='12' class='l'>");
		esc(o, c->name);
		lb_buf_adds(o, "</text>");
		for (int b = 0; b < LB_CSV_HIST_BINS; b++) {
			double hgt = 80.0 * (double)c->hist[b] / (double)mx;
			lb_buf_addf(o, "<rect x='%d' y='%.1f' width='17' height='%.1f' fill='#4a7fb5'>"
				       "<title>%zu</title></rect>",
				    b * 19 + 5, 100 - hgt, hgt, c->hist[b]);
		}
		lb_buf_addf(o, "<text x='0' y='116' class='l'>%.3g</text><text x='150' y='116' "
			       "class='l'>%.3g</text></svg></div>\n",
			    c->min, c->max);
	}
	if (a->nnum >= 2 && a->nnum <= 40) {
		size_t m = a->nnum, cell = m > 20 ? 12 : 22;
		lb_buf_addf(o, "<h2>Correlation (Pearson)</h2>\n<svg width='%zu' height='%zu' "
			       "role='img' aria-label='correlation'>\n",
			    m * cell + 180, m * cell + 10);
		for (size_t x = 0; x < m; x++) {
			lb_buf_addf(o, "<text x='%zu' y='%zu' class='l'>", m * cell + 6,
				    x * cell + cell - 4);
			esc(o, p->cols[a->num_cols[x]].name);
			lb_buf_adds(o, "</text>");
			for (size_t y = 0; y < m; y++) {
				double r = a->corr[x * m + y];
				int red = r > 0 ? 255 : (int)(255 * (1 + r)),
				    blue = r < 0 ? 255 : (int)(255 * (1 - r)),
				    green = (int)(255 * (1 - fabs(r)));
				if (isnan(r))
					red = green = blue = 200;
				lb_buf_addf(o, "<rect x='%zu' y='%zu' width='%zu' height='%zu' "
					       "fill='rgb(%d,%d,%d)'><title>%.3f</title></rect>",
					    y * cell, x * cell, cell - 1, cell - 1, red, green, blue, r);
			}
			lb_buf_adds(o, "\n");
		}
		lb_buf_adds(o, "</svg>\n");
	}
	if (a->k > 0 && a->nnum >= 2 && a->nnum <= 256) {
		size_t m = a->nnum;
		double *c = lb_calloc(m * m, sizeof *c);
		double v1[256], v2[256];
		if (c) {
			for (size_t x = 0; x < m; x++)
				for (size_t y = 0; y < m; y++)
					c[x * m + y] = isnan(a->corr[x * m + y]) ? 0 : a->corr[x * m + y];
			top2(c, m, v1, v2);
			lb_free(c);
			lb_buf_adds(o, "<h2>Clusters (k-means on standardised numbers, first two "
				       "principal components)</h2>\n<p class='small'>");
			for (int q = 0; q < a->k; q++)
				lb_buf_addf(o, "<span style='color:%s'>&#9632;</span> cluster %d: %zu rows "
					       "&nbsp; ",
					    palette[q], q + 1, a->cluster_size[q]);
			lb_buf_adds(o, "</p>\n<svg width='520' height='420' role='img' "
				       "aria-label='clusters'><rect width='520' height='420' "
				       "fill='#fafafa' stroke='#ccc'/>\n");
			double px[2000], py[2000];
			int pc[2000];
			size_t np = 0, step = a->rows / 2000 + 1;
			double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
			for (size_t i = 0; i < a->rows && np < 2000; i += step) {
				if (a->cluster_of[i] < 0)
					continue;
				double sx = 0, sy = 0;
				for (size_t x = 0; x < m; x++) {
					const struct lb_csv_column *col = &p->cols[a->num_cols[x]];
					double z = col->sd > 0 ? (col->cells[i] - col->mean) / col->sd : 0;
					sx += z * v1[x];
					sy += z * v2[x];
				}
				px[np] = sx;
				py[np] = sy;
				pc[np++] = a->cluster_of[i];
				xmin = sx < xmin ? sx : xmin;
				xmax = sx > xmax ? sx : xmax;
				ymin = sy < ymin ? sy : ymin;
				ymax = sy > ymax ? sy : ymax;
			}
			for (size_t i = 0; i < np; i++)
				lb_buf_addf(o, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s' "
					       "fill-opacity='0.7'/>\n",
					    10 + 500 * (xmax > xmin ? (px[i] - xmin) / (xmax - xmin) : 0.5),
					    410 - 400 * (ymax > ymin ? (py[i] - ymin) / (ymax - ymin) : 0.5),
					    palette[pc[i]]);
			lb_buf_adds(o, "</svg>\n");
		}
	}
	return lb_buf_adds(o, "<p class='small'>Made by LEBEN from the data's profile; the raw "
			      "data did not leave its owner.</p>\n</body></html>\n");
}
