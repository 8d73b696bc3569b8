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

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9'   ? ch - '0'
	       : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
	       : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
					: -1;
}

int api_path_decode(const char *raw, size_t rawlen, char *out, size_t outsz,
		    struct lb_errmsg *em)
{
	if (outsz < rawlen + 1)
		return lb_errf(em, LB_ETOOBIG, "the request path is too long");
	size_t o = 0;
	for (size_t i = 0; i < rawlen; i++) {
		if (raw[i] != '%') {
			out[o++] = raw[i];
			continue;
		}
		int hi = i + 1 < rawlen ? hexval(raw[i + 1]) : -1;
		int lo = i + 2 < rawlen ? hexval(raw[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return lb_errf(em, LB_EMALFORMED,
				       "the request path has a malformed escape '%.3s' at byte %zu: "
				       "write '%%' as %%25 and other bytes as %% and two hex digits",
				       raw + i, i + 1);
		int ch = hi * 16 + lo;
		if (ch == 0 || ch == '/')
			return lb_errf(em, LB_EMALFORMED,
				       "the request path has '%.3s' at byte %zu: a path segment cannot "
				       "hold %s",
				       raw + i, i + 1, ch ? "a '/' (one segment, one name)" : "a NUL byte");
		out[o++] = (char)ch;
		i += 2;
	}
	out[o] = 0;
	return LB_OK;
}

int api_param_hash(const struct api_params *p, size_t i, const char *what,
		   uint8_t id[LB_HASH_LEN], struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 2];
	if (api_param_copy(p, i, hex, sizeof hex) || lb_hex_decode(id, LB_HASH_LEN, hex))
		return lb_errf(em, LB_EMALFORMED, "'%.*s' is not %s: expected 64 hex digits",
			       (int)(p->len[i] > 80 ? 80 : p->len[i]), p->val[i], what);
	return LB_OK;
}

int api_param_copy(const struct api_params *p, size_t i, char *out, size_t outsz)
{
	if (i >= p->n || p->len[i] >= outsz)
		return LB_ETOOBIG;
	memcpy(out, p->val[i], p->len[i]);
	out[p->len[i]] = 0;
	return LB_OK;
}
