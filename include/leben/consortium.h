/*
 * Consortium membership governance and signed checkpoints (docs/consortium.md).
 *
 * Members are the institutions' super nodes (data, computing, algorithm, audit). genesis.json
 * may name the first members; afterwards they are admitted and removed on the business chain
 * by `governance.propose` and `governance.vote`: a proposal passes when the yes-votes of
 * current members reach ceil(2/3 x current members). Every K blocks each member node signs
 * (chain, height, block hash, app hash) as a business-chain `checkpoint` tx; a checkpoint that
 * differs from this node's own block raises a local alarm (never part of consensus state).
 */
#ifndef LEBEN_CONSORTIUM_H
#define LEBEN_CONSORTIUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/ledger.h"

/* Tx type ids (business chain, range 0x0330-0x033f). */
enum {
	LB_TX_GOV_PROPOSE = 0x0330,
	LB_TX_GOV_VOTE = 0x0331,
	LB_TX_CHECKPOINT = 0x0332,
	LB_TX_GOV_VOUCH = 0x0333,  /* a member vouches for an account (or withdraws) */
	LB_TX_GOV_REKEY = 0x0334,  /* a member moves to a new node key */
	LB_TX_GOV_REMOVAL = 0x0335, /* states keys a removal refused (for the other chains) */
	LB_TX_CA_COSIGN = 0x0336,  /* a member co-signs a TLS certificate's public key */
	LB_TX_GOV_FOLLOW = 0x0106,     /* settlement: carries a governance.removal there */
	LB_TX_GOV_FOLLOW_DIR = 0x0205, /* directory: the same */
};

/* Super-node kinds, a bit set. */
enum {
	LB_SUPER_DATA = 1,
	LB_SUPER_COMPUTING = 2,
	LB_SUPER_ALGORITHM = 4,
	LB_SUPER_AUDIT = 8,
	LB_SUPER_ALL = 15,
};

#define LB_MEMBER_NAME_MAX 64    /* bytes of a member's name */
#define LB_MEMBERS_MAX 256       /* members at most */
#define LB_PROPOSALS_OPEN_MAX 64 /* open proposals at most */

#define LB_VOUCHED_MAX 4096   /* accounts one member may vouch for */

/* Proposal actions. REMOVE freezes what the member leaves (its key and the accounts it
 * vouched for are refused); REMOVE_TO hands the accounts it vouched for to a named successor
 * member (only its own key is refused); PARAMS changes the governance rules; KINDS gives a
 * current member new super-node kinds; AUDIT changes the re-audit interval (the genesis
 * "audit" interval_blocks, LB_AUDIT_CFG_NS of the business state). */
enum {
	LB_GOV_ADMIT = 1,
	LB_GOV_REMOVE = 2,
	LB_GOV_REMOVE_TO = 3,
	LB_GOV_PARAMS = 4,
	LB_GOV_KINDS = 5,
	LB_GOV_AUDIT = 6,
};
#define LB_GOV_AUDIT_INTERVAL_MAX 1000000000 /* business blocks */

/* The governance rules (genesis.json "governance", changed by a PARAMS vote): a proposal
 * passes when the yes-votes reach ceil(num/den x members); a proposal stays open for at most
 * vote_blocks_max business blocks; vote_blocks_default is what clients propose by default. */
struct lb_gov_params {
	uint8_t num, den;                     /* 1 <= num <= den <= 100, 2 num > den */
	uint64_t vote_blocks_default;         /* >= 1, <= vote_blocks_max */
	uint64_t vote_blocks_max;             /* >= 1 */
};
#define LB_GOV_PARAMS_DEFAULT {2, 3, 1000, 100000}
/* LB_EINVALID with a message when p breaks the ranges above. */
int lb_gov_params_check(const struct lb_gov_params *p, struct lb_errmsg *em);

/* Register governance.propose, governance.vote and checkpoint, and the genesis part that
 * reads the `members` list. Idempotent. */
int lb_consortium_register_txtypes(void);

/* ---- vote arithmetic ------------------------------------------------------------------ */

