/*
 * PDF documents through poppler (Debian's libpoppler-glib): page count, document information
 * (title, author, subject, keywords, creator, producer, creation date, PDF version) and the
 * text of every page, which feeds the text profile, the near-duplicate signature and search
 * like a note. The document is opened from memory; nothing is rendered.
 */
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

static void copy_info(char *dst, size_t cap, gchar *s)
{
	dst[0] = 0;
	if (s) {
		snprintf(dst, cap, "%s", s);
		g_free(s);
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
	GError *err = NULL;
	GBytes *bytes = g_bytes_new_static(d, n);
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &err);
	int rc = LB_OK;
	if (!doc) {
		bool locked = err && err->domain == POPPLER_ERROR && err->code == POPPLER_ERROR_ENCRYPTED;
		rc = locked ? lb_errf(em, LB_EUNAUTH,
				      "the PDF is encrypted with a password: save an unprotected copy "
				      "to register it")
			    : lb_errf(em, LB_EMALFORMED, "poppler cannot open the PDF: %s",
				      err ? err->message : "unknown reason");
		if (err)
			g_error_free(err);
		g_bytes_unref(bytes);
		return rc;
	}
	int pages = poppler_document_get_n_pages(doc);
	out->pages = pages > 0 ? (uint32_t)pages : 0;
	copy_info(out->title, sizeof out->title, poppler_document_get_title(doc));
	copy_info(out->author, sizeof out->author, poppler_document_get_author(doc));
	copy_info(out->subject, sizeof out->subject, poppler_document_get_subject(doc));
	copy_info(out->keywords, sizeof out->keywords, poppler_document_get_keywords(doc));
	copy_info(out->creator, sizeof out->creator, poppler_document_get_creator(doc));
	copy_info(out->producer, sizeof out->producer, poppler_document_get_producer(doc));
	copy_info(out->version, sizeof out->version, poppler_document_get_pdf_version_string(doc));
	GDateTime *dt = poppler_document_get_creation_date_time(doc);
	if (dt) {
		out->created = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	struct lb_buf text;
	lb_buf_init(&text, PDF_MAX_TEXT);
	for (int i = 0; !rc && i < pages && i < PDF_MAX_PAGES; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		if (!page)
			continue;
		char *t = poppler_page_get_text(page);
		if (t) {
			rc = lb_buf_add(&text, t, strlen(t));
			g_free(t);
		}
		if (!rc)
			rc = lb_buf_add(&text, "\f", 1);
		g_object_unref(page);
	}
	g_object_unref(doc);
	g_bytes_unref(bytes);
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
