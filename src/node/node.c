/*
 * A node: reads <home>/config.json, opens the ledger, starts the orderer (admitted txs go to
 * it; its cuts come back as blocks) and the HTTP API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leben/api.h"
#include "leben/apps.h"
#include "leben/consortium.h"
#include "leben/json_file.h"
#include "leben/market.h"
#include "leben/monitor.h"
#include "leben/node.h"
#include "leben/order.h"
#include "leben/tls.h"

struct lb_node {
	struct lb_node_config cfg;
	struct lb_ledger *ledger;
	struct lb_orderer *orderer;
	struct lb_api *api;
	struct lb_consortium *consortium; /* checkpoints: publish, check, alarms */
	char *refuse;                     /* damaged chain databases: what and what to do */
	struct lb_snapshot_server *snap;  /* peer_listen */
	struct lb_purge_worker *purge;    /* answers purge requests naming this node */
	struct lb_mkt_closer *closer;     /* closes the market's periods (docs/economy.md) */
};

void lb_node_config_defaults(struct lb_node_config *c, const char *home)
{
	memset(c, 0, sizeof *c);
	snprintf(c->home, sizeof c->home, "%s", home);
	snprintf(c->api_bind, sizeof c->api_bind, "127.0.0.1");
	c->api_port = 7800;
	snprintf(c->orderer, sizeof c->orderer, "solo");
	c->block_max_txs = 5000;
	c->block_interval_ms = 200;
	c->sync_full = true;
	c->sig_batch = true;
	c->mempool_max_txs = 100000;
	c->api_max_body = 8u << 20;
	c->etcd_batch_max_txs = 2000;
	c->checkpoint_interval = 100;
}

/* Copy a string setting of at most n-1 bytes. */
static bool set_str(char *dst, size_t n, json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) >= n)
		return false;
	snprintf(dst, n, "%s", json_string_value(v));
	return true;
}

int lb_node_config_load(struct lb_node_config *c, const char *home, struct lb_errmsg *em)
{
	char path[4200];
	lb_node_config_defaults(c, home);
	snprintf(path, sizeof path, "%s/config.json", home);
	json_error_t jerr;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		if (access(path, F_OK) != 0)
			return LB_OK;
		return lb_errf(em, LB_EMALFORMED, "%s: line %d column %d: %s", path, jerr.line,
			       jerr.column, jerr.text);
	}
	const char *k;
	json_t *v;
	int rc = LB_OK;
	json_object_foreach(o, k, v)
	{
		json_int_t i = json_integer_value(v);
		if (!strcmp(k, "api_bind") && json_is_string(v) && json_string_length(v) < 64)
			snprintf(c->api_bind, sizeof c->api_bind, "%s", json_string_value(v));
		else if (!strcmp(k, "api_port") && json_is_integer(v) && i >= 0 && i < 65536)
			c->api_port = (uint16_t)i;
		else if (!strcmp(k, "orderer") && json_is_string(v) &&
			 (!strcmp(json_string_value(v), "solo") ||
			  !strcmp(json_string_value(v), "etcd")))
			snprintf(c->orderer, sizeof c->orderer, "%s", json_string_value(v));
		else if (!strcmp(k, "etcd_endpoints") &&
			 set_str(c->etcd_endpoints, sizeof c->etcd_endpoints, v))
			;
		else if (!strcmp(k, "api_tls") && json_is_boolean(v))
			c->api_tls = json_is_true(v);
		else if (!strcmp(k, "tls_crl") && set_str(c->tls_crl, sizeof c->tls_crl, v))
			;
		else if (!strcmp(k, "tls_cosigned") && json_is_boolean(v))
			c->tls_cosigned = json_is_true(v);
		else if (!strcmp(k, "tls_ca") && set_str(c->tls_ca, sizeof c->tls_ca, v))
			;
		else if (!strcmp(k, "tls_cert") && set_str(c->tls_cert, sizeof c->tls_cert, v))
			;
		else if (!strcmp(k, "tls_key") && set_str(c->tls_key, sizeof c->tls_key, v))
			;
		else if (!strcmp(k, "etcd_batch_max_txs") && json_is_integer(v) && i >= 1 &&
			 i <= LB_BLOCK_MAX_TXS)
			c->etcd_batch_max_txs = (size_t)i;
		else if (!strcmp(k, "block_max_txs") && json_is_integer(v) && i >= 1 &&
			 i <= LB_BLOCK_MAX_TXS)
			c->block_max_txs = (size_t)i;
		else if (!strcmp(k, "block_interval_ms") && json_is_integer(v) && i >= 1 &&
			 i <= 600000)
			c->block_interval_ms = (uint32_t)i;
		else if (!strcmp(k, "sync_full") && json_is_boolean(v))
			c->sync_full = json_is_true(v);
		else if (!strcmp(k, "sig_batch") && json_is_boolean(v))
			c->sig_batch = json_is_true(v);
		else if (!strcmp(k, "mempool_max_txs") && json_is_integer(v) && i >= 1 &&
			 i <= 10000000)
			c->mempool_max_txs = (size_t)i;
		else if (!strcmp(k, "api_max_body") && json_is_integer(v) && i >= 1024 &&
			 i <= (1 << 30))
			c->api_max_body = (size_t)i;
		else if (!strcmp(k, "peer_listen") && set_str(c->peer_listen, sizeof c->peer_listen, v))
			;
		else if (!strcmp(k, "snapshot_from") &&
			 set_str(c->snapshot_from, sizeof c->snapshot_from, v))
			;
		else if (!strcmp(k, "checkpoint_interval") && json_is_integer(v) && i >= 0 &&
			 i <= 100000000)
			c->checkpoint_interval = (uint64_t)i;
		else {
			rc = lb_errf(em, LB_EINVALID,
				     "%s: setting '%s' is unknown or has a bad value (see "
				     "docs/operations.md for the settings and their ranges)",
				     path, k);
			break;
		}
	}
	json_decref(o);
	return rc;
}

