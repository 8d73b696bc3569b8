#!/usr/bin/env python3
"""FHIR records as vault objects, the node's FHIR directory entry, and purge reaching them
(docs/fhir.md, "Vault, directory entry and purge"), through a real node.

Each record is sealed under its own key (distinct wrapped keys, no plaintext in the file);
the node registers one directory asset describing its FHIR records (counts, patients, codes,
dates) and updates it after writes. Attacks after a patients' purge (`leben data purge ASSET
--patient p1`): read, vread, _history, search, $export and the patient's own key return
nothing of p1 (410 Gone / empty), the wrapped keys and ciphertexts of p1's records are no
longer anywhere in fhir.db (nor its write-ahead log), re-writing p1 is refused; the
holder's receipt names p1's objects; the entry reflects it. Then a whole-asset purge."""
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import wait_for, run_node  # noqa: E402
from test_fhir import Key, call, members  # noqa: E402


def patient(pid, key=None):
    r = {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1970-03-04"}
    if key:
        r["identifier"] = [{"system": "urn:leben:key", "value": key.pk}]
    return r


def obs(oid, pid, code="8867-4", when="2023-05-01T10:00:00Z"):
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "Patient/" + pid}, "effectiveDateTime": when,
            "valueQuantity": {"value": 72, "unit": "/min"}}


def bundle(resources):
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"resource": r, "request": {"method": "PUT",
                                                  "url": "%s/%s" % (r["resourceType"], r["id"])}}
                      for r in resources]}


def asset_state(node):
    try:
        return json.load(open(os.path.join(node.home, "fhir", "asset.json")))
    except (OSError, ValueError):
        return {}


def entry_after(node, version, pred=lambda e: True):
    """The committed directory entry once its version reaches `version` and pred holds."""
    got = {}

    def ready():
        a = asset_state(node)
        if a.get("version", 0) < version or "pending" in a:
            return False
        st, j = node.get("/v1/directory/assets/" + a["asset_id"])
        got.clear()
        got.update(j if st == 200 else {})
        return st == 200 and pred(j)
    wait_for(ready, 60)
    return got


def features(j):
    return (j.get("entry") or {}).get("data", {}).get("features", {})


def main():
    run_node(run)


