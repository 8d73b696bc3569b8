/*
 * CP-ABE authorities, issued keys, revocations and sealed private parts on the directory chain
 * (abe_tx.h). State:
 *   abe.auth: authority id -> JSON text (sorted keys, compact: deterministic) {"owner",
 *             "pk", "epochs": {name: N}, "users": {user key hex: {"address", "attrs",
 *             "key_hash", "tx", "revoked"}}}
 *   abe.seal: asset id -> JSON text {"version", "tx", "authority", "policy", "sealer"}
 *   abe.share: BLAKE2b-256(request id | sender address) -> JSON text {"tx", "authority",
 *             "policy", "sender"}: one per sender, so no one can displace the user's share
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/data_int.h"
#include "leben/abe_tx.h"
#include "leben/codec.h"
#include "leben/crypto.h"
#include "leben/ledger.h"

#define NS_AUTH "abe.auth"
#define NS_SEAL "abe.seal"
#define NS_SHARE "abe.share"

void lb_abe_authority_of(uint8_t id[LB_ABE_AUTHORITY_LEN], const uint8_t addr[20])
{
	uint8_t buf[19 + 20];
	memcpy(buf, "LEBEN abe authority", 19);
	memcpy(buf + 19, addr, 20);
	lb_hash(id, buf, sizeof buf);
}

static int attr_char(int c)
{
	return isalnum(c) || (c && strchr("_:.@/-+=", c));
}

/* offset of a trailing "@v<digits>" or -1 */
static long epoch_at(const char *a)
{
	size_t n = strlen(a), i = n;
	while (i > 0 && isdigit((unsigned char)a[i - 1]))
		i--;
	if (i == n || i < 2 || a[i - 1] != 'v' || a[i - 2] != '@')
		return -1;
	return (long)i - 2;
}

int lb_abe_attr_split(const char *attr, char base[LB_ABE_BASE_MAX + 1], uint64_t *epoch)
{
	long at = epoch_at(attr);
	if (at <= 0 || at > LB_ABE_BASE_MAX || strlen(attr) - (size_t)at > 12)
		return LB_EINVALID;
	memcpy(base, attr, (size_t)at);
	base[at] = 0;
	*epoch = strtoull(attr + at + 2, NULL, 10);
	return *epoch ? LB_OK : LB_EINVALID;
}

int lb_abe_base_check(const char *name, struct lb_errmsg *em)
{
	size_t n = strlen(name);
	if (n == 0 || n > LB_ABE_BASE_MAX)
		return lb_errf(em, LB_EINVALID, "attribute '%.40s': 1 to %d bytes", name,
			       LB_ABE_BASE_MAX);
	for (size_t i = 0; i < n; i++)
		if (!attr_char((unsigned char)name[i]))
			return lb_errf(em, LB_EINVALID,
				       "attribute '%.40s': byte %zu is not a letter, digit or one of "
				       "_:.@/-+=",
				       name, i);
	if (epoch_at(name) >= 0)
		return lb_errf(em, LB_EINVALID,
			       "attribute '%.40s' ends in an epoch (@vN): give the plain name, the "
			       "chain adds the current epoch",
			       name);
	if (!strcasecmp(name, "and") || !strcasecmp(name, "or") || !strcasecmp(name, "of"))
		return lb_errf(em, LB_EINVALID, "'%s' is a keyword of the policy language", name);
	return LB_OK;
}

/* ---- payloads ------------------------------------------------------------------------ */

int lb_abe_issue_tx_encode(const struct lb_abe_issue_tx *t, struct lb_buf *out)
{
	int rc;
	if ((rc = lb_enc_fixed(out, t->user, 32)) || (rc = lb_enc_fixed(out, t->key_hash, 32)) ||
	    (rc = lb_enc_uvar(out, t->n)))
		return rc;
	for (size_t i = 0; i < t->n; i++)
		if ((rc = lb_enc_str(out, t->attrs[i])))
			return rc;
	return LB_OK;
}

