/*
 * DICOM Part 10 parser. Reads the 128-byte preamble and "DICM", the group-0002 file meta
 * information (always explicit VR little endian), then the data set in the encoding the
 * transfer syntax names: implicit or explicit VR, little or big endian, or deflated. Sequences
 * and items of defined and undefined length nest up to LB_DICOM_MAX_DEPTH; encapsulated pixel
 * data is kept as its raw fragment items. Every length is checked against the bytes that are
 * left, so truncated or hostile files end in an error that names the offset, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_dicom.h"

#define TAG_ITEM 0xFFFEE000u
#define TAG_ITEM_END 0xFFFEE00Du
#define TAG_SEQ_END 0xFFFEE0DDu
#define UNDEF 0xFFFFFFFFu

struct dctx {
	const uint8_t *buf;     /* bytes being parsed (file copy or inflated stream) */
	size_t len;
	size_t base;            /* offset added to positions in messages (deflate start) */
	struct lb_errmsg *em;
	size_t nelems;
	int pixel_rep;          /* PixelRepresentation of the top-level data set, -1 if absent */
	bool has_pixel_data;
};

static const char *const vr_long[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV",
				      "UC", "UN", "UR", "UT", "UV"};
static const char *const vr_all[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL",
				     "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
				     "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC",
				     "UI", "UL", "UN", "UR", "US", "UT", "UV"};

static bool vr_in(const char *vr, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vr[0] == set[i][0] && vr[1] == set[i][1])
			return true;
	return false;
}

bool lb_dicom_vr_is_text(const char *vr)
{
	static const char *const text[] = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
					   "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"};
	return vr_in(vr, text, sizeof text / sizeof text[0]);
}

static uint16_t rd16(const uint8_t *p, bool le)
{
	return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p, bool le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			    (uint32_t)p[3] << 24
		  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
			    (uint32_t)p[3];
}

static int trunc_err(struct dctx *c, size_t at, const char *what)
{
	return lb_errf(c->em, LB_ETRUNCATED, "offset %zu: file ends inside %s", c->base + at,
		       what);
}

/* Resolve the VR of an implicit-VR element from the dictionary (rules of PS3.5 Annex A and
 * pydicom for the ambiguous ones). */
static void implicit_vr(struct dctx *c, uint32_t tag, uint32_t len, char vr[3])
{
	struct lb_dicom_dict_entry e;
	uint16_t g = (uint16_t)(tag >> 16), el = (uint16_t)tag;
	const char *v;
	if ((g & 1) && el >= 0x10 && el <= 0xff)
		v = "LO"; /* private creator */
	else if (g & 1)
		v = "UN";
	else if (!lb_dicom_dict_lookup(tag, &e))
		v = "UN";
	else if (!strcmp(e.vr, "xs") || !strcmp(e.vr, "lt"))
		v = c->pixel_rep > 0 ? "SS" : "US";
	else if (!strcmp(e.vr, "ox") || !strcmp(e.vr, "px"))
		v = len == UNDEF ? "OB" : "OW";
	else if (!strcmp(e.vr, "up"))
		v = "UL";
	else if (!strcmp(e.vr, "na"))
		v = "UN";
	else
		v = e.vr;
	vr[0] = v[0];
	vr[1] = v[1];
	vr[2] = 0;
}

static int parse_items(struct dctx *c, size_t *pos, size_t end, bool undef, bool explicit_vr,
		       bool le, int depth, struct lb_dicom_elem *el);

