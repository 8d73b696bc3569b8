/*
 * `leben data`: the data-asset tools of a node.
 *   offline over local files: inspect (what the extractors read), dedup (duplicate files),
 *     audit (quality score), search (the local catalogue);
 *   with a node: add (describe, audit, dedup against the directory, vault, publish),
 *     watch (keep a folder's entries up to date), show (a directory entry), get (open a vault
 *     object), search --directory (the node's public entries, replayed from its blocks).
 * Each subcommand is one row of the table below; each prints --json for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "abe_cli.h"
#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/api.h"
#include "leben/crypto.h"
#include "leben/data_purge.h"
#include "leben/abe.h"
#include "leben/abe_tx.h"
#include "leben/data_tx.h"
#include "leben/data_vault.h"
#include "leben/fhir_node.h"
#include "leben/json_file.h"
#include "leben/envelope.h"
#include "leben/exchange.h"
#include "leben/tx.h"
#include "leben/base.h"
#include "leben/data_dicom.h"
#include "leben/data_audit.h"
#include "leben/data_dedup.h"
#include "leben/data_search.h"
#include "leben/data_extract.h"

#define DATA_MAX_FILE (2048u << 20) /* largest file read whole: 2 GiB */

static int has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return 1;
	return 0;
}

static int fail(const char *sub, const struct lb_errmsg *em, const char *hint)
{
	fprintf(stderr, "leben data %s: %s\n", sub, em->text[0] ? em->text : lb_strerror(em->code));
	if (hint)
		fprintf(stderr, "  %s\n", hint);
	return 1;
}

static int write_buf(struct lb_buf *b)
{
	if (b->len)
		fwrite(b->data, 1, b->len, stdout);
	lb_buf_release(b);
	return 0;
}

static const char inspect_help[] =
	"usage: leben data inspect FILE [--type dicom|csv|fhir|text|image|audio|video|pdf]\n"
	"                           [--json]\n"
	"                           [--skip N] [--header|--no-header] [--delimiter C]\n"
	"\n"
	"Show what LEBEN reads from a data file, without registering or sending anything.\n"
	"  DICOM (.dcm, the DICM marker, or a bare data set): every element with its tag,\n"
	"        value representation (VR), name and value, nested sequences included; pixel\n"
	"        data by size and hash.\n"
	"  CSV/TSV tables: per column the type, missing values, distinct values, min/max/mean/\n"
	"        standard deviation, quartiles and a histogram.\n"
	"  FHIR R4 JSON (Bundle or one resource): resources by type, codes used, dates, patients.\n"
	"  Text notes: size, language, frequent terms.  PNG/JPEG images: size and channels.\n"
	"  Audio (WAV, FLAC, MP3, Ogg): duration, sample rate, channels, codec.\n"
	"  Video (MP4/MOV, WebM/MKV, AVI): duration, picture size, frame rate, codecs.\n"
	"  PDF documents: pages, title and author, the words of their text.\n"
	"The type is found from the file's content (its first bytes, as the 'file' command\n"
	"reads them, then LEBEN's own reader of that type); --type overrides it. Other files\n"
	"are refused with what they are and the types LEBEN registers.\n"
	"\n"
	"  --json          machine-readable output (one JSON document on stdout)\n"
	"  --skip N        CSV: ignore the first N lines\n"
	"  --header, --no-header   CSV: the first line is (not) column names (default: guess)\n"
	"  --delimiter C   CSV: field separator (default: guess among , ; tab |)\n"
	"\n"
	"Exit status: 0 read fine, 1 the file is damaged or unreadable (the message says where),\n"
	"2 wrong usage.\n";

/* The type of a file: the --type given (checked against the types LEBEN reads), else what the
 * one detector of the data layer finds (lb_data_detect: libmagic first, then our parsers).
 * det->type holds the answer. */
static int file_type(const char *path, const char *given, const uint8_t *d, size_t n,
		     struct lb_detected *det, struct lb_errmsg *em)
{
	if (given) {
		const char *t = lb_data_type_name(given);
		memset(det, 0, sizeof *det);
		if (!t)
			return lb_errf(em, LB_EUSAGE, "--type %s: the types are " LB_DATA_TYPES, given);
		snprintf(det->type, sizeof det->type, "%s", t);
		return LB_OK;
	}
	int rc = lb_data_detect(path, d, n, det, em);
	if (rc)
		lb_errwrap(em, "%s: ", path);
	return rc;
}

static void print_media_text(const char *path, const struct lb_media *m)
{
	printf("%s: %s (%s container), %.3f s", path, m->kind, m->container, m->duration);
	if (m->sample_rate)
		printf(", %u Hz, %u channel%s", m->sample_rate, m->channels, m->channels == 1 ? "" : "s");
	if (m->bits)
		printf(", %u bits", m->bits);
	if (m->audio_codec[0])
		printf(", audio %s", m->audio_codec);
	if (m->width)
		printf(", %ux%u", m->width, m->height);
	if (m->frame_rate > 0)
		printf(" at %.3g frames/s", m->frame_rate);
	if (m->video_codec[0])
		printf(", video %s", m->video_codec);
	printf("\n");
}

static int print_json_obj(json_t *j)
{
	if (!j) {
		fprintf(stderr, "leben data: out of memory\n");
		return 1;
	}
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(j);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}

static void print_csv_text(const char *path, const struct lb_csv_profile *p)
{
	printf("%s: table, %zu rows x %zu columns (delimiter '%s', %s header%s)\n", path, p->rows,
	       p->ncols, p->delimiter == '\t' ? "\\t" : (char[2]){p->delimiter, 0},
	       p->has_header ? "with" : "no", p->skipped_rows ? ", leading lines skipped" : "");
	if (p->ragged_rows)
		printf("  %zu rows have a different number of fields\n", p->ragged_rows);
	printf("  %-24s %-8s %8s %8s %12s %12s %12s %12s\n", "column", "type", "missing",
	       "distinct", "min", "max", "mean", "sd");
	for (size_t j = 0; j < p->ncols; j++) {
		const struct lb_csv_column *c = &p->cols[j];
		printf("  %-24.24s %-8s %8zu %8zu", c->name, lb_col_type_name(c->type), c->missing,
		       c->distinct);
		if (c->nvalues)
			printf(" %12.6g %12.6g %12.6g %12.6g\n", c->min, c->max, c->mean, c->sd);
		else if (c->min_text)
			printf(" %12.12s %12.12s\n", c->min_text, c->max_text);
		else
			printf("\n");
	}
}

static int data_inspect(int argc, char **argv)
{
	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		fputs(inspect_help, stdout);
		return 0;
	}
	const char *path = NULL, *type = NULL;
	bool json = false;
	struct lb_csv_options co = {0, -1, 0, 0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--type") && i + 1 < argc)
			type = argv[++i];
		else if (!strcmp(argv[i], "--skip") && i + 1 < argc)
			co.skip_rows = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--header"))
			co.header = 1;
		else if (!strcmp(argv[i], "--no-header"))
			co.header = 0;
		else if (!strcmp(argv[i], "--delimiter") && i + 1 < argc)
			co.delimiter = !strcmp(argv[i + 1], "\\t") ? '\t' : argv[i + 1][0], i++;
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "leben data inspect: unknown option %s\n%s", argv[i],
				inspect_help);
			return 2;
		} else if (!path)
			path = argv[i];
		else {
			fputs(inspect_help, stderr);
			return 2;
		}
	}
	if (!path) {
		fputs(inspect_help, stderr);
		return 2;
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, DATA_MAX_FILE, &data, &len, &em);
	if (rc)
		return fail("inspect", &em, NULL);
	struct lb_detected det;
	if ((rc = file_type(path, type, data, len, &det, &em))) {
		lb_free(data);
		if (rc == LB_EUSAGE) {
			fprintf(stderr, "leben data inspect: %s\n", em.text);
			return 2;
		}
		return fail("inspect", &em, NULL);
	}
	type = det.type;
	int status = 0;
	if (!strcmp(type, "dicom")) {
		struct lb_dicom_file f;
		rc = lb_dicom_parse(data, len, &f, &em);
		if (!rc) {
			struct lb_buf out;
			lb_buf_init(&out, (size_t)1 << 31);
			rc = json ? lb_dicom_to_json(&f, &out) : lb_dicom_to_text(&f, &out);
			lb_dicom_file_release(&f);
			if (rc) {
				lb_errf(&em, rc, "cannot format the output");
				lb_buf_release(&out);
			} else {
				write_buf(&out);
			}
		}
	} else if (!strcmp(type, "csv")) {
		struct lb_csv_profile p;
		rc = lb_csv_profile((const char *)data, len, &co, &p, &em);
		if (!rc) {
			if (json)
				status = print_json_obj(lb_csv_profile_json(&p));
			else
				print_csv_text(path, &p);
			lb_csv_profile_release(&p);
		}
	} else if (!strcmp(type, "fhir")) {
		struct lb_fhir_summary s;
		rc = lb_fhir_summarise((const char *)data, len, &s, &em);
		if (!rc) {
			if (json) {
				status = print_json_obj(lb_fhir_summary_json(&s));
			} else {
				bool nd = !strcmp(s.bundle_type, "ndjson");
				printf("%s: FHIR %s%s, %zu resources, %zu patients, dates %s .. %s\n",
				       path, nd ? "NDJSON" : s.bundle_type[0] ? "Bundle " : "resource",
				       nd ? "" : s.bundle_type,
				       s.resources, s.patients, s.first_date[0] ? s.first_date : "-",
				       s.last_date[0] ? s.last_date : "-");
				for (size_t i = 0; i < s.ntypes; i++)
					printf("  %-20s %zu\n", s.types[i].key, s.types[i].count);
				for (size_t i = 0; i < s.ncodes; i++)
					printf("  code %-40s %zu\n", s.codes[i].key, s.codes[i].count);
			}
			lb_fhir_summary_release(&s);
		}
	} else if (!strcmp(type, "image")) {
		struct lb_image img;
		rc = lb_image_read(data, len, true, &img, &em);
		if (!rc) {
			if (json)
				status = print_json_obj(lb_image_json(&img));
			else
				printf("%s: %s image %ux%u, %d channel(s), %d bits\n", path, img.format,
				       img.width, img.height, img.channels, img.bit_depth);
			lb_image_release(&img);
		}
	} else if (!strcmp(type, "text")) {
		struct lb_text_profile t;
		rc = lb_text_profile((const char *)data, len, &t, &em);
		if (!rc) {
			if (json) {
				status = print_json_obj(lb_text_profile_json(&t));
			} else {
				printf("%s: text, %zu bytes, %zu words, %zu lines, %s, language %s\n",
				       path, t.bytes, t.words, t.lines, t.utf8 ? "UTF-8" : "not UTF-8",
				       t.language[0] ? t.language : "unknown");
				for (size_t i = 0; i < t.nterms; i++)
					printf("  %-20s %zu\n", t.terms[i], t.term_counts[i]);
			}
			lb_text_profile_release(&t);
		}
	} else if (!strcmp(type, "audio") || !strcmp(type, "video")) {
		struct lb_media m;
		rc = lb_media_read(data, len, &m, &em);
		if (!rc) {
			if (json)
				status = print_json_obj(lb_media_json(&m));
			else
				print_media_text(path, &m);
		}
	} else if (!strcmp(type, "pdf")) {
		struct lb_pdf p;
		rc = lb_pdf_read(data, len, &p, &em);
		if (!rc) {
			struct lb_text_profile t;
			bool have = p.text && lb_text_profile(p.text, p.text_len, &t, NULL) == LB_OK;
			if (json) {
				json_t *j = lb_pdf_json(&p);
				if (j && have)
					json_object_set_new(j, "text", lb_text_profile_json(&t));
				status = print_json_obj(j);
			} else {
				printf("%s: PDF document (%s), %u page%s, %zu words of text, language %s\n",
				       path, p.version[0] ? p.version : "version unknown", p.pages,
				       p.pages == 1 ? "" : "s", p.words,
				       have && t.language[0] ? t.language : "unknown");
				if (p.title[0])
					printf("  title     %s\n", p.title);
				if (p.author[0])
					printf("  author    %s\n", p.author);
				for (size_t i = 0; have && i < t.nterms; i++)
					printf("  %-20s %zu\n", t.terms[i], t.term_counts[i]);
			}
			if (have)
				lb_text_profile_release(&t);
			lb_pdf_release(&p);
		}
	}
	lb_free(data);
	if (rc) {
		lb_errwrap(&em, "%s: ", path);
		return fail("inspect", &em,
			    rc == LB_ETRUNCATED ? "the file is incomplete: copy it again from its source"
						: NULL);
	}
	return status;
}

static const char dedup_help[] =
	"usage: leben data dedup DIR [--threshold S] [--image-distance D] [--json]\n"
	"\n"
	"Find duplicate files under DIR (all sub-directories), without changing anything:\n"
	"  exact       identical bytes (same BLAKE2b and MD5 digests)\n"
	"  near text   notes that say the same thing with the same values, whatever the\n"
	"              order of sentences, header/signature lines, hyphens, unit spacing or\n"
	"              numbers in words (similarity >= S; default 0.6; notes whose values\n"
	"              differ score at most 0.5)\n"
	"  near image  PNG/JPEG/DICOM images that look the same even if re-encoded, resized,\n"
	"              rotated, mirrored, watermarked or captioned (perceptual hash distance\n"
	"              <= D of 256 bits; default 31)\n"
	"Files that could not be read or hashed are listed with the reason.\n"
	"\n"
	"  --json   machine-readable output\n";

static int data_dedup(int argc, char **argv)
{
	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		fputs(dedup_help, stdout);
		return 0;
	}
	const char *dir = NULL;
	bool json = false;
	struct lb_dedup_options o = {LB_TEXT_MATCH, LB_PDQ_MATCH_DISTANCE, 0, 0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--threshold") && i + 1 < argc)
			o.text_threshold = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--image-distance") && i + 1 < argc)
			o.image_distance = atoi(argv[++i]);
		else if (argv[i][0] == '-' || dir) {
			fputs(dedup_help, stderr);
			return 2;
		} else
			dir = argv[i];
	}
	if (!dir || o.text_threshold <= 0 || o.text_threshold > 1 || o.image_distance < 1 ||
	    o.image_distance > 128) {
		fputs(dedup_help, stderr);
		return 2;
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	json_t *r;
	if (lb_dedup_dir(dir, &o, &r, &em))
		return fail("dedup", &em, NULL);
	if (json)
		return print_json_obj(r);
	printf("%s: %lld files\n", dir, (long long)json_integer_value(json_object_get(r, "files")));
	size_t i, k;
	json_t *g, *f;
	json_array_foreach(json_object_get(r, "exact"), i, g) {
		printf("exact duplicates (%lld bytes, md5 %s):\n",
		       (long long)json_integer_value(json_object_get(g, "bytes")),
		       json_string_value(json_object_get(g, "md5")));
		json_array_foreach(json_object_get(g, "files"), k, f)
			printf("  %s\n", json_string_value(f));
	}
	static const char *const kinds[2] = {"near_text", "near_image"};
	for (int t = 0; t < 2; t++)
		json_array_foreach(json_object_get(r, kinds[t]), i, g) {
			printf("%s:\n", t ? "near-duplicate images" : "near-duplicate texts");
			json_array_foreach(json_object_get(g, "pairs"), k, f) {
				json_t *m = json_object_get(f, t ? "distance" : "similarity");
				const char *how = json_string_value(json_object_get(f, "method"));
				bool sig = how && !strcmp(how, "crop-tolerant");
				if (sig) /* matched by the crop-tolerant signature, not by PDQ */
					m = json_object_get(f, "score");
				printf("  %s ~ %s  (%s %.3g)\n", json_string_value(json_object_get(f, "a")),
				       json_string_value(json_object_get(f, "b")),
				       sig ? "crop-tolerant score" : t ? "distance" : "similarity",
				       json_number_value(m));
			}
		}
	json_array_foreach(json_object_get(r, "skipped"), i, g)
		printf("not compared: %s: %s\n", json_string_value(json_object_get(g, "file")),
		       json_string_value(json_object_get(g, "reason")));
	json_decref(r);
	return 0;
}

static const char audit_help[] =
	"usage: leben data audit TABLE.csv [--report FILE.html] [--previous OLD.csv]\n"
	"                        [--rules RULES.json] [--clusters K] [--json]\n"
	"                        [--skip N] [--header|--no-header] [--delimiter C]\n"
	"       leben data audit FILE.dcm|BUNDLE.json|NOTE.txt|IMAGE.png|SOUND.wav|VIDEO.mp4|DOC.pdf\n"
	"                        [--json]\n"
	"       (both forms take [--icd10 ORDERFILE] [--snomed CONCEPTS.txt])\n"
	"\n"
	"Other files get the checks that fit them, each counted as passed/looked at, and a\n"
	"score (the mean pass rate): DICOM (identifying elements present, UIDs well formed,\n"
	"dates valid, image attributes matching the pixel data), FHIR (resources with ids,\n"
	"references that resolve inside the bundle, codings with system and code and valid\n"
	"ICD-10 / SNOMED CT codes, dates that exist in the calendar), text (UTF-8, no control\n"
	"characters, has words, language recognised), images (decodable, at least 32x32, not\n"
	"blank), audio and video (duration stated, sample rate, channels, picture size and\n"
	"codecs plausible), PDF (has pages, has a text layer, language recognised, has a title).\n"
	"The type is found from the content, as for inspect. A table with a header but no rows,\n"
	"or an empty file, scores 0 and the output says why. Every failure is listed with its\n"
	"place: the FHIR path, or the line and column of a bad code in a table's code columns\n"
	"(icd10, snomed_ct, diagnosis, ...).\n"
	"  --icd10 ORDERFILE      ICD-10-CM code table (CMS order file): codes must exist in it\n"
	"  --snomed CONCEPTS.txt  SNOMED CT RF2 concept snapshot: concepts must exist, active\n"
	"\n"
	"Check the quality of a table and give it a score from 0 to 100:\n"
	"  completeness   share of cells that are filled in\n"
	"  uniqueness     rows that repeat an earlier row\n"
	"  validity       values outside the ranges / allowed values in RULES.json, e.g.\n"
	"                 {\"age\": {\"min\": 0, \"max\": 120}, \"sex\": {\"allowed\": [\"F\", \"M\"]}}\n"
	"  outliers       numbers far from the median (robust z-score above 3.5)\n"
	"  stability      how much each numeric column drifted from --previous (KS statistic)\n"
	"It also lists correlations between numeric columns and groups the rows into K clusters\n"
	"(default 3) so you can see where problems concentrate.\n"
	"\n"
	"  --report FILE.html   write a report with charts that opens in any browser, offline\n"
	"  --json               machine-readable output\n";

static int read_profile(const char *path, const struct lb_csv_options *co, struct lb_csv_profile *p,
			struct lb_errmsg *em)
{
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, DATA_MAX_FILE, &data, &len, em);
	if (rc)
		return rc;
	rc = lb_csv_profile((const char *)data, len, co, p, em);
	lb_free(data);
	if (rc)
		lb_errwrap(em, "%s: ", path);
	return rc;
}

/* Audit of a DICOM file, FHIR document, text note or image (not a table). */
static int audit_asset_file(const char *path, const char *type, const uint8_t *d, size_t n,
			    bool json, const struct lb_code_tables *ct)
{
	struct lb_errmsg em;
	struct lb_asset_audit a;
	lb_errclear(&em);
	int rc = lb_audit_asset_bytes(type, d, n, ct, &a, &em);
	if (rc) {
		lb_errwrap(&em, "%s: ", path);
		return fail("audit", &em, NULL);
	}
	if (json)
		return print_json_obj(lb_asset_audit_json(&a));
	printf("%s: %s, score %.2f / 100\n", path, a.format, a.score / 100.0);
	for (size_t i = 0; i < a.nchecks; i++) {
		const struct lb_audit_check *c = &a.check[i];
		if (!c->total)
			printf("  %-14s not applicable\n", c->name);
		else {
			bool listed = false; /* failures listed below with their place */
			for (size_t k = 0; k < a.nproblems && !listed; k++)
				listed = !strcmp(a.problem[k].check, c->name);
			printf("  %-14s %llu of %llu passed%s%s\n", c->name,
			       (unsigned long long)c->passed, (unsigned long long)c->total,
			       c->detail[0] && !listed ? ": " : "", listed ? "" : c->detail);
		}
	}
	/* every failure with where it is (codes, dates, references) */
	for (size_t i = 0; i < a.nproblems; i++)
		printf("  %-14s %s: %s\n", a.problem[i].check, a.problem[i].where, a.problem[i].what);
	if (a.more_problems)
		printf("  ... and %llu more problems (--json lists the first %d)\n",
		       (unsigned long long)a.more_problems, LB_AUDIT_MAX_PROBLEMS);
	return 0;
}

/* data audit of one file, the code tables loaded (ao->codes). */
static int data_audit_file(const char *path, const char *report, const char *prev,
			   const char *rules_path, bool json, struct lb_csv_options *cop,
			   struct lb_audit_options *aop, struct lb_errmsg *emp);

