/* `leben paillier`: additively homomorphic encryption of integers (Paillier): keys, encrypt,
 * decrypt, add two ciphertexts, multiply a ciphertext by a number. Numbers are decimal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <jansson.h>

#include "cli.h"
#include "leben/base.h"
#include "leben/paillier.h"

static const char paillier_help[] =
	"usage: leben paillier keygen --out KEY.json [--bits 2048]\n"
	"       leben paillier encrypt --key KEY.json M\n"
	"       leben paillier decrypt --key KEY.json C\n"
	"       leben paillier add --key KEY.json C1 C2\n"
	"       leben paillier mul --key KEY.json C K\n"
	"\n"
	"Encrypt whole numbers so that others can add them up (and multiply them by known\n"
	"numbers) without seeing them; only the key holder decrypts the result.\n"
	"KEY.json holds n (public) and lambda, mu, p, q (secret; mode 0600). The format is the\n"
	"one of the npm package paillier-bigint. For add/mul/encrypt only \"n\" is needed.\n"
	"Numbers are decimal; plaintexts are 0 <= M < n.\n";

static int zget(mpz_t z, json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));
	return s && mpz_set_str(z, s, 10) == 0;
}

int cmd_paillier(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, 0, 'o'}, {"key", required_argument, 0, 'k'},
		{"bits", required_argument, 0, 'b'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	const char *out = NULL, *key = NULL, *sub;
	unsigned bits = 2048;
	int c, rc = 1, have_sk = 0;
	struct lb_paillier_sk sk;
	struct lb_errmsg em;
	mpz_t a, b, r, p, q;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(paillier_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'k': key = optarg; break;
		case 'b': bits = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': fputs(paillier_help, stdout); return 0;
		default: fputs(paillier_help, stderr); return 2;
		}
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	mpz_inits(a, b, r, p, q, NULL);
	lb_paillier_sk_init(&sk);
	if (!strcmp(sub, "keygen")) {
		if (!out) {
			fprintf(stderr, "leben paillier keygen: --out KEY.json is required\n");
			rc = 2;
			goto done;
		}
		if (lb_paillier_keygen(&sk, bits, &em) != LB_OK) {
			fprintf(stderr, "leben paillier keygen: %s\n", em.text);
			goto done;
		}
		char *s[5];
		s[0] = mpz_get_str(NULL, 10, sk.pk.n);
		s[1] = mpz_get_str(NULL, 10, sk.lambda);
		s[2] = mpz_get_str(NULL, 10, sk.mu);
		s[3] = mpz_get_str(NULL, 10, sk.p);
		s[4] = mpz_get_str(NULL, 10, sk.q);
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "n", s[0], "lambda", s[1], "mu", s[2],
				      "p", s[3], "q", s[4]);
		char *txt = json_dumps(j, JSON_COMPACT);
		rc = lb_file_write(out, txt, strlen(txt), 0600, &em) == LB_OK ? 0 : 1;
		if (rc)
			fprintf(stderr, "leben paillier keygen: %s\n", em.text);
		else
			printf("%s\n", s[0]);
		free(txt);
		json_decref(j);
		for (int i = 0; i < 5; i++) {
			memset(s[i], 0, strlen(s[i]));
			free(s[i]);
		}
		goto done;
	}
	if (!key) {
		fprintf(stderr, "leben paillier %s: --key KEY.json is required\n", sub);
		rc = 2;
		goto done;
	}
	json_error_t jerr;
	json_t *j = json_load_file(key, 0, &jerr);
	if (!j || !zget(a, j, "n")) {
		fprintf(stderr, "leben paillier: %s: not a key file (%s)\n", key, j ? "no n" : jerr.text);
		json_decref(j);
		goto done;
	}
	if (zget(p, j, "p") && zget(q, j, "q")) {
		if (lb_paillier_sk_set(&sk, p, q, &em) != LB_OK) {
			fprintf(stderr, "leben paillier: %s: %s\n", key, em.text);
			json_decref(j);
			goto done;
		}
		have_sk = 1;
	} else if (lb_paillier_pk_set(&sk.pk, a, &em) != LB_OK) {
		fprintf(stderr, "leben paillier: %s: %s\n", key, em.text);
		json_decref(j);
		goto done;
	}
	json_decref(j);
	int need = !strcmp(sub, "add") || !strcmp(sub, "mul") ? 2 : 1;
	if (nargs != need || mpz_set_str(a, args[0], 10) != 0 ||
	    (need == 2 && mpz_set_str(b, args[1], 10) != 0)) {
		fprintf(stderr, "leben paillier %s: expected %d decimal number(s)\n", sub, need);
		rc = 2;
		goto done;
	}
	int r2;
	if (!strcmp(sub, "encrypt"))
		r2 = lb_paillier_encrypt(&sk.pk, r, a, &em);
	else if (!strcmp(sub, "decrypt")) {
		if (!have_sk) {
			fprintf(stderr, "leben paillier decrypt: %s has no secret part (p, q)\n", key);
			goto done;
		}
		r2 = lb_paillier_decrypt(&sk, r, a, &em);
	} else if (!strcmp(sub, "add"))
		r2 = lb_paillier_add(&sk.pk, r, a, b, &em);
	else if (!strcmp(sub, "mul"))
		r2 = lb_paillier_mul_plain(&sk.pk, r, a, b, &em);
	else {
		fprintf(stderr, "leben paillier: unknown action '%s'\n", sub);
		rc = 2;
		goto done;
	}
	if (r2 != LB_OK) {
		fprintf(stderr, "leben paillier %s: %s\n", sub, em.text);
		goto done;
	}
	gmp_printf("%Zd\n", r);
	rc = 0;
done:
	lb_paillier_sk_release(&sk);
	mpz_clears(a, b, r, p, q, NULL);
	return rc;
}
