/* libFuzzer harness for the etcd orderer's cut rule, which reads keys and values written into
 * etcd by any member: arbitrary event streams must never crash it, and its cuts keep their
 * invariants (1..block_max txs, or none only for an anchor marker; clock never going back,
 * every tx taken delivered at most once, a batch bringing at most the txs it holds, cursors
 * 32 bytes). Input: events of [kind][suffix length][suffix][value length][value];
 * kind picks the key family (tx, cut marker, clock, raw) so that most inputs reach the rule. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order/etcd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BLOCK_MAX 4

static uint64_t last_time, delivered;
static int anchor_event; /* the event being fed is an anchor marker (9-byte value, last 1) */

static int on_cut(void *ctx, const struct lb_cut *cut, const uint8_t *cursor, size_t len,
		  struct lb_errmsg *em)
{
	if ((cut->n < 1 && !anchor_event) || cut->n > BLOCK_MAX || len != ETCD_CURSOR_LEN ||
	    cut->time_ms < last_time)
		abort();
	for (size_t i = 0; i < cut->n; i++)
		if (!cut->raws[i] || cut->lens[i] == 0)
			abort();
	last_time = cut->time_ms;
	delivered += cut->n;
	return LB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t net[LB_HASH_LEN] = {7};
	static const char *families[] = {"t/", "cut/", "clock", ""};
	struct etcd_cutter c;
	size_t p = 0, taken = 0;
	int64_t rev = 1, idx = 0;
	last_time = delivered = 0;
	cutter_init(&c, net, BLOCK_MAX, on_cut, NULL);
	while (p + 2 <= size) {
		uint8_t kind = data[p++], klen = data[p++];
		if (p + klen + 2 > size)
			break;
		char key[ETCD_PREFIX_MAX + 300];
		int n = snprintf(key, sizeof key, "%s%s", (kind & 4) ? "/other/" : c.prefix,
				 families[kind & 3]);
		memcpy(key + n, data + p, klen);
		p += klen;
		size_t vlen = (size_t)data[p] | (size_t)data[p + 1] << 8;
		p += 2;
		if (vlen > size - p)
			vlen = size - p;
		if (kind & 8) {
			rev++;
			idx = 0;
		} else {
			idx++;
		}
		/* txs held = waiting + delivered: grows by at most one per event, and only on
		 * a tx key of this network */
		uint64_t before = c.ch[0].n + c.ch[1].n + c.ch[2].n + delivered;
		/* judged on the key as written, like txkey below */
		anchor_event = (size_t)n + klen >= c.prefix_len + 4 &&
			       !memcmp(key, c.prefix, c.prefix_len) &&
			       !memcmp(key + c.prefix_len, "cut/", 4) && vlen == 9 && data[p + 8] == 1;
		if (cutter_event(&c, (struct etcd_pos){rev, idx}, (const uint8_t *)key,
				 (size_t)n + klen, data + p, vlen, NULL))
			abort();
		uint64_t after = c.ch[0].n + c.ch[1].n + c.ch[2].n + delivered;
		/* judged on the key as written: a raw key may spell a tx or batch key of this
		 * network; a tx key brings at most one tx, a batch key at most the txs its value
		 * holds, any other key none */
		size_t kl = (size_t)n + klen, cap = 0, count = 0;
		int ours = kl >= c.prefix_len + 2 && !memcmp(key, c.prefix, c.prefix_len);
		if (ours && !memcmp(key + c.prefix_len, "t/", 2))
			cap = 1;
		else if (ours && !memcmp(key + c.prefix_len, "b/", 2) &&
			 etcd_batch_parse(data + p, vlen, &count, NULL))
			cap = count;
		if (after < before || after > before + cap)
			abort();
		taken += after - before;
		p += vlen;
	}
	if (taken != c.txs + c.ch[0].n + c.ch[1].n + c.ch[2].n || c.txs != delivered)
		abort();
	cutter_release(&c);
	return 0;
}
