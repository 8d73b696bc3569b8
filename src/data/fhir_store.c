/*
 * The FHIR resource store of a node (include/leben/fhir.h): one SQLite file; each resource is
 * one row with its search parameters in indexed columns (type+id, patient, primary date,
 * the patient's key) and its codes in a side table, written in the same SQL transaction.
 * Sealed stores keep each resource version as a vault object of its own: the JSON encrypted
 * under a fresh random object key, that key wrapped under the store key in the row's okey
 * column, the object named by the BLAKE2b-256 of the JSON (obj). Purging shreds the object
 * keys in place, deletes the rows and keeps a tombstone per purged id (docs/fhir.md, "Purge").
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "data/data_int.h"
#include "leben/base.h"
#include "leben/fhir.h"

struct lb_fhir_store {
	sqlite3 *db;
	sqlite3_stmt *find, *ins, *upd, *delcode, *inscode, *gone;
	bool sealed;
	bool any_purged;                 /* the tombstone table is not empty */
	json_t *delta;                   /* facet changes of the open transaction (flush_facets) */                     /* resources are written encrypted under key */
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
};

#define SEAL_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS res(rid INTEGER PRIMARY KEY, type TEXT NOT NULL,"
	" id TEXT NOT NULL, version INTEGER NOT NULL, patient TEXT, date TEXT, pkey TEXT,"
	" json TEXT NOT NULL, UNIQUE(type, id));"
	"CREATE INDEX IF NOT EXISTS res_patient ON res(type, patient, date);"
	"CREATE INDEX IF NOT EXISTS res_date ON res(type, date);"
	"CREATE INDEX IF NOT EXISTS res_pkey ON res(pkey) WHERE pkey IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS code(rid INTEGER NOT NULL, type TEXT NOT NULL,"
	" sys TEXT NOT NULL, code TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS code_code ON code(type, code, sys);"
	"CREATE INDEX IF NOT EXISTS code_rid ON code(rid);"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS facet(k TEXT PRIMARY KEY, n INTEGER NOT NULL, lo TEXT,"
	" hi TEXT) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS purged(type TEXT NOT NULL, id TEXT NOT NULL,"
	" at INTEGER NOT NULL, PRIMARY KEY(type, id)) WITHOUT ROWID;"
	"PRAGMA secure_delete=ON;";

#define OKEY_LEN (SEAL_NONCE + 32 + SEAL_TAG)

/* Add the per-object key columns to a store made before them (rows sealed under the store
 * key alone stay readable). */
static int add_object_columns(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool has = false;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('res') WHERE name='okey'", -1,
			       &st, NULL))
		return -1;
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (has)
		return 0;
	return sqlite3_exec(db, "ALTER TABLE res ADD COLUMN okey BLOB; ALTER TABLE res ADD COLUMN "
				"obj BLOB;", NULL, NULL, NULL);
}

