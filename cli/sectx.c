/* Sending the security toolkit's business-chain txs from the CLI (see sectx.h). */
#include <stdio.h>
#include <string.h>

#include "apiclient.h"
#include "common.h"
#include "leben/base.h"
#include "leben/tx.h"
#include "sectx.h"

static int status_json(const char *cmd, const char *url, json_t **st)
{
	return cli_api_get(cmd, url, "/v1/status", st);
}

int sectx_hex_field(const char *cmd, json_t *j, const char *field, uint8_t *out, size_t n)
{
	const char *s = json_string_value(json_object_get(j, field));
	if (!s || strlen(s) != 2 * n || lb_hex_decode(out, n, s))
		return cli_failf(cmd, "the node's reply has no usable '%s' (%zu bytes of hex)", field,
				 n);
	return 0;
}

int sectx_height(const char *cmd, const char *url, uint64_t *height)
{
	json_t *st = NULL;
	if (status_json(cmd, url, &st))
		return 1;
	json_t *h = json_object_get(json_object_get(json_object_get(st, "chains"), "business"),
				    "height");
	int rc = json_is_integer(h) ? 0 : cli_failf(cmd, "the node did not give its height");
	if (!rc)
		*height = (uint64_t)json_integer_value(h);
	json_decref(st);
	return rc;
}

int sectx_build(const char *cmd, const char *url, const struct lb_keypair *kp, uint32_t type,
		const uint8_t *payload, size_t len, struct sectx *out)
{
	return sectx_build_on(cmd, url, kp, LB_CHAIN_BUSINESS, type, payload, len, out);
}

int sectx_build_on(const char *cmd, const char *url, const struct lb_keypair *kp, int chain,
		   uint32_t type, const uint8_t *payload, size_t len, struct sectx *out)
{
	return sectx_build_fee(cmd, url, kp, chain, type, payload, len, 0, out);
}

int sectx_build_fee(const char *cmd, const char *url, const struct lb_keypair *kp, int chain,
		    uint32_t type, const uint8_t *payload, size_t len, uint64_t fee,
		    struct sectx *out)
{
	json_t *st = NULL, *acct = NULL;
	uint8_t network[LB_HASH_LEN], addr[LB_ADDR_LEN], id[LB_HASH_LEN];
	char text[LB_ADDR_TEXT_LEN + 1], path[128];
	struct lb_buf b;
	int rc = 1;
	memset(out, 0, sizeof *out);
	if (status_json(cmd, url, &st))
		return 1;
	if (sectx_hex_field(cmd, st, "network_id", network, LB_HASH_LEN))
		goto done;
	lb_addr_from_pubkey(addr, kp->pk);
	lb_addr_encode(text, addr);
	snprintf(path, sizeof path, "/v1/accounts/%s", text);
	if (cli_api_get(cmd, url, path, &acct))
		goto done;
	json_t *nn = json_object_get(
		json_object_get(json_object_get(acct, "chains"), lb_chain_name(chain)), "next_nonce");
	if (!json_is_integer(nn)) {
		cli_failf(cmd, "the node did not give the next nonce of %s", text);
		goto done;
	}
	struct lb_tx t;
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = (uint8_t)chain;
	t.type = type;
	t.nonce = out->nonce = (uint64_t)json_integer_value(nn);
	t.fee = fee;
	t.payload = payload;
	t.payload_len = len;
	lb_buf_init(&b, LB_TX_MAX_BYTES);
	if (lb_tx_build(&b, &t, network, kp, id) || !(out->hex = lb_malloc(2 * b.len + 1))) {
		lb_buf_release(&b);
		cli_failf(cmd, "could not build the tx (payload of %zu bytes too large?)", len);
		goto done;
	}
	lb_hex_encode(out->hex, b.data, b.len);
	lb_hex_encode(out->id, id, LB_HASH_LEN);
	lb_buf_release(&b);
	rc = 0;
done:
	json_decref(st);
	json_decref(acct);
	return rc;
}

int sectx_send(const char *cmd, const char *url, struct sectx *t, double timeout_s,
	       json_t **final)
{
	json_t *body = json_pack("{s:s}", "tx", t->hex), *reply = NULL, *j = NULL;
	int rc = cli_api_post(cmd, url, "/v1/txs", body, &reply);
	json_decref(body);
	json_decref(reply);
	if (rc)
		return 1;
	if (cli_tx_wait(cmd, url, t->id, timeout_s, &j)) {
		if (j == NULL)
			return 1; /* printed */
		json_t *e = json_object_get(j, "error");
		rc = cli_failf(cmd, "tx %s went into a block but was refused there: %s [%s]", t->id,
			       json_string_value(json_object_get(e, "message")),
			       json_string_value(json_object_get(e, "code")));
		json_decref(j);
		return rc;
	}
	if (final)
		*final = j;
	else
		json_decref(j);
	return 0;
}

void sectx_release(struct sectx *t)
{
	lb_free(t->hex);
	t->hex = NULL;
}

