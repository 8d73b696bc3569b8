/*
 * The semantic facet from what a file says about itself: DICOM modality, body part and study
 * description mapped to SNOMED CT (the modality and body-part tables follow DICOM PS3.16's
 * SNOMED mappings, CID 29 / CID 4031), table column names matched to LOINC (common lab and
 * vital-sign observations) or SNOMED CT (age, sex), and the title/description/keyword text
 * of PNG (tEXt/iTXt) and JPEG (COM) files. The tables are data: docs/data.md lists them, and
 * tests/unit/test_data_vault.c checks every SNOMED CT id (partition, Verhoeff) and every
 * LOINC code (mod-10 check digit).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "leben/codec.h"
#include "leben/data_coding.h"
#include "leben/data_vault.h"

/* DICOM Modality (0008,0060) -> SNOMED CT procedure. */
static const struct lb_code_map modality_map[] = {
	{"CT", "snomed|77477000", "computed tomography"},
	{"MR", "snomed|113091000", "magnetic resonance imaging"},
	{"US", "snomed|16310003", "ultrasonography"},
	{"CR", "snomed|363680008", "radiography"},
	{"DX", "snomed|363680008", "radiography"},
	{"MG", "snomed|71651007", "mammography"},
	{"NM", "snomed|371572003", "nuclear medicine imaging"},
	{"PT", "snomed|82918005", "positron emission tomography"},
	{"XA", "snomed|77343006", "angiography"},
};

/* DICOM Body Part Examined (0018,0015) or a word of the study description -> SNOMED CT
 * body structure. */
static const struct lb_code_map body_map[] = {
	{"ABDOMEN", "snomed|113345001", "abdomen"},
	{"ANKLE", "snomed|70258002", "ankle"},
	{"BRAIN", "snomed|12738006", "brain"},
	{"BREAST", "snomed|76752008", "breast"},
	{"CHEST", "snomed|51185008", "chest"},
	{"CSPINE", "snomed|122494005", "cervical spine"},
	{"HEAD", "snomed|69536005", "head"},
	{"HEART", "snomed|80891009", "heart"},
	{"KIDNEY", "snomed|64033007", "kidney"},
	{"KNEE", "snomed|72696002", "knee"},
	{"LIVER", "snomed|10200004", "liver"},
	{"LSPINE", "snomed|122496007", "lumbar spine"},
	{"LUNG", "snomed|39607008", "lung"},
	{"NECK", "snomed|45048000", "neck"},
	{"PELVIS", "snomed|12921003", "pelvis"},
	{"SHOULDER", "snomed|16982005", "shoulder"},
	{"SKULL", "snomed|89546000", "skull"},
	{"SPINE", "snomed|421060004", "spine"},
	{"THORAX", "snomed|51185008", "chest"},
	{"TSPINE", "snomed|122495006", "thoracic spine"},
};

/* Column name (normalised: lower case, words) -> LOINC observation or SNOMED CT concept. */
static const struct lb_code_map column_map[] = {
	{"heart rate", "loinc|8867-4", "heart rate"},
	{"hr", "loinc|8867-4", "heart rate"},
	{"pulse", "loinc|8867-4", "heart rate"},
	{"systolic", "loinc|8480-6", "systolic blood pressure"},
	{"systolic bp", "loinc|8480-6", "systolic blood pressure"},
	{"sbp", "loinc|8480-6", "systolic blood pressure"},
	{"diastolic", "loinc|8462-4", "diastolic blood pressure"},
	{"diastolic bp", "loinc|8462-4", "diastolic blood pressure"},
	{"dbp", "loinc|8462-4", "diastolic blood pressure"},
	{"temperature", "loinc|8310-5", "body temperature"},
	{"body temperature", "loinc|8310-5", "body temperature"},
	{"temp", "loinc|8310-5", "body temperature"},
	{"respiratory rate", "loinc|9279-1", "respiratory rate"},
	{"rr", "loinc|9279-1", "respiratory rate"},
	{"spo2", "loinc|59408-5", "oxygen saturation"},
	{"oxygen saturation", "loinc|59408-5", "oxygen saturation"},
	{"weight", "loinc|29463-7", "body weight"},
	{"body weight", "loinc|29463-7", "body weight"},
	{"height", "loinc|8302-2", "body height"},
	{"body height", "loinc|8302-2", "body height"},
	{"bmi", "loinc|39156-5", "body mass index"},
	{"body mass index", "loinc|39156-5", "body mass index"},
	{"glucose", "loinc|2345-7", "glucose"},
	{"hba1c", "loinc|4548-4", "haemoglobin A1c"},
	{"cholesterol", "loinc|2093-3", "cholesterol"},
	{"total cholesterol", "loinc|2093-3", "cholesterol"},
	{"hdl", "loinc|2085-9", "HDL cholesterol"},
	{"ldl", "loinc|13457-7", "LDL cholesterol"},
	{"triglycerides", "loinc|2571-8", "triglycerides"},
	{"creatinine", "loinc|2160-0", "creatinine"},
	{"sodium", "loinc|2951-2", "sodium"},
	{"potassium", "loinc|2823-3", "potassium"},
	{"chloride", "loinc|2075-0", "chloride"},
	{"hemoglobin", "loinc|718-7", "haemoglobin"},
	{"haemoglobin", "loinc|718-7", "haemoglobin"},
	{"hgb", "loinc|718-7", "haemoglobin"},
	{"wbc", "loinc|6690-2", "white blood cell count"},
	{"platelets", "loinc|777-3", "platelet count"},
	{"bun", "loinc|3094-0", "urea nitrogen"},
	{"alt", "loinc|1742-6", "alanine aminotransferase"},
	{"ast", "loinc|1920-8", "aspartate aminotransferase"},
	{"age", "snomed|397669002", "age"},
	{"sex", "snomed|263495000", "gender"},
	{"gender", "snomed|263495000", "gender"},
};

