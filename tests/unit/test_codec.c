/* Canonical codec: varints round-trip at their boundaries with the lengths LEB128 gives
 * (independent reference: the expected bytes are written out by hand here), and every
 * non-canonical form (non-minimal, over 64 bits, truncated, trailing bytes, above the field
 * limit) is refused with LB_EMALFORMED. Also the UTF-8 text predicate. */
#include "test.h"

#include <stdint.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/error.h"

static void enc_expect(uint64_t v, const uint8_t *want, size_t wn)
{
	struct lb_buf b;
	struct lb_dec d;
	uint64_t got = 0;

	lb_buf_init(&b, 64);
	assert_lb_ok(lb_enc_uvar(&b, v));
	assert_int_equal(b.len, wn);
	assert_memory_equal(b.data, want, wn);
	assert_int_equal(lb_uvar_len(v), wn);
	lb_dec_init(&d, b.data, b.len, "test", NULL);
	assert_lb_ok(lb_dec_uvar(&d, "v", UINT64_MAX, &got));
	assert_true(got == v);
	assert_lb_ok(lb_dec_end(&d));
	lb_buf_release(&b);
}

static void test_varint_roundtrip(void **state)
{
	(void)state;
	static const uint8_t z[] = {0x00}, s127[] = {0x7f}, s128[] = {0x80, 0x01},
			     s300[] = {0xac, 0x02}, s16383[] = {0xff, 0x7f},
			     s16384[] = {0x80, 0x80, 0x01},
			     max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	enc_expect(0, z, 1);
	enc_expect(127, s127, 1);
	enc_expect(128, s128, 2);
	enc_expect(300, s300, 2);
	enc_expect(16383, s16383, 2);
	enc_expect(16384, s16384, 3);
	enc_expect(UINT64_MAX, max, 10);
	/* every power of two and its neighbours round-trip */
	for (int i = 0; i < 64; i++) {
		uint64_t v = (uint64_t)1 << i;
		uint64_t vs[3] = {v - 1, v, v + 1};
		for (int k = 0; k < 3; k++) {
			struct lb_buf b;
			struct lb_dec d;
			uint64_t got;
			lb_buf_init(&b, 64);
			assert_lb_ok(lb_enc_uvar(&b, vs[k]));
			assert_int_equal(b.len, lb_uvar_len(vs[k]));
			lb_dec_init(&d, b.data, b.len, "test", NULL);
			assert_lb_ok(lb_dec_uvar(&d, "v", UINT64_MAX, &got));
			assert_true(got == vs[k]);
			assert_lb_ok(lb_dec_end(&d));
			lb_buf_release(&b);
		}
	}
}

static int dec_one(const uint8_t *p, size_t n, uint64_t max, uint64_t *out,
		   struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "test", em);
	rc = lb_dec_uvar(&d, "v", max, out);
	if (rc)
		return rc;
	return lb_dec_end(&d);
}

