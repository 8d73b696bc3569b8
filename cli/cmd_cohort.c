/*
 * `leben cohort`: cohort studies with ethical review (leben/cohort.h; docs/apps.md section 3).
 * An ethics committee is registered (committee), a sponsor files the protocol (create), the
 * committee's members approve it (approve), the directory shows which assets match the
 * inclusion criteria (recruit), patients opt in and withdraw with their consent keys (optin,
 * withdraw), the sponsor opens each follow-up round on schedule and runs it as a study across
 * the owners' nodes (round), and status shows it all (also as FHIR ResearchStudy /
 * ResearchSubject).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/codec.h"
#include "leben/apps_fhir.h"
#include "leben/cohort.h"
#include "leben/crypto.h"
#include "leben/exchange.h"
#include "sectx.h"

#define CMD "cohort"

static const char cohort_help[] =
	"usage: leben cohort committee --from KEY --name NAME --members A1,A2,... --k K\n"
	"       leben cohort create    --from SPONSOR --name NAME --committee ID --protocol FILE.json\n"
	"       leben cohort approve   --from MEMBER --cohort ID [--protocol-hash HASH]\n"
	"       leben cohort recruit   --cohort ID\n"
	"       leben cohort optin     --from PATIENT_KEY --cohort ID (--opening CARD | --asset ID --patient C)\n"
	"       leben cohort withdraw  --from PATIENT_KEY --cohort ID (--opening CARD | --asset ID --patient C)\n"
	"       leben cohort round     --from SPONSOR --cohort ID [--round N]\n"
	"                              [--owners URL1,URL2,... --requests R1,R2,... [--algorithm NAME]\n"
	"                               [--compute-fee CSC] [--timeout-blocks N]]\n"
	"       leben cohort status    --cohort ID [--asset ID --patient C] [--fhir]\n"
	"       leben cohort committee-show --committee ID\n"
	"   (all: [--home DIR] [--node URL] [--json])\n"
	"\n"
	"A cohort study with ethical review, on the business chain. Nothing runs before the ethics\n"
	"committee approved the protocol: a committee is a set of member keys and a threshold k\n"
	"(k of the n members must approve). The sponsor files the protocol, a JSON file:\n"
	"\n"
	"  {\"title\": \"...\", \"criteria\": {\"q\": \"directory search text\", \"where\": [\"KEY=VALUE\"]},\n"
	"   \"algorithms\": [{\"algorithm\": \"stats\", \"params\": {\"columns\": [\"age\"]}}],\n"
	"   \"schedule\": {\"start_height\": H, \"interval_blocks\": B, \"rounds\": R}}\n"
	"\n"
	"Each member approves the protocol by its hash (what they read is what runs: the\n"
	"algorithms are pinned by hash and with their parameters). Once k members approved,\n"
	"patients opt in with the consent key their institution registered for them (the opening\n"
	"card of 'leben exchange patients'); 'recruit' lists the directory's assets that match the\n"
	"criteria, so that their institutions can invite their patients. Round N may be opened from\n"
	"height start_height + (N-1) * interval_blocks on; each round is a 'leben study run' across\n"
	"the owners' nodes (one approved request per owner, as for any study; made with the purpose\n"
	"'cohort ID ...', a request runs only as a round of that study), and every owner node\n"
	"uses only the patients that had opted in, and had not withdrawn, when the round was opened:\n"
	"a withdrawal is honoured from the next round on.\n"
	"\n"
	"  committee  register an ethics committee; prints its id\n"
	"  create     file the protocol under a committee; prints the cohort id and protocol hash\n"
	"  approve    a committee member approves the protocol (--protocol-hash: refuse unless the\n"
	"             filed protocol is the one you read)\n"
	"  recruit    the directory's assets matching the protocol's criteria\n"
	"  optin      a patient joins the study (needs the study approved and its consent key)\n"
	"  withdraw   a patient leaves the study (from the next round on; final)\n"
	"  round      open the next follow-up round (refused before its scheduled height); with\n"
	"             --owners and --requests also run it with the protocol's algorithm (the first\n"
	"             one, or --algorithm NAME) and print the study's result\n"
	"  status     the study: protocol, committee, approvals, rounds, patients (--fhir: as a\n"
	"             FHIR R4 ResearchStudy; with --asset and --patient, one patient's record, as\n"
	"             a ResearchSubject with --fhir)\n";

struct copts {
	const char *home, *node, *from, *name, *members, *k, *committee, *protocol, *cohort, *hash, *opening,
		*asset, *patient, *round, *owners, *requests, *algorithm, *fee, *tblocks;
	bool json, fhir, help;
	bool to_stderr; /* the tx's line goes to stderr (stdout is a study's result) */
};

