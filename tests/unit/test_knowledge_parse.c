/* Unit tests for the knowledge language: expression grammar and printers, Kleene logic,
 * error positions, and lossless round trips of every example contract in both forms. */
#include "test.h"

#include <dirent.h>
#include <math.h>
#include <jansson.h>
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
		{ "a !== undefined", "a !== unknown", "a !== undefined" },
		{ "+a + b[1] - -(+c)", "+a + b[1] - - +c", "+a + b[1] - - +c" },
		{ "+ +a + [1, 2][0]", "+ +a + [1, 2][0]", "+ +a + [1, 2][0]" },
		{ "- (a + 1)", "-(a + 1)", "-(a + 1)" },
		{ "unknown = null", "unknown = unknown", "undefined == undefined" },
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

/* JavaScript the .pf form lacks, read under the PROformajs rules (the JSON form) as
 * PROformajs's parser (jsep) reads it: the JSON print, which reads back as the same tree; the
 * .pf printer and parser refuse them. */
static void test_expr_js_only(void **state)
{
	static const char *const v[][2] = {
		/* input, PROformajs print (the operand of an operator both forms have is parenthesized
		 * when it is looser or another comparison, as before, so old prints do not change) */
		{ "a&b|c^d", "a & b | c ^ d" },
		{ "a | b & c", "a | b & c" },
		{ "(a | b) & c", "(a | b) & c" },
		{ "a & b == 2", "a & b == 2" },
		{ "(a & b) == 2", "(a & b) == 2" },
		{ "~a + ~~b", "~a + ~~b" },
		{ "-~a", "- ~a" },
		{ "a << 1 + 2", "a << 1 + 2" },
		{ "(a << 1) + 2", "(a << 1) + 2" },
		{ "a >> b >>> c", "a >> b >>> c" },
		{ "a < b << 2", "a < (b << 2)" },
		{ "2 ** 3 ** 2", "2 ** 3 ** 2" },
		{ "(2 ** 3) ** 2", "(2 ** 3) ** 2" },
		{ "-a ** 2", "-a ** 2" },
		{ "-2 ** 2 * 3", "(-2 ** 2) * 3" },
		{ "a ?? b || c", "(a ?? b) || c" },
		{ "a ?? (b ? 1 : 2)", "a ?? (b ? 1 : 2)" },
		{ "(a ?? b) ? 1 : 2", "(a ?? b) ? 1 : 2" },
		{ "a > 1 > 0", "(a > 1) > 0" },
		{ "a < b == c < d", "(a < b) == (c < d)" },
		{ "a == b != c", "(a == b) != c" },
		{ "a, b", "a, b" },
		{ "a; b;", "a, b" },
		{ "a b c", "a, b, c" },
		{ ";a,,b", "a, b" },
		{ "a ? b : c, d", "a ? b : c, d" },
		{ "a,", "a" },
		{ ";", "()" },
		{ " ", "()" },
		{ "()", "()" },
		{ "!a & (b ? 1 : 2)", "!a & (b ? 1 : 2)" },
		{ "includes(s, a | 1)", "includes(s, a | 1)" },
		/* a sequence in parentheses, blank-separated elements and arguments (jsep) */
		{ "(a, b)", "(a, b)" },
		{ "(a b; c,)", "(a, b, c)" },
		{ "(;a)", "a" },
		{ "[a b]", "[a, b]" },
		{ "[a b,]", "[a, b]" },
		{ "f(a b)", "f(a, b)" },
		{ "(a, b) > 1", "(a, b) > 1" },
		/* member access, `this` */
		{ "this.x", "this.x" },
		{ "this", "this" },
		{ "!this || (this + 1)", "!this || this + 1" },
		{ "this['x'] > 1", "this['x'] > 1" },
		{ "this[\"a b\"]", "this['a b']" },
		{ "this.now()", "this.now()" },
		{ "this['is_known']('x')", "this['is_known']('x')" },
		{ "this.x.length", "this.x.length" },
		{ "a.length", "a.length" },
		{ "a . length", "a.length" },
		{ "(a + 1).length", "(a + 1).length" },
		{ "'ab'.length", "'ab'.length" },
		{ "[1, 2].length", "[1, 2].length" },
		{ "a['length']", "a['length']" },
		{ "now().diff(d, 'days')", "now().diff(d, 'days')" },
		{ "now()['diff'](0)", "now()['diff'](0)" },
		{ "(1)[0]", "(1)[0]" },
		{ "(-1).x", "(-1).x" },
		{ "f(1)(2)", "f(1)(2)" },
		{ "(f)(1)", "f(1)" },
		{ "a.b.c()", "a.b.c()" },
		{ "a[0].length", "a[0].length" },
		{ "(a, b).length", "(a, b).length" },
		{ "!a.length", "!a.length" },
		{ "-a.x", "-a.x" },
		{ "1[0]", "1, [0]" },
		{ "a.constructor", "a.constructor" },
		{ "a.length > 1 ? a[0] : b.includes(1)", "a.length > 1 ? a[0] : b.includes(1)" },
		/* optional member access */
		{ "a?.b", "a?.b" },
		{ "a ?. b.c", "a?.b.c" },
		{ "a?.[0]", "a?.[0]" },
		{ "a.includes?.(1)", "a.includes?.(1)" },
		{ "a?.diff(1)", "a?.diff(1)" },
		{ "f?.(1)", "f(1)" }, /* (PROformajs's evaluator reads no `?.` there) */
		{ "a ? .5 : 1", "a ? 0.5 : 1" },
		/* corners of PROformajs's parser the token sweep (pf_tokens.mjs) found */
		{ ",", "()" },
		{ "(;)", "()" },
		{ "-0", "-0.0" },
		{ "- -5", "- -5" },
		{ "-(5)", "-5" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct kn_expr *e = NULL, *e2 = NULL;
		struct lb_errmsg em;
		struct lb_buf b;
		if (kn_expr_parse_js(v[i][0], strlen(v[i][0]), 1, 1, &e, &em) != LB_OK)
			fail_msg("%s: %s", v[i][0], em.text);
		lb_buf_init(&b, 1 << 16);
		assert_lb_ok(kn_expr_print(&b, e, KN_STYLE_JS));
		assert_lb_ok(lb_buf_addc(&b, 0));
		assert_string_equal((char *)b.data, v[i][1]);
		assert_lb_ok(kn_expr_parse_js((char *)b.data, b.len - 1, 1, 1, &e2, &em));
		assert_true(kn_expr_equal(e, e2));
		lb_buf_release(&b);
		/* the .pf form has no such operator: its printer refuses (chained comparisons and a
		 * compound of one it prints, parenthesized, and reads back as the same tree) */
		lb_buf_init(&b, 1 << 16);
		if (kn_expr_js_only(e) != NULL) {
			assert_int_equal(kn_expr_print(&b, e, KN_STYLE_PF), LB_EINVALID);
		} else {
			struct kn_expr *e3 = NULL;
			assert_lb_ok(kn_expr_print(&b, e, KN_STYLE_PF));
			assert_lb_ok(kn_expr_parse((char *)b.data, b.len, 1, 1, &e3, &em));
			assert_true(kn_expr_equal(e, e3));
			kn_expr_free(e3);
		}
		lb_buf_release(&b);
		kn_expr_free(e);
		kn_expr_free(e2);
	}
	static const char *const pf[] = { "a & b", "a | 1", "~a", "a << 1", "a ** 2", "a ?? 1", "a, b",
					  "a; b" };
	for (size_t i = 0; i < sizeof(pf) / sizeof(pf[0]); i++) {
		struct kn_expr *e = NULL;
		struct lb_errmsg em;
		assert_int_equal(kn_expr_parse(pf[i], strlen(pf[i]), 1, 1, &e, &em), LB_ESYNTAX);
	}
	/* JavaScript errors keep their message: a single expression is no compound */
	static const char *const bad[][2] = {
		{ "a = 1", "1:3: expected PROformajs (JavaScript) syntax: '==', '!=', '&&', '||' or "
			   "includes(set, x) instead of =, <>, and, or, in;, found '='" },
		{ "a ** ** b", "1:6: expected a value, name or '(', found '**'" },
		{ "a.toFixed(2)", "1:3: JavaScript's member 'toFixed' (a method or property of "
				  "JavaScript's or moment.js's own) is not read: LEBEN reads .length, "
				  ".includes(x) and moment's diff(), years(), months(), days(), hours(), "
				  "seconds(), milliseconds() (docs/knowledge-language.md §4.2)" },
		{ "a['slice']", "1:3: JavaScript's member 'slice' (a method or property of "
				"JavaScript's or moment.js's own) is not read: LEBEN reads .length, "
				".includes(x) and moment's diff(), years(), months(), days(), hours(), "
				"seconds(), milliseconds() (docs/knowledge-language.md §4.2)" },
		{ "a?.5 : 1", "1:4: expected a property name after '.', found '5'" },
		{ "a.5", "1:2: expected a property name after '.', found '.5'" },
		{ "a. 5", "1:4: expected a property name after '.', found '5'" },
		{ "(this).x", "1:2: 'this' (PROformajs's evaluator object) is read only as this.NAME "
			      "or this['NAME'] (a data item's value), this.f(...) (a function) and "
			      "alone: write the name itself" },
		{ "(this)[0]", "1:2: 'this' (PROformajs's evaluator object) is read only as "
			       "this.NAME or this['NAME'] (a data item's value), this.f(...) (a "
			       "function) and alone: write the name itself" },
		{ "this[a]", "1:1: 'this' (PROformajs's evaluator object) is read only as this.NAME "
			     "or this['NAME'] (a data item's value), this.f(...) (a function) and "
			     "alone: write the name itself" },
		{ "a.includes(1, 2)", "1:11: JavaScript's .includes() with 2 arguments is not read "
				      "(LEBEN reads 1 at most)" },
		{ "f(a b,)", "1:6: expected ',' or ')', found ','" },
		{ "[a b, c]", "1:7: expected ']' (elements are separated by blanks or by ',', not "
			      "both), found 'c'" },
		{ "[a, b c]", "1:7: expected ',' or ']', found 'c'" },
		{ "() + 1", "1:2: expected an expression in '()', found ')'" },
		{ "1h", "1:1: a name cannot start with a number ('1h')" },
		{ " ;", "1:2: unexpected ';' after blanks where an expression belongs (PROformajs's "
			"parser refuses it)" },
		{ "a; ;", "1:4: unexpected ';' after blanks where an expression belongs (PROformajs's "
			  "parser refuses it)" },
		{ "( )", "1:3: expected an expression in '()', found ')'" },
		{ "(a, )", "1:5: expected an expression in '()', found ')'" },
		{ "(a, ;b)", "1:5: unexpected ';' after blanks where an expression belongs "
			     "(PROformajs's parser refuses it)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kn_expr *e = NULL;
		struct lb_errmsg em;
		assert_int_not_equal(kn_expr_parse_js(bad[i][0], strlen(bad[i][0]), 1, 1, &e, &em),
				     LB_OK);
		assert_string_equal(em.text, bad[i][1]);
	}
	/* nesting stays bounded: a long right-associative `**` chain and deep `~` */
	struct lb_buf d;
	lb_buf_init(&d, 1 << 20);
	for (int i = 0; i < 5000; i++)
		assert_lb_ok(lb_buf_adds(&d, "a ** "));
	assert_lb_ok(lb_buf_adds(&d, "a"));
	struct kn_expr *e = NULL;
	struct lb_errmsg em;
	assert_int_equal(kn_expr_parse_js((char *)d.data, d.len, 1, 1, &e, &em), LB_ELIMIT);
	lb_buf_release(&d);
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
		{ "data :: x ; type integer; end data.\nplan :: p ;\n  enquiry :: e ;\n    source x;\n"
		  "    source x meta \"{}\";\n  end enquiry.\nend plan.\n", "f.pf",
		  "f.pf:5:5: enquiry 'e' asks for 'x' twice; keep one source" },
		{ "plan :: p ;\n  caption \"\x01x\";\nend plan.\n", "f.pf",
		  "f.pf:2:11: a string may not start with the control byte 0x01; remove it" },
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
		{ "data :: x ; type integer; end data.\ndata :: x ; type integer; scope a; end data.\n"
		  "plan :: p ; action :: a ; end action. end plan.", "f.pf",
		  "f.pf:2:1: data item 'x' is defined twice (in the .pf form, LEBEN's rules, a data "
		  "name is unique in the contract; only the PROformajs JSON form may define a name in "
		  "two tasks); rename one of them" },
		{ "{\"class\": \"Plan\", \"name\": \"p\", \"dataDefinitions\": [{\"class\": \"Integer\","
		  " \"name\": \"x\"},\n {\"class\": \"Text\", \"name\": \"x\"}]}", "f.json",
		  "f.json:2:2: data item 'x' is defined twice in task 'p' (duplicate dataDefinition "
		  "names; two tasks may each define it); rename one of them" },
		{ "data :: x ; type integer; warning_text \"w\"; end data.\nplan :: p ; end plan.",
		  "f.pf",
		  "f.pf:1:27: expected 'warning EXPRESSION;' before its text, description or meta, "
		  "found 'warning_text'" },
		{ "data :: x ; type integer; meta \"{oops\"; end data.\nplan :: p ; end plan.", "f.pf",
		  "f.pf:1:32: meta is not JSON text" },
		{ "data :: x ; type real; range 1e+400 .. 2; end data.\nplan :: p ; end plan.", "f.pf",
		  "f.pf:1:30: expected a number, found '1e+400'" },
		{ "data :: x ; type integer; scope q; end data.\nplan :: p ; end plan.", "f.pf",
		  "f.pf:1:1: data item 'x' belongs to task 'q', which the contract does not have" },
		{ "{\"class\": \"Plan\", \"name\": \"p\",\n \"preCondition\": \"a and b\"}", "f.json",
		  "f.json:2:21: expected PROformajs (JavaScript) syntax: '==', '!=', '&&', '||' or "
		  "includes(set, x) instead of =, <>, and, or, in;, found 'and' (in \"preCondition\")" },
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

/* An expression the PROformajs JSON gives as another value than a text (a number, a boolean,
 * an object, an empty list): PROformajs evaluates it to undefined without a throw (its
 * `exp.length > 0` test fails), where the text "undefined" throws ("illegal Identifier"). The
 * JSON print writes the same value back, so PROformajs reads the printed protocol as the
 * original; the .pf form cannot hold it. */
static void test_json_nontext_expr(void **state)
{
	static const char *const src =
		"{\"class\": \"Plan\", \"name\": \"p\", \"dataDefinitions\": ["
		"{\"class\": \"Integer\", \"name\": \"n\", \"valueCondition\": 5},"
		"{\"class\": \"Boolean\", \"name\": \"b\", \"defaultCondition\": {\"x\": [1, 2.5]}}],"
		"\"tasks\": ["
		"{\"class\": \"Enquiry\", \"name\": \"ask\", \"waitCondition\": true, \"preCondition\": 0,"
		" \"sources\": [{\"class\": \"Source\", \"type\": \"b\", \"requestCondition\": []}]},"
		"{\"class\": \"Decision\", \"name\": \"d\", \"abortCondition\": false, \"candidates\": ["
		"{\"class\": \"Candidate\", \"name\": \"c\", \"recommendCondition\": -1.5, \"arguments\": ["
		"{\"class\": \"Argument\", \"caption\": \"a\", \"support\": \"+\","
		" \"activeCondition\": {}}]}]}]}";
	struct lb_kn_model *m, *m2;
	struct lb_errmsg em;
	if (lb_kn_model_parse(src, strlen(src), "n.json", LB_KN_FORM_JSON, &m, &em) != LB_OK)
		fail_msg("%s", em.text);
	char *js;
	size_t jslen;
	assert_lb_ok(lb_kn_model_print(m, LB_KN_FORM_JSON, &js, &jslen));
	json_t *a = json_loads(src, 0, NULL), *b = json_loadb(js, jslen, 0, NULL);
	assert_non_null(a);
	assert_non_null(b);
	static const char *const paths[][4] = {
		{ "dataDefinitions", "0", "valueCondition", NULL },
		{ "dataDefinitions", "1", "defaultCondition", NULL },
		{ "tasks", "0", "waitCondition", NULL },
		{ "tasks", "0", "preCondition", NULL },
		{ "tasks", "0", "sources", "0" },
		{ "tasks", "1", "abortCondition", NULL },
		{ "tasks", "1", "candidates", "0" },
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		json_t *x = a, *y = b;
		for (size_t k = 0; k < 4 && paths[i][k] != NULL; k++) {
			if (json_is_array(x)) {
				x = json_array_get(x, (size_t)atoi(paths[i][k]));
				y = json_array_get(y, (size_t)atoi(paths[i][k]));
			} else {
				x = json_object_get(x, paths[i][k]);
				y = json_object_get(y, paths[i][k]);
			}
		}
		if (x == NULL || y == NULL || !json_equal(x, y))
			fail_msg("%s.%s: the print changed the value", paths[i][0], paths[i][2]);
	}
	/* (the candidate and the source object as a whole: recommendCondition, activeCondition
	 * and requestCondition come back as -1.5, {} and []) */
	assert_null(strstr(js, "undefined"));
	json_decref(a);
	json_decref(b);
	/* the print reads back as the same model, and prints the same bytes again */
	assert_lb_ok(lb_kn_model_parse(js, jslen, "n2.json", LB_KN_FORM_JSON, &m2, &em));
	assert_true(lb_kn_model_equal(m, m2));
	char *js2;
	size_t js2len;
	assert_lb_ok(lb_kn_model_print(m2, LB_KN_FORM_JSON, &js2, &js2len));
	assert_int_equal(js2len, jslen);
	assert_memory_equal(js, js2, jslen);
	/* the .pf form cannot hold it, and says why */
	assert_int_equal(lb_kn_model_printable(m, LB_KN_FORM_PF, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "expression written as a JSON value, not a text"));
	lb_free(js);
	lb_free(js2);
	lb_kn_model_free(m);
	lb_kn_model_free(m2);
}

/* JavaScript semantics (session js mode) against answers the reference engine gave:
 * tests/data/knowledge_json/js_eval.json holds the expressions (as derived items x0..), .values.json
 * the data, .exp one answer per line (written by tests/oracles/pf_validity.mjs eval, checked
 * against the reference again by tests/integration/test_knowledge_json). */
static bool js_same(const struct kn_value *v, json_t *x)
{
	json_t *u = json_is_object(x) ? json_object_get(x, "undefined") : NULL;
	json_t *nan = json_is_object(x) ? json_object_get(x, "NaN") : NULL;
	json_t *inf = json_is_object(x) ? json_object_get(x, "Infinity") : NULL;
	switch (v->t) {
	case KN_V_UNKNOWN: return u != NULL;
	case KN_V_BOOL: return json_is_boolean(x) && json_is_true(x) == v->u.b;
	case KN_V_INT: return json_is_number(x) && json_number_value(x) == (double)v->u.i;
	case KN_V_REAL:
		if (isnan(v->u.r))
			return nan != NULL;
		if (isinf(v->u.r))
			return inf != NULL && json_integer_value(inf) == (v->u.r > 0 ? 1 : -1);
		return json_is_number(x) && json_number_value(x) == v->u.r;
	case KN_V_TEXT: return json_is_string(x) && strcmp(json_string_value(x), v->u.s) == 0;
	case KN_V_SET:
		if (!json_is_array(x) || json_array_size(x) != v->u.set.n)
			return false;
		for (size_t i = 0; i < v->u.set.n; i++)
			if (!js_same(&v->u.set.v[i], json_array_get(x, i)))
				return false;
		return true;
	default: return false;
	}
}

/* The derived items of tests/data/knowledge_json/NAME.json, evaluated with the answers of
 * NAME.values.json under the PROformajs rules (the clock fixed where the reference's is:
 * proforma_lib.mjs NOW_MS), against the reference's answers in NAME.exp (pf_validity.mjs eval;
 * test_knowledge_json checks they are still the reference's); at least `min` of them. */
static void js_vectors(const char *name, int min)
{
	const char *root = getenv("LEBEN_ROOT") ? getenv("LEBEN_ROOT") : ".";
	char path[1024];
	struct lb_errmsg em;
	struct lb_kn_model *m;
	snprintf(path, sizeof(path), "%s/tests/data/knowledge_json/%s.json", root, name);
	if (lb_kn_model_load(path, &m, &em) != LB_OK)
		fail_msg("%s", em.text);
	struct lb_kn_session *s;
	assert_lb_ok(lb_kn_session_new(m, 0, &s, &em));
	snprintf(path, sizeof(path), "%s/tests/data/knowledge_json/%s.values.json", root, name);
	json_t *vals = json_load_file(path, 0, NULL);
	assert_non_null(vals);
	const char *k;
	json_t *jv;
	json_object_foreach(vals, k, jv) {
		int d = kn_model_find_data(m, k);
		struct kn_value v;
		assert_true(d >= 0);
		assert_lb_ok(kn_value_from_json(s, &m->data[d], jv, &v, &em));
		assert_lb_ok(kn_session_put(s, d, &v));
		kn_arena_reset(&s->ar);
	}
	json_decref(vals);
	snprintf(path, sizeof(path), "%s/tests/data/knowledge_json/%s.exp", root, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	s->js = true;
	s->js_now_ms = INT64_C(1773582330250); /* 2026-03-15T13:45:30.250Z */
	char line[4096];
	int checked = 0;
	for (size_t i = 0; i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		if (d->derive == NULL)
			continue;
		assert_non_null(fgets(line, sizeof(line), f));
		json_t *want = json_loads(line, JSON_DECODE_ANY, NULL);
		assert_non_null(want);
		struct kn_value got;
		s->js_threw = false;
		assert_lb_ok(kn_eval(s, d->derive, &got));
		/* where PROformajs's evaluation throws (`**`, `??`: its evaluator has no function
		 * for them), LEBEN's says so (s->js_threw), and only there */
		bool throws = json_is_object(want) && json_object_get(want, "throws") != NULL;
		if (throws != s->js_threw)
			fail_msg("%s: the reference %s, LEBEN %s", d->name,
				 throws ? "throws" : "does not throw", s->js_threw ? "throws" : "does not");
		if (!throws && !js_same(&got, want)) {
			struct lb_buf b, x;
			lb_buf_init(&b, 1 << 16);
			lb_buf_init(&x, 1 << 16);
			kn_value_to_json(&b, &got);
			lb_buf_addc(&b, 0);
			kn_expr_print(&x, d->derive, KN_STYLE_JS);
			lb_buf_addc(&x, 0);
			fail_msg("%s = %s: LEBEN gives %s, the reference %s", d->name, (char *)x.data,
				 (char *)b.data, line);
		}
		json_decref(want);
		kn_arena_reset(&s->ar);
		checked++;
	}
	fclose(f);
	assert_true(checked >= min);
	lb_kn_session_free(s);
	lb_kn_model_free(m);
}

static void test_js_semantics(void **state)
{
	(void)state;
	js_vectors("js_eval", 70);
}

/* JavaScript's member access (`s.length`, `l[i]`, `l.includes(x)`, moment's `now().diff(ms,
 * 'months', true)` and getters), `this.x` / `this['x']` / `this.f()`, `(a, b)` (a throw),
 * `[a b]` / `f(a b)`, and text to number as JavaScript converts it ("0x1f", " 12 ", "0b11",
 * "Infinity", "" ...), `this` alone (PROformajs's evaluator object: "[object Object]" as a text,
 * truthy, NaN as a number; count(), nth(), includes() of it): every answer (and every throw)
 * the reference's. */
static void test_js_members(void **state)
{
	(void)state;
	js_vectors("js_member", 153);
}

/* Data semantics: derived values from other items (through another derived item), allowed
 * values with captions, warnings and is_valid, computed defaults that the item must accept. */
static void test_data_semantics(void **state)
{
	static const char *const src =
		"data :: score ; type integer; end data.\n"
		"data :: sev ; type integer; allowed 1 \"mild\", 2 \"moderate\", 3 \"severe\";\n"
		"  default_condition score > 4 ? 3 : score;\n"
		"  warning value >= 3; warning_text \"severe\"; end data.\n"
		"data :: syms ; type text multiple; allowed \"a\" \"Cough\", \"b\" \"Fever\", \"c\"; end data.\n"
		"data :: twice ; type integer; derive score * 2; end data.\n"
		"data :: more ; type integer; derive twice + 1; end data.\n"
		"data :: cap ; type text; derive caption(\"sev\"); end data.\n"
		"data :: caps ; type text; derive captions(\"syms\"); end data.\n"
		"data :: ok ; type boolean; derive is_valid(\"sev\"); end data.\n"
		"plan :: p ; end plan.\n";
	struct lb_kn_model *m;
	struct lb_errmsg em;
	assert_lb_ok(lb_kn_model_parse(src, strlen(src), "d.pf", LB_KN_FORM_PF, &m, &em));
	assert_int_equal(lb_kn_model_problems(m, 0, NULL), 0);
	/* the warning names the item itself, whichever way it was written */
	assert_string_equal(m->data[1].warnings[0].cond->args[0]->name, "sev");
	struct lb_kn_session *s;
	assert_lb_ok(lb_kn_session_new(m, 0, &s, &em));
	struct kn_value v;
	/* unknown score: no default (Kleene: the condition is unknown; JavaScript: the `score`
	 * branch, undefined); score 5: 3; score 2: 2; score 9: 3; a value the item does not
	 * allow is no default */
	assert_lb_ok(kn_default_value(s, 1, &v));
	assert_int_equal(v.t, KN_V_UNKNOWN);
	s->js = true;
	assert_lb_ok(kn_default_value(s, 1, &v));
	assert_int_equal(v.t, KN_V_UNKNOWN);
	s->js = false;
	struct kn_value seven = { .t = KN_V_INT, .u.i = 4 };
	assert_lb_ok(kn_session_put(s, 0, &seven));
	assert_lb_ok(kn_default_value(s, 1, &v));
	assert_int_equal(v.t, KN_V_UNKNOWN);
	struct kn_value five = { .t = KN_V_INT, .u.i = 5 }, two = { .t = KN_V_INT, .u.i = 2 };
	assert_lb_ok(kn_session_put(s, 0, &five));
	assert_lb_ok(kn_default_value(s, 1, &v));
	assert_int_equal(v.t, KN_V_INT);
	assert_int_equal(v.u.i, 3);
	assert_lb_ok(kn_session_put(s, 0, &two));
	assert_lb_ok(kn_default_value(s, 1, &v));
	assert_int_equal(v.u.i, 2);
	struct kn_value nine = { .t = KN_V_INT, .u.i = 9 };
	assert_lb_ok(kn_session_put(s, 0, &nine));
	assert_lb_ok(kn_default_value(s, 1, &v));
	assert_int_equal(v.u.i, 3);
	/* derived through a derived item */
	struct kn_expr more = { .op = KN_E_NAME, .ref = kn_model_find_data(m, "more"), .ref2 = -1 };
	assert_lb_ok(kn_eval(s, &more, &v));
	assert_int_equal(v.t, KN_V_INT);
	assert_int_equal(v.u.i, 19);
	/* captions and warnings */
	struct kn_value sev = { .t = KN_V_INT, .u.i = 3 };
	assert_lb_ok(kn_session_put(s, 1, &sev));
	struct kn_value items[2] = { { .t = KN_V_TEXT, .u.s = "a" }, { .t = KN_V_TEXT, .u.s = "c" } };
	struct kn_value set = { .t = KN_V_SET, .u.set = { items, 2 } };
	assert_lb_ok(kn_session_put(s, 2, &set));
	struct kn_expr cap = { .op = KN_E_NAME, .ref = kn_model_find_data(m, "cap"), .ref2 = -1 };
	struct kn_expr caps = { .op = KN_E_NAME, .ref = kn_model_find_data(m, "caps"), .ref2 = -1 };
	struct kn_expr ok = { .op = KN_E_NAME, .ref = kn_model_find_data(m, "ok"), .ref2 = -1 };
	assert_lb_ok(kn_eval(s, &cap, &v));
	assert_string_equal(v.u.s, "severe");
	assert_lb_ok(kn_eval(s, &caps, &v));
	assert_string_equal(v.u.s, "Cough and c");
	assert_lb_ok(kn_eval(s, &ok, &v));
	assert_int_equal(kn_truth(&v), 0); /* the warning is active */
	/* an answer meeting the warning is accepted, with the warning's text */
	char warn[64];
	assert_lb_ok(kn_session_check_value(s, 1, &sev, warn, sizeof(warn), &em));
	assert_string_equal(warn, "severe");
	struct kn_value four = { .t = KN_V_INT, .u.i = 4 };
	assert_int_not_equal(kn_session_check_value(s, 1, &four, warn, sizeof(warn), &em), LB_OK);
	sev.u.i = 1;
	assert_lb_ok(kn_session_put(s, 1, &sev));
	assert_lb_ok(kn_eval(s, &ok, &v));
	assert_int_equal(kn_truth(&v), 1);
	/* dynamic captions: ${...} replaced by the value, nothing for what is unknown; an
	 * expression that does not parse is where PROformajs throws */
	struct lb_buf b;
	bool threw = false;
	lb_buf_init(&b, 1 << 16);
	assert_lb_ok(kn_render_text(s, 0, "Severity ${caption('sev')} (${sev}), ${score * 2}${nope}"
					  "${'a' +} $5 ${", &b, &threw));
	assert_lb_ok(lb_buf_addc(&b, 0));
	assert_string_equal((char *)b.data, "Severity mild (1), 18 $5 ${");
	assert_true(threw);
	lb_buf_release(&b);
	/* the expression runs to the last '}' before the next '$' (/\$\{([^$]*)\}/) */
	threw = false;
	lb_buf_init(&b, 1 << 16);
	assert_lb_ok(kn_render_text(s, 0, "${sev > 0 ? 'x}' : 'y'} and ${sev}, ${sev}", &b, &threw));
	assert_lb_ok(lb_buf_addc(&b, 0));
	assert_string_equal((char *)b.data, "x} and 1, 1");
	assert_false(threw);
	lb_buf_release(&b);
	kn_arena_reset(&s->ar);
	lb_kn_session_free(s);
	lb_kn_model_free(m);
}

/* Date values under the PROformajs rules: JavaScript times (ms), as moment.js reads them. */
static void test_js_dates(void **state)
{
	(void)state;
	const int64_t now = INT64_C(1773582330250); /* 2026-03-15T13:45:30.250Z */
	int64_t ms = 0;
	char iso[32], txt[40];
	assert_true(kn_date_parse_moment_ms("2026-03-15T20:00:00.000Z", now, &ms));
	assert_int_equal(ms, INT64_C(1773604800000));
	assert_true(kn_date_parse_moment_ms("2026-03-10", now, &ms));
	assert_int_equal(ms, INT64_C(1773100800000));
	assert_true(kn_date_parse_moment_ms("2020-01-05T10:30:00.000+05:30", now, &ms));
	kn_date_ms_iso(ms, iso);
	assert_string_equal(iso, "2020-01-05T05:00:00.000Z");
	/* moment.js's forgiving read: "+05:30" gives the seconds here, no offset */
	assert_true(kn_date_parse_moment_ms("2020-01-05T10:30+05:30", now, &ms));
	kn_date_ms_iso(ms, iso);
	assert_string_equal(iso, "2020-01-05T10:30:30.000Z");
	assert_true(kn_date_parse_moment_ms("Z", now, &ms)); /* today, from the clock */
	kn_date_ms_iso(ms, iso);
	assert_string_equal(iso, "2026-03-15T00:00:00.000Z");
	assert_false(kn_date_parse_moment_ms("2020-02-30", now, &ms));
	assert_false(kn_date_parse_moment_ms("hello", now, &ms));
	kn_date_ms_iso(now, iso);
	assert_string_equal(iso, "2026-03-15T13:45:30.250Z");
	kn_date_ms_moment_text(now, txt);
	assert_string_equal(txt, "Sun Mar 15 2026 13:45:30 GMT+0000");
	kn_date_ms_iso(-1, iso);
	assert_string_equal(iso, "1969-12-31T23:59:59.999Z");
	assert_int_equal(kn_clock_ms(42), 42);
	assert_true(kn_clock_ms(0) > now - INT64_C(400) * 86400000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expr_vectors),
		cmocka_unit_test(test_expr_errors),
		cmocka_unit_test(test_expr_js_only),
		cmocka_unit_test(test_kleene),
		cmocka_unit_test(test_model_errors),
		cmocka_unit_test(test_examples_round_trip),
		cmocka_unit_test(test_json_nontext_expr),
		cmocka_unit_test(test_js_semantics),
		cmocka_unit_test(test_js_members),
		cmocka_unit_test(test_data_semantics),
		cmocka_unit_test(test_js_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
