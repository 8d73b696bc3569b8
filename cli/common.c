/*
 * Helpers shared by the `leben` subcommands: home and node resolution, passphrases from the
 * environment or the terminal, key loading, error printing, amounts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"
#include "leben/base.h"

const char *cli_home(const char *opt)
{
	static char buf[4096];
	if (opt == buf)
		return buf; /* already resolved: every helper below resolves what it is given */
	const char *h = opt ? opt : getenv("LEBEN_HOME");
	if (h && *h) {
		snprintf(buf, sizeof buf, "%s", h);
	} else {
		const char *u = getenv("HOME");
		snprintf(buf, sizeof buf, "%s/.leben", u && *u ? u : ".");
	}
	return buf;
}

void cli_tls_defaults(const char *url, const char *home)
{
	static const char *const vars[3][2] = {{"LEBEN_TLS_CERT", "node.pem"},
					       {"LEBEN_TLS_KEY", "node.key"},
					       {"LEBEN_TLS_CA", "ca.pem"}};
	if (strncmp(url, "https://", 8))
		return;
	home = cli_home(home);
	for (int i = 0; i < 3; i++) {
		const char *v = getenv(vars[i][0]);
		if (v && *v)
			continue;
		char path[4200];
		snprintf(path, sizeof path, "%s/tls/%s", home, vars[i][1]);
		setenv(vars[i][0], path, 1);
	}
}

const char *cli_node_url(const char *opt, const char *home)
{
	static char buf[512];
	home = cli_home(home);
	const char *u = opt ? opt : getenv("LEBEN_NODE");
	if (u && *u) {
		snprintf(buf, sizeof buf, "%s", u);
		size_t n = strlen(buf);
		while (n > 0 && buf[n - 1] == '/')
			buf[--n] = 0;
		cli_tls_defaults(buf, home);
		return buf;
	}
	int port = 7800;
	bool tls = false;
	char path[4200];
	snprintf(path, sizeof path, "%s/config.json", home);
	json_t *cfg = json_load_file(path, 0, NULL);
	if (cfg) {
		json_t *p = json_object_get(cfg, "api_port");
		if (json_is_integer(p) && json_integer_value(p) > 0 && json_integer_value(p) < 65536)
			port = (int)json_integer_value(p);
		tls = json_is_true(json_object_get(cfg, "api_tls"));
		json_decref(cfg);
	}
	snprintf(buf, sizeof buf, "%s://127.0.0.1:%d", tls ? "https" : "http", port);
	cli_tls_defaults(buf, home);
	return buf;
}

int cli_take_tls_options(int *argc, char **argv)
{
	static const char *const opts[3][2] = {{"--tls-cert", "LEBEN_TLS_CERT"},
					       {"--tls-key", "LEBEN_TLS_KEY"},
					       {"--tls-ca", "LEBEN_TLS_CA"}};
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		int k = -1;
		const char *val = NULL;
		for (int j = 0; j < 3 && k < 0; j++) {
			size_t n = strlen(opts[j][0]);
			if (!strncmp(argv[i], opts[j][0], n) && (argv[i][n] == 0 || argv[i][n] == '=')) {
				k = j;
				val = argv[i][n] == '=' ? argv[i] + n + 1 : NULL;
			}
		}
		if (k < 0) {
			argv[out++] = argv[i];
			continue;
		}
		if (!val) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "leben: %s needs a file\n", opts[k][0]);
				return 2;
			}
			val = argv[++i];
		}
		setenv(opts[k][1], val, 1);
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

static int read_tty(FILE *tty, const char *prompt, char *buf, size_t n)
{
	struct termios old, noecho;
	int fd = fileno(tty);
	fprintf(tty, "%s", prompt);
	fflush(tty);
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &noecho);
	}
	char *r = fgets(buf, (int)n, tty);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	fprintf(tty, "\n");
	if (!r)
		return 1;
	buf[strcspn(buf, "\r\n")] = 0;
	return 0;
}

/* The last passphrase typed on the terminal and its prompt: one command that opens a key and
 * then what is kept under its passphrase (an ABE key, docs/security.md §11) asks once. Wiped
 * at exit. */
static char tty_prompt[128], tty_pass[256];

