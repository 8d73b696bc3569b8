/*
 * The applications fed by the FHIR endpoint (docs/apps.md, "2. Chronic-disease monitoring"
 * and "5. Data-driven insurance"), through the hook lb_apps_fhir_written
 * (include/leben/apps_fhir.h, src/apps/fhir_hook.c) once a FHIR transaction or update has
 * committed ($import chunks are not fed):
 *   - Observations with a monitored code written by a registered device-data provider's key
 *     (a member key of the institution) go to the node's monitor through its batch path
 *     (lb_mon_observations);
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

#include <stdbool.h>

#include <jansson.h>

#include "leben/error.h"

struct lb_ledger;

/* Is hex (a whole key, 64 lowercase hex digits) the owner institution's: the node's key (l
 * may be NULL: not asked) or a key of <home>/fhir/members (its staff and systems, one key a
 * line, docs/fhir.md)? */
bool lb_apps_is_member_key(struct lb_ledger *l, const char *home, const char *hex);

/* Ends the waits of the claims in progress and returns when none runs (the node calls it
 * before closing its ledger; a claim cut short is logged as refused). */
void lb_apps_quiesce(void);

/* The automatic claims' log of the node at home, oldest first: an array of
 * {"procedure","condition","patient","policy","status":"settled"|"refused","cost",
 *  "claim"?,"settle"?,"approved"?,"error"?,"time"} (*out: a new reference). */
int lb_apps_auto_claims(const char *home, json_t **out, struct lb_errmsg *em);

#endif
