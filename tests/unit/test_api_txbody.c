/*
 * Unit tests of the POST /v1/txs body parser: the three accepted shapes, in-place hex
 * decoding on the fast path checked against lb_hex_decode, the jansson fallback for escaped
 * strings, per-item hex errors, the batch limit, and syntax errors with their position.
 */
#include <stdio.h>
#include <stdlib.h>

#include "test.h"

#include "api/api_int.h"
#include "leben/base.h"
#include "leben/tx.h"

/* Parse a copy of text (the parser writes into the body). */
static int parse(struct api_txs *t, const char *text, size_t max_batch, struct lb_errmsg *em,
		 uint8_t **copy)
{
	size_t n = strlen(text);
	*copy = lb_malloc(n + 1);
	memcpy(*copy, text, n + 1);
	return api_txs_parse(t, *copy, n, max_batch, em);
}

static void expect_bytes(const struct api_txs *t, size_t i, const char *hex)
{
	uint8_t want[64];
	size_t n = strlen(hex) / 2;
	assert_true(n <= sizeof want);
	assert_lb_ok(lb_hex_decode(want, n, hex));
	assert_int_equal(t->codes[i], LB_OK);
	assert_int_equal(t->lens[i], n);
	assert_memory_equal(t->raws[i], want, n);
}

static void test_single(void **state)
{
	struct api_txs t;
	struct lb_errmsg em;
	uint8_t *body;
	assert_lb_ok(parse(&t, " {\"tx\" : \"00ffA5\"}\n", 10, &em, &body));
	assert_true(t.single);
	assert_int_equal(t.n, 1);
	expect_bytes(&t, 0, "00ffa5");
	/* Fast path: decoded over the hex itself, inside the body. */
	assert_true(t.raws[0] >= body && t.raws[0] < body + 20);
	assert_null(t.arena);
	api_txs_release(&t);
	lb_free(body);
}

static void test_batches(void **state)
{
	struct api_txs t;
	struct lb_errmsg em;
	uint8_t *body;
	const char *forms[] = {"[\"0102\",\"ff\", \"abcdef\"]", "{\"txs\":[\"0102\",\"ff\",\"abcdef\"]}",
			       "\t[ \"0102\" ,\n \"ff\" , \"abcdef\" ] "};
	for (size_t f = 0; f < 3; f++) {
		assert_lb_ok(parse(&t, forms[f], 10, &em, &body));
		assert_false(t.single);
		assert_int_equal(t.n, 3);
		expect_bytes(&t, 0, "0102");
		expect_bytes(&t, 1, "ff");
		expect_bytes(&t, 2, "abcdef");
		api_txs_release(&t);
		lb_free(body);
	}
}

/* A large batch of random txs decodes, in place, to exactly the original bytes. */
static void test_large_batch_in_place(void **state)
{
	enum { N = 2000, LEN = 150 };
	static uint8_t raw[N][LEN];
	struct lb_buf b;
	lb_buf_init(&b, 16u << 20);
	srand(7);
	assert_lb_ok(lb_buf_adds(&b, "{\"txs\":["));
	char hex[2 * LEN + 1];
	for (size_t i = 0; i < N; i++) {
		for (size_t k = 0; k < LEN; k++)
			raw[i][k] = (uint8_t)rand();
		lb_hex_encode(hex, raw[i], LEN);
		assert_lb_ok(lb_buf_addf(&b, "%s\"%s\"", i ? "," : "", hex));
	}
	assert_lb_ok(lb_buf_adds(&b, "]}"));
	struct api_txs t;
	struct lb_errmsg em;
	assert_lb_ok(api_txs_parse(&t, b.data, b.len, 10000, &em));
	assert_int_equal(t.n, N);
	assert_null(t.arena);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(t.codes[i], LB_OK);
		assert_int_equal(t.lens[i], LEN);
		assert_memory_equal(t.raws[i], raw[i], LEN);
	}
	api_txs_release(&t);
	lb_buf_release(&b);
}

static void test_slow_path(void **state)
{
	struct api_txs t;
	struct lb_errmsg em;
	uint8_t *body;
	/* \u0030 is '0': valid JSON the scanner leaves to jansson. */
	assert_lb_ok(parse(&t, "{\"txs\":[\"\\u00301\",\"ab\"]}", 10, &em, &body));
	assert_non_null(t.arena);
	assert_int_equal(t.n, 2);
	expect_bytes(&t, 0, "01");
	expect_bytes(&t, 1, "ab");
	api_txs_release(&t);
	lb_free(body);
}

static void test_item_errors(void **state)
{
	struct api_txs t;
	struct lb_errmsg em;
	uint8_t *body;
	assert_lb_ok(parse(&t, "[\"0g\",\"abc\",\"\",\"0a\"]", 10, &em, &body));
	assert_int_equal(t.n, 4);
	assert_int_equal(t.codes[0], LB_EMALFORMED); /* not hex */
	assert_int_equal(t.codes[1], LB_EMALFORMED); /* odd length */
	assert_int_equal(t.codes[2], LB_EMALFORMED); /* empty */
	expect_bytes(&t, 3, "0a");
	api_txs_release(&t);
	lb_free(body);

	/* One tx over LB_TX_MAX_BYTES. */
	size_t n = 2 * (LB_TX_MAX_BYTES + 1);
	char *big = lb_malloc(n + 16);
	memcpy(big, "[\"", 2);
	memset(big + 2, 'a', n);
	memcpy(big + 2 + n, "\"]", 3);
	assert_lb_ok(api_txs_parse(&t, (uint8_t *)big, strlen(big), 10, &em));
	assert_int_equal(t.codes[0], LB_ETOOBIG);
	api_txs_release(&t);
	lb_free(big);
}

static void test_refusals(void **state)
{
	struct api_txs t;
	struct lb_errmsg em;
	uint8_t *body;
	assert_int_equal(parse(&t, "[\"00\",\"01\",\"02\"]", 2, &em, &body), LB_ETOOBIG);
	assert_non_null(strstr(em.text, "limit is 2"));
	lb_free(body);
	assert_int_equal(parse(&t, "[]", 2, &em, &body), LB_EINVALID);
	lb_free(body);
	assert_int_equal(parse(&t, "{\"tx\":\"00\",\"x\":1}", 2, &em, &body), LB_EINVALID);
	lb_free(body);
	assert_int_equal(parse(&t, "{\"tx\":5}", 2, &em, &body), LB_ETYPE);
	lb_free(body);
	assert_int_equal(parse(&t, "[\"00\",7]", 2, &em, &body), LB_ETYPE);
	lb_free(body);
	/* A bare string is not an accepted top level (jansson wants an array or object). */
	assert_int_equal(parse(&t, "\"00\"", 2, &em, &body), LB_ESYNTAX);
	lb_free(body);
	/* Syntax error: the ']' after the trailing comma is the 15th byte, 8th column of line 2. */
	assert_int_equal(parse(&t, "[\"00\",\n  \"01\",]", 10, &em, &body), LB_ESYNTAX);
	assert_non_null(strstr(em.text, "line 2"));
	assert_non_null(strstr(em.text, "column 8"));
	assert_non_null(strstr(em.text, "(byte 15)"));
	lb_free(body);
	assert_int_equal(parse(&t, "", 2, &em, &body), LB_ESYNTAX);
	lb_free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_large_batch_in_place),
		cmocka_unit_test(test_slow_path),
		cmocka_unit_test(test_item_errors),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
