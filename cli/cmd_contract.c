/*
 * `leben contract`: clinical contracts (PROforma) — run one interactively or from an answers
 * file, verify it before publication, convert between the .pf text form and the PROformajs
 * JSON form; and on the business chain: publish a verified contract, anchor a run's events
 * (answers' hashes, decisions, completion) and list anchored sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/knowledge.h"
#include "leben/knowledge_chain.h"
#include "leben/tx.h"

static const char usage[] =
	"usage: leben contract run FILE [--answers FILE.json] [--json] [--today YYYY-MM-DD]\n"
	"                      [--save SESSION.json] [--resume SESSION.json]\n"
	"                      [--rules proformajs|leben]\n"
	"                      [--anchor --key NAME [--anchor-record FILE.json]]\n"
	"       leben contract publish FILE --key NAME [--rules R] [--json] [--no-wait]\n"
	"       leben contract anchor SESSION.json --key NAME [--contract FILE.json]\n"
	"                      [--anchor-record FILE.json] [--json]\n"
	"       leben contract sessions [--contract HASH] [SESSION_ID] [--json]\n"
	"       leben contract check FILE [--max-states N] [--max-memory MB] [--cycles N] [--json]\n"
	"                      [--rules proformajs|leben]\n"
	"       leben contract convert FILE --to pf|json [-o OUT]\n"
	"       leben contract print FILE\n"
	"\n"
	"Clinical contracts are care pathways written in PROforma: plans, enquiries (questions),\n"
	"decisions (candidates with arguments) and actions. FILE is either the .pf text form or\n"
	"the PROformajs JSON form; both are described in docs/knowledge-language.md.\n"
	"A JSON protocol runs and is checked with the PROformajs rules (as the PROformajs engine\n"
	"enacts it, step for step); a .pf contract with LEBEN's rules (follow-up dates, cycle\n"
	"intervals, commit of decisions). --rules chooses the other ones.\n"
	"\n"
	"  run      asks the contract's questions in the terminal (showing allowed values, units\n"
	"           and warnings), shows recommended candidates with their arguments and lets\n"
	"           you commit one or override it, and prints actions as they fire.\n"
	"           --answers FILE.json  answer from a file instead: {\"data item\": value, ...,\n"
	"                                \"decision name\": \"candidate\" or [\"c1\",\"c2\"]};\n"
	"                                actions are confirmed automatically. Decisions not in\n"
	"                                the file take the recommended candidate.\n"
	"           --json               print one JSON event per line (for scripts)\n"
	"           --today DATE         engine date (default: today; LEBEN's rules)\n"
	"           PROformajs rules: each operation is printed as a step with the task states\n"
	"           it leaves; with --json one line {\"event\":\"step\",\"step\",\"op\",\"error\",\n"
	"           \"finished\",\"tasks\",\"completeable\",\"requested\",\"candidates\",\"data\",\n"
	"           \"versions\",\"warnings\",\"triggers\"}. --answers may also be a JSON array of\n"
	"           PROformajs operations ({\"op\":\"set\",\"path\":...,\"data\":{...}}, complete,\n"
	"           cancel, confirm, unconfirm, trigger) applied in order; --save keeps them.\n"
	"           --save FILE          write the session state when the run stops\n"
	"           --resume FILE        continue a saved session\n"
	"           --anchor             record the run on the node's business chain as it goes:\n"
	"                                start, a salted hash of each answer (never the answer),\n"
	"                                each committed decision, and completion with the hash\n"
	"                                of the trace. The contract must be published first.\n"
	"           --key NAME           key (in <home>/keys) that signs the anchoring txs\n"
	"           --anchor-record FILE write the session id, the salt and every anchored\n"
	"                                event with its answer, so the hashes can be shown to\n"
	"                                match later. Keep it with the patient's record.\n"
	"  check    verifies the contract before publication: static checks (undefined names,\n"
	"           type errors, conditions that can never hold) and an exploration of every\n"
	"           run over abstract inputs, reporting deadlocks, unreachable tasks, endless\n"
	"           cycles, ambiguous decisions and order-dependent outcomes, each with the steps\n"
	"           that lead to it. Exit status 1 if anything is found or a limit was hit.\n"
	;

/* The rest of the help (one string literal would be too long for C99 compilers). */
static const char usage_chain[] =
	"  publish  verifies the contract exactly as the chain will (the default bounds of\n"
	"           check), refuses to go on if anything is found, then sends a contract.publish\n"
	"           tx signed by --key with the canonical source and the hashes of the source and\n"
	"           of the verification report. Every node verifies it again before storing it.\n"
	"           Prints the contract hash (its id on the chain) and the tx id, and waits until\n"
	"           the tx is in a block unless --no-wait is given.\n"
	"  anchor   anchors a session saved by 'run --save' (for example one run offline) as\n"
	"           run --anchor would have: start, answers' hashes and decisions from its trace,\n"
	"           and completion if it is finished. A run saved under the PROformajs rules\n"
	"           needs its contract (--contract FILE.json): its operations are applied again\n"
	"           and anchored as run --anchor does.\n"
	"  sessions lists the sessions anchored on the node (all, or of one contract), or with a\n"
	"           SESSION_ID shows its events: answers' hashes, decisions, the trace hash.\n"
	"  convert  prints the contract in the other form (lossless).\n"
	"  print    prints the contract in its own form, normalised.\n"
	"\n"
	"Commands that talk to a node take --home DIR (default $LEBEN_HOME or ~/.leben) and\n"
	"--node URL (default $LEBEN_NODE or the API port in <home>/config.json). The key's\n"
	"passphrase is asked for, or read from LEBEN_PASSPHRASE.\n"
	"\n"
	"Exit status: 0 ok, 1 failure (refused contract, problem found), 2 usage error.\n";

static void print_usage(FILE *f)
{
	fputs(usage, f);
	fputs(usage_chain, f);
}

/* Options of a subcommand (argv[0] is its name) by the table opts, at most one positional
 * (the file or id) into *file. 0, or 2 after the error and the usage on stderr. */
static int parse_args(int argc, char **argv, const struct copt *opts, const char **file)
{
	int npos;
	if (copt_parse("contract", argc, argv, 1, opts, file, 1, &npos)) {
		print_usage(stderr);
		return 2;
	}
	if (npos == 0)
		*file = NULL;
	return 0;
}

static int load(const char *path, struct lb_kn_model **m)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_kn_model_load(path, m, &em);
	if (rc != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		return 1;
	}
	return 0;
}

