/* Unit tests for the knowledge language: expression grammar and printers, Kleene logic,
 * error positions, and lossless round trips of every example contract in both forms. */
#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "knowledge/kn_int.h"

static char *expr_print(const char *src, enum kn_style st)
{
	struct kn_expr *e;
	struct lb_errmsg em;
	if (kn_expr_parse(src, strlen(src), 1, 1, &e, &em) != LB_OK)
		fail_msg("parse '%s': %s", src, em.text);
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	assert_lb_ok(kn_expr_print(&b, e, st));
	/* printing then parsing gives the same tree */
	struct kn_expr *e2;
	if (st == KN_STYLE_JS)
		assert_lb_ok(kn_expr_parse_js((char *)b.data, b.len, 1, 1, &e2, &em));
	else
		assert_lb_ok(kn_expr_parse((char *)b.data, b.len, 1, 1, &e2, &em));
	assert_true(kn_expr_equal(e, e2));
	kn_expr_free(e);
	kn_expr_free(e2);
	return (char *)lb_buf_detach(&b, NULL);
}

static void test_expr_vectors(void **state)
{
	static const char *const v[][3] = {
		/* input, .pf print, PROformajs print */
		{ "a&&b||!c", "a and b or not c", "a && b || !c" },
		{ "not (a = 1 and b <> 'x')", "not (a = 1 and b <> \"x\")", "!(a == 1 && b != 'x')" },
		{ "is_completed('enquire') && result_of('decide')==\"grant\"",
		  "is_completed(\"enquire\") and result_of(\"decide\") = \"grant\"",
		  "is_completed('enquire') && result_of('decide') == 'grant'" },
		{ "(1 + 2) * 3 - -4", "(1 + 2) * 3 - -4", "(1 + 2) * 3 - -4" },
		{ "a - (b - c)", "a - (b - c)", "a - (b - c)" },
		{ "x ? 1 : y ? 2 : 3", "x ? 1 : y ? 2 : 3", "x ? 1 : y ? 2 : 3" },
		{ "age >= 50.0 or \"a\" in [\"a\", 'b']", "age >= 50.0 or \"a\" in [\"a\", \"b\"]",
		  "age >= 50.0 || includes(['a', 'b'], 'a')" },
		{ "includes(s, 'x') and not (a % 2 === 1)", "\"x\" in s and not a % 2 === 1",
		  "includes(s, 'x') && !(a % 2 === 1)" },
		{ "(not a) = b", "(not a) = b", "(!a) == b" },
		{ "a !== undefined", "a !== unknown", "a !== null" },
		{ "- (a + 1)", "-(a + 1)", "-(a + 1)" },
		{ "unknown = null", "unknown = unknown", "null == null" },
		{ "'it\\'s'", "\"it's\"", "'it\\'s'" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *pf = expr_print(v[i][0], KN_STYLE_PF), *js = expr_print(v[i][0], KN_STYLE_JS);
		assert_string_equal(pf, v[i][1]);
		assert_string_equal(js, v[i][2]);
		lb_free(pf);
		lb_free(js);
	}
}

static void test_expr_errors(void **state)
{
	static const char *const v[][2] = {
		{ "a and", "1:6: expected a value, name or '(', found end of expression" },
		{ "f(1,", "1:5: expected a value, name or '(', found end of expression" },
		{ "(a", "1:3: expected ')', found end of expression" },
		{ "a b", "1:3: expected an operator or the end of the expression, found 'b'" },
		{ "'abc", "1:1: expected closing ' of the string" },
		{ "a # b", "1:3: unexpected character '#' (0x23)" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct kn_expr *e = NULL;
		struct lb_errmsg em;
		assert_int_equal(kn_expr_parse(v[i][0], strlen(v[i][0]), 1, 1, &e, &em), LB_ESYNTAX);
		assert_string_equal(em.text, v[i][1]);
	}
}

/* Kleene logic: the truth tables of CQL's and/or/not, written out (T, F, U = unknown). */
static void test_kleene(void **state)
{
	static const char *const model =
		"data :: p ; type boolean; end data.\n"
		"data :: q ; type boolean; end data.\n"
		"data :: n ; type integer; end data.\n"
		"plan :: k ; end plan.\n";
	struct lb_kn_model *m;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_model_parse(model, strlen(model), "k.pf", LB_KN_FORM_PF, &m, &em));
	struct lb_kn_session *s;
	assert_lb_ok(lb_kn_session_new(m, 0, &s, &em));
	static const char vals[] = "TFU";
	/* rows: p, q, and, or, not p */
	static const char *const table[] = { "TTTTF", "TFFTF", "TUUTF", "FTFTT", "FFFFT",
					     "FUFUT", "UTUTU", "UFFUU", "UUUUU" };
	for (size_t r = 0; r < 9; r++) {
		struct lb_kn_session *t;
		assert_lb_ok(lb_kn_session_new(m, 0, &t, &em));
		if (table[r][0] != 'U')
			assert_lb_ok(lb_kn_session_add_value(t, "p", table[r][0] == 'T' ? "true" : "false",
							     NULL, 0, &em));
		if (table[r][1] != 'U')
			assert_lb_ok(lb_kn_session_add_value(t, "q", table[r][1] == 'T' ? "true" : "false",
							     NULL, 0, &em));
		const char *ex[] = { "p and q", "p or q", "not p" };
		for (int k = 0; k < 3; k++) {
			struct kn_expr *e;
			struct kn_value v;
			assert_lb_ok(kn_expr_parse(ex[k], strlen(ex[k]), 1, 1, &e, &em));
			e->args[0]->ref = 0;
			if (e->nargs > 1)
				e->args[1]->ref = 1;
			assert_lb_ok(kn_eval(t, e, &v));
			int tr = kn_truth(&v);
			char got = tr == 1 ? 'T' : tr == 0 ? 'F' : 'U';
			if (got != table[r][2 + k])
				fail_msg("p=%c q=%c: %s gave %c, expected %c", table[r][0], table[r][1],
					 ex[k], got, table[r][2 + k]);
			kn_expr_free(e);
		}
		lb_kn_session_free(t);
	}
	(void)vals;
	/* unknown propagates through comparison and arithmetic; is_known never unknown */
	const char *ex2[][2] = { { "n + 1 > 3", "U" }, { "is_known(n)", "F" }, { "n = n", "U" },
				 { "not is_known(n) or n > 3", "T" }, { "1 / 0 = 1", "U" } };
	for (size_t k = 0; k < 5; k++) {
		struct kn_expr *e;
		struct kn_value v;
		assert_lb_ok(kn_expr_parse(ex2[k][0], strlen(ex2[k][0]), 1, 1, &e, &em));
		struct lb_kn_model *mm = m;
		(void)mm;
		/* resolve names by hand: only n is used */
		struct kn_expr *stack[16] = { e };
		int sp = 1;
		while (sp > 0) {
			struct kn_expr *x = stack[--sp];
			if (x->op == KN_E_NAME)
				x->ref = 2;
			if (x->op == KN_E_CALL)
				x->ref = kn_fn_lookup(x->name);
			for (size_t i = 0; i < x->nargs; i++)
				stack[sp++] = x->args[i];
		}
		assert_lb_ok(kn_eval(s, e, &v));
		int tr = kn_truth(&v);
		char got = tr == 1 ? 'T' : tr == 0 ? 'F' : 'U';
		if (got != ex2[k][1][0])
			fail_msg("%s gave %c", ex2[k][0], got);
		kn_expr_free(e);
	}
	lb_kn_session_free(s);
	lb_kn_model_free(m);
}

static void test_model_errors(void **state)
{
	static const char *const v[][3] = {
		{ "plan :: p ;\n  caption \"x\"\nend plan.\n", "f.pf",
		  "f.pf:3:1: expected ';', found 'end'" },
		{ "plan :: p ;\n  enquiry :: e ;\n    source ;\n  end enquiry.\nend plan.\n", "f.pf",
		  "f.pf:3:12: expected a data item name, found ';'" },
		{ "plan :: p ;\n  precondition a and ;\nend plan.\n", "f.pf",
		  "f.pf:2:22: expected a value, name or '(', found end of expression" },
		{ "plan :: p ;\nend decision.\n", "f.pf",
		  "f.pf:2:5: expected 'plan' (closing plan 'p'), found 'decision'" },
		{ "{\"class\": \"Plan\", \"name\": \"p\",\n \"tasks\": [\n  {\"class\": \"Lemma\", "
		  "\"name\": \"x\"}]}",
		  "f.json", "f.json:3:13: expected \"class\": \"Plan\", \"Decision\", \"Action\", "
		  "\"Enquiry\" or \"Task\"" },
		{ "{\"class\": \"Plan\", \"name\": \"p\",\n \"preCondition\": \"a &&\"}", "f.json",
		  "f.json:2:23: expected a value, name or '(', found end of expression (in \"preCondition\")" },
		{ "{\"class\": \"Plan\",\n \"name\": 5}", "f.json",
		  "f.json:2:10: expected a string for \"name\"" },
		{ "{\"class\": \"Plan\", \"name\": \"p\",", "f.json",
		  "f.json:1:30: string or '}' expected near end of file" },
		{ "plan :: p ; action :: a ; end action. action :: a ; end action. end plan.", "f.pf",
		  "f.pf: task name 'a' is used twice (task names must be unique)" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct lb_kn_model *m = NULL;
		struct lb_errmsg em;
		lb_errclear(&em);
		assert_int_not_equal(lb_kn_model_parse(v[i][0], strlen(v[i][0]), v[i][1],
						       LB_KN_FORM_AUTO, &m, &em),
				     LB_OK);
		assert_null(m);
		assert_string_equal(em.text, v[i][2]);
	}
}

/* Every example contract: .pf -> JSON -> .pf gives the same model and the same text, and
 * the committed .json file is exactly the JSON print of the .pf file. */
static void test_examples_round_trip(void **state)
{
	const char *root = getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/examples/contracts", root);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	int count = 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 4 || strcmp(de->d_name + n - 3, ".pf") != 0)
			continue;
		char path[2048], jpath[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(jpath, sizeof(jpath), "%s/%.*s.json", dir, (int)(n - 3), de->d_name);
		struct lb_kn_model *a, *b, *c;
		struct lb_errmsg em;
		if (lb_kn_model_load(path, &a, &em) != LB_OK)
			fail_msg("%s", em.text);
		char *pf, *js, *pf2;
		size_t pflen, jslen, pf2len;
		assert_lb_ok(lb_kn_model_print(a, LB_KN_FORM_PF, &pf, &pflen));
		assert_lb_ok(lb_kn_model_print(a, LB_KN_FORM_JSON, &js, &jslen));
		assert_lb_ok(lb_kn_model_parse(js, jslen, "json", LB_KN_FORM_JSON, &b, &em));
		assert_true(lb_kn_model_equal(a, b));
		assert_lb_ok(lb_kn_model_print(b, LB_KN_FORM_PF, &pf2, &pf2len));
		assert_string_equal(pf, pf2);
		assert_lb_ok(lb_kn_model_parse(pf, pflen, "pf", LB_KN_FORM_PF, &c, &em));
		assert_true(lb_kn_model_equal(a, c));
		/* the committed JSON form is the same contract */
		uint8_t *jf;
		size_t jflen;
		if (lb_file_read(jpath, LB_KN_MAX_SOURCE, &jf, &jflen, &em) != LB_OK)
			fail_msg("missing JSON form: %s", em.text);
		if (jflen != jslen || memcmp(jf, js, jslen) != 0)
			fail_msg("%s is not the JSON print of %s (regenerate it with 'leben contract "
				 "convert %s --to json')",
				 jpath, path, path);
		lb_free(jf);
		lb_free(pf);
		lb_free(pf2);
		lb_free(js);
		lb_kn_model_free(a);
		lb_kn_model_free(b);
		lb_kn_model_free(c);
		count++;
	}
	closedir(d);
	assert_true(count >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expr_vectors),
		cmocka_unit_test(test_expr_errors),
		cmocka_unit_test(test_kleene),
		cmocka_unit_test(test_model_errors),
		cmocka_unit_test(test_examples_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
