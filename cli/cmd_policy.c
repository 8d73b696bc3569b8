/* `leben policy`: co-owner policies of assets on the business chain (who owns, how many must
 * consent, how chain time maps to forward-secure key periods) and co-owner approvals of acts,
 * signed with `leben kes` keys. See docs/security.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/kes.h"
#include "leben/security.h"
#include "sectx.h"

#define CMD "policy"
#define POLICY_FORMAT "leben-coowner-policy/1"

static const char policy_help[] =
	"usage: leben policy new --owners VK1,VK2,... --threshold T --epoch-blocks N\n"
	"                        [--start-height H] --out FILE\n"
	"       leben policy set --from KEY --asset ID --policy FILE [--approvals P:E,P:E,...]\n"
	"       leben policy sign --key KESFILE --policy FILE --asset ID\n"
	"                         (--act TEXT | --act-file F | --update-to FILE2)\n"
	"                         [--sequential [--prev HEX]]\n"
	"       leben policy approve --from KEY --asset ID (--act TEXT | --act-file F)\n"
	"                            (--approvals P:E,P:E,... | --multisig HEX)\n"
	"       leben policy period --policy FILE\n"
	"\n"
	"Assets owned by several institutions need their owners' consent for some acts. A policy\n"
	"on the business chain lists the owners' forward-secure keys ('leben kes keygen' prints\n"
	"each owner's VK), how many must sign, and how long a key period lasts in blocks. Keys\n"
	"sign only for the chain's current period: move them with 'leben kes update --to N'\n"
	"('policy period' prints N). A period's signatures are refused once the chain is past it.\n"
	"\n"
	"  new      write a policy FILE (start: the next block unless --start-height)\n"
	"  set      record the policy of asset ID (64 hex digits); changing a recorded policy\n"
	"           needs approvals of the current owners over '--update-to FILE' (see sign)\n"
	"  sign     one owner's approval of an act, printed as PERIOD:HEX; with --sequential,\n"
	"           sign after the owners in --prev and print the whole multi-signature\n"
	"  approve  record the co-owners' approval of an act on the business chain (an act is\n"
	"           approved once)\n"
	"  period   the key period of the next block on the node\n"
	"Options: --home DIR, --node URL, --json.\n";

struct popts {
	const char *home, *node, *owners, *threshold, *epoch, *start, *out, *from, *asset,
		*policy, *approvals, *key, *act, *act_file, *update_to, *prev, *multisig;
	bool sequential, json, help;
};

static int read_policy(const char *path, struct lb_msig_policy *p)
{
	uint8_t *buf, pb[LB_MSIG_POLICY_MAXBYTES];
	size_t n;
	json_error_t je;
	struct lb_errmsg em;
	if (!path)
		return cli_failf(CMD, "--policy FILE (made by 'leben policy new') is required");
	if (lb_file_read(path, 1 << 20, &buf, &n, &em))
		return cli_fail(CMD, &em, NULL);
	json_t *j = json_loadb((const char *)buf, n, 0, &je);
	lb_free(buf);
	const char *h = json_string_value(json_object_get(j, "policy"));
	const char *f = json_string_value(json_object_get(j, "format"));
	int rc = 0;
	if (!h || !f || strcmp(f, POLICY_FORMAT) || strlen(h) % 2 ||
	    strlen(h) / 2 > sizeof pb || lb_hex_decode(pb, strlen(h) / 2, h))
		rc = cli_failf(CMD, "%s is not a policy file made by 'leben policy new'", path);
	else if (lb_msig_policy_decode(p, pb, strlen(h) / 2, &em))
		rc = cli_fail(CMD, &em, NULL);
	json_decref(j);
	return rc;
}

/* The number each owner of p (in the policy's key order) had in the --owners list given to
 * 'policy new' (kept in the file as "owners_given"), into no[]. False (and no[i] = i + 1, the
 * key order) for a file without that list. */
static bool given_numbers(const char *path, const struct lb_msig_policy *p,
			  unsigned no[LB_MSIG_MAX_OWNERS])
{
	for (unsigned i = 0; i < p->n; i++)
		no[i] = i + 1;
	json_t *j = path ? json_load_file(path, 0, NULL) : NULL;
	json_t *given = json_object_get(j, "owners_given");
	bool ok = json_is_array(given) && json_array_size(given) == p->n;
	unsigned tmp[LB_MSIG_MAX_OWNERS];
	for (unsigned i = 0; ok && i < p->n; i++) {
		uint8_t vk[32];
		const char *h = json_string_value(json_array_get(given, i));
		int k = h && strlen(h) == 64 && !lb_hex_decode(vk, 32, h) ? lb_msig_owner_index(p, vk)
									   : -1;
		if (k < 0)
			ok = false;
		else
			tmp[k] = i + 1;
	}
	if (ok)
		memcpy(no, tmp, p->n * sizeof *no);
	json_decref(j);
	return ok;
}

