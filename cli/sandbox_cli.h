/*
 * Helpers shared by `leben sandbox` (cmd_sandbox.c) and `leben study` (cmd_study.c): reading
 * inputs, the release policy and printing a released or withheld result.
 */
#ifndef LEBEN_CLI_SANDBOX_H
#define LEBEN_CLI_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/sandbox.h"

#define SBX_MAX_INPUT ((size_t)4 << 30)

/* Read a file (at most max bytes; *data freed by the caller with lb_free). Prints the error
 * and returns 1 on failure. */
int sbx_read_text(const char *cmd, const char *path, size_t max, uint8_t **data, size_t *len);
/* The default policy, or the one in path (NULL = default). Prints the error, returns 1. */
int sbx_load_policy(const char *cmd, const char *path, struct lb_policy *pol);
/* --params text as a JSON object (new reference), {} for NULL; NULL after printing why. */
json_t *sbx_parse_params(const char *cmd, const char *text);
/* Apply pol to result (borrowed), print it (or the reason it was withheld; report, borrowed,
 * may be NULL, goes under "sandbox" in --json), seal it to seal_to into out when given.
 * Returns the exit status: 0 released, 1 withheld or failed. */
int sbx_release(const char *cmd, const struct lb_policy *pol, json_t *result, json_t *report,
		const char *user, const char *asset, const char *budget_db, const char *seal_to,
		const char *out, bool json);

#endif
