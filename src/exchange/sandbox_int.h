/*
 * Internals of the sandbox runner (not API): the seccomp allow-list, shared by sandbox.c
 * and the documentation test.
 */
#ifndef LEBEN_SANDBOX_INT_H
#define LEBEN_SANDBOX_INT_H

#include <stddef.h>
#include <stdio.h>

/* NULL-terminated names of the system calls the jailed child may make. */
const char *const *sandbox_allowed_syscalls(void);
/* Load the allow-list into the calling process (after PR_SET_NO_NEW_PRIVS); 0 or -errno. */
int sandbox_seccomp_load(void);
/* Name of system call nr on this architecture into out ("" if unknown). */
void sandbox_syscall_name(long nr, char *out, size_t cap);

#endif
