/* `leben insurance`: data-driven insurance (docs/apps.md, "5. Data-driven insurance"): an
 * insurer's policy and its ASC pool, a patient's enrolment, a provider's clinical events and
 * claims, adjudicated by every node and settled from the pool, and premium pricing from a
 * risk model's released coefficients. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/data_dedup.h"
#include "leben/insurance.h"
#include "sectx.h"

#define CMD "insurance"

static const char ins_help[] =
	"usage: leben insurance policy --from INSURER --name N --covers DIAG:PROC[,DIAG:PROC...]\n"
	"                        --limit-claim ASC --limit-period ASC --period-blocks N\n"
	"                        [--copay PERCENT] [--waiting-blocks N]\n"
	"                        [--premium ASC | --request REQ --x V1,... --expected ASC\n"
	"                         [--loading PERCENT]]\n"
	"       leben insurance fund POLICY ASC --from INSURER [--fee CSC]\n"
	"       leben insurance enrol POLICY --from PATIENT [--premium ASC] [--fee CSC]\n"
	"       leben insurance event condition|procedure PATIENT CODE\n"
	"                        (--resource FILE | --fhir TYPE/ID [--fhir-key NAME]) --from PROVIDER\n"
	"       leben insurance adjudicate POLICY PATIENT --condition HASH --procedure HASH\n"
	"                        --cost ASC (--from PROVIDER | --provider ADDRESS)\n"
	"       leben insurance claim POLICY PATIENT --condition HASH --procedure HASH --cost ASC\n"
	"                        --from PROVIDER [--no-settle] [--fee CSC] [--approved ASC]\n"
	"       leben insurance settle CLAIM --from KEY [--fee CSC]\n"
	"       leben insurance status POLICY [PATIENT] | status --claim CLAIM\n"
	"       leben insurance price (--model COEF.json | --request REQ --from INSURER)\n"
	"                        --x V1,V2,... --expected ASC [--loading PERCENT]\n"
	"\n"
	"For hospital IT: the insurer registers a policy (its id is the tx id printed) with a\n"
	"code table: each DIAG:PROC pair is a covered diagnosis (ICD-10, e.g. I21.4) and a\n"
	"procedure consistent with it (e.g. 0210093). The insurer locks ASC in the policy's pool\n"
	"('fund'). The patient enrols with their own key, paying the policy's premium into\n"
	"the pool ('enrol' pays it, then cites the payment). Your institution anchors the FHIR\n"
	"Condition and Procedure it recorded ('event': the file's BLAKE2b hash and a text\n"
	"fingerprint go on the chain, never the record; --fhir reads it from this node's FHIR\n"
	"endpoint, signed with the node key or --fhir-key, and checks that it carries CODE),\n"
	"then claims: every node adjudicates by\n"
	"the policy (approved = min(limit per claim, cost) x (1 - co-pay)) and refuses an event\n"
	"claimed twice, a near copy of a claimed procedure, a stranger's claim, an uncovered\n"
	"patient or diagnosis, a procedure inconsistent with the diagnosis, a claim in the\n"
	"waiting period or over the period limit. Unless --no-settle, the approved amount is then\n"
	"paid from the pool to you in ASC (ins.settle citing the claim with its proof).\n"
	"'claim' asks the node for the approved amount first and sends nothing when it would be\n"
	"refused; --approved states the amount instead and sends the claim as it is.\n"
	"'adjudicate' shows the ClaimResponse a claim would get now, without sending anything.\n"
	"'price': COEF.json is what a logistic model fitted on the data owners' side released\n"
	"(the --json output of 'leben sandbox run --algorithm logreg' or of an exchange run:\n"
	"coefficients only, never rows; or {\"coef\":[b0,b1,...]}); --x gives the covariates in\n"
	"the model's order; the premium is P(claim) x expected approved amount x (1 + loading).\n"
	"--request REQ prices from the insurer's own exchange request (builtin:logreg on a data\n"
	"owner's offered asset, approved, run over the consented patients only): its released\n"
	"result, sealed to --from, is opened here. 'policy --request REQ' registers the policy\n"
	"with that premium and the request on the chain (every node checks that it is the\n"
	"insurer's own delivered logreg request; the policy shows it as priced_by).\n"
	"Amounts are ASC (e.g. 2.5). Options: --home DIR, --node URL, --json.\n";

struct iopts {
	const char *home, *node, *from, *name, *covers, *limit_claim, *limit_period, *period,
		*copay, *waiting, *premium, *fee, *resource, *condition, *procedure, *cost,
		*provider, *claim, *model, *x, *expected, *loading, *approved, *fhir, *fhir_key,
		*request;
	bool json, help, no_settle;
	const char *pos[5];
	int npos;
	const char *url;
};

static int hex32(const char *what, const char *s, uint8_t out[LB_HASH_LEN])
{
	if (!s || strlen(s) != 2 * LB_HASH_LEN || lb_hex_decode(out, LB_HASH_LEN, s))
		return cli_failf(CMD, "%s '%s' is not 64 hex digits", what, s ? s : "");
	return 0;
}

static int amount(const char *name, const char *v, uint64_t *out)
{
	if (!v || cli_parse_amount(v, out))
		return cli_failf(CMD, "%s needs an amount of ASC (e.g. 2.5), not '%s'", name,
				 v ? v : "");
	return 0;
}

static int number(const char *name, const char *v, uint64_t *out)
{
	char *end;
	if (!v || !*v || *v == '-' || (*out = strtoull(v, &end, 10), *end))
		return cli_failf(CMD, "%s needs a whole number, not '%s'", name, v ? v : "");
	return 0;
}

static void show(struct iopts *o, json_t *j)
{
	if (o->json)
		cli_print_json(j);
	else
		cli_print_human(j, 0);
}

static int fee_of(struct iopts *o, const char *type_name, uint64_t *fee)
{
	if (o->fee)
		return amount("--fee", o->fee, fee);
	return sectx_min_fee(CMD, o->url, type_name, fee);
}

/* Encode, sign (fee on the settlement chain) and send p; the tx id into id. */
static int send(struct iopts *o, const struct lb_ins_tx *p, char id[2 * LB_HASH_LEN + 1])
{
	if (!o->from)
		return cli_failf(CMD, "this needs --from KEY (the key that signs)");
	struct lb_keypair kp;
	struct lb_buf b;
	struct lb_errmsg em;
	struct sectx t = {0};
	bool settle = p->type == LB_TX_INS_FUND || p->type == LB_TX_INS_SETTLE;
	uint64_t fee = 0;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (lb_ins_tx_encode(&b, p, &em)) {
		lb_buf_release(&b);
		return cli_fail(CMD, &em, NULL);
	}
	if ((settle && fee_of(o, p->type == LB_TX_INS_FUND ? "ins.fund" : "ins.settle", &fee)) ||
	    cli_load_key(o->home, o->from, &kp)) {
		lb_buf_release(&b);
		return 1;
	}
	int rc = settle ? sectx_build_fee(CMD, o->url, &kp, LB_CHAIN_SETTLEMENT, p->type, b.data,
					  b.len, fee, &t)
			: sectx_build(CMD, o->url, &kp, p->type, b.data, b.len, &t);
	lb_keypair_wipe(&kp);
	lb_buf_release(&b);
	if (rc)
		return 1;
	json_t *fin = NULL;
	rc = sectx_send(CMD, o->url, &t, 60, &fin);
	if (!rc)
		snprintf(id, 2 * LB_HASH_LEN + 1, "%s", t.id);
	json_decref(fin);
	sectx_release(&t);
	return rc;
}

