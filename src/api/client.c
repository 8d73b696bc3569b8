/*
 * A small blocking client for the node's API on libcurl, used by the CLI. It turns the
 * server's {"error":{"code","message"}} replies back into lb_err codes and messages, and a
 * node that is not there into LB_EUNAVAILABLE with advice on starting it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "leben/api.h"
#include "leben/base.h"
#include "leben/crypto.h"

#define CLIENT_MAX_REPLY (256u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct lb_buf *b = ctx;
	size_t n = size * nmemb;
	return lb_buf_add(b, p, n) ? 0 : n;
}

/* Seconds from $LEBEN_TIMEOUT (whole request), default 120. */
static long request_timeout_ms(void)
{
	const char *t = getenv("LEBEN_TIMEOUT");
	long v = t ? strtol(t, NULL, 10) : 0;
	return (v > 0 ? v : 120) * 1000L;
}

static int map_curl_error(CURLcode cc, const char *url, const char *detail, struct lb_errmsg *em)
{
	const char *why = detail && *detail ? detail : curl_easy_strerror(cc);
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return lb_errf(em, LB_EUNAVAILABLE,
			       "no LEBEN node answers at %s (%s); is the node running? start it with 'leben node --home DIR', or point to it with --node URL",
			       url, why);
	case CURLE_OPERATION_TIMEDOUT:
		return lb_errf(em, LB_ETIMEOUT,
			       "the node at %s did not answer in time (%s); it may be overloaded — try again, or raise LEBEN_TIMEOUT (seconds)",
			       url, why);
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_INITFAILED:
		return lb_errf(em, LB_EUNAUTH,
			       "mutual TLS with the node at %s failed (%s); give this node's certificate, key and the consortium CA with --tls-cert/--tls-key/--tls-ca or LEBEN_TLS_CERT/KEY/CA (default <home>/tls/node.pem, node.key, ca.pem; make them with 'leben ca issue')",
			       url, why);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return lb_errf(em, LB_EUSAGE, "'%s' is not a usable node URL (%s); use e.g. http://127.0.0.1:7800",
			       url, why);
	default:
		return lb_errf(em, LB_EUNAVAILABLE, "talking to the node at %s failed: %s", url, why);
	}
}

/* Turn a reply into *out or an lb_err. */
static int take_reply(long status, struct lb_buf *b, const char *url, json_t **out,
		      struct lb_errmsg *em)
{
	json_error_t je;
	json_t *j = b->len ? json_loadb((const char *)b->data, b->len, 0, &je) : NULL;
	if (status >= 200 && status < 300) {
		if (!j)
			return lb_errf(em, LB_EMALFORMED,
				       "the node at %s sent a reply that is not JSON (HTTP %ld); is that URL a LEBEN node?",
				       url, status);
		*out = j;
		return LB_OK;
	}
	json_t *e = json_object_get(j, "error");
	const char *name = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (!msg) /* a FHIR OperationOutcome */
		msg = json_string_value(json_object_get(
			json_object_get(json_array_get(json_object_get(j, "issue"), 0), "details"),
			"text"));
	int code = lb_err_from_name(name);
	if (code <= 0) /* unknown to this version, or not a LEBEN reply */
		code = status == 404 ? LB_ENOTFOUND
		       : status == 413 || status == 431 ? LB_ETOOBIG
		       : status >= 500 ? LB_EUNAVAILABLE
				       : LB_EINVALID;
	if (msg)
		lb_errf(em, code, "%s", msg);
	else
		lb_errf(em, code, "the node at %s answered HTTP %ld (%s)", url, status,
			lb_strerror(code));
	json_decref(j);
	return code;
}

/* A request: GET without body; POST of body (JSON) or of raw bytes of raw_type, with extra
 * headers (taken over and freed). */
