/*
 * `leben market ...`: the economy (docs/economy.md). Reads (status, splits, rankings) ask the
 * node's API; changes (fund, redeem, close, pay, propose, vote) build the market tx's payload
 * here and are signed and sent by `leben tx raw` (same options: --from, --wait, --json, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/codec.h"
#include "leben/market.h"
#include "leben/tx.h"

#define CMD "market"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben market WHAT [options]\n"
		"\n"
		"The economy: split tables, quota pools, rankings, redemption (docs/economy.md).\n"
		"\n"
		"reading (nothing changes):\n"
		"  status                  split tables, pools, bonuses, weights, totals of ASC and CSC\n"
		"  splits                  the split table of each kind of use (shares in ppm)\n"
		"  rankings PERIOD         the ranking and CSC payouts of a closed period, per pool\n"
		"changing (a settlement tx signed with --from KEY):\n"
		"  fund --pool POOL --amount N      a credit partner locks N ASC in a quota pool\n"
		"                                   (developers, data, audit or bonus)\n"
		"  redeem --amount N                a credit partner burns N ASC it takes back\n"
		"  close --period P                 close period P: allot quotas, rank, pay the top k\n"
		"  pay --use USE --amount N [--owner A] [--algo-author A] [--executor A]\n"
		"      [--authors A,B] [--ancestors A,B] [--audit A,B] [--patient-pool]\n"
		"      [--patients A,B]\n"
		"                                   pay one use (data-run, contract-call,\n"
		"                                   algorithm-call, compute, study) through its table;\n"
		"                                   --patient-pool pays the owner's patients' share;\n"
		"                                   --patients names the patients a contract call\n"
		"                                   served (their service bonus, from 1 ASC)\n"
		"  pool-pay --to A,B --amounts X,Y [--asset asc|csc]\n"
		"                                   a data owner pays its patients' consent accounts\n"
		"                                   from its patient pool\n"
		"  propose --splits-file FILE [--expires-height H]\n"
		"                                   a credit partner proposes split tables (JSON\n"
		"                                   {\"contract-call\": {\"authors\": 700000, ...}};\n"
		"                                   uses left out keep their table)\n"
		"  vote --proposal ID (--yes | --no)   a credit partner votes on a proposal\n"
		"  cite --kind audit|rating|creation|data --tx ID [--listing ID]\n"
		"                                   count a record in the rankings (an\n"
		"                                   audit.record, a store.rate with its listing's\n"
		"                                   store.list tx, a directory data.register's\n"
		"                                   record count as data scale) or claim a\n"
		"                                   creation bonus (a store.list); the node\n"
		"                                   supplies the proofs\n"
		"  claim --exec ID --registration ID --commitment HEX\n"
		"                                   a patient claims its share of a released\n"
		"                                   escrow from the owner's patient pool\n"
		"                                   (market.patient.claim): ID of the escrow's\n"
		"                                   xchg.exec, ID of the owner's xchg.patients that\n"
		"                                   registered the commitment; --from is the\n"
		"                                   patient's consent key; the node supplies the\n"
		"                                   proofs (anchored in a settlement block)\n"
		"\n"
		"options: --home DIR, --node URL, --json; for changes also --from KEY, --wait,\n"
		"--timeout S, --fee N (as for 'leben tx').\n"
		"\n"
		"examples:\n"
		"  leben market status\n"
		"  leben market fund --from partner --pool developers --amount 1000 --wait\n"
		"  leben market close --from anyone --period 3 --wait\n"
		"  leben market rankings 3 --json\n"
		"  leben market claim --from consent --exec 3f2a... --registration 9c01... \\\n"
		"      --commitment 77e4... --wait --json\n");
}

struct mopts {
	const char *home, *node, *from, *pool, *amount, *period, *use, *owner, *algo, *exec,
		*authors, *ancestors, *audit, *splits_file, *expires_height, *proposal, *timeout,
		*fee, *to, *amounts, *asset, *kind, *tx, *listing, *exec_id, *reg_id, *commitment,
		*patients;
	bool json, help, wait, yes, no, patient_pool;
};

/* A comma-separated list of addresses or key names into a new array. */
static int addr_list(const char *home, const char *text, uint8_t (**out)[LB_ADDR_LEN], size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!text)
		return 0;
	char *copy = strdup(text), *save = NULL;
	if (!copy)
		return 1;
	size_t cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == ',';
	if (cap > LB_MKT_PAY_LIST_MAX) {
		free(copy);
		return cli_failf(CMD, "at most %d accounts in a list", LB_MKT_PAY_LIST_MAX);
	}
	*out = calloc(cap, LB_ADDR_LEN);
	for (char *t = strtok_r(copy, ",", &save); t && *out; t = strtok_r(NULL, ",", &save))
		if (cli_resolve_address(CMD, home, t, (*out)[(*n)++])) {
			free(copy);
			return 1;
		}
	free(copy);
	return *out ? 0 : 1;
}

