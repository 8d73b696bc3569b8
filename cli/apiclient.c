/*
 * Helpers of the commands that talk to a node's API: option parsing, address resolution,
 * API calls with readable errors, readable output of replies.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apiclient.h"
#include "common.h"
#include "leben/api.h"
#include "leben/base.h"

int copt_parse(const char *cmd, int argc, char **argv, int start, const struct copt *opts,
	       const char **pos, int maxpos, int *npos)
{
	bool only_pos = false;
	*npos = 0;
	for (int i = start; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || !a[1]) {
			if (*npos >= maxpos) {
				cli_failf(cmd, "unexpected argument '%s' (see --help)", a);
				return 2;
			}
			pos[(*npos)++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		const struct copt *o = NULL;
		for (const struct copt *p = opts; p->name; p++)
			if (strlen(p->name) == nlen && !strncmp(p->name, a, nlen))
				o = p;
		if (!o) {
			cli_failf(cmd, "unknown option '%.*s' (see 'leben %s --help')", (int)nlen, a,
				  cmd);
			return 2;
		}
		if (o->flag) {
			if (eq) {
				cli_failf(cmd, "option %s takes no value", o->name);
				return 2;
			}
			*o->flag = true;
			continue;
		}
		if (eq) {
			*o->str = eq + 1;
		} else if (i + 1 < argc) {
			*o->str = argv[++i];
		} else {
			cli_failf(cmd, "option %s needs a value (see 'leben %s --help')", o->name, cmd);
			return 2;
		}
	}
	return 0;
}

int cli_resolve_address(const char *cmd, const char *home, const char *text,
			uint8_t addr[LB_ADDR_LEN])
{
	struct lb_errmsg em;
	home = cli_home(home);
	if (!strncmp(text, "lb1", 3)) {
		if (lb_addr_decode(addr, text, &em))
			return cli_fail(cmd, &em,
					"copy the address again from 'leben keys show NAME' or from its owner");
		return 0;
	}
	if (lb_keyname_is_valid(text)) {
		char dir[4200];
		uint8_t pk[LB_PUBKEY_LEN];
		snprintf(dir, sizeof dir, "%s/keys", home);
		if (!lb_keystore_public(dir, text, pk, &em)) {
			lb_addr_from_pubkey(addr, pk);
			return 0;
		}
	}
	return cli_failf(cmd,
			 "'%s' is neither an account address (lb1...) nor a key in %s/keys; 'leben keys list' shows the keys",
			 text, home);
}

const char *cli_hint_for(int code)
{
	switch (code) {
	case LB_EUNAVAILABLE:
		return "start the node with 'leben node --home DIR', or give its address with --node URL";
	case LB_ENONCEUSED:
		return "a tx with this number was already sent from this key; retry without --nonce";
	case LB_ENONCEGAP:
		return "an earlier tx from this key is missing; send without --nonce to use the next number";
	case LB_EFUNDS:
		return "check the balance with 'leben query account NAME'";
	case LB_EUNAUTH:
		return "this key may not send this tx: the message above says why (a role it lacks, a "
		       "member removed by vote, a frozen account); 'leben query account NAME' shows it";
	case LB_EBADSIG:
		return "the tx was not signed for this network; check --node and that the key file is intact";
	case LB_EEXPIRED:
		return "build the tx again with a later --expires";
	case LB_EDUPLICATE:
		return "this exact tx was already sent; 'leben query tx ID' shows its status";
	case LB_ETIMEOUT:
		return "the node is slow to answer; try again in a moment";
	default:
		return NULL;
	}
}

static int api_call(const char *cmd, const char *url, const char *path, json_t *body,
		    json_t **out)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = body ? lb_client_post(url, path, body, out, &em)
		      : lb_client_get(url, path, out, &em);
	if (rc) {
		*out = NULL;
		fprintf(stderr, "leben %s: %s [%s]\n", cmd, em.text[0] ? em.text : lb_strerror(rc),
			lb_errname(rc));
		const char *hint = cli_hint_for(rc);
		/* a refused TLS link already says what to do; the tx-role hint would mislead */
		if (rc == LB_EUNAUTH && (strstr(em.text, "certificate") || strstr(em.text, "TLS")))
			hint = NULL;
		/* a node that answers "ordering unavailable" is running: its consortium ordering
		 * is what is missing (the message names the members that do not answer) */
		if (rc == LB_EUNAVAILABLE && strstr(em.text, "ordering unavailable"))
			hint = "the node is up; its ordering service is not. 'leben query status' "
			       "shows ordering.reason and ordering.members; restart the etcd members "
			       "that do not answer, then send again (sending the same tx twice is "
			       "safe)";
		/* the network hint is about the tx's own signature, not about a signature or
		 * proof inside its payload (a reset's proof, co-owners' signatures) */
		if (rc == LB_EBADSIG && !strstr(em.text, "signature does not match the sender"))
			hint = NULL;
		if (hint)
			fprintf(stderr, "  hint: %s\n", hint);
		return 1;
	}
	return 0;
}