def run(t, node):
    member, alice = Key(b"\x11" * 32), Key(b"\x22" * 32)
    members(node, member)
    res = [patient("p1", alice), patient("p2"), obs("o1", "p1"), obs("o2", "p2", "8480-6"),
           obs("o3", "p1", when="2024-01-02T08:00:00Z"),
           {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
            "onsetDateTime": "2022-11-30"}]
    st, j = call(node, member, "POST", "/fhir", bundle(res))
    t.ok(st == 200, "the institution writes 2 patients, 3 Observations, 1 Condition", j)

    # ---- vault objects --------------------------------------------------------------------
    db = os.path.join(node.home, "fhir", "fhir.db")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT type, id, patient, json, okey, obj FROM res").fetchall()
    con.close()
    t.ok(len(rows) >= 6 and all(r[4] is not None and len(r[4]) == 72 for r in rows),
         "every record carries its own wrapped object key", [(r[0], r[1]) for r in rows])
    t.eq(len({bytes(r[4]) for r in rows}), len(rows), "no two records share an object key")
    t.ok(all(isinstance(r[3], bytes) and b"8867-4" not in r[3] and b"female" not in r[3]
             for r in rows), "no record is readable in the file")
    p1rows = [r for r in rows if r[2] == "p1" or (r[0] == "Patient" and r[1] == "p1")]
    t.eq(sorted((r[0], r[1]) for r in p1rows),
         [("Condition", "c1"), ("Observation", "o1"), ("Observation", "o3"), ("Patient", "p1")],
         "p1's compartment: Patient, two Observations, the Condition")

    # ---- the directory entry ------------------------------------------------------------------
    e = entry_after(node, 1)
    asset = asset_state(node).get("asset_id", "")
    f = features(e)
    ent = e.get("entry") or {}
    t.ok(f.get("patients") == "2" and f.get("resources.Observation") == "3" and
         f.get("resources.Condition") == "1", "the node registered its FHIR asset with the "
         "counts by type and patients", e)
    t.ok(f.get("date_min") == "1970-03-04" and f.get("date_max") == "2024-01-02",
         "the entry gives the date range", f)
    codes = ent.get("semantic", {}).get("codes", [])
    t.ok("loinc|8867-4" in codes and "loinc|8480-6" in codes and "snomed|38341003" in codes,
         "the entry lists the codes", codes)
    t.eq(ent.get("data", {}).get("format"), "fhir", "the entry's format is fhir")
    st, j = call(node, member, "POST", "/fhir", bundle([obs("o4", "p2", when="2024-02-02T08:00:00Z")]))
    e = entry_after(node, 2)
    t.ok(features(e).get("resources.Observation") == "4" and
         e.get("attributes", {}).get("entry_version") == "2",
         "a later write updates the entry (version 2)", e)

    node.stop()
    node.start()
    time.sleep(3)
    a = asset_state(node)
    t.ok(a.get("version") == 2 and "pending" not in a,
         "a restart with the same records sends no new version", a)

    # ---- a patients' purge of p1 -----------------------------------------------------------
    with open(db, "rb") as fh:
        before = fh.read()
    secrets = [bytes(r[4]) for r in p1rows] + [bytes(r[3])[:64] for r in p1rows]
    t.ok(all(s in before for s in secrets), "before the purge the file holds p1's keys and "
         "ciphertexts (the check below can fail)")
    r = node.cli(["data", "purge", asset, "--patient", "p1", "--reason", "patient asked",
                  "--json"])
    t.ok(r.returncode == 0, "the owner asks for p1's purge", r.stdout + r.stderr)
    s = {}

    def answered():
        rr = node.cli(["data", "purge-status", asset, "--json"])
        try:
            s.update(json.loads(rr.stdout))
        except ValueError:
            return False
        reqs = s.get("requests", [])
        return bool(reqs) and reqs[-1].get("complete")
    wait_for(answered, 60)
    req = (s.get("requests") or [{}])[-1]
    hold = (req.get("holders") or [{}])[0]
    t.ok(req.get("complete") and hold.get("status") == "answered" and hold.get("objects") == 4,
         "the node's receipt names p1's four destroyed records", req)
    # the receipt on the chain names exactly p1's records (their object names)
    rtx = [x for blk in range(1, node.get("/v1/status")[1]["chains"]["directory"]["height"] + 1)
           for x in node.get("/v1/chains/directory/blocks/%d" % blk)[1]["txs"]
           if x["type"] == "data.purge.receipt" and x["payload"]["request"] == req.get("request")]
    names = {bytes(r[5]).hex() for r in p1rows}
    t.ok(rtx and set(rtx[0]["payload"]["objects"]) == names,
         "the receipt on the chain lists exactly p1's object names", rtx)

    # attacks: nothing of p1 through /fhir
    for path in ("/fhir/Patient/p1", "/fhir/Observation/o1", "/fhir/Condition/c1",
                 "/fhir/Patient/p1/_history", "/fhir/Observation/o3/_history/1"):
        st, j = call(node, member, "GET", path)
        t.ok(st == 410 and j.get("resourceType") == "OperationOutcome" and
             j["issue"][0]["code"] == "deleted", "GET %s: 410 Gone" % path, (st, j))
    st, j = call(node, member, "GET", "/fhir/Observation?patient=p1")
    t.ok(st == 200 and j.get("total") == 0 and not j.get("entry"), "search patient=p1: none", j)
    st, j = call(node, member, "GET", "/fhir/Observation")
    ids = sorted(x["resource"]["id"] for x in j.get("entry", []))
    t.eq(ids, ["o2", "o4"], "search of Observations: only p2's")
    st, j = call(node, member, "GET", "/fhir/Condition?code=38341003")
    t.ok(st == 200 and j.get("total") == 0, "search by the purged Condition's code: none", j)
    st, body, _ = node.http("GET", "/fhir/$export", None,
                            member.headers("GET", "/fhir/$export"))
    text = body if isinstance(body, str) else json.dumps(body)
    t.ok(st == 200 and '"p1"' not in text and "o1" not in text and "o3" not in text and
         "o2" in text, "$export holds nothing of p1", text[:300])
    st, j = call(node, alice, "GET", "/fhir/Observation?patient=p1")
    t.ok(st == 403, "p1's own key no longer identifies a patient here", j)
    st, j = call(node, member, "PUT", "/fhir/Patient/p1", patient("p1"))
    t.ok(st in (403, 410) and "purged" in json.dumps(j), "writing p1 again is refused", j)
    st, j = call(node, member, "POST", "/fhir/$import",
                 (json.dumps(obs("o9", "p1")) + "\n" + json.dumps(obs("o10", "p2")) + "\n"))
    par = {p["name"]: p.get("valueInteger", p.get("valueString"))
           for p in (j or {}).get("parameter", [])}
    t.ok(st == 200 and par.get("imported") == 1 and par.get("refused") == 1 and
         "purged" in json.dumps(j), "an import line of p1 is refused, the other stored", j)
    with open(db, "rb") as fh:
        after = fh.read()
    wal = db + "-wal"
    if os.path.exists(wal):
        with open(wal, "rb") as fh:
            after += fh.read()
    t.ok(not any(s in after for s in secrets),
         "p1's wrapped keys and ciphertexts are nowhere in fhir.db or its log")
    e = entry_after(node, 3, lambda x: features(x).get("patients") == "1")
    t.ok(features(e).get("patients") == "1" and "resources.Condition" not in features(e),
         "the directory entry reflects the purge", e)

    # ---- the whole asset ------------------------------------------------------------------
    r = node.cli(["data", "purge", asset, "--reason", "closing", "--json"])
    t.ok(r.returncode == 0, "the owner purges its whole FHIR asset", r.stdout + r.stderr)
    s.clear()
    wait_for(lambda: answered() and s["requests"][-1].get("scope") == "asset", 60)
    t.ok(s.get("purged") and s["requests"][-1].get("complete"),
         "the whole-asset purge is complete", s)
    st, j = call(node, member, "GET", "/fhir/Observation/o2")
    t.ok(st == 410, "after the whole purge every record is 410 Gone", (st, j))
    st, j = call(node, member, "GET", "/fhir/Observation")
    t.ok(st == 200 and j.get("total") == 0, "and searches find nothing", j)


if __name__ == "__main__":
    main()
