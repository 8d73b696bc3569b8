/* `leben envelope`: create encryption keys, seal files to one or several recipients and open
 * them (level-1 digital envelope, streaming, any file size). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "leben/base.h"
#include "leben/envelope.h"

static const char env_help[] =
	"usage: leben envelope keygen --out KEYFILE [--json]\n"
	"       leben envelope seal --to PUBKEY[,PUBKEY...] [--in FILE] [--out FILE]\n"
	"       leben envelope open --key KEYFILE [--in FILE] [--out FILE]\n"
	"       leben envelope pubkey --key KEYFILE | --ed25519 PUBKEY [--json]\n"
	"\n"
	"Seal a file so that only the named recipients can read it. Each recipient is given by\n"
	"its encryption public key (64 hex characters, from 'keygen' or 'pubkey'). A change to the\n"
	"sealed file, a cut-off copy and a wrong key are reported as different errors.\n"
	"\n"
	"  keygen   create a new key pair; the secret key is written to KEYFILE (mode 0600,\n"
	"           hex), the public key is printed: give it to whoever seals files for you\n"
	"  seal     encrypt --in (default: standard input) to --out (default: standard output)\n"
	"  open     decrypt with the secret key in KEYFILE; with --out, the file appears only if\n"
	"           the whole envelope was intact\n"
	"  pubkey   print the public key of KEYFILE, or the encryption key of an Ed25519\n"
	"           identity public key (--ed25519)\n";

static int read_key(const char *path, uint8_t sk[32], uint8_t pk[32])
{
	uint8_t *data;
	size_t len;
	struct lb_errmsg em;
	int rc = lb_file_read(path, 4096, &data, &len, &em);

	if (rc != LB_OK) {
		fprintf(stderr, "leben envelope: %s\n", em.text);
		return 1;
	}
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = 0;
	rc = lb_hex_decode(sk, 32, (char *)data);
	sodium_memzero(data, len);
	lb_free(data);
	if (rc != LB_OK) {
		fprintf(stderr, "leben envelope: %s: expected 64 hex characters (a key made by "
				"'leben envelope keygen')\n",
			path);
		return 1;
	}
	crypto_scalarmult_base(pk, sk);
	return 0;
}

static int do_keygen(const char *out, int json)
{
	uint8_t pk[32], sk[32];
	char hex[65];
	struct lb_errmsg em;

	if (!out) {
		fprintf(stderr, "leben envelope keygen: --out KEYFILE is required\n");
		return 2;
	}
	lb_envelope_keypair(pk, sk);
	lb_hex_encode(hex, sk, 32);
	hex[64] = '\n';
	int rc = lb_file_write(out, hex, 65, 0600, &em);
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(sk, sizeof sk);
	if (rc != LB_OK) {
		fprintf(stderr, "leben envelope keygen: %s\n", em.text);
		return 1;
	}
	lb_hex_encode(hex, pk, 32);
	if (json)
		printf("{\"public_key\":\"%s\",\"key_file\":\"%s\"}\n", hex, out);
	else
		printf("%s\n", hex);
	return 0;
}

int cmd_envelope(int argc, char **argv)
{
	static const struct option opts[] = {
		{"to", required_argument, 0, 't'},  {"in", required_argument, 0, 'i'},
		{"out", required_argument, 0, 'o'}, {"key", required_argument, 0, 'k'},
		{"ed25519", required_argument, 0, 'e'}, {"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},      {0, 0, 0, 0}};
	const char *to = NULL, *in = NULL, *out = NULL, *key = NULL, *ed = NULL, *sub;
	int json = 0, c, in_fd = 0, out_fd = 1, rc;
	char tmp[4096];
	struct lb_errmsg em;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(env_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'k': key = optarg; break;
		case 'e': ed = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(env_help, stdout); return 0;
		default: fputs(env_help, stderr); return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	if (!strcmp(sub, "keygen"))
		return do_keygen(out, json);
	if (!strcmp(sub, "pubkey")) {
		uint8_t pk[32], sk[32];
		char hex[65];
		if (ed) {
			uint8_t edpk[32];
			if (lb_hex_decode(edpk, 32, ed) != LB_OK ||
			    lb_envelope_pk_from_ed25519(pk, edpk) != LB_OK) {
				fprintf(stderr, "leben envelope pubkey: --ed25519 needs a valid Ed25519 "
						"public key (64 hex characters)\n");
				return 1;
			}
		} else if (key) {
			if (read_key(key, sk, pk))
				return 1;
			sodium_memzero(sk, sizeof sk);
		} else {
			fprintf(stderr, "leben envelope pubkey: give --key KEYFILE or --ed25519 PUBKEY\n");
			return 2;
		}
		lb_hex_encode(hex, pk, 32);
		printf(json ? "{\"public_key\":\"%s\"}\n" : "%s\n", hex);
		return 0;
	}
	if (strcmp(sub, "seal") && strcmp(sub, "open")) {
		fprintf(stderr, "leben envelope: unknown action '%s' (keygen, seal, open, pubkey)\n", sub);
		return 2;
	}
	if (in && (in_fd = open(in, O_RDONLY)) < 0) {
		fprintf(stderr, "leben envelope %s: cannot open %s: %s\n", sub, in, strerror(errno));
		return 1;
	}
	if (out) {
		snprintf(tmp, sizeof tmp, "%s.partial-XXXXXX", out);
		out_fd = mkstemp(tmp);
		if (out_fd < 0) {
			fprintf(stderr, "leben envelope %s: cannot create %s: %s\n", sub, tmp,
				strerror(errno));
			return 1;
		}
	}
	if (!strcmp(sub, "seal")) {
		uint8_t(*pks)[32] = NULL;
		size_t n = 0;
		if (!to) {
			fprintf(stderr, "leben envelope seal: --to PUBKEY[,PUBKEY...] is required\n");
			rc = 2;
			goto out;
		}
		pks = lb_calloc(LB_ENVELOPE_MAX_RECIPIENTS, 32);
		for (const char *p = to; p && *p; n++) {
			const char *comma = strchr(p, ',');
			size_t l = comma ? (size_t)(comma - p) : strlen(p);
			char one[65];
			if (n == LB_ENVELOPE_MAX_RECIPIENTS || l != 64) {
				fprintf(stderr, "leben envelope seal: recipient %zu: expected a 64-hex "
						"public key\n",
					n + 1);
				lb_free(pks);
				rc = 1;
				goto out;
			}
			memcpy(one, p, 64);
			one[64] = 0;
			if (lb_hex_decode(pks[n], 32, one) != LB_OK) {
				fprintf(stderr, "leben envelope seal: recipient %zu is not hex\n", n + 1);
				lb_free(pks);
				rc = 1;
				goto out;
			}
			p = comma ? comma + 1 : NULL;
		}
		rc = lb_envelope_seal_fd((const uint8_t(*)[32])pks, n, in_fd, out_fd, &em);
		lb_free(pks);
	} else {
		uint8_t sk[32], pk[32];
		if (!key) {
			fprintf(stderr, "leben envelope open: --key KEYFILE is required\n");
			rc = 2;
			goto out;
		}
		if (read_key(key, sk, pk)) {
			rc = 1;
			goto out;
		}
		rc = lb_envelope_open_fd(sk, pk, in_fd, out_fd, &em);
		sodium_memzero(sk, sizeof sk);
	}
	if (rc != LB_OK) {
		fprintf(stderr, "leben envelope %s: %s [%s]\n", sub, em.text, lb_errname(rc));
		rc = 1;
	} else if (out && (fsync(out_fd) != 0 || rename(tmp, out) != 0)) {
		fprintf(stderr, "leben envelope %s: cannot write %s: %s\n", sub, out, strerror(errno));
		rc = 1;
	}
out:
	if (out) {
		close(out_fd);
		if (rc != 0)
			unlink(tmp);
	}
	if (in)
		close(in_fd);
	return rc;
}