static int data_audit(int argc, char **argv)
{
	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		fputs(audit_help, stdout);
		return 0;
	}
	const char *path = NULL, *report = NULL, *prev = NULL, *rules_path = NULL;
	const char *icd10_path = NULL, *snomed_path = NULL;
	bool json = false;
	struct lb_csv_options co = {0, -1, 0, 0};
	struct lb_audit_options ao = {0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--report") && i + 1 < argc)
			report = argv[++i];
		else if (!strcmp(argv[i], "--previous") && i + 1 < argc)
			prev = argv[++i];
		else if (!strcmp(argv[i], "--rules") && i + 1 < argc)
			rules_path = argv[++i];
		else if (!strcmp(argv[i], "--clusters") && i + 1 < argc)
			ao.k = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--icd10") && i + 1 < argc)
			icd10_path = argv[++i];
		else if (!strcmp(argv[i], "--snomed") && i + 1 < argc)
			snomed_path = argv[++i];
		else if (!strcmp(argv[i], "--skip") && i + 1 < argc)
			co.skip_rows = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--header"))
			co.header = 1;
		else if (!strcmp(argv[i], "--no-header"))
			co.header = 0;
		else if (!strcmp(argv[i], "--delimiter") && i + 1 < argc)
			co.delimiter = !strcmp(argv[i + 1], "\\t") ? '\t' : argv[i + 1][0], i++;
		else if (argv[i][0] == '-' || path) {
			fputs(audit_help, stderr);
			return 2;
		} else
			path = argv[i];
	}
	if (!path || ao.k < 0 || ao.k > LB_AUDIT_MAX_K) {
		fputs(audit_help, stderr);
		return 2;
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	/* code tables the user is licensed to use: codes are checked for existence too */
	struct lb_icd10_table *icd = NULL;
	struct lb_snomed *sct = NULL;
	if ((icd10_path && lb_icd10_table_load(icd10_path, &icd, &em)) ||
	    (snomed_path && lb_snomed_load(snomed_path, NULL, NULL, &sct, &em))) {
		lb_icd10_table_free(icd);
		return fail("audit", &em, NULL);
	}
	struct lb_code_tables ct = {icd, sct};
	ao.codes = &ct;
	int status = data_audit_file(path, report, prev, rules_path, json, &co, &ao, &em);
	lb_icd10_table_free(icd);
	lb_snomed_free(sct);
	return status;
}

/* data audit of one file, the code tables loaded (ao->codes). */
static int data_audit_file(const char *path, const char *report, const char *prev,
			   const char *rules_path, bool json, struct lb_csv_options *cop,
			   struct lb_audit_options *aop, struct lb_errmsg *emp)
{
	struct lb_csv_options co = *cop;
	struct lb_audit_options ao = *aop;
	struct lb_errmsg em = *emp;
	struct lb_asset_audit *table_codes = NULL; /* owned */
	{
		/* not a table: the checks that fit its format */
		uint8_t *d;
		size_t n;
		if (lb_file_read(path, DATA_MAX_FILE, &d, &n, &em))
			return fail("audit", &em, NULL);
		struct lb_detected det;
		bool table = co.delimiter || co.header >= 0 || co.skip_rows;
		if (file_type(path, table ? "csv" : NULL, d, n, &det, &em)) {
			lb_free(d);
			if (em.code == LB_EINVALID && n == 0) {
				/* an empty file scores 0 and says why */
				if (json)
					return print_json_obj(json_pack(
						"{s:s,s:i,s:s}", "file", path, "score", 0, "note",
						"the file is empty (0 bytes): there is nothing to audit"));
				printf("%s: score 0.00 / 100: the file is empty (0 bytes): there is "
				       "nothing to audit\n", path);
				return 0;
			}
			return fail("audit", &em, NULL);
		}
		const char *type = det.type;
		table = table || !strcmp(type, "csv");
		if (!table && (report || prev || rules_path)) {
			lb_free(d);
			fprintf(stderr, "leben data audit: --report, --previous and --rules are for "
					"tables (.csv/.tsv); %s is %s\n",
				path, type);
			return 2;
		}
		int st = table ? -1 : audit_asset_file(path, type, d, n, json, ao.codes);
		struct lb_asset_audit *codes = NULL;
		if (table && st < 0) {
			/* every cell of the code columns, with its line and column */
			struct lb_csv_profile cp;
			if (lb_csv_profile((const char *)d, n, &co, &cp, NULL) == LB_OK) {
				codes = lb_malloc(sizeof *codes);
				if (codes)
					lb_audit_table_codes((const char *)d, n, &cp, ao.codes, codes);
				lb_csv_profile_release(&cp);
			}
		}
		table_codes = codes;
		lb_free(d);
		if (st >= 0)
			return st;
	}
	struct lb_csv_profile p, pp;
	json_t *rules_json = NULL;
	struct lb_audit_rule *rules = NULL;
	int status = 1;
	if (read_profile(path, &co, &p, &em)) {
		lb_free(table_codes);
		return fail("audit", &em, NULL);
	}
	if (prev) {
		if (read_profile(prev, &co, &pp, &em))
			goto out_profile;
		ao.previous = &pp;
	}
	if (rules_path) {
		json_error_t je;
		rules_json = json_load_file(rules_path, 0, &je);
		if (!rules_json) {
			lb_errf(&em, LB_EMALFORMED, "%s: line %d: %s", rules_path, je.line, je.text);
			goto out_prev;
		}
		if (lb_audit_rules_from_json(rules_json, &rules, &ao.nrules, &em)) {
			lb_errwrap(&em, "%s: ", rules_path);
			goto out_prev;
		}
		ao.rules = rules;
	}
	struct lb_audit a;
	if (lb_audit_table(&p, &ao, &a, &em))
		goto out_prev;
	if (report) {
		struct lb_buf html;
		lb_buf_init(&html, 256u << 20);
		const char *base = strrchr(path, '/');
		int rc = lb_audit_html(base ? base + 1 : path, &p, &a, &html);
		if (!rc)
			rc = lb_file_write(report, html.data, html.len, 0644, &em);
		else
			lb_errf(&em, rc, "%s: cannot build the report", report);
		lb_buf_release(&html);
		if (rc) {
			lb_audit_release(&a);
			goto out_prev;
		}
	}
	if (json) {
		json_t *j = lb_audit_json(&p, &a);
		if (j && report)
			json_object_set_new(j, "report", json_string(report));
		if (j && table_codes && table_codes->check[0].total)
			json_object_set_new(j, "codes", lb_asset_audit_json(table_codes));
		status = print_json_obj(j);
	} else {
		printf("%s: score %.2f / 100 (completeness %.1f%%, uniqueness %.1f%%, validity "
		       "%.1f%%, outliers %.1f%%, stability %.1f%%)\n",
		       path, a.score / 100.0, a.s_completeness * 100, a.s_uniqueness * 100,
		       a.s_validity * 100, a.s_outliers * 100, a.s_drift * 100);
		printf("  %zu rows, %zu duplicate rows\n", a.rows, a.duplicate_rows);
		if (a.note)
			printf("  score 0: %s\n", a.note);
		for (size_t j = 0; j < a.cols; j++)
			if (a.col[j].completeness < 1 || a.col[j].outliers || a.col[j].violations ||
			    a.col[j].drift_ks > 0.2)
				printf("  %-24s missing %.1f%%, outliers %zu, rule violations %zu%s\n",
				       p.cols[j].name, (1 - a.col[j].completeness) * 100,
				       a.col[j].outliers, a.col[j].violations,
				       a.col[j].drift_ks > 0.2 ? ", drifted" : "");
		if (table_codes && table_codes->check[0].total) {
			const struct lb_asset_audit *tc = table_codes;
			printf("  codes          %llu of %llu passed\n",
			       (unsigned long long)tc->check[0].passed,
			       (unsigned long long)tc->check[0].total);
			for (size_t k = 0; k < tc->nproblems; k++)
				printf("  codes          %s: %s\n", tc->problem[k].where,
				       tc->problem[k].what);
			if (tc->more_problems)
				printf("  ... and %llu more bad codes (--json lists the first %d)\n",
				       (unsigned long long)tc->more_problems, LB_AUDIT_MAX_PROBLEMS);
		}
		if (report)
			printf("  report written to %s\n", report);
		status = 0;
	}
	lb_audit_release(&a);
out_prev:
	lb_audit_rules_free(rules, ao.nrules);
	json_decref(rules_json);
	if (prev && ao.previous)
		lb_csv_profile_release(&pp);
out_profile:
	lb_csv_profile_release(&p);
	lb_free(table_codes);
	if (status && em.code)
		return fail("audit", &em, NULL);
	return status;
}

static const char search_help[] =
	"usage: leben data search \"free text\" [--where KEY=VALUE]... [--limit N] [--exact] [--json]\n"
	"       leben data search --add ENTRIES.json\n"
	"       leben data search --import-snomed CONCEPTS.txt DESCRIPTIONS.txt\n"
	"       leben data search --import-icd10 ORDERFILE.txt\n"
	"       (all forms take --catalog FILE; default $LEBEN_HOME/catalog.db or ~/.leben/catalog.db)\n"
	"       leben data search \"free text\" --directory [--node URL] [--home DIR] [...]\n"
	"\n"
	"Find data assets in the catalogue of public directory entries. Results are ranked by\n"
	"relevance, names counting most, then subjects, keywords and codes, then data features.\n"
	"Small typing mistakes are forgiven (\"diabetis\" finds diabetes), and medical synonyms from\n"
	"the imported SNOMED CT and ICD-10 files are understood (\"heart attack\" finds data coded\n"
	"as myocardial infarction). --exact turns both off.\n"
	"\n"
	"  --where KEY=VALUE   keep entries with that attribute: format=dicom, modality=ct,\n"
	"                      billing=free, category=imaging, code=icd10cm|I10, level<=2,\n"
	"                      price<=1000000 (micro-ASC); repeat to combine\n"
	"  --add FILE          add entries: one hexahedron JSON (docs/hexahedron.md), a list of\n"
	"                      them, or a list of {\"id\": ..., \"hexahedron\": {...}}; only public\n"
	"                      fields are indexed\n"
	"  --directory         search the public entries of the node's directory chain instead of\n"
	"                      the offline catalogue: the node answers from the catalogue it\n"
	"                      derives from its directory blocks (a node without one: its blocks\n"
	"                      are replayed into <home>/directory.db here); --node URL implies it\n"
	"  --json              machine-readable output\n";

static const char *catalog_path(const char *opt)
{
	static char buf[4096];
	if (opt)
		return opt;
	const char *home = getenv("LEBEN_HOME");
	if (home)
		snprintf(buf, sizeof buf, "%s/catalog.db", home);
	else
		snprintf(buf, sizeof buf, "%s/.leben/catalog.db", getenv("HOME") ? getenv("HOME") : ".");
	return buf;
}

static int catalog_add_file(struct lb_catalog *cat, const char *path, struct lb_errmsg *em)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root)
		return lb_errf(em, LB_EMALFORMED, "%s: line %d, column %d: %s", path, je.line,
			       je.column, je.text);
	json_t *list = json_is_array(root) ? root : NULL;
	size_t count = list ? json_array_size(list) : 1, added = 0;
	int rc = LB_OK;
	for (size_t i = 0; !rc && i < count; i++) {
		json_t *item = list ? json_array_get(list, i) : root;
		json_t *hj = json_object_get(item, "hexahedron");
		const char *id = json_string_value(json_object_get(item, "id"));
		if (!json_is_object(hj) || json_is_integer(hj))
			hj = item;
		struct lb_hexa h, pub, priv;
		rc = lb_hexa_from_json(hj, &h, em);
		if (rc) {
			lb_errwrap(em, "%s: entry %zu: ", path, i);
			break;
		}
		rc = lb_hexa_split(&h, &pub, &priv);
		char idbuf[65];
		int bid = lb_hexa_field_id("raw.blake2b");
		if (!id && (h.present >> bid & 1)) {
			lb_hex_encode(idbuf, h.v[bid].b, 32);
			id = idbuf;
		}
		if (!rc && !id)
			rc = lb_errf(em, LB_EINVALID, "%s: entry %zu has no id and no raw.blake2b", path, i);
		if (!rc)
			rc = lb_catalog_put(cat, id, &pub, em);
		if (!rc)
			added++;
		lb_hexa_release(&h);
		lb_hexa_release(&pub);
		lb_hexa_release(&priv);
	}
	json_decref(root);
	if (!rc)
		printf("%zu entr%s added from %s\n", added, added == 1 ? "y" : "ies", path);
	return rc;
}

static int directory_sync(const char *cmd, const char *url, struct lb_catalog *cat,
			  struct lb_errmsg *em);

/* GET /v1/directory/search on the node. LB_ENOTFOUND: the node has no such route. */
static int node_search(const char *url, const char *query, const struct lb_search_options *o,
		       json_t **out, struct lb_errmsg *em)
{
	struct lb_buf path;
	lb_buf_init(&path, 64 * 1024);
	int rc = lb_buf_addf(&path, "/v1/directory/search?q=");
	if (!rc)
		rc = cli_url_escape(&path, query ? query : "");
	for (size_t i = 0; !rc && i < o->nwhere; i++)
		if (!(rc = lb_buf_addf(&path, "&where=")))
			rc = cli_url_escape(&path, o->where[i]);
	if (!rc && o->limit)
		rc = lb_buf_addf(&path, "&limit=%zu", o->limit);
	if (!rc && o->no_typos)
		rc = lb_buf_addf(&path, "&exact=1");
	if (!rc)
		rc = lb_buf_add(&path, "", 1);
	if (rc) {
		lb_buf_release(&path);
		return lb_errf(em, LB_ELIMIT, "the search is too long for a URL");
	}
	rc = lb_client_get(url, (const char *)path.data, out, em);
	lb_buf_release(&path);
	return rc;
}

static void print_search_result(json_t *res, bool json)
{
	if (json) {
		json_object_del(res, "directory_height");
		print_json_obj(json_incref(res));
		return;
	}
	json_t *arr = json_object_get(res, "results"), *h;
	size_t i;
	if (!json_array_size(arr))
		printf("no entries match\n");
	json_array_foreach(arr, i, h)
		printf("%2zu. %-32s %s  (%.2f)\n", i + 1,
		       json_string_value(json_object_get(h, "id")),
		       json_string_value(json_object_get(h, "name")),
		       json_real_value(json_object_get(h, "score")));
}

static int data_search(int argc, char **argv)
{
	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		fputs(search_help, stdout);
		return 0;
	}
	const char *query = NULL, *cpath = NULL, *add = NULL, *snomed_c = NULL, *snomed_d = NULL,
		   *icd = NULL, *node = NULL, *home = NULL;
	bool directory = false;
	const char *where[32];
	struct lb_search_options o = {.where = where};
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--exact"))
			o.no_typos = o.no_synonyms = true;
		else if (!strcmp(argv[i], "--where") && i + 1 < argc && o.nwhere < 32)
			where[o.nwhere++] = argv[++i];
		else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
			o.limit = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--catalog") && i + 1 < argc)
			cpath = argv[++i];
		else if (!strcmp(argv[i], "--directory"))
			directory = true;
		else if (!strcmp(argv[i], "--node") && i + 1 < argc)
			node = argv[++i], directory = true;
		else if (!strcmp(argv[i], "--home") && i + 1 < argc)
			home = argv[++i];
		else if (!strcmp(argv[i], "--add") && i + 1 < argc)
			add = argv[++i];
		else if (!strcmp(argv[i], "--import-snomed") && i + 2 < argc) {
			snomed_c = argv[++i];
			snomed_d = argv[++i];
		} else if (!strcmp(argv[i], "--import-icd10") && i + 1 < argc)
			icd = argv[++i];
		else if (argv[i][0] == '-' || query) {
			fputs(search_help, stderr);
			return 2;
		} else
			query = argv[i];
	}
	if (!query && !add && !snomed_c && !icd && !o.nwhere) {
		fputs(search_help, stderr);
		return 2;
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	char dpath[4096];
	if (directory && (add || cpath)) {
		fprintf(stderr, "leben data search: --directory/--node search the node's directory, "
				"which only the chain fills: drop --add and --catalog\n");
		return 2;
	}
	if (directory) {
		home = cli_home(home);
		lb_mkdirs(home, 0700, NULL);
		snprintf(dpath, sizeof dpath, "%s/directory.db", home);
		cpath = dpath;
	} else if (home && !cpath) {
		snprintf(dpath, sizeof dpath, "%s/catalog.db", home);
		cpath = dpath;
	}
	cpath = catalog_path(cpath);
	if (!strchr(cpath, '/') || strrchr(cpath, '/') != cpath) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", cpath);
		char *slash = strrchr(dir, '/');
		if (slash) {
			*slash = 0;
			lb_mkdirs(dir, 0700, NULL);
		}
	}
	if (directory && !snomed_c && !icd) {
		/* the node keeps a catalogue of its directory chain: ask it */
		json_t *res = NULL;
		int nrc = node_search(cli_node_url(node, home), query, &o, &res, &em);
		if (nrc == LB_OK) {
			print_search_result(res, json);
			json_decref(res);
			return 0;
		}
		if (nrc != LB_ENOTFOUND)
			return fail("search", &em, NULL);
		/* a node without GET /v1/directory/search: replay its blocks here */
		lb_errclear(&em);
	}
	struct lb_catalog *cat;
	if (lb_catalog_open(cpath, &cat, &em))
		return fail("search", &em, NULL);
	int rc = LB_OK;
	if (directory)
		rc = directory_sync("search", cli_node_url(node, home), cat, &em);
	if (add)
		rc = catalog_add_file(cat, add, &em);
	if (!rc && snomed_c) {
		struct lb_snomed *s;
		rc = lb_snomed_load(snomed_c, snomed_d, NULL, &s, &em);
		if (!rc) {
			rc = lb_catalog_import_snomed(cat, s, &em);
			if (!rc)
				printf("synonyms of %zu SNOMED CT concepts imported\n", lb_snomed_concepts(s));
			lb_snomed_free(s);
		}
	}
	if (!rc && icd) {
		struct lb_icd10_table *t;
		rc = lb_icd10_table_load(icd, &t, &em);
		if (!rc) {
			rc = lb_catalog_import_icd10(cat, t, &em);
			if (!rc)
				printf("%zu ICD-10 codes imported\n", lb_icd10_table_size(t));
			lb_icd10_table_free(t);
		}
	}
	if (!rc && (query || o.nwhere)) {
		struct lb_search_hit *hits;
		size_t n;
		struct lb_buf exp;
		lb_buf_init(&exp, 1 << 20);
		rc = lb_catalog_search(cat, query ? query : "", &o, &hits, &n, &exp, &em);
		if (!rc && json) {
			json_t *arr = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, json_pack("{s:s,s:s,s:f}", "id", hits[i].asset_id,
								     "name", hits[i].name, "score",
								     hits[i].score));
			print_json_obj(json_pack("{s:s,s:s,s:o}", "query", query ? query : "",
						 "expanded", exp.data ? (char *)exp.data : "", "results",
						 arr));
		} else if (!rc) {
			if (!n)
				printf("no entries match\n");
			for (size_t i = 0; i < n; i++)
				printf("%2zu. %-32s %s  (%.2f)\n", i + 1, hits[i].asset_id, hits[i].name,
				       hits[i].score);
		}
		lb_free(hits);
		lb_buf_release(&exp);
	}
	lb_catalog_close(cat);
	return rc ? fail("search", &em, NULL) : 0;
}

/* ---- publishing to a node's directory chain ------------------------------------------------ */

#define DATA_PROGRESS_BYTES (16u << 20) /* files from this size show their progress */

/* What publishing needs: who signs, which node, where the home keeps its vault and caches. */
struct pub_ctx {
	const char *cmd;                 /* "add" or "watch" */
	const char *home, *url, *key_name;
	bool json, progress;
	struct lb_keypair kp;            /* signing key (wiped by pub_close) */
	bool have_key;
	uint8_t addr[LB_ADDR_LEN];
	char addr_text[LB_ADDR_TEXT_LEN + 1];
	uint8_t network[LB_HASH_LEN];
	uint8_t node_xpk[32];            /* the node's X25519 key: vault objects are sealed to it */
	struct lb_catalog *cat;          /* <home>/directory.db, derived from the chain */
	json_t *assets;                  /* <home>/data/assets.json: asset id -> what was published */
	const char *policy;              /* --policy: the private part also sealed to it (CP-ABE) */
	const char *authority;           /* --authority: whose attributes (default: this home's) */
	char abe_tx[2 * LB_HASH_LEN + 1]; /* the abe.seal tx of the last publication */
};

static int current_seal(const char *url, const char *asset, char **policy, char authority[65],
			struct lb_errmsg *em);
static int seal_policy(struct pub_ctx *c, const struct lb_hexa *h, const uint8_t asset[32],
		       uint64_t version, struct lb_errmsg *em);
static void say(const struct pub_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct pub_ctx *c, const char *fmt, ...)
{
	if (!c->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "leben data %s: ", c->cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The node's X25519 encryption key from the public half of <home>/keys/node.key. */
static int node_xpk(const char *home, uint8_t xpk[32], struct lb_errmsg *em)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/keys/node.key", home);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return lb_errf(em, LB_ENOTFOUND, "%s: %s (is %s a node home made by 'leben init'?)",
			       path, je.text, home);
	const char *pk = json_string_value(json_object_get(j, "public_key"));
	uint8_t ed[32];
	int rc = pk && lb_hex_decode(ed, 32, pk) == LB_OK
			 ? lb_envelope_pk_from_ed25519(xpk, ed)
			 : lb_errf(em, LB_ECORRUPT, "%s: no public_key", path);
	if (rc && !em->text[0])
		lb_errf(em, rc, "%s: the public key is not a valid point", path);
	json_decref(j);
	return rc;
}

static int catalog_at(const char *home, const char *file, struct lb_catalog **out,
		      struct lb_errmsg *em)
{
	char path[4200];
	lb_mkdirs(home, 0700, NULL);
	snprintf(path, sizeof path, "%s/%s", home, file);
	return lb_catalog_open(path, out, em);
}

/* The catalogue forgets a retired asset; keep who retired it, when and in which tx (a note
 * "retired.<asset id>" of the catalogue) so that 'data get' and 'data show' can say so. */
