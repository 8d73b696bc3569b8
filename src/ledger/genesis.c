/*
 * Genesis: <home>/genesis.json fixes the network (its hash is the network id every signature
 * commits to), the initial balances, the credit partners allowed to issue ASC, the CSC->ASC
 * conversion rate and the fee schedule. Each chain's block 0 commits to its genesis state.
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/json_file.h"
#include "ledger/ledger_int.h"

#define GENESIS_MAX (4 << 20)

int lb_genesis_write(const char *home, json_t *genesis, struct lb_errmsg *em)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/genesis.json", home);
	char *text = json_dumps(genesis, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_file_write(path, text, strlen(text), 0644, em);
	free(text);
	return rc;
}

int genesis_load(const char *home, json_t **g, uint8_t network[LB_HASH_LEN],
		 struct lb_errmsg *em)
{
	char path[4200];
	uint8_t *text;
	size_t len;
	snprintf(path, sizeof path, "%s/genesis.json", home);
	int rc = lb_json_file_read_text(path, LB_JSON_FILE_REQUIRED | LB_JSON_FILE_NO_DUPS,
					GENESIS_MAX, g, &text, &len, em);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, rc, "%s is missing: is '%s' a node home? Create one with 'leben "
				       "init --home %s'",
			       path, home, home);
	if (rc == LB_ECORRUPT) { /* every member holds the same file, its hash the network id */
		char why[sizeof em->text];
		snprintf(why, sizeof why, "%s", em->text);
		return lb_errf(em, rc, "%s (it is the same file on every node of the network: copy "
				       "it back from another member's home)",
			       why);
	}
	if (rc)
		return rc;
	lb_hash_domain(network, "LEBEN-genesis-v1", text, len);
	lb_free(text);
	return LB_OK;
}

