/*
 * The hexahedron model: field table, setters/getters, canonical encoding and its strict
 * decoder, semantic checks, public/private split and the JSON form. Everything is driven by
 * the LB_HEXA_FIELDS table so the binary form, the JSON form and the docs list the same fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/crypto.h"
#include "leben/data_coding.h"
#include "leben/data_hexa.h"

struct field_def {
	int id;
	const char *name;
	enum lb_hexa_type type;
};

static const struct field_def fields[LB_HEXA_NFIELDS + 1] = {
	{0, NULL, LB_HT_STR},
#define F_(id, name, type, desc) {id, name, type},
	LB_HEXA_FIELDS(F_)
#undef F_
};

int lb_hexa_field_id(const char *name)
{
	for (int i = 1; i <= LB_HEXA_NFIELDS; i++)
		if (!strcmp(fields[i].name, name))
			return i;
	return -1;
}

const char *lb_hexa_field_name(int id)
{
	return id >= 1 && id <= LB_HEXA_NFIELDS ? fields[id].name : NULL;
}

enum lb_hexa_type lb_hexa_field_type(int id)
{
	return id >= 1 && id <= LB_HEXA_NFIELDS ? fields[id].type : LB_HT_STR;
}

void lb_hexa_init(struct lb_hexa *h)
{
	memset(h, 0, sizeof *h);
	h->version = LB_HEXA_VERSION;
}

void lb_hexa_clear_field(struct lb_hexa *h, int id)
{
	struct lb_hexa_value *v = &h->v[id];
	lb_free(v->s);
	for (size_t i = 0; v->keys && i < v->n; i++) {
		lb_free(v->keys[i]);
		if (v->vals)
			lb_free(v->vals[i]);
	}
	lb_free(v->keys);
	lb_free(v->vals);
	lb_free(v->nums);
	lb_free(v->b);
	memset(v, 0, sizeof *v);
	h->present &= ~(1ull << id);
}

void lb_hexa_release(struct lb_hexa *h)
{
	for (int i = 1; i <= LB_HEXA_NFIELDS; i++)
		lb_hexa_clear_field(h, i);
}

static int field_of(const char *name, enum lb_hexa_type want)
{
	int id = lb_hexa_field_id(name);
	return id > 0 && fields[id].type == want ? id : -1;
}

int lb_hexa_set_str(struct lb_hexa *h, const char *field, const char *value)
{
	int id = field_of(field, LB_HT_STR);
	if (id < 0)
		return LB_EINVALID;
	char *c = lb_strdup(value);
	if (!c)
		return LB_ENOMEM;
	lb_hexa_clear_field(h, id);
	h->v[id].s = c;
	h->present |= 1ull << id;
	return LB_OK;
}

int lb_hexa_set_u64(struct lb_hexa *h, const char *field, uint64_t value)
{
	int id = field_of(field, LB_HT_U64);
	if (id < 0)
		return LB_EINVALID;
	h->v[id].u = value;
	h->present |= 1ull << id;
	return LB_OK;
}

int lb_hexa_set_bytes(struct lb_hexa *h, const char *field, const uint8_t *p, size_t n)
{
	int id = lb_hexa_field_id(field);
	if (id < 0)
		return LB_EINVALID;
	enum lb_hexa_type t = fields[id].type;
	if (!((t == LB_HT_HASH32 && n == 32) || (t == LB_HT_HASH16 && n == 16) ||
	      (t == LB_HT_BYTES && n >= 1 && n <= LB_HEXA_MAX_BYTES)))
		return LB_EINVALID;
	uint8_t *c = lb_malloc(n);
	if (!c)
		return LB_ENOMEM;
	memcpy(c, p, n);
	lb_hexa_clear_field(h, id);
	h->v[id].b = c;
	h->v[id].n = n;
	h->present |= 1ull << id;
	return LB_OK;
}

/* Insert key into a sorted keyed field; returns its index via *at and whether it was new. */
static int keyed_insert(struct lb_hexa_value *v, enum lb_hexa_type t, const char *key,
			size_t *at, bool *fresh)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v->keys[mid], key);
		if (c == 0) {
			*at = mid;
			*fresh = false;
			return LB_OK;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (v->n >= LB_HEXA_MAX_LIST)
		return LB_ELIMIT;
	char *k = lb_strdup(key);
	char **nk = lb_realloc(v->keys, (v->n + 1) * sizeof *nk);
	if (!k || !nk) {
		lb_free(k);
		if (nk)
			v->keys = nk;
		return LB_ENOMEM;
	}
	v->keys = nk;
	if (t == LB_HT_MAP) {
		char **nv = lb_realloc(v->vals, (v->n + 1) * sizeof *nv);
		if (!nv) {
			lb_free(k);
			return LB_ENOMEM;
		}
		v->vals = nv;
		memmove(v->vals + lo + 1, v->vals + lo, (v->n - lo) * sizeof *nv);
		v->vals[lo] = NULL;
	} else if (t == LB_HT_SHARES) {
		uint64_t *nn = lb_realloc(v->nums, (v->n + 1) * sizeof *nn);
		if (!nn) {
			lb_free(k);
			return LB_ENOMEM;
		}
		v->nums = nn;
		memmove(v->nums + lo + 1, v->nums + lo, (v->n - lo) * sizeof *nn);
		v->nums[lo] = 0;
	}
	memmove(v->keys + lo + 1, v->keys + lo, (v->n - lo) * sizeof *nk);
	v->keys[lo] = k;
	v->n++;
	*at = lo;
	*fresh = true;
	return LB_OK;
}