static int cmd_print(int argc, char **argv, bool convert)
{
	const char *file = NULL, *to = NULL, *outp = NULL;
	const struct copt opts[] = {{"--to", &to, NULL}, {"-o", &outp, NULL}, {NULL, NULL, NULL}};
	if (parse_args(argc, argv, opts, &file))
		return 2;
	if (file == NULL || (convert && to == NULL)) {
		print_usage(stderr);
		return 2;
	}
	enum lb_kn_form form;
	if (to != NULL) {
		if (strcmp(to, "pf") == 0)
			form = LB_KN_FORM_PF;
		else if (strcmp(to, "json") == 0)
			form = LB_KN_FORM_JSON;
		else {
			fprintf(stderr, "leben contract: --to takes pf or json, not '%s'\n", to);
			return 2;
		}
	} else {
		uint8_t *data;
		size_t len;
		struct lb_errmsg em;
		if (lb_file_read(file, LB_KN_MAX_SOURCE, &data, &len, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			return 1;
		}
		size_t i = 0;
		while (i < len && strchr(" \t\r\n", data[i]) != NULL)
			i++;
		form = i < len && data[i] == '{' ? LB_KN_FORM_JSON : LB_KN_FORM_PF;
		lb_free(data);
	}
	struct lb_kn_model *m;
	if (load(file, &m) != 0)
		return 1;
	char *text;
	size_t len;
	struct lb_errmsg pem;
	if (lb_kn_model_printable(m, form, &pem) != LB_OK) {
		fprintf(stderr, "leben contract: %s: %s\n", file, pem.text);
		lb_kn_model_free(m);
		return 1;
	}
	int rc = lb_kn_model_print(m, form, &text, &len);
	lb_kn_model_free(m);
	if (rc != LB_OK) {
		fprintf(stderr, "leben contract: printing failed: %s\n", lb_strerror(rc));
		return 1;
	}
	if (outp != NULL) {
		struct lb_errmsg em;
		rc = lb_file_write(outp, text, len, 0644, &em);
		if (rc != LB_OK)
			fprintf(stderr, "leben contract: %s\n", em.text);
	} else {
		fwrite(text, 1, len, stdout);
	}
	lb_free(text);
	return rc == LB_OK ? 0 : 1;
}

/* ---- talking to a node: sign and send business-chain txs ---------------------------------- */

#define CMD "contract"

/* A signing key and where to send: nonces are counted locally from the node's next nonce,
 * so a run's events go out in order without asking the node each time. */
struct chain_client {
	const char *home;            /* node home (keys, config) */
	const char *url;             /* node API */
	struct lb_keypair kp;        /* signing key, wiped by chain_close */
	bool have_key;
	uint8_t network[LB_HASH_LEN];/* network id the txs are signed for */
	uint64_t nonce;              /* next business-chain nonce of the key */
};

static int chain_open(struct chain_client *c, const char *home, const char *node,
		      const char *key)
{
	json_t *st = NULL, *acct = NULL;
	memset(c, 0, sizeof(*c));
	c->home = cli_home(home);
	c->url = cli_node_url(node, c->home);
	if (cli_api_get(CMD, c->url, "/v1/status", &st))
		return 1;
	const char *nid = json_string_value(json_object_get(st, "network_id"));
	if (nid == NULL || lb_hex_decode(c->network, LB_HASH_LEN, nid)) {
		json_decref(st);
		return cli_failf(CMD, "the node at %s did not give a network id in /v1/status", c->url);
	}
	json_decref(st);
	if (cli_load_key(c->home, key, &c->kp))
		return 1;
	c->have_key = true;
	uint8_t addr[LB_ADDR_LEN];
	char text[LB_ADDR_TEXT_LEN + 1], path[128];
	lb_addr_from_pubkey(addr, c->kp.pk);
	lb_addr_encode(text, addr);
	snprintf(path, sizeof(path), "/v1/accounts/%s", text);
	if (cli_api_get(CMD, c->url, path, &acct))
		return 1;
	json_t *nn = json_object_get(json_object_get(json_object_get(acct, "chains"), "business"),
				     "next_nonce");
	if (!json_is_integer(nn)) {
		json_decref(acct);
		return cli_failf(CMD, "the node did not give the next nonce of %s", text);
	}
	c->nonce = (uint64_t)json_integer_value(nn);
	json_decref(acct);
	return 0;
}

static void chain_close(struct chain_client *c)
{
	if (c->have_key)
		lb_keypair_wipe(&c->kp);
	c->have_key = false;
}

/* Sign and send one tx; its id (hex) into idhex. Prints the node's refusal and returns 1. */
static int chain_send(struct chain_client *c, uint32_t type, const uint8_t *payload, size_t len,
		      char idhex[2 * LB_HASH_LEN + 1])
{
	struct lb_tx t = { .version = LB_TX_VERSION, .chain = LB_CHAIN_BUSINESS, .type = type,
			   .nonce = c->nonce, .payload = payload, .payload_len = len };
	struct lb_buf out;
	uint8_t id[LB_HASH_LEN];
	lb_buf_init(&out, LB_TX_MAX_BYTES);
	if (lb_tx_build(&out, &t, c->network, &c->kp, id)) {
		lb_buf_release(&out);
		return cli_failf(CMD, "could not build the tx (%zu bytes of payload; the limit is %d)",
				 len, LB_TX_PAYLOAD_MAX);
	}
	char *hex = lb_malloc(2 * out.len + 1);
	if (hex == NULL) {
		lb_buf_release(&out);
		return cli_failf(CMD, "out of memory");
	}
	lb_hex_encode(hex, out.data, out.len);
	lb_buf_release(&out);
	json_t *body = json_pack("{s:s}", "tx", hex), *reply = NULL;
	lb_free(hex);
	int rc = cli_api_post(CMD, c->url, "/v1/txs", body, &reply);
	json_decref(body);
	json_decref(reply);
	if (rc)
		return 1;
	c->nonce++;
	lb_hex_encode(idhex, id, LB_HASH_LEN);
	return 0;
}

/* Wait until tx idhex is in a block: 0 applied, 1 refused in the block (reason printed) or
 * still pending after timeout_s. *height gets its block. */
static int chain_wait(struct chain_client *c, const char *idhex, double timeout_s,
		      uint64_t *height)
{
	json_t *j = NULL;
	int rc = cli_tx_wait(CMD, c->url, idhex, timeout_s, &j);
	if (j == NULL)
		return 1;
	*height = cli_tx_height(j);
	if (rc) {
		json_t *e = json_object_get(j, "error");
		const char *msg = json_string_value(json_object_get(e, "message"));
		cli_failf(CMD, "tx %s is in block %llu but was NOT applied: %s", idhex,
			  (unsigned long long)*height,
			  msg ? msg : json_is_string(e) ? json_string_value(e) : "refused");
	}
	json_decref(j);
	return rc;
}

/* ---- publish ------------------------------------------------------------------------------- */

static int cmd_publish(int argc, char **argv)
{
	const char *file = NULL, *key = NULL, *home = NULL, *node = NULL, *rules_s = NULL;
	const char *max_s = NULL;
	bool json = false, nowait = false;
	const struct copt opts[] = {
		{"--key", &key, NULL},	 {"--from", &key, NULL},   {"--home", &home, NULL},
		{"--node", &node, NULL}, {"--json", NULL, &json}, {"--no-wait", NULL, &nowait},
		{"--rules", &rules_s, NULL}, {"--max-states", &max_s, NULL}, {NULL, NULL, NULL},
	};
	if (parse_args(argc, argv, opts, &file))
		return 2;
	char *mend = NULL;
	unsigned long max_states = max_s ? strtoul(max_s, &mend, 10) : 0;
	if (max_s != NULL && (*max_s == 0 || *mend != 0 || max_states == 0 ||
			      max_states > LB_KN_PJS_MAX_STATES)) {
		fprintf(stderr, "leben contract: --max-states takes a number of states from 1 to %d "
				"(the chain's bound for the PROformajs-rules exploration), not '%s'\n",
			LB_KN_PJS_MAX_STATES, max_s);
		return 2;
	}
	enum lb_kn_rules rules = LB_KN_RULES_AUTO;
	if (rules_s != NULL && lb_kn_rules_parse(rules_s, &rules) != LB_OK) {
		fprintf(stderr, "leben contract: --rules takes proformajs, leben or auto, not '%s'\n",
			rules_s);
		return 2;
	}
	if (file == NULL || key == NULL) {
		fprintf(stderr, "leben contract: publish needs FILE and --key NAME (the key that "
				"signs; 'leben keys list' shows them)\n");
		return 2;
	}
	struct lb_kn_model *m;
	if (load(file, &m) != 0)
		return 1;
	int status = 1;
	char *report = NULL;
	uint8_t *canon = NULL, *payload = NULL;
	size_t clen, plen, failures;
	struct lb_errmsg em;
	struct lb_kn_publish_payload p = { 0 };
	struct chain_client c = { 0 };
	/* a PROformajs protocol keeps its form and rules on the chain (payload version 2) */
	p.rules = rules == LB_KN_RULES_AUTO ? lb_kn_model_rules(m) : rules;
	bool pjs = p.rules == LB_KN_RULES_PROFORMAJS;
	if (pjs) {
		/* the PROformajs-rules exploration: 1000 states, doubled until it completes, up to
		 * the chain's bound (or the bound given); the publication names it and every node
		 * explores within it (docs/knowledge-language.md §9.1) */
		size_t bound = max_states ? max_states : 1000;
		for (;;) {
			struct lb_kn_check_opts co = { .max_states = bound };
			if (lb_kn_check_proformajs(m, &co, &report, &failures, &em) != LB_OK) {
				fprintf(stderr, "leben contract: %s\n", em.text);
				goto out;
			}
			json_t *r = json_loads(report, 0, NULL);
			bool complete = json_is_true(json_object_get(r, "complete"));
			json_decref(r);
			if (complete || max_states || bound >= LB_KN_PJS_MAX_STATES)
				break;
			lb_free(report);
			report = NULL;
			/* version 1's largest bound is tried before version 2's (older nodes
			 * verify publications up to it) */
			bound = bound < LB_KN_PJS_V1_MAX_STATES && bound * 2 > LB_KN_PJS_V1_MAX_STATES
					? LB_KN_PJS_V1_MAX_STATES
				: bound * 2 > LB_KN_PJS_MAX_STATES ? LB_KN_PJS_MAX_STATES
								   : bound * 2;
		}
		p.max_states = (uint32_t)bound;
	} else if (lb_kn_check(m, NULL, &report, &failures, NULL, &em) != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		goto out;
	}
	if (failures > 0) {
		json_t *r = json_loads(report, 0, NULL);
		json_t *fs = json_object_get(r, "findings");
		fprintf(stderr, "leben contract: %s: not published: the verifier found %zu problem%s\n",
			file, failures, failures == 1 ? "" : "s");
		for (size_t i = 0; i < json_array_size(fs); i++) {
			json_t *f = json_array_get(fs, i);
			fprintf(stderr, "  %s: %s\n", json_string_value(json_object_get(f, "kind")),
				json_string_value(json_object_get(f, "message")));
		}
		fprintf(stderr, "  hint: 'leben contract check %s' shows each finding with the steps "
				"that lead to it; fix them and publish again\n", file);
		json_decref(r);
		goto out;
	}
	struct lb_errmsg pem;
	if (lb_kn_model_printable(m, pjs ? LB_KN_FORM_JSON : LB_KN_FORM_PF, &pem) != LB_OK) {
		/* the chain keeps the .pf form, or the JSON form of a PROformajs protocol
		 * (docs/knowledge-language.md §5.3, §10) */
		fprintf(stderr, "leben contract: %s: not published: %s\n", file, pem.text);
		goto out;
	}
	char *cj = NULL;
	if ((pjs ? lb_kn_model_print(m, LB_KN_FORM_JSON, &cj, &clen)
		 : lb_kn_model_canonical(m, &canon, &clen)) != LB_OK ||
	    lb_kn_model_hash_rules(m, p.rules, p.source_hash) != LB_OK) {
		lb_free(cj);
		fprintf(stderr, "leben contract: printing the canonical source failed\n");
		goto out;
	}
	if (pjs)
		canon = (uint8_t *)cj;
	if (clen > LB_TX_PAYLOAD_MAX - 128) {
		fprintf(stderr, "leben contract: %s: the canonical source is %zu bytes; a tx carries at "
				"most %d: split the contract into smaller ones\n",
			file, clen, LB_TX_PAYLOAD_MAX - 128);
		goto out;
	}
	lb_kn_report_hash(report, strlen(report), p.report_hash);
	p.source = canon;
	p.source_len = clen;
	if (lb_kn_publish_payload_encode(&p, &payload, &plen) != LB_OK) {
		fprintf(stderr, "leben contract: encoding the publication failed\n");
		goto out;
	}
	char hash[2 * LB_HASH_LEN + 1], rhash[2 * LB_HASH_LEN + 1], txid[2 * LB_HASH_LEN + 1];
	lb_hex_encode(hash, p.source_hash, LB_HASH_LEN);
	lb_hex_encode(rhash, p.report_hash, LB_HASH_LEN);
	if (chain_open(&c, home, node, key) || chain_send(&c, LB_TX_CONTRACT_PUBLISH, payload, plen, txid))
		goto out;
	uint64_t height = 0;
	if (!nowait && chain_wait(&c, txid, 60, &height))
		goto out;
	if (json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "contract", hash, "name",
				      lb_kn_model_name(m), "report_hash", rhash, "tx", txid,
				      "source_bytes", (json_int_t)clen, "status",
				      nowait ? "pending" : "committed", "rules",
				      pjs ? "proformajs" : "leben");
		if (pjs)
			json_object_set_new(o, "max_states", json_integer(p.max_states));
		if (!nowait)
			json_object_set_new(o, "height", json_integer((json_int_t)height));
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("Contract %s (%s)\n  verified: no problem found\n  contract hash: %s\n"
		       "  tx: %s\n",
		       lb_kn_model_name(m), file, hash, txid);
		if (nowait)
			printf("  sent; 'leben query tx %s' shows when it is in a block\n", txid);
		else
			printf("  published in block %llu\n", (unsigned long long)height);
	}
	status = 0;
out:
	chain_close(&c);
	lb_free(payload);
	lb_free(canon);
	lb_free(report);
	lb_kn_model_free(m);
	return status;
}

/* ---- sessions ------------------------------------------------------------------------------ */

