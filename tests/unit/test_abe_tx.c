/* Unit tests for the CP-ABE chain payloads and attribute epochs (abe_tx.h): policies given
 * their current epochs and stripped again, refusal of names that carry an epoch or a keyword,
 * of bad policies with the byte offset, and of malformed abe.issue / abe.revoke / abe.seal
 * payloads; canonical round trips. The chain rules themselves run on a real node in
 * integration/test_abe_private. */
#include "test.h"

#include <string.h>

#include "leben/abe_tx.h"
#include "leben/base.h"

static void test_epochs(void **state)
{
	(void)state;
	struct lb_errmsg em;
	char *v = NULL, *p = NULL;
	json_t *auth = json_pack("{s:{s:i}}", "epochs", "cardiologist", 3);
	lb_errclear(&em);
	assert_int_equal(lb_abe_tx_versioned_policy(&v, "(cardiologist AND ward:4) OR 2 of (a, b)",
						    auth, &em),
			 LB_OK);
	assert_string_equal(v, "(cardiologist@v3 AND ward:4@v1) OR 2 of (a@v1, b@v1)");
	assert_int_equal(lb_abe_policy_check(v, NULL), LB_OK);
	assert_int_equal(lb_abe_tx_plain_policy(&p, v, &em), LB_OK);
	assert_string_equal(p, "(cardiologist AND ward:4) OR 2 of (a, b)");
	lb_free(v);
	lb_free(p);
	v = NULL;
	/* a name that already carries an epoch, a bad policy: refused with the offset */
	lb_errclear(&em);
	assert_int_equal(lb_abe_tx_versioned_policy(&v, "a OR b@v2", auth, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "at byte 5"));
	lb_errclear(&em);
	assert_int_equal(lb_abe_tx_versioned_policy(&v, "a AND (b OR", auth, &em), LB_ESYNTAX);
	assert_non_null(strstr(em.text, "at byte 11"));
	assert_null(v);
	lb_errclear(&em);
	assert_int_equal(lb_abe_tx_plain_policy(&p, "a@v1 AND b", &em), LB_EINVALID);
	json_decref(auth);
}

static void test_names(void **state)
{
	(void)state;
	char base[LB_ABE_BASE_MAX + 1];
	uint64_t ep = 0;
	assert_int_equal(lb_abe_attr_split("ward:4@v12", base, &ep), LB_OK);
	assert_string_equal(base, "ward:4");
	assert_int_equal(ep, 12);
	assert_int_equal(lb_abe_attr_split("user@vienna", base, &ep), LB_EINVALID);
	assert_int_equal(lb_abe_attr_split("a@v0", base, &ep), LB_EINVALID);
	assert_int_equal(lb_abe_attr_split("@v3", base, &ep), LB_EINVALID);
	assert_int_equal(lb_abe_base_check("user@vienna", NULL), LB_OK);
	assert_int_equal(lb_abe_base_check("a@v2", NULL), LB_EINVALID);
	assert_int_equal(lb_abe_base_check("OR", NULL), LB_EINVALID);
	assert_int_equal(lb_abe_base_check("a b", NULL), LB_EINVALID);
	assert_int_equal(lb_abe_base_check("", NULL), LB_EINVALID);
	char longname[LB_ABE_BASE_MAX + 2];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(lb_abe_base_check(longname, NULL), LB_EINVALID);
}

static void test_payloads(void **state)
{
	(void)state;
	static struct lb_abe_issue_tx t, back;
	struct lb_abe_revoke_tx r = {0}, rb;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	memset(t.user, 7, 32);
	memset(t.key_hash, 9, 32);
	t.n = 2;
	strcpy(t.attrs[0], "cardiologist@v1");
	strcpy(t.attrs[1], "ward:4@v2");
	assert_int_equal(lb_abe_issue_tx_encode(&t, &b), LB_OK);
	assert_int_equal(lb_abe_issue_tx_decode(b.data, b.len, &back, NULL), LB_OK);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.attrs[1], "ward:4@v2");
	/* a repeated attribute, one without epoch, none at all, trailing bytes: refused */
	strcpy(t.attrs[1], "cardiologist@v1");
	lb_buf_reset(&b);
	lb_abe_issue_tx_encode(&t, &b);
	assert_int_equal(lb_abe_issue_tx_decode(b.data, b.len, &back, NULL), LB_EINVALID);
	strcpy(t.attrs[1], "ward:4");
	lb_buf_reset(&b);
	lb_abe_issue_tx_encode(&t, &b);
	assert_int_equal(lb_abe_issue_tx_decode(b.data, b.len, &back, NULL), LB_EINVALID);
	t.n = 0;
	lb_buf_reset(&b);
	lb_abe_issue_tx_encode(&t, &b);
	assert_int_equal(lb_abe_issue_tx_decode(b.data, b.len, &back, NULL), LB_EINVALID);
	strcpy(r.attr, "cardiologist");
	lb_buf_reset(&b);
	assert_int_equal(lb_abe_revoke_tx_encode(&r, &b), LB_OK);
	assert_int_equal(lb_abe_revoke_tx_decode(b.data, b.len, &rb, NULL), LB_OK);
	lb_buf_add(&b, "x", 1);
	assert_int_not_equal(lb_abe_revoke_tx_decode(b.data, b.len, &rb, NULL), LB_OK);
	strcpy(r.attr, "cardiologist@v2");
	lb_buf_reset(&b);
	lb_abe_revoke_tx_encode(&r, &b);
	assert_int_equal(lb_abe_revoke_tx_decode(b.data, b.len, &rb, NULL), LB_EINVALID);
	/* a seal whose ciphertext is not one */
	struct lb_abe_seal_tx s = {.version = 1, .ct = (const uint8_t *)"LBABE1xx", .ct_len = 8}, sb;
	lb_buf_reset(&b);
	lb_abe_seal_tx_encode(&s, &b);
	assert_int_not_equal(lb_abe_seal_tx_decode(b.data, b.len, &sb, NULL), LB_OK);
	/* a real ciphertext: accepted, version 0 refused */
	struct lb_abe_pk pk;
	struct lb_abe_msk msk;
	uint8_t auth[32] = {1}, *ct = NULL;
	size_t ctlen = 0;
	lb_abe_setup(&pk, &msk, auth);
	lb_abe_msk_wipe(&msk);
	assert_int_equal(lb_abe_encrypt(&ct, &ctlen, &pk, "a@v1 OR b@v1", (const uint8_t *)"m", 1,
					NULL),
			 LB_OK);
	s.ct = ct;
	s.ct_len = ctlen;
	lb_buf_reset(&b);
	lb_abe_seal_tx_encode(&s, &b);
	assert_int_equal(lb_abe_seal_tx_decode(b.data, b.len, &sb, NULL), LB_OK);
	assert_int_equal(sb.ct_len, ctlen);
	s.version = 0;
	lb_buf_reset(&b);
	lb_abe_seal_tx_encode(&s, &b);
	assert_int_equal(lb_abe_seal_tx_decode(b.data, b.len, &sb, NULL), LB_EINVALID);
	lb_free(ct);
	lb_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
