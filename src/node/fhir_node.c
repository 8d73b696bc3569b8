/*
 * The node's FHIR records joined to its vault, directory entry and purge
 * (include/leben/fhir_node.h, docs/fhir.md "Vault, directory entry and purge").
 *
 * <home>/fhir/asset.json keeps the directory asset that describes the store:
 *   {"asset_id", "created" (ms, fixed for the asset's life), "version", "head" and "raw" (the
 *    last committed version, the BLAKE2b-256 of its payload, its raw.blake2b), "pending":
 *    {"tx", "version", "head", "raw"} while a version waits for its block}.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/data_hexa.h"
#include "leben/data_purge.h"
#include "leben/data_tx.h"
#include "leben/exchange.h"
#include "leben/fhir.h"
#include "leben/fhir_node.h"
#include "leben/json_file.h"
#include "leben/ledger.h"
#include "leben/tx.h"

static atomic_int changed = 1;       /* publish once after each start, then on change */
static uint64_t next_ms;             /* not before (throttle) */

void lb_fhir_node_changed(void)
{
	atomic_store(&changed, 1);
}

/* The store key: H("LEBEN-fhir-store-v1" || the node key's pairwise secret with the public
 * key in <dir>/store.pub), that pair made once and its secret half wiped at once. */
static int store_key(struct lb_ledger *l, const char *dir, uint8_t key[32], struct lb_errmsg *em)
{
	char path[4300], hex[2 * LB_PUBKEY_LEN + 2] = "";
	uint8_t pk[LB_PUBKEY_LEN], secret[32];
	snprintf(path, sizeof path, "%s/store.pub", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		struct lb_keypair kp;
		lb_keypair_generate(&kp);
		lb_hex_encode(hex, kp.pk, LB_PUBKEY_LEN);
		lb_keypair_wipe(&kp);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			bool ok = write(fd, hex, 2 * LB_PUBKEY_LEN) == 2 * LB_PUBKEY_LEN;
			if (close(fd) || !ok)
				return lb_errf(em, LB_EIO, "%s: could not be written", path);
		} else if (errno != EEXIST) {
			return lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
		}
		f = fopen(path, "r"); /* ours, or the one another request made first */
	}
	bool ok = f && fgets(hex, sizeof hex, f) && !lb_hex_decode(pk, sizeof pk, hex);
	if (f)
		fclose(f);
	if (!ok)
		return lb_errf(em, LB_ECORRUPT, "%s is not a public key in hex", path);
	int rc = lb_ledger_node_agree(l, pk, secret, em);
	if (rc)
		return rc;
	uint8_t m[19 + 32];
	memcpy(m, "LEBEN-fhir-store-v1", 19);
	memcpy(m + 19, secret, 32);
	lb_hash(key, m, sizeof m);
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(m, sizeof m);
	return LB_OK;
}

int lb_fhir_node_store_open(struct lb_ledger *l, const char *home, struct lb_fhir_store **st,
			    struct lb_errmsg *em)
{
	if (!home)
		return lb_errf(em, LB_EUNAVAILABLE, "this node has no home directory for FHIR data");
	char dir[4200], path[4300];
	uint8_t key[32];
	snprintf(dir, sizeof dir, "%s/fhir", home);
	mkdir(dir, 0700);
	int rc = store_key(l, dir, key, em);
	if (rc)
		return rc;
	snprintf(path, sizeof path, "%s/fhir.db", dir);
	rc = lb_fhir_store_open(st, path, em);
	if (!rc)
		lb_fhir_store_seal(*st, key);
	sodium_memzero(key, sizeof key);
	return rc;
}

/* <home>/fhir/asset.json: the node's FHIR directory entry (asset id, version, head, the
 * pending version); NULL and em set when the file is damaged (left for the operator). */
static json_t *asset_load(const char *home, struct lb_errmsg *em)
{
	char p[4300];
	json_t *a;
	snprintf(p, sizeof p, "%s/fhir/asset.json", home);
	return lb_json_file_load(p, &a, em) ? NULL : a;
}