int lb_node_config_save(const struct lb_node_config *c, struct lb_errmsg *em)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/config.json", c->home);
	json_t *o = json_pack("{s:s,s:i,s:s,s:I,s:i,s:b,s:I,s:I}", "api_bind", c->api_bind,
			      "api_port", (int)c->api_port, "orderer", c->orderer, "block_max_txs",
			      (json_int_t)c->block_max_txs, "block_interval_ms",
			      (int)c->block_interval_ms, "sync_full", c->sync_full,
			      "mempool_max_txs", (json_int_t)c->mempool_max_txs, "api_max_body",
			      (json_int_t)c->api_max_body);
	json_object_set_new(o, "checkpoint_interval", json_integer((json_int_t)c->checkpoint_interval));
	if (o && c->api_tls)
		json_object_set_new(o, "api_tls", json_true());
	if (o && !c->sig_batch)
		json_object_set_new(o, "sig_batch", json_false());
	if (o && c->etcd_endpoints[0])
		json_object_set_new(o, "etcd_endpoints", json_string(c->etcd_endpoints));
	if (o && c->tls_ca[0])
		json_object_set_new(o, "tls_ca", json_string(c->tls_ca));
	if (o && c->tls_cert[0])
		json_object_set_new(o, "tls_cert", json_string(c->tls_cert));
	if (o && c->tls_key[0])
		json_object_set_new(o, "tls_key", json_string(c->tls_key));
	if (o && c->tls_crl[0])
		json_object_set_new(o, "tls_crl", json_string(c->tls_crl));
	if (o && c->tls_cosigned)
		json_object_set_new(o, "tls_cosigned", json_true());
	if (o && c->peer_listen[0])
		json_object_set_new(o, "peer_listen", json_string(c->peer_listen));
	if (o && c->snapshot_from[0])
		json_object_set_new(o, "snapshot_from", json_string(c->snapshot_from));
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_file_write(path, text, strlen(text), 0644, em);
	free(text);
	return rc;
}

