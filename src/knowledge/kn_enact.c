/*
 * PROformajs enactment: runs a LEBEN model with the enactment rules of the PROformajs 0.11
 * engine, so that a protocol written for PROformajs gives the same task states, requests,
 * candidate supports and recommendations, confirmations and data versions step by step
 * (tests/integration/test_knowledge_diff compares the two on generated protocols).
 *
 * The state is a list of runtime objects in creation order — tasks, enquiry sources,
 * candidates, arguments, derived data items — each holding the attributes PROformajs keeps
 * (state, completeable, cancellable, cycleable, requested, support, recommended, confirmed,
 * active, value). One cycle: every object computes its updates from the same snapshot; the
 * updates are then applied in order; cycles repeat until none is produced. A cyclic task that
 * finishes builds its next instance `name[i+1]` (with fresh sub-objects) at the end of the list.
 * Expressions are evaluated by kn_eval on a session kept in step with the objects: each
 * design task reads the state of its latest instance, net_support the stored support, a
 * derived item its stored value, with JavaScript semantics (s->js). Attributes computed
 * from conditions keep the raw value (compared with JavaScript ===, as PROformajs compares
 * them between cycles) and its truth (0 or 1; -1 never set). Where PROformajs throws
 * (a name it cannot resolve from the evaluating component, a repetition built in the same
 * cycle, more than 1000 cycles) the operation fails here too, leaving what PROformajs leaves.
 * Also kn_enact_explore: breadth-first exploration under these rules (deadlocks, unreachable
 * tasks). Callers: kn_run.c (the public lb_kn_enactment_* and lb_kn_check_proformajs, so
 * `leben contract run`/`check` on a JSON protocol), tests/oracles/proforma_trace.c
 * (differential test, bench).
 */
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

#define ENACT_STACK_LIMIT 1000   /* PROformajs stackLimit: cycles in one operation */
#define ENACT_START_LIMIT 20000  /* start has no limit there (it overflows the JS stack) */
#define ENACT_MAX_OBJS 100000

enum okind { O_TASK, O_SOURCE, O_CAND, O_ARG, O_DERIVED, O_WARNING };
enum { ST_UNSET = -1 };

struct obj {
	int kind;               /* enum okind */
	char *path;             /* runtime path (owned) */
	int task;               /* design task (O_TASK, O_SOURCE, O_CAND, O_ARG), data (O_DERIVED,
				 * O_WARNING) */
	int sub, sub2;          /* source / candidate / warning index; argument index */
	int index;              /* cycle index of a task, -1 when not cyclic */
	int *ivec;              /* cycle indexes found along the path (owned) */
	int nivec;
	int parent;             /* object of the owning task (sources, candidates: task; args: cand) */
	int8_t state;           /* enum kn_tstate or ST_UNSET */
	int8_t completeable, cancellable, cycleable, requested, recommended, confirmed, active;
	bool has_support;
	double support;
	struct kn_value value;  /* O_DERIVED: stored value (owned) */
	struct kn_value raw;    /* requested / recommended / active as evaluated (owned): PROformajs
				 * compares the raw value between cycles, and uses its truth */
	char *dyn[2];           /* a dynamic caption / description ("${...}") as last rendered
				 * (owned; NULL until rendered) */
	int raw_id[2];          /* raw is a list read as the stored version raw_id[1] of slot
				 * raw_id[0] - 1 (0: a list made afresh): the same JavaScript array
				 * while no new version is stored (argument and warning `active`) */
	int64_t when[3];        /* clock (ms) when the object's state first became in_progress,
				 * completed, discarded (KN_NEVER: not yet): PROformajs's first
				 * audited update of its path to that value (_getTime) */
};

#define KN_NEVER INT64_MIN

enum attr { A_STATE, A_COMPLETEABLE, A_CANCELLABLE, A_CYCLEABLE, A_REQUESTED, A_RECOMMENDED,
	    A_CONFIRMED, A_ACTIVE, A_SUPPORT, A_VALUE, A_CAPTION, A_DESCRIPTION };

struct delta {
	int obj;
	int attr;            /* enum attr */
	int8_t v;            /* state or flag */
	double num;          /* A_SUPPORT */
	struct kn_value val; /* A_VALUE (owned) */
	char *txt;           /* A_CAPTION, A_DESCRIPTION: the rendered text (owned) */
	int id[2];           /* A_ACTIVE: val's stored version, as obj.raw_id */
};

/* PROformajs's _data[path][item]: the versions of one data item stored under one task path. A
 * set, unset or default is stored under the design path of the task defining the item
 * ("plan:sub"), a derived value under the runtime path of its task ("plan:sub[1]"). */
struct dslot {
	int path;            /* index in e->dpaths */
	int data;            /* the data definition */
	struct kn_value *h;  /* versions, oldest first (owned; never freed before the enactment,
			      * so e->ident may point into them) */
	size_t n, cap;
	int64_t when;        /* clock (ms) of the last version: its `when`, read by last_updated */
};

struct trig {
	const char *name; /* model string */
	int *paths;       /* object indexes in registration order (owned) */
	size_t n;
};

struct kn_enact {
	const struct lb_kn_model *m;
	struct lb_kn_session *s;     /* evaluation state */
	struct obj *o;
	size_t n, cap;
	struct delta *d;
	size_t nd, capd;
	struct trig *tr;
	size_t ntr;
	double *support;             /* per global candidate, for net_support */
	/* ---- data: PROformajs's _data (per-enactment state; kn_enact_copy_data copies it) ---- */
	char **dpaths;               /* task paths in the order something was first stored under
				      * them (owned): an identifier is read from the last one holding
				      * a value for its name */
	size_t ndpaths, capdpaths;
	struct dslot *slots;         /* (path, item) in creation order (owned); an empty one is
				      * the empty history PROformajs keeps for a default it
				      * rejected: every later cycle fails building its evaluator
				      * ("Cannot read properties of undefined") until a value is
				      * stored there */
	size_t nslots, capslots;
	int *dslot;                  /* per data item: its slot under its task's design path, -1 */
	bool dirty;                  /* stored since the evaluator's snapshot (sync) */
	/* ---- derived from the model (kn_enact_new) ---- */
	int *group;                  /* per data item: the first item of the same name */
	char **ddesign;              /* per data item: design path of the task defining it (owned) */
	struct kn_value *ident;      /* per data item: its name's value in the cycle's snapshot
				      * (borrowed from the slots), what e->s->pf_ident reads */
	struct kn_value *ident_live; /* the same from the values stored so far (a rendering builds
				      * a new evaluator) */
	int *ibest;                  /* scratch: per data item, a path index */
	const char *why;             /* why the cycle fails (e->fail), NULL: a repetition */
	bool started;
	size_t round_start;          /* objects that existed when the cycle's snapshot was taken */
	int caller;                  /* object whose expressions are being evaluated, -1 none */
	bool fail;                   /* an expression named an instance the snapshot lacks */
};

/* ---- objects ------------------------------------------------------------------------------ */

static int find_path(const struct kn_enact *e, const char *path)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->o[i].path, path) == 0)
			return (int)i;
	return -1;
}

static void obj_clear(struct obj *o)
{
	lb_free(o->path);
	lb_free(o->ivec);
	kn_value_clear(&o->value);
	kn_value_clear(&o->raw);
	lb_free(o->dyn[0]);
	lb_free(o->dyn[1]);
}

/* The object at path: replaced in place when it exists (PROformajs reassigns the key, which
 * keeps its position), else appended. */
static int put(struct kn_enact *e, const char *path, int kind, int parent, int *out)
{
	int i = find_path(e, path);
	if (i < 0) {
		if (e->n == ENACT_MAX_OBJS)
			return LB_ELIMIT;
		if (e->n == e->cap) {
			size_t nc = e->cap ? e->cap * 2 : 64;
			struct obj *no = lb_realloc(e->o, nc * sizeof(*no));
			if (no == NULL)
				return LB_ENOMEM;
			e->o = no;
			e->cap = nc;
		}
		i = (int)e->n++;
		e->o[i].when[0] = e->o[i].when[1] = e->o[i].when[2] = KN_NEVER;
	} else {
		obj_clear(&e->o[i]);
	}
	struct obj *o = &e->o[i];
	/* (PROformajs's audit keeps the updates of a path whose object was replaced) */
	int64_t when[3] = { o->when[0], o->when[1], o->when[2] };
	memset(o, 0, sizeof(*o));
	memcpy(o->when, when, sizeof(when));
	o->kind = kind;
	o->parent = parent;
	o->index = -1;
	o->state = o->completeable = o->cancellable = o->cycleable = ST_UNSET;
	o->requested = o->recommended = o->active = ST_UNSET;
	o->confirmed = 0;
	o->path = lb_strdup(path);
	if (o->path == NULL)
		return LB_ENOMEM;
	/* cycle indexes along the path, for the latest-instance rule */
	int n = 0;
	for (const char *p = path; *p; p++)
		n += *p == '[';
	if (n > 0) {
		o->ivec = lb_calloc((size_t)n, sizeof(int));
		if (o->ivec == NULL)
			return LB_ENOMEM;
		for (const char *p = path; *p; p++)
			if (*p == '[')
				o->ivec[o->nivec++] = atoi(p + 1);
	}
	*out = i;
	return LB_OK;
}

/* Register task object obj under trigger `name`. PROformajs starts the trigger's list afresh
 * when the eventTrigger is not a text (its `keys.includes(eventTrigger)` never holds for a
 * number or a list): `reset`. */
static int add_trigger(struct kn_enact *e, const char *name, int obj, bool reset)
{
	size_t i;
	for (i = 0; i < e->ntr && strcmp(e->tr[i].name, name) != 0; i++)
		;
	if (i < e->ntr && reset)
		e->tr[i].n = 0;
	if (i == e->ntr) {
		struct trig *nt = lb_realloc(e->tr, (e->ntr + 1) * sizeof(*nt));
		if (nt == NULL)
			return LB_ENOMEM;
		e->tr = nt;
		memset(&e->tr[i], 0, sizeof(e->tr[i]));
		e->tr[i].name = name;
		e->ntr++;
	}
	int *np = lb_realloc(e->tr[i].paths, (e->tr[i].n + 1) * sizeof(int));
	if (np == NULL)
		return LB_ENOMEM;
	e->tr[i].paths = np;
	np[e->tr[i].n++] = obj;
	return LB_OK;
}

static bool is_cyclic(const struct kn_enact *e, int t)
{
	return e->m->tasks[t]->cyclic;
}

/* Does data item d belong to task t (its dataDefinitions)? */
static bool owns(const struct kn_enact *e, int t, size_t d)
{
	return e->m->data[d].owner_idx == t;
}

/* Task t's state objects, as PROformajs's _buildState makes them. */
static int build(struct kn_enact *e, int t, int index, int parent)
{
	const struct kn_task *k = e->m->tasks[t];
	struct lb_buf p;
	int rc, me, x;
	lb_buf_init(&p, 1 << 16);
	if (parent >= 0)
		rc = lb_buf_addf(&p, "%s:%s", e->o[parent].path, k->name);
	else
		rc = lb_buf_adds(&p, k->name);
	if (rc == LB_OK && index > -1)
		rc = lb_buf_addf(&p, "[%d]", index);
	if (rc == LB_OK)
		rc = put(e, (const char *)p.data, O_TASK, parent, &me);
	if (rc != LB_OK)
		goto out;
	e->o[me].task = t;
	e->o[me].index = index;
	size_t base = p.len;
	if (k->cls == KN_ENQUIRY)
		for (size_t i = 0; rc == LB_OK && i < k->nsources; i++) {
			p.len = base;
			rc = lb_buf_addf(&p, ":%s", k->sources[i].data);
			rc = rc ? rc : put(e, (const char *)p.data, O_SOURCE, me, &x);
			if (rc == LB_OK) {
				e->o[x].task = t;
				e->o[x].sub = (int)i;
			}
		}
	if (k->cls == KN_DECISION)
		for (size_t i = 0; rc == LB_OK && i < k->ncands; i++) {
			p.len = base;
			rc = lb_buf_addf(&p, ":%s", k->cands[i].name);
			int c = -1;
			rc = rc ? rc : put(e, (const char *)p.data, O_CAND, me, &c);
			if (rc != LB_OK)
				break;
			e->o[c].task = t;
			e->o[c].sub = (int)i;
			size_t cb = p.len;
			for (size_t a = 0; rc == LB_OK && a < k->cands[i].nargs; a++) {
				p.len = cb;
				rc = lb_buf_addf(&p, ":%zu", a);
				rc = rc ? rc : put(e, (const char *)p.data, O_ARG, c, &x);
				if (rc == LB_OK) {
					e->o[x].task = t;
					e->o[x].sub = (int)i;
					e->o[x].sub2 = (int)a;
				}
			}
		}
	if (k->cls == KN_PLAN)
		for (size_t i = 0; rc == LB_OK && i < k->ntasks; i++) {
			int c = k->tasks[i]->idx;
			rc = build(e, c, is_cyclic(e, c) ? 0 : -1, me);
		}
	/* the task's data definitions: a derived item's state, then its warnings */
	for (size_t i = 0; rc == LB_OK && i < e->m->ndata; i++) {
		const struct kn_datadef *dd = &e->m->data[i];
		if (!owns(e, t, i))
			continue;
		p.len = base;
		rc = lb_buf_addf(&p, ":%s", dd->name);
		if (rc == LB_OK && dd->derive != NULL) {
			rc = put(e, (const char *)p.data, O_DERIVED, me, &x);
			if (rc == LB_OK)
				e->o[x].task = (int)i;
		}
		size_t db = p.len;
		for (size_t w = 0; rc == LB_OK && w < dd->nwarnings; w++) {
			p.len = db;
			rc = lb_buf_addf(&p, ":%zu", w);
			rc = rc ? rc : put(e, (const char *)p.data, O_WARNING, me, &x);
			if (rc == LB_OK) {
				e->o[x].task = (int)i;
				e->o[x].sub = (int)w;
			}
		}
	}
	if (rc == LB_OK && k->trigger != NULL)
		rc = add_trigger(e, k->trigger, me, k->trigger_json != NULL);
out:
	lb_buf_release(&p);
	return rc;
}

/* PROformajs runtimeFromDesignPath: the instance of design task t whose cycle indexes are
 * "better" (some index greater, in order) than the first one found; -1 if none. */
static bool better(const struct obj *a, const struct obj *b)
{
	for (int i = 0; i < a->nivec; i++)
		if (i < b->nivec ? a->ivec[i] > b->ivec[i] : false)
			return true;
	return false;
}

static int latest(const struct kn_enact *e, int t)
{
	int r = -1;
	for (size_t i = 0; i < e->n; i++)
		if (e->o[i].kind == O_TASK && e->o[i].task == t && (r < 0 || better(&e->o[i], &e->o[r])))
			r = (int)i;
	return r;
}

/* A sub-object of task object `task` by its path suffix. */
static int child_obj(const struct kn_enact *e, int task, const char *name)
{
	/* find_path of "<task path>:<name>", compared in place */
	const char *tp = e->o[task].path;
	size_t tl = strlen(tp);
	if (tl + 1 + strlen(name) >= 4096)
		return -1;
	for (size_t i = 0; i < e->n; i++) {
		const char *p = e->o[i].path;
		if (p[0] == tp[0] && strncmp(p, tp, tl) == 0 && p[tl] == ':' &&
		    strcmp(p + tl + 1, name) == 0)
			return (int)i;
	}
	return -1;
}

/* ---- data ------------------------------------------------------------------------------------ */

static const struct kn_value unknown_value = { .t = KN_V_UNKNOWN };

/* The array p (n elements of `size` bytes used of *cap) with room for one more: p or its
 * reallocation (*cap updated), NULL when out of memory (p unchanged). first: the capacity of
 * a first allocation. */
static void *grow(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : first;
	void *np = lb_realloc(p, nc * size);
	if (np != NULL)
		*cap = nc;
	return np;
}

/* Index of `path` among the stored paths; added at the end when absent and `add` (-1: absent,
 * or out of memory when adding). */
static int dpath_index(struct kn_enact *e, const char *path, bool add)
{
	for (size_t i = 0; i < e->ndpaths; i++)
		if (strcmp(e->dpaths[i], path) == 0)
			return (int)i;
	char **np = add ? grow(e->dpaths, e->ndpaths, &e->capdpaths, sizeof(char *), 8) : NULL;
	if (np == NULL)
		return -1;
	e->dpaths = np;
	if ((e->dpaths[e->ndpaths] = lb_strdup(path)) == NULL)
		return -1;
	return (int)e->ndpaths++;
}

/* The slot of item d under path index p, or -1. */
static int slot_find(const struct kn_enact *e, int p, int d)
{
	for (size_t i = 0; i < e->nslots; i++)
		if (e->slots[i].path == p && e->slots[i].data == d)
			return (int)i;
	return -1;
}

/* Is path (a root's) the name of a property every JavaScript object inherits? PROformajs's
 * `_data[path]` is then that property (a function), never replaced by a new object: what is
 * stored there lands on the function, where neither its evaluator nor getData() (both walk
 * Object.keys(_data)) ever see it. */
