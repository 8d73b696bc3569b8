/*
 * Guardian records: the public, canonical description of a key split among guardians
 * (account, split id, commitment, threshold, who holds which share index), for the business
 * chain. See include/leben/shamir.h.
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/envelope.h"
#include "leben/shamir.h"

#define GR_VERSION 1
#define GR_FIXED (1 + 32 + 16 + 32 + 2)

int lb_guardian_record_check(const struct lb_guardian_record *r, struct lb_errmsg *em)
{
	if (r->n < 2 || r->n > LB_SHAMIR_MAX_SHARES)
		return lb_errf(em, LB_EINVALID, "guardians: %u guardians (2..255)", r->n);
	if (r->t < 2 || r->t > r->n)
		return lb_errf(em, LB_EINVALID, "guardians: threshold %u of %u (2..n)", r->t, r->n);
	for (unsigned i = 0; i < r->n; i++) {
		if (r->g[i].x == 0 || (i && r->g[i].x <= r->g[i - 1].x))
			return lb_errf(em, LB_EINVALID,
				       "guardians: share indexes must be non-zero and ascending");
		for (unsigned j = 0; j < i; j++)
			if (memcmp(r->g[i].guardian, r->g[j].guardian, 32) == 0)
				return lb_errf(em, LB_EDUPLICATE, "guardians: guardian %u is listed twice",
					       i + 1);
	}
	return LB_OK;
}

int lb_guardian_record_encode(const struct lb_guardian_record *r, uint8_t *out, size_t *outlen,
			      struct lb_errmsg *em)
{
	int rc = lb_guardian_record_check(r, em);
	if (rc != LB_OK)
		return rc;
	out[0] = GR_VERSION;
	memcpy(out + 1, r->account, 32);
	memcpy(out + 33, r->set_id, 16);
	memcpy(out + 49, r->commit, 32);
	out[81] = (uint8_t)r->t;
	out[82] = (uint8_t)r->n;
	for (unsigned i = 0; i < r->n; i++) {
		memcpy(out + GR_FIXED + i * 33, r->g[i].guardian, 32);
		out[GR_FIXED + i * 33 + 32] = r->g[i].x;
	}
	*outlen = GR_FIXED + r->n * 33;
	return LB_OK;
}

int lb_guardian_record_decode(struct lb_guardian_record *r, const uint8_t *in, size_t len,
			      struct lb_errmsg *em)
{
	if (len < GR_FIXED)
		return lb_errf(em, LB_EMALFORMED, "guardians: record too short");
	if (in[0] != GR_VERSION)
		return lb_errf(em, LB_EUNSUPPORTED, "guardians: version %u is not supported", in[0]);
	memset(r, 0, sizeof *r);
	memcpy(r->account, in + 1, 32);
	memcpy(r->set_id, in + 33, 16);
	memcpy(r->commit, in + 49, 32);
	r->t = in[81];
	r->n = in[82];
	if (len != GR_FIXED + (size_t)r->n * 33)
		return lb_errf(em, LB_EMALFORMED, "guardians: %zu bytes for %u guardians", len, r->n);
	for (unsigned i = 0; i < r->n; i++) {
		memcpy(r->g[i].guardian, in + GR_FIXED + i * 33, 32);
		r->g[i].x = in[GR_FIXED + i * 33 + 32];
	}
	return lb_guardian_record_check(r, em) == LB_OK ? LB_OK : LB_EMALFORMED;
}

int lb_guardian_record_from_shares(struct lb_guardian_record *r, const uint8_t account[32],
				   const uint8_t *const *shares, size_t share_len,
				   const uint8_t (*guardians)[32], size_t n, struct lb_errmsg *em)
{
	struct lb_shamir_info info;
	if (n < 2 || n > LB_SHAMIR_MAX_SHARES)
		return lb_errf(em, LB_EINVALID, "guardians: %zu shares (2..255)", n);
	memset(r, 0, sizeof *r);
	memcpy(r->account, account, 32);
	for (size_t i = 0; i < n; i++) {
		int rc = lb_shamir_share_info(shares[i], share_len, &info, em);
		if (rc != LB_OK)
			return rc;
		if (i == 0) {
			memcpy(r->set_id, info.set_id, 16);
			memcpy(r->commit, info.commit, 32);
			r->t = info.t;
		} else if (memcmp(r->set_id, info.set_id, 16) != 0) {
			return lb_errf(em, LB_EINVALID, "guardians: share %zu is from another split", i + 1);
		}
		/* insertion by x */
		size_t k = i;
		while (k > 0 && r->g[k - 1].x > info.x) {
			r->g[k] = r->g[k - 1];
			k--;
		}
		memcpy(r->g[k].guardian, guardians[i], 32);
		r->g[k].x = (uint8_t)info.x;
	}
	r->n = (unsigned)n;
	return lb_guardian_record_check(r, em);
}

