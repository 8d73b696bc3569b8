/* Attacks on the aggregate-only sandbox: each test plays an approved algorithm trying to get a
 * raw value out (rows in column arrays or packed in digits, a filter down to one patient with
 * a declared n, a name the key-based policy does not know, two aggregates differing by one
 * record inside one run or across runs, a revoked consent and a re-run, shifted histogram bins,
 * a suppressed cell recovered from a total, Kaplan–Meier steps of single individuals, a value
 * read inside the script and encoded elsewhere) and asserts that nothing is released; plus
 * the Lua instruction cap in finalizers, close handlers, error handlers, pattern functions and
 * copying functions, the size buckets of sealed results, and the honest analyses that must
 * still be released. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "leben/algo.h"
#include "leben/base.h"
#include "leben/sandbox.h"
#include "test.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

#define K 10

static char g_csv[8192];

/* 40 patients: id, age 30..69, sex, bp; P07 is the only one aged 91 */
static const char *csv(void)
{
	if (!g_csv[0]) {
		size_t o = (size_t)snprintf(g_csv, sizeof g_csv, "id,age,sex,bp,time,event\n");
		for (int i = 1; i <= 40; i++)
			o += (size_t)snprintf(g_csv + o, sizeof g_csv - o, "P%02d,%d,%s,%d,%d,%d\n", i,
					      i == 7 ? 91 : 30 + i, i % 2 ? "F" : "M", 100 + (i * 37) % 60, i, i % 3 != 0);
	}
	return g_csv;
}

struct outcome {
	struct lb_sandbox_report rep;
	int run_rc;
	struct lb_release rel;
	bool released;
};

static void job_for(struct lb_sandbox_job *job, const char *lua, const char *algo, const char *params)
{
	memset(job, 0, sizeof *job);
	job->input.data = (const uint8_t *)csv();
	job->input.len = strlen(csv());
	job->limits.cpu_ms = 10000;
	job->limits.wall_ms = 30000;
	job->limits.lua_instructions = 1000000;
	job->limits.memory = 256u << 20;
	job->min_cohort = K;
	job->patient_col = "id";
	if (lua) {
		job->lua_src = lua;
		job->lua_len = strlen(lua);
	}
	job->algorithm = algo;
	job->params = params ? json_loads(params, 0, NULL) : NULL;
}

/* Run and release under min_cohort K (history and user optional). */
static void play(struct lb_sandbox_job *job, struct lb_release_history *h, const char *user,
		 struct outcome *o)
{
	struct lb_errmsg em;
	memset(o, 0, sizeof *o);
	o->run_rc = lb_sandbox_run(job, &o->rep, &em);
	json_decref((json_t *)job->params);
	job->params = NULL;
	if (o->run_rc != LB_OK)
		return;
	struct lb_policy p;
	lb_policy_default(&p);
	p.min_cohort = K;
	struct lb_release_opts ro = {.history = h, .user = user ? user : "mallory", .asset = "cohort"};
	lb_policy_release(&p, o->rep.result, o->rep.prov, &ro, &o->rel, &em);
	o->released = o->rel.released;
}

static void done(struct outcome *o)
{
	lb_release_release(&o->rel);
	lb_sandbox_report_release(&o->rep);
}

/* The attack gets nothing: the run stops, or the release is withheld; why names the rule. */
static void nothing_out(const char *lua, const char *algo, const char *params, const char *why)
{
	struct lb_sandbox_job job;
	struct outcome o;
	job_for(&job, lua, algo, params);
	play(&job, NULL, NULL, &o);
	if (o.released)
		fail_msg("released: %s", o.rel.text);
	const char *reason = o.run_rc ? o.rep.reason : o.rel.reason;
	if (why && !strstr(reason, why))
		fail_msg("reason '%s' lacks '%s'", reason, why);
	/* the reason names the rule, never the small count it caught */
	if (strstr(reason, "over 1 ") || strstr(reason, "by 1 ") || strstr(reason, " 1 record"))
		fail_msg("reason '%s' tells a small count", reason);
	assert_null(o.rel.text);
	done(&o);
}