/* "2, 1, 3": the owners in the policy's signing (key) order, by their given numbers. */
static void signing_order(const struct lb_msig_policy *p, const unsigned no[LB_MSIG_MAX_OWNERS],
			  char *out, size_t n)
{
	size_t used = 0;
	out[0] = 0;
	for (unsigned i = 0; i < p->n && used < n; i++)
		used += (size_t)snprintf(out + used, n - used, "%s%u", i ? ", " : "", no[i]);
}

static int hex32(const char *s, const char *what, uint8_t out[32])
{
	if (!s || strlen(s) != 64 || lb_hex_decode(out, 32, s))
		return cli_failf(CMD, "%s must be 64 hex digits", what);
	return 0;
}

/* The act's bytes: --act TEXT, --act-file F, or the update act of --update-to FILE. */
static int act_bytes(const struct popts *o, uint8_t **act, size_t *len)
{
	struct lb_errmsg em;
	if (o->update_to) {
		struct lb_msig_policy next;
		if (read_policy(o->update_to, &next))
			return 1;
		*act = lb_malloc(11 + LB_MSIG_POLICY_MAXBYTES);
		if (!*act || lb_policy_update_act(&next, *act, len, &em))
			return cli_failf(CMD, "could not encode the policy update");
		return 0;
	}
	if (o->act) {
		*len = strlen(o->act);
		*act = (uint8_t *)lb_strdup(o->act);
	} else if (o->act_file) {
		if (lb_file_read(o->act_file, LB_SEC_ACT_MAX, act, len, &em))
			return cli_fail(CMD, &em, NULL);
	} else {
		return cli_failf(CMD, "say what is approved: --act TEXT, --act-file F or "
				      "--update-to FILE");
	}
	if (!*act || *len == 0 || *len > LB_SEC_ACT_MAX)
		return cli_failf(CMD, "the act must be 1 to %d bytes", LB_SEC_ACT_MAX);
	return 0;
}

static int load_kes(const char *path, struct lb_kes_sk *sk)
{
	uint8_t *hex, raw[LB_KES_SKFILEBYTES];
	size_t len;
	struct lb_errmsg em;
	if (lb_file_read(path, 4 * LB_KES_SKFILEBYTES, &hex, &len, &em))
		return cli_fail(CMD, &em, NULL);
	while (len && (hex[len - 1] == '\n' || hex[len - 1] == ' '))
		hex[--len] = 0;
	int rc = len == 2 * LB_KES_SKFILEBYTES ? lb_hex_decode(raw, sizeof raw, (char *)hex) : 1;
	sodium_memzero(hex, len);
	lb_free(hex);
	if (rc == LB_OK)
		rc = lb_kes_sk_decode(sk, raw, sizeof raw, &em);
	sodium_memzero(raw, sizeof raw);
	if (rc)
		return cli_failf(CMD, "%s is not a key made by 'leben kes keygen'", path);
	return 0;
}

/* Broadcast approvals "PERIOD:HEX,..." assembled into a multi-signature (lb_malloc'd). */
static int assemble(const char *list, uint8_t **out, size_t *outlen)
{
	uint8_t *ent[LB_MSIG_MAX_OWNERS];
	size_t k = 0, n;
	long period = -1;
	struct lb_errmsg em;
	char *dup = lb_strdup(list);
	int rc = 1;
	for (char *save = NULL, *e = dup ? strtok_r(dup, ",", &save) : NULL; e;
	     e = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(e, ':'), *end;
		long p = colon ? strtol(e, &end, 10) : -1;
		if (!colon || end != colon || p < 0 || k == LB_MSIG_MAX_OWNERS ||
		    (period >= 0 && p != period) ||
		    lb_hex_decode_alloc(colon + 1, &ent[k], &n, LB_MSIG_ENTRYBYTES) ||
		    n != LB_MSIG_ENTRYBYTES) {
			cli_failf(CMD, "approval %zu is not PERIOD:HEX from 'leben policy sign' (all "
				       "of the same period)",
				  k + 1);
			goto out;
		}
		period = p;
		k++;
	}
	if (!k) {
		cli_failf(CMD, "--approvals lists no approval");
		goto out;
	}
	*out = lb_malloc(LB_MSIG_BYTES(k));
	if (!*out || lb_msig_assemble((const uint8_t *const *)ent, k, (uint32_t)period, *out,
				      outlen, &em)) {
		cli_fail(CMD, &em, NULL);
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < k; i++)
		lb_free(ent[i]);
	lb_free(dup);
	return rc;
}