static void say(struct iopts *o, const char *id, const char *what, const char *text)
{
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s}", what, id, "tx", id);
		cli_print_json(j);
		json_decref(j);
	} else
		printf("%s %s\n", text, id);
}

static int premium_of(struct iopts *o, json_t **out);

static int i_policy(struct iopts *o)
{
	struct lb_ins_tx *p = lb_calloc(1, sizeof *p);
	char id[2 * LB_HASH_LEN + 1];
	uint64_t v = 0;
	int rc = 1;
	if (!p)
		return cli_failf(CMD, "out of memory");
	p->type = LB_TX_INS_POLICY;
	snprintf(p->name, sizeof p->name, "%s", o->name ? o->name : "");
	if (!o->covers) {
		cli_failf(CMD, "policy needs --covers DIAG:PROC[,DIAG:PROC...]");
		goto out;
	}
	char *list = strdup(o->covers), *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(t, ':');
		if (!colon || p->npairs >= LB_INS_PAIRS_MAX || colon - t > LB_INS_CODE_MAX ||
		    strlen(colon + 1) > LB_INS_CODE_MAX) {
			cli_failf(CMD, "--covers: '%s' is not DIAG:PROC (at most %d pairs)", t,
				  LB_INS_PAIRS_MAX);
			free(list);
			goto out;
		}
		*colon = 0;
		snprintf(p->diag[p->npairs], sizeof p->diag[0], "%s", t);
		snprintf(p->proc[p->npairs++], sizeof p->proc[0], "%s", colon + 1);
	}
	free(list);
	if (amount("--limit-claim", o->limit_claim, &p->limit_claim) ||
	    amount("--limit-period", o->limit_period, &p->limit_period) ||
	    number("--period-blocks", o->period, &p->period_blocks) ||
	    (o->waiting && number("--waiting-blocks", o->waiting, &p->waiting_blocks)) ||
	    (o->premium && amount("--premium", o->premium, &p->premium)))
		goto out;
	if (o->copay) {
		double pct = strtod(o->copay, NULL);
		if (pct < 0 || pct > 100) {
			cli_failf(CMD, "--copay is a percentage from 0 to 100");
			goto out;
		}
		p->copay_bp = (uint32_t)(pct * 100 + 0.5);
	}
	(void)v;
	if (o->request) {
		/* the premium from the insurer's released model; the request goes on the chain */
		json_t *pj = NULL;
		if (o->premium) {
			cli_failf(CMD, "give --premium or --request (the premium priced from the model), "
				       "not both");
			goto out;
		}
		if (hex32("--request", o->request, p->model) || premium_of(o, &pj))
			goto out;
		p->premium = (uint64_t)json_integer_value(json_object_get(pj, "premium"));
		p->has_model = true;
		if (!o->json)
			printf("premium %.6f ASC priced from request %s (P(claim) %.4f)\n",
			       p->premium / 1e6, o->request,
			       json_real_value(json_object_get(pj, "probability")));
		json_decref(pj);
	}
	if (!(rc = send(o, p, id)))
		say(o, id, "policy", "policy registered:");
