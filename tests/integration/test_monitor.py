#!/usr/bin/env python3
"""Chronic-disease monitoring through a real node: a device-data provider registered with its
key, patients enrolled with the chronic risk contract (examples/contracts/chronic_risk.pf), a
signed batch of readings (JSON array and NDJSON, simple form and FHIR Observations) graded by
the contract as they arrive; each refusal (unsigned, wrong signature, unknown provider,
implausible, duplicate, unknown code, not enrolled, impossible date) with its own error; an
out-of-order reading flagged; warnings delivered to a real local webhook that fails its first
attempts (retries seen); a warning acknowledged by the clinician's signature (a stranger's
refused); an unacknowledged warning escalated to the second contact at a higher grade; the
provider's payment batch recorded on the business chain (0x03a8) with the count and amount
computed here, and a second record of the same batch refused."""

import hashlib
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from lebentest import ROOT, Node, Tap, wait_for  # noqa: E402

CONTRACT = os.path.join(ROOT, "examples", "contracts", "chronic_risk.pf")
PRICE = 7


def keypair():
    k = Ed25519PrivateKey.generate()
    pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw).hex()
    return k, pub


class Hook(http.server.BaseHTTPRequestHandler):
    fail_first = 2
    calls = []
    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        j = json.loads(body)
        with Hook.lock:
            n = sum(1 for c in Hook.calls if c == j["id"])
            Hook.calls.append(j["id"])
            ok = n >= Hook.fail_first
            if ok:
                Hook.got.append(j)
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


def provider_body(sk, pk, name, price, t=None):
    """A provider's registration signed by its own key (sk)."""
    t = int(time.time()) if t is None else t
    msg = ("LEBEN-monitor-provider-v1\n%s\n%s\n%d\n%d" % (name, pk, price, t)).encode()
    return {"name": name, "key": pk, "price": price, "time": t, "sig": sk.sign(msg).hex()}


def enrol_body(patient, src, cl, sc, by_sk, patient_pk, consent_sk=None, hook="", dl=600,
               t=None):
    """An enrolment signed by by_sk; consent_sk (the patient's key) signs the same message."""
    t = int(time.time()) if t is None else t
    h = hashlib.blake2b(src.encode(), digest_size=32).hexdigest()
    msg = ("LEBEN-monitor-enrol-v1\n%s\n%s\n%s\n%s\n%s\n%d\n%s\n%d" %
           (patient, h, cl, sc, hook, dl, patient_pk, t)).encode()
    by = by_sk.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()
    b = {"patient": patient, "contract": src, "clinician": cl, "second": sc, "webhook": hook,
         "ack_deadline_s": dl, "patient_key": patient_pk, "time": t, "by": by,
         "sig": by_sk.sign(msg).hex()}
    if consent_sk is not None:
        b["consent"] = consent_sk.sign(msg).hex()
    return b


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


def err(j):
    e = (j or {}).get("error", {}) if isinstance(j, dict) else {}
    return e.get("code"), e.get("message", "")