static void to_orderer(void *ctx, int chain, const uint8_t *raw, size_t len)
{
	struct lb_node *n = ctx;
	struct lb_orderer *o = n->orderer;
	if (o->ops->submit(o, chain, raw, len))
		lb_log(LB_LOG_ERROR, "orderer refused an admitted tx (out of memory)");
}

/* Someone waits for a block of chain to anchor another chain's block: the orderer makes one
 * (an empty block on a quiet network) instead of waiting for unrelated traffic. */
static void to_orderer_anchor(void *ctx, int chain)
{
	struct lb_node *n = ctx;
	struct lb_orderer *o = n->orderer;
	if (o && o->ops->anchor)
		o->ops->anchor(o, chain);
}

static int order_ready(void *ctx, struct lb_errmsg *em)
{
	struct lb_orderer *o = ((struct lb_node *)ctx)->orderer;
	return o->ops->ready ? o->ops->ready(o, em) : LB_OK;
}

/* An acknowledged submission is stored by the ordering service (survives this node). */
static int order_sync(void *ctx, struct lb_errmsg *em)
{
	struct lb_orderer *o = ((struct lb_node *)ctx)->orderer;
	return o->ops->sync ? o->ops->sync(o, 10000, em) : LB_OK;
}

static json_t *order_status(void *ctx)
{
	struct lb_orderer *o = ((struct lb_node *)ctx)->orderer;
	return o->ops->status ? o->ops->status(o) : json_pack("{s:s,s:b}", "backend",
							       o->ops->name, "available", 1);
}

/* The node's certificate files (each 4200 bytes): the settings, else <home>/tls/... */
static void tls_files(const struct lb_node_config *c, char *ca, char *cert, char *key)
{
	snprintf(ca, 4200, "%s", c->tls_ca[0] ? c->tls_ca : "");
	snprintf(cert, 4200, "%s", c->tls_cert[0] ? c->tls_cert : "");
	snprintf(key, 4200, "%s", c->tls_key[0] ? c->tls_key : "");
	if (!ca[0])
		snprintf(ca, 4200, "%s/tls/ca.pem", c->home);
	if (!cert[0])
		snprintf(cert, 4200, "%s/tls/node.pem", c->home);
	if (!key[0])
		snprintf(key, 4200, "%s/tls/node.key", c->home);
}

/* Catch up from a peer's snapshot when configured and every chain is at genesis. */
static int catch_up(struct lb_node *n, struct lb_errmsg *em)
{
	const struct lb_node_config *c = &n->cfg;
	if (!c->snapshot_from[0])
		return LB_OK;
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		if (lb_ledger_height(n->ledger, i)) {
			lb_log(LB_LOG_INFO, "snapshot_from is set, but this node has blocks already: "
					    "it goes on from the ordering stream");
			return LB_OK;
		}
	char ca[4200], cert[4200], key[4200];
	tls_files(c, ca, cert, key);
	struct lb_tls_config tc = {.ca_file = ca, .cert_file = cert, .key_file = key,
				   .crl_file = c->tls_crl[0] ? c->tls_crl : NULL};
	uint64_t checked;
	int rc = lb_snapshot_fetch(n->ledger, c->snapshot_from, &tc, &checked, em);
	if (rc) {
		char why[sizeof em->text];
		snprintf(why, sizeof why, "%s", em->text);
		return lb_errf(em, rc,
			       "%s. Nothing is served: remove %s/chains and start again, from another "
			       "peer if this one keeps failing",
			       why, c->home);
	}
	lb_log(LB_LOG_INFO,
	       "caught up from %s: settlement %llu, directory %llu, business %llu; %llu members' "
	       "checkpoints match the imported blocks",
	       c->snapshot_from, (unsigned long long)lb_ledger_height(n->ledger, 0),
	       (unsigned long long)lb_ledger_height(n->ledger, 1),
	       (unsigned long long)lb_ledger_height(n->ledger, 2), (unsigned long long)checked);
	return LB_OK;
}

