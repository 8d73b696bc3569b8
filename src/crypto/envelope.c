/*
 * Level-1 digital envelope (see include/leben/envelope.h for the wire format): one random
 * content key per envelope, the payload as an XChaCha20-Poly1305 secretstream, the key wrapped
 * to every recipient through a single ephemeral X25519 key. Opening reports tampering,
 * truncation and "not a recipient" as distinct errors.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/envelope.h"

#define ENV_MAGIC "LBEV"
#define ENV_VERSION 1
#define ENV_CHUNK_LOG2 16
#define ENV_SLOT_BYTES (8 + 32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define ENV_FIXED_BYTES (4 + 1 + 1 + 2 + 32)
#define ENV_SS_HDR crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define ENV_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define ENV_REC_MAX (LB_ENVELOPE_CHUNK + ENV_ABYTES)

static const char wrap_label[] = "LEBEN envelope v1 key wrap";

void lb_envelope_keypair(uint8_t pk[LB_ENVELOPE_PKBYTES], uint8_t sk[LB_ENVELOPE_SKBYTES])
{
	randombytes_buf(sk, LB_ENVELOPE_SKBYTES);
	crypto_scalarmult_base(pk, sk);
}

int lb_envelope_pk_from_ed25519(uint8_t x_pk[LB_ENVELOPE_PKBYTES], const uint8_t ed_pk[32])
{
	if (crypto_sign_ed25519_pk_to_curve25519(x_pk, ed_pk) != 0)
		return LB_EINVALID;
	return LB_OK;
}

int lb_envelope_keypair_from_ed25519_seed(uint8_t x_pk[LB_ENVELOPE_PKBYTES],
					  uint8_t x_sk[LB_ENVELOPE_SKBYTES], const uint8_t seed[32])
{
	uint8_t ed_pk[32], ed_sk[64];
	int rc = LB_OK;

	crypto_sign_seed_keypair(ed_pk, ed_sk, seed);
	if (crypto_sign_ed25519_sk_to_curve25519(x_sk, ed_sk) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(x_pk, ed_pk) != 0)
		rc = LB_EINVALID;
	sodium_memzero(ed_sk, sizeof ed_sk);
	return rc;
}

void lb_envelope_key_id(uint8_t id[8], const uint8_t pk[LB_ENVELOPE_PKBYTES])
{
	static const uint8_t label[] = "LEBEN envelope key id";
	crypto_generichash(id, 8, pk, LB_ENVELOPE_PKBYTES, label, sizeof label - 1);
}

/* Key-wrapping key for one recipient: BLAKE2b-256 keyed with the X25519 shared secret over
 * label | E | R. Fails if the shared secret is all zero (a low-order recipient key). */
