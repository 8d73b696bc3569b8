/*
 * `leben tx KIND ...`: build, sign and send a transaction to a node. Each kind is a row of a
 * table (its chain, type id and how its payload is built from the options); the rest is the
 * same for all: ask the node for the network id, the fee and the next nonce, sign with the
 * key named by --from, submit, and with --wait follow the tx until it is in a block.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/ledger.h"
#include "leben/tx.h"

/* Every option of every kind; a kind reads the ones it needs. */
struct tx_opts {
	const char *home, *node, *from, *to, *amount, *asset, *memo, *role, *name, *meta,
		*meta_file, *kind, *subject, *data, *data_file, *content_hash, *content_file, *id,
		*reason, *fee, *nonce, *expires, *expires_at, *timeout, *count, *network_id,
		*chain, *type_id, *payload;
	bool json, help, wait, print;
};

struct tx_kind;
typedef int (*payload_fn)(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b);

struct tx_kind {
	const char *name;     /* subcommand */
	int chain;            /* enum lb_chain_id (raw: from --chain) */
	uint32_t type;        /* tx type id (raw: from --type-id) */
	const char *type_name;/* name in the node's tx-type table (fees are listed by it) */
	payload_fn build;     /* payload from the options */
	const char *usage;    /* options line for --help */
	const char *about;    /* what it does, for a person */
};

#define CMD "tx"

/* Print a problem with the command line; returns the usage exit status 2. */
static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "leben tx: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 2;
}

/* ---- payload builders ------------------------------------------------------------------- */

static int need(const char *v, const char *opt, const char *kind)
{
	if (!v) {
		cli_failf(CMD, "'leben tx %s' needs %s (see 'leben tx %s --help')", kind, opt, kind);
		return 2;
	}
	return 0;
}

static int amount_opt(const char *v, const char *kind, uint64_t *out)
{
	if (need(v, "--amount", kind))
		return 2;
	int rc = cli_parse_amount(v, out);
	if (rc || *out == 0) {
		cli_failf(CMD, "--amount '%s' is not a positive amount: use a number with at most 6 decimals, e.g. 12.5",
			  v);
		return 2;
	}
	return 0;
}

static int hash_opt(const char *v, const char *opt, uint8_t out[LB_HASH_LEN])
{
	if (lb_hex_decode(out, LB_HASH_LEN, v)) {
		cli_failf(CMD, "%s '%s' is not 64 hex digits", opt, v);
		return 2;
	}
	return 0;
}

/* Bytes from --X TEXT or --X-file FILE (either may be absent: empty). Caller frees *out. */
static int text_or_file(const char *text, const char *file, size_t max, uint8_t **out,
			size_t *len)
{
	*out = NULL;
	*len = 0;
	if (text && file) {
		cli_failf(CMD, "give the text or the file, not both");
		return 2;
	}
	if (file)
		return cli_read_file(CMD, file, max, out, len);
	if (text) {
		*len = strlen(text);
		if (*len > max)
			return cli_failf(CMD, "text of %zu bytes is over the limit of %zu", *len, max);
		*out = (uint8_t *)lb_strdup(text);
		return *out ? 0 : 1;
	}
	return 0;
}

static int to_addr(const struct tx_opts *o, const char *kind, uint8_t addr[LB_ADDR_LEN])
{
	if (need(o->to, "--to ADDRESS|KEYNAME", kind))
		return 2;
	return cli_resolve_address(CMD, o->home, o->to, addr);
}

static int p_issue(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	uint8_t to[LB_ADDR_LEN];
	uint64_t amt;
	int rc;
	if (o->asset && strcasecmp(o->asset, "asc"))
		return usage_err("--asset '%s': issue creates ASC only (CSC is minted as rewards "
				 "from quota pools)",
				 o->asset);
	if ((rc = to_addr(o, k->name, to)) || (rc = amount_opt(o->amount, k->name, &amt)))
		return rc;
	return lb_payload_issue(b, to, amt) ? 1 : 0;
}

