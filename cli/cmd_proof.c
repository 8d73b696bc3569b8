/*
 * `leben proof get|verify`: fetch the inclusion proof of a committed tx from a node, and
 * check a proof offline — with no node and no database, only the proof file and, if wanted,
 * the block proposer's public key.
 */
#include <stdio.h>
#include <string.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/tx.h"

#define CMD "proof"
#define PROOF_MAX (16u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben proof get TXID [--anchor CHAIN] [-o FILE] [--home DIR] [--node URL] [--json]\n"
		"       leben proof verify FILE [--proposer HEX] [--json]\n"
		"\n"
		"A proof shows that a tx is in a block of the ledger: the path from the tx to the\n"
		"block's Merkle root and the block header signed by the node that made it. With\n"
		"--anchor it continues to a block of another chain that records that block, so it can\n"
		"be checked from either chain.\n"
		"\n"
		"  get TXID       ask the node for the proof of a committed tx; writes the binary proof\n"
		"                 to FILE with -o, else prints it in hex\n"
		"  verify FILE    check a proof offline (FILE holds the binary proof or its hex);\n"
		"                 prints what it proves; exit status 0 only if it is valid\n"
		"\n"
		"options:\n"
		"  --anchor CHAIN   settlement, directory or business: anchor the proof in that chain\n"
		"  -o FILE          where to write the proof\n"
		"  --proposer HEX   require blocks signed by this node key (64 hex digits); without it\n"
		"                   any correctly signed proof is accepted and the signer is printed\n"
		"  --home, --node   which node to ask (as for every command)\n"
		"  --json           machine-readable output\n");
}

static int proof_get(const char *url, const char *txid, const char *anchor, const char *outf,
		     bool json)
{
	uint8_t id[LB_HASH_LEN];
	if (lb_hex_decode(id, sizeof id, txid)) {
		cli_failf(CMD, "'%s' is not a tx id: it has 64 hex digits", txid);
		return 2;
	}
	if (anchor && lb_chain_parse(anchor) < 0) {
		cli_failf(CMD, "--anchor '%s': use settlement, directory or business", anchor);
		return 2;
	}
	char path[256];
	snprintf(path, sizeof path, "/v1/txs/%s/proof%s%s", txid, anchor ? "?anchor=" : "",
		 anchor ? anchor : "");
	json_t *j;
	if (cli_api_get(CMD, url, path, &j))
		return 1;
	const char *hex = json_string_value(json_object_get(j, "proof"));
	uint8_t *bin = NULL;
	size_t n = 0;
	int rc = 0;
	if (!hex || lb_hex_decode_alloc(hex, &bin, &n, PROOF_MAX)) {
		rc = cli_failf(CMD, "the node's answer holds no readable proof");
		goto out;
	}
	if (outf) {
		struct lb_errmsg em;
		if (lb_file_write(outf, bin, n, 0644, &em)) {
			rc = cli_fail(CMD, &em, NULL);
			goto out;
		}
	}
	if (json) {
		cli_print_json(j);
	} else if (outf) {
		printf("Wrote the proof of tx %s (%zu bytes) to %s.\nCheck it with: leben proof verify %s\n",
		       txid, n, outf, outf);
	} else {
		puts(hex);
	}
out:
	lb_free(bin);
	json_decref(j);
	return rc;
}

static bool is_hex_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == '\n' || c == '\r' || c == ' '))
			return false;
	}
	return n > 0;
}

