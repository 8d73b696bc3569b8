/*
 * Lua 5.4 algorithm scripts: aggregate-only by construction. A script never sees a row: it
 * computes through the `agg` library (count, sum, mean, sd, histogram, crosstab, linreg), which
 * runs in C with declarative `where` filters and returns opaque aggregates; every value they hold
 * is recorded with its record set (agg.c), and the script's returned table may hold only those
 * aggregates, booleans, and strings that echo the parameters or name columns. A script that
 * reads a value (a.value, a.n) is held to the release rules for it: fewer than min_cohort
 * records, or a set differing from one read before by fewer than min_cohort records, stops the
 * run (sticky: it cannot be caught) and nothing is released. Filters are sticky too: a filter
 * whose records differ from those of an earlier aggregate (of this run, or released earlier to
 * the same user) by fewer than min_cohort records is computed over that aggregate's records
 * (xprov_snap_mask), so moving a filter by a few records shows nothing. In an owner's review run the
 * script also gets data.col (per-record access) and its raw result goes to the owner only.
 *
 * The state gets the base library without its loaders and printing (load, loadfile, dofile,
 * require, print, collectgarbage removed), string (without dump and the pattern functions:
 * find is plain-text only), table, math and utf8: no io, os, package, debug or coroutine.
 * Chunks are loaded as text only (bytecode refused). Limits inside the interpreter: an
 * allocator with a byte cap and an instruction-count hook that stays installed until the
 * state is closed (finalizers and to-be-closed handlers run under it); string.rep and
 * table.concat are charged for the bytes they copy; setmetatable refuses __gc; xpcall's message
 * handler runs after the protected call under the hook (Lua runs a message handler of an error
 * raised inside the hook with hooks off). Once a limit is hit it stays hit: the hook then fires
 * on every instruction and the allocator refuses everything, so the run is reported as stopped
 * whatever the script returns.
 */
#include <math.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

#define HOOK_EVERY 1000
#define MAX_DEPTH 32
#define MAX_WHERE 32
#define MAX_STRING (8u << 10)  /* longest string a script may make (C functions compare and
                                * copy strings in one instruction: this bounds their work) */
#define MAX_AGGS 10000         /* aggregates one run may make */
#define BYTES_PER_STEP 64      /* bytes copied that count as one instruction */
#define AGG_MT "leben.aggregate"

/* One aggregate handed to the script: its JSON form with placeholders, and the cells a read
 * gives (scalar value; number of records). */
struct lua_agg {
	json_t *tmpl;     /* owned */
	const char *kind; /* static */
	long value_cell;  /* cell of a.value, -1 for multi-cell aggregates */
	uint32_t set;     /* the records it is computed over */
	long n_cell;      /* cell of a.n, made on first read (-1) */
};

struct lua_run {
	size_t used;           /* bytes allocated now */
	size_t cap;            /* allocation cap */
	bool mem_hit;          /* the cap refused an allocation */
	uint64_t steps;        /* instructions counted so far (in units of HOOK_EVERY) */
	uint64_t max_steps;    /* budget in units of HOOK_EVERY */
	uint64_t charged;      /* bytes charged by copying functions, not yet counted */
	bool steps_hit;        /* the budget ran out */
	bool denied;           /* a read broke the release rules: stop */
	char denied_why[300];
	const struct lb_table *t; /* the data (borrowed) */
	struct xprov *P;       /* the provenance recorder */
	bool noise, review;
	struct lua_agg *aggs;  /* owned */
	size_t naggs, capaggs;
	const json_t *params;  /* borrowed: strings the result may echo */
	size_t reads;          /* values the script read */
	bool capped;           /* after set-up: strings are capped at MAX_STRING */
	bool string_hit;       /* a string longer than MAX_STRING was refused */
};

static void *lua_alloc_capped(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lua_run *r = ud;
	if (!ptr && osize == LUA_TSTRING && r->capped && nsize > MAX_STRING + 64) {
		r->string_hit = true; /* sticky: every later allocation fails too */
		r->mem_hit = true;
		return NULL;
	}
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		lb_free(ptr);
		r->used -= osize;
		return NULL;
	}
	if (r->mem_hit || (nsize > osize && r->used + (nsize - osize) > r->cap)) {
		r->mem_hit = true;
		return NULL;
	}
	void *p = lb_realloc(ptr, nsize);
	if (p)
		r->used = r->used - osize + nsize;
	else
		r->mem_hit = true; /* the process limit came first */
	return p;
}

static struct lua_run *run_of(lua_State *L)
{
	void *ud;
	lua_getallocf(L, &ud);
	return ud;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct lua_run *r = run_of(L);
	if (!r->steps_hit && !r->denied && !r->mem_hit && ++r->steps <= r->max_steps)
		return;
	if (!r->steps_hit && !r->denied && !r->mem_hit)
		r->steps_hit = true;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1); /* from now on: every instruction */
	if (r->denied)
		luaL_error(L, "%s", r->denied_why);
	if (r->mem_hit && !r->steps_hit)
		luaL_error(L, "memory limit reached");
	luaL_error(L, "instruction limit reached");
}

