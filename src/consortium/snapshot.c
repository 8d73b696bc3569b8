/*
 * Catch-up from a peer snapshot. A node with `peer_listen` serves, over mutual TLS (a
 * certificate of the consortium CA on both sides), a copy of its three chains at a consistent
 * point; a new node (every chain at genesis) with `snapshot_from` fetches it before it starts
 * its orderer, imports every block by replaying its txs (the block hash must come out the
 * same), checks every checkpoint the members recorded against the imported blocks, and only
 * then serves; the orderer resumes the etcd stream from the cursors that came with the tips.
 *
 * Stream (all integers big endian), after the client's request line "LEBEN-SNAPSHOT-1\n":
 *   "LEBEN-SNAPSHOT-1\n"
 *   3 x { u64 height, u32 cursor length (<= LB_CURSOR_MAX), cursor }   chain order
 *   for each chain, for each height 1..height: { u32 n, header[n], u32 m, body[m] }
 */
#include <poll.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "leben/consortium.h"
#include "leben/tls.h"
#include "leben/tx.h"

#define MAGIC "LEBEN-SNAPSHOT-1\n"
#define MAGIC_LEN (sizeof MAGIC - 1)
#define SNAP_TOTAL_MAX ((uint64_t)4 << 30) /* bytes of blocks held while importing */

/* ---- reading a stream ------------------------------------------------------------------ */

static int rd(lb_snapshot_read_fn read, void *ctx, void *buf, size_t n, struct lb_errmsg *em)
{
	return read(ctx, buf, n, em);
}

static int rd_u32(lb_snapshot_read_fn read, void *ctx, uint32_t *v, struct lb_errmsg *em)
{
	uint8_t b[4] = {0};
	int rc = rd(read, ctx, b, 4, em);
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return rc;
}

static int rd_u64(lb_snapshot_read_fn read, void *ctx, uint64_t *v, struct lb_errmsg *em)
{
	uint32_t hi = 0, lo = 0;
	int rc = rd_u32(read, ctx, &hi, em);
	if (!rc)
		rc = rd_u32(read, ctx, &lo, em);
	*v = (uint64_t)hi << 32 | lo;
	return rc;
}

static int rd_blob(lb_snapshot_read_fn read, void *ctx, size_t max, uint64_t *total,
		   struct lb_buf *b, const char *what, struct lb_errmsg *em)
{
	uint32_t n;
	int rc = rd_u32(read, ctx, &n, em);
	if (rc)
		return rc;
	if (n > max || *total + n > SNAP_TOTAL_MAX)
		return lb_errf(em, LB_ETOOBIG, "snapshot: a %s of %u bytes is over the limit", what,
			       n);
	*total += n;
	lb_buf_init(b, n ? n : 1);
	/* in pieces: memory grows with what really arrives, not with what was announced */
	for (size_t left = n; left;) {
		size_t k = left < (64u << 10) ? left : (64u << 10);
		if (lb_buf_reserve(b, k))
			return lb_errf(em, LB_ENOMEM, "snapshot: out of memory");
		if ((rc = rd(read, ctx, b->data + b->len, k, em)))
			return rc;
		b->len += k;
		left -= k;
	}
	return LB_OK;
}

void lb_snapshot_free(struct lb_snapshot *s)
{
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		for (uint64_t i = 0; s->headers[c] && i < s->height[c]; i++) {
			lb_buf_release(&s->headers[c][i]);
			lb_buf_release(&s->bodies[c][i]);
		}
		lb_free(s->headers[c]);
		lb_free(s->bodies[c]);
	}
	memset(s, 0, sizeof *s);
}

