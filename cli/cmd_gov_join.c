/*
 * Admission of a new institution, one command on each side (docs/consortium.md):
 *   leben governance admit-node  (an existing member holding the CA, after the vote passed):
 *       certificates for the new node and its etcd member, etcd learner added, a join bundle;
 *   leben governance join        (the new institution, with the bundle):
 *       TLS files and config installed, etcd started as a learner, promoted once in sync,
 *       the node started from a member's snapshot and followed until it has caught up.
 * Each step prints a numbered progress line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "apiclient.h"
#include "cli.h"
#include "common.h"
#include "gov_join.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/ca.h"
#include "leben/consortium.h"

#define CMD "governance"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static json_t *load_json(const char *dir, const char *file)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	return json_load_file(p, 0, NULL);
}

static int copy_file(const char *from, const char *to, unsigned mode)
{
	uint8_t *d = NULL;
	size_t n = 0;
	struct lb_errmsg em;
	int rc = lb_file_read(from, 1u << 24, &d, &n, &em);
	if (!rc)
		rc = lb_file_write(to, d, n, mode, &em);
	if (rc)
		cli_fail(CMD, &em, NULL);
	lb_free(d);
	return rc;
}

static int etcd_call_files(const char *eps, const char *tlsdir, const char *op, json_t *body,
			   json_t **reply, struct lb_errmsg *em)
{
	char ca[8800], cert[8800], key[8800];
	snprintf(ca, sizeof ca, "%s/ca.pem", tlsdir);
	snprintf(cert, sizeof cert, "%s/node.pem", tlsdir);
	snprintf(key, sizeof key, "%s/node.key", tlsdir);
	bool tls = strncmp(eps, "http://", 7) != 0;
	return lb_etcd_member_call(eps, tls ? ca : NULL, tls ? cert : NULL, tls ? key : NULL, op,
				   body, reply, em);
}

int gov_admit_node(const struct gov_join_opts *o)
{
	struct lb_errmsg em;
	char path[8800], eps[2048];
	lb_errclear(&em);
	if (!o->member || !o->name || !o->etcd_name || !o->etcd_peer_url || !o->etcd_client_url ||
	    !o->ca || !o->out)
		return cli_failf(CMD, "admit-node needs --member ADDRESS --name NODE --etcd-name NAME "
				      "--etcd-peer-url URL --etcd-client-url URL --ca DIR --out DIR");
	const char *url = cli_node_url(o->node, o->home);
	uint8_t addr[LB_ADDR_LEN];
	char addr_text[LB_ADDR_TEXT_LEN + 1];
	if (cli_resolve_address(CMD, o->home, o->member, addr))
		return 1;
	lb_addr_encode(addr_text, addr);
	/* 1: the vote has passed */
	json_t *mj = NULL, *m, *who = NULL;
	size_t i;
	if (cli_api_get(CMD, url, "/v1/members", &mj))
		return 1;
	json_array_foreach(json_object_get(mj, "members"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "address")), addr_text))
			who = m;
	if (!who) {
		json_decref(mj);
		return cli_failf(CMD, "%s is not a member yet: its admission vote must pass first "
				      "(leben governance members)",
				 addr_text);
	}
	char org[LB_MEMBER_NAME_MAX + 1];
	snprintf(org, sizeof org, "%s", json_string_value(json_object_get(who, "name")));
	printf("[1/3] %s (%s) is a member since business block %lld\n", addr_text, org,
	       (long long)json_integer_value(json_object_get(who, "since")));
	json_decref(mj);
	fflush(stdout);
	/* 2: certificates from the CA holder */
	struct lb_ca_subject sn = {.name = o->name, .org = org, .days = 825};
	struct lb_ca_subject se = {.name = o->etcd_name, .org = org, .days = 825};
	char tls[4200], etls[4200], crl[4200];
	snprintf(tls, sizeof tls, "%s/tls", o->out);
	snprintf(etls, sizeof etls, "%s/etcd-tls", o->out);
	if (lb_ca_issue(o->ca, tls, &sn, 0, &em) || lb_ca_issue(o->ca, etls, &se, 0, &em))
		return cli_fail(CMD, &em, "give --out a new directory");
	snprintf(crl, sizeof crl, "%s/crl.pem", o->ca);
	if (access(crl, F_OK) == 0) {
		snprintf(path, sizeof path, "%s/crl.pem", tls);
		if (copy_file(crl, path, 0644))
			return 1;
		snprintf(path, sizeof path, "%s/crl.pem", etls);
		if (copy_file(crl, path, 0644))
			return 1;
	}
	printf("[2/3] certificates issued by the consortium CA: %s/node.pem (node %s), "
	       "%s/node.pem (etcd %s)\n",
	       tls, o->name, etls, o->etcd_name);
	fflush(stdout);
	/* 3: etcd learner */
	json_t *cfg = load_json(o->home, "config.json");
	const char *e = o->etcd_endpoints ? o->etcd_endpoints
					  : json_string_value(json_object_get(cfg, "etcd_endpoints"));
	const char *peer = json_string_value(json_object_get(cfg, "peer_listen"));
	if (!e || !peer) {
		json_decref(cfg);
		return cli_failf(CMD, "this node's config.json needs etcd_endpoints and peer_listen "
				      "(the new node catches up from this node's snapshot)");
	}
	snprintf(eps, sizeof eps, "%s", e);
	char peer_copy[300];
	snprintf(peer_copy, sizeof peer_copy, "%s", peer);
	json_decref(cfg);
	snprintf(path, sizeof path, "%s/tls", o->home);
	json_t *body = json_pack("{s:[s],s:b}", "peerURLs", o->etcd_peer_url, "isLearner", 1);
	json_t *reply = NULL;
	int rc = etcd_call_files(eps, path, "add", body, &reply, &em);
	json_decref(body);
	if (rc)
		return cli_fail(CMD, &em, "check that etcd runs and has a quorum");
	char initial[4096] = "";
	size_t used = 0;
	json_array_foreach(json_object_get(reply, "members"), i, m)
	{
		const char *nm = json_string_value(json_object_get(m, "name"));
		json_t *p;
		size_t j;
		json_array_foreach(json_object_get(m, "peerURLs"), j, p)
		used += (size_t)snprintf(initial + used, used < sizeof initial ? sizeof initial - used : 0,
					 "%s%s=%s", used ? "," : "", nm && *nm ? nm : o->etcd_name,
					 json_string_value(p));
	}
	const char *newid = json_string_value(json_object_get(json_object_get(reply, "member"), "ID"));
	json_t *bundle = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "member", addr_text,
				   "member_name", org, "node_name", o->name, "etcd_name",
				   o->etcd_name, "etcd_id", newid ? newid : "", "etcd_peer_url",
				   o->etcd_peer_url, "etcd_client_url", o->etcd_client_url,
				   "initial_cluster", initial, "etcd_endpoints", eps, "snapshot_from",
				   peer_copy);
	json_object_set_new(bundle, "member_api", json_string(url));
	json_decref(reply);
	snprintf(path, sizeof path, "%s/join.json", o->out);
	if (json_dump_file(bundle, path, JSON_INDENT(2))) {
		json_decref(bundle);
		return cli_failf(CMD, "cannot write %s", path);
	}
	json_decref(bundle);
	char g[4200];
	snprintf(g, sizeof g, "%s/genesis.json", o->home);
	snprintf(path, sizeof path, "%s/genesis.json", o->out);
	if (copy_file(g, path, 0644))
		return 1;
	printf("[3/3] etcd learner %s added at %s\n"
	       "give %s to the new institution (it holds its node's TLS key: hand it over as you "
	       "would a private key); there: leben governance join --bundle DIR --home HOME "
	       "--etcd-data DIR\n",
	       o->etcd_name, o->etcd_peer_url, o->out);
	return 0;
}

