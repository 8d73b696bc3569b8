/*
 * The applications fed by the FHIR endpoint (docs/apps.md, "2. Chronic-disease monitoring"
 * and "5. Data-driven insurance"): once a FHIR write (a transaction Bundle, a create or an
 * update) has committed, its resources go to the applications that act on them:
 *   - Observations with a monitored code written by a registered device-data provider's key
 *     go to the node's monitor through its batch path (lb_mon_observations);
 *   - a completed Procedure whose reasonReference names a Condition, of a Patient carrying
 *     their key (identifier urn:leben:key) with an active Coverage naming a policy
 *     (identifier urn:leben:policy) and a billed amount (extension urn:leben:billed,
 *     valueMoney in ASC), raises a claim: the node anchors both events (ins.event), claims
 *     the amount the policy's adjudication gives (ins.claim) and settles it from the pool
 *     (ins.settle citing the claim), each with its own key, in a background thread. The
 *     outcome of each is appended to <home>/insurance/auto.ndjson (lb_apps_auto_claims).
 */
#ifndef LEBEN_APPS_H
#define LEBEN_APPS_H

#include <jansson.h>

#include "leben/error.h"

struct lb_ledger;
struct lb_fhir_store;

/* One committed FHIR write; everything borrowed for the call. */
struct lb_apps_fhir_write {
	struct lb_ledger *ledger;
	const char *home;            /* the node home */
	struct lb_fhir_store *store; /* the FHIR store the write committed to (open) */
	const char *writer_key;      /* hex key that signed the request, NULL for a certificate */
	const json_t *entries;       /* the written resources: an array of resources or of
				      * Bundle entries {"resource": ...} as stored (with meta) */
};

/* Called where a FHIR write commits. Never fails the write: what the applications refuse is
 * logged and recorded (the monitor's results, the claims' log). */
void lb_apps_fhir_committed(const struct lb_apps_fhir_write *w);

/* Ends the waits of the claims in progress and returns when none runs (the node calls it
 * before closing its ledger; a claim cut short is logged as refused). */
void lb_apps_quiesce(void);

/* The automatic claims' log of the node at home, oldest first: an array of
 * {"procedure","condition","patient","policy","status":"pending"|"settled"|"refused",
 *  "claim"?,"settle"?,"approved"?,"error"?,"time"} (*out: a new reference). */
int lb_apps_auto_claims(const char *home, json_t **out, struct lb_errmsg *em);

#endif
