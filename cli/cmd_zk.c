/* `leben zk`: recovery commitments and zero-knowledge proofs of ownership ("I am me" without
 * revealing the recovery secret), as used by the key-reset transaction. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "leben/base.h"
#include "leben/zkp.h"

static const char zk_help[] =
	"usage: leben zk commit --secret-file FILE [--ops N] [--mem-kib N] [--json]\n"
	"       leben zk prove (--secret-file FILE --record HEX | --scalar HEX) CONTEXT [--json]\n"
	"       leben zk verify (--record HEX | --public HEX) --proof HEX CONTEXT [--json]\n"
	"CONTEXT: --account HEX --chain NAME --purpose NAME --nonce N [--bound HEX]\n"
	"\n"
	"A recovery secret (a long passphrase or printed code kept offline) lets an account owner\n"
	"prove ownership later without revealing it, e.g. to replace a lost signing key.\n"
	"\n"
	"  commit  derive the public recovery record from the secret in FILE (Argon2id; default\n"
	"          3 passes, 64 MiB; a trailing line break is ignored); register the printed\n"
	"          record with the account\n"
	"  prove   make a proof bound to CONTEXT (account, chain, purpose, single-use nonce and\n"
	"          the data it authorises, e.g. the new public key, as --bound)\n"
	"  verify  check a proof against a record (or a public point) and the same CONTEXT\n"
	"--scalar/--public use a raw ristretto255 secret scalar / point (for interoperability tests).\n";

int cmd_zk(int argc, char **argv)
{
	static const struct option opts[] = {
		{"secret-file", required_argument, 0, 'f'}, {"record", required_argument, 0, 'r'},
		{"scalar", required_argument, 0, 'x'},      {"public", required_argument, 0, 'P'},
		{"proof", required_argument, 0, 'p'},       {"account", required_argument, 0, 'a'},
		{"chain", required_argument, 0, 'c'},       {"purpose", required_argument, 0, 'u'},
		{"nonce", required_argument, 0, 'n'},       {"bound", required_argument, 0, 'b'},
		{"ops", required_argument, 0, 'O'},         {"mem-kib", required_argument, 0, 'M'},
		{"json", no_argument, 0, 'j'},              {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	const char *sfile = NULL, *rechex = NULL, *xhex = NULL, *Xhex = NULL, *proofhex = NULL,
		   *acchex = NULL, *boundhex = NULL, *sub;
	struct lb_zk_context ctx = {0};
	struct lb_zk_recovery rec;
	struct lb_errmsg em;
	uint8_t *acc = NULL, *bound = NULL, x[32], X[32], proof[64];
	size_t acclen = 0, boundlen = 0;
	unsigned long ops = 0, mem = 0;
	int json = 0, c, rc = 1, have_rec = 0;
	char hex[2 * LB_ZK_RECOVERY_BYTES + 1];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(zk_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': sfile = optarg; break;
		case 'r': rechex = optarg; break;
		case 'x': xhex = optarg; break;
		case 'P': Xhex = optarg; break;
		case 'p': proofhex = optarg; break;
		case 'a': acchex = optarg; break;
		case 'c': ctx.chain = optarg; break;
		case 'u': ctx.purpose = optarg; break;
		case 'n': ctx.nonce = strtoull(optarg, NULL, 10); break;
		case 'b': boundhex = optarg; break;
		case 'O': ops = strtoul(optarg, NULL, 10); break;
		case 'M': mem = strtoul(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'h': fputs(zk_help, stdout); return 0;
		default: fputs(zk_help, stderr); return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	if (rechex) {
		uint8_t rb[LB_ZK_RECOVERY_BYTES];
		if (lb_hex_decode(rb, sizeof rb, rechex) != LB_OK ||
		    lb_zk_recovery_decode(&rec, rb, sizeof rb, &em) != LB_OK) {
			fprintf(stderr, "leben zk: --record is not a recovery record from 'leben zk "
					"commit'\n");
			return 1;
		}
		have_rec = 1;
	}
	if (!strcmp(sub, "commit")) {
		uint8_t *secret;
		size_t slen;
		if (!sfile) {
			fprintf(stderr, "leben zk commit: --secret-file FILE is required\n");
			return 2;
		}
		if (lb_file_read(sfile, 4096, &secret, &slen, &em) != LB_OK) {
			fprintf(stderr, "leben zk commit: %s\n", em.text);
			return 1;
		}
		while (slen && (secret[slen - 1] == '\n' || secret[slen - 1] == '\r'))
			secret[--slen] = 0; /* a trailing line break is not part of the secret */
		rc = lb_zk_recovery_new(&rec, (char *)secret, slen, (uint32_t)ops, (uint32_t)mem, &em);
		sodium_memzero(secret, slen);
		lb_free(secret);
		if (rc != LB_OK) {
			fprintf(stderr, "leben zk commit: %s\n", em.text);
			return 1;
		}
		uint8_t rb[LB_ZK_RECOVERY_BYTES];
		lb_zk_recovery_encode(&rec, rb);
		lb_hex_encode(hex, rb, sizeof rb);
		printf(json ? "{\"record\":\"%s\"}\n" : "%s\n", hex);
		return 0;
	}
	if (strcmp(sub, "prove") && strcmp(sub, "verify")) {
		fprintf(stderr, "leben zk: unknown action '%s' (commit, prove, verify)\n", sub);
		return 2;
	}
	if (!acchex || !ctx.chain || !ctx.purpose ||
	    lb_hex_decode_alloc(acchex, &acc, &acclen, 64) != LB_OK || acclen == 0 ||
	    (boundhex && lb_hex_decode_alloc(boundhex, &bound, &boundlen, 4096) != LB_OK)) {
		fprintf(stderr, "leben zk %s: give the context: --account HEX --chain NAME --purpose "
				"NAME --nonce N [--bound HEX]\n",
			sub);
		lb_free(acc);
		return 2;
	}
	ctx.account = acc;
	ctx.account_len = acclen;
	ctx.bound = bound;
	ctx.bound_len = boundlen;
	if (!strcmp(sub, "prove")) {
		if (xhex) {
			if (lb_hex_decode(x, 32, xhex) != LB_OK) {
				fprintf(stderr, "leben zk prove: --scalar needs 64 hex characters\n");
				goto out;
			}
		} else if (sfile && have_rec) {
			uint8_t *secret;
			size_t slen;
			if (lb_file_read(sfile, 4096, &secret, &slen, &em) != LB_OK) {
				fprintf(stderr, "leben zk prove: %s\n", em.text);
				goto out;
			}
			while (slen && (secret[slen - 1] == '\n' || secret[slen - 1] == '\r'))
				secret[--slen] = 0;
			rc = lb_zk_derive(x, (char *)secret, slen, &rec, &em);
			sodium_memzero(secret, slen);
			lb_free(secret);
			if (rc != LB_OK) {
				fprintf(stderr, "leben zk prove: %s\n", em.text);
				rc = 1;
				goto out;
			}
		} else {
			fprintf(stderr, "leben zk prove: give --secret-file FILE with --record HEX\n");
			rc = 2;
			goto out;
		}
		if (lb_zk_public(X, x) != LB_OK || lb_zk_prove(proof, x, &ctx) != LB_OK) {
			fprintf(stderr, "leben zk prove: the secret scalar is not usable\n");
			rc = 1;
			goto out;
		}
		if (have_rec && sodium_memcmp(X, rec.X, 32) != 0) {
			fprintf(stderr, "leben zk prove: this secret does not match the record\n");
			rc = 1;
			goto out;
		}
		char ph[129], Xh[65];
		lb_hex_encode(ph, proof, 64);
		lb_hex_encode(Xh, X, 32);
		if (json)
			printf("{\"public\":\"%s\",\"proof\":\"%s\"}\n", Xh, ph);
		else
			printf("%s %s\n", Xh, ph);
		rc = 0;
	} else {
		if (!proofhex || lb_hex_decode(proof, 64, proofhex) != LB_OK) {
			fprintf(stderr, "leben zk verify: --proof needs 128 hex characters\n");
			rc = 2;
			goto out;
		}
		if (have_rec)
			memcpy(X, rec.X, 32);
		else if (!Xhex || lb_hex_decode(X, 32, Xhex) != LB_OK) {
			fprintf(stderr, "leben zk verify: give --record HEX or --public HEX\n");
			rc = 2;
			goto out;
		}
		int r = lb_zk_verify(proof, X, &ctx);
		printf(json ? "{\"valid\":%s}\n" : "%s\n", r == LB_OK ? (json ? "true" : "valid")
								    : (json ? "false" : "invalid"));
		rc = r == LB_OK ? 0 : 1;
	}
out:
	sodium_memzero(x, sizeof x);
	lb_free(acc);
	lb_free(bound);
	return rc;
}
