/*
 * Catalogue search on SQLite FTS5: one FTS row per public entry with four columns (basic,
 * semantic, codes, data) ranked by bm25() weighted per facet, attribute rows for filters, a
 * synonym table consulted at indexing (code -> terms) and at query time (n-grams -> group),
 * and typo tolerance through the fts5vocab table (Damerau-Levenshtein distance 1 for words of
 * 4-7 letters, 2 from 8 letters, same first letter).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "data/data_int.h"
#include "leben/data_search.h"

#define W_BASIC 3.0
#define W_SEMANTIC 2.0
#define W_CODES 2.0
#define W_DATA 1.0

struct lb_catalog {
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS entry(id INTEGER PRIMARY KEY, asset_id TEXT UNIQUE NOT NULL,"
	" name TEXT NOT NULL, json TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS attr(id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,"
	" num REAL);"
	"CREATE INDEX IF NOT EXISTS attr_kv ON attr(key, value);"
	"CREATE INDEX IF NOT EXISTS attr_id ON attr(id);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(basic, semantic, codes, data,"
	" tokenize='unicode61 remove_diacritics 2');"
	"CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'row');"
	"CREATE TABLE IF NOT EXISTS syn(grp INTEGER NOT NULL, term TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS syn_term ON syn(term);"
	"CREATE INDEX IF NOT EXISTS syn_grp ON syn(grp);"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

static int dberr(struct lb_catalog *c, struct lb_errmsg *em, const char *what)
{
	return lb_errf(em, LB_EIO, "catalogue: %s: %s", what, sqlite3_errmsg(c->db));
}

int lb_catalog_open(const char *path, struct lb_catalog **out, struct lb_errmsg *em)
{
	struct lb_catalog *c = lb_calloc(1, sizeof *c);
	if (!c)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	if (sqlite3_open(path, &c->db) != SQLITE_OK ||
	    sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		int rc = lb_errf(em, LB_EIO, "%s: cannot open the catalogue: %s", path,
				 c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		lb_free(c);
		return rc;
	}
	sqlite3_busy_timeout(c->db, 5000);
	/* Broad queries rank tens of thousands of matches: with SQLite's default 2 MB page cache
	 * every search re-read the index pages from the OS (most of its time went into pread).
	 * Map the file and keep a larger cache. */
	sqlite3_exec(c->db, "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;", NULL, NULL,
		     NULL);
	/* facet weights as the default rank, so ORDER BY rank uses FTS5's own sorter */
	sqlite3_exec(c->db, "INSERT INTO fts(fts, rank) VALUES('rank', 'bm25(3.0, 2.0, 2.0, 1.0)')",
		     NULL, NULL, NULL);
	*out = c;
	return LB_OK;
}