static int one_addr(const char *home, const char *text, bool *has, uint8_t a[LB_ADDR_LEN])
{
	*has = text != NULL;
	return text ? cli_resolve_address(CMD, home, text, a) : 0;
}

static int amount_of(const char *v, uint64_t *out)
{
	if (!v || cli_parse_amount(v, out) || !*out)
		return cli_failf(CMD, "--amount '%s' is not a positive amount (up to 6 decimals, e.g. "
				      "12.5)",
				 v ? v : "");
	return 0;
}

static int build_pay(const struct mopts *o, const char *home, struct lb_buf *b)
{
	struct lb_mkt_parties p = {0};
	struct lb_errmsg em;
	uint8_t(*authors)[LB_ADDR_LEN] = NULL, (*anc)[LB_ADDR_LEN] = NULL, (*aud)[LB_ADDR_LEN] = NULL,
		(*pats)[LB_ADDR_LEN] = NULL;
	uint8_t pool[1][LB_ADDR_LEN];
	unsigned use;
	uint64_t amount;
	int rc = 1;
	if (lb_mkt_use_parse(o->use, &use, &em))
		return cli_fail(CMD, &em, "give --use");
	if (amount_of(o->amount, &amount) || one_addr(home, o->owner, &p.has_owner, p.owner) ||
	    one_addr(home, o->algo, &p.has_algo_author, p.algo_author) ||
	    one_addr(home, o->exec, &p.has_executor, p.executor) ||
	    addr_list(home, o->authors, &authors, &p.n_authors) ||
	    addr_list(home, o->ancestors, &anc, &p.n_ancestors) ||
	    addr_list(home, o->audit, &aud, &p.n_audit) ||
	    addr_list(home, o->patients, &pats, &p.n_patients))
		goto out;
	p.patients = (const uint8_t(*)[LB_ADDR_LEN])pats;
	p.authors = (const uint8_t(*)[LB_ADDR_LEN])authors;
	p.ancestors = (const uint8_t(*)[LB_ADDR_LEN])anc;
	p.audit = (const uint8_t(*)[LB_ADDR_LEN])aud;
	if (o->patient_pool) {
		if (pats) {
			rc = cli_failf(CMD, "give --patient-pool (a data use) or --patients (the "
					    "patients served by a contract call), not both");
			goto out;
		}
		if (!p.has_owner) {
			rc = cli_failf(CMD, "--patient-pool pays the owner's patients: give --owner");
			goto out;
		}
		lb_mkt_patient_pool(p.owner, pool[0]);
		p.patients = (const uint8_t(*)[LB_ADDR_LEN])pool;
		p.n_patients = 1;
	}
	rc = lb_mkt_pay_encode(b, use, amount, &p) ? 1 : 0;
out:
	free(authors);
	free(anc);
	free(aud);
	free(pats);
	return rc;
}

static int build_propose(const struct mopts *o, const char *url, struct lb_buf *b)
{
	struct lb_mkt_splits cur, next;
	struct lb_errmsg em;
	json_error_t jerr;
	uint64_t expires = 0;
	if (!o->splits_file)
		return cli_failf(CMD, "'leben market propose' needs --splits-file FILE");
	json_t *j = json_load_file(o->splits_file, JSON_REJECT_DUPLICATES, &jerr), *m = NULL;
	if (!j)
		return cli_failf(CMD, "%s: line %d: %s", o->splits_file, jerr.line, jerr.text);
	if (cli_api_get(CMD, url, "/v1/market", &m)) {
		json_decref(j);
		return 1;
	}
	json_t *now = json_object_get(m, "splits");
	struct lb_mkt_splits zero = {0};
	int rc = lb_mkt_splits_from_json(now, &zero, &cur, &em);
	if (!rc)
		rc = lb_mkt_splits_from_json(j, &cur, &next, &em);
	if (!rc && o->expires_height) {
		char *end;
		expires = strtoull(o->expires_height, &end, 10);
		if (!*o->expires_height || *end || o->expires_height[0] == '-') {
			json_decref(j);
			json_decref(m);
			return cli_failf(CMD, "--expires-height '%s' is not a settlement height",
					 o->expires_height);
		}
	} else if (!rc) { /* default: open for a long time (the votes decide it) */
		expires = UINT32_MAX;
	}
	json_decref(j);
	json_decref(m);
	if (rc)
		return cli_fail(CMD, &em, "fix the split tables in the file: every table must add up "
					  "to 1000000 ppm");
	return lb_mkt_propose_encode(b, &next, expires) ? 1 : 0;
}

