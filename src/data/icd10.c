/*
 * ICD-10 and ICD-10-CM: code syntax, chapters, and the CMS/NCHS order-file loader with the
 * parent walk (category -> subcategory -> code). The order file is the layout CMS publishes
 * with each ICD-10-CM release (icd10cm_order_YYYY.txt); LEBEN ships only a small hand-made
 * fixture for its tests.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/data_coding.h"

int lb_icd10_check(const char *code, bool cm, struct lb_errmsg *em)
{
	char c[10];
	size_t n = 0;
	for (size_t i = 0; code[i]; i++) {
		if (code[i] == '.') {
			if (i != 3 || !code[i + 1])
				return lb_errf(em, LB_ESYNTAX,
					       "ICD-10 code \"%.12s\": the dot belongs after the third "
					       "character",
					       code);
			continue;
		}
		if (n >= 7)
			return lb_errf(em, LB_ESYNTAX, "ICD-10 code \"%.12s\" is too long", code);
		c[n++] = (char)toupper((unsigned char)code[i]);
	}
	c[n] = 0;
	if (n < 3)
		return lb_errf(em, LB_ESYNTAX, "ICD-10 code \"%.12s\" is too short", code);
	if (!isupper((unsigned char)c[0]))
		return lb_errf(em, LB_ESYNTAX, "ICD-10 code \"%.12s\": character 1 must be a letter", code);
	if (!isdigit((unsigned char)c[1]))
		return lb_errf(em, LB_ESYNTAX, "ICD-10 code \"%.12s\": character 2 must be a digit", code);
	if (!cm) {
		if (n > 4)
			return lb_errf(em, LB_ESYNTAX,
				       "ICD-10 code \"%.12s\" is longer than 4 characters (ICD-10-CM?)",
				       code);
		for (size_t i = 2; i < n; i++)
			if (!isdigit((unsigned char)c[i]))
				return lb_errf(em, LB_ESYNTAX,
					       "ICD-10 code \"%.12s\": character %zu must be a digit", code,
					       i + 1);
		return LB_OK;
	}
	for (size_t i = 2; i < n; i++)
		if (!isdigit((unsigned char)c[i]) && !isupper((unsigned char)c[i]))
			return lb_errf(em, LB_ESYNTAX,
				       "ICD-10-CM code \"%.12s\": character %zu must be a letter or digit",
				       code, i + 1);
	return LB_OK;
}

int lb_icd10_normalise(const char *code, bool cm, char out[10])
{
	if (lb_icd10_check(code, cm, NULL))
		return LB_ESYNTAX;
	size_t n = 0;
	for (size_t i = 0; code[i]; i++) {
		if (code[i] == '.')
			continue;
		if (n == 3)
			out[n++] = '.';
		out[n++] = (char)toupper((unsigned char)code[i]);
	}
	out[n] = 0;
	return LB_OK;
}

struct chapter {
	const char *num, *lo, *hi, *title;
};

static const struct chapter who_chapters[] = {
	{"I", "A00", "B99", "Certain infectious and parasitic diseases"},
	{"II", "C00", "D48", "Neoplasms"},
	{"III", "D50", "D89", "Diseases of the blood and blood-forming organs and certain "
			      "disorders involving the immune mechanism"},
	{"IV", "E00", "E90", "Endocrine, nutritional and metabolic diseases"},
	{"V", "F00", "F99", "Mental and behavioural disorders"},
	{"VI", "G00", "G99", "Diseases of the nervous system"},
	{"VII", "H00", "H59", "Diseases of the eye and adnexa"},
	{"VIII", "H60", "H95", "Diseases of the ear and mastoid process"},
	{"IX", "I00", "I99", "Diseases of the circulatory system"},
	{"X", "J00", "J99", "Diseases of the respiratory system"},
	{"XI", "K00", "K93", "Diseases of the digestive system"},
	{"XII", "L00", "L99", "Diseases of the skin and subcutaneous tissue"},
	{"XIII", "M00", "M99", "Diseases of the musculoskeletal system and connective tissue"},
	{"XIV", "N00", "N99", "Diseases of the genitourinary system"},
	{"XV", "O00", "O99", "Pregnancy, childbirth and the puerperium"},
	{"XVI", "P00", "P96", "Certain conditions originating in the perinatal period"},
	{"XVII", "Q00", "Q99", "Congenital malformations, deformations and chromosomal "
			       "abnormalities"},
	{"XVIII", "R00", "R99", "Symptoms, signs and abnormal clinical and laboratory findings, "
				"not elsewhere classified"},
	{"XIX", "S00", "T98", "Injury, poisoning and certain other consequences of external "
			      "causes"},
	{"XX", "V01", "Y98", "External causes of morbidity and mortality"},
	{"XXI", "Z00", "Z99", "Factors influencing health status and contact with health services"},
	{"XXII", "U00", "U85", "Codes for special purposes"},
};

static const struct chapter cm_chapters[] = {
	{"1", "A00", "B99", "Certain infectious and parasitic diseases"},
	{"2", "C00", "D49", "Neoplasms"},
	{"3", "D50", "D89", "Diseases of the blood and blood-forming organs and certain disorders "
			    "involving the immune mechanism"},
	{"4", "E00", "E89", "Endocrine, nutritional and metabolic diseases"},
	{"5", "F01", "F99", "Mental, behavioral and neurodevelopmental disorders"},
	{"6", "G00", "G99", "Diseases of the nervous system"},
	{"7", "H00", "H59", "Diseases of the eye and adnexa"},
	{"8", "H60", "H95", "Diseases of the ear and mastoid process"},
	{"9", "I00", "I99", "Diseases of the circulatory system"},
	{"10", "J00", "J99", "Diseases of the respiratory system"},
	{"11", "K00", "K95", "Diseases of the digestive system"},
	{"12", "L00", "L99", "Diseases of the skin and subcutaneous tissue"},
	{"13", "M00", "M99", "Diseases of the musculoskeletal system and connective tissue"},
	{"14", "N00", "N99", "Diseases of the genitourinary system"},
	{"15", "O00", "O9A", "Pregnancy, childbirth and the puerperium"},
	{"16", "P00", "P96", "Certain conditions originating in the perinatal period"},
	{"17", "Q00", "Q99", "Congenital malformations, deformations and chromosomal "
			     "abnormalities"},
	{"18", "R00", "R99", "Symptoms, signs and abnormal clinical and laboratory findings, not "
			     "elsewhere classified"},
	{"19", "S00", "T88", "Injury, poisoning and certain other consequences of external causes"},
	{"20", "V00", "Y99", "External causes of morbidity"},
	{"21", "Z00", "Z99", "Factors influencing health status and contact with health services"},
	{"22", "U00", "U85", "Codes for special purposes"},
};

const char *lb_icd10_chapter(const char *code, bool cm, const char **range, const char **title)
{
	char norm[10];
	if (lb_icd10_normalise(code, cm, norm))
		return NULL;
	char cat[4] = {norm[0], norm[1], norm[2], 0};
	const struct chapter *t = cm ? cm_chapters : who_chapters;
	size_t n = cm ? sizeof cm_chapters / sizeof cm_chapters[0]
		      : sizeof who_chapters / sizeof who_chapters[0];
	for (size_t i = 0; i < n; i++)
		if (strcmp(cat, t[i].lo) >= 0 && strcmp(cat, t[i].hi) <= 0) {
			static _Thread_local char buf[8];
			snprintf(buf, sizeof buf, "%s-%s", t[i].lo, t[i].hi);
			if (range)
				*range = buf;
			if (title)
				*title = t[i].title;
			return t[i].num;
		}
	return NULL;
}

/* ---- order file ------------------------------------------------------------------------ */

