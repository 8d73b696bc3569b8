/* Consortium benchmark client (run by scripts/bench-cluster.sh against scripts/cluster.sh).
 *
 *   bench_cluster txs TOTAL CLIENTS BATCH URL...
 *     signs TOTAL business-chain `record` txs up front (each client its own senders), then
 *     CLIENTS threads each POST a batch of BATCH txs to node URL[client % n] and poll that
 *     node until the batch's last tx is committed, then send the next (closed loop). Prints
 *     committed tx/s (all acknowledged txs over the time from the first POST to the last
 *     commit seen), and p50/p99 batch latency (POST until its last tx is committed).
 *   bench_cluster etcd-put SECONDS CLIENTS CA CERT KEY URL...
 *     CLIENTS threads each PUT 250-byte values one after the other through etcd's HTTP/JSON
 *     gateway with mutual TLS, for SECONDS; prints puts/s. BENCH_PUT_VALUE_BYTES changes the
 *     value size (e.g. one value carrying a whole batch of txs).
 *   bench_cluster sign URL N
 *     prints N signed business-chain records for the node's network, each from a fresh key
 *     with nonce 0, one hex line each (workloads of the fault tests).
 * Output lines are "name: value" for the script to pick up. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "leben/api.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/ledger.h"
#include "leben/tx.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static size_t sink(char *p, size_t s, size_t n, void *ctx)
{
	struct lb_buf *b = ctx;
	if (b && lb_buf_add(b, p, s * n))
		return 0;
	return s * n;
}

/* POST (body != NULL) or GET url; HTTP status, reply in *reply if given. */
static long request(CURL *h, const char *url, const char *body, size_t len, struct lb_buf *reply,
		    const char *ca, const char *cert, const char *key)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	if (!ca && !strncmp(url, "https://", 8)) { /* a node's API: a member's certificate */
		ca = getenv("LEBEN_TLS_CA");
		cert = getenv("LEBEN_TLS_CERT");
		key = getenv("LEBEN_TLS_KEY");
	}
	if (ca) {
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
		curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
	long status = 0;
	if (reply)
		lb_buf_reset(reply);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	return status;
}

/* ---- txs through the nodes ------------------------------------------------------------- */

struct client {
	int id;
	const char *url;
	char **bodies;          /* one JSON body per batch */
	size_t *body_lens;
	char (*last_ids)[2 * LB_HASH_LEN + 1];
	size_t nbatches, batch;
	uint64_t *lat;          /* per batch, ns */
	uint64_t *ack;          /* per batch: POST until acknowledged, ns */
	uint64_t acked, refused;
	uint64_t end_ns;
};

static void *client_run(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();
	struct lb_buf r;
	char url[512];
	lb_buf_init(&r, 64u << 20);
	for (size_t b = 0; b < c->nbatches; b++) {
		uint64_t t0 = lb_mono_ns();
		snprintf(url, sizeof url, "%s/v1/txs", c->url);
		long st = request(h, url, c->bodies[b], c->body_lens[b], &r, NULL, NULL, NULL);
		c->ack[b] = lb_mono_ns() - t0;
		json_t *j = st == 200 ? json_loadb((const char *)r.data, r.len, 0, NULL) : NULL;
		uint64_t acc = (uint64_t)json_integer_value(json_object_get(j, "accepted"));
		json_decref(j);
		c->acked += acc;
		c->refused += c->batch - acc;
		if (st != 200) {
			fprintf(stderr, "client %d: POST answered %ld: %.200s\n", c->id, st,
				r.data ? (const char *)r.data : "");
			continue;
		}
		snprintf(url, sizeof url, "%s/v1/txs/%s", c->url, c->last_ids[b]);
		for (;;) {
			st = request(h, url, NULL, 0, &r, NULL, NULL, NULL);
			if (st == 200 && r.data && !strstr((const char *)r.data, "\"pending\""))
				break;
			struct timespec ts = {0, 5000000};
			nanosleep(&ts, NULL);
		}
		c->lat[b] = lb_mono_ns() - t0;
	}
	c->end_ns = lb_mono_ns();
	lb_buf_release(&r);
	curl_easy_cleanup(h);
	return NULL;
}

