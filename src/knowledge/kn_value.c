/*
 * Values of the knowledge language (unknown, boolean, integer, real, text, date, set): deep
 * copies, equality, JSON and human printing, civil-date conversion, and the bump arena that
 * holds temporaries while one expression is evaluated.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "knowledge/kn_int.h"

struct kn_arena_chunk {
	struct kn_arena_chunk *next; /* older chunk */
	size_t used, size;           /* bytes used / available in mem */
	_Alignas(16) unsigned char mem[];
};

void *kn_arena_alloc(struct kn_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct kn_arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < n) {
		size_t sz = n > 8192 ? n : 8192;
		c = lb_malloc(sizeof(*c) + sz);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->size = sz;
		a->head = c;
	}
	void *p = c->mem + c->used;
	c->used += n;
	return p;
}

char *kn_arena_strdup(struct kn_arena *a, const char *s, size_t n)
{
	char *p = kn_arena_alloc(a, n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

/* Keep the newest chunk (reused), free the rest. */
void kn_arena_reset(struct kn_arena *a)
{
	struct kn_arena_chunk *c = a->head;
	if (c == NULL)
		return;
	struct kn_arena_chunk *o = c->next;
	while (o != NULL) {
		struct kn_arena_chunk *n = o->next;
		lb_free(o);
		o = n;
	}
	c->next = NULL;
	c->used = 0;
}

void kn_value_clear(struct kn_value *v)
{
	if (v->t == KN_V_TEXT) {
		lb_free((void *)v->u.s);
	} else if (v->t == KN_V_SET) {
		for (size_t i = 0; i < v->u.set.n; i++)
			kn_value_clear(&v->u.set.v[i]);
		lb_free(v->u.set.v);
	}
	memset(v, 0, sizeof(*v));
}

int kn_value_copy(struct kn_value *dst, const struct kn_value *src)
{
	*dst = *src;
	if (src->t == KN_V_TEXT) {
		dst->u.s = lb_strdup(src->u.s);
		if (dst->u.s == NULL)
			goto err_nomem;
	} else if (src->t == KN_V_SET) {
		dst->u.set.v = NULL;
		dst->u.set.n = 0;
		if (src->u.set.n > 0) {
			dst->u.set.v = lb_calloc(src->u.set.n, sizeof(struct kn_value));
			if (dst->u.set.v == NULL)
				goto err_nomem;
			for (size_t i = 0; i < src->u.set.n; i++) {
				dst->u.set.n = i;
				if (kn_value_copy(&dst->u.set.v[i], &src->u.set.v[i]) != LB_OK) {
					kn_value_clear(dst);
					return LB_ENOMEM;
				}
			}
			dst->u.set.n = src->u.set.n;
		}
	}
	return LB_OK;
err_nomem:
	memset(dst, 0, sizeof(*dst));
	return LB_ENOMEM;
}

bool kn_value_equal(const struct kn_value *a, const struct kn_value *b)
{
	if (a->t != b->t)
		return false;
	switch (a->t) {
	case KN_V_UNKNOWN:
		return true;
	case KN_V_BOOL:
		return a->u.b == b->u.b;
	case KN_V_INT:
	case KN_V_DATE:
		return a->u.i == b->u.i;
	case KN_V_REAL:
		return a->u.r == b->u.r || (isnan(a->u.r) && isnan(b->u.r));
	case KN_V_TEXT:
		return strcmp(a->u.s, b->u.s) == 0;
	case KN_V_SET:
		if (a->u.set.n != b->u.set.n)
			return false;
		for (size_t i = 0; i < a->u.set.n; i++)
			if (!kn_value_equal(&a->u.set.v[i], &b->u.set.v[i]))
				return false;
		return true;
	}
	return false;
}

/* Days since 1970-01-01 <-> civil date (proleptic Gregorian; H. Hinnant's algorithm). */
void kn_date_to_string(int64_t z, char out[24])
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	if (y < 0 || y > 9999)
		snprintf(out, 24, "%" PRId64, z - 719468);
	else
		snprintf(out, 24, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

/* ms since 1970 -> day, and the milliseconds into that day */
static void ms_split(int64_t ms, int64_t *day, int64_t *in_day)
{
	*day = (ms >= 0 ? ms : ms - 86399999) / 86400000;
	*in_day = ms - *day * 86400000;
}

void kn_date_ms_iso(int64_t ms, char out[32])
{
	int64_t day, t;
	char d[24];
	ms_split(ms, &day, &t);
	kn_date_to_string(day, d);
	snprintf(out, 32, "%.10sT%02d:%02d:%02d.%03dZ", d, (int)(t / 3600000),
		 (int)(t / 60000 % 60), (int)(t / 1000 % 60), (int)(t % 1000));
}

void kn_date_ms_moment_text(int64_t ms, char out[40])
{
	/* moment's toString(): 'ddd MMM DD YYYY HH:mm:ss [GMT]ZZ' in English, UTC */
	static const char wd[] = "ThuFriSatSunMonTueWed";
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t day, t;
	char d[24];
	ms_split(ms, &day, &t);
	kn_date_to_string(day, d);
	int w = (int)(((day % 7) + 7) % 7), m = (d[5] - '0') * 10 + (d[6] - '0');
	if (m < 1 || m > 12)
		m = 1;
	snprintf(out, 40, "%.3s %.3s %.2s %.4s %02d:%02d:%02d GMT+0000", wd + 3 * w,
		 mon + 3 * (m - 1), d + 8, d, (int)(t / 3600000), (int)(t / 60000 % 60),
		 (int)(t / 1000 % 60));
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool kn_date_parse(const char *s, int64_t *day)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return false;
	*day = days_from_civil(y, m, d);
	return true;
}

/* Next match of a run of min..max digits in *s (moment.js's unanchored token search): the
 * digits' value and count, *s moved past them; false when no digit is left. */
static bool m_digits(const char **s, int min, int max, long *v, int *n)
{
	const char *p = *s;
	while (*p && !(*p >= '0' && *p <= '9'))
		p++;
	(void)min;
	if (!*p)
		return false;
	*v = 0;
	*n = 0;
	while (*n < max && p[*n] >= '0' && p[*n] <= '9') {
		*v = *v * 10 + (p[*n] - '0');
		(*n)++;
	}
	*s = p + *n;
	return true;
}

/* A literal token ('-', 'T', ':', '.'): consumed up to its first occurrence, if any. */
static void m_literal(const char **s, char c)
{
	const char *p = strchr(*s, c);
	if (p != NULL)
		*s = p + 1;
}

/* The fields moment.js reads (below); *off_min the offset written, 0 if none. */
static bool m_fields(const char *s, int64_t now_ms, long f[7], int *off_min)
{
	/* moment(s, 'YYYY-MM-DDTHH:mm:ss.SSSZ') in its forgiving mode, as PROformajs reads a Date
	 * default: each token in turn matches the first place it can in what is left (digits
	 * for YYYY (1-4; two digits are 19xx from 68, else 20xx), MM, DD, HH, mm, ss (1-2), SSS
	 * (1-3); the literals are skipped to where they occur); at least one token must match;
	 * a field left out takes its default (year, then month and day from today when none of
	 * them is given; 1 for the day, 0 for the rest); a field out of its calendar range makes
	 * it invalid. */
	for (int i = 0; i < 7; i++)
		f[i] = -1; /* Y M D h m s ms */
	*off_min = 0;
	static const int maxd[] = { 4, 2, 2, 2, 2, 2, 3 };
	static const char lit[] = { '-', '-', 'T', ':', ':', '.', 0 };
	const char *p = s;
	bool any = false;
	for (int i = 0; i < 7; i++) {
		long v;
		int n;
		if (m_digits(&p, 1, maxd[i], &v, &n)) {
			any = true;
			if (i == 0 && n == 2)
				v += v > 68 ? 1900 : 2000;
			if (i == 6) /* ('0.' + digits) * 1000 */
				v = n == 1 ? v * 100 : n == 2 ? v * 10 : v;
			f[i] = v;
		}
		if (lit[i])
			m_literal(&p, lit[i]);
	}
	/* Z (an offset: /Z|[+-]\d\d(?::?\d\d)?/i, its first match in what is left) is a token
	 * too: it alone makes the text a date (today); an offset with minutes over 59, or
	 * outside -12:00 .. +14:00, makes it invalid (as moment.js finds) */
#define M_DIG(c) ((c) >= '0' && (c) <= '9')
	for (const char *q = p; *q; q++) {
		if (*q == 'z' || *q == 'Z') {
			any = true;
			break;
		}
		if ((*q == '+' || *q == '-') && M_DIG(q[1]) && M_DIG(q[2])) {
			int hh = (q[1] - '0') * 10 + (q[2] - '0'), mm = 0;
			const char *r = q + 3 + (q[3] == ':');
			if (M_DIG(r[0]) && M_DIG(r[1]))
				mm = (r[0] - '0') * 10 + (r[1] - '0');
			int off = (hh * 60 + mm) * (*q == '-' ? -1 : 1);
			if (mm > 59 || off < -720 || off > 840)
				return false;
			*off_min = off;
			any = true;
			break;
		}
	}
#undef M_DIG
	if (!any)
		return false;
	time_t now = (time_t)(now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000);
	struct tm tm;
	if (f[0] < 0)
		gmtime_r(&now, &tm);
	if (f[0] < 0 && f[1] < 0 && f[2] < 0) {
		f[0] = tm.tm_year + 1900;
		f[1] = tm.tm_mon + 1;
		f[2] = tm.tm_mday;
	} else if (f[0] < 0) {
		f[0] = tm.tm_year + 1900;
		if (f[1] < 0 && f[2] >= 0)
			f[1] = tm.tm_mon + 1;
	}
	if (f[1] < 0)
		f[1] = 1;
	if (f[2] < 0)
		f[2] = 1;
	for (int i = 3; i < 7; i++)
		if (f[i] < 0)
			f[i] = 0;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (f[0] % 4 == 0 && f[0] % 100 != 0) || f[0] % 400 == 0;
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 ||
	    f[2] > mdays[f[1] - 1] + (f[1] == 2 && leap) || f[3] > 24 || f[4] > 59 || f[5] > 59 ||
	    (f[3] == 24 && (f[4] || f[5] || f[6])))
		return false;
	return true;
}

int64_t kn_clock_ms(int64_t fixed_ms)
{
	if (fixed_ms != 0)
		return fixed_ms;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool kn_date_parse_moment(const char *s, int64_t *day)
{
	long f[7];
	int off;
	if (!m_fields(s, kn_clock_ms(0), f, &off))
		return false;
	*day = days_from_civil(f[0], f[1], f[2]) + (f[3] == 24); /* 24:00 is the next day */
	return true;
}

bool kn_date_parse_moment_ms(const char *s, int64_t now_ms, int64_t *ms)
{
	long f[7];
	int off;
	if (!m_fields(s, now_ms, f, &off))
		return false;
	/* the fields are UTC's (LEBEN's clock; PROformajs's under TZ=UTC), less the offset */
	*ms = ((days_from_civil(f[0], f[1], f[2]) * 24 + f[3]) * 60 + f[4] - off) * 60000 +
	      (int64_t)f[5] * 1000 + f[6];
	return true;
}

static int json_string(struct lb_buf *b, const char *s)
{
	int rc = lb_buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; rc == LB_OK && *p; p++) {
		size_t run = 0; /* copy runs that need no escaping in one go */
		while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > 0) {
			rc = lb_buf_add(b, p, run);
			p += run - 1;
			continue;
		}
		if (*p == '"' || *p == '\\')
			rc = lb_buf_addf(b, "\\%c", *p);
		else if (*p == '\n')
			rc = lb_buf_adds(b, "\\n");
		else if (*p < 0x20)
			rc = lb_buf_addf(b, "\\u%04x", *p);
		else
			rc = lb_buf_addc(b, *p);
	}
	return rc != LB_OK ? rc : lb_buf_addc(b, '"');
}

/* Shortest decimal that reads back as the same double. */
static int add_real(struct lb_buf *b, double r)
{
	char tmp[40];
	if (!isfinite(r))
		return lb_buf_adds(b, "null");
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, r);
		if (strtod(tmp, NULL) == r)
			break;
	}
	/* plain decimals where they are short: 50.0 rather than 5e+01 */
	if (strchr(tmp, 'e') != NULL && fabs(r) >= 1e-4 && fabs(r) < 1e15) {
		for (int d = 1; d <= 17; d++) {
			char alt[40];
			snprintf(alt, sizeof(alt), "%.*f", d, r);
			if (strtod(alt, NULL) == r) {
				strcpy(tmp, alt);
				break;
			}
		}
	}
	/* keep a marker that this is a real, so it reads back as one */
	if (strpbrk(tmp, ".eEn") == NULL)
		strcat(tmp, ".0");
	return lb_buf_adds(b, tmp);
}

