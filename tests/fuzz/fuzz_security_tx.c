/* libFuzzer harness for the security toolkit's tx payloads: the first byte picks a tx type
 * (keys.guardians, keys.recovery, keys.reset, policy.set, policy.approve on the business chain;
 * keys.follow, keys.follow.directory on the settlement and directory chains); the rest is its
 * payload, given to the type's stateless check and JSON view through the ledger's tx-type
 * table, and for policy.set / policy.approve / keys.follow to the decoders, whose accepted
 * inputs must re-encode to the same bytes (canonical form). A keys.follow's proof bytes also go
 * to lb_proof_verify, whose every refusal must say why. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "leben/base.h"
#include "leben/ledger.h"
#include "leben/security.h"
#include "leben/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t ids[] = {LB_TX_KEYS_GUARDIANS, LB_TX_KEYS_RECOVERY, LB_TX_KEYS_RESET,
				       LB_TX_POLICY_SET, LB_TX_POLICY_APPROVE, LB_TX_KEYS_FOLLOW,
				       LB_TX_KEYS_FOLLOW_DIR};
	static int ready;
	struct lb_errmsg em;
	if (size < 1)
		return 0;
	if (!ready) {
		if (sodium_init() < 0 || lb_security_register_txtypes())
			__builtin_trap();
		ready = 1;
	}
	uint32_t id = ids[data[0] % (sizeof ids / sizeof ids[0])];
	const struct lb_txtype *t = lb_txtype_find(id);
	struct lb_tx tx;
	memset(&tx, 0, sizeof tx);
	tx.chain = (uint8_t)t->chain;
	tx.type = id;
	tx.payload = data + 1;
	tx.payload_len = size - 1;
	lb_errclear(&em);
	int ok = t->check(&tx, &em) == LB_OK;
	json_t *j = t->to_json(&tx);
	if (ok != (j != NULL))
		__builtin_trap(); /* the JSON view decodes exactly what the check accepts */
	json_decref(j);
	if (!ok && !em.text[0])
		__builtin_trap(); /* every refusal says why */
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (ok && id == LB_TX_POLICY_SET) {
		struct lb_policy_set p;
		if (lb_policy_set_decode(&p, tx.payload, tx.payload_len, &em) ||
		    lb_policy_set_encode(&b, p.asset, &p.policy, p.approval, p.approval_len, &em) ||
		    b.len != tx.payload_len || memcmp(b.data, tx.payload, b.len))
			__builtin_trap();
	} else if (ok && id == LB_TX_POLICY_APPROVE) {
		struct lb_policy_approve p;
		if (lb_policy_approve_decode(&p, tx.payload, tx.payload_len, &em) ||
		    lb_policy_approve_encode(&b, p.asset, p.act, p.act_len, p.sig, p.sig_len) ||
		    b.len != tx.payload_len || memcmp(b.data, tx.payload, b.len))
			__builtin_trap();
	} else if (ok && (id == LB_TX_KEYS_FOLLOW || id == LB_TX_KEYS_FOLLOW_DIR)) {
		struct lb_keyfollow f;
		struct lb_proof_info info;
		if (lb_keyfollow_decode(&f, tx.payload, tx.payload_len, &em) ||
		    lb_keyfollow_encode(&b, f.tx, f.tx_len, f.proof, f.proof_len) ||
		    b.len != tx.payload_len || memcmp(b.data, tx.payload, b.len))
			__builtin_trap();
		lb_errclear(&em);
		int prc = lb_proof_verify(f.proof, f.proof_len, NULL, &info, &em);
		if (prc && !em.text[0])
			__builtin_trap();
	}
	lb_buf_release(&b);
	return 0;
}
