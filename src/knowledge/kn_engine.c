/*
 * The contract engine: a session holds task states, data values with their history, committed
 * candidates, received triggers and engine time; operations change them and
 * lb_kn_session_run applies the task-state rules of docs/knowledge-language.md ("Engine
 * semantics") until nothing changes. Every change is appended to the trace as one JSON line.
 * Deterministic: tasks are visited in a fixed preorder and nothing depends on the wall clock.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

#define KN_RUN_MAX_PASSES 100000
#define KN_TRACE_MAX (64u << 20)

static const char *const state_names[] = { "dormant", "in_progress", "completed", "discarded" };

/* ---- trace ---------------------------------------------------------------------------------- */

/* Recording is cheap: with no listener, an event is a small fixed record (kn_ev) appended to
 * s->evs; its JSON line is written only when the trace is read (lb_kn_session_trace, save) or
 * a listener appears. A record refers to what cannot change afterwards — model strings, a
 * data item's history entry, candidate picks and texts copied to s->evside — so the line
 * formatted later is byte for byte the line formatted at once. */

#define KN_EV_PENDING_MAX 8192 /* records kept before they are formatted anyway */

/* Events are formatted only when someone keeps or listens to them. */
static bool observed(const struct lb_kn_session *s)
{
	return !s->no_trace || s->on_event != NULL;
}

/* lb_buf_add without a call when the room is there (the common case while formatting). */
static inline int add(struct lb_buf *b, const void *p, size_t n)
{
	if (b->data != NULL && b->len + n <= b->cap) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = 0;
		return LB_OK;
	}
	return lb_buf_add(b, p, n);
}

static inline int addc(struct lb_buf *b, char c)
{
	return add(b, &c, 1);
}

