/*
 * HL7 FHIR R4 JSON summaries: a Bundle (entry[].resource) or one resource. Counts resources by
 * type, collects every Coding (system|code) anywhere in the resources, the earliest and latest
 * date/dateTime/instant of the clinical date fields, and the distinct patients (Patient
 * resources and "Patient/<id>" references). Checks the structure FHIR requires of what it
 * reads: resourceType on every resource, Bundle entries that are objects with a resource,
 * dates in FHIR's date grammar.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_extract.h"

/* Counted strings: the entries in insertion order (v) and an open-addressing index of them
 * (slot = entry number + 1, 0 empty) so that adding is O(1) on average whatever the count
 * (a Bundle of 200,000 patients counts 200,000 distinct references). */
struct strcount {
	struct lb_fhir_count *v;
	size_t n, cap;
	uint32_t *slot;
	size_t nslot; /* a power of two, kept at least twice n */
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int sc_reindex(struct strcount *s, size_t nslot)
{
	uint32_t *ns = lb_calloc(nslot, sizeof *ns);
	if (!ns)
		return LB_ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		size_t j = str_hash(s->v[i].key) & (nslot - 1);
		while (ns[j])
			j = (j + 1) & (nslot - 1);
		ns[j] = (uint32_t)(i + 1);
	}
	lb_free(s->slot);
	s->slot = ns;
	s->nslot = nslot;
	return LB_OK;
}

static int sc_add(struct strcount *s, const char *key)
{
	if (s->n >= UINT32_MAX - 1)
		return LB_ENOMEM;
	if (2 * (s->n + 1) > s->nslot && sc_reindex(s, s->nslot ? 2 * s->nslot : 64))
		return LB_ENOMEM;
	size_t j = str_hash(key) & (s->nslot - 1);
	for (; s->slot[j]; j = (j + 1) & (s->nslot - 1))
		if (!strcmp(s->v[s->slot[j] - 1].key, key)) {
			s->v[s->slot[j] - 1].count++;
			return LB_OK;
		}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		struct lb_fhir_count *nv = lb_realloc(s->v, s->cap * sizeof *nv);
		if (!nv)
			return LB_ENOMEM;
		s->v = nv;
	}
	s->v[s->n].key = lb_strdup(key);
	if (!s->v[s->n].key)
		return LB_ENOMEM;
	s->v[s->n++].count = 1;
	s->slot[j] = (uint32_t)s->n;
	return LB_OK;
}

/* The index is only needed while counting. */
static void sc_unindex(struct strcount *s)
{
	lb_free(s->slot);
	s->slot = NULL;
	s->nslot = 0;
}

static void sc_release(struct strcount *s)
{
	for (size_t i = 0; i < s->n; i++)
		lb_free(s->v[i].key);
	lb_free(s->v);
	sc_unindex(s);
	memset(s, 0, sizeof *s);
}

static int cmp_count(const void *a, const void *b)
{
	return strcmp(((const struct lb_fhir_count *)a)->key, ((const struct lb_fhir_count *)b)->key);
}

static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static const char *const month_names[] = {"January", "February", "March",     "April",
					  "May",     "June",     "July",      "August",
					  "September", "October", "November", "December"};

/* FHIR R4 date (YYYY, YYYY-MM, YYYY-MM-DD), dateTime (a date, or a full date with
 * Thh:mm:ss(.fraction) and a time zone Z or +hh:mm/-hh:mm) and instant (always the full
 * form): the grammar of the specification plus the calendar — the day must exist in its month
 * (leap years included), hours 00-23, minutes 00-59, seconds 00-60, year not 0000, zone at
 * most 14:00. The reason goes to why (cap bytes) when it fails. */