static int note_retirement(struct lb_catalog *cat, json_t *blk, uint64_t height, json_t *tx,
			   struct lb_errmsg *em)
{
	const char *type = json_string_value(json_object_get(tx, "type"));
	json_t *p = json_object_get(tx, "payload");
	const char *id = json_string_value(json_object_get(p, "asset_id"));
	if (!type || strcmp(type, "data.retire") || !json_is_true(json_object_get(tx, "valid")) || !id)
		return LB_OK;
	json_t *t = json_object_get(blk, "time_ms");
	if (!t)
		t = json_object_get(json_object_get(blk, "header"), "time_ms");
	const char *txid = json_string_value(json_object_get(tx, "id"));
	const char *by = json_string_value(json_object_get(tx, "sender"));
	const char *why = json_string_value(json_object_get(p, "reason"));
	json_t *note = json_pack("{s:s,s:I,s:I,s:s,s:s}", "tx", txid ? txid : "", "height",
				 (json_int_t)height, "time_ms", (json_int_t)json_integer_value(t),
				 "by", by ? by : "", "reason", why ? why : "");
	char *text = note ? json_dumps(note, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(note);
	if (!text)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	char key[96];
	snprintf(key, sizeof key, "retired.%.64s", id);
	int rc = lb_catalog_meta_put(cat, key, text, em);
	free(text);
	return rc;
}

/* The retirement noted for asset id, or NULL (json_decref the result). */
static json_t *retirement_of(struct lb_catalog *cat, const char *id)
{
	char key[96], val[2048];
	snprintf(key, sizeof key, "retired.%.64s", id);
	if (lb_catalog_meta_get(cat, key, val, sizeof val) != LB_OK)
		return NULL;
	return json_loads(val, 0, NULL);
}

/* "retired on 2026-12-06 13:45:10 UTC by lb1... in tx 3f2a... (directory block 12): the file
 * was removed" */
static void describe_retirement(const json_t *r, char *out, size_t cap)
{
	time_t secs = (time_t)(json_integer_value(json_object_get(r, "time_ms")) / 1000);
	struct tm tm;
	char when[64] = "at an unknown time";
	if (secs > 0 && gmtime_r(&secs, &tm))
		strftime(when, sizeof when, "on %Y-%m-%d %H:%M:%S UTC", &tm);
	const char *by = json_string_value(json_object_get(r, "by"));
	const char *tx = json_string_value(json_object_get(r, "tx"));
	const char *why = json_string_value(json_object_get(r, "reason"));
	json_int_t height = json_integer_value(json_object_get(r, "height"));
	char blk[48] = "";
	if (height)
		snprintf(blk, sizeof blk, " (directory block %lld)", (long long)height);
	snprintf(out, cap, "retired %s by %s in tx %s%s%s%s", when, by && by[0] ? by : "its owner",
		 tx && tx[0] ? tx : "(unknown)", blk, why && why[0] ? ": " : "", why ? why : "");
}

/* "on 2026-12-06 13:45 UTC" of a block time. */
static void purge_day(json_int_t ms, char *out, size_t cap)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || !gmtime_r(&s, &tm) || !strftime(out, cap, "on %Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, cap, "at an unknown time");
}

/* The purge status of asset id at the node (NULL when none was asked). */
static json_t *purge_status_of(const char *url, const char *id)
{
	char path[160];
	json_t *st = NULL;
	struct lb_errmsg em;
	snprintf(path, sizeof path, "/v1/data/purges/%.64s", id);
	if (lb_client_get(url, path, &st, &em))
		return NULL;
	return st;
}

/* "asset X was purged on DATE at the owner's request" when the whole asset was purged. */
static bool purged_text(json_t *st, const char *id, char *out, size_t cap)
{
	if (!json_is_true(json_object_get(st, "purged")))
		return false;
	char when[64];
	const char *by = "owner";
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(st, "requests"), i, r)
		if (!strcmp(json_string_value(json_object_get(r, "scope")), "asset"))
			by = json_string_value(json_object_get(r, "by"));
	purge_day(json_integer_value(json_object_get(st, "purged_at")), when, sizeof when);
	snprintf(out, cap, "asset %s was purged %s at the %s's request", id, when, by);
	return true;
}

/* Bring the catalogue up to the node's directory chain: replay the data.* txs of every block
 * after the one it last saw. A catalogue made for another network is rebuilt. */
static int directory_sync(const char *cmd, const char *url, struct lb_catalog *cat,
			  struct lb_errmsg *em)
{
	json_t *st = NULL;
	int rc = lb_client_get(url, "/v1/status", &st, em);
	if (rc)
		return rc;
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	json_t *h = json_object_get(json_object_get(json_object_get(st, "chains"), "directory"),
				    "height");
	if (!nid || !json_is_integer(h)) {
		json_decref(st);
		return lb_errf(em, LB_EMALFORMED, "%s/v1/status has no network id or directory height",
			       url);
	}
	uint64_t top = (uint64_t)json_integer_value(h), from = 0;
	char have[80], num[32];
	if (lb_catalog_meta_get(cat, "network", have, sizeof have) == LB_OK && strcmp(have, nid))
		rc = lb_catalog_reset(cat, em);
	if (!rc && lb_catalog_meta_get(cat, "directory_height", num, sizeof num) == LB_OK)
		from = strtoull(num, NULL, 10);
	if (!rc)
		rc = lb_catalog_meta_put(cat, "network", nid, em);
	json_decref(st);
	for (uint64_t b = from + 1; !rc && b <= top; b++) {
		char path[96];
		json_t *blk = NULL;
		snprintf(path, sizeof path, "/v1/chains/directory/blocks/%llu", (unsigned long long)b);
		if ((rc = lb_client_get(url, path, &blk, em)))
			break;
		size_t i;
		json_t *tx;
		json_array_foreach(json_object_get(blk, "txs"), i, tx) {
			if ((rc = lb_catalog_apply_tx_json(cat, tx, NULL, em))) {
				lb_errwrap(em, "directory block %llu: ", (unsigned long long)b);
				break;
			}
			if ((rc = note_retirement(cat, blk, b, tx, em)))
				break;
		}
		json_decref(blk);
		snprintf(num, sizeof num, "%llu", (unsigned long long)b);
		if (!rc)
			rc = lb_catalog_meta_put(cat, "directory_height", num, em);
	}
	(void)cmd;
	return rc;
}

static void assets_path(const char *home, char *out, size_t n)
{
	snprintf(out, n, "%s/data/assets.json", home);
}

/* <home>/data/assets.json: {"format": 2, "assets": {ASSET_ID: entry}}, one entry per asset
 * this home published (path, file = absolute path, vault, version, head, blake2b, created,
 * tx, audit_score, link, and "retired": {tx, time_ms, by, reason} once retired), so that the
 * same path added twice keeps both assets. Homes made before kept {absolute path: entry}:
 * they are read as the new layout (each entry under its asset id) and written back so. */
static int assets_load(const char *home, json_t **out, struct lb_errmsg *em)
{
	char path[4200];
	assets_path(home, path, sizeof path);
	json_t *j;
	int rc = lb_json_file_load(path, &j, em);
	*out = NULL;
	if (rc)
		return rc;
	if (json_integer_value(json_object_get(j, "format")) == 2 &&
	    json_is_object(json_object_get(j, "assets"))) {
		*out = j;
		return LB_OK;
	}
	json_t *root = json_pack("{s:i,s:o}", "format", 2, "assets", json_object());
	json_t *map = json_object_get(root, "assets");
	const char *k;
	json_t *v;
	if (json_is_object(j))
		json_object_foreach(j, k, v) {
			const char *id = json_string_value(json_object_get(v, "asset_id"));
			if (!id || !json_is_object(v))
				continue;
			json_t *have = json_object_get(map, id);
			if (have && json_integer_value(json_object_get(have, "version")) >=
					    json_integer_value(json_object_get(v, "version")))
				continue;
			if (!json_object_get(v, "file"))
				json_object_set_new(v, "file", json_string(k));
			json_object_set(map, id, v);
		}
	json_decref(j);
	*out = root;
	return LB_OK;
}

static json_t *assets_map(json_t *root)
{
	return json_object_get(root, "assets");
}

/* The live (not retired, not purged) asset this home published from file (absolute path), the latest
 * version if several; NULL if none. Borrowed. */
static json_t *asset_of_file(json_t *root, const char *file)
{
	const char *k;
	json_t *v, *best = NULL;
	json_object_foreach(assets_map(root), k, v) {
		const char *f = json_string_value(json_object_get(v, "file"));
		if (!f || strcmp(f, file) || json_object_get(v, "retired") ||
		    json_object_get(v, "purged"))
			continue;
		if (!best || json_integer_value(json_object_get(v, "created")) >
				     json_integer_value(json_object_get(best, "created")))
			best = v;
	}
	return best;
}

static int assets_save(const struct pub_ctx *c, struct lb_errmsg *em)
{
	char path[4200], dir[4200];
	snprintf(dir, sizeof dir, "%s/data", c->home);
	lb_mkdirs(dir, 0700, NULL);
	assets_path(c->home, path, sizeof path);
	return lb_json_file_save(path, c->assets, em);
}

static void pub_close(struct pub_ctx *c)
{
	if (c->have_key)
		lb_keypair_wipe(&c->kp);
	c->have_key = false;
	lb_catalog_close(c->cat);
	c->cat = NULL;
	json_decref(c->assets);
	c->assets = NULL;
}

static int pub_open(struct pub_ctx *c, struct lb_errmsg *em)
{
	json_t *st = NULL;
	int rc = node_xpk(c->home, c->node_xpk, em);
	if (rc)
		return rc;
	if ((rc = lb_client_get(c->url, "/v1/status", &st, em)))
		return rc;
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	if (!nid || lb_hex_decode(c->network, LB_HASH_LEN, nid)) {
		json_decref(st);
		return lb_errf(em, LB_EMALFORMED, "%s gave no network id", c->url);
	}
	json_decref(st);
	if (cli_load_key(c->home, c->key_name, &c->kp))
		return lb_errf(em, LB_EUNAUTH, "cannot use key '%s'", c->key_name);
	c->have_key = true;
	lb_addr_from_pubkey(c->addr, c->kp.pk);
	lb_addr_encode(c->addr_text, c->addr);
	if ((rc = catalog_at(c->home, "directory.db", &c->cat, em)))
		return rc;
	return assets_load(c->home, &c->assets, em);
}

/* Sign a tx of chain with the next nonce, send it and wait until a block holds it. */
static int send_chain_tx(struct pub_ctx *c, int chain, uint32_t type, const struct lb_buf *payload,
			 char idhex[2 * LB_HASH_LEN + 1], struct lb_errmsg *em)
{
	char path[128];
	json_t *acct = NULL, *reply = NULL;
	snprintf(path, sizeof path, "/v1/accounts/%s", c->addr_text);
	int rc = lb_client_get(c->url, path, &acct, em);
	if (rc)
		return rc;
	json_t *nn = json_object_get(
		json_object_get(json_object_get(acct, "chains"), lb_chain_name(chain)), "next_nonce");
	if (!json_is_integer(nn)) {
		json_decref(acct);
		return lb_errf(em, LB_EMALFORMED, "the node gave no %s nonce for %s",
			       lb_chain_name(chain), c->addr_text);
	}
	struct lb_tx t = {0};
	t.version = LB_TX_VERSION;
	t.chain = (uint8_t)chain;
	t.type = type;
	t.nonce = (uint64_t)json_integer_value(nn);
	t.payload = payload->data;
	t.payload_len = payload->len;
	json_decref(acct);
	struct lb_buf raw;
	uint8_t id[LB_HASH_LEN];
	lb_buf_init(&raw, LB_TX_MAX_BYTES + 1024);
	if ((rc = lb_tx_build(&raw, &t, c->network, &c->kp, id))) {
		lb_buf_release(&raw);
		return lb_errf(em, rc, "cannot build the tx (%s)", lb_strerror(rc));
	}
	char *hex = lb_malloc(2 * raw.len + 1);
	if (!hex) {
		lb_buf_release(&raw);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_hex_encode(hex, raw.data, raw.len);
	lb_buf_release(&raw);
	json_t *body = json_pack("{s:s}", "tx", hex);
	lb_free(hex);
	rc = lb_client_post(c->url, "/v1/txs", body, &reply, em);
	json_decref(body);
	json_decref(reply);
	if (rc)
		return rc;
	lb_hex_encode(idhex, id, LB_HASH_LEN);
	snprintf(path, sizeof path, "/v1/txs/%s", idhex);
	uint64_t deadline = lb_mono_ns() + 60ull * 1000000000ull;
	unsigned delay_ms = 20;
	for (;;) {
		json_t *j = NULL;
		if ((rc = lb_client_get(c->url, path, &j, em)))
			return rc;
		const char *st = json_string_value(json_object_get(j, "status"));
		if (st && strcmp(st, "pending")) {
			if (strcmp(st, "committed")) {
				json_t *e = json_object_get(j, "error");
				const char *msg = json_string_value(json_object_get(e, "message"));
				rc = lb_errf(em, LB_EINVALID, "tx %s was not applied: %s", idhex,
					     msg ? msg : st);
			}
			json_decref(j);
			return rc;
		}
		json_decref(j);
		if (lb_mono_ns() > deadline)
			return lb_errf(em, LB_ETIMEOUT,
				       "tx %s is still pending after 60 s; 'leben query tx %s' tells later",
				       idhex, idhex);
		struct timespec ts = {0, (long)delay_ms * 1000000L};
		nanosleep(&ts, NULL);
		if (delay_ms < 200)
			delay_ms *= 2;
	}
}

static int send_directory_tx(struct pub_ctx *c, uint32_t type, const struct lb_buf *payload,
			     char idhex[2 * LB_HASH_LEN + 1], struct lb_errmsg *em)
{
	return send_chain_tx(c, LB_CHAIN_DIRECTORY, type, payload, idhex, em);
}

static int cmp_id32(const void *a, const void *b)
{
	return memcmp(a, b, LB_HASH_LEN);
}

/* Every view of a private part (data show --private, data get) is logged before it is opened:
 * an xchg.view tx on the business chain, signed by the node key of the viewer's home (the
 * institution that opens it: who may read a private part is itself private, so the reader's
 * own key is not published), in the asset's history and in that of each patient the part
 * concerns (patients: commitments, or local ids committed with the asset's salt key kept in
 * this home, comma separated). No log entry, no view. */
static int log_view(const char *home, const char *url, const char *key, const char *asset_id,
		    uint8_t part, uint64_t version, const char *patients, char txid[2 * LB_HASH_LEN + 1],
		    struct lb_errmsg *em)
{
	struct pub_ctx c = {.cmd = "view", .home = home, .url = url, .key_name = key};
	struct lb_xchg_view v = {.part = part, .version = version};
	uint8_t pats[LB_XCHG_VIEW_PATIENTS_MAX * LB_HASH_LEN], skey[LB_XCHG_SALT_KEY_LEN];
	bool have_skey = false;
	json_t *st = NULL;
	struct lb_buf b;
	int rc = LB_OK;
	if (lb_hex_decode(v.asset, LB_HASH_LEN, asset_id))
		return lb_errf(em, LB_EINVALID,
			       "'%s' is not an asset id (64 hex digits): a view is logged under its "
			       "asset; name the asset",
			       asset_id);
	char *list = patients ? lb_strdup(patients) : NULL, *save = NULL;
	if (patients && !list)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	for (char *t = list ? strtok_r(list, ",", &save) : NULL; t && !rc;
	     t = strtok_r(NULL, ",", &save)) {
		uint8_t *out = pats + v.n_patients * LB_HASH_LEN;
		if (v.n_patients == LB_XCHG_VIEW_PATIENTS_MAX)
			rc = lb_errf(em, LB_ETOOBIG, "--patient names more than %d patients",
				     LB_XCHG_VIEW_PATIENTS_MAX);
		else if (!lb_hex_decode(out, LB_HASH_LEN, t))
			v.n_patients++;
		else if (!have_skey && (rc = lb_xchg_salt_key(home, v.asset, false, skey, em)))
			lb_errwrap(em, "--patient %s: a local id needs the asset's salt key: ", t);
		else {
			have_skey = true;
			lb_xchg_patient_commit(out, v.asset, skey, t);
			v.n_patients++;
		}
	}
	lb_free(list);
	if (have_skey)
		sodium_memzero(skey, sizeof skey);
	if (rc)
		return rc;
	qsort(pats, v.n_patients, LB_HASH_LEN, cmp_id32);
	size_t m = 0;
	for (size_t i = 0; i < v.n_patients; i++)
		if (!m || memcmp(pats + (m - 1) * LB_HASH_LEN, pats + i * LB_HASH_LEN, LB_HASH_LEN))
			memmove(pats + m++ * LB_HASH_LEN, pats + i * LB_HASH_LEN, LB_HASH_LEN);
	v.n_patients = m;
	v.patients = pats;
	if ((rc = lb_client_get(url, "/v1/status", &st, em)))
		return lb_errwrap(em, "nothing was opened: the view must be logged first, and the "
					  "node is unreachable: ");
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	if (!nid || lb_hex_decode(c.network, LB_HASH_LEN, nid))
		rc = lb_errf(em, LB_EMALFORMED, "%s gave no network id", url);
	json_decref(st);
	if (rc)
		return rc;
	if (cli_load_key(home, key, &c.kp))
		return lb_errf(em, LB_EUNAUTH, "cannot use key '%s' to log the view", key);
	lb_addr_from_pubkey(c.addr, c.kp.pk);
	lb_addr_encode(c.addr_text, c.addr);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	rc = lb_xchg_view_encode(&b, &v);
	if (!rc)
		rc = send_chain_tx(&c, LB_CHAIN_BUSINESS, LB_TX_XCHG_VIEW, &b, txid, em);
	lb_buf_release(&b);
	lb_keypair_wipe(&c.kp);
	if (rc)
		lb_errwrap(em, "the view could not be logged, so nothing was opened: ");
	return rc;
}

/* The owner's terms for a new entry. */
struct add_terms {
	const char *type, *name, *description, *category, *billing, *public_fields, *price;
	const char *level;
	bool link;
	bool allow_near;         /* register even if a near duplicate is listed */
	const char *sync;        /* "manual" or "watch" */
	const char *readers;     /* --readers: who else may open the private part */
	const char *private_fields; /* --private: fields or facets to keep out of the public part */
	/* the owner's semantic facet and terms of use (data add) */
	const char *intent, *subject, *condition, *valid_from, *valid_until;
	const char *keywords[32], *codes[32], *restrictions[32]; /* repeatable options */
	size_t nkeywords, ncodes, nrestrictions;
};

/* Collect every value of a repeatable option ("--code A --code B", "--code=A") from argv;
 * copt_parse keeps only the last. 2 and a message when there are more than cap. */
static int repeated(const char *cmd, int argc, char **argv, const char *opt, const char **out,
		    size_t cap, size_t *n)
{
	size_t l = strlen(opt);
	*n = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], opt) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], opt, l) && argv[i][l] == '=')
			v = argv[i] + l + 1;
		if (!v)
			continue;
		if (*n == cap) {
			fprintf(stderr, "leben %s: %s given more than %zu times\n", cmd, opt, cap);
			return 2;
		}
		out[(*n)++] = v;
	}
	return 0;
}

/* A date for --valid-from/--valid-until: YYYY-MM-DD (UTC; the start of the day, or its end
 * for end_of_day) or milliseconds since the epoch. */
static bool parse_when(const char *s, bool end_of_day, uint64_t *ms)
{
	int y, mo, d;
	char tail;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 && strlen(s) == 10) {
		static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
		if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
		    (mo == 2 && d == 29 && !leap))
			return false;
		/* days since the epoch (civil calendar) */
		int yy = mo <= 2 ? y - 1 : y;
		int era = yy / 400, yoe = yy - era * 400;
		int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		int64_t days = (int64_t)era * 146097 + doe - 719468;
		*ms = (uint64_t)days * 86400000ull + (end_of_day ? 86399999ull : 0);
		return true;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-')
		return false;
	*ms = v;
	return true;
}

/* The owner's semantic facet and terms: kept over what the file says (intent, subject) or
 * added to it (keywords, codes), checked before anything is published. */
