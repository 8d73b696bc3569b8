/*
 * Session persistence and inspection: the JSON form of a whole session (resuming it gives an
 * identical session: same states, values with history, choices, time and trace), the
 * "what is the session waiting for" view the interactive runner shows, and the compact binary
 * state the verifier hashes (no trace, no history, time relative to now).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

#define SESSION_FORMAT "leben-contract-session/1"

static json_t *value_json(const struct kn_value *v)
{
	struct lb_buf b;
	lb_buf_init(&b, LB_KN_MAX_SOURCE);
	if (kn_value_to_json(&b, v) != LB_OK) {
		lb_buf_release(&b);
		return NULL;
	}
	json_t *j = json_loadb((const char *)b.data, b.len, JSON_DECODE_ANY, NULL);
	lb_buf_release(&b);
	return j;
}

int lb_kn_session_save(const struct lb_kn_session *s, char **out, size_t *len,
		       struct lb_errmsg *em)
{
	const struct lb_kn_model *m = s->m;
	/* pending trace records are formatted first (a cache fill, no change of state) */
	int frc = kn_trace_flush((struct lb_kn_session *)s);
	if (frc != LB_OK)
		return lb_errf(em, frc, "formatting the trace: %s", lb_strerror(frc));
	uint8_t h[32];
	char hex[65];
	int rc = lb_kn_model_hash(m, h);
	if (rc != LB_OK)
		return lb_errf(em, rc, "hashing the contract: %s", lb_strerror(rc));
	lb_hex_encode(hex, h, 32);
	/* hand-built so the output is byte-for-byte deterministic */
	struct lb_buf b;
	lb_buf_init(&b, KN_SESSION_MAX);
	struct kn_value name = { .t = KN_V_TEXT };
	rc = lb_buf_addf(&b, "{\"format\":\"%s\",\"contract\":\"%s\",\"now\":%" PRId64
			 ",\"steps\":%" PRIu64 ",\"events\":%zu,\"tasks\":[",
			 SESSION_FORMAT, hex, s->now, s->steps, s->trace_n);
	for (size_t i = 0; rc == LB_OK && i < m->ntasks; i++) {
		name.u.s = m->tasks[i]->name;
		rc = lb_buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
		rc = rc ? rc : kn_value_to_json(&b, &name);
		rc = rc ? rc : lb_buf_addf(&b, ",\"state\":%u,\"cycles\":%u,\"wake\":%" PRId64
					   ",\"triggered\":%u,\"chosen\":[",
					   s->ts[i].state, s->ts[i].cycles, s->ts[i].wake,
					   s->triggers[i]);
		bool first = true;
		for (size_t c = 0; rc == LB_OK && c < m->tasks[i]->ncands; c++) {
			if (!s->chosen[m->cand_base[i] + c])
				continue;
			name.u.s = m->tasks[i]->cands[c].name;
			rc = first ? LB_OK : lb_buf_addc(&b, ',');
			rc = rc ? rc : kn_value_to_json(&b, &name);
			first = false;
		}
		rc = rc ? rc : lb_buf_adds(&b, "]}");
	}
	rc = rc ? rc : lb_buf_adds(&b, "],\"data\":{");
	bool first = true;
	for (size_t i = 0; rc == LB_OK && i < m->ndata; i++) {
		const struct kn_datum *d = &s->d[i];
		if (d->n == 0)
			continue;
		name.u.s = m->data[i].name;
		rc = first ? LB_OK : lb_buf_addc(&b, ',');
		first = false;
		rc = rc ? rc : kn_value_to_json(&b, &name);
		rc = rc ? rc : lb_buf_adds(&b, ":[");
		for (size_t k = 0; rc == LB_OK && k < d->n; k++) {
			rc = lb_buf_adds(&b, k ? ",[" : "[");
			rc = rc ? rc : kn_value_to_json(&b, &d->h[k].v);
			rc = rc ? rc : lb_buf_addf(&b, ",%" PRId64 "]", d->h[k].time);
		}
		rc = rc ? rc : lb_buf_addc(&b, ']');
	}
	rc = rc ? rc : lb_buf_adds(&b, "},\"trace\":");
	struct kn_value tr = { .t = KN_V_TEXT, .u.s = s->trace.data ? (char *)s->trace.data : "" };
	rc = rc ? rc : kn_value_to_json(&b, &tr);
	rc = rc ? rc : lb_buf_adds(&b, "}\n");
	if (rc != LB_OK) {
		lb_buf_release(&b);
		return lb_errf(em, rc, "saving the session: %s", lb_strerror(rc));
	}
	*out = (char *)lb_buf_detach(&b, len);
	return LB_OK;
}

