/*
 * LEBEN error codes: one enum for the whole project, with a message buffer that carries the
 * detail (what, where, what to do) up the call stack. Codes are only ever appended, so a
 * number once published keeps its meaning in logs, the API and scripts.
 */
#ifndef LEBEN_ERROR_H
#define LEBEN_ERROR_H

#include <stddef.h>

/* X(name, value, http status, short description) */
#define LB_ERROR_TABLE(X)                                                              \
	X(LB_OK, 0, 200, "ok")                                                             \
	X(LB_ENOMEM, 1, 500, "out of memory")                                              \
	X(LB_EIO, 2, 500, "input/output error")                                            \
	X(LB_EMALFORMED, 3, 400, "malformed input")                                        \
	X(LB_EINVALID, 4, 422, "invalid request")                                          \
	X(LB_ECORRUPT, 5, 500, "stored data is corrupt")                                   \
	X(LB_ENOTFOUND, 6, 404, "not found")                                               \
	X(LB_EEXISTS, 7, 409, "already exists")                                            \
	X(LB_ETOOBIG, 8, 413, "too large")                                                 \
	X(LB_EBADSIG, 9, 422, "bad signature")                                             \
	X(LB_EWRONGCHAIN, 10, 422, "wrong chain")                                          \
	X(LB_ENONCEUSED, 11, 422, "nonce already used")                                    \
	X(LB_ENONCEGAP, 12, 422, "nonce skipped")                                          \
	X(LB_EFUNDS, 13, 422, "insufficient balance")                                      \
	X(LB_EUNAUTH, 14, 403, "not authorised")                                           \
	X(LB_EUNKNOWNTYPE, 15, 422, "unknown transaction type")                            \
	X(LB_EEXPIRED, 16, 422, "transaction expired")                                     \
	X(LB_EBUSY, 17, 503, "busy, try again")                                            \
	X(LB_EDUPLICATE, 18, 409, "duplicate")                                             \
	X(LB_EPASSPHRASE, 19, 401, "wrong passphrase")                                     \
	X(LB_ECHECKSUM, 20, 400, "checksum mismatch")                                      \
	X(LB_EUNAVAILABLE, 21, 503, "service unavailable")                                 \
	X(LB_ECRYPTO, 22, 500, "cryptographic failure")                                    \
	X(LB_ESYNTAX, 23, 400, "syntax error")                                             \
	X(LB_ETYPE, 24, 422, "type error")                                                 \
	X(LB_ERANGE, 25, 422, "value out of range")                                        \
	X(LB_ETAMPERED, 26, 422, "data was tampered with")                                 \
	X(LB_ETRUNCATED, 27, 400, "data is truncated")                                     \
	X(LB_EWRONGKEY, 28, 403, "wrong key")                                              \
	X(LB_EUNSUPPORTED, 29, 415, "unsupported")                                         \
	X(LB_ELIMIT, 30, 429, "limit reached")                                             \
	X(LB_EUSAGE, 31, 400, "wrong usage")                                               \
	X(LB_EINTERNAL, 32, 500, "internal error")                                         \
	X(LB_EDENIED, 33, 403, "refused by policy")                                        \
	X(LB_ETIMEOUT, 34, 504, "timed out")

enum lb_err {
#define LB_ERR_ENUM_(name, value, http, text) name = value,
	LB_ERROR_TABLE(LB_ERR_ENUM_)
#undef LB_ERR_ENUM_
	LB_ERR_COUNT_
};

/* Detail for an error: a sentence a person can act on. Embedded in handles or passed as an
 * out-parameter; may be NULL wherever it is accepted. */
struct lb_errmsg {
	int code;        /* the lb_err last set, LB_OK if none */
	char text[512];  /* NUL-terminated message, "" if none */
};

/* Static description of a code ("nonce already used"); never NULL. */
const char *lb_strerror(int code);
/* Stable symbolic name ("LB_ENONCEUSED") for logs and JSON; never NULL. */
const char *lb_errname(int code);
/* HTTP status that fits the code (422 for refused input, 500 for our faults, ...). */
int lb_err_http_status(int code);

/* Set em (if not NULL) to code and a printf-style message; returns code so callers can
 * `return lb_errf(em, LB_EINVALID, "...")`. */
int lb_errf(struct lb_errmsg *em, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the message already in em with context ("block 12: " + old text); returns em->code
 * (or LB_EINTERNAL if em is NULL). */
int lb_errwrap(struct lb_errmsg *em, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reset em to LB_OK and an empty message. */
void lb_errclear(struct lb_errmsg *em);
/* Code of a symbolic name ("LB_ENONCEUSED", as lb_errname gives it), or -1 if unknown. Used
 * by API clients to turn an error name received over the wire back into a code. */
int lb_err_from_name(const char *name);

#endif
