/*
 * The consortium orderer on an etcd 3.4 cluster, through etcd's v3 HTTP/JSON gateway with
 * libcurl over mutual TLS. Two threads:
 *  - the writer stores admitted txs as one etcd value per chain and request (a batch),
 *    created only if its key (the batch id) is absent, so a retried request is never ordered
 *    twice (a tx in two batches is committed once, its second copy invalid); it also writes cut
 *    markers when a chain's oldest waiting tx is block_interval_ms old, and probes etcd
 *    (a linearizable read, which needs a quorum) when idle, to know whether ordering works;
 *  - the reader watches the network's key prefix from the revision its ledger needs and
 *    feeds each event to the cutter (etcd_cut.c), which delivers identical cuts on
 *    every node.
 * A submission is acknowledged (sync) only once etcd stored it. When etcd is unreachable or
 * without quorum, ready() refuses new submissions with LB_EUNAVAILABLE; both threads retry
 * and ordering resumes by itself. Keys and the cut rule: docs/consortium.md.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "leben/base.h"
#include "leben/consortium.h"
#include "leben/crypto.h"
#include "leben/tls.h"
#include "order/etcd_int.h"

#define MAX_URLS 16
#define BATCH_MAX_BYTES (1u << 20)    /* raw tx bytes per etcd txn (etcd takes 1.5 MiB) */
#define PROBE_IDLE_NS 1000000000ull   /* probe etcd after 1 s without a request */
#define WATCH_SILENCE_NS 6000000000ull /* no message on the watch for this long: reconnect */
#define REQUEST_TIMEOUT_MS 5000L
#define REPLY_MAX (64u << 20)
#define COMPACT_EVERY_NS 5000000000ull /* look for a revision to compact every 5 s */
#define RESUME_RING 1024              /* blocks per chain whose replay revision is kept */
#define SURVEY_TIMEOUT_MS 1500L        /* per member, when asking each why ordering stopped */
#define SURVEY_EVERY_NS 5000000000ull  /* while unavailable, ask the members again this often */

struct item {
	int chain;
	uint8_t *raw;            /* owned */
	size_t len;
};

struct etcd {
	struct lb_orderer base;
	/* configuration (immutable after new) */
	char *urls[MAX_URLS];           /* member client URLs (owned) */
	size_t nurls;
	char *ca, *cert, *key;          /* TLS files (owned), NULL for plain http */
	struct lb_ledger *ledger;       /* borrowed */
	size_t batch_max;               /* txs per etcd txn (halved if etcd refuses the size) */
	uint64_t interval_ns;           /* age of the oldest waiting tx that asks for a marker */

	pthread_mutex_t mu;             /* guards everything below */
	pthread_cond_t wake;            /* writer: work to do */
	pthread_cond_t stored_cv;       /* sync waiters: 'stored' moved */
	struct item *q;                 /* FIFO of txs to store: q[qhead..qn) */
	size_t qhead, qn, qcap;
	uint64_t submitted, stored;     /* txs queued / stored since start */
	bool available;                 /* the last request to etcd succeeded */
	char reason[384];               /* why not available */
	struct {
		size_t n;                /* txs waiting for the next cut (reader's view) */
		uint64_t height;         /* next height */
		uint64_t first_seen_ns;  /* when the oldest of them arrived */
	} waiting[LB_CHAIN_COUNT];      /* published by the reader for the writer's markers */
	uint64_t marker_done[LB_CHAIN_COUNT];   /* last height a marker was written for */
	bool anchor_want[LB_CHAIN_COUNT];       /* a block is wanted even if nothing waits */
	char members[1024];              /* while unavailable: which members answer ("" unknown) */
	uint64_t survey_ns;             /* when members was last written */
	int64_t write_rev;              /* revision of our last stored batch */
	uint64_t write_rev_ns;          /* when it was stored */
	int64_t read_rev;               /* last revision the reader processed */
	uint64_t read_ns;               /* when it last moved, or the watch (re)started */
	uint64_t watch_msg_ns;          /* last message on the watch */
	bool watching;                  /* the watch stream is open */
	size_t wurl, rurl;              /* endpoint in use by the writer / reader */
	bool stopping, failed;
	char fail_text[512];            /* why ordering stopped for good (commit failure) */
	uint64_t batches, dup_txs;      /* statistics */

	/* reader thread only */
	struct etcd_cutter cutter;
	struct lb_buf line;             /* incomplete watch message */
	int64_t cur_rev, cur_idx;       /* position of the last event seen */
	struct etcd_pos skip_to;        /* after a reconnect: events up to here are done */
	int reader_rc;                  /* error that stopped the reader */
	struct lb_errmsg reader_em;

	/* compaction: replay revision of each of the latest RESUME_RING blocks this node
	 * committed, by chain (guarded by mu) */
	int (*checkpointed)(void *ctx, int chain, uint64_t *height);
	void *checkpointed_ctx;
	struct {
		uint64_t height;
		int64_t resume;
	} ring[LB_CHAIN_COUNT][RESUME_RING];
	int64_t compacted;              /* revision etcd's history was compacted to (0: never) */
	uint64_t compactions;

	lb_deliver_fn deliver;
	void *ctx;
	pthread_t writer, reader;
	bool started;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ---------------------------------------------------------------------- */

static int b64_add(struct lb_buf *b, const void *p, size_t n)
{
	size_t need = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	int rc = lb_buf_reserve(b, need);
	if (rc)
		return rc;
	sodium_bin2base64((char *)b->data + b->len, need, p, n, sodium_base64_VARIANT_ORIGINAL);
	b->len += need - 1;
	b->data[b->len] = 0;
	return LB_OK;
}

/* Decode base64 text into a new buffer (caller frees); NULL on bad input. */
static uint8_t *b64_dec(const char *s, size_t *n)
{
	size_t slen = strlen(s), cap = slen / 4 * 3 + 3;
	uint8_t *out = lb_malloc(cap ? cap : 1);
	if (!out)
		return NULL;
	if (sodium_base642bin(out, cap, s, slen, NULL, n, NULL, sodium_base64_VARIANT_ORIGINAL)) {
		lb_free(out);
		return NULL;
	}
	return out;
}

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static size_t on_reply(char *p, size_t size, size_t nmemb, void *ctx)
{
	return lb_buf_add(ctx, p, size * nmemb) ? 0 : size * nmemb;
}

static void curl_common(struct etcd *e, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	if (e->ca) {
		curl_easy_setopt(h, CURLOPT_CAINFO, e->ca);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, e->key);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	}
}

/* POST body to url + path; *reply parsed JSON (caller decrefs). LB_EUNAVAILABLE with the
 * reason on transport failures and HTTP errors (etcd's message included). */
static int post_within(struct etcd *e, CURL *h, size_t url, const char *path,
		       const struct lb_buf *body, json_t **reply, char *why, size_t whylen,
		       long timeout_ms);

static int post(struct etcd *e, CURL *h, size_t url, const char *path, const struct lb_buf *body,
		json_t **reply, char *why, size_t whylen)
{
	return post_within(e, h, url, path, body, reply, why, whylen, REQUEST_TIMEOUT_MS);
}

