/*
 * Near-duplicate clinical text that survives real edits and still tells different values
 * apart. A note is brought to a canonical form — boilerplate lines (a "Note:" header, a
 * signature line) and list markers dropped, lower case, punctuation and hyphenation removed,
 * numbers glued to their unit split ("300mg"), number words read as numbers ("sixty-seven"),
 * unit spellings folded — and cut into sentences. The fingerprint has two parts:
 *   - a MinHash signature over the words and the 2-word shingles taken inside each sentence
 *     only, with every number replaced by a placeholder, so reordering sentences or rewriting
 *     numbers does not change it;
 *   - a digest of the multiset of values: every number with the unit that follows it, and the
 *     words that turn a finding around (negation, laterality). Two notes whose values differ
 *     are different notes, however similar their wording (potassium 3.1 vs 6.8).
 * The score of a pair is the estimated Jaccard similarity of the element sets, halved when the
 * values differ, so no pair with different values reaches a threshold above 0.5.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "data/data_int.h"
#include "leben/data_dedup.h"

#define WORD_MAX 48      /* longer words are cut (they still compare equal to themselves) */
#define SENT_TOKENS 512  /* a "sentence" longer than this is cut into pieces */
#define WRAP_MIN 45      /* lines at least this long are taken as wrapped text */

struct tok {
	char w[WORD_MAX]; /* lower-case word, or the canonical number */
	bool num;         /* a number (its content form is the placeholder "0") */
};

struct canon {
	struct tok *t;    /* tokens of the current sentence */
	size_t n;
	struct lb_text_fp *fp;
	struct lb_buf vals; /* values, one per line, sorted at the end */
	struct lb_buf *dump; /* canonical form for lb_text_canonical, or NULL */
	int rc;
};

/* ---- word tables ------------------------------------------------------------------------ */

static const struct {
	const char *from, *to;
} unit_fold[] = {
	{"milligram", "mg"},   {"milligrams", "mg"},  {"mgs", "mg"},        {"gram", "g"},
	{"grams", "g"},        {"gm", "g"},           {"kilogram", "kg"},   {"kilograms", "kg"},
	{"kgs", "kg"},         {"microgram", "mcg"},  {"micrograms", "mcg"}, {"ug", "mcg"},
	{"µg", "mcg"},         {"millilitre", "ml"},  {"milliliter", "ml"}, {"millilitres", "ml"},
	{"milliliters", "ml"}, {"mls", "ml"},         {"litre", "l"},       {"liter", "l"},
	{"litres", "l"},       {"liters", "l"},       {"centimetre", "cm"}, {"centimeter", "cm"},
	{"centimetres", "cm"}, {"centimeters", "cm"}, {"millimetre", "mm"}, {"millimeter", "mm"},
	{"millimetres", "mm"}, {"millimeters", "mm"}, {"hours", "h"},       {"hour", "h"},
	{"hrs", "h"},          {"hr", "h"},           {"minutes", "min"},   {"mins", "min"},
	{"minute", "min"},     {"days", "d"},         {"day", "d"},         {"weeks", "wk"},
	{"week", "wk"},        {"wks", "wk"},         {"months", "mo"},     {"month", "mo"},
	{"years", "y"},        {"year", "y"},         {"yrs", "y"},         {"yr", "y"},
	{"units", "u"},        {"unit", "u"},         {"iu", "u"},          {"percent", "%"},
	{"pct", "%"},          {"millimoles", "mmol"}, {"millimole", "mmol"}, {"beats", "bpm"},
	{"breaths", "br"},     {"times", "x"},
};

/* Tokens that are units when they follow a number (after folding). */
static const char *const units[] = {"mg", "g", "kg", "mcg", "ng", "ml", "l", "dl", "cm", "mm",
				    "m", "mmhg", "bpm", "h", "min", "d", "wk", "mo", "y", "u",
				    "%", "mmol", "meq", "mol", "iu", "c", "f", "br", "x", "s",
				    "cc", "lb", "lbs", "in", NULL};