int lb_hexa_list_add(struct lb_hexa *h, const char *field, const char *item)
{
	int id = field_of(field, LB_HT_LIST);
	if (id < 0)
		return LB_EINVALID;
	size_t at;
	bool fresh;
	int rc = keyed_insert(&h->v[id], LB_HT_LIST, item, &at, &fresh);
	if (!rc)
		h->present |= 1ull << id;
	return rc;
}

int lb_hexa_map_set(struct lb_hexa *h, const char *field, const char *key, const char *value)
{
	int id = field_of(field, LB_HT_MAP);
	if (id < 0)
		return LB_EINVALID;
	char *c = lb_strdup(value);
	if (!c)
		return LB_ENOMEM;
	size_t at;
	bool fresh;
	int rc = keyed_insert(&h->v[id], LB_HT_MAP, key, &at, &fresh);
	if (rc) {
		lb_free(c);
		return rc;
	}
	lb_free(h->v[id].vals[at]);
	h->v[id].vals[at] = c;
	h->present |= 1ull << id;
	return LB_OK;
}

int lb_hexa_share_set(struct lb_hexa *h, const char *field, const char *owner, uint64_t bp)
{
	int id = field_of(field, LB_HT_SHARES);
	if (id < 0)
		return LB_EINVALID;
	size_t at;
	bool fresh;
	int rc = keyed_insert(&h->v[id], LB_HT_SHARES, owner, &at, &fresh);
	if (rc)
		return rc;
	h->v[id].nums[at] = bp;
	h->present |= 1ull << id;
	return LB_OK;
}

int lb_hexa_set_public(struct lb_hexa *h, const char *name, bool pub)
{
	size_t n = strlen(name);
	bool any = false;
	for (int i = 1; i <= LB_HEXA_NFIELDS; i++) {
		const char *f = fields[i].name;
		bool match = !strcmp(f, name) || (!strncmp(f, name, n) && f[n] == '.');
		if (!match)
			continue;
		any = true;
		if (pub)
			h->public_mask |= 1ull << i;
		else
			h->public_mask &= ~(1ull << i);
	}
	return any ? LB_OK : LB_EINVALID;
}

const char *lb_hexa_get_str(const struct lb_hexa *h, const char *field)
{
	int id = field_of(field, LB_HT_STR);
	return id > 0 && (h->present >> id & 1) ? h->v[id].s : NULL;
}

bool lb_hexa_get_u64(const struct lb_hexa *h, const char *field, uint64_t *out)
{
	int id = field_of(field, LB_HT_U64);
	if (id < 0 || !(h->present >> id & 1))
		return false;
	*out = h->v[id].u;
	return true;
}

/* ---- canonical encoding ---------------------------------------------------------------- */

