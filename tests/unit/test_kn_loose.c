/*
 * Protocols PROformajs accepts beyond LEBEN's .pf rules (docs/knowledge-language.md §5.2):
 * each is loaded from the JSON form, run under the PROformajs rules and checked against the
 * answers PROformajs 0.11 gives for it (taken from the reference engine first), and the .pf
 * form refuses what it cannot hold, saying why.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

static struct lb_kn_model *load_ok(const char *js)
{
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL;
	if (lb_kn_model_parse(js, strlen(js), "loose.json", LB_KN_FORM_AUTO, &m, &em) != LB_OK)
		fail_msg("refused: %s: %s", em.text, js);
	return m;
}

static void load_refused(const char *js, const char *why)
{
	struct lb_errmsg em = { 0 };
	struct lb_kn_model *m = NULL;
	if (lb_kn_model_parse(js, strlen(js), "loose.json", LB_KN_FORM_AUTO, &m, &em) == LB_OK)
		fail_msg("accepted: %s", js);
	if (strstr(em.text, why) == NULL)
		fail_msg("'%s' does not say '%s'", em.text, why);
}

/* The .pf form refuses m, saying `why`. */
static void pf_refuses(const struct lb_kn_model *m, const char *why)
{
	struct lb_errmsg em = { 0 };
	assert_int_equal(lb_kn_model_printable(m, LB_KN_FORM_PF, &em), LB_EINVALID);
	if (strstr(em.text, why) == NULL)
		fail_msg("'%s' does not say '%s'", em.text, why);
}

/* m's JSON print holds `frag`. */
static void printed_has(const struct lb_kn_model *m, const char *frag)
{
	char *t = NULL;
	size_t n = 0;
	assert_lb_ok(lb_kn_model_print(m, LB_KN_FORM_JSON, &t, &n));
	if (strstr(t, frag) == NULL)
		fail_msg("print lacks %s: %s", frag, t);
	lb_free(t);
}

/* Run m: start, then each operation of ops ("set PATH {json}", "complete PATH"), expecting
 * the operation refused when its line starts with '!'; the snapshot after the last must hold
 * every fragment of want (NULL-terminated). */
static void run(const struct lb_kn_model *m, const char *const *ops, const char *const *want)
{
	struct lb_errmsg em = { 0 };
	struct kn_enact *e = NULL;
	assert_lb_ok(kn_enact_new(m, &e, &em));
	int rc = kn_enact_start(e, &em);
	for (size_t i = 0; ops != NULL && ops[i] != NULL; i++) {
		const char *op = ops[i];
		bool refused = op[0] == '!';
		op += refused;
		char path[128];
		if (strncmp(op, "set ", 4) == 0) {
			const char *sp = strchr(op + 4, ' ');
			assert_non_null(sp);
			snprintf(path, sizeof(path), "%.*s", (int)(sp - (op + 4)), op + 4);
			json_error_t je;
			json_t *d = json_loads(sp + 1, 0, &je);
			assert_non_null(d);
			rc = kn_enact_set_all(e, path, d, &em);
			json_decref(d);
		} else {
			snprintf(path, sizeof(path), "%s", op + 9); /* "complete PATH" */
			rc = kn_enact_complete(e, path, &em);
		}
		if (refused != (rc != LB_OK))
			fail_msg("%s: rc %d (%s)", op, rc, em.text);
	}
	if (ops == NULL)
		assert_lb_ok(rc);
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	assert_lb_ok(kn_enact_snapshot(e, &b));
	assert_lb_ok(lb_buf_addc(&b, 0));
	for (size_t i = 0; want[i] != NULL; i++)
		if (strstr((const char *)b.data, want[i]) == NULL)
			fail_msg("snapshot lacks %s: %s", want[i], (const char *)b.data);
	lb_buf_release(&b);
	kn_enact_free(e);
}

#define PLAN(DATA, TASKS)                                                                  \
	"{\"class\":\"Plan\",\"name\":\"p\",\"autonomous\":true,\"dataDefinitions\":[" DATA   \
	"],\"tasks\":[" TASKS "]}"
#define ENQ(SOURCES) "{\"class\":\"Enquiry\",\"name\":\"q\",\"sources\":[" SOURCES "]}"
#define SRC(X) "{\"class\":\"Source\",\"type\":\"" X "\"}"

