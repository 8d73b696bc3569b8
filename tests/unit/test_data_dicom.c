/* Unit tests for the DICOM parser, its dictionary and the raw DEFLATE decoder (src/data). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "data/data_int.h"
#include "leben/base.h"
#include "leben/data_dicom.h"

#define CORPUS "/usr/lib/python3/dist-packages/pydicom/data/test_files/"
#define DCMTK_DICT "/usr/share/libdcmtk17/dicom.dic"

static char *root_path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("LEBEN_ROOT");
	snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
	return buf;
}

/* The built-in table agrees with dcmtk's file, entry by entry, and knows repeating groups. */
static void test_dict_matches_dcmtk(void **state)
{
	struct lb_dicom_dict *d;
	struct lb_errmsg em;
	assert_lb_ok(lb_dicom_dict_load(DCMTK_DICT, &d, &em));
	assert_true(lb_dicom_dict_count(d) > 4000);
	assert_true(lb_dicom_dict_size() > 4000);
	struct lb_dicom_dict_entry a, b;
	/* Every exact tag in the file: same VR and keyword in the built-in table. */
	size_t checked = 0;
	for (uint32_t g = 0; g <= 0x7FE0; g += 2) {
		static const uint16_t els[] = {0x0000, 0x0005, 0x0008, 0x0010, 0x0020, 0x0030,
					       0x0100, 0x1030, 0x1150, 0x0010, 0x3000};
		for (size_t i = 0; i < sizeof els / sizeof els[0]; i++) {
			uint32_t tag = g << 16 | els[i];
			bool in_file = lb_dicom_dict_find(d, tag, &a);
			if (!in_file || (tag & 0xffff) == 0)
				continue;
			assert_true(lb_dicom_dict_lookup(tag, &b));
			assert_string_equal(a.vr, b.vr);
			assert_string_equal(a.keyword, b.keyword);
			checked++;
		}
	}
	assert_true(checked > 200);
	assert_true(lb_dicom_dict_lookup(0x00100010, &b));
	assert_string_equal(b.keyword, "PatientName");
	assert_string_equal(b.vr, "PN");
	assert_true(lb_dicom_dict_lookup(0x60020010, &b)); /* overlay repeating group 60xx */
	assert_string_equal(b.keyword, "OverlayRows");
	assert_true(lb_dicom_dict_lookup(0x60010010, &b)); /* odd group: a private creator */
	assert_string_equal(b.keyword, "PrivateCreator");
	assert_string_equal(b.vr, "LO");
	assert_true(lb_dicom_dict_lookup(0x00280000, &b));
	assert_string_equal(b.vr, "UL");
	assert_false(lb_dicom_dict_lookup(0x00291010, &b));
	lb_dicom_dict_free(d);
	assert_int_equal(lb_dicom_dict_load(root_path("tests/data/dicom/bad.dic"), &d, &em),
			 LB_ESYNTAX);
	assert_non_null(strstr(em.text, "line 3"));
}

static void test_inflate_vectors(void **state)
{
	uint8_t *exp, *in, *out;
	size_t explen, inlen, outlen;
	struct lb_errmsg em;
	assert_lb_ok(lb_file_read(root_path("tests/data/deflate/vector.exp"), 1 << 20, &exp,
				  &explen, &em));
	static const char *const names[] = {"stored", "fixed", "dynamic"};
	for (size_t i = 0; i < 3; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "tests/data/deflate/%s.deflate", names[i]);
		assert_lb_ok(lb_file_read(root_path(rel), 1 << 20, &in, &inlen, &em));
		assert_lb_ok(data_inflate_raw(in, inlen, 1 << 20, &out, &outlen));
		assert_int_equal(outlen, explen);
		assert_memory_equal(out, exp, explen);
		lb_free(out);
		/* Every proper prefix is refused, never read past. */
		for (size_t cut = 0; cut < inlen; cut += 7) {
			int rc = data_inflate_raw(in, cut, 1 << 20, &out, &outlen);
			assert_true(rc == LB_ETRUNCATED || rc == LB_EMALFORMED);
		}
		assert_int_equal(data_inflate_raw(in, inlen, 100, &out, &outlen), LB_ETOOBIG);
		/* exactly the output size is allowed; one byte less is too big */
		assert_lb_ok(data_inflate_raw(in, inlen, explen, &out, &outlen));
		lb_free(out);
		assert_int_equal(data_inflate_raw(in, inlen, explen - 1, &out, &outlen), LB_ETOOBIG);
		/* bytes after the final block are ignored (DICOM pads to an even length) */
		uint8_t *pad = lb_malloc(inlen + 3);
		memcpy(pad, in, inlen);
		memcpy(pad + inlen, "\0\xff\x13", 3);
		assert_lb_ok(data_inflate_raw(pad, inlen + 3, 1 << 20, &out, &outlen));
		assert_memory_equal(out, exp, explen);
		lb_free(out);
		/* a reserved block type (BTYPE 11) is malformed */
		pad[0] = 0x07;
		assert_int_equal(data_inflate_raw(pad, inlen, 1 << 20, &out, &outlen), LB_EMALFORMED);
		lb_free(pad);
		lb_free(in);
	}
	lb_free(exp);
}

