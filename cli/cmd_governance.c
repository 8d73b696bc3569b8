/*
 * `leben governance propose|vote|members`: consortium membership by on-chain vote. propose
 * and vote build a business-chain tx (governance.propose / governance.vote), sign it with
 * the key named by --from and post it to the node's API like `leben tx`; members reads
 * GET /v1/members.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/consortium.h"
#include "leben/tx.h"

#define CMD "governance"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben governance members [--node URL] [--json]\n"
		"       leben governance propose admit  --member ADDRESS|KEY --name NAME --kinds KINDS\n"
		"                                        --from KEY [--expires-in BLOCKS] [--wait]\n"
		"       leben governance propose remove --member ADDRESS|KEY --from KEY\n"
		"                                        [--expires-in BLOCKS] [--wait]\n"
		"       leben governance vote PROPOSAL_ID yes|no --from KEY [--wait]\n"
		"\n"
		"The consortium's members are the institutions' super nodes. A member proposes to admit\n"
		"or remove a member; current members vote; the proposal passes when the yes-votes of\n"
		"current members reach two thirds of them (rounded up), and is rejected as soon as it\n"
		"can no longer pass. The proposer's own yes vote is counted. Votes count until the\n"
		"proposal's expiry height on the business chain.\n"
		"\n"
		"  members      list the members and the open proposals\n"
		"  propose      send a governance.propose tx; prints the proposal id (its tx id)\n"
		"  vote         send a governance.vote tx on a proposal id\n"
		"\n"
		"options:\n"
		"  --from KEY          key (in <home>/keys) of the member who proposes or votes\n"
		"  --member ADDRESS    the institution's account address (lb1...), or a key name\n"
		"  --name NAME         the institution's name (admit; at most 64 bytes)\n"
		"  --kinds KINDS       super-node kinds, comma-separated: data, computing,\n"
		"                      algorithm, audit (admit)\n"
		"  --expires-in N      votes count for N more business blocks (default 1000)\n"
		"  --wait              wait until the tx is in a block and say whether it applied\n"
		"  --home DIR          node home (default $LEBEN_HOME or ~/.leben)\n"
		"  --node URL          node API (default $LEBEN_NODE, or the port in config.json)\n"
		"  --json              print JSON, for scripts\n"
		"\n"
		"examples:\n"
		"  leben governance propose admit --member lb1... --name \"St. Anna Clinic\" \\\n"
		"      --kinds data,audit --from node --wait\n"
		"  leben governance vote 3f2a...e9 yes --from node --wait\n"
		"  leben governance members\n");
}

struct gopts {
	const char *home, *node, *from, *member, *name, *kinds, *expires_in, *timeout;
	bool json, help, wait;
};

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return 1;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end)
		return 1;
	*out = v;
	return 0;
}

/* Sign payload as a business tx of type from key o->from, post it, optionally wait. */
static int send_tx(const struct gopts *o, uint32_t type, const struct lb_buf *payload,
		   const char *what)
{
	const char *url = cli_node_url(o->node, o->home);
	json_t *status = NULL, *acct = NULL, *reply = NULL, *final = NULL, *body = NULL;
	struct lb_keypair kp;
	bool have_key = false;
	struct lb_buf out;
	lb_buf_init(&out, LB_TX_MAX_BYTES);
	uint8_t network[LB_HASH_LEN], id[LB_HASH_LEN], addr[LB_ADDR_LEN];
	char addr_text[LB_ADDR_TEXT_LEN + 1], idhex[2 * LB_HASH_LEN + 1], path[128];
	char *hex = NULL;
	int rc = 1;
	if (cli_api_get(CMD, url, "/v1/status", &status))
		goto out;
	const char *nid = json_string_value(json_object_get(status, "network_id"));
	if (!nid || lb_hex_decode(network, LB_HASH_LEN, nid)) {
		cli_failf(CMD, "the node at %s did not give a network id in /v1/status", url);
		goto out;
	}
	if (cli_load_key(o->home, o->from, &kp))
		goto out;
	have_key = true;
	lb_addr_from_pubkey(addr, kp.pk);
	lb_addr_encode(addr_text, addr);
	snprintf(path, sizeof path, "/v1/accounts/%s", addr_text);
	struct lb_tx t = {0};
	t.version = LB_TX_VERSION;
	t.chain = LB_CHAIN_BUSINESS;
	t.type = type;
	t.payload = payload->data;
	t.payload_len = payload->len;
	/* The node signs its checkpoints with its own key: when --from is that key, the node may
	 * take the nonce between our read and our post; then sign again with the next one. */
	for (int attempt = 0;; attempt++) {
		struct lb_errmsg em;
		lb_errclear(&em);
		json_decref(acct);
		acct = NULL;
		if (cli_api_get(CMD, url, path, &acct))
			goto out;
		json_t *nn = json_object_get(
			json_object_get(json_object_get(acct, "chains"), "business"), "next_nonce");
		if (!json_is_integer(nn)) {
			cli_failf(CMD, "the node did not give the next business nonce of %s", addr_text);
			goto out;
		}
		t.nonce = (uint64_t)json_integer_value(nn);
		lb_buf_reset(&out);
		lb_free(hex);
		hex = NULL;
		if (lb_tx_build(&out, &t, network, &kp, id) || !(hex = lb_malloc(2 * out.len + 1))) {
			cli_failf(CMD, "could not build the tx (out of memory?)");
			goto out;
		}
		lb_hex_encode(hex, out.data, out.len);
		json_decref(body);
		body = json_pack("{s:s}", "tx", hex);
		int code = lb_client_post(url, "/v1/txs", body, &reply, &em);
		if (code == LB_ENONCEUSED && attempt < 3)
			continue;
		if (code) {
			reply = NULL;
			fprintf(stderr, "leben %s: %s [%s]\n", CMD,
				em.text[0] ? em.text : lb_strerror(code), lb_errname(code));
			if (cli_hint_for(code))
				fprintf(stderr, "  hint: %s\n", cli_hint_for(code));
			goto out;
		}
		break;
	}
	lb_keypair_wipe(&kp);
	have_key = false;
	lb_hex_encode(idhex, id, LB_HASH_LEN);
	if (!o->json)
		printf("Sent %s %s\n  from %s, business chain, nonce %" PRIu64 "\n", what, idhex,
		       addr_text, t.nonce);
	rc = 0;
	if (o->wait) {
		rc = cli_tx_wait(CMD, url, idhex, 60, &final);
		if (final && !o->json) {
			json_t *e = json_object_get(final, "error");
			if (!rc)
				printf("Committed in business block %llu.\n",
				       (unsigned long long)cli_tx_height(final));
			else
				printf("Included in business block %llu but NOT applied: %s [%s]\n",
				       (unsigned long long)cli_tx_height(final),
				       json_string_value(json_object_get(e, "message")),
				       json_string_value(json_object_get(e, "code")));
		}
	}
	if (o->json) {
		json_t *j = final ? final : reply;
		json_object_set_new(j, "id", json_string(idhex));
		cli_print_json(j);
	}
out:
	if (have_key)
		lb_keypair_wipe(&kp);
	lb_free(hex);
	json_decref(body);
	json_decref(final);
	json_decref(reply);
	json_decref(acct);
	json_decref(status);
	lb_buf_release(&out);
	return rc;
}