int lb_abe_issue_tx_decode(const uint8_t *buf, size_t len, struct lb_abe_issue_tx *t,
			   struct lb_errmsg *em)
{
	struct lb_dec d;
	uint64_t n;
	char base[LB_ABE_BASE_MAX + 1];
	uint64_t ep;
	int rc;
	memset(t, 0, sizeof *t);
	lb_dec_init(&d, buf, len, "abe.issue payload", em);
	if ((rc = lb_dec_fixed(&d, "user", t->user, 32)) ||
	    (rc = lb_dec_fixed(&d, "key_hash", t->key_hash, 32)) ||
	    (rc = lb_dec_uvar(&d, "n", LB_ABE_ISSUE_MAX, &n)))
		return rc;
	if (n == 0)
		return lb_errf(em, LB_EINVALID, "abe.issue: a key needs at least one attribute");
	t->n = (size_t)n;
	for (size_t i = 0; i < t->n; i++) {
		if ((rc = lb_dec_str(&d, "attr", LB_ABE_MAX_ATTR, t->attrs[i], sizeof t->attrs[i])))
			return rc;
		if (lb_abe_attr_split(t->attrs[i], base, &ep) ||
		    lb_abe_base_check(base, NULL) != LB_OK)
			return lb_errf(em, LB_EINVALID,
				       "abe.issue: attribute %zu '%.40s' is not name@vN", i,
				       t->attrs[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->attrs[j], t->attrs[i]))
				return lb_errf(em, LB_EINVALID, "abe.issue: attribute '%.40s' twice",
					       t->attrs[i]);
	}
	return lb_dec_end(&d);
}

int lb_abe_revoke_tx_encode(const struct lb_abe_revoke_tx *t, struct lb_buf *out)
{
	int rc = lb_enc_fixed(out, t->user, 32);
	return rc ? rc : lb_enc_str(out, t->attr);
}

