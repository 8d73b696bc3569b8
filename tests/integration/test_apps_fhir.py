#!/usr/bin/env python3
"""Applications fed by FHIR writes, over HTTP with a real node.

Monitoring: a device-data provider (a member key of the institution, registered with the
monitor under the same key) posts wearable Observations (a transaction Bundle and a single
create) to /fhir: they are graded by the patient's risk contract (warnings in the outbox),
counted for the provider and paid by monitor.payment (count x price); the same Observations
written by a member key that is no provider are stored but not monitored; a reading written
twice is counted once.

Insurance: the clinic's system writes the insured patient (with their key), their Coverage
naming the policy, a Condition and a completed Procedure (reasonReference, billed amount) to
/fhir: the node anchors both events, claims what the policy's adjudication gives, and settles
it from the pool to itself in ASC (amounts computed here). The same Procedure written again is
refused (already claimed) and pays nothing; a patient without Coverage raises no claim; a
Coverage naming a policy the patient never enrolled in is refused with its reason."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, Node, Tap, wait_for  # noqa: E402
from test_fhir import Key, call  # noqa: E402
from test_monitor import enrol_body, iso, provider_body  # noqa: E402

CONTRACT = os.path.join(ROOT, "examples", "contracts", "chronic_risk.pf")
MICRO = 1000000
PRICE = 5


def loinc(code):
    return {"coding": [{"system": "http://loinc.org", "code": code}]}


def obs(pid, code, value, ms):
    return {"resourceType": "Observation", "status": "final", "code": loinc(code),
            "subject": {"reference": "Patient/" + pid}, "effectiveDateTime": iso(ms),
            "valueQuantity": {"value": value}}


def bundle(*res):
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:%d" % i, "resource": r,
         "request": {"method": "PUT" if r.get("id") else "POST",
                     "url": r["resourceType"] + ("/" + r["id"] if r.get("id") else "")}}
        for i, r in enumerate(res)]}


def monitoring(t, node, device, other):
    src = open(CONTRACT).read()
    st, j = node.http("POST", "/v1/monitor/providers",
                      provider_body(device.sk, device.pk, "wearco", PRICE))[:2]
    t.eq(st, 201, "the device-data provider registers itself with its key %r" % (j,))
    cl, sc = Key(b"\x61" * 32), Key(b"\x62" * 32)
    patient = Key(b"\x63" * 32)
    st, j = node.http("POST", "/v1/monitor/patients",
                      enrol_body("m1", src, cl.pk, sc.pk, node.institution.sk, patient.pk,
                                 consent_sk=patient.sk))[:2]
    t.eq(st, 201, "patient m1 enrolled by the institution with the patient's consent %r" % (j,))
    now = int(time.time() * 1000) - 600 * 1000
    st, j = call(node, device, "POST", "/fhir", bundle(
        {"resourceType": "Patient", "id": "m1"},
        obs("m1", "8867-4", 72, now),                 # normal
        obs("m1", "2339-0", 45, now),                 # critical (hypoglycaemia)
        obs("m1", "59408-5", 93, now),                # warning
        {"resourceType": "Observation", "status": "final", "code": loinc("85354-9"),
         "subject": {"reference": "Patient/m1"}, "effectiveDateTime": iso(now),
         "component": [{"code": loinc("8480-6"), "valueQuantity": {"value": 150}},
                       {"code": loinc("8462-4"), "valueQuantity": {"value": 85}}]},  # info
        {"resourceType": "Observation", "status": "final", "code": loinc("718-7"),
         "subject": {"reference": "Patient/m1"}, "valueQuantity": {"value": 13}}))  # a lab
    t.eq(st, 200, "the device writes a transaction Bundle to /fhir %r" % (j,))
    ob = node.get("/v1/monitor/outbox?patient=m1")[1].get("outbox", [])
    t.eq(sorted(o["grade"] for o in ob), ["critical", "info", "warning"],
         "the readings were graded by the risk contract as they arrived")
    t.ok(any("hypoglycaemia" in json.dumps(o) for o in ob), "with the contract's reasons", ob)
    s = node.get("/v1/monitor/status")[1]
    prov = [p for p in s.get("providers", []) if p.get("name") == "wearco"]
    t.eq(prov and prov[0]["count"], 4, "4 wearable readings counted (the lab result is not one)")
    # a single create, then the same reading again: counted once
    st, j = call(node, device, "POST", "/fhir/Observation", obs("m1", "8867-4", 74, now + 60000))
    t.eq(st, 201, "a single Observation created")
    st, j = call(node, device, "POST", "/fhir/Observation", obs("m1", "8867-4", 74, now + 60000))
    t.eq(st, 201, "the same reading written again is stored by FHIR")
    s = node.get("/v1/monitor/status")[1]
    prov = [p for p in s.get("providers", []) if p.get("name") == "wearco"]
    t.eq(prov and prov[0]["count"], 5, "but counted once for the provider")
    # a member that is no provider: stored, not monitored
    st, j = call(node, other, "POST", "/fhir/Observation", obs("m1", "2339-0", 40, now + 120000))
    t.eq(st, 201, "another member writes a glucose reading")
    ob2 = node.get("/v1/monitor/outbox?patient=m1")[1].get("outbox", [])
    t.eq(len(ob2), len(ob), "a member key that is no provider feeds nothing to the monitor")
    st, j = node.http("POST", "/v1/monitor/settle", {})[:2]
    p = [x for x in j.get("settled", []) if x["provider"] == "wearco"]
    t.ok(st == 200 and p and (p[0]["count"], p[0]["amount"]) == (5, 5 * PRICE),
         "the provider is paid per accepted reading (5 x %d)" % PRICE, j)
    tx = node.wait_tx(p[0]["tx"]) if p else None
    t.ok(tx and tx.get("status") == "committed", "monitor.payment committed", tx)


def insurance(t, node, clinic_sys):
    def ins_json(*args):
        return node.cli_json(["insurance"] + list(args))

    def asc(addr):
        return (node.account(addr).get("balances") or {}).get("asc", 0)

    r, j = ins_json("policy", "--from", "alice", "--name", "Cardiac cover",
                    "--covers", "I21.4:0270346,I20.0:0270346", "--limit-claim", "300",
                    "--limit-period", "500", "--period-blocks", "100000", "--copay", "20")
    t.eq(r.returncode, 0, "policy registered " + r.stderr)
    pol = (j or {}).get("policy", "")
    r = node.cli(["insurance", "fund", pol, "600", "--from", "alice"])
    t.eq(r.returncode, 0, "pool funded " + r.stderr)
    r = node.cli(["insurance", "enrol", pol, "--from", "bob"])
    t.eq(r.returncode, 0, "bob enrols with his own key " + r.stderr)
    # the node's key pays the settlement fee
    r = node.cli(["tx", "transfer", "--from", "alice", "--to", node.address("node"),
                  "--amount", "5", "--asset", "csc", "--wait"])
    t.eq(r.returncode, 0, "the node's account holds CSC for fees " + r.stderr)
    me = node.address("node")
    bob_pk = node.key("bob")["public_key"]

    def coverage(pid, policy):
        return {"resourceType": "Coverage", "id": "cov-" + pid, "status": "active",
                "beneficiary": {"reference": "Patient/" + pid},
                "payor": [{"display": "Cardiac cover"}],
                "identifier": [{"system": "urn:leben:policy", "value": policy}]}

    def episode(pid, n, billed=250, diag="I21.4", proc="0270346"):
        return [{"resourceType": "Condition", "id": "c-%s-%d" % (pid, n),
                 "subject": {"reference": "Patient/" + pid},
                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                      "code": diag}]},
                 "note": [{"text": "Episode %d: non-ST elevation myocardial infarction, troponin "
                           "rising over %d hours, admitted to the coronary care unit" % (n, n)}]},
                {"resourceType": "Procedure", "id": "p-%s-%d" % (pid, n), "status": "completed",
                 "subject": {"reference": "Patient/" + pid},
                 "code": {"coding": [{"system": "urn:icd-10-pcs", "code": proc}]},
                 "reasonReference": [{"reference": "Condition/c-%s-%d" % (pid, n)}],
                 "extension": [{"url": "urn:leben:billed",
                                "valueMoney": {"value": billed, "currency": "ASC"}}],
                 "note": [{"text": "Episode %d: percutaneous coronary intervention, drug "
                           "eluting stent %d" % (n, n)}]}]

    def claims():
        return node.get("/v1/insurance/auto-claims")[1].get("claims", [])

    def claim_of(proc_id, count=1):
        wait_for(lambda: len([c for c in claims() if c["procedure"] == proc_id]) >= count, 60)
        got = [c for c in claims() if c["procedure"] == proc_id]
        return got[count - 1] if len(got) >= count else {}

    node0, pool0 = asc(me), node.get("/v1/insurance/policies/" + pol)[1]["pool_balance"]
    st, j = call(node, clinic_sys, "POST", "/fhir", bundle(
        {"resourceType": "Patient", "id": "bob",
         "identifier": [{"system": "urn:leben:key", "value": bob_pk}]},
        coverage("bob", pol), *episode("bob", 1)))
    t.eq(st, 200, "the clinic's system writes the patient, Coverage, Condition and Procedure")
    c = claim_of("Procedure/p-bob-1")
    want = 250 * MICRO * 8000 // 10000
    t.ok(c.get("status") == "settled" and c.get("approved") == want,
         "a claim raised from the FHIR events, adjudicated and settled (200 ASC)", c)
    st, cl = node.get("/v1/insurance/claims/" + c.get("claim", "-"))
    t.ok(st == 200 and cl.get("settled") and
         cl.get("claimResponse", {}).get("outcome") == "complete",
         "the chain's Claim / ClaimResponse, settled", cl)
    t.eq((asc(me) - node0, node.get("/v1/insurance/policies/" + pol)[1]["pool_balance"]),
         (want, pool0 - want), "the pool paid the approved amount to the provider in ASC")
    # the same Procedure again (a new version, the same Condition): refused, nothing paid
    node1 = asc(me)
    ep = episode("bob", 1)
    ep[1]["note"][0]["text"] += " (corrected)"
    st, j = call(node, clinic_sys, "PUT", "/fhir/Procedure/p-bob-1", ep[1])
    t.eq(st, 200, "the Procedure is updated")
    c2 = claim_of("Procedure/p-bob-1", 2)
    t.ok(c2.get("status") == "refused" and "already claimed" in c2.get("error", ""),
         "the duplicate claim is refused with its reason", c2)
    t.eq(asc(me), node1, "and pays nothing")
    # a patient without Coverage: no claim
    st, j = call(node, clinic_sys, "POST", "/fhir", bundle(
        {"resourceType": "Patient", "id": "carol"}, *episode("carol", 1)))
    t.eq(st, 200, "an uninsured patient's events are stored")
    # a Coverage naming the policy for a patient who never enrolled
    dave = Key(b"\x64" * 32)
    st, j = call(node, clinic_sys, "POST", "/fhir", bundle(
        {"resourceType": "Patient", "id": "dave",
         "identifier": [{"system": "urn:leben:key", "value": dave.pk}]},
        coverage("dave", pol), *episode("dave", 1, billed=100)))
    t.eq(st, 200, "a non-enrolled patient's events are stored")
    c3 = claim_of("Procedure/p-dave-1")
    t.ok(c3.get("status") == "refused" and "not enrolled" in c3.get("error", ""),
         "a claim for a patient not enrolled is refused with its reason", c3)
    t.ok(not [x for x in claims() if x["procedure"] == "Procedure/p-carol-1"],
         "no claim for the uninsured patient", claims())
    t.eq(asc(me), node1, "nothing more was paid")


def main():
    t = Tap()
    node = Node(demo=True)
    device, other, clinic_sys = Key(b"\x51" * 32), Key(b"\x52" * 32), Key(b"\x53" * 32)
    try:
        os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
        # and a member key sharing the device key's first 16 hex digits: the applications get
        # the writer's whole key from the endpoint, not a prefix to look up again
        twin = device.pk[:16] + ("0" if device.pk[16] != "0" else "1") * 48
        with open(os.path.join(node.home, "fhir", "members"), "w") as f:
            f.write("%s\n%s\n%s\n%s\n" % (device.pk, other.pk, clinic_sys.pk, twin))
        node.start()
        node.institution = institution_key(node)
        monitoring(t, node, device, other)
        insurance(t, node, clinic_sys)
    finally:
        node.cleanup()
    t.done()


def institution_key(node):
    """The institution's signer for enrolments: a member key of the node (<home>/fhir/members)."""
    k = Key(b"\x54" * 32)
    with open(os.path.join(node.home, "fhir", "members"), "a") as f:
        f.write(k.pk + "\n")
    return k


if __name__ == "__main__":
    main()
