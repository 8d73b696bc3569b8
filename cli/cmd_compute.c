/*
 * `leben compute`: the on-chain sandbox (docs/cli.md, "compute"; docs/exchange.md,
 * "On-chain sandbox"). `try` runs a program here without a node (same evaluator, same step
 * and memory counts as every node); `publish` records a program on the business chain under
 * its hash; `run` runs one (a file or a published hash) inside a compute.run tx, which every
 * node evaluates the same way; `show` prints a stored run or a published program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "sectx.h"
#include "leben/base.h"
#include "leben/codec.h"
#include "leben/ledger.h"
#include "leben/node.h"
#include "leben/onchain.h"
#include "leben/tx.h"

#define CMD "compute"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben compute try FILE [NAME=VALUE ...] [--budget N] [--json]\n"
		"       leben compute publish FILE --from KEY [--json]\n"
		"       leben compute run (FILE | --hash HASH) [NAME=VALUE ...] --from KEY\n"
		"                         [--budget N] [--prepay [--expiry S]] [--json]\n"
		"       leben compute reclaim PREPAY_TX_ID --from KEY [--json]\n"
		"       leben compute show RUN_TX_ID [--json]\n"
		"       leben compute show --program HASH [--json]\n"
		"\n"
		"Small computations that every node of the consortium runs inside the ledger and\n"
		"agrees on: an eligibility rule over recorded attributes, a fee split, a threshold\n"
		"check over recorded results. Programs use whole numbers only (no fractions: scale\n"
		"to cents or per-mille), e.g.\n"
		"    require total > 0\n"
		"    out shares = split(total, weights)      # fee split, remainder to the first\n"
		"    out eligible = age >= 18 and hba1c >= 48\n"
		"The language is described in docs/exchange.md, \"On-chain sandbox\".\n"
		"\n"
		"  try       run FILE here, without a node, and print its outputs, the steps and\n"
		"            memory it used; use it to choose --budget before sending a run\n"
		"  publish   record FILE on the business chain; prints its hash for `run --hash`\n"
		"  run       run FILE (or the published program HASH) in a compute.run tx and wait\n"
		"            until it is in a block; prints the run id (the tx id) and the outputs\n"
		"  show      print a stored run (by run id) or a published program (--program)\n"
		"  reclaim   take back the whole CSC of your expired compute.prepay that no\n"
		"            settled run used (compute.reclaim on the settlement chain)\n"
		"\n"
		"Inputs are NAME=VALUE words after the file: age=44 (a whole number), xs=1,2,3 (a\n"
		"list), xs=[] (an empty list).\n"
		"\n"
		"options:\n"
		"  --budget N      most steps the run may take (default 10000, at most %u); a run\n"
		"                  that needs more is refused and changes nothing\n"
		"  --prepay        run: first lock the budget x the compute.step price in CSC on\n"
		"                  the settlement chain (compute.prepay), then cite it in the run;\n"
		"                  needed where genesis says \"compute\": {\"prepay\": true}. The\n"
		"                  nodes settle the run: steps x price burned, the rest refunded\n"
		"  --expiry S      with --prepay: the prepayment expires S seconds after its block\n"
		"                  (default %u, one day; at least %u); runs may cite it for the\n"
		"                  first half, its payer may reclaim it once it expires\n"
		"  --hash HASH     run the published program with this hash (64 hex digits)\n"
		"  --program HASH  show: the published program with this hash\n"
		"  --from KEY      key (in <home>/keys) that signs the tx\n"
		"  --home DIR      node home (default $LEBEN_HOME, else ~/.leben)\n"
		"  --node URL      node API (default $LEBEN_NODE, else the home's config)\n"
		"  --timeout S     seconds to wait for the tx to be in a block (default 60)\n"
		"  --json          print JSON\n",
		(unsigned)LB_OC_STEPS_MAX, (unsigned)LB_OC_EXPIRY_DEFAULT_S,
		(unsigned)LB_OC_EXPIRY_MIN_S);
}

struct copts {
	const char *home, *node, *from, *budget, *hash, *program, *timeout, *expiry;
	bool json, help, prepay;
};

static int read_program(const char *path, uint8_t **text, size_t *len)
{
	if (cli_read_file(CMD, path, LB_OC_PROGRAM_MAX, text, len))
		return 1;
	return 0;
}

static int parse_inputs(const char **pos, int n, struct lb_oc_value **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (n > LB_OC_INPUTS_MAX)
		return cli_failf(CMD, "%d inputs given; a run takes at most %d", n, LB_OC_INPUTS_MAX);
	struct lb_oc_value *v = n ? lb_calloc((size_t)n, sizeof *v) : NULL;
	if (n && !v)
		return cli_failf(CMD, "out of memory");
	for (int i = 0; i < n; i++) {
		struct lb_errmsg em;
		if (lb_oc_value_parse(&v[i], pos[i], &em)) {
			lb_oc_values_free(v, (size_t)i);
			return cli_fail(CMD, &em,
					"give inputs as NAME=5, NAME=1,2,3 or NAME=[] (whole numbers)");
		}
		for (int k = 0; k < i; k++)
			if (!strcmp(v[k].name, v[i].name)) {
				lb_oc_values_free(v, (size_t)i + 1);
				return cli_failf(CMD, "input '%s' is given twice", v[i].name);
			}
	}
	*out = v;
	*nout = (size_t)n;
	return 0;
}

static int expiry_arg(const char *s, uint64_t *out)
{
	*out = LB_OC_EXPIRY_DEFAULT_S;
	if (!s)
		return 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || v < LB_OC_EXPIRY_MIN_S || v > LB_OC_EXPIRY_MAX_S) {
		cli_failf(CMD, "--expiry '%s': give whole seconds from %u to %u", s,
			  (unsigned)LB_OC_EXPIRY_MIN_S, (unsigned)LB_OC_EXPIRY_MAX_S);
		return 2;
	}
	*out = v;
	return 0;
}

static int budget_arg(const char *s, uint64_t *out)
{
	*out = 10000;
	if (!s)
		return 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || v == 0 || v > LB_OC_STEPS_MAX) {
		cli_failf(CMD, "--budget '%s': give a whole number of steps from 1 to %u", s,
			  (unsigned)LB_OC_STEPS_MAX);
		return 2;
	}
	*out = v;
	return 0;
}

static json_t *values_json(const struct lb_oc_value *v, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++) {
		json_t *x;
		if (v[i].is_list) {
			x = json_array();
			for (size_t k = 0; k < v[i].n; k++)
				json_array_append_new(x, json_integer(v[i].v[k]));
		} else {
			x = json_integer(v[i].v[0]);
		}
		json_object_set_new(o, v[i].name, x);
	}
	return o;
}

static void print(json_t *j, bool as_json)
{
	if (as_json)
		cli_print_json(j);
	else
		cli_print_human(j, 0);
}

static int c_try(const struct copts *o, const char **pos, int npos)
{
	if (npos < 2) {
		usage(stderr);
		return 2;
	}
	uint64_t budget;
	uint8_t *text;
	size_t len;
	struct lb_oc_value *in;
	size_t nin;
	int rc;
	if ((rc = budget_arg(o->budget, &budget)) || (rc = read_program(pos[1], &text, &len)))
		return rc;
	if ((rc = parse_inputs(pos + 2, npos - 2, &in, &nin))) {
		lb_free(text);
		return rc;
	}
	struct lb_errmsg em;
	struct lb_oc_program *p = NULL;
	struct lb_oc_result res = {0};
	if ((rc = lb_oc_parse((const char *)text, len, &p, &em))) {
		fprintf(stderr, "leben compute: %s: %s\n", pos[1], em.text);
		rc = 1;
	} else if ((rc = lb_oc_run(p, in, nin, budget, LB_OC_MEM_MAX, &res, &em))) {
		fprintf(stderr, "leben compute: %s: %s (%s)\n", pos[1], em.text, lb_errname(rc));
		if (rc == LB_ELIMIT)
			fprintf(stderr, "hint: raise --budget (at most %u)\n",
				(unsigned)LB_OC_STEPS_MAX);
		rc = 1;
	} else {
		uint8_t h[LB_HASH_LEN];
		char hex[2 * LB_HASH_LEN + 1];
		lb_oc_program_hash(h, text, len);
		lb_hex_encode(hex, h, LB_HASH_LEN);
		json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:o}", "program_hash", hex, "budget",
				      (json_int_t)budget, "steps", (json_int_t)res.steps,
				      "memory_bytes", (json_int_t)res.mem, "outputs",
				      values_json(res.out, res.nout));
		print(j, o->json);
		json_decref(j);
	}
	lb_oc_result_clear(&res);
	lb_oc_program_free(p);
	lb_oc_values_free(in, nin);
	lb_free(text);
	return rc;
}

/* Sign, post, and wait for the tx to be committed. 0 when applied. */
static int send_tx(const struct copts *o, const char *url, uint32_t type,
		   const struct lb_buf *payload, uint8_t id[LB_HASH_LEN])
{
	struct lb_keypair kp;
	uint8_t addr[LB_ADDR_LEN], net[LB_HASH_LEN];
	char at[LB_ADDR_TEXT_LEN + 1], path[160], idhex[2 * LB_HASH_LEN + 1];
	json_t *st = NULL, *acct = NULL, *reply = NULL;
	int rc;
	if (!o->from) {
		cli_failf(CMD, "--from KEY is needed to sign the tx");
		return 2;
	}
	if (cli_load_key(o->home, o->from, &kp))
		return 1;
	lb_addr_from_pubkey(addr, kp.pk);
	lb_addr_encode(at, addr);
	if ((rc = cli_api_get(CMD, url, "/v1/status", &st)))
		goto out;
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	if (!nid || lb_hex_decode(net, LB_HASH_LEN, nid)) {
		rc = cli_failf(CMD, "the node at %s gave no network id", url);
		goto out;
	}
	snprintf(path, sizeof path, "/v1/accounts/%s", at);
	if ((rc = cli_api_get(CMD, url, path, &acct)))
		goto out;
	json_t *nn = json_object_get(
		json_object_get(json_object_get(acct, "chains"), lb_chain_name(LB_CHAIN_BUSINESS)),
		"next_nonce");
	struct lb_tx t = {0};
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_BUSINESS;
	t.type = type;
	t.nonce = json_is_integer(nn) ? (uint64_t)json_integer_value(nn) : 0;
	t.payload = payload->data;
	t.payload_len = payload->len;
	struct lb_buf raw;
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	if (lb_tx_build(&raw, &t, net, &kp, id)) {
		lb_buf_release(&raw);
		rc = cli_failf(CMD, "could not build the tx (payload too large?)");
		goto out;
	}
	char *hex = lb_malloc(2 * raw.len + 1);
	if (!hex) {
		lb_buf_release(&raw);
		rc = cli_failf(CMD, "out of memory");
		goto out;
	}
	lb_hex_encode(hex, raw.data, raw.len);
	lb_buf_release(&raw);
	json_t *body = json_pack("{s:s}", "tx", hex);
	lb_free(hex);
	rc = cli_api_post(CMD, url, "/v1/txs", body, &reply);
	json_decref(body);
	if (rc)
		goto out;
	lb_hex_encode(idhex, id, LB_HASH_LEN);
	json_t *final = NULL;
	rc = cli_tx_wait(CMD, url, idhex, o->timeout ? atof(o->timeout) : 60, &final);
	json_decref(final);
out:
	lb_keypair_wipe(&kp);
	json_decref(st);
	json_decref(acct);
	json_decref(reply);
	return rc;
}

