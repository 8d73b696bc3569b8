/*
 * `make bench-crypto`: throughput of the security toolkit on this machine, in one run:
 * envelope seal/open, Shamir split/combine, ZK prove/verify, KES next to plain Ed25519,
 * Paillier-2048, and secure aggregation of 10,000-element vectors among 3 and 10 owners.
 * Each figure comes from repeating the operation for about half a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/envelope.h"
#include "leben/kes.h"
#include "leben/paillier.h"
#include "leben/secagg.h"
#include "leben/shamir.h"
#include "leben/zkp.h"

#define BUDGET_NS 500000000ull

static double secs(uint64_t t0)
{
	return (double)(lb_mono_ns() - t0) / 1e9;
}

/* run op until the budget is spent; returns operations per second */
#define RATE(label, unit, setup, op)                                                       \
	do {                                                                               \
		setup;                                                                     \
		uint64_t t0_ = lb_mono_ns();                                               \
		unsigned long n_ = 0;                                                      \
		while (lb_mono_ns() - t0_ < BUDGET_NS) {                                   \
			op;                                                                \
			n_++;                                                              \
		}                                                                          \
		printf("  %-34s %12.0f %s\n", label, n_ / secs(t0_), unit);                 \
	} while (0)

static void bench_envelope(void)
{
	size_t len = 32u << 20;
	uint8_t pk[1][32], sk[32], *msg = lb_malloc(len), *env, *out;
	size_t envlen, outlen;
	struct lb_errmsg em;
	lb_envelope_keypair(pk[0], sk);
	randombytes_buf(msg, len);
	uint64_t t0 = lb_mono_ns();
	lb_envelope_seal((const uint8_t(*)[32])pk, 1, msg, len, &env, &envlen, &em);
	double ts = secs(t0);
	t0 = lb_mono_ns();
	lb_envelope_open(sk, pk[0], env, envlen, len, &out, &outlen, &em);
	double to = secs(t0);
	printf("envelope (32 MiB in memory, 1 recipient)\n");
	printf("  %-34s %12.0f MB/s\n", "seal", len / ts / 1e6);
	printf("  %-34s %12.0f MB/s\n", "open", len / to / 1e6);
	lb_free(msg);
	lb_free(env);
	lb_free(out);
}

static void bench_shamir(void)
{
	uint8_t secret[32], shares[5][LB_SHAMIR_SHARE_BYTES(32)], out[LB_SHAMIR_MAX_SECRET];
	size_t len;
	struct lb_errmsg em;
	const uint8_t *sel[3] = {shares[0], shares[2], shares[4]};
	randombytes_buf(secret, sizeof secret);
	printf("shamir (32-byte key, 3 of 5, authenticated shares)\n");
	RATE("split", "/s", (void)0, lb_shamir_split(secret, 32, 5, 3, shares[0], &em));
	RATE("combine", "/s", (void)0, lb_shamir_combine(sel, 3, sizeof shares[0], out, &len, &em));
}

static void bench_zk(void)
{
	uint8_t x[32], X[32], proof[64], wide[64];
	uint8_t acct[32] = {1};
	struct lb_zk_context ctx = {acct, 32, "business", "keys.reset", 1, NULL, 0};
	randombytes_buf(wide, sizeof wide);
	crypto_core_ristretto255_scalar_reduce(x, wide);
	lb_zk_public(X, x);
	lb_zk_prove(proof, x, &ctx);
	printf("zero-knowledge proof (Schnorr, ristretto255)\n");
	RATE("prove", "/s", (void)0, lb_zk_prove(proof, x, &ctx));
	RATE("verify", "/s", (void)0, lb_zk_verify(proof, X, &ctx));
	struct lb_zk_recovery rec;
	struct lb_errmsg em;
	uint64_t t0 = lb_mono_ns();
	lb_zk_recovery_new(&rec, "a recovery secret", 17, 0, 0, &em);
	printf("  %-34s %12.3f s\n", "recovery commit (Argon2id 3x64MiB)", secs(t0));
}

