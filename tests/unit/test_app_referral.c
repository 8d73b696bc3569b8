/* Unit tests for the referral payloads (include/leben/app_referral.h, docs/wire-format.md):
 * every type round-trips; the bytes of a create payload are as documented; every truncation,
 * an extra byte and another version are refused; names outside a-z 0-9 - _ are refused on
 * both sides; an unknown type is refused. */
#include "test.h"

#include <stdio.h>

#include "leben/app_referral.h"
#include "leben/base.h"
#include "leben/codec.h"

static void fill(struct lb_ref_tx *p, uint32_t type)
{
	memset(p, 0, sizeof *p);
	p->type = type;
	memset(p->referral, 0x11, sizeof p->referral);
	memset(p->session, 0x22, sizeof p->session);
	snprintf(p->candidate, sizeof p->candidate, "refer_fetal_cardiology");
	snprintf(p->specialty, sizeof p->specialty, "fetal-cardiology");
	memset(p->target, 0x33, sizeof p->target);
	memset(p->provider, 0x44, sizeof p->provider);
	memset(p->digest, 0x55, sizeof p->digest);
	memset(p->patient, 0x66, sizeof p->patient);
	p->fee = 20000000;
	snprintf(p->outcome, sizeof p->outcome, "confirmed");
}

static void test_roundtrip_and_truncation(void **state)
{
	static const uint32_t types[] = {LB_TX_REF_SPECIALIST, LB_TX_REF_CREATE, LB_TX_REF_ACCEPT,
					 LB_TX_REF_CONSULT, LB_TX_REF_REPORT};
	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
		struct lb_ref_tx p, q;
		struct lb_buf b, c;
		struct lb_errmsg em;
		fill(&p, types[k]);
		lb_buf_init(&b, 4096);
		assert_lb_ok(lb_ref_tx_encode(&b, &p, &em));
		assert_lb_ok(lb_ref_tx_decode(types[k], b.data, b.len, &q, &em));
		lb_buf_init(&c, 4096);
		assert_lb_ok(lb_ref_tx_encode(&c, &q, &em));
		assert_int_equal(b.len, c.len);
		assert_memory_equal(b.data, c.data, b.len);
		for (size_t n = 0; n < b.len; n++)
			assert_int_not_equal(lb_ref_tx_decode(types[k], b.data, n, &q, &em), LB_OK);
		uint8_t more[4096];
		memcpy(more, b.data, b.len);
		more[b.len] = 0;
		assert_int_not_equal(lb_ref_tx_decode(types[k], more, b.len + 1, &q, &em), LB_OK);
		more[0] = 2;
		assert_int_not_equal(lb_ref_tx_decode(types[k], more, b.len, &q, &em), LB_OK);
		lb_buf_release(&b);
		lb_buf_release(&c);
	}
}

static void test_create_layout(void **state)
{
	struct lb_ref_tx p;
	struct lb_buf b;
	struct lb_errmsg em;
	fill(&p, LB_TX_REF_CREATE);
	lb_buf_init(&b, 4096);
	assert_lb_ok(lb_ref_tx_encode(&b, &p, &em));
	/* 1 + 32 + (1 + 22) + (1 + 16) + 20 + 20 + 32 + 32 + uvar(20000000) = 4 bytes, then the
	 * empty payment and proof (one length byte each) */
	assert_int_equal(b.len, 1 + 32 + 23 + 17 + 20 + 20 + 32 + 32 + 4 + 2);
	assert_int_equal(b.data[0], 1);
	assert_int_equal(b.data[1], 0x22);
	assert_int_equal(b.data[33], 22);
	assert_memory_equal(b.data + 34, "refer_fetal_cardiology", 22);
	lb_buf_release(&b);
}

static void test_bad_names(void **state)
{
	struct lb_ref_tx p, q;
	struct lb_buf b;
	struct lb_errmsg em;
	fill(&p, LB_TX_REF_SPECIALIST);
	snprintf(p.specialty, sizeof p.specialty, "Fetal Cardiology");
	lb_buf_init(&b, 4096);
	assert_int_equal(lb_ref_tx_encode(&b, &p, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "is not a name"));
	/* hand-made bytes with the bad name are refused by decode too */
	lb_buf_release(&b);
	lb_buf_init(&b, 4096);
	assert_lb_ok(lb_enc_u8(&b, 1));
	assert_lb_ok(lb_enc_str(&b, "Fetal Cardiology"));
	assert_int_equal(lb_ref_tx_decode(LB_TX_REF_SPECIALIST, b.data, b.len, &q, &em),
			 LB_EINVALID);
	lb_buf_release(&b);
	fill(&p, LB_TX_REF_REPORT);
	p.outcome[0] = 0;
	lb_buf_init(&b, 4096);
	assert_int_equal(lb_ref_tx_encode(&b, &p, &em), LB_EINVALID);
	lb_buf_release(&b);
	uint8_t one = 1;
	assert_int_equal(lb_ref_tx_decode(0x03a7, &one, 1, &q, &em), LB_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_truncation),
		cmocka_unit_test(test_create_layout),
		cmocka_unit_test(test_bad_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
