/*
 * The web app's file server (web.c), called by the access handler of server.c for every path
 * outside /v1/. Kept apart from api_int.h because it takes libmicrohttpd types.
 */
#ifndef LEBEN_API_WEB_H
#define LEBEN_API_WEB_H

#include <microhttpd.h>

/* Answer GET/HEAD of url with an embedded file, index.html for the app's own routes, 404 for
 * a missing asset, 405 for other methods. */
enum MHD_Result api_web_serve(struct MHD_Connection *c, const char *url, const char *method);

#endif