static int post_within(struct etcd *e, CURL *h, size_t url, const char *path,
		       const struct lb_buf *body, json_t **reply, char *why, size_t whylen,
		       long timeout_ms)
{
	char target[512];
	struct lb_buf r;
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	lb_buf_init(&r, REPLY_MAX);
	snprintf(target, sizeof target, "%s%s", e->urls[url], path);
	curl_easy_reset(h);
	curl_common(e, h);
	curl_easy_setopt(h, CURLOPT_URL, target);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data ? (const char *)body->data : "{}");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body->data ? body->len : 2));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode cc = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	int rc = LB_OK;
	*reply = NULL;
	if (cc != CURLE_OK) {
		snprintf(why, whylen, "%s: %s", e->urls[url], errbuf[0] ? errbuf : curl_easy_strerror(cc));
		rc = LB_EUNAVAILABLE;
	} else {
		*reply = r.data ? json_loadb((const char *)r.data, r.len, 0, NULL) : NULL;
		if (status != 200 || !*reply) {
			const char *msg = json_string_value(json_object_get(*reply, "message"));
			if (!msg)
				msg = json_string_value(json_object_get(*reply, "error"));
			snprintf(why, whylen, "%s: HTTP %ld: %s", e->urls[url], status,
				 msg ? msg : "unreadable reply");
			json_decref(*reply);
			*reply = NULL;
			rc = LB_EUNAVAILABLE;
		}
	}
	lb_buf_release(&r);
	return rc;
}

static int64_t header_rev(json_t *reply)
{
	const char *s = json_string_value(json_object_get(json_object_get(reply, "header"),
							  "revision"));
	return s ? strtoll(s, NULL, 10) : 0;
}

/* ---- writer ------------------------------------------------------------------------------ */

static int add_key(struct lb_buf *b, const char *prefix, const char *suffix)
{
	char k[ETCD_PREFIX_MAX + 96];
	int n = snprintf(k, sizeof k, "%s%s", prefix, suffix);
	return b64_add(b, k, (size_t)n);
}

/* One etcd value per chain in a store request: the txs of that chain, in queue order. */
struct group {
	int chain;
	char sfx[96];            /* b/<chain>/<batch id, 64 hex> */
	struct lb_buf val;       /* chain digit, then per tx: u32 BE length, bytes */
	size_t n;                /* txs in it */
};

/* Group items by chain into g (LB_CHAIN_COUNT entries); returns the number of groups. */
static int group_items(struct group *g, struct item **items, size_t n, size_t *ng)
{
	*ng = 0;
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		struct group *x = &g[*ng];
		x->chain = c;
		x->n = 0;
		lb_buf_init(&x->val, 2 * BATCH_MAX_BYTES);
		int rc = lb_buf_addc(&x->val, (uint8_t)('0' + c));
		for (size_t i = 0; i < n && !rc; i++) {
			if (items[i]->chain != c)
				continue;
			uint8_t len[4] = {(uint8_t)(items[i]->len >> 24), (uint8_t)(items[i]->len >> 16),
					  (uint8_t)(items[i]->len >> 8), (uint8_t)items[i]->len};
			rc = lb_buf_add(&x->val, len, 4);
			rc = rc ? rc : lb_buf_add(&x->val, items[i]->raw, items[i]->len);
			x->n++;
		}
		if (rc) {
			for (size_t k = 0; k <= *ng; k++)
				lb_buf_release(&g[k].val);
			*ng = 0;
			return rc;
		}
		if (!x->n) {
			lb_buf_release(&x->val);
			continue;
		}
		/* the batch id covers the chain and the value: the same txs sent again (a retry
		 * after a lost answer) find their key taken and are not stored twice */
		uint8_t id[LB_HASH_LEN];
		char hex[2 * LB_HASH_LEN + 1];
		lb_hash(id, x->val.data, x->val.len);
		lb_hex_encode(hex, id, LB_HASH_LEN);
		snprintf(x->sfx, sizeof x->sfx, "b/%d/%s", c, hex);
		(*ng)++;
	}
	return LB_OK;
}

static void groups_release(struct group *g, size_t ng)
{
	for (size_t k = 0; k < ng; k++)
		lb_buf_release(&g[k].val);
}

/* The txn storing each group's value if its key is absent, with a clock reading. No failure
 * branch: etcd logs the whole request in its raft log, and a batch already there is rare (a
 * retry whose first attempt was stored). */
static int build_txn(struct etcd *e, struct lb_buf *b, const struct group *g, size_t ng,
		     const uint64_t marks[LB_CHAIN_COUNT])
{
	const char *pfx = e->cutter.prefix;
	uint8_t clock[8];
	be64(clock, lb_now_ms());
	int rc = lb_buf_adds(b, "{\"compare\":[");
	for (size_t i = 0; i < ng && !rc; i++) {
		rc = lb_buf_adds(b, i ? ",{\"target\":\"CREATE\",\"create_revision\":\"0\",\"key\":\""
				      : "{\"target\":\"CREATE\",\"create_revision\":\"0\",\"key\":\"");
		rc = rc ? rc : add_key(b, pfx, g[i].sfx);
		rc = rc ? rc : lb_buf_adds(b, "\"}");
	}
	rc = rc ? rc : lb_buf_adds(b, "],\"success\":[{\"request_put\":{\"key\":\"");
	rc = rc ? rc : add_key(b, pfx, "clock");
	rc = rc ? rc : lb_buf_adds(b, "\",\"value\":\"");
	rc = rc ? rc : b64_add(b, clock, 8);
	rc = rc ? rc : lb_buf_adds(b, "\"}}");
	for (size_t i = 0; i < ng && !rc; i++) {
		rc = lb_buf_adds(b, ",{\"request_put\":{\"key\":\"");
		rc = rc ? rc : add_key(b, pfx, g[i].sfx);
		rc = rc ? rc : lb_buf_adds(b, "\",\"value\":\"");
		rc = rc ? rc : b64_add(b, g[i].val.data + 1, g[i].val.len - 1);
		rc = rc ? rc : lb_buf_adds(b, "\"}}");
	}
	/* cut markers due now ride along (after the batches: they cut them too), saving the
	 * marker's own request; a plain put, since a second marker for a height is stale in the
	 * cut rule anyway */
	for (int c = 0; c < LB_CHAIN_COUNT && !rc; c++) {
		if (!marks[c])
			continue;
		char sfx[64];
		snprintf(sfx, sizeof sfx, "cut/%d/%016llx", c, (unsigned long long)marks[c]);
		rc = lb_buf_adds(b, ",{\"request_put\":{\"key\":\"");
		rc = rc ? rc : add_key(b, pfx, sfx);
		rc = rc ? rc : lb_buf_adds(b, "\",\"value\":\"");
		rc = rc ? rc : b64_add(b, clock, 8);
		rc = rc ? rc : lb_buf_adds(b, "\"}}");
	}
	return rc ? rc : lb_buf_adds(b, "]}");
}

