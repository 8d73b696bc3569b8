/*
 * Governance without the ledger: the two-thirds vote arithmetic, super-node kinds, the
 * canonical payloads of governance.propose / governance.vote / checkpoint, and the encodings
 * of the member list, proposals and the open-proposal list kept in business-chain state.
 */
#include <stdio.h>
#include <string.h>

#include "consortium/consortium_int.h"
#include "leben/codec.h"
#include "leben/tx.h"

/* ---- arithmetic ------------------------------------------------------------------------- */

uint64_t lb_gov_threshold(uint64_t members)
{
	/* ceil(2n/3) without overflow for any n */
	return members / 3 * 2 + (members % 3 * 2 + 2) / 3;
}

uint64_t lb_gov_threshold_q(uint64_t members, const struct lb_gov_params *p)
{
	if (!p || !p->den)
		return lb_gov_threshold(members);
	/* ceil(num n / den); num, den <= 100 and n <= LB_MEMBERS_MAX in practice, but stay exact
	 * for any n */
	return members / p->den * p->num + (members % p->den * p->num + p->den - 1) / p->den;
}

enum lb_gov_outcome lb_gov_outcome_q(uint64_t members, uint64_t yes, uint64_t no,
				     const struct lb_gov_params *p)
{
	uint64_t t = lb_gov_threshold_q(members, p);
	if (members && yes >= t)
		return LB_GOV_PASSED;
	if (!members || no > members - t)
		return LB_GOV_REJECTED;
	return LB_GOV_OPEN;
}

int lb_gov_params_check(const struct lb_gov_params *p, struct lb_errmsg *em)
{
	if (!p->num || !p->den || p->num > p->den || p->den > 100 || 2u * p->num <= p->den)
		return lb_errf(em, LB_EINVALID,
			       "the vote threshold %u/%u is out of range: it must be more than 1/2 "
			       "and at most 1 (e.g. 2/3), with a denominator of at most 100",
			       p->num, p->den);
	if (!p->vote_blocks_max || !p->vote_blocks_default ||
	    p->vote_blocks_default > p->vote_blocks_max)
		return lb_errf(em, LB_EINVALID,
			       "the vote periods are out of range: vote_blocks_default (%llu) and "
			       "vote_blocks_max (%llu) must be at least 1, the default at most the "
			       "maximum",
			       (unsigned long long)p->vote_blocks_default,
			       (unsigned long long)p->vote_blocks_max);
	return LB_OK;
}

enum lb_gov_outcome lb_gov_outcome(uint64_t members, uint64_t yes, uint64_t no)
{
	uint64_t t = lb_gov_threshold(members);
	if (members && yes >= t)
		return LB_GOV_PASSED;
	if (!members || no > members - t)
		return LB_GOV_REJECTED;
	return LB_GOV_OPEN;
}

/* ---- kinds -------------------------------------------------------------------------------- */

static const struct {
	const char *word;
	uint8_t bit;
} kind_words[] = {
	{"data", LB_SUPER_DATA},
	{"computing", LB_SUPER_COMPUTING},
	{"algorithm", LB_SUPER_ALGORITHM},
	{"audit", LB_SUPER_AUDIT},
};
#define N_KINDS (sizeof kind_words / sizeof kind_words[0])

int lb_super_kinds_parse(const char *text, uint8_t *kinds, struct lb_errmsg *em)
{
	*kinds = 0;
	const char *p = text;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i = 0;
		while (i < N_KINDS &&
		       !(strlen(kind_words[i].word) == n && !memcmp(kind_words[i].word, p, n)))
			i++;
		if (i == N_KINDS)
			return lb_errf(em, LB_EMALFORMED,
				       "'%.*s' is not a super-node kind; use data, computing, "
				       "algorithm or audit (comma-separated)",
				       (int)(n > 40 ? 40 : n), p);
		*kinds |= kind_words[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*kinds)
		return lb_errf(em, LB_EMALFORMED,
			       "no super-node kind given; use data, computing, algorithm or audit");
	return LB_OK;
}

