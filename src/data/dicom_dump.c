/*
 * Views of a parsed DICOM file for people and scripts: JSON (every element with tag, VR,
 * keyword, offset, length and value, sequences nested) and an indented text dump in the style
 * of dcmdump. Text values are split on '\' as PS3.5 6.4 says; binary values are summarised by
 * their length and BLAKE2b-256 so large pixel data stays out of the output.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "data/data_int.h"
#include "leben/data_dicom.h"

static uint16_t g16(const uint8_t *p, bool le)
{
	return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p, bool le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			    (uint32_t)p[3] << 24
		  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
			    (uint32_t)p[3];
}

static uint64_t g64(const uint8_t *p, bool le)
{
	uint64_t a = g32(p, le), b = g32(p + 4, le);
	return le ? (b << 32 | a) : (a << 32 | b);
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t need = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
						 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (need == 0 || need > n || (need == 2 && p[0] < 0xC2))
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return need;
}

/* Append bytes as a JSON string body: valid UTF-8 kept, other bytes read as Latin-1. */
static int json_str(struct lb_buf *o, const uint8_t *p, size_t n)
{
	int rc = lb_buf_addc(o, '"');
	for (size_t i = 0; !rc && i < n;) {
		uint8_t c = p[i];
		size_t u = utf8_len(p + i, n - i);
		if (c == '"' || c == '\\') {
			rc = lb_buf_addf(o, "\\%c", c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			rc = lb_buf_addf(o, "\\u%04x", c);
			i++;
		} else if (u) {
			rc = lb_buf_add(o, p + i, u);
			i += u;
		} else {
			rc = lb_buf_addc(o, (uint8_t)(0xC0 | c >> 6));
			if (!rc)
				rc = lb_buf_addc(o, (uint8_t)(0x80 | (c & 0x3f)));
			i++;
		}
	}
	return rc ? rc : lb_buf_addc(o, '"');
}

static bool is_single_text(const char *vr)
{
	return !strcmp(vr, "LT") || !strcmp(vr, "ST") || !strcmp(vr, "UT") || !strcmp(vr, "UR");
}

/* One text value with PS3.5 padding removed: trailing spaces/NULs, and leading spaces except
 * for the free-text VRs. */
static void text_trim(const char *vr, const uint8_t **p, size_t *n)
{
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == 0))
		(*n)--;
	if (!is_single_text(vr))
		while (*n && (*p)[0] == ' ') {
			(*p)++;
			(*n)--;
		}
}

/* Numeric VR sizes; 0 if vr is not a binary number VR. */
static size_t num_size(const char *vr)
{
	if (!strcmp(vr, "US") || !strcmp(vr, "SS"))
		return 2;
	if (!strcmp(vr, "UL") || !strcmp(vr, "SL") || !strcmp(vr, "FL") || !strcmp(vr, "AT"))
		return 4;
	if (!strcmp(vr, "FD") || !strcmp(vr, "SV") || !strcmp(vr, "UV"))
		return 8;
	return 0;
}

static int num_value(struct lb_buf *o, const char *vr, const uint8_t *p, bool le, bool json)
{
	char tmp[64];
	if (!strcmp(vr, "US"))
		snprintf(tmp, sizeof tmp, "%u", g16(p, le));
	else if (!strcmp(vr, "SS"))
		snprintf(tmp, sizeof tmp, "%d", (int16_t)g16(p, le));
	else if (!strcmp(vr, "UL"))
		snprintf(tmp, sizeof tmp, "%u", g32(p, le));
	else if (!strcmp(vr, "SL"))
		snprintf(tmp, sizeof tmp, "%d", (int32_t)g32(p, le));
	else if (!strcmp(vr, "UV"))
		snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)g64(p, le));
	else if (!strcmp(vr, "SV"))
		snprintf(tmp, sizeof tmp, "%lld", (long long)(int64_t)g64(p, le));
	else if (!strcmp(vr, "AT"))
		snprintf(tmp, sizeof tmp, json ? "\"%04X%04X\"" : "(%04X,%04X)", g16(p, le),
			 g16(p + 2, le));
	else if (!strcmp(vr, "FL")) {
		uint32_t u = g32(p, le);
		float f;
		memcpy(&f, &u, 4);
		if (f != f || f - f != 0)
			snprintf(tmp, sizeof tmp, json ? "\"%g\"" : "%g", (double)f);
		else
			snprintf(tmp, sizeof tmp, "%.9g", (double)f);
	} else {
		uint64_t u = g64(p, le);
		double d;
		memcpy(&d, &u, 8);
		if (d != d || d - d != 0)
			snprintf(tmp, sizeof tmp, json ? "\"%g\"" : "%g", d);
		else
			snprintf(tmp, sizeof tmp, "%.17g", d);
	}
	return lb_buf_adds(o, tmp);
}