int lb_hexa_encode(const struct lb_hexa *h, struct lb_buf *out)
{
	int rc = lb_enc_uvar(out, h->version);
	if (!rc)
		rc = lb_enc_uvar(out, h->public_mask);
	if (!rc)
		rc = lb_enc_uvar(out, h->present);
	for (int i = 1; !rc && i <= LB_HEXA_NFIELDS; i++) {
		if (!(h->present >> i & 1))
			continue;
		const struct lb_hexa_value *v = &h->v[i];
		switch (fields[i].type) {
		case LB_HT_STR:
			rc = lb_enc_str(out, v->s);
			break;
		case LB_HT_U64:
			rc = lb_enc_uvar(out, v->u);
			break;
		case LB_HT_LIST:
		case LB_HT_MAP:
		case LB_HT_SHARES:
			rc = lb_enc_uvar(out, v->n);
			for (size_t k = 0; !rc && k < v->n; k++) {
				rc = lb_enc_str(out, v->keys[k]);
				if (!rc && fields[i].type == LB_HT_MAP)
					rc = lb_enc_str(out, v->vals[k]);
				if (!rc && fields[i].type == LB_HT_SHARES)
					rc = lb_enc_uvar(out, v->nums[k]);
			}
			break;
		case LB_HT_HASH32:
		case LB_HT_HASH16:
			rc = lb_enc_fixed(out, v->b, v->n);
			break;
		case LB_HT_BYTES:
			rc = lb_enc_bytes(out, v->b, v->n);
			break;
		}
	}
	return rc;
}

static int dec_text(struct lb_dec *d, const char *field, char **out)
{
	const uint8_t *p;
	size_t n;
	int rc = lb_dec_bytes(d, field, LB_HEXA_MAX_STR, &p, &n);
	if (rc)
		return rc;
	if (n == 0)
		return lb_dec_fail(d, LB_EMALFORMED, field, "is empty");
	if (!lb_utf8_is_text(p, n))
		return lb_dec_fail(d, LB_EMALFORMED, field, "is not valid UTF-8 text");
	*out = lb_malloc(n + 1);
	if (!*out)
		return lb_errf(d->em, LB_ENOMEM, "out of memory");
	memcpy(*out, p, n);
	(*out)[n] = 0;
	return LB_OK;
}