static int asset_save(const char *home, json_t *a, struct lb_errmsg *em)
{
	char p[4300];
	snprintf(p, sizeof p, "%s/fhir/asset.json", home);
	return lb_json_file_save(p, a, em);
}

int lb_fhir_node_asset(const char *home, uint8_t id[32])
{
	struct lb_errmsg em;
	json_t *a = asset_load(home, &em);
	if (!a)
		return em.code;
	const char *h = json_string_value(json_object_get(a, "asset_id"));
	int rc = h && !lb_hex_decode(id, 32, h) ? LB_OK : LB_ENOTFOUND;
	json_decref(a);
	return rc;
}

/* The extractor name the entry carries (dynamic.extractor): how the node knows its own FHIR
 * entry among the directory txs its key signed. */
#define FHIR_EXTRACTOR "leben-fhir-endpoint/1"

/* The node key's address, as text (the entry's basic.creator). */
static int node_addr(struct lb_ledger *l, char text[LB_ADDR_TEXT_LEN + 1], struct lb_errmsg *em)
{
	uint8_t pk[LB_PUBKEY_LEN], addr[LB_ADDR_LEN];
	int rc = lb_ledger_node_pk(l, pk, em);
	if (rc)
		return rc;
	lb_addr_from_pubkey(addr, pk);
	lb_addr_encode(text, addr);
	return LB_OK;
}

/* The committed entry of tx raw (a data.register or data.update this node signed) as
 * asset.json keeps it, or NULL when it is not the FHIR endpoint's entry. */
static json_t *entry_of_tx(const uint8_t *raw, size_t len)
{
	struct lb_tx tx;
	struct lb_asset_tx at;
	struct lb_hexa h;
	json_t *o = NULL;
	if (lb_tx_decode(&tx, raw, len, NULL) ||
	    lb_asset_tx_decode(tx.payload, tx.payload_len, &at, NULL) ||
	    lb_hexa_decode(at.pub, at.pub_len, &h, NULL))
		return NULL;
	const char *ex = lb_hexa_get_str(&h, "dynamic.extractor");
	uint64_t created = 0;
	int rid = lb_hexa_field_id("raw.blake2b");
	if (ex && !strcmp(ex, FHIR_EXTRACTOR) && lb_hexa_get_u64(&h, "basic.created", &created) &&
	    rid >= 0 && (h.present >> rid & 1)) {
		char id[65], head[65], rawhex[65];
		uint8_t hh[32];
		lb_hash(hh, tx.payload, tx.payload_len);
		lb_hex_encode(id, at.asset_id, 32);
		lb_hex_encode(head, hh, 32);
		lb_hex_encode(rawhex, h.v[rid].b, 32);
		o = json_pack("{s:s,s:I,s:I,s:s,s:s}", "asset_id", id, "created",
			      (json_int_t)created, "version", (json_int_t)at.version, "head", head,
			      "raw", rawhex);
	}
	lb_hexa_release(&h);
	return o;
}

/* The node's FHIR entry as the directory chain has it: the newest valid data.register or
 * data.update signed by the node key that describes the FHIR endpoint (blocks read from the
 * tip down); an empty object when there is none or its asset was purged whole (the next
 * write registers a new one). */