bool data_fhir_date_check(const char *s, enum data_fhir_time kind, char *why, size_t cap)
{
#define BAD(...) (snprintf(why, cap, __VA_ARGS__), false)
	static const char *const kname[] = {"date", "dateTime", "instant"};
	size_t n = strlen(s);
	if (n < 4 || !digits(s, 4))
		return BAD("a FHIR %s starts with a 4-digit year (YYYY-MM-DD)", kname[kind]);
	if (!memcmp(s, "0000", 4))
		return BAD("year 0000 does not exist");
	if (n == 4)
		return kind == DATA_FHIR_INSTANT ? BAD("an instant needs a full date, time and zone")
						 : true;
	if (s[4] != '-' || n < 7 || !digits(s + 5, 2) || (n > 7 && s[7] != '-'))
		return BAD("the month is written YYYY-MM (two digits)");
	int y = atoi(s), mo = two(s + 5);
	if (mo < 1 || mo > 12)
		return BAD("month %02d does not exist", mo);
	if (n == 7)
		return kind == DATA_FHIR_INSTANT ? BAD("an instant needs a full date, time and zone")
						 : true;
	if (n < 10 || !digits(s + 8, 2))
		return BAD("the day is written YYYY-MM-DD (two digits)");
	int d = two(s + 8);
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int max = mdays[mo - 1] + (mo == 2 && leap);
	if (d < 1 || d > max)
		return BAD("%s %d has %d days, there is no day %02d", month_names[mo - 1], y, max, d);
	if (n == 10)
		return kind == DATA_FHIR_INSTANT ? BAD("an instant needs a time and a zone") : true;
	if (kind == DATA_FHIR_DATE)
		return BAD("a FHIR date has no time part (YYYY-MM-DD)");
	if (s[10] != 'T' || n < 19 || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
	    s[16] != ':' || !digits(s + 17, 2))
		return BAD("the time is written THH:MM:SS after the date");
	int hh = two(s + 11), mm = two(s + 14), ss = two(s + 17);
	if (hh > 23)
		return BAD("hour %02d does not exist (00 to 23)", hh);
	if (mm > 59)
		return BAD("minute %02d does not exist (00 to 59)", mm);
	if (ss > 60)
		return BAD("second %02d does not exist (00 to 60)", ss);
	size_t i = 19;
	if (s[i] == '.') {
		size_t f = ++i;
		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == f || i - f > 9)
			return BAD("a fraction of a second has 1 to 9 digits");
	}
	if (s[i] == 'Z' && s[i + 1] == 0)
		return true;
	if ((s[i] == '+' || s[i] == '-') && n - i == 6 && digits(s + i + 1, 2) && s[i + 3] == ':' &&
	    digits(s + i + 4, 2)) {
		int zh = two(s + i + 1), zm = two(s + i + 4);
		if (zm > 59 || zh > 14 || (zh == 14 && zm))
			return BAD("time zone %.6s does not exist (at most +14:00 and -14:00)", s + i);
		return true;
	}
	if (!s[i])
		return BAD("a time needs a time zone (Z or +hh:mm)");
	return BAD("unexpected \"%.8s\" after the time", s + i);
#undef BAD
}

bool data_is_fhir_date(const char *s)
{
	char why[8];
	return data_fhir_date_check(s, DATA_FHIR_DATETIME, why, sizeof why);
}

/* The FHIR type of a date element by its name: birthDate is a date; issued, lastUpdated,
 * timestamp and effectiveInstant are instants; the rest are dateTimes. */
enum data_fhir_time data_fhir_time_of(const char *key)
{
	if (!strcmp(key, "birthDate"))
		return DATA_FHIR_DATE;
	if (!strcmp(key, "issued") || !strcmp(key, "lastUpdated") || !strcmp(key, "timestamp") ||
	    !strcmp(key, "effectiveInstant") || !strcmp(key, "recorded"))
		return DATA_FHIR_INSTANT;
	return DATA_FHIR_DATETIME;
}

