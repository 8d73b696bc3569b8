/*
 * Off-chain sandbox runner. lb_sandbox_run makes a private directory, forks, and in the child
 * builds the jail in this order: SIGSYS reporter, rlimits (CPU, address space, file size,
 * processes, core, descriptors), a fresh network namespace when root, the private directory as
 * working directory with one scratch file, /dev/null on 0-2, every other descriptor closed,
 * PR_SET_NO_NEW_PRIVS, the seccomp allow-list. Only inside the jail are sealed inputs opened,
 * the table parsed and the algorithm run. One frame comes back over the pipe (kind, code,
 * length, payload). The parent enforces the wall-clock limit and the output limit, reaps the
 * child with its resource usage, names the reason of any stop, and removes the directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "exchange/exchange_int.h"
#include "exchange/sandbox_int.h"
#include "leben/base.h"
#include "leben/sandbox.h"

/* frame kinds */
#define FR_RESULT 'R'
#define FR_ERROR 'E'
#define FR_SYSCALL 'S'
#define FR_EXCLUDED 'X' /* informational, before the final frame: rows left out */
#define FR_PROV 'P'     /* informational, before the result: its provenance (agg.c) */
#define PROV_MAX ((size_t)256 << 20) /* largest provenance frame */
#define FR_HDR 13 /* kind(1) status(4) code(4) len(4) */

void lb_sandbox_limits_default(struct lb_sandbox_limits *l)
{
	l->cpu_ms = 30000;
	l->wall_ms = 60000;
	l->memory = 1ull << 30;
	l->file_bytes = 64ull << 20;
	l->output_bytes = 1u << 20;
	l->lua_instructions = 1000000000ull;
	l->max_rows = 10000000;
}

static void fill_limits(struct lb_sandbox_limits *l, const struct lb_sandbox_limits *in)
{
	struct lb_sandbox_limits d;
	lb_sandbox_limits_default(&d);
	*l = *in;
	if (!l->cpu_ms)
		l->cpu_ms = d.cpu_ms;
	if (!l->wall_ms)
		l->wall_ms = d.wall_ms;
	if (!l->memory)
		l->memory = d.memory;
	if (!l->file_bytes)
		l->file_bytes = d.file_bytes;
	if (!l->output_bytes)
		l->output_bytes = d.output_bytes;
	if (!l->lua_instructions)
		l->lua_instructions = d.lua_instructions;
	if (!l->max_rows)
		l->max_rows = d.max_rows;
}

