/*
 * The one type detector of the data layer: `data inspect`, `data audit`, `data add`,
 * `data watch` and `data dedup` all ask it what a file is, so the same bytes are the same
 * type everywhere. The magic bytes decide first (libmagic's database, the one file(1) uses;
 * DICOM's DICM at offset 128 before it, since some DICOM preambles hold a TIFF header), text
 * is then sorted by content and name (JSON object: FHIR; .csv/.tsv or text/csv: table; other
 * text: a note), and binary data libmagic cannot name is tried as a bare DICOM data set. The
 * extractor of the type found then confirms by parsing. Anything else is refused with one
 * message: what the file is, what LEBEN registers, what to do.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <magic.h>

#include "leben/data_dicom.h"
#include "leben/data_extract.h"

/* libmagic handles are not thread-safe and loading the database costs milliseconds: one handle
 * per process, used under a lock. */
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_handle;
static int magic_state; /* 0 not tried, 1 loaded, -1 unavailable */

static void magic_query(const uint8_t *d, size_t n, int flags, char *out, size_t cap)
{
	out[0] = 0;
	if (magic_state == 0) {
		magic_handle = magic_open(MAGIC_NONE);
		magic_state = magic_handle && magic_load(magic_handle, NULL) == 0 ? 1 : -1;
	}
	if (magic_state != 1)
		return;
	magic_setflags(magic_handle, flags);
	/* libmagic looks at the first megabyte at most; do not hand it more */
	const char *r = magic_buffer(magic_handle, d, n < (1u << 20) ? n : (1u << 20));
	if (r)
		snprintf(out, cap, "%s", r);
}

const char *lb_data_type_name(const char *type)
{
	static const char *const names[] = {"dicom", "csv", "fhir", "text", "image",
					    "audio", "video", "pdf", NULL};
	if (!type)
		return NULL;
	if (!strcmp(type, "table"))
		return "csv";
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(type, names[i]))
			return names[i];
	return NULL;
}

static bool has_ext(const char *name, const char *const *exts)
{
	const char *base = name ? strrchr(name, '/') : NULL;
	base = base ? base + 1 : name;
	const char *ext = base ? strrchr(base, '.') : NULL;
	for (size_t i = 0; ext && exts[i]; i++)
		if (!strcasecmp(ext, exts[i]))
			return true;
	return false;
}

/* MIME types libmagic gives for the containers media.c reads, and PDF. */
static const struct {
	const char *mime, *type;
} by_mime[] = {
	{"application/dicom", "dicom"},  {"image/png", "image"},
	{"image/jpeg", "image"},         {"audio/x-wav", "audio"},
	{"audio/wav", "audio"},          {"audio/vnd.wave", "audio"},
	{"audio/flac", "audio"},         {"audio/x-flac", "audio"},
	{"audio/mpeg", "audio"},         {"audio/ogg", "audio"},
	{"application/ogg", "audio"},    {"audio/x-m4a", "audio"},
	{"audio/mp4", "audio"},          {"video/ogg", "video"},
	{"video/mp4", "video"},          {"video/quicktime", "video"},
	{"video/webm", "video"},         {"video/x-matroska", "video"},
	{"video/x-msvideo", "video"},    {"video/avi", "video"},
	{"video/3gpp", "video"},         {"application/pdf", "pdf"},
};

/* Signatures checked when libmagic is unavailable (and as a cross-check of what it names). */
static const char *by_signature(const uint8_t *d, size_t n)
{
	if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
		return "image";
	if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
		return "image";
	if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WAVE", 4))
		return "audio";
	if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "AVI ", 4))
		return "video";
	if (n >= 4 && (!memcmp(d, "fLaC", 4) || !memcmp(d, "OggS", 4) || !memcmp(d, "ID3", 3)))
		return "audio";
	if (n >= 12 && !memcmp(d + 4, "ftyp", 4))
		return !memcmp(d + 8, "M4A ", 4) ? "audio" : "video";
	if (n >= 4 && !memcmp(d, "\x1a\x45\xdf\xa3", 4))
		return "video";
	if (n >= 5 && !memcmp(d, "%PDF-", 5))
		return "pdf";
	return NULL;
}

static bool is_text_family(const char *mime, const char *enc)
{
	if (!strncmp(mime, "text/", 5) || !strcmp(mime, "application/json") ||
	    !strcmp(mime, "application/csv"))
		return true;
	return enc[0] && strcmp(enc, "binary") != 0 && strncmp(enc, "utf-16", 6) &&
	       strncmp(enc, "utf-32", 6);
}