const char *lb_super_kinds_format(uint8_t kinds, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds & kind_words[i].bit)
			used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s",
						 used ? "," : "", kind_words[i].word);
	return buf;
}

/* ---- payloads ------------------------------------------------------------------------------ */

int lb_gov_proposal_encode(struct lb_buf *b, const struct lb_gov_proposal *p)
{
	int rc;
	if ((rc = lb_enc_u8(b, p->action)) || (rc = lb_enc_fixed(b, p->member, LB_ADDR_LEN)) ||
	    (rc = lb_enc_str(b, p->name)) || (rc = lb_enc_u8(b, p->kinds)) ||
	    (rc = lb_enc_uvar(b, p->expires_height)))
		return rc;
	if (p->action == LB_GOV_REMOVE_TO)
		return lb_enc_fixed(b, p->successor, LB_ADDR_LEN);
	if (p->action == LB_GOV_PARAMS &&
	    ((rc = lb_enc_u8(b, p->params.num)) || (rc = lb_enc_u8(b, p->params.den)) ||
	     (rc = lb_enc_uvar(b, p->params.vote_blocks_default)) ||
	     (rc = lb_enc_uvar(b, p->params.vote_blocks_max))))
		return rc;
	if (p->action == LB_GOV_AUDIT)
		return lb_enc_uvar(b, p->audit_interval);
	return LB_OK;
}

/* The action-specific tail after expires_height (shared by the payload and the record). */
static int proposal_tail_decode(struct lb_dec *d, struct lb_gov_proposal *p)
{
	int rc = LB_OK;
	if (p->action == LB_GOV_REMOVE_TO)
		rc = lb_dec_fixed(d, "successor", p->successor, LB_ADDR_LEN);
	else if (p->action == LB_GOV_PARAMS &&
		 ((rc = lb_dec_u8(d, "threshold_num", &p->params.num)) ||
		  (rc = lb_dec_u8(d, "threshold_den", &p->params.den)) ||
		  (rc = lb_dec_uvar(d, "vote_blocks_default", UINT64_MAX,
				    &p->params.vote_blocks_default)) ||
		  (rc = lb_dec_uvar(d, "vote_blocks_max", UINT64_MAX, &p->params.vote_blocks_max))))
		return rc;
	else if (p->action == LB_GOV_AUDIT)
		rc = lb_dec_uvar(d, "audit_interval", LB_GOV_AUDIT_INTERVAL_MAX, &p->audit_interval);
	return rc;
}