static int do_propose(struct gopts *o, const char *action)
{
	struct lb_gov_proposal p;
	struct lb_errmsg em;
	lb_errclear(&em);
	memset(&p, 0, sizeof p);
	if (!strcmp(action, "admit"))
		p.action = LB_GOV_ADMIT;
	else if (!strcmp(action, "remove"))
		p.action = LB_GOV_REMOVE;
	else {
		cli_failf(CMD, "'%s' is not a proposal: use 'propose admit' or 'propose remove'",
			  action);
		return 2;
	}
	if (!o->from || !o->member) {
		cli_failf(CMD, "'propose %s' needs --member ADDRESS and --from KEY (see 'leben "
			       "governance --help')", action);
		return 2;
	}
	if (p.action == LB_GOV_ADMIT) {
		if (!o->name || !*o->name || strlen(o->name) > LB_MEMBER_NAME_MAX || !o->kinds) {
			cli_failf(CMD, "'propose admit' needs --name (1 to %d bytes) and --kinds "
				       "(data, computing, algorithm, audit)", LB_MEMBER_NAME_MAX);
			return 2;
		}
		if (lb_super_kinds_parse(o->kinds, &p.kinds, &em)) {
			cli_fail(CMD, &em, NULL);
			return 2;
		}
		snprintf(p.name, sizeof p.name, "%s", o->name);
	} else if (o->name || o->kinds) {
		cli_failf(CMD, "'propose remove' takes no --name or --kinds");
		return 2;
	}
	uint64_t expires_in = 1000;
	if (o->expires_in && (parse_u64(o->expires_in, &expires_in) || !expires_in)) {
		cli_failf(CMD, "--expires-in '%s' is not a positive number of blocks", o->expires_in);
		return 2;
	}
	if (cli_resolve_address(CMD, o->home, o->member, p.member))
		return 1;
	/* expiry: relative to the business chain's current height */
	json_t *status;
	if (cli_api_get(CMD, cli_node_url(o->node, o->home), "/v1/status", &status))
		return 1;
	json_t *h = json_object_get(json_object_get(json_object_get(status, "chains"), "business"),
				    "height");
	uint64_t height = json_is_integer(h) ? (uint64_t)json_integer_value(h) : 0;
	json_decref(status);
	p.expires_height = height + expires_in;
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	int rc = lb_gov_proposal_encode(&b, &p);
	if (rc) {
		lb_buf_release(&b);
		return cli_failf(CMD, "could not encode the proposal");
	}
	rc = send_tx(o, LB_TX_GOV_PROPOSE, &b, "proposal");
	lb_buf_release(&b);
	if (!rc && !o->json)
		printf("The proposal id is the tx id above; members vote with 'leben governance "
		       "vote ID yes'.\n");
	return rc;
}