/* Parse elements from *pos until end, or until an item delimiter when stop_at_item_end. */
static int parse_dataset(struct dctx *c, size_t *pos, size_t end, bool stop_at_item_end,
			 bool explicit_vr, bool le, int depth, struct lb_dicom_item *out,
			 bool meta_only)
{
	size_t cap = 0;
	int rc;
	while (*pos < end) {
		size_t at = *pos;
		if (end - at < 8)
			return trunc_err(c, at, "an element header");
		uint16_t g = rd16(c->buf + at, le), e = rd16(c->buf + at + 2, le);
		uint32_t tag = (uint32_t)g << 16 | e;
		if (meta_only && g != 0x0002)
			return LB_OK; /* end of the file meta group */
		if (tag == TAG_ITEM_END) {
			if (!stop_at_item_end)
				return lb_errf(c->em, LB_EMALFORMED,
					       "offset %zu: item delimiter outside an item",
					       c->base + at);
			*pos = at + 8;
			return LB_OK;
		}
		if (tag == TAG_SEQ_END || tag == TAG_ITEM)
			return lb_errf(c->em, LB_EMALFORMED,
				       "offset %zu: %s where a data element was expected",
				       c->base + at,
				       tag == TAG_ITEM ? "item tag" : "sequence delimiter");
		if (++c->nelems > LB_DICOM_MAX_ELEMS)
			return lb_errf(c->em, LB_ELIMIT, "offset %zu: more than %d elements",
				       c->base + at, LB_DICOM_MAX_ELEMS);
		struct lb_dicom_elem el = {.tag = tag, .offset = c->base + at, .little_endian = le};
		uint32_t len;
		size_t vpos;
		if (explicit_vr) {
			const uint8_t *v = c->buf + at + 4;
			if (v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z')
				return lb_errf(c->em, LB_EMALFORMED,
					       "offset %zu: tag (%04X,%04X) has no valid VR "
					       "(bytes %02x %02x)",
					       c->base + at, g, e, v[0], v[1]);
			el.vr[0] = (char)v[0];
			el.vr[1] = (char)v[1];
			if (vr_in(el.vr, vr_long, sizeof vr_long / sizeof vr_long[0])) {
				if (end - at < 12)
					return trunc_err(c, at, "an element header");
				len = rd32(c->buf + at + 8, le);
				vpos = at + 12;
			} else if (vr_in(el.vr, vr_all, sizeof vr_all / sizeof vr_all[0])) {
				len = rd16(c->buf + at + 6, le);
				vpos = at + 8;
			} else {
				/* Unknown VR: PS3.5 7.1.2 says treat it as UN with a 4-byte length. */
				if (end - at < 12)
					return trunc_err(c, at, "an element header");
				len = rd32(c->buf + at + 8, le);
				vpos = at + 12;
			}
		} else {
			len = rd32(c->buf + at + 4, le);
			vpos = at + 8;
			implicit_vr(c, tag, len, el.vr);
		}
		if (explicit_vr && !strcmp(el.vr, "UN") && (len == UNDEF || len < 0xffff)) {
			/* UN written for a tag the dictionary knows (PS3.5 6.2.2 allows it after a
			 * relay): use the dictionary VR, as pydicom and dcmtk do. Its value is
			 * encoded implicit VR little endian. */
			char dvr[3];
			implicit_vr(c, tag, len, dvr);
			if (strcmp(dvr, "UN") != 0) {
				memcpy(el.vr, dvr, 3);
				if (!strcmp(dvr, "SQ")) {
					if (len != UNDEF && end - vpos < len) {
						rc = trunc_err(c, at, "a sequence");
						goto err_free_elem;
					}
					*pos = vpos;
					rc = parse_items(c, pos, len == UNDEF ? end : vpos + len,
							 len == UNDEF, false, true, depth + 1, &el);
					if (rc)
						goto err_free_elem;
					goto add_elem;
				}
			}
		}
		if (depth == 0 && tag == 0x7FE00010)
			c->has_pixel_data = true;
		if (len == UNDEF) {
			el.undefined_length = true;
			*pos = vpos;
			bool as_seq = !strcmp(el.vr, "SQ") || !strcmp(el.vr, "UN");
			if (!strcmp(el.vr, "UN")) {
				/* PS3.5 6.2.2: UN of undefined length is an implicit VR LE sequence. */
				rc = parse_items(c, pos, end, true, false, true, depth + 1, &el);
				if (!rc)
					memcpy(el.vr, "SQ", 3);
			} else if (as_seq) {
				rc = parse_items(c, pos, end, true, explicit_vr, le, depth + 1, &el);
			} else {
				/* Encapsulated pixel data (or another undefined-length value): a run of
				 * items ended by a sequence delimiter; keep the bytes. */
				size_t p = vpos;
				rc = LB_OK;
				for (;;) {
					if (end - p < 8) {
						rc = trunc_err(c, p, "encapsulated data");
						break;
					}
					uint32_t it = (uint32_t)rd16(c->buf + p, le) << 16 |
						      rd16(c->buf + p + 2, le);
					uint32_t il = rd32(c->buf + p + 4, le);
					if (it == TAG_SEQ_END) {
						el.value = c->buf + vpos;
						el.length = p - vpos;
						*pos = p + 8;
						break;
					}
					if (it != TAG_ITEM || il == UNDEF) {
						rc = lb_errf(c->em, LB_EMALFORMED,
							     "offset %zu: expected a fragment item in "
							     "undefined-length (%04X,%04X)",
							     c->base + p, g, e);
						break;
					}
					if (end - p - 8 < il) {
						rc = trunc_err(c, p, "a fragment");
						break;
					}
					p += 8 + (size_t)il;
				}
			}
		} else {
			if (end - vpos < len) {
				rc = lb_errf(c->em, LB_ETRUNCATED,
					     "offset %zu: (%04X,%04X) %s declares %u bytes but only "
					     "%zu remain",
					     c->base + at, g, e, el.vr, len, end - vpos);
				goto err_free_elem;
			}
			if (!strcmp(el.vr, "SQ")) {
				*pos = vpos;
				rc = parse_items(c, pos, vpos + len, false, explicit_vr, le, depth + 1,
						 &el);
			} else {
				el.value = c->buf + vpos;
				el.length = len;
				*pos = vpos + len;
				rc = LB_OK;
			}
		}
		if (rc)
			goto err_free_elem;
add_elem:
		if (depth == 0 && tag == 0x00280103 && el.length >= 2)
			c->pixel_rep = rd16(el.value, le);
		if (out->nelems == cap) {
			cap = cap ? cap * 2 : 16;
			struct lb_dicom_elem *ne = lb_realloc(out->elems, cap * sizeof *ne);
			if (!ne) {
				rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
				goto err_free_elem;
			}
			out->elems = ne;
		}
		out->elems[out->nelems++] = el;
		continue;
err_free_elem:
		data_dicom_elem_release(&el);
		return rc;
	}
	if (stop_at_item_end)
		return trunc_err(c, *pos, "an item of undefined length");
	*pos = end;
	return LB_OK;
}

/* Parse the items of a sequence into el->items. */
static int parse_items(struct dctx *c, size_t *pos, size_t end, bool undef, bool explicit_vr,
		       bool le, int depth, struct lb_dicom_elem *el)
{
	if (depth > LB_DICOM_MAX_DEPTH)
		return lb_errf(c->em, LB_ELIMIT, "offset %zu: sequences nested deeper than %d",
			       c->base + *pos, LB_DICOM_MAX_DEPTH);
	size_t cap = 0;
	for (;;) {
		size_t at = *pos;
		if (!undef && at >= end)
			return LB_OK;
		if (end - at < 8)
			return trunc_err(c, at, "a sequence");
		uint32_t it = (uint32_t)rd16(c->buf + at, le) << 16 | rd16(c->buf + at + 2, le);
		uint32_t il = rd32(c->buf + at + 4, le);
		if (it == TAG_SEQ_END && undef) {
			*pos = at + 8;
			return LB_OK;
		}
		if (it != TAG_ITEM)
			return lb_errf(c->em, LB_EMALFORMED,
				       "offset %zu: expected an item tag (FFFE,E000) in sequence "
				       "(%04X,%04X), found (%04X,%04X)",
				       c->base + at, el->tag >> 16, el->tag & 0xffff, it >> 16,
				       it & 0xffff);
		if (el->nitems == cap) {
			cap = cap ? cap * 2 : 4;
			struct lb_dicom_item *ni = lb_realloc(el->items, cap * sizeof *ni);
			if (!ni)
				return lb_errf(c->em, LB_ENOMEM, "out of memory");
			el->items = ni;
		}
		struct lb_dicom_item *item = &el->items[el->nitems++];
		memset(item, 0, sizeof *item);
		item->offset = c->base + at;
		*pos = at + 8;
		int rc;
		if (il == UNDEF) {
			rc = parse_dataset(c, pos, end, true, explicit_vr, le, depth, item, false);
		} else {
			if (end - *pos < il)
				return lb_errf(c->em, LB_ETRUNCATED,
					       "offset %zu: item declares %u bytes but only %zu remain",
					       c->base + at, il, end - *pos);
			rc = parse_dataset(c, pos, *pos + il, false, explicit_vr, le, depth, item,
					   false);
		}
		if (rc)
			return rc;
	}
}

void data_dicom_elem_release(struct lb_dicom_elem *el)
{
	for (size_t i = 0; i < el->nitems; i++)
		data_dicom_item_release(&el->items[i]);
	lb_free(el->items);
	el->items = NULL;
	el->nitems = 0;
}

void data_dicom_item_release(struct lb_dicom_item *it)
{
	for (size_t i = 0; i < it->nelems; i++)
		data_dicom_elem_release(&it->elems[i]);
	lb_free(it->elems);
	it->elems = NULL;
	it->nelems = 0;
}

void lb_dicom_file_release(struct lb_dicom_file *f)
{
	data_dicom_item_release(&f->meta);
	data_dicom_item_release(&f->body);
	lb_free(f->owned);
	lb_free(f->inflated);
	memset(f, 0, sizeof *f);
}

static void trim_copy(char *out, size_t cap, const uint8_t *v, size_t n)
{
	while (n && (v[n - 1] == ' ' || v[n - 1] == 0))
		n--;
	while (n && v[0] == ' ') {
		v++;
		n--;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = 0;
}

/* Is the element header at d a plausible first element of a data set in this encoding? A data
 * set is sorted by tag, so its first element has a group in 0001..7FE0 (private groups such as
 * 0001 or 3F03 do open real files; 0000 is a command set), and its length fits in the bytes
 * that follow (or is undefined for a VR that may be, SQ/UN/OB/OW). why (may be NULL) gets the reason when it is not. */
static bool first_elem_plausible(const uint8_t *d, size_t n, bool explicit_vr, bool le,
				 char *why, size_t whycap)
{
	char dummy[8];
	if (!why) {
		why = dummy;
		whycap = sizeof dummy;
	}
	if (n < 8) {
		snprintf(why, whycap, "only %zu bytes", n);
		return false;
	}
	uint16_t g = rd16(d, le), e = rd16(d + 2, le);
	uint32_t len;
	size_t hdr = 8;
	char vr[3] = {0};
	if (explicit_vr) {
		vr[0] = (char)d[4];
		vr[1] = (char)d[5];
		if (!vr_in(vr, vr_all, sizeof vr_all / sizeof vr_all[0])) {
			snprintf(why, whycap, "bytes %02x %02x after tag (%04X,%04X) are no VR", d[4],
				 d[5], g, e);
			return false;
		}
		if (vr_in(vr, vr_long, sizeof vr_long / sizeof vr_long[0])) {
			if (n < 12) {
				snprintf(why, whycap, "only %zu bytes", n);
				return false;
			}
			len = rd32(d + 8, le);
			hdr = 12;
		} else {
			len = rd16(d + 6, le);
		}
	} else {
		len = rd32(d + 4, le);
	}
	if (g == 0x0000 || g > 0x7FE0) {
		snprintf(why, whycap, "tag (%04X,%04X) cannot open a data set", g, e);
		return false;
	}
	if (len == UNDEF) {
		struct lb_dicom_dict_entry de;
		bool may_undef =
			explicit_vr ? (vr_in(vr, (const char *const[]){"SQ", "UN", "OB", "OW"}, 4))
				    : (!lb_dicom_dict_lookup((uint32_t)g << 16 | e, &de) ||
				       !strcmp(de.vr, "SQ") || !strcmp(de.vr, "ox"));
		if (!may_undef) {
			snprintf(why, whycap, "tag (%04X,%04X) has an undefined length", g, e);
			return false;
		}
		return true;
	}
	if (len > n - hdr) {
		snprintf(why, whycap, "tag (%04X,%04X) declares %u bytes but only %zu remain", g,
			 e, len, n - hdr);
		return false;
	}
	return true;
}

bool lb_dicom_is_dataset(const uint8_t *data, size_t len)
{
	if (len >= 132 && !memcmp(data + 128, "DICM", 4))
		return true;
	if (len >= 8 && data[0] == 0x02 && data[1] == 0x00 && data[4] >= 'A' && data[4] <= 'Z' &&
	    data[5] >= 'A' && data[5] <= 'Z')
		return true; /* meta group without preamble */
	return first_elem_plausible(data, len, false, true, NULL, 0) ||
	       first_elem_plausible(data, len, true, true, NULL, 0) ||
	       first_elem_plausible(data, len, true, false, NULL, 0);
}

int lb_dicom_parse(const uint8_t *data, size_t len, struct lb_dicom_file *f,
		   struct lb_errmsg *em)
{
	memset(f, 0, sizeof *f);
	f->owned = lb_malloc(len ? len : 1);
	if (!f->owned)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	if (len)
		memcpy(f->owned, data, len);
	struct dctx c = {.buf = f->owned, .len = len, .em = em, .pixel_rep = -1};
	size_t pos = 0;
	int rc;
	if (len >= 132 && !memcmp(f->owned + 128, "DICM", 4)) {
		f->has_preamble = true;
		pos = 132;
	}
	/* File meta group, if present: explicit VR little endian. */
	if (len - pos >= 8 && f->owned[pos] == 0x02 && f->owned[pos + 1] == 0x00) {
		rc = parse_dataset(&c, &pos, len, false, true, true, 0, &f->meta, true);
		if (rc)
			goto err_release;
	} else if (f->has_preamble) {
		rc = lb_errf(em, LB_EMALFORMED, "offset 132: \"DICM\" is not followed by the "
						"file meta group (0002,xxxx)");
		goto err_release;
	}
	const struct lb_dicom_elem *ts = lb_dicom_find(f, 0x00020010);
	if (ts && ts->value)
		trim_copy(f->transfer_syntax, sizeof f->transfer_syntax, ts->value, ts->length);
	if (pos == 0 && f->meta.nelems == 0) {
		/* Neither preamble nor meta group: a bare data set, as many archives and modalities
		 * write them. Accept it only if its first element is plausible in one of the
		 * encodings, so that other files are not read as one huge bogus element. */
		char why_i[128], why_e[128];
		bool le_guess = len >= 2 && (unsigned)(f->owned[0] | f->owned[1] << 8) <=
						    (unsigned)(f->owned[0] << 8 | f->owned[1]);
		if (!first_elem_plausible(f->owned, len, false, true, why_i, sizeof why_i) &&
		    !first_elem_plausible(f->owned, len, true, le_guess, why_e, sizeof why_e)) {
			rc = lb_errf(em, LB_EMALFORMED,
				     "offset 0: not a DICOM file: no \"DICM\" at offset 128, no file "
				     "meta group, and no data element at offset 0 (as implicit VR: "
				     "%s; as explicit VR: %s)",
				     why_i, why_e);
			goto err_release;
		}
	}
	if (f->transfer_syntax[0] == 0) {
		/* No transfer syntax: guess from the first element as dcmtk and pydicom do. */
		if (len - pos >= 6) {
			const uint8_t *p = f->owned + pos;
			unsigned gle = (unsigned)(p[0] | p[1] << 8), gbe = (unsigned)(p[0] << 8 | p[1]);
			char vr[3] = {(char)p[4], (char)p[5], 0};
			bool expl = vr_in(vr, vr_all, sizeof vr_all / sizeof vr_all[0]);
			bool le = gle <= gbe;
			snprintf(f->transfer_syntax, sizeof f->transfer_syntax, "%s",
				 !expl ? "1.2.840.10008.1.2"
				 : le  ? "1.2.840.10008.1.2.1"
				       : "1.2.840.10008.1.2.2");
		} else {
			snprintf(f->transfer_syntax, sizeof f->transfer_syntax, "1.2.840.10008.1.2");
		}
	}
	const char *tsu = f->transfer_syntax;
	f->explicit_vr = strcmp(tsu, "1.2.840.10008.1.2") != 0;
	f->little_endian = strcmp(tsu, "1.2.840.10008.1.2.2") != 0;
	f->deflated = !strcmp(tsu, "1.2.840.10008.1.2.1.99");
	if (f->deflated) {
		rc = data_inflate_raw(f->owned + pos, len - pos, 1u << 30, &f->inflated,
				      &f->inflated_len);
		if (rc) {
			rc = lb_errf(em, rc, "offset %zu: deflated data set cannot be inflated (%s)",
				     pos, lb_strerror(rc));
			goto err_release;
		}
		c.buf = f->inflated;
		c.len = f->inflated_len;
		c.base = pos;
		pos = 0;
	}
	if (c.len - pos >= 6 && f->little_endian) {
		/* Some writers declare one VR encoding and use the other; look at the first
		 * element as dcmtk and pydicom do, and follow what is really there. */
		char vr[3] = {(char)c.buf[pos + 4], (char)c.buf[pos + 5], 0};
		bool looks_explicit = vr_in(vr, vr_all, sizeof vr_all / sizeof vr_all[0]);
		if (looks_explicit != f->explicit_vr && !f->deflated)
			f->explicit_vr = looks_explicit;
	}
	rc = parse_dataset(&c, &pos, c.len, false, f->explicit_vr, f->little_endian, 0, &f->body,
			   false);
	if (rc)
		goto err_release;
	return LB_OK;
err_release:
	lb_dicom_file_release(f);
	return rc;
}

int lb_dicom_parse_file(const char *path, size_t max, struct lb_dicom_file *f,
			struct lb_errmsg *em)
{
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, max, &data, &len, em);
	if (rc)
		return rc;
	rc = lb_dicom_parse(data, len, f, em);
	lb_free(data);
	if (rc)
		lb_errwrap(em, "%s: ", path);
	return rc;
}

const struct lb_dicom_elem *lb_dicom_find(const struct lb_dicom_file *f, uint32_t tag)
{
	const struct lb_dicom_item *it = (tag >> 16) == 0x0002 ? &f->meta : &f->body;
	for (size_t i = 0; i < it->nelems; i++)
		if (it->elems[i].tag == tag)
			return &it->elems[i];
	return NULL;
}

bool lb_dicom_get_string(const struct lb_dicom_file *f, uint32_t tag, char *out, size_t cap)
{
	const struct lb_dicom_elem *e = lb_dicom_find(f, tag);
	if (!e || !lb_dicom_vr_is_text(e->vr) || cap == 0)
		return false;
	trim_copy(out, cap, e->value ? e->value : (const uint8_t *)"", e->length);
	return true;
}

bool lb_dicom_get_number(const struct lb_dicom_file *f, uint32_t tag, double *out)
{
	const struct lb_dicom_elem *e = lb_dicom_find(f, tag);
	if (!e || !e->value)
		return false;
	bool le = e->little_endian;
	if (!strcmp(e->vr, "US") && e->length >= 2)
		*out = rd16(e->value, le);
	else if (!strcmp(e->vr, "SS") && e->length >= 2)
		*out = (int16_t)rd16(e->value, le);
	else if (!strcmp(e->vr, "UL") && e->length >= 4)
		*out = rd32(e->value, le);
	else if (!strcmp(e->vr, "SL") && e->length >= 4)
		*out = (int32_t)rd32(e->value, le);
	else if (!strcmp(e->vr, "IS") || !strcmp(e->vr, "DS")) {
		char s[64], *end;
		trim_copy(s, sizeof s, e->value, e->length);
		char *bs = strchr(s, '\\');
		if (bs)
			*bs = 0;
		*out = strtod(s, &end);
		return end != s;
	} else
		return false;
	return true;
}
