#!/usr/bin/env python3
"""The FHIR R4 endpoint of a node (docs/fhir.md), through real HTTP on a real node.

Attacks first: a request nobody signed, a bad signature, a stale time, a stranger's key, a
patient reading or searching another patient's records, a patient writing — all refused
with an OperationOutcome (401/403) and nothing changed. Then validation (impossible date,
dangling reference, unknown code, malformed JSON, unknown type, wrong LOINC check digit)
refused with the element's FHIRPath; the patient's own records and AuditEvents; NDJSON
import with a refused line; and the npm FHIR client (fhir-kit-client) with every returned
resource validated by the `fhir` package's R4 validator (tests/oracles/fhir_client.mjs)."""
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import run_cli, run_node  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class Key:
    def __init__(self, seed):
        self.seed = seed
        self.sk = Ed25519PrivateKey.from_private_bytes(seed)
        self.pk = self.sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw).hex()

    def headers(self, method, path, body=b"", t=None, tamper=False):
        t = str(int(time.time()) if t is None else t)
        bh = hashlib.blake2b(body, digest_size=32).hexdigest()
        msg = hashlib.blake2b(("LEBEN-fhir-v1\n%s\n%s\n%s\n%s" % (method, path, t, bh)).encode(),
                              digest_size=32).digest()
        sig = bytearray(self.sk.sign(msg))
        if tamper:
            sig[0] ^= 1
        return {"X-Leben-Key": self.pk, "X-Leben-Time": t, "X-Leben-Signature": bytes(sig).hex()}


def call(node, key, method, path, body=None, **kw):
    raw = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b"")
    if isinstance(raw, str):
        raw = raw.encode()
    h = key.headers(method, path.split("?")[0], raw, **kw) if key else {}
    st, j, hdr = node.http(method, path, raw if body is not None else None, h)
    return st, j


def members(node, *keys):
    """List keys as members of the node's institution (<home>/fhir/members)."""
    os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
    with open(os.path.join(node.home, "fhir", "members"), "w") as f:
        f.write("".join(k.pk + "\n" for k in keys))


def oo(j):
    """(code, text, expression) of an OperationOutcome's first issue."""
    if not isinstance(j, dict) or j.get("resourceType") != "OperationOutcome":
        return None
    i = j["issue"][0]
    return i.get("code"), i.get("details", {}).get("text", ""), (i.get("expression") or [""])[0]


def main():
    run_node(run)