/* Text with a few stray control characters (which libmagic calls binary): no NUL byte, and
 * at most 8 or 1 byte in 50 a control character other than tab, CR, LF and form feed. */
static bool mostly_text(const uint8_t *d, size_t n)
{
	size_t ctl = 0, m = n < (1u << 20) ? n : (1u << 20);
	for (size_t i = 0; i < m; i++) {
		if (!d[i])
			return false;
		ctl += (d[i] < 32 && d[i] != '\t' && d[i] != '\n' && d[i] != '\r' && d[i] != '\f') ||
		       d[i] == 127;
	}
	return ctl <= 8 || ctl * 50 <= m;
}

int lb_data_detect(const char *name, const uint8_t *d, size_t n, struct lb_detected *out,
		   struct lb_errmsg *em)
{
	static const char *const table_ext[] = {".csv", ".tsv", NULL};
	static const char *const dcm_ext[] = {".dcm", ".dicom", NULL};
	char enc[64];
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&magic_lock);
	magic_query(d, n, MAGIC_MIME_TYPE, out->mime, sizeof out->mime);
	magic_query(d, n, MAGIC_MIME_ENCODING, enc, sizeof enc);
	magic_query(d, n, MAGIC_NONE, out->what, sizeof out->what);
	pthread_mutex_unlock(&magic_lock);
	const char *t = NULL;
	if (n == 0)
		return lb_errf(em, LB_EINVALID,
			       "offset 0: the file is empty (0 bytes): there is nothing to describe; export "
			       "it again from its source");
	if (n >= 132 && !memcmp(d + 128, "DICM", 4))
		t = "dicom";
	for (size_t i = 0; !t && i < sizeof by_mime / sizeof by_mime[0]; i++)
		if (!strcmp(out->mime, by_mime[i].mime))
			t = by_mime[i].type;
	if (!t && (!out->mime[0] || !strcmp(out->mime, "application/octet-stream")))
		/* libmagic has no database or does not know the bytes (a PNG cut after its
		 * signature): the signatures LEBEN knows, so the parser can say what is wrong */
		t = by_signature(d, n);
	if (!t && (is_text_family(out->mime, enc) || mostly_text(d, n))) {
		size_t i = 0;
		while (i < n && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
			i++;
		if (i < n && d[i] == '{')
			t = "fhir";
		else if (has_ext(name, table_ext) || !strcmp(out->mime, "text/csv") ||
			 !strcmp(out->mime, "application/csv"))
			t = "csv";
		else
			t = "text";
	}
	bool dcm_name = has_ext(name, dcm_ext);
	if (!t && (lb_dicom_is_dataset(d, n) || dcm_name)) {
		/* a bare data set without preamble, often with no file name suffix */
		if (!out->mime[0] || !strcmp(out->mime, "application/octet-stream")) {
			t = "dicom";
		} else {
			/* libmagic's weaker rules (Targa, TIFF in a DICOM preamble cut short) can
			 * name such bytes: a data set that parses whole is DICOM; a .dcm file that
			 * does not is refused with where the DICOM reader stopped */
			struct lb_dicom_file f;
			struct lb_errmsg pe;
			lb_errclear(&pe);
			int prc = lb_dicom_parse(d, n, &f, &pe);
			if (prc == LB_OK) {
				lb_dicom_file_release(&f);
				t = "dicom";
			} else if (dcm_name) {
				return lb_errf(em, prc, "%s (the file is named .dcm; libmagic reads %s)",
					       pe.text, out->what);
			}
		}
	}
	if (t) {
		snprintf(out->type, sizeof out->type, "%s", t);
		return LB_OK;
	}
	return lb_errf(em, LB_EUNSUPPORTED,
		       "this is %s (%s), a type LEBEN does not register. LEBEN registers DICOM, "
		       "CSV/TSV tables, FHIR R4 JSON, text notes, PNG/JPEG images, WAV/FLAC/MP3/Ogg "
		       "audio, MP4/WebM/AVI video and PDF documents: export or convert the data to "
		       "one of these, or give --type if you know it is one of them",
		       out->what[0] && strcmp(out->what, "data") ? out->what
								 : "binary data of a kind neither "
								   "libmagic nor LEBEN recognises",
		       out->mime[0] ? out->mime : "no MIME type");
}
