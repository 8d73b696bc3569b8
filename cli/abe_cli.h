/*
 * CP-ABE helpers shared by `leben abe` and the data commands: seal bytes to a policy of an
 * institution's attribute authority (abe.seal tx on the directory chain) and open the latest
 * policy-sealed private part of an asset with a user's ABE key kept in the home.
 */
#ifndef LEBEN_CLI_ABE_H
#define LEBEN_CLI_ABE_H

#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"

/* Encrypt msg under policy (plain attribute names; the current epochs are added) with the
 * parameters of authority (64 hex digits, or NULL: the authority of key signer of home) and
 * publish it as the policy-sealed private part of asset version, signed by key signer.
 * txid receives the abe.seal tx id. */
int abe_cli_seal(const char *home, const char *url, const char *signer, const char *authority,
		 const char *policy, const uint8_t asset[32], uint64_t version, const uint8_t *msg,
		 size_t len, char txid[65], struct lb_errmsg *em);
/* Open the policy-sealed private part of asset (64 hex digits) with the ABE key that key
 * name of home holds from the sealing authority: *plain (caller wipes and frees), *version
 * the asset version it was sealed for, policy (may be NULL) its plain policy text.
 * LB_ENOTFOUND if none is sealed or the home holds no key of that authority, LB_EDENIED if
 * the key's attributes do not satisfy the policy. */
int abe_cli_open(const char *home, const char *url, const char *key, const char *asset,
		 uint8_t **plain, size_t *plen, uint64_t *version, char policy[4096],
		 struct lb_errmsg *em);

/* The same for an exchange request's result (id: 32 bytes): abe.share, sent by signer. */
int abe_cli_share(const char *home, const char *url, const char *signer, const char *authority,
		  const char *policy, const uint8_t request[32], const uint8_t *msg, size_t len,
		  char txid[65], struct lb_errmsg *em);
/* Open the result of request (64 hex digits) shared to a policy, accepted only if user (the
 * request's user address) sent it; LB_EDENIED otherwise or if the key does not satisfy it. */
int abe_cli_open_share(const char *home, const char *url, const char *key, const char *request,
		       const char *user, uint8_t **plain, size_t *plen, char policy[4096],
		       struct lb_errmsg *em);

/* The parameters of authority (64 hex digits, or NULL: the authority of key signer of home)
 * from the chain and policy (plain attribute names) with the current epochs (*vpol, caller
 * frees with lb_free); auth_id (may be NULL) receives the authority id. LB_ESYNTAX for a bad
 * policy, LB_ENOTFOUND if the authority published nothing, LB_EUSAGE for a bad id. */
struct lb_abe_pk;
int abe_cli_policy(const char *home, const char *url, const char *signer, const char *authority,
		   const char *policy, uint8_t auth_id[32], struct lb_abe_pk *pk, char **vpol,
		   struct lb_errmsg *em);
/* Decrypt a CP-ABE ciphertext with the ABE key that key name of home holds from its
 * authority (*out: caller wipes and frees). LB_ENOTFOUND if the home holds no such key,
 * LB_EDENIED if its attributes do not satisfy the policy, LB_ETAMPERED if authentication
 * fails (a changed ciphertext, or key parts pooled from several keys). */
int abe_cli_decrypt(const char *home, const char *url, const char *key, const uint8_t *ct,
		    size_t ctlen, uint8_t **out, size_t *outlen, struct lb_errmsg *em);

#endif