/* A read-only txn asking which of the groups etcd already has (not raft-logged). */
static int build_exists(struct etcd *e, struct lb_buf *b, const struct group *g, size_t ng)
{
	int rc = lb_buf_adds(b, "{\"success\":[");
	for (size_t i = 0; i < ng && !rc; i++) {
		rc = lb_buf_adds(b, i ? ",{\"request_range\":{\"count_only\":true,\"key\":\""
				      : "{\"request_range\":{\"count_only\":true,\"key\":\"");
		rc = rc ? rc : add_key(b, e->cutter.prefix, g[i].sfx);
		rc = rc ? rc : lb_buf_adds(b, "\"}}");
	}
	return rc ? rc : lb_buf_adds(b, "]}");
}

/* Store items (in order, one etcd value per chain); a batch etcd already has is not stored
 * again. LB_OK when all are stored. */
static int store_batch(struct etcd *e, CURL *h, struct item **items, size_t n,
		       const uint64_t marks[LB_CHAIN_COUNT], bool *marked, char *why,
		       size_t whylen)
{
	*marked = false;
	struct group g[LB_CHAIN_COUNT];
	size_t ng;
	if (group_items(g, items, n, &ng)) {
		snprintf(why, whylen, "out of memory building an etcd transaction");
		return LB_ENOMEM;
	}
	int rc = LB_OK;
	while (ng) {
		struct lb_buf b;
		json_t *reply;
		lb_buf_init(&b, 8 * BATCH_MAX_BYTES);
		rc = build_txn(e, &b, g, ng, marks);
		if (rc) {
			lb_buf_release(&b);
			snprintf(why, whylen, "out of memory building an etcd transaction");
			rc = LB_ENOMEM;
			break;
		}
		pthread_mutex_lock(&e->mu);
		size_t url = e->wurl;
		pthread_mutex_unlock(&e->mu);
		rc = post(e, h, url, "/v3/kv/txn", &b, &reply, why, whylen);
		lb_buf_release(&b);
		if (rc) {
			if (strstr(why, "too many operations") || strstr(why, "too large")) {
				pthread_mutex_lock(&e->mu);
				if (e->batch_max > 1)
					e->batch_max /= 2;
				lb_log(LB_LOG_WARN,
				       "etcd orderer: etcd refused a transaction of %zu txs (%s); using "
				       "%zu per transaction (raise etcd's --max-request-bytes)",
				       n, why, e->batch_max);
				pthread_mutex_unlock(&e->mu);
				rc = LB_EBUSY;
			}
			break;
		}
		int64_t rev = header_rev(reply);
		if (json_is_true(json_object_get(reply, "succeeded"))) {
			json_decref(reply);
			*marked = true;
			pthread_mutex_lock(&e->mu);
			e->write_rev = rev;
			e->write_rev_ns = lb_mono_ns();
			e->batches++;
			pthread_mutex_unlock(&e->mu);
			break;
		}
		/* a batch key exists (an earlier attempt that did succeed): ask which, keep the
		 * others */
		json_decref(reply);
		lb_buf_init(&b, 1u << 16);
		if (build_exists(e, &b, g, ng)) {
			lb_buf_release(&b);
			snprintf(why, whylen, "out of memory building an etcd query");
			rc = LB_ENOMEM;
			break;
		}
		rc = post(e, h, url, "/v3/kv/txn", &b, &reply, why, whylen);
		lb_buf_release(&b);
		if (rc)
			break;
		json_t *resp = json_object_get(reply, "responses");
		size_t m = 0, dups = 0;
		for (size_t i = 0; i < ng; i++) {
			json_t *rr = json_object_get(json_array_get(resp, i), "response_range");
			const char *cnt = json_string_value(json_object_get(rr, "count"));
			if (cnt && strcmp(cnt, "0")) {
				dups += g[i].n;
				lb_buf_release(&g[i].val);
			} else {
				g[m++] = g[i];
			}
		}
		json_decref(reply);
		pthread_mutex_lock(&e->mu);
		e->dup_txs += dups;
		pthread_mutex_unlock(&e->mu);
		if (dups == 0) {
			snprintf(why, whylen, "etcd answered a failed transaction without saying why");
			rc = LB_EINTERNAL;
			break;
		}
		ng = m;
	}
	groups_release(g, ng);
	return rc;
}

/* Cut marker cut/<chain>/<height> (create-if-absent). An anchor marker (anchor true) carries
 * a ninth byte, 1: it cuts the height even when no tx waits (docs/consortium.md). */
static int write_marker(struct etcd *e, CURL *h, int chain, uint64_t height, bool anchor,
			char *why, size_t whylen)
{
	char sfx[64];
	uint8_t clock[9];
	struct lb_buf b;
	json_t *reply;
	snprintf(sfx, sizeof sfx, "cut/%d/%016llx", chain, (unsigned long long)height);
	be64(clock, lb_now_ms());
	clock[8] = 1;
	lb_buf_init(&b, 4096);
	int rc = lb_buf_adds(&b, "{\"compare\":[{\"target\":\"CREATE\",\"create_revision\":\"0\","
				 "\"key\":\"");
	rc = rc ? rc : add_key(&b, e->cutter.prefix, sfx);
	rc = rc ? rc : lb_buf_adds(&b, "\"}],\"success\":[{\"request_put\":{\"key\":\"");
	rc = rc ? rc : add_key(&b, e->cutter.prefix, sfx);
	rc = rc ? rc : lb_buf_adds(&b, "\",\"value\":\"");
	rc = rc ? rc : b64_add(&b, clock, anchor ? 9 : 8);
	rc = rc ? rc : lb_buf_adds(&b, "\"}}]}");
	if (rc) {
		lb_buf_release(&b);
		return rc;
	}
	pthread_mutex_lock(&e->mu);
	size_t url = e->wurl;
	pthread_mutex_unlock(&e->mu);
	rc = post(e, h, url, "/v3/kv/txn", &b, &reply, why, whylen);
	lb_buf_release(&b);
	json_decref(reply);
	return rc;
}

static int probe(struct etcd *e, CURL *h, char *why, size_t whylen)
{
	struct lb_buf b;
	json_t *reply;
	lb_buf_init(&b, 4096);
	int rc = lb_buf_adds(&b, "{\"count_only\":true,\"key\":\"");
	rc = rc ? rc : add_key(&b, e->cutter.prefix, "clock");
	rc = rc ? rc : lb_buf_adds(&b, "\"}");
	pthread_mutex_lock(&e->mu);
	size_t url = e->wurl;
	pthread_mutex_unlock(&e->mu);
	if (!rc)
		rc = post(e, h, url, "/v3/kv/range", &b, &reply, why, whylen);
	if (!rc)
		json_decref(reply);
	lb_buf_release(&b);
	return rc;
}

/* Ordering is unavailable: ask every member for its status (a local read each answers
 * without a quorum), to tell the operator which members do not answer and whether those
 * that do have a leader. Writer thread, called without mu; result in e->members. */
