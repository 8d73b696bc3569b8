/*
 * Surgical quality control (application 4): pre-operative risk, observed/expected ratios,
 * the risk-adjusted CUSUM of Steiner et al. (2000), funnel-plot control limits, and the
 * `surgery.alarm` tx that records a CUSUM alarm on the business chain.
 *
 * A hospital's surgery records are one table (CSV, one row per operation) with the columns
 * case, hospital, surgeon, procedure, the risk factors the model names, and the outcome
 * (0/1). Everything here runs at the hospital over its own rows; only the aggregates built
 * from them (counts, observed and expected sums, alarms) are meant to leave.
 *
 * Ownership: every out-parameter is the caller's (lb_free / json_decref); inputs are borrowed
 * for the call only.
 */
#ifndef LEBEN_SURGERY_H
#define LEBEN_SURGERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/algo.h"
#include "leben/error.h"

#define LB_SURGERY_MAX_FACTORS 32

/* Business-chain wire id (range 0x03b8-0x03bf). */
enum { LB_TX_SURGERY_ALARM = 0x03b8 };

/* A fitted logistic risk model: logit p = coef[0] + sum_j coef[j + 1] * x[name j]. */
struct lb_surgery_model {
	size_t p;                                  /* risk factors */
	char names[LB_SURGERY_MAX_FACTORS][64];    /* their column names */
	double coef[LB_SURGERY_MAX_FACTORS + 1];   /* intercept first */
};

/* Read a model from the logistic regression's result ({"coefficients": {"(intercept)": b0,
 * "age": b1, ...}}, as `leben surgery fit` and `leben study run --algorithm logreg` write it;
 * a {"result": {...}} wrapper is accepted). Refuses a missing intercept, a non-finite
 * coefficient, more than LB_SURGERY_MAX_FACTORS factors or a standardised fit. */
int lb_surgery_model_read(const json_t *j, struct lb_surgery_model *m, struct lb_errmsg *em);

/* The expected risk of every row of t under m (*p: t->nrows values, lb_free) and the outcome
 * column as 0/1 (*y, lb_free). Refuses a missing factor or outcome column, a missing cell
 * (named by row and column), an outcome other than 0/1. */
int lb_surgery_expected(const struct lb_table *t, const struct lb_surgery_model *m,
			const char *outcome, double **p, double **y, struct lb_errmsg *em);

/* Observed/expected by the levels of column `by` (a categorical or numeric column) and in
 * total: {"by": by, "n": N, "observed": O, "expected": E, "oe": O/E, "groups": [{"name",
 * "n", "observed", "expected", "oe"}...]} sorted by name. Groups with fewer than min_cases
 * rows are not listed but counted in "suppressed_groups" (and in the totals). */
int lb_surgery_oe(const struct lb_table *t, const double *p, const double *y, const char *by,
		  size_t min_cases, json_t **out, struct lb_errmsg *em);

/* Steiner's risk-adjusted log-likelihood CUSUM testing odds ratio ra (> 1) against 1, over
 * n cases in order: W_t = ln(ra) - ln(1 - p_t + ra p_t) if y_t = 1, - ln(1 - p_t + ra p_t)
 * if y_t = 0; S_t = max(0, S_{t-1} + W_t). A case with S_t >= h is an alarm; with reset the
 * chart restarts at 0 after it. path (n values, caller buffer) receives S_t; alarms (caller
 * buffer of n indices, may be NULL) the 0-based cases that alarmed, *nalarms their number. */
int lb_surgery_cusum(const double *p, const double *y, size_t n, double ra, double h, bool reset,
		     double *path, size_t *alarms, size_t *nalarms, struct lb_errmsg *em);

/* Funnel-plot control limits of O/E at expected count e for the normal quantile z (1.96 for
 * 95 %, 3.09 for 99.8 %): 1 -/+ z / sqrt(e) (the lower limit not below 0). */
void lb_surgery_funnel_limits(double e, double z, double *lo, double *hi);

/* An SVG funnel plot (*svg, lb_free) of points [{"name", "expected", "oe"}...] (units:
 * surgeons or hospitals), with the 95 % and 99.8 % limits; title borrowed. */
int lb_surgery_funnel_svg(const json_t *points, const char *title, char **svg,
			  struct lb_errmsg *em);

/* Check released summaries (a JSON array of `leben surgery monitor` outputs: kind
 * "surgery.summary", hospital, model, by.surgeon/by.procedure) and that all were computed with
 * the same model. LB_EINVALID names the summary (1-based) at fault. */
int lb_surgery_summaries_check(const json_t *summaries, struct lb_errmsg *em);

/* The units of a funnel plot from checked summaries, by "surgeon" or "hospital": a new array
 * of {"name","n","observed","expected","oe","limits95":[lo,hi],"limits998":[lo,hi],"flag"}
 * (flag "within", "above 95%", "above 99.8%", "below 95%", "below 99.8%"). */
int lb_surgery_funnel(const json_t *summaries, const char *by, json_t **units, struct lb_errmsg *em);

/* Procedures ranked by O/E over the summaries (lower first): {"model","hospitals","ranking":
 * [{"rank","procedure","n","observed","expected","oe","z","hospitals","contracts":[{"id",
 * "title"}]}]}; contracts are the listings (array of store listing objects, may be NULL) with
 * the code "snomed|<procedure>". */
int lb_surgery_rank(const json_t *summaries, const json_t *listings, json_t **out,
		    struct lb_errmsg *em);

/* The canonical payload of a surgery.alarm tx from its JSON form {"hospital", "surgeon",
 * "procedure" (or ""), "cases": cases charted, "case": the alarming case's number (1-based),
 * "value": S, "h", "ra", "model": hex hash of the model}. *payload lb_free. */
int lb_surgery_alarm_payload(const json_t *alarm, uint8_t **payload, size_t *len,
			     struct lb_errmsg *em);

/* Registers surgery.alarm (business chain, 0x03b8) and the genesis key "surgery":
 * {"bind_hospitals": true} (docs/apps.md §4). Idempotent. Applying an alarm appends it (with
 * tx id, sender and height) to the surgeon's list. On a network with members: with
 * bind_hospitals (what `leben init` writes) a hospital id is the sender member's own name or
 * "NAME:SITE", any other id is refused (LB_EUNAUTH); without it (chains made before) an
 * alarm for a hospital id first recorded by another account is refused (LB_EUNAUTH). */
int lb_surgery_register_txtypes(void);

/* State of the chain: alarms of one surgeon (JSON array text) under namespace
 * LB_SURGERY_ALARM_NS, key "hospital/surgeon". */
#define LB_SURGERY_ALARM_NS "surgery.alarms"
/* The account that records a hospital's alarms (LB_ADDR_LEN bytes), key = the hospital id: the
 * first account to record an alarm for the id; alarms for it from any other are refused. */
#define LB_SURGERY_HOSPITAL_NS "surgery.hospitals"
/* "bind" -> 1 when genesis set "surgery": {"bind_hospitals": true}. */
#define LB_SURGERY_CFG_NS "surgery.cfg"

#endif
