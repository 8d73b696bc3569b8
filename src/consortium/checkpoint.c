/*
 * The node's side of checkpoints and the read side of governance.
 *
 * After every committed block the node (lb_consortium_after_commit) looks at the checkpoint
 * txs the block recorded, compares each with its own block at that chain and height, and
 * raises an alarm naming the member when they differ. The alarm is local: it lives in this
 * structure, the log and /v1/status, never in chain state, so the app hash stays the same on
 * every honest node. When a chain reaches a multiple of the interval, a member node signs
 * (chain, height, block hash, app hash) with its node key and submits it as a checkpoint tx.
 * `leben verify` replays the chains and then compares every recorded checkpoint with the
 * replayed blocks (lb_consortium_verify_home).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "consortium/consortium_int.h"
#include "leben/codec.h"
#include "leben/exchange.h"
#include "leben/tx.h"

#define ALARMS_MAX 256        /* alarms kept (the oldest are dropped, the count goes on) */
#define WAITING_MAX 4096      /* received checkpoints above this node's height, kept to check */
#define TODO_MAX 64           /* own checkpoints queued for the publisher thread */
#define FOLLOWS_MAX 64        /* removals being carried to the other chains */
#define FOLLOW_RETRY_MS 20000 /* send a step again when nothing came of it for this long */

/* A checkpoint received from a member, to compare with this node's own block. */
struct seen_ckpt {
	struct lb_checkpoint k;                /* what the member signed */
	uint8_t member[LB_ADDR_LEN];           /* who signed it */
	char name[LB_MEMBER_NAME_MAX + 1];     /* its member name when it was recorded */
	uint64_t recorded_at;                  /* business height of the tx that recorded it */
};

/* A conflict between a member's checkpoint and this node's block. */
struct alarm {
	struct seen_ckpt c;                    /* the member's checkpoint */
	uint8_t own_hash[LB_HASH_LEN];         /* this node's block hash there */
	uint8_t own_app[LB_HASH_LEN];          /* and app hash */
	uint64_t time_ms;                      /* when it was raised */
};

struct lb_consortium {
	struct lb_ledger *ledger;              /* borrowed */
	struct lb_keypair key;                 /* node key (signs checkpoints) */
	uint8_t addr[LB_ADDR_LEN];             /* its address */
	uint64_t interval;                     /* publish every that many blocks; 0 never */
	pthread_mutex_t mu;                    /* guards everything below */
	struct seen_ckpt *waiting;             /* checkpoints above our height, to check later */
	size_t nwaiting;
	struct alarm *alarms;                  /* ring of the latest ALARMS_MAX */
	size_t nalarms;                        /* alarms raised in total */
	uint64_t published;                    /* checkpoints this node submitted */
	uint64_t checked;                      /* members' checkpoints compared and found equal */
	uint64_t last_published[LB_CHAIN_COUNT]; /* height of this node's latest checkpoint */
	/* Own checkpoints are signed and submitted by a thread of their own, so that the
	 * orderer's deliver path never re-enters the orderer's submit. */
	pthread_t thread;                      /* the publisher */
	bool thread_started;
	bool stopping;                         /* set by lb_consortium_free */
	pthread_cond_t cond;                   /* signals todo or stopping */
	struct {
		int chain;
		uint64_t height;
	} todo[TODO_MAX];                      /* FIFO of blocks to checkpoint */
	size_t ntodo;
	/* Removals this node carries to the settlement and directory chains by itself (one
	 * slice of the refused keys each; see follow_step). */
	struct follow_job {
		uint8_t member[LB_ADDR_LEN];   /* the removed member */
		uint64_t offset, count;        /* the slice of gov.banned/<member> */
		uint8_t removal_id[LB_HASH_LEN]; /* our governance.removal tx, once sent */
		uint64_t removal_ms;           /* when it was sent (0: not yet) */
		uint64_t sent_ms[2];           /* when the follow-up went to settlement, directory */
	} follows[FOLLOWS_MAX];
	size_t nfollows;
};

/* ---- queries ------------------------------------------------------------------------------- */

static int read_members(struct lb_ledger *l, struct gov_members *m, struct lb_errmsg *em)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	int rc = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "gov", "members", 7, &b, em);
	if (rc == LB_ENOTFOUND) {
		m->n = 0;
		rc = LB_OK;
	} else if (!rc && gov_members_decode(m, b.data, b.len)) {
		rc = lb_errf(em, LB_ECORRUPT, "the stored member list is corrupt");
	}
	lb_buf_release(&b);
	return rc;
}

bool lb_consortium_member_name(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN],
			       char *name)
{
	struct gov_members *m = lb_malloc(sizeof *m);
	bool yes = false;
	name[0] = 0;
	if (m && read_members(l, m, NULL) == LB_OK) {
		long i = gov_members_find(m, addr);
		if (i >= 0) {
			snprintf(name, LB_MEMBER_NAME_MAX + 1, "%s", m->m[i].name);
			yes = true;
		}
	}
	lb_free(m);
	return yes;
}

/* The account a signing key acts for on the business chain (its own address unless a
 * governance.rekey or key reset moved it; see LB_KEYMAP_NS). */
static void key_account(struct lb_ledger *l, const uint8_t key[LB_ADDR_LEN],
			uint8_t account[LB_ADDR_LEN])
{
	struct lb_buf b;
	lb_buf_init(&b, 64);
	memcpy(account, key, LB_ADDR_LEN);
	if (lb_ledger_state_read(l, LB_CHAIN_BUSINESS, LB_KEYMAP_NS, key, LB_ADDR_LEN, &b, NULL) ==
		    LB_OK &&
	    b.len == 1 + LB_ADDR_LEN && b.data[0] == LB_KEYMAP_ACTS_FOR)
		memcpy(account, b.data + 1, LB_ADDR_LEN);
	lb_buf_release(&b);
}