/* tls_cosigned: a peer's certificate must be co-signed by enough CA holders on the chain. */
static int cosigned(void *ctx, const uint8_t spki_hash[32], char *why, size_t n)
{
	return lb_consortium_cert_check(ctx, spki_hash, why, n);
}

static int start_peer_server(struct lb_node *n, struct lb_errmsg *em)
{
	const struct lb_node_config *c = &n->cfg;
	if (!c->peer_listen[0])
		return LB_OK;
	char ca[4200], cert[4200], key[4200];
	tls_files(c, ca, cert, key);
	struct lb_tls_config tc = {.ca_file = ca, .cert_file = cert, .key_file = key,
				   .crl_file = c->tls_crl[0] ? c->tls_crl : NULL};
	if (c->tls_cosigned) {
		tc.peer_check = cosigned;
		tc.peer_check_ctx = n->ledger;
	}
	return lb_snapshot_server_start(&n->snap, n->ledger, c->peer_listen, &tc, em);
}

/* For etcd compaction: the height of chain every member has checkpointed. */
static int members_checkpointed(void *ctx, int chain, uint64_t *height)
{
	return lb_consortium_checkpointed_height(ctx, chain, height, NULL);
}

/* The etcd orderer's cut threshold: genesis.json's ordering.block_max_txs (default 5000),
 * never this node's config.json, so that every member cuts the same blocks. A differing
 * config.json value is reported and not used. */
static int consortium_block_max(const struct lb_node_config *c, size_t *out,
				struct lb_errmsg *em)
{
	char path[4200];
	json_t *g;
	snprintf(path, sizeof path, "%s/genesis.json", c->home);
	int rc = lb_json_file_read(path, LB_JSON_FILE_REQUIRED | LB_JSON_FILE_NO_DUPS, &g, em);
	if (rc)
		return rc;
	rc = lb_etcd_genesis_block_max(g, out, em);
	json_decref(g);
	if (rc)
		return lb_errwrap(em, "%s: ", c->home);
	if (c->block_max_txs != *out)
		lb_log(LB_LOG_WARN,
		       "config.json block_max_txs is %zu, but this consortium cuts blocks at %zu txs "
		       "(genesis.json ordering.block_max_txs; 5000 when absent): every member must "
		       "cut the same blocks, so %zu is used and this node's setting is ignored",
		       c->block_max_txs, *out, *out);
	else
		lb_log(LB_LOG_INFO, "cutting blocks at %zu txs (genesis.json ordering.block_max_txs)",
		       *out);
	return LB_OK;
}

/* The orderer of the configuration; the ledger is open (etcd reads its positions). */
static int make_orderer(struct lb_node *n, struct lb_errmsg *em)
{
	const struct lb_node_config *c = &n->cfg;
	if (strcmp(c->orderer, "etcd")) {
		int rc = lb_orderer_solo_new(&n->orderer, c->block_max_txs, c->block_interval_ms);
		return rc ? lb_errf(em, rc, "cannot create the orderer") : LB_OK;
	}
	char ca[4200], cert[4200], key[4200];
	bool tls = !strncmp(c->etcd_endpoints, "https://", 8);
	tls_files(c, ca, cert, key);
	const char *files[3] = {ca, cert, key};
	for (int i = 0; i < 3 && tls; i++)
		if (access(files[i], R_OK) != 0)
			return lb_errf(em, LB_ENOTFOUND,
				       "etcd orderer: cannot read %s (make the node's certificate "
				       "with 'leben ca issue --home %s', or give --tls-ca, --tls-cert "
				       "and --tls-key)",
				       files[i], c->home);
	size_t block_max;
	int rc = consortium_block_max(c, &block_max, em);
	if (rc)
		return rc;
	struct lb_etcd_options eo = {
		.endpoints = c->etcd_endpoints, .ca_file = tls ? ca : NULL,
		.cert_file = tls ? cert : NULL, .key_file = tls ? key : NULL, .ledger = n->ledger,
		.block_max_txs = block_max, .block_interval_ms = c->block_interval_ms,
		.batch_max_txs = c->etcd_batch_max_txs, .checkpointed = members_checkpointed,
		.checkpointed_ctx = n->ledger};
	return lb_orderer_etcd_new(&n->orderer, &eo, em);
}

