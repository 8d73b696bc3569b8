/*
 * `leben fhir import FILE`: stream an NDJSON file of FHIR R4 resources into a node's FHIR
 * store (docs/fhir.md, "NDJSON import"): the file is read a chunk of lines at a time and
 * each chunk posted to POST /fhir/$import signed with a member key (the node key by
 * default), so memory stays flat whatever the file's size; progress on stderr, and a summary
 * (imported, refused with the line and element of each refusal, time and rate).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/api.h"
#include "leben/base.h"

#define CMD "fhir"
#define CHUNK_LINES 5000
#define CHUNK_BYTES (6u << 20) /* under the API's 8 MiB body limit */
#define SHOW_ERRORS 20

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben fhir import FILE [--key NAME] [--chunk N] [--json]\n"
		"\n"
		"Import an NDJSON file (one FHIR R4 resource a line) into the node's FHIR store,\n"
		"a chunk of lines at a time: valid resources are stored (create or replace by\n"
		"type and id; a resource without an id gets one), refused lines are reported with\n"
		"their line number and the element at fault. Progress is shown on stderr.\n"
		"\n"
		"options:\n"
		"  --key NAME   key in <home>/keys that signs the requests (default: node); it must\n"
		"               be the node key or listed in <home>/fhir/members\n"
		"  --chunk N    lines per request (default %d)\n"
		"  --home DIR   node home (default $LEBEN_HOME, else ~/.leben)\n"
		"  --node URL   node API (default $LEBEN_NODE, else the home's config)\n"
		"  --json       print the summary as JSON\n",
		CHUNK_LINES);
}

struct totals {
	size_t lines, imported, refused;
	json_t *errors;
};