static bool proto_name(const char *path)
{
	static const char *const names[] = { "constructor", "hasOwnProperty", "isPrototypeOf",
		"propertyIsEnumerable", "toLocaleString", "toString", "valueOf",
		"__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(path, names[i]) == 0)
			return true;
	return false;
}

/* Does PROformajs's `_data[path][name]` find an inherited property (not null, so no array is
 * made) whose `.push(...)` then throws? Any object inherits Object.prototype's (and has
 * __proto__); under a root named by proto_name, `_data[path]` is a function, which also has
 * these. */
static bool push_throws(const char *path, const char *name)
{
	static const char *const fn[] = { "apply", "bind", "call", "arguments", "caller", "name",
					  "length" };
	if (proto_name(name) || strcmp(name, "__proto__") == 0)
		return true;
	for (size_t i = 0; proto_name(path) && i < sizeof(fn) / sizeof(fn[0]); i++)
		if (strcmp(name, fn[i]) == 0)
			return true;
	return false;
}

/* Store v (copied; NULL: only make the slot, an empty history) as a new version of item d
 * under `path`: PROformajs's `_data[path][name].push(...)`, the path and the slot made when
 * absent. */
/* A new JavaScript identity for a stored list (never 0; unique across enactments). */
static uint32_t new_oid(void)
{
	static _Atomic uint32_t next = 1;
	uint32_t id;
	while ((id = atomic_fetch_add(&next, 1)) == 0)
		;
	return id;
}

/* Store v under (path, d). A list keeps its identity when keep_id and it has one (a derived
 * value read from an item: the same array there; a copied enactment), else it is a new array
 * (an answer or a default, which PROformajs stores as the array it was given). */
static int store_at(struct kn_enact *e, const char *path, int d, const struct kn_value *v,
		    bool keep_id)
{
	if (push_throws(path, e->m->data[d].name)) /* "push is not a function" */
		return v == NULL ? LB_OK : LB_ETYPE;
	if (proto_name(path))
		return LB_OK;
	int p = dpath_index(e, path, true);
	if (p < 0)
		return LB_ENOMEM;
	int si = slot_find(e, p, d);
	if (si < 0) {
		struct dslot *ns = grow(e->slots, e->nslots, &e->capslots, sizeof(*ns), 8);
		if (ns == NULL)
			return LB_ENOMEM;
		e->slots = ns;
		si = (int)e->nslots++;
		e->slots[si] = (struct dslot){ .path = p, .data = d };
		if (strcmp(path, e->ddesign[d]) == 0)
			e->dslot[d] = si;
		e->dirty = true;
	}
	struct dslot *sl = &e->slots[si];
	if (v == NULL)
		return LB_OK;
	struct kn_value *nh = grow(sl->h, sl->n, &sl->cap, sizeof(*nh), 4);
	if (nh == NULL)
		return LB_ENOMEM;
	sl->h = nh;
	int rc = kn_value_copy(&sl->h[sl->n], v);
	if (rc == LB_OK) {
		struct kn_value *st = &sl->h[sl->n];
		st->oid = st->t != KN_V_SET ? 0 : keep_id && v->oid != 0 ? v->oid : new_oid();
		sl->n++;
		sl->when = kn_clock_ms(e->s->js_now_ms);
		e->dirty = true;
	}
	return rc;
}

/* A set, unset or default of item d: under the design path of the task defining it. */
static int store_def(struct kn_enact *e, int d, const struct kn_value *v)
{
	return store_at(e, e->ddesign[d], d, v, false);
}

/* The last value stored for item d under its task's design path (what PROformajs's get()
 * reads), unknown when none. *hollow: that history is empty. */
static const struct kn_value *def_value(const struct kn_enact *e, int d, bool *hollow)
{
	const struct dslot *sl = e->dslot[d] >= 0 ? &e->slots[e->dslot[d]] : NULL;
	if (hollow != NULL)
		*hollow = sl != NULL && sl->n == 0;
	return sl != NULL && sl->n > 0 ? &sl->h[sl->n - 1] : &unknown_value;
}

/* Each item's name as an identifier, as PROformajs's EvaluatorContext reads it: for every
 * stored path in order, every item with a last value not null sets the name, so the last
 * path holding a value for the name wins, whichever task defines it. */
static void idents(struct kn_enact *e, struct kn_value *out)
{
	size_t nd = e->m->ndata;
	for (size_t d = 0; d < nd; d++) {
		out[d] = unknown_value;
		e->ibest[d] = -1;
	}
	for (size_t i = 0; i < e->nslots; i++) {
		const struct dslot *sl = &e->slots[i];
		int g = e->group[sl->data];
		if (sl->n > 0 && sl->h[sl->n - 1].t != KN_V_UNKNOWN && sl->path > e->ibest[g]) {
			e->ibest[g] = sl->path;
			out[g] = sl->h[sl->n - 1];
		}
	}
	/* the EvaluatorContext adds the tasks by runtime path after the data: a root not cyclic
	 * (its path a bare name) shadows an item of its name with its state object, which
	 * JavaScript shows as "[object Object]" (a text here: truthy, known, NaN as a number) */
	static const struct kn_value state_obj = { .t = KN_V_TEXT, .u.s = kn_js_state_text };
	const struct kn_task *root = e->m->ntasks > 0 && e->m->tasks[0]->parent < 0
					     ? e->m->tasks[0] : NULL;
	for (size_t d = 0; root != NULL && !root->cyclic && d < nd; d++)
		if (e->group[d] == (int)d && strcmp(e->m->data[d].name, root->name) == 0)
			out[d] = state_obj;
	for (size_t d = 0; d < nd; d++)
		out[d] = out[e->group[d]];
}

/* An empty history anywhere (its slot), or -1: building an evaluator fails then. */
static int any_hollow(const struct kn_enact *e)
{
	for (size_t i = 0; i < e->nslots; i++)
		if (e->slots[i].n == 0)
			return (int)i;
	return -1;
}

/* Does PROformajs's getData() throw now? It reads every stored (path, name) through get()
 * from that path's task, i.e. the outermost definition of the name seen there, under its
 * task's design path: an empty history there throws. */
static bool getdata_throws(const struct kn_enact *e)
{
	for (size_t i = 0; i < e->nslots; i++) {
		const struct kn_datadef *dd = &e->m->data[e->slots[i].data];
		int d0 = kn_model_find_data_from(e->m, dd->name, dd->owner_idx);
		bool hollow = false;
		if (d0 >= 0)
			(void)def_value(e, d0, &hollow);
		if (hollow)
			return true;
	}
	return false;
}

/* What the snapshot's data (by name: the last path's last value) leaves out of the state,
 * for a state key: for every path in order, each of its items whose name is stored under
 * more than one path, or whose history is empty, as [path, name, last value or "empty"]
 * (nothing for a protocol whose names are each stored under one path). Appended to b. */
static int data_key(const struct kn_enact *e, struct lb_buf *b)
{
	int rc = LB_OK, n = 0;
	for (size_t p = 0; rc == LB_OK && p < e->ndpaths; p++)
		for (size_t i = 0; rc == LB_OK && i < e->nslots; i++) {
			const struct dslot *sl = &e->slots[i];
			if (sl->path != (int)p)
				continue;
			bool shared = false;
			for (size_t k = 0; !shared && k < e->nslots; k++)
				shared = k != i && e->group[e->slots[k].data] == e->group[sl->data];
			if (!shared && sl->n > 0)
				continue;
			struct kn_value name = { .t = KN_V_TEXT, .u.s = e->m->data[sl->data].name };
			struct kn_value path = { .t = KN_V_TEXT, .u.s = e->dpaths[p] };
			rc = lb_buf_adds(b, n++ ? ",[" : "[");
			rc = rc ? rc : kn_value_to_json(b, &path);
			rc = rc ? rc : lb_buf_addc(b, ',');
			rc = rc ? rc : kn_value_to_json(b, &name);
			rc = rc ? rc : lb_buf_addc(b, ',');
			if (rc == LB_OK)
				rc = sl->n ? kn_value_to_json(b, &sl->h[sl->n - 1]) : lb_buf_adds(b, "\"empty\"");
			rc = rc ? rc : lb_buf_addc(b, ']');
		}
	return rc;
}

/* Copy the data of src (an enactment of the same model) into dst, replacing dst's: the
 * stored paths, their order and every version. */
int kn_enact_copy_data(struct kn_enact *dst, const struct kn_enact *src)
{
	for (size_t i = 0; i < dst->nslots; i++) {
		for (size_t k = 0; k < dst->slots[i].n; k++)
			kn_value_clear(&dst->slots[i].h[k]);
		lb_free(dst->slots[i].h);
	}
	dst->nslots = 0;
	for (size_t i = 0; i < dst->ndpaths; i++)
		lb_free(dst->dpaths[i]);
	dst->ndpaths = 0;
	for (size_t d = 0; d < dst->m->ndata; d++)
		dst->dslot[d] = -1;
	dst->dirty = true;
	for (size_t i = 0; i < src->nslots; i++) {
		const struct dslot *sl = &src->slots[i];
		int rc = store_at(dst, src->dpaths[sl->path], sl->data, NULL, true);
		for (size_t k = 0; rc == LB_OK && k < sl->n; k++)
			rc = store_at(dst, src->dpaths[sl->path], sl->data, &sl->h[k], true);
		if (rc != LB_OK)
			return rc;
		dst->slots[i].when = sl->when; /* (slot i of src is slot i of dst) */
	}
	/* (a path is added with its first slot, so slot order gives the paths' order) */
	idents(dst, dst->ident);
	dst->s->pf_ident = dst->ident;
	return LB_OK;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

/* Bring the evaluation session in step with the objects (an evaluator snapshot). */
static void sync(struct kn_enact *e)
{
	const struct lb_kn_model *m = e->m;
	idents(e, e->ident);
	e->s->pf_ident = e->ident;
	e->dirty = false;
	memset(e->s->chosen, 0, m->ncands ? m->ncands : 1);
	for (size_t t = 0; t < m->ntasks; t++) {
		int o = latest(e, (int)t);
		int8_t st = o >= 0 ? e->o[o].state : ST_UNSET;
		/* a task without a state yet is none of dormant..discarded: is_dormant() is false */
		e->s->ts[t].state = st < 0 ? 0xff : (uint8_t)st;
		if (m->tasks[t]->cls != KN_DECISION)
			continue;
		for (size_t c = 0; c < m->tasks[t]->ncands; c++) {
			int co = o >= 0 ? child_obj(e, o, m->tasks[t]->cands[c].name) : -1;
			size_t g = (size_t)m->cand_base[t] + c;
			e->s->chosen[g] = co >= 0 && e->o[co].confirmed;
			double sup = co >= 0 && e->o[co].has_support ? e->o[co].support : 0;
			e->support[g] = isnan(sup) ? 0 : sup; /* support || 0 */
		}
	}
}

/* The design task of the component evaluating (for a candidate or argument: its decision). */
static int caller_task(const struct kn_enact *e)
{
	return e->caller >= 0 ? e->o[e->caller].task : -1;
}

/* Append the design path of task t ("plan:sub:t"). */
static int task_design(const struct lb_kn_model *m, int t, struct lb_buf *b)
{
	int rc = m->tasks[t]->parent >= 0 ? task_design(m, m->tasks[t]->parent, b) : LB_OK;
	if (rc == LB_OK && m->tasks[t]->parent >= 0)
		rc = lb_buf_addc(b, ':');
	return rc ? rc : lb_buf_adds(b, m->tasks[t]->name);
}

/* Can PROformajs resolve `name` (as written) to design path `target` from the evaluating
 * component? It tries the name as a design path, then as a sibling, then as a child of the
 * component's design path. */
static bool resolves(const struct kn_enact *e, const char *name, const char *target)
{
	if (strcmp(name, target) == 0)
		return true;
	if (e->caller < 0)
		return true;
	char d[4096];
	size_t n = 0;
	for (const char *p = e->o[e->caller].path; *p && n + 1 < sizeof(d); p++) {
		if (*p == '[') { /* drop the cycle index */
			while (*p && *p != ']')
				p++;
			if (!*p)
				break;
			continue;
		}
		d[n++] = *p;
	}
	d[n] = 0;
	const char *last = strrchr(d, ':');
	size_t pl = last ? (size_t)(last - d) : 0;
	size_t tl = strlen(target), nl = strlen(name);
	/* sibling: the component's parent path, ':' and the name (the name alone at the root) */
	if (last == NULL ? strcmp(name, target) == 0
			 : tl == pl + 1 + nl && memcmp(target, d, pl) == 0 && target[pl] == ':' &&
				   memcmp(target + pl + 1, name, nl) == 0)
		return true;
	/* child: the component's path, ':' and the name */
	return tl == n + 1 + nl && memcmp(target, d, n) == 0 && target[n] == ':' &&
	       memcmp(target + n + 1, name, nl) == 0;
}

bool kn_enact_task_time(const struct kn_enact *e, int fn, int t, const char *written,
			int64_t *ms)
{
	if (written == NULL || t < 0 || (size_t)t >= e->m->ntasks)
		return false;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	bool path = task_design(e->m, t, &b) == LB_OK && lb_buf_addc(&b, 0) == LB_OK &&
		    strcmp((const char *)b.data, written) == 0;
	lb_buf_release(&b);
	int l = path ? latest(e, t) : -1;
	if (l < 0)
		return false;
	const struct obj *o = &e->o[l];
	int k = fn == KN_F_IN_PROGRESS_TIME ? 0
		: fn == KN_F_COMPLETED_TIME ? 1
		: fn == KN_F_DISCARDED_TIME ? 2
		: o->state == KN_COMPLETED ? 1 : 2; /* finished_time */
	*ms = o->when[k];
	return o->when[k] != KN_NEVER;
}

bool kn_enact_last_updated(const struct kn_enact *e, int d, int64_t *ms)
{
	const struct dslot *best = NULL;
	for (size_t i = 0; i < e->nslots; i++) {
		const struct dslot *sl = &e->slots[i];
		if (e->group[sl->data] == e->group[d] && sl->n > 0 &&
		    (best == NULL || sl->path < best->path))
			best = sl;
	}
	if (best == NULL)
		return false;
	*ms = best->when;
	return true;
}

static const char *arg_text(const struct kn_expr *a)
{
	if (a->op == KN_E_CONST && a->v.t == KN_V_TEXT)
		return a->v.u.s;
	if (a->op == KN_E_NAME)
		return a->name;
	return NULL;
}

/* net_support('c') / is_recommended('c') of decision d's candidate: found among the caller's
 * own decision's candidates, or those of the decisions beside it. */
static bool cand_resolvable(const struct kn_enact *e, int d)
{
	if (e->caller < 0)
		return true;
	const struct obj *c = &e->o[e->caller];
	if (c->kind != O_CAND && c->kind != O_ARG &&
	    !(c->kind == O_TASK && e->m->tasks[c->task]->cls == KN_DECISION))
		return false;
	int own = caller_task(e);
	return d == own || e->m->tasks[d]->parent == e->m->tasks[own]->parent;
}

/* A task written as a name or path (a list element of num_finished / num_completed): does
 * PROformajs fail looking it up from the evaluating component (as names_bad)? */
static bool task_name_bad(const struct kn_enact *e, const struct kn_expr *a)
{
	if (kn_js_task_is_data(e->s, a))
		return false; /* found as a data value (kn_js_task_is_data): no throw */
	int t = a->ref;
	if (t < 0 || (size_t)t >= e->m->ntasks)
		return false;
	const char *nm = arg_text(a);
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	bool ok = task_design(e->m, t, &b) == LB_OK && nm != NULL &&
		  resolves(e, nm, (const char *)b.data);
	lb_buf_release(&b);
	int l = ok ? latest(e, t) : -1;
	return !ok || (l >= 0 && (size_t)l >= e->round_start);
}

/* result_of() / result_set() of task argument a: null where PROformajs cannot look the
 * task up from the evaluating component (the session's pf_unresolved). */
static bool result_unresolved(void *ctx, const struct kn_expr *a)
{
	const struct kn_enact *e = ctx;
	return kn_js_task_is_data(e->s, a) || task_name_bad(e, a);
}

/* is_valid(): the stored `active` of item d's warning k (its latest state object), as
 * PROformajs's `this[warning.path()].active` (the session's pf_warning_active). */
static bool warning_active(void *ctx, int d, size_t k)
{
	const struct kn_enact *e = ctx;
	for (size_t i = e->n; i-- > 0;)
		if (e->o[i].kind == O_WARNING && e->o[i].task == d && (size_t)e->o[i].sub == k)
			return e->o[i].active == 1;
	return false;
}

/* Would PROformajs fail evaluating x here? It does when x names a task it cannot resolve from
 * the evaluating component, or one whose latest instance was built after the cycle's snapshot
 * (the name resolves to that instance, which the snapshot lacks). */
static bool names_bad(const struct kn_enact *e, const struct kn_expr *x)
{
	if (x == NULL)
		return false;
	/* is_*() and net_support() throw when the name does not resolve (result_of() and
	 * result_set() give null instead: result_unresolved) */
	bool state_fn = x->op == KN_E_CALL && x->ref >= 0 &&
			(x->ref == KN_F_IS_DORMANT || x->ref == KN_F_IS_IN_PROGRESS ||
			 x->ref == KN_F_IS_COMPLETED || x->ref == KN_F_IS_DISCARDED ||
			 x->ref == KN_F_IS_FINISHED || x->ref == KN_F_NET_SUPPORT ||
			 x->ref == KN_F_IN_PROGRESS_TIME || x->ref == KN_F_COMPLETED_TIME ||
			 x->ref == KN_F_DISCARDED_TIME || x->ref == KN_F_FINISHED_TIME);
	if (state_fn && x->nargs > 0 && x->args[0]->ref >= 0 &&
	    (size_t)x->args[0]->ref < e->m->ntasks &&
	    !(x->nargs == 1 && kn_js_task_is_data(e->s, x->args[0]))) {
		int t = x->args[0]->ref;
		const char *nm = arg_text(x->args[0]);
		bool ok;
		struct lb_buf b;
		lb_buf_init(&b, 1 << 16);
		if (task_design(e->m, t, &b) != LB_OK)
			ok = false;
		else if (x->ref == KN_F_NET_SUPPORT && kn_call_nargs(x) == 1 &&
			 x->args[0]->ref2 < 0) {
			/* a task's name (kn_eval js_support_other): 0 when PROformajs finds
			 * the task, or when the name is a data item's with a value */
			struct kn_value v;
			int d = nm != NULL ? kn_model_find_data(e->m, nm) : -1;
			struct kn_expr tmp = { .op = KN_E_NAME, .ref = d };
			ok = (d >= 0 && kn_eval(e->s, &tmp, &v) == LB_OK && v.t != KN_V_UNKNOWN) ||
			     (nm != NULL && resolves(e, nm, (const char *)b.data));
		} else if (x->ref == KN_F_NET_SUPPORT && kn_call_nargs(x) == 1) {
			int c = x->args[0]->ref2;
			ok = c >= 0 && lb_buf_addc(&b, ':') == LB_OK &&
			     lb_buf_adds(&b, e->m->tasks[t]->cands[c].name) == LB_OK && nm != NULL &&
			     (resolves(e, nm, (const char *)b.data) ||
			      (strchr(nm, ':') == NULL && cand_resolvable(e, t)));
		} else if (x->ref == KN_F_NET_SUPPORT) {
			/* net_support(d, c): the JSON reader's form of the full path
			 * 'root:...:d:c', which PROformajs resolves from anywhere */
			ok = true;
		} else {
			ok = nm != NULL && resolves(e, nm, (const char *)b.data);
		}
		lb_buf_release(&b);
		if (!ok)
			return true;
		int l = latest(e, t);
		if (l >= 0 && (size_t)l >= e->round_start)
			return true;
	}
	/* num_finished([...]) / num_completed([...]): PROformajs's is_finished / is_completed of
	 * each, which throw as above */
	if (x->op == KN_E_CALL && (x->ref == KN_F_NUM_FINISHED || x->ref == KN_F_NUM_COMPLETED) &&
	    x->nargs > 0 && x->args[0]->op == KN_E_LIST)
		for (size_t i = 0; i < x->args[0]->nargs; i++)
			if (task_name_bad(e, x->args[0]->args[i]))
				return true;
	/* is_known(x), is_valid(x), caption(x), captions(x), last_updated(x) with a bare name:
	 * PROformajs evaluates x and looks for the data definition its value names, throwing
	 * "unknown data definition" unless the value is an item's name (the quoted form
	 * is_known('x') is the one that works) */
	if (e->m->js && x->op == KN_E_CALL && x->nargs > 0 && x->args[0]->op == KN_E_NAME &&
	    (x->ref == KN_F_IS_KNOWN || x->ref == KN_F_IS_VALID || x->ref == KN_F_CAPTION ||
	     x->ref == KN_F_CAPTIONS || x->ref == KN_F_LAST_UPDATED)) {
		struct kn_value v;
		bool item = kn_eval(e->s, x->args[0], &v) == LB_OK && v.t == KN_V_TEXT &&
			    kn_model_find_data(e->m, v.u.s) >= 0;
		if (!item)
			return true;
	}
	if (x->op == KN_E_AND || x->op == KN_E_OR || x->op == KN_E_COND) {
		/* JavaScript evaluates the right operand (or one branch) only when needed */
		if (names_bad(e, x->args[0]))
			return true;
		struct kn_value v;
		int rc = kn_eval(e->s, x->args[0], &v);
		bool t = rc == LB_OK && kn_holds(e->s, &v);
		if (x->op == KN_E_COND)
			return names_bad(e, x->args[t ? 1 : 2]);
		return (x->op == KN_E_AND) == t && names_bad(e, x->args[1]);
	}
	for (size_t i = 0; i < x->nargs; i++)
		if (names_bad(e, x->args[i]))
			return true;
	return false;
}

/* kn_eval, and when PROformajs's evaluation throws (e->s->js_threw), the cycle fails as it
 * does there (e->fail). */
static int eval_js(struct kn_enact *e, const struct kn_expr *x, struct kn_value *v)
{
	e->s->pf_unresolved = result_unresolved;
	e->s->pf_warning_active = warning_active;
	e->s->pf_ctx = e;
	e->s->js_threw = false;
	int rc = kn_eval(e->s, x, v);
	if (e->s->js_threw) {
		e->fail = true;
		e->why = e->s->js_why;
		e->s->js_threw = false;
	}
	return rc;
}

static bool js_list_undefined(const struct kn_expr *x, const struct kn_value *v);

/* Truth of a condition as JavaScript sees it: only true counts (unknown is false). */
static int8_t truth(struct kn_enact *e, const struct kn_expr *x)
{
	struct kn_value v;
	if (x == NULL)
		return 0;
	if (names_bad(e, x)) {
		e->fail = true;
		return 0;
	}
	int rc = eval_js(e, x, &v);
	int8_t r = (int8_t)(rc == LB_OK && (kn_holds(e->s, &v) || js_list_undefined(x, &v)));
	kn_arena_reset(&e->s->ar);
	return r;
}

static int push(struct kn_enact *e, int obj, int attr, int8_t v);

/* Can x give the value a data item's name holds (the object stored, the same at every
 * evaluation)? Follows the operands ?:, && and || and a compound expression may give. */
static bool may_be_stored(const struct kn_expr *x)
{
	switch (x->op) {
	case KN_E_NAME: return true;
	case KN_E_COND: return may_be_stored(x->args[1]) || may_be_stored(x->args[2]);
	case KN_E_AND: case KN_E_OR:
		return may_be_stored(x->args[0]) || may_be_stored(x->args[1]);
	case KN_E_COMPOUND: return x->nargs > 0 && may_be_stored(x->args[x->nargs - 1]);
	default: return false;
	}
}

/* Does x's number come from random() (Math.random() there: a new number at every
 * evaluation) through arithmetic? */
static bool from_random(const struct kn_expr *x)
{
	switch (x->op) {
	case KN_E_CALL: return x->ref == KN_F_RANDOM;
	case KN_E_NEG: case KN_E_POS: return from_random(x->args[0]);
	case KN_E_ADD: case KN_E_SUB: case KN_E_MUL: case KN_E_DIV:
		return from_random(x->args[0]) || from_random(x->args[1]);
	case KN_E_COND: return from_random(x->args[1]) || from_random(x->args[2]);
	case KN_E_AND: case KN_E_OR: return from_random(x->args[0]) || from_random(x->args[1]);
	case KN_E_COMPOUND: return x->nargs > 0 && from_random(x->args[x->nargs - 1]);
	default: return false;
	}
}

/* Is v, the value of x, new at every evaluation, never === to an earlier one: a JavaScript
 * object the evaluation made (an array — a list written out, result_set(), caption() —,
 * now()'s moment), or a number from Math.random()? */
static bool js_fresh(const struct kn_expr *x, const struct kn_value *v)
{
	if (x == NULL)
		return false;
	if (kn_js_is_this(v)) /* PROformajs's evaluator object: a new one every cycle */
		return true;
	if (v->t == KN_V_REAL && !isnan(v->u.r))
		return from_random(x);
	return (v->t == KN_V_SET || v->t == KN_V_DATE) && !may_be_stored(x);
}

/* A list written out whose value LEBEN leaves unknown (an element is undefined): JavaScript
 * makes the array all the same (truthy, new at every evaluation). */
static bool js_list_undefined(const struct kn_expr *x, const struct kn_value *v)
{
	return x != NULL && x->op == KN_E_LIST && v->t == KN_V_UNKNOWN && !kn_js_null(v);
}

/* A list value read as it is stored (a name's value, an operand of && || ?: passed through):
 * PROformajs's evaluator gives the stored JavaScript array itself, the same object at every
 * evaluation until a new version is stored. id: its slot + 1 and version, or 0 (a list made
 * by the evaluation: a literal, caption(), result_set(), ... is a new array each time). */
static void stored_list(const struct kn_enact *e, const struct kn_value *v, int id[2])
{
	id[0] = id[1] = 0;
	if (v->t != KN_V_SET || v->u.set.v == NULL)
		return;
	for (size_t i = 0; i < e->nslots; i++)
		for (size_t k = 0; k < e->slots[i].n; k++)
			if (e->slots[i].h[k].t == KN_V_SET && e->slots[i].h[k].u.set.v == v->u.set.v) {
				id[0] = (int)i + 1;
				id[1] = (int)k;
				return;
			}
}

/* A condition's raw value, copied (owned by the caller); *fresh: a JavaScript object made by
 * this evaluation (js_fresh; an empty list stands for an array with undefined elements);
 * id not NULL: the stored version a list value is (stored_list). */
static int eval_raw_id(struct kn_enact *e, const struct kn_expr *x, struct kn_value *out,
		       bool *fresh, int *id)
{
	static const struct kn_value t = { .t = KN_V_BOOL, .u.b = true };
	static const struct kn_value empty = { .t = KN_V_SET };
	struct kn_value v;
	memset(out, 0, sizeof(*out));
	*fresh = false;
	if (id != NULL)
		id[0] = id[1] = 0;
	if (x == NULL) /* an argument written "true" */
		return kn_value_copy(out, &t);
	if (names_bad(e, x)) {
		e->fail = true;
		return LB_OK;
	}
	int rc = eval_js(e, x, &v);
	if (rc == LB_OK && js_list_undefined(x, &v))
		v = empty;
	*fresh = js_fresh(x, &v);
	if (rc == LB_OK && id != NULL)
		stored_list(e, &v, id);
	rc = rc ? rc : kn_value_copy(out, &v);
	kn_arena_reset(&e->s->ar);
	return rc;
}

static int eval_raw(struct kn_enact *e, const struct kn_expr *x, struct kn_value *out,
		    bool *fresh)
{
	return eval_raw_id(e, x, out, fresh, NULL);
}

/* JavaScript ===: numbers by value (NaN never), texts and booleans by value, undefined with
 * undefined, null with null; an object (a list, a date) made by the evaluation of a (fresh)
 * never, one a data item holds by value (the same object while the item keeps it). */
static bool js_same(const struct kn_value *a, bool fresh, const struct kn_value *b)
{
	bool an = a->t == KN_V_INT || a->t == KN_V_REAL, bn = b->t == KN_V_INT || b->t == KN_V_REAL;
	if (fresh)
		return false;
	if (an && bn)
		return (a->t == KN_V_INT ? (double)a->u.i : a->u.r) ==
		       (b->t == KN_V_INT ? (double)b->u.i : b->u.r);
	if (a->t != b->t)
		return false;
	if (a->t == KN_V_UNKNOWN) /* null !== undefined */
		return kn_js_null(a) == kn_js_null(b);
	if (a->t == KN_V_SET && (a->oid != 0 || b->oid != 0)) /* stored arrays: the same one */
		return a->oid == b->oid;
	return kn_value_equal(a, b);
}

/* A derived item's new value v against its stored one, as PROformajs's _differentValues
 * (the cases other than undefined/NaN and two numbers): `!==` for a non-numeric class, so a
 * list or a date the evaluation made (fresh: a new object each time) always differs and the
 * cycles never settle (PROformajs's stack overflows or its stackLimit fails the operation);
 * a numeric class also needs !isNaN(v): not a text that is no number, a list of two or more
 * elements, ...; a date is a number (its milliseconds). */
static bool derived_differ(bool numeric, bool fresh, const struct kn_value *v,
			   const struct kn_value *old)
{
	if (numeric && isnan(kn_js_number(v)))
		return false;
	if (v->t == KN_V_SET && old->t == KN_V_SET && (v->oid != 0 || old->oid != 0))
		return fresh || v->oid != old->oid; /* an item's array: the same object or not */
	return fresh || !kn_value_equal(v, old);
}

/* Push attribute attr of object oi with raw value v (taken over). */
static int push_raw(struct kn_enact *e, int oi, int attr, struct kn_value *v)
{
	int rc = push(e, oi, attr, (int8_t)kn_truthy(v));
	if (rc != LB_OK) {
		kn_value_clear(v);
		return rc;
	}
	e->d[e->nd - 1].val = *v;
	memset(v, 0, sizeof(*v));
	return LB_OK;
}

/* ---- updates ------------------------------------------------------------------------------- */

static int push(struct kn_enact *e, int obj, int attr, int8_t v)
{
	if (e->nd == e->capd) {
		size_t nc = e->capd ? e->capd * 2 : 64;
		struct delta *nd = lb_realloc(e->d, nc * sizeof(*nd));
		if (nd == NULL)
			return LB_ENOMEM;
		e->d = nd;
		e->capd = nc;
	}
	struct delta *d = &e->d[e->nd++];
	memset(d, 0, sizeof(*d));
	d->obj = obj;
	d->attr = attr;
	d->v = v;
	return LB_OK;
}

static bool fin(int8_t st)
{
	return st == KN_COMPLETED || st == KN_DISCARDED;
}

static bool completeable(struct kn_enact *e, int oi)
{
	const struct obj *o = &e->o[oi];
	const struct kn_task *k = e->m->tasks[o->task];
	switch (k->cls) {
	case KN_ENQUIRY:
		if (o->state != KN_IN_PROGRESS)
			return false;
		for (size_t i = 0; i < k->nsources; i++) {
			int so = child_obj(e, oi, k->sources[i].data);
			if (so >= 0 && e->o[so].requested == 1)
				return false;
		}
		return true;
	case KN_PLAN:
		if (o->state != KN_IN_PROGRESS)
			return false;
		for (size_t i = 0; i < k->ntasks; i++) {
			int c = latest(e, k->tasks[i]->idx);
			int8_t st = c >= 0 ? e->o[c].state : ST_UNSET;
			if (st == ST_UNSET)
				return false;
			if (!k->tasks[i]->optional && !fin(st))
				return false;
			if (k->tasks[i]->optional && st == KN_IN_PROGRESS)
				return false;
		}
		return true;
	case KN_DECISION: {
		if (k->ncands == 0)
			return true;
		if (o->state != KN_IN_PROGRESS)
			return false;
		for (size_t i = 0; i < k->ncands; i++) {
			int co = child_obj(e, oi, k->cands[i].name);
			if (co >= 0 && e->o[co].confirmed)
				return true;
		}
		return false;
	}
	default:
		return o->state == KN_IN_PROGRESS;
	}
}

/* Build the next instance of a cyclic task object (its `cycleable` attribute set). */
static int next_instance(struct kn_enact *e, int oi)
{
	const struct obj *o = &e->o[oi];
	if (o->index < 0 || o->cycleable != 1)
		return LB_OK;
	return build(e, o->task, o->index + 1, o->parent);
}

/* PROformajs accept() on a computed value: the JavaScript type, then the range. */
static bool accept_value(const struct kn_datadef *d, const struct kn_value *v)
{
	bool num = v->t == KN_V_INT || v->t == KN_V_REAL;
	/* `this` (PROformajs's evaluator object): only a DataDefinition without a range takes it */
	if (kn_js_is_this(v) &&
	    (d->type != KN_T_ANY || d->range_text != NULL || d->allowed != NULL))
		return false;
	if (kn_js_is_fn(v)) /* a function: no data item's value here (docs §4.2) */
		return false;
	switch (d->type) {
	case KN_T_BOOLEAN: return v->t == KN_V_BOOL;
	case KN_T_INTEGER: case KN_T_REAL: if (!num) return false; break;
	case KN_T_TEXT: if (v->t != KN_V_TEXT) return false; break;
	case KN_T_DATE: return v->t == KN_V_DATE; /* Date.accept: a moment object, any range */
	case KN_T_ANY: if (v->t == KN_V_UNKNOWN) return false; break; /* its range alone */
	default: return false;
	}
	if (d->range_text != NULL)
		return kn_range_text_takes(d, v);
	if (d->nallowed == 0) /* "range": [] takes nothing (PROformajs: [].includes) */
		return d->allowed == NULL;
	for (size_t i = 0; i < d->nallowed; i++) {
		const struct kn_value *a = &d->allowed[i];
		if (kn_value_equal(a, v))
			return true;
		if (num && (a->t == KN_V_INT || a->t == KN_V_REAL) &&
		    (a->t == KN_V_INT ? (double)a->u.i : a->u.r) ==
			    (v->t == KN_V_INT ? (double)v->u.i : v->u.r))
			return true;
	}
	return false;
}

/* Does PROformajs give item d its default (getData()[path][name] == null, path its task's
 * design path)? Yes when nothing was stored under that path or that name there; else when
 * get() from that task, which reads the outermost definition of the name it sees, is null. */
static bool default_wanted(const struct kn_enact *e, int d)
{
	int p = -1;
	for (size_t i = 0; i < e->ndpaths && p < 0; i++)
		if (strcmp(e->dpaths[i], e->ddesign[d]) == 0)
			p = (int)i;
	if (p < 0 || slot_find(e, p, d) < 0)
		return true;
	const struct kn_datadef *dd = &e->m->data[d];
	int d0 = kn_model_find_data_from(e->m, dd->name, dd->owner_idx);
	return def_value(e, d0 >= 0 ? d0 : d, NULL)->t == KN_V_UNKNOWN;
}

/* The default of item d given by an enquiry (its defaultValue, or its
 * defaultCondition's value when the item accepts it) under the item's design path, when
 * default_wanted; a rejected one leaves the (maybe new, empty) history as it is. */
static int give_default(struct kn_enact *e, int d)
{
	const struct kn_datadef *dd = &e->m->data[d];
	if (getdata_throws(e)) { /* PROformajs's getData() reads an empty history */
		e->fail = true;
		e->why = "a default was rejected earlier and its empty history cannot be read "
			 "(Cannot read properties of undefined (reading 'value'))";
		return LB_OK;
	}
	if (!default_wanted(e, d))
		return LB_OK;
	int rc = store_def(e, d, NULL);
	if (rc != LB_OK)
		return rc;
	struct kn_value v = dd->defval;
	if (v.t == KN_V_DATE) { /* moment.js's read, milliseconds (fields left out: today) */
		if (dd->defval_moment == NULL)
			v.u.i *= 86400000;
		else if (!kn_date_parse_moment_ms(dd->defval_moment, kn_clock_ms(e->s->js_now_ms),
						  &v.u.i))
			return LB_OK; /* (refused by validation) */
	}
	if (v.t != KN_V_UNKNOWN)
		return store_def(e, d, &v);
	if (names_bad(e, dd->defcond)) {
		e->fail = true;
		return LB_OK;
	}
	if (eval_js(e, dd->defcond, &v) == LB_OK && !e->fail && accept_value(dd, &v))
		rc = store_def(e, d, &v);
	kn_arena_reset(&e->s->ar);
	return rc;
}

/* useDefaults: an enquiry going in progress gives each of its sources' items a default, for
 * every definition of the name it sees (outermost first), as PROformajs does. It stores them
 * at once, outside the cycle's updates: later components of the same cycle still evaluate
 * with the snapshot (e->ident). */
static int enquiry_defaults(struct kn_enact *e, int oi)
{
	const struct lb_kn_model *m = e->m;
	const struct kn_task *k = m->tasks[e->o[oi].task];
	int chain[KN_MAX_TASKS];
	int nc = 0;
	for (int t = e->o[oi].task; t >= 0 && nc < KN_MAX_TASKS; t = m->tasks[t]->parent)
		chain[nc++] = t;
	for (size_t i = 0; i < k->nsources; i++)
		for (int c = nc - 1; c >= 0; c--)
			for (size_t d = 0; d < m->ndata; d++) {
				const struct kn_datadef *dd = &m->data[d];
				if (dd->owner_idx != chain[c] || strcmp(dd->name, k->sources[i].data) != 0 ||
				    (dd->defval.t == KN_V_UNKNOWN && dd->defcond == NULL))
					continue;
				int rc = give_default(e, (int)d);
				if (rc != LB_OK || e->fail)
					return rc;
			}
	return LB_OK;
}

/* PROformajs AnnotatedState: a caption or description with `${expression}` is state, rendered
 * from the snapshot while the object is updateable (a task in progress, a candidate of a
 * decision in progress, an argument always); a changed rendering is an update of the cycle
 * (so it delays an autonomous task's completion by a cycle, as there). */
static int dynamic_updates(struct kn_enact *e, int oi)
{
	const struct obj *o = &e->o[oi];
	const struct kn_task *k = e->m->tasks[o->task];
	const char *txt[2];
	if (o->kind == O_TASK && o->state == KN_IN_PROGRESS) {
		txt[0] = k->caption;
		txt[1] = k->description;
	} else if (o->kind == O_CAND && e->o[o->parent].state == KN_IN_PROGRESS) {
		txt[0] = k->cands[o->sub].caption;
		txt[1] = k->cands[o->sub].description;
	} else if (o->kind == O_ARG) {
		txt[0] = k->cands[o->sub].args[o->sub2].caption;
		txt[1] = k->cands[o->sub].args[o->sub2].description;
	} else {
		return LB_OK;
	}
	int rc = LB_OK;
	for (int a = 0; rc == LB_OK && a < 2; a++) {
		if (txt[a] == NULL || txt[a][0] == KN_RAW_JSON || strstr(txt[a], "${") == NULL)
			continue;
		/* a rendering builds a new evaluator (Enactment.evaluate) from the data stored so
		 * far: an empty history left by a default rejected earlier in this cycle makes it
		 * throw, and the defaults given earlier in this cycle are read */
		if (any_hollow(e) >= 0) {
			e->fail = true;
			return LB_OK;
		}
		if (e->dirty) {
			idents(e, e->ident_live);
			e->s->pf_ident = e->ident_live;
		}
		struct lb_buf b;
		lb_buf_init(&b, 1 << 16);
		bool threw = false;
		rc = kn_render_text(e->s, o->task, txt[a], &b, &threw);
		e->s->pf_ident = e->ident;
		kn_arena_reset(&e->s->ar);
		if (threw) /* PROformajs's evaluation throws: the cycle fails */
			e->fail = true;
		if (threw && e->why == NULL && e->s->js_why == kn_js_fn_source_why)
			e->why = kn_js_fn_source_why; /* LEBEN's own throw: said as it is */
		const char *r = b.data != NULL ? (const char *)b.data : "";
		if (rc == LB_OK && (o->dyn[a] == NULL || strcmp(o->dyn[a], r) != 0) &&
		    (rc = push(e, oi, a ? A_DESCRIPTION : A_CAPTION, 0)) == LB_OK &&
		    (e->d[e->nd - 1].txt = lb_strdup(r)) == NULL)
			rc = LB_ENOMEM;
		lb_buf_release(&b);
	}
	return rc;
}

static int update_task(struct kn_enact *e, int oi)
{
	size_t mark = e->nd;
	int rc = dynamic_updates(e, oi);
	if (rc != LB_OK)
		return rc;
	struct obj *o = &e->o[oi];
	const struct kn_task *k = e->m->tasks[o->task];
	int8_t pst = o->parent >= 0 ? e->o[o->parent].state : ST_UNSET;
	bool has_parent = o->parent >= 0;
	if (o->state == ST_UNSET) {
		rc = push(e, oi, A_STATE, KN_DORMANT);
	} else if (o->state == KN_DORMANT && k->trigger == NULL &&
		   (!has_parent || pst == KN_IN_PROGRESS) && (k->wait == NULL || truth(e, k->wait))) {
		bool pre = k->pre == NULL || truth(e, k->pre);
		rc = push(e, oi, A_STATE, pre ? KN_IN_PROGRESS : KN_DISCARDED);
	} else if (o->state == KN_DORMANT && k->optional && has_parent && fin(pst)) {
		rc = push(e, oi, A_STATE, KN_DISCARDED);
	} else if (o->state == KN_IN_PROGRESS) {
		int8_t c = completeable(e, oi);
		if (c != o->completeable)
			rc = push(e, oi, A_COMPLETEABLE, c);
		if (rc == LB_OK && o->cancellable != 1)
			rc = push(e, oi, A_CANCELLABLE, 1);
		int8_t cy = k->cycle_until == NULL || !truth(e, k->cycle_until);
		if (rc == LB_OK && cy != o->cycleable)
			rc = push(e, oi, A_CYCLEABLE, cy);
		if (rc == LB_OK && k->abort != NULL && truth(e, k->abort)) {
			rc = next_instance(e, oi);
			o = &e->o[oi];
			rc = rc ? rc : push(e, oi, A_STATE, KN_DISCARDED);
		}
		if (rc == LB_OK && k->terminate != NULL && truth(e, k->terminate)) {
			rc = next_instance(e, oi);
			o = &e->o[oi];
			rc = rc ? rc : push(e, oi, A_STATE, KN_COMPLETED);
		}
		if (rc == LB_OK && k->optional && has_parent && fin(pst))
			rc = push(e, oi, A_STATE, pst);
	} else {
		if (o->completeable == 1)
			rc = push(e, oi, A_COMPLETEABLE, 0);
		if (rc == LB_OK && o->cancellable == 1)
			rc = push(e, oi, A_CANCELLABLE, 0);
		if (rc == LB_OK && o->cycleable == 1)
			rc = push(e, oi, A_CYCLEABLE, 0);
	}
	if (rc == LB_OK && e->nd == mark && k->autonomous && completeable(e, oi)) {
		rc = next_instance(e, oi);
		rc = rc ? rc : push(e, oi, A_STATE, KN_COMPLETED);
	}
	if (rc != LB_OK)
		return rc;
	/* PROformajs gives the defaults after Task._updateState returns: a throw there (the
	 * precondition's, say) fails the cycle before any default is given */
	if (k->cls == KN_ENQUIRY && k->use_defaults && !e->fail)
		for (size_t i = mark; i < e->nd; i++)
			if (e->d[i].obj == oi && e->d[i].attr == A_STATE && e->d[i].v == KN_IN_PROGRESS) {
				if ((rc = enquiry_defaults(e, oi)) != LB_OK)
					return rc;
				break;
			}
	o = &e->o[oi];
	int8_t st = o->state;
	if (k->cls == KN_PLAN && st == KN_IN_PROGRESS) {
		if (o->completeable == 1 && k->autonomous) {
			bool discard = k->ntasks > 0;
			for (size_t i = 0; i < k->ntasks; i++) {
				int c = latest(e, k->tasks[i]->idx);
				if (c < 0 || e->o[c].state != KN_DISCARDED)
					discard = false;
			}
			rc = next_instance(e, oi);
			rc = rc ? rc : push(e, oi, A_STATE, discard ? KN_DISCARDED : KN_COMPLETED);
		}
	} else if (k->cls == KN_PLAN && st == KN_DISCARDED) {
		for (size_t i = 0; rc == LB_OK && i < k->ntasks; i++) {
			const struct kn_task *c = k->tasks[i];
			char pfx[4096];
			int n = snprintf(pfx, sizeof(pfx), "%s:%s", e->o[oi].path, c->name);
			if (n < 0 || (size_t)n >= sizeof(pfx))
				return LB_ELIMIT;
			int co = -1;
			if (is_cyclic(e, c->idx)) {
				/* the last key starting with the path and no ':' after it */
				for (size_t j = 0; j < e->n; j++)
					if (strncmp(e->o[j].path, pfx, (size_t)n) == 0 &&
					    strchr(e->o[j].path + n, ':') == NULL)
						co = (int)j;
			} else {
				co = find_path(e, pfx);
			}
			if (co >= 0 && (e->o[co].state == KN_DORMANT || e->o[co].state == KN_IN_PROGRESS))
				rc = push(e, co, A_STATE, KN_DISCARDED);
		}
	} else if (k->cls == KN_DECISION && st == KN_IN_PROGRESS) {
		if (k->autonomous && completeable(e, oi)) {
			rc = next_instance(e, oi);
			rc = rc ? rc : push(e, oi, A_STATE, KN_COMPLETED);
		}
		if (rc == LB_OK && k->auto_most_supported) {
			int best = -1;
			for (size_t i = 0; i < k->ncands; i++) {
				int co = child_obj(e, oi, k->cands[i].name);
				if (co < 0 || !e->o[co].has_support)
					continue;
				if (best < 0 || e->o[co].support > e->o[best].support)
					best = co;
			}
			if (best >= 0 && !e->o[best].confirmed && e->o[best].support > 0)
				rc = push(e, best, A_CONFIRMED, 1);
		}
	}
	return rc;
}

static double arg_weight(const struct kn_argument *a)
{
	switch (a->kind) {
	case KN_SUP_FOR: return 1;
	case KN_SUP_AGAINST: return -1;
	case KN_SUP_CONFIRMING: return INFINITY;
	case KN_SUP_EXCLUDING: return -INFINITY;
	default: return a->weight;
	}
}

/* Does PROformajs's protocol.getComponent('task:item') of data item d find another component
 * of the task defining it (a source of that type in an enquiry, a task of that name in a
 * plan, a candidate in a decision: each class looks these up before its data definitions)?
 * Its warnings then fail every cycle (their path 'task:item:0' cannot be looked up).
 * (PROformajs's validation refuses such a name for a derived item, a plan's task or a
 * decision's candidate: only an item its enquiry asks for gets here.) */
static bool data_path_shadowed(const struct kn_enact *e, int d)
{
	const struct kn_datadef *dd = &e->m->data[d];
	if (dd->owner_idx < 0 || (size_t)dd->owner_idx >= e->m->ntasks)
		return false;
	const struct kn_task *t = e->m->tasks[dd->owner_idx];
	for (size_t i = 0; t->cls == KN_ENQUIRY && i < t->nsources; i++)
		if (strcmp(t->sources[i].data, dd->name) == 0)
			return true;
	for (size_t i = 0; t->cls == KN_PLAN && i < t->ntasks; i++)
		if (strcmp(t->tasks[i]->name, dd->name) == 0)
			return true;
	for (size_t i = 0; t->cls == KN_DECISION && i < t->ncands; i++)
		if (strcmp(t->cands[i].name, dd->name) == 0)
			return true;
	return false;
}

static int update(struct kn_enact *e, int oi)
{
	e->caller = oi;
	e->s->pf_caller_part = e->o[oi].kind != O_TASK;
	e->s->pf_unresolved = result_unresolved;
	e->s->pf_warning_active = warning_active;
	e->s->pf_ctx = e; /* a copied enactment has its own session */
	struct obj *o = &e->o[oi];
	const struct kn_task *k =
		o->kind == O_DERIVED || o->kind == O_WARNING ? NULL : e->m->tasks[o->task];
	int rc = LB_OK;
	switch (o->kind) {
	case O_TASK:
		return update_task(e, oi);
	case O_SOURCE: {
		int8_t pst = e->o[o->parent].state;
		if (pst == ST_UNSET)
			return LB_OK;
		struct kn_value v;
		if (pst == KN_IN_PROGRESS) {
			const struct kn_expr *rq = k->sources[o->sub].request;
			if (rq != NULL) {
				bool fresh;
				if ((rc = eval_raw(e, rq, &v, &fresh)) != LB_OK)
					return rc;
				if (!js_same(&v, fresh, &o->raw))
					return push_raw(e, oi, A_REQUESTED, &v);
				kn_value_clear(&v);
			}
		} else if (o->requested == 1) {
			v = (struct kn_value){ .t = KN_V_BOOL, .u.b = false };
			rc = push_raw(e, oi, A_REQUESTED, &v);
		}
		return rc;
	}
	case O_CAND: {
		if ((rc = dynamic_updates(e, oi)) != LB_OK)
			return rc;
		if (e->o[o->parent].state != KN_IN_PROGRESS)
			return LB_OK;
		const struct kn_candidate *c = &k->cands[o->sub];
		double sup = 0;
		for (size_t a = 0; a < c->nargs; a++) {
			char nm[32];
			snprintf(nm, sizeof(nm), "%zu", a);
			int ao = child_obj(e, oi, nm);
			if (ao >= 0 && e->o[ao].active == 1)
				sup += arg_weight(&c->args[a]);
		}
		struct kn_value rec = { .t = KN_V_UNKNOWN };
		bool fresh = false;
		if (c->recommend != NULL &&
		    (rc = eval_raw(e, c->recommend, &rec, &fresh)) != LB_OK)
			return rc;
		if (!isnan(sup) && (!o->has_support || sup != o->support)) {
			rc = push(e, oi, A_SUPPORT, 0);
			if (rc == LB_OK)
				e->d[e->nd - 1].num = sup;
		}
		if (rc == LB_OK && !js_same(&rec, fresh, &o->raw))
			return push_raw(e, oi, A_RECOMMENDED, &rec);
		kn_value_clear(&rec);
		if (rc == LB_OK && o->recommended == 1 && !o->confirmed && c->auto_recommended)
			rc = push(e, oi, A_CONFIRMED, 1);
		return rc;
	}
	case O_ARG:
	case O_WARNING: {
		if (o->kind == O_ARG && (rc = dynamic_updates(e, oi)) != LB_OK)
			return rc;
		const struct kn_expr *x = o->kind == O_ARG ? k->cands[o->sub].args[o->sub2].cond
							  : e->m->data[o->task].warnings[o->sub].cond;
		if (o->kind == O_WARNING && data_path_shadowed(e, o->task)) {
			e->fail = true;
			e->why = "Unable to getComponent (the warning's item shares its name with a "
				 "source, task or candidate of the task defining it)";
			return LB_OK;
		}
		struct kn_value v;
		bool fresh;
		int id[2];
		if ((rc = eval_raw_id(e, x, &v, &fresh, id)) != LB_OK)
			return rc;
		/* (`active !== this.active`: a list is the same only as the same stored array) */
		bool same = v.t == KN_V_SET ? id[0] > 0 && o->raw.t == KN_V_SET &&
						      o->raw_id[0] == id[0] && o->raw_id[1] == id[1]
					    : js_same(&v, fresh, &o->raw);
		if (!same) {
			if ((rc = push_raw(e, oi, A_ACTIVE, &v)) == LB_OK) {
				e->d[e->nd - 1].id[0] = id[0];
				e->d[e->nd - 1].id[1] = id[1];
			}
			return rc;
		}
		kn_value_clear(&v);
		return LB_OK;
	}
	case O_DERIVED: {
		const struct kn_datadef *dd = &e->m->data[o->task];
		struct kn_value v;
		if (names_bad(e, dd->derive)) {
			e->fail = true;
			return LB_OK;
		}
		rc = eval_js(e, dd->derive, &v);
		if (rc != LB_OK)
			return rc;
		bool numeric = dd->type == KN_T_INTEGER || dd->type == KN_T_REAL;
		bool differ;
		if (kn_js_is_fn(&v)) {
			/* a function (the same object every time): a numeric item never stores it
			 * (isNaN); another does once, the snapshot showing a version, no value */
			differ = !numeric && !kn_js_fn_stored(&o->value);
			v.t = KN_V_UNKNOWN;
			v.u.i = KN_JS_FN;
		} else if (js_list_undefined(dd->derive, &v)) /* an array all the same: new each time */
			differ = !numeric || dd->derive->nargs < 2;
		else if (kn_js_null(&v)) /* !isNaN(null): a numeric item stores it too */
			differ = !kn_js_null(&o->value);
		else if (v.t == KN_V_UNKNOWN || (v.t == KN_V_REAL && isnan(v.u.r)))
			/* a numeric item never stores undefined or NaN (isNaN guard) */
			differ = !numeric && (v.t == KN_V_REAL || o->value.t != KN_V_UNKNOWN ||
					      kn_js_null(&o->value));
		else if ((v.t == KN_V_INT || v.t == KN_V_REAL) &&
			 (o->value.t == KN_V_INT || o->value.t == KN_V_REAL)) {
			double x = v.t == KN_V_INT ? (double)v.u.i : v.u.r;
			double y = o->value.t == KN_V_INT ? (double)o->value.u.i : o->value.u.r;
			differ = x != y || js_fresh(dd->derive, &v);
		} else
			differ = derived_differ(numeric, js_fresh(dd->derive, &v), &v, &o->value);
		if (differ) {
			rc = push(e, oi, A_VALUE, 0);
			if (rc == LB_OK)
				rc = kn_value_copy(&e->d[e->nd - 1].val, &v);
		}
		kn_arena_reset(&e->s->ar);
		return rc;
	}
	}
	return LB_OK;
}

static void drop_deltas(struct kn_enact *e)
{
	for (size_t i = 0; i < e->nd; i++) {
		kn_value_clear(&e->d[i].val);
		lb_free(e->d[i].txt);
	}
	e->nd = 0;
}

static int apply(struct kn_enact *e)
{
	int rc = LB_OK;
	for (size_t i = 0; rc == LB_OK && i < e->nd; i++) {
		struct delta *d = &e->d[i];
		struct obj *o = &e->o[d->obj];
		switch (d->attr) {
		case A_STATE:
			o->state = d->v;
			if (d->v == KN_IN_PROGRESS || d->v == KN_COMPLETED || d->v == KN_DISCARDED) {
				int k = d->v == KN_IN_PROGRESS ? 0 : d->v == KN_COMPLETED ? 1 : 2;
				if (o->when[k] == KN_NEVER)
					o->when[k] = kn_clock_ms(e->s->js_now_ms);
			}
			if (d->v == KN_IN_PROGRESS && e->s->seen_started != NULL)
				e->s->seen_started[o->task] = 1;
			break;
		case A_COMPLETEABLE: o->completeable = d->v; break;
		case A_CANCELLABLE: o->cancellable = d->v; break;
		case A_CYCLEABLE: o->cycleable = d->v; break;
		case A_REQUESTED:
		case A_RECOMMENDED:
		case A_ACTIVE:
			if (d->attr == A_REQUESTED)
				o->requested = d->v;
			else if (d->attr == A_RECOMMENDED)
				o->recommended = d->v;
			else
				o->active = d->v;
			kn_value_clear(&o->raw);
			o->raw = d->val; /* taken over */
			memset(&d->val, 0, sizeof(d->val));
			o->raw_id[0] = d->id[0];
			o->raw_id[1] = d->id[1];
			break;
		case A_CONFIRMED: o->confirmed = d->v; break;
		case A_CAPTION:
		case A_DESCRIPTION:
			lb_free(o->dyn[d->attr == A_DESCRIPTION]);
			o->dyn[d->attr == A_DESCRIPTION] = d->txt; /* taken over */
			d->txt = NULL;
			break;
		case A_SUPPORT:
			o->has_support = true;
			o->support = d->num;
			break;
		case A_VALUE:
			/* PROformajs stores it under the runtime path of the item's task */
			kn_value_clear(&o->value);
			rc = kn_value_copy(&o->value, &d->val);
			rc = rc ? rc : store_at(e, e->o[o->parent].path, o->task, &d->val, true);
			break;
		}
	}
	drop_deltas(e);
	return rc;
}

/* PROformajs _cycle: seeds (already pushed) and every object's updates from one snapshot,
 * applied together, repeated until nothing changes. */
static int cycle(struct kn_enact *e, int limit, struct lb_errmsg *em)
{
	for (int round = 1;; round++) {
		int h = any_hollow(e);
		if (h >= 0) {
			drop_deltas(e); /* the operation's seed (a complete, a trigger) is lost */
			return lb_errf(em, LB_EINVALID,
				       "'%s': its default was rejected and PROformajs keeps an "
				       "empty history (Cannot read properties of undefined "
				       "(reading 'value')) until a value is set",
				       e->m->data[e->slots[h].data].name);
		}
		sync(e);
		size_t n = e->n; /* objects built during the round are visited next round */
		e->round_start = n;
		for (size_t i = 0; i < n; i++) {
			int rc = update(e, (int)i);
			if (rc == LB_OK && e->fail)
				rc = LB_EINVALID;
			if (rc != LB_OK) {
				const char *why = e->why != NULL ? e->why
								 : "names a repetition built in this cycle";
				e->fail = false;
				e->why = NULL;
				e->s->pf_caller_part = false;
				drop_deltas(e);
				return lb_errf(em, rc, "%s: %s", e->o[i].path,
					       rc == LB_EINVALID ? why : lb_strerror(rc));
			}
		}
		e->s->pf_caller_part = false;
		if (e->nd == 0)
			return LB_OK;
		if (round > limit) {
			drop_deltas(e);
			return lb_errf(em, LB_ELIMIT,
				       "stack size exception - more than %d cycles in one operation",
				       limit);
		}
		int rc = apply(e);
		if (rc != LB_OK)
			return lb_errf(em, rc, "applying updates: %s", lb_strerror(rc));
	}
}

/* ---- public (internal) API --------------------------------------------------------------- */

int kn_enact_new(const struct lb_kn_model *m, struct kn_enact **out, struct lb_errmsg *em)
{
	struct kn_enact *e = lb_calloc(1, sizeof(*e));
	if (e == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	e->m = m;
	e->caller = -1;
	int rc = lb_kn_session_new(m, 0, &e->s, em);
	if (rc != LB_OK) {
		lb_free(e);
		return rc;
	}
	e->s->no_trace = true;
	e->s->pf_unresolved = result_unresolved;
	e->s->pf_warning_active = warning_active;
	e->s->pf_ctx = e;
	size_t nd = m->ndata ? m->ndata : 1;
	e->support = lb_calloc(m->ncands ? m->ncands : 1, sizeof(double));
	e->dslot = lb_calloc(nd, sizeof(int));
	e->group = lb_calloc(nd, sizeof(int));
	e->ddesign = lb_calloc(nd, sizeof(char *));
	e->ident = lb_calloc(nd, sizeof(struct kn_value));
	e->ident_live = lb_calloc(nd, sizeof(struct kn_value));
	e->ibest = lb_calloc(nd, sizeof(int));
	rc = e->support && e->dslot && e->group && e->ddesign && e->ident && e->ident_live &&
			     e->ibest
		     ? LB_OK
		     : LB_ENOMEM;
	for (size_t d = 0; rc == LB_OK && d < m->ndata; d++) {
		e->dslot[d] = -1;
		e->group[d] = (int)d;
		for (size_t k = 0; k < d; k++)
			if (strcmp(m->data[k].name, m->data[d].name) == 0) {
				e->group[d] = (int)k;
				break;
			}
		struct lb_buf b;
		lb_buf_init(&b, 1 << 16);
		int o = m->data[d].owner_idx >= 0 ? m->data[d].owner_idx : 0;
		rc = task_design(m, o, &b);
		rc = rc ? rc : lb_buf_addc(&b, 0);
		if (rc == LB_OK && (e->ddesign[d] = lb_strdup((const char *)b.data)) == NULL)
			rc = LB_ENOMEM;
		lb_buf_release(&b);
	}
	if (rc != LB_OK) {
		kn_enact_free(e);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	e->s->pf_ident = e->ident;
	e->s->pf_support = e->support;
	e->s->pf_enact = e;
	e->s->pf_stored_derived = true;
	e->s->js = true; /* JavaScript expression semantics */
	/* a data definition at the top (m->top_data): PROformajs builds no state for it */
	rc = m->top_data ? LB_OK : build(e, 0, is_cyclic(e, 0) ? 0 : -1, -1);
	if (rc != LB_OK) {
		kn_enact_free(e);
		return lb_errf(em, rc, "building the enactment: %s", lb_strerror(rc));
	}
	*out = e;
	return LB_OK;
}

void kn_enact_set_clock(struct kn_enact *e, int64_t now_ms)
{
	e->s->js_now_ms = now_ms;
}

void kn_enact_free(struct kn_enact *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++)
		obj_clear(&e->o[i]);
	lb_free(e->o);
	drop_deltas(e);
	lb_free(e->d);
	for (size_t i = 0; i < e->ntr; i++)
		lb_free(e->tr[i].paths);
	lb_free(e->tr);
	lb_free(e->support);
	for (size_t i = 0; i < e->nslots; i++) {
		for (size_t k = 0; k < e->slots[i].n; k++)
			kn_value_clear(&e->slots[i].h[k]);
		lb_free(e->slots[i].h);
	}
	lb_free(e->slots);
	for (size_t i = 0; i < e->ndpaths; i++)
		lb_free(e->dpaths[i]);
	lb_free(e->dpaths);
	for (size_t d = 0; e->ddesign != NULL && d < e->m->ndata; d++)
		lb_free(e->ddesign[d]);
	lb_free(e->ddesign);
	lb_free(e->dslot);
	lb_free(e->group);
	lb_free(e->ident);
	lb_free(e->ident_live);
	lb_free(e->ibest);
	lb_kn_session_free(e->s);
	lb_free(e);
}

/* A caption or description PROformajs keeps as a JSON value without indexOf (a number, a
 * boolean, an object; kn_json.c get_text keeps it as KN_RAW_JSON + its JSON). */
static bool not_indexable(const char *txt)
{
	return txt != NULL && txt[0] == KN_RAW_JSON && txt[1] != '[';
}

/* Copying an enactment (kn_enact_clone, the exploration's way to branch a state): every field
 * of struct kn_enact and struct obj is copied by value with the struct and then, when the
 * enactment owns what it points to, deep-copied below. A new field changes a struct's size
 * and stops the build here: copy it in kn_enact_clone / obj_clone, then update the size.
 * test_kn_enact compares cloned and replayed runs of the example contracts step by step. */
_Static_assert(sizeof(struct kn_enact) == 224,
	       "struct kn_enact changed: copy the new field in kn_enact_clone");
_Static_assert(sizeof(struct obj) == 168, "struct obj changed: copy the new field in obj_clone");

static int obj_clone(struct obj *c, const struct obj *o)
{
	*c = *o;
	c->path = lb_strdup(o->path);
	c->ivec = o->nivec > 0 ? lb_malloc((size_t)o->nivec * sizeof(int)) : NULL;
	c->dyn[0] = o->dyn[0] ? lb_strdup(o->dyn[0]) : NULL;
	c->dyn[1] = o->dyn[1] ? lb_strdup(o->dyn[1]) : NULL;
	memset(&c->value, 0, sizeof(c->value));
	memset(&c->raw, 0, sizeof(c->raw));
	int rc = c->path && (c->ivec || o->nivec == 0) && (c->dyn[0] || !o->dyn[0]) &&
			 (c->dyn[1] || !o->dyn[1])
		     ? LB_OK
		     : LB_ENOMEM;
	if (rc == LB_OK && o->nivec > 0)
		memcpy(c->ivec, o->ivec, (size_t)o->nivec * sizeof(int));
	rc = rc ? rc : kn_value_copy(&c->value, &o->value);
	rc = rc ? rc : kn_value_copy(&c->raw, &o->raw);
	return rc;
}

/* c->ident as e->ident: the cycle's snapshot, which may be older than the values stored since
 * (e->dirty). Each entry is a shallow copy of a version in a slot (or a scalar, or unknown):
 * the same version of the same slot in c, which kn_enact_copy_data built in e's order. */
static void clone_idents(struct kn_enact *c, const struct kn_enact *e)
{
	for (size_t d = 0; d < e->m->ndata; d++) {
		const struct kn_value *v = &e->ident[d];
		c->ident[d] = *v;
		if (v->t != KN_V_TEXT && v->t != KN_V_SET)
			continue;
		for (size_t i = 0; i < e->nslots && i < c->nslots; i++)
			for (size_t k = 0; k < e->slots[i].n && k < c->slots[i].n; k++) {
				const struct kn_value *h = &e->slots[i].h[k];
				if (h->t == v->t && (v->t == KN_V_TEXT ? h->u.s == v->u.s
								       : h->u.set.v == v->u.set.v)) {
					c->ident[d] = c->slots[i].h[k];
					goto next;
				}
			}
	next:;
	}
	c->dirty = e->dirty;
	c->s->pf_ident = e->s->pf_ident == e->ident_live ? c->ident_live : c->ident;
	c->s->pf_ctx = c; /* the evaluator's callbacks read this enactment's objects */
}

int kn_enact_clone(const struct kn_enact *e, struct kn_enact **out)
{
	const struct lb_kn_model *m = e->m;
	struct kn_enact *c = lb_malloc(sizeof(*c));
	if (c == NULL)
		return LB_ENOMEM;
	*c = *e; /* scalars: n, nd, ntr, dirty, why, started, round_start, caller, fail; m borrowed */
	c->s = NULL;
	c->o = lb_calloc(e->n ? e->n : 1, sizeof(*c->o));
	c->cap = c->o ? e->n : 0;
	c->n = 0;
	c->d = e->nd > 0 ? lb_calloc(e->nd, sizeof(*c->d)) : NULL;
	c->capd = e->nd;
	c->nd = 0;
	c->tr = e->ntr > 0 ? lb_calloc(e->ntr, sizeof(*c->tr)) : NULL;
	c->ntr = 0;
	size_t nd = m->ndata ? m->ndata : 1;
	c->support = lb_malloc((m->ncands ? m->ncands : 1) * sizeof(double));
	/* the data store: emptied here, filled by kn_enact_copy_data below */
	c->dpaths = NULL;
	c->ndpaths = c->capdpaths = 0;
	c->slots = NULL;
	c->nslots = c->capslots = 0;
	c->dslot = lb_malloc(nd * sizeof(int));
	c->group = lb_malloc(nd * sizeof(int));
	c->ddesign = lb_calloc(nd, sizeof(char *));
	c->ident = lb_calloc(nd, sizeof(struct kn_value));
	c->ident_live = lb_calloc(nd, sizeof(struct kn_value));
	c->ibest = lb_calloc(nd, sizeof(int));
	int rc = c->o && (c->d || e->nd == 0) && (c->tr || e->ntr == 0) && c->support &&
			 c->dslot && c->group && c->ddesign && c->ident && c->ident_live && c->ibest
		     ? LB_OK
		     : LB_ENOMEM;
	if (rc != LB_OK) { /* every pointer c owns is its own or NULL here, every count 0 */
		kn_enact_free(c);
		return LB_ENOMEM;
	}
	rc = kn_session_clone(e->s, &c->s);
	if (rc == LB_OK) {
		memcpy(c->support, e->support, (m->ncands ? m->ncands : 1) * sizeof(double));
		memcpy(c->group, e->group, nd * sizeof(int));
		for (size_t d = 0; rc == LB_OK && d < m->ndata; d++)
			if ((c->ddesign[d] = lb_strdup(e->ddesign[d])) == NULL)
				rc = LB_ENOMEM;
		c->s->pf_support = c->support;
		c->s->pf_enact = c;
	}
	if (rc == LB_OK) {
		for (size_t d = 0; d < m->ndata; d++)
			c->dslot[d] = -1;
		rc = kn_enact_copy_data(c, e); /* slots, paths and their order; ident recomputed */
	}
	if (rc == LB_OK)
		clone_idents(c, e);
	for (; rc == LB_OK && c->n < e->n; c->n++)
		rc = obj_clone(&c->o[c->n], &e->o[c->n]);
	/* (a failed copy is counted: it holds what it got, freed with the rest) */
	for (; rc == LB_OK && c->nd < e->nd; c->nd++) {
		c->d[c->nd] = e->d[c->nd];
		c->d[c->nd].txt = NULL;
		memset(&c->d[c->nd].val, 0, sizeof(c->d[c->nd].val));
		rc = kn_value_copy(&c->d[c->nd].val, &e->d[c->nd].val);
		if (rc == LB_OK && e->d[c->nd].txt != NULL &&
		    (c->d[c->nd].txt = lb_strdup(e->d[c->nd].txt)) == NULL)
			rc = LB_ENOMEM;
	}
	for (; rc == LB_OK && c->ntr < e->ntr; c->ntr++) {
		c->tr[c->ntr] = e->tr[c->ntr];
		c->tr[c->ntr].paths = lb_malloc((e->tr[c->ntr].n ? e->tr[c->ntr].n : 1) * sizeof(int));
		if (c->tr[c->ntr].paths == NULL)
			rc = LB_ENOMEM;
		else
			memcpy(c->tr[c->ntr].paths, e->tr[c->ntr].paths, e->tr[c->ntr].n * sizeof(int));
	}
	if (rc != LB_OK) {
		kn_enact_free(c);
		return rc;
	}
	*out = c;
	return LB_OK;
}

int kn_enact_start(struct kn_enact *e, struct lb_errmsg *em)
{
	if (e->started)
		return lb_errf(em, LB_EINVALID, "Cannot start an enactment that has already started");
	/* a task or candidate named by a list (kn_json.c get_list_name): PROformajs builds its
	 * state path with String(name) and then finds no component by that path */
	for (size_t i = 0; i < e->m->ntasks && !e->m->top_data; i++) {
		const struct kn_task *t = e->m->tasks[i];
		bool list = t->name[0] == KN_RAW_JSON;
		for (size_t c = 0; !list && c < t->ncands; c++)
			list = t->cands[c].name[0] == KN_RAW_JSON;
		if (list)
			return lb_errf(em, LB_EINVALID,
				       "task '%s': a task or candidate whose name is written as a "
				       "list cannot be enacted (PROformajs: Unable to getComponent); "
				       "write the name as a text",
				       kn_show_text(t->name));
		const char *bad = not_indexable(t->caption) ? t->caption
				  : not_indexable(t->description) ? t->description : NULL;
		for (size_t c = 0; bad == NULL && c < t->ncands; c++) {
			const struct kn_candidate *k = &t->cands[c];
			bad = not_indexable(k->caption) ? k->caption
			      : not_indexable(k->description) ? k->description : NULL;
			for (size_t a = 0; bad == NULL && a < k->nargs; a++)
				bad = not_indexable(k->args[a].caption) ? k->args[a].caption
				      : not_indexable(k->args[a].description) ? k->args[a].description
				      : NULL;
		}
		if (bad != NULL)
			return lb_errf(em, LB_EINVALID,
				       "task '%s': a caption or description %s is neither a text nor a "
				       "list, on which PROformajs's state update fails (this[attribute]."
				       "indexOf is not a function); write it as a text",
				       kn_show_text(t->name), bad + 1);
	}
	/* the same for a derived item (it has a state); and one named by a list with a state
	 * (derived, or with warnings) is not found by its path either */
	for (size_t i = 0; i < e->m->ndata; i++) {
		const struct kn_datadef *d = &e->m->data[i];
		if (d->derive != NULL && (not_indexable(d->caption) || not_indexable(d->description)))
			return lb_errf(em, LB_EINVALID,
				       "data item '%s': a caption or description %s is neither a text "
				       "nor a list, on which PROformajs's state update fails; write it "
				       "as a text",
				       kn_show_text(d->name),
				       (not_indexable(d->caption) ? d->caption : d->description) + 1);
		if ((d->derive != NULL || d->nwarnings > 0) && d->name[0] == KN_RAW_JSON)
			return lb_errf(em, LB_EINVALID,
				       "data item '%s': a derived item or one with warnings whose name is "
				       "written as a list cannot be enacted (PROformajs: Unable to "
				       "getComponent); write the name as a text",
				       kn_show_text(d->name));
	}
	/* a top-level data definition with a state (derived, or with warnings): PROformajs's
	 * start looks its state's component up under an undefined parent and fails */
	if (e->m->top_data && (e->m->data[0].derive != NULL || e->m->data[0].nwarnings > 0))
		return lb_errf(em, LB_EINVALID,
			       "data item '%s' is the top level and has a state (derived, or with "
			       "warnings), which PROformajs cannot look up (Unable to getComponent); "
			       "put it in the \"dataDefinitions\" of a Plan",
			       kn_show_text(e->m->data[0].name));
	e->started = true;
	return cycle(e, ENACT_START_LIMIT, em);
}

static int task_obj(struct kn_enact *e, const char *path, struct lb_errmsg *em)
{
	int o = find_path(e, path);
	if (o < 0)
		return lb_errf(em, LB_ENOTFOUND, "unknown component '%s'", path), -1;
	return o;
}

/* PROformajs accept(): the JavaScript type, then the range (allowed values). */
static bool accept(const struct kn_datadef *d, json_t *j, struct kn_value *v)
{
	memset(v, 0, sizeof(*v));
	switch (d->type) {
	case KN_T_BOOLEAN:
		if (!json_is_boolean(j))
			return false;
		v->t = KN_V_BOOL;
		v->u.b = json_is_true(j);
		return true; /* Boolean.accept ignores the range */
	case KN_T_INTEGER:
	case KN_T_REAL:
		if (json_is_integer(j) && llabs(json_integer_value(j)) <= 9007199254740992LL) {
			v->t = KN_V_INT;
			v->u.i = json_integer_value(j);
		} else if (json_is_integer(j)) { /* beyond 2^53: the nearest double, as in JavaScript */
			v->t = KN_V_REAL;
			v->u.r = (double)json_integer_value(j);
		} else if (json_is_real(j)) {
			double r = json_real_value(j);
			if (r == floor(r) && fabs(r) < 9e15) {
				v->t = KN_V_INT;
				v->u.i = (int64_t)r;
			} else {
				v->t = KN_V_REAL;
				v->u.r = r;
			}
		} else
			return false;
		if (d->type == KN_T_REAL && v->t == KN_V_INT) {
			double r = (double)v->u.i;
			v->t = KN_V_REAL;
			v->u.r = r;
		}
		break; /* Integer.accept takes any number, 2.5 included */
	case KN_T_TEXT:
		if (!json_is_string(j))
			return false;
		v->t = KN_V_TEXT;
		v->u.s = json_string_value(j);
		break;
	case KN_T_ANY:
		/* DataDefinition: any value (LEBEN's: a boolean, number or text), then the range */
		if (!kn_json_scalar(j, v))
			return false;
		break;
	default:
		return false; /* dates: not yet */
	}
	if (d->range_text != NULL)
		return kn_range_text_takes(d, v);
	if (d->nallowed == 0) /* "range": [] takes nothing (PROformajs: [].includes) */
		return d->allowed == NULL;
	for (size_t i = 0; i < d->nallowed; i++) {
		const struct kn_value *a = &d->allowed[i];
		if (kn_value_equal(a, v))
			return true;
		bool an = a->t == KN_V_INT || a->t == KN_V_REAL, vn = v->t == KN_V_INT || v->t == KN_V_REAL;
		if (an && vn && (a->t == KN_V_INT ? (double)a->u.i : a->u.r) ==
				    (v->t == KN_V_INT ? (double)v->u.i : v->u.r))
			return true;
	}
	return false;
}

/* Data item `item` as seen from task object o: the outermost definition of the name among
 * the task's and its ancestors' (PROformajs allDataDefinitions().find), else -1. */
static int visible_data(const struct kn_enact *e, int o, const char *item)
{
	if (e->o[o].kind != O_TASK)
		return -1;
	return kn_model_find_data_from(e->m, item, e->o[o].task);
}

/* A text given to a multi-valued item: PROformajs's for...of iterates its characters (code
 * points), each checked by the class's accept(), and stores the text itself. */
static int store_text_multi(struct kn_enact *e, int d, json_t *j, const char *item,
			    struct lb_errmsg *em)
{
	const char *t = json_string_value(j);
	size_t n = json_string_length(j);
	for (size_t i = 0; i < n;) {
		size_t l = 1;
		while (i + l < n && ((unsigned char)t[i + l] & 0xC0) == 0x80)
			l++;
		json_t *c = json_stringn(t + i, l);
		struct kn_value cv;
		bool ok = c != NULL && accept(&e->m->data[d], c, &cv);
		json_decref(c);
		if (!ok)
			return lb_errf(em, LB_EINVALID, "%s - incompatible data provided", item);
		i += l;
	}
	struct kn_value v = { .t = KN_V_TEXT, .u.s = t };
	return store_def(e, d, &v);
}

/* Stores one answer, without cycling (PROformajs's set() stores every answer it accepts,
 * then cycles once). */
static int store_answer(struct kn_enact *e, const char *path, const char *item,
			const void *value, struct lb_errmsg *em)
{
	int o = task_obj(e, path, em);
	if (o < 0)
		return LB_ENOTFOUND;
	if (e->o[o].kind != O_TASK)
		return lb_errf(em, LB_EINVALID, "'%s' is not a task: data are set on tasks", path);
	int d = visible_data(e, o, item);
	if (d < 0)
		return lb_errf(em, LB_EINVALID, "%s - unknown dataDefinition", item);
	const struct kn_datadef *dd = &e->m->data[d];
	if (dd->derive != NULL)
		return lb_errf(em, LB_EINVALID, "%s - cannot set a derived data definition value",
			       item);
	json_t *j = (json_t *)value;
	struct kn_value v;
	if (dd->multi) {
		/* PROformajs iterates the value (for...of): anything but a list or a text throws
		 * there, before the answers after it are stored and without a cycle */
		if (!json_is_array(j) && !json_is_string(j))
			return lb_errf(em, LB_ETYPE, "%s is not iterable", item);
		if (!json_is_array(j))
			return store_text_multi(e, d, j, item, em);
		struct kn_value *el = lb_calloc(json_array_size(j) + 1, sizeof(*el));
		if (el == NULL)
			return LB_ENOMEM;
		size_t i;
		json_t *x;
		json_array_foreach(j, i, x) {
			if (!accept(dd, x, &el[i])) {
				lb_free(el);
				return lb_errf(em, LB_EINVALID, "%s - incompatible data provided", item);
			}
		}
		v.t = KN_V_SET;
		v.u.set.v = el;
		v.u.set.n = json_array_size(j);
		int rc = store_def(e, d, &v);
		lb_free(el);
		return rc;
	}
	if (!accept(dd, j, &v))
		return lb_errf(em, LB_EINVALID, "%s - incompatible data provided", item);
	return store_def(e, d, &v);
}

int kn_enact_set(struct kn_enact *e, const char *path, const char *item, const void *value,
		 struct lb_errmsg *em)
{
	int rc = store_answer(e, path, item, value, em);
	return rc ? rc : cycle(e, ENACT_STACK_LIMIT, em);
}

int kn_enact_set_all(struct kn_enact *e, const char *path, const void *data,
		     struct lb_errmsg *em)
{
	const char *key;
	json_t *v;
	int rc = LB_OK;
	bool added = false;
	struct lb_errmsg em1;
	if (task_obj(e, path, em) < 0)
		return LB_ENOTFOUND;
	json_object_foreach((json_t *)data, key, v) {
		int r = store_answer(e, path, key, v, rc == LB_OK ? em : &em1);
		if (r == LB_ETYPE) /* PROformajs throws there: no cycle */
			return rc ? rc : r;
		if (r == LB_OK)
			added = true;
		else if (rc == LB_OK)
			rc = r;
	}
	int crc = added ? cycle(e, ENACT_STACK_LIMIT, rc == LB_OK ? em : &em1) : LB_OK;
	return rc ? rc : crc;
}

int kn_enact_unset(struct kn_enact *e, const char *path, const char *item, struct lb_errmsg *em)
{
	int o = task_obj(e, path, em);
	if (o < 0)
		return LB_ENOTFOUND;
	int d = visible_data(e, o, item);
	if (d < 0)
		return lb_errf(em, LB_EINVALID, "unable to unset %s", item);
	static const struct kn_value unk = { .t = KN_V_UNKNOWN };
	int rc = store_def(e, d, &unk);
	return rc ? rc : cycle(e, ENACT_STACK_LIMIT, em);
}

static int finish_op(struct kn_enact *e, const char *path, int8_t to, struct lb_errmsg *em)
{
	int o = task_obj(e, path, em);
	if (o < 0)
		return LB_ENOTFOUND;
	if (e->o[o].kind != O_TASK)
		return lb_errf(em, LB_EINVALID, "'%s' is not a task", path);
	bool ok = to == KN_COMPLETED ? completeable(e, o) : e->o[o].state == KN_IN_PROGRESS;
	if (!ok)
		return lb_errf(em, LB_EINVALID, "Cannot %s a task which is not %s",
			       to == KN_COMPLETED ? "complete" : "cancel",
			       to == KN_COMPLETED ? "completeable" : "cancellable");
	int rc = LB_OK;
	if (is_cyclic(e, e->o[o].task) && e->o[o].cycleable == 1)
		rc = next_instance(e, o);
	rc = rc ? rc : push(e, o, A_STATE, to);
	if (rc != LB_OK)
		return rc;
	return cycle(e, ENACT_STACK_LIMIT, em);
}

int kn_enact_complete(struct kn_enact *e, const char *path, struct lb_errmsg *em)
{
	return finish_op(e, path, KN_COMPLETED, em);
}

int kn_enact_cancel(struct kn_enact *e, const char *path, struct lb_errmsg *em)
{
	return finish_op(e, path, KN_DISCARDED, em);
}

int kn_enact_confirm(struct kn_enact *e, const char *path, bool on, struct lb_errmsg *em)
{
	int o = task_obj(e, path, em);
	if (o < 0)
		return LB_ENOTFOUND;
	if (e->o[o].kind != O_CAND)
		return lb_errf(em, LB_EINVALID, "'%s' is not a candidate", path);
	if ((e->o[o].confirmed != 0) == on)
		return LB_OK;
	int rc = push(e, o, A_CONFIRMED, on);
	return rc ? rc : cycle(e, ENACT_STACK_LIMIT, em);
}

int kn_enact_trigger(struct kn_enact *e, const char *name, struct lb_errmsg *em)
{
	size_t i;
	for (i = 0; i < e->ntr && strcmp(e->tr[i].name, name) != 0; i++)
		;
	if (i == e->ntr)
		return lb_errf(em, LB_EINVALID, "unknown trigger ('%s')", name);
	sync(e);
	e->round_start = e->n; /* a fresh evaluator: it holds every object */
	int rc = LB_OK;
	for (size_t j = 0; rc == LB_OK && j < e->tr[i].n; j++) {
		int o = e->tr[i].paths[j];
		if (e->o[o].state != KN_DORMANT)
			continue;
		const struct kn_task *k = e->m->tasks[e->o[o].task];
		if (k->pre != NULL && strchr(e->o[o].path, '[') != NULL) {
			/* PROformajs evaluates the precondition from the runtime path, which it
			 * cannot resolve inside a repetition: the trigger fails */
			drop_deltas(e);
			return lb_errf(em, LB_EINVALID, "Unable to getComponent '%s'", e->o[o].path);
		}
		e->caller = o;
		e->s->pf_caller_part = false;
		bool pre = k->pre == NULL || truth(e, k->pre);
		if (e->fail) {
			e->fail = false;
			drop_deltas(e);
			return lb_errf(em, LB_EINVALID, "%s: precondition names an unknown task",
				       e->o[o].path);
		}
		rc = push(e, o, A_STATE, pre ? KN_IN_PROGRESS : KN_DISCARDED);
	}
	if (rc != LB_OK || e->nd == 0)
		return rc;
	return cycle(e, ENACT_STACK_LIMIT, em);
}

/* ---- snapshot ------------------------------------------------------------------------------- */

static int num_json(struct lb_buf *b, bool has, double x)
{
	if (!has)
		return lb_buf_adds(b, "null");
	if (isnan(x))
		return lb_buf_adds(b, "\"nan\"");
	if (isinf(x))
		return lb_buf_adds(b, x > 0 ? "\"inf\"" : "\"-inf\"");
	if (x == floor(x) && fabs(x) < 9e15) { /* "%lld", written by hand (the exploration's keys) */
		char d[24], *p = d + sizeof(d);
		long long v = (long long)x;
		unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10) != 0);
		if (v < 0)
			*--p = '-';
		return lb_buf_add(b, p, (size_t)(d + sizeof(d) - p));
	}
	return lb_buf_addf(b, "%.17g", x);
}

static int str_json(struct lb_buf *b, const char *s)
{
	struct kn_value v = { .t = KN_V_TEXT, .u.s = s };
	return kn_value_to_json(b, &v);
}

static const char *const tstate[] = { "dormant", "in_progress", "completed", "discarded" };

/* For the first item of a name (NULL for the others, and when nothing is stored for the
 * name): the last version under the last path holding versions of that name; *nv (when not
 * NULL) gets the versions of the name under every path. */
static const struct kn_value *name_last(const struct kn_enact *e, int d, size_t *nv)
{
	const struct dslot *best = NULL;
	size_t total = 0;
	if (e->group[d] != d)
		return NULL;
	for (size_t i = 0; i < e->nslots; i++) {
		const struct dslot *sl = &e->slots[i];
		if (e->group[sl->data] != d || sl->n == 0)
			continue;
		total += sl->n;
		if (best == NULL || sl->path > best->path)
			best = sl;
	}
	if (nv != NULL)
		*nv = total;
	return best != NULL ? &best->h[best->n - 1] : NULL;
}

/* The paths, comma-separated, of the objects of kind `kind` whose int8_t flag at `flag` (an
 * offsetof in struct obj) is 1; a task counts only while in progress (completeable). */
static int flagged_paths(const struct kn_enact *e, struct lb_buf *b, int kind, size_t flag)
{
	int rc = LB_OK, n = 0;
	for (size_t i = 0; rc == LB_OK && i < e->n; i++) {
		const struct obj *o = &e->o[i];
		if ((int)o->kind != kind || *((const int8_t *)o + flag) != 1 ||
		    (kind == O_TASK && o->state != KN_IN_PROGRESS))
			continue;
		rc = n++ ? lb_buf_addc(b, ',') : LB_OK;
		rc = rc ? rc : str_json(b, o->path);
	}
	return rc;
}

int kn_enact_snapshot(struct kn_enact *e, struct lb_buf *b)
{
	int rc, n;
	int root = -1;
	for (size_t i = 0; i < e->n; i++) /* the last top-level task object (cyclic root) */
		if (e->o[i].kind == O_TASK && e->o[i].parent < 0)
			root = (int)i;
	bool finished = root >= 0 && fin(e->o[root].state);
	rc = lb_buf_adds(b, finished ? "\"finished\":true,\"tasks\":{"
				     : "\"finished\":false,\"tasks\":{");
	n = 0;
	for (size_t i = 0; rc == LB_OK && i < e->n; i++) {
		if (e->o[i].kind != O_TASK || e->o[i].state == ST_UNSET)
			continue;
		rc = n++ ? lb_buf_addc(b, ',') : LB_OK;
		rc = rc ? rc : str_json(b, e->o[i].path);
		rc = rc ? rc : lb_buf_adds(b, ":\"");
		rc = rc ? rc : lb_buf_adds(b, tstate[e->o[i].state]);
		rc = rc ? rc : lb_buf_addc(b, '"');
	}
	rc = rc ? rc : lb_buf_adds(b, "},\"completeable\":[");
	rc = rc ? rc : flagged_paths(e, b, O_TASK, offsetof(struct obj, completeable));
	rc = rc ? rc : lb_buf_adds(b, "],\"requested\":[");
	rc = rc ? rc : flagged_paths(e, b, O_SOURCE, offsetof(struct obj, requested));
	rc = rc ? rc : lb_buf_adds(b, "],\"candidates\":{");
	n = 0;
	for (size_t i = 0; rc == LB_OK && i < e->n; i++) {
		const struct obj *o = &e->o[i];
		if (o->kind != O_CAND)
			continue;
		rc = n++ ? lb_buf_addc(b, ',') : LB_OK;
		rc = rc ? rc : str_json(b, o->path);
		rc = rc ? rc : lb_buf_adds(b, ":[");
		rc = rc ? rc : num_json(b, o->has_support, o->support);
		rc = rc ? rc : lb_buf_adds(b, o->recommended == 1 ? ",true," : ",false,");
		rc = rc ? rc : lb_buf_adds(b, o->confirmed ? "true]" : "false]");
	}
	rc = rc ? rc : lb_buf_adds(b, "},\"data\":{");
	/* by name (the test's view of PROformajs's _data): the last version under the last path
	 * holding any for that name, and the versions under every path summed */
	n = 0;
	for (size_t i = 0; rc == LB_OK && i < e->m->ndata; i++) {
		const struct kn_value *v = name_last(e, (int)i, NULL);
		if (v == NULL || kn_js_fn_stored(v)) /* a function: JSON drops it */
			continue;
		rc = n++ ? lb_buf_addc(b, ',') : LB_OK;
		rc = rc ? rc : str_json(b, e->m->data[i].name);
		rc = rc ? rc : lb_buf_addc(b, ':');
		char iso[32];
		if (rc == LB_OK && v->t == KN_V_REAL)
			rc = num_json(b, true, v->u.r);
		else if (rc == LB_OK && v->t == KN_V_DATE) { /* toISOString() */
			kn_date_ms_iso(v->u.i, iso);
			rc = str_json(b, iso);
		} else if (rc == LB_OK)
			rc = kn_value_to_json(b, v);
	}
	rc = rc ? rc : lb_buf_adds(b, "},\"versions\":{");
	n = 0;
	for (size_t i = 0; rc == LB_OK && i < e->m->ndata; i++) {
		size_t nv = 0;
		if (name_last(e, (int)i, &nv) == NULL)
			continue;
		rc = n++ ? lb_buf_addc(b, ',') : LB_OK;
		rc = rc ? rc : str_json(b, e->m->data[i].name);
		rc = rc ? rc : lb_buf_addf(b, ":%zu", nv);
	}
	rc = rc ? rc : lb_buf_adds(b, "},\"warnings\":[");
	rc = rc ? rc : flagged_paths(e, b, O_WARNING, offsetof(struct obj, active));
	rc = rc ? rc : lb_buf_adds(b, "],\"triggers\":[");
	/* available triggers: a dormant task with a trigger whose parent is in progress */
	n = 0;
	const char *seen[64];
	for (size_t i = 0; rc == LB_OK && i < e->n; i++) {
		const struct obj *o = &e->o[i];
		if (o->kind != O_TASK || o->state == ST_UNSET)
			continue;
		const char *t = e->m->tasks[o->task]->trigger;
		/* a root's parent path is null, and `_state[null]` is a root named "null" itself
		 * (dormant here: no offer) */
		if (t == NULL || o->state != KN_DORMANT ||
		    (o->parent >= 0 && e->o[o->parent].state != KN_IN_PROGRESS) ||
		    (o->parent < 0 && strcmp(o->path, "null") == 0))
			continue;
		bool dup = false;
		for (int j = 0; j < n && j < 64; j++)
			dup |= strcmp(seen[j], t) == 0;
		if (dup)
			continue;
		if (n < 64)
			seen[n] = t;
		rc = n++ ? lb_buf_addc(b, ',') : LB_OK;
		rc = rc ? rc : str_json(b, t);
	}
	rc = rc ? rc : lb_buf_addc(b, ']');
	/* dynamic captions and descriptions as rendered (only when the protocol has some) */
	n = 0;
	for (size_t i = 0; rc == LB_OK && i < e->n; i++) {
		const struct obj *o = &e->o[i];
		if (o->dyn[0] == NULL && o->dyn[1] == NULL)
			continue;
		rc = lb_buf_adds(b, n++ ? "," : ",\"captions\":{");
		rc = rc ? rc : str_json(b, o->path);
		for (int a = 0; rc == LB_OK && a < 2; a++) {
			rc = lb_buf_adds(b, a ? "," : ":[");
			rc = rc ? rc : o->dyn[a] ? str_json(b, o->dyn[a]) : lb_buf_adds(b, "null");
		}
		rc = rc ? rc : lb_buf_addc(b, ']');
	}
	return rc || n == 0 ? rc : lb_buf_addc(b, '}');
}

/* ---- exploration under the PROformajs rules ------------------------------------------------- */

/* One user operation, by indexes that are stable across replays (construction is
 * deterministic): set data item a to domain value b, complete task object a, confirm /
 * unconfirm candidate object a, send trigger a. */
enum { X_SET, X_COMPLETE, X_CONFIRM, X_UNCONFIRM, X_TRIGGER };
struct xop {
	uint8_t kind;
	int32_t a, b;
};

struct xnode {
	int32_t parent; /* node index, -1 for the start */
	struct xop op;  /* the operation leading here */
	uint32_t depth;
};

#define X_DOMAIN 6
#define X_LIVE 4096 /* states kept (copied) for their expansion; the others are replayed */

/* The exploration as it was before states were copied: every state replayed from the start
 * (make bench-knowledge measures the two side by side; the results are the same). */
bool kn_explore_replay;

/* The abstract domain of item d: its first distinct allowed values, else a few of its type. */
static size_t domain(const struct kn_datadef *d, struct kn_value out[X_DOMAIN])
{
	size_t n = 0;
	if (d->multi) {
		static struct kn_value none[1];
		out[n].t = KN_V_SET;
		out[n].u.set.v = none;
		out[n++].u.set.n = 0;
		if (d->nallowed > 0) {
			out[n].t = KN_V_SET;
			out[n].u.set.v = d->allowed;
			out[n++].u.set.n = 1;
			out[n].t = KN_V_SET;
			out[n].u.set.v = d->allowed;
			out[n++].u.set.n = d->nallowed;
		}
		return n;
	}
	if (d->type == KN_T_BOOLEAN) {
		out[0].t = out[1].t = KN_V_BOOL;
		out[0].u.b = true;
		out[1].u.b = false;
		return 2;
	}
	for (size_t i = 0; i < d->nallowed && n < X_DOMAIN; i++) {
		bool seen = false; /* a range may list a value twice (plain and as an object) */
		for (size_t k = 0; k < n && !seen; k++)
			seen = kn_value_equal(&out[k], &d->allowed[i]);
		if (!seen)
			out[n++] = d->allowed[i];
	}
	if (n > 0)
		return n;
	if (d->type == KN_T_INTEGER || d->type == KN_T_REAL) {
		static const int64_t iv[] = { 0, 2, 5 };
		for (size_t i = 0; i < 3; i++) {
			out[n].t = d->type == KN_T_INTEGER ? KN_V_INT : KN_V_REAL;
			if (d->type == KN_T_INTEGER)
				out[n++].u.i = iv[i];
			else
				out[n++].u.r = (double)iv[i] + 0.5;
		}
	} else if (d->type == KN_T_TEXT || d->type == KN_T_ANY) {
		out[n].t = KN_V_TEXT;
		out[n++].u.s = "x";
	}
	if (d->type == KN_T_ANY) { /* (any value: a number and a boolean too) */
		out[n].t = KN_V_INT;
		out[n++].u.i = 2;
		out[n].t = KN_V_BOOL;
		out[n++].u.b = true;
	}
	return n;
}

static int x_apply(struct kn_enact *e, const struct xop *op, struct lb_errmsg *em)
{
	switch (op->kind) {
	case X_SET: {
		struct kn_value dom[X_DOMAIN];
		domain(&e->m->data[op->a], dom);
		const struct kn_value *v = &dom[op->b];
		int rc = store_def(e, op->a, v);
		return rc ? rc : cycle(e, ENACT_STACK_LIMIT, em);
	}
	case X_COMPLETE:
		return finish_op(e, e->o[op->a].path, KN_COMPLETED, em);
	case X_CONFIRM:
	case X_UNCONFIRM:
		return kn_enact_confirm(e, e->o[op->a].path, op->kind == X_CONFIRM, em);
	default:
		return kn_enact_trigger(e, e->tr[op->a].name, em);
	}
}

/* Replay the operations leading to node i on a fresh enactment. */
static int x_replay(const struct lb_kn_model *m, const struct xnode *nodes, int32_t i,
		    const struct xop *extra, struct kn_enact **out, struct lb_errmsg *em)
{
	struct xop path[256];
	size_t n = 0;
	for (int32_t j = i; j > 0 && n < 256; j = nodes[j].parent)
		path[n++] = nodes[j].op;
	int rc = kn_enact_new(m, out, em);
	if (rc == LB_OK) /* one instant for every state: the same findings on every run */
		kn_enact_set_clock(*out, KN_EXPLORE_CLOCK_MS);
	rc = rc ? rc : kn_enact_start(*out, em);
	for (size_t k = n; rc == LB_OK && k-- > 0;)
		(void)x_apply(*out, &path[k], em); /* refused operations change what they change */
	if (rc == LB_OK && extra != NULL)
		(void)x_apply(*out, extra, em);
	return rc;
}

/* The state as the exploration distinguishes it: the snapshot without version counts. */
static int x_key(struct kn_enact *e, struct lb_buf *b)
{
	lb_buf_reset(b);
	int rc = kn_enact_snapshot(e, b);
	if (rc != LB_OK)
		return rc;
	char *v = strstr((char *)b->data, ",\"versions\":{");
	char *w = v ? strchr(v + 13, '}') : NULL;
	if (v && w) {
		memmove(v, w + 1, strlen(w + 1) + 1);
		b->len = strlen((char *)b->data);
	}
	/* values the by-name data hides (a name stored under several paths): inside the data
	 * object, so that x_strip_data drops them with it */
	char *end = strstr((char *)b->data, "},\"warnings\"");
	struct lb_buf x;
	lb_buf_init(&x, 64u << 20);
	rc = data_key(e, &x);
	if (rc == LB_OK && end != NULL && x.len > 0) {
		size_t at = (size_t)(end - (char *)b->data);
		char *rest = lb_strdup(end);
		if (rest == NULL) {
			rc = LB_ENOMEM;
		} else {
			b->len = at;
			rc = lb_buf_adds(b, ",\"\":[");
			rc = rc ? rc : lb_buf_add(b, x.data, x.len);
			rc = rc ? rc : lb_buf_addc(b, ']');
			rc = rc ? rc : lb_buf_adds(b, rest);
			lb_free(rest);
		}
	}
	lb_buf_release(&x);
	return rc;
}

/* The key without data values: what a deadlock is judged on (setting an item always changes
 * the data; a deadlock is a state no operation moves otherwise). */
static void x_strip_data(struct lb_buf *b)
{
	char *v = strstr((char *)b->data, ",\"data\":{");
	char *w = v ? strstr(v, "},\"warnings\"") : NULL;
	if (v && w) {
		memmove(v, w + 1, strlen(w + 1) + 1);
		b->len = strlen((char *)b->data);
	}
}

/* Operations available in e's state. */
static size_t x_ops(struct kn_enact *e, const uint8_t *keep, struct xop *ops, size_t cap)
{
	size_t n = 0;
	if (e->n == 0) /* (a top-level data definition: nothing to operate on) */
		return 0;
	for (size_t d = 0; d < e->m->ndata; d++) {
		const struct kn_datadef *dd = &e->m->data[d];
		/* (an item whose task sees an outer definition of its name is never set: a set
		 * from there stores the outer one) */
		if (dd->derive != NULL || kn_model_find_data_from(e->m, dd->name, dd->owner_idx) != (int)d)
			continue;
		struct kn_value dom[X_DOMAIN];
		size_t nd = domain(&e->m->data[d], dom);
		for (size_t i = 0; i < nd && n < cap; i++)
			if ((keep == NULL || (keep[d] >> i & 1)) &&
			    !kn_value_equal(def_value(e, (int)d, NULL), &dom[i]))
				ops[n++] = (struct xop){ X_SET, (int32_t)d, (int32_t)i };
	}
	for (size_t i = 0; i < e->n && n < cap; i++) {
		const struct obj *o = &e->o[i];
		if (o->kind == O_TASK && o->state == KN_IN_PROGRESS && completeable(e, (int)i))
			ops[n++] = (struct xop){ X_COMPLETE, (int32_t)i, 0 };
		if (o->kind == O_CAND && e->o[o->parent].state == KN_IN_PROGRESS)
			ops[n++] = (struct xop){ (uint8_t)(o->confirmed ? X_UNCONFIRM : X_CONFIRM),
						 (int32_t)i, 0 };
	}
	for (size_t t = 0; t < e->ntr && n < cap; t++)
		for (size_t j = 0; j < e->tr[t].n; j++) {
			const struct obj *o = &e->o[e->tr[t].paths[j]];
			if (o->state == KN_DORMANT &&
			    (o->parent < 0 || e->o[o->parent].state == KN_IN_PROGRESS)) {
				ops[n++] = (struct xop){ X_TRIGGER, (int32_t)t, 0 };
				break;
			}
		}
	return n;
}

static int x_op_json(struct kn_enact *e, const struct xop *op, struct lb_buf *b)
{
	switch (op->kind) {
	case X_SET: {
		struct kn_value dom[X_DOMAIN];
		domain(&e->m->data[op->a], dom);
		/* set from the task defining the item (the top-level task's first object for
		 * its own items), where the name finds it */
		int own = e->m->data[op->a].owner_idx, at = own > 0 ? latest(e, own) : 0;
		int rc = lb_buf_adds(b, "{\"op\":\"set\",\"path\":");
		rc = rc ? rc : str_json(b, e->o[at >= 0 ? at : 0].path);
		rc = rc ? rc : lb_buf_adds(b, ",\"data\":{");
		rc = rc ? rc : str_json(b, e->m->data[op->a].name);
		rc = rc ? rc : lb_buf_addc(b, ':');
		if (rc == LB_OK && dom[op->b].t == KN_V_REAL)
			rc = num_json(b, true, dom[op->b].u.r);
		else if (rc == LB_OK)
			rc = kn_value_to_json(b, &dom[op->b]);
		return rc ? rc : lb_buf_adds(b, "}}");
	}
	case X_TRIGGER: {
		int rc = lb_buf_adds(b, "{\"op\":\"trigger\",\"name\":");
		rc = rc ? rc : str_json(b, e->tr[op->a].name);
		return rc ? rc : lb_buf_addc(b, '}');
	}
	default: {
		static const char *const k[] = { "set", "complete", "confirm", "unconfirm" };
		int rc = lb_buf_addf(b, "{\"op\":\"%s\",\"path\":", k[op->kind]);
		rc = rc ? rc : str_json(b, e->o[op->a].path);
		return rc ? rc : lb_buf_addc(b, '}');
	}
	}
}

/* A walk of `steps` operations chosen by a seeded generator among those the exploration
 * offers, each applied to a copy of the previous state (as the exploration branches), checked
 * against the same operations replayed from the start: the full snapshots (task states,
 * candidates, data and versions, warnings, triggers) must be equal after every step, and
 * the next operations offered too. LB_OK when they are; LB_EINTERNAL naming the step
 * otherwise (test_kn_enact runs it over the example contracts). */
int kn_enact_clone_walk(const struct lb_kn_model *m, unsigned steps, uint64_t seed,
			struct lb_errmsg *em)
{
	struct xnode *nodes = lb_calloc(steps + 1, sizeof(*nodes));
	struct xop ops[512];
	struct lb_buf a, b;
	lb_buf_init(&a, 64u << 20);
	lb_buf_init(&b, 64u << 20);
	struct kn_enact *e = NULL, *r = NULL;
	int rc = nodes && steps < 256 ? x_replay(m, nodes, 0, NULL, &e, em) : LB_ENOMEM;
	for (unsigned i = 1; rc == LB_OK && i <= steps; i++) {
		size_t n = x_ops(e, NULL, ops, 512);
		if (n == 0)
			break;
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		nodes[i] = (struct xnode){ (int32_t)i - 1, ops[(seed >> 33) % n], i };
		struct kn_enact *c = NULL;
		struct lb_errmsg em2 = { 0 };
		if ((rc = kn_enact_clone(e, &c)) != LB_OK)
			break;
		kn_enact_free(e);
		e = c;
		(void)x_apply(e, &nodes[i].op, &em2);
		if ((rc = x_replay(m, nodes, (int32_t)i, NULL, &r, em)) != LB_OK)
			break;
		lb_buf_reset(&a);
		lb_buf_reset(&b);
		rc = kn_enact_snapshot(e, &a);
		rc = rc ? rc : kn_enact_snapshot(r, &b);
		struct xop ops2[512];
		size_t n1 = x_ops(e, NULL, ops, 512), n2 = x_ops(r, NULL, ops2, 512);
		bool same = n1 == n2;
		for (size_t k = 0; same && k < n1; k++)
			same = ops[k].kind == ops2[k].kind && ops[k].a == ops2[k].a &&
			       ops[k].b == ops2[k].b;
		if (rc == LB_OK && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0 || !same))
			rc = lb_errf(em, LB_EINTERNAL,
				     "step %u: the copied state differs from the replayed one: %s / %s",
				     i, a.data ? (const char *)a.data : "",
				     b.data ? (const char *)b.data : "");
		kn_enact_free(r);
		r = NULL;
	}
	kn_enact_free(e);
	lb_free(nodes);
	lb_buf_release(&a);
	lb_buf_release(&b);
	return rc;
}

