/*
 * The node's purge worker (docs/security.md "Purge"): it watches the directory chain for
 * data.purge requests that name this node's account as a holder and that it has not answered,
 * destroys what this home holds of the asset, and sends its data.purge.receipt signed with
 * the node key. Requests that do not name it are looked at once: what it holds of the asset
 * all the same (an input delivered for a run that never happened) is destroyed, without a
 * receipt. Its cursor (the first request that may still need something from this node) is
 * kept in <home>/data/purge.cursor, so a start resumes there instead of reading every request
 * from the first; requests committed while the node was down lie after the cursor and are
 * answered after the restart (a cursor past the chain's requests, as after the chain was
 * replaced, starts over from the first).
 *
 * What it destroys, in <home>:
 *   - vault objects of the asset (whole-asset purge): the "vault" and earlier "vaults" of the
 *     asset's entry in data/assets.json, crypto-shredded (lb_vault_shred);
 *   - what `leben data purge` already shredded here (data/purged/<asset>.json "objects":
 *     the old version of a patients' purge), shredded again (idempotent) and named;
 *   - the node's FHIR records when the asset is its FHIR asset (docs/fhir.md, "Vault,
 *     directory entry and purge"): all of them, or the request's patients' (lb_fhir_node_purge),
 *     named by their object names;
 *   - inputs delivered for off-site or integrated runs on the asset
 *     (exchange/inputs/<request>.json, whose request names the asset) and the table placed
 *     for studies across nodes (exchange/assets/<asset>.csv): overwritten and unlinked; named
 *     by the BLAKE2b-256 of the file.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leben/crypto.h"
#include "leben/data_dedup.h"
#include "leben/data_purge.h"
#include "leben/data_vault.h"
#include "leben/exchange.h"
#include "leben/fhir_node.h"
#include "leben/ledger.h"
#include "leben/node.h"

#define SENT_MAX 256

struct lb_purge_worker {
	struct lb_ledger *ledger;
	char home[4096];
	uint8_t addr[LB_ADDR_LEN];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, started;
	uint64_t from;
	uint8_t sent[SENT_MAX][32]; /* receipts submitted, not yet seen committed */
	size_t nsent;
};

struct objs {
	uint8_t h[LB_PURGE_OBJECTS_MAX][32];
	size_t n;
};

static void add_obj(struct objs *o, const uint8_t h[32])
{
	for (size_t i = 0; i < o->n; i++)
		if (!memcmp(o->h[i], h, 32))
			return;
	if (o->n < LB_PURGE_OBJECTS_MAX)
		memcpy(o->h[o->n++], h, 32);
}

/* Wipe a plain file the node kept (an input, a study table) and list it by its BLAKE2b hash
 * in the receipt; a file that cannot be read is left alone, one that cannot be wiped logged. */
static void wipe_listed(const char *path, struct objs *o)
{
	uint8_t *data, h[32];
	size_t len;
	struct lb_errmsg em;
	if (lb_file_read(path, (size_t)1 << 32, &data, &len, &em))
		return;
	lb_digest_blake2b(data, len, h);
	lb_free(data);
	if (lb_vault_wipe_file(path, &em) == LB_OK)
		add_obj(o, h);
	else
		lb_log(LB_LOG_WARN, "purge: %s", em.text);
}

static void shred_ref(struct lb_purge_worker *w, const char *ref, struct objs *o)
{
	char vdir[4200];
	uint8_t h[32];
	bool held = false;
	struct lb_errmsg em;
	snprintf(vdir, sizeof vdir, "%s/vault", w->home);
	if (!ref || lb_hex_decode(h, 32, ref))
		return;
	if (lb_vault_shred(vdir, ref, &held, &em))
		lb_log(LB_LOG_WARN, "purge: shredding vault object %s failed: %s", ref, em.text);
	else
		add_obj(o, h);
}

/* The vault objects of the asset in this home (whole-asset purge) and those the CLI shredded
 * already (patients' purge, or an earlier run). */
static void shred_vault(struct lb_purge_worker *w, const char *asset, bool whole,
			struct objs *o)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/data/purged/%s.json", w->home, asset);
	json_t *note = json_load_file(path, 0, NULL);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(note, "objects"), i, v)
		shred_ref(w, json_string_value(v), o);
	json_decref(note);
	if (!whole)
		return;
	snprintf(path, sizeof path, "%s/data/assets.json", w->home);
	json_t *all = json_load_file(path, 0, NULL);
	json_t *map = json_object_get(all, "assets");
	json_t *e = json_object_get(map ? map : all, asset);
	shred_ref(w, json_string_value(json_object_get(e, "vault")), o);
	json_array_foreach(json_object_get(e, "vaults"), i, v)
		shred_ref(w, json_string_value(v), o);
	json_decref(all);
}

