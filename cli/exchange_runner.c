/*
 * The executor's run started over the API (POST /v1/exchange/runs, docs/api.md "Exchange"):
 * `leben node` keeps a copy of its key for this and, for each run, starts this binary as
 * `leben exchange run --from node --json` — the CLI's own run, not a second one — giving it the
 * key through a pipe (LEBEN_KEY_FD; never through a file or the environment), and answers with
 * what the run printed (its JSON) or why it failed (what it wrote to stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "common.h"
#include "leben/api.h"
#include "leben/base.h"

extern char **environ;

static char run_home[4096], run_url[300];
static uint8_t *run_seed; /* sodium_malloc'd LB_SEED_LEN bytes, locked; lives as the node does */

/* Read fd into a growing buffer (NUL-terminated); 0 at EOF, -1 on error. */
static int drain(int fd, char **buf, size_t *len, size_t *cap)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof tmp);
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	if (n == 0)
		return 0;
	if (*len + (size_t)n + 1 > *cap) {
		size_t nc = (*cap ? *cap * 2 : 8192) + (size_t)n;
		char *p = realloc(*buf, nc);
		if (!p)
			return -1;
		*buf = p;
		*cap = nc;
	}
	memcpy(*buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = 0;
	return 1;
}

/* A pipe whose ends are not inherited (the child gets its ends by dup2). */
static int cloexec_pipe(int p[2])
{
	if (pipe(p))
		return -1;
	return fcntl(p[0], F_SETFD, FD_CLOEXEC) | fcntl(p[1], F_SETFD, FD_CLOEXEC);
}

static int runner(const char *request, const char *escrow, const char *data, json_t **out,
		  struct lb_errmsg *em)
{
	int kp[2] = {-1, -1}, op[2] = {-1, -1}, ep[2] = {-1, -1}, rc = LB_EIO;
	char *obuf = NULL, *ebuf = NULL, url_env[340], fd_env[32];
	size_t olen = 0, ocap = 0, elen = 0, ecap = 0, nenv = 0;
	pid_t pid = -1;
	posix_spawn_file_actions_t fa;
	if (cloexec_pipe(kp) || cloexec_pipe(op) || cloexec_pipe(ep)) {
		lb_errf(em, LB_EIO, "the run could not be started: pipe: %s", strerror(errno));
		goto out;
	}
	if (kp[0] == 3) { /* dup2(3, 3) would keep close-on-exec: move it out of the way */
		int d = fcntl(kp[0], F_DUPFD_CLOEXEC, 10);
		if (d < 0) {
			lb_errf(em, LB_EIO, "the run could not be started: %s", strerror(errno));
			goto out;
		}
		close(kp[0]);
		kp[0] = d;
	}
	/* the child's environment: ours, its node (this one) and where its key comes from */
	while (environ[nenv])
		nenv++;
	char **env = calloc(nenv + 3, sizeof *env);
	if (!env) {
		lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++)
		if (strncmp(environ[i], "LEBEN_NODE=", 11) && strncmp(environ[i], "LEBEN_KEY_FD=", 13))
			env[k++] = environ[i];
	snprintf(url_env, sizeof url_env, "LEBEN_NODE=%s", run_url);
	snprintf(fd_env, sizeof fd_env, "LEBEN_KEY_FD=3");
	env[k++] = url_env;
	env[k++] = fd_env;
	char *argv[] = {"leben", "exchange", "run", "--home", run_home, "--from", "node",
			"--request", (char *)request, "--escrow", (char *)escrow, "--data", (char *)data,
			"--json", NULL};
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, kp[0], 3);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	int sr = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (sr) {
		lb_errf(em, LB_EIO, "the run could not be started: %s", strerror(sr));
		pid = -1;
		goto out;
	}
	close(kp[0]);
	close(op[1]);
	close(ep[1]);
	kp[0] = op[1] = ep[1] = -1;
	ssize_t w = write(kp[1], run_seed, LB_SEED_LEN);
	close(kp[1]);
	kp[1] = -1;
	if (w != LB_SEED_LEN) {
		lb_errf(em, LB_EIO, "the run could not be given the node's key");
		goto out;
	}
	struct pollfd pf[2] = {{.fd = op[0], .events = POLLIN}, {.fd = ep[0], .events = POLLIN}};
	int open_fds = 2;
	while (open_fds) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int d = i ? drain(pf[i].fd, &ebuf, &elen, &ecap) : drain(pf[i].fd, &obuf, &olen, &ocap);
			if (d <= 0) {
				pf[i].fd = -1;
				open_fds--;
			}
		}
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		json_error_t jerr;
		*out = obuf ? json_loads(obuf, 0, &jerr) : NULL;
		rc = *out ? LB_OK : lb_errf(em, LB_EINTERNAL, "the run printed no result");
	} else {
		/* the run's own words: "leben exchange: ..." lines, without the prefix */
		const char *t = ebuf ? ebuf : "the run failed";
		if (!strncmp(t, "leben exchange: ", 16))
			t += 16;
		size_t n = strlen(t);
		while (n && (t[n - 1] == '\n' || t[n - 1] == ' '))
			n--;
		rc = lb_errf(em, LB_EINVALID, "%.*s", (int)(n > 900 ? 900 : n), t);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (kp[i] >= 0)
			close(kp[i]);
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(obuf);
	free(ebuf);
	return rc;
}

int cli_exchange_runner(const char *home, const char *url, const struct lb_keypair *kp)
{
	if (!run_seed && !(run_seed = sodium_malloc(LB_SEED_LEN)))
		return cli_failf("node", "out of memory");
	memcpy(run_seed, kp->sk, LB_SEED_LEN);
	snprintf(run_home, sizeof run_home, "%s", home);
	snprintf(run_url, sizeof run_url, "%s", url);
	lb_api_set_xchg_runner(runner);
	return 0;
}

int cli_key_from_fd(struct lb_keypair *kp, bool *used)
{
	const char *v = getenv("LEBEN_KEY_FD");
	*used = false;
	if (!v)
		return 0;
	char *end;
	long fd = strtol(v, &end, 10);
	uint8_t seed[LB_SEED_LEN];
	size_t got = 0;
	if (*end || fd < 0 || fd > 1000)
		return cli_failf("key", "LEBEN_KEY_FD must be a file descriptor number");
	while (got < sizeof seed) {
		ssize_t n = read((int)fd, seed + got, sizeof seed - got);
		if (n <= 0) {
			sodium_memzero(seed, sizeof seed);
			return cli_failf("key", "LEBEN_KEY_FD: the key's %zu bytes were not there", sizeof seed);
		}
		got += (size_t)n;
	}
	close((int)fd);
	unsetenv("LEBEN_KEY_FD");
	lb_keypair_from_seed(kp, seed);
	sodium_memzero(seed, sizeof seed);
	*used = true;
	return 0;
}
