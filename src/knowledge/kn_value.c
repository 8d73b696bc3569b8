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
