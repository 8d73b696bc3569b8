/* `leben referral`: application 1, smart diagnosis and referral (docs/apps.md §1). Each step
 * is a business-chain tx (who, when, hashes) and FHIR resources written to the acting
 * institution's own node (ServiceRequest, Task, Encounter, Observation). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/api.h"
#include "leben/app_referral.h"
#include "leben/base.h"
#include "leben/market.h"
#include "sectx.h"

#define CMD "referral"

static const char referral_help[] =
	"usage: leben referral specialist SPECIALTY --from KEY\n"
	"       leben referral create --from KEY --session HEX --to ADDRESS|KEY --specialty S\n"
	"                             --patient ID [--candidate NAME] [--provider ADDRESS|KEY]\n"
	"                             [--fee ASC [--settle [--settle-fee CSC]]] [--reason TEXT]\n"
	"       leben referral accept REFERRAL --from KEY\n"
	"       leben referral consult REFERRAL --from KEY [--start TIME] [--end TIME]\n"
	"       leben referral report REFERRAL --from KEY --outcome NAME --conclusion TEXT\n"
	"       leben referral status REFERRAL\n"
	"       leben referral list [--institution ADDRESS|KEY] [--offset N] [--limit N]\n"
	"\n"
	"A general practice runs the screening contract with 'leben contract run FILE --anchor\n"
	"--key KEY'; when the session committed a referral (a candidate named refer..., e.g.\n"
	"refer_fetal_cardiology), 'create' refers the patient to a specialist institution and\n"
	"prints the referral id. The specialist institution declares its specialty once\n"
	"('specialist'), then 'accept's the referral, holds the telemedicine consultation\n"
	"('consult': an Encounter of class virtual) and 'report's back (an Observation with the\n"
	"conclusion; the Task is completed). Each step is recorded on the business chain with\n"
	"its sender, block time and the hash of its FHIR resource; the resources themselves are\n"
	"written to the acting institution's node (/fhir, signed with --fhir-key, default the\n"
	"node key), never to the chain. The patient is named on the chain only by a salted hash.\n"
	"\n"
	"  --session HEX    the anchored screening session ('contract run --anchor' prints it)\n"
	"  --candidate NAME the committed referral candidate (default: the session's first\n"
	"                   committed candidate whose name begins with 'refer')\n"
	"  --patient ID     the Patient resource's id on this node's FHIR endpoint\n"
	"  --provider A     the knowledge provider hospital (default: the specialist)\n"
	"  --fee ASC        the value of the diagnosis, paid from the practice's store wallet\n"
	"                   and split by the market's diagnosis table (genesis defaults):\n"
	"                   developer team (the contract's author) 55 %, provider hospital\n"
	"                   20 %, practice 10 %, platform pool 15 % (default 0: nothing paid)\n"
	"  --settle         pay the fee in ASC on the settlement chain instead (market.pay with\n"
	"                   the split table the credit partners vote on), cited by the referral;\n"
	"                   --settle-fee is that tx's CSC fee (default: the node's minimum)\n"
	"  --outcome NAME   e.g. confirmed, not-confirmed, follow-up\n"
	"  --start/--end    the consultation's times (ISO 8601; default: now)\n"
	"Options: --home DIR, --node URL, --fhir-key NAME, --no-fhir, --json.\n";

struct ropts {
	const char *home, *node, *from, *session, *to, *specialty, *patient, *candidate,
		*provider, *fee, *reason, *start, *end, *outcome, *conclusion, *institution,
		*offset, *limit, *fhir_key, *settle_fee;
	bool json, help, no_fhir, settle;
	const char *pos[3];
	int npos;
	const char *url;
};

static int hex32(const char *what, const char *s, uint8_t out[LB_HASH_LEN])
{
	if (!s || strlen(s) != 2 * LB_HASH_LEN || lb_hex_decode(out, LB_HASH_LEN, s))
		return cli_failf(CMD, "%s '%s' is not 64 hex digits", what, s ? s : "");
	return 0;
}

/* The hash a step records of its FHIR resource: BLAKE2b-256 under "LEBEN-referral-fhir-v1"
 * of the resource's compact JSON with sorted keys, exactly as sent. */
