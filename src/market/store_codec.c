/*
 * Payload codec of the knowledge store's txs (business chain, 0x0370-0x0377): one struct,
 * the fields of each type in a fixed order behind a version byte; codes checked for
 * structure and check digit. Also the names of outcomes and derivation relations.
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/data_coding.h"
#include "leben/market_store.h"

static const char *outcome_names[] = {"?",        "referral-confirmed", "referral-declined",
				      "adverse-event", "resolved",    "readmitted", "other"};
static const char *relation_names[] = {"?", "fork", "extend", "specialise"};

const char *lb_store_outcome_name(int o)
{
	return o >= 1 && o <= LB_STORE_OUT_KINDS ? outcome_names[o] : "?";
}

int lb_store_outcome_parse(const char *name)
{
	for (int i = 1; i <= LB_STORE_OUT_KINDS; i++)
		if (strcmp(name, outcome_names[i]) == 0)
			return i;
	return 0;
}

const char *lb_store_relation_name(int r)
{
	return r >= 1 && r <= 3 ? relation_names[r] : "?";
}

int lb_store_relation_parse(const char *name)
{
	for (int i = 1; i <= 3; i++)
		if (strcmp(name, relation_names[i]) == 0)
			return i;
	if (strcmp(name, "specialize") == 0)
		return LB_STORE_SPECIALISE;
	return 0;
}

int lb_store_code_check(const char *code, struct lb_errmsg *em)
{
	const char *bar = strchr(code, '|');
	if (!bar || bar == code || !bar[1])
		return lb_errf(em, LB_EINVALID,
			       "code '%s' is not SYSTEM|CODE (e.g. icd10|I20.9 or snomed|29857009)",
			       code);
	char sys[16];
	size_t sl = (size_t)(bar - code);
	if (sl >= sizeof sys)
		return lb_errf(em, LB_EINVALID, "code '%s': unknown system", code);
	memcpy(sys, code, sl);
	sys[sl] = 0;
	enum lb_code_system s = lb_code_system_of(sys);
	if (s != LB_CODE_ICD10 && s != LB_CODE_ICD10CM && s != LB_CODE_SNOMED)
		return lb_errf(em, LB_EINVALID,
			       "code '%s': system '%s' is not icd10, icd10cm or snomed", code, sys);
	struct lb_errmsg e;
	lb_errclear(&e);
	int rc = lb_code_check(s, bar + 1, NULL, &e);
	if (rc)
		return lb_errf(em, LB_EINVALID, "code '%s' is wrong: %s", code, e.text);
	return LB_OK;
}

static bool zero32(const uint8_t *p)
{
	uint8_t a = 0;
	for (int i = 0; i < LB_HASH_LEN; i++)
		a |= p[i];
	return a == 0;
}

int lb_store_tx_encode(struct lb_buf *b, const struct lb_store_tx *p, struct lb_errmsg *em)
{
	int rc = lb_enc_u8(b, 1);
	if (!rc)
		rc = lb_enc_fixed(b, p->item, LB_HASH_LEN);
	switch (p->type) {
	case LB_TX_STORE_LIST:
		if (p->ncodes > LB_STORE_CODES_MAX)
			return lb_errf(em, LB_EINVALID, "at most %d codes", LB_STORE_CODES_MAX);
		if (!rc && !(rc = lb_enc_u8(b, p->kind)) && !(rc = lb_enc_uvar(b, p->price_call)) &&
		    !(rc = lb_enc_uvar(b, p->price_licence)) && !(rc = lb_enc_str(b, p->title)) &&
		    !(rc = lb_enc_str(b, p->specialty)) && !(rc = lb_enc_str(b, p->description)) &&
		    !(rc = lb_enc_uvar(b, p->ncodes)))
			for (size_t i = 0; !rc && i < p->ncodes; i++)
				rc = lb_enc_str(b, p->codes[i]);
		if (!rc && !(rc = lb_enc_fixed(b, p->parent, LB_HASH_LEN)) &&
		    !(rc = lb_enc_u8(b, p->relation)) && !(rc = lb_enc_fixed(b, p->tmpl, LB_HASH_LEN)))
			rc = lb_enc_str(b, p->params);
		break;
	case LB_TX_STORE_PRICE:
		if (!rc && !(rc = lb_enc_uvar(b, p->price_call)))
			rc = lb_enc_uvar(b, p->price_licence);
		break;
	case LB_TX_STORE_BUY:
	case LB_TX_STORE_CALL:
		if (!rc && !(rc = lb_enc_uvar(b, p->max_price)) && p->type == LB_TX_STORE_CALL)
			rc = lb_enc_fixed(b, p->session, LB_HASH_LEN);
		if (!rc && !(rc = lb_enc_bytes(b, p->pay_tx, p->pay_tx_len)))
			rc = lb_enc_bytes(b, p->pay_proof, p->pay_proof_len);
		break;
	case LB_TX_STORE_RATE:
		if (!rc && !(rc = lb_enc_u8(b, p->stars)))
			rc = lb_enc_str(b, p->description);
		break;
	case LB_TX_STORE_OUTCOME:
		if (!rc && !(rc = lb_enc_fixed(b, p->ref, LB_HASH_LEN)) &&
		    !(rc = lb_enc_u8(b, p->outcome)))
			rc = lb_enc_fixed(b, p->session, LB_HASH_LEN);
		break;
	case LB_TX_STORE_TEMPLATE:
		if (!rc && !(rc = lb_enc_str(b, p->title)) && !(rc = lb_enc_str(b, p->description)))
			rc = lb_enc_bytes(b, p->source, p->source_len);
		break;
	case LB_TX_STORE_DERIVE:
		if (!rc && !(rc = lb_enc_fixed(b, p->parent, LB_HASH_LEN)))
			rc = lb_enc_u8(b, p->relation);
		break;
	case LB_TX_STORE_DEPOSIT:
		if (!rc && !(rc = lb_enc_uvar(b, p->amount)) &&
		    !(rc = lb_enc_bytes(b, p->pay_tx, p->pay_tx_len)))
			rc = lb_enc_bytes(b, p->pay_proof, p->pay_proof_len);
		break;
	default:
		return lb_errf(em, LB_EINVALID, "0x%04x is not a store tx type", (unsigned)p->type);
	}
	return rc ? lb_errf(em, rc, "encoding the store payload failed: %s", lb_strerror(rc)) : LB_OK;
}

int lb_store_tx_decode(uint32_t type, const uint8_t *buf, size_t n, struct lb_store_tx *p,
		       struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t ver;
	uint64_t nc;
	memset(p, 0, sizeof *p);
	p->type = type;
	if (type < LB_TX_STORE_LIST || type > LB_TX_STORE_DEPOSIT)
		return lb_errf(em, LB_EUNKNOWNTYPE, "0x%04x is not a store tx type", (unsigned)type);
	lb_dec_init(&d, buf, n, "store payload", em);
	if (lb_dec_u8(&d, "version", &ver))
		return LB_EMALFORMED;
	if (ver != 1)
		return lb_dec_fail(&d, LB_EMALFORMED, "version", "version %u is not 1", ver);
	if (lb_dec_fixed(&d, "item", p->item, LB_HASH_LEN))
		return LB_EMALFORMED;
	switch (type) {
	case LB_TX_STORE_LIST:
		if (lb_dec_u8(&d, "kind", &p->kind) ||
		    lb_dec_uvar(&d, "price_call", UINT64_MAX / 2, &p->price_call) ||
		    lb_dec_uvar(&d, "price_licence", UINT64_MAX / 2, &p->price_licence) ||
		    lb_dec_str(&d, "title", LB_STORE_NAME_MAX, p->title, sizeof p->title) ||
		    lb_dec_str(&d, "specialty", LB_STORE_NAME_MAX, p->specialty, sizeof p->specialty) ||
		    lb_dec_str(&d, "description", LB_STORE_TEXT_MAX, p->description,
			       sizeof p->description) ||
		    lb_dec_uvar(&d, "codes", LB_STORE_CODES_MAX, &nc))
			return LB_EMALFORMED;
		p->ncodes = (size_t)nc;
		for (size_t i = 0; i < p->ncodes; i++) {
			if (lb_dec_str(&d, "code", LB_STORE_CODE_MAX, p->codes[i], sizeof p->codes[i]))
				return LB_EMALFORMED;
			struct lb_errmsg e;
			lb_errclear(&e);
			if (lb_store_code_check(p->codes[i], &e))
				return lb_errf(em, LB_EINVALID, "codes[%zu]: %s", i, e.text);
		}
		if (lb_dec_fixed(&d, "parent", p->parent, LB_HASH_LEN) ||
		    lb_dec_u8(&d, "relation", &p->relation) ||
		    lb_dec_fixed(&d, "template", p->tmpl, LB_HASH_LEN) ||
		    lb_dec_str(&d, "params", LB_STORE_PARAMS_MAX, p->params, sizeof p->params))
			return LB_EMALFORMED;
		if (p->kind != LB_STORE_CONTRACT && p->kind != LB_STORE_ALGORITHM)
			return lb_dec_fail(&d, LB_EMALFORMED, "kind", "kind must be 1 (contract) or 2 (algorithm)");
		if (!p->title[0])
			return lb_dec_fail(&d, LB_EMALFORMED, "title", "a listing needs a title");
		if (p->price_call == 0 && p->price_licence == 0)
			return lb_errf(em, LB_EINVALID,
				       "a listing needs a price per call, a licence price or both "
				       "(--price-call / --price-licence)");
		if (zero32(p->parent) != (p->relation == 0) || p->relation > 3)
			return lb_errf(em, LB_EINVALID, "a parent needs a relation (fork, extend or "
							"specialise) and a relation needs a parent");
		if (zero32(p->tmpl) != (p->params[0] == 0))
			return lb_errf(em, LB_EINVALID,
				       "a template instance needs both the template id and its "
				       "parameters");
		break;
	case LB_TX_STORE_PRICE:
		if (lb_dec_uvar(&d, "price_call", UINT64_MAX / 2, &p->price_call) ||
		    lb_dec_uvar(&d, "price_licence", UINT64_MAX / 2, &p->price_licence))
			return LB_EMALFORMED;
		if (p->price_call == 0 && p->price_licence == 0)
			return lb_errf(em, LB_EINVALID, "a listing needs a price per call, a licence "
							"price or both");
		break;
	case LB_TX_STORE_BUY:
	case LB_TX_STORE_CALL:
		if (lb_dec_uvar(&d, "max_price", UINT64_MAX, &p->max_price) ||
		    (type == LB_TX_STORE_CALL && lb_dec_fixed(&d, "session", p->session, LB_HASH_LEN)) ||
		    lb_dec_bytes(&d, "pay_tx", LB_TX_MAX_BYTES, &p->pay_tx, &p->pay_tx_len) ||
		    lb_dec_bytes(&d, "pay_proof", LB_STORE_PROOF_MAX, &p->pay_proof,
				 &p->pay_proof_len))
			return LB_EMALFORMED;
		if ((p->pay_tx_len == 0) != (p->pay_proof_len == 0))
			return lb_errf(em, LB_EINVALID, "a cited payment needs both its tx and its "
							"proof");
		break;
	case LB_TX_STORE_RATE:
		if (lb_dec_u8(&d, "stars", &p->stars) ||
		    lb_dec_str(&d, "text", LB_STORE_TEXT_MAX, p->description, sizeof p->description))
			return LB_EMALFORMED;
		if (p->stars < 1 || p->stars > 5)
			return lb_errf(em, LB_EINVALID, "a rating is 1 to 5 stars, not %u", p->stars);
		break;
	case LB_TX_STORE_OUTCOME:
		if (lb_dec_fixed(&d, "call", p->ref, LB_HASH_LEN) ||
		    lb_dec_u8(&d, "outcome", &p->outcome) ||
		    lb_dec_fixed(&d, "session", p->session, LB_HASH_LEN))
			return LB_EMALFORMED;
		if (p->outcome < 1 || p->outcome > LB_STORE_OUT_KINDS)
			return lb_errf(em, LB_EINVALID,
				       "outcome %u is unknown: use referral-confirmed, "
				       "referral-declined, adverse-event, resolved, readmitted or other",
				       p->outcome);
		break;
	case LB_TX_STORE_TEMPLATE:
		if (lb_dec_str(&d, "title", LB_STORE_NAME_MAX, p->title, sizeof p->title) ||
		    lb_dec_str(&d, "description", LB_STORE_TEXT_MAX, p->description,
			       sizeof p->description) ||
		    lb_dec_bytes(&d, "source", LB_STORE_TEMPLATE_MAX, &p->source, &p->source_len))
			return LB_EMALFORMED;
		if (p->source_len == 0)
			return lb_errf(em, LB_EINVALID, "a template needs its source");
		break;
	case LB_TX_STORE_DERIVE:
		if (lb_dec_fixed(&d, "parent", p->parent, LB_HASH_LEN) ||
		    lb_dec_u8(&d, "relation", &p->relation))
			return LB_EMALFORMED;
		if (zero32(p->parent) || p->relation < 1 || p->relation > 3)
			return lb_errf(em, LB_EINVALID, "a derivation names its parent listing and a "
							"relation (fork, extend or specialise)");
		break;
	case LB_TX_STORE_DEPOSIT:
		if (lb_dec_uvar(&d, "amount", UINT64_MAX / 2, &p->amount) ||
		    lb_dec_bytes(&d, "transfer_tx", LB_TX_MAX_BYTES, &p->pay_tx, &p->pay_tx_len) ||
		    lb_dec_bytes(&d, "transfer_proof", LB_STORE_PROOF_MAX, &p->pay_proof,
				 &p->pay_proof_len))
			return LB_EMALFORMED;
		if (!p->amount || !p->pay_tx_len || !p->pay_proof_len)
			return lb_errf(em, LB_EINVALID, "a deposit names its amount and cites the "
							"settlement transfer with its proof");
		break;
	default: /* refused above */
		break;
	}
	return lb_dec_end(&d) ? LB_EMALFORMED : LB_OK;
}