static int c_publish(const struct copts *o, const char *url, const char **pos, int npos)
{
	if (npos != 2) {
		usage(stderr);
		return 2;
	}
	uint8_t *text, id[LB_HASH_LEN], h[LB_HASH_LEN];
	size_t len;
	if (read_program(pos[1], &text, &len))
		return 1;
	struct lb_errmsg em;
	struct lb_oc_program *p = NULL;
	if (lb_oc_parse((const char *)text, len, &p, &em)) {
		fprintf(stderr, "leben compute: %s: %s\n", pos[1], em.text);
		lb_free(text);
		return 1;
	}
	lb_oc_program_free(p);
	struct lb_buf b = {.data = text, .len = len};
	int rc = send_tx(o, url, LB_TX_COMPUTE_PUBLISH, &b, id);
	if (!rc) {
		char hex[2 * LB_HASH_LEN + 1], idhex[2 * LB_HASH_LEN + 1];
		lb_oc_program_hash(h, text, len);
		lb_hex_encode(hex, h, LB_HASH_LEN);
		lb_hex_encode(idhex, id, LB_HASH_LEN);
		json_t *j = json_pack("{s:s,s:s}", "program_hash", hex, "tx", idhex);
		print(j, o->json);
		json_decref(j);
	}
	lb_free(text);
	return rc;
}