static json_t *released(const char *lua, const char *algo, const char *params, struct outcome *o)
{
	struct lb_sandbox_job job;
	job_for(&job, lua, algo, params);
	play(&job, NULL, NULL, o);
	if (!o->released)
		fail_msg("withheld: %s %s", o->rep.reason, o->rel.reason);
	json_t *j = json_loads(o->rel.text, 0, NULL);
	assert_non_null(j);
	return j;
}

/* ---- row-shaped results ---- */

static void test_rows_are_not_reachable(void **state)
{
	(void)state;
	/* column arrays: there is no per-record access */
	nothing_out("return {n = agg.count(), age = data.col('age')}", NULL, NULL, "field 'col'");
	/* rows packed into digits, a string blob, a name the old policy did not know */
	nothing_out("return {n = agg.count(), packed = 30313233}", NULL, NULL, "plain number");
	nothing_out("return {n = agg.count(), cnt = {1, 1, 2}}", NULL, NULL, "plain number");
	nothing_out("return {n = agg.count(), blob = 'P07:91;P08:38'}", NULL, NULL, "neither a column name");
	nothing_out("return {n = agg.count(), [\"$prov\"] = agg.count()}", NULL, NULL, "refused");
	nothing_out("return {n = agg.count(), f = function() end}", NULL, NULL, "cannot be released");
	/* one object per row via filters: each is a cohort of one */
	nothing_out("local out = {n = agg.count()}\n"
		    "for i = 1, 12 do out['p' .. i] = agg.mean('age', {{col = 'id', eq = string.format('P%02d', i)}}) end\n"
		    "return out",
		    NULL, NULL, "below the minimum cohort");
}

/* ---- declared cohorts ---- */

static void test_declared_n_means_nothing(void **state)
{
	(void)state;
	/* filter to one patient and call it n = 40: the sandbox knows the real set */
	nothing_out("local one = {{col = 'id', eq = 'P07'}}\n"
		    "return {n = agg.count(), age = agg.mean('age', one)}",
		    NULL, NULL, "fewer records than the minimum cohort 10");
	nothing_out("return {n = agg.count(), old = agg.count({{col = 'age', ge = 90}})}", NULL, NULL,
		    "below the minimum cohort");
	/* reading the value inside and hiding it in a filter threshold of a released count */
	nothing_out("local v = agg.mean('age', {{col = 'id', eq = 'P07'}}).value\n"
		    "return {n = agg.count({{col = 'age', lt = v}})}",
		    NULL, NULL, "minimum cohort");
	/* ... or in a string key */
	nothing_out("local v = agg.mean('age', {{col = 'id', eq = 'P07'}}).value\n"
		    "return {n = agg.count(), [tostring(v)] = agg.count()}",
		    NULL, NULL, "minimum cohort");
	/* a read refusal cannot be caught */
	nothing_out("local ok = pcall(function() return agg.mean('age', {{col = 'id', eq = 'P07'}}).value end)\n"
		    "return {n = agg.count()}",
		    NULL, NULL, "minimum cohort");
	/* an aggregate that cannot be computed on a tiny cohort stops the run: its error is no
	 * oracle a script could catch and encode */
	nothing_out("local ok, e = pcall(agg.linreg, 'bp', {'age'}, {{col = 'id', eq = 'P07'}})\n"
		    "return {n = agg.count(), [tostring(e):sub(1, 30)] = agg.count()}",
		    NULL, NULL, "could not be computed");
	/* the error text cannot carry a value read before */
	nothing_out("error('mean ' .. agg.mean('age').value)", NULL, NULL, "withheld");
}

/* ---- differencing inside one run ---- */

/* Sticky filters: a filter that moves fewer than min_cohort records away from an earlier one is
 * computed over the earlier one's records, so both values are equal and their difference is 0
 * whether the filter moved one record or none (and nothing is withheld that would say which). */
static void same_values(const char *lua, const char *a, const char *b)
{
	struct outcome o;
	json_t *j = released(lua, NULL, NULL, &o);
	json_t *va = json_object_get(j, a), *vb = json_object_get(j, b);
	if (!json_is_number(va) || !json_is_number(vb) || json_number_value(va) != json_number_value(vb))
		fail_msg("not the same value: %s", o.rel.text);
	json_decref(j);
	done(&o);
}

