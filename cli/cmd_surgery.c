/*
 * `leben surgery`: surgical quality control. Surgery records (FHIR Procedure + outcome
 * Observations) are imported into each hospital's own table; a pre-operative risk model is
 * fitted across hospitals by the federated logistic regression (secure aggregation, no row
 * leaves a hospital); each hospital computes its cases' expected risks with the shared model
 * and releases only aggregates (observed/expected per surgeon, hospital and procedure) under
 * its release policy; the risk-adjusted CUSUM runs at the hospital and its alarms are
 * recorded on the business chain (surgery.alarm); funnel plots and the ranking of operations
 * are drawn from the released aggregates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include <sodium.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/algo.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/sandbox.h"
#include "leben/surgery.h"
#include "sandbox_cli.h"
#include "sectx.h"

#define CMD "surgery"
#define MAX_OWNERS 64

static const char surgery_help[] =
	"usage: leben surgery generate --out DIR [--hospitals N] [--surgeons N] [--cases N]\n"
	"                              [--seed N] [--outlier SURGEON] [--outlier-or X]\n"
	"       leben surgery import FILE.ndjson --out RECORDS.csv [--json]\n"
	"       leben surgery fit --owners H1.csv,H2.csv[,...] [--factors LIST] [--outcome COL]\n"
	"                         [--out MODEL.json] [--plain] [--json]\n"
	"       leben surgery monitor --records RECORDS.csv --model MODEL.json [--policy FILE]\n"
	"                             [--out SUMMARY.json] [--json]\n"
	"       leben surgery cusum --records RECORDS.csv --model MODEL.json --surgeon ID\n"
	"                           [--ra 2] [--h 4.5] [--no-reset] [--record --key NAME\n"
	"                           [--node URL] [--home DIR]] [--json]\n"
	"       leben surgery funnel --summaries S1.json,S2.json[,...] [--by surgeon|hospital]\n"
	"                            --out PLOT.svg [--json]\n"
	"       leben surgery rank --summaries S1.json,S2.json[,...] [--listings FILE.json |\n"
	"                          --node URL] [--json]\n"
	"       leben surgery alarms --hospital ID --surgeon ID [--node URL] [--json]\n"
	"\n"
	"Surgical quality control across hospitals without pooling their records. Each hospital\n"
	"keeps its operations in its own table (one row per operation: case, patient_id, hospital,\n"
	"surgeon, procedure, date, the pre-operative risk factors age, asa, emergency, diabetes,\n"
	"and the outcome died = death within 30 days, 0 or 1).\n"
	"\n"
	"  generate  write synthetic hospitals (DIR/H1.ndjson ... as FHIR Procedure + Observation\n"
	"            resources) with known risk factors, and DIR/truth.json (the true model)\n"
	"  import    read a hospital's FHIR NDJSON (Procedure; Observations of the code system\n"
	"            " "https://leben.example/fhir/CodeSystem/surgery" " pointing at it with partOf)\n"
	"            into its records table\n"
	"  fit       fit the logistic risk model across the hospitals' tables by federated Newton\n"
	"            rounds: only summed gradients and Hessians travel, by secure aggregation\n"
	"            (across nodes, run 'leben study run --algorithm logreg' with the same x and y:\n"
	"            its result is a model file too)\n"
	"  monitor   at one hospital: expected risk of every case under the model, observed/expected\n"
	"            per surgeon, per procedure and for the hospital; surgeons or procedures with\n"
	"            fewer cases than the policy's min_cohort are left out; the summary passes the\n"
	"            release policy before it is written (this summary is what leaves the hospital)\n"
	"  cusum     at one hospital: the risk-adjusted CUSUM (Steiner 2000) of one surgeon's cases\n"
	"            in date order (the \"date\" column, ISO 8601; else row order); an alarm when\n"
	"            the chart reaches --h;\n"
	"            with --record every alarm becomes a surgery.alarm tx on the business chain,\n"
	"            signed by --key (the chart itself stays at the hospital)\n"
	"  funnel    draw the funnel plot (O/E against expected deaths, 95 % and 99.8 % limits)\n"
	"            of the units in released summaries, and name the units outside the limits\n"
	"  rank      rank procedures by their risk-adjusted outcome (O/E over all summaries),\n"
	"            naming the store's contract listings coded with each procedure\n"
	"  alarms    the alarms recorded on the chain for one surgeon\n"
	"\n"
	"  --factors LIST   risk factors [age,asa,emergency,diabetes]\n"
	"  --outcome COL    outcome column [died]\n"
	"  --ra X           odds ratio the CUSUM is to detect [2]\n"
	"  --h X            alarm threshold [4.5]\n"
	"  --no-reset       keep charting after an alarm instead of restarting at 0\n"
	"  --policy FILE    release policy (as for 'leben sandbox run') [min_cohort 10]\n"
	"  --json           machine-readable output\n";

/* ---- options ------------------------------------------------------------------------------- */

struct opt {
	const char *name;
	bool flag;
	const char *val;
	bool set;
};

static int parse(int argc, char **argv, struct opt *o, const char **pos, const char *sub)
{
	int np = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] != '-') {
			if (np || !pos)
				return cli_failf(CMD, "%s: unexpected argument '%s' (see 'leben surgery --help')",
						 sub, argv[i]) + 1;
			*pos = argv[i];
			np++;
			continue;
		}
		struct opt *f = o;
		while (f->name && strcmp(f->name, argv[i] + 2))
			f++;
		if (!f->name)
			return cli_failf(CMD, "%s: unknown option '%s' (see 'leben surgery --help')", sub,
					 argv[i]) + 1;
		f->set = true;
		if (!f->flag) {
			if (i + 1 >= argc)
				return cli_failf(CMD, "%s: %s needs a value", sub, argv[i]) + 1;
			f->val = argv[++i];
		}
	}
	return 0;
}

static const char *ov(const struct opt *o, const char *name)
{
	for (; o->name; o++)
		if (!strcmp(o->name, name))
			return o->set ? (o->val ? o->val : "") : NULL;
	return NULL;
}

static int num_opt(const struct opt *o, const char *name, double dflt, double lo, double hi,
		   double *out)
{
	const char *s = ov(o, name);
	*out = dflt;
	if (!s)
		return 0;
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !(v >= lo && v <= hi))
		return cli_failf(CMD, "--%s %s: give a number from %g to %g", name, s, lo, hi);
	*out = v;
	return 0;
}

