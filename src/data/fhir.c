/*
 * HL7 FHIR R4 JSON summaries: a Bundle (entry[].resource) or one resource. Counts resources by
 * type, collects every Coding (system|code) anywhere in the resources, the earliest and latest
 * date/dateTime/instant of the clinical date fields, and the distinct patients (Patient
 * resources and "Patient/<id>" references). Checks the structure FHIR requires of what it
 * reads: resourceType on every resource, Bundle entries that are objects with a resource,
 * dates in FHIR's date grammar.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_extract.h"

struct strcount {
	struct lb_fhir_count *v;
	size_t n, cap;
};

static int sc_add(struct strcount *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].key, key)) {
			s->v[i].count++;
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
	return LB_OK;
}

static void sc_release(struct strcount *s)
{
	for (size_t i = 0; i < s->n; i++)
		lb_free(s->v[i].key);
	lb_free(s->v);
	memset(s, 0, sizeof *s);
}

static int cmp_count(const void *a, const void *b)
{
	return strcmp(((const struct lb_fhir_count *)a)->key, ((const struct lb_fhir_count *)b)->key);
}

/* FHIR date, dateTime or instant: YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss(.s+)?(Z|±hh:mm). */
bool data_is_fhir_date(const char *s)
{
	size_t n = strlen(s);
	if (n < 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (n == 4)
		return true;
	if (n < 7 || s[4] != '-' || !isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[6]))
		return false;
	int mo = (s[5] - '0') * 10 + s[6] - '0';
	if (mo < 1 || mo > 12)
		return false;
	if (n == 7)
		return true;
	if (n < 10 || s[7] != '-' || !isdigit((unsigned char)s[8]) || !isdigit((unsigned char)s[9]))
		return false;
	int d = (s[8] - '0') * 10 + s[9] - '0';
	if (d < 1 || d > 31)
		return false;
	if (n == 10)
		return true;
	if (s[10] != 'T' || n < 19 || s[13] != ':' || s[16] != ':')
		return false;
	size_t i = 19;
	if (s[i] == '.') {
		i++;
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if (s[i] == 'Z')
		return s[i + 1] == 0;
	return (s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':';
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
			if (!data_is_fhir_date(s))
				return lb_errf(w->em, LB_EINVALID, "%s: %s \"%.40s\" is not a FHIR date",
					       w->where, k, s);
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

int lb_fhir_summarise(const char *text, size_t len, struct lb_fhir_summary *out,
		      struct lb_errmsg *em)
{
	memset(out, 0, sizeof *out);
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return lb_errf(em, LB_EMALFORMED, "offset %d (line %d, column %d): invalid JSON: %s",
			       je.position, je.line, je.column, je.text);
	struct walk w = {.em = em};
	struct strcount types = {0};
	int rc;
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
	if (types.n > 1)
		qsort(types.v, types.n, sizeof *types.v, cmp_count);
	if (w.codes.n > 1)
		qsort(w.codes.v, w.codes.n, sizeof *w.codes.v, cmp_count);
	out->types = types.v;
	out->ntypes = types.n;
	out->codes = w.codes.v;
	out->ncodes = w.codes.n;
	out->patients = w.patients.n;
	sc_release(&w.patients);
	memcpy(out->first_date, w.first, sizeof w.first);
	memcpy(out->last_date, w.last, sizeof w.last);
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
	struct strcount a = {s->types, s->ntypes, s->ntypes}, b = {s->codes, s->ncodes, s->ncodes};
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