/* Date fields read for the date range. */
static bool is_date_key(const char *k)
{
	static const char *const keys[] = {
		"effectiveDateTime", "effectiveInstant", "issued", "onsetDateTime", "abatementDateTime",
		"recordedDate", "birthDate", "deceasedDateTime", "recorded", "dateTime", "start", "end",
		"authoredOn", "occurredDateTime", "lastUpdated", "timestamp"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

struct walk {
	struct strcount codes, patients;
	char first[40], last[40];
	struct lb_errmsg *em;
	const char *where;
};

static int walk(struct walk *w, json_t *v, int depth)
{
	if (depth > 64)
		return lb_errf(w->em, LB_ELIMIT, "%s: nested deeper than 64 levels", w->where);
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			int rc = walk(w, x, depth + 1);
			if (rc)
				return rc;
		}
		return LB_OK;
	}
	if (!json_is_object(v))
		return LB_OK;
	const char *k;
	json_t *x;
	/* A Coding: system + code. */
	json_t *code = json_object_get(v, "code"), *sys = json_object_get(v, "system");
	if (json_is_string(code) && (json_is_string(sys) || json_object_get(v, "display"))) {
		char key[512];
		snprintf(key, sizeof key, "%s|%s", json_is_string(sys) ? json_string_value(sys) : "",
			 json_string_value(code));
		if (sc_add(&w->codes, key))
			return LB_ENOMEM;
	}
	json_t *ref = json_object_get(v, "reference");
	if (json_is_string(ref)) {
		const char *r = json_string_value(ref);
		const char *p = strstr(r, "Patient/");
		if (p && (p == r || p[-1] == '/'))
			if (sc_add(&w->patients, p))
				return LB_ENOMEM;
	}
	json_object_foreach(v, k, x) {
		if (json_is_string(x) && is_date_key(k)) {
			const char *s = json_string_value(x);
			enum data_fhir_time ft = data_fhir_time_of(k);
			char why[128];
			if (!data_fhir_date_check(s, ft, why, sizeof why))
				return lb_errf(w->em, LB_EINVALID,
					       "%s: %s \"%.40s\" is not a valid FHIR %s: %s", w->where,
					       k, s,
					       ft == DATA_FHIR_DATE      ? "date"
					       : ft == DATA_FHIR_INSTANT ? "instant"
									 : "dateTime",
					       why);
			if (!w->first[0] || strcmp(s, w->first) < 0)
				snprintf(w->first, sizeof w->first, "%s", s);
			if (!w->last[0] || strcmp(s, w->last) > 0)
				snprintf(w->last, sizeof w->last, "%s", s);
		} else if (json_is_object(x) || json_is_array(x)) {
			int rc = walk(w, x, depth + 1);
			if (rc)
				return rc;
		}
	}
	return LB_OK;
}

static int add_resource(struct walk *w, struct strcount *types, json_t *res, const char *where)
{
	json_t *rt = json_object_get(res, "resourceType");
	if (!json_is_string(rt))
		return lb_errf(w->em, LB_EINVALID, "%s: no resourceType: this is not a FHIR resource",
			       where);
	const char *type = json_string_value(rt);
	if (sc_add(types, type))
		return LB_ENOMEM;
	if (!strcmp(type, "Patient")) {
		json_t *id = json_object_get(res, "id");
		char key[300];
		snprintf(key, sizeof key, "Patient/%s", json_is_string(id) ? json_string_value(id) : "?");
		if (sc_add(&w->patients, key))
			return LB_ENOMEM;
	}
	w->where = where;
	return walk(w, res, 0);
}

bool data_is_ndjson(const char *text, size_t len)
{
	json_error_t je;
	json_t *first = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &je);
	if (!first)
		return false;
	json_decref(first);
	size_t used = (size_t)je.position;
	while (used < len && isspace((unsigned char)text[used]))
		used++;
	return used < len;
}

bool data_ndjson_next(const char *text, size_t len, size_t *pos, size_t *line,
		      const char **start, size_t *n)
{
	while (*pos < len && isspace((unsigned char)text[*pos]))
		*line += text[(*pos)++] == '\n';
	if (*pos >= len)
		return false;
	const char *nl = memchr(text + *pos, '\n', len - *pos);
	*start = text + *pos;
	*n = nl ? (size_t)(nl - *start) : len - *pos;
	*pos += *n;
	return true;
}

static void summary_finish(struct lb_fhir_summary *out, struct walk *w, struct strcount *types)
{
	sc_unindex(types);
	sc_unindex(&w->codes);
	if (types->n > 1)
		qsort(types->v, types->n, sizeof *types->v, cmp_count);
	if (w->codes.n > 1)
		qsort(w->codes.v, w->codes.n, sizeof *w->codes.v, cmp_count);
	out->types = types->v;
	out->ntypes = types->n;
	out->codes = w->codes.v;
	out->ncodes = w->codes.n;
	out->patients = w->patients.n;
	sc_release(&w->patients);
	memcpy(out->first_date, w->first, sizeof w->first);
	memcpy(out->last_date, w->last, sizeof w->last);
}

/* NDJSON (Bulk Data files, leben fhir import input): each line one resource, parsed and
 * dropped in turn, so memory holds one line and the counts. */