static int need(const struct opt *o, const char *name, const char *sub)
{
	if (!ov(o, name) || !*ov(o, name))
		return cli_failf(CMD, "%s: --%s is required (see 'leben surgery --help')", sub, name);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return cli_failf(CMD, "cannot write %s: %s", path, strerror(errno));
	bool ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok ? 0 : cli_failf(CMD, "cannot write %s", path);
}

static json_t *read_json(const char *path)
{
	uint8_t *d;
	size_t len;
	if (sbx_read_text(CMD, path, (size_t)1 << 30, &d, &len))
		return NULL;
	json_error_t je;
	json_t *j = json_loadb((const char *)d, len, 0, &je);
	lb_free(d);
	if (!j)
		cli_failf(CMD, "%s: not JSON (line %d: %s)", path, je.line, je.text);
	return j;
}

static int read_table(const char *path, struct lb_table *t)
{
	uint8_t *d;
	size_t len;
	struct lb_errmsg em;
	lb_errclear(&em);
	lb_table_init(t);
	if (sbx_read_text(CMD, path, SBX_MAX_INPUT, &d, &len))
		return 1;
	int rc = lb_table_parse_csv((const char *)d, len, 0, t, &em);
	lb_free(d);
	if (rc) {
		lb_errwrap(&em, "%s", path);
		return cli_fail(CMD, &em, NULL);
	}
	return 0;
}

/* ---- generate ------------------------------------------------------------------------------ */

static uint64_t rng_state;
static double urand(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double nrand(void)
{
	return sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand());
}

static const struct {
	const char *code, *display;
	double effect; /* true log-odds effect, not in the model */
} procs[] = {
	{"80146002", "Appendectomy", -0.3},
	{"45595009", "Laparoscopic cholecystectomy", -0.6},
	{"52734007", "Total hip replacement", 0.0},
	{"609588000", "Total knee replacement", -0.4},
	{"23968004", "Colectomy", 0.9},
};
#define NPROCS (sizeof procs / sizeof procs[0])
#define SURG_SYS "https://leben.example/fhir/CodeSystem/surgery"
#define SURGEON_SYS "https://leben.example/fhir/surgeon"
#define HOSPITAL_SYS "https://leben.example/fhir/hospital"

/* the true model: logit p = B0 + B_AGE (age - 0) + B_ASA asa + B_EM emergency + B_DM diabetes */
static const double B0 = -7.2, B_AGE = 0.045, B_ASA = 0.75, B_EM = 1.1, B_DM = 0.5;

static json_t *obs(const char *id, const char *proc, const char *patient, const char *date,
		   const char *code, const char *display, json_t *value, const char *vkey)
{
	return json_pack("{s:s,s:s,s:s,s:[{s:[{s:s,s:s}]}],s:{s:[{s:s,s:s,s:s}]},s:{s:s},s:[{s:s}],s:s,s:o}",
			 "resourceType", "Observation", "id", id, "status", "final", "category",
			 "coding", "system", "http://terminology.hl7.org/CodeSystem/observation-category", "code", "procedure", "code", "coding", "system", SURG_SYS, "code", code,
			 "display", display, "subject", "reference", patient, "partOf", "reference", proc,
			 "effectiveDateTime", date, vkey, value);
}