/* Charge bytes copied by a C function against the instruction budget. */
static void charge(lua_State *L, size_t bytes)
{
	struct lua_run *r = run_of(L);
	r->charged += bytes;
	uint64_t units = r->charged / ((uint64_t)BYTES_PER_STEP * HOOK_EVERY);
	r->charged %= (uint64_t)BYTES_PER_STEP * HOOK_EVERY;
	r->steps += units;
	if (r->steps > r->max_steps || r->steps_hit) {
		r->steps_hit = true;
		lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "instruction limit reached");
	}
}

/* A read broke the rules: the run stops here and at every later instruction. */
static int deny(lua_State *L, const char *why)
{
	struct lua_run *r = run_of(L);
	r->denied = true;
	snprintf(r->denied_why, sizeof r->denied_why, "%s", why);
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	return luaL_error(L, "%s", why);
}

/* ---- the safe library ------------------------------------------------------------------------- */

static int l_rep(lua_State *L)
{
	size_t l, lsep = 0;
	luaL_checklstring(L, 1, &l);
	lua_Integer n = luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &lsep);
	if (n <= 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	if ((lua_Unsigned)n > MAX_STRING || (l + lsep) * (size_t)n > MAX_STRING)
		return luaL_error(L, "string.rep: result longer than %d bytes", (int)MAX_STRING);
	charge(L, (l + lsep) * (size_t)n);
	luaL_Buffer b;
	const char *s = lua_tostring(L, 1), *sep = lua_tostring(L, 3);
	luaL_buffinit(L, &b);
	for (lua_Integer i = 0; i < n; i++) {
		luaL_addlstring(&b, s, l);
		if (sep && lsep && i + 1 < n)
			luaL_addlstring(&b, sep, lsep);
	}
	luaL_pushresult(&b);
	return 1;
}

static int l_concat(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	size_t lsep = 0;
	const char *sep = luaL_optlstring(L, 2, "", &lsep);
	lua_Integer i = luaL_optinteger(L, 3, 1);
	lua_Integer last = lua_isnoneornil(L, 4) ? (lua_Integer)luaL_len(L, 1) : luaL_checkinteger(L, 4);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	size_t total = 0;
	for (; i <= last; i++) {
		lua_geti(L, 1, i);
		if (!lua_isstring(L, -1))
			return luaL_error(L, "invalid value (at index %d) in table for 'concat'", (int)i);
		size_t l;
		lua_tolstring(L, -1, &l);
		total += l + (i < last ? lsep : 0);
		if (total > MAX_STRING)
			return luaL_error(L, "table.concat: result longer than %d bytes", (int)MAX_STRING);
		charge(L, l + lsep + 16);
		luaL_addvalue(&b);
		if (i < last && lsep)
			luaL_addlstring(&b, sep, lsep);
	}
	luaL_pushresult(&b);
	return 1;
}

/* string.find, plain text only (patterns run in C, outside the instruction count) */
static int l_find(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls), *p = luaL_checklstring(L, 2, &lp);
	lua_Integer init = luaL_optinteger(L, 3, 1);
	if (init < 0)
		init = (lua_Integer)ls + init + 1;
	if (init < 1)
		init = 1;
	if ((size_t)init > ls + 1) {
		lua_pushnil(L);
		return 1;
	}
	charge(L, (ls + 1) * (lp + 1)); /* the worst case of the naive search below */
	for (size_t i = (size_t)init - 1; i + lp <= ls; i++)
		if (!memcmp(s + i, p, lp)) {
			lua_pushinteger(L, (lua_Integer)i + 1);
			lua_pushinteger(L, (lua_Integer)(i + lp));
			return 2;
		}
	lua_pushnil(L);
	return 1;
}

/* table.insert, remove, move, unpack, sort: charged for the elements they move in C, then the
 * original (upvalue 1; upvalue 2 says which). */
static int l_table_charged(lua_State *L)
{
	lua_Integer which = lua_tointeger(L, lua_upvalueindex(2));
	size_t work = 0;
	if (which == 2) { /* move(a1, f, e, t [,a2]) */
		lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
		work = e >= f ? (size_t)((lua_Unsigned)e - (lua_Unsigned)f) + 1 : 0;
	} else if (which == 3) { /* unpack(t [,i [,j]]) */
		lua_Integer i = luaL_optinteger(L, 2, 1);
		lua_Integer j = lua_isnoneornil(L, 3) ? (lua_Integer)luaL_len(L, 1) : luaL_checkinteger(L, 3);
		work = j >= i ? (size_t)((lua_Unsigned)j - (lua_Unsigned)i) + 1 : 0;
	} else {
		luaL_checktype(L, 1, LUA_TTABLE);
		lua_Integer n = (lua_Integer)luaL_len(L, 1);
		work = n > 0 ? (size_t)n : 0;
		if (which == 4) { /* sort: n log n comparisons */
			size_t lg = 1;
			while (lg < 64 && ((size_t)1 << lg) < work)
				lg++;
			work *= lg;
		}
	}
	charge(L, work > SIZE_MAX / 64 ? SIZE_MAX : work * 64);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* xpcall(f, msgh, ...): f runs protected; on error msgh(err) runs afterwards, as ordinary
 * counted code, and its result is the error value. */
static int l_xpcall(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 1); /* f */
	for (int i = 3; i <= n; i++)
		lua_pushvalue(L, i);
	int base = n;
	if (lua_pcall(L, n - 2 >= 0 ? n - 2 : 0, LUA_MULTRET, 0) == LUA_OK) {
		lua_pushboolean(L, 1);
		lua_insert(L, base + 1);
		return lua_gettop(L) - base;
	}
	/* stack: ... err */
	lua_pushvalue(L, 2);
	lua_insert(L, -2);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		/* the handler failed too: its error is the value */
	}
	lua_pushboolean(L, 0);
	lua_insert(L, -2);
	return 2;
}