static int read_params(struct lb_ledger *l, struct lb_gov_params *p)
{
	static const struct lb_gov_params dflt = LB_GOV_PARAMS_DEFAULT;
	struct lb_buf b;
	struct lb_dec d;
	lb_buf_init(&b, 64);
	*p = dflt;
	int rc = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "gov", "params", 6, &b, NULL);
	if (rc == LB_ENOTFOUND) {
		rc = LB_OK;
	} else if (!rc) {
		lb_dec_init(&d, b.data, b.len, "governance rules", NULL);
		if (lb_dec_u8(&d, "num", &p->num) || lb_dec_u8(&d, "den", &p->den) ||
		    lb_dec_uvar(&d, "default", UINT64_MAX, &p->vote_blocks_default) ||
		    lb_dec_uvar(&d, "max", UINT64_MAX, &p->vote_blocks_max) || lb_dec_end(&d))
			rc = LB_ECORRUPT;
	}
	lb_buf_release(&b);
	return rc;
}

int lb_consortium_removal_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN],
			       json_t **out, struct lb_errmsg *em)
{
	struct lb_buf b;
	struct lb_dec d;
	uint64_t height;
	uint8_t disp, succ[LB_ADDR_LEN];
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, addr);
	lb_buf_init(&b, 1 << 20);
	int rc = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "gov.removed", addr, LB_ADDR_LEN, &b,
				      NULL);
	if (rc == LB_ENOTFOUND) {
		lb_buf_release(&b);
		return lb_errf(em, LB_ENOTFOUND, "%s was never removed from the consortium", t);
	}
	lb_dec_init(&d, b.data, b.len, "removal record", NULL);
	if (rc || lb_dec_uvar(&d, "height", UINT64_MAX, &height) || lb_dec_u8(&d, "disp", &disp) ||
	    lb_dec_fixed(&d, "successor", succ, LB_ADDR_LEN) || lb_dec_end(&d)) {
		lb_buf_release(&b);
		return lb_errf(em, LB_ECORRUPT, "the removal record of %s is unreadable", t);
	}
	json_t *o = json_pack("{s:o,s:I,s:s}", "member", gov_addr_json(addr), "height",
			      (json_int_t)height, "disposition", disp == 2 ? "successor" : "freeze");
	if (o && disp == 2)
		json_object_set_new(o, "successor", gov_addr_json(succ));
	json_t *keys = json_array();
	lb_buf_reset(&b);
	if (lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "gov.banned", addr, LB_ADDR_LEN, &b,
				 NULL) == LB_OK)
		for (size_t i = 0; i + LB_ADDR_LEN <= b.len; i += LB_ADDR_LEN)
			json_array_append_new(keys, gov_addr_json(b.data + i));
	json_object_set_new(o, "refused_keys", keys);
	/* the height at which each other chain took it over (governance.follow), null before */
	json_t *fol = json_object();
	for (int ch = LB_CHAIN_SETTLEMENT; ch <= LB_CHAIN_DIRECTORY; ch++) {
		struct lb_dec fd;
		uint64_t fh = 0;
		lb_buf_reset(&b);
		if (lb_ledger_state_read(l, ch, "gov.followed", addr, LB_ADDR_LEN, &b, NULL) == LB_OK) {
			lb_dec_init(&fd, b.data, b.len, "followed", NULL);
			if (lb_dec_uvar(&fd, "height", UINT64_MAX, &fh))
				fh = 0;
		}
		json_object_set_new(fol, lb_chain_name(ch), fh ? json_integer((json_int_t)fh)
							       : json_null());
	}
	json_object_set_new(o, "followed", fol);
	lb_buf_release(&b);
	*out = o;
	return o ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* The co-signatures of a key and how many of them count (current members). */
static int cert_read(struct lb_ledger *l, const uint8_t h[LB_HASH_LEN], struct gov_cert *r,
		     size_t *current, uint64_t *needed)
{
	struct gov_members *m = lb_malloc(sizeof *m);
	struct lb_gov_params gp;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 14);
	int rc = m ? LB_OK : LB_ENOMEM;
	r->n = 0;
	r->name[0] = 0;
	if (!rc && (rc = read_members(l, m, NULL)) == LB_OK && (rc = read_params(l, &gp)) == LB_OK) {
		*needed = lb_gov_threshold_q(m->n, &gp);
		*current = 0;
		rc = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "gov.cert", h, LB_HASH_LEN, &b, NULL);
		if (!rc && (rc = gov_cert_decode(r, b.data, b.len)) == LB_OK)
			for (size_t i = 0; i < r->n; i++)
				*current += gov_members_find(m, r->who[i]) >= 0;
		if (rc == LB_ENOTFOUND) {
			r->n = 0;
			rc = LB_OK;
		}
	}
	lb_buf_release(&b);
	lb_free(m);
	return rc;
}

int lb_consortium_cert_check(struct lb_ledger *l, const uint8_t spki_hash[LB_HASH_LEN],
			     char *why, size_t n)
{
	struct gov_cert *r = lb_malloc(sizeof *r);
	size_t current = 0;
	uint64_t needed = 0;
	int rc = r ? cert_read(l, spki_hash, r, &current, &needed) : LB_ENOMEM;
	char hex[17];
	lb_hex_encode(hex, spki_hash, 8);
	if (rc)
		snprintf(why, n, "the co-signatures of the certificate cannot be read (%s)",
			 lb_strerror(rc));
	else if (current < needed)
		snprintf(why, n,
			 "the certificate (key %s…) is co-signed by %zu of the %llu CA holders "
			 "(members) it needs; each member co-signs it with 'leben governance cosign "
			 "--cert FILE'",
			 hex, current, (unsigned long long)needed);
	lb_free(r);
	return rc ? LB_EUNAUTH : current < needed ? LB_EUNAUTH : LB_OK;
}