/* Little helpers to build data sets by hand. */
static size_t put16(uint8_t *p, unsigned v, bool le)
{
	p[le ? 0 : 1] = (uint8_t)v;
	p[le ? 1 : 0] = (uint8_t)(v >> 8);
	return 2;
}

static size_t put32(uint8_t *p, uint32_t v, bool le)
{
	put16(p + (le ? 0 : 2), v & 0xffff, le);
	put16(p + (le ? 2 : 0), v >> 16, le);
	return 4;
}

static size_t implicit_el(uint8_t *p, uint32_t tag, uint32_t len, const void *v)
{
	size_t n = put16(p, tag >> 16, true);
	n += put16(p + n, tag & 0xffff, true);
	n += put32(p + n, len, true);
	if (v && len != 0xFFFFFFFF) {
		memcpy(p + n, v, len);
		n += len;
	}
	return n;
}

/* Implicit VR: nested undefined-length sequences with undefined-length items, VRs from the
 * dictionary, the xs rule from PixelRepresentation. */
static void test_implicit_nested(void **state)
{
	uint8_t buf[512];
	size_t n = 0;
	n += implicit_el(buf + n, 0x00080060, 2, "MR");
	n += implicit_el(buf + n, 0x00081140, 0xFFFFFFFF, NULL); /* ReferencedImageSequence */
	n += implicit_el(buf + n, 0xFFFEE000, 0xFFFFFFFF, NULL);
	n += implicit_el(buf + n, 0x00081150, 4, "1.2\0");
	n += implicit_el(buf + n, 0x00081140, 0xFFFFFFFF, NULL); /* nested */
	n += implicit_el(buf + n, 0xFFFEE000, 10, NULL);
	n += implicit_el(buf + n, 0x00200013, 2, "7 ");
	n += implicit_el(buf + n, 0xFFFEE0DD, 0, NULL);
	n += implicit_el(buf + n, 0xFFFEE00D, 0, NULL);
	n += implicit_el(buf + n, 0xFFFEE0DD, 0, NULL);
	n += implicit_el(buf + n, 0x00280103, 2, "\x01\x00"); /* PixelRepresentation = 1 */
	n += implicit_el(buf + n, 0x00280106, 2, "\xfe\xff"); /* SmallestImagePixelValue (xs) */
	struct lb_dicom_file f;
	struct lb_errmsg em;
	assert_lb_ok(lb_dicom_parse(buf, n, &f, &em));
	assert_false(f.has_preamble);
	assert_false(f.explicit_vr);
	assert_int_equal(f.body.nelems, 4);
	const struct lb_dicom_elem *sq = &f.body.elems[1];
	assert_string_equal(sq->vr, "SQ");
	assert_true(sq->undefined_length);
	assert_int_equal(sq->nitems, 1);
	assert_int_equal(sq->items[0].nelems, 2);
	assert_string_equal(sq->items[0].elems[0].vr, "UI");
	const struct lb_dicom_elem *inner = &sq->items[0].elems[1];
	assert_int_equal(inner->nitems, 1);
	assert_string_equal(inner->items[0].elems[0].vr, "IS");
	assert_string_equal(f.body.elems[3].vr, "SS");
	double v;
	assert_true(lb_dicom_get_number(&f, 0x00280106, &v));
	assert_true(v == -2.0);
	char s[16];
	assert_true(lb_dicom_get_string(&f, 0x00080060, s, sizeof s));
	assert_string_equal(s, "MR");
	lb_dicom_file_release(&f);

	/* Cut anywhere: an error naming an offset, never a crash (ASan watches). */
	for (size_t cut = 1; cut < n; cut++) {
		int rc = lb_dicom_parse(buf, cut, &f, &em);
		if (rc == LB_OK) {
			lb_dicom_file_release(&f);
			continue;
		}
		assert_true(rc == LB_ETRUNCATED || rc == LB_EMALFORMED);
		assert_non_null(strstr(em.text, "offset "));
	}
	/* A sequence delimiter where an element belongs. */
	uint8_t bad[16];
	size_t bn = implicit_el(bad, 0xFFFEE0DD, 0, NULL);
	assert_int_equal(lb_dicom_parse(bad, bn, &f, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "offset 0"));
}

