/* Unit tests for the vault (sealed objects addressed by content hash), the description step
 * of registration on real files, and the change scan of watch. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "leben/base.h"
#include "leben/data_coding.h"
#include "leben/data_extract.h"
#include "leben/data_hexa.h"
#include "leben/data_dedup.h"
#include "leben/data_vault.h"
#include "leben/envelope.h"

static const char *root(const char *rel)
{
	static char buf[2][4096];
	static int k;
	const char *r = getenv("LEBEN_ROOT");
	k ^= 1;
	snprintf(buf[k], sizeof buf[k], "%s/%s", r ? r : ".", rel);
	return buf[k];
}

static char *objpath(const char *dir, const char *ref, const char *ext)
{
	static char p[4096];
	snprintf(p, sizeof p, "%s/%.2s/%s.%s", dir, ref, ref, ext);
	return p;
}

static void rmrf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_vault(void **state)
{
	char dir[] = "/tmp/leben-vault-XXXXXX";
	assert_non_null(mkdtemp(dir));
	uint8_t pk[32], sk[32], pk2[32], sk2[32];
	lb_envelope_keypair(pk, sk);
	lb_envelope_keypair(pk2, sk2);
	const char *msg = "raw patient data that must never be stored in clear";
	char ref[65];
	struct lb_errmsg em;
	assert_lb_ok(lb_vault_put(dir, (const uint8_t(*)[32])pk, 1, (const uint8_t *)msg,
				  strlen(msg), ref, &em));
	/* neither the object nor the key table holds plaintext */
	char path[4096];
	snprintf(path, sizeof path, "%s", objpath(dir, ref, "lbo"));
	uint8_t *raw;
	size_t rawlen;
	assert_lb_ok(lb_file_read(path, 1 << 20, &raw, &rawlen, &em));
	for (size_t i = 0; i + 7 <= rawlen; i++)
		assert_false(memcmp(raw + i, "patient", 7) == 0);
	uint8_t *out;
	size_t len;
	assert_lb_ok(lb_vault_get(dir, ref, sk, pk, &out, &len, &em));
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(out, msg, len);
	lb_free(out);
	assert_int_equal(lb_vault_get(dir, ref, sk2, pk2, &out, &len, &em), LB_EWRONGKEY);
	/* a flipped byte is detected */
	raw[rawlen - 5] ^= 1;
	assert_lb_ok(lb_file_write(path, raw, rawlen, 0600, &em));
	assert_int_equal(lb_vault_get(dir, ref, sk, pk, &out, &len, &em), LB_ETAMPERED);
	lb_free(raw);
	/* an object stored under another object's name is refused */
	char ref2[65];
	assert_lb_ok(lb_vault_put(dir, (const uint8_t(*)[32])pk, 1, (const uint8_t *)"other", 5,
				  ref2, &em));
	assert_lb_ok(lb_file_read(objpath(dir, ref2, "lbo"), 1 << 20, &raw, &rawlen, &em));
	assert_lb_ok(lb_file_write(path, raw, rawlen, 0600, &em));
	lb_free(raw);
	assert_int_not_equal(lb_vault_get(dir, ref, sk, pk, &out, &len, &em), LB_OK);
	assert_int_equal(lb_vault_get(dir, "zz", sk, pk, &out, &len, &em), LB_EINVALID);
	rmrf(dir);
}

/* Attack first: after shredding, a copy of the ciphertext taken before, the old key table
 * bytes as they are now, and the vault key together open nothing. */
