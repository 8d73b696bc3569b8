/* `leben tls`: check mutual-TLS links between consortium nodes: connect to a node, or accept
 * one connection, with the node's certificate, the consortium CA and a node-id check. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "leben/base.h"
#include "leben/tls.h"

static const char tls_help[] =
	"usage: leben tls connect HOST:PORT --ca CA.pem --cert NODE.pem --key NODE.key\n"
	"                         [--node-id ID] [--send TEXT] [--crl CRL.pem] [--json]\n"
	"       leben tls serve PORT --ca CA.pem --cert NODE.pem --key NODE.key\n"
	"                         [--node-id ID] [--crl CRL.pem] [--json]\n"
	"\n"
	"Test a mutual-TLS link between consortium nodes (TLS 1.3, both sides show a certificate\n"
	"signed by the consortium CA; nothing else is trusted).\n"
	"\n"
	"  connect  open a connection to HOST:PORT, check the peer's certificate (and that it\n"
	"           belongs to --node-id), send TEXT if given, print what the peer answers\n"
	"  serve    accept one connection on 127.0.0.1:PORT, check the client's certificate (and\n"
	"           --node-id), echo one message back, then exit\n"
	"  --crl    the consortium CA's revocation lists: refuse revoked certificates (and any\n"
	"           peer when the list has expired: ask the CA for a fresh one)\n"
	"Exit status 0 if the peer was accepted, 1 if it was refused (the reason is printed).\n";

int cmd_tls(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ca", required_argument, 0, 'a'},   {"cert", required_argument, 0, 'c'},
		{"key", required_argument, 0, 'k'},  {"node-id", required_argument, 0, 'n'},
		{"send", required_argument, 0, 's'}, {"json", no_argument, 0, 'j'},
		{"crl", required_argument, 0, 'r'},
		{"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
	struct lb_tls_config cfg = {0};
	const char *node = NULL, *send = NULL, *sub, *target;
	int json = 0, c, rc, server;
	lb_tls_ctx *ctx = NULL;
	lb_tls_conn *conn = NULL;
	struct lb_errmsg em;
	char peer[256] = "", buf[4096];
	size_t got = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(tls_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': cfg.ca_file = optarg; break;
		case 'c': cfg.cert_file = optarg; break;
		case 'k': cfg.key_file = optarg; break;
		case 'r': cfg.crl_file = optarg; break;
		case 'n': node = optarg; break;
		case 's': send = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(tls_help, stdout); return 0;
		default: fputs(tls_help, stderr); return 2;
		}
	}
	if (optind + 1 >= argc || (strcmp(sub, "connect") && strcmp(sub, "serve"))) {
		fputs(tls_help, stderr);
		return 2;
	}
	target = argv[optind + 1];
	server = !strcmp(sub, "serve");
	rc = lb_tls_ctx_new(&ctx, server, &cfg, &em);
	if (rc != LB_OK)
		goto fail;
	if (server) {
		int lfd = lb_tls_listen(NULL, target, &em), fd;
		if (lfd < 0) {
			rc = em.code;
			goto fail;
		}
		fd = accept(lfd, NULL, NULL);
		close(lfd);
		if (fd < 0) {
			rc = lb_errf(&em, LB_EIO, "tls: accept failed");
			goto fail;
		}
		rc = lb_tls_server(ctx, fd, node, &conn, &em);
		if (rc != LB_OK)
			goto fail;
		lb_tls_peer_id(conn, peer, sizeof peer);
		rc = lb_tls_read(conn, buf, sizeof buf - 1, &got, &em);
		if (rc == LB_OK && got)
			rc = lb_tls_write(conn, buf, got, &em);
	} else {
		char host[256];
		const char *colon = strrchr(target, ':');
		if (!colon || (size_t)(colon - target) >= sizeof host) {
			fprintf(stderr, "leben tls connect: give the peer as HOST:PORT\n");
			lb_tls_ctx_free(ctx);
			return 2;
		}
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = 0;
		rc = lb_tls_dial(ctx, host, colon + 1, node, &conn, &em);
		if (rc != LB_OK)
			goto fail;
		lb_tls_peer_id(conn, peer, sizeof peer);
		if (send) {
			rc = lb_tls_write(conn, send, strlen(send), &em);
			if (rc == LB_OK)
				rc = lb_tls_read(conn, buf, sizeof buf - 1, &got, &em);
		}
	}
	if (rc != LB_OK)
		goto fail;
	buf[got] = 0;
	if (json)
		printf("{\"accepted\":true,\"peer\":\"%s\",\"protocol\":\"TLSv1.3\",\"received\":%zu}\n",
		       peer, got);
	else
		printf("accepted peer %s (TLSv1.3)%s%s\n", peer, got ? "; received: " : "",
		       got ? buf : "");
	lb_tls_close(conn);
	lb_tls_ctx_free(ctx);
	return 0;
fail:
	if (json)
		printf("{\"accepted\":false,\"error\":\"%s\"}\n", lb_errname(rc));
	fprintf(stderr, "leben tls %s: %s [%s]\n", sub, em.text, lb_errname(rc));
	lb_tls_close(conn);
	lb_tls_ctx_free(ctx);
	return 1;
}
