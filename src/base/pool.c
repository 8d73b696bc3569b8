/*
 * Worker pool for data-parallel loops: a loop is split into chunks that the workers and the
 * calling thread claim with an atomic counter; the caller returns when every chunk is done.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/pool.h"
#include "leben/base.h"

#define CHUNK 8

struct job {
	void (*fn)(void *ctx, size_t i);
	void *ctx;
	size_t n;
	atomic_size_t next; /* next index to claim */
	atomic_size_t done; /* indexes finished */
	int users;          /* workers inside run_chunks (under the pool mutex) */
	struct job *link;   /* queue of open jobs */
};

struct lb_pool {
	pthread_mutex_t mu;
	pthread_cond_t work;  /* a job was queued, or shutting down */
	pthread_cond_t fin;   /* some job finished */
	struct job *head;     /* jobs with unclaimed indexes */
	bool stop;
	int nthreads;
	pthread_t *threads;
};

/* Claim and run chunks of j until none are left; returns true if this call finished j. */
static bool run_chunks(struct lb_pool *p, struct job *j)
{
	bool finished = false;
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, CHUNK);
		if (i >= j->n)
			break;
		size_t end = i + CHUNK < j->n ? i + CHUNK : j->n;
		for (size_t k = i; k < end; k++)
			j->fn(j->ctx, k);
		if (atomic_fetch_add(&j->done, end - i) + (end - i) == j->n)
			finished = true;
	}
	if (finished && p) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->fin);
		pthread_mutex_unlock(&p->mu);
	}
	return finished;
}

static void *worker(void *arg)
{
	struct lb_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && !p->head)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		struct job *j = p->head;
		if (atomic_load(&j->next) >= j->n) {
			p->head = j->link; /* fully claimed: unqueue */
			continue;
		}
		j->users++;
		pthread_mutex_unlock(&p->mu);
		run_chunks(p, j);
		pthread_mutex_lock(&p->mu);
		if (--j->users == 0)
			pthread_cond_broadcast(&p->fin);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int lb_pool_new(struct lb_pool **out, int nthreads)
{
	struct lb_pool *p = lb_calloc(1, sizeof *p);
	if (!p)
		return LB_ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->fin, NULL);
	p->threads = lb_calloc((size_t)(nthreads > 0 ? nthreads : 1), sizeof *p->threads);
	if (!p->threads) {
		lb_pool_free(p);
		return LB_ENOMEM;
	}
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p))
			break;
		p->nthreads++;
	}
	*out = p;
	return LB_OK;
}

void lb_pool_free(struct lb_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->fin);
	lb_free(p->threads);
	lb_free(p);
}

void lb_pool_for(struct lb_pool *p, size_t n, void (*fn)(void *ctx, size_t i), void *ctx)
{
	if (n == 0)
		return;
	struct job j = {.fn = fn, .ctx = ctx, .n = n, .users = 0, .link = NULL};
	atomic_init(&j.next, 0);
	atomic_init(&j.done, 0);
	bool shared = p && p->nthreads > 0 && n > CHUNK;
	if (shared) {
		pthread_mutex_lock(&p->mu);
		struct job **tail = &p->head;
		while (*tail)
			tail = &(*tail)->link;
		*tail = &j;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	run_chunks(p, &j);
	if (!shared)
		return;
	pthread_mutex_lock(&p->mu);
	/* unqueue if still queued, then wait for workers still inside our chunks */
	for (struct job **q = &p->head; *q; q = &(*q)->link)
		if (*q == &j) {
			*q = j.link;
			break;
		}
	while (atomic_load(&j.done) < n || j.users > 0)
		pthread_cond_wait(&p->fin, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
