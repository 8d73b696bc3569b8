/*
 * `make bench-data`: speed of the data layer, each measured in a forked child so its peak
 * memory (ru_maxrss) is its own:
 *   MinHash signatures/s and LSH queries/s on 100,000 synthetic notes (10% near-duplicates),
 *   PDQ-style hashes/s on 1024x768 luma (decoding excluded), and the crop-tolerant image
 *   signature's hashes/s and comparisons/s next to it, as ratios to PDQ measured in the same run,
 *   precision and recall on the labelled evaluation sets (images: tests/data/images/imgset.h;
 *   text: its own section),
 *   DICOM files parsed/s over pydicom's test corpus (in memory),
 *   catalogue searches/s on 100,000 entries (SQLite FTS5, BM25, typo/synonym expansion).
 * Not a test: figures depend on the machine. Results go in docs/performance.md.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leben/base.h"
#include "leben/data_dedup.h"
#include "../tests/unit/pdq_ref.h"
#include "../tests/data/images/imgset.h"
#include "leben/data_dicom.h"
#include "leben/data_hexa.h"
#include "leben/data_search.h"
#include "../tests/unit/text_eval.h"

#define NOTES 100000

/* ---- evaluation: text near-duplicates, precision/recall on the labelled set
 * tests/data/text/eval (tests/unit/text_eval.h) */
static void bench_eval_text(void)
{
	struct text_eval e;
	const char *root = getenv("LEBEN_ROOT");
	char dir[4096];
	snprintf(dir, sizeof dir, "%.4000s/tests/data/text/eval", root ? root : ".");
	if (text_eval_run(dir, &e) == LB_OK)
		text_eval_print(&e, stdout);
	else
		printf("text eval: %s not found (run from the source tree)\n", dir);
	printf("hand-written copies in other styles (tests/data/text/eval/hand):\n");
	snprintf(dir, sizeof dir, "%.4000s/tests/data/text/eval/hand", root ? root : ".");
	if (text_eval_run(dir, &e) == LB_OK)
		text_eval_print(&e, stdout);
}

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

static double secs(uint64_t t0)
{
	return (double)(lb_mono_ns() - t0) / 1e9;
}

static void note(char *out, size_t cap, uint32_t seed)
{
	uint64_t save = rs;
	rs = 0x1234567ull + seed * 0x9E3779B97F4A7C15ull;
	size_t o = 0;
	int words = 40 + (int)rnd(60);
	for (int i = 0; i < words && o + 24 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%sterm%u%s", i ? " " : "", rnd(5000),
				      rnd(10) == 0 ? " 5 mg" : "");
	rs = save;
}

static void bench_minhash(void)
{
	struct lb_minhash *sig = lb_malloc(NOTES * sizeof *sig);
	char buf[2048];
	uint64_t t0 = lb_mono_ns();
	for (uint32_t i = 0; i < NOTES; i++) {
		note(buf, sizeof buf, i % 10 == 9 ? i - 1 : i); /* every 10th repeats its neighbour */
		if (i % 10 == 9) {
			char *sp = strchr(buf, ' ');
			if (sp)
				sp[1] = 'X'; /* one word changed */
		}
		lb_minhash_text(buf, strlen(buf), LB_MINHASH_SHINGLE, &sig[i]);
	}
	double t_sig = secs(t0);
	struct lb_lsh *l;
	lb_lsh_new(0.8, &l);
	for (uint32_t i = 0; i < NOTES; i++)
		lb_lsh_insert(l, i, &sig[i]);
	t0 = lb_mono_ns();
	size_t pairs = 0;
	for (uint32_t i = 0; i < NOTES; i++) {
		uint32_t *ids;
		size_t n;
		lb_lsh_query(l, &sig[i], &ids, &n);
		for (size_t k = 0; k < n; k++)
			pairs += ids[k] != i && lb_minhash_similarity(&sig[i], &sig[ids[k]]) >= 0.8;
		lb_free(ids);
	}
	double t_q = secs(t0);
	printf("minhash       %9.0f signatures/s (%d notes, 128 permutations, 3-word shingles)\n",
	       NOTES / t_sig, NOTES);
	printf("lsh           %9.0f queries/s (9 bands x 13 rows, %zu near-duplicate pairs found "
	       "incl. both directions)\n",
	       NOTES / t_q, pairs);
	lb_lsh_free(l);
	lb_free(sig);
}

