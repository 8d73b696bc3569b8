/*
 * CP-ABE, Waters 2011 in its large-universe form on BLS12-381 (asymmetric pairing
 * e: G1 x G2 -> GT), with hybrid encryption. With H(x) = hash_to_G1(authority || x):
 *   setup:   alpha, a random; pk = (g1^a, e(g1, g2)^alpha); msk = alpha
 *   keygen:  t random; K = g1^alpha * (g1^a)^t, L = g2^t, K_x = H(x)^t for each attribute x
 *   encrypt: s random, shares lambda_i of s over the policy tree (abe_policy.c), r_i random;
 *            C' = g2^s, C_i = (g1^a)^lambda_i * H(rho(i))^-r_i, D_i = g2^r_i;
 *            the payload key is BLAKE2b of e(g1, g2)^(alpha s)
 *   decrypt: with omega_i reconstructing s from the leaves the key satisfies,
 *            e(K, C') * e(prod C_i^-omega_i, L) * prod e(K_rho(i)^-omega_i, D_i) = e(g1, g2)^(alpha s)
 *            (one multi-pairing, one final exponentiation).
 * The payload is XChaCha20-Poly1305 under that key, with the whole header as associated data.
 * Wire forms: see lb_abe_encrypt below and docs/security.md §11.
 */
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "crypto/abe_int.h"
#include "leben/base.h"

static const char ATTR_DST[] = "LEBEN-ABE-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
static const uint8_t CT_MAGIC[6] = {'L', 'B', 'A', 'B', 'E', '1'};
static const uint8_t KEY_MAGIC[7] = {'L', 'B', 'A', 'B', 'E', 'K', '1'};
static const uint8_t PK_MAGIC[6] = {'L', 'B', 'A', 'B', 'E', 'P'};
static const uint8_t MSK_MAGIC[7] = {'L', 'B', 'A', 'B', 'E', 'M', 'K'};

struct lb_abe_key {
	uint8_t authority[LB_ABE_AUTHORITY_LEN]; /* issuing authority */
	uint8_t identity[LB_ABE_IDENTITY_LEN];   /* the user it was issued to */
	struct lb_bls_g1 k;                      /* g1^alpha (g1^a)^t */
	struct lb_bls_g2 l;                      /* g2^t */
	size_t n;                                /* attributes */
	char **attr;                             /* attribute names (owned) */
	struct lb_bls_g1 *kx;                    /* H(attr)^t per attribute (owned) */
};

static void attr_hash(struct lb_bls_g1 *out, const uint8_t authority[LB_ABE_AUTHORITY_LEN],
		      const char *attr)
{
	uint8_t buf[LB_ABE_AUTHORITY_LEN + LB_ABE_MAX_ATTR];
	size_t n = strlen(attr);
	memcpy(buf, authority, LB_ABE_AUTHORITY_LEN);
	memcpy(buf + LB_ABE_AUTHORITY_LEN, attr, n);
	(void)lb_bls_g1_hash(out, buf, LB_ABE_AUTHORITY_LEN + n, (const uint8_t *)ATTR_DST,
			     sizeof ATTR_DST - 1);
}

static void egg(struct lb_bls_gt *out)
{
	struct lb_bls_g1 g;
	struct lb_bls_g2 h;
	lb_bls_g1_generator(&g);
	lb_bls_g2_generator(&h);
	lb_bls_pairing(out, &g, &h);
}

/* the payload key from the GT secret */
static void kdf(uint8_t key[32], const struct lb_bls_gt *z)
{
	uint8_t b[LB_BLS_GT_BYTES];
	crypto_generichash_state st;
	lb_bls_gt_to_bytes(b, z);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"LEBEN abe v1 key", 16);
	crypto_generichash_update(&st, b, sizeof b);
	crypto_generichash_final(&st, key, 32);
	sodium_memzero(b, sizeof b);
}

void lb_abe_setup(struct lb_abe_pk *pk, struct lb_abe_msk *msk,
		  const uint8_t authority[LB_ABE_AUTHORITY_LEN])
{
	struct lb_bls_scalar a;
	struct lb_bls_g1 g;
	struct lb_bls_gt e;
	lb_bls_scalar_random(&msk->alpha);
	lb_bls_scalar_random(&a);
	memcpy(msk->authority, authority, LB_ABE_AUTHORITY_LEN);
	memcpy(pk->authority, authority, LB_ABE_AUTHORITY_LEN);
	lb_bls_g1_generator(&g);
	lb_bls_g1_mul(&pk->g1a, &g, &a);
	egg(&e);
	lb_bls_gt_pow(&pk->egg_alpha, &e, &msk->alpha);
	sodium_memzero(&a, sizeof a);
}

