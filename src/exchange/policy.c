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
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "exchange/exchange_int.h"
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

int lb_dp_budget_open(const char *path, struct lb_dp_budget **out, struct lb_errmsg *em)
{
	struct lb_dp_budget *b = lb_calloc(1, sizeof *b);
	if (!b)
		return LB_ENOMEM;
	if (sqlite3_open(path ? path : ":memory:", &b->db) != SQLITE_OK ||
	    sqlite3_exec(b->db,
			 "CREATE TABLE IF NOT EXISTS dp_budget(user TEXT NOT NULL, asset TEXT NOT NULL, "
			 "spent REAL NOT NULL, PRIMARY KEY(user, asset))",
			 NULL, NULL, NULL) != SQLITE_OK) {
		int rc = lb_errf(em, LB_EIO, "privacy budget %s: %s", path ? path : "(memory)",
				 b->db ? sqlite3_errmsg(b->db) : "cannot open");
		sqlite3_close(b->db);
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
				snprintf(w->why, sizeof w->why, "cell %s[%zu] = %g is below the minimum cohort %u",
					 path, i, v, w->p->min_cohort);
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
					snprintf(w->why, sizeof w->why, "%s = %g is below the minimum cohort %u", sub,
						 json_number_value(e), p->min_cohort);
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

int lb_release_seal(const struct lb_release *rel, const uint8_t user_pk[LB_ENVELOPE_PKBYTES],
		    uint8_t **env, size_t *envlen, struct lb_errmsg *em)
{
	if (!rel->released || !rel->text)
		return lb_errf(em, LB_EDENIED, "the result was withheld: nothing to seal");
	return lb_envelope_seal((const uint8_t(*)[LB_ENVELOPE_PKBYTES])user_pk, 1, (const uint8_t *)rel->text,
				rel->len, env, envlen, em);
}