const char *lb_sandbox_status_name(enum lb_sandbox_status s)
{
	static const char *const names[] = {"ok",     "failed",   "syscall", "cpu",          "wall",
					    "memory", "filesize", "output",  "instructions", "crashed"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

/* ---- the child ------------------------------------------------------------------------------ */

static volatile int g_result_fd = -1;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static void send_frame(int kind, enum lb_sandbox_status st, int code, const void *p, size_t n)
{
	uint8_t h[FR_HDR];
	h[0] = (uint8_t)kind;
	put32(h + 1, (uint32_t)st);
	put32(h + 5, (uint32_t)code);
	put32(h + 9, (uint32_t)n);
	write_all(g_result_fd, h, sizeof h);
	if (n)
		write_all(g_result_fd, p, n);
}

/* async-signal-safe: report the refused call and leave */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	uint8_t nr[4];
	put32(nr, (uint32_t)si->si_syscall);
	send_frame(FR_SYSCALL, LB_SANDBOX_SYSCALL, LB_EDENIED, nr, sizeof nr);
	_exit(125);
}

static uint64_t current_vm_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void child_fail(enum lb_sandbox_status st, int code, const char *msg)
{
	send_frame(FR_ERROR, st, code, msg, strlen(msg));
	_exit(1);
}

static enum lb_sandbox_status status_of(int rc, const char *msg)
{
	if (rc == LB_ENOMEM || (rc == LB_ELIMIT && strstr(msg, "memory limit")))
		return LB_SANDBOX_MEMORY;
	if (rc == LB_ELIMIT && strstr(msg, "instruction limit"))
		return LB_SANDBOX_INSTRUCTIONS;
	return LB_SANDBOX_FAILED;
}

struct child_ctx {
	const struct lb_sandbox_job *job;
	struct lb_sandbox_limits lim;
};

/* Record key of every row: from the patient column when the job names one the table has
 * (first 8 bytes of BLAKE2b-256(asset || patient id), stable across runs and revocations),
 * else NULL (the key is the row's index; no row can have been left out without that column). */
static int record_keys(const struct lb_table *t, const struct lb_sandbox_job *job, uint64_t **out)
{
	*out = NULL;
	long pc = job->patient_col ? lb_table_find(t, job->patient_col) : -1;
	if (pc < 0)
		return LB_OK;
	const struct lb_table_col *c = &t->cols[pc];
	uint64_t *k = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *k);
	if (!k)
		return LB_ENOMEM;
	static const uint8_t zero[32];
	for (size_t r = 0; r < t->nrows; r++) {
		char num[40];
		const char *id = num;
		if (isnan(c->v[r]))
			snprintf(num, sizeof num, "(missing %zu)", r);
		else if (c->kind == LB_COL_CATEGORICAL)
			id = c->levels[(size_t)c->v[r]];
		else
			snprintf(num, sizeof num, "%.17g", c->v[r]);
		uint8_t h[32];
		crypto_generichash_state st;
		crypto_generichash_init(&st, NULL, 0, sizeof h);
		crypto_generichash_update(&st, job->asset ? job->asset : zero, 32);
		crypto_generichash_update(&st, (const uint8_t *)id, strlen(id));
		crypto_generichash_final(&st, h, sizeof h);
		uint64_t v = 0;
		for (int b = 0; b < 8; b++)
			v = v << 8 | h[b];
		k[r] = v;
	}
	*out = k;
	return LB_OK;
}

static int algo_fn(void *arg, const struct lb_sandbox_env *env, json_t **result,
		   struct lb_errmsg *em)
{
	const struct lb_sandbox_job *job = arg;
	struct lb_table t;
	int rc = lb_table_parse_csv((const char *)env->input, env->input_len, env->limits->max_rows, &t, em);
	if (rc) {
		lb_errwrap(em, "input table");
		return rc;
	}
	const char **by_id = NULL;
	size_t nby_id = 0;
	if (job->patient_col && job->nexclude_ids && job->asset &&
	    (rc = xchg_locals_of(&t, job->patient_col, job->asset, job->salt_key,
				 job->exclude_ids, job->nexclude_ids, &by_id, &nby_id, em))) {
		lb_table_release(&t);
		return rc;
	}
	if (job->patient_col && (job->nexclude || nby_id)) {
		long pc = lb_table_find(&t, job->patient_col);
		size_t gone = 0;
		size_t gone2 = 0;
		if (pc < 0)
			rc = lb_errf(em, LB_EINVALID, "input table has no patient column '%s' to apply revoked consents",
				     job->patient_col);
		else if (!(rc = lb_table_drop_rows(&t, (size_t)pc, job->exclude, job->nexclude, &gone,
						   em)) && nby_id)
			rc = lb_table_drop_rows(&t, (size_t)pc, by_id, nby_id, &gone2, em);
		xchg_locals_free(by_id, nby_id);
		if (rc) {
			lb_table_release(&t);
			return rc;
		}
		gone += gone2;
		uint8_t cnt[4];
		put32(cnt, (uint32_t)gone);
		send_frame(FR_EXCLUDED, LB_SANDBOX_OK, LB_OK, cnt, sizeof cnt);
	}
	uint64_t *keys = NULL;
	if ((rc = record_keys(&t, job, &keys))) {
		lb_table_release(&t);
		return rc;
	}
	struct xprov P;
	xprov_init(&P, &t, keys, job->min_cohort);
	P.prior = job->prior;
	P.nprior = job->prior ? job->nprior : 0;
	struct lb_algo_ctx ctx = {.min_cohort = job->min_cohort, .prov = &P, .noise = job->noise,
				  .review = job->review};
	if (job->lua_src) {
		struct lb_lua_limits ll = {.instructions = env->limits->lua_instructions,
					   .memory = (size_t)(env->limits->memory / 4 * 3)};
		rc = lb_algo_lua(job->lua_src, job->lua_len, &t, job->params, &ctx, &ll, result, em);
	} else {
		const struct lb_algo *a = lb_algo_find(job->algorithm);
		rc = a ? a->run(&t, job->params, &ctx, result, em)
		       : lb_errf(em, LB_ENOTFOUND, "no built-in algorithm named '%s'", job->algorithm);
	}
	if (rc == LB_OK && !(job->review && P.per_record)) {
		/* the provenance goes to the executor, ahead of the result */
		struct lb_buf pb;
		lb_buf_init(&pb, PROV_MAX);
		if (xprov_encode(&P, &pb) == LB_OK)
			send_frame(FR_PROV, LB_SANDBOX_OK, LB_OK, pb.data, pb.len);
		else
			rc = lb_errf(em, LB_ETOOBIG, "the result's provenance is larger than %zu bytes", PROV_MAX);
		lb_buf_release(&pb);
		if (rc) {
			json_decref(*result);
			*result = NULL;
		}
	}
	xprov_release(&P);
	lb_free(keys);
	lb_table_release(&t);
	return rc;
}

