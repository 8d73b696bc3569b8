/*
 * The DICOM data dictionary: the built-in table generated from dcmtk's dicom.dic (PS3.6) and a
 * loader for files in the same layout. Implicit-VR data sets need it to know each element's VR;
 * `leben data inspect` uses it to print keywords.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/data_dicom.h"

struct dicom_dict_entry {
	uint32_t tag;
	const char *vr;
	const char *keyword;
	const char *vm;
};

/* A repeating-group entry: group in [glo,ghi] with parity gpar (0 all, 2 even, 3 odd), element
 * likewise. */
struct dicom_dict_range {
	uint16_t glo, ghi;
	int gpar;
	uint16_t elo, ehi;
	int epar;
	const char *vr;
	const char *keyword;
	const char *vm;
};

#include "dicom_dict_table.inc"

static bool in_span(unsigned v, unsigned lo, unsigned hi, int par)
{
	if (v < lo || v > hi)
		return false;
	if (par == 2)
		return (v & 1) == 0;
	if (par == 3)
		return (v & 1) == 1;
	return true;
}

size_t lb_dicom_dict_size(void)
{
	return sizeof dicom_dict_exact / sizeof dicom_dict_exact[0];
}

bool lb_dicom_dict_lookup(uint32_t tag, struct lb_dicom_dict_entry *out)
{
	size_t lo = 0, hi = lb_dicom_dict_size();
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dicom_dict_exact[mid].tag < tag) {
			lo = mid + 1;
		} else if (dicom_dict_exact[mid].tag > tag) {
			hi = mid;
		} else {
			out->tag = tag;
			out->vr = dicom_dict_exact[mid].vr;
			out->keyword = dicom_dict_exact[mid].keyword;
			out->vm = dicom_dict_exact[mid].vm;
			return true;
		}
	}
	unsigned g = tag >> 16, e = tag & 0xffff;
	for (size_t i = 0; i < sizeof dicom_dict_ranges / sizeof dicom_dict_ranges[0]; i++) {
		const struct dicom_dict_range *r = &dicom_dict_ranges[i];
		if (in_span(g, r->glo, r->ghi, r->gpar) && in_span(e, r->elo, r->ehi, r->epar)) {
			out->tag = tag;
			out->vr = r->vr;
			out->keyword = r->keyword;
			out->vm = r->vm;
			return true;
		}
	}
	if (e == 0 && (g & 1) == 0) {
		out->tag = tag;
		out->vr = "UL";
		out->keyword = "GroupLength";
		out->vm = "1";
		return true;
	}
	return false;
}

/* ---- loading a dictionary file ---------------------------------------------------------- */

struct dict_row {
	uint16_t glo, ghi, elo, ehi;
	int gpar, epar;
	char *vr, *keyword, *vm; /* point into the owned text */
};

struct lb_dicom_dict {
	char *text;           /* owned copy of the file, split in place */
	struct dict_row *rows;
	size_t nrows;
};

/* Parse "gggg", "gggg-gggg", "gggg-o-gggg" or "gggg-u-gggg". */
static bool parse_span(const char *s, size_t n, uint16_t *lo, uint16_t *hi, int *par)
{
	char buf[16];
	if (n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *end;
	unsigned long a = strtoul(buf, &end, 16), b;
	if (end != buf + 4)
		return false;
	if (*end == 0) {
		*lo = *hi = (uint16_t)a;
		*par = 0;
		return true;
	}
	if (*end != '-')
		return false;
	end++;
	*par = 2;
	if ((end[0] == 'o' || end[0] == 'u') && end[1] == '-') {
		*par = end[0] == 'o' ? 3 : 0;
		end += 2;
	}
	const char *p = end;
	b = strtoul(p, &end, 16);
	if (end != p + 4 || *end != 0)
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return a <= b;
}

int lb_dicom_dict_load(const char *path, struct lb_dicom_dict **out, struct lb_errmsg *em)
{
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, 16u << 20, &data, &len, em);
	if (rc)
		return rc;
	struct lb_dicom_dict *d = lb_calloc(1, sizeof *d);
	if (!d) {
		lb_free(data);
		return lb_errf(em, LB_ENOMEM, "%s: out of memory", path);
	}
	d->text = (char *)data;
	size_t cap = 0, lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(d->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		size_t ll = strlen(line);
		if (ll && line[ll - 1] == '\r')
			line[--ll] = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		char *f[5] = {0};
		int nf = 0;
		for (char *p = line; nf < 5 && p;) {
			while (*p == '\t')
				p++;
			if (!*p)
				break;
			f[nf++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		struct dict_row r;
		char *comma = f[0] ? strchr(f[0], ',') : NULL;
		size_t tl = f[0] ? strlen(f[0]) : 0;
		if (nf < 4 || f[0][0] != '(' || !comma || f[0][tl - 1] != ')' ||
		    !parse_span(f[0] + 1, (size_t)(comma - f[0] - 1), &r.glo, &r.ghi, &r.gpar) ||
		    !parse_span(comma + 1, (size_t)(f[0] + tl - 1 - comma - 1), &r.elo, &r.ehi,
				&r.epar) ||
		    strlen(f[1]) != 2) {
			lb_dicom_dict_free(d);
			return lb_errf(em, LB_ESYNTAX,
				       "%s: line %zu is not \"(gggg,eeee)<TAB>VR<TAB>Keyword<TAB>VM\"",
				       path, lineno);
		}
		r.vr = f[1];
		r.keyword = f[2];
		r.vm = f[3];
		if (d->nrows == cap) {
			cap = cap ? cap * 2 : 1024;
			struct dict_row *nr = lb_realloc(d->rows, cap * sizeof *nr);
			if (!nr) {
				lb_dicom_dict_free(d);
				return lb_errf(em, LB_ENOMEM, "%s: out of memory", path);
			}
			d->rows = nr;
		}
		d->rows[d->nrows++] = r;
	}
	*out = d;
	return LB_OK;
}

void lb_dicom_dict_free(struct lb_dicom_dict *d)
{
	if (!d)
		return;
	lb_free(d->rows);
	lb_free(d->text);
	lb_free(d);
}

size_t lb_dicom_dict_count(const struct lb_dicom_dict *d)
{
	return d->nrows;
}

bool lb_dicom_dict_find(const struct lb_dicom_dict *d, uint32_t tag,
			struct lb_dicom_dict_entry *out)
{
	unsigned g = tag >> 16, e = tag & 0xffff;
	/* Exact entries win over repeating-group ranges; among equals the later entry overrides
	 * the earlier one (dcmtk's rules), so search from the end, exact entries first. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = d->nrows; i-- > 0;) {
			const struct dict_row *r = &d->rows[i];
			bool exact = r->glo == r->ghi && r->elo == r->ehi;
			if (exact != (pass == 0))
				continue;
			if (in_span(g, r->glo, r->ghi, r->gpar) &&
			    in_span(e, r->elo, r->ehi, r->epar)) {
				out->tag = tag;
				out->vr = r->vr;
				out->keyword = r->keyword;
				out->vm = r->vm;
				return true;
			}
		}
	}
	return false;
}