static int dberr(struct lb_fhir_store *s, struct lb_errmsg *em, const char *what)
{
	return lb_errf(em, LB_EIO, "FHIR store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* ---- facets: what the directory entry says, counted as resources are written ------------
 * facet rows: "t|<type>" -> resources of the type and their first and last clinical date
 * (YYYY-MM-DD); "c|<system>|<code>" -> resources written with that coding. lb_fhir_put adds
 * to s->delta; the commit adds the delta to the table, so a description costs the number of
 * types and codes, not the store's size. A purge counts again from the index. */

static void bump(struct lb_fhir_store *s, const char *k, json_int_t n, const char *date)
{
	json_t *e = json_object_get(s->delta, k);
	if (!e) {
		e = json_pack("{s:I}", "n", (json_int_t)0);
		if (!e || json_object_set_new(s->delta, k, e))
			return;
	}
	json_object_set_new(e, "n", json_integer(json_integer_value(json_object_get(e, "n")) + n));
	if (!date)
		return;
	char d[11];
	snprintf(d, sizeof d, "%.10s", date);
	const char *lo = json_string_value(json_object_get(e, "lo"));
	const char *hi = json_string_value(json_object_get(e, "hi"));
	if (!lo || strcmp(d, lo) < 0)
		json_object_set_new(e, "lo", json_string(d));
	if (!hi || strcmp(d, hi) > 0)
		json_object_set_new(e, "hi", json_string(d));
}

static int flush_facets(struct lb_fhir_store *s)
{
	if (!json_object_size(s->delta))
		return SQLITE_OK;
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(
		s->db,
		"INSERT INTO facet(k, n, lo, hi) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(k) DO UPDATE SET "
		"n = n + excluded.n, lo = CASE WHEN lo IS NULL OR excluded.lo < lo THEN excluded.lo "
		"ELSE lo END, hi = CASE WHEN hi IS NULL OR excluded.hi > hi THEN excluded.hi ELSE hi "
		"END",
		-1, &st, NULL);
	const char *k;
	json_t *e;
	json_object_foreach(s->delta, k, e) {
		if (r != SQLITE_OK)
			break;
		const char *lo = json_string_value(json_object_get(e, "lo"));
		const char *hi = json_string_value(json_object_get(e, "hi"));
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(e, "n")));
		lo ? sqlite3_bind_text(st, 3, lo, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 3);
		hi ? sqlite3_bind_text(st, 4, hi, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 4);
		r = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	json_object_clear(s->delta);
	return r;
}

/* Count the facets again from the index (a purge; a store written before facets). */
static int recount_facets(struct lb_fhir_store *s)
{
	json_object_clear(s->delta);
	return sqlite3_exec(
		s->db,
		"DELETE FROM facet;"
		"INSERT INTO facet(k, n, lo, hi) SELECT 't|' || type, count(*), substr(min(date), 1, "
		"10), substr(max(date), 1, 10) FROM res GROUP BY type;"
		"INSERT INTO facet(k, n, lo, hi) SELECT 'c|' || sys || '|' || code, count(*), NULL, "
		"NULL FROM code GROUP BY sys, code;",
		NULL, NULL, NULL);
}

int lb_fhir_store_open(struct lb_fhir_store **out, const char *path, struct lb_errmsg *em)
{
	struct lb_fhir_store *s = lb_calloc(1, sizeof *s);
	if (!s)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	if (sqlite3_open(path, &s->db) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(s->db, 10000);
	if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    add_object_columns(s->db) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT rid, version FROM res WHERE type=?1 AND id=?2", -1,
			       &s->find, NULL) ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO res(type,id,version,patient,date,pkey,json,okey,obj) "
			       "VALUES(?1,?2,?3,?4,?5,?6,?7,?9,?10)",
			       -1, &s->ins, NULL) ||
	    sqlite3_prepare_v2(s->db,
			       "UPDATE res SET version=?3, patient=?4, date=?5, pkey=?6, json=?7, "
			       "okey=?9, obj=?10 WHERE rid=?8 AND type=?1 AND id=?2",
			       -1, &s->upd, NULL) ||
	    sqlite3_prepare_v2(s->db, "SELECT at FROM purged WHERE type=?1 AND id=?2", -1,
			       &s->gone, NULL) ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM code WHERE rid=?1", -1, &s->delcode, NULL) ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO code(rid,type,sys,code) VALUES(?1,?2,?3,?4)",
			       -1, &s->inscode, NULL))
		goto fail;
	sqlite3_stmt *any;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM purged LIMIT 1", -1, &any, NULL))
		goto fail;
	s->any_purged = sqlite3_step(any) == SQLITE_ROW;
	sqlite3_finalize(any);
	if (!(s->delta = json_object()))
		goto fail;
	if (sqlite3_prepare_v2(s->db, "SELECT NOT EXISTS(SELECT 1 FROM facet) AND EXISTS(SELECT 1 "
				      "FROM res)", -1, &any, NULL))
		goto fail;
	bool recount = sqlite3_step(any) == SQLITE_ROW && sqlite3_column_int(any, 0);
	sqlite3_finalize(any);
	if (recount && (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ||
			recount_facets(s) || sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL))) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	*out = s;
	return LB_OK;
fail:;
	int rc = lb_errf(em, LB_EIO, "%s: cannot open the FHIR store: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
	lb_fhir_store_close(s);
	return rc;
}

void lb_fhir_store_seal(struct lb_fhir_store *s, const uint8_t key[32])
{
	memcpy(s->key, key, sizeof s->key);
	s->sealed = true;
}

/* The JSON text of column col of a row, whose object key is in column col + 1 (plaintext
 * rows as stored; sealed rows, a BLOB of nonce || ciphertext, opened with the row's object key
 * unwrapped with the store key, or with the store key itself for rows written before object
 * keys). *text is malloc'd (NUL-terminated); LB_ETAMPERED when a sealed row does not open. */
static int row_text(struct lb_fhir_store *s, sqlite3_stmt *st, int col, char **text,
		    size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	*text = NULL;
	if (sqlite3_column_type(st, col) != SQLITE_BLOB) {
		*text = malloc(n + 1);
		if (!*text)
			return LB_ENOMEM;
		memcpy(*text, p ? p : "", n);
		(*text)[n] = 0;
		*len = n;
		return LB_OK;
	}
	if (!s->sealed || n < SEAL_NONCE + SEAL_TAG)
		return LB_ETAMPERED;
	uint8_t k[32];
	const uint8_t *key = s->key;
	const uint8_t *wk = sqlite3_column_blob(st, col + 1);
	if (wk) {
		unsigned long long kl;
		if (sqlite3_column_bytes(st, col + 1) != OKEY_LEN ||
		    crypto_aead_xchacha20poly1305_ietf_decrypt(k, &kl, NULL, wk + SEAL_NONCE,
							       OKEY_LEN - SEAL_NONCE, NULL, 0, wk,
							       s->key) ||
		    kl != sizeof k)
			return LB_ETAMPERED;
		key = k;
	}
	int rc = LB_OK;
	*text = malloc(n - SEAL_NONCE - SEAL_TAG + 1);
	if (!*text) {
		rc = LB_ENOMEM;
		goto out;
	}
	unsigned long long m;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)*text, &m, NULL,
						       (const unsigned char *)p + SEAL_NONCE,
						       n - SEAL_NONCE, NULL, 0, p, key)) {
		free(*text);
		*text = NULL;
		rc = LB_ETAMPERED;
		goto out;
	}
	(*text)[m] = 0;
	*len = (size_t)m;
