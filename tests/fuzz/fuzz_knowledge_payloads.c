/* libFuzzer harness: the business-chain payloads of knowledge contracts. The first byte picks
 * the decoder (even: contract.session, odd: contract.publish), the rest is the payload. Any
 * input is refused with a message or decodes; a decoded payload passes the stateless check
 * and encodes back to exactly the same bytes (decoders accept only the canonical form). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/knowledge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_errmsg em;
	uint8_t *out = NULL;
	size_t len = 0;
	if (size < 1 || size > 70000)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	lb_errclear(&em);
	if ((data[0] & 1) == 0) {
		static struct lb_kn_session_payload s;
		if (lb_kn_session_payload_decode(p, n, &s, &em) != LB_OK) {
			if (em.text[0] == 0)
				abort();
			return 0;
		}
		if (lb_kn_session_payload_check(&s, NULL) != LB_OK ||
		    lb_kn_session_payload_encode(&s, &out, &len) != LB_OK)
			abort();
	} else {
		struct lb_kn_publish_payload pp;
		if (lb_kn_publish_payload_decode(p, n, &pp, &em) != LB_OK) {
			if (em.text[0] == 0)
				abort();
			return 0;
		}
		if (lb_kn_publish_payload_encode(&pp, &out, &len) != LB_OK)
			abort();
	}
	if (len != n || memcmp(out, p, n) != 0)
		abort();
	lb_free(out);
	return 0;
}