/* The rule that withheld a release is named by code (what a public record may carry). */
static void withheld_by(const char *lua, enum lb_release_rule rule)
{
	struct lb_sandbox_job job;
	struct outcome o;
	job_for(&job, lua, NULL, NULL);
	play(&job, NULL, NULL, &o);
	assert_false(o.released);
	assert_int_equal(o.rel.rule, rule);
	done(&o);
}

static void test_release_rules_named(void **state)
{
	(void)state;
	withheld_by("return {m = agg.mean('age', {{col = 'id', eq = 'P07'}})}", LB_RELEASE_COHORT);
	withheld_by("return {a = agg.count({{col = 'sex', eq = 'F'}}), b = agg.count({{col = 'sex', eq = 'M'}}),\n"
		    "        c = agg.count({{col = 'id', ne = 'P07'}})}",
		    LB_RELEASE_DIFFERENCING);
	struct outcome o;
	json_t *j = released("return {n = agg.count()}", NULL, NULL, &o);
	assert_int_equal(o.rel.rule, LB_RELEASE_NONE);
	json_decref(j);
	done(&o);
}

static void test_differencing_within_a_run(void **state)
{
	(void)state;
	same_values("return {a = agg.sum('age'), b = agg.sum('age', {{col = 'id', ne = 'P07'}})}", "a", "b");
	same_values("return {a = agg.count(), b = agg.count({{col = 'id', ne = 'P07'}})}", "a", "b");
	/* a filter moving no record and one moving P07 look the same */
	same_values("return {a = agg.count(), b = agg.count({{col = 'age', ge = 0}})}", "a", "b");
	/* reads: the second read is over the first one's records: the difference inside is 0 */
	same_values("local a = agg.sum('age').value\n"
		    "local b = agg.sum('age', {{col = 'id', ne = 'P07'}}).value\n"
		    "return {n = agg.count(), d = agg.count({{col = 'age', ge = a - b}})}",
		    "n", "d");
	/* a tracker: sum(age < 50) + sum(age >= 50) - sum(everyone but P07) = P07's bp; no two of
	 * the three differ by fewer than 10 records */
	nothing_out("return {a = agg.sum('bp', {{col = 'age', lt = 50}}), b = agg.sum('bp', {{col = 'age', ge = 50}}),\n"
		    "        c = agg.sum('bp', {{col = 'id', ne = 'P07'}})}",
		    NULL, NULL, "combination of the released sums");
	nothing_out("return {a = agg.count({{col = 'sex', eq = 'F'}}), b = agg.count({{col = 'sex', eq = 'M'}}),\n"
		    "        c = agg.count({{col = 'id', ne = 'P07'}})}",
		    NULL, NULL, "combination of the released counts");
	/* a suppressed histogram cell recovered as the total minus the others */
	struct outcome o;
	json_t *j = released("return {n = agg.count(), h = agg.histogram('age', {30, 40, 50, 60, 71, 100})}", NULL,
			     NULL, &o);
	json_t *c = json_object_get(json_object_get(j, "h"), "counts");
	json_int_t sum = 0;
	size_t nulls = 0;
	for (size_t i = 0; i < json_array_size(c); i++) {
		sum += json_integer_value(json_array_get(c, i));
		nulls += json_is_null(json_array_get(c, i));
	}
	/* the bin of the one 91-year-old is suppressed, and so is at least one more, so the
	 * total minus the released cells is >= 10 people, not one */
	assert_true(nulls >= 2);
	assert_true(40 - sum >= K);
	json_decref(j);
	done(&o);
}

/* ---- built-ins ---- */