static void survey(struct etcd *e, CURL *h)
{
	char down[384] = "", up[384] = "", why[384];
	size_t nd = 0, nu = 0, answering = 0, leaderless = 0;
	struct lb_buf b;
	lb_buf_init(&b, 16);
	if (lb_buf_adds(&b, "{}"))
		return;
	for (size_t i = 0; i < e->nurls; i++) {
		json_t *reply = NULL;
		int rc = post_within(e, h, i, "/v3/maintenance/status", &b, &reply, why, sizeof why,
				     SURVEY_TIMEOUT_MS);
		if (rc) {
			nd += (size_t)snprintf(down + nd, nd < sizeof down ? sizeof down - nd : 0,
					       "%s%s", nd ? ", " : "", e->urls[i]);
			if (nd >= sizeof down)
				nd = sizeof down - 1;
			continue;
		}
		answering++;
		const char *leader = json_string_value(json_object_get(reply, "leader"));
		bool has_leader = leader && strcmp(leader, "0");
		leaderless += !has_leader;
		nu += (size_t)snprintf(up + nu, nu < sizeof up ? sizeof up - nu : 0, "%s%s%s",
				       nu ? ", " : "", e->urls[i], has_leader ? "" : " (no leader)");
		if (nu >= sizeof up)
			nu = sizeof up - 1;
		json_decref(reply);
	}
	lb_buf_release(&b);
	size_t quorum = e->nurls / 2 + 1;
	char text[sizeof e->members];
	if (answering < quorum)
		snprintf(text, sizeof text,
			 "%zu of %zu etcd members answer, a quorum needs %zu; not answering: %s%s%s",
			 answering, e->nurls, quorum, down[0] ? down : "none",
			 up[0] ? "; answering: " : "", up);
	else if (leaderless)
		snprintf(text, sizeof text,
			 "%zu of %zu etcd members answer but have no leader yet (an election is under "
			 "way, or the members cannot reach each other): %s%s%s",
			 answering, e->nurls, up, down[0] ? "; not answering: " : "", down);
	else
		snprintf(text, sizeof text, "every etcd member answers%s%s", down[0] ? " except " : "",
			 down);
	pthread_mutex_lock(&e->mu);
	snprintf(e->members, sizeof e->members, "%s", text);
	e->survey_ns = lb_mono_ns();
	pthread_mutex_unlock(&e->mu);
}

static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t t = (uint64_t)ts.tv_nsec + ns;
	ts.tv_sec += (time_t)(t / 1000000000u);
	ts.tv_nsec = (long)(t % 1000000000u);
	pthread_cond_timedwait(cv, mu, &ts);
}

/* After a failed request: note why, move to the next member, back off. Lock held. */
static void writer_failed(struct etcd *e, const char *why, uint64_t *backoff_ns)
{
	if (e->available || strcmp(e->reason, why))
		lb_log(LB_LOG_WARN, "etcd orderer: ordering unavailable: %s", why);
	e->available = false;
	snprintf(e->reason, sizeof e->reason, "%s", why);
	e->wurl = (e->wurl + 1) % e->nurls;
	if (!e->stopping)
		timed_wait(&e->wake, &e->mu, *backoff_ns);
	*backoff_ns = *backoff_ns * 2 > 1000000000u ? 1000000000u : *backoff_ns * 2;
}

static void writer_ok(struct etcd *e, uint64_t *backoff_ns)
{
	if (!e->available)
		lb_log(LB_LOG_INFO, "etcd orderer: ordering available (%s)", e->urls[e->wurl]);
	e->available = true;
	e->reason[0] = 0;
	e->members[0] = 0;
	*backoff_ns = 50000000u;
}

/* The revision below which no member needs etcd's history (0: none known yet); under mu. */
static int64_t compact_target(struct etcd *e)
{
	int64_t best = 0;
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		uint64_t h = 0;
		pthread_mutex_unlock(&e->mu);
		int rc = e->checkpointed(e->checkpointed_ctx, c, &h);
		pthread_mutex_lock(&e->mu);
		if (rc || !h || e->ring[c][h % RESUME_RING].height != h)
			continue;
		if (e->ring[c][h % RESUME_RING].resume > best)
			best = e->ring[c][h % RESUME_RING].resume;
	}
	return best;
}

/* Compact etcd's history below rev (called without mu). Another member may have compacted
 * further already: that is success too. */
static int compact(struct etcd *e, CURL *h, int64_t rev, char *why, size_t whylen)
{
	struct lb_buf b;
	json_t *reply;
	char body[96];
	snprintf(body, sizeof body, "{\"revision\":\"%lld\"}", (long long)rev);
	lb_buf_init(&b, sizeof body);
	if (lb_buf_adds(&b, body))
		return LB_ENOMEM;
	int rc = post(e, h, e->wurl, "/v3/kv/compaction", &b, &reply, why, whylen);
	lb_buf_release(&b);
	json_decref(reply);
	if (rc && strstr(why, "compacted"))
		rc = LB_OK;
	return rc;
}