static int cmd_sessions(int argc, char **argv)
{
	const char *contract = NULL, *id = NULL, *home = NULL, *node = NULL;
	bool json = false;
	const struct copt opts[] = {
		{"--contract", &contract, NULL}, {"--home", &home, NULL}, {"--node", &node, NULL},
		{"--json", NULL, &json},	 {NULL, NULL, NULL},
	};
	if (parse_args(argc, argv, opts, &id))
		return 2;
	uint8_t tmp[LB_HASH_LEN];
	if ((contract != NULL && lb_hex_decode(tmp, LB_HASH_LEN, contract)) ||
	    (id != NULL && lb_hex_decode(tmp, LB_HASH_LEN, id))) {
		fprintf(stderr, "leben contract: a contract hash or session id is 64 hex digits (as "
				"'leben contract publish' and 'leben contract sessions' print them)\n");
		return 2;
	}
	const char *h = cli_home(home);
	const char *url = cli_node_url(node, h);
	char path[256];
	if (id != NULL)
		snprintf(path, sizeof(path), "/v1/sessions/%s", id);
	else if (contract != NULL)
		snprintf(path, sizeof(path), "/v1/sessions?contract=%s&limit=1000", contract);
	else
		snprintf(path, sizeof(path), "/v1/sessions?limit=1000");
	json_t *j;
	if (cli_api_get(CMD, url, path, &j))
		return 1;
	if (json) {
		cli_print_json(j);
		json_decref(j);
		return 0;
	}
	if (id != NULL) {
		printf("Session %s\n  contract %s\n  by %s, started in block %lld, %s\n", id,
		       json_string_value(json_object_get(j, "contract")),
		       json_string_value(json_object_get(j, "owner")),
		       (long long)json_integer_value(json_object_get(j, "height")),
		       json_string_value(json_object_get(j, "status")));
		json_t *evs = json_object_get(j, "events"), *e;
		size_t i;
		json_array_foreach(evs, i, e) {
			const char *kind = json_string_value(json_object_get(e, "event"));
			printf("  %3lld %-9s block %-6lld", (long long)json_integer_value(json_object_get(e, "seq")),
			       kind, (long long)json_integer_value(json_object_get(e, "height")));
			if (json_object_get(e, "answer_hash"))
				printf(" answer hash %s", json_string_value(json_object_get(e, "answer_hash")));
			if (json_object_get(e, "trace_hash"))
				printf(" trace hash %s", json_string_value(json_object_get(e, "trace_hash")));
			if (json_object_get(e, "decision")) {
				printf(" %s:", json_string_value(json_object_get(e, "decision")));
				json_t *cs = json_object_get(e, "candidates"), *cn;
				size_t k;
				json_array_foreach(cs, k, cn)
					printf(" %s", json_string_value(cn));
			}
			printf("\n");
		}
	} else {
		json_t *ss = json_object_get(j, "sessions"), *s;
		size_t i;
		printf("%lld session%s anchored%s\n", (long long)json_integer_value(json_object_get(j, "total")),
		       json_integer_value(json_object_get(j, "total")) == 1 ? "" : "s",
		       contract ? " for this contract" : "");
		json_array_foreach(ss, i, s) {
			printf("  %s  %-8s %3lld events  contract %.16s…  block %lld\n",
			       json_string_value(json_object_get(s, "id")),
			       json_string_value(json_object_get(s, "status")),
			       (long long)json_integer_value(json_object_get(s, "events")),
			       json_string_value(json_object_get(s, "contract")),
			       (long long)json_integer_value(json_object_get(s, "height")));
		}
	}
	json_decref(j);
	return 0;
}

/* ---- run ----------------------------------------------------------------------------------- */

static int write_record(const char *path, json_t *record);

/* Anchoring a run on the business chain (--anchor). */
struct anchor {
	struct chain_client c;       /* key and node */
	uint8_t contract[32];        /* contract hash */
	uint8_t session[32];         /* random session id */
	uint8_t salt[32];            /* random salt of the answer hashes (kept off the chain) */
	uint64_t seq;                /* next event number */
	json_t *record;              /* what --anchor-record writes */
	bool failed;                 /* a tx was refused: the run stops */
	char last_tx[2 * LB_HASH_LEN + 1]; /* id of the latest event's tx */
};

