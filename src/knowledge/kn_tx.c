/*
 * Business-chain tx handlers for knowledge contracts. `contract.publish` stores a contract
 * under its hash after re-running the verifier on the canonical source (a publication is
 * refused unless the verifier passes within the default bounds, and the report it yields
 * hashes to the one the author signed); `contract.session` anchors a session's events —
 * start, answers' salted hashes, committed decisions, completion with the trace hash — in
 * order, for published contracts only. No patient data reaches the chain. Also the read-only
 * JSON views the API serves. The only file of knowledge/ that knows the ledger.
 */
#include <stdio.h>
#include <string.h>

#include "knowledge/kn_int.h"
#include "leben/codec.h"
#include "leben/knowledge_chain.h"

/* State namespaces (business chain). Keys and values are described in
 * docs/knowledge-language.md, "On the chain". */
#define NS_CONTRACT "kn.contract" /* hash -> contract record */
#define NS_SOURCE "kn.source"     /* hash -> canonical source */
#define NS_VERSION "kn.version"   /* author || root name -> latest version */
#define NS_DECISION "kn.decision" /* hash || decision name -> multiple u8, candidate names */
#define NS_USAGE "kn.usage"       /* hash -> sessions started (for author earnings later) */
#define NS_CLIST "kn.clist"       /* index (8 bytes BE) -> contract hash, publication order */
#define NS_COUNT "kn.count"       /* "contracts" | "sessions" -> how many */
#define NS_SESSION "kn.session"   /* session id -> session record */
#define NS_SLIST "kn.slist"       /* index (8 bytes BE) -> session id, start order */
#define NS_CSESS "kn.csess"       /* hash || index (8 bytes BE) -> session id */
#define NS_EVENT "kn.event"       /* session id || seq (8 bytes BE) -> height, tx id, payload */

#define HEX32 (2 * 32 + 1)

enum { SESSION_OPEN = 1, SESSION_COMPLETE = 2 };

/* A published contract as stored under NS_CONTRACT. */
struct contract_rec {
	uint8_t author[LB_ADDR_LEN]; /* address of the publishing account */
	uint64_t version;            /* 1 + earlier publications by the author of this root name */
	uint64_t height;             /* block of publication */
	uint64_t time_ms;            /* its time */
	uint8_t report[32];          /* verification report hash */
	uint64_t source_len;         /* bytes of canonical source */
	char name[LB_KN_NAME_MAX];   /* root plan name */
	uint8_t rules;               /* LB_KN_RULES_PROFORMAJS for a PROformajs publication (a
					trailing byte, absent from LEBEN-rules records) */
};

/* An anchored session as stored under NS_SESSION. */
struct session_rec {
	uint8_t contract[32];        /* contract hash */
	uint8_t owner[LB_ADDR_LEN];  /* account that started it: only it may add events */
	uint64_t height;             /* block of the start event */
	uint64_t time_ms;            /* its time */
	uint64_t next_seq;           /* sequence number the next event must carry */
	uint8_t status;              /* SESSION_OPEN / SESSION_COMPLETE */
	uint64_t answers;            /* answer events */
	uint64_t decisions;          /* decision events */
	uint8_t trace[32];           /* trace hash once complete, else zero */
};

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int contract_put(struct lb_state *s, const uint8_t hash[32], const struct contract_rec *r)
{
	uint8_t tmp[512];
	struct lb_buf b = { .data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp };
	int rc;
	if ((rc = lb_enc_fixed(&b, r->author, LB_ADDR_LEN)) || (rc = lb_enc_uvar(&b, r->version)) ||
	    (rc = lb_enc_uvar(&b, r->height)) || (rc = lb_enc_uvar(&b, r->time_ms)) ||
	    (rc = lb_enc_fixed(&b, r->report, 32)) || (rc = lb_enc_uvar(&b, r->source_len)) ||
	    (rc = lb_enc_str(&b, r->name)) ||
	    (r->rules == LB_KN_RULES_PROFORMAJS && (rc = lb_enc_u8(&b, r->rules))))
		return rc;
	return lb_state_put(s, NS_CONTRACT, hash, 32, b.data, b.len);
}

