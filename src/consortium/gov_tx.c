/*
 * The consortium's business-chain tx types: governance.propose, governance.vote and
 * checkpoint, plus the genesis part that reads genesis.json's `members` list. Every refusal
 * has its own error code and message, and a refused tx changes nothing (the ledger drops
 * the writes of a handler that fails).
 */
#include <stdio.h>
#include <string.h>

#include "consortium/consortium_int.h"
#include "leben/codec.h"

/* ---- state helpers ----------------------------------------------------------------------- */

static int load_members(struct lb_state *s, struct gov_members *m)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, "gov", "members", 7, &v, &n);
	if (rc == LB_ENOTFOUND) {
		m->n = 0;
		return LB_OK;
	}
	return rc ? rc : gov_members_decode(m, v, n);
}

int lb_consortium_state_kinds(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint8_t *kinds,
			      uint64_t *members, uint8_t *present)
{
	struct gov_members *m = lb_malloc(sizeof *m);
	if (!m)
		return LB_ENOMEM;
	int rc = load_members(s, m);
	if (!rc) {
		long i = gov_members_find(m, addr);
		uint8_t all = 0;
		for (size_t j = 0; j < m->n; j++)
			all |= m->m[j].kinds;
		if (kinds)
			*kinds = i >= 0 ? m->m[i].kinds : 0;
		if (members)
			*members = m->n;
		if (present)
			*present = all;
	}
	lb_free(m);
	return rc;
}

/* Store the record encoded in b (encoder result rc) under ns/key, or delete the entry when
 * the record is empty; releases b. */
static int put_record(struct lb_state *s, const char *ns, const void *key, size_t klen,
		      struct lb_buf *b, int rc, bool empty)
{
	if (!rc)
		rc = empty ? lb_state_del(s, ns, key, klen)
			   : lb_state_put(s, ns, key, klen, b->data, b->len);
	lb_buf_release(b);
	return rc;
}

static int store_members(struct lb_state *s, const struct gov_members *m)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	int rc = gov_members_encode(&b, m);
	return put_record(s, "gov", "members", 7, &b, rc, m->n == 0);
}

static int load_open(struct lb_state *s, struct gov_open *o)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, "gov", "open", 4, &v, &n);
	if (rc == LB_ENOTFOUND) {
		o->n = 0;
		return LB_OK;
	}
	return rc ? rc : gov_open_decode(o, v, n);
}

static int store_open(struct lb_state *s, const struct gov_open *o)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	int rc = gov_open_encode(&b, o);
	return put_record(s, "gov", "open", 4, &b, rc, o->n == 0);
}

static int load_prop(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct gov_prop *p)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, "gov.prop", id, LB_HASH_LEN, &v, &n);
	return rc ? rc : gov_prop_decode(p, v, n);
}

static int store_prop(struct lb_state *s, const uint8_t id[LB_HASH_LEN], const struct gov_prop *p)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	int rc = gov_prop_encode(&b, p);
	return put_record(s, "gov.prop", id, LB_HASH_LEN, &b, rc, false);
}

static void open_drop(struct gov_open *o, const uint8_t id[LB_HASH_LEN])
{
	for (size_t i = 0; i < o->n; i++)
		if (!memcmp(o->ids[i], id, LB_HASH_LEN)) {
			memmove(o->ids[i], o->ids[i + 1], (o->n - i - 1) * LB_HASH_LEN);
			o->n--;
			return;
		}
}

static const char *addr_text(const uint8_t a[LB_ADDR_LEN], char out[LB_ADDR_TEXT_LEN + 1])
{
	lb_addr_encode(out, a);
	return out;
}

static int not_member(struct lb_apply_ctx *c, const char *what)
{
	char t[LB_ADDR_TEXT_LEN + 1];
	return lb_errf(c->em, LB_EUNAUTH, "%s is not a consortium member: only members may %s",
		       addr_text(c->sender_addr, t), what);
}