int lb_kn_session_resume(const struct lb_kn_model *m, const char *text, size_t len,
			 struct lb_kn_session **out, struct lb_errmsg *em)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return lb_errf(em, LB_EMALFORMED, "session:%d:%d: %s", je.line, je.column, je.text);
	struct lb_kn_session *s = NULL;
	int rc;
	uint8_t h[32];
	char hex[65];
	if ((rc = lb_kn_model_hash(m, h)) != LB_OK)
		goto err;
	lb_hex_encode(hex, h, 32);
	const char *fmt = json_string_value(json_object_get(j, "format"));
	const char *ch = json_string_value(json_object_get(j, "contract"));
	json_t *tasks = json_object_get(j, "tasks"), *data = json_object_get(j, "data");
	const char *trace = json_string_value(json_object_get(j, "trace"));
	json_t *now = json_object_get(j, "now"), *steps = json_object_get(j, "steps"),
	       *events = json_object_get(j, "events");
	if (fmt == NULL || strcmp(fmt, SESSION_FORMAT) != 0 || ch == NULL ||
	    !json_is_array(tasks) || !json_is_object(data) || trace == NULL ||
	    !json_is_integer(now) || !json_is_integer(steps) || !json_is_integer(events)) {
		rc = lb_errf(em, LB_EMALFORMED, "not a %s document", SESSION_FORMAT);
		goto err;
	}
	if (strcmp(ch, hex) != 0) {
		rc = lb_errf(em, LB_EINVALID,
			     "session belongs to contract %.16s…, not to this one (%.16s…)", ch, hex);
		goto err;
	}
	if ((rc = lb_kn_session_new(m, json_integer_value(now), &s, em)) != LB_OK)
		goto err_nofree;
	s->steps = (uint64_t)json_integer_value(steps);
	s->trace_n = (size_t)json_integer_value(events);
	if (json_array_size(tasks) != m->ntasks) {
		rc = lb_errf(em, LB_EMALFORMED, "session lists %zu tasks, contract has %zu",
			     json_array_size(tasks), m->ntasks);
		goto err;
	}
	for (size_t i = 0; i < m->ntasks; i++) {
		json_t *t = json_array_get(tasks, i);
		const char *nm = json_string_value(json_object_get(t, "name"));
		json_t *st = json_object_get(t, "state"), *cy = json_object_get(t, "cycles"),
		       *wk = json_object_get(t, "wake"), *tg = json_object_get(t, "triggered"),
		       *chosen = json_object_get(t, "chosen");
		if (nm == NULL || strcmp(nm, m->tasks[i]->name) != 0 || !json_is_integer(st) ||
		    json_integer_value(st) < 0 || json_integer_value(st) > 3 ||
		    !json_is_integer(cy) || json_integer_value(cy) < 0 ||
		    json_integer_value(cy) > UINT32_MAX || !json_is_integer(wk) ||
		    !json_is_integer(tg) || !json_is_array(chosen)) {
			rc = lb_errf(em, LB_EMALFORMED, "session task %zu is malformed", i);
			goto err;
		}
		s->ts[i].state = (uint8_t)json_integer_value(st);
		s->ts[i].cycles = (uint32_t)json_integer_value(cy);
		s->ts[i].wake = json_integer_value(wk);
		s->triggers[i] = json_integer_value(tg) != 0;
		for (size_t k = 0; k < json_array_size(chosen); k++) {
			const char *cn = json_string_value(json_array_get(chosen, k));
			size_t c;
			for (c = 0; cn != NULL && c < m->tasks[i]->ncands; c++)
				if (strcmp(m->tasks[i]->cands[c].name, cn) == 0)
					break;
			if (cn == NULL || c == m->tasks[i]->ncands) {
				rc = lb_errf(em, LB_EMALFORMED, "session: unknown candidate of '%s'", nm);
				goto err;
			}
			s->chosen[m->cand_base[i] + c] = 1;
		}
	}
	const char *key;
	json_t *hist;
	json_object_foreach(data, key, hist) {
		int d = kn_model_find_data(m, key);
		if (d < 0 || !json_is_array(hist)) {
			rc = lb_errf(em, LB_EMALFORMED, "session: unknown data item '%s'", key);
			goto err;
		}
		for (size_t k = 0; k < json_array_size(hist); k++) {
			json_t *e = json_array_get(hist, k);
			struct kn_value v;
			if (!json_is_array(e) || json_array_size(e) != 2 ||
			    !json_is_integer(json_array_get(e, 1))) {
				rc = lb_errf(em, LB_EMALFORMED, "session: bad history of '%s'", key);
				goto err;
			}
			if ((rc = kn_value_from_json(s, &m->data[d], json_array_get(e, 0), &v, em)))
				goto err;
			int64_t saved = s->now;
			s->now = json_integer_value(json_array_get(e, 1));
			rc = kn_session_put(s, d, &v);
			s->now = saved;
			kn_arena_reset(&s->ar);
			if (rc != LB_OK)
				goto err;
		}
	}
	if ((rc = lb_buf_adds(&s->trace, trace)) != LB_OK) {
		rc = lb_errf(em, rc, "session trace too large");
		goto err;
	}
	s->finished_said = strstr(trace, "\"event\":\"finished\"") != NULL;
	json_decref(j);
	*out = s;
	return LB_OK;
