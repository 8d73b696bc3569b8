/*
 * Canonical binary encoding (docs/wire-format.md). Integers are unsigned LEB128 varints in
 * their shortest form; byte strings carry a varint length; fixed-size fields are raw. A given
 * value has exactly one encoding, and the decoder refuses every other form: non-minimal
 * varints, values above the field's limit, lengths past the end, trailing bytes.
 */
#ifndef LEBEN_CODEC_H
#define LEBEN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"

/* Encoders append to b and return LB_OK, LB_ENOMEM or LB_ETOOBIG (b's cap). */
int lb_enc_u8(struct lb_buf *b, uint8_t v);
int lb_enc_uvar(struct lb_buf *b, uint64_t v);
int lb_enc_fixed(struct lb_buf *b, const void *p, size_t n);
int lb_enc_bytes(struct lb_buf *b, const void *p, size_t n);
int lb_enc_str(struct lb_buf *b, const char *s);
/* Size of the varint encoding of v (1..10). */
size_t lb_uvar_len(uint64_t v);

/* Decoder over a borrowed byte range. Errors go to em with the field name and offset. */
struct lb_dec {
	const uint8_t *p;     /* input, borrowed */
	size_t len;           /* input length */
	size_t pos;           /* next byte to read */
	const char *what;     /* what is being decoded ("tx", "block header"), for messages */
	struct lb_errmsg *em; /* may be NULL */
};

void lb_dec_init(struct lb_dec *d, const void *p, size_t len, const char *what,
		 struct lb_errmsg *em);
int lb_dec_u8(struct lb_dec *d, const char *field, uint8_t *out);
/* Varint no larger than max (LB_EMALFORMED "out of range" otherwise). */
int lb_dec_uvar(struct lb_dec *d, const char *field, uint64_t max, uint64_t *out);
int lb_dec_fixed(struct lb_dec *d, const char *field, void *out, size_t n);
/* Length-prefixed bytes of at most max bytes; *out points into the input (borrowed). */
int lb_dec_bytes(struct lb_dec *d, const char *field, size_t max, const uint8_t **out,
		 size_t *n);
/* Length-prefixed UTF-8 text without NUL of at most max bytes, copied to out
 * (outsz >= max + 1). */
int lb_dec_str(struct lb_dec *d, const char *field, size_t max, char *out, size_t outsz);
/* LB_OK only if every byte was consumed. */
int lb_dec_end(struct lb_dec *d);
/* Report a field-level problem found by the caller ("value 9 is not a known role"). */
int lb_dec_fail(struct lb_dec *d, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* True if s is valid UTF-8 of n bytes without NUL or other C0 controls except tab/newline. */
bool lb_utf8_is_text(const uint8_t *s, size_t n);

#endif
