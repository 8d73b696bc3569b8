/* libFuzzer harness for the exchange's decoders: the first byte picks one (the sixteen tx
 * payloads, or the patients of a CSV table: each commitment must derive from its local id and
 * the list must be sorted and distinct); the rest is its input. Decoders must refuse bad input with an error code;
 * whatever a payload decoder accepts must re-encode to the same bytes (canonical form), and
 * the JSON view of an accepted payload must be built without fault. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/exchange.h"
#include "leben/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*dec_fn)(void *o, const uint8_t *p, size_t n, struct lb_errmsg *em);
typedef int (*enc_fn)(struct lb_buf *b, const void *o);

static const struct {
	dec_fn dec;
	enc_fn enc;
	uint32_t type;
} kinds[] = {
	{(dec_fn)lb_xchg_offer_decode, (enc_fn)lb_xchg_offer_encode, LB_TX_XCHG_OFFER},
	{(dec_fn)lb_xchg_grant_decode, (enc_fn)lb_xchg_grant_encode, LB_TX_XCHG_GRANT},
	{(dec_fn)lb_xchg_algo_decode, (enc_fn)lb_xchg_algo_encode, LB_TX_XCHG_ALGO},
	{(dec_fn)lb_xchg_request_decode, (enc_fn)lb_xchg_request_encode, LB_TX_XCHG_REQUEST},
	{(dec_fn)lb_xchg_approve_decode, (enc_fn)lb_xchg_approve_encode, LB_TX_XCHG_APPROVE},
	{(dec_fn)lb_xchg_consent_decode, (enc_fn)lb_xchg_consent_encode, LB_TX_XCHG_CONSENT},
	{(dec_fn)lb_xchg_exec_decode, (enc_fn)lb_xchg_exec_encode, LB_TX_XCHG_EXEC},
	{(dec_fn)lb_xchg_result_decode, (enc_fn)lb_xchg_result_encode, LB_TX_XCHG_RESULT},
	{(dec_fn)lb_xchg_revoke_decode, (enc_fn)lb_xchg_revoke_encode, LB_TX_XCHG_REVOKE},
	{(dec_fn)lb_escrow_open_decode, (enc_fn)lb_escrow_open_encode, LB_TX_ESCROW_OPEN},
	{(dec_fn)lb_escrow_cite_decode, (enc_fn)lb_escrow_cite_encode, LB_TX_ESCROW_RELEASE},
	{(dec_fn)lb_escrow_claim_decode, (enc_fn)lb_escrow_claim_encode, LB_TX_ESCROW_CLAIM},
	{(dec_fn)lb_xchg_patients_decode, (enc_fn)lb_xchg_patients_encode, LB_TX_XCHG_PATIENTS},
	{(dec_fn)lb_xchg_view_decode, (enc_fn)lb_xchg_view_encode, LB_TX_XCHG_VIEW},
	{(dec_fn)lb_xchg_audit_req_decode, (enc_fn)lb_xchg_audit_req_encode, LB_TX_AUDIT_REQUEST},
	{(dec_fn)lb_xchg_audit_score_decode, (enc_fn)lb_xchg_audit_score_encode, LB_TX_AUDIT_RECORD},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union { /* room for the largest payload structs */
		struct lb_xchg_offer offer;
		struct lb_xchg_request request;
	} obj;
	static int registered;
	struct lb_errmsg em;
	if (size < 1 || lb_crypto_init())
		return 0;
	if (!registered) {
		lb_ledger_register_core_types();
		lb_exchange_register_txtypes();
		registered = 1;
	}
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	unsigned k = data[0] % (NKINDS + 1);
	if (k == NKINDS) {
		uint8_t asset[32] = {0}, id[32], salt_key[LB_XCHG_SALT_KEY_LEN] = {1};
		struct lb_xchg_patient *pats = NULL;
		size_t np = 0;
		if (lb_xchg_csv_patients(p, n, "patient_id", asset, salt_key, &pats, &np, &em) == LB_OK) {
			for (size_t i = 0; i < np; i++) {
				lb_xchg_patient_commit(id, asset, salt_key, pats[i].local);
				if (memcmp(id, pats[i].id, 32) ||
				    (i && memcmp(pats[i - 1].id, pats[i].id, 32) >= 0))
					__builtin_trap();
			}
			lb_free(pats);
		}
		return 0;
	}
	memset(&obj, 0, sizeof obj);
	if (kinds[k].dec(&obj, p, n, &em) != LB_OK)
		return 0;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	if (kinds[k].enc(&b, &obj) != LB_OK || b.len != n || memcmp(b.data, p, n) != 0)
		__builtin_trap();
	lb_buf_release(&b);
	const struct lb_txtype *t = lb_txtype_find(kinds[k].type);
	struct lb_tx tx = {.type = kinds[k].type, .payload = p, .payload_len = n};
	json_t *j = t && t->to_json ? t->to_json(&tx) : NULL;
	json_decref(j);
	return 0;
}