static void test_builtins_leak_nothing(void **state)
{
	(void)state;
	struct outcome o;
	/* no extremes; a histogram needs its range from the parameters */
	json_t *j = released(NULL, "stats", "{\"columns\":[\"age\"]}", &o);
	json_t *age = json_array_get(json_object_get(j, "columns"), 0);
	assert_null(json_object_get(age, "min"));
	assert_null(json_object_get(age, "max"));
	json_decref(j);
	done(&o);
	nothing_out(NULL, "stats", "{\"columns\":[\"age\"],\"bins\":5}", "never comes from the data");
	/* a column with a few missing values: its n and missing are suppressed together, the rest
	 * is released (the table's n minus the column's would give the missing ones) */
	{
		struct lb_sandbox_job mj;
		static const char miss[] = "id,x\n"
					   "A,1\nB,2\nC,\nD,4\nE,5\nF,6\nG,7\nH,8\nI,9\nJ,10\nK,11\nL,12\n";
		job_for(&mj, NULL, "stats", "{\"columns\":[\"x\"]}");
		mj.input.data = (const uint8_t *)miss;
		mj.input.len = sizeof miss - 1;
		play(&mj, NULL, NULL, &o);
		assert_true(o.released);
		j = json_loads(o.rel.text, 0, NULL);
		json_t *x = json_array_get(json_object_get(j, "columns"), 0);
		assert_true(json_is_null(json_object_get(x, "missing")));
		assert_true(json_is_null(json_object_get(x, "n")));
		assert_int_equal(json_integer_value(json_object_get(j, "n")), 12);
		assert_true(json_is_number(json_object_get(x, "mean")));
		json_decref(j);
		done(&o);
	}
	/* crosstab of id: every level name is one patient, suppressed */
	j = released(NULL, "crosstab", "{\"rows\":\"id\",\"cols\":\"sex\"}", &o);
	json_t *lv = json_object_get(j, "row_levels");
	for (size_t i = 0; i < json_array_size(lv); i++)
		assert_true(json_is_null(json_array_get(lv, i)));
	json_decref(j);
	done(&o);
	/* Kaplan–Meier: no step has 1..9 events or censorings */
	j = released(NULL, "km", "{\"time\":\"time\",\"event\":\"event\"}", &o);
	json_t *ev = json_object_get(j, "events"), *ce = json_object_get(j, "censored"),
	       *ar = json_object_get(j, "at_risk");
	assert_true(json_array_size(ev) > 0);
	for (size_t i = 0; i < json_array_size(ev); i++) {
		json_int_t d = json_integer_value(json_array_get(ev, i)), c = json_integer_value(json_array_get(ce, i));
		assert_true(d == 0 || d >= K);
		assert_true(c == 0 || c >= K);
		assert_true(json_integer_value(json_array_get(ar, i)) >= K);
	}
	json_decref(j);
	done(&o);
	/* k-means: a cluster of the lone 91-year-old has its centroid and size suppressed */
	j = released(NULL, "kmeans", "{\"columns\":[\"age\"],\"k\":3,\"seed\":1}", &o);
	json_t *cn = json_object_get(j, "counts"), *ct = json_object_get(j, "centroids");
	for (size_t i = 0; i < json_array_size(cn); i++) {
		json_t *x = json_array_get(cn, i);
		if (json_is_null(x))
			assert_true(json_is_null(json_array_get(json_array_get(ct, i), 0)));
		else
			assert_true(json_integer_value(x) >= K);
	}
	json_decref(j);
	done(&o);
	/* a regression over a filtered cohort of one is not released */
	nothing_out("return {fit = agg.linreg('bp', {'age'}, {{col = 'age', ge = 65}})}", NULL, NULL,
		    "below the minimum cohort");
}

/* ---- across releases ---- */

/* With the executor's history passed in (job.prior, as leben exchange run does), the second of
 * two runs around a cell is computed over the first one's records: released, the same count,
 * so the pair tells nothing, and its being released tells nothing either. */
static void test_sticky_across_runs(void **state)
{
	(void)state;
	struct lb_release_history *h;
	struct lb_errmsg em;
	assert_lb_ok(lb_release_history_open(NULL, &h, &em));
	struct lb_sandbox_job job;
	struct outcome o;
	job_for(&job, "return {n = agg.count({{col = 'age', lt = 60}})}", NULL, NULL);
	play(&job, h, "mallory", &o);
	assert_true(o.released);
	json_t *j1 = json_loads(o.rel.text, 0, NULL);
	done(&o);
	struct lb_prov_set *prior;
	size_t nprior;
	assert_lb_ok(lb_release_history_sets(h, "mallory", "cohort", &prior, &nprior, &em));
	assert_true(nprior >= 1);
	job_for(&job, "return {n = agg.count({{col = 'age', lt = 61}})}", NULL, NULL);
	job.prior = prior;
	job.nprior = nprior;
	play(&job, h, "mallory", &o);
	assert_true(o.released);
	json_t *j2 = json_loads(o.rel.text, 0, NULL);
	assert_true(json_equal(json_object_get(j1, "n"), json_object_get(j2, "n")));
	json_decref(j1);
	json_decref(j2);
	done(&o);
	lb_prov_sets_free(prior, nprior);
	lb_release_history_close(h);
}

