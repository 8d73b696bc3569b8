#!/usr/bin/python3
"""A cohort study with ethical review across a local consortium of three institutions
(scripts/cluster.sh up 3; docs/apps.md section 3): each institution keeps a table of patients
(patient_id, age, sbp) on its node, offers it (minimum cohort 3) and registers the consent keys
of the patients it invites (leben exchange patients). An ethics committee of three members with
k = 2 is registered; alice files a protocol (stats over age and sbp, two follow-up rounds);
two members approve it; patients opt in with their consent keys; round 1 runs as a study
across the three nodes; one patient withdraws; round 2 runs.

Checks: each round's means, sds and n equal numpy's over the rows of the patients opted in
when the round was opened (round 1: not the patients who never opted in; round 2: without the
withdrawn patient either); the directory search of the protocol's criteria finds the three
assets; status (also as FHIR ResearchStudy / ResearchSubject) agrees on every node.

Refusals, each with its specific error and the study's state unchanged: an approval by a key
outside the committee, an approval of another protocol text, a round and an opt-in before
approval, a round with fewer than k approvals, a study run naming the cohort before approval
(refused by every owner node), an opt-in signed by a key that is not the patient's registered
consent key, an opt-in for a commitment with no consent key, a round before its scheduled
height, a round past the protocol's last, a second opt-in after withdrawal."""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (BIN, ROOT, Tap, cluster_env, install_tls,  # noqa: E402
                       offer_tables_on_cluster, read_cluster_env)

PASS = "cluster"
N_PER_OWNER = 12
OPT = [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2]]  # the patients of each owner who opt in


def r4_valid(res):
    """The `fhir` package's R4 validator (tests/oracles): [] or the errors."""
    js = ('const {Fhir}=require("fhir");let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{'
          'const r=new Fhir().validate(JSON.parse(s),{});console.log(JSON.stringify(r.valid?[]:'
          '(r.messages||[]).filter(m=>m.severity==="error")))})')
    r = subprocess.run(["node", "-e", js], input=json.dumps(res), capture_output=True, text=True,
                       cwd=os.path.join(ROOT, "tests", "oracles"), timeout=60)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return ["validator did not run: " + r.stderr[-500:]]


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="leben-cohort-")
    cluster = os.path.join(work, "cluster")
    e = cluster_env(PASS)
    try:
        r = subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "up", "3", cluster],
                           env=e, capture_output=True, text=True, timeout=300)
        if t.ok(r.returncode == 0, "a consortium of three nodes is up", r.stdout + r.stderr):
            run(t, e, cluster, work)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), "down", cluster],
                       env=e, capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)
    t.done()