void lb_catalog_close(struct lb_catalog *c)
{
	if (!c)
		return;
	sqlite3_close(c->db);
	lb_free(c);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Normalised synonym key: lower case words joined by one space. */
static void syn_key(const char *in, char *out, size_t cap)
{
	size_t pos = 0, o = 0, len = strlen(in);
	char w[64];
	out[0] = 0;
	while (pos < len) {
		size_t n = data_next_word(in, len, &pos, w, sizeof w);
		if (!n)
			continue;
		if (o + n + 2 >= cap)
			break;
		if (o)
			out[o++] = ' ';
		memcpy(out + o, w, n);
		o += n;
		out[o] = 0;
	}
}

int lb_catalog_add_synonyms(struct lb_catalog *c, const char *const *terms, size_t n,
			    struct lb_errmsg *em)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 grp = 1;
	if (sqlite3_prepare_v2(c->db, "SELECT coalesce(max(grp),0)+1 FROM syn", -1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return dberr(c, em, "synonyms");
	}
	grp = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(c->db, "INSERT INTO syn(grp, term) VALUES(?, ?)", -1, &st, NULL))
		return dberr(c, em, "synonyms");
	for (size_t i = 0; i < n; i++) {
		char key[512];
		syn_key(terms[i], key, sizeof key);
		if (!key[0])
			continue;
		sqlite3_bind_int64(st, 1, grp);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return dberr(c, em, "synonyms");
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return LB_OK;
}

int lb_catalog_import_snomed(struct lb_catalog *c, const struct lb_snomed *s,
			     struct lb_errmsg *em)
{
	/* Walk the concepts through their descriptions: ids are not exposed as a list, so take
	 * them from the description order (grouped by concept). */
	sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
	int rc = LB_OK;
	for (size_t i = 0; !rc && i < lb_snomed_concepts(s); i++) {
		uint64_t id = data_snomed_concept_at(s, i);
		bool active;
		if (!lb_snomed_concept(s, id, &active) || !active)
			continue;
		const char *terms[66];
		char buf[64][256], idtxt[32], sys[40];
		size_t n = 0;
		const char *t;
		uint64_t type;
		for (size_t k = 0; n < 62 && lb_snomed_description(s, id, k, &t, &type); k++) {
			snprintf(buf[n], sizeof buf[n], "%s", t);
			char *paren = strrchr(buf[n], '(');
			if (paren && paren > buf[n] && strchr(paren, ')')) /* "(disorder)" tag */
				*paren = 0;
			terms[n] = buf[n];
			n++;
			/* "HBP - High blood pressure": the abbreviation is a term of its own */
			char *dash = strstr(buf[n - 1], " - ");
			if (dash && n < 62) {
				snprintf(buf[n], sizeof buf[n], "%s", dash + 3);
				*dash = 0;
				terms[n] = buf[n];
				n++;
			}
		}
		snprintf(idtxt, sizeof idtxt, "%llu", (unsigned long long)id);
		snprintf(sys, sizeof sys, "snomed %llu", (unsigned long long)id);
		terms[n++] = idtxt;
		terms[n++] = sys;
		if (n > 2)
			rc = lb_catalog_add_synonyms(c, terms, n, em);
	}
	sqlite3_exec(c->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	return rc;
}

int lb_catalog_import_icd10(struct lb_catalog *c, const struct lb_icd10_table *t,
			    struct lb_errmsg *em)
{
	sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
	int rc = LB_OK;
	for (size_t i = 0; !rc && i < lb_icd10_table_size(t); i++) {
		struct lb_icd10_entry e;
		lb_icd10_table_entry(t, i, &e);
		char sys[32];
		snprintf(sys, sizeof sys, "icd10cm %s", e.code);
		const char *terms[4] = {e.code, sys, e.short_desc, e.long_desc};
		rc = lb_catalog_add_synonyms(c, terms, 4, em);
	}
	sqlite3_exec(c->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* Terms of every group that contains key, appended to b separated by " ; ". */
static int synonyms_of(struct lb_catalog *c, const char *key, struct lb_buf *b, size_t *count)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT DISTINCT s2.term FROM syn s1 JOIN syn s2 ON s1.grp = s2.grp "
			       "WHERE s1.term = ? AND s2.term <> s1.term LIMIT 64",
			       -1, &st, NULL))
		return LB_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	int rc = LB_OK;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		rc = lb_buf_addf(b, "%s%s", b->len ? " ; " : "", sqlite3_column_text(st, 0));
		if (count)
			(*count)++;
	}
	sqlite3_finalize(st);
	return rc;
}

