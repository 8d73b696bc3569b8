/* libFuzzer harness for the hexahedron, asset-tx and provenance-tx decoders. Property: whatever decodes
 * re-encodes to exactly the input bytes (the encoding is canonical). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/data_hexa.h"
#include "leben/data_tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_hexa h;
	struct lb_errmsg em;
	if (lb_hexa_decode(data, size, &h, &em) == LB_OK) {
		struct lb_buf b;
		lb_buf_init(&b, LB_HEXA_MAX_ENCODED * 2);
		if (lb_hexa_encode(&h, &b) != LB_OK || b.len != size || memcmp(b.data, data, size))
			abort(); /* not canonical */
		lb_buf_release(&b);
		lb_hexa_check(&h, false, &em);
		json_t *j = lb_hexa_to_json(&h);
		json_decref(j);
		lb_hexa_release(&h);
	}
	struct lb_asset_tx tx;
	if (lb_asset_tx_decode(data, size, &tx, &em) == LB_OK) {
		struct lb_buf b;
		lb_buf_init(&b, LB_HEXA_MAX_ENCODED * 4);
		if (lb_asset_tx_encode(&tx, &b) != LB_OK || b.len != size || memcmp(b.data, data, size))
			abort();
		lb_buf_release(&b);
		lb_asset_tx_check(&tx, &em);
	}
	struct lb_prov_tx p;
	if (lb_prov_tx_decode(data, size, &p, &em) == LB_OK) {
		struct lb_buf b;
		lb_buf_init(&b, 4096);
		if (lb_prov_tx_encode(&p, &b) != LB_OK || b.len != size || memcmp(b.data, data, size))
			abort();
		lb_buf_release(&b);
	}
	struct lb_readers_tx r;
	if (lb_readers_tx_decode(data, size, &r, &em) == LB_OK) {
		struct lb_buf b;
		lb_buf_init(&b, LB_HEXA_MAX_ENCODED * 2);
		if (lb_readers_tx_encode(&r, &b) != LB_OK || b.len != size || memcmp(b.data, data, size))
			abort();
		lb_buf_release(&b);
	}
	return 0;
}