/* ---- answer values by the atoms that read them (exploration version 2) ----
 * Two values of an item behave alike when every expression of the model reads the item only
 * in comparisons with a constant (`sbp >= 180`, `'yes' == smoker`) and each such comparison
 * gives the same result for both, and the item accepts both or neither: every condition,
 * support, default and derived value is then the same after either answer, so the states
 * they lead to differ only in that item's value and have the same futures. The exploration
 * answers with the first value of each such class. Anything else reading the item (a
 * function, arithmetic, a bare use, a text naming it) keeps all its values, and a model with
 * a `${...}` text keeps every value of every item. */
struct xred {
	const char *name;
	const char *alias; /* "value" in the item's own warnings and checks (.pf), else NULL */
	size_t item;
	struct kn_value dom[X_DOMAIN];
	size_t n;
	uint64_t sig[X_DOMAIN]; /* per value: the results of the atoms met so far */
	unsigned atoms;
	bool ok;
};

static bool x_cmp_op(int op)
{
	return op == KN_E_LT || op == KN_E_LE || op == KN_E_GT || op == KN_E_GE ||
	       op == KN_E_EQ || op == KN_E_NE || op == KN_E_SEQ || op == KN_E_SNE;
}

static bool x_num(const struct kn_value *v, double *x)
{
	if (v->t == KN_V_INT)
		*x = (double)v->u.i;
	else if (v->t == KN_V_REAL)
		*x = v->u.r;
	else
		return false;
	return true;
}