static void bench_kes(void)
{
	struct lb_kes_sk sk, tmp;
	uint8_t vk[32], seed[32], sig[LB_KES_SIGBYTES], msg[200];
	uint8_t epk[32], esk[64], esig[64];
	randombytes_buf(seed, 32);
	randombytes_buf(msg, sizeof msg);
	lb_kes_keygen(&sk, vk, seed);
	lb_kes_sign(&sk, msg, sizeof msg, sig);
	crypto_sign_keypair(epk, esk);
	crypto_sign_detached(esig, NULL, msg, sizeof msg, esk);
	printf("KES Sum6 (200-byte message) next to plain Ed25519\n");
	RATE("KES sign", "/s", (void)0, lb_kes_sign(&sk, msg, sizeof msg, sig));
	RATE("KES verify", "/s", (void)0, lb_kes_verify(vk, 0, msg, sizeof msg, sig));
	RATE("KES update (average over 63)", "/s", tmp = sk,
	     if (lb_kes_update(&tmp) != LB_OK) tmp = sk);
	RATE("KES keygen", "/s", (void)0, lb_kes_keygen(&tmp, vk, seed));
	RATE("Ed25519 sign", "/s", (void)0, crypto_sign_detached(esig, NULL, msg, sizeof msg, esk));
	RATE("Ed25519 verify", "/s", (void)0, if (crypto_sign_verify_detached(esig, msg, sizeof msg, epk) != 0) abort());
	lb_kes_sk_wipe(&sk);
	lb_kes_sk_wipe(&tmp);
}

static void bench_paillier(void)
{
	struct lb_paillier_sk sk;
	struct lb_errmsg em;
	mpz_t m, c, c2, r;
	mpz_inits(m, c, c2, r, NULL);
	lb_paillier_sk_init(&sk);
	uint64_t t0 = lb_mono_ns();
	lb_paillier_keygen(&sk, 2048, &em);
	double kg = secs(t0);
	mpz_set_ui(m, 123456789);
	lb_paillier_encrypt(&sk.pk, c, m, &em);
	lb_paillier_encrypt(&sk.pk, c2, m, &em);
	printf("Paillier 2048-bit\n");
	printf("  %-34s %12.3f s\n", "keygen (one run)", kg);
	RATE("encrypt", "/s", (void)0, lb_paillier_encrypt(&sk.pk, c, m, &em));
	RATE("decrypt (CRT)", "/s", (void)0, lb_paillier_decrypt(&sk, r, c, &em));
	RATE("decrypt (textbook, no CRT)", "/s", (void)0, lb_paillier_decrypt_nocrt(&sk, r, c, &em));
	RATE("add ciphertexts", "/s", (void)0, lb_paillier_add(&sk.pk, r, c, c2, &em));
	lb_paillier_sk_release(&sk);
	mpz_clears(m, c, c2, r, NULL);
}

/* Threshold Paillier 2048-bit, 3 of 5: dealing (safe primes), one holder's share with its
 * proof, a share's verification, and combining 3 shares (which verifies them) next to the
 * single-key CRT decryption measured above. */
static void bench_paillier_threshold(void)
{
	struct lb_paillier_tpk tpk;
	struct lb_paillier_tshare sh[5];
	struct lb_paillier_dshare ds[3];
	struct lb_errmsg em;
	mpz_t p, q, n, m, c, r;
	mpz_inits(p, q, n, m, c, r, NULL);
	lb_paillier_tpk_init(&tpk);
	for (int i = 0; i < 5; i++)
		lb_paillier_tshare_init(&sh[i]);
	for (int i = 0; i < 3; i++)
		lb_paillier_dshare_init(&ds[i]);
	uint64_t t0 = lb_mono_ns();
	do {
		lb_paillier_safe_prime(p, 1024, &em);
		lb_paillier_safe_prime(q, 1024, &em);
		mpz_mul(n, p, q);
	} while (mpz_cmp(p, q) == 0 || mpz_sizeinbase(n, 2) != 2048);
	lb_paillier_tdeal(&tpk, sh, p, q, 3, 5, &em);
	double deal = secs(t0);
	mpz_set_ui(m, 123456789);
	lb_paillier_encrypt(&tpk.pk, c, m, &em);
	for (int i = 0; i < 3; i++)
		lb_paillier_tdecrypt_share(&tpk, &sh[i], c, &ds[i], &em);
	printf("threshold Paillier 2048-bit, 3 of 5\n");
	printf("  %-34s %12.3f s\n", "deal (safe primes, one run)", deal);
	RATE("decryption share + proof", "/s", (void)0,
	     lb_paillier_tdecrypt_share(&tpk, &sh[0], c, &ds[0], &em));
	RATE("verify one share", "/s", (void)0, lb_paillier_tverify_share(&tpk, c, &ds[0], &em));
	RATE("combine 3 (verifies them)", "/s", (void)0, lb_paillier_tcombine(&tpk, c, ds, 3, r, &em));
	if (mpz_cmp(r, m) != 0)
		printf("  (combined plaintext is wrong!)\n");
	for (int i = 0; i < 5; i++)
		lb_paillier_tshare_release(&sh[i]);
	for (int i = 0; i < 3; i++)
		lb_paillier_dshare_release(&ds[i]);
	lb_paillier_tpk_release(&tpk);
	mpz_clears(p, q, n, m, c, r, NULL);
}