static int show_path(const struct copts *o, const char *url, bool program, const char *hex)
{
	char path[160];
	json_t *j;
	snprintf(path, sizeof path, "/v1/compute/%s/%s", program ? "programs" : "runs", hex);
	if (cli_api_get(CMD, url, path, &j))
		return 1;
	print(j, o->json);
	json_decref(j);
	return 0;
}

static int c_run(const struct copts *o, const char *url, const char **pos, int npos)
{
	struct lb_oc_run_tx r = {0};
	uint8_t *text = NULL, id[LB_HASH_LEN];
	int first = 1, rc;
	if (o->hash) {
		if (lb_hex_decode(r.hash, LB_HASH_LEN, o->hash)) {
			cli_failf(CMD, "--hash '%s' is not 64 hex digits", o->hash);
			return 2;
		}
		r.by_hash = true;
	} else {
		if (npos < 2) {
			usage(stderr);
			return 2;
		}
		if (read_program(pos[1], &text, &r.text_len))
			return 1;
		r.text = text;
		first = 2;
		struct lb_errmsg em;
		struct lb_oc_program *p = NULL;
		if (lb_oc_parse((const char *)text, r.text_len, &p, &em)) {
			fprintf(stderr, "leben compute: %s: %s\n", pos[1], em.text);
			lb_free(text);
			return 1;
		}
		lb_oc_program_free(p);
	}
	if ((rc = budget_arg(o->budget, &r.budget)) ||
	    (rc = parse_inputs(pos + first, npos - first, &r.in, &r.nin))) {
		lb_free(text);
		return rc;
	}
	uint8_t *ptx = NULL, *pproof = NULL;
	if (o->prepay) { /* lock the budget's CSC on the settlement chain and cite it */
		uint8_t pb[20];
		struct lb_buf p = {.data = pb, .len = 0, .cap = sizeof pb - 1, .max = sizeof pb};
		char pid[2 * LB_HASH_LEN + 1];
		struct lb_oc_prepay pp = {.budget = r.budget, .has_expiry = true};
		if ((rc = expiry_arg(o->expiry, &pp.expiry_s))) {
			lb_oc_values_free(r.in, r.nin);
			lb_free(text);
			return rc;
		}
		if (lb_oc_prepay_encode(&p, &pp) ||
		    sectx_settle_cited(CMD, url, o->home, o->from, NULL, LB_TX_COMPUTE_PREPAY,
				       "compute.prepay", p.data, p.len, pid, &ptx, &r.prepay_tx_len,
				       &pproof, &r.prepay_proof_len)) {
			lb_oc_values_free(r.in, r.nin);
			lb_free(text);
			return 1;
		}
		r.has_prepay = true;
		r.prepay_tx = ptx;
		r.prepay_proof = pproof;
		if (!o->json)
			printf("prepaid %llu steps (compute.prepay %s)\n",
			       (unsigned long long)r.budget, pid);
	}
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_MAX_BYTES);
	if (lb_oc_run_encode(&b, &r))
		rc = cli_failf(CMD, "the program and inputs are too large for one tx");
	else
		rc = send_tx(o, url, LB_TX_COMPUTE_RUN, &b, id);
	if (!rc) {
		char idhex[2 * LB_HASH_LEN + 1];
		lb_hex_encode(idhex, id, LB_HASH_LEN);
		rc = show_path(o, url, false, idhex);
	}
	lb_buf_release(&b);
	lb_oc_values_free(r.in, r.nin);
	lb_free(text);
	lb_free(ptx);
	lb_free(pproof);
	return rc;
}