static int apply_semantic(const struct add_terms *t, struct lb_hexa *h, struct lb_errmsg *em)
{
	int rc = LB_OK;
	if (t->intent && (rc = lb_hexa_set_str(h, "semantic.intent", t->intent)))
		return lb_errf(em, LB_EUSAGE, "--intent: cannot set it");
	if (t->subject && (rc = lb_hexa_set_str(h, "semantic.subject", t->subject)))
		return lb_errf(em, LB_EUSAGE, "--subject: cannot set it");
	for (size_t i = 0; i < t->nkeywords; i++)
		if (!t->keywords[i][0] || lb_hexa_list_add(h, "semantic.keywords", t->keywords[i]))
			return lb_errf(em, LB_EUSAGE, "--keyword \"%s\": give a word or phrase",
				       t->keywords[i]);
	for (size_t i = 0; i < t->ncodes; i++) {
		const char *c = t->codes[i], *bar = strchr(c, '|');
		bool sys_ok = bar && bar > c && bar[1];
		for (const char *q = c; sys_ok && q < bar; q++)
			sys_ok = (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-';
		if (!sys_ok)
			return lb_errf(em, LB_EUSAGE,
				       "--code \"%s\": write SYSTEM|CODE with a lower-case system, "
				       "e.g. icd10|I10, icd10cm|E11.9, snomed|38341003, loinc|8867-4 "
				       "(quote it: the shell reads | as a pipe)",
				       c);
		size_t sl = (size_t)(bar - c);
		if ((sl == 6 && !strncmp(c, "snomed", 6) && lb_sctid_check(bar + 1, NULL) != LB_OK) ||
		    (((sl == 5 && !strncmp(c, "icd10", 5)) || (sl == 7 && !strncmp(c, "icd10cm", 7))) &&
		     lb_icd10_check(bar + 1, sl == 7, NULL) != LB_OK))
			return lb_errf(em, LB_EUSAGE,
				       "--code %s: not a valid %s code (the structure or, for SNOMED "
				       "CT, the check digit is wrong): copy it again from the "
				       "terminology",
				       c, sl == 6 ? "SNOMED CT" : "ICD-10");
		if (!strncmp(c, "loinc|", 6) && !lb_loinc_check(bar + 1))
			return lb_errf(em, LB_EUSAGE,
				       "--code %s: not a LOINC code (digits, '-', a check digit that "
				       "matches)",
				       c);
		if (lb_hexa_list_add(h, "semantic.codes", c))
			return lb_errf(em, LB_EUSAGE, "--code \"%s\": cannot add it", c);
	}
	for (size_t i = 0; i < t->nrestrictions; i++)
		if (!t->restrictions[i][0] ||
		    lb_hexa_list_add(h, "exchange.restrictions", t->restrictions[i]))
			return lb_errf(em, LB_EUSAGE, "--restriction \"%s\": give a sentence",
				       t->restrictions[i]);
	if (t->condition && (!t->condition[0] ||
			     lb_hexa_set_str(h, "exchange.conditions", t->condition)))
		return lb_errf(em, LB_EUSAGE, "--condition: give the conditions of use as text");
	uint64_t from = 0, until = 0;
	if (t->valid_from && !parse_when(t->valid_from, false, &from))
		return lb_errf(em, LB_EUSAGE, "--valid-from %s: write a date as YYYY-MM-DD",
			       t->valid_from);
	if (t->valid_until && !parse_when(t->valid_until, true, &until))
		return lb_errf(em, LB_EUSAGE, "--valid-until %s: write a date as YYYY-MM-DD",
			       t->valid_until);
	if (t->valid_until && until < lb_now_ms())
		return lb_errf(em, LB_EUSAGE, "--valid-until %s is in the past: the offer would "
			       "never be valid", t->valid_until);
	if (t->valid_from)
		lb_hexa_set_u64(h, "exchange.valid_from", from);
	if (t->valid_until)
		lb_hexa_set_u64(h, "exchange.valid_until", until);
	return LB_OK;
}

static int apply_terms(struct pub_ctx *c, const struct add_terms *t, struct lb_hexa *h,
		       struct lb_errmsg *em)
{
	int rc = LB_OK;
	uint64_t price = 0, level = 2;
	if (t->price && cli_parse_amount(t->price, &price))
		return lb_errf(em, LB_EUSAGE, "--price %s: write an amount of ASC such as 2.5",
			       t->price);
	if (t->level) {
		char *end;
		level = strtoull(t->level, &end, 10);
		if (*end || level < 1 || level > 3)
			return lb_errf(em, LB_EUSAGE, "--level %s: the security level is 1, 2 or 3",
				       t->level);
	}
	if (t->name)
		rc = lb_hexa_set_str(h, "basic.name", t->name);
	if (!rc && t->description)
		rc = lb_hexa_set_str(h, "basic.description", t->description);
	if (!rc && t->category)
		rc = lb_hexa_set_str(h, "basic.category", t->category);
	if (!rc)
		rc = lb_hexa_set_str(h, "basic.creator", c->addr_text);
	if (!rc)
		rc = lb_hexa_set_u64(h, "basic.created", lb_now_ms());
	if (!rc)
		rc = lb_hexa_share_set(h, "exchange.owners", c->addr_text, 10000);
	if (!rc)
		rc = lb_hexa_set_u64(h, "exchange.level", level);
	if (!rc)
		rc = lb_hexa_set_u64(h, "exchange.price", price);
	if (!rc)
		rc = lb_hexa_set_str(h, "exchange.billing",
				     t->billing ? t->billing : price ? "per_use" : "free");
	if (!rc)
		rc = lb_hexa_set_str(h, "exchange.delivery", level == 3 ? "aggregate" : "sandbox");
	if (!rc)
		rc = lb_hexa_set_str(h, "dynamic.sync", t->sync);
	if (rc)
		return lb_errf(em, rc, "cannot set the description's fields");
	if ((rc = apply_semantic(t, h, em)))
		return rc;
	/* the fields the directory needs in clear, then what the owner asks for */
	static const char *const always[] = {"basic.name", "basic.created", "basic.creator",
					     "raw.blake2b", "dynamic.version", "audit.score",
					     "exchange.level", "exchange.price", "exchange.billing"};
	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
		lb_hexa_set_public(h, always[i], true);
	if (t->public_fields) {
		char buf[1024];
		snprintf(buf, sizeof buf, "%s", t->public_fields);
		for (char *save = NULL, *f = strtok_r(buf, ",", &save); f;
		     f = strtok_r(NULL, ",", &save))
			if (lb_hexa_set_public(h, f, true))
				return lb_errf(em, LB_EUSAGE,
					       "--public: '%s' is neither a facet nor a field "
					       "(docs/hexahedron.md lists them)",
					       f);
	}
	if (t->private_fields) {
		char buf[1024];
		snprintf(buf, sizeof buf, "%s", t->private_fields);
		for (char *save = NULL, *f = strtok_r(buf, ",", &save); f;
		     f = strtok_r(NULL, ",", &save)) {
			for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
				if (!strcmp(f, always[i]))
					return lb_errf(em, LB_EUSAGE,
						       "--private: %s must stay public (the directory "
						       "lists, dedups and prices by it)",
						       f);
			if (lb_hexa_set_public(h, f, false))
				return lb_errf(em, LB_EUSAGE,
					       "--private: '%s' is neither a facet nor a field "
					       "(docs/hexahedron.md lists them)",
					       f);
		}
		/* a whole facet made private keeps its always-public fields public */
		for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
			lb_hexa_set_public(h, always[i], true);
	}
	if (t->readers) {
		char buf[4096];
		snprintf(buf, sizeof buf, "%s", t->readers);
		for (char *save = NULL, *r = strtok_r(buf, ",", &save); r;
		     r = strtok_r(NULL, ",", &save))
			if ((rc = lb_hexa_list_add(h, "exchange.readers", r)))
				return lb_errf(em, rc, "--readers: cannot add '%s'", r);
	}
	/* who may read the private part is itself private, whatever --public says */
	lb_hexa_set_public(h, "exchange.readers", false);
	return lb_hexa_check(h, true, em);
}

/* The Ed25519 key an account publishes in its identity record on the business chain (JSON
 * metadata with "public_key"); the key must derive to the address, so a record cannot name
 * someone else's key (the same rule as the guardians of 'leben keys split'). */
static int published_pk(const char *url, const char *addr_text, uint8_t pk[32],
			struct lb_errmsg *em)
{
	uint8_t addr[LB_ADDR_LEN], a2[LB_ADDR_LEN], *meta = NULL;
	size_t mlen;
	char path[128];
	json_t *acct = NULL, *mj = NULL;
	int rc = lb_addr_decode(addr, addr_text, em);
	if (rc)
		return rc;
	snprintf(path, sizeof path, "/v1/accounts/%s", addr_text);
	if ((rc = lb_client_get(url, path, &acct, em)))
		return rc;
	const char *mh = json_string_value(
		json_object_get(json_object_get(acct, "identity"), "metadata"));
	if (mh && lb_hex_decode_alloc(mh, &meta, &mlen, 1 << 16) == LB_OK)
		mj = json_loadb((const char *)meta, mlen, 0, NULL);
	const char *ph = json_string_value(json_object_get(mj, "public_key"));
	if (!ph || strlen(ph) != 64 || lb_hex_decode(pk, 32, ph)) {
		rc = lb_errf(em, LB_ENOTFOUND,
			     "%s publishes no key in its identity record: ask for its public key "
			     "('leben keys show') and give that instead",
			     addr_text);
	} else {
		lb_addr_from_pubkey(a2, pk);
		if (memcmp(a2, addr, LB_ADDR_LEN) != 0)
			rc = lb_errf(em, LB_EINVALID,
				     "the key published by %s is not that account's key; refusing "
				     "to seal to it",
				     addr_text);
	}
	json_decref(mj);
	json_decref(acct);
	lb_free(meta);
	return rc;
}

/* X25519 key of a party named by an Ed25519 public key (64 hex digits), an address (lb1...,
 * key from its identity record) or a key name in this home. */
static int party_xpk(const struct pub_ctx *c, const char *who, uint8_t xpk[32],
		     struct lb_errmsg *em)
{
	uint8_t pk[32];
	char dir[4200];
	int rc;
	snprintf(dir, sizeof dir, "%s/keys", c->home);
	if (strlen(who) == 64 && lb_hex_decode(pk, 32, who) == LB_OK)
		rc = LB_OK;
	else if (!strncmp(who, "lb1", 3))
		rc = published_pk(c->url, who, pk, em);
	else if (lb_keyname_is_valid(who) && lb_keystore_public(dir, who, pk, em) == LB_OK)
		rc = LB_OK;
	else
		return lb_errf(em, LB_EUSAGE,
			       "reader '%s' is neither a public key (64 hex digits), an address "
			       "(lb1...) nor a key in %s",
			       who, dir);
	if (rc)
		return rc;
	if (lb_envelope_pk_from_ed25519(xpk, pk))
		return lb_errf(em, LB_EINVALID, "reader '%s': not a valid Ed25519 public key", who);
	return LB_OK;
}

/* Who the private part is sealed to: this node, the signing key, every co-owner of
 * exchange.owners that is an account, every reader of exchange.readers (no duplicates). */
struct recipients {
	uint8_t pk[64][32];     /* X25519 public keys, each once */
	size_t n;               /* keys in pk */
};

static void recipients_add(struct recipients *r, const uint8_t xpk[32])
{
	for (size_t i = 0; i < r->n; i++)
		if (!memcmp(r->pk[i], xpk, 32))
			return;
	if (r->n < sizeof r->pk / sizeof r->pk[0])
		memcpy(r->pk[r->n++], xpk, 32);
}

static int private_recipients(const struct pub_ctx *c, const struct lb_hexa *h,
			      struct recipients *r, struct lb_errmsg *em)
{
	uint8_t x[32];
	int rc;
	r->n = 0;
	recipients_add(r, c->node_xpk);
	if ((rc = lb_envelope_pk_from_ed25519(x, c->kp.pk)))
		return lb_errf(em, rc, "the signing key is not a valid point");
	recipients_add(r, x);
	int oid = lb_hexa_field_id("exchange.owners"), rid = lb_hexa_field_id("exchange.readers");
	if (h->present & (1ull << oid))
		for (size_t i = 0; i < h->v[oid].n; i++) {
			const char *o = h->v[oid].keys[i];
			if (strncmp(o, "lb1", 3) || !strcmp(o, c->addr_text))
				continue;
			if ((rc = party_xpk(c, o, x, em)))
				return lb_errwrap(em, "co-owner: ");
			recipients_add(r, x);
		}
	if (h->present & (1ull << rid))
		for (size_t i = 0; i < h->v[rid].n; i++) {
			if ((rc = party_xpk(c, h->v[rid].keys[i], x, em)))
				return lb_errwrap(em, "--readers: ");
			if (r->n == sizeof r->pk / sizeof r->pk[0])
				return lb_errf(em, LB_ELIMIT, "--readers: at most %zu parties",
					       sizeof r->pk / sizeof r->pk[0] - 2);
			recipients_add(r, x);
		}
	return LB_OK;
}

/* Encode the public part and seal the private part to this node, the owners and the readers. */
static int split_encode(const struct pub_ctx *c, const struct lb_hexa *h, struct lb_buf *pub,
			uint8_t **env, size_t *envlen, struct lb_errmsg *em)
{
	struct lb_hexa hp, hv;
	struct lb_buf priv;
	int rc = lb_hexa_split(h, &hp, &hv);
	if (rc)
		return lb_errf(em, rc, "cannot split the description");
	lb_buf_init(&priv, LB_HEXA_MAX_ENCODED);
	rc = lb_hexa_encode(&hp, pub);
	if (!rc && hv.present)
		rc = lb_hexa_encode(&hv, &priv);
	*env = NULL;
	*envlen = 0;
	struct recipients rcpt;
	if (!rc && priv.len && !(rc = private_recipients(c, h, &rcpt, em)))
		rc = lb_envelope_seal((const uint8_t(*)[32])rcpt.pk, rcpt.n, priv.data, priv.len, env,
				      envlen, em);
	else if (rc && !em->text[0])
		lb_errf(em, rc, "cannot encode the description");
	lb_buf_release(&priv);
	lb_hexa_release(&hp);
	lb_hexa_release(&hv);
	return rc;
}

/* The 8 PDQ variants of an image or DICOM file (false if it has no usable picture). */
static bool file_pdq8(const char *fmt, const uint8_t *d, size_t n, struct lb_pdq out[8])
{
	uint8_t *luma = NULL;
	uint32_t w = 0, h = 0;
	if (!strcmp(fmt, "image")) {
		struct lb_image im;
		if (lb_image_read(d, n, true, &im, NULL))
			return false;
		luma = im.luma;
		w = im.width;
		h = im.height;
	} else if (!strcmp(fmt, "dicom")) {
		struct lb_dicom_file f;
		if (lb_dicom_parse(d, n, &f, NULL))
			return false;
		if (lb_dicom_luma(&f, &luma, &w, &h, NULL))
			luma = NULL;
		lb_dicom_file_release(&f);
	}
	bool ok = luma && lb_pdq_hash(luma, w, h, out) == LB_OK &&
		  out[0].quality >= LB_PDQ_MIN_QUALITY;
	lb_free(luma);
	return ok;
}

/* One listed entry's raw.<field> bytes against the new entry's: true on a match, with why. */
typedef bool (*raw_match_fn)(void *ctx, const uint8_t *raw, size_t n, char why[96]);

/* Calls match on the raw.<field> bytes (want of them) of the directory's entries of format fmt
 * until one matches; writes its asset id. False if none (or the catalogue cannot be read). */
static bool listed_match(struct lb_catalog *cat, const char *fmt, const char *field, size_t want,
			 raw_match_fn match, void *ctx, char id[128], char why[96])
{
	uint8_t *raw = lb_malloc(want);
	char where[64];
	snprintf(where, sizeof where, "format=%s", fmt);
	const char *wv[1] = {where};
	struct lb_search_options so = {.where = wv, .nwhere = 1, .limit = 10000, .no_typos = true,
				       .no_synonyms = true};
	struct lb_search_hit *hits = NULL;
	size_t nh = 0;
	bool found = false;
	if (raw == NULL || lb_catalog_search(cat, "", &so, &hits, &nh, NULL, NULL)) {
		lb_free(raw);
		return false;
	}
	for (size_t i = 0; i < nh && !found; i++) {
		json_t *e = NULL;
		if (lb_catalog_get(cat, hits[i].asset_id, &e, NULL))
			continue;
		const char *hx = json_string_value(json_object_get(json_object_get(e, "raw"), field));
		if (hx && strlen(hx) == 2 * want && lb_hex_decode(raw, want, hx) == LB_OK &&
		    match(ctx, raw, want, why)) {
			found = true;
			snprintf(id, 128, "%s", hits[i].asset_id);
		}
		json_decref(e);
	}
	lb_free(hits);
	lb_free(raw);
	return found;
}

static bool text_match(void *ctx, const uint8_t *raw, size_t n, char why[96])
{
	struct lb_text_fp other;
	double s = lb_text_fp_decode(raw, n, &other) == LB_OK
			   ? lb_text_similarity((const struct lb_text_fp *)ctx, &other, NULL)
			   : 0;
	if (s < LB_TEXT_MATCH)
		return false;
	snprintf(why, 96, "text similarity %.2f, same values", s);
	return true;
}

static bool pdq_match(void *ctx, const uint8_t *raw, size_t n, char why[96])
{
	int dist = lb_pdq_min_distance((const struct lb_pdq *)ctx, raw);
	if (dist > LB_PDQ_MATCH_DISTANCE)
		return false;
	snprintf(why, 96, "perceptual hash distance %d of 256", dist);
	return true;
}

/* Look for a near duplicate of the new entry among the directory's entries of the same
 * format: texts by lb_text_similarity >= LB_TEXT_MATCH (similar wording, same values; notes
 * and PDFs are compared with each other), images (and DICOM pictures) by PDQ distance
 * <= LB_PDQ_MATCH_DISTANCE over the 8 rotations/flips of the new one. Writes the asset id
 * and a description of the match; false if none. */
static bool near_duplicate(struct lb_catalog *cat, const struct lb_hexa *h, const uint8_t *d,
			   size_t n, char id[128], char why[96])
{
	const char *fmt = lb_hexa_get_str(h, "data.format");
	int mid = lb_hexa_field_id("raw.minhash");
	struct lb_text_fp mine;
	if (fmt && (!strcmp(fmt, "text") || !strcmp(fmt, "pdf")) && (h->present >> mid & 1) &&
	    lb_text_fp_decode(h->v[mid].b, h->v[mid].n, &mine) == LB_OK)
		return listed_match(cat, "text", "minhash", LB_TEXT_FP_SIZE, text_match, &mine, id,
				    why) ||
		       listed_match(cat, "pdf", "minhash", LB_TEXT_FP_SIZE, text_match, &mine, id,
				    why);
	struct lb_pdq pic[8];
	return fmt && file_pdq8(fmt, d, n, pic) &&
	       listed_match(cat, fmt, "pdq", 32, pdq_match, pic, id, why);
}

struct imgsig_pair {
	struct lb_imgsig mine, other;
};

static bool imgsig_match(void *ctx, const uint8_t *raw, size_t n, char why[96])
{
	struct imgsig_pair *p = ctx;
	if (lb_imgsig_decode(raw, n, &p->other) != LB_OK)
		return false;
	double sc = lb_imgsig_score(&p->mine, &p->other);
	if (sc < LB_IMGSIG_MATCH_SCORE)
		return false;
	snprintf(why, 96, "crop-tolerant image signature score %.2f (match from %.2f)", sc,
		 LB_IMGSIG_MATCH_SCORE);
	return true;
}

/* A picture PDQ did not match (cropped, captioned, watermarked): the new entry's crop-tolerant
 * signature (raw.imgsig, made by lb_data_describe) against those of the directory's entries
 * of the same format, match at LB_IMGSIG_MATCH_SCORE. Writes the asset id and the score;
 * false if none. */
static bool near_picture(struct lb_catalog *cat, const struct lb_hexa *h, char id[128],
			 char why[96])
{
	const char *fmt = lb_hexa_get_str(h, "data.format");
	int sid = lb_hexa_field_id("raw.imgsig");
	if (!fmt || !(h->present >> sid & 1) || h->v[sid].n != LB_IMGSIG_BYTES)
		return false;
	struct imgsig_pair *p = lb_malloc(sizeof *p);
	bool found = p && lb_imgsig_decode(h->v[sid].b, h->v[sid].n, &p->mine) == LB_OK &&
		     !p->mine.flat &&
		     listed_match(cat, fmt, "imgsig", LB_IMGSIG_BYTES, imgsig_match, p, id, why);
	lb_free(p);
	return found;
}

/* Describe, check for a duplicate in the directory, store in the vault and publish one file:
 * a new asset (prev NULL) or the next version of the asset recorded in prev. */
static int publish_file(struct pub_ctx *c, const char *path, const struct add_terms *t,
			json_t *prev, json_t **result, struct lb_errmsg *em)
{
	struct lb_hexa h;
	struct lb_buf pub;
	uint8_t *env = NULL, *data = NULL;
	size_t envlen = 0, len = 0;
	char idhex[65], txid[65], b2hex[65], ref[65];
	char *kept_policy = NULL, kept_auth[65]; /* the policy seal the new version keeps */
	const char *given_policy = c->policy, *given_auth = c->authority;
	int rc;
	struct stat sb;
	if (stat(path, &sb) == 0 && (uint64_t)sb.st_size >= DATA_PROGRESS_BYTES)
		c->progress = true;
	say(c, "%s: reading and describing %llu bytes", path,
	    (unsigned long long)(stat(path, &sb) == 0 ? sb.st_size : 0));
	if ((rc = lb_data_describe_as(path, t->type, &h, em)))
		return rc;
	lb_buf_init(&pub, LB_HEXA_MAX_ENCODED);
	if ((rc = apply_terms(c, t, &h, em)))
		goto out;
	int bid = lb_hexa_field_id("raw.blake2b");
	lb_hex_encode(b2hex, h.v[bid].b, 32);
	uint64_t version = 1;
	struct lb_asset_tx a;
	memset(&a, 0, sizeof a);
	if (prev) {
		version = (uint64_t)json_integer_value(json_object_get(prev, "version")) + 1;
		const char *id = json_string_value(json_object_get(prev, "asset_id"));
		const char *head = json_string_value(json_object_get(prev, "head"));
		if (!id || !head || lb_hex_decode(a.asset_id, 32, id) ||
		    lb_hex_decode(a.previous, 32, head)) {
			rc = lb_errf(em, LB_ECORRUPT, "%s/data/assets.json: the entry of %s is damaged",
				     c->home, path);
			goto out;
		}
		/* the asset keeps its first creation time */
		lb_hexa_set_u64(&h, "basic.created",
				(uint64_t)json_integer_value(json_object_get(prev, "created")));
		lb_hexa_set_u64(&h, "dynamic.version", version);
		lb_hexa_set_bytes(&h, "dynamic.previous", a.previous, 32);
		lb_hexa_set_public(&h, "dynamic", true);
		/* a private part sealed to a policy stays sealed to it in the new version */
		if (!c->policy) {
			char ahex[65];
			lb_hex_encode(ahex, a.asset_id, 32);
			rc = current_seal(c->url, ahex, &kept_policy, kept_auth, em);
			if (rc == LB_ENOTFOUND) {
				rc = LB_OK;
			} else if (rc) {
				lb_errwrap(em, "%s: the policy its private part is sealed to cannot be "
					       "read, so the new version is not published: ",
					   path);
				goto out;
			} else {
				c->policy = kept_policy;
				c->authority = kept_auth;
			}
		}
	}
	/* the directory refuses a second copy of the same bytes: look first, to say so clearly */
	say(c, "%s: checking the directory for duplicates", path);
	if ((rc = directory_sync(c->cmd, c->url, c->cat, em)))
		goto out;
	char where[100];
	snprintf(where, sizeof where, "blake2b=%s", b2hex);
	const char *wv[1] = {where};
	struct lb_search_options so = {.where = wv, .nwhere = 1, .limit = 4, .no_typos = true,
				       .no_synonyms = true};
	struct lb_search_hit *hits = NULL;
	size_t nhits = 0;
	if ((rc = lb_catalog_search(c->cat, "", &so, &hits, &nhits, NULL, em)))
		goto out;
	char dup[128] = "";
	for (size_t i = 0; i < nhits; i++)
		if (!prev || strcmp(hits[i].asset_id, json_string_value(json_object_get(prev, "asset_id"))))
			snprintf(dup, sizeof dup, "%s", hits[i].asset_id);
	lb_free(hits);
	bool link = false;
	if (dup[0] && (prev || !t->link)) {
		rc = lb_errf(em, LB_EDUPLICATE,
			     "%s: the same bytes are already in the directory as asset %s%s", path, dup,
			     prev ? "" : " (use --link to list this copy as a link to it)");
		goto out;
	}
	if (dup[0])
		link = true;
	if ((rc = lb_file_read(path, DATA_MAX_FILE, &data, &len, em)))
		goto out;
	char near_id[128], why[96];
	if (!prev && !link && !t->allow_near &&
	    (near_duplicate(c->cat, &h, data, len, near_id, why) ||
	     near_picture(c->cat, &h, near_id, why))) {
		rc = lb_errf(em, LB_EDUPLICATE,
			     "%s: nearly the same as asset %s already in the directory (%s); use "
			     "--allow-near to register it anyway",
			     path, near_id, why);
		goto out;
	}
	/* raw bytes into the vault, sealed to the node key */
	say(c, "%s: sealing into the vault", path);
	char vdir[4200];
	snprintf(vdir, sizeof vdir, "%s/vault", c->home);
	if ((rc = lb_mkdirs(vdir, 0700, em)) ||
	    (rc = lb_vault_put(vdir, (const uint8_t(*)[32])c->node_xpk, 1, data, len, ref, em)))
		goto out;
	if ((rc = lb_hexa_set_str(&h, "raw.vault", ref)))
		goto out;
	if ((rc = split_encode(c, &h, &pub, &env, &envlen, em)))
		goto out;
	a.op = prev ? LB_ASSET_UPDATE : LB_ASSET_REGISTER;
	a.version = version;
	a.pub = pub.data;
	a.pub_len = pub.len;
	a.priv_env = env;
	a.priv_env_len = envlen;
	if (!prev) {
		uint64_t created = 0;
		lb_hexa_get_u64(&h, "basic.created", &created);
		lb_asset_id(a.asset_id, c->addr_text, h.v[bid].b, created);
	}
	if ((rc = lb_asset_tx_check(&a, em)))
		goto out;
	struct lb_buf payload;
	lb_buf_init(&payload, LB_TX_PAYLOAD_MAX);
	rc = lb_asset_tx_encode(&a, &payload);
	if (rc == LB_ETOOBIG || payload.len > LB_TX_PAYLOAD_MAX)
		rc = lb_errf(em, LB_ETOOBIG,
			     "%s: the description takes %zu bytes, more than a tx holds (%d); make "
			     "fewer fields public",
			     path, payload.len, LB_TX_PAYLOAD_MAX);
	say(c, "%s: publishing version %llu", path, (unsigned long long)version);
	uint32_t type = prev ? LB_TX_DATA_UPDATE : link ? LB_TX_DATA_LINK : LB_TX_DATA_REGISTER;
	if (!rc)
		rc = send_directory_tx(c, type, &payload, txid, em);
	uint8_t head[32];
	lb_hash(head, payload.data, payload.len);
	lb_buf_release(&payload);
	if (rc)
		goto out;
	if (c->policy) {
		say(c, "%s: sealing the private part to the policy", path);
		if ((rc = seal_policy(c, &h, a.asset_id, version, em)))
			goto out;
	}
	lb_hex_encode(idhex, a.asset_id, 32);
	char headhex[65];
	lb_hex_encode(headhex, head, 32);
	uint64_t created = 0, score = 0;
	lb_hexa_get_u64(&h, "basic.created", &created);
	lb_hexa_get_u64(&h, "audit.score", &score);
	*result = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:I,s:s,s:b}", "path", path, "asset_id",
			    idhex, "tx", txid, "version", (json_int_t)version, "head", headhex,
			    "blake2b", b2hex, "created", (json_int_t)created, "audit_score",
			    (json_int_t)score, "vault", ref, "link", link);
	if (link)
		json_object_set_new(*result, "linked_to", json_string(dup));
	if (c->policy)
		json_object_set_new(*result, "abe_tx", json_string(c->abe_tx));
	char abs[4200];
	if (!realpath(path, abs))
		snprintf(abs, sizeof abs, "%s", path);
	json_t *stored = json_deep_copy(*result);
	if (stored)
		json_object_set_new(stored, "file", json_string(abs));
	if (stored && prev) { /* the earlier versions' vault objects, for a purge */
		json_t *olds = json_deep_copy(json_object_get(prev, "vaults"));
		const char *pv = json_string_value(json_object_get(prev, "vault"));
		if (!json_is_array(olds)) {
			json_decref(olds);
			olds = json_array();
		}
		if (pv && strcmp(pv, ref))
			json_array_append_new(olds, json_string(pv));
		json_object_set_new(stored, "vaults", olds);
	}
	json_object_set_new(assets_map(c->assets), idhex, stored);
	rc = assets_save(c, em);
	directory_sync(c->cmd, c->url, c->cat, em);