def run(t, node):
    member = Key(b"\x11" * 32)
    alice, bob, stranger = Key(b"\x22" * 32), Key(b"\x33" * 32), Key(b"\x44" * 32)
    os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
    with open(os.path.join(node.home, "fhir", "members"), "w") as f:
        f.write(member.pk + "  # records desk\n")

    st, j = call(node, None, "GET", "/fhir/metadata")
    t.ok(st == 200 and j.get("resourceType") == "CapabilityStatement" and
         len(j["rest"][0]["resource"]) == 15, "metadata answers without authentication", st)
    params = {r["type"]: sorted(p["name"] for p in r["searchParam"]) for r in j["rest"][0]["resource"]}
    t.ok(params["Observation"] == ["_id", "code", "date", "patient", "subject"] and
         params["Patient"] == ["_id", "date", "patient", "subject"] and
         params["ResearchStudy"] == ["_id", "date"] and
         [o["name"] for o in j["rest"][0]["operation"]] == ["export"] and
         [i["code"] for i in j["rest"][0]["interaction"]] == ["transaction"],
         "the CapabilityStatement lists exactly the parameters each type is searched by", params)

    def patient(pid, key):
        return {"resourceType": "Patient", "id": pid, "gender": "female",
                "name": [{"family": "Zebulon" if pid == "alice" else "Quade"}],
                "identifier": [{"system": "urn:leben:key", "value": key.pk}]}

    def obs(oid, pid, date="2023-03-01"):
        return {"resourceType": "Observation", "id": oid, "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "subject": {"reference": "Patient/" + pid}, "effectiveDateTime": date}

    def tx(*res):
        return {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": r, "request": {"method": "PUT", "url": "%s/%s" % (r["resourceType"], r["id"])}}
            for r in res]}

    st, j = call(node, member, "POST", "/fhir", tx(patient("alice", alice), patient("bob", bob),
                                                   obs("o-a", "alice"), obs("o-b", "bob")))
    t.ok(st == 200 and j.get("type") == "transaction-response" and len(j["entry"]) == 4,
         "a member of the institution writes a transaction", (st, j))

    st, j = call(node, member, "GET", "/fhir/Patient/alice")
    raw = b""
    for suffix in ("", "-wal"):
        p = os.path.join(node.home, "fhir", "fhir.db" + suffix)
        if os.path.exists(p):
            raw += open(p, "rb").read()
    t.ok(st == 200 and j["name"][0]["family"] == "Zebulon" and b"Zebulon" not in raw and
         b"Patient/alice" not in raw and len(raw) > 0,
         "records are sealed at rest in fhir.db (the name is not in the file; it reads back)",
         (st, len(raw)))
    st, j = call(node, member, "GET", "/fhir/Provenance")
    pv = j.get("entry", [{}])[0].get("resource", {}) if st == 200 else {}
    t.ok(st == 200 and j["total"] == 1 and sorted(x["reference"] for x in pv.get("target", [])) ==
         ["Observation/o-a", "Observation/o-b", "Patient/alice", "Patient/bob"] and
         pv["agent"][0]["who"]["display"].startswith("member key") and
         pv["activity"]["coding"][0]["code"] == "CREATE",
         "the write is recorded as a Provenance (targets, agent, activity)", (st, pv))

    # --- attacks -------------------------------------------------------------------------
    st, j = call(node, None, "GET", "/fhir/Observation/o-a")
    t.ok(st == 401 and oo(j) and oo(j)[0] == "login", "an unsigned read is refused (401)", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Observation/o-a", tamper=True)
    t.ok(st == 401 and "does not verify" in oo(j)[1], "a bad signature is refused (401)", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Observation/o-a", t=int(time.time()) - 3600)
    t.ok(st == 401 and "clock" in oo(j)[1], "an hour-old signed request is refused", (st, j))
    st, j = call(node, stranger, "GET", "/fhir/Observation/o-a")
    t.ok(st == 403 and oo(j)[0] == "forbidden", "a stranger's key is refused (403)", (st, j))
    st, j = call(node, stranger, "GET", "/fhir/Observation?patient=alice")
    t.ok(st == 403, "a stranger cannot search", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Observation/o-b")
    t.ok(st == 403 and "own records" in oo(j)[1], "a patient cannot read another patient's "
         "Observation (403)", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Patient/bob")
    t.ok(st == 403, "a patient cannot read another Patient", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Observation/nope")
    t.ok(st == 403, "a patient cannot even learn whether another record exists", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Observation?patient=bob")
    t.ok(st == 403, "a patient cannot search another patient's records", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Observation?subject=Patient/bob")
    t.ok(st == 403, "... nor through subject=", (st, j))
    st, j = call(node, alice, "POST", "/fhir", tx(obs("o-x", "bob")))
    t.ok(st == 403 and oo(j)[0] == "forbidden", "a patient cannot write", (st, j))
    st, j = call(node, alice, "GET", "/fhir/$export")
    t.ok(st == 403, "a patient cannot bulk-export", (st, j))
    st, j = call(node, member, "GET", "/fhir/Observation/o-x")
    t.ok(st == 404 and oo(j)[0] == "not-found", "refused writes changed nothing", (st, j))

    # --- paging by cursor ----------------------------------------------------------------
    st, j = call(node, member, "GET", "/fhir/Patient?_count=1")
    nxt = [l["url"] for l in j.get("link", []) if l["relation"] == "next"]
    t.ok(st == 200 and j["total"] == 2 and len(j["entry"]) == 1 and nxt and "_after=" in nxt[0],
         "a page's next link carries a cursor (no offset to skip)", j)
    path = nxt[0][nxt[0].index("/fhir"):] if nxt else "/fhir/Patient"
    st, j2 = call(node, member, "GET", path)
    t.ok(st == 200 and len(j2["entry"]) == 1 and "total" not in j2 and
         j2["entry"][0]["resource"]["id"] != j["entry"][0]["resource"]["id"] and
         not [l for l in j2["link"] if l["relation"] == "next"],
         "following it gives the last page, without a next link", j2)

    # --- the patient's own records ---------------------------------------------------------
    st, j = call(node, alice, "GET", "/fhir/Observation/o-a")
    t.ok(st == 200 and j["id"] == "o-a", "a patient reads their own Observation", (st, j))
    st, j = call(node, alice, "GET", "/fhir/Observation")
    t.ok(st == 200 and j["total"] == 1 and j["entry"][0]["resource"]["id"] == "o-a",
         "a patient's search returns their records only", (st, j))
    st, j = call(node, alice, "GET", "/fhir/AuditEvent")
    whos = [e["resource"]["agent"][0]["who"]["display"] for e in j.get("entry", [])]
    t.ok(st == 200 and j["total"] >= 2 and "Patient/alice" in whos and
         all(e["resource"]["entity"][0]["what"]["reference"] == "Patient/alice"
             for e in j["entry"]), "a patient reads the AuditEvents of reads of their records",
         (st, whos))
    st, j = call(node, bob, "GET", "/fhir/AuditEvent")
    t.ok(st == 200 and all(e["resource"]["entity"][0]["what"]["reference"] == "Patient/bob"
                           for e in j.get("entry", [])), "... and not others'", (st, j))

    # --- validation -----------------------------------------------------------------------
    cases = [
        ("an impossible date (2023-02-30)", tx(obs("v1", "alice", "2023-02-30")), 422,
         "Observation.effectiveDateTime", "February 2023 has 28 days"),
        ("a reference to a missing patient", tx(obs("v2", "nobody")), 422,
         "Observation.subject.reference", "Patient/nobody"),
        ("a reference to an unserved type", tx(dict(obs("v3", "alice"), subject={"reference": "Spaceship/1"})), 422,
         "Observation.subject.reference", "Spaceship"),
        ("an unknown status code", tx(dict(obs("v4", "alice"), status="finished")), 422,
         "Observation.status", "unknown code"),
        ("a LOINC code with a wrong check digit", tx(dict(obs("v5", "alice"), code={"coding": [{"system": "http://loinc.org", "code": "8867-5"}]})), 422,
         "Observation.code.coding[0].code", "LOINC"),
        ("a SNOMED CT code with a wrong check digit", tx({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/alice"}, "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341004"}]}}), 422,
         "Condition.code.coding[0].code", "SNOMED"),
        ("a missing required element", tx({"resourceType": "Observation", "id": "v6", "status": "final"}), 422,
         "Observation.code", "required"),
        ("a string where an object belongs", tx(dict(obs("v7", "alice"), subject="Patient/alice")), 422,
         "Observation.subject", "object"),
    ]
    for name, body, code, expr, words in cases:
        st, j = call(node, member, "POST", "/fhir", body)
        o = oo(j)
        t.ok(st == code and o and o[2] == expr and words in o[1],
             "refused with the element named: " + name, (st, o))
    st, j = call(node, member, "POST", "/fhir", b'{"resourceType": "Bundle", "type": ')
    t.ok(st == 400 and oo(j)[0] == "structure", "malformed JSON is refused (400)", (st, j))
    st, j = call(node, member, "GET", "/fhir/Spaceship/1")
    t.ok(st == 404 and oo(j), "an unserved type is 404 with an OperationOutcome", (st, j))
    st, j = call(node, member, "GET", "/fhir/Observation?date=2023-02-30")
    t.ok(st == 400 and oo(j)[2] == "date", "a search by an impossible date is refused", (st, j))
    st, j = call(node, member, "GET", "/fhir/Observation?colour=red")
    t.ok(st == 400 and oo(j)[2] == "colour", "an unsupported search parameter is refused", (st, j))
    st, j = call(node, member, "GET", "/fhir/Patient?code=8867-4")
    t.ok(st == 400 and oo(j)[2] == "code", "a parameter the type is not searched by is refused",
         (st, j))
    st, j = call(node, member, "GET", "/fhir/Observation?_count=5000")
    t.ok(st == 400 and oo(j)[2] == "_count", "a page over 1000 is refused", (st, j))
    st, j = call(node, member, "GET", "/fhir/Observation?patient=alice")
    t.ok(st == 200 and j["total"] == 1, "refused transactions stored nothing", (st, j))
    with socket.create_connection(("127.0.0.1", node.port), timeout=20) as s:
        s.sendall(b"POST /fhir HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (9 << 20))
        head = s.recv(4096).decode("latin-1")
    t.ok(head.startswith("HTTP/1.1 413") and '"resourceType":"OperationOutcome"' in head and
         "too-costly" in head, "a body over the limit is refused (413 OperationOutcome)", head[:300])
    st, j = call(node, member, "DELETE", "/fhir/Patient/alice")
    t.ok(st == 405 and oo(j) and oo(j)[0] == "not-supported",
         "an interaction not served is 405 with an OperationOutcome", (st, j))
    st, j = call(node, member, "GET", "/fhir/a/b/c/d")
    t.ok(st == 404 and oo(j), "a path the endpoint does not have is 404 with an OperationOutcome",
         (st, j))
    st, j = call(node, member, "PUT", "/fhir/Patient/zed", {"resourceType": "Patient", "id": "other"})
    t.ok(st == 400 and oo(j)[2] == "id", "an update whose id is not the URL's is refused", (st, j))

    # --- NDJSON import -----------------------------------------------------------------
    lines = [json.dumps(obs("imp%d" % i, "alice", "2024-01-%02d" % (i + 1))) for i in range(20)]
    lines[7] = json.dumps(obs("imp7", "alice", "2024-13-01"))
    st, j = call(node, member, "POST", "/fhir/$import", ("\n".join(lines) + "\n").encode())
    p = {x["name"]: x.get("valueInteger", x.get("valueString")) for x in j.get("parameter", [])}
    t.ok(st == 200 and p.get("imported") == 19 and p.get("refused") == 1 and
         "line 8" in p.get("error", "") and "month 13" in p.get("error", ""),
         "NDJSON import stores the valid lines and names the refused one", (st, j))
    st, j = call(node, member, "GET", "/fhir/$export?_type=Observation")
    t.ok(st == 200 and isinstance(j, str) and len(j.strip().split("\n")) == 21,
         "a synchronous export answers NDJSON", (st, str(j)[:200]))

    # the export is a file the data layer reads: its directory entry comes from `data add`
    path = os.path.join(node.home, "export.ndjson")
    with open(path, "w") as f:
        f.write(j)
    r = run_cli(["data", "inspect", path, "--json"])
    d = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(d.get("bundle_type") == "ndjson" and d.get("resources") == 21 and d.get("patients") == 2
         and d.get("codes", {}).get("http://loinc.org|8867-4") == 21,
         "an NDJSON export is summarised by the data layer (types, codes, patients)", r.stdout + r.stderr)
    r = node.cli(["data", "add", path, "--key", "clinic", "--name", "fhir-export", "--json"])
    pub = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(len(pub.get("asset_id", "")) == 64, "... and published to the directory with data add",
         r.stdout + r.stderr)

    # --- leben fhir import: the node key signs, progress and a summary --------------------
    path = os.path.join(node.home, "in.ndjson")
    with open(path, "w") as f:
        for i in range(12):
            f.write(json.dumps(obs("cli%d" % i, "bob", "2024-02-%02d" % (i + 1))) + "\n")
        f.write('{"resourceType": "Observation", "id": "cli-bad"\n')
        f.write(json.dumps(dict(obs("cli-x", "bob"), status="done")) + "\n")
    r = node.cli(["fhir", "import", path, "--chunk", "5"])
    t.ok(r.returncode == 1 and "12 resources imported, 2 refused" in r.stdout and
         "line 13" in r.stdout and "line 14" in r.stdout and "Observation.status" in r.stdout,
         "leben fhir import streams the file in chunks and reports each refused line", r.stdout + r.stderr)
    st, j = call(node, member, "GET", "/fhir/Observation?patient=bob&_count=100")
    t.ok(st == 200 and j["total"] == 13, "the imported lines are searchable", (st, j.get("total")))
    r = node.cli(["fhir", "import", path, "--key", "alice"])
    t.ok(r.returncode == 1 and "403" not in r.stdout and "belongs to no patient" in r.stderr,
         "a key that is neither the node's nor a member's cannot import", r.stderr)

    # --- a FHIR client library from npm + R4 validation -------------------------------------
    r = subprocess.run(["node", "fhir_client.mjs", node.url + "/fhir", member.seed.hex()],
                       cwd=os.path.join(ROOT, "tests", "oracles"), capture_output=True,
                       text=True, timeout=120)
    try:
        res = json.loads(r.stdout)
    except ValueError:
        res = None
    t.ok(res is not None, "fhir-kit-client ran against the node", r.stderr[-2000:])
    if not res:
        return
    t.ok(res["capability"]["fhirVersion"] == "4.0.1" and len(res["capability"]["types"]) == 15,
         "the client reads the CapabilityStatement", res["capability"])
    t.ok(res["transaction"]["type"] == "transaction-response" and
         res["transaction"]["statuses"] == ["201 Created"] * 7,
         "the client's transaction (urn:uuid references) is created", res["transaction"])
    t.ok(res["read"]["birthDate"] == "1980-02-29" and res["read"]["version"] == "1",
         "the client reads the Patient back", res["read"])
    t.ok(res["total"] == 5 and [len(p) for p in res["pages"]] == [2, 2, 1] and
         sorted(sum(res["pages"], [])) == ["2023-0%d-15T10:00:00Z" % i for i in range(1, 6)],
         "paging with _count=2 follows the next links through all 5", res["pages"])
    t.ok(res["dated"] == ["2023-02-15T10:00:00Z", "2023-03-15T10:00:00Z"],
         "date=ge...&date=lt... selects the range", res["dated"])
    t.ok(res["coded"] == 1, "code=system|code finds the Condition", res["coded"])
    t.ok(res["badDate"]["status"] == 422 and
         res["badDate"]["expression"] == ["Observation.effectiveDateTime"],
         "the client sees the OperationOutcome naming the bad date", res["badDate"])
    t.ok(res["kickoff"] == 202 and res["manifest"]["status"] == 200 and
         res["manifest"]["types"] == ["Patient", "Observation"] and
         res["exported"]["Patient"] == 3 and res["exported"]["Observation"] == 38 and
         res["ndjsonType"] == "application/fhir+ndjson",
         "Bulk Data: kick-off, status manifest and NDJSON files", res)
    t.ok(res["checked"] > 30 and not res["invalid"],
         "every resource the node returned is valid R4 (fhir package validator, %d checked)"
         % res["checked"], res["invalid"])


if __name__ == "__main__":
    main()