static void test_varint_refused(void **state)
{
	(void)state;
	struct lb_errmsg em;
	uint64_t v;
	static const uint8_t nonmin1[] = {0x80, 0x00}, nonmin2[] = {0xff, 0x00},
			     nonmin3[] = {0x81, 0x80, 0x00},
			     over64a[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
			     over64b[] = {0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
			     trunc1[] = {0x80}, trunc2[] = {0xff, 0xff}, trailing[] = {0x05, 0x00},
			     big[] = {0xe9, 0x07}; /* 1001 */

	assert_int_equal(dec_one(nonmin1, 2, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_true(em.text[0] != 0);
	assert_int_equal(dec_one(nonmin2, 2, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(nonmin3, 3, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(over64a, sizeof over64a, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(over64b, sizeof over64b, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(trunc1, 1, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(trunc2, 2, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(trunc1, 0, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(trailing, 2, UINT64_MAX, &v, &em), LB_EMALFORMED);
	assert_int_equal(dec_one(big, 2, 1000, &v, &em), LB_EMALFORMED);
	assert_lb_ok(dec_one(big, 2, 1001, &v, &em));
	assert_true(v == 1001);
}

static void test_bytes_and_str(void **state)
{
	(void)state;
	struct lb_buf b;
	struct lb_dec d;
	const uint8_t *p;
	size_t n;
	char s[16];
	uint8_t u;

	lb_buf_init(&b, 256);
	assert_lb_ok(lb_enc_u8(&b, 7));
	assert_lb_ok(lb_enc_bytes(&b, "abc", 3));
	assert_lb_ok(lb_enc_str(&b, "héllo"));
	static const uint8_t want[] = {7, 3, 'a', 'b', 'c', 6, 'h', 0xc3, 0xa9, 'l', 'l', 'o'};
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	lb_dec_init(&d, b.data, b.len, "test", NULL);
	assert_lb_ok(lb_dec_u8(&d, "u", &u));
	assert_int_equal(u, 7);
	assert_lb_ok(lb_dec_bytes(&d, "b", 3, &p, &n));
	assert_int_equal(n, 3);
	assert_memory_equal(p, "abc", 3);
	assert_lb_ok(lb_dec_str(&d, "s", 15, s, sizeof s));
	assert_string_equal(s, "héllo");
	assert_lb_ok(lb_dec_end(&d));
	/* length past the end, and longer than the field allows */
	static const uint8_t past[] = {5, 'a', 'b'};
	lb_dec_init(&d, past, sizeof past, "test", NULL);
	assert_int_equal(lb_dec_bytes(&d, "b", 100, &p, &n), LB_EMALFORMED);
	lb_dec_init(&d, b.data + 1, 4, "test", NULL);
	assert_int_equal(lb_dec_bytes(&d, "b", 2, &p, &n), LB_EMALFORMED);
	/* a string with a NUL or invalid UTF-8 is refused */
	static const uint8_t nul[] = {3, 'a', 0, 'b'}, bad[] = {2, 0xc3, 0x28};
	lb_dec_init(&d, nul, sizeof nul, "test", NULL);
	assert_int_equal(lb_dec_str(&d, "s", 15, s, sizeof s), LB_EMALFORMED);
	lb_dec_init(&d, bad, sizeof bad, "test", NULL);
	assert_int_equal(lb_dec_str(&d, "s", 15, s, sizeof s), LB_EMALFORMED);
	lb_buf_release(&b);
}

#define T(lit) lb_utf8_is_text((const uint8_t *)(lit), sizeof(lit) - 1)

static void test_utf8(void **state)
{
	(void)state;
	assert_true(T(""));
	assert_true(T("plain ascii"));
	assert_true(T("tab\tand\nnewline"));
	assert_true(T("\xc3\xa9"));             /* é */
	assert_true(T("\xe2\x82\xac"));         /* € */
	assert_true(T("\xf0\x9f\x98\x80"));     /* U+1F600 */
	assert_true(T("\xf4\x8f\xbf\xbf"));     /* U+10FFFF */
	assert_false(T("a\0b"));                /* NUL */
	assert_false(T("\r"));                  /* C0 control */
	assert_false(T("\x1b[0m"));             /* escape */
	assert_false(T("\x7f"));                /* DEL */
	assert_false(T("\x80"));                /* lone continuation */
	assert_false(T("\xc3"));                /* truncated */
	assert_false(T("\xc3\x28"));            /* bad continuation */
	assert_false(T("\xc0\xaf"));            /* overlong '/' */
	assert_false(T("\xe0\x80\xaf"));        /* overlong 3-byte */
	assert_false(T("\xf0\x80\x80\xaf"));    /* overlong 4-byte */
	assert_false(T("\xed\xa0\x80"));        /* surrogate U+D800 */
	assert_false(T("\xf4\x90\x80\x80"));    /* above U+10FFFF */
	assert_false(T("\xf8\x88\x80\x80\x80")); /* 5-byte form */
	assert_false(T("\xff"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_roundtrip),
		cmocka_unit_test(test_varint_refused),
		cmocka_unit_test(test_bytes_and_str),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
