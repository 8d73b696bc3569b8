/*
 * Contract templates of the store: a template is contract source with {{name}} placeholders
 * (thresholds, drug names, intervals); an instance fills them from a JSON object, is verified
 * like any contract (the CLI runs the verifier and refuses a failing instance with its
 * finding; publication re-verifies on the chain) and its listing points back to the template:
 * store.list recomputes fill + canonical hash and refuses a listing whose contract is not
 * that instance.
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/knowledge.h"
#include "market/store_int.h"

#define HEX(p) store_hex((char[2 * LB_HASH_LEN + 1]){0}, (p))

static bool value_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == ' ' || *v == '.' || *v == '_' || *v == '-'))
			return false;
	return true;
}

int lb_store_template_fill(const char *text, size_t len, const char *params_json, char **out,
			   size_t *outlen, struct lb_errmsg *em)
{
	json_error_t je;
	json_t *p = json_loads(params_json, 0, &je);
	if (!json_is_object(p)) {
		json_decref(p);
		return lb_errf(em, LB_EINVALID,
			       "template parameters must be a JSON object such as "
			       "{\"threshold\": 140, \"drug\": \"amlodipine\"}");
	}
	struct lb_buf b;
	lb_buf_init(&b, LB_KN_MAX_SOURCE);
	json_t *used = json_object();
	int rc = LB_OK;
	size_t i = 0;
	while (i < len && !rc) {
		if (i + 1 < len && text[i] == '{' && text[i + 1] == '{') {
			const char *end = NULL;
			for (size_t k = i + 2; k + 1 < len; k++)
				if (text[k] == '}' && text[k + 1] == '}') {
					end = text + k;
					break;
				}
			if (!end) {
				rc = lb_errf(em, LB_EINVALID, "template: '{{' at byte %zu is not closed",
					     i);
				break;
			}
			char name[64];
			size_t nl = (size_t)(end - (text + i + 2));
			if (nl == 0 || nl >= sizeof name) {
				rc = lb_errf(em, LB_EINVALID, "template: bad parameter name at byte %zu",
					     i);
				break;
			}
			memcpy(name, text + i + 2, nl);
			name[nl] = 0;
			json_t *v = json_object_get(p, name);
			char val[256];
			if (json_is_string(v))
				snprintf(val, sizeof val, "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
			else if (json_is_real(v))
				snprintf(val, sizeof val, "%.17g", json_real_value(v));
			else {
				rc = lb_errf(em, LB_EINVALID,
					     "template parameter '%s' is missing (or not a string or "
					     "number) in the parameters",
					     name);
				break;
			}
			if (!value_ok(val)) {
				rc = lb_errf(em, LB_EINVALID,
					     "template parameter '%s' = '%s': use letters, digits, "
					     "spaces and . _ - only",
					     name, val);
				break;
			}
			json_object_set_new(used, name, json_true());
			rc = lb_buf_add(&b, val, strlen(val));
			i = (size_t)(end - text) + 2;
		} else {
			rc = lb_buf_add(&b, text + i, 1);
			i++;
		}
	}
	const char *k;
	json_t *v;
	if (!rc)
		json_object_foreach(p, k, v) if (!json_object_get(used, k))
		{
			rc = lb_errf(em, LB_EINVALID, "parameter '%s' is not used by the template", k);
			break;
		}
	json_decref(used);
	json_decref(p);
	if (rc) {
		lb_buf_release(&b);
		return rc == LB_ETOOBIG ? lb_errf(em, rc, "the filled template is too large") : rc;
	}
	*out = (char *)lb_buf_detach(&b, outlen);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* Fill and parse; the model into *m. */
static int instance_model(const char *text, size_t len, const char *params,
			  struct lb_kn_model **m, struct lb_errmsg *em)
{
	char *src;
	size_t n;
	int rc = lb_store_template_fill(text, len, params, &src, &n, em);
	if (rc)
		return rc;
	rc = lb_kn_model_parse(src, n, "instance", LB_KN_FORM_PF, m, em);
	lb_free(src);
	if (rc)
		lb_errwrap(em, "the filled template does not parse: ");
	return rc;
}