int lb_gov_proposal_decode(struct lb_gov_proposal *p, const uint8_t *in, size_t n,
			   struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(p, 0, sizeof *p);
	lb_dec_init(&d, in, n, "governance.propose payload", em);
	if ((rc = lb_dec_u8(&d, "action", &p->action)))
		return rc;
	if (p->action < LB_GOV_ADMIT || p->action > LB_GOV_AUDIT)
		return lb_dec_fail(&d, LB_EMALFORMED, "action",
				   "%u is none of admit (1), remove (2), remove with a successor (3), "
				   "rules (4), kinds (5), audit interval (6)",
				   p->action);
	if ((rc = lb_dec_fixed(&d, "member", p->member, LB_ADDR_LEN)) ||
	    (rc = lb_dec_str(&d, "name", LB_MEMBER_NAME_MAX, p->name, sizeof p->name)) ||
	    (rc = lb_dec_u8(&d, "kinds", &p->kinds)))
		return rc;
	if (p->kinds & ~LB_SUPER_ALL)
		return lb_dec_fail(&d, LB_EMALFORMED, "kinds",
				   "0x%02x has bits beyond data|computing|algorithm|audit (0x0f)",
				   p->kinds);
	if ((rc = lb_dec_uvar(&d, "expires_height", UINT64_MAX, &p->expires_height)) ||
	    (rc = proposal_tail_decode(&d, p)) || (rc = lb_dec_end(&d)))
		return rc;
	if (p->action == LB_GOV_ADMIT && (!p->name[0] || !p->kinds))
		return lb_errf(em, LB_EINVALID,
			       "governance.propose: admitting a member needs its name and at least "
			       "one super-node kind");
	if (p->action == LB_GOV_KINDS && (p->name[0] || !p->kinds))
		return lb_errf(em, LB_EINVALID,
			       "governance.propose: a change of kinds carries the new kinds (at least "
			       "one) and no name");
	if (p->action != LB_GOV_ADMIT && p->action != LB_GOV_KINDS && (p->name[0] || p->kinds))
		return lb_errf(em, LB_EINVALID,
			       "governance.propose: only an admission carries a name and kinds");
	static const uint8_t zero[LB_ADDR_LEN];
	if (p->action == LB_GOV_KINDS && !memcmp(p->member, zero, LB_ADDR_LEN))
		return lb_errf(em, LB_EINVALID,
			       "governance.propose: a change of kinds names the member");
	if (p->action == LB_GOV_AUDIT &&
	    (memcmp(p->member, zero, LB_ADDR_LEN) || !p->audit_interval))
		return lb_errf(em, LB_EINVALID,
			       "governance.propose: a change of the re-audit interval names no member "
			       "(all-zero address) and an interval of 1 to %d business blocks",
			       LB_GOV_AUDIT_INTERVAL_MAX);
	if (p->action == LB_GOV_REMOVE_TO && !memcmp(p->successor, p->member, LB_ADDR_LEN))
		return lb_errf(em, LB_EINVALID,
			       "governance.propose: a removed member cannot be its own successor");
	if (p->action == LB_GOV_PARAMS) {
		if (memcmp(p->member, zero, LB_ADDR_LEN))
			return lb_errf(em, LB_EINVALID,
				       "governance.propose: a change of rules names no member "
				       "(all-zero address)");
		int rc2 = lb_gov_params_check(&p->params, em);
		if (rc2)
			return rc2;
	}
	if (!p->expires_height)
		return lb_errf(em, LB_EINVALID,
			       "governance.propose: the expiry height must be above zero");
	return LB_OK;
}

int lb_gov_vote_encode(struct lb_buf *b, const struct lb_gov_vote *v)
{
	int rc = lb_enc_fixed(b, v->proposal, LB_HASH_LEN);
	return rc ? rc : lb_enc_u8(b, v->yes ? 1 : 0);
}

int lb_gov_vote_decode(struct lb_gov_vote *v, const uint8_t *in, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t yes;
	int rc;
	lb_dec_init(&d, in, n, "governance.vote payload", em);
	if ((rc = lb_dec_fixed(&d, "proposal", v->proposal, LB_HASH_LEN)) ||
	    (rc = lb_dec_u8(&d, "vote", &yes)))
		return rc;
	if (yes > 1)
		return lb_dec_fail(&d, LB_EMALFORMED, "vote", "%u is neither no (0) nor yes (1)",
				   yes);
	v->yes = yes == 1;
	return lb_dec_end(&d);
}

int lb_gov_vouch_encode(struct lb_buf *b, const struct lb_gov_vouch *v)
{
	int rc = lb_enc_fixed(b, v->account, LB_ADDR_LEN);
	return rc ? rc : lb_enc_u8(b, v->vouch ? 1 : 0);
}

int lb_gov_vouch_decode(struct lb_gov_vouch *v, const uint8_t *in, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t op;
	int rc;
	lb_dec_init(&d, in, n, "governance.vouch payload", em);
	if ((rc = lb_dec_fixed(&d, "account", v->account, LB_ADDR_LEN)) ||
	    (rc = lb_dec_u8(&d, "vouch", &op)))
		return rc;
	if (op > 1)
		return lb_dec_fail(&d, LB_EMALFORMED, "vouch",
				   "%u is neither withdraw (0) nor vouch (1)", op);
	v->vouch = op == 1;
	return lb_dec_end(&d);
}

