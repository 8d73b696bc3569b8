/* libFuzzer harness: the json form of clinical contracts. Any input either is refused with a
 * message or parses; a parsed model prints in both forms, and each print parses back to the
 * same model (the lossless round trip); the .pf print only where that form can hold it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/knowledge.h"
#include "knowledge/kn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct lb_kn_model *m, enum lb_kn_form form)
{
	char *text;
	size_t len;
	struct lb_kn_model *back;
	struct lb_errmsg em;
	/* a PROformajs model the .pf form cannot hold (a name starting with a digit, a fraction
	 * in an Integer item, ...) is refused there with the element named, and only such a model */
	if (lb_kn_model_printable(m, form, &em) != LB_OK) {
		if (form == LB_KN_FORM_JSON || em.text[0] == 0)
			abort();
		return;
	}
	if (lb_kn_model_print(m, form, &text, &len) != LB_OK)
		abort();
	if (lb_kn_model_parse(text, len, "print", form, &back, &em) != LB_OK) {
		/* the JSON form is PROformajs's: a model only LEBEN's .pf accepts (a reserved
		 * word as a name, an undefined name) is refused there, and only such a model */
		if (form == LB_KN_FORM_JSON && kn_js_validate(m, "print", &em) != LB_OK) {
			lb_free(text);
			return;
		}
		abort();
	}
	if (!lb_kn_model_equal(m, back))
		abort();
	lb_kn_model_free(back);
	lb_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_kn_model *m;
	struct lb_errmsg em;
	if (size > 65536)
		return 0;
	if (lb_kn_model_parse((const char *)data, size, "fuzz", LB_KN_FORM_JSON, &m, &em) != LB_OK) {
		if (em.text[0] == 0)
			abort(); /* every refusal says why */
		return 0;
	}
	round_trip(m, LB_KN_FORM_PF);
	round_trip(m, LB_KN_FORM_JSON);
	lb_kn_model_free(m);
	return 0;
}
