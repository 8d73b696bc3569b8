#define _GNU_SOURCE /* strptime, timegm */
/*
 * Chronic-disease monitoring (include/leben/monitor.h; docs/apps.md section 2).
 * <dir>/monitor.db tables: provider, contract (risk contracts by hash), patient, reading
 * (patient, code, time unique), outbox (graded warnings, delivery and ack state), batch (a
 * provider's open and settled counts).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>
#include <sqlite3.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/crypto.h"
#include "leben/knowledge.h"
#include "leben/ledger.h"
#include "leben/monitor.h"

#define MON_MAX_MODELS 16
#define MON_BACKOFF_MS 250      /* first retry after this, doubling, at most 60 s */
#define MON_MAX_ATTEMPTS 10
#define MON_FUTURE_MS (5 * 60 * 1000)

struct lb_monitor {
	pthread_mutex_t mu;
	sqlite3 *db;
	struct {
		char hash[65];
		struct lb_kn_model *m;
	} models[MON_MAX_MODELS];
	size_t nmodels;
};

/* The kinds of reading the monitor knows: LOINC code, contract data item, plausible range. */
static const struct kind {
	const char *code, *item, *name;
	double lo, hi;
	const char *trend; /* data item of the rise, or NULL */
} kinds[] = {
	{"8480-6", "sbp", "systolic blood pressure", 40, 300, "sbp_rise"},
	{"8462-4", "dbp", "diastolic blood pressure", 20, 200, NULL},
	{"2339-0", "glucose", "blood glucose (mg/dL)", 10, 1000, "glucose_rise"},
	{"8867-4", "pulse", "heart rate", 20, 250, NULL},
	{"59408-5", "spo2", "oxygen saturation", 50, 100, NULL},
	{"2708-6", "spo2", "oxygen saturation", 50, 100, NULL},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static const char *schema =
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS provider(name TEXT PRIMARY KEY, key TEXT UNIQUE NOT NULL,"
	" price INTEGER NOT NULL, batch INTEGER NOT NULL DEFAULT 1, count INTEGER NOT NULL DEFAULT 0,"
	" digest BLOB);"
	"CREATE TABLE IF NOT EXISTS settled(provider TEXT, batch INTEGER, count INTEGER,"
	" price INTEGER, amount INTEGER, tx TEXT, PRIMARY KEY(provider, batch));"
	"CREATE TABLE IF NOT EXISTS contract(hash TEXT PRIMARY KEY, source TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS patient(id TEXT PRIMARY KEY, contract TEXT NOT NULL,"
	" clinician TEXT NOT NULL, second TEXT NOT NULL, webhook TEXT NOT NULL DEFAULT '',"
	" deadline_s INTEGER NOT NULL, pkey TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS reading(patient TEXT, code TEXT, t INTEGER, value REAL,"
	" provider TEXT, received INTEGER, PRIMARY KEY(patient, code, t)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, patient TEXT, grade TEXT,"
	" reasons TEXT, reading TEXT, created INTEGER, arrived INTEGER, recipient TEXT,"
	" state TEXT, deadline INTEGER, acked_by TEXT, acked INTEGER, escalated_from INTEGER,"
	" delivered INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL DEFAULT 0, last_error TEXT);"
	"CREATE INDEX IF NOT EXISTS outbox_due ON outbox(delivered, next_try);"
	"CREATE INDEX IF NOT EXISTS outbox_open ON outbox(state, deadline);";

static int db_err(sqlite3 *db, struct lb_errmsg *em)
{
	return lb_errf(em, LB_EIO, "monitor database: %s", sqlite3_errmsg(db));
}

int lb_mon_open(struct lb_monitor **out, const char *dir, struct lb_errmsg *em)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/monitor.db", dir);
	struct lb_monitor *m = calloc(1, sizeof *m);
	if (!m)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	pthread_mutex_init(&m->mu, NULL);
	if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(m->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		int rc = lb_errf(em, LB_EIO, "%s: %s", path, sqlite3_errmsg(m->db));
		lb_mon_close(m);
		return rc;
	}
	sqlite3_busy_timeout(m->db, 5000);
	/* databases made before enrolments were signed: the patient's key column */
	sqlite3_exec(m->db, "ALTER TABLE patient ADD COLUMN pkey TEXT NOT NULL DEFAULT ''", NULL,
		     NULL, NULL);
	*out = m;
	return LB_OK;
}

void lb_mon_close(struct lb_monitor *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nmodels; i++)
		lb_kn_model_free(m->models[i].m);
	sqlite3_close(m->db);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const char *str(const json_t *req, const char *k)
{
	return json_string_value(json_object_get(req, k));
}

static bool is_key(const char *hex)
{
	uint8_t k[32];
	return hex && strlen(hex) == 64 && !lb_hex_decode(k, 32, hex);
}

/* The text of the first column of sql's first row with one text parameter, into out ("" when
 * none). Under the lock. */
static void text_of(struct lb_monitor *m, const char *sql, const char *arg, char *out, size_t n)
{
	sqlite3_stmt *st;
	out[0] = 0;
	sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* sig_hex (128 hex digits) is key_hex's Ed25519 signature of msg[0..n). */
static bool signed_by(const char *key_hex, const char *sig_hex, const char *msg, size_t n)
{
	uint8_t pk[32], sig[64];
	return is_key(key_hex) && sig_hex && strlen(sig_hex) == 128 &&
	       !lb_hex_decode(sig, 64, sig_hex) && !lb_hex_decode(pk, 32, key_hex) &&
	       lb_sig_is_valid(sig, msg, n, pk);
}

/* The request's "time" (Unix seconds, within LB_MON_SIG_WINDOW_S of the node's clock: a
 * signed request is not replayed later), into *t. */
static int signed_time(const json_t *req, const char *what, long long *t, struct lb_errmsg *em)
{
	json_t *tj = json_object_get(req, "time");
	long long now = (long long)time(NULL);
	if (!json_is_integer(tj))
		return lb_errf(em, LB_EUNAUTH, "%s: \"time\" (Unix seconds, signed with the request) "
			       "is required", what);
	*t = (long long)json_integer_value(tj);
	if (*t < now - LB_MON_SIG_WINDOW_S || *t > now + LB_MON_SIG_WINDOW_S)
		return lb_errf(em, LB_EUNAUTH, "%s: \"time\" %lld is more than %d s from the node's "
			       "clock: sign the request again now", what, *t, LB_MON_SIG_WINDOW_S);
	return LB_OK;
}

/* ---- providers and patients -------------------------------------------------------------- */

int lb_mon_provider(struct lb_monitor *m, const json_t *req, json_t **out, struct lb_errmsg *em)
{
	const char *name = str(req, "name"), *key = str(req, "key");
	json_t *pj = json_object_get(req, "price");
	if (!name || !*name || strlen(name) > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		    strlen(name))
		return lb_errf(em, LB_EINVALID, "provider: \"name\" (1-64 letters, digits, '.', '_' "
			       "or '-': it goes in the readings URL) is required");
	if (!is_key(key))
		return lb_errf(em, LB_EINVALID, "provider %s: \"key\" must be the provider's Ed25519 "
			       "public key, 64 hex digits", name);
	if (!json_is_integer(pj) || json_integer_value(pj) < 0)
		return lb_errf(em, LB_EINVALID, "provider %s: \"price\" (ASC micro-units per accepted "
			       "reading, a whole number >= 0) is required", name);
	/* the provider registers itself: signed by the key it registers */
	long long t;
	char msg[300];
	int rc = signed_time(req, "provider", &t, em);
	if (rc)
		return rc;
	int n = snprintf(msg, sizeof msg, "LEBEN-monitor-provider-v1\n%s\n%s\n%lld\n%lld", name,
			 key, (long long)json_integer_value(pj), t);
	if (!str(req, "sig"))
		return lb_errf(em, LB_EUNAUTH, "provider %s: \"sig\" is required: the provider "
			       "registers itself, signing \"LEBEN-monitor-provider-v1\\n<name>\\n<key>"
			       "\\n<price>\\n<time>\" with the key it registers (docs/api.md)", name);
	if (!signed_by(key, str(req, "sig"), msg, (size_t)n))
		return lb_errf(em, LB_EBADSIG, "provider %s: the signature does not verify under key "
			       "%.16s...: a provider registers itself with its own key; nothing was "
			       "changed", name, key);
	pthread_mutex_lock(&m->mu);
	sqlite3_stmt *st;
	char had[65];
	text_of(m, "SELECT key FROM provider WHERE name=?", name, had, sizeof had);
	if (had[0] && strcmp(had, key)) {
		pthread_mutex_unlock(&m->mu);
		return lb_errf(em, LB_EEXISTS, "provider %s is registered under another key (%.16s...): "
			       "only that key changes it; nothing was changed", name, had);
	}
	sqlite3_prepare_v2(m->db, "INSERT INTO provider(name, key, price) VALUES(?,?,?) "
			   "ON CONFLICT(name) DO UPDATE SET price=excluded.price",
			   -1, &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, json_integer_value(pj));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sqlite3_extended_errcode(m->db) == SQLITE_CONSTRAINT_UNIQUE
			     ? lb_errf(em, LB_EEXISTS, "provider %s: key %.16s... is already another "
				       "provider's", name, key)
			     : db_err(m->db, em);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&m->mu);
	if (!rc)
		*out = json_pack("{s:s,s:s,s:I}", "name", name, "key", key,
				 "price", (json_int_t)json_integer_value(pj));
	return rc;
}

/* The model of contract hash (cached; parsed from the stored source). Under the lock. */
static struct lb_kn_model *model_of(struct lb_monitor *m, const char *hash)
{
	for (size_t i = 0; i < m->nmodels; i++)
		if (!strcmp(m->models[i].hash, hash))
			return m->models[i].m;
	sqlite3_stmt *st;
	struct lb_kn_model *km = NULL;
	sqlite3_prepare_v2(m->db, "SELECT source FROM contract WHERE hash=?", -1, &st, NULL);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *src = (const char *)sqlite3_column_text(st, 0);
		lb_kn_model_parse(src, strlen(src), "risk contract", LB_KN_FORM_AUTO, &km, NULL);
	}
	sqlite3_finalize(st);
	if (km && m->nmodels < MON_MAX_MODELS) {
		snprintf(m->models[m->nmodels].hash, 65, "%s", hash);
		m->models[m->nmodels++].m = km;
	} else if (km) { /* cache full: keep the newest in the last slot */
		lb_kn_model_free(m->models[MON_MAX_MODELS - 1].m);
		snprintf(m->models[MON_MAX_MODELS - 1].hash, 65, "%s", hash);
		m->models[MON_MAX_MODELS - 1].m = km;
	}
	return km;
}