static int add_attr(sqlite3_stmt *st, sqlite3_int64 id, const char *key, const char *val,
		    double num, bool has_num)
{
	char lv[512];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	if (val) {
		snprintf(lv, sizeof lv, "%s", val);
		lower(lv);
		sqlite3_bind_text(st, 3, lv, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(st, 3);
	}
	if (has_num)
		sqlite3_bind_double(st, 4, num);
	else
		sqlite3_bind_null(st, 4);
	int rc = sqlite3_step(st) == SQLITE_DONE ? LB_OK : LB_EIO;
	sqlite3_reset(st);
	return rc;
}

int lb_catalog_put(struct lb_catalog *c, const char *asset_id, const struct lb_hexa *h,
		   struct lb_errmsg *em)
{
	if (h->present & ~h->public_mask)
		return lb_errf(em, LB_EINVALID, "%s: only public fields go into the catalogue",
			       asset_id);
	const char *name = lb_hexa_get_str(h, "basic.name");
	if (!name)
		return lb_errf(em, LB_EINVALID, "%s: basic.name is required", asset_id);
	struct lb_buf col[4];
	for (int i = 0; i < 4; i++)
		lb_buf_init(&col[i], 1 << 20);
	int rc = LB_OK;
	for (int id = 1; !rc && id <= LB_HEXA_NFIELDS; id++) {
		if (!(h->present >> id & 1))
			continue;
		const char *fname = lb_hexa_field_name(id);
		int which = !strncmp(fname, "basic.", 6)      ? 0
			    : !strcmp(fname, "semantic.codes") ? 2
			    : !strncmp(fname, "semantic.", 9) ? 1
			    : !strncmp(fname, "data.", 5)     ? 3
							      : -1;
		const struct lb_hexa_value *v = &h->v[id];
		enum lb_hexa_type t = lb_hexa_field_type(id);
		if (which < 0 || t == LB_HT_U64)
			continue;
		struct lb_buf *b = &col[which];
		if (t == LB_HT_STR)
			rc = lb_buf_addf(b, "%s\n", v->s);
		for (size_t k = 0; !rc && (t == LB_HT_LIST || t == LB_HT_MAP) && k < v->n; k++) {
			rc = lb_buf_addf(b, "%s%s%s\n", v->keys[k], t == LB_HT_MAP ? " " : "",
					 t == LB_HT_MAP ? v->vals[k] : "");
			if (!rc && id == lb_hexa_field_id("semantic.codes")) {
				/* code -> its terms, so "heart attack" finds snomed|22298006 */
				char key[512];
				syn_key(v->keys[k], key, sizeof key);
				rc = synonyms_of(c, key, &col[1], NULL);
				if (!rc && col[1].len)
					rc = lb_buf_addc(&col[1], '\n');
			}
		}
	}
	if (rc) {
		for (int i = 0; i < 4; i++)
			lb_buf_release(&col[i]);
		return lb_errf(em, rc, "%s: cannot index the entry", asset_id);
	}
	json_t *j = lb_hexa_to_json(h);
	char *js = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	sqlite3_stmt *st = NULL;
	sqlite3_int64 rowid = 0;
	sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	rc = lb_catalog_remove(c, asset_id, em);
	if (!rc && (sqlite3_prepare_v2(c->db, "INSERT INTO entry(asset_id, name, json) VALUES(?,?,?)",
				       -1, &st, NULL) ||
		    sqlite3_bind_text(st, 1, asset_id, -1, SQLITE_TRANSIENT) ||
		    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT) ||
		    sqlite3_bind_text(st, 3, js ? js : "{}", -1, SQLITE_TRANSIENT) ||
		    sqlite3_step(st) != SQLITE_DONE))
		rc = dberr(c, em, "insert");
	sqlite3_finalize(st);
	free(js);
	rowid = sqlite3_last_insert_rowid(c->db);
	if (!rc && (sqlite3_prepare_v2(c->db, "INSERT INTO fts(rowid, basic, semantic, codes, data) "
					      "VALUES(?,?,?,?,?)",
				       -1, &st, NULL) ||
		    sqlite3_bind_int64(st, 1, rowid)))
		rc = dberr(c, em, "index");
	for (int i = 0; !rc && i < 4; i++)
		sqlite3_bind_text(st, 2 + i, col[i].data ? (const char *)col[i].data : "", -1,
				  SQLITE_TRANSIENT);
	if (!rc && sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(c, em, "index");
	sqlite3_finalize(st);
	st = NULL;
	if (!rc && sqlite3_prepare_v2(c->db, "INSERT INTO attr(id, key, value, num) VALUES(?,?,?,?)",
				      -1, &st, NULL))
		rc = dberr(c, em, "attributes");
	for (int id = 1; !rc && id <= LB_HEXA_NFIELDS; id++) {
		if (!(h->present >> id & 1))
			continue;
		const char *key = strchr(lb_hexa_field_name(id), '.') + 1;
		const struct lb_hexa_value *v = &h->v[id];
		switch (lb_hexa_field_type(id)) {
		case LB_HT_STR:
			rc = add_attr(st, rowid, key, v->s, 0, false);
			break;
		case LB_HT_U64: {
			char num[32];
			snprintf(num, sizeof num, "%llu", (unsigned long long)v->u);
			rc = add_attr(st, rowid, key, num, (double)v->u, true);
			break;
		}
		case LB_HT_LIST:
			for (size_t k = 0; !rc && k < v->n; k++)
				rc = add_attr(st, rowid, id == lb_hexa_field_id("semantic.codes")
								? "code"
								: "keyword",
					      v->keys[k], 0, false);
			break;
		case LB_HT_MAP:
			for (size_t k = 0; !rc && k < v->n; k++) {
				double num;
				bool isnum = data_parse_number(v->vals[k], strlen(v->vals[k]), &num,
							       NULL);
				rc = add_attr(st, rowid, v->keys[k], v->vals[k], num, isnum);
			}
			break;
		case LB_HT_HASH32:
			if (id == lb_hexa_field_id("raw.blake2b")) {
				char hex[65];
				lb_hex_encode(hex, v->b, 32);
				rc = add_attr(st, rowid, "blake2b", hex, 0, false);
			}
			break;
		default:
			break;
		}
		if (rc)
			rc = dberr(c, em, "attributes");
	}
	sqlite3_finalize(st);
	sqlite3_exec(c->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	for (int i = 0; i < 4; i++)
		lb_buf_release(&col[i]);
	return rc;
}

int lb_catalog_remove(struct lb_catalog *c, const char *asset_id, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "SELECT id FROM entry WHERE asset_id = ?", -1, &st, NULL))
		return dberr(c, em, "remove");
	sqlite3_bind_text(st, 1, asset_id, -1, SQLITE_TRANSIENT);
	sqlite3_int64 id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	if (id < 0)
		return LB_OK;
	char sql[256];
	snprintf(sql, sizeof sql,
		 "DELETE FROM fts WHERE rowid = %lld; DELETE FROM attr WHERE id = %lld;"
		 "DELETE FROM entry WHERE id = %lld;",
		 (long long)id, (long long)id, (long long)id);
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? LB_OK
									: dberr(c, em, "remove");
}