static char *resource_text(json_t *r, uint8_t digest[LB_HASH_LEN])
{
	char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	if (s)
		lb_hash_domain(digest, "LEBEN-referral-fhir-v1", s, strlen(s));
	return s;
}

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* PUT the resources to this institution's node in one transaction Bundle. */
static int fhir_put(struct ropts *o, json_t *const *res, size_t n)
{
	if (o->no_fhir)
		return 0;
	json_t *entries = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *type = json_string_value(json_object_get(res[i], "resourceType"));
		const char *id = json_string_value(json_object_get(res[i], "id"));
		char url[160];
		snprintf(url, sizeof url, "%s/%s", type, id);
		json_array_append_new(entries,
				      json_pack("{s:O,s:{s:s,s:s}}", "resource", res[i], "request",
						"method", "PUT", "url", url));
	}
	json_t *bundle = json_pack("{s:s,s:s,s:o}", "resourceType", "Bundle", "type",
				   "transaction", "entry", entries);
	char *body = json_dumps(bundle, JSON_COMPACT);
	json_decref(bundle);
	struct lb_keypair kp;
	if (!body || cli_load_key(o->home, o->fhir_key ? o->fhir_key : "node", &kp)) {
		free(body);
		return 1;
	}
	json_t *out = NULL;
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_client_fhir_post(o->url, "/fhir", "application/fhir+json",
				     (const uint8_t *)body, strlen(body), &kp, &out, &em);
	lb_keypair_wipe(&kp);
	free(body);
	json_decref(out);
	if (rc)
		return cli_fail(CMD, &em,
				"the step is recorded on the chain; write the FHIR resources again "
				"with 'leben fhir import' or the node's /fhir endpoint");
	return 0;
}

static int send_tx(struct ropts *o, const struct lb_ref_tx *p, char idhex[2 * LB_HASH_LEN + 1])
{
	struct lb_buf b;
	struct lb_errmsg em;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (lb_ref_tx_encode(&b, p, &em)) {
		lb_buf_release(&b);
		return cli_fail(CMD, &em, NULL);
	}
	int rc = sectx_sign_send(CMD, o->url, o->home, o->from, p->type, b.data, b.len, idhex,
				 NULL);
	lb_buf_release(&b);
	return rc;
}

static void say(struct ropts *o, json_t *j, const char *text)
{
	if (o->json)
		cli_print_json(j);
	else
		printf("%s\n", text);
	json_decref(j);
}

/* The FHIR id of a referral's resources: "ref-" and the session's first 16 hex digits (one
 * referral per session). */
static void fhir_id(char out[24], const char *session_hex)
{
	snprintf(out, 24, "ref-%.16s", session_hex);
}

static json_t *task_res(const char *fid, const char *refhex, const char *status)
{
	json_t *t = json_pack("{s:s,s:s,s:s,s:s,s:s}", "resourceType", "Task", "id", fid, "status",
			      status, "intent", "order", "description",
			      "Referral after a positive screening session");
	if (refhex)
		json_object_set_new(t, "identifier",
				    json_pack("[{s:s,s:s}]", "system", "urn:leben:referral",
					      "value", refhex));
	return t;
}

static int do_specialist(struct ropts *o)
{
	struct lb_ref_tx p = {.type = LB_TX_REF_SPECIALIST};
	char id[2 * LB_HASH_LEN + 1];
	if (o->npos < 2)
		return cli_failf(CMD, "specialist needs SPECIALTY (e.g. fetal-cardiology)");
	snprintf(p.specialty, sizeof p.specialty, "%s", o->pos[1]);
	if (strlen(o->pos[1]) >= sizeof p.specialty)
		return cli_failf(CMD, "specialty '%.80s' is longer than %d characters", o->pos[1],
				 LB_REF_NAME_MAX);
	if (send_tx(o, &p, id))
		return 1;
	char msg[256];
	snprintf(msg, sizeof msg, "declared a specialist institution for %s (tx %s)", p.specialty,
		 id);
	say(o, json_pack("{s:s,s:s}", "specialty", p.specialty, "tx", id), msg);
	return 0;
}

