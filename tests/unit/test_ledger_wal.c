/*
 * The write-ahead log of accepted txs: record format (whole records replay, a torn tail or a
 * bad checksum ends the replay), a log far larger than the replay's buffer (records across
 * piece boundaries, a record larger than the buffer), group commit (writers that wrote while
 * a sync ran share the next one; each returns only once its records are synced), and a
 * ledger reopened without its txs committed (as after a crash) has them back in its mempool,
 * while txs committed since are dropped; a ledger without a log (etcd ordering) writes none
 * and removes one left in its home without replaying it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "ledger/ledger_int.h"
#include "ledger_fixture.h"

struct seen {
	size_t n;
	size_t lens[8];
	uint8_t first[8];
};

static int see(void *ctx, const uint8_t *raw, size_t len)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		s->lens[s->n] = len;
		s->first[s->n] = len ? raw[0] : 0;
	}
	s->n++;
	return LB_OK;
}

static void replay(const char *path, struct seen *s, size_t *torn)
{
	struct lb_errmsg em;
	memset(s, 0, sizeof *s);
	assert_lb_ok(wal_replay(path, see, s, torn, &em));
}

static void test_wal_format(void **state)
{
	(void)state;
	char home[64], path[128];
	fx_mkhome(home, sizeof home, "walfmt");
	snprintf(path, sizeof path, "%s/x.wal", home);
	struct seen s;
	size_t torn = 1;
	replay(path, &s, &torn); /* no file: nothing */
	assert_int_equal(s.n, 0);
	assert_int_equal(torn, 0);
	struct wal w;
	struct lb_errmsg em;
	assert_lb_ok(wal_open(&w, path, &em));
	uint8_t a[10], b[300], c[1];
	memset(a, 'a', sizeof a);
	memset(b, 'b', sizeof b);
	memset(c, 'c', sizeof c);
	const uint8_t *raws[3] = {a, b, c};
	size_t lens[3] = {sizeof a, sizeof b, sizeof c};
	assert_lb_ok(wal_append(&w, 3, raws, lens));
	wal_close(&w);
	replay(path, &s, &torn);
	assert_int_equal(s.n, 3);
	assert_int_equal(torn, 0);
	assert_int_equal(s.lens[1], 300);
	assert_int_equal(s.first[2], 'c');
	/* a torn last record (header and half its body) is ignored */
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	uint8_t hdr[12 + 5] = {20, 0, 0, 0};
	assert_int_equal(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
	close(fd);
	replay(path, &s, &torn);
	assert_int_equal(s.n, 3);
	assert_int_equal(torn, sizeof hdr);
	/* a flipped byte in the second record's body: the replay ends before it */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "B", 1, 12 + 10 + 12 + 100), 1);
	close(fd);
	replay(path, &s, &torn);
	assert_int_equal(s.n, 1);
	assert_int_equal(torn, 12 + 300 + 12 + 1 + sizeof hdr);
	fx_rmhome(home);
}

/* Sums the lengths and a checksum of every replayed record. */
struct big_seen {
	size_t n;
	uint64_t bytes, sum;
};

static int see_big(void *ctx, const uint8_t *raw, size_t len)
{
	struct big_seen *s = ctx;
	s->n++;
	s->bytes += len;
	for (size_t i = 0; i < len; i += 97)
		s->sum = s->sum * 31 + raw[i];
	return LB_OK;
}

/* A new home (tag) with an open log w at <home>/x.wal, its path into path. */
static void new_wal(char home[64], const char *tag, char path[128], struct wal *w)
{
	struct lb_errmsg em;
	fx_mkhome(home, 64, tag);
	snprintf(path, 128, "%s/x.wal", home);
	assert_lb_ok(wal_open(w, path, &em));
}

static void test_wal_streamed(void **state)
{
	(void)state;
	char home[64], path[128];
	struct wal w;
	struct lb_errmsg em;
	new_wal(home, "walbig", path, &w);
	/* 3000 records of 1..2999 bytes (about 4.5 MB: several reads of the 1 MiB buffer,
	 * records cut by its boundaries), then one of 3 MB (larger than the buffer) */
	static uint8_t rec[3u << 20];
	struct big_seen want = {0};
	for (size_t i = 0; i < sizeof rec; i++)
		rec[i] = (uint8_t)(i * 7 + i / 251);
	uint64_t upto;
	for (size_t i = 1; i <= 3000; i++) {
		const uint8_t *r = rec + i;
		size_t len = i;
		assert_lb_ok(wal_write(&w, 1, &r, &len, &upto));
		see_big(&want, r, len);
	}
	const uint8_t *r = rec;
	size_t len = sizeof rec;
	assert_lb_ok(wal_append(&w, 1, &r, &len));
	see_big(&want, r, len);
	wal_close(&w);
	struct big_seen got = {0};
	size_t torn = 1;
	assert_lb_ok(wal_replay(path, see_big, &got, &torn, &em));
	assert_int_equal(got.n, want.n);
	assert_int_equal(got.bytes, want.bytes);
	assert_true(got.sum == want.sum);
	assert_int_equal(torn, 0);
	/* the big record's last byte torn off: everything before it replays */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 1), 0);
	memset(&got, 0, sizeof got);
	assert_lb_ok(wal_replay(path, see_big, &got, &torn, &em));
	assert_int_equal(got.n, 3000);
	assert_int_equal(torn, 12 + sizeof rec - 1);
	fx_rmhome(home);
}