out:
	lb_free(p);
	return rc;
}

static int i_fund(struct iopts *o)
{
	struct lb_ins_tx p;
	char id[2 * LB_HASH_LEN + 1];
	memset(&p, 0, sizeof p);
	p.type = LB_TX_INS_FUND;
	if (o->npos < 3)
		return cli_failf(CMD, "fund needs POLICY and an amount of ASC");
	if (hex32("POLICY", o->pos[1], p.policy) || amount("fund", o->pos[2], &p.amount) ||
	    send(o, &p, id))
		return 1;
	say(o, id, "tx", "pool funded, tx");
	return 0;
}

/* enrol POLICY: pay the policy's premium (or --premium) into its pool (ins.fund), then enrol
 * citing that payment. */
static int i_enrol(struct iopts *o)
{
	struct lb_ins_tx p, f;
	char id[2 * LB_HASH_LEN + 1], path[128];
	uint8_t *tbuf = NULL, *pbuf = NULL;
	json_t *pol;
	memset(&p, 0, sizeof p);
	memset(&f, 0, sizeof f);
	p.type = LB_TX_INS_ENROL;
	f.type = LB_TX_INS_FUND;
	if (o->npos < 2 || hex32("POLICY", o->pos[1], p.policy))
		return o->npos < 2 ? cli_failf(CMD, "enrol needs POLICY") : 1;
	snprintf(path, sizeof path, "/v1/insurance/policies/%s", o->pos[1]);
	if (cli_api_get(CMD, o->url, path, &pol))
		return 1;
	f.amount = (uint64_t)json_integer_value(json_object_get(pol, "premium"));
	json_decref(pol);
	if (o->premium && amount("--premium", o->premium, &f.amount))
		return 1;
	if (f.amount) {
		memcpy(f.policy, p.policy, LB_HASH_LEN);
		if (send(o, &f, id) || sectx_proof(CMD, o->url, id, "business", &tbuf, &p.cited_len,
						   &pbuf, &p.proof_len))
			return 1;
		p.cited = tbuf;
		p.proof = pbuf;
		if (!o->json) {
			char a[32];
			printf("premium of %s ASC paid into the pool (ins.fund %s)\n",
			       cli_format_amount(f.amount, a, sizeof a), id);
		}
	}
	int rc = send(o, &p, id);
	lb_free(tbuf);
	lb_free(pbuf);
	if (!rc)
		say(o, id, "tx", "enrolled, tx");
	return rc;
}