/* Who may enrol: the patient with their own key, or the owner institution (by_institution)
 * with the patient's consent (their signature of the same message). Under the lock. */
static int enrol_allowed(struct lb_monitor *m, const json_t *req, const char *id,
			 const char *hash, const char *cl, const char *sec, const char *hook,
			 int64_t dl, bool by_institution, struct lb_errmsg *em)
{
	const char *pkey = str(req, "patient_key"), *by = str(req, "by");
	long long t;
	char msg[900];
	int rc = signed_time(req, "enrol", &t, em);
	if (rc)
		return rc;
	if (!is_key(pkey))
		return lb_errf(em, LB_EINVALID, "enrol %s: \"patient_key\" (the patient's Ed25519 "
			       "public key, 64 hex digits) is required", id);
	if (!is_key(by))
		return lb_errf(em, LB_EUNAUTH, "enrol %s: \"by\" (the signer's key: the patient's "
			       "or the owner institution's) and \"sig\" are required", id);
	int n = snprintf(msg, sizeof msg, "LEBEN-monitor-enrol-v1\n%s\n%s\n%s\n%s\n%s\n%lld\n%s\n%lld",
			 id, hash, cl, sec, hook ? hook : "", (long long)dl, pkey, t);
	if (!signed_by(by, str(req, "sig"), msg, (size_t)n))
		return lb_errf(em, LB_EBADSIG, "enrol %s: \"sig\" does not verify under \"by\" "
			       "(%.16s...) for \"LEBEN-monitor-enrol-v1\\n<patient>\\n<contract hash>"
			       "\\n<clinician>\\n<second>\\n<webhook>\\n<deadline>\\n<patient_key>"
			       "\\n<time>\"; nothing was changed", id, by);
	bool self = !strcmp(by, pkey);
	if (!self && !by_institution)
		return lb_errf(em, LB_EUNAUTH, "enrol %s: key %.16s... is neither the patient's "
			       "(patient_key) nor the owner institution's (the node's key or a key of "
			       "<home>/fhir/members): a stranger cannot enrol a patient", id, by);
	if (!self && !signed_by(pkey, str(req, "consent"), msg, (size_t)n))
		return lb_errf(em, LB_EDENIED, "enrol %s: the institution enrols a patient only with "
			       "their consent: \"consent\" must be the patient's signature (patient_key) "
			       "of the same message", id);
	char had[65];
	text_of(m, "SELECT pkey FROM patient WHERE id=?", id, had, sizeof had);
	if (had[0] && strcmp(had, pkey))
		return lb_errf(em, LB_EUNAUTH, "enrol %s: the patient is enrolled with another key "
			       "(%.16s...): only that patient, or the institution with their consent, "
			       "changes the enrolment; nothing was changed", id, had);
	return LB_OK;
}