/* Yes-votes needed among n members: ceil(2n/3) (0 for n = 0). */
uint64_t lb_gov_threshold(uint64_t members);
/* The same under rules p: ceil(num x n / den). */
uint64_t lb_gov_threshold_q(uint64_t members, const struct lb_gov_params *p);
/* Outcome of a tally of current members' votes. */
enum lb_gov_outcome { LB_GOV_OPEN = 1, LB_GOV_PASSED = 2, LB_GOV_REJECTED = 3 };
/* PASSED when yes >= threshold(n); REJECTED when no > n - threshold(n) (it can no longer
 * pass); else OPEN. */
enum lb_gov_outcome lb_gov_outcome(uint64_t members, uint64_t yes, uint64_t no);
enum lb_gov_outcome lb_gov_outcome_q(uint64_t members, uint64_t yes, uint64_t no,
				     const struct lb_gov_params *p);

/* Kinds from/to text: "data,computing" <-> bits. Parse returns LB_EMALFORMED on an unknown
 * word (message in em). format writes into buf (at least 40 bytes). */
int lb_super_kinds_parse(const char *text, uint8_t *kinds, struct lb_errmsg *em);
const char *lb_super_kinds_format(uint8_t kinds, char *buf, size_t n);

/* ---- payloads (docs/wire-format.md) ------------------------------------------------------ */

struct lb_gov_proposal {
	uint8_t action;                       /* LB_GOV_* */
	uint8_t member[LB_ADDR_LEN];          /* who is admitted, removed or given kinds */
	char name[LB_MEMBER_NAME_MAX + 1];    /* admit: the member's name */
	uint8_t kinds;                        /* admit, KINDS: super-node kinds (non-empty) */
	uint64_t expires_height;              /* last business height at which votes count */
	uint8_t successor[LB_ADDR_LEN];       /* REMOVE_TO: the member taking over */
	struct lb_gov_params params;          /* PARAMS: the new rules (member is all zero) */
	uint64_t audit_interval;              /* AUDIT: 1 .. LB_GOV_AUDIT_INTERVAL_MAX business
					       * blocks (member is all zero) */
};
/* governance.vouch: a member vouches for an account of its institution (its users), or
 * withdraws. When the member is removed, the accounts it vouched for are refused (REMOVE) or
 * pass to the successor (REMOVE_TO). */
struct lb_gov_vouch {
	uint8_t account[LB_ADDR_LEN];
	bool vouch;                           /* true vouch, false withdraw */
};
/* governance.rekey: the member's current node key names its new key; proof is the new key's
 * signature over "LEBEN governance.rekey v1" || old key's address || new public key. */
struct lb_gov_rekey {
	uint8_t new_key[LB_PUBKEY_LEN];
	uint8_t proof[LB_SIG_LEN];
};
struct lb_gov_vote {
	uint8_t proposal[LB_HASH_LEN];        /* id of the governance.propose tx */
	bool yes;
};
struct lb_checkpoint {
	uint8_t chain;                        /* enum lb_chain_id */
	uint64_t height;                      /* block height (>= 1) */
	uint8_t block_hash[LB_HASH_LEN];
	uint8_t app_hash[LB_HASH_LEN];
};

/* Canonical payload encodings (appended to b) and strict decoders (LB_EMALFORMED /
 * LB_EINVALID with a message). */
int lb_gov_proposal_encode(struct lb_buf *b, const struct lb_gov_proposal *p);
int lb_gov_proposal_decode(struct lb_gov_proposal *p, const uint8_t *in, size_t n,
			   struct lb_errmsg *em);
int lb_gov_vote_encode(struct lb_buf *b, const struct lb_gov_vote *v);
int lb_gov_vote_decode(struct lb_gov_vote *v, const uint8_t *in, size_t n, struct lb_errmsg *em);
int lb_gov_vouch_encode(struct lb_buf *b, const struct lb_gov_vouch *v);
int lb_gov_vouch_decode(struct lb_gov_vouch *v, const uint8_t *in, size_t n, struct lb_errmsg *em);
int lb_gov_rekey_encode(struct lb_buf *b, const struct lb_gov_rekey *r);
int lb_gov_rekey_decode(struct lb_gov_rekey *r, const uint8_t *in, size_t n, struct lb_errmsg *em);
/* The message the new key signs (out: 25 + LB_ADDR_LEN + LB_PUBKEY_LEN bytes). */
#define LB_GOV_REKEY_MSG_LEN (25 + LB_ADDR_LEN + LB_PUBKEY_LEN)
void lb_gov_rekey_message(uint8_t out[LB_GOV_REKEY_MSG_LEN], const uint8_t old_addr[LB_ADDR_LEN],
			  const uint8_t new_key[LB_PUBKEY_LEN]);
