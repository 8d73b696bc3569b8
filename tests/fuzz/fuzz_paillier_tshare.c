/* libFuzzer harness for threshold Paillier decryption shares as they arrive from holders
 * (`leben paillier tcombine` reads them from files): the input gives a holder index and three
 * numbers (ci, e, z) and a ciphertext; lb_paillier_tverify_share and lb_paillier_tcombine must
 * refuse anything that is not a correct share with an error code, never crash. The key is
 * dealt once (2 of 3) from two fixed 512-bit safe primes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gmp.h>
#include <sodium.h>

#include "leben/base.h"
#include "leben/paillier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char P_HEX[] = "feb6d2449a6aa15414fa4def3b7f5003ed3ca1b6278f0f41ed88ccd62995b5f0"
			    "ebb06c8b4a94367165a922395f3554c8c81bcbccd704e2ef9266d2588278d93f";
static const char Q_HEX[] = "c5e47ade4e059e8fcdf3a491f52ff9358300c5f2c0298526bb918a6afdc3f195"
			    "b343c73aee13d4554f366a2118295becb81020f505fd9f9d1928a60aff5b04db";

static struct lb_paillier_tpk tpk;
static struct lb_paillier_tshare sh[3];
static mpz_t c0;

static void setup(void)
{
	mpz_t p, q, m;
	struct lb_errmsg em;
	if (sodium_init() < 0)
		__builtin_trap();
	mpz_inits(p, q, m, c0, NULL);
	mpz_set_str(p, P_HEX, 16);
	mpz_set_str(q, Q_HEX, 16);
	lb_paillier_tpk_init(&tpk);
	for (int i = 0; i < 3; i++)
		lb_paillier_tshare_init(&sh[i]);
	if (lb_paillier_tdeal(&tpk, sh, p, q, 2, 3, &em))
		__builtin_trap();
	mpz_set_ui(m, 7);
	if (lb_paillier_encrypt(&tpk.pk, c0, m, &em))
		__builtin_trap();
	mpz_clears(p, q, m, NULL);
}

/* next number: u16 length (big endian) then that many bytes, capped */
static const uint8_t *take(const uint8_t *p, const uint8_t *end, mpz_t out)
{
	if (end - p < 2) {
		mpz_set_ui(out, 0);
		return end;
	}
	size_t n = (size_t)p[0] << 8 | p[1];
	p += 2;
	if (n > (size_t)(end - p))
		n = (size_t)(end - p);
	if (n > 1024)
		n = 1024;
	mpz_import(out, n, 1, 1, 0, 0, p);
	return p + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct lb_errmsg em;
	struct lb_paillier_dshare ds[2];
	mpz_t c, m;
	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 2)
		return 0;
	const uint8_t *p = data + 2, *end = data + size;
	mpz_inits(c, m, NULL);
	lb_paillier_dshare_init(&ds[0]);
	lb_paillier_dshare_init(&ds[1]);
	ds[0].i = data[0];
	p = take(p, end, ds[0].ci);
	p = take(p, end, ds[0].e);
	p = take(p, end, ds[0].z);
	p = take(p, end, c);
	if (mpz_sgn(c) == 0 || (data[1] & 1))
		mpz_set(c, c0); /* mostly against a real ciphertext */
	int rc = lb_paillier_tverify_share(&tpk, c, &ds[0], &em);
	/* a correct share of holder 3 for combining */
	if (lb_paillier_tdecrypt_share(&tpk, &sh[2], c, &ds[1], &em) == LB_OK) {
		int rc2 = lb_paillier_tcombine(&tpk, c, ds, 2, m, &em);
		if (rc == LB_OK && ds[0].i != 3 && rc2 != LB_OK)
			__builtin_trap(); /* a share that verifies must combine */
		if (rc != LB_OK && rc2 == LB_OK)
			__builtin_trap(); /* an unverified share must never be combined */
	}
	lb_paillier_dshare_release(&ds[0]);
	lb_paillier_dshare_release(&ds[1]);
	mpz_clears(c, m, NULL);
	return 0;
}
