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
#include "leben/exchange.h"
#include "leben/tx.h"

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

int lb_consortium_state_member_name(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN],
				    char name[LB_MEMBER_NAME_MAX + 1], uint64_t *members)
{
	struct gov_members *m = lb_malloc(sizeof *m);
	if (!m)
		return LB_ENOMEM;
	int rc = load_members(s, m);
	name[0] = 0;
	if (!rc) {
		long i = gov_members_find(m, addr);
		if (i >= 0)
			snprintf(name, LB_MEMBER_NAME_MAX + 1, "%s", m->m[i].name);
		if (members)
			*members = m->n;
	}
	lb_free(m);
	return rc;
}

int lb_consortium_state_need_member(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN],
				    const char *doing, struct lb_errmsg *em)
{
	uint8_t kinds = 0;
	uint64_t members = 0;
	char a[LB_ADDR_TEXT_LEN + 1];
	int rc = lb_consortium_state_kinds(s, addr, &kinds, &members, NULL);
	if (rc)
		return lb_errf(em, rc, "reading the consortium's members failed");
	if (!members || kinds) /* no members: the network's one institution holds every role */
		return LB_OK;
	lb_addr_encode(a, addr);
	return lb_errf(em, LB_EUNAUTH,
		       "not a member institution: %s is not a member of the consortium and may not "
		       "%s; only an institution's member key does (sign with the institution's "
		       "node key, or have the account admitted: leben governance propose admit "
		       "--member %s --name NAME --kinds ...)",
		       a, doing, a);
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

/* gov/params: u8 num, u8 den, uvar vote_blocks_default, uvar vote_blocks_max (absent: the
 * defaults, 2/3, 1000, 100000). */
int gov_params_load(struct lb_state *s, struct lb_gov_params *p)
{
	static const struct lb_gov_params dflt = LB_GOV_PARAMS_DEFAULT;
	const uint8_t *v;
	size_t n;
	struct lb_dec d;
	*p = dflt;
	int rc = lb_state_get(s, "gov", "params", 6, &v, &n);
	if (rc == LB_ENOTFOUND)
		return LB_OK;
	if (rc)
		return rc;
	lb_dec_init(&d, v, n, "governance rules", NULL);
	if (lb_dec_u8(&d, "num", &p->num) || lb_dec_u8(&d, "den", &p->den) ||
	    lb_dec_uvar(&d, "default", UINT64_MAX, &p->vote_blocks_default) ||
	    lb_dec_uvar(&d, "max", UINT64_MAX, &p->vote_blocks_max) || lb_dec_end(&d) ||
	    lb_gov_params_check(p, NULL))
		return LB_ECORRUPT;
	return LB_OK;
}

static int store_params(struct lb_state *s, const struct lb_gov_params *p)
{
	struct lb_buf b;
	lb_buf_init(&b, 64);
	int rc;
	if (!(rc = lb_enc_u8(&b, p->num)) && !(rc = lb_enc_u8(&b, p->den)) &&
	    !(rc = lb_enc_uvar(&b, p->vote_blocks_default)))
		rc = lb_enc_uvar(&b, p->vote_blocks_max);
	return put_record(s, "gov", "params", 6, &b, rc, false);
}

/* gov.vouched/<member>: the accounts it vouches for (LB_ADDR_LEN bytes each, in vouch
 * order); gov.vouch/<account>: the member vouching for it. */
static int load_vouched(struct lb_state *s, const uint8_t member[LB_ADDR_LEN], uint8_t **list,
			size_t *n)
{
	const uint8_t *v;
	size_t len;
	*list = NULL;
	*n = 0;
	int rc = lb_state_get(s, "gov.vouched", member, LB_ADDR_LEN, &v, &len);
	if (rc == LB_ENOTFOUND)
		return LB_OK;
	if (rc)
		return rc;
	if (len % LB_ADDR_LEN || len / LB_ADDR_LEN > LB_VOUCHED_MAX)
		return LB_ECORRUPT;
	if (len && !(*list = lb_malloc(len)))
		return LB_ENOMEM;
	if (len)
		memcpy(*list, v, len);
	*n = len / LB_ADDR_LEN;
	return LB_OK;
}

static int store_vouched(struct lb_state *s, const uint8_t member[LB_ADDR_LEN],
			 const uint8_t *list, size_t n)
{
	if (!n)
		return lb_state_del(s, "gov.vouched", member, LB_ADDR_LEN);
	return lb_state_put(s, "gov.vouched", member, LB_ADDR_LEN, list, n * LB_ADDR_LEN);
}

/* Mark key address k as removed with member m (keymap, see ledger.h). */
static int ban_key(struct lb_state *s, const uint8_t k[LB_ADDR_LEN], const uint8_t m[LB_ADDR_LEN])
{
	uint8_t ent[1 + LB_ADDR_LEN];
	ent[0] = LB_KEYMAP_REMOVED;
	memcpy(ent + 1, m, LB_ADDR_LEN);
	return lb_state_put(s, LB_KEYMAP_NS, k, LB_ADDR_LEN, ent, sizeof ent);
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

/* The effects of a removal (m no longer holds the member): its node keys are refused from
 * now on (the member's own address and the key a rekey moved it to); the accounts it vouched
 * for are refused too (REMOVE: frozen), or pass to the successor (REMOVE_TO, when the
 * successor is still a member; otherwise they are frozen as well). gov.removed/<member>
 * records height, disposition (1 frozen, 2 handed over) and the successor. */
static int enact_removal(struct lb_apply_ctx *c, const struct gov_prop *p,
			 const struct gov_members *m)
{
	const uint8_t *who = p->p.member, *v;
	size_t n, nv = 0, ns = 0, nb = 0;
	uint8_t *vl = NULL, *sl = NULL;
	/* every key refused by this removal, for gov.banned/<member> (the other chains follow
	 * it with governance.removal + governance.follow) */
	uint8_t *banned = lb_malloc((LB_VOUCHED_MAX + 2) * LB_ADDR_LEN);
	bool hand = p->p.action == LB_GOV_REMOVE_TO && gov_members_find(m, p->p.successor) >= 0;
	if (!banned)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	int rc = ban_key(c->state, who, who);
	memcpy(banned + nb++ * LB_ADDR_LEN, who, LB_ADDR_LEN);
	if (!rc && lb_state_get(c->state, "gov.key", who, LB_ADDR_LEN, &v, &n) == LB_OK &&
	    n == LB_ADDR_LEN) {
		uint8_t k[LB_ADDR_LEN];
		memcpy(k, v, LB_ADDR_LEN);
		rc = ban_key(c->state, k, who);
		memcpy(banned + nb++ * LB_ADDR_LEN, k, LB_ADDR_LEN);
	}
	if (!rc)
		rc = load_vouched(c->state, who, &vl, &nv);
	if (!rc && hand)
		rc = load_vouched(c->state, p->p.successor, &sl, &ns);
	if (!rc && hand && ns + nv > LB_VOUCHED_MAX)
		hand = false; /* the successor cannot take them all: freeze instead */
	if (!rc && hand && nv) {
		uint8_t *all = lb_realloc(sl, (ns + nv) * LB_ADDR_LEN);
		if (!all) {
			rc = LB_ENOMEM;
		} else {
			sl = all;
			memcpy(sl + ns * LB_ADDR_LEN, vl, nv * LB_ADDR_LEN);
			rc = store_vouched(c->state, p->p.successor, sl, ns + nv);
		}
	}
	for (size_t i = 0; !rc && i < nv; i++) {
		const uint8_t *a = vl + i * LB_ADDR_LEN;
		if (hand) {
			rc = lb_state_put(c->state, "gov.vouch", a, LB_ADDR_LEN, p->p.successor,
					  LB_ADDR_LEN);
		} else if (gov_members_find(m, a) >= 0 ||
			   (lb_state_get(c->state, LB_KEYMAP_NS, a, LB_ADDR_LEN, &v, &n) == LB_OK &&
			    n == 1 + LB_ADDR_LEN && v[0] == LB_KEYMAP_ACTS_FOR)) {
			/* admitted or made another member's key since the vouch: a removal never
			 * reaches a current member (vouching for one is refused) */
			continue;
		} else {
			rc = ban_key(c->state, a, who);
			memcpy(banned + nb++ * LB_ADDR_LEN, a, LB_ADDR_LEN);
		}
	}
	if (!rc)
		rc = lb_state_put(c->state, "gov.banned", who, LB_ADDR_LEN, banned, nb * LB_ADDR_LEN);
	/* gov/removed: every removed member in removal order (a restarted node looks there for
	 * removals still to carry to the other chains; the first GOV_REMOVED_MAX are kept) */
	if (!rc) {
		const uint8_t *rl;
		size_t rn = 0;
		uint8_t *all;
		if (lb_state_get(c->state, "gov", "removed", 7, &rl, &rn) != LB_OK)
			rn = 0;
		if (rn / LB_ADDR_LEN < GOV_REMOVED_MAX) {
			if (!(all = lb_malloc(rn + LB_ADDR_LEN))) {
				rc = LB_ENOMEM;
			} else {
				if (rn)
					memcpy(all, rl, rn);
				memcpy(all + rn, who, LB_ADDR_LEN);
				rc = lb_state_put(c->state, "gov", "removed", 7, all, rn + LB_ADDR_LEN);
				lb_free(all);
			}
		}
	}
	if (!rc && hand)
		rc = store_vouched(c->state, who, NULL, 0);
	if (!rc) {
		struct lb_buf b;
		lb_buf_init(&b, 64);
		if (!(rc = lb_enc_uvar(&b, c->height)) && !(rc = lb_enc_u8(&b, hand ? 2 : 1)))
			rc = lb_enc_fixed(&b, hand ? p->p.successor : (const uint8_t[LB_ADDR_LEN]){0},
					  LB_ADDR_LEN);
		rc = put_record(c->state, "gov.removed", who, LB_ADDR_LEN, &b, rc, false);
	}
	lb_free(vl);
	lb_free(sl);
	lb_free(banned);
	if (rc)
		return lb_errf(c->em, rc, "recording the removal's effects failed");
	return LB_OK;
}

/* Where genesis says "governance": {"unique_names": true}: a member's name is its own, since
 * surgery hospital ids (NAME or NAME:SITE) are bound to it. A name clashes with another
 * member's when it is the same or one is the other followed by ':' and a site. The index of
 * the member name clashes with (not counting the member at addr), or -1. */
static long name_clash(const struct gov_members *m, const char *name,
		       const uint8_t addr[LB_ADDR_LEN])
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < m->n; i++) {
		const char *o = m->m[i].name;
		size_t ol = strlen(o);
		if (!memcmp(m->m[i].addr, addr, LB_ADDR_LEN))
			continue;
		if (!strcmp(o, name) || (ol < nl && !strncmp(name, o, ol) && name[ol] == ':') ||
		    (nl < ol && !strncmp(o, name, nl) && o[nl] == ':'))
			return (long)i;
	}
	return -1;
}

