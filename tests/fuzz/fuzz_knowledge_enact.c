/* libFuzzer harness: operations given to a PROformajs-rules enactment (lb_kn_enactment_apply,
 * what `leben contract run --answers OPS.json` and --resume feed it). The input is one
 * operation per line, applied to a fixed protocol (an enquiry with a requested source, a
 * decision with auto-confirmation, a cyclic action, a trigger). Every refusal says why; a
 * malformed operation changes nothing; the state and the pending view are always readable;
 * replaying the saved operations on a new enactment gives the same state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/knowledge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char protocol[] =
	"{\"class\":\"Plan\",\"name\":\"p\",\"dataDefinitions\":["
	"{\"class\":\"Integer\",\"name\":\"age\",\"range\":[1,50,70]},"
	"{\"class\":\"Boolean\",\"name\":\"smoker\"},"
	"{\"class\":\"Integer\",\"name\":\"score\",\"valueCondition\":\"age + 1\"}],"
	"\"tasks\":[{\"class\":\"Enquiry\",\"name\":\"ask\",\"sources\":[{\"type\":\"age\","
	"\"requestCondition\":\"!is_known('age')\"},{\"type\":\"smoker\"}]},"
	"{\"class\":\"Decision\",\"name\":\"dec\",\"waitCondition\":\"is_completed('ask')\","
	"\"candidates\":[{\"name\":\"yes\",\"autoConfirmRecommended\":true,"
	"\"recommendCondition\":\"net_support('yes') > 0\",\"arguments\":[{\"caption\":\"old\",\"support\":\"+\","
	"\"activeCondition\":\"age > 60\"}]},{\"name\":\"no\",\"recommendCondition\":"
	"\"net_support('no') >= 0\"}]},"
	"{\"class\":\"Action\",\"name\":\"act\",\"cyclic\":true,\"cycleUntil\":\"smoker\","
	"\"waitCondition\":\"is_completed('dec')\"},"
	"{\"class\":\"Task\",\"name\":\"late\",\"optional\":true,\"eventTrigger\":\"go\"}]}";

static char *state(struct lb_kn_enactment *e)
{
	char *s;
	struct lb_errmsg em;
	if (lb_kn_enactment_state(e, &s, &em) != LB_OK)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lb_kn_model *m;
	struct lb_errmsg em;
	if (size > 8192)
		return 0;
	if (m == NULL &&
	    lb_kn_model_parse(protocol, strlen(protocol), "fuzz", LB_KN_FORM_JSON, &m, &em) != LB_OK)
		abort();
	struct lb_kn_enactment *e, *r;
	if (lb_kn_enactment_new(m, &e, &em) != LB_OK)
		abort();
	char *buf = malloc(size + 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0;
	for (char *line = buf, *nl; line != NULL && line < buf + size; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = 0;
		char *before = state(e);
		lb_errclear(&em);
		int rc = lb_kn_enactment_apply(e, line, &em);
		if (rc != LB_OK && em.text[0] == 0)
			abort(); /* every refusal says why */
		char *after = state(e);
		if (rc == LB_EMALFORMED && strcmp(before, after) != 0)
			abort(); /* a malformed operation changes nothing */
		lb_free(before);
		lb_free(after);
		char *p;
		if (lb_kn_enactment_pending(e, &p, &em) != LB_OK)
			abort();
		lb_free(p);
	}
	free(buf);
	char *ops;
	if (lb_kn_enactment_ops(e, &ops, &em) != LB_OK || lb_kn_enactment_new(m, &r, &em) != LB_OK)
		abort();
	json_t *list = json_loads(ops, 0, NULL), *op;
	size_t i;
	if (!json_is_array(list))
		abort();
	json_array_foreach(list, i, op) {
		char *t = json_dumps(op, JSON_COMPACT);
		if (t == NULL || lb_kn_enactment_apply(r, t, &em) == LB_EMALFORMED)
			abort(); /* what was kept is well formed */
		free(t);
	}
	json_decref(list);
	char *s1 = state(e), *s2 = state(r);
	if (strcmp(s1, s2) != 0)
		abort(); /* the saved operations replay to the same state */
	lb_free(s1);
	lb_free(s2);
	lb_free(ops);
	lb_kn_enactment_free(r);
	lb_kn_enactment_free(e);
	return 0;
}
