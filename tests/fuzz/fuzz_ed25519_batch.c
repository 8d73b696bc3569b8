/* libFuzzer harness for Ed25519 batch verification: a batch of LB_SIG_BATCH_MIN valid signatures (fixed keys)
 * is altered by the input, a sequence of 34-byte records (op, index, 32 bytes): set R, S, A or
 * the message; add a small-order point (chosen by the bytes) to R or A, optionally signing
 * again for the new A and R (mixed-order signatures that libsodium may accept); add L to S;
 * flip a bit. Then lb_sigs_are_valid's answer for every signature must equal libsodium's
 * crypto_sign_verify_detached; any difference aborts. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "leben/crypto.h"
#include "../unit/ed25519_torsion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSIG LB_SIG_BATCH_MIN /* the smallest batch checked as a batch */

static const uint8_t order_L[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
	0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
	0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
};


struct sig {
	uint8_t sig[64], pk[32], msg[32], a[32], prefix[32];
};

static struct sig base[NSIG];
static uint8_t torsion[7][32];

/* RFC 8032 signing for public key pk, with torsion point t (or NULL) added to R */
static void sign_for(struct sig *s, const uint8_t *t)
{
	uint8_t nonce[64], r[32], h[64], hr[32], x[32];
	crypto_hash_sha512_state st;
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, s->prefix, 32);
	crypto_hash_sha512_update(&st, s->msg, 32);
	crypto_hash_sha512_final(&st, nonce);
	crypto_core_ed25519_scalar_reduce(r, nonce);
	crypto_scalarmult_ed25519_base_noclamp(s->sig, r);
	if (t)
		crypto_core_ed25519_add(s->sig, s->sig, t);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, s->sig, 32);
	crypto_hash_sha512_update(&st, s->pk, 32);
	crypto_hash_sha512_update(&st, s->msg, 32);
	crypto_hash_sha512_final(&st, h);
	crypto_core_ed25519_scalar_reduce(hr, h);
	crypto_core_ed25519_scalar_mul(x, hr, s->a);
	crypto_core_ed25519_scalar_add(s->sig + 32, x, r);
}

static void init(void)
{
	for (int i = 0; i < 7; i++)
		sodium_hex2bin(torsion[i], 32, ed25519_torsion_hex[i], 64, NULL, NULL, NULL);
	for (int i = 0; i < NSIG; i++) {
		uint8_t seed[32], h[64];
		memset(seed, i + 1, sizeof seed);
		crypto_hash_sha512(h, seed, sizeof seed);
		h[0] &= 248;
		h[31] &= 127;
		h[31] |= 64;
		memcpy(base[i].a, h, 32);
		memcpy(base[i].prefix, h + 32, 32);
		crypto_scalarmult_ed25519_base_noclamp(base[i].pk, base[i].a);
		memset(base[i].msg, 0x80 + i, 32);
		sign_for(&base[i], NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct sig s[NSIG];
	struct lb_sig_item it[NSIG];
	bool ok[NSIG];
	if (!ready) {
		if (sodium_init() < 0)
			return 0;
		init();
		ready = true;
	}
	memcpy(s, base, sizeof s);
	for (; size >= 34; data += 34, size -= 34) {
		struct sig *x = &s[data[1] % NSIG];
		const uint8_t *b = data + 2;
		const uint8_t *t = torsion[b[0] % 7];
		unsigned c = 0;
		switch (data[0] % 10) {
		case 0:
			memcpy(x->sig, b, 32);
			break;
		case 1:
			memcpy(x->sig + 32, b, 32);
			break;
		case 2:
			memcpy(x->pk, b, 32);
			break;
		case 3:
			memcpy(x->msg, b, 32);
			break;
		case 4:
			crypto_core_ed25519_add(x->sig, x->sig, t);
			break;
		case 5:
			crypto_core_ed25519_add(x->pk, x->pk, t);
			break;
		case 6: /* mixed-order A, signed for */
			crypto_core_ed25519_add(x->pk, x->pk, t);
			sign_for(x, b[1] & 1 ? torsion[b[2] % 7] : NULL);
			break;
		case 7:
			for (int i = 0; i < 32; i++) {
				c += (unsigned)x->sig[32 + i] + order_L[i];
				x->sig[32 + i] = (uint8_t)c;
				c >>= 8;
			}
			break;
		case 8:
			x->sig[b[0] % 64] ^= (uint8_t)(1u << (b[1] % 8));
			break;
		default: /* sign the (changed) message again */
			sign_for(x, NULL);
			break;
		}
	}
	for (int i = 0; i < NSIG; i++)
		it[i] = (struct lb_sig_item){s[i].sig, s[i].pk, s[i].msg, 32};
	bool all = lb_sigs_are_valid(it, NSIG, ok), want_all = true;
	for (int i = 0; i < NSIG; i++) {
		bool want = crypto_sign_verify_detached(s[i].sig, s[i].msg, 32, s[i].pk) == 0;
		if (ok[i] != want)
			abort();
		want_all = want_all && want;
	}
	if (all != want_all)
		abort();
	return 0;
}