static int post_chunk(const char *url, const struct lb_keypair *kp, const char *buf, size_t len,
		      size_t first_line, struct totals *t)
{
	char path[80];
	snprintf(path, sizeof path, "/fhir/$import?line=%zu", first_line);
	json_t *r = NULL;
	struct lb_errmsg em;
	lb_errclear(&em);
	if (lb_client_fhir_post(url, path, "application/fhir+ndjson", (const uint8_t *)buf, len, kp,
				&r, &em)) {
		char hint[160];
		if (first_line == 1)
			return cli_fail(CMD, &em, "nothing of the file was stored");
		snprintf(hint, sizeof hint,
			 "the lines before line %zu are stored; import the rest with "
			 "tail -n +%zu FILE > REST and leben fhir import REST", first_line, first_line);
		return cli_fail(CMD, &em, hint);
	}
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(r, "parameter"), i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		json_int_t v = json_integer_value(json_object_get(p, "valueInteger"));
		if (!name)
			continue;
		if (!strcmp(name, "imported"))
			t->imported += (size_t)v;
		else if (!strcmp(name, "refused"))
			t->refused += (size_t)v;
		else if (!strcmp(name, "error") && json_array_size(t->errors) < SHOW_ERRORS)
			json_array_append(t->errors, json_object_get(p, "valueString"));
	}
	json_decref(r);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int do_import(const char *url, const struct lb_keypair *kp, const char *file,
		     size_t chunk, bool json)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return cli_failf(CMD, "cannot open %s: %s", file, strerror(errno));
	struct stat st;
	double total = fstat(fileno(f), &st) == 0 && st.st_size > 0 ? (double)st.st_size : 0;
	struct totals t = {.errors = json_array()};
	char *line = NULL, *buf = lb_malloc(CHUNK_BYTES);
	size_t cap = 0, used = 0, inchunk = 0, first = 1, bytes = 0;
	ssize_t n;
	int rc = buf && t.errors ? 0 : cli_failf(CMD, "out of memory");
	double t0 = now_s(), shown = 0;
	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		t.lines++;
		bytes += (size_t)n;
		if ((size_t)n >= CHUNK_BYTES) {
			rc = cli_failf(CMD, "%s: line %zu is %zd bytes, over the %u MiB a resource may "
				       "have", file, t.lines, n, CHUNK_BYTES >> 20);
			break;
		}
		if (used + (size_t)n > CHUNK_BYTES) {
			rc = post_chunk(url, kp, buf, used, first, &t);
			first = t.lines;
			used = inchunk = 0;
		}
		memcpy(buf + used, line, (size_t)n);
		used += (size_t)n;
		if (++inchunk == chunk) {
			rc = post_chunk(url, kp, buf, used, first, &t);
			first = t.lines + 1;
			used = inchunk = 0;
		}
		double el = now_s() - t0;
		if (!json && el - shown >= 0.5) {
			shown = el;
			fprintf(stderr, "\r%zu lines, %zu imported, %zu refused (%.0f%%, %.0f/s)   ",
				t.lines, t.imported, t.refused, total ? 100.0 * bytes / total : 0.0,
				t.lines / (el > 0 ? el : 1));
		}
	}
	if (!rc && used)
		rc = post_chunk(url, kp, buf, used, first, &t);
	if (!rc && ferror(f))
		rc = cli_failf(CMD, "reading %s: %s", file, strerror(errno));
	fclose(f);
	free(line);
	lb_free(buf);
	double el = now_s() - t0;
	if (!json && shown > 0)
		fputc('\n', stderr);
	if (!rc) {
		json_t *s = json_pack("{s:s,s:I,s:I,s:I,s:f,s:O}", "file", file, "lines",
				      (json_int_t)t.lines, "imported", (json_int_t)t.imported,
				      "refused", (json_int_t)t.refused, "seconds", el, "errors",
				      t.errors);
		if (json) {
			cli_print_json(s);
		} else {
			printf("%s: %zu lines, %zu resources imported, %zu refused in %.1f s (%.0f "
			       "resources/s)\n", file, t.lines, t.imported, t.refused, el,
			       t.imported / (el > 0 ? el : 1));
			size_t i;
			json_t *e;
			json_array_foreach(t.errors, i, e)
				printf("  refused: %s\n", json_string_value(e));
			if (t.refused > json_array_size(t.errors))
				printf("  ... and %zu more refused lines\n",
				       t.refused - json_array_size(t.errors));
		}
		json_decref(s);
		if (t.refused)
			rc = 1;
	}
	json_decref(t.errors);
	return rc;
}

int cmd_fhir(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *key = NULL, *chunk_s = NULL;
	bool json = false, help = false;
	const struct copt opts[] = {
		{"--home", &home, NULL}, {"--node", &node, NULL},   {"--key", &key, NULL},
		{"--chunk", &chunk_s, NULL}, {"--json", NULL, &json}, {"--help", NULL, &help},
		{"-h", NULL, &help},     {NULL, NULL, NULL},
	};
	const char *pos[3];
	int npos, rc;
	if ((rc = cli_take_tls_options(&argc, argv)) ||
	    (rc = copt_parse(CMD, argc, argv, 1, opts, pos, 2, &npos)))
		return rc;
	if (help) {
		usage(stdout);
		return 0;
	}
	if (npos != 2 || strcmp(pos[0], "import")) {
		usage(stderr);
		return 2;
	}
	char *end = NULL;
	unsigned long chunk = chunk_s ? strtoul(chunk_s, &end, 10) : CHUNK_LINES;
	if (chunk_s && (!*chunk_s || *end || chunk < 1 || chunk > 100000))
		return cli_failf(CMD, "--chunk %s: a whole number of lines from 1 to 100000", chunk_s);
	if (lb_crypto_init())
		return cli_failf(CMD, "initialisation failed");
	home = cli_home(home);
	const char *url = cli_node_url(node, home);
	cli_tls_defaults(url, home);
	struct lb_keypair kp;
	if (cli_load_key(home, key ? key : "node", &kp))
		return 1;
	rc = do_import(url, &kp, pos[1], chunk, json);
	lb_keypair_wipe(&kp);
	return rc;
}
