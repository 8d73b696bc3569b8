/*
 * Unit tests of the API client (src/api/client.c) against a small libmicrohttpd server made
 * here with canned replies: JSON success, an error reply mapped back to its lb_err and
 * message, unknown error names mapped by HTTP status, non-JSON replies, POST bodies, and a
 * node that is not running (LB_EUNAVAILABLE with advice).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "test.h"

#include "leben/api.h"
#include "leben/base.h"

struct upload {
	char buf[4096]; /* body received so far */
	size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *size, void **ctx)
{
	struct upload *u = *ctx;
	if (!u) {
		*ctx = calloc(1, sizeof *u);
		return *ctx ? MHD_YES : MHD_NO;
	}
	if (*size) {
		size_t n = *size < sizeof u->buf - 1 - u->len ? *size : sizeof u->buf - 1 - u->len;
		memcpy(u->buf + u->len, data, n);
		u->len += n;
		*size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/ok"))
		return reply(c, 200, "{\"a\":1}");
	if (!strcmp(url, "/err"))
		return reply(c, 422, "{\"error\":{\"code\":\"LB_ENONCEGAP\",\"message\":\"gap here\"}}");
	if (!strcmp(url, "/future"))
		return reply(c, 404, "{\"error\":{\"code\":\"LB_EFUTURE\",\"message\":\"newer node\"}}");
	if (!strcmp(url, "/notjson"))
		return reply(c, 200, "hello");
	if (!strcmp(url, "/html500"))
		return reply(c, 500, "<html>oops</html>");
	if (!strcmp(url, "/echo") && !strcmp(method, "POST"))
		return reply(c, 200, u->buf);
	return reply(c, 404, "{}");
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
		    enum MHD_RequestTerminationCode toe)
{
	free(*ctx);
	*ctx = NULL;
}

static struct MHD_Daemon *daemon_;
static char base[64];

static int setup(void **state)
{
	daemon_ = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
				   on_req, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
				   MHD_OPTION_END);
	if (!daemon_)
		return -1;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)di->port);
	return 0;
}

static int teardown(void **state)
{
	MHD_stop_daemon(daemon_);
	return 0;
}

static void test_ok(void **state)
{
	json_t *j = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_client_get(base, "/ok", &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
	json_decref(j);
}

static void test_error_reply(void **state)
{
	json_t *j = (json_t *)1;
	struct lb_errmsg em;
	assert_int_equal(lb_client_get(base, "/err", &j, &em), LB_ENONCEGAP);
	assert_null(j);
	assert_int_equal(em.code, LB_ENONCEGAP);
	assert_string_equal(em.text, "gap here");
	/* A code this client does not know: fall back on the HTTP status. */
	assert_int_equal(lb_client_get(base, "/future", &j, &em), LB_ENOTFOUND);
	assert_string_equal(em.text, "newer node");
	assert_int_equal(lb_client_get(base, "/html500", &j, &em), LB_EUNAVAILABLE);
	assert_non_null(strstr(em.text, "HTTP 500"));
	assert_int_equal(lb_client_get(base, "/notjson", &j, &em), LB_EMALFORMED);
	assert_non_null(strstr(em.text, "not JSON"));
}

static void test_post(void **state)
{
	json_t *j = NULL, *body = json_pack("{s:[s,s]}", "txs", "00ff", "abcd");
	struct lb_errmsg em;
	assert_lb_ok(lb_client_post(base, "/echo", body, &j, &em));
	assert_true(json_equal(j, body));
	json_decref(j);
	json_decref(body);
}

static void test_no_node(void **state)
{
	/* A port nobody listens on: bind one, close it, then connect. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	json_t *j = NULL;
	struct lb_errmsg em;
	assert_int_equal(lb_client_get(url, "/v1/status", &j, &em), LB_EUNAVAILABLE);
	assert_non_null(strstr(em.text, "is the node running?"));
	assert_non_null(strstr(em.text, "leben node --home"));
	assert_int_equal(lb_client_get("nope://x", "/v1/status", &j, &em), LB_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_no_node),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