/* Does the resource carry code in code.coding[].code? */
static bool has_code(json_t *res, const char *code)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(res, "code"), "coding"), i, c)
	{
		const char *v = json_string_value(json_object_get(c, "code"));
		const char *bar = strchr(code, '|');
		if (v && (!strcmp(v, code) || (bar && !strcmp(v, bar + 1))))
			return true;
	}
	return false;
}

/* The resource --fhir TYPE/ID from this node's FHIR endpoint, signed with the node key (or
 * --fhir-key): its canonical JSON text (sorted keys, compact; lb_malloc'd) into *data. */
static int fhir_resource(struct iopts *o, const char *code, uint8_t **data, size_t *len)
{
	char path[300];
	struct lb_keypair kp;
	struct lb_errmsg em;
	json_t *res = NULL;
	snprintf(path, sizeof path, "/fhir/%s", o->fhir);
	if (cli_load_key(o->home, o->fhir_key ? o->fhir_key : "node", &kp))
		return 1;
	lb_errclear(&em);
	int rc = lb_client_fhir_get(o->url, path, &kp, &res, &em);
	lb_keypair_wipe(&kp);
	if (rc)
		return cli_fail(CMD, &em, "--fhir names TYPE/ID of a resource this node's FHIR store "
					  "holds, read with a member key");
	if (!has_code(res, code)) {
		json_decref(res);
		return cli_failf(CMD, "%s does not carry code %s in code.coding: anchor the resource "
				      "that records it",
				 o->fhir, code);
	}
	char *text = json_dumps(res, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(res);
	if (!text)
		return cli_failf(CMD, "out of memory");
	*len = strlen(text);
	*data = lb_malloc(*len + 1);
	if (*data)
		memcpy(*data, text, *len + 1);
	free(text);
	return *data ? 0 : cli_failf(CMD, "out of memory");
}

static int i_event(struct iopts *o)
{
	struct lb_ins_tx p;
	char id[2 * LB_HASH_LEN + 1], h[2 * LB_HASH_LEN + 1];
	uint8_t fp[LB_TEXT_FP_SIZE], *data = NULL;
	size_t len = 0;
	struct lb_errmsg em;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_INS_EVENT;
	if (o->npos < 4)
		return cli_failf(CMD, "event needs condition|procedure, PATIENT and CODE");
	p.kind = !strcmp(o->pos[1], "condition") ? LB_INS_CONDITION
		 : !strcmp(o->pos[1], "procedure") ? LB_INS_PROCEDURE
						   : 0;
	if (!p.kind)
		return cli_failf(CMD, "event kind '%s': use condition or procedure", o->pos[1]);
	if (cli_resolve_address(CMD, o->home, o->pos[2], p.patient))
		return 1;
	snprintf(p.code, sizeof p.code, "%s", o->pos[3]);
	if (!o->resource == !o->fhir)
		return cli_failf(CMD, "event needs --resource FILE or --fhir TYPE/ID (the FHIR %s as "
				      "recorded)",
				 o->pos[1]);
	if (o->fhir) {
		if (fhir_resource(o, p.code, &data, &len))
			return 1;
	} else if (lb_file_read(o->resource, 16u << 20, &data, &len, &em))
		return cli_fail(CMD, &em, NULL);
	lb_hash(p.hash, data, len);
	struct lb_text_fp t;
	if (!lb_text_fingerprint((const char *)data, len, &t)) {
		lb_text_fp_encode(&t, fp);
		p.fp = fp;
		p.fp_len = sizeof fp;
	}
	lb_free(data);
	lb_hex_encode(h, p.hash, LB_HASH_LEN);
	if (send(o, &p, id))
		return 1;
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s}", "event", h, "tx", id);
		cli_print_json(j);
		json_decref(j);
	} else
		printf("%s anchored: %s (tx %s)\n", o->pos[1], h, id);
	return 0;
}

/* The claim payload from POLICY PATIENT --condition --procedure --cost. */
static int claim_args(struct iopts *o, struct lb_ins_tx *p)
{
	memset(p, 0, sizeof *p);
	p->type = LB_TX_INS_CLAIM;
	if (o->npos < 3)
		return cli_failf(CMD, "%s needs POLICY and PATIENT", o->pos[0]);
	if (hex32("POLICY", o->pos[1], p->policy) ||
	    cli_resolve_address(CMD, o->home, o->pos[2], p->patient) ||
	    hex32("--condition", o->condition, p->condition) ||
	    hex32("--procedure", o->procedure, p->procedure) || amount("--cost", o->cost, &p->cost))
		return 1;
	return 0;
}