void lb_abe_msk_wipe(struct lb_abe_msk *msk) { sodium_memzero(msk, sizeof *msk); }

static int attr_ok(const char *a, struct lb_errmsg *em)
{
	size_t n = strlen(a);
	if (n == 0 || n > LB_ABE_MAX_ATTR)
		return lb_errf(em, LB_EINVALID, "attribute \"%.40s\": must be 1 to %d bytes", a, LB_ABE_MAX_ATTR);
	for (size_t i = 0; i < n; i++)
		if (!abe_attr_char((unsigned char)a[i]))
			return lb_errf(em, LB_EINVALID,
				       "attribute \"%.40s\": byte %zu is not a letter, digit or one of _:.@/-+=", a, i);
	if ((n == 2 && strncasecmp(a, "or", 2) == 0) || (n == 3 && (strncasecmp(a, "and", 3) == 0 ||
								      strncasecmp(a, "of", 3) == 0)))
		return lb_errf(em, LB_EINVALID, "attribute \"%s\": a keyword of the policy language", a);
	return LB_OK;
}

static struct lb_abe_key *key_alloc(size_t n)
{
	struct lb_abe_key *k = lb_calloc(1, sizeof *k);
	if (!k)
		return NULL;
	k->attr = lb_calloc(n ? n : 1, sizeof *k->attr);
	k->kx = lb_calloc(n ? n : 1, sizeof *k->kx);
	if (!k->attr || !k->kx) {
		lb_free(k->attr);
		lb_free(k->kx);
		lb_free(k);
		return NULL;
	}
	return k;
}

void lb_abe_key_free(struct lb_abe_key *key)
{
	if (!key)
		return;
	for (size_t i = 0; i < key->n; i++)
		lb_free(key->attr[i]);
	lb_free(key->attr);
	if (key->kx)
		sodium_memzero(key->kx, key->n * sizeof *key->kx);
	lb_free(key->kx);
	sodium_memzero(key, sizeof *key);
	lb_free(key);
}

const char *lb_abe_key_attr(const struct lb_abe_key *key, size_t i)
{
	return i < key->n ? key->attr[i] : NULL;
}

static int key_has(const void *ctx, const char *attr)
{
	const struct lb_abe_key *k = ctx;
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->attr[i], attr) == 0)
			return 1;
	return 0;
}

static const struct lb_bls_g1 *key_kx(const struct lb_abe_key *k, const char *attr)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->attr[i], attr) == 0)
			return &k->kx[i];
	return NULL;
}

int lb_abe_keygen(struct lb_abe_key **out, const struct lb_abe_pk *pk, const struct lb_abe_msk *msk,
		  const uint8_t identity[LB_ABE_IDENTITY_LEN], const char *const *attrs, size_t n,
		  struct lb_errmsg *em)
{
	struct lb_bls_scalar t;
	struct lb_bls_g1 g, ga;
	struct lb_bls_g2 h;
	struct lb_bls_gt e;
	int rc;
	if (n > LB_ABE_MAX_KEY_ATTRS)
		return lb_errf(em, LB_EINVALID, "keygen: %zu attributes, at most %d", n, LB_ABE_MAX_KEY_ATTRS);
	for (size_t i = 0; i < n; i++) {
		if ((rc = attr_ok(attrs[i], em)) != LB_OK)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(attrs[i], attrs[j]) == 0)
				return lb_errf(em, LB_EINVALID, "keygen: attribute \"%s\" given twice", attrs[i]);
	}
	egg(&e);
	lb_bls_gt_pow(&e, &e, &msk->alpha);
	if (memcmp(pk->authority, msk->authority, LB_ABE_AUTHORITY_LEN) != 0 ||
	    !lb_bls_gt_equal(&e, &pk->egg_alpha))
		return lb_errf(em, LB_EWRONGKEY, "keygen: the master key is not the one of these public parameters");
	struct lb_abe_key *k = key_alloc(n);
	if (!k)
		return lb_errf(em, LB_ENOMEM, "keygen: out of memory");
	memcpy(k->authority, pk->authority, LB_ABE_AUTHORITY_LEN);
	memcpy(k->identity, identity, LB_ABE_IDENTITY_LEN);
	lb_bls_scalar_random(&t);
	lb_bls_g1_generator(&g);
	lb_bls_g1_mul(&k->k, &g, &msk->alpha);
	lb_bls_g1_mul(&ga, &pk->g1a, &t);
	lb_bls_g1_add(&k->k, &k->k, &ga);
	lb_bls_g2_generator(&h);
	lb_bls_g2_mul(&k->l, &h, &t);
	for (size_t i = 0; i < n; i++) {
		struct lb_bls_g1 hx;
		if (!(k->attr[i] = lb_strdup(attrs[i]))) {
			lb_abe_key_free(k);
			sodium_memzero(&t, sizeof t);
			return lb_errf(em, LB_ENOMEM, "keygen: out of memory");
		}
		k->n = i + 1;
		attr_hash(&hx, pk->authority, attrs[i]);
		lb_bls_g1_mul(&k->kx[i], &hx, &t);
	}
	k->n = n;
	sodium_memzero(&t, sizeof t);
	*out = k;
	return LB_OK;
}