static int need(const char *v, const char *what, const char *sub)
{
	if (v)
		return 0;
	fprintf(stderr, "leben cohort %s: %s is required (see 'leben cohort --help')\n", sub, what);
	return 2;
}

static int hexarg(const char *v, const char *what, uint8_t out[LB_HASH_LEN])
{
	if (v && !lb_hex_decode(out, LB_HASH_LEN, v))
		return 0;
	fprintf(stderr, "leben cohort: %s must be an id of 64 hex digits, not '%s'\n", what, v ? v : "");
	return 2;
}

/* Sign and send one cohort tx from o->from; prints the result; 0 ok. */
static int send(const struct copts *o, struct lb_cohort_tx *t, json_t *extra)
{
	struct lb_keypair kp;
	struct sectx tx = {0};
	struct lb_buf b;
	json_t *final = NULL;
	const char *url = cli_node_url(o->node, o->home);
	lb_buf_init(&b, LB_COHORT_PROTOCOL_MAX + 1024);
	int rc = lb_cohort_encode(t, &b);
	if (rc) {
		lb_buf_release(&b);
		json_decref(extra);
		return cli_failf(CMD, "the payload does not encode (%s)", lb_strerror(rc));
	}
	if (cli_load_key(o->home, o->from, &kp)) {
		lb_buf_release(&b);
		json_decref(extra);
		return 1;
	}
	rc = sectx_build(CMD, url, &kp, t->type, b.data, b.len, &tx);
	lb_keypair_wipe(&kp);
	lb_buf_release(&b);
	if (!rc)
		rc = sectx_send(CMD, url, &tx, 120.0, &final);
	if (!rc) {
		json_t *out = extra ? extra : json_object();
		json_object_set_new(out, "tx", json_string(tx.id));
		json_object_set_new(out, "height", json_integer((json_int_t)cli_tx_height(final)));
		if (o->to_stderr) {
			char *line = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(stderr, "%s\n", line ? line : "");
			free(line);
		} else if (o->json) {
			cli_print_json(out);
		} else {
			cli_print_human(out, 0);
		}
		json_decref(out);
	} else {
		json_decref(extra);
	}
	json_decref(final);
	sectx_release(&tx);
	return rc ? 1 : 0;
}

static int get_cohort(const struct copts *o, json_t **out)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/cohort/%s", o->cohort);
	return cli_api_get(CMD, cli_node_url(o->node, o->home), path, out);
}

static int c_committee(const struct copts *o)
{
	struct lb_cohort_tx t = {.type = LB_TX_COHORT_COMMITTEE};
	int rc;
	if ((rc = need(o->from, "--from KEY", "committee")) || (rc = need(o->name, "--name NAME", "committee")) ||
	    (rc = need(o->members, "--members A1,A2,... (addresses or key names)", "committee")) ||
	    (rc = need(o->k, "--k K (approvals needed)", "committee")))
		return rc;
	char *end;
	t.k = strtoull(o->k, &end, 10);
	if (!*o->k || *end || *o->k == '-')
		return cli_failf(CMD, "--k takes a number of members, not '%s'", o->k), 2;
	if (strlen(o->name) > LB_COHORT_NAME_MAX)
		return cli_failf(CMD, "--name is longer than %d bytes", LB_COHORT_NAME_MAX), 2;
	snprintf(t.name, sizeof t.name, "%s", o->name);
	char *list = lb_strdup(o->members);
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (t.n == LB_COHORT_MEMBERS_MAX) {
			lb_free(list);
			return cli_failf(CMD, "at most %d committee members", LB_COHORT_MEMBERS_MAX), 2;
		}
		if (cli_resolve_address(CMD, o->home, tok, t.members[t.n++])) {
			lb_free(list);
			return 1;
		}
	}
	lb_free(list);
	if (t.k == 0 || t.k > t.n)
		return cli_failf(CMD, "--k must be between 1 and the %llu members", (unsigned long long)t.n), 2;
	struct lb_keypair kp;
	uint8_t me[LB_ADDR_LEN], id[LB_HASH_LEN];
	char hx[2 * LB_HASH_LEN + 1];
	if (cli_load_key(o->home, o->from, &kp))
		return 1;
	lb_addr_from_pubkey(me, kp.pk);
	lb_keypair_wipe(&kp);
	lb_cohort_committee_id(id, me, t.name);
	lb_hex_encode(hx, id, LB_HASH_LEN);
	return send(o, &t, json_pack("{s:s,s:I,s:I}", "committee", hx, "k", (json_int_t)t.k, "n", (json_int_t)t.n));
}

