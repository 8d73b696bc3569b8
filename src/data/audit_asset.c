/*
 * Audit of non-table assets: completeness and validity checks per format (DICOM, FHIR, text,
 * images, audio, video, PDF) with a score in basis points, the same scale as the table audit, so that every
 * asset registered on the directory chain carries one (include/leben/data_audit.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_audit.h"
#include "leben/data_coding.h"
#include "leben/data_dedup.h"

static struct lb_audit_check *add_check(struct lb_asset_audit *a, const char *name)
{
	struct lb_audit_check *c = &a->check[a->nchecks++];
	memset(c, 0, sizeof *c);
	c->name = name;
	return c;
}

static void count(struct lb_audit_check *c, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void count(struct lb_audit_check *c, bool ok, const char *fmt, ...)
{
	c->total++;
	if (ok) {
		c->passed++;
		return;
	}
	if (!c->detail[0] && fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->detail, sizeof c->detail, fmt, ap);
		va_end(ap);
	}
}

/* Mean pass ratio of the applicable checks, in basis points (integers only). */
static void finish(struct lb_asset_audit *a)
{
	uint64_t sum = 0, n = 0;
	for (size_t i = 0; i < a->nchecks; i++) {
		if (!a->check[i].total)
			continue;
		sum += a->check[i].passed * 10000 / a->check[i].total;
		n++;
	}
	a->score = n ? (uint32_t)(sum / n) : 0;
}

/* ---- DICOM ------------------------------------------------------------------------------ */

/* A UID: 1..64 characters, components of digits separated by single dots, no leading zero
 * in a multi-digit component (PS3.5 §9.1). Trailing NUL padding allowed. */
static bool uid_is_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	size_t comp = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (comp == 0 && s[i] == '0' && i + 1 < n && s[i + 1] != '.')
			return false;
		comp++;
	}
	return true;
}

