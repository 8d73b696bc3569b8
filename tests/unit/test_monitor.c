/*
 * Unit tests of chronic-disease monitoring (src/monitor/monitor.c) on a real SQLite file:
 * the monitor.payment payload (round trip, amount not count x price refused, trailing bytes
 * refused); a signed batch graded by examples/contracts/chronic_risk.pf (critical for a level 2
 * hypoglycaemia, a systolic trend), refusals by reason with the state unchanged (bad
 * signature, unknown provider), a reading in the future refused, acks (wrong key refused,
 * clinician accepted) and escalation of an overdue warning to the second contact; on a real
 * ledger, a batch recorded twice or out of order and an amount that is not count x price are
 * refused by the business chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "test.h"
#include "ledger_fixture.h"

#include "leben/base.h"
#include "leben/monitor.h"

static void test_payment_codec(void **st)
{
	(void)st;
	struct lb_mon_payment_tx p = {.batch = 3, .count = 10, .price = 7, .amount = 70}, q;
	memset(p.provider, 0xab, 32);
	uint8_t buf[128];
	size_t n;
	struct lb_errmsg em;
	assert_lb_ok(lb_mon_payment_encode(&p, buf, &n));
	assert_lb_ok(lb_mon_payment_decode(buf, n, &q, &em));
	assert_memory_equal(&p, &q, sizeof p);
	p.amount = 71;
	assert_lb_ok(lb_mon_payment_encode(&p, buf, &n));
	assert_int_equal(lb_mon_payment_decode(buf, n, &q, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "not count"));
	p.amount = 70;
	assert_lb_ok(lb_mon_payment_encode(&p, buf, &n));
	buf[n] = 0;
	assert_int_not_equal(lb_mon_payment_decode(buf, n + 1, &q, &em), LB_OK);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *s = calloc(1, 1 << 16);
	fread(s, 1, (1 << 16) - 1, f);
	fclose(f);
	return s;
}

static int post(struct lb_monitor *m, const unsigned char *sk, const char *prov,
		const char *body, json_t **out, struct lb_errmsg *em)
{
	static const char dom[] = "LEBEN-monitor-readings-v1\n";
	size_t bl = strlen(body);
	unsigned char *msg = malloc(sizeof dom - 1 + bl), sig[64];
	char hex[129];
	memcpy(msg, dom, sizeof dom - 1);
	memcpy(msg + sizeof dom - 1, body, bl);
	crypto_sign_detached(sig, NULL, msg, sizeof dom - 1 + bl, sk);
	free(msg);
	lb_hex_encode(hex, sig, 64);
	return lb_mon_readings(m, prov, hex, body, bl, (int64_t)lb_now_ms(), out, em);
}

static const char *res_field(json_t *out, size_t i, const char *k)
{
	json_t *r = json_array_get(json_object_get(out, "results"), i);
	json_t *v = json_object_get(r, k);
	if (json_is_object(v))
		v = json_object_get(v, "grade");
	return json_string_value(v);
}

static void test_flow(void **st)
{
	(void)st;
	char dir[] = "/tmp/leben-monitor-unit.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct lb_monitor *m;
	struct lb_errmsg em;
	json_t *out = NULL;
	assert_lb_ok(lb_mon_open(&m, dir, &em));
	unsigned char pk[32], sk[64], cpk[32], csk[64], spk[32], ssk[64];
	char pkh[65], cph[65], sph[65];
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(cpk, csk);
	crypto_sign_keypair(spk, ssk);
	lb_hex_encode(pkh, pk, 32);
	lb_hex_encode(cph, cpk, 32);
	lb_hex_encode(sph, spk, 32);
	long long now = (long long)time(NULL);
	char msg[900], sh[129];
	unsigned char sig[64];
	json_t *req = json_pack("{s:s,s:s,s:i,s:I}", "name", "acme", "key", pkh, "price", 3,
				"time", (json_int_t)now);
	assert_int_equal(lb_mon_provider(m, req, &out, &em), LB_EUNAUTH); /* unsigned */
	int n = snprintf(msg, sizeof msg, "LEBEN-monitor-provider-v1\nacme\n%s\n3\n%lld", pkh, now);
	crypto_sign_detached(sig, NULL, (unsigned char *)msg, (size_t)n, ssk); /* another key */
	lb_hex_encode(sh, sig, 64);
	json_object_set_new(req, "sig", json_string(sh));
	assert_int_equal(lb_mon_provider(m, req, &out, &em), LB_EBADSIG);
	crypto_sign_detached(sig, NULL, (unsigned char *)msg, (size_t)n, sk);
	lb_hex_encode(sh, sig, 64);
	json_object_set_new(req, "sig", json_string(sh));
	assert_lb_ok(lb_mon_provider(m, req, &out, &em));
	json_decref(req);
	json_decref(out);
	char *src = slurp("examples/contracts/chronic_risk.pf");
	/* the patient (key cpk here) enrols; an institution needs the patient's consent */
	uint8_t h[32];
	char ch[65];
	lb_hash(h, src, strlen(src));
	lb_hex_encode(ch, h, 32);
	n = snprintf(msg, sizeof msg, "LEBEN-monitor-enrol-v1\np1\n%s\n%s\n%s\n\n1\n%s\n%lld", ch,
		     cph, sph, cph, now);
	crypto_sign_detached(sig, NULL, (unsigned char *)msg, (size_t)n, ssk);
	lb_hex_encode(sh, sig, 64);
	req = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:I,s:s,s:s}", "patient", "p1", "contract", src,
			"clinician", cph, "second", sph, "ack_deadline_s", 1, "patient_key", cph,
			"time", (json_int_t)now, "by", sph, "sig", sh);
	assert_int_equal(lb_mon_enrol(m, req, false, &out, &em), LB_EUNAUTH);
	assert_int_equal(lb_mon_enrol(m, req, true, &out, &em), LB_EDENIED);
	crypto_sign_detached(sig, NULL, (unsigned char *)msg, (size_t)n, csk);
	lb_hex_encode(sh, sig, 64);
	json_object_set_new(req, "consent", json_string(sh));
	assert_lb_ok(lb_mon_enrol(m, req, true, &out, &em));
	json_decref(out);
	json_object_set_new(req, "by", json_string(cph));
	json_object_set_new(req, "sig", json_string(sh));
	assert_lb_ok(lb_mon_enrol(m, req, false, &out, &em)); /* by the patient */
	json_decref(req);
	json_decref(out);
	free(src);

	int64_t t = (int64_t)lb_now_ms() - 600000;
	char body[2048];
	snprintf(body, sizeof body,
		 "{\"patient\":\"p1\",\"code\":\"2339-0\",\"value\":45,\"time\":%lld}\n"
		 "{\"patient\":\"p1\",\"code\":\"8480-6\",\"value\":110,\"time\":%lld}\n"
		 "{\"patient\":\"p1\",\"code\":\"8480-6\",\"value\":110,\"time\":%lld}\n"
		 "{\"patient\":\"p1\",\"code\":\"8480-6\",\"value\":110,\"time\":%lld}\n"
		 "{\"patient\":\"p1\",\"code\":\"8480-6\",\"value\":150,\"time\":%lld}\n"
		 "{\"patient\":\"p1\",\"code\":\"8867-4\",\"value\":70,\"time\":%lld}\n",
		 (long long)t, (long long)t + 1, (long long)t + 2, (long long)t + 3,
		 (long long)t + 4, (long long)t + 3600000);
	/* refused as a whole: a wrong signature, an unknown provider */
	assert_int_equal(lb_mon_readings(m, "acme", "00", body, strlen(body), t, &out, &em),
			 LB_EUNAUTH);
	assert_int_equal(post(m, csk, "acme", body, &out, &em), LB_EBADSIG);
	assert_int_equal(post(m, sk, "other", body, &out, &em), LB_EUNAUTH);
	assert_lb_ok(lb_mon_status(m, &out, &em));
	assert_int_equal(json_integer_value(json_object_get(out, "readings")), 0);
	json_decref(out);

	assert_lb_ok(post(m, sk, "acme", body, &out, &em));
	assert_string_equal(res_field(out, 0, "warning"), "critical");
	assert_null(res_field(out, 1, "warning"));
	assert_string_equal(res_field(out, 4, "warning"), "warning"); /* 150: +40 over 110 */
	assert_string_equal(res_field(out, 5, "error"), "future");
	assert_int_equal(json_integer_value(json_object_get(out, "accepted")), 5);
	json_decref(out);

	/* ack: a stranger's key refused, the clinician's accepted */
	n = snprintf(msg, sizeof msg, "LEBEN-monitor-ack-v1\n%d", 1);
	crypto_sign_detached(sig, NULL, (unsigned char *)msg, (size_t)n, csk);
	lb_hex_encode(sh, sig, 64);
	req = json_pack("{s:s,s:s}", "by", pkh, "sig", sh);
	assert_int_equal(lb_mon_ack(m, 1, req, t, &out, &em), LB_EBADSIG);
	json_decref(req);
	req = json_pack("{s:s,s:s}", "by", cph, "sig", sh);
	assert_lb_ok(lb_mon_ack(m, 1, req, (int64_t)lb_now_ms(), &out, &em));
	json_decref(out);
	assert_int_equal(lb_mon_ack(m, 1, req, (int64_t)lb_now_ms(), &out, &em), LB_EEXISTS);
	json_decref(req);

	/* entry 2 (the trend warning) is overdue 2 s later: escalated, critical, to the second */
	assert_lb_ok(lb_mon_outbox(m, 0, "p1", NULL, (int64_t)lb_now_ms() + 2000, &out, &em));
	json_t *o = json_object_get(out, "outbox");
	assert_int_equal(json_array_size(o), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(o, 1), "state")),
			    "escalated");
	json_t *e = json_array_get(o, 2);
	assert_string_equal(json_string_value(json_object_get(e, "grade")), "critical");
	assert_string_equal(json_string_value(json_object_get(e, "recipient")), sph);
	assert_int_equal(json_integer_value(json_object_get(e, "escalated_from")), 2);
	json_decref(out);

	assert_lb_ok(lb_mon_status(m, &out, &em));
	json_t *p = json_array_get(json_object_get(out, "providers"), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "count")), 5);
	json_decref(out);
	lb_mon_close(m);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static int pay(struct lb_ledger *l, const struct lb_keypair *kp, uint64_t nonce, uint64_t batch,
	       uint64_t count, uint64_t amount, char *msg, size_t mlen)
{
	struct lb_mon_payment_tx p = {.batch = batch, .count = count, .price = 5, .amount = amount};
	memset(p.provider, 7, 32);
	uint8_t pl[128];
	size_t n;
	struct lb_buf raw;
	struct lb_submit_result r;
	assert_lb_ok(lb_mon_payment_encode(&p, pl, &n));
	fx_build(&raw, l, kp, LB_CHAIN_BUSINESS, LB_TX_MONITOR_PAYMENT, nonce, 0, pl, n, NULL);
	int rc = fx_submit1(l, raw.data, raw.len, &r);
	snprintf(msg, mlen, "%s", r.message);
	lb_buf_release(&raw);
	return rc;
}

