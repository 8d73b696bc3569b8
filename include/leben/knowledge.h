/*
 * LEBEN computable medical knowledge: PROforma clinical contracts in two concrete forms (the
 * `.pf` text form and the PROformajs JSON form, one abstract syntax), a deterministic engine
 * whose sessions serialise and resume exactly, a bounded state-space verifier, and the pure
 * functions the business chain uses to publish contracts and anchor session traces.
 * The language and its semantics are specified in docs/knowledge-language.md.
 */
#ifndef LEBEN_KNOWLEDGE_H
#define LEBEN_KNOWLEDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"

/* ---- models -------------------------------------------------------------------------------- */

struct lb_kn_model;   /* a parsed, resolved contract (immutable once loaded) */
struct lb_kn_session; /* one execution of a model */

enum lb_kn_form {
	LB_KN_FORM_AUTO, /* JSON if the first non-blank byte is '{', text otherwise */
	LB_KN_FORM_PF,   /* the .pf text form */
	LB_KN_FORM_JSON  /* the PROformajs JSON form */
};

#define LB_KN_MAX_SOURCE (4u << 20) /* largest contract source accepted, bytes */

/* Parse and resolve a contract from text[0..len). `file` names it in messages
 * ("file:line:col: expected ..."). On success *out is a new model (free with
 * lb_kn_model_free). LB_ESYNTAX for malformed text, LB_ETYPE/LB_EINVALID for refused models. */
int lb_kn_model_parse(const char *text, size_t len, const char *file, enum lb_kn_form form,
		      struct lb_kn_model **out, struct lb_errmsg *em);
/* Read and parse a file (form chosen by content). */
int lb_kn_model_load(const char *path, struct lb_kn_model **out, struct lb_errmsg *em);
void lb_kn_model_free(struct lb_kn_model *m);
/* Print in the given form (PF or JSON); *out is NUL-terminated, caller frees with lb_free. */
int lb_kn_model_print(const struct lb_kn_model *m, enum lb_kn_form form, char **out,
		      size_t *len);
/* Whether m can be written in `form`: LB_OK, or LB_EINVALID naming the element the form cannot
 * hold (the .pf form's names start with a letter and are unique, its integers are whole, its
 * captions texts, its top is a plan; the JSON form holds every model). */
int lb_kn_model_printable(const struct lb_kn_model *m, enum lb_kn_form form,
			  struct lb_errmsg *em);
/* Same abstract syntax (what a lossless round trip preserves). */
bool lb_kn_model_equal(const struct lb_kn_model *a, const struct lb_kn_model *b);
/* Problems found while resolving names (undefined names, wrong arguments): returns how many,
 * and the i-th message in *text (borrowed) when i is in range. A model with problems loads
 * (so the verifier can report them) but sessions refuse it. */
size_t lb_kn_model_problems(const struct lb_kn_model *m, size_t i, const char **text);
/* LEBEN's own keys of a JSON protocol that were ignored because their value could not be read
 * there (`"cycles": 0`): PROformajs ignores them, so the protocol loads, but the key does
 * nothing. Returns how many, and the i-th message in *text (borrowed; "file:line:col: what was
 * expected ...") when i is in range. `leben contract check` prints them as warnings. */
size_t lb_kn_model_ignored(const struct lb_kn_model *m, size_t i, const char **text);
/* Name of the root plan (borrowed, valid while m lives). */
const char *lb_kn_model_name(const struct lb_kn_model *m);

/* ---- sessions ------------------------------------------------------------------------------ */

/* Event listener: one JSON object per event (no newline), borrowed for the call only. */
typedef void (*lb_kn_event_fn)(void *ctx, const char *json);

/* New session at engine day `today` (days since 1970-01-01); the root plan is started by the
 * first lb_kn_session_run. m must outlive the session. */
int lb_kn_session_new(const struct lb_kn_model *m, int64_t today, struct lb_kn_session **out,
		      struct lb_errmsg *em);
void lb_kn_session_free(struct lb_kn_session *s);
void lb_kn_session_set_listener(struct lb_kn_session *s, lb_kn_event_fn fn, void *ctx);
/* Keep the trace (default) or not (batch evaluation that needs only the outcome; a listener
 * still receives every event). */
void lb_kn_session_set_tracing(struct lb_kn_session *s, bool on);