int lb_mon_enrol(struct lb_monitor *m, const json_t *req, bool by_institution, json_t **out,
		 struct lb_errmsg *em)
{
	const char *id = str(req, "patient"), *src = str(req, "contract");
	const char *cl = str(req, "clinician"), *sec = str(req, "second");
	const char *hook = str(req, "webhook");
	json_t *dj = json_object_get(req, "ack_deadline_s");
	int64_t dl = dj ? json_integer_value(dj) : 900;
	if (!id || !*id || strlen(id) > 128)
		return lb_errf(em, LB_EINVALID, "enrol: \"patient\" (1-128 characters) is required");
	if (!is_key(cl) || !is_key(sec))
		return lb_errf(em, LB_EINVALID, "enrol %s: \"clinician\" and \"second\" (the second "
			       "contact for escalation) must be Ed25519 public keys, 64 hex digits", id);
	if (dl <= 0)
		return lb_errf(em, LB_EINVALID, "enrol %s: \"ack_deadline_s\" must be a whole number of "
			       "seconds > 0", id);
	if (hook && *hook && strncmp(hook, "http://", 7) && strncmp(hook, "https://", 8))
		return lb_errf(em, LB_EINVALID, "enrol %s: \"webhook\" must be an http:// or https:// "
			       "URL", id);
	if (!src)
		return lb_errf(em, LB_EINVALID, "enrol %s: \"contract\" (the risk contract's source, "
			       "e.g. examples/contracts/chronic_risk.pf) is required", id);
	struct lb_kn_model *km;
	int rc = lb_kn_model_parse(src, strlen(src), "contract", LB_KN_FORM_AUTO, &km, em);
	if (rc)
		return rc;
	const char *pr;
	if (lb_kn_model_problems(km, 0, &pr)) {
		rc = lb_errf(em, LB_EINVALID, "enrol %s: the risk contract has problems: %s", id, pr);
		lb_kn_model_free(km);
		return rc;
	}
	lb_kn_model_free(km);
	uint8_t h[32];
	char hash[65];
	lb_hash(h, src, strlen(src));
	lb_hex_encode(hash, h, 32);
	pthread_mutex_lock(&m->mu);
	if ((rc = enrol_allowed(m, req, id, hash, cl, sec, hook, dl, by_institution, em))) {
		pthread_mutex_unlock(&m->mu);
		return rc;
	}
	sqlite3_stmt *st;
	sqlite3_prepare_v2(m->db, "INSERT OR IGNORE INTO contract VALUES(?,?)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, src, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_err(m->db, em);
	sqlite3_finalize(st);
	sqlite3_prepare_v2(m->db, "INSERT OR REPLACE INTO patient(id, contract, clinician, second, "
			   "webhook, deadline_s, pkey) VALUES(?,?,?,?,?,?,?)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sec, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, hook ? hook : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, dl);
	sqlite3_bind_text(st, 7, str(req, "patient_key"), -1, SQLITE_STATIC);
	if (!rc && sqlite3_step(st) != SQLITE_DONE)
		rc = db_err(m->db, em);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&m->mu);
	if (!rc)
		*out = json_pack("{s:s,s:s,s:I}", "patient", id, "contract", hash, "ack_deadline_s",
				 (json_int_t)dl);
	return rc;
}

/* ---- readings ------------------------------------------------------------------------------ */

/* "2026-12-06T10:00:00Z" (optionally with .fff) or a number of ms -> ms; -1 if not. */
static int64_t parse_time(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	const char *s = json_string_value(v);
	struct tm tm = {0};
	int ms = 0;
	if (!s)
		return -1;
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!e)
		return -1;
	if (*e == '.') {
		int k = 0;
		for (e++; *e >= '0' && *e <= '9'; e++, k++)
			if (k < 3)
				ms = ms * 10 + (*e - '0');
		for (; k < 3; k++)
			ms *= 10;
	}
	if (strcmp(e, "Z") && strcmp(e, "+00:00"))
		return -1;
	int mday = tm.tm_mday, mon = tm.tm_mon;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != mday || tm.tm_mon != mon) /* 2026-02-30 */
		return -1;
	return (int64_t)t * 1000 + ms;
}

static const struct kind *kind_of(const char *code)
{
	for (size_t i = 0; code && i < NKINDS; i++)
		if (!strcmp(kinds[i].code, code))
			return &kinds[i];
	return NULL;
}

/* One reading as parts (a blood pressure panel gives two). */
struct part {
	const struct kind *k;
	double v;
};
struct reading {
	const char *patient;
	int64_t t;
	struct part p[2];
	int n;
};

static const char *coding(const json_t *concept)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(concept, "coding"), i, c) {
		const char *sys = json_string_value(json_object_get(c, "system"));
		if (!sys || !strcmp(sys, "http://loinc.org"))
			return json_string_value(json_object_get(c, "code"));
	}
	return NULL;
}

/* Simple form {"patient","code","value","time"} or a FHIR Observation. "" or an error code
 * and message in why. */
static int parse_reading(const json_t *o, struct reading *r, char *why, size_t wn)
{
	memset(r, 0, sizeof *r);
	const char *code;
	json_t *val;
	if (!json_is_object(o)) {
		snprintf(why, wn, "a reading must be a JSON object");
		return LB_EMALFORMED;
	}
	if (json_object_get(o, "resourceType")) {
		if (strcmp(str(o, "resourceType") ? str(o, "resourceType") : "", "Observation")) {
			snprintf(why, wn, "resourceType must be Observation");
			return LB_EMALFORMED;
		}
		const char *ref = json_string_value(
			json_object_get(json_object_get(o, "subject"), "reference"));
		r->patient = ref && !strncmp(ref, "Patient/", 8) ? ref + 8 : NULL;
		if (!r->patient) {
			snprintf(why, wn, "Observation.subject.reference must be Patient/<id>");
			return LB_EMALFORMED;
		}
		r->t = parse_time(json_object_get(o, "effectiveDateTime"));
		if (r->t < 0) {
			snprintf(why, wn, "Observation.effectiveDateTime must be a valid UTC date-time "
				 "(YYYY-MM-DDThh:mm:ssZ)");
			return LB_EMALFORMED;
		}
		code = coding(json_object_get(o, "code"));
		json_t *comps = json_object_get(o, "component");
		if (code && !strcmp(code, "85354-9")) { /* blood pressure panel */
			size_t i;
			json_t *c;
			json_array_foreach(comps, i, c) {
				const struct kind *k = kind_of(coding(json_object_get(c, "code")));
				json_t *v = json_object_get(json_object_get(c, "valueQuantity"), "value");
				if (k && json_is_number(v) && r->n < 2)
					r->p[r->n++] = (struct part){k, json_number_value(v)};
			}
			if (r->n != 2 || strcmp(r->p[0].k->item, "sbp") || strcmp(r->p[1].k->item, "dbp")) {
				snprintf(why, wn, "Observation.component: a blood pressure panel (85354-9) "
					 "needs 8480-6 then 8462-4 with valueQuantity.value");
				return LB_EMALFORMED;
			}
			return LB_OK;
		}
		val = json_object_get(json_object_get(o, "valueQuantity"), "value");
	} else {
		r->patient = str(o, "patient");
		code = str(o, "code");
		val = json_object_get(o, "value");
		r->t = parse_time(json_object_get(o, "time"));
		if (!r->patient) {
			snprintf(why, wn, "\"patient\" is required");
			return LB_EMALFORMED;
		}
		if (r->t < 0) {
			snprintf(why, wn, "\"time\" must be a valid UTC date-time (YYYY-MM-DDThh:mm:ssZ) "
				 "or milliseconds since 1970");
			return LB_EMALFORMED;
		}
		if (code && !strcmp(code, "85354-9") && json_is_array(val) && json_array_size(val) == 2 &&
		    json_is_number(json_array_get(val, 0)) && json_is_number(json_array_get(val, 1))) {
			r->p[0] = (struct part){&kinds[0], json_number_value(json_array_get(val, 0))};
			r->p[1] = (struct part){&kinds[1], json_number_value(json_array_get(val, 1))};
			r->n = 2;
			return LB_OK;
		}
	}
	const struct kind *k = kind_of(code);
	if (!k) {
		snprintf(why, wn, "code %s is not a monitored LOINC code (85354-9, 8480-6, 8462-4, "
			 "2339-0, 8867-4, 59408-5, 2708-6)", code ? code : "(missing)");
		return LB_EUNSUPPORTED;
	}
	if (!json_is_number(val)) {
		snprintf(why, wn, "the value must be a number (valueQuantity.value or \"value\")");
		return LB_EMALFORMED;
	}
	r->p[0] = (struct part){k, json_number_value(val)};
	r->n = 1;
	return LB_OK;
}

