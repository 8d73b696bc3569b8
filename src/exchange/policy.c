/*
 * Release policy: what of a sandbox result the data user may see. A result is released whole
 * or withheld whole, with the reason: it must look like an aggregate (a top-level cohort size
 * "n", no array longer than max_array), every cohort size and every non-zero cell count must
 * reach min_cohort, extremes (min/max, which are single records' values) are removed unless
 * allowed, counting fields, and sums and means of variables with clamping bounds, get Laplace
 * noise when epsilon > 0 (charged to the user's budget on the asset once per release; a sum
 * or mean without bounds is withheld then), and the canonical JSON must fit max_output. The released text is hashed with
 * BLAKE2b-256 (the hash the chain records) and can be sealed to the user.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "exchange/exchange_int.h"
#include "leben/abe.h"
#include "leben/base.h"
#include "leben/sandbox.h"

void lb_policy_default(struct lb_policy *p)
{
	memset(p, 0, sizeof *p);
	p->min_cohort = 10;
	p->epsilon = 0;
	p->budget = 1.0;
	p->max_output = 65536;
	p->aggregates_only = true;
	p->max_array = 1000;
	p->release_extremes = false;
}

/* "bounds": {"name": [lo, hi], ...} with finite lo <= hi. */
static int parse_bounds(json_t *v, struct lb_policy *p, struct lb_errmsg *em)
{
	if (!json_is_object(v))
		return lb_errf(em, LB_EINVALID, "policy: 'bounds' must be an object of \"name\": [low, high]");
	if (json_object_size(v) > LB_POLICY_BOUNDS_MAX)
		return lb_errf(em, LB_EINVALID, "policy: 'bounds' names more than %d variables",
			       LB_POLICY_BOUNDS_MAX);
	const char *k;
	json_t *b;
	p->nbounds = 0;
	json_object_foreach(v, k, b)
	{
		json_t *lo = json_array_get(b, 0), *hi = json_array_get(b, 1);
		double l = json_is_number(lo) ? json_number_value(lo) : NAN;
		double h = json_is_number(hi) ? json_number_value(hi) : NAN;
		if (!json_is_array(b) || json_array_size(b) != 2 || !isfinite(l) || !isfinite(h) || l > h ||
		    fabs(l) > 1e15 || fabs(h) > 1e15)
			return lb_errf(em, LB_EINVALID,
				       "policy: bounds of '%s' must be [low, high] with finite numbers, "
				       "low <= high",
				       k);
		if (!k[0] || strlen(k) >= sizeof p->bounds[0].name)
			return lb_errf(em, LB_EINVALID, "policy: bound name '%.80s' must have 1 to 63 bytes",
				       k);
		struct lb_policy_bound *d = &p->bounds[p->nbounds++];
		snprintf(d->name, sizeof d->name, "%s", k);
		d->lo = l;
		d->hi = h;
	}
	return LB_OK;
}

int lb_policy_parse(const char *text, size_t len, struct lb_policy *out, struct lb_errmsg *em)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return lb_errf(em, LB_EMALFORMED, "policy: line %d: %s", je.line, je.text);
	struct lb_policy p = *out;
	int rc = LB_OK;
	if (!json_is_object(j)) {
		rc = lb_errf(em, LB_EINVALID, "policy must be a JSON object");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v)
	{
		double d = json_is_number(v) ? json_number_value(v) : NAN;
		if (!strcmp(k, "min_cohort") || !strcmp(k, "max_output") || !strcmp(k, "max_array")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000000)
				rc = lb_errf(em, LB_EINVALID, "policy: '%s' must be a whole number from 0 to 1e9", k);
			else if (!strcmp(k, "min_cohort"))
				p.min_cohort = (unsigned)json_integer_value(v);
			else if (!strcmp(k, "max_output"))
				p.max_output = (size_t)json_integer_value(v);
			else
				p.max_array = (size_t)json_integer_value(v);
		} else if (!strcmp(k, "epsilon") || !strcmp(k, "budget")) {
			if (!(d >= 0 && d <= 1000))
				rc = lb_errf(em, LB_EINVALID, "policy: '%s' must be a number from 0 to 1000", k);
			else if (!strcmp(k, "epsilon"))
				p.epsilon = d;
			else
				p.budget = d;
		} else if (!strcmp(k, "aggregates_only") || !strcmp(k, "release_extremes")) {
			if (!json_is_boolean(v))
				rc = lb_errf(em, LB_EINVALID, "policy: '%s' must be true or false", k);
			else if (!strcmp(k, "aggregates_only"))
				p.aggregates_only = json_is_true(v);
			else
				p.release_extremes = json_is_true(v);
		} else if (!strcmp(k, "bounds")) {
			rc = parse_bounds(v, &p, em);
		} else {
			rc = lb_errf(em, LB_EINVALID, "policy: unknown key '%s' (known: min_cohort, epsilon, budget, "
				     "max_output, aggregates_only, max_array, release_extremes, bounds)", k);
		}
		if (rc)
			goto out;
	}
	*out = p;
out:
	json_decref(j);
	return rc;
}

json_t *lb_policy_json(const struct lb_policy *p)
{
	json_t *j = json_pack("{sI sf sf sI sb sI sb}", "min_cohort", (json_int_t)p->min_cohort, "epsilon",
			      p->epsilon, "budget", p->budget, "max_output", (json_int_t)p->max_output,
			      "aggregates_only", p->aggregates_only, "max_array", (json_int_t)p->max_array,
			      "release_extremes", p->release_extremes);
	if (j && p->nbounds) {
		json_t *b = json_object();
		for (size_t i = 0; b && i < p->nbounds; i++)
			json_object_set_new(b, p->bounds[i].name,
					    json_pack("[f,f]", p->bounds[i].lo, p->bounds[i].hi));
		json_object_set_new(j, "bounds", b);
	}
	return j;
}

/* ---- privacy budget ---------------------------------------------------------------------- */

struct lb_dp_budget {
	sqlite3 *db; /* table dp_budget(user, asset, spent) */
};

/* Open (or create) the SQLite file at path (NULL: in memory) with schema; what names it in
 * errors. *db is NULL on failure. */
static int open_db(const char *path, const char *schema, const char *what, sqlite3 **db,
		   struct lb_errmsg *em)
{
	if (sqlite3_open(path ? path : ":memory:", db) == SQLITE_OK &&
	    sqlite3_exec(*db, schema, NULL, NULL, NULL) == SQLITE_OK)
		return LB_OK;
	int rc = lb_errf(em, LB_EIO, "%s %s: %s (check the path and its permissions)", what,
			 path ? path : "(memory)", *db ? sqlite3_errmsg(*db) : "cannot open");
	sqlite3_close(*db);
	*db = NULL;
	return rc;
}

int lb_dp_budget_open(const char *path, struct lb_dp_budget **out, struct lb_errmsg *em)
{
	struct lb_dp_budget *b = lb_calloc(1, sizeof *b);
	if (!b)
		return LB_ENOMEM;
	int rc = open_db(path,
			 "CREATE TABLE IF NOT EXISTS dp_budget(user TEXT NOT NULL, asset TEXT NOT NULL, "
			 "spent REAL NOT NULL, PRIMARY KEY(user, asset))",
			 "privacy budget", &b->db, em);
	if (rc) {
		lb_free(b);
		return rc;
	}
	*out = b;
	return LB_OK;
}