static void tty_pass_wipe(void)
{
	sodium_memzero(tty_pass, sizeof tty_pass);
}

int cli_passphrase(char *buf, size_t n, const char *prompt, bool confirm)
{
	const char *env = getenv("LEBEN_PASSPHRASE");
	if (env) {
		if (strlen(env) >= n)
			return cli_failf("passphrase", "LEBEN_PASSPHRASE is longer than %zu bytes",
					 n - 1);
		snprintf(buf, n, "%s", env);
		return 0;
	}
	if (!confirm && tty_prompt[0] && !strcmp(prompt, tty_prompt) && strlen(tty_pass) < n) {
		snprintf(buf, n, "%s", tty_pass);
		return 0;
	}
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		return cli_failf("passphrase",
				 "no terminal to ask for the passphrase; set LEBEN_PASSPHRASE");
	int rc = read_tty(tty, prompt, buf, n);
	if (!rc && confirm) {
		char again[256];
		rc = read_tty(tty, "Repeat the passphrase: ", again, sizeof again);
		if (!rc && strcmp(again, buf)) {
			fprintf(stderr, "leben: the two passphrases differ; nothing was changed\n");
			rc = 1;
		}
		sodium_memzero(again, sizeof again);
	}
	fclose(tty);
	if (!rc && !confirm && strlen(prompt) < sizeof tty_prompt && strlen(buf) < sizeof tty_pass) {
		if (!tty_prompt[0])
			atexit(tty_pass_wipe);
		snprintf(tty_prompt, sizeof tty_prompt, "%s", prompt);
		snprintf(tty_pass, sizeof tty_pass, "%s", buf);
	}
	if (rc)
		sodium_memzero(buf, n);
	return rc;
}

int cli_load_key(const char *home, const char *name, struct lb_keypair *kp)
{
	char dir[4200], pass[256], prompt[128];
	struct lb_errmsg em;
	snprintf(dir, sizeof dir, "%s/keys", cli_home(home));
	snprintf(prompt, sizeof prompt, "Passphrase for key '%s': ", name);
	bool from_fd;
	if (cli_key_from_fd(kp, &from_fd) || from_fd)
		return from_fd ? 0 : 1;
	if (cli_passphrase(pass, sizeof pass, prompt, false))
		return 1;
	int rc = lb_keystore_load(dir, name, pass, kp, &em);
	sodium_memzero(pass, sizeof pass);
	if (rc == LB_ENOTFOUND)
		return cli_fail("key", &em, "'leben keys list' shows the keys in this home");
	if (rc)
		return cli_fail("key", &em, NULL);
	return 0;
}

int cli_fail(const char *cmd, const struct lb_errmsg *em, const char *hint)
{
	fprintf(stderr, "leben %s: %s\n", cmd,
		em && em->text[0] ? em->text : lb_strerror(em ? em->code : LB_EINTERNAL));
	if (hint)
		fprintf(stderr, "  hint: %s\n", hint);
	return 1;
}

int cli_failf(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "leben %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 1;
}

void cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
}

int cli_parse_amount(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0;
	int fdigits = 0;
	const char *p = s;
	if (!*p)
		return LB_EMALFORMED;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX / 1000000 - 9) / 10)
			return LB_ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (++fdigits > 6)
				return LB_ERANGE;
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		if (fdigits == 0)
			return LB_EMALFORMED;
	}
	if (*p || p == s)
		return LB_EMALFORMED;
	while (fdigits++ < 6)
		frac *= 10;
	*out = whole * 1000000 + frac;
	return LB_OK;
}

const char *cli_format_amount(uint64_t v, char *buf, size_t n)
{
	snprintf(buf, n, "%llu.%06llu", (unsigned long long)(v / 1000000),
		 (unsigned long long)(v % 1000000));
	char *e = buf + strlen(buf) - 1;
	while (*e == '0')
		*e-- = 0;
	if (*e == '.')
		*e = 0;
	return buf;
}

int cli_url_escape(struct lb_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = LB_OK;
	for (; *s && !rc; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~')
			rc = lb_buf_add(b, s, 1);
		else
			rc = lb_buf_addf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
	return rc;
}