/* Run to fixpoint: apply the task-state rules until nothing changes (bounded; LB_ELIMIT if a
 * model cycles without bound inside one run). */
int lb_kn_session_run(struct lb_kn_session *s, struct lb_errmsg *em);
/* Add a value to a data item. `json` is the value as JSON text: 54, 37.5, true, "text",
 * "2024-05-01" (dates), ["a","b"] (multi-valued items). A value of the wrong type or outside
 * the range or allowed values is refused (LB_ETYPE / LB_ERANGE); a value meeting the
 * warning condition is accepted and the warning text copied to warn (if not NULL). */
int lb_kn_session_add_value(struct lb_kn_session *s, const char *data, const char *json,
			    char *warn, size_t wlen, struct lb_errmsg *em);
/* Same from terminal text: "54", "yes"/"no" are NOT accepted for booleans (only true/false),
 * text without quotes, multi-valued items as "a, b". */
int lb_kn_session_add_text(struct lb_kn_session *s, const char *data, const char *text,
			   char *warn, size_t wlen, struct lb_errmsg *em);
/* Confirm a non-autonomous action (or enquiry whose mandatory sources are all known). */
int lb_kn_session_confirm(struct lb_kn_session *s, const char *task, struct lb_errmsg *em);
/* Commit candidates of an in-progress decision (completing it); n must be 1 for
 * single-choice decisions. Overriding the recommendation is allowed and traced. */
int lb_kn_session_commit(struct lb_kn_session *s, const char *decision,
			 const char *const *cands, size_t n, struct lb_errmsg *em);
/* Send a named trigger: dormant tasks with that trigger may now start. */
int lb_kn_session_trigger(struct lb_kn_session *s, const char *trigger, struct lb_errmsg *em);
/* Move engine time forward to `day` (never backwards: LB_EINVALID). */
int lb_kn_session_set_time(struct lb_kn_session *s, int64_t day, struct lb_errmsg *em);
/* The root plan is completed or discarded. */
bool lb_kn_session_is_finished(const struct lb_kn_session *s);

/* What the session waits for, as one JSON object:
 * {"finished":bool,"questions":[{enquiry,data,caption,type,unit,range,allowed,mandatory}],
 *  "decisions":[{name,caption,multiple,candidates:[{name,caption,support,recommended,
 *  arguments:[{caption,kind,active}]}]}],"actions":[{name,caption,procedure}],
 *  "triggers":[...]} — caller frees with lb_free. */
int lb_kn_session_pending(struct lb_kn_session *s, char **json, struct lb_errmsg *em);
/* Full state (data with history, task states, decisions, time, trace) as JSON; resuming it
 * with the same model gives an identical session. Caller frees with lb_free. */
int lb_kn_session_save(const struct lb_kn_session *s, char **json, size_t *len,
		       struct lb_errmsg *em);
int lb_kn_session_resume(const struct lb_kn_model *m, const char *json, size_t len,
			 struct lb_kn_session **out, struct lb_errmsg *em);
/* Trace so far: JSON lines (borrowed until the next operation). */
const char *lb_kn_session_trace(const struct lb_kn_session *s, size_t *len);

/* ---- verifier ------------------------------------------------------------------------------ */

enum lb_kn_finding_kind {
	LB_KN_DEADLOCK,
	LB_KN_UNREACHABLE,
	LB_KN_LIVELOCK,
	LB_KN_AMBIGUITY,
	LB_KN_NONDETERMINISM,
	LB_KN_UNDEFINED,      /* static: undefined name */
	LB_KN_TYPE,           /* static: type error */
	LB_KN_UNSATISFIABLE,  /* static: condition false on every abstract input */
	LB_KN_LIMIT           /* exploration stopped at the state or memory limit */
};

struct lb_kn_check_opts {
	size_t max_states;   /* 0 = 200000 */
	size_t max_memory;   /* bytes, 0 = 256 MiB */
	uint32_t cycle_cap;  /* repetitions explored per cyclic task before saturating, 0 = 3 */
};

/* Measurements of one verifier run (not part of the report, which is deterministic). */
struct lb_kn_check_stats {
	size_t states;       /* distinct states explored */
	size_t transitions;  /* operations applied */
	size_t peak_memory;  /* bytes held by the visited set and queue at the peak */
};