static int do_vote(struct gopts *o, const char *id, const char *choice)
{
	struct lb_gov_vote v;
	if (lb_hex_decode(v.proposal, LB_HASH_LEN, id)) {
		cli_failf(CMD, "'%s' is not a proposal id: expected the 64 hex digits of the "
			       "governance.propose tx (see 'leben governance members')", id);
		return 2;
	}
	if (strcmp(choice, "yes") && strcmp(choice, "no")) {
		cli_failf(CMD, "vote '%s': say yes or no", choice);
		return 2;
	}
	if (!o->from) {
		cli_failf(CMD, "'vote' needs --from KEY (the voting member's key)");
		return 2;
	}
	v.yes = !strcmp(choice, "yes");
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	int rc = lb_gov_vote_encode(&b, &v);
	if (!rc)
		rc = send_tx(o, LB_TX_GOV_VOTE, &b, "vote");
	else
		rc = cli_failf(CMD, "could not encode the vote");
	lb_buf_release(&b);
	return rc;
}

static int do_members(struct gopts *o)
{
	json_t *j;
	if (cli_api_get(CMD, cli_node_url(o->node, o->home), "/v1/members", &j))
		return 1;
	if (o->json) {
		cli_print_json(j);
		json_decref(j);
		return 0;
	}
	size_t i;
	json_t *m;
	printf("%lld members; a proposal needs %lld yes-votes\n",
	       (long long)json_integer_value(json_object_get(j, "count")),
	       (long long)json_integer_value(json_object_get(j, "threshold")));
	json_array_foreach(json_object_get(j, "members"), i, m)
		printf("  %s  %-24s %s (since business block %lld)\n",
		       json_string_value(json_object_get(m, "address")),
		       json_string_value(json_object_get(m, "name")),
		       json_string_value(json_object_get(m, "kinds")),
		       (long long)json_integer_value(json_object_get(m, "since")));
	json_t *props = json_object_get(j, "proposals");
	if (json_array_size(props))
		printf("open proposals:\n");
	json_array_foreach(props, i, m)
		printf("  %s\n    %s %s: %lld yes, %lld no of %lld needed; %s, expires at block "
		       "%lld\n",
		       json_string_value(json_object_get(m, "id")),
		       json_string_value(json_object_get(m, "action")),
		       json_string_value(json_object_get(m, "member")),
		       (long long)json_integer_value(json_object_get(m, "yes")),
		       (long long)json_integer_value(json_object_get(m, "no")),
		       (long long)json_integer_value(json_object_get(m, "needed")),
		       json_string_value(json_object_get(m, "status")),
		       (long long)json_integer_value(json_object_get(m, "expires_height")));
	json_decref(j);
	return 0;
}

int cmd_governance(int argc, char **argv)
{
	struct gopts o = {0};
	const struct copt opts[] = {
		{"--home", &o.home, NULL},	     {"--node", &o.node, NULL},
		{"--json", NULL, &o.json},	     {"--help", NULL, &o.help},
		{"-h", NULL, &o.help},		     {"--from", &o.from, NULL},
		{"--member", &o.member, NULL},	     {"--name", &o.name, NULL},
		{"--kinds", &o.kinds, NULL},	     {"--expires-in", &o.expires_in, NULL},
		{"--wait", NULL, &o.wait},	     {NULL, NULL, NULL},
	};
	const char *pos[3];
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, 3, &npos)))
		return rc;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (npos == 0) {
		usage(stderr);
		return 2;
	}
	o.home = cli_home(o.home);
	if (!strcmp(pos[0], "members") && npos == 1)
		return do_members(&o);
	if (!strcmp(pos[0], "propose") && npos == 2)
		return do_propose(&o, pos[1]);
	if (!strcmp(pos[0], "vote") && npos == 3)
		return do_vote(&o, pos[1], pos[2]);
	cli_failf(CMD, "'%s' with %d argument(s) is not a governance command; use members, "
		       "propose admit|remove, or vote ID yes|no (see 'leben governance --help')",
		  pos[0], npos - 1);
	return 2;
}
