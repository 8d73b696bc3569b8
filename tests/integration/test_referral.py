#!/usr/bin/env python3
"""Application 1, smart diagnosis and referral (docs/apps.md §1), through a real node, its
HTTP API, its FHIR endpoint and the CLI: a practice runs the CHD screening contract (anchored
sessions, one positive and one negative); every refusal (a referral without a positive session,
from a session never anchored, from someone else's session, to an institution that is no
specialist, beyond the store wallet, twice for one session; accepting by a non-specialist and
by a specialist the referral is not addressed to, consulting or reporting out of order,
accepting or reporting twice) is refused with its own error and changes nothing; the value of
the diagnosis lands in the four parties' wallets (provider hospital, developer team, practice,
platform pool) with the amounts of the market's diagnosis split table, set in genesis to shares
no other table has and computed here; ServiceRequest, Task, Encounter and Observation are read back through /fhir
and hash to what the chain recorded, and are valid R4 (the npm `fhir` validator); no patient
id reaches the chain."""

import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (ROOT, Node, Tap, address_bytes, address_of,  # noqa: E402
                       bech32m_encode, blake2b256, run_cli, scratch_dir, uvarint)
from test_fhir import Key, call  # noqa: E402

CHD = os.path.join(ROOT, "examples", "contracts", "chd_screening.pf")
FEE = 20000000  # 20 ASC, micro-units
SPEC = "fetal-cardiology"
# the diagnosis split table of this chain's genesis (ppm): provider hospital (owner), developer
# team (authors), practice (executor), platform; unlike every default table, so a payment
# through another table cannot match
DIAGNOSIS = {"owner": 230000, "authors": 470000, "executor": 130000, "platform": 170000}
# the default diagnosis table (docs/economy.md), which the business chain's store wallets use
DEFAULT_DIAGNOSIS = {"owner": 200000, "authors": 550000, "executor": 100000, "platform": 150000}


def diagnosis_split(fee, table=DIAGNOSIS):
    """(developer, provider, practice, platform) shares of fee, floor per role, the rest to the
    platform (docs/economy.md): computed here, not by the node."""
    d = fee * table["authors"] // 10**6
    p = fee * table["owner"] // 10**6
    g = fee * table["executor"] // 10**6
    return d, p, g, fee - d - p - g


def pool_address():
    return bech32m_encode("lb", hashlib.blake2b(b"LEBEN-store-platform-pool-v1",
                                                digest_size=32).digest()[:20])


def main():
    t = Tap()
    tmp = scratch_dir("leben-referral-")
    node = Node(demo=True)
    try:
        gpath = os.path.join(node.home, "genesis.json")
        with open(gpath) as f:
            g = json.load(f)
        g["store_wallets"] = [{"address": node.address("clinic"), "asc": 50000000},
                              {"address": node.address("bob"), "asc": 1000000}]
        g["market"] = {"platform": address_of(b"\x11" * 32), "splits": {"diagnosis": DIAGNOSIS}}
        with open(gpath, "w") as f:
            json.dump(g, f)
        member = Key(b"\x55" * 32)
        os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
        with open(os.path.join(node.home, "fhir", "members"), "w") as f:
            f.write(member.pk + "\n")
        node.start()
        run(t, node, tmp, member)
    finally:
        node.cleanup()
    t.done()


def wallet(node, addr):
    st, w = node.get("/v1/store/wallets/" + addr)
    return w.get("wallet") if st == 200 else None


