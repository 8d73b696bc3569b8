/*
 * Codes in tables: which columns hold ICD-10 or SNOMED CT codes (from the column's name), and
 * the cell-by-cell check that lists every bad code with its line and column, for
 * `leben data audit TABLE.csv`. The table is walked again here with the delimiter, header and
 * skipped rows its profile found (RFC 4180 quoting, "" inside quotes, line breaks inside
 * quoted fields counted), so the line reported is the file's line where the row starts.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_audit.h"
#include "leben/data_coding.h"

/* Lower-case letters and digits of a name ("ICD-10-CM code" -> "icd10cmcode"). */
static void squash(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 1 < cap; s++)
		if (isalnum((unsigned char)*s))
			out[o++] = (char)tolower((unsigned char)*s);
	out[o] = 0;
}

int lb_audit_code_column(const char *name, bool *guessed)
{
	char n[128];
	squash(name ? name : "", n, sizeof n);
	if (guessed)
		*guessed = false;
	if (strstr(n, "snomed") || strstr(n, "sctid") || !strncmp(n, "sctcode", 7) ||
	    !strcmp(n, "sct"))
		return LB_CODE_SNOMED;
	if (strstr(n, "icd"))
		return LB_CODE_ICD10CM;
	if (strstr(n, "diagnos") || !strcmp(n, "dx") || !strcmp(n, "dxcode")) {
		if (guessed)
			*guessed = true;
		return LB_CODE_ICD10CM;
	}
	return LB_CODE_OTHER;
}

static void problem(struct lb_asset_audit *a, const char *where, const char *what)
{
	if (a->nproblems == LB_AUDIT_MAX_PROBLEMS) {
		a->more_problems++;
		return;
	}
	struct lb_audit_problem *p = &a->problem[a->nproblems++];
	p->check = "codes";
	snprintf(p->where, sizeof p->where, "%s", where);
	snprintf(p->what, sizeof p->what, "%.170s", what);
}

/* Next field from s[*i]: its bytes (unquoted) into f (cap; longer values are cut, they are
 * not codes anyway), whether it ended its row. Lines are counted into *line. */
static bool next_field(const char *s, size_t len, size_t *i, char delim, char *f, size_t cap,
		       size_t *line)
{
	size_t o = 0, k = *i;
	if (delim == ' ')
		while (k < len && s[k] == ' ')
			k++;
	if (k < len && s[k] == '"') {
		k++;
		while (k < len) {
			if (s[k] == '"') {
				if (k + 1 < len && s[k + 1] == '"') {
					if (o + 1 < cap)
						f[o++] = '"';
					k += 2;
					continue;
				}
				k++;
				break;
			}
			if (s[k] == '\n')
				(*line)++;
			if (o + 1 < cap)
				f[o++] = s[k];
			k++;
		}
	}
	while (k < len && s[k] != delim && s[k] != '\n') {
		if (s[k] != '\r' && o + 1 < cap)
			f[o++] = s[k];
		k++;
	}
	f[o] = 0;
	bool end = k >= len || s[k] == '\n';
	if (k < len) {
		if (s[k] == '\n')
			(*line)++;
		k++;
	}
	*i = k;
	return end;
}

/* An empty line (as csv.c skips them). */
static bool s_is_blank_line(const char *s, size_t len, size_t i)
{
	return s[i] == '\n' || (s[i] == '\r' && (i + 1 == len || s[i + 1] == '\n'));
}

static void trim(char *f)
{
	size_t n = strlen(f), a = 0;
	while (n && isspace((unsigned char)f[n - 1]))
		f[--n] = 0;
	while (isspace((unsigned char)f[a]))
		a++;
	memmove(f, f + a, n - a + 1);
}

int lb_audit_table_codes(const char *text, size_t len, const struct lb_csv_profile *p,
			 const struct lb_code_tables *t, struct lb_asset_audit *a)
{
	memset(a, 0, sizeof *a);
	a->format = "table";
	struct lb_audit_check *c = &a->check[a->nchecks++];
	c->name = "codes";
	int sys[256] = {0};
	size_t ncode = 0;
	for (size_t j = 0; j < p->ncols && j < 256; j++) {
		bool guessed = false;
		sys[j] = lb_audit_code_column(p->cols[j].name, &guessed);
		if (sys[j] && guessed) {
			/* a "diagnosis" column counts when most of its values are well formed */
			const struct lb_csv_column *col = &p->cols[j];
			size_t present = col->count - col->missing, malformed = 0;
			for (size_t i = 0; i < col->nfreq; i++) {
				int rc = lb_code_check((enum lb_code_system)sys[j], col->freq[i].value,
						       NULL, NULL);
				malformed += rc ? col->freq[i].count : 0;
			}
			if (!col->nfreq || !present || malformed * 5 > present)
				sys[j] = 0;
		}
		ncode += sys[j] != 0;
	}
	if (!ncode) {
		a->score = 0;
		return LB_OK;
	}
	size_t i = 0, line = 1, rec = 0;
	size_t first = p->skipped_rows + (p->has_header ? 1 : 0);
	char f[256];
	while (i < len) {
		size_t start_line = line, col = 0;
		bool end = false;
		if (i < len && s_is_blank_line(text, len, i)) {
			/* blank lines are not rows */
			while (i < len && text[i] != '\n')
				i++;
			i++;
			line++;
			continue;
		}
		while (!end) {
			end = next_field(text, len, &i, p->delimiter, f, sizeof f, &line);
			if (rec >= first && col < p->ncols && col < 256 && sys[col]) {
				trim(f);
				if (f[0] && !data_is_missing_marker(f, strlen(f))) {
					struct lb_errmsg em;
					lb_errclear(&em);
					int rc = lb_code_check((enum lb_code_system)sys[col], f, t, &em);
					c->total++;
					c->passed += rc == LB_OK;
					if (rc) {
						char where[112];
						snprintf(where, sizeof where, "line %zu, column %.60s",
							 start_line, p->cols[col].name);
						problem(a, where, em.text);
						if (!c->detail[0])
							snprintf(c->detail, sizeof c->detail, "%.60s: %.90s",
								 where, em.text);
					}
				}
			}
			col++;
		}
		rec++;
	}
	a->score = c->total ? (uint32_t)(c->passed * 10000 / c->total) : 0;
	return LB_OK;
}
