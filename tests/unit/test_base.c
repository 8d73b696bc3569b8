/* Unit tests for src/base: errors, buffers, hex, allocation-failure injection, files. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "leben/base.h"

static void test_error_table(void **state)
{
	assert_string_equal(lb_errname(LB_ENONCEUSED), "LB_ENONCEUSED");
	assert_string_equal(lb_strerror(LB_EFUNDS), "insufficient balance");
	assert_int_equal(lb_err_http_status(LB_ENOTFOUND), 404);
	assert_string_equal(lb_strerror(9999), "unknown error");
	struct lb_errmsg em;
	lb_errclear(&em);
	assert_int_equal(lb_errf(&em, LB_EINVALID, "nonce %d", 7), LB_EINVALID);
	assert_int_equal(lb_errwrap(&em, "tx %s: ", "ab"), LB_EINVALID);
	assert_string_equal(em.text, "tx ab: nonce 7");
}

static void test_buf_cap(void **state)
{
	struct lb_buf b;
	lb_buf_init(&b, 10);
	assert_lb_ok(lb_buf_adds(&b, "hello"));
	assert_lb_ok(lb_buf_addf(&b, "%d", 1234));
	assert_string_equal((char *)b.data, "hello1234");
	assert_int_equal(lb_buf_adds(&b, "xy"), LB_ETOOBIG);
	assert_null(b.data); /* freed itself */
	assert_int_equal(b.len, 0);
	lb_buf_release(&b);
}

static void test_buf_alloc_failure(void **state)
{
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	lb_alloc_fail_after(1);
	assert_int_equal(lb_buf_adds(&b, "x"), LB_ENOMEM);
	assert_null(b.data);
	lb_alloc_fail_after(0);
	assert_lb_ok(lb_buf_adds(&b, "x"));
	lb_buf_release(&b);
}

static void test_hex(void **state)
{
	uint8_t in[3] = {0x00, 0xab, 0xff}, out[3];
	char hex[7];
	lb_hex_encode(hex, in, 3);
	assert_string_equal(hex, "00abff");
	assert_lb_ok(lb_hex_decode(out, 3, "00ABff"));
	assert_memory_equal(in, out, 3);
	assert_int_equal(lb_hex_decode(out, 3, "00abf"), LB_EMALFORMED);
	assert_int_equal(lb_hex_decode(out, 3, "00abfg"), LB_EMALFORMED);
}

static void test_file_roundtrip(void **state)
{
	char dir[] = "/tmp/lbtestXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/a/b/f.txt", dir);
	char sub[256];
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	struct lb_errmsg em;
	assert_lb_ok(lb_mkdirs(sub, 0700, &em));
	assert_lb_ok(lb_file_write(path, "data", 4, 0600, &em));
	uint8_t *p;
	size_t n;
	assert_lb_ok(lb_file_read(path, 100, &p, &n, &em));
	assert_int_equal(n, 4);
	assert_string_equal((char *)p, "data");
	lb_free(p);
	assert_int_equal(lb_file_read(path, 3, &p, &n, &em), LB_ETOOBIG);
	assert_non_null(strstr(em.text, "limit"));
	snprintf(path, sizeof path, "%s/none", dir);
	assert_int_equal(lb_file_read(path, 3, &p, &n, &em), LB_ENOTFOUND);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_alloc_failure),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_file_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
