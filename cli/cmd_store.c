/* `leben store`: the knowledge store on the business chain (docs/economy.md, "The knowledge
 * store"): browse, search and show listings, list a published contract or registered
 * algorithm, change its price, buy a licence, call it (and run the contract), rate it, record
 * an outcome, declare its family, and contract templates. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/codec.h"
#include "leben/base.h"
#include "leben/data_coding.h"
#include "leben/market.h"
#include "leben/market_store.h"
#include "sectx.h"

#define CMD "store"

static const char store_help[] =
	"usage: leben store list [--sort rating|price|calls|new] [--offset N] [--limit N]\n"
	"                        [--specialty S] [--kind contract|algorithm] [--author ADDRESS|KEY]\n"
	"       leben store show ID\n"
	"       leben store search TEXT [--icd10 ORDERFILE] [--snomed CONCEPTS.txt\n"
	"                               [--snomed-desc DESCRIPTIONS.txt]]\n"
	"       leben store family ID\n"
	"       leben store wallet [ADDRESS|KEY]\n"
	"       leben store withdraw ASC --from KEY\n"
	"       leben store deposit ASC --from KEY [--fee CSC]\n"
	"       leben store add ITEM --from KEY --title T [--kind contract|algorithm]\n"
	"                       [--price-call ASC] [--price-licence ASC] [--specialty S]\n"
	"                       [--description D] [--codes icd10|I20.9,snomed|29857009]\n"
	"                       [--parent ID --relation fork|extend|specialise]\n"
	"                       [--template ID --params JSON]\n"
	"                       [--icd10 ORDERFILE] [--snomed CONCEPTS.txt]\n"
	"       leben store price ID --from KEY [--price-call ASC] [--price-licence ASC]\n"
	"       leben store derive ID --from KEY --parent ID --relation R\n"
	"       leben store buy ID --from KEY [--max-price ASC] [--settle [--fee CSC]]\n"
	"       leben store call ID --from KEY [--max-price ASC] [--session HEX] [--settle]\n"
	"                        [--run [-- ARGS]]\n"
	"       leben store rate ID STARS [TEXT] --from KEY\n"
	"       leben store outcome CALL OUTCOME --from KEY [--session HEX]\n"
	"       leben store template add FILE --from KEY --title T [--description D]\n"
	"       leben store template show ID\n"
	"       leben store template instantiate ID --params JSON --out FILE\n"
	"\n"
	"ITEM and ID are a published contract's hash or a registered algorithm's hash (64 hex\n"
	"digits); CALL is the tx id 'store call' printed; --session names the anchored session\n"
	"the call ran (its own, of this contract), linking the outcome to it. OUTCOME is referral-confirmed,\n"
	"referral-declined, adverse-event, resolved, readmitted or other. Payments come from the\n"
	"store wallet and are split by the market's table (author, ancestors, platform pool);\n"
	"with --settle they are paid in ASC on the settlement chain (market.pay) and cited.\n"
	"'deposit' moves ASC from the settlement chain into the store wallet (a transfer to the\n"
	"store deposit address, cited).\n"
	"Codes are checked for structure and check digit; with --icd10 / --snomed (as for 'leben\n"
	"data') they must also exist (and be active) in those tables; 'search' with them\n"
	"searches here, the codes' descriptions in those tables included.\n"
	"'call --run' runs the contract after paying ('leben contract run' with ARGS).\n"
	"'template instantiate' fills and verifies an instance; publish it with 'leben contract\n"
	"publish FILE', then list it with 'store add HASH --template ID --params JSON'.\n"
	"Options: --home DIR, --node URL, --json.\n";

struct sopts {
	const char *home, *node, *from, *sort, *offset, *limit, *specialty, *kind, *title,
		*price_call, *price_licence, *description, *codes, *parent, *relation, *tmpl,
		*params, *max_price, *session, *out, *fee, *icd10, *snomed, *snomed_desc, *author;
	bool json, help, run, settle;
	char last_id[2 * LB_HASH_LEN + 1]; /* the last settlement tx sent */
	const char *pos[4];
	int npos;
	int rest_argc;     /* arguments after "--" (for call --run) */
	char **rest_argv;
	const char *url;
};

static int hex32(const char *what, const char *s, uint8_t out[LB_HASH_LEN])
{
	if (!s || strlen(s) != 2 * LB_HASH_LEN || lb_hex_decode(out, LB_HASH_LEN, s))
		return cli_failf(CMD, "%s '%s' is not 64 hex digits", what, s ? s : "");
	return 0;
}

static void show(struct sopts *o, json_t *j)
{
	if (o->json)
		cli_print_json(j);
	else
		cli_print_human(j, 0);
}