/* Carry out a passed proposal on the member list. */
static int enact(struct lb_apply_ctx *c, const struct gov_prop *p, struct gov_members *m)
{
	char t[LB_ADDR_TEXT_LEN + 1];
	addr_text(p->p.member, t);
	if (p->p.action == LB_GOV_ADMIT) {
		struct gov_member x = {.kinds = p->p.kinds, .since = c->height};
		memcpy(x.addr, p->p.member, LB_ADDR_LEN);
		snprintf(x.name, sizeof x.name, "%s", p->p.name);
		int rc = gov_members_add(m, &x);
		if (rc == LB_EEXISTS)
			return lb_errf(c->em, rc, "%s is already a member", t);
		if (rc == LB_ELIMIT)
			return lb_errf(c->em, rc, "the consortium already has %d members, the most it "
						  "can have", LB_MEMBERS_MAX);
		return rc;
	}
	if (gov_members_find(m, p->p.member) < 0)
		return lb_errf(c->em, LB_ENOTFOUND, "%s is no longer a member", t);
	if (m->n == 1)
		return lb_errf(c->em, LB_EDENIED,
			       "removing %s would leave the consortium without members", t);
	return gov_members_remove(m, p->p.member);
}

/* After a vote (or the proposer's own vote): decide, enact, store. */
static int settle(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN], struct gov_prop *p,
		  struct gov_members *m, struct gov_open *o)
{
	uint64_t yes, no;
	int rc;
	gov_tally(p, m, &yes, &no);
	enum lb_gov_outcome out = lb_gov_outcome(m->n, yes, no);
	if (out != LB_GOV_OPEN) {
		if (out == LB_GOV_PASSED && ((rc = enact(c, p, m)) || (rc = store_members(c->state, m))))
			return rc;
		p->status = (uint8_t)out;
		p->decided = c->height;
		open_drop(o, id);
	} else {
		p->status = LB_GOV_OPEN;
	}
	if ((rc = store_prop(c->state, id, p)) || (rc = store_open(c->state, o)))
		return lb_errf(c->em, rc, "writing the proposal failed");
	return LB_OK;
}

/* ---- governance.propose ------------------------------------------------------------------ */

static int check_propose(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_gov_proposal p;
	return lb_gov_proposal_decode(&p, tx->payload, tx->payload_len, em);
}

static int apply_propose(struct lb_apply_ctx *c)
{
	struct gov_members *m = lb_malloc(sizeof *m);
	struct gov_prop *p = lb_calloc(1, sizeof *p);
	struct gov_open *o = lb_malloc(sizeof *o);
	char t[LB_ADDR_TEXT_LEN + 1], hex[2 * LB_HASH_LEN + 1];
	int rc;
	if (!m || !p || !o) {
		rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = lb_gov_proposal_decode(&p->p, c->tx->payload, c->tx->payload_len, c->em)))
		goto out;
	if ((rc = load_members(c->state, m)) || (rc = load_open(c->state, o))) {
		rc = lb_errf(c->em, rc, "reading the member list failed");
		goto out;
	}
	if (gov_members_find(m, c->sender_addr) < 0) {
		rc = not_member(c, "propose");
		goto out;
	}
	addr_text(p->p.member, t);
	if (p->p.expires_height < c->height) {
		rc = lb_errf(c->em, LB_EINVALID,
			     "the expiry height %llu is already past (this is business block %llu)",
			     (unsigned long long)p->p.expires_height, (unsigned long long)c->height);
		goto out;
	}
	if (p->p.action == LB_GOV_ADMIT && gov_members_find(m, p->p.member) >= 0) {
		rc = lb_errf(c->em, LB_EEXISTS, "%s is already a member", t);
		goto out;
	}
	if (p->p.action == LB_GOV_ADMIT && m->n == LB_MEMBERS_MAX) {
		rc = lb_errf(c->em, LB_ELIMIT, "the consortium already has %d members",
			     LB_MEMBERS_MAX);
		goto out;
	}
	if (p->p.action == LB_GOV_REMOVE && gov_members_find(m, p->p.member) < 0) {
		rc = lb_errf(c->em, LB_ENOTFOUND, "%s is not a member, so it cannot be removed", t);
		goto out;
	}
	if (p->p.action == LB_GOV_REMOVE && m->n == 1) {
		rc = lb_errf(c->em, LB_EDENIED,
			     "%s is the last member; the consortium cannot remove its last member", t);
		goto out;
	}
	/* Drop expired proposals from the open list, then refuse a second one on the same
	 * member while one is open. */
	struct gov_prop *q = lb_malloc(sizeof *q);
	if (!q) {
		rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < o->n && !rc;) {
		if ((rc = load_prop(c->state, o->ids[i], q))) {
			rc = lb_errf(c->em, LB_ECORRUPT, "an open proposal cannot be read");
			break;
		}
		if (q->p.expires_height < c->height) {
			open_drop(o, o->ids[i]);
			continue;
		}
		if (!memcmp(q->p.member, p->p.member, LB_ADDR_LEN)) {
			lb_hex_encode(hex, o->ids[i], LB_HASH_LEN);
			rc = lb_errf(c->em, LB_EEXISTS,
				     "proposal %s about %s is still open; vote on it instead", hex, t);
		}
		i++;
	}
	lb_free(q);
	if (rc)
		goto out;
	if (o->n == LB_PROPOSALS_OPEN_MAX) {
		rc = lb_errf(c->em, LB_ELIMIT,
			     "%d proposals are open; vote on them or let them expire first",
			     LB_PROPOSALS_OPEN_MAX);
		goto out;
	}
	memcpy(p->proposer, c->sender_addr, LB_ADDR_LEN);
	p->height = c->height;
	p->nvotes = 1;
	memcpy(p->votes[0].voter, c->sender_addr, LB_ADDR_LEN);
	p->votes[0].yes = 1;
	memcpy(o->ids[o->n++], c->tx->id, LB_HASH_LEN);
	rc = settle(c, c->tx->id, p, m, o);