int lb_hexa_decode(const uint8_t *p, size_t len, struct lb_hexa *h, struct lb_errmsg *em)
{
	lb_hexa_init(h);
	struct lb_dec d;
	lb_dec_init(&d, p, len, "hexahedron", em);
	uint64_t ver, mask, present;
	int rc = lb_dec_uvar(&d, "version", UINT32_MAX, &ver);
	if (rc)
		return rc;
	if (ver != LB_HEXA_VERSION)
		return lb_dec_fail(&d, LB_EUNSUPPORTED, "version", "%llu is not supported (1 is)",
				   (unsigned long long)ver);
	uint64_t valid = ((1ull << (LB_HEXA_NFIELDS + 1)) - 1) & ~1ull;
	if ((rc = lb_dec_uvar(&d, "public mask", UINT64_MAX, &mask)) ||
	    (rc = lb_dec_uvar(&d, "present mask", UINT64_MAX, &present)))
		return rc;
	if ((mask | present) & ~valid)
		return lb_dec_fail(&d, LB_EMALFORMED, "field masks", "name unknown fields");
	h->public_mask = mask;
	for (int i = 1; i <= LB_HEXA_NFIELDS; i++) {
		if (!(present >> i & 1))
			continue;
		struct lb_hexa_value *v = &h->v[i];
		const char *fname = fields[i].name;
		h->present |= 1ull << i; /* so release frees partial values */
		switch (fields[i].type) {
		case LB_HT_STR:
			rc = dec_text(&d, fname, &v->s);
			break;
		case LB_HT_U64:
			rc = lb_dec_uvar(&d, fname, UINT64_MAX, &v->u);
			break;
		case LB_HT_LIST:
		case LB_HT_MAP:
		case LB_HT_SHARES: {
			uint64_t n;
			rc = lb_dec_uvar(&d, fname, LB_HEXA_MAX_LIST, &n);
			if (rc)
				break;
			if (n == 0) {
				rc = lb_dec_fail(&d, LB_EMALFORMED, fname, "is an empty list");
				break;
			}
			v->keys = lb_calloc(n, sizeof *v->keys);
			if (fields[i].type == LB_HT_MAP)
				v->vals = lb_calloc(n, sizeof *v->vals);
			if (fields[i].type == LB_HT_SHARES)
				v->nums = lb_calloc(n, sizeof *v->nums);
			if (!v->keys || (fields[i].type == LB_HT_MAP && !v->vals) ||
			    (fields[i].type == LB_HT_SHARES && !v->nums)) {
				rc = lb_errf(em, LB_ENOMEM, "out of memory");
				break;
			}
			v->n = n;
			for (size_t k = 0; !rc && k < n; k++) {
				rc = dec_text(&d, fname, &v->keys[k]);
				if (!rc && k > 0 && strcmp(v->keys[k - 1], v->keys[k]) >= 0)
					rc = lb_dec_fail(&d, LB_EMALFORMED, fname,
							 "entries are not in strictly increasing "
							 "order");
				if (!rc && fields[i].type == LB_HT_MAP)
					rc = dec_text(&d, fname, &v->vals[k]);
				if (!rc && fields[i].type == LB_HT_SHARES)
					rc = lb_dec_uvar(&d, fname, UINT64_MAX, &v->nums[k]);
			}
			break;
		}
		case LB_HT_HASH32:
		case LB_HT_HASH16: {
			size_t n = fields[i].type == LB_HT_HASH32 ? 32 : 16;
			v->b = lb_malloc(n);
			if (!v->b) {
				rc = lb_errf(em, LB_ENOMEM, "out of memory");
				break;
			}
			v->n = n;
			rc = lb_dec_fixed(&d, fname, v->b, n);
			break;
		}
		case LB_HT_BYTES: {
			const uint8_t *b;
			size_t n;
			rc = lb_dec_bytes(&d, fname, LB_HEXA_MAX_BYTES, &b, &n);
			if (!rc && n == 0)
				rc = lb_dec_fail(&d, LB_EMALFORMED, fname, "is empty");
			if (rc)
				break;
			v->b = lb_malloc(n);
			if (!v->b) {
				rc = lb_errf(em, LB_ENOMEM, "out of memory");
				break;
			}
			memcpy(v->b, b, n);
			v->n = n;
			break;
		}
		}
		if (rc)
			goto err_release;
	}
	rc = lb_dec_end(&d);
	if (rc)
		goto err_release;
	return LB_OK;
err_release:
	lb_hexa_release(h);
	return rc;
}

/* ---- checks ---------------------------------------------------------------------------- */

static bool one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

