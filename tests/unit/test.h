/*
 * Common header for unit tests: cmocka plus small helpers. Tests print TAP (the runner sets
 * CMOCKA_MESSAGE_OUTPUT=TAP) so scripts/check.sh can count them.
 */
#ifndef LEBEN_TEST_H
#define LEBEN_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* Assert an lb_err code with the message shown on failure. */
#define assert_lb_ok(expr)                                                                 \
	do {                                                                               \
		int rc_ = (expr);                                                          \
		if (rc_ != 0)                                                              \
			fail_msg("%s returned %d (%s)", #expr, rc_, lb_strerror(rc_));     \
	} while (0)

#endif