/* Run static checks and the bounded exploration. *report is a deterministic JSON object
 * {"model","ok","states","transitions","findings":[{kind,task,message,trace}]}
 * (caller frees with lb_free). Returns LB_OK whether or not properties fail; *failures counts
 * findings (a reached limit counts as a failure: the result is incomplete). stats may be NULL. */
int lb_kn_check(const struct lb_kn_model *m, const struct lb_kn_check_opts *opts,
		char **report, size_t *failures, struct lb_kn_check_stats *stats,
		struct lb_errmsg *em);
const char *lb_kn_finding_name(int kind);

/* ---- PROformajs rules (enactment as the PROformajs engine does it) -------------------------- */

/* The rules a model runs with. A protocol read from the PROformajs JSON form runs with the
 * PROformajs rules (the enactment cycle of @openclinical/proformajs 0.11, checked step by step
 * against it by tests/integration/test_knowledge_diff); the .pf text form runs with LEBEN's
 * rules (sessions above) unless PROformajs's are asked for. See docs/knowledge-language.md §10. */
enum lb_kn_rules {
	LB_KN_RULES_AUTO = 0,   /* the model's own: PROFORMAJS if read from JSON, else LEBEN */
	LB_KN_RULES_LEBEN,      /* LEBEN's engine: lb_kn_session_*, lb_kn_check */
	LB_KN_RULES_PROFORMAJS  /* PROformajs's: lb_kn_enactment_*, lb_kn_check_proformajs */
};
/* The rules LB_KN_RULES_AUTO means for m (never AUTO). */
enum lb_kn_rules lb_kn_model_rules(const struct lb_kn_model *m);
/* "proformajs" / "leben" / "auto" -> *out; LB_EUSAGE for anything else. */
int lb_kn_rules_parse(const char *text, enum lb_kn_rules *out);

struct lb_kn_enactment; /* one run of a model under the PROformajs rules */

/* New enactment of m under the PROformajs rules, started (the root plan's first cycle has
 * run). m must outlive it; free with lb_kn_enactment_free. LB_EINVALID for a model with
 * problems, or when PROformajs would throw while starting. No wall clock is read: the same
 * operations give the same states on every machine. */
int lb_kn_enactment_new(const struct lb_kn_model *m, struct lb_kn_enactment **out,
			struct lb_errmsg *em);
void lb_kn_enactment_free(struct lb_kn_enactment *e);
/* Apply one operation, JSON text in PROformajs's vocabulary (paths are runtime paths such as
 * "plan:enquiry" or "plan:task[2]:decision:candidate"):
 *   {"op":"set","path":P,"data":{"item":value,...}}   {"op":"unset","path":P,"name":"item"}
 *   {"op":"complete"|"cancel"|"confirm"|"unconfirm","path":P}   {"op":"trigger","name":T}
 * LB_EMALFORMED for an operation that is not one of these (nothing changed); LB_EINVALID or
 * LB_ENOTFOUND where PROformajs refuses it (the state is then what PROformajs leaves, as a
 * rule unchanged). Every operation given, refused or not, is kept for lb_kn_enactment_ops. */
int lb_kn_enactment_apply(struct lb_kn_enactment *e, const char *op_json, struct lb_errmsg *em);
/* The state as one JSON object, the step snapshot the differential test compares:
 * {"finished":bool,"tasks":{path:"dormant"|"in_progress"|"completed"|"discarded"},
 *  "completeable":[task paths],"requested":[source paths "task:item"],
 *  "candidates":{path:[support,recommended,confirmed]},"data":{item:value},
 *  "versions":{item:count},"warnings":[paths],"triggers":[names]}. Caller frees with lb_free. */
int lb_kn_enactment_state(struct lb_kn_enactment *e, char **json, struct lb_errmsg *em);
/* What a user can do now, as one JSON object (caller frees with lb_free):
 * {"finished":bool,
 *  "questions":[{path (the enquiry),enquiry,data,caption,type,unit,allowed,multiple,
 *                requested,mandatory,known}]  (every source of every enquiry in progress, as
 *                PROformajs shows them; a requested one (its requestCondition holds) must be
 *                answered before the enquiry can be completed: mandatory = requested),
 *  "decisions":[{path,name,caption,multiple,completeable,candidates:[{path,name,caption,
 *                support,recommended,confirmed}]}]  (decisions in progress),
 *  "tasks":[{path,name,class,caption,procedure}]  (other tasks that can be completed now:
 *                actions, plain tasks, enquiries whose questions are answered, plans),
 *  "triggers":[names]} */