int lb_hexa_check(const struct lb_hexa *h, bool require_core, struct lb_errmsg *em)
{
	static const char *const billing[] = {"free", "per_use", "subscription", "one_time", NULL};
	static const char *const sync[] = {"manual", "watch", "periodic", NULL};
	static const char *const format[] = {"dicom", "table", "fhir", "text", "image", "other",
					     "audio", "video", "pdf", NULL};
	static const char *const delivery[] = {"sandbox", "aggregate", "envelope", NULL};
	const char *s;
	uint64_t u, u2;
	if (require_core && (!lb_hexa_get_str(h, "basic.name") ||
			     !(h->present >> lb_hexa_field_id("raw.blake2b") & 1)))
		return lb_errf(em, LB_EINVALID, "basic.name and raw.blake2b are required (public)");
	if (lb_hexa_get_u64(h, "exchange.level", &u) && (u < 1 || u > 3))
		return lb_errf(em, LB_EINVALID, "exchange.level %llu: must be 1, 2 or 3",
			       (unsigned long long)u);
	if ((s = lb_hexa_get_str(h, "exchange.billing")) && !one_of(s, billing))
		return lb_errf(em, LB_EINVALID,
			       "exchange.billing \"%s\": use free, per_use, subscription or one_time",
			       s);
	if ((s = lb_hexa_get_str(h, "dynamic.sync")) && !one_of(s, sync))
		return lb_errf(em, LB_EINVALID, "dynamic.sync \"%s\": use manual, watch or periodic",
			       s);
	if ((s = lb_hexa_get_str(h, "data.format")) && !one_of(s, format))
		return lb_errf(em, LB_EINVALID, "data.format \"%s\" is not a known format", s);
	if ((s = lb_hexa_get_str(h, "exchange.delivery")) && !one_of(s, delivery))
		return lb_errf(em, LB_EINVALID,
			       "exchange.delivery \"%s\": use sandbox, aggregate or envelope", s);
	if (lb_hexa_get_u64(h, "exchange.valid_from", &u) &&
	    lb_hexa_get_u64(h, "exchange.valid_until", &u2) && u2 != 0 && u2 < u)
		return lb_errf(em, LB_EINVALID, "exchange.valid_until is before exchange.valid_from");
	if (lb_hexa_get_u64(h, "audit.score", &u) && u > 10000)
		return lb_errf(em, LB_EINVALID, "audit.score %llu is above 10000",
			       (unsigned long long)u);
	if (lb_hexa_get_u64(h, "dynamic.version", &u) && u == 0)
		return lb_errf(em, LB_EINVALID, "dynamic.version starts at 1");
	int oid = lb_hexa_field_id("exchange.owners");
	if (h->present >> oid & 1) {
		uint64_t sum = 0;
		for (size_t k = 0; k < h->v[oid].n; k++) {
			if (h->v[oid].nums[k] == 0 || h->v[oid].nums[k] > 10000)
				return lb_errf(em, LB_EINVALID,
					       "exchange.owners: share of %s must be 1..10000",
					       h->v[oid].keys[k]);
			sum += h->v[oid].nums[k];
		}
		if (sum != 10000)
			return lb_errf(em, LB_EINVALID,
				       "exchange.owners: shares add up to %llu basis points, not 10000",
				       (unsigned long long)sum);
	}
	int cid = lb_hexa_field_id("semantic.codes");
	for (size_t k = 0; (h->present >> cid & 1) && k < h->v[cid].n; k++) {
		const char *c = h->v[cid].keys[k], *bar = strchr(c, '|');
		if (!bar || bar == c || !bar[1])
			return lb_errf(em, LB_EINVALID, "semantic.codes \"%s\": write system|code", c);
		size_t sl = (size_t)(bar - c);
		bool bad = false;
		if ((sl == 5 && !strncmp(c, "icd10", 5)) || (sl == 7 && !strncmp(c, "icd10cm", 7)))
			bad = lb_icd10_check(bar + 1, sl == 7, NULL) != LB_OK;
		else if (sl == 6 && !strncmp(c, "snomed", 6))
			bad = lb_sctid_check(bar + 1, NULL) != LB_OK;
		if (bad)
			return lb_errf(em, LB_EINVALID, "semantic.codes \"%s\" is not a valid code", c);
	}
	return LB_OK;
}

/* ---- public / private parts ------------------------------------------------------------ */

static int copy_field(const struct lb_hexa *src, int i, struct lb_hexa *dst)
{
	const struct lb_hexa_value *v = &src->v[i];
	const char *name = fields[i].name;
	int rc = LB_OK;
	switch (fields[i].type) {
	case LB_HT_STR:
		return lb_hexa_set_str(dst, name, v->s);
	case LB_HT_U64:
		return lb_hexa_set_u64(dst, name, v->u);
	case LB_HT_LIST:
		for (size_t k = 0; !rc && k < v->n; k++)
			rc = lb_hexa_list_add(dst, name, v->keys[k]);
		return rc;
	case LB_HT_MAP:
		for (size_t k = 0; !rc && k < v->n; k++)
			rc = lb_hexa_map_set(dst, name, v->keys[k], v->vals[k]);
		return rc;
	case LB_HT_SHARES:
		for (size_t k = 0; !rc && k < v->n; k++)
			rc = lb_hexa_share_set(dst, name, v->keys[k], v->nums[k]);
		return rc;
	default:
		return lb_hexa_set_bytes(dst, name, v->b, v->n);
	}
}

int lb_hexa_split(const struct lb_hexa *h, struct lb_hexa *pub, struct lb_hexa *priv)
{
	lb_hexa_init(pub);
	lb_hexa_init(priv);
	pub->public_mask = priv->public_mask = h->public_mask;
	int rc = LB_OK;
	for (int i = 1; !rc && i <= LB_HEXA_NFIELDS; i++)
		if (h->present >> i & 1)
			rc = copy_field(h, i, (h->public_mask >> i & 1) ? pub : priv);
	if (rc) {
		lb_hexa_release(pub);
		lb_hexa_release(priv);
	}
	return rc;
}

