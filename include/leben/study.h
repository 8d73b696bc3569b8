/*
 * The rules an owner's node applies to one step of a study across nodes (POST /v1/study/step,
 * docs/exchange.md "Through real nodes"), kept apart from the transport so that they can be
 * tested on their own: which steps the approved parameters allow, how many rounds a run of the
 * algorithm may take, and the owner's release policy on its own partial before the masked
 * vector leaves the node.
 */
#ifndef LEBEN_STUDY_H
#define LEBEN_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/error.h"

/* Is step (borrowed; the object lb_fed_step takes) one that the federated form of algorithm
 * ("stats", "logreg", "km") computes under the approved params (borrowed)? Every column the
 * step names and everything that fixes what is computed (bins, range, grid, the outcome) must
 * be exactly the params' own; the per-round state (means, weights, scale) is the coordinator's.
 * *max_rounds (may be NULL) receives the rounds one run of the algorithm takes at most under
 * params (stats 2; km 1; logreg max_iter + 1, plus 2 with standardize). LB_EINVALID naming the
 * field that differs; LB_EUNSUPPORTED for another algorithm. */
int lb_study_step_allowed(const char *algorithm, const json_t *params, const json_t *step,
			  unsigned *max_rounds, struct lb_errmsg *em);

/* The owner's release policy on its own partial of step (len values, as lb_fed_step gave them)
 * before it leaves masked: the records it was computed over (moments1: every column's count
 * and the row total; logreg: the complete rows; km: the subjects) are at least min_cohort,
 * and every count cell (histogram bins, the events and censorings at each km grid time) is 0
 * or at least min_cohort. moments2 carries no count: check its moments1 partial instead.
 * LB_EDENIED with the first value that fails (the text names the value: it is for the user
 * and the owner only, never for the chain). */
int lb_study_partial_check(const json_t *step, const double *part, size_t len,
			   uint64_t min_cohort, struct lb_errmsg *em);

/* Owners that must stay in a study that started with n owners: floor(n/2) + 1. */
size_t lb_study_threshold(size_t n);

#endif