static int surgery_generate(int argc, char **argv)
{
	struct opt o[] = {{.name = "out"}, {.name = "hospitals"}, {.name = "surgeons"}, {.name = "cases"}, {.name = "seed"}, {.name = "outlier"}, {.name = "outlier-or"}, {.name = "json", .flag = true}, {.name = NULL}};
	double nh, ns, nc, seed, oor;
	if (parse(argc, argv, o, NULL, "generate") || need(o, "out", "generate") ||
	    num_opt(o, "hospitals", 3, 1, 50, &nh) || num_opt(o, "surgeons", 4, 1, 100, &ns) ||
	    num_opt(o, "cases", 600, 10, 1e6, &nc) || num_opt(o, "seed", 1, 0, 1e15, &seed) ||
	    num_opt(o, "outlier-or", 3, 1, 100, &oor))
		return 1;
	const char *dir = ov(o, "out"), *outlier = ov(o, "outlier");
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_mkdirs(dir, 0755, &em) != LB_OK)
		return cli_fail(CMD, &em, NULL);
	rng_state = (uint64_t)seed * 0x2545f4914f6cdd1dULL + 17;
	json_t *summary = json_array();
	for (int h = 1; h <= (int)nh; h++) {
		char path[4096], hid[16];
		snprintf(hid, sizeof hid, "H%d", h);
		snprintf(path, sizeof path, "%s/%s.ndjson", dir, hid);
		FILE *f = fopen(path, "w");
		if (!f) {
			json_decref(summary);
			return cli_failf(CMD, "generate: cannot write %s", path);
		}
		size_t deaths = 0;
		for (int c = 0; c < (int)nc; c++) {
			char sid[32], pid[48], prid[48], oid[64], date[32], patient[64], proc[64];
			int s = 1 + (int)(urand() * ns);
			snprintf(sid, sizeof sid, "%s-S%d", hid, s);
			snprintf(pid, sizeof pid, "%s-P%05d", hid, c + 1);
			snprintf(prid, sizeof prid, "%s-C%05d", hid, c + 1);
			int day = (int)((long long)c * 336 / (long long)nc); /* 12 months of 28 days */
			int sec = c % 43200; /* distinct times within a day */
			snprintf(date, sizeof date, "2025-%02d-%02dT%02d:%02d:%02dZ", 1 + day / 28, 1 + day % 28,
				 7 + sec / 3600, sec / 60 % 60, sec % 60);
			double age = fmin(95, fmax(18, round(64 + 13 * nrand())));
			double u = urand();
			int asa = u < 0.15 ? 1 : u < 0.55 ? 2 : u < 0.90 ? 3 : 4;
			int emerg = urand() < 0.15, dm = urand() < 0.2;
			size_t pr = (size_t)(urand() * NPROCS);
			double eta = B0 + B_AGE * age + B_ASA * asa + B_EM * emerg + B_DM * dm + procs[pr].effect;
			if (outlier && !strcmp(outlier, sid))
				eta += log(oor);
			int died = urand() < 1 / (1 + exp(-eta));
			deaths += (size_t)died;
			snprintf(patient, sizeof patient, "Patient/%s", pid);
			snprintf(proc, sizeof proc, "Procedure/%s", prid);
			json_t *res[6];
			res[0] = json_pack("{s:s,s:s,s:s,s:{s:[{s:s,s:s,s:s}]},s:{s:s},s:s,s:[{s:{s:{s:s,s:s}},s:{s:{s:s,s:s}}}]}",
					   "resourceType", "Procedure", "id", prid, "status", "completed", "code",
					   "coding", "system", "http://snomed.info/sct", "code", procs[pr].code,
					   "display", procs[pr].display, "subject", "reference", patient,
					   "performedDateTime", date, "performer", "actor", "identifier", "system",
					   SURGEON_SYS, "value", sid, "onBehalfOf", "identifier", "system", HOSPITAL_SYS,
					   "value", hid);
			snprintf(oid, sizeof oid, "%s-age", prid);
			res[1] = obs(oid, proc, patient, date, "age", "Age at operation",
				     json_pack("{s:f,s:s,s:s,s:s}", "value", age, "unit", "a", "system",
					       "http://unitsofmeasure.org", "code", "a"), "valueQuantity");
			snprintf(oid, sizeof oid, "%s-asa", prid);
			res[2] = obs(oid, proc, patient, date, "asa", "ASA physical status class", json_integer(asa),
				     "valueInteger");
			snprintf(oid, sizeof oid, "%s-emergency", prid);
			res[3] = obs(oid, proc, patient, date, "emergency", "Emergency operation", json_boolean(emerg),
				     "valueBoolean");
			snprintf(oid, sizeof oid, "%s-diabetes", prid);
			res[4] = obs(oid, proc, patient, date, "diabetes", "Diabetes mellitus", json_boolean(dm),
				     "valueBoolean");
			snprintf(oid, sizeof oid, "%s-died", prid);
			res[5] = obs(oid, proc, patient, date, "died-30d", "Death within 30 days of the operation",
				     json_boolean(died), "valueBoolean");
			for (int r = 0; r < 6; r++) {
				char *line = json_dumps(res[r], JSON_COMPACT);
				if (line)
					fprintf(f, "%s\n", line);
				free(line);
				json_decref(res[r]);
			}
		}
		if (fclose(f)) {
			json_decref(summary);
			return cli_failf(CMD, "generate: cannot write %s/%s.ndjson", dir, hid);
		}
		json_array_append_new(summary, json_pack("{s:s,s:I,s:I}", "hospital", hid, "cases", (json_int_t)nc,
							 "deaths", (json_int_t)deaths));
	}
	json_t *truth = json_pack("{s:{s:f,s:f,s:f,s:f,s:f},s:o,s:s?,s:f}", "coefficients", "(intercept)", B0, "age",
				  B_AGE, "asa", B_ASA, "emergency", B_EM, "diabetes", B_DM, "procedure_effects",
				  json_object(), "outlier", outlier, "outlier_or", oor);
	for (size_t p = 0; p < NPROCS; p++)
		json_object_set_new(json_object_get(truth, "procedure_effects"), procs[p].code, json_real(procs[p].effect));
	char tp[4096];
	snprintf(tp, sizeof tp, "%s/truth.json", dir);
	char *t = json_dumps(truth, JSON_INDENT(2) | JSON_SORT_KEYS);
	int st = t ? write_file(tp, t) : 1;
	free(t);
	json_decref(truth);
	if (!st) {
		json_t *out = json_pack("{s:s,s:o}", "dir", dir, "hospitals", summary);
		cli_print_json(out);
		json_decref(out);
	} else
		json_decref(summary);
	return st;
}

/* ---- import ------------------------------------------------------------------------------- */

struct caserow {
	char id[64], patient[64], hospital[64], surgeon[64], procedure[32], date[32];
	double f[5]; /* age, asa, emergency, diabetes, died: NAN until seen */
};

static const char *const fcodes[] = {"age", "asa", "emergency", "diabetes", "died-30d"};

static int row_cmp(const void *a, const void *b)
{
	return strcmp((*(struct caserow *const *)a)->id, (*(struct caserow *const *)b)->id);
}

static const char *ref_id(const json_t *r, const char *type)
{
	const json_t *idf = json_object_get(r, "identifier");
	if (idf && !json_object_get(r, "reference")) {
		const char *v = json_string_value(json_object_get(idf, "value"));
		return v && *v ? v : NULL;
	}
	const char *s = json_string_value(json_object_get(r, "reference"));
	size_t n = strlen(type);
	if (!s || strncmp(s, type, n) || s[n] != '/' || !s[n + 1])
		return NULL;
	return s + n + 1;
}

static bool csv_safe(const char *s)
{
	for (; *s; s++)
		if (*s == ',' || *s == '"' || *s == '\n' || *s == '\r')
			return false;
	return true;
}

