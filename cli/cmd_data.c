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

struct data_sub {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct data_sub data_subs[] = {
	{"inspect", data_inspect, "show what LEBEN reads from a file (DICOM, CSV, FHIR, text, image)"},
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