out:
	sodium_memzero(k, sizeof k);
	return rc;
}

void lb_fhir_store_close(struct lb_fhir_store *s)
{
	if (!s)
		return;
	sodium_memzero(s->key, sizeof s->key);
	sqlite3_finalize(s->find);
	sqlite3_finalize(s->ins);
	sqlite3_finalize(s->upd);
	sqlite3_finalize(s->delcode);
	sqlite3_finalize(s->inscode);
	sqlite3_finalize(s->gone);
	json_decref(s->delta);
	sqlite3_close(s->db);
	lb_free(s);
}

int lb_fhir_begin(struct lb_fhir_store *s, struct lb_errmsg *em)
{
	return sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ? dberr(s, em, "begin")
									 : LB_OK;
}

int lb_fhir_commit(struct lb_fhir_store *s, struct lb_errmsg *em)
{
	if (flush_facets(s))
		return dberr(s, em, "facets");
	return sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) ? dberr(s, em, "commit") : LB_OK;
}

void lb_fhir_rollback(struct lb_fhir_store *s)
{
	json_object_clear(s->delta);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The date a resource is searched by (the first present of its clinical dates). */
static const char *primary_date(const json_t *r)
{
	static const char *const keys[] = {"effectiveDateTime", "effectiveInstant", "issued",
					   "onsetDateTime", "performedDateTime", "occurrenceDateTime",
					   "authoredOn", "dateTime", "recorded", "created",
					   "recordedDate", "birthDate"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = json_string_value(json_object_get(r, keys[i]));
		if (v)
			return v;
	}
	static const char *const periods[] = {"effectivePeriod", "performedPeriod", "period"};
	for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++) {
		const char *v =
			json_string_value(json_object_get(json_object_get(r, periods[i]), "start"));
		if (v)
			return v;
	}
	return NULL;
}

static const char *patient_key(const json_t *r)
{
	const json_t *ids = json_object_get(r, "identifier"), *e;
	size_t i;
	json_array_foreach(ids, i, e) {
		const char *sys = json_string_value(json_object_get(e, "system"));
		if (sys && !strcmp(sys, "urn:leben:key"))
			return json_string_value(json_object_get(e, "value"));
	}
	return NULL;
}