static int open_restricted(lua_State *L)
{
	static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},      {LUA_STRLIBNAME, luaopen_string},
					{LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
					{LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL}};
	for (const luaL_Reg *l = libs; l->func; l++) {
		luaL_requiref(L, l->name, l->func, 1);
		lua_pop(L, 1);
	}
	/* no loaders, no printing, no metatables: without them there are no finalizers (__gc), no
	 * close handlers (__close) and no __index chains that C follows without counting */
	static const char *const drop[] = {"load", "loadfile", "dofile", "require", "print",
					   "collectgarbage", "setmetatable", "getmetatable", NULL};
	for (size_t i = 0; drop[i]; i++) {
		lua_pushnil(L);
		lua_setglobal(L, drop[i]);
	}
	lua_pushcfunction(L, l_xpcall);
	lua_setglobal(L, "xpcall");
	lua_getglobal(L, "string");
	static const char *const sdrop[] = {"dump", "match", "gmatch", "gsub", NULL};
	for (size_t i = 0; sdrop[i]; i++) {
		lua_pushnil(L);
		lua_setfield(L, -2, sdrop[i]);
	}
	lua_pushcfunction(L, l_find);
	lua_setfield(L, -2, "find");
	lua_pushcfunction(L, l_rep);
	lua_setfield(L, -2, "rep");
	lua_pop(L, 1);
	lua_getglobal(L, "table");
	lua_pushcfunction(L, l_concat);
	lua_setfield(L, -2, "concat");
	static const char *const charged[] = {"insert", "remove", "move", "unpack", "sort", NULL};
	for (size_t i = 0; charged[i]; i++) {
		lua_getfield(L, -1, charged[i]);
		lua_pushinteger(L, (lua_Integer)i);
		lua_pushcclosure(L, l_table_charged, 2);
		lua_setfield(L, -2, charged[i]);
	}
	lua_pop(L, 1);
	return 0;
}

/* ---- where filters ------------------------------------------------------------------------- */

static long check_col(lua_State *L, int arg, bool numeric)
{
	struct lua_run *r = run_of(L);
	const char *name = luaL_checkstring(L, arg);
	long c = lb_table_find(r->t, name);
	if (c < 0)
		luaL_error(L, "no column named '%s'", name);
	if (numeric && r->t->cols[c].kind != LB_COL_NUMERIC)
		luaL_error(L, "column '%s' is not numeric", name);
	return c;
}

/* Level index of text in a categorical column, or -1. */
static double level_of(const struct lb_table_col *col, const char *s)
{
	for (size_t l = 0; l < col->nlevels; l++)
		if (!strcmp(col->levels[l], s))
			return (double)l;
	return -1;
}

/* Value of an operand for column col: a number (numeric) or a level (categorical). */
static double operand(lua_State *L, const struct lb_table_col *col, int idx, const char *op)
{
	if (col->kind == LB_COL_NUMERIC) {
		if (!lua_isnumber(L, idx))
			luaL_error(L, "where: '%s' on numeric column '%s' needs a number", op, col->name);
		double v = lua_tonumber(L, idx);
		if (isnan(v))
			luaL_error(L, "where: '%s' on column '%s' is not a number", op, col->name);
		return v;
	}
	if (lua_type(L, idx) != LUA_TSTRING)
		luaL_error(L, "where: '%s' on categorical column '%s' needs a string", op, col->name);
	return level_of(col, lua_tostring(L, idx));
}