void lb_dp_budget_close(struct lb_dp_budget *b)
{
	if (!b)
		return;
	sqlite3_close(b->db);
	lb_free(b);
}

int lb_dp_budget_spent(struct lb_dp_budget *b, const char *user, const char *asset,
		       double *spent, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(b->db, "SELECT spent FROM dp_budget WHERE user = ?1 AND asset = ?2", -1, &st,
			       NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "privacy budget: %s", sqlite3_errmsg(b->db));
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
	*spent = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : 0;
	sqlite3_finalize(st);
	return LB_OK;
}

int lb_dp_budget_charge(struct lb_dp_budget *b, const char *user, const char *asset, double eps,
			double total, struct lb_errmsg *em)
{
	double spent;
	int rc;
	if (!(eps >= 0))
		return lb_errf(em, LB_EINVALID, "epsilon must be >= 0");
	if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "privacy budget: %s", sqlite3_errmsg(b->db));
	if ((rc = lb_dp_budget_spent(b, user, asset, &spent, em)))
		goto rollback;
	if (spent + eps > total + 1e-12) {
		rc = lb_errf(em, LB_EDENIED,
			     "privacy budget of '%s' on '%s' exhausted: spent %g of %g, this release needs %g", user,
			     asset, spent, total, eps);
		goto rollback;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(b->db,
			       "INSERT INTO dp_budget(user, asset, spent) VALUES(?1, ?2, ?3) "
			       "ON CONFLICT(user, asset) DO UPDATE SET spent = spent + ?3",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = lb_errf(em, LB_EIO, "privacy budget: %s", sqlite3_errmsg(b->db));
		goto rollback;
	}
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, eps);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		rc = lb_errf(em, LB_EIO, "privacy budget: %s", sqlite3_errmsg(b->db));
		goto rollback;
	}
	if (sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "privacy budget: %s", sqlite3_errmsg(b->db));
	return LB_OK;
rollback:
	sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- checks --------------------------------------------------------------------------------- */

static bool is_count_array_key(const char *k)
{
	size_t n = strlen(k);
	return !strcmp(k, "counts") || !strcmp(k, "at_risk") || (n > 7 && !strcmp(k + n - 7, "_counts"));
}

struct walk {
	const struct lb_policy *p;
	char why[512];   /* first violation */
	size_t nnoised;  /* counting values found */
	unsigned removed; /* extremes removed */
	double scale;    /* Laplace scale per unit of sensitivity when noising (0 = counting only) */
	double top_n;    /* the result's own "n" (for means in objects without one) */
};

/* Bounds of the variable an object describes: its "name", else the key it sits under. */
static const struct lb_policy_bound *bound_for(const struct lb_policy *p, json_t *obj, const char *key)
{
	const char *name = json_string_value(json_object_get(obj, "name"));
	if (!name)
		name = key;
	for (size_t i = 0; name && i < p->nbounds; i++)
		if (!strcmp(p->bounds[i].name, name))
			return &p->bounds[i];
	return NULL;
}

static bool seeded;
static uint8_t seed_key[crypto_stream_chacha20_KEYBYTES];
static uint64_t seed_ctr;

void lb_policy_noise_seed(const uint8_t seed[32])
{
	seeded = seed != NULL;
	if (seed)
		memcpy(seed_key, seed, sizeof seed_key);
	else
		sodium_memzero(seed_key, sizeof seed_key);
	seed_ctr = 0;
}

static double laplace(double b)
{
	uint64_t r;
	if (seeded) {
		uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
		uint64_t c = seed_ctr++;
		memcpy(nonce, &c, sizeof c);
		crypto_stream_chacha20((uint8_t *)&r, sizeof r, nonce, seed_key);
	} else {
		randombytes_buf(&r, sizeof r);
	}
	double u = ((double)(r >> 11) + 0.5) * 0x1.0p-53 - 0.5; /* (-0.5, 0.5) */
	return -b * (u < 0 ? -1 : 1) * log(1 - 2 * fabs(u));
}

static json_t *noised(double v, double scale)
{
	double x = round(v + laplace(scale));
	return json_integer((json_int_t)(x < 0 ? 0 : x));
}

/* Check (and noise, when w->scale > 0) the counting array a at path. */
static bool walk_counts(struct walk *w, json_t *a, const char *path)
{
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		if (json_is_array(e)) {
			char sub[256];
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			if (!walk_counts(w, e, sub))
				return false;
			continue;
		}
		if (!json_is_number(e))
			continue;
		double v = json_number_value(e);
		if (w->scale == 0) {
			w->nnoised++;
			if (v > 0 && v < w->p->min_cohort) {
				/* the reason names the cell, never its value */
				snprintf(w->why, sizeof w->why, "cell %s[%zu] is below the minimum cohort %u", path, i,
					 w->p->min_cohort);
				return false;
			}
		} else {
			json_array_set_new(a, i, noised(v, w->scale));
		}
	}
	return true;
}

static bool walk(struct walk *w, json_t *v, const char *path, const char *key, int depth)
{
	const struct lb_policy *p = w->p;
	if (depth > 64) {
		snprintf(w->why, sizeof w->why, "the result nests too deep");
		return false;
	}
	char sub[256];
	if (json_is_array(v)) {
		if (p->aggregates_only && json_array_size(v) > p->max_array && w->scale == 0) {
			snprintf(w->why, sizeof w->why,
				 "%s has %zu entries (more than %zu): it looks like row-level data, not an aggregate",
				 path[0] ? path : "the result", json_array_size(v), p->max_array);
			return false;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			if (!walk(w, json_array_get(v, i), sub, key, depth + 1))
				return false;
		}
		return true;
	}
	if (!json_is_object(v))
		return true;
	const char *k;
	json_t *e;
	void *tmp;
	json_t *own_n = json_object_get(v, "n");
	double obj_n = json_is_number(own_n) ? json_number_value(own_n) : w->top_n;
	json_object_foreach_safe(v, tmp, k, e)
	{
		snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", k);
		bool is_sum = !strcmp(k, "sum"), is_mean = !strcmp(k, "mean");
		if (p->epsilon > 0 && (is_sum || is_mean) && json_is_number(e)) {
			const struct lb_policy_bound *b = bound_for(p, v, key);
			if (w->scale == 0) {
				if (!b) {
					snprintf(w->why, sizeof w->why,
						 "%s has no clamping bounds in the policy (\"bounds\": {\"%s\": "
						 "[low, high]}), so its noise cannot be calibrated",
						 sub, json_string_value(json_object_get(v, "name"))
							  ? json_string_value(json_object_get(v, "name"))
							  : (key && key[0] ? key : "NAME"));
					return false;
				}
				w->nnoised++;
			} else {
				/* add/remove one record: a clamped sum moves by at most max(|lo|, |hi|), a
				 * mean of n clamped values by at most (hi - lo) / n */
				double sens = is_sum ? fmax(fabs(b->lo), fabs(b->hi))
						     : (b->hi - b->lo) / (obj_n >= 1 ? obj_n : 1);
				double x = json_number_value(e);
				if (is_mean)
					x = x < b->lo ? b->lo : x > b->hi ? b->hi : x;
				x += laplace(w->scale * sens);
				if (is_mean)
					x = x < b->lo ? b->lo : x > b->hi ? b->hi : x;
				json_object_set_new(v, k, json_real(x));
			}
			continue;
		}
		if (p->epsilon > 0 && w->scale == 0 && !strcmp(k, "sd")) {
			/* a spread has no calibrated noise here: not released under noise */
			json_object_del(v, k);
			w->removed++;
			continue;
		}
		if (!p->release_extremes && w->scale == 0 && (!strcmp(k, "min") || !strcmp(k, "max"))) {
			json_object_del(v, k);
			w->removed++;
			continue;
		}
		if (!strcmp(k, "n") && json_is_number(e)) {
			if (w->scale == 0) {
				w->nnoised++;
				if (json_number_value(e) < p->min_cohort) {
					snprintf(w->why, sizeof w->why, "%s is below the minimum cohort %u", sub,
						 p->min_cohort);
					return false;
				}
			} else {
				json_object_set_new(v, k, noised(json_number_value(e), w->scale));
			}
			continue;
		}
		if (is_count_array_key(k) && json_is_array(e)) {
			if (!walk_counts(w, e, sub))
				return false;
			continue;
		}
		if (!walk(w, e, sub, k, depth + 1))
			return false;
	}
	return true;
}

