/*
 * The description step of `data add` and the change scan of `data watch` (the vault objects
 * and their key table are in vault_store.c).
 * Ledger-free: the node decides where the vault lives and publishes what describe returns.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/data_int.h"
#include "leben/data_audit.h"
#include "leben/data_coding.h"
#include "leben/data_dedup.h"
#include "leben/data_dicom.h"
#include "leben/data_extract.h"
#include "leben/data_vault.h"
#include "leben/codec.h"
#include "leben/envelope.h"

static void feat(struct lb_hexa *h, const char *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void feat(struct lb_hexa *h, const char *k, const char *fmt, ...)
{
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	if (v[0])
		lb_hexa_map_set(h, "data.features", k, v);
}

int lb_data_describe(const char *path, struct lb_hexa *h, struct lb_errmsg *em)
{
	return lb_data_describe_as(path, NULL, h, em);
}

/* Text features, keywords and the MinHash signature of a note or of a PDF's text. */
static int describe_text(struct lb_hexa *h, const char *text, size_t len, bool keywords,
			 struct lb_errmsg *em)
{
	struct lb_text_profile t;
	int rc = lb_text_profile(text, len, &t, em);
	if (rc)
		return rc;
	feat(h, "language", "%s", t.language);
	feat(h, "words", "%zu", t.words);
	for (size_t i = 0; keywords && i < t.nterms && i < 5; i++)
		lb_hexa_list_add(h, "semantic.keywords", t.terms[i]);
	struct lb_text_fp fp;
	if (t.words && lb_text_fingerprint(text, len, &fp) == LB_OK) {
		uint8_t sig[LB_TEXT_FP_SIZE];
		lb_text_fp_encode(&fp, sig);
		lb_hexa_set_bytes(h, "raw.minhash", sig, sizeof sig);
	}
	lb_text_profile_release(&t);
	return LB_OK;
}

int lb_data_describe_as(const char *path, const char *type, struct lb_hexa *h,
			struct lb_errmsg *em)
{
	const char *want = type ? lb_data_type_name(type) : NULL;
	if (type && !want)
		return lb_errf(em, LB_EINVALID, "type '%s' is not one of " LB_DATA_TYPES, type);
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, (size_t)2 << 30, &data, &len, em);
	if (rc)
		return rc;
	struct lb_detected det;
	if (!want) {
		if ((rc = lb_data_detect(path, data, len, &det, em))) {
			lb_free(data);
			return lb_errwrap(em, "%s: ", path);
		}
		want = det.type;
	}
	lb_hexa_init(h);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	uint8_t b2[32], md5[16];
	lb_digest_blake2b(data, len, b2);
	lb_digest_md5(data, len, md5);
	lb_hexa_set_str(h, "basic.name", base);
	lb_hexa_set_u64(h, "basic.size", len);
	lb_hexa_set_bytes(h, "raw.blake2b", b2, 32);
	lb_hexa_set_bytes(h, "raw.md5", md5, 16);
	lb_hexa_set_u64(h, "dynamic.version", 1);
	lb_hexa_set_str(h, "dynamic.extractor", "leben-data 2");
	lb_hexa_set_str(h, "dynamic.storage", "vault");
