/* Unit tests for Shamir sharing: shares made by the npm package `shamir-secret-sharing`
 * (committed in tests/vectors/shamir/) combine to the right secret from every t-subset; our own
 * splits round-trip from every t-subset; parameter, duplicate-index, tamper, mismatch and
 * checksum errors. The live differential test (both directions) is
 * tests/integration/test_crypto_shamir. */
#include "test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/envelope.h"
#include "leben/shamir.h"

static void test_npm_vector(void **state)
{
	const char *root = getenv("LEBEN_ROOT");
	char path[1024], line[1024];
	uint8_t secret[64], shares[8][64], out[64];
	size_t slen = 0, shlen = 0, n = 0;
	unsigned t = 0;
	struct lb_errmsg em;

	snprintf(path, sizeof path, "%s/tests/vectors/shamir/npm-t3-n5.txt", root ? root : ".");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int row = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		if (row == 0) {
			slen = strlen(line) / 2;
			assert_lb_ok(lb_hex_decode(secret, slen, line));
		} else if (row == 1) {
			t = (unsigned)atoi(line);
		} else {
			shlen = strlen(line) / 2;
			assert_lb_ok(lb_hex_decode(shares[n++], shlen, line));
		}
		row++;
	}
	fclose(f);
	assert_int_equal(shlen, slen + 1);
	assert_int_equal(t, 3);
	/* every 3-subset and the full set recover the secret */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			for (size_t c = b + 1; c < n; c++) {
				const uint8_t *sel[3] = {shares[a], shares[b], shares[c]};
				assert_lb_ok(lb_shamir_combine_raw(sel, 3, shlen, out, &em));
				assert_memory_equal(out, secret, slen);
			}
	const uint8_t *all[5] = {shares[0], shares[1], shares[2], shares[3], shares[4]};
	assert_lb_ok(lb_shamir_combine_raw(all, 5, shlen, out, &em));
	assert_memory_equal(out, secret, slen);
	/* two shares (below threshold) give something else */
	assert_lb_ok(lb_shamir_combine_raw(all, 2, shlen, out, &em));
	assert_memory_not_equal(out, secret, slen);
}

static void test_raw_roundtrip(void **state)
{
	uint8_t secret[33], shares[10 * 34], out[33];
	struct lb_errmsg em;

	randombytes_buf(secret, sizeof secret);
	assert_lb_ok(lb_shamir_split_raw(secret, sizeof secret, 10, 4, shares, &em));
	for (int start = 0; start + 4 <= 10; start++) {
		const uint8_t *sel[4];
		for (int i = 0; i < 4; i++)
			sel[i] = shares + (size_t)(start + i) * 34;
		assert_lb_ok(lb_shamir_combine_raw(sel, 4, 34, out, &em));
		assert_memory_equal(out, secret, sizeof secret);
	}
	/* duplicate index */
	const uint8_t *dup[3] = {shares, shares + 34, shares};
	assert_int_equal(lb_shamir_combine_raw(dup, 3, 34, out, &em), LB_EDUPLICATE);
	/* bad parameters */
	assert_int_equal(lb_shamir_split_raw(secret, 33, 5, 1, shares, &em), LB_EINVALID);
	assert_int_equal(lb_shamir_split_raw(secret, 33, 3, 4, shares, &em), LB_EINVALID);
	assert_int_equal(lb_shamir_split_raw(secret, 33, 256, 3, shares, &em), LB_EINVALID);
	assert_int_equal(lb_shamir_split_raw(secret, 0, 3, 2, shares, &em), LB_EINVALID);
}

#define SL LB_SHAMIR_SHARE_BYTES(32)