static int wrap_key(uint8_t k[32], const uint8_t my_sk[32], const uint8_t their_pk[32],
		    const uint8_t eph_pk[32], const uint8_t rcpt_pk[32])
{
	uint8_t shared[32];
	crypto_generichash_state st;

	if (crypto_scalarmult(shared, my_sk, their_pk) != 0)
		return LB_EINVALID;
	crypto_generichash_init(&st, shared, sizeof shared, 32);
	crypto_generichash_update(&st, (const uint8_t *)wrap_label, sizeof wrap_label - 1);
	crypto_generichash_update(&st, eph_pk, 32);
	crypto_generichash_update(&st, rcpt_pk, 32);
	crypto_generichash_final(&st, k, 32);
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(&st, sizeof st);
	return LB_OK;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Read exactly want bytes unless the input ends first (*got tells how many arrived). */
static int read_full(lb_envelope_read_fn rd, void *ctx, uint8_t *buf, size_t want, size_t *got)
{
	size_t have = 0;
	while (have < want) {
		size_t n = 0;
		int rc = rd(ctx, buf + have, want - have, &n);
		if (rc != LB_OK)
			return rc;
		if (n == 0)
			break;
		have += n;
	}
	*got = have;
	return LB_OK;
}

int lb_envelope_seal_stream(const uint8_t (*recipients)[LB_ENVELOPE_PKBYTES], size_t n,
			    lb_envelope_read_fn rd, void *rctx, lb_envelope_write_fn wr, void *wctx,
			    struct lb_errmsg *em)
{
	uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	uint8_t eph_sk[32], eph_pk[32], kek[32], hh[32];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
	uint8_t ad[64];
	crypto_secretstream_xchacha20poly1305_state ss;
	uint8_t *hdr = NULL, *in = NULL, *rec = NULL;
	size_t hlen, i, j;
	int rc = LB_OK;

	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "envelope: libsodium failed to initialise");
	if (n == 0 || n > LB_ENVELOPE_MAX_RECIPIENTS)
		return lb_errf(em, LB_EINVALID, "envelope: %zu recipients (need 1..%d)", n,
			       LB_ENVELOPE_MAX_RECIPIENTS);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (sodium_memcmp(recipients[i], recipients[j], 32) == 0)
				return lb_errf(em, LB_EINVALID,
					       "envelope: recipient %zu is the same key as %zu", j, i);
	hlen = ENV_FIXED_BYTES + n * ENV_SLOT_BYTES + ENV_SS_HDR;
	hdr = lb_malloc(hlen);
	in = lb_malloc(LB_ENVELOPE_CHUNK);
	rec = lb_malloc(4 + ENV_REC_MAX);
	if (!hdr || !in || !rec) {
		rc = lb_errf(em, LB_ENOMEM, "envelope: out of memory");
		goto out_free;
	}
	crypto_secretstream_xchacha20poly1305_keygen(key);
	lb_envelope_keypair(eph_pk, eph_sk);
	memcpy(hdr, ENV_MAGIC, 4);
	hdr[4] = ENV_VERSION;
	hdr[5] = ENV_CHUNK_LOG2;
	hdr[6] = (uint8_t)(n >> 8);
	hdr[7] = (uint8_t)n;
	memcpy(hdr + 8, eph_pk, 32);
	for (i = 0; i < n; i++) {
		uint8_t *slot = hdr + ENV_FIXED_BYTES + i * ENV_SLOT_BYTES;
		lb_envelope_key_id(slot, recipients[i]);
		rc = wrap_key(kek, eph_sk, recipients[i], eph_pk, recipients[i]);
		if (rc != LB_OK) {
			lb_errf(em, rc, "envelope: recipient %zu has an unusable (low-order) key", i);
			goto out_wipe;
		}
		memcpy(ad, eph_pk, 32);
		memcpy(ad + 32, recipients[i], 32);
		crypto_aead_xchacha20poly1305_ietf_encrypt(slot + 8, NULL, key, sizeof key, ad,
							   sizeof ad, NULL, nonce, kek);
	}
	crypto_secretstream_xchacha20poly1305_init_push(&ss, hdr + hlen - ENV_SS_HDR, key);
	crypto_generichash(hh, sizeof hh, hdr, hlen, NULL, 0);
	rc = wr(wctx, hdr, hlen);
	if (rc != LB_OK) {
		lb_errf(em, rc, "envelope: cannot write the header");
		goto out_wipe;
	}
	/* Read one chunk ahead so the last record, possibly empty, carries the FINAL tag. */
	for (int first = 1;; first = 0) {
		size_t got;
		unsigned long long clen;
		rc = read_full(rd, rctx, in, LB_ENVELOPE_CHUNK, &got);
		if (rc != LB_OK) {
			lb_errf(em, rc, "envelope: cannot read the input");
			goto out_wipe;
		}
		uint8_t tag = got < LB_ENVELOPE_CHUNK ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
						      : 0;
		crypto_secretstream_xchacha20poly1305_push(&ss, rec + 4, &clen, in, got,
							   first ? hh : NULL, first ? sizeof hh : 0,
							   tag);
		put_u32(rec, (uint32_t)clen);
		rc = wr(wctx, rec, 4 + (size_t)clen);
		if (rc != LB_OK) {
			lb_errf(em, rc, "envelope: cannot write the output");
			goto out_wipe;
		}
		if (tag)
			break;
	}
	/* A stream that is an exact multiple of the chunk size ends with an empty FINAL record. */
out_wipe:
	sodium_memzero(key, sizeof key);
	sodium_memzero(eph_sk, sizeof eph_sk);
	sodium_memzero(kek, sizeof kek);
	sodium_memzero(&ss, sizeof ss);
	if (in)
		sodium_memzero(in, LB_ENVELOPE_CHUNK);
out_free:
	lb_free(hdr);
	lb_free(in);
	lb_free(rec);
	return rc;
}

