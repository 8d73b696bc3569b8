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

static int paillier_threshold(int argc, char **argv);
static void paillier_t_usage(FILE *f);

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
		paillier_t_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	if (!strcmp(sub, "tdeal") || !strcmp(sub, "tshare") || !strcmp(sub, "tcombine"))
		return paillier_threshold(argc, argv);
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

/* ==== threshold decryption: tdeal / tshare / tcombine ====================================== */

static const char paillier_t_help[] =
	"usage: leben paillier tdeal --out DIR --threshold T --holders L [--bits 2048]\n"
	"       leben paillier tshare --key DIR/public.json --share SHARE.json C\n"
	"       leben paillier tcombine --key DIR/public.json C DSHARE.json DSHARE.json ...\n"
	"\n"
	"Threshold decryption: a key whose secret is split among L holders, any T of whom\n"
	"decrypt together; fewer learn nothing. Anyone encrypts with DIR/public.json like with an\n"
	"ordinary key ('leben paillier encrypt --key DIR/public.json M').\n"
	"  tdeal     make the key (safe primes: may take a minute) and write DIR/public.json and\n"
	"            DIR/share-I.json for I = 1..L (mode 0600; give each to one holder, then\n"
	"            delete them here: the dealer sees the whole key once)\n"
	"  tshare    a holder's decryption share of ciphertext C, with a proof that it is right;\n"
	"            prints one JSON line to hand to whoever combines\n"
	"  tcombine  check each decryption share's proof and combine T of them into the plaintext\n";

static void paillier_t_usage(FILE *f)
{
	fputs("\n", f);
	fputs(paillier_t_help, f);
}

static char *zstr(const mpz_t z)
{
	return mpz_get_str(NULL, 10, z);
}

static int t_write(const char *path, json_t *j, int mode)
{
	struct lb_errmsg em;
	char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = lb_file_write(path, txt, strlen(txt), mode, &em) == LB_OK ? 0 : 1;
	if (rc)
		fprintf(stderr, "leben paillier tdeal: %s\n", em.text);
	memset(txt, 0, strlen(txt));
	free(txt);
	return rc;
}

static int t_load_pk(const char *path, struct lb_paillier_tpk *tpk)
{
	json_error_t jerr;
	struct lb_errmsg em;
	json_t *j = json_load_file(path, 0, &jerr), *vk;
	mpz_t n;
	int ok = 0;
	mpz_init(n);
	vk = json_object_get(j, "vk");
	if (j && zget(n, j, "n") && zget(tpk->v, j, "v") && json_is_array(vk) &&
	    json_integer_value(json_object_get(j, "t")) >= 2 &&
	    json_array_size(vk) == (size_t)json_integer_value(json_object_get(j, "l")) &&
	    json_array_size(vk) <= LB_PAILLIER_TMAX &&
	    lb_paillier_pk_set(&tpk->pk, n, &em) == LB_OK) {
		tpk->t = (unsigned)json_integer_value(json_object_get(j, "t"));
		tpk->l = (unsigned)json_array_size(vk);
		mpz_fac_ui(tpk->delta, tpk->l);
		ok = tpk->t <= tpk->l;
		for (size_t i = 0; ok && i < tpk->l; i++) {
			const char *s = json_string_value(json_array_get(vk, i));
			ok = s && mpz_set_str(tpk->vk[i], s, 10) == 0;
		}
	}
	json_decref(j);
	mpz_clear(n);
	if (!ok)
		fprintf(stderr, "leben paillier: %s is not a threshold public key made by 'tdeal'\n",
			path);
	return ok ? 0 : 1;
}