/* Mean of up to 5 readings before t of (patient, code); false with fewer than 3. */
static bool prev_mean(struct lb_monitor *m, const char *pat, const char *code, int64_t t,
		      double *mean)
{
	sqlite3_stmt *st;
	int n = 0;
	double s = 0;
	sqlite3_prepare_v2(m->db, "SELECT value FROM reading WHERE patient=? AND code=? AND t<? "
			   "ORDER BY t DESC LIMIT 5", -1, &st, NULL);
	sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t);
	while (sqlite3_step(st) == SQLITE_ROW) {
		s += sqlite3_column_double(st, 0);
		n++;
	}
	sqlite3_finalize(st);
	*mean = n ? s / n : 0;
	return n >= 3;
}

static int add_int(struct lb_kn_session *s, const char *item, double v)
{
	char num[32];
	snprintf(num, sizeof num, "%lld", (long long)(v < 0 ? v - 0.5 : v + 0.5));
	return lb_kn_session_add_value(s, item, num, NULL, 0, NULL);
}

/* Run the contract on the reading: grade ("critical"/"warning"/"info", or "" for normal) and
 * the captions of the arguments that hold. */
static int evaluate(struct lb_monitor *m, struct lb_kn_model *km, const struct reading *r,
		    char grade[16], json_t **reasons)
{
	struct lb_kn_session *s;
	int rc = lb_kn_session_new(km, r->t / 86400000, &s, NULL);
	if (rc)
		return rc;
	lb_kn_session_set_tracing(s, false);
	for (int i = 0; i < r->n; i++) {
		add_int(s, r->p[i].k->item, r->p[i].v);
		double mean;
		if (r->p[i].k->trend && prev_mean(m, r->patient, r->p[i].k->code, r->t, &mean))
			add_int(s, r->p[i].k->trend, r->p[i].v - mean);
	}
	char *pj = NULL;
	grade[0] = 0;
	*reasons = json_array();
	if (!(rc = lb_kn_session_run(s, NULL)) && !(rc = lb_kn_session_pending(s, &pj, NULL))) {
		json_t *p = json_loads(pj, 0, NULL);
		static const char *const order[] = {"critical", "warning", "info"};
		json_t *cands = json_object_get(json_array_get(json_object_get(p, "decisions"), 0),
						"candidates");
		for (size_t g = 0; g < 3 && !grade[0]; g++) {
			size_t i, k;
			json_t *c, *a;
			json_array_foreach(cands, i, c) {
				if (strcmp(str(c, "name") ? str(c, "name") : "", order[g]) ||
				    !json_is_true(json_object_get(c, "recommended")))
					continue;
				snprintf(grade, 16, "%s", order[g]);
				json_array_foreach(json_object_get(c, "arguments"), k, a)
					if (json_is_true(json_object_get(a, "active")))
						json_array_append(*reasons, json_object_get(a, "caption"));
			}
		}
		json_decref(p);
		lb_free(pj);
	}
	lb_kn_session_free(s);
	return rc;
}

