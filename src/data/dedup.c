/*
 * Duplicate detection over a directory: exact duplicates by content digest, near-duplicate
 * notes by MinHash/LSH, near-duplicate images (PNG, JPEG, DICOM) by the PDQ-style hash and, for
 * crops and overlays PDQ misses, the crop-tolerant signature (imgsig.c). Used by
 * `leben data dedup` and by registration to refuse or link an asset that repeats another.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "data/data_int.h"
#include "leben/data_dedup.h"
#include "leben/data_dicom.h"
#include "leben/data_extract.h"

void lb_digest_md5(const void *p, size_t n, uint8_t out[16])
{
	unsigned int len = 16;
	if (!EVP_Digest(p, n, out, &len, EVP_md5(), NULL))
		memset(out, 0, 16); /* only if the provider is missing */
}

void lb_digest_blake2b(const void *p, size_t n, uint8_t out[32])
{
	crypto_generichash(out, 32, p, n, NULL, 0);
}

/* Up to this many texts every pair of signatures is compared; above it LSH picks candidates
 * (LSH may miss a pair near the threshold: 5% at similarity 0.9 for threshold 0.8). */
#define DEDUP_ALL_PAIRS 5000
/* Up to this many pictures the crop-tolerant signature is compared for every pair PDQ does
 * not match (about 125,000 pairs at a few milliseconds each). */
#define DEDUP_SIG_MAX_IMAGES 500

enum fkind { FK_OTHER, FK_TEXT, FK_IMAGE };

struct fentry {
	char *path;
	size_t size;
	uint8_t md5[16], b2[32];
	enum fkind kind;
	struct lb_text_fp tfp; /* text fingerprint (MinHash + values) */
	struct lb_pdq pdq[8];
	struct lb_imgsig *sig; /* crop-tolerant image signature (owned), NULL if none */
	bool hashed;        /* text signature or image hash present */
};

struct walk {
	struct fentry *f;
	size_t n, cap;
	json_t *skipped;
	const struct lb_dedup_options *opt;
};

static bool is_text_name(const char *path)
{
	const char *ext = strrchr(path, '.');
	static const char *const exts[] = {".txt", ".md", ".note", ".notes", ".text", NULL};
	if (!ext || strchr(ext, '/'))
		return true; /* no extension: decided by content */
	for (size_t i = 0; exts[i]; i++)
		if (!strcasecmp(ext, exts[i]))
			return true;
	return false;
}

static void skip(struct walk *w, const char *path, const char *why)
{
	json_array_append_new(w->skipped, json_pack("{s:s,s:s}", "file", path, "reason", why));
}