int lb_abe_policy_check(const char *policy, struct lb_errmsg *em)
{
	struct abe_node *root;
	int leaves, rc = abe_policy_parse(&root, &leaves, policy, em);
	if (rc == LB_OK)
		abe_policy_free(root);
	return rc;
}

/* leaf_of[i] = the leaf of row i (the tree's depth is bounded by the parser) */
static void leaves_of(const struct abe_node *nd, const struct abe_node **leaf_of)
{
	if (nd->k == 0)
		leaf_of[nd->leaf] = nd;
	else
		for (int i = 0; i < nd->n; i++)
			leaves_of(nd->child[i], leaf_of);
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t get16(const uint8_t *p) { return (size_t)p[0] << 8 | p[1]; }

#define ROW_BYTES (LB_BLS_G1_BYTES + LB_BLS_G2_BYTES)
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

/*
 * Ciphertext: "LBABE1" | authority (32) | policy length (2, big-endian) | policy text |
 * C' (96) | rows (2) | rows x (C_i (48) | D_i (96)), in the policy's leaf order | nonce (24) |
 * XChaCha20-Poly1305 of the payload with everything before the nonce as associated data.
 */
int lb_abe_encrypt(uint8_t **out, size_t *out_len, const struct lb_abe_pk *pk, const char *policy,
		   const uint8_t *msg, size_t len, struct lb_errmsg *em)
{
	struct abe_node *root;
	int leaves, rc;
	struct lb_bls_scalar s, *lambda = NULL;
	struct lb_bls_gt z;
	uint8_t key[32];
	if ((rc = abe_policy_parse(&root, &leaves, policy, em)) != LB_OK)
		return rc;
	size_t plen = strlen(policy);
	size_t head = sizeof CT_MAGIC + LB_ABE_AUTHORITY_LEN + 2 + plen + LB_BLS_G2_BYTES + 2 +
		      (size_t)leaves * ROW_BYTES;
	if (len > SIZE_MAX - head - NONCE_BYTES - TAG_BYTES) {
		abe_policy_free(root);
		return lb_errf(em, LB_ETOOBIG, "encrypt: payload too large");
	}
	size_t total = head + NONCE_BYTES + len + TAG_BYTES;
	uint8_t *ct = lb_malloc(total);
	lambda = lb_calloc((size_t)leaves, sizeof *lambda);
	if (!ct || !lambda) {
		rc = lb_errf(em, LB_ENOMEM, "encrypt: out of memory");
		goto err_free;
	}
	lb_bls_scalar_random(&s);
	if ((rc = abe_policy_share(root, &s, lambda)) != LB_OK) {
		rc = lb_errf(em, rc, "encrypt: out of memory");
		goto err_free;
	}
	uint8_t *p = ct;
	memcpy(p, CT_MAGIC, sizeof CT_MAGIC);
	p += sizeof CT_MAGIC;
	memcpy(p, pk->authority, LB_ABE_AUTHORITY_LEN);
	p += LB_ABE_AUTHORITY_LEN;
	put16(p, plen);
	memcpy(p + 2, policy, plen);
	p += 2 + plen;
	struct lb_bls_g2 h, c2;
	lb_bls_g2_generator(&h);
	lb_bls_g2_mul(&c2, &h, &s);
	lb_bls_g2_compress(p, &c2);
	p += LB_BLS_G2_BYTES;
	put16(p, (size_t)leaves);
	p += 2;
	/* rows in leaf order */
	const struct abe_node *leaf_of[LB_ABE_MAX_LEAVES];
	leaves_of(root, leaf_of);
	for (int i = 0; i < leaves; i++) {
		struct lb_bls_scalar r;
		struct lb_bls_g1 ci, hx;
		struct lb_bls_g2 di;
		lb_bls_scalar_random(&r);
		lb_bls_g1_mul(&ci, &pk->g1a, &lambda[i]);
		attr_hash(&hx, pk->authority, leaf_of[i]->attr);
		lb_bls_g1_mul(&hx, &hx, &r);
		lb_bls_g1_neg(&hx, &hx);
		lb_bls_g1_add(&ci, &ci, &hx);
		lb_bls_g2_mul(&di, &h, &r);
		lb_bls_g1_compress(p, &ci);
		lb_bls_g2_compress(p + LB_BLS_G1_BYTES, &di);
		p += ROW_BYTES;
		sodium_memzero(&r, sizeof r);
	}
	lb_bls_gt_pow(&z, &pk->egg_alpha, &s);
	kdf(key, &z);
	randombytes_buf(p, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + NONCE_BYTES, NULL, msg, len, ct, head, NULL, p, key);
	*out = ct;
	*out_len = total;
	ct = NULL;
	rc = LB_OK;
err_free:
	sodium_memzero(key, sizeof key);
	sodium_memzero(&s, sizeof s);
	sodium_memzero(&z, sizeof z);
	if (lambda)
		sodium_memzero(lambda, (size_t)leaves * sizeof *lambda);
	lb_free(lambda);
	lb_free(ct);
	abe_policy_free(root);
	return rc;
}

/* the parsed header of a ciphertext */
struct ct_view {
	const uint8_t *authority; /* 32 bytes */
	char *policy;             /* NUL-terminated copy (owned) */
	const uint8_t *c2;        /* C' */
	size_t rows;              /* number of rows */
	const uint8_t *row;       /* the rows */
	size_t head;              /* bytes of associated data */
};

static int ct_parse(struct ct_view *v, const uint8_t *ct, size_t n, struct lb_errmsg *em)
{
	size_t need = sizeof CT_MAGIC + LB_ABE_AUTHORITY_LEN + 2;
	if (n < need || memcmp(ct, CT_MAGIC, sizeof CT_MAGIC) != 0)
		return lb_errf(em, LB_EMALFORMED, "ciphertext: not an ABE ciphertext (no LBABE1 header)");
	v->authority = ct + sizeof CT_MAGIC;
	size_t plen = get16(ct + need - 2);
	if (plen == 0 || plen > LB_ABE_MAX_POLICY || n < need + plen + LB_BLS_G2_BYTES + 2)
		return lb_errf(em, LB_EMALFORMED, "ciphertext: truncated or bad policy length %zu", plen);
	if (memchr(ct + need, 0, plen))
		return lb_errf(em, LB_EMALFORMED, "ciphertext: NUL byte in the policy");
	v->c2 = ct + need + plen;
	v->rows = get16(v->c2 + LB_BLS_G2_BYTES);
	v->row = v->c2 + LB_BLS_G2_BYTES + 2;
	v->head = (size_t)(v->row - ct) + v->rows * ROW_BYTES;
	if (v->rows == 0 || v->rows > LB_ABE_MAX_LEAVES || n < v->head + NONCE_BYTES + TAG_BYTES)
		return lb_errf(em, LB_EMALFORMED, "ciphertext: truncated (%zu bytes for %zu rows)", n, v->rows);
	if (!(v->policy = lb_malloc(plen + 1)))
		return lb_errf(em, LB_ENOMEM, "ciphertext: out of memory");
	memcpy(v->policy, ct + need, plen);
	v->policy[plen] = 0;
	return LB_OK;
}

int lb_abe_ciphertext_policy(char **policy, const uint8_t *ct, size_t ct_len, struct lb_errmsg *em)
{
	struct ct_view v;
	int rc = ct_parse(&v, ct, ct_len, em);
	if (rc == LB_OK)
		*policy = v.policy;
	return rc;
}

int lb_abe_decrypt(uint8_t **out, size_t *out_len, const struct lb_abe_pk *pk,
		   const struct lb_abe_key *key, const uint8_t *ct, size_t ct_len,
		   struct lb_errmsg *em)
{
	struct ct_view v;
	struct abe_node *root = NULL;
	int leaves, rc;
	uint8_t *used = NULL, k[32];
	struct lb_bls_scalar *omega = NULL;
	struct lb_bls_g1 *p1 = NULL;
	struct lb_bls_g2 *q2 = NULL;
	uint8_t *pt = NULL;
	if ((rc = ct_parse(&v, ct, ct_len, em)) != LB_OK)
		return rc;
	if (memcmp(v.authority, pk->authority, LB_ABE_AUTHORITY_LEN) != 0 ||
	    memcmp(key->authority, pk->authority, LB_ABE_AUTHORITY_LEN) != 0) {
		rc = lb_errf(em, LB_EWRONGKEY, "decrypt: the ciphertext or the key is of another authority");
		goto err_free;
	}
	if ((rc = abe_policy_parse(&root, &leaves, v.policy, em)) != LB_OK) {
		lb_errwrap(em, "ciphertext: ");
		if (em)
			em->code = LB_EMALFORMED;
		rc = LB_EMALFORMED;
		goto err_free;
	}
	if ((size_t)leaves != v.rows) {
		rc = lb_errf(em, LB_EMALFORMED, "ciphertext: %zu rows for a policy of %d attributes", v.rows, leaves);
		goto err_free;
	}
	used = lb_calloc((size_t)leaves, 1);
	omega = lb_calloc((size_t)leaves, sizeof *omega);
	p1 = lb_calloc((size_t)leaves + 2, sizeof *p1);
	q2 = lb_calloc((size_t)leaves + 2, sizeof *q2);
	pt = lb_malloc(ct_len - v.head - NONCE_BYTES - TAG_BYTES + 1);
	if (!used || !omega || !p1 || !q2 || !pt) {
		rc = lb_errf(em, LB_ENOMEM, "decrypt: out of memory");
		goto err_free;
	}
	if (!abe_policy_satisfy(root, key_has, key, used, omega)) {
		rc = lb_errf(em, LB_EDENIED, "decrypt: the key's attributes do not satisfy the policy \"%.300s\"",
			     v.policy);
		goto err_free;
	}
	/* pairs: (K, C'), (prod C_i^-omega_i, L), (K_x^-omega_i, D_i) for each used row */
	size_t np = 2;
	struct lb_bls_g1 acc, t;
	lb_bls_g1_identity(&acc);
	p1[0] = key->k;
	if (lb_bls_g2_decompress(&q2[0], v.c2) != LB_OK) {
		rc = lb_errf(em, LB_EMALFORMED, "ciphertext: C' is not a point of G2");
		goto err_free;
	}
	const struct abe_node *leaf_of[LB_ABE_MAX_LEAVES];
	leaves_of(root, leaf_of);
	for (int i = 0; i < leaves; i++) {
		struct lb_bls_g1 ci;
		struct lb_bls_scalar nw;
		if (!used[i])
			continue;
		const uint8_t *row = v.row + (size_t)i * ROW_BYTES;
		if (lb_bls_g1_decompress(&ci, row) != LB_OK ||
		    lb_bls_g2_decompress(&q2[np], row + LB_BLS_G1_BYTES) != LB_OK) {
			rc = lb_errf(em, LB_EMALFORMED, "ciphertext: row %d is not a pair of points", i);
			goto err_free;
		}
		lb_bls_scalar_neg(&nw, &omega[i]);
		lb_bls_g1_mul(&t, &ci, &nw);
		lb_bls_g1_add(&acc, &acc, &t);
		lb_bls_g1_mul(&p1[np], key_kx(key, leaf_of[i]->attr), &nw);
		np++;
	}
	p1[1] = acc;
	q2[1] = key->l;
	struct lb_bls_gt z;
	lb_bls_pairing_product(&z, p1, q2, np);
	kdf(k, &z);
	sodium_memzero(&z, sizeof z);
	const uint8_t *nonce = ct + v.head;
	unsigned long long mlen;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL, nonce + NONCE_BYTES,
						       ct_len - v.head - NONCE_BYTES, ct, v.head, nonce, k) != 0) {
		rc = lb_errf(em, LB_ETAMPERED, "decrypt: authentication failed (the ciphertext was altered, or the key was not issued by this authority as one key)");
		goto err_free;
	}
	pt[mlen] = 0;
	*out = pt;
	*out_len = (size_t)mlen;
	pt = NULL;
	rc = LB_OK;