static void outbox_add(struct lb_monitor *m, const char *pat, const char *grade,
		       const char *reasons, const char *reading, int64_t arrived, int64_t now,
		       const char *to, int64_t deadline, int64_t from)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(m->db, "INSERT INTO outbox(patient, grade, reasons, reading, created, "
			   "arrived, recipient, state, deadline, escalated_from) "
			   "VALUES(?,?,?,?,?,?,?,'open',?,?)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, grade, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reasons, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reading, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, arrived);
	sqlite3_bind_text(st, 7, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, deadline);
	if (from)
		sqlite3_bind_int64(st, 9, from);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static json_t *refuse(size_t i, const char *error, const char *why)
{
	return json_pack("{s:I,s:s,s:s,s:s}", "index", (json_int_t)i, "status", "refused", "error",
			 error, "message", why);
}

/* One reading, under the lock and inside the batch's transaction. */
static json_t *one(struct lb_monitor *m, const char *prov, size_t idx, const json_t *o,
		   int64_t now, int64_t *accepted, uint8_t digest[32])
{
	struct reading r;
	char why[300];
	int rc = parse_reading(o, &r, why, sizeof why);
	if (rc)
		return refuse(idx, rc == LB_EUNSUPPORTED ? "unknown_code" : "malformed", why);
	for (int i = 0; i < r.n; i++)
		if (!(r.p[i].v >= r.p[i].k->lo && r.p[i].v <= r.p[i].k->hi)) {
			snprintf(why, sizeof why, "%s %g is outside the plausible range %g-%g: check "
				 "the device", r.p[i].k->name, r.p[i].v, r.p[i].k->lo, r.p[i].k->hi);
			return refuse(idx, "implausible", why);
		}
	if (r.n == 2 && r.p[1].v >= r.p[0].v) {
		snprintf(why, sizeof why, "diastolic %g is not below systolic %g: check the device",
			 r.p[1].v, r.p[0].v);
		return refuse(idx, "implausible", why);
	}
	if (r.t > now + MON_FUTURE_MS) {
		snprintf(why, sizeof why, "the reading's time is more than 5 minutes in the future: "
			 "check the device's clock");
		return refuse(idx, "future", why);
	}
	sqlite3_stmt *st;
	char hash[65] = "", clin[65] = "";
	int64_t dl = 0;
	sqlite3_prepare_v2(m->db, "SELECT contract, clinician, deadline_s FROM patient WHERE id=?",
			   -1, &st, NULL);
	sqlite3_bind_text(st, 1, r.patient, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(clin, sizeof clin, "%s", (const char *)sqlite3_column_text(st, 1));
		dl = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (!hash[0]) {
		snprintf(why, sizeof why, "patient %.128s is not enrolled: enrol the patient first "
			 "(leben monitor enrol)", r.patient);
		return refuse(idx, "not_enrolled", why);
	}
	/* duplicate / out of order, on the first part */
	int64_t last = -1;
	sqlite3_prepare_v2(m->db, "SELECT max(t) FROM reading WHERE patient=? AND code=?", -1, &st,
			   NULL);
	sqlite3_bind_text(st, 1, r.patient, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r.p[0].k->code, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	for (int i = 0; i < r.n; i++) {
		sqlite3_prepare_v2(m->db, "INSERT INTO reading VALUES(?,?,?,?,?,?)", -1, &st, NULL);
		sqlite3_bind_text(st, 1, r.patient, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r.p[i].k->code, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, r.t);
		sqlite3_bind_double(st, 4, r.p[i].v);
		sqlite3_bind_text(st, 5, prov, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			snprintf(why, sizeof why, "patient %.128s already has a %s reading at %lld ms: "
				 "a duplicate is not counted twice", r.patient, r.p[i].k->name,
				 (long long)r.t);
			return refuse(idx, "duplicate", why); /* the batch's savepoint undoes part 1 */
		}
	}
	/* counted for the provider's open batch */
	char rk[300];
	int kl = snprintf(rk, sizeof rk, "%s|%s|%lld", r.patient, r.p[0].k->code, (long long)r.t);
	uint8_t buf[32 + sizeof rk];
	memcpy(buf, digest, 32);
	memcpy(buf + 32, rk, (size_t)kl);
	lb_hash(digest, buf, 32 + (size_t)kl);
	(*accepted)++;
	json_t *res = json_pack("{s:I,s:s}", "index", (json_int_t)idx, "status", "accepted");
	if (r.t < last) { /* flagged: kept and paid, not graded (the contract sees the present) */
		json_object_set_new(res, "flag", json_string("out_of_order"));
		return res;
	}
	struct lb_kn_model *km = model_of(m, hash);
	char grade[16];
	json_t *reasons = NULL;
	if (!km || evaluate(m, km, &r, grade, &reasons)) {
		json_decref(reasons);
		json_object_set_new(res, "flag", json_string("not_evaluated"));
		return res;
	}
	if (grade[0]) {
		char *rs = json_dumps(reasons, JSON_COMPACT);
		char *ro = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		outbox_add(m, r.patient, grade, rs, ro, now, lb_now_ms(), clin,
			   strcmp(grade, "info") ? lb_now_ms() + dl * 1000 : 0, 0);
		free(rs);
		free(ro);
		json_object_set_new(res, "warning", json_pack("{s:s,s:I,s:O}", "grade", grade, "id",
			(json_int_t)sqlite3_last_insert_rowid(m->db), "reasons", reasons));
	}
	json_decref(reasons);
	return res;
}

static int accept_batch(struct lb_monitor *m, const char *provider, const json_t *items,
			int64_t now_ms, json_t **out, struct lb_errmsg *em);

int lb_mon_readings(struct lb_monitor *m, const char *provider, const char *sig_hex,
		    const char *body, size_t len, int64_t now_ms, json_t **out,
		    struct lb_errmsg *em)
{
	uint8_t sig[64], pk[32];
	if (!provider || !*provider)
		return lb_errf(em, LB_EUNAUTH, "readings: name the provider (?provider=NAME) and sign "
			       "the body (?sig=HEX)");
	if (!sig_hex || lb_hex_decode(sig, 64, sig_hex))
		return lb_errf(em, LB_EUNAUTH, "readings from %s: ?sig= must be the Ed25519 signature "
			       "(128 hex digits) of \"LEBEN-monitor-readings-v1\\n\" followed by the "
			       "body", provider);
	pthread_mutex_lock(&m->mu);
	char key[65];
	text_of(m, "SELECT key FROM provider WHERE name=?", provider, key, sizeof key);
	pthread_mutex_unlock(&m->mu);
	if (!key[0])
		return lb_errf(em, LB_EUNAUTH, "readings: %.64s is not a registered device-data "
			       "provider (leben monitor provider)", provider);
	lb_hex_decode(pk, 32, key);
	static const char dom[] = "LEBEN-monitor-readings-v1\n";
	unsigned char *msg = malloc(sizeof dom - 1 + len);
	if (!msg)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	memcpy(msg, dom, sizeof dom - 1);
	memcpy(msg + sizeof dom - 1, body, len);
	int bad = crypto_sign_verify_detached(sig, msg, sizeof dom - 1 + len, pk);
	free(msg);
	if (bad)
		return lb_errf(em, LB_EBADSIG, "readings from %s: the signature does not verify under "
			       "the provider's registered key; nothing was accepted", provider);
	/* a JSON array, or NDJSON (one reading a line) */
	json_t *items = NULL;
	json_error_t je;
	size_t p = 0;
	while (p < len && (body[p] == ' ' || body[p] == '\n' || body[p] == '\r' || body[p] == '\t'))
		p++;
	if (p < len && body[p] == '[') {
		if (!(items = json_loadb(body, len, 0, &je)))
			return lb_errf(em, LB_ESYNTAX, "readings: JSON error at line %d column %d: %s",
				       je.line, je.column, je.text);
	} else if (p < len && body[p] == '{' && (items = json_loadb(body, len, 0, NULL))) {
		/* one object (maybe over several lines), or a FHIR Bundle (transaction, batch,
		 * collection): its entries' resources */
		json_t *b = items, *e;
		size_t k;
		const char *rt = str(b, "resourceType");
		items = json_array();
		if (rt && !strcmp(rt, "Bundle"))
			json_array_foreach(json_object_get(b, "entry"), k, e)
				json_array_append(items, json_object_get(e, "resource"));
		else
			json_array_append(items, b);
		json_decref(b);
	} else {
		items = json_array();
		size_t line = 1;
		for (size_t s = 0; s < len; line++) {
			const char *nl = memchr(body + s, '\n', len - s);
			size_t e = nl ? (size_t)(nl - body) : len;
			size_t k = s;
			while (k < e && (body[k] == ' ' || body[k] == '\r' || body[k] == '\t'))
				k++;
			if (k < e) {
				json_t *o = json_loadb(body + s, e - s, 0, &je);
				if (!o) {
					json_decref(items);
					return lb_errf(em, LB_ESYNTAX, "readings: NDJSON line %zu column %d: "
						       "%s; nothing was accepted", line, je.column,
						       je.text);
				}
				json_array_append_new(items, o);
			}
			s = e + 1;
		}
	}
	if (!json_array_size(items)) {
		json_decref(items);
		return lb_errf(em, LB_EINVALID, "readings: the batch holds no reading");
	}
	int rc = accept_batch(m, provider, items, now_ms, out, em);
	json_decref(items);
	return rc;
}

/* The readings of items (borrowed) from provider, each accepted or refused on its own, in one
 * transaction; the answer of lb_mon_readings into *out. */
static int accept_batch(struct lb_monitor *m, const char *provider, const json_t *items,
			int64_t now_ms, json_t **out, struct lb_errmsg *em)
{
	json_t *results = json_array();
	int64_t accepted = 0;
	size_t i;
	json_t *o;
	sqlite3_stmt *st;
	uint8_t digest[32] = {0};
	pthread_mutex_lock(&m->mu);
	sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(m->db, "SELECT digest FROM provider WHERE name=?", -1, &st, NULL);
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
		memcpy(digest, sqlite3_column_blob(st, 0), 32);
	sqlite3_finalize(st);
	json_array_foreach(items, i, o) {
		sqlite3_exec(m->db, "SAVEPOINT r", NULL, NULL, NULL);
		json_t *res = one(m, provider, i, o, now_ms, &accepted, digest);
		if (!strcmp(str(res, "status"), "refused"))
			sqlite3_exec(m->db, "ROLLBACK TO r", NULL, NULL, NULL);
		sqlite3_exec(m->db, "RELEASE r", NULL, NULL, NULL);
		json_array_append_new(results, res);
	}
	sqlite3_prepare_v2(m->db, "UPDATE provider SET count=count+?, digest=? WHERE name=?", -1,
			   &st, NULL);
	sqlite3_bind_int64(st, 1, accepted);
	sqlite3_bind_blob(st, 2, digest, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, provider, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	int rc = sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? LB_OK
									     : db_err(m->db, em);
	pthread_mutex_unlock(&m->mu);
	if (rc) {
		json_decref(results);
		return rc;
	}
	*out = json_pack("{s:s,s:I,s:I,s:o}", "provider", provider, "accepted", (json_int_t)accepted,
			 "refused", (json_int_t)(json_array_size(results) - (size_t)accepted),
			 "results", results);
	return LB_OK;
}

/* Is o an Observation with a monitored code (a wearable reading, not a lab result)? */
static bool monitored(const json_t *o)
{
	const char *rt = str(o, "resourceType");
	const char *code = coding(json_object_get(o, "code"));
	return rt && !strcmp(rt, "Observation") && code &&
	       (!strcmp(code, "85354-9") || kind_of(code));
}

int lb_mon_observations(struct lb_monitor *m, const char *writer_hex, const json_t *resources,
			int64_t now_ms, json_t **out, struct lb_errmsg *em)
{
	char name[80];
	if (!is_key(writer_hex))
		return lb_errf(em, LB_ENOTFOUND, "readings: the writer is no device-data provider");
	pthread_mutex_lock(&m->mu);
	text_of(m, "SELECT name FROM provider WHERE key=?", writer_hex, name, sizeof name);
	pthread_mutex_unlock(&m->mu);
	if (!name[0])
		return lb_errf(em, LB_ENOTFOUND, "readings: key %.16s... is no registered device-data "
			       "provider's (leben monitor provider)", writer_hex);
	json_t *items = json_array(), *o;
	size_t i;
	json_array_foreach(resources, i, o)
		if (monitored(o))
			json_array_append(items, (json_t *)o);
	int rc = json_array_size(items)
			 ? accept_batch(m, name, items, now_ms, out, em)
			 : lb_errf(em, LB_ENOTFOUND, "readings: no Observation with a monitored code");
	json_decref(items);
	return rc;
}

/* ---- the node's monitor and its delivery thread ---------------------------------------- */

static pthread_mutex_t node_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lb_monitor *node_mon;

static void *deliver(void *arg)
{
	struct lb_monitor *m = arg;
	for (;;) {
		if (!lb_mon_tick(m, (int64_t)lb_now_ms())) {
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int lb_mon_node(const char *home, bool create, struct lb_monitor **out, struct lb_errmsg *em)
{
	int rc = LB_OK;
	char dir[4200], path[4300];
	pthread_mutex_lock(&node_mu);
	if (!node_mon) {
		if (!home) {
			pthread_mutex_unlock(&node_mu);
			return lb_errf(em, LB_EUNAVAILABLE, "this node has no home directory for the "
				       "monitor");
		}
		snprintf(dir, sizeof dir, "%s/monitor", home);
		snprintf(path, sizeof path, "%s/monitor.db", dir);
		if (!create && access(path, F_OK)) {
			pthread_mutex_unlock(&node_mu);
			return lb_errf(em, LB_ENOTFOUND, "this node has no monitor (%s)", path);
		}
		mkdir(dir, 0700);
		if (!(rc = lb_mon_open(&node_mon, dir, em))) {
			pthread_t t;
			if (!pthread_create(&t, NULL, deliver, node_mon))
				pthread_detach(t);
		}
	}
	*out = node_mon;
	pthread_mutex_unlock(&node_mu);
	return rc;
}

/* ---- outbox, ack, escalation, delivery -------------------------------------------------- */

static json_t *row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(st);
	for (int i = 0; i < n; i++) {
		const char *k = sqlite3_column_name(st, i);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			json_object_set_new(o, k, json_integer(sqlite3_column_int64(st, i)));
			break;
		case SQLITE_FLOAT:
			json_object_set_new(o, k, json_real(sqlite3_column_double(st, i)));
			break;
		case SQLITE_TEXT: {
			const char *t = (const char *)sqlite3_column_text(st, i);
			json_t *j = (!strcmp(k, "reasons") || !strcmp(k, "reading"))
					    ? json_loads(t, 0, NULL) : NULL;
			json_object_set_new(o, k, j ? j : json_string(t));
			break;
		}
		default:
			json_object_set_new(o, k, json_null());
		}
	}
	return o;
}

static void escalate(struct lb_monitor *m, int64_t now)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(m->db, "SELECT o.id, o.patient, o.grade, o.reasons, o.reading, "
			   "o.arrived, p.second, p.deadline_s FROM outbox o JOIN patient p ON "
			   "p.id=o.patient WHERE o.state='open' AND o.deadline>0 AND o.deadline<=? "
			   "AND o.escalated_from IS NULL", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, now);
	struct esc {
		int64_t id, arrived, dl;
		char *pat, *grade, *reasons, *reading, *second;
	} *e = NULL;
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct esc *ne = realloc(e, (n + 1) * sizeof *e);
		if (!ne)
			break;
		e = ne;
		e[n].id = sqlite3_column_int64(st, 0);
		e[n].pat = strdup((const char *)sqlite3_column_text(st, 1));
		const char *g = (const char *)sqlite3_column_text(st, 2);
		e[n].grade = strdup(!strcmp(g, "info") ? "warning" : "critical");
		e[n].reasons = strdup((const char *)sqlite3_column_text(st, 3));
		e[n].reading = strdup((const char *)sqlite3_column_text(st, 4));
		e[n].arrived = sqlite3_column_int64(st, 5);
		e[n].second = strdup((const char *)sqlite3_column_text(st, 6));
		e[n].dl = sqlite3_column_int64(st, 7);
		n++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
		sqlite3_prepare_v2(m->db, "UPDATE outbox SET state='escalated' WHERE id=?", -1, &st,
				   NULL);
		sqlite3_bind_int64(st, 1, e[i].id);
		sqlite3_step(st);
		sqlite3_finalize(st);
		outbox_add(m, e[i].pat, e[i].grade, e[i].reasons, e[i].reading, e[i].arrived, now,
			   e[i].second, now + e[i].dl * 1000, e[i].id);
		sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL);
		free(e[i].pat);
		free(e[i].grade);
		free(e[i].reasons);
		free(e[i].reading);
		free(e[i].second);
	}
	free(e);
}

int lb_mon_outbox(struct lb_monitor *m, int64_t after, const char *patient, const char *state,
		  int64_t now_ms, json_t **out, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	pthread_mutex_lock(&m->mu);
	escalate(m, now_ms);
	if (sqlite3_prepare_v2(m->db, "SELECT id, patient, grade, reasons, reading, created, "
			       "arrived, recipient, state, deadline, acked_by, acked, escalated_from, "
			       "delivered, attempts, last_error FROM outbox WHERE id>? AND "
			       "(?2 IS NULL OR patient=?2) AND (?3 IS NULL OR state=?3) ORDER BY id "
			       "LIMIT 1000", -1, &st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&m->mu);
		return db_err(m->db, em);
	}
	sqlite3_bind_int64(st, 1, after);
	if (patient)
		sqlite3_bind_text(st, 2, patient, -1, SQLITE_STATIC);
	if (state)
		sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	json_t *a = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, row_json(st));
	sqlite3_finalize(st);
	pthread_mutex_unlock(&m->mu);
	*out = json_pack("{s:o}", "outbox", a);
	return LB_OK;
}

int lb_mon_ack(struct lb_monitor *m, int64_t id, const json_t *req, int64_t now_ms,
	       json_t **out, struct lb_errmsg *em)
{
	const char *by = str(req, "by"), *sh = str(req, "sig");
	uint8_t pk[32], sig[64];
	if (!is_key(by) || !sh || lb_hex_decode(sig, 64, sh))
		return lb_errf(em, LB_EUNAUTH, "ack %lld: \"by\" (the clinician's public key) and "
			       "\"sig\" (Ed25519 over \"LEBEN-monitor-ack-v1\\n%lld\") are required",
			       (long long)id, (long long)id);
	lb_hex_decode(pk, 32, by);
	char msg[64];
	int n = snprintf(msg, sizeof msg, "LEBEN-monitor-ack-v1\n%lld", (long long)id);
	if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, (size_t)n, pk))
		return lb_errf(em, LB_EBADSIG, "ack %lld: the signature does not verify under %.16s...",
			       (long long)id, by);
	pthread_mutex_lock(&m->mu);
	escalate(m, now_ms);
	sqlite3_stmt *st;
	int rc = LB_OK;
	sqlite3_prepare_v2(m->db, "SELECT o.state, o.recipient, p.clinician, p.second FROM outbox "
			   "o JOIN patient p ON p.id=o.patient WHERE o.id=?", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = lb_errf(em, LB_ENOTFOUND, "ack: there is no outbox entry %lld", (long long)id);
	} else {
		const char *state = (const char *)sqlite3_column_text(st, 0);
		const char *rcp = (const char *)sqlite3_column_text(st, 1);
		const char *cl = (const char *)sqlite3_column_text(st, 2);
		const char *sec = (const char *)sqlite3_column_text(st, 3);
		if (strcmp(by, rcp) && strcmp(by, cl) && strcmp(by, sec))
			rc = lb_errf(em, LB_EUNAUTH, "ack %lld: %.16s... is neither the patient's "
				     "clinician nor its second contact", (long long)id, by);
		else if (!strcmp(state, "acked"))
			rc = lb_errf(em, LB_EEXISTS, "ack %lld: already acknowledged", (long long)id);
	}
	sqlite3_finalize(st);
	if (!rc) { /* the entry and what it escalated from / to */
		sqlite3_prepare_v2(m->db, "UPDATE outbox SET state='acked', acked_by=?, acked=? WHERE "
				   "id=?3 OR escalated_from=?3 OR id=(SELECT escalated_from FROM "
				   "outbox WHERE id=?3)", -1, &st, NULL);
		sqlite3_bind_text(st, 1, by, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_ms);
		sqlite3_bind_int64(st, 3, id);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_err(m->db, em);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&m->mu);
	if (!rc)
		*out = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)id, "state", "acked", "by",
				 by, "acked", (json_int_t)now_ms);
	return rc;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