out:
	c->policy = given_policy;
	c->authority = given_auth;
	lb_free(kept_policy);
	if (env)
		lb_free(env);
	if (data) {
		sodium_memzero(data, len);
		lb_free(data);
	}
	lb_buf_release(&pub);
	lb_hexa_release(&h);
	return rc;
}

/* Provenance event of a new version (directory chain, data.provenance). */
static int record_provenance(struct pub_ctx *c, json_t *res, const char *kind, const char *note,
			     struct lb_errmsg *em)
{
	struct lb_prov_tx p;
	memset(&p, 0, sizeof p);
	const char *id = json_string_value(json_object_get(res, "asset_id"));
	const char *b2 = json_string_value(json_object_get(res, "blake2b"));
	if (!id || !b2 || lb_hex_decode(p.asset_id, 32, id) || lb_hex_decode(p.digest, 32, b2))
		return lb_errf(em, LB_EINTERNAL, "no asset to record provenance for");
	p.version = (uint64_t)json_integer_value(json_object_get(res, "version"));
	snprintf(p.kind, sizeof p.kind, "%s", kind);
	snprintf(p.note, sizeof p.note, "%.*s", LB_PROV_NOTE_MAX, note);
	struct lb_buf b;
	char txid[65];
	lb_buf_init(&b, 4096);
	int rc = lb_prov_tx_encode(&p, &b);
	if (!rc)
		rc = send_directory_tx(c, LB_TX_DATA_PROVENANCE, &b, txid, em);
	lb_buf_release(&b);
	if (!rc)
		json_object_set_new(res, "provenance_tx", json_string(txid));
	return rc;
}

static const char add_help[] =
	"usage: leben data add PATH [--type T] [--level 1|2|3] [--price ASC]\n"
	"                      [--billing free|per_use|subscription|one_time]\n"
	"                      [--name TEXT] [--description TEXT] [--category TEXT]\n"
	"                      [--intent TEXT] [--subject TEXT] [--keyword WORD]...\n"
	"                      [--code SYSTEM|CODE]... [--restriction TEXT]... [--condition TEXT]\n"
	"                      [--valid-from DATE] [--valid-until DATE]\n"
	"                      [--public FIELDS] [--private FIELDS] [--readers WHO,...]\n"
	"                      [--link] [--allow-near] [--key NAME] [--home DIR] [--node URL] [--json]\n"
	"\n"
	"Register a data file on the directory chain without giving the data away:\n"
	"  1. find what the file is from its content (DICOM, CSV/TSV table, FHIR JSON, text note,\n"
	"     PNG/JPEG image, WAV/FLAC/MP3/Ogg audio, MP4/WebM/AVI video, PDF document; other\n"
	"     files are refused, saying what they are) and describe it: size, columns, image,\n"
	"     sound or video attributes, pages and text, and the medical codes the file itself\n"
	"     gives (DICOM modality and body part, lab and vital-sign column names, FHIR codes)\n"
	"  2. audit it and put the score (0-100) into the description\n"
	"  3. check the directory for the same bytes: a copy is refused, or with --link listed as\n"
	"     a link to the asset already there; a near copy (a note or PDF saying almost the\n"
	"     same, an image that looks the same even rotated or re-encoded) is refused unless\n"
	"     you give --allow-near\n"
	"  4. store the file encrypted in this node's vault (<home>/vault), readable only with the\n"
	"     node key\n"
	"  5. publish the description: public fields in clear, the rest (the private part)\n"
	"     sealed so that only this node, the owners and the readers you name can open it\n"
	"\n"
	"What the data is about (the semantic facet; public unless --private semantic):\n"
	"  --intent TEXT        what the data is meant for, e.g. \"research on sepsis\"\n"
	"  --subject TEXT       disease, population or organ, e.g. \"type 2 diabetes\"\n"
	"  --keyword WORD       a search keyword; repeat for more\n"
	"  --code SYSTEM|CODE   a medical code; repeat for more. Systems: icd10, icd10cm, snomed\n"
	"                       (checked: structure, SNOMED CT check digit), loinc (check digit),\n"
	"                       or another lower-case name. Quote it: --code 'icd10|E11.9'\n"
	"Terms of use (the exchange facet, private unless --public exchange):\n"
	"  --restriction TEXT   a usage restriction, e.g. \"no re-identification\"; repeatable\n"
	"  --condition TEXT     conditions of use, e.g. \"ethics approval required\"\n"
	"  --valid-from DATE    the offer starts (YYYY-MM-DD, UTC)\n"
	"  --valid-until DATE   the offer ends at the end of that day (YYYY-MM-DD, UTC)\n"
	"Other options:\n"
	"  --type T        what the file is, if the content does not show it: dicom, csv, fhir,\n"
	"                  text, image, audio, video or pdf (default: found from the content)\n"
	"  --level N       security level of use: 1 envelope, 2 TLS sandbox, 3 computation\n"
	"                  without disclosure (default 2)\n"
	"  --price ASC     price per use in ASC (default 0: free)\n"
	"  --public F,...  more fields or facets to publish in clear (e.g. exchange,semantic);\n"
	"                  name, creation time, digest, version, audit score, level, price and\n"
	"                  billing are always public\n"
	"  --private F,... fields or facets to keep in the private part although they are\n"
	"                  public by default (e.g. basic.description,semantic); the always-public\n"
	"                  fields above cannot be made private\n"
	"  --readers W,... who else may read the private part: an account address (lb1..., its\n"
	"                  key is taken from its identity record), a public key (64 hex\n"
	"                  digits) or a key name in this home; 'leben data grant' adds more later\n"
	"  --policy F [--authority ID]  also seal it to attribute policy F ('leben abe')\n"
	"  --key NAME      key that signs and owns the entry (default: node)\n"
	"  --json          print the result as JSON\n"
	"Files of 16 MiB and more show their progress on standard error.\n"
	"\n"
	"Exit status: 0 published, 1 refused or failed (nothing is published), 2 wrong usage.\n";

/* Options of a subcommand that takes exactly one PATH or ID (pos[0]): -1 to go on, else the
 * exit status (0 after --help, 2 on a usage error, which copt_parse or the help text explains). */
static int sub_options(const char *cmd, int argc, char **argv, const struct copt *opts,
		       const char **pos, const bool *help, const char *help_text)
{
	int npos = 0;
	int rc = copt_parse(cmd, argc, argv, 1, opts, pos, 1, &npos);
	if (rc)
		return rc;
	if (*help) {
		fputs(help_text, stdout);
		return 0;
	}
	if (npos != 1) {
		fputs(help_text, stderr);
		return 2;
	}
	return -1;
}

static int data_add(int argc, char **argv)
{
	struct add_terms t = {.sync = "manual"};
	const char *home = NULL, *node = NULL, *key = NULL, *pos[1], *dummy = NULL;
	const char *policy = NULL, *authority = NULL;
	bool json = false, help = false, link = false, allow_near = false;
	const struct copt opts[] = {
		{"--allow-near", NULL, &allow_near},
		{"--type", &t.type, NULL},       {"--level", &t.level, NULL},
		{"--price", &t.price, NULL},     {"--billing", &t.billing, NULL},
		{"--public", &t.public_fields, NULL}, {"--name", &t.name, NULL},
		{"--description", &t.description, NULL}, {"--category", &t.category, NULL},
		{"--link", NULL, &link},          {"--key", &key, NULL},
		{"--readers", &t.readers, NULL},  {"--private", &t.private_fields, NULL},
		{"--policy", &policy, NULL},      {"--authority", &authority, NULL},
		{"--home", &home, NULL},          {"--node", &node, NULL},
		{"--intent", &t.intent, NULL},    {"--subject", &t.subject, NULL},
		{"--keyword", &dummy, NULL},      {"--code", &dummy, NULL},
		{"--restriction", &dummy, NULL},  {"--condition", &t.condition, NULL},
		{"--valid-from", &t.valid_from, NULL}, {"--valid-until", &t.valid_until, NULL},
		{"--json", NULL, &json},          {"--help", NULL, &help},
		{"-h", NULL, &help},              {NULL, NULL, NULL}};
	int rc = sub_options("data add", argc, argv, opts, pos, &help, add_help);
	if (rc >= 0)
		return rc;
	if (t.type && !lb_data_type_name(t.type)) {
		fprintf(stderr, "leben data add: --type %s: the types are " LB_DATA_TYPES "\n", t.type);
		return 2;
	}
	if (repeated("data add", argc, argv, "--keyword", t.keywords, 32, &t.nkeywords) ||
	    repeated("data add", argc, argv, "--code", t.codes, 32, &t.ncodes) ||
	    repeated("data add", argc, argv, "--restriction", t.restrictions, 32, &t.nrestrictions))
		return 2;
	t.link = link;
	t.allow_near = allow_near;
	struct pub_ctx c = {.cmd = "add", .json = json, .key_name = key ? key : "node",
			    .policy = policy, .authority = authority};
	c.home = cli_home(home);
	c.url = cli_node_url(node, c.home);
	struct lb_errmsg em;
	lb_errclear(&em);
	json_t *res = NULL;
	if (policy && lb_abe_policy_check(policy, &em)) {
		fprintf(stderr, "leben data add: --policy: %s\n", em.text);
		return 2;
	}
	rc = pub_open(&c, &em);
	if (!rc)
		rc = publish_file(&c, pos[0], &t, NULL, &res, &em);
	pub_close(&c);
	if (rc) {
		fail("add", &em, rc == LB_EUSAGE ? "'leben data add --help' lists the options" : NULL);
		return rc == LB_EUSAGE ? 2 : 1;
	}
	if (json)
		return print_json_obj(res);
	printf("%s: published as asset %s (version 1%s), own audit score %.2f / 100\n", pos[0],
	       json_string_value(json_object_get(res, "asset_id")),
	       json_is_true(json_object_get(res, "link")) ? ", a link to an asset already listed" : "",
	       (double)json_integer_value(json_object_get(res, "audit_score")) / 100);
	printf("  (the owner's own score; a score counts once an audit node signs it: 'leben exchange\n"
	       "  audit-request --from KEY --asset %s --auditor NODE')\n",
	       json_string_value(json_object_get(res, "asset_id")));
	printf("  raw data sealed in the vault as %s\n  tx %s\n",
	       json_string_value(json_object_get(res, "vault")),
	       json_string_value(json_object_get(res, "tx")));
	if (json_integer_value(json_object_get(res, "audit_score")) == 0)
		printf("  warning: the audit scored it 0; 'leben data audit %s' says why\n", pos[0]);
	json_decref(res);
	return 0;
}

static const char watch_help[] =
	"usage: leben data watch DIR [--once] [--interval SECONDS] [--level N] [--price ASC]\n"
	"                        [--public FIELDS] [--private FIELDS] [--readers WHO,...]\n"
	"                        [--key NAME] [--home DIR] [--node URL] [--json]\n"
	"\n"
	"Keep the directory entries of the files under DIR in step with the files. Every\n"
	"--interval seconds (default 10) the files are compared with what was published:\n"
	"  new file       described, audited, stored in the vault and registered (as 'data add')\n"
	"  changed file   described again and published as the next version of its asset, with a\n"
	"                 provenance event on the directory chain naming the new content; a\n"
	"                 private part sealed to an attribute policy is sealed to it again\n"
	"  removed file   its asset is retired\n"
	"--once makes one pass and stops (for cron jobs and tests). A file that cannot be read or\n"
	"is refused is reported and tried again on the next pass; a file of a type LEBEN does\n"
	"not register (a zip archive, a spreadsheet...) is reported once and left alone until\n"
	"it changes.\n";

static int retire_asset(struct pub_ctx *c, json_t *prev, struct lb_errmsg *em)
{
	struct lb_asset_tx a;
	memset(&a, 0, sizeof a);
	a.op = LB_ASSET_RETIRE;
	a.version = (uint64_t)json_integer_value(json_object_get(prev, "version"));
	const char *id = json_string_value(json_object_get(prev, "asset_id"));
	const char *head = json_string_value(json_object_get(prev, "head"));
	if (!id || !head || lb_hex_decode(a.asset_id, 32, id) || lb_hex_decode(a.previous, 32, head))
		return lb_errf(em, LB_ECORRUPT, "assets.json entry is damaged");
	snprintf(a.reason, sizeof a.reason, "the file was removed");
	struct lb_buf b;
	char txid[65];
	lb_buf_init(&b, 4096);
	int rc = lb_asset_tx_encode(&a, &b);
	if (!rc)
		rc = send_directory_tx(c, LB_TX_DATA_RETIRE, &b, txid, em);
	lb_buf_release(&b);
	if (!rc) /* the home remembers the retirement: data get says so instead of failing */
		json_object_set_new(prev, "retired",
				    json_pack("{s:s,s:I,s:s,s:s}", "tx", txid, "time_ms",
					      (json_int_t)lb_now_ms(), "by", c->addr_text, "reason",
					      a.reason));
	return rc;
}

static volatile sig_atomic_t watch_stop;
static void on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static int data_watch(int argc, char **argv)
{
	struct add_terms t = {.sync = "watch"};
	const char *home = NULL, *node = NULL, *key = NULL, *interval = NULL, *pos[1];
	bool json = false, help = false, once = false;
	const struct copt opts[] = {
		{"--level", &t.level, NULL},      {"--price", &t.price, NULL},
		{"--billing", &t.billing, NULL},  {"--public", &t.public_fields, NULL},
		{"--category", &t.category, NULL}, {"--key", &key, NULL},
		{"--readers", &t.readers, NULL},  {"--private", &t.private_fields, NULL},
		{"--home", &home, NULL},          {"--node", &node, NULL},
		{"--interval", &interval, NULL},  {"--once", NULL, &once},
		{"--json", NULL, &json},          {"--help", NULL, &help},
		{"-h", NULL, &help},              {NULL, NULL, NULL}};
	int rc = sub_options("data watch", argc, argv, opts, pos, &help, watch_help);
	if (rc >= 0)
		return rc;
	long secs = interval ? strtol(interval, NULL, 10) : 10;
	if (secs < 1 || secs > 86400) {
		fputs(watch_help, stderr);
		return 2;
	}
	struct pub_ctx c = {.cmd = "watch", .json = json, .key_name = key ? key : "node"};
	c.home = cli_home(home);
	c.url = cli_node_url(node, c.home);
	struct lb_errmsg em;
	lb_errclear(&em);
	if (pub_open(&c, &em)) {
		pub_close(&c);
		return fail("watch", &em, NULL);
	}
	char absdir[4096], state[4400], sdir[4200];
	if (!realpath(pos[0], absdir)) {
		pub_close(&c);
		fprintf(stderr, "leben data watch: %s: %s\n", pos[0], strerror(errno));
		return 1;
	}
	uint8_t dh[32];
	char dhex[65];
	lb_hash(dh, absdir, strlen(absdir));
	lb_hex_encode(dhex, dh, 16);
	snprintf(sdir, sizeof sdir, "%s/data/watch", c.home);
	lb_mkdirs(sdir, 0700, NULL);
	snprintf(state, sizeof state, "%s/%s.json", sdir, dhex);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int status = 0;
	json_t *report = json_array();
	do {
		struct lb_watch_change *ch = NULL;
		size_t n = 0;
		if (lb_data_watch_scan(absdir, state, &ch, &n, &em)) {
			status = fail("watch", &em, NULL);
			break;
		}
		for (size_t i = 0; i < n && !watch_stop; i++) {
			json_t *prev = asset_of_file(c.assets, ch[i].path), *res = NULL;
			const char *what = ch[i].kind == 1 ? "new" : ch[i].kind == 2 ? "changed" : "removed";
			lb_errclear(&em);
			if (ch[i].kind == 3) {
				rc = prev ? retire_asset(&c, prev, &em) : LB_OK;
				if (!rc && prev) {
					res = json_pack("{s:s,s:s,s:O}", "path", ch[i].path, "event", "retired",
							"asset_id", json_object_get(prev, "asset_id"));
					rc = assets_save(&c, &em);
				}
			} else {
				rc = publish_file(&c, ch[i].path, &t, prev, &res, &em);
				if (!rc && prev)
					rc = record_provenance(&c, res, "re-extracted",
							       "the raw data changed; entry re-extracted by "
							       "leben data watch",
							       &em);
				if (res)
					json_object_set_new(res, "event", json_string(prev ? "updated" : "registered"));
			}
			if (rc) {
				fprintf(stderr, "leben data watch: %s file %s: %s%s\n", what, ch[i].path,
					em.text[0] ? em.text : lb_strerror(rc),
					rc == LB_EUNSUPPORTED ? " (left alone until it changes)" : "");
				status = 1;
				json_decref(res);
				if (rc == LB_EUNSUPPORTED)
					continue; /* a type LEBEN does not register: no retry every pass */
				/* forget the file in the scan state so the next pass tries again */
				json_t *sj = json_load_file(state, 0, NULL);
				if (json_is_object(sj)) {
					json_object_del(sj, ch[i].path);
					json_dump_file(sj, state, JSON_INDENT(2));
				}
				json_decref(sj);
				continue;
			}
			if (!res)
				continue;
			if (!json)
				printf("%s: %s asset %s (version %lld)\n", ch[i].path,
				       json_string_value(json_object_get(res, "event")),
				       json_string_value(json_object_get(res, "asset_id")),
				       (long long)json_integer_value(json_object_get(res, "version")));
			json_array_append_new(report, res);
			fflush(stdout);
		}
		lb_free(ch);
		for (long s = 0; !once && !watch_stop && s < secs * 10; s++) {
			struct timespec ts = {0, 100000000L};
			nanosleep(&ts, NULL);
		}
	} while (!once && !watch_stop);
	pub_close(&c);
	if (json)
		print_json_obj(json_pack("{s:s,s:o}", "dir", absdir, "changes", report));
	else
		json_decref(report);
	return status;
}