int lb_consortium_cert_json(struct lb_ledger *l, const uint8_t spki_hash[LB_HASH_LEN],
			    json_t **out, struct lb_errmsg *em)
{
	struct gov_cert *r = lb_malloc(sizeof *r);
	size_t current = 0;
	uint64_t needed = 0;
	int rc = r ? cert_read(l, spki_hash, r, &current, &needed) : LB_ENOMEM;
	if (!rc && !r->n)
		rc = lb_errf(em, LB_ENOTFOUND, "no member co-signed a certificate with this key");
	else if (rc)
		rc = lb_errf(em, rc, "the co-signatures cannot be read");
	if (!rc) {
		json_t *who = json_array();
		for (size_t i = 0; i < r->n; i++)
			json_array_append_new(who, gov_addr_json(r->who[i]));
		*out = json_pack("{s:o,s:s,s:o,s:I,s:I,s:b}", "spki_hash",
				 gov_hex_json(spki_hash, LB_HASH_LEN), "name", r->name, "cosigners",
				 who, "current", (json_int_t)current, "needed", (json_int_t)needed,
				 "accepted", current >= needed);
		if (!*out)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_free(r);
	return rc;
}

uint8_t lb_consortium_member_kinds(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN])
{
	struct gov_members *m = lb_malloc(sizeof *m);
	uint8_t kinds = 0;
	if (m && read_members(l, m, NULL) == LB_OK) {
		long i = gov_members_find(m, addr);
		if (i >= 0)
			kinds = m->m[i].kinds;
	}
	lb_free(m);
	return kinds;
}

bool lb_consortium_is_member(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN])
{
	char name[LB_MEMBER_NAME_MAX + 1];
	return lb_consortium_member_name(l, addr, name);
}

static json_t *member_json(const struct gov_member *x)
{
	char k[64];
	return json_pack("{s:o,s:s,s:s,s:I}", "address", gov_addr_json(x->addr), "name", x->name,
			 "kinds", lb_super_kinds_format(x->kinds, k, sizeof k), "since",
			 (json_int_t)x->since);
}

static json_t *proposal_json(const uint8_t id[LB_HASH_LEN], const struct gov_prop *p,
			     const struct gov_members *m, uint64_t height,
			     const struct lb_gov_params *gp)
{
	uint64_t yes, no;
	gov_tally(p, m, &yes, &no);
	const char *status = p->status == LB_GOV_PASSED     ? "passed"
			     : p->status == LB_GOV_REJECTED ? "rejected"
			     : height > p->p.expires_height  ? "expired"
							     : "open";
	json_t *votes = json_array();
	for (size_t i = 0; i < p->nvotes; i++)
		json_array_append_new(votes, json_pack("{s:o,s:s}", "member",
						       gov_addr_json(p->votes[i].voter), "vote",
						       p->votes[i].yes ? "yes" : "no"));
	json_t *o = json_pack("{s:o,s:s,s:o,s:s,s:I,s:o,s:I,s:I,s:I,s:I,s:o}", "id",
			      gov_hex_json(id, LB_HASH_LEN), "action",
			      gov_action_name(p->p.action), "member",
			      gov_addr_json(p->p.member), "status", status, "expires_height",
			      (json_int_t)p->p.expires_height, "proposer",
			      gov_addr_json(p->proposer), "yes", (json_int_t)yes, "no",
			      (json_int_t)no, "needed", (json_int_t)lb_gov_threshold_q(m->n, gp),
			      "proposed_at", (json_int_t)p->height, "votes", votes);
	gov_proposal_details(o, &p->p);
	return o;
}

int lb_consortium_members_json(struct lb_ledger *l, json_t **out, struct lb_errmsg *em)
{
	struct gov_members *m = lb_malloc(sizeof *m);
	struct gov_prop *p = lb_malloc(sizeof *p);
	struct gov_open o;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	int rc;
	if (!m || !p) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	struct lb_gov_params gp;
	if ((rc = read_members(l, m, em)))
		goto out;
	if ((rc = read_params(l, &gp))) {
		rc = lb_errf(em, LB_ECORRUPT, "the stored governance rules are corrupt");
		goto out;
	}
	rc = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "gov", "open", 4, &b, em);
	if (rc == LB_ENOTFOUND)
		o.n = 0;
	else if (rc || gov_open_decode(&o, b.data, b.len)) {
		rc = lb_errf(em, LB_ECORRUPT, "the stored list of open proposals is corrupt");
		goto out;
	}
	uint64_t height = lb_ledger_height(l, LB_CHAIN_BUSINESS);
	json_t *members = json_array(), *props = json_array();
	for (size_t i = 0; i < m->n; i++)
		json_array_append_new(members, member_json(&m->m[i]));
	for (size_t i = 0; i < o.n; i++) {
		if (lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "gov.prop", o.ids[i], LB_HASH_LEN,
					 &b, NULL) ||
		    gov_prop_decode(p, b.data, b.len))
			continue;
		json_array_append_new(props, proposal_json(o.ids[i], p, m, height + 1, &gp));
	}
	char th[16];
	snprintf(th, sizeof th, "%u/%u", gp.num, gp.den);
	/* the re-audit interval is a rule too (genesis "audit", changed by an audit-interval vote) */
	uint64_t audit = LB_AUDIT_INTERVAL_DEFAULT;
	struct lb_dec ad;
	lb_buf_reset(&b);
	if (lb_ledger_state_read(l, LB_CHAIN_BUSINESS, LB_AUDIT_CFG_NS, "interval", 8, &b, NULL) ==
	    LB_OK) {
		lb_dec_init(&ad, b.data, b.len, "audit interval", NULL);
		if (lb_dec_uvar(&ad, "interval", UINT64_MAX, &audit))
			audit = LB_AUDIT_INTERVAL_DEFAULT;
	}
	*out = json_pack("{s:I,s:I,s:o,s:o,s:{s:s,s:I,s:I,s:I}}", "count", (json_int_t)m->n,
			 "threshold", (json_int_t)lb_gov_threshold_q(m->n, &gp), "members", members,
			 "proposals", props, "rules", "threshold", th, "vote_blocks_default",
			 (json_int_t)gp.vote_blocks_default, "vote_blocks_max",
			 (json_int_t)gp.vote_blocks_max, "audit_interval_blocks", (json_int_t)audit);
	rc = *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
out:
	lb_buf_release(&b);
	lb_free(m);
	lb_free(p);
	return rc;
}