static int withhold(struct lb_release *rel, int code, const char *why, struct lb_errmsg *em)
{
	rel->released = false;
	rel->code = code;
	rel->rule = code == LB_ETOOBIG ? LB_RELEASE_LIMIT : LB_RELEASE_POLICY;
	snprintf(rel->reason, sizeof rel->reason, "%s", why);
	return lb_errf(em, code, "result withheld: %s", why);
}

int lb_policy_apply(const struct lb_policy *p, const json_t *result, struct lb_dp_budget *budget,
		    const char *user, const char *asset, struct lb_release *rel,
		    struct lb_errmsg *em)
{
	memset(rel, 0, sizeof *rel);
	if (!json_is_object(result))
		return withhold(rel, LB_EDENIED, "the result is not a JSON object", em);
	json_t *r = json_deep_copy(result);
	if (!r)
		return LB_ENOMEM;
	int rc;
	struct walk w = {.p = p};
	if (p->aggregates_only && !json_is_number(json_object_get(r, "n"))) {
		rc = withhold(rel, LB_EDENIED, "the result has no cohort size \"n\" at its top level, so it cannot be "
					       "shown to be an aggregate", em);
		goto out;
	}
	w.top_n = json_number_value(json_object_get(r, "n"));
	if (!walk(&w, r, "", "", 0)) {
		rc = withhold(rel, LB_EDENIED, w.why, em);
		rel->rule = LB_RELEASE_COHORT;
		goto out;
	}
	rel->removed = w.removed;
	if (p->epsilon > 0) {
		if (!budget || !user || !asset) {
			rc = withhold(rel, LB_EDENIED, "the policy adds noise but no privacy budget was given", em);
			goto out;
		}
		double spent;
		if ((rc = lb_dp_budget_spent(budget, user, asset, &spent, em)))
			goto out;
		if (spent + p->epsilon > p->budget + 1e-12) {
			char why[300];
			snprintf(why, sizeof why, "privacy budget of '%s' on '%s' exhausted: spent %g of %g, this release needs %g",
				 user, asset, spent, p->budget, p->epsilon);
			rc = withhold(rel, LB_EDENIED, why, em);
			rel->rule = LB_RELEASE_BUDGET;
			goto out;
		}
		/* sequential composition: the k noised values (counts, sums, means) share epsilon
		 * equally; each gets Laplace noise of scale k * sensitivity / epsilon (counts:
		 * sensitivity 1) */
		w.scale = (double)(w.nnoised ? w.nnoised : 1) / p->epsilon;
		walk(&w, r, "", "", 0);
	}
	char *text = xjson_canonical(r);
	if (!text) {
		rc = LB_ENOMEM;
		goto out;
	}
	size_t len = strlen(text);
	if (len > p->max_output) {
		free(text);
		char why[200];
		snprintf(why, sizeof why, "the result is %zu bytes, more than the policy's maximum output of %zu", len,
			 p->max_output);
		rc = withhold(rel, LB_ETOOBIG, why, em);
		goto out;
	}
	if (p->epsilon > 0 && (rc = lb_dp_budget_charge(budget, user, asset, p->epsilon, p->budget, em))) {
		free(text);
		withhold(rel, rc, em->text, NULL);
		goto out;
	}
	rel->text = lb_malloc(len + 1);
	if (!rel->text) {
		free(text);
		rc = LB_ENOMEM;
		goto out;
	}
	memcpy(rel->text, text, len + 1);
	free(text);
	rel->len = len;
	crypto_generichash(rel->hash, sizeof rel->hash, (const uint8_t *)rel->text, len, NULL, 0);
	rel->released = true;
	rel->rule = LB_RELEASE_NONE;
	rel->code = LB_OK;
	rel->epsilon_spent = p->epsilon;
	snprintf(rel->reason, sizeof rel->reason, "released");
	rc = LB_OK;
out:
	json_decref(r);
	return rc;
}

void lb_release_release(struct lb_release *rel)
{
	lb_free(rel->text);
	rel->text = NULL;
}

size_t lb_release_bucket(size_t len)
{
	size_t b = 1024;
	while (b < len && b < SIZE_MAX / 2)
		b *= 2;
	return b < len ? len : b;
}

void lb_release_unpad(const uint8_t *text, size_t *len)
{
	while (*len > 0 && text[*len - 1] == ' ')
		(*len)--;
}

/* The released text padded to its size bucket with spaces (JSON whitespace): *pt of *n bytes,
 * the caller wipes and frees it. */
static int release_padded(const struct lb_release *rel, uint8_t **pt, size_t *n,
			  struct lb_errmsg *em)
{
	if (!rel->released || !rel->text)
		return lb_errf(em, LB_EDENIED, "the result was withheld: nothing to seal");
	*n = lb_release_bucket(rel->len);
	if (!(*pt = lb_malloc(*n)))
		return lb_errf(em, LB_ENOMEM, "out of memory");
	memcpy(*pt, rel->text, rel->len);
	memset(*pt + rel->len, ' ', *n - rel->len);
	return LB_OK;
}

int lb_release_seal(const struct lb_release *rel, const uint8_t user_pk[LB_ENVELOPE_PKBYTES],
		    uint8_t **env, size_t *envlen, struct lb_errmsg *em)
{
	uint8_t *pt = NULL;
	size_t b = 0;
	int rc = release_padded(rel, &pt, &b, em);
	if (!rc)
		rc = lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])user_pk, 1, pt, b, env,
				      envlen, em);
	if (pt)
		sodium_memzero(pt, b);
	lb_free(pt);
	return rc;
}

int lb_release_seal_policy(const struct lb_release *rel, const struct lb_abe_pk *pk,
			   const char *policy, uint8_t **ct, size_t *ctlen, struct lb_errmsg *em)
{
	uint8_t *pt = NULL;
	size_t b = 0;
	int rc = release_padded(rel, &pt, &b, em);
	if (!rc)
		rc = lb_abe_encrypt(ct, ctlen, pk, policy, pt, b, em);
	if (pt)
		sodium_memzero(pt, b);
	lb_free(pt);
	return rc;
}

/* ---- release history (cross-release differencing) ------------------------------------------ */