static const char show_help[] =
	"usage: leben data show ASSET_ID [--private [--key NAME] [--patient ID,...]] [--home DIR]\n"
	"                       [--node URL] [--json]\n"
	"\n"
	"Show the public directory entry of an asset as the directory chain holds it now (the\n"
	"local copy in <home>/directory.db is brought up to date from the node first).\n"
	"  --private    show the private part instead: it is taken from the directory chain and\n"
	"               opened with key NAME (default: node); only the owner's node, the owners\n"
	"               and the readers the owner named can open it, anyone else gets \"not\n"
	"               authorised\" (exit status 1). Every such view is first logged on the\n"
	"               business chain (an xchg.view tx signed by this home's node key) in the\n"
	"               asset's history and,\n"
	"               with --patient (commitments, or local ids at the owner), in each patient's;\n"
	"               without the log entry nothing is opened\n";

/* The sealed private part of an asset's current version, from the tx the catalogue names. */
static int fetch_private(const char *url, struct lb_catalog *cat, const char *asset_id,
			 uint8_t **env, size_t *envlen, uint64_t *version, struct lb_errmsg *em)
{
	char txid[80], ver[32], path[128];
	json_t *tx = NULL;
	int rc = lb_catalog_attr_get(cat, asset_id, "private_tx", txid, sizeof txid, em);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, LB_ENOTFOUND,
			       "asset %s has no private part (every field is public)", asset_id);
	if (rc || (rc = lb_catalog_attr_get(cat, asset_id, "entry_version", ver, sizeof ver, em)))
		return rc;
	*version = strtoull(ver, NULL, 10);
	snprintf(path, sizeof path, "/v1/txs/%s", txid);
	if ((rc = lb_client_get(url, path, &tx, em)))
		return rc;
	const char *hex = json_string_value(
		json_object_get(json_object_get(tx, "payload"), "private_envelope"));
	if (!hex || lb_hex_decode_alloc(hex, env, envlen, LB_HEXA_MAX_ENCODED + 4096))
		rc = lb_errf(em, LB_EMALFORMED, "tx %s on %s carries no private part", txid, url);
	json_decref(tx);
	return rc;
}

/* Open a sealed private part with key NAME of home: LB_EWRONGKEY if it is not a reader. */
static int open_private(const char *home, const char *key, const uint8_t *env, size_t envlen,
			struct lb_hexa *priv, struct lb_errmsg *em)
{
	struct lb_keypair kp;
	if (cli_load_key(home, key, &kp))
		return lb_errf(em, LB_EUNAUTH, "cannot use key '%s'", key);
	uint8_t xpk[32], xsk[32], seed[32], *plain = NULL;
	size_t plen = 0;
	memcpy(seed, kp.sk, 32);
	lb_keypair_wipe(&kp);
	int rc = lb_envelope_keypair_from_ed25519_seed(xpk, xsk, seed);
	sodium_memzero(seed, sizeof seed);
	if (!rc)
		rc = lb_envelope_open(xsk, xpk, env, envlen, LB_HEXA_MAX_ENCODED, &plain, &plen, em);
	sodium_memzero(xsk, sizeof xsk);
	if (!rc)
		rc = lb_hexa_decode(plain, plen, priv, em);
	if (plain) {
		sodium_memzero(plain, plen);
		lb_free(plain);
	}
	return rc;
}

static int not_authorised(const char *sub, const char *asset_id, const char *key)
{
	fprintf(stderr,
		"leben data %s: not authorised: the private part of asset %s is sealed to its "
		"owner's node, its owners and the readers the owner named, and key '%s' is not one "
		"of them. Ask the owner to run 'leben data grant %s --readers <your address or "
		"public key>'.\n",
		sub, asset_id, key, asset_id);
	return 1;
}

/* Seal the private part of description h (asset version) to c->policy: an abe.seal tx. */
static int seal_policy(struct pub_ctx *c, const struct lb_hexa *h, const uint8_t asset[32],
		       uint64_t version, struct lb_errmsg *em)
{
	struct lb_hexa hp, hv;
	struct lb_buf priv;
	int rc = lb_hexa_split(h, &hp, &hv);
	if (rc)
		return lb_errf(em, rc, "cannot split the description");
	lb_buf_init(&priv, LB_HEXA_MAX_ENCODED);
	if (!hv.present)
		rc = lb_errf(em, LB_EINVALID, "--policy: the description has no private part to seal");
	else if ((rc = lb_hexa_encode(&hv, &priv)))
		lb_errf(em, rc, "cannot encode the private part");
	if (!rc)
		rc = abe_cli_seal(c->home, c->url, c->key_name, c->authority, c->policy, asset,
				  version, priv.data, priv.len, c->abe_tx, em);
	if (priv.data)
		sodium_memzero(priv.data, priv.len);
	lb_buf_release(&priv);
	lb_hexa_release(&hp);
	lb_hexa_release(&hv);
	return rc;
}

/* The policy (plain names, *policy: caller frees with lb_free) and authority the private part
 * of asset (64 hex digits) is sealed to now: LB_ENOTFOUND if it is sealed to none. */
static int current_seal(const char *url, const char *asset, char **policy, char authority[65],
			struct lb_errmsg *em)
{
	char path[200];
	json_t *seal = NULL;
	snprintf(path, sizeof path, "/v1/abe/seals/%s", asset);
	int rc = lb_client_get(url, path, &seal, em);
	if (rc)
		return rc;
	const char *pol = json_string_value(json_object_get(seal, "policy"));
	const char *auth = json_string_value(json_object_get(seal, "authority"));
	if (!pol || !auth || strlen(auth) != 64)
		rc = lb_errf(em, LB_EMALFORMED, "the node's record of the seal of %s is incomplete",
			     asset);
	else if (!(rc = lb_abe_tx_plain_policy(policy, pol, em)))
		snprintf(authority, 65, "%s", auth);
	json_decref(seal);
	return rc;
}

/* The policy-sealed private part of asset for key (CP-ABE): LB_ENOTFOUND if there is none
 * or key holds no key of its authority, LB_EDENIED if its attributes do not satisfy it. */
static int open_policy(const char *home, const char *url, const char *key, const char *asset,
		       uint64_t version, struct lb_hexa *priv, char policy[4096],
		       struct lb_errmsg *em)
{
	uint8_t *plain = NULL;
	size_t plen = 0;
	uint64_t sealed = 0;
	int rc = abe_cli_open(home, url, key, asset, &plain, &plen, &sealed, policy, em);
	if (!rc && sealed != version)
		rc = lb_errf(em, LB_ENOTFOUND,
			     "the private part sealed to a policy is of version %llu, the asset is "
			     "at version %llu: the owner runs 'leben data reseal'",
			     (unsigned long long)sealed, (unsigned long long)version);
	if (!rc)
		rc = lb_hexa_decode(plain, plen, priv, em);
	if (plain) {
		sodium_memzero(plain, plen);
		lb_free(plain);
	}
	return rc;
}

static int data_show(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *key = NULL, *patients = NULL, *pos[1];
	bool json = false, help = false, priv = false;
	const struct copt opts[] = {{"--home", &home, NULL}, {"--node", &node, NULL},
				    {"--private", NULL, &priv}, {"--key", &key, NULL},
				    {"--patient", &patients, NULL},
				    {"--json", NULL, &json}, {"--help", NULL, &help},
				    {"-h", NULL, &help},     {NULL, NULL, NULL}};
	int rc = sub_options("data show", argc, argv, opts, pos, &help, show_help);
	if (rc >= 0)
		return rc;
	home = cli_home(home);
	struct lb_errmsg em;
	lb_errclear(&em);
	struct lb_catalog *cat;
	json_t *j = NULL;
	if ((rc = catalog_at(home, "directory.db", &cat, &em)))
		return fail("show", &em, NULL);
	const char *url = cli_node_url(node, home);
	rc = directory_sync("show", url, cat, &em);
	json_t *pst = rc ? NULL : purge_status_of(url, pos[0]);
	char pmsg[512];
	if (pst && purged_text(pst, pos[0], pmsg, sizeof pmsg)) {
		/* the entry of a purged asset: that it was purged, when, and at whose request */
		lb_catalog_close(cat);
		if (priv) {
			json_decref(pst);
			lb_errf(&em, LB_ENOTFOUND, "%s: its private part is no longer served", pmsg);
			return fail("show", &em, NULL);
		}
		json_t *out = json_pack("{s:s,s:s,s:O,s:O}", "asset_id", pos[0], "status", "purged",
					"purged_at", json_object_get(pst, "purged_at"), "purge",
					pst);
		json_decref(pst);
		if (json)
			return print_json_obj(out);
		json_decref(out);
		printf("%s (purged); 'leben data purge-status %s' shows the holders' receipts\n",
		       pmsg, pos[0]);
		return 0;
	}
	json_decref(pst);
	if (!rc)
		rc = lb_catalog_get(cat, pos[0], &j, &em);
	if (!rc && priv) {
		uint8_t *env = NULL;
		size_t envlen = 0;
		uint64_t version = 0;
		struct lb_hexa h;
		json_decref(j);
		j = NULL;
		char logtx[2 * LB_HASH_LEN + 1] = "";
		rc = fetch_private(url, cat, pos[0], &env, &envlen, &version, &em);
		if (!rc)
			rc = log_view(home, url, "node", pos[0], LB_XCHG_VIEW_PRIVATE, version,
				      patients, logtx, &em);
		if (!rc)
			rc = open_private(home, key ? key : "node", env, envlen, &h, &em);
		lb_free(env);
		char policy[4096] = "";
		if (rc == LB_EWRONGKEY) {
			/* not a named reader: the part may be sealed to a policy too (CP-ABE) */
			struct lb_errmsg pem;
			lb_errclear(&pem);
			rc = open_policy(home, url, key ? key : "node", pos[0], version, &h, policy,
					 &pem);
			if (rc == LB_EDENIED || rc == LB_ETAMPERED || rc == LB_EMALFORMED ||
			    rc == LB_EWRONGKEY) {
				lb_catalog_close(cat);
				fprintf(stderr,
					"leben data show: not authorised: %s\n", pem.text);
				return 1;
			}
			if (rc) {
				lb_catalog_close(cat);
				return not_authorised("show", pos[0], key ? key : "node");
			}
		}
		if (!rc) {
			j = json_pack("{s:s,s:I,s:o,s:s,s:s}", "asset_id", pos[0], "version",
				      (json_int_t)version, "private", lb_hexa_to_json(&h), "view_tx",
				      logtx, "opened_by", policy[0] ? "policy" : "reader");
			if (policy[0])
				json_object_set_new(j, "policy", json_string(policy));
			lb_hexa_release(&h);
		}
	}
	json_t *ret = rc == LB_ENOTFOUND && !strstr(em.text, "no private part")
			      ? retirement_of(cat, pos[0])
			      : NULL;
	lb_catalog_close(cat);
	if (ret) {
		char why[1024];
		describe_retirement(ret, why, sizeof why);
		json_decref(ret);
		lb_errf(&em, LB_ENOTFOUND, "asset %s was %s; the directory no longer lists it",
			pos[0], why);
		return fail("show", &em, NULL);
	}
	if (rc)
		return fail("show", &em,
			    rc == LB_ENOTFOUND && !strstr(em.text, "no private part")
				    ? "the asset is not (or no longer) in the directory"
				    : NULL);
	if (json)
		return print_json_obj(j);
	cli_print_human(j, 0);
	json_decref(j);
	return 0;
}

static const char get_help[] =
	"usage: leben data get ASSET_ID --out FILE [--key NAME] [--patient ID,...]\n"
	"                      [--home DIR] [--node URL]\n"
	"       leben data get VAULT_REF --out FILE [...]\n"
	"\n"
	"Copy the raw data of an asset this node registered out of its vault (<home>/vault),\n"
	"decrypted, into FILE. ASSET_ID is the id 'leben data add' printed (64 hex digits);\n"
	"the vault reference it printed works too. Only the key the data was sealed to (the\n"
	"node key, default) opens it, and the content is checked against its digest.\n"
	"Before anything is opened the view is logged on the business chain (an xchg.view tx\n"
	"signed by this home's node key) in the asset's history and, with --patient, in each\n"
	"patient's; if the node cannot be reached nothing is opened.\n"
	"\n"
	"  --out FILE      where to write the data (created with mode 0600)\n"
	"  --key NAME      key that opens the vault object (default: node)\n"
	"  --patient ID,...  patients the view concerns (commitments or local ids)\n"
	"  --node URL      node to log the view with (default: the home's)\n"
	"\n"
	"A retired asset is refused with when, by whom and in which tx it was retired; an asset\n"
	"another node registered is refused too (its data is in that node's vault: ask its\n"
	"owner for access through 'leben exchange').\n"
	"\n"
	"Exit status: 0 written, 1 refused or failed (nothing is written), 2 wrong usage.\n";

static int data_get(int argc, char **argv)
{
	const char *home = NULL, *out = NULL, *key = NULL, *node = NULL, *patients = NULL, *pos[1];
	bool help = false;
	const struct copt opts[] = {{"--home", &home, NULL}, {"--out", &out, NULL},
				    {"--key", &key, NULL},   {"--node", &node, NULL},
				    {"--patient", &patients, NULL},
				    {"--help", NULL, &help}, {"-h", NULL, &help},
				    {NULL, NULL, NULL}};
	int rc = sub_options("data get", argc, argv, opts, pos, &help, get_help);
	if (rc >= 0)
		return rc;
	if (!out) {
		fputs(get_help, stderr);
		return 2;
	}
	home = cli_home(home);
	const char *url = cli_node_url(node, home);
	struct lb_errmsg em;
	lb_errclear(&em);
	/* the asset: by its id (the key of assets.json), or by the vault reference it printed */
	json_t *assets;
	if ((rc = assets_load(home, &assets, &em)))
		return fail("get", &em, NULL);
	json_t *entry = json_object_get(assets_map(assets), pos[0]);
	const char *k;
	json_t *v;
	if (!entry)
		json_object_foreach(assets_map(assets), k, v) {
			const char *vref = json_string_value(json_object_get(v, "vault"));
			if (vref && !strcmp(vref, pos[0]) && !json_object_get(v, "retired"))
				entry = v;
		}
	const char *asset_id = entry ? json_string_value(json_object_get(entry, "asset_id")) : NULL;
	const char *ref = entry ? json_string_value(json_object_get(entry, "vault")) : NULL;
	/* what the directory says: retired (by anyone), or listed by another node */
	struct lb_catalog *cat = NULL;
	json_t *ret = NULL;
	char why[1024];
	if ((rc = catalog_at(home, "directory.db", &cat, &em)) ||
	    (rc = directory_sync("get", url, cat, &em))) {
		lb_catalog_close(cat);
		json_decref(assets);
		lb_errwrap(&em, "nothing was opened: the view must be logged first and the directory "
				"checked, and the node could not be asked: ");
		return fail("get", &em, NULL);
	}
	const char *id_for_dir = asset_id ? asset_id : pos[0];
	json_t *pst = purge_status_of(url, id_for_dir);
	char pmsg[512];
	if (pst && purged_text(pst, id_for_dir, pmsg, sizeof pmsg)) {
		json_decref(pst);
		lb_errf(&em, LB_ENOTFOUND, "%s: its data was destroyed; nothing was written", pmsg);
		lb_catalog_close(cat);
		json_decref(assets);
		return fail("get", &em, NULL);
	}
	json_decref(pst);
	ret = json_object_get(entry, "retired") ? json_incref(json_object_get(entry, "retired"))
						: retirement_of(cat, id_for_dir);
	if (ret) {
		describe_retirement(ret, why, sizeof why);
		lb_errf(&em, LB_ENOTFOUND,
			"asset %s was %s. A retired asset's file is no longer served; nothing was "
			"written",
			id_for_dir, why);
		json_decref(ret);
		lb_catalog_close(cat);
		json_decref(assets);
		return fail("get", &em, NULL);
	}
	if (!entry || !asset_id || !ref) {
		json_t *listed = NULL;
		char sender[128] = "";
		if (lb_catalog_get(cat, pos[0], &listed, NULL) == LB_OK) {
			lb_catalog_attr_get(cat, pos[0], "sender", sender, sizeof sender, NULL);
			lb_errf(&em, LB_ENOTFOUND,
				"asset %s is in the directory (registered by %s) but not in this home's "
				"vault: only the node that registered it holds its data",
				pos[0], sender[0] ? sender : "another account");
		} else {
			lb_errf(&em, LB_ENOTFOUND,
				"%s is neither an asset id nor a vault reference that this home or the "
				"directory knows",
				pos[0]);
		}
		json_decref(listed);
		lb_catalog_close(cat);
		json_decref(assets);
		return fail("get", &em,
			    "'leben data search --directory' lists the assets; this home's own are in "
			    "<home>/data/assets.json");
	}
	lb_catalog_close(cat);
	char logtx[2 * LB_HASH_LEN + 1], idcopy[80], refcopy[80];
	snprintf(idcopy, sizeof idcopy, "%s", asset_id);
	snprintf(refcopy, sizeof refcopy, "%s", ref);
	json_decref(assets);
	if ((rc = log_view(home, url, "node", idcopy, LB_XCHG_VIEW_RAW, 0, patients, logtx, &em)))
		return fail("get", &em, NULL);
	struct lb_keypair kp;
	if (cli_load_key(home, key ? key : "node", &kp))
		return 1;
	uint8_t xpk[32], xsk[32], seed[32];
	memcpy(seed, kp.sk, 32);
	lb_keypair_wipe(&kp);
	rc = lb_envelope_keypair_from_ed25519_seed(xpk, xsk, seed);
	sodium_memzero(seed, sizeof seed);
	uint8_t *data = NULL;
	size_t len = 0;
	char vdir[4200];
	snprintf(vdir, sizeof vdir, "%s/vault", home);
	if (!rc)
		rc = lb_vault_get(vdir, refcopy, xsk, xpk, &data, &len, &em);
	sodium_memzero(xsk, sizeof xsk);
	if (rc == LB_ENOTFOUND || (rc && !data && strstr(em.text, "No such file")))
		lb_errf(&em, rc, "asset %s: its vault object %s is missing from %s (was the vault "
			"moved or restored without it?)", idcopy, refcopy, vdir);
	if (!rc)
		rc = lb_file_write(out, data, len, 0600, &em);
	if (data) {
		sodium_memzero(data, len);
		lb_free(data);
	}
	if (rc)
		return fail("get", &em,
			    rc == LB_EWRONGKEY ? "the object was sealed to another key" : NULL);
	printf("%zu bytes written to %s (view logged in tx %s)\n", len, out, logtx);
	return 0;
}

static const char grant_help[] =
	"usage: leben data grant ASSET_ID --readers WHO,... [--key NAME] [--home DIR]\n"
	"                        [--node URL] [--json]\n"
	"\n"
	"Let more parties read the private part of an asset you own or co-own. The private part\n"
	"of the current version is opened with key NAME (default: node), the readers are added\n"
	"to it, and it is sealed again to this node, the owners and every reader (old and new);\n"
	"a data.readers transaction puts the new envelope on the directory chain. The public\n"
	"entry and the version do not change. WHO: an account address (lb1..., key from its\n"
	"identity record), a public key (64 hex digits) or a key name in this home.\n"
	"A new version published later (data watch) is sealed to this node, the owners and the\n"
	"readers given to watch; grant again after it.\n"
	"\n"
	"Exit status: 0 granted, 1 refused or failed (nothing changes), 2 wrong usage.\n";