struct runner {
	bool json;         /* one JSON event per line */
	json_t *answers;   /* --answers object, or NULL for the terminal */
	FILE *in;          /* terminal input */
	struct anchor *anchor; /* NULL unless --anchor */
	bool open_ok;      /* `contract anchor` of a saved run: an unfinished one stays open */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Send one contract.session event; `extra` (stolen) is what the record keeps beside it. */
static void anchor_send(struct runner *r, uint8_t kind, const uint8_t digest[32],
			const char *decision, const char **cands, size_t ncands, json_t *extra)
{
	static const char *const names[] = { "?", "start", "answer", "decision", "complete" };
	struct anchor *a = r->anchor;
	static struct lb_kn_session_payload p;
	uint8_t *pl = NULL;
	size_t plen;
	memset(&p, 0, sizeof(p));
	p.kind = kind;
	memcpy(p.contract, a->contract, 32);
	memcpy(p.session, a->session, 32);
	p.seq = a->seq;
	if (digest != NULL)
		memcpy(p.digest, digest, 32);
	if (decision != NULL) {
		if (ncands > LB_KN_EV_MAX_CANDS || strlen(decision) >= LB_KN_NAME_MAX) {
			cli_failf(CMD, "decision '%s' commits %zu candidates; an anchored decision names "
				       "at most %d", decision, ncands, LB_KN_EV_MAX_CANDS);
			a->failed = true;
			json_decref(extra);
			return;
		}
		snprintf(p.decision, sizeof(p.decision), "%s", decision);
		qsort(cands, ncands, sizeof(*cands), cmp_str);
		for (size_t i = 0; i < ncands; i++)
			snprintf(p.cands[i], sizeof(p.cands[i]), "%s", cands[i]);
		p.ncands = (uint32_t)ncands;
	}
	if (lb_kn_session_payload_encode(&p, &pl, &plen) != LB_OK) {
		cli_failf(CMD, "could not encode the %s event", names[kind]);
		a->failed = true;
		json_decref(extra);
		return;
	}
	int rc = chain_send(&a->c, LB_TX_CONTRACT_SESSION, pl, plen, a->last_tx);
	lb_free(pl);
	if (rc) {
		a->failed = true;
		json_decref(extra);
		return;
	}
	json_t *e = extra ? extra : json_object();
	json_object_set_new(e, "seq", json_integer((json_int_t)a->seq));
	json_object_set_new(e, "event", json_string(names[kind]));
	json_object_set_new(e, "tx", json_string(a->last_tx));
	json_array_append(json_object_get(a->record, "events"), e);
	if (r->json) {
		json_t *o = json_deep_copy(e);
		json_object_set_new(o, "anchored", json_string(names[kind]));
		json_object_set_new(o, "event", json_string("anchored"));
		char *t = json_dumps(o, JSON_COMPACT);
		printf("%s\n", t);
		free(t);
		json_decref(o);
	} else {
		printf("    [anchored %s event %llu, tx %.12s…]\n", names[kind],
		       (unsigned long long)a->seq, a->last_tx);
	}
	fflush(stdout);
	json_decref(e);
	a->seq++;
}

/* Answers and decisions the engine accepted become events as they happen. */
/* Open the chain client for an anchoring of contract an->contract: a fresh random session
 * id and salt, and the record that --anchor-record writes. 0, or 1 (reason printed). */
static int anchor_begin(struct anchor *an, const char *home, const char *node, const char *key)
{
	char contract[65], session[65], salt[65];
	if (chain_open(&an->c, home, node, key))
		return 1;
	randombytes_buf(an->session, sizeof(an->session));
	randombytes_buf(an->salt, sizeof(an->salt));
	lb_hex_encode(contract, an->contract, 32);
	lb_hex_encode(session, an->session, 32);
	lb_hex_encode(salt, an->salt, 32);
	an->record = json_pack("{s:s,s:s,s:s,s:s,s:[]}", "contract", contract, "session", session,
			       "salt", salt, "node", an->c.url, "events");
	sodium_memzero(salt, sizeof(salt));
	return 0;
}

/* With the session's trace, its completion event (the hash of the whole trace); then wait
 * until the last event is in a block (*height). 0, or 1 (reason printed). */
static int anchor_finish(struct runner *r, const char *trace, size_t tlen, uint64_t *height)
{
	struct anchor *an = r->anchor;
	if (trace != NULL && !an->failed) {
		uint8_t th[32];
		char hex[65];
		lb_kn_trace_hash(trace, tlen, th);
		lb_hex_encode(hex, th, 32);
		anchor_send(r, LB_KN_EV_COMPLETE, th, NULL, NULL, 0,
			    json_pack("{s:s}", "trace_hash", hex));
	}
	return an->failed || chain_wait(&an->c, an->last_tx, 60, height) != 0;
}

static void anchor_on_event(struct runner *r, json_t *j)
{
	const char *kind = json_string_value(json_object_get(j, "event"));
	if (r->anchor->failed || kind == NULL)
		return;
	if (strcmp(kind, "data") == 0 && json_object_get(j, "by") == NULL) {
		const char *data = json_string_value(json_object_get(j, "data"));
		char *vj = json_dumps(json_object_get(j, "value"), JSON_COMPACT | JSON_ENCODE_ANY);
		uint8_t h[32];
		char hex[65];
		if (data == NULL || vj == NULL) {
			free(vj);
			return;
		}
		lb_kn_answer_hash(r->anchor->salt, data, vj, h);
		lb_hex_encode(hex, h, 32);
		json_t *x = json_pack("{s:s,s:s,s:s}", "data", data, "value_json", vj, "answer_hash", hex);
		free(vj);
		anchor_send(r, LB_KN_EV_ANSWER, h, NULL, NULL, 0, x);
	} else if (strcmp(kind, "commit") == 0) {
		const char *task = json_string_value(json_object_get(j, "task"));
		json_t *cs = json_object_get(j, "candidates");
		const char *names[LB_KN_EV_MAX_CANDS + 1];
		size_t n = 0;
		for (size_t i = 0; i < json_array_size(cs) && n <= LB_KN_EV_MAX_CANDS; i++)
			names[n++] = json_string_value(json_array_get(cs, i));
		json_t *x = json_pack("{s:s,s:O}", "decision", task ? task : "", "candidates", cs);
		anchor_send(r, LB_KN_EV_DECISION, NULL, task ? task : "", names, n, x);
	}
}

static void on_event(void *ctx, const char *ev)
{
	struct runner *r = ctx;
	json_t *j = json_loads(ev, 0, NULL);
	if (r->json) {
		printf("%s\n", ev);
		fflush(stdout);
	}
	if (r->anchor != NULL && j != NULL)
		anchor_on_event(r, j);
	if (r->json) {
		json_decref(j);
		return;
	}
	const char *kind = json_string_value(json_object_get(j, "event"));
	if (kind != NULL && strcmp(kind, "action") == 0) {
		const char *cap = json_string_value(json_object_get(j, "caption"));
		const char *proc = json_string_value(json_object_get(j, "procedure"));
		printf("\n>>> ACTION %s: %s\n", cap ? cap : json_string_value(json_object_get(j, "task")),
		       proc ? proc : "");
	} else if (kind != NULL && strcmp(kind, "data") == 0 && json_object_get(j, "warning")) {
		printf("    warning: %s\n", json_string_value(json_object_get(j, "warning")));
	} else if (kind != NULL && strcmp(kind, "commit") == 0 &&
		   json_is_true(json_object_get(j, "override"))) {
		printf("    (recommendation overridden; recorded in the trace)\n");
	} else if (kind != NULL && strcmp(kind, "finished") == 0) {
		printf("\nThe care pathway is finished.\n");
	}
	fflush(stdout);
	json_decref(j);
}

static char *read_line(struct runner *r, const char *prompt)
{
	static char line[4096];
	printf("%s", prompt);
	fflush(stdout);
	if (fgets(line, sizeof(line), r->in) == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = 0;
	return line;
}

static void json_event(const char *kind, const char *k1, const char *v1, const char *k2,
		       const char *v2)
{
	json_t *o = json_pack("{ss}", "event", kind);
	if (k1 != NULL)
		json_object_set_new(o, k1, json_string(v1));
	if (k2 != NULL)
		json_object_set_new(o, k2, json_string(v2));
	char *s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(o);
	fflush(stdout);
}

static int ask(struct runner *r, struct lb_kn_session *s, json_t *q)
{
	const char *data = json_string_value(json_object_get(q, "data"));
	char warn[256];
	struct lb_errmsg em;
	if (r->answers != NULL) {
		json_t *a = json_object_get(r->answers, data);
		if (a == NULL) {
			if (!json_is_true(json_object_get(q, "mandatory")))
				return 1; /* optional: skip */
			fprintf(stderr, "leben contract: the answers file has no value for '%s' (%s)\n",
				data, json_string_value(json_object_get(q, "caption")));
			return -1;
		}
		char *txt = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
		int rc = lb_kn_session_add_value(s, data, txt, warn, sizeof(warn), &em);
		free(txt);
		if (rc != LB_OK) {
			fprintf(stderr, "leben contract: answer for '%s' refused: %s\n", data, em.text);
			return -1;
		}
		return 0;
	}
	for (;;) {
		if (!r->json) {
			printf("\n? %s", json_string_value(json_object_get(q, "caption")));
			json_t *rg = json_object_get(q, "range"), *al = json_object_get(q, "allowed");
			const char *unit = json_string_value(json_object_get(q, "unit"));
			const char *type = json_string_value(json_object_get(q, "type"));
			if (al != NULL) {
				printf(" [");
				for (size_t i = 0; i < json_array_size(al); i++) {
					char *t = json_dumps(json_array_get(al, i), JSON_ENCODE_ANY);
					/* show text without quotes */
					const char *sv = json_string_value(json_array_get(al, i));
					printf("%s%s", i ? " | " : "", sv ? sv : t);
					free(t);
				}
				printf("]");
			} else if (rg != NULL) {
				printf(" [%g..%g]", json_number_value(json_array_get(rg, 0)),
				       json_number_value(json_array_get(rg, 1)));
			} else if (type != NULL) {
				printf(" (%s)", type);
			}
			if (json_is_true(json_object_get(q, "multiple")))
				printf(" (several, comma separated)");
			if (unit != NULL)
				printf(" %s", unit);
			if (!json_is_true(json_object_get(q, "mandatory")))
				printf(" (optional, empty to skip)");
		} else {
			char *qs = json_dumps(q, JSON_COMPACT);
			printf("{\"event\":\"question\",\"question\":%s}\n", qs);
			free(qs);
		}
		char *line = read_line(r, r->json ? "" : "\n  > ");
		if (line == NULL)
			return -2;
		if (line[0] == 0 && !json_is_true(json_object_get(q, "mandatory")))
			return 1;
		int rc = lb_kn_session_add_text(s, data, line, warn, sizeof(warn), &em);
		if (rc == LB_OK)
			return 0;
		if (r->json)
			json_event("refused", "data", data, "message", em.text);
		else
			printf("  not accepted: %s\n", em.text);
	}
}

static void show_decision(json_t *d)
{
	printf("\n== Decision: %s\n", json_string_value(json_object_get(d, "caption"))
					    ? json_string_value(json_object_get(d, "caption"))
					    : json_string_value(json_object_get(d, "name")));
	json_t *cs = json_object_get(d, "candidates");
	for (size_t i = 0; i < json_array_size(cs); i++) {
		json_t *c = json_array_get(cs, i);
		const char *cap = json_string_value(json_object_get(c, "caption"));
		printf("  %s %-20s support %+g  %s\n",
		       json_is_true(json_object_get(c, "recommended")) ? "*" : " ",
		       json_string_value(json_object_get(c, "name")),
		       json_number_value(json_object_get(c, "support")), cap ? cap : "");
		json_t *as = json_object_get(c, "arguments");
		for (size_t k = 0; k < json_array_size(as); k++) {
			json_t *a = json_array_get(as, k);
			if (!json_is_true(json_object_get(a, "active")))
				continue;
			const char *ac = json_string_value(json_object_get(a, "caption"));
			printf("        %-10s %s\n", json_string_value(json_object_get(a, "kind")),
			       ac ? ac : "");
		}
	}
	printf("  (* = recommended)\n");
}

static int decide(struct runner *r, struct lb_kn_session *s, json_t *d)
{
	const char *name = json_string_value(json_object_get(d, "name"));
	json_t *cs = json_object_get(d, "candidates");
	const char *pick[64];
	size_t n = 0;
	struct lb_errmsg em;
	for (size_t i = 0; i < json_array_size(cs) && n < 64; i++)
		if (json_is_true(json_object_get(json_array_get(cs, i), "recommended")))
			pick[n++] = json_string_value(json_object_get(json_array_get(cs, i), "name"));
	bool multiple = json_is_true(json_object_get(d, "multiple"));
	if (r->answers != NULL) {
		json_t *a = json_object_get(r->answers, name);
		if (json_is_string(a)) {
			pick[0] = json_string_value(a);
			n = 1;
		} else if (json_is_array(a)) {
			n = 0;
			for (size_t i = 0; i < json_array_size(a) && n < 64; i++)
				pick[n++] = json_string_value(json_array_get(a, i));
		} else if (!multiple && n != 1) {
			fprintf(stderr,
				"leben contract: decision '%s' has %zu recommended candidates; the "
				"answers file must choose one\n",
				name, n);
			return -1;
		}
		if (lb_kn_session_commit(s, name, pick, n, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			return -1;
		}
		return 0;
	}
	for (;;) {
		char prompt[256];
		if (r->json) {
			char *ds = json_dumps(d, JSON_COMPACT);
			printf("{\"event\":\"decision\",\"decision\":%s}\n", ds);
			free(ds);
			prompt[0] = 0;
		} else {
			show_decision(d);
			snprintf(prompt, sizeof(prompt), "  commit which%s? [Enter = %s] > ",
				 multiple ? " (comma separated)" : "",
				 n > 0 ? "the recommended" : "none recommended: type a name");
		}
		char *line = read_line(r, prompt);
		if (line == NULL)
			return -2;
		size_t k = n;
		const char *chosen[64];
		memcpy(chosen, pick, n * sizeof(*pick));
		if (line[0] != 0) {
			k = 0;
			char *save = NULL;
			for (char *t = strtok_r(line, ", ", &save); t && k < 64; t = strtok_r(NULL, ", ", &save))
				chosen[k++] = t;
		}
		if (lb_kn_session_commit(s, name, chosen, k, &em) == LB_OK)
			return 0;
		if (r->json)
			json_event("refused", "decision", name, "message", em.text);
		else
			printf("  not accepted: %s\n", em.text);
	}
}

static int confirm(struct runner *r, struct lb_kn_session *s, json_t *a)
{
	const char *name = json_string_value(json_object_get(a, "name"));
	struct lb_errmsg em;
	if (r->answers == NULL) {
		const char *cap = json_string_value(json_object_get(a, "caption"));
		char prompt[512];
		snprintf(prompt, sizeof(prompt), "\n  Confirm when done: %s [Enter] > ",
			 cap ? cap : name);
		if (r->json)
			json_event("confirm", "task", name, NULL, NULL);
		if (read_line(r, r->json ? "" : prompt) == NULL)
			return -2;
	}
	if (lb_kn_session_confirm(s, name, &em) != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		return -1;
	}
	return 0;
}

static int64_t today_days(void)
{
	return (int64_t)(time(NULL) / 86400);
}

static int parse_date(const char *s, int64_t *day)
{
	int y, m, d;
	char c;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &c) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12 };
	time_t t = timegm(&tm);
	*day = (int64_t)(t / 86400);
	return 0;
}

/* ---- run under the PROformajs rules --------------------------------------------------------- */

/* One run of a protocol with the PROformajs rules (lb_kn_enactment_*): every operation is
 * shown as a step (--json: one line {"event":"step","step","op","error",...state}, the state
 * being the snapshot the differential test compares with PROformajs). */
struct pfrun {
	struct runner *r;
	struct lb_kn_enactment *e;
	const struct lb_kn_model *m;
	size_t step;
	json_t *prev;     /* previous state (text mode: what changed is printed) */
	json_t *skipped;  /* questions asked: "enquiry path|item" -> true; "|triggers" sent */
};

static json_t *pf_state(struct pfrun *p)
{
	char *st = NULL;
	struct lb_errmsg em;
	if (lb_kn_enactment_state(p->e, &st, &em) != LB_OK)
		return NULL;
	json_t *j = json_loads(st, 0, NULL);
	lb_free(st);
	return j;
}

static void pf_show(struct pfrun *p, json_t *op, bool err, const char *msg)
{
	json_t *st = pf_state(p);
	if (st == NULL)
		return;
	if (p->r->json) {
		json_t *o = json_pack("{s:s,s:I,s:O,s:b}", "event", "step", "step",
				      (json_int_t)p->step, "op", op, "error", err);
		if (err && msg != NULL)
			json_object_set_new(o, "message", json_string(msg));
		json_object_update(o, st);
		char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", t);
		free(t);
		json_decref(o);
	} else {
		if (err)
			printf("  not accepted: %s\n", msg ? msg : "refused");
		const char *path;
		json_t *v;
		json_object_foreach(json_object_get(st, "tasks"), path, v) {
			json_t *was = json_object_get(json_object_get(p->prev, "tasks"), path);
			if (was == NULL || !json_equal(was, v))
				printf("  [%s] %s\n", path, json_string_value(v));
		}
		size_t wi;
		json_array_foreach(json_object_get(st, "warnings"), wi, v) {
			bool old = false;
			json_t *w;
			size_t k;
			json_array_foreach(json_object_get(p->prev, "warnings"), k, w)
				old |= json_equal(w, v);
			if (!old)
				printf("    warning: %s\n", json_string_value(v));
		}
	}
	fflush(stdout);
	json_decref(p->prev);
	p->prev = st;
	p->step++;
}

/* Apply one operation (stolen) and show it: 0 applied, -1 refused. */
/* Anchoring a run under the PROformajs rules (--anchor): each answer of an accepted `set`
 * as its salted hash, each decision completed with the names of the candidates confirmed
 * then (any number: PROformajs confirms any number), as for LEBEN's rules; p->prev is the
 * state before op. */
static void pf_anchor(struct pfrun *p, json_t *op)
{
	const char *kind = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	if (kind == NULL || path == NULL)
		return;
	if (strcmp(kind, "set") == 0) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(op, "data"), k, v) {
			char *vj = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			uint8_t h[32];
			char hex[65];
			if (vj == NULL)
				continue;
			lb_kn_answer_hash(p->r->anchor->salt, k, vj, h);
			lb_hex_encode(hex, h, 32);
			json_t *x = json_pack("{s:s,s:s,s:s}", "data", k, "value_json", vj,
					      "answer_hash", hex);
			free(vj);
			anchor_send(p->r, LB_KN_EV_ANSWER, h, NULL, NULL, 0, x);
		}
		return;
	}
	json_t *cands = json_object_get(p->prev, "candidates");
	if (strcmp(kind, "complete") != 0 || json_object_size(cands) == 0)
		return;
	size_t pl = strlen(path), n = 0;
	bool decision = false;
	const char *names[LB_KN_EV_MAX_CANDS + 1];
	const char *cp;
	json_t *cv;
	json_object_foreach(cands, cp, cv) {
		if (strncmp(cp, path, pl) != 0 || cp[pl] != ':' || strchr(cp + pl + 1, ':'))
			continue;
		decision = true;
		if (json_is_true(json_array_get(cv, 2)) && n <= LB_KN_EV_MAX_CANDS)
			names[n++] = cp + pl + 1;
	}
	if (!decision)
		return;
	/* the decision's design name: the path's last part without a repetition's [i] */
	const char *last = strrchr(path, ':');
	char dname[LB_KN_NAME_MAX];
	snprintf(dname, sizeof(dname), "%s", last ? last + 1 : path);
	dname[strcspn(dname, "[")] = 0;
	json_t *cl = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cl, json_string(names[i]));
	json_t *x = json_pack("{s:s,s:s,s:o}", "decision", dname, "path", path, "candidates", cl);
	anchor_send(p->r, LB_KN_EV_DECISION, NULL, dname, names, n, x);
}

