/*
 * The web app served by the node at every path outside /v1/ (docs/web.md). Its files are built
 * from web/ by npm at `make` time and embedded in the leben binary by a generated table
 * (build/web/gen/web_assets.c, strong api_web_table); a build without them (WEB=0, unit tests,
 * fuzzers) links the weak empty table below and answers with a page that says so. Hashed
 * assets under /assets/ are cached for a year, index.html is revalidated by ETag; a gzip copy
 * is sent to clients that accept it; any other path without an extension is the app's own
 * route and gets index.html.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "api/api_int.h"
#include "api/web.h"
#include "leben/error.h"

/* What the page may load: only the node itself (WebAssembly for libsodium; no inline script
 * or style), never another origin. */
#define WEB_CSP                                                                              \
	"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "         \
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; "                          \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

__attribute__((weak)) const struct api_web_asset *api_web_table(size_t *n)
{
	*n = 0;
	return NULL;
}

static const char not_built[] =
	"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>LEBEN node</title>"
	"<h1>LEBEN node</h1><p>This build of leben has no web app in it (it was built with "
	"WEB=0). The JSON API is at <a href=\"/v1/status\">/v1/status</a>; build with "
	"<code>make</code> to serve the app here.</p></html>";

static const struct api_web_asset *find(const struct api_web_asset *t, size_t n, const char *p)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].path, p))
			return &t[i];
	return NULL;
}

/* The client takes gzip: "gzip" listed in Accept-Encoding, not with q=0. */
static bool takes_gzip(struct MHD_Connection *c)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT_ENCODING);
	const char *g = ae ? strstr(ae, "gzip") : NULL;
	if (!g)
		return false;
	g += 4;
	while (*g == ' ')
		g++;
	if (*g == ';') {
		const char *q = strstr(g, "q=");
		if (q && (!strncmp(q, "q=0,", 4) || !strcmp(q, "q=0") || !strncmp(q, "q=0.0", 5) ||
			  !strncmp(q, "q=0 ", 4)))
			return false;
	}
	return true;
}

static void common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", WEB_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
				 const char *text, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	common_headers(r);
	enum MHD_Result mr = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return mr;
}

enum MHD_Result api_web_serve(struct MHD_Connection *c, const char *url, const char *method)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
				 "{\"error\":{\"code\":\"LB_EUSAGE\",\"message\":\"the web app's "
				 "files are read with GET or HEAD\"}}",
				 "GET, HEAD");
	size_t n;
	const struct api_web_asset *t = api_web_table(&n);
	if (!n)
		return send_text(c, MHD_HTTP_OK, "text/html; charset=utf-8", not_built, NULL);
	const struct api_web_asset *f = find(t, n, url);
	if (!f) {
		const char *last = strrchr(url, '/');
		if (!strncmp(url, "/assets/", 8) || (last && strchr(last, '.')))
			return send_text(c, MHD_HTTP_NOT_FOUND, "application/json",
					 "{\"error\":{\"code\":\"LB_ENOTFOUND\",\"message\":\"no such "
					 "file of the web app (reload the page: the node may have "
					 "been upgraded)\"}}",
					 NULL);
		f = find(t, n, "/index.html"); /* a route of the app itself */
		if (!f)
			return send_text(c, MHD_HTTP_NOT_FOUND, "text/plain", "no index.html", NULL);
	}
	bool immutable = !strncmp(f->path, "/assets/", 8);
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool gz = f->gz && takes_gzip(c);
	bool fresh = inm && strstr(inm, f->etag);
	struct MHD_Response *r =
		fresh ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
		      : MHD_create_response_from_buffer(gz ? f->gz_len : f->len,
							(void *)(gz ? f->gz : f->data),
							MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
				immutable ? "public, max-age=31536000, immutable" : "no-cache");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
	if (f->gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (gz && !fresh)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	common_headers(r);
	enum MHD_Result mr = MHD_queue_response(c, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return mr;
}