const struct lb_code_map *lb_semantic_table(const char *which, size_t *n)
{
#define T(name, arr)                                  \
	if (!strcmp(which, name)) {                   \
		*n = sizeof arr / sizeof arr[0];      \
		return arr;                           \
	}
	T("modality", modality_map)
	T("body_part", body_map)
	T("column", column_map)
#undef T
	*n = 0;
	return NULL;
}

bool lb_loinc_check(const char *code)
{
	const char *dash = strchr(code, '-');
	size_t n = dash ? (size_t)(dash - code) : 0;
	if (!dash || n < 1 || n > 7 || !isdigit((unsigned char)dash[1]) || dash[2])
		return false;
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)code[n - 1 - i]))
			return false;
		int v = code[n - 1 - i] - '0';
		if (i % 2 == 0) { /* from the right, the 1st, 3rd, ... digits are doubled */
			v *= 2;
			v = v / 10 + v % 10;
		}
		sum += v;
	}
	return (10 - sum % 10) % 10 == dash[1] - '0';
}

/* Lower-case words of s separated by single spaces; a parenthesised or bracketed unit is
 * dropped ("Heart rate (bpm)" -> "heart rate"). */
static void norm_words(const char *s, char *out, size_t cap)
{
	size_t k = 0;
	int depth = 0;
	bool space = false;
	for (; *s && k + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '(' || c == '[')
			depth++;
		else if ((c == ')' || c == ']') && depth)
			depth--;
		else if (!depth && isalnum(c)) {
			if (space && k)
				out[k++] = ' ';
			space = false;
			if (k + 1 < cap)
				out[k++] = (char)tolower(c);
		} else {
			space = true;
		}
	}
	out[k] = 0;
}

/* Set or add a text only if it is non-empty UTF-8 (the encoding refuses anything else). */
static int sem_set(struct lb_hexa *h, const char *field, const char *v, bool list)
{
	if (!v[0] || !lb_utf8_is_text((const uint8_t *)v, strlen(v)))
		return LB_OK;
	return list ? lb_hexa_list_add(h, field, v) : lb_hexa_set_str(h, field, v);
}

static int add_map(struct lb_hexa *h, const struct lb_code_map *e)
{
	int rc = lb_hexa_list_add(h, "semantic.codes", e->code);
	if (!rc)
		rc = lb_hexa_list_add(h, "semantic.keywords", e->display);
	return rc;
}

int lb_semantic_columns(const char *const *names, size_t n, struct lb_hexa *h)
{
	int rc = LB_OK;
	for (size_t j = 0; !rc && j < n; j++) {
		char w[256];
		norm_words(names[j], w, sizeof w);
		const struct lb_code_map *best = NULL;
		size_t best_len = 0;
		for (size_t i = 0; i < sizeof column_map / sizeof column_map[0]; i++) {
			size_t l = strlen(column_map[i].match);
			/* the whole name, or its first words followed by a unit or qualifier
			 * ("glucose mg dl", "systolic bp mmhg") */
			if ((!strcmp(w, column_map[i].match) ||
			     (!strncmp(w, column_map[i].match, l) && w[l] == ' ')) &&
			    l > best_len) {
				best = &column_map[i];
				best_len = l;
			}
		}
		if (best)
			rc = add_map(h, best);
	}
	return rc;
}

