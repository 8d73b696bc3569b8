/*
 * LEBEN's side of the BLS12-381 differential test (tests/integration/test_crypto_bls12_381):
 * reads the cases printed by tests/oracles/bls12_381.mjs (@noble/curves) on stdin, recomputes
 * each with src/crypto/bls12_381*.c and prints one TAP line per kind of case ("ok N - g1mul:
 * 300 cases agree"), with the first disagreements as diagnostics. Exit status 1 on any
 * disagreement or unreadable case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/bls12_381.h"
#include "leben/error.h"

#define KINDS 13
static const char *kind_names[KINDS] = {"g1mul", "g2mul", "g1add", "g2add", "g1smul", "g2smul",
					 "pair", "h2g1", "h2g2", "dec1", "dec2", "dec1-noble",
					 "dec2-noble"};
static int total[KINDS], bad[KINDS];

static int hexbytes(uint8_t *out, size_t cap, const char *h, size_t *len)
{
	size_t n = strlen(h);
	if (strcmp(h, "-") == 0) {
		*len = 0;
		return 1;
	}
	if (n % 2 || n / 2 > cap)
		return 0;
	*len = n / 2;
	return lb_hex_decode(out, n / 2, h) == LB_OK;
}

static void tohex(char *out, const uint8_t *b, size_t n) { lb_hex_encode(out, b, n); }

/* one case; returns 1 when LEBEN agrees, 0 when not, -1 when unreadable */
static int run_case(int k, char **f, int nf, char *why, size_t whylen)
{
	uint8_t a[1024], b[1024], c[1024];
	char got[2048];
	size_t la, lb_, lc;
	struct lb_bls_g1 p1, q1;
	struct lb_bls_g2 p2, q2;
	struct lb_bls_scalar s;
	struct lb_bls_gt gt;
	switch (k) {
	case 0: case 1: /* gNmul k P */
		if (nf != 3 || !hexbytes(a, 32, f[1], &la) || la != 32 || lb_bls_scalar_from_bytes(&s, a))
			return -1;
		if (k == 0) {
			lb_bls_g1_generator(&p1);
			lb_bls_g1_mul(&p1, &p1, &s);
			lb_bls_g1_compress(c, &p1);
			lc = 48;
		} else {
			lb_bls_g2_generator(&p2);
			lb_bls_g2_mul(&p2, &p2, &s);
			lb_bls_g2_compress(c, &p2);
			lc = 96;
		}
		tohex(got, c, lc);
		snprintf(why, whylen, "k=%s: LEBEN %s", f[1], got);
		return strcmp(got, f[2]) == 0;
	case 2: case 3: case 4: case 5: { /* gNadd A B S, gNsmul A k P */
		int g2 = k == 3 || k == 5, smul = k >= 4;
		size_t plen = g2 ? 96 : 48;
		if (nf != 4 || !hexbytes(a, plen, f[1], &la) || la != plen || !hexbytes(b, plen, f[2], &lb_))
			return -1;
		if (g2 ? lb_bls_g2_decompress(&p2, a) : lb_bls_g1_decompress(&p1, a)) {
			snprintf(why, whylen, "LEBEN refuses the oracle's point %s", f[1]);
			return 0;
		}
		if (smul) {
			if (lb_bls_scalar_from_bytes(&s, b))
				return -1;
			if (g2)
				lb_bls_g2_mul(&p2, &p2, &s);
			else
				lb_bls_g1_mul(&p1, &p1, &s);
		} else {
			if (lb_ != plen || (g2 ? lb_bls_g2_decompress(&q2, b) : lb_bls_g1_decompress(&q1, b))) {
				snprintf(why, whylen, "LEBEN refuses the oracle's point %s", f[2]);
				return 0;
			}
			if (g2)
				lb_bls_g2_add(&p2, &p2, &q2);
			else
				lb_bls_g1_add(&p1, &p1, &q1);
		}
		if (g2)
			lb_bls_g2_compress(c, &p2);
		else
			lb_bls_g1_compress(c, &p1);
		tohex(got, c, plen);
		snprintf(why, whylen, "%s %s: LEBEN %s, noble %s", f[1], f[2], got, f[3]);
		return strcmp(got, f[3]) == 0;
	}
	case 6: { /* pair A B F */
		uint8_t out[LB_BLS_GT_BYTES];
		char gh[2 * LB_BLS_GT_BYTES + 1];
		if (nf != 4 || !hexbytes(a, 48, f[1], &la) || la != 48 || !hexbytes(b, 96, f[2], &lb_) || lb_ != 96)
			return -1;
		if (lb_bls_g1_decompress(&p1, a) || lb_bls_g2_decompress(&p2, b)) {
			snprintf(why, whylen, "LEBEN refuses the oracle's points %s %s", f[1], f[2]);
			return 0;
		}
		lb_bls_pairing(&gt, &p1, &p2);
		lb_bls_gt_to_bytes(out, &gt);
		tohex(gh, out, sizeof out);
		snprintf(why, whylen, "e(%s, %s) differs", f[1], f[2]);
		return strcmp(gh, f[3]) == 0;
	}
	case 7: case 8: { /* h2gN msg dst P */
		if (nf != 4 || !hexbytes(a, sizeof a, f[1], &la) || !hexbytes(b, sizeof b, f[2], &lb_))
			return -1;
		if (k == 7) {
			if (lb_bls_g1_hash(&p1, a, la, b, lb_))
				return 0;
			lb_bls_g1_compress(c, &p1);
			lc = 48;
		} else {
			if (lb_bls_g2_hash(&p2, a, la, b, lb_))
				return 0;
			lb_bls_g2_compress(c, &p2);
			lc = 96;
		}
		tohex(got, c, lc);
		snprintf(why, whylen, "msg=%s dst=%s: LEBEN %s, noble %s", f[1], f[2], got, f[3]);
		return strcmp(got, f[3]) == 0;
	}
	case 9: case 10: { /* decN enc noble strict canon */
		size_t plen = k == 10 ? 96 : 48;
		int rc;
		if (nf != 5 || !hexbytes(a, plen, f[1], &la) || la != plen)
			return -1;
		rc = k == 10 ? lb_bls_g2_decompress(&p2, a) : lb_bls_g1_decompress(&p1, a);
		const char *ours = rc == LB_OK ? "ok" : "bad";
		if (strcmp(ours, f[3]) != 0) {
			snprintf(why, whylen, "%s: LEBEN %s (%s), zkcrypto format %s, noble %s", f[1], ours,
				 lb_strerror(rc), f[3], f[2]);
			return 0;
		}
		if (rc == LB_OK) {
			if (k == 10)
				lb_bls_g2_compress(c, &p2);
			else
				lb_bls_g1_compress(c, &p1);
			tohex(got, c, plen);
			snprintf(why, whylen, "%s: LEBEN decodes to %s, noble to %s", f[1], got, f[4]);
			return strcmp(got, f[4]) == 0;
		}
		return 1;
	}
	default:
		return -1;
	}
}

