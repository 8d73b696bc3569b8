/* Unit tests for CP-ABE (Waters 2011 on BLS12-381): for each policy, every subset of its
 * attributes is tried and decrypts exactly when an evaluator written here says the subset
 * satisfies it, and so for 30 random policy trees (AND, OR, k of n, nested) with random keys;
 * two users whose attributes only jointly satisfy a policy cannot pool their
 * keys; altered ciphertexts (every region, a swapped policy, truncation) are refused; keys of
 * another authority are refused; policy syntax errors name the offset; encodings round-trip
 * and refuse damage. */
#include "test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "leben/abe.h"
#include "leben/base.h"
#include "leben/error.h"

static struct lb_abe_pk pk;
static struct lb_abe_msk msk;
static const uint8_t AUTH[32] = "institution:peking-union-------";
static const uint8_t ID[32] = "user-identity-key---------------";

static int setup(void **state)
{
	(void)state;
	lb_abe_setup(&pk, &msk, AUTH);
	return 0;
}

static struct lb_abe_key *key_for(const char **attrs, size_t n)
{
	struct lb_abe_key *k = NULL;
	struct lb_errmsg em = {0};
	if (lb_abe_keygen(&k, &pk, &msk, ID, attrs, n, &em) != LB_OK)
		fail_msg("keygen: %s", em.text);
	return k;
}

static uint8_t *enc(const char *policy, const char *msg, size_t *len)
{
	uint8_t *ct;
	struct lb_errmsg em = {0};
	if (lb_abe_encrypt(&ct, len, &pk, policy, (const uint8_t *)msg, strlen(msg), &em) != LB_OK)
		fail_msg("encrypt: %s", em.text);
	return ct;
}

static int dec(const struct lb_abe_key *k, const uint8_t *ct, size_t len, const char *want)
{
	uint8_t *pt = NULL;
	size_t n;
	struct lb_errmsg em = {0};
	int rc = lb_abe_decrypt(&pt, &n, &pk, k, ct, len, &em);
	if (rc == LB_OK) {
		assert_int_equal(n, strlen(want));
		assert_memory_equal(pt, want, n);
		lb_free(pt);
	}
	return rc;
}

/* every subset of names[0..n) as a key; decrypts iff sat(mask) */
static void exhaustive(const char *policy, const char **names, int n, int (*sat)(unsigned))
{
	size_t len;
	uint8_t *ct = enc(policy, "sealed to a policy", &len);
	int yes = 0, no = 0;
	for (unsigned m = 0; m < (1u << n); m++) {
		const char *attrs[16];
		size_t c = 0;
		for (int i = 0; i < n; i++)
			if (m & (1u << i))
				attrs[c++] = names[i];
		attrs[c++] = "unrelated:attribute";
		struct lb_abe_key *k = key_for(attrs, c);
		int rc = dec(k, ct, len, "sealed to a policy");
		if (sat(m)) {
			if (rc != LB_OK)
				fail_msg("%s: subset %#x should decrypt, got %s", policy, m, lb_strerror(rc));
			yes++;
		} else {
			if (rc != LB_EDENIED)
				fail_msg("%s: subset %#x should be denied, got %s", policy, m, lb_strerror(rc));
			no++;
		}
		lb_abe_key_free(k);
	}
	assert_true(yes > 0 && no > 0);
	lb_free(ct);
}

#define B(i) ((m >> (i)) & 1)
static int sat_issue(unsigned m) { return (B(0) && B(1)) || (B(2) && B(3)); }
static int sat_thresh(unsigned m) { return (B(0) + B(1) + B(2) >= 2) && B(3); }
static int sat_nested(unsigned m) { return B(0) + (B(1) && B(2)) + (B(3) + B(4) + B(5) >= 2) >= 2; }
static int sat_and5(unsigned m) { return m == 31; }
static int sat_or5(unsigned m) { return m != 0; }

