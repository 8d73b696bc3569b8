/*
 * Co-owner multi-signatures over KES keys: a policy (owners, threshold, period clock) with a
 * canonical encoding for the business chain, broadcast signing with a collector, sequential
 * signing in policy order, and verification against the policy at a period
 * (see include/leben/kes.h).
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/kes.h"

#define POLICY_VERSION 1

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int lb_msig_policy_check(const struct lb_msig_policy *p, struct lb_errmsg *em)
{
	if (p->n < 1 || p->n > LB_MSIG_MAX_OWNERS)
		return lb_errf(em, LB_EINVALID, "policy: %u owners (1..%d)", p->n, LB_MSIG_MAX_OWNERS);
	if (p->threshold < 1 || p->threshold > p->n)
		return lb_errf(em, LB_EINVALID, "policy: threshold %u with %u owners (1..%u)",
			       p->threshold, p->n, p->n);
	if (p->epoch_blocks == 0)
		return lb_errf(em, LB_EINVALID, "policy: a KES period must last at least one block");
	for (unsigned i = 1; i < p->n; i++) {
		int c = memcmp(p->owners[i - 1], p->owners[i], LB_KES_VKBYTES);
		if (c == 0)
			return lb_errf(em, LB_EDUPLICATE, "policy: owner %u is listed twice", i + 1);
		if (c > 0)
			return lb_errf(em, LB_EINVALID,
				       "policy: owners must be sorted by key (owner %u is out of order)",
				       i + 1);
	}
	return LB_OK;
}

int lb_msig_policy_encode(const struct lb_msig_policy *p, uint8_t *out, size_t *outlen,
			  struct lb_errmsg *em)
{
	int rc = lb_msig_policy_check(p, em);
	if (rc != LB_OK)
		return rc;
	out[0] = POLICY_VERSION;
	out[1] = (uint8_t)p->threshold;
	out[2] = (uint8_t)p->n;
	memcpy(out + 3, p->owners, (size_t)p->n * LB_KES_VKBYTES);
	size_t off = 3 + (size_t)p->n * LB_KES_VKBYTES;
	put_u64(out + off, p->start_height);
	put_u64(out + off + 8, p->epoch_blocks);
	*outlen = off + 16;
	return LB_OK;
}

int lb_msig_policy_decode(struct lb_msig_policy *p, const uint8_t *in, size_t len,
			  struct lb_errmsg *em)
{
	if (len < 3)
		return lb_errf(em, LB_EMALFORMED, "policy: %zu bytes is too short", len);
	if (in[0] != POLICY_VERSION)
		return lb_errf(em, LB_EUNSUPPORTED, "policy: version %u is not supported", in[0]);
	memset(p, 0, sizeof *p);
	p->threshold = in[1];
	p->n = in[2];
	if (p->n < 1 || p->n > LB_MSIG_MAX_OWNERS)
		return lb_errf(em, LB_EMALFORMED, "policy: %u owners (1..%d)", p->n, LB_MSIG_MAX_OWNERS);
	size_t off = 3 + (size_t)p->n * LB_KES_VKBYTES;
	if (len != off + 16)
		return lb_errf(em, LB_EMALFORMED, "policy: %zu bytes, expected %zu for %u owners", len,
			       off + 16, p->n);
	memcpy(p->owners, in + 3, (size_t)p->n * LB_KES_VKBYTES);
	p->start_height = get_u64(in + off);
	p->epoch_blocks = get_u64(in + off + 8);
	int rc = lb_msig_policy_check(p, em);
	return rc == LB_OK ? LB_OK : (rc == LB_EDUPLICATE ? rc : LB_EMALFORMED);
}

int lb_msig_policy_id(const struct lb_msig_policy *p, uint8_t id[32])
{
	uint8_t buf[LB_MSIG_POLICY_MAXBYTES];
	size_t len;
	int rc = lb_msig_policy_encode(p, buf, &len, NULL);
	if (rc != LB_OK)
		return rc;
	crypto_generichash(id, 32, buf, len, (const uint8_t *)"LEBEN msig policy", 17);
	return LB_OK;
}

int lb_msig_owner_index(const struct lb_msig_policy *p, const uint8_t vk[LB_KES_VKBYTES])
{
	for (unsigned i = 0; i < p->n && i < LB_MSIG_MAX_OWNERS; i++)
		if (memcmp(p->owners[i], vk, LB_KES_VKBYTES) == 0)
			return (int)i;
	return -1;
}

/* What an owner signs: H(label | mode | policy id | period | msg [| previous signatures]). */
static int signed_digest(uint8_t out[64], enum lb_msig_mode mode, const struct lb_msig_policy *p,
			 uint32_t period, const uint8_t *msg, size_t len, const uint8_t *prev,
			 size_t prevlen)
{
	static const char label[] = "LEBEN msig v1";
	uint8_t id[32], hdr[5];
	crypto_generichash_state st;
	int rc = lb_msig_policy_id(p, id);
	if (rc != LB_OK)
		return rc;
	hdr[0] = (uint8_t)mode;
	hdr[1] = (uint8_t)(period >> 24);
	hdr[2] = (uint8_t)(period >> 16);
	hdr[3] = (uint8_t)(period >> 8);
	hdr[4] = (uint8_t)period;
	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, hdr, sizeof hdr);
	crypto_generichash_update(&st, id, sizeof id);
	crypto_generichash_update(&st, msg, len);
	if (prevlen)
		crypto_generichash_update(&st, prev, prevlen);
	crypto_generichash_final(&st, out, 64);
	return LB_OK;
}