#define SPAN_MAX_SETS 4096       /* distinct sets of one class the tracker check takes */
#define SPAN_MAX_SETS_H SPAN_MAX_SETS
#define SPAN_MAX_WORK 1000000000.0 /* operations it may spend per class */

static int cmp_u64p(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

struct lb_release_history {
	sqlite3 *db;
};

int lb_release_history_open(const char *path, struct lb_release_history **out, struct lb_errmsg *em)
{
	struct lb_release_history *h = lb_calloc(1, sizeof *h);
	if (!h)
		return LB_ENOMEM;
	int rc = open_db(path,
			 "PRAGMA busy_timeout = 5000;"
			 "CREATE TABLE IF NOT EXISTS rel_sets(id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, "
			 "n INTEGER NOT NULL, keys BLOB NOT NULL);"
			 "CREATE TABLE IF NOT EXISTS releases(user TEXT NOT NULL, asset TEXT NOT NULL, "
			 "class INTEGER NOT NULL, colkey TEXT NOT NULL, set_id INTEGER NOT NULL, path TEXT NOT NULL, "
			 "linear INTEGER NOT NULL DEFAULT 0, UNIQUE(user, asset, class, colkey, set_id));"
			 "CREATE INDEX IF NOT EXISTS releases_ua ON releases(user, asset, class);",
			 "release history", &h->db, em);
	if (rc) {
		lb_free(h);
		return rc;
	}
	*out = h;
	return LB_OK;
}

void lb_release_history_close(struct lb_release_history *h)
{
	if (!h)
		return;
	sqlite3_close(h->db);
	lb_free(h);
}

/* The cells a release check looks at: placed or read, not suppressed, not labels. */
static bool cell_counts(const struct lb_prov_cell *c)
{
	return (c->flags & (LB_PROV_PLACED | LB_PROV_READ)) && !(c->flags & LB_PROV_SUPPRESSED) &&
	       c->kind != LB_PROV_LABEL;
}

static bool prov_has_reads(const struct lb_provenance *p)
{
	for (size_t i = 0; i < p->ncells; i++)
		if (p->cells[i].flags & LB_PROV_READ)
			return true;
	return false;
}

/* Where a cell is, for a reason: its path, unless the script read values (then its keys may
 * carry them). */
static const char *cell_name(const struct lb_provenance *p, const struct lb_prov_cell *c, bool reads)
{
	(void)p;
	if (reads)
		return "a value";
	return c->path && c->path[0] ? c->path : "a value the script read";
}

static int span_isolates(const struct lb_prov_set *const *sets, size_t m, unsigned k, size_t *weight);

static bool linear_kind(enum lb_prov_kind k)
{
	return k == LB_PROV_COUNT || k == LB_PROV_SUM || k == LB_PROV_MEAN;
}

/* Trackers across releases: for each class of linear values of prov (counts; sums and means of
 * one column), the span check over its sets and the most recent earlier ones of the class. */
static int history_span(struct lb_release_history *h, const char *user, const char *asset,
			const struct lb_provenance *prov, unsigned k, struct lb_errmsg *em)
{
	enum { HIST_SPAN = 128 };
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT s.n, s.keys FROM releases r JOIN rel_sets s ON s.id = r.set_id WHERE r.user = ?1 "
			       "AND r.asset = ?2 AND r.class = ?3 AND r.linear = 1 AND r.colkey = ?4 AND s.n > 0 "
			       "ORDER BY r.rowid DESC LIMIT ?5",
			       -1, &st, NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
	struct lb_prov_set *old = lb_calloc(HIST_SPAN, sizeof *old);
	const struct lb_prov_set **sets = lb_malloc(SPAN_MAX_SETS_H * sizeof *sets);
	int rc = old && sets ? LB_OK : LB_ENOMEM;
	for (size_t lead = 0; lead < prov->ncells && rc == LB_OK; lead++) {
		const struct lb_prov_cell *L = &prov->cells[lead];
		if (!cell_counts(L) || !linear_kind(L->kind))
			continue;
		bool seen = false;
		for (size_t i = 0; i < lead && !seen; i++)
			seen = cell_counts(&prov->cells[i]) && linear_kind(prov->cells[i].kind) &&
			       (prov->cells[i].kind == LB_PROV_COUNT) == (L->kind == LB_PROV_COUNT) &&
			       !strcmp(prov->cells[i].colkey, L->colkey);
		if (seen)
			continue;
		size_t m = 0, nold = 0;
		for (size_t i = lead; i < prov->ncells && m < SPAN_MAX_SETS_H - HIST_SPAN; i++) {
			const struct lb_prov_cell *c = &prov->cells[i];
			if (cell_counts(c) && linear_kind(c->kind) && (c->kind == LB_PROV_COUNT) == (L->kind == LB_PROV_COUNT) &&
			    !strcmp(c->colkey, L->colkey) && prov->sets[c->set].n > 0)
				sets[m++] = &prov->sets[c->set];
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, L->kind == LB_PROV_COUNT ? 0 : 1);
		sqlite3_bind_text(st, 4, L->colkey, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, HIST_SPAN);
		while (nold < HIST_SPAN && sqlite3_step(st) == SQLITE_ROW) {
			size_t n = (size_t)sqlite3_column_int64(st, 0);
			if ((size_t)sqlite3_column_bytes(st, 1) != n * sizeof(uint64_t))
				continue;
			old[nold].keys = lb_malloc(n * sizeof(uint64_t));
			if (!old[nold].keys) {
				rc = LB_ENOMEM;
				break;
			}
			memcpy(old[nold].keys, sqlite3_column_blob(st, 1), n * sizeof(uint64_t));
			old[nold].n = n;
			sets[m++] = &old[nold++];
		}
		size_t w = 0;
		int sp = rc == LB_OK && nold > 0 ? span_isolates(sets, m, k, &w) : 0;
		if (sp == 2)
			rc = lb_errf(em, LB_EDENIED,
				     "these values and the ones released earlier to the same user on this asset are too many "
				     "to check their combinations; ask for fewer values");
		else if (sp == 1)
			rc = lb_errf(em, LB_EDENIED,
				     "a combination of these %s and ones released earlier to the same user on this asset "
				     "describes fewer records than the minimum cohort %u",
				     L->kind == LB_PROV_COUNT ? "counts" : "sums and means", k);
		(void)w;
		for (size_t i = 0; i < nold; i++) {
			lb_free(old[i].keys);
			old[i].keys = NULL;
		}
	}
	sqlite3_finalize(st);
	lb_free(old);
	lb_free(sets);
	return rc;
}

int lb_release_history_check(struct lb_release_history *h, const char *user, const char *asset,
			     const struct lb_provenance *prov, unsigned k, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT r.colkey, s.n, s.keys, r.path FROM releases r JOIN rel_sets s ON s.id = r.set_id "
			       "WHERE r.user = ?1 AND r.asset = ?2 AND r.class = ?3 AND s.n > ?4 AND s.n < ?5",
			       -1, &st, NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
	bool reads = prov_has_reads(prov);
	int rc = LB_OK;
	for (size_t i = 0; i < prov->ncells && rc == LB_OK; i++) {
		const struct lb_prov_cell *c = &prov->cells[i];
		if (!cell_counts(c))
			continue;
		const struct lb_prov_set *s = &prov->sets[c->set];
		int cls = c->kind == LB_PROV_COUNT ? 0 : 1;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, cls);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)s->n - (sqlite3_int64)k);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)s->n + (sqlite3_int64)k);
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			const char *ck = (const char *)sqlite3_column_text(st, 0);
			size_t n = (size_t)sqlite3_column_int64(st, 1);
			const uint64_t *keys = sqlite3_column_blob(st, 2);
			if ((size_t)sqlite3_column_bytes(st, 2) != n * sizeof *keys ||
			    !xprov_meet(c->kind, c->colkey, cls ? LB_PROV_STAT : LB_PROV_COUNT, ck ? ck : ""))
				continue;
			size_t d = xprov_symdiff(s->keys, s->n, n ? keys : NULL, n, k);
			if (d > 0 && d < k) {
				rc = lb_errf(em, LB_EDENIED,
					     "%s is computed over records that differ by fewer than the minimum cohort "
					     "%u from those of %s released earlier to the same user on this asset: the two "
					     "together would describe those records",
					     cell_name(prov, c, reads), k,
					     reads ? "a value" : (const char *)sqlite3_column_text(st, 3));
				break;
			}
		}
		if (rc == LB_OK && step != SQLITE_DONE)
			rc = lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
	}
	sqlite3_finalize(st);
	if (rc == LB_OK)
		rc = history_span(h, user, asset, prov, k, em);
	return rc;
}