static int put_i64(struct lb_buf *b, int64_t v)
{
	char t[24];
	size_t n = sizeof(t);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		t[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		t[--n] = '-';
	return add(b, t + n, sizeof(t) - n);
}

static int put_lit(struct lb_buf *b, const char *s)
{
	return add(b, s, strlen(s));
}

static int json_str(struct lb_buf *b, const char *k, const char *v)
{
	struct kn_value t = { .t = KN_V_TEXT, .u.s = v };
	int rc = addc(b, '"');
	if (rc == LB_OK)
		rc = put_lit(b, k);
	if (rc == LB_OK)
		rc = add(b, "\":", 2);
	return rc != LB_OK ? rc : kn_value_to_json(b, &t);
}

/* The JSON line of one event (no newline). */
static int ev_format(const struct lb_kn_session *s, const struct kn_ev *e, struct lb_buf *b)
{
	const char *side = (const char *)s->evside.data;
	int rc = lb_buf_reserve(b, 256); /* room for the fixed parts: one check, not many */
	rc = rc ? rc : put_lit(b, "{\"seq\":");
	rc = rc ? rc : put_i64(b, (int64_t)e->seq);
	rc = rc ? rc : put_lit(b, ",\"time\":");
	rc = rc ? rc : put_i64(b, e->time);
	rc = rc ? rc : put_lit(b, ",\"event\":\"");
	rc = rc ? rc : put_lit(b, e->event);
	rc = rc ? rc : addc(b, '"');
	if (rc != LB_OK)
		return rc;
	switch (e->kind) {
	case KN_EV_TASK: {
		const struct kn_task *t = s->m->tasks[e->idx];
		bool action = strcmp(e->event, "action") == 0;
		rc = addc(b, ',');
		rc = rc ? rc : json_str(b, "task", t->name);
		rc = rc ? rc : put_lit(b, ",\"class\":\"");
		rc = rc ? rc : put_lit(b, kn_class_name(t->cls, false));
		rc = rc ? rc : addc(b, '"');
		if (rc == LB_OK && action && t->procedure != NULL) {
			rc = addc(b, ',');
			rc = rc ? rc : json_str(b, "procedure", t->procedure);
		}
		if (rc == LB_OK && action && t->caption != NULL) {
			rc = addc(b, ',');
			rc = rc ? rc : json_str(b, "caption", t->caption);
		}
		if (rc == LB_OK && strcmp(e->event, "cycled") == 0) {
			rc = put_lit(b, ",\"cycles\":");
			rc = rc ? rc : put_i64(b, e->aux);
			rc = rc ? rc : put_lit(b, ",\"wake\":");
			rc = rc ? rc : put_i64(b, e->wake);
		}
		break;
	}
	case KN_EV_DATA:
		rc = addc(b, ',');
		rc = rc ? rc : json_str(b, "data", s->m->data[e->idx].name);
		rc = rc ? rc : put_lit(b, ",\"value\":");
		rc = rc ? rc : kn_value_to_json(b, &s->d[e->idx].h[e->aux].v);
		if (rc == LB_OK && e->by != NULL) {
			rc = addc(b, ',');
			rc = rc ? rc : json_str(b, "by", e->by);
		}
		if (rc == LB_OK && e->text != 0) {
			rc = addc(b, ',');
			rc = rc ? rc : json_str(b, "warning", side + e->text - 1);
		}
		break;
	case KN_EV_COMMIT: {
		const struct kn_task *k = s->m->tasks[e->idx];
		const uint8_t *pick = (const uint8_t *)side + e->aux;
		size_t n = 0;
		rc = addc(b, ',');
		rc = rc ? rc : json_str(b, "task", k->name);
		rc = rc ? rc : put_lit(b, ",\"candidates\":[");
		for (size_t i = 0; rc == LB_OK && i < k->ncands; i++) {
			if (!pick[i])
				continue;
			struct kn_value v = { .t = KN_V_TEXT, .u.s = k->cands[i].name };
			rc = n++ ? addc(b, ',') : LB_OK;
			rc = rc ? rc : kn_value_to_json(b, &v);
		}
		rc = rc ? rc : put_lit(b, (e->flags & KN_EVF_ENGINE) ? "],\"by\":\"engine\"" : "],\"by\":\"user\"");
		rc = rc ? rc : put_lit(b, (e->flags & KN_EVF_OVERRIDE) ? ",\"override\":true" : ",\"override\":false");
		break;
	}
	case KN_EV_TRIGGER:
		rc = addc(b, ',');
		rc = rc ? rc : json_str(b, "trigger", side + e->text - 1);
		break;
	default:
		break;
	}
	return rc ? rc : addc(b, '}');
}

/* Format the pending records; the side buffer is emptied only when reset_side is set (an
 * event being emitted may already have put its texts there). */
static int flush_pending(struct lb_kn_session *s, bool reset_side)
{
	int rc = LB_OK;
	for (size_t i = 0; rc == LB_OK && i < s->nevs; i++) {
		rc = ev_format(s, &s->evs[i], &s->trace);
		rc = rc ? rc : addc(&s->trace, '\n');
	}
	s->nevs = 0;
	if (reset_side)
		lb_buf_reset(&s->evside);
	return rc;
}

int kn_trace_flush(struct lb_kn_session *s)
{
	return flush_pending(s, true);
}

/* Copy text (NUL included) to the side buffer; 1 + its offset. */
static int side_text(struct lb_kn_session *s, const char *text, uint32_t *at)
{
	*at = (uint32_t)s->evside.len + 1;
	return lb_buf_add(&s->evside, text, strlen(text) + 1);
}

/* Record one event: kept as a record when nobody listens, else formatted now. */
static int emit_rec(struct lb_kn_session *s, struct kn_ev *e)
{
	e->seq = s->trace_n;
	e->time = s->now;
	if (s->on_event == NULL) {
		if (s->nevs == s->capevs) {
			size_t nc = s->capevs ? s->capevs * 2 : 64;
			struct kn_ev *ne = lb_realloc(s->evs, nc * sizeof(*ne));
			if (ne == NULL)
				return LB_ENOMEM;
			s->evs = ne;
			s->capevs = nc;
		}
		s->evs[s->nevs++] = *e;
		s->trace_n++;
		return s->nevs >= KN_EV_PENDING_MAX ? kn_trace_flush(s) : LB_OK;
	}
	int rc = flush_pending(s, false); /* earlier records first, in order */
	if (rc != LB_OK)
		return rc;
	lb_buf_reset(&s->line);
	rc = ev_format(s, e, &s->line);
	rc = rc ? rc : lb_buf_addc(&s->line, 0);
	if (rc != LB_OK)
		return rc;
	s->on_event(s->on_event_ctx, (const char *)s->line.data);
	if (!s->no_trace) {
		rc = lb_buf_add(&s->trace, s->line.data, s->line.len - 1);
		rc = rc ? rc : lb_buf_addc(&s->trace, '\n');
	}
	lb_buf_reset(&s->evside);
	s->trace_n++;
	return rc;
}

/* An event without fields ("finished", "time"). */
static int emit(struct lb_kn_session *s, const char *event)
{
	if (!observed(s))
		return LB_OK;
	struct kn_ev e = { .event = event, .kind = KN_EV_PLAIN, .idx = -1 };
	return emit_rec(s, &e);
}

static int emit_task(struct lb_kn_session *s, const char *event, int task)
{
	if (!observed(s))
		return LB_OK;
	struct kn_ev e = { .event = event, .kind = KN_EV_TASK, .idx = task };
	if (strcmp(event, "cycled") == 0) {
		e.aux = s->ts[task].cycles;
		e.wake = s->ts[task].wake;
	}
	return emit_rec(s, &e);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

int lb_kn_session_new(const struct lb_kn_model *m, int64_t today, struct lb_kn_session **out,
		      struct lb_errmsg *em)
{
	if (m->nproblems > 0)
		return lb_errf(em, LB_EINVALID,
			       "contract '%s' has %zu problem%s (first: %s); fix them before running "
			       "it (leben contract check lists them)",
			       m->root->name, m->nproblems, m->nproblems == 1 ? "" : "s",
			       m->problems[0].text);
	struct lb_kn_session *s = lb_calloc(1, sizeof(*s));
	if (s == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	s->m = m;
	s->now = today;
	lb_buf_init(&s->trace, KN_TRACE_MAX);
	lb_buf_init(&s->evside, KN_TRACE_MAX);
	lb_buf_init(&s->line, KN_TRACE_MAX);
	s->ts = lb_calloc(m->ntasks, sizeof(*s->ts));
	s->d = lb_calloc(m->ndata ? m->ndata : 1, sizeof(*s->d));
	s->chosen = lb_calloc(m->ncands ? m->ncands : 1, 1);
	s->triggers = lb_calloc(m->ntasks, 1);
	if (s->ts == NULL || s->d == NULL || s->chosen == NULL || s->triggers == NULL) {
		lb_kn_session_free(s);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	*out = s;
	return LB_OK;
}

static void datum_clear(struct kn_datum *d)
{
	for (size_t i = 0; i < d->n; i++)
		kn_value_clear(&d->h[i].v);
	lb_free(d->h);
	memset(d, 0, sizeof(*d));
}

void lb_kn_session_free(struct lb_kn_session *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->d != NULL && i < s->m->ndata; i++)
		datum_clear(&s->d[i]);
	lb_free(s->d);
	lb_free(s->ts);
	lb_free(s->chosen);
	lb_free(s->triggers);
	lb_buf_release(&s->trace);
	lb_buf_release(&s->evside);
	lb_buf_release(&s->line);
	lb_free(s->evs);
	kn_arena_reset(&s->ar);
	if (s->ar.head != NULL)
		lb_free(s->ar.head);
	lb_free(s);
}

/* Copying a session (kn_session_clone): every field of struct lb_kn_session is either copied
 * by value with the struct or deep-copied below. A new field changes the struct's size and
 * stops the build here: copy it in kn_session_clone (deep when the session owns it), then
 * update the size. test_kn_enact's clone test compares cloned and replayed runs. */
_Static_assert(sizeof(struct lb_kn_session) == 328,
	       "struct lb_kn_session changed: copy the new field in kn_session_clone");

static int buf_clone(struct lb_buf *dst, const struct lb_buf *src)
{
	lb_buf_init(dst, src->max);
	return src->len > 0 ? lb_buf_add(dst, src->data, src->len) : LB_OK;
}

int kn_session_clone(const struct lb_kn_session *s, struct lb_kn_session **out)
{
	const struct lb_kn_model *m = s->m;
	struct lb_kn_session *c = lb_malloc(sizeof(*c));
	if (c == NULL)
		return LB_ENOMEM;
	*c = *s; /* scalars and borrowed pointers (m, seen_started, on_event, pf_support, pf_ident,
		   * pf_enact: an enactment re-points the last three at its own copies; pf_ctx: it
		   * sets it before each evaluation) */
	c->ar.head = NULL; /* evaluation scratch: starts empty */
	c->ts = lb_malloc(m->ntasks * sizeof(*c->ts));
	c->d = lb_calloc(m->ndata ? m->ndata : 1, sizeof(*c->d));
	c->chosen = lb_malloc(m->ncands ? m->ncands : 1);
	c->triggers = lb_malloc(m->ntasks ? m->ntasks : 1);
	c->evs = s->nevs > 0 ? lb_malloc(s->nevs * sizeof(*c->evs)) : NULL;
	c->capevs = s->nevs;
	lb_buf_init(&c->trace, s->trace.max);
	lb_buf_init(&c->evside, s->evside.max);
	lb_buf_init(&c->line, s->line.max);
	int rc = c->ts && c->d && c->chosen && c->triggers && (c->evs || s->nevs == 0) ? LB_OK
											 : LB_ENOMEM;
	if (rc == LB_OK) {
		memcpy(c->ts, s->ts, m->ntasks * sizeof(*c->ts));
		memcpy(c->chosen, s->chosen, m->ncands ? m->ncands : 1);
		memcpy(c->triggers, s->triggers, m->ntasks ? m->ntasks : 1);
		if (s->nevs > 0)
			memcpy(c->evs, s->evs, s->nevs * sizeof(*c->evs));
		rc = buf_clone(&c->trace, &s->trace);
		rc = rc ? rc : buf_clone(&c->evside, &s->evside);
		rc = rc ? rc : buf_clone(&c->line, &s->line);
	}
	for (size_t i = 0; rc == LB_OK && i < m->ndata; i++) {
		const struct kn_datum *sd = &s->d[i];
		struct kn_datum *cd = &c->d[i];
		if (sd->n == 0)
			continue;
		cd->h = lb_calloc(sd->n, sizeof(*cd->h));
		if (cd->h == NULL) {
			rc = LB_ENOMEM;
			break;
		}
		cd->cap = sd->n;
		for (; cd->n < sd->n && rc == LB_OK; cd->n++) {
			rc = kn_value_copy(&cd->h[cd->n].v, &sd->h[cd->n].v);
			cd->h[cd->n].time = sd->h[cd->n].time;
		}
	}
	if (rc != LB_OK) {
		lb_kn_session_free(c);
		return rc;
	}
	*out = c;
	return LB_OK;
}

void lb_kn_session_set_listener(struct lb_kn_session *s, lb_kn_event_fn fn, void *ctx)
{
	s->on_event = fn;
	s->on_event_ctx = ctx;
}

void lb_kn_session_set_tracing(struct lb_kn_session *s, bool on)
{
	s->no_trace = !on;
}

bool lb_kn_session_is_finished(const struct lb_kn_session *s)
{
	return s->ts[0].state == KN_COMPLETED || s->ts[0].state == KN_DISCARDED;
}

const char *lb_kn_session_trace(const struct lb_kn_session *s, size_t *len)
{
	/* formatting pending records is a cache fill: the session's state does not change */
	if (kn_trace_flush((struct lb_kn_session *)s) != LB_OK) {
		if (len != NULL)
			*len = 0;
		return "";
	}
	if (len != NULL)
		*len = s->trace.len;
	return s->trace.data ? (const char *)s->trace.data : "";
}

/* ---- task-state rules ------------------------------------------------------------------------ */

static int cond(struct lb_kn_session *s, const struct kn_expr *e, int absent)
{
	if (e == NULL)
		return absent;
	struct kn_value v;
	if (kn_eval(s, e, &v) != LB_OK)
		return -1;
	return kn_truth(&v);
}

static bool finished(uint8_t st)
{
	return st == KN_COMPLETED || st == KN_DISCARDED;
}

static bool is_ancestor(const struct lb_kn_model *m, int anc, int t)
{
	for (int p = m->tasks[t]->parent; p >= 0; p = m->tasks[p]->parent)
		if (p == anc)
			return true;
	return false;
}

/* Descendants of t (preorder indexes t+1 .. end of subtree). */
static size_t subtree_end(const struct lb_kn_model *m, int t)
{
	size_t e = (size_t)t + 1;
	while (e < m->ntasks && is_ancestor(m, t, (int)e))
		e++;
	return e;
}

static int set_state(struct lb_kn_session *s, int t, uint8_t st, const char *event)
{
	s->ts[t].state = st;
	if (st == KN_IN_PROGRESS && s->seen_started != NULL)
		s->seen_started[t] = 1;
	return emit_task(s, event, t);
}

static int discard_unfinished_children(struct lb_kn_session *s, int t)
{
	size_t end = subtree_end(s->m, t);
	for (size_t i = (size_t)t + 1; i < end; i++)
		if (!finished(s->ts[i].state)) {
			int rc = set_state(s, (int)i, KN_DISCARDED, "discarded");
			if (rc != LB_OK)
				return rc;
		}
	return LB_OK;
}

static int assign(struct lb_kn_session *s, int data, const struct kn_value *v)
{
	struct kn_datum *d = &s->d[data];
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 4;
		struct kn_hist *h = lb_realloc(d->h, nc * sizeof(*h));
		if (h == NULL)
			return LB_ENOMEM;
		d->h = h;
		d->cap = nc;
	}
	int rc = kn_value_copy(&d->h[d->n].v, v);
	if (rc != LB_OK)
		return rc;
	d->h[d->n].time = s->now;
	d->n++;
	return LB_OK;
}

int kn_session_put(struct lb_kn_session *s, int data, const struct kn_value *v)
{
	struct kn_datum *d = &s->d[data];
	/* the verifier keeps only the current value: history is not part of its state */
	if (s->no_history && d->n > 0) {
		kn_value_clear(&d->h[d->n - 1].v);
		d->n--;
	}
	return assign(s, data, v);
}

static int emit_data(struct lb_kn_session *s, int data, const char *warn, const char *source)
{
	if (!observed(s))
		return LB_OK;
	struct kn_ev e = { .event = "data", .kind = KN_EV_DATA, .idx = data, .by = source };
	int rc = LB_OK;
	if (s->d[data].n == 0)
		return LB_EINTERNAL; /* an event follows a stored value */
	e.aux = (uint32_t)(s->d[data].n - 1);
	if (warn != NULL && warn[0])
		rc = side_text(s, warn, &e.text);
	return rc ? rc : emit_rec(s, &e);
}

/* Completion: postcondition assignments (all evaluated first, then stored), then cycling. */
static int complete(struct lb_kn_session *s, int t)
{
	const struct kn_task *k = s->m->tasks[t];
	int rc;
	struct kn_value vals[16], *vp = vals;
	if (k->npost > 16 && (vp = lb_calloc(k->npost, sizeof(*vp))) == NULL)
		return LB_ENOMEM;
	for (size_t i = 0; i < k->npost; i++) {
		struct kn_value v;
		if ((rc = kn_eval(s, k->post[i].e, &v)) != LB_OK)
			goto out;
		if ((rc = kn_value_copy(&vp[i], &v)) != LB_OK)
			goto out;
	}
	if ((rc = discard_unfinished_children(s, t)) != LB_OK ||
	    (rc = set_state(s, t, KN_COMPLETED, "completed")) != LB_OK)
		goto out;
	for (size_t i = 0; i < k->npost; i++) {
		if (k->post[i].ref < 0)
			continue;
		if ((rc = kn_session_put(s, k->post[i].ref, &vp[i])) != LB_OK ||
		    (rc = emit_data(s, k->post[i].ref, NULL, k->name)) != LB_OK)
			goto out;
	}
	bool cyclic = t > 0 && (k->cycle_until != NULL || k->cycles > 0);
	if (cyclic) {
		struct kn_tstat *st = &s->ts[t];
		uint32_t done = st->cycles + 1;
		bool until = cond(s, k->cycle_until, 0) == 1;
		bool more = !until && (k->cycles == 0 || (int64_t)done < k->cycles);
		if (k->cycles == 0 && s->cycle_cap > 0 && done > s->cycle_cap)
			done = s->cycle_cap; /* verifier abstraction: saturate the counter */
		st->cycles = done;
		if (more) {
			size_t end = subtree_end(s->m, t);
			for (size_t i = (size_t)t; i < end; i++) {
				s->ts[i].state = KN_DORMANT;
				if (i != (size_t)t) {
					s->ts[i].cycles = 0;
					s->ts[i].wake = 0;
				}
				for (size_t c = 0; c < s->m->tasks[i]->ncands; c++)
					s->chosen[s->m->cand_base[i] + c] = 0;
				/* each repetition asks its enquiries again: their items become
				 * unknown (a new history entry, the old values stay in history) */
				const struct kn_task *q = s->m->tasks[i];
				for (size_t k2 = 0; q->cls == KN_ENQUIRY && k2 < q->nsources; k2++) {
					int d = q->sources[k2].ref;
					static const struct kn_value unk = { .t = KN_V_UNKNOWN };
					if (d >= 0 && kn_current(s, d)->t != KN_V_UNKNOWN &&
					    (rc = kn_session_put(s, d, &unk)) != LB_OK)
						goto out;
				}
			}
			st->wake = k->interval > 0 ? s->now + k->interval : 0;
			rc = emit_task(s, "cycled", t);
		}
	}
out:
	for (size_t i = 0; i < k->npost; i++)
		kn_value_clear(&vp[i]);
	if (vp != vals)
		lb_free(vp);
	return rc;
}

/* Commit pick (one byte per candidate) for decision t. rec is the recommendation the caller
 * has just evaluated (NULL: evaluated here when the event is observed). */
static int commit_set(struct lb_kn_session *s, int t, const uint8_t *pick, const uint8_t *rec,
		      bool by_engine)
{
	const struct kn_task *k = s->m->tasks[t];
	int base = s->m->cand_base[t];
	if (!observed(s)) {
		memcpy(s->chosen + base, pick, k->ncands);
		return complete(s, t);
	}
	/* the picks are copied first: they may live in the evaluation arena */
	struct kn_ev e = { .event = "commit", .kind = KN_EV_COMMIT, .idx = t,
			   .aux = (uint32_t)s->evside.len };
	int rc = lb_buf_add(&s->evside, pick, k->ncands ? k->ncands : 1);
	bool override = false;
	for (size_t i = 0; rc == LB_OK && i < k->ncands && !override; i++)
		if ((pick[i] != 0) != (rec != NULL ? rec[i] != 0 : kn_is_recommended(s, t, (int)i)))
			override = true;
	kn_arena_reset(&s->ar);
	e.flags = (uint8_t)((override ? KN_EVF_OVERRIDE : 0) | (by_engine ? KN_EVF_ENGINE : 0));
	rc = rc ? rc : emit_rec(s, &e);
	for (size_t i = 0; i < k->ncands; i++)
		s->chosen[base + i] = pick[i];
	return rc != LB_OK ? rc : complete(s, t);
}

/* One visit of task t; *changed set when its state moved. */
static int step(struct lb_kn_session *s, int t, bool *changed)
{
	const struct lb_kn_model *m = s->m;
	const struct kn_task *k = m->tasks[t];
	struct kn_tstat *st = &s->ts[t];
	int rc = LB_OK;
	if (st->state == KN_DORMANT) {
		if (t == 0) { /* the root plan starts with the first run */
			*changed = true;
			return set_state(s, 0, KN_IN_PROGRESS, "started");
		}
		if (s->ts[k->parent].state != KN_IN_PROGRESS)
			return LB_OK;
		bool any_completed = false;
		for (size_t i = 0; i < k->nafter; i++) {
			if (k->after_idx[i] < 0) /* (a JSON antecedent naming nothing: ignored) */
				continue;
			uint8_t as = s->ts[k->after_idx[i]].state;
			if (!finished(as))
				return LB_OK;
			any_completed |= as == KN_COMPLETED;
		}
		if (k->trigger != NULL && !s->triggers[t])
			return LB_OK;
		if (st->wake > s->now)
			return LB_OK;
		if (cond(s, k->wait, 1) != 1)
			return LB_OK;
		*changed = true;
		s->triggers[t] = 0;
		if (cond(s, k->pre, 1) == 1 && (k->nafter == 0 || any_completed)) {
			if ((rc = set_state(s, t, KN_IN_PROGRESS, "started")) != LB_OK)
				return rc;
			if (k->cls == KN_ACTION)
				rc = emit_task(s, "action", t);
			return rc;
		}
		return set_state(s, t, KN_DISCARDED, "discarded");
	}
	if (st->state != KN_IN_PROGRESS)
		return LB_OK;
	if (cond(s, k->abort, 0) == 1) {
		*changed = true;
		if ((rc = discard_unfinished_children(s, t)) != LB_OK)
			return rc;
		return set_state(s, t, KN_DISCARDED, "aborted");
	}
	switch (k->cls) {
	case KN_PLAN: {
		bool done = cond(s, k->terminate, 0) == 1;
		if (!done) {
			done = true;
			for (size_t i = 0; done && i < k->ntasks; i++)
				if (!k->tasks[i]->optional && !finished(s->ts[k->tasks[i]->idx].state))
					done = false;
		}
		if (done) {
			*changed = true;
			return complete(s, t);
		}
		return LB_OK;
	}
	case KN_ENQUIRY:
		for (size_t i = 0; i < k->nsources; i++) {
			const struct kn_source *src = &k->sources[i];
			if (src->optional || src->ref < 0 || cond(s, src->request, 1) != 1)
				continue;
			if (kn_current(s, src->ref)->t == KN_V_UNKNOWN)
				return LB_OK;
		}
		*changed = true;
		return complete(s, t);
	case KN_DECISION: {
		if (!k->autonomous)
			return LB_OK;
		uint8_t pick[256];
		if (k->ncands > sizeof(pick))
			return LB_EUNSUPPORTED;
		size_t nrec = 0;
		int best = -1;
		for (size_t i = 0; i < k->ncands; i++) {
			pick[i] = kn_is_recommended(s, t, (int)i);
			if (pick[i]) {
				nrec++;
				if (best < 0 || k->cands[i].priority > k->cands[best].priority)
					best = (int)i;
			}
		}
		kn_arena_reset(&s->ar);
		uint8_t rec[256];
		memcpy(rec, pick, k->ncands);
		if (!k->multiple) {
			if (nrec == 0)
				return LB_OK; /* nothing to commit: waits for a user commit */
			memset(pick, 0, k->ncands);
			pick[best] = 1;
		}
		*changed = true;
		return commit_set(s, t, pick, rec, true);
	}
	case KN_ACTION:
		if (k->autonomous) {
			*changed = true;
			return complete(s, t);
		}
		return LB_OK;
	}
	return LB_OK;
}

int lb_kn_session_run(struct lb_kn_session *s, struct lb_errmsg *em)
{
	const size_t n = s->m->ntasks;
	int max = s->max_passes > 0 ? s->max_passes : KN_RUN_MAX_PASSES;
	for (int pass = 0; pass < max; pass++) {
		bool changed = false;
		for (size_t i = 0; i < n; i++) {
			/* reverse mode (verifier): siblings in reverse order, parents still first */
			size_t t = (s->reverse && i > 0) ? n - i : i;
			int rc = step(s, (int)t, &changed);
			kn_arena_reset(&s->ar);
			if (rc != LB_OK)
				return lb_errf(em, rc, "task '%s': %s", s->m->tasks[t]->name,
					       lb_strerror(rc));
		}
		if (!changed) {
			if (lb_kn_session_is_finished(s) && !s->no_trace && s->trace_n > 0 &&
			    !s->finished_said) {
				s->finished_said = true; /* announced once */
				return emit(s, "finished");
			}
			return LB_OK;
		}
	}
	return lb_errf(em, LB_ELIMIT,
		       "contract '%s' did not settle after %d passes (a cycle without interval or "
		       "end?)",
		       s->m->root->name, max);
}

/* ---- operations ---------------------------------------------------------------------------- */

static int find_task(struct lb_kn_session *s, const char *name, struct lb_errmsg *em)
{
	int t = kn_model_find_task(s->m, name);
	if (t < 0)
		return lb_errf(em, LB_ENOTFOUND, "contract '%s' has no task '%s'", s->m->root->name,
			       name), -1;
	return t;
}

int lb_kn_session_confirm(struct lb_kn_session *s, const char *task, struct lb_errmsg *em)
{
	int t = find_task(s, task, em);
	if (t < 0)
		return LB_ENOTFOUND;
	const struct kn_task *k = s->m->tasks[t];
	if (k->cls != KN_ACTION)
		return lb_errf(em, LB_EINVALID,
			       "'%s' is a %s; only actions are confirmed (decisions are committed, "
			       "enquiries complete when answered)",
			       task, kn_class_name(k->cls, false));
	if (s->ts[t].state != KN_IN_PROGRESS)
		return lb_errf(em, LB_EINVALID, "action '%s' is %s, not in progress", task,
			       state_names[s->ts[t].state]);
	s->steps++;
	int rc = emit_task(s, "confirmed", t);
	return rc != LB_OK ? rc : complete(s, t);
}

int lb_kn_session_commit(struct lb_kn_session *s, const char *decision,
			 const char *const *cands, size_t n, struct lb_errmsg *em)
{
	int t = find_task(s, decision, em);
	if (t < 0)
		return LB_ENOTFOUND;
	const struct kn_task *k = s->m->tasks[t];
	if (k->cls != KN_DECISION)
		return lb_errf(em, LB_EINVALID, "'%s' is not a decision", decision);
	if (s->ts[t].state != KN_IN_PROGRESS)
		return lb_errf(em, LB_EINVALID, "decision '%s' is %s, not in progress", decision,
			       state_names[s->ts[t].state]);
	if (!k->multiple && n != 1)
		return lb_errf(em, LB_EINVALID,
			       "decision '%s' is single-choice: commit exactly one candidate",
			       decision);
	uint8_t pick[256];
	if (k->ncands > sizeof(pick))
		return lb_errf(em, LB_EUNSUPPORTED, "too many candidates");
	memset(pick, 0, sizeof(pick));
	for (size_t j = 0; j < n; j++) {
		size_t i;
		for (i = 0; i < k->ncands; i++)
			if (strcmp(k->cands[i].name, cands[j]) == 0)
				break;
		if (i == k->ncands) {
			struct lb_buf names;
			lb_buf_init(&names, 4096);
			for (size_t c = 0; c < k->ncands; c++)
				lb_buf_addf(&names, "%s%s", c ? ", " : "", k->cands[c].name);
			lb_errf(em, LB_EINVALID, "decision '%s' has no candidate '%s' (candidates: %s)",
				decision, cands[j], names.data ? (char *)names.data : "none");
			lb_buf_release(&names);
			return LB_EINVALID;
		}
		pick[i] = 1;
	}
	s->steps++;
	return commit_set(s, t, pick, NULL, false);
}

int lb_kn_session_trigger(struct lb_kn_session *s, const char *trigger, struct lb_errmsg *em)
{
	bool any = false;
	for (size_t i = 0; i < s->m->ntasks; i++)
		if (s->m->tasks[i]->trigger != NULL && strcmp(s->m->tasks[i]->trigger, trigger) == 0) {
			s->triggers[i] = 1;
			any = true;
		}
	if (!any)
		return lb_errf(em, LB_ENOTFOUND, "no task of contract '%s' has trigger '%s'",
			       s->m->root->name, trigger);
	s->steps++;
	if (!observed(s))
		return LB_OK;
	struct kn_ev e = { .event = "trigger", .kind = KN_EV_TRIGGER, .idx = -1 };
	int rc = side_text(s, trigger, &e.text);
	return rc ? rc : emit_rec(s, &e);
}

int lb_kn_session_set_time(struct lb_kn_session *s, int64_t day, struct lb_errmsg *em)
{
	if (day < s->now)
		return lb_errf(em, LB_EINVALID, "engine time only moves forward (now day %" PRId64
			       ", asked for day %" PRId64 ")", s->now, day);
	s->now = day;
	s->steps++;
	return emit(s, "time");
}

/* ---- values --------------------------------------------------------------------------------- */

static bool in_allowed(const struct kn_datadef *d, const struct kn_value *v)
{
	if (d->nallowed == 0)
		return true;
	for (size_t i = 0; i < d->nallowed; i++)
		if (kn_value_equal(&d->allowed[i], v))
			return true;
	return false;
}

static int check_scalar(const struct kn_datadef *d, const struct kn_value *v, struct lb_errmsg *em)
{
	static const int want[] = { KN_V_BOOL, KN_V_INT, KN_V_REAL, KN_V_TEXT, KN_V_DATE,
				    KN_V_UNKNOWN };
	if (v->t != want[d->type] && !(d->type == KN_T_REAL && v->t == KN_V_INT))
		return lb_errf(em, LB_ETYPE, "'%s' takes a %s value", d->name,
			       kn_dtype_name(d->type, false));
	if (d->has_range) {
		double x = v->t == KN_V_INT ? (double)v->u.i : v->u.r;
		if (!(x >= d->lo && x <= d->hi))
			return lb_errf(em, LB_ERANGE, "'%s' must be between %g and %g%s%s", d->name,
				       d->lo, d->hi, d->unit ? " " : "", d->unit ? d->unit : "");
	}
	if (!in_allowed(d, v)) {
		struct lb_buf b;
		lb_buf_init(&b, 4096);
		for (size_t i = 0; i < d->nallowed; i++) {
			if (i)
				lb_buf_adds(&b, ", ");
			kn_value_to_text(&b, &d->allowed[i]);
		}
		lb_errf(em, LB_ERANGE, "'%s' must be one of: %s", d->name,
			b.data ? (char *)b.data : "");
		lb_buf_release(&b);
		return LB_ERANGE;
	}
	return LB_OK;
}

int kn_session_check_value(struct lb_kn_session *s, int data, const struct kn_value *v,
			   char *warn, size_t wlen, struct lb_errmsg *em)
{
	const struct kn_datadef *d = &s->m->data[data];
	int rc;
	if (warn != NULL && wlen > 0)
		warn[0] = 0;
	if (d->derive != NULL)
		return lb_errf(em, LB_EINVALID, "'%s' is derived from other data and cannot be set",
			       d->name);
	if (d->multi) {
		if (v->t != KN_V_SET)
			return lb_errf(em, LB_ETYPE, "'%s' takes a list of %s values", d->name,
				       kn_dtype_name(d->type, false));
		for (size_t i = 0; i < v->u.set.n; i++) {
			for (size_t j = 0; j < i; j++)
				if (kn_value_equal(&v->u.set.v[i], &v->u.set.v[j]))
					return lb_errf(em, LB_EINVALID, "'%s': a value is listed twice",
						       d->name);
			if ((rc = check_scalar(d, &v->u.set.v[i], em)) != LB_OK)
				return rc;
		}
	} else if ((rc = check_scalar(d, v, em)) != LB_OK) {
		return rc;
	}
	struct kn_value r;
	if (d->valid != NULL) {
		rc = kn_eval_with(s, d->valid, v, &r);
		kn_arena_reset(&s->ar);
		if (rc != LB_OK)
			return lb_errf(em, rc, "'%s': %s", d->name, lb_strerror(rc));
		if (kn_truth(&r) == 0)
			return lb_errf(em, LB_ERANGE, "'%s': value refused by its condition", d->name);
	}
	for (size_t i = 0; i < d->nwarnings; i++) {
		/* the first warning the answer meets is shown (the item's own name and `value`
		 * both stand for the answer) */
		rc = kn_eval_item(s, d->warnings[i].cond, data, v, &r);
		kn_arena_reset(&s->ar);
		if (rc == LB_OK && kn_truth(&r) == 1 && warn != NULL && wlen > 0 && !warn[0])
			snprintf(warn, wlen, "%s",
				 d->warnings[i].caption ? d->warnings[i].caption
							: "value meets the warning condition");
	}
	return LB_OK;
}

static int add_checked(struct lb_kn_session *s, int data, struct kn_value *v, char *warn,
		       size_t wlen, struct lb_errmsg *em)
{
	char w[256];
	int rc = kn_session_check_value(s, data, v, w, sizeof(w), em);
	if (rc != LB_OK)
		return rc;
	/* canonical set order: as given (the author's question order) */
	if ((rc = assign(s, data, v)) != LB_OK)
		return lb_errf(em, rc, "out of memory");
	if (warn != NULL && wlen > 0)
		snprintf(warn, wlen, "%s", w);
	s->steps++;
	return emit_data(s, data, w, NULL);
}

/* JSON value to a typed value for item d; values live in the session arena. */
static int from_json(struct lb_kn_session *s, const struct kn_datadef *d, json_t *j,
		     struct kn_value *v, bool elem, struct lb_errmsg *em)
{
	memset(v, 0, sizeof(*v));
	if (d->multi && !elem) {
		if (!json_is_array(j))
			return lb_errf(em, LB_ETYPE, "'%s' takes a list: [\"a\", \"b\"]", d->name);
		size_t n = json_array_size(j);
		v->t = KN_V_SET;
		v->u.set.v = kn_arena_alloc(&s->ar, (n ? n : 1) * sizeof(struct kn_value));
		if (v->u.set.v == NULL)
			return lb_errf(em, LB_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			int rc = from_json(s, d, json_array_get(j, i), &v->u.set.v[i], true, em);
			if (rc != LB_OK)
				return rc;
			v->u.set.n++;
		}
		return LB_OK;
	}
	switch (d->type) {
	case KN_T_BOOLEAN:
		if (!json_is_boolean(j))
			return lb_errf(em, LB_ETYPE, "'%s' takes true or false", d->name);
		v->t = KN_V_BOOL;
		v->u.b = json_is_true(j);
		return LB_OK;
	case KN_T_INTEGER:
		if (!json_is_integer(j))
			return lb_errf(em, LB_ETYPE, "'%s' takes a whole number", d->name);
		v->t = KN_V_INT;
		v->u.i = json_integer_value(j);
		return LB_OK;
	case KN_T_REAL:
		if (!json_is_number(j))
			return lb_errf(em, LB_ETYPE, "'%s' takes a number", d->name);
		v->t = KN_V_REAL;
		v->u.r = json_number_value(j);
		return LB_OK;
	case KN_T_TEXT:
		if (!json_is_string(j))
			return lb_errf(em, LB_ETYPE, "'%s' takes text", d->name);
		v->t = KN_V_TEXT;
		v->u.s = kn_arena_strdup(&s->ar, json_string_value(j), strlen(json_string_value(j)));
		return v->u.s ? LB_OK : LB_ENOMEM;
	case KN_T_DATE:
		if (!json_is_string(j) || !kn_date_parse(json_string_value(j), &v->u.i))
			return lb_errf(em, LB_ETYPE, "'%s' takes a date \"YYYY-MM-DD\"", d->name);
		v->t = KN_V_DATE;
		return LB_OK;
	}
	return LB_EINTERNAL;
}

int kn_value_from_json(struct lb_kn_session *s, const struct kn_datadef *d, const void *json,
		       struct kn_value *v, struct lb_errmsg *em)
{
	return from_json(s, d, (json_t *)json, v, false, em);
}

static int find_data(struct lb_kn_session *s, const char *name, struct lb_errmsg *em)
{
	int d = kn_model_find_data(s->m, name);
	if (d < 0)
		lb_errf(em, LB_ENOTFOUND, "contract '%s' has no data item '%s'", s->m->root->name,
			name);
	return d;
}

int lb_kn_session_add_value(struct lb_kn_session *s, const char *data, const char *json,
			    char *warn, size_t wlen, struct lb_errmsg *em)
{
	int d = find_data(s, data, em);
	if (d < 0)
		return LB_ENOTFOUND;
	json_error_t je;
	json_t *j = json_loads(json, JSON_DECODE_ANY, &je);
	if (j == NULL)
		return lb_errf(em, LB_EMALFORMED, "value for '%s' is not JSON: %s", data, je.text);
	struct kn_value v;
	int rc = from_json(s, &s->m->data[d], j, &v, false, em);
	json_decref(j);
	if (rc == LB_OK)
		rc = add_checked(s, d, &v, warn, wlen, em);
	kn_arena_reset(&s->ar);
	return rc;
}

static const char *trim(char *t)
{
	while (*t == ' ' || *t == '\t')
		t++;
	size_t n = strlen(t);
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\n' ||
			 t[n - 1] == '\r'))
		t[--n] = 0;
	return t;
}