static int get_show(struct sopts *o, const char *path)
{
	json_t *j;
	if (cli_api_get(CMD, o->url, path, &j))
		return 1;
	show(o, j);
	json_decref(j);
	return 0;
}

static char *url_escape(const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	char *out = lb_malloc(3 * strlen(s) + 1), *p = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.')
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hexd[c >> 4];
			*p++ = hexd[c & 15];
		}
	}
	*p = 0;
	return out;
}

static int s_list(struct sopts *o)
{
	char path[1024];
	int n = snprintf(path, sizeof path, "/v1/store/listings?sort=%s&offset=%s&limit=%s",
			 o->sort ? o->sort : "new", o->offset ? o->offset : "0",
			 o->limit ? o->limit : "20");
	if (o->kind)
		n += snprintf(path + n, sizeof path - (size_t)n, "&kind=%s", o->kind);
	if (o->author) {
		uint8_t a[LB_ADDR_LEN];
		char t[LB_ADDR_TEXT_LEN + 1];
		if (cli_resolve_address(CMD, o->home, o->author, a))
			return 1;
		lb_addr_encode(t, a);
		n += snprintf(path + n, sizeof path - (size_t)n, "&author=%s", t);
	}
	if (o->specialty) {
		char *e = url_escape(o->specialty);
		snprintf(path + n, sizeof path - (size_t)n, "&specialty=%s", e ? e : "");
		lb_free(e);
	}
	json_t *j;
	if (cli_api_get(CMD, o->url, path, &j))
		return 1;
	if (o->json)
		cli_print_json(j);
	else {
		size_t i;
		json_t *l;
		char a[32], b[32];
		printf("%lld listings (sorted by %s)\n",
		       (long long)json_integer_value(json_object_get(j, "total")),
		       json_string_value(json_object_get(j, "sort")));
		json_array_foreach(json_object_get(j, "listings"), i, l)
		{
			printf("  %.16s  %-40s  call %s  licence %s  %.1f* (%lld)  %lld calls\n",
			       json_string_value(json_object_get(l, "id")),
			       json_string_value(json_object_get(l, "title")),
			       cli_format_amount((uint64_t)json_integer_value(
							 json_object_get(l, "price_call")),
						 a, sizeof a),
			       cli_format_amount((uint64_t)json_integer_value(
							 json_object_get(l, "price_licence")),
						 b, sizeof b),
			       json_real_value(json_object_get(l, "rating")),
			       (long long)json_integer_value(json_object_get(l, "ratings")),
			       (long long)json_integer_value(json_object_get(l, "calls")));
		}
	}
	json_decref(j);
	return 0;
}

static int print_hits(struct sopts *o, json_t *j);

/* Search here with the code tables given (--icd10, --snomed [--snomed-desc]): every listing
 * of the node, page by page, into a local index; answers like GET /v1/store/search. */
static int local_search(struct sopts *o, json_t **out)
{
	struct lb_icd10_table *icd = NULL;
	struct lb_snomed *sct = NULL;
	struct lb_store_index *x = NULL;
	struct lb_store_hit *hits = NULL;
	struct lb_errmsg em;
	json_t *docs = json_object();
	int rc = 1;
	if ((o->icd10 && lb_icd10_table_load(o->icd10, &icd, &em)) ||
	    (o->snomed && lb_snomed_load(o->snomed, o->snomed_desc, NULL, &sct, &em)) ||
	    lb_store_index_open(&x, &em)) {
		cli_fail(CMD, &em, NULL);
		goto out;
	}
	struct lb_code_tables t = {.icd10cm = icd, .snomed = sct};
	lb_store_index_tables(x, &t);
	for (size_t off = 0;; off += 1000) {
		char path[128];
		json_t *page, *l;
		size_t i;
		snprintf(path, sizeof path, "/v1/store/listings?limit=1000&offset=%zu", off);
		if (cli_api_get(CMD, o->url, path, &page))
			goto out;
		json_t *ls = json_object_get(page, "listings");
		json_array_foreach(ls, i, l)
		{
			json_object_set(docs, json_string_value(json_object_get(l, "id")), l);
			if (lb_store_index_put(x, l, &em)) {
				json_decref(page);
				cli_fail(CMD, &em, NULL);
				goto out;
			}
		}
		size_t got = json_array_size(ls);
		json_decref(page);
		if (got < 1000)
			break;
	}
	size_t n = 0, limit = o->limit ? (size_t)strtoul(o->limit, NULL, 10) : 20;
	if (lb_store_index_search(x, o->pos[1], limit, &hits, &n, NULL, &em)) {
		cli_fail(CMD, &em, NULL);
		goto out;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_deep_copy(json_object_get(docs, hits[i].id));
		if (d) {
			json_object_set_new(d, "score", json_real(hits[i].score));
			json_array_append_new(arr, d);
		}
	}
	*out = json_pack("{s:s,s:o}", "query", o->pos[1], "results", arr);
	rc = 0;
out:
	lb_free(hits);
	lb_store_index_close(x);
	lb_icd10_table_free(icd);
	lb_snomed_free(sct);
	json_decref(docs);
	return rc;
}