static void test_differencing_across_runs(void **state)
{
	(void)state;
	struct lb_release_history *h;
	struct lb_errmsg em;
	assert_lb_ok(lb_release_history_open(NULL, &h, &em));
	struct lb_sandbox_job job;
	struct outcome o;
	/* run 1: the mean age of everyone */
	job_for(&job, NULL, "stats", "{\"columns\":[\"age\"]}");
	play(&job, h, "mallory", &o);
	assert_true(o.released);
	done(&o);
	/* P07 revokes consent; the same request again would give P07's age as the difference */
	const char *ex[] = {"P07"};
	job_for(&job, NULL, "stats", "{\"columns\":[\"age\"]}");
	job.exclude = ex;
	job.nexclude = 1;
	play(&job, h, "mallory", &o);
	assert_int_equal(o.rep.excluded, 1);
	assert_false(o.released);
	assert_non_null(strstr(o.rel.reason, "released earlier"));
	done(&o);
	/* another user is not affected by mallory's history */
	job_for(&job, NULL, "stats", "{\"columns\":[\"age\"]}");
	job.exclude = ex;
	job.nexclude = 1;
	play(&job, h, "alice", &o);
	assert_true(o.released);
	done(&o);
	/* two runs around a cell: count(age < 60) then count(age < 61) differ by one patient */
	job_for(&job, "return {n = agg.count({{col = 'age', lt = 60}})}", NULL, NULL);
	play(&job, h, "mallory", &o);
	assert_true(o.released);
	done(&o);
	job_for(&job, "return {n = agg.count({{col = 'age', lt = 61}})}", NULL, NULL);
	play(&job, h, "mallory", &o);
	assert_false(o.released);
	done(&o);
	/* shifted bins: [30, 50) then [30, 50.5) ... the cells differ by fewer than 10 */
	job_for(&job, "return {h = agg.histogram('age', {30, 50, 100})}", NULL, NULL);
	play(&job, h, "eve", &o);
	assert_true(o.released);
	done(&o);
	job_for(&job, "return {h = agg.histogram('age', {30, 51, 100})}", NULL, NULL);
	play(&job, h, "eve", &o);
	assert_false(o.released);
	done(&o);
	/* a tracker across three runs: mean bp of the young, of the old, of everyone but P07 */
	const char *tr[] = {"return {m = agg.sum('bp', {{col = 'age', lt = 50}})}",
			    "return {m = agg.sum('bp', {{col = 'age', ge = 50}})}",
			    "return {m = agg.sum('bp', {{col = 'id', ne = 'P07'}})}"};
	for (int i = 0; i < 3; i++) {
		job_for(&job, tr[i], NULL, NULL);
		play(&job, h, "trudy", &o);
		assert_int_equal(o.released, i < 2);
		if (i == 2)
			assert_non_null(strstr(o.rel.reason, "released earlier"));
		done(&o);
	}
	lb_release_history_close(h);
}

/* The history is a file the executor keeps: it survives closing and reopening. */
static void test_history_persists(void **state)
{
	(void)state;
	char path[] = "/tmp/leben-releases-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct lb_release_history *h;
	struct lb_errmsg em;
	struct lb_sandbox_job job;
	struct outcome o;
	assert_lb_ok(lb_release_history_open(path, &h, &em));
	job_for(&job, NULL, "stats", "{\"columns\":[\"bp\"]}");
	play(&job, h, "mallory", &o);
	assert_true(o.released);
	done(&o);
	lb_release_history_close(h);
	assert_lb_ok(lb_release_history_open(path, &h, &em));
	const char *ex[] = {"P12"};
	job_for(&job, NULL, "stats", "{\"columns\":[\"bp\"]}");
	job.exclude = ex;
	job.nexclude = 1;
	play(&job, h, "mallory", &o);
	assert_false(o.released);
	done(&o);
	lb_release_history_close(h);
	unlink(path);
	/* an unusable path is an error naming it */
	assert_int_equal(lb_release_history_open("/nonexistent-dir/x/releases.db", &h, &em), LB_EIO);
	assert_non_null(strstr(em.text, "/nonexistent-dir/x/releases.db"));
}