static void now_instant(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char sec[24];
	strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.%03dZ", sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

int lb_fhir_put(struct lb_fhir_store *s, json_t *res, bool *created, struct lb_errmsg *em)
{
	*created = false;
	const char *type = json_string_value(json_object_get(res, "resourceType"));
	const char *id = json_string_value(json_object_get(res, "id"));
	if (!type || !id)
		return lb_errf(em, LB_EINVALID, "a stored resource needs its resourceType and id");
	sqlite3_reset(s->find);
	sqlite3_bind_text(s->find, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->find, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_int64 rid = 0, version = 0;
	int st = sqlite3_step(s->find);
	if (st == SQLITE_ROW) {
		rid = sqlite3_column_int64(s->find, 0);
		version = sqlite3_column_int64(s->find, 1);
	} else if (st != SQLITE_DONE) {
		return dberr(s, em, "look-up");
	}
	sqlite3_reset(s->find);
	size_t plen = 0;
	const char *patient = lb_fhir_patient_of(res, &plen);
	if (s->any_purged) {
		char pid[80];
		snprintf(pid, sizeof pid, "%.*s", (int)(plen < 79 ? plen : 79), patient ? patient : "");
		if (lb_fhir_purged(s, type, id, NULL) || (patient && lb_fhir_purged(s, "Patient", pid, NULL)))
			return lb_errf(em, LB_EDENIED,
				       "%s/%.64s: %s was purged from this node; purged records are not "
				       "written again",
				       type, id,
				       lb_fhir_purged(s, type, id, NULL) ? "this resource"
									  : "its patient");
	}
	*created = rid == 0;
	char vid[24], now[32];
	snprintf(vid, sizeof vid, "%lld", (long long)version + 1);
	now_instant(now);
	json_t *meta = json_object_get(res, "meta");
	if (!json_is_object(meta)) {
		meta = json_object();
		if (!meta || json_object_set_new(res, "meta", meta))
			return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	json_object_set_new(meta, "versionId", json_string(vid));
	json_object_set_new(meta, "lastUpdated", json_string(now));
	char *text = json_dumps(res, JSON_COMPACT);
	if (!text)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	sqlite3_stmt *w = rid ? s->upd : s->ins;
	sqlite3_reset(w);
	sqlite3_bind_text(w, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(w, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(w, 3, version + 1);
	if (patient)
		sqlite3_bind_text(w, 4, patient, (int)plen, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(w, 4);
	const char *date = primary_date(res), *pkey = patient_key(res);
	if (date)
		sqlite3_bind_text(w, 5, date, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(w, 5);
	if (pkey)
		sqlite3_bind_text(w, 6, pkey, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(w, 6);
	size_t n = strlen(text);
	uint8_t obj[32];
	crypto_generichash(obj, sizeof obj, (const unsigned char *)text, n, NULL, 0);
	sqlite3_bind_blob(w, 10, obj, sizeof obj, SQLITE_TRANSIENT);
	if (s->sealed) { /* a vault object: its own key, wrapped under the store key */
		uint8_t *box = malloc(SEAL_NONCE + n + SEAL_TAG), k[32], wk[OKEY_LEN];
		if (!box) {
			free(text);
			return lb_errf(em, LB_ENOMEM, "out of memory");
		}
		crypto_aead_xchacha20poly1305_ietf_keygen(k);
		randombytes_buf(box, SEAL_NONCE);
		crypto_aead_xchacha20poly1305_ietf_encrypt(box + SEAL_NONCE, NULL,
							   (const unsigned char *)text, n, NULL, 0,
							   NULL, box, k);
		randombytes_buf(wk, SEAL_NONCE);
		crypto_aead_xchacha20poly1305_ietf_encrypt(wk + SEAL_NONCE, NULL, k, sizeof k, NULL,
							   0, NULL, wk, s->key);
		sodium_memzero(k, sizeof k);
		sodium_memzero(text, n);
		free(text);
		sqlite3_bind_blob(w, 7, box, (int)(SEAL_NONCE + n + SEAL_TAG), free);
		sqlite3_bind_blob(w, 9, wk, sizeof wk, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_text(w, 7, text, -1, free);
		sqlite3_bind_null(w, 9);
	}
	if (rid)
		sqlite3_bind_int64(w, 8, rid);
	st = sqlite3_step(w);
	sqlite3_reset(w);
	if (st != SQLITE_DONE)
		return dberr(s, em, "write");
	if (!rid)
		rid = sqlite3_last_insert_rowid(s->db);
	sqlite3_reset(s->delcode);
	sqlite3_bind_int64(s->delcode, 1, rid);
	if (sqlite3_step(s->delcode) != SQLITE_DONE)
		return dberr(s, em, "codes");
	char fk[300];
	snprintf(fk, sizeof fk, "t|%s", type);
	bump(s, fk, *created, date);
	const json_t *codings = json_object_get(json_object_get(res, "code"), "coding"), *c;
	size_t i;
	json_array_foreach(codings, i, c) {
		const char *cs = json_string_value(json_object_get(c, "system"));
		const char *cc = json_string_value(json_object_get(c, "code"));
		if (!cc)
			continue;
		snprintf(fk, sizeof fk, "c|%s|%s", cs ? cs : "", cc);
		bump(s, fk, *created, NULL);
		sqlite3_reset(s->inscode);
		sqlite3_bind_int64(s->inscode, 1, rid);
		sqlite3_bind_text(s->inscode, 2, type, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s->inscode, 3, cs ? cs : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s->inscode, 4, cc, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s->inscode) != SQLITE_DONE)
			return dberr(s, em, "codes");
	}
	return LB_OK;
}

int lb_fhir_get(struct lb_fhir_store *s, const char *type, const char *id, json_t **out,
		struct lb_errmsg *em)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db, "SELECT json, okey FROM res WHERE type=?1 AND id=?2", -1, &q,
			       NULL))
		return dberr(s, em, "read");
	sqlite3_bind_text(q, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	int rc = LB_OK, st = sqlite3_step(q);
	if (st == SQLITE_ROW) {
		json_error_t je;
		char *text;
		size_t n;
		rc = row_text(s, q, 0, &text, &n);
		*out = rc ? NULL : json_loadb(text, n, 0, &je);
		free(text);
		if (rc == LB_ETAMPERED)
			rc = lb_errf(em, rc, "FHIR store: %s/%s does not open with this node's key",
				     type, id);
		else if (rc)
			rc = lb_errf(em, rc, "out of memory");
		else if (!*out)
			rc = lb_errf(em, LB_ECORRUPT, "FHIR store: %s/%s does not read back: %s", type,
				     id, je.text);
	} else if (st == SQLITE_DONE) {
		rc = lb_errf(em, LB_ENOTFOUND, "%s/%.64s is not on this node", type, id);
	} else {
		rc = dberr(s, em, "read");
	}
	sqlite3_finalize(q);
	return rc;
}

bool lb_fhir_exists(struct lb_fhir_store *s, const char *type, const char *id)
{
	sqlite3_reset(s->find);
	sqlite3_bind_text(s->find, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->find, 2, id, -1, SQLITE_TRANSIENT);
	bool yes = sqlite3_step(s->find) == SQLITE_ROW;
	sqlite3_reset(s->find);
	return yes;
}

int lb_fhir_date_cond_parse(const char *s, struct lb_fhir_date_cond *c, struct lb_errmsg *em)
{
	static const char *const prefixes[] = {"eq", "ge", "gt", "le", "lt"};
	snprintf(c->prefix, sizeof c->prefix, "eq");
	for (size_t i = 0; i < 5; i++)
		if (!strncmp(s, prefixes[i], 2)) {
			snprintf(c->prefix, sizeof c->prefix, "%s", prefixes[i]);
			s += 2;
			break;
		}
	if (strlen(s) >= sizeof c->value)
		return lb_errf(em, LB_EINVALID, "date: \"%.40s\" is too long for a date", s);
	if (isalpha((unsigned char)s[0]))
		return lb_errf(em, LB_EINVALID,
			       "date: prefix \"%.2s\" is not supported (eq, ge, gt, le, lt)", s);
	char why[160];
	if (!data_fhir_date_check(s, DATA_FHIR_DATETIME, why, sizeof why))
		return lb_errf(em, LB_EINVALID, "date: \"%.40s\" is not a valid date: %s", s, why);
	snprintf(c->value, sizeof c->value, "%s", s);
	return LB_OK;
}

/* The WHERE clause of q (after "WHERE type=?1"), binding from ?2 on in the order of bind(). */
static void where_clause(const struct lb_fhir_query *q, char *w, size_t cap)
{
	size_t n = 0;
	w[0] = 0;
#define ADD(...) (n += (size_t)snprintf(w + n, n < cap ? cap - n : 0, __VA_ARGS__))
	int p = 2;
	if (q->id)
		ADD(" AND id=?%d", p++);
	if (q->patient)
		ADD(" AND patient=?%d", p++);
	if (q->code) {
		if (strchr(q->code, '|')) {
			ADD(" AND rid IN (SELECT rid FROM code WHERE type=?1 AND code=?%d AND sys=?%d)",
			    p, p + 1);
			p += 2;
		} else {
			ADD(" AND rid IN (SELECT rid FROM code WHERE type=?1 AND code=?%d)", p++);
		}
	}
	for (size_t i = 0; i < q->ndates; i++, p++) {
		const char *pf = q->dates[i].prefix;
		if (!strcmp(pf, "ge"))
			ADD(" AND date>=?%d", p);
		else if (!strcmp(pf, "gt"))
			ADD(" AND date>?%d AND substr(date,1,length(?%d))<>?%d", p, p, p);
		else if (!strcmp(pf, "lt"))
			ADD(" AND date<?%d", p);
		else if (!strcmp(pf, "le"))
			ADD(" AND (date<=?%d OR substr(date,1,length(?%d))=?%d)", p, p, p);
		else
			ADD(" AND substr(date,1,length(?%d))=?%d", p, p);
	}
#undef ADD
}

static void bind_query(sqlite3_stmt *st, const struct lb_fhir_query *q)
{
	int p = 1;
	sqlite3_bind_text(st, p++, q->type, -1, SQLITE_STATIC);
	if (q->id)
		sqlite3_bind_text(st, p++, q->id, -1, SQLITE_STATIC);
	if (q->patient)
		sqlite3_bind_text(st, p++, q->patient, -1, SQLITE_STATIC);
	if (q->code) {
		const char *bar = strchr(q->code, '|');
		if (bar) {
			sqlite3_bind_text(st, p++, bar + 1, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, p++, q->code, (int)(bar - q->code), SQLITE_STATIC);
		} else {
			sqlite3_bind_text(st, p++, q->code, -1, SQLITE_STATIC);
		}
	}
	for (size_t i = 0; i < q->ndates; i++)
		sqlite3_bind_text(st, p++, q->dates[i].value, -1, SQLITE_STATIC);
}

int lb_fhir_search(struct lb_fhir_store *s, const struct lb_fhir_query *q, json_t **page,
		   int64_t *next, size_t *total, struct lb_errmsg *em)
{
	char w[1024], sql[1300];
	where_clause(q, w, sizeof w);
	sqlite3_stmt *st;
	if (total) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM res WHERE type=?1%s", w);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
			return dberr(s, em, "search");
		bind_query(st, q);
		*total = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
	}
	snprintf(sql, sizeof sql, "SELECT rid, json, okey FROM res WHERE type=?1%s AND rid>%lld ORDER BY "
		 "rid LIMIT %zu", w, (long long)q->after, q->count + 1);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL))
		return dberr(s, em, "search");
	bind_query(st, q);
	json_t *arr = json_array();
	int rc = arr ? LB_OK : LB_ENOMEM, r;
	int64_t last = 0;
	*next = 0;
	while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if (json_array_size(arr) == q->count) { /* one more: there is a next page */
			*next = last;
			break;
		}
		last = sqlite3_column_int64(st, 0);
		char *text = NULL;
		size_t n;
		json_t *j = row_text(s, st, 1, &text, &n) ? NULL : json_loadb(text, n, 0, NULL);
		free(text);
		if (!j || json_array_append_new(arr, j))
			rc = lb_errf(em, LB_ECORRUPT, "FHIR store: a stored resource does not read back");
	}
	sqlite3_finalize(st);
	if (rc) {
		json_decref(arr);
		return rc == LB_ENOMEM ? lb_errf(em, rc, "out of memory") : rc;
	}
	*page = arr;
	return LB_OK;
}

struct lb_fhir_cursor {
	struct lb_fhir_store *s;
	sqlite3_stmt *st;
};

int lb_fhir_cursor_open(struct lb_fhir_store *s, const char *type, const char *patient,
			struct lb_fhir_cursor **out, struct lb_errmsg *em)
{
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT json, okey FROM res WHERE 1%s%s ORDER BY rid",
		 type ? " AND type=?1" : "", patient ? " AND patient=?2" : "");
	struct lb_fhir_cursor *c = lb_calloc(1, sizeof *c);
	if (!c)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	c->s = s;
	if (sqlite3_prepare_v2(s->db, sql, -1, &c->st, NULL)) {
		lb_free(c);
		return dberr(s, em, "export");
	}
	if (type)
		sqlite3_bind_text(c->st, 1, type, -1, SQLITE_TRANSIENT);
	if (patient)
		sqlite3_bind_text(c->st, 2, patient, -1, SQLITE_TRANSIENT);
	*out = c;
	return LB_OK;
}

int lb_fhir_cursor_next(struct lb_fhir_cursor *c, char **text, size_t *len,
			struct lb_errmsg *em)
{
	*text = NULL;
	int r = sqlite3_step(c->st);
	if (r == SQLITE_DONE)
		return LB_ENOTFOUND;
	if (r != SQLITE_ROW)
		return dberr(c->s, em, "export");
	int rc = row_text(c->s, c->st, 0, text, len);
	if (rc)
		return lb_errf(em, rc, "FHIR store: a stored resource does not %s",
			       rc == LB_ETAMPERED ? "open with this node's key" : "fit in memory");
	return LB_OK;
}

void lb_fhir_cursor_close(struct lb_fhir_cursor *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->st);
	lb_free(c);
}