/* Words that turn a finding around: they count as values. */
static const char *const polarity[] = {"no", "not", "without", "denies", "denied", "negative",
				       "positive", "absent", "left", "right", "bilateral", NULL};

static const char *const ones[] = {"zero",    "one",     "two",       "three",    "four",
				   "five",    "six",     "seven",     "eight",    "nine",
				   "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
				   "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", NULL};
static const char *const tens[] = {"twenty", "thirty",  "forty",  "fifty",
				   "sixty",  "seventy", "eighty", "ninety", NULL};

/* Lines that are boilerplate when they start with one of these (lower case). */
static const char *const sig_starts[] = {"signed",     "electronically signed", "e-signed",
					 "dictated",   "transcribed",           "attested",
					 "signature",  "sincerely",             "regards",
					 "authenticated", "reviewed and signed", NULL};
/* Header labels dropped when a line is only the label or starts with "label:". */
static const char *const header_labels[] = {"note",          "clinical note", "progress note",
					    "nursing note",  "report",        "clinic note",
					    "medical note",  "summary",       NULL};
/* Credentials after a comma mark a signature line ("Anna Meyer, MD"). */
static const char *const credentials[] = {"md", "rn", "np", "phd", "mbbs", "dnp",
					  "frcp", "mrcp", "pa-c", "aprn", NULL};

/* Every word of the tables above in one hash table, built once (the lists are small, but a
 * note has many words: linear look-ups were a third of the time). */
struct wentry {
	const char *w;    /* NULL: empty slot */
	const char *fold; /* unit spelling folded to, or NULL */
	int8_t ones;      /* 0..19 for number words, else -1 */
	int8_t tens;      /* 2..9 for twenty..ninety, else -1 */
	bool unit;        /* a unit after a number */
	bool polarity;    /* negation or laterality */
};

#define WTAB 512
static struct wentry wtab[WTAB];
static pthread_once_t wtab_once = PTHREAD_ONCE_INIT;

static struct wentry *wslot(const char *w)
{
	size_t h = (size_t)data_hash64(w, strlen(w)) & (WTAB - 1);
	while (wtab[h].w && strcmp(wtab[h].w, w))
		h = (h + 1) & (WTAB - 1);
	return &wtab[h];
}

static struct wentry *wput(const char *w)
{
	struct wentry *e = wslot(w);
	if (!e->w) {
		e->w = w;
		e->ones = e->tens = -1;
	}
	return e;
}

static void wtab_build(void)
{
	for (size_t i = 0; i < sizeof unit_fold / sizeof unit_fold[0]; i++)
		wput(unit_fold[i].from)->fold = unit_fold[i].to;
	for (int i = 0; units[i]; i++)
		wput(units[i])->unit = true;
	for (int i = 0; polarity[i]; i++)
		wput(polarity[i])->polarity = true;
	for (int i = 0; ones[i]; i++)
		wput(ones[i])->ones = (int8_t)i;
	for (int i = 0; tens[i]; i++)
		wput(tens[i])->tens = (int8_t)(i + 2);
}

static const struct wentry *wlook(const char *w)
{
	static const struct wentry none = {NULL, NULL, -1, -1, false, false};
	pthread_once(&wtab_once, wtab_build);
	const struct wentry *e = wslot(w);
	return e->w ? e : &none;
}


/* ---- MinHash slots ------------------------------------------------------------------------
 * Slot i keeps the minimum of h_i(x) = (a_i x + b_i) >> 32 over the elements x (64-bit
 * multiply-add-shift hashing, a_i odd, from a fixed seed so signatures compare between nodes),
 * x being the element's 64-bit hash passed through a finaliser so nearby hashes spread. */

static uint64_t fp_a[LB_MINHASH_K], fp_b[LB_MINHASH_K];
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void fp_init(void)
{
	uint64_t s = 0x4C45422D54455854ull; /* fixed seed */
	for (int i = 0; i < LB_MINHASH_K; i++) {
		fp_a[i] = mix64(s += 0x9E3779B97F4A7C15ull) | 1;
		fp_b[i] = mix64(s += 0x9E3779B97F4A7C15ull);
	}
}