static int s_search(struct sopts *o)
{
	if (o->npos < 2)
		return cli_failf(CMD, "search needs TEXT (e.g. 'chest pain pathway for women over 50')");
	json_t *j;
	if (o->icd10 || o->snomed) {
		if (local_search(o, &j))
			return 1;
		return print_hits(o, j);
	}
	char *e = url_escape(o->pos[1]);
	if (!e)
		return cli_failf(CMD, "out of memory");
	size_t n = strlen(e) + 64;
	char *path = lb_malloc(n);
	if (!path) {
		lb_free(e);
		return cli_failf(CMD, "out of memory");
	}
	snprintf(path, n, "/v1/store/search?q=%s&limit=%s", e, o->limit ? o->limit : "20");
	lb_free(e);
	int rc = cli_api_get(CMD, o->url, path, &j);
	lb_free(path);
	if (rc)
		return 1;
	return print_hits(o, j);
}

/* Print a search answer and release it. */
static int print_hits(struct sopts *o, json_t *j)
{
	if (o->json)
		cli_print_json(j);
	else {
		size_t i;
		json_t *l;
		json_array_foreach(json_object_get(j, "results"), i, l)
		printf("  %.16s  %-50s  %s  score %.2f\n", json_string_value(json_object_get(l, "id")),
		       json_string_value(json_object_get(l, "title")),
		       json_string_value(json_object_get(l, "specialty")),
		       json_real_value(json_object_get(l, "score")));
		if (json_array_size(json_object_get(j, "results")) == 0)
			printf("no listing matches '%s'\n", o->pos[1]);
	}
	json_decref(j);
	return 0;
}

/* Sign with --from and send; prints the tx id (and the JSON with --json). */
static int send_tx(struct sopts *o, const struct lb_store_tx *p, char idhex[2 * LB_HASH_LEN + 1])
{
	struct lb_buf b;
	struct lb_errmsg em;
	json_t *fin = NULL;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (lb_store_tx_encode(&b, p, &em)) {
		lb_buf_release(&b);
		return cli_fail(CMD, &em, NULL);
	}
	int rc = sectx_sign_send(CMD, o->url, o->home, o->from, p->type, b.data, b.len, idhex,
				 &fin);
	lb_buf_release(&b);
	if (!rc && o->json)
		cli_print_json(fin);
	json_decref(fin);
	return rc;
}

