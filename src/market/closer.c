/*
 * The node's period closer (include/leben/market.h): after each settlement block it checks,
 * on its own thread, whether the next period to close has ended, and if so submits
 * market.period with the node's key. Nodes of a consortium may all do it: the first close of
 * a period is applied, the others are refused (a later one names the next period), and
 * market.period is fee-exempt, so nothing is paid twice.
 */
#include <pthread.h>
#include <string.h>

#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/tx.h"

struct lb_mkt_closer {
	struct lb_ledger *ledger;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop, wake;
	uint64_t sent_period, sent_height; /* last close submitted (+1: none) */
};

struct due_q {
	bool on;
	uint64_t period, end; /* the next period to close and its last block */
};

static int due_view(struct lb_state *s, void *ctx)
{
	struct due_q *q = ctx;
	struct lb_mkt_config c;
	int rc = lb_mkt_config_load(s, &c, &q->on);
	if (rc || !q->on)
		return rc;
	if ((rc = lb_state_get_u64(s, "mkt.cfg", "next", 4, 0, &q->period)))
		return rc;
	q->on = q->period < UINT64_MAX / c.period_blocks - 1;
	q->end = (q->period + 1) * c.period_blocks;
	return LB_OK;
}

static void close_due(struct lb_mkt_closer *c)
{
	struct due_q q = {0};
	uint8_t id[LB_HASH_LEN];
	struct lb_errmsg em;
	struct lb_buf b;
	if (lb_ledger_state_view(c->ledger, LB_CHAIN_SETTLEMENT, due_view, &q) || !q.on)
		return;
	/* period p ends with block (p + 1) x period_blocks; once that block is committed the
	 * close can go into a later one. Resend only when the last try has not landed within
	 * 8 blocks. */
	uint64_t h = lb_ledger_height(c->ledger, LB_CHAIN_SETTLEMENT);
	if (h < q.end || (c->sent_period == q.period + 1 && h < c->sent_height + 8))
		return;
	lb_buf_init(&b, 32);
	if (!lb_mkt_period_encode(&b, q.period) &&
	    !lb_ledger_node_submit(c->ledger, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PERIOD, b.data, b.len,
				   id, &em)) {
		c->sent_period = q.period + 1;
		c->sent_height = h;
		lb_log(LB_LOG_INFO, "market: closing period %llu (settlement height %llu)",
		       (unsigned long long)q.period, (unsigned long long)h);
	}
	lb_buf_release(&b);
}

static void *closer_main(void *arg)
{
	struct lb_mkt_closer *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		while (!c->wake && !c->stop)
			pthread_cond_wait(&c->cond, &c->mu);
		c->wake = false;
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mu);
		close_due(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int lb_mkt_closer_start(struct lb_mkt_closer **out, struct lb_ledger *l, struct lb_errmsg *em)
{
	struct lb_mkt_closer *c = lb_calloc(1, sizeof *c);
	if (!c)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	c->ledger = l;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (pthread_create(&c->thread, NULL, closer_main, c)) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->mu);
		lb_free(c);
		return lb_errf(em, LB_EINTERNAL, "cannot start the market's period closer");
	}
	*out = c;
	return LB_OK;
}

void lb_mkt_closer_notify(struct lb_mkt_closer *c, int chain)
{
	if (!c || chain != LB_CHAIN_SETTLEMENT)
		return;
	pthread_mutex_lock(&c->mu);
	c->wake = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
}

void lb_mkt_closer_stop(struct lb_mkt_closer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	lb_free(c);
}