static int add_file(struct walk *w, const char *path)
{
	uint8_t *data;
	size_t len;
	struct lb_errmsg em;
	if (lb_file_read(path, w->opt->max_file, &data, &len, &em)) {
		skip(w, path, em.text);
		return LB_OK;
	}
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 64;
		struct fentry *nf = lb_realloc(w->f, nc * sizeof *nf);
		if (!nf) {
			lb_free(data);
			return LB_ENOMEM;
		}
		w->f = nf;
		w->cap = nc;
	}
	struct fentry *e = &w->f[w->n];
	memset(e, 0, sizeof *e);
	e->path = lb_strdup(path);
	if (!e->path) {
		lb_free(data);
		return LB_ENOMEM;
	}
	w->n++;
	e->size = len;
	lb_digest_md5(data, len, e->md5);
	lb_digest_blake2b(data, len, e->b2);
	uint8_t *luma = NULL;
	uint32_t iw = 0, ih = 0;
	int rc = LB_OK;
	/* the data layer's one type detector decides what the file is */
	struct lb_detected det;
	const char *type = lb_data_detect(path, data, len, &det, NULL) == LB_OK ? det.type : "";
	if (!strcmp(type, "image")) {
		struct lb_image im;
		if (lb_image_read(data, len, true, &im, &em) == LB_OK) {
			luma = im.luma;
			iw = im.width;
			ih = im.height;
		} else {
			skip(w, path, em.text);
		}
	} else if (!strcmp(type, "dicom")) {
		struct lb_dicom_file df;
		if (lb_dicom_parse(data, len, &df, &em) == LB_OK) {
			if (lb_dicom_luma(&df, &luma, &iw, &ih, &em) != LB_OK)
				skip(w, path, em.text); /* exact duplicates still count */
			lb_dicom_file_release(&df);
		} else {
			skip(w, path, em.text);
		}
	} else if (!strcmp(type, "pdf")) {
		/* a PDF's text is compared like a note's */
		struct lb_pdf pdf;
		if (lb_pdf_read(data, len, &pdf, &em) == LB_OK) {
			e->kind = FK_TEXT;
			rc = pdf.words ? lb_text_fingerprint(pdf.text, pdf.text_len, &e->tfp)
				       : LB_EINVALID;
			e->hashed = rc == LB_OK;
			if (rc == LB_EINVALID)
				skip(w, path, "the PDF has no text layer to compare");
			rc = rc == LB_ENOMEM ? rc : LB_OK;
			lb_pdf_release(&pdf);
		} else {
			skip(w, path, em.text);
		}
	} else if (!strcmp(type, "text") && is_text_name(path) && !memchr(data, 0, len) && len > 0) {
		e->kind = FK_TEXT;
		rc = lb_text_fingerprint((const char *)data, len, &e->tfp);
		e->hashed = rc == LB_OK;
	}
	if (luma) {
		e->kind = FK_IMAGE;
		if (lb_pdq_hash(luma, iw, ih, e->pdq) == LB_OK)
			e->hashed = e->pdq[0].quality >= LB_PDQ_MIN_QUALITY;
		/* the crop-tolerant signature as well: PDQ misses crops and heavy overlays */
		e->sig = lb_malloc(sizeof *e->sig);
		if (!e->sig)
			rc = LB_ENOMEM;
		else if (lb_imgsig_make(luma, iw, ih, e->sig) != LB_OK || e->sig->flat) {
			lb_free(e->sig);
			e->sig = NULL;
		}
		if (e->sig)
			e->hashed = true;
		if (!e->hashed)
			skip(w, path, "image too flat for a perceptual hash (quality below 50)");
		lb_free(luma);
	}
	lb_free(data);
	return rc;
}

static int walk_dir(struct walk *w, const char *dir, int depth, struct lb_errmsg *em)
{
	if (depth > 32)
		return LB_OK;
	DIR *d = opendir(dir);
	if (!d)
		return lb_errf(em, LB_ENOTFOUND, "%s: cannot open the directory", dir);
	struct dirent *de;
	int rc = LB_OK;
	/* sorted order keeps the report stable */
	char **names = NULL;
	size_t nn = 0, cap = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (nn == cap) {
			cap = cap ? cap * 2 : 64;
			char **nw = lb_realloc(names, cap * sizeof *nw);
			if (!nw) {
				rc = LB_ENOMEM;
				break;
			}
			names = nw;
		}
		if (!(names[nn] = lb_strdup(de->d_name))) {
			rc = LB_ENOMEM;
			break;
		}
		nn++;
	}
	closedir(d);
	for (size_t i = 1; i < nn; i++)
		for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
			char *t = names[k];
			names[k] = names[k - 1];
			names[k - 1] = t;
		}
	for (size_t i = 0; i < nn; i++) {
		if (!rc) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			struct stat st;
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				rc = walk_dir(w, path, depth + 1, em);
			else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
				rc = add_file(w, path);
		}
		lb_free(names[i]);
	}
	lb_free(names);
	if (rc == LB_ENOMEM)
		lb_errf(em, rc, "out of memory");
	return rc;
}

static size_t uf_find(size_t *p, size_t x)
{
	while (p[x] != x)
		x = p[x] = p[p[x]];
	return x;
}

static int cmp_b2(const void *a, const void *b)
{
	const struct fentry *x = *(struct fentry *const *)a, *y = *(struct fentry *const *)b;
	int c = memcmp(x->b2, y->b2, 32);
	return c ? c : strcmp(x->path, y->path);
}