/* LB_ENOTFOUND if absent, LB_ECORRUPT if unreadable. */
static int contract_get(struct lb_state *s, const uint8_t hash[32], struct contract_rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, NS_CONTRACT, hash, 32, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "contract record", NULL);
	if (lb_dec_fixed(&d, "author", r->author, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "version", UINT64_MAX, &r->version) ||
	    lb_dec_uvar(&d, "height", UINT64_MAX, &r->height) ||
	    lb_dec_uvar(&d, "time", UINT64_MAX, &r->time_ms) ||
	    lb_dec_fixed(&d, "report", r->report, 32) ||
	    lb_dec_uvar(&d, "source_len", UINT64_MAX, &r->source_len) ||
	    lb_dec_str(&d, "name", LB_KN_NAME_MAX - 1, r->name, sizeof r->name))
		return LB_ECORRUPT;
	r->rules = LB_KN_RULES_LEBEN;
	if (d.len > d.pos && (lb_dec_u8(&d, "rules", &r->rules) ||
			      r->rules != LB_KN_RULES_PROFORMAJS))
		return LB_ECORRUPT;
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

static int session_put(struct lb_state *s, const uint8_t id[32], const struct session_rec *r)
{
	uint8_t tmp[256];
	struct lb_buf b = { .data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp };
	int rc;
	if ((rc = lb_enc_fixed(&b, r->contract, 32)) || (rc = lb_enc_fixed(&b, r->owner, LB_ADDR_LEN)) ||
	    (rc = lb_enc_uvar(&b, r->height)) || (rc = lb_enc_uvar(&b, r->time_ms)) ||
	    (rc = lb_enc_uvar(&b, r->next_seq)) || (rc = lb_enc_u8(&b, r->status)) ||
	    (rc = lb_enc_uvar(&b, r->answers)) || (rc = lb_enc_uvar(&b, r->decisions)) ||
	    (rc = lb_enc_fixed(&b, r->trace, 32)))
		return rc;
	return lb_state_put(s, NS_SESSION, id, 32, b.data, b.len);
}