int lb_gov_rekey_encode(struct lb_buf *b, const struct lb_gov_rekey *r)
{
	int rc = lb_enc_fixed(b, r->new_key, LB_PUBKEY_LEN);
	return rc ? rc : lb_enc_fixed(b, r->proof, LB_SIG_LEN);
}

int lb_gov_rekey_decode(struct lb_gov_rekey *r, const uint8_t *in, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, in, n, "governance.rekey payload", em);
	if ((rc = lb_dec_fixed(&d, "new_key", r->new_key, LB_PUBKEY_LEN)) ||
	    (rc = lb_dec_fixed(&d, "proof", r->proof, LB_SIG_LEN)))
		return rc;
	return lb_dec_end(&d);
}

void lb_gov_rekey_message(uint8_t out[LB_GOV_REKEY_MSG_LEN], const uint8_t old_addr[LB_ADDR_LEN],
			  const uint8_t new_key[LB_PUBKEY_LEN])
{
	memcpy(out, "LEBEN governance.rekey v1", 25);
	memcpy(out + 25, old_addr, LB_ADDR_LEN);
	memcpy(out + 25 + LB_ADDR_LEN, new_key, LB_PUBKEY_LEN);
}

int lb_gov_removal_encode(struct lb_buf *b, const struct lb_gov_removal *r)
{
	int rc;
	if ((rc = lb_enc_fixed(b, r->member, LB_ADDR_LEN)) || (rc = lb_enc_uvar(b, r->offset)))
		return rc;
	return lb_enc_bytes(b, r->keys, r->count * LB_ADDR_LEN);
}

