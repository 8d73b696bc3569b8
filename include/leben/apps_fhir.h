/*
 * The applications' hook on FHIR writes (docs/fhir.md, "The applications' hook"): the FHIR
 * endpoint calls lb_apps_fhir_written once each group of writes has committed — after a
 * transaction or update Bundle, and after each committed chunk of an NDJSON import — with the
 * resources just stored, so that applications (the monitor's readings, insurance's clinical
 * events) can act on them. The write is already durable: the hook cannot refuse or undo it,
 * and what it does must not block for long (the client waits for the reply).
 * src/apps/fhir_hook.c holds the default implementation.
 */
#ifndef LEBEN_APPS_FHIR_H
#define LEBEN_APPS_FHIR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/error.h"

struct lb_ledger;
struct lb_submit_result;

/* Who wrote, and the node they wrote to. Everything borrowed for the call only. */
struct lb_apps_fhir_write {
	struct lb_ledger *ledger;     /* the node's ledger */
	const char *home;             /* the node's home directory, or NULL */
	const char *writer;           /* "institution <org>", "member key <16 hex>", "node key
				       * <16 hex>", "Patient/<id>" (as AuditEvent names it) */
	const char *writer_key;       /* the whole signing key (64 hex) when the node's or a
				       * member's key signed the write; NULL otherwise */
	const char *operation;        /* "transaction", "update" or "import" */
	/* Send one signed tx as POST /v1/txs does (NULL when the caller cannot). */
	int (*submit)(void *api, const uint8_t *raw, size_t len, struct lb_submit_result *res,
		      struct lb_errmsg *em);
	void *api;                    /* for submit */
};

/* resources: a JSON array (borrowed) of the resources just committed, each as stored (id,
 * meta.versionId, meta.lastUpdated; Provenance the endpoint wrote itself is not included). */
void lb_apps_fhir_written(const struct lb_apps_fhir_write *w, const json_t *resources);

/* ---- the cohort application as FHIR (docs/apps.md section 3, docs/fhir.md) --------------- */

/* A cohort study as an R4 ResearchStudy (new reference) from its status (lb_cohort_json):
 * id and identifier urn:leben:cohort the cohort id, title, status in-review before approval,
 * active while rounds remain, completed after the last; criteria in note. */
json_t *lb_cohort_fhir_study(const json_t *status);
/* A participant as an R4 ResearchSubject (new reference): id as given, status on-study or
 * withdrawn from its record (lb_cohort_patient_json), study ResearchStudy/<cohort>, the
 * individual by its commitment (identifier urn:leben:patient-commitment), and identifiers
 * urn:leben:cohort, urn:leben:asset, urn:leben:patient-commitment. */
json_t *lb_cohort_fhir_subject(const char *id, const char *cohort, const char *asset,
			       const char *commitment, const json_t *record);

#endif