static int session_get(struct lb_state *s, const uint8_t id[32], struct session_rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, NS_SESSION, id, 32, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "session record", NULL);
	if (lb_dec_fixed(&d, "contract", r->contract, 32) ||
	    lb_dec_fixed(&d, "owner", r->owner, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "height", UINT64_MAX, &r->height) ||
	    lb_dec_uvar(&d, "time", UINT64_MAX, &r->time_ms) ||
	    lb_dec_uvar(&d, "next_seq", UINT64_MAX, &r->next_seq) ||
	    lb_dec_u8(&d, "status", &r->status) || lb_dec_uvar(&d, "answers", UINT64_MAX, &r->answers) ||
	    lb_dec_uvar(&d, "decisions", UINT64_MAX, &r->decisions) ||
	    lb_dec_fixed(&d, "trace", r->trace, 32) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

/* Append key (8-byte index) -> val to a list namespace whose length is NS_COUNT[counter]. */
static int list_append(struct lb_state *s, const char *ns, const uint8_t *prefix, size_t plen,
		       uint64_t index, const uint8_t val[32])
{
	uint8_t key[32 + 8];
	if (plen > 0)
		memcpy(key, prefix, plen);
	be64(key + plen, index);
	return lb_state_put(s, ns, key, plen + 8, val, 32);
}

static int count_bump(struct lb_state *s, const char *what, uint64_t *was)
{
	int rc = lb_state_get_u64(s, NS_COUNT, what, strlen(what), 0, was);
	return rc ? rc : lb_state_put_u64(s, NS_COUNT, what, strlen(what), *was + 1);
}

int lb_kn_state_contract(struct lb_state *s, const uint8_t hash[32], uint8_t author[LB_ADDR_LEN],
			 uint64_t *version, char *name, size_t namesz)
{
	struct contract_rec r;
	int rc = contract_get(s, hash, &r);
	if (rc)
		return rc;
	memcpy(author, r.author, LB_ADDR_LEN);
	*version = r.version;
	snprintf(name, namesz, "%s", r.name);
	return LB_OK;
}

int lb_kn_state_session(struct lb_state *s, const uint8_t id[32], uint8_t contract[32],
			uint8_t owner[LB_ADDR_LEN], bool *complete)
{
	struct session_rec r;
	int rc = session_get(s, id, &r);
	if (rc)
		return rc;
	memcpy(contract, r.contract, 32);
	memcpy(owner, r.owner, LB_ADDR_LEN);
	*complete = r.status == SESSION_COMPLETE;
	return LB_OK;
}

int lb_kn_state_session_committed(struct lb_state *s, const uint8_t id[32], const char *cand,
				  bool *found, char *decision)
{
	struct session_rec r;
	int rc = session_get(s, id, &r);
	*found = false;
	if (rc)
		return rc;
	for (uint64_t seq = 0; seq < r.next_seq && !*found; seq++) {
		uint8_t key[32 + 8];
		const uint8_t *v, *pl;
		size_t n, pn;
		uint64_t h;
		uint8_t txid[32];
		struct lb_kn_session_payload p;
		memcpy(key, id, 32);
		be64(key + 32, seq);
		if ((rc = lb_state_get(s, NS_EVENT, key, sizeof key, &v, &n)))
			return rc == LB_ENOTFOUND ? LB_ECORRUPT : rc;
		struct lb_dec d;
		lb_dec_init(&d, v, n, "session event", NULL);
		if (lb_dec_uvar(&d, "height", UINT64_MAX, &h) || lb_dec_fixed(&d, "tx", txid, 32) ||
		    lb_dec_bytes(&d, "payload", LB_TX_PAYLOAD_MAX, &pl, &pn) ||
		    lb_kn_session_payload_decode(pl, pn, &p, NULL))
			return LB_ECORRUPT;
		if (p.kind != LB_KN_EV_DECISION)
			continue;
		for (uint32_t i = 0; i < p.ncands; i++)
			if (!strcmp(p.cands[i], cand)) {
				*found = true;
				snprintf(decision, LB_KN_NAME_MAX, "%s", p.decision);
			}
	}
	return LB_OK;
}

/* ---- contract.publish ------------------------------------------------------------------- */

static int check_publish(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_kn_publish_payload p;
	return lb_kn_publish_payload_decode(tx->payload, tx->payload_len, &p, em);
}

/* Record every decision of m: its choice mode and candidate names, so that session events can
 * be checked without parsing the contract again. */
static int store_decisions(struct lb_state *s, const uint8_t hash[32], const struct lb_kn_model *m)
{
	uint8_t key[32 + LB_KN_NAME_MAX];
	memcpy(key, hash, 32);
	for (size_t i = 0; i < m->ntasks; i++) {
		const struct kn_task *t = m->tasks[i];
		if (t->cls != KN_DECISION)
			continue;
		size_t nl = strlen(t->name);
		if (nl >= LB_KN_NAME_MAX)
			continue; /* no session event can name it (refused by the payload check) */
		memcpy(key + 32, t->name, nl);
		struct lb_buf b;
		lb_buf_init(&b, 1u << 20);
		int rc = lb_enc_u8(&b, t->multiple ? 1 : 0);
		for (size_t k = 0; rc == LB_OK && k < t->ncands; k++)
			rc = lb_enc_str(&b, t->cands[k].name);
		if (rc == LB_OK)
			rc = lb_state_put(s, NS_DECISION, key, 32 + nl, b.data, b.len);
		lb_buf_release(&b);
		if (rc)
			return rc;
	}
	return LB_OK;
}

static int apply_publish(struct lb_apply_ctx *c)
{
	struct lb_kn_publish_payload p;
	struct contract_rec r;
	char hex[HEX32];
	int rc = lb_kn_publish_payload_decode(c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	lb_hex_encode(hex, p.source_hash, 32);
	rc = contract_get(c->state, p.source_hash, &r);
	if (rc == LB_OK) {
		char who[LB_ADDR_TEXT_LEN + 1];
		lb_addr_encode(who, r.author);
		return lb_errf(c->em, LB_EEXISTS,
			       "contract %s ('%s') is already published (version %llu by %s, block "
			       "%llu); sessions can use it as it is",
			       hex, r.name, (unsigned long long)r.version, who,
			       (unsigned long long)r.height);
	}
	if (rc != LB_ENOTFOUND)
		return lb_errf(c->em, rc, "reading contract %s failed", hex);
	/* The expensive part, deterministic: parse, canonical form, hash, verifier run within
	 * the default bounds, report hash. */
	struct lb_kn_model *m = NULL;
	if ((rc = kn_publish_verify(p.source, p.source_len, p.rules, p.max_states, p.source_hash,
				    p.report_hash, &m, c->em)))
		return rc;
	memset(&r, 0, sizeof r);
	memcpy(r.author, c->sender_addr, LB_ADDR_LEN);
	memcpy(r.report, p.report_hash, 32);
	r.height = c->height;
	r.time_ms = c->time_ms;
	r.source_len = p.source_len;
	r.rules = p.rules == LB_KN_RULES_PROFORMAJS ? LB_KN_RULES_PROFORMAJS : LB_KN_RULES_LEBEN;
	snprintf(r.name, sizeof r.name, "%s", m->root->name);
	uint8_t vkey[LB_ADDR_LEN + LB_KN_NAME_MAX];
	size_t nl = strlen(r.name);
	memcpy(vkey, r.author, LB_ADDR_LEN);
	memcpy(vkey + LB_ADDR_LEN, r.name, nl);
	uint64_t n;
	if ((rc = lb_state_get_u64(c->state, NS_VERSION, vkey, LB_ADDR_LEN + nl, 0, &r.version)) ||
	    (rc = lb_state_put_u64(c->state, NS_VERSION, vkey, LB_ADDR_LEN + nl, ++r.version)) ||
	    (rc = contract_put(c->state, p.source_hash, &r)) ||
	    (rc = lb_state_put(c->state, NS_SOURCE, p.source_hash, 32, p.source, p.source_len)) ||
	    (rc = store_decisions(c->state, p.source_hash, m)) ||
	    (rc = count_bump(c->state, "contracts", &n)) ||
	    (rc = list_append(c->state, NS_CLIST, NULL, 0, n, p.source_hash)))
		rc = lb_errf(c->em, rc, "storing contract %s failed: %s", hex, lb_strerror(rc));
	lb_kn_model_free(m);
	return rc;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];
	if (n > 64)
		return json_null();
	lb_hex_encode(h, p, n);
	return json_string(h);
}

static json_t *addr_json(const uint8_t a[LB_ADDR_LEN])
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, a);
	return json_string(t);
}

