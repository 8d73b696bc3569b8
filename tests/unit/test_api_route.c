/*
 * Unit tests of the API's pure parts: route path matching and the error-name round trip the
 * client relies on to turn a reply's "code" back into an lb_err.
 */
#include <stdio.h>
#include <string.h>

#include "test.h"

#include "api/api_int.h"
#include "leben/error.h"

static void test_literal_paths(void **state)
{
	struct api_params p;
	assert_true(api_path_match("/v1/status", "/v1/status", &p));
	assert_int_equal(p.n, 0);
	assert_false(api_path_match("/v1/status", "/v1/status/", &p));
	assert_false(api_path_match("/v1/status", "/v1/statusx", &p));
	assert_false(api_path_match("/v1/status", "/v1/stat", &p));
	assert_false(api_path_match("/v1/status", "/v1", &p));
	assert_false(api_path_match("/v1/status", "v1/status", &p));
	assert_false(api_path_match("/v1/status", "//v1/status", &p));
	assert_false(api_path_match("/v1/status", "", &p));
}

static void test_params(void **state)
{
	struct api_params p;
	char a[16], b[16];
	assert_true(api_path_match("/v1/chains/{chain}/blocks/{height}",
				   "/v1/chains/settlement/blocks/latest", &p));
	assert_int_equal(p.n, 2);
	assert_lb_ok(api_param_copy(&p, 0, a, sizeof a));
	assert_lb_ok(api_param_copy(&p, 1, b, sizeof b));
	assert_string_equal(a, "settlement");
	assert_string_equal(b, "latest");
	/* A parameter never spans segments or is empty. */
	assert_false(api_path_match("/v1/txs/{id}", "/v1/txs/ab/proof", &p));
	assert_false(api_path_match("/v1/txs/{id}", "/v1/txs/", &p));
	assert_false(api_path_match("/v1/chains/{chain}/blocks/{height}",
				    "/v1/chains//blocks/1", &p));
	assert_true(api_path_match("/v1/txs/{id}/proof", "/v1/txs/ab/proof", &p));
	assert_int_equal(p.n, 1);
	assert_int_equal(p.len[0], 2);
	/* Copy refuses what does not fit and indexes past the end. */
	assert_int_equal(api_param_copy(&p, 0, a, 2), LB_ETOOBIG);
	assert_int_equal(api_param_copy(&p, 1, a, sizeof a), LB_ETOOBIG);
	assert_lb_ok(api_param_copy(&p, 0, a, 3));
	assert_string_equal(a, "ab");
}

/* api_path_decode: each escape decoded once; malformed ones, NUL and '/' refused by name. */
static void test_path_decode(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *want;
	} ok[] = {{"/v1/surgery/alarms/St%20Mary/Dr%20Who", "/v1/surgery/alarms/St Mary/Dr Who"},
		  {"/a/%2520", "/a/%20"},
		  {"/a/%c3%a9t%C3%A9", "/a/\xc3\xa9t\xc3\xa9"},
		  {"/a+b/c", "/a+b/c"},
		  {"/", "/"}};
	static const struct {
		const char *raw, *what;
	} bad[] = {{"/a/%zz", "'%zz'"}, {"/a/%2", "'%2'"},   {"/a/%", "'%'"},
		   {"/a/b%00c", "NUL"},   {"/a/b%2Fc", "'/'"}, {"/a/b%2fc", "'/'"},
		   {"/a/%g1", "'%g1'"}};
	char out[128];
	struct lb_errmsg em;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(api_path_decode(ok[i].raw, strlen(ok[i].raw), out, sizeof out, &em),
				 LB_OK);
		assert_string_equal(out, ok[i].want);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		lb_errclear(&em);
		assert_int_equal(
			api_path_decode(bad[i].raw, strlen(bad[i].raw), out, sizeof out, &em),
			LB_EMALFORMED);
		if (!strstr(em.text, bad[i].what))
			fail_msg("%s: %s does not name %s", bad[i].raw, em.text, bad[i].what);
	}
	/* decoded in place, as the server does */
	char inplace[] = "/x/A%42C";
	assert_int_equal(api_path_decode(inplace, strlen(inplace), inplace, sizeof inplace, &em),
			 LB_OK);
	assert_string_equal(inplace, "/x/ABC");
	assert_int_equal(api_path_decode("/abc", 4, out, 4, &em), LB_ETOOBIG);
}

static void test_err_names(void **state)
{
	/* Every code of the table maps to its name and back. */
	for (int c = 0; c < LB_ERR_COUNT_; c++) {
		const char *name = lb_errname(c);
		assert_int_equal(lb_err_from_name(name), c);
	}
	assert_int_equal(lb_err_from_name("LB_ENONCEUSED"), LB_ENONCEUSED);
	assert_int_equal(lb_err_from_name("LB_EUNKNOWN"), -1);
	assert_int_equal(lb_err_from_name("lb_enoncegap"), -1);
	assert_int_equal(lb_err_from_name(""), -1);
	assert_int_equal(lb_err_from_name(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_paths),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_path_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