def run(t, e, cluster, work):
    ce = read_cluster_env(cluster)
    install_tls(os.path.join(cluster, "node-1", "tls"))
    urls = [ce["NODE_API_%d" % i] for i in (1, 2, 3)]
    home = [os.path.join(cluster, "node-%d" % i) for i in (1, 2, 3)]

    def at(i, args, check=True, h=None):
        r = subprocess.run([BIN] + args + ["--home", home[(h or i) - 1], "--node", urls[i - 1]],
                           env=e, capture_output=True, text=True, timeout=600)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def atj(i, args):
        return json.loads(at(i, args + ["--json"]).stdout)

    def addr(i, name):
        r = subprocess.run([BIN, "keys", "show", name, "--home", home[i - 1], "--json"], env=e,
                           capture_output=True, text=True)
        return json.loads(r.stdout)["address"]

    def newkey(name):
        subprocess.run([BIN, "keys", "new", name, "--home", home[0]], env=e, capture_output=True,
                       text=True, check=True)
        return addr(1, name)

    # the tables: patient_id, age, sbp; owner k's patients C<k>_<i>
    rng = np.random.default_rng(7)
    rows, files = [], []
    for k in range(3):
        p = os.path.join(work, "cohort%d.csv" % (k + 1))
        part = []
        with open(p, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["patient_id", "age", "sbp"])
            for i in range(N_PER_OWNER):
                age, sbp = int(rng.integers(40, 80)), round(float(rng.normal(135, 15)), 1)
                w.writerow(["C%d_%d" % (k + 1, i), age, sbp])
                part.append(("C%d_%d" % (k + 1, i), age, sbp))
        rows.append(part)
        files.append(p)

    n, owner, assets = offer_tables_on_cluster(
        at, atj, addr, cluster, files, "hypertension cohort blood pressure part %d", 3,
        "research under an ethics committee's approval; patients opt in per study")

    # patients' consent keys, registered by their institutions; opening cards
    cards = {}
    for k in range(3):
        kf = os.path.join(work, "keys%d.csv" % (k + 1))
        with open(kf, "w") as f:
            f.write("local_id,address\n")
            for i in OPT[k] + ([4] if k == 2 else []):  # C3_4 registered, never opts in
                f.write("C%d_%d,%s\n" % (k + 1, i, newkey("pt%d_%d" % (k + 1, i))))
        reg = atj(k + 1, ["exchange", "patients", "--from", owner[k], "--asset", assets[k],
                          "--data", files[k], "--keys", kf, "--out",
                          os.path.join(work, "cards%d" % (k + 1))])
        for p in reg["patients"]:
            cards[p["local_id"]] = p["card"]
    stranger = newkey("stranger")
    for m in ("e1", "e2", "e3"):
        newkey(m)
    t.ok(len(cards) == 12 and stranger.startswith("lb1"),
         "three tables offered; the invited patients' consent keys registered (opening cards)")

    def cohort(args, i=1):
        return at(i, ["cohort"] + args, check=False, h=1)  # the keys are in node 1's home

    def status(i=1):
        return json.loads(at(i, ["cohort", "status", "--cohort", cid, "--json"]).stdout)

    # ---- the ethics committee and the protocol ----
    r = cohort(["committee", "--from", "clinic", "--name", "regional ethics board", "--members",
                "e1,e2,e3", "--k", "2", "--json"])
    cm = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(cm.get("k") == 2 and cm.get("n") == 3, "an ethics committee of three members, k = 2",
         r.stdout + r.stderr)
    proto = {"title": "Blood pressure follow-up in hypertension",
             "criteria": {"q": "hypertension cohort"},
             "algorithms": [{"algorithm": "stats", "params": {"columns": ["age", "sbp"]}}],
             "schedule": {"start_height": 0, "interval_blocks": 2, "rounds": 2}}
    pf = os.path.join(work, "protocol.json")
    with open(pf, "w") as f:
        json.dump(proto, f)
    r = cohort(["create", "--from", "alice", "--name", "bp-followup", "--committee",
                cm.get("committee", ""), "--protocol", pf, "--json"])
    cr = json.loads(r.stdout) if r.returncode == 0 else {}
    cid = cr.get("cohort", "")
    t.ok(len(cid) == 64 and cr.get("status") == "awaiting approval",
         "alice files the protocol: awaiting approval", r.stdout + r.stderr)
    s0 = status()
    t.ok(s0["protocol"]["algorithms"][0].get("hash") and s0["approvals"] == 0 and
         s0["approvals_needed"] == 2, "the protocol pins its algorithm by hash; 0 of 2 approvals",
         s0)

    def unchanged(before, what):
        after = status()
        keep = ("approvals", "rounds", "opted_in", "withdrawn", "status")
        t.ok(all(after[k] == before[k] for k in keep), "%s: nothing changed" % what,
             {k: (before[k], after[k]) for k in keep})

    r = cohort(["approve", "--from", "stranger", "--cohort", cid])
    t.ok(r.returncode == 1 and "not a member of the ethics committee" in r.stderr,
         "an approval by a key outside the committee is refused", r.stderr)
    unchanged(s0, "approval by a non-member")
    r = cohort(["approve", "--from", "e1", "--cohort", cid, "--protocol-hash", "00" * 32])
    t.ok(r.returncode == 1 and "not the" in r.stderr and "nothing approved" in r.stderr,
         "an approval of another protocol text is refused", r.stderr)
    r = cohort(["round", "--from", "alice", "--cohort", cid])
    t.ok(r.returncode == 1 and "not approved by its ethics committee (0 of 2" in r.stderr,
         "a round before approval is refused", r.stderr)
    r = cohort(["optin", "--from", "pt1_0", "--cohort", cid, "--opening", cards["C1_0"]])
    t.ok(r.returncode == 1 and "nobody is recruited before approval" in r.stderr,
         "an opt-in before approval is refused", r.stderr)
    unchanged(s0, "round and opt-in before approval")

    # owners approve alice's requests as for any study; a run naming the cohort is refused by
    # every owner node while the committee has not approved
    def requests():
        out = []
        for k in range(3):
            rq = atj(1, ["exchange", "request", "--from", "alice", "--asset", assets[k],
                         "--algorithm", "builtin:stats", "--params",
                         json.dumps({"columns": ["age", "sbp"]}), "--purpose", "cohort %s round" % cid])["tx"]
            at(k + 1, ["exchange", "approve", "--from", owner[k], "--request", rq])
            out.append(rq)
        return out
    req1 = requests()
    nobody = ",".join(["%064x" % (k + 1) for k in range(3)])
    r = at(1, ["study", "run", "--owners", ",".join(urls), "--requests", ",".join(req1), "--key",
               "alice", "--algorithm", "stats", "--params", json.dumps({"columns": ["age", "sbp"]}),
               "--escrows", nobody, "--cohort", cid, "--cohort-round", "1", "--json"], check=False)
    t.ok(r.returncode == 1 and r.stderr.count("not approved by its ethics committee") == 3,
         "a study run naming the cohort before approval is refused by every owner node",
         r.stderr[-3000:])

    r = at(1, ["study", "run", "--owners", ",".join(urls), "--requests", ",".join(req1), "--key",
               "alice", "--algorithm", "stats", "--params", json.dumps({"columns": ["age", "sbp"]}),
               "--escrows", nobody, "--json"], check=False)
    t.ok(r.returncode == 1 and r.stderr.count("runs only as a round of that study") == 3,
         "requests made for the cohort cannot run as a plain study (every owner node refuses)",
         r.stderr[-3000:])

    r = cohort(["approve", "--from", "e1", "--cohort", cid, "--protocol-hash", cr["protocol_hash"]])
    t.ok(r.returncode == 0, "member e1 approves the protocol it read", r.stderr)
    s1 = status()
    r = cohort(["round", "--from", "alice", "--cohort", cid])
    t.ok(r.returncode == 1 and "(1 of 2 approvals)" in r.stderr,
         "a round with fewer than k approvals is refused", r.stderr)
    r = cohort(["approve", "--from", "e1", "--cohort", cid])
    t.ok(r.returncode == 1 and "already approved" in r.stderr, "a member counts once", r.stderr)
    unchanged(s1, "round with 1 of 2 approvals, second approval by e1")
    r = cohort(["approve", "--from", "e2", "--cohort", cid], i=2)
    s2 = status(3)
    t.ok(r.returncode == 0 and s2["status"] == "approved" and s2["approvals"] == 2 and
         len(s2["approved_by"]) == 2, "a second member approves (at another node): approved, "
         "seen on node 3", s2)

    # ---- recruitment: the directory, then the patients' own opt-in ----
    r = cohort(["recruit", "--cohort", cid, "--json"])
    rec = json.loads(r.stdout) if r.returncode == 0 else {}
    found = json.dumps(rec.get("matching_assets", []))
    t.ok(all(a in found for a in assets), "the directory search of the criteria finds the three "
         "assets", r.stdout[-2000:] + r.stderr)
    r = cohort(["optin", "--from", "stranger", "--cohort", cid, "--opening", cards["C1_0"]])
    t.ok(r.returncode == 1 and "only the patient's registered consent key opts in" in r.stderr,
         "an opt-in signed by another key than the patient's consent key is refused", r.stderr)
    r = cohort(["optin", "--from", "stranger", "--cohort", cid, "--asset", assets[0], "--patient",
                "ab" * 32])
    t.ok(r.returncode == 1 and "no consent key is registered" in r.stderr,
         "an opt-in for a patient without a consent key is refused", r.stderr)
    unchanged(s2, "opt-ins without the consent key")
    ok = True
    for k in range(3):
        for i in OPT[k]:
            r = cohort(["optin", "--from", "pt%d_%d" % (k + 1, i), "--cohort", cid, "--opening",
                        cards["C%d_%d" % (k + 1, i)]])
            ok &= r.returncode == 0
    t.ok(ok and status()["opted_in"] == 11, "eleven patients opt in with their consent keys")

    def expect(excl):
        sel = [(a, b) for k in range(3) for (pid, a, b) in rows[k]
               if int(pid.split("_")[1]) in OPT[int(pid[1]) - 1] and pid not in excl]
        return np.array(sel, dtype=float)

    def check_round(r, excl, what):
        j = json.loads(r.stdout) if r.returncode == 0 else None
        ref = expect(excl)
        good = j is not None and j["result"]["n"] == len(ref)
        for c, col in enumerate(j["result"]["columns"] if j else []):
            good &= abs(col["mean"] - float(np.mean(ref[:, c]))) < 1e-6
            good &= abs(col["sd"] - float(np.std(ref[:, c], ddof=1))) < 1e-6
        t.ok(good, what, (r.stdout[-1500:], r.stderr[-1500:]))

    # ---- round 1 ----
    r = cohort(["round", "--from", "alice", "--cohort", cid, "--owners", ",".join(urls),
                "--requests", ",".join(req1), "--compute-fee", "0.01", "--json"])
    check_round(r, [], "round 1 across the three nodes equals numpy over the 11 opted-in "
                "patients' rows (not the 25 who did not opt in)")

    # ---- withdrawal: from the next round on ----
    r = cohort(["withdraw", "--from", "pt1_0", "--cohort", cid, "--opening", cards["C1_0"]])
    t.ok(r.returncode == 0, "patient C1_0 withdraws with its consent key", r.stderr)
    r = cohort(["optin", "--from", "pt1_0", "--cohort", cid, "--opening", cards["C1_0"]])
    t.ok(r.returncode == 1 and "withdrawal is final" in r.stderr, "a withdrawal is final", r.stderr)
    ps = json.loads(at(2, ["cohort", "status", "--cohort", cid, "--asset", assets[0], "--patient",
                           json.load(open(cards["C1_0"]))["patient"], "--fhir"]).stdout)
    t.ok(ps.get("resourceType") == "ResearchSubject" and ps.get("status") == "withdrawn" and
         not r4_valid(ps), "the patient's record is a withdrawn ResearchSubject (valid R4)",
         (ps, r4_valid(ps)))
    req2 = requests()
    r = cohort(["round", "--from", "alice", "--cohort", cid, "--owners", ",".join(urls),
                "--requests", ",".join(req2), "--compute-fee", "0.01", "--json"])
    check_round(r, ["C1_0"], "round 2 equals numpy over the opted-in rows without the withdrawn "
                "patient")
    s3 = status()
    r = cohort(["round", "--from", "alice", "--cohort", cid])
    t.ok(r.returncode == 1 and "has 2 rounds" in r.stderr, "a round past the protocol's last is "
         "refused", r.stderr)
    unchanged(s3, "round 3 of 2")
    rs = json.loads(at(3, ["cohort", "status", "--cohort", cid, "--fhir"]).stdout)
    t.ok(rs.get("resourceType") == "ResearchStudy" and rs.get("status") == "completed" and
         len(s3["rounds"]) == 2 and s3["withdrawn"] == 1 and not r4_valid(rs),
         "status: two rounds on record, one withdrawal; a completed ResearchStudy (valid R4)",
         (rs, s3, r4_valid(rs)))

    # ---- a round before its scheduled height ----
    later = dict(proto, schedule={"start_height": 1000000, "interval_blocks": 10, "rounds": 1})
    with open(pf, "w") as f:
        json.dump(later, f)
    c2 = json.loads(cohort(["create", "--from", "alice", "--name", "later", "--committee",
                            cm["committee"], "--protocol", pf, "--json"]).stdout)["cohort"]
    cohort(["approve", "--from", "e1", "--cohort", c2])
    cohort(["approve", "--from", "e3", "--cohort", c2])
    r = cohort(["round", "--from", "alice", "--cohort", c2])
    st2 = json.loads(at(1, ["cohort", "status", "--cohort", c2, "--json"]).stdout)
    t.ok(r.returncode == 1 and "scheduled from height 1000000" in r.stderr and
         st2["rounds"] == [] and st2["status"] == "approved",
         "a round before its scheduled height is refused, no round recorded", r.stderr)


if __name__ == "__main__":
    main()