int lb_consortium_checkpoint_get(struct lb_ledger *l, int chain, uint64_t height,
				 const uint8_t member[LB_ADDR_LEN], uint8_t block_hash[LB_HASH_LEN],
				 uint8_t app_hash[LB_HASH_LEN])
{
	uint8_t key[CKPT_KEY_LEN];
	struct lb_buf b;
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return LB_ENOTFOUND;
	lb_buf_init(&b, 256);
	ckpt_key(key, (uint8_t)chain, height, member);
	int rc = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "ckpt", key, sizeof key, &b, NULL);
	if (!rc && b.len != 2 * LB_HASH_LEN)
		rc = LB_ECORRUPT;
	if (!rc) {
		memcpy(block_hash, b.data, LB_HASH_LEN);
		memcpy(app_hash, b.data + LB_HASH_LEN, LB_HASH_LEN);
	}
	lb_buf_release(&b);
	return rc;
}

int lb_consortium_checkpointed_height(struct lb_ledger *l, int chain, uint64_t *height,
				      struct lb_errmsg *em)
{
	struct gov_members *m = lb_malloc(sizeof *m);
	struct lb_buf b;
	int rc;
	*height = 0;
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return lb_errf(em, LB_ENOTFOUND, "no such chain");
	if (!m)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	lb_buf_init(&b, 64);
	if ((rc = read_members(l, m, em)))
		goto out;
	uint64_t low = UINT64_MAX;
	for (size_t i = 0; i < m->n; i++) {
		uint8_t key[LB_ADDR_LEN + 1];
		uint64_t v = 0;
		memcpy(key, m->m[i].addr, LB_ADDR_LEN);
		key[LB_ADDR_LEN] = (uint8_t)chain;
		rc = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, "ckpt.last", key, sizeof key, &b, em);
		if (rc == LB_OK) {
			struct lb_dec d;
			lb_dec_init(&d, b.data, b.len, "checkpoint height", NULL);
			if (lb_dec_uvar(&d, "height", UINT64_MAX, &v) || lb_dec_end(&d)) {
				rc = lb_errf(em, LB_ECORRUPT, "a stored checkpoint height is corrupt");
				goto out;
			}
		} else if (rc != LB_ENOTFOUND) {
			goto out;
		}
		rc = LB_OK;
		if (v < low)
			low = v;
	}
	*height = m->n ? low : 0;
out:
	lb_buf_release(&b);
	lb_free(m);
	return rc;
}

/* ---- the monitor ----------------------------------------------------------------------------- */

static void publish(struct lb_consortium *c, int chain, uint64_t height);
static void follow_all(struct lb_consortium *c);
static void queue_earlier_removals(struct lb_consortium *c);

static void *publisher(void *arg)
{
	struct lb_consortium *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->ntodo && !c->stopping) {
			if (!c->nfollows) {
				pthread_cond_wait(&c->cond, &c->mu);
				continue;
			}
			/* removals to carry: one step a second */
			pthread_mutex_unlock(&c->mu);
			follow_all(c);
			pthread_mutex_lock(&c->mu);
			if (c->ntodo || c->stopping)
				break;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&c->cond, &c->mu, &ts);
		}
		if (c->stopping)
			break; /* the node is going down: what is queued is dropped */
		int chain = c->todo[0].chain;
		uint64_t height = c->todo[0].height;
		memmove(&c->todo[0], &c->todo[1], (c->ntodo - 1) * sizeof c->todo[0]);
		c->ntodo--;
		pthread_mutex_unlock(&c->mu);
		publish(c, chain, height);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int lb_consortium_new(struct lb_consortium **out, struct lb_ledger *l,
		      const struct lb_keypair *node_key, uint64_t interval, struct lb_errmsg *em)
{
	struct lb_consortium *c = lb_calloc(1, sizeof *c);
	if (c) {
		c->waiting = lb_calloc(WAITING_MAX, sizeof *c->waiting);
		c->alarms = lb_calloc(ALARMS_MAX, sizeof *c->alarms);
	}
	if (!c || !c->waiting || !c->alarms) {
		if (c) {
			lb_free(c->waiting);
			lb_free(c->alarms);
		}
		lb_free(c);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	c->ledger = l;
	c->key = *node_key;
	lb_addr_from_pubkey(c->addr, c->key.pk);
	c->interval = interval;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	/* the thread publishes checkpoints (when interval > 0) and carries removals */
	if (pthread_create(&c->thread, NULL, publisher, c)) {
		lb_consortium_free(c);
		return lb_errf(em, LB_ENOMEM, "cannot start the checkpoint publisher thread");
	}
	c->thread_started = true;
	queue_earlier_removals(c);
	*out = c;
	return LB_OK;
}

void lb_consortium_free(struct lb_consortium *c)
{
	if (!c)
		return;
	if (c->thread_started) {
		pthread_mutex_lock(&c->mu);
		c->stopping = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	lb_keypair_wipe(&c->key);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	lb_free(c->waiting);
	lb_free(c->alarms);
	lb_free(c);
}

/* Compare one recorded checkpoint with our block. Returns false if our chain is not there
 * yet. Caller holds c->mu. */
static bool compare(struct lb_consortium *c, const struct seen_ckpt *s)
{
	uint8_t hash[LB_HASH_LEN], app[LB_HASH_LEN];
	if (lb_ledger_block_hashes(c->ledger, s->k.chain, s->k.height, hash, app, NULL))
		return false;
	if (!memcmp(hash, s->k.block_hash, LB_HASH_LEN) &&
	    !memcmp(app, s->k.app_hash, LB_HASH_LEN)) {
		c->checked++;
		return true;
	}
	struct alarm *a = &c->alarms[c->nalarms % ALARMS_MAX];
	a->c = *s;
	memcpy(a->own_hash, hash, LB_HASH_LEN);
	memcpy(a->own_app, app, LB_HASH_LEN);
	a->time_ms = lb_now_ms();
	c->nalarms++;
	char addr[LB_ADDR_TEXT_LEN + 1], theirs[2 * LB_HASH_LEN + 1], ours[2 * LB_HASH_LEN + 1];
	lb_addr_encode(addr, s->member);
	lb_hex_encode(theirs, s->k.block_hash, LB_HASH_LEN);
	lb_hex_encode(ours, hash, LB_HASH_LEN);
	lb_log(LB_LOG_ERROR,
	       "CHECKPOINT CONFLICT: member '%s' (%s) signed %s block %" PRIu64
	       " as %s (app hash differs: %s) but this node has %s; one of the two diverged",
	       s->name, addr, lb_chain_name(s->k.chain), s->k.height, theirs,
	       memcmp(app, s->k.app_hash, LB_HASH_LEN) ? "yes" : "no", ours);
	return true;
}

/* The checkpoint txs a block recorded: those of the cut whose state record holds exactly
 * their hashes (a refused one left no record, or someone else's). */
static void scan_cut(struct lb_consortium *c, const struct lb_cut *cut, uint64_t height)
{
	struct lb_buf b;
	lb_buf_init(&b, 256);
	for (size_t i = 0; i < cut->n; i++) {
		struct lb_tx tx;
		struct seen_ckpt s;
		if (lb_tx_decode(&tx, cut->raws[i], cut->lens[i], NULL) || tx.type != LB_TX_CHECKPOINT ||
		    tx.chain != LB_CHAIN_BUSINESS ||
		    lb_checkpoint_decode(&s.k, tx.payload, tx.payload_len, NULL))
			continue;
		uint8_t key[CKPT_KEY_LEN];
		uint8_t ka[LB_ADDR_LEN];
		lb_addr_from_pubkey(ka, tx.sender);
		key_account(c->ledger, ka, s.member);
		ckpt_key(key, s.k.chain, s.k.height, s.member);
		if (lb_ledger_state_read(c->ledger, LB_CHAIN_BUSINESS, "ckpt", key, sizeof key, &b,
					 NULL) ||
		    b.len != 2 * LB_HASH_LEN || memcmp(b.data, s.k.block_hash, LB_HASH_LEN) ||
		    memcmp(b.data + LB_HASH_LEN, s.k.app_hash, LB_HASH_LEN))
			continue;
		lb_consortium_member_name(c->ledger, s.member, s.name);
		s.recorded_at = height;
		pthread_mutex_lock(&c->mu);
		if (!compare(c, &s)) {
			if (c->nwaiting < WAITING_MAX)
				c->waiting[c->nwaiting++] = s;
			else
				lb_log(LB_LOG_WARN, "checkpoint of %s block %" PRIu64
						    " not checked: too many waiting",
				       lb_chain_name(s.k.chain), s.k.height);
		}
		pthread_mutex_unlock(&c->mu);
	}
	lb_buf_release(&b);
}

static void recheck_waiting(struct lb_consortium *c, int chain, uint64_t height)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->nwaiting;) {
		struct seen_ckpt *s = &c->waiting[i];
		if (s->k.chain == chain && s->k.height <= height && compare(c, s))
			c->waiting[i] = c->waiting[--c->nwaiting];
		else
			i++;
	}
	pthread_mutex_unlock(&c->mu);
}