err_free:
	sodium_memzero(k, sizeof k);
	if (p1)
		sodium_memzero(p1, ((size_t)leaves + 2) * sizeof *p1);
	lb_free(pt);
	lb_free(used);
	lb_free(omega);
	lb_free(p1);
	lb_free(q2);
	abe_policy_free(root);
	lb_free(v.policy);
	return rc;
}

/* ---- encodings ---- */

void lb_abe_pk_encode(uint8_t out[LB_ABE_PK_BYTES], const struct lb_abe_pk *pk)
{
	memcpy(out, PK_MAGIC, sizeof PK_MAGIC);
	memcpy(out + 6, pk->authority, LB_ABE_AUTHORITY_LEN);
	lb_bls_g1_compress(out + 6 + LB_ABE_AUTHORITY_LEN, &pk->g1a);
	lb_bls_gt_to_bytes(out + 6 + LB_ABE_AUTHORITY_LEN + LB_BLS_G1_BYTES, &pk->egg_alpha);
}

int lb_abe_pk_decode(struct lb_abe_pk *pk, const uint8_t *in, size_t len, struct lb_errmsg *em)
{
	struct lb_abe_pk t;
	if (len != LB_ABE_PK_BYTES || memcmp(in, PK_MAGIC, sizeof PK_MAGIC) != 0)
		return lb_errf(em, LB_EMALFORMED, "ABE public parameters: want %d bytes starting LBABEP", LB_ABE_PK_BYTES);
	memcpy(t.authority, in + 6, LB_ABE_AUTHORITY_LEN);
	if (lb_bls_g1_decompress(&t.g1a, in + 6 + LB_ABE_AUTHORITY_LEN) != LB_OK ||
	    lb_bls_g1_is_identity(&t.g1a))
		return lb_errf(em, LB_EMALFORMED, "ABE public parameters: g1^a is not a point of G1");
	if (lb_bls_gt_from_bytes(&t.egg_alpha, in + 6 + LB_ABE_AUTHORITY_LEN + LB_BLS_G1_BYTES) != LB_OK ||
	    lb_bls_gt_is_one(&t.egg_alpha))
		return lb_errf(em, LB_EMALFORMED, "ABE public parameters: e(g1,g2)^alpha is not an element of GT");
	*pk = t;
	return LB_OK;
}