struct icd_row {
	char code[10];
	bool billable;
	char *short_desc, *long_desc; /* point into text */
};

struct lb_icd10_table {
	char *text; /* owned file contents, split in place */
	struct icd_row *rows;
	size_t n;
};

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct icd_row *)a)->code, ((const struct icd_row *)b)->code);
}

static char *rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

int lb_icd10_table_load(const char *path, struct lb_icd10_table **out, struct lb_errmsg *em)
{
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, 64u << 20, &data, &len, em);
	if (rc)
		return rc;
	struct lb_icd10_table *t = lb_calloc(1, sizeof *t);
	if (!t) {
		lb_free(data);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	t->text = (char *)data;
	size_t cap = 0, lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(t->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		rtrim(line);
		if (!*line)
			continue;
		size_t ll = strlen(line);
		bool ok = ll >= 17;
		for (int i = 0; ok && i < 5; i++)
			ok = isdigit((unsigned char)line[i]);
		ok = ok && line[5] == ' ' && line[13] == ' ' && (line[14] == '0' || line[14] == '1') &&
		     line[15] == ' ';
		char code[8] = {0};
		if (ok) {
			memcpy(code, line + 6, 7);
			rtrim(code);
		}
		struct icd_row r = {0};
		if (!ok || lb_icd10_normalise(code, true, r.code)) {
			lb_icd10_table_free(t);
			return lb_errf(em, LB_ESYNTAX,
				       "%s: line %zu is not in the order-file layout (order number, "
				       "code, 0/1 flag, short and long descriptions in fixed columns)",
				       path, lineno);
		}
		r.billable = line[14] == '1';
		line[76 < ll ? 76 : ll] = 0;
		r.short_desc = rtrim(line + 16);
		r.long_desc = ll > 77 ? rtrim(line + 77) : r.short_desc;
		if (t->n == cap) {
			cap = cap ? cap * 2 : 1024;
			struct icd_row *nr = lb_realloc(t->rows, cap * sizeof *nr);
			if (!nr) {
				lb_icd10_table_free(t);
				return lb_errf(em, LB_ENOMEM, "out of memory");
			}
			t->rows = nr;
		}
		t->rows[t->n++] = r;
	}
	if (t->n > 1)
		qsort(t->rows, t->n, sizeof *t->rows, cmp_row);
	for (size_t i = 1; i < t->n; i++)
		if (!strcmp(t->rows[i - 1].code, t->rows[i].code)) {
			rc = lb_errf(em, LB_ESYNTAX, "%s: code %s appears twice", path, t->rows[i].code);
			lb_icd10_table_free(t);
			return rc;
		}
	*out = t;
	return LB_OK;
}

