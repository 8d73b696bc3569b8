/* Unit tests for the hexahedron model: canonical encoding (known answer, round trips, refusal
 * of non-canonical bytes), checks, public/private split with a sealed private part, the JSON
 * form, and the asset.register/update/retire payloads. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/data_hexa.h"
#include "leben/envelope.h"

static void sample(struct lb_hexa *h)
{
	uint8_t hash[32], md5[16];
	for (int i = 0; i < 32; i++)
		hash[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 16; i++)
		md5[i] = (uint8_t)(0xA0 + i);
	lb_hexa_init(h);
	assert_lb_ok(lb_hexa_set_str(h, "basic.name", "Chest CT series, 2023"));
	assert_lb_ok(lb_hexa_set_str(h, "basic.category", "imaging"));
	assert_lb_ok(lb_hexa_set_u64(h, "basic.size", 5242880));
	assert_lb_ok(lb_hexa_set_u64(h, "basic.created", 1700000000000ull));
	assert_lb_ok(lb_hexa_list_add(h, "semantic.codes", "snomed|38341003"));
	assert_lb_ok(lb_hexa_list_add(h, "semantic.codes", "icd10|I10"));
	assert_lb_ok(lb_hexa_list_add(h, "semantic.keywords", "hypertension"));
	assert_lb_ok(lb_hexa_set_str(h, "data.format", "dicom"));
	assert_lb_ok(lb_hexa_map_set(h, "data.features", "modality", "CT"));
	assert_lb_ok(lb_hexa_map_set(h, "data.features", "body_part", "CHEST"));
	assert_lb_ok(lb_hexa_share_set(h, "exchange.owners", "hospital-b", 4000));
	assert_lb_ok(lb_hexa_share_set(h, "exchange.owners", "hospital-a", 6000));
	assert_lb_ok(lb_hexa_set_str(h, "exchange.billing", "per_use"));
	assert_lb_ok(lb_hexa_set_u64(h, "exchange.price", 2500000));
	assert_lb_ok(lb_hexa_set_u64(h, "exchange.level", 2));
	assert_lb_ok(lb_hexa_set_u64(h, "dynamic.version", 1));
	assert_lb_ok(lb_hexa_set_bytes(h, "raw.blake2b", hash, 32));
	assert_lb_ok(lb_hexa_set_bytes(h, "raw.md5", md5, 16));
	assert_lb_ok(lb_hexa_set_u64(h, "audit.score", 8125));
	assert_lb_ok(lb_hexa_set_public(h, "basic", true));
	assert_lb_ok(lb_hexa_set_public(h, "semantic", true));
	assert_lb_ok(lb_hexa_set_public(h, "data", true));
	assert_lb_ok(lb_hexa_set_public(h, "raw.blake2b", true));
	assert_lb_ok(lb_hexa_set_public(h, "dynamic.version", true));
	assert_lb_ok(lb_hexa_set_public(h, "audit", true));
}

static void encode(const struct lb_hexa *h, struct lb_buf *b)
{
	lb_buf_init(b, LB_HEXA_MAX_ENCODED);
	assert_lb_ok(lb_hexa_encode(h, b));
}

/* Hand-computed bytes of a minimal description. */
static void test_known_answer(void **state)
{
	struct lb_hexa h;
	lb_hexa_init(&h);
	uint8_t hash[32];
	memset(hash, 0x11, 32);
	assert_lb_ok(lb_hexa_set_str(&h, "basic.name", "CT"));
	assert_lb_ok(lb_hexa_set_bytes(&h, "raw.blake2b", hash, 32));
	assert_lb_ok(lb_hexa_set_public(&h, "basic.name", true));
	assert_lb_ok(lb_hexa_set_public(&h, "raw.blake2b", true));
	struct lb_buf b;
	encode(&h, &b);
	/* version 1; mask = bit1|bit31 = 0x80000002 -> LEB128 82 80 80 80 08 (twice);
	 * field 1 "CT" -> 02 43 54; field 31 -> 32 x 11 */
	uint8_t want[1 + 5 + 5 + 3 + 32] = {0x01, 0x82, 0x80, 0x80, 0x80, 0x08, 0x82, 0x80,
					      0x80, 0x80, 0x08, 0x02, 'C',  'T'};
	memset(want + 14, 0x11, 32);
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	lb_buf_release(&b);
	lb_hexa_release(&h);
}

