/*
 * Lua 5.4 algorithm scripts with a restricted standard library. The state gets only the base
 * library without its loaders and printing (load, loadfile, dofile, require, print,
 * collectgarbage removed), string (without string.dump), table, math and utf8: no io, os,
 * package, debug or coroutine. Chunks are loaded as text only (bytecode refused). Two limits
 * act inside the interpreter, under the sandbox's own rlimits: an allocator with a byte cap and
 * an instruction-count hook. Once a limit is hit it stays hit: the hook then fires on every
 * instruction and the allocator refuses everything, so a script cannot catch the error with
 * pcall and carry on, and the run is reported as stopped whatever the script returns.
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

struct lua_run {
	size_t used;           /* bytes allocated now */
	size_t cap;            /* allocation cap */
	bool mem_hit;          /* the cap refused an allocation */
	uint64_t steps;        /* instructions counted so far (in units of HOOK_EVERY) */
	uint64_t max_steps;    /* budget in units of HOOK_EVERY */
	bool steps_hit;        /* the budget ran out */
	const struct lb_table *t; /* the data (borrowed) */
};

static void *lua_alloc_capped(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lua_run *r = ud;
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
	if (!r->steps_hit && ++r->steps <= r->max_steps)
		return;
	if (!r->steps_hit) {
		r->steps_hit = true;
		lua_sethook(L, count_hook, LUA_MASKCOUNT, 1); /* from now on: every instruction */
	}
	luaL_error(L, "instruction limit reached");
}

/* data.col(name) -> array of numbers (missing cells are nil) */
static int l_col(lua_State *L)
{
	struct lua_run *r = run_of(L);
	const char *name = luaL_checkstring(L, 1);
	long c = lb_table_find(r->t, name);
	if (c < 0)
		return luaL_error(L, "no column named '%s'", name);
	const struct lb_table_col *col = &r->t->cols[c];
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

/* Value at the top of the stack to JSON (NULL + message on an unconvertible value). */
static json_t *to_json(lua_State *L, int depth, char *why, size_t whylen)
{
	int ty = lua_type(L, -1);
	if (!lua_checkstack(L, 4)) {
		snprintf(why, whylen, "out of Lua stack converting the result");
		return NULL;
	}
	if (depth > MAX_DEPTH) {
		snprintf(why, whylen, "the result nests deeper than %d levels (or has a cycle)", MAX_DEPTH);
		return NULL;
	}
	switch (ty) {
	case LUA_TNIL:
		return json_null();
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, -1));
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1))
			return json_integer((json_int_t)lua_tointeger(L, -1));
		return xjson_num(lua_tonumber(L, -1));
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, -1, &n);
		json_t *j = json_stringn(s, n);
		if (!j)
			snprintf(why, whylen, "a string in the result is not valid UTF-8");
		return j;
	}
	case LUA_TTABLE: {
		lua_Unsigned n = lua_rawlen(L, -1);
		/* an array if its keys are exactly 1..n */
		size_t keys = 0;
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			keys++;
			lua_pop(L, 1);
		}
		if (n > 0 && keys == n) {
			json_t *a = json_array();
			for (lua_Unsigned i = 1; i <= n; i++) {
				lua_rawgeti(L, -1, (lua_Integer)i);
				json_t *e = to_json(L, depth + 1, why, whylen);
				lua_pop(L, 1);
				if (!e) {
					json_decref(a);
					return NULL;
				}
				json_array_append_new(a, e);
			}
			return a;
		}
		json_t *o = json_object();
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			char kb[64];
			const char *k;
			if (lua_type(L, -2) == LUA_TSTRING) {
				k = lua_tostring(L, -2);
			} else if (lua_type(L, -2) == LUA_TNUMBER) {
				if (lua_isinteger(L, -2))
					snprintf(kb, sizeof kb, "%lld", (long long)lua_tointeger(L, -2));
				else
					snprintf(kb, sizeof kb, "%.17g", lua_tonumber(L, -2));
				k = kb;
			} else {
				lua_pop(L, 2);
				json_decref(o);
				snprintf(why, whylen, "a table key in the result is neither a string nor a number");
				return NULL;
			}
			json_t *e = to_json(L, depth + 1, why, whylen);
			if (!e || json_object_set_new(o, k, e)) {
				lua_pop(L, 2);
				json_decref(o);
				if (e)
					snprintf(why, whylen, "a key in the result is not valid UTF-8");
				return NULL;
			}
			lua_pop(L, 1);
		}
		return o;
	}
	default:
		snprintf(why, whylen, "the result holds a %s, which has no JSON form", lua_typename(L, ty));
		return NULL;
	}
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
	static const char *const drop[] = {"load", "loadfile", "dofile", "require", "print",
					   "collectgarbage", NULL};
	for (size_t i = 0; drop[i]; i++) {
		lua_pushnil(L);
		lua_setglobal(L, drop[i]);
	}
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	return 0;
}

static int setup(lua_State *L)
{
	struct lua_run *r = run_of(L);
	const json_t *params = lua_touserdata(L, 1);
	const struct lb_algo_ctx *ctx = lua_touserdata(L, 2);
	open_restricted(L);
	/* data */
	lua_newtable(L);
	lua_pushinteger(L, (lua_Integer)r->t->nrows);
	lua_setfield(L, -2, "nrows");
	lua_createtable(L, (int)r->t->ncols, 0);
	for (size_t c = 0; c < r->t->ncols; c++) {
		lua_pushstring(L, r->t->cols[c].name);
		lua_rawseti(L, -2, (lua_Integer)c + 1);
	}
	lua_setfield(L, -2, "columns");
	lua_pushcfunction(L, l_col);
	lua_setfield(L, -2, "col");
	lua_setglobal(L, "data");
	if (params)
		push_json(L, params, 0);
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
	struct lua_run r = {.cap = lim && lim->memory ? lim->memory : 256u << 20, .t = t};
	uint64_t instr = lim && lim->instructions ? lim->instructions : 1000000000ull;
	r.max_steps = instr / HOOK_EVERY ? instr / HOOK_EVERY : 1;
	lua_State *L = lua_newstate(lua_alloc_capped, &r);
	if (!L)
		return lb_errf(em, LB_ENOMEM, "cannot create the Lua state");
	int rc = LB_OK;
	lua_pushcfunction(L, setup);
	lua_pushlightuserdata(L, (void *)params);
	lua_pushlightuserdata(L, (void *)ctx);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
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
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
	st = lua_pcall(L, 0, 1, 0);
	lua_sethook(L, NULL, 0, 0);
	if (r.steps_hit) {
		rc = lb_errf(em, LB_ELIMIT, "instruction limit reached (%llu Lua instructions)",
			     (unsigned long long)instr);
		goto out;
	}
	if (r.mem_hit) {
		rc = lb_errf(em, LB_ELIMIT, "memory limit reached (%zu bytes for the Lua state)", r.cap);
		goto out;
	}
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
	char why[200] = "";
	json_t *j = to_json(L, 0, why, sizeof why);
	if (!j) {
		rc = lb_errf(em, LB_EINVALID, "the script's result cannot be sent: %s", why);
		goto out;
	}
	if (!json_is_object(j)) {
		json_t *o = json_object();
		json_object_set_new(o, "result", j);
		j = o;
	}
	*result = j;
out:
	lua_close(L);
	return rc;
}