static int run_txs(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	size_t total = strtoul(argv[2], NULL, 10), nclients = strtoul(argv[3], NULL, 10);
	size_t batch = strtoul(argv[4], NULL, 10);
	char **urls = argv + 5;
	size_t nurls = (size_t)argc - 5;
	if (!total || !nclients || !batch || nclients > 256)
		return 2;
	json_t *st;
	struct lb_errmsg em;
	if (lb_client_get(urls[0], "/v1/status", &st, &em)) {
		fprintf(stderr, "status: %s\n", em.text);
		return 1;
	}
	uint8_t net[LB_HASH_LEN];
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	if (!nid || lb_hex_decode(net, LB_HASH_LEN, nid)) {
		fprintf(stderr, "no network id\n");
		return 1;
	}
	json_decref(st);
	size_t per = total / nclients / batch;
	if (!per)
		per = 1;
	struct client *cl = lb_calloc(nclients, sizeof *cl);
	struct lb_buf pl, raw;
	lb_buf_init(&pl, 4096);
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	uint8_t data[120];
	size_t tx_bytes = 0;
	uint64_t sign0 = lb_mono_ns();
	for (size_t i = 0; i < nclients; i++) {
		struct client *c = &cl[i];
		c->id = (int)i;
		c->url = urls[i % nurls];
		c->nbatches = per;
		c->batch = batch;
		c->bodies = lb_calloc(per, sizeof *c->bodies);
		c->body_lens = lb_calloc(per, sizeof *c->body_lens);
		c->last_ids = lb_calloc(per, sizeof *c->last_ids);
		c->lat = lb_calloc(per, sizeof *c->lat);
		c->ack = lb_calloc(per, sizeof *c->ack);
		/* one sender per client: its nonces run 0, 1, 2, ... over its batches */
		struct lb_keypair kp;
		lb_keypair_generate(&kp);
		uint64_t nonce = 0;
		for (size_t b = 0; b < per; b++) {
			struct lb_buf body;
			lb_buf_init(&body, 64u << 20);
			lb_buf_adds(&body, "{\"txs\":[");
			for (size_t k = 0; k < batch; k++) {
				uint8_t subject[LB_HASH_LEN];
				randombytes_buf(subject, sizeof subject);
				randombytes_buf(data, sizeof data);
				lb_buf_reset(&pl);
				lb_payload_record(&pl, "bench.event", subject, data, sizeof data);
				struct lb_tx t = {.version = LB_TX_VERSION, .chain = LB_CHAIN_BUSINESS,
						  .type = LB_TX_RECORD, .nonce = nonce++,
						  .payload = pl.data, .payload_len = pl.len};
				lb_buf_reset(&raw);
				if (lb_tx_build(&raw, &t, net, &kp, NULL))
					return 1;
				tx_bytes = raw.len;
				char *hex = lb_malloc(2 * raw.len + 1);
				lb_hex_encode(hex, raw.data, raw.len);
				lb_buf_adds(&body, k ? ",\"" : "\"");
				lb_buf_adds(&body, hex);
				lb_buf_adds(&body, "\"");
				lb_free(hex);
				if (k == batch - 1) {
					uint8_t id[LB_HASH_LEN];
					lb_hash(id, raw.data, raw.len);
					lb_hex_encode(c->last_ids[b], id, LB_HASH_LEN);
				}
			}
			lb_buf_adds(&body, "]}");
			c->body_lens[b] = body.len;
			c->bodies[b] = (char *)lb_buf_detach(&body, &c->body_lens[b]);
		}
		lb_keypair_wipe(&kp);
	}
	printf("signed txs: %zu of %zu bytes in %.2f s\n", nclients * per * batch, tx_bytes,
	       (double)(lb_mono_ns() - sign0) / 1e9);
	fflush(stdout);
	pthread_t *th = lb_calloc(nclients, sizeof *th);
	uint64_t t0 = lb_mono_ns(), end = t0, acked = 0, refused = 0;
	for (size_t i = 0; i < nclients; i++)
		pthread_create(&th[i], NULL, client_run, &cl[i]);
	size_t nl = 0;
	uint64_t *lat = lb_calloc(nclients * per, sizeof *lat);
	uint64_t *ack = lb_calloc(nclients * per, sizeof *ack);
	for (size_t i = 0; i < nclients; i++) {
		pthread_join(th[i], NULL);
		acked += cl[i].acked;
		refused += cl[i].refused;
		if (cl[i].end_ns > end)
			end = cl[i].end_ns;
		for (size_t b = 0; b < per; b++)
			if (cl[i].lat[b]) {
				ack[nl] = cl[i].ack[b];
				lat[nl++] = cl[i].lat[b];
			}
	}
	qsort(lat, nl, sizeof *lat, cmp_u64);
	qsort(ack, nl, sizeof *ack, cmp_u64);
	double secs = (double)(end - t0) / 1e9;
	printf("acknowledged txs: %llu (refused %llu)\n", (unsigned long long)acked,
	       (unsigned long long)refused);
	printf("committed tx/s: %.0f\n", secs > 0 ? (double)acked / secs : 0);
	printf("latency p50 ms: %.1f\n", nl ? (double)lat[nl / 2] / 1e6 : 0);
	printf("latency p99 ms: %.1f\n", nl ? (double)lat[(nl * 99) / 100] / 1e6 : 0);
	printf("acknowledgement p50 ms: %.1f\n", nl ? (double)ack[nl / 2] / 1e6 : 0);
	return refused ? 1 : 0;
}

/* ---- signed txs for test workloads ----------------------------------------------------- */

/* N business-chain records, each from a fresh key with nonce 0 (no tx depends on another),
 * one hex line each: for fault tests, where any tx may be lost before it is stored. */