static int build_pool_pay(const struct mopts *o, const char *home, struct lb_buf *b)
{
	uint8_t(*to)[LB_ADDR_LEN] = NULL;
	size_t n = 0, k = 0;
	int asset = LB_ASC, rc;
	if (o->asset && strcmp(o->asset, "asc") && strcmp(o->asset, "csc"))
		return cli_failf(CMD, "--asset '%s': use asc or csc", o->asset);
	if (o->asset && !strcmp(o->asset, "csc"))
		asset = LB_CSC;
	if (!o->to || !o->amounts)
		return cli_failf(CMD, "'leben market pool-pay' needs --to A,B and --amounts X,Y");
	if ((rc = addr_list(home, o->to, &to, &n)))
		return rc;
	uint64_t *amounts = calloc(n ? n : 1, sizeof *amounts);
	char *copy = strdup(o->amounts), *save = NULL;
	rc = !amounts || !copy;
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !rc;
	     t = strtok_r(NULL, ",", &save)) {
		if (k == n) {
			rc = cli_failf(CMD, "--amounts has more amounts than --to has accounts");
			break;
		}
		rc = amount_of(t, &amounts[k++]);
	}
	if (!rc && k != n)
		rc = cli_failf(CMD, "--amounts needs one amount per account of --to (%zu)", n);
	if (!rc)
		rc = lb_mkt_pool_pay_encode(b, asset, (const uint8_t(*)[LB_ADDR_LEN])to, amounts, n)
			     ? 1
			     : 0;
	free(copy);
	free(amounts);
	free(to);
	return rc;
}

/* Sign and send through `leben tx raw`. */
/* A committed business tx's bytes and its proof anchored in the settlement chain, from the
 * node (hex into new buffers: the caller frees them). */
static int cited_tx(const char *url, const char *id, uint8_t **tx, size_t *tl, uint8_t **pr,
		    size_t *pl)
{
	char path[256];
	json_t *j;
	*tx = *pr = NULL;
	if (!id || strlen(id) != 2 * LB_HASH_LEN || strspn(id, "0123456789abcdef") != strlen(id))
		return cli_failf(CMD, "the tx to cite must be a tx id (64 lower-case hex digits)");
	snprintf(path, sizeof path, "/v1/txs/%s/proof?anchor=settlement", id);
	if (cli_api_get(CMD, url, path, &j))
		return 1;
	const char *th = json_string_value(json_object_get(j, "tx"));
	const char *ph = json_string_value(json_object_get(j, "proof"));
	*tl = th ? strlen(th) / 2 : 0;
	*pl = ph ? strlen(ph) / 2 : 0;
	*tx = lb_malloc(*tl + 1);
	*pr = lb_malloc(*pl + 1);
	int rc = !th || !ph || !*tx || !*pr || lb_hex_decode(*tx, *tl, th) ||
		 lb_hex_decode(*pr, *pl, ph);
	json_decref(j);
	if (rc) {
		lb_free(*tx);
		lb_free(*pr);
		*tx = *pr = NULL;
		return cli_failf(CMD, "the node gave no usable proof of %s anchored in the "
				      "settlement chain (is its block anchored yet? wait for the "
				      "next settlement block)",
				 id);
	}
	return 0;
}

/* One or two cited txs with their anchored proofs (the second only when id2 is given). */
struct cited2 {
	uint8_t *t[2], *p[2];
	size_t tl[2], pl[2];
};

static void cite_pair_free(struct cited2 *c)
{
	for (int i = 0; i < 2; i++) {
		lb_free(c->t[i]);
		lb_free(c->p[i]);
	}
}

static int cite_pair(const char *url, const char *id1, const char *id2, struct cited2 *c)
{
	memset(c, 0, sizeof *c);
	int rc = cited_tx(url, id1, &c->t[0], &c->tl[0], &c->p[0], &c->pl[0]);
	if (!rc && id2)
		rc = cited_tx(url, id2, &c->t[1], &c->tl[1], &c->p[1], &c->pl[1]);
	return rc;
}

