/*
 * Path matching for the API's route table: patterns with literal and {name} segments,
 * captured parameters pointing into the request path.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

bool api_path_match(const char *pattern, const char *path, struct api_params *p)
{
	p->n = 0;
	const char *a = pattern, *b = path;
	if (*a != '/' || *b != '/')
		return false;
	while (*a && *b) {
		if (*a != '/' || *b != '/')
			return false;
		a++;
		b++;
		size_t alen = strcspn(a, "/"), blen = strcspn(b, "/");
		if (blen == 0)
			return false; /* empty segment: "//" or a trailing '/' */
		if (alen >= 2 && a[0] == '{' && a[alen - 1] == '}') {
			if (p->n == API_MAX_PARAMS)
				return false;
			p->val[p->n] = b;
			p->len[p->n] = blen;
			p->n++;
		} else if (alen != blen || memcmp(a, b, alen)) {
			return false;
		}
		a += alen;
		b += blen;
	}
	return !*a && !*b;
}

int api_param_copy(const struct api_params *p, size_t i, char *out, size_t outsz)
{
	if (i >= p->n || p->len[i] >= outsz)
		return LB_ETOOBIG;
	memcpy(out, p->val[i], p->len[i]);
	out[p->len[i]] = 0;
	return LB_OK;
}

int api_param_hash(const struct api_call *c, const char *what, uint8_t id[32],
		   struct lb_errmsg *em)
{
	char hex[66];
	if (api_param_copy(c->params, 0, hex, sizeof hex) || lb_hex_decode(id, 32, hex))
		return lb_errf(em, LB_EMALFORMED, "'%.*s' is not %s: expected 64 hex digits",
			       (int)(c->params->len[0] > 80 ? 80 : c->params->len[0]),
			       c->params->val[0], what);
	return LB_OK;
}
