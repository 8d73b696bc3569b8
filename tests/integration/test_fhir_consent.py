#!/usr/bin/env python3
"""FHIR Consent and AuditEvent joined to the business chain (docs/fhir.md, "Mapping to the
chains"), on a real node with a real offered asset and registered patients.

Attacks first: a Consent carrying a consent tx signed by a key that is not the patient's
registered key is refused by the chain and nothing is stored; a Consent whose status says the
opposite of its signed tx, or whose identifiers name another asset, is refused naming the
element; a tx of another type is refused. Then: the patient's signed consent tx inside a
Consent goes to the business chain and the Consent reads active; a revocation made on the
chain (leben exchange consent --revoke) shows as status inactive without any FHIR write; the
patient's AuditEvent search lists the chain's events about their commitment (registration,
consent given, consent revoked) with their tx ids."""
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import run_node, uvarint  # noqa: E402
from test_exchange_consent import commit, offer_asset, register  # noqa: E402
from test_fhir import Key, call, oo  # noqa: E402

CONSENT = 0x0345
PROVENANCE = 0x0214


def main():
    run_node(run, tmp="leben-fhir-consent-")


def signed_consent(node, key, asset, patient, action):
    payload = asset + patient + ("%02x" % action)
    hexes = node.sign("raw", ["--from", key, "--chain", "business", "--type-id", str(CONSENT),
                              "--payload", payload])
    return base64.b64encode(bytes.fromhex(hexes[0])).decode()


def consent(cid, asset, patient, status, tx=None):
    r = {"resourceType": "Consent", "id": cid, "status": status,
         "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                               "code": "research"}]},
         "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
         "patient": {"reference": "Patient/pat1"},
         "identifier": [{"system": "urn:leben:asset", "value": asset},
                        {"system": "urn:leben:patient-commitment", "value": patient}]}
    if tx:
        r["extension"] = [{"url": "urn:leben:consent-tx", "valueBase64Binary": tx}]
    return r


def put(node, key, res):
    return call(node, key, "PUT", "/fhir/%s/%s" % (res["resourceType"], res["id"]), res)