/* ---- the instruction cap holds for all code ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void capped(const char *lua, const char *why)
{
	struct lb_sandbox_job job;
	struct outcome o;
	job_for(&job, lua, NULL, NULL);
	double t0 = now_s();
	play(&job, NULL, NULL, &o);
	double dt = now_s() - t0;
	if (o.run_rc == LB_OK)
		fail_msg("'%s' was not stopped", lua);
	if (!strstr(o.rep.reason, why))
		fail_msg("'%s': reason '%s' lacks '%s'", lua, o.rep.reason, why);
	/* (uncapped, each loop runs for hours; capped, well under a second on a quiet machine:
	 * the bound leaves room for sanitizers on a loaded one, where 3 s was seen) */
	if (dt > 30.0)
		fail_msg("'%s' took %.2f s under a cap of 10^6 instructions", lua, dt);
	assert_false(o.released);
	done(&o);
}

static void test_instruction_cap_everywhere(void **state)
{
	(void)state;
	/* no metatables: no finalizers, no close handlers, no __index chains C would follow */
	capped("setmetatable({}, {__gc = function() while true do end end}) return {}", "global 'setmetatable'");
	capped("do local x <close> = {} end return {}", "variable 'x' got a non-closable value");
	capped("xpcall(function() while true do end end, function() while true do end end) return {}",
	       "instruction limit");
	capped("while true do xpcall(error, function() while true do end end) end", "instruction limit");
	capped("return {n = string.match(string.rep('a', 5000), string.rep('a?', 5000) .. string.rep('a', 5000))}",
	       "longer than");
	capped("return {n = string.match(string.rep('a', 50), string.rep('a?', 50) .. string.rep('a', 50))}",
	       "field 'match'");
	capped("local s = string.rep('a', 8000) local t = {} for i = 1, 100 do t[i] = s end return {table.concat(t)}",
	       "longer than");
	capped("local s = string.rep('a', 8000) local p = string.rep('a', 4000) .. 'b' "
	       "for i = 1, 1e9 do string.find(s, p) end",
	       "instruction limit");
	capped("local s = string.rep('a', 8000) local t = s .. s", "longer than 8192 bytes");
	capped("local s, t = string.rep('a', 8000), string.rep('a', 7999) .. 'b' local x = 0 "
	       "for i = 1, 1e9 do if s < t then x = x + 1 end end",
	       "instruction limit");
	capped("local t = {} for i = 1, 2000 do t[i] = i end for i = 1, 1e9 do table.insert(t, 1, i) end",
	       "instruction limit");
	capped("local t = {} for i = 1, 1e9 do local a = table.unpack(t, 1, 100000) end", "instruction limit");
	capped("local t = {} for i = 1, 1e9 do table.move(t, 1, 1e9, 2) end", "instruction limit");
	capped("for i = 1, 1e9 do local a = agg.crosstab('id', 'age') end", " limit reached");
	capped("for i = 1, 1e9 do local a = agg.count({{col = 'id', [\"in\"] = {'P01', 'P02', 'P03'}}}) end",
	       "at most 10000 aggregates");
	capped("return {agg.count(), gsub = string.gsub('a', 'a', 'b')}", "field 'gsub'");
}

/* ---- sealed sizes ---- */

static void test_sealed_sizes_do_not_track_values(void **state)
{
	(void)state;
	uint8_t pk[32], sk[32], *env;
	size_t envlen, first = 0;
	struct lb_errmsg em;
	lb_envelope_keypair(pk, sk);
	const char *texts[] = {"{\"n\":10}", "{\"n\":123456789,\"mean\":12.345678901234567}", "{}"};
	for (size_t i = 0; i < 3; i++) {
		struct lb_release rel = {.released = true, .text = (char *)texts[i], .len = strlen(texts[i])};
		assert_lb_ok(lb_release_seal(&rel, pk, &env, &envlen, &em));
		if (i == 0)
			first = envlen;
		assert_int_equal(envlen, first);
		uint8_t *back;
		size_t blen;
		assert_lb_ok(lb_envelope_open(sk, pk, env, envlen, 1 << 20, &back, &blen, &em));
		lb_release_unpad(back, &blen);
		assert_int_equal(blen, strlen(texts[i]));
		assert_memory_equal(back, texts[i], blen);
		lb_free(back);
		lb_free(env);
	}
	assert_int_equal(lb_release_bucket(1), 1024);
	assert_int_equal(lb_release_bucket(1025), 2048);
	assert_int_equal(lb_release_bucket(70000), 131072);
}

