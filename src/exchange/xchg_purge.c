/*
 * A patient's own purge request (business chain, 0x0390 data.purge.ask; docs/security.md §9):
 * signed by the consent key the asset's owner registered for the patient's commitment
 * (xchg.patients), it asks the owner to purge the patient's records from the asset. The
 * owner's `leben data purge --asks` answers it with a patients' data.purge on the directory
 * chain (by: patient); the views join both chains.
 *
 * State (business chain):
 *   purge.ask:    asset | commitment -> height | time_ms | reason
 *   purge.asks:   asset -> number of asks; purge.asks.i: asset | u32 i -> commitment
 *   purge.ask.p:  commitment -> asset (the patient's view)
 */
#include <stdio.h>
#include <string.h>

#include "exchange/xchg_int.h"
#include "leben/codec.h"
#include "leben/data_purge.h"

int lb_purge_ask_encode(const struct lb_purge_ask_tx *a, struct lb_buf *out)
{
	int rc;
	if ((rc = lb_enc_fixed(out, a->asset_id, 32)) || (rc = lb_enc_fixed(out, a->patient, 32)))
		return rc;
	return lb_enc_str(out, a->reason);
}

int lb_purge_ask_decode(const uint8_t *buf, size_t len, struct lb_purge_ask_tx *a,
			struct lb_errmsg *em)
{
	struct lb_dec d;
	memset(a, 0, sizeof *a);
	lb_dec_init(&d, buf, len, "data.purge.ask payload", em);
	int rc;
	if ((rc = lb_dec_fixed(&d, "asset_id", a->asset_id, 32)) ||
	    (rc = lb_dec_fixed(&d, "patient", a->patient, 32)) ||
	    (rc = lb_dec_str(&d, "reason", LB_PURGE_REASON_MAX, a->reason, sizeof a->reason)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	return LB_OK;
}

static int check_ask(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_purge_ask_tx a;
	return lb_purge_ask_decode(tx->payload, tx->payload_len, &a, em);
}

static int apply_ask(struct lb_apply_ctx *c)
{
	struct lb_purge_ask_tx a;
	struct xconsent_rec r;
	char ah[65], ph[65];
	int rc = lb_purge_ask_decode(c->tx->payload, c->tx->payload_len, &a, c->em);
	if (rc)
		return rc;
	lb_hex_encode(ah, a.asset_id, 32);
	lb_hex_encode(ph, a.patient, 32);
	if ((rc = xconsent_load(c->state, a.asset_id, a.patient, &r)))
		return lb_errf(c->em, rc == LB_ENOTFOUND ? LB_EUNAUTH : rc,
			       "asset %s, patient %s: no consent key is registered for this patient "
			       "(the owner registers it with xchg.patients); ask the owner instead",
			       ah, ph);
	if (memcmp(r.patient_addr, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "asset %s, patient %s: only the patient's registered consent key asks "
			       "for the purge of its records",
			       ah, ph);
	uint8_t key[64];
	memcpy(key, a.asset_id, 32);
	memcpy(key + 32, a.patient, 32);
	const uint8_t *v;
	size_t n;
	bool again = lb_state_get(c->state, "purge.ask", key, sizeof key, &v, &n) == LB_OK;
	struct lb_buf b;
	lb_buf_init(&b, 512);
	if (!(rc = lb_enc_uvar(&b, c->height)) && !(rc = lb_enc_uvar(&b, c->time_ms)) &&
	    !(rc = lb_enc_str(&b, a.reason)))
		rc = lb_state_put(c->state, "purge.ask", key, sizeof key, b.data, b.len);
	lb_buf_release(&b);
	if (rc || again)
		return rc;
	if ((rc = lb_state_put(c->state, "purge.ask.p", a.patient, 32, a.asset_id, 32)))
		return rc;
	uint64_t na = 0;
	uint8_t ik[36];
	if ((rc = lb_state_get_u64(c->state, "purge.asks", a.asset_id, 32, 0, &na)))
		return rc;
	memcpy(ik, a.asset_id, 32);
	for (int i = 0; i < 4; i++)
		ik[32 + i] = (uint8_t)(na >> (24 - 8 * i));
	if ((rc = lb_state_put(c->state, "purge.asks.i", ik, sizeof ik, a.patient, 32)))
		return rc;
	return lb_state_put_u64(c->state, "purge.asks", a.asset_id, 32, na + 1);
}

static json_t *json_ask(const struct lb_tx *tx)
{
	struct lb_purge_ask_tx a;
	char ah[65], ph[65];
	if (lb_purge_ask_decode(tx->payload, tx->payload_len, &a, NULL))
		return NULL;
	lb_hex_encode(ah, a.asset_id, 32);
	lb_hex_encode(ph, a.patient, 32);
	return json_pack("{s:s,s:s,s:s}", "asset_id", ah, "patient", ph, "reason", a.reason);
}

static const struct lb_txtype ask_types[] = {
	{LB_TX_DATA_PURGE_ASK, LB_CHAIN_BUSINESS, "data.purge.ask", check_ask, apply_ask, json_ask,
	 true},
};

int lb_purge_ask_register_txtypes(void)
{
	return lb_txtype_register_rows(ask_types, 1, false); /* records the block's time */
}

/* ---- the asks of an asset ------------------------------------------------------------------ */

struct askv {
	const uint8_t *asset, *patient;
	json_t *out;
};

static json_t *ask_json(struct lb_state *s, const uint8_t asset[32], const uint8_t pat[32])
{
	uint8_t key[64];
	const uint8_t *v;
	size_t n;
	char ph[65];
	memcpy(key, asset, 32);
	memcpy(key + 32, pat, 32);
	if (lb_state_get(s, "purge.ask", key, sizeof key, &v, &n))
		return NULL;
	struct lb_dec d;
	uint64_t h = 0, t = 0;
	char reason[LB_PURGE_REASON_MAX + 1] = "";
	lb_dec_init(&d, v, n, "purge ask record", NULL);
	if (lb_dec_uvar(&d, "height", UINT64_MAX, &h) || lb_dec_uvar(&d, "time", UINT64_MAX, &t) ||
	    lb_dec_str(&d, "reason", LB_PURGE_REASON_MAX, reason, sizeof reason))
		return NULL;
	lb_hex_encode(ph, pat, 32);
	return json_pack("{s:s,s:I,s:I,s:s}", "patient", ph, "height", (json_int_t)h, "time_ms",
			 (json_int_t)t, "reason", reason);
}

static int v_asks(struct lb_state *s, void *ctx)
{
	struct askv *k = ctx;
	if (k->patient) {
		const uint8_t *v;
		size_t n;
		uint8_t asset[32];
		if (!k->asset) { /* the asset the patient's commitment was asked for */
			if (lb_state_get(s, "purge.ask.p", k->patient, 32, &v, &n) || n != 32)
				return LB_OK;
			memcpy(asset, v, 32);
		} else {
			memcpy(asset, k->asset, 32);
		}
		json_t *one = ask_json(s, asset, k->patient);
		char ah[65];
		lb_hex_encode(ah, asset, 32);
		if (one) {
			json_object_set_new(one, "asset_id", json_string(ah));
			json_array_append_new(k->out, one);
		}
		return LB_OK;
	}
	uint64_t na = 0;
	int rc = lb_state_get_u64(s, "purge.asks", k->asset, 32, 0, &na);
	for (uint64_t i = 0; !rc && i < na; i++) {
		uint8_t ik[36];
		const uint8_t *v;
		size_t n;
		memcpy(ik, k->asset, 32);
		for (int b = 0; b < 4; b++)
			ik[32 + b] = (uint8_t)(i >> (24 - 8 * b));
		if (lb_state_get(s, "purge.asks.i", ik, sizeof ik, &v, &n) || n != 32)
			return LB_ECORRUPT;
		uint8_t pat[32];
		memcpy(pat, v, 32);
		json_t *one = ask_json(s, k->asset, pat);
		if (one)
			json_array_append_new(k->out, one);
	}
	return rc;
}

int lb_purge_asks_json(struct lb_ledger *l, const uint8_t *asset, const uint8_t *patient,
		       json_t **out, struct lb_errmsg *em)
{
	struct askv k = {.asset = asset, .patient = patient, .out = json_array()};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, v_asks, &k);
	if (rc) {
		json_decref(k.out);
		return lb_errf(em, rc, "reading the purge asks failed");
	}
	*out = k.out;
	return LB_OK;
}
