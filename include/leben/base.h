/*
 * Base services shared by every LEBEN module: the allocation wrapper (so tests can inject
 * failures), size-capped growable byte buffers, hex, logging, clocks and whole-file I/O.
 */
#ifndef LEBEN_BASE_H
#define LEBEN_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"

/* ---- allocation ----------------------------------------------------------------------- */

/* All project allocations go through these; memory from them is released with lb_free. */
void *lb_malloc(size_t n);
void *lb_calloc(size_t count, size_t size);
void *lb_realloc(void *p, size_t n);
void lb_free(void *p);
/* Copy of s (caller frees with lb_free); NULL on allocation failure or if s is NULL. */
char *lb_strdup(const char *s);
/* Test hook: make the n-th allocation from now fail (n >= 1); 0 turns injection off. */
void lb_alloc_fail_after(unsigned long n);

/* ---- growable buffers ------------------------------------------------------------------ */

/* A byte buffer that grows up to `max` bytes and frees itself when growing fails.
 * The buffer owns `data`; lb_buf_release frees it. `data` is always NUL-terminated past
 * `len` when non-NULL, so text can be built in it. */
struct lb_buf {
	uint8_t *data; /* owned; NULL while empty */
	size_t len;    /* bytes in use */
	size_t cap;    /* bytes allocated (excluding the terminating NUL) */
	size_t max;    /* growth limit; appends beyond it fail with LB_ETOOBIG */
};

void lb_buf_init(struct lb_buf *b, size_t max);
void lb_buf_release(struct lb_buf *b);
void lb_buf_reset(struct lb_buf *b); /* len = 0, keeps memory */
/* Make room for n more bytes. LB_ENOMEM or LB_ETOOBIG frees the buffer (len becomes 0). */
int lb_buf_reserve(struct lb_buf *b, size_t n);
int lb_buf_add(struct lb_buf *b, const void *p, size_t n);
int lb_buf_addc(struct lb_buf *b, uint8_t c);
int lb_buf_adds(struct lb_buf *b, const char *s);
int lb_buf_addf(struct lb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (caller frees with lb_free) and leave b empty. */
uint8_t *lb_buf_detach(struct lb_buf *b, size_t *len);

/* ---- hex ------------------------------------------------------------------------------- */

/* Write 2n lowercase hex digits and a NUL to out (2n+1 bytes). */
void lb_hex_encode(char *out, const uint8_t *p, size_t n);
/* Decode exactly outlen bytes from a hex string of exactly 2*outlen digits. */
int lb_hex_decode(uint8_t *out, size_t outlen, const char *hex);
/* Decode a hex string of any even length into a new buffer (caller frees with lb_free). */
int lb_hex_decode_alloc(const char *hex, uint8_t **out, size_t *outlen, size_t maxlen);

/* ---- logging --------------------------------------------------------------------------- */

enum lb_log_level { LB_LOG_DEBUG, LB_LOG_INFO, LB_LOG_WARN, LB_LOG_ERROR };
/* Messages below `level` are dropped; default LB_LOG_INFO. Output goes to stderr. */
void lb_log_set_level(enum lb_log_level level);
void lb_log(enum lb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- time ------------------------------------------------------------------------------ */

uint64_t lb_now_ms(void);   /* wall clock, milliseconds since the Unix epoch */
uint64_t lb_mono_ns(void);  /* monotonic clock, nanoseconds */

/* ---- files ----------------------------------------------------------------------------- */

/* Read a whole file of at most max bytes into a new NUL-terminated buffer (caller frees with
 * lb_free). LB_ENOTFOUND, LB_EIO or LB_ETOOBIG with the path in em. */
int lb_file_read(const char *path, size_t max, uint8_t **out, size_t *len, struct lb_errmsg *em);
/* Write data to path atomically (temp file, fsync, rename) with the given mode. */
int lb_file_write(const char *path, const void *data, size_t len, unsigned mode,
		  struct lb_errmsg *em);
/* Overwrite a file with zeros, sync it and delete it (LB_OK if it does not exist). What a
 * journaling or copy-on-write file system or an SSD keeps elsewhere is out of reach. */
int lb_file_wipe(const char *path, struct lb_errmsg *em);
/* Write all n bytes to fd, retrying short writes and EINTR; LB_EIO (errno set) otherwise. */
int lb_fd_write_all(int fd, const void *data, size_t n);
/* mkdir -p with the given mode for created directories. */
int lb_mkdirs(const char *path, unsigned mode, struct lb_errmsg *em);

/* Number of online CPU cores (at least 1). */
int lb_ncpus(void);

#endif