static int asset_from_chain(struct lb_ledger *l, json_t **out, struct lb_errmsg *em)
{
	char me[LB_ADDR_TEXT_LEN + 1];
	int rc = node_addr(l, me, em);
	if (rc)
		return rc;
	json_t *b = NULL, *found = NULL;
	if ((rc = lb_ledger_block_json(l, LB_CHAIN_DIRECTORY, UINT64_MAX, &b, em)))
		return rc;
	uint64_t tip = (uint64_t)json_integer_value(json_object_get(b, "height"));
	json_decref(b);
	for (uint64_t hgt = tip; hgt > 0 && !found && !rc; hgt--) {
		if ((rc = lb_ledger_block_json(l, LB_CHAIN_DIRECTORY, hgt, &b, em)))
			break;
		json_t *txs = json_object_get(b, "txs");
		for (size_t i = json_array_size(txs); i-- > 0 && !found;) {
			json_t *t = json_array_get(txs, i);
			const char *type = json_string_value(json_object_get(t, "type"));
			const char *snd = json_string_value(json_object_get(t, "sender"));
			uint8_t id[LB_HASH_LEN], *raw;
			size_t len;
			int chain;
			if (!json_is_true(json_object_get(t, "valid")) || !snd || strcmp(snd, me) ||
			    !type || (strcmp(type, "data.register") && strcmp(type, "data.update")) ||
			    lb_hex_decode(id, LB_HASH_LEN, json_string_value(json_object_get(t, "id"))) ||
			    lb_ledger_tx_raw(l, id, &chain, &raw, &len))
				continue;
			found = entry_of_tx(raw, len);
			lb_free(raw);
		}
		json_decref(b);
	}
	if (rc) {
		json_decref(found);
		return rc;
	}
	uint8_t aid[32];
	bool whole = false;
	uint64_t when;
	if (found && !lb_hex_decode(aid, 32, json_string_value(json_object_get(found, "asset_id"))))
		lb_purge_of(l, aid, &whole, &when, NULL);
	if (found && whole)
		json_object_clear(found);
	*out = found ? found : json_object();
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* Replace a damaged <home>/fhir/asset.json by the entry the chain holds (asset_from_chain);
 * the damaged file is renamed to asset.json.damaged-<ms> (its name in kept). */
static int asset_repair(struct lb_ledger *l, const char *home, char *kept, size_t keptsz,
			struct lb_errmsg *em)
{
	char p[4300];
	json_t *a = NULL;
	snprintf(p, sizeof p, "%s/fhir/asset.json", home);
	if (kept && keptsz)
		kept[0] = 0;
	int rc = asset_from_chain(l, &a, em);
	if (rc)
		return rc;
	struct stat sb;
	if (!stat(p, &sb)) { /* the damaged file stays beside, for the operator */
		char k[4400];
		snprintf(k, sizeof k, "%s.damaged-%llu", p, (unsigned long long)lb_now_ms());
		if (rename(p, k)) {
			json_decref(a);
			return lb_errf(em, LB_EIO, "%s: cannot move it to %s: %s", p, k,
				       strerror(errno));
		}
		if (kept && keptsz)
			snprintf(kept, keptsz, "%s", k);
	}
	rc = json_object_size(a) ? asset_save(home, a, em) : LB_OK; /* none yet: start afresh */
	json_decref(a);
	lb_fhir_node_changed(); /* describe the store again against what the chain holds */
	return rc;
}

/* FHIR code systems as the directory writes them. */
static const char *short_system(const char *sys, size_t *n)
{
	static const char *const map[][2] = {{"http://loinc.org", "loinc"},
					     {"http://snomed.info/sct", "snomed"},
					     {"http://hl7.org/fhir/sid/icd-10", "icd10"},
					     {"http://hl7.org/fhir/sid/icd-10-cm", "icd10cm"}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		size_t l = strlen(map[i][0]);
		if (!strncmp(sys, map[i][0], l) && sys[l] == '|') {
			*n = l + 1;
			return map[i][1];
		}
	}
	return NULL;
}

/* The entry's hexahedron, all public (the private part stays empty): the counts and codes
 * come from the store's index, never from a record. */
static int describe(struct lb_fhir_store *st, const char *addr, uint64_t created,
		    uint64_t version, struct lb_hexa *h, struct lb_errmsg *em)
{
	json_t *f = lb_fhir_store_facets(st);
	if (!f)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	lb_hexa_init(h);
	char num[32], *summary = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = summary ? LB_OK : LB_ENOMEM;
	uint8_t raw[32];
	if (!rc) { /* what the entry describes: the node, the asset's birth and the facets */
		crypto_generichash_state gs;
		crypto_generichash_init(&gs, NULL, 0, 32);
		crypto_generichash_update(&gs, (const uint8_t *)"LEBEN-fhir-asset-v1", 19);
		crypto_generichash_update(&gs, (const uint8_t *)addr, strlen(addr));
		crypto_generichash_update(&gs, (const uint8_t *)&created, sizeof created);
		crypto_generichash_update(&gs, (const uint8_t *)summary, strlen(summary));
		crypto_generichash_final(&gs, raw, 32);
	}
	free(summary);
	if (!rc)
		rc = lb_hexa_set_str(h, "basic.name", "FHIR records");
	if (!rc)
		rc = lb_hexa_set_str(h, "basic.description",
				     "FHIR R4 resources the institution wrote to its node's /fhir "
				     "endpoint, kept in the node's vault");
	if (!rc)
		rc = lb_hexa_set_str(h, "basic.category", "clinical");
	if (!rc)
		rc = lb_hexa_set_u64(h, "basic.volume",
				     (uint64_t)json_integer_value(json_object_get(f, "volume")));
	if (!rc)
		rc = lb_hexa_set_str(h, "basic.creator", addr);
	if (!rc)
		rc = lb_hexa_set_u64(h, "basic.created", created);
	if (!rc)
		rc = lb_hexa_set_str(h, "data.format", "fhir");
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(f, "types"), k, v) {
		char key[80];
		snprintf(key, sizeof key, "resources.%s", k);
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		if (!rc)
			rc = lb_hexa_map_set(h, "data.features", key, num);
	}
	snprintf(num, sizeof num, "%lld",
		 (long long)json_integer_value(json_object_get(f, "patients")));
	if (!rc)
		rc = lb_hexa_map_set(h, "data.features", "patients", num);
	static const char *const dates[] = {"date_min", "date_max"};
	for (size_t i = 0; i < 2 && !rc; i++)
		if (json_object_get(f, dates[i]))
			rc = lb_hexa_map_set(h, "data.features", dates[i],
					     json_string_value(json_object_get(f, dates[i])));
	size_t i;
	json_array_foreach(json_object_get(f, "codes"), i, v) {
		const char *c = json_string_value(v);
		size_t skip;
		const char *sys = short_system(c, &skip);
		char code[300];
		if (!sys || rc)
			continue;
		snprintf(code, sizeof code, "%s|%s", sys, c + skip);
		rc = lb_hexa_list_add(h, "semantic.codes", code);
		struct lb_errmsg ce;
		if (!rc && lb_hexa_check(h, false, &ce)) /* a code the directory refuses stays out */
			lb_hexa_clear_field(h, lb_hexa_field_id("semantic.codes"));
	}
	json_decref(f);
	if (!rc)
		rc = lb_hexa_set_str(h, "dynamic.extractor", FHIR_EXTRACTOR);
	if (!rc)
		rc = lb_hexa_set_str(h, "dynamic.sync", "watch");
	if (!rc)
		rc = lb_hexa_set_str(h, "dynamic.storage", "vault");
	if (!rc)
		rc = lb_hexa_set_u64(h, "dynamic.version", version);
	if (!rc)
		rc = lb_hexa_set_bytes(h, "raw.blake2b", raw, 32);
	/* the owner's score: every record passed lb_fhir_validate (structure, dates, references
	 * at write time, required codes and code check digits) before it was stored */
	if (!rc)
		rc = lb_hexa_set_u64(h, "audit.score", 10000);
	if (!rc) {
		static const char *const facets[] = {"basic", "semantic", "data", "dynamic", "raw",
						     "audit"};
		for (size_t j = 0; j < 6 && !rc; j++)
			rc = lb_hexa_set_public(h, facets[j], true);
	}
	if (rc) {
		lb_hexa_release(h);
		return lb_errf(em, rc, "describing the FHIR store: %s", lb_strerror(rc));
	}
	return LB_OK;
}

