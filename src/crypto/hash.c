/*
 * BLAKE2b-256 hashing (with domain separation), Ed25519 keys and signatures and constant-time
 * comparison, all on libsodium.
 */
#include <string.h>

#include "leben/crypto.h"

int lb_crypto_init(void)
{
	return sodium_init() < 0 ? LB_ECRYPTO : LB_OK;
}

void lb_hash(uint8_t out[LB_HASH_LEN], const void *p, size_t n)
{
	crypto_generichash(out, LB_HASH_LEN, p, n, NULL, 0);
}

void lb_hasher_init(struct lb_hasher *h, const char *domain)
{
	crypto_generichash_init(&h->st, NULL, 0, LB_HASH_LEN);
	if (domain)
		crypto_generichash_update(&h->st, (const uint8_t *)domain, strlen(domain) + 1);
}

void lb_hasher_update(struct lb_hasher *h, const void *p, size_t n)
{
	crypto_generichash_update(&h->st, p, n);
}

void lb_hasher_final(struct lb_hasher *h, uint8_t out[LB_HASH_LEN])
{
	crypto_generichash_final(&h->st, out, LB_HASH_LEN);
}

void lb_hash_domain(uint8_t out[LB_HASH_LEN], const char *domain, const void *p, size_t n)
{
	struct lb_hasher h;
	lb_hasher_init(&h, domain);
	lb_hasher_update(&h, p, n);
	lb_hasher_final(&h, out);
}

void lb_keypair_generate(struct lb_keypair *kp)
{
	crypto_sign_keypair(kp->pk, kp->sk);
}

void lb_keypair_from_seed(struct lb_keypair *kp, const uint8_t seed[LB_SEED_LEN])
{
	crypto_sign_seed_keypair(kp->pk, kp->sk, seed);
}

void lb_keypair_wipe(struct lb_keypair *kp)
{
	sodium_memzero(kp, sizeof *kp);
}

void lb_sign(uint8_t sig[LB_SIG_LEN], const void *msg, size_t n, const struct lb_keypair *kp)
{
	crypto_sign_detached(sig, NULL, msg, n, kp->sk);
}

bool lb_sig_is_valid(const uint8_t sig[LB_SIG_LEN], const void *msg, size_t n,
		     const uint8_t pk[LB_PUBKEY_LEN])
{
	return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

bool lb_ct_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}