/* mask[r] = 1 for the rows matching the where table at idx (none / nil: every row). */
static void where_mask(lua_State *L, int idx, uint8_t *mask)
{
	struct lua_run *r = run_of(L);
	const struct lb_table *t = r->t;
	memset(mask, 1, t->nrows);
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_Integer nc = (lua_Integer)luaL_len(L, idx);
	if (nc > MAX_WHERE)
		luaL_error(L, "where: at most %d conditions", MAX_WHERE);
	for (lua_Integer i = 1; i <= nc; i++) {
		if (lua_geti(L, idx, i) != LUA_TTABLE)
			luaL_error(L, "where: condition %d must be a table {col=..., op=value}", (int)i);
		int ci = lua_gettop(L);
		lua_getfield(L, ci, "col");
		long c = check_col(L, lua_gettop(L), false);
		lua_pop(L, 1);
		const struct lb_table_col *col = &t->cols[c];
		charge(L, (size_t)16 * t->nrows);
		static const char *const ops[] = {"eq", "ne", "lt", "le", "gt", "ge", "in", NULL};
		lua_pushnil(L);
		while (lua_next(L, ci)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
			int op = -1;
			for (int o = 0; ops[o]; o++)
				if (!strcmp(k, ops[o]))
					op = o;
			if (!strcmp(k, "col")) {
				lua_pop(L, 1);
				continue;
			}
			if (op < 0)
				luaL_error(L, "where: unknown key '%s' in condition %d (col, eq, ne, lt, le, gt, ge, in)",
					   k, (int)i);
			if (op >= 2 && op <= 5 && col->kind != LB_COL_NUMERIC)
				luaL_error(L, "where: '%s' needs a numeric column ('%s' is categorical)", k, col->name);
			if (op == 6) {
				luaL_checktype(L, -1, LUA_TTABLE);
				lua_Integer nv = (lua_Integer)luaL_len(L, -1);
				if (nv > 1000)
					luaL_error(L, "where: 'in' takes at most 1000 values");
				charge(L, (size_t)nv * t->nrows * 4);
				double *vals = lua_newuserdatauv(L, (size_t)(nv ? nv : 1) * sizeof *vals, 0);
				for (lua_Integer j = 1; j <= nv; j++) {
					lua_geti(L, -2, j);
					vals[j - 1] = operand(L, col, -1, "in");
					lua_pop(L, 1);
				}
				for (size_t rr = 0; rr < t->nrows; rr++) {
					bool hit = false;
					for (lua_Integer j = 0; j < nv && !hit; j++)
						hit = col->v[rr] == vals[j];
					if (!hit)
						mask[rr] = 0;
				}
				lua_pop(L, 1);
			} else {
				double v = operand(L, col, -1, k);
				for (size_t rr = 0; rr < t->nrows; rr++) {
					double x = col->v[rr];
					bool ok = !isnan(x) && (op == 0   ? x == v
								: op == 1 ? x != v
								: op == 2 ? x < v
								: op == 3 ? x <= v
								: op == 4 ? x > v
									  : x >= v);
					if (!ok)
						mask[rr] = 0;
				}
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
}

/* ---- aggregates ---------------------------------------------------------------------------------- */

/* Every agg call makes one mask; it is charged one instruction per row (more for tables and
 * regressions, by the caller), and a run makes at most MAX_AGGS aggregates. */
static uint8_t *new_mask(lua_State *L)
{
	struct lua_run *r = run_of(L);
	if (r->naggs >= MAX_AGGS)
		luaL_error(L, "a run may make at most %d aggregates", MAX_AGGS);
	charge(L, r->t->nrows > SIZE_MAX / (64 * HOOK_EVERY) ? SIZE_MAX : r->t->nrows * 64);
	return lua_newuserdatauv(L, r->t->nrows ? r->t->nrows : 1, 0);
}

/* The rows the filter at stack index where selects, made sticky (xprov_snap_mask): a new mask. */
static uint8_t *filter(lua_State *L, int where)
{
	uint8_t *m = new_mask(L);
	where_mask(L, where, m);
	if (xprov_snap_mask(run_of(L)->P, m))
		luaL_error(L, "out of memory");
	return m;
}

/* Push a new aggregate over tmpl (taken). */
static int push_agg(lua_State *L, json_t *tmpl, const char *kind, long value_cell, uint32_t set)
{
	struct lua_run *r = run_of(L);
	if (!tmpl)
		return luaL_error(L, "out of memory");
	if (r->naggs == r->capaggs) {
		size_t nc = r->capaggs ? r->capaggs * 2 : 16;
		struct lua_agg *na = lb_realloc(r->aggs, nc * sizeof *na);
		if (!na) {
			json_decref(tmpl);
			return luaL_error(L, "out of memory");
		}
		r->aggs = na;
		r->capaggs = nc;
	}
	r->aggs[r->naggs] = (struct lua_agg){tmpl, kind, value_cell, set, -1};
	uint32_t *u = lua_newuserdatauv(L, sizeof *u, 0);
	*u = (uint32_t)r->naggs++;
	luaL_setmetatable(L, AGG_MT);
	return 1;
}

/* An aggregate could not be computed: whether it could depends on the data (too few rows, a
 * singular system, too many levels), so the failure cannot be caught and tried again with other
 * filters: the run stops, and nothing but the fact leaves. */
static int fail_rc(lua_State *L, int rc, struct lb_errmsg *em)
{
	if (rc == LB_ENOMEM) {
		struct lua_run *r = run_of(L);
		r->mem_hit = true; /* sticky, as the allocator's own cap */
		lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
		return luaL_error(L, "memory limit reached");
	}
	char why[300];
	snprintf(why, sizeof why, "an aggregate could not be computed (%.200s); the run stops", em->text);
	return deny(L, why);
}

static int scalar(lua_State *L, enum lb_prov_kind kind, const char *name)
{
	struct lua_run *r = run_of(L);
	long c = -1;
	int where = 1;
	lua_settop(L, kind == LB_PROV_COUNT ? 1 : 2);
	if (kind != LB_PROV_COUNT) {
		c = check_col(L, 1, true);
		where = 2;
	}
	uint8_t *m = filter(L, where);
	json_t *ph;
	size_t cell;
	struct lb_errmsg em;
	int rc = xagg_scalar(r->P, r->t, kind, c, m, &ph, &cell, &em);
	if (rc)
		return fail_rc(L, rc, &em);
	return push_agg(L, ph, name, (long)cell, r->P->cells[cell].set);
}

static int l_count(lua_State *L)
{
	return scalar(L, LB_PROV_COUNT, "count");
}
static int l_sum(lua_State *L)
{
	return scalar(L, LB_PROV_SUM, "sum");
}
static int l_mean(lua_State *L)
{
	return scalar(L, LB_PROV_MEAN, "mean");
}
static int l_sd(lua_State *L)
{
	return scalar(L, LB_PROV_SD, "sd");
}

/* The set of the template's "n" placeholder. */
static uint32_t set_of_n(struct lua_run *r, json_t *tmpl)
{
	json_t *n = json_object_get(tmpl, "n"), *id = json_object_get(n, "$prov");
	size_t c = json_is_integer(id) ? (size_t)json_integer_value(id) : (size_t)-1;
	return c < r->P->ncells ? r->P->cells[c].set : 0;
}

static int l_histogram(lua_State *L)
{
	struct lua_run *r = run_of(L);
	lua_settop(L, 3);
	long c = check_col(L, 1, true);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_Integer ne = (lua_Integer)luaL_len(L, 2);
	if (ne < 2 || ne > 1001)
		return luaL_error(L, "agg.histogram: give 2 to 1001 bin edges");
	double *edges = lua_newuserdatauv(L, (size_t)ne * sizeof *edges, 0);
	for (lua_Integer i = 1; i <= ne; i++) {
		lua_geti(L, 2, i);
		if (!lua_isnumber(L, -1))
			return luaL_error(L, "agg.histogram: edge %d is not a number", (int)i);
		edges[i - 1] = lua_tonumber(L, -1);
		if (!isfinite(edges[i - 1]) || (i > 1 && !(edges[i - 1] > edges[i - 2])))
			return luaL_error(L, "agg.histogram: the edges must be finite and strictly increasing");
		lua_pop(L, 1);
	}
	uint8_t *m = filter(L, 3);
	json_t *o;
	struct lb_errmsg em;
	int rc = xagg_hist(r->P, r->t, (size_t)c, edges, (size_t)ne, m, &o, &em);
	if (rc)
		return fail_rc(L, rc, &em);
	return push_agg(L, o, "histogram", -1, set_of_n(r, o));
}

static int l_crosstab(lua_State *L)
{
	struct lua_run *r = run_of(L);
	lua_settop(L, 3);
	long a = check_col(L, 1, false), b = check_col(L, 2, false);
	charge(L, (size_t)8 * 64 * r->t->nrows); /* a few passes and sorts over the rows */
	uint8_t *m = filter(L, 3);
	json_t *o;
	struct lb_errmsg em;
	int rc = xagg_crosstab(r->P, r->t, (size_t)a, (size_t)b, m, &o, &em);
	if (rc)
		return fail_rc(L, rc, &em);
	charge(L, (size_t)64 * json_array_size(json_object_get(o, "counts")) *
			  json_array_size(json_object_get(o, "col_counts")));
	return push_agg(L, o, "crosstab", -1, set_of_n(r, o));
}

static int l_linreg(lua_State *L)
{
	struct lua_run *r = run_of(L);
	lua_settop(L, 3);
	long y = check_col(L, 1, true);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_Integer p = (lua_Integer)luaL_len(L, 2);
	if (p < 1 || p > 64)
		return luaL_error(L, "agg.linreg: give 1 to 64 x columns");
	size_t *xs = lua_newuserdatauv(L, (size_t)p * sizeof *xs, 0);
	for (lua_Integer i = 1; i <= p; i++) {
		lua_geti(L, 2, i);
		xs[i - 1] = (size_t)check_col(L, lua_gettop(L), true);
		lua_pop(L, 1);
	}
	charge(L, (size_t)((p + 1) * (p + 1)) * 64 * r->t->nrows);
	uint8_t *m = filter(L, 3);
	json_t *o;
	struct lb_errmsg em;
	int rc = xagg_linreg(r->P, r->t, (size_t)y, xs, (size_t)p, m, &o, &em);
	if (rc)
		return fail_rc(L, rc, &em);
	return push_agg(L, o, "linreg", -1, set_of_n(r, o));
}

static struct lua_agg *check_agg(lua_State *L, int idx)
{
	struct lua_run *r = run_of(L);
	uint32_t *u = luaL_checkudata(L, idx, AGG_MT);
	if (*u >= r->naggs)
		luaL_error(L, "not an aggregate of this run");
	return &r->aggs[*u];
}

/* Read a cell's value into the script, under the release rules. */
static void read_cell(lua_State *L, size_t cell)
{
	struct lua_run *r = run_of(L);
	struct lb_errmsg em;
	if (r->noise)
		deny(L, "the release policy adds noise: a script may not read exact aggregate values (return the "
			"aggregate instead)");
	if (xprov_read(r->P, cell, &em))
		deny(L, em.text);
	r->reads++;
	double v = r->P->cells[cell].value;
	if (r->P->cells[cell].kind == LB_PROV_COUNT)
		lua_pushinteger(L, (lua_Integer)v);
	else if (isfinite(v))
		lua_pushnumber(L, v);
	else
		lua_pushnil(L);
}

static int agg_index(lua_State *L)
{
	struct lua_run *r = run_of(L);
	struct lua_agg *a = check_agg(L, 1);
	const char *k = luaL_checkstring(L, 2);
	if (!strcmp(k, "kind")) {
		lua_pushstring(L, a->kind);
		return 1;
	}
	if (!strcmp(k, "value")) {
		if (a->value_cell < 0)
			return luaL_error(L, "a %s has no single value: return it in the result", a->kind);
		read_cell(L, (size_t)a->value_cell);
		return 1;
	}
	if (!strcmp(k, "n")) {
		if (a->n_cell < 0) {
			size_t cell;
			json_t *ph = xprov_num(r->P, LB_PROV_COUNT, "", "", a->set, (double)xprov_n(r->P, a->set), false,
					       &cell);
			if (!ph)
				return luaL_error(L, "out of memory");
			json_decref(ph);
			a->n_cell = (long)cell;
		}
		read_cell(L, (size_t)a->n_cell);
		return 1;
	}
	return luaL_error(L, "an aggregate has no field '%s' (kind, value, n)", k);
}

static int agg_tostring(lua_State *L)
{
	struct lua_agg *a = check_agg(L, 1);
	lua_pushfstring(L, "aggregate %s", a->kind);
	return 1;
}

/* data.col(name): per-record access, review runs only */
static int l_col(lua_State *L)
{
	struct lua_run *r = run_of(L);
	long c = check_col(L, 1, false);
	const struct lb_table_col *col = &r->t->cols[c];
	r->P->per_record = true; /* from now on the result is raw, for the owner only */
	lua_createtable(L, (int)(r->t->nrows > 0x7fffffff ? 0x7fffffff : r->t->nrows), 0);
	for (size_t i = 0; i < r->t->nrows; i++) {
		double v = col->v[i];
		if (isnan(v))
			continue;
		if (col->kind == LB_COL_CATEGORICAL)
			lua_pushstring(L, col->levels[(size_t)v]);
		else
			lua_pushnumber(L, v);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static void push_json(lua_State *L, const json_t *v, int depth)
{
	if (depth > MAX_DEPTH || !v) {
		lua_pushnil(L);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *e;
		lua_newtable(L);
		json_object_foreach((json_t *)v, k, e)
		{
			push_json(L, e, depth + 1);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY:
		lua_newtable(L);
		for (size_t i = 0; i < json_array_size(v); i++) {
			push_json(L, json_array_get(v, i), depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, json_is_true(v));
		break;
	default:
		lua_pushnil(L);
	}
}

/* ---- the result ------------------------------------------------------------------------------ */

static bool param_has_string(const json_t *v, const char *s, size_t n, int depth)
{
	if (!v || depth > MAX_DEPTH)
		return false;
	if (json_is_string(v))
		return json_string_length(v) == n && !memcmp(json_string_value(v), s, n);
	const char *k;
	json_t *e;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) if (param_has_string(e, s, n, depth + 1)) return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) if (param_has_string(e, s, n, depth + 1)) return true;
	}
	return false;
}

/* A string the result may carry: a column name or a string of the parameters. */
static bool echo_ok(struct lua_run *r, const char *s, size_t n)
{
	if (strlen(s) == n && lb_table_find(r->t, s) >= 0)
		return true;
	return param_has_string(r->params, s, n, 0);
}

struct conv {
	struct lua_run *r;
	char path[256];
	char why[512];
};

/* Value at the top of the stack to JSON (NULL + why on a refused or unconvertible value). */
static json_t *to_json(lua_State *L, struct conv *cv, int depth)
{
	struct lua_run *r = cv->r;
	int ty = lua_type(L, -1);
	const char *where = cv->path[0] ? cv->path : "the result";
	if (!lua_checkstack(L, 4)) {
		snprintf(cv->why, sizeof cv->why, "out of Lua stack converting the result");
		return NULL;
	}
	if (depth > MAX_DEPTH) {
		snprintf(cv->why, sizeof cv->why, "the result nests deeper than %d levels (or has a cycle)", MAX_DEPTH);
		return NULL;
	}
	switch (ty) {
	case LUA_TNIL:
		return json_null();
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, -1));
	case LUA_TNUMBER:
		if (r->review && r->P->per_record)
			return lua_isinteger(L, -1) ? json_integer((json_int_t)lua_tointeger(L, -1))
						    : xjson_num(lua_tonumber(L, -1));
		snprintf(cv->why, sizeof cv->why,
			 "%.200s is a plain number: a result may hold only aggregates (agg.*), so the sandbox knows what "
			 "every number was computed over",
			 where);
		return NULL;
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, -1, &n);
		if (!(r->review && r->P->per_record) && !echo_ok(r, s, n)) {
			snprintf(cv->why, sizeof cv->why,
				 "%.200s is a string that is neither a column name nor a string of the parameters", where);
			return NULL;
		}
		json_t *j = json_stringn(s, n);
		if (!j)
			snprintf(cv->why, sizeof cv->why, "%s is not valid UTF-8", where);
		return j;
	}
	case LUA_TUSERDATA: {
		uint32_t *u = luaL_testudata(L, -1, AGG_MT);
		if (u && *u < r->naggs)
			return json_deep_copy(r->aggs[*u].tmpl);
		break;
	}
	case LUA_TTABLE: {
		lua_Unsigned n = lua_rawlen(L, -1);
		size_t keys = 0;
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			keys++;
			lua_pop(L, 1);
		}
		size_t pl = strlen(cv->path);
		if (n > 0 && keys == n) {
			json_t *a = json_array();
			for (lua_Unsigned i = 1; i <= n; i++) {
				snprintf(cv->path + pl, sizeof cv->path - pl, "[%llu]", (unsigned long long)i - 1);
				lua_rawgeti(L, -1, (lua_Integer)i);
				json_t *e = to_json(L, cv, depth + 1);
				lua_pop(L, 1);
				if (!e) {
					json_decref(a);
					return NULL;
				}
				json_array_append_new(a, e);
			}
			cv->path[pl] = '\0';
			return a;
		}
		json_t *o = json_object();
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -2) != LUA_TSTRING) {
				lua_pop(L, 2);
				json_decref(o);
				snprintf(cv->why, sizeof cv->why, "a key under %.200s is not a string", where);
				return NULL;
			}
			size_t kl;
			const char *k = lua_tolstring(L, -2, &kl);
			if (kl == 0 || kl > 64 || strlen(k) != kl || k[0] == '$' ||
			    (depth == 0 && !strcmp(k, "suppressed"))) {
				lua_pop(L, 2);
				json_decref(o);
				snprintf(cv->why, sizeof cv->why,
					 "a key under %.200s is refused (1 to 64 bytes, not starting with '$', not "
					 "'suppressed' at the top)",
					 where);
				return NULL;
			}
			snprintf(cv->path + pl, sizeof cv->path - pl, "%s%s", pl ? "." : "", k);
			json_t *e = to_json(L, cv, depth + 1);
			if (!e || json_object_set_new(o, k, e)) {
				lua_pop(L, 2);
				json_decref(o);
				if (e)
					snprintf(cv->why, sizeof cv->why, "a key under %.200s is not valid UTF-8", where);
				return NULL;
			}
			lua_pop(L, 1);
		}
		cv->path[pl] = '\0';
		return o;
	}
	default:
		break;
	}
	snprintf(cv->why, sizeof cv->why, "%.200s holds a %s, which cannot be released", where, lua_typename(L, ty));
	return NULL;
}