/* The first committed candidate beginning with "refer" of anchored session sid. */
static int find_candidate(struct ropts *o, const char *sid, char *out, size_t outsz)
{
	char path[128];
	json_t *s = NULL, *ev;
	size_t i, k;
	snprintf(path, sizeof path, "/v1/sessions/%s", sid);
	if (cli_api_get(CMD, o->url, path, &s))
		return 1;
	json_array_foreach(json_object_get(s, "events"), i, ev) {
		json_t *c;
		json_array_foreach(json_object_get(ev, "candidates"), k, c) {
			const char *name = json_string_value(c);
			if (name && !strncmp(name, "refer", 5)) {
				snprintf(out, outsz, "%s", name);
				json_decref(s);
				return 0;
			}
		}
	}
	json_decref(s);
	return cli_failf(CMD,
			 "session %s committed no referral candidate (a name beginning with "
			 "'refer'): the screening was not positive, there is nothing to refer",
			 sid);
}

/* --settle: pay the fee with market.pay on the settlement chain to the diagnosis's parties
 * (the session's contract's author, the provider hospital, the practice as executor) and put
 * the payment's bytes and proof into p (lb_malloc'd; the caller frees them). */
static int settle(struct ropts *o, struct lb_ref_tx *p, const char *sid)
{
	char path[160], payid[2 * LB_HASH_LEN + 1];
	json_t *s = NULL, *k = NULL;
	uint8_t author[LB_ADDR_LEN], me[LB_ADDR_LEN];
	struct lb_errmsg em;
	int rc = 1;
	lb_errclear(&em);
	snprintf(path, sizeof path, "/v1/sessions/%s", sid);
	if (cli_resolve_address(CMD, o->home, o->from, me) || cli_api_get(CMD, o->url, path, &s))
		return 1;
	snprintf(path, sizeof path, "/v1/contracts/%s",
		 json_string_value(json_object_get(s, "contract")) ? json_string_value(json_object_get(s, "contract")) : "");
	if (cli_api_get(CMD, o->url, path, &k))
		goto out;
	if (lb_addr_decode(author, json_string_value(json_object_get(k, "author")), &em)) {
		rc = cli_fail(CMD, &em, NULL);
		goto out;
	}
	struct lb_mkt_parties q;
	lb_ref_diagnosis_parties(&q, p->provider, author, me);
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (lb_mkt_pay_encode(&b, LB_MKT_USE_DIAGNOSIS, p->fee, &q)) {
		lb_buf_release(&b);
		rc = cli_failf(CMD, "encoding the payment failed");
		goto out;
	}
	uint8_t *tx, *proof;
	size_t tl, pl;
	rc = sectx_settle_cited(CMD, o->url, o->home, o->from, o->settle_fee, LB_TX_MKT_PAY,
				"market.pay", b.data, b.len, payid, &tx, &tl, &proof, &pl);
	lb_buf_release(&b);
	if (!rc) {
		p->pay_tx = tx;
		p->pay_tx_len = tl;
		p->pay_proof = proof;
		p->pay_proof_len = pl;
		if (!o->json)
			printf("paid the diagnosis in ASC on the settlement chain (market.pay %s)\n",
			       payid);
	}
out:
	json_decref(s);
	json_decref(k);
	return rc;
}