/* governance.removal (business): "member's removal refused keys[offset .. offset+count)" —
 * valid only when that is exactly a slice of the list the removal recorded
 * (gov.banned/<member>), so its inclusion proof tells the other chains which keys to refuse. */
#define LB_GOV_REMOVAL_SLICE_MAX 1000
struct lb_gov_removal {
	uint8_t member[LB_ADDR_LEN];
	uint64_t offset;
	size_t count;                         /* 1 .. LB_GOV_REMOVAL_SLICE_MAX */
	const uint8_t *keys;                  /* count addresses (borrowed from the payload) */
};
int lb_gov_removal_encode(struct lb_buf *b, const struct lb_gov_removal *r);
int lb_gov_removal_decode(struct lb_gov_removal *r, const uint8_t *in, size_t n,
			  struct lb_errmsg *em);
/* governance.follow / governance.follow.directory: version 1, a committed governance.removal
 * tx (its bytes) and its inclusion proof anchored in a block of the chain the follow is sent
 * to (lb_proof_verify format). Anyone may send it (fee-exempt); it writes LB_KEYMAP_REMOVED for
 * the listed keys on its own chain. */
struct lb_gov_follow {
	const uint8_t *tx;                    /* borrowed */
	size_t tx_len;
	const uint8_t *proof;                 /* borrowed */
	size_t proof_len;
};
int lb_gov_follow_encode(struct lb_buf *b, const uint8_t *tx, size_t tx_len, const uint8_t *proof,
			 size_t proof_len);
int lb_gov_follow_decode(struct lb_gov_follow *f, const uint8_t *in, size_t n,
			 struct lb_errmsg *em);
int lb_checkpoint_encode(struct lb_buf *b, const struct lb_checkpoint *c);
int lb_checkpoint_decode(struct lb_checkpoint *c, const uint8_t *in, size_t n,
			 struct lb_errmsg *em);

/* ---- queries on a node's committed state ------------------------------------------------ */

/* Is addr a current member (per the committed business state)? */
bool lb_consortium_is_member(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN]);
/* A removed member's record: {"member", "height" (business block of the enacting vote),
 * "disposition" ("freeze" | "successor"), "successor"?, "refused_keys": [addresses refused by
 * the removal, in the order governance.removal slices them]}. LB_ENOTFOUND if addr was never
 * removed. */
int lb_consortium_removal_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN],
			       json_t **out, struct lb_errmsg *em);
/* Super-node kinds (LB_SUPER_* bits) of a current member; 0 when addr is not a member (or the
 * state cannot be read). Reads the committed business state. */
uint8_t lb_consortium_member_kinds(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN]);
/* The same inside a business-chain tx handler or a state view (s: the business state being
 * built or read; deterministic): *kinds = addr's LB_SUPER_* bits (0 for a non-member),
 * *members = number of current members (0: a network without members), *present = the union
 * of every member's kinds (which roles exist at all). Any out-pointer may be NULL. */
int lb_consortium_state_kinds(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint8_t *kinds,
			      uint64_t *members, uint8_t *present);
/* The name of member addr inside a business-chain tx handler (deterministic): *name "" when
 * addr is not a member; *members = number of current members. */
int lb_consortium_state_member_name(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN],
				    char name[LB_MEMBER_NAME_MAX + 1], uint64_t *members);
/* The role check of the business applications' institution-only txs (a referral specialty, a
 * surgery hospital id), inside a business-chain tx handler: LB_OK when addr is a current
 * member or the network has no members (its one institution holds every role); otherwise
 * LB_EUNAUTH "not a member institution: ADDR … may not DOING …" in em. */
int lb_consortium_state_need_member(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN],
				    const char *doing, struct lb_errmsg *em);
/* {"count", "threshold", "members":[{address,name,kinds,since}], "proposals":[open ones]}
 * (new reference in *out). */
