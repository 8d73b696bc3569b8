/*
 * Parsing of POST /v1/txs bodies. A batch of thousands of txs arrives as one JSON document of
 * hex strings; building a JSON tree for it would allocate one string per tx, so the usual
 * shapes are scanned directly and each hex string is decoded over itself (n bytes of output
 * never overtake 2n bytes of input). Unusual but valid JSON (escapes, extra spaces are fine
 * on the fast path) falls back to jansson, which also reports syntax errors with positions.
 */
#include <string.h>

#include <jansson.h>

#include "api/api_int.h"
#include "leben/base.h"
#include "leben/tx.h"

static const int8_t hexval_tab[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Decode n hex digits at src into dst (dst may equal src). LB_EMALFORMED, LB_ETOOBIG. */
static int hex_decode_item(uint8_t *dst, const uint8_t *src, size_t n, size_t *outlen)
{
	if (n == 0 || n % 2)
		return LB_EMALFORMED;
	if (n / 2 > LB_TX_MAX_BYTES)
		return LB_ETOOBIG;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval_tab[src[2 * i]], lo = hexval_tab[src[2 * i + 1]];
		if (!hi || !lo)
			return LB_EMALFORMED;
		dst[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	*outlen = n / 2;
	return LB_OK;
}

static int txs_alloc(struct api_txs *t, size_t n)
{
	t->n = n;
	t->raws = lb_calloc(n, sizeof *t->raws);
	t->lens = lb_calloc(n, sizeof *t->lens);
	t->codes = lb_calloc(n, sizeof *t->codes);
	return t->raws && t->lens && t->codes ? LB_OK : LB_ENOMEM;
}

void api_txs_release(struct api_txs *t)
{
	lb_free(t->raws);
	lb_free(t->lens);
	lb_free(t->codes);
	lb_free(t->arena);
	memset(t, 0, sizeof *t);
}

/* ---- fast path ------------------------------------------------------------------------ */

struct scan {
	const uint8_t *p;   /* body */
	size_t len;         /* its length */
	size_t pos;         /* next byte */
};

static void skip_ws(struct scan *s)
{
	while (s->pos < s->len && (s->p[s->pos] == ' ' || s->p[s->pos] == '\n' ||
				   s->p[s->pos] == '\r' || s->p[s->pos] == '\t'))
		s->pos++;
}

static bool eat(struct scan *s, char c)
{
	skip_ws(s);
	if (s->pos < s->len && s->p[s->pos] == c) {
		s->pos++;
		return true;
	}
	return false;
}

/* A string of plain characters (no escapes, no controls): its start and length. */
static bool scan_plain_string(struct scan *s, size_t *start, size_t *n)
{
	if (!eat(s, '"'))
		return false;
	size_t b = s->pos;
	while (s->pos < s->len && s->p[s->pos] != '"') {
		if (s->p[s->pos] == '\\' || s->p[s->pos] < 0x20 || s->p[s->pos] >= 0x80)
			return false;
		s->pos++;
	}
	if (s->pos == s->len)
		return false;
	*start = b;
	*n = s->pos - b;
	s->pos++;
	return true;
}

/* Offsets of the strings of a plain array; false means "let jansson decide". */
static bool scan_array(struct scan *s, size_t **offs, size_t *count, size_t max_batch)
{
	if (!eat(s, '['))
		return false;
	size_t cap = 0, n = 0;
	size_t *o = NULL;
	if (eat(s, ']'))
		goto done;
	for (;;) {
		size_t b, len;
		if (!scan_plain_string(s, &b, &len))
			goto fail;
		if (n == max_batch)
			goto fail; /* the slow path reports the limit */
		if (n + 2 > cap) {
			size_t ncap = cap ? cap * 2 : 256;
			size_t *no = lb_realloc(o, ncap * sizeof *o);
			if (!no)
				goto fail;
			o = no;
			cap = ncap;
		}
		o[n++] = b;
		o[n++] = len;
		if (eat(s, ','))
			continue;
		if (eat(s, ']'))
			break;
		goto fail;
	}
done:
	*offs = o;
	*count = n / 2;
	return true;
fail:
	lb_free(o);
	return false;
}

static bool fast_parse(struct api_txs *t, uint8_t *body, size_t len, size_t max_batch)
{
	struct scan s = {body, len, 0};
	size_t *offs = NULL, count = 0, one[2];
	bool single = false;
	skip_ws(&s);
	if (s.pos < len && body[s.pos] == '[') {
		if (!scan_array(&s, &offs, &count, max_batch))
			return false;
	} else if (eat(&s, '{')) {
		size_t kb, kn;
		if (!scan_plain_string(&s, &kb, &kn) || !eat(&s, ':'))
			return false;
		if (kn == 2 && !memcmp(body + kb, "tx", 2)) {
			if (!scan_plain_string(&s, &one[0], &one[1]))
				return false;
			single = true;
			count = 1;
		} else if (kn == 3 && !memcmp(body + kb, "txs", 3)) {
			if (!scan_array(&s, &offs, &count, max_batch))
				return false;
		} else {
			return false;
		}
		if (!eat(&s, '}'))
			goto fail;
	} else {
		return false;
	}
	skip_ws(&s);
	if (s.pos != len || count == 0 || txs_alloc(t, count))
		goto fail;
	t->single = single;
	const size_t *o = single ? one : offs;
	for (size_t i = 0; i < count; i++) {
		uint8_t *p = body + o[2 * i];
		t->codes[i] = hex_decode_item(p, p, o[2 * i + 1], &t->lens[i]);
		t->raws[i] = p;
	}
	lb_free(offs);
	return true;
fail:
	api_txs_release(t);
	lb_free(offs);
	return false;
}

/* ---- slow path ------------------------------------------------------------------------ */

static const char shape_hint[] =
	"send {\"tx\":\"<hex>\"} for one tx, or {\"txs\":[\"<hex>\",...]} or [\"<hex>\",...] for a batch";

static int slow_parse(struct api_txs *t, const uint8_t *body, size_t len, size_t max_batch,
		      struct lb_errmsg *em)
{
	json_error_t je;
	json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return lb_errf(em, LB_ESYNTAX, "request body is not valid JSON: %s at line %d, column %d (byte %d)",
			       je.text, je.line, je.column, je.position);
	int rc;
	json_t *arr = root, *one = NULL;
	if (json_is_object(root)) {
		one = json_object_get(root, "tx");
		arr = json_object_get(root, "txs");
		if (json_object_size(root) != 1 || (!one && !arr)) {
			rc = lb_errf(em, LB_EINVALID, "unexpected request body: %s", shape_hint);
			goto out;
		}
		if (one && !json_is_string(one)) {
			rc = lb_errf(em, LB_ETYPE, "\"tx\" must be a hex string: %s", shape_hint);
			goto out;
		}
	}
	if (!one && !json_is_array(arr)) {
		rc = lb_errf(em, LB_ETYPE, "expected an array of hex strings: %s", shape_hint);
		goto out;
	}
	size_t n = one ? 1 : json_array_size(arr), total = 0;
	if (n == 0) {
		rc = lb_errf(em, LB_EINVALID, "the request holds no tx: %s", shape_hint);
		goto out;
	}
	if (n > max_batch) {
		rc = lb_errf(em, LB_ETOOBIG, "%zu txs in one request; the limit is %zu, split the batch",
			     n, max_batch);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = one ? one : json_array_get(arr, i);
		if (!json_is_string(v)) {
			rc = lb_errf(em, LB_ETYPE, "item %zu of the batch is not a string: %s", i,
				     shape_hint);
			goto out;
		}
		total += json_string_length(v) / 2 + 1;
	}
	if ((rc = txs_alloc(t, n)) || !(t->arena = lb_malloc(total))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory for %zu txs", n);
		goto out;
	}
	t->single = one != NULL;
	uint8_t *w = t->arena;
	for (size_t i = 0; i < n; i++) {
		json_t *v = one ? one : json_array_get(arr, i);
		t->raws[i] = w;
		t->codes[i] = hex_decode_item(w, (const uint8_t *)json_string_value(v),
					      json_string_length(v), &t->lens[i]);
		if (!t->codes[i])
			w += t->lens[i];
	}
	rc = LB_OK;
out:
	if (rc)
		api_txs_release(t);
	json_decref(root);
	return rc;
}

int api_txs_parse(struct api_txs *t, uint8_t *body, size_t len, size_t max_batch,
		  struct lb_errmsg *em)
{
	memset(t, 0, sizeof *t);
	if (fast_parse(t, body, len, max_batch))
		return LB_OK;
	return slow_parse(t, body, len, max_batch, em);
}