int lb_snapshot_read(lb_snapshot_read_fn read, void *ctx, struct lb_snapshot *s,
		     struct lb_errmsg *em)
{
	char magic[MAGIC_LEN];
	uint64_t total = 0;
	int rc;
	memset(s, 0, sizeof *s);
	if ((rc = rd(read, ctx, magic, MAGIC_LEN, em)))
		return rc;
	if (memcmp(magic, MAGIC, MAGIC_LEN))
		return lb_errf(em, LB_EMALFORMED, "snapshot: the peer does not speak the snapshot "
						  "protocol (is that its peer_listen port?)");
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		uint32_t n;
		if ((rc = rd_u64(read, ctx, &s->height[c], em)) ||
		    (rc = rd_u32(read, ctx, &n, em)))
			goto fail;
		if (n > LB_CURSOR_MAX || s->height[c] > SNAP_TOTAL_MAX / 8) {
			rc = lb_errf(em, LB_EMALFORMED, "snapshot: %s chain: bad height or cursor",
				     lb_chain_name(c));
			goto fail;
		}
		s->cursor_len[c] = n;
		if ((rc = rd(read, ctx, s->cursor[c], n, em)))
			goto fail;
	}
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		uint64_t want = s->height[c], cap = 0;
		s->height[c] = 0; /* counts what is held, for lb_snapshot_free */
		for (uint64_t i = 0; i < want; i++) {
			if (i == cap) { /* grow as blocks arrive: the announced count is not trusted */
				size_t ncap = cap ? 2 * cap : 64;
				struct lb_buf *nh = lb_realloc(s->headers[c], ncap * sizeof *nh);
				if (nh)
					s->headers[c] = nh;
				struct lb_buf *nb = nh ? lb_realloc(s->bodies[c], ncap * sizeof *nb) : NULL;
				if (nb)
					s->bodies[c] = nb;
				if (!nh || !nb) {
					rc = lb_errf(em, LB_ENOMEM, "snapshot: out of memory");
					goto fail;
				}
				cap = ncap;
			}
			lb_buf_init(&s->headers[c][i], 1);
			lb_buf_init(&s->bodies[c][i], 1);
			s->height[c] = i + 1;
			if ((rc = rd_blob(read, ctx, LB_HEADER_MAX_BYTES, &total, &s->headers[c][i],
					  "block header", em)) ||
			    (rc = rd_blob(read, ctx, SNAP_TOTAL_MAX, &total, &s->bodies[c][i],
					  "block body", em)))
				goto fail;
		}
	}
	return LB_OK;
fail:
	lb_snapshot_free(s);
	return rc;
}

/* ---- importing ------------------------------------------------------------------------- */

int lb_snapshot_import(struct lb_ledger *l, const struct lb_snapshot *s, uint64_t *checked,
		       struct lb_errmsg *em)
{
	uint64_t next[LB_CHAIN_COUNT];
	struct lb_block_header *h = lb_malloc(sizeof *h);
	int rc = LB_OK;
	*checked = 0;
	if (!h)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		next[c] = lb_ledger_height(l, c);
		if (next[c] != 0) {
			lb_free(h);
			return lb_errf(em, LB_EEXISTS,
				       "catch-up from a peer snapshot needs a node whose chains are at "
				       "genesis, but its %s chain is at block %llu",
				       lb_chain_name(c), (unsigned long long)next[c]);
		}
	}
	/* Replay in the peer's commit order: the next block of a chain can come when its anchors
	 * name the other chains' current heights (at most one chain qualifies at a time). */
	for (;;) {
		int pick = -1;
		bool left = false;
		for (int c = 0; c < LB_CHAIN_COUNT && pick < 0 && !rc; c++) {
			if (next[c] >= s->height[c])
				continue;
			left = true;
			const struct lb_buf *hb = &s->headers[c][next[c]];
			if ((rc = lb_header_decode(h, hb->data, hb->len, em))) {
				lb_errwrap(em, "snapshot: %s block %llu: ", lb_chain_name(c),
					   (unsigned long long)(next[c] + 1));
				break;
			}
			bool ready = h->chain == c;
			for (int o = 0; o < LB_CHAIN_COUNT && ready; o++) {
				int k = lb_anchor_index(c, o);
				if (k >= 0 && h->anchors[k].height != next[o])
					ready = false;
			}
			if (ready)
				pick = c;
		}
		if (rc || !left)
			break;
		if (pick < 0) {
			rc = lb_errf(em, LB_ECORRUPT,
				     "snapshot: the peer's blocks cannot be put in an order their anchors "
				     "allow (settlement %llu, directory %llu, business %llu imported)",
				     (unsigned long long)next[0], (unsigned long long)next[1],
				     (unsigned long long)next[2]);
			break;
		}
		uint64_t i = next[pick];
		bool last = i + 1 == s->height[pick];
		rc = lb_ledger_import_block(l, s->headers[pick][i].data, s->headers[pick][i].len,
					    s->bodies[pick][i].data, s->bodies[pick][i].len,
					    last ? s->cursor[pick] : NULL,
					    last ? s->cursor_len[pick] : 0, em);
		if (rc)
			break;
		next[pick]++;
	}
	lb_free(h);
	if (!rc)
		rc = lb_consortium_verify_ledger(l, checked, em);
	return rc;
}

/* ---- over TLS ----------------------------------------------------------------------------- */

static int tls_read_all(void *ctx, void *buf, size_t n, struct lb_errmsg *em)
{
	uint8_t *p = buf;
	while (n) {
		size_t got;
		int rc = lb_tls_read(ctx, p, n, &got, em);
		if (rc)
			return rc;
		if (!got)
			return lb_errf(em, LB_EIO, "snapshot: the peer closed the connection early");
		p += got;
		n -= got;
	}
	return LB_OK;
}

