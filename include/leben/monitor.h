/*
 * Chronic-disease monitoring (docs/apps.md, "2. Chronic-disease monitoring"): wearable
 * readings from registered device-data providers, each evaluated as it arrives by the
 * patient's risk contract (PROforma, run in-process), graded warnings in a notification
 * outbox (SQLite) delivered to a webhook with retries, acknowledged by a clinician's signature
 * and escalated when not acknowledged in time; accepted readings counted per provider per
 * settlement batch and recorded on the business chain (0x03a8 monitor.payment).
 * All functions are thread-safe (one lock per monitor).
 */
#ifndef LEBEN_MONITOR_H
#define LEBEN_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/error.h"

struct lb_monitor;
struct lb_ledger;

#define LB_TX_MONITOR_PAYMENT 0x03a8 /* business: a provider's accepted readings in a batch */

/* The payment record (payload of 0x03a8). amount must equal count * price. */
struct lb_mon_payment_tx {
	uint8_t provider[32]; /* the provider's signing key */
	uint64_t batch;       /* 1, 2, ... per provider, in order */
	uint64_t count;       /* readings accepted in the batch */
	uint64_t price;       /* ASC micro-units per accepted reading */
	uint64_t amount;      /* count * price */
	uint8_t digest[32];   /* BLAKE2b-256 of the batch's accepted reading keys, in order */
};
int lb_mon_payment_encode(const struct lb_mon_payment_tx *p, uint8_t *out, size_t *len);
int lb_mon_payment_decode(const uint8_t *buf, size_t len, struct lb_mon_payment_tx *p,
			  struct lb_errmsg *em);
int lb_monitor_register_txtypes(void);

/* Open (creating) <dir>/monitor.db. *out is freed with lb_mon_close. */
int lb_mon_open(struct lb_monitor **out, const char *dir, struct lb_errmsg *em);
void lb_mon_close(struct lb_monitor *m);

/* Each call below takes a JSON request (borrowed) and answers *out (new reference); the
 * shapes are those of docs/api.md, "Chronic-disease monitoring". now_ms: the wall clock. */
/* Signed requests carry "time" (Unix seconds) within this of the node's clock. */
#define LB_MON_SIG_WINDOW_S 300
/* A device-data provider registers itself: req {name, key, price, time, sig}, sig = Ed25519
 * by key over "LEBEN-monitor-provider-v1\n<name>\n<key>\n<price>\n<time>". A name
 * registered under another key is refused (LB_EEXISTS), a bad signature LB_EBADSIG. */
int lb_mon_provider(struct lb_monitor *m, const json_t *req, json_t **out, struct lb_errmsg *em);
/* Enrol a patient: req {patient, contract, clinician, second, webhook?, ack_deadline_s?,
 * patient_key, time, by, sig, consent?}; sig = Ed25519 by `by` over
 * "LEBEN-monitor-enrol-v1\n<patient>\n<contract hash>\n<clinician>\n<second>\n<webhook>
 * \n<deadline>\n<patient_key>\n<time>". `by` is the patient (by == patient_key) or the owner
 * institution (by_institution: the caller checked that `by` is the node's key or a member's),
 * which also needs "consent", the patient's signature of the same message. A stranger is
 * LB_EUNAUTH, an institution without consent LB_EDENIED, another key re-enrolling an
 * enrolled patient LB_EUNAUTH; nothing is changed then. */
int lb_mon_enrol(struct lb_monitor *m, const json_t *req, bool by_institution, json_t **out,
		 struct lb_errmsg *em);
/* A batch of readings (NDJSON or a JSON array, body[0..len)) from provider `provider`, signed
 * by its key: sig_hex = Ed25519 over "LEBEN-monitor-readings-v1\n" || body. Each reading is
 * accepted or refused on its own ({"results":[{"index","status","error"?,"warning"?}]}). */
int lb_mon_readings(struct lb_monitor *m, const char *provider, const char *sig_hex,
		    const char *body, size_t len, int64_t now_ms, json_t **out,
		    struct lb_errmsg *em);
/* Observations written through the FHIR endpoint (resources: an array, borrowed) by the key
 * writer_hex (64 hex digits; the FHIR request's signature authenticated it): when it is a
 * registered device-data provider's key, those with a monitored code go through the batch
 * path of lb_mon_readings (graded, outbox, counted for the provider's payment; the answer of
 * lb_mon_readings into *out), other resources are skipped. LB_ENOTFOUND when the key is no
 * provider's or no resource is a monitored Observation. */
int lb_mon_observations(struct lb_monitor *m, const char *writer_hex, const json_t *resources,
			int64_t now_ms, json_t **out, struct lb_errmsg *em);
/* The node's monitor, <home>/monitor/monitor.db, one per process, with the thread that
 * escalates overdue warnings and delivers the outbox to webhooks (started on first open;
 * the node opens it at start when the database exists). create: make the database when
 * absent, else LB_ENOTFOUND. *out is borrowed: it lives as long as the process. */
int lb_mon_node(const char *home, bool create, struct lb_monitor **out, struct lb_errmsg *em);
/* Outbox entries after id `after` (0: all), optionally of one patient or state. */
int lb_mon_outbox(struct lb_monitor *m, int64_t after, const char *patient, const char *state,
		  int64_t now_ms, json_t **out, struct lb_errmsg *em);
/* Acknowledge entry id: req {"by": clinician key hex, "sig": Ed25519 hex over
 * "LEBEN-monitor-ack-v1\n<id>"}. */
int lb_mon_ack(struct lb_monitor *m, int64_t id, const json_t *req, int64_t now_ms,
	       json_t **out, struct lb_errmsg *em);
/* Escalate overdue entries and try due webhook deliveries (blocking, without the lock held
 * while sending). Returns the number of deliveries tried. */
int lb_mon_tick(struct lb_monitor *m, int64_t now_ms);
/* Providers, their counts (open batch and settled batches), patients and outbox totals. */
int lb_mon_status(struct lb_monitor *m, json_t **out, struct lb_errmsg *em);
/* Close every provider's open batch with readings and submit one 0x03a8 per provider with
 * the node's key (l). */
int lb_mon_settle(struct lb_monitor *m, struct lb_ledger *l, json_t **out, struct lb_errmsg *em);

#endif
