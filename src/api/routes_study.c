/*
 * The study route (docs/api.md, "Studies across nodes"): one owner's local step of one round of
 * a federated algorithm (leben study run --owners URL,...). The node checks on the business
 * chain that the user who signed the study holds an approved request for this node's asset and
 * the algorithm, runs the step in its own sandbox over the registered table, and answers only
 * the partial masked pairwise with the other owners' node keys: the coordinator learns the sum
 * of all owners' partials and nothing of one owner's.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/api_int.h"
#include "leben/algo.h"
#include "leben/crypto.h"
#include "leben/exchange.h"

#define STUDY_MSG_MAX (1u << 20)     /* bytes of the signed study message */
#define STUDY_DATA_MAX ((size_t)1 << 30) /* bytes of an owner's table */
#define STUDY_FRAC_BITS 24

static bool hexf(const json_t *o, const char *key, uint8_t *out, size_t n)
{
	const char *h = json_string_value(json_object_get(o, key));
	return h && !lb_hex_decode(out, n, h);
}

/* The owner's table: <home>/exchange/assets/<asset hex>.csv, which must be the registered data
 * (its content hash). */
static int load_asset(const struct api_call *c, const struct lb_xchg_study_right *r,
		      struct lb_table *t, struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 1], path[4300];
	uint8_t *d = NULL, h[LB_HASH_LEN];
	size_t len = 0;
	if (!c->home)
		return lb_errf(em, LB_EUNAVAILABLE, "this node keeps no asset tables (no home)");
	lb_hex_encode(hex, r->asset, LB_HASH_LEN);
	snprintf(path, sizeof path, "%s/exchange/assets/%s.csv", c->home, hex);
	int rc = lb_file_read(path, STUDY_DATA_MAX, &d, &len, em);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, LB_EUNAVAILABLE, "this node holds no table for asset %s (the owner places it "
						    "at exchange/assets/%s.csv in the node's home)", hex, hex);
	if (rc)
		return rc;
	lb_hash(h, d, len);
	if (memcmp(h, r->content, LB_HASH_LEN))
		rc = lb_errf(em, LB_EUNAVAILABLE, "the table kept for asset %s is not the registered data (its hash "
						  "differs)", hex);
	else
		rc = lb_table_parse_csv((const char *)d, len, 0, t, em);
	sodium_memzero(d, len);
	lb_free(d);
	return rc;
}

/* POST /v1/study/step {"msg": TEXT, "pk": HEX, "sig": HEX}. msg is the JSON text the user signed
 * (sig = Ed25519 over H("LEBEN-study-step-v1" || msg)): {"study": HEX, "round": N,
 * "algorithm": "stats"|"logreg"|"km", "step": {...}, "owners": [{"node_key": HEX,
 * "request": HEX}, ...]}. The same message goes to every owner. Answer: {"study", "round",
 * "node_key", "values": len, "masked": HEX (len little-endian 64-bit words)}. */