static int signer_index(const struct lb_kes_sk *sk, const struct lb_msig_policy *p,
			struct lb_errmsg *em)
{
	uint8_t vk[32];
	lb_kes_sk_vk(sk, vk);
	int idx = lb_msig_owner_index(p, vk);
	if (idx < 0)
		return lb_errf(em, LB_EUNAUTH, "multisig: this key is not one of the policy's owners"),
		       -1;
	return idx;
}

int lb_msig_broadcast_sign(const struct lb_kes_sk *sk, const struct lb_msig_policy *p,
			   const uint8_t *msg, size_t len, uint8_t entry[LB_MSIG_ENTRYBYTES],
			   struct lb_errmsg *em)
{
	uint8_t d[64];
	int rc = lb_msig_policy_check(p, em);
	if (rc != LB_OK)
		return rc;
	int idx = signer_index(sk, p, em);
	if (idx < 0)
		return LB_EUNAUTH;
	rc = signed_digest(d, LB_MSIG_BROADCAST, p, sk->period, msg, len, NULL, 0);
	if (rc != LB_OK)
		return rc;
	entry[0] = (uint8_t)idx;
	return lb_kes_sign(sk, d, sizeof d, entry + 1);
}

static void put_header(uint8_t *out, enum lb_msig_mode mode, uint32_t period, size_t count)
{
	out[0] = (uint8_t)mode;
	out[1] = (uint8_t)(period >> 24);
	out[2] = (uint8_t)(period >> 16);
	out[3] = (uint8_t)(period >> 8);
	out[4] = (uint8_t)period;
	out[5] = (uint8_t)count;
}

int lb_msig_assemble(const uint8_t *const *entries, size_t k, uint32_t period, uint8_t *out,
		     size_t *outlen, struct lb_errmsg *em)
{
	if (k == 0 || k > LB_MSIG_MAX_OWNERS)
		return lb_errf(em, LB_EINVALID, "multisig: %zu signatures to assemble (1..%d)", k,
			       LB_MSIG_MAX_OWNERS);
	put_header(out, LB_MSIG_BROADCAST, period, k);
	/* selection by ascending owner index; equal indexes are duplicates */
	int last = -1;
	for (size_t pos = 0; pos < k; pos++) {
		int best = 256;
		size_t bi = 0;
		for (size_t i = 0; i < k; i++)
			if (entries[i][0] > last && entries[i][0] < best) {
				best = entries[i][0];
				bi = i;
			}
		if (best == 256)
			return lb_errf(em, LB_EDUPLICATE, "multisig: two signatures from the same owner");
		memcpy(out + 6 + pos * LB_MSIG_ENTRYBYTES, entries[bi], LB_MSIG_ENTRYBYTES);
		last = best;
	}
	*outlen = LB_MSIG_BYTES(k);
	return LB_OK;
}