int lb_abe_revoke_tx_decode(const uint8_t *buf, size_t len, struct lb_abe_revoke_tx *t,
			    struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(t, 0, sizeof *t);
	lb_dec_init(&d, buf, len, "abe.revoke payload", em);
	if ((rc = lb_dec_fixed(&d, "user", t->user, 32)) ||
	    (rc = lb_dec_str(&d, "attr", LB_ABE_BASE_MAX, t->attr, sizeof t->attr)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	return lb_abe_base_check(t->attr, em);
}

int lb_abe_seal_tx_encode(const struct lb_abe_seal_tx *t, struct lb_buf *out)
{
	int rc;
	if ((rc = lb_enc_fixed(out, t->asset_id, 32)) || (rc = lb_enc_uvar(out, t->version)))
		return rc;
	return lb_enc_bytes(out, t->ct, t->ct_len);
}

int lb_abe_seal_tx_decode(const uint8_t *buf, size_t len, struct lb_abe_seal_tx *t,
			  struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	memset(t, 0, sizeof *t);
	lb_dec_init(&d, buf, len, "abe.seal payload", em);
	if ((rc = lb_dec_fixed(&d, "asset_id", t->asset_id, 32)) ||
	    (rc = lb_dec_uvar(&d, "version", UINT32_MAX, &t->version)) ||
	    (rc = lb_dec_bytes(&d, "ciphertext", LB_TX_PAYLOAD_MAX, &t->ct, &t->ct_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (t->version == 0)
		return lb_errf(em, LB_EINVALID, "abe.seal: versions start at 1");
	char *pol = NULL;
	if ((rc = lb_abe_ciphertext_policy(&pol, t->ct, t->ct_len, em)))
		return lb_errwrap(em, "abe.seal: ");
	lb_free(pol);
	if (t->ct_len < 6 + LB_ABE_AUTHORITY_LEN)
		return lb_errf(em, LB_EMALFORMED, "abe.seal: ciphertext too short");
	return LB_OK;
}

/* ---- policies with epochs ------------------------------------------------------------- */

/* Rewrites each attribute of a (checked) policy through fn; keywords, numbers of "k of",
 * punctuation and spaces are copied. */
static int map_policy(char **out, const char *policy,
		      int (*fn)(void *ctx, const char *attr, struct lb_buf *b, size_t at,
				struct lb_errmsg *em),
		      void *ctx, struct lb_errmsg *em)
{
	int rc = lb_abe_policy_check(policy, em);
	if (rc)
		return rc;
	struct lb_buf b;
	char word[LB_ABE_MAX_ATTR + 1];
	lb_buf_init(&b, 4 * LB_ABE_MAX_POLICY);
	for (size_t i = 0; policy[i] && !rc;) {
		size_t n = 0;
		while (attr_char((unsigned char)policy[i + n]))
			n++;
		if (n == 0) {
			rc = lb_buf_add(&b, policy + i, 1);
			i++;
			continue;
		}
		size_t after = i + n;
		while (policy[after] == ' ' || policy[after] == '\t')
			after++;
		bool digits = true, kw;
		for (size_t k = 0; k < n; k++)
			digits &= isdigit((unsigned char)policy[i + k]) != 0;
		kw = (n == 3 && !strncasecmp(policy + i, "and", 3)) ||
		     (n == 2 && (!strncasecmp(policy + i, "or", 2) ||
				 !strncasecmp(policy + i, "of", 2))) ||
		     (digits && !strncasecmp(policy + after, "of", 2) &&
		      !attr_char((unsigned char)policy[after + 2]));
		if (kw) {
			rc = lb_buf_add(&b, policy + i, n);
		} else {
			memcpy(word, policy + i, n);
			word[n] = 0;
			rc = fn(ctx, word, &b, i, em);
		}
		i += n;
	}
	if (!rc)
		rc = lb_buf_add(&b, "", 1);
	if (rc) {
		lb_buf_release(&b);
		return em && em->code ? rc : lb_errf(em, rc, "policy too long");
	}
	*out = (char *)b.data;
	return LB_OK;
}

static int add_epoch(void *ctx, const char *attr, struct lb_buf *b, size_t at,
		     struct lb_errmsg *em)
{
	json_t *epochs = json_object_get(ctx, "epochs");
	struct lb_errmsg sub;
	lb_errclear(&sub);
	if (lb_abe_base_check(attr, &sub))
		return lb_errf(em, LB_EINVALID, "policy: at byte %zu: %s", at, sub.text);
	json_int_t ep = json_integer_value(json_object_get(epochs, attr));
	char suffix[32];
	snprintf(suffix, sizeof suffix, "@v%lld", (long long)(ep > 0 ? ep : 1));
	int rc = lb_buf_add(b, attr, strlen(attr));
	return rc ? rc : lb_buf_add(b, suffix, strlen(suffix));
}

int lb_abe_tx_versioned_policy(char **out, const char *policy, json_t *authority,
			       struct lb_errmsg *em)
{
	return map_policy(out, policy, add_epoch, authority, em);
}

static int drop_epoch(void *ctx, const char *attr, struct lb_buf *b, size_t at,
		      struct lb_errmsg *em)
{
	char base[LB_ABE_BASE_MAX + 1];
	uint64_t ep;
	if (lb_abe_attr_split(attr, base, &ep))
		return lb_errf(em, LB_EINVALID, "policy: at byte %zu: '%.40s' carries no epoch", at,
			       attr);
	return lb_buf_add(b, base, strlen(base));
}

int lb_abe_tx_plain_policy(char **out, const char *policy, struct lb_errmsg *em)
{
	return map_policy(out, policy, drop_epoch, NULL, em);
}

/* an attribute of a seal's policy must be at the authority's current epoch */
static int current_epoch(void *ctx, const char *attr, struct lb_buf *b, size_t at,
			 struct lb_errmsg *em)
{
	char base[LB_ABE_BASE_MAX + 1];
	uint64_t ep;
	if (lb_abe_attr_split(attr, base, &ep))
		return lb_errf(em, LB_EINVALID,
			       "abe.seal: policy attribute '%.40s' (byte %zu) carries no epoch", attr,
			       at);
	json_int_t cur = json_integer_value(json_object_get(json_object_get(ctx, "epochs"), base));
	if ((uint64_t)(cur > 0 ? cur : 1) != ep)
		return lb_errf(em, LB_EINVALID,
			       "abe.seal: attribute '%s' is at epoch %lld, the ciphertext names epoch "
			       "%llu (a revocation happened: seal again)",
			       base, (long long)(cur > 0 ? cur : 1), (unsigned long long)ep);
	return lb_buf_add(b, attr, strlen(attr));
}

/* ---- state ---------------------------------------------------------------------------- */

static int auth_load(struct lb_state *s, const uint8_t id[32], json_t **out)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, NS_AUTH, id, 32, &v, &n);
	if (rc)
		return rc;
	*out = json_loadb((const char *)v, n, 0, NULL);
	return *out ? LB_OK : LB_EMALFORMED;
}

static int json_store(struct lb_state *s, const char *ns, const uint8_t id[32], json_t *j)
{
	char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!txt)
		return LB_ENOMEM;
	int rc = lb_state_put(s, ns, id, 32, txt, strlen(txt));
	free(txt);
	return rc;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = lb_malloc(2 * n + 1);
	if (!h)
		return NULL;
	lb_hex_encode(h, p, n);
	json_t *j = json_string(h);
	lb_free(h);
	return j;
}

/* the sender's authority, loaded; LB_ENOTFOUND explained */
static int sender_authority(struct lb_apply_ctx *c, uint8_t id[32], json_t **a)
{
	lb_abe_authority_of(id, c->sender_addr);
	int rc = auth_load(c->state, id, a);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, rc,
			       "this account is no attribute authority yet: 'leben abe setup' "
			       "publishes its parameters first");
	return rc ? lb_errf(c->em, rc, "reading the authority failed") : LB_OK;
}

static int check_setup(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_abe_pk pk;
	return lb_abe_pk_decode(&pk, tx->payload, tx->payload_len, em);
}

static int apply_setup(struct lb_apply_ctx *c)
{
	struct lb_abe_pk pk;
	uint8_t id[32];
	json_t *a = NULL;
	char addr[LB_ADDR_TEXT_LEN + 1];
	int rc = lb_abe_pk_decode(&pk, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	lb_abe_authority_of(id, c->sender_addr);
	if (memcmp(id, pk.authority, 32))
		return lb_errf(c->em, LB_EINVALID,
			       "abe.setup: the parameters name another authority than the sender's "
			       "(its id is derived from the account address)");
	if (auth_load(c->state, id, &a) == LB_OK) {
		json_decref(a);
		return lb_errf(c->em, LB_EEXISTS,
			       "abe.setup: this institution already published its parameters");
	}
	lb_addr_encode(addr, c->sender_addr);
	a = json_pack("{s:s,s:o,s:{},s:{}}", "owner", addr, "pk",
		      hex_json(c->tx->payload, c->tx->payload_len), "epochs", "users");
	rc = a ? json_store(c->state, NS_AUTH, id, a) : LB_ENOMEM;
	json_decref(a);
	return rc;
}

static json_t *json_setup(const struct lb_tx *tx)
{
	struct lb_abe_pk pk;
	if (lb_abe_pk_decode(&pk, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:o}", "authority", hex_json(pk.authority, 32), "pk",
			 hex_json(tx->payload, tx->payload_len));
}

static int check_issue(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_abe_issue_tx *t = lb_malloc(sizeof *t);
	if (!t)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_abe_issue_tx_decode(tx->payload, tx->payload_len, t, em);
	lb_free(t);
	return rc;
}

static int apply_issue(struct lb_apply_ctx *c)
{
	uint8_t id[32], uaddr[LB_ADDR_LEN];
	char ahex[65], addr[LB_ADDR_TEXT_LEN + 1], base[LB_ABE_BASE_MAX + 1];
	uint64_t ep;
	json_t *a = NULL;
	struct lb_abe_issue_tx *t = lb_malloc(sizeof *t);
	if (!t)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	int rc = lb_abe_issue_tx_decode(c->tx->payload, c->tx->payload_len, t, c->em);
	if (!rc)
		rc = sender_authority(c, id, &a);
	json_t *epochs = json_object_get(a, "epochs"), *attrs = json_array();
	for (size_t i = 0; !rc && i < t->n; i++) {
		lb_abe_attr_split(t->attrs[i], base, &ep);
		json_int_t cur = json_integer_value(json_object_get(epochs, base));
		if ((uint64_t)(cur > 0 ? cur : 1) != ep)
			rc = lb_errf(c->em, LB_EINVALID,
				     "abe.issue: attribute '%s' is at epoch %lld, not %llu", base,
				     (long long)(cur > 0 ? cur : 1), (unsigned long long)ep);
		json_array_append_new(attrs, json_string(t->attrs[i]));
	}
	if (!rc) {
		lb_hex_encode(ahex, t->user, 32);
		lb_addr_from_pubkey(uaddr, t->user);
		lb_addr_encode(addr, uaddr);
		json_t *old = json_object_get(json_object_get(a, "users"), ahex);
		json_t *revoked = json_object_get(old, "revoked");
		json_t *u = json_pack("{s:s,s:O,s:o,s:o,s:O}", "address", addr, "attrs", attrs,
				      "key_hash", hex_json(t->key_hash, 32), "tx",
				      hex_json(c->tx->id, 32), "revoked",
				      revoked ? revoked : json_array());
		if (!revoked)
			json_decref(json_object_get(u, "revoked"));
		json_object_set_new(json_object_get(a, "users"), ahex, u);
		rc = json_store(c->state, NS_AUTH, id, a);
	}
	json_decref(attrs);
	json_decref(a);
	lb_free(t);
	return rc;
}

static json_t *json_issue(const struct lb_tx *tx)
{
	struct lb_abe_issue_tx *t = lb_malloc(sizeof *t);
	if (!t || lb_abe_issue_tx_decode(tx->payload, tx->payload_len, t, NULL)) {
		lb_free(t);
		return NULL;
	}
	uint8_t uaddr[LB_ADDR_LEN], id[32];
	char addr[LB_ADDR_TEXT_LEN + 1];
	lb_addr_from_pubkey(uaddr, t->user);
	lb_addr_encode(addr, uaddr);
	lb_addr_from_pubkey(uaddr, tx->sender);
	lb_abe_authority_of(id, uaddr);
	json_t *attrs = json_array();
	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(attrs, json_string(t->attrs[i]));
	json_t *j = json_pack("{s:o,s:o,s:s,s:o,s:o}", "authority", hex_json(id, 32), "user",
			      hex_json(t->user, 32), "address", addr, "attributes", attrs,
			      "key_hash", hex_json(t->key_hash, 32));
	lb_free(t);
	return j;
}

static int check_revoke(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_abe_revoke_tx t;
	return lb_abe_revoke_tx_decode(tx->payload, tx->payload_len, &t, em);
}

static int apply_revoke(struct lb_apply_ctx *c)
{
	struct lb_abe_revoke_tx t;
	uint8_t id[32];
	char uhex[65], held[LB_ABE_MAX_ATTR + 32];
	json_t *a = NULL;
	int rc = lb_abe_revoke_tx_decode(c->tx->payload, c->tx->payload_len, &t, c->em);
	if (rc || (rc = sender_authority(c, id, &a)))
		return rc;
	lb_hex_encode(uhex, t.user, 32);
	json_t *epochs = json_object_get(a, "epochs");
	json_int_t cur = json_integer_value(json_object_get(epochs, t.attr));
	if (cur <= 0)
		cur = 1;
	snprintf(held, sizeof held, "%s@v%lld", t.attr, (long long)cur);
	json_t *u = json_object_get(json_object_get(a, "users"), uhex);
	json_t *attrs = json_object_get(u, "attrs"), *x;
	size_t i, found = (size_t)-1;
	json_array_foreach(attrs, i, x)
		if (!strcmp(json_string_value(x), held))
			found = i;
	if (found == (size_t)-1) {
		json_decref(a);
		return lb_errf(c->em, LB_ENOTFOUND,
			       "abe.revoke: user %.16s... holds no key for '%s' at its current epoch "
			       "%lld",
			       uhex, t.attr, (long long)cur);
	}
	json_array_remove(attrs, found);
	json_array_append_new(json_object_get(u, "revoked"), json_string(held));
	json_object_set_new(epochs, t.attr, json_integer(cur + 1));
	rc = json_store(c->state, NS_AUTH, id, a);
	json_decref(a);
	return rc;
}

static json_t *json_revoke(const struct lb_tx *tx)
{
	struct lb_abe_revoke_tx t;
	if (lb_abe_revoke_tx_decode(tx->payload, tx->payload_len, &t, NULL))
		return NULL;
	return json_pack("{s:o,s:s}", "user", hex_json(t.user, 32), "attribute", t.attr);
}

static int check_seal(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_abe_seal_tx t;
	return lb_abe_seal_tx_decode(tx->payload, tx->payload_len, &t, em);
}

static int apply_seal(struct lb_apply_ctx *c)
{
	struct lb_abe_seal_tx t;
	uint8_t owner[LB_ADDR_LEN], auth[32];
	char hex[65], sender[LB_ADDR_TEXT_LEN + 1];
	bool may = false;
	int status = 0;
	json_t *a = NULL;
	char *pol = NULL, *checked = NULL;
	int rc = lb_abe_seal_tx_decode(c->tx->payload, c->tx->payload_len, &t, c->em);
	if (rc)
		return rc;
	lb_hex_encode(hex, t.asset_id, 32);
	if ((rc = data_asset_holder(c->state, t.asset_id, owner, c->sender_addr, &may, &status)))
		return lb_errf(c->em, rc, "asset %s %s", hex,
			       rc == LB_ENOTFOUND ? "is not registered" : "cannot be read");
	if (status != 0)
		return lb_errf(c->em, LB_EINVALID, "asset %s is %s", hex,
			       status == 2 ? "purged" : "retired");
	if (!may)
		return lb_errf(c->em, LB_EUNAUTH,
			       "asset %s: only its owner or a co-owner seals its private part", hex);
	memcpy(auth, t.ct + 6, 32); /* "LBABEC" | version | authority: see abe.c */
	if ((rc = auth_load(c->state, auth, &a)))
		return lb_errf(c->em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc,
			       "abe.seal: the ciphertext names an authority that published no "
			       "parameters");
	if ((rc = lb_abe_ciphertext_policy(&pol, t.ct, t.ct_len, c->em)) ||
	    (rc = map_policy(&checked, pol, current_epoch, a, c->em)))
		goto out;
	/* the ciphertext was made with the authority's published parameters */
	struct lb_abe_pk pk;
	uint8_t *pkb = NULL;
	size_t pkl = 0;
	const char *pkh = json_string_value(json_object_get(a, "pk"));
	if (!pkh || lb_hex_decode_alloc(pkh, &pkb, &pkl, 4096) ||
	    lb_abe_pk_decode(&pk, pkb, pkl, NULL) || memcmp(pk.authority, auth, 32)) {
		lb_free(pkb);
		rc = lb_errf(c->em, LB_EMALFORMED, "abe.seal: the authority's record is damaged");
		goto out;
	}
	lb_free(pkb);
	lb_addr_encode(sender, c->sender_addr);
	json_t *s = json_pack("{s:I,s:o,s:o,s:s,s:s}", "version", (json_int_t)t.version, "tx",
			      hex_json(c->tx->id, 32), "authority", hex_json(auth, 32), "policy",
			      pol, "sealer", sender);
	rc = s ? json_store(c->state, NS_SEAL, t.asset_id, s) : LB_ENOMEM;
	json_decref(s);
out:
	lb_free(pol);
	lb_free(checked);
	json_decref(a);
	return rc;
}

static void share_key(uint8_t key[32], const uint8_t request[32], const uint8_t sender[20])
{
	uint8_t buf[52];
	memcpy(buf, request, 32);
	memcpy(buf + 32, sender, 20);
	lb_hash(key, buf, sizeof buf);
}

/* abe.share: a request's result sealed to a policy; anyone may send one, readers accept only
 * the request's user's (the request is on the business chain) */
static int apply_share(struct lb_apply_ctx *c)
{
	struct lb_abe_seal_tx t;
	uint8_t auth[32];
	char sender[LB_ADDR_TEXT_LEN + 1];
	json_t *a = NULL;
	char *pol = NULL, *checked = NULL;
	int rc = lb_abe_seal_tx_decode(c->tx->payload, c->tx->payload_len, &t, c->em);
	if (rc)
		return rc;
	if (t.version != 1)
		return lb_errf(c->em, LB_EINVALID, "abe.share: the version field must be 1");
	memcpy(auth, t.ct + 6, 32);
	if ((rc = auth_load(c->state, auth, &a)))
		return lb_errf(c->em, rc,
			       "abe.share: the ciphertext names an authority that published no "
			       "parameters");
	if (!(rc = lb_abe_ciphertext_policy(&pol, t.ct, t.ct_len, c->em)) &&
	    !(rc = map_policy(&checked, pol, current_epoch, a, c->em))) {
		lb_addr_encode(sender, c->sender_addr);
		json_t *s = json_pack("{s:o,s:o,s:s,s:s}", "tx", hex_json(c->tx->id, 32),
				      "authority", hex_json(auth, 32), "policy", pol, "sender",
				      sender);
		uint8_t key[32];
		share_key(key, t.asset_id, c->sender_addr);
		rc = s ? json_store(c->state, NS_SHARE, key, s) : LB_ENOMEM;
		json_decref(s);
	}
	lb_free(pol);
	lb_free(checked);
	json_decref(a);
	return rc;
}

static json_t *json_seal(const struct lb_tx *tx)
{
	struct lb_abe_seal_tx t;
	char *pol = NULL;
	if (lb_abe_seal_tx_decode(tx->payload, tx->payload_len, &t, NULL) ||
	    lb_abe_ciphertext_policy(&pol, t.ct, t.ct_len, NULL))
		return NULL;
	char *h = lb_malloc(2 * t.ct_len + 1);
	if (!h) {
		lb_free(pol);
		return NULL;
	}
	lb_hex_encode(h, t.ct, t.ct_len);
	json_t *j = json_pack("{s:o,s:I,s:o,s:s,s:I,s:s}", "asset_id", hex_json(t.asset_id, 32),
			      "version", (json_int_t)t.version, "authority",
			      hex_json(t.ct + 6, 32), "policy", pol, "ciphertext_bytes",
			      (json_int_t)t.ct_len, "ciphertext", h);
	lb_free(h);
	lb_free(pol);
	return j;
}

/* ---- views ---------------------------------------------------------------------------- */

/* the record of id in ns, with its id added as field */
static int view(struct lb_ledger *l, const char *ns, const uint8_t id[32], const char *field,
		json_t **out, struct lb_errmsg *em, const char *what)
{
	struct lb_buf b;
	char hex[65];
	lb_buf_init(&b, 64u << 20);
	int rc = lb_ledger_state_read(l, LB_CHAIN_DIRECTORY, ns, id, 32, &b, em);
	lb_hex_encode(hex, id, 32);
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(em, rc, "%s %s", what, hex);
	if (!rc && !(*out = json_loadb((const char *)b.data, b.len, 0, NULL)))
		rc = lb_errf(em, LB_EMALFORMED, "the record of %s is damaged", hex);
	if (!rc)
		json_object_set_new(*out, field, json_string(hex));
	lb_buf_release(&b);
	return rc;
}

int lb_abe_authority_json(struct lb_ledger *l, const uint8_t id[LB_ABE_AUTHORITY_LEN],
			  json_t **out, struct lb_errmsg *em)
{
	return view(l, NS_AUTH, id, "authority", out, em,
		    "no attribute authority published parameters as");
}

int lb_abe_share_json(struct lb_ledger *l, const uint8_t request[32], const uint8_t sender[20],
		      json_t **out, struct lb_errmsg *em)
{
	uint8_t key[32];
	char hex[65];
	share_key(key, request, sender);
	int rc = view(l, NS_SHARE, key, "key", out, em,
		      "no result is shared to a policy for this request by this sender; key");
	lb_hex_encode(hex, request, 32);
	if (!rc)
		json_object_set_new(*out, "request", json_string(hex));
	return rc;
}

int lb_abe_seal_json(struct lb_ledger *l, const uint8_t asset[32], json_t **out,
		     struct lb_errmsg *em)
{
	return view(l, NS_SEAL, asset, "asset_id", out, em,
		    "no private part is sealed to a policy for asset");
}

static const struct lb_txtype abe_types[] = {
	{LB_TX_ABE_SETUP, LB_CHAIN_DIRECTORY, "abe.setup", check_setup, apply_setup, json_setup,
	 true},
	{LB_TX_ABE_ISSUE, LB_CHAIN_DIRECTORY, "abe.issue", check_issue, apply_issue, json_issue,
	 true},
	{LB_TX_ABE_REVOKE, LB_CHAIN_DIRECTORY, "abe.revoke", check_revoke, apply_revoke,
	 json_revoke, true},
	{LB_TX_ABE_SEAL, LB_CHAIN_DIRECTORY, "abe.seal", check_seal, apply_seal, json_seal, true},
	{LB_TX_ABE_SHARE, LB_CHAIN_DIRECTORY, "abe.share", check_seal, apply_share, json_seal, true},
};

int lb_abe_register_txtypes(void)
{
	/* no handler reads the block height or time */
	return lb_txtype_register_rows(abe_types, sizeof abe_types / sizeof abe_types[0], true);
}