/* compute.reclaim of an expired prepayment (settlement chain, with its minimum fee). */
static int c_reclaim(const struct copts *o, const char *url, const char **pos, int npos)
{
	uint8_t id[LB_HASH_LEN];
	struct lb_keypair kp;
	struct sectx t = {0};
	uint64_t fee;
	json_t *fin = NULL;
	if (npos != 2) {
		usage(stderr);
		return 2;
	}
	if (lb_hex_decode(id, LB_HASH_LEN, pos[1])) {
		cli_failf(CMD, "'%s' is not a compute.prepay tx id: expected 64 hex digits", pos[1]);
		return 2;
	}
	if (!o->from) {
		cli_failf(CMD, "--from KEY (the prepayment's payer) is needed to sign the reclaim");
		return 2;
	}
	if (sectx_min_fee(CMD, url, "compute.reclaim", &fee) || cli_load_key(o->home, o->from, &kp))
		return 1;
	int rc = sectx_build_fee(CMD, url, &kp, LB_CHAIN_SETTLEMENT, LB_TX_COMPUTE_RECLAIM, id,
				 LB_HASH_LEN, fee, &t);
	lb_keypair_wipe(&kp);
	if (!rc)
		rc = sectx_send(CMD, url, &t, 60, &fin);
	if (!rc) {
		if (o->json)
			printf("{\"reclaim\":\"%s\",\"prepayment\":\"%s\"}\n", t.id, pos[1]);
		else
			printf("reclaimed prepayment %s (compute.reclaim %s)\n", pos[1], t.id);
	}
	json_decref(fin);
	sectx_release(&t);
	return rc;
}