/* Send the next version (or the first) of the entry. */
static int publish(struct lb_ledger *l, const char *home, json_t *a, struct lb_errmsg *em)
{
	uint8_t aid[32], prev[32];
	char addr_text[LB_ADDR_TEXT_LEN + 1];
	int rc = node_addr(l, addr_text, em);
	if (rc)
		return rc;
	const char *idh = json_string_value(json_object_get(a, "asset_id"));
	uint64_t version = (uint64_t)json_integer_value(json_object_get(a, "version")) + 1;
	uint64_t created = (uint64_t)json_integer_value(json_object_get(a, "created"));
	if (!idh) {
		version = 1;
		created = lb_now_ms();
	} else if (lb_hex_decode(aid, 32, idh) ||
		   lb_hex_decode(prev, 32, json_string_value(json_object_get(a, "head")))) {
		return lb_errf(em, LB_ECORRUPT, "%s/fhir/asset.json: asset_id or head is not hex",
			       home);
	}
	struct lb_fhir_store *st;
	if ((rc = lb_fhir_node_store_open(l, home, &st, em)))
		return rc;
	struct lb_hexa h;
	rc = describe(st, addr_text, created, version, &h, em);
	lb_fhir_store_close(st);
	if (rc)
		return rc;
	uint64_t volume = 0;
	if (version == 1 && (!lb_hexa_get_u64(&h, "basic.volume", &volume) || !volume)) {
		lb_hexa_release(&h); /* no record yet (only metadata was asked): no entry */
		return LB_OK;
	}
	/* the same facets as the committed version (a restart, a write that changed no count):
	 * nothing to send */
	char rawhex[65];
	lb_hex_encode(rawhex, h.v[lb_hexa_field_id("raw.blake2b")].b, 32);
	const char *was = json_string_value(json_object_get(a, "raw"));
	if (version > 1 && was && !strcmp(was, rawhex)) {
		lb_hexa_release(&h);
		return LB_OK;
	}
	struct lb_asset_tx t = {.op = version == 1 ? LB_ASSET_REGISTER : LB_ASSET_UPDATE,
				.version = version};
	if (version == 1)
		lb_asset_id(t.asset_id, addr_text, h.v[lb_hexa_field_id("raw.blake2b")].b, created);
	else {
		memcpy(t.asset_id, aid, 32);
		memcpy(t.previous, prev, 32);
	}
	struct lb_buf pub, payload;
	lb_buf_init(&pub, LB_HEXA_MAX_ENCODED);
	lb_buf_init(&payload, LB_TX_PAYLOAD_MAX);
	rc = lb_hexa_encode(&h, &pub);
	lb_hexa_release(&h);
	t.pub = pub.data;
	t.pub_len = pub.len;
	uint8_t txid[LB_HASH_LEN], head[32];
	if (!rc && !(rc = lb_asset_tx_check(&t, em)) && !(rc = lb_asset_tx_encode(&t, &payload))) {
		lb_hash(head, payload.data, payload.len);
		rc = lb_ledger_node_submit(l, LB_CHAIN_DIRECTORY,
					   version == 1 ? LB_TX_DATA_REGISTER : LB_TX_DATA_UPDATE,
					   payload.data, payload.len, txid, em);
	} else if (rc && !em->text[0]) {
		lb_errf(em, rc, "encoding the FHIR entry: %s", lb_strerror(rc));
	}
	lb_buf_release(&pub);
	lb_buf_release(&payload);
	if (rc)
		return rc;
	char hx[65], th[65], hh[65];
	lb_hex_encode(hx, t.asset_id, 32);
	lb_hex_encode(th, txid, 32);
	lb_hex_encode(hh, head, 32);
	json_object_set_new(a, "asset_id", json_string(hx));
	json_object_set_new(a, "created", json_integer((json_int_t)created));
	json_object_set_new(a, "pending", json_pack("{s:s,s:I,s:s,s:s}", "tx", th, "version",
						     (json_int_t)version, "head", hh, "raw", rawhex));
	if (version == 1) { /* patients are named on the chain by commitments under this key */
		uint8_t skey[LB_XCHG_SALT_KEY_LEN];
		if (lb_xchg_salt_key(home, t.asset_id, true, skey, em) == LB_OK)
			sodium_memzero(skey, sizeof skey);
	}
	return asset_save(home, a, em);
}