static void child_main(const struct child_ctx *cc, int wfd, const char *dir)
{
	const struct lb_sandbox_job *job = cc->job;
	const struct lb_sandbox_limits *lim = &cc->lim;
	g_result_fd = wfd;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXCPU, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);

	/* the private directory, one scratch file in it, /dev/null on 0-2 */
	if (chdir(dir) != 0)
		child_fail(LB_SANDBOX_FAILED, LB_EIO, "cannot enter the private directory");
	int sfd = open("scratch", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int nfd = open("/dev/null", O_RDWR);
	if (sfd < 0 || nfd < 0)
		child_fail(LB_SANDBOX_FAILED, LB_EIO, "cannot prepare the private directory");
	dup2(nfd, 0);
	dup2(nfd, 1);
	if (!getenv("LEBEN_SANDBOX_STDERR"))
		dup2(nfd, 2);
	/* move the two descriptors we keep to 3 and 4, close everything else */
	int keep_w = fcntl(wfd, F_DUPFD, 10), keep_s = fcntl(sfd, F_DUPFD, 10);
	if (keep_w < 0 || keep_s < 0 || dup2(keep_w, 3) != 3 || dup2(keep_s, 4) != 4)
		child_fail(LB_SANDBOX_FAILED, LB_EIO, "cannot arrange descriptors");
	g_result_fd = 3;
	for (int fd = 5; fd < 1024; fd++)
		close(fd);

	/* resource limits (address space: on top of what the process already maps, which under
	 * AddressSanitizer includes its shadow reservations) */
	uint64_t vm_now = current_vm_bytes();
	struct rlimit rl;
	rl.rlim_cur = (rlim_t)((lim->cpu_ms + 999) / 1000);
	rl.rlim_max = rl.rlim_cur + 1;
	setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = (rlim_t)lim->file_bytes;
	setrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	setrlimit(RLIMIT_NPROC, &rl);
	rl.rlim_cur = rl.rlim_max = 5;
	setrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max = (rlim_t)(vm_now + lim->memory);
	setrlimit(RLIMIT_AS, &rl);

	/* no network: a fresh, empty network namespace (needs root) */
	if (geteuid() == 0 && unshare(CLONE_NEWNET) != 0)
		child_fail(LB_SANDBOX_FAILED, LB_EIO, "cannot leave the network namespace");

	int src = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ? -errno : sandbox_seccomp_load();
	if (src != 0) {
		char m[120];
		snprintf(m, sizeof m, "cannot load the seccomp filter: %s", strerror(-src));
		child_fail(LB_SANDBOX_FAILED, LB_EINTERNAL, m);
	}

	/* ---- jailed from here on ---- */
	struct lb_errmsg em;
	lb_errclear(&em);
	struct lb_sandbox_env env = {.scratch_fd = 4, .dir = dir, .limits = lim};
	uint8_t *plain = NULL;
	size_t plen = 0;
	if (job->input.sealed) {
		uint8_t sk[LB_ENVELOPE_SKBYTES];
		if (!job->open_sk || !job->open_pk)
			child_fail(LB_SANDBOX_FAILED, LB_EWRONGKEY, "a sealed input needs the recipient key");
		memcpy(sk, job->open_sk, sizeof sk);
		int rc = lb_envelope_open(sk, job->open_pk, job->input.data, job->input.len,
					  (size_t)lim->memory, &plain, &plen, &em);
		sodium_memzero(sk, sizeof sk);
		if (rc) {
			lb_errwrap(&em, "opening the sealed input");
			child_fail(status_of(rc, em.text), rc, em.text);
		}
		env.input = plain;
		env.input_len = plen;
	} else {
		env.input = job->input.data;
		env.input_len = job->input.len;
	}
	json_t *result = NULL;
	int rc = job->fn ? job->fn(job->fn_arg, &env, &result, &em) : algo_fn((void *)job, &env, &result, &em);
	if (plain) {
		sodium_memzero(plain, plen);
		lb_free(plain);
	}
	if (rc || !result) {
		if (!rc)
			lb_errf(&em, LB_EINTERNAL, "the algorithm returned no result");
		child_fail(status_of(rc ? rc : LB_EINTERNAL, em.text), rc ? rc : LB_EINTERNAL, em.text);
	}
	char *text = xjson_canonical(result);
	json_decref(result);
	if (!text)
		child_fail(LB_SANDBOX_MEMORY, LB_ENOMEM, "memory limit reached while encoding the result");
	send_frame(FR_RESULT, LB_SANDBOX_OK, LB_OK, text, strlen(text));
	_exit(0);
}