static void fp_add(struct lb_minhash *m, uint64_t h)
{
	uint64_t x = mix64(h);
	for (int i = 0; i < LB_MINHASH_K; i++) {
		uint32_t v = (uint32_t)((fp_a[i] * x + fp_b[i]) >> 32);
		if (v < m->v[i])
			m->v[i] = v;
	}
}

/* ---- output: shingles and values -------------------------------------------------------- */

static void add_value(struct canon *c, const char *kind, const char *v, const char *unit)
{
	if (c->rc)
		return;
	c->rc = lb_buf_addf(&c->vals, "%s:%s%s%s\n", kind, v, unit ? "|" : "", unit ? unit : "");
	c->fp->nvalues++;
}

/* End of a sentence: values, shingles of LB_TEXT_SHINGLE content words, optional dump. */
static void flush_sentence(struct canon *c)
{
	if (!c->n || c->rc)
		return;
	size_t n = c->n;
	const char *content[SENT_TOKENS];
	for (size_t i = 0; i < n; i++) {
		content[i] = c->t[i].num ? "0" : c->t[i].w;
		if (c->t[i].num) {
			const char *unit = i + 1 < n && !c->t[i + 1].num && wlook(c->t[i + 1].w)->unit
					   ? c->t[i + 1].w
					   : NULL;
			add_value(c, "n", c->t[i].w, unit);
		} else if (wlook(c->t[i].w)->polarity) {
			add_value(c, "w", c->t[i].w, NULL);
		}
	}
	size_t k = LB_TEXT_SHINGLE;
	size_t nsh = n >= k ? n - k + 1 : 1;
	for (size_t s = 0; s < nsh; s++) {
		char buf[LB_TEXT_SHINGLE * (WORD_MAX + 1)];
		size_t o = 0;
		for (size_t j = s; j < s + k && j < n; j++) {
			size_t l = strlen(content[j]);
			if (o)
				buf[o++] = ' ';
			memcpy(buf + o, content[j], l);
			o += l;
		}
		fp_add(&c->fp->mh, data_hash64(buf, o));
	}
	/* and every word alone: layout that moves words between sentences (a list made of a
	 * sentence, a letter's salutation) changes pairs but keeps the words */
	for (size_t j = 0; j < n; j++) {
		char b1[WORD_MAX + 2] = "1 ";
		size_t l = strlen(content[j]);
		memcpy(b1 + 2, content[j], l);
		fp_add(&c->fp->mh, data_hash64(b1, l + 2));
	}
	if (c->dump) {
		for (size_t i = 0; i < n && !c->rc; i++)
			c->rc = lb_buf_addf(c->dump, "%s%s", i ? " " : "", c->t[i].w);
		if (!c->rc)
			c->rc = lb_buf_addc(c->dump, '\n');
	}
	c->n = 0;
}

static void push(struct canon *c, const char *w, size_t len, bool num)
{
	if (c->n == SENT_TOKENS)
		flush_sentence(c);
	struct tok *t = &c->t[c->n++];
	if (len >= WORD_MAX)
		len = WORD_MAX - 1;
	memcpy(t->w, w, len);
	t->w[len] = 0;
	t->num = num;
}

/* Canonical decimal: no leading zeros in the integer part, no trailing zeros after the
 * point, no thousands separators ("007" -> "7", "3.10" -> "3.1", "1,200" -> "1200"). */
static void push_number(struct canon *c, const char *intpart, size_t ni, const char *frac,
			size_t nf)
{
	char b[WORD_MAX];
	size_t o = 0;
	while (ni > 1 && *intpart == '0') {
		intpart++;
		ni--;
	}
	for (size_t i = 0; i < ni && o + 2 < sizeof b; i++)
		if (intpart[i] != ',')
			b[o++] = intpart[i];
	while (nf && frac[nf - 1] == '0')
		nf--;
	if (nf && o + 2 < sizeof b) {
		b[o++] = '.';
		for (size_t i = 0; i < nf && o + 1 < sizeof b; i++)
			b[o++] = frac[i];
	}
	push(c, b, o, true);
}