static int c_create(const struct copts *o)
{
	struct lb_cohort_tx t = {.type = LB_TX_COHORT_PROTOCOL};
	uint8_t *d = NULL, me[LB_ADDR_LEN], id[LB_HASH_LEN], h[LB_HASH_LEN];
	size_t n;
	json_t *canon = NULL;
	struct lb_errmsg em;
	int rc;
	if ((rc = need(o->from, "--from SPONSOR", "create")) || (rc = need(o->name, "--name NAME", "create")) ||
	    (rc = need(o->committee, "--committee ID", "create")) ||
	    (rc = need(o->protocol, "--protocol FILE.json", "create")) ||
	    (rc = hexarg(o->committee, "--committee", t.id)))
		return rc;
	if (strlen(o->name) > LB_COHORT_NAME_MAX)
		return cli_failf(CMD, "--name is longer than %d bytes", LB_COHORT_NAME_MAX), 2;
	snprintf(t.name, sizeof t.name, "%s", o->name);
	if (cli_read_file(CMD, o->protocol, LB_COHORT_PROTOCOL_MAX, &d, &n))
		return 1;
	char *text = lb_malloc(n + 1);
	if (!text) {
		lb_free(d);
		return cli_failf(CMD, "out of memory");
	}
	memcpy(text, d, n);
	text[n] = 0;
	lb_free(d);
	lb_errclear(&em);
	if (lb_cohort_protocol_check(text, &canon, h, &em)) {
		lb_free(text);
		lb_errwrap(&em, "%s: ", o->protocol);
		return cli_fail(CMD, &em, NULL);
	}
	char *ctext = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(canon);
	lb_free(text);
	t.protocol = ctext;
	struct lb_keypair kp;
	if (!ctext || cli_load_key(o->home, o->from, &kp)) {
		free(ctext);
		return 1;
	}
	lb_addr_from_pubkey(me, kp.pk);
	lb_keypair_wipe(&kp);
	lb_cohort_id(id, me, t.name);
	char ih[2 * LB_HASH_LEN + 1], hh[2 * LB_HASH_LEN + 1];
	lb_hex_encode(ih, id, LB_HASH_LEN);
	lb_hex_encode(hh, h, LB_HASH_LEN);
	rc = send(o, &t, json_pack("{s:s,s:s,s:s}", "cohort", ih, "protocol_hash", hh, "status",
				   "awaiting approval"));
	free(ctext);
	return rc;
}

static int c_approve(const struct copts *o)
{
	struct lb_cohort_tx t = {.type = LB_TX_COHORT_APPROVE};
	json_t *st = NULL;
	int rc;
	if ((rc = need(o->from, "--from MEMBER", "approve")) || (rc = need(o->cohort, "--cohort ID", "approve")) ||
	    (rc = hexarg(o->cohort, "--cohort", t.id)))
		return rc;
	if (get_cohort(o, &st))
		return 1;
	const char *filed = json_string_value(json_object_get(st, "protocol_hash"));
	if (o->hash && (!filed || strcmp(o->hash, filed))) {
		cli_failf(CMD, "the protocol filed for this study has hash %s, not the %s you read: nothing approved",
			  filed ? filed : "?", o->hash);
		json_decref(st);
		return 1;
	}
	rc = !filed || lb_hex_decode(t.hash, LB_HASH_LEN, filed);
	json_t *extra = rc ? NULL : json_pack("{s:s,s:s}", "cohort", o->cohort, "approved", filed);
	json_decref(st);
	if (rc)
		return cli_failf(CMD, "the node shows no protocol hash for this study");
	return send(o, &t, extra);
}