int lb_hexa_merge(const struct lb_hexa *pub, const struct lb_hexa *priv, struct lb_hexa *out,
		  struct lb_errmsg *em)
{
	if (pub->public_mask != priv->public_mask)
		return lb_errf(em, LB_EINVALID, "public and private parts disagree on the public mask");
	if (pub->present & priv->present)
		return lb_errf(em, LB_EINVALID, "public and private parts overlap");
	if ((pub->present & ~pub->public_mask) || (priv->present & priv->public_mask))
		return lb_errf(em, LB_EINVALID, "a field is in the wrong part");
	lb_hexa_init(out);
	out->public_mask = pub->public_mask;
	int rc = LB_OK;
	for (int i = 1; !rc && i <= LB_HEXA_NFIELDS; i++) {
		if (pub->present >> i & 1)
			rc = copy_field(pub, i, out);
		else if (priv->present >> i & 1)
			rc = copy_field(priv, i, out);
	}
	if (rc) {
		lb_hexa_release(out);
		return lb_errf(em, rc, "out of memory");
	}
	return LB_OK;
}

/* ---- JSON form ------------------------------------------------------------------------- */

json_t *lb_hexa_to_json(const struct lb_hexa *h)
{
	json_t *root = json_object(), *pub = json_array();
	if (!root || !pub) {
		json_decref(root);
		json_decref(pub);
		return NULL;
	}
	json_object_set_new(root, "hexahedron", json_integer(h->version));
	json_object_set_new(root, "public", pub);
	for (int i = 1; i <= LB_HEXA_NFIELDS; i++) {
		if (h->public_mask >> i & 1)
			json_array_append_new(pub, json_string(fields[i].name));
		if (!(h->present >> i & 1))
			continue;
		char facet[32];
		const char *dot = strchr(fields[i].name, '.');
		snprintf(facet, sizeof facet, "%.*s", (int)(dot - fields[i].name), fields[i].name);
		json_t *fo = json_object_get(root, facet);
		if (!fo) {
			fo = json_object();
			json_object_set_new(root, facet, fo);
		}
		const struct lb_hexa_value *v = &h->v[i];
		json_t *val = NULL;
		char hex[2 * LB_HEXA_MAX_BYTES + 1];
		switch (fields[i].type) {
		case LB_HT_STR:
			val = json_string(v->s);
			break;
		case LB_HT_U64:
			val = json_integer((json_int_t)v->u);
			if (v->u > (uint64_t)INT64_MAX) { /* beyond JSON integers: decimal text */
				snprintf(hex, sizeof hex, "%llu", (unsigned long long)v->u);
				json_decref(val);
				val = json_string(hex);
			}
			break;
		case LB_HT_LIST:
			val = json_array();
			for (size_t k = 0; k < v->n; k++)
				json_array_append_new(val, json_string(v->keys[k]));
			break;
		case LB_HT_MAP:
			val = json_object();
			for (size_t k = 0; k < v->n; k++)
				json_object_set_new(val, v->keys[k], json_string(v->vals[k]));
			break;
		case LB_HT_SHARES:
			val = json_object();
			for (size_t k = 0; k < v->n; k++)
				json_object_set_new(val, v->keys[k], json_integer((json_int_t)v->nums[k]));
			break;
		default:
			lb_hex_encode(hex, v->b, v->n);
			val = json_string(hex);
			break;
		}
		json_object_set_new(fo, dot + 1, val);
	}
	return root;
}

static int json_u64(const json_t *x, uint64_t *out)
{
	if (json_is_integer(x) && json_integer_value(x) >= 0) {
		*out = (uint64_t)json_integer_value(x);
		return LB_OK;
	}
	if (json_is_string(x)) {
		const char *s = json_string_value(x);
		char *end;
		if (*s < '0' || *s > '9')
			return LB_ETYPE;
		*out = strtoull(s, &end, 10);
		return *end ? LB_ETYPE : LB_OK;
	}
	return LB_ETYPE;
}

