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
#include <time.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "gov_join.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/consortium.h"
#include "leben/tls.h"
#include "leben/tx.h"

#define CMD "governance"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben governance members [--node URL] [--json]\n"
		"       leben governance propose admit  --member ADDRESS|KEY --name NAME --kinds KINDS\n"
		"                                        --from KEY [--expires-in BLOCKS] [--wait]\n"
		"       leben governance propose remove --member ADDRESS|KEY --from KEY\n"
		"                                        [--successor ADDRESS|KEY]\n"
		"                                        [--expires-in BLOCKS] [--wait]\n"
		"       leben governance propose rules  --threshold NUM/DEN --vote-blocks-default N\n"
		"                                        --vote-blocks-max N --from KEY [--wait]\n"
		"       leben governance propose kinds  --member ADDRESS|KEY --kinds KINDS --from KEY\n"
		"                                        [--expires-in BLOCKS] [--wait]\n"
		"       leben governance propose audit-interval --interval-blocks N --from KEY [--wait]\n"
		"       leben governance vote PROPOSAL_ID yes|no --from KEY [--wait]\n"
		"       leben governance vouch ACCOUNT --from KEY [--withdraw] [--wait]\n"
		"       leben governance rekey --from KEY --new-key KEY2 [--wait]\n"
		"       leben governance follow-removal --member ADDRESS --from KEY [--timeout S]\n"
		"       leben governance cosign --cert FILE --from KEY [--wait]\n"
		"       leben governance cert --cert FILE\n"
		"       leben governance etcd list|remove NAME|ID|add-learner NAME PEER_URL|promote NAME|ID\n"
		"                        [--etcd-endpoints URLS] [--home DIR]\n"
		"       leben governance admit-node --member ADDRESS --name NODE --etcd-name NAME\n"
		"                        --etcd-peer-url URL --etcd-client-url URL --ca DIR --out DIR\n"
		"       leben governance join --bundle DIR --etcd-data DIR [--api-port N]\n"
		"                        [--etcd-bin PATH] [--timeout SECONDS] [--home DIR]\n"
		"\n");
	fprintf(f,
		"The consortium's members are the institutions' super nodes. A member proposes to admit\n"
		"or remove a member; current members vote; the proposal passes when the yes-votes of\n"
		"current members reach two thirds of them (rounded up), and is rejected as soon as it\n"
		"can no longer pass. The proposer's own yes vote is counted. Votes count until the\n"
		"proposal's expiry height on the business chain.\n"
		"\n"
		"  members      list the members and the open proposals\n"
		"  propose      send a governance.propose tx; prints the proposal id (its tx id)\n"
		"  vote         send a governance.vote tx on a proposal id\n"
		"  vouch        the member (its --from key) vouches for an account of its institution;\n"
		"               when the member is removed, the accounts it vouched for are refused\n"
		"               (remove) or pass to the successor (remove --successor)\n"
		"  rekey        move the member from its node key (--from) to a new key (--new-key,\n"
		"               a key of this home): the old key is refused from that block on; then\n"
		"               install the new key as keys/node.key and restart the node\n"
		"  follow-removal  carry a passed removal to the settlement and directory chains, so that\n"
		"               they refuse the removed member's keys too (the member nodes do it by\n"
		"               themselves; this is the manual way, harmless when already done)\n"
		"  cosign       co-sign a TLS certificate (its public key) as a CA holder (a member);\n"
		"               nodes with tls_cosigned accept only certificates co-signed by as many\n"
		"               members as a vote needs\n"
		"  cert         show who co-signed a certificate and whether it is accepted\n"
		"  etcd         etcd's own membership (v3 API over mutual TLS with <home>/tls): list the\n"
		"               members, remove one (after a removal vote passed), add a learner\n"
		"               (after an admission vote passed), promote a caught-up learner\n"
		"  admit-node   an existing member holding the CA, once the admission vote passed:\n"
		"               issues the new node's and its etcd member's certificates, adds the etcd\n"
		"               member as a learner, writes a join bundle into --out and co-signs\n"
		"               the new node's certificate on the chain (--from, default node)\n"
		"  join         the new institution, in the home whose node key was voted in: installs\n"
		"               the bundle, starts etcd (joins as a learner, promoted once in sync),\n"
		"               starts the node from a member's snapshot and follows it until it has\n"
		"               caught up; etcd and the node keep running in the background\n"
		"\n");
	fprintf(f,
		"options:\n"
		"  --from KEY          key (in <home>/keys) of the member who proposes or votes\n"
		"  --member ADDRESS    the institution's account address (lb1...), or a key name\n"
		"  --name NAME         the institution's name (admit; at most 64 bytes)\n"
		"  --kinds KINDS       super-node kinds, comma-separated: data, computing,\n"
		"                      algorithm, audit (admit; kinds: the member's new kinds)\n"
		"  --interval-blocks N audit-interval: audits stay valid N business blocks\n"
		"  --expires-in N      votes count for N more business blocks (default: the\n"
		"                      consortium's vote_blocks_default, 1000 unless voted otherwise)\n"
		"  --successor ADDR    remove: the member that takes over the removed member's users\n"
		"                      (the accounts it vouched for); without it they are frozen\n"
		"  --threshold N/D     rules: yes-votes needed, as a fraction of the members (> 1/2)\n"
		"  --vote-blocks-default N, --vote-blocks-max N   rules: default and longest vote period\n"
		"  --withdraw          vouch: stop vouching for the account\n"
		"  --new-key KEY2      rekey: the new node key (make it with 'leben keys new')\n"
		"  --etcd-endpoints U  etcd client URLs, comma-separated (default: config.json)\n"
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
	const char *successor, *threshold, *vb_default, *vb_max, *new_key, *etcd_endpoints;
	const char *etcd_name, *etcd_peer_url, *etcd_client_url, *ca, *out, *bundle, *etcd_data;
	const char *etcd_bin, *api_port, *interval, *cert;
	char last_id[2 * LB_HASH_LEN + 1];     /* the id of the last tx send_tx sent */
	bool withdraw;
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

/* Sign payload as a tx of type on chain from key o->from, post it, optionally wait. */
static int send_tx_on(struct gopts *o, int chain, uint32_t type, const struct lb_buf *payload,
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
	t.chain = (uint8_t)chain;
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
			json_object_get(json_object_get(acct, "chains"), lb_chain_name(chain)),
			"next_nonce");
		if (!json_is_integer(nn)) {
			cli_failf(CMD, "the node did not give the next %s nonce of %s",
				  lb_chain_name(chain), addr_text);
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
	snprintf(o->last_id, sizeof o->last_id, "%s", idhex);
	if (!o->json)
		printf("Sent %s %s\n  from %s, %s chain, nonce %" PRIu64 "\n", what, idhex,
		       addr_text, lb_chain_name(chain), t.nonce);
	rc = 0;
	if (o->wait) {
		rc = cli_tx_wait(CMD, url, idhex, 60, &final);
		if (final && !o->json) {
			json_t *e = json_object_get(final, "error");
			if (!rc)
				printf("Committed in %s block %llu.\n", lb_chain_name(chain),
				       (unsigned long long)cli_tx_height(final));
			else
				printf("Included in %s block %llu but NOT applied: %s [%s]\n",
				       lb_chain_name(chain), (unsigned long long)cli_tx_height(final),
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

static int send_tx(struct gopts *o, uint32_t type, const struct lb_buf *payload,
		   const char *what)
{
	return send_tx_on(o, LB_CHAIN_BUSINESS, type, payload, what);
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
		p.action = o->successor ? LB_GOV_REMOVE_TO : LB_GOV_REMOVE;
	else if (!strcmp(action, "rules"))
		p.action = LB_GOV_PARAMS;
	else if (!strcmp(action, "kinds"))
		p.action = LB_GOV_KINDS;
	else if (!strcmp(action, "audit-interval"))
		p.action = LB_GOV_AUDIT;
	else {
		cli_failf(CMD, "'%s' is not a proposal: use 'propose admit', 'remove', 'rules', "
			       "'kinds' or 'audit-interval'",
			  action);
		return 2;
	}
	if (o->interval && p.action != LB_GOV_AUDIT) {
		cli_failf(CMD, "--interval-blocks goes with 'propose audit-interval'");
		return 2;
	}
	if (p.action == LB_GOV_PARAMS) {
		unsigned a, d;
		char end;
		if (!o->from || !o->threshold || !o->vb_default || !o->vb_max ||
		    sscanf(o->threshold, "%u/%u%c", &a, &d, &end) != 2 || a > 255 || d > 255 ||
		    parse_u64(o->vb_default, &p.params.vote_blocks_default) ||
		    parse_u64(o->vb_max, &p.params.vote_blocks_max)) {
			cli_failf(CMD, "'propose rules' needs --threshold NUM/DEN (e.g. 3/4), "
				       "--vote-blocks-default N, --vote-blocks-max N and --from KEY");
			return 2;
		}
		p.params.num = (uint8_t)a;
		p.params.den = (uint8_t)d;
		if (lb_gov_params_check(&p.params, &em)) {
			cli_fail(CMD, &em, NULL);
			return 2;
		}
	} else if (p.action == LB_GOV_AUDIT) {
		if (!o->from || !o->interval || parse_u64(o->interval, &p.audit_interval) ||
		    !p.audit_interval || p.audit_interval > LB_GOV_AUDIT_INTERVAL_MAX) {
			cli_failf(CMD, "'propose audit-interval' needs --interval-blocks N (1 to %d "
				       "business blocks) and --from KEY",
				  LB_GOV_AUDIT_INTERVAL_MAX);
			return 2;
		}
	} else if (!o->from || !o->member) {
		cli_failf(CMD, "'propose %s' needs --member ADDRESS and --from KEY (see 'leben "
			       "governance --help')", action);
		return 2;
	}
	if (p.action == LB_GOV_KINDS) {
		if (o->name || !o->kinds) {
			cli_failf(CMD, "'propose kinds' needs --kinds (the member's new kinds: data, "
				       "computing, algorithm, audit) and takes no --name");
			return 2;
		}
		if (lb_super_kinds_parse(o->kinds, &p.kinds, &em)) {
			cli_fail(CMD, &em, NULL);
			return 2;
		}
	} else if (p.action == LB_GOV_ADMIT) {
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
		cli_failf(CMD, "'propose %s' takes no --name or --kinds", action);
		return 2;
	}
	if (o->successor && p.action != LB_GOV_REMOVE_TO) {
		cli_failf(CMD, "--successor goes with 'propose remove'");
		return 2;
	}
	if (p.action == LB_GOV_REMOVE_TO &&
	    cli_resolve_address(CMD, o->home, o->successor, p.successor))
		return 1;
	uint64_t expires_in = 0;
	if (o->expires_in && (parse_u64(o->expires_in, &expires_in) || !expires_in)) {
		cli_failf(CMD, "--expires-in '%s' is not a positive number of blocks", o->expires_in);
		return 2;
	}
	if (p.action != LB_GOV_PARAMS && p.action != LB_GOV_AUDIT &&
	    cli_resolve_address(CMD, o->home, o->member, p.member))
		return 1;
	if (!expires_in) { /* the consortium's default vote period */
		json_t *mj;
		if (cli_api_get(CMD, cli_node_url(o->node, o->home), "/v1/members", &mj))
			return 1;
		json_t *d = json_object_get(json_object_get(mj, "rules"), "vote_blocks_default");
		expires_in = json_is_integer(d) && json_integer_value(d) > 0
				     ? (uint64_t)json_integer_value(d)
				     : 1000;
		json_decref(mj);
	}
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

static int do_vouch(struct gopts *o, const char *account)
{
	struct lb_gov_vouch v = {.vouch = !o->withdraw};
	if (!o->from) {
		cli_failf(CMD, "'vouch' needs --from KEY (the member's node key)");
		return 2;
	}
	if (cli_resolve_address(CMD, o->home, account, v.account))
		return 1;
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	int rc = lb_gov_vouch_encode(&b, &v);
	rc = rc ? cli_failf(CMD, "could not encode the vouch")
		: send_tx(o, LB_TX_GOV_VOUCH, &b, v.vouch ? "vouch" : "withdrawal");
	lb_buf_release(&b);
	return rc;
}

static int do_rekey(struct gopts *o)
{
	struct lb_gov_rekey r;
	struct lb_keypair oldk, newk;
	uint8_t old_addr[LB_ADDR_LEN], msg[LB_GOV_REKEY_MSG_LEN];
	if (!o->from || !o->new_key) {
		cli_failf(CMD, "'rekey' needs --from KEY (the member's current node key) and "
			       "--new-key KEY2 (a new key of this home, from 'leben keys new')");
		return 2;
	}
	if (cli_load_key(o->home, o->from, &oldk))
		return 1;
	lb_addr_from_pubkey(old_addr, oldk.pk);
	lb_keypair_wipe(&oldk);
	if (cli_load_key(o->home, o->new_key, &newk))
		return 1;
	memcpy(r.new_key, newk.pk, LB_PUBKEY_LEN);
	lb_gov_rekey_message(msg, old_addr, r.new_key);
	lb_sign(r.proof, msg, sizeof msg, &newk);
	lb_keypair_wipe(&newk);
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	int rc = lb_gov_rekey_encode(&b, &r);
	rc = rc ? cli_failf(CMD, "could not encode the rekey")
		: send_tx(o, LB_TX_GOV_REKEY, &b, "key rotation");
	lb_buf_release(&b);
	if (!rc && !o->json)
		printf("From the block holding this tx, the member's txs and checkpoints are signed "
		       "with '%s'.\nInstall it as the node key (keys/node.key) and restart the node; "
		       "the old key is refused.\n",
		       o->new_key);
	return rc;
}

/* etcd endpoints: --etcd-endpoints, else config.json's etcd_endpoints. */
static int etcd_endpoints(const struct gopts *o, char *out, size_t n)
{
	if (o->etcd_endpoints) {
		snprintf(out, n, "%s", o->etcd_endpoints);
		return 0;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/config.json", o->home);
	json_t *c = json_load_file(path, 0, NULL);
	const char *e = json_string_value(json_object_get(c, "etcd_endpoints"));
	if (e)
		snprintf(out, n, "%s", e);
	json_decref(c);
	if (!e)
		return cli_failf(CMD, "no etcd endpoints: give --etcd-endpoints URLS or set "
				      "etcd_endpoints in %s", path);
	return 0;
}

static int etcd_call(const struct gopts *o, const char *op, json_t *body, json_t **reply)
{
	char eps[2048], ca[4200], cert[4200], key[4200];
	struct lb_errmsg em;
	lb_errclear(&em);
	if (etcd_endpoints(o, eps, sizeof eps))
		return 1;
	snprintf(ca, sizeof ca, "%s/tls/ca.pem", o->home);
	snprintf(cert, sizeof cert, "%s/tls/node.pem", o->home);
	snprintf(key, sizeof key, "%s/tls/node.key", o->home);
	bool tls = strncmp(eps, "http://", 7) != 0;
	int rc = lb_etcd_member_call(eps, tls ? ca : NULL, tls ? cert : NULL, tls ? key : NULL, op,
				     body, reply, &em);
	if (rc)
		return cli_fail(CMD, &em, "check that etcd runs and that this home's tls/ files "
					  "hold a certificate of the consortium CA");
	return 0;
}

/* The etcd member named by name or hex/decimal id in a list reply; its id as text. */
static json_t *etcd_find(json_t *list, const char *which)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(list, "members"), i, m)
	{
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *id = json_string_value(json_object_get(m, "ID"));
		char hex[32] = "";
		if (id)
			snprintf(hex, sizeof hex, "%llx", strtoull(id, NULL, 10));
		if ((name && !strcmp(name, which)) || (id && !strcmp(id, which)) ||
		    (hex[0] && !strcmp(hex, which)))
			return m;
	}
	return NULL;
}

static void etcd_print(const struct gopts *o, json_t *list)
{
	size_t i;
	json_t *m;
	if (o->json) {
		cli_print_json(list);
		return;
	}
	printf("%zu etcd members\n", json_array_size(json_object_get(list, "members")));
	json_array_foreach(json_object_get(list, "members"), i, m)
	{
		const char *id = json_string_value(json_object_get(m, "ID"));
		json_t *peers = json_object_get(m, "peerURLs");
		printf("  %-16llx %-12s %-8s %s\n", id ? strtoull(id, NULL, 10) : 0ull,
		       json_string_value(json_object_get(m, "name"))
			       ? json_string_value(json_object_get(m, "name"))
			       : "(not started)",
		       json_is_true(json_object_get(m, "isLearner")) ? "learner" : "voting",
		       json_string_value(json_array_get(peers, 0)) ? json_string_value(
									     json_array_get(peers, 0))
								   : "");
	}
}

static int do_etcd(struct gopts *o, const char **args, int n)
{
	json_t *list = NULL, *reply = NULL, *body = NULL;
	int rc = 1;
	if (etcd_call(o, "list", NULL, &list))
		return 1;
	if (!strcmp(args[0], "list") && n == 1) {
		etcd_print(o, list);
		json_decref(list);
		return 0;
	}
	if ((!strcmp(args[0], "remove") || !strcmp(args[0], "promote")) && n == 2) {
		json_t *m = etcd_find(list, args[1]);
		if (!m) {
			cli_failf(CMD, "etcd has no member named '%s' (see 'leben governance etcd "
				       "list')",
				  args[1]);
			goto out;
		}
		body = json_pack("{s:O}", "ID", json_object_get(m, "ID"));
		/* etcd refuses to remove a member that it still counts as active while the others
		 * would then lack a quorum of active members ("unhealthy cluster"), and to promote
		 * a learner that is not in sync: both pass with time, so try for up to 30 s */
		for (int tries = 0;; tries++) {
			char eps[2048], ca[4200], cert[4200], key[4200];
			struct lb_errmsg em;
			lb_errclear(&em);
			if (etcd_endpoints(o, eps, sizeof eps))
				goto out;
			snprintf(ca, sizeof ca, "%s/tls/ca.pem", o->home);
			snprintf(cert, sizeof cert, "%s/tls/node.pem", o->home);
			snprintf(key, sizeof key, "%s/tls/node.key", o->home);
			bool tls = strncmp(eps, "http://", 7) != 0;
			if (!lb_etcd_member_call(eps, tls ? ca : NULL, tls ? cert : NULL,
						 tls ? key : NULL, args[0], body, &reply, &em))
				break;
			bool later = strstr(em.text, "unhealthy cluster") ||
				     strstr(em.text, "not enough started members") ||
				     strstr(em.text, "in sync");
			if (!later || tries >= 30) {
				cli_fail(CMD, &em, later ? "etcd still refuses; check the members' health "
							   "(leben governance etcd list) and try again"
							 : NULL);
				goto out;
			}
			if (!o->json && tries % 5 == 0)
				printf("etcd is not ready for this yet (%s); trying again for up to 30 s\n",
				       em.text);
			fflush(stdout);
			struct timespec ts = {1, 0};
			nanosleep(&ts, NULL);
		}
		if (!o->json)
			printf("etcd member %s %s\n", args[1],
			       args[0][0] == 'r' ? "removed: its links to the other members are "
						   "closed and it takes no part in ordering"
						 : "promoted to a voting member");
	} else if (!strcmp(args[0], "add-learner") && n == 3) {
		if (etcd_find(list, args[1])) {
			cli_failf(CMD, "etcd already has a member named '%s'", args[1]);
			goto out;
		}
		body = json_pack("{s:[s],s:b}", "peerURLs", args[2], "isLearner", 1);
		if (etcd_call(o, "add", body, &reply))
			goto out;
		if (!o->json) {
			/* the initial cluster string the new member starts with */
			size_t i;
			json_t *m;
			printf("etcd learner added for %s at %s; start its etcd with\n"
			       "  --name %s --initial-cluster-state existing --initial-cluster ",
			       args[1], args[2], args[1]);
			int first = 1;
			json_array_foreach(json_object_get(reply, "members"), i, m)
			{
				const char *nm = json_string_value(json_object_get(m, "name"));
				json_t *p;
				size_t j;
				json_array_foreach(json_object_get(m, "peerURLs"), j, p)
				{
					printf("%s%s=%s", first ? "" : ",", nm && *nm ? nm : args[1],
					       json_string_value(p));
					first = 0;
				}
			}
			printf("\nthen promote it when it has caught up: leben governance etcd "
			       "promote %s\n",
			       args[1]);
		}
	} else {
		cli_failf(CMD, "etcd: use list, remove NAME|ID, add-learner NAME PEER_URL or promote "
			       "NAME|ID");
		rc = 2;
		goto out;
	}
	if (o->json)
		cli_print_json(reply);
	rc = 0;
out:
	json_decref(list);
	json_decref(reply);
	json_decref(body);
	return rc;
}

/* Carry a removal to the settlement and directory chains: governance.removal slices on the
 * business chain, then for each of them a governance.follow on each other chain with the
 * slice's proof anchored there. */
static int do_follow_removal(struct gopts *o)
{
	const char *url = cli_node_url(o->node, o->home);
	uint8_t addr[LB_ADDR_LEN];
	char text[LB_ADDR_TEXT_LEN + 1], path[256];
	json_t *rec = NULL;
	int rc = 1;
	double timeout = o->timeout ? atof(o->timeout) : 120;
	if (!o->member || !o->from) {
		cli_failf(CMD, "'follow-removal' needs --member ADDRESS (the removed member) and "
			       "--from KEY (any key that can send txs, e.g. your node key)");
		return 2;
	}
	if (cli_resolve_address(CMD, o->home, o->member, addr))
		return 1;
	lb_addr_encode(text, addr);
	snprintf(path, sizeof path, "/v1/members/%s/removal", text);
	if (cli_api_get(CMD, url, path, &rec))
		return 1;
	json_t *keys = json_object_get(rec, "refused_keys");
	size_t n = json_array_size(keys);
	if (!o->json)
		printf("The removal of %s at business block %lld refused %zu key(s); carrying them to "
		       "the settlement and directory chains.\n",
		       text, (long long)json_integer_value(json_object_get(rec, "height")), n);
	bool saved_wait = o->wait;
	o->wait = true;
	for (size_t off = 0; off < n; off += LB_GOV_REMOVAL_SLICE_MAX) {
		size_t cnt = n - off < LB_GOV_REMOVAL_SLICE_MAX ? n - off : LB_GOV_REMOVAL_SLICE_MAX;
		uint8_t *ks = lb_malloc(cnt * LB_ADDR_LEN);
		struct lb_buf b;
		struct lb_errmsg em;
		if (!ks)
			goto out;
		for (size_t i = 0; i < cnt; i++)
			if (lb_addr_decode(ks + i * LB_ADDR_LEN,
					   json_string_value(json_array_get(keys, off + i)), &em)) {
				lb_free(ks);
				cli_fail(CMD, &em, NULL);
				goto out;
			}
		struct lb_gov_removal r = {.offset = off, .count = cnt, .keys = ks};
		memcpy(r.member, addr, LB_ADDR_LEN);
		lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
		int e = lb_gov_removal_encode(&b, &r);
		if (!e)
			e = send_tx(o, LB_TX_GOV_REMOVAL, &b, "removal statement");
		lb_buf_release(&b);
		lb_free(ks);
		if (e)
			goto out;
		char rid[2 * LB_HASH_LEN + 1];
		snprintf(rid, sizeof rid, "%s", o->last_id);
		static const int chains[] = {LB_CHAIN_SETTLEMENT, LB_CHAIN_DIRECTORY};
		for (int k = 0; k < 2; k++) {
			int ch = chains[k];
			json_t *pj = NULL;
			double deadline = (double)lb_now_ms() / 1000.0 + timeout;
			bool told = false;
			snprintf(path, sizeof path, "/v1/txs/%s/proof?anchor=%s", rid, lb_chain_name(ch));
			for (;;) {
				lb_errclear(&em);
				int g = lb_client_get(url, path, &pj, &em);
				if (g == LB_OK)
					break;
				if (g != LB_ENOTFOUND || (double)lb_now_ms() / 1000.0 > deadline) {
					cli_failf(CMD, "no proof of %s anchored in the %s chain: %s (a "
						       "block is made there when any tx goes to it; run "
						       "this command again later)",
						  rid, lb_chain_name(ch), em.text);
					goto out;
				}
				if (!told && !o->json)
					printf("waiting for a %s block to anchor business block of %s...\n",
					       lb_chain_name(ch), rid);
				told = true;
				struct timespec ts = {0, 200000000L};
				nanosleep(&ts, NULL);
			}
			uint8_t *raw = NULL, *proof = NULL;
			size_t rl = 0, pl = 0;
			const char *th = json_string_value(json_object_get(pj, "tx"));
			const char *ph = json_string_value(json_object_get(pj, "proof"));
			if (!th || !ph || lb_hex_decode_alloc(th, &raw, &rl, LB_TX_MAX_BYTES) ||
			    lb_hex_decode_alloc(ph, &proof, &pl, LB_TX_PAYLOAD_MAX)) {
				json_decref(pj);
				cli_failf(CMD, "the node's proof of %s is unusable", rid);
				goto out;
			}
			json_decref(pj);
			lb_buf_init(&b, LB_TX_MAX_BYTES);
			e = lb_gov_follow_encode(&b, raw, rl, proof, pl);
			if (!e)
				e = send_tx_on(o, ch,
					       ch == LB_CHAIN_SETTLEMENT ? LB_TX_GOV_FOLLOW
									 : LB_TX_GOV_FOLLOW_DIR,
					       &b, "follow-up");
			lb_buf_release(&b);
			lb_free(raw);
			lb_free(proof);
			if (e)
				goto out;
		}
	}
	if (!o->json)
		printf("Done: the %s and %s chains refuse these keys too.\n",
		       lb_chain_name(LB_CHAIN_SETTLEMENT), lb_chain_name(LB_CHAIN_DIRECTORY));
	rc = 0;
	o->wait = saved_wait;
out:
	json_decref(rec);
	return rc;
}

/* ca.cosign of a certificate file's public key (cosign), or its record (cert). */
static int do_cosign(struct gopts *o, bool send)
{
	struct lb_ca_cosign k;
	struct lb_errmsg em;
	char hex[2 * LB_HASH_LEN + 1], path[128];
	lb_errclear(&em);
	memset(&k, 0, sizeof k);
	if (!o->cert || (send && !o->from)) {
		cli_failf(CMD, "'%s' needs --cert FILE (the certificate, PEM)%s", send ? "cosign" : "cert",
			  send ? " and --from KEY (your member node key)" : "");
		return 2;
	}
	if (lb_x509_spki_hash_file(o->cert, k.spki_hash, k.name, sizeof k.name, &em)) {
		cli_fail(CMD, &em, NULL);
		return 1;
	}
	if (!k.name[0])
		snprintf(k.name, sizeof k.name, "unnamed");
	lb_hex_encode(hex, k.spki_hash, LB_HASH_LEN);
	if (!send) {
		json_t *j;
		snprintf(path, sizeof path, "/v1/certificates/%s", hex);
		if (cli_api_get(CMD, cli_node_url(o->node, o->home), path, &j))
			return 1;
		if (o->json) {
			cli_print_json(j);
		} else {
			size_t i;
			json_t *w;
			printf("certificate '%s' (key %s): co-signed by %lld of the %lld members needed; "
			       "%s\n",
			       k.name, hex, (long long)json_integer_value(json_object_get(j, "current")),
			       (long long)json_integer_value(json_object_get(j, "needed")),
			       json_is_true(json_object_get(j, "accepted")) ? "accepted"
									   : "not accepted yet");
			json_array_foreach(json_object_get(j, "cosigners"), i, w)
				printf("  %s\n", json_string_value(w));
		}
		json_decref(j);
		return 0;
	}
	if (!o->json)
		printf("Co-signing certificate '%s' (public key hash %s)\n", k.name, hex);
	struct lb_buf b;
	lb_buf_init(&b, 256);
	int rc = lb_ca_cosign_encode(&b, &k);
	rc = rc ? cli_failf(CMD, "could not encode the co-signature")
		: send_tx(o, LB_TX_CA_COSIGN, &b, "co-signature");
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
	json_t *rules = json_object_get(j, "rules");
	if (rules)
		printf("rules: %s of the members, rounded up; votes stay open %lld business blocks "
		       "by default, at most %lld\n",
		       json_string_value(json_object_get(rules, "threshold")),
		       (long long)json_integer_value(json_object_get(rules, "vote_blocks_default")),
		       (long long)json_integer_value(json_object_get(rules, "vote_blocks_max")));
	if (json_object_get(rules, "audit_interval_blocks"))
		printf("audits stay valid %lld business blocks, then a re-audit is due\n",
		       (long long)json_integer_value(json_object_get(rules, "audit_interval_blocks")));
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
		{"--wait", NULL, &o.wait},	     {"--successor", &o.successor, NULL},
		{"--threshold", &o.threshold, NULL}, {"--vote-blocks-default", &o.vb_default, NULL},
		{"--vote-blocks-max", &o.vb_max, NULL}, {"--withdraw", NULL, &o.withdraw},
		{"--new-key", &o.new_key, NULL},     {"--etcd-endpoints", &o.etcd_endpoints, NULL},
		{"--etcd-name", &o.etcd_name, NULL}, {"--etcd-peer-url", &o.etcd_peer_url, NULL},
		{"--etcd-client-url", &o.etcd_client_url, NULL}, {"--ca", &o.ca, NULL},
		{"--out", &o.out, NULL},	     {"--bundle", &o.bundle, NULL},
		{"--etcd-data", &o.etcd_data, NULL}, {"--etcd-bin", &o.etcd_bin, NULL},
		{"--timeout", &o.timeout, NULL},     {"--api-port", &o.api_port, NULL},
		{"--interval-blocks", &o.interval, NULL}, {"--cert", &o.cert, NULL},
		{NULL, NULL, NULL},
	};
	const char *pos[4];
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, 4, &npos)))
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
	if (!strcmp(pos[0], "vouch") && npos == 2)
		return do_vouch(&o, pos[1]);
	if (!strcmp(pos[0], "rekey") && npos == 1)
		return do_rekey(&o);
	if (!strcmp(pos[0], "follow-removal") && npos == 1)
		return do_follow_removal(&o);
	if ((!strcmp(pos[0], "cosign") || !strcmp(pos[0], "cert")) && npos == 1)
		return do_cosign(&o, !strcmp(pos[0], "cosign"));
	if (!strcmp(pos[0], "etcd") && npos >= 2)
		return do_etcd(&o, pos + 1, npos - 1);
	struct gov_join_opts jo = {
		.home = o.home, .node = o.node, .member = o.member, .name = o.name,
		.etcd_name = o.etcd_name, .etcd_peer_url = o.etcd_peer_url,
		.etcd_client_url = o.etcd_client_url, .ca = o.ca, .out = o.out,
		.etcd_endpoints = o.etcd_endpoints, .bundle = o.bundle, .etcd_data = o.etcd_data,
		.etcd_bin = o.etcd_bin, .timeout = o.timeout, .api_port = o.api_port};
	if (!strcmp(pos[0], "admit-node") && npos == 1) {
		/* then this member co-signs the new node's certificate (ca.cosign); the others do
		 * the same with the printed command */
		char cert[4200];
		if ((rc = gov_admit_node(&jo)) || !o.out)
			return rc;
		snprintf(cert, sizeof cert, "%s/tls/node.pem", o.out);
		o.cert = cert;
		o.from = o.from ? o.from : "node";
		o.wait = true;
		if ((rc = do_cosign(&o, true)))
			return rc;
		printf("co-signed by this member; the other members co-sign it too (nodes with "
		       "tls_cosigned accept it once enough did): leben governance cosign --cert %s "
		       "--from node --wait\n",
		       cert);
		return 0;
	}
	if (!strcmp(pos[0], "join") && npos == 1)
		return gov_join(&jo);
	cli_failf(CMD, "'%s' with %d argument(s) is not a governance command; use members, "
		       "propose admit|remove|rules, vote ID yes|no, vouch, rekey or etcd (see 'leben governance --help')",
		  pos[0], npos - 1);
	return 2;
}
