/*
 * make bench-abe (with scripts/bench-abe.sh): timings of LEBEN's BLS12-381 (src/crypto/
 * bls12_381*.c) as "leben <operation> <microseconds>" lines: one pairing, a BLS-signature-style
 * check (hash to G2 + a product of two pairings), scalar multiplication in G1, G2 and GT,
 * hash-to-curve, point decoding with its subgroup check. The script puts them next to mcl-wasm
 * and @chainsafe/blst (tests/oracles/bls12_381_bench.mjs). Then CP-ABE (abe.h): key generation,
 * encryption and decryption for policies of 5, 20 and 50 attributes, as
 * "leben abe-<op>-<n> <microseconds>" (AND of all: decryption uses every attribute; OR of all:
 * it uses one; "n/2 of n": half).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "leben/abe.h"
#include "leben/base.h"
#include "leben/bls12_381.h"

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* mean microseconds of CPU time per call of the block, run for at least min_ms of CPU time
 * (CPU time, not wall time: other programs on a shared machine then weigh less) */
#define TIME_US(out, min_ms, block)                                                        \
	do {                                                                               \
		uint64_t t0_ = cpu_ns(), n_ = 0, t_;                                       \
		do {                                                                       \
			block;                                                             \
			n_++;                                                              \
			t_ = cpu_ns() - t0_;                                               \
		} while (t_ < (uint64_t)(min_ms) * 1000000ULL);                            \
		(out) = (double)t_ / 1e3 / (double)n_;                                     \
	} while (0)

int main(void)
{
	struct lb_bls_g1 g, p, ps[2];
	struct lb_bls_g2 h, q, qs[2];
	struct lb_bls_gt e;
	struct lb_bls_scalar k;
	uint8_t msg[32], enc1[48], enc2[96];
	const uint8_t *dst = (const uint8_t *)"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
	double us;
	memset(msg, 7, sizeof msg);
	lb_bls_g1_generator(&g);
	lb_bls_g2_generator(&h);
	lb_bls_scalar_random(&k);
	lb_bls_g1_mul(&p, &g, &k);
	lb_bls_g2_mul(&q, &h, &k);
	TIME_US(us, 1500, lb_bls_pairing(&e, &p, &q));
	printf("leben pairing %.1f\n", us);
	TIME_US(us, 1500, {
		lb_bls_g2_hash(&qs[0], msg, sizeof msg, dst, strlen((const char *)dst));
		ps[0] = p;
		lb_bls_g1_neg(&ps[1], &g);
		qs[1] = q;
		lb_bls_pairing_product(&e, ps, qs, 2);
	});
	printf("leben verify %.1f\n", us);
	TIME_US(us, 800, lb_bls_g1_mul(&p, &p, &k));
	printf("leben g1-mul %.1f\n", us);
	TIME_US(us, 800, lb_bls_g2_mul(&q, &q, &k));
	printf("leben g2-mul %.1f\n", us);
	lb_bls_pairing(&e, &g, &h);
	TIME_US(us, 800, lb_bls_gt_pow(&e, &e, &k));
	printf("leben gt-pow %.1f\n", us);
	TIME_US(us, 800, lb_bls_g1_hash(&p, msg, sizeof msg, dst, 10));
	printf("leben hash-g1 %.1f\n", us);
	TIME_US(us, 800, lb_bls_g2_hash(&q, msg, sizeof msg, dst, 10));
	printf("leben hash-g2 %.1f\n", us);
	lb_bls_g1_compress(enc1, &p);
	lb_bls_g2_compress(enc2, &q);
	TIME_US(us, 800, (void)lb_bls_g1_decompress(&p, enc1));
	printf("leben decode-g1 %.1f\n", us);
	TIME_US(us, 800, (void)lb_bls_g2_decompress(&q, enc2));
	printf("leben decode-g2 %.1f\n", us);

	/* CP-ABE */
	struct lb_abe_pk pk;
	struct lb_abe_msk msk;
	uint8_t auth[LB_ABE_AUTHORITY_LEN] = "bench authority", id[LB_ABE_IDENTITY_LEN] = {0};
	static const int sizes[3] = {5, 20, 50};
	lb_abe_setup(&pk, &msk, auth);
	for (int si = 0; si < 3; si++) {
		int n = sizes[si];
		char names[50][16], pol_and[1200] = "", pol_or[1200] = "", pol_th[1200];
		const char *attrs[50];
		struct lb_abe_key *key = NULL;
		for (int i = 0; i < n; i++) {
			snprintf(names[i], sizeof names[i], "attr%02d", i);
			attrs[i] = names[i];
			strcat(pol_and, i ? " AND " : "");
			strcat(pol_and, names[i]);
			strcat(pol_or, i ? " OR " : "");
			strcat(pol_or, names[i]);
		}
		snprintf(pol_th, sizeof pol_th, "%d of (", n / 2);
		for (int i = 0; i < n; i++) {
			strcat(pol_th, i ? ", " : "");
			strcat(pol_th, names[i]);
		}
		strcat(pol_th, ")");
		TIME_US(us, 1000, {
			lb_abe_key_free(key);
			key = NULL;
			if (lb_abe_keygen(&key, &pk, &msk, id, attrs, (size_t)n, NULL) != 0)
				return 1;
		});
		printf("leben abe-keygen-%d %.1f\n", n, us);
		const char *pols[3] = {pol_and, pol_th, pol_or}, *pname[3] = {"and", "half", "or"};
		for (int pi = 0; pi < 3; pi++) {
			uint8_t *ct = NULL, *pt = NULL;
			size_t ctl = 0, ptl;
			TIME_US(us, 1000, {
				lb_free(ct);
				if (lb_abe_encrypt(&ct, &ctl, &pk, pols[pi], msg, sizeof msg, NULL) != 0)
					return 1;
			});
			printf("leben abe-encrypt-%d-%s %.1f\n", n, pname[pi], us);
			TIME_US(us, 1000, {
				if (lb_abe_decrypt(&pt, &ptl, &pk, key, ct, ctl, NULL) != 0)
					return 1;
				lb_free(pt);
			});
			printf("leben abe-decrypt-%d-%s %.1f\n", n, pname[pi], us);
			lb_free(ct);
		}
		lb_abe_key_free(key);
	}
	lb_abe_msk_wipe(&msk);
	return 0;
}