static int p_transfer(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	uint8_t to[LB_ADDR_LEN];
	uint64_t amt;
	int rc, asset = LB_ASC;
	if ((rc = to_addr(o, k->name, to)) || (rc = amount_opt(o->amount, k->name, &amt)))
		return rc;
	if (o->asset && !strcasecmp(o->asset, "csc"))
		asset = LB_CSC;
	else if (o->asset && strcasecmp(o->asset, "asc"))
		return usage_err("--asset '%s': use asc or csc", o->asset);
	if (o->memo && strlen(o->memo) > LB_MEMO_MAX)
		return usage_err("--memo is longer than %d bytes", LB_MEMO_MAX);
	return lb_payload_transfer(b, to, asset, amt, o->memo) ? 1 : 0;
}

static int p_burn(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	uint64_t amt;
	/* only CSC, the computing-service credit, is burned (white paper: participants "pay
	 * ASC, burn CSC"); ASC is a settlement credit issued against deposits */
	if (o->asset && !strcasecmp(o->asset, "asc"))
		return usage_err("--asset asc: ASC cannot be burned, only CSC (the computing-service "
				 "credit) is; ASC is backed by a credit partner's deposits - send it "
				 "back to the partner with 'leben tx transfer' to redeem it");
	if (o->asset && strcasecmp(o->asset, "csc"))
		return usage_err("--asset '%s': burn takes csc (the only credit that is burned)",
				 o->asset);
	int rc = amount_opt(o->amount, k->name, &amt);
	return rc ? rc : lb_payload_burn(b, amt) ? 1 : 0;
}

static int p_convert(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	uint64_t amt;
	int rc = amount_opt(o->amount, k->name, &amt);
	return rc ? rc : lb_payload_convert(b, amt) ? 1 : 0;
}

static int p_identity(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	if (need(o->role, "--role ROLE", k->name) || need(o->name, "--name NAME", k->name))
		return 2;
	int role = lb_role_parse(o->role);
	if (role < 0) {
		fprintf(stderr, "leben tx: --role '%s' is not a role; the roles are:", o->role);
		for (int r = 1; r <= LB_ROLE_MAX_; r++)
			fprintf(stderr, " %s", lb_role_name(r));
		fprintf(stderr, "\n");
		return 2;
	}
	if (strlen(o->name) > LB_NAME_MAX)
		return usage_err("--name is longer than %d bytes", LB_NAME_MAX);
	uint8_t *meta;
	size_t mlen;
	int rc = text_or_file(o->meta, o->meta_file, LB_META_MAX, &meta, &mlen);
	if (rc)
		return rc;
	rc = lb_payload_identity(b, role, o->name, meta, mlen) ? 1 : 0;
	lb_free(meta);
	return rc;
}

static int p_record(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	if (need(o->kind, "--kind KIND", k->name) || need(o->subject, "--subject ID|TEXT", k->name))
		return 2;
	if (strlen(o->kind) > LB_NAME_MAX)
		return usage_err("--kind is longer than %d bytes", LB_NAME_MAX);
	uint8_t subject[LB_HASH_LEN];
	/* 64 hex digits name an id directly; any other text is hashed into one. */
	if (lb_hex_decode(subject, LB_HASH_LEN, o->subject))
		lb_hash(subject, o->subject, strlen(o->subject));
	uint8_t *data;
	size_t dlen;
	int rc = text_or_file(o->data, o->data_file, LB_META_MAX, &data, &dlen);
	if (rc)
		return rc;
	rc = lb_payload_record(b, o->kind, subject, data, dlen) ? 1 : 0;
	lb_free(data);
	return rc;
}