static json_t *json_publish(const struct lb_tx *tx)
{
	struct lb_kn_publish_payload p;
	if (lb_kn_publish_payload_decode(tx->payload, tx->payload_len, &p, NULL))
		return NULL;
	json_t *o = json_pack("{s:o,s:o,s:I,s:s}", "contract", hex_json(p.source_hash, 32),
			      "report_hash", hex_json(p.report_hash, 32), "source_bytes",
			      (json_int_t)p.source_len, "rules",
			      p.rules == LB_KN_RULES_PROFORMAJS ? "proformajs" : "leben");
	if (o != NULL && p.rules == LB_KN_RULES_PROFORMAJS) /* version 2: 1000 */
		json_object_set_new(o, "max_states", json_integer(p.max_states ? p.max_states : 1000));
	return o;
}

/* ---- contract.session ------------------------------------------------------------------- */

static const char *const event_names[] = { "?", "start", "answer", "decision", "complete" };

static int check_session(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_kn_session_payload p;
	return lb_kn_session_payload_decode(tx->payload, tx->payload_len, &p, em);
}

/* The decision's candidates must be candidates of that decision of the contract, exactly one
 * for a single-choice decision of a contract under LEBEN's rules. */
static int check_decision(struct lb_apply_ctx *c, const struct lb_kn_session_payload *p)
{
	uint8_t key[32 + LB_KN_NAME_MAX];
	size_t nl = strlen(p->decision);
	const uint8_t *v;
	size_t n;
	/* a contract run with the PROformajs rules: any number of candidates may be confirmed
	 * there (none included); read before the decision record (whose bytes the next state
	 * read may reuse) */
	struct contract_rec k;
	bool pjs = contract_get(c->state, p->contract, &k) == LB_OK &&
		   k.rules == LB_KN_RULES_PROFORMAJS;
	memcpy(key, p->contract, 32);
	memcpy(key + 32, p->decision, nl);
	int rc = lb_state_get(c->state, NS_DECISION, key, 32 + nl, &v, &n);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND, "the contract has no decision '%s'", p->decision);
	if (rc)
		return rc;
	struct lb_dec d;
	uint8_t multiple;
	lb_dec_init(&d, v, n, "decision record", NULL);
	if (lb_dec_u8(&d, "multiple", &multiple))
		return LB_ECORRUPT;
	if (!multiple && !pjs && p->ncands != 1)
		return lb_errf(c->em, LB_EINVALID,
			       "decision '%s' is single-choice: commit exactly one candidate, not %u",
			       p->decision, p->ncands);
	/* names in the record, in the model's order; p->cands is sorted and distinct */
	bool found[LB_KN_EV_MAX_CANDS] = { false };
	char name[LB_KN_NAME_MAX];
	while (d.len > d.pos) {
		if (lb_dec_str(&d, "candidate", LB_KN_NAME_MAX - 1, name, sizeof name))
			return LB_ECORRUPT;
		for (uint32_t i = 0; i < p->ncands; i++)
			if (!strcmp(name, p->cands[i]))
				found[i] = true;
	}
	for (uint32_t i = 0; i < p->ncands; i++)
		if (!found[i])
			return lb_errf(c->em, LB_EINVALID, "'%s' is not a candidate of decision '%s'",
				       p->cands[i], p->decision);
	return LB_OK;
}

