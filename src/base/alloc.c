/*
 * The single allocation wrapper. Every allocation in the project goes through here so that
 * tests can make the n-th allocation fail and prove that each failure path cleans up.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"

static atomic_ulong fail_countdown; /* 0 = injection off */

void lb_alloc_fail_after(unsigned long n)
{
	atomic_store(&fail_countdown, n);
}

static bool should_fail(void)
{
	unsigned long c = atomic_load(&fail_countdown);
	while (c) {
		if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1))
			return c == 1;
	}
	return false;
}

void *lb_malloc(size_t n)
{
	return should_fail() ? NULL : malloc(n ? n : 1);
}

void *lb_calloc(size_t count, size_t size)
{
	return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *lb_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : realloc(p, n ? n : 1);
}

void lb_free(void *p)
{
	free(p);
}

char *lb_strdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = lb_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}