static void test_roundtrip_and_json(void **state)
{
	struct lb_hexa h, d, j;
	struct lb_errmsg em;
	sample(&h);
	assert_lb_ok(lb_hexa_check(&h, true, &em));
	struct lb_buf b1, b2, b3;
	encode(&h, &b1);
	assert_lb_ok(lb_hexa_decode(b1.data, b1.len, &d, &em));
	encode(&d, &b2);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);
	/* JSON form and back: same canonical bytes. */
	json_t *js = lb_hexa_to_json(&h);
	char *text = json_dumps(js, JSON_SORT_KEYS);
	json_decref(js);
	assert_non_null(strstr(text, "\"owners\": {\"hospital-a\": 6000, \"hospital-b\": 4000}"));
	json_t *back = json_loads(text, 0, NULL);
	free(text);
	if (lb_hexa_from_json(back, &j, &em))
		fail_msg("%s", em.text);
	json_decref(back);
	encode(&j, &b3);
	assert_int_equal(b1.len, b3.len);
	assert_memory_equal(b1.data, b3.data, b1.len);
	/* Order of insertion does not matter: lists and maps are sets. */
	assert_string_equal(d.v[12].keys[0], "icd10|I10");
	/* Every prefix is refused, never read past. */
	for (size_t cut = 0; cut < b1.len; cut++) {
		struct lb_hexa t;
		assert_int_not_equal(lb_hexa_decode(b1.data, cut, &t, &em), LB_OK);
	}
	/* Trailing byte refused. */
	uint8_t *ext = lb_malloc(b1.len + 1);
	memcpy(ext, b1.data, b1.len);
	ext[b1.len] = 0;
	struct lb_hexa t2;
	assert_int_equal(lb_hexa_decode(ext, b1.len + 1, &t2, &em), LB_EMALFORMED);
	lb_free(ext);
	lb_hexa_release(&d);
	lb_hexa_release(&j);
	lb_hexa_release(&h);
	lb_buf_release(&b1);
	lb_buf_release(&b2);
	lb_buf_release(&b3);
}

static void test_non_canonical(void **state)
{
	struct lb_hexa h;
	struct lb_errmsg em;
	/* Non-minimal varint for the version. */
	static const uint8_t nonmin[] = {0x81, 0x00, 0x00, 0x00};
	assert_int_equal(lb_hexa_decode(nonmin, sizeof nonmin, &h, &em), LB_EMALFORMED);
	/* Unknown version. */
	static const uint8_t v2[] = {0x02, 0x00, 0x00};
	assert_int_equal(lb_hexa_decode(v2, sizeof v2, &h, &em), LB_EUNSUPPORTED);
	/* Unknown field bit 40. */
	static const uint8_t unk[] = {0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20};
	assert_int_equal(lb_hexa_decode(unk, sizeof unk, &h, &em), LB_EMALFORMED);
	/* semantic.keywords (field 13, mask bit 13 = 0x2000 -> 80 40) with unsorted entries. */
	static const uint8_t unsorted[] = {0x01, 0x00, 0x80, 0x40, 0x02, 0x01, 'b', 0x01, 'a'};
	assert_int_equal(lb_hexa_decode(unsorted, sizeof unsorted, &h, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "increasing"));
	static const uint8_t dup[] = {0x01, 0x00, 0x80, 0x40, 0x02, 0x01, 'a', 0x01, 'a'};
	assert_int_equal(lb_hexa_decode(dup, sizeof dup, &h, &em), LB_EMALFORMED);
	static const uint8_t sorted[] = {0x01, 0x00, 0x80, 0x40, 0x02, 0x01, 'a', 0x01, 'b'};
	assert_lb_ok(lb_hexa_decode(sorted, sizeof sorted, &h, &em));
	lb_hexa_release(&h);
	/* Empty list and empty string. */
	static const uint8_t empty_list[] = {0x01, 0x00, 0x80, 0x40, 0x00};
	assert_int_equal(lb_hexa_decode(empty_list, sizeof empty_list, &h, &em), LB_EMALFORMED);
	static const uint8_t empty_str[] = {0x01, 0x00, 0x02, 0x00};
	assert_int_equal(lb_hexa_decode(empty_str, sizeof empty_str, &h, &em), LB_EMALFORMED);
	/* Invalid UTF-8 in a name. */
	static const uint8_t bad_utf8[] = {0x01, 0x00, 0x02, 0x02, 0xC3, 0x28};
	assert_int_equal(lb_hexa_decode(bad_utf8, sizeof bad_utf8, &h, &em), LB_EMALFORMED);
}

