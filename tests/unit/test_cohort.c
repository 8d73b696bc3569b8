/* Cohort studies (leben/cohort.h): every payload round-trips through lb_cohort_encode/decode;
 * malformed payloads are refused naming what is wrong (k above n, duplicate members, round 0,
 * trailing bytes); the protocol check refuses each missing or wrong part with its field, pins
 * each algorithm by its built-in hash (a wrong hash refused), and its canonical form and hash
 * do not depend on key order or spacing; ids are domain-separated hashes of the signer and
 * name. */
#include <string.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/cohort.h"
#include "leben/exchange.h"
#include "test.h"

static const char *PROTO = "{\"title\":\"bp\",\"criteria\":{\"q\":\"hypertension\"},"
			   "\"algorithms\":[{\"algorithm\":\"stats\",\"params\":{\"columns\":[\"age\"]}}],"
			   "\"schedule\":{\"start_height\":5,\"interval_blocks\":3,\"rounds\":2}}";

static void roundtrip(struct lb_cohort_tx *t)
{
	struct lb_buf b;
	struct lb_cohort_tx d;
	struct lb_errmsg em;
	lb_buf_init(&b, 1 << 16);
	assert_int_equal(lb_cohort_encode(t, &b), LB_OK);
	assert_int_equal(lb_cohort_decode(t->type, b.data, b.len, &d, &em), LB_OK);
	assert_string_equal(d.name, t->name);
	assert_true(d.k == t->k && d.n == t->n && d.round == t->round);
	assert_memory_equal(d.id, t->id, LB_HASH_LEN);
	assert_memory_equal(d.hash, t->hash, LB_HASH_LEN);
	assert_memory_equal(d.asset, t->asset, LB_HASH_LEN);
	assert_memory_equal(d.patient, t->patient, LB_HASH_LEN);
	assert_memory_equal(d.members, t->members, sizeof d.members);
	if (t->protocol)
		assert_string_equal(d.protocol, t->protocol);
	/* one byte more is refused */
	lb_buf_add(&b, "x", 1);
	lb_free(d.protocol);
	assert_int_not_equal(lb_cohort_decode(t->type, b.data, b.len, &d, &em), LB_OK);
	lb_free(d.protocol);
	lb_buf_release(&b);
}

static void test_payloads(void **state)
{
	(void)state;
	struct lb_cohort_tx t;
	memset(&t, 0, sizeof t);
	t.type = LB_TX_COHORT_COMMITTEE;
	strcpy(t.name, "ethics board");
	t.k = 2;
	t.n = 3;
	for (int i = 0; i < 3; i++)
		memset(t.members[i], 0x10 + i, LB_ADDR_LEN);
	roundtrip(&t);
	memset(&t, 0, sizeof t);
	t.type = LB_TX_COHORT_PROTOCOL;
	memset(t.id, 7, LB_HASH_LEN);
	strcpy(t.name, "study");
	t.protocol = (char *)PROTO;
	roundtrip(&t);
	for (uint32_t ty = LB_TX_COHORT_APPROVE; ty <= LB_TX_COHORT_ROUND; ty++) {
		memset(&t, 0, sizeof t);
		t.type = ty;
		memset(t.id, 1, LB_HASH_LEN);
		if (ty == LB_TX_COHORT_APPROVE)
			memset(t.hash, 2, LB_HASH_LEN);
		if (ty == LB_TX_COHORT_OPTIN || ty == LB_TX_COHORT_WITHDRAW) {
			memset(t.asset, 3, LB_HASH_LEN);
			memset(t.patient, 4, LB_HASH_LEN);
		}
		if (ty == LB_TX_COHORT_ROUND)
			t.round = 3;
		roundtrip(&t);
	}
}

static int decode_err(struct lb_cohort_tx *t, const char *want)
{
	struct lb_buf b;
	struct lb_cohort_tx d;
	struct lb_errmsg em;
	lb_errclear(&em);
	lb_buf_init(&b, 4096);
	assert_int_equal(lb_cohort_encode(t, &b), LB_OK);
	int rc = lb_cohort_decode(t->type, b.data, b.len, &d, &em);
	lb_free(d.protocol);
	lb_buf_release(&b);
	assert_int_not_equal(rc, LB_OK);
	if (!strstr(em.text, want))
		fail_msg("'%s' does not say '%s'", em.text, want);
	return rc;
}

static void test_bad_payloads(void **state)
{
	(void)state;
	struct lb_cohort_tx t;
	memset(&t, 0, sizeof t);
	t.type = LB_TX_COHORT_COMMITTEE;
	strcpy(t.name, "b");
	t.k = 3;
	t.n = 2;
	memset(t.members[0], 1, LB_ADDR_LEN);
	memset(t.members[1], 2, LB_ADDR_LEN);
	assert_int_equal(decode_err(&t, "1 <= k <= n"), LB_EINVALID);
	t.k = 2;
	memset(t.members[1], 1, LB_ADDR_LEN);
	assert_int_equal(decode_err(&t, "are the same key"), LB_EINVALID);
	memset(&t, 0, sizeof t);
	t.type = LB_TX_COHORT_ROUND;
	assert_int_equal(decode_err(&t, "from 1"), LB_EINVALID);
	struct lb_cohort_tx d;
	struct lb_errmsg em;
	assert_int_equal(lb_cohort_decode(0x03b7, (const uint8_t *)"", 0, &d, &em), LB_EUNKNOWNTYPE);
}