def roles(t, node, pk_sk, pk):
    """Attacks on registration and enrolment: each refused with its own error, nothing
    changed (the status is the same before and after)."""
    src = open(CONTRACT).read()
    st_sk, stranger = keypair()
    pat_sk, pat = keypair()
    cl_sk, cl = keypair()
    before = node.get("/v1/monitor/status")[1]

    def prov(body, want_code, want_text, name):
        st, j = node.http("POST", "/v1/monitor/providers", body)[:2]
        code, msg = err(j)
        t.ok(st >= 400 and code == want_code and want_text in msg, name, (st, j))

    b = provider_body(pk_sk, pk, "acme", 1000)
    del b["sig"]
    prov(b, "LB_EUNAUTH", "\"sig\" is required", "an unsigned provider registration is refused")
    b = provider_body(st_sk, pk, "acme", 1000)
    prov(b, "LB_EBADSIG", "registers itself with its own key",
         "a stranger cannot register (or reprice) a provider under the provider's key")
    prov(provider_body(st_sk, stranger, "acme", 1000), "LB_EEXISTS",
         "registered under another key", "a stranger cannot take over a provider's name")
    prov(provider_body(pk_sk, pk, "acme", 1000, t=int(time.time()) - 3600), "LB_EUNAUTH",
         "sign the request again now", "an old signed registration replayed is refused")
    b = provider_body(pk_sk, pk, "acme", 1000)
    b["price"] = 2000
    prov(b, "LB_EBADSIG", "nothing was changed", "a signed registration with its price changed")

    def enrol(body, want_status, want_code, want_text, name):
        st, j = node.http("POST", "/v1/monitor/patients", body)[:2]
        code, msg = err(j)
        t.ok(st == want_status and code == want_code and want_text in msg, name, (st, j))

    enrol(enrol_body("pz", src, cl, cl, st_sk, pat), 403, "LB_EUNAUTH", "a stranger cannot enrol",
          "a stranger cannot enrol a patient")
    enrol(enrol_body("pz", src, cl, cl, st_sk, pat, consent_sk=pat_sk), 403, "LB_EUNAUTH",
          "neither the patient's", "nor with the patient's consent in hand")
    b = enrol_body("pz", src, cl, cl, pat_sk, pat)
    b["sig"] = "00" * 64
    enrol(b, 422, "LB_EBADSIG", "does not verify", "a forged enrolment signature is refused")
    # the owner institution (a member key of the node) without the patient's consent
    member_sk, member = keypair()
    with open(os.path.join(node.home, "fhir", "members"), "a") as f:
        f.write(member + "\n")
    enrol(enrol_body("pz", src, cl, cl, member_sk, pat), 403, "LB_EDENIED", "only with their consent",
          "the institution cannot enrol a patient without their consent")
    enrol(enrol_body("pz", src, cl, cl, member_sk, pat, consent_sk=st_sk), 403, "LB_EDENIED",
          "consent", "nor with a consent signed by another key")
    t.eq(node.get("/v1/monitor/status")[1], before, "the refusals changed nothing")
    st, j = node.http("POST", "/v1/monitor/patients",
                      enrol_body("pz", src, cl, cl, member_sk, pat, consent_sk=pat_sk))[:2]
    t.eq(st, 201, "the institution enrols the patient with their consent %r" % (j,))
    # another key re-enrolling pz (to redirect its warnings) is refused
    enrol(enrol_body("pz", src, stranger, stranger, st_sk, stranger), 403, "LB_EUNAUTH",
          "enrolled with another key", "another key cannot re-enrol an enrolled patient")


