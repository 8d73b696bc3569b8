/* `leben shares`: split a secret (a key) into threshold shares and combine shares back
 * (Shamir over GF(2^8); authenticated LEBEN shares, or raw shares compatible with the npm
 * package shamir-secret-sharing). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "leben/base.h"
#include "leben/shamir.h"

static const char shares_help[] =
	"usage: leben shares split --threshold T --shares N [--hex SECRET | --in FILE] [--raw] [--json]\n"
	"       leben shares combine [--raw] [--json] [SHARE...]\n"
	"\n"
	"Split a secret (for example a key) into N shares so that any T of them recover it and\n"
	"fewer reveal nothing. Give each share to a different guardian.\n"
	"\n"
	"  split    the secret is --hex SECRET, or the bytes of --in FILE (default: standard\n"
	"           input); prints one share per line (hex). T is 2..N, N at most 255.\n"
	"  combine  shares are the arguments, or one per line on standard input; prints the\n"
	"           secret in hex. A damaged, altered or foreign share is reported.\n"
	"  --raw    plain shares (no integrity check), the format of the npm package\n"
	"           shamir-secret-sharing; without it, LEBEN's authenticated shares.\n";

int cmd_shares(int argc, char **argv)
{
	static const struct option opts[] = {
		{"threshold", required_argument, 0, 't'}, {"shares", required_argument, 0, 'n'},
		{"hex", required_argument, 0, 'x'},       {"in", required_argument, 0, 'i'},
		{"raw", no_argument, 0, 'r'},             {"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
	unsigned t = 0, n = 0;
	int raw = 0, json = 0, c, rc = 1;
	const char *hex = NULL, *in = NULL, *sub;
	struct lb_errmsg em;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(shares_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': t = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'x': hex = optarg; break;
		case 'i': in = optarg; break;
		case 'r': raw = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(shares_help, stdout); return 0;
		default: fputs(shares_help, stderr); return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	if (!strcmp(sub, "split")) {
		uint8_t *secret = NULL, *shares;
		size_t len = 0, sl;
		if (hex) {
			if (lb_hex_decode_alloc(hex, &secret, &len, LB_SHAMIR_MAX_SECRET) != LB_OK) {
				fprintf(stderr, "leben shares split: --hex must be an even number of hex "
						"digits (at most %d bytes)\n",
					LB_SHAMIR_MAX_SECRET);
				return 1;
			}
		} else if (lb_file_read(in ? in : "/dev/stdin", LB_SHAMIR_MAX_SECRET, &secret, &len,
					&em) != LB_OK) {
			fprintf(stderr, "leben shares split: %s\n", em.text);
			return 1;
		}
		sl = raw ? len + 1 : LB_SHAMIR_SHARE_BYTES(len);
		shares = lb_malloc((n ? n : 1) * sl);
		if (!shares) {
			lb_free(secret);
			return 1;
		}
		rc = raw ? lb_shamir_split_raw(secret, len, n, t, shares, &em)
			 : lb_shamir_split(secret, len, n, t, shares, &em);
		if (rc == LB_OK) {
			char *h = lb_malloc(2 * sl + 1);
			if (json)
				printf("{\"threshold\":%u,\"shares\":[", t);
			for (unsigned i = 0; h && i < n; i++) {
				lb_hex_encode(h, shares + i * sl, sl);
				printf(json ? "%s\"%s\"" : "%s%s\n", json && i ? "," : "", h);
			}
			if (json)
				printf("]}\n");
			lb_free(h);
		} else {
			fprintf(stderr, "leben shares split: %s\n", em.text);
		}
		sodium_memzero(secret, len);
		sodium_memzero(shares, (n ? n : 1) * sl);
		lb_free(secret);
		lb_free(shares);
		return rc == LB_OK ? 0 : 1;
	}
	if (!strcmp(sub, "combine")) {
		char *lines[LB_SHAMIR_MAX_SHARES];
		uint8_t *bufs[LB_SHAMIR_MAX_SHARES];
		size_t k = 0, sl = 0, len;
		uint8_t secret[LB_SHAMIR_MAX_SECRET + 1];
		char line[2 * (LB_SHAMIR_SHARE_BYTES(LB_SHAMIR_MAX_SECRET)) + 4];

		for (int i = optind + 1; i < argc && k < LB_SHAMIR_MAX_SHARES; i++)
			lines[k++] = lb_strdup(argv[i]);
		if (k == 0)
			while (k < LB_SHAMIR_MAX_SHARES && fgets(line, sizeof line, stdin)) {
				line[strcspn(line, "\r\n")] = 0;
				if (line[0])
					lines[k++] = lb_strdup(line);
			}
		for (size_t i = 0; i < k; i++) {
			size_t l;
			if (lb_hex_decode_alloc(lines[i], &bufs[i], &l, sizeof line) != LB_OK ||
			    (i && l != sl)) {
				fprintf(stderr, "leben shares combine: share %zu is not hex of the same "
						"length as share 1\n",
					i + 1);
				for (size_t j = 0; j <= i; j++)
					lb_free(lines[j]);
				for (size_t j = 0; j < i; j++)
					lb_free(bufs[j]);
				return 1;
			}
			sl = l;
		}
		if (k < 2)
			rc = lb_errf(&em, LB_EINVALID, "at least 2 shares are needed, %zu given", k);
		else if (raw) {
			rc = lb_shamir_combine_raw((const uint8_t *const *)bufs, k, sl, secret, &em);
			len = sl - 1;
		} else
			rc = lb_shamir_combine((const uint8_t *const *)bufs, k, sl, secret, &len, &em);
		if (rc == LB_OK) {
			char *h = lb_malloc(2 * len + 1);
			lb_hex_encode(h, secret, len);
			printf(json ? "{\"secret\":\"%s\"}\n" : "%s\n", h);
			sodium_memzero(h, 2 * len + 1);
			lb_free(h);
			sodium_memzero(secret, sizeof secret);
		} else {
			fprintf(stderr, "leben shares combine: %s [%s]\n", em.text, lb_errname(rc));
		}
		for (size_t i = 0; i < k; i++) {
			lb_free(lines[i]);
			lb_free(bufs[i]);
		}
		return rc == LB_OK ? 0 : 1;
	}
	fprintf(stderr, "leben shares: unknown action '%s' (split, combine)\n", sub);
	return 2;
}