static void publish(struct lb_consortium *c, int chain, uint64_t height)
{
	struct lb_checkpoint k = {.chain = (uint8_t)chain, .height = height};
	struct lb_errmsg em;
	lb_errclear(&em);
	uint8_t account[LB_ADDR_LEN];
	key_account(c->ledger, c->addr, account);
	if (!lb_consortium_is_member(c->ledger, account))
		return;
	if (lb_ledger_block_hashes(c->ledger, chain, height, k.block_hash, k.app_hash, &em)) {
		lb_log(LB_LOG_WARN, "checkpoint of %s block %" PRIu64 ": %s", lb_chain_name(chain),
		       height, em.text);
		return;
	}
	struct lb_buf payload, raw;
	lb_buf_init(&payload, LB_TX_PAYLOAD_MAX);
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	struct lb_tx t = {0};
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_BUSINESS;
	t.type = LB_TX_CHECKPOINT;
	uint8_t id[LB_HASH_LEN];
	struct lb_submit_result res;
	int rc = lb_checkpoint_encode(&payload, &k);
	t.payload = payload.data;
	t.payload_len = payload.len;
	/* The node key may also sign txs elsewhere (an operator's CLI): if one takes the nonce
	 * between reading and submitting, sign again with the next one. */
	for (int attempt = 0; !rc; attempt++) {
		if (attempt)
			lb_log(LB_LOG_INFO, "checkpoint of %s block %" PRIu64 ": nonce taken, signing again",
			       lb_chain_name(chain), height);
		t.nonce = lb_ledger_next_nonce(c->ledger, LB_CHAIN_BUSINESS, c->addr);
		lb_buf_reset(&raw);
		if ((rc = lb_tx_build(&raw, &t, lb_ledger_network_id(c->ledger), &c->key, id)))
			break;
		const uint8_t *raws[1] = {raw.data};
		size_t lens[1] = {raw.len};
		if ((rc = lb_ledger_submit(c->ledger, 1, raws, lens, &res)))
			break;
		rc = res.code;
		if (rc != LB_ENONCEUSED || attempt == 2)
			break;
		rc = LB_OK; /* try again with the next nonce */
	}
	if (rc)
		lb_log(LB_LOG_WARN, "checkpoint of %s block %" PRIu64 " not published: %s",
		       lb_chain_name(chain), height, res.code ? res.message : lb_strerror(rc));
	if (!rc) {
		pthread_mutex_lock(&c->mu);
		c->published++;
		c->last_published[chain] = height;
		pthread_mutex_unlock(&c->mu);
		lb_log(LB_LOG_INFO, "checkpoint of %s block %" PRIu64 " published",
		       lb_chain_name(chain), height);
	}
	lb_buf_release(&payload);
	lb_buf_release(&raw);
}

/* ---- removals carried to the settlement and directory chains ------------------------------- */

