/*
 * FHIR R4 resource validation (include/leben/fhir.h): what the endpoint refuses before
 * anything is stored, each refusal naming the element by its FHIRPath.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_coding.h"
#include "leben/data_vault.h"
#include "leben/fhir.h"

const char *const lb_fhir_types[] = {
	"Patient",   "Observation",   "Condition", "Procedure",     "Encounter",
	"Consent",   "Provenance",    "AuditEvent", "ServiceRequest", "Task",
	"Claim",     "ClaimResponse", "Coverage",  "ResearchStudy", "ResearchSubject"};
const size_t lb_fhir_ntypes = sizeof lb_fhir_types / sizeof lb_fhir_types[0];

bool lb_fhir_type_known(const char *type)
{
	for (size_t i = 0; type && i < lb_fhir_ntypes; i++)
		if (!strcmp(type, lb_fhir_types[i]))
			return true;
	return false;
}

bool lb_fhir_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '.')
			return false;
	return true;
}

json_t *lb_fhir_outcome(const char *code, const char *text, const char *expr)
{
	json_t *issue = json_pack("{s:s,s:s,s:{s:s}}", "severity", "error", "code", code,
				  "details", "text", text && *text ? text : code);
	if (issue && expr && *expr)
		json_object_set_new(issue, "expression", json_pack("[s]", expr));
	return json_pack("{s:s,s:[o]}", "resourceType", "OperationOutcome", "issue", issue);
}

/* Required codes: element -> allowed values (a '|'-separated list between bars). */
struct required {
	const char *type, *element, *values;
};
static const struct required required[] = {
	{"Patient", "gender", "|male|female|other|unknown|"},
	{"Observation", "status",
	 "|registered|preliminary|final|amended|corrected|cancelled|entered-in-error|unknown|"},
	{"Procedure", "status",
	 "|preparation|in-progress|not-done|on-hold|stopped|completed|entered-in-error|unknown|"},
	{"Encounter", "status",
	 "|planned|arrived|triaged|in-progress|onleave|finished|cancelled|entered-in-error|unknown|"},
	{"Consent", "status", "|draft|proposed|active|rejected|inactive|entered-in-error|"},
	{"ServiceRequest", "status",
	 "|draft|active|on-hold|revoked|completed|entered-in-error|unknown|"},
	{"ServiceRequest", "intent",
	 "|proposal|plan|directive|order|original-order|reflex-order|filler-order|instance-order|"
	 "option|"},
	{"Task", "status",
	 "|draft|requested|received|accepted|rejected|ready|cancelled|in-progress|on-hold|failed|"
	 "completed|entered-in-error|"},
	{"Task", "intent",
	 "|unknown|proposal|plan|order|original-order|reflex-order|filler-order|instance-order|"
	 "option|"},
	{"Claim", "status", "|active|cancelled|draft|entered-in-error|"},
	{"Claim", "use", "|claim|preauthorization|predetermination|"},
	{"ClaimResponse", "status", "|active|cancelled|draft|entered-in-error|"},
	{"ClaimResponse", "outcome", "|queued|complete|error|partial|"},
	{"Coverage", "status", "|active|cancelled|draft|entered-in-error|"},
	{"ResearchStudy", "status",
	 "|active|administratively-completed|approved|closed-to-accrual|"
	 "closed-to-accrual-and-intervention|completed|disapproved|in-review|"
	 "temporarily-closed-to-accrual|temporarily-closed-to-accrual-and-intervention|withdrawn|"},
	{"ResearchSubject", "status",
	 "|candidate|eligible|follow-up|ineligible|not-registered|off-study|on-study|"
	 "on-study-intervention|on-study-observation|pending-on-study|potential-candidate|"
	 "screening|withdrawn|"},
};