/* Groups from pairs: union-find, then one JSON group per root with its pairs. */
static json_t *groups_from_pairs(struct walk *w, json_t *pairs, const char *metric)
{
	size_t *par = lb_malloc((w->n ? w->n : 1) * sizeof *par);
	json_t *groups = json_array();
	if (!par || !groups) {
		lb_free(par);
		json_decref(groups);
		return NULL;
	}
	for (size_t i = 0; i < w->n; i++)
		par[i] = i;
	size_t i;
	json_t *p;
	json_array_foreach(pairs, i, p) {
		size_t a = (size_t)json_integer_value(json_object_get(p, "a"));
		size_t b = (size_t)json_integer_value(json_object_get(p, "b"));
		par[uf_find(par, a)] = uf_find(par, b);
	}
	for (size_t r = 0; r < w->n; r++) {
		json_t *files = json_array(), *gp = json_array();
		for (size_t k = 0; k < w->n; k++)
			if (uf_find(par, k) == r && json_array_size(pairs))
				json_array_append_new(files, json_string(w->f[k].path));
		json_array_foreach(pairs, i, p) {
			size_t a = (size_t)json_integer_value(json_object_get(p, "a"));
			if (uf_find(par, a) == r) {
				json_t *g = json_pack("{s:s,s:s,s:O}", "a", w->f[a].path, "b",
						      w->f[json_integer_value(json_object_get(p, "b"))].path,
						      metric, json_object_get(p, metric));
				/* how an image pair matched and its signature score, if any */
				json_t *extra = json_object_get(p, "method");
				if (g && extra)
					json_object_set(g, "method", extra);
				if (g && (extra = json_object_get(p, "score")))
					json_object_set(g, "score", extra);
				json_array_append_new(gp, g);
			}
		}
		if (json_array_size(files) > 1)
			json_array_append_new(groups, json_pack("{s:o,s:o}", "files", files, "pairs", gp));
		else {
			json_decref(files);
			json_decref(gp);
		}
	}
	lb_free(par);
	return groups;
}