static void *writer_loop(void *arg)
{
	struct etcd *e = arg;
	CURL *h = curl_easy_init();
	struct item **batch = lb_malloc(LB_BLOCK_MAX_TXS * sizeof *batch);
	uint64_t backoff = 50000000u, last_req = 0, last_compact = lb_mono_ns();
	size_t again = 0; /* txs of the last failed attempt, sent again as they were */
	char why[384];
	pthread_mutex_lock(&e->mu);
	if (!h || !batch) {
		e->failed = true;
		snprintf(e->fail_text, sizeof e->fail_text, "out of memory starting the writer");
		goto out;
	}
	for (;;) {
		if (!e->available && !e->stopping && e->nurls &&
		    (!e->survey_ns || lb_mono_ns() - e->survey_ns >= SURVEY_EVERY_NS)) {
			pthread_mutex_unlock(&e->mu);
			survey(e, h);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		/* after a failed attempt the same txs go again, so that a batch etcd stored
		 * although its answer was lost keeps its key and is not stored twice */
		size_t n = 0, bytes = 0;
		while (e->qhead + n < e->qn && (again ? n < again : n < e->batch_max &&
		       bytes + e->q[e->qhead + n].len <= BATCH_MAX_BYTES)) {
			batch[n] = &e->q[e->qhead + n];
			bytes += batch[n++]->len;
		}
		again = 0;
		if (n) {
			/* chains whose oldest waiting tx is interval old: their markers go with it */
			uint64_t marks[LB_CHAIN_COUNT] = {0}, t = lb_mono_ns();
			for (int c = 0; c < LB_CHAIN_COUNT; c++)
				if (e->waiting[c].n && e->marker_done[c] != e->waiting[c].height &&
				    e->waiting[c].first_seen_ns + e->interval_ns <= t)
					marks[c] = e->waiting[c].height;
			pthread_mutex_unlock(&e->mu);
			bool marked;
			int rc = store_batch(e, h, batch, n, marks, &marked, why, sizeof why);
			pthread_mutex_lock(&e->mu);
			last_req = lb_mono_ns();
			for (int c = 0; c < LB_CHAIN_COUNT && marked; c++)
				if (marks[c])
					e->marker_done[c] = marks[c];
			if (rc == LB_EBUSY)
				continue;
			if (rc) {
				again = n;
				writer_failed(e, why, &backoff);
				if (e->stopping)
					break;
				continue;
			}
			writer_ok(e, &backoff);
			for (size_t i = 0; i < n; i++)
				lb_free(e->q[e->qhead + i].raw);
			e->qhead += n;
			e->stored += n;
			if (e->qhead == e->qn)
				e->qhead = e->qn = 0;
			pthread_cond_broadcast(&e->stored_cv);
			continue;
		}
		if (e->stopping)
			break;
		/* a chain whose oldest waiting tx is interval old gets a cut marker */
		int chain = -1;
		uint64_t now = lb_mono_ns(), next_due = UINT64_MAX;
		for (int c = 0; c < LB_CHAIN_COUNT && chain < 0; c++) {
			if (!e->waiting[c].n || e->marker_done[c] == e->waiting[c].height)
				continue;
			uint64_t due = e->waiting[c].first_seen_ns + e->interval_ns;
			if (due <= now)
				chain = c;
			else if (due < next_due)
				next_due = due;
		}
		/* a chain whose block is wanted as an anchor, with nothing waiting (else the
		 * marker above comes soon): an anchor marker, once per height */
		bool anchor = false;
		for (int c = 0; c < LB_CHAIN_COUNT && chain < 0; c++) {
			if (!e->anchor_want[c] || !e->waiting[c].height)
				continue;
			if (e->waiting[c].n || e->marker_done[c] == e->waiting[c].height) {
				e->anchor_want[c] = false;
				continue;
			}
			chain = c;
			anchor = true;
		}
		if (chain >= 0) {
			uint64_t height = e->waiting[chain].height;
			pthread_mutex_unlock(&e->mu);
			int rc = write_marker(e, h, chain, height, anchor, why, sizeof why);
			pthread_mutex_lock(&e->mu);
			last_req = lb_mono_ns();
			if (rc) {
				writer_failed(e, why, &backoff);
			} else {
				writer_ok(e, &backoff);
				e->marker_done[chain] = height;
				if (anchor)
					e->anchor_want[chain] = false;
			}
			continue;
		}
		if (e->checkpointed && now - last_compact >= COMPACT_EVERY_NS) {
			last_compact = now;
			int64_t rev = compact_target(e);
			if (rev > e->compacted) {
				pthread_mutex_unlock(&e->mu);
				int rc = compact(e, h, rev, why, sizeof why);
				pthread_mutex_lock(&e->mu);
				/* the next try is 5 s after this one ended; a failed compaction is not
				 * an answer from etcd, so it does not put off the probe that decides
				 * availability (without a quorum every compaction times out) */
				last_compact = lb_mono_ns();
				if (!rc)
					last_req = last_compact;
				if (rc) {
					lb_log(LB_LOG_WARN, "etcd orderer: compaction to revision %lld "
							    "failed: %s",
					       (long long)rev, why);
				} else {
					e->compacted = rev;
					e->compactions++;
					lb_log(LB_LOG_INFO, "etcd orderer: compacted etcd's history below "
							    "revision %lld (every member has "
							    "checkpointed past it)",
					       (long long)rev);
				}
				continue;
			}
		}
		if (now - last_req >= PROBE_IDLE_NS) {
			pthread_mutex_unlock(&e->mu);
			int rc = probe(e, h, why, sizeof why);
			pthread_mutex_lock(&e->mu);
			last_req = lb_mono_ns();
			if (rc)
				writer_failed(e, why, &backoff);
			else
				writer_ok(e, &backoff);
			continue;
		}
		uint64_t wait = PROBE_IDLE_NS - (now - last_req);
		if (next_due != UINT64_MAX && next_due - now < wait)
			wait = next_due - now;
		timed_wait(&e->wake, &e->mu, wait);
	}
out:
	pthread_cond_broadcast(&e->stored_cv);
	pthread_mutex_unlock(&e->mu);
	lb_free(batch);
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

/* ---- reader ------------------------------------------------------------------------------ */

/* One watch message: a JSON object {"result":{...,"events":[...]}}. */
static int reader_message(struct etcd *e, const char *text, size_t len)
{
	json_t *m = json_loadb(text, len, 0, NULL);
	if (!m)
		return LB_OK; /* not a message (keep-alive whitespace) */
	json_t *res = json_object_get(m, "result");
	int rc = LB_OK;
	if (!res) {
		json_t *err = json_object_get(m, "error");
		const char *msg = json_string_value(json_object_get(err, "message"));
		lb_errf(&e->reader_em, LB_EUNAVAILABLE, "etcd watch error: %s",
			msg ? msg : "unknown");
		json_decref(m);
		return LB_EUNAVAILABLE;
	}
	const char *compact = json_string_value(json_object_get(res, "compact_revision"));
	if (compact && strtoll(compact, NULL, 10) > 0) {
		lb_errf(&e->reader_em, LB_ECORRUPT,
			"etcd compacted its history up to revision %s, past what this node has "
			"applied (revision %lld): this node must catch up from a peer snapshot",
			compact, (long long)e->cur_rev);
		json_decref(m);
		return LB_ECORRUPT;
	}
	if (json_is_true(json_object_get(res, "canceled"))) {
		const char *why = json_string_value(json_object_get(res, "cancel_reason"));
		lb_errf(&e->reader_em, LB_EUNAVAILABLE, "etcd cancelled the watch: %s",
			why ? why : "no reason given");
		json_decref(m);
		return LB_EUNAVAILABLE;
	}
	json_t *evs = json_object_get(res, "events");
	size_t i;
	json_t *ev;
	json_array_foreach(evs, i, ev)
	{
		json_t *kv = json_object_get(ev, "kv");
		const char *type = json_string_value(json_object_get(ev, "type"));
		const char *mr = json_string_value(json_object_get(kv, "mod_revision"));
		int64_t rev = mr ? strtoll(mr, NULL, 10) : 0;
		if (rev <= 0)
			continue;
		if (rev == e->cur_rev) {
			e->cur_idx++;
		} else {
			e->cur_rev = rev;
			e->cur_idx = 0;
		}
		struct etcd_pos pos = {e->cur_rev, e->cur_idx, 0};
		if (pos.rev < e->skip_to.rev ||
		    (pos.rev == e->skip_to.rev && pos.idx <= e->skip_to.idx))
			continue;
		e->skip_to = pos;
		if (type && strcmp(type, "PUT"))
			continue; /* DELETE: history clean-up, nothing to order */
		const char *k64 = json_string_value(json_object_get(kv, "key"));
		const char *v64 = json_string_value(json_object_get(kv, "value"));
		size_t klen = 0, vlen = 0;
		uint8_t *key = k64 ? b64_dec(k64, &klen) : NULL;
		uint8_t *val = v64 ? b64_dec(v64, &vlen) : NULL;
		if (key)
			rc = cutter_event(&e->cutter, pos, key, klen, val ? val : (uint8_t *)"",
					  val ? vlen : 0, &e->reader_em);
		lb_free(key);
		lb_free(val);
		if (rc)
			break;
	}
	json_decref(m);
	return rc;
}

/* Publish what waits to be cut, for the writer's markers. Reader thread. */
static void publish_waiting(struct etcd *e)
{
	bool wake = false;
	pthread_mutex_lock(&e->mu);
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		struct etcd_chain_cut *ch = &e->cutter.ch[c];
		wake |= ch->n && !e->waiting[c].n;
		e->waiting[c].n = ch->n;
		e->waiting[c].height = ch->height;
		e->waiting[c].first_seen_ns = ch->first_seen_ns;
	}
	if (wake)
		pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->mu);
}