int kn_value_to_json(struct lb_buf *b, const struct kn_value *v)
{
	char d[24];
	switch (v->t) {
	case KN_V_UNKNOWN:
		return lb_buf_adds(b, "null");
	case KN_V_BOOL:
		return lb_buf_adds(b, v->u.b ? "true" : "false");
	case KN_V_INT:
		return lb_buf_addf(b, "%" PRId64, v->u.i);
	case KN_V_REAL:
		return add_real(b, v->u.r);
	case KN_V_TEXT:
		return json_string(b, v->u.s);
	case KN_V_DATE:
		kn_date_to_string(v->u.i, d);
		return json_string(b, d);
	case KN_V_SET: {
		int rc = lb_buf_addc(b, '[');
		for (size_t i = 0; rc == LB_OK && i < v->u.set.n; i++) {
			if (i > 0)
				rc = lb_buf_addc(b, ',');
			if (rc == LB_OK)
				rc = kn_value_to_json(b, &v->u.set.v[i]);
		}
		return rc != LB_OK ? rc : lb_buf_addc(b, ']');
	}
	}
	return LB_EINTERNAL;
}

int kn_value_to_text(struct lb_buf *b, const struct kn_value *v)
{
	char d[24];
	switch (v->t) {
	case KN_V_UNKNOWN:
		return lb_buf_adds(b, "unknown");
	case KN_V_TEXT:
		return lb_buf_adds(b, v->u.s);
	case KN_V_DATE:
		kn_date_to_string(v->u.i, d);
		return lb_buf_adds(b, d);
	case KN_V_SET: {
		int rc = LB_OK;
		for (size_t i = 0; rc == LB_OK && i < v->u.set.n; i++) {
			if (i > 0)
				rc = lb_buf_adds(b, ", ");
			if (rc == LB_OK)
				rc = kn_value_to_text(b, &v->u.set.v[i]);
		}
		return rc;
	}
	default:
		return kn_value_to_json(b, v);
	}
}
