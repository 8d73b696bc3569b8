/*
 * The solo orderer of an embedded (single-node) deployment: admitted txs wait in one queue
 * per chain, and one thread cuts a block of a chain whenever max_txs are waiting or the
 * oldest has waited interval_ms, or at once when a block of the chain is wanted to anchor
 * another chain's block (anchor: an empty block if nothing waits). Cuts are delivered in
 * admission order.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "leben/base.h"
#include "leben/order.h"

struct queue {
	uint8_t **raws;
	size_t *lens;
	size_t n, cap;
	uint64_t oldest_ns; /* arrival of raws[0] */
};

struct solo {
	struct lb_orderer base;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue q[LB_CHAIN_COUNT];
	bool anchor[LB_CHAIN_COUNT]; /* a block of this chain is wanted now, even empty */
	size_t max_txs;
	uint64_t interval_ns;
	bool running, stopping;
	pthread_t thread;
	lb_deliver_fn deliver;
	void *ctx;
};

static int solo_submit(struct lb_orderer *o, int chain, const uint8_t *raw, size_t len)
{
	struct solo *s = (struct solo *)o;
	uint8_t *copy = lb_malloc(len);
	if (!copy)
		return LB_ENOMEM;
	memcpy(copy, raw, len);
	pthread_mutex_lock(&s->mu);
	struct queue *q = &s->q[chain];
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 1024;
		uint8_t **r = lb_realloc(q->raws, ncap * sizeof *r);
		if (r)
			q->raws = r;
		size_t *l = r ? lb_realloc(q->lens, ncap * sizeof *l) : NULL;
		if (!r || !l) {
			pthread_mutex_unlock(&s->mu);
			lb_free(copy);
			return LB_ENOMEM;
		}
		q->lens = l;
		q->cap = ncap;
	}
	if (q->n == 0)
		q->oldest_ns = lb_mono_ns();
	q->raws[q->n] = copy;
	q->lens[q->n++] = len;
	if (q->n == s->max_txs || q->n == 1)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return LB_OK;
}

/* Pick a chain whose queue is due; -1 if none. Lock held. */
static int due_chain(struct solo *s, uint64_t now, uint64_t *wait_ns)
{
	*wait_ns = UINT64_MAX;
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		struct queue *q = &s->q[c];
		if (s->anchor[c] && !s->stopping)
			return c;
		if (!q->n)
			continue;
		uint64_t age = now - q->oldest_ns;
		if (q->n >= s->max_txs || age >= s->interval_ns || s->stopping)
			return c;
		if (s->interval_ns - age < *wait_ns)
			*wait_ns = s->interval_ns - age;
	}
	return -1;
}

static void *solo_loop(void *arg)
{
	struct solo *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint64_t wait;
		int c = due_chain(s, lb_mono_ns(), &wait);
		if (c < 0) {
			if (s->stopping)
				break;
			if (wait == UINT64_MAX) {
				pthread_cond_wait(&s->cv, &s->mu);
			} else {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				uint64_t ns = (uint64_t)ts.tv_nsec + wait;
				ts.tv_sec += (time_t)(ns / 1000000000u);
				ts.tv_nsec = (long)(ns % 1000000000u);
				pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			}
			continue;
		}
		struct queue *q = &s->q[c];
		size_t n = q->n < s->max_txs ? q->n : s->max_txs;
		s->anchor[c] = false;
		uint8_t **raws = lb_malloc((n ? n : 1) * sizeof *raws);
		size_t *lens = lb_malloc((n ? n : 1) * sizeof *lens);
		if (!raws || !lens) {
			lb_free(raws);
			lb_free(lens);
			pthread_mutex_unlock(&s->mu);
			struct timespec ts = {0, 10000000};
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&s->mu);
			continue;
		}
		if (n) { /* an anchor cut may be empty, and an empty queue has no arrays yet */
			memcpy(raws, q->raws, n * sizeof *raws);
			memcpy(lens, q->lens, n * sizeof *lens);
			memmove(q->raws, q->raws + n, (q->n - n) * sizeof *q->raws);
			memmove(q->lens, q->lens + n, (q->n - n) * sizeof *q->lens);
			q->n -= n;
		}
		q->oldest_ns = lb_mono_ns();
		pthread_mutex_unlock(&s->mu);

		struct lb_cut cut = {.chain = c, .time_ms = lb_now_ms(), .n = n,
				     .raws = (const uint8_t *const *)raws, .lens = lens};
		struct lb_errmsg em;
		lb_errclear(&em);
		int rc = s->deliver(s->ctx, &cut, &em);
		for (size_t i = 0; i < n; i++)
			lb_free(raws[i]);
		lb_free(raws);
		lb_free(lens);
		pthread_mutex_lock(&s->mu);
		if (rc) {
			lb_log(LB_LOG_ERROR, "solo orderer: cannot commit a %s block: %s; ordering "
					     "stopped",
			       lb_chain_name(c), em.text);
			break;
		}
	}
	s->running = false;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* A block of chain is wanted now (an anchor): cut what waits, or an empty block. */
static void solo_anchor(struct lb_orderer *o, int chain)
{
	struct solo *s = (struct solo *)o;
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return;
	pthread_mutex_lock(&s->mu);
	s->anchor[chain] = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int solo_start(struct lb_orderer *o, lb_deliver_fn deliver, void *ctx,
		      struct lb_errmsg *em)
{
	struct solo *s = (struct solo *)o;
	s->deliver = deliver;
	s->ctx = ctx;
	s->running = true;
	if (pthread_create(&s->thread, NULL, solo_loop, s)) {
		s->running = false;
		return lb_errf(em, LB_EINTERNAL, "cannot start the orderer thread");
	}
	return LB_OK;
}

static void solo_stop(struct lb_orderer *o)
{
	struct solo *s = (struct solo *)o;
	pthread_mutex_lock(&s->mu);
	bool started = s->deliver != NULL;
	s->stopping = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (started)
		pthread_join(s->thread, NULL);
	s->deliver = NULL;
}

static void solo_free(struct lb_orderer *o)
{
	struct solo *s = (struct solo *)o;
	if (!s)
		return;
	solo_stop(o);
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		for (size_t i = 0; i < s->q[c].n; i++)
			lb_free(s->q[c].raws[i]);
		lb_free(s->q[c].raws);
		lb_free(s->q[c].lens);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	lb_free(s);
}

static const struct lb_orderer_ops solo_ops = {
	.name = "solo",
	.submit = solo_submit,
	.start = solo_start,
	.stop = solo_stop,
	.free = solo_free,
	.anchor = solo_anchor,
};

int lb_orderer_solo_new(struct lb_orderer **out, size_t max_txs, uint32_t interval_ms)
{
	struct solo *s = lb_calloc(1, sizeof *s);
	if (!s)
		return LB_ENOMEM;
	s->base.ops = &solo_ops;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->max_txs = max_txs ? max_txs : 5000;
	s->interval_ns = (uint64_t)(interval_ms ? interval_ms : 200) * 1000000u;
	*out = &s->base;
	return LB_OK;
}
