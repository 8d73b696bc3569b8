/*
 * Verifiable purge (directory chain, wire ids 0x0220-0x022f; docs/security.md "Purge",
 * docs/data.md "Purge"): an owner purges a whole asset, or the records of named patients in
 * it at their request; every holder the request names (the asset's owner always, and the
 * executors that received the asset's data for off-site or integrated runs) destroys its
 * copies by crypto-shredding and answers with a signed receipt naming the object hashes it
 * destroyed. The chain keeps the request, the receipts and hashes only.
 *
 * State (directory chain):
 *   purge.req:   request tx id -> record (purge_tx.c)
 *   purge.rcpt:  request id | holder address -> height | time_ms | objects destroyed
 *   purge.asset: asset id -> number of requests; purge.asset.i: asset | u32 i -> request id
 *   purge.patient: commitment -> number; purge.patient.i: commitment | u32 i -> request id
 *   purge.all:   "n" -> number of requests; purge.idx: u64 i (big endian) -> request id
 */
#ifndef LEBEN_DATA_PURGE_H
#define LEBEN_DATA_PURGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"

enum {
	LB_TX_DATA_PURGE = 0x0220,         /* purge request: whole asset or named patients */
	LB_TX_DATA_PURGE_RECEIPT = 0x0221, /* a holder's receipt: what it destroyed */
	LB_TX_DATA_PURGE_ASK = 0x0390,     /* business: a patient asks (its consent key) */
};

enum { LB_PURGE_ASSET = 1, LB_PURGE_PATIENTS = 2 };   /* scope */
enum { LB_PURGE_BY_OWNER = 1, LB_PURGE_BY_PATIENT = 2 }; /* at whose request */

#define LB_PURGE_PATIENTS_MAX 1000
#define LB_PURGE_HOLDERS_MAX 64
#define LB_PURGE_OBJECTS_MAX 1024
#define LB_PURGE_DEADLINE_MAX 100000
#define LB_PURGE_REASON_MAX 256

/* Payload of data.purge: asset_id (32) | u8 scope | u8 by | uvar deadline (blocks, 1..100000) |
 * uvar n | n patient commitments (32; scope patients: 1..1000, scope asset: 0) | uvar m |
 * m holder addresses (20; 0..64, distinct, the owner is added by the chain) | text reason
 * (0..256). The arrays borrow from the decoded input (decode) or the caller (encode). */
struct lb_purge_tx {
	uint8_t asset_id[32];
	uint8_t scope, by;
	uint64_t deadline;
	size_t npatients;
	const uint8_t *patients; /* npatients * 32 */
	size_t nholders;
	const uint8_t *holders; /* nholders * LB_ADDR_LEN */
	char reason[LB_PURGE_REASON_MAX + 1];
};
int lb_purge_tx_encode(const struct lb_purge_tx *p, struct lb_buf *out);
/* Refuses non-canonical bytes, an unknown scope or by, a deadline out of range, patients
 * with scope asset (or none with scope patients), duplicate holders. */
int lb_purge_tx_decode(const uint8_t *buf, size_t len, struct lb_purge_tx *p,
		       struct lb_errmsg *em);

/* Payload of data.purge.receipt: request id (32) | asset_id (32) | uvar n | n object hashes
 * (32; 0..1024: the BLAKE2b-256 names of the vault objects, delivered inputs, ... destroyed) |
 * text note (0..256). Only a holder the request names may send it, once. */
struct lb_purge_receipt_tx {
	uint8_t request[32];
	uint8_t asset_id[32];
	size_t nobjects;
	const uint8_t *objects;
	char note[LB_PURGE_REASON_MAX + 1];
};
int lb_purge_receipt_encode(const struct lb_purge_receipt_tx *r, struct lb_buf *out);
int lb_purge_receipt_decode(const uint8_t *buf, size_t len, struct lb_purge_receipt_tx *r,
			    struct lb_errmsg *em);

/* Register data.purge and data.purge.receipt. Idempotent. */
int lb_purge_register_txtypes(void);

/* Payload of data.purge.ask (business chain, src/exchange/xchg_purge.c): asset_id (32) |
 * patient commitment (32) | text reason (0..256). Only the consent key registered for the
 * patient (xchg.patients) may send it; the owner answers with a patients' data.purge. */
struct lb_purge_ask_tx {
	uint8_t asset_id[32];
	uint8_t patient[32];
	char reason[LB_PURGE_REASON_MAX + 1];
};
int lb_purge_ask_encode(const struct lb_purge_ask_tx *a, struct lb_buf *out);
int lb_purge_ask_decode(const uint8_t *buf, size_t len, struct lb_purge_ask_tx *a,
			struct lb_errmsg *em);
/* Register data.purge.ask. Idempotent. */
int lb_purge_ask_register_txtypes(void);

struct lb_ledger;
/* The purge status of an asset: {"asset_id", "purged": bool (whole asset), "purged_at":
 * time_ms, "requests": [{"request", "scope", "by", "requested_by", "height", "time_ms",
 * "deadline_height", "patients": [HEX], "reason", "complete": bool, "holders": [{"holder",
 * "status": "answered"|"waiting"|"late", "height", "time_ms", "objects"}]}]}. LB_ENOTFOUND
 * when no purge was ever asked for the asset. *out is a new reference. */
int lb_purge_status_json(struct lb_ledger *l, const uint8_t asset[32], json_t **out,
			 struct lb_errmsg *em);
/* The patients' asks of an asset (business chain), or only patient's (non-NULL; asset may
 * then be NULL: the asset the commitment was asked for): [{"patient", "height", "time_ms",
 * "reason"[, "asset_id"]}]. */
int lb_purge_asks_json(struct lb_ledger *l, const uint8_t *asset, const uint8_t *patient,
		       json_t **out, struct lb_errmsg *em);
/* The patient's view (the patient portal reads it): {"patient", "directory_height",
 * "purges": [the request as above without the other patients, with "asset_id"]} for every
 * request naming the patient's commitment; an empty list when none. */
int lb_purge_patient_json(struct lb_ledger *l, const uint8_t patient[32], json_t **out,
			  struct lb_errmsg *em);
/* Whether asset was purged as a whole (*when = the request's block time) or has patients'
 * records purged (*patients, a new JSON array of commitments; may be NULL). LB_OK. */
int lb_purge_of(struct lb_ledger *l, const uint8_t asset[32], bool *whole, uint64_t *when,
		json_t **patients);

/* One request waiting for holder's receipt (for the node's purge worker). */
struct lb_purge_todo {
	uint8_t request[32];
	uint8_t asset_id[32];
	uint8_t scope;
	uint64_t index; /* position in purge.idx */
	bool named;     /* the request names holder (which owes a receipt) */
};
/* The requests from index *from on (at most 64): those that name holder and have no receipt
 * from it (named), and those that do not name it (not named: handed out once, so that copies
 * it holds anyway are destroyed). *from is advanced past the requests that need nothing more
 * from holder (a *from past every request, a cursor kept from another history, starts again
 * at 0). *todo is allocated (lb_free). */
int lb_purge_pending(struct lb_ledger *l, const uint8_t holder[LB_ADDR_LEN], uint64_t *from,
		     struct lb_purge_todo **todo, size_t *n, struct lb_errmsg *em);

#endif