/* Elements each type must have (FHIR R4 cardinality 1..1 / 1..*). */
static const struct required mandatory[] = {
	{"Observation", "status", NULL},     {"Observation", "code", NULL},
	{"Procedure", "status", NULL},       {"Procedure", "subject", NULL},
	{"Condition", "subject", NULL},      {"Encounter", "status", NULL},
	{"Encounter", "class", NULL},        {"Consent", "status", NULL},
	{"Consent", "scope", NULL},          {"Consent", "category", NULL},
	{"Provenance", "target", NULL},      {"Provenance", "recorded", NULL},
	{"Provenance", "agent", NULL},       {"AuditEvent", "type", NULL},
	{"AuditEvent", "recorded", NULL},    {"AuditEvent", "agent", NULL},
	{"AuditEvent", "source", NULL},      {"ServiceRequest", "status", NULL},
	{"ServiceRequest", "intent", NULL},  {"ServiceRequest", "subject", NULL},
	{"Task", "status", NULL},            {"Task", "intent", NULL},
	{"Claim", "status", NULL},           {"Claim", "type", NULL},
	{"Claim", "use", NULL},              {"Claim", "patient", NULL},
	{"Claim", "created", NULL},          {"Claim", "provider", NULL},
	{"Claim", "priority", NULL},         {"Claim", "insurance", NULL},
	{"ClaimResponse", "status", NULL},   {"ClaimResponse", "type", NULL},
	{"ClaimResponse", "use", NULL},      {"ClaimResponse", "patient", NULL},
	{"ClaimResponse", "created", NULL},  {"ClaimResponse", "insurer", NULL},
	{"ClaimResponse", "outcome", NULL},  {"Coverage", "status", NULL},
	{"Coverage", "beneficiary", NULL},   {"Coverage", "payor", NULL},
	{"ResearchStudy", "status", NULL},   {"ResearchSubject", "status", NULL},
	{"ResearchSubject", "study", NULL},  {"ResearchSubject", "individual", NULL},
};

/* Elements whose value is an object, by name wherever they appear (a string there is the
 * commonest malformation: "subject": "Patient/1"). */
