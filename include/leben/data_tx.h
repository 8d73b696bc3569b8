/*
 * The data layer's directory-chain transaction types (wire ids 0x0210-0x021f): registration,
 * versioned updates, retirement and duplicate links of hexahedron descriptions, and provenance
 * events. Payloads of register/update/retire/link are struct lb_asset_tx (data_hexa.h); the
 * handlers apply the stateful rules of docs/hexahedron.md ("Directory-chain transactions").
 */
#ifndef LEBEN_DATA_TX_H
#define LEBEN_DATA_TX_H

#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"

enum {
	LB_TX_DATA_REGISTER = 0x0210,   /* new asset; payload lb_asset_tx op register */
	LB_TX_DATA_UPDATE = 0x0211,     /* next version; op update */
	LB_TX_DATA_RETIRE = 0x0212,     /* withdraw; op retire */
	LB_TX_DATA_LINK = 0x0213,       /* register a duplicate as a link; op register */
	LB_TX_DATA_PROVENANCE = 0x0214, /* provenance event of an asset version */
	LB_TX_DATA_READERS = 0x0215,    /* private part re-sealed to more readers */
};

#define LB_PROV_KIND_MAX 64
#define LB_PROV_NOTE_MAX 256

/* Payload of data.provenance: asset_id (32) | uvar version | text kind (1..64) |
 * digest (32) | text note (0..256). The digest names what the event is about (the new raw
 * bytes of a re-extraction, a report, ...). */
struct lb_prov_tx {
	uint8_t asset_id[32];
	uint64_t version;                 /* the asset version the event belongs to */
	char kind[LB_PROV_KIND_MAX + 1];  /* "extracted", "changed", "audited", ... */
	uint8_t digest[32];
	char note[LB_PROV_NOTE_MAX + 1];
};
int lb_prov_tx_encode(const struct lb_prov_tx *p, struct lb_buf *out);
int lb_prov_tx_decode(const uint8_t *buf, size_t len, struct lb_prov_tx *p,
		      struct lb_errmsg *em);

/* Payload of data.readers: asset_id (32) | uvar version | bytes envelope. The owner or a
 * co-owner re-seals the private part of the asset's current version to a new set of readers;
 * the envelope replaces the one of that version for whoever reads the privacy directory.
 * envelope borrows from the decoded input (decode) or the caller (encode). */
struct lb_readers_tx {
	uint8_t asset_id[32];
	uint64_t version;            /* must be the asset's current version */
	const uint8_t *envelope;     /* level-1 envelope (LBEV) of the private part */
	size_t envelope_len;
};
int lb_readers_tx_encode(const struct lb_readers_tx *r, struct lb_buf *out);
/* Refuses non-canonical bytes, version 0 and an envelope without the LBEV magic. */
int lb_readers_tx_decode(const uint8_t *buf, size_t len, struct lb_readers_tx *r,
			 struct lb_errmsg *em);

/* Register the data.* tx types in the ledger's table. Idempotent. */
int lb_data_register_txtypes(void);

#endif