int lb_gov_removal_decode(struct lb_gov_removal *r, const uint8_t *in, size_t n,
			  struct lb_errmsg *em)
{
	struct lb_dec d;
	size_t len;
	int rc;
	lb_dec_init(&d, in, n, "governance.removal payload", em);
	if ((rc = lb_dec_fixed(&d, "member", r->member, LB_ADDR_LEN)) ||
	    (rc = lb_dec_uvar(&d, "offset", LB_VOUCHED_MAX + 2, &r->offset)) ||
	    (rc = lb_dec_bytes(&d, "keys", LB_GOV_REMOVAL_SLICE_MAX * LB_ADDR_LEN, &r->keys, &len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!len || len % LB_ADDR_LEN)
		return lb_errf(em, LB_EMALFORMED,
			       "governance.removal: the keys must be 1 to %d addresses of %d bytes",
			       LB_GOV_REMOVAL_SLICE_MAX, LB_ADDR_LEN);
	r->count = len / LB_ADDR_LEN;
	return LB_OK;
}

int lb_gov_follow_encode(struct lb_buf *b, const uint8_t *tx, size_t tx_len, const uint8_t *proof,
			 size_t proof_len)
{
	int rc;
	if ((rc = lb_enc_u8(b, 1)) || (rc = lb_enc_bytes(b, tx, tx_len)))
		return rc;
	return lb_enc_bytes(b, proof, proof_len);
}

int lb_gov_follow_decode(struct lb_gov_follow *f, const uint8_t *in, size_t n,
			 struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t v;
	int rc;
	lb_dec_init(&d, in, n, "governance.follow payload", em);
	if ((rc = lb_dec_u8(&d, "version", &v)))
		return rc;
	if (v != 1)
		return lb_dec_fail(&d, LB_EUNSUPPORTED, "version", "%u is not supported", v);
	if ((rc = lb_dec_bytes(&d, "removal tx", LB_TX_MAX_BYTES, &f->tx, &f->tx_len)) ||
	    (rc = lb_dec_bytes(&d, "proof", LB_TX_PAYLOAD_MAX, &f->proof, &f->proof_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!f->tx_len || !f->proof_len)
		return lb_errf(em, LB_EMALFORMED,
			       "governance.follow: the removal tx and its proof must both be present");
	return LB_OK;
}

int lb_checkpoint_encode(struct lb_buf *b, const struct lb_checkpoint *c)
{
	int rc;
	if ((rc = lb_enc_u8(b, c->chain)) || (rc = lb_enc_uvar(b, c->height)) ||
	    (rc = lb_enc_fixed(b, c->block_hash, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, c->app_hash, LB_HASH_LEN)))
		return rc;
	return LB_OK;
}

int lb_checkpoint_decode(struct lb_checkpoint *c, const uint8_t *in, size_t n,
			 struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, in, n, "checkpoint payload", em);
	if ((rc = lb_dec_u8(&d, "chain", &c->chain)))
		return rc;
	if (c->chain >= LB_CHAIN_COUNT)
		return lb_dec_fail(&d, LB_EMALFORMED, "chain", "%u is not a chain (0..%d)", c->chain,
				   LB_CHAIN_COUNT - 1);
	if ((rc = lb_dec_uvar(&d, "height", UINT64_MAX, &c->height)) ||
	    (rc = lb_dec_fixed(&d, "block_hash", c->block_hash, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "app_hash", c->app_hash, LB_HASH_LEN)) || (rc = lb_dec_end(&d)))
		return rc;
	if (!c->height)
		return lb_errf(em, LB_EINVALID,
			       "checkpoint: height 0 is genesis, fixed by genesis.json; "
			       "checkpoints start at height 1");
	return LB_OK;
}

/* ---- state records -------------------------------------------------------------------------- */

int gov_members_encode(struct lb_buf *b, const struct gov_members *m)
{
	int rc = lb_enc_uvar(b, m->n);
	for (size_t i = 0; i < m->n && !rc; i++) {
		const struct gov_member *x = &m->m[i];
		if ((rc = lb_enc_fixed(b, x->addr, LB_ADDR_LEN)) || (rc = lb_enc_str(b, x->name)) ||
		    (rc = lb_enc_u8(b, x->kinds)))
			break;
		rc = lb_enc_uvar(b, x->since);
	}
	return rc;
}

int gov_members_decode(struct gov_members *m, const uint8_t *in, size_t n)
{
	struct lb_dec d;
	uint64_t cnt;
	lb_dec_init(&d, in, n, "member list", NULL);
	if (lb_dec_uvar(&d, "count", LB_MEMBERS_MAX, &cnt))
		return LB_ECORRUPT;
	m->n = (size_t)cnt;
	for (size_t i = 0; i < m->n; i++) {
		struct gov_member *x = &m->m[i];
		if (lb_dec_fixed(&d, "addr", x->addr, LB_ADDR_LEN) ||
		    lb_dec_str(&d, "name", LB_MEMBER_NAME_MAX, x->name, sizeof x->name) ||
		    lb_dec_u8(&d, "kinds", &x->kinds) ||
		    lb_dec_uvar(&d, "since", UINT64_MAX, &x->since))
			return LB_ECORRUPT;
		if (i && memcmp(m->m[i - 1].addr, x->addr, LB_ADDR_LEN) >= 0)
			return LB_ECORRUPT;
	}
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

long gov_members_find(const struct gov_members *m, const uint8_t addr[LB_ADDR_LEN])
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(m->m[mid].addr, addr, LB_ADDR_LEN);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int gov_members_add(struct gov_members *m, const struct gov_member *x)
{
	if (gov_members_find(m, x->addr) >= 0)
		return LB_EEXISTS;
	if (m->n == LB_MEMBERS_MAX)
		return LB_ELIMIT;
	size_t i = 0;
	while (i < m->n && memcmp(m->m[i].addr, x->addr, LB_ADDR_LEN) < 0)
		i++;
	memmove(&m->m[i + 1], &m->m[i], (m->n - i) * sizeof m->m[0]);
	m->m[i] = *x;
	m->n++;
	return LB_OK;
}

int gov_members_remove(struct gov_members *m, const uint8_t addr[LB_ADDR_LEN])
{
	long i = gov_members_find(m, addr);
	if (i < 0)
		return LB_ENOTFOUND;
	memmove(&m->m[i], &m->m[i + 1], (m->n - (size_t)i - 1) * sizeof m->m[0]);
	m->n--;
	return LB_OK;
}

int gov_prop_encode(struct lb_buf *b, const struct gov_prop *p)
{
	int rc;
	if ((rc = lb_gov_proposal_encode(b, &p->p)) ||
	    (rc = lb_enc_fixed(b, p->proposer, LB_ADDR_LEN)) || (rc = lb_enc_uvar(b, p->height)) ||
	    (rc = lb_enc_u8(b, p->status)) || (rc = lb_enc_uvar(b, p->decided)) ||
	    (rc = lb_enc_uvar(b, p->nvotes)))
		return rc;
	for (size_t i = 0; i < p->nvotes && !rc; i++)
		if (!(rc = lb_enc_fixed(b, p->votes[i].voter, LB_ADDR_LEN)))
			rc = lb_enc_u8(b, p->votes[i].yes);
	return rc;
}

int gov_prop_decode(struct gov_prop *p, const uint8_t *in, size_t n)
{
	struct lb_dec d;
	uint64_t nv;
	lb_dec_init(&d, in, n, "proposal", NULL);
	/* the record starts with the proposal payload: decode its fields one by one */
	memset(p, 0, sizeof *p);
	if (lb_dec_u8(&d, "action", &p->p.action) ||
	    lb_dec_fixed(&d, "member", p->p.member, LB_ADDR_LEN) ||
	    lb_dec_str(&d, "name", LB_MEMBER_NAME_MAX, p->p.name, sizeof p->p.name) ||
	    lb_dec_u8(&d, "kinds", &p->p.kinds) ||
	    lb_dec_uvar(&d, "expires", UINT64_MAX, &p->p.expires_height) ||
	    proposal_tail_decode(&d, &p->p) ||
	    lb_dec_fixed(&d, "proposer", p->proposer, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "height", UINT64_MAX, &p->height) || lb_dec_u8(&d, "status", &p->status) ||
	    lb_dec_uvar(&d, "decided", UINT64_MAX, &p->decided) ||
	    lb_dec_uvar(&d, "nvotes", LB_MEMBERS_MAX, &nv))
		return LB_ECORRUPT;
	p->nvotes = (size_t)nv;
	for (size_t i = 0; i < p->nvotes; i++)
		if (lb_dec_fixed(&d, "voter", p->votes[i].voter, LB_ADDR_LEN) ||
		    lb_dec_u8(&d, "yes", &p->votes[i].yes))
			return LB_ECORRUPT;
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

int gov_open_encode(struct lb_buf *b, const struct gov_open *o)
{
	int rc = lb_enc_uvar(b, o->n);
	for (size_t i = 0; i < o->n && !rc; i++)
		rc = lb_enc_fixed(b, o->ids[i], LB_HASH_LEN);
	return rc;
}

int gov_open_decode(struct gov_open *o, const uint8_t *in, size_t n)
{
	struct lb_dec d;
	uint64_t cnt;
	lb_dec_init(&d, in, n, "open proposals", NULL);
	if (lb_dec_uvar(&d, "count", LB_PROPOSALS_OPEN_MAX, &cnt))
		return LB_ECORRUPT;
	o->n = (size_t)cnt;
	for (size_t i = 0; i < o->n; i++)
		if (lb_dec_fixed(&d, "id", o->ids[i], LB_HASH_LEN))
			return LB_ECORRUPT;
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

void gov_tally(const struct gov_prop *p, const struct gov_members *m, uint64_t *yes,
	       uint64_t *no)
{
	*yes = *no = 0;
	for (size_t i = 0; i < p->nvotes; i++) {
		if (gov_members_find(m, p->votes[i].voter) < 0)
			continue;
		if (p->votes[i].yes)
			(*yes)++;
		else
			(*no)++;
	}
}

void ckpt_key(uint8_t key[CKPT_KEY_LEN], uint8_t chain, uint64_t height,
	      const uint8_t member[LB_ADDR_LEN])
{
	key[0] = chain;
	for (int i = 0; i < 8; i++)
		key[1 + i] = (uint8_t)(height >> (56 - 8 * i));
	memcpy(key + 9, member, LB_ADDR_LEN);
}

json_t *gov_addr_json(const uint8_t addr[LB_ADDR_LEN])
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, addr);
	return json_string(t);
}

json_t *gov_hex_json(const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	if (n > 64)
		return json_null();
	lb_hex_encode(buf, p, n);
	return json_string(buf);
}

const char *gov_action_name(uint8_t action)
{
	static const char *const names[] = {"",      "admit", "remove",        "remove",
					    "rules", "kinds", "audit-interval"};
	return action < sizeof names / sizeof names[0] ? names[action] : "";
}

void gov_proposal_details(json_t *o, const struct lb_gov_proposal *p)
{
	char k[64];
	if (!o)
		return;
	if (p->action == LB_GOV_REMOVE || p->action == LB_GOV_REMOVE_TO)
		json_object_set_new(o, "disposition",
				    json_string(p->action == LB_GOV_REMOVE ? "freeze" : "successor"));
	if (p->action == LB_GOV_REMOVE_TO)
		json_object_set_new(o, "successor", gov_addr_json(p->successor));
	if (p->action == LB_GOV_PARAMS) {
		snprintf(k, sizeof k, "%u/%u", p->params.num, p->params.den);
		json_object_set_new(o, "threshold", json_string(k));
		json_object_set_new(o, "vote_blocks_default",
				    json_integer((json_int_t)p->params.vote_blocks_default));
		json_object_set_new(o, "vote_blocks_max",
				    json_integer((json_int_t)p->params.vote_blocks_max));
	}
	if (p->action == LB_GOV_ADMIT)
		json_object_set_new(o, "name", json_string(p->name));
	if (p->action == LB_GOV_ADMIT || p->action == LB_GOV_KINDS)
		json_object_set_new(o, "kinds",
				    json_string(lb_super_kinds_format(p->kinds, k, sizeof k)));
	if (p->action == LB_GOV_AUDIT)
		json_object_set_new(o, "audit_interval_blocks",
				    json_integer((json_int_t)p->audit_interval));
}

int lb_ca_cosign_encode(struct lb_buf *b, const struct lb_ca_cosign *c)
{
	int rc = lb_enc_fixed(b, c->spki_hash, LB_HASH_LEN);
	return rc ? rc : lb_enc_str(b, c->name);
}

int lb_ca_cosign_decode(struct lb_ca_cosign *c, const uint8_t *in, size_t n,
			struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(c, 0, sizeof *c);
	lb_dec_init(&d, in, n, "ca.cosign payload", em);
	if ((rc = lb_dec_fixed(&d, "spki_hash", c->spki_hash, LB_HASH_LEN)) ||
	    (rc = lb_dec_str(&d, "name", LB_MEMBER_NAME_MAX, c->name, sizeof c->name)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!c->name[0])
		return lb_errf(em, LB_EINVALID,
			       "ca.cosign: name the certificate (its common name, 1 to %d bytes)",
			       LB_MEMBER_NAME_MAX);
	return LB_OK;
}

int gov_cert_encode(struct lb_buf *b, const struct gov_cert *c)
{
	int rc = lb_enc_uvar(b, c->n);
	for (size_t i = 0; !rc && i < c->n; i++)
		rc = lb_enc_fixed(b, c->who[i], LB_ADDR_LEN);
	return rc ? rc : lb_enc_str(b, c->name);
}

int gov_cert_decode(struct gov_cert *c, const uint8_t *in, size_t n)
{
	struct lb_dec d;
	uint64_t k;
	lb_dec_init(&d, in, n, "certificate record", NULL);
	if (lb_dec_uvar(&d, "n", LB_MEMBERS_MAX, &k))
		return LB_ECORRUPT;
	c->n = (size_t)k;
	for (size_t i = 0; i < c->n; i++)
		if (lb_dec_fixed(&d, "who", c->who[i], LB_ADDR_LEN))
			return LB_ECORRUPT;
	if (lb_dec_str(&d, "name", LB_MEMBER_NAME_MAX, c->name, sizeof c->name) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}
