/* libFuzzer harness for near-duplicate text (canonical form, fingerprint, encoding), the code
 * checks (SNOMED CT, ICD-10), FHIR date/dateTime/instant checks, and the cell walk of a
 * table's code columns. Invariants: identical input gives identical fingerprints with
 * similarity 1; a fingerprint round-trips through its encoding; scores stay in range. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_audit.h"
#include "leben/data_coding.h"
#include "leben/data_dedup.h"
#include "leben/data_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct lb_text_fp a, b, c;
	if (lb_text_fingerprint(s, size, &a) != LB_OK || lb_text_fingerprint(s, size, &b) != LB_OK)
		return 0;
	bool differ = true;
	if (lb_text_similarity(&a, &b, &differ) != 1.0 || differ)
		abort();
	uint8_t enc[LB_TEXT_FP_SIZE];
	lb_text_fp_encode(&a, enc);
	if (lb_text_fp_decode(enc, sizeof enc, &c) != LB_OK || memcmp(&a, &c, sizeof a))
		abort();
	struct lb_buf buf;
	lb_buf_init(&buf, 1u << 26);
	(void)lb_text_canonical(s, size, &buf);
	lb_buf_release(&buf);
	/* the input as one code and one date */
	char one[64];
	size_t n = size < sizeof one - 1 ? size : sizeof one - 1;
	memcpy(one, data, n);
	one[n] = 0;
	char out[128], why[128];
	for (int sys = LB_CODE_OTHER; sys <= LB_CODE_SNOMED; sys++) {
		struct lb_errmsg em;
		(void)lb_code_check((enum lb_code_system)sys, one, NULL, &em);
		(void)lb_code_facet_entry((enum lb_code_system)sys, one, NULL, out, sizeof out);
	}
	for (int k = DATA_FHIR_DATE; k <= DATA_FHIR_INSTANT; k++)
		(void)data_fhir_date_check(one, (enum data_fhir_time)k, why, sizeof why);
	(void)lb_audit_code_column(one, NULL);
	/* the input as a table with code columns */
	struct lb_csv_profile p;
	struct lb_errmsg em;
	if (lb_csv_profile(s, size, NULL, &p, &em) == LB_OK) {
		struct lb_asset_audit *au = malloc(sizeof *au);
		if (au && lb_audit_table_codes(s, size, &p, NULL, au) == LB_OK &&
		    (au->score > 10000 || au->check[0].passed > au->check[0].total))
			abort();
		free(au);
		struct lb_audit t;
		if (lb_audit_table(&p, NULL, &t, &em) == LB_OK) {
			if (t.score > 10000)
				abort();
			lb_audit_release(&t);
		}
		lb_csv_profile_release(&p);
	}
	return 0;
}