/* Names: up to 1024 characters in both forms (a resource limit beyond any protocol met). */
static void test_long_names(void **state)
{
	(void)state;
	char js[4096], name[1100];
	memset(name, 'x', 1024);
	name[1024] = 0;
	snprintf(js, sizeof(js), PLAN("{\"class\":\"Integer\",\"name\":\"%s\"}", ENQ(SRC("%s"))),
		 name, name);
	struct lb_kn_model *m = load_ok(js);
	char *pf = NULL;
	size_t n = 0;
	assert_lb_ok(lb_kn_model_print(m, LB_KN_FORM_PF, &pf, &n));
	struct lb_kn_model *m2 = NULL;
	struct lb_errmsg em = { 0 };
	assert_lb_ok(lb_kn_model_parse(pf, n, "long.pf", LB_KN_FORM_PF, &m2, &em));
	lb_free(pf);
	lb_kn_model_free(m2);
	lb_kn_model_free(m);
	name[1024] = 'x';
	name[1025] = 0;
	snprintf(js, sizeof(js), PLAN("{\"class\":\"Integer\",\"name\":\"%s\"}", ENQ(SRC("%s"))),
		 name, name);
	load_refused(js, "at most 1024 characters");
}

/* LEBEN's antecedents and postAssignments naming what the protocol lacks: PROformajs ignores
 * the keys; LEBEN keeps them for the round trip, ignores them, and the .pf form refuses. */
static void test_lebens_keys_ignored(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"Integer\",\"name\":\"x\"}",
		"{\"class\":\"Action\",\"name\":\"a\",\"antecedents\":[\"nosuch\"],"
		"\"postAssignments\":[{\"data\":\"nosuchitem\",\"value\":\"nosuchname + 1\"}]}"));
	printed_has(m, "\"nosuch\"");
	printed_has(m, "nosuchname + 1");
	static const char *const want[] = { "\"p:a\":\"in_progress\"", NULL };
	run(m, NULL, want);
	lb_kn_model_free(m);
	m = load_ok(PLAN("{\"class\":\"Integer\",\"name\":\"x\"}",
			 "{\"class\":\"Action\",\"name\":\"a\",\"antecedents\":[\"a\"]}"));
	pf_refuses(m, "antecedent names no other component");
	lb_kn_model_free(m);
	m = load_ok(PLAN("{\"class\":\"Integer\",\"name\":\"x\"}",
			 "{\"class\":\"Action\",\"name\":\"a\",\"postAssignments\":"
			 "[{\"data\":\"nosuchitem\",\"value\":\"1\"}]}"));
	pf_refuses(m, "postAssignment names what the protocol lacks");
	lb_kn_model_free(m);
}

/* net_support, min, max with two arguments: PROformajs reads the first (the second is
 * printed back); fewer arguments: undefined for the missing ones. PROformajs gives: count()
 * and date_part_hour() undefined (no version of an Integer item), round() NaN, includes(t)
 * true for t = "is undefined", includes() false, nth(y) undefined, min(y, 2) 1 and max(y, x)
 * 5 for y = [3, 1, 5], net_support('p:d:c', x) the support; is_completed() throws. */
static void test_arity(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"Integer\",\"name\":\"x\"},{\"class\":\"Integer\",\"name\":\"y\","
		"\"multiValued\":true},{\"class\":\"Text\",\"name\":\"t\"},"
		"{\"class\":\"Integer\",\"name\":\"c0\",\"valueCondition\":\"count() + date_part_hour()\"},"
		"{\"class\":\"Float\",\"name\":\"r0\",\"valueCondition\":\"round()\"},"
		"{\"class\":\"Boolean\",\"name\":\"i1\",\"valueCondition\":\"includes(t)\"},"
		"{\"class\":\"Boolean\",\"name\":\"i2\",\"valueCondition\":\"includes()\"},"
		"{\"class\":\"Integer\",\"name\":\"mn\",\"valueCondition\":"
		"\"count(y) > 0 ? min(y, 2) * 10 + max(y, x) : -1\"},"
		"{\"class\":\"Float\",\"name\":\"s\",\"valueCondition\":\"net_support('p:d:c', x)\"}",
		ENQ(SRC("x") "," SRC("y") "," SRC("t")) ","
		"{\"class\":\"Decision\",\"name\":\"d\",\"candidates\":[{\"class\":\"Candidate\","
		"\"name\":\"c\",\"arguments\":[{\"class\":\"Argument\",\"caption\":\"a\","
		"\"support\":\"+\",\"activeCondition\":\"x > 1\"}]}]},"
		"{\"class\":\"Action\",\"name\":\"b\",\"waitCondition\":\"x == 3 && is_completed()\"}"));
	printed_has(m, "net_support('p:d:c', x)");
	printed_has(m, "min(y, 2)");
	pf_refuses(m, "fewer arguments");
	static const char *const ops[] = { "set p:q {\"y\":[3,1,5]}", "set p:q {\"t\":\"is undefined\"}",
					   "set p:q {\"x\":2}", "!set p:q {\"x\":3}", NULL };
	static const char *const want[] = { "\"i1\":true", "\"i2\":false", "\"mn\":15", "\"s\":1",
					     "\"x\":3", "\"p:b\":\"dormant\"", NULL };
	run(m, ops, want);
	/* no version of c0 nor r0 (undefined and NaN in numeric items) */
	struct lb_errmsg em = { 0 };
	struct kn_enact *e = NULL;
	assert_lb_ok(kn_enact_new(m, &e, &em));
	assert_lb_ok(kn_enact_start(e, &em));
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	assert_lb_ok(kn_enact_snapshot(e, &b));
	assert_lb_ok(lb_buf_addc(&b, 0));
	assert_null(strstr((const char *)b.data, "\"c0\""));
	assert_null(strstr((const char *)b.data, "\"r0\""));
	lb_buf_release(&b);
	kn_enact_free(e);
	lb_kn_model_free(m);
}