/* Ask the node for the adjudication of p by provider: the ClaimResponse into *out. */
static int ask(struct iopts *o, const struct lb_ins_tx *p, const uint8_t provider[LB_ADDR_LEN],
	       json_t **out)
{
	char pol[2 * LB_HASH_LEN + 1], c[2 * LB_HASH_LEN + 1], pr[2 * LB_HASH_LEN + 1];
	char pa[LB_ADDR_TEXT_LEN + 1], pv[LB_ADDR_TEXT_LEN + 1];
	lb_hex_encode(pol, p->policy, LB_HASH_LEN);
	lb_hex_encode(c, p->condition, LB_HASH_LEN);
	lb_hex_encode(pr, p->procedure, LB_HASH_LEN);
	lb_addr_encode(pa, p->patient);
	lb_addr_encode(pv, provider);
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "policy", pol, "patient", pa,
			      "provider", pv, "condition", c, "procedure", pr, "cost",
			      (json_int_t)p->cost);
	int rc = cli_api_post(CMD, o->url, "/v1/insurance/adjudicate", b, out);
	json_decref(b);
	return rc;
}

static int provider_of(struct iopts *o, uint8_t out[LB_ADDR_LEN])
{
	const char *who = o->provider ? o->provider : o->from;
	if (!who)
		return cli_failf(CMD, "name the provider: --from PROVIDER or --provider ADDRESS");
	return cli_resolve_address(CMD, o->home, who, out);
}

static int i_adjudicate(struct iopts *o)
{
	struct lb_ins_tx p;
	uint8_t provider[LB_ADDR_LEN];
	json_t *r;
	if (claim_args(o, &p) || provider_of(o, provider) || ask(o, &p, provider, &r))
		return 1;
	show(o, r);
	const char *oc = json_string_value(json_object_get(r, "outcome"));
	int bad = !oc || strcmp(oc, "complete");
	json_decref(r);
	return bad ? 1 : 0;
}

static int settle(struct iopts *o, const char *claim)
{
	char id[2 * LB_HASH_LEN + 1];
	struct lb_ins_tx p;
	uint8_t *tbuf, *pbuf;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_INS_SETTLE;
	if (sectx_proof(CMD, o->url, claim, "settlement", &tbuf, &p.cited_len, &pbuf,
			&p.proof_len))
		return 1;
	p.cited = tbuf;
	p.proof = pbuf;
	int rc = send(o, &p, id);
	lb_free(pbuf);
	lb_free(tbuf);
	if (!rc && !o->json)
		printf("claim %s paid from the pool (ins.settle %s)\n", claim, id);
	return rc;
}

static int i_claim(struct iopts *o)
{
	struct lb_ins_tx p;
	uint8_t provider[LB_ADDR_LEN];
	char id[2 * LB_HASH_LEN + 1];
	json_t *r;
	if (claim_args(o, &p) || provider_of(o, provider))
		return 1;
	if (o->approved) {
		/* the amount stated by the provider, sent as it is: every node checks it */
		if (amount("--approved", o->approved, &p.approved))
			return 1;
		r = json_pack("{s:I}", "approved", (json_int_t)p.approved);
	} else if (ask(o, &p, provider, &r))
		return 1;
	json_t *ap = json_object_get(r, "approved");
	if (!json_is_integer(ap)) {
		/* refused on this node now: say why, send nothing */
		const char *e = json_string_value(json_object_get(r, "error"));
		fprintf(stderr, "leben insurance: the claim is refused: %s\n", e ? e : "(no reason)");
		json_decref(r);
		return 1;
	}
	p.approved = (uint64_t)json_integer_value(ap);
	if (send(o, &p, id)) {
		json_decref(r);
		return 1;
	}
	json_object_set_new(r, "claim", json_string(id));
	if (o->json)
		cli_print_json(r);
	else {
		char a[32];
		printf("claim %s approved: %s ASC\n", id, cli_format_amount(p.approved, a, sizeof a));
	}
	json_decref(r);
	return o->no_settle ? 0 : settle(o, id);
}