static int split_hostport(const char *hp, char *host, size_t hn, char *port, size_t pn,
			  struct lb_errmsg *em)
{
	const char *colon = strrchr(hp, ':');
	if (!colon || colon == hp || !colon[1] || (size_t)(colon - hp) >= hn ||
	    strlen(colon + 1) >= pn)
		return lb_errf(em, LB_EINVALID, "'%s' is not HOST:PORT", hp);
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = 0;
	snprintf(port, pn, "%s", colon + 1);
	return LB_OK;
}

int lb_snapshot_fetch(struct lb_ledger *l, const char *peer, const struct lb_tls_config *tls,
		      uint64_t *checked, struct lb_errmsg *em)
{
	char host[256], port[16];
	lb_tls_ctx *ctx = NULL;
	lb_tls_conn *conn = NULL;
	struct lb_snapshot s;
	int rc;
	memset(&s, 0, sizeof s);
	if ((rc = split_hostport(peer, host, sizeof host, port, sizeof port, em)) ||
	    (rc = lb_tls_ctx_new(&ctx, 0, tls, em)) ||
	    (rc = lb_tls_dial(ctx, host, port, NULL, &conn, em)) ||
	    (rc = lb_tls_write(conn, MAGIC, MAGIC_LEN, em)) ||
	    (rc = lb_snapshot_read(tls_read_all, conn, &s, em)))
		goto out;
	lb_log(LB_LOG_INFO, "snapshot from %s: settlement %llu, directory %llu, business %llu "
			    "blocks; replaying them",
	       peer, (unsigned long long)s.height[0], (unsigned long long)s.height[1],
	       (unsigned long long)s.height[2]);
	rc = lb_snapshot_import(l, &s, checked, em);
out:
	if (rc)
		lb_errwrap(em, "catch-up from %s: ", peer);
	lb_snapshot_free(&s);
	if (conn)
		lb_tls_close(conn);
	lb_tls_ctx_free(ctx);
	return rc;
}

/* ---- serving ------------------------------------------------------------------------------ */

struct lb_snapshot_server {
	struct lb_ledger *ledger;
	lb_tls_ctx *ctx;
	/* the TLS files (copies); with a CRL file, the context is made again when it changes, so
	 * a revocation takes effect without a restart */
	char ca[4200], cert[4200], key[4200], crl[4200];
	struct timespec crl_mtime;
	int (*peer_check)(void *ctx, const uint8_t spki_hash[32], char *why, size_t n);
	void *peer_check_ctx;                  /* tls_cosigned: the ledger */
	int fd;
	pthread_t thread;
	atomic_int stopping;
};

static int wr_u32(lb_tls_conn *c, uint32_t v, struct lb_errmsg *em)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return lb_tls_write(c, b, 4, em);
}

static int serve_one(struct lb_snapshot_server *sv, lb_tls_conn *c, struct lb_errmsg *em)
{
	char req[MAGIC_LEN];
	uint64_t heights[LB_CHAIN_COUNT];
	uint8_t cursors[LB_CHAIN_COUNT][LB_CURSOR_MAX];
	size_t clen[LB_CHAIN_COUNT];
	int rc;
	if ((rc = tls_read_all(c, req, MAGIC_LEN, em)))
		return rc;
	if (memcmp(req, MAGIC, MAGIC_LEN))
		return lb_errf(em, LB_EMALFORMED, "not a snapshot request");
	if ((rc = lb_ledger_snapshot_point(sv->ledger, heights, cursors, clen, em)) ||
	    (rc = lb_tls_write(c, MAGIC, MAGIC_LEN, em)))
		return rc;
	for (int ch = 0; ch < LB_CHAIN_COUNT && !rc; ch++)
		if (!(rc = wr_u32(c, (uint32_t)(heights[ch] >> 32), em)) &&
		    !(rc = wr_u32(c, (uint32_t)heights[ch], em)) &&
		    !(rc = wr_u32(c, (uint32_t)clen[ch], em)))
			rc = lb_tls_write(c, cursors[ch], clen[ch], em);
	struct lb_buf hb, bb;
	lb_buf_init(&hb, LB_HEADER_MAX_BYTES);
	lb_buf_init(&bb, (size_t)SNAP_TOTAL_MAX);
	for (int ch = 0; ch < LB_CHAIN_COUNT && !rc; ch++)
		for (uint64_t h = 1; h <= heights[ch] && !rc && !sv->stopping; h++)
			if (!(rc = lb_ledger_block_raw(sv->ledger, ch, h, &hb, &bb, em)) &&
			    !(rc = wr_u32(c, (uint32_t)hb.len, em)) &&
			    !(rc = lb_tls_write(c, hb.data, hb.len, em)) &&
			    !(rc = wr_u32(c, (uint32_t)bb.len, em)))
				rc = lb_tls_write(c, bb.data, bb.len, em);
	lb_buf_release(&hb);
	lb_buf_release(&bb);
	return rc;
}

