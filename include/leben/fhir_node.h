/*
 * The node's FHIR records joined to its vault, its directory entry and purge (docs/fhir.md,
 * "Vault, directory entry and purge"): the sealed store in <home>/fhir/, the one directory
 * asset that describes it (registered and updated by the node with the facets the store's
 * index gives: counts by type, patients, codes, date range), and the destruction of its
 * records when a data.purge names that asset.
 */
#ifndef LEBEN_FHIR_NODE_H
#define LEBEN_FHIR_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/error.h"

struct lb_ledger;
struct lb_fhir_store;

/* Open <home>/fhir/fhir.db sealed with the key only this node's key derives (made once:
 * <home>/fhir/store.pub). Close with lb_fhir_store_close. */
int lb_fhir_node_store_open(struct lb_ledger *l, const char *home, struct lb_fhir_store **st,
			    struct lb_errmsg *em);

/* The FHIR asset's id (registered by this node): LB_ENOTFOUND before the first publish,
 * LB_ECORRUPT or LB_EIO when <home>/fhir/asset.json cannot be read. */
int lb_fhir_node_asset(const char *home, uint8_t id[32]);

/* Note that the store changed: the next lb_fhir_node_tick publishes a new version. */
void lb_fhir_node_changed(void);

/* Keep the directory entry in sync (called by the node's worker a few times a second):
 * when the store changed and the previous version has committed (and at least
 * max(2 s, 10 x the last publish's own time) has passed, so that describing a large store
 * costs at most a tenth of the time), describe the store and send data.register (first) or
 * data.update signed with the node key. Best effort: failures are logged and retried. */
void lb_fhir_node_tick(struct lb_ledger *l, const char *home);

/* The purge worker's part (src/node/purge_worker.c): when asset is this node's FHIR asset,
 * destroy its records — all of them (whole) or those of the patients whose commitment
 * (lb_xchg_patient_commit with the asset's salt key and the Patient id) is in patients
 * (n x 32 bytes) — calling fn with each destroyed object's name, then publish the entry
 * again. *held: whether asset is the FHIR asset. */
int lb_fhir_node_purge(struct lb_ledger *l, const char *home, const uint8_t asset[32],
		       bool whole, const uint8_t *patients, size_t npatients,
		       void (*fn)(void *ctx, const uint8_t obj[32]), void *ctx, bool *held,
		       struct lb_errmsg *em);

#endif