/* Explicit VR big endian with a preamble and file meta group. */
static void test_explicit_big_endian(void **state)
{
	uint8_t buf[512] = {0};
	size_t n = 128;
	memcpy(buf + n, "DICM", 4);
	n += 4;
	static const char ts[] = "1.2.840.10008.1.2.2"; /* 19 chars + NUL pad */
	n += put16(buf + n, 0x0002, true);
	n += put16(buf + n, 0x0010, true);
	memcpy(buf + n, "UI", 2);
	n += 2;
	n += put16(buf + n, 20, true);
	memcpy(buf + n, ts, 20);
	n += 20;
	/* (0028,0010) US 512 and (0018,0050) DS "2.5\\3" in big endian */
	n += put16(buf + n, 0x0028, false);
	n += put16(buf + n, 0x0010, false);
	memcpy(buf + n, "US", 2);
	n += 2;
	n += put16(buf + n, 2, false);
	n += put16(buf + n, 512, false);
	n += put16(buf + n, 0x7FE0, false);
	n += put16(buf + n, 0x0010, false);
	memcpy(buf + n, "OW\0\0", 4);
	n += 4;
	n += put32(buf + n, 4, false);
	memcpy(buf + n, "\x01\x02\x03\x04", 4);
	n += 4;
	struct lb_dicom_file f;
	struct lb_errmsg em;
	assert_lb_ok(lb_dicom_parse(buf, n, &f, &em));
	assert_true(f.has_preamble);
	assert_false(f.little_endian);
	assert_string_equal(f.transfer_syntax, ts);
	double rows;
	assert_true(lb_dicom_get_number(&f, 0x00280010, &rows));
	assert_true(rows == 512.0);
	struct lb_buf out;
	lb_buf_init(&out, 1 << 20);
	assert_lb_ok(lb_dicom_to_json(&f, &out));
	assert_non_null(strstr((char *)out.data, "\"tag\":\"00280010\",\"vr\":\"US\",\"keyword\":"
						 "\"Rows\",\"offset\":160,\"length\":2,\"value\":[512]"));
	lb_buf_release(&out);
	lb_dicom_file_release(&f);
	/* Declared length beyond the end: LB_ETRUNCATED naming the element's offset. */
	assert_int_equal(lb_dicom_parse(buf, n - 1, &f, &em), LB_ETRUNCATED);
	assert_non_null(strstr(em.text, "offset 170"));
}

/* Every allocation failure during a real parse is reported as LB_ENOMEM without leaks. */
static void test_parse_alloc_failures(void **state)
{
	uint8_t *data;
	size_t len;
	struct lb_errmsg em;
	assert_lb_ok(lb_file_read(CORPUS "rtplan.dcm", 1 << 20, &data, &len, &em));
	struct lb_dicom_file f;
	int failures = 0;
	for (unsigned long k = 1; k < 400; k++) {
		lb_alloc_fail_after(k);
		int rc = lb_dicom_parse(data, len, &f, &em);
		lb_alloc_fail_after(0);
		if (rc == LB_OK) {
			lb_dicom_file_release(&f);
			break;
		}
		assert_int_equal(rc, LB_ENOMEM);
		failures++;
	}
	assert_true(failures > 10);
	lb_free(data);
}

