/* libFuzzer harness for the payload decoders and handlers of the spine's tx types. Input:
 * one byte choosing the type (index into the table below, modulo its size), then the payload.
 * The stateless check, the JSON view and, if the check passes, a full application (generic
 * checks + the handler) run against a state where the sender is a funded credit partner
 * and owns an asset; nothing may crash, a refused application must leave the state exactly
 * as it was, and a second application of the same tx must be refused as a used nonce. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/crypto.h"
#include "leben/ledger.h"
#include "ledger/ledger_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t types[] = {
	LB_TX_ISSUE,	      LB_TX_TRANSFER,	     LB_TX_BURN,	   LB_TX_CONVERT,
	LB_TX_ASSET_REGISTER, LB_TX_ASSET_UPDATE,    LB_TX_ASSET_RETIRE,   LB_TX_IDENTITY_REGISTER,
	LB_TX_RECORD,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lb_keypair kp;
	static int ready;
	if (!ready) {
		uint8_t seed[LB_SEED_LEN];
		if (lb_crypto_init() || lb_ledger_register_core_types())
			abort();
		memset(seed, 7, sizeof seed);
		lb_keypair_from_seed(&kp, seed);
		ready = 1;
	}
	if (size < 1)
		return 0;
	const struct lb_txtype *t = lb_txtype_find(types[data[0] % (sizeof types / sizeof types[0])]);
	if (!t)
		abort();
	struct lb_tx tx;
	memset(&tx, 0, sizeof tx);
	tx.version = LB_TX_VERSION;
	tx.chain = (uint8_t)t->chain;
	tx.type = t->id;
	memcpy(tx.sender, kp.pk, LB_PUBKEY_LEN);
	tx.payload = data + 1;
	tx.payload_len = size - 1;
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = t->check ? t->check(&tx, &em) : LB_OK;
	if (t->to_json) {
		json_t *j = t->to_json(&tx);
		json_decref(j);
	}
	if (rc)
		return 0;

	/* the sender: funded, a credit partner; an asset of theirs under the first 32 payload
	 * bytes (so update/retire can find one) */
	struct lb_state base, s;
	uint8_t addr[LB_ADDR_LEN], before[LB_HASH_LEN], after[LB_HASH_LEN], zero[LB_HASH_LEN] = {0};
	lb_addr_from_pubkey(addr, kp.pk);
	state_init(&base, NULL, NULL);
	state_init(&s, &base, NULL);
	if (acct_set_balances(&base, addr, 1000000000, 1000000000) ||
	    lb_state_put_u64(&base, "partner", addr, LB_ADDR_LEN, 1))
		abort();
	if (tx.payload_len >= LB_HASH_LEN)
		lb_state_put(&base, "asset", tx.payload, LB_HASH_LEN, addr, LB_ADDR_LEN);
	state_app_hash(&s, zero, before);
	lb_errclear(&em);
	rc = ledger_apply_tx(&s, t->chain, &tx, 1, 1000, &em);
	state_app_hash(&s, zero, after);
	if (rc) {
		/* refused: nothing written, and the refusal explains itself */
		if (memcmp(before, after, LB_HASH_LEN) || s.map.count || !em.text[0])
			abort();
	} else {
		lb_errclear(&em);
		if (ledger_apply_tx(&s, t->chain, &tx, 1, 1000, &em) != LB_ENONCEUSED)
			abort();
	}
	state_release(&s);
	state_release(&base);
	return 0;
}