/* ---- provenance stays with the executor; the release check needs it ---- */

static void test_no_provenance_no_release(void **state)
{
	(void)state;
	struct lb_policy p;
	lb_policy_default(&p);
	struct lb_release rel;
	struct lb_errmsg em;
	json_t *j = json_pack("{si}", "n", 40);
	assert_int_equal(lb_policy_release(&p, j, NULL, NULL, &rel, &em), LB_EDENIED);
	assert_false(rel.released);
	assert_non_null(strstr(rel.reason, "no provenance"));
	lb_release_release(&rel);
	json_decref(j);
	/* a malformed provenance frame is refused */
	struct lb_provenance *pv;
	assert_int_equal(lb_provenance_decode((const uint8_t *)"LBP1xx", 6, &pv, &em), LB_EMALFORMED);
	/* the report shown to anyone has no provenance */
	struct lb_sandbox_job job;
	struct outcome o;
	job_for(&job, "return {n = agg.count()}", NULL, NULL);
	play(&job, NULL, NULL, &o);
	assert_true(o.released);
	json_t *rj = lb_sandbox_report_json(&o.rep);
	char *txt = json_dumps(rj, 0);
	assert_null(strstr(txt, "prov"));
	free(txt);
	json_decref(rj);
	done(&o);
}

/* ---- review ---- */

static void test_review_is_never_released(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	struct lb_errmsg em;
	job_for(&job, "local a = data.col('age') return {first = a[1], rows = data.nrows}", NULL, NULL);
	job.review = true;
	assert_lb_ok(lb_sandbox_run(&job, &rep, &em));
	assert_null(rep.prov);
	struct lb_policy p;
	lb_policy_default(&p);
	struct lb_release rel;
	struct lb_release_opts ro = {.review = true};
	assert_lb_ok(lb_policy_release(&p, rep.result, rep.prov, &ro, &rel, &em));
	assert_false(rel.released);
	assert_non_null(strstr(rel.text, "\"first\":31"));
	uint8_t pk[32], sk[32], *env;
	size_t envlen;
	lb_envelope_keypair(pk, sk);
	assert_int_equal(lb_release_seal(&rel, pk, &env, &envlen, &em), LB_EDENIED);
	lb_release_release(&rel);
	/* the same without review: no provenance, withheld */
	ro.review = false;
	assert_int_equal(lb_policy_release(&p, rep.result, rep.prov, &ro, &rel, &em), LB_EDENIED);
	lb_release_release(&rel);
	lb_sandbox_report_release(&rep);
	/* an aggregate-only script under review: the owner sees exactly what would be released
	 * (suppression applied), and a plain number is refused as in a real run */
	job_for(&job, "return {n = agg.count(), h = agg.histogram('age', {30, 50, 90, 100})}", NULL, NULL);
	job.review = true;
	assert_lb_ok(lb_sandbox_run(&job, &rep, &em));
	assert_non_null(rep.prov);
	ro.review = true;
	assert_lb_ok(lb_policy_release(&p, rep.result, rep.prov, &ro, &rel, &em));
	assert_false(rel.released);
	assert_non_null(strstr(rel.text, "\"suppressed\""));
	lb_release_release(&rel);
	lb_sandbox_report_release(&rep);
	job_for(&job, "return {n = 40}", NULL, NULL);
	job.review = true;
	assert_int_not_equal(lb_sandbox_run(&job, &rep, &em), LB_OK);
	assert_non_null(strstr(rep.reason, "plain number"));
	lb_sandbox_report_release(&rep);
}

/* ---- honest analyses ---- */

