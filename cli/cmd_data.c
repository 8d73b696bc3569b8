/*
 * `leben data`: the data-asset tools of a node, usable offline over local files.
 *   inspect FILE   what the extractors read from a file (DICOM, CSV, FHIR JSON, text, images)
 * Each subcommand is one row of the table below; each prints --json for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
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
	"usage: leben data inspect FILE [--type dicom|csv|fhir|text|image] [--json]\n"
	"                           [--skip N] [--header|--no-header] [--delimiter C]\n"
	"\n"
	"Show what LEBEN reads from a data file, without registering or sending anything.\n"
	"  DICOM (.dcm or the DICM marker): every element with its tag, value representation\n"
	"        (VR), name and value, nested sequences included; pixel data by size and hash.\n"
	"  CSV/TSV tables: per column the type, missing values, distinct values, min/max/mean/\n"
	"        standard deviation, quartiles and a histogram.\n"
	"  FHIR R4 JSON (Bundle or one resource): resources by type, codes used, dates, patients.\n"
	"  Text notes: size, language, frequent terms.  PNG/JPEG images: size and channels.\n"
	"The type is found from the file's content and name; --type overrides it.\n"
	"\n"
	"  --json          machine-readable output (one JSON document on stdout)\n"
	"  --skip N        CSV: ignore the first N lines\n"
	"  --header, --no-header   CSV: the first line is (not) column names (default: guess)\n"
	"  --delimiter C   CSV: field separator (default: guess among , ; tab |)\n"
	"\n"
	"Exit status: 0 read fine, 1 the file is damaged or unreadable (the message says where),\n"
	"2 wrong usage.\n";

/* Guess the kind of file from its first bytes and its name. */
static const char *guess_type(const char *path, const uint8_t *d, size_t n)
{
	const char *ext = strrchr(path, '.');
	if ((n >= 132 && !memcmp(d + 128, "DICM", 4)) || (ext && !strcasecmp(ext, ".dcm")))
		return "dicom";
	if ((n >= 8 && !memcmp(d, "\x89PNG", 4)) || (n >= 3 && d[0] == 0xFF && d[1] == 0xD8))
		return "image";
	size_t i = 0;
	while (i < n && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
		i++;
	if (i < n && d[i] == '{')
		return "fhir";
	if (ext && (!strcasecmp(ext, ".csv") || !strcasecmp(ext, ".tsv")))
		return "csv";
	return "text";
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
	if (!type)
		type = guess_type(path, data, len);
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
				printf("%s: FHIR %s%s, %zu resources, %zu patients, dates %s .. %s\n",
				       path, s.bundle_type[0] ? "Bundle " : "resource", s.bundle_type,
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
	} else {
		lb_free(data);
		fprintf(stderr, "leben data inspect: unknown type '%s' (dicom, csv, fhir, text, image)\n",
			type);
		return 2;
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
	"  near text   notes that say almost the same thing (MinHash similarity >= S after\n"
	"              ignoring case, punctuation, numbers and unit spellings; default 0.8)\n"
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
	struct lb_dedup_options o = {0.8, LB_PDQ_MATCH_DISTANCE, 0};
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
				printf("  %s ~ %s  (%s %.3g)\n", json_string_value(json_object_get(f, "a")),
				       json_string_value(json_object_get(f, "b")),
				       t ? "distance" : "similarity", json_number_value(m));
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

static int data_audit(int argc, char **argv)
{
	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		fputs(audit_help, stdout);
		return 0;
	}
	const char *path = NULL, *report = NULL, *prev = NULL, *rules_path = NULL;
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
	struct lb_csv_profile p, pp;
	json_t *rules_json = NULL;
	struct lb_audit_rule *rules = NULL;
	int status = 1;
	if (read_profile(path, &co, &p, &em))
		return fail("audit", &em, NULL);
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
		status = print_json_obj(j);
	} else {
		printf("%s: score %.2f / 100 (completeness %.1f%%, uniqueness %.1f%%, validity "
		       "%.1f%%, outliers %.1f%%, stability %.1f%%)\n",
		       path, a.score / 100.0, a.s_completeness * 100, a.s_uniqueness * 100,
		       a.s_validity * 100, a.s_outliers * 100, a.s_drift * 100);
		printf("  %zu rows, %zu duplicate rows\n", a.rows, a.duplicate_rows);
		for (size_t j = 0; j < a.cols; j++)
			if (a.col[j].completeness < 1 || a.col[j].outliers || a.col[j].violations ||
			    a.col[j].drift_ks > 0.2)
				printf("  %-24s missing %.1f%%, outliers %zu, rule violations %zu%s\n",
				       p.cols[j].name, (1 - a.col[j].completeness) * 100,
				       a.col[j].outliers, a.col[j].violations,
				       a.col[j].drift_ks > 0.2 ? ", drifted" : "");
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

static int data_search(int argc, char **argv)
{
	if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		fputs(search_help, stdout);
		return 0;
	}
	const char *query = NULL, *cpath = NULL, *add = NULL, *snomed_c = NULL, *snomed_d = NULL,
		   *icd = NULL;
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
	struct lb_catalog *cat;
	if (lb_catalog_open(cpath, &cat, &em))
		return fail("search", &em, NULL);
	int rc = LB_OK;
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

struct data_sub {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct data_sub data_subs[] = {
	{"inspect", data_inspect, "show what LEBEN reads from a file (DICOM, CSV, FHIR, text, image)"},
	{"dedup", data_dedup, "find exact and near-duplicate files in a directory"},
	{"audit", data_audit, "score the quality of a table and write an HTML report"},
	{"search", data_search, "search the catalogue of data assets (and fill it)"},
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