/* The other chains refuse a removed member's keys once a governance.follow carries the
 * removal there (a chain has only its own state). Every member node sends it by itself when
 * it commits the business block enacting a removal: a governance.removal stating the refused
 * keys, then, once that commits, a governance.follow with its proof anchored in each other
 * chain. Which node's follow-up comes first does not matter: the block holding the first one
 * refuses the keys on every node alike (it is chain state), and a later one writes the same
 * entries again. A job ends when its keys are refused on both chains — also when another
 * node's follow-up did it. */

static const int follow_chains[2] = {LB_CHAIN_SETTLEMENT, LB_CHAIN_DIRECTORY};

/* Every key of the slice already refused on chain? */
static bool slice_refused(struct lb_consortium *c, const struct follow_job *j, int chain,
			  const uint8_t *keys)
{
	struct lb_buf b;
	bool all = true;
	lb_buf_init(&b, 64);
	for (uint64_t i = 0; all && i < j->count; i++)
		all = lb_ledger_state_read(c->ledger, chain, LB_KEYMAP_NS, keys + i * LB_ADDR_LEN,
					   LB_ADDR_LEN, &b, NULL) == LB_OK &&
		      b.len == 1 + LB_ADDR_LEN && b.data[0] == LB_KEYMAP_REMOVED;
	lb_buf_release(&b);
	return all;
}

/* One step of a job; true when it is finished (or can never finish). */
static bool follow_step(struct lb_consortium *c, struct follow_job *j)
{
	char t[LB_ADDR_TEXT_LEN + 1];
	struct lb_buf banned, b;
	struct lb_errmsg em;
	bool done = false;
	uint64_t now = lb_now_ms();
	lb_addr_encode(t, j->member);
	lb_errclear(&em);
	lb_buf_init(&banned, 1 << 16);
	lb_buf_init(&b, LB_TX_MAX_BYTES);
	if (lb_ledger_state_read(c->ledger, LB_CHAIN_BUSINESS, "gov.banned", j->member,
				 LB_ADDR_LEN, &banned, NULL) ||
	    (j->offset + j->count) * LB_ADDR_LEN > banned.len) {
		done = true; /* nothing recorded (cannot happen for an enacted removal) */
		goto out;
	}
	const uint8_t *keys = banned.data + j->offset * LB_ADDR_LEN;
	bool need[2];
	for (int k = 0; k < 2; k++)
		need[k] = !slice_refused(c, j, follow_chains[k], keys);
	if (!need[0] && !need[1]) {
		lb_log(LB_LOG_INFO, "the removal of %s is in force on the settlement and directory "
				    "chains (keys %" PRIu64 "-%" PRIu64 ")",
		       t, j->offset, j->offset + j->count - 1);
		done = true;
		goto out;
	}
	/* the removal statement on the business chain */
	int chain;
	uint8_t *raw = NULL;
	size_t rl = 0;
	bool have = j->removal_ms && lb_ledger_tx_raw(c->ledger, j->removal_id, &chain, &raw, &rl) ==
					     LB_OK;
	if (!have) {
		if (j->removal_ms && now - j->removal_ms < FOLLOW_RETRY_MS)
			goto out; /* not in a block yet */
		struct lb_gov_removal r = {.offset = j->offset, .count = j->count, .keys = keys};
		memcpy(r.member, j->member, LB_ADDR_LEN);
		if (lb_gov_removal_encode(&b, &r) ||
		    lb_ledger_node_submit(c->ledger, LB_CHAIN_BUSINESS, LB_TX_GOV_REMOVAL, b.data,
					  b.len, j->removal_id, &em)) {
			lb_log(LB_LOG_WARN, "carrying the removal of %s: the removal statement was "
					    "refused: %s (trying again)",
			       t, em.text);
		} else {
			lb_log(LB_LOG_INFO, "carrying the removal of %s to the settlement and directory "
					    "chains: removal statement sent",
			       t);
		}
		j->removal_ms = now;
		goto out;
	}
	for (int k = 0; k < 2; k++) {
		if (!need[k] || (j->sent_ms[k] && now - j->sent_ms[k] < FOLLOW_RETRY_MS))
			continue;
		struct lb_buf proof;
		uint8_t id[LB_HASH_LEN];
		int ch = follow_chains[k];
		lb_buf_init(&proof, LB_TX_PAYLOAD_MAX);
		lb_buf_reset(&b);
		lb_errclear(&em);
		int rc = lb_ledger_proof(c->ledger, j->removal_id, ch, &proof, &em);
		if (!rc && !(rc = lb_gov_follow_encode(&b, raw, rl, proof.data, proof.len)))
			rc = lb_ledger_node_submit(c->ledger, ch,
						   ch == LB_CHAIN_SETTLEMENT ? LB_TX_GOV_FOLLOW
									     : LB_TX_GOV_FOLLOW_DIR,
						   b.data, b.len, id, &em);
		lb_buf_release(&proof);
		if (rc == LB_ENOTFOUND)
			continue; /* no anchoring block yet: next round */
		if (rc)
			lb_log(LB_LOG_WARN, "carrying the removal of %s to the %s chain: %s (trying "
					    "again)",
			       t, lb_chain_name(ch), em.text[0] ? em.text : lb_strerror(rc));
		else
			lb_log(LB_LOG_INFO, "carrying the removal of %s: follow-up sent to the %s chain",
			       t, lb_chain_name(ch));
		j->sent_ms[k] = now;
	}
	lb_free(raw);
out:
	lb_buf_release(&banned);
	lb_buf_release(&b);
	return done;
}

static void follow_all(struct lb_consortium *c)
{
	uint8_t account[LB_ADDR_LEN];
	key_account(c->ledger, c->addr, account);
	bool member = lb_consortium_is_member(c->ledger, account);
	pthread_mutex_lock(&c->mu);
	size_t n = c->nfollows;
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < n;) {
		struct follow_job j;
		pthread_mutex_lock(&c->mu);
		j = c->follows[i];
		pthread_mutex_unlock(&c->mu);
		bool done = !member || follow_step(c, &j); /* a removed node sends nothing */
		pthread_mutex_lock(&c->mu);
		if (done) {
			c->follows[i] = c->follows[--c->nfollows];
			n--;
		} else {
			c->follows[i++] = j;
		}
		pthread_mutex_unlock(&c->mu);
	}
}