static int data_grant(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *key = NULL, *readers = NULL, *pos[1];
	bool json = false, help = false;
	const struct copt opts[] = {{"--readers", &readers, NULL}, {"--key", &key, NULL},
				    {"--home", &home, NULL},       {"--node", &node, NULL},
				    {"--json", NULL, &json},       {"--help", NULL, &help},
				    {"-h", NULL, &help},           {NULL, NULL, NULL}};
	int rc = sub_options("data grant", argc, argv, opts, pos, &help, grant_help);
	if (rc >= 0)
		return rc;
	if (!readers) {
		fputs(grant_help, stderr);
		return 2;
	}
	struct pub_ctx c = {.cmd = "grant", .json = json, .key_name = key ? key : "node"};
	c.home = cli_home(home);
	c.url = cli_node_url(node, c.home);
	struct lb_errmsg em;
	lb_errclear(&em);
	uint8_t *env = NULL, *newenv = NULL;
	size_t envlen = 0, newlen = 0;
	uint64_t version = 0;
	struct lb_hexa priv, pub, all;
	bool have_priv = false, have_pub = false, have_all = false;
	json_t *pj = NULL;
	struct lb_buf enc, payload;
	char txid[65] = "";
	lb_buf_init(&enc, LB_HEXA_MAX_ENCODED);
	lb_buf_init(&payload, LB_TX_PAYLOAD_MAX);
	rc = pub_open(&c, &em);
	if (!rc)
		rc = directory_sync("grant", c.url, c.cat, &em);
	if (!rc)
		rc = lb_catalog_get(c.cat, pos[0], &pj, &em);
	if (!rc)
		rc = fetch_private(c.url, c.cat, pos[0], &env, &envlen, &version, &em);
	if (!rc) {
		rc = open_private(c.home, c.key_name, env, envlen, &priv, &em);
		have_priv = rc == LB_OK;
	}
	if (rc == LB_EWRONGKEY) {
		rc = not_authorised("grant", pos[0], c.key_name);
		goto out_status;
	}
	if (!rc) {
		char buf[4096];
		snprintf(buf, sizeof buf, "%s", readers);
		for (char *save = NULL, *r = strtok_r(buf, ",", &save); !rc && r;
		     r = strtok_r(NULL, ",", &save))
			if ((rc = lb_hexa_list_add(&priv, "exchange.readers", r)))
				lb_errf(&em, rc, "--readers: cannot add '%s'", r);
	}
	if (!rc && !(rc = lb_hexa_from_json(pj, &pub, &em)))
		have_pub = true;
	if (!rc && !(rc = lb_hexa_merge(&pub, &priv, &all, &em)))
		have_all = true;
	struct recipients rcpt;
	if (!rc)
		rc = private_recipients(&c, &all, &rcpt, &em);
	if (!rc && (rc = lb_hexa_encode(&priv, &enc)))
		lb_errf(&em, rc, "cannot encode the private part");
	if (!rc)
		rc = lb_envelope_seal((const uint8_t(*)[32])rcpt.pk, rcpt.n, enc.data, enc.len,
				      &newenv, &newlen, &em);
	if (!rc) {
		struct lb_readers_tx t = {.version = version, .envelope = newenv,
					  .envelope_len = newlen};
		if (lb_hex_decode(t.asset_id, 32, pos[0]))
			rc = lb_errf(&em, LB_EUSAGE, "'%s' is not an asset id (64 hex digits)",
				     pos[0]);
		else if ((rc = lb_readers_tx_encode(&t, &payload)))
			lb_errf(&em, rc, "the private part is too large for a tx");
	}
	if (!rc)
		rc = send_directory_tx(&c, LB_TX_DATA_READERS, &payload, txid, &em);
	if (!rc)
		directory_sync("grant", c.url, c.cat, &em);
	if (rc) {
		fail("grant", &em, rc == LB_EUSAGE ? "'leben data grant --help' explains" : NULL);
		rc = rc == LB_EUSAGE ? 2 : 1;
		goto out_status;
	}
	int rid = lb_hexa_field_id("exchange.readers");
	if (json) {
		json_t *rl = json_array();
		for (size_t i = 0; i < priv.v[rid].n; i++)
			json_array_append_new(rl, json_string(priv.v[rid].keys[i]));
		print_json_obj(json_pack("{s:s,s:I,s:s,s:o,s:I}", "asset_id", pos[0], "version",
					 (json_int_t)version, "tx", txid, "readers", rl,
					 "recipients", (json_int_t)rcpt.n));
	} else {
		printf("asset %s: the private part of version %llu is now sealed to %zu keys "
		       "(%zu named readers)\n  tx %s\n",
		       pos[0], (unsigned long long)version, rcpt.n, priv.v[rid].n, txid);
	}
	rc = 0;
out_status:
	if (have_all)
		lb_hexa_release(&all);
	if (have_pub)
		lb_hexa_release(&pub);
	if (have_priv)
		lb_hexa_release(&priv);
	json_decref(pj);
	lb_free(env);
	lb_free(newenv);
	lb_buf_release(&enc);
	lb_buf_release(&payload);
	pub_close(&c);
	return rc;
}

/* ---- purge (docs/security.md "Purge") -------------------------------------------------------- */

/* The asset describing this home's FHIR records (docs/fhir.md): its node destroys the
 * patients' records itself when the request reaches its purge worker. */
static bool fhir_asset(const char *home, const uint8_t asset[32])
{
	uint8_t id[32];
	return lb_fhir_node_asset(home, id) == LB_OK && !memcmp(id, asset, 32);
}

static const char purge_help[] =
	"usage: leben data purge ASSET_ID [--patient ID,...|--asks] [--patient-column NAME]\n"
	"                        [--at-patient-request] [--holders ADDR,...] [--deadline BLOCKS]\n"
	"                        [--reason TEXT] [--key NAME] [--home DIR] [--node URL] [--json]\n"
	"\n"
	"Destroy an asset's data everywhere LEBEN put it, verifiably. Without --patient the whole\n"
	"asset is purged; with --patient (local ids of the asset's patient column, or their\n"
	"commitments, 64 hex digits) only those patients' records: a table without their rows\n"
	"is published as the next version first (CSV assets; --patient-column, default\n"
	"patient_id), then every earlier version is destroyed.\n"
	"A data.purge request goes to the directory chain naming the holders: the owner, the\n"
	"executors that received the asset's data for off-site or integrated runs (found on the\n"
	"business chain) and any --holders. This home's vault objects of the asset are\n"
	"crypto-shredded at once (their keys erased, the ciphertexts overwritten and deleted);\n"
	"every holder's node does the same and answers with a signed data.purge.receipt naming\n"
	"what it destroyed. A holder without a receipt --deadline blocks (default 100) after the\n"
	"request is reported late by 'leben data purge-status'.\n"
	"--at-patient-request records that the patient asked (the owner sends it for them);\n"
	"--asks purges the patients who asked themselves ('leben data purge-ask') and are\n"
	"not purged yet.\n"
	"Copies outside LEBEN (the source file, backups) are not reached: the output names the\n"
	"source file.\n"
	"\n"
	"Exit status: 0 asked and this home's copies destroyed, 1 refused or failed, 2 wrong usage.\n";

static const char purge_status_help[] =
	"usage: leben data purge-status ASSET_ID [--wait SECONDS] [--home DIR] [--node URL] [--json]\n"
	"\n"
	"The purges asked for an asset, from the directory chain: for each request its scope,\n"
	"date, at whose request, and every holder: answered (block, objects destroyed), waiting,\n"
	"or late (no receipt by the deadline). --wait polls until every request is complete.\n"
	"\n"
	"Exit status: 0 every purge complete, 3 some holder has not answered yet, 1 failed\n"
	"(no purge asked for the asset), 2 wrong usage.\n";

/* The executors that received the asset's data (off-site / integrated runs), from the
 * business chain's exchange log, added to holders (a JSON array of addresses). */
static void purge_executors(const char *url, const char *id, json_t *holders)
{
	char path[160];
	json_t *log = NULL;
	struct lb_errmsg em;
	snprintf(path, sizeof path, "/v1/exchange/log/%.64s", id);
	if (lb_client_get(url, path, &log, &em))
		return;
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(log, "events"), i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));
		const char *req =
			json_string_value(json_object_get(json_object_get(ev, "details"), "request"));
		json_t *r = NULL;
		if (!type || strcmp(type, "xchg.exec") || !req)
			continue;
		snprintf(path, sizeof path, "/v1/exchange/requests/%.64s", req);
		if (lb_client_get(url, path, &r, &em))
			continue;
		const char *sc = json_string_value(json_object_get(r, "scenario"));
		const char *ex = json_string_value(json_object_get(r, "executor"));
		bool found = false;
		size_t k;
		json_t *h;
		json_array_foreach(holders, k, h)
			found |= ex && !strcmp(json_string_value(h), ex);
		if (sc && ex && !found && (!strcmp(sc, "off-site") || !strcmp(sc, "integrated")))
			json_array_append_new(holders, json_string(ex));
		json_decref(r);
	}
	json_decref(log);
}

/* Shred the vault objects refs (hex strings) of this home; add them to objs. */
static int purge_shred(const char *home, json_t *refs, json_t *objs, struct lb_errmsg *em)
{
	char vdir[4200];
	snprintf(vdir, sizeof vdir, "%s/vault", home);
	size_t i;
	json_t *v;
	json_array_foreach(refs, i, v) {
		const char *ref = json_string_value(v);
		bool held = false;
		int rc = ref ? lb_vault_shred(vdir, ref, &held, em) : LB_OK;
		if (rc)
			return rc;
		if (ref)
			json_array_append_new(objs, json_string(ref));
	}
	return LB_OK;
}

/* Rows of a CSV table whose patient column's commitment is not in gone (n x 32, sorted
 * order not needed): the table without those patients' records, into out. */
static int purge_rows(const uint8_t *csv, size_t len, const char *col, const uint8_t asset[32],
		      const uint8_t skey[LB_XCHG_SALT_KEY_LEN], const uint8_t *gone, size_t ngone,
		      struct lb_buf *out, size_t *dropped, struct lb_errmsg *em)
{
	size_t pos = 0, ncol = 0, want = (size_t)-1, row = 0;
	char sep = ',';
	*dropped = 0;
	for (size_t i = 0; i < len && csv[i] != '\n'; i++)
		if (csv[i] == ';' || csv[i] == '\t') {
			sep = (char)csv[i];
			break;
		} else if (csv[i] == ',')
			break;
	while (pos < len) {
		size_t start = pos, field = 0, fstart = pos;
		bool q = false;
		char cell[LB_XCHG_LOCAL_ID_MAX + 1] = "";
		for (; pos < len; pos++) {
			uint8_t ch = csv[pos];
			if (ch == '"')
				q = !q;
			else if (!q && (ch == (uint8_t)sep || ch == '\n')) {
				size_t fl = pos - fstart;
				const uint8_t *fp = csv + fstart;
				if (fl && fp[fl - 1] == '\r')
					fl--;
				if (fl >= 2 && fp[0] == '"' && fp[fl - 1] == '"') {
					fp++;
					fl -= 2;
				}
				if (row == 0 && fl == strlen(col) && !memcmp(fp, col, fl))
					want = field;
				if (row > 0 && field == want && fl <= LB_XCHG_LOCAL_ID_MAX) {
					memcpy(cell, fp, fl);
					cell[fl] = 0;
				}
				field++;
				fstart = pos + 1;
				if (ch == '\n')
					break;
			}
		}
		if (pos >= len) { /* a last line without a newline */
			size_t fl = pos - fstart;
			if (row > 0 && field == want && fl <= LB_XCHG_LOCAL_ID_MAX) {
				memcpy(cell, csv + fstart, fl);
				cell[fl] = 0;
			}
			if (row == 0 && fl == strlen(col) && !memcmp(csv + fstart, col, fl))
				want = field;
		}
		size_t end = pos < len ? pos + 1 : len;
		pos = end;
		if (row == 0) {
			ncol = field + 1;
			if (want == (size_t)-1)
				return lb_errf(em, LB_ENOTFOUND,
					       "the table has no column '%s'; name the patient column "
					       "with --patient-column",
					       col);
		}
		bool drop = false;
		if (row > 0 && cell[0]) {
			uint8_t c[32];
			lb_xchg_patient_commit(c, asset, skey, cell);
			for (size_t k = 0; k < ngone && !drop; k++)
				drop = !memcmp(gone + 32 * k, c, 32);
			sodium_memzero(cell, sizeof cell);
		}
		row++;
		if (drop) {
			(*dropped)++;
			continue;
		}
		int rc = lb_buf_add(out, csv + start, end - start);
		if (rc)
			return lb_errf(em, rc, "out of memory");
	}
	(void)ncol;
	return LB_OK;
}

/* The next version without the patients' records (CSV assets): publish it through the update
 * path; the earlier versions' objects are returned in old (to be shredded). */
static int purge_patients_version(struct pub_ctx *c, json_t *entry, const char *id,
				  const char *col, const uint8_t *gone, size_t ngone,
				  size_t *dropped, struct lb_errmsg *em)
{
	uint8_t asset[32], skey[LB_XCHG_SALT_KEY_LEN], xpk[32], xsk[32], seed[32];
	uint8_t *data = NULL;
	size_t len = 0;
	char vdir[4200], tmp[4300];
	const char *ref = json_string_value(json_object_get(entry, "vault"));
	struct lb_keypair kp;
	int rc;
	if (!ref || lb_hex_decode(asset, 32, id))
		return lb_errf(em, LB_ECORRUPT, "the home's entry of asset %s names no vault object",
			       id);
	if ((rc = lb_xchg_salt_key(c->home, asset, false, skey, em)))
		return lb_errwrap(em, "patients are named by commitments made with the asset's salt "
				      "key, which this home does not have: ");
	if (cli_load_key(c->home, "node", &kp)) {
		sodium_memzero(skey, sizeof skey);
		return lb_errf(em, LB_EUNAUTH, "cannot use the node key to open the vault");
	}
	memcpy(seed, kp.sk, 32);
	lb_keypair_wipe(&kp);
	rc = lb_envelope_keypair_from_ed25519_seed(xpk, xsk, seed);
	sodium_memzero(seed, sizeof seed);
	snprintf(vdir, sizeof vdir, "%s/vault", c->home);
	if (!rc)
		rc = lb_vault_get(vdir, ref, xsk, xpk, &data, &len, em);
	sodium_memzero(xsk, sizeof xsk);
	struct lb_buf out;
	lb_buf_init(&out, len + 1);
	if (!rc)
		rc = purge_rows(data, len, col, asset, skey, gone, ngone, &out, dropped, em);
	sodium_memzero(skey, sizeof skey);
	if (data) {
		sodium_memzero(data, len);
		lb_free(data);
	}
	if (!rc && !*dropped)
		rc = lb_errf(em, LB_ENOTFOUND,
			     "asset %s holds no record of the patients named (column '%s'); nothing "
			     "was changed",
			     id, col);
	/* the new version is published from a private file, wiped once it is in the vault */
	const char *name = json_string_value(json_object_get(entry, "path"));
	const char *base = name && strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	snprintf(tmp, sizeof tmp, "%s/data/purge", c->home);
	if (!rc)
		rc = lb_mkdirs(tmp, 0700, em);
	snprintf(tmp, sizeof tmp, "%s/data/purge/%s", c->home, base && *base ? base : "table.csv");
	if (!rc)
		rc = lb_file_write(tmp, out.data, out.len, 0600, em);
	if (out.data)
		sodium_memzero(out.data, out.len);
	lb_buf_release(&out);
	json_t *res = NULL, *prev = json_deep_copy(entry);
	struct add_terms t = {.sync = "manual", .type = "csv"};
	if (!rc)
		rc = publish_file(c, tmp, &t, prev, &res, em);
	struct lb_errmsg ignore;
	lb_vault_wipe_file(tmp, &ignore);
	json_t *now = json_object_get(assets_map(c->assets), id);
	if (!rc && now) { /* the entry keeps naming the owner's file, not the private copy */
		json_object_set(now, "file", json_object_get(prev, "file"));
		json_object_set(now, "path", json_object_get(prev, "path"));
		rc = assets_save(c, em);
	}
	json_decref(prev);
	json_decref(res);
	return rc;
}