/* The pending version's fate: committed (it becomes the current one), refused (dropped; a
 * purged asset is forgotten so that the next write registers a new one), or still waiting
 * (*waiting). */
static void settle(struct lb_ledger *l, const char *home, json_t *a, bool *waiting)
{
	json_t *p = json_object_get(a, "pending");
	*waiting = false;
	if (!p)
		return;
	uint8_t id[32];
	json_t *tx = NULL;
	struct lb_errmsg em;
	if (lb_hex_decode(id, 32, json_string_value(json_object_get(p, "tx"))) ||
	    lb_ledger_tx_json(l, id, &tx, &em)) {
		json_object_del(a, "pending"); /* lost before admission: send again */
		if (json_integer_value(json_object_get(a, "version")) == 0)
			json_object_clear(a);
		asset_save(home, a, &em);
		return;
	}
	const char *s = json_string_value(json_object_get(tx, "status"));
	if (s && !strcmp(s, "committed")) {
		json_object_set(a, "version", json_object_get(p, "version"));
		json_object_set(a, "head", json_object_get(p, "head"));
		json_object_set(a, "raw", json_object_get(p, "raw"));
		json_object_del(a, "pending");
		asset_save(home, a, &em);
	} else if (s && strcmp(s, "pending")) {
		json_t *e = json_object_get(tx, "error");
		lb_log(LB_LOG_WARN, "FHIR directory entry: version %lld refused: %s",
		       (long long)json_integer_value(json_object_get(p, "version")),
		       json_string_value(json_object_get(e, "message")));
		uint8_t aid[32];
		bool whole = false;
		uint64_t when;
		if (!lb_fhir_node_asset(home, aid))
			lb_purge_of(l, aid, &whole, &when, NULL);
		if (whole || json_integer_value(json_object_get(a, "version")) == 0)
			json_object_clear(a);
		else
			json_object_del(a, "pending");
		asset_save(home, a, &em);
		lb_fhir_node_changed(); /* describe again: a new asset after a whole purge */
		if (!whole) /* a refusal for another reason: not again at once */
			next_ms = lb_now_ms() + 30000;
	} else {
		*waiting = true;
	}
	json_decref(tx);
}