size_t lb_catalog_count(struct lb_catalog *c)
{
	sqlite3_stmt *st;
	size_t n = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM entry", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Damerau-Levenshtein (optimal string alignment) distance, capped at 3. */
int lb_search_edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 40 || m > 40)
		return 3;
	int d[41][41];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m] > 3 ? 3 : d[n][m];
}

static bool in_vocab(struct lb_catalog *c, const char *w)
{
	sqlite3_stmt *st;
	bool found = false;
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM vocab WHERE term = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, w, -1, SQLITE_TRANSIENT);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* Append index terms within the allowed edit distance of w as OR alternatives. */
static int typo_alternatives(struct lb_catalog *c, const char *w, struct lb_buf *q)
{
	size_t len = strlen(w);
	int maxd = len >= 8 ? 2 : len >= 4 ? 1 : 0;
	if (!maxd)
		return LB_OK;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT term FROM vocab WHERE term >= ? AND term < ? AND "
			       "length(term) BETWEEN ? AND ?",
			       -1, &st, NULL))
		return LB_EIO;
	char lo[2] = {w[0], 0}, hi[2] = {(char)(w[0] + 1), 0};
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, (int)len - maxd);
	sqlite3_bind_int(st, 4, (int)len + maxd);
	int rc = LB_OK;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (lb_search_edit_distance(w, t) <= maxd)
			rc = lb_buf_addf(q, " OR \"%s\"", t);
	}
	sqlite3_finalize(st);
	return rc;
}

static bool is_stop(const char *w)
{
	static const char *const stop[] = {"a", "an", "the", "of", "for", "with", "and", "in",
					   "on", "to", "from", "by", "data", "dataset", NULL};
	for (size_t i = 0; stop[i]; i++)
		if (!strcmp(w, stop[i]))
			return true;
	return false;
}

/* Quote a synonym term as an FTS5 phrase of its words. */
static int add_phrase(struct lb_buf *q, const char *term)
{
	int rc = lb_buf_addc(q, '"');
	for (const char *p = term; !rc && *p; p++)
		rc = lb_buf_addc(q, *p == '"' ? ' ' : (uint8_t)*p);
	return rc ? rc : lb_buf_addc(q, '"');
}

/* Build the FTS5 query: AND over query words (stop words dropped); a run of words that is a
 * synonym term becomes (phrase OR its synonyms); a word unknown to the index also matches
 * index terms one or two edits away. */