static int paillier_threshold(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, 0, 'o'},     {"key", required_argument, 0, 'k'},
		{"bits", required_argument, 0, 'b'},    {"threshold", required_argument, 0, 't'},
		{"holders", required_argument, 0, 'l'}, {"share", required_argument, 0, 's'},
		{"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
	const char *out = NULL, *key = NULL, *share = NULL, *sub = argv[1];
	unsigned bits = 2048, t = 0, l = 0;
	int c, rc = 1;
	struct lb_errmsg em;
	struct lb_paillier_tpk tpk;
	mpz_t cph, m, p, q;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'k': key = optarg; break;
		case 's': share = optarg; break;
		case 'b': bits = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': t = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': l = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': fputs(paillier_t_help, stdout); return 0;
		default: fputs(paillier_t_help, stderr); return 2;
		}
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	lb_paillier_tpk_init(&tpk);
	mpz_inits(cph, m, p, q, NULL);
	if (!strcmp(sub, "tdeal")) {
		struct lb_paillier_tshare sh[LB_PAILLIER_TMAX];
		char path[4200];
		if (!out || !t || !l) {
			fprintf(stderr, "leben paillier tdeal: --out DIR, --threshold T and --holders L "
					"are required\n");
			rc = 2;
			goto done;
		}
		if (bits < LB_PAILLIER_MIN_BITS || bits % 16 || bits > 8192 || l > LB_PAILLIER_TMAX) {
			fprintf(stderr, "leben paillier tdeal: --bits 2048..8192 (multiple of 16), at "
					"most %d holders\n",
				LB_PAILLIER_TMAX);
			rc = 2;
			goto done;
		}
		do {
			if (lb_paillier_safe_prime(p, bits / 2, &em) ||
			    lb_paillier_safe_prime(q, bits / 2, &em)) {
				fprintf(stderr, "leben paillier tdeal: %s\n", em.text);
				goto done;
			}
			mpz_mul(m, p, q);
		} while (mpz_cmp(p, q) == 0 || mpz_sizeinbase(m, 2) != bits);
		for (unsigned i = 0; i < l; i++)
			lb_paillier_tshare_init(&sh[i]);
		if (lb_paillier_tdeal(&tpk, sh, p, q, t, l, &em) != LB_OK) {
			fprintf(stderr, "leben paillier tdeal: %s\n", em.text);
		} else if (lb_mkdirs(out, 0700, &em) != LB_OK) {
			fprintf(stderr, "leben paillier tdeal: %s\n", em.text);
		} else {
			char *ns = zstr(tpk.pk.n), *vs = zstr(tpk.v);
			json_t *vk = json_array();
			for (unsigned i = 0; i < l; i++) {
				char *s = zstr(tpk.vk[i]);
				json_array_append_new(vk, json_string(s));
				free(s);
			}
			json_t *pj = json_pack("{s:s,s:i,s:i,s:s,s:o}", "n", ns, "t", (int)t, "l",
					       (int)l, "v", vs, "vk", vk);
			snprintf(path, sizeof path, "%s/public.json", out);
			rc = t_write(path, pj, 0644);
			json_decref(pj);
			for (unsigned i = 0; !rc && i < l; i++) {
				char *ss = zstr(sh[i].s);
				json_t *sj = json_pack("{s:i,s:s,s:s}", "i", (int)sh[i].i, "s", ss, "n",
						       ns);
				memset(ss, 0, strlen(ss));
				free(ss);
				snprintf(path, sizeof path, "%s/share-%u.json", out, i + 1);
				rc = t_write(path, sj, 0600);
				json_decref(sj);
			}
			if (!rc)
				printf("%s\n", ns);
			free(ns);
			free(vs);
		}
		for (unsigned i = 0; i < l; i++)
			lb_paillier_tshare_release(&sh[i]);
		goto done;
	}
	if (!key || t_load_pk(key, &tpk)) {
		if (!key)
			fprintf(stderr, "leben paillier %s: --key DIR/public.json is required\n", sub);
		rc = 2;
		goto done;
	}
	if (nargs < 1 || mpz_set_str(cph, args[0], 10) != 0) {
		fprintf(stderr, "leben paillier %s: give the ciphertext C (decimal)\n", sub);
		rc = 2;
		goto done;
	}
	if (!strcmp(sub, "tshare")) {
		struct lb_paillier_tshare sh;
		struct lb_paillier_dshare ds;
		json_error_t jerr;
		json_t *sj = share ? json_load_file(share, 0, &jerr) : NULL;
		lb_paillier_tshare_init(&sh);
		lb_paillier_dshare_init(&ds);
		json_int_t i = json_integer_value(json_object_get(sj, "i"));
		if (!sj || !zget(sh.s, sj, "s") || !zget(m, sj, "n") || mpz_cmp(m, tpk.pk.n) ||
		    i < 1 || i > (json_int_t)tpk.l) {
			fprintf(stderr, "leben paillier tshare: --share %s is not a share of this key\n",
				share ? share : "(missing)");
		} else {
			sh.i = (unsigned)i;
			if (lb_paillier_tdecrypt_share(&tpk, &sh, cph, &ds, &em) != LB_OK) {
				fprintf(stderr, "leben paillier tshare: %s\n", em.text);
			} else {
				gmp_printf("{\"i\":%u,\"ci\":\"%Zd\",\"e\":\"%Zd\",\"z\":\"%Zd\"}\n", ds.i,
					   ds.ci, ds.e, ds.z);
				rc = 0;
			}
		}
		if (sj)
			json_decref(sj);
		lb_paillier_tshare_release(&sh);
		lb_paillier_dshare_release(&ds);
		goto done;
	}
	if (!strcmp(sub, "tcombine")) {
		struct lb_paillier_dshare ds[LB_PAILLIER_TMAX];
		int k = nargs - 1;
		if (k < 1 || k > LB_PAILLIER_TMAX) {
			fprintf(stderr, "leben paillier tcombine: give C and the decryption share files\n");
			rc = 2;
			goto done;
		}
		int bad = 0;
		for (int i = 0; i < k; i++) {
			json_error_t jerr;
			json_t *dj = json_load_file(args[1 + i], 0, &jerr);
			json_int_t idx = json_integer_value(json_object_get(dj, "i"));
			lb_paillier_dshare_init(&ds[i]);
			if (!bad && (!dj || idx < 1 || idx > LB_PAILLIER_TMAX ||
				     !zget(ds[i].ci, dj, "ci") || !zget(ds[i].e, dj, "e") ||
				     !zget(ds[i].z, dj, "z"))) {
				fprintf(stderr, "leben paillier tcombine: %s is not a decryption share "
						"from 'tshare'\n",
					args[1 + i]);
				bad = 1;
			}
			ds[i].i = (unsigned)idx;
			if (dj)
				json_decref(dj);
		}
		if (!bad) {
			if (lb_paillier_tcombine(&tpk, cph, ds, (size_t)k, m, &em) != LB_OK) {
				fprintf(stderr, "leben paillier tcombine: %s\n", em.text);
			} else {
				gmp_printf("%Zd\n", m);
				rc = 0;
			}
		}
		for (int i = 0; i < k; i++)
			lb_paillier_dshare_release(&ds[i]);
		goto done;
	}
	fprintf(stderr, "leben paillier: unknown action '%s'\n", sub);
	rc = 2;
done:
	lb_paillier_tpk_release(&tpk);
	mpz_clears(cph, m, p, q, NULL);
	return rc;
}
