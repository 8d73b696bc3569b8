/*
 * Canonical binary encoding: shortest-form LEB128 varints, length-prefixed byte strings and
 * raw fixed fields. The decoder accepts exactly one encoding per value and names the field
 * and byte offset of anything else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"

int lb_enc_u8(struct lb_buf *b, uint8_t v)
{
	return lb_buf_addc(b, v);
}

size_t lb_uvar_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int lb_enc_uvar(struct lb_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	return lb_buf_add(b, tmp, n);
}

int lb_enc_fixed(struct lb_buf *b, const void *p, size_t n)
{
	return lb_buf_add(b, p, n);
}

int lb_enc_bytes(struct lb_buf *b, const void *p, size_t n)
{
	int rc = lb_enc_uvar(b, n);
	return rc ? rc : lb_buf_add(b, p, n);
}

int lb_enc_str(struct lb_buf *b, const char *s)
{
	return lb_enc_bytes(b, s, strlen(s));
}

void lb_dec_init(struct lb_dec *d, const void *p, size_t len, const char *what,
		 struct lb_errmsg *em)
{
	d->p = p;
	d->len = len;
	d->pos = 0;
	d->what = what;
	d->em = em;
}

int lb_dec_fail(struct lb_dec *d, int code, const char *field, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return lb_errf(d->em, code, "%s: field '%s' at byte %zu: %s", d->what, field, d->pos,
		       msg);
}

static int need(struct lb_dec *d, const char *field, size_t n)
{
	if (d->len - d->pos < n)
		return lb_dec_fail(d, LB_EMALFORMED, field,
				   "needs %zu bytes but only %zu remain (truncated)", n,
				   d->len - d->pos);
	return LB_OK;
}

int lb_dec_u8(struct lb_dec *d, const char *field, uint8_t *out)
{
	int rc = need(d, field, 1);
	if (!rc)
		*out = d->p[d->pos++];
	return rc;
}

int lb_dec_uvar(struct lb_dec *d, const char *field, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t start = d->pos;
	for (unsigned shift = 0;; shift += 7) {
		if (d->pos >= d->len) {
			d->pos = start;
			return lb_dec_fail(d, LB_EMALFORMED, field, "varint is truncated");
		}
		uint8_t c = d->p[d->pos++];
		if (shift == 63 && c > 1) {
			d->pos = start;
			return lb_dec_fail(d, LB_EMALFORMED, field, "varint exceeds 64 bits");
		}
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			if (c == 0 && shift > 0) {
				d->pos = start;
				return lb_dec_fail(d, LB_EMALFORMED, field,
						   "varint is not in its shortest form");
			}
			break;
		}
	}
	if (v > max) {
		d->pos = start;
		return lb_dec_fail(d, LB_EMALFORMED, field, "value %llu is out of range (max %llu)",
				   (unsigned long long)v, (unsigned long long)max);
	}
	*out = v;
	return LB_OK;
}

int lb_dec_fixed(struct lb_dec *d, const char *field, void *out, size_t n)
{
	int rc = need(d, field, n);
	if (!rc) {
		memcpy(out, d->p + d->pos, n);
		d->pos += n;
	}
	return rc;
}

int lb_dec_bytes(struct lb_dec *d, const char *field, size_t max, const uint8_t **out,
		 size_t *n)
{
	uint64_t len;
	int rc = lb_dec_uvar(d, field, max, &len);
	if (rc || (rc = need(d, field, (size_t)len)))
		return rc;
	*out = d->p + d->pos;
	*n = (size_t)len;
	d->pos += (size_t)len;
	return LB_OK;
}

int lb_dec_str(struct lb_dec *d, const char *field, size_t max, char *out, size_t outsz)
{
	const uint8_t *p;
	size_t n;
	size_t start = d->pos;
	int rc = lb_dec_bytes(d, field, max < outsz ? max : outsz - 1, &p, &n);
	if (rc)
		return rc;
	if (!lb_utf8_is_text(p, n)) {
		d->pos = start;
		return lb_dec_fail(d, LB_EMALFORMED, field, "is not valid UTF-8 text");
	}
	memcpy(out, p, n);
	out[n] = 0;
	return LB_OK;
}

int lb_dec_end(struct lb_dec *d)
{
	if (d->pos != d->len)
		return lb_errf(d->em, LB_EMALFORMED, "%s: %zu unexpected trailing bytes at byte %zu",
			       d->what, d->len - d->pos, d->pos);
	return LB_OK;
}

bool lb_utf8_is_text(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n')
				return false;
			if (c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}