static int build_query(struct lb_catalog *c, const char *query, const struct lb_search_options *o,
		       bool use_or, struct lb_buf *q)
{
	char words[32][64];
	size_t nw = 0, pos = 0, len = strlen(query);
	while (pos < len && nw < 32) {
		if (data_next_word(query, len, &pos, words[nw], sizeof words[nw]) && !is_stop(words[nw]))
			nw++;
	}
	int rc = LB_OK;
	for (size_t i = 0; !rc && i < nw;) {
		size_t used = 1;
		struct lb_buf alt;
		lb_buf_init(&alt, 1 << 16);
		if (!o->no_synonyms) {
			/* longest n-gram (up to 4 words) that is a synonym term */
			for (size_t k = (nw - i < 4 ? nw - i : 4); k >= 1; k--) {
				char key[300] = "";
				for (size_t t = 0; t < k; t++) {
					strcat(key, t ? " " : "");
					strcat(key, words[i + t]);
				}
				size_t cnt = 0;
				lb_buf_reset(&alt);
				rc = synonyms_of(c, key, &alt, &cnt);
				if (rc || cnt) {
					used = k;
					break;
				}
			}
		}
		if (!rc)
			rc = lb_buf_adds(q, q->len ? (use_or ? " OR (" : " AND (") : "(");
		char phrase[300] = "";
		for (size_t t = 0; t < used; t++) {
			strcat(phrase, t ? " " : "");
			strcat(phrase, words[i + t]);
		}
		if (!rc)
			rc = add_phrase(q, phrase);
		if (!rc && used == 1 && !o->no_typos && !in_vocab(c, words[i]))
			rc = typo_alternatives(c, words[i], q);
		/* synonyms: split the " ; "-joined list */
		char *s = alt.data ? (char *)alt.data : NULL;
		while (!rc && s && *s) {
			char *sep = strstr(s, " ; ");
			if (sep)
				*sep = 0;
			rc = lb_buf_adds(q, " OR ");
			if (!rc)
				rc = add_phrase(q, s);
			s = sep ? sep + 3 : NULL;
		}
		lb_buf_release(&alt);
		if (!rc)
			rc = lb_buf_addc(q, ')');
		i += used;
	}
	return rc;
}

static int add_filters(const struct lb_search_options *o, struct lb_buf *sql, struct lb_errmsg *em)
{
	int rc = LB_OK;
	for (size_t i = 0; !rc && i < o->nwhere; i++) {
		const char *w = o->where[i];
		const char *op = strpbrk(w, "<>=");
		if (!op || op == w)
			return lb_errf(em, LB_ESYNTAX, "filter \"%s\": write key=value, key<=number or "
						       "key>=number",
				       w);
		bool cmp = (op[0] == '<' || op[0] == '>') && op[1] == '=';
		if (!cmp && op[0] != '=')
			return lb_errf(em, LB_ESYNTAX, "filter \"%s\": use =, <= or >=", w);
		rc = lb_buf_addf(sql, " AND EXISTS (SELECT 1 FROM attr a WHERE a.id = e.id AND "
				      "a.key = ?%zu AND %s)",
				 2 * i + 3, cmp ? (op[0] == '<' ? "a.num <= ?" : "a.num >= ?")
						: "a.value = ?");
		if (!rc) {
			/* numbered parameters: key ?(2i+3), value ?(2i+4) */
			char *last = strrchr((char *)sql->data, '?');
			size_t at = (size_t)(last - (char *)sql->data) + 1;
			char num[16];
			snprintf(num, sizeof num, "%zu)", 2 * i + 4);
			sql->len = at;
			rc = lb_buf_adds(sql, num);
		}
	}
	return rc;
}

static int bind_filters(sqlite3_stmt *st, const struct lb_search_options *o)
{
	for (size_t i = 0; i < o->nwhere; i++) {
		const char *w = o->where[i], *op = strpbrk(w, "<>=");
		bool cmp = op[0] != '=';
		char key[128], val[256];
		snprintf(key, sizeof key, "%.*s", (int)(op - w), w);
		snprintf(val, sizeof val, "%s", op + (cmp ? 2 : 1));
		lower(key);
		lower(val);
		sqlite3_bind_text(st, (int)(2 * i + 3), key, -1, SQLITE_TRANSIENT);
		if (cmp)
			sqlite3_bind_double(st, (int)(2 * i + 4), strtod(val, NULL));
		else
			sqlite3_bind_text(st, (int)(2 * i + 4), val, -1, SQLITE_TRANSIENT);
	}
	return LB_OK;
}