int lb_kn_enactment_pending(struct lb_kn_enactment *e, char **json, struct lb_errmsg *em);
bool lb_kn_enactment_finished(struct lb_kn_enactment *e);
/* The operations applied so far as a JSON array (each as given, with "error":true added when
 * it was refused). Replaying them on a new enactment of the same model gives the same state:
 * this is the saved form of a run. Caller frees with lb_free. */
int lb_kn_enactment_ops(const struct lb_kn_enactment *e, char **json, struct lb_errmsg *em);

/* The verifier under the PROformajs rules: the name checks of lb_kn_check (undefined names;
 * its type and satisfiability checks follow LEBEN's three-valued logic, not JavaScript's, and
 * are left out), "error" when PROformajs throws while starting the protocol, and a
 * breadth-first exploration of the PROformajs
 * enactment (at most opts->max_states states, 1000 when 0, capped at LB_KN_PJS_MAX_STATES;
 * 12 operations deep with every value up to LB_KN_PJS_V1_MAX_STATES, above it 200 deep by
 * value classes) for
 * deadlocks and unreachable tasks. *report is a deterministic JSON object
 * {"model","rules":"proformajs","ok","states","complete","findings":[{kind,task,message,
 * trace}]} where a deadlock's "trace" is the list of operations (lb_kn_enactment_apply's
 * vocabulary) that reaches it, replayable in PROformajs. *failures counts findings (an
 * incomplete exploration counts as one, kind "limit"). Caller frees *report with lb_free. */
/* The largest exploration bound of the PROformajs-rules verifier, and so of a publication
 * (every node re-runs the exploration with the bound the publication names; the time it
 * costs is in docs/knowledge-language.md §10.3). Bounds up to LB_KN_PJS_V1_MAX_STATES
 * explore 12 operations deep with every value (exploration version 1, what nodes before
 * version 2 run); larger ones 200 deep with one answer per class of values every comparison
 * reads alike (version 2; its report's bounds say "values":"classes"). */
#define LB_KN_PJS_V1_MAX_STATES 20000
#define LB_KN_PJS_MAX_STATES 200000
int lb_kn_check_proformajs(const struct lb_kn_model *m, const struct lb_kn_check_opts *opts,
			   char **report, size_t *failures, struct lb_errmsg *em);

/* ---- chain binding (pure functions; no ledger dependency) ---------------------------------- */

/* Canonical source bytes of a model: its .pf print (UTF-8, LF, deterministic). Caller frees. */
int lb_kn_model_canonical(const struct lb_kn_model *m, uint8_t **out, size_t *len);
/* BLAKE2b-256("LEBEN-contract-v1\0" || canonical bytes) (domains as in docs/wire-format.md). */
int lb_kn_model_hash(const struct lb_kn_model *m, uint8_t out[32]);
/* BLAKE2b-256("LEBEN-contract-report-v1\0" || report bytes). */
void lb_kn_report_hash(const char *report, size_t len, uint8_t out[32]);

enum lb_kn_session_event {
	LB_KN_EV_START = 1,    /* session started: contract hash */
	LB_KN_EV_ANSWER = 2,   /* answer hash: lb_kn_answer_hash */
	LB_KN_EV_DECISION = 3, /* decision committed: decision name, candidate names */
	LB_KN_EV_COMPLETE = 4  /* session finished: trace hash */
};

#define LB_KN_NAME_MAX 128
#define LB_KN_EV_MAX_CANDS 32

/* Payload of the business-chain tx `contract.session`: no patient data, only hashes and the
 * names of committed candidates. */
struct lb_kn_session_payload {
	uint8_t kind;                /* enum lb_kn_session_event */
	uint8_t contract[32];        /* contract hash (lb_kn_model_hash) */
	uint8_t session[32];         /* session id chosen by the node (random) */
	uint64_t seq;                /* event number within the session, from 0 */
	uint8_t digest[32];          /* START: zero; ANSWER: answer hash; COMPLETE: trace hash;
					DECISION: zero */
	char decision[LB_KN_NAME_MAX];                   /* DECISION only, else "" */
	char cands[LB_KN_EV_MAX_CANDS][LB_KN_NAME_MAX];  /* DECISION only */
	uint32_t ncands;
};

