/* libFuzzer harness for the purge payloads (docs/security.md §9): the first byte picks
 * data.purge, data.purge.receipt (directory chain) or data.purge.ask (business chain); the rest
 * is its payload, given to the type's stateless check and JSON view through the ledger's
 * tx-type table; every accepted payload must re-encode to the same bytes (canonical form) and
 * every refusal must say why. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "leben/base.h"
#include "leben/data_purge.h"
#include "leben/ledger.h"
#include "leben/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t ids[] = {LB_TX_DATA_PURGE, LB_TX_DATA_PURGE_RECEIPT,
				       LB_TX_DATA_PURGE_ASK};
	static int ready;
	struct lb_errmsg em;
	if (size < 1)
		return 0;
	if (!ready) {
		if (sodium_init() < 0 || lb_purge_register_txtypes() ||
		    lb_purge_ask_register_txtypes())
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
	if (!ok)
		return 0;
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	int rc;
	if (id == LB_TX_DATA_PURGE) {
		struct lb_purge_tx p;
		rc = lb_purge_tx_decode(tx.payload, tx.payload_len, &p, &em) ||
		     lb_purge_tx_encode(&p, &b);
	} else if (id == LB_TX_DATA_PURGE_RECEIPT) {
		struct lb_purge_receipt_tx r;
		rc = lb_purge_receipt_decode(tx.payload, tx.payload_len, &r, &em) ||
		     lb_purge_receipt_encode(&r, &b);
	} else {
		struct lb_purge_ask_tx a;
		rc = lb_purge_ask_decode(tx.payload, tx.payload_len, &a, &em) ||
		     lb_purge_ask_encode(&a, &b);
	}
	if (rc || b.len != tx.payload_len || memcmp(b.data, tx.payload, b.len))
		__builtin_trap(); /* canonical: what decodes re-encodes to the same bytes */
	lb_buf_release(&b);
	return 0;
}