int lb_catalog_search(struct lb_catalog *c, const char *query, const struct lb_search_options *opt,
		      struct lb_search_hit **hits, size_t *n, struct lb_buf *expanded,
		      struct lb_errmsg *em)
{
	struct lb_search_options o = {0};
	if (opt)
		o = *opt;
	if (!o.limit)
		o.limit = 20;
	*hits = NULL;
	*n = 0;
	int rc = LB_OK;
	for (int attempt = 0; attempt < 2 && !rc && *n == 0; attempt++) {
		struct lb_buf q, sql;
		lb_buf_init(&q, 1 << 20);
		lb_buf_init(&sql, 1 << 20);
		rc = build_query(c, query ? query : "", &o, attempt == 1, &q);
		bool fts = q.len > 0;
		if (!rc)
			rc = lb_buf_adds(&sql, fts ? "SELECT e.asset_id, e.name, -fts.rank AS s FROM fts "
						     "JOIN entry e ON e.id = fts.rowid WHERE fts "
						     "MATCH ?1"
						   : "SELECT e.asset_id, e.name, 0.0 AS s FROM entry e "
						     "WHERE ?1 IS NULL");
		if (!rc)
			rc = add_filters(&o, &sql, em);
		if (!rc)
			rc = lb_buf_addf(&sql, fts ? " ORDER BY fts.rank, e.asset_id LIMIT ?2"
						   : " ORDER BY e.asset_id LIMIT ?2");
		sqlite3_stmt *st = NULL;
		if (!rc && sqlite3_prepare_v2(c->db, (const char *)sql.data, -1, &st, NULL))
			rc = dberr(c, em, "search");
		if (!rc) {
			if (fts)
				sqlite3_bind_text(st, 1, (const char *)q.data, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, 1);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)o.limit);
			bind_filters(st, &o);
			*hits = lb_calloc(o.limit, sizeof **hits);
			if (!*hits)
				rc = lb_errf(em, LB_ENOMEM, "out of memory");
			int s;
			while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
				struct lb_search_hit *h = &(*hits)[(*n)++];
				snprintf(h->asset_id, sizeof h->asset_id, "%s", sqlite3_column_text(st, 0));
				snprintf(h->name, sizeof h->name, "%s", sqlite3_column_text(st, 1));
				h->score = sqlite3_column_double(st, 2);
			}
			if (!rc && s != SQLITE_DONE)
				rc = dberr(c, em, "search");
		}
		sqlite3_finalize(st);
		if (expanded && !rc) {
			lb_buf_reset(expanded);
			if (q.len) /* lb_buf_add of 0 bytes into an empty buffer is not safe */
				lb_buf_add(expanded, q.data, q.len);
		}
		lb_buf_release(&q);
		lb_buf_release(&sql);
		if (rc || !fts || *n)
			break;
		lb_free(*hits); /* nothing with every word: retry with any word */
		*hits = NULL;
	}
	if (rc) {
		lb_free(*hits);
		*hits = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- the catalogue as a view of the directory chain --------------------------------------- */

int lb_catalog_get(struct lb_catalog *c, const char *asset_id, json_t **out, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	*out = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT json FROM entry WHERE asset_id = ?", -1, &st, NULL))
		return dberr(c, em, "get");
	sqlite3_bind_text(st, 1, asset_id, -1, SQLITE_TRANSIENT);
	int rc = LB_OK;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		if (!*out)
			rc = lb_errf(em, LB_ECORRUPT, "%s: stored entry is not JSON", asset_id);
	} else {
		rc = lb_errf(em, LB_ENOTFOUND, "asset %s is not in the catalogue", asset_id);
	}
	sqlite3_finalize(st);
	return rc;
}

int lb_catalog_meta_get(struct lb_catalog *c, const char *key, char *out, size_t n)
{
	sqlite3_stmt *st;
	int rc = LB_ENOTFOUND;
	if (n)
		out[0] = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL))
		return LB_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = LB_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int lb_catalog_meta_put(struct lb_catalog *c, const char *key, const char *value,
			struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)", -1, &st,
			       NULL))
		return dberr(c, em, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st) == SQLITE_DONE ? LB_OK : dberr(c, em, "meta");
	sqlite3_finalize(st);
	return rc;
}

int lb_catalog_reset(struct lb_catalog *c, struct lb_errmsg *em)
{
	return sqlite3_exec(c->db,
			    "DELETE FROM fts; DELETE FROM attr; DELETE FROM entry; DELETE FROM meta;",
			    NULL, NULL, NULL) == SQLITE_OK
		       ? LB_OK
		       : dberr(c, em, "reset");
}