static void test_honest_analyses_released(void **state)
{
	(void)state;
	struct outcome o;
	json_t *j = released("local women = {{col = 'sex', eq = 'F'}}\n"
			     "return {\n"
			     "  n = agg.count(), women = agg.count(women),\n"
			     "  age = {mean = agg.mean('age'), sd = agg.sd('age')},\n"
			     "  bp_women = agg.mean('bp', women),\n"
			     "  h = agg.histogram('age', {30, 50, 100}),\n"
			     "  fit = agg.linreg('bp', {'age'}),\n"
			     "  by = agg.crosstab('sex', 'event'),\n"
			     "  column = params.column, ok = true,\n"
			     "}",
			     NULL, NULL, &o);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 40);
	assert_int_equal(json_integer_value(json_object_get(j, "women")), 20);
	double mean = 0;
	for (int i = 1; i <= 40; i++)
		mean += i == 7 ? 91 : 30 + i;
	mean /= 40;
	assert_true(fabs(json_real_value(json_object_get(json_object_get(j, "age"), "mean")) - mean) < 1e-12);
	json_t *hc = json_object_get(json_object_get(j, "h"), "counts");
	assert_int_equal(json_integer_value(json_array_get(hc, 0)), 18); /* 31..49 without P07's 37 */
	assert_int_equal(json_integer_value(json_array_get(hc, 1)), 22); /* 50..70 and 91 */
	assert_true(json_is_number(json_array_get(json_object_get(json_object_get(j, "fit"), "coef"), 1)));
	json_decref(j);
	done(&o);
	/* a script may read values that obey the rules, and combine them in its own code */
	j = released("local w, m = agg.count({{col = 'sex', eq = 'F'}}), agg.count({{col = 'sex', eq = 'M'}})\n"
		     "local big = w.n >= m.n\n"
		     "return {women = w, men = m, more_women = big}",
		     NULL, NULL, &o);
	assert_true(json_is_boolean(json_object_get(j, "more_women")));
	json_decref(j);
	done(&o);
}

/* In this process (no sandbox): the Lua runner and the built-ins keep to the same rules on
 * their own recorder (and free everything, which the sanitizer build checks). */
static void test_in_process(void **state)
{
	(void)state;
	struct lb_table t;
	struct lb_errmsg em;
	assert_lb_ok(lb_table_parse_csv(csv(), strlen(csv()), 0, &t, &em));
	struct lb_algo_ctx ctx = {.min_cohort = K};
	json_t *r = NULL;
	static const char ok[] = "return {n = agg.count(), h = agg.histogram('age', {30, 50, 100}), "
				 "m = agg.mean('age'), x = agg.crosstab('sex', 'event')}";
	assert_lb_ok(lb_algo_lua(ok, strlen(ok), &t, NULL, &ctx, NULL, &r, &em));
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 40);
	json_decref(r);
	static const char bad[] = "return {n = 40, age = agg.mean('age')}";
	assert_int_equal(lb_algo_lua(bad, strlen(bad), &t, NULL, &ctx, NULL, &r, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "plain number"));
	static const char rd[] = "local v = agg.count({{col = 'age', ge = 90}}).value return {}";
	assert_int_equal(lb_algo_lua(rd, strlen(rd), &t, NULL, &ctx, NULL, &r, &em), LB_EDENIED);
	ctx.noise = true;
	static const char rn[] = "local v = agg.count().value return {}";
	assert_int_equal(lb_algo_lua(rn, strlen(rn), &t, NULL, &ctx, NULL, &r, &em), LB_EDENIED);
	assert_non_null(strstr(em.text, "noise"));
	lb_table_release(&t);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_not_reachable),
		cmocka_unit_test(test_declared_n_means_nothing),
		cmocka_unit_test(test_differencing_within_a_run),
		cmocka_unit_test(test_release_rules_named),
		cmocka_unit_test(test_builtins_leak_nothing),
		cmocka_unit_test(test_differencing_across_runs),
		cmocka_unit_test(test_sticky_across_runs),
		cmocka_unit_test(test_history_persists),
		cmocka_unit_test(test_instruction_cap_everywhere),
		cmocka_unit_test(test_sealed_sizes_do_not_track_values),
		cmocka_unit_test(test_no_provenance_no_release),
		cmocka_unit_test(test_review_is_never_released),
		cmocka_unit_test(test_honest_analyses_released),
		cmocka_unit_test(test_in_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