int lb_consortium_members_json(struct lb_ledger *l, json_t **out, struct lb_errmsg *em);
/* Name of a member ("" when not a member), into name (LB_MEMBER_NAME_MAX + 1 bytes). */
bool lb_consortium_member_name(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN],
			       char *name);

/* The checkpoint a member recorded for (chain, height): LB_OK with the hashes, or
 * LB_ENOTFOUND. For catch-up: a snapshot's hashes can be checked against it. */
int lb_consortium_checkpoint_get(struct lb_ledger *l, int chain, uint64_t height,
				 const uint8_t member[LB_ADDR_LEN], uint8_t block_hash[LB_HASH_LEN],
				 uint8_t app_hash[LB_HASH_LEN]);
/* Lowest, over the current members, of the highest height of chain each has checkpointed
 * (0 if a member has none, or there are no members): history at or below it is attested by
 * every member (e.g. safe to compact in the orderer). */
int lb_consortium_checkpointed_height(struct lb_ledger *l, int chain, uint64_t *height,
				      struct lb_errmsg *em);

/* ---- the node's checkpoint monitor -------------------------------------------------------- */

struct lb_consortium;

/* Watch l (borrowed; outlives the monitor). node_key is copied: it signs this node's
 * checkpoints (published only while the node is a member). interval: every that many blocks
 * of each chain (0 = never publish; received checkpoints are still checked). The monitor's
 * thread also carries removals to the settlement and directory chains while the node is a
 * member (governance.removal, then governance.follow[.directory], signed by the ledger's
 * node key: docs/consortium.md, "Removing a member"), starting with the removals recorded
 * earlier that those chains have not taken over. */
int lb_consortium_new(struct lb_consortium **out, struct lb_ledger *l,
		      const struct lb_keypair *node_key, uint64_t interval, struct lb_errmsg *em);
void lb_consortium_free(struct lb_consortium *c);
/* Call after each committed block (the node's deliver path) with its cut: checks the
 * checkpoints the block recorded against this node's own blocks (raising alarms), checks
 * earlier ones whose height this chain has now reached, queues the removals a business block
 * enacted, and when height is a multiple of the interval queues this node's own checkpoint
 * for the monitor's publisher thread (which signs and submits outside the deliver path).
 * Never fails the commit. */
void lb_consortium_after_commit(struct lb_consortium *c, const struct lb_cut *cut,
				uint64_t height);
/* {"member", "checkpoint_interval", "published", "checked", "alarms":[...]} */
json_t *lb_consortium_status_json(struct lb_consortium *c);
/* Number of alarms raised so far. */
size_t lb_consortium_alarm_count(struct lb_consortium *c);

/* ---- offline check ------------------------------------------------------------------------ */

/* After lb_ledger_verify_home succeeded: every checkpoint recorded on the business chain of
 * home must match the stored (= replayed) block it names. LB_ECORRUPT naming the member
 * (name and address) on the first mismatch; *checked counts the checkpoints compared. */
int lb_consortium_verify_home(const char *home, uint64_t *checked, struct lb_errmsg *em);
/* The same over an open ledger (its chains taken as replayed, e.g. after lb_snapshot_import). */
int lb_consortium_verify_ledger(struct lb_ledger *l, uint64_t *checked, struct lb_errmsg *em);

/* ---- catch-up from a peer snapshot (snapshot.c; docs/consortium.md) -------------------------- */

struct lb_tls_config;

/* A peer's copy of the three chains: blocks 1..height[c] of each chain (stored header and body
 * bytes) and the orderer cursor stored with each tip. */
struct lb_snapshot {
	uint64_t height[LB_CHAIN_COUNT];
	uint8_t cursor[LB_CHAIN_COUNT][LB_CURSOR_MAX];
	size_t cursor_len[LB_CHAIN_COUNT];
	struct lb_buf *headers[LB_CHAIN_COUNT];
	struct lb_buf *bodies[LB_CHAIN_COUNT];
};
/* Reads exactly n bytes or fails with a message. */
typedef int (*lb_snapshot_read_fn)(void *ctx, void *buf, size_t n, struct lb_errmsg *em);
/* Parse a snapshot stream (format in snapshot.c) from read. LB_EMALFORMED / LB_ETOOBIG on a
 * bad stream (nothing is kept); free a good one with lb_snapshot_free. */
