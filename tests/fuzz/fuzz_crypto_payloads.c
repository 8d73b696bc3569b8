/* libFuzzer harness for the security toolkit's decoders: the first byte picks one (Shamir
 * share, guardian record, multi-signature policy, multi-signature against a fixed policy,
 * keys.reset payload, recovery record, KES key file); the rest is its input. Decoders must
 * refuse bad input with an error code; whatever they accept must re-encode to the same bytes
 * (canonical form). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/kes.h"
#include "leben/shamir.h"
#include "leben/zkp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[LB_GUARDIAN_RECORD_MAXBYTES + LB_MSIG_POLICY_MAXBYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lb_guardian_record gr;
	static struct lb_msig_policy pol;
	struct lb_errmsg em;
	size_t len;

	if (size < 1 || sodium_init() < 0)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 7) {
	case 0: {
		struct lb_shamir_info info;
		uint8_t secret[LB_SHAMIR_MAX_SECRET];
		const uint8_t *two[2] = {p, p};
		lb_shamir_share_info(p, n, &info, &em);
		lb_shamir_combine(two, 2, n, secret, &len, &em);
		if (n >= 2 && n <= LB_SHAMIR_MAX_SECRET)
			lb_shamir_combine_raw(two, 1, n, secret, &em);
		break;
	}
	case 1:
		if (lb_guardian_record_decode(&gr, p, n, &em) == LB_OK) {
			if (lb_guardian_record_encode(&gr, out, &len, &em) != LB_OK || len != n ||
			    memcmp(out, p, n) != 0)
				__builtin_trap();
		}
		break;
	case 2:
		if (lb_msig_policy_decode(&pol, p, n, &em) == LB_OK) {
			if (lb_msig_policy_encode(&pol, out, &len, &em) != LB_OK || len != n ||
			    memcmp(out, p, n) != 0)
				__builtin_trap();
		}
		break;
	case 3: {
		/* a fixed 2-of-3 policy; the input is the multi-signature, message "m" */
		memset(&pol, 0, sizeof pol);
		pol.n = 3;
		pol.threshold = 2;
		pol.epoch_blocks = 1;
		for (int i = 0; i < 3; i++)
			memset(pol.owners[i], i + 1, 32);
		lb_msig_verify(&pol, 0, (const uint8_t *)"m", 1, p, n, &em);
		break;
	}
	case 4: {
		struct lb_keyreset r;
		if (lb_keyreset_decode(&r, p, n, &em) == LB_OK) {
			if (lb_keyreset_encode(&r, out, &len, &em) != LB_OK || len != n ||
			    memcmp(out, p, n) != 0)
				__builtin_trap();
		}
		break;
	}
	case 5: {
		struct lb_zk_recovery rec;
		if (lb_zk_recovery_decode(&rec, p, n, &em) == LB_OK) {
			lb_zk_recovery_encode(&rec, out);
			if (memcmp(out, p, n) != 0)
				__builtin_trap();
		}
		break;
	}
	default: {
		struct lb_kes_sk sk;
		if (lb_kes_sk_decode(&sk, p, n, &em) == LB_OK) {
			uint8_t sig[LB_KES_SIGBYTES], vk[32];
			lb_kes_sign(&sk, (const uint8_t *)"m", 1, sig);
			lb_kes_sk_vk(&sk, vk);
			lb_kes_verify(vk, sk.period, (const uint8_t *)"m", 1, sig);
			lb_kes_sk_wipe(&sk);
		}
		break;
	}
	}
	return 0;
}