#define IS(t) (!strcmp(want, t))
	uint8_t *luma = NULL;
	uint32_t w = 0, hh = 0;
	if (IS("dicom")) {
		struct lb_dicom_file f;
		rc = lb_dicom_parse(data, len, &f, em);
		if (!rc) {
			char s[128];
			lb_hexa_set_str(h, "data.format", "dicom");
			static const struct {
				uint32_t tag;
				const char *key;
			} keep[] = {{0x00080060, "modality"}, {0x00180015, "body_part"},
				    {0x00080016, "sop_class"}, {0x00020010, "transfer_syntax"},
				    {0x00280010, "rows"},      {0x00280011, "columns"},
				    {0x00280008, "frames"}};
			for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
				double num;
				if (lb_dicom_get_string(&f, keep[i].tag, s, sizeof s))
					feat(h, keep[i].key, "%s", s);
				else if (lb_dicom_get_number(&f, keep[i].tag, &num))
					feat(h, keep[i].key, "%.0f", num);
			}
			lb_hexa_set_u64(h, "basic.volume", 1);
			lb_hexa_set_str(h, "basic.category", "imaging");
			rc = lb_semantic_dicom(&f, h);
			struct lb_asset_audit aa;
			lb_audit_dicom(&f, &aa);
			lb_hexa_set_u64(h, "audit.score", aa.score);
			if (lb_dicom_luma(&f, &luma, &w, &hh, NULL))
				luma = NULL;
			lb_dicom_file_release(&f);
		}
	} else if (IS("image")) {
		struct lb_image im;
		rc = lb_image_read(data, len, true, &im, em);
		if (!rc) {
			lb_hexa_set_str(h, "data.format", "image");
			feat(h, "image_format", "%s", im.format);
			feat(h, "width", "%u", im.width);
			feat(h, "height", "%u", im.height);
			feat(h, "channels", "%d", im.channels);
			lb_hexa_set_u64(h, "basic.volume", 1);
			rc = lb_semantic_image(data, len, h);
			struct lb_asset_audit aa;
			lb_audit_image(&im, &aa);
			lb_hexa_set_u64(h, "audit.score", aa.score);
			luma = im.luma;
			w = im.width;
			hh = im.height;
		}
	} else if (IS("csv")) {
		struct lb_csv_profile p;
		rc = lb_csv_profile((const char *)data, len, NULL, &p, em);
		if (!rc) {
			struct lb_audit a;
			lb_hexa_set_str(h, "data.format", "table");
			lb_hexa_set_u64(h, "basic.volume", p.rows);
			feat(h, "rows", "%zu", p.rows);
			feat(h, "columns", "%zu", p.ncols);
			const char *names[64];
			size_t nn = 0;
			for (size_t j = 0; j < p.ncols && j < 64; j++) {
				char key[160];
				snprintf(key, sizeof key, "column.%s", p.cols[j].name);
				feat(h, key, "%s", lb_col_type_name(p.cols[j].type));
				if (p.has_header)
					names[nn++] = p.cols[j].name;
			}
			rc = lb_semantic_columns(names, nn, h);
			if (lb_audit_table(&p, NULL, &a, NULL) == LB_OK) {
				lb_hexa_set_u64(h, "audit.score", a.score);
				lb_audit_release(&a);
			}
			lb_csv_profile_release(&p);
		}
	} else if (IS("fhir")) {
		struct lb_fhir_summary s;
		rc = lb_fhir_summarise((const char *)data, len, &s, em);
		if (!rc) {
			lb_hexa_set_str(h, "data.format", "fhir");
			struct lb_asset_audit aa;
			if (lb_audit_fhir((const char *)data, len, &aa, NULL) == LB_OK)
				lb_hexa_set_u64(h, "audit.score", aa.score);
			lb_hexa_set_u64(h, "basic.volume", s.resources);
			feat(h, "resources", "%zu", s.resources);
			feat(h, "patients", "%zu", s.patients);
			feat(h, "first_date", "%s", s.first_date);
			feat(h, "last_date", "%s", s.last_date);
			for (size_t i = 0; i < s.ncodes; i++) {
				/* ICD-10 and SNOMED CT codes become semantic codes; an invalid one
				 * stays visible as "invalid|system|code" */
				const char *k = s.codes[i].key, *bar = strrchr(k, '|');
				char sys[256], code[300];
				if (!bar || (size_t)(bar - k) >= sizeof sys)
					continue;
				memcpy(sys, k, (size_t)(bar - k));
				sys[bar - k] = 0;
				if (lb_code_facet_entry(lb_code_system_of(sys), bar + 1, NULL, code,
							sizeof code) == LB_OK)
					lb_hexa_list_add(h, "semantic.codes", code);
			}
			lb_fhir_summary_release(&s);
		}
	} else if (IS("audio") || IS("video")) {
		struct lb_media m;
		rc = lb_media_read(data, len, &m, em);
		if (!rc) {
			lb_hexa_set_str(h, "data.format", m.kind);
			lb_hexa_set_u64(h, "basic.volume", 1);
			feat(h, "container", "%s", m.container);
			if (m.duration > 0)
				feat(h, "duration_s", "%.3f", m.duration);
			if (m.sample_rate) {
				feat(h, "sample_rate", "%u", m.sample_rate);
				feat(h, "channels", "%u", m.channels);
			}
			if (m.bits)
				feat(h, "bits_per_sample", "%u", m.bits);
			feat(h, "audio_codec", "%s", m.audio_codec);
			if (m.width) {
				feat(h, "width", "%u", m.width);
				feat(h, "height", "%u", m.height);
			}
			if (m.frame_rate > 0)
				feat(h, "frame_rate", "%.3f", m.frame_rate);
			feat(h, "video_codec", "%s", m.video_codec);
			struct lb_asset_audit aa;
			lb_audit_media(&m, &aa);
			lb_hexa_set_u64(h, "audit.score", aa.score);
		}
	} else if (IS("pdf")) {
		struct lb_pdf p;
		rc = lb_pdf_read(data, len, &p, em);
		if (!rc) {
			lb_hexa_set_str(h, "data.format", "pdf");
			lb_hexa_set_u64(h, "basic.volume", p.pages);
			feat(h, "pages", "%u", p.pages);
			feat(h, "pdf_version", "%s", p.version);
			if (p.title[0] && lb_utf8_is_text((const uint8_t *)p.title, strlen(p.title)))
				lb_hexa_set_str(h, "semantic.subject", p.title);
			if (p.keywords[0]) {
				char kw[256];
				snprintf(kw, sizeof kw, "%s", p.keywords);
				for (char *save = NULL, *t = strtok_r(kw, ",;", &save); t;
				     t = strtok_r(NULL, ",;", &save)) {
					while (*t == ' ')
						t++;
					if (*t && lb_utf8_is_text((const uint8_t *)t, strlen(t)))
						lb_hexa_list_add(h, "semantic.keywords", t);
				}
			}
			/* the pages' text is described like a note: language, keywords, MinHash */
			if (p.words)
				rc = describe_text(h, p.text, p.text_len, true, em);
			else
				feat(h, "words", "0");
			struct lb_asset_audit aa;
			lb_audit_pdf(&p, &aa);
			lb_hexa_set_u64(h, "audit.score", aa.score);
			lb_pdf_release(&p);
		}
	} else {
		rc = describe_text(h, (const char *)data, len, true, em);
		if (!rc) {
			lb_hexa_set_str(h, "data.format", "text");
			struct lb_asset_audit aa;
			lb_audit_text((const char *)data, len, &aa);
			lb_hexa_set_u64(h, "audit.score", aa.score);
			lb_hexa_set_u64(h, "basic.volume", 1);
		}
	}