int lb_hexa_from_json(const json_t *j, struct lb_hexa *h, struct lb_errmsg *em)
{
	lb_hexa_init(h);
	if (!json_is_object(j))
		return lb_errf(em, LB_ETYPE, "a hexahedron is a JSON object");
	json_t *ver = json_object_get(j, "hexahedron");
	if (!json_is_integer(ver) || json_integer_value(ver) != LB_HEXA_VERSION)
		return lb_errf(em, LB_EUNSUPPORTED, "\"hexahedron\" must be 1 (the version)");
	const char *facet;
	json_t *fo;
	int rc = LB_OK;
	json_object_foreach((json_t *)j, facet, fo) {
		if (!strcmp(facet, "hexahedron") || !strcmp(facet, "public"))
			continue;
		if (!json_is_object(fo)) {
			rc = lb_errf(em, LB_ETYPE, "\"%s\" must be an object", facet);
			goto err_release;
		}
		const char *key;
		json_t *x;
		json_object_foreach(fo, key, x) {
			char name[96];
			snprintf(name, sizeof name, "%s.%s", facet, key);
			int id = lb_hexa_field_id(name);
			if (id < 0) {
				rc = lb_errf(em, LB_EINVALID, "%s is not a hexahedron field", name);
				goto err_release;
			}
			rc = LB_ETYPE;
			switch (fields[id].type) {
			case LB_HT_STR:
				if (json_is_string(x) && json_string_length(x) > 0 &&
				    json_string_length(x) <= LB_HEXA_MAX_STR)
					rc = lb_hexa_set_str(h, name, json_string_value(x));
				break;
			case LB_HT_U64: {
				uint64_t u;
				if (json_u64(x, &u) == LB_OK)
					rc = lb_hexa_set_u64(h, name, u);
				break;
			}
			case LB_HT_LIST: {
				size_t i;
				json_t *e;
				if (!json_is_array(x) || json_array_size(x) == 0)
					break;
				rc = LB_OK;
				json_array_foreach(x, i, e) {
					if (!json_is_string(e) || json_string_length(e) == 0)
						rc = LB_ETYPE;
					if (!rc)
						rc = lb_hexa_list_add(h, name, json_string_value(e));
				}
				break;
			}
			case LB_HT_MAP:
			case LB_HT_SHARES: {
				const char *k2;
				json_t *e;
				if (!json_is_object(x) || json_object_size(x) == 0)
					break;
				rc = LB_OK;
				json_object_foreach(x, k2, e) {
					uint64_t u;
					if (!*k2)
						rc = LB_ETYPE;
					else if (fields[id].type == LB_HT_MAP)
						rc = json_is_string(e) && json_string_length(e)
							     ? lb_hexa_map_set(h, name, k2,
									       json_string_value(e))
							     : LB_ETYPE;
					else
						rc = json_u64(e, &u) ? LB_ETYPE
								     : lb_hexa_share_set(h, name, k2, u);
					if (rc)
						break;
				}
				break;
			}
			default: {
				uint8_t *b;
				size_t n;
				if (json_is_string(x) &&
				    lb_hex_decode_alloc(json_string_value(x), &b, &n,
							LB_HEXA_MAX_BYTES) == LB_OK) {
					rc = lb_hexa_set_bytes(h, name, b, n);
					lb_free(b);
				}
				break;
			}
			}
			if (rc) {
				rc = lb_errf(em, rc == LB_ENOMEM ? rc : LB_ETYPE,
					     "%s: value of the wrong type or size (see docs/hexahedron.md)",
					     name);
				goto err_release;
			}
		}
	}
	json_t *pub = json_object_get(j, "public");
	if (pub && !json_is_array(pub)) {
		rc = lb_errf(em, LB_ETYPE, "\"public\" must be a list of field or facet names");
		goto err_release;
	}
	size_t i;
	json_t *e;
	json_array_foreach(pub, i, e) {
		if (!json_is_string(e) || lb_hexa_set_public(h, json_string_value(e), true)) {
			rc = lb_errf(em, LB_EINVALID, "public[%zu] is not a field or facet name", i);
			goto err_release;
		}
	}
	return LB_OK;
err_release:
	lb_hexa_release(h);
	return rc;
}

/* ---- asset transactions ---------------------------------------------------------------- */