/* LB_EEXISTS when names must be unique (the genesis flag) and name clashes with a member's. */
static int check_name_free(struct lb_apply_ctx *c, const struct gov_members *m,
			   const char *name, const uint8_t addr[LB_ADDR_LEN])
{
	uint64_t unique = 0;
	int rc = lb_state_get_u64(c->state, "gov", "unique_names", 12, 0, &unique);
	long i;
	if (rc || !unique || (i = name_clash(m, name, addr)) < 0)
		return rc;
	char t[LB_ADDR_TEXT_LEN + 1];
	return lb_errf(c->em, LB_EEXISTS,
		       "the name \"%s\" is taken: member %s is named \"%s\", and a name (NAME or "
		       "NAME:SITE) is the member's surgery hospital id; propose admit with "
		       "another --name",
		       name, addr_text(m->m[i].addr, t), m->m[i].name);
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
		/* another member may have taken the name since the proposal */
		int rc = check_name_free(c, m, x.name, x.addr);
		if (rc)
			return rc;
		rc = gov_members_add(m, &x);
		if (rc == LB_EEXISTS)
			return lb_errf(c->em, rc, "%s is already a member", t);
		if (rc == LB_ELIMIT)
			return lb_errf(c->em, rc, "the consortium already has %d members, the most it "
						  "can have", LB_MEMBERS_MAX);
		return rc;
	}
	if (p->p.action == LB_GOV_PARAMS)
		return store_params(c->state, &p->p.params);
	if (p->p.action == LB_GOV_AUDIT)
		return lb_state_put_u64(c->state, LB_AUDIT_CFG_NS, "interval", 8, p->p.audit_interval);
	long i = gov_members_find(m, p->p.member);
	if (i < 0)
		return lb_errf(c->em, LB_ENOTFOUND, "%s is no longer a member", t);
	if (p->p.action == LB_GOV_KINDS) {
		/* role checks read the member list: from the next tx on they see the new kinds */
		m->m[i].kinds = p->p.kinds;
		return LB_OK;
	}
	if (m->n == 1)
		return lb_errf(c->em, LB_EDENIED,
			       "removing %s would leave the consortium without members", t);
	int rc = gov_members_remove(m, p->p.member);
	if (rc)
		return rc;
	return enact_removal(c, p, m);
}

