#!/usr/bin/python3
"""Surgical quality control on the three-institution consortium (scripts/cluster.sh up 3), by
running examples/apps/surgery.sh consortium: each hospital's records are an asset kept on its
own node, the risk model is fitted by `leben study run` across the three nodes (each runs its
own step of every round as a run of an approved request), the alarms of H2's surgeon are
recorded through H2's node and read from H3's. Checks: the script succeeds; the model fitted
across the nodes equals `leben surgery fit` over the same three tables on one machine (1e-6);
the alarms read from node 3 are those `leben surgery cusum` finds here; the colectomy protocol
listed in the store is named in the ranking, last."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import ROOT, Tap, env, run_cli, run_cluster  # noqa: E402


def main():
    run_cluster(Tap(), "leben-surgery-cons-", env(), run, by_script=True)


def run(t, e, cluster):
    work = os.path.join(cluster, "work")
    e = dict(e, WORK=work, CASES="700")
    r = subprocess.run([os.path.join(ROOT, "examples", "apps", "surgery.sh"), "consortium"],
                       env=e, capture_output=True, text=True, timeout=600)
    if not t.ok(r.returncode == 0, "examples/apps/surgery.sh consortium runs",
                (r.stdout + r.stderr)[-3000:]):
        return
    with open(os.path.join(work, "model.json")) as f:
        across = json.load(f)["result"]
    csvs = ",".join(os.path.join(work, "H%d" % i, "records.csv") for i in (1, 2, 3))
    local = os.path.join(work, "local-model.json")
    r2 = run_cli(["surgery", "fit", "--owners", csvs, "--out", local])
    with open(local) as f:
        here = json.load(f)
    diff = max(abs(across["coefficients"][k] - here["coefficients"][k]) for k in here["coefficients"])
    t.ok(r2.returncode == 0 and diff < 1e-6 and across["n"] == 2100,
         "the model fitted across the nodes equals the one-machine fit (max |diff| %.1e)" % diff)
    t.ok(across.get("secure_aggregation") is True, "the study used secure aggregation")
    rc = run_cli(["surgery", "cusum", "--records", os.path.join(work, "H2", "records.csv"),
                  "--model", os.path.join(work, "model.json"), "--surgeon", "H2-S3", "--json"])
    want = [a["case"] for a in json.loads(rc.stdout)["alarms"]]
    # the script's step 7 printed the alarms as node 3 reads them
    seen = [int(x.split("operation ")[1].split(" ")[0]) for x in r.stdout.splitlines()
            if x.startswith("  height ") and " of " in x]
    t.ok(len(want) >= 1 and seen == want, "node 3 lists the alarms recorded through node 2",
         (want, seen))
    last = [x for x in r.stdout.splitlines() if x.startswith("  5. ")]
    t.ok(last and "23968004" in last[0] and "[Colectomy perioperative pathway]" in last[0],
         "the riskiest procedure ranks last, with the store's colectomy protocol", last)
    t.ok(os.path.getsize(os.path.join(work, "funnel-surgeons.svg")) > 1000, "the funnel plot is written")


if __name__ == "__main__":
    main()