int sectx_fetch(const char *cmd, const char *url, const char *idhex, const char *type_name,
		json_t **payload)
{
	char path[160];
	json_t *j = NULL;
	uint8_t id[LB_HASH_LEN];
	if (strlen(idhex) != 2 * LB_HASH_LEN || lb_hex_decode(id, LB_HASH_LEN, idhex))
		return cli_failf(cmd, "'%s' is not a tx id (64 hex digits)", idhex);
	snprintf(path, sizeof path, "/v1/txs/%s", idhex);
	if (cli_api_get(cmd, url, path, &j))
		return 1;
	const char *st = json_string_value(json_object_get(j, "status"));
	const char *ty = json_string_value(json_object_get(j, "type"));
	int rc = 0;
	if (!st || strcmp(st, "committed"))
		rc = cli_failf(cmd, "tx %s is %s, not committed: its record does not count", idhex,
			       st ? st : "unknown");
	else if (!ty || strcmp(ty, type_name))
		rc = cli_failf(cmd, "tx %s is a '%s' tx, not '%s'", idhex, ty ? ty : "?", type_name);
	else if (!json_is_object(json_object_get(j, "payload")))
		rc = cli_failf(cmd, "the node could not decode the payload of tx %s", idhex);
	if (!rc)
		*payload = json_incref(json_object_get(j, "payload"));
	json_decref(j);
	return rc;
}

int sectx_sign_send(const char *cmd, const char *url, const char *home, const char *from,
		    uint32_t type, const uint8_t *payload, size_t len,
		    char idhex[2 * LB_HASH_LEN + 1], json_t **final)
{
	struct lb_keypair kp;
	struct sectx t = {0};
	if (final)
		*final = NULL;
	if (!from)
		return cli_failf(cmd, "this needs --from KEY (the key that signs)");
	if (cli_load_key(home, from, &kp))
		return 1;
	int rc = sectx_build(cmd, url, &kp, type, payload, len, &t);
	lb_keypair_wipe(&kp);
	if (rc)
		return 1;
	rc = sectx_send(cmd, url, &t, 60, final);
	if (!rc)
		snprintf(idhex, 2 * LB_HASH_LEN + 1, "%s", t.id);
	sectx_release(&t);
	return rc ? 1 : 0;
}

/* The minimum fee of a settlement type from the node's status (fees.types, else
 * fees.default), or fee_opt. */
static int settle_fee(const char *cmd, const char *url, const char *fee_opt,
		      const char *type_name, uint64_t *fee)
{
	if (fee_opt) {
		if (cli_parse_amount(fee_opt, fee))
			return cli_failf(cmd, "--fee %s is not an amount (e.g. 0.01)", fee_opt);
		return 0;
	}
	return sectx_min_fee(cmd, url, type_name, fee);
}

int sectx_settle_cited(const char *cmd, const char *url, const char *home, const char *from,
		       const char *fee_opt, uint32_t type, const char *type_name,
		       const uint8_t *payload, size_t len, char idhex[2 * LB_HASH_LEN + 1],
		       uint8_t **tx, size_t *txlen, uint8_t **proof, size_t *prooflen)
{
	struct lb_keypair kp;
	struct sectx t = {0};
	uint64_t fee;
	if (!from)
		return cli_failf(cmd, "paying on the settlement chain needs --from KEY");
	if (settle_fee(cmd, url, fee_opt, type_name, &fee) || cli_load_key(home, from, &kp))
		return 1;
	int rc = sectx_build_fee(cmd, url, &kp, LB_CHAIN_SETTLEMENT, type, payload, len, fee, &t);
	lb_keypair_wipe(&kp);
	if (rc || sectx_send(cmd, url, &t, 60, NULL)) {
		sectx_release(&t);
		return 1;
	}
	snprintf(idhex, 2 * LB_HASH_LEN + 1, "%s", t.id);
	sectx_release(&t);
	return sectx_proof(cmd, url, idhex, "business", tx, txlen, proof, prooflen);
}

int sectx_min_fee(const char *cmd, const char *url, const char *type_name, uint64_t *fee)
{
	json_t *st;
	if (cli_api_get(cmd, url, "/v1/status", &st))
		return 1;
	json_t *f = json_object_get(st, "fees");
	json_t *v = json_object_get(json_object_get(f, "types"), type_name);
	if (!json_is_integer(v))
		v = json_object_get(f, "default");
	*fee = json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
	json_decref(st);
	return 0;
}

int sectx_proof(const char *cmd, const char *url, const char *idhex, const char *anchor,
		uint8_t **tx, size_t *txlen, uint8_t **proof, size_t *plen)
{
	char path[256];
	json_t *pr;
	*tx = *proof = NULL;
	snprintf(path, sizeof path, "/v1/txs/%s/proof?anchor=%s", idhex, anchor);
	if (cli_api_get(cmd, url, path, &pr))
		return 1;
	const char *ph = json_string_value(json_object_get(pr, "proof"));
	const char *th = json_string_value(json_object_get(pr, "tx"));
	size_t pl = ph ? strlen(ph) / 2 : 0, tl = th ? strlen(th) / 2 : 0;
	uint8_t *pbuf = lb_malloc(pl + 1), *tbuf = lb_malloc(tl + 1);
	if (!pbuf || !tbuf || !ph || !th || lb_hex_decode(pbuf, pl, ph) ||
	    lb_hex_decode(tbuf, tl, th)) {
		lb_free(pbuf);
		lb_free(tbuf);
		json_decref(pr);
		return cli_failf(cmd, "the node gave no usable proof of tx %s", idhex);
	}
	json_decref(pr);
	*proof = pbuf;
	*plen = pl;
	*tx = tbuf;
	*txlen = tl;
	return 0;
}
