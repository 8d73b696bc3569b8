/*
 * Error code table lookups and the message-buffer helpers every module uses to report what
 * went wrong with enough context for a person to fix it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "leben/error.h"

struct errinfo {
	const char *name;
	int http;
	const char *text;
};

static const struct errinfo errtab[] = {
#define LB_ERR_ROW_(name, value, http, text) [value] = {#name, http, text},
	LB_ERROR_TABLE(LB_ERR_ROW_)
#undef LB_ERR_ROW_
};

static const struct errinfo *lookup(int code)
{
	if (code < 0 || code >= LB_ERR_COUNT_ || !errtab[code].name)
		return NULL;
	return &errtab[code];
}

const char *lb_strerror(int code)
{
	const struct errinfo *e = lookup(code);
	return e ? e->text : "unknown error";
}

const char *lb_errname(int code)
{
	const struct errinfo *e = lookup(code);
	return e ? e->name : "LB_EUNKNOWN";
}

int lb_err_http_status(int code)
{
	const struct errinfo *e = lookup(code);
	return e ? e->http : 500;
}

int lb_errf(struct lb_errmsg *em, int code, const char *fmt, ...)
{
	if (!em)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(em->text, sizeof em->text, fmt, ap);
	va_end(ap);
	em->code = code;
	return code;
}

int lb_errwrap(struct lb_errmsg *em, const char *fmt, ...)
{
	if (!em)
		return LB_EINTERNAL;
	char prefix[256], old[sizeof em->text];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, em->text, sizeof old);
	size_t n = strlen(prefix);
	if (n >= sizeof em->text)
		n = sizeof em->text - 1;
	memcpy(em->text, prefix, n);
	size_t rest = strnlen(old, sizeof old - 1);
	if (rest > sizeof em->text - 1 - n)
		rest = sizeof em->text - 1 - n;
	memcpy(em->text + n, old, rest);
	em->text[n + rest] = 0;
	return em->code ? em->code : LB_EINTERNAL;
}

void lb_errclear(struct lb_errmsg *em)
{
	if (em) {
		em->code = LB_OK;
		em->text[0] = '\0';
	}
}

int lb_err_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int code = 0; code < LB_ERR_COUNT_; code++)
		if (errtab[code].name && !strcmp(errtab[code].name, name))
			return code;
	return -1;
}