static int setup(lua_State *L)
{
	struct lua_run *r = run_of(L);
	const struct lb_algo_ctx *ctx = lua_touserdata(L, 1);
	open_restricted(L);
	/* the aggregate type */
	luaL_newmetatable(L, AGG_MT);
	lua_pushcfunction(L, agg_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, agg_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "aggregate");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
	/* agg */
	static const luaL_Reg fns[] = {{"count", l_count},         {"sum", l_sum},
				       {"mean", l_mean},           {"sd", l_sd},
				       {"histogram", l_histogram}, {"crosstab", l_crosstab},
				       {"linreg", l_linreg},       {NULL, NULL}};
	luaL_newlib(L, fns);
	lua_createtable(L, (int)r->t->ncols, 0);
	for (size_t c = 0; c < r->t->ncols; c++) {
		lua_pushstring(L, r->t->cols[c].name);
		lua_rawseti(L, -2, (lua_Integer)c + 1);
	}
	lua_setfield(L, -2, "columns");
	lua_setglobal(L, "agg");
	/* data: column names; per-record access in review runs only */
	lua_newtable(L);
	lua_getglobal(L, "agg");
	lua_getfield(L, -1, "columns");
	lua_setfield(L, -3, "columns");
	lua_pop(L, 1);
	if (r->review) {
		lua_pushcfunction(L, l_col);
		lua_setfield(L, -2, "col");
		lua_pushinteger(L, (lua_Integer)r->t->nrows);
		lua_setfield(L, -2, "nrows");
	}
	lua_setglobal(L, "data");
	if (r->params)
		push_json(L, r->params, 0);
	else
		lua_newtable(L);
	lua_setglobal(L, "params");
	lua_newtable(L);
	lua_pushinteger(L, ctx ? ctx->min_cohort : 0);
	lua_setfield(L, -2, "min_cohort");
	lua_setglobal(L, "ctx");
	return 0;
}