int cli_api_get(const char *cmd, const char *url, const char *path, json_t **out)
{
	return api_call(cmd, url, path, NULL, out);
}

int cli_api_post(const char *cmd, const char *url, const char *path, json_t *body, json_t **out)
{
	return api_call(cmd, url, path, body, out);
}

/* Fields whose integer values are credit amounts in micro-units. */
static const char *const amount_keys[] = {"amount", "fee", "asc", "csc", "balance",
					  "supply", "burned", "minted", "asc_supply",
					  "csc_supply", "csc_burned", NULL};

static bool is_amount_key(const char *k)
{
	for (size_t i = 0; amount_keys[i]; i++)
		if (!strcmp(k, amount_keys[i]))
			return true;
	return false;
}

static void print_scalar(json_t *v, bool amount)
{
	char buf[48];
	switch (json_typeof(v)) {
	case JSON_STRING:
		printf("%s\n", json_string_value(v));
		break;
	case JSON_INTEGER:
		if (amount && json_integer_value(v) >= 0)
			printf("%s\n", cli_format_amount((uint64_t)json_integer_value(v), buf,
							  sizeof buf));
		else
			printf("%lld\n", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%g\n", json_real_value(v));
		break;
	case JSON_TRUE:
		printf("yes\n");
		break;
	case JSON_FALSE:
		printf("no\n");
		break;
	case JSON_NULL:
		printf("-\n");
		break;
	default:
		break;
	}
}

/* Objects under these keys hold only amounts ("balances": {"asc": …, "csc": …}). */
static bool is_amount_group(const char *k)
{
	return !strcmp(k, "balances") || !strcmp(k, "fees") || !strcmp(k, "types");
}

static void print_human(json_t *j, int indent, bool amounts)
{
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			printf("%*s%s:", indent, "", k);
			if (json_is_object(v) || json_is_array(v)) {
				if (json_is_array(v) && json_array_size(v) == 0) {
					printf(" (none)\n");
					continue;
				}
				printf("\n");
				print_human(v, indent + 2, amounts || is_amount_group(k));
			} else {
				printf(" ");
				print_scalar(v, amounts || is_amount_key(k));
			}
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			if (json_is_object(v) || json_is_array(v)) {
				printf("%*s- [%zu]\n", indent, "", i);
				print_human(v, indent + 2, amounts);
			} else {
				printf("%*s- ", indent, "");
				print_scalar(v, amounts);
			}
		}
	} else {
		printf("%*s", indent, "");
		print_scalar(j, amounts);
	}
}

void cli_print_human(json_t *j, int indent)
{
	print_human(j, indent, false);
}

int cli_read_file(const char *cmd, const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct lb_errmsg em;
	if (lb_file_read(path, max, out, len, &em))
		return cli_fail(cmd, &em, NULL);
	return 0;
}

int cli_tx_wait(const char *cmd, const char *url, const char *idhex, double timeout_s,
		json_t **final)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/txs/%s", idhex);
	uint64_t deadline = lb_mono_ns() + (uint64_t)(timeout_s * 1e9);
	unsigned delay_ms = 20;
	*final = NULL;
	for (;;) {
		json_t *j;
		if (cli_api_get(cmd, url, path, &j))
			return 1;
		const char *st = json_string_value(json_object_get(j, "status"));
		if (st && strcmp(st, "pending")) {
			*final = j;
			return strcmp(st, "committed") ? 1 : 0;
		}
		json_decref(j);
		if (lb_mono_ns() > deadline)
			return cli_failf(cmd, "tx %s is still pending after %.0f s; check later with "
					      "'leben query tx %s'",
					 idhex, timeout_s, idhex);
		struct timespec ts = {0, (long)delay_ms * 1000000L};
		nanosleep(&ts, NULL);
		if (delay_ms < 200)
			delay_ms *= 2;
	}
}

uint64_t cli_tx_height(json_t *tx)
{
	json_t *h = json_object_get(tx, "height");
	if (!h)
		h = json_object_get(json_object_get(tx, "block"), "height");
	return (uint64_t)json_integer_value(h);
}