/* send_tx, then (without --json) print what was done and the tx id. */
static int send_say(struct sopts *o, const struct lb_store_tx *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int send_say(struct sopts *o, const struct lb_store_tx *p, const char *fmt, ...)
{
	char id[2 * LB_HASH_LEN + 1];
	if (send_tx(o, p, id))
		return 1;
	if (!o->json) {
		va_list ap;
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(" (tx %s)\n", id);
	}
	return 0;
}

static int amount_opt(const char *name, const char *v, uint64_t *out)
{
	if (!v)
		return 0;
	if (cli_parse_amount(v, out))
		return cli_failf(CMD, "%s %s is not an amount (e.g. 2.5)", name, v);
	return 0;
}

/* --codes into p, each checked for structure and check digit, and for existence in the
 * --icd10 / --snomed tables when given. */
static int add_codes(const struct sopts *o, struct lb_store_tx *p)
{
	struct lb_icd10_table *icd = NULL;
	struct lb_snomed *sct = NULL;
	struct lb_errmsg em;
	char buf[1024];
	int rc = 0;
	if ((o->icd10 && lb_icd10_table_load(o->icd10, &icd, &em)) ||
	    (o->snomed && lb_snomed_load(o->snomed, NULL, NULL, &sct, &em))) {
		rc = cli_fail(CMD, &em, NULL);
		goto out;
	}
	struct lb_code_tables tables = {.icd10cm = icd, .snomed = sct};
	snprintf(buf, sizeof buf, "%s", o->codes);
	for (char *c = strtok(buf, ","); c && !rc; c = strtok(NULL, ",")) {
		char *bar = strchr(c, '|');
		if (p->ncodes == LB_STORE_CODES_MAX)
			rc = cli_failf(CMD, "at most %d codes", LB_STORE_CODES_MAX);
		else if (lb_store_code_check(c, &em))
			rc = cli_fail(CMD, &em, "codes are icd10|CODE, icd10cm|CODE or snomed|ID");
		else {
			*bar = 0;
			enum lb_code_system sys = lb_code_system_of(c);
			*bar = '|';
			if (lb_code_check(sys, bar + 1, &tables, &em))
				rc = cli_fail(CMD, &em, "the code tables given do not have it");
			else
				snprintf(p->codes[p->ncodes++], sizeof p->codes[0], "%s", c);
		}
	}
out:
	lb_icd10_table_free(icd);
	lb_snomed_free(sct);
	return rc;
}

static int s_add(struct sopts *o)
{
	struct lb_store_tx p;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_STORE_LIST;
	p.kind = LB_STORE_CONTRACT;
	if (o->npos < 2 || hex32("ITEM", o->pos[1], p.item))
		return o->npos < 2 ? cli_failf(CMD, "add needs ITEM (a contract or algorithm hash)")
				   : 1;
	if (o->kind && !strcmp(o->kind, "algorithm"))
		p.kind = LB_STORE_ALGORITHM;
	else if (o->kind && strcmp(o->kind, "contract"))
		return cli_failf(CMD, "--kind %s: use contract or algorithm", o->kind);
	if (!o->title)
		return cli_failf(CMD, "add needs --title");
	if (amount_opt("--price-call", o->price_call, &p.price_call) ||
	    amount_opt("--price-licence", o->price_licence, &p.price_licence))
		return 1;
	snprintf(p.title, sizeof p.title, "%s", o->title);
	snprintf(p.specialty, sizeof p.specialty, "%s", o->specialty ? o->specialty : "");
	snprintf(p.description, sizeof p.description, "%s", o->description ? o->description : "");
	if (o->codes && add_codes(o, &p))
		return 1;
	if (o->parent) {
		if (hex32("--parent", o->parent, p.parent))
			return 1;
		p.relation = (uint8_t)lb_store_relation_parse(o->relation ? o->relation : "");
		if (!p.relation)
			return cli_failf(CMD, "--parent needs --relation fork, extend or specialise");
	}
	if (o->tmpl) {
		if (hex32("--template", o->tmpl, p.tmpl))
			return 1;
		if (!o->params)
			return cli_failf(CMD, "--template needs --params JSON");
		snprintf(p.params, sizeof p.params, "%s", o->params);
	}
	return send_say(o, &p, "listed %s in the store", o->pos[1]);
}

static int s_price(struct sopts *o)
{
	struct lb_store_tx p;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_STORE_PRICE;
	if (o->npos < 2 || hex32("ID", o->pos[1], p.item))
		return 1;
	if (amount_opt("--price-call", o->price_call, &p.price_call) ||
	    amount_opt("--price-licence", o->price_licence, &p.price_licence))
		return 1;
	return send_say(o, &p, "price of %s changed", o->pos[1]);
}

static int s_derive(struct sopts *o)
{
	struct lb_store_tx p;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_STORE_DERIVE;
	if (o->npos < 2 || hex32("ID", o->pos[1], p.item) || hex32("--parent", o->parent, p.parent))
		return 1;
	p.relation = (uint8_t)lb_store_relation_parse(o->relation ? o->relation : "");
	if (!p.relation)
		return cli_failf(CMD, "derive needs --relation fork, extend or specialise");
	return send_say(o, &p, "%s now derives from %s", o->pos[1], o->parent);
}

/* The listing's current price of kind ("price_call" / "price_licence") as the default
 * --max-price. */
static int current_price(struct sopts *o, const char *id, const char *field, uint64_t *out)
{
	char path[128];
	json_t *j;
	snprintf(path, sizeof path, "/v1/store/listings/%s", id);
	if (cli_api_get(CMD, o->url, path, &j))
		return 1;
	*out = (uint64_t)json_integer_value(json_object_get(j, field));
	json_decref(j);
	return 0;
}

static int run_contract(struct sopts *o, const char *id)
{
	char path[128], file[] = "/tmp/leben-store-XXXXXX";
	json_t *j;
	snprintf(path, sizeof path, "/v1/contracts/%s", id);
	if (cli_api_get(CMD, o->url, path, &j))
		return 1;
	const char *src = json_string_value(json_object_get(j, "source"));
	int fd = mkstemp(file);
	if (!src || fd < 0) {
		json_decref(j);
		if (fd >= 0)
			close(fd);
		return cli_failf(CMD, "the source of contract %s could not be fetched", id);
	}
	size_t n = strlen(src);
	bool ok = write(fd, src, n) == (ssize_t)n;
	close(fd);
	json_decref(j);
	if (!ok) {
		unlink(file);
		return cli_failf(CMD, "could not write %s", file);
	}
	char **argv = lb_calloc((size_t)o->rest_argc + 4, sizeof *argv);
	if (!argv) {
		unlink(file);
		return cli_failf(CMD, "out of memory");
	}
	int argc = 0;
	argv[argc++] = (char *)"contract";
	argv[argc++] = (char *)"run";
	argv[argc++] = file;
	for (int i = 0; i < o->rest_argc; i++)
		argv[argc++] = o->rest_argv[i];
	int rc = cmd_contract(argc, argv);
	lb_free(argv);
	unlink(file);
	return rc;
}

static int settle_send(struct sopts *o, uint32_t type, const char *type_name,
		       const struct lb_buf *b, struct lb_store_tx *p);

/* Pay `amount` for listing id in ASC on the settlement chain (market.pay to the listing's
 * author and ancestors' authors, as the node shows them), then fetch the payment's bytes and
 * its proof anchored in the business chain into p (lb_malloc'd: the caller frees them). */
static int settle(struct sopts *o, const char *id, uint64_t amount, struct lb_store_tx *p)
{
	char path[256];
	json_t *l;
	snprintf(path, sizeof path, "/v1/store/listings/%s", id);
	if (cli_api_get(CMD, o->url, path, &l))
		return 1;
	uint8_t author[LB_ADDR_LEN], anc[LB_STORE_ANCESTORS_MAX][LB_ADDR_LEN];
	size_t nanc = 0, i;
	json_t *a;
	struct lb_errmsg em;
	int rc = lb_addr_decode(author, json_string_value(json_object_get(l, "author")), &em);
	json_array_foreach(json_object_get(l, "ancestors"), i, a)
	if (!rc && nanc < LB_STORE_ANCESTORS_MAX)
		rc = lb_addr_decode(anc[nanc++], json_string_value(json_object_get(a, "author")), &em);
	bool algo = !strcmp(json_string_value(json_object_get(l, "kind")), "algorithm");
	json_decref(l);
	if (rc)
		return cli_fail(CMD, &em, NULL);
	struct lb_mkt_parties pp;
	memset(&pp, 0, sizeof pp);
	if (algo) {
		pp.has_algo_author = true;
		memcpy(pp.algo_author, author, LB_ADDR_LEN);
	} else {
		pp.authors = (const uint8_t(*)[LB_ADDR_LEN])author;
		pp.n_authors = 1;
		pp.ancestors = (const uint8_t(*)[LB_ADDR_LEN])anc;
		pp.n_ancestors = nanc;
	}
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	if (lb_mkt_pay_encode(&b, algo ? LB_MKT_USE_ALGO : LB_MKT_USE_CONTRACT, amount, &pp)) {
		lb_buf_release(&b);
		return cli_failf(CMD, "encoding the payment failed");
	}
	rc = settle_send(o, LB_TX_MKT_PAY, "market.pay", &b, p);
	lb_buf_release(&b);
	if (!rc && !o->json)
		printf("paid %s in ASC on the settlement chain (market.pay %s)\n", id, o->last_id);
	return rc;
}

/* Send settlement tx `type` with payload b, wait for its block, and put its bytes and proof
 * anchored in the business chain into p->pay_tx / p->pay_proof (lb_malloc'd: the caller
 * frees them). The tx id into o->last_id. */
static int settle_send(struct sopts *o, uint32_t type, const char *type_name,
		       const struct lb_buf *b, struct lb_store_tx *p)
{
	uint8_t *tx, *proof;
	size_t txlen, prooflen;
	if (sectx_settle_cited(CMD, o->url, o->home, o->from, o->fee, type, type_name, b->data,
			       b->len, o->last_id, &tx, &txlen, &proof, &prooflen))
		return 1;
	p->pay_tx = tx;
	p->pay_tx_len = txlen;
	p->pay_proof = proof;
	p->pay_proof_len = prooflen;
	return 0;
}

static int s_pay(struct sopts *o, bool call)
{
	struct lb_store_tx p;
	memset(&p, 0, sizeof p);
	p.type = call ? LB_TX_STORE_CALL : LB_TX_STORE_BUY;
	if (o->npos < 2 || hex32("ID", o->pos[1], p.item))
		return o->npos < 2 ? cli_failf(CMD, "%s needs ID", call ? "call" : "buy") : 1;
	if (o->max_price) {
		if (amount_opt("--max-price", o->max_price, &p.max_price))
			return 1;
	} else if (current_price(o, o->pos[1], call ? "price_call" : "price_licence",
				 &p.max_price))
		return 1;
	if (o->session && hex32("--session", o->session, p.session))
		return 1;
	char id[2 * LB_HASH_LEN + 1];
	uint64_t price = 0;
	if (o->settle) {
		if (!o->from)
			return cli_failf(CMD, "--settle needs --from KEY");
		if (current_price(o, o->pos[1], call ? "price_call" : "price_licence", &price) ||
		    (price && settle(o, o->pos[1], price, &p)))
			return 1;
	}
	int src = send_tx(o, &p, id);
	lb_free((void *)p.pay_tx);
	lb_free((void *)p.pay_proof);
	if (src)
		return 1;
	if (!o->json) {
		if (call)
			printf("call %s paid (call id %s; record its outcome with 'leben store "
			       "outcome %s OUTCOME [--session SESSION]')\n",
			       o->pos[1], id, id);
		else
			printf("licence of %s bought (tx %s)\n", o->pos[1], id);
	}
	if (call && o->run)
		return run_contract(o, o->pos[1]);
	return 0;
}

/* store deposit AMOUNT: transfer ASC to the store deposit address on the settlement chain,
 * then cite it to fill the sender's store wallet. */
/* store.withdraw: the amount out of the sender's own wallet; the node pays it out on the
 * settlement chain (market.store.payout) once the withdrawal's block is anchored. */
static int s_withdraw(struct sopts *o)
{
	uint64_t amount;
	char id[2 * LB_HASH_LEN + 1];
	json_t *fin = NULL;
	if (o->npos < 2 || cli_parse_amount(o->pos[1], &amount) || !amount)
		return cli_failf(CMD, "withdraw needs an AMOUNT of ASC above 0 (e.g. 2.5)");
	if (!o->from)
		return cli_failf(CMD, "withdraw needs --from KEY (the wallet's owner)");
	struct lb_buf b;
	lb_buf_init(&b, 16);
	int rc = lb_enc_uvar(&b, amount) ? cli_failf(CMD, "encoding the withdrawal failed")
					 : sectx_sign_send(CMD, o->url, o->home, o->from,
							   LB_TX_STORE_WITHDRAW, b.data, b.len, id,
							   &fin);
	lb_buf_release(&b);
	if (!rc && o->json)
		cli_print_json(fin);
	else if (!rc)
		printf("withdrew %s ASC from the store wallet (tx %s); the node pays it to your "
		       "settlement account once a settlement block anchors it\n",
		       o->pos[1], id);
	json_decref(fin);
	return rc;
}

static int s_deposit(struct sopts *o)
{
	struct lb_store_tx p;
	uint8_t to[LB_ADDR_LEN];
	memset(&p, 0, sizeof p);
	p.type = LB_TX_STORE_DEPOSIT;
	if (o->npos < 2 || cli_parse_amount(o->pos[1], &p.amount) || !p.amount)
		return cli_failf(CMD, "deposit needs an AMOUNT of ASC above 0 (e.g. 2.5)");
	if (!o->from)
		return cli_failf(CMD, "deposit needs --from KEY");
	struct lb_buf b;
	lb_buf_init(&b, 512);
	lb_store_deposit_addr(to);
	if (lb_payload_transfer(&b, to, LB_ASC, p.amount, LB_STORE_DEPOSIT_MEMO)) {
		lb_buf_release(&b);
		return cli_failf(CMD, "encoding the transfer failed");
	}
	int rc = settle_send(o, LB_TX_TRANSFER, "transfer", &b, &p);
	lb_buf_release(&b);
	if (!rc)
		rc = send_say(o, &p, "deposited %s ASC into the store wallet (transfer %s)",
			      o->pos[1], o->last_id);
	lb_free((void *)p.pay_tx);
	lb_free((void *)p.pay_proof);
	return rc;
}

static int s_rate(struct sopts *o)
{
	struct lb_store_tx p;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_STORE_RATE;
	if (o->npos < 3 || hex32("ID", o->pos[1], p.item))
		return o->npos < 3 ? cli_failf(CMD, "rate needs ID and STARS (1-5)") : 1;
	char *end;
	long s = strtol(o->pos[2], &end, 10);
	if (*end || s < 1 || s > 5)
		return cli_failf(CMD, "STARS '%s': use a whole number from 1 to 5", o->pos[2]);
	p.stars = (uint8_t)s;
	snprintf(p.description, sizeof p.description, "%s", o->npos > 3 ? o->pos[3] : "");
	return send_say(o, &p, "rated %s %ld/5", o->pos[1], s);
}

static int s_outcome(struct sopts *o)
{
	struct lb_store_tx p;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_STORE_OUTCOME;
	if (o->npos < 3 || hex32("CALL", o->pos[1], p.ref))
		return o->npos < 3 ? cli_failf(CMD, "outcome needs CALL and OUTCOME") : 1;
	if (o->session && hex32("--session", o->session, p.session))
		return 1;
	p.outcome = (uint8_t)lb_store_outcome_parse(o->pos[2]);
	if (!p.outcome)
		return cli_failf(CMD,
				 "OUTCOME '%s': use referral-confirmed, referral-declined, "
				 "adverse-event, resolved, readmitted or other",
				 o->pos[2]);
	json_t *pl;
	if (sectx_fetch(CMD, o->url, o->pos[1], "store.call", &pl))
		return 1;
	int rc = sectx_hex_field(CMD, pl, "item", p.item, LB_HASH_LEN);
	json_decref(pl);
	if (rc)
		return 1;
	return send_say(o, &p, "outcome of call %s recorded: %s", o->pos[1], o->pos[2]);
}

static int s_template(struct sopts *o)
{
	if (o->npos < 3)
		return cli_failf(CMD, "template needs add FILE, show ID or instantiate ID");
	const char *sub = o->pos[1];
	if (!strcmp(sub, "show")) {
		char path[128];
		snprintf(path, sizeof path, "/v1/store/templates/%s", o->pos[2]);
		return get_show(o, path);
	}
	if (!strcmp(sub, "add")) {
		uint8_t *src;
		size_t n;
		if (!o->title)
			return cli_failf(CMD, "template add needs --title");
		if (cli_read_file(CMD, o->pos[2], LB_STORE_TEMPLATE_MAX, &src, &n))
			return 1;
		struct lb_store_tx p;
		memset(&p, 0, sizeof p);
		p.type = LB_TX_STORE_TEMPLATE;
		lb_hash_domain(p.item, "LEBEN-store-template-v1", src, n);
		snprintf(p.title, sizeof p.title, "%s", o->title);
		snprintf(p.description, sizeof p.description, "%s",
			 o->description ? o->description : "");
		p.source = src;
		p.source_len = n;
		char tid[2 * LB_HASH_LEN + 1];
		lb_hex_encode(tid, p.item, LB_HASH_LEN);
		int rc = send_say(o, &p, "template %s registered", tid);
		lb_free(src);
		return rc;
	}
	if (!strcmp(sub, "instantiate")) {
		if (!o->params || !o->out)
			return cli_failf(CMD, "template instantiate needs --params JSON and --out FILE");
		char path[128];
		json_t *j;
		snprintf(path, sizeof path, "/v1/store/templates/%s", o->pos[2]);
		if (cli_api_get(CMD, o->url, path, &j))
			return 1;
		const char *src = json_string_value(json_object_get(j, "source"));
		struct lb_errmsg em;
		uint8_t hash[LB_HASH_LEN];
		char *filled = NULL;
		size_t n = 0;
		int rc = 1;
		if (!src)
			cli_failf(CMD, "the node gave no source for template %s", o->pos[2]);
		else if (lb_store_template_instance(src, strlen(src), o->params, hash, &em) ||
			 lb_store_template_fill(src, strlen(src), o->params, &filled, &n, &em))
			cli_fail(CMD, &em, "the instance is not published; change the parameters");
		else {
			FILE *f = fopen(o->out, "wb");
			if (!f || fwrite(filled, 1, n, f) != n)
				cli_failf(CMD, "could not write %s", o->out);
			else {
				char h[2 * LB_HASH_LEN + 1];
				lb_hex_encode(h, hash, LB_HASH_LEN);
				if (o->json) {
					json_t *r = json_pack("{s:s,s:s,s:s}", "contract", h, "file",
							      o->out, "verified", "no problem found");
					cli_print_json(r);
					json_decref(r);
				} else
					printf("instance verified: no problem found\n  contract hash: "
					       "%s\n  written to %s; next: leben contract publish %s, "
					       "then leben store add %s --template %s --params '%s'\n",
					       h, o->out, o->out, h, o->pos[2], o->params);
				rc = 0;
			}
			if (f)
				fclose(f);
		}
		lb_free(filled);
		json_decref(j);
		return rc;
	}
	return cli_failf(CMD, "unknown template subcommand '%s'", sub);
}

int cmd_store(int argc, char **argv)
{
	struct sopts o = {0};
	int cut = argc;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			cut = i;
			o.rest_argc = argc - i - 1;
			o.rest_argv = argv + i + 1;
			break;
		}
	const struct copt opts[] = {
		{"--home", &o.home, NULL},
		{"--node", &o.node, NULL},
		{"--from", &o.from, NULL},
		{"--key", &o.from, NULL},
		{"--sort", &o.sort, NULL},
		{"--offset", &o.offset, NULL},
		{"--limit", &o.limit, NULL},
		{"--specialty", &o.specialty, NULL},
		{"--kind", &o.kind, NULL},
		{"--title", &o.title, NULL},
		{"--price-call", &o.price_call, NULL},
		{"--price-licence", &o.price_licence, NULL},
		{"--description", &o.description, NULL},
		{"--codes", &o.codes, NULL},
		{"--parent", &o.parent, NULL},
		{"--relation", &o.relation, NULL},
		{"--template", &o.tmpl, NULL},
		{"--params", &o.params, NULL},
		{"--max-price", &o.max_price, NULL},
		{"--session", &o.session, NULL},
		{"--out", &o.out, NULL},
		{"--json", NULL, &o.json},
		{"--run", NULL, &o.run},
		{"--settle", NULL, &o.settle},
		{"--fee", &o.fee, NULL},
		{"--icd10", &o.icd10, NULL},
		{"--snomed", &o.snomed, NULL},
		{"--snomed-desc", &o.snomed_desc, NULL},
		{"--author", &o.author, NULL},
		{"--help", NULL, &o.help},
		{NULL, NULL, NULL},
	};
	int rc = copt_parse(CMD, cut, argv, 1, opts, o.pos, 4, &o.npos);
	if (rc)
		return rc;
	if (o.help) {
		fputs(store_help, stdout);
		return 0;
	}
	if (o.npos < 1) {
		fputs(store_help, stderr);
		return 2;
	}
	/* --home and --node after "--" serve both this command and the contract run */
	for (int i = 0; i + 1 < o.rest_argc; i++) {
		if (!o.home && !strcmp(o.rest_argv[i], "--home"))
			o.home = o.rest_argv[i + 1];
		if (!o.node && !strcmp(o.rest_argv[i], "--node"))
			o.node = o.rest_argv[i + 1];
	}
	if (lb_crypto_init())
		return cli_failf(CMD, "libsodium failed to initialise");
	o.home = cli_home(o.home);
	o.url = cli_node_url(o.node, o.home);
	const char *sub = o.pos[0];
	char path[256];
	if (!strcmp(sub, "list"))
		return s_list(&o);
	if (!strcmp(sub, "search"))
		return s_search(&o);
	if ((!strcmp(sub, "show") || !strcmp(sub, "family")) && o.npos >= 2) {
		uint8_t id[LB_HASH_LEN];
		if (hex32("ID", o.pos[1], id))
			return 1;
		snprintf(path, sizeof path, "/v1/store/%s/%s",
			 !strcmp(sub, "show") ? "listings" : "family", o.pos[1]);
		return get_show(&o, path);
	}
	if (!strcmp(sub, "wallet")) {
		uint8_t a[LB_ADDR_LEN];
		char t[LB_ADDR_TEXT_LEN + 1];
		const char *who = o.npos >= 2 ? o.pos[1] : o.from;
		if (!who)
			return cli_failf(CMD, "wallet needs ADDRESS or KEY (or --from KEY)");
		if (cli_resolve_address(CMD, o.home, who, a))
			return 1;
		lb_addr_encode(t, a);
		snprintf(path, sizeof path, "/v1/store/wallets/%s", t);
		if (o.json)
			return get_show(&o, path);
		/* people read ASC, as the rest of the CLI prints it; --json keeps micro-ASC */
		json_t *j;
		char amt[32];
		if (cli_api_get(CMD, o.url, path, &j))
			return 1;
		json_int_t w = json_integer_value(json_object_get(j, "wallet"));
		printf("%s: %s ASC in the store wallet\n", t,
		       cli_format_amount(w > 0 ? (uint64_t)w : 0, amt, sizeof amt));
		json_decref(j);
		return 0;
	}
	if (!strcmp(sub, "add"))
		return s_add(&o);
	if (!strcmp(sub, "price"))
		return s_price(&o);
	if (!strcmp(sub, "derive"))
		return s_derive(&o);
	if (!strcmp(sub, "buy"))
		return s_pay(&o, false);
	if (!strcmp(sub, "call"))
		return s_pay(&o, true);
	if (!strcmp(sub, "rate"))
		return s_rate(&o);
	if (!strcmp(sub, "deposit"))
		return s_deposit(&o);
	if (!strcmp(sub, "withdraw"))
		return s_withdraw(&o);
	if (!strcmp(sub, "outcome"))
		return s_outcome(&o);
	if (!strcmp(sub, "template"))
		return s_template(&o);
	cli_failf(CMD, "unknown or incomplete subcommand '%s' (see 'leben store --help')", sub);
	return 2;
}