static char *urlenc(const char *s)
{
	size_t n = strlen(s);
	char *o = lb_malloc(3 * n + 1), *p = o;
	if (!o)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = 0;
	return o;
}

static int c_recruit(const struct copts *o)
{
	json_t *st = NULL, *hits = NULL;
	int rc;
	uint8_t id[LB_HASH_LEN];
	if ((rc = need(o->cohort, "--cohort ID", "recruit")) || (rc = hexarg(o->cohort, "--cohort", id)))
		return rc;
	if (get_cohort(o, &st))
		return 1;
	const json_t *cr = json_object_get(json_object_get(st, "protocol"), "criteria");
	const char *q = json_string_value(json_object_get(cr, "q"));
	const json_t *where = json_object_get(cr, "where");
	char path[4096];
	size_t len = (size_t)snprintf(path, sizeof path, "/v1/directory/search?limit=100");
	char *e = q ? urlenc(q) : NULL;
	if (e)
		len += (size_t)snprintf(path + len, sizeof path - len, "&q=%s", e);
	lb_free(e);
	for (size_t i = 0; i < json_array_size(where) && len < sizeof path; i++) {
		const char *w = json_string_value(json_array_get(where, i));
		if (!w || !(e = urlenc(w)))
			continue;
		len += (size_t)snprintf(path + len, sizeof path - len, "&where=%s", e);
		lb_free(e);
	}
	if (len >= sizeof path) {
		json_decref(st);
		return cli_failf(CMD, "the protocol's criteria make too long a search");
	}
	if ((!q || !*q) && !json_array_size(where)) {
		json_decref(st);
		return cli_failf(CMD, "the protocol's criteria name no search (\"q\" or \"where\")");
	}
	if (cli_api_get(CMD, cli_node_url(o->node, o->home), path, &hits)) {
		json_decref(st);
		return 1;
	}
	json_t *list = json_is_array(hits) ? hits : json_object_get(hits, "hits");
	if (!list)
		list = json_object_get(hits, "results");
	json_t *out = json_pack("{s:s,s:O,s:O,s:O,s:o}", "cohort", o->cohort, "criteria", cr, "status",
				json_object_get(st, "status"), "opted_in", json_object_get(st, "opted_in"),
				"matching_assets", list ? json_incref(list) : json_array());
	if (o->json)
		cli_print_json(out);
	else
		cli_print_human(out, 0);
	json_decref(out);
	json_decref(hits);
	json_decref(st);
	return 0;
}

/* --opening CARD, or --asset ID --patient COMMITMENT */
static int patient_of(const struct copts *o, struct lb_cohort_tx *t, const char *sub)
{
	int rc;
	if (o->opening) {
		uint8_t *d;
		size_t n;
		if (cli_read_file(CMD, o->opening, 1u << 16, &d, &n))
			return 1;
		json_t *j = json_loadb((const char *)d, n, 0, NULL);
		lb_free(d);
		rc = !json_is_object(j) ||
		     lb_hex_decode(t->asset, LB_HASH_LEN, json_string_value(json_object_get(j, "asset"))) ||
		     lb_hex_decode(t->patient, LB_HASH_LEN, json_string_value(json_object_get(j, "patient")));
		json_decref(j);
		if (rc)
			return cli_failf(CMD, "%s is not an opening card {\"asset\", \"patient\", ...} (leben exchange "
					      "opening)", o->opening), 2;
		return 0;
	}
	if ((rc = need(o->asset, "--opening CARD, or --asset ID", sub)) ||
	    (rc = need(o->patient, "--patient COMMITMENT", sub)) || (rc = hexarg(o->asset, "--asset", t->asset)) ||
	    (rc = hexarg(o->patient, "--patient", t->patient)))
		return rc;
	return 0;
}