static int sig_opt(const struct popts *o, uint8_t **sig, size_t *len)
{
	if (o->multisig)
		return lb_hex_decode_alloc(o->multisig, sig, len, LB_SEC_MSIG_MAX)
			       ? cli_failf(CMD, "--multisig is not a multi-signature in hex")
			       : 0;
	if (o->approvals)
		return assemble(o->approvals, sig, len);
	return cli_failf(CMD, "give the owners' approvals: --approvals P:E,... or --multisig HEX");
}

static int post(const struct popts *o, uint32_t type, struct lb_buf *pl)
{
	struct lb_keypair kp;
	struct sectx tx = {0};
	json_t *final = NULL;
	const char *url = cli_node_url(o->node, o->home);
	if (!o->from)
		return cli_failf(CMD, "--from KEY (who sends the tx) is required");
	if (cli_load_key(o->home, o->from, &kp))
		return 1;
	int rc = sectx_build(CMD, url, &kp, type, pl->data, pl->len, &tx);
	lb_keypair_wipe(&kp);
	if (!rc)
		rc = sectx_send(CMD, url, &tx, 120.0, &final);
	if (!rc) {
		if (o->json)
			cli_print_json(final);
		else
			printf("Recorded in tx %s (block %lld of the business chain).\n", tx.id,
			       (long long)json_integer_value(json_object_get(final, "height")));
	}
	json_decref(final);
	sectx_release(&tx);
	return rc;
}

static int p_new(const struct popts *o)
{
	struct lb_msig_policy p;
	struct lb_errmsg em;
	uint8_t pb[LB_MSIG_POLICY_MAXBYTES];
	size_t n;
	char *e;
	memset(&p, 0, sizeof p);
	if (!o->owners || !o->threshold || !o->epoch || !o->out)
		return cli_failf(CMD, "new needs --owners, --threshold, --epoch-blocks and --out"), 2;
	char *dup = lb_strdup(o->owners);
	json_t *given = json_array();
	for (char *save = NULL, *v = dup ? strtok_r(dup, ",", &save) : NULL; v;
	     v = strtok_r(NULL, ",", &save)) {
		if (p.n == LB_MSIG_MAX_OWNERS || hex32(v, "each owner's VK", p.owners[p.n])) {
			lb_free(dup);
			json_decref(given);
			return 1;
		}
		/* the owners as the user numbered them, for messages (the policy itself is in
		 * key order) */
		char vh[65];
		lb_hex_encode(vh, p.owners[p.n], 32);
		json_array_append_new(given, json_string(vh));
		/* keep owners sorted (the canonical order) */
		for (unsigned i = p.n; i > 0 && memcmp(p.owners[i - 1], p.owners[i], 32) > 0; i--) {
			uint8_t t[32];
			memcpy(t, p.owners[i], 32);
			memcpy(p.owners[i], p.owners[i - 1], 32);
			memcpy(p.owners[i - 1], t, 32);
		}
		p.n++;
	}
	lb_free(dup);
	p.threshold = (unsigned)strtoul(o->threshold, &e, 10);
	if (*e) {
		json_decref(given);
		return cli_failf(CMD, "--threshold takes a number"), 2;
	}
	p.epoch_blocks = strtoull(o->epoch, &e, 10);
	if (*e) {
		json_decref(given);
		return cli_failf(CMD, "--epoch-blocks takes a number"), 2;
	}
	if (o->start) {
		p.start_height = strtoull(o->start, &e, 10);
		if (*e) {
			json_decref(given);
			return cli_failf(CMD, "--start-height takes a number"), 2;
		}
	} else {
		uint64_t h;
		if (sectx_height(CMD, cli_node_url(o->node, o->home), &h)) {
			json_decref(given);
			return 1;
		}
		p.start_height = h + 1;
	}
	if (lb_msig_policy_encode(&p, pb, &n, &em)) {
		json_decref(given);
		return cli_fail(CMD, &em, NULL);
	}
	char *h = lb_malloc(2 * n + 1);
	uint8_t id[32];
	char idh[65];
	lb_hex_encode(h, pb, n);
	lb_msig_policy_id(&p, id);
	lb_hex_encode(idh, id, 32);
	json_t *ow = json_array();
	for (unsigned i = 0; i < p.n; i++) {
		char v[65];
		lb_hex_encode(v, p.owners[i], 32);
		json_array_append_new(ow, json_string(v));
	}
	json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:i,s:I,s:I}", "format", POLICY_FORMAT, "policy", h,
			      "policy_id", idh, "owners", ow, "threshold", (int)p.threshold,
			      "start_height", (json_int_t)p.start_height, "epoch_blocks",
			      (json_int_t)p.epoch_blocks);
	lb_free(h);
	json_object_set_new(j, "owners_given", given);
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = lb_file_write(o->out, s, strlen(s), 0644, &em) ? cli_fail(CMD, &em, NULL) : 0;
	if (!rc) {
		if (o->json)
			cli_print_json(j);
		else
			printf("Policy %s: %u of %u owners, periods of %llu blocks from block %llu; "
			       "written to %s\n",
			       idh, p.threshold, p.n, (unsigned long long)p.epoch_blocks,
			       (unsigned long long)p.start_height, o->out);
		unsigned no[LB_MSIG_MAX_OWNERS];
		char order[LB_MSIG_MAX_OWNERS * 5 + 1];
		given_numbers(o->out, &p, no);
		signing_order(&p, no, order, sizeof order);
		if (!o->json)
			printf("Sequential signatures go in key order: owners %s (numbered as given "
			       "in --owners).\n",
			       order);
	}
	free(s);
	json_decref(j);
	return rc;
}

