/*
 * PDF documents through poppler (Debian's libpoppler-glib): page count, document information
 * (title, author, subject, keywords, creator, producer, creation date, PDF version) and the
 * text of every page, which feeds the text profile, the near-duplicate signature and search
 * like a note. The document is opened from memory; nothing is rendered.
 *
 * poppler is loaded when the first PDF is read (dlopen of libpoppler-glib.so.8, which brings
 * glib and cairo): linked in, its forty-odd libraries would cost every `leben` command some
 * 50 ms at start-up, PDF or not. The headers still give the types and signatures.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <poppler.h>
#pragma GCC diagnostic pop

#include "data/data_int.h"
#include "leben/data_extract.h"

#define PDF_MAX_PAGES 100000
#define PDF_MAX_TEXT ((size_t)256 << 20)
#define POPPLER_SONAME "libpoppler-glib.so.8"

/* The poppler-glib and glib functions used, resolved once. */
static struct poppler_api {
	PopplerDocument *(*new_from_bytes)(GBytes *, const char *, GError **);
	int (*n_pages)(PopplerDocument *);
	PopplerPage *(*get_page)(PopplerDocument *, int);
	char *(*page_text)(PopplerPage *);
	gchar *(*title)(PopplerDocument *);
	gchar *(*author)(PopplerDocument *);
	gchar *(*subject)(PopplerDocument *);
	gchar *(*keywords)(PopplerDocument *);
	gchar *(*creator)(PopplerDocument *);
	gchar *(*producer)(PopplerDocument *);
	gchar *(*version)(PopplerDocument *);
	GDateTime *(*created)(PopplerDocument *);
	GQuark (*error_quark)(void);
	GBytes *(*bytes_new_static)(gconstpointer, gsize);
	void (*bytes_unref)(GBytes *);
	void (*free)(gpointer);
	void (*object_unref)(gpointer);
	void (*error_free)(GError *);
	gint64 (*dt_to_unix)(GDateTime *);
	void (*dt_unref)(GDateTime *);
} pp;
static pthread_once_t pp_once = PTHREAD_ONCE_INIT;
static char pp_error[256];

static void pp_load(void)
{
	void *h = dlopen(POPPLER_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(pp_error, sizeof pp_error, "%s", dlerror());
		return;
	}
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define S(field, name) {name, offsetof(struct poppler_api, field)}
		S(new_from_bytes, "poppler_document_new_from_bytes"),
		S(n_pages, "poppler_document_get_n_pages"),
		S(get_page, "poppler_document_get_page"),
		S(page_text, "poppler_page_get_text"),
		S(title, "poppler_document_get_title"),
		S(author, "poppler_document_get_author"),
		S(subject, "poppler_document_get_subject"),
		S(keywords, "poppler_document_get_keywords"),
		S(creator, "poppler_document_get_creator"),
		S(producer, "poppler_document_get_producer"),
		S(version, "poppler_document_get_pdf_version_string"),
		S(created, "poppler_document_get_creation_date_time"),
		S(error_quark, "poppler_error_quark"),
		S(bytes_new_static, "g_bytes_new_static"),
		S(bytes_unref, "g_bytes_unref"),
		S(free, "g_free"),
		S(object_unref, "g_object_unref"),
		S(error_free, "g_error_free"),
		S(dt_to_unix, "g_date_time_to_unix"),
		S(dt_unref, "g_date_time_unref"),
#undef S
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *f = dlsym(h, syms[i].name);
		if (!f) {
			snprintf(pp_error, sizeof pp_error, "%s has no %s", POPPLER_SONAME, syms[i].name);
			memset(&pp, 0, sizeof pp);
			return;
		}
		/* POSIX guarantees a data pointer from dlsym converts to a function pointer */
		memcpy((char *)&pp + syms[i].off, &f, sizeof f);
	}
}

static void copy_info(char *dst, size_t cap, gchar *s)
{
	dst[0] = 0;
	if (s) {
		snprintf(dst, cap, "%s", s);
		pp.free(s);
	}
}