static void test_every_combination(void **state)
{
	(void)state;
	const char *issue[] = {"cardiologist", "hospital:peking-union", "ethics-approved", "study:CHD-2027"};
	exhaustive("(cardiologist AND hospital:peking-union) OR (ethics-approved AND study:CHD-2027)",
		   issue, 4, sat_issue);
	const char *t[] = {"a", "b", "c", "d"};
	exhaustive("2 of (a, b, c) and d", t, 4, sat_thresh);
	const char *nested[] = {"a", "b", "c", "d", "e", "f"};
	exhaustive("2 of (a, b AND c, 2 of (d, e, f))", nested, 6, sat_nested);
	const char *five[] = {"p1", "p2", "p3", "p4", "p5"};
	exhaustive("p1 AND p2 AND p3 AND p4 AND p5", five, 5, sat_and5);
	exhaustive("p1 or p2 or p3 or p4 or p5", five, 5, sat_or5);
}

/* random policy trees over 8 attributes, written as text and evaluated here independently */
struct rnode {
	int k, n, attr;        /* k-of-n gate, or a leaf (n = 0) naming attribute attr */
	struct rnode *kid[4];  /* children */
};

static struct rnode *rtree(int depth, char *out, size_t cap)
{
	struct rnode *r = calloc(1, sizeof *r);
	if (depth == 0 || randombytes_uniform(3) == 0) {
		r->attr = (int)randombytes_uniform(8);
		snprintf(out + strlen(out), cap - strlen(out), "r%d", r->attr);
		return r;
	}
	r->n = 2 + (int)randombytes_uniform(3);
	int form = (int)randombytes_uniform(3); /* AND, OR, k of */
	r->k = form == 0 ? r->n : form == 1 ? 1 : 1 + (int)randombytes_uniform((uint32_t)r->n);
	if (form == 2)
		snprintf(out + strlen(out), cap - strlen(out), "%d of (", r->k);
	else
		strncat(out, "(", cap - strlen(out) - 1);
	for (int i = 0; i < r->n; i++) {
		if (i)
			strncat(out, form == 0 ? " AND " : form == 1 ? " OR " : ", ", cap - strlen(out) - 1);
		r->kid[i] = rtree(depth - 1, out, cap);
	}
	strncat(out, ")", cap - strlen(out) - 1);
	return r;
}

static int reval(const struct rnode *r, unsigned m)
{
	if (r->n == 0)
		return (m >> r->attr) & 1;
	int c = 0;
	for (int i = 0; i < r->n; i++)
		c += reval(r->kid[i], m);
	return c >= r->k;
}

static void rfree(struct rnode *r)
{
	for (int i = 0; i < r->n; i++)
		rfree(r->kid[i]);
	free(r);
}

static void test_random_policies(void **state)
{
	static const char *names[8] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"};
	int yes = 0, no = 0;
	(void)state;
	for (int t = 0; t < 30; t++) {
		char text[2048] = "";
		struct rnode *r = rtree(3, text, sizeof text);
		size_t len;
		uint8_t *ct = enc(text, "random policy", &len);
		for (int j = 0; j < 6; j++) {
			unsigned m = randombytes_uniform(256);
			const char *attrs[8];
			size_t c = 0;
			for (int i = 0; i < 8; i++)
				if (m & (1u << i))
					attrs[c++] = names[i];
			struct lb_abe_key *k = key_for(attrs, c);
			int rc = dec(k, ct, len, "random policy"), want = reval(r, m);
			if ((rc == LB_OK) != want || (!want && rc != LB_EDENIED))
				fail_msg("%s with attributes %#x: %s, expected %s", text, m, lb_strerror(rc),
					 want ? "decryption" : "denial");
			want ? yes++ : no++;
			lb_abe_key_free(k);
		}
		lb_free(ct);
		rfree(r);
	}
	assert_true(yes > 10 && no > 10);
}