static int deliver(void *ctx, const struct lb_cut *cut, struct lb_errmsg *em)
{
	struct lb_node *n = ctx;
	uint64_t height;
	int rc = lb_ledger_commit(n->ledger, cut, &height, em);
	if (!rc) {
		lb_consortium_after_commit(n->consortium, cut, height);
		lb_mkt_closer_notify(n->closer, cut->chain);
	}
	return rc;
}

/* Blocks below each chain's tip checked at start-up (a checkpoint interval's worth). */
#define START_CHECK_DEPTH 128

/* Check the chain databases before serving them. Damage is not an error of the start: the
 * node comes up refusing (n->refuse), so that operators and peers see why. */
static int check_databases(struct lb_node *n, struct lb_errmsg *em)
{
	struct lb_ledger_damage d;
	int rc = lb_ledger_check_home(n->cfg.home, START_CHECK_DEPTH, &d, em);
	if (rc != LB_ECORRUPT)
		return rc;
	char text[1400];
	snprintf(text, sizeof text,
		 "this node's chain database is damaged (%s); it refuses to serve, order or publish "
		 "checkpoints so that the damage does not spread. Stop the node, run 'leben verify "
		 "--home %.300s' to see the damage, then restore %.300s/chains from a healthy member "
		 "(docs/consortium.md, \"A damaged chain database\")",
		 d.what, n->cfg.home, n->cfg.home);
	n->refuse = lb_strdup(text);
	if (!n->refuse)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	lb_log(LB_LOG_ERROR, "%s", text);
	return LB_OK;
}

/* The API's TLS files (api_tls): the configured paths, else <home>/tls/... */
struct api_tls_paths {
	char ca[4200], cert[4200], key[4200];
};

static void api_tls(const struct lb_node_config *c, struct lb_api_options *ao,
		    struct api_tls_paths *p)
{
	if (!c->api_tls)
		return;
	snprintf(p->ca, sizeof p->ca, "%s", c->tls_ca);
	snprintf(p->cert, sizeof p->cert, "%s", c->tls_cert);
	snprintf(p->key, sizeof p->key, "%s", c->tls_key);
	if (!p->ca[0])
		snprintf(p->ca, sizeof p->ca, "%s/tls/ca.pem", c->home);
	if (!p->cert[0])
		snprintf(p->cert, sizeof p->cert, "%s/tls/node.pem", c->home);
	if (!p->key[0])
		snprintf(p->key, sizeof p->key, "%s/tls/node.key", c->home);
	ao->tls_ca = p->ca;
	ao->tls_cert = p->cert;
	ao->tls_key = p->key;
	ao->tls_crl = c->tls_crl[0] ? c->tls_crl : NULL;
	ao->tls_cosigned = c->tls_cosigned;
}

/* Only the API, answering every request with the damage (to members only with api_tls). */
static int start_refusing(struct lb_node *n, struct lb_node **out, struct lb_errmsg *em)
{
	struct lb_api_options ao;
	lb_api_options_init(&ao);
	ao.bind_addr = n->cfg.api_bind;
	ao.port = n->cfg.api_port;
	ao.home = n->cfg.home;
	ao.refuse = n->refuse;
	struct api_tls_paths tp;
	api_tls(&n->cfg, &ao, &tp);
	int rc = lb_api_start(&n->api, NULL, &ao, em);
	if (rc) {
		lb_node_stop(n);
		return rc;
	}
	*out = n;
	return LB_OK;
}