static int p_set(const struct popts *o)
{
	struct lb_msig_policy p;
	struct lb_errmsg em;
	uint8_t asset[32], *sig = NULL;
	size_t slen = 0;
	struct lb_buf b;
	if (hex32(o->asset, "--asset", asset) || read_policy(o->policy, &p))
		return 1;
	if (o->approvals || o->multisig)
		if (sig_opt(o, &sig, &slen))
			return 1;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	int rc = lb_policy_set_encode(&b, asset, &p, sig, slen, &em) ? cli_fail(CMD, &em, NULL)
								   : post(o, LB_TX_POLICY_SET, &b);
	lb_buf_release(&b);
	lb_free(sig);
	return rc;
}

/* A sequential multi-signature is signed in the policy's (key) order: refuse a key that
 * comes before the last signer in --prev, numbering owners as the user gave them to 'policy
 * new' (the library's own message would number them in key order). */
static int seq_order_check(const char *path, const struct lb_msig_policy *p,
			   const struct lb_kes_sk *sk, const uint8_t *prev, size_t plen)
{
	uint8_t vk[32];
	lb_kes_sk_vk(sk, vk);
	int idx = lb_msig_owner_index(p, vk);
	if (idx < 0 || plen < 6 || prev[5] == 0 || plen != LB_MSIG_BYTES(prev[5]))
		return 0; /* the library says what is wrong with those */
	unsigned last = prev[6 + (size_t)(prev[5] - 1) * LB_MSIG_ENTRYBYTES];
	if ((unsigned)idx > last || last >= p->n)
		return 0;
	unsigned no[LB_MSIG_MAX_OWNERS];
	char order[LB_MSIG_MAX_OWNERS * 5 + 1];
	bool given = given_numbers(path, p, no);
	signing_order(p, no, order, sizeof order);
	const char *numbering = given ? "owners numbered as given to 'policy new --owners'"
				      : "owners numbered in key order";
	if ((unsigned)idx == last)
		return cli_failf(CMD, "owner %u (this key) has signed this multi-signature already "
				      "(the last signature in --prev is its own; %s)",
				 no[idx], numbering);
	return cli_failf(CMD, "owner %u (this key) cannot sign after owner %u: a sequential "
			      "multi-signature is signed in the policy's order, which is owners %s "
			      "(%s); owner %u signs before owner %u, so start again from the first "
			      "owner of that order",
			 no[idx], no[last], order, numbering, no[idx], no[last]);
}