void lb_abe_msk_encode(uint8_t out[LB_ABE_MSK_BYTES], const struct lb_abe_msk *msk)
{
	memcpy(out, MSK_MAGIC, sizeof MSK_MAGIC);
	memcpy(out + 7, msk->authority, LB_ABE_AUTHORITY_LEN);
	lb_bls_scalar_to_bytes(out + 7 + LB_ABE_AUTHORITY_LEN, &msk->alpha);
}

int lb_abe_msk_decode(struct lb_abe_msk *msk, const uint8_t *in, size_t len, struct lb_errmsg *em)
{
	if (len != LB_ABE_MSK_BYTES || memcmp(in, MSK_MAGIC, sizeof MSK_MAGIC) != 0)
		return lb_errf(em, LB_EMALFORMED, "ABE master key: want %d bytes starting LBABEMK", LB_ABE_MSK_BYTES);
	if (lb_bls_scalar_from_bytes(&msk->alpha, in + 7 + LB_ABE_AUTHORITY_LEN) != LB_OK)
		return lb_errf(em, LB_EMALFORMED, "ABE master key: alpha is not below r");
	memcpy(msk->authority, in + 7, LB_ABE_AUTHORITY_LEN);
	return LB_OK;
}

/* "LBABEK1" | authority (32) | identity (32) | K (48) | L (96) | n (2) | n x (len (1) | name | K_x (48)) */
int lb_abe_key_encode(uint8_t **out, size_t *out_len, const struct lb_abe_key *key)
{
	size_t total = sizeof KEY_MAGIC + 2 * 32 + LB_BLS_G1_BYTES + LB_BLS_G2_BYTES + 2;
	for (size_t i = 0; i < key->n; i++)
		total += 1 + strlen(key->attr[i]) + LB_BLS_G1_BYTES;
	uint8_t *b = lb_malloc(total), *p = b;
	if (!b)
		return LB_ENOMEM;
	memcpy(p, KEY_MAGIC, sizeof KEY_MAGIC);
	p += sizeof KEY_MAGIC;
	memcpy(p, key->authority, 32);
	memcpy(p + 32, key->identity, 32);
	p += 64;
	lb_bls_g1_compress(p, &key->k);
	lb_bls_g2_compress(p + LB_BLS_G1_BYTES, &key->l);
	p += LB_BLS_G1_BYTES + LB_BLS_G2_BYTES;
	put16(p, key->n);
	p += 2;
	for (size_t i = 0; i < key->n; i++) {
		size_t n = strlen(key->attr[i]);
		*p++ = (uint8_t)n;
		memcpy(p, key->attr[i], n);
		p += n;
		lb_bls_g1_compress(p, &key->kx[i]);
		p += LB_BLS_G1_BYTES;
	}
	*out = b;
	*out_len = total;
	return LB_OK;
}