int lb_fhir_each(struct lb_fhir_store *s, const char *type, const char *patient,
		 int (*fn)(void *ctx, const char *json, size_t len), void *ctx,
		 struct lb_errmsg *em)
{
	struct lb_fhir_cursor *c = NULL;
	int rc = lb_fhir_cursor_open(s, type, patient, &c, em);
	char *text;
	size_t n;
	while (!rc && (rc = lb_fhir_cursor_next(c, &text, &n, em)) == LB_OK) {
		rc = fn(ctx, text, n);
		free(text);
	}
	lb_fhir_cursor_close(c);
	return rc == LB_ENOTFOUND ? LB_OK : rc;
}

int lb_fhir_patient_of_key(struct lb_fhir_store *s, const char *pk_hex, char id[65],
			   struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id FROM res WHERE pkey=?1 AND type='Patient' ORDER BY rid "
			       "LIMIT 1",
			       -1, &st, NULL))
		return dberr(s, em, "key look-up");
	sqlite3_bind_text(st, 1, pk_hex, -1, SQLITE_STATIC);
	int rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(id, 65, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = LB_OK;
	} else {
		rc = lb_errf(em, LB_ENOTFOUND, "no Patient on this node has the key %.16s...",
			     pk_hex);
	}
	sqlite3_finalize(st);
	return rc;
}

