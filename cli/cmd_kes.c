/* `leben kes`: forward-secure (key-evolving) signing keys for co-owners: create, sign at the
 * current period, verify at a period, and evolve the key so past periods can no longer be
 * signed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "leben/base.h"
#include "leben/kes.h"

static const char kes_help[] =
	"usage: leben kes keygen --out KEYFILE [--seed HEX] [--json]\n"
	"       leben kes info --key KEYFILE [--json]\n"
	"       leben kes sign --key KEYFILE [--in FILE] [--compact]\n"
	"       leben kes verify --vk HEX --period N --sig HEX [--in FILE] [--compact]\n"
	"       leben kes update --key KEYFILE [--to N] [--json]\n"
	"\n"
	"Forward-secure signatures (64 periods; periods follow chain time, e.g. one per epoch of\n"
	"blocks). A key signs only for its current period; 'update' moves it forward and erases\n"
	"what could sign earlier periods, so a key stolen later cannot forge old approvals.\n"
	"\n"
	"  keygen  new key in KEYFILE (mode 0600); prints the verification key to publish\n"
	"          (--seed: derive it from a 32-byte seed, for tests and reproducible set-ups)\n"
	"  sign    sign --in FILE (default: standard input) at the key's period; prints hex\n"
	"  verify  check a signature of FILE for the verification key at period N\n"
	"  update  evolve the key by one period, or to period N; this cannot be undone\n";

static int load(const char *path, struct lb_kes_sk *sk)
{
	uint8_t *hex, raw[LB_KES_SKFILEBYTES];
	size_t len;
	struct lb_errmsg em;
	if (lb_file_read(path, 4 * LB_KES_SKFILEBYTES, &hex, &len, &em) != LB_OK) {
		fprintf(stderr, "leben kes: %s\n", em.text);
		return 1;
	}
	while (len && (hex[len - 1] == '\n' || hex[len - 1] == ' '))
		hex[--len] = 0;
	int rc = lb_hex_decode(raw, sizeof raw, (char *)hex);
	sodium_memzero(hex, len);
	lb_free(hex);
	if (rc == LB_OK)
		rc = lb_kes_sk_decode(sk, raw, sizeof raw, &em);
	sodium_memzero(raw, sizeof raw);
	if (rc != LB_OK) {
		fprintf(stderr, "leben kes: %s is not a KES key made by 'leben kes keygen'\n", path);
		return 1;
	}
	return 0;
}

static int save(const char *path, const struct lb_kes_sk *sk)
{
	uint8_t raw[LB_KES_SKFILEBYTES];
	char hex[2 * LB_KES_SKFILEBYTES + 2];
	struct lb_errmsg em;
	lb_kes_sk_encode(sk, raw);
	lb_hex_encode(hex, raw, sizeof raw);
	hex[2 * LB_KES_SKFILEBYTES] = '\n';
	int rc = lb_file_write(path, hex, sizeof hex - 1, 0600, &em);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(hex, sizeof hex);
	if (rc != LB_OK)
		fprintf(stderr, "leben kes: %s\n", em.text);
	return rc == LB_OK ? 0 : 1;
}

static int read_msg(const char *in, uint8_t **msg, size_t *len)
{
	struct lb_errmsg em;
	if (lb_file_read(in ? in : "/dev/stdin", (size_t)1 << 30, msg, len, &em) != LB_OK) {
		fprintf(stderr, "leben kes: %s\n", em.text);
		return 1;
	}
	return 0;
}

int cmd_kes(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, 0, 'o'},    {"key", required_argument, 0, 'k'},
		{"seed", required_argument, 0, 's'},   {"in", required_argument, 0, 'i'},
		{"vk", required_argument, 0, 'v'},     {"period", required_argument, 0, 'p'},
		{"sig", required_argument, 0, 'g'},    {"to", required_argument, 0, 't'},
		{"compact", no_argument, 0, 'c'},      {"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
	const char *out = NULL, *key = NULL, *seedhex = NULL, *in = NULL, *vkhex = NULL,
		   *sighex = NULL, *sub;
	long period = -1, to = -1;
	int compact = 0, json = 0, c, rc = 1;
	struct lb_kes_sk sk;
	uint8_t vk[32], *msg = NULL;
	size_t mlen;
	char vkh[65];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(kes_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'k': key = optarg; break;
		case 's': seedhex = optarg; break;
		case 'i': in = optarg; break;
		case 'v': vkhex = optarg; break;
		case 'p': period = strtol(optarg, NULL, 10); break;
		case 'g': sighex = optarg; break;
		case 't': to = strtol(optarg, NULL, 10); break;
		case 'c': compact = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(kes_help, stdout); return 0;
		default: fputs(kes_help, stderr); return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	if (!strcmp(sub, "keygen")) {
		uint8_t seed[32];
		if (!out) {
			fprintf(stderr, "leben kes keygen: --out KEYFILE is required\n");
			return 2;
		}
		if (seedhex) {
			if (lb_hex_decode(seed, 32, seedhex) != LB_OK) {
				fprintf(stderr, "leben kes keygen: --seed needs 64 hex characters\n");
				return 1;
			}
		} else {
			randombytes_buf(seed, 32);
		}
		lb_kes_keygen(&sk, vk, seed);
		sodium_memzero(seed, sizeof seed);
		rc = save(out, &sk);
		lb_kes_sk_wipe(&sk);
		if (rc)
			return rc;
		lb_hex_encode(vkh, vk, 32);
		printf(json ? "{\"vk\":\"%s\",\"period\":0}\n" : "%s\n", vkh);
		return 0;
	}
	if (!strcmp(sub, "info") || !strcmp(sub, "sign") || !strcmp(sub, "update")) {
		if (!key) {
			fprintf(stderr, "leben kes %s: --key KEYFILE is required\n", sub);
			return 2;
		}
		if (load(key, &sk))
			return 1;
		lb_kes_sk_vk(&sk, vk);
		lb_hex_encode(vkh, vk, 32);
		if (!strcmp(sub, "info")) {
			printf(json ? "{\"vk\":\"%s\",\"period\":%u,\"last_period\":63}\n"
				    : "verification key %s\nperiod %u of 0..63\n",
			       vkh, sk.period);
			rc = 0;
		} else if (!strcmp(sub, "update")) {
			int r = to >= 0 ? lb_kes_update_to(&sk, (uint32_t)to) : lb_kes_update(&sk);
			if (r != LB_OK)
				fprintf(stderr, "leben kes update: the key is at period %u; %s\n", sk.period,
					r == LB_ELIMIT ? "it cannot go past period 63 (make a new key)"
						       : "keys only move forward");
			else if ((rc = save(key, &sk)) == 0)
				printf(json ? "{\"period\":%u}\n" : "period %u\n", sk.period);
		} else if (read_msg(in, &msg, &mlen) == 0) {
			uint8_t sig[LB_KES_SIGBYTES];
			char sh[2 * LB_KES_SIGBYTES + 1];
			size_t sl = compact ? LB_KES_CSIGBYTES : LB_KES_SIGBYTES;
			if (compact)
				lb_kes_sign_compact(&sk, msg, mlen, sig);
			else
				lb_kes_sign(&sk, msg, mlen, sig);
			lb_hex_encode(sh, sig, sl);
			if (json)
				printf("{\"period\":%u,\"sig\":\"%s\"}\n", sk.period, sh);
			else
				printf("%s\n", sh);
			rc = 0;
		}
		lb_kes_sk_wipe(&sk);
		lb_free(msg);
		return rc;
	}
	if (!strcmp(sub, "verify")) {
		uint8_t sig[LB_KES_SIGBYTES];
		size_t sl = compact ? LB_KES_CSIGBYTES : LB_KES_SIGBYTES;
		if (!vkhex || !sighex || period < 0) {
			fprintf(stderr, "leben kes verify: --vk, --sig and --period are required\n");
			return 2;
		}
		if (lb_hex_decode(vk, 32, vkhex) != LB_OK || lb_hex_decode(sig, sl, sighex) != LB_OK) {
			fprintf(stderr, "leben kes verify: --vk must be 64 hex characters and --sig %zu\n",
				2 * sl);
			return 1;
		}
		if (read_msg(in, &msg, &mlen))
			return 1;
		int r = compact ? lb_kes_verify_compact(vk, (uint32_t)period, msg, mlen, sig)
				: lb_kes_verify(vk, (uint32_t)period, msg, mlen, sig);
		lb_free(msg);
		printf(json ? "{\"valid\":%s}\n" : "%s\n", r == LB_OK ? (json ? "true" : "valid")
								    : (json ? "false" : "invalid"));
		return r == LB_OK ? 0 : 1;
	}
	fprintf(stderr, "leben kes: unknown action '%s' (keygen, info, sign, verify, update)\n", sub);
	return 2;
}
