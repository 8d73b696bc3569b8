/*
 * Helpers shared by the `leben` subcommands: where the home directory is, which node to talk
 * to, reading a passphrase, loading a key, printing errors and JSON.
 */
#ifndef LEBEN_CLI_COMMON_H
#define LEBEN_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "leben/crypto.h"
#include "leben/error.h"

/* Home directory: the --home value if given, else $LEBEN_HOME, else ~/.leben. Returns a
 * static buffer; given that buffer back it returns it unchanged. This is the one place a home
 * is resolved: every helper below that takes a `home` takes the raw --home value (NULL when
 * absent) or an already resolved home, and resolves it here. */
const char *cli_home(const char *opt);
/* API base URL: the --node value, else $LEBEN_NODE, else the API port in <home>/config.json,
 * else http://127.0.0.1:7800 (https when config.json has "api_tls": true). Returns a static
 * buffer. */
const char *cli_node_url(const char *opt, const char *home);
/* The options --tls-cert FILE, --tls-key FILE and --tls-ca FILE (anywhere in argv after the
 * command, before "--") go into LEBEN_TLS_CERT/KEY/CA for the API client and are removed from
 * argv. For an https node URL, cli_node_url fills the unset ones with <home>/tls/node.pem,
 * node.key and ca.pem. Returns 2 (printed) on a missing value. */
int cli_take_tls_options(int *argc, char **argv);
/* For an https URL, unset LEBEN_TLS_CERT/KEY/CA default to <home>/tls/node.pem, node.key and
 * ca.pem (what cli_node_url does for the node it picks; for commands given other URLs). */
void cli_tls_defaults(const char *url, const char *home);
/* Passphrase from $LEBEN_PASSPHRASE, else asked on the terminal without echo (twice when
 * confirm is set). A prompt answered on the terminal is not asked again in the same process
 * (unless confirm is set): the answer is kept until exit, then wiped. Returns 0, or prints
 * why not and returns 1. */
int cli_passphrase(char *buf, size_t n, const char *prompt, bool confirm);
/* Load <home>/keys/<name>.key (home as for cli_home), asking for the passphrase. Prints the error and returns 1 on
 * failure. */
int cli_load_key(const char *home, const char *name, struct lb_keypair *kp);
/* The key a node gave this process through the pipe named by LEBEN_KEY_FD (its 32-byte seed;
 * cli/exchange_runner.c): *used tells whether there was one. 0, or 1 after saying why. */
int cli_key_from_fd(struct lb_keypair *kp, bool *used);
/* `leben node`: serve POST /v1/exchange/runs by starting `leben exchange run` as the node key
 * (a copy of it kept in locked memory), against the node at url. 0, or 1 after saying why. */
int cli_exchange_runner(const char *home, const char *url, const struct lb_keypair *kp);
/* "leben <cmd>: <message>" on stderr (and a hint line when given); returns 1. */
int cli_fail(const char *cmd, const struct lb_errmsg *em, const char *hint);
int cli_failf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Pretty JSON on stdout followed by a newline. */
void cli_print_json(json_t *j);
/* Parse a credit amount "12", "12.5" or "0.000001" (6 decimals) into micro-units. */
int cli_parse_amount(const char *s, uint64_t *out);
/* Format micro-units as a decimal string ("12.500000" -> "12.5"). buf >= 32 bytes. */
const char *cli_format_amount(uint64_t v, char *buf, size_t n);

struct lb_buf;
/* Append s to b percent-encoded for a URL path segment or query value (RFC 3986 unreserved
 * characters kept, every other byte as %XX). */
int cli_url_escape(struct lb_buf *b, const char *s);

#endif