static int build_cite(const struct mopts *o, const char *url, struct lb_buf *b)
{
	static const char *const kinds[] = {"audit", "rating", "creation", "data"};
	unsigned kind = 0;
	for (unsigned i = 0; i < 4; i++)
		if (o->kind && !strcmp(o->kind, kinds[i]))
			kind = i + 1;
	if (!kind) {
		cli_failf(CMD, "--kind must be audit, rating, creation or data");
		return 2;
	}
	if ((kind == LB_MKT_CITE_RATING) != (o->listing != NULL)) {
		cli_failf(CMD, "--listing ID (the rated listing's store.list tx) goes with --kind "
			       "rating, and only with it");
		return 2;
	}
	struct cited2 c;
	int rc = cite_pair(url, o->tx, o->listing, &c);
	if (!rc && lb_mkt_cite_encode(b, kind, c.t[0], c.tl[0], c.p[0], c.pl[0], c.t[1], c.tl[1],
				      c.p[1], c.pl[1]))
		rc = cli_failf(CMD, "the citation does not fit in one tx");
	cite_pair_free(&c);
	return rc;
}

/* market.patient.claim: the exec and the registration cited with their anchored proofs. */
static int build_claim(const struct mopts *o, const char *url, struct lb_buf *b)
{
	uint8_t cm[LB_HASH_LEN];
	if (!o->exec_id || !o->reg_id || !o->commitment) {
		cli_failf(CMD, "'leben market claim' needs --exec ID (the escrow's xchg.exec tx), "
			       "--registration ID (the owner's xchg.patients tx) and --commitment "
			       "HEX (your record commitment, from the owner)");
		return 2;
	}
	if (strlen(o->commitment) != 2 * LB_HASH_LEN ||
	    lb_hex_decode(cm, LB_HASH_LEN, o->commitment)) {
		cli_failf(CMD, "--commitment '%s' must be 64 hex digits (the commitment the owner "
			       "registered for your records)",
			  o->commitment);
		return 2;
	}
	struct cited2 c;
	int rc = cite_pair(url, o->exec_id, o->reg_id, &c);
	if (!rc && lb_mkt_patient_claim_encode(b, c.t[0], c.tl[0], c.p[0], c.pl[0], c.t[1],
					       c.tl[1], c.p[1], c.pl[1], cm))
		rc = cli_failf(CMD, "the claim does not fit in one tx");
	cite_pair_free(&c);
	return rc;
}

static int send_tx(const struct mopts *o, uint32_t type, const struct lb_buf *payload)
{
	char tid[16], *hex = malloc(2 * payload->len + 1);
	const char *argv[32];
	int n = 0;
	if (!hex)
		return 1;
	lb_hex_encode(hex, payload->data, payload->len);
	snprintf(tid, sizeof tid, "0x%04x", type);
	argv[n++] = "tx";
	argv[n++] = "raw";
	argv[n++] = "--chain";
	argv[n++] = "settlement";
	argv[n++] = "--type-id";
	argv[n++] = tid;
	argv[n++] = "--payload";
	argv[n++] = hex;
	const char *pass[][2] = {{"--from", o->from},   {"--home", o->home},
				 {"--node", o->node},   {"--timeout", o->timeout},
				 {"--fee", o->fee}};
	for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
		if (pass[i][1]) {
			argv[n++] = pass[i][0];
			argv[n++] = pass[i][1];
		}
	if (o->wait)
		argv[n++] = "--wait";
	if (o->json)
		argv[n++] = "--json";
	argv[n] = NULL;
	int rc = cmd_tx(n, (char **)argv);
	free(hex);
	return rc;
}

