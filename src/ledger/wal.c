/*
 * The write-ahead log of accepted txs, one file per chain (<home>/chains/<chain>.wal): each
 * record is the tx's length (u32, little-endian), an 8-byte BLAKE2b checksum of the tx bytes and
 * the tx bytes. Admission writes the txs of one API batch under the chain lock and syncs
 * after releasing it, before the batch is answered; batches of one chain written while a sync
 * runs share the next one (group commit). Opening the ledger replays the log into the
 * mempool, reading it piece by piece; a commit that empties the mempool truncates it, a log
 * much larger than the mempool is rewritten from it. A torn or corrupt tail (a crash
 * mid-append) ends the replay there. A node ordered by etcd keeps no log: etcd holds every
 * accepted tx before the API answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
	w->written = w->synced = w->syncs = 0;
	pthread_mutex_init(&w->sync_mu, NULL);
	return LB_OK;
}

void wal_close(struct wal *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		pthread_mutex_destroy(&w->sync_mu);
	}
	w->fd = -1;
}

int wal_write(struct wal *w, size_t n, const uint8_t *const *raws, const size_t *lens,
	      uint64_t *upto)
{
	uint64_t before = w->bytes;
	*upto = 0;
	if (!n)
		return LB_OK;
	int rc = wal_put(w->fd, n, raws, lens, &w->bytes);
	if (rc) {
		/* a partial record in mid-file would end every later replay there */
		if (ftruncate(w->fd, (off_t)before) == 0)
			w->bytes = before;
		return rc;
	}
	uint64_t v = __atomic_load_n(&w->written, __ATOMIC_RELAXED) + (w->bytes - before);
	__atomic_store_n(&w->written, v, __ATOMIC_RELEASE);
	*upto = v;
	return LB_OK;
}

int wal_sync(struct wal *w, uint64_t upto)
{
	int rc = LB_OK;
	pthread_mutex_lock(&w->sync_mu);
	if (w->synced < upto) {
		/* everything written before this sync starts is covered by it: batches written
		 * while another sync ran share this one */
		uint64_t v = __atomic_load_n(&w->written, __ATOMIC_ACQUIRE);
		w->syncs++;
		if (fdatasync(w->fd))
			rc = LB_EIO;
		else
			w->synced = v;
	}
	pthread_mutex_unlock(&w->sync_mu);
	return rc;
}

int wal_append(struct wal *w, size_t n, const uint8_t *const *raws, const size_t *lens)
{
	uint64_t upto;
	int rc = wal_write(w, n, raws, lens, &upto);
	return rc ? rc : wal_sync(w, upto);
}

int wal_replay(const char *path, int (*each)(void *ctx, const uint8_t *raw, size_t len),
	       void *ctx, size_t *torn, struct lb_errmsg *em)
{
	*torn = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return LB_OK;
		return lb_errf(em, LB_EIO, "cannot read the write-ahead log %s: %s", path,
			       strerror(errno));
	}
	struct stat st;
	size_t cap = 1u << 20, have = 0, at = 0;
	uint64_t used = 0;
	uint8_t *buf = lb_malloc(cap);
	int rc = fstat(fd, &st) ? lb_errf(em, LB_EIO, "cannot read the write-ahead log %s: %s",
					  path, strerror(errno))
		 : buf ? LB_OK
		       : lb_errf(em, LB_ENOMEM, "out of memory reading the write-ahead log");
	bool eof = false;
	while (!rc) {
		/* buf[at..have) is read and not yet used: a header, then its record */
		size_t need = WAL_HDR;
		uint32_t n = 0;
		if (have - at >= WAL_HDR) {
			for (int i = 0; i < 4; i++)
				n |= (uint32_t)buf[at + i] << (8 * i);
			if (n > WAL_MAX_RECORD)
				break;
			need += n;
		}
		if (have - at < need) {
			if (eof)
				break;
			memmove(buf, buf + at, have - at);
			have -= at;
			at = 0;
			if (need > cap) {
				uint8_t *nb = lb_realloc(buf, need);
				if (!nb) {
					rc = lb_errf(em, LB_ENOMEM, "out of memory reading the "
								   "write-ahead log");
					break;
				}
				buf = nb;
				cap = need;
			}
			ssize_t r = read(fd, buf + have, cap - have);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				rc = lb_errf(em, LB_EIO, "cannot read the write-ahead log %s: %s",
					     path, strerror(errno));
			else if (r == 0)
				eof = true;
			else
				have += (size_t)r;
			continue;
		}
		uint8_t sum[8];
		wal_sum(sum, buf + at + WAL_HDR, n);
		if (memcmp(sum, buf + at + 4, 8))
			break;
		if ((rc = each(ctx, buf + at + WAL_HDR, n)))
			break;
		at += need;
		used += need;
	}
	if (!rc)
		*torn = st.st_size > 0 && (uint64_t)st.st_size > used ? (size_t)(st.st_size - used)
								      : 0;
	close(fd);
	lb_free(buf);
	return rc;
}

/* Replace the log by the txs pending in m: a new file, synced, renamed over the log, and put
 * in place of the log's descriptor (dup2), so that a sync running meanwhile in another thread
 * syncs one file or the other, never a closed descriptor. Chain lock held. */
int wal_rewrite(struct wal *w, const struct mempool *m)
{
	char tmp[sizeof w->path + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", w->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
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
	if (rc || rename(tmp, w->path) || dup2(fd, w->fd) < 0) {
		close(fd);
		unlink(tmp);
		return LB_EIO;
	}
	close(fd);
	w->bytes = bytes;
	return LB_OK;
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