static void test_collusion(void **state)
{
	(void)state;
	const char *a[] = {"cardiologist"}, *b[] = {"hospital:peking-union"};
	struct lb_abe_key *ka = key_for(a, 1), *kb = key_for(b, 1);
	size_t len, la, lbn;
	uint8_t *ct = enc("cardiologist AND hospital:peking-union", "joint", &len);
	assert_int_equal(dec(ka, ct, len, "joint"), LB_EDENIED);
	assert_int_equal(dec(kb, ct, len, "joint"), LB_EDENIED);
	/* pool them: user a's key with user b's attribute element appended (a well-formed key) */
	uint8_t *ea, *eb;
	assert_lb_ok(lb_abe_key_encode(&ea, &la, ka));
	assert_lb_ok(lb_abe_key_encode(&eb, &lbn, kb));
	size_t attr_b = lbn - (7 + 64 + 48 + 96 + 2);
	uint8_t *pooled = lb_malloc(la + attr_b);
	memcpy(pooled, ea, la);
	memcpy(pooled + la, eb + lbn - attr_b, attr_b);
	pooled[7 + 64 + 48 + 96 + 1] = 2; /* two attributes */
	struct lb_abe_key *kp = NULL;
	assert_lb_ok(lb_abe_key_decode(&kp, pooled, la + attr_b, NULL));
	assert_string_equal(lb_abe_key_attr(kp, 1), "hospital:peking-union");
	assert_int_equal(dec(kp, ct, len, "joint"), LB_ETAMPERED);
	/* and with b's K and L instead */
	memcpy(pooled + 7 + 64, eb + 7 + 64, 48 + 96);
	lb_abe_key_free(kp);
	assert_lb_ok(lb_abe_key_decode(&kp, pooled, la + attr_b, NULL));
	assert_int_equal(dec(kp, ct, len, "joint"), LB_ETAMPERED);
	/* a key issued with both decrypts */
	const char *both[] = {"cardiologist", "hospital:peking-union"};
	struct lb_abe_key *kboth = key_for(both, 2);
	assert_int_equal(dec(kboth, ct, len, "joint"), LB_OK);
	sodium_memzero(ea, la);
	sodium_memzero(eb, lbn);
	sodium_memzero(pooled, la + attr_b);
	lb_free(ea);
	lb_free(eb);
	lb_free(pooled);
	lb_free(ct);
	lb_abe_key_free(ka);
	lb_abe_key_free(kb);
	lb_abe_key_free(kp);
	lb_abe_key_free(kboth);
}

static void test_tamper(void **state)
{
	(void)state;
	const char *attrs[] = {"x", "y"};
	struct lb_abe_key *k = key_for(attrs, 2);
	size_t len;
	uint8_t *ct = enc("x AND y", "payload bytes", &len);
	assert_int_equal(dec(k, ct, len, "payload bytes"), LB_OK);
	/* a flipped bit anywhere is refused, never decrypted */
	for (size_t i = 0; i < len; i++) {
		ct[i] ^= 0x04;
		int rc = dec(k, ct, len, "payload bytes");
		if (rc != LB_EMALFORMED && rc != LB_ETAMPERED && rc != LB_EDENIED && rc != LB_EWRONGKEY)
			fail_msg("byte %zu flipped: got %s", i, lb_strerror(rc));
		ct[i] ^= 0x04;
	}
	/* truncation */
	for (size_t cut = 0; cut < len; cut += 7)
		assert_int_not_equal(dec(k, ct, cut, "payload bytes"), LB_OK);
	/* the policy replaced by a weaker one the key satisfies ("x OR y" for "x AND y") */
	const char *weak = "x OR y"; /* 6 bytes for 7 */
	size_t plen = 7, nlen = strlen(weak);
	uint8_t *w = lb_malloc(len);
	memcpy(w, ct, 38);
	w[38] = 0;
	w[39] = (uint8_t)nlen;
	memcpy(w + 40, weak, nlen);
	memcpy(w + 40 + nlen, ct + 40 + plen, len - 40 - plen);
	const char *only_x[] = {"x"};
	struct lb_abe_key *kx = key_for(only_x, 1);
	assert_int_equal(dec(kx, w, len - 1, "payload bytes"), LB_ETAMPERED);
	assert_int_equal(dec(k, w, len - 1, "payload bytes"), LB_ETAMPERED);
	char *pol = NULL;
	assert_lb_ok(lb_abe_ciphertext_policy(&pol, ct, len, NULL));
	assert_string_equal(pol, "x AND y");
	lb_free(pol);
	lb_free(w);
	lb_free(ct);
	lb_abe_key_free(k);
	lb_abe_key_free(kx);
}