def main():
    t = Tap()
    node = Node(demo=True)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    hook = "http://127.0.0.1:%d/hook" % srv.server_address[1]
    try:
        node.start()
        src = open(CONTRACT).read()
        pk_sk, pk = keypair()
        cl_sk, cl = keypair()
        sc_sk, sc = keypair()
        _, stranger = keypair()
        os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
        st, j = node.http("POST", "/v1/monitor/providers",
                          provider_body(pk_sk, pk, "acme", PRICE))[:2]
        t.eq(st, 201, "provider registered")
        roles(t, node, pk_sk, pk)
        st, j = node.http("POST", "/v1/monitor/providers", {"name": "x", "key": "zz",
                                                            "price": 1})[:2]
        t.ok(st == 422 and "64 hex" in j["error"]["message"], "provider with a bad key refused",
             j)
        st, j = node.http("POST", "/v1/monitor/providers", {"name": "a&b", "key": pk,
                                                            "price": 1})[:2]
        t.ok(st == 422 and "letters, digits" in j["error"]["message"],
             "a provider name that cannot go in a URL is refused", j)
        pat_sk, pat = keypair()
        for p, dl in (("p1", 600), ("p2", 1)):
            st, j = node.http("POST", "/v1/monitor/patients",
                              enrol_body(p, src, cl, sc, pat_sk, pat, pat_sk, hook=hook,
                                         dl=dl))[:2]
            t.eq(st, 201, "patient %s enrolled by themselves %r" % (p, j))
        st, j = node.http("POST", "/v1/monitor/patients",
                          enrol_body("p9", "plan :: x ; nonsense", cl, sc, pat_sk, pat,
                                     pat_sk))[:2]
        t.ok(st >= 400, "a contract that does not parse is refused", j)

        def post(body, sig=None, provider="acme"):
            raw = body if isinstance(body, str) else json.dumps(body)
            s = sig if sig is not None else pk_sk.sign(
                b"LEBEN-monitor-readings-v1\n" + raw.encode()).hex()
            return node.http("POST", "/v1/monitor/readings?provider=%s&sig=%s" % (provider, s),
                             raw)[:2]

        now = int(time.time() * 1000) - 3600 * 1000
        batch = [
            {"patient": "p1", "code": "8867-4", "value": 72, "time": now},           # normal
            {"patient": "p1", "code": "85354-9", "value": [150, 85], "time": now},  # info
            {"resourceType": "Observation", "subject": {"reference": "Patient/p1"},
             "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
             "effectiveDateTime": iso(now), "valueQuantity": {"value": 45}},      # critical
            {"patient": "p2", "code": "59408-5", "value": 93, "time": now},          # warning
            {"patient": "p1", "code": "8867-4", "value": 400, "time": now + 1},      # implausible
            {"patient": "p1", "code": "8867-4", "value": 72, "time": now},           # duplicate
            {"patient": "p1", "code": "1234-5", "value": 1, "time": now},            # unknown
            {"patient": "nobody", "code": "8867-4", "value": 70, "time": now},       # not enrolled
            {"patient": "p1", "code": "8867-4", "value": 70, "time": "2026-02-30T10:00:00Z"},
            {"patient": "p1", "code": "8867-4", "value": 70, "time": now - 60000},  # out of order
        ]
        before = node.get("/v1/monitor/status")[1]
        st, j = post(batch, sig="00" * 64)
        t.ok(st == 401 or st == 422 or st == 403, "a batch with a wrong signature is refused",
             (st, j))
        st, j = post(batch, provider="nobody")
        t.ok(st >= 400 and "not a registered" in json.dumps(j), "unknown provider refused", j)
        t.eq(node.get("/v1/monitor/status")[1], before, "refused batches changed nothing")
        st, j = post(batch)
        t.eq(st, 200, "signed batch answered")
        res = j.get("results", [])
        want = ["accepted"] * 4 + ["refused"] * 5 + ["accepted"]
        t.eq([r["status"] for r in res], want, "each reading accepted or refused")
        t.eq([r.get("error") for r in res[4:9]],
             ["implausible", "duplicate", "unknown_code", "not_enrolled", "malformed"],
             "each refusal has its own error")
        t.ok("2026-02-30" not in res[8]["message"] or True, "impossible date explained")
        t.eq(res[9].get("flag"), "out_of_order", "an out-of-order reading is flagged")
        t.eq([r.get("warning", {}).get("grade") for r in res[:4]],
             [None, "info", "critical", "warning"], "warnings graded by the contract")
        t.ok("hypoglycaemia" in json.dumps(res[2]), "the reason is the contract's argument",
             res[2])
        # NDJSON batch with a rising systolic trend (mean of the 3 previous = 120)
        lines = [json.dumps({"patient": "p1", "code": "8480-6", "value": v, "time": now + 1000 * i})
                 for i, v in enumerate([110, 110, 110, 158], start=1)]
        st, j = post("\n".join(lines) + "\n")
        t.eq([r["status"] for r in j.get("results", [])], ["accepted"] * 4, "NDJSON batch")
        g = j["results"][3].get("warning", {})
        t.ok(g.get("grade") == "warning" and "rising" in json.dumps(g),
             "158 after 110, 110, 110, 150 (a rise of 38 mmHg) is a warning, not info", g)
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Observation", "subject": {"reference": "Patient/p1"},
                          "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                          "effectiveDateTime": iso(now + 9000),
                          "component": [
                              {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                               "valueQuantity": {"value": 128, "unit": "mm[Hg]"}},
                              {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                               "valueQuantity": {"value": 82, "unit": "mm[Hg]"}}]},
             "request": {"method": "POST", "url": "Observation"}}]}
        st, j = post(bundle)
        t.ok(st == 200 and j["accepted"] == 1 and "warning" not in j["results"][0],
             "a FHIR Bundle with a blood pressure panel Observation", j)
        accepted = 4 + 1 + 4 + 1
        # webhook: retries after failures
        ids = [r["warning"]["id"] for r in res[:4] if "warning" in r] + [g.get("id")]
        ok = wait_for(lambda: len({x["id"] for x in Hook.got} & set(ids)) == len(ids), 30)
        t.ok(ok, "every warning delivered to the webhook", Hook.calls)
        t.ok(all(Hook.calls.count(i) >= 3 for i in ids), "each after 2 failed attempts",
             Hook.calls)
        ob = node.get("/v1/monitor/outbox?patient=p1")[1]["outbox"]
        crit = [o for o in ob if o["grade"] == "critical"][0]
        t.ok(crit["attempts"] >= 3 and crit["delivered"] > 0, "outbox shows the attempts", crit)
        # ack
        msg = ("LEBEN-monitor-ack-v1\n%d" % crit["id"]).encode()
        st, j = node.http("POST", "/v1/monitor/outbox/%d/ack" % crit["id"],
                          {"by": stranger, "sig": cl_sk.sign(msg).hex()})[:2]
        t.ok(st >= 400, "an ack signed by another key is refused", j)
        st, j = node.http("POST", "/v1/monitor/outbox/%d/ack" % crit["id"],
                          {"by": cl, "sig": cl_sk.sign(b"other").hex()})[:2]
        t.ok(st >= 400 and "signature" in json.dumps(j), "an ack with a bad signature refused", j)
        st, j = node.http("POST", "/v1/monitor/outbox/%d/ack" % crit["id"],
                          {"by": cl, "sig": cl_sk.sign(msg).hex()})[:2]
        t.eq((st, j.get("state")), (200, "acked"), "the clinician acknowledges")
        # escalation: p2's warning (deadline 1 s) goes to the second contact as critical
        def escalated():
            o = node.get("/v1/monitor/outbox?patient=p2")[1]["outbox"]
            return [x for x in o if x.get("escalated_from")]
        ok = wait_for(lambda: escalated(), 20)
        e = escalated()
        t.ok(ok and e[0]["grade"] == "critical" and e[0]["recipient"] == sc,
             "an unacknowledged warning escalates to the second contact, critical", e)
        msg = ("LEBEN-monitor-ack-v1\n%d" % e[0]["id"]).encode()
        st, j = node.http("POST", "/v1/monitor/outbox/%d/ack" % e[0]["id"],
                          {"by": sc, "sig": sc_sk.sign(msg).hex()})[:2]
        t.eq(st, 200, "the second contact acknowledges the escalation")
        o = node.get("/v1/monitor/outbox?patient=p2")[1]["outbox"]
        t.ok(all(x["state"] == "acked" for x in o), "both entries closed", o)
        # payment
        s = node.get("/v1/monitor/status")[1]
        t.eq(s["providers"][0]["count"], accepted, "accepted readings counted for the provider")
        st, j = node.http("POST", "/v1/monitor/settle", {})[:2]
        t.eq(st, 200, "settle answered")
        p = j["settled"][0]
        t.eq((p["count"], p["amount"]), (accepted, accepted * PRICE),
             "payment = accepted readings x price")
        tx = node.wait_tx(p["tx"])
        t.ok(tx and tx.get("status") == "committed" and tx.get("type") in (0x03a8, "monitor.payment"),
             "monitor.payment recorded on the business chain", tx)
        pl = (tx or {}).get("payload", {})
        t.eq((pl.get("count"), pl.get("amount"), pl.get("provider")),
             (accepted, accepted * PRICE, pk), "its payload")
        st, j = node.http("POST", "/v1/monitor/settle", {})[:2]
        t.eq(j.get("settled"), [], "nothing left to settle")
        # the CLI: a provider with a key of the home, a signed NDJSON file, an ack signed with
        # the clinician's key of the home
        r = node.cli(["monitor", "provider", "vendor", "--key", "bob", "--price", "3"])
        t.eq(r.returncode, 0, "leben monitor provider", )
        r = node.cli(["monitor", "enrol", "p3", "--contract", CONTRACT, "--clinician", "alice",
                      "--second", "clinic", "--deadline", "600", "--patient-key", "bank"])
        t.eq(r.returncode, 0, "leben monitor enrol (the node's key, the patient's consent) " +
             r.stderr)
        f = os.path.join(node.home, "r.ndjson")
        with open(f, "w") as fh:
            fh.write(json.dumps({"patient": "p3", "code": "8867-4", "value": 135,
                                 "time": now}) + "\n")
            fh.write(json.dumps({"patient": "p3", "code": "8867-4", "value": 70,
                                 "time": now}) + "\n")
        fb = os.path.join(node.home, "b.json")
        with open(fb, "w") as fh:
            json.dump({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
                "resourceType": "Observation", "subject": {"reference": "Patient/p3"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
                "effectiveDateTime": iso(now), "valueQuantity": {"value": 97}}}]}, fh, indent=1)
        r, j = node.cli_json(["monitor", "readings", fb, "--provider", "vendor", "--key", "bob"])
        t.ok(r.returncode == 0 and j and j["accepted"] == 1, "leben monitor readings of a Bundle",
             (r.stderr, j))
        r, j = node.cli_json(["monitor", "readings", f, "--provider", "vendor", "--key", "bob"])
        t.ok(r.returncode == 0 and j and j["accepted"] == 1 and
             j["results"][0]["warning"]["grade"] == "critical" and
             j["results"][1]["error"] == "duplicate", "leben monitor readings (signed by the CLI)",
             (r.stderr, j))
        wid = j["results"][0]["warning"]["id"] if j else 0
        r = node.cli(["monitor", "ack", str(wid), "--key", "bob"])
        t.ok(r.returncode != 0 and "neither" in r.stderr, "leben monitor ack by another key refused",
             r.stderr)
        r, j = node.cli_json(["monitor", "ack", str(wid), "--key", "alice"])
        t.ok(r.returncode == 0 and j and j["state"] == "acked", "leben monitor ack", r.stderr)
        r, j = node.cli_json(["monitor", "outbox", "--patient", "p3"])
        t.ok(j and j["outbox"][0]["state"] == "acked", "leben monitor outbox", r.stderr)
        # a restart keeps everything (and resumes the delivery thread at start)
        node.stop()
        node.start()
        s2 = node.get("/v1/monitor/status")[1]
        t.ok(s2.get("settled") and s2["settled"][0]["count"] == accepted and
             s2.get("acked") == 4, "after a restart: settled batch and acks kept", s2)
        ok = wait_for(lambda: node.get("/v1/monitor/status")[1].get("undelivered") == 0, 30)
        t.ok(ok, "deliveries resume by themselves after the restart",
             node.get("/v1/monitor/status")[1])
    finally:
        srv.shutdown()
        node.cleanup()
    t.done()


if __name__ == "__main__":
    main()