static int summarise_ndjson(const char *text, size_t len, struct lb_fhir_summary *out,
			    struct lb_errmsg *em)
{
	struct walk w = {.em = em};
	struct strcount types = {0};
	size_t pos = 0, line = 1;
	int rc = LB_OK;
	snprintf(out->bundle_type, sizeof out->bundle_type, "ndjson");
	const char *l;
	size_t n;
	while (!rc && data_ndjson_next(text, len, &pos, &line, &l, &n)) {
		json_error_t je;
		json_t *res = json_loadb(l, n, JSON_REJECT_DUPLICATES, &je);
		char where[48];
		snprintf(where, sizeof where, "line %zu", line);
		if (!res)
			rc = lb_errf(em, LB_EMALFORMED, "%s, column %d: invalid JSON: %s (NDJSON has one "
				     "resource a line)", where, je.column, je.text);
		else if (!json_is_object(res))
			rc = lb_errf(em, LB_EINVALID, "%s is not a JSON object", where);
		else if ((rc = add_resource(&w, &types, res, where)) == LB_OK)
			out->resources++;
		json_decref(res);
	}
	if (rc) {
		if (rc == LB_ENOMEM)
			lb_errf(em, rc, "out of memory");
		sc_release(&types);
		sc_release(&w.codes);
		sc_release(&w.patients);
		return rc;
	}
	summary_finish(out, &w, &types);
	return LB_OK;
}

int lb_fhir_summarise(const char *text, size_t len, struct lb_fhir_summary *out,
		      struct lb_errmsg *em)
{
	memset(out, 0, sizeof *out);
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &je);
	if (!root)
		return lb_errf(em, LB_EMALFORMED, "offset %d (line %d, column %d): invalid JSON: %s",
			       je.position, je.line, je.column, je.text);
	struct walk w = {.em = em};
	struct strcount types = {0};
	int rc;
	size_t used = (size_t)je.position;
	while (used < len && isspace((unsigned char)text[used]))
		used++;
	if (used < len) { /* more after the first value: NDJSON, one resource a line */
		json_decref(root);
		return summarise_ndjson(text, len, out, em);
	}
	if (!json_is_object(root)) {
		rc = lb_errf(em, LB_EINVALID, "the document is not a JSON object");
		goto err_free;
	}
	json_t *rt = json_object_get(root, "resourceType");
	if (json_is_string(rt) && !strcmp(json_string_value(rt), "Bundle")) {
		json_t *bt = json_object_get(root, "type");
		snprintf(out->bundle_type, sizeof out->bundle_type, "%s",
			 json_is_string(bt) ? json_string_value(bt) : "");
		json_t *entries = json_object_get(root, "entry");
		if (entries && !json_is_array(entries)) {
			rc = lb_errf(em, LB_EINVALID, "Bundle.entry is not an array");
			goto err_free;
		}
		size_t i;
		json_t *e;
		json_array_foreach(entries, i, e) {
			char where[64];
			snprintf(where, sizeof where, "Bundle.entry[%zu]", i);
			json_t *res = json_object_get(e, "resource");
			if (!json_is_object(res)) {
				rc = lb_errf(em, LB_EINVALID, "%s has no resource object", where);
				goto err_free;
			}
			rc = add_resource(&w, &types, res, where);
			if (rc)
				goto err_free;
			out->resources++;
		}
	} else {
		rc = add_resource(&w, &types, root, "resource");
		if (rc)
			goto err_free;
		out->resources = 1;
	}
	summary_finish(out, &w, &types);
	json_decref(root);
	return LB_OK;
err_free:
	if (rc == LB_ENOMEM)
		lb_errf(em, rc, "out of memory");
	sc_release(&types);
	sc_release(&w.codes);
	sc_release(&w.patients);
	json_decref(root);
	return rc;
}

void lb_fhir_summary_release(struct lb_fhir_summary *s)
{
	struct strcount a = {s->types, s->ntypes, s->ntypes, NULL, 0},
			b = {s->codes, s->ncodes, s->ncodes, NULL, 0};
	sc_release(&a);
	sc_release(&b);
	memset(s, 0, sizeof *s);
}

json_t *lb_fhir_summary_json(const struct lb_fhir_summary *s)
{
	json_t *types = json_object(), *codes = json_object();
	for (size_t i = 0; i < s->ntypes; i++)
		json_object_set_new(types, s->types[i].key, json_integer((json_int_t)s->types[i].count));
	for (size_t i = 0; i < s->ncodes; i++)
		json_object_set_new(codes, s->codes[i].key, json_integer((json_int_t)s->codes[i].count));
	return json_pack("{s:s,s:s,s:I,s:o,s:o,s:I,s:s,s:s}", "kind", "fhir", "bundle_type",
			 s->bundle_type, "resources", (json_int_t)s->resources, "resource_types",
			 types, "codes", codes, "patients", (json_int_t)s->patients, "first_date",
			 s->first_date, "last_date", s->last_date);
}