static void fhir_obj(void *ctx, const uint8_t obj[32])
{
	add_obj(ctx, obj);
}

/* The node's FHIR records when the asset is the one describing them (docs/fhir.md): all of
 * them, or those of the request's patients. */
static void shred_fhir(struct lb_purge_worker *w, const struct lb_purge_todo *t, struct objs *o)
{
	json_t *status = NULL, *pats = json_array();
	struct lb_errmsg em;
	bool held;
	uint8_t *cm = NULL;
	size_t n = 0;
	if (t->scope != LB_PURGE_ASSET &&
	    lb_purge_status_json(w->ledger, t->asset_id, &status, &em) == LB_OK) {
		char req[65];
		lb_hex_encode(req, t->request, 32);
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(status, "requests"), i, r)
			if (!strcmp(json_string_value(json_object_get(r, "request")), req))
				json_array_extend(pats, json_object_get(r, "patients"));
		cm = lb_calloc(json_array_size(pats) + 1, 32);
		json_array_foreach(pats, i, r)
			if (cm && !lb_hex_decode(cm + 32 * n, 32, json_string_value(r)))
				n++;
	}
	if ((t->scope == LB_PURGE_ASSET || cm) &&
	    lb_fhir_node_purge(w->ledger, w->home, t->asset_id, t->scope == LB_PURGE_ASSET, cm, n,
			       fhir_obj, o, &held, &em))
		lb_log(LB_LOG_WARN, "purge: FHIR records: %s", em.text);
	lb_free(cm);
	json_decref(pats);
	json_decref(status);
}

/* Inputs delivered here for runs on the asset. */
static void wipe_inputs(struct lb_purge_worker *w, const char *asset, struct objs *o)
{
	char dir[4300];
	snprintf(dir, sizeof dir, "%s/exchange/inputs", w->home);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		uint8_t req[32];
		if (l != 69 || strcmp(de->d_name + 64, ".json"))
			continue;
		char hex[65];
		memcpy(hex, de->d_name, 64);
		hex[64] = 0;
		json_t *r = NULL;
		struct lb_errmsg em;
		if (lb_hex_decode(req, 32, hex) || lb_xchg_request_json(w->ledger, req, &r, &em))
			continue;
		const char *a = json_string_value(json_object_get(r, "asset"));
		bool mine = a && !strcmp(a, asset);
		json_decref(r);
		if (!mine)
			continue;
		char path[4400];
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			continue;
		wipe_listed(path, o);
	}
	closedir(d);
}

/* The table the owner placed for studies across nodes (<home>/exchange/assets/<asset>.csv):
 * it holds every patient's rows, so any purge of the asset removes it (the owner places the
 * new version again after a patients' purge). */
static void wipe_study_table(struct lb_purge_worker *w, const char *asset, struct objs *o)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/exchange/assets/%s.csv", w->home, asset);
	wipe_listed(path, o);
}

static bool was_sent(struct lb_purge_worker *w, const uint8_t id[32])
{
	for (size_t i = 0; i < w->nsent; i++)
		if (!memcmp(w->sent[i], id, 32))
			return true;
	return false;
}

static void answer(struct lb_purge_worker *w, const struct lb_purge_todo *t)
{
	char asset[65], req[65];
	lb_hex_encode(asset, t->asset_id, 32);
	lb_hex_encode(req, t->request, 32);
	struct objs *o = lb_calloc(1, sizeof *o);
	if (!o)
		return;
	shred_vault(w, asset, t->scope == LB_PURGE_ASSET, o);
	shred_fhir(w, t, o);
	wipe_inputs(w, asset, o);
	wipe_study_table(w, asset, o);
	if (!t->named) { /* not a holder on record: destroy what is here all the same */
		if (o->n)
			lb_log(LB_LOG_INFO, "purge request %s for asset %s: %zu object(s) destroyed "
					    "(this node is not named as a holder; no receipt)",
			       req, asset, o->n);
		lb_free(o);
		return;
	}
	struct lb_purge_receipt_tx r = {.nobjects = o->n, .objects = &o->h[0][0]};
	memcpy(r.request, t->request, 32);
	memcpy(r.asset_id, t->asset_id, 32);
	snprintf(r.note, sizeof r.note, "%s", o->n ? "crypto-shredded and deleted" : "held nothing");
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	uint8_t id[LB_HASH_LEN];
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_purge_receipt_encode(&r, &b);
	if (!rc)
		rc = lb_ledger_node_submit(w->ledger, LB_CHAIN_DIRECTORY, LB_TX_DATA_PURGE_RECEIPT,
					   b.data, b.len, id, &em);
	lb_buf_release(&b);
	if (rc) {
		lb_log(LB_LOG_WARN, "purge request %s: the receipt was not admitted: %s", req,
		       em.text);
	} else {
		lb_log(LB_LOG_INFO, "purge request %s for asset %s: %zu object(s) destroyed, receipt "
				    "sent",
		       req, asset, o->n);
		if (w->nsent == SENT_MAX)
			w->nsent = 0;
		memcpy(w->sent[w->nsent++], t->request, 32);
	}
	lb_free(o);
}