static void bench_pdq(void)
{
	uint32_t w = 1024, h = 768;
	uint8_t *luma = lb_malloc((size_t)w * h);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			luma[(size_t)y * w + x] = (uint8_t)((x * 7 + y * 3 + rnd(40)) & 0xff);
	struct lb_pdq out[8], ref[8];
	int n = 300, nref = 60;
	uint64_t t0 = lb_mono_ns();
	for (int i = 0; i < n; i++)
		lb_pdq_hash(luma, w, h, out);
	double fast = n / secs(t0);
	t0 = lb_mono_ns();
	for (int i = 0; i < nref; i++)
		ref_pdq_hash(luma, w, h, ref);
	double slow = nref / secs(t0);
	printf("pdq           %9.1f hashes/s of 1024x768 luma, 8 variants each (decoding "
	       "excluded)\n",
	       fast);
	printf("pdq-reference %9.1f hashes/s, same input, full-resolution filters "
	       "(tests/unit/pdq_ref.h); same hash: %s\n",
	       slow, lb_pdq_distance(out[0].hash, ref[0].hash) == 0 ? "yes" : "NO");
	lb_free(luma);
}

/* The crop-tolerant signature next to PDQ on the same picture: hashing (decoding excluded)
 * and comparing, as ratios. */
static void bench_imgsig(void)
{
	uint32_t w = 1024, h = 768;
	struct imgset_img b, big;
	imgset_base(0, &b);
	imgset_resize(&b, w, h, &big); /* a 1024x768 medical-style picture */
	struct lb_pdq out[8];
	struct lb_imgsig *s = lb_malloc(2 * sizeof *s);
	int n = 200;
	uint64_t t0 = lb_mono_ns();
	for (int i = 0; i < n; i++)
		lb_pdq_hash(big.p, w, h, out);
	double pdq = n / secs(t0);
	t0 = lb_mono_ns();
	for (int i = 0; i < n; i++)
		lb_imgsig_make(big.p, w, h, &s[0]);
	double sig = n / secs(t0);
	int nref = 40;
	struct lb_pdq ref[8];
	t0 = lb_mono_ns();
	for (int i = 0; i < nref; i++)
		ref_pdq_hash(big.p, w, h, ref);
	double slow = nref / secs(t0);
	/* comparisons: a copy with 15 % cut from every border (verified on the fine maps) and
	 * an unrelated picture (another kind: stopped after the coarse search) */
	struct imgset_img c, u;
	imgset_variant(&b, 2, &c);
	imgset_base(1, &u);
	struct lb_imgsig *t = lb_malloc(3 * sizeof *t);
	lb_imgsig_make(b.p, b.w, b.h, &t[0]);
	lb_imgsig_make(c.p, c.w, c.h, &t[1]);
	lb_imgsig_make(u.p, u.w, u.h, &t[2]);
	int nc = 60;
	double sc = 0, su = 0;
	t0 = lb_mono_ns();
	for (int i = 0; i < nc; i++)
		sc += lb_imgsig_score(&t[0], &t[1]);
	double cmp = nc / secs(t0);
	t0 = lb_mono_ns();
	for (int i = 0; i < nc; i++)
		su += lb_imgsig_score(&t[0], &t[2]);
	double cmpu = nc / secs(t0);
	volatile int dsum = 0;
	int np = 200000;
	t0 = lb_mono_ns();
	for (int i = 0; i < np; i++)
		dsum += lb_pdq_min_distance(out, out[i & 7].hash);
	double pcmp = np / secs(t0);
	printf("imgsig        %9.1f signatures/s of 1024x768 luma (decoding excluded); %.2fx PDQ "
	       "(%.1f/s here), %.2fx the PDQ reference (%.1f/s)\n",
	       sig, sig / pdq, pdq, sig / slow, slow);
	printf("imgsig-match  %9.1f comparisons/s of a cropped copy (score %.2f), %.1f/s of an "
	       "unrelated picture (score %.2f); PDQ %.0f/s over 8 variants\n",
	       cmp, sc / nc, cmpu, su / nc, pcmp);
	lb_free(t);
	lb_free(c.p);
	lb_free(u.p);
	lb_free(s);
	lb_free(b.p);
	lb_free(big.p);
}

/* ---- evaluation: images ----------------------------------------------------------------- */

/* Precision and recall on the labelled image set: 48 pictures (8 patients x 6 kinds) x 12
 * edits; positives are (picture, its edit), hard negatives (picture or edit, another patient
 * of the same kind). PDQ alone, the signature alone, and the decision data add/dedup make
 * (either). Same pairs as tests/unit/test_data_imgsig.c. */