static int apply_session(struct lb_apply_ctx *c)
{
	struct lb_kn_session_payload p;
	struct session_rec r;
	char sid[HEX32], cid[HEX32];
	int rc = lb_kn_session_payload_decode(c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	lb_hex_encode(sid, p.session, 32);
	lb_hex_encode(cid, p.contract, 32);
	rc = session_get(c->state, p.session, &r);
	if (rc != LB_OK && rc != LB_ENOTFOUND)
		return lb_errf(c->em, rc, "reading session %s failed", sid);
	if (p.kind == LB_KN_EV_START) {
		struct contract_rec k;
		if (rc == LB_OK)
			return lb_errf(c->em, LB_EEXISTS,
				       "session %s was already started (block %llu); choose a new "
				       "session id",
				       sid, (unsigned long long)r.height);
		rc = contract_get(c->state, p.contract, &k);
		if (rc == LB_ENOTFOUND)
			return lb_errf(c->em, LB_ENOTFOUND,
				       "contract %s is not published on this chain: publish it first "
				       "(leben contract publish FILE)",
				       cid);
		if (rc)
			return lb_errf(c->em, rc, "reading contract %s failed", cid);
		memset(&r, 0, sizeof r);
		memcpy(r.contract, p.contract, 32);
		memcpy(r.owner, c->sender_addr, LB_ADDR_LEN);
		r.height = c->height;
		r.time_ms = c->time_ms;
		r.status = SESSION_OPEN;
		uint64_t usage, n;
		if ((rc = lb_state_get_u64(c->state, NS_USAGE, p.contract, 32, 0, &usage)) ||
		    (rc = lb_state_put_u64(c->state, NS_USAGE, p.contract, 32, usage + 1)) ||
		    (rc = list_append(c->state, NS_CSESS, p.contract, 32, usage, p.session)) ||
		    (rc = count_bump(c->state, "sessions", &n)) ||
		    (rc = list_append(c->state, NS_SLIST, NULL, 0, n, p.session)))
			return rc;
	} else {
		if (rc == LB_ENOTFOUND)
			return lb_errf(c->em, LB_ENOTFOUND,
				       "session %s was never started: its first event must be the "
				       "start (event 0)",
				       sid);
		if (memcmp(r.owner, c->sender_addr, LB_ADDR_LEN)) {
			char who[LB_ADDR_TEXT_LEN + 1];
			lb_addr_encode(who, r.owner);
			return lb_errf(c->em, LB_EUNAUTH,
				       "session %s belongs to %s: only the account that started it "
				       "may anchor its events",
				       sid, who);
		}
		if (memcmp(r.contract, p.contract, 32))
			return lb_errf(c->em, LB_EINVALID,
				       "session %s runs another contract than %s", sid, cid);
		if (r.status != SESSION_OPEN)
			return lb_errf(c->em, LB_EINVALID,
				       "session %s is complete: no event can follow its completion",
				       sid);
		if (p.kind == LB_KN_EV_DECISION && (rc = check_decision(c, &p)))
			return rc;
		r.answers += p.kind == LB_KN_EV_ANSWER;
		r.decisions += p.kind == LB_KN_EV_DECISION;
		if (p.kind == LB_KN_EV_COMPLETE) {
			r.status = SESSION_COMPLETE;
			memcpy(r.trace, p.digest, 32);
		}
	}
	if (p.seq != r.next_seq)
		return lb_errf(c->em, LB_EINVALID,
			       "event %llu of session %s is out of order: the next event is %llu",
			       (unsigned long long)p.seq, sid, (unsigned long long)r.next_seq);
	r.next_seq++;
	/* the event: height, tx id, payload */
	uint8_t key[32 + 8];
	memcpy(key, p.session, 32);
	be64(key + 32, p.seq);
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX + 64);
	if ((rc = lb_enc_uvar(&b, c->height)) || (rc = lb_enc_fixed(&b, c->tx->id, 32)) ||
	    (rc = lb_enc_bytes(&b, c->tx->payload, c->tx->payload_len)) ||
	    (rc = lb_state_put(c->state, NS_EVENT, key, sizeof key, b.data, b.len)))
		goto out;
	rc = session_put(c->state, p.session, &r);
out:
	lb_buf_release(&b);
	return rc;
}