/* The comparison `item op c` (item on the left; `flip` when written `c op item`) for each
 * value of r's domain, added to the signatures; false when it cannot be judged here. */
static bool x_atom(struct xred *r, int op, const struct kn_value *c, bool flip)
{
	if (r->atoms >= 64)
		return false;
	for (size_t k = 0; k < r->n; k++) {
		double a, b;
		int cmp;
		if (x_num(&r->dom[k], &a) && x_num(c, &b)) {
			if (isnan(a) || isnan(b))
				return false;
			cmp = a < b ? -1 : a > b;
		} else if (r->dom[k].t == KN_V_TEXT && c->t == KN_V_TEXT &&
			   (op == KN_E_EQ || op == KN_E_NE || op == KN_E_SEQ || op == KN_E_SNE)) {
			cmp = strcmp(r->dom[k].u.s, c->u.s) != 0;
		} else {
			return false;
		}
		if (flip)
			cmp = -cmp;
		bool t = op == KN_E_LT ? cmp < 0 : op == KN_E_LE ? cmp <= 0 : op == KN_E_GT ? cmp > 0
			 : op == KN_E_GE ? cmp >= 0 : op == KN_E_EQ || op == KN_E_SEQ ? cmp == 0
										 : cmp != 0;
		r->sig[k] |= (uint64_t)t << r->atoms;
	}
	r->atoms++;
	return true;
}