int lb_release_history_sets(struct lb_release_history *h, const char *user, const char *asset,
			    struct lb_prov_set **sets, size_t *n, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	*sets = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT DISTINCT s.id, s.n, s.keys FROM releases r JOIN rel_sets s ON s.id = r.set_id "
			       "WHERE r.user = ?1 AND r.asset = ?2 AND s.n > 0 ORDER BY s.id",
			       -1, &st, NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
	size_t cap = 0;
	int rc = LB_OK, step;
	while (rc == LB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		size_t m = (size_t)sqlite3_column_int64(st, 1);
		const void *keys = sqlite3_column_blob(st, 2);
		if ((size_t)sqlite3_column_bytes(st, 2) != m * sizeof(uint64_t))
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct lb_prov_set *ns = lb_realloc(*sets, nc * sizeof *ns);
			if (!ns) {
				rc = lb_errf(em, LB_ENOMEM, "out of memory");
				break;
			}
			*sets = ns;
			cap = nc;
		}
		uint64_t *k = lb_malloc(m * sizeof *k);
		if (!k) {
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
			break;
		}
		memcpy(k, keys, m * sizeof *k);
		(*sets)[(*n)++] = (struct lb_prov_set){.n = m, .keys = k};
	}
	if (rc == LB_OK && step != SQLITE_DONE)
		rc = lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
	sqlite3_finalize(st);
	if (rc) {
		lb_prov_sets_free(*sets, *n);
		*sets = NULL;
		*n = 0;
	}
	return rc;
}

void lb_prov_sets_free(struct lb_prov_set *sets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lb_free(sets[i].keys);
	lb_free(sets);
}

int lb_release_history_record(struct lb_release_history *h, const char *user, const char *asset,
			      const struct lb_provenance *prov, struct lb_errmsg *em)
{
	sqlite3_stmt *ins_set = NULL, *get_set = NULL, *ins_rel = NULL;
	int rc = LB_OK;
	if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
	if (sqlite3_prepare_v2(h->db, "INSERT OR IGNORE INTO rel_sets(hash, n, keys) VALUES(?1, ?2, ?3)", -1,
			       &ins_set, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h->db, "SELECT id FROM rel_sets WHERE hash = ?1", -1, &get_set, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h->db,
			       "INSERT INTO releases(user, asset, class, colkey, set_id, path, linear) "
			       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(user, asset, class, colkey, set_id) "
			       "DO UPDATE SET linear = max(linear, ?7)",
			       -1, &ins_rel, NULL) != SQLITE_OK) {
		rc = lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
		goto out;
	}
	for (size_t i = 0; i < prov->ncells; i++) {
		const struct lb_prov_cell *c = &prov->cells[i];
		if (!cell_counts(c))
			continue;
		const struct lb_prov_set *s = &prov->sets[c->set];
		uint8_t hash[32];
		static const uint64_t none;
		const void *blob = s->n ? (const void *)s->keys : (const void *)&none;
		size_t blen = s->n * sizeof *s->keys;
		crypto_generichash(hash, sizeof hash, blob, blen, NULL, 0);
		sqlite3_reset(ins_set);
		sqlite3_bind_blob(ins_set, 1, hash, sizeof hash, SQLITE_STATIC);
		sqlite3_bind_int64(ins_set, 2, (sqlite3_int64)s->n);
		sqlite3_bind_blob(ins_set, 3, blob, (int)blen, SQLITE_STATIC);
		sqlite3_reset(get_set);
		sqlite3_bind_blob(get_set, 1, hash, sizeof hash, SQLITE_STATIC);
		if (sqlite3_step(ins_set) != SQLITE_DONE || sqlite3_step(get_set) != SQLITE_ROW) {
			rc = lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
			goto out;
		}
		sqlite3_int64 id = sqlite3_column_int64(get_set, 0);
		sqlite3_reset(ins_rel);
		sqlite3_bind_text(ins_rel, 1, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_rel, 2, asset, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins_rel, 3, c->kind == LB_PROV_COUNT ? 0 : 1);
		sqlite3_bind_text(ins_rel, 4, c->colkey, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_rel, 5, id);
		sqlite3_bind_text(ins_rel, 6, c->path && c->path[0] ? c->path : "(read)", -1, SQLITE_STATIC);
		sqlite3_bind_int(ins_rel, 7, c->kind == LB_PROV_COUNT || c->kind == LB_PROV_SUM || c->kind == LB_PROV_MEAN);
		if (sqlite3_step(ins_rel) != SQLITE_DONE) {
			rc = lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
			goto out;
		}
	}
out:
	sqlite3_finalize(ins_set);
	sqlite3_finalize(get_set);
	sqlite3_finalize(ins_rel);
	if (sqlite3_exec(h->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc)
		rc = lb_errf(em, LB_EIO, "release history: %s", sqlite3_errmsg(h->db));
	return rc;
}

/* ---- release with provenance ------------------------------------------------------------------ */

/* The value at JSON pointer ptr in root, with its container and key/index. */
static json_t *at_ptr(json_t *root, const char *ptr, json_t **parent, char *key, size_t keycap,
		      size_t *idx)
{
	json_t *cur = root;
	*parent = NULL;
	const char *p = ptr;
	while (*p == '/') {
		p++;
		size_t o = 0;
		while (*p && *p != '/' && o + 1 < keycap) {
			if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
				key[o++] = p[1] == '0' ? '~' : '/';
				p += 2;
			} else {
				key[o++] = *p++;
			}
		}
		key[o] = '\0';
		*parent = cur;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, key);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long long i = strtoull(key, &end, 10);
			if (*end || !key[0])
				return NULL;
			*idx = (size_t)i;
			cur = json_array_get(cur, (size_t)i);
		} else {
			return NULL;
		}
		if (!cur)
			return NULL;
	}
	return *p ? NULL : cur;
}

static void set_at(json_t *parent, const char *key, size_t idx, json_t *v)
{
	if (json_is_object(parent))
		json_object_set_new(parent, key, v);
	else
		json_array_set_new(parent, idx, v);
}