#undef IS
	if (luma) {
		struct lb_pdq p[8];
		if (lb_pdq_hash(luma, w, hh, p) == LB_OK && p[0].quality >= LB_PDQ_MIN_QUALITY)
			lb_hexa_set_bytes(h, "raw.pdq", p[0].hash, 32);
		struct lb_imgsig *sig = lb_malloc(sizeof *sig); /* crops and overlays PDQ misses */
		uint8_t enc[LB_IMGSIG_BYTES];
		if (sig && lb_imgsig_make(luma, w, hh, sig) == LB_OK && !sig->flat) {
			lb_imgsig_encode(sig, enc);
			lb_hexa_set_bytes(h, "raw.imgsig", enc, sizeof enc);
		}
		lb_free(sig);
		lb_free(luma);
	}
	lb_free(data);
	if (rc) {
		lb_hexa_release(h);
		return lb_errwrap(em, "%s: ", path);
	}
	static const char *const pub[] = {"basic", "semantic", "data", "raw.blake2b", "raw.pdq",
					  "raw.minhash", "dynamic", "audit", "raw.imgsig"};
	for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++)
		lb_hexa_set_public(h, pub[i], true);
	return LB_OK;
}

/* ---- watch ---------------------------------------------------------------------------- */

static int scan(const char *dir, json_t *now, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return LB_ENOTFOUND;
	struct dirent *de;
	int rc = LB_OK;
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode) && depth < 32)
			rc = scan(path, now, depth + 1);
		else if (S_ISREG(st.st_mode)) {
			uint8_t *data, h[32];
			size_t len;
			char hex[65];
			if (lb_file_read(path, (size_t)2 << 30, &data, &len, NULL))
				continue;
			lb_digest_blake2b(data, len, h);
			lb_free(data);
			lb_hex_encode(hex, h, 32);
			json_object_set_new(now, path, json_string(hex));
		}
	}
	closedir(d);
	return rc;
}

int lb_data_watch_scan(const char *dir, const char *state_path, struct lb_watch_change **changes,
		       size_t *n, struct lb_errmsg *em)
{
	*changes = NULL;
	*n = 0;
	json_t *old = json_load_file(state_path, 0, NULL);
	if (!old)
		old = json_object();
	json_t *now = json_object();
	if (scan(dir, now, 0)) {
		json_decref(old);
		json_decref(now);
		return lb_errf(em, LB_ENOTFOUND, "%s: cannot open the directory", dir);
	}
	size_t cap = json_object_size(now) + json_object_size(old) + 1;
	*changes = lb_calloc(cap, sizeof **changes);
	if (!*changes) {
		json_decref(old);
		json_decref(now);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	const char *k;
	json_t *v;
	json_object_foreach(now, k, v) {
		json_t *o = json_object_get(old, k);
		int kind = !o ? 1 : strcmp(json_string_value(o), json_string_value(v)) ? 2 : 0;
		if (!kind)
			continue;
		struct lb_watch_change *c = &(*changes)[(*n)++];
		snprintf(c->path, sizeof c->path, "%s", k);
		lb_hex_decode(c->blake2b, 32, json_string_value(v));
		c->kind = kind;
	}
	json_object_foreach(old, k, v) {
		if (json_object_get(now, k))
			continue;
		struct lb_watch_change *c = &(*changes)[(*n)++];
		snprintf(c->path, sizeof c->path, "%s", k);
		c->kind = 3;
	}
	char *text = json_dumps(now, JSON_SORT_KEYS | JSON_INDENT(1));
	int rc = text ? lb_file_write(state_path, text, strlen(text), 0600, em)
		      : lb_errf(em, LB_ENOMEM, "out of memory");
	free(text);
	json_decref(old);
	json_decref(now);
	if (rc) {
		lb_free(*changes);
		*changes = NULL;
		*n = 0;
	}
	return rc;
}
