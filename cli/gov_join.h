/* Admission commands of `leben governance` (cmd_gov_join.c). */
#ifndef LEBEN_CLI_GOV_JOIN_H
#define LEBEN_CLI_GOV_JOIN_H

struct gov_join_opts {
	const char *home, *node;                      /* this home; its node's API (admit-node) */
	const char *member, *name, *etcd_name;        /* admit-node: who, node id, etcd name */
	const char *etcd_peer_url, *etcd_client_url;  /* admit-node: the new etcd member's URLs */
	const char *ca, *out;                         /* admit-node: CA directory, bundle to write */
	const char *etcd_endpoints;                   /* admit-node: override config.json */
	const char *bundle, *etcd_data, *etcd_bin;    /* join */
	const char *timeout, *api_port;               /* join: seconds; the new node's API port */
};

/* An existing member, after the admission vote passed: certificates, etcd learner, bundle. */
int gov_admit_node(const struct gov_join_opts *o);
/* The new institution: install, start etcd, get promoted, start the node, follow it. */
int gov_join(const struct gov_join_opts *o);

#endif