def wait_status(node, key, want, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        st, j = call(node, key, "GET", "/fhir/Consent/c1")
        if st == 200 and j.get("status") == want:
            return j
        time.sleep(0.2)
    return j


def run(t, node, tmp):
    member, pkey = Key(b"\x11" * 32), Key(b"\x55" * 32)
    os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
    with open(os.path.join(node.home, "fhir", "members"), "w") as f:
        f.write(member.pk + "\n")
    rows = [("P%d" % i, 40 + i, 120 + i) for i in range(1, 7)]
    data, asset, _ = offer_asset(t, node, tmp, "cohort", rows)
    register(t, node, tmp, asset, data, {"P1": "alice", "P2": "bob"},
             "the owner registers P1 (alice's key) and P2 (bob's key)")
    p1 = commit(node.home, asset, "P1")
    st, j = put(node, member, {"resourceType": "Patient", "id": "pat1", "gender": "female",
                               "identifier": [{"system": "urn:leben:key", "value": pkey.pk}]})
    t.ok(st in (200, 201), "the Patient is written", (st, j))
    st, j = put(node, member, consent("c1", asset, p1, "proposed"))
    t.ok(st == 201, "a Consent naming the asset and P1's commitment is written", (st, j))
    st, j = call(node, member, "GET", "/fhir/Consent/c1")
    t.ok(st == 200 and j["status"] == "proposed",
         "registered on the chain, no consent yet: status proposed", j.get("status"))

    # --- attacks ------------------------------------------------------------------------
    st, j = put(node, member, consent("c1", asset, p1, "active",
                                      signed_consent(node, "bob", asset, p1, 1)))
    t.ok(st in (403, 422) and oo(j) and "refused" in oo(j)[1],
         "a consent tx signed by another key than P1's is refused by the chain", (st, j))
    st, j = call(node, member, "GET", "/fhir/Consent/c1")
    t.ok(j.get("meta", {}).get("versionId") == "1" and j["status"] == "proposed",
         "... and nothing was stored", j)
    st, j = put(node, member, consent("c1", asset, p1, "inactive",
                                      signed_consent(node, "alice", asset, p1, 1)))
    t.ok(st == 422 and oo(j)[2] == "Consent.status",
         "a Consent saying inactive with a tx that gives consent is refused (Consent.status)", (st, j))
    st, j = put(node, member, consent("c1", "00" * 32, p1, "active",
                                      signed_consent(node, "alice", asset, p1, 1)))
    t.ok(st == 422 and oo(j)[2] == "Consent.identifier",
         "a Consent naming another asset than its tx is refused (Consent.identifier)", (st, j))
    other = node.sign("record", ["--from", "alice", "--kind", "x.y", "--subject", "z"])[0]
    st, j = put(node, member, consent("c1", asset, p1, "active",
                                      base64.b64encode(bytes.fromhex(other)).decode()))
    t.ok(st == 422 and "xchg.consent" in oo(j)[1] and "extension" in oo(j)[2],
         "a tx of another type is refused (Consent.extension)", (st, j))

    # --- the patient's consent through FHIR, revocation on the chain ------------------------
    st, j = put(node, member, consent("c1", asset, p1, "active",
                                      signed_consent(node, "alice", asset, p1, 1)))
    txid = next((i["value"] for i in j.get("identifier", []) if i["system"] == "urn:leben:tx"), None)
    t.ok(st == 200 and txid and len(txid) == 64,
         "the patient's signed consent tx in a Consent is sent to the business chain", (st, j))
    j = wait_status(node, member, "active")
    st2, c = node.get("/v1/exchange/consents/%s/%s" % (asset, p1))
    t.ok(j.get("status") == "active" and c.get("status") == "given",
         "the chain records the consent given; the Consent reads active", (j.get("status"), c))
    r = node.cli(["exchange", "consent", "--from", "alice", "--asset", asset, "--patient", p1,
                  "--revoke"])
    t.ok(r.returncode == 0, "the patient revokes on the chain (leben exchange consent --revoke)",
         r.stderr)
    j = wait_status(node, member, "inactive")
    t.ok(j.get("status") == "inactive",
         "the revocation on the chain shows as Consent.status inactive", j.get("status"))
    st, j = call(node, pkey, "GET", "/fhir/Consent?patient=pat1")
    t.ok(st == 200 and j["total"] == 1 and j["entry"][0]["resource"]["status"] == "inactive",
         "... in the patient's own search too", (st, j))

    # --- Provenance from the directory chain's data.provenance events -------------------------
    text = lambda x: uvarint(len(x.encode())) + x.encode()  # noqa: E731
    payload = (bytes.fromhex(asset) + uvarint(1) + text("re-extracted") + bytes(range(32)) +
               text("new extractor version")).hex()
    hexes = node.sign("raw", ["--from", "clinic", "--chain", "directory", "--type-id",
                              str(PROVENANCE), "--payload", payload])
    st, r = node.post_txs({"tx": hexes[0]})
    ptx = r.get("id") if isinstance(r, dict) else None
    t.ok(st in (200, 202) and ptx and node.wait_tx(ptx) is not None,
         "the owner records a data.provenance event of the asset on the directory chain", (st, r))
    st, j = call(node, member, "GET", "/fhir/Provenance?_count=100")
    chain = [e["resource"] for e in j.get("entry", [])
             if any(x.get("url") == "urn:leben:tx" for x in e["resource"].get("extension", []))]
    pv = chain[0] if chain else {}
    t.ok(st == 200 and len(chain) == 1 and pv["extension"][0]["valueString"] == ptx and
         pv["target"][0]["identifier"]["value"] == asset and
         pv["activity"]["coding"][0]["code"] == "re-extracted" and
         pv["entity"][0]["what"]["identifier"]["value"] == bytes(range(32)).hex() and
         pv["reason"][0]["text"] == "new extractor version" and
         pv["agent"][0]["who"]["identifier"]["value"] == node.address("clinic"),
         "the event reads as a Provenance (asset, kind, digest, note, sender, tx id)", pv)
    st, j2 = call(node, member, "GET", "/fhir/Provenance?_count=100")
    t.ok(st == 200 and j2["total"] == j["total"], "read once: asking again adds nothing",
         (j["total"], j2.get("total")))
    st, j = call(node, pkey, "GET", "/fhir/Provenance")
    t.ok(st == 200 and j["total"] == 0, "a patient does not see the institution's asset events",
         (st, j.get("total")))

    # --- AuditEvents from the chain's log --------------------------------------------------
    st, j = call(node, pkey, "GET", "/fhir/AuditEvent?_count=100")
    chain = [e["resource"] for e in j.get("entry", [])
             if e["resource"]["type"].get("system") == "urn:leben:chain-event"]
    codes = [a["type"]["code"] for a in chain]
    t.ok(st == 200 and codes.count("xchg.patients") == 1 and codes.count("xchg.consent") == 2 and
         txid in [a["entity"][1]["what"]["identifier"]["value"] for a in chain],
         "the patient's AuditEvents list the chain's events about their commitment", codes)
    st, j2 = call(node, pkey, "GET", "/fhir/AuditEvent?_count=100")
    t.ok(st == 200 and j2["total"] == j["total"], "asking again adds no duplicates",
         (j["total"], j2.get("total")))


if __name__ == "__main__":
    main()
