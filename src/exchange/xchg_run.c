/*
 * Preparing a run on the executor's side: the distinct patients of the owner's table, each
 * with its commitment (what the chain records and checks consents against; salted with the
 * asset's secret salt key, so a guessed local id tests nothing) and the local id it comes from
 * (what the sandbox needs to leave an unusable patient's rows out). The table is read with the
 * sandbox's own CSV reader, so both see the same cells: a categorical patient column gives its
 * texts, a numeric one its numbers in shortest decimal form ("12", not "012"). Also the asset's
 * salt key file in the owner's node home.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "exchange/xchg_int.h"
#include "leben/algo.h"

static int cmp_patient(const void *a, const void *b)
{
	return memcmp(((const struct lb_xchg_patient *)a)->id,
		      ((const struct lb_xchg_patient *)b)->id, LB_HASH_LEN);
}

int lb_xchg_csv_patients(const uint8_t *csv, size_t len, const char *patient_col,
			 const uint8_t asset[LB_HASH_LEN],
			 const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN], struct lb_xchg_patient **out,
			 size_t *n, struct lb_errmsg *em)
{
	struct lb_table t;
	struct lb_xchg_patient *p = NULL;
	int rc;
	*out = NULL;
	*n = 0;
	lb_table_init(&t);
	if ((rc = lb_table_parse_csv((const char *)csv, len, 0, &t, em)))
		return rc;
	long col = lb_table_find(&t, patient_col);
	if (col < 0) {
		rc = lb_errf(em, LB_ENOTFOUND, "the table has no column '%s' naming the patient",
			     patient_col);
		goto out;
	}
	const struct lb_table_col *c = &t.cols[col];
	p = lb_malloc((t.nrows ? t.nrows : 1) * sizeof *p);
	if (!p) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t.nrows; i++) {
		double v = c->v[i];
		char text[64];
		const char *local = text;
		if (isnan(v)) {
			rc = lb_errf(em, LB_EMALFORMED, "data row %zu: the patient id is empty", i + 1);
			goto out;
		}
		if (c->kind == LB_COL_CATEGORICAL)
			local = c->levels[(size_t)v];
		else
			snprintf(text, sizeof text, "%.17g", v);
		if (strlen(local) > LB_XCHG_LOCAL_ID_MAX) {
			rc = lb_errf(em, LB_EMALFORMED, "data row %zu: the patient id is longer than %d bytes",
				     i + 1, LB_XCHG_LOCAL_ID_MAX);
			goto out;
		}
		snprintf(p[i].local, sizeof p[i].local, "%s", local);
		lb_xchg_patient_commit(p[i].id, asset, salt_key, local);
	}
	size_t m = 0;
	qsort(p, t.nrows, sizeof *p, cmp_patient);
	for (size_t i = 0; i < t.nrows; i++)
		if (!m || memcmp(p[m - 1].id, p[i].id, LB_HASH_LEN))
			p[m++] = p[i];
	*out = p;
	*n = m;
	p = NULL;
out:
	lb_free(p);
	lb_table_release(&t);
	return rc;
}

void lb_xchg_input_digest(uint8_t out[LB_HASH_LEN], const uint8_t req[LB_HASH_LEN],
			  const uint8_t esc[LB_HASH_LEN], const uint8_t exec[LB_ADDR_LEN],
			  const uint8_t *sealed, size_t slen, const uint8_t *patients, size_t npats,
			  const char *column, const uint8_t *sealed_salt, size_t sslen)
{
	struct lb_hasher hs;
	uint8_t n[8], m[8];
	for (int i = 0; i < 8; i++) {
		n[i] = (uint8_t)((uint64_t)npats >> (56 - 8 * i));
		m[i] = (uint8_t)((uint64_t)sslen >> (56 - 8 * i));
	}
	lb_hasher_init(&hs, "LEBEN-sealed-input-v2");
	lb_hasher_update(&hs, req, LB_HASH_LEN);
	lb_hasher_update(&hs, esc, LB_HASH_LEN);
	lb_hasher_update(&hs, exec, LB_ADDR_LEN);
	lb_hasher_update(&hs, n, sizeof n);
	lb_hasher_update(&hs, patients, npats * LB_HASH_LEN);
	lb_hasher_update(&hs, column, strlen(column));
	lb_hasher_update(&hs, m, sizeof m);
	lb_hasher_update(&hs, sealed_salt, sslen);
	lb_hasher_update(&hs, sealed, slen);
	lb_hasher_final(&hs, out);
}

/* The local text of row i's patient cell, as lb_xchg_csv_patients gives it. */
static const char *cell_text(const struct lb_table_col *c, size_t i, char text[64])
{
	if (c->kind == LB_COL_CATEGORICAL)
		return c->levels[(size_t)c->v[i]];
	snprintf(text, 64, "%.17g", c->v[i]);
	return text;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, LB_HASH_LEN);
}