/* Content hash from --content-hash HEX or the BLAKE2b-256 of --content-file. */
static int content_opt(const struct tx_opts *o, const char *kind, uint8_t h[LB_HASH_LEN])
{
	if (o->content_hash && o->content_file)
		return usage_err("give --content-hash or --content-file, not both");
	if (o->content_hash)
		return hash_opt(o->content_hash, "--content-hash", h);
	if (need(o->content_file, "--content-file FILE or --content-hash HEX", kind))
		return 2;
	uint8_t *data;
	size_t n;
	if (cli_read_file(CMD, o->content_file, (size_t)1 << 34, &data, &n))
		return 1;
	lb_hash(h, data, n);
	lb_free(data);
	return 0;
}

static int p_asset(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	uint8_t id[LB_HASH_LEN], content[LB_HASH_LEN];
	bool update = k->type == LB_TX_ASSET_UPDATE;
	int rc;
	if (update && (need(o->id, "--id ASSET_ID", k->name) || hash_opt(o->id, "--id", id)))
		return 2;
	if ((rc = content_opt(o, k->name, content)))
		return rc;
	uint8_t *meta;
	size_t mlen;
	if ((rc = text_or_file(o->meta, o->meta_file, LB_META_MAX, &meta, &mlen)))
		return rc;
	rc = update ? lb_payload_asset_update(b, id, content, meta, mlen)
		    : lb_payload_asset_register(b, content, meta, mlen);
	lb_free(meta);
	return rc ? 1 : 0;
}

static int p_retire(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	uint8_t id[LB_HASH_LEN];
	if (need(o->id, "--id ASSET_ID", k->name) || hash_opt(o->id, "--id", id))
		return 2;
	if (o->reason && strlen(o->reason) > LB_MEMO_MAX)
		return usage_err("--reason is longer than %d bytes", LB_MEMO_MAX);
	return lb_payload_asset_retire(b, id, o->reason) ? 1 : 0;
}

static int p_raw(const struct tx_kind *k, const struct tx_opts *o, struct lb_buf *b)
{
	if (need(o->chain, "--chain NAME", k->name) || need(o->type_id, "--type-id N", k->name))
		return 2;
	if (!o->payload)
		return 0;
	uint8_t *p;
	size_t n;
	if (lb_hex_decode_alloc(o->payload, &p, &n, LB_TX_PAYLOAD_MAX))
		return usage_err("--payload is not hex of at most %d bytes", LB_TX_PAYLOAD_MAX);
	int rc = lb_buf_add(b, p, n) ? 1 : 0;
	lb_free(p);
	return rc;
}

