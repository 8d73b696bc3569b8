/*
 * Text (clinical notes) profiling: encoding check, sizes, a language guess by stop-word counts
 * and the most frequent content words. Also the word tokeniser the MinHash near-duplicate
 * detector uses (src/data/minhash.c), so both see the same words.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_extract.h"

static const char *const stop_en[] = {"the", "and", "of", "to", "in", "is", "was", "with",
				      "for", "on", "no", "patient", "are", "by", "at", "as",
				      "be", "this", "that", "from", "or", "an", "has", "not", NULL};
static const char *const stop_fr[] = {"le", "la", "les", "et", "des", "du", "un", "une", "est",
				      "dans", "pour", "avec", "sur", "au", "pas", "par", "il",
				      "elle", "qui", "que", NULL};
static const char *const stop_de[] = {"der", "die", "das", "und", "ist", "nicht", "mit", "ein",
				      "eine", "den", "dem", "von", "zu", "im", "auf", "bei", NULL};
static const char *const stop_es[] = {"el", "los", "las", "y", "del", "en", "con", "por", "una",
				      "es", "para", "se", "no", "que", "sin", NULL};
static const char *const stop_it[] = {"il", "gli", "della", "di", "e", "che", "con", "per",
				      "una", "non", "sono", "nel", "alla", NULL};
static const char *const stop_nl[] = {"de", "het", "een", "en", "van", "niet", "met", "op",
				      "is", "voor", "zijn", "bij", NULL};
static const char *const stop_pt[] = {"o", "os", "as", "e", "do", "da", "em", "um", "uma",
				      "com", "para", "não", "que", "sem", NULL};

static const struct {
	const char *code;
	const char *const *words;
} langs[] = {{"en", stop_en}, {"fr", stop_fr}, {"de", stop_de}, {"es", stop_es},
	     {"it", stop_it}, {"nl", stop_nl}, {"pt", stop_pt}};

static bool in_list(const char *const *l, const char *w)
{
	for (; *l; l++)
		if (!strcmp(*l, w))
			return true;
	return false;
}

/* Next word: a run of letters/digits (bytes >= 0x80 count as letters), lowercased into out. */
size_t data_next_word(const char *s, size_t len, size_t *pos, char *out, size_t cap)
{
	size_t i = *pos;
	while (i < len && !isalnum((unsigned char)s[i]) && (unsigned char)s[i] < 0x80)
		i++;
	size_t n = 0;
	while (i < len && (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)) {
		if (n + 1 < cap)
			out[n++] = (char)tolower((unsigned char)s[i]);
		i++;
	}
	if (cap)
		out[n] = 0;
	*pos = i;
	return n;
}

struct term {
	char *w;
	size_t count;
	size_t first;
};

int lb_text_profile(const char *text, size_t len, struct lb_text_profile *out,
		    struct lb_errmsg *em)
{
	memset(out, 0, sizeof *out);
	const char *nul = memchr(text, 0, len);
	if (nul)
		return lb_errf(em, LB_EMALFORMED, "offset %zu: NUL byte: this is binary data, not text",
			       (size_t)(nul - text));
	out->bytes = len;
	out->utf8 = true;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)text[i];
		size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
					   : (c & 0xF8) == 0xF0 ? 4 : 0;
		bool ok = need && i + need <= len && !(need == 2 && c < 0xC2);
		for (size_t k = 1; ok && k < need; k++)
			ok = ((unsigned char)text[i + k] & 0xC0) == 0x80;
		if (!ok) {
			out->utf8 = false;
			i++;
		} else {
			i += need;
		}
		out->chars++;
		if (c == '\n')
			out->lines++;
	}
	if (len && text[len - 1] != '\n')
		out->lines++;
	size_t hits[7] = {0};
	size_t tcap = 256, nt = 0;
	struct term *terms = lb_calloc(tcap, sizeof *terms);
	if (!terms)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	char w[64];
	size_t pos = 0;
	int rc = LB_OK;
	while (pos < len) {
		size_t n = data_next_word(text, len, &pos, w, sizeof w);
		if (!n)
			continue;
		out->words++;
		bool stop = false;
		for (size_t l = 0; l < 7; l++)
			if (in_list(langs[l].words, w)) {
				hits[l]++;
				stop = true;
			}
		bool alpha = true;
		for (size_t k = 0; w[k]; k++)
			if (isdigit((unsigned char)w[k]))
				alpha = false;
		if (stop || n < 4 || !alpha)
			continue;
		size_t k;
		for (k = 0; k < nt && strcmp(terms[k].w, w); k++)
			;
		if (k < nt) {
			terms[k].count++;
			continue;
		}
		if (nt == tcap) {
			if (tcap >= 65536)
				continue; /* enough vocabulary for a top-10 */
			struct term *ntm = lb_realloc(terms, tcap * 2 * sizeof *ntm);
			if (!ntm) {
				rc = LB_ENOMEM;
				break;
			}
			terms = ntm;
			tcap *= 2;
		}
		terms[nt].w = lb_strdup(w);
		if (!terms[nt].w) {
			rc = LB_ENOMEM;
			break;
		}
		terms[nt].count = 1;
		terms[nt].first = nt;
		nt++;
	}
	size_t best = 0;
	for (size_t l = 1; l < 7; l++)
		if (hits[l] > hits[best])
			best = l;
	if (hits[best] >= 2 && hits[best] * 20 >= out->words)
		memcpy(out->language, langs[best].code, 3);
	for (size_t t = 0; rc == LB_OK && t < 10; t++) {
		struct term *b = NULL;
		for (size_t k = 0; k < nt; k++)
			if (terms[k].count && (!b || terms[k].count > b->count))
				b = &terms[k];
		if (!b)
			break;
		out->terms[out->nterms] = lb_strdup(b->w);
		if (!out->terms[out->nterms]) {
			rc = LB_ENOMEM;
			break;
		}
		out->term_counts[out->nterms++] = b->count;
		b->count = 0;
	}
	for (size_t k = 0; k < nt; k++)
		lb_free(terms[k].w);
	lb_free(terms);
	if (rc) {
		lb_text_profile_release(out);
		return lb_errf(em, rc, "out of memory");
	}
	return LB_OK;
}

void lb_text_profile_release(struct lb_text_profile *p)
{
	for (size_t i = 0; i < p->nterms; i++)
		lb_free(p->terms[i]);
	memset(p, 0, sizeof *p);
}

json_t *lb_text_profile_json(const struct lb_text_profile *p)
{
	json_t *terms = json_array();
	for (size_t i = 0; i < p->nterms; i++)
		json_array_append_new(terms, json_pack("{s:s,s:I}", "term", p->terms[i], "count",
						       (json_int_t)p->term_counts[i]));
	return json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:s,s:o}", "kind", "text", "utf8", p->utf8,
			 "bytes", (json_int_t)p->bytes, "chars", (json_int_t)p->chars, "words",
			 (json_int_t)p->words, "lines", (json_int_t)p->lines, "language",
			 p->language, "terms", terms);
}