int lb_mon_tick(struct lb_monitor *m, int64_t now_ms)
{
	struct due {
		int64_t id, attempts;
		char *url, *body;
	} d[32];
	size_t n = 0;
	sqlite3_stmt *st;
	pthread_mutex_lock(&m->mu);
	escalate(m, now_ms);
	sqlite3_prepare_v2(m->db, "SELECT o.id, o.attempts, p.webhook, o.id, o.patient, o.grade, "
			   "o.reasons, o.reading, o.created, o.recipient, o.state, o.deadline, "
			   "o.escalated_from FROM outbox o JOIN patient p ON p.id=o.patient WHERE "
			   "o.delivered=0 AND o.next_try<=? AND p.webhook<>'' ORDER BY o.next_try "
			   "LIMIT 32", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, now_ms);
	while (n < 32 && sqlite3_step(st) == SQLITE_ROW) {
		d[n].id = sqlite3_column_int64(st, 0);
		d[n].attempts = sqlite3_column_int64(st, 1);
		d[n].url = strdup((const char *)sqlite3_column_text(st, 2));
		json_t *o = json_object();
		for (int i = 3; i < sqlite3_column_count(st); i++) {
			json_t *r = row_json(st);
			json_object_update(o, r);
			json_decref(r);
			break;
		}
		json_object_del(o, "attempts");
		json_object_del(o, "webhook");
		d[n].body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(o);
		n++;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&m->mu);
	for (size_t i = 0; i < n; i++) {
		char err[CURL_ERROR_SIZE] = "";
		long code = 0;
		CURL *c = curl_easy_init();
		struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
		if (c) {
			curl_easy_setopt(c, CURLOPT_URL, d[i].url);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, d[i].body);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
			curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
			if (curl_easy_perform(c) == CURLE_OK)
				curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
			curl_easy_cleanup(c);
		}
		curl_slist_free_all(h);
		if (!err[0] && (code < 200 || code > 299))
			snprintf(err, sizeof err, "HTTP %ld", code);
		int64_t att = d[i].attempts + 1;
		int64_t wait = MON_BACKOFF_MS << (att - 1 < 8 ? att - 1 : 8);
		pthread_mutex_lock(&m->mu);
		sqlite3_prepare_v2(m->db, "UPDATE outbox SET delivered=?, attempts=?, next_try=?, "
				   "last_error=? WHERE id=?", -1, &st, NULL);
		bool ok = code >= 200 && code <= 299;
		sqlite3_bind_int64(st, 1, ok ? (int64_t)lb_now_ms() : (att >= MON_MAX_ATTEMPTS ? -1 : 0));
		sqlite3_bind_int64(st, 2, att);
		sqlite3_bind_int64(st, 3, (int64_t)lb_now_ms() + (wait > 60000 ? 60000 : wait));
		if (ok)
			sqlite3_bind_null(st, 4);
		else
			sqlite3_bind_text(st, 4, err, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, d[i].id);
		sqlite3_step(st);
		sqlite3_finalize(st);
		pthread_mutex_unlock(&m->mu);
		free(d[i].url);
		free(d[i].body);
	}
	return (int)n;
}