static int run_sign(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	size_t n = strtoul(argv[3], NULL, 10);
	json_t *st;
	struct lb_errmsg em;
	if (!n || lb_client_get(argv[2], "/v1/status", &st, &em)) {
		fprintf(stderr, "status: %s\n", n ? em.text : "bad count");
		return n ? 1 : 2;
	}
	uint8_t net[LB_HASH_LEN];
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	if (!nid || lb_hex_decode(net, LB_HASH_LEN, nid))
		return 1;
	json_decref(st);
	struct lb_buf pl, raw;
	lb_buf_init(&pl, 4096);
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	char *hex = lb_malloc(2 * LB_TX_MAX_BYTES + 1);
	for (size_t i = 0; i < n; i++) {
		struct lb_keypair kp;
		uint8_t subject[LB_HASH_LEN];
		lb_keypair_generate(&kp);
		randombytes_buf(subject, sizeof subject);
		lb_buf_reset(&pl);
		lb_payload_record(&pl, "fault.event", subject, "x", 1);
		struct lb_tx t = {.version = LB_TX_VERSION, .chain = LB_CHAIN_BUSINESS,
				  .type = LB_TX_RECORD, .payload = pl.data, .payload_len = pl.len};
		lb_buf_reset(&raw);
		if (lb_tx_build(&raw, &t, net, &kp, NULL))
			return 1;
		lb_keypair_wipe(&kp);
		lb_hex_encode(hex, raw.data, raw.len);
		puts(hex);
	}
	lb_free(hex);
	lb_buf_release(&pl);
	lb_buf_release(&raw);
	return 0;
}

/* ---- etcd's own put rate -------------------------------------------------------------------- */

struct putter {
	int id;
	const char *url, *ca, *cert, *key;
	size_t vsize;
	uint64_t until_ns, puts, errors;
};

static void *putter_run(void *arg)
{
	struct putter *p = arg;
	CURL *h = curl_easy_init();
	uint8_t *val = lb_malloc(p->vsize);
	size_t vbn = sodium_base64_encoded_len(p->vsize, sodium_base64_VARIANT_ORIGINAL);
	char kb[128], *vb = lb_malloc(vbn), *body = lb_malloc(vbn + 300), key[64], url[512];
	snprintf(url, sizeof url, "%s/v3/kv/put", p->url);
	for (uint64_t i = 0; lb_mono_ns() < p->until_ns; i++) {
		int kn = snprintf(key, sizeof key, "/bench-put/%d/%llu", p->id, (unsigned long long)i);
		randombytes_buf(val, p->vsize);
		sodium_bin2base64(kb, sizeof kb, (uint8_t *)key, (size_t)kn,
				  sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(vb, vbn, val, p->vsize, sodium_base64_VARIANT_ORIGINAL);
		int n = snprintf(body, vbn + 300, "{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
		if (request(h, url, body, (size_t)n, NULL, p->ca, p->cert, p->key) == 200)
			p->puts++;
		else
			p->errors++;
	}
	curl_easy_cleanup(h);
	lb_free(val);
	lb_free(vb);
	lb_free(body);
	return NULL;
}

static int run_put(int argc, char **argv)
{
	if (argc < 8)
		return 2;
	double secs = atof(argv[2]);
	size_t n = strtoul(argv[3], NULL, 10), nurls = (size_t)argc - 7;
	const char *vs = getenv("BENCH_PUT_VALUE_BYTES");
	size_t vsize = vs ? strtoul(vs, NULL, 10) : 250;
	if (secs <= 0 || !n || n > 256 || !vsize || vsize > (1u << 20))
		return 2;
	struct putter *p = lb_calloc(n, sizeof *p);
	pthread_t *th = lb_calloc(n, sizeof *th);
	uint64_t t0 = lb_mono_ns(), until = t0 + (uint64_t)(secs * 1e9), puts = 0, errs = 0;
	for (size_t i = 0; i < n; i++) {
		p[i] = (struct putter){.id = (int)i, .url = argv[7 + i % nurls], .ca = argv[4],
				       .cert = argv[5], .key = argv[6], .until_ns = until, .vsize = vsize};
		pthread_create(&th[i], NULL, putter_run, &p[i]);
	}
	for (size_t i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		puts += p[i].puts;
		errs += p[i].errors;
	}
	double el = (double)(lb_mono_ns() - t0) / 1e9;
	printf("etcd puts: %llu of %zu-byte values (errors %llu) with %zu clients\n",
	       (unsigned long long)puts, vsize, (unsigned long long)errs, n);
	printf("etcd put/s: %.0f\n", (double)puts / el);
	return 0;
}

int main(int argc, char **argv)
{
	if (lb_crypto_init() || curl_global_init(CURL_GLOBAL_DEFAULT))
		return 1;
	int rc = 2;
	if (argc > 1 && !strcmp(argv[1], "txs"))
		rc = run_txs(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "etcd-put"))
		rc = run_put(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "sign"))
		rc = run_sign(argc, argv);
	if (rc == 2)
		fprintf(stderr, "usage: bench_cluster txs TOTAL CLIENTS BATCH URL...\n"
				"       bench_cluster etcd-put SECONDS CLIENTS CA CERT KEY URL...\n"
				"       bench_cluster sign URL N\n");
	return rc;
}