int lb_msig_sequential_sign(const struct lb_kes_sk *sk, const struct lb_msig_policy *p,
			    const uint8_t *msg, size_t len, const uint8_t *prev, size_t prevlen,
			    uint8_t *out, size_t *outlen, struct lb_errmsg *em)
{
	uint8_t d[64];
	size_t count = 0;
	int rc = lb_msig_policy_check(p, em);
	if (rc != LB_OK)
		return rc;
	int idx = signer_index(sk, p, em);
	if (idx < 0)
		return LB_EUNAUTH;
	if (prevlen) {
		if (prevlen < 6 || prev[0] != LB_MSIG_SEQUENTIAL ||
		    prevlen != LB_MSIG_BYTES(prev[5]) || prev[5] == 0)
			return lb_errf(em, LB_EMALFORMED, "multisig: the previous signatures are not a "
							  "sequential multi-signature");
		uint32_t per = (uint32_t)prev[1] << 24 | (uint32_t)prev[2] << 16 |
			       (uint32_t)prev[3] << 8 | prev[4];
		if (per != sk->period)
			return lb_errf(em, LB_EINVALID, "multisig: previous signers signed period %u, "
							"this key is at period %u",
				       per, sk->period);
		count = prev[5];
		if (count >= LB_MSIG_MAX_OWNERS)
			return lb_errf(em, LB_ELIMIT, "multisig: too many signatures");
		uint8_t lastidx = prev[6 + (count - 1) * LB_MSIG_ENTRYBYTES];
		if (idx <= lastidx)
			return lb_errf(em, LB_EINVALID,
				       "multisig: owner %d must sign before owner %u (policy order)",
				       idx + 1, lastidx + 1u);
	}
	/* each signer covers the message and every entry before it */
	rc = signed_digest(d, LB_MSIG_SEQUENTIAL, p, sk->period, msg, len,
			   prevlen ? prev + 6 : NULL, prevlen ? prevlen - 6 : 0);
	if (rc != LB_OK)
		return rc;
	if (prevlen)
		memmove(out + 6, prev + 6, prevlen - 6);
	put_header(out, LB_MSIG_SEQUENTIAL, sk->period, count + 1);
	uint8_t *e = out + 6 + count * LB_MSIG_ENTRYBYTES;
	e[0] = (uint8_t)idx;
	rc = lb_kes_sign(sk, d, sizeof d, e + 1);
	*outlen = LB_MSIG_BYTES(count + 1);
	return rc;
}

int lb_msig_verify(const struct lb_msig_policy *p, uint32_t period, const uint8_t *msg,
		   size_t len, const uint8_t *sig, size_t siglen, struct lb_errmsg *em)
{
	uint8_t d[64];
	int rc = lb_msig_policy_check(p, em);
	if (rc != LB_OK)
		return rc;
	if (siglen < 6 || (sig[0] != LB_MSIG_BROADCAST && sig[0] != LB_MSIG_SEQUENTIAL) ||
	    siglen != LB_MSIG_BYTES(sig[5]))
		return lb_errf(em, LB_EMALFORMED, "multisig: not a multi-signature (%zu bytes)", siglen);
	uint32_t per = (uint32_t)sig[1] << 24 | (uint32_t)sig[2] << 16 | (uint32_t)sig[3] << 8 | sig[4];
	if (per != period)
		return lb_errf(em, LB_EINVALID, "multisig: signed for period %u, expected period %u",
			       per, period);
	size_t count = sig[5];
	int last = -1;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *e = sig + 6 + i * LB_MSIG_ENTRYBYTES;
		if (e[0] >= p->n)
			return lb_errf(em, LB_EMALFORMED, "multisig: signature %zu names owner %u of %u",
				       i + 1, e[0] + 1u, p->n);
		if ((int)e[0] <= last)
			return lb_errf(em, e[0] == last ? LB_EDUPLICATE : LB_EMALFORMED,
				       "multisig: signature %zu is out of owner order or repeated",
				       i + 1);
		last = e[0];
		rc = signed_digest(d, (enum lb_msig_mode)sig[0], p, period, msg, len,
				   sig[0] == LB_MSIG_SEQUENTIAL ? sig + 6 : NULL,
				   sig[0] == LB_MSIG_SEQUENTIAL ? i * LB_MSIG_ENTRYBYTES : 0);
		if (rc != LB_OK)
			return rc;
		if (lb_kes_verify(p->owners[e[0]], period, d, sizeof d, e + 1) != LB_OK)
			return lb_errf(em, LB_EBADSIG, "multisig: owner %u's signature is invalid",
				       e[0] + 1u);
	}
	if (count < p->threshold)
		return lb_errf(em, LB_EDENIED, "multisig: %zu of %u required owners signed", count,
			       p->threshold);
	return LB_OK;
}
