/*
 * Knowledge contracts on the business chain: the tx types `contract.publish` and
 * `contract.session` (rows of the ledger's tx-type table) and read-only JSON views of what
 * they recorded, for the node's API. Payload formats and the pure checks are in
 * leben/knowledge.h; the rules are in docs/knowledge-language.md ("On the chain") and the
 * encodings in docs/wire-format.md.
 */
#ifndef LEBEN_KNOWLEDGE_CHAIN_H
#define LEBEN_KNOWLEDGE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/ledger.h"

/* Wire ids (business chain, knowledge range 0x0310-0x031f). */
enum {
	LB_TX_CONTRACT_PUBLISH = 0x0310,
	LB_TX_CONTRACT_SESSION = 0x0311,
};

/* Register the knowledge tx types. Idempotent. */
int lb_knowledge_register_txtypes(void);

/* For handlers of upper layers (the store): the author, version and root name (name holds
 * at least 128 bytes) of published contract hash in business-chain state s. LB_ENOTFOUND if
 * not published. */
int lb_kn_state_contract(struct lb_state *s, const uint8_t hash[32], uint8_t author[LB_ADDR_LEN],
			 uint64_t *version, char *name, size_t namesz);
/* The contract, owner (the account that started it) and completion of anchored session id.
 * LB_ENOTFOUND if no such session was started. */
int lb_kn_state_session(struct lb_state *s, const uint8_t id[32], uint8_t contract[32],
			uint8_t owner[LB_ADDR_LEN], bool *complete);
/* Whether anchored session id committed candidate `cand` in one of its decision events:
 * *found true with the decision's name in decision (at least LB_KN_NAME_MAX bytes).
 * LB_ENOTFOUND if no such session was started. */
int lb_kn_state_session_committed(struct lb_state *s, const uint8_t id[32], const char *cand,
				  bool *found, char *decision);

/* Views of committed business-chain state; *out is a new reference.
 * Published contracts, oldest first, from `offset`, at most `limit` (0 = 100):
 * {"total":N,"contracts":[{hash,name,author,version,height,time_ms,report_hash,
 *  source_bytes,sessions}]}. */
int lb_kn_contracts_json(struct lb_ledger *l, size_t offset, size_t limit, json_t **out,
			 struct lb_errmsg *em);
/* One contract with its canonical source ("source"); LB_ENOTFOUND if not published. */
int lb_kn_contract_json(struct lb_ledger *l, const uint8_t hash[32], json_t **out,
			struct lb_errmsg *em);
/* Anchored sessions, oldest first (all, or of one contract when contract is not NULL):
 * {"total":N,"sessions":[{id,contract,owner,status,events,answers,decisions,height,time_ms,
 *  trace_hash}]}. LB_ENOTFOUND for an unpublished contract. */
int lb_kn_sessions_json(struct lb_ledger *l, const uint8_t *contract, size_t offset,
			size_t limit, json_t **out, struct lb_errmsg *em);
/* One session with its events in order ("events":[{seq,event,height,tx,digest,decision,
 * candidates}]); LB_ENOTFOUND if never started. */
int lb_kn_session_json(struct lb_ledger *l, const uint8_t id[32], json_t **out,
		       struct lb_errmsg *em);

#endif