json_t *lb_fhir_store_counts(struct lb_fhir_store *s)
{
	json_t *o = json_object();
	sqlite3_stmt *st;
	if (!o || sqlite3_prepare_v2(s->db, "SELECT type, count(*) FROM res GROUP BY type", -1,
				     &st, NULL))
		return o;
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
				    json_integer(sqlite3_column_int64(st, 1)));
	sqlite3_finalize(st);
	return o;
}

json_t *lb_fhir_store_facets(struct lb_fhir_store *s)
{
	json_t *o = json_object(), *types = json_object(), *codes = json_array();
	sqlite3_stmt *st;
	json_int_t volume = 0;
	char lo[11] = "", hi[11] = "";
	json_object_set_new(o, "types", types);
	json_object_set_new(o, "codes", codes);
	if (!sqlite3_prepare_v2(s->db, "SELECT k, n, lo, hi FROM facet WHERE k >= 't|' AND k < "
				       "'t}' AND n > 0", -1, &st, NULL)) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0) + 2;
			json_int_t n = sqlite3_column_int64(st, 1);
			const char *a = (const char *)sqlite3_column_text(st, 2);
			const char *b = (const char *)sqlite3_column_text(st, 3);
			volume += n;
			json_object_set_new(types, t, json_integer(n));
			if (!strcmp(t, "Provenance") || !strcmp(t, "AuditEvent"))
				continue; /* the node's own records, not clinical dates */
			if (a && (!lo[0] || strcmp(a, lo) < 0))
				snprintf(lo, sizeof lo, "%.10s", a);
			if (b && (!hi[0] || strcmp(b, hi) > 0))
				snprintf(hi, sizeof hi, "%.10s", b);
		}
		sqlite3_finalize(st);
	}
	if (!sqlite3_prepare_v2(s->db, "SELECT substr(k, 3) FROM facet WHERE k >= 'c|' AND k < "
				       "'c}' AND n > 0 ORDER BY k LIMIT 200", -1, &st, NULL)) {
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(codes,
					      json_string((const char *)sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
	}
	json_object_set_new(o, "volume", json_integer(volume));
	json_object_set_new(o, "patients",
			    json_integer(json_integer_value(json_object_get(types, "Patient"))));
	if (lo[0])
		json_object_set_new(o, "date_min", json_string(lo));
	if (hi[0])
		json_object_set_new(o, "date_max", json_string(hi));
	return o;
}

int64_t lb_fhir_meta_get(struct lb_fhir_store *s, const char *key)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key=?1", -1, &st, NULL))
		return 0;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int lb_fhir_meta_put(struct lb_fhir_store *s, const char *key, int64_t value,
		     struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1,
			       &st, NULL))
		return dberr(s, em, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, value);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? LB_OK : dberr(s, em, "meta");
}