static size_t on_watch_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct etcd *e = ctx;
	size_t n = size * nmemb;
	pthread_mutex_lock(&e->mu);
	e->watch_msg_ns = lb_mono_ns();
	pthread_mutex_unlock(&e->mu);
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (p + i)) : n - i;
		if (lb_buf_add(&e->line, p + i, k)) {
			lb_errf(&e->reader_em, LB_ENOMEM, "etcd watch message too large");
			e->reader_rc = LB_ENOMEM;
			return 0;
		}
		i += k;
		if (!nl)
			break;
		i++;
		if (e->line.len) {
			int rc = reader_message(e, (const char *)e->line.data, e->line.len);
			lb_buf_reset(&e->line);
			if (rc) {
				e->reader_rc = rc;
				return 0;
			}
		}
	}
	publish_waiting(e);
	pthread_mutex_lock(&e->mu);
	if (e->skip_to.rev > e->read_rev) {
		e->read_rev = e->skip_to.rev;
		e->read_ns = lb_mono_ns();
	}
	pthread_mutex_unlock(&e->mu);
	return n;
}

static int on_watch_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct etcd *e = ctx;
	uint64_t now = lb_mono_ns();
	pthread_mutex_lock(&e->mu);
	bool stop = e->stopping;
	/* a member that stopped answering (paused, cut off) sends nothing: not even the
	 * progress notifications; and our own stored writes do not show up */
	bool silent = now - e->watch_msg_ns > WATCH_SILENCE_NS;
	uint64_t since = e->write_rev_ns > e->read_ns ? e->write_rev_ns : e->read_ns;
	bool behind = e->write_rev > e->read_rev && now - since > WATCH_SILENCE_NS;
	pthread_mutex_unlock(&e->mu);
	if (silent || behind) {
		lb_errf(&e->reader_em, LB_EUNAVAILABLE, "etcd watch at %s is silent",
			e->urls[e->rurl]);
		return 1;
	}
	return stop ? 1 : 0;
}

static void *reader_loop(void *arg)
{
	struct etcd *e = arg;
	CURL *h = curl_easy_init();
	uint64_t backoff = 50000000u;
	while (h) {
		pthread_mutex_lock(&e->mu);
		bool stop = e->stopping;
		size_t url = e->rurl;
		e->watch_msg_ns = e->read_ns = lb_mono_ns();
		pthread_mutex_unlock(&e->mu);
		if (stop)
			break;
		/* replay the revision being processed from its start: events already handled
		 * are skipped by position */
		int64_t start = e->skip_to.rev > 0 ? e->skip_to.rev : 1;
		e->cur_rev = 0;
		e->cur_idx = -1;
		char body[512], target[512], kb[128], eb[128];
		const char *pfx = e->cutter.prefix;
		size_t plen = e->cutter.prefix_len;
		char end[ETCD_PREFIX_MAX];
		memcpy(end, pfx, plen);
		end[plen - 1]++; /* '/' + 1: the end of the prefix range */
		sodium_bin2base64(kb, sizeof kb, (const uint8_t *)pfx, plen,
				  sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(eb, sizeof eb, (const uint8_t *)end, plen,
				  sodium_base64_VARIANT_ORIGINAL);
		snprintf(body, sizeof body,
			 "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\","
			 "\"start_revision\":\"%lld\",\"progress_notify\":true,\"fragment\":true}}",
			 kb, eb, (long long)start);
		snprintf(target, sizeof target, "%s/v3/watch", e->urls[url]);
		struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_reset(h);
		curl_common(e, h);
		curl_easy_setopt(h, CURLOPT_URL, target);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_watch_data);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, e);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_watch_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, e);
		char errbuf[CURL_ERROR_SIZE] = "";
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		e->reader_rc = LB_OK;
		lb_errclear(&e->reader_em);
		lb_buf_reset(&e->line);
		pthread_mutex_lock(&e->mu);
		e->watching = true;
		pthread_mutex_unlock(&e->mu);
		CURLcode cc = curl_easy_perform(h);
		curl_slist_free_all(hdr);
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		pthread_mutex_lock(&e->mu);
		e->watching = false;
		stop = e->stopping;
		pthread_mutex_unlock(&e->mu);
		if (stop)
			break;
		if (e->reader_rc && e->reader_rc != LB_EUNAVAILABLE) {
			/* a block could not be committed, or history is gone: stop for good */
			pthread_mutex_lock(&e->mu);
			e->failed = true;
			snprintf(e->fail_text, sizeof e->fail_text, "%s", e->reader_em.text);
			pthread_mutex_unlock(&e->mu);
			lb_log(LB_LOG_ERROR, "etcd orderer: %s; ordering stopped", e->reader_em.text);
			break;
		}
		lb_log(LB_LOG_WARN, "etcd orderer: watch on %s ended (%s); reconnecting",
		       e->urls[url],
		       e->reader_em.text[0] ? e->reader_em.text
			: cc != CURLE_OK ? (errbuf[0] ? errbuf : curl_easy_strerror(cc))
			: status != 200 ? "HTTP error" : "stream closed");
		pthread_mutex_lock(&e->mu);
		e->rurl = (e->rurl + 1) % e->nurls;
		timed_wait(&e->wake, &e->mu, backoff);
		pthread_mutex_unlock(&e->mu);
		backoff = backoff * 2 > 1000000000u ? 1000000000u : backoff * 2;
	}
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

/* ---- operations ----------------------------------------------------------------------- */

static int etcd_submit(struct lb_orderer *o, int chain, const uint8_t *raw, size_t len)
{
	struct etcd *e = (struct etcd *)o;
	uint8_t *copy = lb_malloc(len);
	if (!copy)
		return LB_ENOMEM;
	memcpy(copy, raw, len);
	pthread_mutex_lock(&e->mu);
	if (e->qn == e->qcap) {
		if (e->qhead) {
			memmove(e->q, e->q + e->qhead, (e->qn - e->qhead) * sizeof *e->q);
			e->qn -= e->qhead;
			e->qhead = 0;
		}
		if (e->qn == e->qcap) {
			size_t ncap = e->qcap ? e->qcap * 2 : 4096;
			struct item *q = lb_realloc(e->q, ncap * sizeof *q);
			if (!q) {
				pthread_mutex_unlock(&e->mu);
				lb_free(copy);
				return LB_ENOMEM;
			}
			e->q = q;
			e->qcap = ncap;
		}
	}
	struct item *it = &e->q[e->qn++];
	it->chain = chain;
	it->raw = copy;
	it->len = len;
	e->submitted++;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->mu);
	return LB_OK;
}

/* A block of chain is wanted as an anchor: the writer asks for one with an anchor marker. */
static void etcd_anchor(struct lb_orderer *o, int chain)
{
	struct etcd *e = (struct etcd *)o;
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return;
	pthread_mutex_lock(&e->mu);
	e->anchor_want[chain] = true;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->mu);
}