int lb_store_template_instance(const char *text, size_t len, const char *params_json,
			       uint8_t hash[LB_HASH_LEN], struct lb_errmsg *em)
{
	struct lb_kn_model *m = NULL;
	char *report = NULL;
	size_t failures = 0;
	int rc = instance_model(text, len, params_json, &m, em);
	if (rc)
		return rc;
	if ((rc = lb_kn_check(m, NULL, &report, &failures, NULL, em)))
		goto out;
	if (failures) {
		json_t *r = json_loads(report, 0, NULL);
		json_t *f = json_array_get(json_object_get(r, "findings"), 0);
		rc = lb_errf(em, LB_EINVALID,
			     "the instance fails verification (%zu finding%s): %s: %s",
			     failures, failures == 1 ? "" : "s",
			     f ? json_string_value(json_object_get(f, "kind")) : "limit",
			     f ? json_string_value(json_object_get(f, "message")) : "limit reached");
		json_decref(r);
		goto out;
	}
	rc = lb_kn_model_hash(m, hash);
out:
	lb_free(report);
	lb_kn_model_free(m);
	return rc;
}

/* ---- on the chain ------------------------------------------------------------------------- */

struct tmpl_rec {
	uint8_t author[LB_ADDR_LEN];
	char title[LB_STORE_NAME_MAX + 1];
	char description[LB_STORE_TEXT_MAX + 1];
	const uint8_t *source;
	size_t source_len;
	uint64_t instances, height;
};