static void test_checks(void **state)
{
	struct lb_hexa h;
	struct lb_errmsg em;
	sample(&h);
	assert_lb_ok(lb_hexa_set_u64(&h, "exchange.level", 4));
	assert_int_equal(lb_hexa_check(&h, true, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "exchange.level"));
	assert_lb_ok(lb_hexa_set_u64(&h, "exchange.level", 3));
	assert_lb_ok(lb_hexa_share_set(&h, "exchange.owners", "hospital-b", 3000));
	assert_int_equal(lb_hexa_check(&h, true, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "9000"));
	assert_lb_ok(lb_hexa_share_set(&h, "exchange.owners", "hospital-b", 4000));
	assert_lb_ok(lb_hexa_check(&h, true, &em));
	assert_lb_ok(lb_hexa_list_add(&h, "semantic.codes", "snomed|138875006"));
	assert_int_equal(lb_hexa_check(&h, true, &em), LB_EINVALID);
	lb_hexa_clear_field(&h, lb_hexa_field_id("semantic.codes"));
	assert_lb_ok(lb_hexa_list_add(&h, "semantic.codes", "icd10cm|S03.4XXA"));
	assert_lb_ok(lb_hexa_check(&h, true, &em));
	assert_lb_ok(lb_hexa_list_add(&h, "semantic.codes", "icd10|S03.4XXA")); /* not WHO */
	assert_int_equal(lb_hexa_check(&h, true, &em), LB_EINVALID);
	lb_hexa_clear_field(&h, lb_hexa_field_id("semantic.codes"));
	assert_lb_ok(lb_hexa_set_str(&h, "exchange.billing", "whenever"));
	assert_int_equal(lb_hexa_check(&h, true, &em), LB_EINVALID);
	assert_lb_ok(lb_hexa_set_str(&h, "exchange.billing", "free"));
	lb_hexa_clear_field(&h, lb_hexa_field_id("raw.blake2b"));
	assert_int_equal(lb_hexa_check(&h, true, &em), LB_EINVALID);
	assert_lb_ok(lb_hexa_check(&h, false, &em));
	lb_hexa_release(&h);
	/* Setters refuse wrong types and sizes. */
	lb_hexa_init(&h);
	assert_int_equal(lb_hexa_set_u64(&h, "basic.name", 1), LB_EINVALID);
	assert_int_equal(lb_hexa_set_bytes(&h, "raw.md5", (const uint8_t *)"abc", 3), LB_EINVALID);
	assert_int_equal(lb_hexa_set_public(&h, "nosuch", true), LB_EINVALID);
	lb_hexa_release(&h);
}

/* Public part in clear, private part sealed to an authorised reader; the other party can read
 * only the public part; the tx payload carries both and passes the stateless check. */