/* Deflated transfer syntax, and the file-level error wraps the path. */
static void test_deflated_and_file_errors(void **state)
{
	struct lb_dicom_file f;
	struct lb_errmsg em;
	assert_lb_ok(lb_dicom_parse_file(CORPUS "image_dfl.dcm", 1 << 24, &f, &em));
	assert_true(f.deflated);
	char s[64];
	assert_true(lb_dicom_get_string(&f, 0x00080060, s, sizeof s)); /* Modality */
	assert_true(f.body.nelems > 20);
	lb_dicom_file_release(&f);
	assert_int_equal(lb_dicom_parse_file(CORPUS "rtplan_truncated.dcm", 1 << 24, &f, &em),
			 LB_ETRUNCATED);
	assert_non_null(strstr(em.text, "rtplan_truncated.dcm: offset 1410"));
}

/* Bare data sets (no preamble, no meta group) are recognised by a plausible first element;
 * anything else is "not a DICOM file" at offset 0, including a valid data set behind one stray
 * byte (pydicom's no_meta.dcm). */
static void test_bare_dataset_detection(void **state)
{
	uint8_t buf[64];
	size_t n = 0;
	n += implicit_el(buf + n, 0x00080060, 2, "CT");
	n += implicit_el(buf + n, 0x00100010, 4, "A^B ");
	assert_true(lb_dicom_is_dataset(buf, n));
	struct lb_dicom_file f;
	struct lb_errmsg em;
	assert_lb_ok(lb_dicom_parse(buf, n, &f, &em));
	assert_false(f.explicit_vr);
	assert_int_equal(f.body.nelems, 2);
	lb_dicom_file_release(&f);

	/* The same bytes behind a stray 0x20: implicit length runs past the end, no VR. */
	uint8_t shifted[65];
	shifted[0] = 0x20;
	memcpy(shifted + 1, buf, n);
	assert_false(lb_dicom_is_dataset(shifted, n + 1));
	assert_int_equal(lb_dicom_parse(shifted, n + 1, &f, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "offset 0: not a DICOM file"));
	assert_null(f.owned);

	/* Plain text and an empty buffer are not DICOM either. */
	static const char text[] = "Patient notes: discharged on day 3 without complications.";
	assert_false(lb_dicom_is_dataset((const uint8_t *)text, sizeof text - 1));
	assert_int_equal(lb_dicom_parse((const uint8_t *)text, sizeof text - 1, &f, &em),
			 LB_EMALFORMED);
	assert_int_equal(lb_dicom_parse((const uint8_t *)"", 0, &f, &em), LB_EMALFORMED);

	/* A command-set group (0000) cannot open a data set; undefined length only for SQ. */
	n = implicit_el(buf, 0x00000002, 2, "1 ");
	assert_false(lb_dicom_is_dataset(buf, n));
	n = implicit_el(buf, 0x00080060, 0xFFFFFFFF, NULL);
	assert_false(lb_dicom_is_dataset(buf, n));
	n = implicit_el(buf, 0x00081140, 0xFFFFFFFF, NULL);
	n += implicit_el(buf + n, 0xFFFEE0DD, 0, NULL);
	assert_true(lb_dicom_is_dataset(buf, n));

	/* pydicom's no_meta.dcm refused; the file with "DICM" is of course accepted. */
	assert_int_equal(lb_dicom_parse_file(CORPUS "no_meta.dcm", 1 << 24, &f, &em),
			 LB_EMALFORMED);
	assert_non_null(strstr(em.text, "no_meta.dcm: offset 0: not a DICOM file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dict_matches_dcmtk),
		cmocka_unit_test(test_inflate_vectors),
		cmocka_unit_test(test_implicit_nested),
		cmocka_unit_test(test_explicit_big_endian),
		cmocka_unit_test(test_parse_alloc_failures),
		cmocka_unit_test(test_deflated_and_file_errors),
		cmocka_unit_test(test_bare_dataset_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