static const struct tx_kind kinds[] = {
	{"issue", LB_CHAIN_SETTLEMENT, LB_TX_ISSUE, "issue", p_issue,
	 "--from KEY --to ADDRESS|KEY --amount N",
	 "create new ASC in an account (only keys of an authorised credit partner may issue)"},
	{"transfer", LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, "transfer", p_transfer,
	 "--from KEY --to ADDRESS|KEY --amount N [--asset asc|csc] [--memo TEXT]",
	 "send ASC (default) or CSC to another account"},
	{"burn", LB_CHAIN_SETTLEMENT, LB_TX_BURN, "burn", p_burn,
	 "--from KEY --amount N [--asset csc]",
	 "destroy CSC from your account (ASC is never burned)"},
	{"convert", LB_CHAIN_SETTLEMENT, LB_TX_CONVERT, "convert", p_convert,
	 "--from KEY --amount N", "turn CSC into ASC at the network's conversion rate"},
	{"identity", LB_CHAIN_BUSINESS, LB_TX_IDENTITY_REGISTER, "identity.register", p_identity,
	 "--from KEY --role ROLE --name NAME [--meta TEXT | --meta-file FILE]",
	 "register who the key belongs to and its role (patient, provider, knowledge-sharer, ...)"},
	{"record", LB_CHAIN_BUSINESS, LB_TX_RECORD, "record", p_record,
	 "--from KEY --kind KIND --subject ID|TEXT [--data TEXT | --data-file FILE]",
	 "write a signed audit-trail event (e.g. --kind consent.viewed)"},
	{"asset-register", LB_CHAIN_DIRECTORY, LB_TX_ASSET_REGISTER, "asset.register", p_asset,
	 "--from KEY (--content-file FILE | --content-hash HEX) [--meta TEXT | --meta-file FILE]",
	 "list a data asset in the directory (only its hash and metadata, never the data)"},
	{"asset-update", LB_CHAIN_DIRECTORY, LB_TX_ASSET_UPDATE, "asset.update", p_asset,
	 "--from KEY --id ASSET_ID (--content-file FILE | --content-hash HEX) [--meta ...]",
	 "publish a new version of a data asset you registered"},
	{"asset-retire", LB_CHAIN_DIRECTORY, LB_TX_ASSET_RETIRE, "asset.retire", p_retire,
	 "--from KEY --id ASSET_ID [--reason TEXT]", "withdraw a data asset from the directory"},
	{"raw", -1, 0, NULL, p_raw,
	 "--from KEY --chain NAME --type-id N [--payload HEX]",
	 "sign a tx from raw parts (for developers and tests; the node checks it like any other)"},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben tx KIND [options]\n"
		"\n"
		"Build a transaction, sign it with one of your keys and send it to the node.\n"
		"The node checks it at once: if it is refused you see why, and nothing changes.\n"
		"\n"
		"kinds:\n");
	for (size_t i = 0; i < N_KINDS; i++)
		fprintf(f, "  %-15s %s\n  %-15s   leben tx %s %s\n", kinds[i].name, kinds[i].about, "",
			kinds[i].name, kinds[i].usage);
	fprintf(f,
		"\n"
		"Amounts are credits with up to 6 decimals (12.5 = 12 500 000 micro-units).\n"
		"Addresses are lb1... strings, or the name of a key in this home's keystore.\n"
		"The key's passphrase is asked for, or read from LEBEN_PASSPHRASE.\n"
		"\n"
		"options for every kind:\n"
		"  --from KEY         key that signs (and pays the fee), from <home>/keys\n"
		"  --fee N            fee in CSC (default: the node's fee for this kind)\n"
		"  --expires SECONDS  refuse the tx if it is not in a block within this time\n"
		"  --wait             wait until the tx is in a block, and say if it was applied\n"
		"  --timeout SECONDS  how long --wait waits (default 60)\n"
		"  --home DIR         node home (default $LEBEN_HOME or ~/.leben)\n"
		"  --node URL         node API (default $LEBEN_NODE, or the port in <home>/config.json)\n"
		"  --json             print the node's answer as JSON, for scripts\n"
		"expert options:\n"
		"  --nonce N          use this sequence number instead of asking the node\n"
		"  --count N          sign N txs with consecutive nonces and send them as one batch\n"
		"  --print            print the signed tx(s) in hex instead of sending them\n"
		"  --network-id HEX   sign for this network id instead of asking the node\n"
		"  --expires-at MS    absolute expiry, Unix time in milliseconds\n"
		"\n"
		"examples:\n"
		"  leben tx transfer --from alice --to bob --amount 12.5 --wait\n"
		"  leben tx identity --from clinic --role provider --name \"St. Anna Clinic\"\n"
		"  leben tx asset-register --from clinic --content-file scan.dcm --meta-file meta.json\n");
}

/* ---- the common part ------------------------------------------------------------------ */

static int parse_u64(const char *s, const char *opt, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-') {
		cli_failf(CMD, "%s '%s' is not a whole number", opt, s ? s : "");
		return 2;
	}
	unsigned long long v = strtoull(s, &end, 0);
	if (*end) {
		cli_failf(CMD, "%s '%s' is not a whole number", opt, s);
		return 2;
	}
	*out = v;
	return 0;
}

/* Default fee for a type from the node's status "fees" (the genesis fee schedule):
 * fees.types.<name>, else fees.<name>, else fees.default; a bare number applies to all.
 * Only settlement txs carry a fee. */
