/* libFuzzer harness for the consortium decoders: the first byte picks the governance.propose,
 * governance.vote, checkpoint, governance.vouch, governance.rekey, governance.removal,
 * governance.follow or ca.cosign payload, or one of the state records (member list, proposal,
 * open list, a certificate's co-signers). Arbitrary bytes must never crash a decoder, and whatever one accepts must
 * encode back to exactly the same bytes (one canonical form). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consortium/consortium_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct lb_buf *b, const uint8_t *p, size_t n)
{
	if (b->len != n || (n && memcmp(b->data, p, n)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gov_members m;
	static struct gov_prop gp;
	static struct gov_open go;
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 20);
	switch (data[0] % 12) {
	case 0: {
		struct lb_gov_proposal x;
		if (lb_gov_proposal_decode(&x, p, n, NULL) == LB_OK &&
		    lb_gov_proposal_encode(&b, &x) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 1: {
		struct lb_gov_vote x;
		if (lb_gov_vote_decode(&x, p, n, NULL) == LB_OK && lb_gov_vote_encode(&b, &x) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 2: {
		struct lb_checkpoint x;
		if (lb_checkpoint_decode(&x, p, n, NULL) == LB_OK &&
		    lb_checkpoint_encode(&b, &x) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 3:
		if (gov_members_decode(&m, p, n) == LB_OK && gov_members_encode(&b, &m) == LB_OK)
			same(&b, p, n);
		break;
	case 4:
		if (gov_prop_decode(&gp, p, n) == LB_OK && gov_prop_encode(&b, &gp) == LB_OK)
			same(&b, p, n);
		break;
	case 6: {
		struct lb_gov_vouch x;
		if (lb_gov_vouch_decode(&x, p, n, NULL) == LB_OK &&
		    lb_gov_vouch_encode(&b, &x) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 7: {
		struct lb_gov_rekey x;
		if (lb_gov_rekey_decode(&x, p, n, NULL) == LB_OK &&
		    lb_gov_rekey_encode(&b, &x) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 8: {
		struct lb_gov_removal x;
		if (lb_gov_removal_decode(&x, p, n, NULL) == LB_OK &&
		    lb_gov_removal_encode(&b, &x) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 9: {
		struct lb_gov_follow x;
		if (lb_gov_follow_decode(&x, p, n, NULL) == LB_OK &&
		    lb_gov_follow_encode(&b, x.tx, x.tx_len, x.proof, x.proof_len) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 10: {
		struct lb_ca_cosign x;
		if (lb_ca_cosign_decode(&x, p, n, NULL) == LB_OK && lb_ca_cosign_encode(&b, &x) == LB_OK)
			same(&b, p, n);
		break;
	}
	case 11: {
		static struct gov_cert gc;
		if (gov_cert_decode(&gc, p, n) == LB_OK && gov_cert_encode(&b, &gc) == LB_OK)
			same(&b, p, n);
		break;
	}
	default:
		if (gov_open_decode(&go, p, n) == LB_OK && gov_open_encode(&b, &go) == LB_OK)
			same(&b, p, n);
		break;
	}
	lb_buf_release(&b);
	return 0;
}
