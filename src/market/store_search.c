/*
 * Search of the knowledge store: listings in an in-memory SQLite FTS5 table (porter stemming),
 * ranked by BM25 with column weights (title > codes = specialty > description). A query in
 * natural language is cut into words, stop words dropped; each word or pair of words that is
 * a term of a synonym group (built-in medical groups, plus SNOMED CT / ICD-10 groups the caller
 * adds) stands for its whole group; a word the index does not know is replaced by the index's
 * terms within one edit (two from seven letters on). The groups are OR-ed; hits below
 * LB_STORE_SEARCH_CUT of the best score are dropped. Evaluation: docs/economy.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "leben/data_coding.h"
#include "leben/data_search.h"
#include "leben/market_store.h"

struct lb_store_index {
	sqlite3 *db;
	size_t count;
	struct lb_code_tables tables; /* borrowed */
};

void lb_store_index_tables(struct lb_store_index *x, const struct lb_code_tables *t)
{
	x->tables = *t;
}

/* The code tables' words for one code ("snomed|38341003", "icd10cm|I10") into b. */
static void code_terms(const struct lb_store_index *x, const char *sys, const char *code,
		       struct lb_buf *b)
{
	if (!strcmp(sys, "snomed") && x->tables.snomed) {
		uint64_t id = strtoull(code, NULL, 10);
		const char *t;
		uint64_t type;
		for (size_t k = 0; lb_snomed_description(x->tables.snomed, id, k, &t, &type); k++)
			lb_buf_addf(b, "%s. ", t);
	} else if (!strcmp(sys, "icd10cm") && x->tables.icd10cm) {
		struct lb_icd10_entry e;
		if (lb_icd10_table_find(x->tables.icd10cm, code, &e))
			lb_buf_addf(b, "%s. %s. ", e.short_desc ? e.short_desc : "",
				    e.long_desc ? e.long_desc : "");
	}
}

/* Built-in groups: terms separated by '|'. Clinical words a reader uses for the same thing. */
static const char *const builtin_syn[] = {
	"chest pain|angina|acute coronary syndrome|acs|thoracic pain|cardiac pain",
	"heart attack|myocardial infarction|mi|stemi|nstemi",
	"women|woman|female|females|lady",
	"men|man|male|males",
	"older|elderly|aged|over|geriatric|senior",
	"child|children|paediatric|pediatric|infant|kids",
	"pathway|protocol|guideline|algorithm|workflow|care plan",
	"high blood pressure|hypertension|htn|raised blood pressure",
	"diabetes|diabetic|t2dm|dm|hyperglycaemia",
	"sugar|glucose|hba1c",
	"heart failure|hf|cardiac failure|chf",
	"stroke|cva|cerebrovascular accident|tia",
	"kidney|renal|ckd|nephropathy",
	"cancer|tumour|tumor|malignancy|oncology|neoplasm",
	"breast|mammary",
	"lung|pulmonary|respiratory",
	"cough|coughing",
	"shortness of breath|dyspnoea|dyspnea|breathlessness|sob",
	"asthma|wheeze|wheezing",
	"copd|emphysema|chronic bronchitis",
	"sepsis|septic|septicaemia|infection",
	"fever|pyrexia|temperature",
	"depression|depressive|low mood",
	"anxiety|panic",
	"dementia|alzheimer|cognitive impairment|memory loss",
	"pregnancy|pregnant|antenatal|obstetric|maternity",
	"bleeding|haemorrhage|hemorrhage",
	"blood thinner|anticoagulant|anticoagulation|warfarin|doac|apixaban",
	"atrial fibrillation|af|afib|irregular heartbeat",
	"weight loss|losing weight|cachexia",
	"obesity|obese|overweight|bmi",
	"foot|feet",
	"ulcer|wound",
	"headache|migraine|cephalgia",
	"fracture|broken bone",
	"osteoporosis|bone density|fragility",
	"screening|screen|check",
	"referral|refer|two week wait|2ww",
	"urgent|emergency|same day|acute",
	"kidney stone|renal colic|nephrolithiasis",
	"urinary tract infection|uti|cystitis",
	"back pain|lumbago|low back pain",
	"thyroid|hypothyroidism|hyperthyroidism",
	"cholesterol|lipids|statin|hyperlipidaemia",
	"smoking|smoker|tobacco|cessation",
	"alcohol|drinking|alcohol use",
	"pain relief|analgesia|painkiller|analgesic",
	"antibiotic|antibiotics|antimicrobial",
	"vaccine|vaccination|immunisation|immunization",
	"skin|dermatology|rash|eczema",
	"eye|ophthalmology|vision",
	"ecg|electrocardiogram|ekg",
	"troponin|cardiac enzymes",
	"dose|dosing|dosage",
	"insulin|basal bolus",
	"anaemia|anemia|low haemoglobin|iron deficiency",
	"gp|primary care|general practice",
	"hospital|inpatient|ward",
	"palliative|end of life|hospice",
	"mental health|psychiatry|psychiatric",
	"seizure|epilepsy|fit",
	"parkinson|parkinsons|tremor",
	"cardiology|cardiac|heart",
	"neurology|neurological|brain",
	"gastroenterology|bowel|gut|digestive",
	"colorectal|colon|bowel cancer|rectal",
	"prostate|psa",
	"liver|hepatic|hepatology",
	"pneumonia|chest infection|lower respiratory tract infection",
};