int lb_abe_key_decode(struct lb_abe_key **out, const uint8_t *in, size_t len, struct lb_errmsg *em)
{
	size_t fixed = sizeof KEY_MAGIC + 64 + LB_BLS_G1_BYTES + LB_BLS_G2_BYTES + 2;
	if (len < fixed || memcmp(in, KEY_MAGIC, sizeof KEY_MAGIC) != 0)
		return lb_errf(em, LB_EMALFORMED, "ABE key: too short or no LBABEK1 header");
	size_t n = get16(in + fixed - 2);
	if (n > LB_ABE_MAX_KEY_ATTRS)
		return lb_errf(em, LB_EMALFORMED, "ABE key: %zu attributes, at most %d", n, LB_ABE_MAX_KEY_ATTRS);
	struct lb_abe_key *k = key_alloc(n);
	int rc = LB_OK;
	if (!k)
		return lb_errf(em, LB_ENOMEM, "ABE key: out of memory");
	const uint8_t *p = in + sizeof KEY_MAGIC, *end = in + len;
	memcpy(k->authority, p, 32);
	memcpy(k->identity, p + 32, 32);
	p += 64;
	if (lb_bls_g1_decompress(&k->k, p) != LB_OK || lb_bls_g2_decompress(&k->l, p + LB_BLS_G1_BYTES) != LB_OK) {
		rc = lb_errf(em, LB_EMALFORMED, "ABE key: K or L is not a point");
		goto err_free;
	}
	p += LB_BLS_G1_BYTES + LB_BLS_G2_BYTES + 2;
	for (size_t i = 0; i < n; i++) {
		size_t an;
		if (p >= end || (an = *p) == 0 || (size_t)(end - p) < 1 + an + LB_BLS_G1_BYTES) {
			rc = lb_errf(em, LB_EMALFORMED, "ABE key: attribute %zu truncated", i);
			goto err_free;
		}
		if (!(k->attr[i] = lb_malloc(an + 1))) {
			rc = lb_errf(em, LB_ENOMEM, "ABE key: out of memory");
			goto err_free;
		}
		k->n = i + 1;
		memcpy(k->attr[i], p + 1, an);
		k->attr[i][an] = 0;
		if (memchr(p + 1, 0, an) || attr_ok(k->attr[i], NULL) != LB_OK || key_kx(k, k->attr[i]) != &k->kx[i]) {
			rc = lb_errf(em, LB_EMALFORMED, "ABE key: attribute %zu is not a valid, distinct name", i);
			goto err_free;
		}
		if (lb_bls_g1_decompress(&k->kx[i], p + 1 + an) != LB_OK) {
			rc = lb_errf(em, LB_EMALFORMED, "ABE key: attribute %zu's element is not a point of G1", i);
			goto err_free;
		}
		p += 1 + an + LB_BLS_G1_BYTES;
	}
	if (p != end) {
		rc = lb_errf(em, LB_EMALFORMED, "ABE key: %zu trailing bytes", (size_t)(end - p));
		goto err_free;
	}
	*out = k;
	return LB_OK;
err_free:
	lb_abe_key_free(k);
	return rc;
}