int lb_semantic_dicom(const struct lb_dicom_file *f, struct lb_hexa *h)
{
	char s[256];
	int rc = LB_OK;
	if (lb_dicom_get_string(f, 0x00080060, s, sizeof s))
		for (size_t i = 0; !rc && i < sizeof modality_map / sizeof modality_map[0]; i++)
			if (!strcasecmp(s, modality_map[i].match))
				rc = add_map(h, &modality_map[i]);
	char body[64] = "";
	if (lb_dicom_get_string(f, 0x00180015, body, sizeof body))
		for (size_t i = 0; !rc && i < sizeof body_map / sizeof body_map[0]; i++)
			if (!strcasecmp(body, body_map[i].match))
				rc = add_map(h, &body_map[i]);
	/* the study description: its words are keywords, body parts it names are coded, and
	 * it is the subject unless the owner gives one */
	char desc[256] = "";
	if (!lb_dicom_get_string(f, 0x00081030, desc, sizeof desc))
		lb_dicom_get_string(f, 0x0008103E, desc, sizeof desc); /* series description */
	if (!rc && desc[0]) {
		char w[256];
		norm_words(desc, w, sizeof w);
		for (char *save = NULL, *t = strtok_r(w, " ", &save); !rc && t;
		     t = strtok_r(NULL, " ", &save)) {
			for (size_t i = 0; !rc && i < sizeof body_map / sizeof body_map[0]; i++)
				if (!strcasecmp(t, body_map[i].match))
					rc = add_map(h, &body_map[i]);
			if (!rc && strlen(t) >= 3 && !isdigit((unsigned char)t[0]))
				rc = sem_set(h, "semantic.keywords", t, true);
		}
		if (!rc)
			rc = sem_set(h, "semantic.subject", desc, false);
	} else if (!rc && body[0]) {
		char lower[64];
		norm_words(body, lower, sizeof lower);
		if (lower[0])
			rc = lb_hexa_set_str(h, "semantic.subject", lower);
	}
	return rc;
}

/* Text of a PNG tEXt/iTXt chunk or a JPEG comment that describes the picture. */
static int image_words(const char *key, const char *val, size_t n, struct lb_hexa *h)
{
	char v[512];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof v; i++)
		v[k++] = val[i] >= 0x20 || val[i] < 0 ? val[i] : ' ';
	v[k] = 0;
	while (k && v[k - 1] == ' ')
		v[--k] = 0;
	if (!v[0])
		return LB_OK;
	if (!strcasecmp(key, "Title") || !strcasecmp(key, "Description") ||
	    !strcasecmp(key, "Comment"))
		return lb_hexa_get_str(h, "semantic.subject") ? LB_OK
							      : sem_set(h, "semantic.subject", v, false);
	if (!strcasecmp(key, "Keywords")) {
		int rc = LB_OK;
		for (char *save = NULL, *t = strtok_r(v, ",;", &save); !rc && t;
		     t = strtok_r(NULL, ",;", &save)) {
			while (*t == ' ')
				t++;
			rc = sem_set(h, "semantic.keywords", t, true);
		}
		return rc;
	}
	return LB_OK;
}

int lb_semantic_image(const uint8_t *d, size_t n, struct lb_hexa *h)
{
	int rc = LB_OK;
	if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) {
		for (size_t off = 8; !rc && off + 12 <= n;) {
			uint32_t len = (uint32_t)d[off] << 24 | (uint32_t)d[off + 1] << 16 |
				       (uint32_t)d[off + 2] << 8 | d[off + 3];
			if (len > n - off - 12)
				break;
			const char *c = (const char *)d + off + 8;
			bool text = !memcmp(d + off + 4, "tEXt", 4), itxt = !memcmp(d + off + 4, "iTXt", 4);
			const char *nul = (text || itxt) ? memchr(c, 0, len) : NULL;
			if (nul) {
				size_t kl = (size_t)(nul - c), vo = kl + 1;
				if (itxt) { /* compression flag, method, language\0, translated key\0 */
					if (vo + 2 > len || c[vo] != 0)
						vo = len; /* compressed text is skipped */
					else {
						vo += 2;
						for (int z = 0; z < 2 && vo < len; z++) {
							const char *e = memchr(c + vo, 0, len - vo);
							vo = e ? (size_t)(e - c) + 1 : len;
						}
					}
				}
				if (vo <= len)
					rc = image_words(c, c + vo, len - vo, h);
			}
			if (!memcmp(d + off + 4, "IEND", 4))
				break;
			off += 12 + (size_t)len;
		}
	} else if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) {
		for (size_t off = 2; !rc && off + 4 <= n && d[off] == 0xFF;) {
			uint8_t mk = d[off + 1];
			if (mk == 0xDA || mk == 0xD9)
				break; /* start of scan: the headers are over */
			size_t len = (size_t)d[off + 2] << 8 | d[off + 3];
			if (len < 2 || len > n - off - 2)
				break;
			if (mk == 0xFE)
				rc = image_words("Comment", (const char *)d + off + 4, len - 2, h);
			off += 2 + len;
		}
	}
	return rc;
}