void lb_icd10_table_free(struct lb_icd10_table *t)
{
	if (!t)
		return;
	lb_free(t->rows);
	lb_free(t->text);
	lb_free(t);
}

size_t lb_icd10_table_size(const struct lb_icd10_table *t)
{
	return t->n;
}

static void fill(const struct icd_row *r, struct lb_icd10_entry *out)
{
	out->code = r->code;
	out->billable = r->billable;
	out->short_desc = r->short_desc;
	out->long_desc = r->long_desc;
}

static const struct icd_row *find_norm(const struct lb_icd10_table *t, const char *norm)
{
	struct icd_row key;
	snprintf(key.code, sizeof key.code, "%s", norm);
	return t->n ? bsearch(&key, t->rows, t->n, sizeof *t->rows, cmp_row) : NULL;
}

bool lb_icd10_table_find(const struct lb_icd10_table *t, const char *code,
			 struct lb_icd10_entry *out)
{
	char norm[10];
	if (lb_icd10_normalise(code, true, norm))
		return false;
	const struct icd_row *r = find_norm(t, norm);
	if (r && out)
		fill(r, out);
	return r != NULL;
}

bool lb_icd10_table_parent(const struct lb_icd10_table *t, const char *code,
			   struct lb_icd10_entry *out)
{
	char norm[10];
	if (lb_icd10_normalise(code, true, norm) || !find_norm(t, norm))
		return false;
	for (size_t n = strlen(norm); n > 3;) {
		n--;
		if (norm[n - 1] == '.')
			n--;
		norm[n] = 0;
		const struct icd_row *r = find_norm(t, norm);
		if (r) {
			fill(r, out);
			return true;
		}
	}
	return false;
}

void lb_icd10_table_entry(const struct lb_icd10_table *t, size_t i, struct lb_icd10_entry *out)
{
	fill(&t->rows[i], out);
}