/* ---- the parent ----------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void set_reason(struct lb_sandbox_report *rep, enum lb_sandbox_status st, int code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set_reason(struct lb_sandbox_report *rep, enum lb_sandbox_status st, int code,
		       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
	va_end(ap);
	rep->status = st;
	rep->code = code;
}

/* The final frame of what the child sent (informational frames before it are read into rep),
 * or NULL if the bytes are not a whole sequence of frames. */
static const uint8_t *last_frame(const struct lb_buf *in, struct lb_sandbox_report *rep,
			       const uint8_t **prov, size_t *provlen)
{
	size_t off = 0;
	*prov = NULL;
	*provlen = 0;
	while (off + FR_HDR <= in->len) {
		const uint8_t *f = in->data + off;
		size_t plen = get32(f + 9);
		if (plen > in->len - off - FR_HDR)
			return NULL;
		if (off + FR_HDR + plen == in->len)
			return f[0] == FR_EXCLUDED || f[0] == FR_PROV ? NULL : f;
		if (f[0] == FR_PROV && !*prov) {
			*prov = f + FR_HDR;
			*provlen = plen;
		} else if (f[0] == FR_EXCLUDED && plen == 4) {
			rep->excluded = get32(f + FR_HDR);
		} else {
			return NULL;
		}
		off += FR_HDR + plen;
	}
	return NULL;
}

void lb_sandbox_report_release(struct lb_sandbox_report *rep)
{
	if (rep->result)
		json_decref(rep->result);
	rep->result = NULL;
	lb_provenance_free(rep->prov);
	rep->prov = NULL;
}