static int from_text(struct lb_kn_session *s, const struct kn_datadef *d, const char *text,
		     struct kn_value *v, struct lb_errmsg *em)
{
	char *end;
	memset(v, 0, sizeof(*v));
	switch (d->type) {
	case KN_T_BOOLEAN:
		if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
			return lb_errf(em, LB_ETYPE, "'%s' takes true or false", d->name);
		v->t = KN_V_BOOL;
		v->u.b = text[0] == 't';
		return LB_OK;
	case KN_T_INTEGER: {
		long long x = strtoll(text, &end, 10);
		if (text[0] == 0 || *end != 0)
			return lb_errf(em, LB_ETYPE, "'%s' takes a whole number, not \"%s\"", d->name,
				       text);
		v->t = KN_V_INT;
		v->u.i = x;
		return LB_OK;
	}
	case KN_T_REAL: {
		double x = strtod(text, &end);
		if (text[0] == 0 || *end != 0 || !isfinite(x))
			return lb_errf(em, LB_ETYPE, "'%s' takes a number, not \"%s\"", d->name, text);
		v->t = KN_V_REAL;
		v->u.r = x;
		return LB_OK;
	}
	case KN_T_TEXT:
		v->t = KN_V_TEXT;
		v->u.s = kn_arena_strdup(&s->ar, text, strlen(text));
		return v->u.s ? LB_OK : LB_ENOMEM;
	case KN_T_DATE:
		if (!kn_date_parse(text, &v->u.i))
			return lb_errf(em, LB_ETYPE, "'%s' takes a date YYYY-MM-DD, not \"%s\"",
				       d->name, text);
		v->t = KN_V_DATE;
		return LB_OK;
	}
	return LB_EINTERNAL;
}