static json_t *session_payload_json(const struct lb_kn_session_payload *p)
{
	json_t *o = json_pack("{s:s,s:o,s:o,s:I}", "event", event_names[p->kind], "contract",
			      hex_json(p->contract, 32), "session", hex_json(p->session, 32), "seq",
			      (json_int_t)p->seq);
	if (!o)
		return NULL;
	if (p->kind == LB_KN_EV_ANSWER || p->kind == LB_KN_EV_COMPLETE)
		json_object_set_new(o, p->kind == LB_KN_EV_ANSWER ? "answer_hash" : "trace_hash",
				    hex_json(p->digest, 32));
	if (p->kind == LB_KN_EV_DECISION) {
		json_t *a = json_array();
		for (uint32_t i = 0; i < p->ncands; i++)
			json_array_append_new(a, json_string(p->cands[i]));
		json_object_set_new(o, "decision", json_string(p->decision));
		json_object_set_new(o, "candidates", a);
	}
	return o;
}

static json_t *json_session(const struct lb_tx *tx)
{
	struct lb_kn_session_payload p;
	if (lb_kn_session_payload_decode(tx->payload, tx->payload_len, &p, NULL))
		return NULL;
	return session_payload_json(&p);
}

static const struct lb_txtype kn_types[] = {
	{ LB_TX_CONTRACT_PUBLISH, LB_CHAIN_BUSINESS, "contract.publish", check_publish,
	  apply_publish, json_publish, true },
	{ LB_TX_CONTRACT_SESSION, LB_CHAIN_BUSINESS, "contract.session", check_session,
	  apply_session, json_session, true },
};

/* Neither type is marked block-independent (lb_txtype_mark_block_independent): a contract
 * records the height and time of its publication, a session its start and each event the
 * height of its block. */
int lb_knowledge_register_txtypes(void)
{
	return lb_txtype_register_rows(kn_types, sizeof kn_types / sizeof kn_types[0], false);
}

/* ---- read-only views ---------------------------------------------------------------------- */

struct view {
	const uint8_t *id;      /* contract hash or session id asked for, or NULL */
	size_t offset, limit;   /* page of a list */
	json_t *out;            /* result */
	struct lb_errmsg *em;
};

static json_t *contract_json(struct lb_state *s, const uint8_t hash[32], const struct contract_rec *r)
{
	uint64_t usage = 0;
	lb_state_get_u64(s, NS_USAGE, hash, 32, 0, &usage);
	return json_pack("{s:o,s:s,s:s,s:o,s:I,s:I,s:I,s:o,s:I,s:I}", "hash", hex_json(hash, 32),
			 "name", r->name, "rules",
			 r->rules == LB_KN_RULES_PROFORMAJS ? "proformajs" : "leben", "author", addr_json(r->author), "version",
			 (json_int_t)r->version, "height", (json_int_t)r->height, "time_ms",
			 (json_int_t)r->time_ms, "report_hash", hex_json(r->report, 32),
			 "source_bytes", (json_int_t)r->source_len, "sessions", (json_int_t)usage);
}