static void proto_err(const char *text, const char *want)
{
	json_t *c = NULL;
	uint8_t h[LB_HASH_LEN];
	struct lb_errmsg em;
	lb_errclear(&em);
	assert_int_equal(lb_cohort_protocol_check(text, &c, h, &em), LB_EINVALID);
	assert_null(c);
	if (!strstr(em.text, want))
		fail_msg("'%s' does not say '%s'", em.text, want);
}

static void test_protocol(void **state)
{
	(void)state;
	json_t *c = NULL, *c2 = NULL;
	uint8_t h[LB_HASH_LEN], h2[LB_HASH_LEN], bh[LB_HASH_LEN];
	char hx[2 * LB_HASH_LEN + 1];
	struct lb_errmsg em;
	assert_int_equal(lb_cohort_protocol_check(PROTO, &c, h, &em), LB_OK);
	lb_xchg_builtin_hash(bh, "stats");
	lb_hex_encode(hx, bh, LB_HASH_LEN);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(c, "algorithms"), 0),
							   "hash")), hx);
	/* the same protocol, other key order and spacing, the right hash given: the same hash */
	char other[1024];
	snprintf(other, sizeof other,
		 "{ \"schedule\": {\"rounds\": 2, \"interval_blocks\": 3, \"start_height\": 5},"
		 " \"algorithms\": [{\"params\": {\"columns\": [\"age\"]}, \"hash\": \"%s\", \"algorithm\": \"stats\"}],"
		 " \"criteria\": {\"q\": \"hypertension\"}, \"title\": \"bp\" }", hx);
	assert_int_equal(lb_cohort_protocol_check(other, &c2, h2, &em), LB_OK);
	assert_memory_equal(h, h2, LB_HASH_LEN);
	assert_true(json_equal(c, c2));
	json_decref(c);
	json_decref(c2);
	proto_err("[1]", "not a JSON object");
	proto_err("{\"criteria\":{}}", "\"title\"");
	proto_err("{\"title\":\"t\"}", "\"criteria\"");
	proto_err("{\"title\":\"t\",\"criteria\":{},\"algorithms\":[]}", "\"algorithms\"");
	proto_err("{\"title\":\"t\",\"criteria\":{},\"algorithms\":[{\"algorithm\":\"nope\",\"params\":{}}],"
		  "\"schedule\":{}}", "not a built-in");
	proto_err("{\"title\":\"t\",\"criteria\":{},\"algorithms\":[{\"algorithm\":\"stats\",\"params\":{},"
		  "\"hash\":\"00\"}]}", "is not the hash of 'stats'");
	proto_err("{\"title\":\"t\",\"criteria\":{},\"algorithms\":[{\"algorithm\":\"stats\",\"params\":{}}]}",
		  "\"schedule\"");
	proto_err("{\"title\":\"t\",\"criteria\":{},\"algorithms\":[{\"algorithm\":\"stats\",\"params\":{}}],"
		  "\"schedule\":{\"start_height\":0,\"interval_blocks\":0,\"rounds\":1}}", "schedule.interval_blocks");
	proto_err("{\"title\":\"t\",\"criteria\":{},\"algorithms\":[{\"algorithm\":\"stats\",\"params\":{}}],"
		  "\"schedule\":{\"start_height\":0,\"interval_blocks\":1,\"rounds\":0}}", "schedule.rounds");
}

static void test_ids(void **state)
{
	(void)state;
	uint8_t a[LB_ADDR_LEN], b[LB_ADDR_LEN], x[LB_HASH_LEN], y[LB_HASH_LEN], z[LB_HASH_LEN];
	memset(a, 1, sizeof a);
	memset(b, 2, sizeof b);
	lb_cohort_id(x, a, "s");
	lb_cohort_id(y, b, "s");
	lb_cohort_committee_id(z, a, "s");
	assert_memory_not_equal(x, y, LB_HASH_LEN);
	assert_memory_not_equal(x, z, LB_HASH_LEN);
	uint8_t buf[LB_ADDR_LEN + 1];
	memcpy(buf, a, LB_ADDR_LEN);
	buf[LB_ADDR_LEN] = 's';
	lb_hash_domain(y, "LEBEN-cohort-v1", buf, sizeof buf);
	assert_memory_equal(x, y, LB_HASH_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_bad_payloads),
		cmocka_unit_test(test_protocol),
		cmocka_unit_test(test_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