/* ---- status and settlement ----------------------------------------------------------------- */

int lb_mon_status(struct lb_monitor *m, json_t **out, struct lb_errmsg *em)
{
	(void)em;
	sqlite3_stmt *st;
	json_t *prov = json_array(), *set = json_array();
	pthread_mutex_lock(&m->mu);
	sqlite3_prepare_v2(m->db, "SELECT name, key, price, batch, count FROM provider ORDER BY "
			   "name", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(prov, row_json(st));
	sqlite3_finalize(st);
	sqlite3_prepare_v2(m->db, "SELECT provider, batch, count, price, amount, tx FROM settled "
			   "ORDER BY provider, batch", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(set, row_json(st));
	sqlite3_finalize(st);
	json_t *o = json_pack("{s:o,s:o}", "providers", prov, "settled", set);
	static const char *const q[][2] = {
		{"patients", "SELECT count(*) FROM patient"},
		{"readings", "SELECT count(*) FROM reading"},
		{"open", "SELECT count(*) FROM outbox WHERE state='open'"},
		{"escalated", "SELECT count(*) FROM outbox WHERE state='escalated'"},
		{"acked", "SELECT count(*) FROM outbox WHERE state='acked'"},
		{"undelivered", "SELECT count(*) FROM outbox o JOIN patient p ON p.id=o.patient "
				"WHERE o.delivered=0 AND p.webhook<>''"},
	};
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		sqlite3_prepare_v2(m->db, q[i][1], -1, &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(o, q[i][0], json_integer(sqlite3_column_int64(st, 0)));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&m->mu);
	*out = o;
	return LB_OK;
}

int lb_mon_settle(struct lb_monitor *m, struct lb_ledger *l, json_t **out, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	json_t *done = json_array();
	int rc = LB_OK;
	pthread_mutex_lock(&m->mu);
	sqlite3_prepare_v2(m->db, "SELECT name, key, price, batch, count, digest FROM provider "
			   "WHERE count>0 ORDER BY name", -1, &st, NULL);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		struct lb_mon_payment_tx p = {0};
		const char *name = (const char *)sqlite3_column_text(st, 0);
		lb_hex_decode(p.provider, 32, (const char *)sqlite3_column_text(st, 1));
		p.price = (uint64_t)sqlite3_column_int64(st, 2);
		p.batch = (uint64_t)sqlite3_column_int64(st, 3);
		p.count = (uint64_t)sqlite3_column_int64(st, 4);
		p.amount = p.count * p.price;
		if (sqlite3_column_bytes(st, 5) == 32)
			memcpy(p.digest, sqlite3_column_blob(st, 5), 32);
		uint8_t pay[128], id[32];
		size_t n;
		char txh[65];
		lb_mon_payment_encode(&p, pay, &n);
		if ((rc = lb_ledger_node_submit(l, LB_CHAIN_BUSINESS, LB_TX_MONITOR_PAYMENT, pay, n,
						id, em)))
			break;
		lb_hex_encode(txh, id, 32);
		sqlite3_stmt *u;
		sqlite3_prepare_v2(m->db, "INSERT INTO settled VALUES(?,?,?,?,?,?)", -1, &u, NULL);
		sqlite3_bind_text(u, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(u, 2, (int64_t)p.batch);
		sqlite3_bind_int64(u, 3, (int64_t)p.count);
		sqlite3_bind_int64(u, 4, (int64_t)p.price);
		sqlite3_bind_int64(u, 5, (int64_t)p.amount);
		sqlite3_bind_text(u, 6, txh, -1, SQLITE_STATIC);
		sqlite3_step(u);
		sqlite3_finalize(u);
		sqlite3_prepare_v2(m->db, "UPDATE provider SET batch=batch+1, count=0, digest=NULL "
				   "WHERE name=?", -1, &u, NULL);
		sqlite3_bind_text(u, 1, name, -1, SQLITE_STATIC);
		sqlite3_step(u);
		sqlite3_finalize(u);
		json_array_append_new(done, json_pack("{s:s,s:I,s:I,s:I,s:I,s:s}", "provider", name,
			"batch", (json_int_t)p.batch, "count", (json_int_t)p.count, "price",
			(json_int_t)p.price, "amount", (json_int_t)p.amount, "tx", txh));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&m->mu);
	if (rc) {
		json_decref(done);
		return rc;
	}
	*out = json_pack("{s:o}", "settled", done);
	return LB_OK;
}

/* ---- 0x03a8 monitor.payment ---------------------------------------------------------------- */

int lb_mon_payment_encode(const struct lb_mon_payment_tx *p, uint8_t *out, size_t *len)
{
	struct lb_buf b;
	lb_buf_init(&b, 128);
	int rc;
	if (!(rc = lb_enc_fixed(&b, p->provider, 32)) && !(rc = lb_enc_uvar(&b, p->batch)) &&
	    !(rc = lb_enc_uvar(&b, p->count)) && !(rc = lb_enc_uvar(&b, p->price)) &&
	    !(rc = lb_enc_uvar(&b, p->amount)) && !(rc = lb_enc_fixed(&b, p->digest, 32))) {
		memcpy(out, b.data, b.len);
		*len = b.len;
	}
	lb_buf_release(&b);
	return rc;
}

int lb_mon_payment_decode(const uint8_t *buf, size_t len, struct lb_mon_payment_tx *p,
			  struct lb_errmsg *em)
{
	struct lb_dec d;
	memset(p, 0, sizeof *p);
	lb_dec_init(&d, buf, len, "monitor.payment payload", em);
	int rc;
	if ((rc = lb_dec_fixed(&d, "provider", p->provider, 32)) ||
	    (rc = lb_dec_uvar(&d, "batch", UINT32_MAX, &p->batch)) ||
	    (rc = lb_dec_uvar(&d, "count", UINT32_MAX, &p->count)) ||
	    (rc = lb_dec_uvar(&d, "price", UINT32_MAX, &p->price)) ||
	    (rc = lb_dec_uvar(&d, "amount", UINT64_MAX, &p->amount)) ||
	    (rc = lb_dec_fixed(&d, "digest", p->digest, 32)) || (rc = lb_dec_end(&d)))
		return rc;
	if (p->batch == 0 || p->count == 0)
		return lb_errf(em, LB_EINVALID, "monitor.payment: batch and count must be >= 1");
	if (p->amount != p->count * p->price)
		return lb_errf(em, LB_EINVALID, "monitor.payment: amount %llu is not count %llu x "
			       "price %llu", (unsigned long long)p->amount,
			       (unsigned long long)p->count, (unsigned long long)p->price);
	return LB_OK;
}

static int check_pay(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_mon_payment_tx p;
	return lb_mon_payment_decode(tx->payload, tx->payload_len, &p, em);
}

/* State: monitor.batch: sender | provider -> last batch recorded; monitor.pay: sender |
 * provider | batch (u64 BE) -> count | price | amount | height. A batch is recorded once and
 * in order, per recording institution (its node key). */
static int apply_pay(struct lb_apply_ctx *c)
{
	struct lb_mon_payment_tx p;
	int rc = lb_mon_payment_decode(c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	uint8_t key[LB_ADDR_LEN + 32 + 8];
	memcpy(key, c->sender_addr, LB_ADDR_LEN);
	memcpy(key + LB_ADDR_LEN, p.provider, 32);
	uint64_t last = 0;
	if ((rc = lb_state_get_u64(c->state, "monitor.batch", key, LB_ADDR_LEN + 32, 0, &last)))
		return rc;
	if (p.batch != last + 1)
		return lb_errf(c->em, p.batch <= last ? (int)LB_EDUPLICATE : (int)LB_EINVALID,
			       "monitor.payment: batch %llu of this provider %s; the next is %llu",
			       (unsigned long long)p.batch,
			       p.batch <= last ? "is already recorded" : "skips batches",
			       (unsigned long long)(last + 1));
	for (int i = 0; i < 8; i++)
		key[LB_ADDR_LEN + 32 + i] = (uint8_t)(p.batch >> (56 - 8 * i));
	struct lb_buf b;
	lb_buf_init(&b, 64);
	if (!(rc = lb_enc_uvar(&b, p.count)) && !(rc = lb_enc_uvar(&b, p.price)) &&
	    !(rc = lb_enc_uvar(&b, p.amount)) && !(rc = lb_enc_uvar(&b, c->height)))
		rc = lb_state_put(c->state, "monitor.pay", key, sizeof key, b.data, b.len);
	lb_buf_release(&b);
	return rc ? rc : lb_state_put_u64(c->state, "monitor.batch", key, LB_ADDR_LEN + 32, p.batch);
}

static json_t *json_pay(const struct lb_tx *tx)
{
	struct lb_mon_payment_tx p;
	char pk[65], dg[65];
	if (lb_mon_payment_decode(tx->payload, tx->payload_len, &p, NULL))
		return NULL;
	lb_hex_encode(pk, p.provider, 32);
	lb_hex_encode(dg, p.digest, 32);
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:s}", "provider", pk, "batch", (json_int_t)p.batch,
			 "count", (json_int_t)p.count, "price", (json_int_t)p.price, "amount",
			 (json_int_t)p.amount, "digest", dg);
}

static const struct lb_txtype mon_types[] = {
	{LB_TX_MONITOR_PAYMENT, LB_CHAIN_BUSINESS, "monitor.payment", check_pay, apply_pay,
	 json_pay, true},
};

int lb_monitor_register_txtypes(void)
{
	return lb_txtype_register_rows(mon_types, 1, false); /* records the block's height */
}