static void test_vault_shred(void **state)
{
	char dir[] = "/tmp/leben-vault-XXXXXX";
	assert_non_null(mkdtemp(dir));
	uint8_t pk[32], sk[32], pk2[32], sk2[32];
	lb_envelope_keypair(pk, sk);
	lb_envelope_keypair(pk2, sk2);
	uint8_t two[2][32];
	memcpy(two[0], pk, 32);
	memcpy(two[1], pk2, 32);
	const uint8_t(*both)[32] = (const uint8_t(*)[32])two;
	const char *msg = "patient 4711: potassium 6.8 mmol/L";
	const char *keep = "another object that stays";
	char ref[65], kref[65];
	struct lb_errmsg em;
	assert_lb_ok(lb_vault_put(dir, both, 2, (const uint8_t *)msg, strlen(msg), ref, &em));
	assert_lb_ok(lb_vault_put(dir, (const uint8_t(*)[32])pk, 1, (const uint8_t *)keep,
				  strlen(keep), kref, &em));
	assert_int_equal(lb_vault_state(dir, ref, &em), LB_VAULT_HELD);
	/* the attacker's copy of the ciphertext, taken before the purge */
	uint8_t *copy, *table0;
	size_t copylen, table0len;
	char tpath[4200];
	snprintf(tpath, sizeof tpath, "%s/keys.tbl", dir);
	assert_lb_ok(lb_file_read(objpath(dir, ref, "lbo"), 1 << 20, &copy, &copylen, &em));
	assert_lb_ok(lb_file_read(tpath, 1 << 20, &table0, &table0len, &em));
	assert_int_equal(table0len, 3 * 128);
	bool held = false;
	assert_lb_ok(lb_vault_shred(dir, ref, &held, &em));
	assert_true(held);
	/* the ciphertext is gone, the key records are erased in place (same size, the other
	 * object's record untouched) */
	assert_int_not_equal(access(objpath(dir, ref, "lbo"), F_OK), 0);
	uint8_t *table1;
	size_t table1len;
	assert_lb_ok(lb_file_read(tpath, 1 << 20, &table1, &table1len, &em));
	assert_int_equal(table1len, table0len);
	for (size_t r = 0; r < 3; r++) {
		const uint8_t *rec = table1 + r * 128;
		if (!memcmp(rec, "LBKX", 4)) {
			for (size_t i = 36; i < 128; i++)
				assert_int_equal(rec[i], 0);
		} else {
			assert_memory_equal(rec, table0 + r * 128, 128);
		}
	}
	/* the restored ciphertext does not open with either recipient's key */
	assert_lb_ok(lb_file_write(objpath(dir, ref, "lbo"), copy, copylen, 0600, &em));
	uint8_t *out = NULL;
	size_t len;
	int rc = lb_vault_get(dir, ref, sk, pk, &out, &len, &em);
	assert_int_equal(rc, LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "shredded"));
	assert_null(out);
	assert_int_equal(lb_vault_get(dir, ref, sk2, pk2, &out, &len, &em), LB_ENOTFOUND);
	/* nor with the old key records put back by hand: they were overwritten, so only a copy
	 * of the key table itself from before would do (docs/security.md: backups) */
	assert_int_equal(lb_vault_state(dir, ref, &em), LB_VAULT_SHREDDED);
	/* the other object still opens; shredding again is harmless */
	assert_lb_ok(lb_vault_get(dir, kref, sk, pk, &out, &len, &em));
	assert_memory_equal(out, keep, len);
	lb_free(out);
	held = true;
	assert_lb_ok(lb_vault_wipe_file(objpath(dir, ref, "lbo"), &em));
	assert_lb_ok(lb_vault_shred(dir, ref, &held, &em));
	assert_false(held);
	/* storing the same bytes again makes a new object with a new key */
	char ref3[65];
	assert_lb_ok(lb_vault_put(dir, (const uint8_t(*)[32])pk, 1, (const uint8_t *)msg,
				  strlen(msg), ref3, &em));
	assert_string_equal(ref3, ref);
	assert_int_equal(lb_vault_state(dir, ref, &em), LB_VAULT_HELD);
	uint8_t *now;
	size_t nowlen;
	assert_lb_ok(lb_file_read(objpath(dir, ref, "lbo"), 1 << 20, &now, &nowlen, &em));
	assert_true(nowlen != copylen || memcmp(now, copy, nowlen));
	lb_free(now);
	/* a cut-short key table is reported, not misread */
	assert_lb_ok(lb_file_write(tpath, table1, 100, 0600, &em));
	assert_int_equal(lb_vault_get(dir, kref, sk, pk, &out, &len, &em), LB_ECORRUPT);
	assert_int_equal(lb_vault_shred(dir, "00", &held, &em), LB_EINVALID);
	lb_free(copy);
	lb_free(table0);
	lb_free(table1);
	rmrf(dir);
}