/* Parse the header from rd and unwrap the content key for (sk, pk). */
static int open_header(const uint8_t sk[32], const uint8_t pk[32], lb_envelope_read_fn rd,
		       void *rctx, uint8_t key[32], uint8_t ss_hdr[ENV_SS_HDR], uint8_t hh[32],
		       struct lb_errmsg *em)
{
	uint8_t fixed[ENV_FIXED_BYTES], slot[ENV_SLOT_BYTES], myid[8], kek[32], ad[64], check[32];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
	crypto_generichash_state hs;
	size_t got, n, i;
	int found = 0, matched = 0, idaltered = 0, rc;

	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "envelope: libsodium failed to initialise");
	crypto_scalarmult_base(check, sk);
	if (sodium_memcmp(check, pk, 32) != 0)
		return lb_errf(em, LB_EINVALID, "envelope: the secret key does not match the public key");
	rc = read_full(rd, rctx, fixed, sizeof fixed, &got);
	if (rc != LB_OK)
		return lb_errf(em, rc, "envelope: cannot read the input");
	if (got >= 4 && memcmp(fixed, ENV_MAGIC, 4) != 0)
		return lb_errf(em, LB_EMALFORMED, "envelope: not a LEBEN envelope (bad magic)");
	if (got < sizeof fixed)
		return lb_errf(em, LB_ETRUNCATED, "envelope: truncated inside the header (%zu bytes)",
			       got);
	if (fixed[4] != ENV_VERSION)
		return lb_errf(em, LB_EUNSUPPORTED, "envelope: version %u is not supported (only 1)",
			       fixed[4]);
	if (fixed[5] != ENV_CHUNK_LOG2)
		return lb_errf(em, LB_EUNSUPPORTED, "envelope: record size 2^%u is not supported",
			       fixed[5]);
	n = (size_t)fixed[6] << 8 | fixed[7];
	if (n == 0 || n > LB_ENVELOPE_MAX_RECIPIENTS)
		return lb_errf(em, LB_EMALFORMED, "envelope: %zu recipients (need 1..%d)", n,
			       LB_ENVELOPE_MAX_RECIPIENTS);
	crypto_generichash_init(&hs, NULL, 0, 32);
	crypto_generichash_update(&hs, fixed, sizeof fixed);
	lb_envelope_key_id(myid, pk);
	memcpy(ad, fixed + 8, 32);
	memcpy(ad + 32, pk, 32);
	rc = wrap_key(kek, sk, fixed + 8, fixed + 8, pk);
	if (rc != LB_OK)
		return lb_errf(em, LB_ETAMPERED, "envelope: the ephemeral key is not usable");
	for (i = 0; i < n; i++) {
		rc = read_full(rd, rctx, slot, sizeof slot, &got);
		if (rc != LB_OK)
			goto out;
		if (got < sizeof slot) {
			rc = lb_errf(em, LB_ETRUNCATED, "envelope: truncated in recipient slot %zu", i);
			goto out;
		}
		crypto_generichash_update(&hs, slot, sizeof slot);
		if (found)
			continue;
		/* Slots filed under another key id are tried too, so an altered key id is
		 * reported as tampering rather than as "not a recipient". */
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL, slot + 8,
							       sizeof slot - 8, ad, sizeof ad, nonce,
							       kek) == 0) {
			found = 1;
			if (memcmp(slot, myid, 8) != 0)
				idaltered = 1;
		}
		if (memcmp(slot, myid, 8) == 0)
			matched = 1;
	}
	rc = read_full(rd, rctx, ss_hdr, ENV_SS_HDR, &got);
	if (rc != LB_OK)
		goto out;
	if (got < ENV_SS_HDR) {
		rc = lb_errf(em, LB_ETRUNCATED, "envelope: truncated before the payload");
		goto out;
	}
	crypto_generichash_update(&hs, ss_hdr, ENV_SS_HDR);
	crypto_generichash_final(&hs, hh, 32);
	if (idaltered)
		rc = lb_errf(em, LB_ETAMPERED, "envelope: a recipient key id was altered");
	else if (!matched && !found)
		rc = lb_errf(em, LB_EWRONGKEY,
			     "envelope: this key is not one of its %zu recipient(s); open it with "
			     "the key it was sealed to",
			     n);
	else if (!found)
		rc = lb_errf(em, LB_ETAMPERED, "envelope: the recipient slot for this key was altered");