void lb_fhir_node_tick(struct lb_ledger *l, const char *home)
{
	char p[4300];
	struct stat sb;
	snprintf(p, sizeof p, "%s/fhir/fhir.db", home);
	if (stat(p, &sb)) /* no FHIR records on this node: no entry */
		return;
	struct lb_errmsg lem;
	json_t *a = asset_load(home, &lem);
	static bool told; /* a file that cannot be mended here: said once until it is */
	if (!a && lem.code == LB_ECORRUPT && !lb_ledger_pending(l, LB_CHAIN_DIRECTORY)) {
		/* damaged: rebuilt from the chain (nothing of the node's waits for a block, so the
		 * chain has the whole entry), the damaged file kept beside it */
		char kept[4400], why[sizeof lem.text];
		snprintf(why, sizeof why, "%s", lem.text);
		if (asset_repair(l, home, kept, sizeof kept, &lem) == LB_OK) {
			lb_log(LB_LOG_WARN,
			       "FHIR directory entry: %s; rebuilt it from the directory chain (the "
			       "damaged file is kept as %s)",
			       why, kept);
			a = asset_load(home, &lem);
		}
	}
	if (!a) {
		if (!told)
			lb_log(LB_LOG_WARN,
			       "FHIR directory entry not kept: %s (a damaged file is rebuilt from the "
			       "directory chain once no directory tx waits for a block; a file that "
			       "cannot be read or moved needs its permissions or disk mended)",
			       lem.text);
		told = true;
		return;
	}
	told = false;
	bool waiting;
	settle(l, home, a, &waiting);
	uint64_t now = lb_now_ms();
	if (!waiting && now >= next_ms && atomic_exchange(&changed, 0)) {
		struct lb_errmsg em;
		lb_errclear(&em);
		uint64_t t0 = lb_mono_ns();
		if (publish(l, home, a, &em)) {
			lb_log(LB_LOG_WARN, "FHIR directory entry not sent (retried): %s", em.text);
			atomic_store(&changed, 1);
		}
		uint64_t took = (lb_mono_ns() - t0) / 1000000;
		next_ms = lb_now_ms() + (took * 10 > 2000 ? took * 10 : 2000);
	}
	json_decref(a);
}