/* count() of a text is its length in UTF-16 units; a numeric derived item keeps its value when
 * the new one's Number() is NaN (PROformajs's !isNaN guard). PROformajs: n 7 for "héllo😀",
 * f keeps "1e3" when t becomes "x1". */
static void test_text_numbers(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"Text\",\"name\":\"t\"},{\"class\":\"Integer\",\"name\":\"n\","
		"\"valueCondition\":\"count(t, 2)\"},{\"class\":\"Float\",\"name\":\"f\","
		"\"valueCondition\":\"is_known('t') ? t : -2\"}",
		ENQ(SRC("t"))));
	static const char *const ops[] = { "set p:q {\"t\":\"h\\u00e9llo\\ud83d\\ude00\"}", NULL };
	static const char *const want[] = { "\"n\":7", NULL };
	run(m, ops, want);
	static const char *const ops2[] = { "set p:q {\"t\":\"1e3\"}", "set p:q {\"t\":\"x1\"}", NULL };
	static const char *const want2[] = { "\"f\":\"1e3\"", "\"t\":\"x1\"", NULL };
	run(m, ops2, want2);
	lb_kn_model_free(m);
}

/* DataDefinition: any value, its range alone checked; a text default kept as written.
 * PROformajs: a takes 5, "x", true; b (range [1, 2, true]) refuses 3; e's default is "3". */
static void test_datadefinition(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"DataDefinition\",\"name\":\"a\"},{\"class\":\"DataDefinition\","
		"\"name\":\"b\",\"range\":[1,2,true]},{\"class\":\"DataDefinition\",\"name\":\"e\","
		"\"defaultValue\":\"3\"}",
		"{\"class\":\"Enquiry\",\"name\":\"q\",\"useDefaults\":true,\"sources\":[" SRC("a") ","
		SRC("b") "," SRC("e") "]}"));
	printed_has(m, "\"class\": \"DataDefinition\"");
	pf_refuses(m, "its class is DataDefinition");
	static const char *const ops[] = { "set p:q {\"a\":5}", "set p:q {\"a\":\"x\"}",
					   "set p:q {\"a\":true}", "!set p:q {\"b\":3}",
					   "set p:q {\"b\":true}", NULL };
	static const char *const want[] = { "\"a\":true", "\"b\":true", "\"e\":\"3\"", NULL };
	run(m, ops, want);
	lb_kn_model_free(m);
}

/* Names PROformajs's validation takes where LEBEN's rules want a data item or candidate: a
 * task's or candidate's name as a value (undefined), net_support() of a task's name (0 when
 * found from the caller), a source typed by a task's name (requested by its condition, no
 * answer taken). */
static void test_other_names(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"Integer\",\"name\":\"x\",\"range\":[1,2,3]},"
		"{\"class\":\"Boolean\",\"name\":\"u\",\"valueCondition\":\"a == undefined && !c\"},"
		"{\"class\":\"Integer\",\"name\":\"w\",\"valueCondition\":\"dd || x || 5\"}",
		"{\"class\":\"Enquiry\",\"name\":\"q\",\"sources\":[" SRC("x") ",{\"class\":\"Source\","
		"\"type\":\"a\",\"requestCondition\":\"!is_known('x')\"}]},"
		"{\"class\":\"Action\",\"name\":\"a\",\"waitCondition\":\"net_support('q') == 0\"},"
		"{\"class\":\"Decision\",\"name\":\"dd\",\"candidates\":[{\"class\":\"Candidate\","
		"\"name\":\"c\"}]}"));
	pf_refuses(m, "task or candidate name used as a value");
	static const char *const want[] = { "\"u\":true", "\"w\":5", "\"p:a\":\"in_progress\"",
					    "\"requested\":[\"p:q:a\"]", NULL };
	run(m, NULL, want);
	static const char *const ops[] = { "!set p:q {\"a\":1}", "set p:q {\"x\":2}", NULL };
	static const char *const want2[] = { "\"w\":2", "\"requested\":[]", NULL };
	run(m, ops, want2);
	lb_kn_model_free(m);
}