static void x_scan(struct xred *r, const struct kn_expr *x, const struct kn_expr *parent)
{
	if (x == NULL || !r->ok)
		return;
	if (x->op == KN_E_NAME && x->name != NULL &&
	    (strcmp(x->name, r->name) == 0 || (r->alias && strcmp(x->name, r->alias) == 0))) {
		const struct kn_expr *o = NULL;
		if (parent != NULL && x_cmp_op(parent->op) && parent->nargs == 2)
			o = parent->args[0] == x ? parent->args[1] : parent->args[0];
		r->ok = o != NULL && o->op == KN_E_CONST &&
			x_atom(r, parent->op, &o->v, parent->args[1] == x);
		return;
	}
	if (x->op == KN_E_CONST && x->v.t == KN_V_TEXT && x->v.u.s != NULL &&
	    strstr(x->v.u.s, r->name) != NULL) {
		r->ok = false; /* a text naming the item (a function may read it by name) */
		return;
	}
	for (size_t i = 0; i < x->nargs; i++)
		x_scan(r, x->args[i], x);
}

static bool x_dynamic(const char *t)
{
	return t != NULL && strstr(t, "${") != NULL;
}

/* Every expression and shown text of m to r (texts: whether one is dynamic). */
static bool x_scan_model(const struct lb_kn_model *m, struct xred *r)
{
	bool dyn = false;
	for (size_t i = 0; i < m->ntasks; i++) {
		const struct kn_task *t = m->tasks[i];
		const struct kn_expr *xs[] = { t->pre, t->wait, t->terminate, t->abort,
					       t->cycle_until };
		for (size_t k = 0; k < sizeof(xs) / sizeof(xs[0]); k++)
			x_scan(r, xs[k], NULL);
		dyn = dyn || x_dynamic(t->caption) || x_dynamic(t->description);
		for (size_t k = 0; k < t->npost; k++)
			x_scan(r, t->post[k].e, NULL);
		for (size_t c = 0; c < t->ncands; c++) {
			const struct kn_candidate *cd = &t->cands[c];
			dyn = dyn || x_dynamic(cd->caption) || x_dynamic(cd->description);
			for (size_t a = 0; a < cd->nargs; a++) {
				x_scan(r, cd->args[a].cond, NULL);
				dyn = dyn || x_dynamic(cd->args[a].caption) ||
				      x_dynamic(cd->args[a].description);
			}
			x_scan(r, cd->recommend, NULL);
		}
		for (size_t k = 0; k < t->nsources; k++)
			x_scan(r, t->sources[k].request, NULL);
	}
	for (size_t i = 0; i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		r->alias = i == r->item ? "value" : NULL;
		x_scan(r, d->derive, NULL);
		x_scan(r, d->defcond, NULL);
		x_scan(r, d->valid, NULL);
		dyn = dyn || x_dynamic(d->caption) || x_dynamic(d->description);
		for (size_t w = 0; w < d->nwarnings; w++) {
			x_scan(r, d->warnings[w].cond, NULL);
			dyn = dyn || x_dynamic(d->warnings[w].caption) ||
			      x_dynamic(d->warnings[w].description);
		}
		r->alias = NULL;
	}
	return dyn;
}