static int do_create(struct ropts *o)
{
	struct lb_ref_tx p = {.type = LB_TX_REF_CREATE};
	char id[2 * LB_HASH_LEN + 1], fid[24], when[32], salt_hex[2 * 32 + 1];
	uint8_t salt[32];
	if (!o->session || !o->to || !o->specialty || !o->patient)
		return cli_failf(CMD, "create needs --session HEX, --to ADDRESS|KEY, --specialty S "
				      "and --patient ID");
	if (hex32("--session", o->session, p.session) ||
	    cli_resolve_address(CMD, o->home, o->to, p.target) ||
	    cli_resolve_address(CMD, o->home, o->provider ? o->provider : o->to, p.provider))
		return 1;
	if (strlen(o->specialty) >= sizeof p.specialty)
		return cli_failf(CMD, "--specialty is longer than %d characters", LB_REF_NAME_MAX);
	snprintf(p.specialty, sizeof p.specialty, "%s", o->specialty);
	if (o->fee && cli_parse_amount(o->fee, &p.fee))
		return cli_failf(CMD, "--fee %s is not an amount of ASC (e.g. 20 or 0.5)", o->fee);
	if (strlen(o->patient) == 0 || strlen(o->patient) > 64)
		return cli_failf(CMD, "--patient must be a FHIR id (1 to 64 characters)");
	if (o->candidate) {
		if (strlen(o->candidate) >= sizeof p.candidate)
			return cli_failf(CMD, "--candidate is too long");
		snprintf(p.candidate, sizeof p.candidate, "%s", o->candidate);
	} else if (find_candidate(o, o->session, p.candidate, sizeof p.candidate)) {
		return 1;
	}
	/* the patient on the chain: H(salt || patient id), the salt kept by the practice */
	randombytes_buf(salt, sizeof salt);
	lb_hex_encode(salt_hex, salt, sizeof salt);
	struct lb_hasher h;
	lb_hasher_init(&h, "LEBEN-referral-patient-v1");
	lb_hasher_update(&h, salt, sizeof salt);
	lb_hasher_update(&h, o->patient, strlen(o->patient));
	lb_hasher_final(&h, p.patient);
	fhir_id(fid, o->session);
	now_iso(when);
	char subject[96], target[LB_ADDR_TEXT_LEN + 1];
	snprintf(subject, sizeof subject, "Patient/%s", o->patient);
	lb_addr_encode(target, p.target);
	json_t *sr = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:s,s:[{s:s}],s:[{s:{s:s,s:s}}],s:[{s:s}]}",
		"resourceType", "ServiceRequest", "id", fid, "status", "active", "intent", "order",
		"priority", "urgent", "subject", "reference", subject, "authoredOn", when,
		"category", "text", "Referral", "performer", "identifier", "system",
		"urn:leben:account", "value", target, "reasonCode", "text",
		o->reason ? o->reason : p.candidate);
	json_object_set_new(sr, "code", json_pack("{s:s}", "text", p.specialty));
	json_object_set_new(sr, "identifier",
			    json_pack("[{s:s,s:s}]", "system", "urn:leben:session", "value",
				      o->session));
	char *text = resource_text(sr, p.digest);
	free(text);
	if (o->settle && !p.fee) {
		json_decref(sr);
		return cli_failf(CMD, "--settle pays the fee: give --fee ASC");
	}
	int sent = o->settle ? settle(o, &p, o->session) : 0;
	if (!sent)
		sent = send_tx(o, &p, id);
	lb_free((void *)p.pay_tx);
	lb_free((void *)p.pay_proof);
	if (sent) {
		json_decref(sr);
		return 1;
	}
	json_t *res[2] = {sr, task_res(fid, id, "requested")};
	int rc = fhir_put(o, res, 2);
	json_decref(res[0]);
	json_decref(res[1]);
	if (rc)
		return 1;
	char msg[1024], dh[2 * LB_HASH_LEN + 1];
	lb_hex_encode(dh, p.digest, LB_HASH_LEN);
	snprintf(msg, sizeof msg,
		 "referral %s\n  to %s for %s after session %.16s... (%s)\n  FHIR ServiceRequest/%s "
		 "and Task/%s (status requested)\n  patient salt %s (keep it: it opens the "
		 "patient hash on the chain)",
		 id, target, p.specialty, o->session, p.candidate, fid, fid, salt_hex);
	say(o,
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "referral", id, "service_request", fid,
		      "task", fid, "request_hash", dh, "patient_salt", salt_hex, "candidate",
		      p.candidate, "fee", (json_int_t)p.fee),
	    msg);
	return 0;
}