void lb_asset_id(uint8_t out[32], const char *creator, const uint8_t raw_blake2b[32],
		 uint64_t created_ms)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	uint8_t h[32];
	if (lb_enc_str(&b, creator ? creator : "") || lb_enc_fixed(&b, raw_blake2b, 32) ||
	    lb_enc_uvar(&b, created_ms)) {
		memset(out, 0, 32); /* only on allocation failure */
		lb_buf_release(&b);
		return;
	}
	lb_hash_domain(h, "LEBEN asset id", b.data, b.len);
	memcpy(out, h, 32);
	lb_buf_release(&b);
}

int lb_asset_tx_encode(const struct lb_asset_tx *tx, struct lb_buf *out)
{
	int rc = lb_enc_uvar(out, (uint64_t)tx->op);
	if (!rc)
		rc = lb_enc_fixed(out, tx->asset_id, 32);
	if (!rc)
		rc = lb_enc_uvar(out, tx->version);
	if (!rc && tx->op != LB_ASSET_REGISTER)
		rc = lb_enc_fixed(out, tx->previous, 32);
	if (!rc && tx->op == LB_ASSET_RETIRE)
		return lb_enc_str(out, tx->reason);
	if (!rc)
		rc = lb_enc_bytes(out, tx->pub, tx->pub_len);
	if (!rc)
		rc = lb_enc_bytes(out, tx->priv_env, tx->priv_env_len);
	return rc;
}

int lb_asset_tx_decode(const uint8_t *p, size_t len, struct lb_asset_tx *tx,
		       struct lb_errmsg *em)
{
	memset(tx, 0, sizeof *tx);
	struct lb_dec d;
	lb_dec_init(&d, p, len, "asset tx", em);
	uint64_t op;
	int rc = lb_dec_uvar(&d, "op", 3, &op);
	if (rc)
		return rc;
	if (op == 0)
		return lb_dec_fail(&d, LB_EMALFORMED, "op", "0 is not an operation");
	tx->op = (enum lb_asset_op)op;
	if ((rc = lb_dec_fixed(&d, "asset id", tx->asset_id, 32)) ||
	    (rc = lb_dec_uvar(&d, "version", UINT32_MAX, &tx->version)))
		return rc;
	if (tx->op != LB_ASSET_REGISTER && (rc = lb_dec_fixed(&d, "previous", tx->previous, 32)))
		return rc;
	if (tx->op == LB_ASSET_RETIRE) {
		rc = lb_dec_str(&d, "reason", 256, tx->reason, sizeof tx->reason);
	} else {
		rc = lb_dec_bytes(&d, "public part", LB_HEXA_MAX_ENCODED, &tx->pub, &tx->pub_len);
		if (!rc)
			rc = lb_dec_bytes(&d, "private envelope", LB_HEXA_MAX_ENCODED, &tx->priv_env,
					  &tx->priv_env_len);
	}
	return rc ? rc : lb_dec_end(&d);
}

int lb_asset_tx_check(const struct lb_asset_tx *tx, struct lb_errmsg *em)
{
	if (tx->op == LB_ASSET_REGISTER && tx->version != 1)
		return lb_errf(em, LB_EINVALID, "asset.register must carry version 1");
	if (tx->op == LB_ASSET_UPDATE && tx->version < 2)
		return lb_errf(em, LB_EINVALID, "asset.update must carry version 2 or more");
	if (tx->op == LB_ASSET_RETIRE)
		return tx->version >= 1 ? LB_OK
					: lb_errf(em, LB_EINVALID, "asset.retire names a version >= 1");
	if (tx->priv_env_len && (tx->priv_env_len < 4 || memcmp(tx->priv_env, "LBEV", 4)))
		return lb_errf(em, LB_EMALFORMED, "private part is not a level-1 envelope");
	struct lb_hexa h;
	int rc = lb_hexa_decode(tx->pub, tx->pub_len, &h, em);
	if (rc)
		return lb_errwrap(em, "public part: ");
	uint64_t v;
	if ((h.present & ~h.public_mask) != 0)
		rc = lb_errf(em, LB_EINVALID, "public part holds fields marked private");
	else if (!lb_hexa_get_u64(&h, "dynamic.version", &v) || v != tx->version)
		rc = lb_errf(em, LB_EINVALID,
			     "public part: dynamic.version must be present and equal %llu",
			     (unsigned long long)tx->version);
	else
		rc = lb_hexa_check(&h, true, em);
	lb_hexa_release(&h);
	return rc;
}