out:
	lb_free(m);
	lb_free(p);
	lb_free(o);
	return rc;
}

static json_t *json_propose(const struct lb_tx *tx)
{
	struct lb_gov_proposal p;
	char k[64];
	if (lb_gov_proposal_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *o = json_pack("{s:s,s:o,s:I}", "action",
			      p.action == LB_GOV_ADMIT ? "admit" : "remove", "member",
			      gov_addr_json(p.member), "expires_height",
			      (json_int_t)p.expires_height);
	if (o && p.action == LB_GOV_ADMIT) {
		json_object_set_new(o, "name", json_string(p.name));
		json_object_set_new(o, "kinds", json_string(lb_super_kinds_format(p.kinds, k, sizeof k)));
	}
	return o;
}

/* ---- governance.vote --------------------------------------------------------------------- */

static int check_vote(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_gov_vote v;
	return lb_gov_vote_decode(&v, tx->payload, tx->payload_len, em);
}

static int apply_vote(struct lb_apply_ctx *c)
{
	struct lb_gov_vote v;
	struct gov_members *m = lb_malloc(sizeof *m);
	struct gov_prop *p = lb_malloc(sizeof *p);
	struct gov_open *o = lb_malloc(sizeof *o);
	char hex[2 * LB_HASH_LEN + 1];
	int rc;
	if (!m || !p || !o) {
		rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = lb_gov_vote_decode(&v, c->tx->payload, c->tx->payload_len, c->em)))
		goto out;
	lb_hex_encode(hex, v.proposal, LB_HASH_LEN);
	if ((rc = load_members(c->state, m)) || (rc = load_open(c->state, o))) {
		rc = lb_errf(c->em, rc, "reading the member list failed");
		goto out;
	}
	if (gov_members_find(m, c->sender_addr) < 0) {
		rc = not_member(c, "vote");
		goto out;
	}
	rc = load_prop(c->state, v.proposal, p);
	if (rc == LB_ENOTFOUND) {
		rc = lb_errf(c->em, LB_ENOTFOUND,
			     "there is no proposal %s (a proposal's id is the id of its "
			     "governance.propose tx)", hex);
		goto out;
	}
	if (rc) {
		rc = lb_errf(c->em, rc, "proposal %s cannot be read", hex);
		goto out;
	}
	if (p->status != LB_GOV_OPEN) {
		rc = lb_errf(c->em, LB_EINVALID, "proposal %s was already %s at business block %llu",
			     hex, p->status == LB_GOV_PASSED ? "passed" : "rejected",
			     (unsigned long long)p->decided);
		goto out;
	}
	if (c->height > p->p.expires_height) {
		rc = lb_errf(c->em, LB_EEXPIRED,
			     "proposal %s expired at business block %llu (this is block %llu)", hex,
			     (unsigned long long)p->p.expires_height, (unsigned long long)c->height);
		goto out;
	}
	for (size_t i = 0; i < p->nvotes; i++)
		if (!memcmp(p->votes[i].voter, c->sender_addr, LB_ADDR_LEN)) {
			rc = lb_errf(c->em, LB_EDUPLICATE,
				     "this member already voted %s on proposal %s; a vote cannot be "
				     "changed",
				     p->votes[i].yes ? "yes" : "no", hex);
			goto out;
		}
	if (p->nvotes == LB_MEMBERS_MAX) {
		rc = lb_errf(c->em, LB_ELIMIT, "proposal %s has the most votes it can hold", hex);
		goto out;
	}
	memcpy(p->votes[p->nvotes].voter, c->sender_addr, LB_ADDR_LEN);
	p->votes[p->nvotes++].yes = v.yes ? 1 : 0;
	rc = settle(c, v.proposal, p, m, o);
out:
	lb_free(m);
	lb_free(p);
	lb_free(o);
	return rc;
}

