/*
 * `leben monitor ...`: chronic-disease monitoring (docs/apps.md, "2. Chronic-disease
 * monitoring"; the API is docs/api.md, "Chronic-disease monitoring"). Every subcommand asks
 * the node's /v1/monitor routes; readings and acks are signed here with a key of the home.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "leben/base.h"
#include "leben/crypto.h"

#define CMD "monitor"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leben monitor WHAT [options]\n"
		"\n"
		"Home monitoring of chronic patients: wearable readings (blood pressure, glucose,\n"
		"heart rate, SpO2) sent by device-data providers are graded by each patient's risk\n"
		"contract as they arrive; warnings go to an outbox (and the patient's webhook), are\n"
		"acknowledged by a clinician and escalated to a second contact when not in time.\n"
		"\n"
		"  provider NAME --key KEY --price N\n"
		"        register a device-data provider: KEY (a key of this home) signs the\n"
		"        registration and its batches; N ASC micro-units are due per accepted reading\n"
		"  enrol PATIENT --contract FILE --clinician KEY --second KEY --patient-key KEY\n"
		"        [--by KEY] [--webhook URL] [--deadline SECONDS]\n"
		"        enrol a patient with a risk contract (e.g. examples/contracts/\n"
		"        chronic_risk.pf), the clinician who acknowledges warnings, the second\n"
		"        contact warnings escalate to after --deadline (default 900 s). Signed by\n"
		"        --by (default: the node's key, the owner institution; or the patient's own\n"
		"        key) with the patient's consent signed by --patient-key (keys of this home)\n"
		"  readings FILE --provider NAME --key KEY\n"
		"        send a batch (JSON array, NDJSON or a FHIR Bundle; simple\n"
		"        {patient,code,value,time} or FHIR\n"
		"        Observations) signed with the provider's key; shows each reading's outcome\n"
		"  outbox [--patient P] [--state open|acked|escalated] [--after ID]\n"
		"        the warnings, with grade, reasons, recipient and webhook delivery\n"
		"  ack ID --key KEY      acknowledge warning ID (signed by the clinician's key)\n"
		"  status                providers and their unsettled counts, settled batches, totals\n"
		"  settle                record every provider's open batch on the business chain\n"
		"                        (monitor.payment: count x price) with the node's key\n"
		"\n"
		"options: --home DIR, --node URL, --json.\n"
		"\n"
		"examples:\n"
		"  leben monitor provider acme --key acme --price 10\n"
		"  leben monitor enrol p1 --contract examples/contracts/chronic_risk.pf \\\n"
		"      --clinician drsmith --second oncall --patient-key p1 \\\n"
		"      --webhook https://ward.example/hook\n"
		"  leben monitor readings today.ndjson --provider acme --key acme\n"
		"  leben monitor outbox --state open --json\n"
		"  leben monitor ack 42 --key drsmith\n");
}

/* KEY: 64 hex digits as is, else a key of the home (its public key; kp filled when asked). */
static int key_hex(const char *home, const char *name, char hex[65], struct lb_keypair *kp)
{
	uint8_t pk[32];
	if (!kp && strlen(name) == 64 && !lb_hex_decode(pk, 32, name)) {
		snprintf(hex, 65, "%s", name);
		return 0;
	}
	struct lb_keypair k;
	if (cli_load_key(home, name, &k))
		return 1;
	lb_hex_encode(hex, k.pk, 32);
	if (kp)
		*kp = k;
	sodium_memzero(&k, sizeof k);
	return 0;
}

static int reply(json_t *j, bool as_json)
{
	if (as_json) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
	} else {
		cli_print_json(j);
	}
	json_decref(j);
	return 0;
}