static json_t *session_json(const uint8_t id[32], const struct session_rec *r)
{
	bool done = r->status == SESSION_COMPLETE;
	return json_pack("{s:o,s:o,s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "id", hex_json(id, 32),
			 "contract", hex_json(r->contract, 32), "owner", addr_json(r->owner),
			 "status", done ? "complete" : "open", "events", (json_int_t)r->next_seq,
			 "answers", (json_int_t)r->answers, "decisions", (json_int_t)r->decisions,
			 "height", (json_int_t)r->height, "time_ms", (json_int_t)r->time_ms,
			 "trace_hash", done ? hex_json(r->trace, 32) : json_null());
}

/* Page through a list namespace: count under NS_COUNT[what] (or, per contract, its usage),
 * ids under ns (prefix || index). */
static int list_page(struct lb_state *s, struct view *v, const char *ns, const uint8_t *prefix,
		     uint64_t total, const char *field,
		     json_t *(*item)(struct lb_state *s, const uint8_t id[32], struct view *v))
{
	json_t *arr = json_array();
	size_t limit = v->limit ? v->limit : 100;
	for (uint64_t i = v->offset; i < total && json_array_size(arr) < limit; i++) {
		uint8_t key[32 + 8], id[32];
		size_t plen = prefix ? 32 : 0;
		const uint8_t *val;
		size_t n;
		if (prefix)
			memcpy(key, prefix, 32);
		be64(key + plen, i);
		if (lb_state_get(s, ns, key, plen + 8, &val, &n) || n != 32) {
			json_decref(arr);
			return lb_errf(v->em, LB_ECORRUPT, "knowledge index %s entry %llu is missing",
				       ns, (unsigned long long)i);
		}
		memcpy(id, val, 32);
		json_t *j = item(s, id, v);
		if (!j) {
			json_decref(arr);
			return v->em ? v->em->code : LB_ECORRUPT;
		}
		json_array_append_new(arr, j);
	}
	v->out = json_pack("{s:I,s:o}", "total", (json_int_t)total, field, arr);
	return v->out ? LB_OK : lb_errf(v->em, LB_ENOMEM, "out of memory");
}

static json_t *contract_item(struct lb_state *s, const uint8_t id[32], struct view *v)
{
	struct contract_rec r;
	if (contract_get(s, id, &r)) {
		lb_errf(v->em, LB_ECORRUPT, "a listed contract cannot be read");
		return NULL;
	}
	return contract_json(s, id, &r);
}

static json_t *session_item(struct lb_state *s, const uint8_t id[32], struct view *v)
{
	struct session_rec r;
	if (session_get(s, id, &r)) {
		lb_errf(v->em, LB_ECORRUPT, "a listed session cannot be read");
		return NULL;
	}
	return session_json(id, &r);
}

/* Run view fn over the business chain's state; its result (or NULL) into *out. */
static int run_view(struct lb_ledger *l, int (*fn)(struct lb_state *s, void *ctx), struct view *v,
		    json_t **out)
{
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, fn, v);
	*out = v->out;
	return rc;
}

/* The record of published contract id, else a refusal naming it in v->em. */
static int view_need_contract(struct lb_state *s, struct view *v, const uint8_t id[32],
			      struct contract_rec *r)
{
	char hex[HEX32];
	int rc = contract_get(s, id, r);
	if (rc == LB_OK)
		return LB_OK;
	lb_hex_encode(hex, id, 32);
	if (rc == LB_ENOTFOUND)
		return lb_errf(v->em, rc, "contract %s is not published on this chain", hex);
	return lb_errf(v->em, rc, "contract %s cannot be read", hex);
}

static int view_contracts(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint64_t total;
	int rc = lb_state_get_u64(s, NS_COUNT, "contracts", 9, 0, &total);
	return rc ? rc : list_page(s, v, NS_CLIST, NULL, total, "contracts", contract_item);
}

int lb_kn_contracts_json(struct lb_ledger *l, size_t offset, size_t limit, json_t **out,
			 struct lb_errmsg *em)
{
	struct view v = { .offset = offset, .limit = limit, .em = em };
	return run_view(l, view_contracts, &v, out);
}