static const struct lb_policy_bound *bound_named(const struct lb_policy *p, const char *name)
{
	for (size_t i = 0; name && i < p->nbounds; i++)
		if (!strcmp(p->bounds[i].name, name))
			return &p->bounds[i];
	return NULL;
}

struct unit {
	enum lb_prov_kind kind;
	const char *colkey;
	const uint64_t *keys;
	size_t n;
	const char *name;
	uint32_t set; /* index, or UINT32_MAX for a line's union */
};

static int cmp_unit(const void *a, const void *b)
{
	size_t x = ((const struct unit *)a)->n, y = ((const struct unit *)b)->n;
	return (x > y) - (x < y);
}

/* Union of the released count cells of group g (sorted keys, new), *n keys. */
static uint64_t *group_union(const struct lb_provenance *pv, uint32_t g, size_t *n)
{
	size_t cap = 0;
	for (size_t i = 0; i < pv->ncells; i++) {
		const struct lb_prov_cell *c = &pv->cells[i];
		if ((c->group[0] == g || c->group[1] == g) && cell_counts(c))
			cap += pv->sets[c->set].n;
	}
	uint64_t *u = lb_malloc((cap ? cap : 1) * sizeof *u);
	if (!u)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < pv->ncells; i++) {
		const struct lb_prov_cell *c = &pv->cells[i];
		if ((c->group[0] == g || c->group[1] == g) && cell_counts(c)) {
			memcpy(u + k, pv->sets[c->set].keys, pv->sets[c->set].n * sizeof *u);
			k += pv->sets[c->set].n;
		}
	}
	qsort(u, k, sizeof *u, cmp_u64p);
	size_t w = 0;
	for (size_t i = 0; i < k; i++)
		if (w == 0 || u[i] != u[w - 1])
			u[w++] = u[i];
	*n = w;
	return u;
}

/* ---- linear combinations (trackers) ---------------------------------------------------------- */


/* Whether linear combinations of the values over sets[0..m-1] isolate fewer than k records:
 * the records are grouped into atoms (same membership in every set, by refining a partition one
 * set at a time), and each row of the reduced row echelon form of the sets' atom-indicator
 * matrix is a combination of the released values that describes only the atoms it touches; one
 * touching 1 .. k-1 records is refused (it gives, e.g., one patient's value as sum(A) + sum(B)
 * - sum(C)). Pairwise differences are checked elsewhere; this catches trackers made of three or
 * more sets. Returns 0 (none), 1 (isolates: *weight records), 2 (too large to check). */
static int span_isolates(const struct lb_prov_set *const *sets, size_t m, unsigned k, size_t *weight)
{
	if (m < 3 || k < 2)
		return 0;
	if (m > SPAN_MAX_SETS)
		return 2;
	size_t total = 0;
	for (size_t i = 0; i < m; i++)
		total += sets[i]->n;
	uint64_t *u = lb_malloc((total ? total : 1) * sizeof *u);
	size_t *cls = NULL, *remap = NULL, *mult = NULL;
	double *M = NULL;
	int res = 2;
	if (!u)
		return 2;
	size_t nu = 0;
	for (size_t i = 0; i < m; i++) {
		memcpy(u + nu, sets[i]->keys, sets[i]->n * sizeof *u);
		nu += sets[i]->n;
	}
	qsort(u, nu, sizeof *u, cmp_u64p);
	size_t w = 0;
	for (size_t i = 0; i < nu; i++)
		if (w == 0 || u[i] != u[w - 1])
			u[w++] = u[i];
	nu = w;
	if ((double)m * (double)nu > SPAN_MAX_WORK)
		goto out;
	cls = lb_calloc(nu ? nu : 1, sizeof *cls);
	remap = lb_malloc(2 * (nu + 1) * sizeof *remap);
	if (!cls || !remap)
		goto out;
	size_t nclass = 1;
	for (size_t i = 0; i < m; i++) {
		for (size_t c = 0; c < 2 * nclass; c++)
			remap[c] = SIZE_MAX;
		size_t next = 0, j = 0;
		const struct lb_prov_set *st = sets[i];
		for (size_t r = 0; r < nu; r++) {
			while (j < st->n && st->keys[j] < u[r])
				j++;
			size_t bit = j < st->n && st->keys[j] == u[r];
			size_t *slot = &remap[2 * cls[r] + bit];
			if (*slot == SIZE_MAX)
				*slot = next++;
			cls[r] = *slot;
		}
		nclass = next;
	}
	size_t na = nclass;
	if ((double)m * (double)m * (double)na > SPAN_MAX_WORK * 4)
		goto out;
	mult = lb_calloc(na ? na : 1, sizeof *mult);
	size_t ncells = m * na;
	M = lb_calloc(ncells > 0 ? ncells : 1, sizeof *M);
	if (!mult || !M)
		goto out;
	for (size_t r = 0; r < nu; r++)
		mult[cls[r]]++;
	for (size_t i = 0; i < m; i++) {
		const struct lb_prov_set *st = sets[i];
		size_t j = 0;
		for (size_t r = 0; r < nu && j < st->n; r++) {
			while (j < st->n && st->keys[j] < u[r])
				j++;
			if (j < st->n && st->keys[j] == u[r])
				M[i * na + cls[r]] = 1;
		}
	}
	/* reduced row echelon form, partial pivoting */
	size_t row = 0;
	for (size_t c = 0; c < na && row < m; c++) {
		size_t piv = row;
		for (size_t i = row + 1; i < m; i++)
			if (fabs(M[i * na + c]) > fabs(M[piv * na + c]))
				piv = i;
		if (fabs(M[piv * na + c]) < 1e-9)
			continue;
		if (piv != row)
			for (size_t x = 0; x < na; x++) {
				double t = M[row * na + x];
				M[row * na + x] = M[piv * na + x];
				M[piv * na + x] = t;
			}
		double pv = M[row * na + c];
		for (size_t x = 0; x < na; x++)
			M[row * na + x] /= pv;
		for (size_t i = 0; i < m; i++) {
			if (i == row || fabs(M[i * na + c]) < 1e-12)
				continue;
			double f = M[i * na + c];
			for (size_t x = c; x < na; x++)
				M[i * na + x] -= f * M[row * na + x];
		}
		row++;
	}
	res = 0;
	for (size_t i = 0; i < row && !res; i++) {
		size_t wt = 0;
		for (size_t a = 0; a < na; a++)
			if (fabs(M[i * na + a]) > 1e-9)
				wt += mult[a];
		if (wt > 0 && wt < k) {
			res = 1;
			*weight = wt;
		}
	}
out:
	lb_free(u);
	lb_free(cls);
	lb_free(remap);
	lb_free(mult);
	lb_free(M);
	return res;
}

/* The span check per class of linear values: all counts together, and the sums and means of
 * each column. */