int main(void)
{
	char line[8192], why[4096];
	int unreadable = 0, shown = 0, n = 0, fails = 0;
	while (fgets(line, sizeof line, stdin)) {
		char *f[8], *save = NULL, *t;
		int nf = 0, k;
		line[strcspn(line, "\n")] = 0;
		for (t = strtok_r(line, " ", &save); t && nf < 8; t = strtok_r(NULL, " ", &save))
			f[nf++] = t;
		if (nf == 0)
			continue;
		for (k = 0; k < 11; k++)
			if (strcmp(f[0], kind_names[k]) == 0)
				break;
		int r = k < 11 ? run_case(k, f, nf, why, sizeof why) : -1;
		if (r < 0) {
			unreadable++;
			continue;
		}
		total[k]++;
		if (!r) {
			bad[k]++;
			if (shown++ < 10)
				printf("# %s %s\n", kind_names[k], why);
		}
		/* the noble-accepted encodings among the decoding cases, counted apart */
		if ((k == 9 || k == 10) && nf == 5 && strcmp(f[2], "ok") == 0)
			total[k + 2]++;
	}
	for (int k = 0; k < 11; k++) {
		n++;
		if (total[k] == 0 || bad[k]) {
			printf("not ok %d - %s: %d of %d cases disagree\n", n, kind_names[k], bad[k], total[k]);
			fails = 1;
		} else {
			printf("ok %d - %s: %d cases agree with @noble/curves%s\n", n, kind_names[k], total[k],
			       k >= 9 ? " (invalid encodings refused)" : "");
		}
	}
	printf("# decoding cases noble accepted: G1 %d, G2 %d\n", total[11], total[12]);
	n++;
	printf("%s %d - every case readable (%d unreadable)\n", unreadable ? "not ok" : "ok", n, unreadable);
	printf("1..%d\n", n);
	return fails || unreadable;
}