/* Vaults of the earlier layout (level-1 envelopes) are read and migrated to per-object keys,
 * after which the envelope file is gone. */
static void test_vault_migrate(void **state)
{
	char dir[] = "/tmp/leben-vault-XXXXXX";
	assert_non_null(mkdtemp(dir));
	uint8_t pk[32], sk[32];
	lb_envelope_keypair(pk, sk);
	struct lb_errmsg em;
	const char *msgs[3] = {"first old object", "second old object", "third"};
	char refs[3][65];
	for (int i = 0; i < 3; i++) {
		uint8_t h[32], *env;
		size_t envlen;
		lb_digest_blake2b((const uint8_t *)msgs[i], strlen(msgs[i]), h);
		lb_hex_encode(refs[i], h, 32);
		char sub[4200];
		snprintf(sub, sizeof sub, "%s/%.2s", dir, refs[i]);
		assert_lb_ok(lb_mkdirs(sub, 0700, &em));
		assert_lb_ok(lb_envelope_seal((const uint8_t(*)[32])pk, 1, (const uint8_t *)msgs[i],
					      strlen(msgs[i]), &env, &envlen, &em));
		assert_lb_ok(lb_file_write(objpath(dir, refs[i], "lbev"), env, envlen, 0600, &em));
		lb_free(env);
		assert_int_equal(lb_vault_state(dir, refs[i], &em), LB_VAULT_HELD);
	}
	/* reading one migrates it */
	uint8_t *out;
	size_t len;
	assert_lb_ok(lb_vault_get(dir, refs[0], sk, pk, &out, &len, &em));
	assert_memory_equal(out, msgs[0], len);
	lb_free(out);
	assert_int_not_equal(access(objpath(dir, refs[0], "lbev"), F_OK), 0);
	assert_int_equal(access(objpath(dir, refs[0], "lbo"), F_OK), 0);
	size_t moved = 0;
	assert_lb_ok(lb_vault_migrate(dir, sk, pk, &moved, &em));
	assert_int_equal(moved, 2);
	for (int i = 0; i < 3; i++) {
		assert_int_not_equal(access(objpath(dir, refs[i], "lbev"), F_OK), 0);
		assert_lb_ok(lb_vault_get(dir, refs[i], sk, pk, &out, &len, &em));
		assert_memory_equal(out, msgs[i], len);
		lb_free(out);
	}
	/* and an old object can be shredded without migrating first */
	uint8_t h[32], *env;
	size_t envlen;
	char ref[65];
	lb_digest_blake2b((const uint8_t *)"legacy", 6, h);
	lb_hex_encode(ref, h, 32);
	char sub[4200];
	snprintf(sub, sizeof sub, "%s/%.2s", dir, ref);
	assert_lb_ok(lb_mkdirs(sub, 0700, &em));
	assert_lb_ok(lb_envelope_seal((const uint8_t(*)[32])pk, 1, (const uint8_t *)"legacy", 6,
				      &env, &envlen, &em));
	assert_lb_ok(lb_file_write(objpath(dir, ref, "lbev"), env, envlen, 0600, &em));
	lb_free(env);
	bool held = false;
	assert_lb_ok(lb_vault_shred(dir, ref, &held, &em));
	assert_true(held);
	assert_int_equal(lb_vault_get(dir, ref, sk, pk, &out, &len, &em), LB_ENOTFOUND);
	rmrf(dir);
}