static const char *const stop_words[] = {
	"a",    "an",   "the",  "for",  "of",   "in",   "on",   "with", "and",  "or",
	"to",   "at",   "by",   "from", "who",  "that", "which", "is",  "are",  "be",
	"than", "under", "above", "years", "year", "old", "aged", "patients", "patient", "people",
	"me",   "my",   "i",    "need", "find", "show", "any",  "some", "what", "how",
	"about", "into", "their", "his",  "her",  "after", "before", "best",  NULL,
};

static bool is_stop(const char *w)
{
	for (size_t i = 0; stop_words[i]; i++)
		if (!strcmp(w, stop_words[i]))
			return true;
	return false;
}

static int exec(struct lb_store_index *x, const char *sql, struct lb_errmsg *em)
{
	char *err = NULL;
	if (sqlite3_exec(x->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		int rc = lb_errf(em, LB_EIO, "store index: %s", err ? err : "sqlite error");
		sqlite3_free(err);
		return rc;
	}
	return LB_OK;
}

int lb_store_index_synonyms(struct lb_store_index *x, const char *const *terms, size_t n,
			    struct lb_errmsg *em)
{
	sqlite3_stmt *g = NULL, *t = NULL;
	int rc = LB_OK;
	if (sqlite3_prepare_v2(x->db, "INSERT INTO grp DEFAULT VALUES", -1, &g, NULL) ||
	    sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO syn(term, grp) VALUES(lower(?),?)",
			       -1, &t, NULL)) {
		rc = lb_errf(em, LB_EIO, "store index: %s", sqlite3_errmsg(x->db));
		goto out;
	}
	sqlite3_step(g);
	sqlite3_int64 gid = sqlite3_last_insert_rowid(x->db);
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(t);
		sqlite3_bind_text(t, 1, terms[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(t, 2, gid);
		if (sqlite3_step(t) != SQLITE_DONE) {
			rc = lb_errf(em, LB_EIO, "store index: %s", sqlite3_errmsg(x->db));
			break;
		}
	}
out:
	sqlite3_finalize(g);
	sqlite3_finalize(t);
	return rc;
}

int lb_store_index_open(struct lb_store_index **out, struct lb_errmsg *em)
{
	struct lb_store_index *x = lb_calloc(1, sizeof *x);
	if (!x)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc;
	if (sqlite3_open(":memory:", &x->db) != SQLITE_OK) {
		rc = lb_errf(em, LB_EIO, "store index: cannot open SQLite");
		goto fail;
	}
	if ((rc = exec(x,
		       "CREATE VIRTUAL TABLE doc USING fts5(id UNINDEXED, title, specialty, "
		       "description, codes, tokenize='porter unicode61');"
		       "CREATE VIRTUAL TABLE vocab USING fts5vocab(doc, 'row');"
		       "CREATE TABLE grp(id INTEGER PRIMARY KEY);"
		       "CREATE TABLE syn(term TEXT PRIMARY KEY, grp INTEGER);"
		       "CREATE INDEX syn_grp ON syn(grp);"
		       "CREATE TABLE ids(id TEXT PRIMARY KEY, docid INTEGER);",
		       em)))
		goto fail;
	for (size_t i = 0; i < sizeof builtin_syn / sizeof builtin_syn[0]; i++) {
		char buf[512];
		const char *terms[32];
		size_t n = 0;
		snprintf(buf, sizeof buf, "%s", builtin_syn[i]);
		for (char *s = strtok(buf, "|"); s && n < 32; s = strtok(NULL, "|"))
			terms[n++] = s;
		if ((rc = lb_store_index_synonyms(x, terms, n, em)))
			goto fail;
	}
	*out = x;
	return LB_OK;
fail:
	lb_store_index_close(x);
	return rc;
}

void lb_store_index_close(struct lb_store_index *x)
{
	if (!x)
		return;
	sqlite3_close(x->db);
	lb_free(x);
}

size_t lb_store_index_count(struct lb_store_index *x)
{
	return x->count;
}

int lb_store_index_put(struct lb_store_index *x, const json_t *d, struct lb_errmsg *em)
{
	const char *id = json_string_value(json_object_get(d, "id"));
	if (!id)
		return lb_errf(em, LB_EINVALID, "a store document needs an id");
	struct lb_buf codes;
	lb_buf_init(&codes, 1u << 20);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(d, "codes"), i, c)
	{
		/* "icd10|I20.9" -> "icd10 I20 I20.9" (a search for the category finds it), the
		 * chapter's title for ICD-10 ("Diseases of the circulatory system"), and the code
		 * tables' terms when given */
		const char *s = json_string_value(c);
		const char *bar = s ? strchr(s, '|') : NULL;
		if (!bar || bar - s >= 16)
			continue;
		char sys[16];
		snprintf(sys, sizeof sys, "%.*s", (int)(bar - s), s);
		lb_buf_addf(&codes, "%s %.3s %s ", sys, bar + 1, bar + 1);
		const char *title = NULL;
		if (!strncmp(sys, "icd10", 5))
			lb_icd10_chapter(bar + 1, !strcmp(sys, "icd10cm"), NULL, &title);
		if (title)
			lb_buf_addf(&codes, "%s. ", title);
		code_terms(x, sys, bar + 1, &codes);
	}
	sqlite3_stmt *find = NULL, *del = NULL, *ins = NULL, *map = NULL;
	int rc = LB_OK;
	bool found = false;
	if (sqlite3_prepare_v2(x->db, "SELECT docid FROM ids WHERE id = ?", -1, &find, NULL) ||
	    sqlite3_prepare_v2(x->db, "DELETE FROM doc WHERE rowid = ?", -1, &del, NULL) ||
	    sqlite3_prepare_v2(x->db,
			       "INSERT INTO doc(id,title,specialty,description,codes) "
			       "VALUES(?,?,?,?,?)",
			       -1, &ins, NULL) ||
	    sqlite3_prepare_v2(x->db, "INSERT OR REPLACE INTO ids(id, docid) VALUES(?,?)", -1, &map,
			       NULL)) {
		rc = lb_errf(em, LB_EIO, "store index: %s", sqlite3_errmsg(x->db));
		goto out;
	}
	sqlite3_bind_text(find, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(find) == SQLITE_ROW) {
		found = true;
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(find, 0));
		sqlite3_step(del);
	}
	const char *f[] = {"title", "specialty", "description"};
	sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
	for (int k = 0; k < 3; k++) {
		const char *v = json_string_value(json_object_get(d, f[k]));
		sqlite3_bind_text(ins, 2 + k, v ? v : "", -1, SQLITE_STATIC);
	}
	sqlite3_bind_text(ins, 5, codes.len ? (const char *)codes.data : "", -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		rc = lb_errf(em, LB_EIO, "store index: %s", sqlite3_errmsg(x->db));
		goto out;
	}
	sqlite3_bind_text(map, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(map, 2, sqlite3_last_insert_rowid(x->db));
	if (sqlite3_step(map) != SQLITE_DONE)
		rc = lb_errf(em, LB_EIO, "store index: %s", sqlite3_errmsg(x->db));
	else if (!found)
		x->count++;
out:
	lb_buf_release(&codes);
	sqlite3_finalize(find);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(map);
	return rc;
}