int lb_kn_session_add_text(struct lb_kn_session *s, const char *data, const char *text,
			   char *warn, size_t wlen, struct lb_errmsg *em)
{
	int d = find_data(s, data, em);
	if (d < 0)
		return LB_ENOTFOUND;
	const struct kn_datadef *dd = &s->m->data[d];
	char *copy = kn_arena_strdup(&s->ar, text, strlen(text));
	if (copy == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	struct kn_value v;
	int rc = LB_OK;
	if (dd->multi) {
		size_t n = 1;
		for (const char *p = copy; *p; p++)
			n += *p == ',';
		v.t = KN_V_SET;
		v.u.set.n = 0;
		v.u.set.v = kn_arena_alloc(&s->ar, n * sizeof(struct kn_value));
		if (v.u.set.v == NULL)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
		char *save = NULL;
		if (*trim(copy) != 0)
			for (char *tok = strtok_r(copy, ",", &save); rc == LB_OK && tok != NULL;
			     tok = strtok_r(NULL, ",", &save))
				rc = from_text(s, dd, trim(tok), &v.u.set.v[v.u.set.n++], em);
	} else {
		rc = from_text(s, dd, trim(copy), &v, em);
	}
	if (rc == LB_OK)
		rc = add_checked(s, d, &v, warn, wlen, em);
	kn_arena_reset(&s->ar);
	return rc;
}
