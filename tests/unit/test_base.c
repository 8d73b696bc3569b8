/* Unit tests for src/base: errors, buffers, hex, allocation-failure injection, files. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leben/base.h"
#include "leben/json_file.h"

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

static void put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void assert_file_text(const char *path, const char *want)
{
	uint8_t *p;
	size_t n;
	struct lb_errmsg em;
	assert_lb_ok(lb_file_read(path, 4096, &p, &n, &em));
	assert_string_equal((char *)p, want);
	lb_free(p);
}

/* lb_json_file_load / _save: a missing file starts empty; a damaged one is refused by name and
 * left as it is; a failed save leaves the old file. */
static void test_json_file(void **state)
{
	char dir[] = "/tmp/lbtestXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], tmp[300];
	snprintf(path, sizeof path, "%s/asset.json", dir);
	struct lb_errmsg em;
	lb_errclear(&em);
	json_t *o = NULL;
	assert_lb_ok(lb_json_file_load(path, &o, &em));
	assert_true(json_is_object(o) && json_object_size(o) == 0);
	assert_int_equal(access(path, F_OK), -1); /* loading creates nothing */
	json_decref(o);

	/* a required file (genesis.json) is refused when missing, naming it, nothing created */
	o = (json_t *)1;
	assert_int_equal(lb_json_file_read(path, LB_JSON_FILE_REQUIRED, &o, &em), LB_ENOTFOUND);
	assert_null(o);
	assert_non_null(strstr(em.text, path));
	assert_non_null(strstr(em.text, "missing"));
	assert_int_equal(access(path, F_OK), -1);
	/* keys written twice: read as jansson reads them, refused with LB_JSON_FILE_NO_DUPS */
	put_text(path, "{\"a\": 1, \"a\": 2}");
	assert_lb_ok(lb_json_file_read(path, LB_JSON_FILE_REQUIRED, &o, &em));
	json_decref(o);
	o = (json_t *)1;
	assert_int_equal(lb_json_file_read(path, LB_JSON_FILE_REQUIRED | LB_JSON_FILE_NO_DUPS, &o,
					   &em),
			 LB_ECORRUPT);
	assert_null(o);
	assert_non_null(strstr(em.text, "duplicate"));
	assert_non_null(strstr(em.text, "repair the file"));
	assert_null(strstr(em.text, "move it away")); /* a required file is not to be moved away */
	/* with the bytes (genesis.json hashes them): the same answers, the bytes as written */
	uint8_t *text = (uint8_t *)1;
	size_t tl = 1;
	o = (json_t *)1;
	assert_int_equal(lb_json_file_read_text(path, LB_JSON_FILE_REQUIRED | LB_JSON_FILE_NO_DUPS,
						4096, &o, &text, &tl, &em),
			 LB_ECORRUPT);
	assert_true(o == NULL && text == NULL && tl == 0);
	put_text(path, "{\"a\": 1}");
	assert_lb_ok(lb_json_file_read_text(path, LB_JSON_FILE_REQUIRED, 4096, &o, &text, &tl, &em));
	assert_int_equal(tl, 8);
	assert_memory_equal(text, "{\"a\": 1}", 8);
	assert_int_equal(json_integer_value(json_object_get(o, "a")), 1);
	json_decref(o);
	lb_free(text);
	assert_int_equal(lb_json_file_read_text(path, 0, 4, &o, &text, &tl, &em), LB_ETOOBIG);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(lb_json_file_read_text(path, LB_JSON_FILE_REQUIRED, 4096, &o, &text, &tl,
						&em),
			 LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "missing"));
	assert_lb_ok(lb_json_file_read_text(path, 0, 4096, &o, &text, &tl, &em));
	assert_true(json_object_size(o) == 0 && text == NULL && tl == 0);
	json_decref(o);
	assert_lb_ok(lb_json_file_load(path, &o, &em));

	json_object_set_new(o, "version", json_integer(3));
	json_object_set_new(o, "asset_id", json_string("ab"));
	assert_lb_ok(lb_json_file_save(path, o, &em));
	json_decref(o);
	assert_file_text(path, "{\n  \"asset_id\": \"ab\",\n  \"version\": 3\n}");
	assert_lb_ok(lb_json_file_load(path, &o, &em));
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 3);

	/* the save fails (its temp file's name is taken by a directory): the old file stays */
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	json_object_set_new(o, "version", json_integer(4));
	assert_int_equal(lb_json_file_save(path, o, &em), LB_EIO);
	assert_non_null(strstr(em.text, "asset.json"));
	assert_file_text(path, "{\n  \"asset_id\": \"ab\",\n  \"version\": 3\n}");
	assert_int_equal(rmdir(tmp), 0);
	json_decref(o);

	/* damaged: not JSON, or JSON but not an object; refused by name, the file untouched */
	static const char *const bad[] = {"{\"version\": 3,", "[1, 2]", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put_text(path, bad[i]);
		o = (json_t *)1;
		lb_errclear(&em);
		assert_int_equal(lb_json_file_load(path, &o, &em), LB_ECORRUPT);
		assert_null(o);
		assert_non_null(strstr(em.text, path));
		assert_non_null(strstr(em.text, "move it away"));
		assert_file_text(path, bad[i]);
	}

	/* a directory where the file should be: a read error, not an empty start */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_not_equal(lb_json_file_load(path, &o, &em), LB_OK);
	assert_null(o);
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
		cmocka_unit_test(test_json_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