static json_t *load_readings(const char *path)
{
	uint8_t *buf;
	size_t len;
	if (cli_read_file(CMD, path, 64u << 20, &buf, &len))
		return NULL;
	json_error_t je;
	json_t *a = NULL;
	size_t p = 0;
	while (p < len && (buf[p] == ' ' || buf[p] == '\n' || buf[p] == '\t' || buf[p] == '\r'))
		p++;
	if (p < len && buf[p] == '[') {
		if (!(a = json_loadb((const char *)buf, len, 0, &je)))
			cli_failf(CMD, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	} else if (p < len && buf[p] == '{' && (a = json_loadb((const char *)buf, len, 0, NULL))) {
		json_t *one = a; /* one object, maybe over several lines (a Bundle) */
		a = json_array();
		json_array_append_new(a, one);
	} else {
		a = json_array();
		size_t line = 1;
		for (size_t s = 0; s < len && a; line++) {
			const uint8_t *nl = memchr(buf + s, '\n', len - s);
			size_t e = nl ? (size_t)(nl - buf) : len;
			if (e > s) {
				json_t *o = json_loadb((const char *)buf + s, e - s, 0, &je);
				if (!o) {
					cli_failf(CMD, "%s:%zu:%d: %s (one JSON reading a line)", path,
						  line, je.column, je.text);
					json_decref(a);
					a = NULL;
				} else {
					json_array_append_new(a, o);
				}
			}
			s = e + 1;
		}
	}
	free(buf);
	json_t *b = json_array_get(a, 0);
	const char *rt = json_string_value(json_object_get(b, "resourceType"));
	if (json_array_size(a) == 1 && rt && !strcmp(rt, "Bundle")) { /* sent as is */
		json_incref(b);
		json_decref(a);
		return b;
	}
	return a;
}

int cmd_monitor(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *what = argv[1];
	const char *home = NULL, *node = NULL, *key = NULL, *price = NULL, *contract = NULL;
	const char *clin = NULL, *second = NULL, *hook = NULL, *dl = NULL, *prov = NULL;
	const char *patient = NULL, *state = NULL, *after = NULL, *pkey = NULL, *by = NULL;
	bool as_json = false, help = false;
	const struct copt opts[] = {
		{"--home", &home, NULL}, {"--node", &node, NULL}, {"--key", &key, NULL},
		{"--price", &price, NULL}, {"--contract", &contract, NULL},
		{"--clinician", &clin, NULL}, {"--second", &second, NULL}, {"--webhook", &hook, NULL},
		{"--deadline", &dl, NULL}, {"--provider", &prov, NULL}, {"--patient", &patient, NULL},
		{"--state", &state, NULL}, {"--after", &after, NULL}, {"--json", NULL, &as_json},
		{"--patient-key", &pkey, NULL}, {"--by", &by, NULL},
		{"--help", NULL, &help}, {NULL, NULL, NULL}};
	const char *pos[1];
	int npos, rc = copt_parse(CMD, argc, argv, 2, opts, pos, 1, &npos);
	if (rc)
		return rc;
	if (help) {
		usage(stdout);
		return 0;
	}
	home = cli_home(home);
	const char *url = cli_node_url(node, home);
	json_t *out = NULL;
	char hex[65], path[512];
	if (!strcmp(what, "provider")) {
		if (npos != 1 || !key || !price)
			return cli_failf(CMD, "provider NAME --key KEY --price N (see --help)"), 2;
		char *end;
		long long pr = strtoll(price, &end, 10);
		if (*end || pr < 0)
			return cli_failf(CMD, "--price must be a whole number of ASC micro-units >= 0"), 2;
		/* the provider registers itself: signed with the key it registers */
		struct lb_keypair kp;
		if (key_hex(home, key, hex, &kp))
			return 1;
		char msg[300], sh[129];
		uint8_t sig[64];
		long long now = (long long)time(NULL);
		int n = snprintf(msg, sizeof msg, "LEBEN-monitor-provider-v1\n%s\n%s\n%lld\n%lld",
				 pos[0], hex, pr, now);
		lb_sign(sig, msg, (size_t)n, &kp);
		sodium_memzero(&kp, sizeof kp);
		lb_hex_encode(sh, sig, 64);
		json_t *b = json_pack("{s:s,s:s,s:I,s:I,s:s}", "name", pos[0], "key", hex, "price",
				      (json_int_t)pr, "time", (json_int_t)now, "sig", sh);
		rc = cli_api_post(CMD, url, "/v1/monitor/providers", b, &out);
		json_decref(b);
	} else if (!strcmp(what, "enrol")) {
		char c2[65], pkh[65], byh[65], ch[65], sh[129], csh[129];
		if (npos != 1 || !contract || !clin || !second || !pkey)
			return cli_failf(CMD, "enrol PATIENT --contract FILE --clinician KEY --second "
					 "KEY --patient-key KEY (see --help)"), 2;
		uint8_t *src, h[32], sig[64];
		size_t n;
		struct lb_keypair pk, bk;
		if (cli_read_file(CMD, contract, 4u << 20, &src, &n))
			return 1;
		if (key_hex(home, clin, hex, NULL) || key_hex(home, second, c2, NULL) ||
		    key_hex(home, pkey, pkh, &pk)) {
			free(src);
			return 1;
		}
		if (key_hex(home, by ? by : "node", byh, &bk)) {
			sodium_memzero(&pk, sizeof pk);
			free(src);
			return 1;
		}
		/* signed by --by (the institution's node key unless named); the patient's key
		 * signs the same message as their consent */
		long long now = (long long)time(NULL), dls = dl ? strtoll(dl, NULL, 10) : 900;
		char msg[900];
		lb_hash(h, src, n);
		lb_hex_encode(ch, h, 32);
		int ml = snprintf(msg, sizeof msg,
				  "LEBEN-monitor-enrol-v1\n%s\n%s\n%s\n%s\n%s\n%lld\n%s\n%lld", pos[0],
				  ch, hex, c2, hook ? hook : "", dls, pkh, now);
		lb_sign(sig, msg, (size_t)ml, &bk);
		lb_hex_encode(sh, sig, 64);
		lb_sign(sig, msg, (size_t)ml, &pk);
		lb_hex_encode(csh, sig, 64);
		sodium_memzero(&pk, sizeof pk);
		sodium_memzero(&bk, sizeof bk);
		json_t *b = json_pack("{s:s,s:s%,s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:s,s:s}", "patient",
				      pos[0], "contract", (const char *)src, n, "clinician", hex,
				      "second", c2, "webhook", hook ? hook : "", "ack_deadline_s",
				      (json_int_t)dls, "patient_key", pkh, "time", (json_int_t)now,
				      "by", byh, "sig", sh, "consent", csh);
		free(src);
		if (!b)
			return cli_failf(CMD, "%s is not UTF-8 text", contract), 1;
		rc = cli_api_post(CMD, url, "/v1/monitor/patients", b, &out);
		json_decref(b);
	} else if (!strcmp(what, "readings")) {
		struct lb_keypair kp;
		if (npos != 1 || !prov || !key)
			return cli_failf(CMD, "readings FILE --provider NAME --key KEY (see --help)"), 2;
		json_t *a = load_readings(pos[0]);
		if (!a)
			return 1;
		if (key_hex(home, key, hex, &kp)) {
			json_decref(a);
			return 1;
		}
		/* the client sends json_dumps(a, JSON_COMPACT): sign those bytes */
		char *body = json_dumps(a, JSON_COMPACT);
		static const char dom[] = "LEBEN-monitor-readings-v1\n";
		size_t bl = body ? strlen(body) : 0;
		uint8_t *msg = malloc(sizeof dom - 1 + bl), sig[64];
		char sh[129];
		if (!body || !msg) {
			free(body);
			free(msg);
			json_decref(a);
			return cli_failf(CMD, "out of memory"), 1;
		}
		memcpy(msg, dom, sizeof dom - 1);
		memcpy(msg + sizeof dom - 1, body, bl);
		lb_sign(sig, msg, sizeof dom - 1 + bl, &kp);
		sodium_memzero(&kp, sizeof kp);
		lb_hex_encode(sh, sig, 64);
		free(msg);
		free(body);
		snprintf(path, sizeof path, "/v1/monitor/readings?provider=%s&sig=%s", prov, sh);
		rc = cli_api_post(CMD, url, path, a, &out);
		json_decref(a);
	} else if (!strcmp(what, "outbox")) {
		int n = snprintf(path, sizeof path, "/v1/monitor/outbox?after=%s",
				 after ? after : "0");
		if (patient)
			n += snprintf(path + n, sizeof path - (size_t)n, "&patient=%s", patient);
		if (state)
			snprintf(path + n, sizeof path - (size_t)n, "&state=%s", state);
		rc = cli_api_get(CMD, url, path, &out);
	} else if (!strcmp(what, "ack")) {
		struct lb_keypair kp;
		char *end;
		if (npos != 1 || !key)
			return cli_failf(CMD, "ack ID --key KEY (see --help)"), 2;
		long long id = strtoll(pos[0], &end, 10);
		if (*end || id <= 0)
			return cli_failf(CMD, "'%s' is not an outbox id (a number)", pos[0]), 2;
		if (key_hex(home, key, hex, &kp))
			return 1;
		char msg[64], sh[129];
		uint8_t sig[64];
		int n = snprintf(msg, sizeof msg, "LEBEN-monitor-ack-v1\n%lld", id);
		lb_sign(sig, msg, (size_t)n, &kp);
		sodium_memzero(&kp, sizeof kp);
		lb_hex_encode(sh, sig, 64);
		json_t *b = json_pack("{s:s,s:s}", "by", hex, "sig", sh);
		snprintf(path, sizeof path, "/v1/monitor/outbox/%lld/ack", id);
		rc = cli_api_post(CMD, url, path, b, &out);
		json_decref(b);
	} else if (!strcmp(what, "status")) {
		rc = cli_api_get(CMD, url, "/v1/monitor/status", &out);
	} else if (!strcmp(what, "settle")) {
		json_t *b = json_object();
		rc = cli_api_post(CMD, url, "/v1/monitor/settle", b, &out);
		json_decref(b);
	} else {
		return cli_failf(CMD, "unknown subcommand '%s' (provider, enrol, readings, outbox, "
				 "ack, status, settle; see --help)", what), 2;
	}
	return rc ? rc : reply(out, as_json);
}