static void crl_refresh(struct lb_snapshot_server *sv)
{
	struct stat st;
	if (!sv->crl[0] || stat(sv->crl, &st) ||
	    (st.st_mtim.tv_sec == sv->crl_mtime.tv_sec && st.st_mtim.tv_nsec == sv->crl_mtime.tv_nsec))
		return;
	struct lb_tls_config tc = {.ca_file = sv->ca, .cert_file = sv->cert, .key_file = sv->key,
				   .crl_file = sv->crl, .peer_check = sv->peer_check,
				   .peer_check_ctx = sv->peer_check_ctx};
	struct lb_errmsg em;
	lb_tls_ctx *ctx;
	lb_errclear(&em);
	sv->crl_mtime = st.st_mtim;
	if (lb_tls_ctx_new(&ctx, 1, &tc, &em)) {
		lb_log(LB_LOG_WARN, "peer link: the changed revocation list %s is not used: %s",
		       sv->crl, em.text);
		return;
	}
	lb_tls_ctx_free(sv->ctx);
	sv->ctx = ctx;
	lb_log(LB_LOG_INFO, "peer link: loaded the changed revocation list %s", sv->crl);
}

static void *server_main(void *arg)
{
	struct lb_snapshot_server *sv = arg;
	while (!sv->stopping) {
		struct pollfd p = {.fd = sv->fd, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		int fd = accept(sv->fd, NULL, NULL);
		if (fd < 0)
			continue;
		struct lb_errmsg em;
		lb_errclear(&em);
		lb_tls_conn *c = NULL;
		char who[256] = "";
		crl_refresh(sv);
		int rc = lb_tls_server(sv->ctx, fd, NULL, &c, &em);
		if (!rc) {
			lb_tls_peer_id(c, who, sizeof who);
			rc = serve_one(sv, c, &em);
			lb_tls_close(c);
		}
		if (rc)
			lb_log(LB_LOG_WARN, "snapshot for peer %s failed: %s", who[0] ? who : "(refused)",
			       em.text);
		else
			lb_log(LB_LOG_INFO, "sent a snapshot to peer %s", who);
	}
	return NULL;
}

int lb_snapshot_server_start(struct lb_snapshot_server **out, struct lb_ledger *l,
			     const char *listen, const struct lb_tls_config *tls,
			     struct lb_errmsg *em)
{
	char host[256], port[16];
	int rc = split_hostport(listen, host, sizeof host, port, sizeof port, em);
	if (rc) {
		lb_errwrap(em, "peer_listen: ");
		return rc;
	}
	struct lb_snapshot_server *sv = lb_calloc(1, sizeof *sv);
	if (!sv)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	sv->ledger = l;
	sv->fd = -1;
	sv->peer_check = tls->peer_check;
	sv->peer_check_ctx = tls->peer_check_ctx;
	snprintf(sv->ca, sizeof sv->ca, "%s", tls->ca_file ? tls->ca_file : "");
	snprintf(sv->cert, sizeof sv->cert, "%s", tls->cert_file ? tls->cert_file : "");
	snprintf(sv->key, sizeof sv->key, "%s", tls->key_file ? tls->key_file : "");
	snprintf(sv->crl, sizeof sv->crl, "%s", tls->crl_file ? tls->crl_file : "");
	struct stat st;
	if (sv->crl[0] && !stat(sv->crl, &st))
		sv->crl_mtime = st.st_mtim;
	if ((rc = lb_tls_ctx_new(&sv->ctx, 1, tls, em)))
		goto fail;
	sv->fd = lb_tls_listen(host, port, em);
	if (sv->fd < 0) {
		rc = LB_EIO;
		goto fail;
	}
	if (pthread_create(&sv->thread, NULL, server_main, sv)) {
		rc = lb_errf(em, LB_ENOMEM, "cannot start the snapshot server thread");
		goto fail;
	}
	*out = sv;
	return LB_OK;
fail:
	if (sv->fd >= 0)
		close(sv->fd);
	lb_tls_ctx_free(sv->ctx);
	lb_free(sv);
	return rc;
}

void lb_snapshot_server_stop(struct lb_snapshot_server *sv)
{
	if (!sv)
		return;
	sv->stopping = 1;
	pthread_join(sv->thread, NULL);
	close(sv->fd);
	lb_tls_ctx_free(sv->ctx);
	lb_free(sv);
}