static bool tracked(const struct lb_provenance *pv, unsigned k, char *why, size_t whylen)
{
	const struct lb_prov_set **sets = lb_malloc(SPAN_MAX_SETS * sizeof *sets);
	uint32_t *ids = lb_malloc(SPAN_MAX_SETS * sizeof *ids);
	bool bad = false;
	if (!sets || !ids)
		goto out;
	for (size_t lead = 0; lead < pv->ncells && !bad; lead++) {
		const struct lb_prov_cell *L = &pv->cells[lead];
		if (!cell_counts(L) || (L->kind != LB_PROV_COUNT && L->kind != LB_PROV_SUM && L->kind != LB_PROV_MEAN))
			continue;
		/* each class once: from its first cell */
		bool seen = false;
		for (size_t i = 0; i < lead && !seen; i++) {
			const struct lb_prov_cell *c = &pv->cells[i];
			seen = cell_counts(c) &&
			       (L->kind == LB_PROV_COUNT ? c->kind == LB_PROV_COUNT
							 : (c->kind == LB_PROV_SUM || c->kind == LB_PROV_MEAN) &&
								   !strcmp(c->column, L->column));
		}
		if (seen)
			continue;
		size_t m = 0;
		for (size_t i = lead; i < pv->ncells && m < SPAN_MAX_SETS; i++) {
			const struct lb_prov_cell *c = &pv->cells[i];
			bool same = cell_counts(c) &&
				    (L->kind == LB_PROV_COUNT ? c->kind == LB_PROV_COUNT
							      : (c->kind == LB_PROV_SUM || c->kind == LB_PROV_MEAN) &&
									!strcmp(c->column, L->column));
			if (!same || pv->sets[c->set].n == 0)
				continue;
			bool dup = false;
			for (size_t j = 0; j < m && !dup; j++)
				dup = ids[j] == c->set;
			if (!dup) {
				ids[m] = c->set;
				sets[m++] = &pv->sets[c->set];
			}
		}
		size_t w = 0;
		int sp = m >= SPAN_MAX_SETS ? 2 : span_isolates(sets, m, k, &w);
		if (sp == 1) {
			snprintf(why, whylen,
				 "a combination of the released %.80s%s describes fewer records than the minimum "
				 "cohort %u: together they would give those records' values",
				 L->kind == LB_PROV_COUNT ? "counts" : "sums and means of ",
				 L->kind == LB_PROV_COUNT ? "" : L->column, k);
			bad = true;
		} else if (sp == 2) {
			snprintf(why, whylen,
				 "the release holds too many distinct record sets of %.80s%s to check their combinations "
				 "(at most %d sets and 10^9 steps); ask for fewer values",
				 L->kind == LB_PROV_COUNT ? "counts" : "sums and means of ",
				 L->kind == LB_PROV_COUNT ? "" : L->column, SPAN_MAX_SETS - 1);
			bad = true;
		}
	}
out:
	lb_free(sets);
	lb_free(ids);
	return bad;
}

/* Within one release: any two values over meeting columns whose sets differ by 0 < d < k; a
 * line's released cells taken together count as one more count. */
static bool differenced(const struct lb_provenance *pv, unsigned k, bool reads, char *why, size_t whylen)
{
	uint32_t maxg = 0;
	for (size_t i = 0; i < pv->ncells; i++)
		for (int j = 0; j < 2; j++)
			if (pv->cells[i].group[j] > maxg && pv->cells[i].group[j] < 1u << 20)
				maxg = pv->cells[i].group[j];
	size_t nu = 0, ng = 0;
	struct unit *u = lb_malloc((pv->ncells + maxg + 1) * sizeof *u);
	uint64_t **owned = lb_calloc(maxg + 1, sizeof *owned);
	bool bad = false;
	if (!u || !owned) {
		snprintf(why, whylen, "out of memory checking the release");
		bad = true;
		goto out;
	}
	for (size_t i = 0; i < pv->ncells; i++) {
		const struct lb_prov_cell *c = &pv->cells[i];
		const struct lb_prov_set *s = &pv->sets[c->set];
		if (cell_counts(c) && s->n > 0)
			u[nu++] = (struct unit){c->kind, c->colkey, s->keys, s->n, cell_name(pv, c, reads), c->set};
	}
	for (uint32_t g = 1; g <= maxg; g++) {
		size_t n;
		uint64_t *keys = group_union(pv, g, &n);
		if (!keys) {
			snprintf(why, whylen, "out of memory checking the release");
			bad = true;
			goto out;
		}
		owned[ng++] = keys;
		if (n > 0)
			u[nu++] = (struct unit){LB_PROV_COUNT, "", keys, n, "the released cells of a table line taken together",
						UINT32_MAX};
	}
	qsort(u, nu, sizeof *u, cmp_unit);
	for (size_t i = 0; i < nu && !bad; i++) {
		for (size_t j = i + 1; j < nu && u[j].n - u[i].n < k && !bad; j++) {
			if ((u[i].set == u[j].set && u[i].set != UINT32_MAX) ||
			    !xprov_meet(u[i].kind, u[i].colkey, u[j].kind, u[j].colkey))
				continue;
			size_t d = xprov_symdiff(u[i].keys, u[i].n, u[j].keys, u[j].n, k);
			if (d > 0 && d < k) {
				snprintf(why, whylen,
					 "%.180s and %.180s are computed over records that differ by fewer than the "
					 "minimum cohort %u: their difference would describe those records",
					 u[i].name, u[j].name, k);
				bad = true;
			}
		}
	}
out:
	for (size_t i = 0; i < ng; i++)
		lb_free(owned[i]);
	lb_free(owned);
	lb_free(u);
	return bad;
}

static size_t longest_array(json_t *v, int depth)
{
	size_t m = 0, i;
	const char *k;
	json_t *e;
	if (depth > 64)
		return 0;
	if (json_is_array(v)) {
		m = json_array_size(v);
		json_array_foreach(v, i, e)
		{
			size_t x = longest_array(e, depth + 1);
			m = x > m ? x : m;
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, e)
		{
			size_t x = longest_array(e, depth + 1);
			m = x > m ? x : m;
		}
	}
	return m;
}