static int request(const char *base_url, const char *path, json_t *body, const uint8_t *raw,
		   size_t raw_len, const char *raw_type, struct curl_slist *extra, json_t **out,
		   struct lb_errmsg *em)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc)
		return lb_errf(em, LB_EINTERNAL, "libcurl could not start: %s",
			       curl_easy_strerror(curl_init_rc));
	char *url = NULL, *payload = NULL;
	struct curl_slist *hdrs = extra;
	struct lb_buf reply;
	char cerr[CURL_ERROR_SIZE] = "";
	int rc;
	lb_buf_init(&reply, CLIENT_MAX_REPLY);
	CURL *h = curl_easy_init();
	size_t ulen = strlen(base_url) + strlen(path) + 1;
	if (!h || !(url = lb_malloc(ulen))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory for an API request");
		goto out;
	}
	snprintf(url, ulen, "%s%s", base_url, path);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request_timeout_ms());
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		if (!payload) {
			rc = lb_errf(em, LB_ENOMEM, "could not encode the request body");
			goto out;
		}
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
	} else if (raw_type) {
		char ct[120];
		snprintf(ct, sizeof ct, "Content-Type: %s", raw_type);
		hdrs = curl_slist_append(hdrs, ct);
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, raw ? (const char *)raw : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)raw_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (!strncmp(base_url, "https://", 8)) {
		/* mutual TLS: our certificate, and the consortium CA as the only trust anchor */
		const char *cert = getenv("LEBEN_TLS_CERT"), *key = getenv("LEBEN_TLS_KEY");
		const char *ca = getenv("LEBEN_TLS_CA");
		curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		if (ca && *ca)
			curl_easy_setopt(h, CURLOPT_CAINFO, ca);
		if (cert && *cert)
			curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
		if (key && *key)
			curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	}
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		rc = cc == CURLE_WRITE_ERROR
			     ? lb_errf(em, LB_ETOOBIG, "the reply from %s is over %u MiB", url,
				       CLIENT_MAX_REPLY >> 20)
			     : map_curl_error(cc, base_url, cerr, em);
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	rc = take_reply(status, &reply, base_url, out, em);
out:
	free(payload);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	lb_free(url);
	lb_buf_release(&reply);
	return rc;
}

int lb_client_get(const char *base_url, const char *path, json_t **out, struct lb_errmsg *em)
{
	return request(base_url, path, NULL, NULL, 0, NULL, NULL, out, em);
}

int lb_client_post(const char *base_url, const char *path, json_t *body, json_t **out,
		   struct lb_errmsg *em)
{
	return request(base_url, path, body, NULL, 0, NULL, NULL, out, em);
}

/* The X-Leben-* headers signing a FHIR request (appended to h). */
static struct curl_slist *fhir_sign(struct curl_slist *h, const char *method, const char *path,
				    const uint8_t *body, size_t len, const struct lb_keypair *kp)
{
	char t[24], line[200], spath[1024], hex[2 * LB_SIG_LEN + 1];
	uint8_t msg[LB_HASH_LEN], sig[LB_SIG_LEN];
	snprintf(t, sizeof t, "%lld", (long long)time(NULL));
	snprintf(spath, sizeof spath, "%.*s", (int)strcspn(path, "?"), path);
	lb_fhir_request_digest(method, spath, t, body, len, msg);
	lb_sign(sig, msg, sizeof msg, kp);
	lb_hex_encode(hex, kp->pk, LB_PUBKEY_LEN);
	snprintf(line, sizeof line, "X-Leben-Key: %s", hex);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof line, "X-Leben-Time: %s", t);
	h = curl_slist_append(h, line);
	lb_hex_encode(hex, sig, sizeof sig);
	snprintf(line, sizeof line, "X-Leben-Signature: %s", hex);
	return curl_slist_append(h, line);
}

int lb_client_fhir_post(const char *base_url, const char *path, const char *content_type,
			const uint8_t *body, size_t len, const struct lb_keypair *kp, json_t **out,
			struct lb_errmsg *em)
{
	struct curl_slist *h = kp ? fhir_sign(NULL, "POST", path, body, len, kp) : NULL;
	return request(base_url, path, NULL, body, len, content_type, h, out, em);
}

int lb_client_fhir_get(const char *base_url, const char *path, const struct lb_keypair *kp,
		       json_t **out, struct lb_errmsg *em)
{
	struct curl_slist *h = kp ? fhir_sign(NULL, "GET", path, NULL, 0, kp) : NULL;
	return request(base_url, path, NULL, NULL, 0, NULL, h, out, em);
}