/* One job per slice of the keys the removal of member refused (gov.banned/<member>). */
static void queue_removal(struct lb_consortium *c, const uint8_t member[LB_ADDR_LEN])
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	if (lb_ledger_state_read(c->ledger, LB_CHAIN_BUSINESS, "gov.banned", member, LB_ADDR_LEN,
				 &b, NULL)) {
		lb_buf_release(&b);
		return;
	}
	uint64_t nk = b.len / LB_ADDR_LEN;
	lb_buf_release(&b);
	pthread_mutex_lock(&c->mu);
	for (uint64_t off = 0; off < nk; off += LB_GOV_REMOVAL_SLICE_MAX) {
		bool dup = false;
		for (size_t k = 0; k < c->nfollows; k++)
			dup |= !memcmp(c->follows[k].member, member, LB_ADDR_LEN) &&
			       c->follows[k].offset == off;
		if (dup)
			continue;
		if (c->nfollows == FOLLOWS_MAX) {
			lb_log(LB_LOG_WARN, "too many removals to carry at once; run `leben governance "
					    "follow-removal` for the rest");
			break;
		}
		struct follow_job *j = &c->follows[c->nfollows++];
		memset(j, 0, sizeof *j);
		memcpy(j->member, member, LB_ADDR_LEN);
		j->offset = off;
		j->count = nk - off < LB_GOV_REMOVAL_SLICE_MAX ? nk - off : LB_GOV_REMOVAL_SLICE_MAX;
	}
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
}

/* The removals a business block enacted: proposals a vote or propose tx of the cut passed at
 * this height; queue their jobs. */
static void scan_removals(struct lb_consortium *c, const struct lb_cut *cut, uint64_t height)
{
	struct gov_prop *p = NULL;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	for (size_t i = 0; i < cut->n; i++) {
		struct lb_tx tx;
		struct lb_gov_vote v;
		const uint8_t *id;
		if (lb_tx_decode(&tx, cut->raws[i], cut->lens[i], NULL) ||
		    tx.chain != LB_CHAIN_BUSINESS)
			continue;
		if (tx.type == LB_TX_GOV_PROPOSE)
			id = tx.id;
		else if (tx.type == LB_TX_GOV_VOTE &&
			 !lb_gov_vote_decode(&v, tx.payload, tx.payload_len, NULL))
			id = v.proposal;
		else
			continue;
		if (!p && !(p = lb_malloc(sizeof *p)))
			break;
		if (lb_ledger_state_read(c->ledger, LB_CHAIN_BUSINESS, "gov.prop", id, LB_HASH_LEN,
					 &b, NULL) ||
		    gov_prop_decode(p, b.data, b.len) || p->status != LB_GOV_PASSED ||
		    p->decided != height ||
		    (p->p.action != LB_GOV_REMOVE && p->p.action != LB_GOV_REMOVE_TO))
			continue;
		queue_removal(c, p->p.member);
	}
	lb_free(p);
	lb_buf_release(&b);
}

/* At start: the removals recorded before (gov/removed) that a chain still does not refuse
 * (this node may have gone down before carrying them); the first step of each job drops it
 * when both chains refuse its keys already. */
static void queue_earlier_removals(struct lb_consortium *c)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	if (lb_ledger_state_read(c->ledger, LB_CHAIN_BUSINESS, "gov", "removed", 7, &b, NULL) ==
	    LB_OK)
		for (size_t i = 0; i + LB_ADDR_LEN <= b.len; i += LB_ADDR_LEN) {
			struct lb_buf f;
			bool both = true;
			lb_buf_init(&f, 16);
			for (int k = 0; k < 2; k++)
				both &= lb_ledger_state_read(c->ledger, follow_chains[k], "gov.followed",
							     b.data + i, LB_ADDR_LEN, &f, NULL) == LB_OK;
			lb_buf_release(&f);
			if (!both)
				queue_removal(c, b.data + i);
		}
	lb_buf_release(&b);
}

void lb_consortium_after_commit(struct lb_consortium *c, const struct lb_cut *cut,
				uint64_t height)
{
	if (!c || !cut)
		return;
	if (cut->chain == LB_CHAIN_BUSINESS) {
		scan_cut(c, cut, height);
		scan_removals(c, cut, height);
	}
	pthread_mutex_lock(&c->mu);
	size_t waiting = c->nwaiting;
	pthread_mutex_unlock(&c->mu);
	if (waiting)
		recheck_waiting(c, cut->chain, height);
	if (c->interval && height % c->interval == 0) {
		pthread_mutex_lock(&c->mu);
		if (c->ntodo < TODO_MAX) {
			c->todo[c->ntodo].chain = cut->chain;
			c->todo[c->ntodo++].height = height;
			pthread_cond_signal(&c->cond);
		} else {
			lb_log(LB_LOG_WARN, "checkpoint of %s block %" PRIu64
					    " skipped: the publisher is behind",
			       lb_chain_name(cut->chain), height);
		}
		pthread_mutex_unlock(&c->mu);
	}
}

size_t lb_consortium_alarm_count(struct lb_consortium *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->nalarms;
	pthread_mutex_unlock(&c->mu);
	return n;
}