static int data_purge(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *key = NULL, *patients = NULL, *holders = NULL,
		   *deadline = NULL, *reason = NULL, *column = NULL, *pos[1];
	bool json = false, help = false, by_patient = false;
	bool asks = false;
	const struct copt opts[] = {{"--patient", &patients, NULL},
				    {"--asks", NULL, &asks},
				    {"--patient-column", &column, NULL},
				    {"--at-patient-request", NULL, &by_patient},
				    {"--holders", &holders, NULL},
				    {"--deadline", &deadline, NULL},
				    {"--reason", &reason, NULL},
				    {"--key", &key, NULL},
				    {"--home", &home, NULL},
				    {"--node", &node, NULL},
				    {"--json", NULL, &json},
				    {"--help", NULL, &help},
				    {"-h", NULL, &help},
				    {NULL, NULL, NULL}};
	int rc = sub_options("data purge", argc, argv, opts, pos, &help, purge_help);
	if (rc >= 0)
		return rc;
	char *end = NULL;
	unsigned long long dl = deadline ? strtoull(deadline, &end, 10) : 100;
	if ((deadline && (!*deadline || *end)) || dl < 1 || dl > LB_PURGE_DEADLINE_MAX) {
		fprintf(stderr, "leben data purge: --deadline %s: give 1 to %d blocks\n", deadline,
			LB_PURGE_DEADLINE_MAX);
		return 2;
	}
	if (reason && strlen(reason) > LB_PURGE_REASON_MAX) {
		fprintf(stderr, "leben data purge: --reason is at most %d bytes\n",
			LB_PURGE_REASON_MAX);
		return 2;
	}
	uint8_t asset[32];
	if (strlen(pos[0]) != 64 || lb_hex_decode(asset, 32, pos[0])) {
		fprintf(stderr, "leben data purge: '%s' is not an asset id (64 hex digits)\n", pos[0]);
		return 2;
	}
	struct pub_ctx c = {.cmd = "purge", .json = json, .key_name = key ? key : "node"};
	c.home = cli_home(home);
	c.url = cli_node_url(node, c.home);
	struct lb_errmsg em;
	lb_errclear(&em);
	json_t *hold = json_array(), *objs = json_array(), *refs = json_array(), *st = NULL;
	uint8_t *gone = NULL, *haddr = NULL;
	size_t ngone = 0, dropped = 0;
	char txid[65] = "", rtxid[65] = "", msg[512];
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if ((rc = pub_open(&c, &em)))
		goto out;
	if ((st = purge_status_of(c.url, pos[0])) && purged_text(st, pos[0], msg, sizeof msg)) {
		rc = lb_errf(&em, LB_EINVALID, "%s; nothing more to do", msg);
		goto out;
	}
	/* --asks: the patients who asked themselves (data.purge.ask) and are not purged yet */
	char asked[8192] = "";
	if (asks) {
		size_t i, used = 0;
		json_t *a;
		json_array_foreach(json_object_get(st, "asks"), i, a) {
			const char *pat = json_string_value(json_object_get(a, "patient"));
			if (!pat || strcmp(json_string_value(json_object_get(a, "status")), "waiting") ||
			    used + 66 >= sizeof asked)
				continue;
			used += (size_t)snprintf(asked + used, sizeof asked - used, "%s%s",
						 used ? "," : "", pat);
		}
		if (patients || !used) {
			rc = lb_errf(&em, patients ? LB_EUSAGE : LB_ENOTFOUND,
				     patients ? "--asks takes the patients from their asks: give no "
						"--patient"
					      : "no patient's ask is waiting for asset %s",
				     pos[0]);
			goto out;
		}
		patients = asked;
		by_patient = true;
	}
	/* the patients: commitments, or local ids made into commitments with the salt key */
	if (patients) {
		uint8_t skey[LB_XCHG_SALT_KEY_LEN];
		/* the owner's home keeps (or makes) the asset's salt key */
		bool mine = json_object_get(assets_map(c.assets), pos[0]) != NULL;
		bool have_skey = lb_xchg_salt_key(c.home, asset, mine, skey, NULL) == LB_OK;
		char list[8192];
		snprintf(list, sizeof list, "%s", patients);
		gone = lb_calloc(LB_PURGE_PATIENTS_MAX, 32);
		for (char *save = NULL, *p = strtok_r(list, ",", &save); gone && p;
		     p = strtok_r(NULL, ",", &save)) {
			if (ngone == LB_PURGE_PATIENTS_MAX) {
				rc = lb_errf(&em, LB_ETOOBIG, "at most %d patients per purge",
					     LB_PURGE_PATIENTS_MAX);
				break;
			}
			if (strlen(p) == 64 && !lb_hex_decode(gone + 32 * ngone, 32, p)) {
				ngone++;
			} else if (!have_skey) {
				rc = lb_errf(&em, LB_ENOTFOUND,
					     "patient '%s': a local id needs the asset's salt key, which "
					     "this home does not have; give the commitment (64 hex)",
					     p);
				break;
			} else {
				lb_xchg_patient_commit(gone + 32 * ngone++, asset, skey, p);
			}
		}
		sodium_memzero(skey, sizeof skey);
		if (!rc && !ngone)
			rc = lb_errf(&em, LB_EUSAGE, "--patient names no patient");
		if (rc)
			goto out;
	}
	/* this home's entry: its vault objects (every version) */
	json_t *entry = json_object_get(assets_map(c.assets), pos[0]);
	if (entry) {
		json_t *old = json_object_get(entry, "vaults");
		size_t i;
		json_t *v;
		json_array_foreach(old, i, v)
			json_array_append(refs, v);
		if (!patients && json_object_get(entry, "vault"))
			json_array_append(refs, json_object_get(entry, "vault"));
		if (patients) { /* the current version too: it is replaced below */
			json_array_append(refs, json_object_get(entry, "vault"));
			if ((rc = purge_patients_version(&c, entry, pos[0],
							 column ? column : "patient_id", gone, ngone,
							 &dropped, &em)))
				goto out;
		}
	} else if (patients && !fhir_asset(c.home, asset)) {
		rc = lb_errf(&em, LB_ENOTFOUND,
			     "asset %s was not published from this home: a patients' purge is made "
			     "by the owner's home, which publishes the table without their records",
			     pos[0]);
		goto out;
	}
	/* the holders: executors from the business chain, and those named */
	purge_executors(c.url, pos[0], hold);
	if (holders) {
		char list[8192];
		snprintf(list, sizeof list, "%s", holders);
		for (char *save = NULL, *p = strtok_r(list, ",", &save); p;
		     p = strtok_r(NULL, ",", &save)) {
			uint8_t a[LB_ADDR_LEN];
			if (lb_addr_decode(a, p, NULL)) {
				rc = lb_errf(&em, LB_EUSAGE, "--holders: '%s' is not an lb1... address", p);
				goto out;
			}
			bool dup = false;
			size_t k;
			json_t *h;
			json_array_foreach(hold, k, h)
				dup |= !strcmp(json_string_value(h), p);
			if (!dup)
				json_array_append_new(hold, json_string(p));
		}
	}
	size_t nh = json_array_size(hold);
	if (nh > LB_PURGE_HOLDERS_MAX) {
		rc = lb_errf(&em, LB_ETOOBIG, "%zu holders: at most %d per request", nh,
			     LB_PURGE_HOLDERS_MAX);
		goto out;
	}
	haddr = lb_calloc(nh ? nh : 1, LB_ADDR_LEN);
	for (size_t i = 0; haddr && i < nh; i++)
		lb_addr_decode(haddr + i * LB_ADDR_LEN, json_string_value(json_array_get(hold, i)),
			       NULL);
	struct lb_purge_tx p = {.scope = patients ? LB_PURGE_PATIENTS : LB_PURGE_ASSET,
				.by = by_patient ? LB_PURGE_BY_PATIENT : LB_PURGE_BY_OWNER,
				.deadline = dl,
				.npatients = ngone,
				.patients = gone,
				.nholders = nh,
				.holders = haddr};
	memcpy(p.asset_id, asset, 32);
	snprintf(p.reason, sizeof p.reason, "%s", reason ? reason : "");
	/* what this home will destroy is noted first: the node's worker, which may see the
	 * request before this command shreds, destroys and names the same objects */
	char note[4300];
	snprintf(note, sizeof note, "%s/data/purged", c.home);
	lb_mkdirs(note, 0700, NULL);
	snprintf(note, sizeof note, "%s/data/purged/%s.json", c.home, pos[0]);
	json_t *nj = json_pack("{s:O}", "objects", refs);
	if (!nj || json_dump_file(nj, note, JSON_COMPACT)) {
		json_decref(nj);
		rc = lb_errf(&em, LB_EIO, "%s: cannot write the purge note", note);
		goto out;
	}
	json_decref(nj);
	if ((rc = lb_purge_tx_encode(&p, &b)) ||
	    (rc = send_directory_tx(&c, LB_TX_DATA_PURGE, &b, txid, &em))) {
		if (rc != LB_ETIMEOUT) /* refused: nothing will be destroyed */
			unlink(note);
		goto out;
	}
	/* this home's copies, at once */
	if ((rc = purge_shred(c.home, refs, objs, &em)))
		goto out;
	if (entry) {
		entry = json_object_get(assets_map(c.assets), pos[0]); /* publish may replace it */
		if (!patients)
			json_object_set_new(entry, "purged",
					    json_pack("{s:s,s:I,s:s}", "tx", txid, "time_ms",
						      (json_int_t)lb_now_ms(), "by", c.addr_text));
		json_object_set_new(entry, "vaults", json_array());
		assets_save(&c, &em);
	}
	/* the owner's receipt: the node sends it when the node key owns the asset; another
	 * owner key answers here */
	struct lb_keypair nk;
	bool node_owns = cli_load_key(c.home, "node", &nk) == 0 && !memcmp(nk.pk, c.kp.pk, 32);
	lb_keypair_wipe(&nk);
	if (!node_owns) {
		size_t no = json_array_size(objs);
		uint8_t *oh = lb_calloc(no ? no : 1, 32);
		for (size_t i = 0; oh && i < no; i++)
			lb_hex_decode(oh + 32 * i, 32, json_string_value(json_array_get(objs, i)));
		struct lb_purge_receipt_tx r = {.nobjects = oh ? no : 0, .objects = oh};
		lb_hex_decode(r.request, 32, txid);
		memcpy(r.asset_id, asset, 32);
		snprintf(r.note, sizeof r.note, "crypto-shredded by the owner's home");
		lb_buf_reset(&b);
		rc = lb_purge_receipt_encode(&r, &b);
		if (!rc)
			rc = send_directory_tx(&c, LB_TX_DATA_PURGE_RECEIPT, &b, rtxid, &em);
		lb_free(oh);
		if (rc)
			goto out;
	}
out:;
	const char *src = json_string_value(
		json_object_get(json_object_get(assets_map(c.assets), pos[0]), "file"));
	char srccopy[4200] = "";
	if (src)
		snprintf(srccopy, sizeof srccopy, "%s", src);
	pub_close(&c);
	json_decref(st);
	lb_free(gone);
	lb_free(haddr);
	lb_buf_release(&b);
	if (rc) {
		json_decref(hold);
		json_decref(objs);
		json_decref(refs);
		fail("purge", &em, NULL);
		return rc == LB_EUSAGE ? 2 : 1;
	}
	if (json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:O,s:O,s:I}", "asset_id", pos[0], "request", txid,
				      "scope", patients ? "patients" : "asset", "holders", hold,
				      "destroyed_here", objs, "records_removed", (json_int_t)dropped);
		if (rtxid[0])
			json_object_set_new(j, "receipt", json_string(rtxid));
		if (srccopy[0])
			json_object_set_new(j, "source_file", json_string(srccopy));
		print_json_obj(j);
	} else {
		if (patients)
			printf("asset %s: %zu record(s) of %zu patient(s) removed; the table without "
			       "them is the asset's new version\n",
			       pos[0], dropped, ngone);
		printf("purge of asset %s%s asked in tx %s; holders: the owner and %zu "
		       "executor(s)\n",
		       pos[0], patients ? " (patients' records)" : "", txid, json_array_size(hold));
		printf("  %zu vault object(s) crypto-shredded in this home%s\n", json_array_size(objs),
		       rtxid[0] ? ", receipt sent" : "; the node sends the receipt");
		if (srccopy[0])
			printf("  the source file %s is outside LEBEN and was not touched\n", srccopy);
		printf("  'leben data purge-status %s' follows the receipts\n", pos[0]);
	}
	json_decref(hold);
	json_decref(objs);
	json_decref(refs);
	return 0;
}

static int data_purge_status(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *wait = NULL, *pos[1];
	bool json = false, help = false;
	const struct copt opts[] = {{"--wait", &wait, NULL}, {"--home", &home, NULL},
				    {"--node", &node, NULL}, {"--json", NULL, &json},
				    {"--help", NULL, &help}, {"-h", NULL, &help},
				    {NULL, NULL, NULL}};
	int rc = sub_options("data purge-status", argc, argv, opts, pos, &help, purge_status_help);
	if (rc >= 0)
		return rc;
	char *end = NULL;
	double secs = wait ? strtod(wait, &end) : 0;
	if (wait && (!*wait || *end || secs < 0 || secs > 3600)) {
		fprintf(stderr, "leben data purge-status: --wait %s: give 0 to 3600 seconds\n", wait);
		return 2;
	}
	const char *h = cli_home(home);
	const char *url = cli_node_url(node, h);
	char path[160];
	snprintf(path, sizeof path, "/v1/data/purges/%.64s", pos[0]);
	uint64_t until = lb_mono_ns() + (uint64_t)(secs * 1e9);
	json_t *st = NULL;
	struct lb_errmsg em;
	bool complete;
	for (;;) {
		lb_errclear(&em);
		if (lb_client_get(url, path, &st, &em))
			return fail("purge-status", &em, NULL);
		complete = true;
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(st, "requests"), i, r)
			complete &= json_is_true(json_object_get(r, "complete"));
		if (complete || lb_mono_ns() >= until)
			break;
		json_decref(st);
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (json) {
		print_json_obj(st);
		return complete ? 0 : 3;
	}
	char msg[512];
	if (purged_text(st, pos[0], msg, sizeof msg))
		printf("%s\n", msg);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(st, "requests"), i, r) {
		char when[64];
		purge_day(json_integer_value(json_object_get(r, "time_ms")), when, sizeof when);
		printf("request %s: %s, asked %s by %s at the %s's request (directory block %lld, "
		       "deadline block %lld): %s\n",
		       json_string_value(json_object_get(r, "request")),
		       !strcmp(json_string_value(json_object_get(r, "scope")), "asset")
			       ? "whole asset"
			       : "patients' records",
		       when, json_string_value(json_object_get(r, "requested_by")),
		       json_string_value(json_object_get(r, "by")),
		       (long long)json_integer_value(json_object_get(r, "height")),
		       (long long)json_integer_value(json_object_get(r, "deadline_height")),
		       json_is_true(json_object_get(r, "complete")) ? "complete" : "not complete");
		size_t k;
		json_t *hj;
		json_array_foreach(json_object_get(r, "holders"), k, hj) {
			const char *s = json_string_value(json_object_get(hj, "status"));
			printf("  %-8s %s: %s", json_string_value(json_object_get(hj, "role")),
			       json_string_value(json_object_get(hj, "holder")),
			       !strcmp(s, "late") ? "LATE (no receipt by the deadline)" : s);
			if (!strcmp(s, "answered"))
				printf(" at block %lld, %lld object(s) destroyed",
				       (long long)json_integer_value(json_object_get(hj, "height")),
				       (long long)json_integer_value(json_object_get(hj, "objects")));
			printf("\n");
		}
	}
	json_array_foreach(json_object_get(st, "asks"), i, r) {
		char when[64];
		purge_day(json_integer_value(json_object_get(r, "time_ms")), when, sizeof when);
		printf("patient %s asked %s: %s%s\n", json_string_value(json_object_get(r, "patient")),
		       when, json_string_value(json_object_get(r, "status")),
		       json_object_get(r, "request") ? " (request " : "");
		if (json_object_get(r, "request"))
			printf("  %s)\n", json_string_value(json_object_get(r, "request")));
	}
	json_decref(st);
	return complete ? 0 : 3;
}

static const char purge_ask_help[] =
	"usage: leben data purge-ask ASSET_ID --patient COMMITMENT|--opening CARD --key NAME\n"
	"                            [--reason TEXT]\n"
	"                            [--home DIR] [--node URL] [--json]\n"
	"\n"
	"A patient asks the asset's owner to purge its records: a data.purge.ask on the business\n"
	"chain signed with key NAME, which must be the consent key the owner registered for the\n"
	"patient's commitment (64 hex digits), or read from the patient's opening card\n"
	"(checked: the commitment opens with its salt and local id). The owner answers with\n"
	"'leben data purge ASSET_ID --asks'; 'leben data purge-status' and\n"
	"GET /v1/patients/{commitment}/purges show the ask and its answer.\n"
	"\n"
	"Exit status: 0 asked, 1 refused (not the patient's key) or failed, 2 wrong usage.\n";

static int data_purge_ask(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *key = NULL, *patient = NULL, *reason = NULL,
		   *opening = NULL, *pos[1];
	bool json = false, help = false;
	const struct copt opts[] = {{"--patient", &patient, NULL}, {"--key", &key, NULL},
				    {"--opening", &opening, NULL},
				    {"--reason", &reason, NULL},   {"--home", &home, NULL},
				    {"--node", &node, NULL},       {"--json", NULL, &json},
				    {"--help", NULL, &help},       {"-h", NULL, &help},
				    {NULL, NULL, NULL}};
	int rc = sub_options("data purge-ask", argc, argv, opts, pos, &help, purge_ask_help);
	if (rc >= 0)
		return rc;
	struct lb_purge_ask_tx a = {0};
	json_t *card = opening ? json_load_file(opening, 0, NULL) : NULL;
	char cpat[65] = "";
	if (opening) { /* the opening card: the commitment must open with its salt and local id */
		uint8_t asset[32], salt[32], want[32], got[32];
		const char *lid = json_string_value(json_object_get(card, "local_id"));
		const char *ca = json_string_value(json_object_get(card, "asset"));
		const char *cp = json_string_value(json_object_get(card, "patient"));
		bool good = lid && ca && cp && strlen(cp) == 64 && !lb_hex_decode(asset, 32, ca) &&
			    !lb_hex_decode(want, 32, cp) &&
			    !lb_hex_decode(salt, 32,
					   json_string_value(json_object_get(card, "salt")));
		if (good) {
			lb_xchg_patient_open(got, asset, salt, lid);
			good = !memcmp(got, want, 32) && !strcmp(ca, pos[0]);
			snprintf(cpat, sizeof cpat, "%s", cp);
		}
		json_decref(card);
		if (!good) {
			fprintf(stderr, "leben data purge-ask: %s is not an opening card of asset %s "
					"(its commitment must open with its salt and local id)\n",
				opening, pos[0]);
			return 1;
		}
		patient = cpat;
	}
	if (!patient || !key || strlen(pos[0]) != 64 || lb_hex_decode(a.asset_id, 32, pos[0]) ||
	    strlen(patient) != 64 || lb_hex_decode(a.patient, 32, patient) ||
	    (reason && strlen(reason) > LB_PURGE_REASON_MAX)) {
		fputs(purge_ask_help, stderr);
		return 2;
	}
	snprintf(a.reason, sizeof a.reason, "%s", reason ? reason : "");
	struct pub_ctx c = {.cmd = "purge-ask", .json = json, .key_name = key};
	c.home = cli_home(home);
	c.url = cli_node_url(node, c.home);
	struct lb_errmsg em;
	lb_errclear(&em);
	struct lb_buf b;
	char txid[65] = "";
	lb_buf_init(&b, 4096);
	rc = pub_open(&c, &em);
	if (!rc)
		rc = lb_purge_ask_encode(&a, &b);
	if (!rc)
		rc = send_chain_tx(&c, LB_CHAIN_BUSINESS, LB_TX_DATA_PURGE_ASK, &b, txid, &em);
	lb_buf_release(&b);
	pub_close(&c);
	if (rc)
		return fail("purge-ask", &em, NULL);
	if (json) {
		print_json_obj(json_pack("{s:s,s:s,s:s}", "asset_id", pos[0], "patient", patient,
					 "tx", txid));
		return 0;
	}
	printf("asked the owner of asset %s to purge patient %s's records (tx %s)\n", pos[0],
	       patient, txid);
	return 0;
}

static const char reseal_help[] =
	"usage: leben data reseal ASSET_ID [--policy FORMULA] [--authority ID] [--key NAME]\n"
	"                         [--home DIR] [--node URL] [--json]\n"
	"\n"
	"Seal the private part of an asset you own or co-own to an attribute policy again, with\n"
	"the attributes' current epochs: after 'leben abe revoke', a person whose attribute was\n"
	"taken can still open the part sealed before; resealing makes the chain serve a new\n"
	"ciphertext that their old key does not open (an abe.seal transaction). Also seals the\n"
	"current version after 'data watch' published a new one. The private part is opened with\n"
	"key NAME (default: node). FORMULA and ID default to the policy and authority the part is\n"
	"sealed to now (ID: this home's own authority if the part is not sealed to a policy yet).\n"
	"What a revoked person already read and kept is not protected by any resealing.\n"
	"\n"
	"Exit status: 0 resealed, 1 refused or failed (nothing changes), 2 wrong usage.\n";

static int data_reseal(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *key = NULL, *policy = NULL, *authority = NULL,
		   *pos[1];
	bool json = false, help = false;
	const struct copt opts[] = {{"--policy", &policy, NULL}, {"--authority", &authority, NULL},
				    {"--key", &key, NULL},       {"--home", &home, NULL},
				    {"--node", &node, NULL},     {"--json", NULL, &json},
				    {"--help", NULL, &help},     {"-h", NULL, &help},
				    {NULL, NULL, NULL}};
	int rc = sub_options("data reseal", argc, argv, opts, pos, &help, reseal_help);
	if (rc >= 0)
		return rc;
	struct pub_ctx c = {.cmd = "reseal", .json = json, .key_name = key ? key : "node",
			    .authority = authority};
	c.home = cli_home(home);
	c.url = cli_node_url(node, c.home);
	struct lb_errmsg em;
	lb_errclear(&em);
	uint8_t *env = NULL, asset[32];
	size_t envlen = 0;
	uint64_t version = 0;
	struct lb_hexa priv, pub, all;
	bool have_priv = false, have_pub = false, have_all = false;
	json_t *pj = NULL;
	char *plain = NULL;
	if (lb_hex_decode(asset, 32, pos[0])) {
		fprintf(stderr, "leben data reseal: '%s' is not an asset id (64 hex digits)\n", pos[0]);
		return 2;
	}
	if (policy && lb_abe_policy_check(policy, &em)) {
		fprintf(stderr, "leben data reseal: --policy: %s\n", em.text);
		return 2;
	}
	char sauth[65] = "";
	if (!policy || !authority) { /* the seal's policy and authority unless given */
		rc = current_seal(c.url, pos[0], &plain, sauth, &em);
		if (rc && !(rc == LB_ENOTFOUND && policy))
			return fail("reseal", &em,
				    rc == LB_ENOTFOUND ? "give the policy with --policy" : NULL);
		if (!rc && !policy)
			policy = plain;
		if (!rc && !authority)
			c.authority = sauth;
	}
	c.policy = policy;
	rc = pub_open(&c, &em);
	if (!rc)
		rc = directory_sync("reseal", c.url, c.cat, &em);
	if (!rc)
		rc = lb_catalog_get(c.cat, pos[0], &pj, &em);
	if (!rc)
		rc = fetch_private(c.url, c.cat, pos[0], &env, &envlen, &version, &em);
	if (!rc) {
		rc = open_private(c.home, c.key_name, env, envlen, &priv, &em);
		have_priv = rc == LB_OK;
	}
	lb_free(env);
	if (rc == LB_EWRONGKEY) {
		rc = not_authorised("reseal", pos[0], c.key_name);
		goto out;
	}
	if (!rc && !(rc = lb_hexa_from_json(pj, &pub, &em)))
		have_pub = true;
	if (!rc && !(rc = lb_hexa_merge(&pub, &priv, &all, &em)))
		have_all = true;
	if (!rc)
		rc = seal_policy(&c, &all, asset, version, &em);
	if (rc) {
		fail("reseal", &em, NULL);
		rc = 1;
		goto out;
	}
	if (json)
		print_json_obj(json_pack("{s:s,s:I,s:s,s:s}", "asset_id", pos[0], "version",
					 (json_int_t)version, "policy", policy, "tx", c.abe_tx));
	else
		printf("asset %s: the private part of version %llu is sealed to '%s' at the "
		       "attributes' current epochs\n  tx %s\n",
		       pos[0], (unsigned long long)version, policy, c.abe_tx);
	rc = 0;
out:
	if (have_priv)
		lb_hexa_release(&priv);
	if (have_pub)
		lb_hexa_release(&pub);
	if (have_all)
		lb_hexa_release(&all);
	json_decref(pj);
	pub_close(&c);
	lb_free(plain);
	return rc;
}

struct data_sub {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct data_sub data_subs[] = {
	{"inspect", data_inspect, "show what LEBEN reads from a file (DICOM, CSV, FHIR, text, image,\n"
	 "            audio, video, PDF)"},
	{"dedup", data_dedup, "find exact and near-duplicate files in a directory"},
	{"audit", data_audit, "score the quality of a file (tables: with an HTML report)"},
	{"search", data_search, "search the catalogue of data assets (and fill it)"},
	{"add", data_add, "register a file on the directory chain (data stays in the vault)"},
	{"watch", data_watch, "keep the directory entries of a folder's files up to date"},
	{"show", data_show, "show an asset's directory entry (public, or --private if allowed)"},
	{"grant", data_grant, "let more readers open an asset's private part"},
	{"reseal", data_reseal, "seal an asset's private part to its attribute policy again"},
	{"get", data_get, "decrypt a raw data object from this node's vault"},
	{"purge", data_purge, "destroy an asset (or patients' records in it) at every holder"},
	{"purge-ask", data_purge_ask, "a patient asks the owner to purge its records (its consent key)"},
	{"purge-status", data_purge_status, "who has destroyed a purged asset's data, who is late"},
};

static void data_usage(FILE *out)
{
	fprintf(out, "usage: leben data <subcommand> [options]\n\n"
		     "Describe, check and find data assets. Raw data never leaves this machine.\n\n"
		     "subcommands:\n");
	for (size_t i = 0; i < sizeof data_subs / sizeof data_subs[0]; i++)
		fprintf(out, "  %-9s %s\n", data_subs[i].name, data_subs[i].summary);
	fprintf(out, "\n'leben data <subcommand> --help' explains one.\n");
}

int cmd_data(int argc, char **argv)
{
	if (argc < 2) {
		data_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		data_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof data_subs / sizeof data_subs[0]; i++)
		if (!strcmp(argv[1], data_subs[i].name))
			return data_subs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "leben data: '%s' is not a data subcommand.\n", argv[1]);
	data_usage(stderr);
	return 2;
}