static int c_patient(const struct copts *o, bool in)
{
	const char *sub = in ? "optin" : "withdraw";
	struct lb_cohort_tx t = {.type = in ? LB_TX_COHORT_OPTIN : LB_TX_COHORT_WITHDRAW};
	int rc;
	if ((rc = need(o->from, "--from PATIENT_KEY (the consent key the institution registered)", sub)) ||
	    (rc = need(o->cohort, "--cohort ID", sub)) || (rc = hexarg(o->cohort, "--cohort", t.id)) ||
	    (rc = patient_of(o, &t, sub)))
		return rc;
	char ah[2 * LB_HASH_LEN + 1], ph[2 * LB_HASH_LEN + 1];
	lb_hex_encode(ah, t.asset, LB_HASH_LEN);
	lb_hex_encode(ph, t.patient, LB_HASH_LEN);
	return send(o, &t, json_pack("{s:s,s:s,s:s,s:s}", "cohort", o->cohort, "asset", ah, "patient", ph, "status",
				     in ? "in" : "withdrawn (from the next round on)"));
}

static int c_round(const struct copts *o)
{
	struct lb_cohort_tx t = {.type = LB_TX_COHORT_ROUND};
	json_t *st = NULL;
	int rc;
	if ((rc = need(o->from, "--from SPONSOR", "round")) || (rc = need(o->cohort, "--cohort ID", "round")) ||
	    (rc = hexarg(o->cohort, "--cohort", t.id)))
		return rc;
	if (!o->owners != !o->requests)
		return cli_failf(CMD, "--owners and --requests go together (one approved request per owner)"), 2;
	if (get_cohort(o, &st))
		return 1;
	if (o->round) {
		char *end;
		t.round = strtoull(o->round, &end, 10);
		if (!*o->round || *end || *o->round == '-' || t.round == 0) {
			json_decref(st);
			return cli_failf(CMD, "--round takes a round number from 1, not '%s'", o->round), 2;
		}
	} else {
		t.round = json_array_size(json_object_get(st, "rounds")) + 1;
	}
	/* the algorithm of the protocol that runs */
	const json_t *algos = json_object_get(json_object_get(st, "protocol"), "algorithms"), *pick = NULL;
	for (size_t i = 0; i < json_array_size(algos) && !pick; i++) {
		const json_t *a = json_array_get(algos, i);
		if (!o->algorithm || !strcmp(o->algorithm, json_string_value(json_object_get(a, "algorithm"))))
			pick = a;
	}
	if (o->owners && !pick) {
		json_decref(st);
		return cli_failf(CMD, "the protocol has no algorithm '%s'", o->algorithm ? o->algorithm : "?"), 2;
	}
	char rn[24];
	snprintf(rn, sizeof rn, "%llu", (unsigned long long)t.round);
	struct copts q = *o;
	q.to_stderr = o->owners != NULL; /* with a run, stdout is the study's result */
	rc = send(&q, &t, json_pack("{s:s,s:I}", "cohort", o->cohort, "round", (json_int_t)t.round));
	if (rc || !o->owners) {
		json_decref(st);
		return rc;
	}
	char *params = json_dumps(json_object_get(pick, "params"), JSON_COMPACT | JSON_SORT_KEYS);
	const char *algo = json_string_value(json_object_get(pick, "algorithm"));
	const char *argv[32];
	int argc = 0;
	argv[argc++] = "study";
	argv[argc++] = "run";
	argv[argc++] = "--owners", argv[argc++] = o->owners;
	argv[argc++] = "--requests", argv[argc++] = o->requests;
	argv[argc++] = "--key", argv[argc++] = o->from;
	argv[argc++] = "--algorithm", argv[argc++] = algo;
	argv[argc++] = "--params", argv[argc++] = params;
	argv[argc++] = "--cohort", argv[argc++] = o->cohort;
	argv[argc++] = "--cohort-round", argv[argc++] = rn;
	argv[argc++] = "--home", argv[argc++] = o->home;
	argv[argc++] = "--node", argv[argc++] = cli_node_url(o->node, o->home);
	if (o->fee)
		argv[argc++] = "--compute-fee", argv[argc++] = o->fee;
	if (o->tblocks)
		argv[argc++] = "--timeout-blocks", argv[argc++] = o->tblocks;
	if (o->json)
		argv[argc++] = "--json";
	argv[argc] = NULL;
	rc = cmd_study(argc, (char **)argv);
	free(params);
	json_decref(st);
	return rc;
}

