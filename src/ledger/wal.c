/*
 * The write-ahead log of accepted txs, one file per chain (<home>/chains/<chain>.wal): each
 * record is the tx's length (u32, little-endian), an 8-byte BLAKE2b checksum of the tx bytes and
 * the tx bytes. Admission appends the txs of one API batch and syncs once (group commit) before
 * the batch is answered; opening the ledger replays the log into the mempool; a commit that
 * empties the mempool truncates it, a log much larger than the mempool is rewritten from it.
 * A torn or corrupt tail (a crash mid-append) ends the replay there.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger_int.h"

#define WAL_HDR 12
#define WAL_MAX_RECORD (16u << 20)

static void wal_sum(uint8_t out[8], const uint8_t *raw, size_t len)
{
	crypto_generichash(out, 8, raw, len, NULL, 0);
}

static void wal_rec(uint8_t *out, const uint8_t *raw, size_t len)
{
	uint32_t n = (uint32_t)len;
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(n >> (8 * i));
	wal_sum(out + 4, raw, len);
	memcpy(out + WAL_HDR, raw, len);
}

/* Write n records with one write (plus retries). */
static int wal_put(int fd, size_t n, const uint8_t *const *raws, const size_t *lens,
		   uint64_t *bytes)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += WAL_HDR + lens[i];
	uint8_t *buf = lb_malloc(total ? total : 1), *p = buf;
	if (!buf)
		return LB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		wal_rec(p, raws[i], lens[i]);
		p += WAL_HDR + lens[i];
	}
	int rc = lb_fd_write_all(fd, buf, total);
	lb_free(buf);
	if (!rc)
		*bytes += total;
	return rc;
}

int wal_open(struct wal *w, const char *path, struct lb_errmsg *em)
{
	snprintf(w->path, sizeof w->path, "%s", path);
	w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return lb_errf(em, LB_EIO, "cannot open the write-ahead log %s: %s", path,
			       strerror(errno));
	off_t end = lseek(w->fd, 0, SEEK_END);
	w->bytes = end > 0 ? (uint64_t)end : 0;
	return LB_OK;
}

void wal_close(struct wal *w)
{
	if (w->fd > 0)
		close(w->fd);
	w->fd = -1;
}

int wal_append(struct wal *w, size_t n, const uint8_t *const *raws, const size_t *lens)
{
	if (!n)
		return LB_OK;
	int rc = wal_put(w->fd, n, raws, lens, &w->bytes);
	return rc ? rc : fdatasync(w->fd) ? LB_EIO : LB_OK;
}

int wal_replay(const char *path, int (*each)(void *ctx, const uint8_t *raw, size_t len),
	       void *ctx, size_t *torn, struct lb_errmsg *em)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	*torn = 0;
	int rc = lb_file_read(path, (size_t)1 << 34, &buf, &len, em);
	if (rc == LB_ENOTFOUND) {
		lb_errclear(em);
		return LB_OK;
	}
	if (rc)
		return rc;
	size_t at = 0;
	while (at < len) {
		uint8_t sum[8];
		uint32_t n = 0;
		if (len - at < WAL_HDR)
			break;
		for (int i = 0; i < 4; i++)
			n |= (uint32_t)buf[at + i] << (8 * i);
		if (n > WAL_MAX_RECORD || len - at - WAL_HDR < n)
			break;
		wal_sum(sum, buf + at + WAL_HDR, n);
		if (memcmp(sum, buf + at + 4, 8))
			break;
		if ((rc = each(ctx, buf + at + WAL_HDR, n)))
			break;
		at += WAL_HDR + n;
	}
	*torn = len - at;
	lb_free(buf);
	return rc;
}

int wal_rewrite(struct wal *w, const struct mempool *m)
{
	char tmp[sizeof w->path + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", w->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return LB_EIO;
	uint64_t bytes = 0;
	int rc = LB_OK;
	for (const struct pending *p = m->head; p && !rc; p = p->next) {
		const uint8_t *raw = p->raw;
		rc = wal_put(fd, 1, &raw, &p->len, &bytes);
	}
	if (!rc && fdatasync(fd))
		rc = LB_EIO;
	close(fd);
	if (rc || rename(tmp, w->path)) {
		unlink(tmp);
		return LB_EIO;
	}
	wal_close(w);
	w->fd = open(w->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	w->bytes = bytes;
	return w->fd < 0 ? LB_EIO : LB_OK;
}

void wal_after_commit(struct wal *w, const struct mempool *m)
{
	if (w->fd < 0 || !w->replayed)
		return;
	if (m->count == 0) {
		if (w->bytes && !ftruncate(w->fd, 0))
			w->bytes = 0;
	} else if (w->bytes > 2 * (uint64_t)m->bytes + (1u << 20)) {
		if (wal_rewrite(w, m))
			lb_log(LB_LOG_WARN, "rewriting the write-ahead log %s failed", w->path);
	}
}