/* ---- purge ---------------------------------------------------------------------------- */

bool lb_fhir_purged(struct lb_fhir_store *s, const char *type, const char *id, int64_t *at_ms)
{
	if (!s->any_purged)
		return false;
	sqlite3_reset(s->gone);
	sqlite3_bind_text(s->gone, 1, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->gone, 2, id, -1, SQLITE_TRANSIENT);
	bool gone = sqlite3_step(s->gone) == SQLITE_ROW;
	if (gone && at_ms)
		*at_ms = sqlite3_column_int64(s->gone, 0);
	sqlite3_reset(s->gone);
	return gone;
}

int lb_fhir_patients(struct lb_fhir_store *s, int (*fn)(void *ctx, const char *patient),
		     void *ctx, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT id FROM res WHERE type='Patient' ORDER BY rid", -1,
			       &st, NULL))
		return dberr(s, em, "patients");
	int rc = LB_OK;
	while (!rc && sqlite3_step(st) == SQLITE_ROW)
		rc = fn(ctx, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc;
}

/* The Provenance records naming purged resources (gone: "Type/id" -> true) lose those
 * targets (written again as a new version, under a new object key; the old row's cell is
 * overwritten in place); one left without a target is destroyed as well (*n, fn). */
static int purge_provenance(struct lb_fhir_store *s, const json_t *gone,
			    void (*fn)(void *ctx, const char *type, const char *id,
				       const uint8_t obj[32]),
			    void *ctx, size_t *n, sqlite3_stmt *shred, sqlite3_stmt *del,
			    struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT rid, json, okey, obj FROM res WHERE "
				      "type='Provenance'", -1, &st, NULL))
		return dberr(s, em, "purge: provenance");
	json_t *edit = json_array(), *drop = json_array();
	int rc = LB_OK;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		char *text = NULL;
		size_t len;
		if (row_text(s, st, 1, &text, &len))
			continue;
		json_t *pv = json_loadb(text, len, 0, NULL), *tg = json_object_get(pv, "target"), *e;
		free(text);
		json_t *keep = json_array();
		size_t i;
		json_array_foreach(tg, i, e) {
			const char *r = json_string_value(json_object_get(e, "reference"));
			if (!r || !json_object_get(gone, r))
				json_array_append(keep, e);
		}
		if (json_array_size(keep) == json_array_size(tg)) {
			json_decref(keep);
		} else if (json_array_size(keep)) {
			json_object_set_new(pv, "target", keep);
			json_array_append(edit, pv);
		} else {
			json_decref(keep);
			const uint8_t *obj = sqlite3_column_blob(st, 3);
			char hex[65] = "";
			if (obj && sqlite3_column_bytes(st, 3) == 32)
				lb_hex_encode(hex, obj, 32);
			json_array_append_new(drop, json_pack("{s:I,s:s,s:s}", "rid",
							      (json_int_t)sqlite3_column_int64(st, 0),
							      "id", json_string_value(json_object_get(pv, "id")),
							      "obj", hex));
		}
		json_decref(pv);
	}
	sqlite3_finalize(st);
	size_t i;
	json_t *e;
	json_array_foreach(edit, i, e) {
		bool created;
		if (!rc)
			rc = lb_fhir_put(s, e, &created, em);
	}
	uint8_t junk[OKEY_LEN] = {0};
	json_array_foreach(drop, i, e) {
		sqlite3_int64 rid = json_integer_value(json_object_get(e, "rid"));
		sqlite3_reset(shred);
		sqlite3_bind_int64(shred, 1, rid);
		sqlite3_bind_blob(shred, 2, junk, sizeof junk, SQLITE_TRANSIENT);
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 1, rid);
		if (!rc && (sqlite3_step(shred) != SQLITE_DONE || sqlite3_step(del) != SQLITE_DONE))
			rc = dberr(s, em, "purge: provenance");
		uint8_t obj[32] = {0};
		lb_hex_decode(obj, 32, json_string_value(json_object_get(e, "obj")));
		if (!rc && fn)
			fn(ctx, "Provenance", json_string_value(json_object_get(e, "id")), obj);
		if (!rc)
			(*n)++;
	}
	json_decref(edit);
	json_decref(drop);
	return rc;
}