static void test_describe(void **state)
{
	struct lb_hexa h;
	struct lb_errmsg em;
	/* DICOM: modality and dimensions, a perceptual hash, valid canonical description */
	assert_lb_ok(lb_data_describe("/usr/lib/python3/dist-packages/pydicom/data/test_files/"
				      "CT_small.dcm",
				      &h, &em));
	assert_string_equal(lb_hexa_get_str(&h, "data.format"), "dicom");
	int f = lb_hexa_field_id("data.features");
	bool modality = false;
	for (size_t i = 0; i < h.v[f].n; i++)
		if (!strcmp(h.v[f].keys[i], "modality"))
			modality = !strcmp(h.v[f].vals[i], "CT");
	assert_true(modality);
	assert_true(h.present >> lb_hexa_field_id("raw.pdq") & 1);
	assert_lb_ok(lb_hexa_check(&h, true, &em));
	lb_hexa_release(&h);
	/* FHIR: SNOMED and ICD-10 codes found become semantic codes */
	assert_lb_ok(lb_data_describe(root("tests/data/fhir/bundle.json"), &h, &em));
	int c = lb_hexa_field_id("semantic.codes");
	assert_int_equal(h.v[c].n, 3);
	assert_string_equal(h.v[c].keys[0], "icd10|I10");
	assert_string_equal(h.v[c].keys[1], "snomed|38341003");
	assert_lb_ok(lb_hexa_check(&h, true, &em));
	lb_hexa_release(&h);
	/* table: audit score recorded */
	uint64_t score;
	assert_lb_ok(lb_data_describe(root("tests/data/csv/visits.csv"), &h, &em));
	assert_true(lb_hexa_get_u64(&h, "audit.score", &score) && score > 5000 && score <= 10000);
	/* public part holds no exchange terms */
	struct lb_hexa pub, priv;
	assert_lb_ok(lb_hexa_set_u64(&h, "exchange.price", 10));
	assert_lb_ok(lb_hexa_split(&h, &pub, &priv));
	uint64_t v;
	assert_false(lb_hexa_get_u64(&pub, "exchange.price", &v));
	assert_true(lb_hexa_get_u64(&priv, "exchange.price", &v));
	lb_hexa_release(&pub);
	lb_hexa_release(&priv);
	lb_hexa_release(&h);
	/* text: MinHash fingerprint; damaged file: error with the path */
	assert_lb_ok(lb_data_describe(root("tests/data/text/note_en.txt"), &h, &em));
	assert_int_equal(h.v[lb_hexa_field_id("raw.minhash")].n, LB_TEXT_FP_SIZE);
	lb_hexa_release(&h);
	assert_int_not_equal(lb_data_describe(root("tests/data/fhir/broken.json"), &h, &em), LB_OK);
	assert_non_null(strstr(em.text, "broken.json: offset 163"));
}

static void test_watch(void **state)
{
	char dir[] = "/tmp/leben-watch-XXXXXX", state_path[4200], p[4200];
	assert_non_null(mkdtemp(dir));
	snprintf(state_path, sizeof state_path, "%s.state.json", dir);
	struct lb_errmsg em;
	snprintf(p, sizeof p, "%s/a.txt", dir);
	assert_lb_ok(lb_file_write(p, "one", 3, 0600, &em));
	struct lb_watch_change *ch;
	size_t n;
	assert_lb_ok(lb_data_watch_scan(dir, state_path, &ch, &n, &em));
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].kind, 1);
	lb_free(ch);
	assert_lb_ok(lb_data_watch_scan(dir, state_path, &ch, &n, &em));
	assert_int_equal(n, 0);
	lb_free(ch);
	assert_lb_ok(lb_file_write(p, "two", 3, 0600, &em));
	snprintf(p, sizeof p, "%s/b.txt", dir);
	assert_lb_ok(lb_file_write(p, "new", 3, 0600, &em));
	assert_lb_ok(lb_data_watch_scan(dir, state_path, &ch, &n, &em));
	assert_int_equal(n, 2);
	int kinds = ch[0].kind * 10 + ch[1].kind;
	assert_true(kinds == 21 || kinds == 12);
	lb_free(ch);
	assert_int_equal(unlink(p), 0);
	assert_lb_ok(lb_data_watch_scan(dir, state_path, &ch, &n, &em));
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].kind, 3);
	lb_free(ch);
	char cmd[9000];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, state_path);
	assert_int_equal(system(cmd), 0);
}