static void test_authorities(void **state)
{
	(void)state;
	struct lb_abe_pk pk2;
	struct lb_abe_msk msk2;
	static const uint8_t other[32] = "institution:other-hospital-----";
	struct lb_abe_key *k2 = NULL;
	const char *attrs[] = {"cardiologist"};
	struct lb_errmsg em = {0};
	lb_abe_setup(&pk2, &msk2, other);
	assert_lb_ok(lb_abe_keygen(&k2, &pk2, &msk2, ID, attrs, 1, NULL));
	size_t len;
	uint8_t *ct = enc("cardiologist", "m", &len);
	uint8_t *pt;
	size_t n;
	/* another authority's key, under either authority's public parameters */
	assert_int_equal(lb_abe_decrypt(&pt, &n, &pk, k2, ct, len, &em), LB_EWRONGKEY);
	assert_int_equal(lb_abe_decrypt(&pt, &n, &pk2, k2, ct, len, &em), LB_EWRONGKEY);
	/* a master key that is not the public parameters' */
	struct lb_abe_key *bad = NULL;
	assert_int_equal(lb_abe_keygen(&bad, &pk, &msk2, ID, attrs, 1, &em), LB_EWRONGKEY);
	assert_non_null(strstr(em.text, "master key"));
	memcpy(msk2.authority, AUTH, 32);
	assert_int_equal(lb_abe_keygen(&bad, &pk, &msk2, ID, attrs, 1, &em), LB_EWRONGKEY);
	lb_abe_msk_wipe(&msk2);
	lb_free(ct);
	lb_abe_key_free(k2);
}

static void test_policy_syntax(void **state)
{
	(void)state;
	struct lb_errmsg em = {0};
	static const char *good[] = {"a", "a AND b", "a or b and c", "(a OR b) AND c", "3 of (a, b, c)",
				     "1 of (a)", "2 of (a AND b, c OR d, 3 of (e, f, g))",
				     "hospital:peking-union AND role=doctor@x.org/y"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (lb_abe_policy_check(good[i], &em) != LB_OK)
			fail_msg("%s: %s", good[i], em.text);
	static const char *bad[] = {"", "a AND", "(a", "a b", "AND a", "2 of (a)", "0 of (a, b)",
				    "2 of a, b", "a )", "a AND (b OR)", "2 of (a b)", "a # b"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = lb_abe_policy_check(bad[i], &em);
		if (rc != LB_ESYNTAX)
			fail_msg("\"%s\" gave %s", bad[i], lb_strerror(rc));
		assert_non_null(strstr(em.text, "at byte"));
	}
	char deep[200] = "", many[1500] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "(");
	strcat(deep, "a");
	for (int i = 0; i < 40; i++)
		strcat(deep, ")");
	assert_int_equal(lb_abe_policy_check(deep, &em), LB_ETOOBIG);
	for (int i = 0; i < 257; i++)
		strcat(many, i ? " or a" : "a");
	assert_int_equal(lb_abe_policy_check(many, &em), LB_ETOOBIG);
	/* keygen refusals */
	struct lb_abe_key *k = NULL;
	const char *dup[] = {"a", "a"}, *empty[] = {""}, *kw[] = {"and"}, *sp[] = {"a b"};
	assert_int_equal(lb_abe_keygen(&k, &pk, &msk, ID, dup, 2, &em), LB_EINVALID);
	assert_int_equal(lb_abe_keygen(&k, &pk, &msk, ID, empty, 1, &em), LB_EINVALID);
	assert_int_equal(lb_abe_keygen(&k, &pk, &msk, ID, kw, 1, &em), LB_EINVALID);
	assert_int_equal(lb_abe_keygen(&k, &pk, &msk, ID, sp, 1, &em), LB_EINVALID);
	assert_null(k);
	/* encryption refuses a bad policy */
	uint8_t *ct;
	size_t len;
	assert_int_equal(lb_abe_encrypt(&ct, &len, &pk, "a AND", (const uint8_t *)"m", 1, &em), LB_ESYNTAX);
}