static void eval_images(int first)
{
	enum { NB = 48, NV = IMGSET_VARIANTS };
	struct lb_imgsig *bs = lb_malloc(NB * sizeof *bs), *vs = lb_malloc(NB * NV * sizeof *vs);
	struct lb_pdq(*bp)[8] = lb_malloc(NB * sizeof *bp), (*vp)[8] = lb_malloc(NB * NV * sizeof *vp);
	for (int i = 0; i < NB; i++) {
		struct imgset_img b, o;
		imgset_base(first + i, &b);
		lb_imgsig_make(b.p, b.w, b.h, &bs[i]);
		lb_pdq_hash(b.p, b.w, b.h, bp[i]);
		for (int v = 0; v < NV; v++) {
			imgset_variant(&b, v, &o);
			lb_imgsig_make(o.p, o.w, o.h, &vs[i * NV + v]);
			lb_pdq_hash(o.p, o.w, o.h, vp[i * NV + v]);
			lb_free(o.p);
		}
		lb_free(b.p);
	}
	/* [method][0 tp, 1 fp], method 0 pdq, 1 signature, 2 either */
	int cnt[3][2] = {{0}}, per_v[3][NV] = {{0}}, crop[3] = {0}, np = 0, nn = 0, ncrop = 0;
	for (int pass = 0; pass < 3; pass++) {
		int n = pass == 0 ? NB * NV : pass == 1 ? NB * 7 / 2 : NB * NV;
		for (int k = 0; k < n; k++) {
			const struct lb_pdq *pa, *pb;
			const struct lb_imgsig *sa, *sb;
			int v = -1;
			if (pass == 0) { /* picture vs its edit */
				int i = k / NV;
				v = k % NV;
				pa = bp[i], pb = vp[k], sa = &bs[i], sb = &vs[k];
			} else if (pass == 1) { /* picture vs another patient, same kind */
				int i = k % NB, j = (i + IMGSET_KINDS * (1 + k / NB)) % NB;
				pa = bp[i], pb = bp[j], sa = &bs[i], sb = &bs[j];
			} else { /* edit vs the next patient of the same kind */
				int i = k / NV, j = (i + IMGSET_KINDS) % NB;
				pa = bp[j], pb = vp[k], sa = &bs[j], sb = &vs[k];
			}
			bool m[3];
			m[0] = lb_pdq_min_distance(pa, pb[0].hash) <= LB_PDQ_MATCH_DISTANCE;
			m[1] = lb_imgsig_score(sa, sb) >= LB_IMGSIG_MATCH_SCORE;
			m[2] = m[0] || m[1];
			bool crop_v = v >= 0 && (v <= 3 || v == 9 || v == 10);
			for (int t = 0; t < 3; t++) {
				cnt[t][pass == 0 ? 0 : 1] += m[t];
				if (pass == 0) {
					per_v[t][v] += m[t];
					crop[t] += crop_v && m[t];
				}
			}
			if (pass == 0) {
				np++;
				ncrop += crop_v;
			} else {
				nn++;
			}
		}
	}
	printf("images        %s: pictures %d..%d (6 kinds x 8 patients) x %d edits = %d "
	       "positive pairs, %d hard-negative pairs (same kind, other patient)\n",
	       first ? "held-out set" : "tuning set", first, first + NB - 1, NV, np, nn);
	static const char *const names[3] = {"pdq (<= 31)", "signature (>= 0.58)", "either (used)"};
	for (int t = 0; t < 3; t++) {
		int tp = cnt[t][0], fp = cnt[t][1];
		printf("  %-20s precision %.3f  recall %.3f  crops %.3f  (%d false matches)\n",
		       names[t], tp + fp ? (double)tp / (tp + fp) : 0, (double)tp / np,
		       (double)crop[t] / ncrop, fp);
	}
	for (int v = 0; v < NV; v++)
		printf("    %-30s recall pdq %.2f  signature %.2f  either %.2f\n",
		       imgset_variant_name(v), (double)per_v[0][v] / NB, (double)per_v[1][v] / NB,
		       (double)per_v[2][v] / NB);
	lb_free(bs);
	lb_free(vs);
	lb_free(bp);
	lb_free(vp);
}

static void bench_eval_images(void)
{
	eval_images(0);  /* the set the threshold was chosen on */
	eval_images(48); /* other patients: the held-out set the unit test asserts on */
}

/* ---- evaluation: text (its section goes here) -------------------------------------------- */

static void bench_dicom(void)
{
	const char *dir = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
	DIR *d = opendir(dir);
	if (!d) {
		printf("dicom         (pydicom corpus not found)\n");
		return;
	}
	uint8_t *data[128];
	size_t len[128], nf = 0, bytes = 0;
	struct dirent *de;
	while ((de = readdir(d)) && nf < 128) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 4, ".dcm"))
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (lb_file_read(path, 64u << 20, &data[nf], &len[nf], NULL) == LB_OK)
			bytes += len[nf++];
	}
	closedir(d);
	size_t parsed = 0, ok = 0;
	uint64_t t0 = lb_mono_ns();
	while (secs(t0) < 3.0)
		for (size_t i = 0; i < nf; i++) {
			struct lb_dicom_file f;
			struct lb_errmsg em;
			if (lb_dicom_parse(data[i], len[i], &f, &em) == LB_OK) {
				ok++;
				lb_dicom_file_release(&f);
			}
			parsed++;
		}
	double t = secs(t0);
	printf("dicom         %9.0f files/s parsed (%zu corpus files, %.1f MB total, in memory; "
	       "%.0f MB/s)\n",
	       parsed / t, nf, bytes / 1e6, (double)bytes * ((double)parsed / (double)nf) / t / 1e6);
	for (size_t i = 0; i < nf; i++)
		lb_free(data[i]);
}

