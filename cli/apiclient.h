/*
 * Helpers of the commands that talk to a node's API (tx, query, proof): a small table-driven
 * option parser, address resolution (lb1... or a key name in the home's keystore), API calls
 * that print their error with a hint, and the readable output of JSON replies.
 */
#ifndef LEBEN_CLI_APICLIENT_H
#define LEBEN_CLI_APICLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/crypto.h"

/* One option of a command. Exactly one of str / flag is set. */
struct copt {
	const char *name;   /* "--amount", or "-o" */
	const char **str;   /* receives the value of an option taking one (borrowed from argv) */
	bool *flag;         /* set to true by a flag */
};

/* Parse argv[start..argc): options of the table anywhere ("--x v" or "--x=v"; "--" ends
 * options), positionals into pos (at most maxpos, count in *npos). Prints a usage error and
 * returns 2 on an unknown option, a missing value or too many positionals; 0 otherwise. */
int copt_parse(const char *cmd, int argc, char **argv, int start, const struct copt *opts,
	       const char **pos, int maxpos, int *npos);

/* An account address from "lb1..." or the name of a key in <home>/keys. Prints why not and
 * returns 1 on failure. */
int cli_resolve_address(const char *cmd, const char *home, const char *text,
			uint8_t addr[LB_ADDR_LEN]);

/* GET / POST through lb_client_*; on failure prints the error with a hint fitting its code
 * and returns 1 (*out is NULL). */
int cli_api_get(const char *cmd, const char *url, const char *path, json_t **out);
int cli_api_post(const char *cmd, const char *url, const char *path, json_t *body, json_t **out);
/* Poll GET /v1/txs/ID (idhex) until the tx leaves "pending": 0 if it was committed as valid,
 * 1 if it went into a block as invalid, an API call failed (printed) or it is still pending
 * after timeout_s (printed, with how to check later). *final receives the tx's JSON once it
 * left "pending", committed or not (caller decrefs), else NULL. */
int cli_tx_wait(const char *cmd, const char *url, const char *idhex, double timeout_s,
		json_t **final);
/* The block height of a tx's JSON from GET /v1/txs/ID ("height", or "block"."height"). */
uint64_t cli_tx_height(json_t *tx);
/* The hint printed for an error code from the node (NULL if none). */
const char *cli_hint_for(int code);

/* Print a JSON reply for a person: "key: value" lines, nested objects indented, amounts
 * (fields named in the amount list of apiclient.c) as decimals. */
void cli_print_human(json_t *j, int indent);

/* Read a file of at most max bytes (caller frees with lb_free); prints why not, returns 1. */
int cli_read_file(const char *cmd, const char *path, size_t max, uint8_t **out, size_t *len);

#endif