static int surgery_import(int argc, char **argv)
{
	struct opt o[] = {{.name = "out"}, {.name = "json", .flag = true}, {.name = NULL}};
	const char *in = NULL;
	if (parse(argc, argv, o, &in, "import") || need(o, "out", "import"))
		return 1;
	if (!in)
		return cli_failf(CMD, "import: name the NDJSON file to read");
	FILE *f = fopen(in, "r");
	if (!f)
		return cli_failf(CMD, "import: cannot read %s: %s", in, strerror(errno));
	size_t n = 0, cap = 1024, lineno = 0, skipped = 0;
	struct caserow *rows = lb_calloc(cap, sizeof *rows);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t got;
	int st = 1;
	if (!rows)
		goto out;
	/* Procedures first come with their id; Observations find theirs by id (a linear map
	 * would be quadratic: an index by id is kept sorted at the end instead) */
	json_t *obsq = json_array();
	while ((got = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		if (got <= 1)
			continue;
		json_error_t je;
		json_t *r = json_loadb(line, (size_t)got, JSON_REJECT_DUPLICATES, &je);
		const char *rt = json_string_value(json_object_get(r, "resourceType"));
		if (!r || !rt) {
			json_decref(r);
			json_decref(obsq);
			cli_failf(CMD, "import: %s line %zu: not a FHIR resource (%s)", in, lineno,
				  r ? "no resourceType" : je.text);
			goto out;
		}
		if (!strcmp(rt, "Procedure")) {
			const char *id = json_string_value(json_object_get(r, "id"));
			json_t *perf = json_array_get(json_object_get(r, "performer"), 0);
			const char *surg = ref_id(json_object_get(perf, "actor"), "Practitioner");
			const char *hosp = ref_id(json_object_get(perf, "onBehalfOf"), "Organization");
			json_t *cod = json_array_get(json_object_get(json_object_get(r, "code"), "coding"), 0);
			const char *code = json_string_value(json_object_get(cod, "code"));
			const char *date = json_string_value(json_object_get(r, "performedDateTime"));
			const char *pat = ref_id(json_object_get(r, "subject"), "Patient");
			const char *bad = !id ? "id" : !pat ? "subject (Patient/...)" : !surg ? "performer[0].actor (Practitioner/... or an identifier)" :
					  !hosp ? "performer[0].onBehalfOf (Organization/... or an identifier)" :
					  !code ? "code.coding[0].code" : !date ? "performedDateTime" : NULL;
			if (!bad && (strlen(id) >= 64 || strlen(surg) >= 64 || strlen(hosp) >= 64 ||
				     strlen(code) >= 32 || strlen(date) >= 32 || strlen(pat) >= 64 || !csv_safe(pat) || !csv_safe(id) || !csv_safe(surg) ||
				     !csv_safe(hosp) || !csv_safe(code) || !csv_safe(date)))
				bad = "id/performer/code/date (too long, or a comma or quote in it)";
			if (bad) {
				json_decref(r);
				json_decref(obsq);
				cli_failf(CMD, "import: %s line %zu: Procedure.%s is missing or invalid", in,
					  lineno, bad);
				goto out;
			}
			if (n == cap) {
				struct caserow *nr = lb_realloc(rows, 2 * cap * sizeof *rows);
				if (!nr) {
					json_decref(r);
					json_decref(obsq);
					goto out;
				}
				rows = nr;
				cap *= 2;
			}
			struct caserow *c = &rows[n++];
			memset(c, 0, sizeof *c);
			snprintf(c->id, sizeof c->id, "%s", id);
			snprintf(c->patient, sizeof c->patient, "%s", pat);
			snprintf(c->surgeon, sizeof c->surgeon, "%s", surg);
			snprintf(c->hospital, sizeof c->hospital, "%s", hosp);
			snprintf(c->procedure, sizeof c->procedure, "%s", code);
			snprintf(c->date, sizeof c->date, "%s", date);
			for (int k = 0; k < 5; k++)
				c->f[k] = NAN;
		} else if (!strcmp(rt, "Observation")) {
			json_t *cod = json_array_get(json_object_get(json_object_get(r, "code"), "coding"), 0);
			const char *sys = json_string_value(json_object_get(cod, "system"));
			if (sys && !strcmp(sys, SURG_SYS)) {
				json_object_set_new(r, "_line", json_integer((json_int_t)lineno));
				json_array_append(obsq, r);
			} else
				skipped++;
		} else
			skipped++;
		json_decref(r);
	}
	/* sort cases by id for lookups */
	struct caserow **idx = lb_calloc(n ? n : 1, sizeof *idx);
	if (!idx) {
		json_decref(obsq);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = &rows[i];
	int (*cmp)(const void *, const void *) = row_cmp;
	qsort(idx, n, sizeof *idx, cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(idx[i - 1]->id, idx[i]->id)) {
			cli_failf(CMD, "import: %s: Procedure %s appears twice", in, idx[i]->id);
			lb_free(idx);
			json_decref(obsq);
			goto out;
		}
	size_t i;
	json_t *r;
	json_array_foreach(obsq, i, r) {
		long ln = (long)json_integer_value(json_object_get(r, "_line"));
		json_t *po = json_object_get(r, "partOf");
		const char *pid = ref_id(json_is_array(po) ? json_array_get(po, 0) : po, "Procedure");
		const char *code = json_string_value(json_object_get(json_array_get(
			json_object_get(json_object_get(r, "code"), "coding"), 0), "code"));
		struct caserow key, *kp = &key, **hit = NULL;
		if (pid && strlen(pid) < sizeof key.id) {
			snprintf(key.id, sizeof key.id, "%s", pid);
			hit = bsearch(&kp, idx, n, sizeof *idx, cmp);
		}
		if (!hit) {
			cli_failf(CMD, "import: %s line %ld: Observation.partOf must name a Procedure of this file",
				  in, ln);
			lb_free(idx);
			json_decref(obsq);
			goto out;
		}
		int k = 0;
		while (k < 5 && (!code || strcmp(fcodes[k], code)))
			k++;
		if (k == 5) {
			cli_failf(CMD, "import: %s line %ld: Observation.code.coding[0].code '%s' is not one of "
				  "age, asa, emergency, diabetes, died-30d", in, ln, code ? code : "");
			lb_free(idx);
			json_decref(obsq);
			goto out;
		}
		json_t *vq = json_object_get(json_object_get(r, "valueQuantity"), "value");
		json_t *vi = json_object_get(r, "valueInteger"), *vb = json_object_get(r, "valueBoolean");
		double v = NAN;
		if (k == 0 && json_is_number(vq))
			v = json_number_value(vq);
		else if (k == 1 && json_is_integer(vi))
			v = (double)json_integer_value(vi);
		else if (k >= 2 && json_is_boolean(vb))
			v = json_is_true(vb);
		static const char *const want[] = {"valueQuantity.value", "valueInteger", "valueBoolean",
						   "valueBoolean", "valueBoolean"};
		if (isnan(v) || (k == 0 && !(v >= 0 && v <= 130)) || (k == 1 && !(v >= 1 && v <= 6))) {
			cli_failf(CMD, "import: %s line %ld: Observation %s needs %s%s", in, ln, fcodes[k],
				  want[k], k == 0 ? " from 0 to 130" : k == 1 ? " from 1 to 6" : "");
			lb_free(idx);
			json_decref(obsq);
			goto out;
		}
		(*hit)->f[k] = v;
	}
	lb_free(idx);
	json_decref(obsq);
	struct lb_buf b;
	lb_buf_init(&b, (size_t)1 << 34);
	lb_buf_adds(&b, "case,patient_id,hospital,surgeon,procedure,date,age,asa,emergency,diabetes,died\n");
	size_t missing = 0;
	for (size_t c = 0; c < n; c++) {
		if (isnan(rows[c].f[4])) {
			missing++;
			continue;
		}
		lb_buf_addf(&b, "%s,%s,%s,%s,%s,%s", rows[c].id, rows[c].patient, rows[c].hospital, rows[c].surgeon,
			    rows[c].procedure, rows[c].date);
		for (int k = 0; k < 5; k++)
			if (isnan(rows[c].f[k]))
				lb_buf_adds(&b, ",");
			else
				lb_buf_addf(&b, ",%.10g", rows[c].f[k]);
		lb_buf_adds(&b, "\n");
	}
	st = write_file(ov(o, "out"), b.data ? (const char *)b.data : "");
	lb_buf_release(&b);
	if (!st) {
		json_t *j = json_pack("{s:s,s:I,s:I,s:I}", "records", ov(o, "out"), "cases",
				      (json_int_t)(n - missing), "without_outcome", (json_int_t)missing,
				      "other_resources", (json_int_t)skipped);
		if (ov(o, "json"))
			cli_print_json(j);
		else
			printf("%zu operations written to %s (%zu without an outcome left out, %zu other "
			       "resources skipped)\n", n - missing, ov(o, "out"), missing, skipped);
		json_decref(j);
	}
out:
	free(line);
	lb_free(rows);
	fclose(f);
	return st;
}


/* ---- fit ---------------------------------------------------------------------------------- */

static void model_hash(const json_t *model, char hex[2 * LB_HASH_LEN + 1])
{
	const json_t *co = json_object_get(model, "coefficients");
	if (!co)
		co = json_object_get(json_object_get(model, "result"), "coefficients");
	char *s = json_dumps(co, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	uint8_t h[LB_HASH_LEN];
	lb_hash_domain(h, "LEBEN-surgery-model", s ? s : "", s ? strlen(s) : 0);
	free(s);
	lb_hex_encode(hex, h, LB_HASH_LEN);
}

static int surgery_fit(int argc, char **argv)
{
	struct opt o[] = {{.name = "owners"}, {.name = "factors"}, {.name = "outcome"}, {.name = "out"}, {.name = "plain", .flag = true}, {.name = "json", .flag = true}, {.name = NULL}};
	if (parse(argc, argv, o, NULL, "fit") || need(o, "owners", "fit"))
		return 1;
	const char *factors = ov(o, "factors") ? ov(o, "factors") : "age,asa,emergency,diabetes";
	const char *outcome = ov(o, "outcome") ? ov(o, "outcome") : "died";
	char *list = lb_strdup(ov(o, "owners"));
	struct lb_table tabs[MAX_OWNERS];
	struct lb_fed_owner ow[MAX_OWNERS];
	size_t n = 0;
	int st = 1;
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_OWNERS) {
			cli_failf(CMD, "fit: at most %d hospitals", MAX_OWNERS);
			goto out;
		}
		if (read_table(tok, &tabs[n]))
			goto out;
		ow[n].name = tok;
		ow[n].table = &tabs[n];
		n++;
	}
	if (n < 2) {
		cli_failf(CMD, "fit: give at least two hospitals' records (--owners H1.csv,H2.csv): the fit "
			  "is federated");
		goto out;
	}
	json_t *x = json_array();
	char *fl = lb_strdup(factors);
	for (char *save = NULL, *tok = strtok_r(fl, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(x, json_string(tok));
	lb_free(fl);
	json_t *params = json_pack("{s:s,s:o,s:f,s:I}", "y", outcome, "x", x, "C", 1e12, "max_iter", (json_int_t)50);
	struct lb_fed_options fo = {.secure = !ov(o, "plain")};
	struct lb_algo_ctx ctx = {.min_cohort = 10};
	struct lb_fed_stats fst = {0};
	struct lb_errmsg em;
	lb_errclear(&em);
	json_t *res = NULL;
	int rc = lb_fed_run("logreg", ow, n, params, &ctx, &fo, &res, &fst, &em);
	json_decref(params);
	if (rc) {
		cli_fail(CMD, &em, "the hospitals' tables need the same numeric risk-factor columns and a 0/1 outcome");
		goto out;
	}
	char hex[2 * LB_HASH_LEN + 1];
	model_hash(res, hex);
	json_object_set_new(res, "model", json_string(hex));
	json_object_set_new(res, "owners", json_integer((json_int_t)n));
	json_object_set_new(res, "rounds", json_integer(fst.rounds));
	json_object_set_new(res, "secure_aggregation", json_boolean(!ov(o, "plain")));
	char *text = json_dumps(res, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	st = ov(o, "out") ? write_file(ov(o, "out"), text ? text : "") : 0;
	if (!st) {
		if (ov(o, "json") || !ov(o, "out"))
			cli_print_json(res);
		else {
			printf("risk model %s fitted over %zu hospitals (%lld operations, %u rounds of secure "
			       "aggregation), written to %s\n", hex, n,
			       (long long)json_integer_value(json_object_get(res, "n")), fst.rounds, ov(o, "out"));
			const char *k;
			json_t *v;
			json_object_foreach(json_object_get(res, "coefficients"), k, v)
				printf("  %-12s %10.5f\n", k, json_number_value(v));
		}
	}
	free(text);
	json_decref(res);
out:
	for (size_t i = 0; i < n; i++)
		lb_table_release(&tabs[i]);
	lb_free(list);
	return st;
}

/* ---- monitor and cusum -------------------------------------------------------------------- */

struct scored {
	struct lb_table t;
	struct lb_surgery_model m;
	char hash[2 * LB_HASH_LEN + 1];
	double *p, *y;
};

static int score(const char *sub, const struct opt *o, struct scored *s)
{
	memset(s, 0, sizeof *s);
	lb_table_init(&s->t);
	if (need(o, "records", sub) || need(o, "model", sub))
		return 1;
	json_t *mj = read_json(ov(o, "model"));
	if (!mj)
		return 1;
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_surgery_model_read(mj, &s->m, &em);
	model_hash(mj, s->hash);
	json_decref(mj);
	if (rc) {
		lb_errwrap(&em, "%s", ov(o, "model"));
		return cli_fail(CMD, &em, NULL);
	}
	if (read_table(ov(o, "records"), &s->t))
		return 1;
	if ((rc = lb_surgery_expected(&s->t, &s->m, "died", &s->p, &s->y, &em))) {
		lb_errwrap(&em, "%s", ov(o, "records"));
		return cli_fail(CMD, &em, NULL);
	}
	return 0;
}

static void scored_release(struct scored *s)
{
	lb_table_release(&s->t);
	lb_free(s->p);
	lb_free(s->y);
}

static const char *single_level(const struct lb_table *t, const char *col)
{
	long c = lb_table_find(t, col);
	if (c < 0 || t->cols[c].kind != LB_COL_CATEGORICAL || t->cols[c].nlevels != 1)
		return NULL;
	return t->cols[c].levels[0];
}

static int surgery_monitor(int argc, char **argv)
{
	struct opt o[] = {{.name = "records"}, {.name = "model"}, {.name = "policy"}, {.name = "out"}, {.name = "json", .flag = true}, {.name = NULL}};
	struct scored s;
	struct lb_policy pol;
	if (parse(argc, argv, o, NULL, "monitor") || sbx_load_policy(CMD, ov(o, "policy"), &pol))
		return 1;
	if (score("monitor", o, &s)) {
		scored_release(&s);
		return 1;
	}
	int st = 1;
	const char *hosp = single_level(&s.t, "hospital");
	struct lb_errmsg em;
	lb_errclear(&em);
	json_t *bs = NULL, *bp = NULL, *res = NULL;
	if (!hosp) {
		cli_failf(CMD, "monitor: %s: the \"hospital\" column must name one hospital (a summary is one "
			  "hospital's)", ov(o, "records"));
		goto out;
	}
	if (lb_surgery_oe(&s.t, s.p, s.y, "surgeon", pol.min_cohort, &bs, &em) ||
	    lb_surgery_oe(&s.t, s.p, s.y, "procedure", pol.min_cohort, &bp, &em)) {
		lb_errwrap(&em, "%s", ov(o, "records"));
		cli_fail(CMD, &em, NULL);
		goto out;
	}
	res = json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:O,s:{s:o,s:o}}", "kind", "surgery.summary", "hospital",
			hosp, "model", s.hash, "n", json_object_get(bs, "n"), "observed", json_object_get(bs, "observed"),
			"expected", json_object_get(bs, "expected"), "oe", json_object_get(bs, "oe"), "by",
			"surgeon", json_incref(json_object_get(bs, "groups")), "procedure",
			json_incref(json_object_get(bp, "groups")));
	json_object_set_new(res, "suppressed", json_pack("{s:O,s:O}", "surgeon", json_object_get(bs, "suppressed_groups"),
							 "procedure", json_object_get(bp, "suppressed_groups")));
	struct lb_release rel;
	memset(&rel, 0, sizeof rel);
	if (lb_policy_apply(&pol, res, NULL, "surgery", hosp, &rel, &em)) {
		cli_fail(CMD, &em, "the summary was withheld by the release policy");
		lb_release_release(&rel);
		goto out;
	}
	json_t *released = json_loadb(rel.text, rel.len, 0, NULL);
	lb_release_release(&rel);
	char *text = json_dumps(released, JSON_INDENT(2) | JSON_SORT_KEYS);
	st = ov(o, "out") ? write_file(ov(o, "out"), text ? text : "") : 0;
	free(text);
	if (!st) {
		if (ov(o, "json") || !ov(o, "out"))
			cli_print_json(released);
		else {
			printf("%s: %lld operations, observed %lld, expected %.2f, O/E %.3f; summary written to %s\n",
			       hosp, (long long)json_integer_value(json_object_get(released, "n")),
			       (long long)json_integer_value(json_object_get(released, "observed")),
			       json_number_value(json_object_get(released, "expected")),
			       json_number_value(json_object_get(released, "oe")), ov(o, "out"));
			size_t i;
			json_t *g;
			json_array_foreach(json_object_get(json_object_get(released, "by"), "surgeon"), i, g)
				printf("  %-14s n %5lld  O %4lld  E %7.2f  O/E %.3f\n",
				       json_string_value(json_object_get(g, "name")),
				       (long long)json_integer_value(json_object_get(g, "n")),
				       (long long)json_integer_value(json_object_get(g, "observed")),
				       json_number_value(json_object_get(g, "expected")),
				       json_number_value(json_object_get(g, "oe")));
		}
	}
	json_decref(released);
out:
	json_decref(bs);
	json_decref(bp);
	json_decref(res);
	scored_release(&s);
	return st;
}

static int record_alarm(const char *url, const struct lb_keypair *kp, json_t *alarm, char txid[2 * LB_HASH_LEN + 1])
{
	uint8_t *pl;
	size_t len;
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_surgery_alarm_payload(alarm, &pl, &len, &em))
		return cli_fail(CMD, &em, NULL);
	struct sectx t;
	int st = sectx_build("surgery cusum", url, kp, LB_TX_SURGERY_ALARM, pl, len, &t);
	lb_free(pl);
	if (st)
		return st;
	st = sectx_send("surgery cusum", url, &t, 60, NULL);
	memcpy(txid, t.id, sizeof t.id);
	sectx_release(&t);
	return st;
}

static int surgery_cusum(int argc, char **argv)
{
	struct opt o[] = {{.name = "records"}, {.name = "model"}, {.name = "surgeon"}, {.name = "ra"}, {.name = "h"}, {.name = "no-reset", .flag = true}, {.name = "record", .flag = true},
			  {.name = "key"}, {.name = "node"}, {.name = "home"}, {.name = "json", .flag = true}, {.name = NULL}};
	double ra, h;
	if (parse(argc, argv, o, NULL, "cusum") || need(o, "surgeon", "cusum") ||
	    num_opt(o, "ra", 2, 1e-6, 1e6, &ra) || num_opt(o, "h", 4.5, 1e-9, 1e9, &h))
		return 1;
	if (ov(o, "record") && need(o, "key", "cusum"))
		return 1;
	struct scored s;
	if (score("cusum", o, &s)) {
		scored_release(&s);
		return 1;
	}
	int st = 1;
	struct lb_errmsg em;
	lb_errclear(&em);
	const char *surgeon = ov(o, "surgeon"), *hosp = single_level(&s.t, "hospital");
	long sc = lb_table_find(&s.t, "surgeon");
	double *pp = NULL, *yy = NULL, *path = NULL;
	size_t *al = NULL, n = 0, na = 0;
	json_t *out = NULL;
	if (!hosp || sc < 0 || s.t.cols[sc].kind != LB_COL_CATEGORICAL) {
		cli_failf(CMD, "cusum: %s: needs a \"surgeon\" column and a \"hospital\" column naming one hospital",
			  ov(o, "records"));
		goto out;
	}
	pp = lb_calloc(s.t.nrows, sizeof *pp);
	yy = lb_calloc(s.t.nrows, sizeof *yy);
	path = lb_calloc(s.t.nrows, sizeof *path);
	al = lb_calloc(s.t.nrows, sizeof *al);
	if (!pp || !yy || !path || !al)
		goto out;
	/* the surgeon's cases in date order (ISO 8601 texts sort as dates; ties keep row order) */
	size_t *ord = lb_calloc(s.t.nrows, sizeof *ord);
	if (!ord)
		goto out;
	for (size_t r = 0; r < s.t.nrows; r++)
		if (!strcmp(s.t.cols[sc].levels[(size_t)s.t.cols[sc].v[r]], surgeon))
			ord[n++] = r;
	long dc = lb_table_find(&s.t, "date");
	if (dc >= 0 && s.t.cols[dc].kind == LB_COL_CATEGORICAL) {
		const struct lb_table_col *d = &s.t.cols[dc];
		for (size_t i = 1; i < n; i++) /* insertion sort: stable, tables come nearly sorted */
			for (size_t j = i; j > 0; j--) {
				double a = d->v[ord[j - 1]], b = d->v[ord[j]];
				if (isnan(a) || isnan(b) || strcmp(d->levels[(size_t)a], d->levels[(size_t)b]) <= 0)
					break;
				size_t tmp = ord[j];
				ord[j] = ord[j - 1];
				ord[j - 1] = tmp;
			}
	}
	for (size_t i = 0; i < n; i++) {
		pp[i] = s.p[ord[i]];
		yy[i] = s.y[ord[i]];
	}
	lb_free(ord);
	if (!n) {
		cli_failf(CMD, "cusum: surgeon '%s' has no operations in %s", surgeon, ov(o, "records"));
		goto out;
	}
	if (lb_surgery_cusum(pp, yy, n, ra, h, !ov(o, "no-reset"), path, al, &na, &em)) {
		cli_fail(CMD, &em, NULL);
		goto out;
	}
	json_t *alarms = json_array(), *pj = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(pj, json_real(path[i]));
	for (size_t i = 0; i < na; i++)
		json_array_append_new(alarms, json_pack("{s:s,s:s,s:s,s:I,s:I,s:f,s:f,s:f,s:s}", "hospital", hosp, "surgeon",
							surgeon, "procedure", "", "cases", (json_int_t)n, "case",
							(json_int_t)(al[i] + 1), "value", path[al[i]], "h", h, "ra", ra,
							"model", s.hash));
	double o_sum = 0, e_sum = 0;
	for (size_t i = 0; i < n; i++) {
		o_sum += yy[i];
		e_sum += pp[i];
	}
	out = json_pack("{s:s,s:s,s:s,s:I,s:f,s:f,s:f,s:f,s:b,s:o,s:o}", "hospital", hosp, "surgeon", surgeon,
			"model", s.hash, "cases", (json_int_t)n, "observed", o_sum, "expected", e_sum, "ra", ra, "h", h,
			"reset", !ov(o, "no-reset"), "path", pj, "alarms", alarms);
	if (ov(o, "record") && na) {
		struct lb_keypair kp;
		const char *home = cli_home(ov(o, "home"));
		const char *url = cli_node_url(ov(o, "node"), home);
		if (cli_load_key(home, ov(o, "key"), &kp))
			goto out;
		json_t *a;
		size_t i;
		json_array_foreach(alarms, i, a) {
			char txid[2 * LB_HASH_LEN + 1];
			if (record_alarm(url, &kp, a, txid)) {
				sodium_memzero(&kp, sizeof kp);
				goto out;
			}
			json_object_set_new(a, "tx", json_string(txid));
		}
		sodium_memzero(&kp, sizeof kp);
	}
	if (ov(o, "json"))
		cli_print_json(out);
	else {
		printf("%s at %s: %zu operations, observed %.0f, expected %.2f; CUSUM (RA %g, h %g) max %.3f, "
		       "%zu alarm%s\n", surgeon, hosp, n, o_sum, e_sum, ra, h, n ? path[n - 1] : 0, na,
		       na == 1 ? "" : "s");
		json_t *a;
		size_t i;
		json_array_foreach(alarms, i, a)
			printf("  alarm at operation %lld (S = %.3f)%s%s\n",
			       (long long)json_integer_value(json_object_get(a, "case")),
			       json_number_value(json_object_get(a, "value")), json_object_get(a, "tx") ? ", recorded in tx " : "",
			       json_object_get(a, "tx") ? json_string_value(json_object_get(a, "tx")) : "");
	}
	st = 0;
out:
	json_decref(out);
	lb_free(pp);
	lb_free(yy);
	lb_free(path);
	lb_free(al);
	scored_release(&s);
	return st;
}

/* ---- funnel and rank over released summaries ---------------------------------------------- */

static json_t *load_summaries(const char *sub, const char *list)
{
	json_t *all = json_array();
	char *l = lb_strdup(list);
	for (char *save = NULL, *tok = strtok_r(l, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		json_t *s = read_json(tok);
		if (!s) {
			json_decref(all);
			lb_free(l);
			return NULL;
		}
		json_array_append_new(all, s);
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_surgery_summaries_check(all, &em)) {
		/* the message counts the summaries from 1, in the order of --summaries */
		cli_failf(CMD, "%s: %s (--summaries %s)", sub, em.text, list);
		json_decref(all);
		lb_free(l);
		return NULL;
	}
	lb_free(l);
	return all;
}

static int surgery_funnel(int argc, char **argv)
{
	struct opt o[] = {{.name = "summaries"}, {.name = "by"}, {.name = "out"}, {.name = "title"},
			  {.name = "json", .flag = true}, {.name = NULL}};
	if (parse(argc, argv, o, NULL, "funnel") || need(o, "summaries", "funnel") || need(o, "out", "funnel"))
		return 1;
	const char *by = ov(o, "by") ? ov(o, "by") : "surgeon";
	if (strcmp(by, "surgeon") && strcmp(by, "hospital"))
		return cli_failf(CMD, "funnel: --by %s: use surgeon or hospital", by);
	json_t *all = load_summaries("funnel", ov(o, "summaries"));
	if (!all)
		return 1;
	json_t *pts = NULL;
	char *svg = NULL;
	struct lb_errmsg em;
	lb_errclear(&em);
	char title[160];
	snprintf(title, sizeof title, "%s", ov(o, "title") ? ov(o, "title") :
		 !strcmp(by, "surgeon") ? "30-day mortality: surgeons" : "30-day mortality: hospitals");
	int st = 1;
	if (lb_surgery_funnel(all, by, &pts, &em))
		cli_fail(CMD, &em, NULL);
	else if (lb_surgery_funnel_svg(pts, title, &svg, &em))
		cli_fail(CMD, &em, "a summary lists no units (fewer cases than the policy's min_cohort?)");
	else
		st = write_file(ov(o, "out"), svg);
	lb_free(svg);
	if (!st) {
		json_t *res = json_pack("{s:s,s:s,s:O}", "svg", ov(o, "out"), "by", by, "units", pts);
		if (ov(o, "json"))
			cli_print_json(res);
		else {
			size_t i;
			json_t *g;
			printf("funnel plot of %zu %ss written to %s\n", json_array_size(pts), by, ov(o, "out"));
			json_array_foreach(pts, i, g)
				if (strcmp(json_string_value(json_object_get(g, "flag")), "within"))
					printf("  %-14s O/E %.3f at E %.2f: %s\n", json_string_value(json_object_get(g, "name")),
					       json_number_value(json_object_get(g, "oe")),
					       json_number_value(json_object_get(g, "expected")),
					       json_string_value(json_object_get(g, "flag")));
		}
		json_decref(res);
	}
	json_decref(pts);
	json_decref(all);
	return st;
}

static int surgery_rank(int argc, char **argv)
{
	struct opt o[] = {{.name = "summaries"}, {.name = "listings"}, {.name = "node"}, {.name = "home"},
			  {.name = "json", .flag = true}, {.name = NULL}};
	if (parse(argc, argv, o, NULL, "rank") || need(o, "summaries", "rank"))
		return 1;
	json_t *all = load_summaries("rank", ov(o, "summaries"));
	if (!all)
		return 1;
	json_t *listings = NULL;
	if (ov(o, "listings"))
		listings = read_json(ov(o, "listings"));
	else if (ov(o, "node")) {
		const char *url = cli_node_url(ov(o, "node"), cli_home(ov(o, "home")));
		if (cli_api_get("surgery rank", url, "/v1/store/listings?kind=contract&limit=1000", &listings))
			listings = NULL;
	}
	if ((ov(o, "listings") || ov(o, "node")) && !listings) {
		json_decref(all);
		return 1;
	}
	json_t *res = NULL;
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_surgery_rank(all, json_is_array(listings) ? listings : json_object_get(listings, "listings"), &res, &em)) {
		json_decref(listings);
		json_decref(all);
		return cli_fail(CMD, &em, NULL);
	}
	if (ov(o, "json"))
		cli_print_json(res);
	else {
		size_t i, j;
		json_t *a, *c;
		printf("procedures by risk-adjusted 30-day mortality (O/E, lower is better) over %zu hospitals:\n",
		       json_array_size(all));
		json_array_foreach(json_object_get(res, "ranking"), i, a) {
			printf("  %zu. %-10s n %6lld  O %5lld  E %8.2f  O/E %.3f  z %+.2f", i + 1,
			       json_string_value(json_object_get(a, "procedure")),
			       (long long)json_integer_value(json_object_get(a, "n")),
			       (long long)json_integer_value(json_object_get(a, "observed")),
			       json_number_value(json_object_get(a, "expected")), json_number_value(json_object_get(a, "oe")),
			       json_number_value(json_object_get(a, "z")));
			json_array_foreach(json_object_get(a, "contracts"), j, c)
				printf("  [%s]", json_string_value(json_object_get(c, "title")));
			printf("\n");
		}
	}
	json_decref(res);
	json_decref(listings);
	json_decref(all);
	return 0;
}

static int surgery_alarms(int argc, char **argv)
{
	struct opt o[] = {{.name = "hospital"}, {.name = "surgeon"}, {.name = "node"}, {.name = "home"}, {.name = "json", .flag = true}, {.name = NULL}};
	if (parse(argc, argv, o, NULL, "alarms") || need(o, "hospital", "alarms") || need(o, "surgeon", "alarms"))
		return 1;
	const char *url = cli_node_url(ov(o, "node"), cli_home(ov(o, "home")));
	struct lb_buf path;
	lb_buf_init(&path, 1024);
	int rc = lb_buf_addf(&path, "/v1/surgery/alarms");
	for (const char *const *w = (const char *const[]){"hospital", "surgeon", NULL}; *w; w++) {
		const char *v = ov(o, *w);
		if (!*v || strlen(v) > 64 || strchr(v, '/')) {
			lb_buf_release(&path);
			return cli_failf(CMD, "alarms: --%s '%s': give 1 to 64 characters without '/'", *w, v);
		}
		if (!rc && !(rc = lb_buf_add(&path, "/", 1)))
			rc = cli_url_escape(&path, v); /* "St Mary" is sent as St%20Mary */
	}
	json_t *res = NULL;
	if (rc || lb_buf_add(&path, "", 1)) {
		lb_buf_release(&path);
		return cli_failf(CMD, "alarms: out of memory");
	}
	rc = cli_api_get("surgery alarms", url, (const char *)path.data, &res);
	lb_buf_release(&path);
	if (rc)
		return 1;
	if (ov(o, "json"))
		cli_print_json(res);
	else {
		json_t *al = json_object_get(res, "alarms"), *a;
		size_t i;
		printf("%zu alarm%s recorded for %s at %s\n", json_array_size(al), json_array_size(al) == 1 ? "" : "s",
		       ov(o, "surgeon"), ov(o, "hospital"));
		json_array_foreach(al, i, a)
			printf("  height %lld: operation %lld of %lld, S = %.3f (h %g, RA %g), tx %s\n",
			       (long long)json_integer_value(json_object_get(a, "height")),
			       (long long)json_integer_value(json_object_get(a, "case")),
			       (long long)json_integer_value(json_object_get(a, "cases")),
			       json_number_value(json_object_get(a, "value")), json_number_value(json_object_get(a, "h")),
			       json_number_value(json_object_get(a, "ra")), json_string_value(json_object_get(a, "tx")));
	}
	json_decref(res);
	return 0;
}

int cmd_surgery(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(surgery_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {{"generate", surgery_generate}, {"import", surgery_import}, {"fit", surgery_fit},
		    {"monitor", surgery_monitor}, {"cusum", surgery_cusum}, {"funnel", surgery_funnel},
		    {"rank", surgery_rank}, {"alarms", surgery_alarms}};
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (!strcmp(argv[1], subs[i].name)) {
			for (int a = 2; a < argc; a++)
				if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
					fputs(surgery_help, stdout);
					return 0;
				}
			return subs[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "leben surgery: '%s' is not a surgery subcommand (generate, import, fit, monitor, "
			"cusum, funnel, rank, alarms)\n", argv[1]);
	return 2;
}
