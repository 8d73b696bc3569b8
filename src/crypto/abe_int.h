/*
 * Internals of the CP-ABE files: the policy tree (abe_policy.c) that abe.c shares secrets over
 * and reconstructs from. Not API.
 */
#ifndef LEBEN_ABE_INT_H
#define LEBEN_ABE_INT_H

#include "leben/abe.h"

/* A node of a policy: a k-of-n gate (AND is n-of-n, OR is 1-of-n) or an attribute leaf. */
struct abe_node {
	int k;                   /* threshold of a gate; 0 for a leaf */
	int n;                   /* number of children of a gate */
	struct abe_node **child; /* the children (owned) */
	char *attr;              /* a leaf's attribute (owned, NUL-terminated) */
	int leaf;                /* a leaf's row in the ciphertext, in text order */
};

/* Parses policy text into *root (free with abe_policy_free) with *leaves rows. LB_ESYNTAX with
 * the byte offset and what was expected, LB_ETOOBIG past LB_ABE_MAX_LEAVES or the depth limit. */
int abe_policy_parse(struct abe_node **root, int *leaves, const char *text, struct lb_errmsg *em);
void abe_policy_free(struct abe_node *node);
/* lambda[leaf] = the share of s at each leaf (linear: s = sum of omega * lambda below);
 * LB_ENOMEM is the only failure. */
int abe_policy_share(const struct abe_node *root, const struct lb_bls_scalar *s,
		     struct lb_bls_scalar *lambda);
/* Whether the attributes for which has() answers 1 satisfy the policy; if so used[leaf] and
 * omega[leaf] give a reconstruction: s = sum over used leaves of omega * lambda. */
int abe_policy_satisfy(const struct abe_node *root, int (*has)(const void *ctx, const char *attr),
		       const void *ctx, uint8_t *used, struct lb_bls_scalar *omega);
/* Whether c may appear in an attribute name */
int abe_attr_char(int c);

#endif