/* Number words ("sixty seven", "one hundred and twenty") being read. */
struct numwords {
	bool active;
	long total, cur;
	int last; /* 0 none, 1 ones/teens, 2 tens, 3 hundred */
};

static void numwords_flush(struct canon *c, struct numwords *nw)
{
	if (!nw->active)
		return;
	char b[32];
	int n = snprintf(b, sizeof b, "%ld", nw->total + nw->cur);
	push(c, b, (size_t)n, true);
	memset(nw, 0, sizeof *nw);
}

/* A word: number words accumulate, units fold, anything else is pushed as is. */
static void word(struct canon *c, struct numwords *nw, const char *w, bool next_is_numword)
{
	const struct wentry *e = wlook(w);
	int o = e->ones, t = e->tens >= 0 ? e->tens - 2 : -1;
	if (o >= 0) {
		if (nw->active && (nw->last == 1 || (nw->last == 2 && o >= 10)))
			numwords_flush(c, nw);
		nw->active = true;
		nw->cur += o;
		nw->last = 1;
		return;
	}
	if (t >= 0) {
		if (nw->active && nw->last != 3)
			numwords_flush(c, nw);
		nw->active = true;
		nw->cur += (t + 2) * 10;
		nw->last = 2;
		return;
	}
	if (nw->active && !strcmp(w, "hundred") && nw->cur % 100 && nw->cur < 100) {
		nw->cur *= 100;
		nw->last = 3;
		return;
	}
	if (nw->active && !strcmp(w, "thousand") && nw->cur) {
		nw->total += nw->cur * 1000;
		nw->cur = 0;
		nw->last = 3;
		return;
	}
	if (nw->active && nw->last == 3 && !strcmp(w, "and") && next_is_numword)
		return;
	numwords_flush(c, nw);
	const char *f = e->fold ? e->fold : w;
	push(c, f, strlen(f), false);
}

/* Length of a Unicode space, dash or quote at s[i] that word processors put in text
 * (no-break space U+00A0, U+2000-U+200B spaces, U+2010-U+2015 hyphens and dashes,
 * U+2018-U+201F quotes, U+2022 bullet, U+2026 ellipsis, U+202F, U+2212 minus, U+00AD soft
 * hyphen), 0 if none: these separate words like their ASCII forms. */
static size_t uni_sep(const char *s, size_t len, size_t i)
{
	const unsigned char *u = (const unsigned char *)s + i;
	size_t r = len - i;
	if (r >= 2 && u[0] == 0xC2 && (u[1] == 0xA0 || u[1] == 0xAD))
		return 2;
	if (r >= 3 && u[0] == 0xE2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8B) || (u[2] >= 0x90 && u[2] <= 0x9F) || u[2] == 0xA2 ||
	     u[2] == 0xA6 || u[2] == 0xAF))
		return 3;
	if (r >= 3 && u[0] == 0xE2 && u[1] == 0x88 && u[2] == 0x92)
		return 3;
	return 0;
}

static bool is_letter(unsigned char ch)
{
	return isalpha(ch) || ch >= 0x80;
}

/* Lower-case word starting at s[i] (letters and digits); returns its end. */
static size_t read_word(const char *s, size_t len, size_t i, char *out, size_t cap)
{
	size_t n = 0;
	while (i < len && (isalnum((unsigned char)s[i]) ||
			   ((unsigned char)s[i] >= 0x80 && !uni_sep(s, len, i)))) {
		if (n + 1 < cap)
			out[n++] = (char)tolower((unsigned char)s[i]);
		i++;
	}
	out[n] = 0;
	return i;
}

static bool is_numword(const char *w)
{
	const struct wentry *e = wlook(w);
	return e->ones >= 0 || e->tens >= 0;
}