int lb_node_start(struct lb_node **out, const struct lb_node_config *c,
		  const struct lb_keypair *node_key, struct lb_errmsg *em)
{
	struct lb_node *n = lb_calloc(1, sizeof *n);
	if (!n)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	n->cfg = *c;
	int rc;
	bool etcd = !strcmp(c->orderer, "etcd");
	if (etcd && !c->etcd_endpoints[0]) {
		lb_free(n);
		return lb_errf(em, LB_EINVALID,
			       "orderer etcd needs the members' client URLs: --etcd-endpoints "
			       "https://HOST:PORT[,...] (or etcd_endpoints in config.json)");
	}
	struct lb_ledger_options lo;
	lb_ledger_options_init(&lo);
	lo.home = c->home;
	lo.sync_full = c->sync_full;
	lo.sig_one_by_one = !c->sig_batch;
	lo.mempool_max_txs = c->mempool_max_txs;
	lo.on_admitted = to_orderer;
	lo.on_admitted_ctx = n;
	lo.on_anchor_wanted = to_orderer_anchor;
	lo.on_anchor_wanted_ctx = n;
	lo.unsigned_blocks = etcd;
	lo.no_wal = etcd; /* etcd stores an accepted tx before the API answers */
	if ((rc = lb_register_txtypes())) {
		lb_errf(em, rc, "cannot register the tx types");
		goto err;
	}
	if ((rc = check_databases(n, em)))
		goto err;
	if (n->refuse)
		return start_refusing(n, out, em);
	if ((rc = lb_ledger_open(&n->ledger, &lo, node_key, em)) || (rc = catch_up(n, em)) ||
	    (rc = make_orderer(n, em)))
		goto err;
	if ((rc = lb_consortium_new(&n->consortium, n->ledger, node_key, c->checkpoint_interval,
				    em)) ||
	    (rc = lb_mkt_closer_start(&n->closer, n->ledger, c->home, em)))
		goto err;
	if ((rc = n->orderer->ops->start(n->orderer, deliver, n, em)) ||
	    (rc = lb_ledger_replay_wal(n->ledger, em)))
		goto err;
	struct lb_api_options ao;
	lb_api_options_init(&ao);
	ao.bind_addr = c->api_bind;
	ao.port = c->api_port;
	ao.max_body = c->api_max_body;
	ao.order_ready = order_ready;
	ao.order_sync = order_sync;
	ao.order_status = order_status;
	ao.order_ctx = n;
	ao.consortium = n->consortium;
	char dir_db[sizeof c->home + 32];
	snprintf(dir_db, sizeof dir_db, "%s/directory-index.db", c->home);
	ao.directory_db = dir_db;
	ao.home = c->home;
	struct api_tls_paths tp;
	api_tls(c, &ao, &tp);
	if ((rc = lb_api_start(&n->api, n->ledger, &ao, em)) || (rc = start_peer_server(n, em)) ||
	    (rc = lb_purge_worker_start(&n->purge, n->ledger, c->home, em)))
		goto err;
	struct lb_monitor *mon; /* pending webhook deliveries and escalations go on */
	lb_mon_node(c->home, false, &mon, NULL);
	*out = n;
	return LB_OK;
err:
	lb_node_stop(n);
	return rc;
}

struct lb_ledger *lb_node_ledger(struct lb_node *n)
{
	return n->ledger;
}

uint16_t lb_node_api_port(const struct lb_node *n)
{
	return lb_api_port(n->api);
}

void lb_node_stop(struct lb_node *n)
{
	if (!n)
		return;
	lb_purge_worker_stop(n->purge);
	lb_apps_quiesce(); /* claims raised from FHIR writes stop before the ledger closes */
	lb_snapshot_server_stop(n->snap);
	if (n->api)
		lb_api_stop(n->api);
	if (n->orderer)
		n->orderer->ops->stop(n->orderer);
	lb_mkt_closer_stop(n->closer);
	lb_consortium_free(n->consortium);
	lb_ledger_close(n->ledger);
	if (n->orderer)
		n->orderer->ops->free(n->orderer);
	lb_free(n->refuse);
	lb_free(n);
}
