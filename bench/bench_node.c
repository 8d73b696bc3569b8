/* Node benchmark over the real API: creates a node home in a temporary directory (`leben
 * init`, then a genesis with 3000 funded accounts), starts `leben node` on a free port as a
 * child process, and measures from outside:
 *   - committed transfer tx/s through POST /v1/txs: three client threads (libcurl, one
 *     connection each, 1000 accounts each) post pre-signed batches of 1000 txs as fast as the
 *     node takes them; the clock runs from the first POST until GET /v1/status shows the
 *     settlement mempool empty (every admitted tx committed);
 *   - the node process's resident memory with the default mempool limits and block settings:
 *     the peak of VmRSS sampled every 20 ms under the load, and VmHWM (/proc/PID/status), which
 *     also holds the Argon2id unlock of the node key at start;
 *   - settlement database bytes per committed tx (after the node stops cleanly, which
 *     checkpoints the WAL into the file).
 * With SOAK_SECONDS=N it instead keeps a steady load (SOAK_RATE txs/s in total, default 2000,
 * signed as it goes) on the node for N seconds, samples its resident memory (VmRSS) every
 * SOAK_SAMPLE seconds (default 5) and prints first, last, peak and the least-squares slope.
 * The Ed25519 reference (verify/s per core x cores) is measured in the same run, before the
 * node starts, so the ratio can be read against the in-process one of bench_ledger.
 * It also prints how busy the cores were (the node's CPU-seconds per wall second, and with the
 * clients' added) and the load average.
 * Usage: bench_node [batches per client]   (default 60,000 txs in all; LEBEN_BIN = the leben
 * binary; BENCH_CLIENTS = client threads, default 3, at most 12) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/tx.h"

#include "bench_util.h"

#define BATCH 1000
#define MAX_CLIENTS 12
#define ACCTS_MAX (BATCH * MAX_CLIENTS)
#define PASS "bench-node"

static char home[] = "/tmp/lb-bench-node-XXXXXX";
static char base_url[64];
static uint8_t network[LB_HASH_LEN];
static int CLIENTS = 3; /* BENCH_CLIENTS, 1..MAX_CLIENTS */
#define ACCTS (BATCH * CLIENTS)
static struct lb_keypair kps[ACCTS_MAX];
static uint8_t addrs[ACCTS_MAX][LB_ADDR_LEN];
static pid_t node_pid;

static double vps_cpu; /* verifications per second of CPU time */

/* CPU seconds (user + system) the node process has used so far; -1 if unreadable. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* fields after the command name */
	unsigned long long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* kB value of a line of /proc/PID/status ("VmHWM", "VmRSS"); -1 if unreadable. */
static long proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	size_t fl = strlen(field);
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, fl) && line[fl] == ':')
			v = strtol(line + fl + 1, NULL, 10);
	fclose(f);
	return v;
}

static long db_bytes(void)
{
	char p[600];
	struct stat st;
	long n = 0;
	snprintf(p, sizeof p, "%s/chains/settlement.db", home);
	if (stat(p, &st) == 0)
		n += (long)st.st_size;
	snprintf(p, sizeof p, "%s/chains/settlement.db-wal", home);
	if (stat(p, &st) == 0)
		n += (long)st.st_size;
	return n;
}