static bool object_element(const char *k)
{
	static const char *const keys[] = {"subject", "patient", "code", "valueQuantity",
					   "period", "meta", "text", "beneficiary", "individual",
					   "study", "encounter", "class", "valueCodeableConcept",
					   "performedPeriod", "for", "requester", "insurer",
					   "provider"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

struct vctx {
	char *expr;
	size_t cap;
	struct lb_errmsg *em;
};

/* FHIR date elements: by name, and any *DateTime / *Date / *Instant choice element. */
static bool date_element(const char *k, enum data_fhir_time *t)
{
	size_t n = strlen(k);
	*t = data_fhir_time_of(k);
	if (!strcmp(k, "birthDate") || !strcmp(k, "created") || !strcmp(k, "issued") ||
	    !strcmp(k, "recorded") || !strcmp(k, "lastUpdated") || !strcmp(k, "timestamp") ||
	    !strcmp(k, "start") || !strcmp(k, "end") || !strcmp(k, "authoredOn") ||
	    !strcmp(k, "recordedDate") || !strcmp(k, "date") || !strcmp(k, "dateTime") ||
	    !strcmp(k, "lastModified") || !strcmp(k, "period"))
		return strcmp(k, "period") != 0;
	if (n > 8 && !strcmp(k + n - 8, "DateTime"))
		return true;
	if (n > 7 && !strcmp(k + n - 7, "Instant")) {
		*t = DATA_FHIR_INSTANT;
		return true;
	}
	if (n > 4 && !strcmp(k + n - 4, "Date") && strcmp(k, "birthDate")) {
		*t = DATA_FHIR_DATE;
		return true;
	}
	return false;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static const char *set_expr(struct vctx *v, const char *path)
{
	snprintf(v->expr, v->cap, "%s", path);
	return path;
}

/* Refuse with fmt (a literal taking the path and two more strings, NULL for none). */
#define bad(v, code, path, fmt, a, b) \
	lb_errf((v)->em, code, fmt, set_expr(v, path), nz(a), nz(b))

static int check_reference(struct vctx *v, const char *path, const char *r)
{
	if (!strncmp(r, "urn:uuid:", 9) && strlen(r) > 9)
		return LB_OK;
	if (r[0] == '#')
		return LB_OK; /* a contained resource */
	const char *slash = strchr(r, '/');
	char type[40];
	if (!slash || (size_t)(slash - r) >= sizeof type)
		return bad(v, LB_EINVALID, path,
			   "%s: reference \"%.60s\" is not Type/id (for example \"Patient/p1\")%s", r,
			   NULL);
	memcpy(type, r, (size_t)(slash - r));
	type[slash - r] = 0;
	if (!lb_fhir_type_known(type))
		return bad(v, LB_EINVALID, path,
			   "%s: reference \"%.60s\" names a resource type this node does not serve "
			   "(%.40s)", r, type);
	if (!lb_fhir_id_ok(slash + 1))
		return bad(v, LB_EINVALID, path,
			   "%s: reference \"%.60s\" has no valid id after the type (1-64 letters, "
			   "digits, '-' or '.')%s", r, NULL);
	return LB_OK;
}

static int check_coding(struct vctx *v, const char *path, const json_t *o)
{
	const json_t *sys = json_object_get(o, "system"), *code = json_object_get(o, "code");
	if (!json_is_string(code))
		return LB_OK;
	if (sys && !json_is_string(sys))
		return bad(v, LB_EINVALID, path, "%s.system: a Coding's system is a URI string%s%s",
			   NULL, NULL);
	const char *s = json_string_value(sys), *c = json_string_value(code);
	if (!s)
		return LB_OK;
	char p[256];
	snprintf(p, sizeof p, "%s.code", path);
	if (!strcmp(s, "http://loinc.org")) {
		if (!lb_loinc_check(c))
			return bad(v, LB_EINVALID, p,
				   "%s: \"%.40s\" is not a LOINC code (digits, '-', check digit)%s", c,
				   NULL);
		return LB_OK;
	}
	enum lb_code_system cs = lb_code_system_of(s);
	if (cs == LB_CODE_OTHER)
		return LB_OK;
	struct lb_errmsg cem;
	lb_errclear(&cem);
	if (lb_code_check(cs, c, NULL, &cem))
		return bad(v, LB_EINVALID, p, "%s: unknown code: %s%s", cem.text, NULL);
	return LB_OK;
}

static int walk(struct vctx *v, const json_t *x, char *path, size_t plen, int depth)
{
	if (depth > 32)
		return bad(v, LB_ELIMIT, path, "%s: nested deeper than 32 levels%s%s", NULL, NULL);
	if (json_is_array(x)) {
		size_t i;
		const json_t *e;
		json_array_foreach(x, i, e) {
			size_t n = strlen(path);
			snprintf(path + n, plen - n, "[%zu]", i);
			if (json_is_array(e))
				return bad(v, LB_EINVALID, path,
					   "%s: an array inside an array is not FHIR JSON%s%s", NULL,
					   NULL);
			int rc = walk(v, e, path, plen, depth + 1);
			path[n] = 0;
			if (rc)
				return rc;
		}
		return LB_OK;
	}
	if (!json_is_object(x))
		return LB_OK;
	const char *k;
	const json_t *e;
	int rc = check_coding(v, path, x);
	if (rc)
		return rc;
	json_object_foreach((json_t *)x, k, e) {
		size_t n = strlen(path);
		snprintf(path + n, plen - n, ".%s", k);
		if (!*k || json_is_null(e)) {
			rc = bad(v, LB_EINVALID, path,
				 "%s: empty names and null values are not FHIR JSON (leave the element "
				 "out)%s%s", NULL, NULL);
		} else if (!strcmp(k, "reference")) {
			rc = json_is_string(e) ? check_reference(v, path, json_string_value(e))
					       : bad(v, LB_EINVALID, path,
						     "%s: a reference is a string%s%s", NULL, NULL);
		} else if (object_element(k) && depth == 0 && !json_is_object(e)) {
			rc = bad(v, LB_EINVALID, path, "%s: this element is an object, not %s%s",
				 json_is_array(e) ? "an array" : "a value", NULL);
		} else {
			enum data_fhir_time t;
			if (json_is_string(e) && date_element(k, &t)) {
				char why[160];
				if (!data_fhir_date_check(json_string_value(e), t, why, sizeof why))
					rc = bad(v, LB_EINVALID, path, "%s: \"%.40s\" is not a valid date: %s",
						 json_string_value(e), why);
			} else if (json_is_object(e) || json_is_array(e)) {
				rc = walk(v, e, path, plen, depth + 1);
			}
		}
		path[n] = 0;
		if (rc)
			return rc;
	}
	return LB_OK;
}

int lb_fhir_validate(const json_t *res, char *expr, size_t cap, struct lb_errmsg *em)
{
	struct vctx v = {expr, cap, em};
	if (cap)
		expr[0] = 0;
	if (!json_is_object(res))
		return lb_errf(em, LB_EMALFORMED, "a FHIR resource is a JSON object");
	const json_t *rt = json_object_get(res, "resourceType");
	if (!json_is_string(rt))
		return bad(&v, LB_EINVALID, "resourceType",
			   "%s: missing: every FHIR resource names its resourceType%s%s", NULL, NULL);
	const char *type = json_string_value(rt);
	if (!lb_fhir_type_known(type))
		return bad(&v, LB_EUNSUPPORTED, "resourceType",
			   "%s: \"%.40s\" is not served by this node (GET /fhir/metadata lists the "
			   "types)%s", type, NULL);
	char path[512];
	const json_t *id = json_object_get(res, "id");
	if (id && (!json_is_string(id) || !lb_fhir_id_ok(json_string_value(id)))) {
		snprintf(path, sizeof path, "%s.id", type);
		return bad(&v, LB_EINVALID, path,
			   "%s: an id is 1-64 letters, digits, '-' or '.'%s%s", NULL, NULL);
	}
	for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++)
		if (!strcmp(mandatory[i].type, type) && !json_object_get(res, mandatory[i].element)) {
			snprintf(path, sizeof path, "%s.%s", type, mandatory[i].element);
			return bad(&v, LB_EINVALID, path,
				   "%s: required element missing (cardinality 1..1)%s%s", NULL, NULL);
		}
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		if (strcmp(required[i].type, type))
			continue;
		const json_t *e = json_object_get(res, required[i].element);
		if (!e)
			continue;
		snprintf(path, sizeof path, "%s.%s", type, required[i].element);
		char key[80];
		const char *val = json_string_value(e);
		if (!val || strlen(val) > 60)
			return bad(&v, LB_EINVALID, path, "%s: a code is a string%s%s", NULL, NULL);
		snprintf(key, sizeof key, "|%s|", val);
		if (!strstr(required[i].values, key))
			return bad(&v, LB_EINVALID, path,
				   "%s: unknown code \"%s\" (allowed: %s)", val, required[i].values);
	}
	snprintf(path, sizeof path, "%s", type);
	return walk(&v, res, path, sizeof path, 0);
}

const char *lb_fhir_patient_of(const json_t *res, size_t *len)
{
	const char *type = json_string_value(json_object_get(res, "resourceType"));
	if (type && !strcmp(type, "Patient")) {
		const char *id = json_string_value(json_object_get(res, "id"));
		if (id)
			*len = strlen(id);
		return id;
	}
	if (type && !strcmp(type, "AuditEvent")) {
		const json_t *e;
		size_t i;
		json_array_foreach(json_object_get(res, "entity"), i, e) {
			const char *r = json_string_value(
				json_object_get(json_object_get(e, "what"), "reference"));
			if (r && !strncmp(r, "Patient/", 8) && r[8]) {
				*len = strlen(r + 8);
				return r + 8;
			}
		}
		return NULL;
	}
	static const char *const keys[] = {"subject", "patient", "beneficiary", "individual",
					   "for"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *r = json_string_value(
			json_object_get(json_object_get(res, keys[i]), "reference"));
		if (r && !strncmp(r, "Patient/", 8) && r[8]) {
			*len = strlen(r + 8);
			return r + 8;
		}
	}
	return NULL;
}