int lb_sandbox_run(const struct lb_sandbox_job *job, struct lb_sandbox_report *rep,
		   struct lb_errmsg *em)
{
	memset(rep, 0, sizeof *rep);
	rep->syscall_nr = -1;
	struct child_ctx cc = {.job = job};
	fill_limits(&cc.lim, &job->limits);
	if (!job->fn && !job->lua_src && !job->algorithm)
		return lb_errf(em, LB_EINVALID, "nothing to run: give an algorithm, a Lua script or a function");
	if (!job->fn && !job->input.data)
		return lb_errf(em, LB_EINVALID, "no input table");
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "libsodium failed to start");
	json_object_seed(0); /* jansson reads /dev/urandom once: do it before the jail */
	const char *root = job->tmp_root ? job->tmp_root : getenv("TMPDIR");
	if (!root || !*root)
		root = "/tmp";
	snprintf(rep->dir, sizeof rep->dir, "%s/leben-sandbox-XXXXXX", root);
	if (!mkdtemp(rep->dir))
		return lb_errf(em, LB_EIO, "cannot make a private directory under %s: %s", root, strerror(errno));
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		rmdir(rep->dir);
		return lb_errf(em, LB_EIO, "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	uint64_t t0 = lb_mono_ns();
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		rmdir(rep->dir);
		return lb_errf(em, LB_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		child_main(&cc, pfd[1], rep->dir);
		_exit(126);
	}
	close(pfd[1]);

	/* read the frame within the wall-clock limit */
	struct lb_buf in;
	lb_buf_init(&in, cc.lim.output_bytes + 3 * FR_HDR + 4 + PROV_MAX);
	bool wall = false, too_big = false;
	uint64_t deadline = t0 + cc.lim.wall_ms * 1000000ull;
	for (;;) {
		uint64_t now = lb_mono_ns();
		if (now >= deadline) {
			wall = true;
			break;
		}
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int pr = poll(&p, 1, (int)((deadline - now) / 1000000ull) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			continue;
		uint8_t buf[65536];
		ssize_t n = read(pfd[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (lb_buf_add(&in, buf, (size_t)n) != LB_OK) {
			too_big = true;
			break;
		}
	}
	if (wall || too_big)
		kill(pid, SIGKILL);
	close(pfd[0]);
	int wst = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	while (wait4(pid, &wst, 0, &ru) < 0 && errno == EINTR)
		;
	rep->wall_ns = lb_mono_ns() - t0;
	rep->cpu_ms = (uint64_t)ru.ru_utime.tv_sec * 1000 + (uint64_t)ru.ru_utime.tv_usec / 1000 +
		      (uint64_t)ru.ru_stime.tv_sec * 1000 + (uint64_t)ru.ru_stime.tv_usec / 1000;
	rep->peak_rss = (uint64_t)ru.ru_maxrss * 1024;

	/* burn after reading */
	rep->dir_removed = nftw(rep->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) == 0;

	/* decide */
	int sig = WIFSIGNALED(wst) ? WTERMSIG(wst) : 0;
	const uint8_t *fr = NULL, *prov = NULL;
	size_t provlen = 0;
	if (!too_big && !wall && (fr = last_frame(&in, rep, &prov, &provlen)) != NULL && fr[0] == FR_RESULT &&
	    get32(fr + 9) > cc.lim.output_bytes)
		too_big = true;
	if (too_big) {
		set_reason(rep, LB_SANDBOX_OUTPUT, LB_ELIMIT, "output limit reached: the result is larger than %llu bytes",
			   (unsigned long long)cc.lim.output_bytes);
	} else if (wall) {
		set_reason(rep, LB_SANDBOX_WALL, LB_ELIMIT, "wall-clock limit reached (%llu ms); the run was killed",
			   (unsigned long long)cc.lim.wall_ms);
	} else if (fr != NULL) {
		int kind = fr[0];
		enum lb_sandbox_status st = (enum lb_sandbox_status)get32(fr + 1);
		int code = (int)get32(fr + 5);
		const char *pl = (const char *)fr + FR_HDR;
		size_t plen = get32(fr + 9);
		if (kind == FR_RESULT) {
			json_error_t je;
			struct lb_errmsg pem;
			rep->result = json_loadb(pl, plen, 0, &je);
			if (rep->result && prov && lb_provenance_decode(prov, provlen, &rep->prov, &pem) != LB_OK) {
				json_decref(rep->result);
				rep->result = NULL;
				set_reason(rep, LB_SANDBOX_CRASHED, LB_EINTERNAL, "%s", pem.text);
			} else if (rep->result) {
				set_reason(rep, LB_SANDBOX_OK, LB_OK, "ok");
			} else {
				set_reason(rep, LB_SANDBOX_CRASHED, LB_EINTERNAL, "the result sent back is not JSON");
			}
		} else if (kind == FR_SYSCALL && plen == 4) {
			rep->syscall_nr = (long)get32((const uint8_t *)pl);
			sandbox_syscall_name(rep->syscall_nr, rep->syscall_name, sizeof rep->syscall_name);
			set_reason(rep, LB_SANDBOX_SYSCALL, LB_EDENIED,
				   "forbidden system call %s (%ld): the sandbox allows no files, network or processes",
				   rep->syscall_name[0] ? rep->syscall_name : "?", rep->syscall_nr);
		} else if (kind == FR_ERROR && st <= LB_SANDBOX_CRASHED) {
			set_reason(rep, st, code ? code : LB_EINTERNAL, "%.*s", (int)(plen > 500 ? 500 : plen), pl);
		} else {
			set_reason(rep, LB_SANDBOX_CRASHED, LB_EINTERNAL, "the sandbox sent an unreadable frame");
		}
	} else if (sig == SIGXCPU || (sig == SIGKILL && rep->cpu_ms + 50 >= cc.lim.cpu_ms)) {
		set_reason(rep, LB_SANDBOX_CPU, LB_ELIMIT, "CPU-time limit reached (%llu ms)",
			   (unsigned long long)cc.lim.cpu_ms);
	} else if (sig == SIGXFSZ) {
		set_reason(rep, LB_SANDBOX_FILESIZE, LB_ELIMIT,
			   "file-size limit reached (%llu bytes) writing in the private directory",
			   (unsigned long long)cc.lim.file_bytes);
	} else if (sig) {
		set_reason(rep, LB_SANDBOX_CRASHED, LB_EINTERNAL, "the sandbox died on signal %d (%s)", sig,
			   strsignal(sig));
	} else {
		set_reason(rep, LB_SANDBOX_CRASHED, LB_EINTERNAL,
			   "the sandbox exited (status %d) without a result", WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
	}
	lb_buf_release(&in);
	if (rep->status == LB_SANDBOX_OK)
		return LB_OK;
	return lb_errf(em, rep->code, "sandbox stopped (%s): %s", lb_sandbox_status_name(rep->status), rep->reason);
}

json_t *lb_sandbox_report_json(const struct lb_sandbox_report *rep)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string(lb_sandbox_status_name(rep->status)));
	json_object_set_new(o, "error", json_string(lb_errname(rep->code)));
	json_object_set_new(o, "reason", json_string(rep->reason));
	if (rep->syscall_nr >= 0) {
		json_object_set_new(o, "syscall", json_string(rep->syscall_name));
		json_object_set_new(o, "syscall_nr", json_integer(rep->syscall_nr));
	}
	json_object_set_new(o, "wall_ms", json_real((double)rep->wall_ns / 1e6));
	json_object_set_new(o, "cpu_ms", json_integer((json_int_t)rep->cpu_ms));
	json_object_set_new(o, "peak_rss_bytes", json_integer((json_int_t)rep->peak_rss));
	json_object_set_new(o, "dir_removed", json_boolean(rep->dir_removed));
	json_object_set_new(o, "excluded_rows", json_integer((json_int_t)rep->excluded));
	if (rep->result)
		json_object_set_new(o, "result", json_incref(rep->result));
	return o;
}