static int run(char *const argv[])
{
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Start `leben node`, read the API URL it prints on stderr. */
static int start_node(const char *bin)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	node_pid = fork();
	if (node_pid < 0)
		return -1;
	if (node_pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execl(bin, bin, "node", "--home", home, "--api-port", "0", "--quiet", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	char line[512];
	int rc = -1;
	while (f && fgets(line, sizeof line, f)) {
		const char *u = strstr(line, "API listening on ");
		if (u) {
			snprintf(base_url, sizeof base_url, "%s", u + strlen("API listening on "));
			base_url[strcspn(base_url, "\r\n")] = 0;
			rc = 0;
			break;
		}
		fputs(line, stderr);
	}
	/* keep draining the node's stderr so it never blocks on a full pipe */
	if (rc == 0 && fork() == 0) {
		while (fgets(line, sizeof line, f))
			fputs(line, stderr);
		_exit(0);
	}
	if (f)
		fclose(f);
	return rc;
}

static void stop_node(void)
{
	if (node_pid > 0) {
		kill(node_pid, SIGTERM);
		waitpid(node_pid, NULL, 0);
		node_pid = 0;
	}
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

static size_t collect(char *p, size_t sz, size_t n, void *ctx)
{
	struct lb_buf *b = ctx;
	return lb_buf_add(b, p, sz * n) ? 0 : sz * n;
}

/* POST body to /v1/txs; the number of refused txs in *refused. -1 on a transport error. */
static int post_batch(CURL *c, const char *body, size_t len, long *refused)
{
	char url[128];
	struct lb_buf resp;
	lb_buf_init(&resp, 64u << 20);
	snprintf(url, sizeof url, "%s/v1/txs", base_url);
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	int rc = -1;
	if (cc == CURLE_OK && status == 200 && resp.data) {
		json_t *o = json_loadb((const char *)resp.data, resp.len, 0, NULL);
		json_t *r = json_object_get(o, "refused");
		if (json_is_integer(r)) {
			*refused = (long)json_integer_value(r);
			rc = 0;
			if (*refused) {
				json_t *res;
				size_t i;
				json_array_foreach(json_object_get(o, "results"), i, res)
				{
					json_t *e = json_object_get(res, "error");
					if (e) {
						fprintf(stderr, "refused: %s\n",
							json_string_value(json_object_get(e, "message")));
						break;
					}
				}
			}
		}
		json_decref(o);
	} else {
		fprintf(stderr, "POST /v1/txs: %s (HTTP %ld)\n", curl_easy_strerror(cc), status);
	}
	lb_buf_release(&resp);
	return rc;
}

/* Settlement txs waiting in the node's mempool; -1 on error. */
static long settlement_pending(CURL *c, uint64_t *height)
{
	char url[128];
	struct lb_buf resp;
	lb_buf_init(&resp, 1u << 20);
	snprintf(url, sizeof url, "%s/v1/status", base_url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	long n = -1;
	if (curl_easy_perform(c) == CURLE_OK && resp.data) {
		json_t *o = json_loadb((const char *)resp.data, resp.len, 0, NULL);
		json_t *s = json_object_get(json_object_get(o, "chains"), "settlement");
		json_t *p = json_object_get(s, "pending");
		if (json_is_integer(p))
			n = (long)json_integer_value(p);
		if (height)
			*height = (uint64_t)json_integer_value(json_object_get(s, "height"));
		json_decref(o);
	}
	lb_buf_release(&resp);
	return n;
}

/* ---- txs --------------------------------------------------------------------------------- */

/* Append the hex of a signed transfer from account a (nonce) to the next account. */
static int add_tx(struct lb_buf *body, struct lb_buf *raw, struct lb_buf *pl, int a,
		  uint64_t nonce)
{
	struct lb_tx t;
	memset(&t, 0, sizeof t);
	lb_buf_reset(pl);
	lb_buf_reset(raw);
	lb_payload_transfer(pl, addrs[(a + 1) % ACCTS], LB_ASC, 1, NULL);
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_SETTLEMENT;
	t.type = LB_TX_TRANSFER;
	t.nonce = nonce;
	t.fee = 1000;
	t.payload = pl->data;
	t.payload_len = pl->len;
	if (lb_tx_build(raw, &t, network, &kps[a], NULL) ||
	    lb_buf_reserve(body, 2 * raw->len + 4))
		return -1;
	body->data[body->len++] = '"';
	lb_hex_encode((char *)body->data + body->len, raw->data, raw->len);
	body->len += 2 * raw->len;
	body->data[body->len++] = '"';
	return 0;
}

/* A JSON array of n transfers, one from each of accounts first..first+n-1, with nonce. */
static int make_batch(struct lb_buf *body, int first, int n, uint64_t nonce)
{
	struct lb_buf raw, pl;
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	lb_buf_init(&pl, 1024);
	lb_buf_reset(body);
	int rc = lb_buf_add(body, "[", 1);
	for (int i = 0; i < n && !rc; i++) {
		if (i)
			rc = lb_buf_add(body, ",", 1);
		if (!rc)
			rc = add_tx(body, &raw, &pl, first + i, nonce);
	}
	if (!rc)
		rc = lb_buf_add(body, "]", 1); /* the buffer keeps a NUL past len */
	lb_buf_release(&raw);
	lb_buf_release(&pl);
	return rc;
}

struct client {
	pthread_t thread;
	int id;
	int batches;             /* throughput mode: pre-signed bodies */
	struct lb_buf *bodies;
	double rate;             /* soak mode: txs/s for this client */
	uint64_t until_ns;
	uint64_t sent;
	long refused;
	int failed;
};

static void *client_throughput(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();
	for (int b = 0; b < c->batches && h; b++) {
		long refused = 0;
		if (post_batch(h, (const char *)c->bodies[b].data, c->bodies[b].len, &refused)) {
			c->failed = 1;
			break;
		}
		c->refused += refused;
		c->sent += BATCH;
	}
	if (!h)
		c->failed = 1;
	curl_easy_cleanup(h);
	return NULL;
}

/* Soak: batches of 100 from this client's accounts in turn, paced to c->rate txs/s. */
/* Wait for the client threads; their txs sent and refused added up. Nonzero if one failed. */
static int join_clients(struct client *cl, uint64_t *sent, long *refused)
{
	int failed = 0;
	*sent = 0;
	*refused = 0;
	for (int c = 0; c < CLIENTS; c++) {
		pthread_join(cl[c].thread, NULL);
		*sent += cl[c].sent;
		*refused += cl[c].refused;
		failed |= cl[c].failed;
	}
	return failed;
}

static void *client_soak(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();
	struct lb_buf body;
	lb_buf_init(&body, 64u << 20);
	uint64_t nonce = 0, t0 = lb_mono_ns();
	int slice = 0;
	while (h && lb_mono_ns() < c->until_ns) {
		long refused = 0;
		int first = c->id * BATCH + slice * 100;
		if (make_batch(&body, first, 100, nonce) ||
		    post_batch(h, (const char *)body.data, body.len, &refused)) {
			c->failed = 1;
			break;
		}
		c->refused += refused;
		c->sent += 100;
		if (++slice == BATCH / 100) {
			slice = 0;
			nonce++;
		}
		uint64_t due = t0 + (uint64_t)((double)c->sent / c->rate * 1e9), now = lb_mono_ns();
		if (due > now)
			sleep_ms((unsigned)((due - now) / 1000000));
	}
	if (!h)
		c->failed = 1;
	lb_buf_release(&body);
	curl_easy_cleanup(h);
	return NULL;
}

/* Wait until the settlement mempool is empty (everything admitted is committed). */
static int wait_committed(CURL *h)
{
	for (int i = 0; i < 60000; i++) {
		long p = settlement_pending(h, NULL);
		if (p == 0)
			return 0;
		if (p < 0)
			return -1;
		sleep_ms(5);
	}
	return -1;
}

/* ---- main -------------------------------------------------------------------------------- */

static int setup(const char *bin)
{
	char *init[] = {(char *)bin, "init", "--home", home, "--network", "bench-node", NULL};
	if (run(init) != 0) {
		fprintf(stderr, "bench_node: '%s init' failed\n", bin);
		return -1;
	}
	json_t *accts = bench_accounts(kps, addrs, ACCTS, 0x6b);
	json_t *g = json_pack("{s:s,s:I,s:[],s:{s:i},s:o}", "network", "bench-node", "time_ms",
			      (json_int_t)lb_now_ms(), "credit_partners", "fees", "default", 1000,
			      "accounts", accts);
	struct lb_errmsg em;
	char path[600];
	uint8_t *text;
	size_t len;
	snprintf(path, sizeof path, "%s/genesis.json", home);
	int rc = lb_genesis_write(home, g, &em);
	json_decref(g);
	if (rc || lb_file_read(path, 4 << 20, &text, &len, &em)) {
		fprintf(stderr, "bench_node: genesis: %s\n", em.text);
		return -1;
	}
	lb_hash_domain(network, "LEBEN-genesis-v1", text, len);
	lb_free(text);
	if (start_node(bin)) {
		fprintf(stderr, "bench_node: the node did not start\n");
		return -1;
	}
	return 0;
}

/* Samples the node's VmRSS every 20 ms until told to stop; keeps the largest. */
struct sampler {
	pthread_t thread;
	volatile int stop;
	long peak_kb;
};

static void *sampler_main(void *arg)
{
	struct sampler *s = arg;
	while (!s->stop) {
		long kb = proc_kb(node_pid, "VmRSS");
		if (kb > s->peak_kb)
			s->peak_kb = kb;
		sleep_ms(20);
	}
	return NULL;
}

static int throughput(int batches, double ceiling)
{
	struct sampler smp = {.peak_kb = 0};
	struct client cl[MAX_CLIENTS];
	memset(cl, 0, sizeof cl);
	for (int c = 0; c < CLIENTS; c++) {
		cl[c].id = c;
		cl[c].batches = batches;
		cl[c].bodies = lb_calloc((size_t)batches, sizeof *cl[c].bodies);
		if (!cl[c].bodies)
			return -1;
		for (int b = 0; b < batches; b++) {
			lb_buf_init(&cl[c].bodies[b], 64u << 20);
			if (make_batch(&cl[c].bodies[b], c * BATCH, BATCH, (uint64_t)b))
				return -1;
		}
	}
	CURL *h = curl_easy_init();
	long db0 = db_bytes();
	uint64_t h0 = 0, h1 = 0;
	settlement_pending(h, &h0);
	if (pthread_create(&smp.thread, NULL, sampler_main, &smp))
		return -1;
	double cpu0 = proc_cpu_s(node_pid), self0 = proc_cpu_s(getpid());
	uint64_t t0 = lb_mono_ns();
	for (int c = 0; c < CLIENTS; c++)
		if (pthread_create(&cl[c].thread, NULL, client_throughput, &cl[c]))
			return -1;
	uint64_t sent;
	long refused;
	int failed = join_clients(cl, &sent, &refused);
	uint64_t t_posted = lb_mono_ns();
	if (failed || wait_committed(h)) {
		fprintf(stderr, "bench_node: posting or committing failed\n");
		curl_easy_cleanup(h);
		return -1;
	}
	uint64_t t1 = lb_mono_ns();
	double cpu1 = proc_cpu_s(node_pid), self1 = proc_cpu_s(getpid());
	smp.stop = 1;
	pthread_join(smp.thread, NULL);
	settlement_pending(h, &h1);
	curl_easy_cleanup(h);
	uint64_t committed = sent - (uint64_t)refused;
	double tps = (double)committed * 1e9 / (double)(t1 - t0);
	printf("node: committed transfer tx/s through POST /v1/txs (%d clients, batches of %d): "
	       "%.0f\n",
	       CLIENTS, BATCH, tps);
	printf("node: committed txs: %llu in %llu blocks, refused: %ld; all posted after %.2f s, "
	       "all committed after %.2f s\n",
	       (unsigned long long)committed, (unsigned long long)(h1 - h0), refused,
	       (double)(t_posted - t0) / 1e9, (double)(t1 - t0) / 1e9);
	printf("node: ratio committed / (verify per core x cores): %.3f\n", tps / ceiling);
	if (cpu0 >= 0 && cpu1 > cpu0)
		printf("node: cpu ratio (verification cpu / node cpu): %.3f (node used %.2f cpu-s, "
		       "%.1f us per tx; one verification %.1f us)\n",
		       (double)committed / vps_cpu / (cpu1 - cpu0), cpu1 - cpu0,
		       (cpu1 - cpu0) * 1e6 / (double)committed, 1e6 / vps_cpu);
	printf("node: the benchmark's clients used %.2f cpu-s of the same cores meanwhile\n",
	       self1 - self0);
	/* how busy the cores were: below the cores, the node waited (on its clients' round
	 * trips, on a lock or a sync); the load average says how much else ran */
	double wall = (double)(t1 - t0) / 1e9;
	int cores = lb_ncpus();
	double la[3];
	bench_loadavg(la);
	if (cpu0 >= 0 && cpu1 > cpu0)
		printf("node: cores busy: node %.2f of %d (%.0f %%), node and clients %.2f; load "
		       "average %.2f\n",
		       (cpu1 - cpu0) / wall, cores, 100 * (cpu1 - cpu0) / wall / cores,
		       (cpu1 - cpu0 + self1 - self0) / wall, la[0]);
	printf("node: peak RSS under this load (VmRSS every 20 ms, default mempool limits): %ld "
	       "KiB\n",
	       smp.peak_kb);
	printf("node: peak RSS of the process (VmHWM, includes the 64 MiB Argon2id unlock of the "
	       "node key at start): %ld KiB\n",
	       proc_kb(node_pid, "VmHWM"));
	/* the database is measured after the node stops: a clean stop checkpoints the WAL */
	stop_node();
	printf("node: db bytes per committed tx (settlement database after a clean stop): %.0f\n",
	       committed ? (double)(db_bytes() - db0) / (double)committed : 0);
	for (int c = 0; c < CLIENTS; c++) {
		for (int b = 0; b < batches; b++)
			lb_buf_release(&cl[c].bodies[b]);
		lb_free(cl[c].bodies);
	}
	return refused ? -1 : 0;
}

/* Least-squares slope of y over x (units of y per unit of x). */
static double slope(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i] / (double)n;
		my += y[i] / (double)n;
	}
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
	}
	return sxx > 0 ? sxy / sxx : 0;
}

static int soak(int seconds)
{
	const char *r = getenv("SOAK_RATE"), *s = getenv("SOAK_SAMPLE");
	double rate = r ? atof(r) : 2000;
	int every = s ? atoi(s) : 5;
	if (rate <= 0 || every < 1)
		return -1;
	struct client cl[MAX_CLIENTS];
	memset(cl, 0, sizeof cl);
	uint64_t t0 = lb_mono_ns(), end = t0 + (uint64_t)seconds * 1000000000ULL;
	long db0 = db_bytes();
	for (int c = 0; c < CLIENTS; c++) {
		cl[c].id = c;
		cl[c].rate = rate / CLIENTS;
		cl[c].until_ns = end;
		if (pthread_create(&cl[c].thread, NULL, client_soak, &cl[c]))
			return -1;
	}
	size_t cap = (size_t)seconds / (size_t)every + 2, n = 0;
	double *ts = lb_calloc(cap, sizeof *ts), *kb = lb_calloc(cap, sizeof *kb);
	if (!ts || !kb)
		return -1;
	printf("soak: %d s at %.0f tx/s, resident memory every %d s\n", seconds, rate, every);
	while (lb_mono_ns() < end && n < cap) {
		sleep_ms((unsigned)every * 1000);
		ts[n] = (double)(lb_mono_ns() - t0) / 1e9;
		kb[n] = (double)proc_kb(node_pid, "VmRSS");
		printf("soak: t=%4.0f s RSS %.0f KiB\n", ts[n], kb[n]);
		fflush(stdout);
		n++;
	}
	uint64_t sent;
	long refused;
	int failed = join_clients(cl, &sent, &refused);
	CURL *h = curl_easy_init();
	int wrc = wait_committed(h);
	curl_easy_cleanup(h);
	double peak = 0;
	for (size_t i = 0; i < n; i++)
		peak = kb[i] > peak ? kb[i] : peak;
	if (n >= 4) {
		printf("soak: RSS first %.0f KiB, last %.0f KiB, peak %.0f KiB (VmHWM %ld KiB)\n",
		       kb[0], kb[n - 1], peak, proc_kb(node_pid, "VmHWM"));
		printf("soak: RSS slope %.1f KiB/min over the whole run, %.1f KiB/min over the second "
		       "half (%zu samples)\n",
		       slope(ts, kb, n) * 60, slope(ts + n / 2, kb + n / 2, n - n / 2) * 60, n);
	}
	printf("soak: txs sent %llu, refused %ld; db grew %.1f MiB (%.0f bytes per tx)\n",
	       (unsigned long long)sent, refused, (double)(db_bytes() - db0) / 1048576.0,
	       sent ? (double)(db_bytes() - db0) / (double)sent : 0);
	lb_free(ts);
	lb_free(kb);
	return failed || refused || wrc ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *nc = getenv("BENCH_CLIENTS");
	if (nc)
		CLIENTS = atoi(nc);
	if (CLIENTS < 1 || CLIENTS > MAX_CLIENTS)
		return 2;
	int batches = argc > 1 ? atoi(argv[1]) : (60 + CLIENTS - 1) / CLIENTS;
	const char *bin = getenv("LEBEN_BIN") ? getenv("LEBEN_BIN") : "build/leben";
	const char *soak_s = getenv("SOAK_SECONDS");
	int soak_seconds = soak_s ? atoi(soak_s) : 0;
	if (batches < 1 || batches > 200 || soak_seconds < 0 || lb_crypto_init() ||
	    lb_ledger_register_core_types() || curl_global_init(CURL_GLOBAL_DEFAULT))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	setenv("LEBEN_PASSPHRASE", PASS, 1);
	double vps = bench_verify_rate(&vps_cpu);
	int cores = lb_ncpus();
	printf("node: reference ed25519 verify/s per core: %.0f, cores: %d\n", vps, cores);
	if (!mkdtemp(home))
		return 1;
	int rc = setup(bin);
	if (!rc)
		rc = soak_seconds ? soak(soak_seconds) : throughput(batches, vps * cores);
	stop_node();
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	if (system(cmd) != 0)
		rc = -1;
	for (int i = 0; i < ACCTS; i++)
		lb_keypair_wipe(&kps[i]);
	curl_global_cleanup();
	return rc ? 1 : 0;
}