int xchg_locals_of(const struct lb_table *t, const char *patient_col,
		   const uint8_t asset[LB_HASH_LEN], const uint8_t *salt_key, const uint8_t *ids,
		   size_t n, const char ***out, size_t *nout, struct lb_errmsg *em)
{
	*out = NULL;
	*nout = 0;
	long col = lb_table_find(t, patient_col);
	if (col < 0)
		return lb_errf(em, LB_EINVALID, "input table has no patient column '%s' to apply revoked "
						"consents", patient_col);
	if (!salt_key)
		return lb_errf(em, LB_EINVALID,
			       "the patients to leave out are given by commitment but the asset's salt "
			       "key is missing (the owner delivers it sealed with the data)");
	const struct lb_table_col *c = &t->cols[col];
	uint8_t *sorted = lb_malloc(n * LB_HASH_LEN + 1);
	const char **loc = lb_calloc(t->nrows + 1, sizeof *loc);
	if (!sorted || !loc) {
		lb_free(sorted);
		lb_free(loc);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	memcpy(sorted, ids, n * LB_HASH_LEN);
	qsort(sorted, n, LB_HASH_LEN, cmp_id);
	size_t m = 0;
	int rc = LB_OK;
	for (size_t i = 0; i < t->nrows && !rc; i++) {
		char text[64];
		uint8_t pid[LB_HASH_LEN];
		if (isnan(c->v[i]))
			continue;
		const char *local = cell_text(c, i, text);
		lb_xchg_patient_commit(pid, asset, salt_key, local);
		if (!bsearch(pid, sorted, n, LB_HASH_LEN, cmp_id))
			continue;
		if (!(loc[m] = lb_strdup(local)))
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
		else
			m++;
	}
	lb_free(sorted);
	if (rc) {
		xchg_locals_free(loc, m);
		return rc;
	}
	*out = loc;
	*nout = m;
	return LB_OK;
}

void xchg_locals_free(const char **loc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lb_free((void *)loc[i]);
	lb_free(loc);
}

int lb_xchg_salt_key(const char *home, const uint8_t asset[LB_HASH_LEN], bool create,
		     uint8_t key[LB_XCHG_SALT_KEY_LEN], struct lb_errmsg *em)
{
	char dir[4200], path[4300], hex[2 * LB_HASH_LEN + 1];
	uint8_t *d = NULL;
	size_t n = 0;
	lb_hex_encode(hex, asset, LB_HASH_LEN);
	snprintf(dir, sizeof dir, "%s/exchange/salts", home);
	snprintf(path, sizeof path, "%s/%s.key", dir, hex);
	int rc = lb_file_read(path, 4096, &d, &n, em);
	if (rc == LB_OK) {
		if (n != LB_XCHG_SALT_KEY_LEN)
			rc = lb_errf(em, LB_ECORRUPT, "%s holds %zu bytes, not a %d-byte salt key", path,
				     n, LB_XCHG_SALT_KEY_LEN);
		else
			memcpy(key, d, LB_XCHG_SALT_KEY_LEN);
		sodium_memzero(d, n);
		lb_free(d);
		return rc;
	}
	if (rc != LB_ENOTFOUND)
		return rc;
	if (!create)
		return lb_errf(em, LB_ENOTFOUND,
			       "no salt key for asset %s in this node home (%s): the asset's owner makes "
			       "it when it registers the asset's patients (leben exchange patients)",
			       hex, path);
	lb_errclear(em);
	randombytes_buf(key, LB_XCHG_SALT_KEY_LEN);
	if ((rc = lb_mkdirs(dir, 0700, em)) ||
	    (rc = lb_file_write(path, key, LB_XCHG_SALT_KEY_LEN, 0600, em))) {
		sodium_memzero(key, LB_XCHG_SALT_KEY_LEN);
		return rc;
	}
	return LB_OK;
}

static int cmp_pat_id(const void *key, const void *elem)
{
	return memcmp(key, ((const struct lb_xchg_patient *)elem)->id, LB_HASH_LEN);
}

int lb_xchg_table_exclusions(struct lb_ledger *l, const char *home,
			     const uint8_t request[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			     const uint8_t executor[LB_ADDR_LEN], const uint8_t *csv, size_t len,
			     const char *patient_col, char ***exclude, size_t *n_exclude,
			     size_t *n_used, struct lb_errmsg *em)
{
	uint8_t key[LB_XCHG_SALT_KEY_LEN], *ids = NULL;
	struct lb_xchg_patient *p = NULL;
	size_t n = 0, m = 0;
	json_t *plan = NULL;
	char **out = NULL;
	*exclude = NULL;
	*n_exclude = 0;
	int rc = lb_xchg_salt_key(home, asset, true, key, em);
	if (rc)
		return rc;
	rc = lb_xchg_csv_patients(csv, len, patient_col, asset, key, &p, &n, em);
	sodium_memzero(key, sizeof key);
	if (rc)
		return rc;
	if (!(ids = lb_malloc(n ? n * LB_HASH_LEN : 1)) || !(out = lb_calloc(n ? n : 1, sizeof *out))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(ids + i * LB_HASH_LEN, p[i].id, LB_HASH_LEN);
	if ((rc = lb_xchg_check_json(l, request, executor, ids, n, true, &plan, em)))
		goto done;
	json_t *ex = json_object_get(plan, "excluded");
	for (size_t i = 0; i < json_array_size(ex) && !rc; i++) {
		uint8_t id[LB_HASH_LEN];
		const struct lb_xchg_patient *hit;
		if (lb_hex_decode(id, LB_HASH_LEN, json_string_value(json_array_get(ex, i))) ||
		    !(hit = bsearch(id, p, n, sizeof *p, cmp_pat_id)))
			continue;
		if (!(out[m] = lb_strdup(hit->local)))
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
		else
			m++;
	}
	if (!rc) {
		*exclude = out;
		*n_exclude = m;
		if (n_used)
			*n_used = n - m;
		out = NULL;
	}
done:
	lb_xchg_exclusions_free(out, m);
	json_decref(plan);
	lb_free(ids);
	if (p)
		sodium_memzero(p, n * sizeof *p);
	lb_free(p);
	return rc;
}

void lb_xchg_exclusions_free(char **exclude, size_t n)
{
	if (!exclude)
		return;
	for (size_t i = 0; i < n; i++)
		lb_free(exclude[i]);
	lb_free(exclude);
}