/* Every code of the built-in semantic tables is a valid identifier of its system. */
static void test_semantic_tables(void **state)
{
	(void)state;
	static const char *const names[] = {"modality", "body_part", "column"};
	size_t total = 0;
	for (size_t t = 0; t < 3; t++) {
		size_t n;
		const struct lb_code_map *m = lb_semantic_table(names[t], &n);
		assert_non_null(m);
		assert_true(n > 0);
		for (size_t i = 0; i < n; i++, total++) {
			const char *c = m[i].code;
			if (!strncmp(c, "snomed|", 7))
				assert_int_equal(lb_sctid_check(c + 7, NULL), LB_OK);
			else if (!strncmp(c, "loinc|", 6))
				assert_true(lb_loinc_check(c + 6));
			else
				fail_msg("unexpected system in %s", c);
			assert_true(m[i].display[0] != 0);
		}
	}
	assert_true(total >= 60);
	size_t n;
	assert_null(lb_semantic_table("nope", &n));
	assert_int_equal(n, 0);
	/* LOINC check digits: known codes pass, a changed digit fails */
	assert_true(lb_loinc_check("8867-4"));
	assert_true(lb_loinc_check("2345-7"));
	assert_false(lb_loinc_check("8867-5"));
	assert_false(lb_loinc_check("88a7-4"));
	assert_false(lb_loinc_check("8867"));
	assert_false(lb_loinc_check("8867-45"));
	/* column names: whole, with a unit, longest match; nothing for unknown names */
	struct lb_hexa h;
	lb_hexa_init(&h);
	const char *cols[] = {"Heart rate (bpm)", "Glucose mg/dL", "systolic_bp", "Patient ID",
			      "AGE"};
	assert_int_equal(lb_semantic_columns(cols, 5, &h), LB_OK);
	int cid = lb_hexa_field_id("semantic.codes");
	assert_int_equal(h.v[cid].n, 4);
	assert_string_equal(h.v[cid].keys[0], "loinc|2345-7");
	assert_string_equal(h.v[cid].keys[1], "loinc|8480-6");
	assert_string_equal(h.v[cid].keys[2], "loinc|8867-4");
	assert_string_equal(h.v[cid].keys[3], "snomed|397669002");
	lb_hexa_release(&h);
	/* PNG text chunks: Title -> subject, Keywords -> keywords */
	static const uint8_t png[] = "\x89PNG\r\n\x1a\n"
				     "\0\0\0\x11tEXtTitle\0Chest X-ray\0\0\0\0"
				     "\0\0\0\x12tEXtKeywords\0lung; ICU\0\0\0\0"
				     "\0\0\0\0IEND\xae\x42\x60\x82";
	lb_hexa_init(&h);
	assert_int_equal(lb_semantic_image(png, sizeof png - 1, &h), LB_OK);
	assert_string_equal(lb_hexa_get_str(&h, "semantic.subject"), "Chest X-ray");
	int kid = lb_hexa_field_id("semantic.keywords");
	assert_int_equal(h.v[kid].n, 2);
	assert_string_equal(h.v[kid].keys[0], "ICU");
	assert_string_equal(h.v[kid].keys[1], "lung");
	lb_hexa_release(&h);
}