/* Canonical encoding: version byte 1, kind, contract, session, varint seq, digest,
 * then for DECISION: varint-length name, varint count, varint-length names (sorted, distinct).
 * Caller frees *out. */
int lb_kn_session_payload_encode(const struct lb_kn_session_payload *p, uint8_t **out,
				 size_t *len);
/* Decode, refusing anything that does not re-encode to the same bytes (LB_EMALFORMED). */
int lb_kn_session_payload_decode(const uint8_t *p, size_t n, struct lb_kn_session_payload *out,
				 struct lb_errmsg *em);
/* Stateless validity: kind known, digest rules per kind, names printable identifiers. */
int lb_kn_session_payload_check(const struct lb_kn_session_payload *p, struct lb_errmsg *em);
/* Trace hash for LB_KN_EV_COMPLETE: BLAKE2b-256("LEBEN-contract-trace-v1\0" || trace bytes), the
 * trace being lb_kn_session_trace's JSON lines. */
void lb_kn_trace_hash(const char *trace, size_t len, uint8_t out[32]);
/* Answer hash for LB_KN_EV_ANSWER: BLAKE2b-256("LEBEN-contract-answer-v1\0" || salt || data name
 * || 0x00 || value JSON); the salt keeps small answer spaces from being guessed. */
void lb_kn_answer_hash(const uint8_t salt[32], const char *data, const char *value_json,
		       uint8_t out[32]);

/* Payload of `contract.publish`. */
struct lb_kn_publish_payload {
	uint8_t source_hash[32];  /* lb_kn_model_hash of the source */
	uint8_t report_hash[32];  /* lb_kn_report_hash of the verifier's report */
	const uint8_t *source;    /* canonical .pf source (borrowed: points into the decoded
				     bytes, or the caller's buffer when encoding) */
	size_t source_len;        /* 1 .. LB_KN_MAX_SOURCE */
	enum lb_kn_rules rules;   /* LB_KN_RULES_LEBEN (or AUTO): .pf source, LEBEN's rules;
				     LB_KN_RULES_PROFORMAJS: canonical PROformajs JSON source,
				     verified and run with the PROformajs rules */
	uint32_t max_states;      /* PROformajs rules: the exploration bound the report was made
				     with, 1 .. LB_KN_PJS_MAX_STATES (version 3); 0: 1000
				     (version 2) */
};
/* Canonical encoding: version byte (1 = LEBEN's rules, .pf source; 2 = PROformajs rules,
 * canonical JSON source, explored within 1000 states; 3 = as 2, with a varint exploration
 * bound after the hashes), source_hash, report_hash, [varint bound,] varint length, source.
 * Caller frees *out with lb_free. */
int lb_kn_publish_payload_encode(const struct lb_kn_publish_payload *p, uint8_t **out,
				 size_t *len);
/* Decode (out->source borrows from buf); refuses non-canonical input (LB_EMALFORMED). */
int lb_kn_publish_payload_decode(const uint8_t *buf, size_t n, struct lb_kn_publish_payload *out,
				 struct lb_errmsg *em);
/* Stateless check of a publish payload: refuses it unless the source parses, is in canonical
 * form, hashes to source_hash, and re-verifying (default limits) yields no finding with a
 * report hashing to report_hash. */
int lb_kn_publish_check(const uint8_t *source, size_t len, const uint8_t source_hash[32],
			const uint8_t report_hash[32], struct lb_errmsg *em);
/* The same for a PROformajs publication (payload version 2): the source is the canonical
 * JSON print of the protocol (lb_kn_model_print, LB_KN_FORM_JSON), its hash is
 * lb_kn_model_hash_rules(m, LB_KN_RULES_PROFORMAJS), and the verifier is
 * lb_kn_check_proformajs with default options. */
int lb_kn_publish_check_rules(const uint8_t *source, size_t len, enum lb_kn_rules rules,
			      const uint8_t source_hash[32], const uint8_t report_hash[32],
			      struct lb_errmsg *em);
/* Contract hash under rules: lb_kn_model_hash for LEBEN's; for PROformajs's,
 * BLAKE2b-256("LEBEN-contract-proformajs-v1\0" || canonical JSON print). */
int lb_kn_model_hash_rules(const struct lb_kn_model *m, enum lb_kn_rules rules, uint8_t out[32]);

#endif