static int i_status(struct iopts *o)
{
	char path[320];
	json_t *j;
	if (o->claim) {
		uint8_t h[LB_HASH_LEN];
		if (hex32("--claim", o->claim, h))
			return 1;
		snprintf(path, sizeof path, "/v1/insurance/claims/%s", o->claim);
	} else if (o->npos >= 3) {
		uint8_t h[LB_HASH_LEN], a[LB_ADDR_LEN];
		char t[LB_ADDR_TEXT_LEN + 1];
		if (hex32("POLICY", o->pos[1], h) || cli_resolve_address(CMD, o->home, o->pos[2], a))
			return 1;
		lb_addr_encode(t, a);
		snprintf(path, sizeof path, "/v1/insurance/coverage/%s/%s", o->pos[1], t);
	} else if (o->npos == 2) {
		uint8_t h[LB_HASH_LEN];
		if (hex32("POLICY", o->pos[1], h))
			return 1;
		snprintf(path, sizeof path, "/v1/insurance/policies/%s", o->pos[1]);
	} else
		return cli_failf(CMD, "status needs POLICY [PATIENT] or --claim CLAIM");
	if (cli_api_get(CMD, o->url, path, &j))
		return 1;
	show(o, j);
	json_decref(j);
	return 0;
}

/* The released result of the insurer's exchange request: `leben exchange result` opens the
 * sealed result (checked against the chain) into a private temporary file, read back here. */
static json_t *released_model(struct iopts *o)
{
	char tmp[] = "/tmp/leben-model-XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0)
		return cli_failf(CMD, "cannot make a temporary file for the model"), NULL;
	close(fd);
	char url[1024], home[4096]; /* the CLI's URL and home may live in buffers it reuses */
	snprintf(url, sizeof url, "%s", o->url);
	snprintf(home, sizeof home, "%s", o->home);
	char *argv[] = {"exchange", "result", "--from", (char *)o->from, "--request",
			(char *)o->request, "--out", tmp, "--home", home, "--node", url, NULL};
	fflush(stdout);
	int save = dup(1), null = open("/dev/null", O_WRONLY); /* its "written to" line */
	if (null >= 0)
		dup2(null, 1);
	int rc = cmd_exchange(12, argv);
	fflush(stdout);
	if (save >= 0) {
		dup2(save, 1);
		close(save);
	}
	if (null >= 0)
		close(null);
	json_error_t je;
	json_t *m = rc ? NULL : json_load_file(tmp, 0, &je);
	unlink(tmp);
	if (!rc && !m)
		cli_failf(CMD, "the released result of request %s is not JSON", o->request);
	return m;
}

/* Premium from --model FILE or --request REQ with --x, --expected, --loading. */
static int premium_of(struct iopts *o, json_t **out)
{
	json_error_t je = {0};
	if ((!o->model == !o->request) || !o->x || !o->expected)
		return cli_failf(CMD, "pricing needs --model COEF.json or --request REQ (with --from "
				      "INSURER), --x V1,V2,... and --expected ASC");
	if (o->request && !o->from)
		return cli_failf(CMD, "--request needs --from INSURER (the key the result is sealed "
				      "to)");
	json_t *m = o->request ? released_model(o) : json_load_file(o->model, 0, &je);
	if (o->request && !m)
		return 1;
	const char *alg = json_string_value(json_object_get(m, "algorithm"));
	if (o->request && (!alg || strcmp(alg, "logreg"))) {
		json_decref(m);
		return cli_failf(CMD, "request %s did not release a logistic model (builtin:logreg)",
				 o->request);
	}
	json_t *coef = json_object_get(m, "coef");
	if (!coef) /* the released output of `leben sandbox run --algorithm logreg --json` */
		coef = json_object_get(json_object_get(m, "result"), "coef");
	size_t n = json_array_size(coef);
	if (!n) {
		json_decref(m);
		return cli_failf(CMD, "%s: no \"coef\" array of numbers (line %d: %s)",
				 o->model ? o->model : o->request, je.line, je.text);
	}
	double *b = lb_calloc(n, sizeof *b), *x = lb_calloc(n, sizeof *x);
	size_t k = 1;
	for (size_t i = 0; i < n; i++)
		b[i] = json_number_value(json_array_get(coef, i));
	json_t *nj = json_incref(json_object_get(m, "n"));
	json_decref(m);
	char *list = strdup(o->x), *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (k < n)
			x[k++] = strtod(t, NULL);
		else
			k++;
	free(list);
	uint64_t exp_amt;
	int rc = 0;
	if (k != n)
		rc = cli_failf(CMD, "--x has %zu values but the model has %zu coefficients after the "
				    "intercept",
			       k - 1, n - 1);
	else if (!amount("--expected", o->expected, &exp_amt)) {
		double prob, loading = o->loading ? strtod(o->loading, NULL) / 100.0 : 0;
		double prem = lb_ins_premium(b, x, n, exp_amt / 1e6, loading, &prob);
		*out = json_pack("{s:f,s:f,s:f,s:I}", "probability", prob, "premium_asc", prem,
				 "loading", loading, "premium", (json_int_t)(prem * 1e6 + 0.5));
		if (o->request && *out) {
			json_object_set_new(*out, "request", json_string(o->request));
			json_object_set(*out, "model_n", nj ? nj : json_null());
		}
	} else
		rc = 1;
	json_decref(nj);
	lb_free(b);
	lb_free(x);
	return rc;
}