static int amount_field(json_t *o, const char *k, uint64_t *out, struct lb_errmsg *em,
			const char *where)
{
	json_t *v = json_object_get(o, k);
	if (!v) {
		*out = 0;
		return LB_OK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return lb_errf(em, LB_EINVALID,
			       "genesis: %s: '%s' must be a whole number of micro-units >= 0", where,
			       k);
	*out = (uint64_t)json_integer_value(v);
	return LB_OK;
}

static int put_fee(struct lb_state *s, uint32_t type, uint64_t fee)
{
	uint8_t k[4];
	ledger_fee_key(type, k);
	return lb_state_put_u64(s, "fee", k, 4, fee);
}

static int settlement_genesis(json_t *g, struct lb_state *s, struct lb_errmsg *em)
{
	int rc;
	uint64_t asc_supply = 0, csc_supply = 0;
	json_t *fees = json_object_get(g, "fees"), *v;
	uint64_t dflt = 1000;
	if (fees && (rc = amount_field(fees, "default", &dflt, em, "fees")))
		return rc;
	if ((rc = lb_state_put_u64(s, "param", "fee.default", 11, dflt)))
		return rc;
	/* per-type fees: genesis overrides, else the type's default exemption */
	json_t *types = json_object_get(fees, "types");
	const char *name;
	json_object_foreach(types, name, v)
	{
		const struct lb_txtype *t = lb_txtype_by_name(name);
		if (!t || t->chain != LB_CHAIN_SETTLEMENT)
			return lb_errf(em, LB_EINVALID,
				       "genesis: fees.types: '%s' is not a settlement tx type", name);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return lb_errf(em, LB_EINVALID, "genesis: fees.types.%s must be >= 0", name);
		if ((rc = put_fee(s, t->id, (uint64_t)json_integer_value(v))))
			return rc;
	}
	for (uint32_t id = 0x0100; id < 0x0200; id++) {
		const struct lb_txtype *t = lb_txtype_find(id);
		if (t && t->fee_exempt && !json_object_get(types, t->name) &&
		    (rc = put_fee(s, id, 0)))
			return rc;
	}
	json_t *conv = json_object_get(g, "convert");
	uint64_t per_csc = 100, per_asc = 1;
	if (conv && ((rc = amount_field(conv, "csc", &per_csc, em, "convert")) ||
		     (rc = amount_field(conv, "asc", &per_asc, em, "convert"))))
		return rc;
	if (per_csc == 0 || per_asc == 0)
		return lb_errf(em, LB_EINVALID, "genesis: convert rates must be above zero");
	if ((rc = lb_state_put_u64(s, "param", "convert.csc", 11, per_csc)) ||
	    (rc = lb_state_put_u64(s, "param", "convert.asc", 11, per_asc)))
		return rc;
	size_t i;
	json_array_foreach(json_object_get(g, "credit_partners"), i, v)
	{
		uint8_t a[LB_ADDR_LEN];
		if (!json_is_string(v) || lb_addr_decode(a, json_string_value(v), em))
			return lb_errwrap(em, "genesis: credit_partners[%zu]: ", i);
		if ((rc = lb_state_put_u64(s, "partner", a, sizeof a, 1)))
			return rc;
	}
	json_array_foreach(json_object_get(g, "accounts"), i, v)
	{
		uint8_t a[LB_ADDR_LEN];
		uint64_t asc, csc, oa, oc;
		json_t *addr = json_object_get(v, "address");
		char where[64];
		snprintf(where, sizeof where, "accounts[%zu]", i);
		if (!json_is_string(addr) || lb_addr_decode(a, json_string_value(addr), em))
			return lb_errwrap(em, "genesis: %s: ", where);
		if ((rc = amount_field(v, "asc", &asc, em, where)) ||
		    (rc = amount_field(v, "csc", &csc, em, where)) ||
		    (rc = acct_balances(s, a, &oa, &oc)))
			return rc;
		if (oa || oc)
			return lb_errf(em, LB_EINVALID, "genesis: %s: address listed twice", where);
		if ((rc = acct_set_balances(s, a, asc, csc)))
			return rc;
		asc_supply += asc;
		csc_supply += csc;
	}
	if ((rc = lb_state_put_u64(s, "supply", "asc", 3, asc_supply)) ||
	    (rc = lb_state_put_u64(s, "supply", "csc", 3, csc_supply)))
		return rc;
	return LB_OK;
}

/* Upper modules' genesis parts (lb_genesis_hook_register). */
#define GENESIS_HOOKS_MAX 16
static lb_genesis_fn hooks[GENESIS_HOOKS_MAX];
static size_t nhooks;
static pthread_mutex_t hooks_mu = PTHREAD_MUTEX_INITIALIZER;

int lb_genesis_hook_register(lb_genesis_fn fn)
{
	int rc = LB_OK;
	pthread_mutex_lock(&hooks_mu);
	size_t i = 0;
	while (i < nhooks && hooks[i] != fn)
		i++;
	if (i == nhooks) {
		if (nhooks < GENESIS_HOOKS_MAX)
			hooks[nhooks++] = fn;
		else
			rc = LB_ELIMIT;
	}
	pthread_mutex_unlock(&hooks_mu);
	return rc;
}

static int core_genesis_state(json_t *g, int chain, struct lb_state *s, uint64_t *time_ms,
			      struct lb_errmsg *em);

int genesis_state(json_t *g, int chain, struct lb_state *s, uint64_t *time_ms,
		  struct lb_errmsg *em)
{
	int rc = core_genesis_state(g, chain, s, time_ms, em);
	pthread_mutex_lock(&hooks_mu);
	size_t n = nhooks;
	pthread_mutex_unlock(&hooks_mu);
	for (size_t i = 0; i < n && !rc; i++)
		rc = hooks[i](g, chain, s, em);
	return rc;
}

static int core_genesis_state(json_t *g, int chain, struct lb_state *s, uint64_t *time_ms,
			      struct lb_errmsg *em)
{
	json_t *t = json_object_get(g, "time_ms"), *net = json_object_get(g, "network");
	if (!json_is_integer(t) || json_integer_value(t) < 0)
		return lb_errf(em, LB_EINVALID, "genesis: 'time_ms' (Unix milliseconds) is missing");
	if (!json_is_string(net))
		return lb_errf(em, LB_EINVALID, "genesis: 'network' (a name) is missing");
	*time_ms = (uint64_t)json_integer_value(t);
	int rc = lb_state_put(s, "param", "network", 7, json_string_value(net),
			      json_string_length(net));
	if (rc)
		return rc;
	if (chain == LB_CHAIN_SETTLEMENT)
		return settlement_genesis(g, s, em);
	/* directory and business txs carry no fee (fees are paid on the settlement chain) */
	return lb_state_put_u64(s, "param", "fee.default", 11, 0);
}

void genesis_header(struct lb_block_header *h, int chain, uint64_t time_ms,
		    const uint8_t app[LB_HASH_LEN])
{
	memset(h, 0, sizeof *h);
	h->version = 1;
	h->chain = (uint8_t)chain;
	h->time_ms = time_ms;
	lb_merkle_root(NULL, 0, h->tx_root);
	memcpy(h->app_hash, app, LB_HASH_LEN);
}