int lb_pdf_read(const uint8_t *d, size_t n, struct lb_pdf *out, struct lb_errmsg *em)
{
	memset(out, 0, sizeof *out);
	out->created = -1;
	if (n < 5 || memcmp(d, "%PDF-", 5))
		return lb_errf(em, LB_EMALFORMED, "offset 0: no %%PDF- header: not a PDF file");
	if (n > INT32_MAX)
		return lb_errf(em, LB_ELIMIT, "PDF files above 2 GiB are not read");
	pthread_once(&pp_once, pp_load);
	if (!pp.new_from_bytes)
		return lb_errf(em, LB_EUNAVAILABLE,
			       "PDF documents need poppler (%s): install the Debian package "
			       "libpoppler-glib8 (scripts/deps.sh does)",
			       pp_error);
	GError *err = NULL;
	GBytes *bytes = pp.bytes_new_static(d, n);
	PopplerDocument *doc = pp.new_from_bytes(bytes, NULL, &err);
	int rc = LB_OK;
	if (!doc) {
		bool locked = err && err->domain == pp.error_quark() &&
			      err->code == POPPLER_ERROR_ENCRYPTED;
		rc = locked ? lb_errf(em, LB_EUNAUTH,
				      "the PDF is encrypted with a password: save an unprotected copy "
				      "to register it")
			    : lb_errf(em, LB_EMALFORMED, "poppler cannot open the PDF: %s",
				      err ? err->message : "unknown reason");
		if (err)
			pp.error_free(err);
		pp.bytes_unref(bytes);
		return rc;
	}
	int pages = pp.n_pages(doc);
	out->pages = pages > 0 ? (uint32_t)pages : 0;
	copy_info(out->title, sizeof out->title, pp.title(doc));
	copy_info(out->author, sizeof out->author, pp.author(doc));
	copy_info(out->subject, sizeof out->subject, pp.subject(doc));
	copy_info(out->keywords, sizeof out->keywords, pp.keywords(doc));
	copy_info(out->creator, sizeof out->creator, pp.creator(doc));
	copy_info(out->producer, sizeof out->producer, pp.producer(doc));
	copy_info(out->version, sizeof out->version, pp.version(doc));
	GDateTime *dt = pp.created(doc);
	if (dt) {
		out->created = pp.dt_to_unix(dt);
		pp.dt_unref(dt);
	}
	struct lb_buf text;
	lb_buf_init(&text, PDF_MAX_TEXT);
	for (int i = 0; !rc && i < pages && i < PDF_MAX_PAGES; i++) {
		PopplerPage *page = pp.get_page(doc, i);
		if (!page)
			continue;
		char *t = pp.page_text(page);
		if (t) {
			rc = lb_buf_add(&text, t, strlen(t));
			pp.free(t);
		}
		if (!rc)
			rc = lb_buf_add(&text, "\f", 1);
		pp.object_unref(page);
	}
	pp.object_unref(doc);
	pp.bytes_unref(bytes);
	if (!rc)
		rc = lb_buf_add(&text, "", 1);
	if (rc) {
		lb_buf_release(&text);
		return lb_errf(em, rc == LB_ENOMEM ? LB_ENOMEM : LB_ELIMIT,
			       "the PDF's text is larger than %zu MiB", PDF_MAX_TEXT >> 20);
	}
	out->text = (char *)text.data;
	out->text_len = text.len - 1;
	char w[64];
	for (size_t pos = 0; data_next_word(out->text, out->text_len, &pos, w, sizeof w);)
		out->words++;
	return LB_OK;
}

void lb_pdf_release(struct lb_pdf *p)
{
	lb_free(p->text);
	p->text = NULL;
	p->text_len = 0;
}

json_t *lb_pdf_json(const struct lb_pdf *p)
{
	json_t *j = json_pack("{s:I,s:I,s:I}", "pages", (json_int_t)p->pages, "words",
			      (json_int_t)p->words, "text_bytes", (json_int_t)p->text_len);
	if (!j)
		return NULL;
	static const char *const keys[] = {"title", "author", "subject", "keywords", "creator",
					   "producer", "version"};
	const char *vals[] = {p->title, p->author, p->subject, p->keywords, p->creator,
			      p->producer, p->version};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (vals[i][0])
			json_object_set_new(j, keys[i], json_string(vals[i]));
	if (p->created >= 0)
		json_object_set_new(j, "created", json_integer(p->created));
	return j;
}