out:
	sodium_memzero(kek, sizeof kek);
	if (rc != LB_OK)
		sodium_memzero(key, 32);
	return rc;
}

int lb_envelope_open_stream(const uint8_t sk[LB_ENVELOPE_SKBYTES],
			    const uint8_t pk[LB_ENVELOPE_PKBYTES], lb_envelope_read_fn rd,
			    void *rctx, lb_envelope_write_fn wr, void *wctx, struct lb_errmsg *em)
{
	uint8_t key[32], ss_hdr[ENV_SS_HDR], hh[32], lenb[4];
	crypto_secretstream_xchacha20poly1305_state ss;
	uint8_t *rec = NULL, *pt = NULL;
	uint64_t index = 0;
	int rc;

	rc = open_header(sk, pk, rd, rctx, key, ss_hdr, hh, em);
	if (rc != LB_OK)
		return rc;
	rec = lb_malloc(ENV_REC_MAX);
	pt = lb_malloc(LB_ENVELOPE_CHUNK);
	if (!rec || !pt) {
		rc = lb_errf(em, LB_ENOMEM, "envelope: out of memory");
		goto out;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&ss, ss_hdr, key) != 0) {
		rc = lb_errf(em, LB_ETAMPERED, "envelope: bad stream header");
		goto out;
	}
	for (;; index++) {
		size_t got;
		unsigned long long plen;
		unsigned char tag;
		uint32_t clen;

		rc = read_full(rd, rctx, lenb, 4, &got);
		if (rc != LB_OK)
			goto out;
		if (got < 4) {
			rc = lb_errf(em, LB_ETRUNCATED,
				     "envelope: truncated after record %llu (the final record is "
				     "missing)",
				     (unsigned long long)index);
			goto out;
		}
		clen = get_u32(lenb);
		if (clen < ENV_ABYTES || clen > ENV_REC_MAX) {
			rc = lb_errf(em, LB_ETAMPERED, "envelope: record %llu has a corrupt length (%u)",
				     (unsigned long long)index, clen);
			goto out;
		}
		rc = read_full(rd, rctx, rec, clen, &got);
		if (rc != LB_OK)
			goto out;
		if (got < clen) {
			rc = lb_errf(em, LB_ETRUNCATED, "envelope: truncated inside record %llu",
				     (unsigned long long)index);
			goto out;
		}
		if (crypto_secretstream_xchacha20poly1305_pull(&ss, pt, &plen, &tag, rec, clen,
							       index == 0 ? hh : NULL,
							       index == 0 ? sizeof hh : 0) != 0) {
			rc = lb_errf(em, LB_ETAMPERED,
				     "envelope: record %llu failed authentication (altered or "
				     "reordered)",
				     (unsigned long long)index);
			goto out;
		}
		rc = wr(wctx, pt, (size_t)plen);
		if (rc != LB_OK) {
			lb_errf(em, rc, "envelope: cannot write the output");
			goto out;
		}
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
			break;
		if (tag != 0) {
			rc = lb_errf(em, LB_ETAMPERED, "envelope: record %llu has an unexpected tag",
				     (unsigned long long)index);
			goto out;
		}
	}
	{
		uint8_t extra;
		size_t got;
		rc = read_full(rd, rctx, &extra, 1, &got);
		if (rc == LB_OK && got != 0)
			rc = lb_errf(em, LB_ETAMPERED, "envelope: data was appended after the end");
	}
