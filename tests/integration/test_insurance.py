#!/usr/bin/env python3
"""Data-driven insurance through a real node and the CLI: an insurer's policy and ASC pool, a
patient's enrolment, a provider's anchored Condition and Procedure and its claim, adjudicated on
the node by the policy (amounts computed here independently) and settled from the pool to the
provider. Attacks first: a provider paid twice (the same claim settled again, the same events
claimed again, an inflated amount), a stranger claiming with the provider's events, a claim for
a patient not enrolled; then the refusals of the policy's terms (uncovered diagnosis, procedure
inconsistent with the diagnosis, a near copy of a claimed procedure, the waiting period, the
period limit). Each refusal names its reason and changes nothing (balances, coverage). FHIR
Claim / ClaimResponse / Coverage shapes; premium from released coefficients; `leben verify`."""

import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, Node, Tap, run_cli, uvarint  # noqa: E402
from test_fhir import Key, call  # noqa: E402

DATA = os.path.join(ROOT, "tests", "data", "insurance")
MICRO = 1000000


def approved(cost, limit, copay_bp):
    capped = min(cost, limit)
    return capped * (10000 - copay_bp) // 10000


def main():
    t = Tap()
    node = Node(demo=True)
    try:
        node.start()

        def ins(*args):
            return node.cli(["insurance"] + list(args))

        def ins_json(*args):
            return node.cli_json(["insurance"] + list(args))

        def asc(name):
            return (node.account(name).get("balances") or {}).get("asc", 0)

        def pool_balance(pol):
            return node.get("/v1/insurance/policies/" + pol)[1]["pool_balance"]

        bob = node.address("bob")
        # ---- the insurer's policy and pool ----
        r, j = ins_json("policy", "--from", "alice", "--name", "Cardiac cover",
                        "--covers", "I21.4:0270346,I21.4:02703ZZ,I20.0:0270346",
                        "--limit-claim", "300", "--limit-period", "500", "--period-blocks",
                        "100000", "--copay", "20", "--premium", "12.5")
        t.eq(r.returncode, 0, "policy registered " + r.stderr)
        pol = (j or {}).get("policy", "")
        st, p = node.get("/v1/insurance/policies/" + pol)
        t.eq((st, p.get("copay_percent"), p.get("limit_claim"), len(p.get("covers", []))),
             (200, 20.0, 300 * MICRO, 3), "the policy's terms are on the chain")
        alice0 = asc("alice")
        r = ins("fund", pol, "600", "--from", "alice")
        t.eq(r.returncode, 0, "pool funded " + r.stderr)
        t.eq((pool_balance(pol), asc("alice")), (600 * MICRO, alice0 - 600 * MICRO),
             "600 ASC moved from the insurer into the policy's pool")
        r = ins("enrol", pol, "--from", "alice", "--premium", "1")
        t.ok(r.returncode != 0 and "is 1.000000 ASC but policy 'Cardiac cover' costs 12.500000"
             in r.stderr, "an enrolment paying less than the premium is refused", r.stderr)
        st, j = node.get("/v1/insurance/coverage/%s/%s" % (pol, node.address("alice")))
        t.eq(st, 404, "and alice is not covered")
        bob0, pool_e = asc("bob"), pool_balance(pol)
        r = ins("enrol", pol, "--from", "bob")
        t.eq(r.returncode, 0, "the patient enrols with their own key " + r.stderr)
        t.eq((asc("bob"), pool_balance(pol)), (bob0 - 12500000, pool_e + 12500000),
             "enrolment paid the 12.5 ASC premium into the pool")
        # attacks on the premium citation, sent as raw txs: another's premium, a forged
        # proof, no premium at all; each refused on admission, alice stays uncovered
        enrol_id = r.stdout.split("enrolled, tx ")[-1].split()[0]
        fund_id = (node.wait_tx(enrol_id) or {}).get("payload", {}).get("premium_tx", "")
        st, pr = node.get("/v1/txs/%s/proof?anchor=business" % fund_id)

        def enrol_raw(tx, proof):
            payload = (b"\x01" + bytes.fromhex(pol) + uvarint(len(tx)) + tx +
                       uvarint(len(proof)) + proof).hex()
            hx = node.sign("raw", ["--from", "alice", "--chain", "business", "--type-id",
                                   "0x03c1", "--payload", payload])[0]
            st, j = node.post_txs({"tx": hx})
            e = j.get("error", {}) if isinstance(j, dict) else {}
            return st, e.get("code"), e.get("message", "")

        ftx, fproof = bytes.fromhex(pr.get("tx", "")), bytes.fromhex(pr.get("proof", ""))
        st, code, msg = enrol_raw(ftx, fproof)
        t.ok(code == "LB_EUNAUTH" and "not by the enrolling" in msg,
             "citing another patient's premium payment is refused", (st, code, msg))
        forged = bytearray(fproof)
        forged[-1] ^= 1
        st, code, msg = enrol_raw(ftx, bytes(forged))
        t.ok(code in ("LB_EINVALID", "LB_EMALFORMED") and "proof" in msg,
             "a forged premium proof is refused", (st, code, msg))
        st, code, msg = enrol_raw(b"", b"")
        t.ok(code == "LB_EFUNDS" and "costs a premium of 12.500000 ASC" in msg,
             "an enrolment without the premium is refused", (st, code, msg))
        st, j = node.get("/v1/insurance/coverage/%s/%s" % (pol, node.address("alice")))
        t.eq(st, 404, "alice is still not covered")
        r = ins("enrol", pol, "--from", "bob")
        t.ok(r.returncode != 0 and "already enrolled" in r.stderr, "enrolling twice refused",
             r.stderr)

        # ---- the provider anchors the clinical events ----
        def event(kind, patient, code, fname, key="clinic"):
            """Anchor a resource: a file of tests/data/insurance, or (a dict) written here."""
            path = os.path.join(DATA, fname) if isinstance(fname, str) else None
            if path is None:
                path = os.path.join(node.home, "res-%s.json" % fname["id"])
                with open(path, "w") as f:
                    json.dump(fname, f)
                fname = fname["id"]
            r, j = ins_json("event", kind, patient, code, "--resource", path, "--from", key)
            t.eq(r.returncode, 0, "%s %s anchored %s" % (kind, fname, r.stderr))
            return (j or {}).get("event", "")

        cond = event("condition", "bob", "I21.4", "condition.json")
        proc = event("procedure", "bob", "0270346", "procedure.json")
        r = ins("event", "procedure", "bob", "0270346", "--resource",
                os.path.join(DATA, "procedure.json"), "--from", "clinic")
        t.ok(r.returncode != 0 and "already anchored" in r.stderr, "an event anchored once",
             r.stderr)

        claim_args = ["--condition", cond, "--procedure", proc]

        # ---- attack: a stranger claims with the provider's events ----
        clinic0, pool0 = asc("clinic"), pool_balance(pol)
        r = ins("claim", pol, "bob", *claim_args, "--cost", "250", "--approved", "200",
                "--from", "bank")
        t.ok(r.returncode != 0 and "only the provider that treated the patient" in r.stderr,
             "a stranger's claim is refused on the chain", r.stderr)
        r, j = ins_json("adjudicate", pol, "bob", *claim_args, "--cost", "250", "--provider",
                        "bank")
        t.ok(r.returncode != 0 and (j or {}).get("outcome") == "error"
             and "anchored by" in j.get("error", ""), "adjudicate says why for the stranger")
        # ---- attack: a claim for a patient not enrolled ----
        cond_x = event("condition", "bank", "I21.4",
                       {"resourceType": "Condition", "id": "bank-c", "note": "NSTEMI"})
        r = ins("claim", pol, "bank", "--condition", cond_x, "--procedure", proc, "--cost",
                "100", "--approved", "80", "--from", "clinic")
        t.ok(r.returncode != 0 and "is of patient" in r.stderr,
             "a procedure of another patient cannot be claimed for this one", r.stderr)
        proc_x = event("procedure", "bank", "0270346",
                       {"resourceType": "Procedure", "id": "bank-p", "note": "PCI, one stent"})
        r = ins("claim", pol, "bank", "--condition", cond_x, "--procedure", proc_x, "--cost",
                "100", "--approved", "80", "--from", "clinic")
        t.ok(r.returncode != 0 and "not enrolled" in r.stderr,
             "a claim for an uncovered patient is refused", r.stderr)
        # ---- attack: an inflated amount ----
        r = ins("claim", pol, "bob", *claim_args, "--cost", "250", "--approved", "250",
                "--from", "clinic")
        t.ok(r.returncode != 0 and "the policy's terms give 200.000000 ASC" in r.stderr,
             "a claim stating more than the terms give is refused", r.stderr)
        t.eq((asc("clinic"), pool_balance(pol)), (clinic0, pool0),
             "the refused claims moved nothing")

        # ---- the claim: adjudicated, then settled ----
        want = approved(250 * MICRO, 300 * MICRO, 2000)
        r, j = ins_json("adjudicate", pol, "bob", *claim_args, "--cost", "250", "--from",
                        "clinic")
        t.eq((r.returncode, (j or {}).get("outcome"), (j or {}).get("approved")),
             (0, "complete", want), "adjudication gives min(limit, cost) x (1 - co-pay)")
        r = ins("claim", pol, "bob", *claim_args, "--cost", "250", "--from", "clinic")
        t.eq(r.returncode, 0, "claim sent and settled " + r.stderr)
        claim = r.stdout.split("claim ")[1].split()[0] if "claim " in r.stdout else ""
        t.eq((asc("clinic"), pool_balance(pol)), (clinic0 + want, pool0 - want),
             "the approved 200 ASC moved from the pool to the provider")
        st, c = node.get("/v1/insurance/claims/" + claim)
        cr, am = c.get("claimResponse", {}), c.get("amounts", {})
        t.eq((st, c.get("settled"), c["claim"]["resourceType"], cr.get("resourceType"),
              cr.get("outcome"), cr.get("payment", {}).get("amount", {}).get("value"),
              am.get("approved"), am.get("copay"), am.get("patient_owes")),
             (200, True, "Claim", "ClaimResponse", "complete", 200.0, want, 50 * MICRO,
              50 * MICRO), "FHIR Claim and ClaimResponse with the payment and the patient's co-pay")
        t.eq(c["claim"]["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"],
             "I21.4", "the Claim carries the diagnosis")

        # ---- attack: the provider tries to be paid twice ----
        clinic1, pool1 = asc("clinic"), pool_balance(pol)
        r = ins("settle", claim, "--from", "clinic")
        t.ok(r.returncode != 0 and "already paid" in r.stderr, "a claim is settled once",
             r.stderr)
        # a settlement citing the claim with a forged proof, or citing a tx that is no claim
        st, cp = node.get("/v1/txs/%s/proof?anchor=settlement" % claim)

        def settle_raw(tx, proof):
            payload = (b"\x01" + uvarint(len(tx)) + tx + uvarint(len(proof)) + proof).hex()
            hx = node.sign("raw", ["--from", "clinic", "--chain", "settlement", "--type-id",
                                   "0x0131", "--payload", payload])[0]
            st, j = node.post_txs({"tx": hx})
            e = j.get("error", {}) if isinstance(j, dict) else {}
            return st, e.get("code"), e.get("message", "")

        forged = bytearray(bytes.fromhex(cp.get("proof", "")))
        forged[-1] ^= 1
        st, code, msg = settle_raw(bytes.fromhex(cp.get("tx", "")), bytes(forged))
        t.ok(code in ("LB_EINVALID", "LB_EMALFORMED") and "proof" in msg,
             "a settlement with a forged claim proof is refused", (st, code, msg))
        st, ep = node.get("/v1/txs/%s/proof?anchor=settlement" % enrol_id)
        st, code, msg = settle_raw(bytes.fromhex(ep.get("tx", "")),
                                   bytes.fromhex(ep.get("proof", "")))
        t.ok(code == "LB_EINVALID" and "not of type ins.claim" in msg,
             "a settlement citing a tx that is no claim is refused", (st, code, msg))
        r = ins("claim", pol, "bob", *claim_args, "--cost", "250", "--approved", "200",
                "--from", "clinic")
        t.ok(r.returncode != 0 and "already claimed" in r.stderr,
             "the same events claimed twice are refused", r.stderr)
        proc_copy = event("procedure", "bob", "0270346", "procedure_copy.json")
        cond2 = event("condition", "bob", "I21.4", "condition_other.json")
        r = ins("claim", pol, "bob", "--condition", cond2, "--procedure", proc_copy, "--cost",
                "250", "--approved", "200", "--from", "clinic")
        t.ok(r.returncode != 0 and "near copy" in r.stderr,
             "a near copy of a claimed procedure (re-ordered, re-identified) is refused",
             r.stderr)
        t.eq((asc("clinic"), pool_balance(pol)), (clinic1, pool1), "nothing was paid twice")

        # ---- the policy's terms ----
        proc_o = event("procedure", "bob", "0DTJ4ZZ", "procedure_other.json")
        r = ins("claim", pol, "bob", "--condition", cond2, "--procedure", proc_o, "--cost", "90",
                "--approved", "72", "--from", "clinic")
        t.ok(r.returncode != 0 and "inconsistent with diagnosis I21.4" in r.stderr,
             "a procedure inconsistent with the diagnosis is refused", r.stderr)
        proc2 = event("procedure", "bob", "0270346", "procedure_second.json")
        # cost 400 is capped to the 300 limit per claim: 240 approved, 440 of 500 used
        want2 = approved(400 * MICRO, 300 * MICRO, 2000)
        t.eq(want2, 240 * MICRO, "the limit per claim caps the second claim")
        r = ins("claim", pol, "bob", "--condition", cond2, "--procedure", proc2, "--cost", "400",
                "--from", "clinic")
        t.eq(r.returncode, 0, "a second, different procedure is paid " + r.stderr)
        t.eq(asc("clinic"), clinic1 + want2, "240 ASC paid (300 x 0.8)")
        st, cov = node.get("/v1/insurance/coverage/%s/%s" % (pol, bob))
        t.eq((st, cov.get("coverage", {}).get("resourceType"), cov.get("approved_total"),
              len(cov.get("claims", []))),
             (200, "Coverage", want + want2, 2), "the Coverage and both claims")
        # the FHIR resources are valid R4 (the `fhir` package's validator)
        resources = [cov["coverage"], c["claim"], c["claimResponse"]]
        r = subprocess.run(["node", "fhir_validate.mjs"], input=json.dumps(resources),
                           cwd=os.path.join(ROOT, "tests", "oracles"), capture_output=True,
                           text=True, timeout=60)
        v = json.loads(r.stdout) if r.returncode == 0 else {}
        t.ok(v.get("checked") == 3 and not v.get("invalid"),
             "Coverage, Claim and ClaimResponse are valid R4", (v, r.stderr[-500:]))
        # the same through the node's FHIR endpoint, for the institution's members only
        member, stranger = Key(b"\x11" * 32), Key(b"\x44" * 32)
        os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
        with open(os.path.join(node.home, "fhir", "members"), "w") as f:
            f.write(member.pk + "\n")
        got = [call(node, member, "GET", "/fhir/%s/%s" % (ty, i)) for ty, i in
               (("Claim", claim), ("ClaimResponse", claim),
                ("Coverage", cov["coverage"]["id"]))]
        t.eq([(st, j.get("resourceType"), j.get("id")) for st, j in got],
             [(200, "Claim", claim), (200, "ClaimResponse", claim),
              (200, "Coverage", cov["coverage"]["id"])], "GET /fhir/Claim|ClaimResponse|Coverage")
        t.eq(got[1][1], c["claimResponse"], "the FHIR endpoint serves the chain's ClaimResponse")
        st, j = call(node, stranger, "GET", "/fhir/Claim/" + claim)
        t.ok(st in (401, 403) and j.get("resourceType") == "OperationOutcome",
             "a key that is not a member's reads no claim", (st, j))
        st, j = call(node, member, "GET", "/fhir/Claim/" + "0" * 64)
        t.eq(st, 404, "an unknown claim is 404")

        # events anchored from the provider's own FHIR store (--fhir): the code must be in it
        def entry(r):
            return {"resource": r, "request": {"method": "PUT",
                                               "url": "%s/%s" % (r["resourceType"], r["id"])}}
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            entry({"resourceType": "Patient", "id": "pb", "gender": "male"}),
            entry({"resourceType": "Condition", "id": "fc1", "subject": {"reference": "Patient/pb"},
                   "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                        "code": "I21.4"}]}}),
            entry({"resourceType": "Procedure", "id": "fp1", "status": "completed",
                   "subject": {"reference": "Patient/pb"},
                   "code": {"coding": [{"system": "urn:icd-10-pcs", "code": "0270346"}]},
                   "note": [{"text": "Thrombus aspiration and a bioresorbable scaffold in the "
                                     "circumflex artery under intravascular ultrasound."}]})]}
        st, j = call(node, member, "POST", "/fhir", bundle)
        t.eq(st, 200, "the provider's FHIR store holds the Condition and Procedure")
        r = ins("event", "condition", "bob", "I20.0", "--fhir", "Condition/fc1", "--from", "clinic")
        t.ok(r.returncode != 0 and "does not carry code I20.0" in r.stderr,
             "an event whose resource does not carry the code is refused", r.stderr)
        r, j = ins_json("event", "condition", "bob", "I21.4", "--fhir", "Condition/fc1", "--from",
                        "clinic")
        fcond = (j or {}).get("event", "")
        r2, j = ins_json("event", "procedure", "bob", "0270346", "--fhir", "Procedure/fp1",
                         "--from", "clinic")
        fproc = (j or {}).get("event", "")
        t.ok(r.returncode == 0 and r2.returncode == 0 and len(fcond) == 64 and len(fproc) == 64,
             "Condition and Procedure anchored from the FHIR store", r.stderr + r2.stderr)
        clinic3 = asc("clinic")
        r = ins("claim", pol, "bob", "--condition", fcond, "--procedure", fproc, "--cost", "50",
                "--from", "clinic")
        t.eq((r.returncode, asc("clinic")), (0, clinic3 + approved(50 * MICRO, 300 * MICRO, 2000)),
             "a claim on FHIR-store events is paid 40 ASC " + r.stderr)
        cond3 = event("condition", "bob", "I20.0", "model.json")
        proc4 = event("procedure", "bob", "0270346", {
            "resourceType": "Procedure", "id": "p4", "note": [
                {"text": "Emergency catheterisation through the brachial artery because of "
                         "unstable angina at rest; balloon only, no stent."}]})
        clinic2, pool2 = asc("clinic"), pool_balance(pol)
        r = ins("claim", pol, "bob", "--condition", cond3, "--procedure", proc4, "--cost", "100",
                "--approved", "80", "--from", "clinic")
        t.ok(r.returncode != 0 and "over the policy's limit" in r.stderr
             and "20.000000 ASC left" in r.stderr, "a claim over the period limit is refused",
             r.stderr)
        t.eq((asc("clinic"), pool_balance(pol)), (clinic2, pool2), "and moved nothing")

        # ---- waiting period ----
        r, j = ins_json("policy", "--from", "alice", "--name", "Waiting", "--covers",
                        "I21.4:0270346", "--limit-claim", "10", "--limit-period", "10",
                        "--period-blocks", "100", "--waiting-blocks", "1000")
        pol2 = (j or {}).get("policy", "")
        ins("enrol", pol2, "--from", "bob")
        cond5 = event("condition", "bob", "I21.4", {"resourceType": "Condition", "id": "c5"})
        r = ins("claim", pol2, "bob", "--condition", cond5, "--procedure", proc4, "--cost", "5",
                "--approved", "5", "--from", "clinic")
        t.ok(r.returncode != 0 and "waiting period" in r.stderr,
             "a claim in the waiting period is refused", r.stderr)
        # ---- uncovered diagnosis ----
        cond6 = event("condition", "bob", "K35.80", {"resourceType": "Condition", "id": "c6"})
        r = ins("claim", pol, "bob", "--condition", cond6, "--procedure", proc_o, "--cost", "5",
                "--approved", "4", "--from", "clinic")
        t.ok(r.returncode != 0 and "diagnosis K35.80 is not covered" in r.stderr,
             "an uncovered diagnosis is refused", r.stderr)

        # ---- premium from released coefficients ----
        r, j = ins_json("price", "--model", os.path.join(DATA, "model.json"), "--x", "20,1",
                        "--expected", "220", "--loading", "10")
        z = -2.0 + 0.03 * 20 + 0.5 * 1
        p = 1 / (1 + math.exp(-z))
        t.ok(r.returncode == 0 and abs((j or {}).get("premium_asc", 0) - p * 220 * 1.1) < 1e-6,
             "premium = P(claim) x expected x (1 + loading)", r.stderr)
        r = ins("price", "--model", os.path.join(DATA, "model.json"), "--x", "20",
                "--expected", "220")
        t.ok(r.returncode != 0 and "2 coefficients" in r.stderr, "a wrong covariate count is "
             "refused", r.stderr)

        # the risk model fitted in the sandbox on the data owner's side: only coefficients out
        import random
        rnd = random.Random(7)
        rows = ["patient,age_over_50,diabetes,claim"]
        for i in range(400):
            a, d = rnd.randint(0, 40), 1 if rnd.random() < 0.3 else 0
            pr = 1 / (1 + math.exp(-(-2.0 + 0.03 * a + 0.5 * d)))
            rows.append("p%d,%d,%d,%d" % (i, a, d, 1 if rnd.random() < pr else 0))
        csv = os.path.join(node.home, "risk.csv")
        with open(csv, "w") as f:
            f.write("\n".join(rows) + "\n")
        r = run_cli(["sandbox", "run", "--algorithm", "logreg", "--input", csv, "--params",
                     '{"y":"claim","x":["age_over_50","diabetes"]}', "--json"])
        fit = json.loads(r.stdout) if r.returncode == 0 else {}
        res = fit.get("result", {})
        t.ok(fit.get("release", {}).get("released") and len(res.get("coef", [])) == 3
             and "p1" not in r.stdout, "the sandbox releases the coefficients, no rows",
             r.stderr)
        mpath = os.path.join(node.home, "model.json")
        with open(mpath, "w") as f:
            f.write(r.stdout)
        r, j = ins_json("price", "--model", mpath, "--x", "30,1", "--expected", "200")
        b = res.get("coef", [0, 0, 0])
        p = 1 / (1 + math.exp(-(b[0] + b[1] * 30 + b[2])))
        t.ok(r.returncode == 0 and abs((j or {}).get("premium_asc", 0) - p * 200) < 1e-6,
             "the premium from the released model", r.stderr)

        node.stop()
        r = run_cli(["verify", "--home", node.home])
        t.eq(r.returncode, 0, "leben verify replays the chains " + r.stderr[-300:])
    finally:
        node.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
