/*
 * Unit tests of the API server's mutual TLS (src/api/server.c): bad TLS settings are refused
 * at start with a specific error and no server; a started HTTPS server answers a client with
 * a certificate from its CA past the check (an unknown path: 404 from the router), and refuses
 * a client without a certificate and one from a foreign CA (LB_EUNAUTH) before routing, through
 * the API client with LEBEN_TLS_* as the CLI sets them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

#include "leben/api.h"
#include "leben/base.h"
#include "leben/ca.h"

static char root[64];
static char path_buf[8][160];

static const char *p(int i, const char *rel)
{
	snprintf(path_buf[i], sizeof path_buf[i], "%s/%s", root, rel);
	return path_buf[i];
}

static int setup(void **state)
{
	snprintf(root, sizeof root, "/tmp/leben-apitls-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	struct lb_errmsg em;
	struct lb_ca_subject s = {.name = "node-a", .days = 30};
	struct lb_ca_subject f = {.name = "intruder", .days = 30};
	if (lb_ca_init(p(0, "ca"), "test-consortium", 30, &em) ||
	    lb_ca_issue(p(0, "ca"), p(1, "a"), &s, 0, &em) ||
	    lb_ca_init(p(0, "fca"), "foreign", 30, &em) ||
	    lb_ca_issue(p(0, "fca"), p(1, "f"), &f, 0, &em))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void opts(struct lb_api_options *o, const char *cert, const char *key, const char *ca)
{
	lb_api_options_init(o);
	o->threads = 2;
	o->tls_cert = cert;
	o->tls_key = key;
	o->tls_ca = ca;
}

static void test_bad_settings(void **state)
{
	struct lb_api_options o;
	struct lb_api *a = NULL;
	struct lb_errmsg em;
	/* a certificate alone: the key and the CA are missing */
	opts(&o, p(0, "a/node.pem"), NULL, NULL);
	assert_int_equal(lb_api_start(&a, NULL, &o, &em), LB_EINVALID);
	assert_null(a);
	/* a missing key file: named in the message */
	opts(&o, p(0, "a/node.pem"), p(1, "a/absent.key"), p(2, "a/ca.pem"));
	assert_int_equal(lb_api_start(&a, NULL, &o, &em), LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "node key"));
	assert_null(a);
	/* a file that is not PEM as the CA */
	FILE *fp = fopen(p(3, "junk.pem"), "w");
	assert_non_null(fp);
	fputs("not a certificate\n", fp);
	fclose(fp);
	opts(&o, p(0, "a/node.pem"), p(1, "a/node.key"), p(3, "junk.pem"));
	assert_int_equal(lb_api_start(&a, NULL, &o, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "consortium CA"));
	assert_null(a);
	/* a key that is not the certificate's: libmicrohttpd refuses to start */
	opts(&o, p(0, "a/node.pem"), p(1, "f/node.key"), p(2, "a/ca.pem"));
	assert_int_equal(lb_api_start(&a, NULL, &o, &em), LB_EIO);
	assert_null(a);
}

static int get_as(const char *url, const char *dir, const char *ca, struct lb_errmsg *em)
{
	char cert[200], key[200];
	if (dir) {
		snprintf(cert, sizeof cert, "%s/%s/node.pem", root, dir);
		snprintf(key, sizeof key, "%s/%s/node.key", root, dir);
		setenv("LEBEN_TLS_CERT", cert, 1);
		setenv("LEBEN_TLS_KEY", key, 1);
	} else {
		unsetenv("LEBEN_TLS_CERT");
		unsetenv("LEBEN_TLS_KEY");
	}
	setenv("LEBEN_TLS_CA", ca, 1);
	json_t *out = NULL;
	lb_errclear(em);
	int rc = lb_client_get(url, "/v1/no-such-route", &out, em);
	json_decref(out);
	return rc;
}

static void test_mutual_tls(void **state)
{
	struct lb_api_options o;
	struct lb_api *a = NULL;
	struct lb_errmsg em;
	opts(&o, p(4, "a/node.pem"), p(5, "a/node.key"), p(6, "a/ca.pem"));
	assert_lb_ok(lb_api_start(&a, NULL, &o, &em));
	char url[64];
	snprintf(url, sizeof url, "https://127.0.0.1:%u", (unsigned)lb_api_port(a));
	/* a member: past the certificate check, the router answers 404 */
	assert_int_equal(get_as(url, "a", p(6, "a/ca.pem"), &em), LB_ENOTFOUND);
	/* no certificate, and one from a foreign CA: refused before routing */
	assert_int_equal(get_as(url, NULL, p(6, "a/ca.pem"), &em), LB_EUNAUTH);
	assert_non_null(strstr(em.text, "client certificate"));
	assert_int_equal(get_as(url, "f", p(6, "a/ca.pem"), &em), LB_EUNAUTH);
	assert_non_null(strstr(em.text, "consortium CA"));
	/* the client trusting another CA refuses the node itself */
	assert_int_equal(get_as(url, "a", p(7, "f/ca.pem"), &em), LB_EUNAUTH);
	/* plain HTTP to the HTTPS port gets no LEBEN answer */
	snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)lb_api_port(a));
	assert_int_not_equal(get_as(url, "a", p(6, "a/ca.pem"), &em), LB_ENOTFOUND);
	lb_api_stop(a);
	unsetenv("LEBEN_TLS_CERT");
	unsetenv("LEBEN_TLS_KEY");
	unsetenv("LEBEN_TLS_CA");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_mutual_tls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