out:
	sodium_memzero(key, sizeof key);
	sodium_memzero(&ss, sizeof ss);
	if (pt)
		sodium_memzero(pt, LB_ENVELOPE_CHUNK);
	lb_free(rec);
	lb_free(pt);
	return rc;
}

/* ---- memory and fd adapters ------------------------------------------------------------ */

struct mem_reader {
	const uint8_t *p; /* borrowed */
	size_t len, off;
};

static int mem_read(void *ctx, uint8_t *buf, size_t want, size_t *got)
{
	struct mem_reader *m = ctx;
	size_t n = m->len - m->off < want ? m->len - m->off : want;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	*got = n;
	return LB_OK;
}

static int buf_write(void *ctx, const uint8_t *buf, size_t n)
{
	if (n == 0)
		return LB_OK;
	return lb_buf_add(ctx, buf, n);
}

static int fd_read(void *ctx, uint8_t *buf, size_t want, size_t *got)
{
	int fd = *(int *)ctx;
	ssize_t r;
	do
		r = read(fd, buf, want);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return LB_EIO;
	*got = (size_t)r;
	return LB_OK;
}

static int fd_write(void *ctx, const uint8_t *buf, size_t n)
{
	return lb_fd_write_all(*(int *)ctx, buf, n);
}

int lb_envelope_seal(const uint8_t (*recipients)[LB_ENVELOPE_PKBYTES], size_t n,
		     const uint8_t *msg, size_t len, uint8_t **out, size_t *outlen,
		     struct lb_errmsg *em)
{
	struct mem_reader m = {msg, len, 0};
	struct lb_buf b;
	int rc;

	lb_buf_init(&b, SIZE_MAX / 2);
	rc = lb_envelope_seal_stream(recipients, n, mem_read, &m, buf_write, &b, em);
	if (rc != LB_OK) {
		lb_buf_release(&b);
		return rc;
	}
	*out = lb_buf_detach(&b, outlen);
	return LB_OK;
}

int lb_envelope_open(const uint8_t sk[LB_ENVELOPE_SKBYTES], const uint8_t pk[LB_ENVELOPE_PKBYTES],
		     const uint8_t *env, size_t len, size_t maxout, uint8_t **out, size_t *outlen,
		     struct lb_errmsg *em)
{
	struct mem_reader m = {env, len, 0};
	struct lb_buf b;
	int rc;

	lb_buf_init(&b, maxout);
	rc = lb_envelope_open_stream(sk, pk, mem_read, &m, buf_write, &b, em);
	if (rc != LB_OK) {
		if (b.data)
			sodium_memzero(b.data, b.len);
		lb_buf_release(&b);
		return rc;
	}
	*out = lb_buf_detach(&b, outlen);
	if (!*out) { /* empty plaintext: hand back a valid pointer */
		*out = lb_malloc(1);
		if (!*out)
			return lb_errf(em, LB_ENOMEM, "envelope: out of memory");
		*outlen = 0;
	}
	return LB_OK;
}

int lb_envelope_seal_fd(const uint8_t (*recipients)[LB_ENVELOPE_PKBYTES], size_t n, int in_fd,
			int out_fd, struct lb_errmsg *em)
{
	return lb_envelope_seal_stream(recipients, n, fd_read, &in_fd, fd_write, &out_fd, em);
}

int lb_envelope_open_fd(const uint8_t sk[LB_ENVELOPE_SKBYTES], const uint8_t pk[LB_ENVELOPE_PKBYTES],
			int in_fd, int out_fd, struct lb_errmsg *em)
{
	return lb_envelope_open_stream(sk, pk, fd_read, &in_fd, fd_write, &out_fd, em);
}