int lb_policy_release(const struct lb_policy *p, const json_t *result, const struct lb_provenance *pv,
		      const struct lb_release_opts *o, struct lb_release *rel, struct lb_errmsg *em)
{
	static const struct lb_release_opts none;
	if (!o)
		o = &none;
	memset(rel, 0, sizeof *rel);
	if (!json_is_object(result))
		return withhold(rel, LB_EDENIED, "the result is not a JSON object", em);
	json_t *r = json_deep_copy(result);
	if (!r)
		return LB_ENOMEM;
	char why[512];
	int rc;
	const char *user = o->user ? o->user : "local", *asset = o->asset ? o->asset : "local";
	if (!pv) {
		if (o->review) {
			/* an owner's review of a per-record result: shown to the owner, never released */
			char *text = xjson_canonical(r);
			rel->text = text ? lb_strdup(text) : NULL;
			rel->len = rel->text ? strlen(rel->text) : 0;
			free(text);
			json_decref(r);
			rel->code = LB_EDENIED;
			snprintf(rel->reason, sizeof rel->reason,
				 "review only: a per-record result for the owner, never released");
			return rel->text ? LB_OK : LB_ENOMEM;
		}
		rc = withhold(rel, LB_EDENIED, "the result has no provenance: only results computed through the "
					       "aggregation interface are released", em);
		goto out;
	}
	unsigned k = p->min_cohort;
	bool reads = prov_has_reads(pv);
	if (pv->min_cohort < k) {
		snprintf(why, sizeof why, "the sandbox applied a minimum cohort of %u, the policy needs %u",
			 pv->min_cohort, k);
		rc = withhold(rel, LB_EDENIED, why, em);
		goto out;
	}
	/* every value: its own records, per cell, after any filter */
	for (size_t i = 0; i < pv->ncells; i++) {
		const struct lb_prov_cell *c = &pv->cells[i];
		size_t n = pv->sets[c->set].n;
		if (c->flags & LB_PROV_SUPPRESSED) {
			json_t *parent, *v;
			char key[256];
			size_t idx = 0;
			if ((c->flags & LB_PROV_PLACED) &&
			    (!(v = at_ptr(r, c->ptr, &parent, key, sizeof key, &idx)) || !json_is_null(v))) {
				rc = withhold(rel, LB_EDENIED, "a suppressed cell is not empty in the result", em);
				goto out;
			}
			continue;
		}
		if (!(c->flags & (LB_PROV_PLACED | LB_PROV_READ)) || n >= k || (n == 0 && (c->flags & LB_PROV_ZERO_OK)))
			continue;
		/* the reason says which rule, never the small count itself */
		snprintf(why, sizeof why, "%.200s is computed over fewer records than the minimum cohort %u (below "
					  "the minimum cohort %u)",
			 cell_name(pv, c, reads), k, k);
		rc = withhold(rel, LB_EDENIED, why, em);
		rel->rule = LB_RELEASE_COHORT;
		goto out;
	}
	if (p->aggregates_only && longest_array(r, 0) > p->max_array) {
		snprintf(why, sizeof why, "the result has an array longer than %zu entries: it looks like row-level data",
			 p->max_array);
		rc = withhold(rel, LB_EDENIED, why, em);
		goto out;
	}
	if (differenced(pv, k, reads, why, sizeof why) || tracked(pv, k, why, sizeof why)) {
		rc = withhold(rel, LB_EDENIED, why, em);
		rel->rule = LB_RELEASE_DIFFERENCING;
		goto out;
	}
	if (o->history) {
		struct lb_errmsg hem;
		lb_errclear(&hem);
		if ((rc = lb_release_history_check(o->history, user, asset, pv, k, &hem))) {
			withhold(rel, rc, hem.text, em);
			if (rc == LB_EDENIED)
				rel->rule = LB_RELEASE_DIFFERENCING;
			goto out;
		}
	}
	/* noise: counts, sums and means; sds removed */
	if (p->epsilon > 0) {
		size_t nn = 0;
		for (size_t i = 0; i < pv->ncells; i++) {
			const struct lb_prov_cell *c = &pv->cells[i];
			if (!(c->flags & LB_PROV_PLACED) || (c->flags & LB_PROV_SUPPRESSED))
				continue;
			if (c->flags & LB_PROV_READ) {
				rc = withhold(rel, LB_EDENIED, "the policy adds noise but the script read exact values", em);
				goto out;
			}
			if ((c->kind == LB_PROV_SUM || c->kind == LB_PROV_MEAN) && !bound_named(p, c->column)) {
				snprintf(why, sizeof why,
					 "%.200s has no clamping bounds in the policy (\"bounds\": {\"%.60s\": [low, high]}), so "
					 "its noise cannot be calibrated",
					 cell_name(pv, c, reads), c->column[0] ? c->column : "NAME");
				rc = withhold(rel, LB_EDENIED, why, em);
				goto out;
			}
			nn += c->kind == LB_PROV_COUNT || c->kind == LB_PROV_SUM || c->kind == LB_PROV_MEAN;
		}
		if (!o->budget) {
			rc = withhold(rel, LB_EDENIED, "the policy adds noise but no privacy budget was given", em);
			goto out;
		}
		double spent;
		if ((rc = lb_dp_budget_spent(o->budget, user, asset, &spent, em)))
			goto out;
		if (spent + p->epsilon > p->budget + 1e-12) {
			snprintf(why, sizeof why,
				 "privacy budget of '%.100s' on '%.100s' exhausted: spent %g of %g, this release needs %g",
				 user, asset, spent, p->budget, p->epsilon);
			rc = withhold(rel, LB_EDENIED, why, em);
			rel->rule = LB_RELEASE_BUDGET;
			goto out;
		}
		double scale = (double)(nn ? nn : 1) / p->epsilon;
		for (size_t i = 0; i < pv->ncells; i++) {
			const struct lb_prov_cell *c = &pv->cells[i];
			json_t *parent, *v;
			char key[256];
			size_t idx = 0;
			if (!(c->flags & LB_PROV_PLACED) || (c->flags & LB_PROV_SUPPRESSED) ||
			    !(v = at_ptr(r, c->ptr, &parent, key, sizeof key, &idx)) || !parent)
				continue;
			double x = json_number_value(v);
			const struct lb_policy_bound *b = bound_named(p, c->column);
			if (c->kind == LB_PROV_COUNT && json_is_number(v)) {
				set_at(parent, key, idx, noised(x, scale));
			} else if (c->kind == LB_PROV_SUM && json_is_number(v) && b) {
				set_at(parent, key, idx, json_real(x + laplace(scale * fmax(fabs(b->lo), fabs(b->hi)))));
			} else if (c->kind == LB_PROV_MEAN && json_is_number(v) && b) {
				double n = (double)pv->sets[c->set].n;
				x = x < b->lo ? b->lo : x > b->hi ? b->hi : x;
				x += laplace(scale * (b->hi - b->lo) / (n >= 1 ? n : 1));
				x = x < b->lo ? b->lo : x > b->hi ? b->hi : x;
				set_at(parent, key, idx, json_real(x));
			} else if (c->kind == LB_PROV_SD) {
				if (json_is_object(parent))
					json_object_del(parent, key);
				else
					json_array_set_new(parent, idx, json_null());
				rel->removed++;
			}
		}
	}
	char *text = xjson_canonical(r);
	if (!text) {
		rc = LB_ENOMEM;
		goto out;
	}
	size_t len = strlen(text);
	if (len > p->max_output) {
		free(text);
		snprintf(why, sizeof why, "the result is %zu bytes, more than the policy's maximum output of %zu", len,
			 p->max_output);
		rc = withhold(rel, LB_ETOOBIG, why, em);
		goto out;
	}
	rel->text = lb_malloc(len + 1);
	if (!rel->text) {
		free(text);
		rc = LB_ENOMEM;
		goto out;
	}
	memcpy(rel->text, text, len + 1);
	free(text);
	rel->len = len;
	if (o->review) {
		rel->code = LB_EDENIED;
		snprintf(rel->reason, sizeof rel->reason, "review only: this is what would be released; nothing was "
							  "released, charged or recorded");
		rc = LB_OK;
		goto out;
	}
	if (p->epsilon > 0 && (rc = lb_dp_budget_charge(o->budget, user, asset, p->epsilon, p->budget, em))) {
		lb_free(rel->text);
		rel->text = NULL;
		withhold(rel, rc, em->text, NULL);
		goto out;
	}
	if (o->history && (rc = lb_release_history_record(o->history, user, asset, pv, em))) {
		lb_free(rel->text);
		rel->text = NULL;
		withhold(rel, rc, em->text, NULL);
		goto out;
	}
	crypto_generichash(rel->hash, sizeof rel->hash, (const uint8_t *)rel->text, len, NULL, 0);
	rel->released = true;
	rel->rule = LB_RELEASE_NONE;
	rel->code = LB_OK;
	rel->epsilon_spent = p->epsilon;
	snprintf(rel->reason, sizeof rel->reason, "released");
	rc = LB_OK;
out:
	json_decref(r);
	return rc;
}