/* keep[d]: the domain values of item d the exploration answers with (bit i: value i). */
static void x_reduce(const struct lb_kn_model *m, uint8_t *keep)
{
	struct xred r0 = { .name = "", .item = m->ndata };
	for (size_t d = 0; d < m->ndata; d++)
		keep[d] = (uint8_t)((1u << domain(&m->data[d], r0.dom)) - 1);
	if (x_scan_model(m, &r0))
		return; /* a dynamic text may show any value: keep them all */
	for (size_t d = 0; d < m->ndata; d++) {
		struct xred r = { .name = m->data[d].name, .item = d, .ok = true };
		r.n = domain(&m->data[d], r.dom);
		if (m->data[d].multi || m->data[d].derive != NULL || r.n < 2)
			continue;
		(void)x_scan_model(m, &r);
		if (!r.ok)
			continue;
		for (size_t k = 0; k < r.n; k++) {
			bool acc = accept_value(&m->data[d], &r.dom[k]);
			for (size_t j = 0; j < k; j++)
				if ((keep[d] >> j & 1) && r.sig[j] == r.sig[k] &&
				    accept_value(&m->data[d], &r.dom[j]) == acc) {
					keep[d] &= (uint8_t)~(1u << k);
					break;
				}
		}
	}
}

/* The explored states' keys, found by hash (open addressing over indices into keys[]). */
struct xindex {
	int32_t *slot; /* -1: empty */
	size_t mask;
};