/* The referral's record from the node (for its session, hence the FHIR id). */
static int fetch(struct ropts *o, const char *refhex, json_t **out)
{
	char path[128];
	uint8_t tmp[LB_HASH_LEN];
	if (hex32("REFERRAL", refhex, tmp))
		return 1;
	snprintf(path, sizeof path, "/v1/referrals/%s", refhex);
	return cli_api_get(CMD, o->url, path, out);
}

static int do_step(struct ropts *o, uint32_t type)
{
	struct lb_ref_tx p = {.type = type};
	char id[2 * LB_HASH_LEN + 1], fid[24], now[32];
	if (o->npos < 2)
		return cli_failf(CMD, "%s needs REFERRAL (the id 'referral create' printed)",
				 o->pos[0]);
	if (hex32("REFERRAL", o->pos[1], p.referral))
		return 1;
	if (type == LB_TX_REF_REPORT) {
		if (!o->outcome || !o->conclusion)
			return cli_failf(CMD, "report needs --outcome NAME and --conclusion TEXT");
		if (strlen(o->outcome) >= sizeof p.outcome)
			return cli_failf(CMD, "--outcome is longer than %d characters",
					 LB_REF_NAME_MAX);
		snprintf(p.outcome, sizeof p.outcome, "%s", o->outcome);
	}
	json_t *r = NULL;
	if (fetch(o, o->pos[1], &r))
		return 1;
	fhir_id(fid, json_string_value(json_object_get(r, "session")));
	json_decref(r);
	now_iso(now);
	json_t *res[2] = {NULL, NULL};
	const char *what;
	if (type == LB_TX_REF_ACCEPT) {
		res[0] = task_res(fid, o->pos[1], "accepted");
		what = "accepted";
	} else if (type == LB_TX_REF_CONSULT) {
		res[0] = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:{s:s,s:s},s:[{s:s,s:s}]}",
				   "resourceType", "Encounter", "id", fid, "status", "finished",
				   "class", "system",
				   "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", "VR",
				   "display", "virtual", "period", "start", o->start ? o->start : now,
				   "end", o->end ? o->end : now, "identifier", "system",
				   "urn:leben:referral", "value", o->pos[1]);
		res[1] = task_res(fid, o->pos[1], "in-progress");
		what = "consulted (Encounter of class virtual)";
	} else {
		res[0] = json_pack("{s:s,s:s,s:s,s:{s:s},s:s,s:s,s:[{s:s,s:s}]}", "resourceType",
				   "Observation", "id", fid, "status", "final", "code", "text",
				   "Specialist report on the referral", "valueString", o->conclusion,
				   "effectiveDateTime", now, "identifier", "system",
				   "urn:leben:referral", "value", o->pos[1]);
		res[1] = task_res(fid, o->pos[1], "completed");
		what = "reported (Observation; Task completed)";
	}
	char *text = resource_text(res[0], p.digest);
	free(text);
	int rc = send_tx(o, &p, id) || fhir_put(o, res, res[1] ? 2 : 1);
	char dh[2 * LB_HASH_LEN + 1];
	lb_hex_encode(dh, p.digest, LB_HASH_LEN);
	if (!rc) {
		char msg[256];
		snprintf(msg, sizeof msg, "referral %.16s... %s (tx %s)", o->pos[1], what, id);
		say(o,
		    json_pack("{s:s,s:s,s:s,s:s}", "referral", o->pos[1], "tx", id, "hash", dh,
			      "resource",
			      json_string_value(json_object_get(res[0], "resourceType"))),
		    msg);
	}
	json_decref(res[0]);
	json_decref(res[1]);
	return rc ? 1 : 0;
}

