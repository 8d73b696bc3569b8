/*
 * The on-chain sandbox (docs/exchange.md, "On-chain sandbox"): small computations every node
 * runs inside a business-chain tx and must agree on, in a deterministic, step-metered
 * integer language (eligibility rules over recorded attributes, fee splits, threshold checks
 * over recorded aggregates).
 *
 * Determinism: values are 64-bit signed integers and lists of them, nothing else. There are
 * no floating-point operations; every arithmetic operation is checked (an overflow or a
 * division by zero stops the run with LB_ERANGE at its line and column); evaluation order is
 * fixed (left to right, `and`/`or`/`if` short-circuit); there is no clock, randomness, I/O
 * or host state. Steps and memory are counted by the same rules on every node, so a budget
 * is exhausted at the same step everywhere.
 *
 * Tx types (business chain; payloads in docs/wire-format.md):
 *   compute.publish 0x0351  record a program under its hash for later runs
 *   compute.run     0x0350  run a program (inline or by hash) over inputs, with a step budget;
 *                           the outputs, steps and memory used are stored under the tx id;
 *                           with genesis "compute": {"prepay": true} it must cite the
 *                           sender's compute.prepay (settlement 0x012a, used once), which
 *                           compute.settle (0x012b) settles (docs/economy.md)
 */
#ifndef LEBEN_ONCHAIN_H
#define LEBEN_ONCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"

#define LB_OC_PROGRAM_MAX 16384     /* bytes of program text */
#define LB_OC_NAME_MAX 32           /* bytes of an input / output / variable name */
#define LB_OC_INPUTS_MAX 64         /* inputs of one run */
#define LB_OC_OUTPUTS_MAX 64        /* outputs of one run */
#define LB_OC_LIST_MAX 4096         /* elements of a list input */
#define LB_OC_STEPS_MAX 1000000     /* largest step budget a tx may ask for */
#define LB_OC_MEM_MAX (256u << 10)  /* bytes of list memory a run may allocate (consensus) */
#define LB_OC_DEPTH_MAX 64          /* nesting depth of brackets and prefix operators */
#define LB_OC_HEIGHT_MAX 256        /* height of an expression tree (a + b + ... counts) */

enum {
	LB_TX_COMPUTE_RUN = 0x0350,
	LB_TX_COMPUTE_PUBLISH = 0x0351,
	/* settlement chain (src/market/steps.c): lock budget x compute.step CSC; settle a run */
	LB_TX_COMPUTE_PREPAY = 0x012a,
	LB_TX_COMPUTE_SETTLE = 0x012b,
	/* the payer takes back an expired prepayment no run used (docs/economy.md) */
	LB_TX_COMPUTE_RECLAIM = 0x012c,
};

/* A named value: an integer (is_list false, n == 1, v[0]) or a list of n integers. */
struct lb_oc_value {
	char name[LB_OC_NAME_MAX + 1];
	bool is_list;
	int64_t *v; /* owned (lb_malloc) */
	size_t n;
};

void lb_oc_values_free(struct lb_oc_value *v, size_t n);

struct lb_oc_program; /* parsed program */

/* Parse program text. LB_ESYNTAX with "line L, column C: ..." for malformed text,
 * LB_ETOOBIG over LB_OC_PROGRAM_MAX. */
int lb_oc_parse(const char *text, size_t len, struct lb_oc_program **out, struct lb_errmsg *em);
void lb_oc_program_free(struct lb_oc_program *p);

struct lb_oc_result {
	struct lb_oc_value *out; /* outputs in the order the program wrote them (owned) */
	size_t nout;
	uint64_t steps;          /* steps used */
	uint64_t mem;            /* bytes of list memory allocated */
};

/* Run a parsed program over inputs with at most max_steps steps and mem_max bytes of list
 * memory. Refusals: LB_ELIMIT (step budget exhausted), LB_ETOOBIG (memory cap), LB_ERANGE
 * (overflow, division by zero, index out of range), LB_ETYPE (list where an integer is
 * needed or the reverse), LB_ENOTFOUND (unknown name), LB_EDENIED (a `require` failed), each
 * with the line and column. On error res is cleared, but res->steps / res->mem say how far
 * the run got. */