err:
	lb_kn_session_free(s);
err_nofree:
	json_decref(j);
	return rc;
}

/* ---- pending view --------------------------------------------------------------------------- */

static void jset(json_t *o, const char *k, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, k, v);
}

static void jstr(json_t *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, k, json_string(kn_show_text(v)));
}

int lb_kn_session_pending(struct lb_kn_session *s, char **out, struct lb_errmsg *em)
{
	const struct lb_kn_model *m = s->m;
	json_t *o = json_object(), *qs = json_array(), *ds = json_array(), *as = json_array(),
	       *tg = json_array();
	if (o == NULL || qs == NULL || ds == NULL || as == NULL || tg == NULL) {
		json_decref(o);
		json_decref(qs);
		json_decref(ds);
		json_decref(as);
		json_decref(tg);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	json_object_set_new(o, "finished", json_boolean(lb_kn_session_is_finished(s)));
	int64_t next_wake = 0;
	for (size_t i = 0; i < m->ntasks; i++) {
		const struct kn_task *t = m->tasks[i];
		uint8_t st = s->ts[i].state;
		if (st == KN_DORMANT && i > 0 && s->ts[t->parent].state == KN_IN_PROGRESS) {
			if (t->trigger != NULL && !s->triggers[i])
				json_array_append_new(tg, json_string(t->trigger));
			if (s->ts[i].wake > s->now && (next_wake == 0 || s->ts[i].wake < next_wake))
				next_wake = s->ts[i].wake;
		}
		if (st != KN_IN_PROGRESS)
			continue;
		if (t->cls == KN_ENQUIRY) {
			for (size_t k = 0; k < t->nsources; k++) {
				const struct kn_source *src = &t->sources[k];
				struct kn_value rv = { .t = KN_V_BOOL, .u.b = true };
				if (src->ref < 0 || kn_current(s, src->ref)->t != KN_V_UNKNOWN)
					continue;
				if (src->request != NULL && kn_eval(s, src->request, &rv) != LB_OK)
					continue;
				kn_arena_reset(&s->ar);
				if (kn_truth(&rv) != 1)
					continue;
				const struct kn_datadef *d = &m->data[src->ref];
				json_t *q = json_object();
				jstr(q, "enquiry", t->name);
				jstr(q, "data", d->name);
				jstr(q, "caption", d->caption ? d->caption : d->name);
				jstr(q, "description", d->description);
				jstr(q, "type", kn_dtype_name(d->type, false));
				if (d->multi)
					jset(q, "multiple", json_true());
				jstr(q, "unit", d->unit);
				if (d->has_range)
					jset(q, "range", json_pack("[ff]", d->lo, d->hi));
				if (d->nallowed > 0) {
					json_t *al = json_array();
					for (size_t a = 0; a < d->nallowed; a++)
						json_array_append_new(al, value_json(&d->allowed[a]));
					jset(q, "allowed", al);
				}
				if (d->defval.t != KN_V_UNKNOWN)
					jset(q, "default", value_json(&d->defval));
				jset(q, "mandatory", json_boolean(!src->optional));
				json_array_append_new(qs, q);
			}
		} else if (t->cls == KN_DECISION) {
			json_t *d = json_object(), *cs = json_array();
			jstr(d, "name", t->name);
			jstr(d, "caption", t->caption);
			jset(d, "multiple", json_boolean(t->multiple));
			for (size_t c = 0; c < t->ncands; c++) {
				const struct kn_candidate *cd = &t->cands[c];
				bool conf, excl;
				json_t *co = json_object(), *args = json_array();
				jstr(co, "name", cd->name);
				jstr(co, "caption", cd->caption);
				double net = kn_net_support(s, (int)i, (int)c, &conf, &excl);
				jset(co, "support", json_real(net));
				if (conf)
					jset(co, "confirmed", json_true());
				if (excl)
					jset(co, "excluded", json_true());
				jset(co, "recommended", json_boolean(kn_is_recommended(s, (int)i, (int)c)));
				for (size_t a = 0; a < cd->nargs; a++) {
					const struct kn_argument *g = &cd->args[a];
					static const char *const kinds[] = { "weight", "for", "against",
									     "confirming", "excluding" };
					struct kn_value v = { .t = KN_V_BOOL, .u.b = true };
					if (g->cond != NULL)
						kn_eval(s, g->cond, &v);
					json_t *ao = json_object();
					jstr(ao, "caption", g->caption ? g->caption : g->name);
					jstr(ao, "kind", kinds[g->kind]);
					if (g->kind == KN_SUP_WEIGHT)
						jset(ao, "weight", json_real(g->weight));
					jset(ao, "active", json_boolean(kn_truth(&v) == 1));
					json_array_append_new(args, ao);
				}
				kn_arena_reset(&s->ar);
				jset(co, "arguments", args);
				json_array_append_new(cs, co);
			}
			jset(d, "candidates", cs);
			json_array_append_new(ds, d);
		} else if (t->cls == KN_ACTION && !t->autonomous) {
			json_t *a = json_object();
			jstr(a, "name", t->name);
			jstr(a, "caption", t->caption);
			jstr(a, "procedure", t->procedure);
			json_array_append_new(as, a);
		}
	}
	json_object_set_new(o, "questions", qs);
	json_object_set_new(o, "decisions", ds);
	json_object_set_new(o, "actions", as);
	json_object_set_new(o, "triggers", tg);
	if (next_wake > 0)
		json_object_set_new(o, "next_wake", json_integer(next_wake));
	char *txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (txt == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	*out = lb_strdup(txt);
	free(txt);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* ---- compact state for the verifier ---------------------------------------------------------- */

static int put_varint(struct lb_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return lb_buf_add(b, tmp, n);
}

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

static int enc_value(struct lb_buf *b, const struct kn_value *v)
{
	int rc = lb_buf_addc(b, (uint8_t)v->t);
	if (rc != LB_OK)
		return rc;
	switch (v->t) {
	case KN_V_BOOL:
		return lb_buf_addc(b, v->u.b);
	case KN_V_INT:
	case KN_V_DATE:
	case KN_V_REAL:
		return lb_buf_add(b, &v->u, 8);
	case KN_V_TEXT: {
		size_t n = strlen(v->u.s);
		rc = put_varint(b, n);
		return rc ? rc : lb_buf_add(b, v->u.s, n);
	}
	case KN_V_SET:
		rc = put_varint(b, v->u.set.n);
		for (size_t i = 0; rc == LB_OK && i < v->u.set.n; i++)
			rc = enc_value(b, &v->u.set.v[i]);
		return rc;
	}
	return LB_OK;
}

static bool dec_value(struct kn_arena *a, const uint8_t **p, const uint8_t *end,
		      struct kn_value *v, int depth)
{
	uint64_t n;
	memset(v, 0, sizeof(*v));
	if (*p >= end || depth > 2)
		return false;
	v->t = *(*p)++;
	switch (v->t) {
	case KN_V_UNKNOWN:
		return true;
	case KN_V_BOOL:
		if (*p >= end)
			return false;
		v->u.b = *(*p)++ != 0;
		return true;
	case KN_V_INT:
	case KN_V_DATE:
	case KN_V_REAL:
		if (end - *p < 8)
			return false;
		memcpy(&v->u, *p, 8);
		*p += 8;
		return true;
	case KN_V_TEXT:
		if (!get_varint(p, end, &n) || (uint64_t)(end - *p) < n)
			return false;
		v->u.s = kn_arena_strdup(a, (const char *)*p, n);
		*p += n;
		return v->u.s != NULL;
	case KN_V_SET:
		if (!get_varint(p, end, &n) || n > (uint64_t)(end - *p))
			return false;
		v->u.set.v = kn_arena_alloc(a, (n ? n : 1) * sizeof(struct kn_value));
		if (v->u.set.v == NULL)
			return false;
		for (v->u.set.n = 0; v->u.set.n < n; v->u.set.n++)
			if (!dec_value(a, p, end, &v->u.set.v[v->u.set.n], depth + 1))
				return false;
		return true;
	}
	return false;
}

int kn_state_encode(const struct lb_kn_session *s, struct lb_buf *b)
{
	const struct lb_kn_model *m = s->m;
	int rc = LB_OK;
	for (size_t i = 0; rc == LB_OK && i < m->ntasks; i++) {
		const struct kn_tstat *t = &s->ts[i];
		uint64_t rel = t->wake > s->now ? (uint64_t)(t->wake - s->now) : 0;
		rc = lb_buf_addc(b, (uint8_t)(t->state | (s->triggers[i] << 2)));
		rc = rc ? rc : put_varint(b, t->cycles);
		rc = rc ? rc : put_varint(b, rel);
	}
	rc = rc ? rc : lb_buf_add(b, s->chosen, m->ncands);
	for (size_t i = 0; rc == LB_OK && i < m->ndata; i++)
		rc = enc_value(b, kn_current(s, (int)i));
	return rc;
}

int kn_state_decode(struct lb_kn_session *s, const uint8_t *p, size_t n)
{
	const struct lb_kn_model *m = s->m;
	const uint8_t *end = p + n;
	s->now = 0;
	for (size_t i = 0; i < m->ntasks; i++) {
		uint64_t cy, rel;
		if (p >= end)
			return LB_ECORRUPT;
		uint8_t b = *p++;
		s->ts[i].state = b & 3;
		s->triggers[i] = (b >> 2) & 1;
		if (!get_varint(&p, end, &cy) || !get_varint(&p, end, &rel))
			return LB_ECORRUPT;
		s->ts[i].cycles = (uint32_t)cy;
		s->ts[i].wake = (int64_t)rel;
	}
	if ((size_t)(end - p) < m->ncands)
		return LB_ECORRUPT;
	memcpy(s->chosen, p, m->ncands);
	p += m->ncands;
	for (size_t i = 0; i < m->ndata; i++) {
		struct kn_value v;
		struct kn_datum *d = &s->d[i];
		while (d->n > 0)
			kn_value_clear(&d->h[--d->n].v);
		if (!dec_value(&s->ar, &p, end, &v, 0))
			return LB_ECORRUPT;
		if (v.t != KN_V_UNKNOWN) {
			int rc = kn_session_put(s, (int)i, &v);
			if (rc != LB_OK)
				return rc;
		}
	}
	kn_arena_reset(&s->ar);
	return p == end ? LB_OK : LB_ECORRUPT;
}