int lb_snapshot_read(lb_snapshot_read_fn read, void *ctx, struct lb_snapshot *s,
		     struct lb_errmsg *em);
void lb_snapshot_free(struct lb_snapshot *s);
/* Import s into l, whose chains must all be at genesis (else LB_EEXISTS, nothing changed):
 * every block replayed in the peer's commit order and required to hash the same
 * (lb_ledger_import_block), then every checkpoint recorded on the business chain compared with
 * the imported blocks (*checked counts them). LB_ECORRUPT names the first block or member that
 * disagrees; the home must then be emptied before another try. */
int lb_snapshot_import(struct lb_ledger *l, const struct lb_snapshot *s, uint64_t *checked,
		       struct lb_errmsg *em);
/* Fetch a snapshot from peer "HOST:PORT" over mutual TLS and import it. */
int lb_snapshot_fetch(struct lb_ledger *l, const char *peer, const struct lb_tls_config *tls,
		      uint64_t *checked, struct lb_errmsg *em);

/* The serving side: a thread answering snapshot requests on listen ("HOST:PORT") over mutual
 * TLS, one at a time; only certificates of the consortium CA get through. */
struct lb_snapshot_server;
int lb_snapshot_server_start(struct lb_snapshot_server **out, struct lb_ledger *l,
			     const char *listen, const struct lb_tls_config *tls,
			     struct lb_errmsg *em);
void lb_snapshot_server_stop(struct lb_snapshot_server *sv);

/* ---- etcd membership (src/order/etcd.c) ------------------------------------------------------ */

/* One call of etcd's membership API through its v3 gateway, POST /v3/cluster/member/<op>
 * (op: "list", "add", "remove", "promote"; body as etcd takes it, e.g. {"ID": "123"} or
 * {"peerURLs": [...], "isLearner": true}; NULL for {}), on the first of the comma-separated
 * endpoints that answers, over mutual TLS with ca/cert/key (NULL for plain http). *reply is
 * etcd's JSON answer (new reference; etcd writes 64-bit ids as strings). LB_EUNAVAILABLE
 * with etcd's reason when no endpoint answers or etcd refuses. */
int lb_etcd_member_call(const char *endpoints, const char *ca, const char *cert,
			const char *key, const char *op, json_t *body, json_t **reply,
			struct lb_errmsg *em);

/* ---- co-signed certificates (docs/consortium.md, "Certificates signed by several holders") -- */

/* ca.cosign: a member (a CA holder) vouches for a TLS certificate by the hash of its public
 * key: BLAKE2b-256 of the certificate's SubjectPublicKeyInfo (DER). The sender's signature on
 * the tx is the co-signature; the chain records who co-signed each key
 * (gov.cert/<hash>: uvar n, n member addresses, the name). name: the certificate's common
 * name, for people (1..64 bytes of text). */
struct lb_ca_cosign {
	uint8_t spki_hash[LB_HASH_LEN];
	char name[LB_MEMBER_NAME_MAX + 1];
};
int lb_ca_cosign_encode(struct lb_buf *b, const struct lb_ca_cosign *c);
int lb_ca_cosign_decode(struct lb_ca_cosign *c, const uint8_t *in, size_t n,
			struct lb_errmsg *em);
/* Is the certificate whose public key hashes to spki_hash co-signed by enough CA holders:
 * current members reaching the governance threshold (ceil(num/den x members), as a vote)?
 * LB_OK, or LB_EUNAUTH with who signed and how many are needed in why. */
int lb_consortium_cert_check(struct lb_ledger *l, const uint8_t spki_hash[LB_HASH_LEN],
			     char *why, size_t n);
/* The co-signatures of a key as JSON: {"spki_hash", "name", "cosigners": [...],
 * "current": N, "needed": K, "accepted": bool}; LB_ENOTFOUND when nobody co-signed it. */
int lb_consortium_cert_json(struct lb_ledger *l, const uint8_t spki_hash[LB_HASH_LEN],
			    json_t **out, struct lb_errmsg *em);

#endif