static void test_authenticated(void **state)
{
	uint8_t secret[32], shares[5][SL], other[5][SL], out[LB_SHAMIR_MAX_SECRET];
	size_t len;
	struct lb_errmsg em;
	struct lb_shamir_info info;

	randombytes_buf(secret, sizeof secret);
	assert_lb_ok(lb_shamir_split(secret, 32, 5, 3, shares[0], &em));
	assert_lb_ok(lb_shamir_split(secret, 32, 5, 3, other[0], &em));
	assert_lb_ok(lb_shamir_share_info(shares[2], SL, &info, &em));
	assert_int_equal(info.t, 3);
	assert_int_equal(info.n, 5);
	assert_int_equal(info.secret_len, 32);

	const uint8_t *sel[5] = {shares[4], shares[1], shares[3], shares[0], shares[2]};
	assert_lb_ok(lb_shamir_combine(sel, 3, SL, out, &len, &em));
	assert_int_equal(len, 32);
	assert_memory_equal(out, secret, 32);
	assert_lb_ok(lb_shamir_combine(sel, 5, SL, out, &len, &em));
	assert_memory_equal(out, secret, 32);
	/* too few */
	assert_int_equal(lb_shamir_combine(sel, 2, SL, out, &len, &em), LB_EINVALID);
	/* duplicate */
	const uint8_t *dup[3] = {shares[0], shares[1], shares[0]};
	assert_int_equal(lb_shamir_combine(dup, 3, SL, out, &len, &em), LB_EDUPLICATE);
	/* share from another split of the same secret */
	const uint8_t *mix[3] = {shares[0], shares[1], other[2]};
	assert_int_equal(lb_shamir_combine(mix, 3, SL, out, &len, &em), LB_EINVALID);
	/* damaged share: the checksum names it */
	shares[1][70] ^= 1;
	assert_int_equal(lb_shamir_combine(sel, 3, SL, out, &len, &em), LB_ECHECKSUM);
	/* tampered y with the checksum recomputed: the commitment catches it */
	crypto_generichash(shares[1] + SL - 16, 16, shares[1], SL - 16, NULL, 0);
	memset(out, 0, sizeof out);
	assert_int_equal(lb_shamir_combine(sel, 3, SL, out, &len, &em), LB_ETAMPERED);
	assert_memory_not_equal(out, secret, 32); /* nothing released */
	/* tampered x coordinate, checksum recomputed */
	shares[1][70] ^= 1;
	/* a new x that is neither 0 nor another selected share's (those have their own errors) */
	for (uint8_t bit = 0x40;; bit = (uint8_t)(bit >> 1 ? bit >> 1 : 0x80)) {
		uint8_t x = (uint8_t)(shares[1][SL - 17] ^ bit);
		if (x && x != shares[4][SL - 17] && x != shares[3][SL - 17] &&
		    x != shares[0][SL - 17] && x != shares[2][SL - 17]) {
			shares[1][SL - 17] = x;
			break;
		}
	}
	crypto_generichash(shares[1] + SL - 16, 16, shares[1], SL - 16, NULL, 0);
	assert_int_equal(lb_shamir_combine(sel, 3, SL, out, &len, &em), LB_ETAMPERED);
	/* truncated and foreign input */
	assert_int_equal(lb_shamir_share_info(shares[0], SL - 1, &info, &em), LB_ETRUNCATED);
	assert_int_equal(lb_shamir_share_info((const uint8_t *)"hello, world, this is no share at "
							       "all, nope, not at all",
					      60, &info, &em),
			 LB_EMALFORMED);
}