/* The process in pidfile when it still runs (a join run again after an interruption reuses
 * it), else 0. */
static pid_t running(const char *pidfile)
{
	FILE *f = fopen(pidfile, "r");
	int pid = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && kill(pid, 0) == 0 ? (pid_t)pid : 0;
}

/* Start argv in the background (own session, output to log), pid into pidfile. */
static pid_t spawn(char *const argv[], const char *log, const char *pidfile)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setsid();
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	FILE *f = fopen(pidfile, "w");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	return pid;
}

int gov_join(const struct gov_join_opts *o)
{
	struct lb_errmsg em;
	char path[8800], tls[4200], etls[4200];
	lb_errclear(&em);
	if (!o->bundle || !o->etcd_data)
		return cli_failf(CMD, "join needs --bundle DIR (from 'governance admit-node') and "
				      "--etcd-data DIR (this institution's etcd data directory)");
	long timeout_s = o->timeout ? atol(o->timeout) : 600;
	json_t *b = load_json(o->bundle, "join.json");
	if (!b)
		return cli_failf(CMD, "%s/join.json cannot be read: give the directory made by "
				      "'leben governance admit-node'",
				 o->bundle);
#define BS(k) json_string_value(json_object_get(b, k))
	/* the home's node key must be the admitted member, the genesis the network's */
	char keyaddr[LB_ADDR_TEXT_LEN + 1] = "";
	json_t *nk = load_json(o->home, "keys/node.key");
	snprintf(keyaddr, sizeof keyaddr, "%s",
		 json_string_value(json_object_get(nk, "address")) ? json_string_value(json_object_get(nk, "address")) : "");
	json_decref(nk);
	if (!BS("member") || strcmp(keyaddr, BS("member"))) {
		int r = cli_failf(CMD, "this home's node key (%s) is not the admitted member %s: "
				       "join from the home whose node key was voted in",
				  keyaddr[0] ? keyaddr : "none", BS("member") ? BS("member") : "?");
		json_decref(b);
		return r;
	}
	char g1[4200], g2[4200];
	snprintf(g1, sizeof g1, "%s/genesis.json", o->bundle);
	snprintf(g2, sizeof g2, "%s/genesis.json", o->home);
	uint8_t *x = NULL, *y = NULL;
	size_t xn = 0, yn = 0;
	char chains[4300];
	snprintf(chains, sizeof chains, "%s/chains", o->home);
	bool fresh = access(chains, F_OK) != 0; /* no chains yet: take the network's genesis */
	bool same = !lb_file_read(g1, 1u << 24, &x, &xn, NULL) &&
		    (fresh || lb_file_read(g2, 1u << 24, &y, &yn, NULL) ||
		     (xn == yn && !memcmp(x, y, xn)));
	lb_free(x);
	lb_free(y);
	if (!same || copy_file(g1, g2, 0644)) {
		json_decref(b);
		return cli_failf(CMD, "%s differs from the consortium's genesis in the bundle and "
				      "this home has chains already: it belongs to another network",
				 g2);
	}
	/* TLS files and config */
	snprintf(tls, sizeof tls, "%s/tls", o->home);
	snprintf(etls, sizeof etls, "%s/etcd-tls", o->home);
	if (lb_mkdirs(tls, 0700, &em) || lb_mkdirs(etls, 0700, &em)) {
		json_decref(b);
		return cli_fail(CMD, &em, NULL);
	}
	static const char *const files[] = {"node.pem", "node.key", "ca.pem", "crl.pem"};
	for (int k = 0; k < 8; k++) {
		char from[8800], to[8800];
		snprintf(from, sizeof from, "%s/%s/%s", o->bundle, k < 4 ? "tls" : "etcd-tls",
			 files[k % 4]);
		snprintf(to, sizeof to, "%s/%s", k < 4 ? tls : etls, files[k % 4]);
		if (access(from, F_OK) == 0 && copy_file(from, to, k % 4 == 1 ? 0600 : 0644)) {
			json_decref(b);
			return 1;
		}
	}
	json_t *cfg = load_json(o->home, "config.json");
	if (!cfg)
		cfg = json_object();
	char eps[2300];
	snprintf(eps, sizeof eps, "%s,%s", BS("etcd_endpoints"), BS("etcd_client_url"));
	json_object_set_new(cfg, "orderer", json_string("etcd"));
	json_object_set_new(cfg, "etcd_endpoints", json_string(eps));
	json_object_set_new(cfg, "snapshot_from", json_string(BS("snapshot_from")));
	json_object_set_new(cfg, "api_tls", json_true());
	if (o->api_port) {
		long port = atol(o->api_port);
		if (port < 1 || port > 65535) {
			json_decref(cfg);
			json_decref(b);
			return cli_failf(CMD, "--api-port must be 1-65535");
		}
		json_object_set_new(cfg, "api_port", json_integer(port));
	}
	snprintf(path, sizeof path, "%s/crl.pem", tls);
	if (access(path, F_OK) == 0)
		json_object_set_new(cfg, "tls_crl", json_string(path));
	snprintf(path, sizeof path, "%s/config.json", o->home);
	if (json_dump_file(cfg, path, JSON_INDENT(2))) {
		json_decref(cfg);
		json_decref(b);
		return cli_failf(CMD, "cannot write %s", path);
	}
	json_decref(cfg);
	/* 1: etcd, joining the running cluster */
	char a_name[128], a_data[4200], a_lc[300], a_adv[300], a_lp[300], a_init[4096], a_tok[64];
	char a_ca[8800], a_cert[8800], a_key[8800], a_crl[8800], log[4200], pidf[4200];
	snprintf(a_name, sizeof a_name, "%s", BS("etcd_name"));
	snprintf(a_data, sizeof a_data, "%s", o->etcd_data);
	snprintf(a_lc, sizeof a_lc, "%s", BS("etcd_client_url"));
	snprintf(a_adv, sizeof a_adv, "%s", BS("etcd_client_url"));
	snprintf(a_lp, sizeof a_lp, "%s", BS("etcd_peer_url"));
	snprintf(a_init, sizeof a_init, "%s", BS("initial_cluster"));
	snprintf(a_tok, sizeof a_tok, "%s", "existing");
	snprintf(a_ca, sizeof a_ca, "%s/ca.pem", etls);
	snprintf(a_cert, sizeof a_cert, "%s/node.pem", etls);
	snprintf(a_key, sizeof a_key, "%s/node.key", etls);
	snprintf(a_crl, sizeof a_crl, "%s/crl.pem", etls);
	bool have_crl = access(a_crl, F_OK) == 0;
	char *eargv[48];
	int n = 0;
	eargv[n++] = (char *)(o->etcd_bin ? o->etcd_bin : "etcd");
	eargv[n++] = "--name";                    eargv[n++] = a_name;
	eargv[n++] = "--data-dir";                eargv[n++] = a_data;
	eargv[n++] = "--listen-client-urls";      eargv[n++] = a_lc;
	eargv[n++] = "--advertise-client-urls";   eargv[n++] = a_adv;
	eargv[n++] = "--listen-peer-urls";        eargv[n++] = a_lp;
	eargv[n++] = "--initial-advertise-peer-urls"; eargv[n++] = a_lp;
	eargv[n++] = "--initial-cluster";         eargv[n++] = a_init;
	eargv[n++] = "--initial-cluster-state";   eargv[n++] = a_tok;
	eargv[n++] = "--client-cert-auth";
	eargv[n++] = "--trusted-ca-file";         eargv[n++] = a_ca;
	eargv[n++] = "--cert-file";               eargv[n++] = a_cert;
	eargv[n++] = "--key-file";                eargv[n++] = a_key;
	eargv[n++] = "--peer-client-cert-auth";
	eargv[n++] = "--peer-trusted-ca-file";    eargv[n++] = a_ca;
	eargv[n++] = "--peer-cert-file";          eargv[n++] = a_cert;
	eargv[n++] = "--peer-key-file";           eargv[n++] = a_key;
	if (have_crl) {
		eargv[n++] = "--client-crl-file"; eargv[n++] = a_crl;
		eargv[n++] = "--peer-crl-file";   eargv[n++] = a_crl;
	}
	eargv[n++] = "--max-txn-ops";             eargv[n++] = "10000";
	eargv[n++] = "--max-request-bytes";       eargv[n++] = "4194304";
	eargv[n++] = "--experimental-watch-progress-notify-interval"; eargv[n++] = "2s";
	eargv[n] = NULL;
	snprintf(log, sizeof log, "%s/etcd.log", o->home);
	snprintf(pidf, sizeof pidf, "%s/etcd.pid", o->home);
	if (lb_mkdirs(o->etcd_data, 0700, &em)) {
		json_decref(b);
		return cli_fail(CMD, &em, NULL);
	}
	pid_t ep = running(pidf);
	bool resumed = ep > 0;
	if (!ep && (ep = spawn(eargv, log, pidf)) < 0) {
		json_decref(b);
		return cli_failf(CMD, "cannot start etcd: %s", strerror(errno));
	}
	printf("[1/4] etcd %s %s (pid %d, log %s), joining the cluster as a learner\n", a_name,
	       resumed ? "already runs" : "started", (int)ep, log);
	fflush(stdout);
	/* 2: promote once in sync (etcd refuses while the learner lags) */
	time_t end = time(NULL) + timeout_s;
	int rc = 1, tries = 0;
	char why[600] = "";
	while (time(NULL) < end) {
		if (kill(ep, 0)) {
			cli_failf(CMD, "etcd stopped; see %s", log);
			goto out;
		}
		json_t *body = json_pack("{s:s}", "ID", BS("etcd_id")), *reply = NULL;
		struct lb_errmsg e2;
		lb_errclear(&e2);
		int r = etcd_call_files(BS("etcd_endpoints"), tls, "promote", body, &reply, &e2);
		json_decref(body);
		json_decref(reply);
		if (r) { /* promoted by an earlier run that was interrupted? */
			json_t *list = NULL, *m;
			size_t k;
			struct lb_errmsg e4;
			if (!etcd_call_files(BS("etcd_endpoints"), tls, "list", NULL, &list, &e4))
				json_array_foreach(json_object_get(list, "members"), k, m)
					if (json_string_value(json_object_get(m, "ID")) &&
					    !strcmp(json_string_value(json_object_get(m, "ID")),
						    BS("etcd_id")) &&
					    !json_is_true(json_object_get(m, "isLearner")))
						r = 0;
			json_decref(list);
		}
		if (!r) {
			rc = 0;
			break;
		}
		snprintf(why, sizeof why, "%s", e2.text);
		if (++tries % 10 == 0) {
			printf("      waiting for etcd to catch up before promotion (%s)\n",
			       strstr(why, "in sync") ? "not in sync yet" : why);
			fflush(stdout);
		}
		sleep_ms(1000);
	}
	if (rc) {
		cli_failf(CMD, "etcd %s was not promoted within %ld s: %s (etcd keeps running as a "
			       "learner; run 'leben governance etcd promote %s' later)",
			  a_name, timeout_s, why, a_name);
		goto out;
	}
	printf("[2/4] etcd %s is in sync and was promoted to a voting member\n", a_name);
	fflush(stdout);
	/* 3: the node, from a member's snapshot */
	char self[4200], home_copy[4200], nlog[4200], npid[4200];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl <= 0) {
		rc = cli_failf(CMD, "cannot find the leben program to start the node");
		goto out;
	}
	self[sl] = 0;
	snprintf(home_copy, sizeof home_copy, "%s", o->home);
	snprintf(nlog, sizeof nlog, "%s/node.log", o->home);
	snprintf(npid, sizeof npid, "%s/node.pid", o->home);
	char *nargv[] = {self, "node", "--home", home_copy, NULL};
	pid_t np = running(npid);
	resumed = np > 0;
	if (!np && (np = spawn(nargv, nlog, npid)) < 0) {
		rc = cli_failf(CMD, "cannot start the node: %s", strerror(errno));
		goto out;
	}
	printf("[3/4] node %s (pid %d, log %s), catching up from %s\n",
	       resumed ? "already runs" : "started", (int)np, nlog, BS("snapshot_from"));
	fflush(stdout);
	/* 4: follow until it has the member's heights and is a member */
	json_t *ms = NULL;
	long long want = -1;
	if (BS("member_api") && !cli_api_get(CMD, BS("member_api"), "/v1/status", &ms))
		want = json_integer_value(json_object_get(
			json_object_get(json_object_get(ms, "chains"), "business"), "height"));
	json_decref(ms);
	const char *own = cli_node_url(NULL, o->home);
	rc = 1;
	long long last = -1;
	while (time(NULL) < end) {
		if (kill(np, 0)) {
			cli_failf(CMD, "the node stopped; see %s", nlog);
			goto out;
		}
		json_t *st = NULL;
		struct lb_errmsg e3;
		lb_errclear(&e3);
		if (lb_client_get(own, "/v1/status", &st, &e3) == 0) {
			json_t *ch = json_object_get(st, "chains");
			long long h = json_integer_value(
				json_object_get(json_object_get(ch, "business"), "height"));
			bool member = json_is_true(
				json_object_get(json_object_get(st, "consortium"), "member"));
			bool avail = json_is_true(
				json_object_get(json_object_get(st, "ordering"), "available"));
			if (h != last) {
				printf("      business height %lld of %lld\n", h, want);
				fflush(stdout);
				last = h;
			}
			if (avail && member && h >= want) {
				printf("[4/4] caught up: settlement %lld, directory %lld, business %lld; "
				       "this node is consortium member '%s' and orders through etcd\n",
				       (long long)json_integer_value(json_object_get(
					       json_object_get(ch, "settlement"), "height")),
				       (long long)json_integer_value(json_object_get(
					       json_object_get(ch, "directory"), "height")),
				       h, BS("member_name"));
				json_decref(st);
				rc = 0;
				break;
			}
		}
		json_decref(st);
		sleep_ms(500);
	}
	if (rc)
		cli_failf(CMD, "the node did not catch up within %ld s (it keeps running; see %s)",
			  timeout_s, nlog);
	else
		printf("etcd and the node run in the background: pids in %s and %s\n", pidf, npid);
out:
#undef BS
	json_decref(b);
	return rc;
}