static void test_encodings(void **state)
{
	(void)state;
	uint8_t pkb[LB_ABE_PK_BYTES], mskb[LB_ABE_MSK_BYTES];
	struct lb_abe_pk pk2;
	struct lb_abe_msk msk2;
	lb_abe_pk_encode(pkb, &pk);
	lb_abe_msk_encode(mskb, &msk);
	assert_lb_ok(lb_abe_pk_decode(&pk2, pkb, sizeof pkb, NULL));
	assert_lb_ok(lb_abe_msk_decode(&msk2, mskb, sizeof mskb, NULL));
	const char *attrs[] = {"doctor", "hospital:a"};
	struct lb_abe_key *k = NULL, *k2 = NULL;
	assert_lb_ok(lb_abe_keygen(&k, &pk2, &msk2, ID, attrs, 2, NULL));
	uint8_t *kb;
	size_t kl, len;
	assert_lb_ok(lb_abe_key_encode(&kb, &kl, k));
	assert_lb_ok(lb_abe_key_decode(&k2, kb, kl, NULL));
	uint8_t *ct = enc("doctor AND hospital:a", "round trip", &len);
	assert_int_equal(dec(k2, ct, len, "round trip"), LB_OK);
	/* damage */
	pkb[6 + 32] ^= 0x01;
	assert_int_equal(lb_abe_pk_decode(&pk2, pkb, sizeof pkb, NULL), LB_EMALFORMED);
	pkb[6 + 32] ^= 0x01;
	pkb[sizeof pkb - 1] ^= 0x01;
	assert_int_equal(lb_abe_pk_decode(&pk2, pkb, sizeof pkb, NULL), LB_EMALFORMED);
	memset(mskb + 7 + 32, 0xff, 32);
	assert_int_equal(lb_abe_msk_decode(&msk2, mskb, sizeof mskb, NULL), LB_EMALFORMED);
	struct lb_abe_key *k3 = NULL;
	assert_int_equal(lb_abe_key_decode(&k3, kb, kl - 1, NULL), LB_EMALFORMED);
	kb[kl - 1] ^= 0x01;
	assert_int_equal(lb_abe_key_decode(&k3, kb, kl, NULL), LB_EMALFORMED);
	assert_null(k3);
	sodium_memzero(kb, kl);
	lb_free(kb);
	lb_free(ct);
	lb_abe_key_free(k);
	lb_abe_key_free(k2);
	/* empty and large payloads */
	const char *one[] = {"doctor"};
	k = key_for(one, 1);
	size_t big = 1 << 20;
	uint8_t *m = lb_malloc(big), *pt;
	size_t n;
	randombytes_buf(m, big);
	assert_lb_ok(lb_abe_encrypt(&ct, &len, &pk, "doctor", m, big, NULL));
	assert_lb_ok(lb_abe_decrypt(&pt, &n, &pk, k, ct, len, NULL));
	assert_int_equal(n, big);
	assert_memory_equal(pt, m, big);
	lb_free(pt);
	lb_free(ct);
	assert_lb_ok(lb_abe_encrypt(&ct, &len, &pk, "doctor", m, 0, NULL));
	assert_lb_ok(lb_abe_decrypt(&pt, &n, &pk, k, ct, len, NULL));
	assert_int_equal(n, 0);
	lb_free(pt);
	lb_free(ct);
	lb_free(m);
	lb_abe_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_combination),
		cmocka_unit_test(test_random_policies),
		cmocka_unit_test(test_collusion),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_authorities),
		cmocka_unit_test(test_policy_syntax),
		cmocka_unit_test(test_encodings),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