int api_study_step(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t pk[LB_PUBKEY_LEN], sig[LB_SIG_LEN], digest[LB_HASH_LEN], user[LB_ADDR_LEN],
		self[LB_PUBKEY_LEN], req[LB_HASH_LEN], study[LB_HASH_LEN];
	uint8_t(*peers)[32] = NULL, (*pairs)[32] = NULL;
	json_t *b = NULL, *m = NULL;
	json_error_t jerr;
	struct lb_table t = {0};
	double *part = NULL;
	uint64_t *masked = NULL;
	size_t len = 0, n = 0, me = 0;
	char *hex = NULL;
	int rc;
	(void)status;
	b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	const char *msg = json_string_value(json_object_get(b, "msg"));
	if (!json_is_object(b) || !msg || strlen(msg) > STUDY_MSG_MAX || !hexf(b, "pk", pk, sizeof pk) ||
	    !hexf(b, "sig", sig, sizeof sig)) {
		rc = lb_errf(em, LB_EMALFORMED, "the body must be {\"msg\": TEXT (at most %u bytes), \"pk\": HEX, "
						"\"sig\": HEX}", STUDY_MSG_MAX);
		goto out;
	}
	lb_hash_domain(digest, "LEBEN-study-step-v1", msg, strlen(msg));
	if (!lb_sig_is_valid(sig, digest, sizeof digest, pk)) {
		rc = lb_errf(em, LB_EBADSIG, "the user's signature of the study step does not verify");
		goto out;
	}
	lb_addr_from_pubkey(user, pk);
	m = json_loads(msg, 0, &jerr);
	const char *algo = json_string_value(json_object_get(m, "algorithm"));
	json_t *ow = json_object_get(m, "owners"), *step = json_object_get(m, "step"),
	       *round = json_object_get(m, "round");
	n = json_array_size(ow);
	if (!json_is_object(m) || !hexf(m, "study", study, sizeof study) || !json_is_integer(round) ||
	    !algo || !json_is_object(step) || n < 2 || n > 64) {
		rc = lb_errf(em, LB_EMALFORMED, "msg must be {\"study\": HEX, \"round\": N, \"algorithm\": NAME, "
						"\"step\": {...}, \"owners\": [2 to 64 {\"node_key\", \"request\"}]}");
		goto out;
	}
	if (strcmp(algo, "stats") && strcmp(algo, "logreg") && strcmp(algo, "km")) {
		rc = lb_errf(em, LB_EUNSUPPORTED, "algorithm '%s' has no federated form (stats, logreg, km)", algo);
		goto out;
	}
	if ((rc = lb_ledger_node_pk(c->ledger, self, em)))
		goto out;
	peers = lb_calloc(n, 32);
	pairs = lb_calloc(n, 32);
	if (!peers || !pairs) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(ow, i);
		if (!hexf(e, "node_key", peers[i], 32) || !hexf(e, "request", req, sizeof req)) {
			rc = lb_errf(em, LB_EMALFORMED, "owners[%zu] must be {\"node_key\": HEX, \"request\": HEX}", i);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (!memcmp(peers[i], peers[j], 32)) {
				rc = lb_errf(em, LB_EINVALID, "owners[%zu] and owners[%zu] are the same node", j, i);
				goto out;
			}
		if (!memcmp(peers[i], self, 32))
			found = true, me = i;
	}
	if (!found) {
		rc = lb_errf(em, LB_EINVALID, "this node's key is not among the study's owners");
		goto out;
	}
	/* every owner listed must be a party with a usage right: otherwise a user could list a key
	 * of its own as a peer and remove that peer's masks (each on its own asset) */
	struct lb_xchg_study_right right, other;
	uint8_t(*seen)[LB_HASH_LEN] = lb_calloc(n, LB_HASH_LEN);
	if (!seen) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < n && rc == LB_OK; k++) {
		size_t i = (me + k) % n; /* this node's own request first */
		uint8_t paddr[LB_ADDR_LEN];
		lb_addr_from_pubkey(paddr, peers[i]);
		hexf(json_array_get(ow, i), "request", req, sizeof req);
		if ((rc = lb_xchg_study_check(c->ledger, req, user, paddr, algo, i == me ? &right : &other, em))) {
			if (i == me)
				lb_errwrap(em, "no usage right, nothing computed: ");
			else
				lb_errwrap(em, "owners[%zu] is not a party of this study, nothing computed: ", i);
			break;
		}
		memcpy(seen[i], i == me ? right.asset : other.asset, LB_HASH_LEN);
		for (size_t q = 0; q < k; q++)
			if (!memcmp(seen[i], seen[(me + q) % n], LB_HASH_LEN))
				rc = lb_errf(em, LB_EINVALID, "owners[%zu] and owners[%zu] name the same asset; nothing computed",
					     (me + q) % n, i);
	}
	lb_free(seen);
	if (rc)
		goto out;
	if ((rc = load_asset(c, &right, &t, em)))
		goto out;
	if ((rc = lb_fed_step(&t, step, true, &part, &len, em)))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (i != me && (rc = lb_ledger_node_agree(c->ledger, peers[i], pairs[i], em)))
			goto out;
	if (!(masked = lb_calloc(len ? len : 1, sizeof *masked)) || !(hex = lb_malloc(len * 16 + 1))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = lb_fed_mask(part, len, STUDY_FRAC_BITS, digest, self, (const uint8_t(*)[32])peers,
			      (const uint8_t(*)[32])pairs, n, masked, em)))
		goto out;
	for (size_t j = 0; j < len; j++) {
		uint8_t w[8];
		for (int k = 0; k < 8; k++)
			w[k] = (uint8_t)(masked[j] >> (8 * k));
		lb_hex_encode(hex + 16 * j, w, 8);
	}
	hex[16 * len] = 0;
	*out = json_pack("{s:s,s:O,s:o,s:I,s:s,s:I}", "study", json_string_value(json_object_get(m, "study")),
			 "round", round, "node_key", api_hex_json(self, sizeof self), "values", (json_int_t)len,
			 "masked", hex, "frac_bits", (json_int_t)STUDY_FRAC_BITS);
out:
	if (part)
		sodium_memzero(part, len * sizeof *part);
	if (pairs)
		sodium_memzero(pairs, n * 32);
	lb_free(part);
	lb_free(masked);
	lb_free(hex);
	lb_free(peers);
	lb_free(pairs);
	lb_table_release(&t);
	json_decref(m);
	json_decref(b);
	return rc;
}