static int p_sign(const struct popts *o)
{
	struct lb_msig_policy p;
	struct lb_kes_sk sk;
	struct lb_errmsg em;
	uint8_t asset[32], d[32], *act = NULL, *prev = NULL, *out = NULL;
	size_t alen, plen = 0, olen;
	int rc = 1;
	if (!o->key)
		return cli_failf(CMD, "--key KESFILE (your 'leben kes' key) is required"), 2;
	if (hex32(o->asset, "--asset", asset) || read_policy(o->policy, &p) ||
	    act_bytes(o, &act, &alen))
		goto done;
	if (load_kes(o->key, &sk))
		goto done;
	lb_security_act_digest(asset, act, alen, d);
	if (o->sequential) {
		if (o->prev && lb_hex_decode_alloc(o->prev, &prev, &plen, LB_SEC_MSIG_MAX)) {
			cli_failf(CMD, "--prev is not a multi-signature in hex");
			goto wipe;
		}
		if (seq_order_check(o->policy, &p, &sk, prev, plen))
			goto wipe;
		out = lb_malloc(LB_SEC_MSIG_MAX);
		if (!out || lb_msig_sequential_sign(&sk, &p, d, 32, prev, plen, out, &olen, &em)) {
			cli_fail(CMD, &em, NULL);
			goto wipe;
		}
	} else {
		out = lb_malloc(LB_MSIG_ENTRYBYTES);
		olen = LB_MSIG_ENTRYBYTES;
		if (!out || lb_msig_broadcast_sign(&sk, &p, d, 32, out, &em)) {
			cli_fail(CMD, &em, NULL);
			goto wipe;
		}
	}
	char *h = lb_malloc(2 * olen + 1);
	lb_hex_encode(h, out, olen);
	if (o->json)
		printf("{\"period\":%u,\"%s\":\"%s\"}\n", sk.period,
		       o->sequential ? "multisig" : "approval", h);
	else if (o->sequential)
		printf("%s\n", h);
	else
		printf("%u:%s\n", sk.period, h);
	lb_free(h);
	rc = 0;
wipe:
	lb_kes_sk_wipe(&sk);
done:
	lb_free(act);
	lb_free(prev);
	lb_free(out);
	return rc;
}

static int p_approve(const struct popts *o)
{
	uint8_t asset[32], *act = NULL, *sig = NULL;
	size_t alen, slen;
	struct lb_buf b;
	int rc;
	if (hex32(o->asset, "--asset", asset) || act_bytes(o, &act, &alen) ||
	    sig_opt(o, &sig, &slen)) {
		lb_free(act);
		return 1;
	}
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	rc = lb_policy_approve_encode(&b, asset, act, alen, sig, slen)
		     ? cli_failf(CMD, "out of memory")
		     : post(o, LB_TX_POLICY_APPROVE, &b);
	lb_buf_release(&b);
	lb_free(act);
	lb_free(sig);
	return rc;
}

static int p_period(const struct popts *o)
{
	struct lb_msig_policy p;
	uint64_t h;
	uint32_t period;
	if (read_policy(o->policy, &p) || sectx_height(CMD, cli_node_url(o->node, o->home), &h))
		return 1;
	if (lb_kes_period_at(h + 1, p.start_height, p.epoch_blocks, &period))
		return cli_failf(CMD, "block %llu is outside the policy's 64 periods",
				 (unsigned long long)(h + 1));
	if (o->json)
		printf("{\"period\":%u,\"next_block\":%llu}\n", period, (unsigned long long)(h + 1));
	else
		printf("%u\n", period);
	return 0;
}

int cmd_policy(int argc, char **argv)
{
	struct popts o = {0};
	const char *pos[2];
	int npos = 0;
	const struct copt opts[] = {
		{"--home", &o.home, NULL},         {"--node", &o.node, NULL},
		{"--owners", &o.owners, NULL},     {"--threshold", &o.threshold, NULL},
		{"--epoch-blocks", &o.epoch, NULL}, {"--start-height", &o.start, NULL},
		{"--out", &o.out, NULL},           {"--from", &o.from, NULL},
		{"--asset", &o.asset, NULL},       {"--policy", &o.policy, NULL},
		{"--approvals", &o.approvals, NULL}, {"--key", &o.key, NULL},
		{"--act", &o.act, NULL},           {"--act-file", &o.act_file, NULL},
		{"--update-to", &o.update_to, NULL}, {"--prev", &o.prev, NULL},
		{"--multisig", &o.multisig, NULL}, {"--sequential", NULL, &o.sequential},
		{"--json", NULL, &o.json},         {"--help", NULL, &o.help},
		{NULL, NULL, NULL}};
	int rc = copt_parse(CMD, argc, argv, 1, opts, pos, 1, &npos);
	if (rc)
		return rc;
	o.home = cli_home(o.home);
	if (o.help) {
		fputs(policy_help, stdout);
		return 0;
	}
	if (npos != 1) {
		fputs(policy_help, stderr);
		return 2;
	}
	if (lb_crypto_init())
		return cli_failf(CMD, "libsodium failed to initialise");
	if (!strcmp(pos[0], "new"))
		return p_new(&o);
	if (!strcmp(pos[0], "set"))
		return p_set(&o);
	if (!strcmp(pos[0], "sign"))
		return p_sign(&o);
	if (!strcmp(pos[0], "approve"))
		return p_approve(&o);
	if (!strcmp(pos[0], "period"))
		return p_period(&o);
	cli_failf(CMD, "unknown subcommand '%s' (see 'leben policy --help')", pos[0]);
	return 2;
}