static int c_status(const struct copts *o)
{
	json_t *st = NULL;
	int rc;
	uint8_t id[LB_HASH_LEN], x[LB_HASH_LEN];
	if ((rc = need(o->cohort, "--cohort ID", "status")) || (rc = hexarg(o->cohort, "--cohort", id)))
		return rc;
	if (o->asset || o->patient) {
		char path[300];
		if ((rc = need(o->asset, "--asset ID (with --patient)", "status")) ||
		    (rc = need(o->patient, "--patient COMMITMENT (with --asset)", "status")) ||
		    (rc = hexarg(o->asset, "--asset", x)) || (rc = hexarg(o->patient, "--patient", x)))
			return rc;
		snprintf(path, sizeof path, "/v1/cohort/%s/patients/%s/%s", o->cohort, o->asset, o->patient);
		if (cli_api_get(CMD, cli_node_url(o->node, o->home), path, &st))
			return 1;
		if (o->fhir) {
			json_t *r = lb_cohort_fhir_subject(o->patient, o->cohort, NULL, o->patient, st);
			json_decref(st);
			st = r;
		}
	} else {
		if (get_cohort(o, &st))
			return 1;
		if (o->fhir) {
			json_t *r = lb_cohort_fhir_study(st);
			json_decref(st);
			st = r;
		}
	}
	if (o->json || o->fhir)
		cli_print_json(st);
	else
		cli_print_human(st, 0);
	json_decref(st);
	return 0;
}

static int c_committee_show(const struct copts *o)
{
	json_t *st = NULL;
	uint8_t id[LB_HASH_LEN];
	char path[128];
	int rc;
	if ((rc = need(o->committee, "--committee ID", "committee-show")) ||
	    (rc = hexarg(o->committee, "--committee", id)))
		return rc;
	snprintf(path, sizeof path, "/v1/cohort/committees/%s", o->committee);
	if (cli_api_get(CMD, cli_node_url(o->node, o->home), path, &st))
		return 1;
	if (o->json)
		cli_print_json(st);
	else
		cli_print_human(st, 0);
	json_decref(st);
	return 0;
}

int cmd_cohort(int argc, char **argv)
{
	struct copts o = {0};
	const char *pos[2];
	int npos = 0;
	const struct copt opts[] = {
		{"--home", &o.home, NULL},        {"--node", &o.node, NULL},         {"--from", &o.from, NULL},
		{"--name", &o.name, NULL},        {"--members", &o.members, NULL},   {"--k", &o.k, NULL},
		{"--committee", &o.committee, NULL}, {"--protocol", &o.protocol, NULL}, {"--cohort", &o.cohort, NULL},
		{"--protocol-hash", &o.hash, NULL}, {"--opening", &o.opening, NULL}, {"--asset", &o.asset, NULL},
		{"--patient", &o.patient, NULL},  {"--round", &o.round, NULL},     {"--owners", &o.owners, NULL},
		{"--requests", &o.requests, NULL}, {"--algorithm", &o.algorithm, NULL},
		{"--compute-fee", &o.fee, NULL},  {"--timeout-blocks", &o.tblocks, NULL},
		{"--json", NULL, &o.json},        {"--fhir", NULL, &o.fhir},         {"--help", NULL, &o.help},
		{NULL, NULL, NULL}};
	int rc = copt_parse(CMD, argc, argv, 1, opts, pos, 1, &npos);
	if (rc)
		return rc;
	if (o.help || (npos == 1 && !strcmp(pos[0], "help"))) {
		fputs(cohort_help, stdout);
		return 0;
	}
	if (npos != 1) {
		fputs(cohort_help, stderr);
		return 2;
	}
	o.home = cli_home(o.home);
	if (lb_crypto_init())
		return cli_failf(CMD, "libsodium failed to initialise");
	static const struct {
		const char *name;
		int (*fn)(const struct copts *);
	} subs[] = {{"committee", c_committee}, {"create", c_create},   {"approve", c_approve},
		    {"recruit", c_recruit},     {"round", c_round},     {"status", c_status},
		    {"committee-show", c_committee_show}};
	for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
		if (!strcmp(pos[0], subs[i].name))
			return subs[i].fn(&o);
	if (!strcmp(pos[0], "optin"))
		return c_patient(&o, true);
	if (!strcmp(pos[0], "withdraw"))
		return c_patient(&o, false);
	cli_failf(CMD, "unknown subcommand '%s' (committee, create, approve, recruit, optin, withdraw, round, "
		       "status, committee-show; see 'leben cohort --help')", pos[0]);
	return 2;
}