/* Append `"term"` (words quoted as an FTS5 phrase) to b, OR-separated. */
static void add_term(struct lb_buf *b, const char *term, bool *first)
{
	lb_buf_adds(b, *first ? "\"" : " OR \"");
	*first = false;
	for (const char *p = term; *p; p++)
		if (*p != '"')
			lb_buf_addc(b, (uint8_t)*p);
	lb_buf_addc(b, '"');
}

/* Terms of the synonym group of `term` (or none): add each; true if it was in a group. */
static bool add_group(struct lb_store_index *x, const char *term, struct lb_buf *b, bool *first)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(x->db,
			       "SELECT s2.term FROM syn s1 JOIN syn s2 ON s1.grp = s2.grp "
			       "WHERE s1.term = ?",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			add_term(b, (const char *)sqlite3_column_text(st, 0), first);
			found = true;
		}
	}
	sqlite3_finalize(st);
	return found;
}

/* Listings matching FTS5 expression q (0 on a bad expression). */
static size_t count_matches(struct lb_store_index *x, const char *q)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	if (sqlite3_prepare_v2(x->db, "SELECT count(*) FROM doc WHERE doc MATCH ?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = (size_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

/* Does the index hold this word (after stemming), or match this expression? */
static bool known(struct lb_store_index *x, const char *w)
{
	char q[256];
	if (w[0] == '"')
		return count_matches(x, w) > 0;
	snprintf(q, sizeof q, "\"%s\"", w);
	return count_matches(x, q) > 0;
}

/* Synonym groups with a one-word term close to an unknown word: add their terms. */
static void add_syn_typos(struct lb_store_index *x, const char *w, struct lb_buf *b, bool *first)
{
	size_t n = strlen(w);
	int max = n >= 7 ? 2 : n >= 4 ? 1 : 0;
	if (!max)
		return;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(x->db, "SELECT term FROM syn WHERE instr(term, ' ') = 0", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (lb_search_edit_distance(w, t) <= max)
			add_group(x, t, b, first);
	}
	sqlite3_finalize(st);
}

/* Terms of the index close to an unknown word. */
static void add_typos(struct lb_store_index *x, const char *w, struct lb_buf *b, bool *first)
{
	size_t n = strlen(w);
	int max = n >= 7 ? 2 : n >= 4 ? 1 : 0;
	if (!max)
		return;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(x->db, "SELECT term FROM vocab WHERE length(term) BETWEEN ? AND ?",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int(st, 1, (int)n - max - 1);
	sqlite3_bind_int(st, 2, (int)n + max);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (lb_search_edit_distance(w, t) <= max)
			add_term(b, t, first);
	}
	sqlite3_finalize(st);
}

#define MAXW 32

int lb_store_index_search(struct lb_store_index *x, const char *query, size_t limit,
			  struct lb_store_hit **hits, size_t *nhits, struct lb_buf *expanded,
			  struct lb_errmsg *em)
{
	char words[MAXW][48];
	size_t nw = 0;
	*hits = NULL;
	*nhits = 0;
	for (const char *p = query; *p && nw < MAXW;) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		size_t k = 0;
		while (*p && (isalnum((unsigned char)*p) || *p == '.') && k < 47) {
			words[nw][k++] = (char)tolower((unsigned char)*p);
			p++;
		}
		while (k && words[nw][k - 1] == '.')
			k--;
		words[nw][k] = 0;
		while (*p && (isalnum((unsigned char)*p) || *p == '.'))
			p++;
		if (k)
			nw++;
	}
	/* one clause per concept (a synonym group, a word and its near spellings) */
	struct lb_buf cl[MAXW];
	size_t ncl = 0;
	for (size_t i = 0; i < nw; i++) {
		struct lb_buf *c = &cl[ncl];
		bool first = true;
		lb_buf_init(c, 1u << 18);
		/* longest phrase of up to four words that is a synonym term */
		size_t used = 0;
		for (size_t len = 4; len >= 2 && !used; len--) {
			if (i + len > nw)
				continue;
			char phrase[200] = "";
			for (size_t k = 0; k < len; k++) {
				strncat(phrase, words[i + k], sizeof phrase - strlen(phrase) - 2);
				if (k + 1 < len)
					strcat(phrase, " ");
			}
			if (add_group(x, phrase, c, &first))
				used = len;
		}
		if (used)
			i += used - 1;
		else if (!is_stop(words[i])) {
			const char *w = words[i];
			bool grp = add_group(x, w, c, &first);
			bool k = known(x, w);
			if (!grp || k)
				add_term(c, w, &first);
			if (!grp && !k) {
				add_syn_typos(x, w, c, &first);
				add_typos(x, w, c, &first);
			}
		}
		if (!first && known(x, (const char *)c->data))
			ncl++;
		else
			lb_buf_release(c);
	}
	struct lb_buf b;
	lb_buf_init(&b, 1u << 20);
	/* every concept the index knows must match; if no listing has them all, any may */
	for (size_t k = 0; k < ncl; k++)
		lb_buf_addf(&b, "%s(%s)", k ? " AND " : "", (const char *)cl[k].data);
	if (ncl > 1 && count_matches(x, (const char *)b.data) == 0) {
		lb_buf_reset(&b);
		for (size_t k = 0; k < ncl; k++)
			lb_buf_addf(&b, "%s(%s)", k ? " OR " : "", (const char *)cl[k].data);
	}
	for (size_t k = 0; k < ncl; k++)
		lb_buf_release(&cl[k]);
	if (ncl == 0) {
		lb_buf_release(&b);
		return LB_OK; /* nothing to look for */
	}
	if (expanded)
		lb_buf_adds(expanded, (const char *)b.data);
	sqlite3_stmt *st = NULL;
	int rc = LB_OK;
	if (!limit)
		limit = 20;
	if (sqlite3_prepare_v2(x->db,
			       "SELECT id, -bm25(doc, 0, 5.0, 2.0, 1.0, 2.0) AS s FROM doc WHERE "
			       "doc MATCH ? ORDER BY s DESC LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = lb_errf(em, LB_EIO, "store index: %s", sqlite3_errmsg(x->db));
		goto out;
	}
	sqlite3_bind_text(st, 1, (const char *)b.data, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	*hits = lb_calloc(limit, sizeof **hits);
	if (!*hits) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	double best = 0;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		double score = sqlite3_column_double(st, 1);
		if (*nhits == 0)
			best = score;
		else if (score < best * LB_STORE_SEARCH_CUT)
			break;
		struct lb_store_hit *h = &(*hits)[(*nhits)++];
		snprintf(h->id, sizeof h->id, "%s", (const char *)sqlite3_column_text(st, 0));
		h->score = score;
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = lb_errf(em, LB_EINVALID, "search '%s' failed: %s", query, sqlite3_errmsg(x->db));
out:
	sqlite3_finalize(st);
	lb_buf_release(&b);
	if (rc) {
		lb_free(*hits);
		*hits = NULL;
		*nhits = 0;
	}
	return rc;
}