struct purge_ctx {
	const uint8_t *asset, *patients;
	size_t npatients;
	uint8_t skey[LB_XCHG_SALT_KEY_LEN];
	json_t *ids; /* Patient ids whose commitment was named */
	void (*fn)(void *ctx, const uint8_t obj[32]);
	void *ctx;
};

static int match_patient(void *ctx, const char *id)
{
	struct purge_ctx *c = ctx;
	uint8_t cm[32];
	lb_xchg_patient_commit(cm, c->asset, c->skey, id);
	for (size_t i = 0; i < c->npatients; i++)
		if (!memcmp(cm, c->patients + 32 * i, 32))
			return json_array_append_new(c->ids, json_string(id)) ? LB_ENOMEM : LB_OK;
	return LB_OK;
}

static void destroyed(void *ctx, const char *type, const char *id, const uint8_t obj[32])
{
	struct purge_ctx *c = ctx;
	(void)type;
	(void)id;
	if (c->fn)
		c->fn(c->ctx, obj);
}

int lb_fhir_node_purge(struct lb_ledger *l, const char *home, const uint8_t asset[32],
		       bool whole, const uint8_t *patients, size_t npatients,
		       void (*fn)(void *ctx, const uint8_t obj[32]), void *ctx, bool *held,
		       struct lb_errmsg *em)
{
	uint8_t mine[32];
	*held = false;
	if (lb_fhir_node_asset(home, mine) || memcmp(mine, asset, 32))
		return LB_OK;
	*held = true;
	struct lb_fhir_store *st;
	int rc = lb_fhir_node_store_open(l, home, &st, em);
	if (rc)
		return rc;
	struct purge_ctx c = {.asset = asset, .patients = patients, .npatients = npatients,
			      .ids = json_array(), .fn = fn, .ctx = ctx};
	size_t n = 0, total = 0;
	if (whole) {
		rc = lb_fhir_purge(st, NULL, destroyed, &c, &total, em);
	} else if (!(rc = lb_xchg_salt_key(home, asset, false, c.skey, em))) {
		rc = lb_fhir_patients(st, match_patient, &c, em);
		size_t i;
		json_t *v;
		json_array_foreach(c.ids, i, v) {
			if (rc)
				break;
			rc = lb_fhir_purge(st, json_string_value(v), destroyed, &c, &n, em);
			total += n;
		}
	}
	sodium_memzero(c.skey, sizeof c.skey);
	lb_fhir_store_close(st);
	if (!rc)
		lb_log(LB_LOG_INFO, "purge: %zu FHIR resource(s) of %zu patient(s) destroyed", total,
		       whole ? (size_t)0 : json_array_size(c.ids));
	json_decref(c.ids);
	lb_fhir_node_changed();
	return rc;
}
