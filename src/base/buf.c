/*
 * Size-capped growable byte buffers (in the manner of curl's dynbuf): a buffer never grows
 * past its limit, and a failed growth frees it so no half-built value escapes.
 */
#include <stdio.h>
#include <string.h>

#include "leben/base.h"

void lb_buf_init(struct lb_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void lb_buf_release(struct lb_buf *b)
{
	lb_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void lb_buf_reset(struct lb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

int lb_buf_reserve(struct lb_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n) {
		lb_buf_release(b);
		return LB_ETOOBIG;
	}
	if (b->data && b->len + n <= b->cap)
		return LB_OK;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < b->len + n)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	uint8_t *p = lb_realloc(b->data, ncap + 1);
	if (!p) {
		lb_buf_release(b);
		return LB_ENOMEM;
	}
	b->data = p;
	b->cap = ncap;
	return LB_OK;
}

int lb_buf_add(struct lb_buf *b, const void *p, size_t n)
{
	int rc = lb_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return LB_OK;
}

int lb_buf_addc(struct lb_buf *b, uint8_t c)
{
	return lb_buf_add(b, &c, 1);
}

int lb_buf_adds(struct lb_buf *b, const char *s)
{
	return lb_buf_add(b, s, strlen(s));
}

int lb_buf_addf(struct lb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return LB_EINTERNAL;
	int rc = lb_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return LB_OK;
}

uint8_t *lb_buf_detach(struct lb_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