/* Guardian record: built from real shares, canonical round trip, non-canonical forms refused. */
static void test_guardian_record(void **state)
{
	uint8_t secret[32], shares[4][SL], g[4][32], acct[32], buf[LB_GUARDIAN_RECORD_MAXBYTES];
	struct lb_guardian_record r, back;
	struct lb_errmsg em;
	size_t len;

	randombytes_buf(secret, 32);
	randombytes_buf(g, sizeof g);
	randombytes_buf(acct, 32);
	assert_lb_ok(lb_shamir_split(secret, 32, 4, 3, shares[0], &em));
	const uint8_t *sp[4] = {shares[0], shares[1], shares[2], shares[3]};
	assert_lb_ok(lb_guardian_record_from_shares(&r, acct, sp, SL, (const uint8_t(*)[32])g, 4, &em));
	assert_int_equal(r.t, 3);
	assert_int_equal(r.n, 4);
	/* each guardian is recorded with the x of the share it got */
	for (int i = 0; i < 4; i++) {
		struct lb_shamir_info info;
		assert_lb_ok(lb_shamir_share_info(shares[i], SL, &info, &em));
		int found = 0;
		for (unsigned k = 0; k < r.n; k++)
			found |= r.g[k].x == info.x && memcmp(r.g[k].guardian, g[i], 32) == 0;
		assert_true(found);
	}
	assert_lb_ok(lb_guardian_record_encode(&r, buf, &len, &em));
	assert_int_equal(len, 83 + 4 * 33);
	assert_lb_ok(lb_guardian_record_decode(&back, buf, len, &em));
	assert_memory_equal(back.g, r.g, sizeof r.g[0] * 4);
	assert_int_equal(lb_guardian_record_decode(&back, buf, len + 1, &em), LB_EMALFORMED);
	/* swap two entries: x no longer ascending */
	uint8_t tmp[33];
	memcpy(tmp, buf + 83, 33);
	memcpy(buf + 83, buf + 83 + 33, 33);
	memcpy(buf + 83 + 33, tmp, 33);
	assert_int_equal(lb_guardian_record_decode(&back, buf, len, &em), LB_EMALFORMED);
	r.t = 5;
	assert_int_equal(lb_guardian_record_encode(&r, buf, &len, &em), LB_EINVALID);
	r.t = 3;
	memcpy(r.g[1].guardian, r.g[0].guardian, 32);
	assert_int_equal(lb_guardian_record_check(&r, &em), LB_EDUPLICATE);
}


/* Guardian flow: split a key to 3 guardians' Ed25519 identities, each opens its envelope with
 * its converted identity key, any 2 recover; a share of another split is refused. */
static void test_guardian_flow(void **state)
{
	uint8_t key[32], acct[32], seeds[3][32], edpk[3][32], edsk[64];
	uint8_t *env[3], *sh[3], out[LB_SHAMIR_MAX_SECRET];
	size_t envlen[3], shlen[3], len;
	struct lb_guardian_record rec, rec2;
	struct lb_errmsg em;

	randombytes_buf(key, 32);
	randombytes_buf(acct, 32);
	for (int i = 0; i < 3; i++) {
		randombytes_buf(seeds[i], 32);
		crypto_sign_seed_keypair(edpk[i], edsk, seeds[i]);
	}
	assert_lb_ok(lb_guardian_split(acct, key, 32, 2, (const uint8_t(*)[32])edpk, 3, env, envlen,
				       &rec, &em));
	for (int i = 0; i < 3; i++) {
		uint8_t xpk[32], xsk[32];
		assert_lb_ok(lb_envelope_keypair_from_ed25519_seed(xpk, xsk, seeds[i]));
		assert_lb_ok(lb_envelope_open(xsk, xpk, env[i], envlen[i], 4096, &sh[i], &shlen[i], &em));
		assert_int_equal(shlen[i], SL);
		/* another guardian cannot open it */
		uint8_t *o;
		size_t ol;
		assert_lb_ok(lb_envelope_keypair_from_ed25519_seed(xpk, xsk, seeds[(i + 1) % 3]));
		assert_int_equal(lb_envelope_open(xsk, xpk, env[i], envlen[i], 4096, &o, &ol, &em),
				 LB_EWRONGKEY);
	}
	const uint8_t *two[2] = {sh[2], sh[0]};
	assert_lb_ok(lb_guardian_recover(&rec, two, 2, SL, out, &len, &em));
	assert_int_equal(len, 32);
	assert_memory_equal(out, key, 32);
	/* a second split of the same key: its shares do not match the first record */
	uint8_t *env2[3];
	size_t envlen2[3];
	assert_lb_ok(lb_guardian_split(acct, key, 32, 2, (const uint8_t(*)[32])edpk, 3, env2, envlen2,
				       &rec2, &em));
	assert_int_equal(lb_guardian_recover(&rec2, two, 2, SL, out, &len, &em), LB_EINVALID);
	for (int i = 0; i < 3; i++) {
		lb_free(env[i]);
		lb_free(env2[i]);
		lb_free(sh[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_npm_vector),
		cmocka_unit_test(test_raw_roundtrip),
		cmocka_unit_test(test_authenticated),
		cmocka_unit_test(test_guardian_record),
		cmocka_unit_test(test_guardian_flow),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