def run(t, node, tmp, member):
    A = node.address
    gp, spec, dev, prov, other = "clinic", "bob", "alice", "bank", "bank"

    # ---- the knowledge developer team publishes; the practice screens ----
    r, j = node.cli_json(["contract", "publish", CHD, "--key", dev])
    t.eq(r.returncode, 0, "the developer team publishes the CHD screening contract " + r.stderr)

    def screen(name, answers, key=gp, complete=True):
        af, rec = os.path.join(tmp, name + ".json"), os.path.join(tmp, name + ".rec.json")
        with open(af, "w") as f:
            json.dump(answers, f)
        r = node.cli(["contract", "run", CHD, "--answers", af, "--anchor", "--key", key,
                      "--anchor-record", rec, "--today", "2026-05-01"])
        t.eq(r.returncode, 0 if complete else 1, "screening '%s' anchored %s" % (name, r.stderr))
        return json.load(open(rec)).get("session", "") if os.path.exists(rec) else ""

    positive = screen("positive", {"gestation_weeks": 20, "four_chamber": "abnormal",
                                   "outflow_tracts": "normal", "risk_factors": ["none"]})
    negative = screen("negative", {"gestation_weeks": 21, "four_chamber": "normal",
                                   "outflow_tracts": "normal", "nt_mm": 2.0,
                                   "risk_factors": ["none"]})
    bobs = screen("bobs", {"gestation_weeks": 20, "four_chamber": "abnormal",
                           "outflow_tracts": "normal", "risk_factors": ["none"]}, key=spec)

    unfinished = screen("unfinished", {"gestation_weeks": 20}, complete=False)

    # the patient's record at the practice's node
    nd = os.path.join(tmp, "patient.ndjson")
    with open(nd, "w") as f:
        f.write(json.dumps({"resourceType": "Patient", "id": "p-anna-77",
                            "name": [{"family": "Lindqvist", "given": ["Anna"]}],
                            "birthDate": "1991-04-12"}) + "\n")
    r = node.cli(["fhir", "import", nd])
    t.eq(r.returncode, 0, "the patient is in the practice's FHIR store " + r.stderr)

    r = node.cli(["referral", "specialist", SPEC, "--from", spec])
    t.eq(r.returncode, 0, "the specialist institution declares its specialty " + r.stderr)
    r = node.cli(["referral", "specialist", SPEC, "--from", spec])
    t.ok(r.returncode == 1 and "already" in r.stderr and "LB_EEXISTS" in r.stderr,
         "a second declaration is refused", r.stderr)

    def state():
        st, lst = node.get("/v1/referrals")
        return (json.dumps(lst, sort_keys=True),
                tuple(wallet(node, a) for a in (A(gp), A(spec), A(dev), A(prov), pool_address())))

    base = ["referral", "create", "--to", spec, "--specialty", SPEC, "--patient", "p-anna-77",
            "--provider", prov, "--fee", "20"]
    before = state()
    r = node.cli(base + ["--session", negative, "--from", gp])
    t.ok(r.returncode == 1 and "not positive" in r.stderr,
         "CLI: a negative session has nothing to refer", r.stderr)
    r = node.cli(base + ["--session", negative, "--candidate", "refer_fetal_cardiology",
                         "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "did not commit 'refer_fetal_cardiology'" in r.stderr
         and "LB_EINVALID" in r.stderr, "chain: a negative session is refused", r.stderr)
    r = node.cli(base + ["--session", negative, "--candidate", "routine_care", "--from", gp,
                         "--no-fhir"])
    t.ok(r.returncode == 1 and "not a referral outcome" in r.stderr,
         "chain: a non-referral candidate is refused", r.stderr)
    r = node.cli(base + ["--session", unfinished, "--candidate", "refer_fetal_cardiology",
                         "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "is not complete" in r.stderr and "LB_EINVALID" in r.stderr,
         "a session not finished (the run stopped half way) is refused", r.stderr)
    r = node.cli(base + ["--session", "ab" * 32, "--candidate", "refer_fetal_cardiology",
                         "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "not anchored" in r.stderr and "LB_ENOTFOUND" in r.stderr,
         "a session never anchored is refused", r.stderr)
    r = node.cli(base + ["--session", bobs, "--candidate", "refer_fetal_cardiology",
                         "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "refer only from your own" in r.stderr
         and "LB_EUNAUTH" in r.stderr, "someone else's session is refused", r.stderr)
    bad_to = list(base)
    bad_to[bad_to.index("--to") + 1] = other
    r = node.cli(bad_to + ["--session", positive, "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "is not a specialist institution for " + SPEC in r.stderr,
         "a referral to an institution that is no specialist is refused", r.stderr)
    self_to = list(base)
    self_to[self_to.index("--to") + 1] = gp
    r = node.cli(self_to + ["--session", positive, "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "cannot refer to itself" in r.stderr, "a self-referral", r.stderr)
    r = node.cli(["referral", "specialist", "Fetal Cardiology", "--from", other])
    t.ok(r.returncode == 1 and "is not a name" in r.stderr, "a specialty that is not a name",
         r.stderr)
    rich = list(base)
    rich[rich.index("--fee") + 1] = "5000"
    r = node.cli(rich + ["--session", positive, "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "LB_EFUNDS" in r.stderr and "holds 50000000" in r.stderr,
         "a fee beyond the store wallet is refused", r.stderr)
    r = node.cli(base[:-2] + ["--fee", "x", "--session", positive, "--from", gp])
    t.ok(r.returncode == 1 and "--fee x is not an amount" in r.stderr, "a bad fee", r.stderr)
    t.eq(state(), before, "the refused referrals changed no referral and no wallet")

    # ---- the referral: the value split among the four parties, computed here ----
    r, j = node.cli_json(base + ["--session", positive, "--from", gp])
    t.eq(r.returncode, 0, "the practice refers after the positive session " + r.stderr)
    j = j or {}
    ref = j.get("referral", "")
    w0 = before[1]
    dev_share, prov_share, gp_share, pool_share = diagnosis_split(FEE, DEFAULT_DIAGNOSIS)
    t.eq(tuple(wallet(node, a) for a in (A(gp), A(dev), A(prov), pool_address())),
         (w0[0] - FEE + gp_share, (w0[2] or 0) + dev_share, (w0[3] or 0) + prov_share,
          (w0[4] or 0) + pool_share),
         "practice pays 20 ASC from its store wallet through the default diagnosis table: "
         "developer team 55 %, provider hospital 20 %, practice 10 %, platform pool the rest")
    st, m = node.get("/v1/market")
    t.eq(((m or {}).get("splits") or {}).get("diagnosis"),
         dict({"patients": 0, "ancestors": 0, "algorithm-author": 0, "audit": 0}, **DIAGNOSIS),
         "GET /v1/market shows the diagnosis table of genesis")
    r = node.cli(base + ["--session", positive, "--from", gp, "--no-fhir"])
    t.ok(r.returncode == 1 and "referred already" in r.stderr and "LB_EEXISTS" in r.stderr,
         "a second referral from one session is refused", r.stderr)

    # ---- the specialist's side: refusals first ----
    def rec():
        st, x = node.get("/v1/referrals/" + ref)
        return x

    before = state()
    r = node.cli(["referral", "accept", ref, "--from", other])
    t.ok(r.returncode == 1 and "is not a specialist institution" in r.stderr
         and "LB_EUNAUTH" in r.stderr, "a non-specialist institution may not accept", r.stderr)
    r = node.cli(["referral", "specialist", SPEC, "--from", other])
    t.eq(r.returncode, 0, "another institution declares the specialty " + r.stderr)
    before = state()
    r = node.cli(["referral", "accept", ref, "--from", other])
    t.ok(r.returncode == 1 and "is addressed to " + A(spec) in r.stderr
         and "LB_EUNAUTH" in r.stderr, "a specialist may not accept someone else's referral",
         r.stderr)
    r = node.cli(["referral", "consult", ref, "--from", spec])
    t.ok(r.returncode == 1 and "is requested: accept it first" in r.stderr,
         "no consultation before acceptance", r.stderr)
    r = node.cli(["referral", "report", ref, "--from", spec, "--outcome", "confirmed",
                  "--conclusion", "x"])
    t.ok(r.returncode == 1 and "accept it first" in r.stderr, "no report before acceptance",
         r.stderr)
    r = node.cli(["referral", "accept", "cd" * 32, "--from", spec])
    t.ok(r.returncode == 1 and "no referral" in r.stderr, "an unknown referral", r.stderr)
    t.eq(state(), before, "the refused steps changed nothing")

    r, j = node.cli_json(["referral", "accept", ref, "--from", spec])
    t.eq(r.returncode, 0, "the specialist accepts " + r.stderr)
    r = node.cli(["referral", "accept", ref, "--from", spec])
    t.ok(r.returncode == 1 and "accepted already" in r.stderr and "LB_EEXISTS" in r.stderr,
         "accepting twice is refused", r.stderr)
    r = node.cli(["referral", "report", ref, "--from", spec, "--outcome", "confirmed",
                  "--conclusion", "x"])
    t.ok(r.returncode == 1 and "is accepted: consult it first" in r.stderr,
         "no report before the consultation", r.stderr)
    r, j = node.cli_json(["referral", "consult", ref, "--from", spec, "--start",
                          "2026-05-03T09:00:00Z", "--end", "2026-05-03T09:30:00Z"])
    t.eq(r.returncode, 0, "the telemedicine consultation is recorded " + r.stderr)
    conclusion = "Fetal echocardiography: ventricular septal defect, 3 mm; follow-up at 28 weeks"
    r, j = node.cli_json(["referral", "report", ref, "--from", spec, "--outcome", "confirmed",
                          "--conclusion", conclusion])
    t.eq(r.returncode, 0, "the specialist reports back " + r.stderr)
    before = state()
    r = node.cli(["referral", "report", ref, "--from", spec, "--outcome", "confirmed",
                  "--conclusion", "again"])
    t.ok(r.returncode == 1 and "reported already" in r.stderr and "LB_EEXISTS" in r.stderr,
         "reporting twice is refused", r.stderr)
    t.eq(state(), before, "the second report changed nothing")

    # ---- what the chain recorded ----
    x = rec()
    t.eq((x.get("status"), x.get("practice"), x.get("specialist"), x.get("developer"),
          x.get("provider"), x.get("session"), x.get("outcome"), x.get("fee")),
         ("completed", A(gp), A(spec), A(dev), A(prov), positive, "confirmed", FEE),
         "the referral's record: parties, session, outcome, fee")
    steps = x.get("steps") or []
    t.eq([s.get("step") for s in steps], ["create", "accept", "consult", "report"],
         "four steps, each with its block, time and tx")
    heights = [s.get("height", 0) for s in steps]
    t.ok(heights == sorted(heights) and all(s.get("time_ms", 0) > 0 for s in steps),
         "steps in block order with times", steps)
    st, lst = node.get("/v1/referrals?institution=" + A(spec))
    t.eq((st, lst.get("total"), lst["referrals"][0]["id"] if lst.get("referrals") else None),
         (200, 1, ref), "GET /v1/referrals?institution= lists it for the specialist")
    st, lst = node.get("/v1/referrals?institution=" + A(dev))
    t.eq(lst.get("total"), 0, "and not for an institution that took no part")
    st, e = node.get("/v1/referrals?institution=nope")
    t.ok(st == 400, "a bad institution address is refused (400)", (st, e))
    st, e = node.get("/v1/referrals/" + "ef" * 32)
    t.ok(st == 404, "an unknown referral is 404", (st, e))
    r, j = node.cli_json(["referral", "status", ref])
    t.eq((j or {}).get("status"), "completed", "leben referral status --json")
    r, j = node.cli_json(["referral", "list", "--institution", gp])
    t.eq((j or {}).get("total"), 1, "leben referral list --institution --json")
    for s in steps:
        st, txj = node.get("/v1/txs/" + s["tx"])
        raw = json.dumps(txj)
        t.ok(st == 200 and "p-anna-77" not in raw and "Lindqvist" not in raw
             and "septal" not in raw, "tx %s carries no patient data" % s["step"], raw[:400])

    # ---- FHIR: the resources, read through the endpoint, hash to the chain's record ----
    fid = "ref-" + positive[:16]

    def fhir(path):
        st, res = call(node, member, "GET", "/fhir/" + path)
        return res if st == 200 else {"status_code": st, "body": res}

    def digest(res):
        res = {k: v for k, v in res.items() if k != "meta"}
        text = json.dumps(res, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return blake2b256(text.encode(), "LEBEN-referral-fhir-v1").hex()

    sr = fhir("ServiceRequest/" + fid)
    t.eq((sr.get("status"), (sr.get("subject") or {}).get("reference"), sr.get("intent")),
         ("active", "Patient/p-anna-77", "order"), "ServiceRequest read through /fhir")
    t.eq(digest(sr), x.get("request_hash"), "the ServiceRequest hashes to the chain's record")
    task = fhir("Task/" + fid)
    t.eq((task.get("status"), (task.get("meta") or {}).get("versionId"),
          task.get("identifier", [{}])[0].get("value")), ("completed", "4", ref),
         "Task read through /fhir: completed, the fourth version, naming the referral")
    st, hist = call(node, member, "GET", "/fhir/Task?_id=" + fid)
    t.ok(st == 200 and hist.get("total") == 1, "Task found by search", (st, hist))
    enc = fhir("Encounter/" + fid)
    t.eq(((enc.get("class") or {}).get("code"), (enc.get("class") or {}).get("display"),
          enc.get("status"), (enc.get("period") or {}).get("start")),
         ("VR", "virtual", "finished", "2026-05-03T09:00:00Z"),
         "Encounter read through /fhir: class virtual")
    t.eq(digest(enc), x.get("encounter_hash"), "the Encounter hashes to the chain's record")
    obs = fhir("Observation/" + fid)
    t.eq((obs.get("valueString"), obs.get("status")), (conclusion, "final"),
         "the report (Observation) read through /fhir")
    t.eq(digest(obs), x.get("report_hash"), "the report hashes to the chain's record")

    r = subprocess.run(["node", "fhir_validate.mjs"], cwd=os.path.join(ROOT, "tests", "oracles"),
                       input=json.dumps([sr, task, enc, obs]), capture_output=True, text=True,
                       timeout=120)
    try:
        v = json.loads(r.stdout)
    except ValueError:
        v = {}
    t.ok(v.get("checked") == 4 and v.get("invalid") == [],
         "ServiceRequest, Task, Encounter and Observation are valid R4 (the npm fhir validator)",
         r.stdout[-2000:] + r.stderr[-2000:])

    # ---- the fee paid in ASC on the settlement chain (market.pay, the governed table) ----
    second = screen("second", {"gestation_weeks": 22, "four_chamber": "normal",
                               "outflow_tracts": "normal", "risk_factors": ["maternal_diabetes"]})

    def asc(a):
        return (node.account(a).get("balances") or {}).get("asc", 0)

    platform = address_of(b"\x11" * 32)
    who = (A(gp), A(dev), A(prov), platform)
    a0 = tuple(asc(a) for a in who)
    w_gp = wallet(node, A(gp))
    fee2 = 10000000
    r, j = node.cli_json(base[:-2] + ["--fee", "10", "--settle", "--session", second,
                                      "--from", gp])
    t.eq(r.returncode, 0, "a referral paid in ASC on the settlement chain " + r.stderr)
    d2, p2, g2, f2 = diagnosis_split(fee2)
    t.eq(tuple(asc(a) for a in who), (a0[0] - fee2 + g2, a0[1] + d2, a0[2] + p2, a0[3] + f2),
         "ASC through genesis's diagnosis table (47 / 23 / 13 / 17 %): practice, developer "
         "team, provider hospital, platform as computed here")
    t.eq(wallet(node, A(gp)), w_gp, "the store wallet did not pay")
    st, x2 = node.get("/v1/referrals/" + (j or {}).get("referral", "-"))
    st, ctx = node.get("/v1/txs/" + x2.get("id", "-"))
    t.eq(((ctx.get("payload") or {}).get("paid_by"), x2.get("status")),
         ("settlement", "requested"), "the referral cites the settlement payment")

    # a payment cited once only, and only by its payer (a hand-made create through tx raw)
    st, txs = node.get("/v1/accounts/%s/txs?limit=100" % A(gp))
    pay = [x["id"] for x in (txs.get("txs") or []) if x.get("type") == "market.pay"]
    st, pr = node.get("/v1/txs/%s/proof?anchor=business" % (pay[0] if pay else "-"))
    third = screen("third", {"gestation_weeks": 20, "four_chamber": "normal",
                             "outflow_tracts": "abnormal", "risk_factors": ["none"]})

    def text(v):
        return uvarint(len(v.encode())) + v.encode()

    def raw_create(session, sender, to):
        tx, proof = bytes.fromhex(pr.get("tx", "")), bytes.fromhex(pr.get("proof", ""))
        pl = (b"\x01" + bytes.fromhex(session) + text("refer_fetal_cardiology") + text(SPEC)
              + address_bytes(A(to)) + address_bytes(A(prov)) + b"\x07" * 32 + b"\x08" * 32
              + uvarint(fee2) + uvarint(len(tx)) + tx + uvarint(len(proof)) + proof)
        return node.cli(["tx", "raw", "--from", sender, "--chain", "business", "--type-id",
                         str(0x03a1), "--payload", pl.hex(), "--wait"])

    before = state()
    r = raw_create(third, gp, spec)
    t.ok(st == 200 and r.returncode != 0 and "already cited" in r.stderr + r.stdout,
         "a settlement payment cited a second time is refused", r.stderr + r.stdout)
    r = raw_create(bobs, spec, other)
    t.ok(r.returncode != 0 and "cite your own market.pay" in r.stderr + r.stdout,
         "someone else's settlement payment is refused", r.stderr + r.stdout)
    t.eq(state(), before, "the refused citations changed nothing")

    r = run_cli(["referral", "--help"])
    t.ok(r.returncode == 0 and "specialist institution" in r.stdout, "referral --help")
    r = run_cli(["verify", "--home", node.home])
    t.ok(r.returncode == 0, "leben verify replays the chains", r.stdout[-400:] + r.stderr[-400:])


if __name__ == "__main__":
    main()