static int pf_apply(struct pfrun *p, json_t *op)
{
	char *t = json_dumps(op, JSON_COMPACT);
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = t ? lb_kn_enactment_apply(p->e, t, &em) : LB_ENOMEM;
	free(t);
	if (rc == LB_EMALFORMED || rc == LB_ENOMEM) {
		fprintf(stderr, "leben contract: %s\n", rc == LB_ENOMEM ? "out of memory" : em.text);
		json_decref(op);
		return -2;
	}
	if (rc == LB_OK && p->r->anchor != NULL)
		pf_anchor(p, op);
	pf_show(p, op, rc != LB_OK, em.text);
	json_decref(op);
	if (p->r->anchor != NULL && p->r->anchor->failed)
		return -2;
	return rc == LB_OK ? 0 : -1;
}

/* A value typed at the terminal: JSON when it parses as JSON, else text; "a, b" for an item
 * with several values. */
static json_t *pf_value_text(const char *line, bool multiple)
{
	json_t *v = json_loads(line, JSON_DECODE_ANY, NULL);
	if (v != NULL)
		return v;
	if (!multiple)
		return json_string(line);
	json_t *a = json_array();
	char buf[4096], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		json_t *x = json_loads(t, JSON_DECODE_ANY, NULL);
		json_array_append_new(a, x ? x : json_string(t));
	}
	return a;
}

/* Questions: set each requested item. 0 = something set, 1 = nothing to ask, <0 stop. */
static int pf_ask(struct pfrun *p, json_t *qs)
{
	struct runner *r = p->r;
	int res = 1;
	json_t *q;
	size_t i;
	json_array_foreach(qs, i, q) {
		const char *path = json_string_value(json_object_get(q, "path"));
		const char *data = json_string_value(json_object_get(q, "data"));
		bool mandatory = json_is_true(json_object_get(q, "mandatory"));
		char key[1024];
		snprintf(key, sizeof(key), "%s|%s", path, data);
		if (json_object_get(p->skipped, key) != NULL)
			continue;
		json_t *v = NULL;
		if (r->answers != NULL) {
			v = json_incref(json_object_get(r->answers, data));
			/* the answers given so far in this pass may withdraw the request (a
			 * requestCondition over them): let the engine run first */
			if (v == NULL && mandatory && res == 0)
				return 0;
			if (v == NULL && mandatory) {
				fprintf(stderr, "leben contract: the answers file has no value for '%s' (%s)\n",
					data, json_string_value(json_object_get(q, "caption")));
				return -1;
			}
		} else {
			if (r->json) {
				char *qt = json_dumps(q, JSON_COMPACT);
				printf("{\"event\":\"question\",\"question\":%s}\n", qt);
				free(qt);
			} else {
				printf("\n? %s", json_string_value(json_object_get(q, "caption")));
				json_t *al = json_object_get(q, "allowed");
				if (al != NULL) {
					char *at = json_dumps(al, JSON_COMPACT);
					printf(" %s", at);
					free(at);
				} else {
					printf(" (%s)", json_string_value(json_object_get(q, "type")));
				}
				if (json_is_true(json_object_get(q, "multiple")))
					printf(" (several, comma separated)");
				if (json_object_get(q, "unit"))
					printf(" %s", json_string_value(json_object_get(q, "unit")));
				if (!mandatory)
					printf(" (optional, empty to skip)");
			}
			char *line = read_line(r, r->json ? "" : "\n  > ");
			if (line == NULL)
				return -2;
			if (line[0] != 0)
				v = pf_value_text(line, json_is_true(json_object_get(q, "multiple")));
		}
		json_object_set_new(p->skipped, key, json_true()); /* asked once per enquiry */
		if (v == NULL)
			continue;
		json_t *op = json_pack("{s:s,s:s,s:{s:o}}", "op", "set", "path", path, "data", data, v);
		int a = pf_apply(p, op);
		if (a == -1 && r->answers != NULL) {
			fprintf(stderr, "leben contract: answer for '%s' refused\n", data);
			return -1;
		}
		if (a == -2)
			return -2;
		res = 0;
	}
	return res;
}

/* A decision in progress: confirm the chosen candidates (the answers file's, the typed ones,
 * else the recommended), unconfirm the others, complete it. 0, or <0 to stop. */