int lb_oc_run(const struct lb_oc_program *p, const struct lb_oc_value *in, size_t nin,
	      uint64_t max_steps, uint64_t mem_max, struct lb_oc_result *res,
	      struct lb_errmsg *em);
void lb_oc_result_clear(struct lb_oc_result *r);

/* ---- tx payloads ------------------------------------------------------------------------- */

/* compute.run: program inline (text, hash NULL-equal zero) or by hash of a published one. */
struct lb_oc_run_tx {
	bool by_hash;
	uint8_t hash[LB_HASH_LEN];  /* by_hash: the published program's hash */
	const uint8_t *text;        /* !by_hash: program text (borrowed) */
	size_t text_len;
	uint64_t budget;            /* step budget, 1..LB_OC_STEPS_MAX */
	struct lb_oc_value *in;     /* owned */
	size_t nin;
	/* optional trailing field: the payer's compute.prepay (settlement) and its proof anchored
	 * in a business block (both borrowed); has_prepay false: an old, free run */
	bool has_prepay;
	const uint8_t *prepay_tx, *prepay_proof;
	size_t prepay_tx_len, prepay_proof_len;
};

int lb_oc_run_encode(struct lb_buf *b, const struct lb_oc_run_tx *r);
/* Decode (borrowing text from p); free with lb_oc_run_tx_clear. */
int lb_oc_run_decode(struct lb_oc_run_tx *r, const uint8_t *p, size_t len, struct lb_errmsg *em);
void lb_oc_run_tx_clear(struct lb_oc_run_tx *r);

/* Parse "name=5" or "name=1,2,3" or "name=[]" (a list) into v. LB_EMALFORMED with why. */
int lb_oc_value_parse(struct lb_oc_value *v, const char *text, struct lb_errmsg *em);

/* Program hash: BLAKE2b-256 of the text under domain "LEBEN-compute-program". */
void lb_oc_program_hash(uint8_t out[LB_HASH_LEN], const void *text, size_t len);

/* JSON of a stored run (by compute.run tx id) or program (by hash) from committed state. */
struct lb_ledger;
int lb_oc_run_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		   struct lb_errmsg *em);
int lb_oc_program_json(struct lb_ledger *l, const uint8_t hash[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em);

 /* compute.prepay: uvar budget 1..LB_OC_STEPS_MAX, then an optional trailing uvar expiry in
 * seconds LB_OC_EXPIRY_MIN_S..LB_OC_EXPIRY_MAX_S (absent in prepayments made before
 * reclaims: those never expire and cannot be reclaimed). With an expiry E, counted from the
 * block time of the prepayment's settlement block T: a compute.run may cite it while its own
 * business block time is before T + E/2; compute.reclaim may take it back from T + E on, if
 * it was not settled (docs/economy.md, "Reclaim"). */
#define LB_OC_EXPIRY_MIN_S 2
#define LB_OC_EXPIRY_MAX_S 31536000u  /* a year */
#define LB_OC_EXPIRY_DEFAULT_S 86400u /* what `leben compute run --prepay` sends: a day */
struct lb_oc_prepay {
	uint64_t budget;
	bool has_expiry;
	uint64_t expiry_s;
};
int lb_oc_prepay_encode(struct lb_buf *b, const struct lb_oc_prepay *p);
/* LB_EMALFORMED (field named) for a budget or expiry out of range or trailing bytes. */
int lb_oc_prepay_decode(struct lb_oc_prepay *p, const uint8_t *raw, size_t len,
			struct lb_errmsg *em);
/* Last block time (ms) at which a run may cite a prepayment with expiry made in a block of
 * time t_ms (exclusive bound: runs need block time < the value), and the first block time of
 * its reclaim. */
uint64_t lb_oc_prepay_use_end(uint64_t t_ms, uint64_t expiry_s);
uint64_t lb_oc_prepay_reclaim_from(uint64_t t_ms, uint64_t expiry_s);

/* Business-chain state "oc.paid" / compute.prepay tx id -> the compute.run that used it. */
#define LB_OC_NS_PAID "oc.paid"

/* Register compute.run and compute.publish. Idempotent. */
int lb_onchain_register_txtypes(void);

#endif