/* Writers of 1-record batches, each write followed by its sync, as concurrent API requests
 * do: every sync returns with the writer's records on disk (synced covers them), and batches
 * written while a sync ran share one. */
struct gc_arg {
	struct wal *w;
	pthread_mutex_t *chain_mu;
	int failures;
};

static void *gc_writer(void *p)
{
	struct gc_arg *a = p;
	uint8_t tx[200];
	memset(tx, 'g', sizeof tx);
	for (int i = 0; i < 100; i++) {
		const uint8_t *r = tx;
		size_t len = sizeof tx;
		uint64_t upto;
		pthread_mutex_lock(a->chain_mu); /* as admission: written under the chain lock */
		int rc = wal_write(a->w, 1, &r, &len, &upto);
		pthread_mutex_unlock(a->chain_mu);
		rc = rc ? rc : wal_sync(a->w, upto);
		pthread_mutex_lock(&a->w->sync_mu);
		if (rc || a->w->synced < upto)
			a->failures++;
		pthread_mutex_unlock(&a->w->sync_mu);
	}
	return NULL;
}

static void test_wal_group_commit(void **state)
{
	(void)state;
	char home[64], path[128];
	struct wal w;
	new_wal(home, "walgroup", path, &w);
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	enum { T = 8 };
	pthread_t th[T];
	struct gc_arg a[T];
	for (int i = 0; i < T; i++) {
		a[i] = (struct gc_arg){&w, &mu, 0};
		assert_int_equal(pthread_create(&th[i], NULL, gc_writer, &a[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].failures, 0);
	}
	printf("# group commit: %d batches, %llu syncs\n", T * 100, (unsigned long long)w.syncs);
	assert_true(w.syncs < T * 100);
	assert_true(w.syncs >= 1);
	assert_true(w.synced == w.written);
	wal_close(&w);
	struct seen s;
	size_t torn;
	replay(path, &s, &torn);
	assert_int_equal(s.n, T * 100);
	fx_rmhome(home);
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void record(struct lb_ledger *l, const struct lb_keypair *kp, uint64_t nonce,
		   struct lb_buf *raw)
{
	struct lb_buf pl;
	struct lb_submit_result r;
	uint8_t subj[LB_HASH_LEN] = {9};
	lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_payload_record(&pl, "anchor.test", subj, NULL, 0));
	fx_build(raw, l, kp, LB_CHAIN_BUSINESS, LB_TX_RECORD, nonce, 0, pl.data, pl.len, NULL);
	if (fx_submit1(l, raw->data, raw->len, &r))
		fail_msg("submit: %s", r.message);
	lb_buf_release(&pl);
}

static void test_wal_replay(void **state)
{
	(void)state;
	char home[64], wal[128], saved[140];
	uint8_t aa[LB_ADDR_LEN];
	struct lb_keypair prop, a;
	fx_one_account(home, sizeof home, "walreplay", &prop, &a, aa);
	snprintf(wal, sizeof wal, "%s/chains/business.wal", home);
	snprintf(saved, sizeof saved, "%s.saved", wal);
	struct lb_ledger *l;
	fx_open(&l, home, &prop);
	struct lb_buf r1, r2;
	record(l, &a, 0, &r1);
	record(l, &a, 1, &r2);
	assert_true(file_size(wal) == (off_t)(24 + r1.len + r2.len));
	lb_ledger_close(l); /* no commit: as after a crash */
	fx_open(&l, home, &prop);
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_BUSINESS), 0);
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_replay_wal(l, &em));
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_BUSINESS), 2);
	/* keep the log holding both, then commit them: the log is emptied */
	uint8_t *copy;
	size_t clen;
	assert_lb_ok(lb_file_read(wal, 1 << 20, &copy, &clen, &em));
	const uint8_t *raws[2] = {r1.data, r2.data};
	size_t lens[2] = {r1.len, r2.len};
	struct lb_cut c = {LB_CHAIN_BUSINESS, 5000, 2, raws, lens};
	uint64_t h;
	assert_lb_ok(lb_ledger_commit(l, &c, &h, &em));
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_BUSINESS), 0);
	assert_true(file_size(wal) == 0);
	lb_ledger_close(l);
	/* a stale log of committed txs: both dropped on open, the log rewritten empty */
	assert_lb_ok(lb_file_write(wal, copy, clen, 0600, &em));
	lb_free(copy);
	fx_open(&l, home, &prop);
	assert_lb_ok(lb_ledger_replay_wal(l, &em));
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_BUSINESS), 0);
	assert_true(file_size(wal) == 0);
	lb_ledger_close(l);
	lb_buf_release(&r1);
	lb_buf_release(&r2);
	fx_rmhome(home);
}