/* result_of() / result_set() of a task that is not a decision, or of no argument: JavaScript's
 * null. PROformajs: n0 null (one version), t1 "nullq", i1 0 (null >= 0, 1 + ~null), b2 true
 * (null == undefined, null !== undefined), f2 -4, n1 2 for x 2 (null + 2); m1 null then 5,
 * t2 "undefinedq" (an item storing null is not in the context) then "5q"; caption "a |1|0". */
static void test_result_null(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"Integer\",\"name\":\"x\",\"range\":[1,2,3]},"
		"{\"class\":\"DataDefinition\",\"name\":\"n0\",\"valueCondition\":\"result_of('a')\"},"
		"{\"class\":\"Text\",\"name\":\"t1\",\"valueCondition\":\"result_set('a') + 'q'\"},"
		"{\"class\":\"Integer\",\"name\":\"i1\",\"valueCondition\":"
		"\"result_of('a') >= 0 ? 1 + ~result_of('q') : 2\"},"
		"{\"class\":\"Boolean\",\"name\":\"b2\",\"valueCondition\":"
		"\"result_of() == undefined && result_set() !== undefined\"},"
		"{\"class\":\"Float\",\"name\":\"f2\",\"valueCondition\":"
		"\"abs(result_of('q')) + round(result_set('a')) * 2 - (result_of('a') | 4)\"},"
		"{\"class\":\"Float\",\"name\":\"n1\",\"valueCondition\":\"result_of('a') + x\"},"
		"{\"class\":\"Integer\",\"name\":\"m1\",\"valueCondition\":\"x == 3 ? 5 : result_of('a')\"},"
		"{\"class\":\"Text\",\"name\":\"t2\",\"valueCondition\":\"m1 + 'q'\"}",
		ENQ(SRC("x")) ",{\"class\":\"Action\",\"name\":\"a\",\"caption\":"
		"\"a ${result_of('a')}|${result_of('q') + 1}|${-result_of()}\"}"));
	pf_refuses(m, "result_of/result_set of a task that is not a decision");
	static const char *const want[] = { "\"n0\":null", "\"t1\":\"nullq\"", "\"i1\":0",
					    "\"b2\":true", "\"f2\":-4", "\"m1\":null",
					    "\"t2\":\"undefinedq\"", "a |1|0", NULL };
	run(m, NULL, want);
	static const char *const ops[] = { "set p:q {\"x\":2}", "set p:q {\"x\":3}", NULL };
	static const char *const want2[] = { "\"n1\":3", "\"m1\":5", "\"t2\":\"5q\"", "\"n0\":1",
					     "\"m1\":2", NULL };
	run(m, ops, want2);
	lb_kn_model_free(m);
}

/* The top-level task's name as a value: its state object in PROformajs's evaluator context.
 * PROformajs: t1 "[object Object]undefined" then "[object Object]2", b1 false, b2 true,
 * i1 4 (count() of it undefined), t2 "q2" (nth(), [1] undefined; p | 2 is 2), f1 2 (a numeric
 * item never stores the object), the caption "a [object Object] NaN [object Object]1";
 * includes(p, 'q') throws (x 3 refused). Stored as a Text item's value it is refused. */