static int etcd_ready(struct lb_orderer *o, struct lb_errmsg *em)
{
	struct etcd *e = (struct etcd *)o;
	int rc = LB_OK;
	pthread_mutex_lock(&e->mu);
	if (e->failed)
		rc = lb_errf(em, LB_EUNAVAILABLE,
			     "ordering unavailable: this node stopped ordering (%s); see its log",
			     e->fail_text);
	else if (!e->available && e->members[0])
		rc = lb_errf(em, LB_EUNAVAILABLE,
			     "ordering unavailable: this node is running, but its consortium "
			     "ordering (etcd) cannot store txs: %s. Nothing was accepted (reads still "
			     "work); restart the etcd members that do not answer, and ordering "
			     "resumes by itself",
			     e->members);
	else if (!e->available)
		rc = lb_errf(em, LB_EUNAVAILABLE,
			     "ordering unavailable: this node is running, but its consortium "
			     "ordering (etcd) cannot store txs: the etcd cluster cannot be reached or "
			     "has no quorum (%s). Nothing was accepted (reads still work); ordering "
			     "resumes by itself once a majority of the etcd members answers",
			     e->reason[0] ? e->reason : "not connected yet");
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static int etcd_sync(struct lb_orderer *o, uint32_t timeout_ms, struct lb_errmsg *em)
{
	struct etcd *e = (struct etcd *)o;
	uint64_t deadline = lb_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	int rc = LB_OK;
	pthread_mutex_lock(&e->mu);
	uint64_t want = e->submitted;
	while (e->stored < want && !e->stopping && !e->failed) {
		uint64_t now = lb_mono_ns();
		if (now >= deadline)
			break;
		timed_wait(&e->stored_cv, &e->mu, deadline - now);
	}
	if (e->stored < want)
		rc = lb_errf(em, LB_EUNAVAILABLE,
			     "ordering unavailable: the txs were accepted by this node but etcd did "
			     "not confirm storing them within %u ms (%s); they may still be "
			     "committed - look them up by id before sending them again (sending "
			     "the same tx again is safe)",
			     timeout_ms, e->reason[0] ? e->reason : "slow cluster");
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static json_t *etcd_status(struct lb_orderer *o)
{
	struct etcd *e = (struct etcd *)o;
	json_t *urls = json_array();
	for (size_t i = 0; i < e->nurls; i++)
		json_array_append_new(urls, json_string(e->urls[i]));
	pthread_mutex_lock(&e->mu);
	json_t *j = json_pack(
		"{s:s,s:b,s:s?,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:I}", "backend", "etcd",
		"available", e->available && !e->failed,
		"reason", e->failed ? e->fail_text : e->reason[0] ? e->reason : NULL,
		"endpoints", urls, "submitted", (json_int_t)e->submitted, "stored",
		(json_int_t)e->stored, "waiting", (json_int_t)(e->qn - e->qhead), "batches",
		(json_int_t)e->batches, "duplicates", (json_int_t)e->dup_txs, "revision",
		(json_int_t)e->read_rev, "watching", e->watching, "batch_max",
		(json_int_t)e->batch_max);
	if (j && e->checkpointed)
		json_object_set_new(j, "compacted", json_integer((json_int_t)e->compacted));
	if (j && e->members[0])
		json_object_set_new(j, "members", json_string(e->members));
	pthread_mutex_unlock(&e->mu);
	return j;
}

/* Each cut goes to deliver (the node commits it) with its cursor handed to the ledger first,
 * to be stored with the block in the same SQL transaction. */
static int commit_cut(void *ctx, const struct lb_cut *cut, const uint8_t *cursor,
		      size_t cursor_len, struct lb_errmsg *em)
{
	struct etcd *e = ctx;
	int rc = lb_ledger_cursor_set(e->ledger, cut->chain, cursor, cursor_len);
	if (rc)
		return lb_errf(em, rc, "cannot hand the orderer position to the ledger");
	if ((rc = e->deliver(e->ctx, cut, em)))
		return rc;
	if (cursor_len == ETCD_CURSOR_LEN) {
		uint64_t height = lb_ledger_height(e->ledger, cut->chain), r = 0;
		for (int i = 24; i < 32; i++)
			r = r << 8 | cursor[i];
		pthread_mutex_lock(&e->mu);
		e->ring[cut->chain][height % RESUME_RING].height = height;
		e->ring[cut->chain][height % RESUME_RING].resume = (int64_t)r;
		pthread_mutex_unlock(&e->mu);
	}
	return LB_OK;
}

static int etcd_start(struct lb_orderer *o, lb_deliver_fn deliver, void *ctx,
		      struct lb_errmsg *em)
{
	struct etcd *e = (struct etcd *)o;
	e->deliver = deliver;
	e->ctx = ctx;
	uint64_t block_max = e->cutter.block_max;
	cutter_init(&e->cutter, lb_ledger_network_id(e->ledger), block_max, commit_cut, e);
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		uint8_t cur[ETCD_CURSOR_LEN];
		int rc = lb_ledger_cursor(e->ledger, c, cur, sizeof cur);
		if (rc && rc != LB_ENOTFOUND)
			return lb_errf(em, rc, "%s chain: the stored orderer position is unreadable",
				       lb_chain_name(c));
		cutter_restore_chain(&e->cutter, c, lb_ledger_height(e->ledger, c) + 1,
				     rc ? NULL : cur);
	}
	e->skip_to.rev = cutter_resume_rev(&e->cutter);
	e->skip_to.idx = -1;
	lb_log(LB_LOG_INFO, "etcd orderer: reading the ordered stream from revision %lld (%zu "
			    "endpoints)",
	       (long long)e->skip_to.rev, e->nurls);
	if (pthread_create(&e->writer, NULL, writer_loop, e))
		return lb_errf(em, LB_EINTERNAL, "cannot start the etcd writer thread");
	if (pthread_create(&e->reader, NULL, reader_loop, e)) {
		pthread_mutex_lock(&e->mu);
		e->stopping = true;
		pthread_cond_broadcast(&e->wake);
		pthread_mutex_unlock(&e->mu);
		pthread_join(e->writer, NULL);
		return lb_errf(em, LB_EINTERNAL, "cannot start the etcd reader thread");
	}
	e->started = true;
	return LB_OK;
}

static void etcd_stop(struct lb_orderer *o)
{
	struct etcd *e = (struct etcd *)o;
	if (!e->started)
		return;
	/* give the writer a moment to store what is queued (acknowledged txs already are) */
	pthread_mutex_lock(&e->mu);
	uint64_t until = lb_mono_ns() + 2000000000ull;
	while (e->stored < e->submitted && e->available && !e->failed && lb_mono_ns() < until)
		timed_wait(&e->stored_cv, &e->mu, 100000000u);
	e->stopping = true;
	pthread_cond_broadcast(&e->wake);
	pthread_cond_broadcast(&e->stored_cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->writer, NULL);
	pthread_join(e->reader, NULL);
	e->started = false;
}

static void etcd_free(struct lb_orderer *o)
{
	struct etcd *e = (struct etcd *)o;
	if (!e)
		return;
	etcd_stop(o);
	for (size_t i = e->qhead; i < e->qn; i++)
		lb_free(e->q[i].raw);
	lb_free(e->q);
	cutter_release(&e->cutter);
	lb_buf_release(&e->line);
	for (size_t i = 0; i < e->nurls; i++)
		lb_free(e->urls[i]);
	lb_free(e->ca);
	lb_free(e->cert);
	lb_free(e->key);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->wake);
	pthread_cond_destroy(&e->stored_cv);
	lb_free(e);
}