/* Replace one attribute of an entry (no-op if the entry is not in the catalogue). */
static int set_attr(struct lb_catalog *c, const char *asset_id, const char *key,
		    const char *value, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	int rc = LB_OK;
	if (sqlite3_prepare_v2(c->db,
			       "DELETE FROM attr WHERE key = ?1 AND id IN (SELECT id FROM entry WHERE "
			       "asset_id = ?2)",
			       -1, &st, NULL))
		return dberr(c, em, "attributes");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, asset_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(c, em, "attributes");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(c->db,
			       "INSERT INTO attr(id, key, value, num) SELECT id, ?1, ?2, NULL FROM "
			       "entry WHERE asset_id = ?3",
			       -1, &st, NULL))
		return dberr(c, em, "attributes");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, asset_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(c, em, "attributes");
	sqlite3_finalize(st);
	return rc;
}

int lb_catalog_attr_get(struct lb_catalog *c, const char *asset_id, const char *key, char *out,
			size_t n, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (n)
		out[0] = 0;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT a.value FROM attr a JOIN entry e ON a.id = e.id WHERE "
			       "e.asset_id = ? AND a.key = ?",
			       -1, &st, NULL))
		return dberr(c, em, "attributes");
	sqlite3_bind_text(st, 1, asset_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	int rc = LB_OK;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	else
		rc = lb_errf(em, LB_ENOTFOUND, "asset %s has no %s in the catalogue", asset_id, key);
	sqlite3_finalize(st);
	return rc;
}

int lb_catalog_apply_tx_json(struct lb_catalog *c, const json_t *tx, bool *applied,
			     struct lb_errmsg *em)
{
	const char *type = json_string_value(json_object_get(tx, "type"));
	json_t *p = json_object_get(tx, "payload");
	if (applied)
		*applied = false;
	if (!type || strncmp(type, "data.", 5) || !json_is_true(json_object_get(tx, "valid")) ||
	    !json_is_object(p) || !strcmp(type, "data.provenance"))
		return LB_OK;
	const char *id = json_string_value(json_object_get(p, "asset_id"));
	if (!id)
		return lb_errf(em, LB_EMALFORMED, "%s tx without asset_id", type);
	const char *txid = json_string_value(json_object_get(tx, "id"));
	if (!strcmp(type, "data.readers")) {
		/* the private part re-sealed: remember which tx holds it now */
		int rc = set_attr(c, id, "private_tx", txid ? txid : "", em);
		if (!rc && applied)
			*applied = true;
		return rc;
	}
	if (!strncmp(type, "data.purge", 10)) {
		/* a purged asset leaves the catalogue; a patients' purge is followed by the
		 * owner's data.update without their records; receipts change nothing here */
		const char *scope = json_string_value(json_object_get(p, "scope"));
		if (strcmp(type, "data.purge") || !scope || strcmp(scope, "asset"))
			return LB_OK;
		int rc = lb_catalog_remove(c, id, em);
		if (!rc && applied)
			*applied = true;
		return rc;
	}
	if (!strcmp(type, "data.retire")) {
		int rc = lb_catalog_remove(c, id, em);
		if (!rc && applied)
			*applied = true;
		return rc;
	}
	json_t *pub = json_object_get(p, "public");
	if (!json_is_object(pub))
		return lb_errf(em, LB_EMALFORMED, "%s tx %s without a public part", type, id);
	struct lb_hexa h;
	int rc = lb_hexa_from_json(pub, &h, em);
	if (rc)
		return lb_errwrap(em, "asset %s: ", id);
	rc = lb_catalog_put(c, id, &h, em);
	lb_hexa_release(&h);
	if (rc)
		return rc;
	/* who and which version: attributes of the entry, not of the description */
	const char *sender = json_string_value(json_object_get(tx, "sender"));
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)json_integer_value(json_object_get(p, "version")));
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db,
			       "INSERT INTO attr(id, key, value, num) SELECT id, ?, ?, ? FROM entry "
			       "WHERE asset_id = ?",
			       -1, &st, NULL))
		return dberr(c, em, "attributes");
	const char *keys[4] = {"sender", "op", "entry_version", "private_tx"};
	const char *vals[4] = {sender ? sender : "", !strcmp(type, "data.link") ? "link" : "register",
			       ver, txid ? txid : ""};
	int nattr = json_integer_value(json_object_get(p, "private_envelope_bytes")) > 0 ? 4 : 3;
	for (int i = 0; !rc && i < nattr; i++) {
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, vals[i], -1, SQLITE_TRANSIENT);
		if (i == 2)
			sqlite3_bind_double(st, 3, strtod(ver, NULL));
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = dberr(c, em, "attributes");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (!rc && applied)
		*applied = true;
	return rc;
}