static void test_root_state(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"Integer\",\"name\":\"x\",\"range\":[1,2,3]},"
		"{\"class\":\"Text\",\"name\":\"t1\",\"valueCondition\":\"p + x\"},"
		"{\"class\":\"Boolean\",\"name\":\"b1\",\"valueCondition\":\"!p || p == undefined || p == 0\"},"
		"{\"class\":\"Boolean\",\"name\":\"b2\",\"valueCondition\":"
		"\"p > 'q' || p < 'q' && p != 'x'\"},"
		"{\"class\":\"Integer\",\"name\":\"i1\",\"valueCondition\":"
		"\"p ? count(p) === undefined ? 4 : 5 : 6\"},"
		"{\"class\":\"Text\",\"name\":\"t2\",\"valueCondition\":"
		"\"nth(p, 0) === undefined && p[1] === undefined ? 'q' + (p | 2) : 'x'\"},"
		"{\"class\":\"Float\",\"name\":\"f1\",\"valueCondition\":\"x || p\"},"
		"{\"class\":\"Integer\",\"name\":\"i2\",\"valueCondition\":\"x == 3 ? includes(p, 'q') : 1\"}",
		ENQ(SRC("x")) ",{\"class\":\"Action\",\"name\":\"a\",\"caption\":"
		"\"a ${p || 1} ${-p} ${p + 1}\"}"));
	pf_refuses(m, "task or candidate name used as a value");
	static const char *const want[] = { "\"t1\":\"[object Object]undefined\"", "\"b1\":false",
					    "\"b2\":true", "\"i1\":4", "\"t2\":\"q2\"",
					    "a [object Object] NaN [object Object]1", NULL };
	run(m, NULL, want);
	static const char *const ops[] = { "set p:q {\"x\":2}", "!set p:q {\"x\":3}", NULL };
	static const char *const want2[] = { "\"t1\":\"[object Object]2\"", "\"f1\":2", NULL };
	run(m, ops, want2);
	lb_kn_model_free(m);
	load_refused(PLAN("{\"class\":\"Integer\",\"name\":\"x\"},"
			  "{\"class\":\"Text\",\"name\":\"v\",\"valueCondition\":\"x || p\"}",
			  ENQ("")),
		     "data item 'v' may store the top-level task's name 'p' as its value");
}

/* A data definition as the top level: PROformajs builds it and enacts nothing (no state, not
 * finished, every operation "unknown component"); a derived one fails at the start. */
static void test_top_data(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok("{\"class\":\"Integer\",\"name\":\"x\",\"range\":[1,2]}");
	printed_has(m, "\"class\": \"Integer\",\n  \"name\": \"x\"");
	pf_refuses(m, "the top level is the data definition 'x'");
	static const char *const ops[] = { "!set x {\"x\":1}", "!complete x", NULL };
	static const char *const want[] = { "\"finished\":false,\"tasks\":{}", NULL };
	run(m, ops, want);
	lb_kn_model_free(m);
	m = load_ok("{\"class\":\"DataDefinition\",\"name\":\"v\",\"valueCondition\":\"1 + 1\"}");
	struct lb_errmsg em = { 0 };
	struct kn_enact *e = NULL;
	assert_lb_ok(kn_enact_new(m, &e, &em));
	assert_int_not_equal(kn_enact_start(e, &em), LB_OK);
	assert_non_null(strstr(em.text, "Unable to getComponent"));
	kn_enact_free(e);
	lb_kn_model_free(m);
	/* (PROformajs validates it with no names: its own is unknown there) */
	load_refused("{\"class\":\"Integer\",\"name\":\"x\",\"valueCondition\":\"x + 1\"}", "'x'");
}

/* An item's stored list is one JavaScript array, which a derived item with valueCondition "m"
 * stores itself: it settles, is == to m, and stores a new version at every set of m, an equal
 * list included (a new array). PROformajs, after m [a, b], [c], [c]: v 3 versions, e true
 * (7 versions: false while v still holds the last array), m 3 versions. */
static void test_list_identity(void **state)
{
	(void)state;
	struct lb_kn_model *m = load_ok(PLAN(
		"{\"class\":\"Text\",\"name\":\"m\",\"multiValued\":true,\"range\":[\"a\",\"b\",\"c\"]},"
		"{\"class\":\"DataDefinition\",\"name\":\"v\",\"valueCondition\":\"m\"},"
		"{\"class\":\"Boolean\",\"name\":\"e\",\"valueCondition\":\"v == m && m === m\"}",
		ENQ(SRC("m"))));
	static const char *const ops[] = { "set p:q {\"m\":[\"a\",\"b\"]}", "set p:q {\"m\":[\"c\"]}",
					   "set p:q {\"m\":[\"c\"]}", NULL };
	static const char *const want[] = { "\"v\":[\"c\"]", "\"e\":true", "\"v\":3", "\"e\":7",
					    "\"m\":3", NULL };
	run(m, ops, want);
	lb_kn_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_lebens_keys_ignored),
		cmocka_unit_test(test_arity),
		cmocka_unit_test(test_text_numbers),
		cmocka_unit_test(test_datadefinition),
		cmocka_unit_test(test_other_names),
		cmocka_unit_test(test_top_data),
		cmocka_unit_test(test_result_null),
		cmocka_unit_test(test_root_state),
		cmocka_unit_test(test_list_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