static void test_payment_chain(void **st)
{
	(void)st;
	char home[128], hx[65], msg[512];
	struct lb_keypair prop;
	uint8_t seed[LB_SEED_LEN];
	struct lb_ledger *l;
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_monitor_register_txtypes());
	fx_mkhome(home, sizeof home, "monitor");
	memset(seed, 1, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	lb_hex_encode(hx, prop.pk, 32);
	fx_genesis(home, json_pack("{s:s,s:i,s:s}", "network", "mon", "time_ms", 1, "proposer", hx));
	fx_open(&l, home, &prop);
	assert_lb_ok(pay(l, &prop, 0, 1, 4, 20, msg, sizeof msg));
	assert_int_equal(pay(l, &prop, 1, 1, 4, 20, msg, sizeof msg), LB_EDUPLICATE);
	assert_non_null(strstr(msg, "already recorded"));
	assert_int_equal(pay(l, &prop, 1, 3, 4, 20, msg, sizeof msg), LB_EINVALID);
	assert_non_null(strstr(msg, "skips"));
	assert_int_equal(pay(l, &prop, 1, 2, 4, 21, msg, sizeof msg), LB_EINVALID);
	assert_non_null(strstr(msg, "not count"));
	assert_lb_ok(pay(l, &prop, 1, 2, 4, 20, msg, sizeof msg));
	lb_ledger_close(l);
	fx_rmhome(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payment_codec),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_payment_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