static uint64_t fee_from_status(json_t *status, const struct tx_kind *k, int chain)
{
	if (chain != LB_CHAIN_SETTLEMENT)
		return 0;
	json_t *f = json_object_get(status, "fees"), *v = NULL;
	if (json_is_integer(f))
		return json_integer_value(f) > 0 ? (uint64_t)json_integer_value(f) : 0;
	if (k->type_name) {
		v = json_object_get(json_object_get(f, "types"), k->type_name);
		if (!json_is_integer(v))
			v = json_object_get(f, k->type_name);
	}
	if (!json_is_integer(v))
		v = json_object_get(f, "default");
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
								: 0;
}

static void print_outcome(json_t *tx, const char *idhex)
{
	const char *st = json_string_value(json_object_get(tx, "status"));
	uint64_t blk = cli_tx_height(tx);
	if (st && !strcmp(st, "committed")) {
		printf("Committed in block %llu.\n", (unsigned long long)blk);
		return;
	}
	json_t *e = json_object_get(tx, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (!msg)
		msg = json_string_value(e);
	printf("Included in block %llu but NOT applied (invalid)%s%s\n", (unsigned long long)blk,
	       msg ? ": " : ".", msg ? msg : "");
}

int cmd_tx(int argc, char **argv)
{
	struct tx_opts o = {0};
	const struct copt opts[] = {
		{"--home", &o.home, NULL}, {"--node", &o.node, NULL}, {"--json", NULL, &o.json},
		{"--help", NULL, &o.help}, {"-h", NULL, &o.help}, {"--from", &o.from, NULL},
		{"--to", &o.to, NULL}, {"--amount", &o.amount, NULL}, {"--asset", &o.asset, NULL},
		{"--memo", &o.memo, NULL}, {"--role", &o.role, NULL}, {"--name", &o.name, NULL},
		{"--meta", &o.meta, NULL}, {"--meta-file", &o.meta_file, NULL},
		{"--kind", &o.kind, NULL}, {"--subject", &o.subject, NULL},
		{"--data", &o.data, NULL}, {"--data-file", &o.data_file, NULL},
		{"--content-hash", &o.content_hash, NULL},
		{"--content-file", &o.content_file, NULL}, {"--id", &o.id, NULL},
		{"--reason", &o.reason, NULL}, {"--fee", &o.fee, NULL}, {"--nonce", &o.nonce, NULL},
		{"--expires", &o.expires, NULL}, {"--expires-at", &o.expires_at, NULL},
		{"--wait", NULL, &o.wait}, {"--timeout", &o.timeout, NULL},
		{"--count", &o.count, NULL}, {"--print", NULL, &o.print},
		{"--network-id", &o.network_id, NULL}, {"--chain", &o.chain, NULL},
		{"--type-id", &o.type_id, NULL}, {"--payload", &o.payload, NULL}, {NULL, NULL, NULL},
	};
	const char *pos[1];
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, 1, &npos)))
		return rc;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (npos == 0) {
		usage(stderr);
		return 2;
	}
	const struct tx_kind *k = NULL;
	for (size_t i = 0; i < N_KINDS; i++)
		if (!strcmp(pos[0], kinds[i].name))
			k = &kinds[i];
	if (!k) {
		cli_failf(CMD, "'%s' is not a kind of tx; 'leben tx --help' lists them", pos[0]);
		return 2;
	}
	o.home = cli_home(o.home);
	const char *url = cli_node_url(o.node, o.home);

	/* Every option is checked before the passphrase is asked for or the node is called. */
	struct lb_tx t = {0};
	t.version = LB_TX_VERSION;
	t.chain = (uint8_t)(k->chain >= 0 ? k->chain : 0);
	t.type = k->type;
	if (k->chain < 0) {
		int c = o.chain ? lb_chain_parse(o.chain) : -1;
		uint64_t ty;
		if (o.chain && c < 0) {
			cli_failf(CMD, "--chain '%s': use settlement, directory or business", o.chain);
			return 2;
		}
		if (o.type_id && (rc = parse_u64(o.type_id, "--type-id", &ty)))
			return rc;
		if (o.type_id && ty > UINT32_MAX) {
			cli_failf(CMD, "--type-id %s is too large", o.type_id);
			return 2;
		}
		t.chain = (uint8_t)(c < 0 ? 0 : c);
		t.type = o.type_id ? (uint32_t)ty : 0;
	}
	if (need(o.from, "--from KEY", k->name))
		return 2;
	struct lb_buf payload, out;
	lb_buf_init(&payload, LB_TX_PAYLOAD_MAX);
	lb_buf_init(&out, (size_t)256 << 20);
	json_t *status = NULL, *acct = NULL, *reply = NULL, *txs = NULL, *final = NULL;
	char **hexes = NULL;
	uint8_t (*ids)[LB_HASH_LEN] = NULL;
	struct lb_keypair kp;
	bool have_key = false;
	uint64_t fee = 0, nonce = 0, count = 1, expires_s = 0;
	double timeout_s = 60;
	if (o.asset && k->type != LB_TX_TRANSFER && k->type != LB_TX_BURN &&
	    k->type != LB_TX_ISSUE) {
		rc = usage_err("--asset: 'leben tx %s' takes no --asset (only transfer, burn and "
			       "issue name a credit)",
			       k->name);
		goto out;
	}
	rc = k->build(k, &o, &payload);
	if (rc)
		goto out;
	if ((o.fee && cli_parse_amount(o.fee, &fee)) ||
	    (o.nonce && parse_u64(o.nonce, "--nonce", &nonce)) ||
	    (o.count && (parse_u64(o.count, "--count", &count) || count == 0 || count > 100000)) ||
	    (o.expires && parse_u64(o.expires, "--expires", &expires_s)) ||
	    (o.expires_at && parse_u64(o.expires_at, "--expires-at", &t.expires_ms))) {
		cli_failf(CMD, "check the numbers given to --fee, --nonce, --count (1..100000), --expires and --expires-at");
		rc = 2;
		goto out;
	}
	if (o.timeout) {
		uint64_t s;
		if (parse_u64(o.timeout, "--timeout", &s) || s == 0) {
			rc = 2;
			goto out;
		}
		timeout_s = (double)s;
	}
	if (o.expires)
		t.expires_ms = lb_now_ms() + expires_s * 1000;
	t.payload = payload.data;
	t.payload_len = payload.len;

	/* Network id and default fee from the node unless both are given. */
	uint8_t network[LB_HASH_LEN];
	if (o.network_id) {
		if (hash_opt(o.network_id, "--network-id", network)) {
			rc = 2;
			goto out;
		}
	}
	if (!o.network_id || !o.fee) {
		if ((rc = cli_api_get(CMD, url, "/v1/status", &status)))
			goto out;
		const char *nid = json_string_value(json_object_get(status, "network_id"));
		if (!o.network_id && (!nid || lb_hex_decode(network, LB_HASH_LEN, nid))) {
			rc = cli_failf(CMD, "the node at %s did not give a network id in /v1/status", url);
			goto out;
		}
		if (!o.fee)
			fee = fee_from_status(status, k, t.chain);
	}
	t.fee = fee;
	if (cli_load_key(o.home, o.from, &kp)) {
		rc = 1;
		goto out;
	}
	have_key = true;
	uint8_t from_addr[LB_ADDR_LEN];
	char from_text[LB_ADDR_TEXT_LEN + 1];
	lb_addr_from_pubkey(from_addr, kp.pk);
	lb_addr_encode(from_text, from_addr);
	if (!o.nonce) {
		char path[128];
		snprintf(path, sizeof path, "/v1/accounts/%s", from_text);
		if ((rc = cli_api_get(CMD, url, path, &acct)))
			goto out;
		json_t *nn = json_object_get(
			json_object_get(json_object_get(acct, "chains"), lb_chain_name(t.chain)),
			"next_nonce");
		if (!json_is_integer(nn)) {
			rc = cli_failf(CMD, "the node did not give the next nonce of %s on %s; use --nonce N",
				       from_text, lb_chain_name(t.chain));
			goto out;
		}
		nonce = (uint64_t)json_integer_value(nn);
	}

	/* Sign count txs with consecutive nonces. */
	hexes = lb_calloc(count, sizeof *hexes);
	ids = lb_calloc(count, sizeof *ids);
	txs = json_array();
	if (!hexes || !ids || !txs) {
		rc = cli_failf(CMD, "out of memory for %" PRIu64 " txs", count);
		goto out;
	}
	for (uint64_t i = 0; i < count; i++) {
		lb_buf_reset(&out);
		t.nonce = nonce + i;
		if (lb_tx_build(&out, &t, network, &kp, ids[i]) ||
		    !(hexes[i] = lb_malloc(2 * out.len + 1))) {
			rc = cli_failf(CMD, "could not build the tx (out of memory?)");
			goto out;
		}
		lb_hex_encode(hexes[i], out.data, out.len);
		json_array_append_new(txs, json_string(hexes[i]));
	}
	lb_keypair_wipe(&kp);
	have_key = false;

	if (o.print) {
		if (o.json) {
			cli_print_json(txs);
		} else {
			for (uint64_t i = 0; i < count; i++)
				puts(hexes[i]);
		}
		rc = 0;
		goto out;
	}
	json_t *body = count == 1 ? json_pack("{s:O}", "tx", json_array_get(txs, 0))
				  : json_pack("{s:O}", "txs", txs);
	rc = cli_api_post(CMD, url, "/v1/txs", body, &reply);
	json_decref(body);
	if (rc)
		goto out;
	char idhex[2 * LB_HASH_LEN + 1];
	if (count > 1) {
		json_int_t refused = json_integer_value(json_object_get(reply, "refused"));
		if (o.json) {
			cli_print_json(reply);
		} else {
			printf("Sent %" PRIu64 " %s txs from %s (nonces %" PRIu64 "..%" PRIu64
			       "): %lld accepted, %lld refused.\n",
			       count, k->name, from_text, nonce, nonce + count - 1,
			       (long long)json_integer_value(json_object_get(reply, "accepted")),
			       (long long)refused);
			size_t i;
			json_t *r;
			json_array_foreach(json_object_get(reply, "results"), i, r) {
				json_t *e = json_object_get(r, "error");
				if (e)
					printf("  tx %zu refused: %s [%s]\n", i,
					       json_string_value(json_object_get(e, "message")),
					       json_string_value(json_object_get(e, "code")));
			}
		}
		rc = refused ? 1 : 0;
		if (!rc && o.wait) {
			lb_hex_encode(idhex, ids[count - 1], LB_HASH_LEN);
			rc = cli_tx_wait(CMD, url, idhex, timeout_s, &final);
			if (final && !o.json)
				print_outcome(final, idhex);
		}
		goto out;
	}
	lb_hex_encode(idhex, ids[0], LB_HASH_LEN);
	char feebuf[32];
	if (!o.json)
		printf("Sent %s tx %s\n  from %s, %s chain, nonce %" PRIu64 ", fee %s CSC\n", k->name,
		       idhex, from_text, lb_chain_name(t.chain), nonce,
		       cli_format_amount(fee, feebuf, sizeof feebuf));
	rc = 0;
	if (o.wait) {
		if (!o.json)
			printf("Waiting for a block...\n");
		rc = cli_tx_wait(CMD, url, idhex, timeout_s, &final);
		if (final && !o.json)
			print_outcome(final, idhex);
	}
	if (o.json) {
		json_t *j = final ? final : reply;
		cli_print_json(j);
	}
out:
	if (have_key)
		lb_keypair_wipe(&kp);
	for (uint64_t i = 0; hexes && i < count; i++)
		lb_free(hexes[i]);
	lb_free(hexes);
	lb_free(ids);
	json_decref(txs);
	json_decref(final);
	json_decref(reply);
	json_decref(acct);
	json_decref(status);
	lb_buf_release(&out);
	lb_buf_release(&payload);
	return rc;
}