/* With one etcd value per batch a tx can reach the stream twice (two batches carry it): the
 * block holds both copies, the first applies, the second is committed invalid and changes
 * nothing; the tx's status is the first copy's; a later block carrying it again likewise. */
static void test_duplicate_in_cut(void **state)
{
	(void)state;
	char home[64];
	uint8_t aa[LB_ADDR_LEN];
	struct lb_keypair prop, a;
	struct lb_errmsg em;
	fx_one_account(home, sizeof home, "dupcut", &prop, &a, aa);
	struct lb_ledger *l;
	fx_open(&l, home, &prop);
	struct lb_buf r1, r2;
	record(l, &a, 0, &r1);
	record(l, &a, 1, &r2);
	const uint8_t *raws[3] = {r1.data, r1.data, r2.data};
	size_t lens[3] = {r1.len, r1.len, r2.len};
	struct lb_cut c = {LB_CHAIN_BUSINESS, 5000, 3, raws, lens};
	uint64_t h;
	assert_lb_ok(lb_ledger_commit(l, &c, &h, &em));
	assert_int_equal(lb_ledger_next_nonce(l, LB_CHAIN_BUSINESS, aa), 2);
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_BUSINESS), 0);
	json_t *b, *tx;
	assert_lb_ok(lb_ledger_block_json(l, LB_CHAIN_BUSINESS, h, &b, &em));
	json_t *txs = json_object_get(b, "txs");
	assert_int_equal(json_array_size(txs), 3);
	assert_true(json_is_true(json_object_get(json_array_get(txs, 0), "valid")));
	assert_true(json_is_false(json_object_get(json_array_get(txs, 1), "valid")));
	assert_true(json_is_true(json_object_get(json_array_get(txs, 2), "valid")));
	json_decref(b);
	uint8_t id[LB_HASH_LEN];
	lb_hash(id, r1.data, r1.len);
	assert_lb_ok(lb_ledger_tx_json(l, id, &tx, &em));
	assert_string_equal(json_string_value(json_object_get(tx, "status")), "committed");
	assert_int_equal(json_integer_value(json_object_get(tx, "index")), 0);
	json_decref(tx);
	/* again in a later block: invalid, nothing changes */
	struct lb_cut c2 = {LB_CHAIN_BUSINESS, 6000, 1, raws, lens};
	assert_lb_ok(lb_ledger_commit(l, &c2, &h, &em));
	assert_int_equal(lb_ledger_next_nonce(l, LB_CHAIN_BUSINESS, aa), 2);
	lb_ledger_close(l);
	if (lb_ledger_verify_home(home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	lb_buf_release(&r1);
	lb_buf_release(&r2);
	fx_rmhome(home);
}

/* A ledger opened with no_wal (etcd ordering: etcd holds accepted txs before the API answers)
 * writes no log, and removes a log left in its home without replaying it (its txs would be
 * ordered a second time). */
static void test_no_wal(void **state)
{
	(void)state;
	char home[64], wal[128];
	uint8_t aa[LB_ADDR_LEN];
	struct lb_keypair prop, a;
	struct lb_errmsg em;
	fx_one_account(home, sizeof home, "walnone", &prop, &a, aa);
	snprintf(wal, sizeof wal, "%s/chains/business.wal", home);
	/* a log left by solo ordering, holding one accepted tx */
	struct lb_ledger *l;
	fx_open(&l, home, &prop);
	struct lb_buf r1, r2;
	record(l, &a, 0, &r1);
	lb_ledger_close(l);
	assert_true(file_size(wal) > 0);
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	o.no_wal = true;
	if (lb_ledger_open(&l, &o, &prop, &em))
		fail_msg("open: %s", em.text);
	assert_lb_ok(lb_ledger_replay_wal(l, &em));
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_BUSINESS), 0); /* not replayed */
	assert_int_equal(access(wal, F_OK), -1);                      /* removed */
	record(l, &a, 0, &r2);                                        /* admitted, no log */
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_BUSINESS), 1);
	assert_int_equal(access(wal, F_OK), -1);
	lb_ledger_close(l);
	lb_buf_release(&r1);
	lb_buf_release(&r2);
	fx_rmhome(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_format),
		cmocka_unit_test(test_wal_streamed),
		cmocka_unit_test(test_wal_group_commit),
		cmocka_unit_test(test_wal_replay),
		cmocka_unit_test(test_duplicate_in_cut),
		cmocka_unit_test(test_no_wal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