int lb_guardian_split(const uint8_t account[32], const uint8_t *secret, size_t len, unsigned t,
		      const uint8_t (*guardian_ed_pks)[32], size_t n, uint8_t **envelopes,
		      size_t *env_lens, struct lb_guardian_record *rec, struct lb_errmsg *em)
{
	size_t sl = LB_SHAMIR_SHARE_BYTES(len), i;
	const uint8_t *sp[LB_SHAMIR_MAX_SHARES];
	uint8_t xpk[1][32];
	uint8_t *shares;
	int rc;

	if (n < 2 || n > LB_SHAMIR_MAX_SHARES || len == 0 || len > LB_SHAMIR_MAX_SECRET)
		return lb_errf(em, LB_EINVALID, "guardians: %zu guardians (2..255), secret %zu bytes",
			       n, len);
	shares = lb_malloc(n * sl);
	if (!shares)
		return lb_errf(em, LB_ENOMEM, "guardians: out of memory");
	for (i = 0; i < n; i++)
		envelopes[i] = NULL;
	rc = lb_shamir_split(secret, len, (unsigned)n, t, shares, em);
	for (i = 0; rc == LB_OK && i < n; i++)
		sp[i] = shares + i * sl;
	if (rc == LB_OK)
		rc = lb_guardian_record_from_shares(rec, account, sp, sl, guardian_ed_pks, n, em);
	for (i = 0; rc == LB_OK && i < n; i++) {
		if (lb_envelope_pk_from_ed25519(xpk[0], guardian_ed_pks[i]) != LB_OK) {
			rc = lb_errf(em, LB_EINVALID, "guardians: guardian %zu's key is not a valid "
						      "Ed25519 public key",
				     i + 1);
			break;
		}
		rc = lb_envelope_seal((const uint8_t(*)[32])xpk, 1, sp[i], sl, &envelopes[i],
				      &env_lens[i], em);
	}
	sodium_memzero(shares, n * sl);
	lb_free(shares);
	if (rc != LB_OK)
		for (i = 0; i < n; i++) {
			lb_free(envelopes[i]);
			envelopes[i] = NULL;
		}
	return rc;
}

int lb_guardian_recover(const struct lb_guardian_record *rec, const uint8_t *const *shares,
			size_t k, size_t share_len, uint8_t *secret, size_t *len,
			struct lb_errmsg *em)
{
	struct lb_shamir_info info;
	for (size_t i = 0; i < k; i++) {
		int rc = lb_shamir_share_info(shares[i], share_len, &info, em);
		if (rc != LB_OK)
			return lb_errwrap(em, "share %zu: ", i + 1);
		if (memcmp(info.set_id, rec->set_id, 16) != 0 ||
		    memcmp(info.commit, rec->commit, 32) != 0)
			return lb_errf(em, LB_EINVALID,
				       "guardians: share %zu is not from the recorded split of this key",
				       i + 1);
	}
	return lb_shamir_combine(shares, k, share_len, secret, len, em);
}