static int i_price(struct iopts *o)
{
	json_t *j = NULL;
	int rc = premium_of(o, &j);
	if (!rc)
		show(o, j);
	json_decref(j);
	return rc;
}

int cmd_insurance(int argc, char **argv)
{
	struct iopts o;
	memset(&o, 0, sizeof o);
	const struct copt opts[] = {
		{"--home", &o.home, NULL},
		{"--node", &o.node, NULL},
		{"--from", &o.from, NULL},
		{"--key", &o.from, NULL},
		{"--name", &o.name, NULL},
		{"--covers", &o.covers, NULL},
		{"--limit-claim", &o.limit_claim, NULL},
		{"--limit-period", &o.limit_period, NULL},
		{"--period-blocks", &o.period, NULL},
		{"--copay", &o.copay, NULL},
		{"--waiting-blocks", &o.waiting, NULL},
		{"--premium", &o.premium, NULL},
		{"--request", &o.request, NULL},
		{"--fee", &o.fee, NULL},
		{"--resource", &o.resource, NULL},
		{"--condition", &o.condition, NULL},
		{"--procedure", &o.procedure, NULL},
		{"--cost", &o.cost, NULL},
		{"--provider", &o.provider, NULL},
		{"--claim", &o.claim, NULL},
		{"--model", &o.model, NULL},
		{"--x", &o.x, NULL},
		{"--expected", &o.expected, NULL},
		{"--loading", &o.loading, NULL},
		{"--approved", &o.approved, NULL},
		{"--fhir", &o.fhir, NULL},
		{"--fhir-key", &o.fhir_key, NULL},
		{"--json", NULL, &o.json},
		{"--no-settle", NULL, &o.no_settle},
		{"--help", NULL, &o.help},
		{NULL, NULL, NULL},
	};
	int rc = copt_parse(CMD, argc, argv, 1, opts, o.pos, 5, &o.npos);
	if (rc)
		return rc;
	if (o.help) {
		fputs(ins_help, stdout);
		return 0;
	}
	if (o.npos < 1) {
		fputs(ins_help, stderr);
		return 2;
	}
	if (lb_crypto_init())
		return cli_failf(CMD, "libsodium failed to initialise");
	o.home = cli_home(o.home);
	o.url = cli_node_url(o.node, o.home);
	const char *sub = o.pos[0];
	if (!strcmp(sub, "policy"))
		return i_policy(&o);
	if (!strcmp(sub, "fund"))
		return i_fund(&o);
	if (!strcmp(sub, "enrol") || !strcmp(sub, "enroll"))
		return i_enrol(&o);
	if (!strcmp(sub, "event"))
		return i_event(&o);
	if (!strcmp(sub, "adjudicate"))
		return i_adjudicate(&o);
	if (!strcmp(sub, "claim"))
		return i_claim(&o);
	if (!strcmp(sub, "settle")) {
		uint8_t h[LB_HASH_LEN];
		if (o.npos < 2 || hex32("CLAIM", o.pos[1], h))
			return o.npos < 2 ? cli_failf(CMD, "settle needs CLAIM") : 1;
		return settle(&o, o.pos[1]);
	}
	if (!strcmp(sub, "status"))
		return i_status(&o);
	if (!strcmp(sub, "price"))
		return i_price(&o);
	cli_failf(CMD, "unknown subcommand '%s' (see 'leben insurance --help')", sub);
	return 2;
}
