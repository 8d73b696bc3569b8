#!/usr/bin/env python3
"""The cohort application's study and participants served by /fhir as ResearchStudy and
ResearchSubject, generated from the business chain (docs/fhir.md, docs/apps.md section 3),
on a real node.

An institution offers a table and registers two patients' consent keys; an ethics committee
(k = 2 of e1, e2) is registered, alice files a protocol. Attacks first: a stranger's key and a
patient's key are refused (only the institution's members read these). Then: the study is
`in-review` before approval and `active` after (read and search), each opt-in is an
`on-study` ResearchSubject naming the study and the patient's commitment, a withdrawal shows
as `withdrawn` without any FHIR write; every resource passes the R4 validator
(tests/oracles/fhir_validate.mjs)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, run_cli, run_node  # noqa: E402
from test_fhir import Key, call, members  # noqa: E402


def r4_invalid(resources):
    r = subprocess.run(["node", os.path.join(ROOT, "tests", "oracles", "fhir_validate.mjs")],
                       input=json.dumps(resources), capture_output=True, text=True, timeout=120)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        return ["validator failed: " + r.stderr[-500:]]
    return out["invalid"] if out.get("checked") == len(resources) else ["not all checked", out]


def main():
    run_node(run)


def must(t, r, what):
    if not t.ok(r.returncode == 0, what, r.stdout + r.stderr):
        raise SystemExit(t.done())
    return r


def run(t, node):
    with tempfile.TemporaryDirectory(prefix="leben-fhir-cohort-") as tmp:
        flow(t, node, tmp)


def flow(t, node, tmp):
    member, stranger = Key(b"\x11" * 32), Key(b"\x44" * 32)
    members(node, member)
    cli = node.cli
    for k in ("e1", "e2", "p0", "p1"):
        must(t, run_cli(["keys", "new", k, "--home", node.home]), "key " + k)
    addr = {k: node.address(k) for k in ("alice", "p0", "p1", "node")}
    data = os.path.join(tmp, "bp.csv")
    with open(data, "w") as f:
        f.write("patient_id,age,sbp\n")
        for n in range(6):
            f.write("H_%d,%d,%d\n" % (n, 45 + 3 * n, 120 + 4 * n))
    r, reg = node.cli_json(["data", "add", data, "--key", "clinic", "--price", "0", "--name",
                            "hypertension cohort", "--allow-near"])
    must(t, r, "the institution registers its table")
    must(t, cli(["tx", "identity", "--from", "clinic", "--role", "provider", "--name",
                 "institution-1", "--wait"]), "identity")
    r, off = node.cli_json(["exchange", "offer", "--from", "clinic", "--asset-tx", reg["tx"],
                            "--price", "0", "--min-cohort", "3", "--data", data, "--opt-out",
                            "--legal-basis", "research under an ethics committee's approval"])
    must(t, r, "the institution offers it")
    asset = off["asset"]
    keys = os.path.join(tmp, "keys.csv")
    with open(keys, "w") as f:
        f.write("local_id,address\nH_0,%s\nH_1,%s\n" % (addr["p0"], addr["p1"]))
    must(t, cli(["exchange", "patients", "--from", "clinic", "--asset", asset, "--data", data,
                 "--keys", keys, "--out", os.path.join(tmp, "cards")]), "consent keys registered")
    cards = []
    for n in range(2):
        c = os.path.join(tmp, "card%d.json" % n)
        must(t, cli(["exchange", "opening", "--asset", asset, "--patient", "H_%d" % n, "--out",
                     c]), "opening card %d" % n)
        cards.append(c)
    r, cm = node.cli_json(["cohort", "committee", "--from", "clinic", "--name", "board",
                           "--members", "e1,e2", "--k", "2"])
    must(t, r, "the ethics committee")
    proto = os.path.join(tmp, "protocol.json")
    with open(proto, "w") as f:
        json.dump({"title": "Blood pressure follow-up", "criteria": {"q": "hypertension"},
                   "algorithms": [{"algorithm": "stats", "params": {"columns": ["age", "sbp"]}}],
                   "schedule": {"start_height": 0, "interval_blocks": 2, "rounds": 2}}, f)
    r, co = node.cli_json(["cohort", "create", "--from", "alice", "--name", "bp", "--committee",
                           cm["committee"], "--protocol", proto])
    must(t, r, "alice files the protocol")
    cid = co["cohort"]

    # ---- attacks: only the institution reads these --------------------------------------------
    st, j = call(node, stranger, "GET", "/fhir/ResearchStudy/" + cid)
    t.ok(st == 403, "a stranger's key cannot read the ResearchStudy", j)
    st, j = call(node, None, "GET", "/fhir/ResearchSubject")
    t.ok(st == 401, "an unsigned search of ResearchSubject is refused", j)

    st, rs = call(node, member, "GET", "/fhir/ResearchStudy/" + cid)
    t.ok(st == 200 and rs.get("status") == "in-review" and
         rs.get("title") == "Blood pressure follow-up",
         "before approval the study is an in-review ResearchStudy", rs)
    for e in ("e1", "e2"):
        must(t, cli(["cohort", "approve", "--from", e, "--cohort", cid, "--protocol-hash",
                     co["protocol_hash"]]), e + " approves")
    st, rs = call(node, member, "GET", "/fhir/ResearchStudy/" + cid)
    t.ok(st == 200 and rs.get("status") == "active", "after k approvals it is active", rs)
    for n in range(2):
        must(t, cli(["cohort", "optin", "--from", "p%d" % n, "--cohort", cid, "--opening",
                     cards[n]]), "patient %d opts in" % n)
    st, b = call(node, member, "GET", "/fhir/ResearchSubject")
    subs = [e["resource"] for e in b.get("entry", [])]
    t.ok(st == 200 and b.get("total") == 2 and all(
        s["status"] == "on-study" and s["study"]["reference"] == "ResearchStudy/" + cid
        for s in subs), "each opt-in is an on-study ResearchSubject of the study", b)
    card0 = json.load(open(cards[0]))
    com0 = card0.get("commitment") or card0.get("patient")
    mine = [s for s in subs if s["individual"]["identifier"]["value"] == com0]
    t.ok(len(mine) == 1, "the participant is named by its commitment only", subs)
    must(t, cli(["cohort", "withdraw", "--from", "p0", "--cohort", cid, "--opening", cards[0]]),
         "patient 0 withdraws")
    sid = mine[0]["id"] if mine else "x"
    st, s0 = call(node, member, "GET", "/fhir/ResearchSubject/" + sid)
    t.ok(st == 200 and s0.get("status") == "withdrawn",
         "the withdrawal on the chain shows as a withdrawn ResearchSubject", s0)
    st, b2 = call(node, member, "GET", "/fhir/ResearchStudy?_id=" + cid)
    t.ok(st == 200 and b2.get("total") == 1, "search finds the study by _id", b2)
    st, j = call(node, Key(b"\x55" * 32), "GET", "/fhir/ResearchSubject/" + sid)
    t.ok(st == 403, "a key that is no member reads no participant", j)
    bad = r4_invalid([rs, s0] + subs + [e["resource"] for e in b2.get("entry", [])])
    t.ok(not bad, "every ResearchStudy and ResearchSubject is valid R4 (fhir package)", bad)


if __name__ == "__main__":
    main()
