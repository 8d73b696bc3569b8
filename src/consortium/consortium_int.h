/*
 * Internals shared by the consortium module's files: the state records of members and
 * proposals (business chain) and their canonical encodings.
 *
 * State (business chain):
 *   gov/members        the member list, sorted by address
 *   gov/open           ids of open proposals, in proposal order
 *   gov.prop/<id>      a proposal with its votes (id = the governance.propose tx id)
 *   gov/removed        removed members' addresses, in removal order
 *   ckpt/<chain u8><height u64 BE><member addr>   block hash || app hash
 *   ckpt.last/<member addr><chain u8>             highest height that member checkpointed
 */
#ifndef LEBEN_CONSORTIUM_INT_H
#define LEBEN_CONSORTIUM_INT_H

#include "leben/consortium.h"

struct gov_member {
	uint8_t addr[LB_ADDR_LEN];            /* account address of the member's key */
	char name[LB_MEMBER_NAME_MAX + 1];    /* institution / node name */
	uint8_t kinds;                        /* LB_SUPER_* bits */
	uint64_t since;                       /* business height it was admitted at (0: genesis) */
};

struct gov_members {
	size_t n;                             /* members in m */
	struct gov_member m[LB_MEMBERS_MAX];  /* sorted by addr */
};

struct gov_vote_rec {
	uint8_t voter[LB_ADDR_LEN];           /* who voted */
	uint8_t yes;                          /* 1 yes, 0 no */
};

struct gov_prop {
	struct lb_gov_proposal p;             /* what was proposed */
	uint8_t proposer[LB_ADDR_LEN];        /* who proposed it (its yes vote is votes[0]) */
	uint64_t height;                      /* business height it was proposed at */
	uint8_t status;                       /* enum lb_gov_outcome */
	uint64_t decided;                     /* height it passed or was rejected at (0: open) */
	size_t nvotes;                        /* entries in votes */
	struct gov_vote_rec votes[LB_MEMBERS_MAX]; /* in vote order */
};

struct gov_open {
	size_t n;                                   /* open proposals */
	uint8_t ids[LB_PROPOSALS_OPEN_MAX][LB_HASH_LEN];
};

/* Encodings of the records (gov.c). Decoders return LB_ECORRUPT on a bad record. */
int gov_members_encode(struct lb_buf *b, const struct gov_members *m);
int gov_members_decode(struct gov_members *m, const uint8_t *in, size_t n);
/* Index of addr in m, or -1. */
long gov_members_find(const struct gov_members *m, const uint8_t addr[LB_ADDR_LEN]);
/* Insert keeping the order (LB_EEXISTS, LB_ELIMIT) / remove (LB_ENOTFOUND). */
int gov_members_add(struct gov_members *m, const struct gov_member *x);
int gov_members_remove(struct gov_members *m, const uint8_t addr[LB_ADDR_LEN]);
int gov_prop_encode(struct lb_buf *b, const struct gov_prop *p);
int gov_prop_decode(struct gov_prop *p, const uint8_t *in, size_t n);
int gov_open_encode(struct lb_buf *b, const struct gov_open *o);
int gov_open_decode(struct gov_open *o, const uint8_t *in, size_t n);
/* Count the yes and no votes of p cast by current members. */
void gov_tally(const struct gov_prop *p, const struct gov_members *m, uint64_t *yes,
	       uint64_t *no);

/* gov/removed: the removed members' addresses, in removal order, at most this many. */
#define GOV_REMOVED_MAX 4096

/* gov.cert/<spki hash>: the members that co-signed a certificate's key (ca.cosign). */
struct gov_cert {
	size_t n;
	uint8_t who[LB_MEMBERS_MAX][LB_ADDR_LEN]; /* in co-signing order */
	char name[LB_MEMBER_NAME_MAX + 1];        /* the name the first co-signer gave */
};
int gov_cert_encode(struct lb_buf *b, const struct gov_cert *c);
int gov_cert_decode(struct gov_cert *c, const uint8_t *in, size_t n);

/* State key of a checkpoint record (1 + 8 + 20 bytes). */
#define CKPT_KEY_LEN (1 + 8 + LB_ADDR_LEN)
void ckpt_key(uint8_t key[CKPT_KEY_LEN], uint8_t chain, uint64_t height,
	      const uint8_t member[LB_ADDR_LEN]);

/* The governance rules in a business state (the defaults when none are stored); LB_ECORRUPT
 * on a bad record (gov_tx.c). */
int gov_params_load(struct lb_state *s, struct lb_gov_params *p);

/* JSON helpers. */
json_t *gov_addr_json(const uint8_t addr[LB_ADDR_LEN]);
json_t *gov_hex_json(const uint8_t *p, size_t n);
/* "admit", "remove", "rules", "kinds", "audit-interval" ("" for an unknown action). */
const char *gov_action_name(uint8_t action);
/* Add a proposal's action-specific fields (kinds, successor, rules, ...) to o (may be NULL). */
void gov_proposal_details(json_t *o, const struct lb_gov_proposal *p);

#endif