static json_t *json_vote(const struct lb_tx *tx)
{
	struct lb_gov_vote v;
	if (lb_gov_vote_decode(&v, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:s}", "proposal", gov_hex_json(v.proposal, LB_HASH_LEN), "vote",
			 v.yes ? "yes" : "no");
}

/* ---- checkpoint --------------------------------------------------------------------------- */

static int check_checkpoint(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_checkpoint k;
	return lb_checkpoint_decode(&k, tx->payload, tx->payload_len, em);
}

static int apply_checkpoint(struct lb_apply_ctx *c)
{
	struct lb_checkpoint k;
	struct gov_members *m = lb_malloc(sizeof *m);
	uint8_t key[CKPT_KEY_LEN], val[2 * LB_HASH_LEN], lkey[LB_ADDR_LEN + 1];
	const uint8_t *v;
	size_t n;
	uint64_t last;
	int rc;
	if (!m)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	if ((rc = lb_checkpoint_decode(&k, c->tx->payload, c->tx->payload_len, c->em)))
		goto out;
	if ((rc = load_members(c->state, m))) {
		rc = lb_errf(c->em, rc, "reading the member list failed");
		goto out;
	}
	if (gov_members_find(m, c->sender_addr) < 0) {
		rc = not_member(c, "publish checkpoints (only members' checkpoints count)");
		goto out;
	}
	if (k.chain == LB_CHAIN_BUSINESS && k.height >= c->height) {
		rc = lb_errf(c->em, LB_EINVALID,
			     "business block %llu is not committed yet (this is block %llu): a "
			     "checkpoint names a block before the one that records it",
			     (unsigned long long)k.height, (unsigned long long)c->height);
		goto out;
	}
	ckpt_key(key, k.chain, k.height, c->sender_addr);
	if (lb_state_get(c->state, "ckpt", key, sizeof key, &v, &n) == LB_OK) {
		rc = lb_errf(c->em, LB_EDUPLICATE,
			     "this member already checkpointed %s block %llu",
			     lb_chain_name(k.chain), (unsigned long long)k.height);
		goto out;
	}
	memcpy(val, k.block_hash, LB_HASH_LEN);
	memcpy(val + LB_HASH_LEN, k.app_hash, LB_HASH_LEN);
	memcpy(lkey, c->sender_addr, LB_ADDR_LEN);
	lkey[LB_ADDR_LEN] = k.chain;
	if ((rc = lb_state_put(c->state, "ckpt", key, sizeof key, val, sizeof val)) ||
	    (rc = lb_state_get_u64(c->state, "ckpt.last", lkey, sizeof lkey, 0, &last)) ||
	    (k.height > last &&
	     (rc = lb_state_put_u64(c->state, "ckpt.last", lkey, sizeof lkey, k.height))))
		rc = lb_errf(c->em, rc, "recording the checkpoint failed");
out:
	lb_free(m);
	return rc;
}

static json_t *json_checkpoint(const struct lb_tx *tx)
{
	struct lb_checkpoint k;
	if (lb_checkpoint_decode(&k, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:s,s:I,s:o,s:o}", "chain", lb_chain_name(k.chain), "height",
			 (json_int_t)k.height, "block_hash", gov_hex_json(k.block_hash, LB_HASH_LEN),
			 "app_hash", gov_hex_json(k.app_hash, LB_HASH_LEN));
}

/* ---- genesis ------------------------------------------------------------------------------- */