/* DA: YYYYMMDD, a day that exists in the calendar (checked as the FHIR date it spells). */
static bool da_is_valid(const char *s)
{
	if (strlen(s) != 8)
		return false;
	for (int i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	char iso[11], why[96];
	snprintf(iso, sizeof iso, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
	return data_fhir_date_check(iso, DATA_FHIR_DATE, why, sizeof why);
}

void lb_audit_dicom(const struct lb_dicom_file *f, struct lb_asset_audit *a)
{
	memset(a, 0, sizeof *a);
	a->format = "dicom";
	static const struct {
		uint32_t tag;
		const char *name;
	} ids[] = {{0x00080016, "SOPClassUID"},       {0x00080018, "SOPInstanceUID"},
		   {0x0020000D, "StudyInstanceUID"},  {0x0020000E, "SeriesInstanceUID"},
		   {0x00080060, "Modality"},          {0x00100020, "PatientID"}},
	  uids[] = {{0x00080016, "SOPClassUID"},
		    {0x00080018, "SOPInstanceUID"},
		    {0x0020000D, "StudyInstanceUID"},
		    {0x0020000E, "SeriesInstanceUID"},
		    {0x00020010, "TransferSyntaxUID"}},
	  dates[] = {{0x00080020, "StudyDate"},
		     {0x00080021, "SeriesDate"},
		     {0x00080023, "ContentDate"},
		     {0x00100030, "PatientBirthDate"}};
	char s[128];
	struct lb_audit_check *c = add_check(a, "identifiers");
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		count(c, lb_dicom_get_string(f, ids[i].tag, s, sizeof s) && s[0], "%s is missing",
		      ids[i].name);
	c = add_check(a, "uids");
	for (size_t i = 0; i < sizeof uids / sizeof uids[0]; i++)
		if (lb_dicom_get_string(f, uids[i].tag, s, sizeof s) && s[0])
			count(c, uid_is_valid(s), "%s \"%.64s\" is not a valid UID", uids[i].name, s);
	c = add_check(a, "dates");
	for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
		if (lb_dicom_get_string(f, dates[i].tag, s, sizeof s) && s[0])
			count(c, da_is_valid(s), "%s \"%.16s\" is not a date that exists (YYYYMMDD)", dates[i].name,
			      s);
	c = add_check(a, "image");
	const struct lb_dicom_elem *px = lb_dicom_find(f, 0x7FE00010);
	if (px) {
		double rows = 0, cols = 0, bits = 0, spp = 1, frames = 1;
		bool r = lb_dicom_get_number(f, 0x00280010, &rows) && rows > 0;
		bool co = lb_dicom_get_number(f, 0x00280011, &cols) && cols > 0;
		bool b = lb_dicom_get_number(f, 0x00280100, &bits) && bits > 0;
		count(c, r, "Rows is missing or zero");
		count(c, co, "Columns is missing or zero");
		count(c, b, "BitsAllocated is missing or zero");
		lb_dicom_get_number(f, 0x00280002, &spp);
		lb_dicom_get_number(f, 0x00280008, &frames);
		if (r && co && b && !px->undefined_length && px->value) {
			double need = rows * cols * spp * frames * bits / 8;
			count(c, (double)px->length >= need,
			      "pixel data holds %zu bytes, the image attributes need %.0f", px->length,
			      need);
		}
	}
	finish(a);
}

/* ---- FHIR ------------------------------------------------------------------------------- */

struct fhir_walk {
	json_t *known;                 /* "Type/id" and fullUrl values present in the bundle */
	struct lb_asset_audit *a;
	struct lb_audit_check *ids, *refs, *codings, *dates;
	const struct lb_code_tables *tables;
	char path[256];                /* FHIR path of the value being looked at */
};

/* Count one thing; a failure is also listed with its path. */
static void count_at(struct fhir_walk *w, struct lb_audit_check *c, bool ok, const char *where,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void count_at(struct fhir_walk *w, struct lb_audit_check *c, bool ok, const char *where,
		     const char *fmt, ...)
{
	char what[176];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	count(c, ok, "%s: %s", where, what);
	if (ok)
		return;
	struct lb_asset_audit *a = w->a;
	if (a->nproblems == LB_AUDIT_MAX_PROBLEMS) {
		a->more_problems++;
		return;
	}
	struct lb_audit_problem *p = &a->problem[a->nproblems++];
	p->check = c->name;
	snprintf(p->where, sizeof p->where, "%s", where);
	snprintf(p->what, sizeof p->what, "%s", what);
}

static bool is_date_key(const char *k)
{
	static const char *const keys[] = {"birthDate", "deceasedDateTime", "effectiveDateTime",
					   "onsetDateTime", "abatementDateTime", "recordedDate",
					   "issued", "authoredOn", "recorded", "date", "start",
					   "end", "effectiveInstant", "dateTime"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static void check_coding(struct fhir_walk *w, json_t *cd)
{
	const char *sys = json_string_value(json_object_get(cd, "system"));
	const char *code = json_string_value(json_object_get(cd, "code"));
	if (!sys || !*sys || !code || !*code) {
		count_at(w, w->codings, false, w->path, "a coding lacks its system or code");
		return;
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_code_check(lb_code_system_of(sys), code, w->tables, &em);
	count_at(w, w->codings, rc == LB_OK, w->path, "%s", em.text);
}

static void fhir_walk(struct fhir_walk *w, json_t *v, int depth)
{
	if (depth > 64)
		return;
	size_t base = strlen(w->path);
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			snprintf(w->path + base, sizeof w->path - base, "[%zu]", i);
			fhir_walk(w, x, depth + 1);
		}
		w->path[base] = 0;
		return;
	}
	if (!json_is_object(v))
		return;
	const char *k;
	json_t *x;
	json_object_foreach(v, k, x) {
		snprintf(w->path + base, sizeof w->path - base, "%s%s", base ? "." : "", k);
		size_t kb = strlen(w->path);
		if (!strcmp(k, "coding") && json_is_array(x)) {
			size_t i;
			json_t *cd;
			json_array_foreach(x, i, cd) {
				snprintf(w->path + kb, sizeof w->path - kb, "[%zu]", i);
				check_coding(w, cd);
			}
			w->path[kb] = 0;
		} else if (!strcmp(k, "reference") && json_is_string(x)) {
			const char *r = json_string_value(x);
			/* only local references can be resolved; absolute URLs are counted as fine */
			bool local = !strstr(r, "://") && r[0] != '#';
			count_at(w, w->refs, !local || json_object_get(w->known, r), w->path,
				 "reference \"%.80s\" does not resolve inside the bundle", r);
		} else if (json_is_string(x) && is_date_key(k)) {
			enum data_fhir_time ft = data_fhir_time_of(k);
			char why[128];
			bool ok = data_fhir_date_check(json_string_value(x), ft, why, sizeof why);
			count_at(w, w->dates, ok, w->path, "\"%.40s\" is not a valid FHIR %s: %s",
				 json_string_value(x),
				 ft == DATA_FHIR_DATE ? "date" : ft == DATA_FHIR_INSTANT ? "instant" : "dateTime",
				 ok ? "" : why);
		}
		fhir_walk(w, x, depth + 1);
	}
	w->path[base] = 0;
}

static void fhir_note_resource(struct fhir_walk *w, json_t *res, const char *full_url,
			       const char *where)
{
	const char *type = json_string_value(json_object_get(res, "resourceType"));
	const char *id = json_string_value(json_object_get(res, "id"));
	if (!type)
		return;
	count_at(w, w->ids, (id && *id) || (full_url && *full_url), where, "a %s has no id", type);
	if (id && *id) {
		char key[256];
		snprintf(key, sizeof key, "%s/%s", type, id);
		json_object_set_new(w->known, key, json_true());
	}
	if (full_url && *full_url)
		json_object_set_new(w->known, full_url, json_true());
}

/* NDJSON: every line's resource is noted first (references may point forward), then each
 * line is walked; one line is in memory at a time. */
static int audit_ndjson(const char *text, size_t len, const struct lb_code_tables *tables,
			struct lb_asset_audit *a, struct lb_errmsg *em)
{
	struct fhir_walk w = {json_object(), a, add_check(a, "ids"), add_check(a, "references"),
			      add_check(a, "codings"), add_check(a, "dates"), tables, ""};
	for (int pass = 0; pass < 2; pass++) {
		size_t pos = 0, line = 1, n;
		const char *l;
		while (data_ndjson_next(text, len, &pos, &line, &l, &n)) {
			json_error_t je;
			json_t *res = json_loadb(l, n, JSON_REJECT_DUPLICATES, &je);
			if (!json_is_object(res)) {
				json_decref(res);
				json_decref(w.known);
				return lb_errf(em, LB_EMALFORMED, "line %zu: %s", line,
					       res ? "not a JSON object" : je.text);
			}
			const char *rt = json_string_value(json_object_get(res, "resourceType"));
			char where[48];
			snprintf(where, sizeof where, "line %zu", line);
			if (pass == 0) {
				fhir_note_resource(&w, res, NULL, where);
			} else {
				snprintf(w.path, sizeof w.path, "%s", rt ? rt : "");
				fhir_walk(&w, res, 0);
			}
			json_decref(res);
		}
	}
	json_decref(w.known);
	finish(a);
	return LB_OK;
}

int lb_audit_fhir(const char *text, size_t len, struct lb_asset_audit *a, struct lb_errmsg *em)
{
	return lb_audit_fhir_codes(text, len, NULL, a, em);
}

int lb_audit_fhir_codes(const char *text, size_t len, const struct lb_code_tables *tables,
			struct lb_asset_audit *a, struct lb_errmsg *em)
{
	memset(a, 0, sizeof *a);
	a->format = "fhir";
	if (data_is_ndjson(text, len))
		return audit_ndjson(text, len, tables, a, em);
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return lb_errf(em, LB_EMALFORMED, "line %d, column %d: %s", je.line, je.column,
			       je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return lb_errf(em, LB_EMALFORMED, "a FHIR document is a JSON object");
	}
	struct fhir_walk w = {json_object(), a, add_check(a, "ids"), add_check(a, "references"),
			      add_check(a, "codings"), add_check(a, "dates"), tables, ""};
	const char *rt = json_string_value(json_object_get(root, "resourceType"));
	json_t *entries = json_object_get(root, "entry");
	if (rt && !strcmp(rt, "Bundle") && json_is_array(entries)) {
		size_t i;
		json_t *e;
		json_array_foreach(entries, i, e) {
			char where[64];
			snprintf(where, sizeof where, "Bundle.entry[%zu].resource", i);
			fhir_note_resource(&w, json_object_get(e, "resource"),
					   json_string_value(json_object_get(e, "fullUrl")), where);
		}
	} else {
		fhir_note_resource(&w, root, NULL, rt ? rt : "resource");
	}
	snprintf(w.path, sizeof w.path, "%s", rt ? rt : "");
	fhir_walk(&w, root, 0);
	json_decref(w.known);
	json_decref(root);
	finish(a);
	return LB_OK;
}

/* ---- text and images -------------------------------------------------------------------- */

void lb_audit_text(const char *p, size_t len, struct lb_asset_audit *a)
{
	memset(a, 0, sizeof *a);
	a->format = "text";
	struct lb_text_profile t;
	bool have = lb_text_profile(p, len, &t, NULL) == LB_OK;
	count(add_check(a, "encoding"), have && t.utf8, "the text is not valid UTF-8");
	struct lb_audit_check *c = add_check(a, "control_chars");
	uint64_t bad = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];
		if ((ch < 32 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 127)
			bad++;
	}
	c->total = len;
	c->passed = len - bad;
	if (bad)
		snprintf(c->detail, sizeof c->detail, "%llu control characters",
			 (unsigned long long)bad);
	count(add_check(a, "content"), have && t.words > 0, "the text has no words");
	count(add_check(a, "language"), have && t.language[0], "the language was not recognised");
	if (have)
		lb_text_profile_release(&t);
	finish(a);
}

void lb_audit_image(const struct lb_image *im, struct lb_asset_audit *a)
{
	memset(a, 0, sizeof *a);
	a->format = "image";
	count(add_check(a, "decodable"), im->luma != NULL, "the pixels could not be decoded");
	count(add_check(a, "dimensions"), im->width >= 32 && im->height >= 32,
	      "%ux%u is smaller than 32x32", im->width, im->height);
	struct lb_audit_check *c = add_check(a, "detail");
	if (im->luma) {
		struct lb_pdq h[8];
		bool ok = lb_pdq_hash(im->luma, im->width, im->height, h) == LB_OK;
		count(c, ok && h[0].quality >= LB_PDQ_MIN_QUALITY,
		      "the image is nearly uniform (quality %d < %d)", ok ? h[0].quality : 0,
		      LB_PDQ_MIN_QUALITY);
	}
	finish(a);
}

/* ---- audio, video, PDF -------------------------------------------------------------------- */

void lb_audit_media(const struct lb_media *m, struct lb_asset_audit *a)
{
	memset(a, 0, sizeof *a);
	a->format = !strcmp(m->kind, "video") ? "video" : "audio";
	count(add_check(a, "duration"), m->duration > 0,
	      "the %s container does not say how long the recording is", m->container);
	if (m->sample_rate || m->audio_codec[0]) {
		struct lb_audit_check *c = add_check(a, "audio");
		count(c, m->sample_rate >= 4000 && m->sample_rate <= 768000,
		      "sample rate %u Hz is outside 4000..768000", m->sample_rate);
		count(c, m->channels >= 1 && m->channels <= 64, "%u channels", m->channels);
		count(c, m->audio_codec[0] != 0, "the audio codec is not named");
	}
	if (!strcmp(m->kind, "video")) {
		struct lb_audit_check *c = add_check(a, "video");
		count(c, m->width >= 16 && m->height >= 16 && m->width <= 16384 && m->height <= 16384,
		      "%ux%u is not a plausible picture size", m->width, m->height);
		count(c, m->video_codec[0] != 0, "the video codec is not named");
	}
	finish(a);
}

void lb_audit_pdf(const struct lb_pdf *p, struct lb_asset_audit *a)
{
	memset(a, 0, sizeof *a);
	a->format = "pdf";
	count(add_check(a, "pages"), p->pages > 0, "the document has no pages");
	/* a scanned PDF without a text layer cannot be searched or checked for near copies */
	count(add_check(a, "text"), p->words > 0,
	      "no text could be extracted (a scan without a text layer: run OCR first)");
	struct lb_text_profile t;
	bool have = p->text && lb_text_profile(p->text, p->text_len, &t, NULL) == LB_OK;
	count(add_check(a, "language"), have && t.language[0], "the language was not recognised");
	if (have)
		lb_text_profile_release(&t);
	count(add_check(a, "metadata"), p->title[0] != 0, "the document has no title");
	finish(a);
}

json_t *lb_asset_audit_json(const struct lb_asset_audit *a)
{
	json_t *checks = json_array();
	for (size_t i = 0; i < a->nchecks; i++) {
		const struct lb_audit_check *c = &a->check[i];
		json_t *o = json_pack("{s:s,s:I,s:I}", "name", c->name, "passed",
				      (json_int_t)c->passed, "total", (json_int_t)c->total);
		if (o && c->detail[0])
			json_object_set_new(o, "problem", json_string(c->detail));
		json_array_append_new(checks, o);
	}
	json_t *problems = json_array();
	for (size_t i = 0; i < a->nproblems; i++)
		json_array_append_new(problems, json_pack("{s:s,s:s,s:s}", "check",
							  a->problem[i].check, "where",
							  a->problem[i].where, "problem",
							  a->problem[i].what));
	return json_pack("{s:s,s:I,s:o,s:o,s:I}", "format", a->format, "score",
			 (json_int_t)a->score, "checks", checks, "problems", problems,
			 "more_problems", (json_int_t)a->more_problems);
}

int lb_audit_asset_bytes(const char *type, const uint8_t *d, size_t n,
			 const struct lb_code_tables *tables, struct lb_asset_audit *out,
			 struct lb_errmsg *em)
{
	int rc = LB_OK;
	if (!strcmp(type, "dicom")) {
		struct lb_dicom_file f;
		if (!(rc = lb_dicom_parse(d, n, &f, em))) {
			lb_audit_dicom(&f, out);
			lb_dicom_file_release(&f);
		}
	} else if (!strcmp(type, "fhir")) {
		rc = lb_audit_fhir_codes((const char *)d, n, tables, out, em);
	} else if (!strcmp(type, "image")) {
		struct lb_image im;
		if (!(rc = lb_image_read(d, n, true, &im, em))) {
			lb_audit_image(&im, out);
			lb_image_release(&im);
		}
	} else if (!strcmp(type, "audio") || !strcmp(type, "video")) {
		struct lb_media m;
		if (!(rc = lb_media_read(d, n, &m, em)))
			lb_audit_media(&m, out);
	} else if (!strcmp(type, "pdf")) {
		struct lb_pdf p;
		if (!(rc = lb_pdf_read(d, n, &p, em))) {
			lb_audit_pdf(&p, out);
			lb_pdf_release(&p);
		}
	} else {
		lb_audit_text((const char *)d, n, out);
	}
	return rc;
}