/* Tokens of one kept line, with sentence ends at . ! ? ; followed by a space or the end. */
static void tokenise_line(struct canon *c, struct numwords *nw, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && !c->rc) {
		unsigned char ch = (unsigned char)s[i];
		size_t sep = uni_sep(s, len, i);
		if (sep) {
			i += sep;
			continue;
		}
		if (isdigit(ch)) {
			size_t a = i;
			while (i < len && (isdigit((unsigned char)s[i]) ||
					   (s[i] == ',' && i + 3 < len && isdigit((unsigned char)s[i + 1]) &&
					    isdigit((unsigned char)s[i + 2]) &&
					    isdigit((unsigned char)s[i + 3]) &&
					    (i + 4 >= len || !isdigit((unsigned char)s[i + 4])))))
				i++;
			size_t ni = i - a, f = i, nf = 0;
			if (i + 1 < len && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
				f = ++i;
				while (i < len && isdigit((unsigned char)s[i]))
					i++;
				nf = i - f;
			}
			numwords_flush(c, nw);
			push_number(c, s + a, ni, s + f, nf);
			if (i < len && is_letter((unsigned char)s[i]) && !uni_sep(s, len, i)) {
				/* glued unit ("300mg") or ordinal suffix ("2nd") */
				char w[WORD_MAX];
				i = read_word(s, len, i, w, sizeof w);
				if (strcmp(w, "st") && strcmp(w, "nd") && strcmp(w, "rd") && strcmp(w, "th"))
					word(c, nw, w, false);
			}
			continue;
		}
		if (is_letter(ch)) {
			char w[WORD_MAX], nx[WORD_MAX];
			i = read_word(s, len, i, w, sizeof w);
			size_t j = i;
			while (j < len && ((!isalnum((unsigned char)s[j]) && (unsigned char)s[j] < 0x80) ||
					   uni_sep(s, len, j)))
				j += uni_sep(s, len, j) ? uni_sep(s, len, j) : 1;
			read_word(s, len, j, nx, sizeof nx);
			word(c, nw, w, is_numword(nx));
			continue;
		}
		if (ch == '%') {
			numwords_flush(c, nw);
			push(c, "%", 1, false);
		} else if ((ch == '.' || ch == '!' || ch == '?' || ch == ';') &&
			   (i + 1 >= len || isspace((unsigned char)s[i + 1]))) {
			numwords_flush(c, nw);
			flush_sentence(c);
		}
		i++;
	}
}

/* ---- lines ------------------------------------------------------------------------------ */

static bool starts_with_word(const char *s, size_t n, const char *w)
{
	size_t l = strlen(w);
	if (n < l || strncasecmp(s, w, l))
		return false;
	return n == l || !isalnum((unsigned char)s[l]);
}

static size_t count_words(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (isalnum((unsigned char)s[i]) && (i == 0 || !isalnum((unsigned char)s[i - 1])))
			w++;
	return w;
}

/* A signature line: starts with "Signed", "Electronically signed", ... or is a short line
 * naming someone with a credential after a comma ("Anna Meyer, MD"). */
static bool is_signature(const char *s, size_t n)
{
	size_t words = count_words(s, n);
	for (size_t k = 0; sig_starts[k]; k++) {
		if (!starts_with_word(s, n, sig_starts[k]))
			continue;
		/* "Signed: ...", "Dictated by ...", "Electronically signed ...", or a short line
		 * that is not a sentence — not "Signed consent was obtained." */
		size_t j = strlen(sig_starts[k]);
		while (j < n && s[j] == ' ')
			j++;
		if (strchr(sig_starts[k], ' ') || (j < n && (s[j] == ':' || s[j] == ',')) ||
		    starts_with_word(s + j, n - j, "by") || starts_with_word(s + j, n - j, "on") ||
		    j >= n || (words <= 8 && s[n - 1] != '.'))
			return true;
	}
	if (words > 12)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != ',')
			continue;
		size_t j = i + 1;
		while (j < n && s[j] == ' ')
			j++;
		for (size_t k = 0; credentials[k]; k++) {
			size_t l = strlen(credentials[k]), e = j + l;
			/* the credential ends the line or the name ("..., MD, 2024-03-06", "..., MD on") */
			if (starts_with_word(s + j, n - j, credentials[k]) &&
			    (e == n || s[e] == ',' || starts_with_word(s + e + 1, n - e - 1, "on")))
				return true;
		}
	}
	return false;
}