int lb_dedup_dir(const char *dir, const struct lb_dedup_options *opt, json_t **out,
		 struct lb_errmsg *em)
{
	struct lb_dedup_options o = {LB_TEXT_MATCH, LB_PDQ_MATCH_DISTANCE, 256u << 20, LB_IMGSIG_MATCH_SCORE};
	if (opt) {
		if (opt->image_score > 0)
			o.image_score = opt->image_score;
		if (opt->text_threshold > 0)
			o.text_threshold = opt->text_threshold;
		if (opt->image_distance > 0)
			o.image_distance = opt->image_distance;
		if (opt->max_file)
			o.max_file = opt->max_file;
	}
	struct walk w = {.skipped = json_array(), .opt = &o};
	int rc = walk_dir(&w, dir, 0, em);
	json_t *exact = json_array(), *tpairs = json_array(), *ipairs = json_array();
	struct fentry **sorted = lb_malloc((w.n ? w.n : 1) * sizeof *sorted);
	struct lb_lsh *lsh = NULL;
	if (!rc && (!sorted || !exact || !tpairs || !ipairs))
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
	/* exact groups */
	if (!rc) {
		for (size_t i = 0; i < w.n; i++)
			sorted[i] = &w.f[i];
		qsort(sorted, w.n, sizeof *sorted, cmp_b2);
		for (size_t i = 0; i < w.n;) {
			size_t k = i + 1;
			while (k < w.n && !memcmp(sorted[k]->b2, sorted[i]->b2, 32))
				k++;
			if (k - i > 1) {
				char b2[65], md5[33];
				lb_hex_encode(b2, sorted[i]->b2, 32);
				lb_hex_encode(md5, sorted[i]->md5, 16);
				json_t *files = json_array();
				for (size_t m = i; m < k; m++)
					json_array_append_new(files, json_string(sorted[m]->path));
				json_array_append_new(exact, json_pack("{s:s,s:s,s:I,s:o}", "blake2b", b2,
								       "md5", md5, "bytes",
								       (json_int_t)sorted[i]->size,
								       "files", files));
			}
			i = k;
		}
	}
	/* near-duplicate texts: the signature estimate over candidate pairs — every pair when
	 * there are few texts (no LSH false negatives), LSH band collisions above that */
	size_t ntext = 0;
	for (size_t i = 0; i < w.n; i++)
		ntext += w.f[i].kind == FK_TEXT && w.f[i].hashed;
	bool all_pairs = ntext <= DEDUP_ALL_PAIRS;
	if (!rc)
		rc = lb_lsh_new(o.text_threshold, &lsh);
	for (size_t i = 0; !rc && i < w.n; i++) {
		if (w.f[i].kind != FK_TEXT || !w.f[i].hashed)
			continue;
		uint32_t *ids = NULL;
		size_t nc = 0;
		if (all_pairs) {
			ids = lb_malloc((i ? i : 1) * sizeof *ids);
			if (!ids)
				rc = LB_ENOMEM;
			for (size_t k = 0; ids && k < i; k++)
				if (w.f[k].kind == FK_TEXT && w.f[k].hashed)
					ids[nc++] = (uint32_t)k;
		} else {
			rc = lb_lsh_query(lsh, &w.f[i].tfp.mh, &ids, &nc);
		}
		for (size_t k = 0; !rc && k < nc; k++) {
			struct fentry *a = &w.f[ids[k]], *b = &w.f[i];
			if (!memcmp(a->b2, b->b2, 32))
				continue; /* exact duplicates are reported above */
			double s = lb_text_similarity(&a->tfp, &b->tfp, NULL);
			if (s >= o.text_threshold)
				json_array_append_new(tpairs, json_pack("{s:I,s:I,s:f}", "a",
									(json_int_t)ids[k], "b",
									(json_int_t)i, "similarity", s));
		}
		lb_free(ids);
		if (!rc && !all_pairs)
			rc = lb_lsh_insert(lsh, (uint32_t)i, &w.f[i].tfp.mh);
	}
	/* near-duplicate images, all pairs: PDQ over the 8 rotations/flips first (fast), then
	 * the crop-tolerant signature for pairs PDQ does not match — a search of milliseconds a
	 * pair, so only up to DEDUP_SIG_MAX_IMAGES pictures (said in the report otherwise) */
	size_t nimg = 0;
	for (size_t i = 0; i < w.n; i++)
		nimg += w.f[i].kind == FK_IMAGE && w.f[i].hashed;
	bool use_sig = nimg <= DEDUP_SIG_MAX_IMAGES;
	if (!use_sig) {
		char why[160];
		snprintf(why, sizeof why,
			 "%zu pictures: more than %d, so crops and overlays were not searched "
			 "(PDQ only); run dedup on smaller directories to find them",
			 nimg, DEDUP_SIG_MAX_IMAGES);
		skip(&w, dir, why);
	}
	for (size_t i = 0; !rc && i < w.n; i++) {
		if (w.f[i].kind != FK_IMAGE || !w.f[i].hashed)
			continue;
		for (size_t k = 0; k < i; k++) {
			struct fentry *a = &w.f[k], *b = &w.f[i];
			if (a->kind != FK_IMAGE || !a->hashed || !memcmp(a->b2, b->b2, 32))
				continue;
			bool pdq_ok = a->pdq[0].quality >= LB_PDQ_MIN_QUALITY &&
				      b->pdq[0].quality >= LB_PDQ_MIN_QUALITY;
			int d = pdq_ok ? lb_pdq_min_distance(a->pdq, b->pdq[0].hash) : 256;
			double sc = -1;
			if (use_sig && d > o.image_distance && a->sig && b->sig)
				sc = lb_imgsig_score(a->sig, b->sig);
			if (d <= o.image_distance || sc >= o.image_score) {
				json_t *pr = json_pack("{s:I,s:I,s:i,s:s}", "a", (json_int_t)k, "b",
						       (json_int_t)i, "distance", d, "method",
						       d <= o.image_distance ? "pdq" : "crop-tolerant");
				if (pr && sc >= 0)
					json_object_set_new(pr, "score", json_real(sc));
				json_array_append_new(ipairs, pr);
			}
		}
	}
	if (!rc) {
		json_t *tg = groups_from_pairs(&w, tpairs, "similarity");
		json_t *ig = groups_from_pairs(&w, ipairs, "distance");
		int bands, rows;
		lb_lsh_shape(lsh, &bands, &rows);
		*out = json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:{s:f,s:s,s:i,s:i,s:i,s:i}}", "directory",
				 dir, "files", (json_int_t)w.n, "exact", exact, "near_text", tg,
				 "near_image", ig, "skipped", w.skipped, "settings", "text_threshold",
				 o.text_threshold, "text_candidates", all_pairs ? "all pairs" : "lsh",
				 "lsh_bands", bands, "lsh_rows", rows,
				 "image_distance", o.image_distance, "image_min_quality",
				 LB_PDQ_MIN_QUALITY);
		if (*out)
			json_object_set_new(json_object_get(*out, "settings"), "image_score",
					    json_real(o.image_score));
		exact = NULL;
		w.skipped = NULL;
		if (!*out)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	if (rc == LB_ENOMEM)
		lb_errf(em, rc, "out of memory");
	lb_lsh_free(lsh);
	json_decref(exact);
	json_decref(tpairs);
	json_decref(ipairs);
	json_decref(w.skipped);
	lb_free(sorted);
	for (size_t i = 0; i < w.n; i++) {
		lb_free(w.f[i].path);
		lb_free(w.f[i].sig);
	}
	lb_free(w.f);
	return rc;
}