static void digest(const struct lb_dicom_elem *e, char hex[65])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof h, e->value, e->length, NULL, 0);
	lb_hex_encode(hex, h, sizeof h);
}

static int json_item(struct lb_buf *o, const struct lb_dicom_item *it);

static int json_elem(struct lb_buf *o, const struct lb_dicom_elem *e)
{
	struct lb_dicom_dict_entry d;
	bool known = lb_dicom_dict_lookup(e->tag, &d);
	int rc = lb_buf_addf(o, "{\"tag\":\"%08X\",\"vr\":\"%s\",\"keyword\":\"%s\",\"offset\":%zu,"
				"\"length\":%s%zu",
			     e->tag, e->vr, known ? d.keyword : "", e->offset,
			     e->undefined_length ? "-1,\"value_length\":" : "", e->length);
	if (rc)
		return rc;
	if (!strcmp(e->vr, "SQ")) {
		rc = lb_buf_adds(o, ",\"items\":[");
		for (size_t i = 0; !rc && i < e->nitems; i++) {
			if (i)
				rc = lb_buf_addc(o, ',');
			if (!rc)
				rc = json_item(o, &e->items[i]);
		}
		return rc ? rc : lb_buf_adds(o, "]}");
	}
	size_t ns = num_size(e->vr);
	if (lb_dicom_vr_is_text(e->vr)) {
		rc = lb_buf_adds(o, ",\"value\":[");
		const uint8_t *p = e->value;
		size_t n = e->length, start = 0;
		bool first = true;
		for (size_t i = 0; !rc && i <= n; i++) {
			if (i < n && (p[i] != '\\' || is_single_text(e->vr)))
				continue;
			const uint8_t *v = p + start;
			size_t vn = i - start;
			text_trim(e->vr, &v, &vn);
			if (!(n == 0 && first)) {
				if (!first)
					rc = lb_buf_addc(o, ',');
				if (!rc)
					rc = json_str(o, v, vn);
			}
			first = false;
			start = i + 1;
		}
		if (!rc)
			rc = lb_buf_adds(o, "]");
	} else if (ns && e->length % ns == 0) {
		rc = lb_buf_adds(o, ",\"value\":[");
		for (size_t i = 0; !rc && i < e->length / ns; i++) {
			if (i)
				rc = lb_buf_addc(o, ',');
			if (!rc)
				rc = num_value(o, e->vr, e->value + i * ns, e->little_endian, true);
		}
		if (!rc)
			rc = lb_buf_adds(o, "]");
	} else {
		char hex[65];
		digest(e, hex);
		rc = lb_buf_addf(o, ",\"blake2b\":\"%s\"", hex);
	}
	return rc ? rc : lb_buf_addc(o, '}');
}

static int json_item(struct lb_buf *o, const struct lb_dicom_item *it)
{
	int rc = lb_buf_addc(o, '[');
	for (size_t i = 0; !rc && i < it->nelems; i++) {
		if (i)
			rc = lb_buf_addc(o, ',');
		if (!rc)
			rc = json_elem(o, &it->elems[i]);
	}
	return rc ? rc : lb_buf_addc(o, ']');
}