/* genesis.json "members": [{"name", "address" | "public_key", "kinds"}] */
static int genesis_members(json_t *g, int chain, struct lb_state *s, struct lb_errmsg *em)
{
	json_t *list = json_object_get(g, "members"), *v;
	if (chain != LB_CHAIN_BUSINESS || !list)
		return LB_OK;
	if (!json_is_array(list) || !json_array_size(list))
		return lb_errf(em, LB_EINVALID,
			       "genesis: 'members' must be a non-empty list of {name, address or "
			       "public_key, kinds}, or be left out");
	if (json_array_size(list) > LB_MEMBERS_MAX)
		return lb_errf(em, LB_ELIMIT, "genesis: more than %d members", LB_MEMBERS_MAX);
	struct gov_members *m = lb_calloc(1, sizeof *m);
	if (!m)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	size_t i;
	int rc = LB_OK;
	json_array_foreach(list, i, v)
	{
		struct gov_member x = {0};
		json_t *name = json_object_get(v, "name"), *addr = json_object_get(v, "address"),
		       *pk = json_object_get(v, "public_key"), *kinds = json_object_get(v, "kinds");
		const char *ns = json_string_value(name);
		if (!ns || !*ns || strlen(ns) > LB_MEMBER_NAME_MAX ||
		    !lb_utf8_is_text((const uint8_t *)ns, strlen(ns))) {
			rc = lb_errf(em, LB_EINVALID,
				     "genesis: members[%zu]: 'name' must be text of 1 to %d bytes", i,
				     LB_MEMBER_NAME_MAX);
			break;
		}
		snprintf(x.name, sizeof x.name, "%s", ns);
		if (json_is_string(addr)) {
			if ((rc = lb_addr_decode(x.addr, json_string_value(addr), em))) {
				lb_errwrap(em, "genesis: members[%zu]: ", i);
				break;
			}
		} else if (json_is_string(pk)) {
			uint8_t key[LB_PUBKEY_LEN];
			if (lb_hex_decode(key, sizeof key, json_string_value(pk))) {
				rc = lb_errf(em, LB_EINVALID,
					     "genesis: members[%zu]: 'public_key' must be %d hex digits",
					     i, 2 * LB_PUBKEY_LEN);
				break;
			}
			lb_addr_from_pubkey(x.addr, key);
		} else {
			rc = lb_errf(em, LB_EINVALID,
				     "genesis: members[%zu]: give the member's 'address' (lb1...) or "
				     "'public_key' (hex)", i);
			break;
		}
		/* kinds: "data,audit" or ["data", "audit"] */
		char text[128] = "";
		if (json_is_string(kinds) && json_string_length(kinds) < sizeof text) {
			snprintf(text, sizeof text, "%s", json_string_value(kinds));
		} else if (json_is_array(kinds)) {
			size_t j;
			json_t *w;
			json_array_foreach(kinds, j, w)
			{
				size_t used = strlen(text);
				if (!json_is_string(w) || used + json_string_length(w) + 2 > sizeof text) {
					text[0] = '?';
					text[1] = 0;
					break;
				}
				snprintf(text + used, sizeof text - used, "%s%s", used ? "," : "",
					 json_string_value(w));
			}
		}
		if ((rc = lb_super_kinds_parse(text, &x.kinds, em))) {
			lb_errwrap(em, "genesis: members[%zu]: kinds: ", i);
			break;
		}
		if ((rc = gov_members_add(m, &x))) {
			rc = lb_errf(em, LB_EINVALID, "genesis: members[%zu]: this member is listed "
						      "twice", i);
			break;
		}
	}
	if (!rc)
		rc = store_members(s, m);
	lb_free(m);
	return rc;
}

/* ---- registration --------------------------------------------------------------------------- */

static const struct lb_txtype gov_types[] = {
	{LB_TX_GOV_PROPOSE, LB_CHAIN_BUSINESS, "governance.propose", check_propose, apply_propose,
	 json_propose, true},
	{LB_TX_GOV_VOTE, LB_CHAIN_BUSINESS, "governance.vote", check_vote, apply_vote, json_vote,
	 true},
	{LB_TX_CHECKPOINT, LB_CHAIN_BUSINESS, "checkpoint", check_checkpoint, apply_checkpoint,
	 json_checkpoint, true},
};

/* No type is marked block-independent (lb_txtype_mark_block_independent): a proposal
 * records its height and is refused once expired, a vote is refused after the expiry height
 * and dates an enacted membership, and a checkpoint must name an earlier business block. */
int lb_consortium_register_txtypes(void)
{
	int rc = lb_txtype_register_rows(gov_types, sizeof gov_types / sizeof gov_types[0], false);
	return rc ? rc : lb_genesis_hook_register(genesis_members);
}