static uint64_t x_hash(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211u;
	return h;
}

/* The index of key s in keys[] or, when absent, the slot where it goes (*slot). */
static int32_t x_find(const struct xindex *x, char *const *keys, const char *s, size_t *slot)
{
	size_t i = (size_t)x_hash(s) & x->mask;
	while (x->slot[i] >= 0 && strcmp(keys[x->slot[i]], s) != 0)
		i = (i + 1) & x->mask;
	*slot = i;
	return x->slot[i];
}

/* Breadth-first exploration of model m under the PROformajs rules, up to max_states distinct
 * states and max_depth operations: deadlocks (the root unfinished and no operation changes
 * the state) with the operations leading there, in the differential test's operation format,
 * and tasks never in progress (when the exploration was complete). Appends a JSON object. */
int kn_enact_explore(const struct lb_kn_model *m, size_t max_states, unsigned max_depth,
		     bool reduce, struct lb_buf *out, struct lb_errmsg *em)
{
	uint8_t *keep = NULL; /* answer values by class (version 2), NULL: every value */
	if (reduce) {
		if ((keep = lb_malloc(m->ndata ? m->ndata : 1)) == NULL)
			return lb_errf(em, LB_ENOMEM, "out of memory");
		x_reduce(m, keep);
	}
	struct xnode *nodes = lb_calloc(max_states + 1, sizeof(*nodes));
	char **keys = lb_calloc(max_states + 1, sizeof(*keys));
	uint8_t *seen = lb_calloc(m->ntasks ? m->ntasks : 1, 1);
	struct xop *ops = lb_calloc(512, sizeof(*ops));
	uint8_t *esc = lb_calloc(max_states + 1, 1);   /* an operation changes more than data */
	uint8_t *fini = lb_calloc(max_states + 1, 1);  /* the root is finished */
	int32_t (*edge)[2] = NULL;                     /* data-only moves i -> j */
	size_t nedge = 0, capedge = 0;
	struct lb_buf key, key2, fnd;
	lb_buf_init(&key, 64u << 20);
	lb_buf_init(&key2, 64u << 20);
	lb_buf_init(&fnd, 64u << 20);
	size_t nn = 0, ndead = 0, sl;
	bool complete = true;
	struct xindex xi = { NULL, 1 };
	while (xi.mask < 2 * (max_states + 1))
		xi.mask <<= 1;
	xi.slot = lb_malloc(xi.mask * sizeof(*xi.slot));
	if (xi.slot != NULL)
		memset(xi.slot, 0xff, xi.mask * sizeof(*xi.slot));
	xi.mask--;
	int rc = nodes && keys && seen && ops && esc && fini && xi.slot ? LB_OK : LB_ENOMEM;
	struct kn_enact **live = lb_calloc(max_states + 1, sizeof(*live)); /* waiting states */
	size_t nlive = 0;
	rc = rc == LB_OK && live == NULL ? LB_ENOMEM : rc;
	struct kn_enact *e = NULL;
	if (rc == LB_OK)
		rc = x_replay(m, nodes, 0, NULL, &e, em);
	if (rc == LB_OK && (rc = x_key(e, &key)) == LB_OK) {
		nodes[0] = (struct xnode){ -1, { 0, 0, 0 }, 0 };
		keys[0] = lb_strdup((const char *)key.data);
		rc = keys[0] ? LB_OK : LB_ENOMEM;
		if (rc == LB_OK) {
			x_find(&xi, keys, keys[0], &sl);
			xi.slot[sl] = 0;
		}
		nn = 1;
	}
	if (rc == LB_OK)
		live[0] = e; /* the start state, expanded first */
	else
		kn_enact_free(e);
	e = NULL;
	for (size_t i = 0; rc == LB_OK && i < nn; i++) {
		if (live[i] != NULL) {
			e = live[i];
			live[i] = NULL;
			nlive--;
		} else if ((rc = x_replay(m, nodes, (int32_t)i, NULL, &e, em)) != LB_OK) {
			break;
		}
		for (size_t o = 0; o < e->n; o++)
			if (e->o[o].kind == O_TASK && (e->o[o].state == KN_IN_PROGRESS ||
							e->o[o].state == KN_COMPLETED))
				seen[e->o[o].task] = 1; /* completed: it was in progress within a step */
		bool finished = false;
		for (size_t o = 0; o < e->n; o++)
			if (e->o[o].kind == O_TASK && e->o[o].parent < 0)
				finished = fin(e->o[o].state);
		size_t nops = x_ops(e, keep, ops, 512);
		bool moves = false;
		char *bare = NULL;
		{
			struct lb_buf t;
			lb_buf_init(&t, 64u << 20);
			rc = lb_buf_adds(&t, keys[i]);
			if (rc == LB_OK) {
				x_strip_data(&t);
				bare = lb_strdup((const char *)t.data);
			}
			lb_buf_release(&t);
			if (rc == LB_OK && bare == NULL)
				rc = LB_ENOMEM;
		}
		for (size_t k = 0; rc == LB_OK && k < nops; k++) {
			/* the state after ops[k]: a copy of e's, then the operation (the same state as
			 * replaying the path and the operation from the start) */
			struct kn_enact *f = NULL;
			struct lb_errmsg em2 = { 0 };
			if (kn_explore_replay)
				rc = x_replay(m, nodes, (int32_t)i, &ops[k], &f, &em2);
			else if ((rc = kn_enact_clone(e, &f)) == LB_OK)
				(void)x_apply(f, &ops[k], &em2); /* a refused one changes what it does */
			if (rc != LB_OK)
				break;
			if ((rc = x_key(f, &key2)) != LB_OK) {
				kn_enact_free(f);
				break;
			}
			if (strcmp((const char *)key2.data, keys[i]) == 0) {
				kn_enact_free(f);
				continue;
			}
			bool data_only = false;
			{
				struct lb_buf t;
				lb_buf_init(&t, 64u << 20);
				if (lb_buf_adds(&t, (const char *)key2.data) == LB_OK) {
					x_strip_data(&t);
					if (strcmp((const char *)t.data, bare) != 0)
						moves = true;
					else
						data_only = true;
				}
				lb_buf_release(&t);
			}
			int32_t fj = x_find(&xi, keys, (const char *)key2.data, &sl);
			size_t j = fj >= 0 ? (size_t)fj : nn;
			if (data_only && (j < nn || (nn < max_states && nodes[i].depth < max_depth))) {
				if (nedge == capedge) {
					size_t nc = capedge ? capedge * 2 : 256;
					int32_t(*ne)[2] = lb_realloc(edge, nc * sizeof(*ne));
					if (ne == NULL) {
						rc = LB_ENOMEM;
						kn_enact_free(f);
						break;
					}
					edge = ne;
					capedge = nc;
				}
				edge[nedge][0] = (int32_t)i;
				edge[nedge++][1] = (int32_t)j; /* j == nn: the node added below */
			}
			if (j < nn || nn >= max_states || nodes[i].depth >= max_depth) {
				complete = complete && j < nn;
				kn_enact_free(f);
				continue;
			}
			nodes[nn] = (struct xnode){ (int32_t)i, ops[k], nodes[i].depth + 1 };
			keys[nn] = lb_strdup((const char *)key2.data);
			rc = keys[nn] ? LB_OK : LB_ENOMEM;
			if (rc == LB_OK)
				xi.slot[sl] = (int32_t)nn;
			/* kept for its own expansion while the window of waiting states is small
			 * enough; beyond it the state is replayed from the start when expanded */
			if (nlive < X_LIVE && !kn_explore_replay) {
				live[nn] = f;
				nlive++;
			} else {
				kn_enact_free(f);
			}
			nn++;
		}
		esc[i] = moves;
		fini[i] = finished;
		lb_free(bare);
		kn_enact_free(e);
		e = NULL;
	}
	/* deadlocks: unfinished states from which setting data, however often, never leads to a
	 * state where an operation does more (judged only on a complete exploration) */
	uint8_t *out_ok = complete && rc == LB_OK ? lb_calloc(nn + 1, 1) : NULL;
	if (out_ok != NULL) {
		for (size_t i = 0; i < nn; i++)
			out_ok[i] = esc[i] || fini[i];
		for (bool ch = true; ch;) {
			ch = false;
			for (size_t k = 0; k < nedge; k++)
				if (!out_ok[edge[k][0]] && out_ok[edge[k][1]]) {
					out_ok[edge[k][0]] = 1;
					ch = true;
				}
		}
		for (size_t i = 0; rc == LB_OK && i < nn && ndead < 8; i++) {
			if (out_ok[i])
				continue;
			/* the first state of its data-only class reached (its parent escapes or
			 * differs): report it once */
			if (nodes[i].parent >= 0 && !out_ok[nodes[i].parent])
				continue;
			struct xop path[256];
			size_t n = 0;
			for (int32_t j = (int32_t)i; j > 0 && n < 256; j = nodes[j].parent)
				path[n++] = nodes[j].op;
			if ((rc = x_replay(m, nodes, (int32_t)i, NULL, &e, em)) != LB_OK)
				break;
			rc = lb_buf_adds(&fnd, ndead++ || fnd.len ? ",{\"kind\":\"deadlock\",\"ops\":["
								  : "{\"kind\":\"deadlock\",\"ops\":[");
			for (size_t k = n; rc == LB_OK && k-- > 0;) {
				rc = k + 1 < n ? lb_buf_addc(&fnd, ',') : LB_OK;
				rc = rc ? rc : x_op_json(e, &path[k], &fnd);
			}
			rc = rc ? rc : lb_buf_adds(&fnd, "]}");
			kn_enact_free(e);
			e = NULL;
		}
		lb_free(out_ok);
	}
	/* (a top-level data definition has no task: its placeholder is none) */
	for (size_t t = 0; rc == LB_OK && complete && !m->top_data && t < m->ntasks; t++)
		if (!seen[t]) {
			rc = lb_buf_adds(&fnd, fnd.len ? ",{\"kind\":\"unreachable\",\"task\":"
						       : "{\"kind\":\"unreachable\",\"task\":");
			rc = rc ? rc : str_json(&fnd, m->tasks[t]->name);
			rc = rc ? rc : lb_buf_addc(&fnd, '}');
		}
	if (rc == LB_OK)
		rc = lb_buf_addf(out, "{\"complete\":%s,\"states\":%zu,\"findings\":[%s]}",
				 complete ? "true" : "false", nn,
				 fnd.data ? (const char *)fnd.data : "");
	for (size_t i = 0; live != NULL && i < nn; i++)
		kn_enact_free(live[i]);
	lb_free(live);
	for (size_t i = 0; keys != NULL && i < nn; i++)
		lb_free(keys[i]);
	lb_free(keys);
	lb_free(xi.slot);
	lb_free(nodes);
	lb_free(seen);
	lb_free(ops);
	lb_free(keep);
	lb_free(esc);
	lb_free(fini);
	lb_free(edge);
	lb_buf_release(&key);
	lb_buf_release(&key2);
	lb_buf_release(&fnd);
	return rc == LB_OK ? LB_OK : lb_errf(em, rc, "exploring: %s", lb_strerror(rc));
}
