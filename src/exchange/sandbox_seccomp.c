/*
 * The sandbox child's seccomp-bpf allow-list. Everything not listed traps (SIGSYS), and the
 * child's SIGSYS handler reports the system call number to the parent over the result pipe
 * before it exits, so the user is told which call was refused. The list allows work on the
 * descriptors the child already holds (the result pipe, the scratch file in its private
 * directory, /dev/null on 0-2), memory management, clocks and exit: no open of any path, no
 * socket, no fork/clone/exec, no kill, no ptrace, no mount, no new namespaces, and no new
 * executable memory (mmap and mprotect are allowed only without PROT_EXEC).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "exchange/sandbox_int.h"

/* The allow-list, also printed by docs/exchange.md. */
static const char *const ALLOWED[] = {
	"read",          "write",        "readv",        "writev",       "pread64",
	"pwrite64",      "lseek",        "fstat",        "close",
	"munmap",        "mremap",       "brk",          "madvise",
	"exit",          "exit_group",   "rt_sigreturn", "rt_sigprocmask", "clock_gettime",
	"clock_getres",  "gettimeofday", "time",         "futex",        "getpid",
	"gettid",        "sched_yield",  "nanosleep",    "clock_nanosleep", "ftruncate",
	"getrusage",     "sigaltstack",  "sysinfo",
	NULL,
};

const char *const *sandbox_allowed_syscalls(void)
{
	return ALLOWED;
}

int sandbox_seccomp_load(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; ALLOWED[i]; i++) {
		int nr = seccomp_syscall_resolve_name(ALLOWED[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0)
			goto out;
	}
	/* mmap and mprotect only without PROT_EXEC: no new executable memory */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		goto out;
	rc = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return rc;
}

void sandbox_syscall_name(long nr, char *out, size_t cap)
{
	out[0] = '\0';
	char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	if (n) {
		snprintf(out, cap, "%s", n);
		free(n);
	}
}