static void test_split_seal_and_tx(void **state)
{
	struct lb_hexa h, pub, priv, pub2, priv2, merged;
	struct lb_errmsg em;
	sample(&h);
	assert_lb_ok(lb_hexa_split(&h, &pub, &priv));
	assert_true((pub.present & ~pub.public_mask) == 0);
	assert_true((priv.present & priv.public_mask) == 0);
	assert_non_null(lb_hexa_get_str(&pub, "basic.name"));
	assert_null(lb_hexa_get_str(&pub, "exchange.billing"));
	assert_non_null(lb_hexa_get_str(&priv, "exchange.billing"));
	struct lb_buf pb, vb;
	encode(&pub, &pb);
	encode(&priv, &vb);
	uint8_t rpk[32], rsk[32], opk[32], osk[32];
	lb_envelope_keypair(rpk, rsk);
	lb_envelope_keypair(opk, osk);
	const uint8_t(*recips)[32] = (const uint8_t(*)[32])rpk;
	uint8_t *env, *plain;
	size_t envlen, plainlen;
	assert_lb_ok(lb_envelope_seal(recips, 1, vb.data, vb.len, &env, &envlen, &em));
	struct lb_asset_tx tx = {.op = LB_ASSET_REGISTER, .version = 1, .pub = pb.data,
				 .pub_len = pb.len, .priv_env = env, .priv_env_len = envlen};
	lb_asset_id(tx.asset_id, "hospital-a", h.v[31].b, 1700000000000ull);
	struct lb_buf txb;
	lb_buf_init(&txb, 1 << 20);
	assert_lb_ok(lb_asset_tx_encode(&tx, &txb));
	struct lb_asset_tx dec;
	assert_lb_ok(lb_asset_tx_decode(txb.data, txb.len, &dec, &em));
	if (lb_asset_tx_check(&dec, &em))
		fail_msg("%s", em.text);
	assert_memory_equal(dec.asset_id, tx.asset_id, 32);
	/* The authorised reader recovers everything; another key cannot. */
	assert_int_equal(lb_envelope_open(osk, opk, dec.priv_env, dec.priv_env_len, 1 << 20, &plain,
					  &plainlen, &em),
			 LB_EWRONGKEY);
	assert_lb_ok(lb_envelope_open(rsk, rpk, dec.priv_env, dec.priv_env_len, 1 << 20, &plain,
				      &plainlen, &em));
	assert_lb_ok(lb_hexa_decode(dec.pub, dec.pub_len, &pub2, &em));
	assert_lb_ok(lb_hexa_decode(plain, plainlen, &priv2, &em));
	assert_lb_ok(lb_hexa_merge(&pub2, &priv2, &merged, &em));
	struct lb_buf a, b;
	encode(&h, &a);
	encode(&merged, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* Overlapping parts are refused. */
	struct lb_hexa bad;
	assert_int_equal(lb_hexa_merge(&pub2, &pub2, &bad, &em), LB_EINVALID);
	/* Stateless check refusals: version, private data in the public part. */
	tx.version = 2;
	assert_int_equal(lb_asset_tx_check(&tx, &em), LB_EINVALID);
	tx.version = 1;
	tx.pub = a.data; /* full description incl. private fields */
	tx.pub_len = a.len;
	assert_int_equal(lb_asset_tx_check(&tx, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "private"));
	/* Retire round trip; trailing bytes refused. */
	struct lb_asset_tx rt = {.op = LB_ASSET_RETIRE, .version = 3};
	memcpy(rt.asset_id, tx.asset_id, 32);
	snprintf(rt.reason, sizeof rt.reason, "consent withdrawn");
	lb_buf_reset(&txb);
	assert_lb_ok(lb_asset_tx_encode(&rt, &txb));
	assert_lb_ok(lb_asset_tx_decode(txb.data, txb.len, &dec, &em));
	assert_string_equal(dec.reason, "consent withdrawn");
	assert_lb_ok(lb_asset_tx_check(&dec, &em));
	assert_lb_ok(lb_buf_addc(&txb, 0));
	assert_int_equal(lb_asset_tx_decode(txb.data, txb.len, &dec, &em), LB_EMALFORMED);
	lb_free(env);
	lb_free(plain);
	lb_buf_release(&pb);
	lb_buf_release(&vb);
	lb_buf_release(&txb);
	lb_buf_release(&a);
	lb_buf_release(&b);
	lb_hexa_release(&h);
	lb_hexa_release(&pub);
	lb_hexa_release(&priv);
	lb_hexa_release(&pub2);
	lb_hexa_release(&priv2);
	lb_hexa_release(&merged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer), cmocka_unit_test(test_roundtrip_and_json),
		cmocka_unit_test(test_non_canonical), cmocka_unit_test(test_checks),
		cmocka_unit_test(test_split_seal_and_tx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