static void bench_secagg(size_t n)
{
	enum { LEN = 10000 };
	struct lb_secagg_party p[10];
	uint8_t pks[10][32], round[32] = {0};
	uint8_t *pairs[10];
	uint64_t *x = lb_calloc(LEN, 8), *y[10], *sum = lb_calloc(LEN, 8);
	uint8_t alive[10], revd[10][10];
	static uint8_t rev[10][10][LB_SECAGG_SHARE_BYTES];
	struct lb_errmsg em;
	unsigned t = (unsigned)n / 2 + 1;

	for (size_t i = 0; i < n; i++) {
		lb_secagg_party_init(&p[i], (unsigned)i + 1, round);
		memcpy(pks[i], p[i].pk, 32);
		pairs[i] = lb_malloc(n * LB_SECAGG_PAIR_BYTES);
		y[i] = lb_malloc(LEN * 8);
		alive[i] = 1;
	}
	uint64_t t0 = lb_mono_ns();
	for (size_t i = 0; i < n; i++)
		lb_secagg_share(&p[i], n, t, pairs[i], &em);
	double tshare = secs(t0) / (double)n;
	t0 = lb_mono_ns();
	for (size_t i = 0; i < n; i++)
		lb_secagg_mask(&p[i], (const uint8_t(*)[32])pks, n, x, LEN, y[i], &em);
	double tmask = secs(t0) / (double)n;
	for (size_t j = 0; j < n; j++) {
		const uint8_t *held[10];
		for (size_t i = 0; i < n; i++)
			held[i] = pairs[i] + j * LB_SECAGG_PAIR_BYTES;
		lb_secagg_reveal(&p[j], held, n, alive, rev[j], revd[j], &em);
	}
	const uint8_t *sh[10][10];
	const uint8_t *const *shp[10];
	const uint64_t *ys[10];
	size_t k[10];
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < t; j++)
			sh[i][j] = rev[j][i];
		k[i] = t;
		shp[i] = sh[i];
		ys[i] = y[i];
	}
	t0 = lb_mono_ns();
	lb_secagg_unmask(round, (const uint8_t(*)[32])pks, n, ys, LEN, shp, k, sum, &em);
	double tun = secs(t0);
	/* the same with one owner dropped */
	ys[n - 1] = NULL;
	for (size_t j = 0; j < n - 1; j++) {
		const uint8_t *held[10];
		for (size_t i = 0; i < n; i++)
			held[i] = pairs[i] + j * LB_SECAGG_PAIR_BYTES;
		alive[n - 1] = 0;
		lb_secagg_reveal(&p[j], held, n, alive, rev[j], revd[j], &em);
	}
	t0 = lb_mono_ns();
	lb_secagg_unmask(round, (const uint8_t(*)[32])pks, n, ys, LEN, shp, k, sum, &em);
	double tdrop = secs(t0);
	printf("secure aggregation, %zu owners, 10,000-element vectors (t = %u)\n", n, t);
	printf("  %-34s %12.2f ms\n", "share keys (per owner)", tshare * 1e3);
	printf("  %-34s %12.2f ms\n", "mask vector (per owner)", tmask * 1e3);
	printf("  %-34s %12.2f ms\n", "unmask sum (aggregator)", tun * 1e3);
	printf("  %-34s %12.2f ms\n", "unmask with 1 owner dropped", tdrop * 1e3);
	for (size_t i = 0; i < n; i++) {
		lb_free(pairs[i]);
		lb_free(y[i]);
		lb_secagg_party_wipe(&p[i]);
	}
	lb_free(x);
	lb_free(sum);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	printf("LEBEN security toolkit benchmark (single thread)\n\n");
	bench_envelope();
	bench_shamir();
	bench_zk();
	bench_kes();
	bench_paillier();
	bench_paillier_threshold();
	bench_secagg(3);
	bench_secagg(10);
	return 0;
}