/* The cursor kept in the home: 0 when there is none or it is unreadable. */
static uint64_t cursor_load(const struct lb_purge_worker *w)
{
	char path[4200];
	uint8_t *text = NULL;
	size_t n = 0;
	uint64_t v = 0;
	snprintf(path, sizeof path, "%s/data/purge.cursor", w->home);
	if (lb_file_read(path, 64, &text, &n, NULL) == LB_OK && n > 0 && n < 32) {
		char buf[32];
		memcpy(buf, text, n);
		buf[n] = 0;
		char *end = NULL;
		unsigned long long x = strtoull(buf, &end, 10);
		if (end != buf && (*end == '\n' || *end == 0))
			v = (uint64_t)x;
	}
	lb_free(text);
	return v;
}

static void cursor_save(const struct lb_purge_worker *w)
{
	char path[4200], dir[4200], buf[32];
	struct lb_errmsg em;
	lb_errclear(&em);
	snprintf(dir, sizeof dir, "%s/data", w->home);
	snprintf(path, sizeof path, "%s/data/purge.cursor", w->home);
	int n = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)w->from);
	if (lb_mkdirs(dir, 0700, &em) || lb_file_write(path, buf, (size_t)n, 0600, &em))
		lb_log(LB_LOG_WARN, "purge: the cursor was not saved (the next start reads the "
				    "requests again from the first): %s",
		       em.text);
}

static void *run(void *arg)
{
	struct lb_purge_worker *w = arg;
	uint64_t seen = UINT64_MAX, ticks = 0;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		pthread_mutex_unlock(&w->mu);
		lb_fhir_node_tick(w->ledger, w->home); /* the FHIR directory entry kept in sync */
		pthread_mutex_lock(&w->mu);
		uint64_t h = lb_ledger_height(w->ledger, LB_CHAIN_DIRECTORY);
		/* each new directory block, and every few seconds (a refused receipt is retried) */
		if (h != seen || ++ticks % 20 == 0) {
			if (ticks % 40 == 0) /* a receipt lost before its block is sent again */
				w->nsent = 0;
			seen = h;
			pthread_mutex_unlock(&w->mu);
			struct lb_purge_todo *todo = NULL;
			size_t n = 0;
			struct lb_errmsg em;
			uint64_t from = w->from;
			if (lb_purge_pending(w->ledger, w->addr, &w->from, &todo, &n, &em) == LB_OK) {
				for (size_t i = 0; i < n; i++)
					if (!was_sent(w, todo[i].request))
						answer(w, &todo[i]);
				if (w->from != from) /* after the work: a crash before it redoes it */
					cursor_save(w);
			}
			lb_free(todo);
			pthread_mutex_lock(&w->mu);
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!w->stop)
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int lb_purge_worker_start(struct lb_purge_worker **out, struct lb_ledger *l, const char *home,
			  struct lb_errmsg *em)
{
	*out = NULL;
	uint8_t pk[LB_PUBKEY_LEN];
	if (lb_ledger_node_pk(l, pk, em))
		return LB_OK; /* no node key: nothing to sign receipts with */
	struct lb_purge_worker *w = lb_calloc(1, sizeof *w);
	if (!w)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	w->ledger = l;
	snprintf(w->home, sizeof w->home, "%s", home);
	lb_addr_from_pubkey(w->addr, pk);
	w->from = cursor_load(w);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, run, w)) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		lb_free(w);
		return lb_errf(em, LB_EINTERNAL, "cannot start the purge worker");
	}
	w->started = true;
	*out = w;
	return LB_OK;
}

void lb_purge_worker_stop(struct lb_purge_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	lb_free(w);
}