int lb_fhir_purge(struct lb_fhir_store *s, const char *patient,
		  void (*fn)(void *ctx, const char *type, const char *id, const uint8_t obj[32]),
		  void *ctx, size_t *n, struct lb_errmsg *em)
{
	*n = 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	const char *which = patient ? " WHERE patient=?1 OR (type='Patient' AND id=?1)" : "";
	char sql[300];
	sqlite3_stmt *sel = NULL, *shred = NULL, *del = NULL, *delc = NULL, *tomb = NULL;
	int rc = lb_fhir_begin(s, em);
	if (rc)
		return rc;
	json_t *gone = patient ? json_object() : NULL; /* "Type/id" of what was destroyed */
	snprintf(sql, sizeof sql, "SELECT rid, type, id, obj FROM res%s", which);
	if (sqlite3_prepare_v2(s->db, sql, -1, &sel, NULL) ||
	    /* the object key overwritten in place (random bytes, then zeros), then the row gone:
	     * secure_delete zeroes the freed cells */
	    sqlite3_prepare_v2(s->db, "UPDATE res SET okey=CASE WHEN okey IS NULL THEN NULL ELSE "
				      "?2 END WHERE rid=?1", -1, &shred, NULL) ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM res WHERE rid=?1", -1, &del, NULL) ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM code WHERE rid=?1", -1, &delc, NULL) ||
	    sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO purged(type, id, at) VALUES(?1,?2,?3)",
			       -1, &tomb, NULL)) {
		rc = dberr(s, em, "purge");
		goto out;
	}
	if (patient)
		sqlite3_bind_text(sel, 1, patient, -1, SQLITE_TRANSIENT);
	uint8_t junk[OKEY_LEN];
	while (!rc && sqlite3_step(sel) == SQLITE_ROW) {
		sqlite3_int64 rid = sqlite3_column_int64(sel, 0);
		const char *type = (const char *)sqlite3_column_text(sel, 1);
		const char *id = (const char *)sqlite3_column_text(sel, 2);
		const uint8_t *obj = sqlite3_column_blob(sel, 3);
		uint8_t zero[32] = {0};
		for (int pass = 0; pass < 2 && !rc; pass++) {
			if (pass)
				memset(junk, 0, sizeof junk);
			else
				randombytes_buf(junk, sizeof junk);
			sqlite3_reset(shred);
			sqlite3_bind_int64(shred, 1, rid);
			sqlite3_bind_blob(shred, 2, junk, sizeof junk, SQLITE_TRANSIENT);
			if (sqlite3_step(shred) != SQLITE_DONE)
				rc = dberr(s, em, "purge: shredding a key");
		}
		sqlite3_stmt *steps[] = {del, delc};
		for (size_t i = 0; i < 2 && !rc; i++) {
			sqlite3_reset(steps[i]);
			sqlite3_bind_int64(steps[i], 1, rid);
			if (sqlite3_step(steps[i]) != SQLITE_DONE)
				rc = dberr(s, em, "purge: deleting");
		}
		if (rc)
			break;
		sqlite3_reset(tomb);
		sqlite3_bind_text(tomb, 1, type, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(tomb, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(tomb, 3, now);
		if (sqlite3_step(tomb) != SQLITE_DONE) {
			rc = dberr(s, em, "purge: tombstone");
			break;
		}
		if (gone) {
			char ref[200];
			snprintf(ref, sizeof ref, "%s/%s", type, id);
			json_object_set_new(gone, ref, json_true());
		}
		if (fn)
			fn(ctx, type, id, obj && sqlite3_column_bytes(sel, 3) == 32 ? obj : zero);
		(*n)++;
	}
	if (!rc && patient && json_object_size(gone))
		rc = purge_provenance(s, gone, fn, ctx, n, shred, del, em);
	if (!rc && patient) { /* the patient's id stays refused even when nothing was held */
		sqlite3_reset(tomb);
		sqlite3_bind_text(tomb, 1, "Patient", -1, SQLITE_STATIC);
		sqlite3_bind_text(tomb, 2, patient, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(tomb, 3, now);
		if (sqlite3_step(tomb) != SQLITE_DONE)
			rc = dberr(s, em, "purge: tombstone");
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(shred);
	sqlite3_finalize(del);
	sqlite3_finalize(delc);
	sqlite3_finalize(tomb);
	json_decref(gone);
	if (!rc && recount_facets(s))
		rc = dberr(s, em, "purge: facets");
	if (rc) {
		lb_fhir_rollback(s);
		return rc;
	}
	if ((rc = lb_fhir_commit(s, em)))
		return rc;
	s->any_purged = true;
	/* the write-ahead log held the rows' pages: checkpoint it into the (zeroed) file */
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return LB_OK;
}
