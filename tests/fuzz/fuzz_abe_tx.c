/* libFuzzer harness for the CP-ABE chain payloads and the policy epoch rewriting
 * (abe_tx.h). Nothing may crash; a decoded payload re-encodes to the same bytes; a policy
 * given its epochs and stripped again is the policy it was.
 * First byte: 0 abe.issue, 1 abe.revoke, 2 abe.seal, 3 policy epochs, 4 attribute split. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/abe_tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct lb_buf *b, const uint8_t *data, size_t size)
{
	if (b->len != size || memcmp(b->data, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lb_abe_issue_tx issue;
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	struct lb_buf b;
	lb_buf_init(&b, 1u << 20);
	if (mode == 0) {
		if (lb_abe_issue_tx_decode(data, size, &issue, NULL) == LB_OK) {
			if (lb_abe_issue_tx_encode(&issue, &b))
				abort();
			same(&b, data, size);
		}
	} else if (mode == 1) {
		struct lb_abe_revoke_tx t;
		if (lb_abe_revoke_tx_decode(data, size, &t, NULL) == LB_OK) {
			if (lb_abe_revoke_tx_encode(&t, &b))
				abort();
			same(&b, data, size);
		}
	} else if (mode == 2) {
		struct lb_abe_seal_tx t;
		if (lb_abe_seal_tx_decode(data, size, &t, NULL) == LB_OK) {
			if (lb_abe_seal_tx_encode(&t, &b))
				abort();
			same(&b, data, size);
		}
	} else if (mode == 3 && size <= LB_ABE_MAX_POLICY) {
		char text[LB_ABE_MAX_POLICY + 1], *v = NULL, *p = NULL;
		memcpy(text, data, size);
		text[size] = 0;
		json_t *auth = json_pack("{s:{s:i,s:i}}", "epochs", "a", 3, "ward:4", 12);
		if (lb_abe_tx_versioned_policy(&v, text, auth, NULL) == LB_OK) {
			if (lb_abe_policy_check(v, NULL) != LB_OK ||
			    lb_abe_tx_plain_policy(&p, v, NULL) != LB_OK || strcmp(p, text) != 0)
				abort();
		}
		json_decref(auth);
		lb_free(v);
		lb_free(p);
	} else if (mode == 4 && size <= LB_ABE_MAX_ATTR) {
		char text[LB_ABE_MAX_ATTR + 1], base[LB_ABE_BASE_MAX + 1];
		uint64_t ep;
		memcpy(text, data, size);
		text[size] = 0;
		(void)lb_abe_attr_split(text, base, &ep);
		(void)lb_abe_base_check(text, NULL);
	}
	lb_buf_release(&b);
	return 0;
}