static int proof_verify(const char *file, const char *proposer, bool json)
{
	uint8_t want[LB_PUBKEY_LEN], *data, *bin = NULL;
	size_t n, blen;
	if (proposer && lb_hex_decode(want, sizeof want, proposer)) {
		cli_failf(CMD, "--proposer '%s' is not a public key of 64 hex digits", proposer);
		return 2;
	}
	if (cli_read_file(CMD, file, 2 * PROOF_MAX + 16, &data, &n))
		return 1;
	if (is_hex_text(data, n)) {
		while (n && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
			data[--n] = 0;
		if (lb_hex_decode_alloc((const char *)data, &bin, &blen, PROOF_MAX)) {
			lb_free(data);
			return cli_failf(CMD, "%s looks like hex but is not valid hex", file);
		}
		lb_free(data);
	} else {
		bin = data;
		blen = n;
	}
	struct lb_proof_info info;
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_proof_verify(bin, blen, proposer ? want : NULL, &info, &em);
	lb_free(bin);
	char txid[2 * LB_HASH_LEN + 1], bh[2 * LB_HASH_LEN + 1], pk[2 * LB_PUBKEY_LEN + 1],
		ah[2 * LB_HASH_LEN + 1];
	if (rc) {
		if (json) {
			json_t *j = json_pack("{s:b,s:{s:s,s:s}}", "valid", 0, "error", "code",
					      lb_errname(rc), "message", em.text);
			cli_print_json(j);
			json_decref(j);
		}
		fprintf(stderr, "leben proof: %s is NOT a valid proof: %s [%s]\n", file,
			em.text[0] ? em.text : lb_strerror(rc), lb_errname(rc));
		return 1;
	}
	lb_hex_encode(txid, info.tx_id, LB_HASH_LEN);
	lb_hex_encode(bh, info.block_hash, LB_HASH_LEN);
	lb_hex_encode(pk, info.proposer, LB_PUBKEY_LEN);
	lb_hex_encode(ah, info.anchor_block_hash, LB_HASH_LEN);
	if (json) {
		json_t *j = json_pack("{s:b,s:s,s:s,s:I,s:I,s:b,s:s,s:s}", "valid", 1, "tx_id", txid,
				      "chain", lb_chain_name(info.chain), "height",
				      (json_int_t)info.height, "index", (json_int_t)info.index,
				      "tx_valid", info.tx_valid, "block_hash", bh, "proposer", pk);
		if (info.anchored)
			json_object_set_new(j, "anchor",
					    json_pack("{s:s,s:I,s:s}", "chain",
						      lb_chain_name(info.anchor_chain), "height",
						      (json_int_t)info.anchor_height, "block_hash", ah));
		cli_print_json(j);
		json_decref(j);
		return 0;
	}
	printf("Valid proof: tx %s\n", txid);
	printf("  is tx %llu of block %llu of the %s chain (block hash %s)\n",
	       (unsigned long long)info.index, (unsigned long long)info.height,
	       lb_chain_name(info.chain), bh);
	printf("  the tx was %s\n", info.tx_valid ? "applied (valid)"
						  : "recorded but NOT applied (marked invalid)");
	printf("  block signed by %s%s\n", pk, proposer ? " (the key you required)" : "");
	if (info.anchored)
		printf("  anchored in block %llu of the %s chain (block hash %s)\n",
		       (unsigned long long)info.anchor_height, lb_chain_name(info.anchor_chain), ah);
	return 0;
}

int cmd_proof(int argc, char **argv)
{
	const char *home = NULL, *node = NULL, *anchor = NULL, *outf = NULL, *proposer = NULL,
		   *pos[2];
	bool json = false, help = false;
	const struct copt opts[] = {
		{"--home", &home, NULL}, {"--node", &node, NULL}, {"--json", NULL, &json},
		{"--help", NULL, &help}, {"-h", NULL, &help}, {"--anchor", &anchor, NULL},
		{"-o", &outf, NULL}, {"--output", &outf, NULL}, {"--proposer", &proposer, NULL},
		{NULL, NULL, NULL},
	};
	int npos, rc;
	if ((rc = copt_parse(CMD, argc, argv, 1, opts, pos, 2, &npos)))
		return rc;
	if (help) {
		usage(stdout);
		return 0;
	}
	if (npos == 2 && !strcmp(pos[0], "get")) {
		home = cli_home(home);
		return proof_get(cli_node_url(node, home), pos[1], anchor, outf, json);
	}
	if (npos == 2 && !strcmp(pos[0], "verify"))
		return proof_verify(pos[1], proposer, json);
	usage(stderr);
	return 2;
}