static int c_show(const struct copts *o, const char *url, const char **pos, int npos)
{
	uint8_t h[LB_HASH_LEN];
	const char *hex = o->program ? o->program : npos == 2 ? pos[1] : NULL;
	if (!hex || (o->program && npos != 1)) {
		usage(stderr);
		return 2;
	}
	if (lb_hex_decode(h, LB_HASH_LEN, hex)) {
		cli_failf(CMD, "'%s' is not %s: expected 64 hex digits", hex,
			  o->program ? "a program hash" : "a run id (the compute.run tx id)");
		return 2;
	}
	return show_path(o, url, o->program != NULL, hex);
}

int cmd_compute(int argc, char **argv)
{
	struct copts o = {0};
	const struct copt opts[] = {
		{"--home", &o.home, NULL},       {"--node", &o.node, NULL},
		{"--from", &o.from, NULL},       {"--budget", &o.budget, NULL},
		{"--hash", &o.hash, NULL},       {"--program", &o.program, NULL},
		{"--timeout", &o.timeout, NULL}, {"--json", NULL, &o.json},
		{"--prepay", NULL, &o.prepay},   {"--expiry", &o.expiry, NULL},
		{"--help", NULL, &o.help},       {"-h", NULL, &o.help},
		{NULL, NULL, NULL},
	};
	const char *pos[LB_OC_INPUTS_MAX + 3];
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, LB_OC_INPUTS_MAX + 2, &npos)))
		return rc;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (npos == 0) {
		usage(stderr);
		return 2;
	}
	if (lb_crypto_init() || lb_register_txtypes())
		return cli_failf(CMD, "initialisation failed");
	if (!strcmp(pos[0], "try"))
		return c_try(&o, pos, npos);
	o.home = cli_home(o.home);
	const char *url = cli_node_url(o.node, o.home);
	if (!strcmp(pos[0], "publish"))
		return c_publish(&o, url, pos, npos);
	if (!strcmp(pos[0], "run"))
		return c_run(&o, url, pos, npos);
	if (!strcmp(pos[0], "show"))
		return c_show(&o, url, pos, npos);
	if (!strcmp(pos[0], "reclaim"))
		return c_reclaim(&o, url, pos, npos);
	cli_failf(CMD, "'%s' is not a subcommand (try, publish, run, show, reclaim); see "
		       "'leben compute --help'",
		  pos[0]);
	return 2;
}