json_t *lb_consortium_status_json(struct lb_consortium *c)
{
	char name[LB_MEMBER_NAME_MAX + 1];
	uint8_t account[LB_ADDR_LEN];
	key_account(c->ledger, c->addr, account);
	bool member = lb_consortium_member_name(c->ledger, account, name);
	json_t *alarms = json_array(), *last = json_object();
	pthread_mutex_lock(&c->mu);
	size_t first = c->nalarms > ALARMS_MAX ? c->nalarms - ALARMS_MAX : 0;
	for (size_t i = first; i < c->nalarms; i++) {
		const struct alarm *a = &c->alarms[i % ALARMS_MAX];
		char msg[400], addr[LB_ADDR_TEXT_LEN + 1];
		lb_addr_encode(addr, a->c.member);
		snprintf(msg, sizeof msg,
			 "member '%s' (%s) signed %s block %" PRIu64
			 " with hashes that differ from this node's block",
			 a->c.name, addr, lb_chain_name(a->c.k.chain), a->c.k.height);
		json_array_append_new(
			alarms,
			json_pack("{s:s,s:s,s:o,s:s,s:I,s:o,s:o,s:o,s:o,s:I,s:I}", "message", msg,
				  "member_name", a->c.name, "member", gov_addr_json(a->c.member),
				  "chain", lb_chain_name(a->c.k.chain), "height",
				  (json_int_t)a->c.k.height, "their_block_hash",
				  gov_hex_json(a->c.k.block_hash, LB_HASH_LEN), "their_app_hash",
				  gov_hex_json(a->c.k.app_hash, LB_HASH_LEN), "own_block_hash",
				  gov_hex_json(a->own_hash, LB_HASH_LEN), "own_app_hash",
				  gov_hex_json(a->own_app, LB_HASH_LEN), "recorded_at",
				  (json_int_t)a->c.recorded_at, "time_ms", (json_int_t)a->time_ms));
	}
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		json_object_set_new(last, lb_chain_name(i),
				    json_integer((json_int_t)c->last_published[i]));
	json_t *o = json_pack("{s:b,s:s,s:o,s:I,s:I,s:I,s:I,s:o,s:I,s:o}", "member", member,
			      "member_name", name, "node_address", gov_addr_json(c->addr),
			      "checkpoint_interval", (json_int_t)c->interval, "published",
			      (json_int_t)c->published, "checked", (json_int_t)c->checked,
			      "waiting", (json_int_t)c->nwaiting, "last_published", last,
			      "alarm_count", (json_int_t)c->nalarms, "alarms", alarms);
	if (o && memcmp(account, c->addr, LB_ADDR_LEN))
		json_object_set_new(o, "member_address", gov_addr_json(account));
	pthread_mutex_unlock(&c->mu);
	return o;
}

/* ---- offline check ------------------------------------------------------------------------------ */

static int hex32(json_t *j, uint8_t out[LB_HASH_LEN])
{
	return json_is_string(j) ? lb_hex_decode(out, LB_HASH_LEN, json_string_value(j))
				 : LB_EMALFORMED;
}

int lb_consortium_verify_home(const char *home, uint64_t *checked, struct lb_errmsg *em)
{
	struct lb_ledger_options lo;
	struct lb_ledger *l;
	int rc;
	*checked = 0;
	lb_ledger_options_init(&lo);
	lo.home = home;
	if ((rc = lb_ledger_open(&l, &lo, NULL, em)))
		return rc;
	rc = lb_consortium_verify_ledger(l, checked, em);
	lb_ledger_close(l);
	return rc;
}

int lb_consortium_verify_ledger(struct lb_ledger *l, uint64_t *checked, struct lb_errmsg *em)
{
	int rc = LB_OK;
	*checked = 0;
	uint64_t top = lb_ledger_height(l, LB_CHAIN_BUSINESS);
	for (uint64_t h = 1; h <= top && !rc; h++) {
		json_t *blk, *t;
		size_t i;
		if ((rc = lb_ledger_block_json(l, LB_CHAIN_BUSINESS, h, &blk, em)))
			break;
		json_array_foreach(json_object_get(blk, "txs"), i, t)
		{
			const char *type = json_string_value(json_object_get(t, "type"));
			json_t *p = json_object_get(t, "payload");
			if (!type || strcmp(type, "checkpoint") || !json_is_true(json_object_get(t, "valid")))
				continue;
			int chain = lb_chain_parse(json_string_value(json_object_get(p, "chain")));
			json_t *jh = json_object_get(p, "height");
			uint8_t theirs[LB_HASH_LEN], tapp[LB_HASH_LEN], ours[LB_HASH_LEN],
				oapp[LB_HASH_LEN], member[LB_ADDR_LEN];
			const char *sender = json_string_value(json_object_get(t, "sender"));
			if (chain < 0 || !json_is_integer(jh) || hex32(json_object_get(p, "block_hash"), theirs) ||
			    hex32(json_object_get(p, "app_hash"), tapp) || !sender ||
			    lb_addr_decode(member, sender, NULL)) {
				rc = lb_errf(em, LB_ECORRUPT,
					     "business block %" PRIu64 ", tx %zu: checkpoint cannot be read",
					     h, i);
				break;
			}
			uint64_t height = (uint64_t)json_integer_value(jh);
			/* A member may checkpoint a block this home does not have yet (its chain
			 * lags): nothing to compare it with. */
			if (height > lb_ledger_height(l, chain))
				continue;
			if ((rc = lb_ledger_block_hashes(l, chain, height, ours, oapp, NULL))) {
				rc = lb_errf(em, LB_ECORRUPT,
					     "business block %" PRIu64 ": member %s checkpointed %s block "
					     "%" PRIu64 ", which this chain does not have",
					     h, sender, lb_chain_name(chain), height);
				break;
			}
			if (memcmp(ours, theirs, LB_HASH_LEN) || memcmp(oapp, tapp, LB_HASH_LEN)) {
				char name[LB_MEMBER_NAME_MAX + 1] = "";
				lb_consortium_member_name(l, member, name);
				rc = lb_errf(em, LB_ECORRUPT,
					     "checkpoint mismatch: member '%s' (%s) signed %s block "
					     "%" PRIu64 " (recorded in business block %" PRIu64
					     ") with a %s that differs from the replayed chain",
					     name[0] ? name : "no longer a member", sender,
					     lb_chain_name(chain), height, h,
					     memcmp(ours, theirs, LB_HASH_LEN) ? "block hash"
									       : "app hash");
				break;
			}
			(*checked)++;
		}
		json_decref(blk);
	}
	return rc;
}
