/*
 * Small services every module needs: hex, logging to stderr, clocks, whole-file reads,
 * atomic file writes and directory creation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "leben/base.h"

void lb_hex_encode(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lb_hex_decode(uint8_t *out, size_t outlen, const char *hex)
{
	if (!hex || strlen(hex) != 2 * outlen)
		return LB_EMALFORMED;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return LB_EMALFORMED;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return LB_OK;
}

int lb_hex_decode_alloc(const char *hex, uint8_t **out, size_t *outlen, size_t maxlen)
{
	size_t n = hex ? strlen(hex) : 1;
	if (n % 2)
		return LB_EMALFORMED;
	if (n / 2 > maxlen)
		return LB_ETOOBIG;
	uint8_t *p = lb_malloc(n / 2);
	if (!p)
		return LB_ENOMEM;
	int rc = lb_hex_decode(p, n / 2, hex);
	if (rc) {
		lb_free(p);
		return rc;
	}
	*out = p;
	*outlen = n / 2;
	return LB_OK;
}

static enum lb_log_level log_level = LB_LOG_INFO;

void lb_log_set_level(enum lb_log_level level)
{
	log_level = level;
}

void lb_log(enum lb_log_level level, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if (level < log_level)
		return;
	time_t t = time(NULL);
	struct tm tm;
	char ts[32];
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %-5s %s\n", ts, names[level], line);
}

uint64_t lb_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t lb_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int lb_file_read(const char *path, size_t max, uint8_t **out, size_t *len, struct lb_errmsg *em)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lb_errf(em, errno == ENOENT ? LB_ENOTFOUND : LB_EIO, "%s: %s", path,
			       strerror(errno));
	struct lb_buf b;
	lb_buf_init(&b, max + 1); /* one byte over the limit tells "too big" from "exactly max" */
	int rc = LB_OK;
	for (;;) {
		size_t room = max + 1 - b.len;
		if ((rc = lb_buf_reserve(&b, room < 65536 ? room : 65536)))
			break;
		ssize_t n = read(fd, b.data + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > max) {
			rc = lb_errf(em, LB_ETOOBIG, "%s: larger than the limit of %zu bytes", path,
				     max);
			break;
		}
	}
	close(fd);
	if (rc) {
		if (rc == LB_ENOMEM)
			lb_errf(em, rc, "%s: out of memory", path);
		lb_buf_release(&b);
		return rc;
	}
	b.data[b.len] = 0; /* reserve always leaves room for the terminator */
	*out = lb_buf_detach(&b, len);
	return LB_OK;
}

int lb_file_wipe(const char *path, struct lb_errmsg *em)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno == ENOENT ? LB_OK
				       : lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
	struct stat st;
	static const uint8_t zero[65536];
	int rc = LB_OK;
	if (fstat(fd, &st))
		rc = lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
	for (off_t off = 0; !rc && off < st.st_size;) {
		size_t n = (size_t)(st.st_size - off) < sizeof zero ? (size_t)(st.st_size - off)
								    : sizeof zero;
		ssize_t w = pwrite(fd, zero, n, off);
		if (w <= 0)
			rc = lb_errf(em, LB_EIO, "%s: overwriting failed: %s", path, strerror(errno));
		else
			off += w;
	}
	if (!rc && fsync(fd))
		rc = lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
	close(fd);
	/* another process wiping the same file at once may have unlinked it first */
	if (!rc && unlink(path) && errno != ENOENT)
		rc = lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
	return rc;
}

int lb_fd_write_all(int fd, const void *data, size_t n)
{
	const uint8_t *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return LB_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return LB_OK;
}

int lb_file_write(const char *path, const void *data, size_t len, unsigned mode,
		  struct lb_errmsg *em)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return lb_errf(em, LB_EINVALID, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return lb_errf(em, LB_EIO, "%s: %s", tmp, strerror(errno));
	if (lb_fd_write_all(fd, data, len) || fsync(fd) < 0)
		goto err_close;
	if (close(fd) < 0) {
		fd = -1;
		goto err_close;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto err_close;
	}
	return LB_OK;
err_close: {
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return lb_errf(em, LB_EIO, "%s: %s", path, strerror(e));
}
}

int lb_mkdirs(const char *path, unsigned mode, struct lb_errmsg *em)
{
	char p[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof p)
		return lb_errf(em, LB_EINVALID, "bad directory path '%s'", path);
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != 0)
			continue;
		char c = p[i];
		p[i] = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return lb_errf(em, LB_EIO, "cannot create directory %s: %s", p,
				       strerror(errno));
		p[i] = c;
	}
	return LB_OK;
}

int lb_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (int)n;
}