static void bench_search(void)
{
	static const char *const topics[] = {"diabetes", "hypertension", "asthma", "sepsis",
					     "stroke", "melanoma", "fracture", "pregnancy",
					     "cardiology", "oncology", "nephrology", "pediatrics"};
	static const char *const kinds[] = {"CT series", "MRI study", "registry", "lab panel",
					    "clinic letters", "cohort", "photographs", "claims"};
	static const char *const fmts[] = {"dicom", "table", "fhir", "text", "image"};
	char path[] = "/tmp/leben-bench-catalog-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	struct lb_catalog *c;
	struct lb_errmsg em;
	if (lb_catalog_open(path, &c, &em)) {
		printf("search        %s\n", em.text);
		return;
	}
	uint64_t t0 = lb_mono_ns();
	for (uint32_t i = 0; i < NOTES; i++) {
		struct lb_hexa h;
		lb_hexa_init(&h);
		char name[128], desc[256], id[32];
		const char *t1 = topics[rnd(12)], *t2 = topics[rnd(12)], *k = kinds[rnd(8)];
		snprintf(name, sizeof name, "%s %s %u", t1, k, i);
		snprintf(desc, sizeof desc, "%s data with %s follow-up, site %u, term%u", t1, t2,
			 rnd(300), rnd(5000));
		uint8_t hash[32] = {0};
		memcpy(hash, &i, sizeof i);
		lb_hexa_set_str(&h, "basic.name", name);
		lb_hexa_set_str(&h, "basic.description", desc);
		lb_hexa_set_str(&h, "data.format", fmts[rnd(5)]);
		lb_hexa_set_u64(&h, "exchange.level", 1 + rnd(3));
		lb_hexa_set_u64(&h, "dynamic.version", 1);
		lb_hexa_set_bytes(&h, "raw.blake2b", hash, 32);
		lb_hexa_set_public(&h, "basic", true);
		lb_hexa_set_public(&h, "data", true);
		lb_hexa_set_public(&h, "exchange", true);
		lb_hexa_set_public(&h, "dynamic", true);
		lb_hexa_set_public(&h, "raw", true);
		snprintf(id, sizeof id, "asset-%u", i);
		lb_catalog_put(c, id, &h, &em);
		lb_hexa_release(&h);
	}
	double t_ins = secs(t0);
	const char *qs[] = {"diabetes registry", "stroke", "asthma pediatrics", "melanoma photographs",
			    "diabetis", "hypertenson clinic", "sepsis follow-up", "oncology CT"};
	const char *wh[] = {"format=dicom", "level<=2"};
	size_t nq = 0, hits = 0;
	t0 = lb_mono_ns();
	while (secs(t0) < 5.0) {
		struct lb_search_options o = {.limit = 20};
		if (nq % 3 == 0) {
			o.where = wh;
			o.nwhere = 1 + nq % 2;
		}
		struct lb_search_hit *hv;
		size_t n;
		lb_catalog_search(c, qs[nq % 8], &o, &hv, &n, NULL, &em);
		hits += n;
		lb_free(hv);
		nq++;
	}
	double t = secs(t0);
	printf("search        %9.0f searches/s on %d entries (top 20, 1/3 with filters, typo "
	       "queries included; indexing %.0f entries/s)\n",
	       nq / t, NOTES, NOTES / t_ins);
	lb_catalog_close(c);
	char side[64];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

static const char *only; /* bench_data WORD runs the parts whose name contains WORD */

static void in_child(const char *name, void (*fn)(void))
{
	if (only && !strstr(name, only))
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	int st;
	struct rusage ru;
	wait4(pid, &st, 0, &ru);
	printf("  %-12s peak memory %.1f MiB\n", name, ru.ru_maxrss / 1024.0);
}

int main(int argc, char **argv)
{
	only = argc > 1 ? argv[1] : NULL;
	printf("LEBEN data layer benchmark (%d cores)\n", lb_ncpus());
	in_child("minhash+lsh", bench_minhash);
	in_child("pdq", bench_pdq);
	in_child("imgsig", bench_imgsig);
	in_child("eval-images", bench_eval_images);
	/* in_child("eval-text", ...): the text evaluation prints here */
	in_child("dicom", bench_dicom);
	in_child("search", bench_search);
	in_child("eval-text", bench_eval_text);
	return 0;
}