/* Borrowed source: valid until the next read or write of s. */
static int tmpl_get(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct tmpl_rec *r)
{
	struct lb_dec d;
	int rc = store_record(s, NS_TMPL, id, LB_HASH_LEN, "template", &d);
	if (rc)
		return rc;
	if (lb_dec_fixed(&d, "a", r->author, LB_ADDR_LEN) ||
	    lb_dec_str(&d, "t", LB_STORE_NAME_MAX, r->title, sizeof r->title) ||
	    lb_dec_str(&d, "d", LB_STORE_TEXT_MAX, r->description, sizeof r->description) ||
	    lb_dec_uvar(&d, "i", UINT64_MAX, &r->instances) ||
	    lb_dec_uvar(&d, "h", UINT64_MAX, &r->height) ||
	    lb_dec_bytes(&d, "s", LB_STORE_TEMPLATE_MAX, &r->source, &r->source_len) ||
	    lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

static int tmpl_put(struct lb_state *s, const uint8_t id[LB_HASH_LEN], const struct tmpl_rec *r)
{
	struct lb_buf b;
	lb_buf_init(&b, LB_STORE_TEMPLATE_MAX + 8192);
	int rc;
	if (!(rc = lb_enc_fixed(&b, r->author, LB_ADDR_LEN)) && !(rc = lb_enc_str(&b, r->title)) &&
	    !(rc = lb_enc_str(&b, r->description)) && !(rc = lb_enc_uvar(&b, r->instances)) &&
	    !(rc = lb_enc_uvar(&b, r->height)) && !(rc = lb_enc_bytes(&b, r->source, r->source_len)))
		rc = lb_state_put(s, NS_TMPL, id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

void store_template_id(const uint8_t *src, size_t n, uint8_t id[LB_HASH_LEN])
{
	lb_hash_domain(id, "LEBEN-store-template-v1", src, n);
}

static int op_template(struct lb_apply_ctx *c, const struct lb_store_tx *p,
		       struct store_listing *unused)
{
	struct tmpl_rec *r = lb_malloc(sizeof *r);
	uint8_t id[LB_HASH_LEN];
	int rc;
	if (!r)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	store_template_id(p->source, p->source_len, id);
	if (memcmp(id, p->item, LB_HASH_LEN))
		rc = lb_errf(c->em, LB_EINVALID, "template id %s is not the hash of its source (%s)",
			     HEX(p->item), HEX(id));
	else if ((rc = tmpl_get(c->state, id, r)) == LB_OK)
		rc = lb_errf(c->em, LB_EEXISTS, "template %s ('%s') is already registered", HEX(id),
			     r->title);
	else if (rc == LB_ENOTFOUND) {
		memset(r, 0, sizeof *r);
		memcpy(r->author, c->sender_addr, LB_ADDR_LEN);
		memcpy(r->title, p->title, sizeof r->title);
		memcpy(r->description, p->description, sizeof r->description);
		r->source = p->source;
		r->source_len = p->source_len;
		r->height = c->height;
		rc = tmpl_put(c->state, id, r);
	}
	lb_free(r);
	return rc;
}

int store_apply_template(struct lb_apply_ctx *c)
{
	return store_with_payload(c, op_template);
}

int store_instance_check(struct lb_apply_ctx *c, const uint8_t tmpl[LB_HASH_LEN],
			 const char *params, const uint8_t item[LB_HASH_LEN])
{
	struct tmpl_rec *r = lb_malloc(sizeof *r);
	struct lb_kn_model *m = NULL;
	if (!r)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	int rc = tmpl_get(c->state, tmpl, r);
	if (rc == LB_ENOTFOUND) {
		rc = lb_errf(c->em, LB_ENOTFOUND,
			     "template %s is not registered ('leben store template add')",
			     HEX(tmpl));
		goto out;
	}
	if (rc)
		goto out;
	uint8_t hash[LB_HASH_LEN];
	if ((rc = instance_model((const char *)r->source, r->source_len, params, &m, c->em)) ||
	    (rc = lb_kn_model_hash(m, hash)))
		goto out;
	if (memcmp(hash, item, LB_HASH_LEN))
		rc = lb_errf(c->em, LB_EINVALID,
			     "contract %s is not the instance of template %s with parameters %s "
			     "(that instance is %s)",
			     HEX(item), HEX(tmpl), params, HEX(hash));
out:
	lb_kn_model_free(m);
	lb_free(r);
	return rc;
}

int store_template_instance_add(struct lb_apply_ctx *c, const uint8_t tmpl[LB_HASH_LEN],
				const uint8_t item[LB_HASH_LEN])
{
	struct tmpl_rec *r = lb_malloc(sizeof *r);
	if (!r)
		return LB_ENOMEM;
	uint8_t *copy = NULL;
	int rc = tmpl_get(c->state, tmpl, r);
	if (!rc) {
		uint8_t key[LB_HASH_LEN + 8];
		memcpy(key, tmpl, LB_HASH_LEN);
		for (int i = 0; i < 8; i++)
			key[LB_HASH_LEN + i] = (uint8_t)(r->instances >> (56 - 8 * i));
		r->instances++;
		/* the source is borrowed from the state: copy it before writing */
		copy = lb_malloc(r->source_len);
		if (!copy)
			rc = LB_ENOMEM;
		else {
			memcpy(copy, r->source, r->source_len);
			r->source = copy;
			if (!(rc = lb_state_put(c->state, NS_TINST, key, sizeof key, item, LB_HASH_LEN)))
				rc = tmpl_put(c->state, tmpl, r);
		}
	}
	lb_free(copy);
	lb_free(r);
	return rc;
}

/* JSON of template id with its instances (view; s is a read-only state). */
json_t *store_template_json(struct lb_state *s, const uint8_t id[LB_HASH_LEN], bool source)
{
	struct tmpl_rec *r = lb_malloc(sizeof *r);
	if (!r || tmpl_get(s, id, r)) {
		lb_free(r);
		return NULL;
	}
	char a[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(a, r->author);
	/* the source is borrowed until the next read of the state: take it first */
	json_t *src = source ? json_stringn((const char *)r->source, r->source_len) : NULL;
	json_t *inst = json_array();
	for (uint64_t i = 0; i < r->instances; i++) {
		uint8_t key[LB_HASH_LEN + 8];
		const uint8_t *v;
		size_t n;
		memcpy(key, id, LB_HASH_LEN);
		for (int k = 0; k < 8; k++)
			key[LB_HASH_LEN + k] = (uint8_t)(i >> (56 - 8 * k));
		if (!lb_state_get(s, NS_TINST, key, sizeof key, &v, &n) && n == LB_HASH_LEN)
			json_array_append_new(inst, json_string(HEX(v)));
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "id", HEX(id), "author", a, "title",
			      r->title, "description", r->description, "height",
			      (json_int_t)r->height, "instances", inst);
	if (src)
		json_object_set_new(o, "source", src);
	lb_free(r);
	return o;
}