int lb_algo_lua(const char *src, size_t len, const struct lb_table *t, const json_t *params,
		const struct lb_algo_ctx *ctx, const struct lb_lua_limits *lim, json_t **result,
		struct lb_errmsg *em)
{
	struct xprov own, *P = ctx && ctx->prov ? ctx->prov : NULL;
	if (!P) {
		xprov_init(&own, t, NULL, ctx ? ctx->min_cohort : 0);
		P = &own;
	}
	struct lua_run r = {.cap = lim && lim->memory ? lim->memory : 256u << 20, .t = t, .P = P,
			    .params = params, .noise = ctx && ctx->noise, .review = ctx && ctx->review};
	uint64_t instr = lim && lim->instructions ? lim->instructions : 1000000000ull;
	r.max_steps = instr / HOOK_EVERY ? instr / HOOK_EVERY : 1;
	json_t *j = NULL;
	int rc = LB_OK;
	lua_State *L = lua_newstate(lua_alloc_capped, &r);
	if (!L) {
		rc = lb_errf(em, LB_ENOMEM, "cannot create the Lua state");
		goto done;
	}
	lua_pushcfunction(L, setup);
	lua_pushlightuserdata(L, (void *)ctx);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		rc = lb_errf(em, r.mem_hit ? LB_ELIMIT : LB_EINTERNAL, "Lua set-up failed: %s",
			     lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
		goto out;
	}
	if (len > 0 && src[0] == LUA_SIGNATURE[0]) {
		rc = lb_errf(em, LB_EUNSUPPORTED, "precompiled Lua bytecode is refused: send the source text");
		goto out;
	}
	int st = luaL_loadbufferx(L, src, len, "=algorithm", "t");
	if (st != LUA_OK) {
		rc = lb_errf(em, st == LUA_ERRMEM ? LB_ELIMIT : LB_ESYNTAX, "%s",
			     lua_tostring(L, -1) ? lua_tostring(L, -1) : "cannot load the script");
		goto out;
	}
	/* the hook stays installed until lua_close has run every finalizer and close handler */
	r.capped = !r.review;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
	st = lua_pcall(L, 0, 1, 0);
	if (r.steps_hit || r.mem_hit || r.denied || r.string_hit)
		goto out;
	if (st != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		rc = lb_errf(em, LB_EINVALID, "the script failed: %s", msg ? msg : "(error object is not a string)");
		goto out;
	}
	if (!lua_istable(L, -1)) {
		rc = lb_errf(em, LB_EINVALID, "the script must return a table (it returned a %s)",
			     luaL_typename(L, -1));
		goto out;
	}
	struct conv cv = {.r = &r};
	j = to_json(L, &cv, 0);
	if (!j && !r.steps_hit && !r.mem_hit)
		rc = lb_errf(em, LB_EINVALID, "the script's result is refused: %s", cv.why);
out:
	if (L)
		lua_close(L); /* finalizers run here, still under the hook */
	if (r.steps_hit)
		rc = lb_errf(em, LB_ELIMIT, "instruction limit reached (%llu Lua instructions)",
			     (unsigned long long)instr);
	else if (r.string_hit)
		rc = lb_errf(em, LB_ELIMIT, "a string longer than %u bytes was refused (scripts handle names, "
					    "not text; the run stops)", MAX_STRING);
	else if (r.mem_hit)
		rc = lb_errf(em, LB_ELIMIT, "memory limit reached (%zu bytes for the Lua state)", r.cap);
	else if (r.denied)
		rc = lb_errf(em, LB_EDENIED, "%s", r.denied_why);
	if (rc != LB_OK && r.reads && !r.steps_hit && !r.mem_hit && !r.denied && !r.review)
		/* the text may carry values the script read: only the fact of the failure leaves */
		rc = lb_errf(em, rc, "the script failed or its result was refused after it read aggregate "
				     "values; the message is withheld (the owner can rerun it for review)");
	if (rc == LB_OK && j && !json_is_object(j)) {
		json_t *o = json_object();
		json_object_set_new(o, "result", j);
		j = o;
	}
	if (rc == LB_OK && j)
		rc = xprov_finish(P, j, em);
	if (rc == LB_OK && j) {
		*result = j;
		j = NULL;
	}
done:
	json_decref(j);
	for (size_t i = 0; i < r.naggs; i++)
		json_decref(r.aggs[i].tmpl);
	lb_free(r.aggs);
	if (P == &own)
		xprov_release(&own);
	return rc;
}
