#!/usr/bin/env python3
"""Application 1 (smart diagnosis and referral) across a local consortium of three
institutions (scripts/cluster.sh up 3, etcd ordering, mutual TLS): examples/apps/referral.sh
--consortium runs the practice at institution-1 and the specialist hospital at institution-2;
then every node holds the same referral record; the practice's node serves its ServiceRequest
and Task (requested) through /fhir, the specialist's node the Task (completed), the Encounter
(class virtual) and the report, each hashing to what the chain recorded, while the other
institution's members cannot read them (403); the four parties' wallets hold the split
computed here; institution-3, no specialist, cannot accept, and nothing changes."""

import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import (BIN, ROOT, Tap, bech32m_encode, blake2b256,  # noqa: E402
                       cluster_env, http_json, read_cluster_env, run_cluster, tls_context)

PASS = "cluster"
FEE, DEPOSIT = 20000000, 30000000


def main():
    run_cluster(Tap(), "leben-referral-cons-", cluster_env(PASS), run, by_script=True)


def digest(res):
    res = {k: v for k, v in res.items() if k != "meta"}
    text = json.dumps(res, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return blake2b256(text.encode(), "LEBEN-referral-fhir-v1").hex()


def run(t, e, cluster):
    r = subprocess.run([os.path.join(ROOT, "examples", "apps", "referral.sh"), "--consortium"],
                       env=e, capture_output=True, text=True, timeout=300)
    if not t.ok(r.returncode == 0, "examples/apps/referral.sh --consortium runs to the end",
                r.stdout[-3000:] + r.stderr[-3000:]):
        return
    ce = read_cluster_env(cluster)
    urls = {i: ce["NODE_API_%d" % i] for i in (1, 2, 3)}
    home = {i: os.path.join(cluster, "node-%d" % i) for i in (1, 2, 3)}
    ctx = {i: tls_context(os.path.join(home[i], "tls")) for i in (1, 2, 3)}
    ref = open(os.path.join(cluster, "referral.id")).read().strip()

    def get(i, path, as_inst=None):
        return http_json(urls[i] + path, ctx=ctx[as_inst or i])

    def addr(i, name):
        r = subprocess.run([BIN, "keys", "show", name, "--home", home[i], "--json"], env=e,
                           capture_output=True, text=True)
        return json.loads(r.stdout)["address"]

    recs = [get(i, "/v1/referrals/" + ref) for i in (1, 2, 3)]
    t.ok(all(st == 200 for st, _ in recs) and recs[0][1] == recs[1][1] == recs[2][1],
         "the three institutions' nodes hold the same referral record", recs)
    x = recs[0][1] or {}
    gp, spec, dev = addr(1, "clinic"), addr(2, "node"), addr(1, "alice")
    t.eq((x.get("status"), x.get("practice"), x.get("specialist"), x.get("developer"),
          x.get("provider"), [s.get("step") for s in x.get("steps", [])]),
         ("completed", gp, spec, dev, spec, ["create", "accept", "consult", "report"]),
         "completed: practice at institution-1, specialist hospital institution-2, four steps")

    fid = "ref-" + x.get("session", "")[:16]
    st, sr = get(1, "/fhir/ServiceRequest/" + fid)
    t.ok(st == 200 and digest(sr) == x.get("request_hash")
         and sr.get("subject", {}).get("reference") == "Patient/p-0412",
         "the practice's node serves the ServiceRequest; it hashes to the chain's record",
         (st, sr))
    st, task1 = get(1, "/fhir/Task/" + fid)
    t.eq((st, task1.get("status") if st == 200 else None), (200, "requested"),
         "the practice's Task, as it sent it")
    st, task2 = get(2, "/fhir/Task/" + fid)
    t.ok(st == 200 and task2.get("status") == "completed"
         and task2.get("meta", {}).get("versionId") == "3",
         "the specialist's Task: accepted, in progress, completed (version 3)", (st, task2))
    st, enc = get(2, "/fhir/Encounter/" + fid)
    t.ok(st == 200 and enc.get("class", {}).get("code") == "VR"
         and digest(enc) == x.get("encounter_hash"),
         "the specialist's node serves the Encounter (virtual); it hashes to the chain's record",
         (st, enc))
    st, obs = get(2, "/fhir/Observation/" + fid)
    t.ok(st == 200 and "VSD" in obs.get("valueString", "") and digest(obs) == x.get("report_hash"),
         "the report (Observation) at the specialist's node hashes to the chain's record",
         (st, obs))
    st, j = get(2, "/fhir/Encounter/" + fid, as_inst=1)
    t.eq(st, 403, "institution-1's members cannot read institution-2's Encounter")
    st, j = get(1, "/fhir/ServiceRequest/" + fid, as_inst=3)
    t.eq(st, 403, "institution-3's members cannot read the practice's ServiceRequest")

    pool = bech32m_encode("lb", hashlib.blake2b(b"LEBEN-store-platform-pool-v1",
                                                digest_size=32).digest()[:20])

    def wallets():
        return tuple((get(3, "/v1/store/wallets/" + a)[1] or {}).get("wallet")
                     for a in (gp, dev, spec, pool))

    # the default diagnosis table: provider hospital 20 %, developer team 55 %, practice 10 %
    d, p, g = FEE * 550000 // 10**6, FEE * 200000 // 10**6, FEE * 100000 // 10**6
    t.eq(wallets(), (DEPOSIT - FEE + g, d, p, FEE - d - p - g),
         "wallets (read at institution-3): practice, developer team, provider hospital, "
         "platform pool hold the diagnosis split computed here")

    before = (json.dumps(get(3, "/v1/referrals")[1], sort_keys=True), wallets())
    r = subprocess.run([BIN, "referral", "accept", ref, "--from", "node", "--home", home[3],
                        "--node", urls[3]], env=e, capture_output=True, text=True, timeout=120)
    t.ok(r.returncode == 1 and "is not a specialist institution" in r.stderr,
         "institution-3, no specialist, cannot accept", r.stderr)
    r = subprocess.run([BIN, "referral", "report", ref, "--from", "node", "--home", home[2],
                        "--node", urls[2], "--outcome", "confirmed", "--conclusion", "x"],
                       env=e, capture_output=True, text=True, timeout=120)
    t.ok(r.returncode == 1 and "reported already" in r.stderr,
         "the specialist cannot report twice", r.stderr)
    t.eq((json.dumps(get(3, "/v1/referrals")[1], sort_keys=True), wallets()), before,
         "the refusals changed nothing")


if __name__ == "__main__":
    main()