/* After a vote (or the proposer's own vote): decide, enact, store. */
static int settle(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN], struct gov_prop *p,
		  struct gov_members *m, struct gov_open *o)
{
	uint64_t yes, no;
	int rc;
	struct lb_gov_params gp;
	if ((rc = gov_params_load(c->state, &gp)))
		return lb_errf(c->em, rc, "the governance rules cannot be read");
	gov_tally(p, m, &yes, &no);
	enum lb_gov_outcome out = lb_gov_outcome_q(m->n, yes, no, &gp);
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
	if (p->p.action == LB_GOV_ADMIT &&
	    (rc = check_name_free(c, m, p->p.name, p->p.member)))
		goto out;
	if (p->p.action == LB_GOV_ADMIT && m->n == LB_MEMBERS_MAX) {
		rc = lb_errf(c->em, LB_ELIMIT, "the consortium already has %d members",
			     LB_MEMBERS_MAX);
		goto out;
	}
	bool removal = p->p.action == LB_GOV_REMOVE || p->p.action == LB_GOV_REMOVE_TO;
	{
		struct lb_gov_params gp;
		if ((rc = gov_params_load(c->state, &gp))) {
			rc = lb_errf(c->em, rc, "the governance rules cannot be read");
			goto out;
		}
		if (p->p.expires_height - c->height > gp.vote_blocks_max) {
			rc = lb_errf(c->em, LB_EINVALID,
				     "the expiry height %llu is %llu blocks away; the consortium's "
				     "rules let a vote stay open for at most %llu business blocks",
				     (unsigned long long)p->p.expires_height,
				     (unsigned long long)(p->p.expires_height - c->height),
				     (unsigned long long)gp.vote_blocks_max);
			goto out;
		}
	}
	if (p->p.action == LB_GOV_REMOVE_TO && gov_members_find(m, p->p.successor) < 0) {
		char s2[LB_ADDR_TEXT_LEN + 1];
		rc = lb_errf(c->em, LB_ENOTFOUND,
			     "the successor %s is not a member: only a current member can take over "
			     "a removed member's users",
			     addr_text(p->p.successor, s2));
		goto out;
	}
	if (p->p.action == LB_GOV_KINDS) {
		long i = gov_members_find(m, p->p.member);
		char k[64];
		if (i < 0) {
			rc = lb_errf(c->em, LB_ENOTFOUND,
				     "%s is not a member: only a member's kinds can change (admit it "
				     "with 'propose admit --kinds')", t);
			goto out;
		}
		if (m->m[i].kinds == p->p.kinds) {
			rc = lb_errf(c->em, LB_EINVALID, "%s already holds exactly the kinds %s", t,
				     lb_super_kinds_format(p->p.kinds, k, sizeof k));
			goto out;
		}
	}
	if (removal && gov_members_find(m, p->p.member) < 0) {
		rc = lb_errf(c->em, LB_ENOTFOUND, "%s is not a member, so it cannot be removed", t);
		goto out;
	}
	if (removal && m->n == 1) {
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
	if (lb_gov_proposal_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *o = json_pack("{s:s,s:o,s:I}", "action", gov_action_name(p.action), "member",
			      gov_addr_json(p.member), "expires_height",
			      (json_int_t)p.expires_height);
	gov_proposal_details(o, &p);
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

/* ---- governance.vouch ----------------------------------------------------------------------- */

static int check_vouch(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_gov_vouch v;
	return lb_gov_vouch_decode(&v, tx->payload, tx->payload_len, em);
}

static int apply_vouch(struct lb_apply_ctx *c)
{
	struct lb_gov_vouch v;
	struct gov_members *m = lb_malloc(sizeof *m);
	uint8_t *list = NULL;
	size_t n = 0;
	const uint8_t *cur;
	size_t curn;
	char t[LB_ADDR_TEXT_LEN + 1], w[LB_ADDR_TEXT_LEN + 1];
	int rc;
	if (!m)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	if ((rc = lb_gov_vouch_decode(&v, c->tx->payload, c->tx->payload_len, c->em)))
		goto out;
	if ((rc = load_members(c->state, m))) {
		rc = lb_errf(c->em, rc, "reading the member list failed");
		goto out;
	}
	if (gov_members_find(m, c->sender_addr) < 0) {
		rc = not_member(c, "vouch for accounts");
		goto out;
	}
	addr_text(v.account, t);
	if (v.vouch && gov_members_find(m, v.account) >= 0) {
		rc = lb_errf(c->em, LB_EINVALID,
			     "%s is a consortium member: a member answers for itself and cannot be "
			     "vouched for",
			     t);
		goto out;
	}
	if (v.vouch && lb_state_get(c->state, LB_KEYMAP_NS, v.account, LB_ADDR_LEN, &cur, &curn) ==
			       LB_OK) {
		rc = lb_errf(c->em, LB_EINVALID,
			     "%s is a rotated, replaced or removed key, not an account of its own: "
			     "vouch for the account it belongs to",
			     t);
		goto out;
	}
	if ((rc = load_vouched(c->state, c->sender_addr, &list, &n))) {
		rc = lb_errf(c->em, rc, "reading the member's vouched accounts failed");
		goto out;
	}
	bool have = lb_state_get(c->state, "gov.vouch", v.account, LB_ADDR_LEN, &cur, &curn) ==
		    LB_OK && curn == LB_ADDR_LEN;
	bool mine = have && !memcmp(cur, c->sender_addr, LB_ADDR_LEN);
	if (v.vouch) {
		if (mine) {
			rc = lb_errf(c->em, LB_EEXISTS, "this member already vouches for %s", t);
			goto out;
		}
		if (have) {
			rc = lb_errf(c->em, LB_EEXISTS,
				     "%s is already vouched for by member %s; that member must "
				     "withdraw first",
				     t, addr_text(cur, w));
			goto out;
		}
		if (n == LB_VOUCHED_MAX) {
			rc = lb_errf(c->em, LB_ELIMIT, "a member vouches for at most %d accounts",
				     LB_VOUCHED_MAX);
			goto out;
		}
		uint8_t *l2 = lb_realloc(list, (n + 1) * LB_ADDR_LEN);
		if (!l2) {
			rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
			goto out;
		}
		list = l2;
		memcpy(list + n * LB_ADDR_LEN, v.account, LB_ADDR_LEN);
		n++;
		if ((rc = store_vouched(c->state, c->sender_addr, list, n)) ||
		    (rc = lb_state_put(c->state, "gov.vouch", v.account, LB_ADDR_LEN, c->sender_addr,
				       LB_ADDR_LEN)))
			rc = lb_errf(c->em, rc, "recording the vouch failed");
		goto out;
	}
	if (!mine) {
		rc = lb_errf(c->em, LB_ENOTFOUND, "this member does not vouch for %s", t);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!memcmp(list + i * LB_ADDR_LEN, v.account, LB_ADDR_LEN)) {
			memmove(list + i * LB_ADDR_LEN, list + (i + 1) * LB_ADDR_LEN,
				(n - i - 1) * LB_ADDR_LEN);
			n--;
			break;
		}
	if ((rc = store_vouched(c->state, c->sender_addr, list, n)) ||
	    (rc = lb_state_del(c->state, "gov.vouch", v.account, LB_ADDR_LEN)))
		rc = lb_errf(c->em, rc, "recording the withdrawal failed");
out:
	lb_free(list);
	lb_free(m);
	return rc;
}

static json_t *json_vouch(const struct lb_tx *tx)
{
	struct lb_gov_vouch v;
	if (lb_gov_vouch_decode(&v, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:s}", "account", gov_addr_json(v.account), "op",
			 v.vouch ? "vouch" : "withdraw");
}

/* ---- governance.rekey ----------------------------------------------------------------------- */

static int check_rekey(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_gov_rekey r;
	uint8_t msg[LB_GOV_REKEY_MSG_LEN], old[LB_ADDR_LEN];
	int rc = lb_gov_rekey_decode(&r, tx->payload, tx->payload_len, em);
	if (rc)
		return rc;
	if (!memcmp(r.new_key, tx->sender, LB_PUBKEY_LEN))
		return lb_errf(em, LB_EINVALID, "governance.rekey: the new key is the current key");
	lb_addr_from_pubkey(old, tx->sender);
	lb_gov_rekey_message(msg, old, r.new_key);
	if (!lb_sig_is_valid(r.proof, msg, sizeof msg, r.new_key))
		return lb_errf(em, LB_EBADSIG,
			       "governance.rekey: the proof is not the new key's signature over the "
			       "rekey message (sign it with the new key: leben governance rekey)");
	return LB_OK;
}

/* The member's current key (the tx's signer) is replaced by the new one: keymap entries as a
 * key reset writes them (old key replaced, new key acts for the member's account), and
 * gov.key/<member> = the new key's address (refused too if the member is removed). */
static int apply_rekey(struct lb_apply_ctx *c)
{
	struct lb_gov_rekey r;
	struct gov_members *m = lb_malloc(sizeof *m);
	uint8_t old[LB_ADDR_LEN], nk[LB_ADDR_LEN], ent[1 + LB_ADDR_LEN];
	const uint8_t *v;
	size_t n;
	uint64_t nonce;
	char t[LB_ADDR_TEXT_LEN + 1];
	int rc;
	if (!m)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	if ((rc = check_rekey(c->tx, c->em)))
		goto out;
	lb_gov_rekey_decode(&r, c->tx->payload, c->tx->payload_len, NULL);
	if ((rc = load_members(c->state, m))) {
		rc = lb_errf(c->em, rc, "reading the member list failed");
		goto out;
	}
	if (gov_members_find(m, c->sender_addr) < 0) {
		rc = not_member(c, "rotate a member's node key");
		goto out;
	}
	lb_addr_from_pubkey(old, c->tx->sender);
	lb_addr_from_pubkey(nk, r.new_key);
	addr_text(nk, t);
	if (lb_state_get(c->state, LB_KEYMAP_NS, nk, LB_ADDR_LEN, &v, &n) == LB_OK ||
	    gov_members_find(m, nk) >= 0 ||
	    lb_state_get(c->state, "gov.vouch", nk, LB_ADDR_LEN, &v, &n) == LB_OK) {
		rc = lb_errf(c->em, LB_EEXISTS,
			     "the new key %s is already in use (a member, a vouched account or a "
			     "rotated key); make a fresh key",
			     t);
		goto out;
	}
	if ((rc = lb_state_get_u64(c->state, "nonce", nk, LB_ADDR_LEN, 0, &nonce)))
		goto out;
	if (nonce) {
		rc = lb_errf(c->em, LB_EEXISTS,
			     "the new key %s has already signed txs; make a fresh key", t);
		goto out;
	}
	ent[0] = LB_KEYMAP_REPLACED;
	memcpy(ent + 1, c->sender_addr, LB_ADDR_LEN);
	if ((rc = lb_state_put(c->state, LB_KEYMAP_NS, old, LB_ADDR_LEN, ent, sizeof ent)))
		goto out;
	ent[0] = LB_KEYMAP_ACTS_FOR;
	if ((rc = lb_state_put(c->state, LB_KEYMAP_NS, nk, LB_ADDR_LEN, ent, sizeof ent)) ||
	    (rc = lb_state_put(c->state, "gov.key", c->sender_addr, LB_ADDR_LEN, nk, LB_ADDR_LEN)))
		rc = lb_errf(c->em, rc, "recording the new key failed");
out:
	lb_free(m);
	return rc;
}

static json_t *json_rekey(const struct lb_tx *tx)
{
	struct lb_gov_rekey r;
	uint8_t nk[LB_ADDR_LEN];
	if (lb_gov_rekey_decode(&r, tx->payload, tx->payload_len, NULL))
		return NULL;
	lb_addr_from_pubkey(nk, r.new_key);
	return json_pack("{s:o,s:o}", "new_key", gov_hex_json(r.new_key, LB_PUBKEY_LEN),
			 "new_address", gov_addr_json(nk));
}

/* ---- governance.removal and its follow-ups on the other chains ------------------------------ */

static int check_removal(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_gov_removal r;
	return lb_gov_removal_decode(&r, tx->payload, tx->payload_len, em);
}

/* Valid only when the slice is exactly what the removal recorded; it writes nothing: its
 * inclusion proof is what the other chains need. */
static int apply_removal(struct lb_apply_ctx *c)
{
	struct lb_gov_removal r;
	const uint8_t *v;
	size_t n;
	char t[LB_ADDR_TEXT_LEN + 1];
	int rc = lb_gov_removal_decode(&r, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	addr_text(r.member, t);
	rc = lb_state_get(c->state, "gov.banned", r.member, LB_ADDR_LEN, &v, &n);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND, "%s was never removed from the consortium", t);
	if (rc)
		return lb_errf(c->em, rc, "the removal record of %s cannot be read", t);
	if (n % LB_ADDR_LEN || r.offset + r.count > n / LB_ADDR_LEN ||
	    memcmp(v + r.offset * LB_ADDR_LEN, r.keys, r.count * LB_ADDR_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "these are not the keys the removal of %s refused (it refused %zu; "
			       "see GET /v1/members/%s/removal)",
			       t, n / LB_ADDR_LEN, t);
	return LB_OK;
}

static json_t *json_removal(const struct lb_tx *tx)
{
	struct lb_gov_removal r;
	if (lb_gov_removal_decode(&r, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *keys = json_array();
	for (size_t i = 0; i < r.count; i++)
		json_array_append_new(keys, gov_addr_json(r.keys + i * LB_ADDR_LEN));
	return json_pack("{s:o,s:I,s:o}", "member", gov_addr_json(r.member), "offset",
			 (json_int_t)r.offset, "keys", keys);
}

/* The cited tx as a governance.removal of the business chain (stateless). */
static int follow_inner(const struct lb_gov_follow *f, struct lb_tx *tx, struct lb_gov_removal *r,
			struct lb_errmsg *em)
{
	struct lb_errmsg e;
	lb_errclear(&e);
	if (lb_tx_decode(tx, f->tx, f->tx_len, &e))
		return lb_errf(em, LB_EMALFORMED,
			       "governance.follow: the removal tx does not decode: %s", e.text);
	if (tx->chain != LB_CHAIN_BUSINESS || tx->type != LB_TX_GOV_REMOVAL)
		return lb_errf(em, LB_EINVALID,
			       "governance.follow: the cited tx is not a business-chain "
			       "governance.removal");
	if (lb_gov_removal_decode(r, tx->payload, tx->payload_len, &e))
		return lb_errf(em, LB_EINVALID, "governance.follow: the cited removal is unreadable: %s",
			       e.text);
	return LB_OK;
}

static int check_gfollow(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_gov_follow f;
	struct lb_tx inner;
	struct lb_gov_removal r;
	int rc = lb_gov_follow_decode(&f, tx->payload, tx->payload_len, em);
	return rc ? rc : follow_inner(&f, &inner, &r, em);
}

/* The proof shows the removal tx valid in a business block anchored by one of this chain's
 * own earlier blocks (lb_apply_cite, as for keys.follow). */
static int apply_gfollow(struct lb_apply_ctx *c)
{
	struct lb_gov_follow f;
	struct lb_tx inner;
	struct lb_gov_removal r;
	int rc = lb_gov_follow_decode(&f, c->tx->payload, c->tx->payload_len, c->em);
	if (rc || (rc = follow_inner(&f, &inner, &r, c->em)) ||
	    (rc = lb_apply_cite(c, "governance.removal", f.tx, f.tx_len, f.proof, f.proof_len,
				LB_CHAIN_BUSINESS, LB_TX_GOV_REMOVAL, &inner)))
		return rc;
	for (size_t i = 0; i < r.count && !rc; i++)
		rc = ban_key(c->state, r.keys + i * LB_ADDR_LEN, r.member);
	/* gov.followed/<member>: the height of this chain's first follow-up of the removal (later
	 * ones, from other nodes, write the same keys again and leave it) */
	uint64_t first;
	if (!rc && !(rc = lb_state_get_u64(c->state, "gov.followed", r.member, LB_ADDR_LEN, 0,
					   &first)) && !first)
		rc = lb_state_put_u64(c->state, "gov.followed", r.member, LB_ADDR_LEN, c->height);
	if (rc)
		return lb_errf(c->em, rc, "governance.follow: recording the refused keys failed");
	return LB_OK;
}

static json_t *json_gfollow(const struct lb_tx *tx)
{
	struct lb_gov_follow f;
	struct lb_tx inner;
	struct lb_gov_removal r;
	char hex[2 * LB_HASH_LEN + 1];
	if (lb_gov_follow_decode(&f, tx->payload, tx->payload_len, NULL) ||
	    follow_inner(&f, &inner, &r, NULL))
		return NULL;
	lb_hex_encode(hex, inner.id, LB_HASH_LEN);
	return json_pack("{s:s,s:o,s:I,s:I}", "removal_tx", hex, "member", gov_addr_json(r.member),
			 "offset", (json_int_t)r.offset, "keys", (json_int_t)r.count);
}

/* ---- ca.cosign ------------------------------------------------------------------------------ */

static int check_cosign(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_ca_cosign k;
	return lb_ca_cosign_decode(&k, tx->payload, tx->payload_len, em);
}

/* A current member adds its co-signature to gov.cert/<hash> (once; co-signers no longer
 * members are dropped from the record as it is written). */
static int apply_cosign(struct lb_apply_ctx *c)
{
	struct lb_ca_cosign k;
	struct gov_members *m = lb_malloc(sizeof *m);
	struct gov_cert *r = lb_calloc(1, sizeof *r);
	const uint8_t *v;
	size_t n;
	int rc;
	if (!m || !r) {
		rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = lb_ca_cosign_decode(&k, c->tx->payload, c->tx->payload_len, c->em)))
		goto out;
	if ((rc = load_members(c->state, m))) {
		rc = lb_errf(c->em, rc, "reading the member list failed");
		goto out;
	}
	if (gov_members_find(m, c->sender_addr) < 0) {
		rc = not_member(c, "co-sign a certificate (the CA holders are the members)");
		goto out;
	}
	rc = lb_state_get(c->state, "gov.cert", k.spki_hash, LB_HASH_LEN, &v, &n);
	if (rc == LB_ENOTFOUND) {
		snprintf(r->name, sizeof r->name, "%s", k.name);
		rc = LB_OK;
	} else if (rc || (rc = gov_cert_decode(r, v, n))) {
		rc = lb_errf(c->em, LB_ECORRUPT, "the certificate's record cannot be read");
		goto out;
	}
	size_t kept = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!memcmp(r->who[i], c->sender_addr, LB_ADDR_LEN)) {
			rc = lb_errf(c->em, LB_EEXISTS,
				     "this member already co-signed the certificate '%s'", r->name);
			goto out;
		}
		if (gov_members_find(m, r->who[i]) >= 0)
			memmove(r->who[kept++], r->who[i], LB_ADDR_LEN);
	}
	r->n = kept;
	memcpy(r->who[r->n++], c->sender_addr, LB_ADDR_LEN);
	struct lb_buf b;
	lb_buf_init(&b, 1 << 14);
	rc = gov_cert_encode(&b, r);
	rc = put_record(c->state, "gov.cert", k.spki_hash, LB_HASH_LEN, &b, rc, false);
	if (rc)
		rc = lb_errf(c->em, rc, "recording the co-signature failed");
out:
	lb_free(m);
	lb_free(r);
	return rc;
}

static json_t *json_cosign(const struct lb_tx *tx)
{
	struct lb_ca_cosign k;
	if (lb_ca_cosign_decode(&k, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:s}", "spki_hash", gov_hex_json(k.spki_hash, LB_HASH_LEN), "name",
			 k.name);
}

/* ---- genesis ------------------------------------------------------------------------------- */

/* genesis.json "governance": {"threshold": "2/3", "vote_blocks_default": N,
 * "vote_blocks_max": N, "unique_names": true} (every key optional; absent: the defaults;
 * unique_names: no two members of one name, docs/consortium.md). */
static int genesis_rules(json_t *g, int chain, struct lb_state *s, struct lb_errmsg *em)
{
	json_t *o = json_object_get(g, "governance"), *v;
	const char *k;
	struct lb_gov_params p = LB_GOV_PARAMS_DEFAULT;
	bool rules = false;
	int rc;
	if (chain != LB_CHAIN_BUSINESS || !o)
		return LB_OK;
	if (!json_is_object(o))
		return lb_errf(em, LB_EINVALID,
			       "genesis: 'governance' must be an object with 'threshold' (\"2/3\"), "
			       "'vote_blocks_default', 'vote_blocks_max' and 'unique_names'");
	json_object_foreach(o, k, v)
	{
		if (!strcmp(k, "unique_names")) {
			if (!json_is_boolean(v))
				return lb_errf(em, LB_EINVALID,
					       "genesis: governance.unique_names must be true or false");
			if (json_is_true(v) &&
			    (rc = lb_state_put_u64(s, "gov", "unique_names", 12, 1)))
				return rc;
			continue;
		}
		rules = true;
		if (!strcmp(k, "threshold")) {
			unsigned a, b;
			char end;
			if (!json_is_string(v) ||
			    sscanf(json_string_value(v), "%u/%u%c", &a, &b, &end) != 2 || a > 255 ||
			    b > 255)
				return lb_errf(em, LB_EINVALID,
					       "genesis: governance.threshold must be a fraction such "
					       "as \"2/3\"");
			p.num = (uint8_t)a;
			p.den = (uint8_t)b;
		} else if (!strcmp(k, "vote_blocks_default") || !strcmp(k, "vote_blocks_max")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1)
				return lb_errf(em, LB_EINVALID,
					       "genesis: governance.%s must be a whole number of "
					       "business blocks, at least 1",
					       k);
			*(k[12] == 'd' ? &p.vote_blocks_default : &p.vote_blocks_max) =
				(uint64_t)json_integer_value(v);
		} else {
			return lb_errf(em, LB_EINVALID,
				       "genesis: governance.%s is not a setting (threshold, "
				       "vote_blocks_default, vote_blocks_max, unique_names)",
				       k);
		}
	}
	if (!rules) /* only unique_names: the rules stay the defaults, stored as before */
		return LB_OK;
	rc = lb_gov_params_check(&p, em);
	if (rc) {
		lb_errwrap(em, "genesis: governance: ");
		return rc;
	}
	return store_params(s, &p);
}


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
	bool unique = json_is_true(
		json_object_get(json_object_get(g, "governance"), "unique_names"));
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
		long k = unique ? name_clash(m, x.name, x.addr) : -1;
		if (k >= 0) {
			rc = lb_errf(em, LB_EINVALID,
				     "genesis: members[%zu]: the name \"%s\" clashes with another "
				     "member's, \"%s\" (governance.unique_names: each member's name "
				     "is its own, and NAME:SITE belongs to NAME)",
				     i, x.name, m->m[k].name);
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
	{LB_TX_GOV_VOUCH, LB_CHAIN_BUSINESS, "governance.vouch", check_vouch, apply_vouch,
	 json_vouch, true},
	{LB_TX_GOV_REKEY, LB_CHAIN_BUSINESS, "governance.rekey", check_rekey, apply_rekey,
	 json_rekey, true},
	{LB_TX_GOV_REMOVAL, LB_CHAIN_BUSINESS, "governance.removal", check_removal, apply_removal,
	 json_removal, true},
	{LB_TX_CA_COSIGN, LB_CHAIN_BUSINESS, "ca.cosign", check_cosign, apply_cosign, json_cosign,
	 true},
	{LB_TX_GOV_FOLLOW, LB_CHAIN_SETTLEMENT, "governance.follow", check_gfollow, apply_gfollow,
	 json_gfollow, true},
	{LB_TX_GOV_FOLLOW_DIR, LB_CHAIN_DIRECTORY, "governance.follow.directory", check_gfollow,
	 apply_gfollow, json_gfollow, true},
};

/* No type is marked block-independent (lb_txtype_mark_block_independent): a proposal
 * records its height and is refused once expired, a vote is refused after the expiry height
 * and dates an enacted membership, and a checkpoint must name an earlier business block. */
int lb_consortium_register_txtypes(void)
{
	int rc = lb_txtype_register_rows(gov_types, sizeof gov_types / sizeof gov_types[0], false);
	if (!rc)
		rc = lb_genesis_hook_register(genesis_members);
	return rc ? rc : lb_genesis_hook_register(genesis_rules);
}