static int view_contract(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct contract_rec r;
	char hex[HEX32];
	lb_hex_encode(hex, v->id, 32);
	int rc = view_need_contract(s, v, v->id, &r);
	if (rc)
		return rc;
	json_t *o = contract_json(s, v->id, &r);
	const uint8_t *src;
	size_t n;
	if (!o || lb_state_get(s, NS_SOURCE, v->id, 32, &src, &n)) {
		json_decref(o);
		return lb_errf(v->em, LB_ECORRUPT, "the source of contract %s cannot be read", hex);
	}
	json_object_set_new(o, "source", json_stringn(( const char *)src, n));
	v->out = o;
	return LB_OK;
}

int lb_kn_contract_json(struct lb_ledger *l, const uint8_t hash[32], json_t **out,
			struct lb_errmsg *em)
{
	struct view v = { .id = hash, .em = em };
	return run_view(l, view_contract, &v, out);
}

static int view_sessions(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint64_t total;
	int rc;
	if (v->id == NULL) {
		rc = lb_state_get_u64(s, NS_COUNT, "sessions", 8, 0, &total);
		return rc ? rc : list_page(s, v, NS_SLIST, NULL, total, "sessions", session_item);
	}
	struct contract_rec r;
	if ((rc = view_need_contract(s, v, v->id, &r)))
		return rc;
	if ((rc = lb_state_get_u64(s, NS_USAGE, v->id, 32, 0, &total))) {
		char hex[HEX32];
		lb_hex_encode(hex, v->id, 32);
		return lb_errf(v->em, rc, "contract %s cannot be read", hex);
	}
	return list_page(s, v, NS_CSESS, v->id, total, "sessions", session_item);
}

int lb_kn_sessions_json(struct lb_ledger *l, const uint8_t *contract, size_t offset,
			size_t limit, json_t **out, struct lb_errmsg *em)
{
	struct view v = { .id = contract, .offset = offset, .limit = limit, .em = em };
	return run_view(l, view_sessions, &v, out);
}

static int view_session(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct session_rec r;
	char hex[HEX32];
	lb_hex_encode(hex, v->id, 32);
	int rc = session_get(s, v->id, &r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(v->em, rc, "session %s was never anchored on this chain", hex);
	if (rc)
		return lb_errf(v->em, rc, "session %s cannot be read", hex);
	json_t *o = session_json(v->id, &r), *evs = json_array();
	for (uint64_t i = 0; o && evs && i < r.next_seq; i++) {
		uint8_t key[32 + 8], txid[32];
		const uint8_t *val, *pl;
		size_t n, pn;
		uint64_t height;
		struct lb_kn_session_payload p;
		struct lb_dec d;
		memcpy(key, v->id, 32);
		be64(key + 32, i);
		if (lb_state_get(s, NS_EVENT, key, sizeof key, &val, &n))
			goto corrupt;
		lb_dec_init(&d, val, n, "session event", NULL);
		if (lb_dec_uvar(&d, "height", UINT64_MAX, &height) ||
		    lb_dec_fixed(&d, "tx", txid, 32) ||
		    lb_dec_bytes(&d, "payload", LB_TX_PAYLOAD_MAX, &pl, &pn) || lb_dec_end(&d) ||
		    lb_kn_session_payload_decode(pl, pn, &p, NULL))
			goto corrupt;
		json_t *e = session_payload_json(&p);
		json_object_del(e, "contract");
		json_object_del(e, "session");
		json_object_set_new(e, "height", json_integer((json_int_t)height));
		json_object_set_new(e, "tx", hex_json(txid, 32));
		json_array_append_new(evs, e);
	}
	json_object_set_new(o, "events", evs);
	v->out = o;
	return LB_OK;
corrupt:
	json_decref(o);
	json_decref(evs);
	return lb_errf(v->em, LB_ECORRUPT, "an event of session %s cannot be read", hex);
}

int lb_kn_session_json(struct lb_ledger *l, const uint8_t id[32], json_t **out,
		       struct lb_errmsg *em)
{
	struct view v = { .id = id, .em = em };
	return run_view(l, view_session, &v, out);
}