int lb_dicom_to_json(const struct lb_dicom_file *f, struct lb_buf *out)
{
	int rc = lb_buf_addf(out, "{\"preamble\":%s,\"transfer_syntax\":\"%s\",\"explicit_vr\":%s,"
				  "\"little_endian\":%s,\"deflated\":%s,\"file_meta\":",
			     f->has_preamble ? "true" : "false", f->transfer_syntax,
			     f->explicit_vr ? "true" : "false", f->little_endian ? "true" : "false",
			     f->deflated ? "true" : "false");
	if (!rc)
		rc = json_item(out, &f->meta);
	if (!rc)
		rc = lb_buf_adds(out, ",\"dataset\":");
	if (!rc)
		rc = json_item(out, &f->body);
	return rc ? rc : lb_buf_adds(out, "}\n");
}

static int text_item(struct lb_buf *o, const struct lb_dicom_item *it, int depth);

static int text_elem(struct lb_buf *o, const struct lb_dicom_elem *e, int depth)
{
	struct lb_dicom_dict_entry d;
	bool known = lb_dicom_dict_lookup(e->tag, &d);
	int rc = lb_buf_addf(o, "%*s(%04X,%04X) %s %-32s ", depth * 2, "", e->tag >> 16,
			     e->tag & 0xffff, e->vr, known ? d.keyword : "?");
	if (rc)
		return rc;
	if (!strcmp(e->vr, "SQ")) {
		rc = lb_buf_addf(o, "(%zu item%s)\n", e->nitems, e->nitems == 1 ? "" : "s");
		for (size_t i = 0; !rc && i < e->nitems; i++) {
			rc = lb_buf_addf(o, "%*s  item %zu\n", depth * 2, "", i + 1);
			if (!rc)
				rc = text_item(o, &e->items[i], depth + 2);
		}
		return rc;
	}
	size_t ns = num_size(e->vr);
	if (lb_dicom_vr_is_text(e->vr)) {
		const uint8_t *v = e->value;
		size_t n = e->length;
		text_trim(e->vr, &v, &n);
		size_t show = n > 96 ? 96 : n;
		rc = lb_buf_addc(o, '[');
		for (size_t i = 0; !rc && i < show; i++)
			rc = lb_buf_addc(o, v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '.');
		if (!rc)
			rc = lb_buf_adds(o, n > show ? "...]" : "]");
	} else if (ns && e->length % ns == 0) {
		size_t cnt = e->length / ns, show = cnt > 16 ? 16 : cnt;
		for (size_t i = 0; !rc && i < show; i++) {
			if (i)
				rc = lb_buf_addc(o, '\\');
			if (!rc)
				rc = num_value(o, e->vr, e->value + i * ns, e->little_endian, false);
		}
		if (!rc && cnt > show)
			rc = lb_buf_addf(o, "\\... (%zu values)", cnt);
	} else {
		char hex[65];
		digest(e, hex);
		rc = lb_buf_addf(o, "(%zu bytes%s, blake2b %.16s…)", e->length,
				 e->undefined_length ? ", encapsulated" : "", hex);
	}
	return rc ? rc : lb_buf_addc(o, '\n');
}

static int text_item(struct lb_buf *o, const struct lb_dicom_item *it, int depth)
{
	int rc = LB_OK;
	for (size_t i = 0; !rc && i < it->nelems; i++)
		rc = text_elem(o, &it->elems[i], depth);
	return rc;
}

int lb_dicom_to_text(const struct lb_dicom_file *f, struct lb_buf *out)
{
	int rc = lb_buf_addf(out, "# transfer syntax %s (%s VR, %s endian%s)%s\n",
			     f->transfer_syntax, f->explicit_vr ? "explicit" : "implicit",
			     f->little_endian ? "little" : "big", f->deflated ? ", deflated" : "",
			     f->has_preamble ? "" : " - no preamble");
	if (!rc && f->meta.nelems)
		rc = lb_buf_adds(out, "# file meta information\n");
	if (!rc)
		rc = text_item(out, &f->meta, 0);
	if (!rc)
		rc = lb_buf_adds(out, "# data set\n");
	return rc ? rc : text_item(out, &f->body, 0);
}