static const struct lb_orderer_ops etcd_ops = {
	.name = "etcd",
	.submit = etcd_submit,
	.start = etcd_start,
	.stop = etcd_stop,
	.free = etcd_free,
	.ready = etcd_ready,
	.sync = etcd_sync,
	.status = etcd_status,
	.anchor = etcd_anchor,
};

int lb_orderer_etcd_new(struct lb_orderer **out, const struct lb_etcd_options *opt,
			struct lb_errmsg *em)
{
	if (!opt->endpoints || !*opt->endpoints || !opt->ledger)
		return lb_errf(em, LB_EINVALID, "etcd orderer: no etcd endpoints given");
	if (!opt->ca_file != !opt->cert_file || !opt->ca_file != !opt->key_file)
		return lb_errf(em, LB_EINVALID,
			       "etcd orderer: give all three TLS files (CA, certificate, key) or none");
	if (opt->ca_file) {
		/* the TLS layer's own checks, for a clear message before anything runs: files
		 * readable, key matching certificate, CA loadable */
		struct lb_tls_config tc = {.ca_file = opt->ca_file, .cert_file = opt->cert_file,
					   .key_file = opt->key_file};
		lb_tls_ctx *ctx;
		int rc = lb_tls_ctx_new(&ctx, 0, &tc, em);
		if (rc)
			return lb_errwrap(em, "etcd orderer: ");
		lb_tls_ctx_free(ctx);
	}
	pthread_once(&curl_once, curl_init_once);
	struct etcd *e = lb_calloc(1, sizeof *e);
	if (!e)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	e->base.ops = &etcd_ops;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->wake, NULL);
	pthread_cond_init(&e->stored_cv, NULL);
	lb_buf_init(&e->line, REPLY_MAX);
	e->ledger = opt->ledger;
	e->batch_max = opt->batch_max_txs ? opt->batch_max_txs : 2000;
	e->checkpointed = opt->checkpointed;
	e->checkpointed_ctx = opt->checkpointed_ctx;
	e->interval_ns = (uint64_t)(opt->block_interval_ms ? opt->block_interval_ms : 200) * 1000000u;
	e->cutter.block_max = opt->block_max_txs ? opt->block_max_txs : LB_ETCD_BLOCK_MAX_DEFAULT;
	snprintf(e->reason, sizeof e->reason, "not connected yet");
	const char *p = opt->endpoints;
	int rc = LB_OK;
	while (*p && !rc) {
		size_t n = strcspn(p, ",");
		if (n == 0) {
			p++;
			continue;
		}
		if (e->nurls == MAX_URLS) {
			rc = lb_errf(em, LB_ELIMIT, "etcd orderer: at most %d endpoints", MAX_URLS);
			break;
		}
		bool tls = n > 8 && !strncmp(p, "https://", 8);
		if (!tls && !(n > 7 && !strncmp(p, "http://", 7)))
			rc = lb_errf(em, LB_EINVALID,
				     "etcd orderer: endpoint '%.*s' is not an http:// or https:// URL",
				     (int)(n > 100 ? 100 : n), p);
		else if (tls != (opt->ca_file != NULL))
			rc = lb_errf(em, LB_EINVALID,
				     "etcd orderer: endpoint '%.*s': use https:// with the TLS files "
				     "(--tls-ca, --tls-cert, --tls-key) and http:// without",
				     (int)(n > 100 ? 100 : n), p);
		else if (!(e->urls[e->nurls] = lb_malloc(n + 1)))
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
		else {
			memcpy(e->urls[e->nurls], p, n);
			e->urls[e->nurls][n] = 0;
			while (n > 1 && e->urls[e->nurls][n - 1] == '/')
				e->urls[e->nurls][--n] = 0;
			e->nurls++;
		}
		p += n;
	}
	if (!rc && !e->nurls)
		rc = lb_errf(em, LB_EINVALID, "etcd orderer: no etcd endpoints given");
	if (!rc && opt->ca_file &&
	    (!(e->ca = lb_strdup(opt->ca_file)) || !(e->cert = lb_strdup(opt->cert_file)) ||
	     !(e->key = lb_strdup(opt->key_file))))
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
	if (rc) {
		etcd_free(&e->base);
		return rc;
	}
	/* distribute the load: each node starts on another member */
	e->wurl = e->rurl = (size_t)(lb_ledger_network_id(e->ledger)[0] + lb_mono_ns()) % e->nurls;
	*out = &e->base;
	return LB_OK;
}

/* ---- etcd's membership API (consortium admission and removal; docs/consortium.md) ---------- */

int lb_etcd_member_call(const char *endpoints, const char *ca, const char *cert,
			const char *key, const char *op, json_t *body, json_t **reply,
			struct lb_errmsg *em)
{
	struct etcd e;
	char *list = NULL, *save = NULL, why[512] = "";
	int rc = LB_EUNAVAILABLE;
	*reply = NULL;
	memset(&e, 0, sizeof e);
	if (strcmp(op, "list") && strcmp(op, "add") && strcmp(op, "remove") &&
	    strcmp(op, "promote"))
		return lb_errf(em, LB_EINVALID, "'%s' is not an etcd membership call", op);
	if (!endpoints || !*endpoints || !(list = lb_strdup(endpoints)))
		return lb_errf(em, LB_EINVALID, "no etcd endpoints given (--etcd-endpoints or "
						"etcd_endpoints in config.json)");
	pthread_once(&curl_once, curl_init_once);
	for (char *t = strtok_r(list, ",", &save); t && e.nurls < MAX_URLS;
	     t = strtok_r(NULL, ",", &save))
		e.urls[e.nurls++] = t;
	e.ca = (char *)ca;
	e.cert = (char *)cert;
	e.key = (char *)key;
	char path[64];
	snprintf(path, sizeof path, "/v3/cluster/member/%s", op);
	json_t *empty = json_object();
	char *text = json_dumps(body ? body : empty, JSON_COMPACT);
	json_decref(empty);
	struct lb_buf b = {0};
	lb_buf_init(&b, 1 << 16);
	CURL *h = curl_easy_init();
	if (!text || !h || lb_buf_add(&b, text, strlen(text))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	/* a membership change is answered by the member that takes it; try each endpoint until
	 * one answers (a removed or stopped member does not) */
	for (size_t i = 0; i < e.nurls; i++) {
		rc = post(&e, h, i, path, &b, reply, why, sizeof why);
		if (!rc || strstr(why, "HTTP 4") || strstr(why, "HTTP 5"))
			break;
	}
	if (rc)
		rc = lb_errf(em, rc, "etcd membership call '%s' failed: %s", op, why);
out:
	if (h)
		curl_easy_cleanup(h);
	free(text);
	lb_buf_release(&b);
	lb_free(list);
	return rc;
}