/* A PDF through poppler: pages, title, text; a damaged one refused. */
static void test_pdf(void **state)
{
	(void)state;
	static const char pdf[] =
	"%PDF-1.4\n"
	"1 0 obj\n"
	"<< /Type /Catalog /Pages 2 0 R >>\n"
	"endobj\n"
	"2 0 obj\n"
	"<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n"
	"endobj\n"
	"3 0 obj\n"
	"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>\n"
	"endobj\n"
	"4 0 obj\n"
	"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\n"
	"endobj\n"
	"5 0 obj\n"
	"<< /Length 106 >>\n"
	"stream\n"
	"BT /F1 11 Tf 50 780 Td 14 TL\n"
	"(Blood pressure was measured twice.) Tj T*\n"
	"(The patient felt well.) Tj T*\n"
	"ET\n"
	"endstream\n"
	"endobj\n"
	"6 0 obj\n"
	"<< /Title (Ward note) /Author (Ward 7) /Keywords (sepsis; discharge) >>\n"
	"endobj\n"
	"xref\n"
	"0 7\n"
	"0000000000 65535 f \n"
	"0000000009 00000 n \n"
	"0000000058 00000 n \n"
	"0000000115 00000 n \n"
	"0000000241 00000 n \n"
	"0000000311 00000 n \n"
	"0000000467 00000 n \n"
	"trailer\n"
	"<< /Size 7 /Root 1 0 R /Info 6 0 R >>\n"
	"startxref\n"
	"554\n"
	"%%EOF\n"
	"";
	struct lb_pdf p;
	struct lb_errmsg em;
	assert_int_equal(lb_pdf_read((const uint8_t *)pdf, sizeof pdf - 1, &p, &em), LB_OK);
	assert_int_equal(p.pages, 1);
	assert_string_equal(p.title, "Ward note");
	assert_int_equal(p.words, 9);
	assert_non_null(strstr(p.text, "Blood pressure"));
	lb_pdf_release(&p);
	struct lb_detected d;
	assert_int_equal(lb_data_detect("n.pdf", (const uint8_t *)pdf, sizeof pdf - 1, &d, &em), LB_OK);
	assert_string_equal(d.type, "pdf");
	assert_int_not_equal(lb_pdf_read((const uint8_t *)pdf, 40, &p, &em), LB_OK);
	assert_int_equal(lb_pdf_read((const uint8_t *)"hello", 5, &p, &em), LB_EMALFORMED);
}

/* The detector: signatures, text, empty and unknown data. */
static void test_detect(void **state)
{
	(void)state;
	struct lb_detected d;
	struct lb_errmsg em;
	static const uint8_t wav[44] = "RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\1\0\1\0\x40\x1f\0\0"
				      "\x80\x3e\0\0\2\0\x10\0data\0\0\0\0";
	assert_int_equal(lb_data_detect("x.dcm", wav, sizeof wav, &d, &em), LB_OK);
	assert_string_equal(d.type, "audio");
	struct lb_media m;
	assert_int_equal(lb_media_read(wav, sizeof wav, &m, &em), LB_OK);
	assert_int_equal(m.sample_rate, 8000);
	assert_int_equal(m.channels, 1);
	assert_int_equal(m.bits, 16);
	static const char csv[] = "a,b\n1,2\n";
	assert_int_equal(lb_data_detect("t.csv", (const uint8_t *)csv, 8, &d, &em), LB_OK);
	assert_string_equal(d.type, "csv");
	assert_int_equal(lb_data_detect("t.txt", (const uint8_t *)csv, 8, &d, &em), LB_OK);
	assert_string_equal(d.type, "text");
	static const char js[] = "  {\"resourceType\": \"Patient\"}";
	assert_int_equal(lb_data_detect(NULL, (const uint8_t *)js, sizeof js - 1, &d, &em), LB_OK);
	assert_string_equal(d.type, "fhir");
	assert_int_equal(lb_data_detect("e", (const uint8_t *)"", 0, &d, &em), LB_EINVALID);
	static const uint8_t gz[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03\xcb\x48\xcd\xc9\xc9\x07\0"
				    "\x86\xa6\x10\x36\x05\0\0\0";
	assert_int_equal(lb_data_detect("a.gz", gz, sizeof gz - 1, &d, &em), LB_EUNSUPPORTED);
	assert_string_equal(d.mime, "application/gzip");
	assert_non_null(strstr(em.text, "LEBEN registers"));
	assert_non_null(lb_data_type_name("table"));
	assert_string_equal(lb_data_type_name("table"), "csv");
	assert_null(lb_data_type_name("xls"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vault),
		cmocka_unit_test(test_vault_shred),
		cmocka_unit_test(test_vault_migrate),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_semantic_tables),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_pdf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