static int do_status(struct ropts *o)
{
	json_t *r = NULL;
	if (o->npos < 2)
		return cli_failf(CMD, "status needs REFERRAL");
	if (fetch(o, o->pos[1], &r))
		return 1;
	if (o->json)
		cli_print_json(r);
	else
		cli_print_human(r, 0);
	json_decref(r);
	return 0;
}

static int do_list(struct ropts *o)
{
	char path[256];
	json_t *r = NULL;
	int n = snprintf(path, sizeof path, "/v1/referrals?offset=%s&limit=%s",
			 o->offset ? o->offset : "0", o->limit ? o->limit : "100");
	if (o->institution) {
		uint8_t a[LB_ADDR_LEN];
		char t[LB_ADDR_TEXT_LEN + 1];
		if (cli_resolve_address(CMD, o->home, o->institution, a))
			return 1;
		lb_addr_encode(t, a);
		snprintf(path + n, sizeof path - (size_t)n, "&institution=%s", t);
	}
	if (cli_api_get(CMD, o->url, path, &r))
		return 1;
	if (o->json) {
		cli_print_json(r);
	} else {
		size_t i;
		json_t *e;
		printf("%lld referral(s)\n", (long long)json_integer_value(json_object_get(r, "total")));
		json_array_foreach(json_object_get(r, "referrals"), i, e)
			printf("  %s  %-10s  %s  %s -> %s\n",
			       json_string_value(json_object_get(e, "id")),
			       json_string_value(json_object_get(e, "status")),
			       json_string_value(json_object_get(e, "specialty")),
			       json_string_value(json_object_get(e, "practice")),
			       json_string_value(json_object_get(e, "specialist")));
	}
	json_decref(r);
	return 0;
}

int cmd_referral(int argc, char **argv)
{
	struct ropts o = {0};
	const struct copt opts[] = {
		{"--home", &o.home, NULL}, {"--node", &o.node, NULL}, {"--json", NULL, &o.json},
		{"--help", NULL, &o.help}, {"-h", NULL, &o.help}, {"--from", &o.from, NULL},
		{"--session", &o.session, NULL}, {"--to", &o.to, NULL},
		{"--specialty", &o.specialty, NULL}, {"--patient", &o.patient, NULL},
		{"--candidate", &o.candidate, NULL}, {"--provider", &o.provider, NULL},
		{"--fee", &o.fee, NULL}, {"--reason", &o.reason, NULL}, {"--start", &o.start, NULL},
		{"--end", &o.end, NULL}, {"--outcome", &o.outcome, NULL},
		{"--conclusion", &o.conclusion, NULL}, {"--institution", &o.institution, NULL},
		{"--offset", &o.offset, NULL}, {"--limit", &o.limit, NULL},
		{"--fhir-key", &o.fhir_key, NULL}, {"--no-fhir", NULL, &o.no_fhir},
		{"--settle", NULL, &o.settle}, {"--settle-fee", &o.settle_fee, NULL},
		{NULL, NULL, NULL},
	};
	int rc = copt_parse(CMD, argc, argv, 1, opts, o.pos, 3, &o.npos);
	if (rc)
		return rc;
	if (o.help || o.npos == 0) {
		fputs(referral_help, o.help ? stdout : stderr);
		return o.help ? 0 : 2;
	}
	o.home = cli_home(o.home);
	o.url = cli_node_url(o.node, o.home);
	const char *sub = o.pos[0];
	if (!strcmp(sub, "specialist"))
		return do_specialist(&o);
	if (!strcmp(sub, "create"))
		return do_create(&o);
	if (!strcmp(sub, "accept"))
		return do_step(&o, LB_TX_REF_ACCEPT);
	if (!strcmp(sub, "consult"))
		return do_step(&o, LB_TX_REF_CONSULT);
	if (!strcmp(sub, "report"))
		return do_step(&o, LB_TX_REF_REPORT);
	if (!strcmp(sub, "status"))
		return do_status(&o);
	if (!strcmp(sub, "list"))
		return do_list(&o);
	cli_failf(CMD, "'%s' is not a referral command; 'leben referral --help' lists them", sub);
	return 2;
}