static int pf_decide(struct pfrun *p, json_t *d)
{
	struct runner *r = p->r;
	const char *name = json_string_value(json_object_get(d, "name"));
	json_t *cs = json_object_get(d, "candidates"), *c, *chosen = json_array();
	size_t i;
	json_array_foreach(cs, i, c)
		if (json_is_true(json_object_get(c, "recommended")))
			json_array_append(chosen, json_object_get(c, "name"));
	json_t *a = r->answers ? json_object_get(r->answers, name) : NULL;
	if (json_is_string(a)) {
		json_array_clear(chosen);
		json_array_append(chosen, a);
	} else if (json_is_array(a)) {
		json_array_clear(chosen);
		json_array_extend(chosen, a);
	} else if (r->answers == NULL) {
		if (r->json) {
			char *ds = json_dumps(d, JSON_COMPACT);
			printf("{\"event\":\"decision\",\"decision\":%s}\n", ds);
			free(ds);
		} else {
			printf("\n== Decision: %s\n", json_string_value(json_object_get(d, "caption"))
							    ? json_string_value(json_object_get(d, "caption"))
							    : name);
			json_array_foreach(cs, i, c) {
				const char *cap = json_string_value(json_object_get(c, "caption"));
				char *sup = json_dumps(json_object_get(c, "support"), JSON_ENCODE_ANY);
				printf("  %s %-20s support %s  %s\n",
				       json_is_true(json_object_get(c, "recommended")) ? "*" : " ",
				       json_string_value(json_object_get(c, "name")), sup ? sup : "-",
				       cap ? cap : "");
				free(sup);
			}
			printf("  (* = recommended)\n");
		}
		char prompt[256];
		snprintf(prompt, sizeof(prompt), "  commit which%s? [Enter = %s] > ",
			 json_is_true(json_object_get(d, "multiple")) ? " (comma separated)" : "",
			 json_array_size(chosen) ? "the recommended" : "none recommended: type a name");
		char *line = read_line(r, r->json ? "" : prompt);
		if (line == NULL) {
			json_decref(chosen);
			return -2;
		}
		if (line[0] != 0) {
			json_array_clear(chosen);
			char *save = NULL;
			for (char *t = strtok_r(line, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
				json_array_append_new(chosen, json_string(t));
		}
	}
	int rc = 0, done = 0;
	json_array_foreach(cs, i, c) {
		bool want = false, has = json_is_true(json_object_get(c, "confirmed"));
		json_t *x;
		size_t k;
		json_array_foreach(chosen, k, x)
			want |= json_equal(x, json_object_get(c, "name"));
		if (want != has && rc == 0) {
			rc = pf_apply(p, json_pack("{s:s,s:O}", "op", want ? "confirm" : "unconfirm",
						   "path", json_object_get(c, "path")));
			done++;
		}
	}
	json_array_foreach(chosen, i, c) {
		bool known = false;
		json_t *x;
		size_t k;
		json_array_foreach(cs, k, x)
			known |= json_equal(c, json_object_get(x, "name"));
		if (!known) {
			fprintf(stderr, "leben contract: decision '%s' has no candidate '%s'\n", name,
				json_string_value(c) ? json_string_value(c) : "?");
			rc = -1;
		}
	}
	json_decref(chosen);
	/* complete it unless it is done already (an autonomous decision completes itself once a
	 * candidate is confirmed) */
	bool can = false;
	json_array_foreach(json_object_get(p->prev, "completeable"), i, c)
		can |= json_equal(c, json_object_get(d, "path"));
	if (rc == 0 && can)
		rc = pf_apply(p, json_pack("{s:s,s:O}", "op", "complete", "path",
					   json_object_get(d, "path")));
	else if (rc == 0 && done == 0)
		return 1; /* nothing to do here: the choice stands and the decision waits */
	if (rc == -1 && r->answers == NULL)
		return 0; /* refused at the terminal: shown; ask again */
	return rc;
}

/* A task that can be completed: actions and plain tasks are confirmed by the user (the
 * answers file confirms them), enquiries and plans are completed. 0, or <0 to stop. */
static int pf_complete(struct pfrun *p, json_t *t)
{
	struct runner *r = p->r;
	const char *cls = json_string_value(json_object_get(t, "class"));
	if (r->answers == NULL && (strcmp(cls, "action") == 0 || strcmp(cls, "task") == 0)) {
		const char *cap = json_string_value(json_object_get(t, "caption"));
		const char *proc = json_string_value(json_object_get(t, "procedure"));
		const char *name = json_string_value(json_object_get(t, "name"));
		if (r->json) {
			json_event("confirm", "task", json_string_value(json_object_get(t, "path")),
				   NULL, NULL);
		} else {
			printf("\n>>> ACTION %s%s%s\n", cap ? cap : name, proc ? ": " : "",
			       proc ? proc : "");
		}
		if (read_line(r, r->json ? "" : "  Confirm when done [Enter] > ") == NULL)
			return -2;
	}
	return pf_apply(p, json_pack("{s:s,s:O}", "op", "complete", "path",
				     json_object_get(t, "path")));
}

/* A trigger: the answers file sends those it lists as "trigger name": true; at the terminal,
 * asked for. 0 sent, 1 none, <0 stop. */
static int pf_trigger(struct pfrun *p, json_t *trs)
{
	struct runner *r = p->r;
	json_t *t;
	size_t i;
	if (json_array_size(trs) == 0)
		return 1;
	if (r->answers != NULL) {
		json_array_foreach(trs, i, t)
			if (json_is_true(json_object_get(r->answers, json_string_value(t)))) {
				json_t *sent = json_object_get(p->skipped, "|triggers");
				if (sent == NULL) {
					sent = json_object();
					json_object_set_new(p->skipped, "|triggers", sent);
				}
				if (json_object_get(sent, json_string_value(t)))
					continue;
				json_object_set_new(sent, json_string_value(t), json_true());
				return pf_apply(p, json_pack("{s:s,s:O}", "op", "trigger", "name", t)) ==
						       -2
					       ? -2
					       : 0;
			}
		return 1;
	}
	char *tt = json_dumps(trs, JSON_COMPACT);
	if (r->json)
		printf("{\"event\":\"triggers\",\"triggers\":%s}\n", tt);
	else
		printf("\nTriggers that would start a task: %s\n", tt);
	free(tt);
	char *line = read_line(r, r->json ? "" : "  send which? [Enter = none] > ");
	if (line == NULL)
		return -2;
	if (line[0] == 0)
		return 1;
	return pf_apply(p, json_pack("{s:s,s:s}", "op", "trigger", "name", line)) == -2 ? -2 : 0;
}

static int pf_save(struct pfrun *p, const char *save)
{
	char *ops;
	struct lb_errmsg em;
	if (lb_kn_enactment_ops(p->e, &ops, &em) != LB_OK) {
		fprintf(stderr, "leben contract: saving: %s\n", em.text);
		return 1;
	}
	json_t *o = json_pack("{s:s,s:s,s:o}", "rules", "proformajs", "model",
			      lb_kn_model_name(p->m), "ops", json_loads(ops, 0, NULL));
	lb_free(ops);
	char *t = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(o);
	int rc = t ? lb_file_write(save, t, strlen(t), 0600, &em) : LB_ENOMEM;
	free(t);
	if (rc != LB_OK) {
		fprintf(stderr, "leben contract: saving: %s\n", rc == LB_ENOMEM ? "out of memory" : em.text);
		return 1;
	}
	return 0;
}

/* `contract run` with the PROformajs rules. answers: NULL (terminal), an object (answers by
 * item / decision name, as for LEBEN's rules) or an array (the operations themselves, applied
 * in order; a refused one is shown and the run goes on, as PROformajs's caller would). */
static int run_proformajs(struct runner *r, const struct lb_kn_model *m, const char *file,
			  const char *save, const char *resume)
{
	struct pfrun p = { .r = r, .m = m, .skipped = json_object() };
	struct lb_errmsg em;
	int status = 1;
	if (lb_kn_enactment_new(m, &p.e, &em) != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		json_decref(p.skipped);
		return 1;
	}
	if (!r->json)
		printf("Contract: %s (PROformajs rules)\n", lb_kn_model_name(m));
	if (resume != NULL) {
		json_error_t je;
		json_t *sv = json_load_file(resume, 0, &je);
		json_t *ops = json_object_get(sv, "ops"), *op;
		size_t i;
		const char *rl = json_string_value(json_object_get(sv, "rules"));
		if (!json_is_array(ops) || rl == NULL || strcmp(rl, "proformajs") != 0) {
			fprintf(stderr, "leben contract: %s: not a session saved under the PROformajs "
					"rules (\"rules\": \"proformajs\", \"ops\": [...])%s%s\n",
				resume, sv ? "" : ": ", sv ? "" : je.text);
			json_decref(sv);
			goto out;
		}
		const char *sm = json_string_value(json_object_get(sv, "model"));
		if (sm != NULL && strcmp(sm, lb_kn_model_name(m)) != 0) {
			fprintf(stderr, "leben contract: %s is a run of '%s', not of '%s'\n", resume, sm,
				lb_kn_model_name(m));
			json_decref(sv);
			goto out;
		}
		json_array_foreach(ops, i, op) {
			char *t = json_dumps(op, JSON_COMPACT);
			int rc = t ? lb_kn_enactment_apply(p.e, t, &em) : LB_ENOMEM;
			free(t);
			if (rc == LB_EMALFORMED || rc == LB_ENOMEM) {
				fprintf(stderr, "leben contract: %s: operation %zu: %s\n", resume, i + 1,
					em.text);
				json_decref(sv);
				goto out;
			}
		}
		json_decref(sv);
	}
	json_t *first = json_pack("{s:s}", "op", resume ? "resume" : "start");
	pf_show(&p, first, false, NULL);
	json_decref(first);
	if (json_is_array(r->answers)) {
		json_t *op;
		size_t i;
		json_array_foreach(r->answers, i, op) {
			if (pf_apply(&p, json_incref(op)) == -2)
				goto out;
		}
		if (lb_kn_enactment_finished(p.e) || r->open_ok) {
			status = 0;
		} else {
			fprintf(stderr, "leben contract: the pathway is not finished after the %zu "
					"operations of the answers file\n",
				json_array_size(r->answers));
		}
		goto out;
	}
	for (unsigned rounds = 0;; rounds++) {
		if (lb_kn_enactment_finished(p.e)) {
			status = 0;
			if (!r->json)
				printf("\nThe care pathway is finished.\n");
			break;
		}
		if (r->answers != NULL && rounds == 1000) {
			/* answers by item never change: a repetition they do not end runs for ever */
			fprintf(stderr, "leben contract: the pathway is not finished after %u rounds of "
					"these answers (a repetition they never end?); stopped\n",
				rounds);
			goto out;
		}
		char *pj;
		if (lb_kn_enactment_pending(p.e, &pj, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			goto out;
		}
		json_t *pd = json_loads(pj, 0, NULL);
		lb_free(pj);
		int res = pf_ask(&p, json_object_get(pd, "questions"));
		json_t *ts = json_object_get(pd, "tasks");
		/* a task that can be completed, enquiries last (their optional questions first) */
		json_t *next = NULL, *t;
		size_t i;
		json_array_foreach(ts, i, t)
			if (next == NULL || (strcmp(json_string_value(json_object_get(next, "class")),
						    "enquiry") == 0 &&
					     strcmp(json_string_value(json_object_get(t, "class")),
						    "enquiry") != 0))
				next = t;
		for (size_t k = 0; res == 1 && k < json_array_size(json_object_get(pd, "decisions")); k++)
			res = pf_decide(&p, json_array_get(json_object_get(pd, "decisions"), k));
		if (res == 1 && next != NULL)
			res = pf_complete(&p, next);
		if (res == 1)
			res = pf_trigger(&p, json_object_get(pd, "triggers"));
		json_decref(pd);
		if (res == -2) {
			fprintf(stderr, "leben contract: input ended before the pathway finished%s\n",
				save ? " (session saved)" : "");
			goto out;
		}
		if (res == -1 && r->answers != NULL)
			goto out;
		if (res == 1) {
			fprintf(stderr,
				"leben contract: the pathway is waiting for nothing it can ask "
				"(a deadlock; run 'leben contract check %s')\n",
				file);
			goto out;
		}
	}
out:
	if (r->anchor != NULL && status == 0 && lb_kn_enactment_finished(p.e)) {
		/* completion: the hash of the operations (the trace a holder replays), kept in the
		 * record, then wait until it is in a block */
		char *ops = NULL;
		uint64_t height = 0;
		if (lb_kn_enactment_ops(p.e, &ops, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			status = 1;
		} else {
			json_object_set_new(r->anchor->record, "trace", json_string(ops));
			json_object_set_new(r->anchor->record, "rules", json_string("proformajs"));
			if (anchor_finish(r, ops, strlen(ops), &height))
				status = 1;
			else if (!r->json)
				printf("Session %s anchored: %llu events, complete in block %llu\n",
				       json_string_value(json_object_get(r->anchor->record, "session")),
				       (unsigned long long)r->anchor->seq, (unsigned long long)height);
		}
		lb_free(ops);
	}
	if (!r->json && p.prev != NULL) {
		json_t *d = json_object_get(p.prev, "data");
		if (json_object_size(d) > 0) {
			printf("\nData:\n");
			const char *k;
			json_t *v;
			json_object_foreach(d, k, v) {
				char *vt = json_dumps(v, JSON_ENCODE_ANY);
				printf("  %s = %s\n", k, vt ? vt : "?");
				free(vt);
			}
		}
	}
	if (save != NULL && pf_save(&p, save))
		status = 1;
	json_decref(p.prev);
	json_decref(p.skipped);
	lb_kn_enactment_free(p.e);
	return status;
}

/* run_proformajs with the answers file read; frees m. */
/* LEBEN's rules are the .pf form's: a JSON protocol using PROformajs's wider rules (a task
 * name repeated in another plan, a name starting with a digit...) runs under PROformajs's. */
static bool leben_rules_refused(const struct lb_kn_model *m, const char *file)
{
	struct lb_errmsg pem;
	if (lb_kn_model_printable(m, LB_KN_FORM_PF, &pem) == LB_OK)
		return false;
	fprintf(stderr,
		"leben contract: %s: LEBEN's rules take what the .pf form holds, and %s; run it "
		"with --rules proformajs\n",
		file, pem.text);
	return true;
}

static int run_proformajs_file(struct runner *r, struct lb_kn_model *m, const char *file,
			       const char *answers, const char *save, const char *resume,
			       struct anchor *an, const char *home, const char *node,
			       const char *key, const char *record)
{
	int status = 1;
	if (an != NULL) {
		/* the contract as published under the PROformajs rules (its JSON form's hash) */
		memset(an, 0, sizeof(*an));
		if (lb_kn_model_hash_rules(m, LB_KN_RULES_PROFORMAJS, an->contract) != LB_OK ||
		    anchor_begin(an, home, node, key)) {
			chain_close(&an->c);
			lb_kn_model_free(m);
			return 1;
		}
		r->anchor = an;
		if (!r->json)
			printf("Anchoring session %s on %s (PROformajs rules)\n",
			       json_string_value(json_object_get(an->record, "session")), an->c.url);
		anchor_send(r, LB_KN_EV_START, NULL, NULL, NULL, 0, NULL);
		if (an->failed)
			goto out;
	}
	if (answers != NULL) {
		json_error_t je;
		r->answers = json_load_file(answers, 0, &je);
		/* an integer beyond 64 bits (an answer PROformajs reads as JavaScript's number):
		 * every number as a double then, as JavaScript reads them */
		if (r->answers == NULL && strstr(je.text, "too big integer") != NULL)
			r->answers = json_load_file(answers, JSON_DECODE_INT_AS_REAL, &je);
		if (!json_is_object(r->answers) && !json_is_array(r->answers)) {
			fprintf(stderr, "leben contract: %s:%d:%d: %s\n", answers, je.line, je.column,
				r->answers ? "expected a JSON object (answers) or array (operations)"
					   : je.text);
			goto out;
		}
	}
	status = run_proformajs(r, m, file, save, resume);
out:
	if (an != NULL) {
		if (record != NULL && write_record(record, an->record))
			status = 1;
		if (an->failed && status == 0)
			status = 1;
		json_decref(an->record);
		chain_close(&an->c);
	}
	json_decref(r->answers);
	lb_kn_model_free(m);
	return status;
}

static int cmd_run(int argc, char **argv)
{
	const char *file = NULL, *answers = NULL, *save = NULL, *resume = NULL, *key = NULL,
		   *home = NULL, *node = NULL, *record = NULL;
	bool anchor = false;
	struct runner r = { .in = stdin };
	static struct anchor an;
	int64_t today = today_days();
	const char *today_text = NULL, *rules_text = NULL;
	const struct copt opts[] = {
		{"--answers", &answers, NULL},	 {"--json", NULL, &r.json},
		{"--save", &save, NULL},	 {"--resume", &resume, NULL},
		{"--anchor", NULL, &anchor},	 {"--key", &key, NULL},
		{"--from", &key, NULL},		 {"--anchor-record", &record, NULL},
		{"--home", &home, NULL},	 {"--node", &node, NULL},
		{"--today", &today_text, NULL}, {"--rules", &rules_text, NULL},
		{NULL, NULL, NULL},
	};
	if (parse_args(argc, argv, opts, &file))
		return 2;
	enum lb_kn_rules rules = LB_KN_RULES_AUTO;
	if (rules_text != NULL && lb_kn_rules_parse(rules_text, &rules) != LB_OK) {
		fprintf(stderr, "leben contract: --rules takes proformajs, leben or auto\n");
		return 2;
	}
	if (today_text != NULL && parse_date(today_text, &today) != 0) {
		fprintf(stderr, "leben contract: --today takes YYYY-MM-DD\n");
		return 2;
	}
	if (file == NULL) {
		print_usage(stderr);
		return 2;
	}
	if (anchor && (key == NULL || resume != NULL)) {
		fprintf(stderr, "leben contract: --anchor needs --key NAME (the key that signs the "
				"events) and starts a new session (not with --resume)\n");
		return 2;
	}
	if (!anchor && (key != NULL || record != NULL)) {
		fprintf(stderr, "leben contract: --key and --anchor-record go with --anchor\n");
		return 2;
	}
	struct lb_kn_model *m;
	if (load(file, &m) != 0)
		return 1;
	if (rules == LB_KN_RULES_AUTO && resume != NULL) {
		/* a saved run continues under the rules it was saved with */
		json_t *sv = json_load_file(resume, 0, NULL);
		const char *sr = json_string_value(json_object_get(sv, "rules"));
		if (sr != NULL && strcmp(sr, "proformajs") == 0)
			rules = LB_KN_RULES_PROFORMAJS;
		else if (sv != NULL)
			rules = LB_KN_RULES_LEBEN;
		json_decref(sv);
	}
	if (rules == LB_KN_RULES_AUTO)
		rules = lb_kn_model_rules(m);
	if (rules == LB_KN_RULES_PROFORMAJS)
		return run_proformajs_file(&r, m, file, answers, save, resume, anchor ? &an : NULL,
					   home, node, key, record);
	if (leben_rules_refused(m, file)) {
		lb_kn_model_free(m);
		return 1;
	}
	int status = 1;
	struct lb_errmsg em;
	struct lb_kn_session *s = NULL;
	if (anchor) {
		memset(&an, 0, sizeof(an));
		if (lb_kn_model_hash(m, an.contract) != LB_OK ||
		    anchor_begin(&an, home, node, key)) {
			chain_close(&an.c);
			lb_kn_model_free(m);
			return 1;
		}
		r.anchor = &an;
	}
	if (answers != NULL) {
		json_error_t je;
		r.answers = json_load_file(answers, 0, &je);
		if (!json_is_object(r.answers)) {
			fprintf(stderr, "leben contract: %s:%d:%d: %s\n", answers, je.line, je.column,
				r.answers ? "expected a JSON object" : je.text);
			goto out;
		}
	}
	int rc;
	if (resume != NULL) {
		uint8_t *data;
		size_t len;
		rc = lb_file_read(resume, (256u << 20), &data, &len, &em);
		if (rc == LB_OK) {
			rc = lb_kn_session_resume(m, (const char *)data, len, &s, &em);
			lb_free(data);
		}
	} else {
		rc = lb_kn_session_new(m, today, &s, &em);
	}
	if (rc != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		goto out;
	}
	lb_kn_session_set_listener(s, on_event, &r);
	if (!r.json)
		printf("Contract: %s\n", lb_kn_model_name(m));
	if (r.anchor != NULL) {
		if (!r.json)
			printf("Anchoring session %s on %s\n",
			       json_string_value(json_object_get(an.record, "session")), an.c.url);
		anchor_send(&r, LB_KN_EV_START, NULL, NULL, NULL, 0, NULL);
	}
	for (;;) {
		if (r.anchor != NULL && an.failed)
			goto out;
		if (lb_kn_session_run(s, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			goto out;
		}
		if (r.anchor != NULL && an.failed)
			goto out;
		if (lb_kn_session_is_finished(s)) {
			status = 0;
			break;
		}
		char *pj;
		if (lb_kn_session_pending(s, &pj, &em) != LB_OK) {
			fprintf(stderr, "leben contract: %s\n", em.text);
			goto out;
		}
		json_t *p = json_loads(pj, 0, NULL);
		lb_free(pj);
		json_t *qs = json_object_get(p, "questions"), *ds = json_object_get(p, "decisions"),
		       *as = json_object_get(p, "actions");
		int res = 1; /* 1 = nothing done */
		/* all questions listed now, in order, before the engine runs again (so optional
		 * questions are asked before the enquiry completes) */
		for (size_t i = 0; i < json_array_size(qs) && res >= 0; i++) {
			int a = ask(&r, s, json_array_get(qs, i));
			if (a <= 0)
				res = a;
		}
		if (res == 1 && json_array_size(ds) > 0)
			res = decide(&r, s, json_array_get(ds, 0));
		if (res == 1 && json_array_size(as) > 0)
			res = confirm(&r, s, json_array_get(as, 0));
		if (res == 1 && json_integer_value(json_object_get(p, "next_wake")) > 0) {
			/* nothing to do until a follow-up date: move time forward */
			res = lb_kn_session_set_time(s, json_integer_value(json_object_get(p, "next_wake")),
						     &em) == LB_OK ? 0 : -1;
		}
		json_decref(p);
		if (res == -2) {
			fprintf(stderr, "leben contract: input ended before the pathway finished%s\n",
				save ? " (session saved)" : "");
			goto out;
		}
		if (res < 0)
			goto out;
		if (res == 1) {
			fprintf(stderr,
				"leben contract: the pathway is waiting for nothing it can ask "
				"(a deadlock; run 'leben contract check %s')\n",
				file);
			goto out;
		}
	}
	if (r.anchor != NULL) {
		/* completion: the hash of the whole trace, then wait until it is in a block */
		size_t tlen;
		const char *trace = lb_kn_session_trace(s, &tlen);
		uint64_t height = 0;
		if (anchor_finish(&r, trace, tlen, &height)) {
			status = 1;
			goto out;
		}
		if (!r.json)
			printf("Session %s anchored: %llu events, complete in block %llu\n",
			       json_string_value(json_object_get(an.record, "session")),
			       (unsigned long long)an.seq, (unsigned long long)height);
	}
out:
	if (r.anchor != NULL) {
		if (record != NULL && write_record(record, an.record))
			status = 1;
		if (an.failed && status == 0)
			status = 1;
		json_decref(an.record);
		chain_close(&an.c);
	}
	if (s != NULL && save != NULL) {
		char *txt;
		size_t len;
		if (lb_kn_session_save(s, &txt, &len, &em) != LB_OK ||
		    lb_file_write(save, txt, len, 0600, &em) != LB_OK) {
			fprintf(stderr, "leben contract: saving: %s\n", em.text);
			status = 1;
		} else {
			lb_free(txt);
		}
	}
	lb_kn_session_free(s);
	json_decref(r.answers);
	lb_kn_model_free(m);
	return status;
}

/* ---- anchor a saved session ----------------------------------------------------------------- */

/* Write the record of an anchoring (--anchor-record); the salt inside is wiped from memory. */
static int write_record(const char *path, json_t *record)
{
	struct lb_errmsg em;
	char *t = json_dumps(record, JSON_INDENT(2));
	int rc = 0;
	if (t == NULL || lb_file_write(path, t, strlen(t), 0600, &em) != LB_OK) {
		fprintf(stderr, "leben contract: writing %s: %s\n", path, t ? em.text : "out of memory");
		rc = 1;
	}
	if (t != NULL) {
		sodium_memzero(t, strlen(t));
		free(t);
	}
	return rc;
}

/* `leben contract anchor SESSION.json`: the events of a session saved by `run --save`, read
 * back from its trace, anchored as `run --anchor` would have anchored them. */
static int cmd_anchor(int argc, char **argv)
{
	const char *file = NULL, *key = NULL, *home = NULL, *node = NULL, *record = NULL;
	const char *cfile = NULL;
	bool json = false;
	const struct copt opts[] = {
		{"--key", &key, NULL},	 {"--from", &key, NULL},   {"--anchor-record", &record, NULL},
		{"--home", &home, NULL}, {"--node", &node, NULL}, {"--json", NULL, &json},
		{"--contract", &cfile, NULL}, {NULL, NULL, NULL},
	};
	if (parse_args(argc, argv, opts, &file))
		return 2;
	if (file == NULL || key == NULL) {
		fprintf(stderr, "leben contract: anchor needs SESSION.json (saved by 'leben contract "
				"run --save') and --key NAME\n");
		return 2;
	}
	json_error_t je;
	json_t *saved = json_load_file(file, 0, &je);
	const char *contract = json_string_value(json_object_get(saved, "contract"));
	const char *trace = json_string_value(json_object_get(saved, "trace"));
	static struct anchor an;
	memset(&an, 0, sizeof(an));
	const char *srules = json_string_value(json_object_get(saved, "rules"));
	if (srules != NULL && strcmp(srules, "proformajs") == 0) {
		/* a run under the PROformajs rules keeps its operations, not the contract: they
		 * are applied again to the contract given, anchoring as `run --anchor` does */
		json_t *ops = json_object_get(saved, "ops");
		const char *sm = json_string_value(json_object_get(saved, "model"));
		struct lb_kn_model *m = NULL;
		if (cfile == NULL || !json_is_array(ops)) {
			fprintf(stderr, "leben contract: %s is a run under the PROformajs rules: %s\n",
				file, cfile == NULL ? "give its contract with --contract FILE.json"
						    : "it has no \"ops\" list");
			json_decref(saved);
			return cfile == NULL ? 2 : 1;
		}
		if (load(cfile, &m) != 0) {
			json_decref(saved);
			return 1;
		}
		if (sm != NULL && strcmp(sm, lb_kn_model_name(m)) != 0) {
			fprintf(stderr, "leben contract: %s is a run of '%s', not of '%s' (%s)\n", file,
				sm, lb_kn_model_name(m), cfile);
			lb_kn_model_free(m);
			json_decref(saved);
			return 1;
		}
		struct runner pr = { .json = json, .answers = json_incref(ops), .open_ok = true };
		json_decref(saved);
		return run_proformajs_file(&pr, m, cfile, NULL, NULL, NULL, &an, home, node, key,
					   record);
	}
	if (saved == NULL || contract == NULL || trace == NULL ||
	    lb_hex_decode(an.contract, 32, contract)) {
		fprintf(stderr, "leben contract: %s:%d:%d: %s\n", file, je.line, je.column,
			saved ? "not a saved session (no contract hash or trace)" : je.text);
		json_decref(saved);
		return 1;
	}
	int status = 1;
	struct runner r = { .json = json, .anchor = &an };
	if (anchor_begin(&an, home, node, key))
		goto out;
	if (!json)
		printf("Anchoring the session saved in %s as %s on %s\n", file,
		       json_string_value(json_object_get(an.record, "session")), an.c.url);
	anchor_send(&r, LB_KN_EV_START, NULL, NULL, NULL, 0, NULL);
	bool finished = false;
	for (const char *p = trace; *p && !an.failed;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		json_t *ev = json_loadb(p, n, 0, NULL);
		const char *kind = json_string_value(json_object_get(ev, "event"));
		if (ev == NULL || kind == NULL) {
			json_decref(ev);
			fprintf(stderr, "leben contract: %s: a line of the trace is not an event\n", file);
			goto out;
		}
		finished |= strcmp(kind, "finished") == 0;
		anchor_on_event(&r, ev);
		json_decref(ev);
		p += n + (nl != NULL);
	}
	uint64_t height = 0;
	if (an.failed || anchor_finish(&r, finished ? trace : NULL, strlen(trace), &height))
		goto out;
	if (!json)
		printf("Session %s anchored: %llu events in block %llu or before%s\n",
		       json_string_value(json_object_get(an.record, "session")),
		       (unsigned long long)an.seq, (unsigned long long)height,
		       finished ? ", complete" : "; the saved session is not finished, so it stays open");
	status = 0;
out:
	if (an.record != NULL && record != NULL && write_record(record, an.record))
		status = 1;
	json_decref(an.record);
	chain_close(&an.c);
	json_decref(saved);
	return status;
}

static int cmd_check(int argc, char **argv)
{
	const char *file = NULL;
	bool json = false;
	struct lb_kn_check_opts o = { 0 };
	const char *max_states = NULL, *max_memory = NULL, *cycles = NULL, *rules_text = NULL;
	const struct copt opts[] = {
		{"--json", NULL, &json},	     {"--max-states", &max_states, NULL},
		{"--max-memory", &max_memory, NULL}, {"--cycles", &cycles, NULL},
		{"--rules", &rules_text, NULL},	     {NULL, NULL, NULL},
	};
	if (parse_args(argc, argv, opts, &file))
		return 2;
	enum lb_kn_rules rules = LB_KN_RULES_AUTO;
	if (rules_text != NULL && lb_kn_rules_parse(rules_text, &rules) != LB_OK) {
		fprintf(stderr, "leben contract: --rules takes proformajs, leben or auto\n");
		return 2;
	}
	if (max_states != NULL)
		o.max_states = strtoul(max_states, NULL, 10);
	if (max_memory != NULL)
		o.max_memory = strtoul(max_memory, NULL, 10) << 20;
	if (cycles != NULL)
		o.cycle_cap = (uint32_t)strtoul(cycles, NULL, 10);
	if (file == NULL) {
		print_usage(stderr);
		return 2;
	}
	struct lb_kn_model *m;
	if (load(file, &m) != 0)
		return 1;
	char *report;
	size_t failures;
	struct lb_kn_check_stats st = { 0 };
	struct lb_errmsg em;
	if (rules == LB_KN_RULES_AUTO)
		rules = lb_kn_model_rules(m);
	/* LEBEN's own keys PROformajs ignores and LEBEN could not read: they did nothing (stderr,
	 * so the report, and its hash, stay what they are) */
	const char *ign;
	for (size_t i = 0; i < lb_kn_model_ignored(m, i, &ign); i++)
		fprintf(stderr,
			"leben contract: warning: %s: LEBEN's key is ignored, as PROformajs ignores it, "
			"so it does nothing (docs/knowledge-language.md §5.2)\n",
			ign);
	bool pf = rules == LB_KN_RULES_PROFORMAJS;
	if (!pf && leben_rules_refused(m, file)) {
		lb_kn_model_free(m);
		return 1;
	}
	if ((pf ? lb_kn_check_proformajs(m, &o, &report, &failures, &em)
		: lb_kn_check(m, &o, &report, &failures, &st, &em)) != LB_OK) {
		fprintf(stderr, "leben contract: %s\n", em.text);
		lb_kn_model_free(m);
		return 1;
	}
	if (json) {
		fputs(report, stdout);
	} else {
		json_t *r = json_loads(report, 0, NULL);
		json_t *fs = json_object_get(r, "findings");
		if (pf)
			printf("%s: PROformajs rules, %lld states explored\n", file,
			       (long long)json_integer_value(json_object_get(r, "states")));
		else
			printf("%s: %zu states, %zu transitions explored\n", file, st.states,
			       st.transitions);
		for (size_t i = 0; i < json_array_size(fs); i++) {
			json_t *f = json_array_get(fs, i);
			const char *task = json_string_value(json_object_get(f, "task"));
			printf("\n%s%s%s: %s\n", json_string_value(json_object_get(f, "kind")),
			       task ? " in " : "", task ? task : "",
			       json_string_value(json_object_get(f, "message")));
			json_t *tr = json_object_get(f, "trace");
			if (tr != NULL) {
				printf("  counterexample (from the start):\n");
				if (json_array_size(tr) == 0)
					printf("    (the initial state)\n");
				for (size_t k = 0; k < json_array_size(tr); k++) {
					/* LEBEN's steps are text, PROformajs's operations objects */
					json_t *x = json_array_get(tr, k);
					char *xt = json_is_string(x) ? NULL : json_dumps(x, JSON_COMPACT);
					printf("    %zu. %s\n", k + 1, xt ? xt : json_string_value(x));
					free(xt);
				}
			}
		}
		printf("\n%s\n", failures == 0 ? "OK: no problem found"
					       : "FAILED: fix the findings above before publishing");
		json_decref(r);
	}
	lb_free(report);
	lb_kn_model_free(m);
	return failures == 0 ? 0 : 1;
}

int cmd_contract(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			print_usage(stdout);
			return 0;
		}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "publish") == 0)
		return cmd_publish(argc - 1, argv + 1);
	if (strcmp(argv[1], "anchor") == 0)
		return cmd_anchor(argc - 1, argv + 1);
	if (strcmp(argv[1], "sessions") == 0)
		return cmd_sessions(argc - 1, argv + 1);
	if (strcmp(argv[1], "convert") == 0)
		return cmd_print(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "print") == 0)
		return cmd_print(argc - 1, argv + 1, false);
	fprintf(stderr, "leben contract: unknown subcommand '%s'\n", argv[1]);
	print_usage(stderr);
	return 2;
}