/* Length of a header label at the start ("Note:", "Clinical note -"), 0 if none. */
static size_t header_label(const char *s, size_t n)
{
	for (size_t k = 0; header_labels[k]; k++) {
		size_t l = strlen(header_labels[k]);
		if (n < l || strncasecmp(s, header_labels[k], l))
			continue;
		size_t j = l;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j == n)
			return n;
		if (s[j] == ':' || s[j] == '-')
			return j + 1;
	}
	return 0;
}

/* Length of a list marker at the start ("1.", "2)", "(a)", "-", "*", "•"), 0 if none. */
static size_t list_marker(const char *s, size_t n)
{
	size_t i = 0;
	if (n >= 3 && !memcmp(s, "\xE2\x80\xA2", 3)) /* U+2022 bullet */
		i = 3;
	else if (n && (s[0] == '-' || s[0] == '*' || s[0] == '+') && (n == 1 || s[1] == ' '))
		i = 1;
	else {
		size_t j = s[0] == '(' ? 1 : 0;
		size_t d = j;
		while (d < n && d - j < 3 && isdigit((unsigned char)s[d]))
			d++;
		if (d == j && d < n && islower((unsigned char)s[d]) && d + 1 < n && s[d + 1] == ')')
			d++; /* (a) / a) */
		if (d > j && d < n && (s[d] == '.' || s[d] == ')') && (d + 1 == n || s[d + 1] == ' '))
			i = d + 1;
	}
	while (i && i < n && s[i] == ' ')
		i++;
	return i;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int canonicalise(const char *text, size_t len, struct lb_text_fp *fp, struct lb_buf *dump)
{
	memset(fp, 0, sizeof *fp);
	pthread_once(&fp_once, fp_init);
	for (int i = 0; i < LB_MINHASH_K; i++)
		fp->mh.v[i] = UINT32_MAX;
	struct canon c = {.fp = fp, .dump = dump};
	c.t = lb_malloc(SENT_TOKENS * sizeof *c.t);
	if (!c.t)
		return LB_ENOMEM;
	lb_buf_init(&c.vals, (size_t)1 << 30);
	struct numwords nw = {0};
	bool pending_break = false;
	size_t prev_len = 0;
	for (size_t p = 0; p < len && !c.rc;) {
		const char *e = memchr(text + p, '\n', len - p);
		size_t q = e ? (size_t)(e - text) : len;
		const char *s = text + p;
		size_t n = q - p;
		p = q + 1;
		while (n && (s[n - 1] == '\r' || isspace((unsigned char)s[n - 1])))
			n--;
		while (n && (*s == ' ' || *s == '\t' || *s == '_' || *s == '=' ||
			     (*s == '-' && n > 1 && s[1] == '-'))) {
			s++;
			n--;
		}
		if (!n) {
			pending_break = true; /* a blank line ends a paragraph */
			continue;
		}
		size_t h = header_label(s, n);
		if (h == n || is_signature(s, n))
			continue;
		s += h;
		n -= h;
		size_t m = list_marker(s, n);
		bool marker = m > 0;
		s += m;
		n -= m;
		while (n && isspace((unsigned char)*s)) {
			s++;
			n--;
		}
		/* A line break ends a sentence after a blank line, before a list item, after a
		 * line ending in . ! ? : ; and before a capital after a short line (a list
		 * without full stops); a long line goes on (text wrapped to a width). */
		if (pending_break || marker || !n ||
		    (isupper((unsigned char)*s) && prev_len < WRAP_MIN)) {
			numwords_flush(&c, &nw);
			flush_sentence(&c);
		}
		pending_break = n && strchr(".!?:;", s[n - 1]);
		prev_len = n;
		tokenise_line(&c, &nw, s, n);
	}
	numwords_flush(&c, &nw);
	flush_sentence(&c);
	int rc = c.rc;
	if (!rc) {
		/* values: sorted lines, then one digest */
		size_t nv = fp->nvalues, k = 0;
		char **v = lb_malloc((nv ? nv : 1) * sizeof *v);
		char *all = c.vals.data ? (char *)c.vals.data : NULL;
		if (!v) {
			rc = LB_ENOMEM;
		} else {
			for (char *x = all; x && *x && k < nv; k++) {
				v[k] = x;
				char *nl = strchr(x, '\n');
				*nl = 0;
				x = nl + 1;
			}
			qsort(v, k, sizeof *v, cmp_str);
			crypto_generichash_state st;
			uint8_t d[16];
			crypto_generichash_init(&st, (const uint8_t *)"leben-text-values", 17, sizeof d);
			for (size_t i = 0; i < k; i++)
				crypto_generichash_update(&st, (const uint8_t *)v[i], strlen(v[i]) + 1);
			crypto_generichash_final(&st, d, sizeof d);
			for (int i = 0; i < 8; i++)
				fp->values |= (uint64_t)d[i] << (8 * i);
			if (dump)
				for (size_t i = 0; i < k && !rc; i++)
					rc = lb_buf_addf(dump, "%s%s", i ? " " : "values: ", v[i]);
			if (dump && !rc && !k)
				rc = lb_buf_adds(dump, "values: (none)");
			lb_free(v);
		}
	}
	lb_buf_release(&c.vals);
	lb_free(c.t);
	return rc;
}

int lb_text_fingerprint(const char *text, size_t len, struct lb_text_fp *out)
{
	return canonicalise(text, len, out, NULL);
}

int lb_text_canonical(const char *text, size_t len, struct lb_buf *out)
{
	struct lb_text_fp fp;
	return canonicalise(text, len, &fp, out);
}

double lb_text_similarity(const struct lb_text_fp *a, const struct lb_text_fp *b,
			  bool *values_differ)
{
	double s = lb_minhash_similarity(&a->mh, &b->mh);
	bool differ = a->values != b->values || a->nvalues != b->nvalues;
	if (values_differ)
		*values_differ = differ;
	return differ ? s / 2 : s;
}

void lb_text_fp_encode(const struct lb_text_fp *fp, uint8_t out[LB_TEXT_FP_SIZE])
{
	for (int i = 0; i < LB_MINHASH_K; i++)
		for (int b = 0; b < 4; b++)
			out[i * 4 + b] = (uint8_t)(fp->mh.v[i] >> (8 * b));
	for (int b = 0; b < 8; b++)
		out[LB_MINHASH_K * 4 + b] = (uint8_t)(fp->values >> (8 * b));
	for (int b = 0; b < 4; b++)
		out[LB_MINHASH_K * 4 + 8 + b] = (uint8_t)(fp->nvalues >> (8 * b));
}

int lb_text_fp_decode(const uint8_t *p, size_t n, struct lb_text_fp *out)
{
	if (n != LB_TEXT_FP_SIZE)
		return LB_EMALFORMED;
	memset(out, 0, sizeof *out);
	for (int i = 0; i < LB_MINHASH_K; i++)
		for (int b = 0; b < 4; b++)
			out->mh.v[i] |= (uint32_t)p[i * 4 + b] << (8 * b);
	for (int b = 0; b < 8; b++)
		out->values |= (uint64_t)p[LB_MINHASH_K * 4 + b] << (8 * b);
	for (int b = 0; b < 4; b++)
		out->nvalues |= (uint32_t)p[LB_MINHASH_K * 4 + 8 + b] << (8 * b);
	return LB_OK;
}