int cmd_market(int argc, char **argv)
{
	struct mopts o = {0};
	const struct copt opts[] = {
		{"--home", &o.home, NULL},        {"--node", &o.node, NULL},
		{"--json", NULL, &o.json},        {"--help", NULL, &o.help},
		{"-h", NULL, &o.help},            {"--from", &o.from, NULL},
		{"--pool", &o.pool, NULL},        {"--amount", &o.amount, NULL},
		{"--period", &o.period, NULL},    {"--use", &o.use, NULL},
		{"--owner", &o.owner, NULL},      {"--algo-author", &o.algo, NULL},
		{"--executor", &o.exec, NULL},    {"--authors", &o.authors, NULL},
		{"--ancestors", &o.ancestors, NULL}, {"--audit", &o.audit, NULL},
		{"--patient-pool", NULL, &o.patient_pool},
		{"--splits-file", &o.splits_file, NULL},
		{"--expires-height", &o.expires_height, NULL},
		{"--proposal", &o.proposal, NULL}, {"--yes", NULL, &o.yes},
		{"--no", NULL, &o.no},            {"--wait", NULL, &o.wait},
		{"--timeout", &o.timeout, NULL},  {"--fee", &o.fee, NULL},
		{"--to", &o.to, NULL},            {"--amounts", &o.amounts, NULL},
		{"--asset", &o.asset, NULL},      {"--kind", &o.kind, NULL},
		{"--tx", &o.tx, NULL},            {"--listing", &o.listing, NULL},
		{"--exec", &o.exec_id, NULL},     {"--registration", &o.reg_id, NULL},
		{"--commitment", &o.commitment, NULL}, {"--patients", &o.patients, NULL},
		{NULL, NULL, NULL},
	};
	const char *pos[2];
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, 2, &npos)))
		return rc;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (npos == 0) {
		usage(stderr);
		return 2;
	}
	const char *home = cli_home(o.home), *url = cli_node_url(o.node, home), *what = pos[0];
	char path[64];
	if (!strcmp(what, "status") || !strcmp(what, "splits") || !strcmp(what, "rankings")) {
		json_t *j;
		if (!strcmp(what, "rankings")) {
			const char *per = npos > 1 ? pos[1] : o.period;
			char *end;
			if (!per || !*per || (strtoull(per, &end, 10), *end)) {
				cli_failf(CMD, "usage: leben market rankings PERIOD (a closed period's "
					       "number; 'leben market status' shows the next to close)");
				return 2;
			}
			snprintf(path, sizeof path, "/v1/market/rankings/%s", per);
		} else {
			snprintf(path, sizeof path, "/v1/market%s",
				 !strcmp(what, "splits") ? "/splits" : "");
		}
		if (cli_api_get(CMD, url, path, &j))
			return 1;
		if (o.json)
			cli_print_json(j);
		else
			cli_print_human(j, 0);
		json_decref(j);
		return 0;
	}
	struct lb_buf b;
	uint32_t type = 0;
	struct lb_errmsg em;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	rc = 0;
	if (!o.from) {
		rc = cli_failf(CMD, "'leben market %s' needs --from KEY (the key that signs)", what);
		rc = 2;
	} else if (!strcmp(what, "fund")) {
		unsigned pool;
		uint64_t amount;
		type = LB_TX_MKT_FUND;
		if (lb_mkt_pool_parse(o.pool, &pool, &em))
			rc = cli_fail(CMD, &em, "give --pool");
		else if (!(rc = amount_of(o.amount, &amount)))
			rc = lb_mkt_fund_encode(&b, pool, amount) ? 1 : 0;
	} else if (!strcmp(what, "redeem")) {
		uint64_t amount;
		type = LB_TX_MKT_REDEEM;
		if (!(rc = amount_of(o.amount, &amount)))
			rc = lb_mkt_redeem_encode(&b, amount) ? 1 : 0;
	} else if (!strcmp(what, "close")) {
		char *end;
		type = LB_TX_MKT_PERIOD;
		if (!o.period || !*o.period || o.period[0] == '-')
			rc = cli_failf(CMD, "'leben market close' needs --period P");
		else {
			unsigned long long per = strtoull(o.period, &end, 10);
			rc = *end ? cli_failf(CMD, "--period '%s' is not a number", o.period)
				  : (lb_mkt_period_encode(&b, per) ? 1 : 0);
		}
	} else if (!strcmp(what, "pay")) {
		type = LB_TX_MKT_PAY;
		rc = build_pay(&o, home, &b);
	} else if (!strcmp(what, "pool-pay")) {
		type = LB_TX_MKT_POOL_PAY;
		rc = build_pool_pay(&o, home, &b);
	} else if (!strcmp(what, "cite")) {
		type = LB_TX_MKT_CITE;
		rc = build_cite(&o, url, &b);
	} else if (!strcmp(what, "claim")) {
		type = LB_TX_MKT_PATIENT_CLAIM;
		rc = build_claim(&o, url, &b);
	} else if (!strcmp(what, "propose")) {
		type = LB_TX_MKT_SPLITS_PROPOSE;
		rc = build_propose(&o, url, &b);
	} else if (!strcmp(what, "vote")) {
		uint8_t id[LB_HASH_LEN];
		type = LB_TX_MKT_SPLITS_VOTE;
		if (o.yes == o.no)
			rc = cli_failf(CMD, "'leben market vote' needs --yes or --no");
		else if (!o.proposal || lb_hex_decode(id, LB_HASH_LEN, o.proposal))
			rc = cli_failf(CMD, "--proposal must be the proposal's tx id (64 hex digits)");
		else
			rc = lb_mkt_vote_encode(&b, id, o.yes) ? 1 : 0;
	} else {
		rc = cli_failf(CMD, "'%s' is not a market command: use status, splits, rankings, fund, "
				    "redeem, close, pay, pool-pay, cite, claim, propose or vote",
			       what);
		rc = 2;
	}
	if (!rc)
		rc = send_tx(&o, type, &b);
	lb_buf_release(&b);
	return rc;
}
